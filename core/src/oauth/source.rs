//! The self-refreshing token source: one refresh at a time per source,
//! under the store's lock across processes, every new token set stored
//! before it is used.

use std::fmt;
use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::time::{Duration, Instant};

use crate::config::Secret;
use crate::error::{Error, ErrorKind};
use crate::fork::Owner;

use super::*;

thread_local! {
    /// The token sources whose refresh lock this thread holds: a store
    /// callback (which runs on the thread that holds it) calling back into
    /// one of them is refused rather than left to wait for itself.
    static INSIDE_STORE_CALL: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The held refresh lock; the thread is marked as inside it until dropped.
struct RefreshGuard<'a> {
    _guard: std::sync::MutexGuard<'a, ()>,
    me: usize,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        INSIDE_STORE_CALL.with(|inside| {
            let mut inside = inside.borrow_mut();
            if let Some(i) = inside.iter().rposition(|&m| m == self.me) {
                inside.remove(i);
            }
        });
    }
}

struct Current {
    /// The process these tokens were read or obtained in: a forked child
    /// starts again from the store (under its lock), never from a copy.
    owner: Owner,
    tokens: Option<TokenSet>,
    /// Tokens that were received but not yet stored durably.
    unsaved: bool,
    /// The access token's lifetime as issued, when this process obtained it
    /// (unknown for tokens read from the store).
    lifetime: Option<i64>,
    /// Bumped whenever new tokens are installed or refreshed.
    generation: u64,
}

impl Default for Current {
    fn default() -> Self {
        Current {
            owner: Owner::current(),
            tokens: None,
            unsaved: false,
            lifetime: None,
            generation: 0,
        }
    }
}

impl Current {
    /// Forgets what a parent process held (after a fork).
    fn claim(&mut self) {
        if !self.owner.is_current() {
            let generation = self.generation + 1;
            *self = Current {
                generation,
                ..Current::default()
            };
        }
    }

    /// Takes the store's tokens when they differ from the ones held: another
    /// process, or another client on the same store, rotated the grant.
    fn adopt(&mut self, stored: Option<TokenSet>) {
        if let Some(s) = stored
            && self.tokens.as_ref() != Some(&s)
        {
            if self.tokens.is_some() {
                log::debug!(target: "nzpir", "oauth: the store holds newer tokens; using them");
                self.generation += 1;
            }
            self.tokens = Some(s);
            self.lifetime = None;
        }
    }
}

/// A bearer token source that refreshes itself: it uses the stored access
/// token while it is valid, refreshes shortly before expiry, writes every new
/// token set to the store before using it, and lets exactly one thread refresh
/// while the others wait for its result.
pub struct OAuthTokenSource {
    oauth: OAuthClient,
    store: Arc<dyn TokenStore>,
    margin: i64,
    current: RwLock<Current>,
    refresh_lock: Mutex<()>,
    refresh_wait: Duration,
}

/// How long a call waits for another thread's refresh of the same source
/// (its token request, its retries and the store's load and save) before it
/// fails rather than wait for ever: a store that hands a call back into its
/// own client to another thread and waits for it would otherwise never
/// return.
pub const REFRESH_WAIT: Duration = Duration::from_secs(300);

impl fmt::Debug for OAuthTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokenSource")
            .field("oauth", &self.oauth)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl OAuthTokenSource {
    /// A token source over `store`. Nothing is read until the first call.
    pub fn new(oauth: OAuthClient, store: Arc<dyn TokenStore>) -> Self {
        OAuthTokenSource {
            oauth,
            store,
            margin: REFRESH_MARGIN_SECS,
            current: RwLock::new(Current::default()),
            refresh_lock: Mutex::new(()),
            refresh_wait: REFRESH_WAIT,
        }
    }

    /// Wait at most this long for another thread's refresh (default
    /// [`REFRESH_WAIT`]).
    #[must_use]
    pub fn with_refresh_wait(mut self, wait: Duration) -> Self {
        self.refresh_wait = wait;
        self
    }

    /// Refresh this many seconds before expiry (default 120; at most half the
    /// lifetime of a token this process obtained, so short-lived tokens are
    /// still used before they are refreshed).
    #[must_use]
    pub fn with_refresh_margin(mut self, secs: i64) -> Self {
        self.margin = secs.max(0);
        self
    }

    /// The OAuth client: authorise, exchange, refresh, introspect, revoke.
    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Takes the refresh lock. A token store whose `load` or `save` calls
    /// back into the same token source on the same thread (a lookup, a
    /// refresh) would wait for itself for ever: that is an error instead.
    fn lock_refresh(&self) -> Result<RefreshGuard<'_>, Error> {
        let me = std::ptr::from_ref(self) as usize;
        if INSIDE_STORE_CALL.with(|inside| inside.borrow().contains(&me)) {
            return Err(Error::new(
                ErrorKind::TokenStore,
                "the token store called back into the same client from its load or save (a lookup or an OAuth call): it must not, as that call waits for the store to return",
            ));
        }
        let guard = match self.refresh_lock.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Another thread refreshes: wait for it, within bounds.
                let deadline = Instant::now() + self.refresh_wait;
                let mut pause = Duration::from_millis(1);
                loop {
                    std::thread::sleep(
                        pause.min(deadline.saturating_duration_since(Instant::now())),
                    );
                    match self.refresh_lock.try_lock() {
                        Ok(g) => break g,
                        Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                        Err(TryLockError::WouldBlock) if Instant::now() >= deadline => {
                            return Err(Error::new(
                                ErrorKind::TokenStore,
                                format!(
                                    "OAuth: another thread's token refresh did not finish within {:?}; if the token store's load or save waits for a call into its own client (made on another thread), it never will",
                                    self.refresh_wait
                                ),
                            ));
                        }
                        Err(TryLockError::WouldBlock) => {
                            pause = (pause * 2).min(Duration::from_millis(20));
                        }
                    }
                }
            }
        };
        INSIDE_STORE_CALL.with(|inside| inside.borrow_mut().push(me));
        Ok(RefreshGuard { _guard: guard, me })
    }

    /// Stores a new grant (after [`OAuthClient::exchange_code`]) and uses it.
    pub fn install(&self, tokens: TokenSet) -> Result<(), Error> {
        let _g = self.lock_refresh()?;
        let _held = self.store.lock()?;
        self.store.save(&tokens)?;
        let now = self.oauth.clock.now_unix();
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        cur.claim();
        cur.lifetime = Some(tokens.expires_at - now);
        cur.tokens = Some(tokens);
        cur.unsaved = false;
        cur.generation += 1;
        Ok(())
    }

    /// Completes an authorisation from the browser's redirect (see
    /// [`OAuthClient::complete_authorization`]), stores the new grant and uses
    /// it. Returns what was stored.
    pub fn complete_authorization(
        &self,
        request: &AuthorizationRequest,
        redirect: &str,
    ) -> Result<TokenSet, Error> {
        let tokens = self.oauth.complete_authorization(request, redirect)?;
        self.install(tokens.clone())?;
        Ok(tokens)
    }

    /// Refreshes now, whatever the access token's expiry, and returns the new
    /// tokens once they are stored. A refused refresh token is
    /// [`ErrorKind::ConsentRequired`].
    pub fn refresh_now(&self) -> Result<TokenSet, Error> {
        self.refresh_if(None, |_| true)?;
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tokens
            .clone()
            .ok_or_else(|| Error::new(ErrorKind::TokenStore, "OAuth: no tokens after a refresh"))
    }

    /// The current token set: the one in use, else the store's (`None` when
    /// nothing was stored yet). It holds secrets: hand it only to the store's
    /// owner.
    pub fn tokens(&self) -> Result<Option<TokenSet>, Error> {
        let _g = self.lock_refresh()?;
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        cur.claim();
        if cur.tokens.is_none() {
            cur.tokens = self.store.load()?;
        }
        Ok(cur.tokens.clone())
    }

    /// Tokens IR issued that the store has not yet saved (its `save` failed):
    /// the only copy of the live refresh token. `None` when everything
    /// received is stored. It holds secrets: hand it only to the store's owner.
    pub fn unsaved_tokens(&self) -> Option<TokenSet> {
        let cur = self.current.read().unwrap_or_else(|p| p.into_inner());
        if cur.unsaved && cur.owner.is_current() {
            cur.tokens.clone()
        } else {
            None
        }
    }

    fn fresh(&self, cur: &Current, now: i64) -> Option<Secret> {
        let margin = cur
            .lifetime
            .map_or(self.margin, |l| self.margin.min(l.max(0) / 2));
        match &cur.tokens {
            Some(t) if !cur.unsaved && cur.owner.is_current() && t.expires_at - margin > now => {
                Some(t.access_token.clone())
            }
            _ => None,
        }
    }

    /// A valid access token, refreshing when needed (one refresh for all threads).
    pub fn access_token(&self) -> Result<Secret, Error> {
        let now = self.oauth.clock.now_unix();
        let seen = {
            let cur = self.current.read().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = self.fresh(&cur, now) {
                return Ok(t);
            }
            cur.generation
        };
        self.refresh_if(Some(seen), |_| false)
    }

    /// Called when the gateway refused `rejected` (HTTP 401): the token source
    /// refreshes unless another thread already replaced that token, and
    /// returns the token to retry with.
    pub fn on_rejected(&self, rejected: &Secret) -> Result<Secret, Error> {
        self.refresh_if(None, |cur| {
            cur.tokens
                .as_ref()
                .is_none_or(|t| &t.access_token == rejected)
        })
    }

    /// Single flight: takes the refresh lock and the store's lock (other
    /// processes), reads the store again (adopting tokens another holder
    /// rotated), re-checks, and refreshes when the current token is no longer
    /// fresh or `needs_refresh` says so. A thread that saw generation `seen`
    /// before it waited takes the token another thread obtained meanwhile,
    /// while it has not expired.
    fn refresh_if(
        &self,
        seen: Option<u64>,
        needs_refresh: impl Fn(&Current) -> bool,
    ) -> Result<Secret, Error> {
        let _g = self.lock_refresh()?;
        let _held = self.store.lock()?;
        let now = self.oauth.clock.now_unix();
        {
            let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
            cur.claim();
            if cur.unsaved {
                // A refresh succeeded but the store failed: the new refresh
                // token exists only here. Store it before anything else.
                if let Some(t) = &cur.tokens {
                    self.store.save(t)?;
                }
                cur.unsaved = false;
            }
            cur.adopt(self.store.load()?);
            if !needs_refresh(&cur) {
                if let Some(t) = self.fresh(&cur, now) {
                    return Ok(t);
                }
                if seen.is_some_and(|g| g != cur.generation)
                    && let Some(t) = &cur.tokens
                    && t.expires_at > now
                {
                    return Ok(t.access_token.clone());
                }
            }
        }
        let mut refresh_token = self.refresh_token()?;
        log::debug!(target: "nzpir", "oauth: refreshing the access token");
        let mut fresh = match self.oauth.refresh(&refresh_token) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::ConsentRequired => {
                // A holder that does not take the store's lock (another
                // program, an older version) may have rotated the grant
                // meanwhile: read the store once more before giving up.
                let stored = self.store.load()?;
                let newer = stored.as_ref().and_then(|s| s.refresh_token.clone());
                match newer {
                    Some(r) if r != refresh_token => {
                        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
                        cur.adopt(stored);
                        if let Some(t) = self.fresh(&cur, now) {
                            return Ok(t);
                        }
                        drop(cur);
                        refresh_token = r;
                        self.oauth.refresh(&refresh_token)?
                    }
                    _ => return Err(e),
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                return Err(Error::new(
                    e.kind(),
                    format!(
                        "{}; the refresh request may have reached IR, which would have spent the stored refresh token: it was not sent again (IR revokes the whole grant when a spent refresh token comes back). Try once more; if IR then answers invalid_grant, a myIR user must authorise again",
                        e.message()
                    ),
                )
                .with_source(e));
            }
            Err(e) => return Err(e),
        };
        if fresh.refresh_token.is_none() {
            // Some servers keep the refresh token when they do not rotate it.
            fresh.refresh_token = Some(refresh_token);
        }
        let access = fresh.access_token.clone();
        let saved = self.store.save(&fresh);
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        cur.unsaved = saved.is_err();
        cur.lifetime = Some(fresh.expires_at - now);
        cur.tokens = Some(fresh);
        cur.generation += 1;
        if let Err(e) = saved {
            let kept = cur.tokens.as_ref().and_then(|t| self.store.rescue(t));
            let what = match kept {
                Some(place) => format!(
                    "IR rotated the grant but the token store could not save it ({}). The new tokens were written to {place} (mode 0600): put that file in the store's place (e.g. rename it over the token file) before anything else uses the store; the refresh token in the store is spent",
                    e.message()
                ),
                None => format!(
                    "IR rotated the grant but the token store could not save it ({}). The new tokens are held only in this process, which will store them on its next call: fix the store and call again before it exits; the refresh token in the store is spent",
                    e.message()
                ),
            };
            log::error!(target: "nzpir", "oauth: {what}");
            return Err(Error::new(ErrorKind::TokenStore, what).with_source(e));
        }
        log::info!(target: "nzpir", "oauth: access token refreshed and stored");
        Ok(access)
    }

    /// The refresh token to use next, or why there is none.
    fn refresh_token(&self) -> Result<Secret, Error> {
        let cur = self.current.read().unwrap_or_else(|p| p.into_inner());
        match &cur.tokens {
            None => Err(Error::new(
                ErrorKind::ConsentRequired,
                "OAuth: no tokens stored yet; a myIR user must authorise first",
            )),
            Some(t) => t.refresh_token.clone().ok_or_else(|| {
                Error::new(
                    ErrorKind::ConsentRequired,
                    "OAuth: the access token expired and there is no refresh token (desktop mode); the myIR user must consent again",
                )
            }),
        }
    }
}

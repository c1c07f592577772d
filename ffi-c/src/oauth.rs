//! OAuth: the host's token store callbacks, a client over them, and the
//! authorisation, code exchange and refresh helpers.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::sync::Arc;

use nzpir::oauth::{OAuthTokenSource, StoreLock, TokenSet, TokenStore, parse_redirect};
use nzpir::{Config, Error, ErrorKind, Secret};

use crate::boundary;
use crate::client::{build, nzpir_client};
use crate::error::nzpir_error;
use crate::status::nzpir_status;
use crate::strings::{
    NZPIR_MAX_JSON_BYTES, NZPIR_MAX_URL_BYTES, arg_ref, arg_str, give_string, out_ptr,
};

/// A token store callback succeeded.
pub const NZPIR_TOKEN_STORE_OK: c_int = 0;
/// `load`: nothing is stored yet (no person has authorised).
pub const NZPIR_TOKEN_STORE_EMPTY: c_int = 1;
/// The size of the buffer `load` receives: a stored token set is never longer.
pub const NZPIR_TOKEN_STORE_MAX_BYTES: usize = 65536;

/// `load`: copy the stored token set (the exact bytes `save` was last given)
/// into `buf`, which holds `buf_len` bytes, set `*len_out` to its length, and
/// return `NZPIR_TOKEN_STORE_OK`; or return `NZPIR_TOKEN_STORE_EMPTY` when
/// nothing is stored yet; any other value is a failure (the call then fails
/// with `NZPIR_STATUS_TOKEN_STORE`). `buf` belongs to nzpir and is wiped after
/// use.
pub type nzpir_token_load_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        buf: *mut c_char,
        buf_len: usize,
        len_out: *mut usize,
    ) -> c_int,
>;

/// `save`: store `len` bytes at `data` (a NUL follows them) durably, replacing
/// what was stored, and return `NZPIR_TOKEN_STORE_OK` only once they are safe
/// (e.g. written and fsynced); anything else is a failure. `data` is lent for
/// the call only: copy it. It is a secret (it holds the refresh token): keep it
/// where only the host can read it, and never log it.
pub type nzpir_token_save_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const c_char, len: usize) -> c_int>;

/// Where an OAuth client keeps its tokens: the host's pair of callbacks and
/// their context.
///
/// IR's refresh tokens are single-use: every refresh returns a new one, and the
/// old one is dead. nzpir calls `save` with the new token set before it uses
/// the new access token, so the host always holds the one live refresh token.
/// The stored text is opaque to the host: keep it and hand it back as is.
///
/// nzpir copies this struct; `ctx` must stay valid, and the callbacks callable,
/// until the client is freed. The callbacks are called on the thread of the
/// nzpir call that needs them (any thread the host calls from), never two at
/// once for one client; they must not call nzpir functions on that client.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nzpir_token_store {
    /// Passed to both callbacks as is; nzpir never reads it.
    pub ctx: *mut c_void,
    /// Reads the stored token set. Required.
    pub load: nzpir_token_load_fn,
    /// Stores a new token set durably. Required.
    pub save: nzpir_token_save_fn,
}

/// `lock`: take the store's exclusive lock, across processes (e.g. `flock`
/// on a lock file, a database advisory lock), waiting for it as long as
/// needed, and return `NZPIR_TOKEN_STORE_OK` once it is held; anything else
/// is a failure (the call then fails with `NZPIR_STATUS_TOKEN_STORE`).
pub type nzpir_token_lock_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

/// `unlock`: release the lock `lock` took.
pub type nzpir_token_unlock_fn = Option<unsafe extern "C" fn(ctx: *mut c_void)>;

/// The lock of a token store that several processes (or several clients)
/// share. nzpir holds it around every load-refresh-save: it takes the lock,
/// reads the store again, adopts a token set another holder stored, and
/// refreshes only when that one is due too, so that a spent refresh token is
/// never sent (IR answers a replay by revoking the whole grant). Both
/// callbacks receive the store's `ctx`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nzpir_token_store_lock {
    /// Takes the lock. Required.
    pub lock: nzpir_token_lock_fn,
    /// Releases it. Required.
    pub unlock: nzpir_token_unlock_fn,
}

/// The host's callbacks as the core's token store.
struct CallbackStore {
    ctx: *mut c_void,
    load: unsafe extern "C" fn(*mut c_void, *mut c_char, usize, *mut usize) -> c_int,
    save: unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> c_int,
    lock: Option<(
        unsafe extern "C" fn(*mut c_void) -> c_int,
        unsafe extern "C" fn(*mut c_void),
    )>,
}

/// A lock taken through the host's `lock`, released through its `unlock`.
struct HostLock {
    ctx: *mut c_void,
    unlock: unsafe extern "C" fn(*mut c_void),
}

// SAFETY: as for `CallbackStore`: the host's callbacks may be called from any
// thread.
unsafe impl Send for HostLock {}

impl Drop for HostLock {
    fn drop(&mut self) {
        // SAFETY: the host's contract covers `ctx` and `unlock`.
        unsafe { (self.unlock)(self.ctx) };
    }
}

// SAFETY: the host promises (see `nzpir_token_store`) that `ctx` and the
// callbacks may be used from any thread; the core never calls the store from
// two threads at once for one client.
unsafe impl Send for CallbackStore {}
// SAFETY: as above.
unsafe impl Sync for CallbackStore {}

impl fmt::Debug for CallbackStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackStore(<host callbacks>)")
    }
}

fn wipe(bytes: &mut [u8]) {
    for b in bytes {
        // SAFETY: `b` is a valid, exclusive reference; volatile keeps the wipe.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

impl TokenStore for CallbackStore {
    fn lock(&self) -> Result<StoreLock, Error> {
        let Some((lock, unlock)) = self.lock else {
            return Ok(StoreLock::none());
        };
        // SAFETY: the host's contract covers `ctx` and `lock`.
        match unsafe { lock(self.ctx) } {
            NZPIR_TOKEN_STORE_OK => Ok(StoreLock::held(HostLock {
                ctx: self.ctx,
                unlock,
            })),
            rc => Err(Error::new(
                ErrorKind::TokenStore,
                format!("token store: the host's lock callback failed (code {rc})"),
            )),
        }
    }

    fn load(&self) -> Result<Option<TokenSet>, Error> {
        let mut buf = vec![0u8; NZPIR_TOKEN_STORE_MAX_BYTES];
        let mut len = 0usize;
        // SAFETY: the buffer and `len` are valid for the call; the host's
        // contract covers `ctx`.
        let rc = unsafe { (self.load)(self.ctx, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
        let result = match rc {
            NZPIR_TOKEN_STORE_OK if len <= buf.len() => {
                serde_json::from_slice::<TokenSet>(&buf[..len])
                    .map(Some)
                    .map_err(|_| {
                        Error::new(
                            ErrorKind::TokenStore,
                            "token store: the host's load callback returned text that is not a token set saved by nzpir",
                        )
                    })
            }
            NZPIR_TOKEN_STORE_OK => Err(Error::new(
                ErrorKind::TokenStore,
                "token store: the host's load callback reported more bytes than its buffer holds",
            )),
            NZPIR_TOKEN_STORE_EMPTY => Ok(None),
            rc => Err(Error::new(
                ErrorKind::TokenStore,
                format!("token store: the host's load callback failed (code {rc})"),
            )),
        };
        wipe(&mut buf);
        result
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let mut data = serde_json::to_vec(tokens).map_err(|_| {
            Error::new(
                ErrorKind::TokenStore,
                "token store: cannot encode the tokens",
            )
        })?;
        let len = data.len();
        data.push(0);
        // SAFETY: `data` holds `len` bytes and a NUL for the call; the host's
        // contract covers `ctx`.
        let rc = unsafe { (self.save)(self.ctx, data.as_ptr().cast(), len) };
        wipe(&mut data);
        if rc == NZPIR_TOKEN_STORE_OK {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::TokenStore,
                format!("token store: the host's save callback failed (code {rc})"),
            ))
        }
    }
}

/// Creates an OAuth client whose tokens live in the host's token store: the
/// configuration JSON (as for `nzpir_client_new_from_json`) has
/// `"auth": {"type": "oauth", "client_id", "client_secret", "redirect_uri",
/// "endpoint"}` and no `token_store` file. `store` is copied.
///
/// Nothing is loaded until the first call that needs a token. A new store
/// needs one authorisation: `nzpir_oauth_authorization_request`, the person
/// consents in a browser, then `nzpir_oauth_complete_authorization`.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `store` is NULL or points
/// to a `nzpir_token_store` whose contract the host keeps; `client_out` and
/// `err_out` are NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_new_with_token_store(
    config_json: *const c_char,
    store: *const nzpir_token_store,
    client_out: *mut *mut nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe { new_with_store(config_json, store, std::ptr::null(), client_out, err_out) }
}

/// As `nzpir_client_new_with_token_store`, for a store that several processes
/// (or several clients) share: `lock` (copied) takes and releases the store's
/// lock across them, and nzpir holds it around every load-refresh-save (see
/// `nzpir_token_store_lock`). A NULL `lock` is the same as
/// `nzpir_client_new_with_token_store`.
///
/// # Safety
/// As `nzpir_client_new_with_token_store`; `lock` is NULL or points to a
/// `nzpir_token_store_lock` whose callbacks may be called from any thread
/// with the store's `ctx` until the client is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_new_with_locked_token_store(
    config_json: *const c_char,
    store: *const nzpir_token_store,
    lock: *const nzpir_token_store_lock,
    client_out: *mut *mut nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe { new_with_store(config_json, store, lock, client_out, err_out) }
}

/// Both constructors over host stores.
///
/// # Safety
/// As `nzpir_client_new_with_locked_token_store`.
unsafe fn new_with_store(
    config_json: *const c_char,
    store: *const nzpir_token_store,
    lock: *const nzpir_token_store_lock,
    client_out: *mut *mut nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let json = arg_str(config_json, "config_json", NZPIR_MAX_JSON_BYTES)?;
            let store = arg_ref(store, "store")?;
            let client_out = out_ptr(client_out, "client_out")?;
            let load = store
                .load
                .ok_or_else(|| nzpir_error::null_argument("store.load"))?;
            let save = store
                .save
                .ok_or_else(|| nzpir_error::null_argument("store.save"))?;
            let lock = match lock.as_ref() {
                None => None,
                Some(l) => Some((
                    l.lock
                        .ok_or_else(|| nzpir_error::null_argument("lock.lock"))?,
                    l.unlock
                        .ok_or_else(|| nzpir_error::null_argument("lock.unlock"))?,
                )),
            };
            let store = Arc::new(CallbackStore {
                ctx: store.ctx,
                load,
                save,
                lock,
            });
            let client = build(&Config::from_json_str(json)?, Some(store))?;
            client_out.write(Box::into_raw(client));
            Ok(())
        })
    }
}

fn oauth_of(client: &nzpir_client) -> Result<&OAuthTokenSource, nzpir_error> {
    client.client.oauth().map(|s| &**s).ok_or_else(|| {
        Error::config(
            "auth.type",
            "this client does not use OAuth (\"auth\": {\"type\": \"oauth\", ...})",
        )
        .into()
    })
}

/// Starts an authorisation: a fresh `state` and PKCE verifier, and the URL of
/// IR's authorize endpoint to send the person's browser to.
///
/// On success the three out-pointers receive new strings the caller frees
/// with `nzpir_string_free`. Keep `state` and the code verifier (they are
/// secrets, valid for this one authorisation) until the browser comes back to
/// the redirect URI, then pass them to `nzpir_oauth_exchange`.
///
/// # Safety
/// `client` is NULL or a live client; the out-pointers and `err_out` are NULL
/// or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_oauth_authorization_url(
    client: *const nzpir_client,
    url_out: *mut *mut c_char,
    state_out: *mut *mut c_char,
    code_verifier_out: *mut *mut c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe { authorization_request(client, url_out, state_out, code_verifier_out, err_out) }
}

/// The body of `nzpir_oauth_authorization_request` and its former name.
///
/// # Safety
/// As `nzpir_oauth_authorization_url`.
unsafe fn authorization_request(
    client: *const nzpir_client,
    url_out: *mut *mut c_char,
    state_out: *mut *mut c_char,
    code_verifier_out: *mut *mut c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per the exported functions' contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let url_out = out_ptr(url_out, "url_out")?;
            let state_out = out_ptr(state_out, "state_out")?;
            let code_verifier_out = out_ptr(code_verifier_out, "code_verifier_out")?;
            let request = oauth_of(client)?.oauth().authorization_request()?;
            url_out.write(give_string(request.url()));
            state_out.write(give_string(request.state()));
            code_verifier_out.write(give_string(request.pkce().verifier().expose()));
            Ok(())
        })
    }
}

/// Finishes an authorisation: checks the redirect back from IR (the full URL
/// or its query) against `state`, exchanges its code with `code_verifier` for
/// tokens, and saves them to the client's token store before the client uses
/// them. A state that does not match, or IR's error redirect, fails without
/// calling IR (`NZPIR_STATUS_AUTHENTICATION`, or
/// `NZPIR_STATUS_CONSENT_REQUIRED` when the person declined).
///
/// # Safety
/// `client` is NULL or a live client; the strings are NULL or NUL-terminated;
/// `err_out` is NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_oauth_exchange(
    client: *const nzpir_client,
    redirect_url: *const c_char,
    state: *const c_char,
    code_verifier: *const c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe { complete_authorization(client, redirect_url, state, code_verifier, err_out) }
}

/// The body of `nzpir_oauth_complete_authorization` and its former name.
///
/// # Safety
/// As `nzpir_oauth_exchange`.
unsafe fn complete_authorization(
    client: *const nzpir_client,
    redirect_url: *const c_char,
    state: *const c_char,
    code_verifier: *const c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per the exported functions' contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let redirect = arg_str(redirect_url, "redirect_url", NZPIR_MAX_URL_BYTES)?;
            let state = arg_str(state, "state", NZPIR_MAX_URL_BYTES)?;
            let verifier = arg_str(code_verifier, "code_verifier", NZPIR_MAX_URL_BYTES)?;
            let source = oauth_of(client)?;
            let code = parse_redirect(redirect, state)?;
            let tokens = source
                .oauth()
                .exchange_code(&code, &Secret::new(verifier))?;
            source.install(tokens)?;
            Ok(())
        })
    }
}

/// Starts an authorisation, as `nzpir_oauth_authorization_url` (its former
/// name, kept): the OAuth verbs every nzpir surface uses are authorization
/// request, complete authorization, refresh, introspect and revoke.
///
/// # Safety
/// As `nzpir_oauth_authorization_url`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_oauth_authorization_request(
    client: *const nzpir_client,
    url_out: *mut *mut c_char,
    state_out: *mut *mut c_char,
    code_verifier_out: *mut *mut c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: the same contract.
    unsafe { authorization_request(client, url_out, state_out, code_verifier_out, err_out) }
}

/// Finishes an authorisation, as `nzpir_oauth_exchange` (its former name,
/// kept).
///
/// # Safety
/// As `nzpir_oauth_exchange`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_oauth_complete_authorization(
    client: *const nzpir_client,
    redirect_url: *const c_char,
    state: *const c_char,
    code_verifier: *const c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: the same contract.
    unsafe { complete_authorization(client, redirect_url, state, code_verifier, err_out) }
}

/// Refreshes the client's OAuth tokens now (one refresh however many threads
/// ask), saving the rotated refresh token to the store before the new access
/// token is used. The client also refreshes by itself shortly before expiry
/// and when IR refuses a token; call this to rotate ahead of time.
/// `NZPIR_STATUS_CONSENT_REQUIRED` means the grant is gone (refresh token
/// spent, revoked or expired, or nothing stored): a person must authorise
/// again.
///
/// # Safety
/// `client` is NULL or a live client; `err_out` is NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_oauth_refresh(
    client: *const nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            oauth_of(client)?.refresh_now()?;
            Ok(())
        })
    }
}

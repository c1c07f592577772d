//! OAuth 2.0 as IR runs it: authorisation with PKCE (S256), code exchange and
//! rotating refresh tokens at the token endpoint (HTTP Basic client
//! authentication), introspection and revocation, and a self-refreshing token
//! source for the [`Client`](crate::Client).
//!
//! IR's refresh tokens are single-use, so [`OAuthTokenSource`] writes every new
//! token set to its [`TokenStore`] before the new access token is used, and
//! makes exactly one refresh call when many threads need one at once.

mod store;

use std::fmt;
use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::config::Secret;
use crate::error::{Error, ErrorKind, parse_error_text, scrub};
use crate::fork::Owner;
use crate::validate::{Clock, SystemClock};

pub use store::{
    FileTokenStore, MemoryTokenStore, StoreLock, TokenSet, TokenStore, replace_private_file,
};

/// The only scope IR's gateway services use.
pub const SCOPE: &str = "MYIR.Services";

/// Paths of IR's OAuth endpoints under the OAuth host.
pub const AUTHORIZE_PATH: &str = "/gateway3/oauth/authorize";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/gateway3/oauth/token";
/// The introspection endpoint.
pub const INTROSPECT_PATH: &str = "/gateway3/oauth/introspect";
/// The revocation endpoint.
pub const REVOKE_PATH: &str = "/gateway3/oauth/revoke";

/// Refresh this long before the access token expires.
pub const REFRESH_MARGIN_SECS: i64 = 120;

const STATE_LEN: usize = 43;
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf)
        .map_err(|_| Error::new(ErrorKind::Config, "the system random source failed"))?;
    Ok(buf)
}

/// A random string of IR's allowed state characters (letters and digits).
fn random_state() -> Result<String, Error> {
    // Rejection sampling keeps the distribution uniform over 62 characters.
    let mut out = String::with_capacity(STATE_LEN);
    while out.len() < STATE_LEN {
        for b in random_bytes::<64>()? {
            if b < 248 && out.len() < STATE_LEN {
                out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// A PKCE pair: the secret verifier and its S256 challenge.
#[derive(Clone)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier (43 characters of base64url from 32 random bytes).
    pub fn generate() -> Result<Self, Error> {
        let verifier = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        Ok(Self::from_verifier(verifier))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: impl Into<String>) -> Self {
        let verifier = verifier.into();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        Pkce {
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            verifier: Secret::new(verifier),
        }
    }

    /// The `code_verifier`, kept for the exchange.
    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// The `code_challenge` (S256).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// A registered OAuth client of IR.
#[derive(Clone)]
pub struct OAuthClientConfig {
    /// The OAuth host's base URL (e.g. `https://services.ird.govt.nz`).
    pub base_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// The redirect URI registered with IR.
    pub redirect_uri: String,
}

impl fmt::Debug for OAuthClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClientConfig")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl OAuthClientConfig {
    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// Starts an authorisation: a fresh `state` and PKCE pair, and the URL to
    /// send the person's browser to.
    ///
    /// Keep [`state`](AuthorizationRequest::state) and the PKCE
    /// [`verifier`](Pkce::verifier) until the browser comes back; in another
    /// process, [`resume_authorization`](Self::resume_authorization) rebuilds
    /// the request from them.
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, Error> {
        self.authorization_request_with(random_state()?, Pkce::generate()?)
    }

    /// An authorisation request with a given state and PKCE pair.
    ///
    /// The state must be 1 to 199 of IR's state characters (letters, digits
    /// and ``- . ? , : ' / \ + = $ # _``, no space); the redirect URI must be set.
    pub fn authorization_request_with(
        &self,
        state: String,
        pkce: Pkce,
    ) -> Result<AuthorizationRequest, Error> {
        if self.redirect_uri.trim().is_empty() {
            return Err(Error::config(
                "auth.redirect_uri",
                "required to start an authorisation: the redirect URI registered with IR",
            ));
        }
        check_state(&state)?;
        let mut url = url::Url::parse(&self.endpoint(AUTHORIZE_PATH))
            .map_err(|e| Error::config("auth.endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("response_type", "code")
            .append_pair("state", &state)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", "S256");
        Ok(AuthorizationRequest {
            url: url.into(),
            state,
            pkce,
        })
    }

    /// Rebuilds an authorisation started earlier, possibly by another process
    /// (`nzpir oauth authorize-url`, then `nzpir oauth exchange`), from the
    /// `state` and PKCE `code_verifier` saved when it started. The URL is the
    /// same as the one first given.
    pub fn resume_authorization(
        &self,
        state: impl Into<String>,
        verifier: impl Into<String>,
    ) -> Result<AuthorizationRequest, Error> {
        let verifier = verifier.into();
        // RFC 7636: 43 to 128 unreserved characters.
        if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(is_unreserved) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "OAuth code_verifier must be 43 to 128 characters of letters, digits and -._~",
            ));
        }
        self.authorization_request_with(state.into(), Pkce::from_verifier(verifier))
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The characters IR allows in `state`: letters, digits and
/// `- . ? , : ' / \ + = $ # _` (no space).
fn is_ir_state_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'?'
                | b','
                | b':'
                | b'\''
                | b'/'
                | b'\\'
                | b'+'
                | b'='
                | b'$'
                | b'#'
                | b'_'
        )
}

fn check_state(state: &str) -> Result<(), Error> {
    if state.is_empty() || state.len() >= 200 || !state.bytes().all(is_ir_state_char) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "OAuth state must be 1 to 199 of IR's state characters: letters, digits and \
             - . ? , : ' / \\ + = $ # _ (no space)",
        ));
    }
    Ok(())
}

/// An authorisation in progress: where to send the browser, and what to check
/// when it comes back. `Debug` shows neither the state nor the URL's query.
#[derive(Clone)]
pub struct AuthorizationRequest {
    url: String,
    state: String,
    pkce: Pkce,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("AuthorizationRequest")
            .field("endpoint", &endpoint)
            .field("state", &"<redacted>")
            .field("pkce", &self.pkce)
            .finish()
    }
}

impl AuthorizationRequest {
    /// The URL of IR's authorize endpoint with every parameter.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `state` sent; the redirect back must carry the same.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE pair; its verifier goes to the code exchange.
    pub fn pkce(&self) -> &Pkce {
        &self.pkce
    }

    /// Checks the redirect back (the full URL or just its query) and returns
    /// the authorisation code. A state that does not match, or IR's error
    /// redirect, is a typed error.
    pub fn code_from_redirect(&self, redirect: &str) -> Result<Secret, Error> {
        parse_redirect(redirect, &self.state)
    }
}

/// Checks a redirect back from IR's authorize endpoint against `expected_state`.
pub fn parse_redirect(redirect: &str, expected_state: &str) -> Result<Secret, Error> {
    let query = match redirect.split_once('?') {
        Some((_, q)) => q,
        None => redirect,
    };
    let query = query.split('#').next().unwrap_or_default();
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if state.as_deref() != Some(expected_state) {
        return Err(Error::new(
            ErrorKind::Authentication,
            "OAuth redirect: state does not match the one sent (possible forgery); start again",
        ));
    }
    if let Some(error) = error {
        return Err(oauth_error(&error, description.as_deref(), None, &[]));
    }
    match code {
        Some(c) if !c.is_empty() => Ok(Secret::new(c)),
        _ => Err(Error::new(
            ErrorKind::Authentication,
            "OAuth redirect: no authorisation code",
        )),
    }
}

/// Maps an OAuth `error` (RFC 6749) to a typed error.
/// `hide`: the credentials this call sent (client secret, token, code,
/// verifier), left out of the message however short they are.
fn oauth_error(
    error: &str,
    description: Option<&str>,
    status: Option<u16>,
    hide: &[&str],
) -> Error {
    let kind = match error {
        "invalid_grant" | "access_denied" | "consent_required" | "login_required" => {
            ErrorKind::ConsentRequired
        }
        "invalid_client"
        | "unauthorized_client"
        | "invalid_scope"
        | "unsupported_grant_type"
        | "unsupported_response_type"
        | "invalid_request" => ErrorKind::Config,
        "server_error" | "temporarily_unavailable" => ErrorKind::Server,
        _ => ErrorKind::Authentication,
    };
    let clean = |text: &str| without_tokens(&scrub(&without(text, hide)));
    let error = clean(error);
    let mut message = match description {
        Some(d) if !d.is_empty() => format!("OAuth {error}: {}", clean(d)),
        _ => format!("OAuth {error}"),
    };
    if kind == ErrorKind::ConsentRequired {
        message.push_str(" (the myIR user must consent again)");
    }
    let e = Error::new(kind, message);
    match status {
        Some(s) => e.with_http_status(s),
        None => e,
    }
}

/// Text from the OAuth server or a redirect, with every run of token
/// characters 20 or longer (a JWT, an access or refresh token, a code, a
/// verifier: never a word of IR's messages) replaced, so that an answer that
/// quotes a credential back does not put it in an error message.
fn without_tokens(text: &str) -> String {
    const LONGEST_WORD: usize = 19;
    let is_token = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_token(c) {
            run.push(c);
            continue;
        }
        if run.chars().count() > LONGEST_WORD {
            out.push_str("[redacted]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// `text` with every occurrence of each non-empty value of `hide` replaced.
fn without(text: &str, hide: &[&str]) -> String {
    let mut out = text.to_owned();
    for value in hide.iter().filter(|v| !v.is_empty()) {
        if out.contains(value) {
            out = out.replace(value, "[redacted]");
        }
    }
    out
}

/// `expires_in` as IR sends it: a number, or a number in a string.
fn expires_in<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(i64),
        Text(String),
    }
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Num(n)) => Ok(Some(n)),
        Some(NumOrText::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expires_in is not a number")),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "expires_in")]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Default access-token lifetime when IR does not say (8 hours).
pub const DEFAULT_EXPIRES_IN: i64 = 28_800;

/// Parses the token endpoint's answer.
pub fn parse_token_response(status: u16, body: &[u8], now: i64) -> Result<TokenSet, Error> {
    token_response(status, body, now, &[])
}

/// [`parse_token_response`], leaving `hide` (what the call sent) out of an
/// error's message.
fn token_response(status: u16, body: &[u8], now: i64, hide: &[&str]) -> Result<TokenSet, Error> {
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_slice::<OAuthErrorBody>(body) {
            Ok(e) => oauth_error(&e.error, e.error_description.as_deref(), Some(status), hide),
            Err(_) => Error::from_status(status, "from the OAuth token endpoint"),
        });
    }
    let t: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Server,
            format!(
                "OAuth token response is malformed: {}",
                parse_error_text(&e.to_string())
            ),
        )
    })?;
    if let Some(tt) = &t.token_type
        && !tt.eq_ignore_ascii_case("bearer")
    {
        return Err(Error::new(
            ErrorKind::Server,
            format!("OAuth token type {} is not Bearer", scrub(tt)),
        ));
    }
    if t.access_token.is_empty() {
        return Err(Error::new(
            ErrorKind::Server,
            "OAuth token response has an empty access_token",
        ));
    }
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
        expires_at: now + t.expires_in.unwrap_or(DEFAULT_EXPIRES_IN).max(0),
        scope: t.scope,
    })
}

/// What the introspection endpoint says of a token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// The client it was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The myIR logon.
    #[serde(default)]
    pub username: Option<String>,
    /// The scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// The subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    #[serde(default)]
    pub iat: Option<i64>,
}

impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspection")
            .field("active", &self.active)
            .field("client_id", &self.client_id)
            .field("username", &self.username.as_ref().map(|_| "<redacted>"))
            .field("scope", &self.scope)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

/// Which token a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }
}

/// A form POST with HTTP Basic client authentication, as the OAuth endpoints
/// take it. The client's transport implements it; tests may fake it.
pub trait FormPost: Send + Sync {
    /// POSTs `form` (URL-encoded) to `url` with `Authorization: <basic>`;
    /// returns the status and body of any answer.
    fn post_form(
        &self,
        url: &str,
        basic: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), Error>;
}

/// Calls IR's OAuth endpoints for one registered client.
#[derive(Clone)]
pub struct OAuthClient {
    config: OAuthClientConfig,
    basic: Secret,
    http: Arc<dyn FormPost>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// An OAuth client calling through `http`.
    pub fn new(config: OAuthClientConfig, http: Arc<dyn FormPost>) -> Self {
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!(
                "{}:{}",
                config.client_id,
                config.client_secret.expose()
            ))
        );
        OAuthClient {
            config,
            basic: Secret::new(basic),
            http,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for token expiry times.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The client's settings.
    pub fn config(&self) -> &OAuthClientConfig {
        &self.config
    }

    /// Starts an authorisation (state + PKCE + URL).
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, Error> {
        self.config.authorization_request()
    }

    /// Rebuilds an authorisation from its saved `state` and `code_verifier`
    /// (see [`OAuthClientConfig::resume_authorization`]).
    pub fn resume_authorization(
        &self,
        state: impl Into<String>,
        verifier: impl Into<String>,
    ) -> Result<AuthorizationRequest, Error> {
        self.config.resume_authorization(state, verifier)
    }

    /// Completes an authorisation from the URL the browser was redirected to
    /// (or just its query): checks the state, then exchanges the code with the
    /// request's PKCE verifier. IR's error redirects and a state that does not
    /// match are typed errors, and nothing is exchanged.
    pub fn complete_authorization(
        &self,
        request: &AuthorizationRequest,
        redirect: &str,
    ) -> Result<TokenSet, Error> {
        let code = request.code_from_redirect(redirect)?;
        self.exchange_code(&code, request.pkce().verifier())
    }

    fn token_call(&self, form: &[(&str, &str)]) -> Result<TokenSet, Error> {
        let url = self.config.endpoint(TOKEN_PATH);
        let (status, body) = self.http.post_form(&url, self.basic.expose(), form)?;
        let mut hide: Vec<&str> = form
            .iter()
            .filter(|(k, _)| ["code", "code_verifier", "refresh_token"].contains(k))
            .map(|(_, v)| *v)
            .collect();
        hide.push(self.config.client_secret.expose());
        token_response(status, &body, self.clock.now_unix(), &hide)
    }

    /// Exchanges an authorisation code (with its PKCE verifier) for tokens.
    pub fn exchange_code(&self, code: &Secret, verifier: &Secret) -> Result<TokenSet, Error> {
        self.token_call(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", &self.config.redirect_uri),
            ("code_verifier", verifier.expose()),
        ])
    }

    /// Uses a refresh token (single-use at IR) for a new token set.
    pub fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, Error> {
        self.token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
    }

    /// Asks IR whether a token is live.
    pub fn introspect(&self, token: &Secret, kind: TokenKind) -> Result<Introspection, Error> {
        let url = self.config.endpoint(INTROSPECT_PATH);
        let (status, body) = self.http.post_form(
            &url,
            self.basic.expose(),
            &[("token_type_hint", kind.hint()), ("token", token.expose())],
        )?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
                Ok(e) => oauth_error(
                    &e.error,
                    e.error_description.as_deref(),
                    Some(status),
                    &[token.expose(), self.config.client_secret.expose()],
                ),
                Err(_) => Error::from_status(status, "from the OAuth introspection endpoint"),
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(
                ErrorKind::Server,
                format!(
                    "OAuth introspection response is malformed: {}",
                    parse_error_text(&e.to_string())
                ),
            )
        })
    }

    /// Revokes a token.
    pub fn revoke(&self, token: &Secret, kind: TokenKind) -> Result<(), Error> {
        let url = self.config.endpoint(REVOKE_PATH);
        let (status, body) = self.http.post_form(
            &url,
            self.basic.expose(),
            &[("token_type_hint", kind.hint()), ("token", token.expose())],
        )?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(e) => oauth_error(
                &e.error,
                e.error_description.as_deref(),
                Some(status),
                &[token.expose(), self.config.client_secret.expose()],
            ),
            Err(_) => Error::from_status(status, "from the OAuth revocation endpoint"),
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn oauth_errors_do_not_quote_credentials_back() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
        let token = "dcoGnmTe3LT2v2XXvu6Twt8ypPx7x2ZcNI8j9GNI0rA";
        let body = format!(
            r#"{{"error":"invalid_grant","error_description":"refresh token {token} (from {jwt}) is spent"}}"#
        );
        let e = parse_token_response(400, body.as_bytes(), 0).expect_err("refused");
        let text = e.to_string();
        assert!(!text.contains(token) && !text.contains("eyJ"), "{text}");
        assert!(
            text.starts_with(
                "OAuth invalid_grant: refresh token [redacted] (from [redacted]) is spent"
            ),
            "{text}"
        );
        let e = parse_redirect(&format!("http://x/cb?error={token}&state=s"), "s")
            .expect_err("an error redirect");
        assert_eq!(e.to_string(), "OAuth [redacted]");
        // IR's own wording passes unchanged.
        assert_eq!(
            without_tokens("The refresh token is invalid, expired or revoked."),
            "The refresh token is invalid, expired or revoked."
        );
    }

    fn cfg() -> OAuthClientConfig {
        OAuthClientConfig {
            base_url: "https://oauth.example.test/".into(),
            client_id: "client-1".into(),
            client_secret: Secret::new("s3cret"),
            redirect_uri: "https://app.example.test/callback".into(),
        }
    }

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let g = Pkce::generate().expect("random");
        assert_eq!(g.verifier().expose().len(), 43);
        assert_ne!(
            g.verifier().expose(),
            Pkce::generate().expect("random").verifier().expose()
        );
    }

    #[test]
    fn authorize_url_has_every_parameter() {
        let req = cfg().authorization_request().expect("request");
        let url = url::Url::parse(req.url()).expect("url");
        assert_eq!(url.path(), AUTHORIZE_PATH);
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "client-1");
        assert_eq!(q["redirect_uri"], "https://app.example.test/callback");
        assert_eq!(q["scope"], "MYIR.Services");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], req.pkce().challenge());
        assert_eq!(q["state"], req.state());
        assert!(req.state().len() < 200);
        assert!(req.state().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(!req.url().contains("s3cret"));
        let dbg = format!("{req:?}");
        assert!(!dbg.contains(req.state()), "{dbg}");
        assert!(!dbg.contains(req.pkce().verifier().expose()), "{dbg}");
    }

    #[test]
    fn redirect_checks() {
        let req = cfg()
            .authorization_request_with("abc".into(), Pkce::from_verifier("v"))
            .expect("request");
        let code = req
            .code_from_redirect("https://app.example.test/callback?code=xyz&state=abc")
            .expect("code");
        assert_eq!(code.expose(), "xyz");
        assert_eq!(
            req.code_from_redirect("code=xyz&state=abc")
                .expect("query only")
                .expose(),
            "xyz"
        );
        let e = req
            .code_from_redirect("?code=xyz&state=evil")
            .expect_err("forged");
        assert_eq!(e.kind(), ErrorKind::Authentication);
        let e = req
            .code_from_redirect("?error=access_denied&error_description=User+said+no&state=abc")
            .expect_err("denied");
        assert_eq!(e.kind(), ErrorKind::ConsentRequired);
        assert!(e.to_string().contains("User said no"), "{e}");
        let e = req.code_from_redirect("?state=abc").expect_err("no code");
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(
            cfg()
                .authorization_request_with("x".repeat(200), Pkce::from_verifier("v"))
                .is_err()
        );
    }

    #[test]
    fn token_responses() {
        let t = parse_token_response(
            200,
            br#"{"access_token":"a","token_type":"Bearer","expires_in":"28800","scope":"MYIR.Services","refresh_token":"r"}"#,
            1000,
        )
        .expect("string expires_in");
        assert_eq!(t.expires_at, 1000 + 28_800);
        assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("r"));
        let t = parse_token_response(
            200,
            br#"{"access_token":"a","token_type":"bearer","expires_in":60}"#,
            0,
        )
        .expect("numeric expires_in");
        assert_eq!((t.expires_at, t.refresh_token), (60, None));
        let e = parse_token_response(
            401,
            br#"{"error":"invalid_grant","error_description":"used"}"#,
            0,
        )
        .expect_err("invalid_grant");
        assert_eq!(e.kind(), ErrorKind::ConsentRequired);
        assert_eq!(e.http_status(), Some(401));
        let e = parse_token_response(401, br#"{"error":"invalid_client"}"#, 0).expect_err("client");
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = parse_token_response(200, br#"{"access_token":"a","expires_in":"soon"}"#, 0)
            .expect_err("bad");
        assert_eq!(e.kind(), ErrorKind::Server);
        let e = parse_token_response(503, b"<html>", 0).expect_err("5xx");
        assert_eq!(e.kind(), ErrorKind::Server);
    }

    /// An OAuth server that refuses every call and quotes back, in its error
    /// and description, every value it was sent and the client's secret.
    struct Echo;

    impl FormPost for Echo {
        fn post_form(
            &self,
            _url: &str,
            _basic: &str,
            form: &[(&str, &str)],
        ) -> Result<(u16, Vec<u8>), Error> {
            let sent: Vec<&str> = form.iter().map(|(_, v)| *v).collect();
            let body = serde_json::json!({
                "error": format!("invalid_grant s3cret {}", sent.join(" ")),
                "error_description": format!("bad: {} and s3cret", sent.join(", ")),
            });
            Ok((400, body.to_string().into_bytes()))
        }
    }

    #[test]
    fn short_credentials_quoted_back_are_left_out_too() {
        // Short enough to pass the token-shaped filter: only knowing what
        // was sent keeps them out.
        let client = OAuthClient::new(cfg(), Arc::new(Echo));
        let calls: Vec<(Error, &str)> = vec![
            (
                client
                    .exchange_code(&Secret::new("c0de"), &Secret::new("v3rifier"))
                    .expect_err("refused"),
                "c0de v3rifier",
            ),
            (
                client
                    .refresh(&Secret::new("r3fresh"))
                    .expect_err("refused"),
                "r3fresh",
            ),
            (
                client
                    .introspect(&Secret::new("acc3ss"), TokenKind::Access)
                    .expect_err("refused"),
                "acc3ss",
            ),
            (
                client
                    .revoke(&Secret::new("r3voke"), TokenKind::Refresh)
                    .expect_err("refused"),
                "r3voke",
            ),
        ];
        for (e, sent) in calls {
            let text = format!("{e} {e:?}");
            assert!(text.starts_with("OAuth invalid_grant"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
            for secret in sent.split(' ').chain(["s3cret"]) {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
    }

    /// A token endpoint that rotates refresh tokens and counts calls.
    struct Rotating {
        calls: AtomicU32,
        delay: std::time::Duration,
        expires_in: i64,
    }

    fn rotating(delay_ms: u64, expires_in: i64) -> Arc<Rotating> {
        Arc::new(Rotating {
            calls: AtomicU32::new(0),
            delay: std::time::Duration::from_millis(delay_ms),
            expires_in,
        })
    }

    impl FormPost for Rotating {
        fn post_form(
            &self,
            _url: &str,
            basic: &str,
            form: &[(&str, &str)],
        ) -> Result<(u16, Vec<u8>), Error> {
            assert!(basic.starts_with("Basic "));
            assert!(form.contains(&("grant_type", "refresh_token")));
            std::thread::sleep(self.delay);
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let body = format!(
                r#"{{"access_token":"access-{n}","token_type":"Bearer","expires_in":{},"refresh_token":"refresh-{n}"}}"#,
                self.expires_in
            );
            Ok((200, body.into_bytes()))
        }
    }

    #[derive(Debug)]
    struct Clock0;
    impl Clock for Clock0 {
        fn now_unix(&self) -> i64 {
            10_000
        }
    }

    fn expired() -> TokenSet {
        TokenSet {
            access_token: Secret::new("access-0"),
            refresh_token: Some(Secret::new("refresh-0")),
            expires_at: 9_000,
            scope: None,
        }
    }

    #[test]
    fn single_flight_refresh() {
        let http = rotating(50, 3600);
        let store = Arc::new(MemoryTokenStore::with_tokens(expired()));
        let source = Arc::new(OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            store.clone(),
        ));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let s = source.clone();
                std::thread::spawn(move || s.access_token().map(|t| t.expose().to_owned()))
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().expect("thread").expect("token"), "access-1");
        }
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
        let stored = store.load().expect("load").expect("tokens");
        assert_eq!(
            stored.refresh_token.as_ref().map(Secret::expose),
            Some("refresh-1")
        );

        // A 401 on the current token refreshes once; a 401 on an old one does not.
        assert_eq!(
            source
                .on_rejected(&Secret::new("access-1"))
                .expect("refresh")
                .expose(),
            "access-2"
        );
        assert_eq!(
            source
                .on_rejected(&Secret::new("access-1"))
                .expect("no refresh")
                .expose(),
            "access-2"
        );
        assert_eq!(http.calls.load(Ordering::SeqCst), 2);
    }

    /// A store whose save hands a call into its own source to another thread
    /// and waits for it: that call waits for the refresh, which waits for the
    /// save. The wait is bounded, so both return.
    #[test]
    fn a_store_waiting_on_another_threads_call_into_its_client_does_not_hang() {
        #[derive(Debug, Default)]
        struct HandsOff {
            inner: MemoryTokenStore,
            source: Mutex<Option<std::sync::Weak<OAuthTokenSource>>>,
            inner_call: Mutex<Option<Result<String, Error>>>,
        }
        impl TokenStore for HandsOff {
            fn load(&self) -> Result<Option<TokenSet>, Error> {
                self.inner.load()
            }
            fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
                let source = self.source.lock().expect("lock").take();
                if let Some(source) = source.and_then(|w| w.upgrade()) {
                    let r = std::thread::spawn(move || source.refresh_now())
                        .join()
                        .expect("thread");
                    *self.inner_call.lock().expect("lock") =
                        Some(r.map(|t| t.access_token.expose().to_owned()));
                }
                self.inner.save(tokens)
            }
        }
        let http = rotating(0, 3600);
        let store = Arc::new(HandsOff {
            inner: MemoryTokenStore::with_tokens(expired()),
            ..HandsOff::default()
        });
        let source = Arc::new(
            OAuthTokenSource::new(
                OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
                store.clone(),
            )
            .with_refresh_wait(Duration::from_millis(300)),
        );
        *store.source.lock().expect("lock") = Some(Arc::downgrade(&source));
        let started = Instant::now();
        let token = source.access_token().expect("the outer refresh completes");
        assert_eq!(token.expose(), "access-1");
        assert!(started.elapsed() < Duration::from_secs(30));
        let inner = store
            .inner_call
            .lock()
            .expect("lock")
            .take()
            .expect("called");
        let e = inner.expect_err("the inner call gave up waiting");
        assert_eq!(e.kind(), ErrorKind::TokenStore);
        assert!(e.to_string().contains("did not finish within 300ms"), "{e}");
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_stored_fresh_token_is_used_without_refreshing() {
        let http = rotating(0, 3600);
        let mut t = expired();
        t.expires_at = 10_000 + 3_600;
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            Arc::new(MemoryTokenStore::with_tokens(t)),
        );
        assert_eq!(source.access_token().expect("token").expose(), "access-0");
        assert_eq!(source.access_token().expect("token").expose(), "access-0");
        assert_eq!(http.calls.load(Ordering::SeqCst), 0);
        // Within the margin before expiry it refreshes.
        let mut soon = expired();
        soon.expires_at = 10_000 + 60;
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            Arc::new(MemoryTokenStore::with_tokens(soon)),
        );
        assert_eq!(source.access_token().expect("token").expose(), "access-1");
    }

    #[test]
    fn refresh_now_rotates_even_a_fresh_token() {
        let http = rotating(0, 3600);
        let mut t = expired();
        t.expires_at = 10_000 + 3_600;
        let store = Arc::new(MemoryTokenStore::with_tokens(t));
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            store.clone(),
        );
        assert_eq!(
            source.refresh_now().expect("refresh").access_token.expose(),
            "access-1"
        );
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
        let stored = store.load().expect("load").expect("tokens");
        assert_eq!(
            stored.refresh_token.as_ref().map(Secret::expose),
            Some("refresh-1")
        );
        // The new token is fresh: using it does not refresh again.
        assert_eq!(source.access_token().expect("token").expose(), "access-1");
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    }

    #[derive(Debug)]
    struct FailingStore;
    impl TokenStore for FailingStore {
        fn load(&self) -> Result<Option<TokenSet>, Error> {
            Ok(Some(expired()))
        }
        fn save(&self, _: &TokenSet) -> Result<(), Error> {
            Err(Error::new(ErrorKind::TokenStore, "disk full"))
        }
    }

    #[test]
    fn new_tokens_are_not_used_before_they_are_stored() {
        let http = rotating(0, 3600);
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            Arc::new(FailingStore),
        );
        let e = source.access_token().expect_err("store fails");
        assert_eq!(e.kind(), ErrorKind::TokenStore);
        // The rotated refresh token is kept in memory, and no second refresh
        // burns it: the next call tries to store it again first.
        let e = source.access_token().expect_err("store still fails");
        assert_eq!(e.kind(), ErrorKind::TokenStore);
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn desktop_mode_without_refresh_token_needs_consent() {
        let mut t = expired();
        t.refresh_token = None;
        let http = rotating(0, 3600);
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            Arc::new(MemoryTokenStore::with_tokens(t)),
        );
        assert_eq!(
            source.access_token().expect_err("expired").kind(),
            ErrorKind::ConsentRequired
        );
        assert_eq!(http.calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn short_lived_tokens_are_used_and_refreshed_once() {
        // Tokens that live less than the refresh margin: each is still used
        // for half its life, and 16 threads make one refresh.
        let http = rotating(50, 60);
        let source = Arc::new(OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            Arc::new(MemoryTokenStore::with_tokens(expired())),
        ));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let s = source.clone();
                std::thread::spawn(move || s.access_token().map(|t| t.expose().to_owned()))
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().expect("thread").expect("token"), "access-1");
        }
        assert_eq!(source.access_token().expect("token").expose(), "access-1");
        assert_eq!(http.calls.load(Ordering::SeqCst), 1);
        // A forced refresh rotates whatever the expiry.
        let t = source.refresh_now().expect("refresh");
        assert_eq!(t.access_token.expose(), "access-2");
        assert_eq!(t.expires_at, 10_000 + 60);
        assert_eq!(http.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_authorisation_resumes_from_its_state_and_verifier() {
        let first = cfg().authorization_request().expect("request");
        let again = cfg()
            .resume_authorization(first.state(), first.pkce().verifier().expose())
            .expect("resumed");
        assert_eq!(again.url(), first.url());
        assert_eq!(again.pkce().challenge(), first.pkce().challenge());
        let code = again
            .code_from_redirect(&format!(
                "http://127.0.0.1/cb?code=c1&state={}",
                first.state()
            ))
            .expect("code");
        assert_eq!(code.expose(), "c1");

        for (state, verifier) in [
            ("ok", "short".to_owned()),
            ("ok", "v".repeat(129)),
            ("ok", format!("{}!", "v".repeat(43))),
            ("has space", "v".repeat(43)),
            ("", "v".repeat(43)),
            ("tilde~is-not-irs", "v".repeat(43)),
            ("percent%20", "v".repeat(43)),
            ("ünïcode", "v".repeat(43)),
        ] {
            let e = cfg()
                .resume_authorization(state, verifier.as_str())
                .expect_err("refused");
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{state:?} {verifier:?}");
            assert!(!e.to_string().contains("vvvv"), "{e}");
        }
        // Every character IR lists is accepted, and survives the round trip
        // through the URL and the redirect back.
        let irs = "aZ09-.?,:'/\\+=$#_";
        let pkce = Pkce::generate().expect("pkce");
        let req = cfg()
            .authorization_request_with(irs.to_owned(), pkce)
            .expect("IR's characters");
        let back = url::Url::parse(req.url()).expect("url");
        let sent = back
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        assert_eq!(sent.as_deref(), Some(irs));
        let mut redirect = url::Url::parse("http://127.0.0.1/cb").expect("url");
        redirect
            .query_pairs_mut()
            .append_pair("code", "c2")
            .append_pair("state", irs);
        assert_eq!(
            req.code_from_redirect(redirect.as_str())
                .expect("state matches")
                .expose(),
            "c2"
        );
        let mut no_redirect = cfg();
        no_redirect.redirect_uri = String::new();
        let e = no_redirect
            .authorization_request()
            .expect_err("no redirect URI");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("`auth.redirect_uri`"), "{e}");
    }

    /// A token endpoint that answers a code exchange.
    struct Exchange(AtomicU32);

    impl FormPost for Exchange {
        fn post_form(
            &self,
            _url: &str,
            _basic: &str,
            form: &[(&str, &str)],
        ) -> Result<(u16, Vec<u8>), Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            assert!(form.contains(&("grant_type", "authorization_code")));
            assert!(form.contains(&("code", "the-code")));
            assert!(form.contains(&("redirect_uri", "https://app.example.test/callback")));
            assert!(
                form.iter()
                    .any(|(k, v)| *k == "code_verifier" && v.len() == 43)
            );
            Ok((
                200,
                br#"{"access_token":"a1","token_type":"Bearer","expires_in":"28800","refresh_token":"r1"}"#
                    .to_vec(),
            ))
        }
    }

    #[test]
    fn completing_an_authorisation_stores_the_grant() {
        let http = Arc::new(Exchange(AtomicU32::new(0)));
        let store = Arc::new(MemoryTokenStore::new());
        let source = OAuthTokenSource::new(
            OAuthClient::new(cfg(), http.clone()).with_clock(Arc::new(Clock0)),
            store.clone(),
        );
        let req = source.oauth().authorization_request().expect("request");
        // A forged redirect exchanges nothing.
        let e = source
            .complete_authorization(
                &req,
                "https://app.example.test/callback?code=the-code&state=x",
            )
            .expect_err("forged");
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(http.0.load(Ordering::SeqCst), 0);
        let t = source
            .complete_authorization(
                &req,
                &format!(
                    "https://app.example.test/callback?code=the-code&state={}",
                    req.state()
                ),
            )
            .expect("exchange");
        assert_eq!(t.expires_at, 10_000 + 28_800);
        assert_eq!(store.load().expect("load"), Some(t));
        assert_eq!(source.access_token().expect("token").expose(), "a1");
        assert_eq!(http.0.load(Ordering::SeqCst), 1);
    }
}

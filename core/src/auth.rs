//! How each call is authenticated: an M2M JWT, a static bearer token, a token
//! source that refreshes itself (OAuth), or nothing.

use std::fmt;
use std::sync::Arc;

use crate::config::Secret;
use crate::error::Error;
use crate::jwt::JwtSigner;

/// An OAuth access token. Cheap to clone; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken(Arc::from(token.into()))
    }

    /// The token itself; send it only to IR.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether two handles hold the very same token.
    pub fn same_as(&self, other: &AccessToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl From<&str> for AccessToken {
    fn from(s: &str) -> Self {
        AccessToken::new(s)
    }
}

impl From<String> for AccessToken {
    fn from(s: String) -> Self {
        AccessToken::new(s)
    }
}

/// A source of OAuth access tokens that keeps them current, e.g. by refreshing
/// with a (rotating) refresh token.
///
/// The client calls [`access_token`](TokenSource::access_token) before every
/// attempt, so it must be cheap when the token is still good (return a cached
/// [`AccessToken`]; cloning one is a reference-count increment). When the
/// gateway refuses a token with an authentication error (HTTP 401, not
/// EV1023/IR003/authorisation codes), the client calls
/// [`token_rejected`](TokenSource::token_rejected) once for that call; if it
/// answers `true`, the call is retried once with the next `access_token`.
///
/// Implementations are shared by every thread of the client: they must be
/// `Send + Sync` and should refresh at most once when many threads report the
/// same rejected token (compare it with the current one first).
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token that is valid now, refreshed first if it has expired or is about to.
    fn access_token(&self) -> Result<AccessToken, Error>;

    /// The gateway refused `rejected`. Make the next
    /// [`access_token`](TokenSource::access_token) return a fresh token if one
    /// can be had (refreshing now if `rejected` is still the current token), and
    /// answer whether retrying the call is worthwhile.
    fn token_rejected(&self, rejected: &AccessToken) -> Result<bool, Error>;
}

/// How the client authenticates each call.
#[derive(Clone, Default)]
pub enum Auth {
    /// M2M: a client-signed JWT sent as `Authorization: <jwt>`.
    Jwt(JwtSigner),
    /// A static bearer token sent as `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// OAuth: tokens from a source that refreshes them, sent as `Authorization: Bearer <token>`.
    TokenSource(Arc<dyn TokenSource>),
    /// No `Authorization` header.
    #[default]
    None,
}

impl Auth {
    /// A short name for logs and `Debug`: `jwt`, `bearer`, `token_source` or `none`.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::Jwt(_) => "jwt",
            Auth::Bearer(_) => "bearer",
            Auth::TokenSource(_) => "token_source",
            Auth::None => "none",
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Jwt(s) => f.debug_tuple("Jwt").field(s).finish(),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::TokenSource(s) => f.debug_tuple("TokenSource").field(s).finish(),
            Auth::None => f.write_str("None"),
        }
    }
}

impl From<JwtSigner> for Auth {
    fn from(s: JwtSigner) -> Self {
        Auth::Jwt(s)
    }
}

/// IR's OAuth token source plugs straight into the client.
impl TokenSource for crate::oauth::OAuthTokenSource {
    fn access_token(&self) -> Result<AccessToken, Error> {
        crate::oauth::OAuthTokenSource::access_token(self).map(|s| AccessToken::new(s.expose()))
    }

    fn token_rejected(&self, rejected: &AccessToken) -> Result<bool, Error> {
        let next = self.on_rejected(&Secret::new(rejected.expose()))?;
        Ok(next.expose() != rejected.expose())
    }
}

//! OAuth 2.0 as IR runs it: authorisation with PKCE (S256), code exchange and
//! rotating refresh tokens at the token endpoint (HTTP Basic client
//! authentication), introspection and revocation, and a self-refreshing token
//! source for the [`Client`](crate::Client).
//!
//! IR's refresh tokens are single-use, so [`OAuthTokenSource`] writes every new
//! token set to its [`TokenStore`] before the new access token is used, and
//! makes exactly one refresh call when many threads need one at once.

mod authorize;
mod client;
mod source;
mod store;
#[cfg(test)]
mod tests;
mod wire;

pub use authorize::{AuthorizationRequest, Pkce, parse_redirect};
use authorize::{check_state, is_unreserved, random_state};
pub use client::{FormPost, OAuthClient, OAuthClientConfig};
pub use source::{OAuthTokenSource, REFRESH_WAIT};
pub use store::{
    FileTokenStore, MemoryTokenStore, StoreLock, TokenSet, TokenStore, replace_private_file,
};
#[cfg(test)]
use wire::without_tokens;
pub use wire::{DEFAULT_EXPIRES_IN, Introspection, TokenKind, parse_token_response};
use wire::{OAuthErrorBody, oauth_error, token_response};

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

//! The token endpoint's answers and refusals, introspection, and keeping
//! credentials an answer quotes back out of error messages.

use std::fmt;

use serde::Deserialize;

use crate::config::Secret;
use crate::error::{Error, ErrorKind, parse_error_text, scrub};

use super::*;

/// Maps an OAuth `error` (RFC 6749) to a typed error.
/// `hide`: the credentials this call sent (client secret, token, code,
/// verifier), left out of the message however short they are.
pub(super) fn oauth_error(
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
pub(super) fn without_tokens(text: &str) -> String {
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
pub(super) struct OAuthErrorBody {
    pub(super) error: String,
    #[serde(default)]
    pub(super) error_description: Option<String>,
}

/// Default access-token lifetime when IR does not say (8 hours).
pub const DEFAULT_EXPIRES_IN: i64 = 28_800;

/// Parses the token endpoint's answer.
pub fn parse_token_response(status: u16, body: &[u8], now: i64) -> Result<TokenSet, Error> {
    token_response(status, body, now, &[])
}

/// [`parse_token_response`], leaving `hide` (what the call sent) out of an
/// error's message.
pub(super) fn token_response(
    status: u16,
    body: &[u8],
    now: i64,
    hide: &[&str],
) -> Result<TokenSet, Error> {
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
    pub(super) fn hint(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }
}

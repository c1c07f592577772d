//! OAuth through a client built with OAuth settings: complete an
//! authorisation, refresh, introspect, revoke. Every call goes to IR's OAuth
//! server over the client's TLS settings.

use napi::bindgen_prelude::*;
use nzpir::oauth::{Introspection, OAuthTokenSource, TokenKind, TokenSet, parse_redirect};
use nzpir::{Error, ErrorKind, Secret};

use super::Work;
use crate::error::Failure;

/// What a grant holds, without the secrets.
#[napi(object, use_nullable = true)]
pub struct TokenInfo {
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The granted scope (`MYIR.Services`).
    pub scope: Option<String>,
    /// Whether there is a refresh token (not for desktop applications).
    pub refreshable: bool,
}

impl From<&TokenSet> for TokenInfo {
    fn from(t: &TokenSet) -> Self {
        TokenInfo {
            expires_at: t.expires_at,
            scope: t.scope.clone(),
            refreshable: t.refresh_token.is_some(),
        }
    }
}

/// What IR's introspection endpoint says of a token.
#[napi(object, use_nullable = true)]
pub struct IntrospectionInfo {
    /// Whether the token is live.
    pub active: bool,
    /// The client it was issued to.
    pub client_id: Option<String>,
    /// The myIR logon.
    pub username: Option<String>,
    /// The scope.
    pub scope: Option<String>,
    /// The subject.
    pub sub: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: Option<i64>,
    /// Issue time, seconds since the Unix epoch.
    pub iat: Option<i64>,
}

impl From<Introspection> for IntrospectionInfo {
    fn from(i: Introspection) -> Self {
        IntrospectionInfo {
            active: i.active,
            client_id: i.client_id,
            username: i.username,
            scope: i.scope,
            sub: i.sub,
            exp: i.exp,
            iat: i.iat,
        }
    }
}

/// The client's OAuth token source, or a configuration error saying why not.
pub fn source_of(client: &nzpir::Client) -> std::result::Result<&OAuthTokenSource, Error> {
    client.oauth().map(|s| &**s).ok_or_else(|| {
        Error::config(
            "auth",
            "this client has no OAuth settings (create it with `oauth: {...}`)",
        )
    })
}

/// Checks the redirect back from IR, exchanges the code and stores the grant.
pub struct CompleteAuthorization {
    pub client: nzpir::Client,
    pub redirect: String,
    pub state: String,
    pub verifier: Secret,
}

impl Work for CompleteAuthorization {
    type Output = TokenInfo;
    type JsValue = TokenInfo;

    fn run(&mut self) -> std::result::Result<TokenInfo, Failure> {
        let source = source_of(&self.client)?;
        let code = parse_redirect(&self.redirect, &self.state)?;
        let tokens = source.oauth().exchange_code(&code, &self.verifier)?;
        let info = TokenInfo::from(&tokens);
        source.install(tokens)?;
        Ok(info)
    }

    fn to_js(&mut self, _: &Env, v: TokenInfo) -> Result<TokenInfo> {
        Ok(v)
    }
}

/// Refreshes the stored grant now.
pub struct Refresh {
    pub client: nzpir::Client,
}

impl Work for Refresh {
    type Output = TokenInfo;
    type JsValue = TokenInfo;

    fn run(&mut self) -> std::result::Result<TokenInfo, Failure> {
        let tokens = source_of(&self.client)?.refresh_now()?;
        Ok(TokenInfo::from(&tokens))
    }

    fn to_js(&mut self, _: &Env, v: TokenInfo) -> Result<TokenInfo> {
        Ok(v)
    }
}

/// A token given by the caller, or the stored one of `kind`.
fn token_for(
    source: &OAuthTokenSource,
    given: &Option<Secret>,
    kind: TokenKind,
) -> std::result::Result<Secret, Error> {
    if let Some(t) = given {
        return Ok(t.clone());
    }
    let stored = source.tokens()?.ok_or_else(|| {
        Error::new(
            ErrorKind::ConsentRequired,
            "OAuth: no tokens stored yet; a myIR user must authorise first",
        )
    })?;
    match kind {
        TokenKind::Access => Ok(stored.access_token),
        TokenKind::Refresh => stored.refresh_token.ok_or_else(|| {
            Error::new(
                ErrorKind::ConsentRequired,
                "OAuth: the stored grant has no refresh token",
            )
        }),
    }
}

/// Asks IR whether a token is live.
pub struct Introspect {
    pub client: nzpir::Client,
    pub token: Option<Secret>,
    pub kind: TokenKind,
}

impl Work for Introspect {
    type Output = IntrospectionInfo;
    type JsValue = IntrospectionInfo;

    fn run(&mut self) -> std::result::Result<IntrospectionInfo, Failure> {
        let source = source_of(&self.client)?;
        let token = token_for(source, &self.token, self.kind)?;
        Ok(source.oauth().introspect(&token, self.kind)?.into())
    }

    fn to_js(&mut self, _: &Env, v: IntrospectionInfo) -> Result<IntrospectionInfo> {
        Ok(v)
    }
}

/// Revokes a token at IR.
pub struct Revoke {
    pub client: nzpir::Client,
    pub token: Option<Secret>,
    pub kind: TokenKind,
}

impl Work for Revoke {
    type Output = ();
    type JsValue = ();

    fn run(&mut self) -> std::result::Result<(), Failure> {
        let source = source_of(&self.client)?;
        let token = token_for(source, &self.token, self.kind)?;
        Ok(source.oauth().revoke(&token, self.kind)?)
    }

    fn to_js(&mut self, _: &Env, _: ()) -> Result<()> {
        Ok(())
    }
}

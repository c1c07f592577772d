//! The registered client and the calls to IR's OAuth endpoints.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::Secret;
use crate::error::{Error, ErrorKind, parse_error_text};
use crate::validate::{Clock, SystemClock};

use super::*;

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
    pub(super) clock: Arc<dyn Clock>,
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

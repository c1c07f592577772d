//! `Client`: options in, the core's client out; every network call is a Promise.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use nzpir::oauth::TokenKind;
use nzpir::{
    Address, AuthSettings, ClientBuilder, Config, Connection, Environment, JwtSettings, Name,
    OAuthSettings, PirRequest, Secret, TlsSettings,
};

use crate::args::{Fields, Pem, string_arg};
use crate::error::{ArgError, Failure, throw};
use crate::store::JsTokenStore;
use crate::tasks::oauth::{IntrospectionInfo, TokenInfo};
use crate::tasks::{
    CompleteAuthorization, Introspect, Lookup, LookupResult, Refresh, Revoke, Status, oauth, spawn,
};

/// What the User-Agent says after `nzpir/<version>`.
const USER_AGENT_SUFFIX: &str = "node";

const OPTION_KEYS: &[&str] = &[
    "environment",
    "connection",
    "endpoint",
    "cert",
    "key",
    "ca",
    "pkcs12",
    "pkcs12Password",
    "jwtCert",
    "jwtKey",
    "jwtPkcs12",
    "jwtPkcs12Password",
    "jwtAlg",
    "issuer",
    "startLogon",
    "unsetStartLogon",
    "jwtTtl",
    "bearerToken",
    "oauth",
    "timeout",
    "connectTimeout",
    "maxRetries",
    "retryBaseDelay",
    "proxy",
    "validateLocally",
];

const JWT_KEYS: &[&str] = &[
    "jwtCert",
    "jwtKey",
    "jwtPkcs12",
    "jwtPkcs12Password",
    "jwtAlg",
    "issuer",
    "startLogon",
    "unsetStartLogon",
    "jwtTtl",
];

/// Milliseconds (JavaScript's unit) to the configuration's seconds.
fn ms(f: &Fields<'_>, key: &str) -> std::result::Result<Option<f64>, ArgError> {
    Ok(f.seconds(key)?.map(|v| v / 1000.0))
}

fn one_of<T>(
    f: &Fields<'_>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> std::result::Result<Option<T>, ArgError> {
    match f.string(key)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| ArgError::new(f.path_of(key), format!("must be one of {allowed}"))),
    }
}

fn pem_into(pem: Option<Pem>, path: &mut Option<std::path::PathBuf>, text: &mut Option<String>) {
    match pem {
        Some(Pem::Path(p)) => *path = Some(p),
        Some(Pem::Text(t)) => *text = Some(t),
        None => {}
    }
}

/// The token store option: a file path, or an object with `load`/`save`.
enum StoreOption {
    Path(std::path::PathBuf),
    Object(JsTokenStore),
}

fn store_option(f: &Fields<'_>) -> std::result::Result<Option<StoreOption>, ArgError> {
    let key = "tokenStore";
    let Some(v) = f.value(key)? else {
        return Ok(None);
    };
    let path = f.path_of(key);
    if let Ok(s) = string_arg(&v, &path) {
        if s.is_empty() {
            return Err(ArgError::new(path, "must not be empty"));
        }
        return Ok(Some(StoreOption::Path(s.into())));
    }
    let store = Fields::new(v, &path).map_err(|_| {
        ArgError::new(
            &path,
            "must be a file path or an object with async load() and save(tokens)",
        )
    })?;
    Ok(Some(StoreOption::Object(JsTokenStore::new(&store)?)))
}

/// The client options as the shared configuration schema, plus a token
/// store written in JavaScript, if one was given.
fn config_from(
    options: Unknown<'_>,
) -> std::result::Result<(Config, Option<JsTokenStore>), ArgError> {
    let f = Fields::new(options, "options")?;
    f.only(OPTION_KEYS)?;
    let mut cfg = Config {
        environment: one_of(
            &f,
            "environment",
            |s| s.parse::<Environment>().ok(),
            "production, test, mock, sandbox",
        )?,
        connection: one_of(
            &f,
            "connection",
            |s| match s {
                "cloud" => Some(Connection::Cloud),
                "desktop" => Some(Connection::Desktop),
                _ => None,
            },
            "cloud, desktop",
        )?,
        endpoint: f.string("endpoint")?,
        timeout_secs: ms(&f, "timeout")?,
        connect_timeout_secs: ms(&f, "connectTimeout")?,
        max_retries: f.count("maxRetries")?,
        retry_base_delay_secs: ms(&f, "retryBaseDelay")?,
        proxy: f.string("proxy")?,
        validate_locally: f.boolean("validateLocally")?,
        ..Config::default()
    };
    if cfg.environment.is_none() && cfg.endpoint.is_none() {
        return Err(ArgError::new(
            "options",
            "needs `environment` (production, test, mock, sandbox) or `endpoint`",
        ));
    }

    let mut tls = TlsSettings::default();
    let cert = f.pem("cert")?;
    let key = f.pem("key")?;
    tls.client_pkcs12 = f.string("pkcs12")?.map(Into::into);
    tls.client_pkcs12_password = f.string("pkcs12Password")?.map(Secret::new);
    if tls.client_pkcs12.is_none() && cert.is_some() != key.is_some() {
        let missing = if cert.is_some() { "key" } else { "cert" };
        return Err(ArgError::new(
            f.path_of(missing),
            "is required with the other half of the client certificate",
        ));
    }
    pem_into(cert, &mut tls.client_cert, &mut tls.client_cert_pem);
    let mut key_text = None;
    pem_into(key, &mut tls.client_key, &mut key_text);
    tls.client_key_pem = key_text.map(Secret::new);
    pem_into(f.pem("ca")?, &mut tls.ca_cert, &mut tls.ca_cert_pem);
    cfg.tls = tls;

    let jwt_given = JWT_KEYS.iter().any(|k| matches!(f.value(k), Ok(Some(_))));
    let bearer = f.string("bearerToken")?;
    let oauth = f.fields("oauth")?;
    let chosen: Vec<&str> = [
        jwt_given.then_some("jwtCert"),
        bearer.is_some().then_some("bearerToken"),
        oauth.is_some().then_some("oauth"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if chosen.len() > 1 {
        return Err(ArgError::new(
            "options",
            format!(
                "gives more than one kind of auth ({}): choose one",
                chosen.join(", ")
            ),
        ));
    }
    let mut js_store = None;
    cfg.auth = if jwt_given {
        let mut j = JwtSettings::default();
        let cert = f.pem("jwtCert")?;
        let key = f.pem("jwtKey")?;
        j.pkcs12 = f.string("jwtPkcs12")?.map(Into::into);
        j.pkcs12_password = f.string("jwtPkcs12Password")?.map(Secret::new);
        if j.pkcs12.is_none() && (cert.is_none() || key.is_none()) {
            let missing = if cert.is_none() { "jwtCert" } else { "jwtKey" };
            return Err(ArgError::new(
                f.path_of(missing),
                "is required for JWT auth",
            ));
        }
        pem_into(cert, &mut j.cert, &mut j.cert_pem);
        let mut key_text = None;
        pem_into(key, &mut j.key, &mut key_text);
        j.key_pem = key_text.map(Secret::new);
        j.alg = f.string("jwtAlg")?;
        j.issuer = f.string("issuer")?;
        j.start_logon = f.string("startLogon")?;
        j.unset_start_logon = f.string("unsetStartLogon")?;
        j.ttl_secs = ms(&f, "jwtTtl")?.map(|s| s.round() as u64);
        Some(AuthSettings::Jwt(j))
    } else if let Some(token) = bearer {
        Some(AuthSettings::Bearer {
            token: Secret::new(token),
        })
    } else if let Some(o) = oauth {
        o.only(&[
            "clientId",
            "clientSecret",
            "redirectUri",
            "endpoint",
            "tokenStore",
        ])?;
        let mut s = OAuthSettings {
            client_id: Some(o.required_string("clientId")?),
            client_secret: Some(Secret::new(o.required_string("clientSecret")?)),
            redirect_uri: o.string("redirectUri")?,
            endpoint: o.string("endpoint")?,
            token_store: None,
        };
        match store_option(&o)? {
            Some(StoreOption::Path(p)) => s.token_store = Some(p),
            Some(StoreOption::Object(store)) => js_store = Some(store),
            None => {
                return Err(ArgError::new(
                    o.path_of("tokenStore"),
                    "is required: a file path or an object with async load() and save(tokens)",
                ));
            }
        }
        Some(AuthSettings::Oauth(s))
    } else {
        None
    };
    Ok((cfg, js_store))
}

fn build(cfg: &Config, store: Option<JsTokenStore>) -> std::result::Result<nzpir::Client, Failure> {
    let mut b = ClientBuilder::from_config(cfg)?.user_agent_suffix(USER_AGENT_SUFFIX);
    if let Some(store) = store {
        b = b.token_store(Arc::new(store));
    }
    Ok(b.build()?)
}

/// The lookup request: IR's fields in JavaScript's spelling, through the
/// core's builder (the core validates every rule before anything is sent).
fn request_from(v: Unknown<'_>) -> std::result::Result<PirRequest, ArgError> {
    request_at(v, "request")
}

/// [`request_from`] for the argument at `path` (`requests[3]` in `lookupMany`).
pub(crate) fn request_at(v: Unknown<'_>, path: &str) -> std::result::Result<PirRequest, ArgError> {
    let f = Fields::new(v, path)?;
    f.only(&[
        "ird",
        "pieIrd",
        "filingPeriod",
        "formattedName",
        "name",
        "dob",
        "formattedAddress",
        "address",
    ])?;
    let mut b = PirRequest::builder(f.required_string("ird")?);
    if let Some(v) = f.string("pieIrd")? {
        b = b.pie_ird(v);
    }
    if let Some(v) = f.period("filingPeriod")? {
        b = b.filing_period(v);
    }
    if let Some(v) = f.string("formattedName")? {
        b = b.formatted_name(v);
    }
    if let Some(v) = f.date("dob")? {
        b = b.dob(v);
    }
    if let Some(v) = f.string("formattedAddress")? {
        b = b.formatted_address(v);
    }
    if let Some(n) = f.fields("name")? {
        n.only(&["firstName", "middleName", "lastName"])?;
        let mut name = Name::empty();
        if let Some(v) = n.string("firstName")? {
            name = name.with_first_name(v);
        }
        if let Some(v) = n.string("middleName")? {
            name = name.with_middle_name(v);
        }
        if let Some(v) = n.string("lastName")? {
            name = name.with_last_name(v);
        }
        b = b.name(name);
    }
    if let Some(a) = f.fields("address")? {
        a.only(&["street", "city", "postCode", "state", "country"])?;
        let mut addr = Address::empty();
        if let Some(v) = a.string("street")? {
            addr = addr.with_street(v);
        }
        if let Some(v) = a.string("city")? {
            addr = addr.with_city(v);
        }
        if let Some(v) = a.string("postCode")? {
            addr = addr.with_post_code(v);
        }
        if let Some(v) = a.string("state")? {
            addr = addr.with_state(v);
        }
        if let Some(v) = a.string("country")? {
            addr = addr.with_country(v);
        }
        b = b.address(addr);
    }
    Ok(b.build())
}

/// A start of an OAuth authorisation: send the person's browser to `url`,
/// keep `state` and `codeVerifier` (secret) for `completeAuthorization`.
#[napi(object)]
pub struct AuthorizationRequest {
    /// IR's authorize URL with every parameter (PKCE S256, scope, state).
    pub url: String,
    /// The `state` sent; the redirect back must carry the same.
    pub state: String,
    /// The PKCE code verifier: a secret, needed once for the code exchange.
    pub code_verifier: String,
}

fn token_kind(
    f: Option<&Fields<'_>>,
    default: TokenKind,
) -> std::result::Result<(Option<Secret>, TokenKind), ArgError> {
    let Some(f) = f else {
        return Ok((None, default));
    };
    f.only(&["token", "kind"])?;
    let kind = match f.string("kind")?.as_deref() {
        None => default,
        Some("access") => TokenKind::Access,
        Some("refresh") => TokenKind::Refresh,
        Some(_) => {
            return Err(ArgError::new(
                f.path_of("kind"),
                "must be `access` or `refresh`",
            ));
        }
    };
    Ok((f.string("token")?.map(Secret::new), kind))
}

/// A client of IR's PIR gateway. Build one at start-up and share it: it keeps
/// connections alive and reuses its JWT. Constructing it reads the
/// certificate and key files (synchronously, once); every call that talks to
/// IR returns a Promise and runs on the binding's own threads.
#[napi]
pub struct Client {
    pub(crate) inner: nzpir::Client,
    /// The settings it was built from, for `doctor()`.
    config: Config,
}

/// One check of `doctor()`.
#[napi(object, use_nullable = true)]
pub struct DoctorCheck {
    /// A stable name, e.g. `client_cert.dates`, `gateway.tls`.
    pub id: String,
    /// `ok`, `warn`, `fail` or `skip`.
    pub status: String,
    /// What was found.
    pub detail: String,
    /// What to do (warnings and failures), else `null`.
    pub action: Option<String>,
    /// A failure's class (`config`, `authentication`, `tls`, `transport`...), else `null`.
    pub kind: Option<String>,
}

/// The core's doctor on a configuration, off the JavaScript thread.
pub struct Doctor {
    pub config: Option<std::result::Result<Config, Failure>>,
    pub ird: Option<String>,
    pub pie_ird: Option<String>,
}

impl crate::tasks::Work for Doctor {
    type Output = nzpir::doctor::Report;
    type JsValue = Vec<DoctorCheck>;

    fn run(&mut self) -> std::result::Result<nzpir::doctor::Report, Failure> {
        let cfg = match self.config.take() {
            Some(c) => c?,
            None => return Err(Failure::Arg(ArgError::new("doctor", "ran twice"))),
        };
        Ok(nzpir::doctor::run(
            &cfg,
            &nzpir::doctor::Options {
                ird: self.ird.take(),
                pie_ird: self.pie_ird.take(),
                ..nzpir::doctor::Options::default()
            },
        ))
    }

    fn to_js(&mut self, _: &Env, r: nzpir::doctor::Report) -> Result<Vec<DoctorCheck>> {
        Ok(r.checks
            .into_iter()
            .map(|c| DoctorCheck {
                id: c.id.to_owned(),
                status: c.status.as_str().to_owned(),
                detail: c.detail,
                action: c.action,
                kind: c.kind.map(|k| k.as_str().to_owned()),
            })
            .collect())
    }
}

/// `{ ird, pieIrd }` for a doctor run.
fn doctor_options(
    options: Option<Unknown<'_>>,
) -> std::result::Result<(Option<String>, Option<String>), ArgError> {
    match Fields::optional(options, "options")? {
        None => Ok((None, None)),
        Some(o) => {
            o.only(&["ird", "pieIrd"])?;
            Ok((o.string("ird")?, o.string("pieIrd")?))
        }
    }
}

/// Checks a configuration file (`nzpir.toml`) against IR's requirements and
/// the live gateway: the client certificate and key, the JWT credential,
/// DNS, TCP, the TLS handshake, the clock against the gateway's `Date`, the
/// status endpoint and, with `options.ird`, one real lookup. Resolves with
/// one `DoctorCheck` per check (it does not reject for a failed check).
#[napi(
    ts_args_type = "configPath: string, options?: DoctorOptions",
    ts_return_type = "Promise<DoctorCheck[]>"
)]
pub fn doctor<'env>(
    env: &'env Env,
    config_path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Result<PromiseRaw<'env, Vec<DoctorCheck>>> {
    let (ird, pie_ird, config) = match (
        string_arg(&config_path, "configPath"),
        doctor_options(options),
    ) {
        (Ok(path), Ok((ird, pie))) => (ird, pie, Config::from_file(&path).map_err(Failure::from)),
        (Err(e), _) | (_, Err(e)) => (None, None, Err(Failure::Arg(e))),
    };
    let config = Some(config);
    spawn(
        env,
        Doctor {
            config,
            ird,
            pie_ird,
        },
    )
}

#[napi]
impl Client {
    /// A client from options. Throws `TypeError` (`NZPIR_INVALID_ARG`) for a
    /// wrong option and `Error` (`NZPIR_CONFIG`) for a configuration that
    /// cannot work (unreadable file, PEM that does not parse, missing auth).
    #[napi(constructor, ts_args_type = "options: ClientOptions")]
    pub fn new(env: Env, options: Unknown<'_>) -> Result<Self> {
        let (cfg, store) = throw(&env, config_from(options))?;
        throw(&env, build(&cfg, store)).map(|inner| Client { inner, config: cfg })
    }

    /// A client from a configuration file (`nzpir.toml`, or `.json`), as the
    /// CLI and every other binding read it; relative paths in it are relative
    /// to the file. `options.tokenStore` replaces the file's OAuth
    /// `token_store` with a store object.
    #[napi(factory, ts_args_type = "path: string, options?: FromConfigOptions")]
    pub fn from_config(env: Env, path: Unknown<'_>, options: Option<Unknown<'_>>) -> Result<Self> {
        let path = throw(&env, string_arg(&path, "path"))?;
        let store = match throw(&env, Fields::optional(options, "options"))? {
            None => None,
            Some(o) => {
                throw(&env, o.only(&["tokenStore"]))?;
                match throw(&env, store_option(&o))? {
                    Some(StoreOption::Object(s)) => Some(s),
                    Some(StoreOption::Path(p)) => {
                        let mut cfg = throw(&env, Config::from_file(&path))?;
                        if let Some(AuthSettings::Oauth(o)) = &mut cfg.auth {
                            o.token_store = Some(p);
                        }
                        return throw(&env, build(&cfg, None))
                            .map(|inner| Client { inner, config: cfg });
                    }
                    None => None,
                }
            }
        };
        let mut cfg = throw(&env, Config::from_file(&path))?;
        if store.is_some()
            && let Some(AuthSettings::Oauth(o)) = &mut cfg.auth
        {
            // The store object replaces the file the configuration names.
            o.token_store = None;
        }
        throw(&env, build(&cfg, store)).map(|inner| Client { inner, config: cfg })
    }

    /// Reads the client certificate and key files again now and uses them
    /// for new connections if they make a valid pair. Returns `true` when a
    /// different certificate is now in use. Throws `NZPIR_CONFIG` (naming the
    /// setting) when the files are broken or do not match; the pair in use is
    /// then kept. (The files are also checked, by modification time and at
    /// most every 5 seconds, whenever a new connection opens.)
    #[napi]
    pub fn reload_identity(&self, env: Env) -> Result<bool> {
        throw(&env, self.inner.reload_identity())
    }

    /// When the client certificate in use expires, in milliseconds since the
    /// epoch (`identityExpiresAt` gives it as a `Date`), or `null`.
    #[napi(getter)]
    pub fn identity_not_after_ms(&self) -> Option<f64> {
        self.inner.identity_not_after().map(|s| s as f64 * 1000.0)
    }

    /// The SHA-256 thumbprint of the client certificate in use, or `null`.
    #[napi(getter)]
    pub fn identity_thumbprint(&self) -> Option<String> {
        self.inner.identity().map(|i| i.thumbprint().to_owned())
    }

    /// Runs `doctor()`'s checks on the settings this client was built from.
    #[napi(
        ts_args_type = "options?: DoctorOptions",
        ts_return_type = "Promise<DoctorCheck[]>"
    )]
    pub fn doctor<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<DoctorCheck>>> {
        let (ird, pie_ird, config) = match doctor_options(options) {
            Ok((i, p)) => (i, p, Ok(self.config.clone())),
            Err(e) => (None, None, Err(Failure::Arg(e))),
        };
        let config = Some(config);
        spawn(
            env,
            Doctor {
                config,
                ird,
                pie_ird,
            },
        )
    }

    /// Asks IR for an investor's suggested PIR. Resolves with the rate (or
    /// `notFound`); rejects with an `Error` whose `code` says why (see the
    /// README), or a `TypeError` for a request that is not the right shape.
    /// The request is checked locally first; nothing is sent if it breaks a rule.
    #[napi(
        ts_args_type = "request: LookupRequest",
        ts_return_type = "Promise<LookupResult>"
    )]
    pub fn lookup<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, LookupResult>> {
        spawn(
            env,
            Lookup {
                client: self.inner.clone(),
                request: request_from(request),
            },
        )
    }

    /// Checks the gateway's status endpoint (reachability, TLS, the client
    /// certificate). Resolves with nothing; rejects with a typed error.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn status<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        spawn(
            env,
            Status {
                client: self.inner.clone(),
            },
        )
    }

    /// The gateway's base URL.
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.inner.endpoint().to_owned()
    }

    /// The `User-Agent` sent with every call (`nzpir/<version> node`).
    #[napi(getter)]
    pub fn user_agent(&self) -> String {
        self.inner.user_agent().to_owned()
    }

    /// OAuth: starts an authorisation (a fresh `state` and PKCE pair, and the
    /// URL to send the person's browser to). Needs `oauth.redirectUri`.
    #[napi]
    pub fn authorization_request(&self, env: Env) -> Result<AuthorizationRequest> {
        let req = throw(
            &env,
            oauth::source_of(&self.inner).and_then(|s| s.oauth().authorization_request()),
        )?;
        Ok(AuthorizationRequest {
            url: req.url().to_owned(),
            state: req.state().to_owned(),
            code_verifier: req.pkce().verifier().expose().to_owned(),
        })
    }

    /// OAuth: checks the redirect back from IR (its full URL or query)
    /// against `pending.state`, exchanges the code with `pending.codeVerifier`,
    /// and saves the grant to the token store. Resolves with what was granted
    /// (no secrets).
    #[napi(
        ts_args_type = "redirectUrl: string, pending: { state: string; codeVerifier: string }",
        ts_return_type = "Promise<TokenInfo>"
    )]
    pub fn complete_authorization<'env>(
        &self,
        env: &'env Env,
        redirect_url: Unknown<'_>,
        pending: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, TokenInfo>> {
        let redirect = throw(env, string_arg(&redirect_url, "redirectUrl"))?;
        let p = throw(env, Fields::new(pending, "pending"))?;
        throw(env, p.only(&["state", "codeVerifier", "url"]))?;
        let state = throw(env, p.required_string("state"))?;
        let verifier = throw(env, p.required_string("codeVerifier"))?;
        spawn(
            env,
            CompleteAuthorization {
                client: self.inner.clone(),
                redirect,
                state,
                verifier: Secret::new(verifier),
            },
        )
    }

    /// OAuth: refreshes the stored grant now (IR's refresh tokens are
    /// single-use; the new set is saved before it is used).
    #[napi(ts_return_type = "Promise<TokenInfo>")]
    pub fn refresh_token<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, TokenInfo>> {
        spawn(
            env,
            Refresh {
                client: self.inner.clone(),
            },
        )
    }

    /// OAuth: asks IR whether a token is live: `options.token`, or else the
    /// stored token of `options.kind` (`access`, the default, or `refresh`).
    #[napi(
        ts_args_type = "options?: { token?: string; kind?: 'access' | 'refresh' }",
        ts_return_type = "Promise<IntrospectionInfo>"
    )]
    pub fn introspect_token<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, IntrospectionInfo>> {
        let f = throw(env, Fields::optional(options, "options"))?;
        let (token, kind) = throw(env, token_kind(f.as_ref(), TokenKind::Access))?;
        spawn(
            env,
            Introspect {
                client: self.inner.clone(),
                token,
                kind,
            },
        )
    }

    /// OAuth: revokes a token at IR: `options.token`, or else the stored token
    /// of `options.kind` (`refresh`, the default, which also ends the access
    /// token issued with it; or `access`).
    #[napi(
        ts_args_type = "options?: { token?: string; kind?: 'access' | 'refresh' }",
        ts_return_type = "Promise<void>"
    )]
    pub fn revoke_token<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let f = throw(env, Fields::optional(options, "options"))?;
        let (token, kind) = throw(env, token_kind(f.as_ref(), TokenKind::Refresh))?;
        spawn(
            env,
            Revoke {
                client: self.inner.clone(),
                token,
                kind,
            },
        )
    }
}

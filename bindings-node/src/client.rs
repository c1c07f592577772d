//! `Client`: options in, the core's client out; every network call is a Promise.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use nzpir::oauth::TokenKind;
use nzpir::options::{Options, Setting, Surface, Value as Raw};
use nzpir::{Address, ClientBuilder, Config, Name, PirRequest, Secret};

use crate::args::{Fields, string_arg};
use crate::error::{ArgError, Failure, throw};
use crate::store::JsTokenStore;
use crate::tasks::oauth::{IntrospectionInfo, TokenInfo};
use crate::tasks::{
    CompleteAuthorization, Introspect, Lookup, LookupResult, Refresh, Revoke, Status, oauth, spawn,
};

/// What the User-Agent says after `nzpir/<version>`.
const USER_AGENT_SUFFIX: &str = "node";

/// A JavaScript value as the core's raw setting value: the core checks
/// types, ranges and every rule, and names the option in its errors.
pub(crate) fn raw(v: &Unknown<'_>, path: &str) -> std::result::Result<Raw, ArgError> {
    use napi::ValueType as T;
    let unreadable = || ArgError::new(path, "could not be read");
    Ok(match v.get_type() {
        Ok(T::String) => Raw::Str(string_arg(v, path)?),
        Ok(T::Number) => Raw::Float(unsafe { v.cast::<f64>() }.map_err(|_| unreadable())?),
        Ok(T::Boolean) => Raw::Bool(unsafe { v.cast::<bool>() }.map_err(|_| unreadable())?),
        Ok(T::Object) if v.is_buffer().unwrap_or(false) => Raw::Bytes(
            unsafe { v.cast::<BufferSlice<'_>>() }
                .map_err(|_| unreadable())?
                .to_vec(),
        ),
        Ok(T::Object) if v.is_array().unwrap_or(false) => Raw::Other("an array"),
        Ok(T::Object) => Raw::Other("an object"),
        Ok(T::Function) => Raw::Other("a function"),
        _ => Raw::Other("another type"),
    })
}

/// Puts one option into `o` by its name; unknown names are a TypeError.
fn set(o: &mut Options, name: &str, v: &Unknown<'_>) -> std::result::Result<(), Failure> {
    let path = format!("options.{name}");
    if Setting::from_name(Surface::Node, name).is_none() {
        let shown: String = path.chars().take(60).collect();
        return Err(ArgError::new("options", format!("has no field `{shown}`")).into());
    }
    o.set(name, raw(v, &path)?)?;
    Ok(())
}

/// The client options, through the core's options schema, plus a token
/// store written in JavaScript, if one was given.
fn config_from(
    options: Unknown<'_>,
) -> std::result::Result<(Config, Option<JsTokenStore>), Failure> {
    let f = Fields::new(options, "options")?;
    let mut o = Options::new(Surface::Node);
    let mut js_store = None;
    let keys =
        Object::keys(f.object()).map_err(|_| ArgError::new("options", "could not be read"))?;
    for key in keys {
        let Some(v) = f.value(&key)? else { continue };
        if key != "oauth" {
            set(&mut o, &key, &v)?;
            continue;
        }
        // `options.oauth` holds the OAuth settings (`oauth.clientId`, ...).
        let oauth = Fields::new(v, "options.oauth")?;
        let keys = Object::keys(oauth.object())
            .map_err(|_| ArgError::new("options.oauth", "could not be read"))?;
        for k in keys {
            let Some(v) = oauth.value(&k)? else { continue };
            if k == "tokenStore" && matches!(v.get_type(), Ok(napi::ValueType::Object)) {
                let path = oauth.path_of(&k);
                let store = Fields::new(v, &path)?;
                js_store = Some(JsTokenStore::new(&store)?);
                o.host_token_store();
                continue;
            }
            set(&mut o, &format!("oauth.{k}"), &v)?;
        }
    }
    Ok((o.to_config()?, js_store))
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
        let mut cfg = throw(&env, Config::from_file(&path))?;
        let mut store = None;
        if let Some(o) = throw(&env, Fields::optional(options, "options"))? {
            throw(&env, o.only(&["tokenStore"]))?;
            if let Some(v) = throw(&env, o.value("tokenStore"))? {
                let field = o.path_of("tokenStore");
                let file = match string_arg(&v, &field) {
                    Ok(p) => Some(p.into()),
                    Err(_) => {
                        let fields = throw(&env, Fields::new(v, &field))?;
                        store = Some(throw(&env, JsTokenStore::new(&fields))?);
                        None
                    }
                };
                throw(&env, nzpir::options::override_token_store(&mut cfg, file))?;
            }
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

//! The blocking client for IR's PIR gateway.
//!
//! Build one [`Client`] and share it: it is `Send + Sync`, cloning it is an
//! `Arc` increment, and every clone uses the same kept-alive connections and
//! the same cached JWT.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use rustls_pki_types::CertificateDer;
use ureq::http::HeaderValue;

use crate::auth::{AccessToken, Auth, TokenSource};
use crate::config::{
    AuthSettings, Config, Connection, Environment, JwtSettings, OAuthSettings, Secret, TlsSettings,
};
use crate::error::{Error, ErrorKind, IrCode, IrErrorBody};
use crate::jwt::{Jwt, JwtSigner};
use crate::model::{PirOutcome, PirRequest, PirResponse};
use crate::oauth::{
    FileTokenStore, FormPost, OAuthClient, OAuthClientConfig, OAuthTokenSource, TokenStore,
};
use crate::operation::{Authorization, LOOKUP, Operation, Resend, STATUS};
use crate::options::{Options, Setting, Surface};
use crate::renewal::{IdentityFiles, LiveIdentity};
use crate::retry::RetryPolicy;
use crate::tls::{self, Identity};
use crate::transport::{Answer, Endpoint, ProxySetting, Transport, TransportOptions};
use crate::validate::{Clock, SystemClock};

/// IR's gateway times out at about 60 s; each attempt waits a little longer
/// (65 s), so that IR's own timeout answer arrives rather than the client
/// giving up on a request IR may still be processing (and counting).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(65);
/// Default time to open a connection (TCP, proxy and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of idle connections kept open for reuse.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 32;

enum IdentitySource {
    Loaded(Identity),
    Pem { cert: Vec<u8>, key: Secret },
    Pkcs12 { data: Vec<u8>, password: Secret },
    Files(IdentityFiles),
}

/// The settings a client runs with: one struct from the builder to the
/// built client (defaults filled in). [`ClientBuilder::build`] takes it apart
/// exhaustively, so a new field does not compile until it is used.
#[derive(Clone)]
struct Settings {
    environment: Option<Environment>,
    connection: Connection,
    endpoint: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    proxy: ProxySetting,
    validate_locally: bool,
    user_agent_suffix: Option<String>,
    max_idle_connections: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            environment: None,
            connection: Connection::Cloud,
            endpoint: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            proxy: ProxySetting::FromEnv,
            validate_locally: true,
            user_agent_suffix: None,
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
        }
    }
}

/// Builds a [`Client`]. Nothing is read or checked until [`build`](Self::build),
/// which fails with an [`ErrorKind::Config`] error naming the setting.
pub struct ClientBuilder {
    settings: Settings,
    identity: Option<IdentitySource>,
    extra_roots: Vec<(String, Vec<u8>)>,
    auth: Auth,
    /// JWT settings, made into a signer in `build` (with the final clock).
    jwt: Option<JwtSettings>,
    clock: Arc<dyn Clock>,
    oauth: Option<OAuthSettings>,
    token_store: Option<Arc<dyn TokenStore>>,
    error: Option<Error>,
    /// Where the configuration's settings were given, for errors' names.
    sources: crate::config::Sources,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.settings.environment)
            .field("endpoint", &self.settings.endpoint)
            .field("auth", &self.auth)
            .field("timeout", &self.settings.timeout)
            .field("retry", &self.settings.retry)
            .field("max_idle_connections", &self.settings.max_idle_connections)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: 65 s per attempt, 10 s to connect, two
    /// retries, proxy from the environment, local validation on, no auth.
    pub fn new() -> Self {
        ClientBuilder {
            settings: Settings::default(),
            identity: None,
            extra_roots: Vec::new(),
            auth: Auth::None,
            jwt: None,
            clock: Arc::new(SystemClock),
            oauth: None,
            token_store: None,
            error: None,
            sources: crate::config::Sources::default(),
        }
    }

    /// A builder from a configuration (the TOML/JSON schema every surface
    /// shares). Its settings go through the options schema's rules first
    /// ([`crate::options`]); files it names are read here; errors name the
    /// setting.
    pub fn from_config(cfg: &Config) -> Result<Self, Error> {
        // A file that cannot be read is named where it was given.
        Self::from_checked(&Options::from_config(cfg, Surface::Toml).to_config()?)
            .map_err(|e| e.given_where(&cfg.sources))
    }

    fn from_checked(cfg: &Config) -> Result<Self, Error> {
        let mut b = ClientBuilder::new();
        b.sources = cfg.sources.clone();
        let s = &mut b.settings;
        s.environment = cfg.environment;
        s.connection = cfg.connection.unwrap_or_default();
        s.endpoint.clone_from(&cfg.endpoint);
        if let Some(t) = cfg.timeout_secs {
            s.timeout = Duration::from_secs_f64(t);
        }
        if let Some(t) = cfg.connect_timeout_secs {
            s.connect_timeout = Duration::from_secs_f64(t);
        }
        if let Some(n) = cfg.max_retries {
            s.retry = RetryPolicy::new(n);
        }
        if let Some(d) = cfg.retry_base_delay_secs {
            s.retry = s.retry.with_base_delay(Duration::from_secs_f64(d));
        }
        if let Some(p) = &cfg.proxy {
            s.proxy = ProxySetting::Url(p.clone());
        }
        if let Some(v) = cfg.validate_locally {
            s.validate_locally = v;
        }
        if let Some(n) = cfg.max_idle_connections {
            s.max_idle_connections = n;
        }
        b.identity = identity_from_settings(&cfg.tls)?;
        if let Some(path) = &cfg.tls.ca_cert {
            let pem = crate::pem::read_file("tls.ca_cert", path)?;
            b.extra_roots.push(("tls.ca_cert".to_owned(), pem.to_vec()));
        }
        if let Some(text) = &cfg.tls.ca_cert_pem {
            b.extra_roots
                .push(("tls.ca_cert_pem".to_owned(), text.as_bytes().to_vec()));
        }
        b.auth = match &cfg.auth {
            None | Some(AuthSettings::None) => Auth::None,
            Some(AuthSettings::Bearer { token }) => Auth::Bearer(token.clone()),
            Some(AuthSettings::Jwt(j)) => {
                // Made into a signer in `build`, with the clock given by then.
                b.jwt = Some(j.clone());
                Auth::None
            }
            Some(AuthSettings::Oauth(o)) => {
                // Built in `build`, once the transport it refreshes through exists.
                b.oauth = Some(o.clone());
                Auth::None
            }
        };
        Ok(b)
    }

    /// IR's environment (its base URL unless [`endpoint`](Self::endpoint) is set).
    #[must_use]
    pub fn environment(mut self, env: Environment) -> Self {
        self.settings.environment = Some(env);
        self
    }

    /// Cloud (mutual TLS, the default) or desktop.
    #[must_use]
    pub fn connection(mut self, connection: Connection) -> Self {
        self.settings.connection = connection;
        self
    }

    /// The gateway's base URL (`https://host:port`); the client appends
    /// `/gateway/calculators/pir` and `/gateway/calculators/status`.
    #[must_use]
    pub fn endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.settings.endpoint = Some(base_url.into());
        self
    }

    /// The client certificate for mutual TLS.
    #[must_use]
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(IdentitySource::Loaded(identity));
        self
    }

    /// The client certificate and key as PEM text (read in `build`).
    #[must_use]
    pub fn identity_pem(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some(IdentitySource::Pem {
            cert: cert_pem.into(),
            key: Secret::new(key_pem.into()),
        });
        self
    }

    /// The client certificate and key from a PKCS#12 bundle (`.p12`/`.pfx`)
    /// held in memory, opened with `password` (read in `build`).
    #[must_use]
    pub fn identity_pkcs12(
        mut self,
        data: impl Into<Vec<u8>>,
        password: impl Into<String>,
    ) -> Self {
        self.identity = Some(IdentitySource::Pkcs12 {
            data: data.into(),
            password: Secret::new(password.into()),
        });
        self
    }

    /// The client certificate and key from a PKCS#12 file, opened with
    /// `password` (read in `build`). Like [`identity_files`](Self::identity_files),
    /// the file is watched: a renewed bundle is used for new connections.
    #[must_use]
    pub fn identity_pkcs12_file(
        mut self,
        path: impl AsRef<Path>,
        password: impl Into<String>,
    ) -> Self {
        self.identity = Some(IdentitySource::Files(IdentityFiles::Pkcs12 {
            path: path.as_ref().to_owned(),
            password: Secret::new(password.into()),
        }));
        self
    }

    /// The client certificate (PEM or DER) and key (PEM) from files, read in
    /// `build`. The files are watched: when they are replaced (a renewal),
    /// new connections use the new pair (see [`Client::reload_identity`]).
    #[must_use]
    pub fn identity_files(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.identity = Some(IdentitySource::Files(IdentityFiles::Pem {
            cert: cert.as_ref().to_owned(),
            key: key.as_ref().to_owned(),
        }));
        self
    }

    /// An extra trusted root CA (PEM), added to the public roots (e.g. the sandbox's CA).
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots
            .push(("tls.ca_cert_pem".to_owned(), pem.into()));
        self
    }

    /// An extra trusted root CA from a PEM file.
    #[must_use]
    pub fn add_root_certificate_file(mut self, path: impl AsRef<Path>) -> Self {
        match crate::pem::read_file("tls.ca_cert", path.as_ref()) {
            Ok(pem) => self
                .extra_roots
                .push(("tls.ca_cert".to_owned(), pem.to_vec())),
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// How each call authenticates (replacing OAuth settings given earlier,
    /// e.g. by the configuration).
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self.oauth = None;
        self.jwt = None;
        self
    }

    /// OAuth, as `[auth] type = "oauth"` in the configuration: the client
    /// builds an [`OAuthTokenSource`] that calls IR's OAuth host (from
    /// `settings.endpoint`, else the environment's) over this client's TLS,
    /// and keeps its tokens in the `token_store` file or in the store given to
    /// [`token_store`](Self::token_store). Reach it with [`Client::oauth`] to
    /// authorise, refresh, introspect and revoke.
    #[must_use]
    pub fn oauth(mut self, settings: OAuthSettings) -> Self {
        self.oauth = Some(settings);
        self.auth = Auth::None;
        self.jwt = None;
        self
    }

    /// Where the OAuth tokens live, instead of the `token_store` file: a store
    /// of the host's (the bindings pass callbacks). Used with
    /// [`oauth`](Self::oauth) or `[auth] type = "oauth"`; it must write
    /// durably before `save` returns.
    #[must_use]
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// The overall time one attempt may take, from connecting to the last byte
    /// of the answer (default 65 s: IR's gateway times out at 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The time to open a connection, including the TLS handshake (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// The retry policy (default: two retries, full jitter from 250 ms).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// Shorthand: the default policy with `n` retries.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        let r = &self.settings.retry;
        self.settings.retry = RetryPolicy::new(n)
            .with_base_delay(r.base_delay())
            .with_max_delay(r.max_delay());
        self
    }

    /// An HTTP(S) proxy for every call (`http://[user:pass@]host:port`). Without
    /// it, `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY` are honoured.
    #[must_use]
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.settings.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Ignore proxy settings in the environment.
    #[must_use]
    pub fn no_proxy(mut self) -> Self {
        self.settings.proxy = ProxySetting::Off;
        self
    }

    /// Whether to check requests locally before sending (default true). Turn it
    /// off only for IR's mock, whose example IRD numbers fail modulus 11.
    #[must_use]
    pub fn validate_locally(mut self, on: bool) -> Self {
        self.settings.validate_locally = on;
        self
    }

    /// Text appended to the `User-Agent` (`nzpir/<version> <suffix>`), e.g. `python/3.12`.
    #[must_use]
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.settings.user_agent_suffix = Some(suffix.into());
        self
    }

    /// The clock for local validation, certificate validity and JWT times.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many idle connections to keep for reuse (default 32; set it to at
    /// least the number of threads that call at once). 0 keeps none: every
    /// call opens a new connection with a full TLS handshake.
    #[must_use]
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.settings.max_idle_connections = n;
        self
    }

    /// Checks everything and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let sources = self.sources.clone();
        self.build_client().map_err(|e| e.given_where(&sources))
    }

    fn build_client(self) -> Result<Client, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let Settings {
            environment,
            connection,
            endpoint,
            timeout,
            connect_timeout,
            retry,
            proxy,
            validate_locally,
            user_agent_suffix,
            max_idle_connections,
        } = self.settings.clone();
        if connection == Connection::Desktop {
            return Err(Error::config(
                "connection",
                "PIR is offered on IR's cloud gateway only (mutual TLS, port 4046); IR has no \
                 desktop PIR endpoint: use connection `cloud`",
            ));
        }
        let endpoint_url = endpoint;
        let endpoint = match (&endpoint_url, environment) {
            (Some(url), _) => Endpoint::parse("endpoint", url)?,
            (None, Some(env)) => match env.gateway_base(connection) {
                Some(base) => Endpoint::parse("environment", base)?,
                None => {
                    return Err(Error::config(
                        "endpoint",
                        format!(
                            "required for environment `{}`: the gateway's base URL",
                            env.as_str()
                        ),
                    ));
                }
            },
            (None, None) => {
                return Err(Error::config(
                    "environment",
                    "set an environment (production, test, mock, sandbox) or an endpoint",
                ));
            }
        };
        let fixed = |id: Identity| LiveIdentity::fixed(id, Arc::clone(&self.clock));
        let identity = match self.identity {
            None => None,
            Some(IdentitySource::Loaded(id)) => Some(fixed(id)),
            Some(IdentitySource::Pem { cert, key }) => Some(fixed(Identity::load(
                ("tls.client_cert_pem", &cert),
                ("tls.client_key_pem", key.expose().as_bytes()),
                &*self.clock,
            )?)),
            Some(IdentitySource::Pkcs12 { data, password }) => Some(fixed(Identity::load_pkcs12(
                ("tls.client_pkcs12", &data),
                ("tls.client_pkcs12_password", password.expose()),
                &*self.clock,
            )?)),
            Some(IdentitySource::Files(files)) => {
                Some(LiveIdentity::from_files(files, Arc::clone(&self.clock))?)
            }
        }
        .map(Arc::new);
        if let Some(env) = environment
            && identity.is_none()
            && env.requires_client_identity(connection)
        {
            return Err(Error::for_setting(
                Setting::Cert,
                format!(
                    "environment `{}` uses mutual TLS: set {{cert}} and {{key}} (or {{pkcs12}})",
                    env.as_str()
                ),
                false,
            ));
        }
        if let Some(env @ (Environment::Production | Environment::Test)) = environment
            && matches!(self.auth, Auth::None)
            && self.oauth.is_none()
            && self.jwt.is_none()
        {
            return Err(Error::config(
                "auth",
                format!(
                    "environment `{}` needs auth: a JWT, a bearer token or OAuth",
                    env.as_str()
                ),
            ));
        }
        let mut roots: Vec<CertificateDer<'static>> = Vec::new();
        for (setting, pem) in &self.extra_roots {
            roots.extend(tls::extra_roots(setting, pem)?);
        }
        if !roots.is_empty() && environment == Some(Environment::Production) {
            // IR's production gateway has a public certificate: an extra
            // trusted CA there is either a TLS-inspecting proxy or a mistake,
            // and either way it can read every IRD number and token.
            log::warn!(
                target: "nzpir",
                "environment production with {} extra trusted CA certificate(s) (tls.ca_cert): IR's production gateway needs none; every certificate they sign is trusted for IR's hosts",
                roots.len()
            );
        }
        for (setting, d) in [
            (Setting::Timeout, timeout),
            (Setting::ConnectTimeout, connect_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::for_setting(setting, "must be more than zero", false));
            }
        }
        let user_agent = match &user_agent_suffix {
            Some(s) if s.chars().any(|c| c.is_control() || !c.is_ascii()) => {
                return Err(Error::config(
                    "user_agent_suffix",
                    "must be printable ASCII",
                ));
            }
            Some(s) if !s.trim().is_empty() => format!("nzpir/{} {}", crate::VERSION, s.trim()),
            _ => format!("nzpir/{}", crate::VERSION),
        };
        let transport = Arc::new(Transport::new(TransportOptions {
            endpoint,
            identity: identity.clone(),
            extra_roots: &roots,
            timeout,
            connect_timeout,
            proxy: proxy.clone(),
            user_agent: user_agent.clone(),
            max_idle_connections,
        })?);
        if self.token_store.is_some() && self.oauth.is_none() {
            return Err(Error::config(
                "auth.token_store",
                "a token store is only used with OAuth (`[auth] type = \"oauth\"`)",
            ));
        }
        let mut oauth = None;
        let auth = match self.jwt {
            Some(j) => Auth::Jwt(JwtSigner::from_settings(&j, Arc::clone(&self.clock))?),
            None => self.auth,
        };
        let auth = match (auth, self.oauth) {
            (_, Some(o)) => {
                let source = Arc::new(oauth_source(
                    &o,
                    environment,
                    &transport,
                    &self.clock,
                    self.token_store,
                )?);
                oauth = Some(Arc::clone(&source));
                AuthState::Source {
                    source,
                    cached: ArcSwapOption::empty(),
                }
            }
            (Auth::None, None) => AuthState::None,
            (Auth::Jwt(s), None) => AuthState::Jwt(s),
            (Auth::Bearer(token), None) => {
                let mut hv = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| Error::config("auth.token", "is not a valid HTTP header value"))?;
                hv.set_sensitive(true);
                AuthState::Bearer(hv)
            }
            (Auth::TokenSource(src), None) => AuthState::Source {
                source: src,
                cached: ArcSwapOption::empty(),
            },
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                transport,
                auth,
                settings: Settings {
                    environment,
                    connection,
                    endpoint: endpoint_url,
                    timeout,
                    connect_timeout,
                    retry,
                    proxy: self.settings.proxy,
                    validate_locally,
                    user_agent_suffix,
                    max_idle_connections,
                },
                clock: self.clock,
                identity,
                extra_roots: roots.len(),
                user_agent,
                oauth,
            }),
        })
    }
}

/// IR's OAuth endpoints reached through the client's transport.
struct Forms(Arc<Transport>);

impl FormPost for Forms {
    fn post_form(
        &self,
        url: &str,
        basic: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), Error> {
        self.0
            .post_form(url, basic, form)
            .map(|a| (a.status, a.body))
    }
}

/// The OAuth token source the `[auth] type = "oauth"` settings describe.
fn oauth_source(
    o: &OAuthSettings,
    environment: Option<Environment>,
    transport: &Arc<Transport>,
    clock: &Arc<dyn Clock>,
    store: Option<Arc<dyn TokenStore>>,
) -> Result<OAuthTokenSource, Error> {
    let base_url = match (&o.endpoint, environment.and_then(Environment::oauth_base)) {
        (Some(url), _) => Endpoint::parse("auth.endpoint", url)?.base,
        (None, Some(base)) => base.to_owned(),
        (None, None) => {
            return Err(Error::config(
                "auth.endpoint",
                "required: the OAuth server's base URL (this environment has none of its own)",
            ));
        }
    };
    let client_id = o
        .client_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::config("auth.client_id", "required for OAuth"))?;
    let client_secret = o
        .client_secret
        .clone()
        .ok_or_else(|| Error::config("auth.client_secret", "required for OAuth"))?;
    let store: Arc<dyn TokenStore> = match (store, &o.token_store) {
        (Some(s), None) => s,
        (None, Some(path)) => Arc::new(FileTokenStore::new(path)),
        (Some(_), Some(_)) => {
            return Err(Error::config(
                "auth.token_store",
                "give a token store file or a host token store, not both",
            ));
        }
        (None, None) => {
            return Err(Error::config(
                "auth.token_store",
                "required for OAuth: the file that keeps the rotating refresh token",
            ));
        }
    };
    let config = OAuthClientConfig {
        base_url,
        client_id,
        client_secret,
        redirect_uri: o.redirect_uri.clone().unwrap_or_default(),
    };
    let oauth = OAuthClient::new(config, Arc::new(Forms(Arc::clone(transport))))
        .with_clock(Arc::clone(clock));
    Ok(OAuthTokenSource::new(oauth, store))
}

/// The client identity the TLS settings name. The rules between them (a
/// bundle or a pair, both halves of a pair, a password only with a bundle)
/// were checked by the options schema in `from_config`.
fn identity_from_settings(t: &TlsSettings) -> Result<Option<IdentitySource>, Error> {
    if let Some(path) = &t.client_pkcs12 {
        return Ok(Some(IdentitySource::Files(IdentityFiles::Pkcs12 {
            path: path.clone(),
            password: t
                .client_pkcs12_password
                .clone()
                .unwrap_or_else(|| Secret::new("")),
        })));
    }
    let cert_given = t.client_cert.is_some() || t.client_cert_pem.is_some();
    let key_given = t.client_key.is_some() || t.client_key_pem.is_some();
    if !cert_given || !key_given {
        return Ok(None);
    }
    if let (Some(c), Some(k)) = (&t.client_cert, &t.client_key) {
        return Ok(Some(IdentitySource::Files(IdentityFiles::Pem {
            cert: c.clone(),
            key: k.clone(),
        })));
    }
    // At least one side is inline: read whichever side is a file now.
    let cert = match (&t.client_cert, &t.client_cert_pem) {
        (Some(p), _) => crate::pem::read_file("tls.client_cert", p)?.to_vec(),
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let key = match (&t.client_key, &t.client_key_pem) {
        (Some(p), _) => {
            let mut bytes = crate::pem::read_file("tls.client_key", p)?;
            Secret::new(
                String::from_utf8(std::mem::take(&mut *bytes))
                    .map_err(|_| Error::config("tls.client_key", "is not PEM text"))?,
            )
        }
        (None, Some(s)) => s.clone(),
        (None, None) => Secret::new(String::new()),
    };
    Ok(Some(IdentitySource::Pem { cert, key }))
}

enum AuthState {
    None,
    Jwt(JwtSigner),
    Bearer(HeaderValue),
    Source {
        source: Arc<dyn TokenSource>,
        /// The last token and its header value, so a token is formatted once.
        cached: ArcSwapOption<(AccessToken, HeaderValue)>,
    },
}

/// The blocking PIR client. Cheap to clone; share one across threads.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    transport: Arc<Transport>,
    auth: AuthState,
    /// The settings it was built with.
    settings: Settings,
    clock: Arc<dyn Clock>,
    identity: Option<Arc<LiveIdentity>>,
    extra_roots: usize,
    user_agent: String,
    /// The token source built from OAuth settings, for the host to authorise.
    oauth: Option<Arc<OAuthTokenSource>>,
}

/// How one call went, for the log line.
struct Trace {
    attempts: u32,
    status: Option<u16>,
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client from a configuration.
    pub fn from_config(cfg: &Config) -> Result<Client, Error> {
        ClientBuilder::from_config(cfg)?.build()
    }

    /// A client from a TOML (or `.json`) configuration file; relative paths in
    /// it are relative to the file.
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Client, Error> {
        Client::from_config(&Config::from_file(path)?)
    }

    /// Asks IR for the investor's suggested PIR.
    ///
    /// The request is checked locally first (unless switched off) and nothing
    /// is sent if it breaks a rule. Transient faults are retried per the
    /// [`RetryPolicy`]; every other answer becomes an outcome or a typed error.
    pub fn lookup(&self, request: &PirRequest) -> Result<PirOutcome, Error> {
        let started = Instant::now();
        let mut trace = Trace {
            attempts: 0,
            status: None,
        };
        let result = self.lookup_inner(request, &mut trace);
        self.log(
            LOOKUP.name,
            &result.as_ref().map(outcome_name),
            &trace,
            started,
        );
        result
    }

    fn lookup_inner(&self, request: &PirRequest, trace: &mut Trace) -> Result<PirOutcome, Error> {
        if self.inner.settings.validate_locally {
            request.validate_with(&*self.inner.clock)?;
        }
        self.run(&LOOKUP, request, trace)
    }

    /// Checks the gateway's status endpoint (`GET .../status` answers `OK`):
    /// reachability, TLS and the client certificate. It sends no `Authorization`.
    pub fn status(&self) -> Result<(), Error> {
        let started = Instant::now();
        let mut trace = Trace {
            attempts: 0,
            status: None,
        };
        let result = self.run(&STATUS, &(), &mut trace);
        self.log(STATUS.name, &result.as_ref().map(|_| "ok"), &trace, started);
        result
    }

    /// Whether requests are checked locally before they are sent.
    pub fn validates_locally(&self) -> bool {
        self.inner.settings.validate_locally
    }

    /// The gateway's base URL.
    pub fn endpoint(&self) -> &str {
        &self.inner.transport.endpoint.base
    }

    /// The `User-Agent` sent with every call.
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.settings.retry
    }

    /// An HTTPS form poster over this client's TLS policy, roots and proxy, for
    /// [`OAuthClient`] (authorise, exchange, refresh, introspect, revoke).
    pub fn form_post(&self) -> Arc<dyn FormPost> {
        Arc::new(Forms(Arc::clone(&self.inner.transport)))
    }

    /// The OAuth token source when the client was built with OAuth settings
    /// (`[auth] type = "oauth"` or [`ClientBuilder::oauth`]): start an
    /// authorisation, complete it from the redirect (exchange and store),
    /// refresh, introspect and revoke through it. `None` for other auth,
    /// including a [`TokenSource`] supplied by the caller.
    pub fn oauth(&self) -> Option<&Arc<OAuthTokenSource>> {
        self.inner.oauth.as_ref()
    }

    /// The client identity in use, if one is configured (after a renewal
    /// on disk, the new one).
    pub fn identity(&self) -> Option<Identity> {
        self.inner.identity.as_ref().map(|l| l.current())
    }

    /// When the client certificate in use expires (its notAfter), if one is
    /// configured.
    pub fn identity_expires_at(&self) -> Option<std::time::SystemTime> {
        self.identity().map(|i| i.expires_at())
    }

    /// When the client certificate in use expires, in seconds since the
    /// Unix epoch, if one is configured.
    pub fn identity_not_after(&self) -> Option<i64> {
        self.identity().map(|i| i.not_after_unix())
    }

    /// Reads the client certificate and key files again now, and uses them
    /// for new connections if they make a valid pair (the key matches, the
    /// certificate is valid). Returns `Ok(true)` when a different
    /// certificate is now in use, `Ok(false)` when it is the same one or the
    /// identity was not given as files. When the files are broken or do not
    /// match, the error says why and the pair in use is kept.
    ///
    /// Without this call the files are still checked (by modification time,
    /// at most every 5 seconds) whenever a new connection is opened.
    pub fn reload_identity(&self) -> Result<bool, Error> {
        match &self.inner.identity {
            Some(live) => live.reload(),
            None => Ok(false),
        }
    }

    /// Whether the client certificate comes from files that are watched for
    /// renewal.
    pub fn identity_is_watched(&self) -> bool {
        self.inner.identity.as_ref().is_some_and(|l| l.is_watched())
    }

    /// One call of `op` (see `operation.rs`): its body built once, then
    /// attempts per its authorisation and resend rule and the retry policy.
    fn run<R: ?Sized, T>(
        &self,
        op: &Operation<R, T>,
        request: &R,
        trace: &mut Trace,
    ) -> Result<T, Error> {
        let inner = &*self.inner;
        let body = (op.body)(request);
        let mut retries = 0u32;
        let mut refreshed = false;
        loop {
            let (header, token, jwt) = match op.authorization {
                Authorization::Credential => self.auth_header()?,
                Authorization::None => (None, None, None),
            };
            trace.attempts += 1;
            let answer = inner
                .transport
                .send(op.method, op.path, body.as_deref(), header.as_ref());
            let (err, retry_after) = match answer {
                Ok(Answer {
                    status,
                    body,
                    retry_after,
                }) => {
                    trace.status = Some(status);
                    match (op.answer)(request, status, &body) {
                        Ok(v) => return Ok(v),
                        Err(e) => (e, retry_after),
                    }
                }
                Err(e) => (e, None),
            };
            if !refreshed
                && let (Some(token), AuthState::Source { source, .. }) = (&token, &inner.auth)
                && token_refresh_may_help(&err)
            {
                refreshed = true;
                if source.token_rejected(token)? {
                    log::debug!(target: "nzpir", "{}: token rejected, retrying once with a fresh one", op.name);
                    continue;
                }
            }
            if !refreshed
                && let (Some(jwt), AuthState::Jwt(signer)) = (&jwt, &inner.auth)
                && err.ir_code() == Some(&IrCode::EV1026)
            {
                // IR found the JWT's times wrong (its clock may be behind
                // this one's): one retry with a token issued further back.
                refreshed = true;
                if signer.replace(jwt)?.is_some() {
                    log::debug!(target: "nzpir", "{}: EV1026, retrying once with a new JWT", op.name);
                    continue;
                }
            }
            let may_retry = match op.resend {
                Resend::WhenNotCounted => may_retry_lookup(&err),
                Resend::WhenTransient => err.is_retryable(),
            };
            if may_retry && retries < inner.settings.retry.max_retries() {
                retries += 1;
                let delay = inner.settings.retry.delay(retries, retry_after);
                log::debug!(
                    target: "nzpir",
                    "{}: attempt {} failed ({}): retrying in {} ms",
                    op.name,
                    trace.attempts,
                    err.kind(),
                    delay.as_millis()
                );
                std::thread::sleep(delay);
                continue;
            }
            return Err(err
                .with_attempts(trace.attempts)
                .with_retry_after(retry_after));
        }
    }

    /// The `Authorization` header for the next attempt, and the OAuth token it
    /// carries (to report a rejection).
    #[allow(clippy::type_complexity)]
    fn auth_header(
        &self,
    ) -> Result<(Option<HeaderValue>, Option<AccessToken>, Option<Jwt>), Error> {
        match &self.inner.auth {
            AuthState::None => Ok((None, None, None)),
            AuthState::Jwt(signer) => {
                let jwt = signer.token()?;
                Ok((Some(jwt.header_value().clone()), None, Some(jwt)))
            }
            AuthState::Bearer(hv) => Ok((Some(hv.clone()), None, None)),
            AuthState::Source { source, cached } => {
                let token = source.access_token()?;
                if let Some(c) = &*cached.load()
                    && c.0.same_as(&token)
                {
                    return Ok((Some(c.1.clone()), Some(token), None));
                }
                let mut hv =
                    HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                        Error::new(
                            ErrorKind::Authentication,
                            "the token source gave a token that is not a valid HTTP header value",
                        )
                    })?;
                hv.set_sensitive(true);
                cached.store(Some(Arc::new((token.clone(), hv.clone()))));
                Ok((Some(hv), Some(token), None))
            }
        }
    }

    fn log(&self, op: &str, result: &Result<&str, &Error>, trace: &Trace, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = trace
            .status
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        match result {
            Ok(outcome) => log::info!(
                target: "nzpir",
                "op={} outcome={outcome} status={status} ir_code=- attempts={} latency_ms={ms:.1}",
                op,
                trace.attempts
            ),
            Err(e) => log::warn!(
                target: "nzpir",
                "op={} outcome={} status={status} ir_code={} attempts={} latency_ms={ms:.1} error=\"{e}\"",
                op,
                e.kind(),
                e.ir_code().map_or("-", IrCode::as_str),
                trace.attempts
            ),
        }
    }
}

fn outcome_name(o: &PirOutcome) -> &'static str {
    if o.is_not_found() {
        "not_found"
    } else {
        "suggested"
    }
}

/// Whether a failed lookup (a POST that IR counts towards IR003) may be sent
/// again: only when it cannot have reached IR (no connection was made) or was
/// refused before any processing (HTTP 429, or 503 from a load balancer
/// without IR's error body). Never after a read timeout, a connection lost
/// after sending, a 502 or 504 (the gateway may have passed it on), or
/// PIR150 (IR processed it).
fn may_retry_lookup(e: &Error) -> bool {
    e.request_not_sent()
        || e.http_status() == Some(429)
        || (e.http_status() == Some(503) && e.ir_code().is_none())
}

/// A 401 whose cause a new OAuth token could cure: not a certificate problem,
/// not authorisation, not IR003.
fn token_refresh_may_help(e: &Error) -> bool {
    e.kind() == ErrorKind::Authentication
        && e.http_status() == Some(401)
        && !matches!(e.ir_code(), Some(IrCode::EV1023 | IrCode::EV1027))
}

fn error_for(status: u16, body: &[u8]) -> Error {
    if let Some(ir) = IrErrorBody::parse(body) {
        return Error::from_ir(status, ir);
    }
    let what = match status {
        404 => "(not found: is the endpoint right?)",
        405 => "(method not allowed)",
        401 | 403 => "(not authorised, and no IR error code)",
        429 => "(too many requests)",
        502 => "(bad gateway)",
        503 => "(service unavailable)",
        504 => "(gateway timeout)",
        500..=599 => "(server error, and no IR error code)",
        _ => "(unexpected, and no IR error code)",
    };
    Error::from_status(status, what)
}

/// A 200 is IR's answer only when it is about the investor and PIE the
/// request named; anything else is an error.
pub(crate) fn map_lookup(
    request: &PirRequest,
    status: u16,
    body: &[u8],
) -> Result<PirOutcome, Error> {
    if status == 200 {
        PirResponse::parse(body)
            .and_then(|answer| {
                answer.check_answers(request)?;
                answer.into_outcome()
            })
            .map_err(|e| e.with_http_status(200))
    } else {
        Err(error_for(status, body))
    }
}

pub(crate) fn map_status(status: u16, body: &[u8]) -> Result<(), Error> {
    match status {
        200 if body.trim_ascii().eq_ignore_ascii_case(b"OK") => Ok(()),
        200 => Err(Error::new(
            ErrorKind::Server,
            "the status endpoint answered 200 without `OK`",
        )
        .with_http_status(200)),
        _ => Err(error_for(status, body)),
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        let auth: &dyn fmt::Debug = match &i.auth {
            AuthState::None => &"none",
            AuthState::Jwt(s) => s,
            AuthState::Bearer(_) => &"bearer(<redacted>)",
            AuthState::Source { source, .. } => source,
        };
        f.debug_struct("Client")
            .field("endpoint", &i.transport.endpoint.base)
            .field("environment", &i.settings.environment)
            .field("identity", &i.identity)
            .field("extra_roots", &i.extra_roots)
            .field("auth", auth)
            .field("retry", &i.settings.retry)
            .field("timeout", &i.settings.timeout)
            .field("connect_timeout", &i.settings.connect_timeout)
            .field("proxied", &i.transport.proxied)
            .field("validate_locally", &i.settings.validate_locally)
            .field("max_idle_connections", &i.settings.max_idle_connections)
            .field("user_agent", &i.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }

    #[test]
    fn configuration_sets_connection_reuse() {
        let b = ClientBuilder::from_config(&Config::default()).expect("builder");
        assert_eq!(
            b.settings.max_idle_connections,
            DEFAULT_MAX_IDLE_CONNECTIONS
        );
        let cfg = Config::from_toml_str("max_idle_connections = 0").expect("parses");
        assert_eq!(cfg.max_idle_connections, Some(0));
        let b = ClientBuilder::from_config(&cfg).expect("builder");
        assert_eq!(b.settings.max_idle_connections, 0);
        let cfg = Config::from_json_str(r#"{"max_idle_connections":4}"#).expect("parses");
        assert_eq!(
            ClientBuilder::from_config(&cfg)
                .expect("b")
                .settings
                .max_idle_connections,
            4
        );
    }

    #[test]
    fn an_answer_about_someone_else_is_never_a_rate() {
        let with_pie = PirRequest::builder("49-091-850")
            .pie_ird("136410132")
            .build();
        let without = PirRequest::builder("049091850").build();
        // The 8-digit form of the same number is the same investor.
        super::map_lookup(
            &without,
            200,
            br#"{"IRD":"49091850","SuggestedPirRate":28}"#,
        )
        .expect("same number");
        super::map_lookup(
            &with_pie,
            200,
            br#"{"IRD":"049091850","PieIRD":"136410132","SuggestedPirRate":28}"#,
        )
        .expect("same investor and PIE");
        for (req, body) in [
            (
                &without,
                &br#"{"IRD":"035901981","SuggestedPirRate":28}"#[..],
            ),
            (&without, br#"{"IRD":"035901981","PirRateNotFound":true}"#),
            (
                &with_pie,
                br#"{"IRD":"049091850","PieIRD":"035901981","SuggestedPirRate":10.5}"#,
            ),
            (
                &without,
                br#"{"IRD":"049091850","PieIRD":"035901981","SuggestedPirRate":10.5}"#,
            ),
            (&with_pie, br#"{"IRD":"","SuggestedPirRate":10.5}"#),
        ] {
            let e = super::map_lookup(req, 200, body).expect_err("another investor");
            assert_eq!(e.kind(), ErrorKind::Server);
            assert_eq!(e.http_status(), Some(200));
            assert!(!e.is_retryable());
            let text = e.to_string();
            assert!(text.contains("another investor"), "{text}");
            for n in ["049091850", "49091850", "035901981", "136410132"] {
                assert!(!text.contains(n), "{text}");
                assert!(!format!("{e:?}").contains(n));
            }
        }
    }

    #[test]
    fn answers_map_to_outcomes_and_errors() {
        let req = PirRequest::builder("49091850").build();
        let map_lookup = |status, body: &[u8]| super::map_lookup(&req, status, body);
        let ok = map_lookup(200, br#"{"IRD":"049091850","SuggestedPirRate":10.5}"#).expect("ok");
        assert_eq!(ok.rate().map(|r| r.to_string()).as_deref(), Some("10.5"));
        let nf = map_lookup(200, br#"{"IRD":"049091850","PirRateNotFound":true}"#).expect("nf");
        assert!(nf.is_not_found());

        let e = map_lookup(200, br#"{"IRD":"049091850","SuggestedPirRate":10"#).expect_err("cut");
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.http_status(), Some(200));
        let e = map_lookup(200, br#"{"IRD":"049091850"}"#).expect_err("neither");
        assert_eq!(e.kind(), ErrorKind::Server);

        for (status, code, kind, retry) in [
            (400, "EV1100", ErrorKind::Rejected, false),
            (400, "PIR101", ErrorKind::Rejected, false),
            (401, "EV1026", ErrorKind::Authentication, false),
            (401, "EV1043", ErrorKind::Authorisation, false),
            (401, "IR003", ErrorKind::RateLimited, false),
            (500, "PIR150", ErrorKind::Server, true),
        ] {
            let body = format!(
                r#"{{"errors":[{{"code":"{code}","type":"x","message":"m Field: IRD"}}]}}"#
            );
            let e = map_lookup(status, body.as_bytes()).expect_err(code);
            assert_eq!(e.kind(), kind, "{code}");
            assert_eq!(e.ir_code().map(IrCode::as_str), Some(code));
            assert_eq!(e.http_status(), Some(status));
            assert_eq!(e.is_retryable(), retry, "{code}");
        }
        for (status, kind, retry) in [
            (404, ErrorKind::Rejected, false),
            (405, ErrorKind::Rejected, false),
            (401, ErrorKind::Authentication, false),
            (502, ErrorKind::Server, true),
            (503, ErrorKind::Server, true),
            (504, ErrorKind::Server, true),
            (500, ErrorKind::Server, false),
        ] {
            let e = map_lookup(status, b"<html>oops</html>").expect_err("status");
            assert_eq!(e.kind(), kind, "{status}");
            assert_eq!(e.is_retryable(), retry, "{status}");
            assert!(e.ir_code().is_none());
        }
        map_status(200, b"OK\n").expect("ok");
        assert_eq!(
            map_status(200, b"nope").expect_err("x").kind(),
            ErrorKind::Server
        );
    }

    #[test]
    fn refresh_only_for_token_problems() {
        let e = |code: &str| {
            Error::from_ir(
                401,
                IrErrorBody::single(crate::error::IrErrorItem::new(IrCode::parse(code))),
            )
        };
        assert!(token_refresh_may_help(&e("EV1026")));
        assert!(token_refresh_may_help(&e("EV1024")));
        assert!(!token_refresh_may_help(&e("EV1023")));
        assert!(!token_refresh_may_help(&e("EV1041")));
        assert!(!token_refresh_may_help(&e("IR003")));
        assert!(token_refresh_may_help(&Error::from_status(401, "")));
    }

    #[test]
    fn build_time_errors_name_the_setting() {
        let cases: Vec<(ClientBuilder, &str)> = vec![
            (Client::builder(), "environment"),
            (
                Client::builder().environment(Environment::Sandbox),
                "endpoint",
            ),
            (Client::builder().endpoint("http://127.0.0.1:1"), "endpoint"),
            (Client::builder().endpoint("::nonsense"), "endpoint"),
            (
                Client::builder().environment(Environment::Production),
                "tls.client_cert",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .identity_files("/nonexistent/c.pem", "/nonexistent/k.pem"),
                "tls.client_cert",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .add_root_certificate_pem("not pem"),
                "tls.ca_cert_pem",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .timeout(Duration::ZERO),
                "timeout_secs",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .proxy("socks5://p.example:1"),
                "proxy",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .user_agent_suffix("x\r\nInjected: 1"),
                "user_agent_suffix",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .auth(Auth::Bearer(Secret::new("sekrit\nvalue"))),
                "auth.token",
            ),
            (
                Client::builder()
                    .endpoint("https://127.0.0.1:1")
                    .token_store(Arc::new(crate::oauth::MemoryTokenStore::new())),
                "auth.token_store",
            ),
        ];
        for (b, setting) in cases {
            let e = b.build().expect_err(setting);
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(
                e.to_string().contains(&format!("`{setting}`")),
                "{setting}: {e}"
            );
            assert!(!e.to_string().contains("sekrit"), "{e}");
        }
    }

    #[test]
    fn config_errors_name_the_setting() {
        for (toml, setting) in [
            (
                "environment = \"mock\"\n[tls]\nca_cert = \"/nonexistent/ca.pem\"",
                "tls.ca_cert",
            ),
            (
                "environment = \"mock\"\n[auth]\ntype = \"jwt\"\nkey = \"/x/k.pem\"",
                "auth.cert",
            ),
            (
                "environment = \"mock\"\n[auth]\ntype = \"jwt\"\ncert = \"/x/c.pem\"\nkey = \"/x/k.pem\"\nalg = \"HS256\"",
                "auth.alg",
            ),
            (
                "environment = \"mock\"\n[auth]\ntype = \"oauth\"",
                "auth.client_id",
            ),
            (
                "endpoint = \"https://gw.example\"\n[auth]\ntype = \"oauth\"\nclient_id = \"c\"",
                "auth.endpoint",
            ),
            (
                "environment = \"mock\"\n[auth]\ntype = \"oauth\"\nclient_id = \"c\"\nclient_secret = \"s\"",
                "auth.token_store",
            ),
            ("endpoint = \"https://gw.example\"\nproxy = \"::\"", "proxy"),
        ] {
            // Whether the file's rules or the build find it, the setting is named.
            let e = Config::from_toml_str(toml)
                .and_then(|cfg| Client::from_config(&cfg))
                .expect_err(setting);
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(
                e.to_string().contains(&format!("`{setting}`")),
                "{setting}: {e}"
            );
        }
    }

    #[test]
    fn a_host_token_store_goes_with_oauth_only() {
        use crate::oauth::MemoryTokenStore;
        let store = || Arc::new(MemoryTokenStore::new()) as Arc<dyn TokenStore>;
        let oauth = "environment = \"mock\"\n[auth]\ntype = \"oauth\"\nclient_id = \"c\"\nclient_secret = \"s\"";
        let cfg = Config::from_toml_str(oauth).expect("parses");
        let client = ClientBuilder::from_config(&cfg)
            .expect("builder")
            .token_store(store())
            .build()
            .expect("oauth with a host store");
        assert!(client.oauth().is_some());

        let cfg = Config::from_toml_str(&format!("{oauth}\ntoken_store = \"/x/tokens.json\""))
            .expect("parses");
        assert!(
            Client::from_config(&cfg)
                .expect("file store")
                .oauth()
                .is_some()
        );
        let e = ClientBuilder::from_config(&cfg)
            .expect("builder")
            .token_store(store())
            .build()
            .expect_err("both");
        assert!(e.to_string().contains("`auth.token_store`"), "{e}");

        let cfg = Config::from_toml_str("environment = \"mock\"").expect("parses");
        assert!(
            Client::from_config(&cfg)
                .expect("no auth")
                .oauth()
                .is_none()
        );
        let e = ClientBuilder::from_config(&cfg)
            .expect("builder")
            .token_store(store())
            .build()
            .expect_err("not oauth");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("`auth.token_store`"), "{e}");
    }

    #[test]
    fn mock_needs_no_identity_and_debug_hides_secrets() {
        let c = Client::builder()
            .environment(Environment::Mock)
            .auth(Auth::Bearer(Secret::new("sekrit-token")))
            .user_agent_suffix("python/3.12")
            .build()
            .expect("mock without identity");
        assert_eq!(c.endpoint(), "https://pir.test.services.ird.govt.nz");
        assert_eq!(
            c.user_agent(),
            format!("nzpir/{} python/3.12", crate::VERSION)
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sekrit"), "{dbg}");
        assert!(dbg.contains("redacted"), "{dbg}");
        let c2 = c.clone();
        assert!(Arc::ptr_eq(&c.inner, &c2.inner));
    }

    #[test]
    fn a_clock_given_after_the_configuration_reaches_the_jwt_signer() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = rcgen::CertificateParams::new(vec!["m2m.example".to_owned()]).expect("params");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = p.self_signed(&key).expect("self-signed");
        let dir = tempfile::tempdir().expect("dir");
        let (c, k) = (dir.path().join("jwt.pem"), dir.path().join("jwt.key"));
        std::fs::write(&c, cert.pem()).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        let cfg = Config::from_toml_str(&format!(
            "environment = \"mock\"\n[auth]\ntype = \"jwt\"\ncert = {:?}\nkey = {:?}\nissuer = \"Acme\"",
            c.display().to_string(),
            k.display().to_string()
        ))
        .expect("parses");
        // 2030-06-01T00:00:00Z, far from the system clock.
        let at = 1_906_502_400;
        let client = ClientBuilder::from_config(&cfg)
            .expect("builder")
            .clock(Arc::new(crate::validate::FixedClock(at)))
            .build()
            .expect("client");
        let AuthState::Jwt(signer) = &client.inner.auth else {
            panic!("a JWT client");
        };
        // `iat` is the given clock's now, less the signer's allowance for skew.
        let iat = signer.token().expect("token").issued_at();
        assert!((at - 120..=at).contains(&iat), "{iat}");
    }

    #[test]
    fn a_desktop_connection_is_refused_for_pir() {
        for env in [
            Environment::Production,
            Environment::Test,
            Environment::Mock,
            Environment::Sandbox,
        ] {
            let e = Client::builder()
                .environment(env)
                .endpoint("https://gateway.example.test")
                .connection(Connection::Desktop)
                .build()
                .expect_err("desktop");
            assert_eq!(e.kind(), ErrorKind::Config);
            let text = e.to_string();
            assert!(text.contains("`connection`"), "{text}");
            assert!(text.contains("no desktop PIR endpoint"), "{text}");
            assert_eq!(
                env.gateway_base(Connection::Desktop).is_some(),
                env == Environment::Mock
            );
        }
        let cfg = Config::from_toml_str("environment = \"production\"\nconnection = \"desktop\"")
            .expect("parses");
        let e = ClientBuilder::from_config(&cfg)
            .and_then(ClientBuilder::build)
            .expect_err("desktop from a file");
        assert!(e.to_string().contains("no desktop PIR endpoint"), "{e}");
    }

    #[test]
    fn oauth_host_per_environment_and_a_host_store() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = rcgen::CertificateParams::new(vec!["c.example.test".to_owned()]).expect("p");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = p.self_signed(&key).expect("cert").pem();
        for (env, host) in [
            (Environment::Production, "https://services.ird.govt.nz"),
            (Environment::Test, "https://test5.services.ird.govt.nz"),
            (Environment::Mock, "https://oauth.test.services.ird.govt.nz"),
        ] {
            let store = Arc::new(crate::oauth::MemoryTokenStore::new());
            let c = Client::builder()
                .environment(env)
                .identity_pem(cert.clone(), key.serialize_pem())
                .oauth(OAuthSettings {
                    client_id: Some("app".into()),
                    client_secret: Some(Secret::new("sekrit-client")),
                    redirect_uri: Some("https://app.example.test/cb".into()),
                    ..OAuthSettings::default()
                })
                .token_store(store.clone())
                .build()
                .expect("client");
            let source = c.oauth().expect("an OAuth token source");
            assert_eq!(source.oauth().config().base_url, host, "{env:?}");
            let req = source.oauth().authorization_request().expect("request");
            assert!(
                req.url()
                    .starts_with(&format!("{host}/gateway3/oauth/authorize?client_id=app&")),
                "{}",
                req.url()
            );
            // The host's store is the one used: empty, so consent is needed.
            let e = source.access_token().expect_err("nothing stored");
            assert_eq!(e.kind(), ErrorKind::ConsentRequired);
            assert!(!format!("{c:?}").contains("sekrit"));
        }
        // An explicit endpoint wins; other auth has no OAuth source.
        let c = Client::builder()
            .environment(Environment::Mock)
            .oauth(OAuthSettings {
                client_id: Some("app".into()),
                client_secret: Some(Secret::new("s")),
                endpoint: Some("https://oauth.example.test:8443/".into()),
                token_store: Some("/nonexistent/tokens.json".into()),
                ..OAuthSettings::default()
            })
            .build()
            .expect("client");
        assert_eq!(
            c.oauth().expect("source").oauth().config().base_url,
            "https://oauth.example.test:8443"
        );
        let c = Client::builder()
            .environment(Environment::Mock)
            .build()
            .expect("client");
        assert!(c.oauth().is_none());
    }
}

//! The one options schema: every client setting, how each surface spells it,
//! and every rule about it.
//!
//! The TOML file, the C ABI's JSON, the `NZPIR_*` variables, Python's
//! keywords, Node's options and the CLI's flags are all collected as raw
//! values by name into [`Options`], which checks them (types, enum spellings
//! and aliases, ranges, pairs that go together, exactly one way to
//! authenticate) and yields a [`Config`]. A setting that breaks a rule gives
//! an [`Error`] of kind `Config` whose [`Error::setting`] is the [`Setting`];
//! [`Error::message_for`] renders it in a surface's own spelling
//! (`key=` in Python, `options.key` in Node, `--key` for the CLI,
//! `tls.client_key` in TOML, `NZPIR_KEY` for a variable).
//!
//! A new setting is one row in [`SPECS`], one [`Setting`] variant and its
//! arm in `Options::assign` and `Options::from_config` (the compiler points
//! at both), plus the docs and the bindings' stubs.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::{
    AuthSettings, Config, Connection, JwtSettings, OAuthSettings, Secret, Sources,
};
use crate::error::{Error, ErrorKind};

/// The call whose arguments name a setting: a client's settings, or the
/// one-shot JWT mint (Python `mint_jwt`, Node `mintJwt`, `nzpir jwt`), whose
/// arguments are the JWT settings without their `jwt_` prefix (`cert`,
/// `options.cert`, `--cert`). An error names a setting as the call it came
/// from takes it ([`Error::in_call`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Call {
    /// A client's settings (every surface's configuration).
    #[default]
    Client,
    /// The one-shot JWT mint.
    MintJwt,
    /// A client from a configuration file, whose call takes the token store
    /// as its own argument (Python `from_config(path, token_store=)`, Node
    /// `fromConfig(path, {tokenStore})`).
    FromConfig,
}

impl Call {
    /// The call's own arguments: the setting, then its name in Python, Node
    /// (inside `options`) and the CLI.
    fn args(self) -> &'static [(Setting, &'static str, &'static str, &'static str)] {
        match self {
            Call::Client => &[],
            Call::MintJwt => &MINT_JWT_ARGS,
            Call::FromConfig => &[(
                Setting::TokenStore,
                "token_store",
                "tokenStore",
                "--token-store",
            )],
        }
    }
}

/// The one-shot JWT mint's arguments: the setting, then its name in Python,
/// Node (inside `options`) and the CLI's `nzpir jwt`.
const MINT_JWT_ARGS: [(Setting, &str, &str, &str); 7] = [
    (Setting::JwtCert, "cert", "cert", "--cert"),
    (Setting::JwtKey, "key", "key", "--key"),
    (Setting::JwtAlg, "alg", "alg", "--alg"),
    (Setting::Issuer, "issuer", "issuer", "--issuer"),
    (
        Setting::StartLogon,
        "start_logon",
        "startLogon",
        "--start-logon",
    ),
    (
        Setting::UnsetStartLogon,
        "unset_start_logon",
        "unsetStartLogon",
        "--unset-start-logon",
    ),
    (Setting::JwtTtl, "ttl", "ttl", "--ttl"),
];

/// A surface that takes settings, each with its own spelling of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Surface {
    /// The TOML configuration file (`tls.client_key`).
    Toml,
    /// The C ABI's JSON configuration (same keys as the TOML file).
    Json,
    /// `NZPIR_*` environment variables (`NZPIR_KEY`).
    Env,
    /// Python's keyword arguments (`key`).
    Python,
    /// Node's options object (`options.key`, milliseconds for durations).
    Node,
    /// The CLI's flags (`--key`).
    Cli,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Surface; 6] = [
        Surface::Toml,
        Surface::Json,
        Surface::Env,
        Surface::Python,
        Surface::Node,
        Surface::Cli,
    ];

    /// The surface's name in lower case (`toml`, `json`, `env`, `python`, `node`, `cli`).
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Toml => "toml",
            Surface::Json => "json",
            Surface::Env => "env",
            Surface::Python => "python",
            Surface::Node => "node",
            Surface::Cli => "cli",
        }
    }

    /// Durations are given in milliseconds in Node (JavaScript's unit) and
    /// in seconds everywhere else.
    pub fn time_unit(self) -> (f64, &'static str) {
        match self {
            Surface::Node => (1000.0, "milliseconds"),
            _ => (1.0, "seconds"),
        }
    }

    /// Whether every value arrives as text (flags, variables), so numbers
    /// and booleans are parsed from it.
    fn text_only(self) -> bool {
        matches!(self, Surface::Env | Surface::Cli)
    }
}

/// One way to authenticate; each auth setting belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthWay {
    /// An M2M JWT signed by the client.
    Jwt,
    /// A static bearer token.
    Bearer,
    /// OAuth 2.0 with a token store.
    OAuth,
}

impl AuthWay {
    fn as_str(self) -> &'static str {
        match self {
            AuthWay::Jwt => "jwt",
            AuthWay::Bearer => "bearer",
            AuthWay::OAuth => "oauth",
        }
    }
}

/// What kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text (a URL, a name).
    Text,
    /// Secret text: never shown.
    Secret,
    /// One of a list of names: `(canonical, aliases)`; case and surrounding
    /// spaces do not matter.
    Enum(&'static [(&'static str, &'static [&'static str])]),
    /// A PEM: a file path or the PEM text itself (text that starts with
    /// `-----BEGIN`, or bytes/a Buffer).
    Pem,
    /// A file path.
    Path,
    /// A duration in seconds (milliseconds in Node), more than zero.
    Seconds,
    /// A whole number of seconds (milliseconds in Node) in a range.
    WholeSeconds {
        /// The least, in seconds.
        min: u64,
        /// The most, in seconds.
        max: u64,
    },
    /// A whole number in a range.
    Count {
        /// The least.
        min: u64,
        /// The most.
        max: u64,
    },
    /// true or false.
    Bool,
}

/// Every setting of a client. The names are the canonical snake_case ones
/// (Python's keywords); [`Setting::name_in`] gives each surface's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Setting {
    /// `environment`
    Environment,
    /// `connection`
    Connection,
    /// `endpoint`
    Endpoint,
    /// `cert`
    Cert,
    /// `key`
    Key,
    /// `ca`
    Ca,
    /// `pkcs12`
    Pkcs12,
    /// `pkcs12_password`
    Pkcs12Password,
    /// `jwt_cert`
    JwtCert,
    /// `jwt_key`
    JwtKey,
    /// `jwt_pkcs12`
    JwtPkcs12,
    /// `jwt_pkcs12_password`
    JwtPkcs12Password,
    /// `jwt_alg`
    JwtAlg,
    /// `issuer`
    Issuer,
    /// `start_logon`
    StartLogon,
    /// `unset_start_logon`
    UnsetStartLogon,
    /// `jwt_ttl`
    JwtTtl,
    /// `bearer_token`
    BearerToken,
    /// `oauth_client_id`
    OauthClientId,
    /// `oauth_client_secret`
    OauthClientSecret,
    /// `oauth_redirect_uri`
    OauthRedirectUri,
    /// `oauth_endpoint`
    OauthEndpoint,
    /// `token_store`
    TokenStore,
    /// `timeout`
    Timeout,
    /// `connect_timeout`
    ConnectTimeout,
    /// `max_retries`
    MaxRetries,
    /// `retry_base_delay`
    RetryBaseDelay,
    /// `proxy`
    Proxy,
    /// `validate_locally`
    ValidateLocally,
    /// `max_idle_connections`
    MaxIdleConnections,
    /// The choice of authentication as a whole (`[auth] type` in the file).
    Auth,
}

/// One row of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The setting.
    pub setting: Setting,
    /// The canonical name (snake_case; Python's keyword).
    pub name: &'static str,
    /// The TOML/JSON key path (a file path or the value).
    pub toml: &'static str,
    /// The TOML/JSON key path of the inline PEM text, for PEM settings.
    pub toml_inline: Option<&'static str>,
    /// Node's option name (`oauth.x` for the members of `options.oauth`).
    pub node: &'static str,
    /// The CLI flag.
    pub cli: &'static str,
    /// The environment variable, if there is one.
    pub env: Option<&'static str>,
    /// The kind of value.
    pub kind: Kind,
    /// The way of authenticating it belongs to.
    pub way: Option<AuthWay>,
    /// Whether giving it chooses its way of authenticating over another a
    /// lower layer chose (the CLI's flags over its variables over the file).
    pub chooses: bool,
    /// Never shown: not in `Debug`, errors or logs.
    pub secret: bool,
    /// The default, in words.
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

const ENVIRONMENTS: &[(&str, &[&str])] = &[
    ("production", &["prod"]),
    ("test", &[]),
    ("mock", &[]),
    ("sandbox", &[]),
];
const CONNECTIONS: &[(&str, &[&str])] = &[("cloud", &[]), ("desktop", &[])];
const ALGORITHMS: &[(&str, &[&str])] = &[
    ("RS256", &[]),
    ("RS384", &[]),
    ("RS512", &[]),
    ("ES256", &[]),
    ("ES384", &[]),
    ("ES512", &[]),
    ("PS256", &[]),
];
const UNSET_START_LOGON: &[(&str, &[&str])] = &[("null", &[]), ("empty", &["\"\""])];

/// The most retries any surface accepts.
pub const MAX_RETRIES: u64 = 100;
/// The most idle connections any surface accepts.
pub const MAX_IDLE_CONNECTIONS: u64 = 4096;

macro_rules! spec {
    ($setting:ident, $name:literal, toml $toml:literal $(/ $inline:literal)?, node $node:literal,
     cli $cli:literal, env $env:expr, $kind:expr, way $way:expr, chooses $chooses:literal,
     secret $secret:literal, default $default:literal, $help:literal) => {
        Spec {
            setting: Setting::$setting,
            name: $name,
            toml: $toml,
            toml_inline: spec!(@inline $($inline)?),
            node: $node,
            cli: $cli,
            env: $env,
            kind: $kind,
            way: $way,
            chooses: $chooses,
            secret: $secret,
            default: $default,
            help: $help,
        }
    };
    (@inline) => { None };
    (@inline $inline:literal) => { Some($inline) };
}

/// The schema: every setting, in the order the docs list them.
pub const SPECS: &[Spec] = &[
    spec!(Environment, "environment", toml "environment", node "environment", cli "--env",
        env Some("NZPIR_ENV"), Kind::Enum(ENVIRONMENTS), way None, chooses false, secret false,
        default "none (or endpoint)", "IR's environment: production (alias prod), test, mock or sandbox"),
    spec!(Connection, "connection", toml "connection", node "connection", cli "--connection",
        env Some("NZPIR_CONNECTION"), Kind::Enum(CONNECTIONS), way None, chooses false,
        secret false, default "cloud", "cloud (mutual TLS, the only one IR offers PIR on) or desktop"),
    spec!(Endpoint, "endpoint", toml "endpoint", node "endpoint", cli "--endpoint",
        env Some("NZPIR_ENDPOINT"), Kind::Text, way None, chooses false, secret false,
        default "the environment's", "The gateway's base URL (scheme, host, port); /gateway/calculators/pir is appended"),
    spec!(Cert, "cert", toml "tls.client_cert" / "tls.client_cert_pem", node "cert", cli "--cert",
        env Some("NZPIR_CERT"), Kind::Pem, way None, chooses false, secret false,
        default "none", "The TLS client certificate (PEM) for mutual TLS"),
    spec!(Key, "key", toml "tls.client_key" / "tls.client_key_pem", node "key", cli "--key",
        env Some("NZPIR_KEY"), Kind::Pem, way None, chooses false, secret true,
        default "none", "The TLS client certificate's private key (PEM)"),
    spec!(Ca, "ca", toml "tls.ca_cert" / "tls.ca_cert_pem", node "ca", cli "--ca",
        env Some("NZPIR_CA"), Kind::Pem, way None, chooses false, secret false,
        default "none", "An extra trusted root CA (PEM), e.g. the sandbox's ca.pem"),
    spec!(Pkcs12, "pkcs12", toml "tls.client_pkcs12", node "pkcs12", cli "--pkcs12",
        env Some("NZPIR_PKCS12"), Kind::Path, way None, chooses false, secret false,
        default "none", "The TLS client certificate, chain and key as a PKCS#12 bundle, instead of cert and key"),
    spec!(Pkcs12Password, "pkcs12_password", toml "tls.client_pkcs12_password",
        node "pkcs12Password", cli "--pkcs12-password", env Some("NZPIR_PKCS12_PASSWORD"),
        Kind::Secret, way None, chooses false, secret true, default "empty",
        "The pkcs12 bundle's password"),
    spec!(JwtCert, "jwt_cert", toml "auth.cert" / "auth.cert_pem", node "jwtCert",
        cli "--jwt-cert", env Some("NZPIR_JWT_CERT"), Kind::Pem, way Some(AuthWay::Jwt),
        chooses true, secret false, default "none",
        "M2M JWT: the signing certificate registered with IR (PEM, or DER as a .cer)"),
    spec!(JwtKey, "jwt_key", toml "auth.key" / "auth.key_pem", node "jwtKey", cli "--jwt-key",
        env Some("NZPIR_JWT_KEY"), Kind::Pem, way Some(AuthWay::Jwt), chooses true, secret true,
        default "none", "M2M JWT: the signing key (PEM)"),
    spec!(JwtPkcs12, "jwt_pkcs12", toml "auth.pkcs12", node "jwtPkcs12", cli "--jwt-pkcs12",
        env Some("NZPIR_JWT_PKCS12"), Kind::Path, way Some(AuthWay::Jwt), chooses true,
        secret false, default "none",
        "M2M JWT: the signing certificate and key as a PKCS#12 bundle, instead of jwt_cert and jwt_key"),
    spec!(JwtPkcs12Password, "jwt_pkcs12_password", toml "auth.pkcs12_password",
        node "jwtPkcs12Password", cli "--jwt-pkcs12-password",
        env Some("NZPIR_JWT_PKCS12_PASSWORD"), Kind::Secret, way Some(AuthWay::Jwt),
        chooses false, secret true, default "empty", "M2M JWT: the jwt_pkcs12 bundle's password"),
    spec!(JwtAlg, "jwt_alg", toml "auth.alg", node "jwtAlg", cli "--jwt-alg",
        env Some("NZPIR_JWT_ALG"), Kind::Enum(ALGORITHMS), way Some(AuthWay::Jwt), chooses false,
        secret false, default "RS256 for RSA keys, ES256/ES384/ES512 by curve",
        "M2M JWT: the algorithm configured at IR (RS256, RS384, RS512, ES256, ES384, ES512; PS256 for a credential configured with it)"),
    spec!(Issuer, "issuer", toml "auth.issuer", node "issuer", cli "--issuer",
        env Some("NZPIR_ISSUER"), Kind::Text, way Some(AuthWay::Jwt), chooses false,
        secret false, default "none", "M2M JWT: iss, the provider's name registered with IR"),
    spec!(StartLogon, "start_logon", toml "auth.start_logon", node "startLogon",
        cli "--start-logon", env Some("NZPIR_START_LOGON"), Kind::Text, way Some(AuthWay::Jwt),
        chooses false, secret false, default "none",
        "M2M JWT: startLogon, a myIR logon to act as"),
    spec!(UnsetStartLogon, "unset_start_logon", toml "auth.unset_start_logon",
        node "unsetStartLogon", cli "--unset-start-logon", env Some("NZPIR_UNSET_START_LOGON"),
        Kind::Enum(UNSET_START_LOGON), way Some(AuthWay::Jwt), chooses false, secret false,
        default "null", "M2M JWT: what startLogon carries when no logon is set: null or empty"),
    spec!(JwtTtl, "jwt_ttl", toml "auth.ttl_secs", node "jwtTtl", cli "--jwt-ttl",
        env Some("NZPIR_JWT_TTL"),
        Kind::WholeSeconds { min: crate::jwt::MIN_TTL_SECS, max: crate::jwt::MAX_TTL_SECS },
        way Some(AuthWay::Jwt), chooses false, secret false, default "540 s",
        "M2M JWT: the token's lifetime (60 s to 8 hours, IR's limit)"),
    spec!(BearerToken, "bearer_token", toml "auth.token", node "bearerToken", cli "--bearer",
        env Some("NZPIR_BEARER"), Kind::Secret, way Some(AuthWay::Bearer), chooses true,
        secret true, default "none", "A bearer token (an OAuth access token) to send as is"),
    spec!(OauthClientId, "oauth_client_id", toml "auth.client_id", node "oauth.clientId",
        cli "--oauth-client-id", env Some("NZPIR_OAUTH_CLIENT_ID"), Kind::Text,
        way Some(AuthWay::OAuth), chooses true, secret false, default "none",
        "OAuth: the client id IR issued"),
    spec!(OauthClientSecret, "oauth_client_secret", toml "auth.client_secret",
        node "oauth.clientSecret", cli "--oauth-client-secret",
        env Some("NZPIR_OAUTH_CLIENT_SECRET"), Kind::Secret, way Some(AuthWay::OAuth),
        chooses false, secret true, default "none", "OAuth: the client secret IR issued"),
    spec!(OauthRedirectUri, "oauth_redirect_uri", toml "auth.redirect_uri",
        node "oauth.redirectUri", cli "--oauth-redirect-uri",
        env Some("NZPIR_OAUTH_REDIRECT_URI"), Kind::Text, way Some(AuthWay::OAuth),
        chooses false, secret false, default "none", "OAuth: the redirect URI registered with IR"),
    spec!(OauthEndpoint, "oauth_endpoint", toml "auth.endpoint", node "oauth.endpoint",
        cli "--oauth-endpoint", env Some("NZPIR_OAUTH_ENDPOINT"), Kind::Text,
        way Some(AuthWay::OAuth), chooses false, secret false, default "the environment's",
        "OAuth: the OAuth server's base URL"),
    spec!(TokenStore, "token_store", toml "auth.token_store", node "oauth.tokenStore",
        cli "--token-store", env Some("NZPIR_TOKEN_STORE"), Kind::Path, way Some(AuthWay::OAuth),
        chooses true, secret false, default "none",
        "OAuth: the file that keeps the tokens (written atomically, mode 0600), or a host store"),
    spec!(Timeout, "timeout", toml "timeout_secs", node "timeout", cli "--timeout",
        env Some("NZPIR_TIMEOUT"), Kind::Seconds, way None, chooses false, secret false,
        default "65 s", "The time one attempt may take (IR's gateway times out at 60 s)"),
    spec!(ConnectTimeout, "connect_timeout", toml "connect_timeout_secs", node "connectTimeout",
        cli "--connect-timeout", env Some("NZPIR_CONNECT_TIMEOUT"), Kind::Seconds, way None,
        chooses false, secret false, default "10 s",
        "The time to open a connection, TLS handshake included"),
    spec!(MaxRetries, "max_retries", toml "max_retries", node "maxRetries", cli "--max-retries",
        env Some("NZPIR_MAX_RETRIES"), Kind::Count { min: 0, max: MAX_RETRIES }, way None,
        chooses false, secret false, default "2",
        "Retries after the first attempt, for transient faults only"),
    spec!(RetryBaseDelay, "retry_base_delay", toml "retry_base_delay_secs",
        node "retryBaseDelay", cli "--retry-base-delay", env Some("NZPIR_RETRY_BASE_DELAY"),
        Kind::Seconds, way None, chooses false, secret false, default "0.25 s",
        "The delay before the first retry (doubles per retry, full jitter, up to 8 s)"),
    spec!(Proxy, "proxy", toml "proxy", node "proxy", cli "--proxy", env Some("NZPIR_PROXY"),
        Kind::Text, way None, chooses false, secret false, default "HTTPS_PROXY / NO_PROXY",
        "An HTTP(S) proxy URL"),
    spec!(ValidateLocally, "validate_locally", toml "validate_locally", node "validateLocally",
        cli "--validate-locally", env Some("NZPIR_VALIDATE_LOCALLY"), Kind::Bool, way None,
        chooses false, secret false, default "true",
        "Check requests locally before sending (off only for IR's mock examples)"),
    spec!(MaxIdleConnections, "max_idle_connections", toml "max_idle_connections",
        node "maxIdleConnections", cli "--max-idle-connections",
        env Some("NZPIR_MAX_IDLE_CONNECTIONS"), Kind::Count { min: 0, max: MAX_IDLE_CONNECTIONS },
        way None, chooses false, secret false, default "32",
        "Idle connections kept for reuse; 0 keeps none (every call opens a new connection)"),
];

impl Setting {
    /// Every setting of the schema, in the docs' order.
    pub fn all() -> impl Iterator<Item = Setting> {
        SPECS.iter().map(|s| s.setting)
    }

    /// The setting's row in the schema; `None` for [`Setting::Auth`], the
    /// choice as a whole.
    pub fn spec(self) -> Option<&'static Spec> {
        SPECS.iter().find(|s| s.setting == self)
    }

    /// The canonical snake_case name.
    pub fn name(self) -> &'static str {
        self.spec().map_or("auth", |s| s.name)
    }

    /// The setting as `surface` spells it: `key` (Python), `options.key`
    /// (Node), `--key` (CLI), `tls.client_key` (TOML and JSON), `NZPIR_KEY`
    /// (a variable).
    pub fn name_in(self, surface: Surface) -> Cow<'static, str> {
        let Some(spec) = self.spec() else {
            return Cow::Borrowed(match surface {
                Surface::Node => "options",
                _ => "auth",
            });
        };
        match surface {
            Surface::Toml | Surface::Json => Cow::Borrowed(spec.toml),
            Surface::Python => Cow::Borrowed(spec.name),
            Surface::Node => Cow::Owned(format!("options.{}", spec.node)),
            Surface::Cli => Cow::Borrowed(spec.cli),
            Surface::Env => Cow::Borrowed(spec.env.unwrap_or(spec.cli)),
        }
    }

    /// The setting as `surface` spells it in `call`'s arguments: the one-shot
    /// JWT mint's own names for the settings it takes, otherwise
    /// [`Setting::name_in`].
    pub fn name_for(self, surface: Surface, call: Call) -> Cow<'static, str> {
        let arg = call.args().iter().find(|a| a.0 == self);
        match (arg, surface) {
            (Some((_, python, _, _)), Surface::Python) => Cow::Borrowed(python),
            (Some((_, _, node, _)), Surface::Node) => Cow::Owned(format!("options.{node}")),
            (Some((_, _, _, cli)), Surface::Cli) => Cow::Borrowed(cli),
            _ => self.name_in(surface),
        }
    }

    /// The setting a surface's name stands for (Node's `oauth.clientId`
    /// with or without `options.`; TOML's inline `tls.client_key_pem` too).
    pub fn from_name(surface: Surface, name: &str) -> Option<Setting> {
        if name == "auth" || name == "auth.type" {
            return Some(Setting::Auth);
        }
        SPECS
            .iter()
            .find(|s| match surface {
                Surface::Toml | Surface::Json => s.toml == name || s.toml_inline == Some(name),
                Surface::Python => s.name == name,
                Surface::Node => s.node == name || name.strip_prefix("options.") == Some(s.node),
                Surface::Cli => s.cli == name || name.strip_prefix("--") == s.cli.get(2..),
                Surface::Env => s.env == Some(name),
            })
            .map(|s| s.setting)
    }

    /// The setting a name in the TOML spelling or the canonical one stands
    /// for (what the core's own errors name).
    pub(crate) fn from_any_name(name: &str) -> Option<Setting> {
        Setting::from_name(Surface::Toml, name)
            .or_else(|| Setting::from_name(Surface::Python, name))
    }
}

/// `{name}` for a setting's TOML key or name (rendered per surface by
/// [`Error::message_for`]), else the text in backquotes.
pub(crate) fn placeholder(setting: &str) -> String {
    match Setting::from_any_name(setting) {
        Some(s) if s != Setting::Auth => format!("{{{}}}", s.name()),
        _ => format!("`{setting}`"),
    }
}

/// A setting's problem, with the other settings it names as `{name}`
/// placeholders (canonical names), so each surface can spell them.
pub(crate) fn render_problem(problem: &str, surface: Surface, call: Call) -> Cow<'_, str> {
    if !problem.contains('{') {
        return Cow::Borrowed(problem);
    }
    let mut out = String::with_capacity(problem.len());
    let mut rest = problem;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match Setting::from_name(Surface::Python, name) {
                    Some(s) => out.push_str(&s.name_for(surface, call)),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A raw value as a surface received it.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// Text (a string argument, a flag's or a variable's value).
    Str(String),
    /// A file path (Python's `os.PathLike`, a TOML path key).
    Path(PathBuf),
    /// PEM text given as such (bytes, a Buffer, a TOML `*_pem` key).
    Pem(String),
    /// Bytes that should hold PEM text.
    Bytes(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A floating-point number (every JavaScript number).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Anything else, described in words for the message (`a list`).
    Other(&'static str),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets or paths to them: only the type shows.
        f.write_str(self.type_name())
    }
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Path(_) => "a path",
            Value::Pem(_) | Value::Bytes(_) => "bytes",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Other(what) => what,
        }
    }
}

/// A setting's error: kind `Config`, the setting as a structured key.
fn problem(setting: Setting, text: impl Into<Cow<'static, str>>) -> Error {
    Error::for_setting(setting, text, false)
}

fn wrong_type(setting: Setting, want: &str, got: &Value) -> Error {
    Error::for_setting(
        setting,
        format!("must be {want} (got {})", got.type_name()),
        true,
    )
}

/// The rule text of an enum.
fn one_of_text(values: &[(&str, &[&str])]) -> String {
    let names: Vec<String> = values
        .iter()
        .map(
            |(c, aliases)| match aliases.iter().find(|a| !a.contains('"')) {
                Some(a) => format!("{c} (or {a})"),
                None => (*c).to_owned(),
            },
        )
        .collect();
    format!("must be one of {}", names.join(", "))
}

fn enum_value(
    setting: Setting,
    values: &'static [(&'static str, &'static [&'static str])],
    v: &Value,
) -> Result<&'static str, Error> {
    let Value::Str(s) = v else {
        return Err(wrong_type(setting, "a string", v));
    };
    let s = s.trim();
    values
        .iter()
        .find(|(c, aliases)| {
            c.eq_ignore_ascii_case(s) || aliases.iter().any(|a| a.eq_ignore_ascii_case(s))
        })
        .map(|(c, _)| *c)
        .ok_or_else(|| problem(setting, one_of_text(values)))
}

/// The parsed value of one setting.
enum Parsed {
    Text(String),
    Secret(Secret),
    Path(PathBuf),
    PemText(String),
    Seconds(f64),
    Count(u64),
    Bool(bool),
}

fn number(setting: Setting, surface: Surface, v: &Value, want: &str) -> Result<f64, Error> {
    match v {
        Value::Int(n) => Ok(*n as f64),
        Value::Float(n) => Ok(*n),
        Value::Str(s) if surface.text_only() => s
            .trim()
            .parse::<f64>()
            .map_err(|_| wrong_type(setting, want, v)),
        _ => Err(wrong_type(setting, want, v)),
    }
}

fn parse(setting: Setting, kind: Kind, surface: Surface, v: &Value) -> Result<Parsed, Error> {
    match kind {
        Kind::Text => match v {
            Value::Str(s) => Ok(Parsed::Text(s.clone())),
            _ => Err(wrong_type(setting, "a string", v)),
        },
        Kind::Secret => match v {
            Value::Str(s) => Ok(Parsed::Secret(Secret::new(s.clone()))),
            _ => Err(wrong_type(setting, "a string", v)),
        },
        Kind::Enum(values) => enum_value(setting, values, v).map(|c| Parsed::Text(c.to_owned())),
        Kind::Path => match v {
            Value::Str(s) if s.is_empty() => Err(problem(setting, "must not be empty")),
            Value::Str(s) => Ok(Parsed::Path(PathBuf::from(s))),
            Value::Path(p) if p.as_os_str().is_empty() => {
                Err(problem(setting, "must not be empty"))
            }
            Value::Path(p) => Ok(Parsed::Path(p.clone())),
            _ => Err(wrong_type(setting, "a file path", v)),
        },
        Kind::Pem => match v {
            Value::Str(s) if s.trim_start().starts_with("-----BEGIN") => {
                Ok(Parsed::PemText(s.clone()))
            }
            Value::Str(s) if s.is_empty() => Err(problem(setting, "must not be empty")),
            Value::Str(s) => Ok(Parsed::Path(PathBuf::from(s))),
            Value::Path(p) if p.as_os_str().is_empty() => {
                Err(problem(setting, "must not be empty"))
            }
            Value::Path(p) => Ok(Parsed::Path(p.clone())),
            Value::Pem(t) => Ok(Parsed::PemText(t.clone())),
            Value::Bytes(b) => String::from_utf8(b.clone())
                .map(Parsed::PemText)
                .map_err(|_| problem(setting, "must hold PEM text (it is not UTF-8)")),
            _ => Err(wrong_type(setting, "a file path or PEM text", v)),
        },
        Kind::Seconds => {
            let (per_sec, unit) = surface.time_unit();
            let want = format!("a positive number of {unit}");
            let n = number(setting, surface, v, &want)?;
            let secs = n / per_sec;
            if n.is_finite() && n > 0.0 && secs < 1e9 {
                Ok(Parsed::Seconds(secs))
            } else {
                Err(problem(setting, format!("must be {want}")))
            }
        }
        Kind::WholeSeconds { min, max } => {
            let (per_sec, unit) = surface.time_unit();
            let lo = min as f64 * per_sec;
            let hi = max as f64 * per_sec;
            let rule = format!("must be a whole number of {unit} from {lo} to {hi}");
            let n = number(setting, surface, v, &format!("a number of {unit}"))?;
            if n.is_finite() && (lo..=hi).contains(&n) && (n / per_sec).fract() == 0.0 {
                Ok(Parsed::Count((n / per_sec) as u64))
            } else {
                Err(problem(setting, rule))
            }
        }
        Kind::Count { min, max } => {
            let rule = format!("must be a whole number from {min} to {max}");
            let n = number(setting, surface, v, "a whole number")?;
            if n.fract() != 0.0 && n.is_finite() {
                return Err(wrong_type(setting, "a whole number", v));
            }
            if n.is_finite() && (min as f64..=max as f64).contains(&n) {
                Ok(Parsed::Count(n as u64))
            } else {
                Err(problem(setting, rule))
            }
        }
        Kind::Bool => match v {
            Value::Bool(b) => Ok(Parsed::Bool(*b)),
            Value::Str(s) if surface.text_only() => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Parsed::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Parsed::Bool(false)),
                _ => Err(problem(setting, "must be true or false")),
            },
            _ => Err(wrong_type(setting, "a boolean", v)),
        },
    }
}

/// Settings collected by name from one surface (or one layer of it), then
/// checked together by [`Options::to_config`].
#[derive(Debug, Clone)]
pub struct Options {
    surface: Surface,
    given: BTreeMap<Setting, (Surface, Value)>,
    /// `[auth] type` as a file gave it.
    auth_type: Option<(Surface, String)>,
    /// A token store of the host's (an object with load/save) was given.
    host_token_store: bool,
    /// A configuration that gave one setting twice (a PEM as a file and as
    /// text): reported by `to_config`.
    conflict: Option<Setting>,
}

impl Options {
    /// No settings yet, from `surface`.
    pub fn new(surface: Surface) -> Self {
        Options {
            surface,
            given: BTreeMap::new(),
            auth_type: None,
            host_token_store: false,
            conflict: None,
        }
    }

    /// The surface the names are spelled for.
    pub fn surface(&self) -> Surface {
        self.surface
    }

    /// Sets a setting by the surface's name for it (`None` or a null value
    /// should simply not be set). An unknown name is an error listing the
    /// known ones.
    pub fn set(&mut self, name: &str, value: Value) -> Result<&mut Self, Error> {
        let surface = self.surface;
        match Setting::from_name(surface, name) {
            Some(Setting::Auth) | None => {
                let shown: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
                let known: Vec<String> = SPECS
                    .iter()
                    .map(|s| s.setting.name_in(surface).into_owned())
                    .collect();
                Err(Error::new(
                    ErrorKind::Config,
                    format!("unknown option `{shown}` (known: {})", known.join(", ")),
                ))
            }
            Some(setting) => {
                self.set_setting(setting, value);
                Ok(self)
            }
        }
    }

    /// Sets a setting (replacing an earlier value).
    pub fn set_setting(&mut self, setting: Setting, value: Value) -> &mut Self {
        let surface = self.surface;
        self.set_from(setting, surface, value)
    }

    /// Sets a setting whose value came from `surface` (a CLI flag or a variable).
    pub fn set_from(&mut self, setting: Setting, surface: Surface, value: Value) -> &mut Self {
        if setting == Setting::Auth {
            if let Value::Str(s) = value {
                self.auth_type = Some((surface, s));
            }
        } else {
            self.given.insert(setting, (surface, value));
        }
        self
    }

    /// The token store is an object of the host's (Python/Node callbacks),
    /// given with the OAuth settings.
    pub fn host_token_store(&mut self) -> &mut Self {
        self.given.remove(&Setting::TokenStore);
        self.host_token_store = true;
        self
    }

    /// Whether a setting was given.
    pub fn is_set(&self, setting: Setting) -> bool {
        self.given.contains_key(&setting)
            || (setting == Setting::TokenStore && self.host_token_store)
    }

    /// The ways of authenticating the given settings belong to.
    fn ways(&self, choosing_only: bool) -> Vec<AuthWay> {
        let mut ways: Vec<AuthWay> = self
            .given
            .keys()
            .filter_map(|s| s.spec())
            .filter(|s| !choosing_only || s.chooses)
            .filter_map(|s| s.way)
            .collect();
        if self.host_token_store {
            ways.push(AuthWay::OAuth);
        }
        ways.sort();
        ways.dedup();
        ways
    }

    /// Keeps only the settings of one way of authenticating (the CLI's
    /// OAuth commands use the OAuth settings whatever else is set).
    pub fn keep_only_way(&mut self, way: AuthWay) -> &mut Self {
        self.given.retain(|s, _| {
            s.spec()
                .is_none_or(|spec| spec.way.is_none_or(|w| w == way))
        });
        if self
            .auth_type
            .as_ref()
            .is_some_and(|(_, t)| t.trim() != way.as_str())
        {
            self.auth_type = None;
        }
        self
    }

    /// `higher` laid over these settings: what it sets wins. A way of
    /// authenticating it chooses replaces another one here; a PKCS#12
    /// bundle replaces a certificate and key and back; an environment it
    /// chooses (other than sandbox) drops an endpoint set only here.
    pub fn overlay(mut self, higher: Options) -> Options {
        let chosen = higher.ways(true);
        if !chosen.is_empty() {
            self.given.retain(|s, _| {
                s.spec()
                    .and_then(|spec| spec.way)
                    .is_none_or(|w| chosen.contains(&w))
            });
            if !chosen.contains(&AuthWay::OAuth) {
                self.host_token_store = false;
            }
            self.auth_type = None;
        }
        let groups: [(&[Setting], &[Setting]); 2] = [
            (
                &[Setting::Cert, Setting::Key],
                &[Setting::Pkcs12, Setting::Pkcs12Password],
            ),
            (
                &[Setting::JwtCert, Setting::JwtKey],
                &[Setting::JwtPkcs12, Setting::JwtPkcs12Password],
            ),
        ];
        for (pair, bundle) in groups {
            if pair.iter().any(|s| higher.is_set(*s)) {
                for s in bundle {
                    self.given.remove(s);
                }
            }
            if higher.is_set(bundle[0]) {
                for s in pair {
                    self.given.remove(s);
                }
            }
        }
        if let Some((_, Value::Str(env))) = higher.given.get(&Setting::Environment)
            && !env.trim().eq_ignore_ascii_case("sandbox")
            && !higher.is_set(Setting::Endpoint)
        {
            self.given.remove(&Setting::Endpoint);
        }
        self.given.extend(higher.given);
        self.host_token_store |= higher.host_token_store;
        if higher.auth_type.is_some() {
            self.auth_type = higher.auth_type;
        }
        self
    }

    /// The settings of a configuration, as if given by `surface` (the file's
    /// values, so that they go through the same rules).
    pub fn from_config(cfg: &Config, surface: Surface) -> Options {
        let mut o = Options::new(surface);
        let Config {
            environment,
            connection,
            endpoint,
            timeout_secs,
            connect_timeout_secs,
            max_retries,
            retry_base_delay_secs,
            proxy,
            validate_locally,
            max_idle_connections,
            tls,
            auth,
            sources,
        } = cfg;
        // A setting keeps the surface it was first given in, when known.
        let mut put = |s: Setting, v: Option<Value>| {
            if let Some(v) = v {
                o.given.insert(s, (sources.of(s).unwrap_or(surface), v));
            }
        };
        let text = |v: &Option<String>| v.clone().map(Value::Str);
        let secret = |v: &Option<Secret>| v.as_ref().map(|s| Value::Str(s.expose().to_owned()));
        let path = |v: &Option<PathBuf>| v.clone().map(Value::Path);
        let pem = |p: &Option<PathBuf>, t: Option<&str>| {
            p.clone()
                .map(Value::Path)
                .or_else(|| t.map(|t| Value::Pem(t.to_owned())))
        };
        let secs = |v: &Option<f64>| v.map(Value::Float);
        let both = [
            (
                Setting::Cert,
                tls.client_cert.is_some() && tls.client_cert_pem.is_some(),
            ),
            (
                Setting::Key,
                tls.client_key.is_some() && tls.client_key_pem.is_some(),
            ),
            (
                Setting::Ca,
                tls.ca_cert.is_some() && tls.ca_cert_pem.is_some(),
            ),
            (
                Setting::JwtCert,
                matches!(auth, Some(AuthSettings::Jwt(j)) if j.cert.is_some() && j.cert_pem.is_some()),
            ),
            (
                Setting::JwtKey,
                matches!(auth, Some(AuthSettings::Jwt(j)) if j.key.is_some() && j.key_pem.is_some()),
            ),
        ];
        o.conflict = both.iter().find(|(_, b)| *b).map(|(s, _)| *s);
        put(
            Setting::Environment,
            environment.map(|e| Value::Str(e.as_str().to_owned())),
        );
        put(
            Setting::Connection,
            connection.map(|c| Value::Str(connection_name(c).to_owned())),
        );
        put(Setting::Endpoint, text(endpoint));
        put(Setting::Timeout, secs(timeout_secs));
        put(Setting::ConnectTimeout, secs(connect_timeout_secs));
        put(
            Setting::MaxRetries,
            max_retries.map(|n| Value::Int(i64::from(n))),
        );
        put(Setting::RetryBaseDelay, secs(retry_base_delay_secs));
        put(Setting::Proxy, text(proxy));
        put(Setting::ValidateLocally, validate_locally.map(Value::Bool));
        put(
            Setting::MaxIdleConnections,
            max_idle_connections.map(|n| Value::Int(i64::try_from(n).unwrap_or(i64::MAX))),
        );
        put(
            Setting::Cert,
            pem(&tls.client_cert, tls.client_cert_pem.as_deref()),
        );
        put(
            Setting::Key,
            pem(
                &tls.client_key,
                tls.client_key_pem.as_ref().map(Secret::expose),
            ),
        );
        put(Setting::Ca, pem(&tls.ca_cert, tls.ca_cert_pem.as_deref()));
        put(Setting::Pkcs12, path(&tls.client_pkcs12));
        put(Setting::Pkcs12Password, secret(&tls.client_pkcs12_password));
        match auth {
            None => {}
            Some(AuthSettings::None) => o.auth_type = Some((surface, "none".to_owned())),
            Some(AuthSettings::Bearer { token }) => {
                o.auth_type = Some((surface, "bearer".to_owned()));
                o.given.insert(
                    Setting::BearerToken,
                    (surface, Value::Str(token.expose().to_owned())),
                );
            }
            Some(AuthSettings::Jwt(j)) => {
                o.auth_type = Some((surface, "jwt".to_owned()));
                let JwtSettings {
                    cert,
                    key,
                    cert_pem,
                    key_pem,
                    alg,
                    pkcs12,
                    pkcs12_password,
                    issuer,
                    start_logon,
                    unset_start_logon,
                    ttl_secs,
                } = j;
                let mut put = |s: Setting, v: Option<Value>| {
                    if let Some(v) = v {
                        o.given.insert(s, (surface, v));
                    }
                };
                put(Setting::JwtCert, pem(cert, cert_pem.as_deref()));
                put(
                    Setting::JwtKey,
                    pem(key, key_pem.as_ref().map(Secret::expose)),
                );
                put(Setting::JwtAlg, text(alg));
                put(Setting::JwtPkcs12, path(pkcs12));
                put(Setting::JwtPkcs12Password, secret(pkcs12_password));
                put(Setting::Issuer, text(issuer));
                put(Setting::StartLogon, text(start_logon));
                put(Setting::UnsetStartLogon, text(unset_start_logon));
                put(
                    Setting::JwtTtl,
                    ttl_secs.map(|n| {
                        let (per_sec, _) = surface.time_unit();
                        Value::Float(n as f64 * per_sec)
                    }),
                );
            }
            Some(AuthSettings::Oauth(oauth)) => {
                o.auth_type = Some((surface, "oauth".to_owned()));
                let OAuthSettings {
                    client_id,
                    client_secret,
                    redirect_uri,
                    endpoint,
                    token_store,
                } = oauth;
                let mut put = |s: Setting, v: Option<Value>| {
                    if let Some(v) = v {
                        o.given.insert(s, (surface, v));
                    }
                };
                put(Setting::OauthClientId, text(client_id));
                put(Setting::OauthClientSecret, secret(client_secret));
                put(Setting::OauthRedirectUri, text(redirect_uri));
                put(Setting::OauthEndpoint, text(endpoint));
                put(Setting::TokenStore, path(token_store));
            }
        }
        // Durations in a configuration are seconds; Node's are milliseconds.
        let (per_sec, _) = surface.time_unit();
        if per_sec != 1.0 {
            for s in [
                Setting::Timeout,
                Setting::ConnectTimeout,
                Setting::RetryBaseDelay,
            ] {
                if let Some((_, Value::Float(v))) = o.given.get_mut(&s) {
                    *v *= per_sec;
                }
            }
        }
        o
    }

    /// Checks every setting and every rule between them, and gives the
    /// configuration. Errors name the setting in the surface's spelling
    /// through [`Error::message_for`]; [`Error::setting`] is the key.
    pub fn to_config(&self) -> Result<Config, Error> {
        let sources = Sources::new(self.given.iter().map(|(s, (surface, _))| (*s, *surface)));
        let mut cfg = self.resolve().map_err(|e| e.given_where(&sources))?;
        cfg.sources = sources;
        Ok(cfg)
    }

    fn resolve(&self) -> Result<Config, Error> {
        if let Some(s) = self.conflict {
            return Err(both_forms(s));
        }
        let mut cfg = Config::default();
        let mut jwt = JwtSettings::default();
        let mut bearer = None;
        let mut oauth = OAuthSettings::default();
        for (&setting, (surface, value)) in &self.given {
            let spec = setting.spec().expect("every given setting has a row");
            let parsed =
                parse(setting, spec.kind, *surface, value).map_err(|e| e.given_in(*surface))?;
            assign(&mut cfg, &mut jwt, &mut bearer, &mut oauth, setting, parsed)?;
        }
        let ways = self.ways(false);
        let auth_type = match &self.auth_type {
            None => None,
            Some((_, t)) => Some(match t.trim().to_ascii_lowercase().as_str() {
                "jwt" => Some(AuthWay::Jwt),
                "bearer" => Some(AuthWay::Bearer),
                "oauth" => Some(AuthWay::OAuth),
                "none" => None,
                _ => {
                    return Err(problem(
                        Setting::Auth,
                        "`type` must be one of jwt, bearer, oauth, none",
                    ));
                }
            }),
        };
        if ways.len() > 1 {
            return Err(problem(
                Setting::Auth,
                format!(
                    "give one way to authenticate, not {} ({}): a JWT ({{jwt_cert}} and \
                     {{jwt_key}}, or {{jwt_pkcs12}}), a bearer token ({{bearer_token}}), \
                     or OAuth ({{oauth_client_id}} with {{token_store}})",
                    ways.len(),
                    ways.iter()
                        .map(|w| w.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(declared) = auth_type
            && let Some(given) = ways.first()
            && declared != Some(*given)
        {
            return Err(problem(
                Setting::Auth,
                format!(
                    "`type` is {} but {} settings are given",
                    declared.map_or("none", AuthWay::as_str),
                    given.as_str()
                ),
            ));
        }
        let way = match auth_type {
            Some(declared) => declared,
            None => ways.first().copied(),
        };
        rules(&cfg, &jwt, way, self.host_token_store)?;
        cfg.auth = match (way, &self.auth_type) {
            (None, Some(_)) => Some(AuthSettings::None),
            (None, None) => None,
            (Some(AuthWay::Jwt), _) => Some(AuthSettings::Jwt(jwt)),
            (Some(AuthWay::Bearer), _) => Some(AuthSettings::Bearer {
                token: bearer
                    .ok_or_else(|| problem(Setting::BearerToken, "required for `type` bearer"))?,
            }),
            (Some(AuthWay::OAuth), _) => Some(AuthSettings::Oauth(oauth)),
        };
        Ok(cfg)
    }
}

fn connection_name(c: Connection) -> &'static str {
    match c {
        Connection::Cloud => "cloud",
        Connection::Desktop => "desktop",
    }
}

/// Puts one parsed setting where the configuration keeps it. Exhaustive:
/// a new [`Setting`] does not compile until it has a place.
fn assign(
    cfg: &mut Config,
    jwt: &mut JwtSettings,
    bearer: &mut Option<Secret>,
    oauth: &mut OAuthSettings,
    setting: Setting,
    parsed: Parsed,
) -> Result<(), Error> {
    let text = |p: Parsed| match p {
        Parsed::Text(s) => s,
        Parsed::Secret(s) => s.expose().to_owned(),
        Parsed::Path(p) => p.display().to_string(),
        Parsed::PemText(t) => t,
        Parsed::Seconds(n) => n.to_string(),
        Parsed::Count(n) => n.to_string(),
        Parsed::Bool(b) => b.to_string(),
    };
    let secret = |p: Parsed| match p {
        Parsed::Secret(s) => s,
        other => Secret::new(text(other)),
    };
    let path = |p: Parsed| match p {
        Parsed::Path(p) => p,
        other => PathBuf::from(text(other)),
    };
    let pem = |p: Parsed, file: &mut Option<PathBuf>, inline: &mut Option<String>| match p {
        Parsed::Path(p) => *file = Some(p),
        Parsed::PemText(t) => *inline = Some(t),
        other => *inline = Some(text(other)),
    };
    let secs = |p: Parsed| match p {
        Parsed::Seconds(n) => n,
        Parsed::Count(n) => n as f64,
        _ => 0.0,
    };
    let count = |p: Parsed| match p {
        Parsed::Count(n) => n,
        _ => 0,
    };
    let tls = &mut cfg.tls;
    match setting {
        Setting::Environment => {
            cfg.environment = Some(text(parsed).parse()?);
        }
        Setting::Connection => {
            cfg.connection = Some(match text(parsed).as_str() {
                "desktop" => Connection::Desktop,
                _ => Connection::Cloud,
            });
        }
        Setting::Endpoint => cfg.endpoint = Some(text(parsed)),
        Setting::Cert => pem(parsed, &mut tls.client_cert, &mut tls.client_cert_pem),
        Setting::Key => {
            let mut inline = None;
            pem(parsed, &mut tls.client_key, &mut inline);
            tls.client_key_pem = inline.map(Secret::new);
        }
        Setting::Ca => pem(parsed, &mut tls.ca_cert, &mut tls.ca_cert_pem),
        Setting::Pkcs12 => tls.client_pkcs12 = Some(path(parsed)),
        Setting::Pkcs12Password => tls.client_pkcs12_password = Some(secret(parsed)),
        Setting::JwtCert => pem(parsed, &mut jwt.cert, &mut jwt.cert_pem),
        Setting::JwtKey => {
            let mut inline = None;
            pem(parsed, &mut jwt.key, &mut inline);
            jwt.key_pem = inline.map(Secret::new);
        }
        Setting::JwtPkcs12 => jwt.pkcs12 = Some(path(parsed)),
        Setting::JwtPkcs12Password => jwt.pkcs12_password = Some(secret(parsed)),
        Setting::JwtAlg => jwt.alg = Some(text(parsed)),
        Setting::Issuer => jwt.issuer = Some(text(parsed)),
        Setting::StartLogon => jwt.start_logon = Some(text(parsed)),
        Setting::UnsetStartLogon => jwt.unset_start_logon = Some(text(parsed)),
        Setting::JwtTtl => jwt.ttl_secs = Some(count(parsed)),
        Setting::BearerToken => *bearer = Some(secret(parsed)),
        Setting::OauthClientId => oauth.client_id = Some(text(parsed)),
        Setting::OauthClientSecret => oauth.client_secret = Some(secret(parsed)),
        Setting::OauthRedirectUri => oauth.redirect_uri = Some(text(parsed)),
        Setting::OauthEndpoint => oauth.endpoint = Some(text(parsed)),
        Setting::TokenStore => oauth.token_store = Some(path(parsed)),
        Setting::Timeout => cfg.timeout_secs = Some(secs(parsed)),
        Setting::ConnectTimeout => cfg.connect_timeout_secs = Some(secs(parsed)),
        Setting::MaxRetries => cfg.max_retries = Some(count(parsed) as u32),
        Setting::RetryBaseDelay => cfg.retry_base_delay_secs = Some(secs(parsed)),
        Setting::Proxy => cfg.proxy = Some(text(parsed)),
        Setting::ValidateLocally => {
            cfg.validate_locally = Some(matches!(parsed, Parsed::Bool(true)));
        }
        Setting::MaxIdleConnections => {
            cfg.max_idle_connections = Some(usize::try_from(count(parsed)).unwrap_or(usize::MAX));
        }
        Setting::Auth => {}
    }
    Ok(())
}

/// The rules between settings: pairs, what goes only with what.
fn rules(
    cfg: &Config,
    jwt: &JwtSettings,
    way: Option<AuthWay>,
    host_store: bool,
) -> Result<(), Error> {
    let t = &cfg.tls;
    let cert = t.client_cert.is_some() || t.client_cert_pem.is_some();
    let key = t.client_key.is_some() || t.client_key_pem.is_some();
    if t.client_pkcs12.is_some() && (cert || key) {
        return Err(problem(
            Setting::Pkcs12,
            "give {pkcs12} or {cert} and {key}, not both",
        ));
    }
    if t.client_pkcs12.is_none() && t.client_pkcs12_password.is_some() {
        return Err(problem(
            Setting::Pkcs12Password,
            "is only used with {pkcs12}",
        ));
    }
    if cert && !key {
        return Err(problem(Setting::Key, "required with {cert}"));
    }
    if key && !cert {
        return Err(problem(Setting::Cert, "required with {key}"));
    }
    if way == Some(AuthWay::Jwt) {
        let cert = jwt.cert.is_some() || jwt.cert_pem.is_some();
        let key = jwt.key.is_some() || jwt.key_pem.is_some();
        if jwt.pkcs12.is_some() && (cert || key) {
            return Err(problem(
                Setting::JwtPkcs12,
                "give {jwt_pkcs12} or {jwt_cert} and {jwt_key}, not both",
            ));
        }
        if jwt.pkcs12.is_none() && jwt.pkcs12_password.is_some() {
            return Err(problem(
                Setting::JwtPkcs12Password,
                "is only used with {jwt_pkcs12}",
            ));
        }
        if jwt.pkcs12.is_none() && !cert {
            return Err(problem(
                Setting::JwtCert,
                "required for JWT auth (or {jwt_pkcs12})",
            ));
        }
        if jwt.pkcs12.is_none() && !key {
            return Err(problem(
                Setting::JwtKey,
                "required for JWT auth (or {jwt_pkcs12})",
            ));
        }
    }
    // What OAuth requires (client id, secret, a token store) is checked when
    // the client is built: a host may give its token store only then.
    if host_store && way != Some(AuthWay::OAuth) {
        return Err(problem(
            Setting::TokenStore,
            "is only used with OAuth ({oauth_client_id}, {oauth_client_secret})",
        ));
    }
    Ok(())
}

/// Replaces the token store of a configuration read from a file (the
/// bindings' `from_config(path, token_store=...)`): `Some(path)` for another
/// file, `None` for a store object of the host's. Only an OAuth
/// configuration has one: any other is an error, never silently ignored.
pub fn override_token_store(cfg: &mut Config, file: Option<PathBuf>) -> Result<(), Error> {
    match &mut cfg.auth {
        Some(AuthSettings::Oauth(o)) => {
            o.token_store = file;
            Ok(())
        }
        _ => Err(problem(
            Setting::TokenStore,
            "is only used with OAuth (`[auth] type = \"oauth\"`)",
        )
        .in_call(Call::FromConfig)),
    }
}

/// The JWT settings of the one-shot mint (Python `mint_jwt`, Node `mintJwt`)
/// from its arguments, by their names in `surface` (`cert`, `key`, `alg`,
/// `issuer`, `start_logon` or `startLogon`, `unset_start_logon` or
/// `unsetStartLogon`, `ttl`), through the schema: the same types, ranges and
/// units as a client's JWT settings (Node's `ttl` in milliseconds, as
/// `jwtTtl`), and errors that name the arguments.
pub fn mint_jwt_settings<'a>(
    surface: Surface,
    args: impl IntoIterator<Item = (&'a str, Value)>,
) -> Result<JwtSettings, Error> {
    let in_call = |e: Error| e.in_call(Call::MintJwt);
    let mut o = Options::new(surface);
    for (name, value) in args {
        let arg = MINT_JWT_ARGS
            .iter()
            .find(|(_, python, node, cli)| match surface {
                Surface::Node => *node == name.strip_prefix("options.").unwrap_or(name),
                Surface::Cli => *cli == name,
                _ => *python == name,
            });
        let Some(&(setting, ..)) = arg else {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
            return Err(Error::new(
                ErrorKind::Config,
                format!("unknown argument `{shown}` of the JWT mint"),
            ));
        };
        o.set_setting(setting, value);
    }
    match o.to_config().map_err(in_call)?.auth {
        Some(AuthSettings::Jwt(jwt)) => Ok(jwt),
        _ => Err(in_call(problem(Setting::JwtCert, "is required"))),
    }
}

/// A PEM given both as a file and as text (only a file can say both).
fn both_forms(s: Setting) -> Error {
    let spec = s.spec().expect("a PEM setting");
    problem(
        s,
        format!(
            "give `{}` or `{}`, not both",
            spec.toml,
            spec.toml_inline.unwrap_or(spec.toml)
        ),
    )
}

/// The configuration in a TOML or JSON document, through the schema.
pub(crate) fn from_document(
    surface: Surface,
    top: &serde_json::Map<String, serde_json::Value>,
) -> Result<Config, Error> {
    // Errors name the setting as the document spells it, whichever surface
    // reports them (a file given to the CLI or to Python says `max_retries`
    // or `tls.client_key`, not `--max-retries` or `key`).
    let mut o = Options::new(surface);
    walk(&mut o, surface, "", top).map_err(|e| e.given_in(surface))?;
    o.to_config().map_err(|e| e.given_in(surface))
}

fn doc_value(v: &serde_json::Value, inline: bool, kind: Kind) -> Value {
    use serde_json::Value as J;
    match v {
        J::String(s) if inline => Value::Pem(s.clone()),
        J::String(s) if matches!(kind, Kind::Pem | Kind::Path) => Value::Path(PathBuf::from(s)),
        J::String(s) => Value::Str(s.clone()),
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n
                .as_f64()
                .map_or(Value::Other("a number out of range"), Value::Float),
        },
        J::Null => Value::Other("null"),
        J::Array(_) => Value::Other("an array"),
        J::Object(_) => Value::Other("a table"),
    }
}

fn walk(
    o: &mut Options,
    surface: Surface,
    prefix: &str,
    table: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Error> {
    for (k, v) in table {
        let path = format!("{prefix}{k}");
        if (path == "tls" || path == "auth") && prefix.is_empty() {
            let serde_json::Value::Object(inner) = v else {
                let got = doc_value(v, false, Kind::Text);
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("config `{path}`: must be a table (got {})", got.type_name()),
                ));
            };
            walk(o, surface, &format!("{path}."), inner)?;
            continue;
        }
        if path == "auth.type" {
            match v {
                serde_json::Value::String(s) => {
                    o.auth_type = Some((surface, s.clone()));
                }
                other => {
                    return Err(wrong_type(
                        Setting::Auth,
                        "a string",
                        &doc_value(other, false, Kind::Text),
                    ));
                }
            }
            continue;
        }
        let Some(spec) = SPECS
            .iter()
            .find(|s| s.toml == path || s.toml_inline == Some(path.as_str()))
        else {
            let shown: String = path.chars().filter(|c| !c.is_control()).take(60).collect();
            return Err(Error::new(
                ErrorKind::Config,
                format!("config: unknown key `{shown}`"),
            ));
        };
        let inline = spec.toml_inline == Some(path.as_str());
        if o.given.contains_key(&spec.setting) {
            return Err(both_forms(spec.setting));
        }
        o.given
            .insert(spec.setting, (surface, doc_value(v, inline, spec.kind)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    #[test]
    fn every_name_is_unique_per_surface() {
        for surface in Surface::ALL {
            let mut names: Vec<String> = SPECS
                .iter()
                .map(|s| s.setting.name_in(surface).into_owned())
                .collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{surface:?}");
            for s in Setting::all() {
                assert_eq!(
                    Setting::from_name(surface, &s.name_in(surface)),
                    Some(s),
                    "{surface:?} {s:?}"
                );
            }
        }
    }

    /// The one-shot JWT mint names its arguments without `jwt_`, and an error
    /// from it says so on every surface; TOML and JSON keep their keys.
    #[test]
    fn the_jwt_mint_names_its_own_arguments() {
        for (setting, python, node, cli) in MINT_JWT_ARGS {
            assert_eq!(
                setting.spec().and_then(|s| s.way),
                Some(AuthWay::Jwt),
                "{setting:?}"
            );
            assert_eq!(setting.name_for(Surface::Python, Call::MintJwt), python);
            assert_eq!(
                setting.name_for(Surface::Node, Call::MintJwt),
                format!("options.{node}")
            );
            assert_eq!(setting.name_for(Surface::Cli, Call::MintJwt), cli);
            assert_eq!(
                setting.name_for(Surface::Toml, Call::MintJwt),
                setting.name_in(Surface::Toml)
            );
        }
        assert_eq!(
            Setting::Cert.name_for(Surface::Python, Call::MintJwt),
            "cert"
        );
        assert_eq!(
            Setting::JwtPkcs12.name_for(Surface::Python, Call::MintJwt),
            "jwt_pkcs12"
        );
        let e = Error::for_setting(Setting::JwtKey, "does not match {jwt_cert}", false);
        assert_eq!(e.setting_name(Surface::Python).as_deref(), Some("jwt_key"));
        let e = e.in_call(Call::MintJwt);
        assert_eq!(e.setting_name(Surface::Python).as_deref(), Some("key"));
        for (surface, message) in [
            (Surface::Python, "config `key`: does not match cert"),
            (
                Surface::Node,
                "config `options.key`: does not match options.cert",
            ),
            (Surface::Cli, "config `--key`: does not match --cert"),
            (Surface::Toml, "config `auth.key`: does not match auth.cert"),
        ] {
            assert_eq!(e.message_for(surface), message);
        }
    }

    /// The mint's arguments go through the schema under their own names.
    #[test]
    fn the_jwt_mints_arguments_follow_the_schema() {
        let jwt = mint_jwt_settings(
            Surface::Node,
            [
                ("cert", Value::Str("/c.pem".into())),
                ("key", Value::Str("/k.pem".into())),
                ("issuer", Value::Str("Acme".into())),
                ("startLogon", Value::Str("ops".into())),
                ("ttl", Value::Float(600_000.0)),
            ],
        )
        .expect("settings");
        assert_eq!(jwt.cert.as_deref(), Some(std::path::Path::new("/c.pem")));
        assert_eq!(jwt.issuer.as_deref(), Some("Acme"));
        assert_eq!(jwt.start_logon.as_deref(), Some("ops"));
        assert_eq!(jwt.ttl_secs, Some(600));

        let e = mint_jwt_settings(Surface::Python, [("key", Value::Str("/k.pem".into()))])
            .expect_err("no cert");
        assert_eq!(e.setting_name(Surface::Python).as_deref(), Some("cert"));
        let e = mint_jwt_settings(
            Surface::Python,
            [
                ("cert", Value::Str("/c.pem".into())),
                ("key", Value::Str("/k.pem".into())),
                ("ttl", Value::Int(5)),
            ],
        )
        .expect_err("too short");
        assert_eq!(
            e.message_for(Surface::Python),
            "config `ttl`: must be a whole number of seconds from 60 to 28800"
        );
        // Only the mint's own names: not a client's.
        for name in ["jwt_cert", "environment"] {
            let e = mint_jwt_settings(Surface::Python, [(name, Value::Str("x".into()))])
                .expect_err("not an argument");
            assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
        }
    }

    /// Where a setting was given survives into the Config and names errors
    /// found when the client is built; `==` ignores it.
    #[test]
    fn errors_found_when_building_name_the_setting_where_it_was_given() {
        let toml = "environment = \"test\"\n[tls]\nclient_cert = \"/nonexistent/c.pem\"\nclient_key = \"/nonexistent/k.pem\"\n";
        let from_file = Config::from_toml_str(toml).expect("config");
        let e = crate::Client::from_config(&from_file).expect_err("no such file");
        assert!(
            e.message_for(Surface::Cli)
                .starts_with("config `tls.client_cert`: cannot read"),
            "{e}"
        );
        let mut o = Options::new(Surface::Python);
        for (name, value) in [
            ("environment", "test"),
            ("cert", "/nonexistent/c.pem"),
            ("key", "/nonexistent/k.pem"),
        ] {
            o.set(name, Value::Str(value.into())).expect("known");
        }
        let from_keywords = o.to_config().expect("config");
        assert_eq!(from_keywords, from_file);
        let e = crate::Client::from_config(&from_keywords).expect_err("no such file");
        assert!(
            e.message_for(Surface::Python)
                .starts_with("config `cert`: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn placeholders_take_each_surface_spelling() {
        assert_eq!(
            render_problem("required with {cert}", Surface::Toml, Call::Client),
            "required with tls.client_cert"
        );
        assert_eq!(
            render_problem("required with {cert}", Surface::Node, Call::Client),
            "required with options.cert"
        );
        assert_eq!(
            render_problem("{nope} {", Surface::Cli, Call::Client),
            "{nope} {"
        );
    }

    #[test]
    fn enum_aliases_and_case() {
        let mut o = Options::new(Surface::Python);
        o.set("environment", Value::Str(" PROD ".into()))
            .expect("ok");
        o.set("connection", Value::Str("Cloud".into())).expect("ok");
        let cfg = o.to_config().expect("ok");
        assert_eq!(cfg.environment, Some(Environment::Production));
        assert_eq!(cfg.connection, Some(Connection::Cloud));
    }

    #[test]
    fn node_durations_are_milliseconds() {
        let mut o = Options::new(Surface::Node);
        o.set("timeout", Value::Float(1500.0)).expect("ok");
        assert_eq!(o.to_config().expect("ok").timeout_secs, Some(1.5));
        let back = Options::from_config(&o.to_config().expect("ok"), Surface::Node);
        assert_eq!(back.to_config().expect("ok").timeout_secs, Some(1.5));
    }
}

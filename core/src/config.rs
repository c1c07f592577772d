//! The client configuration schema, shared by the TOML file, the C ABI's JSON,
//! the CLI and the sandbox's ready-made `nzpir.toml`.
//!
//! ```toml
//! environment = "sandbox"                 # production | test | mock | sandbox
//! endpoint = "https://127.0.0.1:8443"     # base URL; overrides the environment's
//! timeout_secs = 60
//! max_retries = 2
//!
//! [tls]
//! client_cert = "client.pem"              # relative paths are relative to this file
//! client_key = "client.key"
//! ca_cert = "ca.pem"                      # extra trusted root (the sandbox's CA)
//! # or, instead of client_cert/client_key, a PKCS#12 bundle:
//! # client_pkcs12 = "client.p12"
//! # client_pkcs12_password = "..."        # better: NZPIR_PKCS12_PASSWORD
//!
//! [auth]
//! type = "jwt"                            # jwt | bearer | oauth | none
//! cert = "jwt-rs256.pem"
//! key = "jwt-rs256.key"
//! alg = "RS256"
//! issuer = "My Fund Admin Ltd"
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, parse_error_text};

/// A secret string (token, client secret, inline private key). `Debug` and
/// `Display` never show it, and its memory is zeroised when it is dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself; use it only where it must go (a header, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The secret's bytes are overwritten when it is dropped, so that a token or
/// key does not linger in freed memory (a core dump, a later allocation).
impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

impl zeroize::Zeroize for Secret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// Where IR's gateway is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// IR's production gateway (mutual TLS, port 4046).
    Production,
    /// IR's test gateway (mutual TLS, port 4046).
    Test,
    /// IR's mock service (server TLS only, IP allow-listed).
    Mock,
    /// nzpir's local sandbox; needs an explicit `endpoint`.
    Sandbox,
}

/// Cloud connections use mutual TLS on port 4046; desktop ones one-way TLS on 443.
/// IR offers PIR on cloud endpoints only: a client configured for a desktop
/// connection is refused with a configuration error (there is no desktop PIR
/// URL to guess). The setting stays for IR's other services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Mutual TLS with a client certificate.
    #[default]
    Cloud,
    /// One-way TLS; no refresh tokens.
    Desktop,
}

impl Environment {
    /// The PIR gateway's base URL (scheme, host and port), if the environment
    /// has a fixed one for that connection (none for desktop: PIR is cloud-only).
    pub fn gateway_base(self, connection: Connection) -> Option<&'static str> {
        match (self, connection) {
            (Environment::Production, Connection::Cloud) => {
                Some("https://services.ird.govt.nz:4046")
            }
            (Environment::Test, Connection::Cloud) => {
                Some("https://test5.services.ird.govt.nz:4046")
            }
            // IR has no desktop PIR endpoint.
            (Environment::Production | Environment::Test, Connection::Desktop) => None,
            (Environment::Mock, _) => Some("https://pir.test.services.ird.govt.nz"),
            (Environment::Sandbox, _) => None,
        }
    }

    /// The OAuth server's base URL, if the environment has a fixed one.
    pub fn oauth_base(self) -> Option<&'static str> {
        match self {
            Environment::Production => Some("https://services.ird.govt.nz"),
            Environment::Test => Some("https://test5.services.ird.govt.nz"),
            Environment::Mock => Some("https://oauth.test.services.ird.govt.nz"),
            Environment::Sandbox => None,
        }
    }

    /// Whether IR's gateway in this environment asks for a client certificate.
    pub fn requires_client_identity(self, connection: Connection) -> bool {
        connection == Connection::Cloud
            && matches!(
                self,
                Environment::Production | Environment::Test | Environment::Sandbox
            )
    }

    /// The name as the configuration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Test => "test",
            Environment::Mock => "mock",
            Environment::Sandbox => "sandbox",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "test" => Ok(Environment::Test),
            "mock" => Ok(Environment::Mock),
            "sandbox" => Ok(Environment::Sandbox),
            _ => Err(Error::config(
                "environment",
                "must be one of production, test, mock, sandbox",
            )),
        }
    }
}

/// TLS settings: the client identity and extra trusted roots. Each PEM can be a
/// file path or inline text (`*_pem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file with the client certificate (and its chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// PEM file with the client's private key (PKCS#8, SEC1 or PKCS#1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// The client certificate chain as PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_pem: Option<String>,
    /// The client's private key as PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_pem: Option<Secret>,
    /// PEM file with extra trusted root certificates (added to the public roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// Extra trusted roots as PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_pem: Option<String>,
    /// A PKCS#12 bundle (`.p12`/`.pfx`) with the client certificate, its
    /// chain and its key, instead of `client_cert` and `client_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_pkcs12: Option<PathBuf>,
    /// The PKCS#12 bundle's password (none: an empty password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_pkcs12_password: Option<Secret>,
}

/// M2M JWT settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// PEM file with the signing certificate registered with IR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// PEM file with the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// The signing certificate as PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
    /// The signing key as PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<Secret>,
    /// The algorithm configured for the credential at IR: RS256 (default for
    /// RSA), RS384, RS512, ES256, ES384 or ES512 (IR's list), or PS256 (not on
    /// IR's list; for a credential deliberately configured with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// A PKCS#12 bundle (`.p12`/`.pfx`) with the signing certificate and
    /// key, instead of `cert` and `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12: Option<PathBuf>,
    /// The PKCS#12 bundle's password (none: an empty password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password: Option<Secret>,
    /// `iss`: the provider's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `startLogon`: a myIR logon, or empty to be authorised by the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_logon: Option<String>,
    /// What `startLogon` carries when no logon is set: `null` (the default, as
    /// IR's build packs say) or `empty` (`""`, as IR's sample script sends),
    /// for a gateway that wants the empty string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unset_start_logon: Option<String>,
    /// Token lifetime in seconds (default 540, IR's example; 60 to 28800,
    /// IR's 8-hour limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// OAuth 2.0 settings (a myIR user consented).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// The client id IR issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The client secret IR issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// The redirect URI registered with IR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The OAuth server's base URL; overrides the environment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The file that keeps the tokens (written atomically, mode 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_store: Option<PathBuf>,
}

/// How each call is authenticated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthSettings {
    /// M2M: a client-signed JWT in `Authorization`.
    Jwt(JwtSettings),
    /// A static bearer token (`Authorization: Bearer ...`).
    Bearer {
        /// The access token.
        token: Secret,
    },
    /// OAuth: a bearer token that refreshes itself.
    Oauth(OAuthSettings),
    /// No `Authorization` header (IR's mock, tests of EV1025).
    None,
}

/// The whole client configuration. `Debug` hides secrets, and the user name
/// and password of a proxy URL.
///
/// The TOML file, the C ABI's JSON, and every binding's settings reach it
/// through the options schema ([`crate::options`]), which holds the rules.
/// It may gain fields: build one with [`Config::new`] (or `default`) and the
/// `with_*` setters, or set its public fields.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// production, test, mock or sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// cloud (default) or desktop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// The gateway's base URL (scheme, host, port); the client appends
    /// `/gateway/calculators/pir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Overall timeout per attempt, in seconds (default 65: IR's gateway times out at 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<f64>,
    /// Connect timeout, in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<f64>,
    /// Retries after the first attempt, for transient faults only (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Base delay before the first retry, in seconds (default 0.25; doubles per
    /// retry, with full jitter, up to 8 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_base_delay_secs: Option<f64>,
    /// HTTP(S) proxy URL; when absent, `HTTPS_PROXY`/`NO_PROXY` are honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Validate requests locally before sending (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_locally: Option<bool>,
    /// Idle connections kept open for reuse (default 32). 0 keeps none: every
    /// call opens a new connection, with a full TLS handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_idle_connections: Option<usize>,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "is_default_tls")]
    pub tls: TlsSettings,
    /// Authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSettings>,
    /// Where each setting was given, so that an error found when the client
    /// is built names it there (a file's key, a variable, a flag).
    #[serde(skip)]
    pub(crate) sources: Sources,
}

/// Where each setting of a [`Config`] was given (a TOML file, a variable, a
/// flag, a keyword). It is not part of the configuration's value: `==`,
/// `Debug` and serde ignore it.
#[derive(Clone, Default)]
pub(crate) struct Sources(
    std::collections::BTreeMap<crate::options::Setting, crate::options::Surface>,
);

impl Sources {
    pub(crate) fn new(
        given: impl IntoIterator<Item = (crate::options::Setting, crate::options::Surface)>,
    ) -> Self {
        Sources(given.into_iter().collect())
    }

    /// Where `setting` was given, if it is known.
    pub(crate) fn of(&self, setting: crate::options::Setting) -> Option<crate::options::Surface> {
        self.0.get(&setting).copied()
    }
}

impl PartialEq for Sources {
    fn eq(&self, _: &Sources) -> bool {
        true
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("connection", &self.connection)
            .field("endpoint", &self.endpoint)
            .field("timeout_secs", &self.timeout_secs)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay_secs", &self.retry_base_delay_secs)
            .field("proxy", &self.proxy.as_deref().map(without_userinfo))
            .field("validate_locally", &self.validate_locally)
            .field("max_idle_connections", &self.max_idle_connections)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A URL with any user name and password replaced (`http://<redacted>@host:port`).
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None if url.contains('@') => "<redacted>".to_owned(),
        None => url.to_owned(),
    }
}

fn is_default_tls(t: &TlsSettings) -> bool {
    *t == TlsSettings::default()
}

fn resolve(base: &Path, p: &mut Option<PathBuf>) {
    if let Some(path) = p
        && path.is_relative()
    {
        *path = base.join(&*path);
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $with:ident $field:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $with(mut self, value: $ty) -> Self {
                self.$field = Some(value);
                self
            }
        )*
    };
}

impl Config {
    /// An empty configuration (every setting at its default).
    pub fn new() -> Self {
        Config::default()
    }

    setters! {
        /// IR's environment.
        with_environment environment: Environment,
        /// Cloud (the default) or desktop.
        with_connection connection: Connection,
        /// The gateway's base URL.
        with_endpoint endpoint: String,
        /// Seconds one attempt may take.
        with_timeout_secs timeout_secs: f64,
        /// Seconds to open a connection.
        with_connect_timeout_secs connect_timeout_secs: f64,
        /// Retries after the first attempt.
        with_max_retries max_retries: u32,
        /// Seconds before the first retry.
        with_retry_base_delay_secs retry_base_delay_secs: f64,
        /// An HTTP(S) proxy URL.
        with_proxy proxy: String,
        /// Whether requests are checked locally before sending.
        with_validate_locally validate_locally: bool,
        /// Idle connections kept for reuse.
        with_max_idle_connections max_idle_connections: usize,
        /// How each call is authenticated.
        with_auth auth: AuthSettings,
    }

    /// The TLS settings.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsSettings) -> Self {
        self.tls = tls;
        self
    }

    /// Parses TOML text through the options schema. Relative paths stay
    /// relative (to the current directory).
    pub fn from_toml_str(text: &str) -> Result<Self, Error> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("config TOML: {}", parse_error_text(e.message())),
            )
        })?;
        let doc = match serde_json::to_value(table) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(Error::new(ErrorKind::Config, "config TOML: not a table")),
        };
        crate::options::from_document(crate::options::Surface::Toml, &doc)
    }

    /// Parses JSON text (the C ABI's form; the same keys and rules as the
    /// TOML file).
    pub fn from_json_str(text: &str) -> Result<Self, Error> {
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("config JSON: {}", parse_error_text(&e.to_string())),
            )
        })?;
        match doc {
            serde_json::Value::Object(m) => {
                crate::options::from_document(crate::options::Surface::Json, &m)
            }
            _ => Err(Error::new(
                ErrorKind::Config,
                "config JSON: must be an object",
            )),
        }
    }

    /// Reads a TOML (or, by extension `.json`, JSON) file. Relative paths inside
    /// are resolved against the file's folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(
                "config file",
                format!(
                    "cannot read {}: {e}",
                    crate::error::scrub(&path.display().to_string())
                ),
            )
        })?;
        let mut cfg = if path.extension().is_some_and(|e| e == "json") {
            Self::from_json_str(&text)?
        } else {
            Self::from_toml_str(&text)?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        Ok(cfg)
    }

    /// Makes every relative path absolute against `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        resolve(base, &mut self.tls.client_cert);
        resolve(base, &mut self.tls.client_key);
        resolve(base, &mut self.tls.ca_cert);
        resolve(base, &mut self.tls.client_pkcs12);
        match &mut self.auth {
            Some(AuthSettings::Jwt(j)) => {
                resolve(base, &mut j.cert);
                resolve(base, &mut j.key);
                resolve(base, &mut j.pkcs12);
            }
            Some(AuthSettings::Oauth(o)) => resolve(base, &mut o.token_store),
            _ => {}
        }
    }

    /// The configuration as TOML text.
    pub fn to_toml_string(&self) -> Result<String, Error> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::new(ErrorKind::Config, format!("config TOML: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_key_bytes_are_zeroised_on_drop() {
        fn zeroised_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroised_on_drop::<Secret>();
        zeroised_on_drop::<crate::oauth::TokenSet>();
        // What the drop does, observed before the memory is freed.
        let mut s = Secret::new("rt-0123456789abcdef");
        zeroize::Zeroize::zeroize(&mut s);
        assert_eq!(s.expose(), "");
    }

    const SAMPLE: &str = r#"
environment = "sandbox"
endpoint = "https://127.0.0.1:8443"
timeout_secs = 30
max_retries = 1

[tls]
client_cert = "client.pem"
client_key = "/abs/client.key"
ca_cert = "ca.pem"

[auth]
type = "jwt"
cert = "jwt.pem"
key = "jwt.key"
alg = "RS256"
issuer = "Acme Funds"
"#;

    #[test]
    fn toml_round_trip_and_paths() {
        let mut cfg = Config::from_toml_str(SAMPLE).expect("parses");
        assert_eq!(cfg.environment, Some(Environment::Sandbox));
        cfg.resolve_paths(Path::new("/etc/nzpir"));
        assert_eq!(
            cfg.tls.client_cert.as_deref(),
            Some(Path::new("/etc/nzpir/client.pem"))
        );
        assert_eq!(
            cfg.tls.client_key.as_deref(),
            Some(Path::new("/abs/client.key"))
        );
        let Some(AuthSettings::Jwt(j)) = &cfg.auth else {
            panic!("jwt auth expected");
        };
        assert_eq!(j.key.as_deref(), Some(Path::new("/etc/nzpir/jwt.key")));
        let again = Config::from_toml_str(&cfg.to_toml_string().expect("toml")).expect("parses");
        assert_eq!(again, cfg);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::from_toml_str("enviroment = \"test\"").expect_err("typo");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("enviroment"), "{e}");
        let e = Config::from_json_str(r#"{"auth":{"type":"magic"}}"#).expect_err("bad type");
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = Config::from_json_str(r#"{"environment":"staging"}"#).expect_err("bad env");
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn parse_errors_do_not_quote_values() {
        // Found by fuzzing: a string of the wrong type was quoted in the
        // message, e.g. a token pasted as the whole `auth` setting.
        let token = "eyJhbGciOiJSUzI1NiJ9.sekrit-token-value";
        let e = Config::from_toml_str(&format!("auth = \"{token}\"")).expect_err("not a table");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!e.to_string().contains("sekrit"), "{e}");
        assert!(e.to_string().contains("must be a table"), "{e}");
        let e = Config::from_json_str(&format!(r#"{{"auth":"Bearer {token}"}}"#))
            .expect_err("not an object");
        assert!(!e.to_string().contains("sekrit"), "{e}");
        let e = Config::from_json_str(
            r#"{"tls":{"client_key_pem":{"pem":"MIIEv"}},"max_retries":"MIIEvQIBADANBg"}"#,
        )
        .expect_err("wrong types");
        assert!(!e.to_string().contains("MIIEv"), "{e}");
    }

    #[test]
    fn secrets_do_not_show() {
        let cfg =
            Config::from_json_str(r#"{"auth":{"type":"bearer","token":"sekrit-token-value"}}"#)
                .expect("parses");
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("sekrit"), "{dbg}");
    }

    #[test]
    fn proxy_credentials_do_not_show() {
        for (proxy, shown) in [
            (
                "http://user:pa55@proxy:3128",
                "http://<redacted>@proxy:3128",
            ),
            (
                "http://pa55@proxy:3128/x@y",
                "http://<redacted>@proxy:3128/x@y",
            ),
            ("user:pa55@proxy:3128", "<redacted>"),
            ("http://proxy:3128", "http://proxy:3128"),
        ] {
            let cfg = Config {
                proxy: Some(proxy.to_owned()),
                ..Config::default()
            };
            let dbg = format!("{cfg:?}");
            assert!(dbg.contains(&format!("{shown:?}")), "{dbg}");
            assert!(!dbg.contains("pa55"), "{dbg}");
        }
    }
}

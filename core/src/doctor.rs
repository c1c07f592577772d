//! Checks a configuration against IR's requirements and the live gateway,
//! one [`Check`] at a time, each with what to do about it: the logic behind
//! `nzpir doctor`, for every surface.
//!
//! Local checks (the client certificate and key, the JWT credential) never
//! touch the network; the gateway checks (DNS, TCP, the TLS handshake, the
//! clock against the gateway's `Date`, the status endpoint, and optionally
//! one real lookup) run after them. A check that cannot run because an
//! earlier one failed is reported as [`CheckStatus::Skipped`].
//!
//! Nothing a check reports holds a secret or an IRD number.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::client::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use crate::config::{AuthSettings, Config, Connection, Environment, JwtSettings, Secret};
use crate::error::{Cause, Error, ErrorKind, scrub};
use crate::jwt::{JwtAlgorithm, JwtSigner};
use crate::operation::STATUS_PATH;
use crate::pem::{self, KeyType};
use crate::tls;
use crate::transport::Endpoint;
use crate::validate::{Clock, SystemClock};
use crate::{Client, PirRequest};

/// A certificate expiring within this many days is warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
/// A clock further than this from the gateway's is warned about (seconds).
pub const CLOCK_SKEW_WARNING_SECS: i64 = 30;
/// The longest lifetime IR accepts for a JWT signing certificate (4 years).
pub const MAX_JWT_CERT_DAYS: i64 = 4 * 366;

/// The certificate authorities on IR's approved list, and the organisation
/// names their certificates carry (root and intermediate issuers).
pub const APPROVED_CAS: [(&str, &[&str]); 8] = [
    ("Amazon", &["amazon"]),
    ("Comodo", &["comodo"]),
    ("DigiCert", &["digicert"]),
    ("Entrust", &["entrust"]),
    ("GeoTrust", &["geotrust"]),
    (
        "Let's Encrypt",
        &["let's encrypt", "internet security research group"],
    ),
    ("Sectigo", &["sectigo", "usertrust"]),
    ("Thawte", &["thawte"]),
];

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// Meets IR's requirements.
    Ok,
    /// Works, but needs attention (or is expected, as the sandbox's CA).
    Warn,
    /// Will not work with IR.
    Fail,
    /// Not run: an earlier check failed, or nothing to check.
    Skipped,
}

impl CheckStatus {
    /// `ok`, `warn`, `fail` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Skipped => "skip",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// A stable name, e.g. `client_cert.dates`, `gateway.tls`.
    pub id: &'static str,
    /// How it came out.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do (for warnings and failures).
    pub action: Option<String>,
    /// The class of a failure, for exit codes: `Config`, `Authentication`,
    /// `Tls`, `Transport`... (`None` unless the check failed).
    pub kind: Option<ErrorKind>,
}

impl Check {
    fn ok(id: &'static str, detail: impl Into<String>) -> Check {
        Check {
            id,
            status: CheckStatus::Ok,
            detail: detail.into(),
            action: None,
            kind: None,
        }
    }

    fn warn(id: &'static str, detail: impl Into<String>, action: impl Into<String>) -> Check {
        Check {
            id,
            status: CheckStatus::Warn,
            detail: detail.into(),
            action: Some(action.into()),
            kind: None,
        }
    }

    fn fail(
        id: &'static str,
        kind: ErrorKind,
        detail: impl Into<String>,
        action: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status: CheckStatus::Fail,
            detail: detail.into(),
            action: Some(action.into()),
            kind: Some(kind),
        }
    }

    fn from_error(id: &'static str, e: &Error, action: impl Into<String>) -> Check {
        Check::fail(id, e.kind(), e.to_string(), action)
    }

    fn skipped(id: &'static str, why: impl Into<String>) -> Check {
        Check {
            id,
            status: CheckStatus::Skipped,
            detail: why.into(),
            action: None,
            kind: None,
        }
    }
}

/// Everything the doctor found, in the order the checks ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per check.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The kinds of the failed checks, in order.
    pub fn failure_kinds(&self) -> Vec<ErrorKind> {
        self.checks.iter().filter_map(|c| c.kind).collect()
    }

    /// The report as JSON: `{"passed": bool, "checks": [{"id", "status",
    /// "detail", "action", "kind"}]}` (`action` and `kind` may be null).
    pub fn to_json(&self) -> serde_json::Value {
        let checks: Vec<serde_json::Value> = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "status": c.status.as_str(),
                    "detail": c.detail,
                    "action": c.action,
                    "kind": c.kind.map(ErrorKind::as_str),
                })
            })
            .collect();
        serde_json::json!({ "passed": self.passed(), "checks": checks })
    }

    /// The check with this id, if it ran.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// What the doctor does besides the checks every run makes.
#[derive(Clone, Default)]
pub struct Options {
    /// One real lookup of this investor (IRD number) at the end.
    pub ird: Option<String>,
    /// The PIE's IRD number for that lookup.
    pub pie_ird: Option<String>,
    /// The other environment's configuration (test when checking
    /// production, or the reverse), to check the two do not share a client
    /// certificate.
    pub other: Option<Config>,
    /// "Now" (tests inject a fixed clock).
    pub clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("ird", &self.ird.as_ref().map(|_| "<redacted>"))
            .field("pie_ird", &self.pie_ird.as_ref().map(|_| "<redacted>"))
            .field("other", &self.other.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs every check on `cfg` (see the module documentation).
pub fn run(cfg: &Config, options: &Options) -> Report {
    let clock: Arc<dyn Clock> = options
        .clock
        .clone()
        .unwrap_or_else(|| Arc::new(SystemClock));
    let mut d = Doctor {
        checks: Vec::new(),
        clock,
    };
    let env = cfg.environment;
    let ir_env = matches!(env, Some(Environment::Production | Environment::Test));

    // Where the gateway is.
    let endpoint = d.endpoint(cfg);

    // The client certificate.
    let identity = d.client_identity(cfg, ir_env);
    if let Some(other) = &options.other {
        d.not_shared(other, &identity);
    }

    // The credential each call carries.
    d.auth(cfg, ir_env);

    // The gateway.
    let Some(endpoint) = endpoint else {
        for id in GATEWAY_CHECKS {
            d.push(Check::skipped(id, "no gateway URL (see `endpoint`)"));
        }
        return d.report();
    };
    d.gateway(cfg, &endpoint, &identity, options);
    d.report()
}

const GATEWAY_CHECKS: [&str; 6] = [
    "gateway.dns",
    "gateway.tcp",
    "gateway.tls",
    "gateway.clock",
    "gateway.status",
    "gateway.lookup",
];

enum IdentityState {
    /// No client certificate is configured.
    None,
    /// Loaded and fit to present.
    Usable(Box<LoadedIdentity>),
    /// Unreadable, mismatched, out of date or refused outright.
    Broken,
}

struct LoadedIdentity {
    certified: Arc<CertifiedKey>,
    thumbprint: String,
}

struct Doctor {
    checks: Vec<Check>,
    clock: Arc<dyn Clock>,
}

impl Doctor {
    fn push(&mut self, c: Check) {
        self.checks.push(c);
    }

    fn report(self) -> Report {
        Report {
            checks: self.checks,
        }
    }

    fn endpoint(&mut self, cfg: &Config) -> Option<Endpoint> {
        const ID: &str = "config.endpoint";
        if cfg.connection == Some(Connection::Desktop) {
            self.push(Check::fail(
                ID,
                ErrorKind::Config,
                "connection is `desktop`: IR offers PIR on its cloud gateway only",
                "set connection = \"cloud\" (mutual TLS, port 4046)",
            ));
            return None;
        }
        let parsed = match (&cfg.endpoint, cfg.environment) {
            (Some(url), _) => Endpoint::parse("endpoint", url),
            (None, Some(env)) => match env.gateway_base(Connection::Cloud) {
                Some(base) => Endpoint::parse("environment", base),
                None => Err(Error::config(
                    "endpoint",
                    format!("required for environment `{}`", env.as_str()),
                )),
            },
            (None, None) => Err(Error::config(
                "environment",
                "set an environment (production, test, mock, sandbox) or an endpoint",
            )),
        };
        match parsed {
            Ok(e) => {
                let env = cfg.environment.map_or("custom", Environment::as_str);
                self.push(Check::ok(
                    ID,
                    format!("gateway {} (environment {env})", e.base),
                ));
                Some(e)
            }
            Err(e) => {
                self.push(Check::from_error(
                    ID,
                    &e,
                    "set `environment` (--env) or `endpoint` (--endpoint)",
                ));
                None
            }
        }
    }

    /// Reads the client identity's files; `None` (after a failed check) when
    /// they cannot be read.
    fn read_identity(
        &mut self,
        cfg: &Config,
    ) -> Option<(
        &'static str,
        &'static str,
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
    )> {
        const ID: &str = "client_cert.files";
        let t = &cfg.tls;
        let read = |setting: &str,
                    path: &Option<PathBuf>,
                    inline: Option<&[u8]>|
         -> Result<Vec<u8>, Error> {
            match (path, inline) {
                (Some(p), _) => pem::read_file(setting, p).map(|z| z.to_vec()),
                (None, Some(b)) => Ok(b.to_vec()),
                (None, None) => Err(Error::config(setting, "required")),
            }
        };
        let loaded = if let Some(path) = &t.client_pkcs12 {
            pem::read_file("tls.client_pkcs12", path).and_then(|data| {
                let pw = t.client_pkcs12_password.as_ref().map_or("", Secret::expose);
                pem::pkcs12("tls.client_pkcs12", "tls.client_pkcs12_password", &data, pw)
                    .map(|(c, k)| ("tls.client_pkcs12", "tls.client_pkcs12", c, k))
            })
        } else {
            read(
                "tls.client_cert",
                &t.client_cert,
                t.client_cert_pem.as_deref().map(str::as_bytes),
            )
            .and_then(|c| pem::cert_chain("tls.client_cert", &c))
            .and_then(|chain| {
                let k = read(
                    "tls.client_key",
                    &t.client_key,
                    t.client_key_pem.as_ref().map(|s| s.expose().as_bytes()),
                )?;
                let key = pem::private_key("tls.client_key", &k)?;
                Ok(("tls.client_cert", "tls.client_key", chain, key))
            })
        };
        match loaded {
            Ok(v) => {
                self.push(Check::ok(
                    ID,
                    format!(
                        "readable: a chain of {} certificate(s) and a private key",
                        v.2.len()
                    ),
                ));
                Some(v)
            }
            Err(e) => {
                self.push(Check::from_error(
                    ID,
                    &e,
                    "point the setting at the certificate (PEM or DER) and key (PEM) files, or a PKCS#12 bundle and its password",
                ));
                None
            }
        }
    }

    fn client_identity(&mut self, cfg: &Config, ir_env: bool) -> IdentityState {
        let t = &cfg.tls;
        let configured = t.client_pkcs12.is_some()
            || t.client_cert.is_some()
            || t.client_cert_pem.is_some()
            || t.client_key.is_some()
            || t.client_key_pem.is_some();
        if !configured {
            let needed = cfg
                .environment
                .is_some_and(|e| e.requires_client_identity(cfg.connection.unwrap_or_default()));
            if needed {
                self.push(Check::fail(
                    "client_cert.files",
                    ErrorKind::Config,
                    "no client certificate is configured; this environment uses mutual TLS",
                    "set tls.client_cert and tls.client_key (--cert, --key) or tls.client_pkcs12 (--pkcs12)",
                ));
                return IdentityState::Broken;
            }
            self.push(Check::skipped(
                "client_cert.files",
                "no client certificate configured",
            ));
            return IdentityState::None;
        }
        let Some((cert_setting, key_setting, chain, key)) = self.read_identity(cfg) else {
            return IdentityState::Broken;
        };
        let mut usable = true;

        // The key belongs to the certificate.
        let certified = match tls::check_key_matches(&chain, &key, key_setting, cert_setting) {
            Ok(c) => {
                self.push(Check::ok(
                    "client_cert.key_match",
                    "the private key matches the certificate",
                ));
                Some(Arc::new(c))
            }
            Err(e) => {
                self.push(Check::from_error(
                    "client_cert.key_match",
                    &e,
                    "give the key the certificate was issued for (after a renewal, replace both files together)",
                ));
                usable = false;
                None
            }
        };

        let Ok((_, leaf)) = X509Certificate::from_der(&chain[0]) else {
            self.push(Check::fail(
                "client_cert.dates",
                ErrorKind::Config,
                format!("`{cert_setting}`: the certificate is not valid X.509"),
                "give the certificate issued for the CN IR's developer portal assigned",
            ));
            return IdentityState::Broken;
        };
        let subject = leaf.subject().to_string();
        let not_before = leaf.validity().not_before.timestamp();
        let not_after = leaf.validity().not_after.timestamp();

        // Dates.
        if !self.dates(
            "client_cert.dates",
            cert_setting,
            &subject,
            not_before,
            not_after,
            "renew the client certificate with your CA (same CN) and replace the files",
        ) {
            usable = false;
        }

        // Key type and size.
        let key_type = pem::inspect(cert_setting, &chain[0]).map(|i| i.key_type);
        match key_type {
            Ok(KeyType::EcP384) => self.push(Check::ok(
                "client_cert.key_type",
                "ECDSA P-384 (IR's preferred key)",
            )),
            Ok(kt @ (KeyType::EcP256 | KeyType::Rsa(_))) => self.push(Check::ok(
                "client_cert.key_type",
                format!("{kt} (accepted by IR; ECDSA P-384 is preferred)"),
            )),
            Ok(kt) => self.push(Check::warn(
                "client_cert.key_type",
                format!("{kt}: not one IR lists for client certificates"),
                "use ECDSA P-384 (preferred) or RSA 2048+",
            )),
            Err(e) => {
                usable = false;
                self.push(Check::from_error(
                    "client_cert.key_type",
                    &e,
                    "use ECDSA P-384 (preferred) or RSA 2048 or more",
                ));
            }
        }

        // Issuer: not self-signed, and a CA on IR's list.
        let self_signed = leaf.subject().as_raw() == leaf.issuer().as_raw();
        if self_signed {
            usable = false;
            self.push(Check::fail(
                "client_cert.issuer",
                ErrorKind::Config,
                format!("`{cert_setting}` is self-signed (subject {}); IR accepts only certificates from its approved CAs", scrub(&subject)),
                "get a certificate for your IR-assigned CN from an approved CA (Amazon, Comodo, DigiCert, Entrust, GeoTrust, Let's Encrypt, Sectigo, Thawte)",
            ));
        } else {
            match approved_ca(&chain) {
                Some(ca) => self.push(Check::ok(
                    "client_cert.issuer",
                    format!("issued by {ca}, on IR's approved CA list"),
                )),
                None => {
                    let issuer = leaf.issuer().to_string();
                    let sandbox = cfg.environment == Some(Environment::Sandbox);
                    self.push(Check::warn(
                        "client_cert.issuer",
                        format!(
                            "issued by {}, which is not on IR's approved CA list{}",
                            scrub(&issuer),
                            if sandbox { " (expected: the sandbox's own CA)" } else { "" }
                        ),
                        "for IR, use a certificate from Amazon, Comodo, DigiCert, Entrust, GeoTrust, Let's Encrypt, Sectigo or Thawte",
                    ));
                }
            }
        }

        // IR's CN form.
        let cn = leaf
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .unwrap_or("")
            .to_owned();
        if is_ir_cn(&cn) {
            self.push(Check::ok(
                "client_cert.cn",
                format!("CN {cn} has IR's form"),
            ));
        } else {
            let detail = format!(
                "CN {} is not of IR's form <32 hex>.irdgws.<your domain>",
                if cn.is_empty() {
                    "(none)".to_owned()
                } else {
                    scrub(&cn)
                }
            );
            let action = "use the CN IR's developer portal assigned to your application";
            if ir_env {
                self.push(Check::fail(
                    "client_cert.cn",
                    ErrorKind::Config,
                    detail,
                    action,
                ));
            } else {
                self.push(Check::warn("client_cert.cn", detail, action));
            }
        }

        match (usable, certified) {
            (true, Some(certified)) => IdentityState::Usable(Box::new(LoadedIdentity {
                thumbprint: tls::thumbprint(&chain[0]),
                certified,
            })),
            _ => IdentityState::Broken,
        }
    }

    /// Checks a certificate's dates; false when it cannot be used now.
    #[allow(clippy::too_many_arguments)]
    fn dates(
        &mut self,
        id: &'static str,
        setting: &str,
        subject: &str,
        not_before: i64,
        not_after: i64,
        renew: &str,
    ) -> bool {
        let now = self.clock.now_unix();
        let days_left = (not_after - now).div_euclid(86_400);
        if now > not_after {
            self.push(Check::fail(
                id,
                ErrorKind::Config,
                format!(
                    "`{setting}`: the certificate expired on {} (subject {})",
                    pem::utc(not_after),
                    scrub(subject)
                ),
                renew,
            ));
            false
        } else if now < not_before {
            self.push(Check::fail(
                id,
                ErrorKind::Config,
                format!(
                    "`{setting}`: the certificate is not valid until {} (subject {})",
                    pem::utc(not_before),
                    scrub(subject)
                ),
                "check this machine's clock, or wait until the certificate is valid",
            ));
            false
        } else if days_left < EXPIRY_WARNING_DAYS {
            self.push(Check::warn(
                id,
                format!("expires in {days_left} days ({})", pem::utc(not_after)),
                renew,
            ));
            true
        } else {
            self.push(Check::ok(
                id,
                format!("valid until {} ({days_left} days)", pem::utc(not_after)),
            ));
            true
        }
    }

    fn not_shared(&mut self, other: &Config, id: &IdentityState) {
        const ID: &str = "client_cert.separate";
        let IdentityState::Usable(mine) = id else {
            return;
        };
        let mut other_doctor = Doctor {
            checks: Vec::new(),
            clock: Arc::clone(&self.clock),
        };
        match other_doctor.read_identity(other) {
            Some((_, _, chain, _)) if tls::thumbprint(&chain[0]) == mine.thumbprint => {
                self.push(Check::fail(
                    ID,
                    ErrorKind::Config,
                    "the test and production configurations use the same client certificate",
                    "IR requires separate certificates for test and production: get one for each",
                ));
            }
            Some(_) => self.push(Check::ok(
                ID,
                "test and production use different client certificates",
            )),
            None => self.push(Check::skipped(
                ID,
                "the other configuration's certificate could not be read",
            )),
        }
    }

    fn auth(&mut self, cfg: &Config, ir_env: bool) {
        const ID: &str = "auth";
        match &cfg.auth {
            None | Some(AuthSettings::None) => {
                if ir_env {
                    self.push(Check::fail(
                        ID,
                        ErrorKind::Config,
                        "no authentication is configured; IR answers EV1025",
                        "configure a JWT credential (--jwt-cert/--jwt-key) or OAuth",
                    ));
                } else {
                    self.push(Check::skipped(ID, "no authentication configured"));
                }
            }
            Some(AuthSettings::Bearer { .. }) => {
                self.push(Check::ok(
                    ID,
                    "a static bearer token is configured (not checked locally)",
                ));
            }
            Some(AuthSettings::Oauth(o)) => match &o.token_store {
                Some(p) if p.exists() => self.push(Check::ok(ID, "OAuth with a token store file")),
                Some(_) => self.push(Check::warn(
                    ID,
                    "OAuth: the token store file does not exist yet",
                    "run `nzpir oauth authorize-url` then `nzpir oauth exchange` to store a grant",
                )),
                None => self.push(Check::ok(ID, "OAuth with a host token store")),
            },
            Some(AuthSettings::Jwt(j)) => self.jwt(j),
        }
    }

    fn jwt(&mut self, j: &JwtSettings) {
        let signer = match JwtSigner::from_settings(j, Arc::clone(&self.clock)) {
            Ok(s) => s,
            Err(e) => {
                let action = if e.cause() == Some(Cause::KeyMismatch) {
                    "give the signing key of the certificate registered with IR"
                } else if e.cause() == Some(Cause::JwtAlgorithm) {
                    "set the algorithm configured for the credential at IR (RS256, RS384, RS512, ES256, ES384, ES512) that fits the key"
                } else {
                    "fix the JWT credential settings (auth.cert, auth.key or auth.pkcs12, auth.alg, auth.issuer)"
                };
                self.push(Check::from_error("jwt.credential", &e, action));
                return;
            }
        };
        self.push(Check::ok(
            "jwt.credential",
            format!(
                "the signing key matches its certificate; iss {}",
                scrub(signer.issuer())
            ),
        ));
        let alg = signer.algorithm();
        if alg == JwtAlgorithm::PS256 {
            self.push(Check::warn(
                "jwt.alg",
                "PS256 is not on IR's list of JWT algorithms",
                "use RS256 (recommended) or ES256/ES384 if the credential at IR allows it; IR answers EV1029 for an algorithm not configured on the credential",
            ));
        } else {
            self.push(Check::ok(
                "jwt.alg",
                format!("{alg}: on IR's list and fits the key (it must be the one configured for the credential at IR, else EV1029)"),
            ));
        }
        self.push(Check::ok(
            "jwt.sub",
            format!("sub (certificate thumbprint) {}", signer.subject()),
        ));
        // The signing certificate's lifetime and dates.
        let chain = match jwt_chain(j) {
            Ok(c) => c,
            Err(e) => {
                self.push(Check::from_error("jwt.cert_dates", &e, "fix auth.cert"));
                return;
            }
        };
        if let Ok((_, c)) = X509Certificate::from_der(&chain[0]) {
            let nb = c.validity().not_before.timestamp();
            let na = c.validity().not_after.timestamp();
            let setting = if j.pkcs12.is_some() {
                "auth.pkcs12"
            } else {
                "auth.cert"
            };
            self.dates(
                "jwt.cert_dates",
                setting,
                &c.subject().to_string(),
                nb,
                na,
                "make a new signing credential and register it with IR before this one expires",
            );
            let days = (na - nb) / 86_400;
            if days > MAX_JWT_CERT_DAYS {
                self.push(Check::fail(
                    "jwt.cert_lifetime",
                    ErrorKind::Config,
                    format!("the signing certificate lives {days} days, more than IR's 4 years"),
                    "issue a signing certificate valid for 4 years or less and register it with IR",
                ));
            } else {
                self.push(Check::ok(
                    "jwt.cert_lifetime",
                    format!("{days} days, within IR's 4 years"),
                ));
            }
        }
    }

    fn gateway(
        &mut self,
        cfg: &Config,
        endpoint: &Endpoint,
        identity: &IdentityState,
        options: &Options,
    ) {
        let connect_timeout = cfg
            .connect_timeout_secs
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs_f64);
        let port = endpoint
            .authority
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or(443);
        let host = endpoint.host.as_str();

        // Through a proxy, this machine may not reach the gateway directly:
        // the status check and the lookup below go through the proxy.
        let proxy = match &cfg.proxy {
            Some(url) => crate::transport::ProxySetting::Url(url.clone()),
            None => crate::transport::ProxySetting::FromEnv,
        };
        if matches!(crate::transport::resolve_proxy(&proxy, host), Ok(Some(_))) {
            self.skip_rest(
                &GATEWAY_CHECKS[..4],
                "calls go through a proxy: the gateway is checked through it below",
            );
            self.through_client(cfg, options);
            return;
        }

        // DNS.
        let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => {
                self.push(Check::fail(
                    "gateway.dns",
                    ErrorKind::Transport,
                    format!("{host} cannot be resolved ({})", scrub(&e.to_string())),
                    "check the host name and this machine's DNS",
                ));
                self.skip_rest(&GATEWAY_CHECKS[1..], "DNS failed");
                return;
            }
        };
        if addrs.is_empty() {
            self.push(Check::fail(
                "gateway.dns",
                ErrorKind::Transport,
                format!("{host} resolves to no address"),
                "check the host name and this machine's DNS",
            ));
            self.skip_rest(&GATEWAY_CHECKS[1..], "DNS failed");
            return;
        }
        let shown: Vec<String> = addrs.iter().take(3).map(|a| a.ip().to_string()).collect();
        self.push(Check::ok(
            "gateway.dns",
            format!("{host} resolves to {}", shown.join(", ")),
        ));

        // TCP.
        let mut tcp = None;
        let mut last_err = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, connect_timeout) {
                Ok(s) => {
                    tcp = Some((s, *a));
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some((tcp, addr)) = tcp else {
            let why = last_err.map_or_else(
                || "no address answered".to_owned(),
                |e| scrub(&e.to_string()),
            );
            self.push(Check::fail(
                "gateway.tcp",
                ErrorKind::Transport,
                format!("cannot connect to {}: {why}", endpoint.authority),
                "check the port, firewalls and any proxy (IR's gateway listens on 4046); IR may also need your IP address",
            ));
            self.skip_rest(&GATEWAY_CHECKS[2..], "TCP connection failed");
            return;
        };
        self.push(Check::ok("gateway.tcp", format!("connected to {addr}")));

        if matches!(identity, IdentityState::Broken) {
            self.skip_rest(
                &GATEWAY_CHECKS[2..],
                "the client certificate failed its checks above; fix it first",
            );
            return;
        }

        // TLS handshake and the status endpoint over it, for the Date header.
        let date = self.handshake(cfg, endpoint, identity, tcp);
        match date {
            HandshakeOutcome::Failed => {
                self.skip_rest(&GATEWAY_CHECKS[3..], "the TLS handshake failed");
                return;
            }
            HandshakeOutcome::Date(date) => self.clock_check(date),
        }

        self.through_client(cfg, options);
    }

    /// The status endpoint and a lookup, through the client itself.
    fn through_client(&mut self, cfg: &Config, options: &Options) {
        let client = match Client::from_config(cfg) {
            Ok(c) => c,
            Err(e) => {
                self.push(Check::from_error(
                    "gateway.status",
                    &e,
                    "fix the configuration above",
                ));
                self.skip_rest(&GATEWAY_CHECKS[5..], "the client could not be built");
                return;
            }
        };
        match client.status() {
            Ok(()) => self.push(Check::ok("gateway.status", "the status endpoint answered OK")),
            Err(e) => self.push(Check::from_error(
                "gateway.status",
                &e,
                "see the error; a TLS or connection failure here with a good handshake above points at a proxy",
            )),
        }
        let Some(ird) = &options.ird else {
            self.push(Check::skipped("gateway.lookup", "no --ird given"));
            return;
        };
        let mut b = PirRequest::builder(ird.as_str());
        if let Some(p) = &options.pie_ird {
            b = b.pie_ird(p.as_str());
        }
        match client.lookup(&b.build()) {
            Ok(o) if o.is_not_found() => self.push(Check::ok(
                "gateway.lookup",
                "a real lookup worked: IR has no rate for this investor (PirRateNotFound)",
            )),
            Ok(o) => self.push(Check::ok(
                "gateway.lookup",
                format!(
                    "a real lookup worked: suggested rate {}",
                    o.rate().map_or_else(|| "-".to_owned(), |r| r.to_string())
                ),
            )),
            Err(e) => {
                let action = match e.kind() {
                    ErrorKind::Authentication => {
                        "IR did not accept the credential: check the JWT credential (alg, sub thumbprint, iss) or OAuth grant registered with IR, and the clock"
                    }
                    ErrorKind::Authorisation => {
                        "the credential is valid but may not ask about this investor: check --pie-ird and your access at IR"
                    }
                    ErrorKind::InvalidInput => "give a valid IRD number with --ird (and --pie-ird)",
                    _ => "see the error",
                };
                self.push(Check::from_error("gateway.lookup", &e, action));
            }
        }
    }

    fn skip_rest(&mut self, ids: &[&'static str], why: &str) {
        for id in ids {
            self.push(Check::skipped(id, why));
        }
    }

    fn handshake(
        &mut self,
        cfg: &Config,
        endpoint: &Endpoint,
        identity: &IdentityState,
        mut tcp: TcpStream,
    ) -> HandshakeOutcome {
        const ID: &str = "gateway.tls";
        let fail = |d: &mut Doctor, e: Error| {
            let action = if e.cause() == Some(Cause::ClientCertificate) {
                "check that tls.client_cert is the certificate registered with IR (its CN) for this environment, from an approved CA"
            } else if e.cause() == Some(Cause::UnknownIssuer) {
                "for the sandbox, set tls.ca_cert to its ca.pem; for IR, the public roots suffice (is something intercepting TLS?)"
            } else {
                "see the error; IR requires TLS 1.2+ with ECDHE AES-GCM or CHACHA20-POLY1305 suites"
            };
            d.push(Check::from_error(ID, &e, action));
            HandshakeOutcome::Failed
        };
        let mut extra = Vec::new();
        for (setting, path, inline) in [
            ("tls.ca_cert", &cfg.tls.ca_cert, None),
            ("tls.ca_cert_pem", &None, cfg.tls.ca_cert_pem.as_deref()),
        ] {
            let text = match (path, inline) {
                (Some(p), _) => match pem::read_file(setting, p) {
                    Ok(t) => t.to_vec(),
                    Err(e) => return fail(self, e),
                },
                (None, Some(t)) => t.as_bytes().to_vec(),
                _ => continue,
            };
            match tls::extra_roots(setting, &text) {
                Ok(r) => extra.extend(r),
                Err(e) => return fail(self, e),
            }
        }
        let resolver: Option<Arc<dyn rustls::client::ResolvesClientCert>> = match identity {
            IdentityState::Usable(id) => Some(Arc::new(Fixed(Arc::clone(&id.certified)))),
            _ => None,
        };
        let config = match tls::client_config(tls::root_store(&extra), resolver) {
            Ok(c) => c,
            Err(e) => return fail(self, e),
        };
        let Ok(name) = ServerName::try_from(endpoint.host.clone()) else {
            return fail(
                self,
                Error::config("endpoint", "the host is not a valid TLS server name"),
            );
        };
        let timeout = cfg
            .timeout_secs
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
            .min(Duration::from_secs(30));
        let _ = tcp.set_read_timeout(Some(timeout));
        let _ = tcp.set_write_timeout(Some(timeout));
        let mut conn = match rustls::ClientConnection::new(config, name) {
            Ok(c) => c,
            Err(e) => return fail(self, tls::tls_error(&endpoint.authority, &e)),
        };
        let tls_err = |io: std::io::Error| -> Error {
            match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(r) => tls::tls_error(&endpoint.authority, r),
                None => Error::new(
                    if io.kind() == std::io::ErrorKind::TimedOut
                        || io.kind() == std::io::ErrorKind::WouldBlock
                    {
                        ErrorKind::Timeout
                    } else {
                        ErrorKind::Tls
                    },
                    format!(
                        "TLS with {} failed: {} (the server may have refused the client certificate)",
                        endpoint.authority,
                        scrub(&io.to_string())
                    ),
                )
                .with_cause(Cause::ClientCertificate),
            }
        };
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return fail(self, tls_err(e));
            }
        }
        let version = conn.protocol_version().map_or_else(
            || "?".to_owned(),
            |v| format!("{v:?}").replace("TLSv1_", "TLS 1."),
        );
        let suite = conn
            .negotiated_cipher_suite()
            .map_or_else(|| "?".to_owned(), |s| format!("{:?}", s.suite()));
        let server = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| {
                X509Certificate::from_der(c).ok().map(|(_, x)| {
                    (
                        x.subject().to_string(),
                        x.issuer().to_string(),
                        x.validity().not_after.timestamp(),
                    )
                })
            });
        // The request: the status endpoint, read to the end of the headers.
        let path = format!(
            "{}{STATUS_PATH}",
            endpoint
                .base
                .split_once("://")
                .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
                .unwrap_or("")
        );
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: nzpir/{} doctor\r\nConnection: close\r\n\r\n",
            endpoint.authority,
            crate::VERSION
        );
        let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
        let mut head = Vec::new();
        let answer = stream.write_all(req.as_bytes()).and_then(|()| {
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
                if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > 64 * 1024 {
                    break;
                }
            }
            Ok(())
        });
        if let Err(e) = answer {
            // In TLS 1.3 a refused client certificate shows only now.
            return fail(self, tls_err(e));
        }
        if head.is_empty() {
            return fail(
                self,
                Error::new(
                    ErrorKind::Tls,
                    format!(
                        "{} closed the connection after the handshake (it may have refused the client certificate)",
                        endpoint.authority
                    ),
                ),
            );
        }
        let (subject, issuer, expires) = server.unwrap_or_default();
        self.push(Check::ok(
            ID,
            format!(
                "{version}, {suite}; server certificate {} issued by {}, valid until {}",
                scrub(&subject),
                scrub(&issuer),
                pem::utc(expires)
            ),
        ));
        HandshakeOutcome::Date(header(&head, "date").and_then(|d| parse_http_date(&d)))
    }

    fn clock_check(&mut self, date: Option<i64>) {
        const ID: &str = "gateway.clock";
        let Some(server) = date else {
            self.push(Check::warn(
                ID,
                "the gateway sent no readable Date header",
                "make sure this machine's clock is synchronised (NTP): IR answers EV1026 for JWT times it does not accept",
            ));
            return;
        };
        let skew = self.clock.now_unix() - server;
        if skew.abs() > CLOCK_SKEW_WARNING_SECS {
            self.push(Check::warn(
                ID,
                format!(
                    "this machine's clock is {} s {} the gateway's",
                    skew.abs(),
                    if skew > 0 { "ahead of" } else { "behind" }
                ),
                "synchronise the clock (NTP): IR answers EV1026 for JWT issue and expiry times it does not accept",
            ));
        } else {
            self.push(Check::ok(
                ID,
                format!("within {} s of the gateway's Date", skew.abs()),
            ));
        }
    }
}

enum HandshakeOutcome {
    Failed,
    /// The gateway's `Date`, when it sent one.
    Date(Option<i64>),
}

/// Presents one fixed chain and key.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for Fixed {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The JWT signing certificate chain the settings name.
fn jwt_chain(j: &JwtSettings) -> Result<Vec<CertificateDer<'static>>, Error> {
    if let Some(p) = &j.pkcs12 {
        let data = pem::read_file("auth.pkcs12", p)?;
        let pw = j.pkcs12_password.as_ref().map_or("", Secret::expose);
        return pem::pkcs12("auth.pkcs12", "auth.pkcs12_password", &data, pw).map(|(c, _)| c);
    }
    let bytes = match (&j.cert, &j.cert_pem) {
        (Some(p), _) => pem::read_file("auth.cert", p)?.to_vec(),
        (None, Some(t)) => t.as_bytes().to_vec(),
        (None, None) => return Err(Error::config("auth.cert", "required")),
    };
    pem::cert_chain("auth.cert", &bytes)
}

/// The approved CA that issued some certificate of the chain, by the
/// organisation or common name of its issuers.
pub fn approved_ca(chain: &[CertificateDer<'_>]) -> Option<&'static str> {
    for der in chain {
        let Ok((_, c)) = X509Certificate::from_der(der) else {
            continue;
        };
        let names: Vec<String> = c
            .issuer()
            .iter_organization()
            .chain(c.issuer().iter_common_name())
            .filter_map(|a| a.as_str().ok())
            .map(|s| s.to_ascii_lowercase().replace('\u{2019}', "'"))
            .collect();
        for (ca, patterns) in APPROVED_CAS {
            if names.iter().any(|n| patterns.iter().any(|p| n.contains(p))) {
                return Some(ca);
            }
        }
    }
    None
}

/// Whether a CN has the form IR's developer portal assigns:
/// `<32 hex>.irdgws.<domain>`.
pub fn is_ir_cn(cn: &str) -> bool {
    let mut parts = cn.splitn(3, '.');
    let (Some(id), Some(gw), Some(domain)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && gw.eq_ignore_ascii_case("irdgws")
        && !domain.is_empty()
        && domain.split('.').all(|l| !l.is_empty())
}

/// A header's value from a raw HTTP/1.1 response head.
fn header(head: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// Parses an HTTP date (`Thu, 03 Dec 2026 10:01:47 GMT`, RFC 9110's
/// IMF-fixdate) into seconds since the Unix epoch.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, hms, zone] = parts.as_slice() else {
        return None;
    };
    if !zone.eq_ignore_ascii_case("GMT") && !zone.eq_ignore_ascii_case("UTC") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let m = MONTHS.iter().position(|n| n.eq_ignore_ascii_case(month))?;
    let month = time::Month::try_from(u8::try_from(m + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut t = hms.split(':');
    let (h, mi, s) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    let time = time::Time::from_hms(h, mi, s).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10));
        assert_eq!(
            parse_http_date("Mon, 31 Mar 2025 12:00:00 GMT"),
            Some(1_743_422_400)
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("Mon, 31 Foo 2025 12:00:00 GMT"), None);
    }

    #[test]
    fn ir_common_names() {
        assert!(is_ir_cn(
            "0123456789abcdef0123456789ABCDEF.irdgws.example.co.nz"
        ));
        assert!(!is_ir_cn("client.example"));
        assert!(!is_ir_cn("0123456789abcdef0123456789abcdef.irdgws."));
        assert!(!is_ir_cn("0123456789abcdef.irdgws.example.co.nz"));
    }

    #[test]
    fn approved_issuers_by_name() {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::OrganizationName, "Let's Encrypt");
        ca.distinguished_name.push(DnType::CommonName, "R11");
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().expect("key");
        let leaf = CertificateParams::new(vec!["a.example".to_owned()])
            .expect("params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
        assert_eq!(approved_ca(&[leaf.der().clone()]), Some("Let's Encrypt"));
        let own = CertificateParams::new(vec!["b.example".to_owned()])
            .expect("params")
            .self_signed(&leaf_key)
            .expect("self-signed");
        assert_eq!(approved_ca(&[own.der().clone()]), None);
    }
}

//! Connection settings: flags, then `NZPIR_*` variables, then the `--config`
//! file. The result is one [`nzpir::Config`], so the CLI builds its client
//! exactly as every other surface does.

use std::path::PathBuf;

use clap::ArgMatches;
use clap::parser::ValueSource;
use nzpir::{AuthSettings, Config, Environment, JwtSettings, OAuthSettings, Secret};

use crate::args::ConnArgs;
use crate::exit::Failure;

/// Where a setting came from: 2 a flag, 1 a variable, 0 neither.
fn level(m: &ArgMatches, id: &str) -> u8 {
    match m.value_source(id) {
        Some(ValueSource::CommandLine) => 2,
        Some(ValueSource::EnvVariable) => 1,
        _ => 0,
    }
}

/// The three ways to authenticate that flags and variables can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthChoice {
    Bearer,
    Jwt,
    OAuth,
}

impl AuthChoice {
    fn flags(self) -> &'static str {
        match self {
            AuthChoice::Bearer => "--bearer",
            AuthChoice::Jwt => "--jwt-cert/--jwt-key/--jwt-pkcs12",
            AuthChoice::OAuth => "--oauth-client-id/--token-store",
        }
    }
}

/// Whether the OAuth settings are wanted whatever else is set (`nzpir oauth ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A lookup: the auth is chosen by the settings.
    Lookup,
    /// An OAuth command: the OAuth settings are used.
    OAuth,
}

/// Builds the configuration from the `--config` file, the variables and the flags.
/// `m` holds the subcommand's matches (for where each value came from).
pub fn resolve(a: &ConnArgs, m: &ArgMatches, purpose: Purpose) -> Result<Config, Failure> {
    let mut cfg = match &a.config {
        Some(path) => Config::from_file(path).map_err(Failure::from)?,
        None => Config::default(),
    };

    if let Some(env) = &a.environment {
        let env: Environment = env.parse().map_err(Failure::from)?;
        // A chosen environment replaces the file's endpoint unless the endpoint
        // was chosen at the same level or above.
        if level(m, "endpoint") < level(m, "environment") && env != Environment::Sandbox {
            cfg.endpoint = None;
        }
        cfg.environment = Some(env);
    }
    if let Some(url) = &a.endpoint {
        cfg.endpoint = Some(url.clone());
    }
    if let Some(t) = a.timeout {
        cfg.timeout_secs = Some(t);
    }
    if let Some(n) = a.max_retries {
        cfg.max_retries = Some(n);
    }
    if let Some(p) = &a.proxy {
        cfg.proxy = Some(p.clone());
    }
    if a.no_validate {
        cfg.validate_locally = Some(false);
    }
    if let Some(c) = &a.cert {
        cfg.tls.client_cert = Some(c.clone());
        cfg.tls.client_cert_pem = None;
    }
    if let Some(k) = &a.key {
        cfg.tls.client_key = Some(k.clone());
        cfg.tls.client_key_pem = None;
    }
    if a.cert.is_some() || a.key.is_some() {
        cfg.tls.client_pkcs12 = None;
    }
    if let Some(p) = &a.pkcs12 {
        cfg.tls.client_pkcs12 = Some(p.clone());
        cfg.tls.client_cert = None;
        cfg.tls.client_cert_pem = None;
        cfg.tls.client_key = None;
        cfg.tls.client_key_pem = None;
    }
    if let Some(pw) = &a.pkcs12_password {
        cfg.tls.client_pkcs12_password = Some(Secret::new(pw.clone()));
    }
    if cfg.tls.client_pkcs12.is_none() {
        cfg.tls.client_pkcs12_password = None;
    }
    if let Some(ca) = &a.ca {
        cfg.tls.ca_cert = Some(ca.clone());
        cfg.tls.ca_cert_pem = None;
    }

    let chosen = match purpose {
        Purpose::OAuth => Some(AuthChoice::OAuth),
        Purpose::Lookup => choose_auth(m)?,
    };
    let file_auth = cfg.auth.take();
    cfg.auth = match chosen {
        None => file_auth.map(|auth| match auth {
            // Modifiers still apply to the file's JWT settings.
            AuthSettings::Jwt(j) => AuthSettings::Jwt(jwt_settings(a, j)),
            other => other,
        }),
        Some(AuthChoice::Bearer) => Some(AuthSettings::Bearer {
            token: Secret::new(a.bearer.clone().unwrap_or_default()),
        }),
        Some(AuthChoice::Jwt) => {
            let base = match file_auth {
                Some(AuthSettings::Jwt(j)) => j,
                _ => JwtSettings::default(),
            };
            Some(AuthSettings::Jwt(jwt_settings(a, base)))
        }
        Some(AuthChoice::OAuth) => {
            let base = match file_auth {
                Some(AuthSettings::Oauth(o)) => o,
                _ => OAuthSettings::default(),
            };
            Some(AuthSettings::Oauth(oauth_settings(a, base)))
        }
    };
    Ok(cfg)
}

/// The auth the flags and variables choose, if any: the highest level wins;
/// two at the same level are a usage error.
fn choose_auth(m: &ArgMatches) -> Result<Option<AuthChoice>, Failure> {
    let candidates = [
        (AuthChoice::Bearer, level(m, "bearer")),
        (
            AuthChoice::Jwt,
            level(m, "jwt_cert")
                .max(level(m, "jwt_key"))
                .max(level(m, "jwt_pkcs12")),
        ),
        (
            AuthChoice::OAuth,
            level(m, "oauth_client_id").max(level(m, "token_store")),
        ),
    ];
    let top = candidates.iter().map(|c| c.1).max().unwrap_or(0);
    if top == 0 {
        return Ok(None);
    }
    let at_top: Vec<AuthChoice> = candidates
        .iter()
        .filter(|c| c.1 == top)
        .map(|c| c.0)
        .collect();
    match at_top.as_slice() {
        [one] => Ok(Some(*one)),
        many => Err(Failure::usage(format!(
            "choose one way to authenticate, not {} ({})",
            many.len(),
            many.iter()
                .map(|c| c.flags())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn jwt_settings(a: &ConnArgs, mut j: JwtSettings) -> JwtSettings {
    if let Some(c) = &a.jwt_cert {
        j.cert = Some(c.clone());
        j.cert_pem = None;
    }
    if let Some(k) = &a.jwt_key {
        j.key = Some(k.clone());
        j.key_pem = None;
    }
    if a.jwt_cert.is_some() || a.jwt_key.is_some() {
        j.pkcs12 = None;
    }
    if let Some(p) = &a.jwt_pkcs12 {
        j.pkcs12 = Some(p.clone());
        j.cert = None;
        j.cert_pem = None;
        j.key = None;
        j.key_pem = None;
    }
    if let Some(pw) = &a.jwt_pkcs12_password {
        j.pkcs12_password = Some(Secret::new(pw.clone()));
    }
    if j.pkcs12.is_none() {
        j.pkcs12_password = None;
    }
    if let Some(alg) = &a.jwt_alg {
        j.alg = Some(alg.clone());
    }
    if let Some(iss) = &a.issuer {
        j.issuer = Some(iss.clone());
    }
    if let Some(logon) = &a.start_logon {
        j.start_logon = Some(logon.clone());
    }
    if let Some(unset) = &a.unset_start_logon {
        j.unset_start_logon = Some(unset.clone());
    }
    j
}

fn oauth_settings(a: &ConnArgs, mut o: OAuthSettings) -> OAuthSettings {
    if let Some(id) = &a.oauth_client_id {
        o.client_id = Some(id.clone());
    }
    if let Some(s) = &a.oauth_client_secret {
        o.client_secret = Some(Secret::new(s.clone()));
    }
    if let Some(r) = &a.oauth_redirect_uri {
        o.redirect_uri = Some(r.clone());
    }
    if let Some(e) = &a.oauth_endpoint {
        o.endpoint = Some(e.clone());
    }
    if let Some(t) = &a.token_store {
        o.token_store = Some(absolute(t));
    }
    o
}

fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// A stderr logger for the library's `nzpir` target (one line per call at
/// info; retries at debug). The library never logs personal data or secrets.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("nzpir")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Turns logging on for `-v` (info) and `-vv` (debug).
pub fn init_logging(verbose: u8) {
    if verbose == 0 || log::set_logger(&LOGGER).is_err() {
        return;
    }
    log::set_max_level(if verbose == 1 {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Debug
    });
}

/// A client from the resolved configuration.
pub fn client(cfg: &Config) -> Result<nzpir::Client, Failure> {
    nzpir::ClientBuilder::from_config(cfg)
        .and_then(|b| b.user_agent_suffix("nzpir-cli").build())
        .map_err(Failure::from)
}

//! `nzpir onboarding`: IR's PIR onboarding test plan (PIR-OB-001 to 013) run
//! against a configured environment, and IR's test report as Markdown.
//!
//! The scenario file (TOML) names the connection settings (`config`, and
//! `oauth_config` for the OAuth scenarios) and, per scenario, IR's test data:
//! the request in IR's JSON field names, which authentication to use, and a
//! `startLogon` where the scenario needs a myIR user. The expected results
//! are IR's, fixed here. Every request goes out with local validation off, so
//! IR (not this client) answers each scenario, PIR-OB-013's period included.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nzpir::{
    AuthSettings, Client, Config, Environment, PirOutcome, PirRequest, Secret, TlsSettings,
};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::args::OnboardingArgs;
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// The scenario file for the embedded sandbox (`--sandbox`), shipped as
/// `cli/onboarding/sandbox.toml`.
const SANDBOX_SCENARIOS: &str = include_str!("../onboarding/sandbox.toml");

/// What IR's test plan expects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A 200 answer (a rate or PirRateNotFound).
    Success,
    /// IR's error code.
    Code(&'static str),
    /// `PirRateNotFound: true`.
    NotFound,
    /// This rate (hundredths of a percent).
    Rate(u32),
}

impl Expect {
    fn words(self) -> String {
        match self {
            Expect::Success => "success (200)".to_owned(),
            Expect::Code(c) => c.to_owned(),
            Expect::NotFound => "PirRateNotFound".to_owned(),
            Expect::Rate(h) => format!("{} %", nzpir::PirRate::from_hundredths(h)),
        }
    }
}

/// How a scenario's request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum AuthMode {
    /// The `config` file's authentication (an M2M JWT for most providers).
    Config,
    /// The `oauth_config` file: OAuth with its token store.
    Oauth,
    /// No `Authorization` header.
    None,
}

/// IR's 13 scenarios: id, what it tests, what IR expects, the default auth.
const PLAN: [(&str, &str, Expect, AuthMode); 13] = [
    (
        "PIR-OB-001",
        "on-boarded, authenticated PIE provider, valid request, valid JWT",
        Expect::Success,
        AuthMode::Config,
    ),
    (
        "PIR-OB-002",
        "same with a valid OAuth 2 token",
        Expect::Success,
        AuthMode::Oauth,
    ),
    (
        "PIR-OB-003",
        "no OAuth or JWT token in the HTTP header",
        Expect::Code("EV1025"),
        AuthMode::None,
    ),
    (
        "PIR-OB-004",
        "non-KiwiSaver PIE user with USER access, investor with no PIE certificate, supplied name matches a customer (soft match)",
        Expect::Success,
        AuthMode::Config,
    ),
    (
        "PIR-OB-005",
        "PIE provider sends IRD and PieIRD",
        Expect::Success,
        AuthMode::Config,
    ),
    (
        "PIR-OB-006",
        "PIE provider sends only IRD",
        Expect::Code("PIR101"),
        AuthMode::Config,
    ),
    (
        "PIR-OB-007",
        "tax preparer sends only IRD",
        Expect::Success,
        AuthMode::Config,
    ),
    (
        "PIR-OB-008",
        "request with all optional fields",
        Expect::Success,
        AuthMode::Config,
    ),
    (
        "PIR-OB-009",
        "investor is a company / incorporated society / charity / PIE",
        Expect::NotFound,
        AuthMode::Config,
    ),
    (
        "PIR-OB-010",
        "investor is a non-resident",
        Expect::Rate(2800),
        AuthMode::Config,
    ),
    (
        "PIR-OB-011",
        "investor has no return expectations",
        Expect::Rate(1050),
        AuthMode::Config,
    ),
    (
        "PIR-OB-012",
        "total income <= 48k and total + PIE income <= 70k (pre-2026 thresholds)",
        Expect::Rate(1750),
        AuthMode::Config,
    ),
    (
        "PIR-OB-013",
        "filing period more than 7 years ago, or in the future",
        Expect::Code("PER100"),
        AuthMode::Config,
    ),
];

/// The scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    /// Free text shown at the top of the report.
    #[serde(default)]
    title: Option<String>,
    /// The connection settings (an `nzpir.toml`), relative to this file.
    #[serde(default)]
    config: Option<PathBuf>,
    /// An `nzpir.toml` whose `[auth]` is OAuth with a token store (PIR-OB-002).
    #[serde(default)]
    oauth_config: Option<PathBuf>,
    /// IR's test data per scenario id.
    #[serde(default)]
    scenarios: BTreeMap<String, Scenario>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    /// The request in IR's JSON field names (`IRD`, `PieIRD`, `FilingPeriod`, `Name`...).
    request: toml::Table,
    /// `config` (default for most), `oauth` or `none`.
    #[serde(default)]
    auth: Option<AuthMode>,
    /// The JWT's `startLogon` (a myIR user, e.g. a tax preparer or a PIE user).
    #[serde(default)]
    start_logon: Option<String>,
    /// A reason not to run it (the scenario does not apply to this provider).
    #[serde(default)]
    skip: Option<String>,
}

/// One scenario's outcome.
enum Verdict {
    Pass,
    Fail,
    NotRun(String),
}

struct Row {
    id: &'static str,
    scenario: &'static str,
    expected: String,
    happened: String,
    verdict: Verdict,
    evidence: String,
}

/// Runs `nzpir onboarding`.
pub fn run(args: &OnboardingArgs) -> Result<u8, Failure> {
    // The embedded sandbox and its settings, kept alive while the scenarios run.
    let mut _sandbox = None;
    let (file, base, overrides) = if args.sandbox {
        let (sb, cfg, oauth) = start_sandbox()?;
        let text = match &args.scenarios {
            Some(p) => read(p)?,
            None => SANDBOX_SCENARIOS.to_owned(),
        };
        _sandbox = Some(sb);
        (parse(&text)?, PathBuf::from("."), Some((cfg, oauth)))
    } else {
        let path = args.scenarios.as_deref().ok_or_else(|| {
            Failure::usage("onboarding: --scenarios FILE or --sandbox is required")
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (parse(&read(path)?)?, base, None)
    };

    let (config, oauth_config) = match overrides {
        Some((c, o)) => (Some(c), Some(o)),
        None => (
            file.config.as_ref().map(|p| base.join(p)),
            file.oauth_config.as_ref().map(|p| base.join(p)),
        ),
    };
    for id in file.scenarios.keys() {
        if !PLAN.iter().any(|(p, ..)| p == id) {
            return Err(Failure::usage(format!(
                "onboarding: scenario `{id}` is not in IR's plan (PIR-OB-001 to PIR-OB-013)"
            )));
        }
    }
    let config = config.ok_or_else(|| {
        Failure::usage("onboarding: the scenario file needs `config` (an nzpir.toml)")
    })?;
    let base_cfg = Config::from_file(&config).map_err(Failure::from)?;
    let oauth_cfg = match &oauth_config {
        Some(p) => Some(Config::from_file(p).map_err(Failure::from)?),
        None => None,
    };

    let mut rows = Vec::new();
    for (id, words, expect, default_auth) in PLAN {
        let mut row = Row {
            id,
            scenario: words,
            expected: expect.words(),
            happened: String::new(),
            verdict: Verdict::NotRun(String::new()),
            evidence: String::new(),
        };
        match file.scenarios.get(id) {
            None => {
                row.verdict = Verdict::NotRun("no test data for it in the scenario file".to_owned())
            }
            Some(Scenario {
                skip: Some(why), ..
            }) => row.verdict = Verdict::NotRun(why.clone()),
            Some(s) => run_one(
                &mut row,
                s,
                expect,
                default_auth,
                &base_cfg,
                oauth_cfg.as_ref(),
            ),
        }
        rows.push(row);
    }

    let report = render(&file, &base_cfg, &rows);
    if let Some(path) = &args.report {
        std::fs::write(path, &report).map_err(|e| {
            Failure::usage(format!("--report: cannot write {}: {e}", path.display()))
        })?;
    }
    let (ran, passed) = rows.iter().fold((0, 0), |(r, p), row| match row.verdict {
        Verdict::Pass => (r + 1, p + 1),
        Verdict::Fail => (r + 1, p),
        Verdict::NotRun(_) => (r, p),
    });
    let mut summary = String::new();
    for row in &rows {
        let v = match &row.verdict {
            Verdict::Pass => "Pass".to_owned(),
            Verdict::Fail => "Fail".to_owned(),
            Verdict::NotRun(why) => format!("Not run ({why})"),
        };
        let _ = writeln!(
            summary,
            "{}  {:<5} expected {}, got {}",
            row.id,
            v,
            row.expected,
            if row.happened.is_empty() {
                "-"
            } else {
                &row.happened
            }
        );
    }
    let _ = writeln!(
        summary,
        "{passed} of {ran} scenarios that ran passed; {} not run.",
        rows.len() - ran
    );
    if let Some(path) = &args.report {
        let _ = writeln!(summary, "Report: {}", path.display());
    }
    write_stdout(&summary)?;
    if ran == 0 {
        return Err(Failure::usage(
            "onboarding: no scenario could run with this scenario file",
        ));
    }
    Ok(if passed == ran {
        exit::OK
    } else {
        exit::INTERNAL
    })
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("--scenarios: cannot read {}: {e}", path.display())))
}

fn parse(text: &str) -> Result<ScenarioFile, Failure> {
    toml::from_str(text).map_err(|e| Failure::usage(format!("scenario file: {}", e.message())))
}

/// Runs one scenario and fills in its row.
fn run_one(
    row: &mut Row,
    s: &Scenario,
    expect: Expect,
    default_auth: AuthMode,
    base: &Config,
    oauth: Option<&Config>,
) {
    let auth = s.auth.unwrap_or(default_auth);
    let mut cfg = match auth {
        AuthMode::Oauth => match oauth {
            Some(c) => c.clone(),
            None => {
                row.verdict = Verdict::NotRun(
                    "needs OAuth: set `oauth_config` to an nzpir.toml with an OAuth token store"
                        .to_owned(),
                );
                return;
            }
        },
        _ => base.clone(),
    };
    if auth == AuthMode::None {
        cfg.auth = Some(AuthSettings::None);
    }
    if auth == AuthMode::Oauth
        && !matches!(&cfg.auth, Some(AuthSettings::Oauth(o)) if o.token_store.is_some())
    {
        row.verdict = Verdict::NotRun(
            "needs OAuth: `oauth_config` must have [auth] type = \"oauth\" with a token store"
                .to_owned(),
        );
        return;
    }
    if let Some(logon) = &s.start_logon {
        match &mut cfg.auth {
            Some(AuthSettings::Jwt(j)) => j.start_logon = Some(logon.clone()),
            _ => {
                row.verdict = Verdict::NotRun(
                    "`start_logon` needs the JWT authentication of `config`".to_owned(),
                );
                return;
            }
        }
    }
    // IR answers every scenario, including the out-of-range period of PIR-OB-013.
    cfg.validate_locally = Some(false);
    cfg.max_retries = Some(0);

    let body = match serde_json::to_value(&s.request) {
        Ok(v) => v,
        Err(e) => {
            row.verdict = Verdict::NotRun(format!("its `request` is not JSON-shaped: {e}"));
            return;
        }
    };
    let request = match PirRequest::from_json(body.to_string().as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            row.verdict = Verdict::NotRun(format!("its `request` is not IR's request: {e}"));
            return;
        }
    };
    if let Some(why) = shape_problem(row.id, &request) {
        row.verdict = Verdict::NotRun(why.to_owned());
        return;
    }
    let client = match Client::from_config(&cfg) {
        Ok(c) => c,
        Err(e) => {
            row.verdict = Verdict::NotRun(format!("the client could not be built: {e}"));
            return;
        }
    };
    let auth_words = match (&cfg.auth, &s.start_logon) {
        (Some(AuthSettings::Jwt(_)), Some(_)) => "M2M JWT with startLogon (token removed)",
        (Some(AuthSettings::Jwt(_)), None) => "M2M JWT (token removed)",
        (Some(AuthSettings::Oauth(_)), _) | (Some(AuthSettings::Bearer { .. }), _) => {
            "Bearer OAuth access token (token removed)"
        }
        _ => "none",
    };
    let sent = String::from_utf8_lossy(&request.to_json()).into_owned();
    let result = client.lookup(&request);
    if let Err(e) = &result
        && auth == AuthMode::Oauth
        && e.kind() == nzpir::ErrorKind::ConsentRequired
    {
        row.verdict = Verdict::NotRun(
            "the OAuth token store holds no usable grant: authorise first \
             (nzpir oauth authorize-url, then nzpir oauth exchange)"
                .to_owned(),
        );
        return;
    }
    let (happened, answer, pass) = match &result {
        Ok(outcome) => {
            let happened = match outcome {
                PirOutcome::Suggested { rate, .. } => format!("rate {rate} %"),
                _ => "PirRateNotFound".to_owned(),
            };
            let answer = format!(
                "HTTP 200 {}",
                serde_json::to_string(&outcome.to_response()).unwrap_or_default()
            );
            let pass = match expect {
                Expect::Success => true,
                Expect::Code(_) => false,
                Expect::NotFound => outcome.is_not_found(),
                Expect::Rate(h) => outcome.rate().is_some_and(|r| r.hundredths() == h),
            };
            (happened, answer, pass)
        }
        Err(e) => {
            let status = e
                .http_status()
                .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}"));
            let happened = match e.ir_code() {
                Some(code) => format!("{} ({status})", code.as_str()),
                None => format!("{} error: {e}", e.kind()),
            };
            let answer = if e.ir_errors().is_empty() {
                format!("{status}: {e}")
            } else {
                let items: Vec<Value> = e
                    .ir_errors()
                    .iter()
                    .map(|i| {
                        json!({
                            "code": i.code.as_str(),
                            "type": i.error_type,
                            "message": i.code.ir_message().unwrap_or_else(|| e.message()),
                        })
                    })
                    .collect();
                format!("{status} {}", json!({ "errors": items }))
            };
            let pass =
                matches!(expect, Expect::Code(c) if e.ir_code().is_some_and(|k| k.as_str() == c));
            (happened, answer, pass)
        }
    };
    row.happened = happened;
    row.verdict = if pass { Verdict::Pass } else { Verdict::Fail };
    row.evidence = format!(
        "POST {}/gateway/calculators/pir; Authorization: {auth_words}; body {sent} → {answer}",
        client.endpoint().trim_end_matches('/')
    );
}

/// The request a scenario needs, by IR's plan.
fn shape_problem(id: &str, r: &PirRequest) -> Option<&'static str> {
    match id {
        "PIR-OB-005" if r.pie_ird().is_none() => Some("its request must send IRD and PieIRD"),
        "PIR-OB-006" | "PIR-OB-007" if r.pie_ird().is_some() => {
            Some("its request must send only IRD")
        }
        "PIR-OB-008"
            if r.pie_ird().is_none()
                || r.filing_period().is_none()
                || r.formatted_name().is_none()
                || r.name().is_none()
                || r.dob().is_none()
                || r.formatted_address().is_none()
                || r.address().is_none() =>
        {
            Some(
                "its request must send every optional field (PieIRD, FilingPeriod, FormattedName, Name, Dob, FormattedAddress, Address)",
            )
        }
        "PIR-OB-013" if r.filing_period().is_none() => Some("its request must send a FilingPeriod"),
        _ => None,
    }
}

/// A Markdown table cell: no line breaks, `|` escaped.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

fn render(file: &ScenarioFile, cfg: &Config, rows: &[Row]) -> String {
    let mut out = String::new();
    let title = file
        .title
        .as_deref()
        .unwrap_or("PIR onboarding test report");
    let _ = writeln!(out, "# {}\n", cell(title));
    let env = cfg
        .environment
        .map_or_else(|| "test".to_owned(), |e| format!("{e:?}").to_lowercase());
    let _ = writeln!(
        out,
        "Service: PIR (`POST /gateway/calculators/pir`). Environment: {env}. \
         Run by nzpir {} on {}.\n",
        nzpir::VERSION,
        today_utc()
    );
    let (ran, passed) = rows.iter().fold((0, 0), |(r, p), row| match row.verdict {
        Verdict::Pass => (r + 1, p + 1),
        Verdict::Fail => (r + 1, p),
        Verdict::NotRun(_) => (r, p),
    });
    let _ = writeln!(
        out,
        "Result: {passed} of {ran} scenarios that ran passed; {} not run. \
         Evidence shows each request as sent and IR's answer; tokens, keys and JWTs are removed.\n",
        rows.len() - ran
    );
    let _ = writeln!(
        out,
        "| Scenario | Description | Expected | Actual | Result | Evidence |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for row in rows {
        let (verdict, actual) = match &row.verdict {
            Verdict::Pass => ("Pass".to_owned(), row.happened.clone()),
            Verdict::Fail => ("Fail".to_owned(), row.happened.clone()),
            Verdict::NotRun(why) => ("Not run".to_owned(), format!("not run: {why}")),
        };
        let evidence = if row.evidence.is_empty() {
            String::new()
        } else {
            format!("`{}`", row.evidence.replace('`', "'"))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.id,
            cell(row.scenario),
            cell(&row.expected),
            cell(&actual),
            verdict,
            cell(&evidence)
        );
    }
    out
}

fn today_utc() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| format!("{} (UTC)", t.date()))
        .unwrap_or_default()
}

/// Starts the embedded sandbox, and authorises its OAuth application headlessly
/// (the sandbox's consenting myIR user answers at once) so that the OAuth
/// scenarios have a token store. Returns the sandbox, its `nzpir.toml`, and
/// the OAuth configuration written next to it.
fn start_sandbox() -> Result<(Sandbox, PathBuf, PathBuf), Failure> {
    let sb = Sandbox::start(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(0),
    )
    .map_err(|e| Failure::new(exit::INTERNAL, format!("the sandbox did not start: {e}")))?;
    let m = sb.manifest();
    const APP: &str = "sandbox-app";
    const REDIRECT: &str = "http://127.0.0.1/callback";
    let secret = m
        .oauth
        .clients
        .iter()
        .find(|c| c.client_id == APP)
        .map(|c| c.client_secret.clone())
        .ok_or_else(|| {
            Failure::new(
                exit::INTERNAL,
                "the sandbox fixture has no OAuth client sandbox-app",
            )
        })?;
    let oauth_cfg = Config::new()
        .with_environment(Environment::Sandbox)
        .with_endpoint(sb.url().to_owned())
        .with_tls(TlsSettings {
            client_cert: Some(m.client_cert.clone()),
            client_key: Some(m.client_key.clone()),
            ca_cert: Some(m.ca_cert.clone()),
            ..TlsSettings::default()
        })
        .with_auth(AuthSettings::Oauth(nzpir::OAuthSettings {
            client_id: Some(APP.to_owned()),
            client_secret: Some(Secret::new(secret)),
            redirect_uri: Some(REDIRECT.to_owned()),
            endpoint: Some(m.oauth.base_url.clone()),
            token_store: Some(sb.pki_dir().join("onboarding-tokens.json")),
        }));
    let oauth_path = sb.pki_dir().join("nzpir-oauth.toml");
    let text = oauth_cfg.to_toml_string().map_err(Failure::from)?;
    std::fs::write(&oauth_path, text).map_err(|e| {
        Failure::new(
            exit::INTERNAL,
            format!("cannot write {}: {e}", oauth_path.display()),
        )
    })?;

    let client = Client::from_config(&oauth_cfg).map_err(Failure::from)?;
    let source = client
        .oauth()
        .ok_or_else(|| Failure::new(exit::INTERNAL, "no OAuth token source"))?;
    let request = source
        .oauth()
        .authorization_request()
        .map_err(Failure::from)?;
    let location = follow_authorize(&m.ca_cert, request.url())?;
    source
        .complete_authorization(&request, &location)
        .map_err(Failure::from)?;
    let config = sb.config_path().to_path_buf();
    Ok((sb, config, oauth_path))
}

/// What a browser does with IR's authorize URL: GET it and read where it
/// redirects (the sandbox's myIR user consents at once).
fn follow_authorize(ca_cert: &Path, url: &str) -> Result<String, Failure> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let fail =
        |what: String| Failure::new(exit::INTERNAL, format!("sandbox authorisation: {what}"));
    let ca = std::fs::read(ca_cert).map_err(|e| fail(format!("CA: {e}")))?;
    let ca = Certificate::from_pem(&ca).map_err(|e| fail(format!("CA: {e}")))?;
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(nzpir::tls::crypto_provider())
        .root_certs(RootCerts::new_with_certs(&[ca]))
        .build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let resp = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| fail(format!("HTTP {} without a redirect", resp.status())))
}

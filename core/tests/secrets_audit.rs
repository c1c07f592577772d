//! The secrets audit: with every log record of every crate captured at trace
//! level (the sandbox's own included), run successful lookups (M2M JWT RS256
//! and ES256, a static bearer token, OAuth with PKCE and rotating refresh
//! tokens) and every failure the sandbox and the client can produce (IR's
//! mock scenarios, strict mode's codes, 5xx, PIR150, dropped connections,
//! broken bodies, timeouts, TLS failures, local validation, configuration and
//! token store errors), then assert that no private key, JWT, access or
//! refresh token, authorisation code, PKCE verifier, client secret, IRD
//! number (9 digits, 8 digits or dashed), name or date of birth appears in
//! what a host's logger receives, in any error's `Display`, `Debug` or
//! sources, or in the `Debug` of clients, configurations, signers and tokens.
//!
//! The secrets are collected from what was actually used: the key files the
//! sandbox's manifest names, the JWTs the signers sent, the tokens the token
//! store holds after each step, and every IRD number and person sent.
//!
//! The logger is installed through `nzpir::logging::WithoutWireDumps`, as the
//! crate tells hosts to; the raw HTTP dumps it drops are checked elsewhere
//! (`logging.rs`, `sandbox_oauth_secrets.rs`). Its own test binary: the
//! logger is process-wide.
//!
//! One test per call path, over one fixture ([`audit`]): the tests take turns
//! (the logger and the shared sandbox's faults and clock are process-wide),
//! each checks the records logged during its own turn, and each declares the
//! error kinds it produces ([`PATHS`]), which together cover every kind.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use log::Level;
use nzpir::oauth::{FileTokenStore, MemoryTokenStore, TokenKind, TokenSet, TokenStore};
use nzpir::{
    Address, Auth, AuthSettings, Client, Config, Error, ErrorKind, JwtAlgorithm, JwtSigner, Name,
    OAuthSettings, PirRequest, Secret,
};
use nzpir_sandbox::{Fault, FaultKind, FaultScope, Manifest, Profile, Sandbox, SandboxOptions};
use support::logs::{Tee, wire_dump_text};
use support::sandbox::{
    REDIRECT_URI, browser_get, builder, ec, fast_retries, oauth_client, oauth_file_config,
    oauth_secret, pie, rs256, start, start_with,
};

static LOGGER: Tee = Tee::new();

/// Everything the audit collected: the secrets, and the texts to search.
#[derive(Default)]
struct Audit {
    secrets: Vec<(String, String)>,
    texts: Vec<(String, String)>,
    errors: Vec<ErrorKind>,
    /// Secrets (by name) that must be on the wire: proof they were used.
    sent: Vec<String>,
}

impl Audit {
    fn secret(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        assert!(!value.is_empty(), "an empty secret proves nothing");
        self.secrets.push((what.into(), value));
    }

    /// The secret named `what` must have gone over the wire.
    fn sent(&mut self, what: &str) {
        self.sent.push(what.to_owned());
    }

    /// An IRD number in every form a log line could spell it.
    fn ird(&mut self, ird: &str) {
        let digits: String = ird.chars().filter(char::is_ascii_digit).collect();
        let nine = format!("{digits:0>9}");
        let eight = nine.trim_start_matches('0').to_owned();
        self.secret("IRD number", nine.clone());
        if eight.len() == 8 {
            self.secret("IRD number (8 digits)", eight.clone());
            self.secret(
                "IRD number (dashed)",
                format!("{}-{}-{}", &eight[..2], &eight[2..5], &eight[5..]),
            );
        }
        self.secret(
            "IRD number (dashed)",
            format!("{}-{}-{}", &nine[..3], &nine[3..6], &nine[6..]),
        );
    }

    /// The base64 lines of a PEM private key file.
    fn key_file(&mut self, what: &str, path: &std::path::Path) {
        let pem = std::fs::read_to_string(path).expect("key file");
        self.key_pem(what, &pem);
    }

    fn key_pem(&mut self, what: &str, pem: &str) {
        let mut n = 0;
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            let line = line.trim();
            if line.len() >= 16 {
                self.secret(format!("private key {what}"), line);
                n += 1;
            }
        }
        assert!(n > 0, "no key material read from {what}");
    }

    fn tokens(&mut self, what: &str, t: &TokenSet) {
        self.secret(format!("{what} access token"), t.access_token.expose());
        if let Some(r) = &t.refresh_token {
            self.secret(format!("{what} refresh token"), r.expose());
        }
    }

    fn signer(&mut self, what: &str, s: &JwtSigner) {
        let jwt = s.token().expect("the JWT the client sent");
        self.secret(format!("{what} JWT"), jwt.expose());
        // Its signature alone, in case a line quotes only the end.
        let sig = jwt.expose().rsplit('.').next().expect("signature");
        self.secret(format!("{what} JWT signature"), sig);
        self.debug(&format!("{what} signer"), s);
        self.debug(&format!("{what} JWT"), &jwt);
    }

    fn debug(&mut self, what: &str, v: &dyn std::fmt::Debug) {
        self.texts
            .push((format!("Debug of {what}"), format!("{v:?}")));
        self.texts
            .push((format!("Debug of {what}"), format!("{v:#?}")));
    }

    fn error(&mut self, what: &str, e: &Error) {
        self.errors.push(e.kind());
        self.texts
            .push((format!("Display of {what} error"), e.to_string()));
        self.texts
            .push((format!("Debug of {what} error"), format!("{e:?}")));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            self.texts
                .push((format!("source of {what} error"), s.to_string()));
            self.texts
                .push((format!("source Debug of {what} error"), format!("{s:?}")));
            source = s.source();
        }
    }

    /// Runs `f`, which must fail with `kind`, and keeps the error.
    #[track_caller]
    fn fails<T: std::fmt::Debug>(&mut self, what: &str, kind: ErrorKind, r: Result<T, Error>) {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), kind, "{what}: {e}");
        self.error(what, &e);
    }
}

fn pem_keys(a: &mut Audit, m: &Manifest) {
    a.key_file("client.key", &m.client_key);
    a.key_file("unregistered-client.key", &m.unregistered_client_key);
    a.key_file("jwt-rs256.key", &m.jwt_rs256_key);
    a.key_file("jwt-ec.key", &m.jwt_ec_key);
    a.key_file("ca.key", &m.pki_dir.join("ca.key"));
    a.key_file("server.key", &m.pki_dir.join("server.key"));
}

/// A JWT client on the ready credential with `start_logon`.
fn jwt_client(sb: &Sandbox, signer: &JwtSigner) -> Client {
    builder(sb)
        .auth(Auth::Jwt(signer.clone()))
        .build()
        .expect("client")
}

fn req(ird: &str, pie: Option<&str>) -> PirRequest {
    let mut b = PirRequest::builder(ird);
    if let Some(p) = pie {
        b = b.pie_ird(p);
    }
    b.build()
}

/// A self-signed identity from no CA the sandbox trusts.
fn foreign_pem() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let cert = rcgen::CertificateParams::new(vec!["stranger.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    (cert.pem(), key.serialize_pem())
}

/// A token store that always fails, as a host's broken store would.
#[derive(Debug)]
struct BrokenStore;

impl TokenStore for BrokenStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        Err(Error::new(ErrorKind::TokenStore, "the vault is sealed"))
    }
    fn save(&self, _: &TokenSet) -> Result<(), Error> {
        Err(Error::new(ErrorKind::TokenStore, "the vault is sealed"))
    }
}

/// The error kinds each call path produces: together, every kind.
const PATHS: &[(&str, &[ErrorKind])] = &[
    ("successful_lookups", &[]),
    (
        "oauth",
        &[
            ErrorKind::Authorisation,
            ErrorKind::ConsentRequired,
            ErrorKind::Server,
            ErrorKind::Authentication,
        ],
    ),
    (
        "strict_refusals",
        &[
            ErrorKind::Authentication,
            ErrorKind::Authorisation,
            ErrorKind::Rejected,
        ],
    ),
    (
        "faults_and_timeouts",
        &[ErrorKind::Server, ErrorKind::Transport, ErrorKind::Timeout],
    ),
    (
        "tls_and_connections",
        &[ErrorKind::Tls, ErrorKind::Transport],
    ),
    (
        "ir_mock_scenarios",
        &[ErrorKind::Rejected, ErrorKind::Authorisation],
    ),
    ("ir003", &[ErrorKind::RateLimited]),
    ("local_validation", &[ErrorKind::InvalidInput]),
    ("configuration", &[ErrorKind::Config]),
    ("token_stores", &[ErrorKind::TokenStore]),
    ("answers_quoting_credentials", &[]),
];

#[test]
fn the_call_paths_cover_every_error_kind() {
    for kind in ErrorKind::ALL {
        assert!(
            PATHS.iter().any(|(_, kinds)| kinds.contains(&kind)),
            "no call path produces {kind:?}"
        );
    }
}

/// The strict sandbox the call paths share (each leaves it as it found it:
/// no fault, no clock offset).
fn strict() -> &'static Sandbox {
    static SB: OnceLock<Sandbox> = OnceLock::new();
    SB.get_or_init(|| start(Profile::Strict))
}

/// Runs one call path's audit: `f` makes the calls and collects secrets and
/// texts; then every text and every log record of this turn is searched for
/// every secret, and the errors produced must be the ones `PATHS` lists.
fn audit(path: &str, f: impl FnOnce(&mut Audit)) {
    static TURN: Mutex<()> = Mutex::new(());
    static INSTALL: OnceLock<()> = OnceLock::new();
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    INSTALL.get_or_init(|| Tee::install(&LOGGER));
    LOGGER.record(true);
    let (host_from, raw_from) = (LOGGER.host_records().len(), LOGGER.raw.records().len());
    TURN_FROM.store(host_from, std::sync::atomic::Ordering::SeqCst);

    let mut a = Audit::default();
    let sb = strict();
    let m = sb.manifest();
    pem_keys(&mut a, m);
    for c in &m.oauth.clients {
        a.secret(
            format!("client secret of {}", c.client_id),
            &c.client_secret,
        );
    }
    a.ird(&pie(m, "kowhai-scheme"));
    a.ird(&pie(m, "tuatara-funds"));
    f(&mut a);
    sb.clear_faults();
    sb.set_clock_offset(0);
    LOGGER.record(true);

    let records = LOGGER.host_records()[host_from..].to_vec();
    let raw = LOGGER.raw.records()[raw_from..].to_vec();
    // Nothing vacuous: the errors this path exists for happened.
    let expected = PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, k)| *k)
        .unwrap_or_else(|| panic!("{path} is not in PATHS"));
    for kind in expected {
        assert!(a.errors.contains(kind), "{path}: no {kind:?} error");
    }
    for kind in &a.errors {
        assert!(expected.contains(kind), "{path}: {kind:?} is not in PATHS");
    }
    // The secrets that must have gone over the wire did: the raw HTTP dumps
    // (which the host's logger never gets) carry them.
    let wire = wire_dump_text(&raw);
    for what in &a.sent {
        let (_, secret) = a
            .secrets
            .iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("{path}: no secret {what}"));
        assert!(
            wire.contains(secret.as_str()),
            "{path}: the {what} was not sent"
        );
    }

    let mut texts = a.texts.clone();
    for (level, target, msg) in &records {
        texts.push((format!("{level} log record of {target}"), msg.clone()));
    }
    let mut leaks = Vec::new();
    for (where_, text) in &texts {
        for (what, secret) in &a.secrets {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{where_} contains the {what} {secret:?}: {text}"));
            }
        }
        if let Some(i) = text.find("eyJ") {
            leaks.push(format!(
                "{where_} contains something JWT-shaped at {i}: {text}"
            ));
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(
        leaks.is_empty(),
        "{path}: {} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

static TURN_FROM: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What the host's logger received during this turn so far.
fn turn_records() -> Vec<support::logs::Entry> {
    LOGGER.host_records()[TURN_FROM.load(std::sync::atomic::Ordering::SeqCst)..].to_vec()
}

/// The test's own browser is not the library: its records are not audited.
fn browser(sb: &Sandbox, url: &str) -> String {
    LOGGER.record(false);
    let location = browser_get(sb, url);
    LOGGER.record(true);
    location
}

/// An RS256 client on the ready credential.
fn rs_client(sb: &Sandbox, a: &mut Audit) -> (JwtSigner, Client) {
    let rs = rs256(sb.manifest(), None);
    let client = jwt_client(sb, &rs);
    a.debug("JWT client", &client);
    (rs, client)
}

#[test]
fn successful_lookups() {
    audit("successful_lookups", |a| {
        let sb = strict();
        let m = sb.manifest();
        let (s, t) = (pie(m, "kowhai-scheme"), pie(m, "tuatara-funds"));
        // RS256 and ES256 JWTs.
        let (rs, client) = rs_client(sb, a);
        for ird in ["139276507", "139276310", "49-091-850"] {
            a.ird(ird);
            let o = client.lookup(&req(ird, Some(&s))).expect("member lookup");
            a.debug("outcome", &o);
        }
        a.signer("RS256", &rs);
        a.sent("RS256 JWT");
        let es = ec(m);
        let client_ec = jwt_client(sb, &es);
        client_ec
            .lookup(&req("139439976", Some(&s)))
            .expect("ES256 lookup");
        a.ird("139439976");
        a.sent("IRD number");
        a.signer("ES256", &es);
        a.debug("ES256 client", &client_ec);

        // Soft matching: name, date of birth and address sent.
        let tuatara = rs256(m, Some("tuatara.admin"));
        let soft = PirRequest::builder("139276329")
            .pie_ird(&t)
            .name(Name::new("Gary", "Allen"))
            .formatted_name("Allen, Gary")
            .dob("1990-01-02")
            .address(Address::new("123 Ha Crescent", "Auckland", "NZ").with_post_code("2104"))
            .build();
        a.ird("139276329");
        for (w, v) in [
            ("first name", "Gary"),
            ("last name", "Allen"),
            ("date of birth", "1990-01-02"),
            ("street", "123 Ha Crescent"),
        ] {
            a.secret(w, v);
        }
        a.debug("request with personal data", &soft);
        let o = jwt_client(sb, &tuatara).lookup(&soft).expect("soft match");
        assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), Some("28"));
        a.signer("startLogon JWT", &tuatara);
        // One line per lookup.
        let calls = turn_records()
            .iter()
            .filter(|(_, t, msg)| t == "nzpir" && msg.starts_with("op=lookup"))
            .count();
        assert!(calls >= 5, "one line per lookup: only {calls}");
    });
}

#[test]
#[allow(clippy::too_many_lines)]
fn oauth() {
    audit("oauth", |a| {
        let sb = strict();
        let m = sb.manifest();
        let s = pie(m, "kowhai-scheme");
        let (_, client) = rs_client(sb, a);
        // Authorisation code with PKCE, lookups, rotation, introspect, revoke,
        // a refused refresh; the config's file store.
        let client_id = "sandbox-app";
        let client_secret = oauth_secret(m, client_id);
        {
            use base64::Engine as _;
            a.secret(
                "Basic credentials",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{client_id}:{client_secret}")),
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = Config {
            max_retries: Some(1),
            retry_base_delay_secs: Some(0.005),
            ..oauth_file_config(sb, client_id, dir.path().join("tokens.json"))
        };
        a.debug("OAuth config", &cfg);
        let oclient = Client::from_config(&cfg).expect("OAuth client");
        let source = oclient.oauth().expect("token source").clone();
        let oauth = source.oauth().clone();
        let areq = oauth
            .authorization_request()
            .expect("authorisation request");
        let location = browser(sb, areq.url());
        let code = areq.code_from_redirect(&location).expect("code");
        a.secret("authorisation code", code.expose());
        a.secret("PKCE verifier", areq.pkce().verifier().expose());
        a.secret("OAuth state", areq.state());
        a.debug("authorisation request", &areq);
        a.debug("authorisation code", &code);
        let first = source
            .complete_authorization(&areq, &location)
            .expect("exchange");
        a.tokens("first", &first);
        oclient
            .lookup(&req("139332754", None))
            .expect("OAuth lookup");
        a.ird("139332754");
        let second = source.refresh_now().expect("refresh");
        a.tokens("second", &second);
        a.sent("second access token");
        oclient
            .lookup(&req("139439976", None))
            .expect("lookup after the refresh");
        // The server forgets the access token: the client refreshes on the 401.
        oauth
            .revoke(&second.access_token, TokenKind::Access)
            .expect("revoke the access token");
        oclient
            .lookup(&req("139439976", None))
            .expect("a 401 cured by a refresh");
        let third = source.tokens().expect("store").expect("tokens");
        a.tokens("third", &third);
        let intro = oauth
            .introspect(&third.access_token, TokenKind::Access)
            .expect("introspect");
        assert!(intro.active);
        a.debug("introspection", &intro);
        a.debug("token set", &third);
        a.debug("token source", &source);
        a.debug("OAuth client", &oauth);
        a.debug("OAuth lookup client", &oclient);
        a.fails(
            "EV1041 over OAuth",
            ErrorKind::Authorisation,
            oclient.lookup(&req("139276507", Some(&s))),
        );
        // A static bearer token: the access token OAuth issued.
        let bearer = builder(sb)
            .auth(Auth::Bearer(third.access_token.clone()))
            .build()
            .expect("bearer client");
        bearer
            .lookup(&req("139439976", None))
            .expect("bearer lookup");
        a.debug("bearer client", &bearer);
        a.debug("Auth::Bearer", &Auth::Bearer(third.access_token.clone()));
        // A 503 from the token endpoint during a refresh, then the grant revoked.
        sb.set_fault(Fault::status(503).times(1).scope(FaultScope::Token));
        a.fails(
            "a token endpoint 503",
            ErrorKind::Server,
            source.refresh_now(),
        );
        sb.clear_faults();
        // A spent refresh token sent again (at IR, this revokes the token set).
        a.fails(
            "a spent refresh token",
            ErrorKind::ConsentRequired,
            oauth.refresh(first.refresh_token.as_ref().expect("refresh token")),
        );
        oauth
            .revoke(
                third.refresh_token.as_ref().expect("r3"),
                TokenKind::Refresh,
            )
            .expect("revoke");
        a.fails(
            "a revoked grant",
            ErrorKind::ConsentRequired,
            oclient.lookup(&req("139439976", None)),
        );
        a.fails(
            "refresh after revocation",
            ErrorKind::ConsentRequired,
            source.refresh_now(),
        );
        let (orphan_tokens, orphan) = {
            let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
            let c = builder(sb)
                .oauth(OAuthSettings {
                    client_id: Some("sandbox-orphan".to_owned()),
                    client_secret: Some(Secret::new(oauth_secret(m, "sandbox-orphan"))),
                    redirect_uri: Some(REDIRECT_URI.to_owned()),
                    endpoint: Some(m.oauth.base_url.clone()),
                    token_store: None,
                })
                .token_store(store)
                .build()
                .expect("orphan client");
            let src = c.oauth().expect("source").clone();
            let r = src.oauth().authorization_request().expect("request");
            let loc = browser(sb, r.url());
            (src.complete_authorization(&r, &loc).expect("exchange"), c)
        };
        a.tokens("orphan", &orphan_tokens);
        a.fails(
            "EV1040",
            ErrorKind::Authorisation,
            orphan.lookup(&req("139439976", None)),
        );
        let no_consent = oauth_client(sb, &client, "sandbox-no-consent");
        let r = no_consent.authorization_request().expect("request");
        let loc = browser(sb, r.url());
        a.fails(
            "access_denied",
            ErrorKind::ConsentRequired,
            no_consent.complete_authorization(&r, &loc),
        );
        let e = areq
            .code_from_redirect(&format!("{REDIRECT_URI}?code=abc&state=wrong"))
            .expect_err("a state that does not match");
        a.error("a state that does not match", &e);
        assert!(
            turn_records()
                .iter()
                .any(|(_, t, m)| t.starts_with("nzpir_sandbox")
                    && m.contains("/gateway3/oauth/token")),
            "the sandbox logged its requests"
        );
        assert!(
            turn_records()
                .iter()
                .any(|(_, t, m)| t == "nzpir" && m.contains("refresh")),
            "the refreshes were logged"
        );
    });
}

#[test]
#[allow(clippy::too_many_lines)]
fn strict_refusals() {
    audit("strict_refusals", |a| {
        let sb = strict();
        let m = sb.manifest();
        let (s, t) = (pie(m, "kowhai-scheme"), pie(m, "tuatara-funds"));
        let (rs, client) = rs_client(sb, a);
        let unregistered = builder(sb)
            .identity_files(&m.unregistered_client_cert, &m.unregistered_client_key)
            .auth(Auth::Jwt(rs.clone()))
            .build()
            .expect("client");
        a.fails(
            "EV1023",
            ErrorKind::Authentication,
            unregistered.lookup(&req("139276507", Some(&s))),
        );
        let none = builder(sb).auth(Auth::None).build().expect("client");
        a.fails(
            "EV1025",
            ErrorKind::Authentication,
            none.lookup(&req("139276507", Some(&s))),
        );
        let unknown_bearer = builder(sb)
            .auth(Auth::Bearer(Secret::new(
                "a-bearer-token-nobody-issued-QxZvTkWm",
            )))
            .build()
            .expect("client");
        a.secret(
            "unknown bearer token",
            "a-bearer-token-nobody-issued-QxZvTkWm",
        );
        a.fails(
            "EV1024",
            ErrorKind::Authentication,
            unknown_bearer.lookup(&req("139276507", Some(&s))),
        );
        let (fcert, fkey) = foreign_pem();
        a.key_pem("foreign JWT key", &fkey);
        let stranger = JwtSigner::builder(fcert, fkey)
            .algorithm(JwtAlgorithm::ES256)
            .issuer("Nobody Ltd")
            .build()
            .expect("signer");
        a.fails(
            "EV1027",
            ErrorKind::Authentication,
            jwt_client(sb, &stranger).lookup(&req("139276507", Some(&s))),
        );
        a.signer("unregistered JWT", &stranger);
        let rs384 = JwtSigner::builder_from_files(&m.jwt_rs256_cert, &m.jwt_rs256_key)
            .algorithm(JwtAlgorithm::RS384)
            .issuer("Kowhai")
            .build()
            .expect("signer");
        a.fails(
            "EV1029",
            ErrorKind::Authentication,
            jwt_client(sb, &rs384).lookup(&req("139276507", Some(&s))),
        );
        a.signer("RS384 JWT", &rs384);
        // EV1026: the sandbox's clock two hours on, the JWT long expired.
        let late = rs256(m, None);
        sb.set_clock_offset(7200);
        a.fails(
            "EV1026",
            ErrorKind::Authentication,
            jwt_client(sb, &late).lookup(&req("139276507", Some(&s))),
        );
        sb.set_clock_offset(0);
        a.signer("expired JWT", &late);
        for (what, ird, pie, kind) in [
            (
                "EV1042",
                "139276272",
                Some(t.as_str()),
                ErrorKind::Authorisation,
            ),
            (
                "EV1043",
                "139276272",
                Some(s.as_str()),
                ErrorKind::Authorisation,
            ),
            ("PIR101", "139276507", None, ErrorKind::Rejected),
        ] {
            a.ird(ird);
            a.fails(what, kind, client.lookup(&req(ird, pie)));
        }
        a.fails(
            "EV1042 for an unknown logon",
            ErrorKind::Authorisation,
            jwt_client(sb, &rs256(m, Some("nobody.known"))).lookup(&req("139276507", Some(&s))),
        );
        // EV1100 and PER100 need the local checks off.
        let unchecked = builder(sb)
            .auth(Auth::Jwt(rs.clone()))
            .validate_locally(false)
            .build()
            .expect("client");
        let bad_country = PirRequest::builder("139276507")
            .pie_ird(&s)
            .address(Address::new("77 Secret Lane", "Auckland", "AB"))
            .dob("1977-12-25")
            .build();
        a.secret("street", "77 Secret Lane");
        a.secret("date of birth", "1977-12-25");
        a.fails(
            "EV1100",
            ErrorKind::Rejected,
            unchecked.lookup(&bad_country),
        );
        a.fails(
            "EV1100 for an IRD",
            ErrorKind::Rejected,
            unchecked.lookup(&req("136410133", Some(&s))),
        );
        a.ird("136410133");
        let per100 = PirRequest::builder("139276507")
            .pie_ird(&s)
            .filing_period("2020-03-30")
            .build();
        a.fails("PER100", ErrorKind::Rejected, unchecked.lookup(&per100));
        a.signer("RS256", &rs);
    });
}

#[test]
fn faults_and_timeouts() {
    audit("faults_and_timeouts", |a| {
        let sb = strict();
        let m = sb.manifest();
        let s = pie(m, "kowhai-scheme");
        let rs = rs256(m, None);
        let faulty = builder(sb)
            .auth(Auth::Jwt(rs.clone()))
            .retry_policy(fast_retries(2))
            .build()
            .expect("client");
        let member = req("139276310", Some(&s));
        a.ird("139276310");
        for (what, fault, kind) in [
            ("503", Fault::status(503), ErrorKind::Server),
            ("500", Fault::status(500), ErrorKind::Server),
            ("PIR150", Fault::new(FaultKind::Pir150), ErrorKind::Server),
            (
                "drop before read",
                Fault::new(FaultKind::DropBeforeRead),
                ErrorKind::Transport,
            ),
            (
                "drop after read",
                Fault::new(FaultKind::DropAfterRead),
                ErrorKind::Transport,
            ),
            (
                "truncated body",
                Fault::new(FaultKind::TruncatedBody).times(1),
                ErrorKind::Server,
            ),
            (
                "malformed body",
                Fault::new(FaultKind::MalformedBody).times(1),
                ErrorKind::Server,
            ),
        ] {
            sb.set_fault(fault);
            a.fails(what, kind, faulty.lookup(&member));
            sb.clear_faults();
        }
        sb.set_fault(Fault::status(503).times(1));
        faulty
            .lookup(&member)
            .expect("a load balancer's 503 retried away");
        assert!(
            turn_records()
                .iter()
                .any(|(l, t, m)| *l == Level::Debug && t == "nzpir" && m.contains("retry")),
            "retries were logged"
        );
        let slow = builder(sb)
            .auth(Auth::Jwt(rs.clone()))
            .timeout(Duration::from_millis(300))
            .retry_policy(fast_retries(1))
            .build()
            .expect("client");
        sb.set_fault(Fault::delay(Duration::from_secs(2)));
        a.fails("timeout", ErrorKind::Timeout, slow.lookup(&member));
        sb.clear_faults();
        a.signer("RS256", &rs);
    });
}

#[test]
fn tls_and_connections() {
    audit("tls_and_connections", |a| {
        let sb = strict();
        let m = sb.manifest();
        let s = pie(m, "kowhai-scheme");
        let rs = rs256(m, None);
        let member = req("139276310", Some(&s));
        a.ird("139276310");
        let no_ca = Client::builder()
            .endpoint(sb.url())
            .identity_files(&m.client_cert, &m.client_key)
            .auth(Auth::Jwt(rs.clone()))
            .retry_policy(fast_retries(0))
            .no_proxy()
            .build()
            .expect("client");
        a.fails("unknown server CA", ErrorKind::Tls, no_ca.lookup(&member));
        let (ccert, ckey) = foreign_pem();
        a.key_pem("foreign TLS key", &ckey);
        let foreign = Client::builder()
            .endpoint(sb.url())
            .identity_pem(ccert, ckey)
            .add_root_certificate_file(&m.ca_cert)
            .auth(Auth::Jwt(rs.clone()))
            .retry_policy(fast_retries(0))
            .no_proxy()
            .build()
            .expect("client");
        let e = foreign
            .lookup(&member)
            .expect_err("a certificate from no known CA");
        assert!(
            matches!(e.kind(), ErrorKind::Tls | ErrorKind::Transport),
            "{e}"
        );
        a.error("foreign client certificate", &e);
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let refused = builder(sb)
            .endpoint(format!("https://127.0.0.1:{closed}"))
            .auth(Auth::Jwt(rs.clone()))
            .retry_policy(fast_retries(1))
            .build()
            .expect("client");
        a.fails(
            "connection refused",
            ErrorKind::Transport,
            refused.lookup(&member),
        );
        // A lookup that works, so the TLS library's trace was recorded too.
        jwt_client(sb, &rs).lookup(&member).expect("lookup");
        let records = turn_records();
        assert!(
            records
                .iter()
                .any(|(l, t, _)| *l == Level::Trace && t.starts_with("rustls")),
            "rustls logged at trace level"
        );
        assert!(
            records
                .iter()
                .any(|(l, t, _)| *l >= Level::Debug && t.starts_with("ureq")),
            "the HTTP library logged at debug or trace"
        );
        a.signer("RS256", &rs);
    });
}

#[test]
fn ir_mock_scenarios() {
    // IR's example numbers fail modulus 11: local checks off.
    audit("ir_mock_scenarios", |a| {
        let mock = start(Profile::IrMock);
        let mm = mock.manifest();
        pem_keys(a, mm);
        let mock_jwt = rs256(mm, None);
        let mock_client = |auth: Auth| {
            builder(&mock)
                .validate_locally(false)
                .auth(auth)
                .build()
                .expect("client")
        };
        let mj = mock_client(Auth::Jwt(mock_jwt.clone()));
        let mb = mock_client(Auth::Bearer(Secret::new("mock-bearer-token-QxZvTkWmPr")));
        a.secret("mock bearer token", "mock-bearer-token-QxZvTkWmPr");
        for ird in ["139276507", "139276310", "139439976", "123987654"] {
            a.ird(ird);
            mj.lookup(&req(ird, None)).expect("mock answer");
        }
        mj.lookup(&req("139276272", Some("123456789")))
            .expect("17.5 with PieIRD");
        a.ird("123456789");
        a.ird("139276272");
        a.ird("139332754");
        a.fails(
            "mock PIR101",
            ErrorKind::Rejected,
            mj.lookup(&req("139332754", None)),
        );
        a.fails(
            "mock EV1043",
            ErrorKind::Authorisation,
            mj.lookup(&req("139276329", None)),
        );
        a.fails(
            "mock EV1041",
            ErrorKind::Authorisation,
            mb.lookup(&req("139276329", None)),
        );
        a.fails(
            "mock EV1100",
            ErrorKind::Rejected,
            mj.lookup(&req("12345", None)),
        );
        a.fails(
            "mock PER100",
            ErrorKind::Rejected,
            mj.lookup(
                &PirRequest::builder("139276507")
                    .filing_period("2019-03-30")
                    .build(),
            ),
        );
        a.signer("mock JWT", &mock_jwt);
    });
}

#[test]
fn ir003() {
    // A sandbox that allows one answer a day.
    audit("ir003", |a| {
        let quota = start_with(
            SandboxOptions::default()
                .profile(Profile::Strict)
                .ir003_limit(1),
        );
        let qm = quota.manifest();
        pem_keys(a, qm);
        let qjwt = rs256(qm, None);
        let qc = jwt_client(&quota, &qjwt);
        let qs = pie(qm, "kowhai-scheme");
        a.ird(&qs);
        a.ird("139276507");
        qc.lookup(&req("139276507", Some(&qs))).expect("first");
        a.fails(
            "IR003",
            ErrorKind::RateLimited,
            qc.lookup(&req("139276507", Some(&qs))),
        );
        a.signer("IR003 JWT", &qjwt);
    });
}

#[test]
fn local_validation() {
    // Nothing sent, nothing quoted back.
    audit("local_validation", |a| {
        let sb = strict();
        let (_, client) = rs_client(sb, a);
        let person = PirRequest::builder("136410133")
            .pie_ird("12345678")
            .name(Name::new("Wiremu", "Secretsurname").with_middle_name("Middlesecret"))
            .dob("1971-02-30")
            .formatted_name(format!("Secretsurname, {}", "x".repeat(300)))
            .address(Address::new("9 Hidden Road", "Hamilton", "QQ"))
            .filing_period("2024-04-01")
            .build();
        for (w, v) in [
            ("first name", "Wiremu"),
            ("last name", "Secretsurname"),
            ("middle name", "Middlesecret"),
            ("date of birth", "1971-02-30"),
            ("street", "9 Hidden Road"),
        ] {
            a.secret(w, v);
        }
        a.ird("12345678");
        a.ird("136410133");
        let before = sb.stats().pir_requests;
        a.fails(
            "local validation",
            ErrorKind::InvalidInput,
            client.lookup(&person),
        );
        a.debug("invalid request", &person);
        for bad in [
            r#"{"IRD": 139276507, "PieIRD": "125000002"}"#,
            r#"{"IRD": "139276507", "Dob": 19900102}"#,
            r#"{"IRD": "139276507", "Name": {"FirstName": 7, "LastName": "Allen"}}"#,
            r#"{"IRD": "139276507", "Name": "Gary Allen"}"#,
            r#"{"IRD": "139276507", "Nope": "049091850"}"#,
            r#"{"IRD": "139276507" "PieIRD": "125000002"}"#,
            r#"["139276507"]"#,
        ] {
            match PirRequest::from_json(bad.as_bytes()) {
                Err(e) => a.error("request JSON", &e),
                Ok(r) => {
                    let e = client.lookup(&r).expect_err("refused");
                    a.error("request JSON", &e);
                }
            }
        }
        assert_eq!(sb.stats().pir_requests, before, "nothing was sent");
        a.ird("139276507");
        a.ird("049091850");
        for bad in ["139-276-508", "139276508", "39276508x"] {
            let e = nzpir::IrdNumber::parse(bad).expect_err("invalid IRD");
            a.texts.push(("IRD error".to_owned(), format!("{e} {e:?}")));
        }
        a.ird("139276508");
    });
}

#[test]
#[allow(clippy::too_many_lines)]
fn configuration() {
    // Configuration errors, next to secrets.
    audit("configuration", |a| {
        let sb = strict();
        let m = sb.manifest();
        let s = pie(m, "kowhai-scheme");
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = oauth_file_config(sb, "sandbox-app", dir.path().join("tokens.json"));
        a.secret("proxy password", "pr0xy-pa55-QxZv");
        a.debug(
            "config with a proxy",
            &Config {
                proxy: Some("http://audit:pr0xy-pa55-QxZv@127.0.0.1:3128".to_owned()),
                ..cfg.clone()
            },
        );
        let toml_secret = "toml-client-secret-QxZvTkWmPr";
        a.secret("client secret in a TOML file", toml_secret);
        for bad in [
            format!(
                "[auth]\ntype = \"oauth\"\nclient_secret = \"{toml_secret}\nclient_id = \"x\"\n"
            ),
            format!("[auth]\ntype = \"oauth\"\nclient_secret = {toml_secret}\n"),
            format!("[auth]\ntype = \"bearer\"\ntoken = [\"{toml_secret}\"]\n"),
            format!(
                "[auth]\ntype = \"oauth\"\nclient_secret = \"{toml_secret}\"\nnope = \"{toml_secret}\"\n"
            ),
            format!("[auth]\ntype = \"jwt\"\nkey_pem = \"{toml_secret}\"\n"),
        ] {
            match Config::from_toml_str(&bad) {
                Err(e) => a.error("TOML config", &e),
                Ok(cfg) => {
                    a.debug("parsed TOML config", &cfg);
                    if let Err(e) = Client::from_config(&cfg) {
                        a.error("TOML config", &e);
                    }
                }
            }
        }
        for bad in [
            format!(
                r#"{{"auth": {{"type": "bearer", "token": 98765432101}}, "x": "{toml_secret}"}}"#
            ),
            format!(r#"{{"auth": {{"type": "bearer", "token": "{toml_secret}", "extra": 1}}}}"#),
            format!(r#"{{"auth": {{"type": "bearer", "token": "{toml_secret}"}}"#),
        ] {
            a.fails(
                "JSON config",
                ErrorKind::Config,
                Config::from_json_str(&bad),
            );
        }
        let client_key_pem = std::fs::read_to_string(&m.client_key).expect("key");
        let jwt_key_pem = std::fs::read_to_string(&m.jwt_rs256_key).expect("key");
        let client_cert_pem = std::fs::read_to_string(&m.client_cert).expect("cert");
        let jwt_cert_pem = std::fs::read_to_string(&m.jwt_rs256_cert).expect("cert");
        a.fails(
            "a key that does not match the certificate",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_pem(client_cert_pem.clone(), jwt_key_pem.clone())
                .build(),
        );
        a.fails(
            "a JWT key that does not match",
            ErrorKind::Config,
            JwtSigner::builder(jwt_cert_pem, client_key_pem.clone()).build(),
        );
        a.fails(
            "a certificate where the key should be",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_pem(client_cert_pem.clone(), client_cert_pem.clone())
                .build(),
        );
        // A key file cut short, and one with its base64 broken.
        let cut = &client_key_pem[..client_key_pem.len() / 2];
        a.fails(
            "a key cut short",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_pem(client_cert_pem.clone(), cut.to_owned())
                .build(),
        );
        let garbled = client_key_pem.replacen('A', "!", 3);
        a.fails(
            "a garbled key",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_pem(client_cert_pem, garbled)
                .build(),
        );
        // A key pasted where its file's path belongs.
        a.fails(
            "PEM text given as a key path",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_files(&m.client_cert, &client_key_pem)
                .build(),
        );
        a.fails(
            "PEM text given as a JWT key path",
            ErrorKind::Config,
            JwtSigner::builder_from_files(&m.jwt_rs256_cert, &jwt_key_pem).build(),
        );
        let bad_bearer = "bearer-with-a-newline\nsecret-QxZvTkWmPr";
        a.secret("bearer token with a newline", "bearer-with-a-newline");
        a.secret("bearer token with a newline", "secret-QxZvTkWmPr");
        match builder(sb)
            .auth(Auth::Bearer(Secret::new(bad_bearer)))
            .build()
        {
            Err(e) => a.error("a bearer token with a newline", &e),
            Ok(c) => a.fails(
                "a bearer token with a newline",
                ErrorKind::Config,
                c.lookup(&req("139276507", Some(&s))),
            ),
        }
        let mut no_secret = cfg.clone();
        if let Some(AuthSettings::Oauth(o)) = &mut no_secret.auth {
            o.client_secret = None;
            o.token_store = None;
        }
        a.fails(
            "OAuth without a secret",
            ErrorKind::Config,
            Client::from_config(&no_secret),
        );
        a.fails(
            "a missing key file",
            ErrorKind::Config,
            Client::builder()
                .endpoint(sb.url())
                .identity_files(&m.client_cert, dir.path().join("missing.key"))
                .build(),
        );
    });
}

#[test]
fn token_stores() {
    audit("token_stores", |a| {
        let sb = strict();
        let m = sb.manifest();
        let dir = tempfile::tempdir().expect("tempdir");
        let store_path = dir.path().join("broken.json");
        let stored_secret = "stored-access-token-QxZvTkWmPr";
        let stored_refresh = "stored-refresh-token-QxZvTkWmPr";
        a.secret("stored access token", stored_secret);
        a.secret("stored refresh token", stored_refresh);
        for body in [
            format!(
                r#"{{"version":1,"access_token":"{stored_secret}","refresh_token":"{stored_refresh}","expires_at":"{stored_secret}"}}"#
            ),
            format!(
                r#"{{"version":1,"access_token":"{stored_secret}","refresh_token":"{stored_refresh}""#
            ),
            format!(
                r#"{{"version":1,"access_token":{{"{stored_secret}":1}},"refresh_token":"{stored_refresh}","expires_at":1}}"#
            ),
            format!(r#"{{"version":"{stored_secret}"}}"#),
            format!("{stored_secret}{stored_refresh}"),
        ] {
            std::fs::write(&store_path, body).expect("write");
            let store = FileTokenStore::new(&store_path);
            a.fails("a corrupt token store", ErrorKind::TokenStore, store.load());
            a.debug("file token store", &store);
        }
        let tokens = TokenSet {
            access_token: Secret::new(stored_secret),
            refresh_token: Some(Secret::new(stored_refresh)),
            expires_at: 4_000_000_000,
            scope: None,
        };
        a.debug("token set", &tokens);
        let unwritable = FileTokenStore::new(dir.path().join("no-such-folder").join("t.json"));
        a.fails(
            "an unwritable token store",
            ErrorKind::TokenStore,
            unwritable.save(&tokens),
        );
        let broken = builder(sb)
            .oauth(OAuthSettings {
                client_id: Some("sandbox-app".to_owned()),
                client_secret: Some(Secret::new(oauth_secret(m, "sandbox-app"))),
                redirect_uri: Some(REDIRECT_URI.to_owned()),
                endpoint: Some(m.oauth.base_url.clone()),
                token_store: None,
            })
            .token_store(Arc::new(BrokenStore))
            .build()
            .expect("client");
        a.ird("139439976");
        a.fails(
            "a host store that fails",
            ErrorKind::TokenStore,
            broken.lookup(&req("139439976", None)),
        );
        a.debug("client over a broken store", &broken);
    });
}

#[test]
fn answers_quoting_credentials() {
    // Answers from outside (the OAuth server, a redirect) that quote
    // credentials back: not repeated in the errors. (What is recognised is
    // token-shaped text, 20 characters or more: JWTs, tokens, codes.)
    audit("answers_quoting_credentials", |a| {
        let sb = strict();
        let spent = "spent-refresh-token-QxZvTkWmPrLs";
        a.secret("a spent refresh token", spent);
        let rs = rs256(sb.manifest(), None);
        let jwt = rs.token().expect("jwt").expose().to_owned();
        a.signer("RS256", &rs);
        let code = "an-authorisation-code-QxZvTkWmPr";
        a.secret("authorisation code", code);
        let mut kinds = Vec::new();
        for (status, body) in [
            (
                400,
                format!(
                    r#"{{"error":"invalid_grant","error_description":"refresh token {spent} is spent"}}"#
                ),
            ),
            (
                401,
                format!(r#"{{"error":"invalid_client","error_description":"client {jwt}"}}"#),
            ),
            (400, format!(r#"{{"error":"{spent}"}}"#)),
        ] {
            let e = nzpir::oauth::parse_token_response(status, body.as_bytes(), 0)
                .expect_err("a refusal");
            kinds.push(e.kind());
            a.texts.push((
                "an OAuth answer quoting credentials".to_owned(),
                format!("{e} {e:?}"),
            ));
        }
        let e = nzpir::oauth::parse_redirect(
            &format!("{REDIRECT_URI}?error=access_denied&error_description={code}+{jwt}&state=s"),
            "s",
        )
        .expect_err("an error redirect");
        kinds.push(e.kind());
        a.texts.push((
            "a redirect quoting credentials".to_owned(),
            format!("{e} {e:?}"),
        ));
        assert_eq!(kinds.len(), 4);
    });
}

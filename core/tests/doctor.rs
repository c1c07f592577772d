//! `nzpir::doctor` against a live sandbox: its own configuration passes with
//! only the expected warning (the sandbox CA is not on IR's list), and an
//! expired certificate, a mismatched key and a self-signed certificate each
//! fail with a configuration error that says so.

mod support;

use std::path::Path;

use nzpir::ErrorKind;
use nzpir::config::Config;
use nzpir::doctor::{self, CheckStatus, Options, Report};
use nzpir_sandbox::Profile;
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};

use support::sandbox::start;

fn show(r: &Report) -> String {
    r.checks
        .iter()
        .map(|c| format!("{} {} {}\n", c.status, c.id, c.detail))
        .collect()
}

fn sandbox_config(path: &Path) -> Config {
    Config::from_file(path).expect("the sandbox's nzpir.toml")
}

#[test]
fn the_sandbox_configuration_passes_with_expected_warnings_only() {
    let sb = start(Profile::Strict);
    let cfg = sandbox_config(sb.config_path());
    let scheme = support::sandbox::pie(sb.manifest(), "kowhai-scheme");
    let r = doctor::run(
        &cfg,
        &Options {
            ird: Some("139276507".to_owned()),
            pie_ird: Some(scheme),
            ..Options::default()
        },
    );
    let text = show(&r);
    assert!(r.passed(), "{text}");
    let warned: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .map(|c| c.id)
        .collect();
    assert_eq!(warned, ["client_cert.issuer"], "{text}");
    assert!(
        r.get("client_cert.issuer")
            .is_some_and(|c| c.detail.contains("sandbox")),
        "{text}"
    );
    for id in [
        "client_cert.files",
        "client_cert.key_match",
        "client_cert.dates",
        "client_cert.cn",
        "jwt.credential",
        "jwt.alg",
        "jwt.sub",
        "gateway.dns",
        "gateway.tcp",
        "gateway.tls",
        "gateway.clock",
        "gateway.status",
        "gateway.lookup",
    ] {
        assert_eq!(
            r.get(id).map(|c| c.status),
            Some(CheckStatus::Ok),
            "{id}\n{text}"
        );
    }
    let tls = r.get("gateway.tls").expect("tls");
    assert!(tls.detail.contains("TLS 1."), "{text}");
    assert!(tls.detail.contains("server certificate"), "{text}");
    // The lookup's answer, never the IRD number.
    assert!(
        r.get("gateway.lookup")
            .is_some_and(|c| c.detail.contains("28")),
        "{text}"
    );
    assert!(!text.contains("139276507"), "{text}");
    let sub = &sb.manifest().thumbprints["jwt_rs256"];
    assert!(
        r.get("jwt.sub")
            .is_some_and(|c| c.detail.contains(sub.as_str())),
        "{text}"
    );
}

/// The sandbox's own configuration with another client certificate and key.
fn with_identity(sb_cfg: &Config, dir: &Path, cert: &str, key: &str) -> Config {
    let (c, k) = (dir.join("client.pem"), dir.join("client.key"));
    std::fs::write(&c, cert).expect("write");
    std::fs::write(&k, key).expect("write");
    let mut cfg = sb_cfg.clone();
    cfg.tls.client_cert = Some(c);
    cfg.tls.client_key = Some(k);
    cfg
}

fn only_config_failures(r: &Report) -> Vec<ErrorKind> {
    let kinds = r.failure_kinds();
    assert!(!kinds.is_empty(), "{}", show(r));
    kinds
}

#[test]
fn an_expired_certificate_fails_as_configuration() {
    let sb = start(Profile::Strict);
    let cfg = sandbox_config(sb.config_path());
    let ca_key =
        KeyPair::from_pem(&std::fs::read_to_string(sb.pki_dir().join("ca.key")).expect("ca key"))
            .expect("ca key");
    let ca_pem = std::fs::read_to_string(&sb.manifest().ca_cert).expect("ca");
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("issuer");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        "0123456789abcdef0123456789abcdef.irdgws.sandbox.nzpir.test",
    );
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = p.signed_by(&key, &issuer).expect("cert");
    let dir = tempfile::tempdir().expect("dir");
    let cfg = with_identity(&cfg, dir.path(), &cert.pem(), &key.serialize_pem());
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    assert!(!r.passed(), "{text}");
    let dates = r.get("client_cert.dates").expect("dates");
    assert_eq!(dates.status, CheckStatus::Fail, "{text}");
    assert!(dates.detail.contains("expired on 1 January 2021"), "{text}");
    assert!(
        dates.action.as_deref().is_some_and(|a| a.contains("renew")),
        "{text}"
    );
    assert_eq!(only_config_failures(&r), [ErrorKind::Config], "{text}");
    assert_eq!(
        r.get("gateway.tls").map(|c| c.status),
        Some(CheckStatus::Skipped),
        "{text}"
    );
}

#[test]
fn a_mismatched_key_fails_as_configuration() {
    let sb = start(Profile::Strict);
    let cfg = sandbox_config(sb.config_path());
    let m = sb.manifest();
    let cert = std::fs::read_to_string(&m.client_cert).expect("cert");
    let other_key = std::fs::read_to_string(&m.renewed_client_key).expect("key");
    let dir = tempfile::tempdir().expect("dir");
    let cfg = with_identity(&cfg, dir.path(), &cert, &other_key);
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    let c = r.get("client_cert.key_match").expect("key match");
    assert_eq!(c.status, CheckStatus::Fail, "{text}");
    assert!(
        c.detail.contains("does not match the certificate"),
        "{text}"
    );
    assert!(!c.detail.contains("PRIVATE KEY"), "{text}");
    assert_eq!(only_config_failures(&r), [ErrorKind::Config], "{text}");
}

#[test]
fn a_self_signed_certificate_fails_as_configuration() {
    let sb = start(Profile::Strict);
    let cfg = sandbox_config(sb.config_path());
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        "0123456789abcdef0123456789abcdef.irdgws.example.co.nz",
    );
    let cert = p.self_signed(&key).expect("cert");
    let dir = tempfile::tempdir().expect("dir");
    let cfg = with_identity(&cfg, dir.path(), &cert.pem(), &key.serialize_pem());
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    let c = r.get("client_cert.issuer").expect("issuer");
    assert_eq!(c.status, CheckStatus::Fail, "{text}");
    assert!(c.detail.contains("self-signed"), "{text}");
    assert_eq!(only_config_failures(&r), [ErrorKind::Config], "{text}");
}

#[test]
fn a_gateway_that_is_not_there_fails_as_a_connection() {
    let sb = start(Profile::Strict);
    let mut cfg = sandbox_config(sb.config_path());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    cfg.endpoint = Some(format!("https://127.0.0.1:{port}"));
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    assert_eq!(
        r.get("gateway.tcp").map(|c| c.status),
        Some(CheckStatus::Fail),
        "{text}"
    );
    assert_eq!(r.failure_kinds(), [ErrorKind::Transport], "{text}");
}

/// A clock more than 30 s from the gateway's `Date` is a warning (IR answers
/// EV1026 for JWT times it does not accept), not a failure.
#[test]
fn a_clock_off_by_minutes_is_warned_about() {
    let sb = start(Profile::Strict);
    let cfg = sandbox_config(sb.config_path());
    let ahead = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
    let r = doctor::run(
        &cfg,
        &Options {
            clock: Some(std::sync::Arc::new(nzpir::FixedClock(ahead))),
            ..Options::default()
        },
    );
    let text = show(&r);
    assert!(r.passed(), "{text}");
    let clock = r.get("gateway.clock").expect("clock");
    assert_eq!(clock.status, CheckStatus::Warn, "{text}");
    assert!(clock.detail.contains("ahead of the gateway's"), "{text}");
    assert!(
        clock
            .action
            .as_deref()
            .is_some_and(|a| a.contains("EV1026")),
        "{text}"
    );
}

/// Through a proxy the gateway is checked through it, not directly.
#[test]
fn through_a_proxy_the_gateway_is_checked_through_it() {
    let sb = start(Profile::Strict);
    let mut cfg = sandbox_config(sb.config_path());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    cfg.proxy = Some(format!("http://127.0.0.1:{port}"));
    cfg.max_retries = Some(0);
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    for id in ["gateway.dns", "gateway.tcp", "gateway.tls", "gateway.clock"] {
        assert_eq!(
            r.get(id).map(|c| c.status),
            Some(CheckStatus::Skipped),
            "{id}\n{text}"
        );
    }
    let status = r.get("gateway.status").expect("status");
    assert_eq!(status.status, CheckStatus::Fail, "{text}");
    assert_eq!(r.failure_kinds(), [ErrorKind::Transport], "{text}");
}

/// The doctor's advice follows what went wrong (a key that is not the
/// certificate's, an algorithm that does not fit, a server certificate from
/// an unknown issuer), read from the error's cause, not from its words.
#[test]
fn each_failure_gets_the_advice_for_its_cause() {
    use nzpir::config::AuthSettings;
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let base = sandbox_config(sb.config_path());

    let mut cfg = base.clone();
    let Some(AuthSettings::Jwt(j)) = &mut cfg.auth else {
        panic!("the sandbox's configuration uses a JWT");
    };
    // A P-256 key, as the certificate's, but another one.
    let dir = tempfile::tempdir().expect("dir");
    let other = dir.path().join("other.key");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    std::fs::write(&other, key.serialize_pem()).expect("write");
    j.cert = Some(m.jwt_ec_cert.clone());
    j.key = Some(other);
    j.alg = Some(m.jwt_ec_alg.clone());
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    let c = r.get("jwt.credential").expect("jwt.credential");
    assert_eq!(c.status, CheckStatus::Fail, "{text}");
    assert!(c.detail.contains("does not match"), "{text}");
    assert_eq!(
        c.action.as_deref(),
        Some("give the signing key of the certificate registered with IR"),
        "{text}"
    );

    let mut cfg = base.clone();
    let Some(AuthSettings::Jwt(j)) = &mut cfg.auth else {
        panic!("the sandbox's configuration uses a JWT");
    };
    j.cert = Some(m.jwt_rs256_cert.clone());
    j.key = Some(m.jwt_rs256_key.clone());
    j.alg = Some("ES256".to_owned());
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    let c = r.get("jwt.credential").expect("jwt.credential");
    assert!(
        c.action
            .as_deref()
            .is_some_and(|a| a.starts_with("set the algorithm configured for the credential")),
        "{text}"
    );

    let mut cfg = base.clone();
    cfg.tls.ca_cert = None;
    cfg.tls.ca_cert_pem = None;
    let r = doctor::run(&cfg, &Options::default());
    let text = show(&r);
    let c = r.get("gateway.tls").expect("gateway.tls");
    assert_eq!(c.status, CheckStatus::Fail, "{text}");
    assert!(
        c.action
            .as_deref()
            .is_some_and(|a| a.starts_with("for the sandbox, set tls.ca_cert to its ca.pem")),
        "{text}"
    );
}

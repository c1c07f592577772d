//! Error messages are safe to log: whatever IR or a configuration holds, a
//! message and `Debug` never carry anything shaped like an IRD number (8 or
//! more digits, with or without `-` or space between them), which is what
//! `nzpir::error::scrub` removes and what log filters look for.
//!
//! Each case here was found by the fuzz targets in `fuzz/`.

use nzpir::{ClientBuilder, Config, Error, ErrorKind, IrCode, IrErrorBody};

/// The longest run of digits, single `-` or space separators included.
fn longest_digit_run(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut best, mut run) = (0, 0);
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            best = usize::max(best, run);
        } else if !(matches!(c, b'-' | b' ')
            && run > 0
            && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            run = 0;
        }
    }
    best
}

#[track_caller]
fn assert_loggable(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            longest_digit_run(&text) < 8,
            "IRD-shaped digits in {text:?}"
        );
    }
}

#[test]
fn a_code_that_is_not_code_shaped_is_not_kept() {
    let body = IrErrorBody::parse(
        br#"{"errors":[{"code":"EV049091850","type":"security","message":"Authentication error"}]}"#,
    )
    .expect("an error body");
    let e = Error::from_ir(401, body);
    assert_loggable(&e);
    // Not shaped like IR's codes: neither the message nor the code (what
    // programs, the C accessor and the CLI's CSV read) carries it.
    assert!(!e.to_string().contains("049091850"), "{e}");
    let code = e.ir_code().expect("a code");
    assert_eq!(code.as_str(), IrCode::UNRECOGNISED);
    assert!(!format!("{:?}", e.ir_errors()).contains("049091850"));
    // The status still decides the kind.
    assert_eq!(e.kind(), ErrorKind::Authentication);
}

#[test]
fn known_ir_codes_read_as_ir_spells_them() {
    for code in IrCode::KNOWN {
        assert_eq!(code.to_string(), code.as_str());
    }
    assert_eq!(IrCode::parse("EV9999").to_string(), "EV9999");
}

/// A P-256 key (PKCS#8) whose public key is not on the curve (one character
/// changed), next to a certificate for the original key.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUDIOmymyNG1Y5Z87yNRFKLk0+w9kwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPbnpwaXIgZnV6eiBzZWVkMCAXDTI2MTEyNDA3MTAwMVoYDzIx
MjYxMDMxMDcxMDAxWjAaMRgwFgYDVQQDDA9uenBpciBmdXp6IHNlZWQwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAQqlFVL1PqOfhHQokhVbuUfqzcmNuxizCTnU6cz
S8ULbaoyduyondIXoUlAogzZql36BUbP/18Jfjjotx//P9Imo1MwUTAdBgNVHQ4E
FgQU+XXOkwd+7QjffvnfuLE9T+4u15QwHwYDVR0jBBgwFoAU+XXOkwd+7Qjffvnf
uLE9T+4u15QwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAoDgFh
pMmgSo9iqP8QV57yh/8TU6WmiADJ/6ik5a7kSAIhAKhnl3hlihawcxsK9OuE7FxU
gIbXPw+n3pODTN8ZTHXb
-----END CERTIFICATE-----
";
const BROKEN_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgig11sUNwqRSCMOhd
xHyhFnkjf4uzV6bLADlAm7C9SImhRANCAAQqlFVL1PqOfhHQokhVbuUfqzciNuxi
zCTnU6czS8ULbaoyduyondIXoUlIogzZql36BUbP/18Jfjjotx//P9Im
-----END PRIVATE KEY-----
";

#[test]
fn a_key_that_cannot_be_loaded_is_named_without_a_digit_run() {
    let cfg = Config::from_json_str(
        &serde_json::json!({
            "endpoint": "https://127.0.0.1:1",
            "tls": { "client_cert_pem": CERT, "client_key_pem": BROKEN_KEY },
        })
        .to_string(),
    )
    .expect("config");
    let e = ClientBuilder::from_config(&cfg)
        .and_then(ClientBuilder::build)
        .expect_err("the key cannot be loaded");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("tls.client_key_pem"), "{e}");
    assert!(e.to_string().contains("could not be loaded"), "{e}");
    assert_loggable(&e);
}

/// A self-signed P-256 certificate for `CN=<cn>`, valid between two years,
/// and its key.
fn certificate(cn: &str, from: i32, to: i32) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = rcgen::CertificateParams::new(vec!["client.example".to_owned()]).expect("params");
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.not_before = rcgen::date_time_ymd(from, 1, 1);
    p.not_after = rcgen::date_time_ymd(to, 1, 1);
    (
        p.self_signed(&key).expect("self-signed").pem(),
        key.serialize_pem(),
    )
}

fn build_error(cert: &str, key: &str) -> Error {
    let cfg = Config::from_json_str(
        &serde_json::json!({
            "endpoint": "https://127.0.0.1:1",
            "tls": { "client_cert_pem": cert, "client_key_pem": key },
        })
        .to_string(),
    )
    .expect("config");
    ClientBuilder::from_config(&cfg)
        .and_then(ClientBuilder::build)
        .expect_err("the certificate is refused")
}

#[test]
fn certificate_dates_and_subjects_are_shown_without_a_digit_run() {
    // An ISO date is eight digits joined by dashes; a subject may hold an
    // IRD number.
    let (cert, key) = certificate("049091850.irdgws.example.co.nz", 2098, 2099);
    let e = build_error(&cert, &key);
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string()
            .contains("not valid until 1 January 2098 00:00 UTC"),
        "{e}"
    );
    assert!(e.to_string().contains("[redacted].irdgws"), "{e}");
    assert_loggable(&e);

    let (cert, key) = certificate("49-091-850", 2019, 2021);
    let e = build_error(&cert, &key);
    assert!(
        e.to_string()
            .contains("expired on 1 January 2021 00:00 UTC"),
        "{e}"
    );
    assert_loggable(&e);
}

fn config_error(json: serde_json::Value) -> Error {
    Config::from_json_str(&json.to_string())
        .and_then(|cfg| ClientBuilder::from_config(&cfg))
        .and_then(ClientBuilder::build)
        .expect_err("the configuration is refused")
}

#[test]
fn paths_and_url_schemes_in_config_errors_are_scrubbed() {
    let e = config_error(serde_json::json!({
        "endpoint": "https://127.0.0.1:1",
        "tls": {
            "client_cert": "/nonexistent-nzpir/049091850/cert.pem",
            "client_key": "/nonexistent-nzpir/049091850/key.pem",
        },
    }));
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string()
            .contains("cannot read /nonexistent-nzpir/[redacted]/cert.pem"),
        "{e}"
    );
    assert_loggable(&e);

    let e = config_error(serde_json::json!({ "endpoint": "x49091850://gateway.example" }));
    assert!(e.to_string().contains("must be an https URL"), "{e}");
    assert_loggable(&e);

    let dir = std::env::temp_dir().join("nzpir-049091850-missing.toml");
    let e = Config::from_file(&dir).expect_err("no such file");
    assert_loggable(&e);
}

#[test]
fn token_store_and_journal_paths_are_scrubbed() {
    use nzpir::oauth::{FileTokenStore, TokenStore};
    let dir = tempfile::tempdir().expect("tempdir");
    let named = dir.path().join("049091850");
    std::fs::create_dir(&named).expect("folder");

    // A folder where the token file belongs cannot be read as one.
    let e = FileTokenStore::new(&named).load().expect_err("a folder");
    assert_eq!(e.kind(), ErrorKind::TokenStore);
    assert!(e.to_string().contains("[redacted]"), "{e}");
    assert_loggable(&e);

    let e = nzpir::batch::Journal::open(&named, false).expect_err("a folder");
    assert!(e.to_string().contains("[redacted]"), "{e}");
    assert_loggable(&e);
}

//! End to end: `nzpir doctor` against strict sandboxes (only the expected
//! warning, exit 0), an expired certificate, a mismatched key and a
//! self-signed certificate (each exit 2 with the reason), an unreachable
//! gateway (exit 7); and PKCS#12 and DER credentials from flags and variables.

mod common;

use std::path::Path;

use common::*;
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P384_SHA384};

fn doctor(sb: &nzpir_sandbox::Sandbox, extra: &[&str]) -> Run {
    let mut cmd = nzpir();
    cmd.arg("doctor").args(config_args(sb)).args(extra);
    run(&mut cmd)
}

fn status_of<'a>(out: &'a str, id: &str) -> Option<&'a str> {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .and_then(|l| l.split_whitespace().next())
}

#[test]
fn the_sandbox_passes_with_the_expected_warning() {
    let sb = strict();
    let r = doctor(&sb, &["--ird", "139276507", "--pie-ird", SCHEME]);
    r.expect_code(0);
    let warns: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("warn")).collect();
    assert_eq!(warns.len(), 1, "{}", r.stdout);
    assert!(
        warns[0].contains("client_cert.issuer") && warns[0].contains("sandbox"),
        "{}",
        r.stdout
    );
    for id in [
        "gateway.tls",
        "gateway.clock",
        "gateway.status",
        "gateway.lookup",
        "jwt.sub",
    ] {
        assert_eq!(status_of(&r.stdout, id), Some("ok"), "{id}: {}", r.stdout);
    }
    assert!(r.stdout.contains("passed:"), "{}", r.stdout);
    assert!(!r.stdout.contains("139276507") && !r.stderr.contains("139276507"));

    let r = doctor(&sb, &["--json"]);
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["passed"], true);
    assert_eq!(v["exit_code"], 0);
    let tls = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "gateway.tls")
        .expect("tls check");
    assert_eq!(tls["status"], "ok");
    assert!(
        tls["detail"].as_str().is_some_and(|d| d.contains("TLS 1.")),
        "{tls}"
    );
}

fn sandbox_ca(sb: &nzpir_sandbox::Sandbox) -> rcgen::Issuer<'static, KeyPair> {
    let key = KeyPair::from_pem(&read(&sb.pki_dir().join("ca.key"))).expect("CA key");
    rcgen::Issuer::from_ca_cert_pem(&read(&sb.manifest().ca_cert), key).expect("CA")
}

fn write_pair(dir: &Path, cert: &str, key: &str) -> (String, String) {
    let (c, k) = (dir.join("c.pem"), dir.join("k.pem"));
    std::fs::write(&c, cert).expect("write");
    std::fs::write(&k, key).expect("write");
    (c.display().to_string(), k.display().to_string())
}

#[test]
fn an_expired_certificate_exits_2() {
    let sb = strict();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        "0123456789abcdef0123456789abcdef.irdgws.sandbox.nzpir.test",
    );
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = p.signed_by(&key, &sandbox_ca(&sb)).expect("cert");
    let dir = tempfile::tempdir().expect("dir");
    let (c, k) = write_pair(dir.path(), &cert.pem(), &key.serialize_pem());
    let r = doctor(&sb, &["--cert", &c, "--key", &k]);
    r.expect_code(2);
    assert_eq!(
        status_of(&r.stdout, "client_cert.dates"),
        Some("fail"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("expired on 1 January 2021"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-> renew"), "{}", r.stdout);
}

#[test]
fn a_mismatched_key_exits_2() {
    let sb = strict();
    let m = sb.manifest();
    let r = doctor(
        &sb,
        &[
            "--cert",
            &m.client_cert.display().to_string(),
            "--key",
            &m.renewed_client_key.display().to_string(),
        ],
    );
    r.expect_code(2);
    assert_eq!(
        status_of(&r.stdout, "client_cert.key_match"),
        Some("fail"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("does not match the certificate"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("PRIVATE KEY"));
}

#[test]
fn a_self_signed_certificate_exits_2() {
    let sb = strict();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        "0123456789abcdef0123456789abcdef.irdgws.example.co.nz",
    );
    let cert = p.self_signed(&key).expect("cert");
    let dir = tempfile::tempdir().expect("dir");
    let (c, k) = write_pair(dir.path(), &cert.pem(), &key.serialize_pem());
    let r = doctor(&sb, &["--cert", &c, "--key", &k]);
    r.expect_code(2);
    assert_eq!(
        status_of(&r.stdout, "client_cert.issuer"),
        Some("fail"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("self-signed"), "{}", r.stdout);
}

#[test]
fn an_unreachable_gateway_exits_7() {
    let sb = strict();
    let url = format!("https://127.0.0.1:{}", closed_port());
    let r = doctor(&sb, &["--endpoint", &url]);
    r.expect_code(7);
    assert_eq!(
        status_of(&r.stdout, "gateway.tcp"),
        Some("fail"),
        "{}",
        r.stdout
    );
}

/// The sandbox's client identity and RS256 credential as PKCS#12 bundles
/// (passwords from variables), and the JWT certificate as DER.
#[test]
fn pkcs12_and_der_credentials() {
    let sb = strict();
    let m = sb.manifest();
    let dir = tempfile::tempdir().expect("dir");
    let p12 = dir.path().join("client.p12");
    let jwt_p12 = dir.path().join("jwt.pfx");
    let der = dir.path().join("jwt.cer");
    let pem = |p: &Path| p.display().to_string();
    let out = tool(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            &pem(&m.client_cert),
            "-inkey",
            &pem(&m.client_key),
            "-certfile",
            &pem(&m.ca_cert),
            "-passout",
            "pass:s3cret-tls",
            "-out",
            &pem(&p12),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rs256_cert = m.config.parent().expect("dir").join("jwt-rs256.pem");
    let rs256_key = m.config.parent().expect("dir").join("jwt-rs256.key");
    let out = tool(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            &pem(&rs256_cert),
            "-inkey",
            &pem(&rs256_key),
            "-passout",
            "pass:s3cret-jwt",
            "-out",
            &pem(&jwt_p12),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tool(
        "openssl",
        &[
            "x509",
            "-in",
            &pem(&rs256_cert),
            "-outform",
            "der",
            "-out",
            &pem(&der),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // PKCS#12 for both, passwords from the variables.
    let mut cmd = nzpir();
    cmd.arg("lookup")
        .args(config_args(&sb))
        .args(["--pkcs12", &pem(&p12), "--jwt-pkcs12", &pem(&jwt_p12)])
        .args(["--ird", "139276507", "--pie-ird", SCHEME])
        .env("NZPIR_PKCS12_PASSWORD", "s3cret-tls")
        .env("NZPIR_JWT_PKCS12_PASSWORD", "s3cret-jwt");
    let r = run(&mut cmd);
    r.expect_code(0);
    assert!(r.stdout.contains("suggested PIR 28%"), "{}", r.stdout);

    // A wrong password names the setting, never the password.
    let mut cmd = nzpir();
    cmd.arg("doctor")
        .args(config_args(&sb))
        .args(["--pkcs12", &pem(&p12)])
        .env("NZPIR_PKCS12_PASSWORD", "wrong-password");
    let r = run(&mut cmd);
    r.expect_code(2);
    assert!(
        r.stdout.contains("tls.client_pkcs12_password"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("wrong-password") && !r.stderr.contains("wrong-password"));

    // The JWT certificate as DER (.cer), the key as PEM; doctor is happy too.
    let mut cmd = nzpir();
    cmd.arg("doctor")
        .args(config_args(&sb))
        .args(["--pkcs12", &pem(&p12), "--pkcs12-password", "s3cret-tls"])
        .args(["--jwt-cert", &pem(&der), "--jwt-key", &pem(&rs256_key)])
        .args(["--ird", "139276507", "--pie-ird", SCHEME]);
    let r = run(&mut cmd);
    r.expect_code(0);
    assert_eq!(
        status_of(&r.stdout, "gateway.lookup"),
        Some("ok"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&m.thumbprints["jwt_rs256"]),
        "{}",
        r.stdout
    );
}

/// `--sandbox`: a sandbox in this process, its configuration as the base.
#[test]
fn an_embedded_sandbox() {
    let mut cmd = nzpir();
    cmd.args([
        "doctor",
        "--sandbox",
        "--ird",
        "139276507",
        "--pie-ird",
        SCHEME,
    ]);
    let r = run(&mut cmd);
    r.expect_code(0);
    assert_eq!(
        status_of(&r.stdout, "gateway.lookup"),
        Some("ok"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("warn")).count(),
        1,
        "{}",
        r.stdout
    );

    // Connection flags on top: a key that does not match.
    let sb = strict();
    let mut cmd = nzpir();
    cmd.args([
        "doctor",
        "--sandbox",
        "--key",
        &sb.manifest().renewed_client_key.display().to_string(),
    ]);
    let r = run(&mut cmd);
    r.expect_code(2);
    assert_eq!(
        status_of(&r.stdout, "client_cert.key_match"),
        Some("fail"),
        "{}",
        r.stdout
    );
}

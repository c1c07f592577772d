//! End to end: demo, validate, jwt, thumbprint, sandbox, and usage errors.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;

#[test]
fn demo_makes_a_real_lookup_and_exits_0() {
    let t = Instant::now();
    let r = run(nzpir().arg("demo"));
    r.expect_code(0);
    assert!(
        r.stdout
            .contains(r#"{"IRD":"139276507","PieIRD":"125000002"}"#),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(r#"HTTP 200 {"IRD":"139276507","PieIRD":"125000002","SuggestedPirRate":28}"#),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("suggested PIR 28%"), "{}", r.stdout);
    assert!(r.stdout.contains("counted 1 PIR call"), "{}", r.stdout);
    assert!(r.stdout.contains("published test IRD"), "{}", r.stdout);
    // A few seconds even in a debug build on a small machine.
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    // Another published investor.
    let r = run(nzpir().args(["demo", "--ird", "139276310"]));
    r.expect_code(0);
    assert!(r.stdout.contains("suggested PIR 10.5%"), "{}", r.stdout);
}

#[test]
fn validate_arguments_in_order_with_exit_codes() {
    let r = run(nzpir().args(["validate", "49091850", "049-091-850", "136 410 132"]));
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "049091850 valid\n049091850 valid\n136410132 valid\n"
    );
    let r = run(nzpir().args(["validate", "136410132", "136410133", "9125568", "12x45678"]));
    r.expect_code(2);
    assert_eq!(
        r.stdout,
        "136410132 valid\n\
         136410133 invalid: fails the modulus-11 check digit\n\
         9125568 invalid: must be 8 or 9 digits\n\
         12x45678 invalid: must contain only digits\n"
    );
    // IR's range since 1 April 2026 runs to 200,000,000.
    let r = run(nzpir().args(["validate", "160000007", "172345603", "199999990"]));
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "160000007 valid\n172345603 valid\n199999990 valid\n"
    );
    let r = run(nzpir().args(["validate", "200000005"]));
    r.expect_code(2);
    assert_eq!(
        r.stdout,
        "200000005 invalid: must be between 10,000,000 and 200,000,000\n"
    );
}

#[test]
fn validate_reads_standard_input() {
    let r = run_with_input(
        nzpir().args(["validate", "-"]),
        b"49091850\r\n35901981\n49098576\n136410132\n",
    );
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "049091850 valid\n035901981 valid\n049098576 valid\n136410132 valid\n"
    );
    // Non-UTF-8 and empty lines are inputs too, reported in place.
    let r = run_with_input(
        nzpir().args(["validate", "-"]),
        b"49091850\n\xff\xfe12\n\n136410133",
    );
    r.expect_code(2);
    assert_eq!(
        r.stdout,
        "049091850 valid\n\
         \u{fffd}\u{fffd}12 invalid: must contain only digits\n \
         invalid: must be 8 or 9 digits\n\
         136410133 invalid: fails the modulus-11 check digit\n"
    );
    // Arguments and standard input mix, in order.
    let r = run_with_input(
        nzpir().args(["validate", "49091850", "-", "35901981"]),
        b"136410132\n",
    );
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "049091850 valid\n136410132 valid\n035901981 valid\n"
    );
}

#[test]
fn validate_keeps_up_with_many_lines() {
    // 200,000 lines: every one answered, in order (the timing is measured
    // separately; here, correctness at volume).
    let mut input = Vec::new();
    let valid = ["49091850", "035901981", "49-098-576", "136410132"];
    for i in 0..200_000 {
        if i % 1000 == 999 {
            input.extend_from_slice(b"136410133\n");
        } else {
            input.extend_from_slice(valid[i % 4].as_bytes());
            input.push(b'\n');
        }
    }
    let r = run_with_input(nzpir().args(["validate", "-"]), &input);
    r.expect_code(2);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 200_000);
    assert_eq!(lines[0], "049091850 valid");
    assert_eq!(lines[2], "049098576 valid");
    assert_eq!(
        lines[999],
        "136410133 invalid: fails the modulus-11 check digit"
    );
    assert_eq!(lines.iter().filter(|l| l.contains("invalid")).count(), 200);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["lookup"],
        vec!["lookup", "--ird"],
        vec!["lookup", "--ird", "49091850", "--no-such-flag"],
        vec!["validate"],
        vec!["validate", "--bogus"],
        vec!["batch", "in.csv"],
        vec!["batch", "in.csv", "--out", "o.csv", "--concurrency", "0"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "-1"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "0"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "NaN"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "inf"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "1e300"],
        vec!["batch", "in.csv", "--out", "o.csv", "--max-rps", "1e-320"],
        vec!["jwt", "--cert"],
        vec!["thumbprint"],
        vec!["oauth", "exchange"],
        vec!["no-such-command"],
        vec!["sandbox", "--profile", "nope"],
    ] {
        let r = run(nzpir().args(&args));
        assert_eq!(r.code(), 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("Usage:") || r.stderr.contains("error:"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // The stray value is left out of the message; the flags it names are not
    // touched, even where the value is part of one (`ird` in `--ird`).
    let r = run(nzpir().args(["lookup", "ird"]));
    r.expect_code(2);
    assert!(r.stderr.contains("--ird <IRD>"), "{}", r.stderr);
    assert!(!r.stderr.contains("'ird'"), "{}", r.stderr);
    let r = run(nzpir().arg("--help"));
    r.expect_code(0);
    assert!(r.stdout.contains("Examples:"));
    for sub in [
        "demo",
        "validate",
        "lookup",
        "batch",
        "sandbox",
        "jwt",
        "thumbprint",
    ] {
        let r = run(nzpir().args([sub, "--help"]));
        r.expect_code(0);
        assert!(r.stdout.contains("Examples:"), "{sub}: {}", r.stdout);
    }
    for sub in [
        "authorize-url",
        "exchange",
        "refresh",
        "introspect",
        "revoke",
    ] {
        let r = run(nzpir().args(["oauth", sub, "--help"]));
        r.expect_code(0);
        assert!(r.stdout.contains("Examples:"), "{sub}: {}", r.stdout);
    }
}

#[test]
fn thumbprint_equals_openssl() {
    let sb = strict();
    let m = sb.manifest();
    for cert in [
        &m.client_cert,
        &m.ca_cert,
        &m.jwt_rs256_cert,
        &m.jwt_ec_cert,
    ] {
        let path = cert.display().to_string();
        let r = run(nzpir().args(["thumbprint", &path]));
        r.expect_code(0);
        let o = tool(
            "openssl",
            &["x509", "-fingerprint", "-sha256", "-noout", "-in", &path],
        );
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        let expected = text
            .trim()
            .split_once('=')
            .expect("openssl's fingerprint line")
            .1
            .replace(':', "");
        assert_eq!(r.stdout.trim(), expected, "{path}");
        assert_eq!(r.stdout, format!("{expected}\n"));
    }
    assert_eq!(
        run(nzpir().args(["thumbprint", &m.jwt_rs256_cert.display().to_string()]))
            .stdout
            .trim(),
        m.thumbprints["jwt_rs256"]
    );
    // DER works too.
    let dir = tempfile::tempdir().expect("tempdir");
    let der = dir.path().join("ca.der");
    let pem = m.ca_cert.display().to_string();
    let out = der.display().to_string();
    assert!(
        tool(
            "openssl",
            &["x509", "-in", &pem, "-outform", "DER", "-out", &out]
        )
        .status
        .success()
    );
    let r = run(nzpir().args(["thumbprint", &out]));
    r.expect_code(0);
    assert_eq!(r.stdout, run(nzpir().args(["thumbprint", &pem])).stdout);
    // A key is not a certificate; a missing file is an input error.
    run(nzpir().args([
        "thumbprint",
        &m.ca_cert.with_extension("key").display().to_string(),
    ]))
    .expect_code(2);
    run(nzpir().args(["thumbprint", "/no/such/cert.pem"])).expect_code(2);
}

/// A DER ECDSA signature from JWT's fixed-width r || s.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    fn int(x: &[u8]) -> Vec<u8> {
        let mut x: Vec<u8> = x.iter().copied().skip_while(|b| *b == 0).collect();
        if x.first().is_none_or(|b| *b & 0x80 != 0) {
            x.insert(0, 0);
        }
        let mut out = vec![0x02, x.len() as u8];
        out.extend(x);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn verify_with_openssl(token: &str, cert: &std::path::Path, ec: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (signed, sig) = token.rsplit_once('.').expect("three parts");
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
    let sig = if ec { ecdsa_der(&sig) } else { sig };
    let input = dir.path().join("input");
    let sig_path = dir.path().join("sig");
    let pubkey = dir.path().join("pub.pem");
    std::fs::write(&input, signed).expect("write");
    std::fs::write(&sig_path, sig).expect("write");
    let o = tool(
        "openssl",
        &[
            "x509",
            "-pubkey",
            "-noout",
            "-in",
            &cert.display().to_string(),
        ],
    );
    assert!(o.status.success());
    std::fs::write(&pubkey, &o.stdout).expect("write");
    let o = tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            &pubkey.display().to_string(),
            "-signature",
            &sig_path.display().to_string(),
            &input.display().to_string(),
        ],
    );
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Verified OK"),
        "openssl: {} {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn claims(token: &str) -> (serde_json::Value, serde_json::Value) {
    let mut parts = token.split('.');
    let mut part = || -> serde_json::Value {
        let b = URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64url");
        serde_json::from_slice(&b).expect("json")
    };
    (part(), part())
}

#[test]
fn jwt_is_signed_as_ir_expects_and_accepted_by_the_sandbox() {
    let sb = strict();
    let m = sb.manifest();
    let cert = m.jwt_rs256_cert.display().to_string();
    let key = m.jwt_rs256_key.display().to_string();
    let r = run(nzpir().args([
        "jwt",
        "--cert",
        &cert,
        "--key",
        &key,
        "--issuer",
        "Kowhai KiwiSaver Limited",
        "--ttl",
        "28800",
    ]));
    r.expect_code(0);
    let token = r.stdout.trim().to_owned();
    assert_eq!(r.stdout, format!("{token}\n"));
    let (header, body) = claims(&token);
    assert_eq!(
        header,
        serde_json::json!({"alg":"RS256","typ":"JWT","kid":"M2M"})
    );
    assert_eq!(body["sub"], m.thumbprints["jwt_rs256"].as_str());
    assert_eq!(body["iss"], "Kowhai KiwiSaver Limited");
    // No logon: `null`, as IR's build packs say.
    assert_eq!(body["startLogon"], serde_json::Value::Null);
    // 8 hours, IR's longest lifetime.
    assert_eq!(
        body["exp"].as_i64().expect("exp") - body["iat"].as_i64().expect("iat"),
        28_800
    );
    verify_with_openssl(&token, &m.jwt_rs256_cert, false);

    // The sandbox takes it: a PIR call with `Authorization: <JWT>` over mutual TLS.
    let o = tool(
        "curl",
        &[
            "-s",
            "--cacert",
            &m.ca_cert.display().to_string(),
            "--cert",
            &m.client_cert.display().to_string(),
            "--key",
            &m.client_key.display().to_string(),
            "-H",
            &format!("Authorization: {token}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"IRD":"139276507","PieIRD":"125000002"}"#,
            &format!("{}/gateway/calculators/pir", sb.url()),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        r#"{"IRD":"139276507","PieIRD":"125000002","SuggestedPirRate":28}"#
    );

    // ECDSA, a start logon, the algorithm from NZPIR_JWT_ALG.
    let r = run(nzpir()
        .env("NZPIR_JWT_ALG", "ES256")
        .env("NZPIR_JWT_CERT", &m.jwt_ec_cert)
        .env("NZPIR_JWT_KEY", &m.jwt_ec_key)
        .args([
            "jwt",
            "--issuer",
            "Harakeke",
            "--start-logon",
            "harakeke.staff",
        ]));
    r.expect_code(0);
    let token = r.stdout.trim();
    let (header, body) = claims(token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(body["startLogon"], "harakeke.staff");
    assert_eq!(body["sub"], m.thumbprints["jwt_ec"].as_str());
    verify_with_openssl(token, &m.jwt_ec_cert, true);

    // `""` on request, as IR's sample script sends it.
    let r = run(nzpir().args([
        "jwt",
        "--cert",
        &cert,
        "--key",
        &key,
        "--issuer",
        "x",
        "--unset-start-logon",
        "empty",
    ]));
    r.expect_code(0);
    assert_eq!(claims(r.stdout.trim()).1["startLogon"], "");

    // Lifetimes past IR's 8 hours are a usage error naming the flag.
    for ttl in ["28801", "59", "5"] {
        let r = run(nzpir().args([
            "jwt", "--cert", &cert, "--key", &key, "--issuer", "x", "--ttl", ttl,
        ]));
        r.expect_code(2);
        assert!(r.stderr.contains("--ttl"), "{}", r.stderr);
        assert!(r.stderr.contains("60..=28800"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }

    // Problems are exit 2, name the command's own flags and never print a
    // token.
    for (args, flag) in [
        (vec!["jwt", "--cert", &cert, "--key", &key], "--issuer"),
        (
            vec![
                "jwt", "--cert", &cert, "--key", &key, "--issuer", "x", "--alg", "ES256",
            ],
            "--alg",
        ),
        (
            vec![
                "jwt",
                "--cert",
                &cert,
                "--key",
                &m.jwt_ec_key.display().to_string(),
                "--issuer",
                "x",
            ],
            "--key",
        ),
        (
            vec![
                "jwt",
                "--cert",
                "/no/such.pem",
                "--key",
                &key,
                "--issuer",
                "x",
            ],
            "--cert",
        ),
    ] {
        let r = run(nzpir().args(&args));
        assert_eq!(r.code(), 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.starts_with(&format!("nzpir: config `{flag}`: ")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn sandbox_subcommand_writes_its_manifest_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = dir.path().join("pki");
    let child = nzpir()
        .args([
            "sandbox",
            "--pki-dir",
            &pki.display().to_string(),
            "--ir003-limit",
            "3",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let manifest_path = pki.join("manifest.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    let manifest: nzpir_sandbox::Manifest = loop {
        if let Ok(text) = std::fs::read_to_string(&manifest_path)
            && let Ok(m) = serde_json::from_str(&text)
        {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no manifest.json within a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(manifest.pid, child.id());
    assert_eq!(manifest.profile, "strict");
    assert_eq!(manifest.ir003_limit, 3);
    assert!(manifest.url.starts_with("https://127.0.0.1:"));

    // A lookup through the configuration it wrote.
    let r = run(nzpir().args([
        "lookup",
        "--config",
        &pki.join("nzpir.toml").display().to_string(),
        "--ird",
        "139276310",
        "--pie-ird",
        SCHEME,
    ]));
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "IRD 139276310 (PIE 125000002): suggested PIR 10.5%\n"
    );

    let o = tool("kill", &["-TERM", &child.id().to_string()]);
    assert!(o.status.success());
    let r = finish(child, Duration::from_secs(30));
    r.expect_code(0);
    assert!(
        r.stdout.contains("listening on https://127.0.0.1:"),
        "{}",
        r.stdout
    );
    assert!(!manifest_path.exists(), "manifest.json is removed on exit");
    assert!(pki.join("ca.pem").exists(), "the PKI folder is kept");
}

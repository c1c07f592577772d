//! End to end: `nzpir lookup` against strict sandboxes, one exit code per class,
//! and where connection settings come from.

mod common;

use std::time::Duration;

use common::*;
use nzpir_sandbox::{Fault, FaultKind, SandboxOptions};

fn lookup(sb: &nzpir_sandbox::Sandbox, extra: &[&str]) -> Run {
    let mut cmd = nzpir();
    cmd.arg("lookup").args(config_args(sb)).args(extra);
    run(&mut cmd)
}

#[test]
fn rates_and_not_found_exit_0() {
    let sb = strict();
    let r = lookup(&sb, &["--ird", "139276507", "--pie-ird", SCHEME]);
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "IRD 139276507 (PIE 125000002): suggested PIR 28%\n"
    );
    let r = lookup(
        &sb,
        &["--ird", "13-927-6310", "--pie-ird", SCHEME, "--json"],
    );
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!({"IRD":"139276310","PieIRD":"125000002","SuggestedPirRate":10.5})
    );
    let r = lookup(&sb, &["--ird", "49091850", "--pie-ird", SCHEME]);
    r.expect_code(0);
    assert!(r.stdout.contains("PirRateNotFound"), "{}", r.stdout);
    let r = lookup(&sb, &["--ird", "49091850", "--pie-ird", SCHEME, "--json"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "{\"IRD\":\"049091850\",\"PieIRD\":\"125000002\",\"PirRateNotFound\":true}\n"
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert_eq!(sb.stats().pir_requests, 4);
}

#[test]
fn soft_matching_fields_are_sent() {
    // 139276329 is tied to the PIE only by name, date of birth and address,
    // and the PIE is only reachable through its logon.
    let sb = strict();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276329",
            "--pie-ird",
            "130000002",
            "--start-logon",
            "tuatara.admin",
            "--first-name",
            "Gary",
            "--last-name",
            "Allen",
            "--dob",
            "1990-01-02",
            "--street",
            "123 Ha Crescent",
            "--city",
            "Auckland",
            "--post-code",
            "2104",
            "--country",
            "NZ",
        ],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("suggested PIR 28%"), "{}", r.stdout);
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276329",
            "--pie-ird",
            "130000002",
            "--start-logon",
            "tuatara.admin",
        ],
    );
    r.expect_code(4);
    assert!(r.stderr.contains("EV1043"), "{}", r.stderr);
}

#[test]
fn local_validation_lists_every_problem_and_sends_nothing() {
    let sb = strict();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "136410133",
            "--pie-ird",
            "12",
            "--filing-period",
            "2024-03-30",
            "--first-name",
            "Ann",
            "--country",
            "XX",
            "--dob",
            "1990-02-30",
        ],
    );
    r.expect_code(2);
    for expected in [
        "invalid request (8 problems; nothing was sent)",
        "IRD fails the modulus-11 check digit",
        "PieIRD must be 8 or 9 digits",
        "FilingPeriod must be 31 March of a tax year",
        "Name.LastName is required",
        "Dob must be a real calendar date",
        "Address.Street is required",
        "Address.City is required",
        "Address.Country must be an ISO 3166-1 alpha-2 country code",
    ] {
        assert!(r.stderr.contains(expected), "{expected}: {}", r.stderr);
    }
    assert!(!r.stderr.contains("136410133"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(sb.stats().pir_requests, 0);
}

#[test]
fn rejected_by_ir_exits_3() {
    let sb = strict();
    // No PieIRD with a JWT that has no start logon: PIR101.
    let r = lookup(&sb, &["--ird", "139276507"]);
    r.expect_code(3);
    assert!(r.stderr.contains("PIR101"), "{}", r.stderr);
    // --no-validate sends what local validation would stop: IR's EV1100 names the field.
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--country",
            "AB",
            "--street",
            "1 A St",
            "--city",
            "Auckland",
            "--no-validate",
            "--json",
        ],
    );
    r.expect_code(3);
    assert!(
        r.stderr.contains("EV1100") && r.stderr.contains("Country"),
        "{}",
        r.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("IR's error body");
    assert_eq!(v["errors"][0]["code"], "EV1100");
}

#[test]
fn authentication_and_authorisation_exit_4() {
    let sb = strict();
    let m = sb.manifest();
    // An unregistered client certificate (from the sandbox CA): EV1023.
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--cert",
            &m.unregistered_client_cert.display().to_string(),
            "--key",
            &m.unregistered_client_key.display().to_string(),
        ],
    );
    r.expect_code(4);
    assert!(r.stderr.contains("EV1023"), "{}", r.stderr);
    // A bearer token the sandbox never issued: EV1024.
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--bearer",
            "not-a-token",
        ],
    );
    r.expect_code(4);
    assert!(r.stderr.contains("EV1024"), "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-token"), "{}", r.stderr);
    // Authenticated, but the investor is not a member of the scheme: EV1043.
    let r = lookup(&sb, &["--ird", "139276272", "--pie-ird", SCHEME, "--json"]);
    r.expect_code(4);
    assert!(r.stderr.contains("EV1043"), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("IR's error body");
    assert_eq!(v["errors"][0]["code"], "EV1043");
    // A start logon that belongs to nobody: EV1042.
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--start-logon",
            "orphan.user",
        ],
    );
    r.expect_code(4);
    assert!(r.stderr.contains("EV1042"), "{}", r.stderr);
}

#[test]
fn ir003_exits_5_and_is_not_retried() {
    let sb = strict_with(SandboxOptions::default().ir003_limit(1));
    lookup(&sb, &["--ird", "139276507", "--pie-ird", SCHEME]).expect_code(0);
    let r = lookup(&sb, &["--ird", "139276507", "--pie-ird", SCHEME]);
    r.expect_code(5);
    assert!(r.stderr.contains("IR003"), "{}", r.stderr);
    assert_eq!(sb.pir_calls_for("139276507"), 2, "one call each, no retry");
}

#[test]
fn server_errors_exit_6() {
    let sb = strict();
    sb.set_fault(Fault::new(FaultKind::Pir150));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--max-retries",
            "1",
        ],
    );
    r.expect_code(6);
    assert!(r.stderr.contains("PIR150"), "{}", r.stderr);
    assert_eq!(
        sb.pir_calls_for("139276507"),
        1,
        "IR processed it (and counts it): PIR150 is not sent again, retries or not"
    );
    sb.set_fault(Fault::status(503));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--max-retries",
            "0",
        ],
    );
    r.expect_code(6);
    assert!(r.stderr.contains("503"), "{}", r.stderr);
    sb.set_fault(Fault::new(FaultKind::MalformedBody));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--max-retries",
            "0",
        ],
    );
    r.expect_code(6);
}

#[test]
fn transport_tls_and_timeouts_exit_7() {
    let sb = strict();
    let port = closed_port();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--endpoint",
            &format!("https://127.0.0.1:{port}"),
            "--max-retries",
            "0",
        ],
    );
    r.expect_code(7);
    sb.set_fault(Fault::new(FaultKind::DropBeforeRead));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--max-retries",
            "0",
        ],
    );
    r.expect_code(7);
    sb.clear_faults();
    sb.set_fault(Fault::delay(Duration::from_secs(5)).times(1));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--max-retries",
            "0",
            "--timeout",
            "1",
        ],
    );
    r.expect_code(7);
    assert!(r.stderr.to_lowercase().contains("time"), "{}", r.stderr);
    sb.clear_faults();
    // TLS: the server's certificate is not trusted without the sandbox CA.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = strict_with(SandboxOptions::default().pki_dir(dir.path()));
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--ca",
            &other.manifest().ca_cert.display().to_string(),
            "--max-retries",
            "0",
        ],
    );
    r.expect_code(7);
}

#[test]
fn configuration_problems_exit_2() {
    let r = run(nzpir().args([
        "lookup",
        "--ird",
        "139276507",
        "--config",
        "/no/such/nzpir.toml",
    ]));
    r.expect_code(2);
    assert!(r.stderr.contains("/no/such/nzpir.toml"), "{}", r.stderr);
    let r = run(nzpir().args(["lookup", "--ird", "139276507"]));
    r.expect_code(2);
    assert!(r.stderr.contains("environment"), "{}", r.stderr);
    let r = run(nzpir().args(["lookup", "--ird", "139276507", "--env", "staging"]));
    r.expect_code(2);
    let sb = strict();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--bearer",
            "x",
            "--jwt-cert",
            "a.pem",
            "--jwt-key",
            "a.key",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("one way to authenticate") && r.stderr.contains("--bearer"),
        "{}",
        r.stderr
    );
    let r = lookup(&sb, &["--ird", "139276507", "--timeout", "0"]);
    r.expect_code(2);
}

#[test]
fn flags_win_over_variables_and_variables_over_the_file() {
    let sb = strict();
    let closed = format!("https://127.0.0.1:{}", closed_port());
    let config = sb.config_path().display().to_string();
    let args = [
        "lookup",
        "--ird",
        "139276507",
        "--pie-ird",
        SCHEME,
        "--max-retries",
        "0",
    ];

    // The file alone.
    run(nzpir().env("NZPIR_CONFIG", &config).args(args)).expect_code(0);
    // A variable beats the file.
    run(nzpir()
        .env("NZPIR_CONFIG", &config)
        .env("NZPIR_ENDPOINT", &closed)
        .args(args))
    .expect_code(7);
    // A flag beats the variable.
    run(nzpir()
        .env("NZPIR_CONFIG", &config)
        .env("NZPIR_ENDPOINT", &closed)
        .args(args)
        .args(["--endpoint", sb.url()]))
    .expect_code(0);
    // Auth: a bearer token in the environment beats the file's JWT ...
    let r = run(nzpir()
        .env("NZPIR_CONFIG", &config)
        .env("NZPIR_BEARER", "env-token")
        .args(args));
    r.expect_code(4);
    assert!(r.stderr.contains("EV1024"), "{}", r.stderr);
    // ... and JWT flags beat the variable.
    let m = sb.manifest();
    run(nzpir()
        .env("NZPIR_CONFIG", &config)
        .env("NZPIR_BEARER", "env-token")
        .args(args)
        .args([
            "--jwt-cert",
            &m.jwt_rs256_cert.display().to_string(),
            "--jwt-key",
            &m.jwt_rs256_key.display().to_string(),
            "--issuer",
            "Kowhai KiwiSaver Limited",
        ]))
    .expect_code(0);
    // A modifier applies to the file's JWT: NZPIR_START_LOGON acts as a logon.
    let r = run(nzpir()
        .env("NZPIR_CONFIG", &config)
        .env("NZPIR_START_LOGON", "orphan.user")
        .args(args));
    r.expect_code(4);
    assert!(r.stderr.contains("EV1042"), "{}", r.stderr);
    // Everything from the environment, no file at all.
    run(nzpir()
        .env("NZPIR_ENV", "sandbox")
        .env("NZPIR_ENDPOINT", sb.url())
        .env("NZPIR_CERT", &m.client_cert)
        .env("NZPIR_KEY", &m.client_key)
        .env("NZPIR_CA", &m.ca_cert)
        .env("NZPIR_JWT_CERT", &m.jwt_ec_cert)
        .env("NZPIR_JWT_KEY", &m.jwt_ec_key)
        .env("NZPIR_JWT_ALG", &m.jwt_ec_alg)
        .env("NZPIR_ISSUER", "Harakeke")
        .args(args))
    .expect_code(0);
}

#[test]
fn verbose_logs_carry_no_personal_data() {
    let sb = strict();
    let r = lookup(&sb, &["--ird", "139276507", "--pie-ird", SCHEME, "-vv"]);
    r.expect_code(0);
    assert!(
        r.stderr.contains("op=lookup outcome=suggested"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("139276507"), "{}", r.stderr);
    assert!(!r.stderr.contains("eyJ"), "no token in logs: {}", r.stderr);
}

#[test]
fn hostile_error_bodies_are_reported_without_their_text() {
    let sb = strict();
    for (status, body, exit) in [
        (
            401u16,
            r#"{"errors":[{"code":"049091850","type":"security","message":"Gary Allen"}]}"#,
            4,
        ),
        (
            400,
            r#"{"errors":[{"code":"PIR101","type":"validation","message":"PieIRD for Gary Allen of 1 Queen St must be provided"}]}"#,
            3,
        ),
        (
            400,
            r#"{"errors":[{"code":"XY999","type":"=1+1","message":"Gary Allen, 049091850"}]}"#,
            3,
        ),
    ] {
        sb.set_fault(
            Fault::new(FaultKind::Answer {
                status,
                body: body.to_owned(),
            })
            .times(2),
        );
        for json in [false, true] {
            let mut args = vec![
                "--ird",
                "139276507",
                "--pie-ird",
                SCHEME,
                "--max-retries",
                "0",
            ];
            if json {
                args.push("--json");
            }
            let r = lookup(&sb, &args);
            r.expect_code(exit);
            for private in ["Gary", "Queen", "049091850", "=1+1"] {
                assert!(!r.stderr.contains(private), "{private}: {}", r.stderr);
                assert!(!r.stdout.contains(private), "{private}: {}", r.stdout);
            }
        }
    }
}

#[test]
fn a_filing_period_may_be_the_year_it_ends() {
    let sb = strict();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--filing-period",
            "2025",
        ],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("suggested PIR 28%"), "{}", r.stdout);
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--filing-period",
            "25",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("FilingPeriod must be a year from 1000 to 9999"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.stats().pir_requests, 1);
}

#[test]
fn every_error_ir_lists_is_reported() {
    let sb = strict();
    let r = lookup(
        &sb,
        &[
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
            "--dob",
            "1990-02-30",
            "--country",
            "AB",
            "--street",
            "1 A St",
            "--city",
            "Auckland",
            "--no-validate",
            "--json",
        ],
    );
    r.expect_code(3);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("IR's error body");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert!(fields[0].ends_with("Field: Dob") && fields[1].ends_with("Field: Country"));
    assert!(
        r.stderr.contains("Field: Dob") && r.stderr.contains("Field: Country"),
        "{}",
        r.stderr
    );
}

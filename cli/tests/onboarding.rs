//! `nzpir onboarding`: IR's 13 PIR onboarding scenarios against real sandboxes
//! over mutual TLS, and IR's test report; and `nzpir estimate`.

mod common;

use common::*;

const SHIPPED: &str = include_str!("../onboarding/sandbox.toml");

fn table(report: &str) -> Vec<(String, String)> {
    report
        .lines()
        .filter(|l| l.starts_with("| PIR-OB-"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (
                cells[0].trim_start_matches("| ").to_owned(),
                cells[4].to_owned(),
            )
        })
        .collect()
}

fn no_secrets(report: &str) {
    // JWTs and IR-shaped access tokens start with a base64url JSON header.
    assert!(!report.contains("eyJ"), "{report}");
    assert!(!report.contains("secret"), "{report}");
    assert!(!report.contains("BEGIN"), "{report}");
}

#[test]
fn all_thirteen_pass_against_the_embedded_sandbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.md");
    let r = run(nzpir()
        .args(["onboarding", "--sandbox", "--report"])
        .arg(&report));
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("13 of 13 scenarios that ran passed; 0 not run"),
        "{}",
        r.stdout
    );
    let text = read(&report);
    let rows = table(&text);
    assert_eq!(rows.len(), 13, "{text}");
    for (i, (id, verdict)) in rows.iter().enumerate() {
        assert_eq!(id, &format!("PIR-OB-{:03}", i + 1));
        assert_eq!(verdict, "Pass", "{text}");
    }
    // Evidence: the requests as sent and IR's answers, without credentials.
    assert!(
        text.contains(r#"{"IRD":"139280032","PieIRD":"125000002","FilingPeriod":"2025-03-31"}"#)
    );
    assert!(text.contains(r#""PirRateNotFound":true"#));
    assert!(text.contains(r#""code":"PER100""#));
    assert!(text.contains("Bearer OAuth access token (token removed)"));
    no_secrets(&text);
}

#[test]
fn a_failing_scenario_fails_the_run_and_unrunnable_ones_say_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    // PIR-OB-010 asks about an investor whose rate is 10.5, not 28.
    let wrong = SHIPPED.replace(
        "request = { IRD = \"139280016\", PieIRD = \"125000002\" }",
        "request = { IRD = \"139276310\", PieIRD = \"125000002\" }",
    );
    assert_ne!(wrong, SHIPPED);
    let scenarios = dir.path().join("wrong.toml");
    std::fs::write(&scenarios, &wrong).expect("write");
    let report = dir.path().join("report.md");
    let r = run(nzpir()
        .args(["onboarding", "--sandbox", "--scenarios"])
        .arg(&scenarios)
        .arg("--report")
        .arg(&report));
    assert_ne!(r.code(), 0, "{}", r.stdout);
    let text = read(&report);
    let rows = table(&text);
    assert_eq!(rows.len(), 13);
    assert_eq!(
        rows[9],
        ("PIR-OB-010".to_owned(), "Fail".to_owned()),
        "{text}"
    );
    assert_eq!(rows.iter().filter(|(_, v)| v == "Pass").count(), 12);

    // Against a sandbox the provider configured itself, without OAuth: the
    // OAuth scenarios are not run, with the reason, and the rest pass.
    let sb = strict_with(nzpir_sandbox::SandboxOptions::default().ir003_limit(0));
    let own = format!(
        "config = {:?}\n{}",
        sb.config_path().display().to_string(),
        SHIPPED
    );
    let scenarios = dir.path().join("own.toml");
    std::fs::write(&scenarios, own).expect("write");
    let r = run(nzpir()
        .args(["onboarding", "--scenarios"])
        .arg(&scenarios)
        .arg("--report")
        .arg(&report));
    r.expect_code(0);
    let text = read(&report);
    let rows = table(&text);
    for (id, verdict) in &rows {
        let expected = if id == "PIR-OB-002" || id == "PIR-OB-007" {
            "Not run"
        } else {
            "Pass"
        };
        assert_eq!(verdict, expected, "{id}: {text}");
    }
    assert!(text.contains("oauth_config"), "{text}");
    no_secrets(&text);

    // An OAuth configuration whose token store holds no grant yet: the OAuth
    // scenarios cannot run, and say what to do.
    let m = sb.manifest();
    let oauth_toml = format!(
        "environment = \"sandbox\"\nendpoint = {:?}\n[tls]\nclient_cert = {:?}\nclient_key = {:?}\n\
         ca_cert = {:?}\n[auth]\ntype = \"oauth\"\nclient_id = \"sandbox-app\"\n\
         client_secret = \"sandbox-app-secret\"\nredirect_uri = \"http://127.0.0.1/callback\"\n\
         endpoint = {:?}\ntoken_store = \"tokens.json\"\n",
        sb.url(),
        m.client_cert.display().to_string(),
        m.client_key.display().to_string(),
        m.ca_cert.display().to_string(),
        m.oauth.base_url,
    );
    std::fs::write(dir.path().join("oauth.toml"), oauth_toml).expect("write");
    let own = format!(
        "config = {:?}\noauth_config = \"oauth.toml\"\n{}",
        sb.config_path().display().to_string(),
        SHIPPED
    );
    std::fs::write(&scenarios, own).expect("write");
    let r = run(nzpir()
        .args(["onboarding", "--scenarios"])
        .arg(&scenarios)
        .arg("--report")
        .arg(&report));
    r.expect_code(0);
    let text = read(&report);
    assert_eq!(
        table(&text).iter().filter(|(_, v)| v == "Not run").count(),
        2,
        "{text}"
    );
    assert!(text.contains("holds no usable grant"), "{text}");
    no_secrets(&text);

    // A scenario file that is not TOML, or names a scenario IR does not have.
    std::fs::write(&scenarios, "[scenarios.PIR-OB-099]\nrequest = {}\n").expect("write");
    run(nzpir().args(["onboarding", "--scenarios"]).arg(&scenarios)).expect_code(2);
    run(nzpir().arg("onboarding")).expect_code(2);
}

#[test]
fn estimate_prints_rate_rule_and_explanation() {
    let r = run(nzpir().args([
        "estimate",
        "--pir-year",
        "2025",
        "--income",
        "2023:48000:22000",
        "--income",
        "2024:47999.99:22000.01",
        "--json",
    ]));
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["rate"], serde_json::json!(17.5));
    assert_eq!(v["rate_decimal"], "17.5");
    assert_eq!(v["rule"], "resident_individual");
    assert!(
        v["explanation"]
            .as_str()
            .expect("text")
            .contains("48,000 or less")
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let facts = dir.path().join("facts.json");
    std::fs::write(&facts, r#"{"investor_type": "trustee"}"#).expect("write");
    let r = run(nzpir()
        .arg("estimate")
        .arg("--facts")
        .arg(&facts)
        .arg("--json"));
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert!(v["rate"].is_null());
    assert_eq!(v["missing"], serde_json::json!(["trustee_election"]));
    // A flag wins over the file.
    let r = run(nzpir()
        .arg("estimate")
        .arg("--facts")
        .arg(&facts)
        .args(["--trustee-election", "28"]));
    r.expect_code(0);
    assert!(
        r.stdout
            .starts_with("PIR estimate: 28 % (rule trustee_election)"),
        "{}",
        r.stdout
    );

    std::fs::write(
        &facts,
        r#"{"pir_year": 2010, "residency": "abroad", "income": [{"year": 2024, "taxable_income": "1e5"}]}"#,
    )
    .expect("write");
    let r = run(nzpir().arg("estimate").arg("--facts").arg(&facts));
    r.expect_code(2);
    for field in ["pir_year", "residency", "income.taxable_income"] {
        assert!(r.stderr.contains(field), "{field}: {}", r.stderr);
    }
    std::fs::write(&facts, "not json").expect("write");
    run(nzpir().arg("estimate").arg("--facts").arg(&facts)).expect_code(2);
}

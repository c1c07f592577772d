//! Investors with facts instead of a stored rate: `strict` answers with the
//! core estimator's rate for the request's filing period, PirRateNotFound for
//! any investor that is not an individual, and PER100 for a filing period the
//! facts give no income tax period for.

mod common;

use common::{pie, pir, rs256, start};
use nzpir_sandbox::{Fixture, Profile, Sandbox, SandboxOptions};
use serde_json::{Value, json};

const SCHEME: &str = "kowhai-scheme";

fn ask(sb: &Sandbox, ird: &str, period: Option<&str>) -> (u16, Value) {
    let m = sb.manifest();
    let scheme = pie(m, SCHEME);
    let body = match period {
        Some(p) => format!(r#"{{"IRD":"{ird}","PieIRD":"{scheme}","FilingPeriod":"{p}"}}"#),
        None => format!(r#"{{"IRD":"{ird}","PieIRD":"{scheme}"}}"#),
    };
    let r = pir(m, Some(&rs256(m, None)), &body);
    (r.status, r.json())
}

#[test]
fn the_default_fixture_covers_irs_onboarding_cases() {
    let sb = start(Profile::Strict);
    let scheme = pie(sb.manifest(), SCHEME);
    // PIR-OB-009: a company.
    let (status, body) = ask(&sb, "139280008", None);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"IRD": "139280008", "PieIRD": scheme, "PirRateNotFound": true})
    );
    // PIR-OB-010: a non-resident.
    assert_eq!(ask(&sb, "139280016", None).1["SuggestedPirRate"], json!(28));
    // PIR-OB-011: no income.
    assert_eq!(
        ask(&sb, "139280024", Some("2025-03-31")).1["SuggestedPirRate"],
        json!(10.5)
    );
    // PIR-OB-012: the 48,000 / 70,000 row in PIR year 2025 ...
    assert_eq!(
        ask(&sb, "139280032", Some("2025-03-31")).1["SuggestedPirRate"],
        json!(17.5)
    );
    // ... and the 53,500 / 78,100 row in PIR year 2026, where the old table gave 28.
    assert_eq!(
        ask(&sb, "139280040", Some("2026-03-31")).1["SuggestedPirRate"],
        json!(17.5)
    );
    assert_eq!(
        ask(&sb, "139280040", Some("2025-03-31")).1["SuggestedPirRate"],
        json!(10.5),
        "PIR year 2025 examines 2023 (no income: 10.5) and 2024 (28 under the old table)"
    );
    // No income year within two years of the filing period: no income tax period.
    let (status, body) = ask(&sb, "139280032", Some("2020-03-31"));
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("PER100"))
    );
}

#[test]
fn answers_follow_the_facts_and_the_estimator() {
    let mut f = Fixture::default_fixture();
    let current = nzpir::FilingPeriod::current(&nzpir::SystemClock).year();
    let add = |f: &mut Fixture, ird: &str, facts: Value| {
        let mut inv = f.investors[0].clone();
        inv.ird = ird.to_owned();
        inv.suggested_pir_rate = None;
        inv.name = None;
        inv.dob = None;
        inv.address = None;
        inv.facts = Some(serde_json::from_value(facts).expect("facts"));
        f.investors.push(inv);
    };
    let (t, p) = ("60000.00", "0");
    add(
        &mut f,
        "139280059",
        json!({"income": [{"year": current - 2, "taxable_income": t, "pie_income": p},
                          {"year": current - 1, "taxable_income": t, "pie_income": p}]}),
    );
    add(
        &mut f,
        "139280067",
        json!({"investor_type": "trustee", "trustee_election": 17.5}),
    );
    add(
        &mut f,
        "139280075",
        json!({"residency": "transitional_resident", "zero_rate_pie": true}),
    );
    let sb = Sandbox::start(SandboxOptions::default().fixture(f)).expect("starts");
    assert_eq!(ask(&sb, "139280059", None).1["SuggestedPirRate"], json!(28));
    // A trustee is not an individual: IR has no rate for it.
    assert_eq!(
        ask(&sb, "139280067", None).1["PirRateNotFound"],
        json!(true)
    );
    assert_eq!(ask(&sb, "139280075", None).1["SuggestedPirRate"], json!(0));
}

#[test]
fn a_rate_and_facts_together_are_refused() {
    let mut f = Fixture::default_fixture();
    let inv = &mut f.investors[0];
    inv.facts = Some(nzpir::PirFacts::individual(2026));
    let e = Sandbox::start(SandboxOptions::default().fixture(f)).expect_err("refused");
    assert!(e.to_string().contains("investors[0]"), "{e}");
    let bad = Fixture::from_json_str(
        r#"{"investors": [{"ird": "139280008", "facts": {"investor_type": "person"}}]}"#,
    )
    .expect_err("bad facts");
    assert!(bad.to_string().contains("investor_type"), "{bad}");
}

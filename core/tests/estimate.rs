//! The PIR estimator: IR's rules at their inclusive boundaries, both threshold
//! tables, every investor type, and IR's onboarding cases PIR-OB-009 to 012.

#![allow(clippy::inconsistent_digit_grouping)] // amounts are written as dollars_cents
use nzpir::estimate::{Amount, EstimateRule, PirFacts, estimate_pir, estimate_pir_json};
use nzpir::{ErrorKind, PirRate};
use proptest::prelude::*;
use serde_json::json;

/// IR's table as the test restates it, in cents.
fn bounds(pir_year: i32) -> (i64, i64, i64) {
    if pir_year <= 2025 {
        (14_000_00, 48_000_00, 70_000_00)
    } else {
        (15_600_00, 53_500_00, 78_100_00)
    }
}

fn reference_year(pir_year: i32, taxable: i64, pie: i64) -> u32 {
    let (a, b, c) = bounds(pir_year);
    if taxable <= a && taxable + pie <= b {
        1050
    } else if taxable <= b && taxable + pie <= c {
        1750
    } else {
        2800
    }
}

fn cents_text(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn rate_of(v: serde_json::Value) -> Option<u32> {
    let facts = PirFacts::from_json_value(&v).expect("valid facts");
    estimate_pir(&facts).rate.map(PirRate::hundredths)
}

/// Amounts near one of the bounds: bound - 1 cent, bound, bound + 1 cent, or anywhere.
fn near_bound() -> impl Strategy<Value = i64> {
    prop_oneof![
        (
            prop::sample::select(vec![
                14_000_00i64,
                48_000_00,
                70_000_00,
                15_600_00,
                53_500_00,
                78_100_00
            ]),
            -1i64..=1
        )
            .prop_map(|(b, d)| b + d),
        0i64..100_000_00,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn resident_individual_matches_irs_table(
        pir_year in 2011i32..2040,
        t1 in near_bound(), p1 in near_bound(),
        t2 in near_bound(), p2 in near_bound(),
        // the PIE income is split so that the sum lands on a bound too
        shift in 0i64..=1,
    ) {
        let p1 = (p1 - t1 * shift).max(0);
        let facts = json!({
            "pir_year": pir_year,
            "income": [
                {"year": pir_year - 2, "taxable_income": cents_text(t1), "pie_income": cents_text(p1)},
                {"year": pir_year - 1, "taxable_income": cents_text(t2), "pie_income": cents_text(p2)},
                // a year that is not examined changes nothing
                {"year": pir_year, "taxable_income": "1000000"},
            ]
        });
        let expect = reference_year(pir_year, t1, p1).min(reference_year(pir_year, t2, p2));
        let e = estimate_pir(&PirFacts::from_json_value(&facts).expect("estimate"));
        prop_assert_eq!(e.rate.map(PirRate::hundredths), Some(expect));
        prop_assert_eq!(e.rule, EstimateRule::ResidentIndividual);
        prop_assert_eq!(e.pir_year, Some(pir_year));
        let decided = e.decided_by_year.expect("estimate");
        prop_assert!(decided == pir_year - 1 || decided == pir_year - 2);
        let y = if decided == pir_year - 2 { (t1, p1) } else { (t2, p2) };
        prop_assert_eq!(reference_year(pir_year, y.0, y.1), expect);
        let row = if pir_year <= 2025 { "14,000" } else { "15,600" };
        prop_assert!(e.explanation.contains(row), "{}", e.explanation);
        let named = format!("income year {decided}");
        prop_assert!(e.explanation.contains(&named));
    }

    #[test]
    fn amounts_as_numbers_strings_and_cents_agree(pir_year in 2011i32..2040, t in near_bound(), p in near_bound()) {
        let as_text = rate_of(json!({"pir_year": pir_year, "income": [
            {"year": pir_year - 1, "taxable_income": cents_text(t), "pie_income": cents_text(p)},
            {"year": pir_year - 2, "taxable_income": "99999999"}]}));
        let number: serde_json::Value = serde_json::from_str(&cents_text(t)).expect("estimate");
        let as_number = rate_of(json!({"pir_year": pir_year, "income": [
            {"year": pir_year - 1, "taxable_income": number, "pie_income": cents_text(p)},
            {"year": pir_year - 2, "taxable_income": "99999999"}]}));
        prop_assert_eq!(as_text, Some(reference_year(pir_year, t, p)));
        prop_assert_eq!(as_number, as_text);
    }

    #[test]
    fn a_missing_year_is_a_year_without_income(pir_year in 2011i32..2040, t in near_bound(), p in near_bound()) {
        let one = rate_of(json!({"pir_year": pir_year, "income": [
            {"year": pir_year - 1, "taxable_income": cents_text(t), "pie_income": cents_text(p)}]}));
        prop_assert_eq!(one, Some(1050));
    }
}

#[test]
fn inclusive_bounds_in_both_tables() {
    // (pir year, taxable, pie, expected) at each bound and one cent over it.
    let cases = [
        (2025, "14000", "34000", 1050),
        (2025, "14000.01", "0", 1750),
        (2025, "14000", "34000.01", 1750),
        (2025, "48000", "22000", 1750),
        (2025, "48000.01", "0", 2800),
        (2025, "48000", "22000.01", 2800),
        (2026, "15600", "37900", 1050),
        (2026, "15600.01", "0", 1750),
        (2026, "53500", "24600", 1750),
        (2026, "53500.01", "0", 2800),
        (2026, "53500", "24600.01", 2800),
        (2011, "14000", "0", 1050),
        (2060, "15600", "0", 1050),
    ];
    for (y, t, p, expect) in cases {
        let got = rate_of(json!({"pir_year": y, "income": [
            {"year": y - 2, "taxable_income": t, "pie_income": p},
            {"year": y - 1, "taxable_income": t, "pie_income": p}]}));
        assert_eq!(got, Some(expect), "{y} {t} {p}");
    }
}

// PIR-OB-009: a company, incorporated society, charity or PIE: IR answers
// PirRateNotFound; the rules give 0 % for resident entities.
#[test]
fn pir_ob_009_entities() {
    for t in [
        "company",
        "incorporated_society",
        "charity",
        "pie",
        "superannuation_fund",
    ] {
        let e = estimate_pir_json(&json!({"investor_type": t}).to_string()).expect("estimate");
        assert_eq!(e.rate, Some(PirRate::from_hundredths(0)), "{t}");
        assert_eq!(e.rule, EstimateRule::ZeroRateEntity);
        assert!(
            e.explanation.contains("PirRateNotFound"),
            "{}",
            e.explanation
        );
        let e = estimate_pir_json(
            &json!({"investor_type": t, "residency": "non_resident"}).to_string(),
        )
        .expect("estimate");
        assert_eq!(e.rate, Some(PirRate::TOP), "{t} non-resident");
    }
}

// PIR-OB-010: a non-resident: 28 %, whatever the income.
#[test]
fn pir_ob_010_non_resident() {
    let e = estimate_pir_json(
        r#"{"pir_year": 2026, "residency": "non_resident", "income": [{"year": 2025, "taxable_income": 1000}]}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate, Some(PirRate::TOP));
    assert_eq!(e.rule, EstimateRule::NonResident);
    let e = estimate_pir_json(
        r#"{"residency": "non_resident", "notified_foreign_investor": true, "zero_rate_pie": true}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate.map(PirRate::hundredths), Some(0));
    assert_eq!(e.rule, EstimateRule::NotifiedForeignInvestor);
    let e = estimate_pir_json(
        r#"{"residency": "non_resident", "notified_foreign_investor": true, "zero_rate_pie": false}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate, Some(PirRate::TOP));
}

// PIR-OB-011: no return expectations (no income): 10.5 %.
#[test]
fn pir_ob_011_no_income() {
    for facts in [
        r#"{"pir_year": 2026}"#,
        r#"{"pir_year": 2026, "income": []}"#,
        r#"{"filing_period": "2025-03-31", "income": [{"year": 2023}, {"year": 2024}]}"#,
    ] {
        let e = estimate_pir_json(facts).expect("estimate");
        assert_eq!(e.rate, Some(PirRate::LOW), "{facts}");
        assert!(e.explanation.contains("no income"), "{}", e.explanation);
    }
}

// PIR-OB-012: total income <= 48k and total + PIE income <= 70k (pre-2026): 17.5 %,
// and its post-2025 counterpart.
#[test]
fn pir_ob_012_middle_row() {
    let e = estimate_pir_json(
        r#"{"filing_period": "2025-03-31", "income": [
            {"year": 2023, "taxable_income": "47000.00", "pie_income": "22000.00"},
            {"year": 2024, "taxable_income": "48000", "pie_income": "21999.99"}]}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate, Some(PirRate::MIDDLE));
    assert!(
        e.explanation.contains("48,000 or less"),
        "{}",
        e.explanation
    );
    assert!(
        e.explanation.contains("70,000 or less"),
        "{}",
        e.explanation
    );
    assert!(e.explanation.contains("PIR year 2025"), "{}", e.explanation);

    // The post-2025 counterpart: the 53,500 / 78,100 row.
    let e = estimate_pir_json(
        r#"{"pir_year": 2026, "income": [
            {"year": 2024, "taxable_income": "53500", "pie_income": "24600"},
            {"year": 2025, "taxable_income": "60000", "pie_income": "0"}]}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate, Some(PirRate::MIDDLE));
    assert_eq!(e.decided_by_year, Some(2024));
    assert!(
        e.explanation.contains("53,500 or less"),
        "{}",
        e.explanation
    );
}

#[test]
fn trustees_choose() {
    for (r, h) in [("0", 0), ("17.5", 1750), ("28", 2800), ("10.5", 1050)] {
        let e = estimate_pir_json(&format!(
            r#"{{"investor_type": "trustee", "trustee_election": "{r}"}}"#
        ))
        .expect("estimate");
        assert_eq!(e.rate.map(PirRate::hundredths), Some(h));
        assert_eq!(e.rule, EstimateRule::TrusteeElection);
    }
    let e = estimate_pir_json(r#"{"investor_type": "trustee"}"#).expect("estimate");
    assert_eq!(e.rate, None);
    assert_eq!(e.rule, EstimateRule::CannotEstimate);
    assert_eq!(e.missing, ["trustee_election"]);
}

#[test]
fn transitional_residents() {
    let e = estimate_pir_json(r#"{"residency": "transitional_resident", "zero_rate_pie": true}"#)
        .expect("estimate");
    assert_eq!(e.rate.map(PirRate::hundredths), Some(0));
    assert_eq!(e.rule, EstimateRule::TransitionalResidentZeroRate);
    let e = estimate_pir_json(
        r#"{"residency": "transitional_resident", "pir_year": 2026, "income": [
            {"year": 2024, "taxable_income": 90000}, {"year": 2025, "taxable_income": 90000}]}"#,
    )
    .expect("estimate");
    assert_eq!(e.rate, Some(PirRate::TOP));
    assert_eq!(e.rule, EstimateRule::ResidentIndividual);
}

#[test]
fn missing_pir_year_cannot_estimate() {
    let e = estimate_pir_json(r#"{"income": [{"year": 2024, "taxable_income": 1}]}"#)
        .expect("estimate");
    assert_eq!(e.rate, None);
    assert_eq!(e.rule, EstimateRule::CannotEstimate);
    assert_eq!(e.missing, ["pir_year"]);
    let v = e.to_json_value();
    assert!(v["rate"].is_null() && v["rate_decimal"].is_null());
    assert_eq!(v["rule"], "cannot_estimate");
}

#[test]
fn bad_facts_name_every_field_and_rule() {
    let err = estimate_pir_json(
        r#"{"pir_year": 2009, "filing_period": "2025-04-01", "investor_type": "person",
            "residency": "abroad", "trustee_election": 12, "zero_rate_pie": "yes",
            "income": [{"year": 2024, "taxable_income": "1e5", "pie_income": -3},
                       {"year": 2024, "taxable_income": 12.345}, {"taxable_income": 1}],
            "colour": "blue"}"#,
    )
    .expect_err("bad facts");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let got: Vec<(String, &str)> = err
        .field_errors()
        .iter()
        .map(|f| (f.field.to_owned(), f.rule.code()))
        .collect();
    for want in [
        ("facts", "unknown_key"),
        ("pir_year", "year_range"),
        ("filing_period", "filing_period_march_31"),
        ("investor_type", "one_of"),
        ("residency", "one_of"),
        ("trustee_election", "pir_rate"),
        ("zero_rate_pie", "type"),
        ("income.taxable_income", "amount"),
        ("income.pie_income", "not_negative"),
        ("income.year", "duplicate_year"),
        ("income.year", "required"),
    ] {
        assert!(
            got.iter().any(|(f, r)| f == want.0 && *r == want.1),
            "{want:?} not in {got:?}"
        );
    }
    assert!(
        err.to_string().starts_with("invalid input: facts "),
        "{err}"
    );
    let err = estimate_pir_json("[1]").expect_err("not an object");
    assert_eq!(err.field_errors()[0].field, "facts");
    let err = estimate_pir_json(r#"{"pir_year": 2025, "filing_period": "2026-03-31"}"#)
        .expect_err("conflict");
    assert_eq!(err.field_errors()[0].rule.code(), "conflict");
}

#[test]
fn facts_round_trip_and_hide_amounts_in_debug() {
    let facts = PirFacts::from_json_str(
        r#"{"pir_year": 2026, "income": [{"year": 2025, "taxable_income": "61234.56"}]}"#,
    )
    .expect("estimate");
    assert!(!format!("{facts:?}").contains("61234"));
    let again = PirFacts::from_json_value(&facts.to_json_value()).expect("estimate");
    assert_eq!(again, facts);
    assert_eq!(
        facts.income[0].taxable_income,
        Amount::from_cents(6_123_456)
    );
    let via_serde: PirFacts = serde_json::from_value(facts.to_json_value()).expect("estimate");
    assert_eq!(via_serde, facts);
}

#[test]
fn pir_years_before_the_table_cannot_be_estimated() {
    let e = estimate_pir(&PirFacts::individual(2009));
    assert_eq!(e.rate, None);
    assert_eq!(e.rule, EstimateRule::CannotEstimate);
    assert_eq!(e.missing, ["pir_year"]);
}

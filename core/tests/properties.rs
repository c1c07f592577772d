//! Property tests: IR's check digit, lenient vs strict parsing, serialisation.

use nzpir::ird::{MAX_IRD, MIN_IRD, check_digit};
use nzpir::{Address, IrdNumber, Name, PirOutcome, PirRate, PirRequest, PirResponse};
use proptest::prelude::*;

/// A base whose check digit exists, and the full number built from it.
fn valid_number() -> impl Strategy<Value = u32> {
    (MIN_IRD / 10..=MAX_IRD / 10).prop_filter_map("no check digit for this base", |base| {
        let n = base * 10 + check_digit(base)?;
        (MIN_IRD..=MAX_IRD).contains(&n).then_some(n)
    })
}

/// IR's rule restated from its published text, independently of the core:
/// the number in words of digits, not the core's tables or constants.
fn ir_rule(n: u64) -> bool {
    // 1. Range: below 10,000,000 or above 200,000,000 is invalid (since 1 April 2026).
    if !(10_000_000..=200_000_000).contains(&n) {
        return false;
    }
    // 2. Drop the check digit; left-pad the base to 8 digits.
    let text = format!("{:08}", n / 10);
    let base: Vec<u64> = text
        .chars()
        .map(|c| u64::from(c.to_digit(10).unwrap_or(0)))
        .collect();
    let check = n % 10;
    // 3 and 4. Two sets of weights; 10 from both is invalid.
    for weights in [[3, 2, 7, 6, 5, 4, 3, 2], [7, 4, 3, 2, 5, 2, 7, 6]] {
        let sum: u64 = base.iter().zip(weights).map(|(d, w)| d * w).sum();
        let remainder = sum % 11;
        let digit = if remainder == 0 { 0 } else { 11 - remainder };
        if digit != 10 {
            // 5. Valid when it equals the last digit.
            return digit == check;
        }
    }
    false
}

fn agrees_with_ir(n: u64) -> Result<(), TestCaseError> {
    let expected = ir_rule(n);
    let nine = format!("{n:09}");
    if let Ok(small) = u32::try_from(n) {
        prop_assert_eq!(
            IrdNumber::from_u32(small).is_ok(),
            expected,
            "from_u32 on {}",
            n
        );
    }
    if nine.len() == 9 {
        prop_assert_eq!(IrdNumber::parse(&nine).is_ok(), expected, "parse on {}", n);
        prop_assert_eq!(IrdNumber::is_valid(&nine), expected, "is_valid on {}", n);
    }
    Ok(())
}

#[test]
fn ir_rule_near_both_ceilings_and_the_floor() {
    // Every number around the old ceiling, the new one and the floor.
    for centre in [10_000_000u64, 150_000_000, 200_000_000] {
        for n in centre - 5_000..=centre + 5_000 {
            agrees_with_ir(n).expect("agrees");
        }
    }
    // IR's worked examples, and numbers that only the new range admits.
    for (n, valid) in [
        (49_091_850, true),
        (35_901_981, true),
        (49_098_576, true),
        (136_410_132, true),
        (136_410_133, false),
        (9_125_568, false),
        (150_000_009, true),
        (172_345_603, true),
        (199_999_990, true),
    ] {
        assert_eq!(ir_rule(n), valid, "{n}");
        agrees_with_ir(n).expect("agrees");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The core against the restatement across the whole new range and past both ends.
    #[test]
    fn the_core_agrees_with_irs_rule(n in 0u64..=999_999_999) {
        agrees_with_ir(n)?;
    }

    #[test]
    fn the_core_agrees_with_irs_rule_in_range(n in 10_000_000u64..=200_000_000) {
        agrees_with_ir(n)?;
    }

    #[test]
    fn valid_numbers_above_the_old_ceiling_pass(base in 15_000_000u32..=19_999_999) {
        if let Some(c) = check_digit(base) {
            let n = base * 10 + c;
            prop_assert!(IrdNumber::from_u32(n).is_ok());
            prop_assert!(ir_rule(u64::from(n)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_correct_check_digit_validates(n in valid_number()) {
        let nine = format!("{n:09}");
        prop_assert_eq!(IrdNumber::parse(&nine).map(IrdNumber::get), Ok(n));
        if n < 100_000_000 {
            let eight = format!("{n:08}");
            prop_assert_eq!(IrdNumber::parse(&eight).map(IrdNumber::get), Ok(n));
        }
    }

    #[test]
    fn any_other_check_digit_fails(n in valid_number(), delta in 1u32..10) {
        let wrong = n - n % 10 + (n % 10 + delta) % 10;
        prop_assert!(IrdNumber::from_u32(wrong).is_err());
    }

    #[test]
    fn lenient_and_strict_agree_on_clean_input(s in "[0-9]{7,10}") {
        prop_assert_eq!(IrdNumber::parse(&s), IrdNumber::parse_lenient(&s));
    }

    #[test]
    fn lenient_accepts_separated_forms(n in valid_number(), sep in prop::sample::select(vec!["-", " "]), pad in " {0,3}") {
        let d = format!("{n:09}");
        let human = format!("{pad}{}{sep}{}{sep}{}{pad}", &d[0..3], &d[3..6], &d[6..9]);
        prop_assert_eq!(IrdNumber::parse_lenient(&human).map(IrdNumber::get), Ok(n));
    }

    #[test]
    fn display_round_trips(n in valid_number()) {
        let parsed = IrdNumber::parse(&format!("{n:09}")).expect("valid");
        prop_assert_eq!(IrdNumber::parse(&parsed.to_string()), Ok(parsed));
        let text = parsed.to_string();
        prop_assert_eq!(&parsed.to_digits()[..], text.as_bytes());
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = IrdNumber::parse_lenient(&s);
        let _ = IrdNumber::parse(&s);
    }

    #[test]
    fn request_json_round_trips(
        ird in valid_number(),
        pie in proptest::option::of(valid_number()),
        fname in proptest::option::of("\\PC{0,60}"),
        first in "[A-Za-z]{1,50}",
        last in "[A-Za-z' -]{1,50}",
        street in "\\PC{1,60}",
        country in prop::sample::select(vec!["NZ", "AU", "GB"]),
        use_name in any::<bool>(),
    ) {
        let mut b = PirRequest::builder(format!("{ird:09}"));
        if let Some(p) = pie { b = b.pie_ird(format!("{p:09}")); }
        if let Some(f) = fname { b = b.formatted_name(f); }
        if use_name { b = b.name(Name::new(first, last)); }
        let req = b.address(Address::new(street, "Wellington", country)).dob("1980-05-17").build();
        let json = req.to_json();
        let back = PirRequest::from_json(&json).expect("parses back");
        prop_assert_eq!(back, req);
    }

    #[test]
    fn rates_round_trip_exactly(h in 0u32..=10_000) {
        let rate = PirRate::from_hundredths(h);
        let text = rate.to_string();
        prop_assert_eq!(text.parse::<PirRate>(), Ok(rate));
        let body = serde_json::to_vec(&PirOutcome::Suggested { ird: "049091850".into(), pie_ird: None, rate }.to_response()).expect("json");
        let back = PirResponse::parse(&body).and_then(PirResponse::into_outcome).expect("outcome");
        prop_assert_eq!(back.rate(), Some(rate));
    }
}

#[test]
fn published_rates_are_exact() {
    for (text, h) in [
        ("10.5", 1050),
        ("17.5", 1750),
        ("28", 2800),
        ("28.0", 2800),
        ("0", 0),
    ] {
        assert_eq!(
            text.parse::<PirRate>().map(PirRate::hundredths),
            Ok(h),
            "{text}"
        );
    }
    for bad in ["", ".5", "10.", "10.555", "-1", "1e1", "101", "abc"] {
        assert!(bad.parse::<PirRate>().is_err(), "{bad}");
    }
    let r = PirResponse::parse(br#"{"IRD":"1","SuggestedPirRate":10.5}"#).expect("parses");
    assert_eq!(r.suggested_pir_rate, Some(PirRate::LOW));
    assert_eq!(
        serde_json::to_string(&r).expect("json"),
        r#"{"IRD":"1","SuggestedPirRate":10.5}"#
    );
    let r = PirResponse::parse(br#"{"IRD":"1","SuggestedPirRate":28}"#).expect("parses");
    assert_eq!(
        serde_json::to_string(&r).expect("json"),
        r#"{"IRD":"1","SuggestedPirRate":28}"#
    );
}

#[test]
fn responses_with_neither_or_both_are_errors() {
    for body in [
        r#"{"IRD":"1"}"#,
        r#"{"IRD":"1","SuggestedPirRate":28,"PirRateNotFound":true}"#,
        r#"{"IRD":"1","PirRateNotFound":false}"#,
    ] {
        let err = PirResponse::parse(body.as_bytes())
            .and_then(PirResponse::into_outcome)
            .expect_err(body);
        assert_eq!(err.kind(), nzpir::ErrorKind::Server);
    }
    assert!(PirResponse::parse(b"{\"IRD\":\"1\",\"SuggestedPirRate\":").is_err());
}

#[test]
fn malformed_answers_are_not_quoted_in_errors() {
    // Found by fuzzing: a value of the wrong type was quoted in the message.
    for body in [
        r#""IRD 0490-9185 for Janeaux""#,
        r#"{"IRD":"049091850","PieIRD":{"Janeaux":1}}"#,
        r#"{"IRD":"049091850","SuggestedPirRate":"Janeaux 10.5"}"#,
    ] {
        let err = PirResponse::parse(body.as_bytes()).expect_err(body);
        assert_eq!(err.kind(), nzpir::ErrorKind::Server);
        assert!(!err.to_string().contains("Janeaux"), "{err}");
        assert!(!err.to_string().contains("0490"), "{err}");
    }
}

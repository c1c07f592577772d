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

//! One test per local validation rule, each naming the field path and the rule
//! in the words every binding shows.

use nzpir::{Address, ErrorKind, FilingPeriod, FixedClock, Name, PirRequest, Rule};
use time::macros::date;

const IRD: &str = "049091850";
const PIE: &str = "136410132";

fn today() -> time::Date {
    date!(2026 - 11 - 24)
}

/// The (field, rule code) pairs the request breaks.
fn broken(req: &PirRequest) -> Vec<(&'static str, &'static str)> {
    req.violations(today())
        .iter()
        .map(|e| (e.field, e.rule.code()))
        .collect()
}

fn one(req: PirRequest) -> (&'static str, &'static str) {
    let v = broken(&req);
    assert_eq!(v.len(), 1, "{v:?}");
    v[0]
}

#[test]
fn a_full_valid_request_passes() {
    let req = PirRequest::builder(IRD)
        .pie_ird(PIE)
        .filing_period(FilingPeriod::ending(2026))
        .formatted_name("Allen, Gary")
        .name(Name::new("Gary", "Allen").with_middle_name("J"))
        .dob(date!(1990 - 01 - 02))
        .formatted_address("123 HA CRESCENT, WIRI, AUCKLAND 2104")
        .address(
            Address::new("123 HA CRESCENT", "AUCKLAND", "NZ")
                .with_post_code("2104")
                .with_state(""),
        )
        .build();
    assert_eq!(broken(&req), vec![]);
    assert!(req.validate_with(&FixedClock::nz_noon(today())).is_ok());
}

#[test]
fn ird_required() {
    assert_eq!(one(PirRequest::builder("").build()), ("IRD", "required"));
}

#[test]
fn ird_digits() {
    assert_eq!(
        one(PirRequest::builder("04909185x").build()),
        ("IRD", "ird_digits")
    );
}

#[test]
fn ird_length() {
    assert_eq!(
        one(PirRequest::builder("1234567").build()),
        ("IRD", "ird_length")
    );
}

#[test]
fn ird_range() {
    assert_eq!(
        one(PirRequest::builder("200000005").build()),
        ("IRD", "ird_range")
    );
    // Above the old ceiling of 150,000,000, valid since 1 April 2026.
    assert_eq!(
        one(PirRequest::builder("160000000").build()),
        ("IRD", "ird_check_digit")
    );
}

#[test]
fn ird_check_digit() {
    assert_eq!(
        one(PirRequest::builder("136410133").build()),
        ("IRD", "ird_check_digit")
    );
}

#[test]
fn ird_lenient_input_is_normalised() {
    let req = PirRequest::builder("49-091-850")
        .pie_ird(" 136 410 132 ")
        .build();
    assert_eq!(req.ird(), IRD);
    assert_eq!(req.pie_ird(), Some(PIE));
    assert_eq!(broken(&req), vec![]);
}

#[test]
fn pie_ird_check_digit() {
    assert_eq!(
        one(PirRequest::builder(IRD).pie_ird("012345678").build()),
        ("PieIRD", "ird_check_digit")
    );
}

#[test]
fn pie_ird_digits() {
    assert_eq!(
        one(PirRequest::builder(IRD).pie_ird("ABC").build()),
        ("PieIRD", "ird_digits")
    );
}

#[test]
fn filing_period_format() {
    assert_eq!(
        one(PirRequest::builder(IRD).filing_period("31/03/2024").build()),
        ("FilingPeriod", "date_format")
    );
}

#[test]
fn filing_period_calendar_date() {
    assert_eq!(
        one(PirRequest::builder(IRD).filing_period("2024-02-30").build()),
        ("FilingPeriod", "calendar_date")
    );
}

#[test]
fn filing_period_march_31() {
    for bad in ["2023-01-31", "2023-03-01", "2024-03-30", "2024-04-01"] {
        assert_eq!(
            one(PirRequest::builder(IRD).filing_period(bad).build()),
            ("FilingPeriod", "filing_period_march_31"),
            "{bad}"
        );
    }
}

#[test]
fn filing_period_future() {
    assert_eq!(
        one(PirRequest::builder(IRD).filing_period("2099-03-31").build()),
        ("FilingPeriod", "filing_period_future")
    );
    // The period ending next 31 March is the current one, not the future.
    assert_eq!(
        broken(&PirRequest::builder(IRD).filing_period("2027-03-31").build()),
        vec![]
    );
    assert_eq!(
        one(PirRequest::builder(IRD).filing_period("2028-03-31").build()),
        ("FilingPeriod", "filing_period_future")
    );
}

#[test]
fn filing_period_too_old() {
    assert_eq!(
        one(PirRequest::builder(IRD).filing_period("2015-03-31").build()),
        ("FilingPeriod", "filing_period_too_old")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .filing_period(FilingPeriod::ending(2019))
            .build()),
        ("FilingPeriod", "filing_period_too_old")
    );
    assert_eq!(
        broken(
            &PirRequest::builder(IRD)
                .filing_period(FilingPeriod::ending(2020))
                .build()
        ),
        vec![]
    );
}

#[test]
fn formatted_name_max_255() {
    assert_eq!(
        broken(
            &PirRequest::builder(IRD)
                .formatted_name("x".repeat(255))
                .build()
        ),
        vec![]
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .formatted_name("x".repeat(256))
            .build()),
        ("FormattedName", "max_length")
    );
}

#[test]
fn lengths_count_characters_not_bytes() {
    // 255 two-byte characters are 255 characters.
    assert_eq!(
        broken(
            &PirRequest::builder(IRD)
                .formatted_name("ā".repeat(255))
                .build()
        ),
        vec![]
    );
}

#[test]
fn name_first_required_and_bounded() {
    let req =
        PirRequest::from_json(br#"{"IRD":"049091850","Name":{"LastName":"Allen"}}"#).expect("json");
    assert_eq!(broken(&req), vec![("Name.FirstName", "required")]);
    assert_eq!(
        one(PirRequest::builder(IRD)
            .name(Name::new("", "Allen"))
            .build()),
        ("Name.FirstName", "min_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .name(Name::new("g".repeat(51), "Allen"))
            .build()),
        ("Name.FirstName", "max_length")
    );
}

#[test]
fn name_last_required_and_bounded() {
    let req =
        PirRequest::from_json(br#"{"IRD":"049091850","Name":{"FirstName":"Gary"}}"#).expect("json");
    assert_eq!(broken(&req), vec![("Name.LastName", "required")]);
    assert_eq!(
        one(PirRequest::builder(IRD).name(Name::new("Gary", "")).build()),
        ("Name.LastName", "min_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .name(Name::new("Gary", "a".repeat(51)))
            .build()),
        ("Name.LastName", "max_length")
    );
}

#[test]
fn name_middle_max_50() {
    assert_eq!(
        broken(
            &PirRequest::builder(IRD)
                .name(Name::new("G", "A").with_middle_name(""))
                .build()
        ),
        vec![]
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .name(Name::new("G", "A").with_middle_name("m".repeat(51)))
            .build()),
        ("Name.MiddleName", "max_length")
    );
}

#[test]
fn dob_format_and_calendar() {
    assert_eq!(
        one(PirRequest::builder(IRD).dob("02/01/1990").build()),
        ("Dob", "date_format")
    );
    assert_eq!(
        one(PirRequest::builder(IRD).dob("1990-02-29").build()),
        ("Dob", "calendar_date")
    );
    assert_eq!(
        broken(&PirRequest::builder(IRD).dob("1992-02-29").build()),
        vec![]
    );
}

#[test]
fn formatted_address_max_255() {
    assert_eq!(
        one(PirRequest::builder(IRD)
            .formatted_address("a".repeat(256))
            .build()),
        ("FormattedAddress", "max_length")
    );
}

#[test]
fn address_required_members() {
    let req = PirRequest::from_json(br#"{"IRD":"049091850","Address":{}}"#).expect("json");
    assert_eq!(
        broken(&req),
        vec![
            ("Address.Street", "required"),
            ("Address.City", "required"),
            ("Address.Country", "required")
        ]
    );
}

#[test]
fn address_lengths() {
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("s".repeat(61), "City", "NZ"))
            .build()),
        ("Address.Street", "max_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("", "City", "NZ"))
            .build()),
        ("Address.Street", "min_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "c".repeat(51), "NZ"))
            .build()),
        ("Address.City", "max_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "", "NZ"))
            .build()),
        ("Address.City", "min_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "C", "NZ").with_post_code("12345678901"))
            .build()),
        ("Address.PostCode", "max_length")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "C", "NZ").with_state("s".repeat(31)))
            .build()),
        ("Address.State", "max_length")
    );
}

#[test]
fn address_country_iso_3166() {
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "C", "AB"))
            .build()),
        ("Address.Country", "country_code")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "C", "nz"))
            .build()),
        ("Address.Country", "country_code")
    );
    assert_eq!(
        one(PirRequest::builder(IRD)
            .address(Address::new("St", "C", "NZL"))
            .build()),
        ("Address.Country", "country_code")
    );
    assert_eq!(
        broken(
            &PirRequest::builder(IRD)
                .address(Address::new("St", "C", "AU"))
                .build()
        ),
        vec![]
    );
}

#[test]
fn all_violations_at_once_in_one_error() {
    let req = PirRequest::builder("123")
        .pie_ird("012345678")
        .filing_period("2023-01-31")
        .dob("yesterday")
        .address(Address::new("St", "C", "AB"))
        .build();
    let err = req
        .validate_with(&FixedClock::nz_noon(today()))
        .expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["IRD", "PieIRD", "FilingPeriod", "Dob", "Address.Country"]
    );
    // The message names field and rule, never the values.
    let text = err.to_string();
    assert_eq!(
        text,
        "invalid input: IRD must be 8 or 9 digits (and 4 more)"
    );
    assert_eq!(
        err.field_errors()[4].to_string(),
        "Address.Country must be an ISO 3166-1 alpha-2 country code"
    );
    assert_eq!(err.field_errors()[2].rule, Rule::FilingPeriodMarch31);
    assert_eq!(
        err.field_errors()[2].message(),
        "must be 31 March of a tax year"
    );
}

#[test]
fn personal_data_never_in_messages_or_debug() {
    let req = PirRequest::builder("136410133")
        .formatted_name("Allen, Gary")
        .name(Name::new("Gary", "Allen"))
        .dob("1990-02-30")
        .address(Address::new("123 HA CRESCENT", "AUCKLAND", "AB"))
        .build();
    let err = req
        .validate_with(&FixedClock::nz_noon(today()))
        .expect_err("invalid");
    let shown = format!("{err} {err:?} {req:?}");
    for secret in [
        "136410133",
        "Gary",
        "Allen",
        "1990",
        "HA CRESCENT",
        "AUCKLAND",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[test]
fn unknown_request_fields_are_refused() {
    let err = PirRequest::from_json(br#"{"IRD":"049091850","Irdd":"1"}"#).expect_err("typo");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Irdd"), "{err}");
}

#[test]
fn json_errors_do_not_quote_the_request() {
    // Found by fuzzing: serde words a value of the wrong type as
    // `string "..."`, and the message went out with the investor's name.
    for body in [
        r#"{"IRD":"049091850","Name":"Janeaux Investorson"}"#,
        r#"{"IRD":"049091850","Address":"1 Rua Street, Auckland"}"#,
        r#"{"IRD":"049091850","Dob":"1980-02-29","Name":["Janeaux"]}"#,
        r#"{"IRD":["049091850"]}"#,
    ] {
        let err = PirRequest::from_json(body.as_bytes()).expect_err(body);
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let shown = format!("{err} {err:?}");
        for personal in [
            "Janeaux",
            "Investorson",
            "Rua Street",
            "049091850",
            "1980-02-29",
        ] {
            assert!(!shown.contains(personal), "{personal} leaked: {shown}");
        }
        assert!(shown.contains("line 1"), "the position stays: {shown}");
    }
}

#[test]
fn ird_as_number_is_refused() {
    let err = PirRequest::from_json(br#"{"IRD":1234567890123}"#).expect_err("number");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!err.to_string().contains("1234567890123"), "{err}");
}

#[test]
fn a_name_or_address_given_in_part_is_held_and_reported() {
    let req = PirRequest::builder(IRD)
        .pie_ird(PIE)
        .name(Name::empty().with_first_name("Gary"))
        .address(
            Address::empty()
                .with_street("1 Queen St")
                .with_country("NZ"),
        )
        .build();
    assert_eq!(
        broken(&req),
        [("Name.LastName", "required"), ("Address.City", "required")]
    );
    let req = PirRequest::builder(IRD)
        .pie_ird(PIE)
        .name(Name::empty())
        .address(Address::empty())
        .build();
    assert_eq!(
        broken(&req),
        [
            ("Name.FirstName", "required"),
            ("Name.LastName", "required"),
            ("Address.Street", "required"),
            ("Address.City", "required"),
            ("Address.Country", "required")
        ]
    );
}

#[test]
fn a_filing_period_may_be_a_year_or_a_date_in_every_form() {
    let period = |req: PirRequest| req.filing_period().map(str::to_owned);
    let want = Some("2026-03-31".to_owned());
    assert_eq!(
        period(PirRequest::builder(IRD).filing_period(2026).build()),
        want
    );
    assert_eq!(
        period(PirRequest::builder(IRD).filing_period(2026_i64).build()),
        want
    );
    assert_eq!(
        period(PirRequest::builder(IRD).filing_period("2026").build()),
        want
    );
    assert_eq!(
        period(PirRequest::builder(IRD).filing_period(" 2026 ").build()),
        want
    );
    assert_eq!(
        period(PirRequest::builder(IRD).filing_period("2026-03-31").build()),
        want
    );
    assert_eq!(
        period(
            PirRequest::builder(IRD)
                .filing_period(date!(2026 - 03 - 31))
                .build()
        ),
        want
    );
    assert_eq!(
        period(
            PirRequest::builder(IRD)
                .filing_period(FilingPeriod::ending(2026))
                .build()
        ),
        want
    );
    // The JSON form (the C ABI's) reads a year as a number or as text.
    for json in [
        r#"{"IRD":"049091850","FilingPeriod":2026}"#,
        r#"{"IRD":"049091850","FilingPeriod":"2026"}"#,
        r#"{"IRD":"049091850","FilingPeriod":"2026-03-31"}"#,
    ] {
        assert_eq!(
            period(PirRequest::from_json(json.as_bytes()).expect(json)),
            want,
            "{json}"
        );
    }
    // A year that makes no period, and a date that is not 31 March, are
    // reported by validation, as every other broken rule.
    for (p, rule) in [
        (nzpir::PeriodText::year(26), "year_range"),
        (nzpir::PeriodText::year(-2026), "year_range"),
        (nzpir::PeriodText::year(20260), "year_range"),
        (
            nzpir::PeriodText::text("2026-04-01"),
            "filing_period_march_31",
        ),
        (nzpir::PeriodText::text("31/03/2026"), "date_format"),
    ] {
        let req = PirRequest::builder(IRD)
            .pie_ird(PIE)
            .filing_period(p.clone())
            .build();
        assert_eq!(one(req), ("FilingPeriod", rule), "{p:?}");
    }
    let req = PirRequest::from_json(br#"{"IRD":"049091850","FilingPeriod":99999}"#).expect("json");
    assert_eq!(broken(&req), [("FilingPeriod", "year_range")]);
    // A JSON array is not a request, however short.
    PirRequest::from_json(br#"["049091850"]"#).expect_err("an array");
    let e = PirRequest::from_json(br#"{"IRD":"049091850","FilingPeriod":true}"#).expect_err("bool");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("a year or a yyyy-MM-dd date"), "{e}");
}

#[test]
fn native_dates_become_the_same_text_on_every_surface() {
    use nzpir::DateText;
    assert_eq!(DateText::from_ymd(1990, 1, 2).as_str(), "1990-01-02");
    assert_eq!(DateText::from_ymd(2026, 2, 30).as_str(), "2026-02-30");
    assert_eq!(
        DateText::from_unix_day(0).expect("day").as_str(),
        "1970-01-01"
    );
    assert_eq!(
        DateText::from_unix_day(7_306).expect("day").as_str(),
        "1990-01-02"
    );
    assert_eq!(
        DateText::from_unix_day(11_016).expect("day").as_str(),
        "2000-02-29"
    );
    assert_eq!(
        DateText::from_unix_day(20_543).expect("day").as_str(),
        "2026-03-31"
    );
    assert!(DateText::from_unix_day(-2_440_588).is_none());
    assert!(DateText::from_unix_day(i64::MAX).is_none());
    let req = PirRequest::builder(IRD)
        .pie_ird(PIE)
        .dob(DateText::from_ymd(2026, 2, 30))
        .build();
    assert_eq!(one(req), ("Dob", "calendar_date"));
}

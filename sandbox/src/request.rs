//! Reading a PIR request body the way IR's gateway does: EV1000 for no content,
//! one EV1100 per invalid field (naming it), PER100 for a filing period that is
//! well formed but not a valid period.
//!
//! The field rules are the core crate's ([`PirRequest::violations`]); this module
//! adds what only a server sees: JSON of the wrong shape, values of the wrong
//! type, and IR's exact 9-character form of IRD numbers. Unknown members are
//! ignored, as the OpenAPI schema allows them.

use nzpir::validate::Rule;
use nzpir::{IrCode, IrErrorItem, IrdNumber, PirRequest};
use serde_json::{Map, Value};
use time::Date;

/// How IRD numbers are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IrdCheck {
    /// 9 digits and modulus 11 (production).
    Full,
    /// 9 digits only (IR's mock answers its own examples that fail modulus 11).
    FormatOnly,
}

/// IR's order of fields in an error list.
const FIELD_ORDER: [&str; 17] = [
    "IRD",
    "PieIRD",
    "FilingPeriod",
    "FormattedName",
    "Name",
    "FirstName",
    "MiddleName",
    "LastName",
    "Dob",
    "DOB",
    "FormattedAddress",
    "Address",
    "Street",
    "City",
    "PostCode",
    "State",
    "Country",
];

fn order(field: &str) -> usize {
    FIELD_ORDER
        .iter()
        .position(|f| *f == field)
        .unwrap_or(FIELD_ORDER.len())
}

/// A request body, parsed once.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Nothing but white space.
    Blank,
    /// Not JSON, or JSON that is not an object.
    NotAnObject,
    /// A JSON object.
    Object(Map<String, Value>),
}

impl Parsed {
    /// The `IRD` member, when it is a string (for the per-IRD counters).
    pub fn ird(&self) -> Option<&str> {
        match self {
            Parsed::Object(map) => map.get("IRD").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// Parses a body (a UTF-8 byte order mark and surrounding white space are allowed).
pub(crate) fn parse(body: &[u8]) -> Parsed {
    let body = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii();
    if body.is_empty() {
        return Parsed::Blank;
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Parsed::Object(map),
        _ => Parsed::NotAnObject,
    }
}

#[derive(Debug, Default)]
struct Errors {
    fields: Vec<&'static str>,
}

impl Errors {
    fn add(&mut self, field: &'static str) {
        if !self.fields.contains(&field) {
            self.fields.push(field);
        }
    }
}

/// Copies an optional string member into `clean`; a value of another type is
/// an error for `field`.
fn copy_str(
    from: &Map<String, Value>,
    key: &str,
    field: &'static str,
    clean: &mut Map<String, Value>,
    clean_key: &str,
    errors: &mut Errors,
) {
    match from.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            clean.insert(clean_key.to_owned(), Value::String(s.clone()));
        }
        Some(_) => errors.add(field),
    }
}

fn copy_object(
    from: &Map<String, Value>,
    key: &'static str,
    members: &[&'static str],
    clean: &mut Map<String, Value>,
    errors: &mut Errors,
) {
    match from.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(obj)) => {
            let mut inner = Map::new();
            for m in members {
                copy_str(obj, m, m, &mut inner, m, errors);
            }
            clean.insert(key.to_owned(), Value::Object(inner));
        }
        Some(_) => errors.add(key),
    }
}

/// Checks an IRD number in IR's wire form.
fn ird_ok(s: &str, check: IrdCheck) -> bool {
    s.len() == 9
        && s.bytes().all(|b| b.is_ascii_digit())
        && (check == IrdCheck::FormatOnly || IrdNumber::parse(s).is_ok())
}

fn leaf(field: &'static str) -> &'static str {
    field.rsplit('.').next().unwrap_or(field)
}

fn invalid(errors: Errors) -> Vec<IrErrorItem> {
    let mut fields = errors.fields;
    fields.sort_by_key(|f| order(f));
    fields.into_iter().map(IrErrorItem::invalid_field).collect()
}

/// Checks a request. `today` is New Zealand's date (for filing periods).
pub(crate) fn check(
    parsed: Parsed,
    today: Date,
    ird_check: IrdCheck,
) -> Result<PirRequest, Vec<IrErrorItem>> {
    let map = match parsed {
        Parsed::Blank => return Err(vec![IrErrorItem::new(IrCode::EV1000)]),
        Parsed::NotAnObject => return Err(vec![IrErrorItem::new(IrCode::EV1100)]),
        Parsed::Object(map) => map,
    };

    let mut errors = Errors::default();
    let mut clean = Map::new();
    match map.get("IRD") {
        Some(Value::String(s)) if ird_ok(s, ird_check) => {
            clean.insert("IRD".to_owned(), Value::String(s.clone()));
        }
        _ => errors.add("IRD"),
    }
    match map.get("PieIRD") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if ird_ok(s, ird_check) => {
            clean.insert("PieIRD".to_owned(), Value::String(s.clone()));
        }
        Some(_) => errors.add("PieIRD"),
    }
    copy_str(
        &map,
        "FilingPeriod",
        "FilingPeriod",
        &mut clean,
        "FilingPeriod",
        &mut errors,
    );
    copy_str(
        &map,
        "FormattedName",
        "FormattedName",
        &mut clean,
        "FormattedName",
        &mut errors,
    );
    copy_object(
        &map,
        "Name",
        &["FirstName", "MiddleName", "LastName"],
        &mut clean,
        &mut errors,
    );
    // IR's samples spell it DOB; the schema says Dob. Errors name what was sent.
    let dob_field = if map.contains_key("Dob") {
        "Dob"
    } else {
        "DOB"
    };
    copy_str(&map, dob_field, dob_field, &mut clean, "Dob", &mut errors);
    copy_str(
        &map,
        "FormattedAddress",
        "FormattedAddress",
        &mut clean,
        "FormattedAddress",
        &mut errors,
    );
    copy_object(
        &map,
        "Address",
        &["Street", "City", "PostCode", "State", "Country"],
        &mut clean,
        &mut errors,
    );

    if !clean.contains_key("IRD") {
        // Let the model hold something so the other fields are still checked.
        clean.insert("IRD".to_owned(), Value::String("000000000".to_owned()));
    }
    let Ok(req) = serde_json::from_value::<PirRequest>(Value::Object(clean)) else {
        return Err(vec![IrErrorItem::new(IrCode::EV1100)]);
    };

    let mut per100 = false;
    for v in req.violations(today) {
        match (v.field, v.rule) {
            // IRD numbers were checked above, in IR's stricter wire form.
            ("IRD" | "PieIRD", _) => {}
            (
                "FilingPeriod",
                Rule::FilingPeriodMarch31 | Rule::FilingPeriodFuture | Rule::FilingPeriodTooOld,
            ) => per100 = true,
            ("Dob", _) => errors.add(dob_field),
            (field, _) => errors.add(leaf(field)),
        }
    }
    if !errors.fields.is_empty() {
        return Err(invalid(errors));
    }
    if per100 {
        return Err(vec![IrErrorItem::new(IrCode::PER100)]);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn fields(body: &str) -> Vec<String> {
        match check(parse(body.as_bytes()), TODAY, IrdCheck::Full) {
            Ok(_) => Vec::new(),
            Err(items) => items
                .iter()
                .map(|i| i.field().unwrap_or(i.code.as_str()).to_owned())
                .collect(),
        }
    }

    #[test]
    fn empty_and_malformed() {
        assert_eq!(fields(""), ["EV1000"]);
        assert_eq!(fields(" \r\n\t"), ["EV1000"]);
        assert_eq!(fields("{"), ["EV1100"]);
        assert_eq!(fields("[]"), ["EV1100"]);
        assert_eq!(fields("null"), ["EV1100"]);
        assert_eq!(fields("{}"), ["IRD"]);
        assert_eq!(fields("\u{feff}{}"), ["IRD"]);
        assert_eq!(parse(b"\xff\xfe").ird(), None);
        assert_eq!(fields(r#"{"IRD":1234567890123}"#), ["IRD"]);
        assert_eq!(fields(r#"{"IRD":139276507}"#), ["IRD"]);
    }

    #[test]
    fn one_error_per_field_in_order() {
        assert_eq!(
            fields(
                r#"{"Address":{"Street":"1 A St","City":"X","Country":"AB"},"IRD":"49091850","FilingPeriod":"31/03/2024","FormattedName":5}"#
            ),
            ["IRD", "FilingPeriod", "FormattedName", "Country"]
        );
        assert_eq!(
            fields(r#"{"IRD":"139276507","Name":{"LastName":"X"},"DOB":"1990-02-30"}"#),
            ["FirstName", "DOB"]
        );
        assert_eq!(fields(r#"{"IRD":"139276507","Name":"x"}"#), ["Name"]);
    }

    #[test]
    fn filing_periods() {
        assert_eq!(
            fields(r#"{"IRD":"139276507","FilingPeriod":"2023-01-31"}"#),
            ["PER100"]
        );
        assert_eq!(
            fields(r#"{"IRD":"139276507","FilingPeriod":"2099-03-31"}"#),
            ["PER100"]
        );
        assert_eq!(
            fields(r#"{"IRD":"139276507","FilingPeriod":"2015-03-31"}"#),
            ["PER100"]
        );
        assert_eq!(
            fields(r#"{"IRD":"139276507","FilingPeriod":"2024-03-31"}"#),
            Vec::<String>::new()
        );
        // A malformed field elsewhere wins over PER100.
        assert_eq!(
            fields(r#"{"IRD":"139276507","FilingPeriod":"2015-03-31","PieIRD":"1"}"#),
            ["PieIRD"]
        );
    }

    #[test]
    fn mock_skips_modulus_11() {
        let body = br#"{"IRD":"123456789","PieIRD":"012345678","DOB":"2011-04-02"}"#;
        let req =
            check(parse(body), TODAY, IrdCheck::FormatOnly).expect("mock accepts IR's examples");
        assert_eq!(req.dob(), Some("2011-04-02"));
        assert!(check(parse(body), TODAY, IrdCheck::Full).is_err());
    }
}

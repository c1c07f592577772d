//! The PIR request and response, exactly as IR's OpenAPI file
//! (`pir-calculator-20230308.yaml`) names them.
//!
//! A request holds text as given, so that validation can report every broken
//! rule at once (and so IR's own mock examples, which fail modulus 11, can still
//! be sent when local validation is switched off). IRD numbers entered in a
//! human form are normalised to the 9-digit wire form when they are valid.
//!
//! `Debug` of every type here redacts personal data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::{Error, ErrorKind};
use crate::ird::IrdNumber;
use crate::validate::{self, Clock, FieldError, SystemClock};

fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Text for a date field: a [`time::Date`] or a `yyyy-MM-dd` string.
#[derive(Clone, PartialEq, Eq)]
pub struct DateText(String);

impl fmt::Debug for DateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateText(<redacted>)")
    }
}

impl DateText {
    /// A host's native date given as year, month (1-12) and day: its
    /// `yyyy-MM-dd` text (a date that does not exist is kept in that form,
    /// for validation to report).
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Self {
        match time::Month::try_from(month)
            .ok()
            .and_then(|m| Date::from_calendar_date(year, m, day).ok())
        {
            Some(d) => DateText(date_text(d)),
            None => DateText(format!("{year:04}-{month:02}-{day:02}")),
        }
    }

    /// The date `days` days after 1 January 1970 (a JavaScript `Date`'s
    /// calendar day), or `None` outside years 1-9999.
    pub fn from_unix_day(days: i64) -> Option<Self> {
        const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
        let julian = i32::try_from(UNIX_EPOCH_JULIAN_DAY.checked_add(days)?).ok()?;
        let d = Date::from_julian_day(julian).ok()?;
        (1..=9999)
            .contains(&d.year())
            .then(|| DateText(date_text(d)))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Date> for DateText {
    fn from(d: Date) -> Self {
        DateText(date_text(d))
    }
}
impl From<&str> for DateText {
    fn from(s: &str) -> Self {
        DateText(s.to_owned())
    }
}
impl From<String> for DateText {
    fn from(s: String) -> Self {
        DateText(s)
    }
}
impl From<&String> for DateText {
    fn from(s: &String) -> Self {
        DateText(s.clone())
    }
}

/// A filing period: 31 March of the year a tax year ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilingPeriod(i32);

impl FilingPeriod {
    /// The period ending 31 March `year`.
    pub const fn ending(year: i32) -> Self {
        FilingPeriod(year)
    }

    /// The year the period ends.
    pub const fn year(self) -> i32 {
        self.0
    }

    /// The current period on `clock` (New Zealand time).
    pub fn current(clock: &dyn Clock) -> Self {
        FilingPeriod(validate::current_period_year(clock.today_nz()))
    }
}

impl From<FilingPeriod> for DateText {
    fn from(p: FilingPeriod) -> Self {
        DateText(format!("{:04}-03-31", p.0))
    }
}

/// A filing period as a caller may give it, read by one rule on every
/// surface: a year is the period ending 31 March that year (`2026`, or the
/// text `"2026"`, is `2026-03-31`); a date ([`time::Date`], a host's native
/// date, a `yyyy-MM-dd` string) is kept as it is. Anything else is kept as
/// given, for validation to report (a year outside 1000-9999 as
/// `year_range`).
#[derive(Clone, PartialEq, Eq)]
pub struct PeriodText(String);

impl PeriodText {
    /// The period ending 31 March `year`.
    pub fn year(year: i64) -> Self {
        if (1000..=9999).contains(&year) {
            PeriodText(format!("{year:04}-03-31"))
        } else {
            PeriodText(year.to_string())
        }
    }

    /// Text: four digits are a year, anything else a date to check.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        let t = text.trim();
        if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
            PeriodText(format!("{t}-03-31"))
        } else {
            PeriodText(text)
        }
    }

    /// The text the request holds.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PeriodText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeriodText({:?})", self.0)
    }
}

impl From<FilingPeriod> for PeriodText {
    fn from(p: FilingPeriod) -> Self {
        PeriodText::year(i64::from(p.0))
    }
}
impl From<Date> for PeriodText {
    fn from(d: Date) -> Self {
        PeriodText(date_text(d))
    }
}
impl From<DateText> for PeriodText {
    fn from(d: DateText) -> Self {
        PeriodText(d.0)
    }
}
impl From<&str> for PeriodText {
    fn from(s: &str) -> Self {
        PeriodText::text(s)
    }
}
impl From<String> for PeriodText {
    fn from(s: String) -> Self {
        PeriodText::text(s)
    }
}
impl From<&String> for PeriodText {
    fn from(s: &String) -> Self {
        PeriodText::text(s.as_str())
    }
}
impl From<i32> for PeriodText {
    fn from(year: i32) -> Self {
        PeriodText::year(i64::from(year))
    }
}
impl From<i64> for PeriodText {
    fn from(year: i64) -> Self {
        PeriodText::year(year)
    }
}
impl From<u16> for PeriodText {
    fn from(year: u16) -> Self {
        PeriodText::year(i64::from(year))
    }
}
impl From<u32> for PeriodText {
    fn from(year: u32) -> Self {
        PeriodText::year(i64::from(year))
    }
}

fn redact<T>(o: &Option<T>) -> &'static str {
    if o.is_some() { "<redacted>" } else { "None" }
}

/// The investor's name (`Name`), for IR's soft matching.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
}

impl Name {
    /// A name with its two required members.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Name {
            first_name: Some(first_name.into()),
            middle_name: None,
            last_name: Some(last_name.into()),
        }
    }

    /// A name with no member yet (set them with the `with_` methods): a
    /// name given only in part is still sent to validation, which names
    /// every missing member.
    pub fn empty() -> Self {
        Name::default()
    }

    /// Sets the first name.
    #[must_use]
    pub fn with_first_name(mut self, first: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self
    }

    /// Sets the middle name.
    #[must_use]
    pub fn with_middle_name(mut self, middle: impl Into<String>) -> Self {
        self.middle_name = Some(middle.into());
        self
    }

    /// Sets the last name.
    #[must_use]
    pub fn with_last_name(mut self, last: impl Into<String>) -> Self {
        self.last_name = Some(last.into());
        self
    }

    /// `FirstName`.
    pub fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }
    /// `MiddleName`.
    pub fn middle_name(&self) -> Option<&str> {
        self.middle_name.as_deref()
    }
    /// `LastName`.
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Name")
            .field("first_name", &redact(&self.first_name))
            .field("middle_name", &redact(&self.middle_name))
            .field("last_name", &redact(&self.last_name))
            .finish()
    }
}

/// The investor's address (`Address`), for IR's soft matching.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
}

impl Address {
    /// An address with its three required members; `country` is ISO 3166-1 alpha-2.
    pub fn new(
        street: impl Into<String>,
        city: impl Into<String>,
        country: impl Into<String>,
    ) -> Self {
        Address {
            street: Some(street.into()),
            city: Some(city.into()),
            post_code: None,
            state: None,
            country: Some(country.into()),
        }
    }

    /// An address with no member yet (set them with the `with_` methods):
    /// an address given only in part is still sent to validation, which
    /// names every missing member.
    pub fn empty() -> Self {
        Address::default()
    }

    /// Sets the street.
    #[must_use]
    pub fn with_street(mut self, street: impl Into<String>) -> Self {
        self.street = Some(street.into());
        self
    }

    /// Sets the city.
    #[must_use]
    pub fn with_city(mut self, city: impl Into<String>) -> Self {
        self.city = Some(city.into());
        self
    }

    /// Sets the country (ISO 3166-1 alpha-2).
    #[must_use]
    pub fn with_country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Sets the post code.
    #[must_use]
    pub fn with_post_code(mut self, post_code: impl Into<String>) -> Self {
        self.post_code = Some(post_code.into());
        self
    }

    /// Sets the state.
    #[must_use]
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// `Street`.
    pub fn street(&self) -> Option<&str> {
        self.street.as_deref()
    }
    /// `City`.
    pub fn city(&self) -> Option<&str> {
        self.city.as_deref()
    }
    /// `PostCode`.
    pub fn post_code(&self) -> Option<&str> {
        self.post_code.as_deref()
    }
    /// `State`.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }
    /// `Country`.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("street", &redact(&self.street))
            .field("city", &redact(&self.city))
            .field("post_code", &redact(&self.post_code))
            .field("state", &redact(&self.state))
            .field("country", &self.country)
            .finish()
    }
}

/// A request for an investor's suggested PIR (`pir_POST_Request`).
///
/// Serialises exactly as IR names the fields (it sends `Dob`; it reads `Dob` or
/// IR's sample spelling `DOB`). Build it with [`PirRequest::builder`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PirRequest {
    #[serde(rename = "IRD")]
    ird: String,
    #[serde(rename = "PieIRD", skip_serializing_if = "Option::is_none")]
    pie_ird: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filing_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    formatted_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Name>,
    #[serde(alias = "DOB", skip_serializing_if = "Option::is_none")]
    dob: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    formatted_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<Address>,
}

/// IR's request as a caller writes it: [`PirRequest`]'s fields, with a
/// filing period that may also be a year.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RequestInput {
    #[serde(rename = "IRD")]
    ird: String,
    #[serde(rename = "PieIRD")]
    pie_ird: Option<String>,
    filing_period: Option<PeriodText>,
    formatted_name: Option<String>,
    name: Option<Name>,
    #[serde(alias = "DOB")]
    dob: Option<String>,
    formatted_address: Option<String>,
    address: Option<Address>,
}

impl<'de> Deserialize<'de> for PeriodText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PeriodText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a year or a yyyy-MM-dd date")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PeriodText, E> {
                Ok(PeriodText::year(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PeriodText, E> {
                Ok(PeriodText::year(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PeriodText, E> {
                Ok(PeriodText::text(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Whether two IRD numbers as text are the same number: 8 and 9 digit forms of
/// one number are (`49091850`, `049091850`); anything else must match exactly.
fn same_number(sent: &str, got: &str) -> bool {
    fn nine(s: &str) -> Option<[u8; 9]> {
        let b = s.as_bytes();
        if !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut out = [b'0'; 9];
        match b.len() {
            9 => out.copy_from_slice(b),
            8 => out[1..].copy_from_slice(b),
            _ => return None,
        }
        Some(out)
    }
    match (nine(sent), nine(got)) {
        (Some(a), Some(b)) => a == b,
        _ => sent == got,
    }
}

/// A valid lenient IRD number becomes its 9-digit wire form; anything else is
/// kept as given, for validation to report.
fn normalise_ird(s: String) -> String {
    match IrdNumber::parse_lenient(&s) {
        Ok(n) => n.to_string(),
        Err(_) => s,
    }
}

impl PirRequest {
    /// Starts a request for the investor with IRD number `ird` (8 or 9 digits;
    /// `49-091-850` style is accepted and normalised).
    pub fn builder(ird: impl Into<String>) -> PirRequestBuilder {
        PirRequestBuilder {
            req: PirRequest {
                ird: normalise_ird(ird.into()),
                pie_ird: None,
                filing_period: None,
                formatted_name: None,
                name: None,
                dob: None,
                formatted_address: None,
                address: None,
            },
        }
    }

    /// Parses IR's JSON request form, as a caller writes it (what the C ABI
    /// takes). IRD numbers in a human form are normalised, and
    /// `FilingPeriod` may be a year (`2026` or `"2026"`) as well as a date
    /// (see [`PeriodText`]).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let input: RequestInput = serde_json::from_slice(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "request JSON: {}",
                    crate::error::parse_error_text(&e.to_string())
                ),
            )
        })?;
        Ok(PirRequest {
            ird: normalise_ird(input.ird),
            pie_ird: input.pie_ird.map(normalise_ird),
            filing_period: input.filing_period.map(|p| p.0),
            formatted_name: input.formatted_name,
            name: input.name,
            dob: input.dob,
            formatted_address: input.formatted_address,
            address: input.address,
        })
    }

    /// The request as IR's JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings and options into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `IRD`.
    pub fn ird(&self) -> &str {
        &self.ird
    }
    /// `PieIRD`.
    pub fn pie_ird(&self) -> Option<&str> {
        self.pie_ird.as_deref()
    }
    /// `FilingPeriod`.
    pub fn filing_period(&self) -> Option<&str> {
        self.filing_period.as_deref()
    }
    /// `FormattedName`.
    pub fn formatted_name(&self) -> Option<&str> {
        self.formatted_name.as_deref()
    }
    /// `Name`.
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    /// `Dob`.
    pub fn dob(&self) -> Option<&str> {
        self.dob.as_deref()
    }
    /// `FormattedAddress`.
    pub fn formatted_address(&self) -> Option<&str> {
        self.formatted_address.as_deref()
    }
    /// `Address`.
    pub fn address(&self) -> Option<&Address> {
        self.address.as_ref()
    }

    /// Every rule the request breaks today (New Zealand time), at once.
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_with(&SystemClock)
    }

    /// Every rule the request breaks, with "today" taken from `clock`.
    pub fn validate_with(&self, clock: &dyn Clock) -> Result<(), Error> {
        let errors = self.violations(clock.today_nz());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_input(errors))
        }
    }

    /// The broken rules relative to `today` (New Zealand), in field order.
    pub fn violations(&self, today: Date) -> Vec<FieldError> {
        validate::violations(self, today)
    }
}

impl fmt::Debug for PirRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PirRequest")
            .field("ird", &"<redacted>")
            .field("pie_ird", &redact(&self.pie_ird))
            .field("filing_period", &self.filing_period)
            .field("formatted_name", &redact(&self.formatted_name))
            .field("name", &self.name)
            .field("dob", &redact(&self.dob))
            .field("formatted_address", &redact(&self.formatted_address))
            .field("address", &self.address)
            .finish()
    }
}

/// Builds a [`PirRequest`], one typed setter per field.
#[derive(Debug, Clone)]
pub struct PirRequestBuilder {
    req: PirRequest,
}

impl PirRequestBuilder {
    /// `PieIRD`: the PIE or KiwiSaver scheme asking (required unless the caller
    /// is a tax preparer).
    #[must_use]
    pub fn pie_ird(mut self, pie_ird: impl Into<String>) -> Self {
        self.req.pie_ird = Some(normalise_ird(pie_ird.into()));
        self
    }

    /// `FilingPeriod`: a [`FilingPeriod`], a year (`2026`, or `"2026"`), a
    /// [`time::Date`] or a `yyyy-MM-dd` string (see [`PeriodText`]).
    #[must_use]
    pub fn filing_period(mut self, period: impl Into<PeriodText>) -> Self {
        self.req.filing_period = Some(period.into().0);
        self
    }

    /// `FormattedName`: "Last, First Middle".
    #[must_use]
    pub fn formatted_name(mut self, name: impl Into<String>) -> Self {
        self.req.formatted_name = Some(name.into());
        self
    }

    /// `Name`.
    #[must_use]
    pub fn name(mut self, name: Name) -> Self {
        self.req.name = Some(name);
        self
    }

    /// `Dob`: a [`time::Date`] or a `yyyy-MM-dd` string.
    #[must_use]
    pub fn dob(mut self, dob: impl Into<DateText>) -> Self {
        self.req.dob = Some(dob.into().0);
        self
    }

    /// `FormattedAddress`.
    #[must_use]
    pub fn formatted_address(mut self, address: impl Into<String>) -> Self {
        self.req.formatted_address = Some(address.into());
        self
    }

    /// `Address`.
    #[must_use]
    pub fn address(mut self, address: Address) -> Self {
        self.req.address = Some(address);
        self
    }

    /// The request (not yet validated; see [`PirRequest::validate`]).
    pub fn build(self) -> PirRequest {
        self.req
    }
}

/// A suggested PIR, exact: 10.5 stays 10.5 (kept in hundredths of a percent).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PirRate(u32);

impl PirRate {
    /// 10.5 %.
    pub const LOW: PirRate = PirRate(1050);
    /// 17.5 %.
    pub const MIDDLE: PirRate = PirRate(1750);
    /// 28 %.
    pub const TOP: PirRate = PirRate(2800);

    /// A rate from hundredths of a percent (1050 is 10.5 %).
    pub const fn from_hundredths(h: u32) -> Self {
        PirRate(h)
    }

    /// Hundredths of a percent (10.5 % is 1050).
    pub const fn hundredths(self) -> u32 {
        self.0
    }

    /// The rate as a float (for display or arithmetic that tolerates binary floats).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for PirRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => write!(f, "{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{whole}.{}", f10 / 10),
            f100 => write!(f, "{whole}.{f100:02}"),
        }
    }
}

impl fmt::Debug for PirRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PirRate({self})")
    }
}

/// A rate text that is not a percentage with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidRate;

impl fmt::Display for InvalidRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a percentage between 0 and 100 with at most two decimals")
    }
}

impl std::error::Error for InvalidRate {}

impl FromStr for PirRate {
    type Err = InvalidRate;

    /// Parses decimal text (`10.5`, `28`, `28.0`, `17.50`) exactly.
    fn from_str(s: &str) -> Result<Self, InvalidRate> {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || !all_digits(whole) || !all_digits(frac) {
            return Err(InvalidRate);
        }
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > 2 || (s.contains('.') && frac.is_empty()) {
            return Err(InvalidRate);
        }
        let whole: u32 = whole.parse().map_err(|_| InvalidRate)?;
        let mut hundredths = 0u32;
        for (i, b) in frac_trimmed.bytes().enumerate() {
            hundredths += u32::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let total = whole * 100 + hundredths;
        if total > 100 * 100 {
            return Err(InvalidRate);
        }
        Ok(PirRate(total))
    }
}

impl Serialize for PirRate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(100) {
            s.serialize_u32(self.0 / 100)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for PirRate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // serde_json prints a number back in its shortest round-trip form, so a
        // rate IR sends as 10.5 comes back as the text "10.5" and parses exactly.
        let n = serde_json::Number::deserialize(d)?;
        n.to_string().parse().map_err(serde::de::Error::custom)
    }
}

/// IR's 200 answer (`pir_POST_Response200`), as sent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PirResponse {
    /// `IRD`.
    #[serde(rename = "IRD")]
    pub ird: String,
    /// `PieIRD`, only when it was sent.
    #[serde(rename = "PieIRD", default, skip_serializing_if = "Option::is_none")]
    pub pie_ird: Option<String>,
    /// `SuggestedPirRate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_pir_rate: Option<PirRate>,
    /// `PirRateNotFound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pir_rate_not_found: Option<bool>,
}

impl fmt::Debug for PirResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PirResponse")
            .field("ird", &"<redacted>")
            .field("pie_ird", &redact(&self.pie_ird))
            .field("suggested_pir_rate", &self.suggested_pir_rate)
            .field("pir_rate_not_found", &self.pir_rate_not_found)
            .finish()
    }
}

impl PirResponse {
    /// Parses IR's 200 body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::Server,
                format!(
                    "the gateway's answer is not a PIR response: {}",
                    crate::error::parse_error_text(&e.to_string())
                ),
            )
        })
    }

    /// Checks that this answer is about the investor (and PIE) the request
    /// asked about: `IRD` is the requested IRD number in its 9-digit form, and
    /// `PieIRD`, when the answer has one, is the one sent. An answer about
    /// anyone else is a [`ErrorKind::Server`] error that names neither number,
    /// never a rate to use.
    pub fn check_answers(&self, request: &PirRequest) -> Result<(), Error> {
        let same_pie = match (&self.pie_ird, &request.pie_ird) {
            (None, _) => true,
            (Some(got), Some(sent)) => same_number(sent, got),
            (Some(_), None) => false,
        };
        if same_number(&request.ird, &self.ird) && same_pie {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Server,
                "IR answered for another investor than the one asked about (its IRD or PieIRD \
                 differs from the request's); the answer was not used",
            ))
        }
    }

    /// The outcome: exactly one of a suggested rate or "not found".
    pub fn into_outcome(self) -> Result<PirOutcome, Error> {
        match (self.suggested_pir_rate, self.pir_rate_not_found) {
            (Some(rate), None | Some(false)) => Ok(PirOutcome::Suggested {
                ird: self.ird,
                pie_ird: self.pie_ird,
                rate,
            }),
            (None, Some(true)) => Ok(PirOutcome::NotFound {
                ird: self.ird,
                pie_ird: self.pie_ird,
            }),
            _ => Err(Error::new(
                ErrorKind::Server,
                "the gateway's answer has neither exactly one SuggestedPirRate nor PirRateNotFound",
            )),
        }
    }
}

/// What a lookup found.
#[derive(Clone, PartialEq, Eq)]
pub enum PirOutcome {
    /// IR suggests this rate. The investor may override it.
    Suggested {
        /// `IRD` as IR echoed it.
        ird: String,
        /// `PieIRD`, when it was sent.
        pie_ird: Option<String>,
        /// The suggested rate.
        rate: PirRate,
    },
    /// IR could not determine a rate for the investor.
    NotFound {
        /// `IRD` as IR echoed it.
        ird: String,
        /// `PieIRD`, when it was sent.
        pie_ird: Option<String>,
    },
}

impl PirOutcome {
    /// The suggested rate, if IR found one.
    pub fn rate(&self) -> Option<PirRate> {
        match self {
            PirOutcome::Suggested { rate, .. } => Some(*rate),
            PirOutcome::NotFound { .. } => None,
        }
    }

    /// The investor's IRD number as IR echoed it.
    pub fn ird(&self) -> &str {
        match self {
            PirOutcome::Suggested { ird, .. } | PirOutcome::NotFound { ird, .. } => ird,
        }
    }

    /// The PIE's IRD number, when it was sent.
    pub fn pie_ird(&self) -> Option<&str> {
        match self {
            PirOutcome::Suggested { pie_ird, .. } | PirOutcome::NotFound { pie_ird, .. } => {
                pie_ird.as_deref()
            }
        }
    }

    /// Whether IR could not determine a rate.
    pub fn is_not_found(&self) -> bool {
        matches!(self, PirOutcome::NotFound { .. })
    }

    /// Back to IR's wire form.
    pub fn to_response(&self) -> PirResponse {
        match self {
            PirOutcome::Suggested { ird, pie_ird, rate } => PirResponse {
                ird: ird.clone(),
                pie_ird: pie_ird.clone(),
                suggested_pir_rate: Some(*rate),
                pir_rate_not_found: None,
            },
            PirOutcome::NotFound { ird, pie_ird } => PirResponse {
                ird: ird.clone(),
                pie_ird: pie_ird.clone(),
                suggested_pir_rate: None,
                pir_rate_not_found: Some(true),
            },
        }
    }
}

impl fmt::Debug for PirOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PirOutcome::Suggested { pie_ird, rate, .. } => f
                .debug_struct("Suggested")
                .field("ird", &"<redacted>")
                .field("pie_ird", &redact(pie_ird))
                .field("rate", rate)
                .finish(),
            PirOutcome::NotFound { pie_ird, .. } => f
                .debug_struct("NotFound")
                .field("ird", &"<redacted>")
                .field("pie_ird", &redact(pie_ird))
                .finish(),
        }
    }
}

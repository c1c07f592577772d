//! Local validation of a [`PirRequest`](crate::PirRequest): every rule of IR's
//! OpenAPI file and build pack, checked before any byte leaves the process.
//!
//! Each violation is a [`FieldError`] naming the field path (`Address.Country`)
//! and the [`Rule`]. The words are the ones every binding shows.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::{Date, Month};

use crate::country::is_iso_3166_alpha2;
use crate::ird::{IrdError, IrdNumber};
use crate::model::PirRequest;

/// How many filing periods back IR answers for: a period 8 or more years back is refused.
pub const MAX_PERIODS_BACK: i32 = 7;

/// A rule a field can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The field must be present.
    Required,
    /// An IRD number rule (digits, length, range, check digit).
    Ird(IrdError),
    /// At least this many characters.
    MinLength(usize),
    /// At most this many characters.
    MaxLength(usize),
    /// A date in `yyyy-MM-dd` form.
    DateFormat,
    /// A date that exists in the calendar.
    CalendarDate,
    /// A filing period is always 31 March.
    FilingPeriodMarch31,
    /// A filing period must not be in the future.
    FilingPeriodFuture,
    /// A filing period must be less than 8 years back.
    FilingPeriodTooOld,
    /// An ISO 3166-1 alpha-2 country code.
    CountryCode,
    /// One of the listed values.
    OneOf(&'static [&'static str]),
    /// An amount in dollars: a decimal string or number with at most 2 decimal places.
    Amount,
    /// Zero or more.
    NotNegative,
    /// A year in the inclusive range.
    YearRange(i32, i32),
    /// A value of the named JSON type (`a boolean`, `a list`, `an object`...).
    Type(&'static str),
    /// Each year at most once.
    DuplicateYear,
    /// Must agree with the named field.
    Conflict(&'static str),
    /// A PIR: 0, 10.5, 17.5 or 28.
    PirRate,
    /// Only the documented keys.
    UnknownKey,
    /// Well-formed JSON.
    Json,
}

impl Rule {
    /// A stable, machine-readable code for the rule.
    pub const fn code(self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::Ird(e) => e.code(),
            Rule::MinLength(_) => "min_length",
            Rule::MaxLength(_) => "max_length",
            Rule::DateFormat => "date_format",
            Rule::CalendarDate => "calendar_date",
            Rule::FilingPeriodMarch31 => "filing_period_march_31",
            Rule::FilingPeriodFuture => "filing_period_future",
            Rule::FilingPeriodTooOld => "filing_period_too_old",
            Rule::CountryCode => "country_code",
            Rule::OneOf(_) => "one_of",
            Rule::Amount => "amount",
            Rule::NotNegative => "not_negative",
            Rule::YearRange(..) => "year_range",
            Rule::Type(_) => "type",
            Rule::DuplicateYear => "duplicate_year",
            Rule::Conflict(_) => "conflict",
            Rule::PirRate => "pir_rate",
            Rule::UnknownKey => "unknown_key",
            Rule::Json => "json",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => f.write_str("is required"),
            Rule::Ird(e) => f.write_str(e.message()),
            Rule::MinLength(1) => f.write_str("must not be empty"),
            Rule::MinLength(n) => write!(f, "must be at least {n} characters"),
            Rule::MaxLength(n) => write!(f, "must be at most {n} characters"),
            Rule::DateFormat => f.write_str("must be a date in yyyy-MM-dd form"),
            Rule::CalendarDate => f.write_str("must be a real calendar date"),
            Rule::FilingPeriodMarch31 => f.write_str("must be 31 March of a tax year"),
            Rule::FilingPeriodFuture => f.write_str("must not be a future period"),
            Rule::FilingPeriodTooOld => f.write_str("must be less than 8 years back"),
            Rule::CountryCode => f.write_str("must be an ISO 3166-1 alpha-2 country code"),
            Rule::OneOf(values) => write!(f, "must be one of {}", values.join(", ")),
            Rule::Amount => f.write_str(
                "must be an amount in dollars (a decimal string or number, at most 2 decimal places)",
            ),
            Rule::NotNegative => f.write_str("must not be negative"),
            Rule::YearRange(lo, hi) => write!(f, "must be a year from {lo} to {hi}"),
            Rule::Type(t) => write!(f, "must be {t}"),
            Rule::DuplicateYear => f.write_str("must not give the same year twice"),
            Rule::Conflict(other) => write!(f, "must agree with {other}"),
            Rule::PirRate => f.write_str("must be 0, 10.5, 17.5 or 28"),
            Rule::UnknownKey => f.write_str("has a key that is not a known fact"),
            Rule::Json => f.write_str("must be a JSON object"),
        }
    }
}

/// One violated rule: the field path in the request's own terms, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    /// The field path, e.g. `IRD`, `Name.FirstName`, `Address.Country`.
    pub field: &'static str,
    /// The rule it breaks.
    pub rule: Rule,
}

impl FieldError {
    /// A new field error.
    pub const fn new(field: &'static str, rule: Rule) -> Self {
        FieldError { field, rule }
    }

    /// The rule in words, without the field (`must be 31 March of a tax year`).
    pub fn message(&self) -> String {
        self.rule.to_string()
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.rule)
    }
}

/// The source of "now" for rules that depend on the date, and for JWT times.
/// Inject a [`FixedClock`] in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;

    /// Today's date in New Zealand.
    ///
    /// A fixed UTC+13 offset is used: the only date that matters here is the
    /// 31 March / 1 April boundary of the tax year, and New Zealand is always on
    /// daylight time (UTC+13) then, since it ends on the first Sunday of April.
    fn today_nz(&self) -> Date {
        const NZDT: i64 = 13 * 3600;
        let days = (self.now_unix() + NZDT).div_euclid(86_400);
        Date::from_julian_day(UNIX_EPOCH_JULIAN_DAY + days as i32).unwrap_or(Date::MIN)
    }
}

const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

/// A clock stopped at one instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl FixedClock {
    /// Noon in New Zealand (UTC+13) on the given date.
    pub fn nz_noon(date: Date) -> Self {
        let days = i64::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY);
        FixedClock(days * 86_400 + 12 * 3600 - 13 * 3600)
    }
}

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

/// Parses a strict `yyyy-MM-dd` date.
pub fn parse_date(s: &str) -> Result<Date, Rule> {
    let b = s.as_bytes();
    let digits_at = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits_at(0..4)
        || !digits_at(5..7)
        || !digits_at(8..10)
    {
        return Err(Rule::DateFormat);
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(Rule::CalendarDate)?;
    if year == 0 {
        return Err(Rule::CalendarDate);
    }
    Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| Rule::CalendarDate)
}

/// The year of the tax period `today` falls in (periods end on 31 March).
pub fn current_period_year(today: Date) -> i32 {
    if today.month() > Month::March {
        today.year() + 1
    } else {
        today.year()
    }
}

/// Checks a filing period against IR's rules, relative to `today` in New Zealand.
pub fn check_filing_period(s: &str, today: Date) -> Result<Date, Rule> {
    let date = parse_date(s)?;
    if date.month() != Month::March || date.day() != 31 {
        return Err(Rule::FilingPeriodMarch31);
    }
    let current = current_period_year(today);
    if date.year() > current {
        return Err(Rule::FilingPeriodFuture);
    }
    if current - date.year() > MAX_PERIODS_BACK {
        return Err(Rule::FilingPeriodTooOld);
    }
    Ok(date)
}

#[derive(Debug)]
struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    fn push(&mut self, field: &'static str, rule: Rule) {
        self.errors.push(FieldError::new(field, rule));
    }

    fn ird(&mut self, field: &'static str, value: &str) {
        if let Err(e) = IrdNumber::parse(value) {
            self.push(field, Rule::Ird(e));
        }
    }

    fn length(&mut self, field: &'static str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min {
            self.push(field, Rule::MinLength(min));
        } else if n > max {
            self.push(field, Rule::MaxLength(max));
        }
    }

    fn required(&mut self, field: &'static str, value: Option<&str>, min: usize, max: usize) {
        match value {
            None => self.push(field, Rule::Required),
            Some(v) => self.length(field, v, min, max),
        }
    }

    fn optional(&mut self, field: &'static str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.length(field, v, 0, max);
        }
    }
}

/// Every rule the request breaks, relative to `today` (New Zealand), in field order.
pub fn violations(req: &PirRequest, today: Date) -> Vec<FieldError> {
    let mut c = Collector { errors: Vec::new() };
    match req.ird() {
        "" => c.push("IRD", Rule::Required),
        ird => c.ird("IRD", ird),
    }
    if let Some(pie) = req.pie_ird() {
        c.ird("PieIRD", pie);
    }
    if let Some(fp) = req.filing_period() {
        let t = fp.trim_start_matches('-');
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            // A year that makes no period (see `PeriodText::year`).
            c.push("FilingPeriod", Rule::YearRange(1000, 9999));
        } else if let Err(rule) = check_filing_period(fp, today) {
            c.push("FilingPeriod", rule);
        }
    }
    c.optional("FormattedName", req.formatted_name(), 255);
    if let Some(name) = req.name() {
        c.required("Name.FirstName", name.first_name(), 1, 50);
        c.optional("Name.MiddleName", name.middle_name(), 50);
        c.required("Name.LastName", name.last_name(), 1, 50);
    }
    if let Some(dob) = req.dob()
        && let Err(rule) = parse_date(dob)
    {
        c.push("Dob", rule);
    }
    c.optional("FormattedAddress", req.formatted_address(), 255);
    if let Some(addr) = req.address() {
        c.required("Address.Street", addr.street(), 1, 60);
        c.required("Address.City", addr.city(), 1, 50);
        c.optional("Address.PostCode", addr.post_code(), 10);
        c.optional("Address.State", addr.state(), 30);
        match addr.country() {
            None => c.push("Address.Country", Rule::Required),
            Some(country) if !is_iso_3166_alpha2(country) => {
                c.push("Address.Country", Rule::CountryCode);
            }
            Some(_) => {}
        }
    }
    c.errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29"), Ok(date!(2024 - 02 - 29)));
        assert_eq!(parse_date("2023-02-29"), Err(Rule::CalendarDate));
        assert_eq!(parse_date("2023-13-01"), Err(Rule::CalendarDate));
        assert_eq!(parse_date("2023-00-10"), Err(Rule::CalendarDate));
        assert_eq!(parse_date("2023-04-31"), Err(Rule::CalendarDate));
        assert_eq!(parse_date("0000-01-01"), Err(Rule::CalendarDate));
        for bad in [
            "2023-3-31",
            "31/03/2023",
            "2023-03-31T00:00",
            "",
            "２０２３-03-31",
            "2023_03_31",
        ] {
            assert_eq!(parse_date(bad), Err(Rule::DateFormat), "{bad}");
        }
    }

    #[test]
    fn nz_date_boundary() {
        // 2024-03-31 11:30 UTC is 2024-04-01 00:30 in New Zealand (NZDT).
        let t = FixedClock(1_711_884_600);
        assert_eq!(t.today_nz(), date!(2024 - 04 - 01));
        assert_eq!(current_period_year(t.today_nz()), 2025);
        let before = FixedClock(1_711_884_600 - 3600);
        assert_eq!(before.today_nz(), date!(2024 - 03 - 31));
        assert_eq!(current_period_year(before.today_nz()), 2024);
        assert_eq!(
            FixedClock::nz_noon(date!(2026 - 11 - 24)).today_nz(),
            date!(2026 - 11 - 24)
        );
    }

    #[test]
    fn filing_period_window() {
        let today = date!(2026 - 11 - 24); // current period ends 2027-03-31
        assert!(check_filing_period("2027-03-31", today).is_ok());
        assert!(check_filing_period("2020-03-31", today).is_ok());
        assert_eq!(
            check_filing_period("2019-03-31", today),
            Err(Rule::FilingPeriodTooOld)
        );
        assert_eq!(
            check_filing_period("2028-03-31", today),
            Err(Rule::FilingPeriodFuture)
        );
        assert_eq!(
            check_filing_period("2023-03-30", today),
            Err(Rule::FilingPeriodMarch31)
        );
        assert_eq!(
            check_filing_period("2023-01-31", today),
            Err(Rule::FilingPeriodMarch31)
        );
        assert_eq!(
            check_filing_period("2023-3-31", today),
            Err(Rule::DateFormat)
        );
        // On 31 March the period ending that day is current.
        let last_day = date!(2024 - 03 - 31);
        assert!(check_filing_period("2024-03-31", last_day).is_ok());
        assert_eq!(
            check_filing_period("2025-03-31", last_day),
            Err(Rule::FilingPeriodFuture)
        );
        assert!(check_filing_period("2025-03-31", date!(2024 - 04 - 01)).is_ok());
    }
}

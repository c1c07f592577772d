//! A local, explained PIR estimate from an investor's facts, by IR's rules
//! ("Using prescribed investor rates"; Income Tax Act 2007 s HM 57).
//!
//! IR's PIR service answers with its own suggestion, or `PirRateNotFound` when
//! it cannot; the investor may override either. This estimator is for the gap:
//! it says which rate IR's published rules give, which rule decided it, and why
//! in words (which income year, which threshold row), or that it cannot
//! estimate and which facts are missing. An estimate is never IR's answer.
//!
//! Facts are JSON with snake_case keys, shared by every surface and by the
//! sandbox's fixture:
//!
//! ```json
//! {"pir_year": 2026, "investor_type": "individual", "residency": "resident",
//!  "income": [{"year": 2024, "taxable_income": "40000.00", "pie_income": "5000"},
//!             {"year": 2025, "taxable_income": 61000, "pie_income": 0}]}
//! ```
//!
//! Amounts are exact: decimal strings or JSON numbers with at most two decimal
//! places, kept as integer cents. A year missing from `income` (or an entry
//! without amounts) is a year with no income.
//!
//! ```
//! use nzpir::estimate::{estimate_pir, PirFacts};
//!
//! let facts = PirFacts::from_json_str(r#"{"pir_year": 2025, "income": [
//!     {"year": 2023, "taxable_income": "48000", "pie_income": "22000"},
//!     {"year": 2024, "taxable_income": "90000"}]}"#).unwrap();
//! let e = estimate_pir(&facts);
//! assert_eq!(e.rate.unwrap().to_string(), "17.5");
//! assert_eq!(e.rule.id(), "resident_individual");
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::model::PirRate;
use crate::validate::{FieldError, Rule, parse_date};

/// The first PIR year the thresholds of this module cover (the year ending 31 March 2011).
pub const FIRST_PIR_YEAR: i32 = 2011;
/// The last year accepted anywhere in the facts.
pub const LAST_YEAR: i32 = 9999;

/// One row of IR's threshold table: the PIR years it applies to and its bounds (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The first PIR year (ending 31 March) the row applies to.
    pub first_pir_year: i32,
    /// The last PIR year it applies to; `None`: still in force.
    pub last_pir_year: Option<i32>,
    /// A: taxable income at most this for 10.5 %.
    pub a: Amount,
    /// B: taxable + PIE income at most this for 10.5 %; taxable income at most this for 17.5 %.
    pub b: Amount,
    /// C: taxable + PIE income at most this for 17.5 %.
    pub c: Amount,
    /// Where the row comes from.
    pub source: &'static str,
}

/// IR's thresholds by PIR year. The next change is one more row.
pub const THRESHOLDS: &[Thresholds] = &[
    Thresholds {
        first_pir_year: 2011,
        last_pir_year: Some(2025),
        a: Amount::dollars(14_000),
        b: Amount::dollars(48_000),
        c: Amount::dollars(70_000),
        source: "PIR years 2011 to 2025",
    },
    Thresholds {
        first_pir_year: 2026,
        last_pir_year: None,
        a: Amount::dollars(15_600),
        b: Amount::dollars(53_500),
        c: Amount::dollars(78_100),
        source: "PIR years from 2026 (from 1 April 2025, Taxation (Budget Measures) Act 2024)",
    },
];

/// The threshold row for a PIR year; `None` before [`FIRST_PIR_YEAR`].
pub fn thresholds_for(pir_year: i32) -> Option<&'static Thresholds> {
    THRESHOLDS.iter().find(|t| {
        pir_year >= t.first_pir_year && t.last_pir_year.is_none_or(|last| pir_year <= last)
    })
}

/// An exact amount in dollars and cents (kept as integer cents).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

/// Larger amounts are refused (well beyond any income, far from overflow).
const MAX_CENTS: i64 = 1_000_000_000_000_000;

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// Whole dollars.
    pub const fn dollars(d: i64) -> Amount {
        Amount(d * 100)
    }

    /// From cents.
    pub const fn from_cents(c: i64) -> Amount {
        Amount(c)
    }

    /// In cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses `123`, `123.4`, `123.45`, `-5` exactly (no exponent, no separators).
    pub fn parse(s: &str) -> Result<Amount, Rule> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (body, None),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || whole.len() > 15 || frac.is_some_and(|f| !digits(f) || f.len() > 2) {
            return Err(Rule::Amount);
        }
        let whole: i64 = whole.parse().map_err(|_| Rule::Amount)?;
        let cents = match frac {
            None => 0,
            Some(f) if f.len() == 1 => i64::from(f.as_bytes()[0] - b'0') * 10,
            Some(f) => f.parse::<i64>().map_err(|_| Rule::Amount)?,
        };
        let total = whole * 100 + cents;
        if total > MAX_CENTS {
            return Err(Rule::Amount);
        }
        Ok(Amount(if neg { -total } else { total }))
    }

    fn from_json(v: &Value) -> Result<Amount, Rule> {
        match v {
            Value::String(s) => Amount::parse(s),
            // serde_json prints a number back in its shortest round-trip form,
            // so 48000.5 written in JSON comes back as the text "48000.5".
            Value::Number(n) => Amount::parse(&n.to_string()),
            _ => Err(Rule::Amount),
        }
    }

    fn checked_add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Amount {
    /// `48,000` or `48,000.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, cents) = (abs / 100, abs % 100);
        let digits = whole.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if cents == 0 {
            write!(f, "{sign}{grouped}")
        } else {
            write!(f, "{sign}{grouped}.{cents:02}")
        }
    }
}

impl fmt::Debug for Amount {
    /// An investor's income is personal: never printed by `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Amount(<redacted>)")
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        s.serialize_str(&format!("{sign}{}.{:02}", abs / 100, abs % 100))
    }
}

/// What kind of investor it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestorType {
    /// A natural person (the default).
    #[default]
    Individual,
    /// A company.
    Company,
    /// An incorporated society.
    IncorporatedSociety,
    /// A registered charity.
    Charity,
    /// A PIE investing in another PIE.
    Pie,
    /// A superannuation fund.
    SuperannuationFund,
    /// A trustee of a trust.
    Trustee,
}

impl InvestorType {
    /// Every value, as written in the facts.
    pub const NAMES: &'static [&'static str] = &[
        "individual",
        "company",
        "incorporated_society",
        "charity",
        "pie",
        "superannuation_fund",
        "trustee",
    ];
    const ALL: [InvestorType; 7] = [
        InvestorType::Individual,
        InvestorType::Company,
        InvestorType::IncorporatedSociety,
        InvestorType::Charity,
        InvestorType::Pie,
        InvestorType::SuperannuationFund,
        InvestorType::Trustee,
    ];

    /// The value as written in the facts.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|t| *t == self).unwrap_or(0)]
    }

    fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }

    fn words(self) -> &'static str {
        match self {
            InvestorType::Individual => "an individual",
            InvestorType::Company => "a company",
            InvestorType::IncorporatedSociety => "an incorporated society",
            InvestorType::Charity => "a charity",
            InvestorType::Pie => "a PIE",
            InvestorType::SuperannuationFund => "a superannuation fund",
            InvestorType::Trustee => "a trustee",
        }
    }
}

/// The investor's tax residency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    /// New Zealand tax resident (the default).
    #[default]
    Resident,
    /// Not a New Zealand tax resident.
    NonResident,
    /// A transitional resident.
    TransitionalResident,
}

impl Residency {
    /// Every value, as written in the facts.
    pub const NAMES: &'static [&'static str] =
        &["resident", "non_resident", "transitional_resident"];

    /// The value as written in the facts.
    pub fn as_str(self) -> &'static str {
        match self {
            Residency::Resident => "resident",
            Residency::NonResident => "non_resident",
            Residency::TransitionalResident => "transitional_resident",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "resident" => Some(Residency::Resident),
            "non_resident" => Some(Residency::NonResident),
            "transitional_resident" => Some(Residency::TransitionalResident),
            _ => None,
        }
    }
}

/// One income year (ending 31 March) of an investor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncomeYear {
    /// The income year, ending 31 March (2025 is 1 April 2024 to 31 March 2025).
    pub year: i32,
    /// Taxable income (worldwide, without PIE income).
    pub taxable_income: Amount,
    /// Attributed PIE income.
    pub pie_income: Amount,
}

/// An investor's facts, as the estimator reads them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PirFacts {
    /// The PIR year (ending 31 March) the rate is for; from `pir_year` or `filing_period`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pir_year: Option<i32>,
    /// The investor type.
    pub investor_type: InvestorType,
    /// The residency.
    pub residency: Residency,
    /// A trustee's elected rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trustee_election: Option<PirRate>,
    /// The PIE is a foreign investment zero-rate PIE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_rate_pie: Option<bool>,
    /// The investor notified the PIE that they are a foreign investor (0 % in a zero-rate PIE).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub notified_foreign_investor: bool,
    /// Income years; a year not listed had no income.
    pub income: Vec<IncomeYear>,
}

/// The keys the facts may have.
pub const FACT_KEYS: &[&str] = &[
    "pir_year",
    "filing_period",
    "investor_type",
    "residency",
    "trustee_election",
    "zero_rate_pie",
    "notified_foreign_investor",
    "income",
];

const INCOME_KEYS: &[&str] = &["year", "taxable_income", "pie_income"];

impl PirFacts {
    /// Facts for a resident individual with the given PIR year and nothing else.
    pub fn individual(pir_year: i32) -> PirFacts {
        PirFacts {
            pir_year: Some(pir_year),
            ..PirFacts::default()
        }
    }

    /// Parses facts from JSON text; every broken rule is reported at once as an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn from_json_str(json: &str) -> Result<PirFacts, Error> {
        let v: Value = serde_json::from_str(json)
            .map_err(|_| Error::invalid_input(vec![FieldError::new("facts", Rule::Json)]))?;
        PirFacts::from_json_value(&v)
    }

    /// Parses facts from a JSON value (an object with snake_case keys).
    pub fn from_json_value(v: &Value) -> Result<PirFacts, Error> {
        let obj = match v {
            Value::Object(o) => o,
            _ => {
                return Err(Error::invalid_input(vec![FieldError::new(
                    "facts",
                    Rule::Json,
                )]));
            }
        };
        let mut errors = Vec::new();
        let facts = parse_object(obj, &mut errors);
        if errors.is_empty() {
            Ok(facts)
        } else {
            Err(Error::invalid_input(errors))
        }
    }

    /// The facts as JSON (amounts as decimal strings).
    pub fn to_json_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl<'de> Deserialize<'de> for PirFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        PirFacts::from_json_value(&v).map_err(|e| {
            let detail: Vec<String> = e.field_errors().iter().map(|f| f.to_string()).collect();
            serde::de::Error::custom(format!("facts: {}", detail.join("; ")))
        })
    }
}

fn null_is_absent(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn parse_year(
    v: &Value,
    field: &'static str,
    lo: i32,
    errors: &mut Vec<FieldError>,
) -> Option<i32> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().ok()
        }
        _ => None,
    };
    match n {
        Some(y) if (i64::from(lo)..=i64::from(LAST_YEAR)).contains(&y) => Some(y as i32),
        _ => {
            errors.push(FieldError::new(field, Rule::YearRange(lo, LAST_YEAR)));
            None
        }
    }
}

fn parse_bool(v: &Value, field: &'static str, errors: &mut Vec<FieldError>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => {
            errors.push(FieldError::new(field, Rule::Type("true or false")));
            None
        }
    }
}

fn parse_object(obj: &Map<String, Value>, errors: &mut Vec<FieldError>) -> PirFacts {
    let mut facts = PirFacts::default();
    if obj.keys().any(|k| !FACT_KEYS.contains(&k.as_str())) {
        errors.push(FieldError::new("facts", Rule::UnknownKey));
    }

    let from_year = null_is_absent(obj.get("pir_year"))
        .and_then(|v| parse_year(v, "pir_year", FIRST_PIR_YEAR, errors));
    let from_period = null_is_absent(obj.get("filing_period")).and_then(|v| {
        let parsed = match v {
            Value::String(s) => parse_date(s).and_then(|d| {
                if d.month() == time::Month::March && d.day() == 31 {
                    Ok(d.year())
                } else {
                    Err(Rule::FilingPeriodMarch31)
                }
            }),
            _ => Err(Rule::DateFormat),
        };
        match parsed {
            Ok(y) if (FIRST_PIR_YEAR..=LAST_YEAR).contains(&y) => Some(y),
            Ok(_) => {
                errors.push(FieldError::new(
                    "filing_period",
                    Rule::YearRange(FIRST_PIR_YEAR, LAST_YEAR),
                ));
                None
            }
            Err(rule) => {
                errors.push(FieldError::new("filing_period", rule));
                None
            }
        }
    });
    facts.pir_year = match (from_year, from_period) {
        (Some(a), Some(b)) if a != b => {
            errors.push(FieldError::new("filing_period", Rule::Conflict("pir_year")));
            None
        }
        (a, b) => a.or(b),
    };

    if let Some(v) = null_is_absent(obj.get("investor_type")) {
        match v.as_str().and_then(InvestorType::parse) {
            Some(t) => facts.investor_type = t,
            None => errors.push(FieldError::new(
                "investor_type",
                Rule::OneOf(InvestorType::NAMES),
            )),
        }
    }
    if let Some(v) = null_is_absent(obj.get("residency")) {
        match v.as_str().and_then(Residency::parse) {
            Some(r) => facts.residency = r,
            None => errors.push(FieldError::new("residency", Rule::OneOf(Residency::NAMES))),
        }
    }
    if let Some(v) = null_is_absent(obj.get("trustee_election")) {
        let text = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match text.and_then(|t| t.parse::<PirRate>().ok()) {
            Some(r) if [0, 1050, 1750, 2800].contains(&r.hundredths()) => {
                facts.trustee_election = Some(r)
            }
            _ => errors.push(FieldError::new("trustee_election", Rule::PirRate)),
        }
    }
    if let Some(v) = null_is_absent(obj.get("zero_rate_pie")) {
        facts.zero_rate_pie = parse_bool(v, "zero_rate_pie", errors);
    }
    if let Some(v) = null_is_absent(obj.get("notified_foreign_investor")) {
        facts.notified_foreign_investor =
            parse_bool(v, "notified_foreign_investor", errors).unwrap_or(false);
    }

    if let Some(v) = null_is_absent(obj.get("income")) {
        match v {
            Value::Array(items) => {
                let mut seen = BTreeSet::new();
                for item in items {
                    let Value::Object(entry) = item else {
                        errors.push(FieldError::new("income", Rule::Type("a list of objects")));
                        continue;
                    };
                    if entry.keys().any(|k| !INCOME_KEYS.contains(&k.as_str())) {
                        errors.push(FieldError::new("income", Rule::UnknownKey));
                    }
                    let year = match null_is_absent(entry.get("year")) {
                        Some(y) => parse_year(y, "income.year", FIRST_PIR_YEAR - 2, errors),
                        None => {
                            errors.push(FieldError::new("income.year", Rule::Required));
                            None
                        }
                    };
                    let mut amount =
                        |key: &str, field: &'static str| match null_is_absent(entry.get(key)) {
                            None => Some(Amount::ZERO),
                            Some(a) => match Amount::from_json(a) {
                                Ok(a) if a.cents() < 0 => {
                                    errors.push(FieldError::new(field, Rule::NotNegative));
                                    None
                                }
                                Ok(a) => Some(a),
                                Err(rule) => {
                                    errors.push(FieldError::new(field, rule));
                                    None
                                }
                            },
                        };
                    let taxable = amount("taxable_income", "income.taxable_income");
                    let pie = amount("pie_income", "income.pie_income");
                    if let Some(y) = year
                        && !seen.insert(y)
                    {
                        errors.push(FieldError::new("income.year", Rule::DuplicateYear));
                    }
                    if let (Some(year), Some(taxable_income), Some(pie_income)) =
                        (year, taxable, pie)
                    {
                        facts.income.push(IncomeYear {
                            year,
                            taxable_income,
                            pie_income,
                        });
                    }
                }
                facts.income.sort_by_key(|i| i.year);
            }
            _ => errors.push(FieldError::new("income", Rule::Type("a list"))),
        }
    }
    facts
}

/// The rule that decided an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EstimateRule {
    /// Resident individual (or transitional resident outside a zero-rate PIE):
    /// the lower of the rates of the two income years before the PIR year.
    ResidentIndividual,
    /// Non-resident: 28 %.
    NonResident,
    /// A notified foreign investor in a foreign investment zero-rate PIE: 0 %.
    NotifiedForeignInvestor,
    /// A transitional resident in a zero-rate PIE: 0 %.
    TransitionalResidentZeroRate,
    /// A resident company, incorporated society, charity, PIE or superannuation fund: 0 %.
    ZeroRateEntity,
    /// A trustee's elected rate.
    TrusteeElection,
    /// Facts are missing.
    CannotEstimate,
}

impl EstimateRule {
    /// A stable id.
    pub const fn id(self) -> &'static str {
        match self {
            EstimateRule::ResidentIndividual => "resident_individual",
            EstimateRule::NonResident => "non_resident",
            EstimateRule::NotifiedForeignInvestor => "notified_foreign_investor",
            EstimateRule::TransitionalResidentZeroRate => "transitional_resident_zero_rate",
            EstimateRule::ZeroRateEntity => "zero_rate_entity",
            EstimateRule::TrusteeElection => "trustee_election",
            EstimateRule::CannotEstimate => "cannot_estimate",
        }
    }
}

impl fmt::Display for EstimateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An explained estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PirEstimate {
    /// The rate; `None` when the facts are not enough.
    pub rate: Option<PirRate>,
    /// The rule that decided it.
    pub rule: EstimateRule,
    /// Why, in words (which year, which threshold row).
    pub explanation: String,
    /// The facts that are missing (keys of the facts), when it cannot estimate.
    pub missing: Vec<&'static str>,
    /// The PIR year the estimate is for, when known.
    pub pir_year: Option<i32>,
    /// The income year that decided the rate (resident individuals).
    pub decided_by_year: Option<i32>,
}

impl PirEstimate {
    /// The estimate as JSON: `rate` (a number or null), `rate_decimal` (exact
    /// text or null), `rule`, `explanation`, `missing`, `pir_year`, `decided_by_year`.
    pub fn to_json_value(&self) -> Value {
        json!({
            "rate": self.rate,
            "rate_decimal": self.rate.map(|r| r.to_string()),
            "rule": self.rule.id(),
            "explanation": self.explanation,
            "missing": self.missing,
            "pir_year": self.pir_year,
            "decided_by_year": self.decided_by_year,
        })
    }

    fn fixed(rate: PirRate, rule: EstimateRule, pir_year: Option<i32>, why: String) -> Self {
        PirEstimate {
            rate: Some(rate),
            rule,
            explanation: format!("{why} {CAVEAT}"),
            missing: Vec::new(),
            pir_year,
            decided_by_year: None,
        }
    }
}

const CAVEAT: &str = "This is an estimate from IR's published rules, not IR's answer: \
IR's suggested rate and the investor's own choice take precedence.";

const ZERO: PirRate = PirRate::from_hundredths(0);

/// The rate one income year gives under a threshold row, and the row in words.
fn year_rate(t: &Thresholds, y: Option<&IncomeYear>) -> (PirRate, String) {
    let Some(y) = y.filter(|y| y.taxable_income.cents() != 0 || y.pie_income.cents() != 0) else {
        return (PirRate::LOW, "no income, so 10.5 %".to_owned());
    };
    let total = y.taxable_income.checked_add(y.pie_income);
    if y.taxable_income <= t.a && total <= t.b {
        (
            PirRate::LOW,
            format!(
                "taxable income {} or less and taxable + PIE income {} or less, so 10.5 %",
                t.a, t.b
            ),
        )
    } else if y.taxable_income <= t.b && total <= t.c {
        (
            PirRate::MIDDLE,
            format!(
                "taxable income {} or less and taxable + PIE income {} or less, so 17.5 %",
                t.b, t.c
            ),
        )
    } else {
        (
            PirRate::TOP,
            format!(
                "taxable income over {} or taxable + PIE income over {}, so 28 %",
                t.b, t.c
            ),
        )
    }
}

/// The resident rules: the lower of the two income years before the PIR year.
fn resident_rules(facts: &PirFacts, who: &str) -> PirEstimate {
    let Some(pir_year) = facts.pir_year else {
        return PirEstimate {
            rate: None,
            rule: EstimateRule::CannotEstimate,
            explanation: format!(
                "Cannot estimate: for {who} the rate depends on the income of the two years \
                 before the PIR year, and neither `pir_year` nor `filing_period` was given."
            ),
            missing: vec!["pir_year"],
            pir_year: None,
            decided_by_year: None,
        };
    };
    // Parsing refuses PIR years before the table starts; facts built in code may not.
    let Some(t) = thresholds_for(pir_year) else {
        return PirEstimate {
            rate: None,
            rule: EstimateRule::CannotEstimate,
            explanation: format!(
                "Cannot estimate: PIR year {pir_year} is before {FIRST_PIR_YEAR}, the first \
                 year of the thresholds this estimator knows."
            ),
            missing: vec!["pir_year"],
            pir_year: Some(pir_year),
            decided_by_year: None,
        };
    };
    let years = [pir_year - 2, pir_year - 1];
    let results: Vec<(i32, PirRate, String)> = years
        .iter()
        .map(|&yr| {
            let (rate, words) = year_rate(t, facts.income.iter().find(|i| i.year == yr));
            (yr, rate, words)
        })
        .collect();
    // The lower rate; on a tie, the later year is named.
    let decided = results
        .iter()
        .rev()
        .min_by_key(|(_, r, _)| r.hundredths())
        .map(|(y, r, _)| (*y, *r))
        .unwrap_or((pir_year - 1, PirRate::LOW));
    let per_year: Vec<String> = results
        .iter()
        .map(|(y, _, words)| format!("income year {y} (ending 31 March {y}): {words}"))
        .collect();
    PirEstimate {
        rate: Some(decided.1),
        rule: EstimateRule::ResidentIndividual,
        explanation: format!(
            "PIR year {pir_year} (ending 31 March {pir_year}), {who}: the lower of the rates of \
             the two income years before it, with the thresholds for {} (A {}, B {}, C {}). {}. \
             The lower rate, {} %, comes from income year {}. {CAVEAT}",
            t.source,
            t.a,
            t.b,
            t.c,
            per_year.join("; "),
            decided.1,
            decided.0
        ),
        missing: Vec::new(),
        pir_year: Some(pir_year),
        decided_by_year: Some(decided.0),
    }
}

/// Estimates the PIR from an investor's facts by IR's published rules.
pub fn estimate_pir(facts: &PirFacts) -> PirEstimate {
    let year = facts.pir_year;
    let zero_rate_pie = facts.zero_rate_pie;
    match facts.investor_type {
        InvestorType::Trustee => match facts.trustee_election {
            Some(r) => {
                let note = if r == PirRate::LOW {
                    " (10.5 % is open only to some testamentary trusts)"
                } else {
                    ""
                };
                PirEstimate::fixed(
                    r,
                    EstimateRule::TrusteeElection,
                    year,
                    format!("A trustee chooses 0, 17.5 or 28 %; this trustee elected {r} %{note}."),
                )
            }
            None => PirEstimate {
                rate: None,
                rule: EstimateRule::CannotEstimate,
                explanation: "Cannot estimate: a trustee chooses its rate (0, 17.5 or 28 %; \
                              some testamentary trusts 10.5 %) and `trustee_election` was not \
                              given. Without a notified rate a PIE applies 28 %."
                    .to_owned(),
                missing: vec!["trustee_election"],
                pir_year: year,
                decided_by_year: None,
            },
        },
        entity if entity != InvestorType::Individual => {
            if facts.residency == Residency::NonResident {
                PirEstimate::fixed(
                    PirRate::TOP,
                    EstimateRule::NonResident,
                    year,
                    format!(
                        "{} that is not resident in New Zealand: 28 %.",
                        capitalise(entity.words())
                    ),
                )
            } else {
                PirEstimate::fixed(
                    ZERO,
                    EstimateRule::ZeroRateEntity,
                    year,
                    format!(
                        "{} resident in New Zealand: 0 % (IR's PIR service answers \
                         PirRateNotFound for such investors).",
                        capitalise(entity.words())
                    ),
                )
            }
        }
        _ => match facts.residency {
            Residency::NonResident => {
                if facts.notified_foreign_investor && zero_rate_pie != Some(false) {
                    PirEstimate::fixed(
                        ZERO,
                        EstimateRule::NotifiedForeignInvestor,
                        year,
                        "A non-resident who notified a foreign investment zero-rate PIE that \
                         they are a foreign investor: 0 %."
                            .to_owned(),
                    )
                } else {
                    PirEstimate::fixed(
                        PirRate::TOP,
                        EstimateRule::NonResident,
                        year,
                        "A non-resident individual: 28 % (0 % only as a notified foreign \
                         investor in a zero-rate PIE)."
                            .to_owned(),
                    )
                }
            }
            Residency::TransitionalResident
                if zero_rate_pie.unwrap_or(facts.notified_foreign_investor) =>
            {
                PirEstimate::fixed(
                    ZERO,
                    EstimateRule::TransitionalResidentZeroRate,
                    year,
                    "A transitional resident in a foreign investment zero-rate PIE: 0 %."
                        .to_owned(),
                )
            }
            Residency::TransitionalResident => {
                resident_rules(facts, "a transitional resident outside a zero-rate PIE")
            }
            Residency::Resident => resident_rules(facts, "a resident individual"),
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Parses facts from JSON and estimates: the C ABI's and the CLI's entry point.
pub fn estimate_pir_json(facts_json: &str) -> Result<PirEstimate, Error> {
    PirFacts::from_json_str(facts_json).map(|f| estimate_pir(&f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(
            Amount::parse("48000").expect("test value").cents(),
            4_800_000
        );
        assert_eq!(
            Amount::parse("48000.5").expect("test value").cents(),
            4_800_050
        );
        assert_eq!(Amount::parse("0.07").expect("test value").cents(), 7);
        assert_eq!(Amount::parse("-1").expect("test value").cents(), -100);
        for bad in ["", ".5", "5.", "1.234", "1e5", "1,000", "+5", " 5", "NaN"] {
            assert_eq!(Amount::parse(bad), Err(Rule::Amount), "{bad}");
        }
        assert_eq!(Amount::dollars(1_234_567).to_string(), "1,234,567");
        assert_eq!(Amount::from_cents(5).to_string(), "0.05");
    }

    #[test]
    fn one_row_per_pir_year() {
        assert!(thresholds_for(2010).is_none());
        for y in 2011..=2025 {
            assert_eq!(
                thresholds_for(y).expect("test value").a,
                Amount::dollars(14_000)
            );
        }
        for y in 2026..=2100 {
            assert_eq!(
                thresholds_for(y).expect("test value").c,
                Amount::dollars(78_100)
            );
        }
    }
}

//! The fixture of the `strict` profile: who exists at "IR", who may ask about
//! whom, and what IR knows about each investor.
//!
//! A fixture is JSON (see `sandbox/README.md` for the format, field by field).
//! Certificates are named symbolically (`"client"`, `"jwt_rs256"`, `"jwt_ec"`,
//! `"unregistered_client"`) because their thumbprints are only known once the
//! sandbox has made its PKI; a certificate of your own can be given as
//! `{"file": "/path/cert.pem"}`.

use std::path::PathBuf;

use nzpir::PirRate;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The default fixture, as shipped in `sandbox/fixtures/default.json`.
pub const DEFAULT_FIXTURE_JSON: &str = include_str!("../fixtures/default.json");

/// A fixture: parties, logons, credentials, OAuth clients and investors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Free text for the reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// PIEs, KiwiSaver schemes and providers, scheme administration managers,
    /// tax preparers.
    #[serde(default)]
    pub parties: Vec<Party>,
    /// myIR logons and the party each belongs to.
    #[serde(default)]
    pub logons: Vec<Logon>,
    /// TLS client certificates registered with "IR" (anything else gets EV1023).
    #[serde(default)]
    pub tls_clients: Vec<TlsClient>,
    /// JWT signing credentials registered with "IR".
    #[serde(default)]
    pub jwt_credentials: Vec<JwtCredential>,
    /// OAuth clients (applications) and the logon that consents for each.
    #[serde(default)]
    pub oauth_clients: Vec<OAuthClient>,
    /// The investors IR knows.
    #[serde(default)]
    pub investors: Vec<Investor>,
}

impl Fixture {
    /// The default fixture (`sandbox/fixtures/default.json`).
    pub fn default_fixture() -> Fixture {
        // The embedded default is checked by the crate's tests; a failure here
        // would be a build defect, so fall back to an empty fixture rather than panic.
        Fixture::from_json_str(DEFAULT_FIXTURE_JSON).unwrap_or_else(|_| Fixture::empty())
    }

    /// A fixture with nothing in it.
    pub fn empty() -> Fixture {
        Fixture {
            description: None,
            parties: Vec::new(),
            logons: Vec::new(),
            tls_clients: Vec::new(),
            jwt_credentials: Vec::new(),
            oauth_clients: Vec::new(),
            investors: Vec::new(),
        }
    }

    /// Parses a fixture from JSON. The references inside are checked when a
    /// sandbox starts with it.
    pub fn from_json_str(json: &str) -> Result<Fixture, Error> {
        serde_json::from_str(json).map_err(|e| Error::fixture(format!("fixture JSON: {e}")))
    }

    /// Reads a fixture file.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Fixture, Error> {
        let path = path.into();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading fixture {}", path.display()), e))?;
        Fixture::from_json_str(&text)
            .map_err(|e| Error::fixture(format!("{}: {e}", path.display())))
    }

    /// The fixture as pretty JSON.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::default_fixture()
    }
}

/// The kind of a party, which decides what it may do (build pack 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// A PIE (a financial institution's fund); its `ird` is a PieIRD.
    Pie,
    /// A KiwiSaver scheme (a PIE too); its `ird` is a PieIRD.
    KiwisaverScheme,
    /// A KiwiSaver scheme provider; `schemes` lists its schemes.
    KiwisaverProvider,
    /// A KiwiSaver scheme administration manager; `manages` lists providers.
    SchemeAdminManager,
    /// A tax preparer (tax agent, intermediary); `clients` lists the PIEs and
    /// schemes it is tax preparer for.
    TaxPreparer,
    /// Any other customer: it has no rights of its own.
    Other,
}

impl PartyKind {
    /// Whether a party of this kind is a PIE a request's `PieIRD` can name.
    pub fn is_pie(self) -> bool {
        matches!(self, PartyKind::Pie | PartyKind::KiwisaverScheme)
    }
}

/// A customer of IR that can call the service or be named by `PieIRD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// A short unique id, used for references inside the fixture.
    pub id: String,
    /// What the party is.
    pub kind: PartyKind,
    /// Its name (used as the JWT issuer in the ready configuration).
    pub name: String,
    /// Its IRD number, 9 digits (for a PIE or scheme: the `PieIRD`).
    pub ird: String,
    /// `kiwisaver_provider` only: ids of its `kiwisaver_scheme` parties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemes: Vec<String>,
    /// `scheme_admin_manager` only: ids of the `kiwisaver_provider` parties it manages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manages: Vec<String>,
    /// `tax_preparer` only: ids of the PIEs and schemes it is tax preparer for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
}

/// A myIR logon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logon {
    /// The logon name (what `startLogon` and OAuth tokens carry).
    pub id: String,
    /// The party the logon belongs to; `null` for a logon with no access to
    /// anything (EV1040 over OAuth).
    pub party: Option<String>,
}

/// A certificate: one the sandbox made (by name) or a PEM file of your own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CertRef {
    /// `"client"`, `"renewed_client"`, `"unregistered_client"`, `"jwt_rs256"` or `"jwt_ec"`.
    Named(String),
    /// `{"file": "/path/cert.pem"}`: the first certificate of a PEM file.
    File {
        /// The PEM file.
        file: PathBuf,
    },
}

/// A TLS client certificate registered with IR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsClient {
    /// The certificate.
    pub cert: CertRef,
    /// Who it was issued to (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A JWT signing credential registered with IR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtCredential {
    /// The signing certificate (its SHA-256 thumbprint is the JWT `sub`).
    pub cert: CertRef,
    /// The one algorithm configured for it (`RS256`, `RS384`, `RS512`, `PS256`,
    /// `PS384`, `PS512`, `ES256`, `ES384`); any other gives EV1029.
    pub alg: String,
    /// The party the credential belongs to (authorises JWTs without `startLogon`).
    pub party: String,
}

/// An OAuth client (an application registered with IR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (HTTP Basic authentication at the token endpoint).
    pub client_secret: String,
    /// The registered redirect URIs. An `http` loopback URI without a port
    /// matches any port (RFC 8252).
    pub redirect_uris: Vec<String>,
    /// The myIR logon that consents when this client asks; `null`: nobody
    /// consents (`error=access_denied`).
    pub logon: Option<String>,
    /// Whether refresh tokens are issued (IR gives none to desktop applications).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub refresh_tokens: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// An investor IR knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Investor {
    /// The investor's IRD number, 9 digits.
    pub ird: String,
    /// The suggested rate (10.5, 17.5 or 28); `null` or absent: IR cannot
    /// determine one (`PirRateNotFound`).
    #[serde(default)]
    pub suggested_pir_rate: Option<PirRate>,
    /// Ids of the KiwiSaver schemes the investor is a member of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memberships: Vec<String>,
    /// Ids of the PIEs and schemes whose PIE reconciliation return lists the investor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reconciliation: Vec<String>,
    /// Ids of the tax preparers with a client-list link to the investor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tax_preparers: Vec<String>,
    /// Name, for soft matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<InvestorName>,
    /// Date of birth (`yyyy-MM-dd`), for soft matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    /// Address, for soft matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<InvestorAddress>,
    /// The filing periods (years ending 31 March, e.g. `2025`) in which the
    /// investor has an income tax period; absent: every period. A query for
    /// any other period is answered PER100, as IR does for an investor with
    /// no income tax period for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_tax_periods: Option<Vec<i32>>,
    /// The investor's facts (the estimator's snake_case keys: `investor_type`,
    /// `residency`, `income`...) instead of `suggested_pir_rate`: `strict`
    /// answers an individual with the rate IR's rules give for the request's
    /// filing period, any other investor type with `PirRateNotFound`. Without
    /// `income_tax_periods`, the investor has an income tax period for a filing
    /// year when `income` lists that year or one of the two before it (an
    /// empty `income`: every year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<nzpir::PirFacts>,
}

/// An investor's name as IR holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvestorName {
    /// First name.
    pub first: String,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle: Option<String>,
    /// Last name.
    pub last: String,
}

/// An investor's address as IR holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvestorAddress {
    /// Street.
    pub street: String,
    /// City.
    pub city: String,
    /// Post code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_code: Option<String>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fixture_parses_and_round_trips() {
        let f = Fixture::from_json_str(DEFAULT_FIXTURE_JSON).expect("default fixture parses");
        assert!(f.parties.len() >= 5);
        assert!(f.investors.iter().any(|i| i.ird == "139276507"));
        let again = Fixture::from_json_str(&f.to_json_string()).expect("round trip");
        assert_eq!(again, f);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Fixture::from_json_str(r#"{"partys": []}"#).expect_err("typo");
        assert!(e.to_string().contains("partys"), "{e}");
    }
}

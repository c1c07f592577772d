//! `client.lookup(request)` and `client.status()`.

use napi::bindgen_prelude::*;
use nzpir::{PirOutcome, PirRequest};

use super::Work;
use crate::error::{ArgError, Failure};

/// What a lookup found.
#[napi(object, use_nullable = true)]
pub struct LookupResult {
    /// The suggested rate as exact decimal text (`"10.5"`, `"17.5"`, `"28"`),
    /// or `null` when IR has no rate for the investor.
    pub rate: Option<String>,
    /// The same rate as a number (`10.5`), or `null`.
    pub rate_number: Option<f64>,
    /// Whether IR could not determine a rate (`PirRateNotFound`).
    pub not_found: bool,
    /// The investor's IRD number as IR echoed it (9 digits).
    pub ird: String,
    /// The PIE's IRD number, when it was sent.
    pub pie_ird: Option<String>,
}

impl From<PirOutcome> for LookupResult {
    fn from(o: PirOutcome) -> Self {
        LookupResult {
            rate: o.rate().map(|r| r.to_string()),
            rate_number: o.rate().map(nzpir::PirRate::as_f64),
            not_found: o.is_not_found(),
            ird: o.ird().to_owned(),
            pie_ird: o.pie_ird().map(str::to_owned),
        }
    }
}

/// One lookup; a request that could not be read fails here, so that the
/// Promise rejects rather than the call throwing.
pub struct Lookup {
    pub client: nzpir::Client,
    pub request: std::result::Result<PirRequest, ArgError>,
}

impl Work for Lookup {
    type Output = PirOutcome;
    type JsValue = LookupResult;

    fn run(&mut self) -> std::result::Result<PirOutcome, Failure> {
        let request = self.request.as_ref().map_err(|e| Failure::Arg(e.clone()))?;
        Ok(self.client.lookup(request)?)
    }

    fn to_js(&mut self, _: &Env, o: PirOutcome) -> Result<LookupResult> {
        Ok(o.into())
    }
}

/// The gateway's status endpoint.
pub struct Status {
    pub client: nzpir::Client,
}

impl Work for Status {
    type Output = ();
    type JsValue = ();

    fn run(&mut self) -> std::result::Result<(), Failure> {
        Ok(self.client.status()?)
    }

    fn to_js(&mut self, _: &Env, _: ()) -> Result<()> {
        Ok(())
    }
}

//! The PIR estimator. `index.js` turns the camelCase facts into the core's
//! snake_case JSON facts (and the field names of errors back); the core does
//! the rules, the exact amounts and the field errors.

use napi::bindgen_prelude::*;

use crate::error::throw;

/// An explained PIR estimate, by IR's published rules (never IR's answer).
#[napi(object, use_nullable = true)]
pub struct PirEstimate {
    /// The rate as exact decimal text (`'17.5'`; as a lookup's `rate`), or
    /// `null` when it cannot estimate.
    pub rate: Option<String>,
    /// The rate as a number (0, 10.5, 17.5 or 28), or `null`.
    pub rate_number: Option<f64>,
    /// The rule that decided it, e.g. `resident_individual`, `non_resident`,
    /// `zero_rate_entity`, `trustee_election`, `cannot_estimate`.
    pub rule: String,
    /// Why, in words: which PIR year, which income year, which threshold row.
    pub explanation: String,
    /// The facts that are missing (camelCase keys) when it cannot estimate.
    pub missing: Vec<String>,
    /// The PIR year the estimate is for, when the facts gave one.
    pub pir_year: Option<i32>,
    /// The income year that decided the rate (resident individuals).
    pub decided_by_year: Option<i32>,
}

/// The estimator over the facts as snake_case JSON text (use `estimatePir`).
#[napi(js_name = "estimatePirJson")]
pub fn estimate_pir_json(env: Env, facts_json: String) -> Result<PirEstimate> {
    let e = throw(&env, nzpir::estimate::estimate_pir_json(&facts_json))?;
    Ok(PirEstimate {
        rate: e.rate.map(|r| r.to_string()),
        rate_number: e.rate.map(|r| r.as_f64()),
        rule: e.rule.id().to_owned(),
        explanation: e.explanation,
        missing: e.missing.iter().map(|m| (*m).to_owned()).collect(),
        pir_year: e.pir_year,
        decided_by_year: e.decided_by_year,
    })
}

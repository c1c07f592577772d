//! The PIR estimator with JSON in and out.

use std::ffi::c_char;

use crate::boundary;
use crate::error::nzpir_error;
use crate::status::nzpir_status;
use crate::strings::{NZPIR_MAX_JSON_BYTES, arg_str, give_string, out_ptr};

/// Estimates an investor's PIR from their facts by IR's published rules (an
/// estimate, never IR's answer: IR's suggested rate and the investor's own
/// choice take precedence).
///
/// `facts_json` is a JSON object with snake_case keys: `pir_year` or
/// `filing_period`, `investor_type`, `residency`, `trustee_election`,
/// `zero_rate_pie`, `notified_foreign_investor`, and `income`, a list of
/// `{"year": 2025, "taxable_income": "40000.00", "pie_income": "0"}` (amounts
/// as decimal strings or numbers, at most 2 decimal places). At most
/// `NZPIR_MAX_JSON_BYTES`.
///
/// On success `*result_json_out` receives a JSON object (free it with
/// `nzpir_string_free`): `rate` (a number, or null when it cannot estimate),
/// `rate_decimal` (exact text or null), `rule`, `explanation`, `missing` (the
/// facts it lacks), `pir_year`, `decided_by_year`. Bad facts give
/// `NZPIR_STATUS_INVALID_INPUT` with one field error per broken rule
/// (`nzpir_error_field_name`: `pir_year`, `income.taxable_income`, ...).
///
/// Pure computation; thread-safe.
///
/// # Safety
/// `facts_json` is NULL or a NUL-terminated string; `result_json_out` and
/// `err_out` are NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_estimate_pir(
    facts_json: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let json = arg_str(facts_json, "facts_json", NZPIR_MAX_JSON_BYTES)?;
            let out = out_ptr(result_json_out, "result_json_out")?;
            let estimate = nzpir::estimate::estimate_pir_json(json)?;
            out.write(give_string(&estimate.to_json_value().to_string()));
            Ok(())
        })
    }
}

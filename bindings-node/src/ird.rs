//! IRD numbers: synchronous, because they are fast (no I/O, no allocation per
//! item in the core).

use napi::bindgen_prelude::*;
use nzpir::{FieldError, IrdNumber, Rule};

use crate::args::string_arg;
use crate::error::{ArgError, Failure, throw};

/// Whether `s` is a valid IRD number: 8 or 9 digits (`49091850`,
/// `049091850`) or a typed form (`49-091-850`, `049 091 850`), in IR's range,
/// passing IR's modulus-11 check. A value that is not a string is a
/// `TypeError`.
#[napi(ts_args_type = "s: string")]
pub fn is_valid_ird(env: Env, s: Unknown<'_>) -> Result<bool> {
    let s = throw(&env, string_arg(&s, "s"))?;
    Ok(IrdNumber::is_valid(&s))
}

/// The 9-digit wire form of a valid IRD number (`49-091-850` gives
/// `049091850`). Throws an `Error` with code `NZPIR_INVALID_INPUT` whose
/// `fieldErrors[0].rule` says why: `ird_digits`, `ird_length`, `ird_range` or
/// `ird_check_digit` (the message never repeats the number).
#[napi(ts_args_type = "s: string")]
pub fn normalize_ird(env: Env, s: Unknown<'_>) -> Result<String> {
    let s = throw(&env, string_arg(&s, "s"))?;
    let parsed = IrdNumber::parse_lenient(&s)
        .map_err(|e| nzpir::Error::invalid_input(vec![FieldError::new("IRD", Rule::Ird(e))]));
    throw(&env, parsed).map(|n| n.to_string())
}

/// Checks many IRD numbers at once (the same rule as `isValidIrd`), one flag
/// per item, over the core's allocation-free bulk check. Every item must be a
/// string (else a `TypeError` naming its index).
#[napi(ts_args_type = "values: string[]", ts_return_type = "boolean[]")]
pub fn valid_irds(env: Env, values: Unknown<'_>) -> Result<Vec<bool>> {
    throw(&env, collect(&values)).map(|items| {
        let mut out = vec![false; items.len()];
        nzpir::ird::validate_into(&items, &mut out);
        out
    })
}

fn collect(values: &Unknown<'_>) -> std::result::Result<Vec<String>, Failure> {
    if !values.is_array().unwrap_or(false) {
        return Err(ArgError::new("values", "must be an array of strings").into());
    }
    let arr: Array<'_> =
        unsafe { values.cast() }.map_err(|_| ArgError::new("values", "could not be read"))?;
    let mut items = Vec::with_capacity(arr.len() as usize);
    for i in 0..arr.len() {
        let v: Unknown<'_> = arr
            .get(i)
            .ok()
            .flatten()
            .ok_or_else(|| ArgError::new(format!("values[{i}]"), "could not be read"))?;
        items.push(string_arg(&v, &format!("values[{i}]"))?);
    }
    Ok(items)
}

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
pub fn normalise_ird(env: Env, s: Unknown<'_>) -> Result<String> {
    let s = throw(&env, string_arg(&s, "s"))?;
    let parsed = IrdNumber::parse_lenient(&s)
        .map_err(|e| nzpir::Error::invalid_input(vec![FieldError::new("IRD", Rule::Ird(e))]));
    throw(&env, parsed).map(|n| n.to_string())
}

/// `normaliseIrd` under its former spelling.
///
/// @deprecated Use `normaliseIrd`, the spelling every nzpir surface uses.
#[napi(ts_args_type = "s: string")]
pub fn normalize_ird(env: Env, s: Unknown<'_>) -> Result<String> {
    normalise_ird(env, s)
}

/// Checks many IRD numbers at once (the same rule as `isValidIrd`), one flag
/// per item. Every item must be a string (else a `TypeError` naming its
/// index).
#[napi(ts_args_type = "values: string[]", ts_return_type = "boolean[]")]
pub fn valid_irds(env: Env, values: Unknown<'_>) -> Result<Vec<bool>> {
    throw(&env, check_all(&env, &values))
}

/// The bulk check over one string of items separated by newlines, one byte
/// per item (1: valid). `validIrds` in index.js passes a large array of strings
/// this way, joined: one string across the boundary instead of a read per
/// item (V8's element reads from native code cost more than the check).
/// Not exported by the package; index.js falls back to `validIrds` when an
/// item is not a string or holds a newline (the count of flags then differs
/// from the array's length).
#[napi(ts_args_type = "lines: string", ts_return_type = "Uint8Array")]
pub fn valid_ird_lines(env: Env, lines: Unknown<'_>) -> Result<Uint8Array> {
    if !matches!(lines.get_type(), Ok(napi::ValueType::String)) {
        // The TypeError that names the argument.
        throw(&env, string_arg(&lines, "lines"))?;
    }
    // UTF-16, as V8 holds the text: no UTF-8 length pass, no transcoding.
    let text = throw(
        &env,
        unsafe { lines.cast::<Utf16String>() }
            .map_err(|_| ArgError::new("lines", "could not be read")),
    )?;
    let flags: Vec<u8> = text
        .split(|&u| u == u16::from(b'\n'))
        .map(|line| u8::from(ird_utf16(line)))
        .collect();
    Ok(Uint8Array::from(flags))
}

/// Reads and checks every item. Each string is copied straight into a small
/// buffer on the stack, as UTF-16 (how V8 holds it: no UTF-8 length pass, no
/// allocation), with one call per item; only a long item or one that is not
/// a string takes the slower path. IRD numbers are ASCII, so an item with any
/// other character is not one. Reading items through napi-rs's own `String`
/// conversion (two calls, an allocation and a type check per item) cost
/// several times the check itself.
fn check_all(env: &Env, values: &Unknown<'_>) -> std::result::Result<Vec<bool>, Failure> {
    if !values.is_array().unwrap_or(false) {
        return Err(ArgError::new("values", "must be an array of strings").into());
    }
    let arr: Array<'_> =
        unsafe { values.cast() }.map_err(|_| ArgError::new("values", "could not be read"))?;
    let mut out = Vec::with_capacity(arr.len() as usize);
    let mut buf = [0u16; 32];
    for i in 0..arr.len() {
        let unreadable = || ArgError::new(format!("values[{i}]"), "could not be read");
        let v: Unknown<'_> = arr.get(i).ok().flatten().ok_or_else(unreadable)?;
        let mut written = 0usize;
        // SAFETY: `env` and `v` are live for this call; `buf` is writable for
        // its length, and napi writes at most `len - 1` units and a NUL.
        let status = unsafe {
            napi::sys::napi_get_value_string_utf16(
                env.raw(),
                v.raw(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut written,
            )
        };
        let valid = if status != napi::sys::Status::napi_ok {
            // Not a string: the TypeError that names the item.
            string_arg(&v, &format!("values[{i}]"))?;
            return Err(unreadable().into());
        } else if written < buf.len() - 1 {
            ird_utf16(&buf[..written])
        } else {
            // It may not have fit: read it whole.
            let whole = string_arg(&v, &format!("values[{i}]"))?;
            IrdNumber::is_valid(&whole)
        };
        out.push(valid);
    }
    Ok(out)
}

/// Whether UTF-16 text is a valid IRD number (the lenient form).
fn ird_utf16(units: &[u16]) -> bool {
    let ascii = |u: u16| u8::try_from(u).ok().filter(u8::is_ascii);
    let mut bytes = [0u8; 32];
    if units.len() > bytes.len() {
        // Long (leading or trailing spaces, or not a number at all).
        return units
            .iter()
            .map(|&u| ascii(u))
            .collect::<Option<Vec<u8>>>()
            .is_some_and(|b| IrdNumber::parse_lenient_bytes(&b).is_ok());
    }
    for (b, &u) in bytes.iter_mut().zip(units) {
        match ascii(u) {
            Some(c) => *b = c,
            None => return false,
        }
    }
    IrdNumber::parse_lenient_bytes(&bytes[..units.len()]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::ird_utf16;

    #[test]
    fn utf16_agrees_with_the_core() {
        for s in [
            "49091850",
            "049091850",
            "49-091-850",
            "136410133",
            "",
            " 049 091 850 ",
            "\u{130}49091850",
            "4909185\u{660}",
            "\u{a0}49091850",
            "\u{ff10}49091850",
            "                                        049091850    ",
            "                                        049091850   x",
        ] {
            let units: Vec<u16> = s.encode_utf16().collect();
            assert_eq!(
                ird_utf16(&units),
                nzpir::IrdNumber::parse_lenient(s).is_ok(),
                "{s:?}"
            );
        }
    }
}

//! IRD numbers: one at a time with a reason, normalised into a caller's
//! buffer, and in bulk without allocating.

use std::ffi::{CStr, c_char};

use nzpir::{FieldError, IrdError, IrdNumber, Rule};

use crate::boundary;
use crate::error::nzpir_error;
use crate::status::nzpir_status;
use crate::strings::out_ptr;

/// The buffer size `nzpir_ird_normalise` needs: nine digits and the NUL.
pub const NZPIR_IRD_BUFFER_LEN: usize = 10;

/// Why a string is or is not a valid IRD number.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nzpir_ird_reason {
    /// A valid IRD number.
    Valid = 0,
    /// Something other than digits (and, between digits, single `-` or space).
    NotDigits = 1,
    /// Not 8 or 9 digits.
    WrongLength = 2,
    /// Below 10,000,000 or above 200,000,000 (IR's range since 1 April 2026).
    OutOfRange = 3,
    /// The check digit does not match IR's modulus-11 rule.
    CheckDigit = 4,
    /// The argument was NULL.
    NullArgument = 5,
    /// Invalid for a reason this version does not name.
    Other = 99,
}

impl From<IrdError> for nzpir_ird_reason {
    fn from(e: IrdError) -> Self {
        match e {
            IrdError::NotDigits => nzpir_ird_reason::NotDigits,
            IrdError::WrongLength => nzpir_ird_reason::WrongLength,
            IrdError::OutOfRange => nzpir_ird_reason::OutOfRange,
            IrdError::CheckDigit => nzpir_ird_reason::CheckDigit,
            _ => nzpir_ird_reason::Other,
        }
    }
}

/// The bytes of a C string, or none for NULL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: forwarded.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Whether `ird` is a valid IRD number, in IR's wire form (8 or 9 digits) or as
/// people type it (`49-091-850`, `049 091 850`, surrounding white space).
/// When `reason_out` is not NULL it receives the reason (`NZPIR_IRD_REASON_VALID`
/// when valid). Any bytes are accepted: non-ASCII is simply not a digit. NULL
/// is not valid (`NZPIR_IRD_REASON_NULL_ARGUMENT`).
///
/// Allocates nothing. Thread-safe.
///
/// # Safety
/// `ird` is NULL or a NUL-terminated string; `reason_out` is NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_ird_validate(
    ird: *const c_char,
    reason_out: *mut nzpir_ird_reason,
) -> bool {
    boundary::catch(false, || {
        // SAFETY: per this function's contract.
        let reason = match unsafe { bytes(ird) } {
            None => nzpir_ird_reason::NullArgument,
            Some(b) => match IrdNumber::parse_lenient_bytes(b) {
                Ok(_) => nzpir_ird_reason::Valid,
                Err(e) => e.into(),
            },
        };
        if !reason_out.is_null() {
            // SAFETY: per this function's contract.
            unsafe { reason_out.write(reason) };
        }
        reason == nzpir_ird_reason::Valid
    })
}

/// The reason in words (`"fails the modulus-11 check digit"`); it never
/// repeats the input. Static: do not free. Takes the number so that any value
/// is safe to pass; unknown numbers give `"not a valid IRD number"`.
#[unsafe(no_mangle)]
pub extern "C" fn nzpir_ird_reason_message(reason: u32) -> *const c_char {
    boundary::catch(c"not a valid IRD number".as_ptr(), || {
        let text: &'static CStr = match reason {
            0 => c"is a valid IRD number",
            1 => IrdError::NotDigits.c_message(),
            2 => IrdError::WrongLength.c_message(),
            3 => IrdError::OutOfRange.c_message(),
            4 => IrdError::CheckDigit.c_message(),
            5 => c"is NULL",
            _ => c"not a valid IRD number",
        };
        text.as_ptr()
    })
}

/// Writes the 9-digit wire form of a valid IRD number (`"049091850"` for
/// `49-091-850`) and its NUL into `buf`, which holds `buf_len` bytes (at least
/// `NZPIR_IRD_BUFFER_LEN`). An invalid number is `NZPIR_STATUS_INVALID_INPUT`
/// with one field entry (`IRD` and the rule, e.g. `ird_check_digit`); a short
/// buffer is `NZPIR_STATUS_BUFFER_TOO_SMALL`. `buf` is written only on success.
///
/// Thread-safe.
///
/// # Safety
/// `ird` is NULL or a NUL-terminated string; `buf` is NULL or valid for
/// writing `buf_len` bytes; `err_out` is NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_ird_normalise(
    ird: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let input = bytes(ird).ok_or_else(|| nzpir_error::null_argument("ird"))?;
            let buf = out_ptr(buf, "buf")?;
            if buf_len < NZPIR_IRD_BUFFER_LEN {
                return Err(nzpir_error::buffer_too_small("buf", NZPIR_IRD_BUFFER_LEN));
            }
            let n = IrdNumber::parse_lenient_bytes(input).map_err(|e| {
                nzpir::Error::invalid_input(vec![FieldError::new("IRD", Rule::Ird(e))])
            })?;
            let digits = n.to_digits();
            std::ptr::copy_nonoverlapping(digits.as_ptr(), buf.cast::<u8>(), digits.len());
            buf.add(digits.len()).write(0);
            Ok(())
        })
    }
}

/// One element of the caller's array, read as bytes when the validator asks.
#[repr(transparent)]
struct CStrPtr(*const c_char);

impl AsRef<[u8]> for CStrPtr {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: only built over the array `nzpir_ird_validate_many` was
        // given, whose elements are NULL or NUL-terminated strings.
        unsafe { bytes(self.0) }.unwrap_or_default()
    }
}

/// Validates `count` IRD numbers at once (the lenient form of
/// `nzpir_ird_validate`), writing `valid_out[i]` for each `irds[i]`, and the
/// number of valid ones to `valid_count_out` when it is not NULL. A NULL
/// element is not valid. Allocates nothing; `irds` and `valid_out` may be NULL
/// when `count` is 0. Outputs are written only on success.
///
/// Thread-safe.
///
/// # Safety
/// `irds` points to `count` pointers, each NULL or a NUL-terminated string;
/// `valid_out` is valid for writing `count` `bool`s; `valid_count_out` and
/// `err_out` are NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_ird_validate_many(
    irds: *const *const c_char,
    count: usize,
    valid_out: *mut bool,
    valid_count_out: *mut usize,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let valid = if count == 0 {
                0
            } else {
                if irds.is_null() {
                    return Err(nzpir_error::null_argument("irds"));
                }
                let valid_out = out_ptr(valid_out, "valid_out")?;
                if count > isize::MAX as usize / size_of::<*const c_char>() {
                    return Err(nzpir_error::too_large(
                        "count",
                        isize::MAX as usize / size_of::<*const c_char>(),
                    ));
                }
                // `CStrPtr` is `repr(transparent)` over the element type.
                let inputs = std::slice::from_raw_parts(irds.cast::<CStrPtr>(), count);
                // The caller's array may hold any bytes; make every element a
                // valid `bool` before a Rust slice points at it.
                std::ptr::write_bytes(valid_out, 0, count);
                let out = std::slice::from_raw_parts_mut(valid_out, count);
                nzpir::ird::validate_into(inputs, out)
            };
            if !valid_count_out.is_null() {
                valid_count_out.write(valid);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_match_the_core() {
        for (s, r) in [
            (c"49-091-850", nzpir_ird_reason::Valid),
            (c"136410133", nzpir_ird_reason::CheckDigit),
            (c"12345678x", nzpir_ird_reason::NotDigits),
            (c"1234567", nzpir_ird_reason::WrongLength),
            (c"009999999", nzpir_ird_reason::OutOfRange),
        ] {
            let mut reason = nzpir_ird_reason::Other;
            let ok = unsafe { nzpir_ird_validate(s.as_ptr(), &mut reason) };
            assert_eq!(reason, r, "{s:?}");
            assert_eq!(ok, r == nzpir_ird_reason::Valid);
        }
        for e in [
            IrdError::NotDigits,
            IrdError::WrongLength,
            IrdError::OutOfRange,
            IrdError::CheckDigit,
        ] {
            let r = nzpir_ird_reason::from(e);
            assert_eq!(r as u32, u32::from(e.as_u8()));
            let words = unsafe { CStr::from_ptr(nzpir_ird_reason_message(r as u32)) };
            assert_eq!(words.to_str().ok(), Some(e.message()));
        }
    }

    #[test]
    fn bulk_matches_single() {
        let inputs = [c"49091850", c"136410133", c"49-091-850", c"x"];
        let mut ptrs: Vec<*const c_char> = inputs.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        let mut out = [true; 5];
        let mut n = 0usize;
        let status = unsafe {
            nzpir_ird_validate_many(
                ptrs.as_ptr(),
                ptrs.len(),
                out.as_mut_ptr(),
                &mut n,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, nzpir_status::Ok);
        assert_eq!(out, [true, false, true, false, false]);
        assert_eq!(n, 2);
    }
}

//! Strings across the boundary: bounded, UTF-8-checked reading of arguments,
//! and strings handed out to the caller.

use std::ffi::{CString, c_char};

use crate::boundary;
use crate::error::nzpir_error;

/// The largest JSON text (configuration or request) nzpir accepts, in bytes
/// (1 MiB). Longer input is refused with `NZPIR_STATUS_TOO_LARGE`.
pub const NZPIR_MAX_JSON_BYTES: usize = 1_048_576;

/// The longest file path nzpir accepts, in bytes.
pub const NZPIR_MAX_PATH_BYTES: usize = 4096;

/// The longest URL, OAuth state or PKCE verifier nzpir accepts, in bytes.
pub const NZPIR_MAX_URL_BYTES: usize = 16384;

/// The bytes of a NUL-terminated argument, reading at most `max` bytes
/// before the NUL: longer input is refused without reading on.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string, or to at least `max + 1`
/// readable bytes.
pub(crate) unsafe fn arg_bytes<'a>(
    p: *const c_char,
    name: &'static str,
    max: usize,
) -> Result<&'a [u8], nzpir_error> {
    if p.is_null() {
        return Err(nzpir_error::null_argument(name));
    }
    let mut len = 0usize;
    // SAFETY: every byte read is at or before the terminating NUL, or within
    // the first `max + 1` bytes.
    while unsafe { *p.add(len) } != 0 {
        if len == max {
            return Err(nzpir_error::too_large(name, max));
        }
        len += 1;
    }
    // SAFETY: `len` bytes before the NUL were just read.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// A NUL-terminated UTF-8 argument of at most `max` bytes.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_str<'a>(
    p: *const c_char,
    name: &'static str,
    max: usize,
) -> Result<&'a str, nzpir_error> {
    // SAFETY: forwarded.
    let bytes = unsafe { arg_bytes(p, name, max) }?;
    std::str::from_utf8(bytes).map_err(|e| nzpir_error::invalid_utf8(name, e.valid_up_to()))
}

/// A reference from a handle argument.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` handed out by nzpir.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &'static str) -> Result<&'a T, nzpir_error> {
    // SAFETY: forwarded.
    unsafe { p.as_ref() }.ok_or_else(|| nzpir_error::null_argument(name))
}

/// Checks that an out-pointer is not NULL.
pub(crate) fn out_ptr<T>(p: *mut T, name: &'static str) -> Result<*mut T, nzpir_error> {
    if p.is_null() {
        Err(nzpir_error::null_argument(name))
    } else {
        Ok(p)
    }
}

/// A C string of `s`; a NUL inside (never in nzpir's own text) is dropped.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|b| *b != 0);
        CString::new(bytes).unwrap_or_default()
    })
}

/// Frees a string nzpir handed out (`char *` results of nzpir calls), after
/// overwriting it with zeros: some of them are secrets (an OAuth state or PKCE
/// verifier). NULL is allowed and does nothing.
///
/// Never pass a string nzpir did not allocate, a `const char *` nzpir lends
/// (accessors of handles; `nzpir_version`), or the same string twice.
///
/// # Safety
/// `s` is NULL or a string nzpir handed out as `char *` and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_string_free(s: *mut c_char) {
    boundary::catch((), || {
        if s.is_null() {
            return;
        }
        // SAFETY: `s` came from `CString::into_raw` (the only way nzpir hands out `char *`).
        let owned = unsafe { CString::from_raw(s) };
        let mut bytes = owned.into_bytes_with_nul();
        for b in &mut bytes {
            // SAFETY: `b` is a valid, exclusive reference; volatile keeps the wipe.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    });
}

/// Hands a string to the caller, who frees it with `nzpir_string_free`.
pub(crate) fn give_string(s: &str) -> *mut c_char {
    c_string(s).into_raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::nzpir_status;

    #[test]
    fn arguments_are_bounded_and_checked() {
        let s = c"hello";
        assert_eq!(unsafe { arg_str(s.as_ptr(), "s", 5) }.ok(), Some("hello"));
        let e = unsafe { arg_str(s.as_ptr(), "s", 4) }.expect_err("too large");
        assert_eq!(e.status(), nzpir_status::TooLarge);
        let e = unsafe { arg_str(std::ptr::null(), "s", 4) }.expect_err("null");
        assert_eq!(e.status(), nzpir_status::NullArgument);
        let bad = c"ab\xff";
        let e = unsafe { arg_str(bad.as_ptr(), "s", 10) }.expect_err("utf8");
        assert_eq!(e.status(), nzpir_status::InvalidUtf8);
        assert!(e.message().contains("byte 2"), "{}", e.message());
        assert_eq!(unsafe { arg_str(c"".as_ptr(), "s", 0) }.ok(), Some(""));
    }

    #[test]
    fn strings_out_and_free() {
        assert_eq!(c_string("a\0b").as_bytes(), b"ab");
        let p = give_string("secret");
        unsafe { nzpir_string_free(p) };
        unsafe { nzpir_string_free(std::ptr::null_mut()) };
    }
}

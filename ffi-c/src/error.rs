//! `nzpir_error`: the details of a failed call, owned by the caller.

use std::ffi::{CStr, CString, c_char};

use crate::boundary;
use crate::status::nzpir_status;
use crate::strings::c_string;

/// One entry of IR's error body.
#[derive(Debug)]
struct IrEntry {
    code: CString,
    error_type: CString,
    message: CString,
    field: Option<CString>,
}

/// One broken rule of a request or argument.
#[derive(Debug)]
struct FieldEntry {
    field: CString,
    rule: CString,
    message: CString,
}

/// The details of a failed call: its status, the kind's name, a message, IR's
/// code and HTTP status when the gateway answered, and for invalid input every
/// broken rule (field, rule code, words).
///
/// A fallible call creates one when it fails and its `err_out` is not NULL;
/// the caller owns it and frees it with `nzpir_error_free`. Strings its
/// accessors return belong to the error and live until it is freed.
///
/// Messages are safe to log: they name fields, settings and IR's codes, never
/// an IRD number, name, date of birth, address, token or key.
///
/// Thread-safety: immutable; its accessors may be called from any thread at
/// once. Free it once, when no thread uses it.
#[derive(Debug)]
pub struct nzpir_error {
    status: nzpir_status,
    kind: &'static CStr,
    message: CString,
    ir_code: Option<CString>,
    http_status: u16,
    retryable: bool,
    attempts: u32,
    // Boxed slices, not vectors: the error is returned by value through
    // `Result`s, so its size is kept down.
    ir_errors: Box<[IrEntry]>,
    fields: Box<[FieldEntry]>,
    setting: Option<CString>,
}

impl nzpir_error {
    fn new(status: nzpir_status, message: &str) -> Self {
        nzpir_error {
            status,
            kind: status.name(),
            message: c_string(message),
            ir_code: None,
            http_status: 0,
            retryable: false,
            attempts: 0,
            ir_errors: Box::new([]),
            fields: Box::new([]),
            setting: None,
        }
    }

    pub(crate) fn status(&self) -> nzpir_status {
        self.status
    }

    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        self.message.to_str().unwrap_or_default()
    }

    /// A required pointer argument was NULL.
    pub(crate) fn null_argument(name: &str) -> Self {
        Self::new(
            nzpir_status::NullArgument,
            &format!("argument `{name}` is NULL"),
        )
    }

    /// A string argument is not UTF-8; `at` is the offset of the first bad byte.
    pub(crate) fn invalid_utf8(name: &str, at: usize) -> Self {
        Self::new(
            nzpir_status::InvalidUtf8,
            &format!("argument `{name}` is not valid UTF-8 (at byte {at})"),
        )
    }

    /// An argument is over its limit.
    pub(crate) fn too_large(name: &str, max: usize) -> Self {
        Self::new(
            nzpir_status::TooLarge,
            &format!("argument `{name}` is larger than {max} bytes"),
        )
    }

    /// A caller's buffer is too small.
    pub(crate) fn buffer_too_small(name: &str, needed: usize) -> Self {
        Self::new(
            nzpir_status::BufferTooSmall,
            &format!("buffer `{name}` is too small: {needed} bytes are needed"),
        )
    }

    /// A panic was caught at the boundary.
    pub(crate) fn panic() -> Self {
        Self::new(
            nzpir_status::Panic,
            "internal error in nzpir (a panic was caught at the C boundary); please report it",
        )
    }
}

impl From<nzpir::Error> for nzpir_error {
    fn from(e: nzpir::Error) -> Self {
        nzpir_error::from_ref(&e)
    }
}

impl nzpir_error {
    /// The call was stopped by the caller.
    pub(crate) fn cancelled() -> Self {
        nzpir_error::new(
            nzpir_status::Cancelled,
            "the call was cancelled by its callback",
        )
    }

    /// From an error the caller does not own (a bulk call's result).
    pub(crate) fn from_ref(e: &nzpir::Error) -> Self {
        let status = nzpir_status::from_kind(e.kind());
        nzpir_error {
            status,
            // The core's own name for the kind, also for kinds this version
            // maps to `Other`.
            kind: match status {
                nzpir_status::Other => c"other",
                s => s.name(),
            },
            message: c_string(&e.to_string()),
            ir_code: e.ir_code().map(|c| c_string(c.as_str())),
            http_status: e.http_status().unwrap_or(0),
            retryable: e.is_retryable(),
            attempts: e.attempts(),
            ir_errors: e
                .ir_errors()
                .iter()
                .map(|i| IrEntry {
                    code: c_string(i.code.as_str()),
                    error_type: c_string(&i.error_type),
                    message: c_string(&i.message),
                    field: i.field().map(c_string),
                })
                .collect(),
            fields: e
                .field_errors()
                .iter()
                .map(|f| FieldEntry {
                    field: c_string(f.field),
                    rule: c_string(f.rule.code()),
                    message: c_string(&f.message()),
                })
                .collect(),
            setting: e
                .setting()
                .map(|s| c_string(&s.name_in(nzpir::options::Surface::Json))),
        }
    }
}

/// Reads an error argument; NULL gives `default`.
fn with<T>(err: *const nzpir_error, default: T, f: impl FnOnce(&nzpir_error) -> T) -> T
where
    T: Copy,
{
    boundary::catch(default, || {
        // SAFETY: the caller passes NULL or a live error (documented on each accessor).
        match unsafe { err.as_ref() } {
            Some(e) => f(e),
            None => default,
        }
    })
}

/// The error's status. NULL gives `NZPIR_STATUS_OK` (no error).
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_status(err: *const nzpir_error) -> nzpir_status {
    with(err, nzpir_status::Ok, |e| e.status)
}

/// The kind's name, as every nzpir binding spells it: `invalid_input`,
/// `config`, `tls`, `transport`, `timeout`, `authentication`, `authorisation`,
/// `rate_limited`, `rejected`, `server`, `consent_required`, `token_store`,
/// `other`, or for failures at the C boundary `null_argument`,
/// `invalid_utf8`, `too_large`, `buffer_too_small`, `panic`. Static: do not
/// free. NULL gives `"ok"`.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_kind(err: *const nzpir_error) -> *const c_char {
    with(err, c"ok".as_ptr(), |e| e.kind.as_ptr())
}

/// The message: one line, safe to log (no personal data or secrets). Owned by
/// the error. NULL gives an empty string.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_message(err: *const nzpir_error) -> *const c_char {
    with(err, c"".as_ptr(), |e| e.message.as_ptr())
}

/// IR's error code (`"EV1041"`, `"IR003"`, ...) when the gateway sent one,
/// else NULL. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_code(err: *const nzpir_error) -> *const c_char {
    with(err, std::ptr::null(), |e| {
        e.ir_code.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    })
}

/// The HTTP status of the gateway's answer, or 0 when there was none.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_http_status(err: *const nzpir_error) -> u16 {
    with(err, 0, |e| e.http_status)
}

/// Whether trying the same call again later may succeed (transient faults:
/// timeouts, broken connections, PIR150, 502/503/504). nzpir has already
/// retried per its configuration before it failed.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_is_retryable(err: *const nzpir_error) -> bool {
    with(err, false, |e| e.retryable)
}

/// How many times the gateway was called before the call failed (retries
/// included); 0 when nothing was sent (local validation, configuration, an
/// argument).
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_attempts(err: *const nzpir_error) -> u32 {
    with(err, 0, |e| e.attempts)
}

/// The setting a configuration error is about, by its key in the JSON
/// configuration (`"environment"`, `"tls.client_key"`, `"max_retries"`),
/// or NULL when the error is not about one setting. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_setting(err: *const nzpir_error) -> *const c_char {
    with(err, std::ptr::null(), |e| {
        e.setting.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    })
}

/// How many errors IR's answer listed (every one, in IR's order; the first
/// is `nzpir_error_ir_code`); 0 when the gateway sent none.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_error_count(err: *const nzpir_error) -> usize {
    with(err, 0, |e| e.ir_errors.len())
}

fn ir_str(
    err: *const nzpir_error,
    index: usize,
    pick: impl FnOnce(&IrEntry) -> Option<&CString>,
) -> *const c_char {
    with(err, std::ptr::null(), |e| {
        e.ir_errors
            .get(index)
            .and_then(pick)
            .map_or(std::ptr::null(), |c| c.as_ptr())
    })
}

/// IR's code of IR error `index` (`"EV1100"`, ...), or NULL when `index` is
/// out of range. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_error_code(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    ir_str(err, index, |i| Some(&i.code))
}

/// IR's class of IR error `index` (`validation`, `security`, `server`,
/// `result`), or NULL when `index` is out of range. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_error_type(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    ir_str(err, index, |i| Some(&i.error_type))
}

/// IR's message for IR error `index` (IR's own text for the code; empty for
/// a code this version does not know), or NULL when `index` is out of range.
/// Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_error_message(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    ir_str(err, index, |i| Some(&i.message))
}

/// The field IR error `index` names (EV1100's `Field: Country`), or NULL
/// when it names none or `index` is out of range. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_ir_error_field(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    ir_str(err, index, |i| i.field.as_ref())
}

/// How many broken rules the error lists (invalid input only; else 0).
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_field_count(err: *const nzpir_error) -> usize {
    with(err, 0, |e| e.fields.len())
}

fn field_str(
    err: *const nzpir_error,
    index: usize,
    pick: impl FnOnce(&FieldEntry) -> &CString,
) -> *const c_char {
    with(err, std::ptr::null(), |e| {
        e.fields
            .get(index)
            .map_or(std::ptr::null(), |f| pick(f).as_ptr())
    })
}

/// The field of broken rule `index`, in the request's own terms (`IRD`,
/// `Name.FirstName`, `Address.Country`), or NULL when `index` is out of range.
/// Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_field_name(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    field_str(err, index, |f| &f.field)
}

/// The stable code of broken rule `index` (`required`, `ird_check_digit`,
/// `max_length`, `filing_period_march_31`, `country_code`, ...), or NULL when
/// `index` is out of range. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_field_rule(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    field_str(err, index, |f| &f.rule)
}

/// Broken rule `index` in words, without the field (`must be 31 March of a
/// tax year`), or NULL when `index` is out of range. Owned by the error.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_field_message(
    err: *const nzpir_error,
    index: usize,
) -> *const c_char {
    field_str(err, index, |f| &f.message)
}

/// Frees an error. NULL is allowed and does nothing.
///
/// # Safety
/// `err` is NULL or an error from nzpir, not yet freed; no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_error_free(err: *mut nzpir_error) {
    boundary::catch((), || {
        if !err.is_null() {
            // SAFETY: errors are handed out by `Box::into_raw` in `boundary::run`.
            drop(unsafe { Box::from_raw(err) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use nzpir::{ErrorKind, FieldError, IrCode, IrErrorBody, IrErrorItem, Rule};

    fn cstr<'a>(p: *const c_char) -> &'a str {
        assert!(!p.is_null());
        unsafe { CStr::from_ptr(p) }.to_str().expect("utf-8")
    }

    #[test]
    fn core_errors_keep_code_status_and_fields() {
        let e: nzpir_error =
            nzpir::Error::from_ir(401, IrErrorBody::single(IrErrorItem::new(IrCode::IR003))).into();
        let p: *const nzpir_error = &e;
        unsafe {
            assert_eq!(nzpir_error_status(p), nzpir_status::RateLimited);
            assert_eq!(cstr(nzpir_error_kind(p)), "rate_limited");
            assert_eq!(cstr(nzpir_error_ir_code(p)), "IR003");
            assert_eq!(nzpir_error_http_status(p), 401);
            assert!(!nzpir_error_is_retryable(p));
            assert!(cstr(nzpir_error_message(p)).contains("IR003"));
            assert_eq!(nzpir_error_field_count(p), 0);
            assert!(nzpir_error_field_name(p, 0).is_null());
        }

        let e: nzpir_error = nzpir::Error::invalid_input(vec![
            FieldError::new("IRD", Rule::Ird(nzpir::IrdError::CheckDigit)),
            FieldError::new("Address.Country", Rule::CountryCode),
        ])
        .into();
        let p: *const nzpir_error = &e;
        unsafe {
            assert_eq!(nzpir_error_status(p), nzpir_status::InvalidInput);
            assert!(nzpir_error_ir_code(p).is_null());
            assert_eq!(nzpir_error_http_status(p), 0);
            assert_eq!(nzpir_error_field_count(p), 2);
            assert_eq!(cstr(nzpir_error_field_name(p, 1)), "Address.Country");
            assert_eq!(cstr(nzpir_error_field_rule(p, 0)), "ird_check_digit");
            assert_eq!(
                cstr(nzpir_error_field_message(p, 0)),
                "fails the modulus-11 check digit"
            );
            assert!(nzpir_error_field_rule(p, 2).is_null());
        }
    }

    #[test]
    fn every_ir_error_and_the_attempts_are_kept() {
        let body = IrErrorBody {
            errors: vec![
                IrErrorItem::invalid_field("Country"),
                IrErrorItem::new(IrCode::PIR101),
            ],
        };
        let e: nzpir_error = nzpir::Error::from_ir(400, body).into();
        let p: *const nzpir_error = &e;
        unsafe {
            assert_eq!(nzpir_error_ir_error_count(p), 2);
            assert_eq!(cstr(nzpir_error_ir_error_code(p, 0)), "EV1100");
            assert_eq!(cstr(nzpir_error_ir_error_field(p, 0)), "Country");
            assert_eq!(cstr(nzpir_error_ir_error_type(p, 0)), "validation");
            assert_eq!(cstr(nzpir_error_ir_error_code(p, 1)), "PIR101");
            assert_eq!(
                cstr(nzpir_error_ir_error_message(p, 1)),
                "PieIRD must be provided."
            );
            assert!(nzpir_error_ir_error_field(p, 1).is_null());
            assert!(nzpir_error_ir_error_code(p, 2).is_null());
            assert_eq!(nzpir_error_attempts(p), 0);
            assert_eq!(nzpir_error_ir_error_count(std::ptr::null()), 0);
            assert_eq!(nzpir_error_attempts(std::ptr::null()), 0);
        }
    }

    #[test]
    fn null_errors_read_as_no_error() {
        let p = std::ptr::null();
        unsafe {
            assert_eq!(nzpir_error_status(p), nzpir_status::Ok);
            assert_eq!(cstr(nzpir_error_kind(p)), "ok");
            assert_eq!(cstr(nzpir_error_message(p)), "");
            assert!(nzpir_error_ir_code(p).is_null());
            assert_eq!(nzpir_error_field_count(p), 0);
            nzpir_error_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn every_kind_converts() {
        for kind in ErrorKind::ALL {
            let e: nzpir_error = nzpir::Error::new(kind, "x").into();
            assert_eq!(e.kind.to_str().ok(), Some(kind.as_str()));
            // The core's table of every surface's names holds C's status.
            assert_eq!(e.status as u32, kind.contract().c_status, "{kind}");
        }
    }
}

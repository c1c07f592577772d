//! The C ABI's JSON entry points, called as a C program would: through the
//! `extern "C"` functions, with NUL-terminated copies of the input.
//!
//! The first byte picks the call; the rest (up to the first NUL) is its text:
//! - `nzpir_client_new_from_json` (a client is freed again at once);
//! - `nzpir_client_lookup` on one client whose gateway is a closed port on
//!   loopback, local validation on: a request that passes the core's checks
//!   must fail as a transport error, anything else as invalid input;
//! - `nzpir_ird_validate` and `nzpir_ird_normalise`, against the core;
//! - `nzpir_ird_validate_many` over the input's lines.
//!
//! No call may report a caught panic, every handle is freed (AddressSanitizer
//! reports leaks), and no error message holds anything shaped like an IRD
//! number or quotes the input's values.
#![no_main]

mod common;

use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nzpir::{IrdNumber, PirRequest};
use nzpir_ffi::{
    NZPIR_IRD_BUFFER_LEN, nzpir_client, nzpir_client_free, nzpir_client_lookup,
    nzpir_client_new_from_json, nzpir_error, nzpir_error_field_count, nzpir_error_field_message,
    nzpir_error_field_name, nzpir_error_field_rule, nzpir_error_free, nzpir_error_kind,
    nzpir_error_message, nzpir_error_status, nzpir_ird_normalise, nzpir_ird_reason,
    nzpir_ird_validate, nzpir_ird_validate_many, nzpir_outcome, nzpir_outcome_free,
    nzpir_status,
};

/// Port 1 on loopback: nothing listens there (tcpmux is long gone), so a
/// connection is refused at once.
const CLOSED: &str = r#"{"endpoint":"https://127.0.0.1:1","max_retries":0,"timeout_secs":5,"connect_timeout_secs":2,"validate_locally":true}"#;

struct Shared(*mut nzpir_client);
// SAFETY: an nzpir_client may be used from any thread (the ABI's contract).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

fn closed_port_client() -> *const nzpir_client {
    static CLIENT: OnceLock<Shared> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let cfg = CString::new(CLOSED).expect("no NUL");
            let mut client = ptr::null_mut();
            let mut err = ptr::null_mut();
            let status = unsafe { nzpir_client_new_from_json(cfg.as_ptr(), &mut client, &mut err) };
            assert_eq!(status, nzpir_status::Ok, "the closed-port client builds");
            Shared(client)
        })
        .0
}

fn c_text(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("cut at the first NUL")
}

/// Checks and frees an error handed out by a call.
fn check_error(err: *mut nzpir_error, status: nzpir_status, values: &[String]) {
    assert!(!err.is_null(), "a failed call with err_out hands out an error");
    unsafe {
        assert_eq!(nzpir_error_status(err), status);
        let kind = CStr::from_ptr(nzpir_error_kind(err));
        assert!(!kind.to_bytes().is_empty());
        let msg = CStr::from_ptr(nzpir_error_message(err)).to_string_lossy().into_owned();
        common::assert_no_ird_like("nzpir_error_message", &msg);
        common::assert_no_quoted_value("nzpir_error_message", &msg, values);
        for i in 0..nzpir_error_field_count(err) {
            for s in [
                nzpir_error_field_name(err, i),
                nzpir_error_field_rule(err, i),
                nzpir_error_field_message(err, i),
            ] {
                assert!(!s.is_null());
                common::assert_no_ird_like("field entry", &CStr::from_ptr(s).to_string_lossy());
            }
        }
        nzpir_error_free(err);
    }
}

/// Whether the configuration names a path that exists and is not a small
/// regular file (`/dev/zero`, `/dev/stdin`): reading it would hang the run,
/// and the ABI reads what the configuration names.
fn names_a_special_file(values: &[String]) -> bool {
    values.iter().any(|v| {
        let p = Path::new(v);
        !v.is_empty()
            && std::fs::metadata(p).is_ok_and(|m| !m.is_file() || m.len() > 1 << 20)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let text = c_text(rest);
    let values = common::json_values(text.as_bytes());
    match op % 4 {
        0 => {
            if names_a_special_file(&values) {
                return;
            }
            let (mut client, mut err) = (ptr::null_mut(), ptr::null_mut());
            let status = unsafe { nzpir_client_new_from_json(text.as_ptr(), &mut client, &mut err) };
            assert_ne!(status, nzpir_status::Panic);
            if status == nzpir_status::Ok {
                assert!(!client.is_null() && err.is_null());
                unsafe { nzpir_client_free(client) };
            } else {
                assert!(client.is_null());
                check_error(err, status, &values);
            }
        }
        1 => {
            let client = closed_port_client();
            let (mut outcome, mut err): (*mut nzpir_outcome, _) = (ptr::null_mut(), ptr::null_mut());
            let status = unsafe { nzpir_client_lookup(client, text.as_ptr(), &mut outcome, &mut err) };
            assert_ne!(status, nzpir_status::Panic);
            assert!(outcome.is_null(), "nothing answers on the closed port");
            let expected = if std::str::from_utf8(text.as_bytes()).is_err() {
                nzpir_status::InvalidUtf8
            } else {
                match PirRequest::from_json(text.as_bytes()).and_then(|r| r.validate()) {
                    Ok(()) => nzpir_status::Transport,
                    Err(_) => nzpir_status::InvalidInput,
                }
            };
            assert_eq!(status, expected);
            check_error(err, status, &values);
            unsafe { nzpir_outcome_free(outcome) };
        }
        2 => {
            let core = IrdNumber::parse_lenient_bytes(text.as_bytes());
            let mut reason = nzpir_ird_reason::Other;
            let valid = unsafe { nzpir_ird_validate(text.as_ptr(), &mut reason) };
            assert_eq!(valid, core.is_ok());
            match core {
                Ok(_) => assert_eq!(reason, nzpir_ird_reason::Valid),
                Err(e) => assert_eq!(reason as u32, u32::from(e.as_u8())),
            }
            let mut buf = [0x55 as c_char; NZPIR_IRD_BUFFER_LEN];
            let mut err = ptr::null_mut();
            let status =
                unsafe { nzpir_ird_normalise(text.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut err) };
            match core {
                Ok(n) => {
                    assert_eq!(status, nzpir_status::Ok);
                    let out = unsafe { CStr::from_ptr(buf.as_ptr()) };
                    assert_eq!(out.to_bytes(), &n.to_digits()[..]);
                }
                Err(_) => {
                    assert_eq!(status, nzpir_status::InvalidInput);
                    assert!(buf.iter().all(|b| *b == 0x55), "buf is written only on success");
                    check_error(err, status, &[]);
                }
            }
        }
        _ => {
            let lines: Vec<CString> = text.as_bytes().split(|b| *b == b'\n').map(c_text).collect();
            let mut ptrs: Vec<*const c_char> = lines.iter().map(|l| l.as_ptr()).collect();
            ptrs.push(ptr::null());
            let mut out = vec![true; ptrs.len()];
            let mut count = usize::MAX;
            let status = unsafe {
                nzpir_ird_validate_many(
                    ptrs.as_ptr(),
                    ptrs.len(),
                    out.as_mut_ptr(),
                    &mut count,
                    ptr::null_mut(),
                )
            };
            assert_eq!(status, nzpir_status::Ok);
            for (l, v) in lines.iter().zip(&out) {
                assert_eq!(*v, IrdNumber::parse_lenient_bytes(l.as_bytes()).is_ok());
            }
            assert!(!out[lines.len()], "NULL is not valid");
            assert_eq!(count, out.iter().filter(|v| **v).count());
        }
    }
});

//! The C ABI of nzpir: `libnzpir` (shared and static) and `include/nzpir.h`,
//! which cbindgen generates from this crate (see `cbindgen.toml`; the
//! `header` test fails when the committed header differs).
//!
//! Conventions (the README's "C" section says the same for C programmers):
//! - every fallible call returns an [`nzpir_status`] and, when it fails and
//!   its last argument `err_out` is not NULL, hands out an owned
//!   [`nzpir_error`] with the details;
//! - handles are opaque and owned by the caller, each with its `_free`
//!   function, which accepts NULL; strings handed out as `char *` are freed
//!   with [`nzpir_string_free`]; `const char *` results are lent and live as
//!   long as the handle they came from (or forever, for static ones);
//! - self first, inputs `const`, outputs last and written only on success;
//! - NULL arguments, invalid UTF-8 and oversized inputs are errors, never
//!   crashes; no panic crosses the boundary ([`boundary`]);
//! - nothing here logs, and no argument is ever put in a message.

#![allow(non_camel_case_types)]

mod boundary;
mod bulk;
mod client;
mod error;
mod estimate;
mod ird;
mod oauth;
mod status;
mod strings;

use std::ffi::c_char;

pub use bulk::{
    NZPIR_BULK_END, NZPIR_BULK_NEXT, nzpir_bulk_next_fn, nzpir_bulk_result_fn,
    nzpir_client_lookup_many,
};
pub use client::{
    nzpir_client, nzpir_client_free, nzpir_client_lookup, nzpir_client_new_from_file,
    nzpir_client_new_from_json, nzpir_client_status, nzpir_outcome, nzpir_outcome_free,
    nzpir_outcome_ird, nzpir_outcome_is_not_found, nzpir_outcome_json, nzpir_outcome_pie_ird,
    nzpir_outcome_rate, nzpir_outcome_rate_hundredths,
};
pub use error::{
    nzpir_error, nzpir_error_field_count, nzpir_error_field_message, nzpir_error_field_name,
    nzpir_error_field_rule, nzpir_error_free, nzpir_error_http_status, nzpir_error_ir_code,
    nzpir_error_is_retryable, nzpir_error_kind, nzpir_error_message, nzpir_error_setting,
    nzpir_error_status,
};
pub use estimate::nzpir_estimate_pir;
pub use ird::{
    NZPIR_IRD_BUFFER_LEN, nzpir_ird_normalise, nzpir_ird_reason, nzpir_ird_reason_message,
    nzpir_ird_validate, nzpir_ird_validate_many,
};
pub use oauth::{
    NZPIR_TOKEN_STORE_EMPTY, NZPIR_TOKEN_STORE_MAX_BYTES, NZPIR_TOKEN_STORE_OK,
    nzpir_client_new_with_token_store, nzpir_oauth_authorization_request,
    nzpir_oauth_authorization_url, nzpir_oauth_complete_authorization, nzpir_oauth_exchange,
    nzpir_oauth_refresh, nzpir_token_load_fn, nzpir_token_save_fn, nzpir_token_store,
};
pub use status::{nzpir_status, nzpir_status_name};
pub use strings::{
    NZPIR_MAX_JSON_BYTES, NZPIR_MAX_PATH_BYTES, NZPIR_MAX_URL_BYTES, nzpir_string_free,
};

/// The library's major version (the `x` of `x.y.z`).
pub const NZPIR_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const NZPIR_VERSION_MINOR: u32 = 1;
/// The library's patch version.
pub const NZPIR_VERSION_PATCH: u32 = 0;

/// The version of this ABI. It changes whenever a function, type or constant
/// of this header changes incompatibly; a program checks at start-up that
/// `nzpir_abi_version()` (the loaded library) equals `NZPIR_ABI_VERSION` (the
/// header it was compiled with).
pub const NZPIR_ABI_VERSION: u32 = 1;

/// nzpir's version (`"0.1.0"`). Static: do not free. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn nzpir_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = {
        match std::ffi::CStr::from_bytes_with_nul(
            concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
        ) {
            Ok(v) => v,
            Err(_) => c"unknown",
        }
    };
    boundary::catch(c"unknown".as_ptr(), || VERSION.as_ptr())
}

/// The ABI version of the loaded library (see `NZPIR_ABI_VERSION`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn nzpir_abi_version() -> u32 {
    boundary::catch(NZPIR_ABI_VERSION, || NZPIR_ABI_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_crate() {
        let parts: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().expect("number"))
            .collect();
        assert_eq!(
            parts,
            [
                NZPIR_VERSION_MAJOR,
                NZPIR_VERSION_MINOR,
                NZPIR_VERSION_PATCH
            ]
        );
        let v = unsafe { std::ffi::CStr::from_ptr(nzpir_version()) };
        assert_eq!(v.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(v.to_str().ok(), Some(nzpir::VERSION));
        assert_eq!(nzpir_abi_version(), NZPIR_ABI_VERSION);
    }
}

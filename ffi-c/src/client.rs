//! `nzpir_client` and `nzpir_outcome`: configuration in, lookups and the
//! status check out.

use std::ffi::{CString, c_char};
use std::sync::{Arc, OnceLock};

use nzpir::oauth::TokenStore;
use nzpir::{ClientBuilder, Config, PirOutcome, PirRequest};

use crate::boundary;
use crate::error::nzpir_error;
use crate::status::nzpir_status;
use crate::strings::{
    NZPIR_MAX_JSON_BYTES, NZPIR_MAX_PATH_BYTES, arg_ref, arg_str, c_string, give_string, out_ptr,
};

/// A client of IR's PIR gateway: its endpoint, TLS identity, authentication,
/// timeouts and retries, and its kept-alive connections.
///
/// Created by `nzpir_client_new_from_json`, `nzpir_client_new_from_file` or
/// `nzpir_client_new_with_token_store`; freed with `nzpir_client_free`.
///
/// Thread-safety: every function that takes a `const nzpir_client *` may be
/// called on one client from any number of threads at once; they share its
/// connections, its cached JWT and its OAuth tokens (one refresh for all).
/// Free it once, after every call on it has returned.
#[derive(Debug)]
pub struct nzpir_client {
    pub(crate) client: nzpir::Client,
}

/// The C ABI's client from a configuration, with a host token store for OAuth.
pub(crate) fn build(
    cfg: &Config,
    store: Option<Arc<dyn TokenStore>>,
) -> Result<Box<nzpir_client>, nzpir_error> {
    let mut builder = ClientBuilder::from_config(cfg)?.user_agent_suffix("c");
    if let Some(store) = store {
        builder = builder.token_store(store);
    }
    Ok(Box::new(nzpir_client {
        client: builder.build()?,
    }))
}

/// Creates a client from a JSON configuration: the same schema as the TOML
/// file (`environment`, `endpoint`, `timeout_secs`, `max_retries`, `tls`,
/// `auth`, ...); unknown keys are errors. Relative file paths in it are
/// relative to the current directory. Every file it names is read here.
///
/// On success `*client_out` receives a new client (free it with
/// `nzpir_client_free`). `config_json` is at most `NZPIR_MAX_JSON_BYTES`.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `client_out` and
/// `err_out` are NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_new_from_json(
    config_json: *const c_char,
    client_out: *mut *mut nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let json = arg_str(config_json, "config_json", NZPIR_MAX_JSON_BYTES)?;
            let client_out = out_ptr(client_out, "client_out")?;
            let client = build(&Config::from_json_str(json)?, None)?;
            client_out.write(Box::into_raw(client));
            Ok(())
        })
    }
}

/// Creates a client from a configuration file: TOML, or JSON when the name
/// ends in `.json` (at most `NZPIR_MAX_JSON_BYTES`). Relative paths inside are
/// relative to the file's folder. The sandbox writes a ready one (`nzpir.toml`).
///
/// On success `*client_out` receives a new client (free it with
/// `nzpir_client_free`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `client_out` and `err_out` are
/// NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_new_from_file(
    path: *const c_char,
    client_out: *mut *mut nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let path = arg_str(path, "path", NZPIR_MAX_PATH_BYTES)?;
            let client_out = out_ptr(client_out, "client_out")?;
            let cfg = read_config_file(path)?;
            let client = build(&cfg, None)?;
            client_out.write(Box::into_raw(client));
            Ok(())
        })
    }
}

/// Reads a configuration file after checking its size.
pub(crate) fn read_config_file(path: &str) -> Result<Config, nzpir_error> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > NZPIR_MAX_JSON_BYTES as u64
    {
        return Err(nzpir_error::too_large("path", NZPIR_MAX_JSON_BYTES));
    }
    Ok(Config::from_file(path)?)
}

/// Frees a client. NULL is allowed and does nothing.
///
/// # Safety
/// `client` is NULL or a client from nzpir, not yet freed, that no other
/// thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_free(client: *mut nzpir_client) {
    boundary::catch((), || {
        if !client.is_null() {
            // SAFETY: clients are handed out by `Box::into_raw`.
            drop(unsafe { Box::from_raw(client) });
        }
    });
}

/// Asks IR for an investor's suggested PIR.
///
/// `request_json` is IR's request as JSON (at most `NZPIR_MAX_JSON_BYTES`):
/// `{"IRD":"139276507","PieIRD":"125000002"}` plus, when needed,
/// `FilingPeriod`, `FormattedName`, `Name`, `Dob`, `FormattedAddress`,
/// `Address`. Unknown members are errors; IRD numbers as people type them are
/// normalised. The request is checked locally first (unless the configuration
/// says `validate_locally: false`): nothing is sent when it breaks a rule, and
/// the error lists every broken rule. Transient faults are retried per the
/// configuration.
///
/// On success `*outcome_out` receives the outcome (a rate or "not found"; free
/// it with `nzpir_outcome_free`). Every other answer of IR is an error with
/// its status, IR's code and the HTTP status.
///
/// Thread-safe: call it from many threads on one client.
///
/// # Safety
/// `client` is NULL or a live client; `request_json` is NULL or a
/// NUL-terminated string; `outcome_out` and `err_out` are NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_lookup(
    client: *const nzpir_client,
    request_json: *const c_char,
    outcome_out: *mut *mut nzpir_outcome,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let json = arg_str(request_json, "request_json", NZPIR_MAX_JSON_BYTES)?;
            let outcome_out = out_ptr(outcome_out, "outcome_out")?;
            let request = PirRequest::from_json(json.as_bytes())?;
            let outcome = client.client.lookup(&request)?;
            outcome_out.write(Box::into_raw(Box::new(nzpir_outcome::new(outcome))));
            Ok(())
        })
    }
}

/// Checks the gateway's status endpoint: reachability, TLS and the client
/// certificate (no `Authorization` is sent). `NZPIR_STATUS_OK` when it answers
/// `OK`.
///
/// Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client; `err_out` is NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_status(
    client: *const nzpir_client,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            client.client.status()?;
            Ok(())
        })
    }
}

/// Reads the client certificate and key files again now and uses them for
/// new connections if they make a valid pair (the key matches, the
/// certificate is valid). `*changed_out` (if not NULL) receives whether a
/// different certificate is now in use. When the files are broken or do not
/// match, the error (`NZPIR_STATUS_CONFIG`) names the setting and the pair in
/// use is kept. Without this call the files are still checked, by
/// modification time and at most every 5 seconds, whenever a new connection
/// opens. An identity given inline (PEM text) is never re-read.
///
/// Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client; `changed_out` and `err_out` are NULL or
/// valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_reload_identity(
    client: *const nzpir_client,
    changed_out: *mut bool,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let changed = client.client.reload_identity()?;
            if !changed_out.is_null() {
                changed_out.write(changed);
            }
            Ok(())
        })
    }
}

/// When the client certificate in use expires (its notAfter), in seconds
/// since the Unix epoch, written to `*not_after_out`; 0 when the client has
/// no client certificate. After a renewal on disk, the new certificate's.
///
/// Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client; `not_after_out` and `err_out` are NULL
/// or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_identity_not_after(
    client: *const nzpir_client,
    not_after_out: *mut i64,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let out = out_ptr(not_after_out, "not_after_out")?;
            out.write(client.client.identity_not_after().unwrap_or(0));
            Ok(())
        })
    }
}

/// Checks a configuration (JSON, the same schema as for
/// `nzpir_client_new_from_json`) against IR's requirements and the live
/// gateway: the client certificate and key, the JWT credential, DNS, TCP, the
/// TLS handshake, the clock against the gateway's `Date`, the status endpoint
/// and, when `ird` is not NULL, one real lookup (with `pie_ird`, which may be
/// NULL). The report is JSON: `{"passed": bool, "checks": [{"id", "status"
/// ("ok", "warn", "fail" or "skip"), "detail", "action", "kind"}]}`, written
/// to `*report_out` (free it with `nzpir_string_free`). A failed check is in
/// the report, not an error: the status is not OK only when the
/// configuration JSON cannot be read or an argument is wrong.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `ird` and `pie_ird` are
/// NULL or NUL-terminated strings; `report_out` and `err_out` are NULL or
/// valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_doctor_json(
    config_json: *const c_char,
    ird: *const c_char,
    pie_ird: *const c_char,
    report_out: *mut *mut c_char,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let json = arg_str(config_json, "config_json", NZPIR_MAX_JSON_BYTES)?;
            let optional = |p: *const c_char, name: &'static str| {
                if p.is_null() {
                    Ok(None)
                } else {
                    arg_str(p, name, NZPIR_MAX_PATH_BYTES).map(|s| Some(s.to_owned()))
                }
            };
            let ird = optional(ird, "ird")?;
            let pie_ird = optional(pie_ird, "pie_ird")?;
            let report_out = out_ptr(report_out, "report_out")?;
            let cfg = Config::from_json_str(json)?;
            let report = nzpir::doctor::run(
                &cfg,
                &nzpir::doctor::Options {
                    ird,
                    pie_ird,
                    ..nzpir::doctor::Options::default()
                },
            );
            report_out.write(give_string(&report.to_json().to_string()));
            Ok(())
        })
    }
}

/// What a lookup found: a suggested rate, or that IR has none for the
/// investor. Read it with the `nzpir_outcome_*` accessors, whose strings belong
/// to the outcome and live until `nzpir_outcome_free`.
///
/// Thread-safety: immutable; read it from any thread. Free it once.
#[derive(Debug)]
pub struct nzpir_outcome {
    outcome: PirOutcome,
    // The C strings are made on first use: most callers read only the rate
    // (`nzpir_outcome_rate_hundredths`), and serialising the answer and four
    // allocations for every lookup showed in its profile.
    ird: OnceLock<CString>,
    pie_ird: OnceLock<Option<CString>>,
    rate: OnceLock<Option<CString>>,
    json: OnceLock<CString>,
}

impl nzpir_outcome {
    pub(crate) fn new(outcome: PirOutcome) -> Self {
        nzpir_outcome {
            outcome,
            ird: OnceLock::new(),
            pie_ird: OnceLock::new(),
            rate: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    fn json(&self) -> &CString {
        self.json.get_or_init(|| {
            // A response of plain strings, numbers and booleans always serialises.
            c_string(&serde_json::to_string(&self.outcome.to_response()).unwrap_or_default())
        })
    }
}

/// Reads an outcome argument; NULL gives `default`.
fn with<T: Copy>(o: *const nzpir_outcome, default: T, f: impl FnOnce(&nzpir_outcome) -> T) -> T {
    boundary::catch(default, || {
        // SAFETY: the caller passes NULL or a live outcome (documented on each accessor).
        match unsafe { o.as_ref() } {
            Some(o) => f(o),
            None => default,
        }
    })
}

/// Whether IR could not determine a rate for the investor (`PirRateNotFound`).
/// NULL gives false.
///
/// # Safety
/// `outcome` is NULL or a live outcome.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_is_not_found(outcome: *const nzpir_outcome) -> bool {
    with(outcome, false, |o| o.outcome.is_not_found())
}

/// The suggested rate in hundredths of a percent (10.5 % is 1050, exactly):
/// returns true and writes `*hundredths_out` when IR suggested a rate; false
/// (writing nothing) when it found none, or for NULL arguments.
///
/// # Safety
/// `outcome` is NULL or a live outcome; `hundredths_out` is NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_rate_hundredths(
    outcome: *const nzpir_outcome,
    hundredths_out: *mut u32,
) -> bool {
    with(outcome, false, |o| match o.outcome.rate() {
        Some(rate) if !hundredths_out.is_null() => {
            // SAFETY: per this function's contract.
            unsafe { hundredths_out.write(rate.hundredths()) };
            true
        }
        _ => false,
    })
}

/// The suggested rate as exact decimal text (`"10.5"`, `"17.5"`, `"28"`), or
/// NULL when IR found none. Owned by the outcome.
///
/// # Safety
/// `outcome` is NULL or a live outcome.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_rate(outcome: *const nzpir_outcome) -> *const c_char {
    with(outcome, std::ptr::null(), |o| {
        o.rate
            .get_or_init(|| o.outcome.rate().map(|r| c_string(&r.to_string())))
            .as_ref()
            .map_or(std::ptr::null(), |r| r.as_ptr())
    })
}

/// The investor's IRD number as IR echoed it (9 digits). Owned by the outcome;
/// NULL for a NULL outcome. It is personal data: do not log it.
///
/// # Safety
/// `outcome` is NULL or a live outcome.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_ird(outcome: *const nzpir_outcome) -> *const c_char {
    with(outcome, std::ptr::null(), |o| {
        o.ird.get_or_init(|| c_string(o.outcome.ird())).as_ptr()
    })
}

/// The PIE's IRD number when the request sent one, else NULL. Owned by the
/// outcome.
///
/// # Safety
/// `outcome` is NULL or a live outcome.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_pie_ird(outcome: *const nzpir_outcome) -> *const c_char {
    with(outcome, std::ptr::null(), |o| {
        o.pie_ird
            .get_or_init(|| o.outcome.pie_ird().map(c_string))
            .as_ref()
            .map_or(std::ptr::null(), |p| p.as_ptr())
    })
}

/// The outcome as IR's JSON answer:
/// `{"IRD":"139276507","PieIRD":"125000002","SuggestedPirRate":28}` or
/// `{"IRD":"049091850","PirRateNotFound":true}`. Owned by the outcome; NULL for
/// a NULL outcome.
///
/// # Safety
/// `outcome` is NULL or a live outcome.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_json(outcome: *const nzpir_outcome) -> *const c_char {
    with(outcome, std::ptr::null(), |o| o.json().as_ptr())
}

/// Frees an outcome. NULL is allowed and does nothing.
///
/// # Safety
/// `outcome` is NULL or an outcome from nzpir, not yet freed, that no other
/// thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_outcome_free(outcome: *mut nzpir_outcome) {
    boundary::catch((), || {
        if !outcome.is_null() {
            // SAFETY: outcomes are handed out by `Box::into_raw`.
            drop(unsafe { Box::from_raw(outcome) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use nzpir::PirRate;
    use std::ffi::CStr;

    fn text<'a>(p: *const c_char) -> Option<&'a str> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().expect("utf-8"))
    }

    #[test]
    fn outcome_accessors() {
        let o = nzpir_outcome::new(PirOutcome::Suggested {
            ird: "139276310".into(),
            pie_ird: Some("125000002".into()),
            rate: PirRate::LOW,
        });
        let p: *const nzpir_outcome = &o;
        let mut h = 0u32;
        unsafe {
            assert!(!nzpir_outcome_is_not_found(p));
            assert!(nzpir_outcome_rate_hundredths(p, &mut h));
            assert_eq!(h, 1050);
            assert_eq!(text(nzpir_outcome_rate(p)), Some("10.5"));
            assert_eq!(text(nzpir_outcome_ird(p)), Some("139276310"));
            assert_eq!(text(nzpir_outcome_pie_ird(p)), Some("125000002"));
            assert_eq!(
                text(nzpir_outcome_json(p)),
                Some(r#"{"IRD":"139276310","PieIRD":"125000002","SuggestedPirRate":10.5}"#)
            );
        }
        let o = nzpir_outcome::new(PirOutcome::NotFound {
            ird: "049091850".into(),
            pie_ird: None,
        });
        let p: *const nzpir_outcome = &o;
        let mut h = 7u32;
        unsafe {
            assert!(nzpir_outcome_is_not_found(p));
            assert!(!nzpir_outcome_rate_hundredths(p, &mut h));
            assert_eq!(h, 7);
            assert_eq!(text(nzpir_outcome_rate(p)), None);
            assert_eq!(text(nzpir_outcome_pie_ird(p)), None);
            assert_eq!(
                text(nzpir_outcome_json(p)),
                Some(r#"{"IRD":"049091850","PirRateNotFound":true}"#)
            );
        }
    }
}

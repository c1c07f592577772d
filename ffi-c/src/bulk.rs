//! `nzpir_client_lookup_many`: many lookups through the core's streaming
//! batch runner, requests pulled from a caller's callback and each outcome
//! handed, in input order, to another.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use nzpir::PirRequest;
use nzpir::batch::{self, Answered, BatchInput, BatchOptions, CancelToken, Journal};

use crate::boundary;
use crate::client::{nzpir_client, nzpir_outcome};
use crate::error::nzpir_error;
use crate::status::nzpir_status;
use crate::strings::{NZPIR_MAX_JSON_BYTES, arg_ref, arg_str};

/// What `nzpir_bulk_next_fn` returns when it gave a request.
pub const NZPIR_BULK_NEXT: i32 = 1;
/// What `nzpir_bulk_next_fn` returns when there are no more requests.
pub const NZPIR_BULK_END: i32 = 0;

/// Gives the next request of a bulk call: writes IR's request JSON (a
/// NUL-terminated string, as `nzpir_client_lookup`'s `request_json`) to
/// `*request_json_out` and returns `NZPIR_BULK_NEXT`; returns
/// `NZPIR_BULK_END` when there are no more. Any other value cancels the call.
/// The string is copied before this returns to nzpir; it need only live until
/// then.
pub type nzpir_bulk_next_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, request_json_out: *mut *const c_char) -> i32>;

/// Receives one request's outcome, in input order: `index` counts the
/// requests from 0; `status` is `NZPIR_STATUS_OK` with `outcome` set (a rate
/// or not-found), or the failure's status with `error` set (a request that
/// breaks a local rule or is not valid JSON is `NZPIR_STATUS_INVALID_INPUT`
/// and made no call). `outcome` and `error` are lent for the call: read them,
/// do not free them, do not keep them. Return 0 to go on, anything else to
/// cancel the call.
pub type nzpir_bulk_result_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        index: usize,
        status: nzpir_status,
        outcome: *const nzpir_outcome,
        error: *const nzpir_error,
    ) -> i32,
>;

#[derive(Default)]
struct BulkSettings {
    concurrency: Option<usize>,
    max_rps: Option<f64>,
    journal: Option<String>,
}

/// The bulk options from their JSON; a wrong key or value names itself.
fn settings(text: &str) -> Result<BulkSettings, nzpir::Error> {
    let bad = |key: &str, rule: &str| nzpir::Error::config(&format!("options_json.{key}"), rule);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| nzpir::Error::config("options_json", "is not valid JSON"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(nzpir::Error::config(
            "options_json",
            "must be a JSON object",
        ));
    };
    let mut s = BulkSettings::default();
    for (k, v) in &map {
        match k.as_str() {
            "concurrency" => {
                s.concurrency = Some(
                    v.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| bad(k, "must be a whole number from 1 to 256"))?,
                );
            }
            "max_rps" => {
                s.max_rps = Some(v.as_f64().ok_or_else(|| {
                    bad(
                        k,
                        "must be a number of lookups per second from 0.001 to 10000",
                    )
                })?);
            }
            "journal" => {
                s.journal = Some(
                    v.as_str()
                        .ok_or_else(|| bad(k, "must be a file path"))?
                        .to_owned(),
                );
            }
            _ => {
                return Err(nzpir::Error::config(
                    "options_json",
                    "has an unknown key (known: concurrency, max_rps, journal)",
                ));
            }
        }
    }
    Ok(s)
}

/// What each request carries to its outcome: its IRD numbers.
type Payload = (String, Option<String>);

/// Looks up many requests on one client: `next` gives the requests one at a
/// time and `on_result` receives each one's outcome in input order, as soon
/// as it and every outcome before it are known. Identical requests are looked
/// up once (within the requests in flight and a bounded memory of recent
/// answers); at most a window of requests is read ahead, so memory does not
/// grow with the number of requests.
///
/// `options_json` is NULL or a JSON object: `concurrency` (lookups at once,
/// 1 to 256, default 4), `max_rps` (lookup starts per second, 0.001 to
/// 10000), `journal` (a file path: completed lookups are recorded there, mode
/// 0600, as keyed hashes, never IRD numbers; a later call with the same path
/// repeats none of them). Unknown keys are errors.
///
/// Returns `NZPIR_STATUS_OK` when every request's outcome was handed to
/// `on_result` (each request's own failure goes there, not here);
/// `NZPIR_STATUS_CANCELLED` when a callback cancelled; another status when
/// the call could not run (bad options, a journal that cannot be opened or
/// written).
///
/// Threads: `next` and `on_result` are called on the calling thread only,
/// never at the same time, and never after this function returns; the
/// lookups run on threads of nzpir's own. Cancelling returns once the
/// lookups already on the wire have finished (no new one starts); their
/// answers are still journaled. The callbacks may call nzpir functions,
/// including on this client, but must not free it. Many bulk calls may run on
/// one client at once.
///
/// # Safety
/// `client` is NULL or a live client; `options_json` is NULL or a
/// NUL-terminated string; `next` and `on_result` are valid functions or NULL
/// (an error); `ctx` is passed to them as is; `err_out` is NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nzpir_client_lookup_many(
    client: *const nzpir_client,
    options_json: *const c_char,
    next: nzpir_bulk_next_fn,
    on_result: nzpir_bulk_result_fn,
    ctx: *mut c_void,
    err_out: *mut *mut nzpir_error,
) -> nzpir_status {
    // SAFETY: per this function's contract.
    unsafe {
        boundary::run(err_out, || {
            let client = arg_ref(client, "client")?;
            let next = next.ok_or_else(|| nzpir_error::null_argument("next"))?;
            let on_result = on_result.ok_or_else(|| nzpir_error::null_argument("on_result"))?;
            let settings = if options_json.is_null() {
                BulkSettings::default()
            } else {
                settings(arg_str(options_json, "options_json", NZPIR_MAX_JSON_BYTES)?)?
            };
            let options = BatchOptions {
                concurrency: settings.concurrency.unwrap_or(4),
                max_rps: settings.max_rps,
                validate_locally: client.client.validates_locally(),
                wait_on_cancel: true,
                ..BatchOptions::default()
            };
            options.check()?;
            let journal = match &settings.journal {
                Some(p) => Some(Arc::new(Journal::open(p, true)?)),
                None => None,
            };
            let cancel = CancelToken::new();
            let cancelled_by_next = std::cell::Cell::new(false);
            let requests = std::iter::from_fn(|| {
                let mut json: *const c_char = std::ptr::null();
                // SAFETY: a caller's callback, called as documented.
                let r = next(ctx, &mut json);
                match r {
                    NZPIR_BULK_END => None,
                    NZPIR_BULK_NEXT => Some(read_request(json)),
                    _ => {
                        cancelled_by_next.set(true);
                        cancel.cancel();
                        None
                    }
                }
            });
            let c = client.client.clone();
            let progress = batch::run(
                requests,
                move |r: &PirRequest| c.lookup(r),
                &options,
                journal,
                &cancel,
                |a: Answered<Payload>| {
                    // SAFETY: a caller's callback, called as documented.
                    if hand_out(on_result, ctx, &a) != 0 {
                        cancel.cancel();
                    }
                    Ok(())
                },
                |_| {},
            )?;
            if progress.cancelled || cancelled_by_next.get() {
                return Err(nzpir_error::cancelled());
            }
            Ok(())
        })
    }
}

/// One request from the caller's string.
fn read_request(json: *const c_char) -> (Payload, BatchInput) {
    // SAFETY: the callback's contract: NULL or a NUL-terminated string.
    let parsed = unsafe { arg_str(json, "request_json", NZPIR_MAX_JSON_BYTES) }
        .map_err(|e| {
            nzpir::Error::new(
                nzpir::ErrorKind::InvalidInput,
                format!("request_json: {}", e.status().name().to_string_lossy()),
            )
        })
        .and_then(|text| PirRequest::from_json(text.as_bytes()));
    match parsed {
        Ok(r) => ((r.ird().to_owned(), r.pie_ird().map(str::to_owned)), Ok(r)),
        Err(e) => ((String::new(), None), Err(e)),
    }
}

/// Calls `on_result` with one answer; its return value.
///
/// # Safety
/// `on_result` is a valid function.
unsafe fn hand_out(
    on_result: unsafe extern "C" fn(
        *mut c_void,
        usize,
        nzpir_status,
        *const nzpir_outcome,
        *const nzpir_error,
    ) -> i32,
    ctx: *mut c_void,
    a: &Answered<Payload>,
) -> i32 {
    let (ird, pie) = &a.payload;
    match a.answer.to_outcome(ird, pie.as_deref()) {
        Some(o) => {
            let outcome = nzpir_outcome::new(o);
            // SAFETY: per this function's contract; the outcome lives across the call.
            unsafe { on_result(ctx, a.index, nzpir_status::Ok, &outcome, std::ptr::null()) }
        }
        None => {
            let error = match a.failure() {
                Some(e) => nzpir_error::from_ref(&e),
                None => nzpir_error::from_ref(&nzpir::Error::new(
                    nzpir::ErrorKind::Server,
                    "a failed lookup without an error",
                )),
            };
            // SAFETY: per this function's contract; the error lives across the call.
            unsafe { on_result(ctx, a.index, error.status(), std::ptr::null(), &error) }
        }
    }
}

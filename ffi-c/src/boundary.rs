//! The panic boundary: no Rust panic ever unwinds into C.
//!
//! Every exported function runs its body through [`run`] (fallible calls:
//! the status and the error object) or [`catch`] (accessors: a fixed value
//! such as NULL, 0 or false on a panic).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::nzpir_error;
use crate::status::nzpir_status;

/// Runs the body of an accessor; a panic gives `on_panic`.
pub(crate) fn catch<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// Runs the body of a fallible call: `Ok` is `NZPIR_STATUS_OK`; an error (or a
/// panic, as `NZPIR_STATUS_PANIC`) is returned as its status and, when
/// `err_out` is not NULL, handed out as a new `nzpir_error`.
///
/// # Safety
/// `err_out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn run(
    err_out: *mut *mut nzpir_error,
    body: impl FnOnce() -> Result<(), nzpir_error>,
) -> nzpir_status {
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(nzpir_error::panic()));
    match result {
        Ok(()) => nzpir_status::Ok,
        Err(e) => {
            let status = e.status();
            if !err_out.is_null() {
                // SAFETY: the caller passes NULL or a pointer valid for writing.
                unsafe { err_out.write(Box::into_raw(Box::new(e))) };
            }
            status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status_and_an_error() {
        let mut err: *mut nzpir_error = std::ptr::null_mut();
        let status = unsafe { run(&mut err, || panic!("boom")) };
        assert_eq!(status, nzpir_status::Panic);
        assert!(!err.is_null());
        let e = unsafe { Box::from_raw(err) };
        assert_eq!(e.status(), nzpir_status::Panic);
        // Without an error pointer the status alone comes back.
        assert_eq!(
            unsafe { run(std::ptr::null_mut(), || panic!("boom")) },
            nzpir_status::Panic
        );
        assert_eq!(catch(7, || panic!("boom")), 7);
        assert_eq!(catch(7, || 8), 8);
    }

    #[test]
    fn success_leaves_the_error_pointer_alone() {
        let mut err: *mut nzpir_error = std::ptr::NonNull::dangling().as_ptr();
        let before = err;
        assert_eq!(unsafe { run(&mut err, || Ok(())) }, nzpir_status::Ok);
        assert_eq!(err, before);
    }
}

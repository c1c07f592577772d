//! The status every fallible call returns.

use std::ffi::{CStr, c_char};

use nzpir::ErrorKind;

use crate::boundary;

/// The result of every fallible nzpir call: `NZPIR_STATUS_OK` (0) or the class
/// of the failure. The details are in the `nzpir_error` the call hands out.
///
/// Numbers are stable: new codes are only ever added, and a retired number is
/// never given to another meaning. 1 to 99 follow the core's error kinds (13 to
/// 98 are kept for kinds added later); 100 and up are failures at the C
/// boundary itself.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nzpir_status {
    /// Success.
    Ok = 0,
    /// A request or argument broke a rule; nothing was sent. The error's field
    /// entries name every broken rule. Also malformed request JSON.
    InvalidInput = 1,
    /// The configuration is incomplete or wrong (JSON, unknown keys, files,
    /// PEM, URL, a setting); the message names the setting.
    Config = 2,
    /// The TLS handshake failed (policy, certificate, host name).
    Tls = 3,
    /// The connection failed or broke (refused, reset, DNS, proxy).
    Transport = 4,
    /// The gateway did not answer in time.
    Timeout = 5,
    /// IR could not authenticate the caller (EV1023 to EV1030), or an OAuth
    /// redirect did not check out.
    Authentication = 6,
    /// The caller may not ask about this investor (EV1040 to EV1043).
    Authorisation = 7,
    /// IR003: the IRD number was queried too often in the last 24 hours.
    RateLimited = 8,
    /// IR rejected the request (HTTP 400: EV1000, EV1100, PER100, PIR101).
    Rejected = 9,
    /// IR failed (PIR150, 5xx) or answered something that is not its protocol.
    Server = 10,
    /// OAuth: no usable grant (refresh token refused or none stored); a person
    /// must authorise again.
    ConsentRequired = 11,
    /// OAuth: the token store could not be read or written.
    TokenStore = 12,
    /// A failure of a kind this version does not name (kept for kinds a later
    /// core may add; treat it as an error).
    Other = 99,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// An argument was larger than the limit for it (see `NZPIR_MAX_*`).
    TooLarge = 102,
    /// A caller's buffer was too small for the result.
    BufferTooSmall = 103,
    /// nzpir failed internally (a Rust panic, caught at the boundary). The
    /// handles passed in are still valid; please report it.
    Panic = 104,
    /// The caller stopped the call (a bulk call's callback asked to).
    Cancelled = 105,
}

impl nzpir_status {
    /// The status for an error kind of the core; kinds this version does not
    /// know map to `Other`.
    pub(crate) fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidInput => nzpir_status::InvalidInput,
            ErrorKind::Config => nzpir_status::Config,
            ErrorKind::Tls => nzpir_status::Tls,
            ErrorKind::Transport => nzpir_status::Transport,
            ErrorKind::Timeout => nzpir_status::Timeout,
            ErrorKind::Authentication => nzpir_status::Authentication,
            ErrorKind::Authorisation => nzpir_status::Authorisation,
            ErrorKind::RateLimited => nzpir_status::RateLimited,
            ErrorKind::Rejected => nzpir_status::Rejected,
            ErrorKind::Server => nzpir_status::Server,
            ErrorKind::ConsentRequired => nzpir_status::ConsentRequired,
            ErrorKind::TokenStore => nzpir_status::TokenStore,
            _ => nzpir_status::Other,
        }
    }

    /// Every status, for `nzpir_status_name` and tests.
    pub(crate) fn all() -> &'static [nzpir_status] {
        &[
            nzpir_status::Ok,
            nzpir_status::InvalidInput,
            nzpir_status::Config,
            nzpir_status::Tls,
            nzpir_status::Transport,
            nzpir_status::Timeout,
            nzpir_status::Authentication,
            nzpir_status::Authorisation,
            nzpir_status::RateLimited,
            nzpir_status::Rejected,
            nzpir_status::Server,
            nzpir_status::ConsentRequired,
            nzpir_status::TokenStore,
            nzpir_status::Other,
            nzpir_status::NullArgument,
            nzpir_status::InvalidUtf8,
            nzpir_status::TooLarge,
            nzpir_status::BufferTooSmall,
            nzpir_status::Panic,
            nzpir_status::Cancelled,
        ]
    }

    /// The status's name: the core's kind name (`rate_limited`) for 1 to 12,
    /// and `ok`, `other`, `null_argument`, ... for the rest.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            nzpir_status::Ok => c"ok",
            nzpir_status::InvalidInput => c"invalid_input",
            nzpir_status::Config => c"config",
            nzpir_status::Tls => c"tls",
            nzpir_status::Transport => c"transport",
            nzpir_status::Timeout => c"timeout",
            nzpir_status::Authentication => c"authentication",
            nzpir_status::Authorisation => c"authorisation",
            nzpir_status::RateLimited => c"rate_limited",
            nzpir_status::Rejected => c"rejected",
            nzpir_status::Server => c"server",
            nzpir_status::ConsentRequired => c"consent_required",
            nzpir_status::TokenStore => c"token_store",
            nzpir_status::Other => c"other",
            nzpir_status::NullArgument => c"null_argument",
            nzpir_status::InvalidUtf8 => c"invalid_utf8",
            nzpir_status::TooLarge => c"too_large",
            nzpir_status::BufferTooSmall => c"buffer_too_small",
            nzpir_status::Panic => c"panic",
            nzpir_status::Cancelled => c"cancelled",
        }
    }
}

/// The name of a status (`"ok"`, `"rate_limited"`, `"null_argument"`, ...), or
/// `"unknown"` for a number that is not a status. The string is static: do not
/// free it.
///
/// Takes the number rather than the enum so that any value is safe to pass.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn nzpir_status_name(status: u32) -> *const c_char {
    boundary::catch(c"unknown".as_ptr(), || {
        nzpir_status::all()
            .iter()
            .find(|s| **s as u32 == status)
            .map_or(c"unknown", |s| s.name())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_status_named_like_the_kind() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            let s = nzpir_status::from_kind(kind);
            assert_ne!(s, nzpir_status::Other, "{kind}");
            assert!(seen.insert(s as u32), "{kind} shares a status");
            assert!((1..99).contains(&(s as u32)));
            assert_eq!(s.name().to_str().ok(), Some(kind.as_str()));
        }
    }

    #[test]
    fn names_cover_every_status_and_unknown_numbers() {
        for &s in nzpir_status::all() {
            let name = unsafe { CStr::from_ptr(nzpir_status_name(s as u32)) };
            assert_eq!(name, s.name());
        }
        let unknown = unsafe { CStr::from_ptr(nzpir_status_name(13)) };
        assert_eq!(unknown, c"unknown");
        let unknown = unsafe { CStr::from_ptr(nzpir_status_name(u32::MAX)) };
        assert_eq!(unknown, c"unknown");
    }
}

//! IR's gateway operations, each described as data: its method and path, the
//! authorisation it carries, when it may be sent again, the body it sends and
//! how its answer maps to a result. The client runs any of them through one
//! loop (`Client::run`) and the transport sends any of them, so a further IR
//! API is one more entry here and a public method that calls it.

use crate::client::{map_lookup, map_status};
use crate::error::Error;
use crate::model::{PirOutcome, PirRequest};

/// The PIR operation's path under the gateway's base URL.
pub const PIR_PATH: &str = "/gateway/calculators/pir";
/// The status endpoint's path under the gateway's base URL.
pub const STATUS_PATH: &str = "/gateway/calculators/status";

/// The HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET`, no body.
    Get,
    /// `POST` with a JSON body.
    Post,
}

/// What an operation sends in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Authorization {
    /// Nothing: mutual TLS alone.
    None,
    /// The client's credential (M2M JWT, bearer token or OAuth access token),
    /// renewed once when IR refuses it for a reason a new one can cure.
    Credential,
}

/// When a failed call may be sent again (within the retry policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// After any transient failure ([`Error::is_retryable`]).
    WhenTransient,
    /// Only when IR cannot have counted it: no connection was made, or it
    /// was refused before any processing (HTTP 429, or a 503 without IR's
    /// body). IR counts each PIR request towards IR003.
    WhenNotCounted,
}

/// One operation of IR's gateway, for requests of type `R` and results of
/// type `T`.
pub(crate) struct Operation<R: ?Sized, T> {
    /// Its name in log lines (`op=lookup`).
    pub name: &'static str,
    pub method: Method,
    /// The path under the gateway's base URL.
    pub path: &'static str,
    pub authorization: Authorization,
    pub resend: Resend,
    /// The body to send (built once per call), if any.
    pub body: fn(&R) -> Option<Vec<u8>>,
    /// An answer's status and body as the result, or as the error they mean.
    pub answer: fn(&R, u16, &[u8]) -> Result<T, Error>,
}

/// IR's PIR lookup: `POST /gateway/calculators/pir` with IR's JSON request.
pub(crate) const LOOKUP: Operation<PirRequest, PirOutcome> = Operation {
    name: "lookup",
    method: Method::Post,
    path: PIR_PATH,
    authorization: Authorization::Credential,
    resend: Resend::WhenNotCounted,
    body: |request| Some(request.to_json()),
    answer: map_lookup,
};

/// The gateway's status: `GET /gateway/calculators/status` answers `OK`.
pub(crate) const STATUS: Operation<(), ()> = Operation {
    name: "status",
    method: Method::Get,
    path: STATUS_PATH,
    authorization: Authorization::None,
    resend: Resend::WhenTransient,
    body: |()| None,
    answer: |(), status, body| map_status(status, body),
};

/// The path of every operation (the transport parses each one's URL once).
pub(crate) const PATHS: [&str; 2] = [LOOKUP.path, STATUS.path];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_is_its_method_path_authorisation_and_mapping() {
        assert_eq!(
            (
                LOOKUP.method,
                LOOKUP.path,
                LOOKUP.authorization,
                LOOKUP.resend
            ),
            (
                Method::Post,
                "/gateway/calculators/pir",
                Authorization::Credential,
                Resend::WhenNotCounted
            )
        );
        assert_eq!(
            (
                STATUS.method,
                STATUS.path,
                STATUS.authorization,
                STATUS.resend
            ),
            (
                Method::Get,
                "/gateway/calculators/status",
                Authorization::None,
                Resend::WhenTransient
            )
        );
        assert_eq!((STATUS.answer)(&(), 200, b"OK").ok(), Some(()));
        assert!((STATUS.body)(&()).is_none());
        let req = PirRequest::builder("049091850")
            .pie_ird("125000002")
            .build();
        assert_eq!((LOOKUP.body)(&req), Some(req.to_json()));
        let outcome = (LOOKUP.answer)(
            &req,
            200,
            br#"{"IRD":"049091850","PieIRD":"125000002","SuggestedPirRate":28}"#,
        )
        .expect("a rate");
        assert_eq!(outcome.rate().map(|r| r.to_string()).as_deref(), Some("28"));
        let e = (LOOKUP.answer)(&req, 503, b"").expect_err("503");
        assert_eq!(e.http_status(), Some(503));
        let mut paths = PATHS.to_vec();
        paths.dedup();
        assert_eq!(paths.len(), PATHS.len());
    }
}

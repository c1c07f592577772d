//! Response bodies and the small helpers that build responses.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Bytes, Frame, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use nzpir::{IrCode, IrErrorBody, IrErrorItem, PirRate, PirRequest, PirResponse};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error a handler returns to make hyper close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Abort(pub &'static str);

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Abort {}

/// A response body: whole, or deliberately cut short.
#[derive(Debug)]
pub(crate) enum Body {
    Full(Option<Bytes>),
    /// Sends `first`, waits for it to be flushed, then breaks the connection
    /// although the `Content-Length` promised `total` bytes.
    Truncated {
        first: Option<Bytes>,
        total: u64,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl Body {
    pub fn full(bytes: impl Into<Bytes>) -> Body {
        let b = bytes.into();
        Body::Full(if b.is_empty() { None } else { Some(b) })
    }

    pub fn empty() -> Body {
        Body::Full(None)
    }

    /// The whole body, when it is whole.
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            Body::Full(b) => b.as_ref(),
            Body::Truncated { .. } => None,
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Truncated { first, pause, .. } => {
                if let Some(b) = first.take() {
                    *pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                if let Some(p) = pause.as_mut() {
                    std::task::ready!(p.as_mut().poll(cx));
                }
                Poll::Ready(Some(Err(Box::new(Abort("body truncated on purpose")))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Truncated { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

pub(crate) type Resp = Response<Body>;

pub(crate) const JSON: &str = "application/json; charset=utf-8";

/// A response with a status, a content type and a body.
pub(crate) fn response(status: StatusCode, content_type: Option<&'static str>, body: Body) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r
}

pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Resp {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    response(status, Some(JSON), Body::full(bytes))
}

/// IR's 200 answer: the rate, or `PirRateNotFound`; `PieIRD` echoed when sent.
pub(crate) fn pir_answer(req: &PirRequest, rate: Option<PirRate>) -> Resp {
    let answer = PirResponse {
        ird: req.ird().to_owned(),
        pie_ird: req.pie_ird().map(str::to_owned),
        suggested_pir_rate: rate,
        pir_rate_not_found: rate.is_none().then_some(true),
    };
    json(StatusCode::OK, &answer)
}

/// IR's error answer; the status is the first code's.
pub(crate) fn ir_errors(items: Vec<IrErrorItem>) -> Resp {
    let status = items
        .first()
        .and_then(|i| i.code.http_status())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, &IrErrorBody { errors: items })
}

pub(crate) fn ir_error(code: IrCode) -> Resp {
    ir_errors(vec![IrErrorItem::new(code)])
}

pub(crate) fn empty(status: StatusCode) -> Resp {
    response(status, None, Body::empty())
}

pub(crate) fn method_not_allowed(allow: &'static str) -> Resp {
    let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// Asks hyper to close the connection after this response.
pub(crate) fn closing(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// A load balancer's error page, as a gateway in front of IR would send it.
pub(crate) fn gateway_page(status: StatusCode) -> Resp {
    let reason = status.canonical_reason().unwrap_or("Error");
    let code = status.as_u16();
    let html = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    response(status, Some("text/html"), Body::full(html))
}

/// A gateway's rate limit: 429 with its page, and `Retry-After` when given.
pub(crate) fn too_many_requests(retry_after: Option<u64>) -> Resp {
    let mut r = gateway_page(StatusCode::TOO_MANY_REQUESTS);
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The same answer, cut in half on the wire.
pub(crate) fn truncate(r: Resp) -> Resp {
    let (parts, body) = r.into_parts();
    let whole = body.bytes().cloned().unwrap_or_default();
    let half = whole.slice(..whole.len() / 2);
    Response::from_parts(
        parts,
        Body::Truncated {
            first: if half.is_empty() { None } else { Some(half) },
            total: whole.len().max(1) as u64,
            pause: None,
        },
    )
}

/// The same answer with its JSON broken (its end cut off, the length consistent).
/// A 200 answer rewritten to be about other IRD numbers: the `IRD` and any
/// `PieIRD` become different valid numbers. Anything else is left as it is.
pub(crate) fn other_investor(r: Resp) -> Resp {
    let (parts, body) = r.into_parts();
    let whole = body.bytes().cloned().unwrap_or_default();
    let Ok(mut answer) = serde_json::from_slice::<PirResponse>(&whole) else {
        return Response::from_parts(parts, Body::full(whole.to_vec()));
    };
    fn other(n: &str) -> String {
        if n == "049091850" {
            "136410132"
        } else {
            "049091850"
        }
        .to_owned()
    }
    answer.ird = other(&answer.ird);
    answer.pie_ird = answer.pie_ird.as_deref().map(other);
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    Response::from_parts(parts, Body::full(bytes))
}

pub(crate) fn malform(r: Resp) -> Resp {
    let (mut parts, body) = r.into_parts();
    let whole = body.bytes().cloned().unwrap_or_default();
    let cut = whole.len().saturating_sub(whole.len().clamp(1, 7));
    let mut broken = whole.slice(..cut).to_vec();
    if broken.is_empty() {
        broken.extend_from_slice(b"{\"IRD\":");
    }
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    Response::from_parts(parts, Body::full(broken))
}

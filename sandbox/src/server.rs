//! The HTTPS server: TCP accept loop, TLS handshake (client certificate
//! required), hyper HTTP/1.1 with keep-alive, routing, and fault injection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header;
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::body::{self, Abort, Resp};
use crate::faults::{FaultKind, FaultScope};
use crate::state::{Profile, Shared};
use crate::{admin, mock, oauth, request, strict};

/// The PIR operation.
pub const PIR_PATH: &str = "/gateway/calculators/pir";
/// The status operation.
pub const STATUS_PATH: &str = "/gateway/calculators/status";
/// The OAuth endpoints.
pub const AUTHORIZE_PATH: &str = "/gateway3/oauth/authorize";
/// The OAuth token endpoint.
pub const TOKEN_PATH: &str = "/gateway3/oauth/token";
/// The OAuth introspection endpoint.
pub const INTROSPECT_PATH: &str = "/gateway3/oauth/introspect";
/// The OAuth revocation endpoint.
pub const REVOKE_PATH: &str = "/gateway3/oauth/revoke";
/// The prefix of the sandbox's own admin API.
pub const ADMIN_PREFIX: &str = "/__sandbox";

/// The largest request body read; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// A body over the limit is still read (and dropped) up to this size.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// What the handlers know about the connection.
#[derive(Debug)]
pub(crate) struct ConnInfo {
    /// The client certificate's subject CN (chain-checked against the
    /// sandbox CA by the handshake).
    pub common_name: Option<String>,
    /// A connection to the OAuth listener (one-way TLS): OAuth routes only.
    pub oauth_only: bool,
}

/// A listener and how its connections are secured.
pub(crate) struct Endpoint {
    pub listener: TcpListener,
    pub tls: Arc<ServerConfig>,
    /// The OAuth listener: no client certificate, OAuth routes only.
    pub oauth_only: bool,
}

/// Serves until `shutdown` turns true, then lets open connections finish
/// (briefly) and returns.
pub(crate) async fn run(
    main: Endpoint,
    oauth: Endpoint,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let main_tls = TlsAcceptor::from(main.tls);
    let oauth_tls = TlsAcceptor::from(oauth.tls);
    let mut conns = JoinSet::new();
    loop {
        let (accepted, acceptor, oauth_only) = tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            a = main.listener.accept() => (a, &main_tls, main.oauth_only),
            a = oauth.listener.accept() => (a, &oauth_tls, oauth.oauth_only),
        };
        match accepted {
            Ok((tcp, _peer)) => {
                let _ = tcp.set_nodelay(true);
                conns.spawn(connection(
                    tcp,
                    acceptor.clone(),
                    oauth_only,
                    shared.clone(),
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                // Out of file descriptors and the like: wait a little.
                log::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(main.listener);
    drop(oauth.listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    oauth_only: bool,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let counters = &shared.counters;
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            counters.inc(&counters.tls_handshake_failures);
            log::debug!("TLS handshake failed: {e}");
            return;
        }
        Err(_) => {
            counters.inc(&counters.tls_handshake_failures);
            log::debug!("TLS handshake timed out");
            return;
        }
    };
    counters.inc(&counters.connections);
    let common_name = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| {
            x509_parser::parse_x509_certificate(c.as_ref())
                .ok()
                .and_then(|(_, x)| crate::pki::common_name(&x))
        });
    let info = Arc::new(ConnInfo {
        common_name,
        oauth_only,
    });
    let svc_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = svc_shared.clone();
        let info = info.clone();
        async move { route(req, shared, info).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                log::debug!("connection ended: {e}");
            }
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn.as_mut()).await;
        }
    }
}

async fn route(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
) -> Result<Resp, Abort> {
    let started = Instant::now();
    let method = req.method().clone();
    // Only the path is ever logged: queries may carry codes or IRD numbers.
    let path = req.uri().path().to_owned();
    let result = dispatch(req, &shared, &conn).await;
    match &result {
        Ok(r) => log::debug!(
            "{method} {path} {} {:.1}ms",
            r.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        ),
        Err(a) => log::debug!("{method} {path} dropped ({a})"),
    }
    result
}

async fn dispatch(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    conn: &ConnInfo,
) -> Result<Resp, Abort> {
    let c = &shared.counters;
    let path = req.uri().path();
    if conn.oauth_only && !path.starts_with("/gateway3/oauth/") {
        c.inc(&c.not_found);
        return Ok(body::empty(StatusCode::NOT_FOUND));
    }
    let allowed = match path {
        PIR_PATH | TOKEN_PATH | INTROSPECT_PATH | REVOKE_PATH => "POST",
        STATUS_PATH | AUTHORIZE_PATH => "GET, HEAD",
        p if p == ADMIN_PREFIX || p.starts_with("/__sandbox/") => {
            return admin::handle(req, shared).await;
        }
        _ => {
            c.inc(&c.not_found);
            return Ok(body::empty(StatusCode::NOT_FOUND));
        }
    };
    let method_ok = match allowed {
        "POST" => req.method() == Method::POST,
        _ => req.method() == Method::GET || req.method() == Method::HEAD,
    };
    if !method_ok {
        c.inc(&c.method_not_allowed);
        if path == PIR_PATH {
            c.pir_answer(405, None);
        }
        return Ok(body::method_not_allowed(allowed));
    }
    match path {
        PIR_PATH => pir(req, shared, conn).await,
        STATUS_PATH => {
            c.inc(&c.status_requests);
            Ok(body::response(
                StatusCode::OK,
                Some("text/plain; charset=utf-8"),
                body::Body::full("OK"),
            ))
        }
        AUTHORIZE_PATH => Ok(oauth::authorize(shared, req.uri().query())),
        TOKEN_PATH => {
            let (resp, corrupt) = faulted(shared, FaultScope::Token, req, |parts, bytes| {
                let grant = oauth::grant_type_of(bytes);
                c.token_request(grant.as_deref());
                oauth::token(shared, &parts.headers, bytes)
            })
            .await?;
            Ok(corrupt.apply(resp))
        }
        INTROSPECT_PATH => {
            c.inc(&c.introspect_requests);
            let (parts, bytes) = read_request(req).await?;
            Ok(match bytes {
                ReadBody::Bytes(b) => oauth::introspect(shared, &parts.headers, &b),
                ReadBody::TooLarge { drained } => too_large(shared, drained),
            })
        }
        REVOKE_PATH => {
            c.inc(&c.revoke_requests);
            let (parts, bytes) = read_request(req).await?;
            Ok(match bytes {
                ReadBody::Bytes(b) => oauth::revoke(shared, &parts.headers, &b),
                ReadBody::TooLarge { drained } => too_large(shared, drained),
            })
        }
        _ => Ok(body::empty(StatusCode::NOT_FOUND)),
    }
}

async fn pir(req: Request<Incoming>, shared: &Arc<Shared>, conn: &ConnInfo) -> Result<Resp, Abort> {
    let c = &shared.counters;
    c.inc(&c.pir_requests);
    let result = faulted(shared, FaultScope::Pir, req, |parts, bytes| {
        let parsed = request::parse(bytes);
        if let Some(ird) = parsed.ird() {
            c.pir_call(ird);
        }
        let auth = parts.headers.get(header::AUTHORIZATION);
        match shared.profile {
            Profile::IrMock => mock::answer(parsed, nzpir::Clock::today_nz(&shared.clock), auth),
            Profile::Strict => strict::answer(shared, conn, auth, parsed),
        }
    })
    .await;
    let (resp, corrupt) = result?;
    let code = match resp.status() {
        StatusCode::OK => None,
        _ => resp
            .body()
            .bytes()
            .and_then(|b| nzpir::IrErrorBody::parse(b))
            .and_then(|b| b.errors.into_iter().next())
            .map(|e| e.code),
    };
    c.pir_answer(resp.status().as_u16(), code.as_ref());
    Ok(corrupt.apply(resp))
}

/// A fault to apply to an answer on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corrupt {
    None,
    Truncate,
    Malform,
    OtherInvestor,
}

impl Corrupt {
    fn apply(self, r: Resp) -> Resp {
        match self {
            Corrupt::None => r,
            Corrupt::Truncate => body::truncate(r),
            Corrupt::Malform => body::malform(r),
            Corrupt::OtherInvestor => body::other_investor(r),
        }
    }
}

pub(crate) fn too_large(shared: &Shared, drained: bool) -> Resp {
    let c = &shared.counters;
    c.inc(&c.payload_too_large);
    let r = body::empty(StatusCode::PAYLOAD_TOO_LARGE);
    if drained { r } else { body::closing(r) }
}

/// A request body, read.
pub(crate) enum ReadBody {
    Bytes(Bytes),
    /// Over [`MAX_BODY_BYTES`]; `drained` when it was read to its end anyway
    /// (so the connection can stay open).
    TooLarge {
        drained: bool,
    },
}

/// Reads a request. A body over the limit is still read and discarded up to
/// [`DRAIN_LIMIT`] so that the client sees the 413 rather than a reset. A
/// client that breaks off or stalls mid-body gets its connection closed.
pub(crate) async fn read_request(req: Request<Incoming>) -> Result<(Parts, ReadBody), Abort> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Ok((parts, ReadBody::TooLarge { drained: false }));
    }
    match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, DRAIN_LIMIT).collect()).await {
        Ok(Ok(collected)) => {
            let bytes = collected.to_bytes();
            if bytes.len() > MAX_BODY_BYTES {
                Ok((parts, ReadBody::TooLarge { drained: true }))
            } else {
                Ok((parts, ReadBody::Bytes(bytes)))
            }
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Ok((parts, ReadBody::TooLarge { drained: false }))
        }
        Ok(Err(_)) => Err(Abort("the request body broke off")),
        Err(_) => Err(Abort("the request body stalled")),
    }
}

/// Runs a handler under the fault (if any) set for `scope`.
async fn faulted(
    shared: &Shared,
    scope: FaultScope,
    req: Request<Incoming>,
    handle: impl FnOnce(&Parts, &Bytes) -> Resp,
) -> Result<(Resp, Corrupt), Abort> {
    let fault = shared.faults.take(scope);
    if fault.is_some() {
        let c = &shared.counters;
        c.inc(&c.faults_applied);
    }
    match fault {
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultKind::DropBeforeRead) => return Err(Abort("fault: drop before read")),
        _ => {}
    }
    let (parts, bytes) = match read_request(req).await? {
        (parts, ReadBody::Bytes(b)) => (parts, b),
        (_, ReadBody::TooLarge { drained }) => {
            return Ok((too_large(shared, drained), Corrupt::None));
        }
    };
    if let Some(FaultKind::DropAfterRead) = fault {
        // The request still counts as having reached the server.
        handle_counting_only(scope, &bytes, shared);
        return Err(Abort("fault: drop after read"));
    }
    if let Some(FaultKind::DropAfterProcess) = fault {
        // Processed in full (state changes included), then lost on the way back.
        drop(handle(&parts, &bytes));
        return Err(Abort("fault: drop after processing"));
    }
    match fault {
        Some(FaultKind::Status { status }) => {
            handle_counting_only(scope, &bytes, shared);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            return Ok((body::gateway_page(status), Corrupt::None));
        }
        Some(FaultKind::TooManyRequests { secs }) => {
            handle_counting_only(scope, &bytes, shared);
            return Ok((body::too_many_requests(secs), Corrupt::None));
        }
        Some(FaultKind::Pir150) => {
            handle_counting_only(scope, &bytes, shared);
            return Ok((body::ir_error(nzpir::IrCode::PIR150), Corrupt::None));
        }
        Some(FaultKind::Answer { status, body }) => {
            handle_counting_only(scope, &bytes, shared);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return Ok((
                body::response(
                    status,
                    Some("application/json"),
                    body::Body::full(body.into_bytes()),
                ),
                Corrupt::None,
            ));
        }
        _ => {}
    }
    let corrupt = match fault {
        Some(FaultKind::TruncatedBody) => Corrupt::Truncate,
        Some(FaultKind::MalformedBody) => Corrupt::Malform,
        Some(FaultKind::OtherInvestor) => Corrupt::OtherInvestor,
        _ => Corrupt::None,
    };
    Ok((handle(&parts, &bytes), corrupt))
}

/// For faults that answer without handling: count the request as the
/// handler would have (per IRD, or per grant type).
fn handle_counting_only(scope: FaultScope, bytes: &[u8], shared: &Shared) {
    let c = &shared.counters;
    match scope {
        FaultScope::Pir => {
            if let Some(ird) = request::parse(bytes).ird() {
                c.pir_call(ird);
            }
        }
        FaultScope::Token => c.token_request(oauth::grant_type_of(bytes).as_deref()),
    }
}

//! HTTPS to the gateway: one ureq agent (kept-alive connections, IR's TLS
//! policy, timeouts, proxy) and the mapping of every transport failure to an
//! [`Error`] that says what happened.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::CertificateDer;
use ureq::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use ureq::http::{HeaderValue, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, TcpConnector,
    Transport as UreqTransport,
};
use ureq::{Agent, Proxy, ProxyProtocol};

use arc_swap::ArcSwap;
use rustls::ClientConfig;

use crate::connector::PolicyTls;
use crate::error::{Cause, Error, ErrorKind};
use crate::fork::Owner;
use crate::operation::{self, Method};
use crate::renewal::{LiveIdentity, Resolver as IdentityResolver};
use crate::tls;

/// The largest answer the client reads (IR's answers are a few hundred bytes).
const MAX_BODY: u64 = 1 << 20;

const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const ACCEPT_JSON: HeaderValue = HeaderValue::from_static("application/json");
const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");

/// The gateway's base URL, checked, and the URI of every operation under it
/// (parsed once).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `https://host:port[/prefix]`, without a trailing slash.
    pub base: String,
    /// `host:port`, for messages.
    pub authority: String,
    pub host: String,
    /// Each path of [`operation::PATHS`] with its URI.
    operations: Vec<(&'static str, Uri)>,
}

impl Endpoint {
    /// Parses a base URL (`https://host[:port][/prefix]`). A full operation URL
    /// (`.../gateway/calculators/pir`) is accepted and trimmed to its base.
    pub(crate) fn parse(setting: &str, text: &str) -> Result<Endpoint, Error> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            Error::config(
                setting,
                format!("not a valid URL ({e}); expected e.g. https://host:4046"),
            )
        })?;
        if url.scheme() != "https" {
            return Err(Error::config(
                setting,
                format!(
                    "must be an https URL (IR's gateway speaks only TLS), not {}",
                    crate::error::scrub(url.scheme())
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                setting,
                "must not carry a user name or password",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config(setting, "must not have a query or fragment"));
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => return Err(Error::config(setting, "has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let mut path = url.path().trim_end_matches('/').to_owned();
        for op in operation::PATHS {
            if let Some(prefix) = path.strip_suffix(op) {
                path = prefix.to_owned();
                break;
            }
        }
        let origin = match url.port() {
            Some(p) => format!("https://{host}:{p}"),
            None => format!("https://{host}"),
        };
        let base = format!("{origin}{path}");
        let uri = |op: &str| -> Result<Uri, Error> {
            format!("{base}{op}")
                .parse::<Uri>()
                .map_err(|_| Error::config(setting, "is not a URL the HTTP client accepts"))
        };
        Ok(Endpoint {
            operations: operation::PATHS
                .iter()
                .map(|p| uri(p).map(|u| (*p, u)))
                .collect::<Result<_, _>>()?,
            authority: format!("{host}:{port}"),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            base,
        })
    }

    /// The URI of the operation at `path` (one of [`operation::PATHS`]).
    pub(crate) fn uri(&self, path: &str) -> Result<&Uri, Error> {
        self.operations
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, u)| u)
            .ok_or_else(|| Error::new(ErrorKind::Config, "an operation without a URL"))
    }
}

/// What the transport needs to open connections.
pub(crate) struct TransportOptions<'a> {
    pub endpoint: Endpoint,
    pub identity: Option<Arc<LiveIdentity>>,
    pub extra_roots: &'a [CertificateDer<'static>],
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub proxy: ProxySetting,
    pub user_agent: String,
    pub max_idle_connections: usize,
}

/// Where the proxy comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY` from the environment (the default).
    /// Loopback hosts are never proxied.
    #[default]
    FromEnv,
    /// This proxy URL (`http://[user:pass@]host:port`), for every call.
    Url(String),
    /// No proxy, whatever the environment says.
    Off,
}

/// A gateway answer: status, body and `Retry-After`.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

/// The agent of one process: its kept-alive connections and resolver.
struct Live {
    owner: Owner,
    agent: Agent,
    /// The agent's resolver, to forget its answers after a connection failure.
    resolver: Arc<CachingResolver>,
}

/// What a process's TLS step is made from.
#[derive(Clone)]
struct TlsParts {
    /// IR's policy, with the client certificate from `identity`.
    ir: Arc<ClientConfig>,
    /// IR's policy without a client certificate, for the hop to an HTTPS
    /// proxy; `None` when no proxy is in use.
    proxy_hop: Option<Arc<ClientConfig>>,
    identity: Option<Arc<LiveIdentity>>,
}

/// A copy of a TLS configuration with a session cache of its own, so that no
/// two processes resume the same session.
fn own_sessions(config: &Arc<ClientConfig>) -> Arc<ClientConfig> {
    let mut fresh = (**config).clone();
    fresh.resumption = rustls::client::Resumption::default();
    Arc::new(fresh)
}

impl Live {
    fn new(config: ureq::config::Config, tls: &TlsParts) -> Live {
        let resolver = Arc::new(CachingResolver::default());
        // ureq's default chain without SOCKS (refused when configured):
        // CONNECT through an HTTP(S) proxy, TCP, then TLS (ours, so that a
        // renewed client certificate is used without a restart).
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(IdentityOnlyForIr {
                    ir: PolicyTls::new(own_sessions(&tls.ir), tls.identity.clone()),
                    proxy: tls
                        .proxy_hop
                        .as_ref()
                        .map(|c| PolicyTls::new(own_sessions(c), None)),
                });
        Live {
            owner: Owner::current(),
            agent: Agent::with_parts(config, connector, SharedResolver(Arc::clone(&resolver))),
            resolver,
        }
    }
}

/// TLS for every connection, with the client certificate only on the
/// connections to IR's hosts: the hop to an HTTPS proxy (made by the CONNECT
/// step with a copy of the settings that has no proxy) gets IR's policy
/// without it, so a proxy that asks for a client certificate is sent none.
struct IdentityOnlyForIr {
    ir: PolicyTls,
    /// The proxy hop's TLS, when a proxy is in use.
    proxy: Option<PolicyTls>,
}

impl fmt::Debug for IdentityOnlyForIr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityOnlyForIr")
            .field("proxied", &self.proxy.is_some())
            .finish()
    }
}

impl<In: UreqTransport> Connector<In> for IdentityOnlyForIr {
    type Out = <PolicyTls as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        match &self.proxy {
            Some(hop) if details.config.proxy().is_none() => hop.connect(details, chained),
            _ => self.ir.connect(details, chained),
        }
    }
}

/// One agent for all calls: connections are kept alive and shared by threads
/// of one process. In a forked child the agent is replaced before its first
/// use there (see [`crate::fork`]).
pub(crate) struct Transport {
    live: ArcSwap<Live>,
    /// The agent's settings, to build a new one after a fork.
    config: ureq::config::Config,
    /// The TLS step's parts, likewise.
    tls: TlsParts,
    /// Held while a forked child replaces the agent.
    rebuild: Mutex<()>,
    pub endpoint: Endpoint,
    /// Whether a proxy is in use, for `Debug`.
    pub proxied: bool,
    has_identity: bool,
}

impl Transport {
    pub(crate) fn new(o: TransportOptions<'_>) -> Result<Transport, Error> {
        let has_identity = o.identity.is_some();
        let proxy = resolve_proxy(&o.proxy, &o.endpoint.host)?;
        let proxied = proxy.is_some();
        let resolver: Option<Arc<dyn rustls::client::ResolvesClientCert>> = o
            .identity
            .as_ref()
            .map(|id| Arc::new(IdentityResolver(Arc::clone(id))) as _);
        let tls = TlsParts {
            ir: tls::client_config(tls::root_store(o.extra_roots), resolver)?,
            // The same roots and policy for the hop to an HTTPS proxy, and
            // never the client certificate (it is for IR alone).
            proxy_hop: if proxied {
                Some(tls::client_config(tls::root_store(o.extra_roots), None)?)
            } else {
                None
            },
            identity: o.identity,
        };
        let config = Agent::config_builder()
            .https_only(true)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(proxy)
            .timeout_global(Some(o.timeout))
            .timeout_connect(Some(o.connect_timeout))
            .user_agent(o.user_agent.as_str())
            .max_idle_connections(o.max_idle_connections)
            .max_idle_connections_per_host(o.max_idle_connections)
            .build();
        Ok(Transport {
            live: ArcSwap::from_pointee(Live::new(config.clone(), &tls)),
            config,
            tls,
            rebuild: Mutex::new(()),
            endpoint: o.endpoint,
            proxied,
            has_identity,
        })
    }

    /// This process's agent. After a fork the child builds its own: the
    /// inherited one is dropped, which closes the child's copies of the
    /// connections without writing on them.
    fn live(&self) -> Arc<Live> {
        let live = self.live.load_full();
        if live.owner.is_current() {
            return live;
        }
        let _g = self.rebuild.lock().unwrap_or_else(|p| p.into_inner());
        let live = self.live.load_full();
        if live.owner.is_current() {
            return live;
        }
        log::debug!(target: "nzpir", "new process (fork): opening new connections");
        let fresh = Arc::new(Live::new(self.config.clone(), &self.tls));
        self.live.store(Arc::clone(&fresh));
        fresh
    }

    /// Sends one call of an operation: its method to its URI, with IR's JSON
    /// body (POST) and the `Authorization` header when given.
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer, Error> {
        let uri = self.endpoint.uri(path)?.clone();
        let live = self.live();
        let resp = match method {
            Method::Post => {
                let mut req = live
                    .agent
                    .post(uri)
                    .header(CONTENT_TYPE, JSON_UTF8)
                    .header(ACCEPT, ACCEPT_JSON);
                if let Some(a) = auth {
                    req = req.header(AUTHORIZATION, a.clone());
                }
                req.send(body.unwrap_or_default())
            }
            Method::Get => {
                let mut req = live.agent.get(uri);
                if let Some(a) = auth {
                    req = req.header(AUTHORIZATION, a.clone());
                }
                req.call()
            }
        }
        .map_err(|e| self.map_error(e))?;
        self.read(resp)
    }

    /// POSTs a URL-encoded form with HTTP Basic auth (IR's OAuth endpoints),
    /// over the same TLS policy, roots and proxy as the gateway calls.
    pub(crate) fn post_form(
        &self,
        url: &str,
        basic: &str,
        form: &[(&str, &str)],
    ) -> Result<Answer, Error> {
        let uri: Uri = url
            .parse()
            .map_err(|_| Error::config("auth.endpoint", "is not a valid URL"))?;
        let host = uri
            .authority()
            .map_or_else(|| "the OAuth server".to_owned(), ToString::to_string);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut auth = HeaderValue::from_str(basic).map_err(|_| {
            Error::config("auth.client_secret", "does not make a valid HTTP header")
        })?;
        auth.set_sensitive(true);
        let resp = self
            .live()
            .agent
            .post(uri)
            .header(CONTENT_TYPE, FORM)
            .header(ACCEPT, ACCEPT_JSON)
            .header(AUTHORIZATION, auth)
            .send(body.as_bytes())
            .map_err(|e| self.forget_on_failure(map_ureq_error(&host, e)))?;
        self.read(resp)
    }

    fn read(&self, mut resp: ureq::http::Response<ureq::Body>) -> Result<Answer, Error> {
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::Timeout(_) => self.map_error(e),
                ureq::Error::BodyExceedsLimit(_) => Error::new(
                    ErrorKind::Server,
                    format!("the gateway's answer (HTTP {status}) is larger than {MAX_BODY} bytes"),
                )
                .with_http_status(status),
                other => Error::new(
                    ErrorKind::Server,
                    format!("the gateway's answer (HTTP {status}) was cut short or unreadable"),
                )
                .with_http_status(status)
                .with_source(other),
            })?;
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }

    /// A connection that failed or timed out may have been to an address
    /// that no longer serves the host: look it up again next time.
    fn forget_on_failure(&self, err: Error) -> Error {
        if matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout) {
            self.live.load().resolver.forget();
        }
        err
    }

    fn map_error(&self, e: ureq::Error) -> Error {
        let err = self.forget_on_failure(map_ureq_error(&self.endpoint.authority, e));
        // In TLS 1.3 a server that wants a client certificate says so only after
        // the handshake, and often the client sees just a closed connection.
        if !self.has_identity
            && err.kind() == ErrorKind::Transport
            && err.cause() == Some(Cause::ConnectionClosed)
        {
            let msg = format!(
                "{} (no client certificate is configured: if this gateway uses mutual TLS, set tls.client_cert and tls.client_key)",
                err.message()
            );
            let not_sent = err.request_not_sent();
            let e = Error::new(ErrorKind::Transport, msg)
                .with_source(err)
                .with_cause(Cause::ClientCertificate);
            return if not_sent { e.not_sent() } else { e };
        }
        err
    }
}

/// How long a resolved address is reused before the host is looked up again.
const RESOLVE_TTL: Duration = Duration::from_secs(30);
/// How many hosts the resolver remembers (the gateway and the OAuth host).
const RESOLVE_CACHE_HOSTS: usize = 4;

/// ureq's resolver, remembering each answer for [`RESOLVE_TTL`].
///
/// ureq resolves the host of every request, even one that goes out on a
/// kept-alive connection, and when a timeout is set (always, here) it does so
/// on a new thread, so that the lookup can be abandoned: a thread and a DNS
/// query per call. The first call to a host still goes through ureq's
/// resolver, with its timeout; later ones within the TTL reuse its answer.
/// A connection or timeout failure forgets every answer, so that a retry
/// looks the host up again (a gateway that moved is found at once).
#[derive(Debug, Default)]
struct CachingResolver<R = DefaultResolver> {
    inner: R,
    cache: Mutex<Vec<Cached>>,
}

/// One remembered answer: the scheme and authority it is for, and when.
#[derive(Debug)]
struct Cached {
    scheme: String,
    authority: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl<R: Resolver> CachingResolver<R> {
    fn resolve_cached(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let authority = authority.as_str();
        // A hit (every call but the first in a TTL) allocates nothing.
        let is_for = |c: &Cached| c.scheme == scheme && c.authority == authority;
        let now = Instant::now();
        {
            let mut cache = self.lock();
            cache.retain(|c| now.duration_since(c.at) < RESOLVE_TTL);
            if let Some(c) = cache.iter().find(|c| is_for(c)) {
                return Ok(c.addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.lock();
        cache.retain(|c| !is_for(c));
        if cache.len() >= RESOLVE_CACHE_HOSTS {
            cache.remove(0);
        }
        cache.push(Cached {
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            at: now,
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }

    fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The agent's handle on the transport's [`CachingResolver`].
#[derive(Debug)]
struct SharedResolver(Arc<CachingResolver>);

impl Resolver for SharedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve_cached(uri, config, timeout)
    }
}

/// Maps a ureq failure to an error that says what happened.
pub(crate) fn map_ureq_error(host: &str, e: ureq::Error) -> Error {
    use ureq::Error as U;
    match e {
        U::Timeout(t @ (ureq::Timeout::Connect | ureq::Timeout::Resolve)) => Error::new(
            ErrorKind::Timeout,
            format!("could not connect to {host} in time ({t} timeout)"),
        )
        .not_sent(),
        U::Timeout(t) => Error::new(
            ErrorKind::Timeout,
            format!("no answer from {host} in time ({t} timeout)"),
        ),
        U::Io(io) => map_io(host, io),
        U::Rustls(r) => tls::tls_error(host, &r),
        U::Tls(what) => Error::new(ErrorKind::Tls, format!("TLS with {host} failed: {what}")),
        U::HostNotFound => Error::new(
            ErrorKind::Transport,
            format!("host not found: {host} (DNS)"),
        )
        .not_sent(),
        U::ConnectionFailed => {
            Error::new(ErrorKind::Transport, format!("could not connect to {host}")).not_sent()
        }
        U::ConnectProxyFailed(why) => Error::new(
            ErrorKind::Transport,
            format!(
                "the proxy refused to connect to {host}: {}",
                crate::error::scrub(&why)
            ),
        )
        .not_sent(),
        U::Protocol(p) => Error::new(
            ErrorKind::Server,
            format!("{host} did not answer with valid HTTP/1.1 ({p})"),
        ),
        U::LargeResponseHeader(..) | U::BodyExceedsLimit(_) => Error::new(
            ErrorKind::Server,
            format!("{host} answered with an oversized response"),
        ),
        U::TooManyRedirects | U::RedirectFailed => Error::new(
            ErrorKind::Server,
            format!("{host} answered with a redirect"),
        ),
        U::BadUri(_) | U::Http(_) | U::RequireHttpsOnly(_) | U::InvalidProxyUrl => Error::new(
            ErrorKind::Config,
            format!("the request to {host} could not be made: {e}"),
        ),
        other => Error::new(
            ErrorKind::Transport,
            format!(
                "the connection to {host} failed: {}",
                crate::error::scrub(&other.to_string())
            ),
        )
        .with_cause(Cause::ConnectionClosed),
    }
}

fn map_io(host: &str, io: io::Error) -> Error {
    if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return tls::tls_error(host, r);
    }
    let (kind, what) = match io.kind() {
        io::ErrorKind::ConnectionRefused => (ErrorKind::Transport, "connection refused".to_owned()),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            (ErrorKind::Transport, "connection reset".to_owned())
        }
        io::ErrorKind::BrokenPipe => (
            ErrorKind::Transport,
            "connection closed while sending".to_owned(),
        ),
        io::ErrorKind::UnexpectedEof => (
            ErrorKind::Transport,
            "the server closed the connection without answering".to_owned(),
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            (ErrorKind::Timeout, "no answer in time".to_owned())
        }
        io::ErrorKind::AddrNotAvailable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable => {
            (ErrorKind::Transport, "network unreachable".to_owned())
        }
        _ => (ErrorKind::Transport, crate::error::scrub(&io.to_string())),
    };
    let never_connected = matches!(
        io.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    );
    let cause = match io.kind() {
        io::ErrorKind::ConnectionRefused => Some(Cause::ConnectionRefused),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Some(Cause::ConnectionClosed),
        _ => None,
    };
    let mut e = Error::new(kind, format!("{host}: {what}")).with_source(io);
    if let Some(c) = cause {
        e = e.with_cause(c);
    }
    if never_connected { e.not_sent() } else { e }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `NO_PROXY` (comma-separated: `*`, `host`, `.suffix`, `*.suffix`,
/// optionally with `:port`) exempts `host`.
fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let entry = entry.to_ascii_lowercase();
            let entry = match entry.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
                    h.to_owned()
                }
                _ => entry,
            };
            if entry == "*" {
                return true;
            }
            let bare = entry.trim_start_matches('*').trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

/// Decides, once, whether calls to `host` go through a proxy.
pub(crate) fn resolve_proxy(setting: &ProxySetting, host: &str) -> Result<Option<Proxy>, Error> {
    resolve_proxy_with(setting, host, &|name| std::env::var(name).ok())
}

fn resolve_proxy_with(
    setting: &ProxySetting,
    host: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, Error> {
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| lookup(n))
            .filter(|v| !v.trim().is_empty())
    };
    match setting {
        ProxySetting::Off => Ok(None),
        ProxySetting::Url(url) => build_proxy("proxy", url).map(Some),
        ProxySetting::FromEnv => {
            let Some(url) = env(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) else {
                return Ok(None);
            };
            if is_loopback(host) {
                return Ok(None);
            }
            if let Some(no) = env(&["NO_PROXY", "no_proxy"])
                && no_proxy_matches(&no, host)
            {
                return Ok(None);
            }
            build_proxy("HTTPS_PROXY", &url).map(Some)
        }
    }
}

/// A URL's user name or password as the person wrote it: `%XX` decoded, and
/// nothing else (a `+` is a plus sign in a URL's userinfo, not a space as in
/// a form).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A ureq proxy from a URL; messages never echo the URL (it may hold a password).
fn build_proxy(setting: &str, text: &str) -> Result<Proxy, Error> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| {
        Error::config(
            setting,
            "is not a valid proxy URL (expected http://host:port)",
        )
    })?;
    let protocol = match url.scheme() {
        "http" => ProxyProtocol::Http,
        "https" => ProxyProtocol::Https,
        other => {
            return Err(Error::config(
                setting,
                format!(
                    "proxy scheme `{other}` is not supported; use an http:// or https:// proxy"
                ),
            ));
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::config(setting, "the proxy URL has no host"))?;
    let mut b = Proxy::builder(protocol).host(host);
    if let Some(port) = url.port_or_known_default() {
        b = b.port(port);
    }
    if !url.username().is_empty() {
        b = b.username(&percent_decode(url.username()));
        if let Some(p) = url.password() {
            b = b.password(&percent_decode(p));
        }
    }
    b.build()
        .map_err(|_| Error::config(setting, "is not a usable proxy URL"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{PIR_PATH, STATUS_PATH};

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("endpoint", "https://127.0.0.1:8443/").expect("ok");
        assert_eq!(
            e.uri(PIR_PATH).expect("pir").to_string(),
            "https://127.0.0.1:8443/gateway/calculators/pir"
        );
        assert_eq!(
            e.uri(STATUS_PATH).expect("status").to_string(),
            "https://127.0.0.1:8443/gateway/calculators/status"
        );
        assert_eq!(e.authority, "127.0.0.1:8443");
        let e = Endpoint::parse(
            "endpoint",
            "https://services.ird.govt.nz:4046/gateway/calculators/pir",
        )
        .expect("full URL");
        assert_eq!(e.base, "https://services.ird.govt.nz:4046");
        let e = Endpoint::parse("endpoint", "https://gw.example/prefix/").expect("prefix");
        assert_eq!(
            e.uri(PIR_PATH).expect("pir").to_string(),
            "https://gw.example/prefix/gateway/calculators/pir"
        );
        assert_eq!(e.authority, "gw.example:443");
        let e = Endpoint::parse("endpoint", "https://[::1]:9/").expect("v6");
        assert_eq!(e.host, "::1");

        for bad in [
            "http://x.example",
            "ftp://x",
            "not a url",
            "https://u:p@x.example",
            "https://x.example/?a=1",
        ] {
            let err = Endpoint::parse("endpoint", bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(err.to_string().contains("`endpoint`"), "{err}");
            assert!(!err.to_string().contains("u:p"), "{err}");
        }
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "a.example"));
        assert!(no_proxy_matches("ird.govt.nz", "services.ird.govt.nz"));
        assert!(no_proxy_matches(".ird.govt.nz", "services.ird.govt.nz"));
        assert!(no_proxy_matches("*.ird.govt.nz", "services.ird.govt.nz"));
        assert!(no_proxy_matches(
            "foo, services.ird.govt.nz:4046",
            "services.ird.govt.nz"
        ));
        assert!(!no_proxy_matches("govt.nz.example", "services.ird.govt.nz"));
        assert!(!no_proxy_matches("rd.govt.nz", "services.ird.govt.nz"));
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("::1"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn proxy_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let gw = "services.ird.govt.nz";
        let with_proxy = env(&[("HTTPS_PROXY", "http://proxy.corp:3128")]);
        let p = resolve_proxy_with(&ProxySetting::FromEnv, gw, &with_proxy)
            .expect("ok")
            .expect("proxied");
        assert_eq!((p.host(), p.port()), ("proxy.corp", 3128));
        // Loopback (the sandbox) is never proxied from the environment.
        assert!(
            resolve_proxy_with(&ProxySetting::FromEnv, "127.0.0.1", &with_proxy)
                .expect("ok")
                .is_none()
        );
        // NO_PROXY exempts matching hosts.
        let exempt = env(&[
            ("https_proxy", "proxy.corp:3128"),
            ("NO_PROXY", "localhost,.govt.nz"),
        ]);
        assert!(
            resolve_proxy_with(&ProxySetting::FromEnv, gw, &exempt)
                .expect("ok")
                .is_none()
        );
        let other = env(&[
            ("ALL_PROXY", "http://proxy.corp:3128"),
            ("no_proxy", "example.com"),
        ]);
        assert!(
            resolve_proxy_with(&ProxySetting::FromEnv, gw, &other)
                .expect("ok")
                .is_some()
        );
        // Nothing set: direct. Off: direct whatever the environment says.
        assert!(
            resolve_proxy_with(&ProxySetting::FromEnv, gw, &env(&[]))
                .expect("ok")
                .is_none()
        );
        assert!(
            resolve_proxy_with(&ProxySetting::Off, gw, &with_proxy)
                .expect("ok")
                .is_none()
        );
        // A bad proxy in the environment is a config error that hides the URL.
        let bad = env(&[("HTTPS_PROXY", "socks5://u:hunter2@p:1")]);
        let e = resolve_proxy_with(&ProxySetting::FromEnv, gw, &bad).expect_err("socks");
        assert!(
            e.to_string().contains("HTTPS_PROXY") && !e.to_string().contains("hunter2"),
            "{e}"
        );
    }

    #[test]
    fn proxies() {
        let p = build_proxy("proxy", "http://user:s%40cret@proxy.example:3128").expect("proxy");
        assert_eq!(p.host(), "proxy.example");
        assert_eq!(p.port(), 3128);
        assert_eq!(p.username(), Some("user"));
        assert_eq!(p.password(), Some("s@cret"));
        // Percent-decoding, not form-decoding: `+` stays `+`.
        let p =
            build_proxy("proxy", "http://us+er:pa+ss%2Bw%20rd@proxy.example:3128").expect("proxy");
        assert_eq!(p.username(), Some("us+er"));
        assert_eq!(p.password(), Some("pa+ss+w rd"));
        let p = build_proxy("proxy", "proxy.example:8080").expect("no scheme");
        assert_eq!(p.protocol(), ProxyProtocol::Http);
        let e = build_proxy("proxy", "socks5://u:hunter2@p.example:1080").expect_err("socks");
        assert!(
            e.to_string().contains("`proxy`") && !e.to_string().contains("hunter2"),
            "{e}"
        );
        assert_eq!(
            resolve_proxy(&ProxySetting::Off, "services.ird.govt.nz").expect("off"),
            None
        );
        assert!(
            resolve_proxy(&ProxySetting::Url("http://p.example:1".into()), "127.0.0.1")
                .expect("explicit")
                .is_some()
        );
    }

    /// Counts the lookups that reach the resolver underneath.
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize, DefaultResolver);

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            config: &ureq::config::Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.1.resolve(uri, config, timeout)
        }
    }

    #[test]
    fn resolver_remembers_each_host_until_a_failure() {
        let r = CachingResolver {
            inner: Counting::default(),
            cache: Mutex::default(),
        };
        let lookups = || r.inner.0.load(std::sync::atomic::Ordering::SeqCst);
        let config = ureq::config::Config::default();
        let gateway: Uri = "https://127.0.0.1:4046/gateway/calculators/pir"
            .parse()
            .expect("uri");
        let status: Uri = "https://127.0.0.1:4046/gateway/calculators/status"
            .parse()
            .expect("uri");
        let oauth: Uri = "https://127.0.0.1:4047/gateway3/oauth/token"
            .parse()
            .expect("uri");
        let resolve = |uri: &Uri| -> Vec<std::net::SocketAddr> {
            r.resolve_cached(uri, &config, NextTimeout::default())
                .expect("resolve")
                .to_vec()
        };
        let want: std::net::SocketAddr = "127.0.0.1:4046".parse().expect("addr");
        for _ in 0..3 {
            assert_eq!(resolve(&gateway), [want]);
        }
        assert_eq!(resolve(&status), [want]);
        assert_eq!(lookups(), 1, "one lookup per host and port");
        assert_eq!(resolve(&oauth), ["127.0.0.1:4047".parse().expect("addr")]);
        assert_eq!(lookups(), 2);
        r.forget();
        assert_eq!(resolve(&gateway), [want]);
        assert_eq!(lookups(), 3, "looked up again after a failure");
    }
}

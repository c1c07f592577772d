//! The sandbox handle and its options.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::Error;
use crate::faults::{Fault, FaultQueue};
use crate::fixture::Fixture;
use crate::manifest::{self, Manifest, ManifestInputs};
use crate::oauth::{ACCESS_TTL_SECS, OAuthStore};
use crate::pki::Pki;
use crate::registry::Registry;
use crate::state::{OAuthSettings, Profile, SandboxClock, Shared};
use crate::stats::{Counters, Stats};
use crate::{server, tls};

/// The default IR003 limit of the strict profile: answered queries about
/// one IRD number in a rolling 24 hours.
pub const DEFAULT_IR003_LIMIT: u32 = 25;

#[derive(Debug, Clone)]
enum FixtureSource {
    Default,
    File(PathBuf),
    Value(Box<Fixture>),
}

/// How to start a sandbox. The defaults: profile `strict`, `127.0.0.1` on an
/// ephemeral port, a temporary PKI folder (removed on drop), the default
/// fixture, IR003 after 25 answered queries of one IRD in 24 hours, 8-hour
/// access tokens.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    profile: Profile,
    listen: SocketAddr,
    oauth_listen: Option<SocketAddr>,
    pki_dir: Option<PathBuf>,
    fixture: FixtureSource,
    ir003_limit: u32,
    clock_offset_secs: i64,
    access_token_ttl: Duration,
    expires_in_as_string: bool,
    require_pkce: bool,
    loopback_redirect_any_port: bool,
    worker_threads: usize,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            profile: Profile::Strict,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            oauth_listen: None,
            pki_dir: None,
            fixture: FixtureSource::Default,
            ir003_limit: DEFAULT_IR003_LIMIT,
            clock_offset_secs: 0,
            access_token_ttl: Duration::from_secs(ACCESS_TTL_SECS as u64),
            expires_in_as_string: false,
            require_pkce: false,
            loopback_redirect_any_port: false,
            worker_threads: 2,
        }
    }
}

impl SandboxOptions {
    /// `ir-mock` or `strict` (the default).
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, an ephemeral port).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The address of the OAuth listener (one-way TLS, OAuth endpoints only,
    /// as IR's OAuth host). Default: the main address's IP, an ephemeral port.
    /// The OAuth endpoints are also served on the main (mutual TLS) address.
    #[must_use]
    pub fn oauth_listen(mut self, addr: SocketAddr) -> Self {
        self.oauth_listen = Some(addr);
        self
    }

    /// A folder for the PKI, the configuration and the manifest; files already
    /// there are reused. Without one, a temporary folder is used and removed
    /// when the sandbox is dropped.
    #[must_use]
    pub fn pki_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.pki_dir = Some(dir.into());
        self
    }

    /// A fixture file (JSON) instead of the default fixture.
    #[must_use]
    pub fn fixture_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixture = FixtureSource::File(path.into());
        self
    }

    /// A fixture value instead of the default fixture.
    #[must_use]
    pub fn fixture(mut self, fixture: Fixture) -> Self {
        self.fixture = FixtureSource::Value(Box::new(fixture));
        self
    }

    /// IR003 after `n` answered queries about one IRD number in a rolling 24
    /// hours (strict profile); 0 turns the limit off.
    #[must_use]
    pub fn ir003_limit(mut self, n: u32) -> Self {
        self.ir003_limit = n;
        self
    }

    /// Starts the sandbox's clock `secs` away from the system clock (it can be
    /// changed later with [`Sandbox::set_clock_offset`]).
    #[must_use]
    pub fn clock_offset(mut self, secs: i64) -> Self {
        self.clock_offset_secs = secs;
        self
    }

    /// The lifetime of OAuth access tokens (IR's is 8 hours); shorter ones let
    /// client tests see expiry.
    #[must_use]
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// Sends the token endpoint's `expires_in` as a string (`"28800"`), as some
    /// of IR's samples show it.
    #[must_use]
    pub fn expires_in_as_string(mut self, yes: bool) -> Self {
        self.expires_in_as_string = yes;
        self
    }

    /// Refuses authorisations and code exchanges without PKCE. IR accepts
    /// both (PKCE "cannot be enforced per digital service provider"), and so
    /// does the sandbox by default.
    #[must_use]
    pub fn require_pkce(mut self, yes: bool) -> Self {
        self.require_pkce = yes;
        self
    }

    /// Lets an `http` loopback redirect URI registered without a port match
    /// the same URI on any port (RFC 8252 7.3). IR does not support it and
    /// matches redirect URIs exactly, as the sandbox does by default.
    #[must_use]
    pub fn loopback_redirect_any_port(mut self, yes: bool) -> Self {
        self.loopback_redirect_any_port = yes;
        self
    }

    /// Threads of the sandbox's runtime (default 2).
    #[must_use]
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }
}

struct Running {
    shutdown: watch::Sender<bool>,
    thread: JoinHandle<()>,
}

/// A running sandbox. Dropping it shuts it down (and removes its temporary
/// PKI folder, if it made one).
pub struct Sandbox {
    shared: Arc<Shared>,
    manifest: Manifest,
    manifest_path: PathBuf,
    config_path: PathBuf,
    pki_dir: PathBuf,
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
    // Declared last: removed after the server has stopped.
    _temp_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("url", &self.manifest.url)
            .field("profile", &self.shared.profile)
            .field("pki_dir", &self.pki_dir)
            .finish()
    }
}

fn url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(v4) => format!("https://{v4}:{}", addr.port()),
        IpAddr::V6(v6) => format!("https://[{v6}]:{}", addr.port()),
    }
}

impl Sandbox {
    /// Starts a sandbox: makes or reuses its PKI, checks the fixture, binds,
    /// writes `nzpir.toml` and `manifest.json`, and serves on a background
    /// runtime. Returns once it is listening.
    pub fn start(options: SandboxOptions) -> Result<Sandbox, Error> {
        let fixture = match &options.fixture {
            FixtureSource::Default => Fixture::from_json_str(crate::fixture::DEFAULT_FIXTURE_JSON)?,
            FixtureSource::File(p) => Fixture::from_file(p)?,
            FixtureSource::Value(f) => (**f).clone(),
        };
        let (pki_dir, temp_dir) = match &options.pki_dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| Error::io(format!("creating {}", d.display()), e))?;
                let abs = std::fs::canonicalize(d)
                    .map_err(|e| Error::io(format!("resolving {}", d.display()), e))?;
                (abs, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("nzpir-sandbox-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a temporary PKI folder", e))?;
                let abs = std::fs::canonicalize(t.path())
                    .map_err(|e| Error::io("resolving the temporary PKI folder", e))?;
                (abs, Some(t))
            }
        };
        let manifest_path = pki_dir.join("manifest.json");
        let config_path = pki_dir.join("nzpir.toml");
        // A manifest left by an earlier run would point at a dead port.
        let _ = std::fs::remove_file(&manifest_path);

        let pki = Pki::load_or_make(&pki_dir, &[options.listen.ip()])?;
        let registry = Registry::build(&fixture, &pki)?;
        let tls_config = tls::server_config(&pki)?;
        let oauth_tls_config = tls::oauth_server_config(&pki)?;

        let bind = |addr: SocketAddr| -> Result<(std::net::TcpListener, SocketAddr), Error> {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|e| Error::io(format!("binding {addr}"), e))?;
            l.set_nonblocking(true)
                .map_err(|e| Error::io("configuring the listener", e))?;
            let local = l
                .local_addr()
                .map_err(|e| Error::io("reading the listening address", e))?;
            Ok((l, local))
        };
        let (listener, addr) = bind(options.listen)?;
        let (oauth_listener, oauth_addr) = bind(
            options
                .oauth_listen
                .unwrap_or(SocketAddr::new(addr.ip(), 0)),
        )?;
        let url = url_for(addr);
        let oauth_url = url_for(oauth_addr);

        let access_ttl_secs = i64::try_from(options.access_token_ttl.as_secs())
            .unwrap_or(ACCESS_TTL_SECS)
            .max(1);
        let ir003_limit = match options.profile {
            Profile::Strict => options.ir003_limit,
            Profile::IrMock => 0,
        };
        let jwt_ec_alg = registry
            .named_jwt_alg
            .get("jwt_ec")
            .cloned()
            .unwrap_or_else(|| pki.jwt_ec_alg.to_owned());
        let manifest = manifest::build(
            &ManifestInputs {
                url: &url,
                oauth_url: &oauth_url,
                profile: options.profile.as_str(),
                pki: &pki,
                pki_dir: &pki_dir,
                config_path: &config_path,
                fixture: &fixture,
                ir003_limit,
                access_ttl_secs,
            },
            &jwt_ec_alg,
        );
        manifest::write_config(&config_path, &manifest::client_config(&url, &pki, &fixture))?;
        let manifest_json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();

        let shared = Arc::new(Shared {
            profile: options.profile,
            registry,
            oauth: OAuthStore::default(),
            oauth_settings: OAuthSettings {
                access_ttl_secs,
                expires_in_as_string: options.expires_in_as_string,
                require_pkce: options.require_pkce,
                loopback_redirect_any_port: options.loopback_redirect_any_port,
            },
            faults: FaultQueue::default(),
            counters: Counters::default(),
            clock: SandboxClock::new(options.clock_offset_secs),
            ir003_limit,
            manifest_json,
        });

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.worker_threads)
            .thread_name("nzpir-sandbox")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the sandbox runtime", e))?;
        let (main, oauth) = {
            let _guard = runtime.enter();
            let register = |l| {
                tokio::net::TcpListener::from_std(l)
                    .map_err(|e| Error::io("registering the listener", e))
            };
            (
                server::Endpoint {
                    listener: register(listener)?,
                    tls: tls_config,
                    oauth_only: false,
                },
                server::Endpoint {
                    listener: register(oauth_listener)?,
                    tls: oauth_tls_config,
                    oauth_only: true,
                },
            )
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let serve_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("nzpir-sandbox-main".to_owned())
            .spawn(move || {
                runtime.block_on(server::run(main, oauth, serve_shared, shutdown_rx));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| Error::io("starting the sandbox thread", e))?;

        let sandbox = Sandbox {
            shared,
            manifest,
            manifest_path,
            config_path,
            pki_dir,
            addr,
            running: Mutex::new(Some(Running { shutdown, thread })),
            _temp_dir: temp_dir,
        };
        manifest::write_manifest(&sandbox.manifest_path, &sandbox.manifest)?;
        log::info!(
            "nzpir-sandbox listening on {} (profile {}, {} PKI files made)",
            sandbox.manifest.url,
            sandbox.shared.profile,
            pki.generated
        );
        Ok(sandbox)
    }

    /// The base URL, `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.manifest.url
    }

    /// The OAuth listener's base URL (one-way TLS, OAuth endpoints only).
    pub fn oauth_url(&self) -> &str {
        &self.manifest.oauth.base_url
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The profile it serves.
    pub fn profile(&self) -> Profile {
        self.shared.profile
    }

    /// The manifest (the same content as `manifest.json`).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// `manifest.json` in the PKI folder (removed when the sandbox shuts down).
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The ready client configuration, `nzpir.toml`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The PKI folder (absolute).
    pub fn pki_dir(&self) -> &Path {
        &self.pki_dir
    }

    /// Replaces every fault with this one.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.faults.replace(vec![fault]);
    }

    /// Adds a fault after those already set (faults apply in order).
    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.add(fault);
    }

    /// Clears every fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The faults still set (counted ones disappear once used up).
    pub fn faults(&self) -> Vec<Fault> {
        self.shared.faults.list()
    }

    /// How many PIR requests about `ird` reached the server (the body was read).
    pub fn pir_calls_for(&self, ird: &str) -> u64 {
        self.shared.counters.calls_for(ird)
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Zeroes the counters and per-IRD call counts (IR003 windows stay).
    pub fn reset_stats(&self) {
        self.shared.counters.reset();
    }

    /// Forgets every IR003 window.
    pub fn reset_quotas(&self) {
        self.shared.counters.reset_quotas();
    }

    /// Moves the sandbox's clock `secs` away from the system clock (JWT
    /// `iat`/`exp` checks, token expiry, IR003 windows, filing periods).
    pub fn set_clock_offset(&self, secs: i64) {
        self.shared.clock.set_offset(secs);
    }

    /// The clock offset in seconds.
    pub fn clock_offset(&self) -> i64 {
        self.shared.clock.offset()
    }

    /// Stops serving (open connections get a moment to finish) and removes
    /// `manifest.json`. Idempotent; also done on drop.
    pub fn shutdown(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(r) = running {
            let _ = r.shutdown.send(true);
            if r.thread.join().is_err() {
                log::error!("the sandbox thread panicked");
            }
            let _ = std::fs::remove_file(&self.manifest_path);
        }
    }

    /// Whether the sandbox is still serving.
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

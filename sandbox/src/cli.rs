//! The command line of `nzpir-sandbox` (also `nzpir sandbox`).

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser};

use crate::fixture::DEFAULT_FIXTURE_JSON;
use crate::sandbox::{DEFAULT_IR003_LIMIT, Sandbox, SandboxOptions};
use crate::state::Profile;

/// The sandbox's arguments, to embed as a subcommand (`nzpir sandbox`).
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0: an ephemeral port).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        env = "NZPIR_SANDBOX_LISTEN"
    )]
    pub listen: SocketAddr,
    /// Address of the OAuth listener (one-way TLS, OAuth endpoints only).
    /// Default: the same IP, an ephemeral port.
    #[arg(long, value_name = "ADDR", env = "NZPIR_SANDBOX_OAUTH_LISTEN")]
    pub oauth_listen: Option<SocketAddr>,
    /// Folder for the PKI, nzpir.toml and manifest.json; existing files are
    /// reused. Default: a temporary folder removed on exit.
    #[arg(long, value_name = "DIR", env = "NZPIR_SANDBOX_PKI_DIR")]
    pub pki_dir: Option<PathBuf>,
    /// `ir-mock` (IR's published scenarios) or `strict` (production rules).
    #[arg(long, value_name = "PROFILE", default_value = "strict", value_parser = parse_profile)]
    pub profile: Profile,
    /// A fixture file (JSON) instead of the default one.
    #[arg(long, value_name = "FILE")]
    pub fixture: Option<PathBuf>,
    /// IR003 after N answered queries of one IRD in 24 hours (0: no limit).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_IR003_LIMIT)]
    pub ir003_limit: u32,
    /// Lifetime of OAuth access tokens in seconds (IR: 28800).
    #[arg(long, value_name = "SECS")]
    pub access_token_ttl: Option<u64>,
    /// Send the token endpoint's `expires_in` as a string.
    #[arg(long)]
    pub expires_in_as_string: bool,
    /// Refuse OAuth authorisations without PKCE (IR accepts both).
    #[arg(long)]
    pub require_pkce: bool,
    /// Match an `http` loopback redirect URI registered without a port on
    /// any port (RFC 8252; IR matches redirect URIs exactly).
    #[arg(long)]
    pub loopback_any_port: bool,
    /// Run the sandbox's clock this many seconds away from the system clock.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub clock_offset: i64,
    /// Log one line per request to standard error (method, path, status; never
    /// bodies, tokens or query strings).
    #[arg(short, long)]
    pub verbose: bool,
    /// Print the default fixture (JSON) and exit.
    #[arg(long)]
    pub print_default_fixture: bool,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse().map_err(|e: crate::Error| e.to_string())
}

#[derive(Debug, Parser)]
#[command(
    name = "nzpir-sandbox",
    version,
    about = "A local emulator of Inland Revenue's PIR gateway and OAuth server, over real mutual TLS"
)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("nzpir_sandbox")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(std::io::stderr(), "[{}] {}", record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Parses `args` (the first is the program name) and runs the sandbox until
/// SIGINT or SIGTERM.
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli.args),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs the sandbox with parsed arguments until SIGINT or SIGTERM.
pub fn run(args: SandboxArgs) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if args.print_default_fixture {
        let _ = out.write_all(DEFAULT_FIXTURE_JSON.as_bytes());
        return ExitCode::SUCCESS;
    }
    if args.verbose && log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    let mut options = SandboxOptions::default()
        .profile(args.profile)
        .listen(args.listen)
        .ir003_limit(args.ir003_limit)
        .clock_offset(args.clock_offset)
        .expires_in_as_string(args.expires_in_as_string)
        .require_pkce(args.require_pkce)
        .loopback_redirect_any_port(args.loopback_any_port);
    if let Some(addr) = args.oauth_listen {
        options = options.oauth_listen(addr);
    }
    if let Some(dir) = &args.pki_dir {
        options = options.pki_dir(dir);
    }
    if let Some(f) = &args.fixture {
        options = options.fixture_file(f);
    }
    if let Some(ttl) = args.access_token_ttl {
        options = options.access_token_ttl(Duration::from_secs(ttl.max(1)));
    }
    let sandbox = match Sandbox::start(options) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "nzpir-sandbox: {e}");
            return ExitCode::from(1);
        }
    };
    let _ = writeln!(
        out,
        "nzpir-sandbox {} listening on {} (profile {}); OAuth also on {}\nmanifest: {}\nconfig:   {}",
        crate::VERSION,
        sandbox.url(),
        sandbox.profile(),
        sandbox.manifest().oauth.base_url,
        sandbox.manifest_path().display(),
        sandbox.config_path().display(),
    );
    let _ = out.flush();
    drop(out);

    let waited = wait_for_signal();
    sandbox.shutdown();
    match waited {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "nzpir-sandbox: {e}");
            ExitCode::from(1)
        }
    }
}

fn wait_for_signal() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}

//! Connection settings: flags, then `NZPIR_*` variables, then the `--config`
//! file. The result is one [`nzpir::Config`], so the CLI builds its client
//! exactly as every other surface does.

use clap::ArgMatches;
use nzpir::Config;
use nzpir::options::{AuthWay, Kind, Options, Setting, Surface, Value};

use crate::args::ConnArgs;
use crate::exit::Failure;

/// Whether the OAuth settings are wanted whatever else is set (`nzpir oauth ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A lookup: the auth is chosen by the settings.
    Lookup,
    /// An OAuth command: the OAuth settings are used.
    OAuth,
}

/// Builds the configuration from the `--config` file, the variables and the
/// flags, each layer laid over the one below by the core's rules (a way of
/// authenticating chosen higher replaces a lower one; two at one level are
/// an error), then checked by the core's options schema.
pub fn resolve(a: &ConnArgs, _m: &ArgMatches, purpose: Purpose) -> Result<Config, Failure> {
    let file = match &a.config {
        Some(path) => Options::from_config(&Config::from_file(path)?, Surface::Toml),
        None => Options::new(Surface::Toml),
    };
    let mut vars = Options::new(Surface::Env);
    let mut flags = Options::new(Surface::Cli);
    for (setting, surface, text) in &a.settings {
        let layer = if *surface == Surface::Env {
            &mut vars
        } else {
            &mut flags
        };
        let kind = setting.spec().map(|s| s.kind);
        let value = match setting {
            // The token store stays where it was named, whatever the
            // working directory later.
            Setting::TokenStore if !text.is_empty() => Value::Path(
                std::path::absolute(text).unwrap_or_else(|_| std::path::PathBuf::from(text)),
            ),
            // A PEM flag or variable names a file (PEM text pasted there is
            // refused when the file is read, never taken as the key).
            _ if matches!(kind, Some(Kind::Pem | Kind::Path)) => Value::Path(text.into()),
            _ => Value::Str(text.clone()),
        };
        layer.set_from(*setting, *surface, value);
    }
    if a.no_validate {
        flags.set_setting(Setting::ValidateLocally, Value::Bool(false));
    }
    let mut all = file.overlay(vars).overlay(flags);
    if purpose == Purpose::OAuth {
        all.keep_only_way(AuthWay::OAuth);
    }
    Ok(all.to_config()?)
}

/// A stderr logger for the library's `nzpir` target (one line per call at
/// info; retries at debug). The library never logs personal data or secrets.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("nzpir")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Turns logging on for `-v` (info) and `-vv` (debug).
pub fn init_logging(verbose: u8) {
    if verbose == 0 || log::set_logger(&LOGGER).is_err() {
        return;
    }
    log::set_max_level(if verbose == 1 {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Debug
    });
}

/// A client from the resolved configuration.
pub fn client(cfg: &Config) -> Result<nzpir::Client, Failure> {
    nzpir::ClientBuilder::from_config(cfg)
        .and_then(|b| b.user_agent_suffix("nzpir-cli").build())
        .map_err(Failure::from)
}

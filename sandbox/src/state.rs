//! What every request handler of one sandbox shares.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use nzpir::{Clock, SystemClock};

use crate::error::{Error, ErrorKind};
use crate::faults::FaultQueue;
use crate::oauth::OAuthStore;
use crate::registry::Registry;
use crate::stats::Counters;

/// How the sandbox answers PIR requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Profile {
    /// IR's published mock scenarios (`mock-scenarios.json`), with no
    /// authentication checks, as IR's own mock service answers.
    IrMock,
    /// Production rules over a fixture: registered TLS certificates, OAuth and
    /// JWT checks, the authorisation model, PIR101, PER100 and IR003.
    #[default]
    Strict,
}

impl Profile {
    /// `ir-mock` or `strict`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::IrMock => "ir-mock",
            Profile::Strict => "strict",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ir-mock" | "mock" | "ir_mock" => Ok(Profile::IrMock),
            "strict" => Ok(Profile::Strict),
            _ => Err(Error::new(
                ErrorKind::Options,
                format!("unknown profile `{s}` (ir-mock or strict)"),
            )),
        }
    }
}

/// The sandbox's clock: the system clock plus an adjustable offset, so tests
/// can move time (token expiry, IR003 windows, filing periods).
#[derive(Debug, Default)]
pub(crate) struct SandboxClock {
    offset: AtomicI64,
}

impl SandboxClock {
    pub fn new(offset: i64) -> Self {
        SandboxClock {
            offset: AtomicI64::new(offset),
        }
    }

    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    pub fn set_offset(&self, secs: i64) {
        self.offset.store(secs, Ordering::Relaxed);
    }
}

impl Clock for SandboxClock {
    fn now_unix(&self) -> i64 {
        SystemClock.now_unix().saturating_add(self.offset())
    }
}

/// OAuth behaviour that tests may change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OAuthSettings {
    pub access_ttl_secs: i64,
    pub expires_in_as_string: bool,
    pub require_pkce: bool,
    pub loopback_redirect_any_port: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub profile: Profile,
    pub registry: Registry,
    pub oauth: OAuthStore,
    pub oauth_settings: OAuthSettings,
    pub faults: FaultQueue,
    pub counters: Counters,
    pub clock: SandboxClock,
    pub ir003_limit: u32,
    /// The manifest as JSON, for `GET /__sandbox/manifest`.
    pub manifest_json: Vec<u8>,
}

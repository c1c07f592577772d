//! # nzpir-sandbox
//!
//! A local emulator of Inland Revenue's PIR gateway and OAuth server, over
//! real mutual TLS: what `stripe-mock` is to Stripe, for nzpir and its users'
//! integration tests.
//!
//! A [`Sandbox`] makes (or reuses) its own PKI, writes a ready client
//! configuration (`nzpir.toml`) and a [`Manifest`] (`manifest.json`), and
//! serves on a background runtime until it is dropped:
//!
//! ```no_run
//! use nzpir_sandbox::{Fault, FaultKind, Profile, Sandbox, SandboxOptions};
//!
//! let sb = Sandbox::start(SandboxOptions::default().profile(Profile::Strict))?;
//! println!("{} {}", sb.url(), sb.manifest_path().display());
//! sb.set_fault(Fault::status(503).times(2));
//! // ... run a client against sb.config_path() ...
//! assert_eq!(sb.pir_calls_for("139276507"), 0);
//! sb.clear_faults();
//! # Ok::<(), nzpir_sandbox::Error>(())
//! ```
//!
//! Profiles: [`Profile::IrMock`] answers IR's published mock scenarios;
//! [`Profile::Strict`] applies IR's production rules over a [`Fixture`].
//! See `sandbox/README.md` for the fixture format, the manifest keys, the
//! admin HTTP API (`/__sandbox/...`) and the fault kinds.

mod admin;
mod body;
mod cli;
mod error;
mod faults;
mod fixture;
mod jwt;
mod manifest;
mod mock;
mod oauth;
mod pki;
mod registry;
mod request;
mod sandbox;
mod server;
mod state;
mod stats;
mod strict;
mod tls;

pub use cli::{SandboxArgs, run, run_cli};
pub use error::{Error, ErrorKind};
pub use faults::{Fault, FaultKind, FaultScope};
pub use fixture::{
    CertRef, DEFAULT_FIXTURE_JSON, Fixture, Investor, InvestorAddress, InvestorName, JwtCredential,
    Logon, OAuthClient, Party, PartyKind, TlsClient,
};
pub use manifest::{Manifest, ManifestInvestor, ManifestLogon, ManifestOAuth, ManifestParty};
pub use pki::thumbprint;
pub use sandbox::{DEFAULT_IR003_LIMIT, Sandbox, SandboxOptions};
pub use server::MAX_BODY_BYTES;
pub use state::Profile;
pub use stats::Stats;
pub use tls::ir_crypto_provider;

/// Paths the sandbox serves.
pub mod paths {
    pub use crate::server::{
        ADMIN_PREFIX, AUTHORIZE_PATH, INTROSPECT_PATH, PIR_PATH, REVOKE_PATH, STATUS_PATH,
        TOKEN_PATH,
    };
}

/// JWT checks: the skew and lifetime the sandbox allows.
pub mod jwt_rules {
    pub use crate::jwt::{CLOCK_SKEW_SECS, MAX_LIFETIME_SECS};
}

/// OAuth constants.
pub mod oauth_rules {
    pub use crate::oauth::{ACCESS_TTL_SECS, CODE_TTL_SECS, REFRESH_TTL_SECS, SCOPE};
}

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

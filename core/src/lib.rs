//! # nzpir
//!
//! A client for Inland Revenue's PIR gateway service: it asks IR for an
//! investor's suggested Prescribed Investor Rate (10.5, 17.5 or 28 %).
//!
//! This crate is the core every surface uses (the C ABI, Python, Node and the
//! `nzpir` command line):
//! - [`IrdNumber`]: strict and lenient parsing and IR's modulus-11 check, with a
//!   reason on failure, and bulk checks that do not allocate per item;
//! - [`PirRequest`] / [`PirResponse`] / [`PirOutcome`]: IR's wire format, with
//!   local validation of every rule before anything is sent;
//! - [`Error`]: one error type with a stable [`ErrorKind`], IR's [`IrCode`] and
//!   the HTTP status, whose messages never carry secrets or personal data;
//! - [`Config`]: the configuration schema shared by every surface;
//! - [`Client`]: the blocking client: mutual TLS with IR's cipher policy
//!   ([`Identity`], [`tls`]), M2M JWTs ([`JwtSigner`]) or bearer tokens
//!   ([`Auth`], [`TokenSource`]), kept-alive connections, timeouts and retries
//!   for transient faults only ([`RetryPolicy`]).
//!
//! ## A lookup
//!
//! ```no_run
//! use nzpir::{Auth, Client, Environment, Identity, JwtSigner, PirRequest};
//!
//! # fn main() -> Result<(), nzpir::Error> {
//! // Once, at start-up: everything is read and checked here.
//! let client = Client::builder()
//!     .environment(Environment::Test)
//!     .identity(Identity::from_pem_files("client.pem", "client.key")?)
//!     .auth(Auth::Jwt(
//!         JwtSigner::builder_from_files("jwt.pem", "jwt.key")
//!             .issuer("My Fund Admin Ltd")
//!             .build()?,
//!     ))
//!     .build()?;
//!
//! // From any thread, as often as needed (the client is cheap to clone).
//! let outcome = client.lookup(&PirRequest::builder("49091850").pie_ird("136410132").build())?;
//! match outcome.rate() {
//!     Some(rate) => println!("suggested PIR {rate} %"),
//!     None => println!("IR has no rate for this investor"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Or from the configuration file the CLI and the bindings share:
//! `Client::from_config_file("nzpir.toml")?` (see [`config`]).
//!
//! ## Logging
//!
//! Through the `log` facade, target `nzpir`: one line per call
//! (`op=lookup outcome=suggested status=200 ir_code=- attempts=1 latency_ms=3.1`,
//! at `info` for answers and `warn` for failures) and retries at `debug`. No
//! IRD number, name, date of birth, token or key is ever logged.
//!
//! The HTTP library underneath dumps raw traffic (tokens, IR's answers) at
//! `debug`/`trace` under the `ureq_proto` target: install your logger through
//! [`logging::WithoutWireDumps`], or keep that target at `info` or above.
//!
//! ```
//! use nzpir::{IrdNumber, PirRequest, FilingPeriod};
//!
//! assert_eq!(IrdNumber::parse_lenient("49-091-850").unwrap().to_string(), "049091850");
//!
//! let req = PirRequest::builder("49091850")
//!     .pie_ird("136410132")
//!     .build();
//! assert!(req.validate().is_ok());
//! assert_eq!(req.to_json(), br#"{"IRD":"049091850","PieIRD":"136410132"}"#);
//! # let _ = FilingPeriod::ending(2026);
//! ```

pub mod auth;
pub mod batch;
pub mod client;
pub mod config;
mod connector;
pub mod country;
pub mod doctor;
pub mod error;
pub mod estimate;
pub mod fork;
pub mod ird;
pub mod jwt;
pub mod logging;
pub mod model;
pub mod oauth;
mod operation;
pub mod options;
mod pem;
pub mod renewal;
pub mod retry;
pub mod tls;
mod transport;
pub mod validate;

pub use auth::{AccessToken, Auth, TokenSource};
pub use client::{Client, ClientBuilder};
pub use config::{
    AuthSettings, Config, Connection, Environment, JwtSettings, OAuthSettings, Secret, TlsSettings,
};
pub use error::{
    Error, ErrorKind, IrCode, IrErrorBody, IrErrorClass, IrErrorItem, KindContract, Result,
};
pub use estimate::{EstimateRule, PirEstimate, PirFacts, estimate_pir};
pub use ird::{IrdError, IrdNumber};
pub use jwt::{Jwt, JwtAlgorithm, JwtSigner, JwtSignerBuilder, UnsetStartLogon};
pub use model::{
    Address, DateText, FilingPeriod, Name, PeriodText, PirOutcome, PirRate, PirRequest,
    PirRequestBuilder, PirResponse,
};
pub use options::{Call, Options, Setting, Surface};
pub use retry::RetryPolicy;
pub use tls::{Identity, KeyType, thumbprint};
pub use transport::ProxySetting;
pub use validate::{Clock, FieldError, FixedClock, Rule, SystemClock};

/// The version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

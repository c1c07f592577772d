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
//! - [`Config`]: the configuration schema shared by every surface.
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

pub mod batch;
pub mod config;
pub mod country;
pub mod error;
pub mod ird;
pub mod model;
pub mod oauth;
pub mod validate;

pub use config::{
    AuthSettings, Config, Connection, Environment, JwtSettings, OAuthSettings, Secret, TlsSettings,
};
pub use error::{Error, ErrorKind, IrCode, IrErrorBody, IrErrorClass, IrErrorItem, Result};
pub use ird::{IrdError, IrdNumber};
pub use model::{
    Address, DateText, FilingPeriod, Name, PirOutcome, PirRate, PirRequest, PirRequestBuilder,
    PirResponse,
};
pub use validate::{Clock, FieldError, FixedClock, Rule, SystemClock};

/// The version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

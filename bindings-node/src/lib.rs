//! Node.js bindings for nzpir: argument conversion and error mapping over the
//! core (`nzpir`) and the sandbox (`nzpir-sandbox`), nothing else.
//!
//! - IRD checks are synchronous (they are fast);
//! - every call that talks to IR (or starts a sandbox) returns a Promise and
//!   runs on the binding's own threads (`src/tasks/`), never on the JavaScript
//!   thread and never on libuv's thread pool;
//! - every failure is an `Error` with a stable `code` (`src/error.rs`).

// Nothing here is ever printed, and a derived `Debug` would print IRD numbers
// and tokens (the core's own types redact theirs).
#![allow(missing_debug_implementations)]
// Under `cargo test` napi-derive registers no exports, so the exported
// functions look unused to the compiler.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
extern crate napi_derive;

mod args;
mod bulk;
mod client;
mod error;
mod estimate;
mod ird;
mod jwt;
mod sandbox;
mod store;
mod tasks;

/// The library's version.
#[napi]
pub fn version() -> &'static str {
    nzpir::VERSION
}

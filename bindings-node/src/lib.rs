//! Node.js bindings for nzpir.
use napi_derive::napi;

/// The library version.
#[napi]
pub fn version() -> &'static str {
    nzpir::VERSION
}

//! `nzpir.mint_jwt`: the M2M JWT a client with the same settings sends.

use std::sync::Arc;

use nzpir::{JwtSigner, SystemClock};
use pyo3::prelude::*;

use crate::errors;

/// Signs one M2M JWT (header `{"alg", "typ": "JWT", "kid": "M2M"}`, claims
/// `iss`, `sub` = the certificate's SHA-256 thumbprint, `startLogon`, `iat`,
/// `exp`) exactly as a `Client` with the same `jwt_*` settings would, e.g. to
/// inspect it or to call the gateway with another HTTP stack. The result is a
/// credential: send it only to IR.
#[pyfunction]
#[pyo3(signature = (cert, key, *, issuer, alg = None, start_logon = None, ttl = None, unset_start_logon = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn mint_jwt(
    py: Python<'_>,
    cert: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    issuer: &Bound<'_, PyAny>,
    alg: Option<&Bound<'_, PyAny>>,
    start_logon: Option<&Bound<'_, PyAny>>,
    ttl: Option<&Bound<'_, PyAny>>,
    unset_start_logon: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    // The arguments go through the core's schema for the mint (the same
    // types, ranges and units as the Client's `jwt_*` keywords); errors name
    // this function's arguments (`cert`, not `jwt_cert`).
    let to_py = |e: nzpir::Error| errors::to_py(e.in_call(nzpir::Call::MintJwt));
    let given = [
        ("cert", Some(cert)),
        ("key", Some(key)),
        ("issuer", Some(issuer)),
        ("alg", alg),
        ("start_logon", start_logon),
        ("ttl", ttl),
        ("unset_start_logon", unset_start_logon),
    ];
    let mut args = Vec::with_capacity(given.len());
    for (name, value) in given {
        if let Some(v) = value.filter(|v| !v.is_none()) {
            args.push((name, crate::client::raw(v)?));
        }
    }
    py.detach(move || {
        let settings = nzpir::options::mint_jwt_settings(nzpir::Surface::Python, args)?;
        let signer = JwtSigner::from_settings(&settings, Arc::new(SystemClock))?;
        signer.mint().map(|jwt| jwt.expose().to_owned())
    })
    .map_err(to_py)
}

//! `nzpir.mint_jwt`: the M2M JWT a client with the same settings sends.

use nzpir::jwt::UnsetStartLogon;
use nzpir::{JwtAlgorithm, JwtSigner};
use pyo3::prelude::*;
use std::time::Duration;

use crate::convert::{self, PemArg};
use crate::errors::{self, type_error};

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
    issuer: &str,
    alg: Option<&str>,
    start_logon: Option<&str>,
    ttl: Option<&Bound<'_, PyAny>>,
    unset_start_logon: Option<&str>,
) -> PyResult<String> {
    // Errors name this function's arguments (`cert`, not `jwt_cert`).
    let to_py = |e: nzpir::Error| errors::to_py(e.in_call(nzpir::Call::MintJwt));
    let unset: Option<UnsetStartLogon> = unset_start_logon
        .map(str::parse)
        .transpose()
        .map_err(to_py)?;
    let cert = convert::pem_arg("cert", cert)?;
    let key = convert::pem_arg("key", key)?;
    let alg: Option<JwtAlgorithm> = alg.map(str::parse).transpose().map_err(to_py)?;
    let ttl = match ttl.filter(|o| !o.is_none()) {
        None => None,
        Some(o) if o.is_instance_of::<pyo3::types::PyBool>() => {
            return Err(type_error("ttl", "an int number of seconds", o));
        }
        Some(o) => Some(
            o.extract::<u64>()
                .map_err(|_| type_error("ttl", "a non-negative int number of seconds", o))?,
        ),
    };
    let issuer = issuer.to_owned();
    let start_logon = start_logon.map(str::to_owned);
    py.detach(move || {
        let mut b = match (cert, key) {
            (PemArg::Pem(c), PemArg::Pem(k)) => JwtSigner::builder(c, k),
            (PemArg::Path(c), PemArg::Path(k)) => JwtSigner::builder_from_files(c, k),
            (c, k) => {
                let read = |p: PemArg, setting: &str| -> Result<Vec<u8>, nzpir::Error> {
                    match p {
                        PemArg::Pem(t) => Ok(t.into_bytes()),
                        PemArg::Path(path) => nzpir::tls::read_pem_file(setting, &path),
                    }
                };
                JwtSigner::builder(read(c, "auth.cert")?, read(k, "auth.key")?)
            }
        }
        .issuer(issuer);
        if let Some(a) = alg {
            b = b.algorithm(a);
        }
        if let Some(l) = start_logon {
            b = b.start_logon(l);
        }
        if let Some(t) = ttl {
            b = b.ttl(Duration::from_secs(t));
        }
        if let Some(u) = unset {
            b = b.unset_start_logon(u);
        }
        let signer = b.build()?;
        signer.mint().map(|jwt| jwt.expose().to_owned())
    })
    .map_err(to_py)
}

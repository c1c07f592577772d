//! The M2M JWT the client would send, for tests and tooling.

use napi::bindgen_prelude::*;
use nzpir::{JwtSettings, JwtSigner, SystemClock};

use crate::args::Fields;
use crate::error::{Failure, throw};

/// A JWT signed as the client signs them.
#[napi(object)]
pub struct MintedJwt {
    /// The compact JWT (`header.claims.signature`): a credential, send it only to IR.
    pub token: String,
    /// `alg`, e.g. `RS256`.
    pub algorithm: String,
    /// `sub`: the SHA-256 thumbprint of the signing certificate (upper-case hex).
    pub subject: String,
    /// `iss`.
    pub issuer: String,
    /// `startLogon` (empty: none, authorised by the certificate; the token
    /// carries `null` then, or `""` with `unsetStartLogon: 'empty'`).
    pub start_logon: String,
    /// `iat`, seconds since the Unix epoch.
    pub issued_at: i64,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
}

/// The options, through the core's schema for the mint's arguments (the
/// same types, ranges and units as the client's `jwt*` options).
fn settings(options: Unknown<'_>) -> std::result::Result<JwtSettings, Failure> {
    const NAMES: [&str; 7] = [
        "cert",
        "key",
        "alg",
        "issuer",
        "startLogon",
        "unsetStartLogon",
        "ttl",
    ];
    let f = Fields::new(options, "options")?;
    f.only(&NAMES)?;
    let mut args = Vec::with_capacity(NAMES.len());
    for name in NAMES {
        if let Some(v) = f.value(name)? {
            args.push((name, crate::client::raw(&v, &f.path_of(name))?));
        }
    }
    Ok(nzpir::options::mint_jwt_settings(
        nzpir::Surface::Node,
        args,
    )?)
}

fn mint(s: &JwtSettings) -> std::result::Result<MintedJwt, Failure> {
    // Errors name mintJwt's options (`options.cert`, not `options.jwtCert`).
    let in_call = |e: nzpir::Error| e.in_call(nzpir::Call::MintJwt);
    let signer = JwtSigner::from_settings(s, std::sync::Arc::new(SystemClock)).map_err(in_call)?;
    let jwt = signer.mint().map_err(in_call)?;
    Ok(MintedJwt {
        token: jwt.expose().to_owned(),
        algorithm: signer.algorithm().to_string(),
        subject: signer.subject().to_owned(),
        issuer: signer.issuer().to_owned(),
        start_logon: signer.start_logon().to_owned(),
        issued_at: jwt.issued_at(),
        expires_at: jwt.expires_at(),
    })
}

/// Mints the M2M JWT a client with these settings sends (`kid` M2M, `sub` the
/// certificate's thumbprint, `iss`, `startLogon`, `iat`/`exp`), e.g. to check
/// it with another JWT library. `cert`/`key` are file paths or PEM (string or
/// Buffer); `ttl` is in milliseconds (default 540 000). Synchronous: it reads
/// two small files and signs once.
#[napi(ts_args_type = "options: JwtOptions")]
pub fn mint_jwt(env: Env, options: Unknown<'_>) -> Result<MintedJwt> {
    let s = throw(&env, settings(options))?;
    throw(&env, mint(&s))
}

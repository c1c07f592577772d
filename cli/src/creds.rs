//! `nzpir jwt` and `nzpir thumbprint`.

use std::time::Duration;

use nzpir::{Call, Jwt, JwtAlgorithm, JwtSigner};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::args::{JwtArgs, ThumbprintArgs};
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// Runs `nzpir jwt`: mints one token with the core's signer and prints it.
/// Errors name the command's own flags (`--cert`, not `--jwt-cert`).
pub fn jwt(args: &JwtArgs) -> Result<u8, Failure> {
    let token = mint(args).map_err(|e| Failure::from(e.in_call(Call::MintJwt)))?;
    write_stdout(&format!("{}\n", token.expose()))?;
    Ok(exit::OK)
}

fn mint(args: &JwtArgs) -> Result<Jwt, nzpir::Error> {
    let mut b = JwtSigner::builder_from_files(&args.cert, &args.key);
    if let Some(alg) = &args.alg {
        b = b.algorithm(alg.parse::<JwtAlgorithm>()?);
    }
    if let Some(iss) = &args.issuer {
        b = b.issuer(iss.clone());
    }
    if let Some(logon) = &args.start_logon {
        b = b.start_logon(logon.clone());
    }
    if let Some(unset) = &args.unset_start_logon {
        b = b.unset_start_logon(unset.parse()?);
    }
    if let Some(ttl) = args.ttl {
        b = b.ttl(Duration::from_secs(ttl));
    }
    b.build()?.mint()
}

/// The DER bytes of the first certificate in `bytes` (PEM, or DER as is).
pub fn first_certificate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    match CertificateDer::pem_slice_iter(bytes).next() {
        Some(Ok(c)) => Ok(c.as_ref().to_vec()),
        Some(Err(e)) => Err(format!("is not readable PEM: {e}")),
        None => Err("holds no CERTIFICATE block".to_owned()),
    }
}

/// Runs `nzpir thumbprint`.
pub fn thumbprint(args: &ThumbprintArgs) -> Result<u8, Failure> {
    let bytes = std::fs::read(&args.cert)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.cert.display())))?;
    let der = first_certificate(&bytes)
        .map_err(|e| Failure::usage(format!("{} {e}", args.cert.display())))?;
    write_stdout(&format!("{}\n", nzpir::thumbprint(&der)))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_certificate_is_an_error() {
        assert!(first_certificate(b"hello").is_err());
        assert!(
            first_certificate(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert_eq!(
            first_certificate(&[0x30, 0x03, 1, 2, 3]).expect("der"),
            [0x30, 3, 1, 2, 3]
        );
    }
}

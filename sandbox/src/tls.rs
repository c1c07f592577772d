//! The server's TLS: client certificates required and verified against the
//! sandbox CA, TLS 1.2 minimum, and only the cipher suites IR supports.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::error::{Error, ErrorKind};
use crate::pki::Pki;

/// The client's own policy, served: IR's cipher suites on aws-lc-rs
/// (`nzpir::tls::crypto_provider`).
pub use nzpir::tls::crypto_provider as ir_crypto_provider;

fn tls_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Tls, format!("{what}: {e}"))
}

/// The OAuth listener's TLS: server authentication only, as IR's OAuth host
/// (port 443) asks for no client certificate.
pub(crate) fn oauth_server_config(pki: &Pki) -> Result<Arc<ServerConfig>, Error> {
    let provider = ir_crypto_provider();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls_error("TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .map_err(|e| tls_error("server certificate", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub(crate) fn server_config(pki: &Pki) -> Result<Arc<ServerConfig>, Error> {
    let provider = ir_crypto_provider();
    let mut roots = RootCertStore::empty();
    roots
        .add(pki.ca.clone())
        .map_err(|e| tls_error("trusting the sandbox CA", e))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| tls_error("client certificate verifier", e))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls_error("TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .map_err(|e| tls_error("server certificate", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

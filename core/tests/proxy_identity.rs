//! The client certificate is for IR's hosts alone: through an HTTPS proxy
//! that asks every client for a certificate, the hop to the proxy offers
//! none, and the tunnelled connection to the gateway still carries it.

mod support;

use std::sync::{Arc, Mutex};

use nzpir::{ClientBuilder, Config, PirRequest};
use rustls::DigitallySignedStruct;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DistinguishedName, SignatureScheme};
use support::Pki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Asks for a client certificate, takes any, and never insists.
#[derive(Debug)]
struct AnyClientCert(Arc<CryptoProvider>);

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// An HTTPS CONNECT proxy on loopback. `offered` gets, per connection,
/// whether the client presented a certificate to the proxy.
struct Proxy {
    port: u16,
    offered: Arc<Mutex<Vec<bool>>>,
    _rt: tokio::runtime::Runtime,
}

fn https_proxy(pki: &Pki) -> Proxy {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let issued = pki.server(&["127.0.0.1"]);
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
            .map(|c| c.expect("cert"))
            .collect();
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(Arc::new(AnyClientCert(provider)))
        .with_single_cert(chain, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let offered = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&offered);
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let presented = tls.get_ref().1.peer_certificates().is_some();
                seen.lock().expect("lock").push(presented);
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read_u8().await {
                        Ok(b) => head.push(b),
                        Err(_) => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split_whitespace().next())
                else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                if tls
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    Proxy {
        port,
        offered,
        _rt: rt,
    }
}

#[test]
fn an_https_proxy_that_asks_gets_no_client_certificate() {
    let sb = nzpir_sandbox::Sandbox::start(
        nzpir_sandbox::SandboxOptions::default().profile(nzpir_sandbox::Profile::Strict),
    )
    .expect("sandbox");
    let proxy_pki = Pki::new();
    let proxy = https_proxy(&proxy_pki);

    let cfg = Config::from_file(sb.config_path()).expect("config");
    let client = ClientBuilder::from_config(&cfg)
        .expect("builder")
        .add_root_certificate_pem(proxy_pki.ca_pem.clone().into_bytes())
        .proxy(format!("https://127.0.0.1:{}", proxy.port))
        .max_retries(0)
        .build()
        .expect("client");
    let request = PirRequest::builder("139276507")
        .pie_ird("125000002")
        .build();
    // Through the tunnel the gateway (strict: a registered client certificate
    // or nothing) got the certificate, and answered.
    let outcome = client.lookup(&request).expect("a lookup through the proxy");
    assert_eq!(outcome.rate().map(|r| r.to_string()).as_deref(), Some("28"));

    let offered = proxy.offered.lock().expect("lock").clone();
    assert!(!offered.is_empty(), "the lookup went through the proxy");
    assert!(
        offered.iter().all(|presented| !presented),
        "the client certificate was offered to the proxy: {offered:?}"
    );
}

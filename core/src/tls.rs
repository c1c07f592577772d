//! Mutual TLS with IR's policy.
//!
//! - [`Identity`]: the client certificate chain and its private key, from PEM
//!   (PKCS#8, SEC1 or PKCS#1 keys; ECDSA P-256/P-384 or RSA 2048+), checked at
//!   load time: the key must match the certificate, the certificate must be
//!   valid now, and each file must hold what its setting says.
//! - [`crypto_provider`]: rustls on aws-lc-rs limited to the suites IR keeps
//!   supporting (TLS 1.3 AES-GCM and CHACHA20-POLY1305; TLS 1.2 ECDHE-ECDSA and
//!   ECDHE-RSA with AES-GCM or CHACHA20-POLY1305). No CBC, no static RSA, no DHE;
//!   TLS 1.2 is the minimum.
//! - Server certificates are verified against the public roots
//!   (`webpki-root-certs`) plus any extra CA given, and the host name is checked.
//!   There is no setting that turns verification off.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{cipher_suite as cs, default_provider};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, CertificateError, PeerIncompatible, RootCertStore};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Cause, Error, ErrorKind, scrub};
use crate::pem;
pub use crate::pem::KeyType;
use crate::validate::{Clock, SystemClock};

/// The cipher suites of IR's policy, in order of preference.
pub const IR_CIPHER_SUITES: [&str; 9] = [
    "TLS13_AES_256_GCM_SHA384",
    "TLS13_AES_128_GCM_SHA256",
    "TLS13_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// rustls on aws-lc-rs, restricted to IR's cipher suites (see [`IR_CIPHER_SUITES`]).
///
/// The same `Arc` is returned on every call, so connections made with it can
/// share a pool.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            Arc::new(CryptoProvider {
                cipher_suites: vec![
                    cs::TLS13_AES_256_GCM_SHA384,
                    cs::TLS13_AES_128_GCM_SHA256,
                    cs::TLS13_CHACHA20_POLY1305_SHA256,
                    cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                    cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                    cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                    cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                ],
                ..default_provider()
            })
        })
        .clone()
}

/// The SHA-256 thumbprint of a certificate's DER bytes: upper-case hex, no
/// separators (what `openssl x509 -fingerprint -sha256` prints, colons removed).
pub fn thumbprint(cert_der: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert_der);
    let mut out = String::with_capacity(64);
    for b in digest.as_ref() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// A client identity for mutual TLS: a certificate chain (leaf first) and its
/// private key. `Debug` shows the subject and expiry, never the key.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<IdentityInner>,
}

struct IdentityInner {
    chain: Vec<CertificateDer<'static>>,
    /// The chain and the loaded signing key, as rustls presents them.
    certified: Arc<CertifiedKey>,
    key_type: KeyType,
    subject: String,
    not_before: i64,
    not_after: i64,
    thumbprint: String,
}

impl Identity {
    /// Loads an identity from PEM text: `cert_pem` holds the certificate (and
    /// any intermediates), `key_pem` its private key (PKCS#8, SEC1 or PKCS#1).
    /// The certificate must be valid now.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity, Error> {
        Self::from_pem_at(cert_pem, key_pem, &SystemClock)
    }

    /// Like [`Identity::from_pem`], with "now" taken from `clock`.
    pub fn from_pem_at(
        cert_pem: &[u8],
        key_pem: &[u8],
        clock: &dyn Clock,
    ) -> Result<Identity, Error> {
        Self::load(
            ("tls.client_cert", cert_pem),
            ("tls.client_key", key_pem),
            clock,
        )
    }

    /// Loads an identity from two PEM files.
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Identity, Error> {
        let cert = pem::read_file("tls.client_cert", cert_path.as_ref())?;
        let key = pem::read_file("tls.client_key", key_path.as_ref())?;
        Self::from_pem(&cert, &key)
    }

    /// Loads an identity from a PKCS#12 bundle (`.p12`/`.pfx`) holding the
    /// certificate, any intermediates and the private key, opened with
    /// `password` (empty for a bundle without one).
    pub fn from_pkcs12(data: &[u8], password: &str) -> Result<Identity, Error> {
        Self::load_pkcs12(
            ("tls.client_pkcs12", data),
            ("tls.client_pkcs12_password", password),
            &SystemClock,
        )
    }

    /// Loads an identity from a PKCS#12 file.
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Identity, Error> {
        let data = pem::read_file("tls.client_pkcs12", path.as_ref())?;
        Self::from_pkcs12(&data, password)
    }

    /// Loads and checks an identity; errors name `cert.0` or `key.0`. The
    /// certificate may be PEM or DER; the key PEM.
    pub(crate) fn load(
        cert: (&str, &[u8]),
        key: (&str, &[u8]),
        clock: &dyn Clock,
    ) -> Result<Identity, Error> {
        let (cert_setting, cert_pem) = cert;
        let (key_setting, key_pem) = key;
        let chain = pem::cert_chain(cert_setting, cert_pem)?;
        let info = pem::inspect(cert_setting, &chain[0])?;
        pem::check_validity(cert_setting, &info, clock.now_unix())?;
        let key_der = pem::private_key(key_setting, key_pem)?;
        Self::from_parts(chain, key_der, (cert_setting, key_setting), clock)
    }

    /// Loads and checks an identity from a PKCS#12 bundle; errors name the
    /// bundle's setting or, for a wrong password, the password's.
    pub(crate) fn load_pkcs12(
        bundle: (&str, &[u8]),
        password: (&str, &str),
        clock: &dyn Clock,
    ) -> Result<Identity, Error> {
        let (setting, data) = bundle;
        let (chain, key_der) = pem::pkcs12(setting, password.0, data, password.1)?;
        Self::from_parts(chain, key_der, (setting, setting), clock)
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key_der: PrivateKeyDer<'static>,
        settings: (&str, &str),
        clock: &dyn Clock,
    ) -> Result<Identity, Error> {
        let (cert_setting, key_setting) = settings;
        let leaf = &chain[0];
        let info = pem::inspect(cert_setting, leaf)?;
        pem::check_validity(cert_setting, &info, clock.now_unix())?;
        let certified = check_key_matches(&chain, &key_der, key_setting, cert_setting)?;
        let days_left = (info.not_after - clock.now_unix()) / 86_400;
        if days_left < 30 {
            log::warn!(
                target: "nzpir",
                "client certificate {} expires in {days_left} days ({})",
                scrub(&info.subject),
                pem::utc(info.not_after)
            );
        }
        Ok(Identity {
            inner: Arc::new(IdentityInner {
                thumbprint: thumbprint(leaf),
                chain,
                certified: Arc::new(certified),
                key_type: info.key_type,
                subject: info.subject,
                not_before: info.not_before,
                not_after: info.not_after,
            }),
        })
    }

    /// The leaf certificate's subject, e.g. `CN=0123...irdgws.example.co.nz`.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// When the leaf certificate expires (seconds since the Unix epoch).
    pub fn not_after_unix(&self) -> i64 {
        self.inner.not_after
    }

    /// When the leaf certificate becomes valid (seconds since the Unix epoch).
    pub fn not_before_unix(&self) -> i64 {
        self.inner.not_before
    }

    /// When the leaf certificate expires, as a time.
    pub fn expires_at(&self) -> std::time::SystemTime {
        unix_time(self.inner.not_after)
    }

    /// The key's type and size.
    pub fn key_type(&self) -> KeyType {
        self.inner.key_type
    }

    /// The SHA-256 thumbprint of the leaf certificate (see [`thumbprint`]).
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.inner.chain
    }

    /// The chain and signing key as rustls presents them.
    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.inner.certified)
    }
}

/// Seconds since the Unix epoch as a time (before the epoch too).
pub(crate) fn unix_time(secs: i64) -> std::time::SystemTime {
    let epoch = std::time::UNIX_EPOCH;
    let d = std::time::Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 { epoch + d } else { epoch - d }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("subject", &self.inner.subject)
            .field("key_type", &self.inner.key_type)
            .field("not_after", &pem::utc(self.inner.not_after))
            .field("chain_len", &self.inner.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Loads the key with the same provider the TLS stack will use, and checks it
/// belongs to the leaf certificate.
pub(crate) fn check_key_matches(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    key_setting: &str,
    cert_setting: &str,
) -> Result<CertifiedKey, Error> {
    let provider = crypto_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|_| {
            Error::config(
                key_setting,
                "the private key could not be loaded: it must be ECDSA P-256/P-384 or RSA of 2048 to 8192 bits, as PKCS#8, SEC1 or PKCS#1",
            )
        })?;
    let certified = CertifiedKey::new(chain.to_vec(), signing_key);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(_) => Err(Error::config(
            key_setting,
            format!("the private key does not match the certificate in `{cert_setting}`"),
        )
        .with_cause(Cause::KeyMismatch)),
    }
}

/// Reads a PEM file (certificate or key) named by a configuration setting,
/// with the error the client gives for it: the setting, the file, why; never
/// the value itself when it looks like PEM text rather than a path.
pub fn read_pem_file(setting: &str, path: &Path) -> Result<Vec<u8>, Error> {
    pem::read_file(setting, path).map(|b| b.to_vec())
}

/// Extra trusted roots from PEM (the sandbox's CA, a corporate CA); each must
/// be usable as a trust anchor.
pub(crate) fn extra_roots(
    setting: &str,
    pem_text: &[u8],
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = pem::cert_chain(setting, pem_text)?;
    let mut store = RootCertStore::empty();
    for c in &certs {
        store.add(c.clone()).map_err(|_| {
            Error::config(
                setting,
                "a certificate cannot be used as a trusted root (it does not parse as a CA certificate)",
            )
        })?;
    }
    Ok(certs)
}

/// The public roots plus `extra`, as a rustls root store.
pub(crate) fn root_store(extra: &[CertificateDer<'static>]) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    store.add_parsable_certificates(extra.iter().cloned());
    store
}

/// A rustls client configuration with IR's policy: TLS 1.2 and 1.3, IR's
/// suites, `roots`, SNI, and the client certificate `client` resolves.
pub(crate) fn client_config(
    roots: RootCertStore,
    client: Option<Arc<dyn rustls::client::ResolvesClientCert>>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let builder = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::new(ErrorKind::Tls, format!("TLS policy: {e}")))?
        .with_root_certificates(roots);
    let config = match client {
        Some(resolver) => builder.with_client_cert_resolver(resolver),
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Turns a rustls failure into an [`ErrorKind::Tls`] error that says why.
pub(crate) fn tls_error(host: &str, e: &rustls::Error) -> Error {
    let why = describe(e);
    let err = Error::new(
        ErrorKind::Tls,
        format!("TLS handshake with {host} failed: {why}"),
    );
    match cause(e) {
        Some(c) => err.with_cause(c),
        None => err,
    }
}

/// What the doctor's advice depends on, read from rustls's error itself.
fn cause(e: &rustls::Error) -> Option<Cause> {
    use AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            Some(Cause::UnknownIssuer)
        }
        rustls::Error::AlertReceived(
            A::CertificateRequired
            | A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateUnknown
            | A::UnknownCA
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::AccessDenied,
        ) => Some(Cause::ClientCertificate),
        _ => None,
    }
}

fn describe(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => describe_cert(c),
        E::AlertReceived(a) => describe_alert(*a),
        E::PeerIncompatible(p) => match p {
            PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::ServerDoesNotSupportTls12Or13 => {
                "protocol version: the server offered a TLS version older than 1.2; IR's policy requires TLS 1.2 or 1.3".to_owned()
            }
            PeerIncompatible::NoCipherSuitesInCommon => no_shared_suite("the server chose none of ours"),
            PeerIncompatible::NoKxGroupsInCommon => {
                "no shared key exchange group (ECDHE over X25519, P-256 or P-384 is required)".to_owned()
            }
            other => format!("the server is incompatible with IR's TLS policy ({other:?})"),
        },
        E::PeerMisbehaved(m) => {
            use rustls::PeerMisbehaved as M;
            match m {
                M::SelectedUnofferedCipherSuite
                | M::SelectedUnusableCipherSuiteForVersion
                | M::IllegalHelloRetryRequestWithUnofferedCipherSuite
                | M::CipherSuiteDifferedOnRetry
                | M::SelectedDifferentCipherSuiteAfterRetry
                | M::ResumptionOfferedWithVariedCipherSuite
                | M::ResumptionOfferedWithIncompatibleCipherSuite
                | M::EarlyDataOfferedWithVariedCipherSuite => {
                    no_shared_suite("the server picked a suite outside IR's policy")
                }
                other => format!("the server broke the TLS protocol ({other:?})"),
            }
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the server did not answer with TLS 1.2 or 1.3 (is the endpoint plain HTTP, or an older protocol?)".to_owned()
        }
        E::NoCertificatesPresented => "the server presented no certificate".to_owned(),
        other => other.to_string(),
    }
}

fn no_shared_suite(detail: &str) -> String {
    format!(
        "no shared cipher suite ({detail}): IR's policy allows only TLS 1.3 AES-GCM/CHACHA20-POLY1305 and TLS 1.2 ECDHE with AES-GCM/CHACHA20-POLY1305 (no CBC, no static RSA, no DHE)"
    )
}

fn describe_cert(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => "unknown issuer: the server's certificate does not chain to a public root or to the CA in `tls.ca_cert`".to_owned(),
        C::NotValidForName => "wrong host name: the server's certificate is not valid for this host".to_owned(),
        C::NotValidForNameContext { expected, presented } => format!(
            "wrong host name: the server's certificate is not valid for {} (it names {})",
            expected.to_str(),
            if presented.is_empty() {
                "no host".to_owned()
            } else {
                presented.iter().map(|n| bare_name(n)).collect::<Vec<_>>().join(", ")
            }
        ),
        C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".to_owned(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "the server's certificate is not yet valid (check this machine's clock)".to_owned()
        }
        C::Revoked => "the server's certificate is revoked".to_owned(),
        C::BadSignature => "the server's certificate has a bad signature".to_owned(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the server's certificate is not issued for TLS server authentication".to_owned()
        }
        C::BadEncoding => "the server's certificate is malformed".to_owned(),
        other => format!("the server's certificate was refused ({other:?})"),
    }
}

/// `DnsName("a.example")` -> `a.example`; other text unchanged.
fn bare_name(n: &str) -> &str {
    match (n.find("(\""), n.rfind("\")")) {
        (Some(a), Some(b)) if b > a + 2 => &n[a + 2..b],
        _ => n,
    }
}

fn describe_alert(a: AlertDescription) -> String {
    use AlertDescription as A;
    match a {
        A::ProtocolVersion => {
            "protocol version: the server refused TLS 1.2 and 1.3 (it answered protocol_version); IR's policy requires TLS 1.2 or newer".to_owned()
        }
        A::HandshakeFailure | A::InsufficientSecurity => no_shared_suite(&format!(
            "the server answered {}",
            alert_name(a)
        )),
        A::CertificateRequired => {
            "the server requires a client certificate: set `tls.client_cert` and `tls.client_key`".to_owned()
        }
        A::BadCertificate | A::UnsupportedCertificate | A::CertificateUnknown | A::UnknownCA
        | A::CertificateExpired | A::CertificateRevoked | A::AccessDenied => format!(
            "the server refused our client certificate ({}); check `tls.client_cert` is the one registered with IR for this environment",
            alert_name(a)
        ),
        other => format!("the server sent the alert {}", alert_name(other)),
    }
}

fn alert_name(a: AlertDescription) -> String {
    // `BadCertificate` -> `bad_certificate`, as the TLS RFCs spell alerts.
    let raw = format!("{a:?}");
    let mut out = String::with_capacity(raw.len() + 4);
    let mut prev_lower = false;
    for ch in raw.chars() {
        if ch.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = ch.is_ascii_lowercase();
        out.push(ch.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::FixedClock;
    use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384};
    use std::process::Command;

    pub(crate) fn self_signed(key: &KeyPair, from: (i32, u8), to: (i32, u8)) -> String {
        let mut p = CertificateParams::new(vec!["client.example".to_owned()]).expect("params");
        p.not_before = rcgen::date_time_ymd(from.0, from.1, 1);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, 1);
        p.self_signed(key).expect("self-signed").pem()
    }

    fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write");
        let out = child.wait_with_output().expect("openssl output");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn valid_now(key: &KeyPair) -> String {
        self_signed(key, (2020, 1), (2099, 1))
    }

    #[test]
    fn loads_each_key_format() {
        let ec256 = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("p256");
        let ec384 = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("p384");
        let rsa = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .expect("rsa");
        for (key, want) in [
            (&ec256, KeyType::EcP256),
            (&ec384, KeyType::EcP384),
            (&rsa, KeyType::Rsa(2048)),
        ] {
            let cert = valid_now(key);
            let pkcs8 = key.serialize_pem();
            assert!(pkcs8.contains("BEGIN PRIVATE KEY"));
            let id = Identity::from_pem(cert.as_bytes(), pkcs8.as_bytes()).expect("pkcs8");
            assert_eq!(id.key_type(), want);
            assert_eq!(id.chain().len(), 1);

            // The traditional form: SEC1 for EC, PKCS#1 for RSA.
            let traditional = if matches!(want, KeyType::Rsa(_)) {
                openssl(&["rsa", "-traditional"], pkcs8.as_bytes())
            } else {
                openssl(&["ec"], pkcs8.as_bytes())
            };
            let text = String::from_utf8_lossy(&traditional);
            assert!(
                text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY"),
                "{text}"
            );
            let id2 = Identity::from_pem(cert.as_bytes(), &traditional).expect("traditional");
            assert_eq!(id2.thumbprint(), id.thumbprint());
        }
    }

    #[test]
    fn files_and_a_combined_pem() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = valid_now(&key);
        let dir = tempfile::tempdir().expect("tempdir");
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, format!("{cert}{}", key.serialize_pem())).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        Identity::from_pem_files(&c, &k).expect("cert file may also hold the key");

        let e = Identity::from_pem_files(dir.path().join("missing.pem"), &k).expect_err("missing");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("tls.client_cert"), "{e}");
        assert!(e.to_string().contains("missing.pem"), "{e}");
    }

    #[test]
    fn mismatched_key_is_refused() {
        let a = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a");
        let b = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("b");
        let e = Identity::from_pem(valid_now(&a).as_bytes(), b.serialize_pem().as_bytes())
            .expect_err("mismatch");
        assert_eq!(e.kind(), ErrorKind::Config);
        let msg = e.to_string();
        assert!(msg.contains("tls.client_key"), "{msg}");
        assert!(msg.contains("does not match the certificate"), "{msg}");
        assert!(!msg.contains("PRIVATE KEY"), "{msg}");
    }

    #[test]
    fn expired_and_not_yet_valid_certs_are_refused() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let pkcs8 = key.serialize_pem();
        let expired = self_signed(&key, (2019, 1), (2021, 1));
        let e = Identity::from_pem(expired.as_bytes(), pkcs8.as_bytes()).expect_err("expired");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("tls.client_cert"), "{e}");
        assert!(e.to_string().contains("expired on 1 January 2021"), "{e}");

        let future = self_signed(&key, (2098, 1), (2099, 1));
        let e = Identity::from_pem(future.as_bytes(), pkcs8.as_bytes()).expect_err("not yet");
        assert!(
            e.to_string().contains("not valid until 1 January 2098"),
            "{e}"
        );

        // The same checks follow an injected clock.
        let at_2020 = FixedClock(1_590_000_000);
        Identity::from_pem_at(expired.as_bytes(), pkcs8.as_bytes(), &at_2020)
            .expect("valid in 2020");
    }

    #[test]
    fn wrong_contents_are_named() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = valid_now(&key);
        let pkcs8 = key.serialize_pem();
        // Swapped files.
        let e = Identity::from_pem(pkcs8.as_bytes(), cert.as_bytes()).expect_err("swapped");
        assert!(e.to_string().contains("tls.client_cert"), "{e}");
        assert!(e.to_string().contains("holds a private key"), "{e}");
        let e = Identity::from_pem(cert.as_bytes(), cert.as_bytes()).expect_err("cert as key");
        assert!(e.to_string().contains("tls.client_key"), "{e}");
        assert!(e.to_string().contains("holds a certificate"), "{e}");
        // A public key where the private key belongs.
        let e = Identity::from_pem(cert.as_bytes(), key.public_key_pem().as_bytes())
            .expect_err("public key");
        assert!(e.to_string().contains("holds a public key"), "{e}");
    }

    #[test]
    fn rsa_1024_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=weak.example", "-keyout"])
            .arg(&k)
            .arg("-out")
            .arg(&c)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success());
        let e = Identity::from_pem_files(&c, &k).expect_err("1024-bit");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("RSA 1024"), "{e}");
        assert!(e.to_string().contains("2048"), "{e}");
    }

    #[test]
    fn thumbprint_matches_openssl() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
        let cert = valid_now(&key);
        let out = openssl(
            &["x509", "-noout", "-fingerprint", "-sha256"],
            cert.as_bytes(),
        );
        let text = String::from_utf8_lossy(&out);
        let want = text
            .trim()
            .rsplit_once('=')
            .expect("fingerprint line")
            .1
            .replace(':', "");
        let id = Identity::from_pem(cert.as_bytes(), key.serialize_pem().as_bytes()).expect("id");
        assert_eq!(id.thumbprint(), want);
        assert_eq!(want.len(), 64);
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let id = Identity::from_pem(valid_now(&key).as_bytes(), key.serialize_pem().as_bytes())
            .expect("id");
        let dbg = format!("{id:?}");
        assert!(dbg.contains("<redacted>"), "{dbg}");
        assert!(dbg.contains("ECDSA") || dbg.contains("EcP256"), "{dbg}");
        let der_b64 = key.serialize_pem();
        let body_line = der_b64.lines().nth(1).expect("body");
        assert!(!dbg.contains(body_line));
    }

    #[test]
    fn policy_is_irs_suites_only() {
        let p = crypto_provider();
        let names: Vec<String> = p
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        assert_eq!(names, IR_CIPHER_SUITES);
        assert!(
            names
                .iter()
                .all(|n| !n.contains("CBC") && !n.contains("_DHE_"))
        );
        assert!(Arc::ptr_eq(&p, &crypto_provider()));
    }

    #[test]
    fn extra_roots_must_be_certificates() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        assert_eq!(
            extra_roots("tls.ca_cert", valid_now(&key).as_bytes())
                .expect("ca")
                .len(),
            1
        );
        let e = extra_roots("tls.ca_cert", key.serialize_pem().as_bytes()).expect_err("key");
        assert!(e.to_string().contains("tls.ca_cert"), "{e}");
    }

    #[test]
    fn host_names_read_plainly() {
        assert_eq!(bare_name("DnsName(\"wrong.example\")"), "wrong.example");
        assert_eq!(bare_name("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn alert_names() {
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
    }
}

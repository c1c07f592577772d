//! Reading certificates and private keys from PEM, with errors that name the
//! setting and say what the file holds instead. Shared by the TLS identity and
//! the JWT signer.
//!
//! Messages never echo file contents: a key's bytes must not reach a log.

use std::path::Path;
use zeroize::Zeroizing;

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, scrub};

/// The smallest RSA modulus IR accepts.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// Reads a PEM file named by a setting. A "path" that is really PEM text (a
/// key pasted where its file's path belongs) is not repeated in the error;
/// a real path is shown through [`scrub`]: a file may be named after a number.
/// The bytes are zeroised when dropped (they may be a private key).
pub(crate) fn read_file(setting: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| {
        let shown = path.to_string_lossy();
        if shown.contains("-----BEGIN") || shown.chars().any(char::is_control) {
            Error::config(
                setting,
                format!("cannot read it: the value looks like PEM text, not a file path ({e})"),
            )
        } else {
            Error::config(setting, format!("cannot read {}: {e}", scrub(&shown)))
        }
    })
}

/// The labels of every `-----BEGIN X-----` line, for messages.
fn labels(pem: &[u8]) -> Vec<String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut out = Vec::new();
    for line in pem.split(|b| *b == b'\n' || *b == b'\r') {
        if let Some(rest) = line.strip_prefix(BEGIN)
            && let Some(end) = rest.iter().position(|b| *b == b'-')
        {
            out.push(String::from_utf8_lossy(&rest[..end]).trim().to_owned());
        }
    }
    out
}

fn describe_label(label: &str) -> &'static str {
    match label {
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => "a certificate",
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => "a private key",
        "ENCRYPTED PRIVATE KEY" => "an encrypted private key",
        "PUBLIC KEY" | "RSA PUBLIC KEY" => "a public key",
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => "a certificate signing request",
        "X509 CRL" => "a certificate revocation list",
        "EC PARAMETERS" => "EC parameters only",
        _ => "an unrecognised PEM section",
    }
}

/// What a file holds, in words, when it is not what was expected.
fn what_it_holds(pem: &[u8]) -> String {
    let labels = labels(pem);
    if labels.is_empty() {
        if pem.first() == Some(&0x30) {
            return "binary DER, not PEM (convert it with `openssl x509 -inform der` or `openssl pkey -inform der`)".to_owned();
        }
        return "no PEM section".to_owned();
    }
    let mut kinds: Vec<&str> = labels.iter().map(|l| describe_label(l)).collect();
    kinds.dedup();
    kinds.join(" and ")
}

fn sections(setting: &str, pem: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, Error> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            use rustls_pki_types::pem::Error as P;
            let why = match e {
                P::MissingSectionEnd { .. } => "a PEM section has no END line",
                P::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
                P::Base64Decode(_) => "a PEM section is not valid base64",
                P::SectionTooLarge => "a PEM section is too large",
                _ => "the PEM text is malformed",
            };
            Error::config(setting, format!("not valid PEM: {why}"))
        })
}

/// Whether `data` is binary DER (an ASN.1 SEQUENCE) rather than PEM text.
fn is_der(data: &[u8]) -> bool {
    data.first() == Some(&0x30) && !data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Whether DER `data` is a PKCS#12 bundle: `SEQUENCE { INTEGER 3, ... }`
/// (a certificate's first member is another SEQUENCE).
pub(crate) fn is_pkcs12(data: &[u8]) -> bool {
    if data.first() != Some(&0x30) || data.len() < 5 {
        return false;
    }
    let header = match data[1] {
        n if n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    data.get(header..header + 3) == Some(&[0x02, 0x01, 0x03][..])
}

/// Every certificate in `pem`, leaf first. Other sections (a key kept in the
/// same file) are ignored; a file with no certificate is an error naming what
/// it holds instead. A binary DER certificate (a `.cer` file) is read as a
/// chain of one: the format is told by the content, not the file name.
pub(crate) fn cert_chain(setting: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    if is_der(pem) {
        if X509Certificate::from_der(pem).is_ok_and(|(rest, _)| rest.is_empty()) {
            return Ok(vec![CertificateDer::from(pem.to_vec())]);
        }
        let why = if is_pkcs12(pem) {
            "it holds a PKCS#12 bundle (.p12/.pfx): give it as the PKCS#12 setting ({pkcs12} or {jwt_pkcs12}) with its password"
        } else {
            "it holds binary DER that is not an X.509 certificate"
        };
        return Err(Error::config(
            setting,
            format!("expected a certificate (PEM or DER) but {why}"),
        ));
    }
    let certs: Vec<CertificateDer<'static>> = sections(setting, pem)?
        .into_iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der))
        .collect();
    if certs.is_empty() {
        return Err(Error::config(
            setting,
            format!(
                "expected a PEM certificate (-----BEGIN CERTIFICATE-----) but it holds {}",
                what_it_holds(pem)
            ),
        ));
    }
    Ok(certs)
}

/// The one private key in `pem`: PKCS#8, SEC1 or PKCS#1.
pub(crate) fn private_key(setting: &str, pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    let encrypted = labels(pem).iter().any(|l| l == "ENCRYPTED PRIVATE KEY")
        || pem.windows(9).any(|w| w == b"ENCRYPTED");
    if encrypted {
        return Err(Error::config(
            setting,
            "the private key is encrypted; give an unencrypted PKCS#8, SEC1 or PKCS#1 key (e.g. `openssl pkey -in key.pem -out plain.pem`) and protect the file instead",
        ));
    }
    let mut keys: Vec<PrivateKeyDer<'static>> = sections(setting, pem)?
        .into_iter()
        .filter_map(|(kind, der)| match kind {
            SectionKind::PrivateKey => Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der))),
            SectionKind::RsaPrivateKey => Some(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der))),
            SectionKind::EcPrivateKey => Some(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der))),
            _ => None,
        })
        .collect();
    match keys.len() {
        1 => Ok(keys.remove(0)),
        0 => Err(Error::config(
            setting,
            format!(
                "expected a PEM private key (PKCS#8, SEC1 or PKCS#1) but it holds {}",
                what_it_holds(pem)
            ),
        )),
        n => Err(Error::config(
            setting,
            format!("holds {n} private keys; give exactly one"),
        )),
    }
}

/// A certificate chain (leaf first) and its private key (PKCS#8) from a
/// PKCS#12 bundle (`.p12`/`.pfx`). `password_setting` is named when the
/// password is wrong; neither the password nor the contents reach a message.
pub(crate) fn pkcs12(
    setting: &str,
    password_setting: &str,
    data: &[u8],
    password: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    use p12_keystore::error::Error as P;
    if !is_pkcs12(data) {
        let holds = if data.first() == Some(&0x30) {
            "binary DER that is not PKCS#12".to_owned()
        } else {
            what_it_holds(data)
        };
        return Err(Error::config(
            setting,
            format!("expected a PKCS#12 bundle (.p12/.pfx) but it holds {holds}"),
        ));
    }
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(data, password).map_err(|e| {
        let why = match e {
            P::MacError(_) => {
                return Error::config(
                    password_setting,
                    format!(
                        "does not open the PKCS#12 bundle in {} (wrong password, or the file is damaged)",
                        crate::options::placeholder(setting)
                    ),
                );
            }
            P::UnsupportedEncryptionScheme | P::UnsupportedMacAlgorithm => {
                "it uses an encryption or MAC algorithm that is not supported (re-export it with `openssl pkcs12 -export` and AES-256)"
            }
            P::Pkcs5Error(_) | P::UnpadError => "it could not be decrypted (wrong password?)",
            _ => "it is not a readable PKCS#12 bundle",
        };
        Error::config(setting, why)
    })?;
    let mut keys = archive.keys;
    let key = match keys.len() {
        1 => keys.remove(0),
        0 => {
            return Err(Error::config(
                setting,
                "the PKCS#12 bundle holds no private key (it must hold the certificate and its key)",
            ));
        }
        n => {
            return Err(Error::config(
                setting,
                format!(
                    "the PKCS#12 bundle holds {n} private keys; give a bundle with exactly one"
                ),
            ));
        }
    };
    let mut certs = archive.certs;
    if certs.is_empty() {
        return Err(Error::config(
            setting,
            "the PKCS#12 bundle holds no certificate (it must hold the certificate and its key)",
        ));
    }
    // The key's certificate first (linked by localKeyId), then the others
    // as the bundle lists them.
    let leaf = key
        .local_key_id
        .as_ref()
        .and_then(|id| {
            certs
                .iter()
                .position(|c| c.local_key_id.as_deref() == Some(id.as_ref()))
        })
        .unwrap_or(0);
    let first = certs.remove(leaf);
    let chain = std::iter::once(first)
        .chain(certs)
        .map(|c| CertificateDer::from(c.cert.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key.as_der().to_vec()));
    Ok((chain, key))
}

/// The kind and size of a certificate's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA with a modulus of this many bits.
    Rsa(usize),
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// ECDSA on NIST P-521 (JWT signing with ES512).
    EcP521,
    /// Anything else (not usable with IR).
    Other,
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyType::Rsa(bits) => write!(f, "RSA {bits}"),
            KeyType::EcP256 => f.write_str("ECDSA P-256"),
            KeyType::EcP384 => f.write_str("ECDSA P-384"),
            KeyType::EcP521 => f.write_str("ECDSA P-521"),
            KeyType::Other => f.write_str("an unsupported key type"),
        }
    }
}

/// What the client needs to know about a certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    pub key_type: KeyType,
    pub not_before: i64,
    pub not_after: i64,
    pub subject: String,
    /// The subjectPublicKey bits (PKCS#1 RSAPublicKey, or the EC point).
    pub public_key: Vec<u8>,
}

/// Parses a certificate and checks its key is one IR accepts.
pub(crate) fn inspect(setting: &str, der: &[u8]) -> Result<CertInfo, Error> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| {
        Error::config(
            setting,
            "a PEM CERTIFICATE section is not a valid X.509 certificate",
        )
    })?;
    let spki = cert.public_key();
    let alg = &spki.algorithm.algorithm;
    let key_type = if *alg == OID_PKCS1_RSAENCRYPTION {
        match spki.parsed() {
            Ok(pk) => KeyType::Rsa(pk.key_size()),
            Err(_) => KeyType::Other,
        }
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if c == OID_EC_P256 => KeyType::EcP256,
            Some(c) if c == OID_NIST_EC_P384 => KeyType::EcP384,
            Some(c) if c == OID_NIST_EC_P521 => KeyType::EcP521,
            _ => KeyType::Other,
        }
    } else {
        KeyType::Other
    };
    match key_type {
        KeyType::Rsa(bits) if bits < MIN_RSA_BITS => {
            return Err(Error::config(
                setting,
                format!(
                    "the certificate's key is RSA {bits}; IR requires RSA {MIN_RSA_BITS} or more, or ECDSA P-256/P-384/P-521"
                ),
            ));
        }
        KeyType::Other => {
            return Err(Error::config(
                setting,
                "the certificate's key is neither RSA (2048 bits or more) nor ECDSA P-256/P-384/P-521",
            ));
        }
        _ => {}
    }
    Ok(CertInfo {
        key_type,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        subject: cert.subject().to_string(),
        public_key: spki.subject_public_key.data.to_vec(),
    })
}

/// A UTC timestamp for messages: `31 March 2025 12:00 UTC`. The month is a
/// word: an ISO date's eight digits (`2025-03-31`) are the shape [`scrub`] and
/// log filters take for an IRD number.
///
/// [`scrub`]: crate::error::scrub
pub(crate) fn utc(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!(
            "{} {} {} {:02}:{:02} UTC",
            t.day(),
            t.month(),
            t.year(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "a time out of range".to_owned(),
    }
}

/// Refuses a certificate that has expired or is not yet valid at `now`.
pub(crate) fn check_validity(setting: &str, info: &CertInfo, now: i64) -> Result<(), Error> {
    if now > info.not_after {
        return Err(Error::config(
            setting,
            format!(
                "the certificate expired on {} (subject {})",
                utc(info.not_after),
                scrub(&info.subject)
            ),
        ));
    }
    if now < info.not_before {
        return Err(Error::config(
            setting,
            format!(
                "the certificate is not valid until {} (subject {}); check the clock or the certificate",
                utc(info.not_before),
                scrub(&info.subject)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn wrong_contents_are_named() {
        let key =
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let e = cert_chain("tls.client_cert", key).expect_err("a key is not a cert");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("tls.client_cert"), "{e}");
        assert!(e.to_string().contains("holds a private key"), "{e}");

        let e = private_key("tls.client_key", b"hello").expect_err("not PEM");
        assert!(e.to_string().contains("no PEM section"), "{e}");

        let e = private_key("tls.client_key", &[0x30, 0x82, 0x01]).expect_err("DER");
        assert!(e.to_string().contains("binary DER"), "{e}");

        let enc = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = private_key("auth.key", enc).expect_err("encrypted");
        assert!(e.to_string().contains("encrypted"), "{e}");

        let e = private_key("auth.key", b"-----BEGIN PRIVATE KEY-----\nMC4C\n").expect_err("cut");
        assert!(e.to_string().contains("no END line"), "{e}");
    }

    #[test]
    fn utc_formats() {
        assert_eq!(utc(0), "1 January 1970 00:00 UTC");
        assert_eq!(utc(1_743_422_400), "31 March 2025 12:00 UTC");
    }
}

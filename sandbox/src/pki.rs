//! The sandbox's own PKI: a test CA, the server certificate, a registered and
//! an unregistered client certificate, and two self-signed JWT signing
//! credentials. Made with rcgen at start, or reused from a folder that holds them.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, RsaKeySize,
    SanType, SerialNumber,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::error::Error;

/// The domain in the sandbox client certificates' IR-style common names.
pub const CLIENT_CN_DOMAIN: &str = "sandbox.nzpir.test";

/// The names a fixture uses for the certificates the sandbox makes.
pub const NAMED_CERTS: [&str; 5] = [
    "client",
    "renewed_client",
    "unregistered_client",
    "jwt_rs256",
    "jwt_ec",
];

/// The paths of the PKI files.
#[derive(Debug, Clone)]
pub(crate) struct PkiFiles {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub unregistered_client_cert: PathBuf,
    pub unregistered_client_key: PathBuf,
    pub renewed_client_cert: PathBuf,
    pub renewed_client_key: PathBuf,
    pub jwt_rs256_cert: PathBuf,
    pub jwt_rs256_key: PathBuf,
    pub jwt_ec_cert: PathBuf,
    pub jwt_ec_key: PathBuf,
}

impl PkiFiles {
    fn new(dir: &Path) -> Self {
        let p = |name: &str| dir.join(name);
        PkiFiles {
            ca_cert: p("ca.pem"),
            ca_key: p("ca.key"),
            server_cert: p("server.pem"),
            server_key: p("server.key"),
            client_cert: p("client.pem"),
            client_key: p("client.key"),
            unregistered_client_cert: p("unregistered-client.pem"),
            unregistered_client_key: p("unregistered-client.key"),
            renewed_client_cert: p("renewed-client.pem"),
            renewed_client_key: p("renewed-client.key"),
            jwt_rs256_cert: p("jwt-rs256.pem"),
            jwt_rs256_key: p("jwt-rs256.key"),
            jwt_ec_cert: p("jwt-ec.pem"),
            jwt_ec_key: p("jwt-ec.key"),
        }
    }
}

/// The loaded PKI.
#[derive(Debug)]
pub(crate) struct Pki {
    pub files: PkiFiles,
    pub ca: CertificateDer<'static>,
    pub server_chain: Vec<CertificateDer<'static>>,
    pub server_key: PrivateKeyDer<'static>,
    pub client: CertificateDer<'static>,
    pub unregistered_client: CertificateDer<'static>,
    /// Another certificate with the registered client's CN (a renewal).
    pub renewed_client: CertificateDer<'static>,
    pub jwt_rs256: CertificateDer<'static>,
    pub jwt_ec: CertificateDer<'static>,
    /// `ES256` or `ES384`, after the curve of the EC JWT key.
    pub jwt_ec_alg: &'static str,
    /// How many files were made this time (0 when everything was reused).
    pub generated: usize,
}

impl Pki {
    /// A certificate by its fixture name.
    pub fn named(&self, name: &str) -> Option<&CertificateDer<'static>> {
        match name {
            "client" => Some(&self.client),
            "unregistered_client" => Some(&self.unregistered_client),
            "renewed_client" => Some(&self.renewed_client),
            "jwt_rs256" => Some(&self.jwt_rs256),
            "jwt_ec" => Some(&self.jwt_ec),
            _ => None,
        }
    }

    /// Loads the PKI from `dir`, making whatever is missing, expired or no
    /// longer issued by the CA there. `server_ips` are extra IP addresses the
    /// server certificate must name (besides 127.0.0.1 and ::1).
    pub fn load_or_make(dir: &Path, server_ips: &[IpAddr]) -> Result<Pki, Error> {
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating PKI folder {}", dir.display()), e))?;
        let files = PkiFiles::new(dir);
        let mut generated = 0;

        let (issuer, ca, ca_fresh) = match load_ca(&files)? {
            Some((issuer, ca)) => (issuer, ca, false),
            None => {
                let (issuer, ca) = make_ca(&files)?;
                generated += 2;
                (issuer, ca, true)
            }
        };
        let ca_x509 = parse(&ca, &files.ca_cert)?;

        let mut ips: Vec<IpAddr> = vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
        ];
        for ip in server_ips {
            if !ip.is_unspecified() && !ips.contains(ip) {
                ips.push(*ip);
            }
        }

        let mut leaf =
            |kind: Leaf<'_>, cert: &Path, key: &Path| -> Result<CertificateDer<'static>, Error> {
                if !ca_fresh && let Some(der) = reusable(kind, cert, key, &ca_x509, &ips)? {
                    return Ok(der);
                }
                generated += 2;
                make_leaf(kind, cert, key, &issuer, &ips)
            };

        let server = leaf(Leaf::Server, &files.server_cert, &files.server_key)?;
        let client = leaf(Leaf::Client(None), &files.client_cert, &files.client_key)?;
        let unregistered_client = leaf(
            Leaf::Client(None),
            &files.unregistered_client_cert,
            &files.unregistered_client_key,
        )?;
        // IR trusts client certificates by CN: a renewal (a new key, the same
        // CN, from the same CA) is accepted without registering it again.
        let client_cn = common_name(&parse(&client, &files.client_cert)?)
            .ok_or_else(|| Error::pki("the client certificate has no common name"))?;
        let renewed_client = leaf(
            Leaf::Client(Some(&client_cn)),
            &files.renewed_client_cert,
            &files.renewed_client_key,
        )?;
        let jwt_rs256 = leaf(Leaf::JwtRsa, &files.jwt_rs256_cert, &files.jwt_rs256_key)?;
        let jwt_ec = leaf(Leaf::JwtEc, &files.jwt_ec_cert, &files.jwt_ec_key)?;

        let server_key = PrivateKeyDer::from_pem_file(&files.server_key)
            .map_err(|e| Error::pki(format!("reading {}: {e}", files.server_key.display())))?;
        let jwt_ec_alg = ec_alg_of(&jwt_ec, &files.jwt_ec_cert)?;

        Ok(Pki {
            server_chain: vec![server, ca.clone()],
            ca,
            server_key,
            client,
            unregistered_client,
            renewed_client,
            jwt_rs256,
            jwt_ec,
            jwt_ec_alg,
            files,
            generated,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf<'a> {
    Server,
    /// A client certificate: a new IR-style CN, or this one.
    Client(Option<&'a str>),
    JwtRsa,
    JwtEc,
}

/// A certificate's subject common name.
pub(crate) fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

fn parse<'a>(der: &'a CertificateDer<'_>, path: &Path) -> Result<X509Certificate<'a>, Error> {
    X509Certificate::from_der(der.as_ref())
        .map(|(_, c)| c)
        .map_err(|e| {
            Error::pki(format!(
                "{} is not a valid certificate: {e}",
                path.display()
            ))
        })
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>, Error> {
    CertificateDer::from_pem_file(path)
        .map_err(|e| Error::pki(format!("reading {}: {e}", path.display())))
}

/// How long the JWT signing certificates live: IR accepts up to 4 years.
const JWT_CERT_LIFETIME: Duration = Duration::days(4 * 365);

/// Whether a certificate is valid for at least another day.
fn fresh(cert: &X509Certificate<'_>) -> bool {
    cert.validity()
        .time_to_expiration()
        .is_some_and(|left| left > Duration::days(1))
}

fn load_ca(
    files: &PkiFiles,
) -> Result<Option<(Issuer<'static, KeyPair>, CertificateDer<'static>)>, Error> {
    if !files.ca_cert.exists() || !files.ca_key.exists() {
        return Ok(None);
    }
    // A CA that cannot be read or is about to expire is replaced (and every
    // certificate it issued with it).
    let Ok(der) = read_cert(&files.ca_cert) else {
        return Ok(None);
    };
    if !parse(&der, &files.ca_cert).is_ok_and(|c| fresh(&c)) {
        return Ok(None);
    }
    let Ok(key_pem) = fs::read_to_string(&files.ca_key) else {
        return Ok(None);
    };
    let Ok(key) = KeyPair::from_pem(&key_pem) else {
        return Ok(None);
    };
    let issuer = Issuer::from_ca_cert_der(&der, key)
        .map_err(|e| Error::pki(format!("using {} as CA: {e}", files.ca_cert.display())))?;
    Ok(Some((issuer, der)))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| Error::pki("no randomness available"))?;
    Ok(b)
}

fn base_params(common_name: &str) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "nzpir sandbox");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    let mut serial = random_bytes::<16>()?;
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(params)
}

fn make_ca(files: &PkiFiles) -> Result<(Issuer<'static, KeyPair>, CertificateDer<'static>), Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
        .map_err(|e| Error::pki(format!("making the CA key: {e}")))?;
    let mut params = base_params("nzpir sandbox test CA")?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(params, key)
        .map_err(|e| Error::pki(format!("making the CA: {e}")))?;
    write_file(&files.ca_key, ca.key().serialize_pem().as_bytes(), true)?;
    write_file(&files.ca_cert, ca.pem().as_bytes(), false)?;
    let der = ca.der().clone();
    // Re-read the issuer from the certificate so a fresh CA and a reused one sign alike.
    let key = KeyPair::from_pem(&ca.key().serialize_pem())
        .map_err(|e| Error::pki(format!("re-reading the CA key: {e}")))?;
    let issuer = Issuer::from_ca_cert_der(&der, key)
        .map_err(|e| Error::pki(format!("using the new CA: {e}")))?;
    Ok((issuer, der))
}

/// An existing leaf certificate, if it and its key are there and still good.
fn reusable(
    kind: Leaf<'_>,
    cert_path: &Path,
    key_path: &Path,
    ca: &X509Certificate<'_>,
    server_ips: &[IpAddr],
) -> Result<Option<CertificateDer<'static>>, Error> {
    if !cert_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    let Ok(der) = read_cert(cert_path) else {
        return Ok(None);
    };
    let Ok(cert) = parse(&der, cert_path) else {
        return Ok(None);
    };
    if !fresh(&cert) {
        return Ok(None);
    }
    // The key must read and belong to the certificate.
    let key = fs::read_to_string(key_path)
        .ok()
        .and_then(|pem| KeyPair::from_pem(&pem).ok());
    if key.is_none_or(|k| k.subject_public_key_info() != cert.public_key().raw) {
        return Ok(None);
    }
    if let Leaf::Client(Some(cn)) = kind
        && common_name(&cert).as_deref() != Some(cn)
    {
        return Ok(None);
    }
    // A JWT signing certificate from an older sandbox may outlive IR's 4 years.
    if matches!(kind, Leaf::JwtRsa | Leaf::JwtEc) {
        let v = cert.validity();
        if v.not_after.timestamp() - v.not_before.timestamp() > JWT_CERT_LIFETIME.whole_seconds() {
            return Ok(None);
        }
    }
    if matches!(kind, Leaf::Server | Leaf::Client(_)) {
        let issued_by_ca = cert.issuer().as_raw() == ca.subject().as_raw()
            && cert.verify_signature(Some(ca.public_key())).is_ok();
        if !issued_by_ca {
            return Ok(None);
        }
    }
    if kind == Leaf::Server {
        let names: Vec<IpAddr> = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::IPAddress(b) => match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if server_ips.iter().any(|ip| !names.contains(ip)) {
            return Ok(None);
        }
    }
    Ok(Some(der))
}

fn make_leaf(
    kind: Leaf<'_>,
    cert_path: &Path,
    key_path: &Path,
    issuer: &Issuer<'static, KeyPair>,
    server_ips: &[IpAddr],
) -> Result<CertificateDer<'static>, Error> {
    let fail = |what: &str, e: rcgen::Error| Error::pki(format!("making {what}: {e}"));
    let (key, cert) = match kind {
        Leaf::Server => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
                .map_err(|e| fail("the server key", e))?;
            let mut params = base_params("localhost")?;
            params.subject_alt_names = vec![SanType::DnsName(
                "localhost"
                    .try_into()
                    .map_err(|e| fail("the server SAN", e))?,
            )];
            params
                .subject_alt_names
                .extend(server_ips.iter().map(|ip| SanType::IpAddress(*ip)));
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.use_authority_key_identifier_extension = true;
            let cert = params
                .signed_by(&key, issuer)
                .map_err(|e| fail("the server certificate", e))?;
            (key, cert)
        }
        Leaf::Client(cn) => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
                .map_err(|e| fail("a client key", e))?;
            let cn = match cn {
                Some(cn) => cn.to_owned(),
                None => {
                    let hex = hex_upper(&random_bytes::<16>()?).to_ascii_lowercase();
                    format!("{hex}.irdgws.{CLIENT_CN_DOMAIN}")
                }
            };
            let mut params = base_params(&cn)?;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            params.use_authority_key_identifier_extension = true;
            let cert = params
                .signed_by(&key, issuer)
                .map_err(|e| fail("a client certificate", e))?;
            (key, cert)
        }
        Leaf::JwtRsa => {
            let key = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
                .map_err(|e| fail("the RS256 JWT key", e))?;
            let mut params = base_params("nzpir sandbox JWT signing (RS256)")?;
            params.not_after = params.not_before + JWT_CERT_LIFETIME;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let cert = params
                .self_signed(&key)
                .map_err(|e| fail("the RS256 JWT certificate", e))?;
            (key, cert)
        }
        Leaf::JwtEc => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| fail("the EC JWT key", e))?;
            let mut params = base_params("nzpir sandbox JWT signing (ES256)")?;
            params.not_after = params.not_before + JWT_CERT_LIFETIME;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let cert = params
                .self_signed(&key)
                .map_err(|e| fail("the EC JWT certificate", e))?;
            (key, cert)
        }
    };
    write_file(key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(cert_path, cert.pem().as_bytes(), false)?;
    Ok(cert.der().clone())
}

/// `ES256` or `ES384` after the curve of an EC certificate's key.
fn ec_alg_of(der: &CertificateDer<'_>, path: &Path) -> Result<&'static str, Error> {
    let cert = parse(der, path)?;
    match crate::jwt::JwtKey::from_spki(cert.public_key()) {
        Some(crate::jwt::JwtKey::P256(_)) => Ok("ES256"),
        Some(crate::jwt::JwtKey::P384(_)) => Ok("ES384"),
        _ => Err(Error::pki(format!(
            "{} must hold an ECDSA P-256 or P-384 key",
            path.display()
        ))),
    }
}

/// Upper-case hex, no separators.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// The SHA-256 thumbprint of a certificate's DER bytes, as IR's JWT `sub`
/// carries it: upper-case hex, no separators.
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert_der).as_ref())
}

/// Writes a file; private keys get mode 0600 on Unix.
pub(crate) fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let ctx = || format!("writing {}", path.display());
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(path).map_err(|e| Error::io(ctx(), e))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(ctx(), e))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    f.write_all(bytes).map_err(|e| Error::io(ctx(), e))?;
    Ok(())
}

/// Writes a file through a temporary name and a rename, so that readers see
/// either the old content or the new, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    write_file(&tmp, bytes, false)?;
    fs::rename(&tmp, path).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_thumbprint() {
        assert_eq!(hex_upper(&[0x00, 0xab, 0x7f]), "00AB7F");
        let t = thumbprint(b"abc");
        assert_eq!(
            t,
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
    }
}

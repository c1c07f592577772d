//! Credentials in every form IR's providers hold them: PKCS#12 bundles from
//! openssl (current AES and legacy 3DES encryption, with and without a
//! password), DER certificates, and the warning a client logs when it is built
//! with a certificate that expires within 30 days.

use std::process::Command;
use std::sync::Mutex;

use nzpir::{Client, ErrorKind, Identity, JwtAlgorithm, JwtSigner};
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P384_SHA384};
use time::{Duration, OffsetDateTime};

struct Capture(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        if r.target() == "nzpir" {
            self.0
                .lock()
                .expect("lock")
                .push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

fn logs() -> Vec<(log::Level, String)> {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Trace);
    LOGS.0.lock().expect("lock").clone()
}

fn pair(days_left: i64) -> (String, KeyPair) {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name
        .push(DnType::CommonName, format!("expiring in {days_left} days"));
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(days_left) + Duration::hours(1);
    (p.self_signed(&key).expect("cert").pem(), key)
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn client_with(cert: &str, key: &KeyPair) -> Client {
    Client::builder()
        .endpoint("https://127.0.0.1:1")
        .identity_pem(cert, key.serialize_pem())
        .build()
        .expect("client")
}

#[test]
fn a_client_warns_about_a_certificate_expiring_within_30_days() {
    logs();
    let (soon, key) = pair(10);
    let client = client_with(&soon, &key);
    let warned: Vec<String> = logs()
        .into_iter()
        .filter(|(l, m)| *l == log::Level::Warn && m.contains("expiring in 10 days"))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("expires in 10 days"), "{warned:?}");
    let not_after = client.identity_not_after().expect("identity");
    let left = not_after - OffsetDateTime::now_utc().unix_timestamp();
    assert!((10 * 86_400..11 * 86_400).contains(&left), "{left}");
    assert_eq!(
        client.identity_expires_at(),
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(not_after as u64))
    );

    let (later, key) = pair(90);
    let _ = client_with(&later, &key);
    assert!(
        !logs()
            .iter()
            .any(|(_, m)| m.contains("expiring in 90 days")),
        "no warning 90 days ahead"
    );
    // No identity, no expiry.
    let none = Client::builder()
        .endpoint("https://127.0.0.1:1")
        .build()
        .expect("client");
    assert_eq!(none.identity_expires_at(), None);
    assert!(!none.reload_identity().expect("nothing to reload"));
}

#[test]
fn pkcs12_bundles_from_openssl() {
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = pair(200);
    let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&c, &cert).expect("write");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    let want = Identity::from_pem(cert.as_bytes(), key.serialize_pem().as_bytes())
        .expect("pem identity")
        .thumbprint()
        .to_owned();
    let (cs, ks) = (c.display().to_string(), k.display().to_string());
    for (name, extra, password) in [
        ("aes.p12", vec![], "pa55-word"),
        (
            "legacy.pfx",
            vec![
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
            "pa55-word",
        ),
        ("empty.p12", vec![], ""),
    ] {
        let out = dir.path().join(name);
        let pass = format!("pass:{password}");
        let mut args = vec![
            "pkcs12", "-export", "-in", &cs, "-inkey", &ks, "-passout", &pass,
        ];
        args.extend(extra.iter().copied());
        let out_s = out.display().to_string();
        args.extend(["-out", &out_s]);
        openssl(&args);
        let id =
            Identity::from_pkcs12_file(&out, password).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(id.thumbprint(), want, "{name}");
        let signer = JwtSigner::builder_from_pkcs12_file(&out, password)
            .issuer("Acme")
            .build()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer.subject(), want);
        assert_eq!(signer.algorithm(), JwtAlgorithm::ES384);
    }

    // A wrong password names the password's setting, and never shows it.
    let e =
        Identity::from_pkcs12_file(dir.path().join("aes.p12"), "not-the-one").expect_err("wrong");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("tls.client_pkcs12_password"), "{e}");
    assert!(!e.to_string().contains("not-the-one"), "{e}");
    // A bundle without the key says so.
    let nokey = dir.path().join("nokey.p12");
    openssl(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        &cs,
        "-passout",
        "pass:x",
        "-out",
        &nokey.display().to_string(),
    ]);
    let e = Identity::from_pkcs12_file(&nokey, "x").expect_err("no key");
    assert!(e.to_string().contains("no private key"), "{e}");
    // A PEM file given as PKCS#12 is named for what it is.
    let e = Identity::from_pkcs12_file(&c, "").expect_err("pem");
    assert!(e.to_string().contains("a certificate"), "{e}");
    // And a PKCS#12 file given as a certificate points to the right setting.
    let e = Identity::from_pem_files(dir.path().join("aes.p12"), &k).expect_err("p12 as cert");
    assert!(e.to_string().contains("tls.client_pkcs12"), "{e}");
}

#[test]
fn der_certificates_are_read_by_content() {
    let dir = tempfile::tempdir().expect("dir");
    let key =
        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).expect("rsa");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, "JWT signing");
    let cert = p.self_signed(&key).expect("cert");
    // A `.cer` named like PEM, and a PEM named `.cer`: the content decides.
    let der = dir.path().join("jwt.pem");
    std::fs::write(&der, cert.der()).expect("write");
    let pem = dir.path().join("jwt.cer");
    std::fs::write(&pem, cert.pem()).expect("write");
    let k = dir.path().join("jwt.key");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    let a = JwtSigner::builder_from_files(&der, &k)
        .issuer("Acme")
        .build()
        .expect("DER");
    let b = JwtSigner::builder_from_files(&pem, &k)
        .issuer("Acme")
        .build()
        .expect("PEM");
    assert_eq!(a.subject(), b.subject());
    assert_eq!(a.subject(), nzpir::thumbprint(cert.der()));
    // Binary that is not a certificate is refused, naming the setting.
    let junk = dir.path().join("junk.cer");
    std::fs::write(&junk, [0x30, 0x03, 0x02, 0x01, 0x05]).expect("write");
    let e = JwtSigner::builder_from_files(&junk, &k)
        .issuer("Acme")
        .build()
        .expect_err("junk");
    assert!(e.to_string().contains("auth.cert"), "{e}");
    assert!(e.to_string().contains("not an X.509 certificate"), "{e}");
}

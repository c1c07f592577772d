//! The core signs through jsonwebtoken's aws-lc provider by name, never
//! through jsonwebtoken's process-wide default: a host program that installs
//! a provider of its own (here, one that refuses everything) changes nothing
//! about the tokens nzpir mints. This runs in a process of its own, as the
//! default can be installed once per process.

use std::path::PathBuf;
use std::sync::Arc;

use jsonwebtoken::crypto::{CryptoProvider, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nzpir::{FixedClock, JwtAlgorithm, JwtSigner};

static REFUSING: CryptoProvider = CryptoProvider {
    signer_factory: |_, _| Err(ErrorKind::UnsupportedAlgorithm.into()),
    verifier_factory: |_, _| Err(ErrorKind::UnsupportedAlgorithm.into()),
    key_utils: KeyUtils::new_unimplemented(),
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jwt")
        .join(name)
}

#[test]
fn a_host_programs_default_provider_does_not_change_signing() {
    assert!(REFUSING.install_default().is_ok(), "installed first");
    // jsonwebtoken's own entry points now refuse to sign...
    let pem = std::fs::read(data("rsa.key")).expect("key");
    let key = EncodingKey::from_rsa_pem(&pem).expect("RSA key");
    let refused =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({}), &key);
    assert!(refused.is_err());

    // ...and nzpir mints as before: the RS256 token recorded for this key and
    // time, to the byte, and tokens for the other algorithms.
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data("tokens.json")).expect("tokens.json"))
            .expect("JSON");
    let signer = |alg: JwtAlgorithm, cert: &str, key: &str| {
        JwtSigner::builder_from_files(data(cert), data(key))
            .algorithm(alg)
            .issuer("Acme Funds \"NZ\"")
            .clock(Arc::new(FixedClock(1_900_000_000)))
            .build()
            .expect("signer")
    };
    let rs256 = signer(JwtAlgorithm::RS256, "rsa.crt", "rsa.key")
        .mint()
        .expect("RS256");
    assert_eq!(rs256.expose(), recorded["rs256"]);
    for (alg, cert, key) in [
        (JwtAlgorithm::PS256, "rsa.crt", "rsa.key"),
        (JwtAlgorithm::ES256, "p256.crt", "p256.key"),
        (JwtAlgorithm::ES384, "p384.crt", "p384.key"),
        (JwtAlgorithm::ES512, "p521.crt", "p521.key"),
    ] {
        let jwt = signer(alg, cert, key).mint().expect("mints");
        assert_eq!(jwt.expose().split('.').count(), 3, "{alg}");
    }
}

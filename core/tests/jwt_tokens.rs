//! Tokens minted through `jsonwebtoken` are the tokens the core minted
//! before it, field for field and byte for byte.
//!
//! `data/jwt/tokens.json` holds tokens that the core's previous signer (its
//! own JWS encoding over aws-lc-rs key pairs) minted at a fixed time with the
//! test keys beside it (`data/jwt/README.md`), for every algorithm and each
//! `startLogon` form. The same settings and time must give the same header
//! and claims today. RSASSA-PKCS1-v1_5 signatures are deterministic, so the
//! RS256/384/512 tokens must be identical to the last byte; PS256 and ECDSA
//! signatures are randomised, so those must verify with the certificate's
//! key, as the recorded ones do.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nzpir::{FixedClock, Jwt, JwtAlgorithm, JwtSigner, JwtSignerBuilder, UnsetStartLogon};
use x509_parser::prelude::{FromDer, X509Certificate};

/// When the recorded tokens were minted (2030-03-17).
const NOW: i64 = 1_900_000_000;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jwt")
        .join(name)
}

struct Case {
    name: &'static str,
    alg: JwtAlgorithm,
    /// The file stem of the certificate (`.crt`), and the key file.
    cert: &'static str,
    key: &'static str,
    now: i64,
    settings: fn(JwtSignerBuilder) -> JwtSignerBuilder,
}

fn same(b: JwtSignerBuilder) -> JwtSignerBuilder {
    b
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "rs256",
            alg: JwtAlgorithm::RS256,
            cert: "rsa",
            key: "rsa.key",
            now: NOW,
            settings: same,
        },
        // The PKCS#1 form of the same key signs the same token.
        Case {
            name: "rs256-pkcs1",
            alg: JwtAlgorithm::RS256,
            cert: "rsa",
            key: "rsa-pkcs1.key",
            now: NOW,
            settings: same,
        },
        Case {
            name: "rs384-logon",
            alg: JwtAlgorithm::RS384,
            cert: "rsa",
            key: "rsa.key",
            now: NOW,
            settings: |b| b.start_logon("kowhai.ops"),
        },
        Case {
            name: "rs512-empty-8h",
            alg: JwtAlgorithm::RS512,
            cert: "rsa",
            key: "rsa.key",
            now: NOW,
            settings: |b| {
                b.unset_start_logon(UnsetStartLogon::Empty)
                    .ttl(Duration::from_secs(8 * 3600))
            },
        },
        Case {
            name: "ps256",
            alg: JwtAlgorithm::PS256,
            cert: "rsa",
            key: "rsa.key",
            now: NOW,
            settings: same,
        },
        // A SEC1 (`EC PRIVATE KEY`) key.
        Case {
            name: "es256-logon",
            alg: JwtAlgorithm::ES256,
            cert: "p256",
            key: "p256.key",
            now: NOW,
            settings: |b| b.start_logon("tuatara.admin").ttl(Duration::from_secs(300)),
        },
        Case {
            name: "es384-empty",
            alg: JwtAlgorithm::ES384,
            cert: "p384",
            key: "p384.key",
            now: NOW,
            settings: |b| b.unset_start_logon(UnsetStartLogon::Empty),
        },
        Case {
            name: "es512",
            alg: JwtAlgorithm::ES512,
            cert: "p521",
            key: "p521.key",
            now: NOW,
            settings: same,
        },
        // Ten seconds after the certificate's notBefore: `iat` is clamped to it.
        Case {
            name: "rs256-new-cert",
            alg: JwtAlgorithm::RS256,
            cert: "rsa",
            key: "rsa.key",
            now: 0,
            settings: same,
        },
    ]
}

fn not_before(cert: &str) -> i64 {
    let der = cert_der(cert);
    let (_, x509) = X509Certificate::from_der(&der).expect("certificate");
    x509.validity().not_before.timestamp()
}

fn cert_der(cert: &str) -> Vec<u8> {
    let pem = std::fs::read(data(&format!("{cert}.crt"))).expect("certificate file");
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    block.contents
}

fn signer(case: &Case) -> JwtSigner {
    let now = if case.now == 0 {
        not_before(case.cert) + 10
    } else {
        case.now
    };
    let b = JwtSigner::builder_from_files(data(&format!("{}.crt", case.cert)), data(case.key))
        .algorithm(case.alg)
        .issuer("Acme Funds \"NZ\"")
        .clock(Arc::new(FixedClock(now)));
    (case.settings)(b).build().expect("signer")
}

/// Every token of the cases: the signer's first, and for RS256 the one that
/// replaces it after IR refused its times (EV1026).
fn minted() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for case in cases() {
        let s = signer(&case);
        let first: Jwt = s.token().expect("token");
        if case.name == "rs256" {
            let replaced = s.replace(&first).expect("replace").expect("a new token");
            out.insert("rs256-replaced".to_owned(), replaced.expose().to_owned());
        }
        out.insert(case.name.to_owned(), first.expose().to_owned());
    }
    out
}

fn recorded() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(data("tokens.json")).expect("tokens.json");
    serde_json::from_str(&text).expect("tokens.json is a map of tokens")
}

fn verification(alg: JwtAlgorithm) -> &'static dyn VerificationAlgorithm {
    match alg {
        JwtAlgorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        JwtAlgorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        JwtAlgorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        JwtAlgorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        JwtAlgorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
        JwtAlgorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
        JwtAlgorithm::ES512 => &sig::ECDSA_P521_SHA512_FIXED,
    }
}

/// Whether `token`'s signature verifies with the certificate's public key.
fn verifies(token: &str, cert: &str, alg: JwtAlgorithm) -> bool {
    let der = cert_der(cert);
    let (_, x509) = X509Certificate::from_der(&der).expect("certificate");
    let public = &x509.public_key().subject_public_key.data;
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    UnparsedPublicKey::new(verification(alg), public.as_ref())
        .verify(signed.as_bytes(), &signature)
        .is_ok()
}

fn json_of(segment: &str) -> String {
    String::from_utf8(URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("UTF-8")
}

#[test]
fn tokens_are_the_ones_minted_before() {
    let recorded = recorded();
    let minted = minted();
    assert_eq!(
        recorded.keys().collect::<Vec<_>>(),
        minted.keys().collect::<Vec<_>>(),
        "the same cases"
    );
    let algs: BTreeMap<&str, (JwtAlgorithm, &str)> = cases()
        .iter()
        .map(|c| (c.name, (c.alg, c.cert)))
        .chain([("rs256-replaced", (JwtAlgorithm::RS256, "rsa"))])
        .collect();
    for (name, want) in &recorded {
        let got = &minted[name];
        let (alg, cert) = algs[name.as_str()];
        let want_parts: Vec<&str> = want.split('.').collect();
        let got_parts: Vec<&str> = got.split('.').collect();
        assert_eq!(got_parts.len(), 3, "{name}");
        // The header and the claims: the same JSON, the same bytes.
        assert_eq!(
            json_of(got_parts[0]),
            json_of(want_parts[0]),
            "{name}: header"
        );
        assert_eq!(
            json_of(got_parts[1]),
            json_of(want_parts[1]),
            "{name}: claims"
        );
        assert_eq!(got_parts[..2], want_parts[..2], "{name}: encoding");
        // Both signatures verify with the certificate's key; a deterministic
        // one is the very same.
        assert!(
            verifies(want, cert, alg),
            "{name}: the recorded token verifies"
        );
        assert!(verifies(got, cert, alg), "{name}: the new token verifies");
        if matches!(
            alg,
            JwtAlgorithm::RS256 | JwtAlgorithm::RS384 | JwtAlgorithm::RS512
        ) {
            assert_eq!(got, want, "{name}: deterministic signature");
        }
    }
    // The verification above is not vacuous: another certificate's key fails.
    assert!(!verifies(&minted["rs256"], "p256", JwtAlgorithm::ES256));
    let tampered = minted["es512"].replacen("eyJ", "eyK", 2);
    assert!(!verifies(&tampered, "p521", JwtAlgorithm::ES512));
}

#[test]
fn the_recorded_tokens_say_what_the_settings_say() {
    // What the recorded header and claims are, spelled out, so that the file
    // cannot drift from the rules it stands for.
    let recorded = recorded();
    let claims = |name: &str| -> serde_json::Value {
        serde_json::from_str(&json_of(recorded[name].split('.').nth(1).expect("claims")))
            .expect("JSON")
    };
    for (name, alg) in [("rs256", "RS256"), ("ps256", "PS256"), ("es512", "ES512")] {
        assert_eq!(
            json_of(recorded[name].split('.').next().expect("header")),
            format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"M2M"}}"#)
        );
    }
    let c = claims("rs256");
    assert_eq!(c["iss"], "Acme Funds \"NZ\"");
    assert_eq!(c["startLogon"], serde_json::Value::Null);
    assert_eq!(
        (c["iat"].as_i64(), c["exp"].as_i64()),
        (Some(NOW - 30), Some(NOW - 30 + 540))
    );
    assert_eq!(claims("rs384-logon")["startLogon"], "kowhai.ops");
    let c = claims("rs512-empty-8h");
    assert_eq!(c["startLogon"], "");
    assert_eq!(
        c["exp"].as_i64().unwrap_or(0) - c["iat"].as_i64().unwrap_or(0),
        8 * 3600
    );
    let c = claims("rs256-new-cert");
    assert_eq!(c["iat"].as_i64(), Some(not_before("rsa")));
    let c = claims("rs256-replaced");
    assert_eq!(c["iat"].as_i64(), Some(NOW - 30 - 255));
    let mut fields: Vec<String> = claims("es256-logon")
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(fields, ["exp", "iat", "iss", "startLogon", "sub"]);
}

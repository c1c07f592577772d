//! M2M JWT checks, as IR's gateway makes them: the token is parsed, its `sub`
//! (the SHA-256 thumbprint of a registered signing certificate) finds the
//! credential, the header's algorithm must be the one configured for it, the
//! signature must verify with the certificate's key, and `iat`/`exp` must make
//! sense: `exp` at most 8 hours after `iat`, `iat` not before the signing
//! certificate's notBefore. Each failure is IR's code for it. Segments are
//! unpadded base64url; one padded with `=` is malformed (EV1024).
//!
//! The signature and the claims are checked by `jsonwebtoken` (`decode`, with
//! a [`Validation`] made once per credential that allows the credential's
//! algorithm and nothing else: the token's header never chooses it), through
//! jsonwebtoken's aws-lc-rs backend. Two things stay here: reading `sub`
//! from the still unverified claims to find the credential (as IR does: the
//! credential decides the key and the algorithm), and IR's time rules, which
//! are checked on the verified claims against the sandbox's clock (which
//! tests move; jsonwebtoken only reads the system clock). jsonwebtoken 11 has
//! no ES512, which IR lists: an ES512 credential's signatures are checked by
//! aws-lc-rs directly, and its claims by the same rules.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nzpir::IrCode;
use serde_json::{Map, Value};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::prelude::SubjectPublicKeyInfo;

/// The clock skew allowed on `iat` and `exp`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The longest lifetime (`exp - iat`) accepted, in seconds: IR's 8 hours.
pub const MAX_LIFETIME_SECS: i64 = 8 * 3600;
/// Bytes of a JWT accepted before it is called malformed.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A JWS algorithm the sandbox can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum JwtAlg {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl JwtAlg {
    pub fn parse(s: &str) -> Option<JwtAlg> {
        Some(match s {
            "RS256" => JwtAlg::Rs256,
            "RS384" => JwtAlg::Rs384,
            "RS512" => JwtAlg::Rs512,
            "PS256" => JwtAlg::Ps256,
            "PS384" => JwtAlg::Ps384,
            "PS512" => JwtAlg::Ps512,
            "ES256" => JwtAlg::Es256,
            "ES384" => JwtAlg::Es384,
            "ES512" => JwtAlg::Es512,
            _ => return None,
        })
    }

    /// The same algorithm as `jsonwebtoken` names it; `None` for ES512,
    /// which jsonwebtoken 11 does not have.
    fn to_jsonwebtoken(self) -> Option<Algorithm> {
        Some(match self {
            JwtAlg::Rs256 => Algorithm::RS256,
            JwtAlg::Rs384 => Algorithm::RS384,
            JwtAlg::Rs512 => Algorithm::RS512,
            JwtAlg::Ps256 => Algorithm::PS256,
            JwtAlg::Ps384 => Algorithm::PS384,
            JwtAlg::Ps512 => Algorithm::PS512,
            JwtAlg::Es256 => Algorithm::ES256,
            JwtAlg::Es384 => Algorithm::ES384,
            JwtAlg::Es512 => return None,
        })
    }

    /// Whether a key can verify this algorithm.
    pub fn fits(self, key: &JwtKey) -> bool {
        matches!(
            (self, key),
            (
                JwtAlg::Rs256
                    | JwtAlg::Rs384
                    | JwtAlg::Rs512
                    | JwtAlg::Ps256
                    | JwtAlg::Ps384
                    | JwtAlg::Ps512,
                JwtKey::Rsa(_)
            ) | (JwtAlg::Es256, JwtKey::P256(_))
                | (JwtAlg::Es384, JwtKey::P384(_))
                | (JwtAlg::Es512, JwtKey::P521(_))
        )
    }
}

/// The public key of a JWT signing certificate.
#[derive(Debug, Clone)]
pub(crate) enum JwtKey {
    /// PKCS#1 `RSAPublicKey` DER.
    Rsa(Vec<u8>),
    /// Uncompressed P-256 point.
    P256(Vec<u8>),
    /// Uncompressed P-384 point.
    P384(Vec<u8>),
    /// Uncompressed P-521 point.
    P521(Vec<u8>),
}

impl JwtKey {
    pub fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Option<JwtKey> {
        let key = spki.subject_public_key.data.to_vec();
        let alg = &spki.algorithm;
        if alg.algorithm == OID_PKCS1_RSAENCRYPTION {
            return Some(JwtKey::Rsa(key));
        }
        let curve = alg.parameters.as_ref().and_then(|p| p.as_oid().ok())?;
        if curve == OID_EC_P256 {
            Some(JwtKey::P256(key))
        } else if curve == OID_NIST_EC_P384 {
            Some(JwtKey::P384(key))
        } else if curve == OID_NIST_EC_P521 {
            Some(JwtKey::P521(key))
        } else {
            None
        }
    }
}

/// A registered JWT credential.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub alg: JwtAlg,
    /// Index of the party the credential belongs to.
    pub party: usize,
    /// The certificate's notBefore, Unix seconds: an earlier `iat` is EV1026.
    pub not_before: i64,
    check: SignatureCheck,
}

/// How a credential's signatures are checked, made once when it is
/// registered.
#[derive(Debug, Clone)]
enum SignatureCheck {
    /// `jsonwebtoken::decode` with the credential's key, and a validation
    /// that allows the credential's algorithm only.
    Jsonwebtoken {
        key: DecodingKey,
        validation: Box<Validation>,
    },
    /// ES512 (P-521 with SHA-512), which jsonwebtoken 11 lacks: aws-lc-rs
    /// with the certificate's uncompressed point.
    Es512(Vec<u8>),
}

impl Credential {
    /// A credential for `alg` with the certificate's `key` (`None` when the
    /// algorithm does not fit the key).
    pub fn new(alg: JwtAlg, key: JwtKey, party: usize, not_before: i64) -> Option<Credential> {
        if !alg.fits(&key) {
            return None;
        }
        let check = match (alg.to_jsonwebtoken(), key) {
            (None, JwtKey::P521(point)) => SignatureCheck::Es512(point),
            (None, _) => return None,
            (Some(jwt_alg), key) => {
                let key = match key {
                    // PKCS#1 `RSAPublicKey` DER, as jsonwebtoken takes it.
                    JwtKey::Rsa(der) => DecodingKey::from_rsa_der(&der),
                    // The uncompressed point, as jsonwebtoken's aws-lc backend takes it.
                    JwtKey::P256(point) | JwtKey::P384(point) | JwtKey::P521(point) => {
                        DecodingKey::from_ec_der(&point)
                    }
                };
                let mut validation = Validation::new(jwt_alg);
                // IR's time rules are checked in `verify`, against the
                // sandbox's clock; jsonwebtoken would read the system clock.
                validation.validate_exp = false;
                // IR's tokens name no audience; one that does is not refused
                // for it.
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["exp", "sub", "iss"]);
                SignatureCheck::Jsonwebtoken {
                    key,
                    validation: Box::new(validation),
                }
            }
        };
        Some(Credential {
            alg,
            party,
            not_before,
            check,
        })
    }
}

/// What a valid JWT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    /// The party of the signing credential.
    pub credential_party: usize,
    /// `startLogon`, when set and not empty.
    pub start_logon: Option<String>,
}

fn decode_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A NumericDate claim as whole seconds.
fn numeric_date(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
}

/// IR's code for what jsonwebtoken refused.
fn refusal(kind: &JwtErrorKind) -> IrCode {
    match kind {
        JwtErrorKind::InvalidSignature
        | JwtErrorKind::InvalidRsaKey(_)
        | JwtErrorKind::InvalidEcdsaKey
        | JwtErrorKind::InvalidKeyFormat => IrCode::EV1028,
        JwtErrorKind::InvalidAlgorithm
        | JwtErrorKind::MissingAlgorithm
        | JwtErrorKind::InvalidAlgorithmName
        | JwtErrorKind::UnsupportedAlgorithm => IrCode::EV1029,
        JwtErrorKind::ExpiredSignature | JwtErrorKind::ImmatureSignature => IrCode::EV1026,
        JwtErrorKind::MissingRequiredClaim(c) | JwtErrorKind::InvalidClaimFormat(c)
            if c == "exp" || c == "nbf" =>
        {
            IrCode::EV1026
        }
        _ => IrCode::EV1024,
    }
}

/// Checks a JWT. `lookup` finds a credential by `sub`; `now` is Unix seconds.
pub(crate) fn verify<'a>(
    token: &str,
    lookup: impl Fn(&str) -> Option<&'a Credential>,
    now: i64,
) -> Result<Verified, IrCode> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(IrCode::EV1024);
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(c64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IrCode::EV1024);
    };
    let header = decode_json(h64).ok_or(IrCode::EV1024)?;
    let claims = decode_json(c64).ok_or(IrCode::EV1024)?;
    // JWS segments are unpadded base64url (RFC 7515): `=` is malformed.
    let sig = URL_SAFE_NO_PAD.decode(s64).map_err(|_| IrCode::EV1024)?;

    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(IrCode::EV1024)?;
    if header.get("kid").and_then(Value::as_str) != Some("M2M") {
        return Err(IrCode::EV1024);
    }
    if header.get("typ").and_then(Value::as_str) != Some("JWT") {
        return Err(IrCode::EV1024);
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(IrCode::EV1024)?;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.trim().is_empty() {
        return Err(IrCode::EV1024);
    }
    if !matches!(
        claims.get("startLogon"),
        None | Some(Value::Null | Value::String(_))
    ) {
        return Err(IrCode::EV1024);
    }

    let credential = lookup(sub).ok_or(IrCode::EV1027)?;
    // The credential's algorithm decides; the header may only name it.
    if JwtAlg::parse(alg) != Some(credential.alg) {
        return Err(IrCode::EV1029);
    }
    let claims = match &credential.check {
        SignatureCheck::Jsonwebtoken { key, validation } => {
            // From here on, only what jsonwebtoken verified is used.
            jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
                .map_err(|e| refusal(e.kind()))?
                .claims
        }
        SignatureCheck::Es512(point) => {
            let signed = &token[..h64.len() + 1 + c64.len()];
            UnparsedPublicKey::new(&signature::ECDSA_P521_SHA512_FIXED, point)
                .verify(signed.as_bytes(), &sig)
                .map_err(|_| IrCode::EV1028)?;
            claims
        }
    };
    let start_logon = match claims.get("startLogon") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };

    let iat = numeric_date(claims.get("iat")).ok_or(IrCode::EV1026)?;
    let exp = numeric_date(claims.get("exp")).ok_or(IrCode::EV1026)?;
    let times_ok = iat <= now.saturating_add(CLOCK_SKEW_SECS)
        && exp > now.saturating_sub(CLOCK_SKEW_SECS)
        && exp > iat
        && exp.saturating_sub(iat) <= MAX_LIFETIME_SECS
        && iat >= credential.not_before;
    if !times_ok {
        return Err(IrCode::EV1026);
    }
    Ok(Verified {
        credential_party: credential.party,
        start_logon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default())
    }

    #[test]
    fn malformed_tokens_are_ev1024() {
        let none = |_: &str| -> Option<&Credential> { None };
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            "e30.e30.",
            "e30.e30.e30",
        ] {
            assert_eq!(verify(t, none, 0), Err(IrCode::EV1024), "{t}");
        }
        let h = b64(&serde_json::json!({"alg":"RS256","typ":"JWT","kid":"M2M"}));
        let c = b64(&serde_json::json!({"sub":"AB","iss":"x","iat":0,"exp":1}));
        // A well-formed token whose sub is unknown.
        assert_eq!(
            verify(&format!("{h}.{c}.AAAA"), none, 0),
            Err(IrCode::EV1027)
        );
        // Wrong kid.
        let h2 = b64(&serde_json::json!({"alg":"RS256","typ":"JWT","kid":"other"}));
        assert_eq!(
            verify(&format!("{h2}.{c}.AAAA"), none, 0),
            Err(IrCode::EV1024)
        );
        // Padded segments are malformed, even where the rest is well formed.
        for padded in [
            format!("{h}=.{c}.AAAA"),
            format!("{h}.{c}=.AAAA"),
            format!("{h}.{c}.AAAA=="),
        ] {
            assert_eq!(verify(&padded, none, 0), Err(IrCode::EV1024), "{padded}");
        }
        // startLogon of the wrong type.
        let c2 = b64(&serde_json::json!({"sub":"AB","iss":"x","startLogon":5}));
        assert_eq!(
            verify(&format!("{h}.{c2}.AAAA"), none, 0),
            Err(IrCode::EV1024)
        );
    }

    const NOW: i64 = 1_900_000_000;

    /// A compact JWT with IR's header for `alg`, signed by `sign`.
    fn token(alg: &str, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let signed = format!(
            "{}.{}",
            b64(&serde_json::json!({"alg": alg, "typ": "JWT", "kid": "M2M"})),
            b64(claims)
        );
        let sig = URL_SAFE_NO_PAD.encode(sign(signed.as_bytes()));
        format!("{signed}.{sig}")
    }

    fn claims(logon: Value) -> Value {
        serde_json::json!({"iss": "Acme", "sub": "AB", "startLogon": logon, "iat": NOW, "exp": NOW + 300})
    }

    #[test]
    fn jsonwebtoken_checks_with_the_credentials_algorithm_only() {
        use jsonwebtoken::{EncodingKey, crypto::aws_lc::DEFAULT_PROVIDER};
        let rsa =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .expect("RSA key");
        let public = rsa.public_key_raw().to_vec();
        let cred = Credential::new(JwtAlg::Rs256, JwtKey::Rsa(public.clone()), 3, NOW - 3600)
            .expect("RS256 fits RSA");
        let lookup = |sub: &str| (sub == "AB").then_some(&cred);
        let key = EncodingKey::from_rsa_pem(rsa.serialize_pem().as_bytes()).expect("key");
        let sign_as = |alg: Algorithm| {
            let key = key.clone();
            move |msg: &[u8]| {
                (DEFAULT_PROVIDER.signer_factory)(&alg, &key)
                    .and_then(|s| Ok(s.try_sign(msg)?))
                    .unwrap_or_default()
            }
        };
        let rs256 = sign_as(Algorithm::RS256);

        let ok = verify(
            &token("RS256", &claims(serde_json::json!("ops.user")), &rs256),
            lookup,
            NOW,
        );
        assert_eq!(
            ok,
            Ok(Verified {
                credential_party: 3,
                start_logon: Some("ops.user".to_owned())
            })
        );
        let ok = verify(&token("RS256", &claims(Value::Null), &rs256), lookup, NOW);
        assert_eq!(ok.map(|v| v.start_logon), Ok(None));
        // An audience is not IR's, and not a reason to refuse.
        let mut with_aud = claims(Value::Null);
        with_aud["aud"] = serde_json::json!("someone");
        assert!(verify(&token("RS256", &with_aud, &rs256), lookup, NOW).is_ok());

        // The header cannot choose another algorithm, even one the same key
        // signs (PS256), nor HMAC keyed with the public key, nor none.
        let ps256 = token("PS256", &claims(Value::Null), sign_as(Algorithm::PS256));
        assert_eq!(verify(&ps256, lookup, NOW), Err(IrCode::EV1029));
        let hs256 = token("HS256", &claims(Value::Null), |msg| {
            let k = EncodingKey::from_secret(&public);
            (DEFAULT_PROVIDER.signer_factory)(&Algorithm::HS256, &k)
                .and_then(|s| Ok(s.try_sign(msg)?))
                .unwrap_or_default()
        });
        assert_eq!(verify(&hs256, lookup, NOW), Err(IrCode::EV1029));
        let none = token("none", &claims(Value::Null), |_| Vec::new());
        assert_eq!(verify(&none, lookup, NOW), Err(IrCode::EV1029));

        // Claims changed after signing; a signature of another key.
        let good = token("RS256", &claims(Value::Null), &rs256);
        let (_, sig) = good.rsplit_once('.').expect("three parts");
        let (signed, _) = token("RS256", &claims(serde_json::json!("ops.user")), &rs256)
            .rsplit_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .expect("three parts");
        assert_eq!(
            verify(&format!("{signed}.{sig}"), lookup, NOW),
            Err(IrCode::EV1028)
        );

        // Times: missing, not numbers, or outside IR's rules are EV1026.
        let mut no_exp = claims(Value::Null);
        no_exp.as_object_mut().expect("object").remove("exp");
        assert_eq!(
            verify(&token("RS256", &no_exp, &rs256), lookup, NOW),
            Err(IrCode::EV1026)
        );
        let mut text_exp = claims(Value::Null);
        text_exp["exp"] = serde_json::json!("1900000300");
        assert_eq!(
            verify(&token("RS256", &text_exp, &rs256), lookup, NOW),
            Err(IrCode::EV1026)
        );
        let mut long = claims(Value::Null);
        long["exp"] = serde_json::json!(NOW + MAX_LIFETIME_SECS + 1);
        assert_eq!(
            verify(&token("RS256", &long, &rs256), lookup, NOW),
            Err(IrCode::EV1026)
        );
        // The clock passed in decides, not the system's: an hour on, expired.
        let fresh = token("RS256", &claims(Value::Null), &rs256);
        assert!(verify(&fresh, lookup, NOW).is_ok());
        assert_eq!(verify(&fresh, lookup, NOW + 3600), Err(IrCode::EV1026));
        // Before the certificate's notBefore.
        let mut early = claims(Value::Null);
        early["iat"] = serde_json::json!(NOW - 3601);
        assert_eq!(
            verify(&token("RS256", &early, &rs256), lookup, NOW),
            Err(IrCode::EV1026)
        );
    }

    #[test]
    fn es512_credentials_are_checked_by_aws_lc() {
        use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair};
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let cred = Credential::new(
            JwtAlg::Es512,
            JwtKey::P521(key.public_key_raw().to_vec()),
            1,
            0,
        )
        .expect("ES512 fits P-521");
        let lookup = |sub: &str| (sub == "AB").then_some(&cred);
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_FIXED_SIGNING, &key.serialize_der())
            .expect("pair");
        let es512 = |msg: &[u8]| {
            pair.sign(&aws_lc_rs::rand::SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default()
        };
        let good = token("ES512", &claims(Value::Null), es512);
        assert_eq!(
            verify(&good, lookup, NOW).map(|v| v.credential_party),
            Ok(1)
        );
        let other = token("ES512", &claims(serde_json::json!("ops.user")), es512);
        let tampered = format!(
            "{}.{}",
            other.rsplit_once('.').map_or("", |(signed, _)| signed),
            good.rsplit_once('.').map_or("", |(_, sig)| sig)
        );
        assert_eq!(verify(&tampered, lookup, NOW), Err(IrCode::EV1028));
        // The same rules as every other credential: the algorithm, the times.
        assert_eq!(
            verify(&token("ES384", &claims(Value::Null), es512), lookup, NOW),
            Err(IrCode::EV1029)
        );
        assert_eq!(verify(&good, lookup, NOW + 3600), Err(IrCode::EV1026));
        // An algorithm that does not fit the key makes no credential.
        let p521 = JwtKey::P521(key.public_key_raw().to_vec());
        assert!(Credential::new(JwtAlg::Es256, p521.clone(), 1, 0).is_none());
        assert!(Credential::new(JwtAlg::Rs256, p521, 1, 0).is_none());
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(Some(&serde_json::json!(12))), Some(12));
        assert_eq!(numeric_date(Some(&serde_json::json!(12.9))), Some(12));
        assert_eq!(numeric_date(Some(&serde_json::json!("12"))), None);
        assert_eq!(numeric_date(None), None);
    }
}

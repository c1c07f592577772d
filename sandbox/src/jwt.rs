//! M2M JWT checks, as IR's gateway makes them: the token is parsed, its `sub`
//! (the SHA-256 thumbprint of a registered signing certificate) finds the
//! credential, the header's algorithm must be the one configured for it, the
//! signature must verify with the certificate's key, and `iat`/`exp` must make
//! sense: `exp` at most 8 hours after `iat`, `iat` not before the signing
//! certificate's notBefore. Each failure is IR's code for it. Segments are
//! unpadded base64url; one padded with `=` is malformed (EV1024).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nzpir::IrCode;
use serde_json::Value;
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

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            JwtAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            JwtAlg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            JwtAlg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            JwtAlg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            JwtAlg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            JwtAlg::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            JwtAlg::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            JwtAlg::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
            JwtAlg::Es512 => &signature::ECDSA_P521_SHA512_FIXED,
        }
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

    fn bytes(&self) -> &[u8] {
        match self {
            JwtKey::Rsa(b) | JwtKey::P256(b) | JwtKey::P384(b) | JwtKey::P521(b) => b,
        }
    }
}

/// A registered JWT credential.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub alg: JwtAlg,
    pub key: JwtKey,
    /// Index of the party the credential belongs to.
    pub party: usize,
    /// The certificate's notBefore, Unix seconds: an earlier `iat` is EV1026.
    pub not_before: i64,
}

/// What a valid JWT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    /// The party of the signing credential.
    pub credential_party: usize,
    /// `startLogon`, when set and not empty.
    pub start_logon: Option<String>,
}

fn decode_json(part: &str) -> Option<serde_json::Map<String, Value>> {
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
    let start_logon = match claims.get("startLogon") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(IrCode::EV1024),
    };

    let credential = lookup(sub).ok_or(IrCode::EV1027)?;
    if JwtAlg::parse(alg) != Some(credential.alg) {
        return Err(IrCode::EV1029);
    }
    let signed = &token[..h64.len() + 1 + c64.len()];
    UnparsedPublicKey::new(credential.alg.verification(), credential.key.bytes())
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| IrCode::EV1028)?;

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

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(Some(&serde_json::json!(12))), Some(12));
        assert_eq!(numeric_date(Some(&serde_json::json!(12.9))), Some(12));
        assert_eq!(numeric_date(Some(&serde_json::json!("12"))), None);
        assert_eq!(numeric_date(None), None);
    }
}

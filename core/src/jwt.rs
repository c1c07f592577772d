//! M2M JWTs: the client-signed token IR takes in `Authorization` (no `Bearer`).
//!
//! Header `{"alg":"RS256","typ":"JWT","kid":"M2M"}`; claims `iss` (the provider's
//! name), `sub` (the SHA-256 thumbprint of the signing certificate, upper-case
//! hex), `startLogon` (a myIR logon, or `null` when none is used: IR's build
//! packs; [`UnsetStartLogon::Empty`] sends `""` as IR's sample script does),
//! `iat` and `exp` (at most 8 hours apart, IR's limit; `iat` never before the
//! signing certificate's notBefore).
//!
//! A [`JwtSigner`] reads and checks its key once and mints a token that every thread
//! reuses until shortly before it expires: the read path is one atomic load,
//! and when the token is due for renewal exactly one thread signs a new one
//! while the others keep using the old one (no thundering herd). `iat` is set a
//! little in the past so that a gateway whose clock is slightly behind does not
//! answer EV1026.
//!
//! Signing goes through the `jsonwebtoken` crate's signing interface
//! (`jsonwebtoken::crypto::JwtSigner`) for every algorithm it has, over an
//! aws-lc-rs key pair (the same aws-lc as TLS: one crypto stack) that is read,
//! checked and parsed once, in [`JwtSignerBuilder::build`] (see `Key`).
//! jsonwebtoken 11 has no ES512, which IR lists, so a P-521 key signs through
//! aws-lc-rs directly. The header and claims are encoded here, once for both
//! paths: the header's bytes (`alg`, `typ`, `kid`, in that order, as IR's
//! documents show it) are the ones the client has always sent, where
//! jsonwebtoken's `Header` would put `typ` first and cannot name ES512.
//! Lookups use the cached token and never sign.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::PrivateKeyDer;
use serde::Serialize;
use ureq::http::HeaderValue;

use crate::config::{JwtSettings, Secret};
use crate::error::{Cause, Error};
use crate::fork::Owner;
use crate::pem::{self, KeyType};
use crate::tls::thumbprint;
use crate::validate::{Clock, SystemClock};

/// IR's example token lifetime.
pub const DEFAULT_TTL: Duration = Duration::from_secs(540);
/// How far `iat` is set in the past, to absorb small clock differences.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(30);
/// The shortest token lifetime the signer accepts.
pub const MIN_TTL: Duration = Duration::from_secs(MIN_TTL_SECS);
/// The longest token lifetime IR accepts: `exp` "must not exceed 8 hours from
/// the iat issue time value".
pub const MAX_TTL: Duration = Duration::from_secs(MAX_TTL_SECS);
pub(crate) const MIN_TTL_SECS: u64 = 60;
pub(crate) const MAX_TTL_SECS: u64 = 8 * 3600;

/// What `startLogon` carries when no logon is configured.
///
/// IR's build packs say an unused `startLogon` is included with a value of
/// `null`; IR's own sample script sends `""`. Which of the two every IR
/// service treats as "no logon" is not confirmed, so `null` is the default
/// and a gateway that wants the empty string can be given it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnsetStartLogon {
    /// `"startLogon": null` (IR's build packs; the default).
    #[default]
    Null,
    /// `"startLogon": ""` (IR's sample script).
    Empty,
}

impl UnsetStartLogon {
    /// The setting's spelling: `null` or `empty`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnsetStartLogon::Null => "null",
            UnsetStartLogon::Empty => "empty",
        }
    }
}

impl FromStr for UnsetStartLogon {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "null" => Ok(UnsetStartLogon::Null),
            "empty" | "\"\"" => Ok(UnsetStartLogon::Empty),
            _ => Err(Error::config(
                "auth.unset_start_logon",
                "must be `null` (the default) or `empty`",
            )),
        }
    }
}

/// A JWS algorithm IR can be configured with for a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (IR's default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256. Not on IR's list of algorithms (RS256/384/512,
    /// ES256/384/512): kept for a credential deliberately configured with it.
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// ECDSA P-521 with SHA-512.
    ES512,
}

impl JwtAlgorithm {
    /// The name as it appears in the JWT header.
    pub const fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::RS384 => "RS384",
            JwtAlgorithm::RS512 => "RS512",
            JwtAlgorithm::PS256 => "PS256",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::ES384 => "ES384",
            JwtAlgorithm::ES512 => "ES512",
        }
    }

    /// The algorithm that fits a key when none is configured: RS256 for RSA,
    /// ES256 for P-256, ES384 for P-384, ES512 for P-521.
    pub fn default_for(key: KeyType) -> Option<JwtAlgorithm> {
        match key {
            KeyType::Rsa(_) => Some(JwtAlgorithm::RS256),
            KeyType::EcP256 => Some(JwtAlgorithm::ES256),
            KeyType::EcP384 => Some(JwtAlgorithm::ES384),
            KeyType::EcP521 => Some(JwtAlgorithm::ES512),
            KeyType::Other => None,
        }
    }

    /// The same algorithm as `jsonwebtoken` names it; `None` for ES512,
    /// which jsonwebtoken 11 does not have.
    pub(crate) fn to_jsonwebtoken(self) -> Option<jsonwebtoken::Algorithm> {
        Some(match self {
            JwtAlgorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            JwtAlgorithm::RS384 => jsonwebtoken::Algorithm::RS384,
            JwtAlgorithm::RS512 => jsonwebtoken::Algorithm::RS512,
            JwtAlgorithm::PS256 => jsonwebtoken::Algorithm::PS256,
            JwtAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            JwtAlgorithm::ES384 => jsonwebtoken::Algorithm::ES384,
            JwtAlgorithm::ES512 => return None,
        })
    }

    fn fits(self, key: KeyType) -> bool {
        match self {
            JwtAlgorithm::RS256
            | JwtAlgorithm::RS384
            | JwtAlgorithm::RS512
            | JwtAlgorithm::PS256 => matches!(key, KeyType::Rsa(_)),
            JwtAlgorithm::ES256 => key == KeyType::EcP256,
            JwtAlgorithm::ES384 => key == KeyType::EcP384,
            JwtAlgorithm::ES512 => key == KeyType::EcP521,
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwtAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "RS256" => Ok(JwtAlgorithm::RS256),
            "RS384" => Ok(JwtAlgorithm::RS384),
            "RS512" => Ok(JwtAlgorithm::RS512),
            "PS256" => Ok(JwtAlgorithm::PS256),
            "ES256" => Ok(JwtAlgorithm::ES256),
            "ES384" => Ok(JwtAlgorithm::ES384),
            "ES512" => Ok(JwtAlgorithm::ES512),
            _ => Err(Error::config(
                "auth.alg",
                "must be one of RS256, RS384, RS512, ES256, ES384, ES512 (IR's list), or PS256",
            )
            .with_cause(Cause::JwtAlgorithm)),
        }
    }
}

/// The signing key, parsed once when the signer is built, and the one place
/// a token is signed.
///
/// Every algorithm that `jsonwebtoken` 11 names (RS256, RS384, RS512, PS256,
/// ES256, ES384) signs through jsonwebtoken's signing interface,
/// [`jsonwebtoken::crypto::JwtSigner`], implemented by [`HeldKey`]: an aws-lc-rs
/// key pair (the same aws-lc as TLS, so one crypto stack) parsed and checked
/// once. jsonwebtoken's own aws-lc signers keep the key's DER and parse it
/// again for every RSA signature, which made a mint cost three to four times
/// as much (`bench/RESULTS.md`); its crypto module takes any backend that
/// implements the trait, and this one holds the parsed key. The signatures
/// are the same bytes jsonwebtoken's signer gives (a test compares them).
///
/// jsonwebtoken 11's `Algorithm` has no ES512, which IR lists, so its trait
/// cannot carry it: a P-521 key signs through aws-lc-rs directly. Both sign
/// the same `header.claims` text, built in one place
/// ([`SignerInner::mint_at_with`]); only the signature differs.
enum Key {
    /// Signed through jsonwebtoken's `JwtSigner` interface.
    Jsonwebtoken(HeldKey),
    /// ES512 (ECDSA P-521 with SHA-512), which jsonwebtoken 11 lacks.
    Es512(Pair, SystemRandom),
}

/// A [`jsonwebtoken::crypto::JwtSigner`] over an aws-lc-rs key pair parsed
/// once.
struct HeldKey {
    alg: jsonwebtoken::Algorithm,
    pair: Pair,
    rng: SystemRandom,
}

/// An aws-lc-rs key pair, parsed once.
enum Pair {
    Rsa(RsaKeyPair, &'static dyn sig::RsaEncoding),
    Ec(EcdsaKeyPair),
}

impl Pair {
    /// The signature of `msg`, as JWS carries it.
    fn sign(
        &self,
        rng: &SystemRandom,
        msg: &[u8],
    ) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        match self {
            Pair::Rsa(pair, encoding) => {
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, rng, msg, &mut out).map(|()| out)
            }
            Pair::Ec(pair) => pair.sign(rng, msg).map(|s| s.as_ref().to_vec()),
        }
    }

    fn public_key(&self) -> &[u8] {
        match self {
            Pair::Rsa(pair, _) => pair.public_key().as_ref(),
            Pair::Ec(pair) => pair.public_key().as_ref(),
        }
    }
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for HeldKey {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map_err(jsonwebtoken::signature::Error::from_source)
    }
}

impl jsonwebtoken::crypto::JwtSigner for HeldKey {
    fn algorithm(&self) -> jsonwebtoken::Algorithm {
        self.alg
    }
}

/// The key does not fit the algorithm, or is not a key at all.
struct Unusable;

impl Key {
    /// Parses `der` for `alg`, and returns the key with its public key (to be
    /// matched against the certificate's).
    fn load(alg: JwtAlgorithm, der: &PrivateKeyDer<'_>) -> Result<(Key, Vec<u8>), Unusable> {
        let bytes = der.secret_der();
        let ec = |signing: &'static sig::EcdsaSigningAlgorithm| {
            EcdsaKeyPair::from_private_key_der(signing, bytes)
                .map(Pair::Ec)
                .map_err(|_| Unusable)
        };
        let rsa = |encoding: &'static dyn sig::RsaEncoding| {
            let pair = match der {
                PrivateKeyDer::Pkcs1(_) => RsaKeyPair::from_der(bytes),
                _ => RsaKeyPair::from_pkcs8(bytes),
            };
            pair.map(|pair| Pair::Rsa(pair, encoding))
                .map_err(|_| Unusable)
        };
        let pair = match alg {
            JwtAlgorithm::RS256 => rsa(&sig::RSA_PKCS1_SHA256)?,
            JwtAlgorithm::RS384 => rsa(&sig::RSA_PKCS1_SHA384)?,
            JwtAlgorithm::RS512 => rsa(&sig::RSA_PKCS1_SHA512)?,
            JwtAlgorithm::PS256 => rsa(&sig::RSA_PSS_SHA256)?,
            JwtAlgorithm::ES256 => ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)?,
            JwtAlgorithm::ES384 => ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING)?,
            JwtAlgorithm::ES512 => ec(&sig::ECDSA_P521_SHA512_FIXED_SIGNING)?,
        };
        let public = pair.public_key().to_vec();
        let rng = SystemRandom::new();
        let key = match alg.to_jsonwebtoken() {
            Some(alg) => Key::Jsonwebtoken(HeldKey { alg, pair, rng }),
            None => Key::Es512(pair, rng),
        };
        Ok((key, public))
    }

    /// The signature of `msg` (the JWS signing input), as JWS carries it.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Unusable> {
        match self {
            Key::Jsonwebtoken(held) => {
                let signer: &dyn jsonwebtoken::crypto::JwtSigner = held;
                signer.try_sign(msg).map_err(|_| Unusable)
            }
            Key::Es512(pair, rng) => pair.sign(rng, msg).map_err(|_| Unusable),
        }
    }
}

/// A minted JWT. `Debug` never shows it.
#[derive(Clone)]
pub struct Jwt(Arc<Minted>);

struct Minted {
    text: String,
    header: HeaderValue,
    iat: i64,
    exp: i64,
    refresh_at: i64,
}

impl Jwt {
    /// The compact JWT (`header.claims.signature`). It is a credential: send it
    /// only to IR.
    pub fn expose(&self) -> &str {
        &self.0.text
    }

    /// `iat`, seconds since the Unix epoch.
    pub fn issued_at(&self) -> i64 {
        self.0.iat
    }

    /// `exp`, seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.0.exp
    }

    /// The `Authorization` header value (the bare JWT, marked sensitive).
    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.0.header
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("iat", &self.0.iat)
            .field("exp", &self.0.exp)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    #[serde(rename = "startLogon")]
    start_logon: Option<&'a str>,
    iat: i64,
    exp: i64,
}

/// Signs M2M JWTs for IR and caches the current one. Cheap to clone (an `Arc`);
/// share one between threads.
#[derive(Clone)]
pub struct JwtSigner {
    inner: Arc<SignerInner>,
}

/// How much further back a token replacing one IR refused for its times
/// (EV1026) is issued, at most (see [`JwtSigner::replace`]).
pub const EV1026_EXTRA_SKEW: Duration = Duration::from_secs(300);

struct SignerInner {
    alg: JwtAlgorithm,
    key: Key,
    header_b64: String,
    issuer: String,
    subject: String,
    start_logon: String,
    unset_start_logon: UnsetStartLogon,
    not_before: i64,
    ttl: i64,
    skew: i64,
    refresh_margin: i64,
    clock: Arc<dyn Clock>,
    current: ArcSwapOption<Minted>,
    mint_lock: ArcSwap<MintLock>,
    minted: AtomicU64,
}

enum Source {
    Pem(zeroize::Zeroizing<Vec<u8>>),
    File(PathBuf),
}

impl Source {
    fn read(&self, setting: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        match self {
            Source::Pem(b) => Ok(b.clone()),
            Source::File(p) => pem::read_file(setting, p),
        }
    }
}

/// Builds a [`JwtSigner`]; everything is read and checked in [`build`](Self::build).
pub struct JwtSignerBuilder {
    cert: Source,
    key: Source,
    /// A PKCS#12 bundle and its password, instead of `cert` and `key`.
    pkcs12: Option<(Source, Secret)>,
    alg: Option<JwtAlgorithm>,
    issuer: String,
    start_logon: String,
    unset_start_logon: UnsetStartLogon,
    ttl: Duration,
    skew: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for JwtSignerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSignerBuilder")
            .field("alg", &self.alg)
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtSignerBuilder {
    /// The algorithm configured for the credential at IR (default: RS256 for an
    /// RSA key, ES256 for P-256, ES384 for P-384).
    #[must_use]
    pub fn algorithm(mut self, alg: JwtAlgorithm) -> Self {
        self.alg = Some(alg);
        self
    }

    /// `iss`: the provider's name, as registered with IR. Required.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// `startLogon`: a myIR logon to be authorised as; none (the default, or an
    /// empty string) authorises by the certificate's `sub`.
    #[must_use]
    pub fn start_logon(mut self, logon: impl Into<String>) -> Self {
        self.start_logon = logon.into();
        self
    }

    /// What `startLogon` carries when no logon is set: `null` (the default,
    /// IR's build packs) or `""` (IR's sample script), for a gateway that
    /// wants the empty string.
    #[must_use]
    pub fn unset_start_logon(mut self, unset: UnsetStartLogon) -> Self {
        self.unset_start_logon = unset;
        self
    }

    /// Lifetime of each token, `exp - iat` (default 540 s, IR's example; 60 s
    /// to 8 hours, IR's limit).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How far `iat` is set in the past (default 30 s, or a quarter of a
    /// shorter lifetime; at most a quarter of the lifetime).
    #[must_use]
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = Some(skew);
        self
    }

    /// The clock for `iat`/`exp` (tests inject a fixed one).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Reads the certificate and key, checks they belong together and fit the
    /// algorithm, and builds the signing key once.
    pub fn build(self) -> Result<JwtSigner, Error> {
        let (chain, bundled_key, cert_setting, key_setting) = match &self.pkcs12 {
            Some((bundle, password)) => {
                let data = bundle.read("auth.pkcs12")?;
                let (chain, key) = pem::pkcs12(
                    "auth.pkcs12",
                    "auth.pkcs12_password",
                    &data,
                    password.expose(),
                )?;
                (chain, Some(key), "auth.pkcs12", "auth.pkcs12")
            }
            None => {
                let cert_pem = self.cert.read("auth.cert")?;
                (
                    pem::cert_chain("auth.cert", &cert_pem)?,
                    None,
                    "auth.cert",
                    "auth.key",
                )
            }
        };
        let info = pem::inspect(cert_setting, &chain[0])?;
        pem::check_validity(cert_setting, &info, self.clock.now_unix())?;
        let alg = match self.alg {
            Some(a) if a.fits(info.key_type) => a,
            Some(a) => {
                return Err(Error::config(
                    "auth.alg",
                    format!(
                        "{a} does not fit the signing key, which is {}",
                        info.key_type
                    ),
                )
                .with_cause(Cause::JwtAlgorithm));
            }
            None => JwtAlgorithm::default_for(info.key_type).ok_or_else(|| {
                Error::config(
                    cert_setting,
                    "the signing key is neither RSA nor ECDSA P-256/P-384",
                )
            })?,
        };
        let der = zeroize::Zeroizing::new(match bundled_key {
            Some(der) => der,
            None => pem::private_key("auth.key", &self.key.read("auth.key")?)?,
        });
        let (key, public_key) = Key::load(alg, &der).map_err(|Unusable| {
            Error::config(
                key_setting,
                format!("the private key could not be loaded for {alg}: it must be a PKCS#8, SEC1 or PKCS#1 key of the certificate's type ({})", info.key_type),
            )
        })?;
        if public_key != info.public_key {
            return Err(Error::config(
                key_setting,
                format!("the private key does not match the certificate in `{cert_setting}`"),
            )
            .with_cause(Cause::KeyMismatch));
        }
        if self.issuer.trim().is_empty() {
            return Err(Error::config(
                "auth.issuer",
                "required: the provider's name registered with IR (the JWT's `iss`)",
            ));
        }
        let ttl = self.ttl.as_secs();
        if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&ttl) || self.ttl.subsec_nanos() != 0 {
            return Err(Error::config(
                "auth.ttl_secs",
                format!(
                    "must be a whole number of seconds from {MIN_TTL_SECS} to {MAX_TTL_SECS} (8 hours, IR's limit)"
                ),
            ));
        }
        // The default margin shrinks to fit a short lifetime; one set on
        // purpose must fit as it is.
        let skew = self
            .skew
            .map_or(DEFAULT_CLOCK_SKEW.as_secs().min(ttl / 4), |s| s.as_secs());
        if skew > ttl / 4 {
            return Err(Error::config(
                "auth.clock_skew",
                "must be at most a quarter of the token lifetime",
            ));
        }
        let (ttl, skew) = (ttl as i64, skew as i64);
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"M2M"}}"#);
        Ok(JwtSigner {
            inner: Arc::new(SignerInner {
                alg,
                key,
                header_b64: URL_SAFE_NO_PAD.encode(header),
                issuer: self.issuer,
                subject: thumbprint(&chain[0]),
                start_logon: self.start_logon,
                unset_start_logon: self.unset_start_logon,
                not_before: info.not_before,
                ttl,
                skew,
                refresh_margin: 60.min((ttl - skew) / 2),
                clock: self.clock,
                current: ArcSwapOption::empty(),
                mint_lock: ArcSwap::from_pointee(MintLock::new()),
                minted: AtomicU64::new(0),
            }),
        })
    }
}

impl JwtSigner {
    /// Starts a signer from the signing certificate and key as PEM text.
    pub fn builder(cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> JwtSignerBuilder {
        Self::builder_from(
            Source::Pem(zeroize::Zeroizing::new(cert_pem.into())),
            Source::Pem(zeroize::Zeroizing::new(key_pem.into())),
        )
    }

    /// Starts a signer from PEM files (read in `build`).
    pub fn builder_from_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> JwtSignerBuilder {
        Self::builder_from(
            Source::File(cert_path.as_ref().to_owned()),
            Source::File(key_path.as_ref().to_owned()),
        )
    }

    /// Starts a signer from a PKCS#12 bundle (`.p12`/`.pfx`) in memory
    /// holding the signing certificate and key, opened with `password`.
    pub fn builder_from_pkcs12(
        data: impl Into<Vec<u8>>,
        password: impl Into<String>,
    ) -> JwtSignerBuilder {
        let mut b = Self::builder_from(
            Source::Pem(Vec::new().into()),
            Source::Pem(Vec::new().into()),
        );
        b.pkcs12 = Some((
            Source::Pem(zeroize::Zeroizing::new(data.into())),
            Secret::new(password.into()),
        ));
        b
    }

    /// Starts a signer from a PKCS#12 file (read in `build`).
    pub fn builder_from_pkcs12_file(
        path: impl AsRef<Path>,
        password: impl Into<String>,
    ) -> JwtSignerBuilder {
        let mut b = Self::builder_from(
            Source::Pem(Vec::new().into()),
            Source::Pem(Vec::new().into()),
        );
        b.pkcs12 = Some((
            Source::File(path.as_ref().to_owned()),
            Secret::new(password.into()),
        ));
        b
    }

    fn builder_from(cert: Source, key: Source) -> JwtSignerBuilder {
        JwtSignerBuilder {
            cert,
            key,
            pkcs12: None,
            alg: None,
            issuer: String::new(),
            start_logon: String::new(),
            unset_start_logon: UnsetStartLogon::Null,
            ttl: DEFAULT_TTL,
            skew: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// A signer from the `[auth]` settings of a configuration (`type = "jwt"`).
    pub fn from_settings(s: &JwtSettings, clock: Arc<dyn Clock>) -> Result<JwtSigner, Error> {
        let b = match &s.pkcs12 {
            Some(path) => {
                if s.cert.is_some()
                    || s.cert_pem.is_some()
                    || s.key.is_some()
                    || s.key_pem.is_some()
                {
                    return Err(Error::config(
                        "auth.pkcs12",
                        "give a PKCS#12 bundle or a certificate and key (`cert`, `key`), not both",
                    ));
                }
                let password = s.pkcs12_password.as_ref().map_or("", Secret::expose);
                Self::builder_from_pkcs12_file(path, password)
            }
            None => {
                if s.pkcs12_password.is_some() {
                    return Err(Error::config(
                        "auth.pkcs12_password",
                        "is only used with {jwt_pkcs12}",
                    ));
                }
                Self::pair_from_settings(s)?
            }
        };
        let mut b = b.clock(clock);
        if let Some(alg) = &s.alg {
            b = b.algorithm(alg.parse()?);
        }
        if let Some(iss) = &s.issuer {
            b = b.issuer(iss.clone());
        }
        if let Some(logon) = &s.start_logon {
            b = b.start_logon(logon.clone());
        }
        if let Some(unset) = &s.unset_start_logon {
            b = b.unset_start_logon(unset.parse()?);
        }
        if let Some(ttl) = s.ttl_secs {
            b = b.ttl(Duration::from_secs(ttl));
        }
        b.build()
    }

    fn pair_from_settings(s: &JwtSettings) -> Result<JwtSignerBuilder, Error> {
        let cert = match (&s.cert, &s.cert_pem) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "auth.cert",
                    "give `cert` or `cert_pem`, not both",
                ));
            }
            (Some(p), None) => Source::File(p.clone()),
            (None, Some(t)) => Source::Pem(zeroize::Zeroizing::new(t.as_bytes().to_vec())),
            (None, None) => {
                return Err(Error::config(
                    "auth.cert",
                    "required for JWT auth: the signing certificate registered with IR",
                ));
            }
        };
        let key = match (&s.key, &s.key_pem) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "auth.key",
                    "give `key` or `key_pem`, not both",
                ));
            }
            (Some(p), None) => Source::File(p.clone()),
            (None, Some(t)) => Source::Pem(zeroize::Zeroizing::new(t.expose().as_bytes().to_vec())),
            (None, None) => {
                return Err(Error::config(
                    "auth.key",
                    "required for JWT auth: the signing key",
                ));
            }
        };
        Ok(Self::builder_from(cert, key))
    }

    /// The current token: the cached one while it has more than a minute of
    /// life left (or half its life, for short lifetimes), else a new one.
    pub fn token(&self) -> Result<Jwt, Error> {
        let now = self.inner.clock.now_unix();
        if let Some(t) = &*self.inner.current.load()
            && self.inner.fresh(t, now)
        {
            return Ok(Jwt(Arc::clone(t)));
        }
        self.renew(now).map(Jwt)
    }

    /// Replaces `rejected`, a token IR refused for its times (EV1026), in the
    /// cache, unless another thread already did, and returns the token to
    /// use now; `None` when no token with other times can be made.
    ///
    /// The usual cause is a gateway whose clock is behind this one's, so that
    /// `iat` lies in its future: the new token is issued further back (by
    /// [`EV1026_EXTRA_SKEW`] at most, and never before the certificate's
    /// notBefore), so it differs from the refused one even within the same
    /// second, and still has half its margin-free life ahead.
    pub fn replace(&self, rejected: &Jwt) -> Result<Option<Jwt>, Error> {
        let inner = &*self.inner;
        let mint_lock = inner.mint_lock();
        let _guard = mint_lock.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = inner.current.load_full()
            && !Arc::ptr_eq(&t, &rejected.0)
        {
            return Ok(Some(Jwt(t)));
        }
        let extra = EV1026_EXTRA_SKEW
            .as_secs()
            .min(((inner.ttl - inner.skew) / 2) as u64) as i64;
        let minted = inner.mint_at_with(inner.clock.now_unix(), extra)?;
        if (minted.iat, minted.exp) == (rejected.0.iat, rejected.0.exp) {
            return Ok(None);
        }
        let minted = Arc::new(minted);
        inner.current.store(Some(Arc::clone(&minted)));
        Ok(Some(Jwt(minted)))
    }

    /// A new token, bypassing (and not updating) the cache.
    pub fn mint(&self) -> Result<Jwt, Error> {
        self.inner
            .mint_at(self.inner.clock.now_unix())
            .map(|m| Jwt(Arc::new(m)))
    }

    fn renew(&self, now: i64) -> Result<Arc<Minted>, Error> {
        let inner = &*self.inner;
        let mint_lock = inner.mint_lock();
        let _guard = match mint_lock.lock.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Another thread is signing: keep using the current token while
                // it is still valid, rather than queueing behind the signer.
                if let Some(t) = inner.current.load_full()
                    && now >= t.iat
                    && now + 5 < t.exp
                {
                    return Ok(t);
                }
                mint_lock.lock.lock().unwrap_or_else(|p| p.into_inner())
            }
        };
        // Someone may have renewed it while we waited.
        if let Some(t) = inner.current.load_full()
            && inner.fresh(&t, now)
        {
            return Ok(t);
        }
        let minted = Arc::new(inner.mint_at(now)?);
        inner.current.store(Some(Arc::clone(&minted)));
        Ok(minted)
    }

    /// The algorithm in the header.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.inner.alg
    }

    /// `sub`: the signing certificate's SHA-256 thumbprint.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// `startLogon` (empty when none is set).
    pub fn start_logon(&self) -> &str {
        &self.inner.start_logon
    }

    /// What `startLogon` carries when none is set.
    pub fn unset_start_logon(&self) -> UnsetStartLogon {
        self.inner.unset_start_logon
    }

    /// Token lifetime (`exp - iat`).
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.inner.ttl as u64)
    }

    /// How many tokens this signer has signed (cached and uncached).
    pub fn minted_count(&self) -> u64 {
        self.inner.minted.load(Ordering::Relaxed)
    }
}

/// The lock that lets one thread sign at a time, with the process it belongs
/// to: a forked child may inherit it held by a thread that does not exist in
/// the child, so a child never waits on the parent's lock but makes its own.
struct MintLock {
    owner: Owner,
    lock: Mutex<()>,
}

impl MintLock {
    fn new() -> Self {
        MintLock {
            owner: Owner::current(),
            lock: Mutex::new(()),
        }
    }
}

impl SignerInner {
    /// This process's mint lock (a new one after a fork).
    fn mint_lock(&self) -> Arc<MintLock> {
        let current = self.mint_lock.load_full();
        if current.owner.is_current() {
            return current;
        }
        let fresh = Arc::new(MintLock::new());
        let prev = self
            .mint_lock
            .compare_and_swap(&current, Arc::clone(&fresh));
        if Arc::ptr_eq(&prev, &current) {
            fresh
        } else {
            // Another thread of this process made it first.
            self.mint_lock.load_full()
        }
    }

    fn fresh(&self, t: &Minted, now: i64) -> bool {
        // A clock that went back past `iat` would make the token look issued in
        // the future; sign a new one.
        now < t.refresh_at && now >= t.iat
    }

    fn mint_at(&self, now: i64) -> Result<Minted, Error> {
        self.mint_at_with(now, 0)
    }

    /// Mints with `iat` a further `extra` seconds back.
    fn mint_at_with(&self, now: i64, extra: i64) -> Result<Minted, Error> {
        // IR refuses (EV1026) an `iat` before the certificate's issue date, so
        // the clock-skew margin never reaches back past it.
        let iat = (now - self.skew - extra).max(self.not_before);
        let exp = iat + self.ttl;
        let start_logon = match (self.start_logon.is_empty(), self.unset_start_logon) {
            (false, _) => Some(self.start_logon.as_str()),
            (true, UnsetStartLogon::Null) => None,
            (true, UnsetStartLogon::Empty) => Some(""),
        };
        let claims = Claims {
            iss: &self.issuer,
            sub: &self.subject,
            start_logon,
            iat,
            exp,
        };
        let claims_json = serde_json::to_vec(&claims)
            .map_err(|_| Error::config("auth", "the JWT claims could not be encoded"))?;
        let mut text =
            String::with_capacity(self.header_b64.len() + claims_json.len() * 4 / 3 + 700);
        text.push_str(&self.header_b64);
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims_json, &mut text);
        let signature = self.key.sign(text.as_bytes()).map_err(|Unusable| {
            Error::new(
                crate::ErrorKind::Config,
                "config `auth.key`: signing the JWT failed",
            )
        })?;
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut text);
        let mut header = HeaderValue::from_str(&text).map_err(|_| {
            Error::new(
                crate::ErrorKind::Config,
                "config `auth`: the JWT is not a valid header value",
            )
        })?;
        header.set_sensitive(true);
        self.minted.fetch_add(1, Ordering::Relaxed);
        Ok(Minted {
            text,
            header,
            iat,
            exp,
            refresh_at: exp - self.refresh_margin,
        })
    }
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("JwtSigner")
            .field("alg", &i.alg)
            .field("iss", &i.issuer)
            .field("sub", &i.subject)
            .field(
                "start_logon",
                &if i.start_logon.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("ttl_secs", &i.ttl)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::FixedClock;
    use rcgen::{CertificateParams, KeyPair};
    use std::process::Command;
    use std::sync::atomic::AtomicI64;

    #[derive(Debug)]
    struct StepClock(AtomicI64);
    impl Clock for StepClock {
        fn now_unix(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    const NOW: i64 = 1_900_000_000;

    fn cert_for(key: &KeyPair) -> String {
        let mut p = CertificateParams::new(vec!["m2m.example".to_owned()]).expect("params");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        p.self_signed(key).expect("self-signed").pem()
    }

    fn rsa_key() -> KeyPair {
        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).expect("rsa")
    }

    fn b64(part: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(part).expect("base64url")
    }

    /// Runs `openssl ARGS` with `input` on its stdin; its stdout.
    fn openssl(args: &str, input: &[u8]) -> Vec<u8> {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("openssl {args} 2>/dev/null"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write");
        let out = child.wait_with_output().expect("openssl");
        assert!(out.status.success(), "openssl {args} failed");
        out.stdout
    }

    /// Verifies a compact JWT with `openssl dgst`, from the certificate alone.
    fn openssl_verifies(jwt: &str, cert_pem: &str, alg: JwtAlgorithm) -> bool {
        let dir = tempfile::tempdir().expect("tempdir");
        let (signing_input, sig_b64) = jwt.rsplit_once('.').expect("three parts");
        let pubkey = dir.path().join("pub.pem");
        let public = openssl("x509 -pubkey -noout", cert_pem.as_bytes());
        std::fs::write(&pubkey, public).expect("write");
        let data = dir.path().join("data");
        std::fs::write(&data, signing_input).expect("write");
        let mut sig = b64(sig_b64);
        if matches!(
            alg,
            JwtAlgorithm::ES256 | JwtAlgorithm::ES384 | JwtAlgorithm::ES512
        ) {
            sig = ecdsa_raw_to_der(&sig);
        }
        let sig_path = dir.path().join("sig");
        std::fs::write(&sig_path, sig).expect("write");
        let digest = match alg {
            JwtAlgorithm::RS384 | JwtAlgorithm::ES384 => "-sha384",
            JwtAlgorithm::RS512 | JwtAlgorithm::ES512 => "-sha512",
            _ => "-sha256",
        };
        let mut cmd = Command::new("openssl");
        cmd.args(["dgst", digest]);
        if alg == JwtAlgorithm::PS256 {
            cmd.args([
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:-1",
            ]);
        }
        let out = cmd
            .arg("-verify")
            .arg(&pubkey)
            .arg("-signature")
            .arg(&sig_path)
            .arg(&data)
            .output()
            .expect("openssl dgst");
        let text = String::from_utf8_lossy(&out.stdout);
        out.status.success() && text.contains("Verified OK")
    }

    /// JWS carries ECDSA signatures as r||s; openssl wants ASN.1 DER.
    fn ecdsa_raw_to_der(raw: &[u8]) -> Vec<u8> {
        fn int(bytes: &[u8]) -> Vec<u8> {
            let mut b: Vec<u8> = bytes.iter().copied().skip_while(|x| *x == 0).collect();
            if b.first().is_none_or(|x| x & 0x80 != 0) {
                b.insert(0, 0);
            }
            let mut out = vec![0x02, b.len() as u8];
            out.extend(b);
            out
        }
        let (r, s) = raw.split_at(raw.len() / 2);
        let body = [int(r), int(s)].concat();
        let mut out = vec![0x30];
        if body.len() >= 0x80 {
            out.push(0x81);
        }
        out.push(body.len() as u8);
        out.extend(body);
        out
    }

    fn signer(cert: &str, key: &KeyPair, alg: Option<JwtAlgorithm>) -> JwtSigner {
        let mut b = JwtSigner::builder(cert, key.serialize_pem())
            .issuer("Acme Funds \"NZ\"")
            .clock(Arc::new(FixedClock(NOW)));
        if let Some(a) = alg {
            b = b.algorithm(a);
        }
        b.build().expect("signer")
    }

    #[test]
    fn header_and_claims_are_exact() {
        let key = rsa_key();
        let cert = cert_for(&key);
        let s = signer(&cert, &key, None);
        assert_eq!(s.algorithm(), JwtAlgorithm::RS256);
        let jwt = s.token().expect("token");
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(b64(parts[0]), br#"{"alg":"RS256","typ":"JWT","kid":"M2M"}"#);
        let claims = String::from_utf8(b64(parts[1])).expect("utf8");
        let want = format!(
            r#"{{"iss":"Acme Funds \"NZ\"","sub":"{}","startLogon":null,"iat":{},"exp":{}}}"#,
            crate::tls::thumbprint(&pem::cert_chain("c", cert.as_bytes()).expect("chain")[0]),
            NOW - 30,
            NOW - 30 + 540
        );
        assert_eq!(claims, want);
        assert_eq!(jwt.issued_at(), NOW - 30);
        assert_eq!(jwt.expires_at(), NOW + 510);
        // The header is the bare JWT, marked sensitive.
        assert_eq!(jwt.header_value().as_bytes(), jwt.expose().as_bytes());
        assert!(jwt.header_value().is_sensitive());
    }

    #[test]
    fn sub_is_the_openssl_fingerprint() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = cert_for(&key);
        let s = signer(&cert, &key, None);
        let out = openssl("x509 -noout -fingerprint -sha256", cert.as_bytes());
        let text = String::from_utf8_lossy(&out);
        let fp = text.trim().rsplit_once('=').expect("=").1.replace(':', "");
        assert_eq!(s.subject(), fp);
        let claims: serde_json::Value = serde_json::from_slice(&b64(s
            .token()
            .expect("token")
            .expose()
            .split('.')
            .nth(1)
            .expect("claims")))
        .expect("json");
        assert_eq!(claims["sub"], fp.as_str());
    }

    #[test]
    fn every_algorithm_verifies_with_openssl() {
        let rsa = rsa_key();
        let rsa_cert = cert_for(&rsa);
        let p256 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        let p256_cert = cert_for(&p256);
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("p384");
        let p384_cert = cert_for(&p384);
        let p521 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("p521");
        let p521_cert = cert_for(&p521);
        let cases = [
            (JwtAlgorithm::RS256, &rsa, &rsa_cert),
            (JwtAlgorithm::RS384, &rsa, &rsa_cert),
            (JwtAlgorithm::RS512, &rsa, &rsa_cert),
            (JwtAlgorithm::PS256, &rsa, &rsa_cert),
            (JwtAlgorithm::ES256, &p256, &p256_cert),
            (JwtAlgorithm::ES384, &p384, &p384_cert),
            (JwtAlgorithm::ES512, &p521, &p521_cert),
        ];
        for (alg, key, cert) in cases {
            let jwt = signer(cert, key, Some(alg)).mint().expect("mint");
            let header: serde_json::Value =
                serde_json::from_slice(&b64(jwt.expose().split('.').next().expect("header")))
                    .expect("json");
            assert_eq!(header["alg"], alg.as_str());
            assert!(
                openssl_verifies(jwt.expose(), cert, alg),
                "{alg} must verify"
            );
            // A tampered token must not.
            let tampered = jwt.expose().replacen("eyJ", "eyK", 2);
            assert!(!openssl_verifies(&tampered, cert, alg), "{alg} tampered");
        }
    }

    /// The held key signs as jsonwebtoken's own aws-lc signer does: the same
    /// bytes for PKCS#1 v1.5 (deterministic), and signatures jsonwebtoken
    /// verifies for the randomised PSS and ECDSA.
    #[test]
    fn signs_as_jsonwebtokens_own_signer_does() {
        use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
        let rsa = rsa_key();
        let rsa_cert = cert_for(&rsa);
        let p256 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("p384");
        let split = |jwt: &Jwt| {
            let text = jwt.expose().to_owned();
            let dot = text.rfind('.').expect("signature");
            (text[..dot].to_owned(), text[dot + 1..].to_owned())
        };
        for (alg, jalg) in [
            (JwtAlgorithm::RS256, Algorithm::RS256),
            (JwtAlgorithm::RS384, Algorithm::RS384),
            (JwtAlgorithm::RS512, Algorithm::RS512),
        ] {
            let (input, signature) =
                split(&signer(&rsa_cert, &rsa, Some(alg)).mint().expect("mint"));
            let theirs = EncodingKey::from_rsa_pem(rsa.serialize_pem().as_bytes()).expect("key");
            let expected =
                jsonwebtoken::crypto::sign(input.as_bytes(), &theirs, jalg).expect("sign");
            assert_eq!(signature, expected, "{alg}");
        }
        let rsa_public = DecodingKey::from_rsa_pem(rsa.public_key_pem().as_bytes()).expect("rsa");
        let cases = [
            (JwtAlgorithm::PS256, Algorithm::PS256, &rsa, rsa_public),
            (
                JwtAlgorithm::ES256,
                Algorithm::ES256,
                &p256,
                DecodingKey::from_ec_pem(p256.public_key_pem().as_bytes()).expect("p256"),
            ),
            (
                JwtAlgorithm::ES384,
                Algorithm::ES384,
                &p384,
                DecodingKey::from_ec_pem(p384.public_key_pem().as_bytes()).expect("p384"),
            ),
        ];
        for (alg, jalg, key, public) in cases {
            let (input, signature) =
                split(&signer(&cert_for(key), key, Some(alg)).mint().expect("mint"));
            let verify = |input: &str| {
                jsonwebtoken::crypto::verify(&signature, input.as_bytes(), &public, jalg)
                    .expect("verify")
            };
            assert!(verify(&input), "{alg}");
            assert!(!verify(&input.replacen('e', "f", 1)), "{alg} tampered");
        }
    }

    #[test]
    fn traditional_key_forms_sign_too() {
        let rsa = rsa_key();
        let cert = cert_for(&rsa);
        let out = openssl("rsa -traditional", rsa.serialize_pem().as_bytes());
        assert!(String::from_utf8_lossy(&out).contains("BEGIN RSA PRIVATE KEY"));
        let s = JwtSigner::builder(cert.clone(), out)
            .issuer("Acme")
            .build()
            .expect("pkcs1 key");
        assert!(openssl_verifies(
            s.token().expect("jwt").expose(),
            &cert,
            JwtAlgorithm::RS256
        ));
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let rsa = rsa_key();
        let cert = cert_for(&rsa);
        let other = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        let e = JwtSigner::builder(cert.clone(), rsa.serialize_pem())
            .issuer("Acme")
            .algorithm(JwtAlgorithm::ES256)
            .build()
            .expect_err("ES256 with RSA");
        assert!(e.to_string().contains("auth.alg"), "{e}");
        let e = JwtSigner::builder(cert.clone(), rsa.serialize_pem())
            .build()
            .expect_err("no issuer");
        assert!(e.to_string().contains("auth.issuer"), "{e}");
        let e = JwtSigner::builder(cert.clone(), rsa.serialize_pem())
            .issuer("Acme")
            .ttl(Duration::from_secs(10))
            .build()
            .expect_err("ttl");
        assert!(e.to_string().contains("auth.ttl_secs"), "{e}");
        let rsa2 = rsa_key();
        let e = JwtSigner::builder(cert.clone(), rsa2.serialize_pem())
            .issuer("Acme")
            .build()
            .expect_err("mismatch");
        assert!(e.to_string().contains("does not match"), "{e}");
        let e = JwtSigner::builder(cert_for(&other), rsa.serialize_pem())
            .issuer("Acme")
            .build()
            .expect_err("key of another type");
        assert!(e.to_string().contains("auth.key"), "{e}");
        let e = "HS256".parse::<JwtAlgorithm>().expect_err("HS256");
        assert!(e.to_string().contains("auth.alg"), "{e}");
        let e = JwtSigner::builder(rsa.serialize_pem(), cert)
            .issuer("Acme")
            .build()
            .expect_err("swapped");
        assert!(e.to_string().contains("auth.cert"), "{e}");
    }

    #[test]
    fn from_settings_reads_files() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("c.pem"), cert_for(&key)).expect("write");
        std::fs::write(dir.path().join("k.pem"), key.serialize_pem()).expect("write");
        let settings = JwtSettings {
            cert: Some(dir.path().join("c.pem")),
            key: Some(dir.path().join("k.pem")),
            issuer: Some("Acme".into()),
            start_logon: Some("someone".into()),
            ttl_secs: Some(300),
            ..JwtSettings::default()
        };
        let s = JwtSigner::from_settings(&settings, Arc::new(SystemClock)).expect("signer");
        assert_eq!(s.algorithm(), JwtAlgorithm::ES384);
        assert_eq!(s.start_logon(), "someone");
        let t = s.token().expect("token");
        assert_eq!(t.expires_at() - t.issued_at(), 300);
        let dbg = format!("{s:?} {t:?}");
        assert!(
            !dbg.contains("someone") && !dbg.contains(t.expose()),
            "{dbg}"
        );

        let missing = JwtSettings {
            key: Some(dir.path().join("nope.pem")),
            ..settings
        };
        let e = JwtSigner::from_settings(&missing, Arc::new(SystemClock)).expect_err("missing");
        assert!(
            e.to_string().contains("auth.key") && e.to_string().contains("nope.pem"),
            "{e}"
        );
    }

    #[test]
    fn unset_start_logon_from_toml_and_json() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let dir = tempfile::tempdir().expect("dir");
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, cert_for(&key)).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        let toml = |unset: &str| {
            format!(
                "[auth]\ntype = \"jwt\"\ncert = {:?}\nkey = {:?}\nissuer = \"Acme\"\nttl_secs = 28800\n{unset}",
                c.display().to_string(),
                k.display().to_string()
            )
        };
        let signer_of = |cfg: crate::Config| match cfg.auth {
            Some(crate::AuthSettings::Jwt(j)) => {
                JwtSigner::from_settings(&j, Arc::new(SystemClock))
            }
            other => panic!("JWT auth expected: {other:?}"),
        };
        let start_logon = |s: &JwtSigner| -> serde_json::Value {
            let jwt = s.mint().expect("jwt");
            let claims: serde_json::Value =
                serde_json::from_slice(&b64(jwt.expose().split('.').nth(1).expect("claims")))
                    .expect("json");
            assert_eq!(
                claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
                28_800
            );
            claims["startLogon"].clone()
        };
        let default =
            signer_of(crate::Config::from_toml_str(&toml("")).expect("toml")).expect("signer");
        assert_eq!(start_logon(&default), serde_json::Value::Null);
        let empty = signer_of(
            crate::Config::from_toml_str(&toml("unset_start_logon = \"empty\"")).expect("toml"),
        )
        .expect("signer");
        assert_eq!(start_logon(&empty), "");
        assert_eq!(empty.unset_start_logon(), UnsetStartLogon::Empty);
        // The C ABI's JSON is the same schema.
        let json = serde_json::json!({"auth": {"type": "jwt", "cert": c, "key": k, "issuer": "Acme",
            "unset_start_logon": "empty"}});
        let from_json = signer_of(crate::Config::from_json_str(&json.to_string()).expect("json"))
            .expect("signer");
        assert_eq!(from_json.unset_start_logon(), UnsetStartLogon::Empty);
        let e = crate::Config::from_toml_str(&toml("unset_start_logon = \"nothing\""))
            .expect_err("bad value");
        assert!(e.to_string().contains("auth.unset_start_logon"), "{e}");
        assert!(e.to_string().contains("null, empty"), "{e}");
    }

    #[test]
    fn one_token_is_shared_until_it_is_due() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = cert_for(&key);
        let clock = Arc::new(StepClock(AtomicI64::new(NOW)));
        let s = JwtSigner::builder(cert, key.serialize_pem())
            .issuer("Acme")
            .clock(clock.clone())
            .build()
            .expect("signer");
        let first = s.token().expect("token").expose().to_owned();
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..500)
                        .map(|_| s.token().expect("token").expose().to_owned())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().expect("thread").iter().all(|j| *j == first));
        }
        assert_eq!(s.minted_count(), 1);

        // 449 s later it is still reused (exp is at +510, renewal 60 s before).
        clock.0.store(NOW + 449, Ordering::SeqCst);
        assert_eq!(s.token().expect("token").expose(), first);
        assert_eq!(s.minted_count(), 1);

        // From +450 a new token is signed once, and every thread gets it.
        clock.0.store(NOW + 450, Ordering::SeqCst);
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.token().expect("token"))
            })
            .collect();
        let tokens: Vec<Jwt> = threads
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        // Threads that raced the signer may have used the old (still valid) token;
        // only one new token was signed.
        assert_eq!(s.minted_count(), 2);
        let renewed = s.token().expect("token");
        assert_eq!(renewed.issued_at(), NOW + 450 - 30);
        assert!(
            tokens
                .iter()
                .all(|t| t.expose() == first || t.expose() == renewed.expose())
        );

        // A clock that jumps back before `iat` gets a new token.
        clock.0.store(NOW, Ordering::SeqCst);
        assert_eq!(s.token().expect("token").issued_at(), NOW - 30);
        assert_eq!(s.minted_count(), 3);

        // mint() bypasses the cache.
        let fresh = s.mint().expect("mint");
        assert_eq!(s.minted_count(), 4);
        assert_eq!(s.token().expect("token").issued_at(), NOW - 30);
        assert_eq!(fresh.issued_at(), NOW - 30);
    }

    #[test]
    fn decodes_with_jsonwebtoken_too() {
        let key = rsa_key();
        let cert = cert_for(&key);
        let s = JwtSigner::builder(cert.clone(), key.serialize_pem())
            .issuer("Acme")
            .build()
            .expect("signer");
        let jwt = s.token().expect("token");
        let public = openssl("x509 -pubkey -noout", cert.as_bytes());
        let dk = jsonwebtoken::DecodingKey::from_rsa_pem(&public).expect("public key");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        v.set_issuer(&["Acme"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(jwt.expose(), &dk, &v)
            .expect("jsonwebtoken accepts it");
        assert_eq!(data.header.kid.as_deref(), Some("M2M"));
        assert_eq!(data.claims["startLogon"], serde_json::Value::Null);
    }

    #[test]
    fn start_logon_is_null_unless_set_or_asked_for_as_empty() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        let cert = cert_for(&key);
        let claims = |b: JwtSignerBuilder| -> serde_json::Value {
            let jwt = b
                .issuer("Acme")
                .build()
                .expect("signer")
                .mint()
                .expect("jwt");
            serde_json::from_slice(&b64(jwt.expose().split('.').nth(1).expect("claims")))
                .expect("json")
        };
        let base = || JwtSigner::builder(cert.clone(), key.serialize_pem());
        assert_eq!(claims(base())["startLogon"], serde_json::Value::Null);
        assert_eq!(
            claims(base().start_logon(""))["startLogon"],
            serde_json::Value::Null
        );
        assert_eq!(
            claims(base().unset_start_logon(UnsetStartLogon::Empty))["startLogon"],
            ""
        );
        assert_eq!(
            claims(
                base()
                    .start_logon("ops.user")
                    .unset_start_logon(UnsetStartLogon::Empty)
            )["startLogon"],
            "ops.user"
        );
        assert_eq!(
            "empty".parse::<UnsetStartLogon>().ok(),
            Some(UnsetStartLogon::Empty)
        );
        assert_eq!(
            " NULL ".parse::<UnsetStartLogon>().ok(),
            Some(UnsetStartLogon::Null)
        );
        let e = "none".parse::<UnsetStartLogon>().expect_err("bad");
        assert!(e.to_string().contains("auth.unset_start_logon"), "{e}");
    }

    #[test]
    fn lifetimes_up_to_irs_eight_hours() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        let cert = cert_for(&key);
        let build = |secs: u64| {
            JwtSigner::builder(cert.clone(), key.serialize_pem())
                .issuer("Acme")
                .clock(Arc::new(FixedClock(NOW)))
                .ttl(Duration::from_secs(secs))
                .build()
        };
        for ok in [60, 540, 3601, 28_800] {
            let jwt = build(ok).expect("in range").mint().expect("jwt");
            assert_eq!(jwt.expires_at() - jwt.issued_at(), ok as i64);
        }
        for bad in [0, 59, 28_801, 86_400] {
            let e = build(bad).expect_err("out of range");
            assert!(e.to_string().contains("auth.ttl_secs"), "{e}");
            assert!(e.to_string().contains("28800"), "{e}");
        }
        assert_eq!(MAX_TTL, Duration::from_secs(8 * 60 * 60));
        assert_eq!(DEFAULT_TTL, Duration::from_secs(540));
    }

    #[test]
    fn iat_never_precedes_the_certificates_not_before() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
        // A certificate issued ten seconds ago: the 30 s skew margin would put
        // `iat` before it, which IR refuses (EV1026).
        let mut p = CertificateParams::new(vec!["m2m.example".to_owned()]).expect("params");
        let issued = time::OffsetDateTime::from_unix_timestamp(NOW - 10).expect("time");
        p.not_before = issued;
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = p.self_signed(&key).expect("cert").pem();
        let mint = |cert: String| {
            JwtSigner::builder(cert, key.serialize_pem())
                .issuer("Acme")
                .clock(Arc::new(FixedClock(NOW)))
                .build()
                .expect("signer")
                .mint()
                .expect("jwt")
        };
        let jwt = mint(cert);
        assert_eq!(jwt.issued_at(), NOW - 10);
        assert_eq!(jwt.expires_at(), NOW - 10 + 540);
        // An older certificate keeps the usual margin.
        let jwt = mint(cert_for(&key));
        assert_eq!(jwt.issued_at(), NOW - 30);
    }

    #[test]
    fn a_token_refused_for_its_times_is_replaced_by_one_issued_further_back() {
        // RSA signatures are deterministic: within one second, a plain re-mint
        // would send IR the very token it refused.
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa");
        let signer = JwtSigner::builder(cert_for(&key), key.serialize_pem())
            .issuer("Acme")
            .clock(Arc::new(FixedClock(NOW)))
            .build()
            .expect("signer");
        let refused = signer.token().expect("jwt");
        assert_eq!(signer.mint().expect("jwt").expose(), refused.expose());
        let new = signer
            .replace(&refused)
            .expect("replace")
            .expect("a new one");
        assert_ne!(new.expose(), refused.expose());
        assert_eq!(
            new.issued_at(),
            NOW - 30 - 255,
            "(540 - 30) / 2 further back"
        );
        assert_eq!(new.expires_at(), NOW + 255);
        // It is cached: the next call uses it; replacing the refused one again
        // (another thread that saw it refused too) hands it out, unchanged.
        assert_eq!(signer.token().expect("jwt").expose(), new.expose());
        let again = signer
            .replace(&refused)
            .expect("replace")
            .expect("the same");
        assert_eq!(again.expose(), new.expose());
        // The further margin is 5 minutes at most.
        let long = JwtSigner::builder(cert_for(&key), key.serialize_pem())
            .issuer("Acme")
            .clock(Arc::new(FixedClock(NOW)))
            .ttl(Duration::from_secs(8 * 3600))
            .build()
            .expect("signer");
        let t = long.token().expect("jwt");
        let r = long.replace(&t).expect("replace").expect("new");
        assert_eq!(r.issued_at(), NOW - 30 - 300);

        // A certificate issued just now leaves no room to go back: no retry.
        let mut p = CertificateParams::new(vec!["m2m.example".to_owned()]).expect("params");
        p.not_before = time::OffsetDateTime::from_unix_timestamp(NOW).expect("time");
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let fresh = JwtSigner::builder(
            p.self_signed(&key).expect("cert").pem(),
            key.serialize_pem(),
        )
        .issuer("Acme")
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .expect("signer");
        let t = fresh.token().expect("jwt");
        assert!(fresh.replace(&t).expect("replace").is_none());
    }
}

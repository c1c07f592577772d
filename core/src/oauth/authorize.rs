//! Authorisation with PKCE: the state, the verifier and its challenge, the
//! authorize URL, and the redirect that comes back.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Secret;
use crate::error::{Error, ErrorKind};

use super::*;

const STATE_LEN: usize = 43;
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf)
        .map_err(|_| Error::new(ErrorKind::Config, "the system random source failed"))?;
    Ok(buf)
}

/// A random string of IR's allowed state characters (letters and digits).
pub(super) fn random_state() -> Result<String, Error> {
    // Rejection sampling keeps the distribution uniform over 62 characters.
    let mut out = String::with_capacity(STATE_LEN);
    while out.len() < STATE_LEN {
        for b in random_bytes::<64>()? {
            if b < 248 && out.len() < STATE_LEN {
                out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// A PKCE pair: the secret verifier and its S256 challenge.
#[derive(Clone)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier (43 characters of base64url from 32 random bytes).
    pub fn generate() -> Result<Self, Error> {
        let verifier = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        Ok(Self::from_verifier(verifier))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: impl Into<String>) -> Self {
        let verifier = verifier.into();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        Pkce {
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            verifier: Secret::new(verifier),
        }
    }

    /// The `code_verifier`, kept for the exchange.
    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// The `code_challenge` (S256).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .finish()
    }
}

pub(super) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The characters IR allows in `state`: letters, digits and
/// `- . ? , : ' / \ + = $ # _` (no space).
fn is_ir_state_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'?'
                | b','
                | b':'
                | b'\''
                | b'/'
                | b'\\'
                | b'+'
                | b'='
                | b'$'
                | b'#'
                | b'_'
        )
}

pub(super) fn check_state(state: &str) -> Result<(), Error> {
    if state.is_empty() || state.len() >= 200 || !state.bytes().all(is_ir_state_char) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "OAuth state must be 1 to 199 of IR's state characters: letters, digits and \
             - . ? , : ' / \\ + = $ # _ (no space)",
        ));
    }
    Ok(())
}

/// An authorisation in progress: where to send the browser, and what to check
/// when it comes back. `Debug` shows neither the state nor the URL's query.
#[derive(Clone)]
pub struct AuthorizationRequest {
    pub(super) url: String,
    pub(super) state: String,
    pub(super) pkce: Pkce,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("AuthorizationRequest")
            .field("endpoint", &endpoint)
            .field("state", &"<redacted>")
            .field("pkce", &self.pkce)
            .finish()
    }
}

impl AuthorizationRequest {
    /// The URL of IR's authorize endpoint with every parameter.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `state` sent; the redirect back must carry the same.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE pair; its verifier goes to the code exchange.
    pub fn pkce(&self) -> &Pkce {
        &self.pkce
    }

    /// Checks the redirect back (the full URL or just its query) and returns
    /// the authorisation code. A state that does not match, or IR's error
    /// redirect, is a typed error.
    pub fn code_from_redirect(&self, redirect: &str) -> Result<Secret, Error> {
        parse_redirect(redirect, &self.state)
    }
}

/// Checks a redirect back from IR's authorize endpoint against `expected_state`.
pub fn parse_redirect(redirect: &str, expected_state: &str) -> Result<Secret, Error> {
    let query = match redirect.split_once('?') {
        Some((_, q)) => q,
        None => redirect,
    };
    let query = query.split('#').next().unwrap_or_default();
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if state.as_deref() != Some(expected_state) {
        return Err(Error::new(
            ErrorKind::Authentication,
            "OAuth redirect: state does not match the one sent (possible forgery); start again",
        ));
    }
    if let Some(error) = error {
        return Err(oauth_error(&error, description.as_deref(), None, &[]));
    }
    match code {
        Some(c) if !c.is_empty() => Ok(Secret::new(c)),
        _ => Err(Error::new(
            ErrorKind::Authentication,
            "OAuth redirect: no authorisation code",
        )),
    }
}

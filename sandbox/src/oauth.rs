//! IR's OAuth 2.0 server: authorize (no consent screen: the fixture says which
//! myIR logon consents for each client), token (HTTP Basic client
//! authentication, PKCE S256 when the client sends it, single-use codes,
//! rotating single-use refresh tokens), introspect and revoke.
//!
//! As at IR: PKCE is optional (a setting requires it); redirect URIs match
//! exactly (a setting allows any port on a loopback URI); a refresh token sent
//! a second time revokes the whole token set it belongs to, newest access and
//! refresh tokens included; access tokens are long RS512 JWTs (`typ`
//! `at-JWT`, about 1 KB) and refresh tokens about 50 characters that hold a
//! `|`; `invalid_client` is a 400 when no client authentication was sent and a
//! 401 when it was wrong, `invalid_grant` a 401.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use nzpir::{Clock, IrCode};
use serde_json::{Value, json};
use url::{Host, Url};

use crate::body::{self, Body, Resp};
use crate::registry::OAuthClientEntry;
use crate::state::Shared;

/// The one scope IR's PIR service uses.
pub const SCOPE: &str = "MYIR.Services";
/// Authorization codes live this long.
pub const CODE_TTL_SECS: i64 = 600;
/// Access tokens live this long unless the sandbox was told otherwise (8 hours).
pub const ACCESS_TTL_SECS: i64 = 8 * 3600;
/// Refresh tokens live this long (12 months).
pub const REFRESH_TTL_SECS: i64 = 365 * 24 * 3600;

#[derive(Debug)]
struct Code {
    client_id: String,
    redirect_uri: String,
    /// The PKCE S256 challenge, when the client sent one.
    challenge: Option<String>,
    logon: String,
    expires: i64,
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub client_id: String,
    pub logon: String,
    pub iat: i64,
    pub exp: i64,
    /// The token set (one per consent) it belongs to.
    family: u64,
}

#[derive(Debug)]
struct Refresh {
    client_id: String,
    logon: String,
    iat: i64,
    exp: i64,
    /// The access token issued with it (revoked with it).
    access: String,
    /// The token set (one per consent) it belongs to.
    family: u64,
}

#[derive(Debug, Default)]
pub(crate) struct OAuthStore {
    codes: Mutex<HashMap<String, Code>>,
    access: RwLock<HashMap<String, Access>>,
    refresh: Mutex<HashMap<String, Refresh>>,
    /// Refresh tokens already exchanged, by token set: one sent again revokes
    /// its whole set.
    spent: Mutex<HashMap<String, u64>>,
    next_family: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_token() -> String {
    random_b64::<32>()
}

fn random_b64<const N: usize>() -> String {
    let mut b = [0u8; N];
    // aws-lc-rs's generator does not fail in practice; an all-zero token
    // would only ever collide with itself.
    let _ = aws_lc_rs::rand::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A refresh token shaped like IR's: about 50 characters, with a `|`, so that
/// clients' form encoding and log redaction meet one.
fn refresh_token_text() -> String {
    format!("{}|{}", random_b64::<16>(), random_b64::<20>())
}

/// The key the sandbox signs access tokens with (RSA 2048, made once per process).
fn access_token_key() -> Option<&'static aws_lc_rs::signature::RsaKeyPair> {
    static KEY: OnceLock<Option<aws_lc_rs::signature::RsaKeyPair>> = OnceLock::new();
    KEY.get_or_init(|| {
        aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).ok()
    })
    .as_ref()
}

/// An access token shaped like IR's: an RS512-signed JWT with `typ` `at-JWT`,
/// about 1 KB. The sandbox looks tokens up by their text; the signature makes
/// the size and the alphabet real.
fn access_token_text(client_id: &str, logon: &str, now: i64, exp: i64) -> String {
    let header = json!({"alg": "RS512", "typ": "at-JWT", "kid": "nzpir-sandbox-oauth-1"});
    let claims = json!({
        "iss": "https://sandbox.nzpir.test/gateway3/oauth",
        "sub": logon,
        "aud": "https://sandbox.nzpir.test/gateway",
        "client_id": client_id,
        "scope": SCOPE,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "auth_time": now,
        "acr": "urn:ird:myir:password",
        "amr": ["pwd", "otp"],
        "jti": random_b64::<32>(),
        "sid": random_b64::<32>(),
    });
    let mut text = URL_SAFE_NO_PAD.encode(header.to_string());
    text.push('.');
    text.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let Some(key) = access_token_key() else {
        return random_token();
    };
    let mut sig = vec![0; key.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    if key
        .sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA512,
            &rng,
            text.as_bytes(),
            &mut sig,
        )
        .is_err()
    {
        return random_token();
    }
    text.push('.');
    text.push_str(&URL_SAFE_NO_PAD.encode(sig));
    text
}

impl OAuthStore {
    /// The grant behind a bearer token: EV1024 for an unknown or revoked
    /// token, EV1026 for an expired one.
    pub fn access(&self, token: &str, now: i64) -> Result<Access, IrCode> {
        let map = self.access.read().unwrap_or_else(|e| e.into_inner());
        let a = map.get(token).ok_or(IrCode::EV1024)?;
        if a.exp <= now {
            return Err(IrCode::EV1026);
        }
        Ok(a.clone())
    }

    /// A new token set (a consent).
    fn new_family(&self) -> u64 {
        self.next_family.fetch_add(1, Ordering::Relaxed)
    }

    /// Revokes every access and refresh token of a token set.
    fn revoke_family(&self, family: u64) {
        lock(&self.refresh).retain(|_, r| r.family != family);
        self.access
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, a| a.family != family);
    }

    fn issue(
        &self,
        client_id: &str,
        logon: &str,
        now: i64,
        ttl: i64,
        with_refresh: bool,
        family: u64,
    ) -> (String, Option<String>) {
        let access = access_token_text(client_id, logon, now, now + ttl);
        {
            let mut map = self.access.write().unwrap_or_else(|e| e.into_inner());
            if map.len() >= 4096 && map.len().is_power_of_two() {
                map.retain(|_, a| a.exp > now);
            }
            map.insert(
                access.clone(),
                Access {
                    client_id: client_id.to_owned(),
                    logon: logon.to_owned(),
                    iat: now,
                    exp: now + ttl,
                    family,
                },
            );
        }
        let refresh = with_refresh.then(|| {
            let token = refresh_token_text();
            lock(&self.refresh).insert(
                token.clone(),
                Refresh {
                    client_id: client_id.to_owned(),
                    logon: logon.to_owned(),
                    iat: now,
                    exp: now + REFRESH_TTL_SECS,
                    access: access.clone(),
                    family,
                },
            );
            token
        });
        (access, refresh)
    }
}

/// An OAuth error body.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    body::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn no_store(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Query or form parameters; `None` when a parameter is repeated.
fn params(text: &[u8]) -> Option<HashMap<String, String>> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(text) {
        if map.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(map)
}

fn loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Exact match (IR), or, when `any_port`, (RFC 8252) an `http` loopback URI
/// registered without a port matching the same URI on any port.
fn redirect_matches(registered: &str, given: &str, any_port: bool) -> bool {
    if registered == given {
        return true;
    }
    if !any_port {
        return false;
    }
    let (Ok(r), Ok(g)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    r.scheme() == "http"
        && g.scheme() == "http"
        && loopback(r.host())
        && r.host() == g.host()
        && r.port().is_none()
        && r.path() == g.path()
        && r.query() == g.query()
}

fn redirect(to: &str, pairs: &[(&str, &str)]) -> Resp {
    let Ok(mut url) = Url::parse(to) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad redirect_uri",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(r)
}

fn is_pkce_text(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `GET /gateway3/oauth/authorize`.
pub(crate) fn authorize(shared: &Shared, query: Option<&str>) -> Resp {
    let c = &shared.counters;
    c.inc(&c.authorize_requests);
    let Some(p) = params(query.unwrap_or("").as_bytes()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a parameter is repeated",
        );
    };
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client) = get("client_id").and_then(|id| shared.registry.oauth_clients.get(id)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "unknown client_id",
        );
    };
    let any_port = shared.oauth_settings.loopback_redirect_any_port;
    let Some(redirect_uri) = get("redirect_uri").filter(|u| {
        client
            .redirect_uris
            .iter()
            .any(|r| redirect_matches(r, u, any_port))
    }) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is missing or not registered for this client",
        );
    };
    let state = get("state");
    let fail = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        redirect(redirect_uri, &pairs)
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if state.is_some_and(|s| s.chars().count() >= 200) {
        return fail("invalid_request", "state must be under 200 characters");
    }
    if get("scope") != Some(SCOPE) {
        return fail("invalid_scope", "scope must be MYIR.Services");
    }
    // PKCE is optional at IR; when a challenge is sent it must be S256.
    let challenge = get("code_challenge");
    match challenge {
        None if shared.oauth_settings.require_pkce => {
            return fail("invalid_request", "code_challenge is required (PKCE)");
        }
        None => {
            if get("code_challenge_method").is_some() {
                return fail(
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                );
            }
        }
        Some(challenge) => {
            if get("code_challenge_method") != Some("S256") {
                return fail("invalid_request", "code_challenge_method must be S256");
            }
            if challenge.len() != 43 || !is_pkce_text(challenge) {
                return fail("invalid_request", "code_challenge is not a S256 challenge");
            }
        }
    }
    let Some(logon) = &client.logon else {
        return fail("access_denied", "the user did not consent");
    };
    let now = shared.clock.now_unix();
    let code = random_token();
    {
        let mut codes = lock(&shared.oauth.codes);
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            Code {
                client_id: p.get("client_id").cloned().unwrap_or_default(),
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.map(str::to_owned),
                logon: logon.clone(),
                expires: now + CODE_TTL_SECS,
            },
        );
    }
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(redirect_uri, &pairs)
}

/// HTTP Basic client authentication.
fn client_auth<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
) -> Option<(String, &'a OAuthClientEntry)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let try_pair = |id: &str, secret: &str| {
        shared.registry.oauth_clients.get(id).filter(|c| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                c.secret.as_bytes(),
                secret.as_bytes(),
            )
            .is_ok()
        })
    };
    if let Some(c) = try_pair(id, secret) {
        return Some((id.to_owned(), c));
    }
    let (id, secret) = (unescape(id), unescape(secret));
    try_pair(&id, &secret).map(|c| (id.clone(), c))
}

/// `invalid_client`: a 401 when client authentication was sent and failed, a
/// 400 when none was sent (IR's build pack lists both statuses; clients act
/// on the `error` field).
fn invalid_client(headers: &HeaderMap) -> Resp {
    if !headers.contains_key(header::AUTHORIZATION) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client authentication is required",
        );
    }
    let mut r = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"nzpir-sandbox\""),
    );
    r
}

fn invalid_grant(description: &str) -> Resp {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", description)
}

/// The grant type a token request names (for the counters), read leniently.
pub(crate) fn grant_type_of(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
}

/// `POST /gateway3/oauth/token`.
pub(crate) fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Resp {
    no_store(token_inner(shared, headers, body))
}

fn token_inner(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Resp {
    let Some((client_id, client)) = client_auth(shared, headers) else {
        return invalid_client(headers);
    };
    let Some(p) = params(body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a parameter is repeated",
        );
    };
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let now = shared.clock.now_unix();
    let missing = |what: &str| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("{what} is required"),
        )
    };
    let (logon, family) = match get("grant_type") {
        None => return missing("grant_type"),
        Some("authorization_code") => {
            let Some(code) = get("code") else {
                return missing("code");
            };
            let Some(redirect_uri) = get("redirect_uri") else {
                return missing("redirect_uri");
            };
            let verifier = get("code_verifier");
            // Single use: the code is gone whatever happens next.
            let Some(grant) = lock(&shared.oauth.codes).remove(code) else {
                return invalid_grant("the authorization code is unknown or was already used");
            };
            if grant.expires <= now {
                return invalid_grant("the authorization code has expired");
            }
            if grant.client_id != client_id {
                return invalid_grant("the authorization code was issued to another client");
            }
            if grant.redirect_uri != redirect_uri {
                return invalid_grant("redirect_uri does not match the authorization request");
            }
            // A code issued with a challenge needs its verifier; one issued
            // without (PKCE is optional at IR) takes none.
            if let Some(challenge) = &grant.challenge {
                let Some(verifier) = verifier else {
                    return invalid_grant("code_verifier is required: the authorization used PKCE");
                };
                let computed = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    verifier.as_bytes(),
                ));
                let verifier_ok = (43..=128).contains(&verifier.len()) && is_pkce_text(verifier);
                if !verifier_ok || computed != *challenge {
                    return invalid_grant("code_verifier does not match the code_challenge");
                }
            }
            (grant.logon, shared.oauth.new_family())
        }
        Some("refresh_token") => {
            let Some(token) = get("refresh_token") else {
                return missing("refresh_token");
            };
            let mut store = lock(&shared.oauth.refresh);
            if !store.contains_key(token) {
                // A refresh token sent a second time: IR invalidates the whole
                // token set, the newest access and refresh tokens included.
                let replayed = lock(&shared.oauth.spent).get(token).copied();
                drop(store);
                if let Some(family) = replayed {
                    shared.oauth.revoke_family(family);
                    let c = &shared.counters;
                    c.inc(&c.refresh_replays);
                    return invalid_grant(
                        "the refresh token was already used: the whole token set is revoked",
                    );
                }
                return invalid_grant("the refresh token is unknown, revoked or already used");
            }
            match store.get(token) {
                None => {
                    return invalid_grant("the refresh token is unknown, revoked or already used");
                }
                Some(r) if r.client_id != client_id => {
                    return invalid_grant("the refresh token was issued to another client");
                }
                Some(r) if r.exp <= now => {
                    store.remove(token);
                    return invalid_grant("the refresh token has expired");
                }
                Some(_) => {}
            }
            // Rotation: the refresh token is spent, and remembered as such.
            match store.remove(token) {
                Some(r) => {
                    lock(&shared.oauth.spent).insert(token.to_owned(), r.family);
                    (r.logon, r.family)
                }
                None => return invalid_grant("the refresh token is unknown"),
            }
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            );
        }
    };
    let ttl = shared.oauth_settings.access_ttl_secs;
    let (access, refresh) =
        shared
            .oauth
            .issue(&client_id, &logon, now, ttl, client.refresh_tokens, family);
    let expires_in = if shared.oauth_settings.expires_in_as_string {
        Value::String(ttl.to_string())
    } else {
        Value::from(ttl)
    };
    let mut answer = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": SCOPE,
    });
    if let (Some(r), Some(obj)) = (refresh, answer.as_object_mut()) {
        obj.insert("refresh_token".to_owned(), Value::String(r));
    }
    body::json(StatusCode::OK, &answer)
}

/// `POST /gateway3/oauth/introspect`.
pub(crate) fn introspect(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Resp {
    let Some((client_id, _)) = client_auth(shared, headers) else {
        return invalid_client(headers);
    };
    let Some(p) = params(body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a parameter is repeated",
        );
    };
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    let now = shared.clock.now_unix();
    let hint = p.get("token_type_hint").map(String::as_str);
    let access = || {
        let map = shared
            .oauth
            .access
            .read()
            .unwrap_or_else(|e| e.into_inner());
        map.get(token.as_str()).map(|a| {
            (
                a.client_id.clone(),
                a.logon.clone(),
                a.iat,
                a.exp,
                "access_token",
            )
        })
    };
    let refresh = || {
        lock(&shared.oauth.refresh).get(token.as_str()).map(|r| {
            (
                r.client_id.clone(),
                r.logon.clone(),
                r.iat,
                r.exp,
                "refresh_token",
            )
        })
    };
    let found = if hint == Some("refresh_token") {
        refresh().or_else(access)
    } else {
        access().or_else(refresh)
    };
    let answer = match found {
        Some((owner, logon, iat, exp, kind)) if owner == client_id && exp > now => json!({
            "active": true,
            "client_id": owner,
            "username": logon,
            "scope": SCOPE,
            "sub": logon,
            "exp": exp,
            "iat": iat,
            "token_type": kind,
        }),
        _ => json!({"active": false}),
    };
    no_store(body::json(StatusCode::OK, &answer))
}

/// `POST /gateway3/oauth/revoke`.
pub(crate) fn revoke(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Resp {
    let Some((client_id, _)) = client_auth(shared, headers) else {
        return invalid_client(headers);
    };
    let Some(p) = params(body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a parameter is repeated",
        );
    };
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    let other_client = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the token was issued to another client",
        )
    };
    {
        let mut refresh = lock(&shared.oauth.refresh);
        if let Some(r) = refresh.get(token.as_str()) {
            if r.client_id != client_id {
                return other_client();
            }
            if let Some(r) = refresh.remove(token.as_str()) {
                let mut access = shared
                    .oauth
                    .access
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                access.remove(&r.access);
            }
            return body::empty(StatusCode::OK);
        }
    }
    let mut access = shared
        .oauth
        .access
        .write()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(a) = access.get(token.as_str()) {
        if a.client_id != client_id {
            return other_client();
        }
        access.remove(token.as_str());
    }
    body::empty(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_matching() {
        // Exact matching, as IR does, whatever the setting.
        for any_port in [false, true] {
            assert!(redirect_matches(
                "https://a.test/cb",
                "https://a.test/cb",
                any_port
            ));
            assert!(!redirect_matches(
                "https://a.test/cb",
                "https://a.test/cb2",
                any_port
            ));
            assert!(!redirect_matches(
                "http://127.0.0.1/callback",
                "http://127.0.0.2:80/callback",
                any_port
            ));
            assert!(!redirect_matches(
                "http://127.0.0.1/callback",
                "http://127.0.0.1:5/other",
                any_port
            ));
            assert!(!redirect_matches(
                "https://a.test/cb",
                "https://a.test:444/cb",
                any_port
            ));
        }
        // Any port on a loopback URI only when asked for (RFC 8252).
        for (registered, given) in [
            (
                "http://127.0.0.1/callback",
                "http://127.0.0.1:53121/callback",
            ),
            (
                "http://localhost/callback",
                "http://localhost:8080/callback",
            ),
        ] {
            assert!(redirect_matches(registered, given, true));
            assert!(!redirect_matches(registered, given, false));
        }
    }

    #[test]
    fn tokens_are_shaped_like_irs() {
        let access = access_token_text("sandbox-app", "ruru.agent", 1_900_000_000, 1_900_028_800);
        assert!((900..=1400).contains(&access.len()), "{}", access.len());
        let parts: Vec<&str> = access.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "RS512");
        assert_eq!(header["typ"], "at-JWT");
        let refresh = refresh_token_text();
        assert!((45..=60).contains(&refresh.len()), "{}", refresh.len());
        assert_eq!(refresh.matches('|').count(), 1);
        assert_ne!(refresh, refresh_token_text());
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(params(b"a=1&b=2").is_some());
        assert!(params(b"a=1&a=2").is_none());
    }
}

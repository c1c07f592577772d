use super::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Secret;
use crate::error::{Error, ErrorKind};
use crate::validate::Clock;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn oauth_errors_do_not_quote_credentials_back() {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
    let token = "dcoGnmTe3LT2v2XXvu6Twt8ypPx7x2ZcNI8j9GNI0rA";
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"refresh token {token} (from {jwt}) is spent"}}"#
    );
    let e = parse_token_response(400, body.as_bytes(), 0).expect_err("refused");
    let text = e.to_string();
    assert!(!text.contains(token) && !text.contains("eyJ"), "{text}");
    assert!(
        text.starts_with(
            "OAuth invalid_grant: refresh token [redacted] (from [redacted]) is spent"
        ),
        "{text}"
    );
    let e = parse_redirect(&format!("http://x/cb?error={token}&state=s"), "s")
        .expect_err("an error redirect");
    assert_eq!(e.to_string(), "OAuth [redacted]");
    // IR's own wording passes unchanged.
    assert_eq!(
        without_tokens("The refresh token is invalid, expired or revoked."),
        "The refresh token is invalid, expired or revoked."
    );
}

fn cfg() -> OAuthClientConfig {
    OAuthClientConfig {
        base_url: "https://oauth.example.test/".into(),
        client_id: "client-1".into(),
        client_secret: Secret::new("s3cret"),
        redirect_uri: "https://app.example.test/callback".into(),
    }
}

#[test]
fn pkce_s256_matches_rfc7636_example() {
    let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let g = Pkce::generate().expect("random");
    assert_eq!(g.verifier().expose().len(), 43);
    assert_ne!(
        g.verifier().expose(),
        Pkce::generate().expect("random").verifier().expose()
    );
}

#[test]
fn authorize_url_has_every_parameter() {
    let req = cfg().authorization_request().expect("request");
    let url = url::Url::parse(req.url()).expect("url");
    assert_eq!(url.path(), AUTHORIZE_PATH);
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "client-1");
    assert_eq!(q["redirect_uri"], "https://app.example.test/callback");
    assert_eq!(q["scope"], "MYIR.Services");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], req.pkce().challenge());
    assert_eq!(q["state"], req.state());
    assert!(req.state().len() < 200);
    assert!(req.state().bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(!req.url().contains("s3cret"));
    let dbg = format!("{req:?}");
    assert!(!dbg.contains(req.state()), "{dbg}");
    assert!(!dbg.contains(req.pkce().verifier().expose()), "{dbg}");
}

#[test]
fn redirect_checks() {
    let req = cfg()
        .authorization_request_with("abc".into(), Pkce::from_verifier("v"))
        .expect("request");
    let code = req
        .code_from_redirect("https://app.example.test/callback?code=xyz&state=abc")
        .expect("code");
    assert_eq!(code.expose(), "xyz");
    assert_eq!(
        req.code_from_redirect("code=xyz&state=abc")
            .expect("query only")
            .expose(),
        "xyz"
    );
    let e = req
        .code_from_redirect("?code=xyz&state=evil")
        .expect_err("forged");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    let e = req
        .code_from_redirect("?error=access_denied&error_description=User+said+no&state=abc")
        .expect_err("denied");
    assert_eq!(e.kind(), ErrorKind::ConsentRequired);
    assert!(e.to_string().contains("User said no"), "{e}");
    let e = req.code_from_redirect("?state=abc").expect_err("no code");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(
        cfg()
            .authorization_request_with("x".repeat(200), Pkce::from_verifier("v"))
            .is_err()
    );
}

#[test]
fn token_responses() {
    let t = parse_token_response(
        200,
        br#"{"access_token":"a","token_type":"Bearer","expires_in":"28800","scope":"MYIR.Services","refresh_token":"r"}"#,
        1000,
    )
    .expect("string expires_in");
    assert_eq!(t.expires_at, 1000 + 28_800);
    assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("r"));
    let t = parse_token_response(
        200,
        br#"{"access_token":"a","token_type":"bearer","expires_in":60}"#,
        0,
    )
    .expect("numeric expires_in");
    assert_eq!((t.expires_at, t.refresh_token), (60, None));
    let e = parse_token_response(
        401,
        br#"{"error":"invalid_grant","error_description":"used"}"#,
        0,
    )
    .expect_err("invalid_grant");
    assert_eq!(e.kind(), ErrorKind::ConsentRequired);
    assert_eq!(e.http_status(), Some(401));
    let e = parse_token_response(401, br#"{"error":"invalid_client"}"#, 0).expect_err("client");
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = parse_token_response(200, br#"{"access_token":"a","expires_in":"soon"}"#, 0)
        .expect_err("bad");
    assert_eq!(e.kind(), ErrorKind::Server);
    let e = parse_token_response(503, b"<html>", 0).expect_err("5xx");
    assert_eq!(e.kind(), ErrorKind::Server);
}

/// An OAuth server that refuses every call and quotes back, in its error
/// and description, every value it was sent and the client's secret.
struct Echo;

impl FormPost for Echo {
    fn post_form(
        &self,
        _url: &str,
        _basic: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), Error> {
        let sent: Vec<&str> = form.iter().map(|(_, v)| *v).collect();
        let body = serde_json::json!({
            "error": format!("invalid_grant s3cret {}", sent.join(" ")),
            "error_description": format!("bad: {} and s3cret", sent.join(", ")),
        });
        Ok((400, body.to_string().into_bytes()))
    }
}

#[test]
fn short_credentials_quoted_back_are_left_out_too() {
    // Short enough to pass the token-shaped filter: only knowing what
    // was sent keeps them out.
    let client = OAuthClient::new(cfg(), Arc::new(Echo));
    let calls: Vec<(Error, &str)> = vec![
        (
            client
                .exchange_code(&Secret::new("c0de"), &Secret::new("v3rifier"))
                .expect_err("refused"),
            "c0de v3rifier",
        ),
        (
            client
                .refresh(&Secret::new("r3fresh"))
                .expect_err("refused"),
            "r3fresh",
        ),
        (
            client
                .introspect(&Secret::new("acc3ss"), TokenKind::Access)
                .expect_err("refused"),
            "acc3ss",
        ),
        (
            client
                .revoke(&Secret::new("r3voke"), TokenKind::Refresh)
                .expect_err("refused"),
            "r3voke",
        ),
    ];
    for (e, sent) in calls {
        let text = format!("{e} {e:?}");
        assert!(text.starts_with("OAuth invalid_grant"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        for secret in sent.split(' ').chain(["s3cret"]) {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

/// A token endpoint that rotates refresh tokens and counts calls.
struct Rotating {
    calls: AtomicU32,
    delay: std::time::Duration,
    expires_in: i64,
}

fn rotating(delay_ms: u64, expires_in: i64) -> Arc<Rotating> {
    Arc::new(Rotating {
        calls: AtomicU32::new(0),
        delay: std::time::Duration::from_millis(delay_ms),
        expires_in,
    })
}

impl FormPost for Rotating {
    fn post_form(
        &self,
        _url: &str,
        basic: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), Error> {
        assert!(basic.starts_with("Basic "));
        assert!(form.contains(&("grant_type", "refresh_token")));
        std::thread::sleep(self.delay);
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let body = format!(
            r#"{{"access_token":"access-{n}","token_type":"Bearer","expires_in":{},"refresh_token":"refresh-{n}"}}"#,
            self.expires_in
        );
        Ok((200, body.into_bytes()))
    }
}

#[derive(Debug)]
struct Clock0;
impl Clock for Clock0 {
    fn now_unix(&self) -> i64 {
        10_000
    }
}

fn expired() -> TokenSet {
    TokenSet {
        access_token: Secret::new("access-0"),
        refresh_token: Some(Secret::new("refresh-0")),
        expires_at: 9_000,
        scope: None,
    }
}

/// A token source over `http` (the test's token endpoint) and `store`, on
/// the fixed clock.
fn source_over(http: Arc<dyn FormPost>, store: Arc<dyn TokenStore>) -> OAuthTokenSource {
    OAuthTokenSource::new(
        OAuthClient::new(cfg(), http).with_clock(Arc::new(Clock0)),
        store,
    )
}

/// `threads` threads ask `source` for a token at once; each gets `token`.
fn every_thread_gets(source: &Arc<OAuthTokenSource>, threads: usize, token: &str) {
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let s = source.clone();
            std::thread::spawn(move || s.access_token().map(|t| t.expose().to_owned()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread").expect("token"), token);
    }
}

#[test]
fn single_flight_refresh() {
    let http = rotating(50, 3600);
    let store = Arc::new(MemoryTokenStore::with_tokens(expired()));
    let source = Arc::new(source_over(http.clone(), store.clone()));
    every_thread_gets(&source, 16, "access-1");
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    let stored = store.load().expect("load").expect("tokens");
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-1")
    );

    // A 401 on the current token refreshes once; a 401 on an old one does not.
    assert_eq!(
        source
            .on_rejected(&Secret::new("access-1"))
            .expect("refresh")
            .expose(),
        "access-2"
    );
    assert_eq!(
        source
            .on_rejected(&Secret::new("access-1"))
            .expect("no refresh")
            .expose(),
        "access-2"
    );
    assert_eq!(http.calls.load(Ordering::SeqCst), 2);
}

/// A store whose save hands a call into its own source to another thread
/// and waits for it: that call waits for the refresh, which waits for the
/// save. The wait is bounded, so both return.
#[test]
fn a_store_waiting_on_another_threads_call_into_its_client_does_not_hang() {
    #[derive(Debug, Default)]
    struct HandsOff {
        inner: MemoryTokenStore,
        source: Mutex<Option<std::sync::Weak<OAuthTokenSource>>>,
        inner_call: Mutex<Option<Result<String, Error>>>,
    }
    impl TokenStore for HandsOff {
        fn load(&self) -> Result<Option<TokenSet>, Error> {
            self.inner.load()
        }
        fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
            let source = self.source.lock().expect("lock").take();
            if let Some(source) = source.and_then(|w| w.upgrade()) {
                let r = std::thread::spawn(move || source.refresh_now())
                    .join()
                    .expect("thread");
                *self.inner_call.lock().expect("lock") =
                    Some(r.map(|t| t.access_token.expose().to_owned()));
            }
            self.inner.save(tokens)
        }
    }
    let http = rotating(0, 3600);
    let store = Arc::new(HandsOff {
        inner: MemoryTokenStore::with_tokens(expired()),
        ..HandsOff::default()
    });
    let source = Arc::new(
        source_over(http.clone(), store.clone()).with_refresh_wait(Duration::from_millis(300)),
    );
    *store.source.lock().expect("lock") = Some(Arc::downgrade(&source));
    let started = Instant::now();
    let token = source.access_token().expect("the outer refresh completes");
    assert_eq!(token.expose(), "access-1");
    assert!(started.elapsed() < Duration::from_secs(30));
    let inner = store
        .inner_call
        .lock()
        .expect("lock")
        .take()
        .expect("called");
    let e = inner.expect_err("the inner call gave up waiting");
    assert_eq!(e.kind(), ErrorKind::TokenStore);
    assert!(e.to_string().contains("did not finish within 300ms"), "{e}");
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_stored_fresh_token_is_used_without_refreshing() {
    let http = rotating(0, 3600);
    let mut t = expired();
    t.expires_at = 10_000 + 3_600;
    let source = source_over(http.clone(), Arc::new(MemoryTokenStore::with_tokens(t)));
    assert_eq!(source.access_token().expect("token").expose(), "access-0");
    assert_eq!(source.access_token().expect("token").expose(), "access-0");
    assert_eq!(http.calls.load(Ordering::SeqCst), 0);
    // Within the margin before expiry it refreshes.
    let mut soon = expired();
    soon.expires_at = 10_000 + 60;
    let source = source_over(http.clone(), Arc::new(MemoryTokenStore::with_tokens(soon)));
    assert_eq!(source.access_token().expect("token").expose(), "access-1");
}

#[test]
fn refresh_now_rotates_even_a_fresh_token() {
    let http = rotating(0, 3600);
    let mut t = expired();
    t.expires_at = 10_000 + 3_600;
    let store = Arc::new(MemoryTokenStore::with_tokens(t));
    let source = source_over(http.clone(), store.clone());
    assert_eq!(
        source.refresh_now().expect("refresh").access_token.expose(),
        "access-1"
    );
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    let stored = store.load().expect("load").expect("tokens");
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-1")
    );
    // The new token is fresh: using it does not refresh again.
    assert_eq!(source.access_token().expect("token").expose(), "access-1");
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
}

#[derive(Debug)]
struct FailingStore;
impl TokenStore for FailingStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        Ok(Some(expired()))
    }
    fn save(&self, _: &TokenSet) -> Result<(), Error> {
        Err(Error::new(ErrorKind::TokenStore, "disk full"))
    }
}

#[test]
fn new_tokens_are_not_used_before_they_are_stored() {
    let http = rotating(0, 3600);
    let source = source_over(http.clone(), Arc::new(FailingStore));
    let e = source.access_token().expect_err("store fails");
    assert_eq!(e.kind(), ErrorKind::TokenStore);
    // The rotated refresh token is kept in memory, and no second refresh
    // burns it: the next call tries to store it again first.
    let e = source.access_token().expect_err("store still fails");
    assert_eq!(e.kind(), ErrorKind::TokenStore);
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn desktop_mode_without_refresh_token_needs_consent() {
    let mut t = expired();
    t.refresh_token = None;
    let http = rotating(0, 3600);
    let source = source_over(http.clone(), Arc::new(MemoryTokenStore::with_tokens(t)));
    assert_eq!(
        source.access_token().expect_err("expired").kind(),
        ErrorKind::ConsentRequired
    );
    assert_eq!(http.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn short_lived_tokens_are_used_and_refreshed_once() {
    // Tokens that live less than the refresh margin: each is still used
    // for half its life, and 16 threads make one refresh.
    let http = rotating(50, 60);
    let source = Arc::new(source_over(
        http.clone(),
        Arc::new(MemoryTokenStore::with_tokens(expired())),
    ));
    every_thread_gets(&source, 16, "access-1");
    assert_eq!(source.access_token().expect("token").expose(), "access-1");
    assert_eq!(http.calls.load(Ordering::SeqCst), 1);
    // A forced refresh rotates whatever the expiry.
    let t = source.refresh_now().expect("refresh");
    assert_eq!(t.access_token.expose(), "access-2");
    assert_eq!(t.expires_at, 10_000 + 60);
    assert_eq!(http.calls.load(Ordering::SeqCst), 2);
}

#[test]
fn an_authorisation_resumes_from_its_state_and_verifier() {
    let first = cfg().authorization_request().expect("request");
    let again = cfg()
        .resume_authorization(first.state(), first.pkce().verifier().expose())
        .expect("resumed");
    assert_eq!(again.url(), first.url());
    assert_eq!(again.pkce().challenge(), first.pkce().challenge());
    let code = again
        .code_from_redirect(&format!(
            "http://127.0.0.1/cb?code=c1&state={}",
            first.state()
        ))
        .expect("code");
    assert_eq!(code.expose(), "c1");

    for (state, verifier) in [
        ("ok", "short".to_owned()),
        ("ok", "v".repeat(129)),
        ("ok", format!("{}!", "v".repeat(43))),
        ("has space", "v".repeat(43)),
        ("", "v".repeat(43)),
        ("tilde~is-not-irs", "v".repeat(43)),
        ("percent%20", "v".repeat(43)),
        ("ünïcode", "v".repeat(43)),
    ] {
        let e = cfg()
            .resume_authorization(state, verifier.as_str())
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{state:?} {verifier:?}");
        assert!(!e.to_string().contains("vvvv"), "{e}");
    }
    // Every character IR lists is accepted, and survives the round trip
    // through the URL and the redirect back.
    let irs = "aZ09-.?,:'/\\+=$#_";
    let pkce = Pkce::generate().expect("pkce");
    let req = cfg()
        .authorization_request_with(irs.to_owned(), pkce)
        .expect("IR's characters");
    let back = url::Url::parse(req.url()).expect("url");
    let sent = back
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    assert_eq!(sent.as_deref(), Some(irs));
    let mut redirect = url::Url::parse("http://127.0.0.1/cb").expect("url");
    redirect
        .query_pairs_mut()
        .append_pair("code", "c2")
        .append_pair("state", irs);
    assert_eq!(
        req.code_from_redirect(redirect.as_str())
            .expect("state matches")
            .expose(),
        "c2"
    );
    let mut no_redirect = cfg();
    no_redirect.redirect_uri = String::new();
    let e = no_redirect
        .authorization_request()
        .expect_err("no redirect URI");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("`auth.redirect_uri`"), "{e}");
}

/// A token endpoint that answers a code exchange.
struct Exchange(AtomicU32);

impl FormPost for Exchange {
    fn post_form(
        &self,
        _url: &str,
        _basic: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        assert!(form.contains(&("grant_type", "authorization_code")));
        assert!(form.contains(&("code", "the-code")));
        assert!(form.contains(&("redirect_uri", "https://app.example.test/callback")));
        assert!(
            form.iter()
                .any(|(k, v)| *k == "code_verifier" && v.len() == 43)
        );
        Ok((
            200,
            br#"{"access_token":"a1","token_type":"Bearer","expires_in":"28800","refresh_token":"r1"}"#
                .to_vec(),
        ))
    }
}

#[test]
fn completing_an_authorisation_stores_the_grant() {
    let http = Arc::new(Exchange(AtomicU32::new(0)));
    let store = Arc::new(MemoryTokenStore::new());
    let source = source_over(http.clone(), store.clone());
    let req = source.oauth().authorization_request().expect("request");
    // A forged redirect exchanges nothing.
    let e = source
        .complete_authorization(
            &req,
            "https://app.example.test/callback?code=the-code&state=x",
        )
        .expect_err("forged");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(http.0.load(Ordering::SeqCst), 0);
    let t = source
        .complete_authorization(
            &req,
            &format!(
                "https://app.example.test/callback?code=the-code&state={}",
                req.state()
            ),
        )
        .expect("exchange");
    assert_eq!(t.expires_at, 10_000 + 28_800);
    assert_eq!(store.load().expect("load"), Some(t));
    assert_eq!(source.access_token().expect("token").expose(), "a1");
    assert_eq!(http.0.load(Ordering::SeqCst), 1);
}

//! The client against a local HTTPS server with scripted answers: headers and
//! body on the wire, mutual TLS, keep-alive, every answer's mapping, retries
//! (with request counts), timeouts, token refresh and sharing across threads.

mod support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nzpir::{
    AccessToken, Auth, Client, ClientBuilder, Environment, Error, ErrorKind, JwtSigner, PirRequest,
    RetryPolicy, Secret, TokenSource,
};
use support::{Pki, Reply, TestServer};

const IRD: &str = "049091850";
const PIE: &str = "136410132";
const SUGGESTED: &str = r#"{"IRD":"049091850","PieIRD":"136410132","SuggestedPirRate":10.5}"#;

fn request() -> PirRequest {
    PirRequest::builder(IRD).pie_ird(PIE).build()
}

struct Fixture {
    pki: Pki,
    server: TestServer,
}

/// A server that needs a client certificate, and a builder wired to it.
fn mtls(
    handler: impl Fn(usize, &support::Seen) -> Reply + Send + Sync + 'static,
) -> (Fixture, ClientBuilder) {
    let pki = Pki::new();
    let server = TestServer::start(
        &pki.server(&["127.0.0.1", "localhost"]),
        Some(&pki.ca_pem),
        Arc::new(handler),
    );
    let client = pki.client();
    let builder = Client::builder()
        .endpoint(server.url())
        .identity_pem(client.cert_pem.clone(), client.key_pem.clone())
        .add_root_certificate_pem(pki.ca_pem.clone())
        .retry_policy(RetryPolicy::new(2).with_base_delay(Duration::from_millis(5)))
        .no_proxy();
    (Fixture { pki, server }, builder)
}

fn jwt_for(pki: &Pki) -> JwtSigner {
    let signing = pki.client();
    JwtSigner::builder(signing.cert_pem, signing.key_pem)
        .issuer("Acme Funds")
        .build()
        .expect("signer")
}

#[test]
fn lookup_sends_irs_wire_format_over_mutual_tls() {
    let (f, b) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let signer = jwt_for(&f.pki);
    let client = b
        .auth(Auth::Jwt(signer.clone()))
        .user_agent_suffix("python/3.12")
        .build()
        .expect("client");
    let outcome = client.lookup(&request()).expect("lookup");
    assert_eq!(
        outcome.rate().map(|r| r.to_string()).as_deref(),
        Some("10.5")
    );
    assert_eq!(outcome.pie_ird(), Some(PIE));

    let seen = f.server.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/gateway/calculators/pir");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.header("user-agent").map(str::to_owned),
        Some(format!("nzpir/{} python/3.12", nzpir::VERSION))
    );
    // M2M: the bare JWT, no "Bearer".
    let auth = r.header("authorization").expect("authorization");
    assert_eq!(auth, signer.token().expect("jwt").expose());
    assert_eq!(auth.split('.').count(), 3);
    assert_eq!(r.body, br#"{"IRD":"049091850","PieIRD":"136410132"}"#);
}

#[test]
fn connections_are_kept_alive() {
    let (f, b) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let client = b
        .auth(Auth::Bearer(Secret::new("t0k3n")))
        .build()
        .expect("client");
    for _ in 0..25 {
        client.lookup(&request()).expect("lookup");
    }
    client
        .status()
        .expect_err("status answers JSON here, not OK");
    assert_eq!(f.server.request_count(), 26);
    assert_eq!(
        f.server.connections.load(Ordering::SeqCst),
        1,
        "one TLS connection for every call"
    );
    assert_eq!(
        f.server.seen()[0].header("authorization"),
        Some("Bearer t0k3n")
    );
}

#[test]
fn mutual_tls_is_required_by_the_server() {
    let (f, _) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let client = Client::builder()
        .endpoint(f.server.url())
        .add_root_certificate_pem(f.pki.ca_pem.clone())
        .retry_policy(RetryPolicy::none())
        .no_proxy()
        .build()
        .expect("client without identity");
    let e = client
        .lookup(&request())
        .expect_err("no client certificate");
    // Depending on timing the client reads the server's certificate_required
    // alert (a TLS error) or only sees the connection drop; either way it says why.
    assert!(
        matches!(e.kind(), ErrorKind::Tls | ErrorKind::Transport),
        "{e}"
    );
    assert!(e.to_string().contains("client certificate"), "{e}");
    assert!(e.to_string().contains("tls.client_cert"), "{e}");
    assert_eq!(f.server.request_count(), 0);
}

#[test]
fn unknown_issuer_is_refused() {
    let (f, _) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let other = Pki::new();
    let id = other.client();
    let client = Client::builder()
        .endpoint(f.server.url())
        .identity_pem(id.cert_pem, id.key_pem)
        .retry_policy(RetryPolicy::none())
        .no_proxy()
        .build()
        .expect("client");
    let e = client.status().expect_err("server CA not trusted");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.to_string().contains("unknown issuer"), "{e}");
    assert!(!e.is_retryable());
}

#[test]
fn status_endpoint() {
    let (f, b) = mtls(|_, r| {
        if r.path == "/gateway/calculators/status" && r.method == "GET" {
            Reply::text(200, "OK")
        } else {
            Reply::text(404, "")
        }
    });
    b.build().expect("client").status().expect("status OK");
    assert_eq!(f.server.request_count(), 1);
    assert_eq!(f.server.seen()[0].header("authorization"), None);
}

/// Every kind of answer, with how many requests the server saw.
#[test]
fn answers_map_to_typed_errors_and_only_transient_ones_are_retried() {
    struct Case {
        name: &'static str,
        script: Vec<fn() -> Reply>,
        kind: Option<ErrorKind>,
        code: Option<&'static str>,
        status: Option<u16>,
        requests: usize,
    }
    let cases = vec![
        Case {
            name: "not found",
            script: vec![|| Reply::json(200, r#"{"IRD":"049091850","PirRateNotFound":true}"#)],
            kind: None,
            code: None,
            status: None,
            requests: 1,
        },
        Case {
            name: "EV1100",
            script: vec![|| Reply::ir_error(400, "EV1100")],
            kind: Some(ErrorKind::Rejected),
            code: Some("EV1100"),
            status: Some(400),
            requests: 1,
        },
        Case {
            name: "PIR101",
            script: vec![|| Reply::ir_error(400, "PIR101")],
            kind: Some(ErrorKind::Rejected),
            code: Some("PIR101"),
            status: Some(400),
            requests: 1,
        },
        Case {
            name: "EV1042",
            script: vec![|| Reply::ir_error(401, "EV1042")],
            kind: Some(ErrorKind::Authorisation),
            code: Some("EV1042"),
            status: Some(401),
            requests: 1,
        },
        Case {
            name: "EV1028",
            script: vec![|| Reply::ir_error(401, "EV1028")],
            kind: Some(ErrorKind::Authentication),
            code: Some("EV1028"),
            status: Some(401),
            requests: 1,
        },
        Case {
            name: "IR003",
            script: vec![|| Reply::ir_error(401, "IR003")],
            kind: Some(ErrorKind::RateLimited),
            code: Some("IR003"),
            status: Some(401),
            requests: 1,
        },
        Case {
            name: "404",
            script: vec![|| Reply::text(404, "")],
            kind: Some(ErrorKind::Rejected),
            code: None,
            status: Some(404),
            requests: 1,
        },
        Case {
            name: "405",
            script: vec![|| Reply::text(405, "")],
            kind: Some(ErrorKind::Rejected),
            code: None,
            status: Some(405),
            requests: 1,
        },
        Case {
            name: "500 without IR body",
            script: vec![|| Reply::text(500, "oops")],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(500),
            requests: 1,
        },
        Case {
            name: "malformed 200",
            script: vec![|| Reply::json(200, "<html>")],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(200),
            requests: 1,
        },
        Case {
            name: "truncated 200",
            script: vec![|| Reply::Truncated {
                status: 200,
                body: SUGGESTED.as_bytes()[..20].to_vec(),
                claimed: SUGGESTED.len(),
            }],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(200),
            requests: 1,
        },
        Case {
            // IR processed it (and counts it): not sent again.
            name: "PIR150 once",
            script: vec![|| Reply::ir_error(500, "PIR150")],
            kind: Some(ErrorKind::Server),
            code: Some("PIR150"),
            status: Some(500),
            requests: 1,
        },
        Case {
            name: "503 x3",
            script: vec![|| Reply::text(503, "")],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(503),
            requests: 3,
        },
        Case {
            // The gateway may have passed it on: not sent again.
            name: "502 once",
            script: vec![|| Reply::text(502, ""), || Reply::json(200, SUGGESTED)],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(502),
            requests: 1,
        },
        Case {
            name: "503, 429, 200 (refused before processing: retried)",
            script: vec![|| Reply::text(503, ""), || Reply::text(429, ""), || {
                Reply::json(200, SUGGESTED)
            }],
            kind: None,
            code: None,
            status: None,
            requests: 3,
        },
        Case {
            // Closed after the request was sent: IR may have it. Not sent again.
            name: "closed then 200",
            script: vec![|| Reply::Close, || Reply::json(200, SUGGESTED)],
            kind: Some(ErrorKind::Transport),
            code: None,
            status: None,
            requests: 1,
        },
        Case {
            name: "504 once",
            script: vec![|| Reply::text(504, "")],
            kind: Some(ErrorKind::Server),
            code: None,
            status: Some(504),
            requests: 1,
        },
    ];
    for case in cases {
        let script = case.script.clone();
        let (f, b) = mtls(move |i, _| (script[i.min(script.len() - 1)])());
        let client = b.build().expect("client");
        let result = client.lookup(&request());
        match (case.kind, result) {
            (None, Ok(_)) => {}
            (Some(kind), Err(e)) => {
                assert_eq!(e.kind(), kind, "{}: {e}", case.name);
                assert_eq!(e.ir_code().map(|c| c.as_str()), case.code, "{}", case.name);
                assert_eq!(e.http_status(), case.status, "{}", case.name);
                assert_eq!(e.attempts() as usize, case.requests, "{}", case.name);
                assert!(!e.to_string().contains(IRD), "{}: {e}", case.name);
            }
            (want, got) => panic!("{}: wanted {want:?}, got {got:?}", case.name),
        }
        assert_eq!(
            f.server.request_count(),
            case.requests,
            "{}: requests seen by the server",
            case.name
        );
    }
}

#[test]
fn retry_after_is_honoured_within_the_cap() {
    let (f, b) = mtls(|i, _| {
        if i == 0 {
            Reply::Http {
                status: 503,
                body: Vec::new(),
                headers: vec![("Retry-After".into(), "1".into())],
            }
        } else {
            Reply::json(200, SUGGESTED)
        }
    });
    let client = b.build().expect("client");
    let t = Instant::now();
    client.lookup(&request()).expect("second attempt succeeds");
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(f.server.request_count(), 2);
}

#[test]
fn local_validation_sends_nothing() {
    let (f, b) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let client = b.build().expect("client");
    let bad = PirRequest::builder("136410133").build();
    let e = client.lookup(&bad).expect_err("modulus 11");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.attempts(), 0);
    assert!(!e.to_string().contains("136410133"), "{e}");
    assert_eq!(f.server.request_count(), 0);
    // IR's mock uses IRD numbers that fail modulus 11: the switch lets them through.
    let (f2, b2) = mtls(|_, _| Reply::json(200, r#"{"IRD":"136410133","PirRateNotFound":true}"#));
    let lenient = b2.validate_locally(false).build().expect("client");
    assert!(lenient.lookup(&bad).expect("sent").is_not_found());
    assert_eq!(f2.server.request_count(), 1);
}

#[test]
fn a_server_that_never_answers_times_out() {
    // TCP accepts (the kernel does), TLS never starts: the connect timeout fires.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let client = Client::builder()
        .endpoint(format!("https://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy::none())
        .no_proxy()
        .build()
        .expect("client");
    let t = Instant::now();
    let e = client.status().expect_err("timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert!(
        t.elapsed() >= Duration::from_millis(450),
        "took {:?}",
        t.elapsed()
    );
    drop(listener);

    // TLS and the request go through, the answer never comes: the overall
    // timeout fires. IR may still be processing (and counting) the lookup,
    // so it is not sent again, retries allowed or not.
    let (f, b) = mtls(|_, _| Reply::Hang);
    let client = b
        .timeout(Duration::from_millis(400))
        .max_retries(1)
        .build()
        .expect("client");
    let t = Instant::now();
    let e = client.lookup(&request()).expect_err("timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert_eq!(e.attempts(), 1);
    assert!(!e.request_not_sent());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(f.server.request_count(), 1);
}

#[test]
fn connection_refused_is_a_retried_transport_error() {
    let port = support::free_port();
    let client = Client::builder()
        .endpoint(format!("https://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::new(2).with_base_delay(Duration::from_millis(1)))
        .no_proxy()
        .build()
        .expect("client");
    let e = client.status().expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(e.attempts(), 3);
    assert!(e.to_string().contains("refused"), "{e}");
}

#[derive(Debug)]
struct Rotating {
    current: Mutex<AccessToken>,
    issued: AtomicUsize,
    rejected: AtomicUsize,
}

impl TokenSource for Rotating {
    fn access_token(&self) -> Result<AccessToken, Error> {
        Ok(self.current.lock().expect("lock").clone())
    }
    fn token_rejected(&self, rejected: &AccessToken) -> Result<bool, Error> {
        self.rejected.fetch_add(1, Ordering::SeqCst);
        let mut cur = self.current.lock().expect("lock");
        if cur.same_as(rejected) {
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            *cur = AccessToken::new(format!("token-{n}"));
        }
        Ok(true)
    }
}

#[test]
fn a_rejected_oauth_token_is_refreshed_once() {
    let (f, b) = mtls(|_, r| {
        if r.header("authorization") == Some("Bearer token-1") {
            Reply::json(200, SUGGESTED)
        } else {
            Reply::ir_error(401, "EV1026")
        }
    });
    let source = Arc::new(Rotating {
        current: Mutex::new(AccessToken::new("token-0")),
        issued: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let client = b
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    client.lookup(&request()).expect("refreshed and retried");
    assert_eq!(f.server.request_count(), 2);
    assert_eq!(source.rejected.load(Ordering::SeqCst), 1);
    // The refreshed token is reused on the next call.
    client.lookup(&request()).expect("lookup");
    assert_eq!(f.server.request_count(), 3);

    // When every token is refused, exactly one refresh is tried per call.
    let (f, b) = mtls(|_, _| Reply::ir_error(401, "EV1024"));
    let source = Arc::new(Rotating {
        current: Mutex::new(AccessToken::new("token-0")),
        issued: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let client = b
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    let e = client.lookup(&request()).expect_err("401");
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(f.server.request_count(), 2);
    assert_eq!(source.rejected.load(Ordering::SeqCst), 1);
    assert!(!e.to_string().contains("token-"), "{e}");

    // Authorisation failures and IR003 are not a token problem: no refresh.
    let (f, b) = mtls(|_, _| Reply::ir_error(401, "EV1041"));
    let source = Arc::new(Rotating {
        current: Mutex::new(AccessToken::new("token-0")),
        issued: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let client = b
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    assert_eq!(
        client.lookup(&request()).expect_err("401").kind(),
        ErrorKind::Authorisation
    );
    assert_eq!(f.server.request_count(), 1);
    assert_eq!(source.rejected.load(Ordering::SeqCst), 0);
}

#[test]
fn sixteen_threads_share_one_client() {
    let (f, b) = mtls(|_, r| {
        // Echo the IRD the request carried so each thread can check its own answer.
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        Reply::json(
            200,
            &format!(
                r#"{{"IRD":"{}","SuggestedPirRate":28}}"#,
                body["IRD"].as_str().expect("IRD")
            ),
        )
    });
    let signer = jwt_for(&f.pki);
    let client = b.auth(Auth::Jwt(signer.clone())).build().expect("client");
    let irds = ["049091850", "035901981", "049098576", "136410132"];
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let ird = irds[t % irds.len()];
                    let out = client
                        .lookup(&PirRequest::builder(ird).build())
                        .expect("lookup");
                    assert_eq!(out.ird(), ird);
                    assert_eq!(out.rate().map(|r| r.hundredths()), Some(2800));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(f.server.request_count(), 400);
    assert_eq!(signer.minted_count(), 1, "one JWT for every thread");
    let conns = f.server.connections.load(Ordering::SeqCst);
    assert!(conns <= 16, "{conns} connections for 16 threads");
    let jwts: std::collections::HashSet<String> = f
        .server
        .seen()
        .iter()
        .filter_map(|s| s.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(jwts.len(), 1);
}

#[test]
fn config_file_end_to_end() {
    let (f, _) = mtls(|_, _| Reply::json(200, SUGGESTED));
    let id = f.pki.client();
    let signing = f.pki.client();
    f.pki.write("client.pem", &id.cert_pem);
    f.pki.write("client.key", &id.key_pem);
    f.pki.write("ca.pem", &f.pki.ca_pem);
    f.pki.write("jwt.pem", &signing.cert_pem);
    f.pki.write("jwt.key", &signing.key_pem);
    let cfg = f.pki.write(
        "nzpir.toml",
        &format!(
            r#"
environment = "sandbox"
endpoint = "{}"
timeout_secs = 5
max_retries = 0

[tls]
client_cert = "client.pem"
client_key = "client.key"
ca_cert = "ca.pem"

[auth]
type = "jwt"
cert = "jwt.pem"
key = "jwt.key"
alg = "ES256"
issuer = "Acme Funds"
"#,
            f.server.url()
        ),
    );
    let client = Client::from_config_file(&cfg).expect("client from file");
    client.lookup(&request()).expect("lookup");
    let jwt = f.server.seen()[0]
        .header("authorization")
        .expect("jwt")
        .to_owned();
    assert_eq!(jwt.split('.').count(), 3);
    let dbg = format!("{client:?}");
    assert!(!dbg.contains(&jwt) && !dbg.contains("PRIVATE KEY"), "{dbg}");

    // The sandbox environment needs a client identity.
    let cfg = nzpir::Config::from_toml_str(&format!(
        "environment = \"sandbox\"\nendpoint = \"{}\"",
        f.server.url()
    ))
    .expect("toml");
    let e = Client::from_config(&cfg).expect_err("no identity");
    assert!(e.to_string().contains("tls.client_cert"), "{e}");
    let _ = Environment::Sandbox;
}

#[test]
fn oauth_from_config_refreshes_through_the_client_and_rotates_the_store() {
    // One server plays both IR's OAuth token endpoint and the gateway.
    let (f, _) = mtls(|_, r| match r.path.as_str() {
        "/gateway3/oauth/token" => {
            let form = String::from_utf8_lossy(&r.body).into_owned();
            if r.header("authorization") == Some("Basic Y2xpZW50OnNlY3JldA==")
                && form.contains("grant_type=refresh_token")
                && form.contains("refresh_token=refresh-1")
            {
                Reply::json(
                    200,
                    r#"{"access_token":"access-2","token_type":"Bearer","expires_in":"28800","scope":"MYIR.Services","refresh_token":"refresh-2"}"#,
                )
            } else {
                Reply::json(401, r#"{"error":"invalid_grant"}"#)
            }
        }
        "/gateway/calculators/pir" if r.header("authorization") == Some("Bearer access-2") => {
            Reply::json(200, SUGGESTED)
        }
        _ => Reply::ir_error(401, "EV1024"),
    });
    let id = f.pki.client();
    f.pki.write("client.pem", &id.cert_pem);
    f.pki.write("client.key", &id.key_pem);
    f.pki.write("ca.pem", &f.pki.ca_pem);
    // An access token that expired long ago, and a refresh token.
    let store = f.pki.dir.path().join("tokens.json");
    {
        use nzpir::oauth::{FileTokenStore, TokenSet, TokenStore};
        FileTokenStore::new(&store)
            .save(&TokenSet {
                access_token: Secret::new("access-1"),
                refresh_token: Some(Secret::new("refresh-1")),
                expires_at: 1000,
                scope: None,
            })
            .expect("store");
    }
    let cfg = f.pki.write(
        "nzpir.toml",
        &format!(
            r#"
endpoint = "{url}"
max_retries = 0
[tls]
client_cert = "client.pem"
client_key = "client.key"
ca_cert = "ca.pem"
[auth]
type = "oauth"
client_id = "client"
client_secret = "secret"
endpoint = "{url}"
token_store = "tokens.json"
"#,
            url = f.server.url()
        ),
    );
    let client = Client::from_config_file(&cfg).expect("client");
    client.lookup(&request()).expect("lookup after refresh");
    let paths: Vec<String> = f.server.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/gateway3/oauth/token", "/gateway/calculators/pir"]);
    let stored = std::fs::read_to_string(&store).expect("store");
    assert!(
        stored.contains("refresh-2") && stored.contains("access-2"),
        "rotated: {stored}"
    );
    // The refreshed token is reused.
    client.lookup(&request()).expect("lookup");
    assert_eq!(f.server.request_count(), 3);
    assert!(!format!("{client:?}").contains("access-2"));
}

#[test]
fn oauth_with_a_host_token_store_exchanges_refreshes_and_stores_every_rotation() {
    use nzpir::oauth::{MemoryTokenStore, TokenStore};
    // One server plays IR's token endpoint (a code, then rotating refresh
    // tokens) and the gateway.
    let (f, _) = mtls(|_, r| match r.path.as_str() {
        "/gateway3/oauth/token" => {
            let form = String::from_utf8_lossy(&r.body).into_owned();
            let answer = |n: u32| {
                Reply::json(
                    200,
                    &format!(
                        r#"{{"access_token":"access-{n}","token_type":"Bearer","expires_in":28800,"refresh_token":"refresh-{n}"}}"#
                    ),
                )
            };
            if form.contains("grant_type=authorization_code")
                && form.contains("code=the-code")
                && form.contains("code_verifier=")
            {
                answer(1)
            } else if form.contains("grant_type=refresh_token")
                && form.contains("refresh_token=refresh-1")
            {
                answer(2)
            } else {
                Reply::json(401, r#"{"error":"invalid_grant"}"#)
            }
        }
        "/gateway/calculators/pir" if r.header("authorization") == Some("Bearer access-2") => {
            Reply::json(200, SUGGESTED)
        }
        _ => Reply::ir_error(401, "EV1024"),
    });
    let id = f.pki.client();
    let cfg = nzpir::Config::from_json_str(
        &serde_json::json!({
            "endpoint": f.server.url(),
            "max_retries": 0,
            "tls": {
                "client_cert_pem": id.cert_pem,
                "client_key_pem": id.key_pem,
                "ca_cert_pem": f.pki.ca_pem,
            },
            "auth": {
                "type": "oauth",
                "client_id": "client",
                "client_secret": "secret",
                "redirect_uri": "http://127.0.0.1/callback",
                "endpoint": f.server.url(),
            },
        })
        .to_string(),
    )
    .expect("config");
    let store = Arc::new(MemoryTokenStore::new());
    let client = ClientBuilder::from_config(&cfg)
        .expect("builder")
        .token_store(store.clone())
        .build()
        .expect("client");
    let oauth = client.oauth().expect("an OAuth client");

    // Nothing stored yet: a person must authorise first.
    assert_eq!(
        client.lookup(&request()).expect_err("no grant").kind(),
        ErrorKind::ConsentRequired
    );
    let auth = oauth
        .oauth()
        .authorization_request()
        .expect("authorize URL");
    let code = auth
        .code_from_redirect(&format!(
            "http://127.0.0.1/callback?code=the-code&state={}",
            auth.state()
        ))
        .expect("code");
    let tokens = oauth
        .oauth()
        .exchange_code(&code, auth.pkce().verifier())
        .expect("exchange");
    oauth.install(tokens).expect("install");
    assert_eq!(
        store
            .load()
            .expect("load")
            .and_then(|t| t.refresh_token)
            .map(|r| r.expose().to_owned())
            .as_deref(),
        Some("refresh-1")
    );

    // access-1 is refused by this gateway; a forced refresh rotates to refresh-2,
    // stored before it is used.
    assert_eq!(
        oauth.refresh_now().expect("refresh").access_token.expose(),
        "access-2"
    );
    assert_eq!(
        store
            .load()
            .expect("load")
            .and_then(|t| t.refresh_token)
            .map(|r| r.expose().to_owned())
            .as_deref(),
        Some("refresh-2")
    );
    client.lookup(&request()).expect("lookup with access-2");
}

#[test]
fn oauth_with_a_store_of_the_callers_own() {
    use nzpir::oauth::{MemoryTokenStore, TokenSet, TokenStore};
    let (f, _) = mtls(|_, r| match r.path.as_str() {
        "/gateway3/oauth/token" => {
            let form = String::from_utf8_lossy(&r.body).into_owned();
            if form.contains("grant_type=refresh_token") && form.contains("refresh_token=refresh-1")
            {
                Reply::json(
                    200,
                    r#"{"access_token":"access-2","token_type":"Bearer","expires_in":28800,"refresh_token":"refresh-2"}"#,
                )
            } else {
                Reply::json(401, r#"{"error":"invalid_grant"}"#)
            }
        }
        "/gateway/calculators/pir" if r.header("authorization") == Some("Bearer access-2") => {
            Reply::json(200, SUGGESTED)
        }
        _ => Reply::ir_error(401, "EV1024"),
    });
    let id = f.pki.client();
    f.pki.write("client.pem", &id.cert_pem);
    f.pki.write("client.key", &id.key_pem);
    f.pki.write("ca.pem", &f.pki.ca_pem);
    // No `token_store` file: the store comes from the caller.
    let cfg = f.pki.write(
        "nzpir.toml",
        &format!(
            r#"
endpoint = "{url}"
max_retries = 0
[tls]
client_cert = "client.pem"
client_key = "client.key"
ca_cert = "ca.pem"
[auth]
type = "oauth"
client_id = "client"
client_secret = "secret"
redirect_uri = "http://127.0.0.1/callback"
endpoint = "{url}"
"#,
            url = f.server.url()
        ),
    );
    let cfg = nzpir::Config::from_file(&cfg).expect("config");
    let e = Client::from_config(&cfg).expect_err("no store at all");
    assert!(e.to_string().contains("auth.token_store"), "{e}");

    let store = Arc::new(MemoryTokenStore::with_tokens(TokenSet {
        access_token: Secret::new("access-1"),
        refresh_token: Some(Secret::new("refresh-1")),
        expires_at: i64::MAX / 2,
        scope: None,
    }));
    let client = ClientBuilder::from_config(&cfg)
        .expect("builder")
        .token_store(store.clone())
        .build()
        .expect("client");
    let oauth = client.oauth().expect("an OAuth client");
    let url = oauth
        .oauth()
        .authorization_request()
        .expect("authorize URL");
    assert!(
        url.url()
            .contains("redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback")
    );
    // The stored set is read through the caller's store, and a forced refresh
    // (although access-1 has not expired) rotates it there.
    let now = oauth.tokens().expect("tokens").expect("some");
    assert_eq!(now.access_token.expose(), "access-1");
    let fresh = oauth.refresh_now().expect("refresh");
    assert_eq!(fresh.access_token.expose(), "access-2");
    let saved = store.load().expect("load").expect("saved");
    assert_eq!(
        saved.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-2")
    );
    client
        .lookup(&request())
        .expect("lookup with the refreshed token");
    assert_eq!(f.server.request_count(), 2);
    // A client without OAuth settings has no token source.
    let plain = Client::builder()
        .endpoint(f.server.url())
        .build()
        .expect("plain");
    assert!(plain.oauth().is_none());
}

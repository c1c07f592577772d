//! The client's hot paths.
//!
//! - `jwt/*`: a cached token (what every lookup uses) against minting a fresh
//!   one with the pre-parsed key, and against `jsonwebtoken::encode`, which
//!   re-parses the RSA key on every call.
//! - `lookup/*`: lookups over one kept-alive mutual-TLS connection to a local
//!   HTTPS server, through `Client::lookup` and through a hand-written ureq loop
//!   with a pre-built JWT header (the baseline the client must stay within 5 % of).
//! - `sandbox/*`: lookups against the sandbox (`strict` profile, IR003 off,
//!   the ready `nzpir.toml`: mutual TLS with P-384 certificates, RS256 JWT),
//!   over one kept-alive connection and with a new connection (a full TLS
//!   handshake) for every lookup. The sandbox's connection counter is checked
//!   afterwards.
//!
//! Run: `cargo bench -p nzpir --bench client` (about two minutes; add
//! `-- sandbox` for the sandbox group alone).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nzpir::{Auth, Client, ClientBuilder, Config, JwtSigner, PirRequest, PirResponse, RetryPolicy};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use rcgen::{CertificateParams, KeyPair};
use support::{Pki, Reply, TestServer};

fn self_signed(key: &KeyPair) -> String {
    let mut p = CertificateParams::new(vec!["m2m.example".to_owned()]).expect("params");
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2099, 1, 1);
    p.self_signed(key).expect("cert").pem()
}

fn jwt(c: &mut Criterion) {
    let rsa =
        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).expect("rsa");
    let ec = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256");
    let mut g = c.benchmark_group("jwt");
    g.throughput(Throughput::Elements(1));
    for (name, key) in [("RS256", &rsa), ("ES256", &ec)] {
        let signer = JwtSigner::builder(self_signed(key), key.serialize_pem())
            .issuer("Acme Funds")
            .build()
            .expect("signer");
        g.bench_function(format!("{name}/cached"), |b| {
            b.iter(|| black_box(signer.token().expect("token")))
        });
        g.bench_function(format!("{name}/fresh"), |b| {
            b.iter(|| black_box(signer.mint().expect("mint")))
        });
    }
    // The reference: jsonwebtoken parses the PEM key on every encode.
    let header = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some("M2M".to_owned());
        h
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(rsa.serialize_pem().as_bytes()).expect("key");
    let claims =
        serde_json::json!({"iss":"Acme Funds","sub":"AB","startLogon":"","iat":1,"exp":541});
    g.bench_function("RS256/jsonwebtoken_encode", |b| {
        b.iter(|| black_box(jsonwebtoken::encode(&header, &claims, &key).expect("encode")))
    });
    g.finish();
}

const ANSWER: &str = r#"{"IRD":"049091850","PieIRD":"136410132","SuggestedPirRate":10.5}"#;

fn lookup(c: &mut Criterion) {
    let pki = Pki::new();
    let server = TestServer::start(
        &pki.server(&["127.0.0.1"]),
        Some(&pki.ca_pem),
        Arc::new(|_, _| Reply::json(200, ANSWER)),
    );
    let id = pki.client();
    let signing = pki.client();
    let signer = JwtSigner::builder(signing.cert_pem, signing.key_pem)
        .issuer("Acme Funds")
        .build()
        .expect("signer");
    let req = PirRequest::builder("049091850")
        .pie_ird("136410132")
        .build();

    let client = Client::builder()
        .endpoint(server.url())
        .identity_pem(id.cert_pem.clone(), id.key_pem.clone())
        .add_root_certificate_pem(pki.ca_pem.clone())
        .auth(Auth::Jwt(signer.clone()))
        .retry_policy(RetryPolicy::none())
        .no_proxy()
        .build()
        .expect("client");

    // The hand-written loop: same agent settings, a JWT minted once, the body built once.
    let agent = {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(nzpir::tls::crypto_provider())
            .root_certs(RootCerts::new_with_certs(&[Certificate::from_pem(
                pki.ca_pem.as_bytes(),
            )
            .expect("ca")]))
            .client_cert(Some(ClientCert::new_with_certs(
                &[Certificate::from_pem(id.cert_pem.as_bytes()).expect("cert")],
                PrivateKey::from_pem(id.key_pem.as_bytes()).expect("key"),
            )))
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .proxy(None)
            .build()
            .new_agent()
    };
    let url = format!("{}/gateway/calculators/pir", server.url());
    let token = signer.token().expect("token").expose().to_owned();
    let body = req.to_json();

    // The client's own per-call work, without the network: local validation,
    // encoding the body and fetching the cached JWT header.
    c.bench_function("lookup_overhead/validate_encode_token", |b| {
        b.iter(|| {
            req.validate().expect("valid");
            black_box(req.to_json());
            black_box(signer.token().expect("token"));
        })
    });

    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("client", |b| {
        b.iter(|| black_box(client.lookup(&req).expect("lookup")))
    });
    g.bench_function("hand_written_ureq", |b| {
        b.iter(|| {
            let mut resp = agent
                .post(&url)
                .header("Authorization", &token)
                .header("Content-Type", "application/json; charset=utf-8")
                .send(&body[..])
                .expect("send");
            let bytes = resp.body_mut().read_to_vec().expect("body");
            black_box(
                PirResponse::parse(&bytes)
                    .expect("parse")
                    .into_outcome()
                    .expect("outcome"),
            )
        })
    });
    g.finish();

    // Paired rounds under the same machine load: the client's rate as a share
    // of the hand-written loop's (the target is at least 95 %).
    let hand = || {
        let mut resp = agent
            .post(&url)
            .header("Authorization", &token)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(&body[..])
            .expect("send");
        let bytes = resp.body_mut().read_to_vec().expect("body");
        black_box(
            PirResponse::parse(&bytes)
                .expect("parse")
                .into_outcome()
                .expect("outcome"),
        );
    };
    let mut ratios = Vec::new();
    for _ in 0..7 {
        let t = std::time::Instant::now();
        for _ in 0..2000 {
            black_box(client.lookup(&req).expect("lookup"));
        }
        let ours = t.elapsed();
        let t = std::time::Instant::now();
        for _ in 0..2000 {
            hand();
        }
        let theirs = t.elapsed();
        ratios.push(theirs.as_secs_f64() / ours.as_secs_f64());
        eprintln!(
            "paired round: client {:.0}/s, hand-written {:.0}/s",
            2000.0 / ours.as_secs_f64(),
            2000.0 / theirs.as_secs_f64()
        );
    }
    ratios.sort_by(f64::total_cmp);
    eprintln!(
        "client / hand-written lookup rate, median of 7 paired rounds: {:.1} %",
        ratios[3] * 100.0
    );
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one connection per loop"
    );
}

fn sandbox(c: &mut Criterion) {
    let sb = Sandbox::start(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(0),
    )
    .expect("sandbox");
    let cfg = Config::from_file(sb.config_path()).expect("nzpir.toml");
    let client = |idle: usize| {
        ClientBuilder::from_config(&cfg)
            .expect("config")
            .retry_policy(RetryPolicy::none())
            .max_idle_connections(idle)
            .build()
            .expect("client")
    };
    let (kept, fresh) = (client(32), client(0));
    // A member of the ready credential's scheme (see the sandbox's README).
    let req = PirRequest::builder("139276507")
        .pie_ird("125000002")
        .build();
    assert!(kept.lookup(&req).expect("lookup").rate().is_some());
    sb.reset_stats();

    let mut g = c.benchmark_group("sandbox");
    g.throughput(Throughput::Elements(1));
    g.sample_size(30);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));
    g.bench_function("lookup_kept_alive", |b| {
        b.iter(|| black_box(kept.lookup(&req).expect("lookup")))
    });
    let stats = sb.stats();
    if stats.pir_requests > 0 {
        assert_eq!(
            stats.connections, 0,
            "every lookup on the connection already open"
        );
    }
    sb.reset_stats();
    g.bench_function("lookup_fresh_connection", |b| {
        b.iter(|| black_box(fresh.lookup(&req).expect("lookup")))
    });
    g.finish();
    let stats = sb.stats();
    assert_eq!(
        stats.connections, stats.pir_requests,
        "a new connection (full handshake) for every lookup"
    );
}

criterion_group!(benches, jwt, lookup, sandbox);
criterion_main!(benches);

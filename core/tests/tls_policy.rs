//! IR's TLS policy against an independent peer, `openssl s_server`: TLS 1.1,
//! CBC-only and static-RSA servers and a certificate for the wrong host are
//! refused with a TLS error that says why; compliant servers are accepted.

mod support;

use std::time::Duration;

use nzpir::{Client, Error, ErrorKind, RetryPolicy};
use support::{Pki, SServer};

struct Peer {
    pki: Pki,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn peer(names: &[&str]) -> Peer {
    let pki = Pki::new();
    let issued = pki.server(names);
    let cert = pki.write("server.pem", &issued.cert_pem);
    let key = pki.write("server.key", &issued.key_pem);
    Peer { pki, cert, key }
}

/// A peer with an RSA server certificate, for the static-RSA and ECDHE-RSA cases.
fn rsa_peer() -> Peer {
    let pki = Pki::new();
    let issued = pki.server_rsa(&["127.0.0.1"]);
    let cert = pki.write("server.pem", &issued.cert_pem);
    let key = pki.write("server.key", &issued.key_pem);
    Peer { pki, cert, key }
}

fn probe(url: &str, ca_pem: &[u8]) -> Result<(), Error> {
    Client::builder()
        .endpoint(url)
        .add_root_certificate_pem(ca_pem.to_vec())
        .retry_policy(RetryPolicy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("client")
        .status()
}

fn assert_tls_refusal(result: Result<(), Error>, says: &[&str]) {
    let e = result.expect_err("the handshake must fail");
    eprintln!("refused as expected: {e}");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(!e.is_retryable(), "{e}");
    let msg = e.to_string();
    for s in says {
        assert!(msg.contains(s), "expected {s:?} in: {msg}");
    }
}

#[test]
fn tls_1_1_only_server_is_refused() {
    let p = peer(&["127.0.0.1"]);
    // OpenSSL 3 keeps TLS 1.1 only at security level 0.
    let s = SServer::start(
        &p.cert,
        &p.key,
        &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    assert_tls_refusal(
        probe(&s.url(), p.pki.ca_pem.as_bytes()),
        &["protocol version", "TLS 1.2"],
    );
}

#[test]
fn cbc_only_servers_are_refused() {
    // ECDHE key exchange but CBC encryption.
    let p = peer(&["127.0.0.1"]);
    let s = SServer::start(
        &p.cert,
        &p.key,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"],
    );
    assert_tls_refusal(
        probe(&s.url(), p.pki.ca_pem.as_bytes()),
        &["no shared cipher suite", "no CBC"],
    );

    // Static RSA key exchange with CBC (`AES128-SHA`).
    let r = rsa_peer();
    let ca = r.pki.ca_pem.as_bytes();
    let s = SServer::start(&r.cert, &r.key, &["-tls1_2", "-cipher", "AES128-SHA"]);
    assert_tls_refusal(probe(&s.url(), ca), &["no shared cipher suite"]);

    // DHE with AES-GCM: also outside IR's policy.
    let s = SServer::start(
        &r.cert,
        &r.key,
        &["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"],
    );
    assert_tls_refusal(probe(&s.url(), ca), &["no shared cipher suite"]);
}

#[test]
fn certificate_for_another_host_is_refused() {
    let p = peer(&["wrong.example"]);
    let s = SServer::start(&p.cert, &p.key, &[]);
    assert_tls_refusal(
        probe(&s.url(), p.pki.ca_pem.as_bytes()),
        &["wrong host name", "127.0.0.1", "wrong.example"],
    );
}

#[test]
fn untrusted_issuer_is_refused() {
    let p = peer(&["127.0.0.1"]);
    let s = SServer::start(&p.cert, &p.key, &[]);
    let other = Pki::new();
    assert_tls_refusal(
        probe(&s.url(), other.ca_pem.as_bytes()),
        &["unknown issuer"],
    );
}

#[test]
fn compliant_servers_are_accepted() {
    // The handshake succeeds; s_server's -www page is not IR's `OK`, so the
    // call ends in a Server error, which proves TLS itself went through.
    let p = peer(&["127.0.0.1"]);
    for args in [
        &["-tls1_3"][..],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"][..],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"][..],
    ] {
        let s = SServer::start(&p.cert, &p.key, args);
        let e = probe(&s.url(), p.pki.ca_pem.as_bytes()).expect_err("not IR's status page");
        assert_eq!(e.kind(), ErrorKind::Server, "{args:?}: {e}");
    }
    let r = rsa_peer();
    let s = SServer::start(
        &r.cert,
        &r.key,
        &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
    );
    let e = probe(&s.url(), r.pki.ca_pem.as_bytes()).expect_err("not IR's status page");
    assert_eq!(e.kind(), ErrorKind::Server, "ECDHE-RSA: {e}");
}

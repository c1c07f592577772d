//! The client against the sandbox's `strict` profile (IR's production rules):
//! mutual TLS with M2M JWTs (RS256 and the ECDSA credential, by `sub` and by
//! `startLogon`) and OAuth bearer tokens, the main error classes end to end
//! with the sandbox's counters proving that 400/401/IR003 are never retried,
//! and 16 threads sharing one client with one JWT.

mod support;

use std::sync::Arc;

use nzpir::{Address, Auth, Client, ErrorKind, JwtAlgorithm, JwtSigner, Name, PirRequest, Secret};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use support::sandbox::{
    assert_error, builder, ec, fast_retries, grant, oauth_client, pie, rs256, start, start_with,
};

const MEMBERS: [(&str, Option<&str>); 4] = [
    ("139276507", Some("28")),
    ("139276310", Some("10.5")),
    ("139439976", Some("10.5")),
    ("049091850", None),
];

fn lookup(ird: &str, pie_ird: Option<&str>) -> PirRequest {
    let b = PirRequest::builder(ird);
    match pie_ird {
        Some(p) => b.pie_ird(p).build(),
        None => b.build(),
    }
}

fn rate_of(client: &Client, req: &PirRequest) -> Option<String> {
    let o = client.lookup(req).expect("lookup");
    assert_eq!(o.ird(), req.ird());
    assert_eq!(o.pie_ird(), req.pie_ird(), "PieIRD echoed");
    o.rate().map(|r| r.to_string())
}

/// Runs a lookup that must fail; checks kind, code and status, and that the
/// sandbox saw exactly one request, carrying this IRD (the client has three
/// retries to spend).
#[track_caller]
fn refused(
    sb: &Sandbox,
    client: &Client,
    req: &PirRequest,
    kind: ErrorKind,
    code: &str,
    status: u16,
) {
    let before = (sb.stats().pir_requests, sb.pir_calls_for(req.ird()));
    let e = client.lookup(req).expect_err(code);
    assert_error(&e, kind, Some(code), Some(status));
    assert_eq!(e.attempts(), 1, "{code} is not retried");
    assert!(!e.is_retryable(), "{code}");
    assert_eq!(
        (sb.stats().pir_requests, sb.pir_calls_for(req.ird())),
        (before.0 + 1, before.1 + 1),
        "{code}: one request about this investor reached the sandbox"
    );
    assert!(!e.to_string().contains(req.ird()), "no IRD in {e}");
    assert!(!format!("{e:?}").contains(req.ird()), "no IRD in {e:?}");
}

#[test]
fn jwt_rs256_with_the_sandboxs_ready_configuration() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let s = pie(m, "kowhai-scheme");
    let client = Client::from_config_file(sb.config_path()).expect("nzpir.toml");
    for (ird, rate) in MEMBERS {
        let req = lookup(ird, Some(&s));
        assert_eq!(rate_of(&client, &req).as_deref(), rate, "{ird}");
        assert_eq!(sb.pir_calls_for(ird), 1, "{ird}: one attempt");
    }
    assert_eq!(sb.stats().pir_responses.get("200"), Some(&4));
}

#[test]
fn jwt_with_the_ecdsa_credential() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let signer = ec(m);
    assert_eq!(signer.algorithm().as_str(), m.jwt_ec_alg);
    assert_eq!(signer.subject(), m.thumbprints["jwt_ec"]);
    let client = builder(&sb)
        .auth(Auth::Jwt(signer))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    // The scheme administration manager of the scheme's provider, by `sub`.
    let s = pie(m, "kowhai-scheme");
    for (ird, rate) in MEMBERS {
        assert_eq!(
            rate_of(&client, &lookup(ird, Some(&s))).as_deref(),
            rate,
            "{ird}"
        );
    }
    refused(
        &sb,
        &client,
        &lookup("139276272", Some(&s)),
        ErrorKind::Authorisation,
        "EV1043",
        401,
    );
}

#[test]
fn jwt_with_a_start_logon_is_authorised_by_that_logon() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let t = pie(m, "tuatara-funds");
    let tuatara = builder(&sb)
        .auth(Auth::Jwt(rs256(m, Some("tuatara.admin"))))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    assert_eq!(
        rate_of(&tuatara, &lookup("139276272", Some(&t))).as_deref(),
        Some("17.5")
    );
    // IR's sample request 2: no link, tied to the PIE by soft matching.
    let soft = PirRequest::builder("139276329")
        .pie_ird(&t)
        .name(Name::new("Gary", "Allen"))
        .dob("1990-01-02")
        .address(Address::new("123 Ha Crescent", "Auckland", "NZ").with_post_code("2104"))
        .build();
    assert_eq!(rate_of(&tuatara, &soft).as_deref(), Some("28"));
    refused(
        &sb,
        &tuatara,
        &lookup("139276329", Some(&t)),
        ErrorKind::Authorisation,
        "EV1043",
        401,
    );

    let ruru = builder(&sb)
        .auth(Auth::Jwt(rs256(m, Some("ruru.agent"))))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    assert_eq!(
        rate_of(&ruru, &lookup("139332754", Some(&t))).as_deref(),
        Some("17.5")
    );
    refused(
        &sb,
        &ruru,
        &lookup("139332754", None),
        ErrorKind::Authorisation,
        "EV1042",
        401,
    );
}

#[test]
fn bearer_token_issued_by_the_oauth_server() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let plain = builder(&sb).build().expect("client");
    let tokens = grant(&sb, &oauth_client(&sb, &plain, "sandbox-app"));
    let bearer = builder(&sb)
        .auth(Auth::Bearer(tokens.access_token.clone()))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    // `sandbox-app` is the tax preparer's myIR logon: its clients need no PieIRD.
    assert_eq!(
        rate_of(&bearer, &lookup("139439976", None)).as_deref(),
        Some("10.5")
    );
    assert_eq!(
        rate_of(&bearer, &lookup("139332754", None)).as_deref(),
        Some("17.5")
    );
    assert_eq!(
        rate_of(
            &bearer,
            &lookup("139276272", Some(&pie(m, "tuatara-funds")))
        )
        .as_deref(),
        Some("17.5")
    );
    refused(
        &sb,
        &bearer,
        &lookup("139276507", Some(&pie(m, "kowhai-scheme"))),
        ErrorKind::Authorisation,
        "EV1041",
        401,
    );

    // A logon with no party: EV1040.
    let orphan = grant(&sb, &oauth_client(&sb, &plain, "sandbox-orphan"));
    let orphan = builder(&sb)
        .auth(Auth::Bearer(orphan.access_token))
        .build()
        .expect("client");
    refused(
        &sb,
        &orphan,
        &lookup("139439976", None),
        ErrorKind::Authorisation,
        "EV1040",
        401,
    );

    // An unknown bearer token: EV1024, and a static bearer is not retried.
    let unknown = builder(&sb)
        .auth(Auth::Bearer(Secret::new("not-a-token-the-server-issued")))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    refused(
        &sb,
        &unknown,
        &lookup("139439976", None),
        ErrorKind::Authentication,
        "EV1024",
        401,
    );
}

/// A self-signed credential that IR has never seen.
fn unregistered_signer() -> JwtSigner {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let cert = rcgen::CertificateParams::new(vec!["unknown.m2m.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    JwtSigner::builder(cert.pem(), key.serialize_pem())
        .algorithm(JwtAlgorithm::ES256)
        .issuer("Nobody Ltd")
        .build()
        .expect("signer")
}

#[test]
fn error_classes_end_to_end_and_none_is_retried() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let s = pie(m, "kowhai-scheme");
    let t = pie(m, "tuatara-funds");
    let member = lookup("139276507", Some(&s));
    let with = |auth: Auth| {
        builder(&sb)
            .auth(auth)
            .retry_policy(fast_retries(3))
            .build()
            .expect("client")
    };

    // EV1023: the client certificate is the sandbox CA's but not registered.
    let unregistered = builder(&sb)
        .identity_files(&m.unregistered_client_cert, &m.unregistered_client_key)
        .auth(Auth::Jwt(rs256(m, None)))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    refused(
        &sb,
        &unregistered,
        &member,
        ErrorKind::Authentication,
        "EV1023",
        401,
    );

    // EV1025: no Authorization header.
    refused(
        &sb,
        &with(Auth::None),
        &member,
        ErrorKind::Authentication,
        "EV1025",
        401,
    );

    // EV1027: a credential IR does not know.
    refused(
        &sb,
        &with(Auth::Jwt(unregistered_signer())),
        &member,
        ErrorKind::Authentication,
        "EV1027",
        401,
    );

    // EV1029: the registered RSA credential, signed with an algorithm other
    // than the one configured for it (RS256).
    let rs384 = JwtSigner::builder_from_files(&m.jwt_rs256_cert, &m.jwt_rs256_key)
        .algorithm(JwtAlgorithm::RS384)
        .issuer("Kowhai")
        .build()
        .expect("signer");
    refused(
        &sb,
        &with(Auth::Jwt(rs384)),
        &member,
        ErrorKind::Authentication,
        "EV1029",
        401,
    );

    let jwt = with(Auth::Jwt(rs256(m, None)));
    // EV1042: the credential's party has no relation to the PIE.
    refused(
        &sb,
        &jwt,
        &lookup("139276272", Some(&t)),
        ErrorKind::Authorisation,
        "EV1042",
        401,
    );
    // EV1043: related to the scheme, but the investor is not a member.
    refused(
        &sb,
        &jwt,
        &lookup("139276272", Some(&s)),
        ErrorKind::Authorisation,
        "EV1043",
        401,
    );
    // PIR101: a JWT without startLogon must name the PIE.
    refused(
        &sb,
        &jwt,
        &lookup("139276507", None),
        ErrorKind::Rejected,
        "PIR101",
        400,
    );

    // PER100: a period that is not 31 March. Local validation catches it
    // first and sends nothing...
    let not_march = PirRequest::builder("139276507")
        .pie_ird(&s)
        .filing_period("2024-06-30")
        .build();
    let before = sb.stats().pir_requests;
    let e = jwt.lookup(&not_march).expect_err("local");
    assert_error(&e, ErrorKind::InvalidInput, None, None);
    assert_eq!(e.field_errors()[0].field, "FilingPeriod");
    assert_eq!(sb.stats().pir_requests, before);
    // ...and with it off, IR's answer is PER100.
    let unchecked = builder(&sb)
        .auth(Auth::Jwt(rs256(m, None)))
        .validate_locally(false)
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    refused(
        &sb,
        &unchecked,
        &not_march,
        ErrorKind::Rejected,
        "PER100",
        400,
    );

    // EV1026: the gateway's clock is two minutes behind, so the JWT's `iat`
    // (30 s back) is in its future. The client mints a new JWT issued
    // further back and tries once more: accepted.
    sb.set_clock_offset(-120);
    let jwt_client = with(Auth::Jwt(rs256(m, None)));
    let before = sb.pir_calls_for(member.ird());
    jwt_client.lookup(&member).expect("accepted on the retry");
    assert_eq!(sb.pir_calls_for(member.ird()), before + 2);
    // The replacement is cached: the next lookup is accepted at once.
    jwt_client.lookup(&member).expect("the new JWT");
    assert_eq!(sb.pir_calls_for(member.ird()), before + 3);

    // Two hours behind: the token issued further back is still too early,
    // so the second EV1026 is the answer.
    sb.set_clock_offset(-7200);
    let jwt_client = with(Auth::Jwt(rs256(m, None)));
    let before = (sb.stats().pir_requests, sb.pir_calls_for(member.ird()));
    let e = jwt_client.lookup(&member).expect_err("EV1026");
    assert_error(&e, ErrorKind::Authentication, Some("EV1026"), Some(401));
    assert_eq!(e.attempts(), 2, "EV1026: one retry with a new JWT");
    assert_eq!(
        (sb.stats().pir_requests, sb.pir_calls_for(member.ird())),
        (before.0 + 2, before.1 + 2)
    );
    assert!(!e.to_string().contains(member.ird()), "no IRD in {e}");
    sb.set_clock_offset(0);

    let codes = sb.stats().ir_codes;
    for code in [
        "EV1023", "EV1025", "EV1027", "EV1029", "EV1042", "EV1043", "PIR101", "PER100",
    ] {
        assert_eq!(codes.get(code), Some(&1), "{code} answered once: {codes:?}");
    }
    assert_eq!(
        codes.get("EV1026"),
        Some(&3),
        "two minutes: one EV1026; two hours: EV1026 and its one retry"
    );
}

#[test]
fn ir003_after_the_configured_limit_is_not_retried() {
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(3),
    );
    let m = sb.manifest();
    let client = builder(&sb)
        .auth(Auth::Jwt(rs256(m, None)))
        .retry_policy(fast_retries(3))
        .build()
        .expect("client");
    let req = lookup("139276310", Some(&pie(m, "kowhai-scheme")));
    for n in 1..=3 {
        assert_eq!(rate_of(&client, &req).as_deref(), Some("10.5"), "query {n}");
    }
    for n in 4..=5 {
        refused(&sb, &client, &req, ErrorKind::RateLimited, "IR003", 401);
        assert_eq!(sb.pir_calls_for("139276310"), n, "one request per lookup");
    }
    // Other investors are not affected.
    assert_eq!(
        rate_of(
            &client,
            &lookup("139276507", Some(&pie(m, "kowhai-scheme")))
        )
        .as_deref(),
        Some("28")
    );
}

#[test]
fn sixteen_threads_share_one_client_and_one_jwt() {
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(0),
    );
    let m = sb.manifest();
    let s = pie(m, "kowhai-scheme");
    let signer = rs256(m, None);
    let client = builder(&sb)
        .auth(Auth::Jwt(signer.clone()))
        .retry_policy(fast_retries(0))
        .build()
        .expect("client");
    const PER_THREAD: usize = 12;
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let (client, s, barrier) = (client.clone(), s.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    let (ird, rate) = MEMBERS[(t + i) % MEMBERS.len()];
                    let o = client.lookup(&lookup(ird, Some(&s))).expect("lookup");
                    assert_eq!(o.ird(), ird, "the answer is about this thread's investor");
                    assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), rate, "{ird}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(signer.minted_count(), 1, "one JWT for every call");
    let stats = sb.stats();
    assert_eq!(stats.pir_requests, (16 * PER_THREAD) as u64, "no retries");
    assert_eq!(
        stats.pir_responses.get("200"),
        Some(&((16 * PER_THREAD) as u64))
    );
    let per_investor: u64 = MEMBERS.iter().map(|(ird, _)| sb.pir_calls_for(ird)).sum();
    assert_eq!(per_investor, (16 * PER_THREAD) as u64);
    assert!(
        stats.connections <= 16,
        "connections are kept alive and shared: {} for {} calls",
        stats.connections,
        16 * PER_THREAD
    );
}

#[test]
fn connections_are_kept_alive_unless_no_idle_ones_are_kept() {
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(0),
    );
    let m = sb.manifest();
    let req = lookup("139276507", Some(&pie(m, "kowhai-scheme")));
    let kept = builder(&sb)
        .auth(Auth::Jwt(rs256(m, None)))
        .build()
        .expect("client");
    for _ in 0..5 {
        assert_eq!(rate_of(&kept, &req).as_deref(), Some("28"));
    }
    kept.status().expect("status");
    assert_eq!(sb.stats().connections, 1, "one connection for six calls");

    let fresh = builder(&sb)
        .auth(Auth::Jwt(rs256(m, None)))
        .max_idle_connections(0)
        .build()
        .expect("client");
    for _ in 0..5 {
        assert_eq!(rate_of(&fresh, &req).as_deref(), Some("28"));
    }
    assert_eq!(sb.stats().connections, 6, "a new connection for each call");
    assert_eq!(sb.stats().tls_handshake_failures, 0);
}

/// IR's JWT rules as they stand: ES512 (P-521) credentials, lifetimes up to
/// 8 hours, and `startLogon` as `null` (default) or `""` (on request) are all
/// accepted by the sandbox's gateway, which verifies them as IR does.
#[test]
fn es512_eight_hour_tokens_and_both_unset_start_logons_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params =
        rcgen::CertificateParams::new(vec!["m2m.example.test".to_owned()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2028, 12, 31);
    let cert = params.self_signed(&key).expect("self-signed");
    let cert_path = dir.path().join("jwt-p521.pem");
    let key_path = dir.path().join("jwt-p521.key");
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");

    let mut fixture = nzpir_sandbox::Fixture::default_fixture();
    fixture.jwt_credentials.push(nzpir_sandbox::JwtCredential {
        cert: nzpir_sandbox::CertRef::File {
            file: cert_path.clone(),
        },
        alg: "ES512".to_owned(),
        party: "kowhai-kiwisaver".to_owned(),
    });
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .fixture(fixture),
    );
    let scheme = pie(sb.manifest(), "kowhai-scheme");
    let req = lookup("139276507", Some(&scheme));
    for (ttl, unset) in [
        (540, nzpir::UnsetStartLogon::Null),
        (8 * 3600, nzpir::UnsetStartLogon::Null),
        (8 * 3600, nzpir::UnsetStartLogon::Empty),
    ] {
        let signer = JwtSigner::builder_from_files(&cert_path, &key_path)
            .issuer("Kowhai KiwiSaver Limited")
            .ttl(std::time::Duration::from_secs(ttl))
            .unset_start_logon(unset)
            .build()
            .expect("ES512 signer");
        assert_eq!(signer.algorithm(), JwtAlgorithm::ES512);
        let jwt = signer.token().expect("jwt");
        assert_eq!(jwt.expires_at() - jwt.issued_at(), ttl as i64);
        let client = builder(&sb)
            .auth(Auth::Jwt(signer))
            .build()
            .expect("client");
        assert_eq!(
            rate_of(&client, &req).as_deref(),
            Some("28"),
            "{ttl} {unset:?}"
        );
    }
    // The same key announced as ES384 is the wrong algorithm for it.
    let e = JwtSigner::builder_from_files(&cert_path, &key_path)
        .issuer("x")
        .algorithm(JwtAlgorithm::ES384)
        .build()
        .expect_err("ES384 does not fit a P-521 key");
    assert!(e.to_string().contains("auth.alg"), "{e}");
}

/// IR trusts TLS client certificates by CN (since 2021): a renewed
/// certificate (new key, same CN, same CA) works without registering it
/// again, while another CA-issued certificate with another CN is EV1023.
#[test]
fn a_renewed_client_certificate_with_the_same_cn_is_accepted() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let cn = |path: &std::path::Path| {
        let pem = std::fs::read(path).expect("cert");
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).expect("pem");
        let cert = block.parse_x509().expect("x509");
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .map(str::to_owned);
        (cn, block.contents.clone())
    };
    let (client_cn, client_der) = cn(&m.client_cert);
    let (renewed_cn, renewed_der) = cn(&m.renewed_client_cert);
    let (other_cn, _) = cn(&m.unregistered_client_cert);
    assert_eq!(client_cn, renewed_cn);
    assert_ne!(client_cn, other_cn);
    assert_ne!(client_der, renewed_der, "a different certificate");
    assert!(
        client_cn.as_deref().is_some_and(|c| c.contains(".irdgws.")),
        "IR's CN form"
    );

    let scheme = pie(m, "kowhai-scheme");
    let req = lookup("139276507", Some(&scheme));
    let with_identity = |cert: &std::path::Path, key: &std::path::Path| {
        Client::builder()
            .endpoint(sb.url())
            .identity_files(cert, key)
            .add_root_certificate_file(&m.ca_cert)
            .no_proxy()
            .auth(Auth::Jwt(rs256(m, None)))
            .build()
            .expect("client")
    };
    let renewed = with_identity(&m.renewed_client_cert, &m.renewed_client_key);
    assert_eq!(rate_of(&renewed, &req).as_deref(), Some("28"));
    let other = with_identity(&m.unregistered_client_cert, &m.unregistered_client_key);
    let e = other.lookup(&req).expect_err("not registered");
    assert_eq!(e.ir_code().map(|c| c.as_str()), Some("EV1023"));
}

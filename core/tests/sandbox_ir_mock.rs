//! Every scenario of IR's mock service (`ir/mock-scenarios.json`) end to end
//! through `Client::lookup` against the sandbox's `ir-mock` profile, over
//! mutual TLS: the outcome, or the typed error with its kind, IR code, HTTP
//! status and field, and the sandbox's proof that nothing was retried.

mod support;

use std::collections::BTreeSet;

use nzpir::{Address, Auth, Client, Error, ErrorKind, IrErrorBody, PirOutcome, PirRequest, Secret};
use nzpir_sandbox::{Profile, Sandbox};
use support::sandbox::{assert_error, builder, raw_agent, rs256, start};

/// A client for IR's mock: its example IRD numbers fail modulus 11, so local
/// validation is off (as IR's documentation tells mock users).
fn mock_client(sb: &Sandbox, auth: Auth) -> Client {
    builder(sb)
        .validate_locally(false)
        .auth(auth)
        .build()
        .expect("client")
}

#[derive(Debug)]
enum Expect {
    Rate(&'static str),
    NotFound,
    Error {
        kind: ErrorKind,
        code: &'static str,
        status: u16,
        field: Option<&'static str>,
    },
}

fn rejected(code: &'static str, field: Option<&'static str>) -> Expect {
    Expect::Error {
        kind: ErrorKind::Rejected,
        code,
        status: 400,
        field,
    }
}

/// One lookup: checks the answer and that the sandbox saw exactly one request
/// about this IRD (no retry of a 400 or 401; one attempt for a 200).
fn check(sb: &Sandbox, id: &str, client: &Client, req: &PirRequest, expect: &Expect) {
    let before = sb.pir_calls_for(req.ird());
    let result = client.lookup(req);
    assert_eq!(
        sb.pir_calls_for(req.ird()),
        before + 1,
        "{id}: exactly one request reached the sandbox"
    );
    match (expect, result) {
        (Expect::Rate(rate), Ok(o)) => {
            assert_eq!(
                o.rate().map(|r| r.to_string()).as_deref(),
                Some(*rate),
                "{id}"
            );
            assert_eq!(o.ird(), req.ird(), "{id}: IRD echoed");
            assert_eq!(o.pie_ird(), req.pie_ird(), "{id}: PieIRD echoed when sent");
        }
        (Expect::NotFound, Ok(o)) => {
            assert!(matches!(o, PirOutcome::NotFound { .. }), "{id}: {o:?}");
            assert_eq!(o.rate(), None, "{id}");
        }
        (
            Expect::Error {
                kind,
                code,
                status,
                field,
            },
            Err(e),
        ) => {
            assert_error(&e, *kind, Some(code), Some(*status));
            assert_eq!(e.attempts(), 1, "{id}: not retried");
            assert!(!e.is_retryable(), "{id}");
            if let Some(f) = field {
                assert_eq!(e.ir_errors()[0].field(), Some(*f), "{id}: {e}");
                assert!(e.to_string().contains(&format!("Field: {f}")), "{id}: {e}");
            }
            assert!(
                !e.to_string().contains(req.ird()) || req.ird().len() < 8,
                "{id}: the message names no IRD: {e}"
            );
        }
        (expect, got) => panic!("{id}: expected {expect:?}, got {got:?}"),
    }
}

#[test]
fn every_ir_mock_scenario_through_the_client() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();
    let none = mock_client(&sb, Auth::None);
    let bearer = mock_client(&sb, Auth::Bearer(Secret::new("any-oauth-token")));
    let jwt = mock_client(&sb, Auth::Jwt(rs256(m, None)));
    let req = |ird: &str| PirRequest::builder(ird).build();

    let scenarios: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ir/mock-scenarios.json"
        ))
        .expect("IR's mock scenarios"),
    )
    .expect("JSON");
    let ids: BTreeSet<String> = scenarios["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    let mut covered = BTreeSet::new();

    for id in &ids {
        let id = id.as_str();
        match id {
            "PIR-EM200-1" => check(&sb, id, &none, &req("139276507"), &Expect::Rate("28")),
            "PIR-EM200-2" => check(&sb, id, &none, &req("139276310"), &Expect::Rate("10.5")),
            "PIR-EM200-3" => {
                let r = PirRequest::builder("139276272")
                    .pie_ird("123456789")
                    .build();
                check(&sb, id, &none, &r, &Expect::Rate("17.5"));
            }
            "PIR-EM200-4" => check(&sb, id, &none, &req("139439976"), &Expect::Rate("10.5")),
            "PIR-EM200-5" => {
                check(&sb, id, &none, &req("123987654"), &Expect::NotFound);
                // With local validation on, IR's example fails modulus 11 here
                // and nothing is sent.
                let strict_local = builder(&sb).build().expect("client");
                let before = sb.stats().pir_requests;
                let e = strict_local.lookup(&req("123987654")).expect_err("mod 11");
                assert_error(&e, ErrorKind::InvalidInput, None, None);
                assert_eq!(e.attempts(), 0);
                assert_eq!(e.field_errors()[0].field, "IRD");
                assert_eq!(sb.stats().pir_requests, before, "nothing sent");
            }
            "PIR-EM401-1" => check(
                &sb,
                id,
                &bearer,
                &req("139276329"),
                &Expect::Error {
                    kind: ErrorKind::Authorisation,
                    code: "EV1041",
                    status: 401,
                    field: None,
                },
            ),
            "PIR-EM401-2" => {
                let ev1043 = Expect::Error {
                    kind: ErrorKind::Authorisation,
                    code: "EV1043",
                    status: 401,
                    field: None,
                };
                check(&sb, id, &none, &req("139276329"), &ev1043);
                check(&sb, id, &jwt, &req("139276329"), &ev1043);
            }
            "PIR-EM400-1" => {
                // The client always sends `IRD`; an empty one is IR's `{}` case.
                check(&sb, id, &none, &req(""), &rejected("EV1100", Some("IRD")));
                let resp = raw_post(&sb, b"{}");
                assert_eq!(resp.0, 400);
                let e = Error::from_ir(resp.0, IrErrorBody::parse(&resp.1).expect("IR body"));
                assert_error(&e, ErrorKind::Rejected, Some("EV1100"), Some(400));
                assert_eq!(e.ir_errors()[0].field(), Some("IRD"));
            }
            "PIR-EM400-2" => {
                let r = PirRequest::builder("123456789")
                    .address(Address::new("1 Queen Street", "Auckland", "AB"))
                    .build();
                check(&sb, id, &none, &r, &rejected("EV1100", Some("Country")));
            }
            "PIR-EM400-3" => {
                // The client cannot send malformed JSON; the nearest it can is an
                // IRD of the wrong form. The literal case goes over plain HTTPS.
                check(
                    &sb,
                    id,
                    &none,
                    &req("1234567890123"),
                    &rejected("EV1100", Some("IRD")),
                );
                let resp = raw_post(&sb, br#"{"IRD":1234567890123}"#);
                assert_eq!(resp.0, 400);
                let body = IrErrorBody::parse(&resp.1).expect("IR error body");
                assert_eq!(body.errors[0].code.as_str(), "EV1100");
            }
            "PIR-EM400-4" => {
                let r = PirRequest::builder("123456789")
                    .filing_period("31/03/2023")
                    .build();
                check(
                    &sb,
                    id,
                    &none,
                    &r,
                    &rejected("EV1100", Some("FilingPeriod")),
                );
            }
            "PIR-EM400-5" => {
                let r = PirRequest::builder("123456789")
                    .filing_period("2015-03-31")
                    .build();
                check(&sb, id, &none, &r, &rejected("PER100", None));
            }
            "PIR-EM400-6" => {
                for period in ["2023-01-31", "2023-03-01"] {
                    let r = PirRequest::builder("123456789")
                        .filing_period(period)
                        .build();
                    check(&sb, id, &none, &r, &rejected("PER100", None));
                }
            }
            "PIR-EM400-7" => {
                let r = PirRequest::builder("123456789")
                    .filing_period("2099-03-31")
                    .build();
                check(&sb, id, &none, &r, &rejected("PER100", None));
            }
            "PIR-EM400-8" => {
                for ird in ["139332754", "139276272"] {
                    check(&sb, id, &none, &req(ird), &rejected("PIR101", None));
                }
            }
            "PIR-EM404-1" => wrong_path(&sb),
            "PIR-EM405-1" => wrong_method(&sb),
            other => panic!("a scenario this test does not know: {other}"),
        }
        covered.insert(id.to_owned());
    }
    assert_eq!(covered, ids);
    assert_eq!(ids.len(), 17, "IR publishes 17 mock scenarios");
}

/// POSTs raw bytes to the PIR operation; returns status and body.
fn raw_post(sb: &Sandbox, body: &[u8]) -> (u16, Vec<u8>) {
    let mut resp = raw_agent(sb)
        .post(format!("{}/gateway/calculators/pir", sb.url()))
        .header("Content-Type", "application/json; charset=utf-8")
        .send(body)
        .expect("POST");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().expect("body"))
}

/// PIR-EM404-1: a base URL with a wrong prefix makes the client post to a path
/// the gateway does not have: 404 without IR's body, rejected, not retried.
fn wrong_path(sb: &Sandbox) {
    let client = builder(sb)
        .endpoint(format!("{}/wrong", sb.url()))
        .validate_locally(false)
        .build()
        .expect("client");
    let before = sb.stats();
    let e = client
        .lookup(&PirRequest::builder("139276507").build())
        .expect_err("404");
    assert_error(&e, ErrorKind::Rejected, None, Some(404));
    assert_eq!(e.attempts(), 1);
    assert!(e.to_string().contains("404"), "{e}");
    let e = client.status().expect_err("status under the wrong prefix");
    assert_error(&e, ErrorKind::Rejected, None, Some(404));
    let after = sb.stats();
    assert_eq!(
        after.not_found,
        before.not_found + 2,
        "two 404s, no retries"
    );
    assert_eq!(after.pir_requests, before.pir_requests);

    // IR's own example path.
    let resp = raw_agent(sb)
        .post(format!("{}/gateway/calculators/wrong", sb.url()))
        .send(&br#"{"IRD":"139276507"}"#[..])
        .expect("POST");
    assert_eq!(resp.status().as_u16(), 404);
}

/// PIR-EM405-1: GET on the PIR operation. The client only POSTs there, so
/// this goes over plain HTTPS; the client maps such an answer as `Rejected`.
fn wrong_method(sb: &Sandbox) {
    let before = sb.stats().method_not_allowed;
    let mut resp = raw_agent(sb)
        .get(format!("{}/gateway/calculators/pir", sb.url()))
        .call()
        .expect("GET");
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body = resp.body_mut().read_to_vec().expect("body");
    assert!(body.is_empty(), "no IR error body");
    assert!(IrErrorBody::parse(&body).is_none());
    assert_eq!(sb.stats().method_not_allowed, before + 1);
}

#[test]
fn status_endpoint_answers_ok_on_both_profiles() {
    for profile in [Profile::IrMock, Profile::Strict] {
        let sb = start(profile);
        let client = builder(&sb).build().expect("client");
        let before = sb.stats().status_requests;
        client.status().expect("status OK");
        client.status().expect("status OK again");
        assert_eq!(sb.stats().status_requests, before + 2);
        // The status endpoint needs a CA-signed certificate but no registration
        // and no Authorization: the unregistered certificate is fine there.
        let m = sb.manifest();
        let unregistered = builder(&sb)
            .identity_files(&m.unregistered_client_cert, &m.unregistered_client_key)
            .build()
            .expect("client");
        unregistered
            .status()
            .expect("status with an unregistered certificate");
    }
}

//! Profile `ir-mock`: every scenario of IR's `mock-scenarios.json`, with
//! bodies shaped exactly like IR's samples.

mod common;

use common::{Conn, Identity, call, pir, start};
use nzpir_sandbox::Profile;
use serde_json::{Value, json};

fn sample(name: &str) -> Value {
    let path = format!("{}/../ir/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample exists"))
        .expect("sample JSON")
}

fn scenarios() -> Vec<Value> {
    let path = format!("{}/../ir/mock-scenarios.json", env!("CARGO_MANIFEST_DIR"));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("scenarios")).expect("JSON");
    v["scenarios"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_published_scenario() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();
    assert_eq!(m.profile, "ir-mock");
    let mut seen = Vec::new();

    // PIR-EM200-1, -2, -4: rate for the published IRD numbers.
    for (id, ird, rate) in [
        ("PIR-EM200-1", "139276507", json!(28)),
        ("PIR-EM200-2", "139276310", json!(10.5)),
        ("PIR-EM200-4", "139439976", json!(10.5)),
    ] {
        let r = pir(m, None, &format!(r#"{{"IRD":"{ird}"}}"#));
        assert_eq!(r.status, 200, "{id}");
        assert_eq!(
            r.json(),
            json!({"IRD": ird, "SuggestedPirRate": rate}),
            "{id}"
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        seen.push(id);
    }
    // PIR-EM200-3: PieIRD echoed.
    let r = pir(m, None, r#"{"IRD":"139276272","PieIRD":"012345678"}"#);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"IRD":"139276272","PieIRD":"012345678","SuggestedPirRate":17.5})
    );
    seen.push("PIR-EM200-3");
    // PIR-EM200-5: any other IRD, even one failing modulus 11, is not found.
    let r = pir(m, None, r#"{"IRD":"123987654"}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"IRD":"123987654","PirRateNotFound":true}));
    // Shaped exactly like IR's sample.
    let r = pir(m, None, r#"{"IRD":"123456789","PieIRD":"012345678"}"#);
    assert_eq!(r.json(), sample("response_with_PirRateNotFound.json"));
    seen.push("PIR-EM200-5");

    // PIR-EM401-1 and -2.
    let r = pir(m, Some("Bearer anything"), r#"{"IRD":"139276329"}"#);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        sample("response_EV1041_LogonOauthTokenDoesNotHaveAccess.json")
    );
    seen.push("PIR-EM401-1");
    for auth in [Some("eyJhbGciOiJSUzI1NiJ9.e30.sig"), None] {
        let r = pir(m, auth, r#"{"IRD":"139276329"}"#);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json(),
            sample("response_EV1043_UnableToValidateJWTToMember.json")
        );
    }
    seen.push("PIR-EM401-2");

    // PIR-EM400-1: empty object.
    let r = pir(m, None, "{}");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        sample("response_EV1100_InvalidInputParametersIRD.json")
    );
    seen.push("PIR-EM400-1");
    // PIR-EM400-2: country AB.
    let r = pir(
        m,
        None,
        r#"{"IRD":"123456789","Address":{"Street":"1 Main St","City":"Akl","Country":"AB"}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.code().as_deref(), Some("EV1100"));
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Invalid input parameters. Please check documentation. Field: Country"
    );
    assert_eq!(r.json()["errors"].as_array().map(Vec::len), Some(1));
    seen.push("PIR-EM400-2");
    // PIR-EM400-3: IRD as a bare number.
    let r = pir(m, None, r#"{"IRD":1234567890123}"#);
    assert_eq!(r.status, 400);
    assert_eq!(r.code().as_deref(), Some("EV1100"));
    seen.push("PIR-EM400-3");
    // PIR-EM400-4: FilingPeriod not in yyyy-MM-dd form.
    let r = pir(
        m,
        None,
        r#"{"IRD":"139276507","FilingPeriod":"31/03/2023"}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        sample("response_EV1100_InvalidInputParametersFilingPeriod.json")
    );
    seen.push("PIR-EM400-4");
    // PIR-EM400-5, -6, -7: PER100.
    for (id, fp) in [
        ("PIR-EM400-5", "2015-03-31"),
        ("PIR-EM400-6", "2023-01-31"),
        ("PIR-EM400-6", "2023-03-01"),
        ("PIR-EM400-7", "2099-03-31"),
    ] {
        let r = pir(
            m,
            None,
            &format!(r#"{{"IRD":"139276507","FilingPeriod":"{fp}"}}"#),
        );
        assert_eq!(r.status, 400, "{id}");
        assert_eq!(
            r.json(),
            sample("response_PER100_InvalidFilingPeriod.json"),
            "{id}"
        );
        seen.push(id);
    }
    // PIR-EM400-8: PieIRD required.
    for ird in ["139332754", "139276272"] {
        let r = pir(m, None, &format!(r#"{{"IRD":"{ird}"}}"#));
        assert_eq!(r.status, 400);
        assert_eq!(r.json(), sample("response_PIR101_PieIRDIsRequired.json"));
    }
    seen.push("PIR-EM400-8");
    // PIR-EM404-1 and PIR-EM405-1.
    let r = call(
        m,
        "POST",
        "/gateway/calculators/wrong",
        &[],
        br#"{"IRD":"139276507"}"#,
    );
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    seen.push("PIR-EM404-1");
    let r = call(m, "GET", "/gateway/calculators/pir", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    seen.push("PIR-EM405-1");

    // Every published scenario was exercised.
    for s in scenarios() {
        let id = s["id"].as_str().unwrap_or_default().to_owned();
        assert!(seen.contains(&id.as_str()), "scenario {id} not covered");
    }
    assert_eq!(scenarios().len(), 17);
}

#[test]
fn samples_and_status() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();
    let r = pir(m, None, "");
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), sample("response_EV1000_NoIncomingPost.json"));
    let r = pir(m, None, r#"{"IRD":"139276507","FormattedName":5}"#);
    assert_eq!(
        r.json(),
        sample("response_EV1100_InvalidInputParametersFormattedName.json")
    );
    // IR's request samples are answered (the mock skips modulus 11).
    for name in [
        "request_with_mandatory_attributes.json",
        "request_with_optional_attributes_1.json",
        "request_with_optional_attributes_2.json",
        "request_with_optional_attributes_3.json",
    ] {
        let body = sample(name).to_string();
        let r = pir(m, None, &body);
        assert_eq!(r.status, 200, "{name}: {}", r.text());
    }
    let r = call(m, "GET", "/gateway/calculators/status", &[], b"");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    // The mock checks no token and no registration, but TLS still wants a
    // certificate from the sandbox CA.
    let mut c = Conn::open(m, Identity::Unregistered).expect("CA-signed certificates connect");
    let r = c
        .request(
            "POST",
            "/gateway/calculators/pir",
            &[],
            br#"{"IRD":"139276507"}"#,
        )
        .expect("answered");
    assert_eq!(r.status, 200);
}

//! Every PIR body the sandbox sends validates against the response schemas of
//! IR's OpenAPI file (`pir-calculator-20230308.yaml`), with no member the
//! schema does not declare.

mod common;

use common::{Claims, Signer, es256, oauth_tokens, pie, pir, rs256, sign, start};
use jsonwebtoken::Algorithm;
use nzpir_sandbox::{Fault, FaultKind, Profile, Sandbox, SandboxOptions};
use serde_json::Value;

fn spec() -> Value {
    let path = format!(
        "{}/../ir/pir-calculator-20230308.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("the OpenAPI file");
    serde_yaml_ng::from_str(&text).expect("YAML parses")
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/definitions/");
            &spec["definitions"][name]
        }
        None => schema,
    }
}

/// A small JSON-schema check (Swagger 2.0 subset): type, required,
/// properties (no undeclared members), items, enum, minLength, maxLength.
fn check(spec: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    let ty = schema["type"].as_str().unwrap_or("");
    let ok = match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: expected {ty}, got {v}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {allowed:?}"));
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|m| n > m) {
            errors.push(format!("{at}: longer than maxLength"));
        }
        if schema["minLength"].as_u64().is_some_and(|m| n < m) {
            errors.push(format!("{at}: shorter than minLength"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = r.as_str()
                && !obj.contains_key(name)
            {
                errors.push(format!("{at}: `{name}` is required"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(spec, s, child, &format!("{at}.{k}"), errors),
                None => errors.push(format!("{at}: `{k}` is not in the schema")),
            }
        }
    }
    if let Some(items) = v.as_array() {
        for (i, item) in items.iter().enumerate() {
            check(spec, &schema["items"], item, &format!("{at}[{i}]"), errors);
        }
    }
}

fn validate(spec: &Value, status: u16, body: &[u8]) -> Result<(), Vec<String>> {
    let responses = &spec["paths"]["/pir"]["post"]["responses"];
    let schema = responses
        .get(status.to_string())
        .unwrap_or(&responses["default"]);
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| vec![format!("status {status}: not JSON: {e}")])?;
    let mut errors = Vec::new();
    check(spec, &schema["schema"], &v, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[test]
fn the_validator_catches_mistakes() {
    let spec = spec();
    assert!(validate(&spec, 200, br#"{"IRD":"139276507","SuggestedPirRate":28}"#).is_ok());
    assert!(
        validate(
            &spec,
            200,
            br#"{"IRD":"139276507","SuggestedPirRate":"28"}"#
        )
        .is_err()
    );
    assert!(validate(&spec, 200, br#"{"SuggestedPirRate":28}"#).is_err());
    assert!(validate(&spec, 200, br#"{"IRD":"1","Rate":28}"#).is_err());
    let pir150 = br#"{"errors":[{"code":"PIR150","type":"server","message":"x"}]}"#;
    assert!(validate(&spec, 500, pir150).is_ok());
    assert!(
        validate(&spec, 400, pir150).is_err(),
        "PIR150 is no 400 code"
    );
    assert!(
        validate(
            &spec,
            401,
            br#"{"errors":[{"code":"IR003","type":"odd","message":"x"}]}"#
        )
        .is_err()
    );
}

#[test]
fn every_body_the_sandbox_sends() {
    let spec = spec();
    let mut seen_codes = std::collections::BTreeSet::new();
    let mut seen_status = std::collections::BTreeSet::new();
    let mut record = |r: &common::Response| {
        if let Err(errors) = validate(&spec, r.status, &r.body) {
            panic!("{} {}: {errors:?}", r.status, r.text());
        }
        seen_status.insert(r.status);
        if let Some(c) = r.code() {
            seen_codes.insert(c);
        }
    };

    // ir-mock: every scenario's answer.
    let mock = start(Profile::IrMock);
    let m = mock.manifest();
    for body in [
        r#"{"IRD":"139276507"}"#,
        r#"{"IRD":"139276272","PieIRD":"012345678"}"#,
        r#"{"IRD":"123987654"}"#,
        r#"{"IRD":"139332754"}"#,
        r#"{}"#,
        r#"{"IRD":1234567890123}"#,
        r#"{"IRD":"139276507","FilingPeriod":"2015-03-31"}"#,
        r#"{"IRD":"139276507","FilingPeriod":"x"}"#,
        "",
        "not json",
    ] {
        record(&pir(m, None, body));
    }
    record(&pir(m, Some("Bearer x"), r#"{"IRD":"139276329"}"#));
    record(&pir(m, None, r#"{"IRD":"139276329"}"#));
    mock.set_fault(Fault::new(FaultKind::Pir150).times(1));
    record(&pir(m, None, r#"{"IRD":"139276507"}"#));

    // strict: every code from its cause.
    let sb = Sandbox::start(SandboxOptions::default().ir003_limit(1)).expect("starts");
    let m = sb.manifest();
    let scheme = pie(m, "kowhai-scheme");
    let fund = pie(m, "tuatara-funds");
    let jwt = rs256(m, None);
    let with = |ird: &str, p: Option<&str>| match p {
        Some(p) => format!(r#"{{"IRD":"{ird}","PieIRD":"{p}"}}"#),
        None => format!(r#"{{"IRD":"{ird}"}}"#),
    };
    record(&pir(m, Some(&jwt), &with("139276507", Some(&scheme))));
    record(&pir(m, Some(&jwt), &with("049091850", Some(&scheme))));
    record(&pir(m, Some(&jwt), &with("139276507", Some(&scheme)))); // IR003
    record(&pir(m, Some(&jwt), &with("139276507", None))); // PIR101
    record(&pir(m, Some(&jwt), "")); // EV1000
    record(&pir(
        m,
        Some(&jwt),
        r#"{"IRD":"1","FormattedName":7,"Address":{"Country":"AB"}}"#,
    ));
    record(&pir(
        m,
        Some(&jwt),
        r#"{"IRD":"139276310","PieIRD":"125000002","FilingPeriod":"2020-01-31"}"#,
    ));
    record(&pir(m, Some(&jwt), &with("139276272", Some(&scheme)))); // EV1043
    record(&pir(m, Some(&jwt), &with("139276272", Some(&fund)))); // EV1042
    record(&pir(m, None, &with("139276310", Some(&scheme)))); // EV1025
    record(&pir(m, Some("x.y.z"), &with("139276310", Some(&scheme)))); // EV1024
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    c.exp = c.iat - 1;
    record(&pir(
        m,
        Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)),
        &with("139276310", Some(&scheme)),
    ));
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    c.sub = Some("00".repeat(32));
    record(&pir(
        m,
        Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)),
        &with("139276310", Some(&scheme)),
    ));
    let ps = sign(
        m,
        &Signer::Rs256,
        Algorithm::PS256,
        &Claims::for_cred(m, &Signer::Rs256),
    );
    record(&pir(m, Some(&ps), &with("139276310", Some(&scheme)))); // EV1029
    let ec = es256(m, None);
    let forged = format!("{}A", &ec[..ec.len() - 1]);
    record(&pir(m, Some(&forged), &with("139276310", Some(&scheme)))); // EV1028 (likely)
    let orphan = oauth_tokens(m, "sandbox-orphan");
    let bearer = format!("Bearer {}", orphan["access_token"].as_str().unwrap_or(""));
    record(&pir(m, Some(&bearer), &with("139276310", Some(&scheme)))); // EV1040
    let ruru = oauth_tokens(m, "sandbox-app");
    let bearer = format!("Bearer {}", ruru["access_token"].as_str().unwrap_or(""));
    record(&pir(m, Some(&bearer), &with("139276329", None))); // EV1041
    record(&pir(m, Some(&bearer), &with("139439976", None))); // 200 without PieIRD
    let mut unreg = common::Conn::open(m, common::Identity::Unregistered).expect("connects");
    record(
        &unreg
            .request("POST", "/gateway/calculators/pir", &[], b"{}")
            .expect("answered"),
    ); // EV1023

    for code in [
        "EV1000", "EV1100", "PER100", "PIR101", "EV1023", "EV1024", "EV1025", "EV1026", "EV1027",
        "EV1029", "EV1040", "EV1041", "EV1042", "EV1043", "IR003", "PIR150",
    ] {
        assert!(
            seen_codes.contains(code),
            "{code} was not produced: {seen_codes:?}"
        );
    }
    assert_eq!(
        seen_status.into_iter().collect::<Vec<_>>(),
        vec![200, 400, 401, 500]
    );
}

//! Every sample message IR publishes parses into the right nzpir type.

use std::path::{Path, PathBuf};

use nzpir::{ErrorKind, IrCode, IrErrorBody, PirOutcome, PirRate, PirRequest, PirResponse};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ir/samples")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(samples_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_sample_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .expect("samples dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 22, "{names:?}");
    let (mut requests, mut errors, mut ok) = (0, 0, 0);
    for name in &names {
        let body = read(name);
        if name.starts_with("request_") {
            PirRequest::from_json(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            requests += 1;
        } else if name.starts_with("response_with_") {
            PirResponse::parse(&body)
                .and_then(PirResponse::into_outcome)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            ok += 1;
        } else {
            let parsed =
                IrErrorBody::parse(&body).unwrap_or_else(|| panic!("{name}: not an error body"));
            let code = name.split('_').nth(1).expect("code in file name");
            assert_eq!(parsed.errors[0].code.as_str(), code, "{name}");
            errors += 1;
        }
    }
    assert_eq!((requests, ok, errors), (4, 2, 16));
}

#[test]
fn requests() {
    let r = PirRequest::from_json(&read("request_with_mandatory_attributes.json")).expect("parses");
    assert_eq!(r.ird(), "139439976");
    assert!(r.pie_ird().is_none());
    assert_eq!(r.to_json(), br#"{"IRD":"139439976"}"#);

    let r =
        PirRequest::from_json(&read("request_with_optional_attributes_1.json")).expect("parses");
    assert_eq!(r.pie_ird(), Some("012345678"));
    assert_eq!(r.dob(), Some("2011-04-02"), "IR's sample spells it DOB");
    assert_eq!(r.formatted_name(), Some("My business"));
    assert_eq!(
        r.formatted_address(),
        Some("123 HA CRESCENT, WIRI, AUCKLAND 2104")
    );
    let json = String::from_utf8(r.to_json()).expect("utf8");
    assert!(
        json.contains(r#""Dob":"2011-04-02""#) && !json.contains("DOB"),
        "{json}"
    );

    let r =
        PirRequest::from_json(&read("request_with_optional_attributes_2.json")).expect("parses");
    let name = r.name().expect("name");
    assert_eq!(
        (name.first_name(), name.middle_name(), name.last_name()),
        (Some("Gary"), Some(""), Some("Allen"))
    );
    let addr = r.address().expect("address");
    assert_eq!(addr.country(), Some("NZ"));
    assert_eq!(addr.state(), Some(""));
    assert_eq!(addr.post_code(), Some("2104"));

    let r =
        PirRequest::from_json(&read("request_with_optional_attributes_3.json")).expect("parses");
    assert_eq!(r.filing_period(), Some("2023-03-31"));
}

#[test]
fn ir_sample_irds_fail_modulus_11_as_ir_notes() {
    // IR's own example 123456789 fails the check; local validation says so.
    let r =
        PirRequest::from_json(&read("request_with_optional_attributes_3.json")).expect("parses");
    let today = time::macros::date!(2023 - 06 - 01);
    let fields: Vec<_> = r
        .violations(today)
        .iter()
        .map(|e| (e.field, e.rule.code()))
        .collect();
    assert!(fields.contains(&("IRD", "ird_check_digit")), "{fields:?}");
}

#[test]
fn responses() {
    let out = PirResponse::parse(&read("response_with_SuggestedPirRate.json"))
        .and_then(PirResponse::into_outcome)
        .expect("outcome");
    assert_eq!(out.rate(), Some(PirRate::MIDDLE));
    assert_eq!(out.rate().map(|r| r.to_string()), Some("17.5".to_owned()));
    assert_eq!(out.pie_ird(), Some("012345678"));
    assert_eq!(out.ird(), "123456789");

    let out = PirResponse::parse(&read("response_with_PirRateNotFound.json"))
        .and_then(PirResponse::into_outcome)
        .expect("outcome");
    assert!(matches!(out, PirOutcome::NotFound { .. }));
    assert!(out.is_not_found());
    assert_eq!(out.rate(), None);
}

#[test]
fn error_bodies_become_typed_errors() {
    let cases = [
        (
            "response_EV1000_NoIncomingPost.json",
            IrCode::EV1000,
            400,
            ErrorKind::Rejected,
        ),
        (
            "response_EV1023_NoCustomerAssoicatedToTLSCert.json",
            IrCode::EV1023,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1024_AuthenticationError.json",
            IrCode::EV1024,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1025_MissingToken.json",
            IrCode::EV1025,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1026_AuthenticationErrorInvalidDate.json",
            IrCode::EV1026,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1027_CredentialNotFound.json",
            IrCode::EV1027,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1028_JWTSignatureFailed.json",
            IrCode::EV1028,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1029_JWTAlgorithmNotConfigured.json",
            IrCode::EV1029,
            401,
            ErrorKind::Authentication,
        ),
        (
            "response_EV1041_LogonOauthTokenDoesNotHaveAccess.json",
            IrCode::EV1041,
            401,
            ErrorKind::Authorisation,
        ),
        (
            "response_EV1042_UnableToValidateConsumerToJWT.json",
            IrCode::EV1042,
            401,
            ErrorKind::Authorisation,
        ),
        (
            "response_EV1043_UnableToValidateJWTToMember.json",
            IrCode::EV1043,
            401,
            ErrorKind::Authorisation,
        ),
        (
            "response_EV1100_InvalidInputParametersFilingPeriod.json",
            IrCode::EV1100,
            400,
            ErrorKind::Rejected,
        ),
        (
            "response_EV1100_InvalidInputParametersFormattedName.json",
            IrCode::EV1100,
            400,
            ErrorKind::Rejected,
        ),
        (
            "response_EV1100_InvalidInputParametersIRD.json",
            IrCode::EV1100,
            400,
            ErrorKind::Rejected,
        ),
        (
            "response_PER100_InvalidFilingPeriod.json",
            IrCode::PER100,
            400,
            ErrorKind::Rejected,
        ),
        (
            "response_PIR101_PieIRDIsRequired.json",
            IrCode::PIR101,
            400,
            ErrorKind::Rejected,
        ),
    ];
    for (file, code, status, kind) in cases {
        let body = IrErrorBody::parse(&read(file)).expect(file);
        let item = &body.errors[0];
        assert_eq!(item.code, code, "{file}");
        assert_eq!(
            Some(item.error_type.as_str()),
            code.class().map(|c| c.as_str()),
            "{file}"
        );
        assert_eq!(code.http_status(), Some(status), "{file}");
        let err = nzpir::Error::from_ir(status, body.clone());
        assert_eq!(err.kind(), kind, "{file}");
        assert_eq!(err.ir_code(), Some(&code), "{file}");
        assert_eq!(err.http_status(), Some(status), "{file}");
        // Re-serialising gives back IR's body exactly (modulo white space).
        let again: serde_json::Value = serde_json::to_value(&body).expect("json");
        let original: serde_json::Value = serde_json::from_slice(&read(file)).expect("json");
        assert_eq!(again, original, "{file}");
    }
}

#[test]
fn ev1100_field_names_match_samples() {
    for (file, field) in [
        (
            "response_EV1100_InvalidInputParametersFilingPeriod.json",
            "FilingPeriod",
        ),
        (
            "response_EV1100_InvalidInputParametersFormattedName.json",
            "FormattedName",
        ),
        ("response_EV1100_InvalidInputParametersIRD.json", "IRD"),
    ] {
        let body = IrErrorBody::parse(&read(file)).expect(file);
        assert_eq!(body.errors[0].field(), Some(field));
        assert_eq!(
            body.errors[0],
            nzpir::IrErrorItem::invalid_field(field),
            "{file}"
        );
    }
}

#[test]
fn known_messages_match_samples() {
    for entry in std::fs::read_dir(samples_dir()).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.starts_with("response_")
            || name.starts_with("response_with_")
            || name.contains("EV1100")
        {
            continue;
        }
        let body = IrErrorBody::parse(&std::fs::read(&path).expect("read")).expect("body");
        let item = &body.errors[0];
        assert_eq!(
            Some(item.message.as_str()),
            item.code.ir_message(),
            "{name}"
        );
        assert_eq!(item, &nzpir::IrErrorItem::new(item.code.clone()), "{name}");
    }
}

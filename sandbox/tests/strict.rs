//! Profile `strict`: every error code from its real cause, and the
//! authorisation model of build pack 2.4 over the default fixture.

mod common;

use common::{
    Claims, Conn, Identity, Signer, es256, now, oauth_tokens, pie, pir, rs256, sign,
    sign_with_header, start,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use serde_json::{Value, json};

fn sample(name: &str) -> Value {
    let path = format!("{}/../ir/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample exists"))
        .expect("sample JSON")
}

const SCHEME: &str = "kowhai-scheme";
const PIE: &str = "tuatara-funds";

fn body(ird: &str, pie_ird: Option<&str>) -> String {
    match pie_ird {
        Some(p) => format!(r#"{{"IRD":"{ird}","PieIRD":"{p}"}}"#),
        None => format!(r#"{{"IRD":"{ird}"}}"#),
    }
}

fn expect(r: &common::Response, status: u16, code: &str) {
    assert_eq!(
        (r.status, r.code().as_deref()),
        (status, Some(code)),
        "{}",
        r.text()
    );
}

#[test]
fn tls_and_token_errors() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let scheme = pie(m, SCHEME);
    let ok = body("139276507", Some(&scheme));

    // EV1023: a certificate from the sandbox CA that is not registered.
    let mut c = Conn::open(m, Identity::Unregistered).expect("TLS accepts CA-signed certificates");
    let r = c
        .request(
            "POST",
            "/gateway/calculators/pir",
            &[("Authorization", &rs256(m, None))],
            ok.as_bytes(),
        )
        .expect("answered");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        sample("response_EV1023_NoCustomerAssoicatedToTLSCert.json")
    );

    // EV1025: no token.
    let r = pir(m, None, &ok);
    assert_eq!(r.json(), sample("response_EV1025_MissingToken.json"));
    for empty in ["", "Bearer", "Bearer  "] {
        expect(&pir(m, Some(empty), &ok), 401, "EV1025");
    }

    // EV1024: malformed tokens, unknown bearer tokens.
    let r = pir(m, Some("not-a-jwt"), &ok);
    assert_eq!(r.json(), sample("response_EV1024_AuthenticationError.json"));
    expect(&pir(m, Some("a.b.c"), &ok), 401, "EV1024");
    expect(&pir(m, Some("Bearer no-such-token"), &ok), 401, "EV1024");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("other".to_owned());
    let wrong_kid = sign_with_header(
        m,
        &Signer::Rs256,
        &header,
        &Claims::for_cred(m, &Signer::Rs256),
    );
    expect(&pir(m, Some(&wrong_kid), &ok), 401, "EV1024");

    // EV1027: the sub names no registered credential (the TLS client
    // certificate's thumbprint; a lower-case thumbprint).
    let mut claims = Claims::for_cred(m, &Signer::Rs256);
    claims.sub = m.thumbprints.get("client").cloned();
    let r = pir(
        m,
        Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &claims)),
        &ok,
    );
    assert_eq!(r.json(), sample("response_EV1027_CredentialNotFound.json"));
    let mut claims = Claims::for_cred(m, &Signer::Rs256);
    claims.sub = claims.sub.map(|s| s.to_ascii_lowercase());
    let r = pir(
        m,
        Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &claims)),
        &ok,
    );
    expect(&r, 401, "EV1027");

    // EV1028: signed by another key; a token whose claims were changed.
    let other = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("RSA key");
    let key = EncodingKey::from_rsa_pem(other.serialize_pem().as_bytes()).expect("key");
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("M2M".to_owned());
    h.typ = Some("JWT".to_owned());
    let c = Claims::for_cred(m, &Signer::Rs256);
    let claims_json =
        json!({"sub": c.sub, "iss": "x", "startLogon": null, "iat": c.iat, "exp": c.exp});
    let forged = jsonwebtoken::encode(&h, &claims_json, &key).expect("signs");
    let r = pir(m, Some(&forged), &ok);
    assert_eq!(r.json(), sample("response_EV1028_JWTSignatureFailed.json"));
    let good = rs256(m, None);
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        forged.split('.').nth(1).unwrap_or(""),
        parts[2]
    );
    expect(&pir(m, Some(&tampered), &ok), 401, "EV1028");
    let ec = es256(m, None);
    let mut sig = ec.rsplit('.').next().unwrap_or("").to_owned().into_bytes();
    sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
    let bad_ec = format!(
        "{}.{}",
        ec.rsplit_once('.').map(|(a, _)| a).unwrap_or(""),
        String::from_utf8(sig).expect("ascii")
    );
    expect(&pir(m, Some(&bad_ec), &ok), 401, "EV1028");

    // EV1029: an algorithm not configured for the credential (RS256 is).
    let ps = sign(
        m,
        &Signer::Rs256,
        Algorithm::PS256,
        &Claims::for_cred(m, &Signer::Rs256),
    );
    let r = pir(m, Some(&ps), &ok);
    assert_eq!(
        r.json(),
        sample("response_EV1029_JWTAlgorithmNotConfigured.json")
    );
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("M2M".to_owned());
    h.typ = Some("JWT".to_owned());
    let hs =
        jsonwebtoken::encode(&h, &claims_json, &EncodingKey::from_secret(b"guess")).expect("signs");
    expect(&pir(m, Some(&hs), &ok), 401, "EV1029");

    // EV1026: expired, issued in the future, living longer than IR's 8 hours,
    // exp before iat, issued before the signing certificate's notBefore.
    let t = now();
    let not_before = {
        let pem = std::fs::read(&m.jwt_rs256_cert).expect("cert");
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).expect("pem");
        block
            .parse_x509()
            .expect("x509")
            .validity()
            .not_before
            .timestamp()
    };
    for (iat, exp) in [
        (t - 900, t - 300),
        (t + 600, t + 900),
        (t, t + 8 * 3600 + 1),
        (t, t - 1),
    ] {
        let mut c = Claims::for_cred(m, &Signer::Rs256);
        c.iat = iat;
        c.exp = exp;
        let r = pir(m, Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)), &ok);
        assert_eq!(
            r.json(),
            sample("response_EV1026_AuthenticationErrorInvalidDate.json"),
            "{iat} {exp}"
        );
    }
    // Lifetimes up to IR's 8 hours are accepted.
    for (iat, exp) in [(t, t + 8 * 3600), (t, t + 7200)] {
        let mut c = Claims::for_cred(m, &Signer::Rs256);
        c.iat = iat;
        c.exp = exp;
        let r = pir(m, Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)), &ok);
        assert_eq!(r.status, 200, "{iat} {exp}: {}", r.text());
    }
    // `iat` must not precede the certificate's notBefore: with the sandbox's
    // clock ten minutes after it, a token otherwise in time is refused when
    // issued a second before it and accepted when issued at it.
    sb.set_clock_offset(not_before + 600 - t);
    for (iat, status) in [(not_before - 1, 401), (not_before, 200)] {
        let mut c = Claims::for_cred(m, &Signer::Rs256);
        c.iat = iat;
        c.exp = not_before + 900;
        let r = pir(m, Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)), &ok);
        assert_eq!(r.status, status, "{iat}: {}", r.text());
        if status == 401 {
            assert_eq!(
                r.json(),
                sample("response_EV1026_AuthenticationErrorInvalidDate.json")
            );
        }
    }
    sb.set_clock_offset(0);
    // Within the allowed skew it is fine.
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    c.iat = t + 30;
    c.exp = t + 330;
    let r = pir(m, Some(&sign(m, &Signer::Rs256, Algorithm::RS256, &c)), &ok);
    assert_eq!(r.status, 200, "{}", r.text());
    // The sandbox's clock decides: an hour ahead, a fresh token has expired.
    sb.set_clock_offset(3600);
    expect(&pir(m, Some(&rs256(m, None)), &ok), 401, "EV1026");
    sb.set_clock_offset(0);
    assert_eq!(pir(m, Some(&rs256(m, None)), &ok).status, 200);
}

#[test]
fn body_errors_with_valid_auth() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let jwt = rs256(m, None);
    let scheme = pie(m, SCHEME);
    // EV1000.
    let r = pir(m, Some(&jwt), "");
    assert_eq!(r.json(), sample("response_EV1000_NoIncomingPost.json"));
    // EV1100 per field: modulus 11 fails, 8 digits, a number, letters.
    for ird in [
        r#""123456789""#,
        r#""49091850""#,
        "139276507",
        r#""13927650A""#,
        r#""""#,
    ] {
        let r = pir(
            m,
            Some(&jwt),
            &format!(r#"{{"IRD":{ird},"PieIRD":"{scheme}"}}"#),
        );
        assert_eq!(
            r.json(),
            sample("response_EV1100_InvalidInputParametersIRD.json"),
            "{ird}"
        );
    }
    // One error per field.
    let r = pir(
        m,
        Some(&jwt),
        r#"{"IRD":"123456789","PieIRD":"12","FilingPeriod":"2024-3-31","Name":{"FirstName":"","LastName":"X"},"Address":{"Street":"1 A St","City":"X","Country":"AB"}}"#,
    );
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    e["message"]
                        .as_str()
                        .unwrap_or("")
                        .rsplit(' ')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(r.status, 400);
    assert_eq!(
        fields,
        ["IRD", "PieIRD", "FilingPeriod", "FirstName", "Country"]
    );
    // PER100.
    let r = pir(
        m,
        Some(&jwt),
        &format!(r#"{{"IRD":"139276507","PieIRD":"{scheme}","FilingPeriod":"2016-03-31"}}"#),
    );
    assert_eq!(r.json(), sample("response_PER100_InvalidFilingPeriod.json"));
    // A valid filing period is fine.
    let r = pir(
        m,
        Some(&jwt),
        &format!(r#"{{"IRD":"139276507","PieIRD":"{scheme}","FilingPeriod":"2024-03-31"}}"#),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn who_may_ask_about_whom() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let scheme = pie(m, SCHEME);
    let fund = pie(m, PIE);
    let rate = |r: &common::Response| -> Value {
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if v["PirRateNotFound"] == json!(true) {
            json!("not found")
        } else {
            v["SuggestedPirRate"].clone()
        }
    };

    // `sub` of the RS256 credential: KiwiSaver provider of kowhai-scheme.
    let jwt = rs256(m, None);
    let r = pir(m, Some(&jwt), &body("139276507", Some(&scheme)));
    assert_eq!(
        r.json(),
        json!({"IRD":"139276507","PieIRD":scheme,"SuggestedPirRate":28})
    );
    assert_eq!(
        rate(&pir(m, Some(&jwt), &body("139276310", Some(&scheme)))),
        json!(10.5)
    );
    assert_eq!(
        rate(&pir(m, Some(&jwt), &body("139439976", Some(&scheme)))),
        json!(10.5)
    );
    assert_eq!(
        rate(&pir(m, Some(&jwt), &body("049091850", Some(&scheme)))),
        json!("not found")
    );
    // ... PIR101 without PieIRD (a JWT without startLogon must name the PIE).
    let r = pir(m, Some(&jwt), &body("139276507", None));
    assert_eq!(r.json(), sample("response_PIR101_PieIRDIsRequired.json"));
    // ... EV1043 for a non-member of its scheme; EV1042 for another PIE.
    let r = pir(m, Some(&jwt), &body("139276272", Some(&scheme)));
    assert_eq!(
        r.json(),
        sample("response_EV1043_UnableToValidateJWTToMember.json")
    );
    expect(
        &pir(m, Some(&jwt), &body("136410132", Some(&scheme))),
        401,
        "EV1043",
    );
    let r = pir(m, Some(&jwt), &body("139276272", Some(&fund)));
    assert_eq!(
        r.json(),
        sample("response_EV1042_UnableToValidateConsumerToJWT.json")
    );

    // `sub` of the ES256 credential: the scheme administration manager.
    let ec = es256(m, None);
    assert_eq!(
        rate(&pir(m, Some(&ec), &body("139276507", Some(&scheme)))),
        json!(28)
    );
    expect(
        &pir(m, Some(&ec), &body("139276272", Some(&scheme))),
        401,
        "EV1043",
    );
    expect(
        &pir(m, Some(&ec), &body("139276272", Some(&fund))),
        401,
        "EV1042",
    );

    // startLogon of the PIE's own logon: authorised by the logon, not the credential.
    let tuatara = rs256(m, Some("tuatara.admin"));
    assert_eq!(
        rate(&pir(m, Some(&tuatara), &body("139276272", Some(&fund)))),
        json!(17.5)
    );
    assert_eq!(
        rate(&pir(m, Some(&tuatara), &body("049091850", Some(&fund)))),
        json!("not found")
    );
    expect(
        &pir(m, Some(&tuatara), &body("139276507", Some(&fund))),
        401,
        "EV1043",
    );
    expect(
        &pir(m, Some(&tuatara), &body("139276507", Some(&scheme))),
        401,
        "EV1042",
    );
    expect(
        &pir(m, Some(&tuatara), &body("139276272", None)),
        400,
        "PIR101",
    );
    // ... soft matching ties an investor with no other link.
    let soft = format!(
        r#"{{"IRD":"139276329","PieIRD":"{fund}","Name":{{"FirstName":"Gary","LastName":"Allen"}},"Dob":"1990-01-02","Address":{{"Street":"123 HA CRESCENT","City":"AUCKLAND","Country":"NZ"}}}}"#
    );
    assert_eq!(rate(&pir(m, Some(&tuatara), &soft)), json!(28));
    let soft_formatted = format!(
        r#"{{"IRD":"139276329","PieIRD":"{fund}","FormattedName":"Allen, Gary","DOB":"1990-01-02","FormattedAddress":"123 Ha Crescent, Wiri, Auckland 2104"}}"#
    );
    assert_eq!(rate(&pir(m, Some(&tuatara), &soft_formatted)), json!(28));
    let wrong_dob = soft.replace("1990-01-02", "1990-01-03");
    expect(&pir(m, Some(&tuatara), &wrong_dob), 401, "EV1043");
    let no_address = format!(
        r#"{{"IRD":"139276329","PieIRD":"{fund}","FormattedName":"Allen, Gary","Dob":"1990-01-02"}}"#
    );
    expect(&pir(m, Some(&tuatara), &no_address), 401, "EV1043");

    // startLogon of the tax preparer of the PIE.
    let ruru = es256(m, Some("ruru.agent"));
    assert_eq!(
        rate(&pir(m, Some(&ruru), &body("139276272", Some(&fund)))),
        json!(17.5)
    );
    assert_eq!(
        rate(&pir(m, Some(&ruru), &body("139332754", Some(&fund)))),
        json!(17.5)
    );
    expect(
        &pir(m, Some(&ruru), &body("139276507", Some(&fund))),
        401,
        "EV1043",
    );
    // ... no PIR101 for a tax preparer's logon, but every startLogon rule
    // needs the PIE named, so: EV1042.
    expect(
        &pir(m, Some(&ruru), &body("139332754", None)),
        401,
        "EV1042",
    );

    // startLogon of the provider's logon, the scheme's own logon.
    let ops = rs256(m, Some("kowhai.ops"));
    assert_eq!(
        rate(&pir(m, Some(&ops), &body("139276310", Some(&scheme)))),
        json!(10.5)
    );
    expect(&pir(m, Some(&ops), &body("139276310", None)), 400, "PIR101");
    let own = rs256(m, Some("kowhai.scheme"));
    assert_eq!(
        rate(&pir(m, Some(&own), &body("139276507", Some(&scheme)))),
        json!(28)
    );
    expect(
        &pir(m, Some(&own), &body("139276272", Some(&scheme))),
        401,
        "EV1043",
    );

    // startLogon that is unknown, or has no party.
    expect(
        &pir(
            m,
            Some(&rs256(m, Some("nobody.here"))),
            &body("139276507", Some(&scheme)),
        ),
        401,
        "EV1042",
    );
    expect(
        &pir(
            m,
            Some(&rs256(m, Some("orphan.user"))),
            &body("139276507", Some(&scheme)),
        ),
        401,
        "EV1042",
    );
    // An empty startLogon is no startLogon: authorised by `sub`.
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    c.start_logon = Some(String::new());
    let empty_logon = sign(m, &Signer::Rs256, Algorithm::RS256, &c);
    assert_eq!(
        rate(&pir(
            m,
            Some(&empty_logon),
            &body("139276507", Some(&scheme))
        )),
        json!(28)
    );
}

#[test]
fn oauth_bearer_calls() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let scheme = pie(m, SCHEME);
    let fund = pie(m, PIE);
    let bearer = |client: &str| {
        let t = oauth_tokens(m, client);
        format!(
            "Bearer {}",
            t["access_token"].as_str().expect("access token")
        )
    };

    // The tax preparer's logon: its clients without PieIRD.
    let ruru = bearer("sandbox-app");
    let r = pir(m, Some(&ruru), &body("139439976", None));
    assert_eq!(r.json(), json!({"IRD":"139439976","SuggestedPirRate":10.5}));
    assert_eq!(pir(m, Some(&ruru), &body("139332754", None)).status, 200);
    assert_eq!(
        pir(m, Some(&ruru), &body("139276272", Some(&fund))).status,
        200
    );
    // EV1041: an investor the logon has no access to.
    let r = pir(m, Some(&ruru), &body("139276329", None));
    assert_eq!(
        r.json(),
        sample("response_EV1041_LogonOauthTokenDoesNotHaveAccess.json")
    );
    expect(
        &pir(m, Some(&ruru), &body("139276507", Some(&scheme))),
        401,
        "EV1041",
    );

    // The provider's logon: members of its scheme, with PieIRD.
    let kowhai = bearer("sandbox-kowhai");
    assert_eq!(
        pir(m, Some(&kowhai), &body("139276507", Some(&scheme))).status,
        200
    );
    expect(
        &pir(m, Some(&kowhai), &body("139276507", None)),
        400,
        "PIR101",
    );
    expect(
        &pir(m, Some(&kowhai), &body("139276272", Some(&scheme))),
        401,
        "EV1041",
    );

    // EV1040: a logon with no access to anything.
    let orphan = bearer("sandbox-orphan");
    let r = pir(m, Some(&orphan), &body("139276507", Some(&scheme)));
    expect(&r, 401, "EV1040");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Start logon associated to OAuth token does not have access to any accounts or customers"
    );

    // EV1026: an expired access token (the sandbox's clock moves 8 hours on).
    sb.set_clock_offset(8 * 3600 + 1);
    expect(
        &pir(m, Some(&ruru), &body("139439976", None)),
        401,
        "EV1026",
    );
}

#[test]
fn ir003_after_the_limit_in_a_rolling_day() {
    let sb = Sandbox::start(SandboxOptions::default().ir003_limit(3)).expect("starts");
    let m = sb.manifest();
    assert_eq!(m.ir003_limit, 3);
    let scheme = pie(m, SCHEME);
    let jwt = rs256(m, None);
    for _ in 0..3 {
        assert_eq!(
            pir(m, Some(&jwt), &body("139276507", Some(&scheme))).status,
            200
        );
    }
    let r = pir(m, Some(&jwt), &body("139276507", Some(&scheme)));
    expect(&r, 401, "IR003");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "The IRD supplied has been queried too many times within the past 24 hours."
    );
    // Refused queries do not count; other investors are not affected.
    assert_eq!(
        pir(m, Some(&jwt), &body("139276310", Some(&scheme))).status,
        200
    );
    assert_eq!(sb.pir_calls_for("139276507"), 4);
    // A day later the window has rolled on. The token is minted for the
    // sandbox's clock.
    sb.set_clock_offset(24 * 3600 + 5);
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    c.iat += 24 * 3600 + 5;
    c.exp += 24 * 3600 + 5;
    let later = sign(m, &Signer::Rs256, Algorithm::RS256, &c);
    assert_eq!(
        pir(m, Some(&later), &body("139276507", Some(&scheme))).status,
        200
    );
    sb.reset_quotas();
    assert_eq!(sb.stats().ir_codes.get("IR003"), Some(&1));
}

/// PER100 also means the investor has no income tax period for the filing
/// period (REFERENCE: "What IR's answers mean in production"): a fixture
/// investor lists the years it has, and other periods are PER100.
#[test]
fn per100_for_a_period_without_an_income_tax_period() {
    let mut f = nzpir_sandbox::Fixture::default_fixture();
    let inv = f
        .investors
        .iter_mut()
        .find(|i| i.ird == "139276507")
        .expect("investor");
    let current = nzpir::FilingPeriod::current(&nzpir::SystemClock).year();
    inv.income_tax_periods = Some(vec![current - 2, current - 1]);
    let sb = Sandbox::start(SandboxOptions::default().fixture(f)).expect("starts");
    let m = sb.manifest();
    let scheme = pie(m, SCHEME);
    let jwt = rs256(m, None);
    let with_period = |year: i32| {
        format!(r#"{{"IRD":"139276507","PieIRD":"{scheme}","FilingPeriod":"{year}-03-31"}}"#)
    };
    for year in [current - 2, current - 1] {
        let r = pir(m, Some(&jwt), &with_period(year));
        assert_eq!(r.status, 200, "{year}: {}", r.text());
    }
    for year in [current - 4, current - 3] {
        let r = pir(m, Some(&jwt), &with_period(year));
        assert_eq!(
            r.json(),
            sample("response_PER100_InvalidFilingPeriod.json"),
            "{year}"
        );
    }
    // No FilingPeriod: the current period, which it has none for.
    expect(
        &pir(m, Some(&jwt), &body("139276507", Some(&scheme))),
        400,
        "PER100",
    );
    // Investors without the field have every period.
    let r = pir(m, Some(&jwt), &body("139276310", Some(&scheme)));
    assert_eq!(r.status, 200, "{}", r.text());
}

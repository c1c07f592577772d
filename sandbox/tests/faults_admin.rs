//! Fault injection (Rust API and admin HTTP API) and the admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::{Conn, Identity, call, pir, start};
use nzpir_sandbox::{Fault, FaultKind, FaultScope, Profile};
use serde_json::{Value, json};

const BODY: &str = r#"{"IRD":"139276507"}"#;

fn pir_on(conn: &mut Conn) -> std::io::Result<common::Response> {
    conn.request("POST", "/gateway/calculators/pir", &[], BODY.as_bytes())
}

/// Sends one PIR request and reads everything until the server closes.
fn raw_exchange(m: &nzpir_sandbox::Manifest) -> Vec<u8> {
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let req = format!(
        "POST /gateway/calculators/pir HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    c.send_raw(req.as_bytes()).expect("sent");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read_raw(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

#[test]
fn fault_kinds_through_the_rust_api() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();

    // Delay, once.
    sb.set_fault(Fault::delay(Duration::from_millis(400)).times(1));
    let t = Instant::now();
    assert_eq!(pir(m, None, BODY).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
    let t = Instant::now();
    assert_eq!(pir(m, None, BODY).status, 200);
    assert!(t.elapsed() < Duration::from_millis(400));

    // 503 twice, then normal answers: a retrying client's three attempts all count.
    sb.reset_stats();
    sb.set_fault(Fault::status(503).times(2));
    let r = pir(m, None, BODY);
    assert_eq!(r.status, 503);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.text().contains("503 Service Unavailable"));
    assert_eq!(pir(m, None, BODY).status, 503);
    assert_eq!(pir(m, None, BODY).status, 200);
    assert_eq!(sb.pir_calls_for("139276507"), 3);
    assert_eq!(sb.stats().pir_requests, 3);
    assert_eq!(sb.stats().faults_applied, 2);
    assert!(sb.faults().is_empty());

    // 502 until cleared.
    sb.set_fault(Fault::status(502));
    for _ in 0..3 {
        assert_eq!(pir(m, None, BODY).status, 502);
    }
    sb.clear_faults();
    assert_eq!(pir(m, None, BODY).status, 200);

    // PIR150.
    sb.set_fault(Fault::new(FaultKind::Pir150).times(1));
    let r = pir(m, None, BODY);
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"errors":[{"code":"PIR150","type":"server","message":"Unknown error occurred while processing."}]})
    );

    // Dropped before the body is read: no answer, counted in total only.
    sb.reset_stats();
    sb.set_fault(Fault::new(FaultKind::DropBeforeRead).times(1));
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    assert!(pir_on(&mut c).is_err());
    assert_eq!(sb.pir_calls_for("139276507"), 0);
    assert_eq!(sb.stats().pir_requests, 1);

    // Dropped after the body is read: no answer, counted for the IRD.
    sb.set_fault(Fault::new(FaultKind::DropAfterRead).times(1));
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    assert!(pir_on(&mut c).is_err());
    assert_eq!(sb.pir_calls_for("139276507"), 1);

    // Malformed body: 200 whose body is not JSON.
    sb.set_fault(Fault::new(FaultKind::MalformedBody).times(1));
    let r = pir(m, None, BODY);
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "{}",
        r.text()
    );
    assert!(r.text().starts_with("{\"IRD\""));

    // Truncated body: the Content-Length promises more than arrives.
    sb.set_fault(Fault::new(FaultKind::TruncatedBody).times(1));
    let raw = raw_exchange(m);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a response head arrived");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert!(body.len() < len, "{} of {len}", body.len());
    assert!(!body.is_empty());

    // And afterwards all is well on a fresh connection.
    assert_eq!(pir(m, None, BODY).status, 200);
}

#[test]
fn faults_apply_in_order_and_by_scope() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();
    sb.add_fault(Fault::status(503).times(1));
    sb.add_fault(Fault::new(FaultKind::Pir150).times(1));
    sb.add_fault(Fault::status(504).scope(FaultScope::Token).times(1));
    assert_eq!(pir(m, None, BODY).status, 503);
    assert_eq!(pir(m, None, BODY).code().as_deref(), Some("PIR150"));
    assert_eq!(pir(m, None, BODY).status, 200);
    let r = common::token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        "grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(r.status, 504);
    assert_eq!(sb.stats().token_requests.get("refresh_token"), Some(&1));
    let r = common::token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        "grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(r.status, 401);
}

fn admin(m: &nzpir_sandbox::Manifest, method: &str, path: &str, body: &str) -> common::Response {
    call(
        m,
        method,
        &format!("/__sandbox{path}"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

#[test]
fn admin_http_api() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();

    // Manifest over HTTP is the manifest on disk.
    let r = admin(m, "GET", "/manifest", "");
    assert_eq!(r.status, 200);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.manifest_path()).expect("manifest"))
            .expect("JSON");
    assert_eq!(r.json(), on_disk);
    assert_eq!(on_disk["url"], m.url.as_str());

    // Faults: add, list, count down, replace, clear; bad ones refused.
    let r = admin(
        m,
        "POST",
        "/faults",
        r#"{"kind":"status","status":503,"times":1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"kind":"status","status":503,"times":1,"scope":"pir"}])
    );
    let r = admin(
        m,
        "POST",
        "/faults",
        r#"[{"kind":"delay","ms":10},{"kind":"pir150","times":2}]"#,
    );
    assert_eq!(r.json().as_array().map(Vec::len), Some(3));
    assert_eq!(pir(m, None, BODY).status, 503);
    assert_eq!(
        admin(m, "GET", "/faults", "")
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let r = admin(
        m,
        "PUT",
        "/faults",
        r#"{"kind":"drop_before_read","times":1}"#,
    );
    assert_eq!(
        r.json(),
        json!([{"kind":"drop_before_read","times":1,"scope":"pir"}])
    );
    assert_eq!(sb.faults().len(), 1);
    assert_eq!(admin(m, "DELETE", "/faults", "").json(), json!([]));
    for bad in [
        r#"{"kind":"status","status":200}"#,
        r#"{"kind":"status","status":503,"count":1}"#,
        r#"{"kind":"explode"}"#,
        r#"{"kind":"pir150","scope":"token"}"#,
        r#"{"kind":"delay","ms":1,"times":0}"#,
        r#"{"kind":"delay","ms":-5}"#,
        r#"{"kind":"answer","status":70000,"body":"{}"}"#,
        r#"{"kind":"answer","status":200,"body":"{}"}"#,
        "not json",
    ] {
        let r = admin(m, "POST", "/faults", bad);
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].is_string());
    }
    // Each error names the member or the rule.
    for (bad, says) in [
        (
            json!({"kind":"delay","ms":-5}),
            "`ms` must be a whole number",
        ),
        (
            json!({"kind":"status","status":"503"}),
            "`status` must be a whole number",
        ),
        (
            json!({"kind":"answer","status":200,"body":"{}"}),
            "between 400 and 599",
        ),
        (json!({"kind":"explode"}), "unknown variant `explode`"),
        (
            json!({"kind":"delay","ms":1,"count":1}),
            "unknown fault member `count`",
        ),
        (json!(["delay"]), "a fault is a JSON object"),
    ] {
        let e = Fault::from_json(bad.clone()).expect_err("refused");
        assert!(e.contains(says), "{bad}: {e}");
    }
    let ok = Fault::from_json(json!({"kind":"answer","status":400,"body":"{}","times":1}))
        .expect("an answer fault");
    assert_eq!(ok.times, Some(1));
    assert!(sb.faults().is_empty());

    // Calls and stats.
    sb.reset_stats();
    pir(m, None, BODY);
    pir(m, None, BODY);
    let r = admin(m, "GET", "/calls?ird=139276507", "");
    assert_eq!(r.json(), json!({"ird":"139276507","calls":2}));
    assert_eq!(admin(m, "GET", "/calls", "").json(), json!({"total":2}));
    let s = admin(m, "GET", "/stats", "").json();
    assert_eq!(s["pir_requests"], 2);
    assert_eq!(s["ir_codes"]["EV1025"], 2);
    assert_eq!(s["pir_responses"]["401"], 2);
    let s = admin(m, "DELETE", "/stats", "").json();
    assert_eq!(s["pir_requests"], 0);
    assert_eq!(sb.pir_calls_for("139276507"), 0);

    // Clock.
    let r = admin(m, "PUT", "/clock", r#"{"offset_secs": 120}"#);
    assert_eq!(r.json()["offset_secs"], 120);
    assert_eq!(sb.clock_offset(), 120);
    assert_eq!(admin(m, "GET", "/clock", "").json()["offset_secs"], 120);
    assert_eq!(admin(m, "PUT", "/clock", r#"{"offset": 1}"#).status, 400);
    assert_eq!(admin(m, "DELETE", "/quotas", "").status, 200);

    // Index, unknown paths, wrong methods.
    assert_eq!(admin(m, "GET", "", "").status, 200);
    assert_eq!(admin(m, "GET", "/nothing", "").status, 404);
    assert_eq!(admin(m, "PATCH", "/faults", "").status, 405);
}

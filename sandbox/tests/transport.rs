//! Transport: real external clients (curl, openssl), the TLS policy, keep-alive
//! under 64 concurrent clients, and bad input of every shape.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Conn, Identity, call, pie, pir, rs256, start};
use nzpir_sandbox::Profile;

fn curl(extra: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(extra)
        .output()
        .expect("curl runs")
}

#[test]
fn curl_with_and_without_a_client_certificate() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let ca = m.ca_cert.to_string_lossy().into_owned();
    let cert = m.client_cert.to_string_lossy().into_owned();
    let key = m.client_key.to_string_lossy().into_owned();
    let url = format!("{}/gateway/calculators/pir", m.url);
    let jwt = rs256(m, None);
    let auth = format!("Authorization: {jwt}");
    let body = format!(
        r#"{{"IRD":"139276507","PieIRD":"{}"}}"#,
        pie(m, "kowhai-scheme")
    );
    let out = curl(&[
        "--cert",
        &cert,
        "--key",
        &key,
        "--cacert",
        &ca,
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json; charset=utf-8",
        "--data",
        &body,
        &url,
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.ends_with("\n200"), "{text}");
    assert!(text.contains(r#""SuggestedPirRate":28"#), "{text}");

    // localhost works too (the server certificate names it).
    let local = url.replace("127.0.0.1", "localhost");
    let out = curl(&[
        "--cert", &cert, "--key", &key, "--cacert", &ca, "-H", &auth, "--data", &body, &local,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("\n200"));

    // Without a client certificate: no HTTP response at all.
    let out = curl(&["--cacert", &ca, "-H", &auth, "--data", &body, &url]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "curl must fail: {text}");
    assert!(text.ends_with("\n000"), "no HTTP status expected: {text}");
    assert!(sb.stats().tls_handshake_failures >= 1);
    assert_eq!(sb.stats().pir_requests, 2);

    // Forced TLS 1.2 works; TLS 1.1 does not.
    let out = curl(&[
        "--cert",
        &cert,
        "--key",
        &key,
        "--cacert",
        &ca,
        "--tls-max",
        "1.2",
        "-H",
        &auth,
        "--data",
        &body,
        &url,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("\n200"));
    let out = curl(&[
        "--cert",
        &cert,
        "--key",
        &key,
        "--cacert",
        &ca,
        "--tlsv1.1",
        "--tls-max",
        "1.1",
        &url,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("\n000"));
}

#[test]
fn only_irs_cipher_suites() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest();
    let connect = m.url.trim_start_matches("https://").to_owned();
    let s_client = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(["s_client", "-connect", &connect, "-CAfile"])
            .arg(&m.ca_cert)
            .arg("-cert")
            .arg(&m.client_cert)
            .arg("-key")
            .arg(&m.client_key)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ok = s_client(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]);
    assert!(ok.contains("ECDHE-ECDSA-AES256-GCM-SHA384"), "{ok}");
    let ok = s_client(&["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]);
    assert!(
        ok.contains("Cipher is ECDHE-ECDSA-CHACHA20-POLY1305"),
        "{ok}"
    );
    let ok = s_client(&["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"]);
    assert!(ok.contains("TLS_CHACHA20_POLY1305_SHA256"), "{ok}");
    for cbc in [
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384",
        "AES128-GCM-SHA256",
    ] {
        let out = s_client(&["-tls1_2", "-cipher", cbc]);
        assert!(
            !out.contains(&format!("Cipher is {cbc}")),
            "{cbc} must be refused: {out}"
        );
    }
}

#[test]
fn sixty_four_concurrent_keep_alive_clients() {
    // IR003 off: thousands of queries about four investors.
    let sb = nzpir_sandbox::Sandbox::start(nzpir_sandbox::SandboxOptions::default().ir003_limit(0))
        .expect("starts");
    let m = Arc::new(sb.manifest().clone());
    let scheme = pie(&m, "kowhai-scheme");
    let jwt = Arc::new(rs256(&m, None));
    let config = common::client_config(&m, Identity::Registered);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(3);
    let irds = ["139276507", "139276310", "139439976", "049091850"];
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let (m, jwt, config, done) = (m.clone(), jwt.clone(), config.clone(), done.clone());
            let body = format!(
                r#"{{"IRD":"{}","PieIRD":"{scheme}"}}"#,
                irds[i % irds.len()]
            );
            std::thread::spawn(move || -> Result<u64, String> {
                let mut conn = Conn::open_with(&m, config).map_err(|e| e.to_string())?;
                let mut n = 0;
                while Instant::now() < deadline {
                    let r = conn
                        .request(
                            "POST",
                            "/gateway/calculators/pir",
                            &[("Authorization", jwt.as_str())],
                            body.as_bytes(),
                        )
                        .map_err(|e| format!("request {n}: {e}"))?;
                    if r.status != 200 {
                        return Err(format!("status {}: {}", r.status, r.text()));
                    }
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(n)
            })
        })
        .collect();
    for t in threads {
        let n = t.join().expect("thread").expect("no error on any client");
        assert!(n > 0);
    }
    let total = done.load(Ordering::Relaxed);
    let stats = sb.stats();
    // Each client used a single connection for all its requests.
    assert_eq!(stats.connections, 64);
    assert_eq!(stats.pir_requests, total);
    assert_eq!(stats.pir_responses.get("200"), Some(&total));
    eprintln!("{total} requests in 3 s over 64 keep-alive connections");
}

#[test]
fn bad_input_of_every_shape() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let jwt = rs256(m, None);
    let auth = Some(jwt.as_str());
    let code = |body: &[u8]| {
        let r = call(
            m,
            "POST",
            "/gateway/calculators/pir",
            &[("Authorization", jwt.as_str())],
            body,
        );
        (r.status, r.code())
    };
    let ev1100 = (400, Some("EV1100".to_owned()));
    assert_eq!(code(b""), (400, Some("EV1000".to_owned())));
    assert_eq!(code(b"   \n"), (400, Some("EV1000".to_owned())));
    assert_eq!(code(&[0xff, 0xfe, 0x00, 0x01, 0x80]), ev1100);
    assert_eq!(code(b"\x00\x00\x00"), ev1100);
    assert_eq!(code(b"{\"IRD\":\"139276507\""), ev1100);
    assert_eq!(code(b"[1,2,3]"), ev1100);
    assert_eq!(code(b"\"139276507\""), ev1100);
    assert_eq!(code(b"true"), ev1100);
    assert_eq!(code(b"null"), ev1100);
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(code(nested.as_bytes()), ev1100);
    let nested_obj = format!(
        "{{\"IRD\":{}1{}}}",
        "{\"a\":".repeat(3000),
        "}".repeat(3000)
    );
    assert_eq!(code(nested_obj.as_bytes()), ev1100);
    for wrong in [
        r#"{"IRD":["139276507"]}"#,
        r#"{"IRD":{"x":1}}"#,
        r#"{"IRD":null}"#,
        r#"{"IRD":true}"#,
        r#"{"IRD":1.5e300}"#,
        r#"{"IRD":"139276507","PieIRD":125000002}"#,
        r#"{"IRD":"139276507","Address":[]}"#,
        r#"{"IRD":"139276507","Name":{"FirstName":1,"LastName":"x"}}"#,
        r#"{"IRD":"139276507","FormattedName":"é"}"#,
    ] {
        let (status, c) = code(wrong.as_bytes());
        assert_eq!(status, 400, "{wrong}");
        assert!(
            matches!(c.as_deref(), Some("EV1100") | Some("PIR101")),
            "{wrong}: {c:?}"
        );
    }
    // Long fields: one EV1100 naming each.
    let long = format!(
        r#"{{"IRD":"139276507","FormattedName":"{}","FormattedAddress":"{}"}}"#,
        "x".repeat(256),
        "y".repeat(300)
    );
    let r = pir(m, auth, &long);
    assert_eq!(r.json()["errors"].as_array().map(Vec::len), Some(2));
    // Unicode escapes and unknown members are fine.
    let scheme = pie(m, "kowhai-scheme");
    let r = pir(
        m,
        auth,
        &format!(
            r#"{{"IRD":"\u0031\u0033\u0039276507","PieIRD":"{scheme}","Extra":{{"deep":[1,2]}}}}"#
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Over 64 KiB: 413, whether declared or chunked, and the connection closes.
    let big = vec![b' '; 70 * 1024];
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let r = c
        .request(
            "POST",
            "/gateway/calculators/pir",
            &[("Authorization", jwt.as_str())],
            &big,
        )
        .expect("answered");
    assert_eq!(r.status, 413);
    // The body was read to its end, so the connection stays usable.
    let r = c
        .request("GET", "/gateway/calculators/status", &[], b"")
        .expect("still open");
    assert_eq!(r.status, 200);
    // A body declared far too large is refused at once and the connection closed.
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let _ = c.send_raw(
        b"POST /gateway/calculators/pir HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n{",
    );
    let r = c.read_response(false).expect("answered");
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let mut req =
        b"POST /gateway/calculators/pir HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..20 {
        req.extend_from_slice(format!("{:x}\r\n", 4096).as_bytes());
        req.extend_from_slice(&[b' '; 4096]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let _ = c.send_raw(&req);
    let r = c.read_response(false).expect("answered");
    assert_eq!(r.status, 413);
    // Just under the limit is read (and is IR's answer for the content).
    let mut padded = br#"{"IRD":"139276507","PieIRD":""#.to_vec();
    padded.extend_from_slice(scheme.as_bytes());
    padded.extend_from_slice(b"\"}");
    padded.resize(60 * 1024, b' ');
    let r = call(
        m,
        "POST",
        "/gateway/calculators/pir",
        &[("Authorization", jwt.as_str())],
        &padded,
    );
    assert_eq!(r.status, 200);

    // A malformed HTTP request gets hyper's 400, not a hang.
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let _ = c.send_raw(b"POST /gateway/calculators/pir HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
    let r = c.read_response(false).expect("answered");
    assert_eq!(r.status, 400);

    // The server is still healthy.
    assert_eq!(
        call(m, "GET", "/gateway/calculators/status", &[], b"").status,
        200
    );
    assert_eq!(sb.stats().payload_too_large, 3);
}

#[test]
fn routes_methods_and_keep_alive() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let mut c = Conn::open(m, Identity::Registered).expect("connects");
    let r = c
        .request("GET", "/gateway/calculators/status", &[], b"")
        .expect("status");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let r = c
        .request("HEAD", "/gateway/calculators/status", &[], b"")
        .expect("head");
    assert_eq!(r.status, 200);
    let r = c
        .request("POST", "/gateway/calculators/status", &[], b"")
        .expect("405");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    for (method, path, status) in [
        ("GET", "/gateway/calculators/pir", 405),
        ("PUT", "/gateway/calculators/pir", 405),
        ("DELETE", "/gateway/calculators/pir", 405),
        ("POST", "/gateway/calculators/wrong", 404),
        ("POST", "/gateway/calculators/pir/", 404),
        ("GET", "/", 404),
        ("GET", "/gateway3/oauth/other", 404),
    ] {
        let r = c.request(method, path, &[], b"{}").expect("answered");
        assert_eq!(r.status, status, "{method} {path}");
        assert!(r.body.is_empty());
    }
    assert_eq!(
        sb.stats().connections,
        1,
        "all on one keep-alive connection"
    );
}

#[test]
fn many_sandboxes_side_by_side() {
    let sandboxes: Vec<_> = (0..4)
        .map(|i| {
            start(if i % 2 == 0 {
                Profile::Strict
            } else {
                Profile::IrMock
            })
        })
        .collect();
    let mut urls: Vec<&str> = sandboxes.iter().map(|s| s.url()).collect();
    urls.sort_unstable();
    urls.dedup();
    assert_eq!(urls.len(), 4);
    for sb in &sandboxes {
        let m = sb.manifest();
        let r = pir(m, None, r#"{"IRD":"139276507"}"#);
        let expected = if sb.profile() == Profile::Strict {
            401
        } else {
            200
        };
        assert_eq!(r.status, expected);
        // Another sandbox's certificates are not trusted here.
        assert_eq!(sb.stats().pir_requests, 1);
    }
    let (a, b) = (sandboxes[0].manifest(), sandboxes[2].manifest());
    let mut foreign = b.clone();
    foreign.url = a.url.clone();
    foreign.ca_cert = a.ca_cert.clone();
    assert!(
        Conn::open(&foreign, Identity::Registered)
            .and_then(|mut c| c.request("GET", "/gateway/calculators/status", &[], b""))
            .is_err(),
        "a client certificate from another sandbox's CA is refused"
    );
}

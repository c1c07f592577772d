//! Start and stop: the manifest contract, the ready configuration, the PKI
//! files and their reuse, fixtures, and the `nzpir-sandbox` binary.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Conn, Identity, call, pie, pir, rs256, start};
use nzpir_sandbox::{ErrorKind, Fixture, Profile, Sandbox, SandboxOptions};
use serde_json::Value;

const PATH_KEYS: [&str; 11] = [
    "ca_cert",
    "client_cert",
    "client_key",
    "unregistered_client_cert",
    "unregistered_client_key",
    "jwt_rs256_cert",
    "jwt_rs256_key",
    "jwt_ec_cert",
    "jwt_ec_key",
    "config",
    "pki_dir",
];

#[test]
fn handles_are_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sandbox>();
    send_sync::<nzpir_sandbox::Manifest>();
    send_sync::<nzpir_sandbox::Fault>();
    // Used from another thread than the one that started it.
    let sb = std::sync::Arc::new(start(Profile::IrMock));
    let other = sb.clone();
    let status = std::thread::spawn(move || {
        call(
            other.manifest(),
            "GET",
            "/gateway/calculators/status",
            &[],
            b"",
        )
        .status
    })
    .join()
    .expect("thread");
    assert_eq!(status, 200);
}

#[test]
fn manifest_contract_and_ready_config() {
    let sb = start(Profile::Strict);
    let text = std::fs::read_to_string(sb.manifest_path()).expect("manifest.json exists");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["url"], sb.url());
    assert!(sb.url().starts_with("https://127.0.0.1:"));
    assert_eq!(v["profile"], "strict");
    assert_eq!(v["jwt_ec_alg"], "ES256");
    for key in PATH_KEYS {
        let p = v[key]
            .as_str()
            .unwrap_or_else(|| panic!("`{key}` is a string"));
        assert!(Path::new(p).is_absolute(), "{key} is absolute");
        assert!(Path::new(p).exists(), "{key} exists");
    }
    let parties = v["parties"].as_array().expect("parties");
    assert!(parties.len() >= 5);
    for p in parties {
        for k in ["id", "kind", "ird", "name", "logons", "credentials"] {
            assert!(!p[k].is_null(), "party has {k}: {p}");
        }
    }
    let scheme = parties
        .iter()
        .find(|p| p["kind"] == "kiwisaver_scheme")
        .expect("a scheme");
    assert!(
        scheme["members"]
            .as_array()
            .is_some_and(|m| m.iter().any(|i| i == "139276507"))
    );
    let provider = parties
        .iter()
        .find(|p| p["kind"] == "kiwisaver_provider")
        .expect("a provider");
    assert_eq!(provider["credentials"][0], "jwt_rs256");
    assert_eq!(
        v["thumbprints"]["jwt_rs256"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(v["pid"], std::process::id());
    // The typed manifest is the file's content.
    let typed: nzpir_sandbox::Manifest = serde_json::from_str(&text).expect("typed");
    assert_eq!(&typed, sb.manifest());

    // The ready configuration is the client's schema and points at the sandbox.
    let cfg = nzpir::Config::from_file(sb.config_path()).expect("nzpir.toml parses");
    assert_eq!(cfg.environment, Some(nzpir::Environment::Sandbox));
    assert_eq!(cfg.endpoint.as_deref(), Some(sb.url()));
    assert_eq!(
        cfg.tls.client_cert.as_deref(),
        Some(sb.manifest().client_cert.as_path())
    );
    assert_eq!(
        cfg.tls.ca_cert.as_deref(),
        Some(sb.manifest().ca_cert.as_path())
    );
    let Some(nzpir::AuthSettings::Jwt(j)) = cfg.auth else {
        panic!("JWT auth expected");
    };
    assert_eq!(j.alg.as_deref(), Some("RS256"));
    assert_eq!(j.issuer.as_deref(), Some("Kowhai KiwiSaver Limited"));
    assert_eq!(
        j.key.as_deref(),
        Some(sb.manifest().jwt_rs256_key.as_path())
    );

    // Private keys are 0600; the client certificate has an IR-style CN.
    #[cfg(unix)]
    for key in [
        "client_key",
        "unregistered_client_key",
        "jwt_rs256_key",
        "jwt_ec_key",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(v[key].as_str().unwrap_or_default())
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let pem = std::fs::read(&sb.manifest().client_cert).expect("client cert");
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).expect("PEM");
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).expect("X.509");
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .expect("CN")
        .to_owned();
    let (hex, rest) = cn.split_once('.').expect("dotted CN");
    assert_eq!(hex.len(), 32);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(rest.starts_with("irdgws."), "{cn}");
    assert_eq!(
        nzpir_sandbox::thumbprint(der.as_ref()),
        v["thumbprints"]["client"]
    );

    // Shutting down stops serving and removes the manifest; the temporary
    // folder goes on drop.
    let dir = sb.pki_dir().to_owned();
    let m = sb.manifest().clone();
    sb.shutdown();
    sb.shutdown();
    assert!(!sb.is_running());
    assert!(!dir.join("manifest.json").exists());
    assert!(Conn::open(&m, Identity::Registered).is_err());
    drop(sb);
    assert!(!dir.exists());
}

use rustls::pki_types::pem::PemObject;

#[test]
fn pki_folder_is_reused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("pki");
    let first = Sandbox::start(SandboxOptions::default().pki_dir(&dir)).expect("starts");
    let ca = std::fs::read(dir.join("ca.pem")).expect("ca");
    let prints = first.manifest().thumbprints.clone();
    drop(first);
    assert!(dir.join("ca.pem").exists(), "a given folder is kept");
    assert!(!dir.join("manifest.json").exists());

    let second = Sandbox::start(SandboxOptions::default().pki_dir(&dir)).expect("restarts");
    assert_eq!(std::fs::read(dir.join("ca.pem")).expect("ca"), ca);
    assert_eq!(second.manifest().thumbprints, prints);
    // The reused files still work end to end.
    let m = second.manifest();
    let r = pir(
        m,
        Some(&rs256(m, None)),
        &format!(
            r#"{{"IRD":"139276507","PieIRD":"{}"}}"#,
            pie(m, "kowhai-scheme")
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    drop(second);

    // A missing key is made again (with a new certificate); the CA stays.
    std::fs::remove_file(dir.join("jwt-ec.key")).expect("removed");
    let third = Sandbox::start(SandboxOptions::default().pki_dir(&dir)).expect("restarts");
    assert_eq!(std::fs::read(dir.join("ca.pem")).expect("ca"), ca);
    assert_ne!(third.manifest().thumbprints["jwt_ec"], prints["jwt_ec"]);
    assert_eq!(third.manifest().thumbprints["client"], prints["client"]);
    drop(third);

    // A key that does not belong to its certificate is replaced with a new pair.
    std::fs::copy(dir.join("unregistered-client.key"), dir.join("client.key")).expect("copied");
    let fifth = Sandbox::start(SandboxOptions::default().pki_dir(&dir)).expect("restarts");
    assert_ne!(fifth.manifest().thumbprints["client"], prints["client"]);
    let m = fifth.manifest();
    assert_eq!(
        call(m, "GET", "/gateway/calculators/status", &[], b"").status,
        200
    );
    drop(fifth);

    // A broken CA means a new PKI altogether.
    std::fs::write(dir.join("ca.pem"), "garbage").expect("written");
    let fourth = Sandbox::start(SandboxOptions::default().pki_dir(&dir)).expect("restarts");
    assert_ne!(
        fourth.manifest().thumbprints["jwt_rs256"],
        prints["jwt_rs256"]
    );
    let m = fourth.manifest();
    assert_eq!(
        call(m, "GET", "/gateway/calculators/status", &[], b"").status,
        200
    );
}

#[test]
fn custom_fixtures() {
    // Register the other client certificate and give the EC credential to
    // the PIE itself.
    let mut f = Fixture::default_fixture();
    f.tls_clients = vec![nzpir_sandbox::TlsClient {
        cert: nzpir_sandbox::CertRef::Named("unregistered_client".to_owned()),
        name: None,
    }];
    let sb = Sandbox::start(SandboxOptions::default().fixture(f)).expect("starts");
    let m = sb.manifest();
    let body = format!(
        r#"{{"IRD":"139276507","PieIRD":"{}"}}"#,
        pie(m, "kowhai-scheme")
    );
    let jwt = rs256(m, None);
    assert_eq!(pir(m, Some(&jwt), &body).code().as_deref(), Some("EV1023"));
    let mut c = Conn::open(m, Identity::Unregistered).expect("connects");
    let r = c
        .request(
            "POST",
            "/gateway/calculators/pir",
            &[("Authorization", jwt.as_str())],
            body.as_bytes(),
        )
        .expect("answered");
    assert_eq!(r.status, 200);

    // A fixture file; a certificate given by file.
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("fixture.json");
    let mut f = Fixture::default_fixture();
    f.jwt_credentials[1].cert = nzpir_sandbox::CertRef::File {
        file: m.jwt_ec_cert.clone(),
    };
    std::fs::write(&file, f.to_json_string()).expect("written");
    let sb2 = Sandbox::start(SandboxOptions::default().fixture_file(&file)).expect("starts");
    assert!(
        sb2.manifest()
            .parties
            .iter()
            .any(|p| p.credentials.contains(&m.jwt_ec_cert.display().to_string()))
    );

    // Broken fixtures are refused with the place named.
    let broken = |edit: &dyn Fn(&mut Fixture)| {
        let mut f = Fixture::default_fixture();
        edit(&mut f);
        Sandbox::start(SandboxOptions::default().fixture(f)).expect_err("refused")
    };
    let e = broken(&|f| f.investors[0].memberships = vec!["nope".to_owned()]);
    assert_eq!(e.kind(), ErrorKind::Fixture);
    assert!(e.to_string().contains("investors[0].memberships[0]"), "{e}");
    let e = broken(&|f| f.jwt_credentials[0].alg = "ES256".to_owned());
    assert!(e.to_string().contains("does not fit"), "{e}");
    let e = broken(&|f| f.parties[0].ird = "123456789".to_owned());
    assert!(e.to_string().contains("parties[0].ird"), "{e}");
    assert!(
        !e.to_string().contains("123456789"),
        "no IRD numbers in messages"
    );
    let e =
        broken(&|f| f.tls_clients[0].cert = nzpir_sandbox::CertRef::Named("mystery".to_owned()));
    assert!(e.to_string().contains("mystery"), "{e}");
    let e = Fixture::from_json_str(r#"{"parties":[{"id":"x"}]}"#).expect_err("missing fields");
    assert_eq!(e.kind(), ErrorKind::Fixture);
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn the_binary_serves_until_sigterm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("pki");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nzpir-sandbox"))
        .args(["--profile", "ir-mock", "--pki-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let manifest = dir.join("manifest.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !manifest.exists() {
        assert!(Instant::now() < deadline, "no manifest.json");
        std::thread::sleep(Duration::from_millis(50));
    }
    let m: nzpir_sandbox::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("read")).expect("manifest");
    assert_eq!(m.profile, "ir-mock");
    assert_eq!(m.pid, child.id());
    let r = pir(&m, None, r#"{"IRD":"139276310"}"#);
    assert_eq!(r.json()["SuggestedPirRate"], 10.5);
    kill(child.id(), "-TERM");
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut out).expect("read");
    assert!(out.contains(&format!("listening on {}", m.url)), "{out}");
    assert!(out.contains("manifest: "), "{out}");
    assert!(!manifest.exists(), "manifest removed on exit");

    // Other switches.
    let out = Command::new(env!("CARGO_BIN_EXE_nzpir-sandbox"))
        .arg("--print-default-fixture")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let printed = Fixture::from_json_str(&String::from_utf8_lossy(&out.stdout)).expect("fixture");
    assert_eq!(printed, Fixture::default_fixture());
    let out = Command::new(env!("CARGO_BIN_EXE_nzpir-sandbox"))
        .args(["--profile", "lenient"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_nzpir-sandbox"))
        .args(["--fixture", "/no/such/fixture.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixture"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_and_stops_inside_an_async_runtime() {
    let sb = start(Profile::IrMock);
    let m = sb.manifest().clone();
    let status = tokio::task::spawn_blocking(move || {
        call(&m, "GET", "/gateway/calculators/status", &[], b"").status
    })
    .await
    .expect("joined");
    assert_eq!(status, 200);
    drop(sb);
}

//! The secrets audit of the command line: `lookup`, `batch` (failing rows and
//! `--resume`), `oauth` (authorize-url, exchange, refresh, introspect,
//! revoke, a refused refresh), `jwt`, `validate` and error paths, all at
//! `-vv` (the most verbose the CLI logs) where the command takes it; stdout,
//! stderr and the files batch leaves are checked for every private key, JWT,
//! access and refresh token, authorisation code, client secret, IRD number
//! (9 digits, 8 digits, dashed), name and date of birth that was used.
//!
//! Some output is a report by design, and only that is allowed:
//! - `lookup` prints the IRD and PieIRD it asked about on stdout (the answer
//!   names its investor; README, "The command line");
//! - `validate` prints each input and its wire form on stdout (one line per
//!   input, in order);
//! - `batch --out` writes the input rows, IRD numbers included, to OUT.csv
//!   (never to the journal, stdout or stderr);
//! - `jwt` prints the token it was asked to mint on stdout;
//! - `oauth authorize-url` prints IR's authorize URL on stdout (with the
//!   state and PKCE challenge the browser must carry);
//! - `oauth refresh --show-tokens` prints the new tokens on stdout.
//!
//! Stderr is never allowed anything.
//!
//! One test per command path, each on its own sandbox, over one fixture
//! ([`audit`]): the secrets every path knows (the sandbox's keys and client
//! secrets, the fixture's IRD numbers and people), the check, and a proof
//! that the path's `-vv` output really carried log lines.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use nzpir_sandbox::{Fault, FaultKind, Sandbox};

/// One captured output and the secrets it may carry by design.
struct Output {
    what: String,
    text: String,
    allowed: Vec<String>,
    jwt_allowed: bool,
}

#[derive(Default)]
struct Audit {
    secrets: Vec<(String, String)>,
    outputs: Vec<Output>,
}

/// An IRD number in every form a line could spell it.
fn ird_forms(ird: &str) -> Vec<String> {
    let digits: String = ird.chars().filter(char::is_ascii_digit).collect();
    let nine = format!("{digits:0>9}");
    let mut v = vec![
        nine.clone(),
        format!("{}-{}-{}", &nine[..3], &nine[3..6], &nine[6..]),
    ];
    let eight = nine.trim_start_matches('0');
    if eight.len() == 8 {
        v.push(eight.to_owned());
        v.push(format!("{}-{}-{}", &eight[..2], &eight[2..5], &eight[5..]));
    }
    v
}

impl Audit {
    fn secret(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty(), "an empty {what} proves nothing");
        self.secrets.push((what.to_owned(), value.to_owned()));
    }

    fn ird(&mut self, ird: &str) {
        for f in ird_forms(ird) {
            self.secret("IRD number", &f);
        }
    }

    fn key_file(&mut self, path: &Path) {
        let pem = read(path);
        let mut n = 0;
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            if line.trim().len() >= 16 {
                self.secret(&format!("private key {}", path.display()), line.trim());
                n += 1;
            }
        }
        assert!(n > 0, "no key material in {}", path.display());
    }

    fn tokens_from_store(&mut self, store: &Path) {
        let v: serde_json::Value = serde_json::from_str(&read(store)).expect("token store");
        self.secret(
            "access token",
            v["access_token"].as_str().expect("access token"),
        );
        if let Some(r) = v["refresh_token"].as_str() {
            self.secret("refresh token", r);
        }
    }

    /// Keeps a finished command's stdout (with what it may show) and stderr.
    fn run(&mut self, what: &str, r: &Run, stdout_allowed: &[String], jwt_on_stdout: bool) {
        self.outputs.push(Output {
            what: format!("stdout of {what}"),
            text: r.stdout.clone(),
            allowed: stdout_allowed.to_vec(),
            jwt_allowed: jwt_on_stdout,
        });
        self.outputs.push(Output {
            what: format!("stderr of {what}"),
            text: r.stderr.clone(),
            allowed: Vec::new(),
            jwt_allowed: false,
        });
    }

    fn file(&mut self, what: &str, path: &Path, allowed: &[String]) {
        self.outputs.push(Output {
            what: what.to_owned(),
            text: read(path),
            allowed: allowed.to_vec(),
            jwt_allowed: false,
        });
    }

    /// How many outputs carry nzpir's log lines.
    fn logged(&self) -> usize {
        self.outputs
            .iter()
            .filter(|o| o.text.contains("[INFO nzpir]") || o.text.contains("[WARN nzpir]"))
            .count()
    }

    fn check(&self) {
        let mut leaks = Vec::new();
        for o in &self.outputs {
            for (what, s) in &self.secrets {
                if o.text.contains(s.as_str()) && !o.allowed.iter().any(|a| a == s) {
                    leaks.push(format!("{} contains the {what} {s:?}:\n{}", o.what, o.text));
                }
            }
            if !o.jwt_allowed && o.text.contains("eyJ") {
                leaks.push(format!(
                    "{} contains something JWT-shaped:\n{}",
                    o.what, o.text
                ));
            }
        }
        leaks.sort();
        leaks.dedup();
        assert!(
            leaks.is_empty(),
            "{} leaks:\n{}",
            leaks.len(),
            leaks.join("\n---\n")
        );
    }
}

fn lookup(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = nzpir();
    cmd.arg("lookup")
        .arg("-vv")
        .args(config_args(sb))
        .args(args);
    cmd
}

fn oauth_cmd(sb: &Sandbox, store: &Path, sub: &[&str]) -> Command {
    let mut cmd = nzpir();
    cmd.arg("oauth").args(sub).arg("-vv");
    oauth_flags(&mut cmd, sb, "sandbox-app", store);
    cmd
}

/// The IRD numbers shown on stdout by design, in every form.
fn shown(irds: &[&str]) -> Vec<String> {
    irds.iter().flat_map(|i| ird_forms(i)).collect()
}

/// Runs one command path's audit on a sandbox of its own: `f` runs the
/// commands and keeps their outputs; then every output is searched for every
/// secret. `logs` is how many outputs must carry log lines (`-vv`).
fn audit(logs: usize, f: impl FnOnce(&Sandbox, &Path, &mut Audit)) {
    let sb = strict();
    let m = sb.manifest().clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Audit::default();
    for k in [
        &m.client_key,
        &m.unregistered_client_key,
        &m.jwt_rs256_key,
        &m.jwt_ec_key,
    ] {
        a.key_file(k);
    }
    a.key_file(&m.pki_dir.join("ca.key"));
    for c in &m.oauth.clients {
        a.secret("client secret", &c.client_secret);
    }
    for ird in [
        SCHEME,
        "130000002",
        "139276507",
        "139276310",
        "139439976",
        "049091850",
        "139276272",
        "139276329",
        "139332754",
        "136410133",
        "136410132",
    ] {
        a.ird(ird);
    }
    for (w, v) in [
        ("first name", "Gary"),
        ("last name", "Allen"),
        ("date of birth", "1990-01-02"),
        ("street", "123 Ha Crescent"),
        ("first name", "Wiremu"),
        ("last name", "Secretsurname"),
        ("date of birth", "1971-02-30"),
    ] {
        a.secret(w, v);
    }
    let before = a.outputs.len();
    f(&sb, dir.path(), &mut a);
    // Nothing vacuous: outputs were kept, and -vv really logged.
    assert!(a.outputs.len() > before, "no output was audited");
    let logged = a.logged();
    assert!(logged >= logs, "only {logged} outputs carry log lines");
    a.check();
}

#[test]
fn lookup_with_jwts_and_personal_data() {
    audit(2, |sb, _, a| {
        let m = sb.manifest();
        // JWT RS256 (the ready config), with personal data.
        let r = run(&mut lookup(
            sb,
            &[
                "--ird",
                "139276507",
                "--pie-ird",
                SCHEME,
                "--first-name",
                "Gary",
                "--last-name",
                "Allen",
                "--dob",
                "1990-01-02",
                "--street",
                "123 Ha Crescent",
                "--city",
                "Auckland",
                "--country",
                "NZ",
            ],
        ));
        r.expect_code(0);
        assert!(
            r.stderr
                .contains("[INFO nzpir] op=lookup outcome=suggested"),
            "-vv logs the call: {}",
            r.stderr
        );
        a.run("lookup", &r, &shown(&["139276507", SCHEME]), false);
        // ES256, from flags; the 8-digit and dashed forms; --json.
        let r = run(&mut lookup(
            sb,
            &[
                "--ird",
                "49-091-850",
                "--pie-ird",
                SCHEME,
                "--jwt-cert",
                &m.jwt_ec_cert.display().to_string(),
                "--jwt-key",
                &m.jwt_ec_key.display().to_string(),
                "--jwt-alg",
                "ES256",
                "--issuer",
                "Harakeke",
                "--json",
            ],
        ));
        r.expect_code(0);
        a.run("lookup ES256", &r, &shown(&["049091850", SCHEME]), false);
    });
}

#[test]
fn lookup_refusals_and_local_validation() {
    audit(5, |sb, _, a| {
        let m = sb.manifest();
        // EV1043, EV1042, PIR101, EV1023, EV1024.
        for (what, args, code) in [
            ("EV1043", vec!["--ird", "139276272", "--pie-ird", SCHEME], 4),
            (
                "EV1042",
                vec!["--ird", "139276272", "--pie-ird", "130000002"],
                4,
            ),
            ("PIR101", vec!["--ird", "139276507"], 3),
            (
                "EV1043 as JSON",
                vec!["--ird", "136410132", "--pie-ird", SCHEME, "--json"],
                4,
            ),
        ] {
            let r = run(&mut lookup(sb, &args));
            r.expect_code(code);
            assert!(r.stderr.contains("nzpir: "), "{what}: {}", r.stderr);
            a.run(&format!("lookup {what}"), &r, &[], false);
        }
        let r = run(&mut lookup(
            sb,
            &[
                "--ird",
                "139276507",
                "--pie-ird",
                SCHEME,
                "--cert",
                &m.unregistered_client_cert.display().to_string(),
                "--key",
                &m.unregistered_client_key.display().to_string(),
            ],
        ));
        r.expect_code(4);
        a.run("lookup EV1023", &r, &[], false);
        let r = run(lookup(sb, &["--ird", "139276507", "--pie-ird", SCHEME])
            .env("NZPIR_BEARER", "a-bearer-token-nobody-issued-QxZv"));
        a.secret("unknown bearer", "a-bearer-token-nobody-issued-QxZv");
        r.expect_code(4);
        a.run("lookup EV1024", &r, &[], false);
        // Local validation, with personal data in the request.
        let r = run(&mut lookup(
            sb,
            &[
                "--ird",
                "136410133",
                "--pie-ird",
                "12345678",
                "--first-name",
                "Wiremu",
                "--last-name",
                "Secretsurname",
                "--dob",
                "1971-02-30",
                "--country",
                "QQ",
                "--street",
                "9 Hidden Road",
                "--city",
                "Hamilton",
            ],
        ));
        a.ird("12345678");
        a.secret("street", "9 Hidden Road");
        r.expect_code(2);
        assert!(r.stderr.contains("Dob"), "names the field: {}", r.stderr);
        a.run("lookup invalid", &r, &[], false);
    });
}

#[test]
fn lookup_faults_and_tls() {
    audit(3, |sb, _, a| {
        let m = sb.manifest();
        // 5xx retried (the retries are logged at debug), a drop, a timeout,
        // a malformed answer.
        for (what, fault, extra, code) in [
            ("503", Fault::status(503), &["--max-retries", "2"][..], 6),
            (
                "dropped",
                Fault::new(FaultKind::DropAfterRead),
                &["--max-retries", "1"][..],
                7,
            ),
            (
                "timeout",
                Fault::delay(Duration::from_secs(3)),
                &["--timeout", "0.3", "--max-retries", "0"][..],
                7,
            ),
            (
                "malformed",
                Fault::new(FaultKind::MalformedBody).times(1),
                &[][..],
                6,
            ),
        ] {
            sb.set_fault(fault);
            let mut args = vec!["--ird", "139276310", "--pie-ird", SCHEME];
            args.extend_from_slice(extra);
            let r = run(&mut lookup(sb, &args));
            sb.clear_faults();
            r.expect_code(code);
            if what == "503" {
                assert!(
                    r.stderr.contains("[DEBUG nzpir]"),
                    "retries logged at -vv: {}",
                    r.stderr
                );
            }
            a.run(&format!("lookup {what}"), &r, &[], false);
        }
        // TLS: the sandbox's CA not trusted (an empty CA file is a config
        // error; the unregistered certificate stands in for an unknown CA's).
        let r = run(&mut lookup(
            sb,
            &[
                "--ird",
                "139276310",
                "--pie-ird",
                SCHEME,
                "--ca",
                &m.client_cert.display().to_string(),
            ],
        ));
        r.expect_code(7);
        a.run("lookup TLS", &r, &[], false);
    });
}

#[test]
fn configuration_and_usage_errors() {
    audit(0, |sb, dir, a| {
        let m = sb.manifest();
        let bad_toml = dir.join("bad.toml");
        std::fs::write(
            &bad_toml,
            "[auth]\ntype = \"oauth\"\nclient_secret = \"toml-secret-QxZvTkWm\nclient_id = \"x\"\n",
        )
        .expect("write");
        a.secret("client secret in TOML", "toml-secret-QxZvTkWm");
        let mut cmd = nzpir();
        cmd.args(["lookup", "-vv", "--ird", "139276507", "--config"])
            .arg(&bad_toml);
        let r = run(&mut cmd);
        r.expect_code(2);
        a.run("lookup with a broken TOML file", &r, &[], false);
        for (what, key) in [
            ("a key that does not match", &m.jwt_rs256_key),
            ("a certificate as key", &m.client_cert),
        ] {
            let key = key.display().to_string();
            let r = run(&mut lookup(sb, &["--ird", "139276507", "--key", &key]));
            r.expect_code(2);
            a.run(&format!("lookup with {what}"), &r, &[], false);
        }
        // A key pasted where its file's path belongs.
        let r = run(lookup(sb, &["--ird", "139276507", "--pie-ird", SCHEME])
            .env("NZPIR_KEY", read(&m.client_key)));
        r.expect_code(2);
        a.run("lookup with PEM text as the key path", &r, &[], false);
        let r = run(lookup(sb, &["--ird", "139276507", "--pie-ird", SCHEME])
            .env("NZPIR_BEARER", "bearer-with-a-newline\nsecret-QxZvTkWm"));
        a.secret("bearer with a newline", "secret-QxZvTkWm");
        assert_ne!(r.code(), 0);
        a.run("lookup with a broken bearer", &r, &[], false);

        // Usage errors: a value where a flag belongs is not repeated.
        for args in [
            vec!["lookup", "-vv", "139276507"],
            vec!["lookup", "--ird", "139276507", "Gary", "Allen"],
            vec!["lookup", "--ird", "139276507", "--timeout", "1990-01-02"],
            vec!["batch", "--out", "x.csv", "--concurrency", "139276310"],
            vec!["oauth", "refresh", "sandbox-app-secret"],
        ] {
            let r = run(nzpir().args(&args));
            r.expect_code(2);
            // clap's usage errors, or the core's about a setting's value.
            assert!(
                r.stderr.contains("error:") || r.stderr.contains("config `--timeout`:"),
                "{args:?}: {}",
                r.stderr
            );
            a.run(&format!("usage error {args:?}"), &r, &[], false);
        }
    });
}

#[test]
fn validate_demo_and_jwt() {
    audit(0, |sb, _, a| {
        let m = sb.manifest();
        // validate: the inputs are the report.
        let inputs = ["49-091-850", "136410133", "12345", "139 276 507"];
        let mut cmd = nzpir();
        cmd.arg("validate").args(inputs);
        let r = run(&mut cmd);
        assert_ne!(r.code(), 0, "some inputs are invalid");
        assert!(r.stdout.contains("invalid"), "{}", r.stdout);
        a.run(
            "validate",
            &r,
            &shown(&["049091850", "136410133", "139276507", "12345"]),
            false,
        );

        // demo: prints its request and IR's answer (one of IR's published
        // test numbers and the sandbox's scheme, and another in its closing
        // hint) by design; its own sandbox's keys and JWT are gone with it,
        // so the JWT shape and key headers are what is checked.
        let mut cmd = nzpir();
        cmd.arg("demo");
        let r = run(&mut cmd);
        r.expect_code(0);
        assert!(!r.stdout.contains("PRIVATE KEY"), "{}", r.stdout);
        a.run(
            "demo",
            &r,
            &shown(&["139276507", SCHEME, "139276310"]),
            false,
        );

        // jwt: the token on stdout by design; stderr and a failure checked.
        let mut cmd = nzpir();
        cmd.args(["jwt", "--cert"])
            .arg(&m.jwt_rs256_cert)
            .arg("--key")
            .arg(&m.jwt_rs256_key)
            .args(["--issuer", "Kowhai", "--start-logon", "kowhai.ops"]);
        let r = run(&mut cmd);
        r.expect_code(0);
        let jwt = r.stdout.trim().to_owned();
        assert!(jwt.starts_with("eyJ"), "{jwt}");
        a.secret("minted JWT", &jwt);
        a.run("jwt", &r, std::slice::from_ref(&jwt), true);
        let mut cmd = nzpir();
        cmd.args(["jwt", "--cert"])
            .arg(&m.jwt_rs256_cert)
            .arg("--key")
            .arg(&m.jwt_ec_key);
        let r = run(&mut cmd);
        r.expect_code(2);
        a.run("jwt with a key that does not match", &r, &[], false);
    });
}

#[test]
#[allow(clippy::too_many_lines)]
fn oauth_flow_and_refusals() {
    audit(3, |sb, dir, a| {
        let store = dir.join("tokens.json");
        let r = run(&mut oauth_cmd(sb, &store, &["authorize-url"]));
        r.expect_code(0);
        let url = r.stdout.trim().to_owned();
        a.run("oauth authorize-url", &r, &[], false);
        let redirect = follow(sb, &url);
        let code = redirect
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .expect("code")
            .to_owned();
        a.secret("authorisation code", &code);
        let pending: serde_json::Value =
            serde_json::from_str(&read(&dir.join("tokens.json.pending"))).expect("pending");
        let verifier = pending
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.contains("verifier"))
                    .and_then(|(_, v)| v.as_str())
            })
            .expect("the pending file keeps the verifier")
            .to_owned();
        a.secret("PKCE verifier", &verifier);
        let r = run(oauth_cmd(sb, &store, &["exchange"]).args(["--redirect-url", &redirect]));
        r.expect_code(0);
        a.run("oauth exchange", &r, &[], false);
        a.tokens_from_store(&store);
        let r = run(&mut oauth_cmd(sb, &store, &["introspect"]));
        r.expect_code(0);
        a.run("oauth introspect", &r, &[], false);
        let r = run(&mut oauth_cmd(sb, &store, &["refresh"]));
        r.expect_code(0);
        a.run("oauth refresh", &r, &[], false);
        a.tokens_from_store(&store);
        let mut oauth_lookup = nzpir();
        oauth_lookup.args(["lookup", "-vv", "--ird", "139439976"]);
        oauth_flags(&mut oauth_lookup, sb, "sandbox-app", &store);
        let r = run(&mut oauth_lookup);
        r.expect_code(0);
        a.run("lookup over OAuth", &r, &shown(&["139439976"]), false);
        let before: serde_json::Value = serde_json::from_str(&read(&store)).expect("store");
        let r = run(oauth_cmd(sb, &store, &["refresh"]).arg("--show-tokens"));
        r.expect_code(0);
        a.tokens_from_store(&store);
        let after: serde_json::Value = serde_json::from_str(&read(&store)).expect("store");
        let shown_tokens = vec![
            after["access_token"].as_str().expect("a").to_owned(),
            after["refresh_token"].as_str().expect("r").to_owned(),
        ];
        // IR's access tokens are JWTs: the one asked for is JWT-shaped, and
        // allowed on stdout here only.
        a.run("oauth refresh --show-tokens", &r, &shown_tokens, true);
        // A static bearer from the stored access token.
        let r = run(lookup(sb, &["--ird", "139332754"]).env("NZPIR_BEARER", &shown_tokens[0]));
        r.expect_code(0);
        a.run("lookup --bearer", &r, &shown(&["139332754"]), false);
        // The spent refresh token put back: refused.
        std::fs::write(&store, serde_json::to_string(&before).expect("json")).expect("write");
        let r = run(&mut oauth_cmd(sb, &store, &["refresh"]));
        r.expect_code(4);
        a.run("oauth refresh with a spent token", &r, &[], false);
        std::fs::write(&store, serde_json::to_string(&after).expect("json")).expect("write");
        let r = run(&mut oauth_cmd(sb, &store, &["revoke"]));
        r.expect_code(0);
        a.run("oauth revoke", &r, &[], false);
        // A corrupt store whose text is a token.
        std::fs::write(
            &store,
            format!(
                r#"{{"version":1,"access_token":"{}","expires_at":"{}"}}"#,
                shown_tokens[0], shown_tokens[1]
            ),
        )
        .expect("write");
        let r = run(&mut oauth_cmd(sb, &store, &["refresh"]));
        assert_ne!(r.code(), 0);
        a.run("oauth refresh with a corrupt store", &r, &[], false);
        let r = run(&mut oauth_lookup);
        assert_ne!(r.code(), 0);
        a.run("lookup with a corrupt store", &r, &[], false);
    });
}

#[test]
fn batch_with_failing_rows_and_resume() {
    // Good, failing and invalid rows; a transient failure kept in the
    // journal, then --resume.
    audit(1, |sb, dir, a| {
        let input = dir.join("in.csv");
        let out = dir.join("out.csv");
        std::fs::write(
            &input,
            "IRD,PieIRD,FirstName,LastName,Dob\n\
             139276507,125000002,Gary,Allen,1990-01-02\n\
             139276310,125000002,,,\n\
             139276272,125000002,,,\n\
             136410133,125000002,Wiremu,Secretsurname,1971-02-30\n\
             139439976,125000002,,,\n\
             \"unbalanced,125000002\n",
        )
        .expect("write");
        let in_file: Vec<String> = shown(&[
            "139276507",
            "139276310",
            "139276272",
            "136410133",
            "139439976",
            SCHEME,
        ])
        .into_iter()
        .chain(
            [
                "Gary",
                "Allen",
                "1990-01-02",
                "Wiremu",
                "Secretsurname",
                "1971-02-30",
            ]
            .map(str::to_owned),
        )
        .collect();
        sb.add_fault(Fault::delay(Duration::from_millis(1)).times(1));
        sb.add_fault(Fault::new(FaultKind::DropBeforeRead).times(1));
        let mut cmd = nzpir();
        cmd.arg("batch")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args(config_args(sb))
            .args([
                "-vv",
                "--concurrency",
                "1",
                "--max-retries",
                "0",
                "--progress",
                "lines",
            ]);
        let r = run(&mut cmd);
        assert!(r.code() >= 2, "{r:?}");
        a.run("batch", &r, &[], false);
        let journal = dir.join("out.csv.journal");
        assert!(
            journal.exists(),
            "a transient failure keeps the journal: {r:?}"
        );
        a.file("the batch journal", &journal, &[]);
        a.file("the batch output", &out, &in_file);
        let r = run(cmd.arg("--resume"));
        assert!(r.code() >= 2, "invalid rows stay failed: {r:?}");
        assert!(r.stderr.contains("[INFO nzpir] op=lookup"), "{}", r.stderr);
        a.run("batch --resume", &r, &[], false);
        a.file("the resumed batch output", &out, &in_file);
        if journal.exists() {
            a.file("the batch journal after --resume", &journal, &[]);
        }
    });
}

#[test]
fn doctor_and_pkcs12_bundles() {
    audit(2, |sb, dir, a| {
        let m = sb.manifest();
        let r = run(&mut {
            let mut c = nzpir();
            c.arg("doctor").args(config_args(sb)).args([
                "-vv",
                "--ird",
                "139276507",
                "--pie-ird",
                SCHEME,
            ]);
            c
        });
        r.expect_code(0);
        a.run("doctor with a lookup", &r, &[], false);
        let p12 = dir.join("client.p12");
        let pass = "p12-pass-VbNmQwErTy";
        a.secret("PKCS#12 password", pass);
        let out = tool(
            "openssl",
            &[
                "pkcs12",
                "-export",
                "-in",
                &m.client_cert.display().to_string(),
                "-inkey",
                &m.client_key.display().to_string(),
                "-passout",
                &format!("pass:{pass}"),
                "-out",
                &p12.display().to_string(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (what, password, code) in [("right", pass, 0), ("wrong", "wrong-p12-pass-AsDfGh", 2)] {
            a.secret("PKCS#12 password", password);
            let mut c = nzpir();
            c.arg("lookup")
                .args(config_args(sb))
                .args(["-vv", "--ird", "139276507", "--pie-ird", SCHEME])
                .args(["--pkcs12", &p12.display().to_string()])
                .env("NZPIR_PKCS12_PASSWORD", password);
            let r = run(&mut c);
            r.expect_code(code);
            a.run(
                &format!("lookup with a PKCS#12 bundle, {what} password"),
                &r,
                &shown(&["139276507", SCHEME]),
                false,
            );
            let mut c = nzpir();
            c.arg("doctor").args(config_args(sb)).args([
                "-vv",
                "--pkcs12",
                &p12.display().to_string(),
                "--pkcs12-password",
                password,
            ]);
            let r = run(&mut c);
            r.expect_code(code);
            a.run(
                &format!("doctor with a PKCS#12 bundle, {what} password"),
                &r,
                &[],
                false,
            );
        }
    });
}

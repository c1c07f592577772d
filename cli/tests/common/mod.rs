//! Helpers for driving the built `nzpir` binary against in-process sandboxes.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};

/// The binary under test.
pub const NZPIR: &str = env!("CARGO_BIN_EXE_nzpir");

/// The scheme the sandbox's ready configuration may ask about.
pub const SCHEME: &str = "125000002";

/// What a finished command left.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code (panics on death by signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self:?}"))
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A command for the binary with a clean environment: no NZPIR_* settings and
/// no proxy from the test runner's environment.
pub fn nzpir() -> Command {
    let mut cmd = Command::new(NZPIR);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("NZPIR_") || k.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs a command to its end (at most two minutes), feeding `stdin`.
pub fn run_with_input(cmd: &mut Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nzpir");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let run = finish(child, Duration::from_secs(120));
    let _ = feeder.join();
    run
}

/// Runs a command to its end (at most two minutes) with no input.
pub fn run(cmd: &mut Command) -> Run {
    run_with_input(cmd, b"")
}

/// Waits for a spawned child (stdout and stderr piped), killing it after `limit`.
pub fn finish(mut child: Child, limit: Duration) -> Run {
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nzpir did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: String::from_utf8_lossy(&out_t.join().expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().expect("stderr")).into_owned(),
    }
}

/// A strict sandbox with the default fixture.
pub fn strict() -> Sandbox {
    Sandbox::start(SandboxOptions::default().profile(Profile::Strict)).expect("sandbox")
}

/// A strict sandbox with options.
pub fn strict_with(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options.profile(Profile::Strict)).expect("sandbox")
}

/// `--config <the sandbox's nzpir.toml>`.
pub fn config_args(sb: &Sandbox) -> Vec<String> {
    vec!["--config".into(), sb.config_path().display().to_string()]
}

/// The flags and the secret (from the environment) of an OAuth command or
/// lookup as the sandbox's registered app `client` (its secret is
/// `<client>-secret`), with its tokens in `store`.
pub fn oauth_flags(cmd: &mut Command, sb: &Sandbox, client: &str, store: &Path) {
    cmd.args(config_args(sb))
        .args([
            "--oauth-client-id",
            client,
            "--oauth-redirect-uri",
            "http://127.0.0.1/callback",
            "--oauth-endpoint",
            &sb.manifest().oauth.base_url,
            "--token-store",
            &store.display().to_string(),
        ])
        .env("NZPIR_OAUTH_CLIENT_SECRET", format!("{client}-secret"));
}

/// Runs an external tool that the test needs (openssl, curl); it must exist.
pub fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed by this test and could not run: {e}"))
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

/// `count` distinct valid IRD numbers that are not in the default fixture.
pub fn unknown_irds(count: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut n = 100_000_000u32;
    while out.len() < count {
        n += 1;
        if let Ok(ird) = nzpir::IrdNumber::from_u32(n) {
            out.push(ird.to_string());
        }
    }
    out
}

/// Reads a file to a string.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Follows IR's authorize URL as the person's browser would (the sandbox's
/// fixture consents at once) and returns where it redirects.
#[allow(dead_code)]
pub fn follow(sb: &Sandbox, url: &str) -> String {
    let o = tool(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            "--cacert",
            &sb.manifest().ca_cert.display().to_string(),
            url,
        ],
    );
    assert!(
        o.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

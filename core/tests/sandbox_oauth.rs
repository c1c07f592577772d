//! OAuth against the sandbox's OAuth server (IR's flow): authorize URL →
//! browser redirect → code exchange → a strict-mode lookup with the bearer
//! token; rotating refresh tokens; `expires_in` as a string; one refresh for
//! 16 threads; introspection and revocation; desktop clients; a configuration
//! with `[auth] type = "oauth"`; token stores that survive a killed process
//! and refuse to be silently replaced when corrupt.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nzpir::oauth::{FileTokenStore, MemoryTokenStore, TokenKind, TokenSet, TokenStore};
use nzpir::{Auth, AuthSettings, Client, ClientBuilder, Config, ErrorKind, PirRequest};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use support::sandbox::{
    REDIRECT_URI, assert_error, browser_get, builder, grant, oauth_client, oauth_file_config,
    start, start_with, token_calls, token_source,
};

/// A tax preparer's client (`ruru.agent`): asks about its clients without PieIRD.
const APP: &str = "sandbox-app";
const CLIENT_OF_RURU: &str = "139439976";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn ruru_lookup() -> PirRequest {
    PirRequest::builder(CLIENT_OF_RURU).build()
}

#[track_caller]
fn assert_rate(client: &Client, req: &PirRequest, rate: &str) {
    let o = client.lookup(req).expect("lookup");
    assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), Some(rate));
}

/// `nzpir.toml` for the sandbox with `[auth] type = "oauth"`; the token store
/// is given relative to the file.
fn write_oauth_config(sb: &Sandbox, dir: &Path, client_id: &str) -> PathBuf {
    let cfg = oauth_file_config(sb, client_id, PathBuf::from("tokens.json"));
    let path = dir.join("nzpir.toml");
    std::fs::write(&path, cfg.to_toml_string().expect("TOML")).expect("write config");
    path
}

fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[test]
fn full_flow_with_an_oauth_configuration() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_oauth_config(&sb, dir.path(), APP);
    let store_path = dir.path().join("tokens.json");

    // Nothing stored yet: a lookup needs consent first, and sends nothing.
    let first = Client::from_config_file(&config).expect("client from nzpir.toml");
    let e = first.lookup(&ruru_lookup()).expect_err("no tokens");
    assert_error(&e, ErrorKind::ConsentRequired, None, None);
    assert_eq!(sb.stats().pir_requests, 0);

    // Process 1 (`nzpir oauth authorize-url`): the URL, the state and the
    // verifier to keep.
    let source = first.oauth().expect("an OAuth token source");
    let req = source.oauth().authorization_request().expect("request");
    let q = query(req.url());
    assert!(
        req.url().starts_with(&m.oauth.authorize_url),
        "{}",
        req.url()
    );
    assert_eq!(param(&q, "client_id"), Some(APP));
    assert_eq!(param(&q, "redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(param(&q, "scope"), Some("MYIR.Services"));
    assert_eq!(param(&q, "response_type"), Some("code"));
    assert_eq!(param(&q, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&q, "code_challenge"), Some(req.pkce().challenge()));
    assert_eq!(param(&q, "state"), Some(req.state()));
    let (state, verifier) = (
        req.state().to_owned(),
        req.pkce().verifier().expose().to_owned(),
    );
    drop(first);

    // The person's browser: IR redirects back to the application at once.
    let location = browser_get(&sb, req.url());
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert_eq!(param(&query(&location), "state"), Some(state.as_str()));

    // Process 2 (`nzpir oauth exchange`): rebuilt from state and verifier.
    let second = Client::from_config_file(&config).expect("client");
    let source = second.oauth().expect("source");
    let resumed = source
        .oauth()
        .resume_authorization(&state, &verifier)
        .expect("resumed");
    assert_eq!(resumed.url(), req.url());
    // A redirect carrying another state is refused before any exchange.
    let forged = location.replace(&state, "forged-state");
    let e = source
        .complete_authorization(&resumed, &forged)
        .expect_err("forged");
    assert_error(&e, ErrorKind::Authentication, None, None);
    assert_eq!(token_calls(&sb, "authorization_code"), 0);
    let tokens = source
        .complete_authorization(&resumed, &location)
        .expect("exchange and store");
    assert_eq!(token_calls(&sb, "authorization_code"), 1);
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.scope.as_deref(), Some("MYIR.Services"));
    assert!((tokens.expires_at - (now() + 28_800)).abs() < 60);
    assert_eq!(
        FileTokenStore::new(&store_path).load().expect("stored"),
        Some(tokens.clone())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store_path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The code is single-use: completing again is refused by IR.
    let e = source
        .complete_authorization(&resumed, &location)
        .expect_err("code spent");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));

    // A strict-mode lookup with the bearer token.
    assert_rate(&second, &ruru_lookup(), "10.5");
    // A third client (a later run) uses the stored token without a token call.
    let third = Client::from_config_file(&config).expect("client");
    assert_rate(&third, &ruru_lookup(), "10.5");
    // The exchange, and the refused second use of the code.
    assert_eq!(sb.stats().token_requests.values().sum::<u64>(), 2);
    assert_eq!(sb.stats().authorize_requests, 1);
    assert_eq!(sb.pir_calls_for(CLIENT_OF_RURU), 2);
}

#[test]
fn irs_error_redirect_is_a_typed_error() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let oauth = oauth_client(&sb, &plain, "sandbox-no-consent");
    let req = oauth.authorization_request().expect("request");
    let location = browser_get(&sb, req.url());
    assert_eq!(param(&query(&location), "error"), Some("access_denied"));
    let e = oauth
        .complete_authorization(&req, &location)
        .expect_err("denied");
    assert_error(&e, ErrorKind::ConsentRequired, None, None);
    assert_eq!(token_calls(&sb, "authorization_code"), 0);
}

#[test]
fn refresh_rotates_and_the_old_refresh_token_is_dead() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let store = Arc::new(MemoryTokenStore::new());
    let source = token_source(&sb, &plain, APP, store.clone());
    let first = grant(&sb, source.oauth());
    source.install(first.clone()).expect("install");
    let client = builder(&sb)
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    assert_rate(&client, &ruru_lookup(), "10.5");

    let second = source.refresh_now().expect("refresh");
    assert_eq!(token_calls(&sb, "refresh_token"), 1);
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(store.load().expect("load"), Some(second.clone()));
    // The new access token works; the old refresh token is spent.
    assert_rate(&client, &ruru_lookup(), "10.5");
    let old = first.refresh_token.as_ref().expect("refresh token");
    let e = source.oauth().refresh(old).expect_err("spent");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));
    assert!(e.to_string().contains("invalid_grant"), "{e}");

    // A copy of the grant that still holds the spent refresh token (say, a
    // backup restored) cannot refresh: the caller is told to get consent.
    let stale = TokenSet {
        expires_at: now() - 60,
        ..first
    };
    let stale_source = token_source(
        &sb,
        &plain,
        APP,
        Arc::new(MemoryTokenStore::with_tokens(stale)),
    );
    let stale_client = builder(&sb)
        .auth(Auth::TokenSource(stale_source))
        .build()
        .expect("client");
    let before = sb.stats().pir_requests;
    let e = stale_client.lookup(&ruru_lookup()).expect_err("re-consent");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));
    assert_eq!(sb.stats().pir_requests, before, "no lookup without a token");
}

#[test]
fn expires_in_as_a_string() {
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .expires_in_as_string(true),
    );
    let plain = builder(&sb).build().expect("client");
    let source = token_source(&sb, &plain, APP, Arc::new(MemoryTokenStore::new()));
    let t = grant(&sb, source.oauth());
    assert!(
        (t.expires_at - (now() + 28_800)).abs() < 60,
        "{}",
        t.expires_at
    );
    source.install(t).expect("install");
    let t = source
        .refresh_now()
        .expect("refresh answer with a string too");
    assert!(
        (t.expires_at - (now() + 28_800)).abs() < 60,
        "{}",
        t.expires_at
    );
    let client = builder(&sb)
        .auth(Auth::TokenSource(source))
        .build()
        .expect("client");
    assert_rate(&client, &ruru_lookup(), "10.5");
}

/// Runs 16 threads of lookups through `client`; every answer must be right.
fn sixteen_threads(client: &Client) {
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let (ird, rate) = if i % 2 == 0 {
                    ("139439976", "10.5")
                } else {
                    ("139332754", "17.5")
                };
                let o = client
                    .lookup(&PirRequest::builder(ird).build())
                    .expect("lookup");
                assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), Some(rate));
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
}

#[test]
fn sixteen_threads_on_an_expired_token_make_one_refresh() {
    // Tokens that live 100 s, less than the refresh margin: the refreshed
    // token must still be used by every waiting thread.
    let sb = start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .access_token_ttl(Duration::from_secs(100)),
    );
    let plain = builder(&sb).build().expect("client");
    let store = Arc::new(MemoryTokenStore::new());
    let source = token_source(&sb, &plain, APP, store.clone());
    let granted = grant(&sb, source.oauth());
    // The client's view: the stored access token has expired.
    store
        .save(&TokenSet {
            expires_at: now() - 1,
            ..granted.clone()
        })
        .expect("save");
    let client = builder(&sb)
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    sixteen_threads(&client);
    assert_eq!(token_calls(&sb, "refresh_token"), 1, "single flight");
    assert_eq!(
        sb.stats().pir_requests,
        16,
        "no call went out with the old token"
    );
    let stored = store.load().expect("load").expect("tokens");
    assert_ne!(
        stored.refresh_token, granted.refresh_token,
        "rotated and stored"
    );
    // And the refreshed token keeps being used.
    sixteen_threads(&client);
    assert_eq!(token_calls(&sb, "refresh_token"), 1);
}

#[test]
fn sixteen_threads_refused_an_expired_token_make_one_refresh() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let store = Arc::new(MemoryTokenStore::new());
    let source = token_source(&sb, &plain, APP, store.clone());
    source.install(grant(&sb, source.oauth())).expect("install");
    let client = builder(&sb)
        .auth(Auth::TokenSource(source))
        .build()
        .expect("client");
    assert_rate(&client, &ruru_lookup(), "10.5");

    // Nine hours later on IR's clock: the token the client still thinks fresh
    // is refused (EV1026), every thread reports it, one refreshes.
    sb.set_clock_offset(9 * 3600);
    let before = sb.stats().pir_requests;
    sixteen_threads(&client);
    assert_eq!(token_calls(&sb, "refresh_token"), 1, "single flight");
    let stats = sb.stats();
    let refused = stats.ir_codes.get("EV1026").copied().unwrap_or(0);
    assert!((1..=16).contains(&refused), "{refused}");
    assert_eq!(
        stats.pir_requests - before,
        16 + refused,
        "each refused call retried once"
    );
}

#[test]
fn introspect_and_revoke() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let oauth = oauth_client(&sb, &plain, APP);
    let t = grant(&sb, &oauth);
    let refresh = t.refresh_token.clone().expect("refresh token");

    let i = oauth
        .introspect(&t.access_token, TokenKind::Access)
        .expect("introspect");
    assert!(i.active);
    assert_eq!(i.client_id.as_deref(), Some(APP));
    assert_eq!(i.username.as_deref(), Some("ruru.agent"));
    assert_eq!(i.scope.as_deref(), Some("MYIR.Services"));
    assert!((i.exp.expect("exp") - t.expires_at).abs() < 60);
    assert!(!format!("{i:?}").contains("ruru.agent"), "{i:?}");
    assert!(
        oauth
            .introspect(&refresh, TokenKind::Refresh)
            .expect("ok")
            .active
    );
    // Another client's view of the token: not active.
    let other = oauth_client(&sb, &plain, "sandbox-kowhai");
    assert!(
        !other
            .introspect(&t.access_token, TokenKind::Access)
            .expect("ok")
            .active
    );

    let bearer = builder(&sb)
        .auth(Auth::Bearer(t.access_token.clone()))
        .build()
        .expect("client");
    assert_rate(&bearer, &ruru_lookup(), "10.5");

    // Revoking the refresh token revokes the access token issued with it.
    oauth.revoke(&refresh, TokenKind::Refresh).expect("revoke");
    assert!(
        !oauth
            .introspect(&t.access_token, TokenKind::Access)
            .expect("ok")
            .active
    );
    assert!(
        !oauth
            .introspect(&refresh, TokenKind::Refresh)
            .expect("ok")
            .active
    );
    let e = bearer.lookup(&ruru_lookup()).expect_err("revoked");
    assert_error(&e, ErrorKind::Authentication, Some("EV1024"), Some(401));
    let e = oauth.refresh(&refresh).expect_err("revoked");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));
    // Revoking another client's token is refused.
    let t2 = grant(&sb, &oauth);
    let e = other
        .revoke(&t2.access_token, TokenKind::Access)
        .expect_err("not its token");
    assert_error(&e, ErrorKind::Config, None, Some(400));
    // An access token revoked alone leaves its refresh token usable.
    oauth
        .revoke(&t2.access_token, TokenKind::Access)
        .expect("revoke");
    assert!(
        !oauth
            .introspect(&t2.access_token, TokenKind::Access)
            .expect("ok")
            .active
    );
    oauth
        .refresh(t2.refresh_token.as_ref().expect("refresh token"))
        .expect("refresh still works");
    let stats = sb.stats();
    assert_eq!(stats.introspect_requests, 6);
    assert_eq!(stats.revoke_requests, 3);
}

#[test]
fn a_desktop_client_needs_consent_when_its_token_expires() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let store = Arc::new(MemoryTokenStore::new());
    let source = token_source(&sb, &plain, "sandbox-desktop", store.clone());
    let t = grant(&sb, source.oauth());
    assert!(
        t.refresh_token.is_none(),
        "desktop clients get no refresh token"
    );
    source.install(t.clone()).expect("install");
    let client = builder(&sb)
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    assert_rate(&client, &ruru_lookup(), "10.5");

    // Expired (a new source reads the store as a new process would).
    store
        .save(&TokenSet {
            expires_at: now() - 1,
            ..t
        })
        .expect("save");
    let later = token_source(&sb, &plain, "sandbox-desktop", store);
    let client = builder(&sb)
        .auth(Auth::TokenSource(later))
        .build()
        .expect("client");
    let before = sb.stats().pir_requests;
    let e = client.lookup(&ruru_lookup()).expect_err("consent");
    assert_error(&e, ErrorKind::ConsentRequired, None, None);
    assert!(e.to_string().contains("desktop"), "{e}");
    assert_eq!(token_calls(&sb, "refresh_token"), 0);
    assert_eq!(sb.stats().pir_requests, before);
    let e = source.refresh_now().expect_err("nothing to refresh with");
    assert_error(&e, ErrorKind::ConsentRequired, None, None);
}

#[test]
fn a_corrupt_or_unreadable_token_file_is_an_error_and_is_kept() {
    let sb = start(Profile::Strict);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_oauth_config(&sb, dir.path(), APP);
    let store_path = dir.path().join("tokens.json");
    let client = Client::from_config_file(&config).expect("client");

    let corrupt = br#"{"version":1,"access_token":"half-written-secret"#;
    std::fs::write(&store_path, corrupt).expect("write");
    let e = client.lookup(&ruru_lookup()).expect_err("corrupt");
    assert_error(&e, ErrorKind::TokenStore, None, None);
    assert!(e.to_string().contains("tokens.json"), "names the file: {e}");
    assert!(e.to_string().contains("corrupt"), "{e}");
    assert!(!e.to_string().contains("half-written-secret"), "{e}");
    assert!(!format!("{e:?}").contains("half-written-secret"), "{e:?}");
    assert_eq!(
        std::fs::read(&store_path).expect("read"),
        corrupt,
        "kept as it was"
    );

    // A format this version does not know is not guessed at either.
    let future = br#"{"version":2,"access_token":"a","expires_at":1}"#;
    std::fs::write(&store_path, future).expect("write");
    let e = client.lookup(&ruru_lookup()).expect_err("unknown version");
    assert_error(&e, ErrorKind::TokenStore, None, None);
    assert_eq!(std::fs::read(&store_path).expect("read"), future);

    // Unreadable: a folder where the file should be (root reads any file).
    std::fs::remove_file(&store_path).expect("rm");
    std::fs::create_dir(&store_path).expect("mkdir");
    let e = client.lookup(&ruru_lookup()).expect_err("unreadable");
    assert_error(&e, ErrorKind::TokenStore, None, None);
    assert!(store_path.is_dir(), "left alone");

    assert_eq!(sb.stats().pir_requests, 0);
    assert_eq!(sb.stats().token_requests.values().sum::<u64>(), 0);
}

// --- A store that survives a process killed right after a refresh ---------

const CHILD_MODE: &str = "NZPIR_TEST_OAUTH_CHILD";
const CHILD_CONFIG: &str = "NZPIR_TEST_OAUTH_CONFIG";

/// A file store that, once a save is durable, says so on stdout and stops:
/// the parent kills the process there, before the new access token is used.
#[derive(Debug)]
struct StopAfterSave(FileTokenStore);

impl TokenStore for StopAfterSave {
    fn load(&self) -> Result<Option<TokenSet>, nzpir::Error> {
        self.0.load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), nzpir::Error> {
        self.0.save(tokens)?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "CHILD-STORED");
        let _ = out.flush();
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// The child process's side; does nothing in a normal test run.
#[test]
fn oauth_child_process() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        return;
    };
    let config = PathBuf::from(std::env::var(CHILD_CONFIG).expect("config path"));
    let cfg = Config::from_file(&config).expect("config");
    let mut out = std::io::stdout().lock();
    match mode.as_str() {
        "refresh-then-stop" => {
            let Some(AuthSettings::Oauth(o)) = &cfg.auth else {
                panic!("an OAuth configuration");
            };
            let path = o.token_store.clone().expect("token store");
            // The same file, through a store that stops the process once the
            // refreshed tokens are durable; the configuration names no file.
            let mut cfg = cfg.clone();
            if let Some(AuthSettings::Oauth(o)) = &mut cfg.auth {
                o.token_store = None;
            }
            let client = ClientBuilder::from_config(&cfg)
                .expect("builder")
                .token_store(Arc::new(StopAfterSave(FileTokenStore::new(path))))
                .build()
                .expect("client");
            let r = client.lookup(&ruru_lookup());
            panic!("the store should have stopped the process: {r:?}");
        }
        "continue" => {
            let client = Client::from_config(&cfg).expect("client");
            let o = client.lookup(&ruru_lookup()).expect("lookup");
            let rate = o.rate().map(|r| r.to_string()).unwrap_or_default();
            let _ = writeln!(out, "CHILD-RATE {rate}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// A child process, killed if the test fails before it ends.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Runs this test binary's `oauth_child_process` in `mode`; returns the child
/// and a channel of its stdout lines.
fn spawn_child(mode: &str, config: &Path) -> (ChildGuard, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "oauth_child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_CONFIG, config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child process");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (ChildGuard(child), rx)
}

/// Waits (generously: the child is a debug build on a busy machine) for the
/// child to print `marker`; returns what follows it on that line. (The test
/// harness may have started the line with the test's name.)
fn wait_for(rx: &std::sync::mpsc::Receiver<String>, marker: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some((_, rest)) = line.split_once(marker) {
                    return rest.trim().to_owned();
                }
            }
            Err(e) => panic!("the child never printed {marker}: {e}"),
        }
    }
}

#[test]
fn the_store_survives_a_process_killed_right_after_a_refresh() {
    let sb = start(Profile::Strict);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_oauth_config(&sb, dir.path(), APP);
    let store = FileTokenStore::new(dir.path().join("tokens.json"));

    // A consented grant, stored as expired so that the child refreshes first.
    let plain = builder(&sb).build().expect("client");
    let oauth = oauth_client(&sb, &plain, APP);
    let granted = grant(&sb, &oauth);
    let r1 = granted.refresh_token.clone().expect("refresh token");
    store
        .save(&TokenSet {
            expires_at: now() - 60,
            ..granted
        })
        .expect("save");

    // Child 1 refreshes, and is killed (SIGKILL) the moment the store write
    // is durable, before the new access token reaches any lookup.
    let (mut child, rx) = spawn_child("refresh-then-stop", &config);
    wait_for(&rx, "CHILD-STORED");
    child.0.kill().expect("SIGKILL");
    let status = child.0.wait().expect("wait");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
    assert!(!status.success());
    assert_eq!(token_calls(&sb, "refresh_token"), 1);
    assert_eq!(
        sb.stats().pir_requests,
        0,
        "killed before the token was used"
    );

    // The rotated refresh token is on disk, whole; the old one is dead (asked
    // by introspection: sending it again would revoke the whole token set,
    // as IR does).
    let after_kill = store.load().expect("readable").expect("tokens");
    let r2 = after_kill.refresh_token.clone().expect("refresh token");
    assert_ne!(r2, r1);
    let old = oauth
        .introspect(&r1, TokenKind::Refresh)
        .expect("introspect");
    assert!(!old.active, "the spent refresh token is inactive");
    let new = oauth
        .introspect(&r2, TokenKind::Refresh)
        .expect("introspect");
    assert!(new.active, "the stored refresh token is live");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("name"))
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no half-written file left: {names:?}"
    );

    // Child 2, a new process, continues from the store. Nine hours on, IR
    // refuses the stored access token; it refreshes with the stored refresh
    // token and the lookup answers.
    sb.set_clock_offset(9 * 3600);
    let (mut child, rx) = spawn_child("continue", &config);
    assert_eq!(wait_for(&rx, "CHILD-RATE"), "10.5");
    assert!(child.0.wait().expect("wait").success());
    assert_eq!(token_calls(&sb, "refresh_token"), 2);
    let r3 = store
        .load()
        .expect("readable")
        .and_then(|t| t.refresh_token)
        .expect("refresh token");
    assert_ne!(r3, r2);
    let e = oauth.refresh(&r2).expect_err("spent by child 2");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));
    let s = sb.stats();
    assert_eq!(s.ir_codes.get("EV1026"), Some(&1));
    assert_eq!(s.pir_responses.get("200"), Some(&1));
}

/// At IR a refresh token sent a second time revokes the whole token set. A
/// stale copy of the store (a second process that kept the old refresh
/// token) replays it after this client rotated: this client's newest access
/// token is then refused by the gateway, its newest refresh token by the
/// token endpoint, and the lookup ends as `ConsentRequired`, never a rate.
#[test]
fn a_replayed_refresh_token_revokes_the_whole_token_set() {
    let sb = start(Profile::Strict);
    let plain = builder(&sb).build().expect("client");
    let store = Arc::new(MemoryTokenStore::new());
    let source = token_source(&sb, &plain, APP, store.clone());
    let first = grant(&sb, source.oauth());
    source.install(first.clone()).expect("install");
    let client = builder(&sb)
        .auth(Auth::TokenSource(source.clone()))
        .build()
        .expect("client");
    assert_rate(&client, &ruru_lookup(), "10.5");

    // This client rotates; the store holds the new set.
    let second = source.refresh_now().expect("refresh");
    assert_ne!(
        second.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        first.refresh_token.as_ref().map(|t| t.expose().to_owned())
    );
    assert_rate(&client, &ruru_lookup(), "10.5");

    // Another process with the old copy replays the spent refresh token.
    let stale = token_source(&sb, &plain, APP, Arc::new(MemoryTokenStore::new()));
    let e = stale
        .oauth()
        .refresh(first.refresh_token.as_ref().expect("refresh token"))
        .expect_err("replayed");
    assert_error(&e, ErrorKind::ConsentRequired, None, Some(401));
    assert_eq!(sb.stats().refresh_replays, 1);

    // This client's newest tokens are gone with the set.
    let before = token_calls(&sb, "refresh_token");
    let e = client.lookup(&ruru_lookup()).expect_err("revoked");
    assert_eq!(e.kind(), ErrorKind::ConsentRequired, "{e}");
    assert!(
        token_calls(&sb, "refresh_token") > before,
        "it tried its newest refresh token once"
    );
    assert_eq!(sb.stats().ir_codes.get("EV1024"), Some(&1));
}

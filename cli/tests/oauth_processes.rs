//! Several processes on one OAuth token store, against the sandbox's OAuth
//! server: `nzpir oauth refresh` and `nzpir lookup` started at the same time
//! refresh in turn under the store's lock and never replay a spent refresh
//! token; a save that fails after IR rotated the grant keeps the new tokens.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use nzpir_sandbox::{Sandbox, SandboxOptions};

const TAX_CLIENT: &str = "139439976"; // a client of the tax preparer ruru-tax (10.5 %)

fn oauth(sb: &Sandbox, store: &Path, sub: &[&str]) -> Command {
    let mut cmd = nzpir();
    cmd.arg("oauth").args(sub);
    oauth_flags(&mut cmd, sb, "sandbox-app", store);
    cmd
}

fn lookup(sb: &Sandbox, store: &Path) -> Command {
    let mut cmd = nzpir();
    cmd.args(["lookup", "--ird", TAX_CLIENT, "--max-retries", "0"]);
    oauth_flags(&mut cmd, sb, "sandbox-app", store);
    cmd
}

/// Authorises (the sandbox's consenting user) and stores the grant.
fn authorise(sb: &Sandbox, store: &Path) {
    let r = run(&mut oauth(sb, store, &["authorize-url"]));
    r.expect_code(0);
    let redirect = follow(sb, r.stdout.trim());
    run(oauth(sb, store, &["exchange"]).args(["--redirect-url", &redirect])).expect_code(0);
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nzpir")
}

fn refresh_token(store: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&read(store)).expect("token store");
    v["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned()
}

#[test]
fn processes_refreshing_one_store_at_once_never_replay_a_spent_token() {
    let sb = strict_with(
        SandboxOptions::default()
            .ir003_limit(0)
            .access_token_ttl(Duration::from_secs(2)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");
    authorise(&sb, &store);

    // Explicit refreshes, six processes at once, three rounds.
    let mut refreshes = 0;
    for _ in 0..3 {
        let children: Vec<Child> = (0..6)
            .map(|_| spawn(oauth(&sb, &store, &["refresh"])))
            .collect();
        for c in children {
            finish(c, Duration::from_secs(120)).expect_code(0);
        }
        refreshes += 6;
        assert_eq!(
            sb.stats().token_requests.get("refresh_token"),
            Some(&refreshes),
            "one refresh per process, each with the token the last one stored"
        );
    }

    // Lookups in six processes after the access token expired: each finds it
    // stale; the first refreshes and the others adopt what it stored.
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(2100));
        let children: Vec<Child> = (0..6).map(|_| spawn(lookup(&sb, &store))).collect();
        for c in children {
            let r = finish(c, Duration::from_secs(120));
            r.expect_code(0);
            assert_eq!(r.stdout, format!("IRD {TAX_CLIENT}: suggested PIR 10.5%\n"));
        }
        let now = *sb
            .stats()
            .token_requests
            .get("refresh_token")
            .expect("refreshes");
        assert!(now > refreshes, "the expired token was refreshed");
        refreshes = now;
    }

    // IR revokes the whole grant when a spent refresh token comes back: none did.
    assert_eq!(sb.stats().refresh_replays, 0);
    // The grant in the store is still the live one.
    let r = run(&mut oauth(
        &sb,
        &store,
        &["introspect", "--token-type", "refresh"],
    ));
    r.expect_code(0);
    assert!(r.stdout.contains("\"active\":true"), "{}", r.stdout);
}

/// Makes replacing `path` fail while reading it still works: the immutable
/// attribute (root), else a read-only folder (anyone else).
struct Unwritable<'a> {
    path: &'a Path,
    immutable: bool,
}

impl<'a> Unwritable<'a> {
    fn new(path: &'a Path) -> Self {
        let immutable = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !immutable {
            use std::os::unix::fs::PermissionsExt;
            let dir = path.parent().expect("folder");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        }
        Unwritable { path, immutable }
    }
}

impl Drop for Unwritable<'_> {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(self.path).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let dir = self.path.parent().expect("folder");
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

#[test]
fn a_refresh_whose_save_fails_keeps_the_new_tokens() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");
    authorise(&sb, &store);
    let spent = refresh_token(&store);
    let recovery = dir.path().join("tokens.json.recovery");

    let r = {
        let _lock = Unwritable::new(&store);
        run(&mut oauth(&sb, &store, &["refresh", "--show-tokens"]))
    };
    r.expect_code(2);
    assert!(r.stderr.contains("IR rotated the grant"), "{}", r.stderr);
    assert!(r.stderr.contains("spent"), "{}", r.stderr);
    assert_eq!(refresh_token(&store), spent, "the store was not replaced");
    // Asked for with --show-tokens: the new tokens on stderr, never stdout.
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let shown = r
        .stderr
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .expect("the tokens as JSON on stderr");
    let live = shown["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    assert_ne!(live, spent);
    if recovery.exists() {
        // Kept beside the store, private, and named in the message.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&recovery)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(r.stderr.contains("tokens.json.recovery"), "{}", r.stderr);
        assert_eq!(refresh_token(&recovery), live);
        // What the message says to do: put it in the store's place.
        std::fs::rename(&recovery, &store).expect("restore");
    } else {
        assert!(r.stderr.contains("only in this process"), "{}", r.stderr);
        std::fs::write(
            &store,
            serde_json::json!({"version": 1, "access_token": shown["access_token"],
                "refresh_token": live, "expires_at": shown["expires_at"]})
            .to_string(),
        )
        .expect("restore");
    }
    // The kept refresh token is the live one: the grant survived.
    run(&mut oauth(&sb, &store, &["refresh"])).expect_code(0);
}

#[test]
fn a_refresh_answer_lost_on_the_way_is_not_sent_again() {
    use nzpir_sandbox::{Fault, FaultKind, FaultScope};
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");
    authorise(&sb, &store);
    let before = refresh_token(&store);
    sb.set_fault(
        Fault::new(FaultKind::DropAfterProcess)
            .scope(FaultScope::Token)
            .times(1),
    );
    let r = run(&mut oauth(&sb, &store, &["refresh"]));
    r.expect_code(7);
    assert!(r.stderr.contains("may have reached IR"), "{}", r.stderr);
    assert!(r.stderr.contains("authorise again"), "{}", r.stderr);
    // Exactly one token request: a spent refresh token is never replayed by
    // a retry, and the store still holds what it held.
    assert_eq!(sb.stats().token_requests.get("refresh_token"), Some(&1));
    assert_eq!(refresh_token(&store), before);
    // IR processed it: the stored token is spent, and the next refresh says
    // that a person must consent again.
    let r = run(&mut oauth(&sb, &store, &["refresh"]));
    r.expect_code(4);
    assert!(r.stderr.contains("consent again"), "{}", r.stderr);
}

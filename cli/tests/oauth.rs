//! End to end: `nzpir oauth` across separate processes, as a person would run
//! it: authorize-url, follow the sandbox's redirect, exchange, refresh,
//! introspect, look up with the stored tokens, revoke.

mod common;

use std::path::Path;

use common::*;

/// The OAuth flags for a sandbox client (the secret from the environment).
fn oauth_cmd(
    sb: &nzpir_sandbox::Sandbox,
    client: &str,
    store: &Path,
    sub: &[&str],
) -> std::process::Command {
    let mut cmd = nzpir();
    cmd.arg("oauth").args(sub);
    oauth_flags(&mut cmd, sb, client, store);
    cmd
}

fn authorize(sb: &nzpir_sandbox::Sandbox, client: &str, store: &Path) -> String {
    let r = run(&mut oauth_cmd(sb, client, store, &["authorize-url"]));
    r.expect_code(0);
    let url = r.stdout.trim().to_owned();
    assert!(url.starts_with(&sb.manifest().oauth.authorize_url), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    follow(sb, &url)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn authorise_exchange_refresh_introspect_lookup_revoke() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");
    let pending = dir.path().join("tokens.json.pending");

    let redirect = authorize(&sb, "sandbox-app", &store);
    assert!(
        redirect.starts_with("http://127.0.0.1/callback?code="),
        "{redirect}"
    );
    assert!(pending.exists());
    #[cfg(unix)]
    assert_eq!(mode(&pending), 0o600);

    // A second process finishes it.
    let r =
        run(oauth_cmd(&sb, "sandbox-app", &store, &["exchange"])
            .args(["--redirect-url", &redirect]));
    r.expect_code(0);
    assert!(!pending.exists(), "the pending authorisation is used up");
    #[cfg(unix)]
    assert_eq!(mode(&store), 0o600);
    let tokens: serde_json::Value = serde_json::from_str(&read(&store)).expect("token store");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    for secret in [&access, &refresh] {
        assert!(!r.stdout.contains(secret.as_str()) && !r.stderr.contains(secret.as_str()));
    }
    assert!(r.stderr.contains("tokens stored"), "{}", r.stderr);
    assert_eq!(
        sb.stats().token_requests.get("authorization_code"),
        Some(&1)
    );

    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["introspect"]));
    r.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], "sandbox-app");
    assert_eq!(v["username"], "ruru.agent");

    // Refresh rotates the refresh token and stores the new one.
    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["refresh"]));
    r.expect_code(0);
    assert!(!r.stdout.contains(&refresh) && !r.stderr.contains(&refresh));
    let tokens: serde_json::Value = serde_json::from_str(&read(&store)).expect("token store");
    let refresh2 = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(refresh2, refresh);
    let r = run(&mut oauth_cmd(
        &sb,
        "sandbox-app",
        &store,
        &["refresh", "--show-tokens"],
    ));
    r.expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let tokens: serde_json::Value = serde_json::from_str(&read(&store)).expect("token store");
    assert_eq!(
        shown["refresh_token"], tokens["refresh_token"],
        "shown because asked"
    );
    assert_eq!(sb.stats().token_requests.get("refresh_token"), Some(&2));

    let r = run(&mut oauth_cmd(
        &sb,
        "sandbox-app",
        &store,
        &["introspect", "--token-type", "refresh"],
    ));
    r.expect_code(0);
    assert!(r.stdout.contains("\"active\":true"), "{}", r.stdout);

    // A lookup with the stored tokens: the tax preparer's client, no PieIRD.
    let r = run(nzpir()
        .arg("lookup")
        .args(config_args(&sb))
        .args([
            "--oauth-client-id",
            "sandbox-app",
            "--oauth-endpoint",
            &sb.manifest().oauth.base_url,
            "--token-store",
            &store.display().to_string(),
            "--ird",
            "139439976",
        ])
        .env("NZPIR_OAUTH_CLIENT_SECRET", "sandbox-app-secret"));
    r.expect_code(0);
    assert_eq!(r.stdout, "IRD 139439976: suggested PIR 10.5%\n");
    // OAuth authorisation failures are exit 4 too (EV1041).
    let r = run(nzpir()
        .arg("lookup")
        .args(config_args(&sb))
        .args([
            "--oauth-client-id",
            "sandbox-app",
            "--oauth-endpoint",
            &sb.manifest().oauth.base_url,
            "--token-store",
            &store.display().to_string(),
            "--ird",
            "139276507",
            "--pie-ird",
            SCHEME,
        ])
        .env("NZPIR_OAUTH_CLIENT_SECRET", "sandbox-app-secret"));
    r.expect_code(4);
    assert!(r.stderr.contains("EV1041"), "{}", r.stderr);

    // Revoke: the store goes, and the old tokens are dead at the server.
    let old: serde_json::Value = serde_json::from_str(&read(&store)).expect("token store");
    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["revoke"]));
    r.expect_code(0);
    assert!(!store.exists());
    assert_eq!(sb.stats().revoke_requests, 1);
    std::fs::write(&store, old.to_string()).expect("put the old tokens back");
    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["introspect"]));
    r.expect_code(0);
    assert!(r.stdout.contains("\"active\":false"), "{}", r.stdout);
    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["refresh"]));
    r.expect_code(4);
    assert!(r.stderr.contains("invalid_grant"), "{}", r.stderr);
    std::fs::remove_file(&store).expect("remove");
    let r = run(&mut oauth_cmd(&sb, "sandbox-app", &store, &["refresh"]));
    r.expect_code(4);
    assert!(r.stderr.contains("authorise first"), "{}", r.stderr);
}

#[test]
fn refusals_and_forgeries_exit_4_and_missing_settings_exit_2() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");

    // The user does not consent: IR redirects with error=access_denied.
    let redirect = authorize(&sb, "sandbox-no-consent", &store);
    assert!(redirect.contains("error=access_denied"), "{redirect}");
    let r = run(oauth_cmd(&sb, "sandbox-no-consent", &store, &["exchange"])
        .args(["--redirect-url", &redirect]));
    r.expect_code(4);
    assert!(r.stderr.contains("access_denied"), "{}", r.stderr);
    assert!(!store.exists());

    // A redirect whose state is not ours.
    let redirect = authorize(&sb, "sandbox-app", &store);
    let forged = redirect.replace("state=", "state=x");
    let r =
        run(oauth_cmd(&sb, "sandbox-app", &store, &["exchange"]).args(["--redirect-url", &forged]));
    r.expect_code(4);
    assert!(r.stderr.contains("state does not match"), "{}", r.stderr);
    // The real one still works, once; the code is single-use.
    run(oauth_cmd(&sb, "sandbox-app", &store, &["exchange"]).args(["--redirect-url", &redirect]))
        .expect_code(0);
    let r =
        run(oauth_cmd(&sb, "sandbox-app", &store, &["exchange"])
            .args(["--redirect-url", &redirect]));
    r.expect_code(2);
    assert!(r.stderr.contains("authorize-url"), "{}", r.stderr);

    // Another client's pending authorisation is refused.
    authorize(&sb, "sandbox-kowhai", &store);
    let r = run(oauth_cmd(&sb, "sandbox-app", &store, &["exchange"])
        .args(["--redirect-url", "code=x&state=y"]));
    r.expect_code(2);
    assert!(r.stderr.contains("another client"), "{}", r.stderr);

    // Missing settings.
    let r = run(nzpir()
        .args(["oauth", "authorize-url"])
        .args(config_args(&sb)));
    r.expect_code(2);
    let r = run(nzpir()
        .args(["oauth", "refresh", "--oauth-client-id", "sandbox-app"])
        .args(config_args(&sb))
        .args([
            "--oauth-endpoint",
            &sb.manifest().oauth.base_url,
            "--token-store",
            "/tmp/x.json",
        ]));
    r.expect_code(2);
    assert!(r.stderr.contains("client_secret"), "{}", r.stderr);
    // A wrong client secret: the token endpoint says invalid_client (configuration).
    let r = run(oauth_cmd(&sb, "sandbox-app", &store, &["refresh"])
        .env("NZPIR_OAUTH_CLIENT_SECRET", "wrong"));
    r.expect_code(2);
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
}

#[test]
fn the_verbs_every_surface_uses_are_aliases_of_authorize_url_and_exchange() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("tokens.json");
    let r = run(&mut oauth_cmd(
        &sb,
        "sandbox-app",
        &store,
        &["authorization-request"],
    ));
    r.expect_code(0);
    let redirect = follow(&sb, r.stdout.trim());
    let r = run(
        oauth_cmd(&sb, "sandbox-app", &store, &["complete-authorization"])
            .args(["--redirect-url", &redirect]),
    );
    r.expect_code(0);
    let tokens: serde_json::Value = serde_json::from_str(&read(&store)).expect("token store");
    assert!(tokens["access_token"].is_string());
}

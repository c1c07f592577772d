//! The OAuth server: authorize, token (code + PKCE, rotating refresh tokens),
//! introspect and revoke.

mod common;

use common::{call, oauth_tokens, pkce_challenge, start, token_request, urlenc};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};
use serde_json::{Value, json};

const VERIFIER: &str = "a-verifier-of-sufficient-length-0123456789-abcdefghijkl";

fn authorize(m: &nzpir_sandbox::Manifest, query: &str) -> common::Response {
    call(
        m,
        "GET",
        &format!("/gateway3/oauth/authorize?{query}"),
        &[],
        b"",
    )
}

fn query(client: &str, redirect: &str, extra: &str) -> String {
    format!(
        "client_id={client}&redirect_uri={}&scope=MYIR.Services&response_type=code&state=s1&code_challenge={}&code_challenge_method=S256{extra}",
        urlenc(redirect),
        pkce_challenge(VERIFIER)
    )
}

fn location_params(r: &common::Response) -> Vec<(String, String)> {
    let loc = r.header("location").expect("Location header");
    url::Url::parse(loc)
        .expect("URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn introspect(m: &nzpir_sandbox::Manifest, token: &str) -> Value {
    let r = call(
        m,
        "POST",
        "/gateway3/oauth/introspect",
        &[
            ("Authorization", &basic("sandbox-app", "sandbox-app-secret")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("token={}&token_type_hint=access_token", urlenc(token)).as_bytes(),
    );
    assert_eq!(r.status, 200);
    r.json()
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

#[test]
fn code_flow_refresh_rotation_introspect_revoke() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();

    // authorize redirects at once with code and state, to the exact
    // registered URI (IR matches redirect URIs exactly).
    let cb = "http://127.0.0.1/callback";
    let r = authorize(m, &query("sandbox-app", cb, ""));
    assert_eq!(r.status, 302);
    let loc = r.header("location").expect("Location");
    assert!(loc.starts_with("http://127.0.0.1/callback?"), "{loc}");
    let pairs = location_params(&r);
    assert_eq!(param(&pairs, "state").as_deref(), Some("s1"));
    let code = param(&pairs, "code").expect("code");

    // token: wrong verifier, wrong redirect_uri, then right; the code is single-use.
    let form = |verifier: &str, redirect: &str| {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={verifier}",
            urlenc(&code),
            urlenc(redirect)
        )
    };
    let r = token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        &form("wrong-verifier-wrong-verifier-wrong-verifier-00", cb),
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );
    // The failed attempt spent the code.
    let r = token_request(m, "sandbox-app", "sandbox-app-secret", &form(VERIFIER, cb));
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );

    // A fresh flow succeeds.
    let t = oauth_tokens(m, "sandbox-app");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 28800);
    assert_eq!(t["scope"], "MYIR.Services");
    let access = t["access_token"].as_str().expect("access").to_owned();
    let refresh1 = t["refresh_token"].as_str().expect("refresh").to_owned();

    // introspect.
    let i = introspect(m, &access);
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], "sandbox-app");
    assert_eq!(i["username"], "ruru.agent");
    assert_eq!(i["sub"], "ruru.agent");
    assert_eq!(i["scope"], "MYIR.Services");
    let (iat, exp) = (
        i["iat"].as_i64().expect("iat"),
        i["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 28800);
    assert_eq!(introspect(m, "nope")["active"], false);

    // refresh rotates; the old refresh token is spent.
    let rf = |token: &str| {
        token_request(
            m,
            "sandbox-app",
            "sandbox-app-secret",
            &format!("grant_type=refresh_token&refresh_token={}", urlenc(token)),
        )
    };
    let r = rf(&refresh1);
    assert_eq!(r.status, 200, "{}", r.text());
    let t2 = r.json();
    let refresh2 = t2["refresh_token"]
        .as_str()
        .expect("new refresh")
        .to_owned();
    assert_ne!(refresh2, refresh1);
    assert_ne!(t2["access_token"], t["access_token"]);
    // The newer one works once, and its successor is what counts now.
    let t3 = rf(&refresh2).json();
    let refresh3 = t3["refresh_token"].as_str().expect("refresh 3").to_owned();
    let r = rf(&refresh2);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert!(r.json()["error_description"].is_string());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // That replay revoked the whole token set, as IR does: the newest
    // refresh and access tokens are dead too.
    assert_eq!(rf(&refresh3).json()["error"], "invalid_grant");
    let access3 = t3["access_token"].as_str().expect("access 3").to_owned();
    assert_eq!(introspect(m, &access3)["active"], false);
    assert_eq!(sb.stats().refresh_replays, 1);
    // A new consent starts a new token set.
    let t3 = oauth_tokens(m, "sandbox-app");
    let refresh3 = t3["refresh_token"].as_str().expect("refresh 3").to_owned();

    // A refresh token of another client is refused.
    let r = token_request(
        m,
        "sandbox-kowhai",
        "sandbox-kowhai-secret",
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            urlenc(&refresh3)
        ),
    );
    assert_eq!(r.json()["error"], "invalid_grant");

    // revoke the refresh token: it and its access token are dead.
    let access3 = t3["access_token"].as_str().expect("access 3").to_owned();
    assert_eq!(introspect(m, &access3)["active"], true);
    let r = call(
        m,
        "POST",
        "/gateway3/oauth/revoke",
        &[("Authorization", &basic("sandbox-app", "sandbox-app-secret"))],
        format!("token={}&token_type_hint=refresh_token", urlenc(&refresh3)).as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(introspect(m, &access3)["active"], false);
    assert_eq!(rf(&refresh3).json()["error"], "invalid_grant");
    // Revoking an unknown token is fine too.
    let r = call(
        m,
        "POST",
        "/gateway3/oauth/revoke",
        &[("Authorization", &basic("sandbox-app", "sandbox-app-secret"))],
        b"token=unknown",
    );
    assert_eq!(r.status, 200);

    // The counters separate grant types.
    let s = sb.stats();
    assert_eq!(s.token_requests.get("authorization_code"), Some(&4));
    assert_eq!(s.token_requests.get("refresh_token"), Some(&6));
}

#[test]
fn authorize_and_token_errors() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let cb = "http://127.0.0.1/callback";
    // Unknown client or unregistered redirect: 400, no redirect.
    for q in [
        query("nobody", cb, ""),
        query("sandbox-app", "https://evil.test/cb", ""),
        "client_id=sandbox-app".to_owned(),
    ] {
        let r = authorize(m, &q);
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["error"], "invalid_request");
        assert!(r.header("location").is_none());
    }
    // Errors after the redirect URI is known go back to it with `error`.
    let cases = [
        (
            query("sandbox-app", cb, "").replace("scope=MYIR.Services", "scope=other"),
            "invalid_scope",
        ),
        (
            query("sandbox-app", cb, "").replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            query("sandbox-app", cb, "")
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            format!(
                "client_id=sandbox-app&redirect_uri={}&scope=MYIR.Services&response_type=code&state=s1&code_challenge_method=S256",
                urlenc(cb)
            ),
            "invalid_request",
        ),
        (
            query("sandbox-app", cb, "").replace("state=s1", &format!("state={}", "x".repeat(200))),
            "invalid_request",
        ),
        (query("sandbox-no-consent", cb, ""), "access_denied"),
    ];
    for (q, error) in cases {
        let r = authorize(m, &q);
        assert_eq!(r.status, 302, "{q}");
        let pairs = location_params(&r);
        assert_eq!(param(&pairs, "error").as_deref(), Some(error), "{q}");
        assert!(param(&pairs, "code").is_none());
    }
    // Client authentication at the token endpoint.
    let r = token_request(
        m,
        "sandbox-app",
        "wrong",
        "grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic"))
    );
    // No client authentication at all: IR's other status for invalid_client.
    let r = call(
        m,
        "POST",
        "/gateway3/oauth/token",
        &[],
        b"grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_client");
    // Bad requests.
    let r = token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        "grant_type=password&username=a",
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );
    let r = token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        "grant_type=authorization_code",
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let r = token_request(m, "sandbox-app", "sandbox-app-secret", "");
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let r = token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        "grant_type=refresh_token&refresh_token=made-up",
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );
    // A code issued to one client cannot be redeemed by another.
    let r = authorize(m, &query("sandbox-app", cb, ""));
    let code = param(&location_params(&r), "code").expect("code");
    let r = token_request(
        m,
        "sandbox-kowhai",
        "sandbox-kowhai-secret",
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            urlenc(&code),
            urlenc(cb)
        ),
    );
    assert_eq!(r.json()["error"], "invalid_grant");
    // Methods.
    assert_eq!(
        call(m, "POST", "/gateway3/oauth/authorize", &[], b"").status,
        405
    );
    assert_eq!(
        call(m, "GET", "/gateway3/oauth/token", &[], b"").status,
        405
    );
}

#[test]
fn desktop_clients_get_no_refresh_token_and_expiry_options() {
    let sb = Sandbox::start(
        SandboxOptions::default()
            .profile(Profile::IrMock)
            .access_token_ttl(std::time::Duration::from_secs(2))
            .expires_in_as_string(true),
    )
    .expect("starts");
    let m = sb.manifest();
    let t = oauth_tokens(m, "sandbox-desktop");
    assert!(t.get("refresh_token").is_none(), "{t}");
    assert_eq!(t["expires_in"], "2");
    let t = oauth_tokens(m, "sandbox-app");
    assert!(t["refresh_token"].is_string());
    let token = t["access_token"].as_str().expect("access").to_owned();
    assert_eq!(introspect(m, &token)["active"], true);
    // Past its lifetime on the sandbox's clock it is inactive.
    sb.set_clock_offset(3);
    assert_eq!(introspect(m, &token)["active"], false);
}

#[test]
fn codes_expire_after_ten_minutes() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let cb = "http://127.0.0.1/callback";
    let r = authorize(m, &query("sandbox-app", cb, ""));
    let code = param(&location_params(&r), "code").expect("code");
    sb.set_clock_offset(601);
    let r = token_request(
        m,
        "sandbox-app",
        "sandbox-app-secret",
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            urlenc(&code),
            urlenc(cb)
        ),
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );
}

#[test]
fn oauth_host_needs_no_client_certificate() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    assert_ne!(m.oauth.base_url, m.url);
    assert_eq!(sb.oauth_url(), m.oauth.base_url);
    assert_eq!(
        m.oauth.token_url,
        format!("{}/gateway3/oauth/token", m.oauth.base_url)
    );
    let config = common::client_config(m, common::Identity::None);
    let mut c = common::Conn::open_url(&m.oauth.base_url, config.clone()).expect("one-way TLS");
    let r = c
        .request(
            "GET",
            &format!(
                "/gateway3/oauth/authorize?{}",
                query("sandbox-app", "http://127.0.0.1/callback", "")
            ),
            &[],
            b"",
        )
        .expect("answered");
    assert_eq!(r.status, 302);
    let code = param(&location_params(&r), "code").expect("code");
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        urlenc(&code),
        urlenc("http://127.0.0.1/callback")
    );
    let r = c
        .request(
            "POST",
            "/gateway3/oauth/token",
            &[("Authorization", &basic("sandbox-app", "sandbox-app-secret"))],
            form.as_bytes(),
        )
        .expect("answered");
    assert_eq!(r.status, 200, "{}", r.text());
    // The gateway and the admin API are not served there.
    for path in [
        "/gateway/calculators/pir",
        "/gateway/calculators/status",
        "/__sandbox/stats",
    ] {
        let r = c.request("POST", path, &[], b"{}").expect("answered");
        assert_eq!(r.status, 404, "{path}");
    }
    // And the main listener still wants a client certificate.
    assert!(
        common::Conn::open_url(&m.url, config)
            .and_then(|mut c| c.request("GET", "/gateway/calculators/status", &[], b""))
            .is_err()
    );
}

/// IR's OAuth server as its build pack describes it: PKCE optional (a
/// setting requires it), redirect URIs matched exactly (a setting allows any
/// loopback port), tokens shaped like IR's, and a replayed refresh token
/// revoking the whole token set, which a client then meets as EV1024 at the
/// gateway and `invalid_grant` at the token endpoint.
#[test]
fn irs_oauth_as_it_stands() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let cb = "http://127.0.0.1/callback";
    let plain = format!(
        "client_id=sandbox-kowhai&redirect_uri={}&scope=MYIR.Services&response_type=code&state=a%7Cb",
        urlenc(cb)
    );

    // No PKCE: authorised, and the code is exchanged without a verifier.
    let r = authorize(m, &plain);
    assert_eq!(r.status, 302, "{}", r.text());
    let code = param(&location_params(&r), "code").expect("code");
    let r = token_request(
        m,
        "sandbox-kowhai",
        "sandbox-kowhai-secret",
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}",
            urlenc(&code),
            urlenc(cb)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.json();
    // Tokens shaped like IR's.
    let access = t["access_token"].as_str().expect("access").to_owned();
    let refresh1 = t["refresh_token"].as_str().expect("refresh").to_owned();
    assert!((900..=1400).contains(&access.len()), "{}", access.len());
    assert_eq!(access.split('.').count(), 3);
    assert!(refresh1.contains('|'), "IR's refresh tokens may hold `|`");
    assert!((45..=60).contains(&refresh1.len()));

    // The access token works at the gateway (a kowhai.ops logon, its member).
    let scheme = common::pie(m, "kowhai-scheme");
    let body = format!(r#"{{"IRD":"139276507","PieIRD":"{scheme}"}}"#);
    let bearer = |a: &str| format!("Bearer {a}");
    assert_eq!(common::pir(m, Some(&bearer(&access)), &body).status, 200);

    // A code issued with a challenge still needs its verifier.
    let r = authorize(m, &query("sandbox-kowhai", cb, ""));
    let code = param(&location_params(&r), "code").expect("code");
    let r = token_request(
        m,
        "sandbox-kowhai",
        "sandbox-kowhai-secret",
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}",
            urlenc(&code),
            urlenc(cb)
        ),
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );

    // Refresh replay: the first refresh rotates, the replay of the spent
    // token revokes everything issued in that set.
    let rf = |token: &str| {
        token_request(
            m,
            "sandbox-kowhai",
            "sandbox-kowhai-secret",
            &format!("grant_type=refresh_token&refresh_token={}", urlenc(token)),
        )
    };
    let t2 = rf(&refresh1).json();
    let access2 = t2["access_token"].as_str().expect("access 2").to_owned();
    let refresh2 = t2["refresh_token"].as_str().expect("refresh 2").to_owned();
    assert_eq!(common::pir(m, Some(&bearer(&access2)), &body).status, 200);
    let r = rf(&refresh1);
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_grant"))
    );
    // What a client sees afterwards: its newest access token is refused by
    // the gateway (EV1024), its newest refresh token by the token endpoint.
    let r = common::pir(m, Some(&bearer(&access2)), &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], "EV1024");
    assert_eq!(
        common::pir(m, Some(&bearer(&access)), &body).json()["errors"][0]["code"],
        "EV1024"
    );
    assert_eq!(rf(&refresh2).json()["error"], "invalid_grant");
    // Another consent's token set is untouched.
    let other = oauth_tokens(m, "sandbox-kowhai");
    let other_access = other["access_token"].as_str().expect("access");
    assert_eq!(
        common::pir(m, Some(&bearer(other_access)), &body).status,
        200
    );

    // Exact redirect URIs: another port on the registered loopback URI is
    // not registered.
    let r = authorize(
        m,
        &query("sandbox-app", "http://127.0.0.1:49152/callback", ""),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");

    // The options: PKCE required; any port on a loopback URI.
    let strict_pkce = Sandbox::start(
        SandboxOptions::default()
            .require_pkce(true)
            .loopback_redirect_any_port(true),
    )
    .expect("starts");
    let m2 = strict_pkce.manifest();
    let r = authorize(m2, &plain);
    assert_eq!(r.status, 302);
    assert_eq!(
        param(&location_params(&r), "error").as_deref(),
        Some("invalid_request")
    );
    let r = authorize(
        m2,
        &query("sandbox-app", "http://127.0.0.1:49152/callback", ""),
    );
    assert_eq!(r.status, 302);
    let loc = r.header("location").expect("Location");
    assert!(loc.starts_with("http://127.0.0.1:49152/callback?"), "{loc}");
    assert!(param(&location_params(&r), "code").is_some());
}

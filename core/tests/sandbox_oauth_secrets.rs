//! No OAuth secret and no personal data in logs, errors or `Debug`: a whole
//! OAuth flow against the sandbox (exchange, lookups, refresh, introspect,
//! revoke, refused refresh and lookups) with every log record of every crate
//! captured at trace level, the sandbox's own included, as a host's logger
//! installed through `nzpir::logging::WithoutWireDumps` receives them.
//!
//! Its own test binary: the logger is process-wide.

mod support;

use log::Level;
use nzpir::oauth::TokenKind;
use nzpir::{Client, PirRequest};
use nzpir_sandbox::Profile;
use support::logs::{Tee, wire_dump_text};
use support::sandbox::{browser_get, oauth_file_config, oauth_secret, start};

static LOGGER: Tee = Tee::new();

#[test]
fn an_oauth_flow_logs_no_secret_and_no_personal_data() {
    Tee::install(&LOGGER);

    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let client_id = "sandbox-app";
    let client_secret = oauth_secret(m, client_id);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = oauth_file_config(&sb, client_id, dir.path().join("tokens.json"));
    let client = Client::from_config(&cfg).expect("client");
    let source = client.oauth().expect("source").clone();
    let oauth = source.oauth().clone();

    let req = oauth.authorization_request().expect("request");
    // The browser is not the library: its own HTTP client's records (the
    // URL, the Location with the code) are not what this test is about.
    LOGGER.record(false);
    let location = browser_get(&sb, req.url());
    LOGGER.record(true);
    let code = req.code_from_redirect(&location).expect("code");

    let first = source
        .complete_authorization(&req, &location)
        .expect("exchange");
    let ird = "139439976";
    let lookup = PirRequest::builder(ird).build();
    client.lookup(&lookup).expect("lookup");
    let second = source.refresh_now().expect("refresh");
    client.lookup(&lookup).expect("lookup after refresh");
    let introspection = oauth
        .introspect(&second.access_token, TokenKind::Access)
        .expect("introspect");
    assert!(introspection.active);
    let mut errors = Vec::new();
    errors.push(
        oauth
            .refresh(first.refresh_token.as_ref().expect("r1"))
            .expect_err("spent"),
    );
    oauth
        .revoke(
            second.refresh_token.as_ref().expect("r2"),
            TokenKind::Refresh,
        )
        .expect("revoke");
    errors.push(
        client
            .lookup(&lookup)
            .expect_err("revoked token, refused refresh"),
    );
    errors.push(source.refresh_now().expect_err("revoked"));
    errors.push(
        client
            .lookup(
                &PirRequest::builder("139276507")
                    .pie_ird("125000002")
                    .build(),
            )
            .expect_err("still revoked"),
    );
    LOGGER.record(false);

    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"))
    };
    let secrets: Vec<(&str, String)> = vec![
        ("client secret", client_secret.clone()),
        ("Basic credentials", basic),
        ("authorisation code", code.expose().to_owned()),
        ("PKCE verifier", req.pkce().verifier().expose().to_owned()),
        ("state", req.state().to_owned()),
        ("access token 1", first.access_token.expose().to_owned()),
        ("access token 2", second.access_token.expose().to_owned()),
        (
            "refresh token 1",
            first
                .refresh_token
                .as_ref()
                .expect("r1")
                .expose()
                .to_owned(),
        ),
        (
            "refresh token 2",
            second
                .refresh_token
                .as_ref()
                .expect("r2")
                .expose()
                .to_owned(),
        ),
        ("IRD", ird.to_owned()),
        ("IRD", "139276507".to_owned()),
        ("myIR logon", "ruru.agent".to_owned()),
    ];

    let records = LOGGER.host_records();
    assert!(
        records
            .iter()
            .any(|(l, t, m)| *l == Level::Info && t == "nzpir" && m.contains("refreshed")),
        "the refresh was logged: {records:#?}"
    );
    assert!(
        records.iter().any(|(_, t, _)| t != "nzpir"),
        "other crates logged too at trace level"
    );
    for (level, target, msg) in &records {
        for (what, s) in &secrets {
            assert!(
                !msg.contains(s.as_str()),
                "{level} {target} leaked the {what}: {msg}"
            );
        }
    }
    // Unfiltered, the HTTP library's wire dumps would have carried them.
    let wire = wire_dump_text(&LOGGER.raw.records());
    let (basic_what, basic) = &secrets[1];
    assert!(
        wire.contains(basic.as_str()),
        "the raw dump has no {basic_what}"
    );
    assert!(wire.contains(second.access_token.expose()));
    assert!(wire.contains(ird));
    for e in &errors {
        for (what, s) in &secrets {
            assert!(
                !e.to_string().contains(s.as_str()),
                "error leaked the {what}: {e}"
            );
            assert!(
                !format!("{e:?}").contains(s.as_str()),
                "error Debug leaked the {what}"
            );
        }
    }
    let debugs = [
        format!("{client:?}"),
        format!("{source:?}"),
        format!("{oauth:?}"),
        format!("{req:?}"),
        format!("{first:?}"),
        format!("{second:?}"),
        format!("{introspection:?}"),
        format!("{code:?}"),
        format!("{cfg:?}"),
        format!("{:?}", source.store().load().expect("store")),
    ];
    for d in &debugs {
        for (what, s) in &secrets {
            assert!(!d.contains(s.as_str()), "Debug leaked the {what}: {d}");
        }
    }
}

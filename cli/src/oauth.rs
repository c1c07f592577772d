//! `nzpir oauth ...`: authorise a myIR user across two processes, then keep
//! the tokens in the configured token store.
//!
//! `authorize-url` saves the `state` and PKCE verifier to a pending file (mode
//! 0600, replaced atomically); `exchange` reads it back, checks the redirect's
//! state with the core's `parse_redirect`, exchanges the code and stores the
//! tokens. Tokens are printed only with `--show-tokens`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ArgMatches;
use nzpir::oauth::{
    FileTokenStore, OAuthClient, OAuthClientConfig, OAuthTokenSource, Pkce, TokenKind, TokenSet,
    TokenStore, parse_redirect,
};
use nzpir::{AuthSettings, Config, OAuthSettings, Secret};
use serde::{Deserialize, Serialize};

use crate::args::{
    OauthAuthorizeArgs, OauthCommand, OauthExchangeArgs, OauthTokenArgs, OauthTokensArgs, TokenType,
};
use crate::conn::{self, Purpose};
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// What `authorize-url` leaves for `exchange`.
#[derive(Serialize, Deserialize)]
struct Pending {
    nzpir_pending_authorisation: u32,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_verifier: String,
    created_at: i64,
}

/// The OAuth client and where its tokens live.
struct Setup {
    oauth: OAuthClient,
    store_path: PathBuf,
    store: FileTokenStore,
}

fn settings(cfg: &Config) -> Result<&OAuthSettings, Failure> {
    match &cfg.auth {
        Some(AuthSettings::Oauth(o)) => Ok(o),
        _ => Err(Failure::usage("OAuth settings are missing")),
    }
}

fn setup(
    args: &crate::args::ConnArgs,
    m: &ArgMatches,
    needs_redirect: bool,
) -> Result<Setup, Failure> {
    conn::init_logging(args.verbose);
    let cfg = conn::resolve(args, m, Purpose::OAuth)?;
    let o = settings(&cfg)?;
    let base_url = match (
        &o.endpoint,
        cfg.environment.and_then(nzpir::Environment::oauth_base),
    ) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(base)) => base.to_owned(),
        (None, None) => {
            return Err(Failure::usage(
                "config `auth.endpoint`: required: the OAuth server's base URL (--oauth-endpoint), or an environment (--env)",
            ));
        }
    };
    let need = |v: Option<String>, setting: &str, flag: &str| {
        v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            Failure::usage(format!(
                "config `auth.{setting}`: required for OAuth ({flag})"
            ))
        })
    };
    let client_id = need(o.client_id.clone(), "client_id", "--oauth-client-id")?;
    let client_secret = need(
        o.client_secret.as_ref().map(|s| s.expose().to_owned()),
        "client_secret",
        "--oauth-client-secret or NZPIR_OAUTH_CLIENT_SECRET",
    )?;
    let redirect_uri = if needs_redirect {
        need(
            o.redirect_uri.clone(),
            "redirect_uri",
            "--oauth-redirect-uri",
        )?
    } else {
        o.redirect_uri.clone().unwrap_or_default()
    };
    let store_path = o.token_store.clone().ok_or_else(|| {
        Failure::usage("config `auth.token_store`: required for OAuth (--token-store)")
    })?;
    // The client's transport (its TLS policy, extra roots and proxy) carries the forms.
    let client = conn::client(&cfg)?;
    let oauth = OAuthClient::new(
        OAuthClientConfig {
            base_url,
            client_id,
            client_secret: Secret::new(client_secret),
            redirect_uri,
        },
        client.form_post(),
    );
    Ok(Setup {
        store: FileTokenStore::new(&store_path),
        store_path,
        oauth,
    })
}

fn pending_path(explicit: Option<&PathBuf>, store: &Path) -> PathBuf {
    explicit.cloned().unwrap_or_else(|| {
        let mut s = store.as_os_str().to_owned();
        s.push(".pending");
        PathBuf::from(s)
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Writes `bytes` to `path` readable by the owner only, replacing it atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    nzpir::oauth::replace_private_file(path, bytes)
}

fn expiry_text(t: &TokenSet) -> String {
    let left = t.expires_at - now();
    format!(
        "the access token expires in {} min{}",
        left.max(0) / 60,
        if t.refresh_token.is_some() {
            "; a refresh token is stored"
        } else {
            "; no refresh token (desktop client): consent is needed again after that"
        }
    )
}

/// The tokens as the JSON `--show-tokens` prints.
fn tokens_json(t: &TokenSet) -> serde_json::Value {
    serde_json::json!({
        "access_token": t.access_token.expose(),
        "refresh_token": t.refresh_token.as_ref().map(Secret::expose),
        "expires_at": t.expires_at,
        "scope": t.scope,
    })
}

fn show(t: &TokenSet) -> Result<(), Failure> {
    write_stdout(&format!("{}\n", tokens_json(t)))
}

fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "nzpir oauth: {text}");
}

fn authorize_url(a: &OauthAuthorizeArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let s = setup(&a.conn, m, true)?;
    let request = s.oauth.authorization_request().map_err(Failure::from)?;
    let pending = Pending {
        nzpir_pending_authorisation: 1,
        client_id: s.oauth.config().client_id.clone(),
        redirect_uri: s.oauth.config().redirect_uri.clone(),
        state: request.state().to_owned(),
        code_verifier: request.pkce().verifier().expose().to_owned(),
        created_at: now(),
    };
    let path = pending_path(a.state_file.as_ref(), &s.store_path);
    let json = serde_json::to_vec(&pending).unwrap_or_default();
    write_private(&path, &json)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    write_stdout(&format!("{}\n", request.url()))?;
    note(&format!(
        "open the URL above in a browser and sign in to myIR; then run\n  nzpir oauth exchange --redirect-url '<the URL you were sent back to>'\n(state and PKCE verifier saved in {}; IR's codes live about 10 minutes)",
        path.display()
    ));
    Ok(exit::OK)
}

fn exchange(a: &OauthExchangeArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let s = setup(&a.conn, m, true)?;
    let path = pending_path(a.state_file.as_ref(), &s.store_path);
    let text = std::fs::read(&path).map_err(|e| {
        Failure::usage(format!(
            "no pending authorisation in {} ({e}): run `nzpir oauth authorize-url` first",
            path.display()
        ))
    })?;
    let pending: Pending = serde_json::from_slice(&text).map_err(|_| {
        Failure::usage(format!("{} is not a pending authorisation", path.display()))
    })?;
    if pending.client_id != s.oauth.config().client_id
        || pending.redirect_uri != s.oauth.config().redirect_uri
    {
        return Err(Failure::usage(format!(
            "the pending authorisation in {} was started for another client id or redirect URI",
            path.display()
        )));
    }
    let code = parse_redirect(&a.redirect_url, &pending.state).map_err(Failure::from)?;
    let pkce = Pkce::from_verifier(pending.code_verifier);
    let tokens = s
        .oauth
        .exchange_code(&code, pkce.verifier())
        .map_err(Failure::from)?;
    {
        let _held = s.store.lock().map_err(Failure::from)?;
        s.store.save(&tokens).map_err(Failure::from)?;
    }
    let _ = std::fs::remove_file(&path);
    note(&format!(
        "tokens stored in {}; {}",
        s.store_path.display(),
        expiry_text(&tokens)
    ));
    if a.show_tokens {
        show(&tokens)?;
    }
    Ok(exit::OK)
}

fn stored(s: &Setup) -> Result<TokenSet, Failure> {
    s.store.load().map_err(Failure::from)?.ok_or_else(|| {
        Failure::new(
            exit::AUTH,
            format!(
                "no tokens in {}: a myIR user must authorise first (`nzpir oauth authorize-url`)",
                s.store_path.display()
            ),
        )
    })
}

fn refresh(a: &OauthTokensArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let s = setup(&a.conn, m, false)?;
    stored(&s)?;
    // The core's token source: the store's lock around load-refresh-save (so
    // processes sharing the file refresh in turn and never replay a spent
    // refresh token), and what to do when the save fails after IR rotated.
    let store = Arc::new(s.store);
    let source = OAuthTokenSource::new(s.oauth, store);
    let fresh = match source.refresh_now() {
        Ok(t) => t,
        Err(e) => {
            if let Some(unsaved) = source.unsaved_tokens()
                && a.show_tokens
            {
                // Asked for: the only copy of the live refresh token, on
                // stderr (stdout is for a successful run's tokens).
                let _ = writeln!(std::io::stderr().lock(), "{}", tokens_json(&unsaved));
            }
            return Err(Failure::from(e));
        }
    };
    note(&format!(
        "tokens refreshed and stored in {}; {}",
        s.store_path.display(),
        expiry_text(&fresh)
    ));
    if a.show_tokens {
        show(&fresh)?;
    }
    Ok(exit::OK)
}

fn pick(t: &TokenSet, kind: TokenType) -> Result<(Secret, TokenKind), Failure> {
    match kind {
        TokenType::Access => Ok((t.access_token.clone(), TokenKind::Access)),
        TokenType::Refresh => t
            .refresh_token
            .clone()
            .map(|r| (r, TokenKind::Refresh))
            .ok_or_else(|| Failure::usage("no refresh token is stored")),
    }
}

fn introspect(a: &OauthTokenArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let s = setup(&a.conn, m, false)?;
    let tokens = stored(&s)?;
    let (token, kind) = pick(&tokens, a.token_type.unwrap_or(TokenType::Access))?;
    let i = s.oauth.introspect(&token, kind).map_err(Failure::from)?;
    let v = serde_json::json!({
        "active": i.active,
        "client_id": i.client_id,
        "username": i.username,
        "sub": i.sub,
        "scope": i.scope,
        "exp": i.exp,
        "iat": i.iat,
    });
    write_stdout(&format!("{v}\n"))?;
    Ok(exit::OK)
}

fn revoke(a: &OauthTokenArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let s = setup(&a.conn, m, false)?;
    let tokens = stored(&s)?;
    let which = a.token_type.unwrap_or(TokenType::Refresh);
    let (token, kind) = pick(&tokens, which)?;
    s.oauth.revoke(&token, kind).map_err(Failure::from)?;
    if which == TokenType::Refresh {
        std::fs::remove_file(&s.store_path).map_err(|e| {
            Failure::usage(format!(
                "revoked, but {} could not be removed: {e}",
                s.store_path.display()
            ))
        })?;
        note(&format!(
            "refresh token revoked (and the access token issued with it); {} removed",
            s.store_path.display()
        ));
    } else {
        note("access token revoked; the refresh token is still stored");
    }
    Ok(exit::OK)
}

/// Runs `nzpir oauth ...`; `m` holds the `oauth` subcommand's matches.
pub fn run(cmd: &OauthCommand, m: &ArgMatches) -> Result<u8, Failure> {
    let sub = m.subcommand().map(|(_, sm)| sm).unwrap_or(m);
    match cmd {
        OauthCommand::AuthorizeUrl(a) => authorize_url(a, sub),
        OauthCommand::Exchange(a) => exchange(a, sub),
        OauthCommand::Refresh(a) => refresh(a, sub),
        OauthCommand::Introspect(a) => introspect(a, sub),
        OauthCommand::Revoke(a) => revoke(a, sub),
    }
}

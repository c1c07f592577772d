//! The configuration, as TOML and as JSON (`Config::from_toml_str`,
//! `Config::from_json_str`), then `ClientBuilder::from_config` and `build`:
//! none may panic. Every file path is moved under a folder that does not
//! exist, so files are never read (a missing file is an error, which is fine).
//!
//! Also: parse errors never quote the input's values; a TOML configuration
//! round-trips through `to_toml_string`; build errors and `Debug` never show a
//! secret (bearer token, client secret, inline private key).
#![no_main]

mod common;

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use nzpir::{AuthSettings, ClientBuilder, Config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json_str(text) {
        Ok(cfg) => check(cfg),
        Err(e) => {
            let msg = e.to_string();
            common::assert_no_quoted_value("config JSON error", &msg, &common::json_values(data));
        }
    }
    match Config::from_toml_str(text) {
        Ok(cfg) => {
            if !has_nan(&cfg) {
                let toml = cfg.to_toml_string().expect("a parsed configuration serialises");
                let again = Config::from_toml_str(&toml).expect("serialised TOML parses");
                assert_eq!(again, cfg, "TOML round trip");
            }
            check(cfg);
        }
        Err(e) => {
            let msg = e.to_string();
            common::assert_no_quoted_value("config TOML error", &msg, &toml_values(text));
        }
    }
});

fn has_nan(cfg: &Config) -> bool {
    [cfg.timeout_secs, cfg.connect_timeout_secs, cfg.retry_base_delay_secs]
        .into_iter()
        .flatten()
        .any(f64::is_nan)
}

/// The string values of a TOML document (for the "never quote a value" check).
fn toml_values(text: &str) -> Vec<String> {
    // TOML's grammar is close enough to find quoted strings: collect what is
    // between double quotes on `key = "value"` lines.
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some((_, v)) = line.split_once('=') {
            let v = v.trim();
            if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
                && !inner.contains(['"', '\\'])
            {
                out.push(inner.to_owned());
            }
        }
    }
    out
}

const NOWHERE: &str = "/nonexistent-nzpir-fuzz";

fn nowhere(p: &mut Option<PathBuf>) {
    if let Some(path) = p {
        let rel = path.strip_prefix("/").unwrap_or(path);
        *path = Path::new(NOWHERE).join(rel);
    }
}

fn check(mut cfg: Config) {
    nowhere(&mut cfg.tls.client_cert);
    nowhere(&mut cfg.tls.client_key);
    nowhere(&mut cfg.tls.ca_cert);
    let mut secrets: Vec<String> = cfg
        .tls
        .client_key_pem
        .iter()
        .map(|s| s.expose().to_owned())
        .collect();
    let mut shown: Vec<String> = [
        cfg.endpoint.clone(),
        cfg.proxy.clone(),
        cfg.tls.client_cert_pem.clone(),
        cfg.tls.ca_cert_pem.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    match &mut cfg.auth {
        Some(AuthSettings::Jwt(j)) => {
            nowhere(&mut j.cert);
            nowhere(&mut j.key);
            secrets.extend(j.key_pem.iter().map(|s| s.expose().to_owned()));
            shown.extend(
                [&j.cert_pem, &j.alg, &j.issuer, &j.start_logon]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        Some(AuthSettings::Oauth(o)) => {
            nowhere(&mut o.token_store);
            secrets.extend(o.client_secret.iter().map(|s| s.expose().to_owned()));
            shown.extend(
                [&o.client_id, &o.redirect_uri, &o.endpoint]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        Some(AuthSettings::Bearer { token }) => secrets.push(token.expose().to_owned()),
        Some(AuthSettings::None) | None => {}
    }
    // Secrets that are also the value of a setting that is shown are not
    // secrets there; short ones can occur in any message by chance.
    secrets.retain(|s| s.len() >= 16 && !shown.contains(s));

    let dbg = format!("{cfg:?}");
    for s in &secrets {
        assert!(!dbg.contains(&format!("{s:?}")), "Config Debug shows a secret: {dbg}");
    }

    let built = ClientBuilder::from_config(&cfg).and_then(ClientBuilder::build);
    match built {
        Ok(client) => {
            let dbg = format!("{client:?}");
            for s in &secrets {
                assert!(!dbg.contains(s.as_str()), "Client Debug shows a secret: {dbg}");
            }
        }
        Err(e) => {
            let msg = format!("{e} {e:?}");
            for s in &secrets {
                assert!(!msg.contains(s.as_str()), "the error shows a secret: {msg}");
            }
        }
    }
}

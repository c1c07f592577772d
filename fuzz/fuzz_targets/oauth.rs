//! OAuth: the redirect back from IR's authorize endpoint (`parse_redirect`)
//! and the token endpoint's answer (`parse_token_response`).
//!
//! The first two bytes are the token endpoint's HTTP status; the rest is its
//! body, and the whole input (as text) is also a redirect URL. Errors never
//! hold anything shaped like an IRD number nor a control character, never
//! show the tokens of the body, and `Debug` of a token set shows no token.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use nzpir::oauth::{parse_redirect, parse_token_response};

const STATE: &str = "xyzSTATE-._~0123";
const NOW: i64 = 1_700_000_000;

fn check_message(what: &str, e: &nzpir::Error) {
    let msg = e.to_string();
    common::assert_no_ird_like(what, &msg);
    common::assert_no_ird_like(what, &format!("{e:?}"));
    assert!(!msg.chars().any(char::is_control), "{what}: control characters in {msg:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_redirect(&text, STATE) {
        Ok(code) => {
            assert!(!code.expose().is_empty());
            assert!(!format!("{code:?}").contains(code.expose()) || code.expose() == "<redacted>");
            // The same code a plain reading of the query finds.
            let query = text.split_once('?').map_or(&*text, |(_, q)| q);
            let query = query.split('#').next().unwrap_or_default();
            let last_code = url_pairs(query)
                .filter(|(k, _)| k == "code")
                .map(|(_, v)| v)
                .last();
            assert_eq!(last_code.as_deref(), Some(code.expose()));
        }
        Err(e) => check_message("redirect error", &e),
    }

    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (200, data),
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let token_field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|t| t.as_str())
            .map(str::to_owned)
    };
    let tokens: Vec<String> = ["access_token", "refresh_token"]
        .into_iter()
        .filter_map(token_field)
        .collect();
    let mut others = Vec::new();
    if let Some(serde_json::Value::Object(o)) = &parsed {
        for (k, v) in o {
            if k != "access_token" && k != "refresh_token" {
                common::json_strings(v, &mut others);
            }
        }
    }
    let secret = |t: &String| t.len() >= 8 && !others.iter().any(|o| o.contains(t.as_str()));
    match parse_token_response(status, body, NOW) {
        Ok(set) => {
            assert!((200..300).contains(&status));
            assert!(!set.access_token.expose().is_empty());
            assert!(set.expires_at >= NOW, "a token does not expire before it was issued");
            let dbg = format!("{set:?}");
            for t in tokens.iter().filter(|t| secret(t)) {
                assert!(!dbg.contains(t.as_str()), "TokenSet Debug shows a token: {dbg}");
            }
        }
        Err(e) => {
            check_message("token response error", &e);
            let msg = format!("{e} {e:?}");
            if (200..300).contains(&status) {
                common::assert_no_quoted_value("token response error", &msg, &common::json_values(body));
                for t in tokens.iter().filter(|t| secret(t)) {
                    assert!(!msg.contains(t.as_str()), "the error shows a token: {msg}");
                }
            }
        }
    }
});

/// `application/x-www-form-urlencoded` pairs, decoded by hand.
fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap_or(0) * 16 + hex(b[i + 2]).unwrap_or(0));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

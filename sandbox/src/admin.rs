//! The admin API under `/__sandbox/`, on the same mutual-TLS listener, so
//! that tests in other processes can switch faults and read counters.
//!
//! | method | path | does |
//! |---|---|---|
//! | GET | `/__sandbox/manifest` | the manifest |
//! | GET | `/__sandbox/stats` | the counters |
//! | DELETE | `/__sandbox/stats` | zero the counters and per-IRD call counts |
//! | GET | `/__sandbox/calls?ird=N` | `{"ird": N, "calls": n}` |
//! | GET | `/__sandbox/faults` | the faults set |
//! | POST | `/__sandbox/faults` | add one fault (object) or several (array) |
//! | PUT | `/__sandbox/faults` | replace every fault |
//! | DELETE | `/__sandbox/faults` | clear faults |
//! | GET | `/__sandbox/clock` | `{"offset_secs": n, "now": unix}` |
//! | PUT, POST | `/__sandbox/clock` | set `{"offset_secs": n}` |
//! | DELETE | `/__sandbox/quotas` | forget every IR003 window |

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use nzpir::Clock;
use serde_json::{Value, json};

use crate::body::{self, Abort, Body, JSON, Resp};
use crate::faults::Fault;
use crate::server::{ReadBody, read_request, too_large};
use crate::state::Shared;

fn bad_request(message: &str) -> Resp {
    body::json(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

fn parse_fault(v: &Value) -> Result<Fault, String> {
    Fault::from_json(v.clone()).map_err(|e| format!("fault: {e}"))
}

fn parse_faults(bytes: &[u8]) -> Result<Vec<Fault>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("JSON: {e}"))?;
    match &v {
        Value::Array(items) => items.iter().map(parse_fault).collect(),
        _ => parse_fault(&v).map(|f| vec![f]),
    }
}

pub(crate) async fn handle(req: Request<Incoming>, shared: &Shared) -> Result<Resp, Abort> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let ok = |v: Value| body::json(StatusCode::OK, &v);
    let resp = match (path.as_str(), &method) {
        ("/__sandbox", &Method::GET) => ok(json!({
            "endpoints": [
                "GET /__sandbox/manifest",
                "GET|DELETE /__sandbox/stats",
                "GET /__sandbox/calls?ird=N",
                "GET|POST|PUT|DELETE /__sandbox/faults",
                "GET|PUT|POST /__sandbox/clock",
                "DELETE /__sandbox/quotas"
            ]
        })),
        ("/__sandbox/manifest", &Method::GET) => body::response(
            StatusCode::OK,
            Some(JSON),
            Body::full(shared.manifest_json.clone()),
        ),
        ("/__sandbox/stats", &Method::GET) => {
            body::json(StatusCode::OK, &shared.counters.snapshot())
        }
        ("/__sandbox/stats", &Method::DELETE) => {
            shared.counters.reset();
            body::json(StatusCode::OK, &shared.counters.snapshot())
        }
        ("/__sandbox/calls", &Method::GET) => {
            let ird = query.as_deref().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "ird")
                    .map(|(_, v)| v.into_owned())
            });
            match ird {
                Some(ird) => {
                    let calls = shared.counters.calls_for(&ird);
                    ok(json!({ "ird": ird, "calls": calls }))
                }
                None => ok(json!({ "total": shared.counters.snapshot().pir_requests })),
            }
        }
        ("/__sandbox/faults", &Method::GET) => body::json(StatusCode::OK, &shared.faults.list()),
        ("/__sandbox/faults", &Method::DELETE) => {
            shared.faults.clear();
            body::json(StatusCode::OK, &shared.faults.list())
        }
        ("/__sandbox/faults", m) if m == Method::POST || m == Method::PUT => {
            let replace = m == Method::PUT;
            let bytes = match read_request(req).await? {
                (_, ReadBody::Bytes(b)) => b,
                (_, ReadBody::TooLarge { drained }) => return Ok(too_large(shared, drained)),
            };
            match parse_faults(&bytes) {
                Ok(faults) => {
                    if replace {
                        shared.faults.replace(faults);
                    } else {
                        faults.into_iter().for_each(|f| shared.faults.add(f));
                    }
                    body::json(StatusCode::OK, &shared.faults.list())
                }
                Err(e) => bad_request(&e),
            }
        }
        ("/__sandbox/clock", &Method::GET) => ok(json!({
            "offset_secs": shared.clock.offset(),
            "now": shared.clock.now_unix(),
        })),
        ("/__sandbox/clock", m) if m == Method::PUT || m == Method::POST => {
            let offset = match read_request(req).await? {
                (_, ReadBody::Bytes(b)) => Some(b),
                _ => None,
            }
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("offset_secs").and_then(Value::as_i64));
            match offset {
                Some(secs) => {
                    shared.clock.set_offset(secs);
                    ok(json!({ "offset_secs": secs, "now": shared.clock.now_unix() }))
                }
                None => bad_request("expected {\"offset_secs\": integer}"),
            }
        }
        ("/__sandbox/quotas", &Method::DELETE) => {
            shared.counters.reset_quotas();
            ok(json!({ "quotas": "reset" }))
        }
        (
            "/__sandbox"
            | "/__sandbox/manifest"
            | "/__sandbox/stats"
            | "/__sandbox/calls"
            | "/__sandbox/faults"
            | "/__sandbox/clock"
            | "/__sandbox/quotas",
            _,
        ) => body::empty(StatusCode::METHOD_NOT_ALLOWED),
        _ => body::empty(StatusCode::NOT_FOUND),
    };
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bodies() {
        assert_eq!(
            parse_faults(br#"{"kind":"pir150","times":1}"#).map(|v| v.len()),
            Ok(1)
        );
        assert_eq!(
            parse_faults(br#"[{"kind":"drop_before_read"},{"kind":"status","status":503}]"#)
                .map(|v| v.len()),
            Ok(2)
        );
        assert!(parse_faults(br#"{"kind":"status","status":503,"count":2}"#).is_err());
        assert!(parse_faults(br#"{"kind":"teleport"}"#).is_err());
        assert!(parse_faults(br#"{"kind":"status","status":200}"#).is_err());
        assert!(parse_faults(b"nope").is_err());
    }
}

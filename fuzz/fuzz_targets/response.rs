//! IR's answers: the 200 body (`PirResponse::parse`, `into_outcome`) and the
//! error body (`IrErrorBody::parse`, `Error::from_ir`) with several statuses.
//!
//! The first two bytes are an HTTP status for one more `from_ir` call; the
//! rest is the body. Messages and `Debug` of errors never hold anything
//! shaped like an IRD number, and never quote the body's values.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use nzpir::{Error, IrErrorBody, PirResponse};

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (400, data),
    };
    let values = common::json_values(body);

    match PirResponse::parse(body) {
        Ok(resp) => {
            let dbg = format!("{resp:?}");
            if !resp.ird.is_empty() && resp.ird != "<redacted>" {
                assert!(!dbg.contains(&format!("{:?}", resp.ird)), "{dbg}");
            }
            // What IR sent comes back out unchanged through the outcome.
            match resp.clone().into_outcome() {
                Ok(outcome) => {
                    assert_eq!(outcome.ird(), resp.ird);
                    assert_eq!(outcome.pie_ird(), resp.pie_ird.as_deref());
                    assert_eq!(outcome.rate(), resp.suggested_pir_rate);
                    let back = outcome.to_response();
                    assert_eq!(back.ird, resp.ird);
                    assert_eq!(back.suggested_pir_rate, resp.suggested_pir_rate);
                    if let Some(rate) = outcome.rate() {
                        assert!(rate.hundredths() <= 10_000);
                        let text = rate.to_string();
                        assert_eq!(text.parse::<nzpir::PirRate>().ok(), Some(rate));
                    }
                    let dbg = format!("{outcome:?}");
                    if !resp.ird.is_empty() {
                        assert!(!dbg.contains(&format!("{:?}", resp.ird)), "{dbg}");
                    }
                }
                Err(e) => check_error(&e, &values),
            }
            // A parsed answer serialises back to JSON that parses the same.
            let json = serde_json::to_vec(&resp).expect("serialises");
            let again = PirResponse::parse(&json).expect("re-parses");
            assert_eq!(again, resp);
        }
        Err(e) => check_error(&e, &values),
    }

    if let Some(parsed) = IrErrorBody::parse(body) {
        assert!(!parsed.errors.is_empty());
        for s in [400, 401, 403, 404, 429, 500, 502, 503, status] {
            let e = Error::from_ir(s, parsed.clone());
            assert_eq!(e.http_status(), Some(s));
            assert_eq!(e.ir_code(), Some(&parsed.errors[0].code));
            assert_eq!(e.ir_errors(), &parsed.errors[..]);
            // IR's own words for an unknown code are shown (scrubbed), so
            // they may quote anything; only the digit rule applies.
            check_error(&e, &[]);
            let _ = e.is_retryable();
        }
    }
});

fn check_error(e: &Error, values: &[String]) {
    let msg = e.to_string();
    common::assert_no_ird_like("error message", &msg);
    common::assert_no_quoted_value("error message", &msg, values);
    common::assert_no_ird_like("error Debug", &format!("{e:?}"));
    assert!(!msg.chars().any(char::is_control), "control characters: {msg:?}");
}

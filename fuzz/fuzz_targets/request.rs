//! IR's request JSON: `PirRequest::from_json`, local validation on fixed
//! dates, and the round trip (a parsed request serialises to JSON that parses
//! back to the same request).
//!
//! Also: error messages and `Debug` never show the investor's data.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use nzpir::{FixedClock, PirRequest};
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    let req = match PirRequest::from_json(data) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.to_string();
            common::assert_no_ird_like("from_json error", &msg);
            common::assert_no_quoted_value("from_json error", &msg, &common::json_values(data));
            common::assert_no_ird_like("from_json error Debug", &format!("{e:?}"));
            return;
        }
    };

    // Two "todays": an ordinary one and the last day of a tax year.
    for today in [date!(2026 - 05 - 01), date!(2024 - 03 - 31)] {
        let violations = req.violations(today);
        match req.validate_with(&FixedClock::nz_noon(today)) {
            Ok(()) => assert!(violations.is_empty()),
            Err(e) => {
                assert_eq!(e.field_errors(), &violations[..]);
                common::assert_no_ird_like("validation error", &e.to_string());
                common::assert_no_ird_like("validation error Debug", &format!("{e:?}"));
            }
        }
    }

    let json = req.to_json();
    let again = PirRequest::from_json(&json).expect("a re-serialised request parses");
    assert_eq!(again, req, "round trip");
    assert_eq!(again.to_json(), json, "serialisation is stable");

    // Debug shows the filing period and the country; nothing else of the input.
    let mut dbg = format!("{req:?}");
    for shown in [req.filing_period(), req.address().and_then(|a| a.country())]
        .into_iter()
        .flatten()
    {
        dbg = dbg.replace(&format!("{shown:?}"), "");
    }
    let name = req.name();
    let addr = req.address();
    let personal = [
        Some(req.ird()),
        req.pie_ird(),
        req.formatted_name(),
        req.dob(),
        req.formatted_address(),
        name.and_then(|n| n.first_name()),
        name.and_then(|n| n.middle_name()),
        name.and_then(|n| n.last_name()),
        addr.and_then(|a| a.street()),
        addr.and_then(|a| a.city()),
        addr.and_then(|a| a.post_code()),
        addr.and_then(|a| a.state()),
    ];
    for value in personal.into_iter().flatten() {
        if value == "<redacted>" {
            continue;
        }
        let quoted = format!("{value:?}");
        assert!(!dbg.contains(&quoted), "Debug shows {quoted}: {dbg}");
    }
});

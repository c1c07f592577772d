//! Profile `ir-mock`: IR's published mock scenarios (`mock-scenarios.json`).
//! IR's mock checks no authentication and answers its own example IRD
//! numbers although some fail modulus 11; the field rules still apply.

use hyper::header::HeaderValue;
use nzpir::{IrCode, PirRate};

use crate::body::{self, Resp};
use crate::request::{self, IrdCheck, Parsed};

/// IR's published rates by IRD number.
const RATES: [(&str, PirRate); 4] = [
    ("139276507", PirRate::TOP),
    ("139276310", PirRate::LOW),
    ("139276272", PirRate::MIDDLE),
    ("139439976", PirRate::LOW),
];

/// Answered EV1041 (OAuth) or EV1043 (JWT or no token).
const NO_ACCESS: &str = "139276329";
/// Answered PIR101 when sent without PieIRD.
const NEEDS_PIE: [&str; 2] = ["139276272", "139332754"];

pub(crate) fn answer(parsed: Parsed, today: time::Date, auth: Option<&HeaderValue>) -> Resp {
    let req = match request::check(parsed, today, IrdCheck::FormatOnly) {
        Ok(r) => r,
        Err(items) => return body::ir_errors(items),
    };
    let ird = req.ird();
    if ird == NO_ACCESS {
        let bearer = auth
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("bearer"));
        return body::ir_error(if bearer {
            IrCode::EV1041
        } else {
            IrCode::EV1043
        });
    }
    if NEEDS_PIE.contains(&ird) && req.pie_ird().is_none() {
        return body::ir_error(IrCode::PIR101);
    }
    let found = RATES.iter().find(|(i, _)| *i == ird).map(|(_, r)| *r);
    body::pir_answer(&req, found)
}

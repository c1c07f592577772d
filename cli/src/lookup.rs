//! `nzpir lookup`: one investor.

use std::io::Write;

use clap::ArgMatches;
use nzpir::{PirOutcome, PirRequest};

use crate::args::LookupArgs;
use crate::conn::{self, Purpose};
use crate::exit::{self, Failure};
use crate::request::Fields;

/// Runs `nzpir lookup`.
pub fn run(args: &LookupArgs, m: &ArgMatches) -> Result<u8, Failure> {
    conn::init_logging(args.conn.verbose);
    let cfg = conn::resolve(&args.conn, m, Purpose::Lookup)?;
    let request = Fields::from(&args.request).to_request();
    let client = conn::client(&cfg)?;
    match client.lookup(&request) {
        Ok(outcome) => {
            print_outcome(&request, &outcome, args.json)?;
            Ok(exit::OK)
        }
        Err(e) => {
            if args.json && !e.ir_errors().is_empty() {
                let body = nzpir::IrErrorBody {
                    errors: e.ir_errors().to_vec(),
                };
                let text = serde_json::to_string(&body).unwrap_or_default();
                write_stdout(&format!("{text}\n"))?;
            }
            Err(Failure::from(e))
        }
    }
}

/// Writes the outcome: IR's JSON, or a sentence.
pub fn print_outcome(
    request: &PirRequest,
    outcome: &PirOutcome,
    json: bool,
) -> Result<(), Failure> {
    let text = if json {
        let body = serde_json::to_string(&outcome.to_response()).unwrap_or_default();
        format!("{body}\n")
    } else {
        describe(request, outcome)
    };
    write_stdout(&text)
}

/// One line saying what IR answered.
pub fn describe(request: &PirRequest, outcome: &PirOutcome) -> String {
    let who = match request.pie_ird() {
        Some(pie) => format!("IRD {} (PIE {pie})", request.ird()),
        None => format!("IRD {}", request.ird()),
    };
    match outcome.rate() {
        Some(rate) => format!("{who}: suggested PIR {rate}%\n"),
        None => format!("{who}: IR has no suggested PIR for this investor (PirRateNotFound)\n"),
    }
}

/// Writes to standard output; a closed pipe ends quietly.
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| exit::output_failure(&e))
}

//! `nzpir estimate`: the core's PIR estimator over facts from a JSON file and flags.

use std::io::Read;

use nzpir::ErrorKind;
use nzpir::estimate::{PirEstimate, PirFacts, estimate_pir};
use serde_json::{Map, Value};

use crate::args::EstimateArgs;
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// Reads the facts file (if any) and lays the flags over it, as one JSON object.
fn facts_json(args: &EstimateArgs) -> Result<Value, Failure> {
    let mut obj = match &args.facts {
        None => Map::new(),
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| {
                    Failure::usage(format!("--facts: cannot read standard input: {e}"))
                })?;
                s
            } else {
                std::fs::read_to_string(path).map_err(|e| {
                    Failure::usage(format!("--facts: cannot read {}: {e}", path.display()))
                })?
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(o)) => o,
                Ok(_) => return Err(Failure::usage("--facts: the file must hold a JSON object")),
                Err(e) => {
                    return Err(Failure::usage(format!(
                        "--facts: not JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    )));
                }
            }
        }
    };
    let text_or_number = |s: &str| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(s))
        } else {
            Value::from(s)
        }
    };
    if let Some(y) = &args.pir_year {
        obj.insert("pir_year".into(), text_or_number(y));
    }
    if let Some(p) = &args.filing_period {
        obj.insert("filing_period".into(), Value::from(p.as_str()));
    }
    if let Some(t) = &args.investor_type {
        obj.insert("investor_type".into(), Value::from(t.as_str()));
    }
    if let Some(r) = &args.residency {
        obj.insert("residency".into(), Value::from(r.as_str()));
    }
    if let Some(r) = &args.trustee_election {
        obj.insert("trustee_election".into(), Value::from(r.as_str()));
    }
    if args.zero_rate_pie {
        obj.insert("zero_rate_pie".into(), Value::Bool(true));
    }
    if args.notified_foreign_investor {
        obj.insert("notified_foreign_investor".into(), Value::Bool(true));
    }
    if !args.income.is_empty() {
        let mut entries: Vec<Value> = match obj.remove("income") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        for item in &args.income {
            let mut parts = item.splitn(3, ':');
            let year = parts.next().unwrap_or_default();
            let mut entry = Map::new();
            entry.insert("year".into(), text_or_number(year));
            if let Some(t) = parts.next() {
                entry.insert("taxable_income".into(), Value::from(t));
            }
            if let Some(p) = parts.next() {
                entry.insert("pie_income".into(), Value::from(p));
            }
            // A flag's year replaces the file's entry for the same year.
            entries.retain(|e| e.get("year") != entry.get("year"));
            entries.push(Value::Object(entry));
        }
        obj.insert("income".into(), Value::Array(entries));
    }
    Ok(Value::Object(obj))
}

/// Runs `nzpir estimate`.
pub fn run(args: &EstimateArgs) -> Result<u8, Failure> {
    let facts = PirFacts::from_json_value(&facts_json(args)?).map_err(|e| {
        if e.kind() == ErrorKind::InvalidInput && !e.field_errors().is_empty() {
            let n = e.field_errors().len();
            Failure {
                code: exit::USAGE,
                message: format!(
                    "invalid facts ({n} problem{}; nothing was estimated):",
                    if n == 1 { "" } else { "s" }
                ),
                details: e.field_errors().iter().map(|f| f.to_string()).collect(),
            }
        } else {
            Failure::from(e)
        }
    })?;
    let estimate = estimate_pir(&facts);
    write_stdout(&render(&estimate, args.json))?;
    Ok(exit::OK)
}

fn render(e: &PirEstimate, json: bool) -> String {
    if json {
        let mut s = e.to_json_value().to_string();
        s.push('\n');
        return s;
    }
    match e.rate {
        Some(rate) => format!(
            "PIR estimate: {rate} % (rule {})\n{}\n",
            e.rule.id(),
            e.explanation
        ),
        None => format!(
            "Cannot estimate (missing: {})\n{}\n",
            e.missing.join(", "),
            e.explanation
        ),
    }
}

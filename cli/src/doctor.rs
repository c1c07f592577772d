//! `nzpir doctor`: the core's checks (`nzpir::doctor`), one line each.

use clap::ArgMatches;
use nzpir::Config;
use nzpir::doctor::{self, Check, CheckStatus, Options, Report};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};

use crate::args::DoctorArgs;
use crate::conn::{self, Purpose};
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// Runs `nzpir doctor`.
pub fn run(args: &DoctorArgs, m: &ArgMatches) -> Result<u8, Failure> {
    conn::init_logging(args.conn.verbose);
    // With --sandbox, a strict sandbox in this process; its configuration
    // file is the base the connection flags adjust.
    let sandbox = if args.sandbox {
        Some(
            Sandbox::start(SandboxOptions::default().profile(Profile::Strict)).map_err(|e| {
                Failure::new(exit::INTERNAL, format!("the sandbox did not start: {e}"))
            })?,
        )
    } else {
        None
    };
    let mut conn_args = args.conn.clone();
    if let Some(sb) = &sandbox {
        conn_args.config = Some(sb.config_path().to_owned());
    }
    let cfg = conn::resolve(&conn_args, m, Purpose::Lookup)?;
    let other = match &args.compare_config {
        Some(path) => Some(Config::from_file(path).map_err(Failure::from)?),
        None => None,
    };
    let options = Options {
        ird: args.ird.clone(),
        pie_ird: args.pie_ird.clone(),
        other,
        clock: None,
    };
    let report = doctor::run(&cfg, &options);
    let code = exit_code(&report);
    let text = if args.json {
        json(&report, code)
    } else {
        lines(&report, code)
    };
    write_stdout(&text)?;
    Ok(code)
}

/// 0 when nothing failed; otherwise the highest exit code among the failures.
pub fn exit_code(report: &Report) -> u8 {
    report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.kind.map_or(exit::INTERNAL, exit::for_kind))
        .max()
        .unwrap_or(exit::OK)
}

fn line(c: &Check) -> String {
    let mut s = format!("{:<4}  {:<22} {}", c.status.as_str(), c.id, c.detail);
    if let Some(a) = &c.action {
        s.push_str(" -> ");
        s.push_str(a);
    }
    s.push('\n');
    s
}

fn lines(report: &Report, code: u8) -> String {
    let mut out: String = report.checks.iter().map(line).collect();
    let count = |s: CheckStatus| report.checks.iter().filter(|c| c.status == s).count();
    out.push_str(&format!(
        "{}: {} ok, {} warnings, {} failed, {} skipped (exit {code})\n",
        if report.passed() { "passed" } else { "failed" },
        count(CheckStatus::Ok),
        count(CheckStatus::Warn),
        count(CheckStatus::Fail),
        count(CheckStatus::Skipped),
    ));
    out
}

fn json(report: &Report, code: u8) -> String {
    let mut body = report.to_json();
    body["exit_code"] = serde_json::json!(code);
    format!(
        "{}\n",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    )
}

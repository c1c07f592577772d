//! `nzpir`: the command line of nzpir, a client for Inland Revenue's PIR
//! gateway. Every subcommand is a thin layer over the `nzpir` core (and the
//! `nzpir-sandbox` crate for `demo` and `sandbox`).
//!
//! Output goes through locked standard output handles (never `println!`, which
//! panics when a reader closes the pipe); messages go to standard error.

mod args;
mod batch;
mod conn;
mod creds;
mod demo;
mod exit;
mod lookup;
mod oauth;
mod request;
mod validate;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::exit::Failure;

fn main() -> ExitCode {
    // Usage errors (unknown flags, missing values) exit 2, --help and --version 0.
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let sub = matches.subcommand().map(|(_, m)| m).unwrap_or(&matches);
    let result: Result<u8, Failure> = match &cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Validate(a) => validate::run(&a.irds),
        Command::Lookup(a) => lookup::run(a, sub),
        Command::Batch(a) => batch::run(a, sub),
        Command::Sandbox(a) => return nzpir_sandbox::run(a.clone()),
        Command::Jwt(a) => creds::jwt(a),
        Command::Thumbprint(a) => creds::thumbprint(a),
        Command::Oauth(c) => oauth::run(c, sub),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            f.report();
            ExitCode::from(f.code)
        }
    }
}

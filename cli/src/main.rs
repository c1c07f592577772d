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
mod doctor;
mod estimate;
mod exit;
mod lookup;
mod oauth;
mod onboarding;
mod request;
mod validate;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::exit::Failure;

fn main() -> ExitCode {
    // Usage errors (unknown flags, missing values) exit 2, --help and --version 0.
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => usage_error(&e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => usage_error(&e),
    };
    let sub = matches.subcommand().map(|(_, m)| m).unwrap_or(&matches);
    let result: Result<u8, Failure> = match &cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Validate(a) => validate::run(&a.irds),
        Command::Lookup(a) => lookup::run(a, sub),
        Command::Doctor(a) => doctor::run(a, sub),
        Command::Batch(a) => batch::run(a, sub),
        Command::Sandbox(a) => return nzpir_sandbox::run(a.clone()),
        Command::Jwt(a) => creds::jwt(a),
        Command::Thumbprint(a) => creds::thumbprint(a),
        Command::Oauth(c) => oauth::run(c, sub),
        Command::Estimate(a) => estimate::run(a),
        Command::Onboarding(a) => onboarding::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            f.report();
            ExitCode::from(f.code)
        }
    }
}

/// Reports a usage error and exits, without repeating the value it is about:
/// a stray argument or a bad value may be an IRD number, a name or a token
/// (`nzpir lookup 139276507` for `--ird 139276507`). Flags are still named.
fn usage_error(e: &clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue};
    if !e.use_stderr() {
        e.exit(); // --help, --version
    }
    let mut text = e.render().to_string();
    for kind in [ContextKind::InvalidArg, ContextKind::InvalidValue] {
        if let Some(ContextValue::String(v)) = e.get(kind)
            && !v.is_empty()
            && !v.starts_with('-')
        {
            text = text.replace(&format!("'{v}'"), "(a value, not repeated here)");
            // A value parser's own words may quote it too ("... is not in 1..=64").
            if v.len() >= 3 {
                text = replace_word(&text, v, "it");
            }
        }
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
    std::process::exit(e.exit_code());
}

/// `text` with every occurrence of `word` that stands alone (not inside a
/// longer word or flag: `ird` in `--ird`) replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let part_of_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let (before, after) = (&rest[..i], &rest[i + word.len()..]);
        let alone = !before.chars().next_back().is_some_and(part_of_word)
            && !after.chars().next().is_some_and(part_of_word);
        out.push_str(before);
        out.push_str(if alone { with } else { word });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::replace_word;

    #[test]
    fn replace_word_leaves_flags_and_longer_words_alone() {
        assert_eq!(
            replace_word("nzpir lookup --ird <IRD>: ird is not ird-like", "ird", "it"),
            "nzpir lookup --ird <IRD>: it is not ird-like"
        );
        assert_eq!(
            replace_word("700 is not in 1..=64", "700", "it"),
            "it is not in 1..=64"
        );
    }
}

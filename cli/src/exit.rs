//! Exit codes (a contract: see the README's CLI section) and the CLI's error.

use std::fmt;
use std::io::Write;

use nzpir::ErrorKind;

/// A rate or not-found (every row, for `batch`); every input valid (`validate`).
pub const OK: u8 = 0;
/// Something failed that fits no class below (a bug, an unexpected I/O failure).
pub const INTERNAL: u8 = 1;
/// Usage error, invalid input, configuration error, a local file problem.
pub const USAGE: u8 = 2;
/// IR rejected the request (HTTP 400: EV1000, EV1100, PER100, PIR101).
pub const REJECTED: u8 = 3;
/// Authentication or authorisation failed (HTTP 401: EV10xx), or OAuth consent is needed.
pub const AUTH: u8 = 4;
/// IR003: the IRD number was queried too often in 24 hours.
pub const RATE_LIMITED: u8 = 5;
/// IR's server failed (PIR150, 5xx) or answered outside its protocol.
pub const SERVER: u8 = 6;
/// TLS, connection or timeout.
pub const TRANSPORT: u8 = 7;

/// The exit code for a kind of failure. The core's table of every
/// surface's names ([`ErrorKind::contract`]) holds the same codes; a test
/// keeps the two together.
pub fn for_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::Config | ErrorKind::TokenStore => USAGE,
        ErrorKind::Rejected => REJECTED,
        ErrorKind::Authentication | ErrorKind::Authorisation | ErrorKind::ConsentRequired => AUTH,
        ErrorKind::RateLimited => RATE_LIMITED,
        ErrorKind::Server => SERVER,
        ErrorKind::Tls | ErrorKind::Transport | ErrorKind::Timeout => TRANSPORT,
        _ => INTERNAL,
    }
}

/// A failure of a command: the exit code and what to tell the user on stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The first line (after `nzpir: `).
    pub message: String,
    /// Further lines, indented.
    pub details: Vec<String>,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A failure with a given code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Writes the failure to stderr.
    pub fn report(&self) {
        if self.message.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "nzpir: {}", self.message);
        for d in &self.details {
            let _ = writeln!(err, "  {d}");
        }
    }
}

impl From<nzpir::Error> for Failure {
    fn from(e: nzpir::Error) -> Self {
        let mut details: Vec<String> = e.field_errors().iter().map(|f| f.to_string()).collect();
        if e.ir_errors().len() > 1 {
            details.extend(
                e.ir_errors()
                    .iter()
                    .map(|i| format!("{} ({}): {}", i.code, i.error_type, i.message)),
            );
        }
        let message = if e.kind() == ErrorKind::InvalidInput && !e.field_errors().is_empty() {
            format!(
                "invalid request ({} problem{}; nothing was sent):",
                e.field_errors().len(),
                if e.field_errors().len() == 1 { "" } else { "s" }
            )
        } else {
            // Settings are named as the flags (`--key`).
            e.message_for(nzpir::Surface::Cli).into_owned()
        };
        Failure {
            code: for_kind(e.kind()),
            message,
            details,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failed write to stdout. A closed pipe (`nzpir validate - | head`) ends
/// the command quietly, as the reader asked; anything else is reported.
pub fn output_failure(e: &std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::new(OK, "")
    } else {
        Failure::new(INTERNAL, format!("cannot write to standard output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_documented_code() {
        for k in ErrorKind::ALL {
            let code = for_kind(k);
            assert!((2..=7).contains(&code), "{k}: {code}");
            assert_eq!(
                code,
                k.contract().exit_code,
                "{k}: the core's table differs"
            );
        }
        assert_eq!(for_kind(ErrorKind::RateLimited), 5);
        assert_eq!(for_kind(ErrorKind::ConsentRequired), 4);
        assert_eq!(for_kind(ErrorKind::Timeout), 7);
    }
}

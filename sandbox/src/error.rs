//! The error of starting or driving a sandbox.

use std::fmt;

/// What went wrong when starting or driving a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file or socket operation failed (bind, read, write).
    Io,
    /// The PKI could not be made or read.
    Pki,
    /// The fixture is not valid JSON or breaks a rule (unknown reference, bad IRD...).
    Fixture,
    /// The TLS configuration could not be built.
    Tls,
    /// An option or argument is not acceptable.
    Options,
}

/// An error of the sandbox. Messages name files, settings and fixture paths,
/// never keys, tokens or IRD numbers.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(context: impl fmt::Display, source: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: format!("{context}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn pki(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Pki, message)
    }

    pub(crate) fn fixture(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Fixture, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

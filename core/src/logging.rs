//! Keeping raw HTTP traffic out of logs.
//!
//! nzpir's own records never carry a secret or personal data (see the crate
//! docs). The HTTP library under it is another matter: at `debug` and `trace`
//! level, `ureq_proto` (under `ureq`) writes every byte of each request head
//! and response body to the log as hex dumps, 16 bytes a record. That is the
//! `Authorization` header (an M2M JWT, an OAuth bearer token, the OAuth client's
//! Basic credentials), token endpoint answers (access and refresh tokens) and
//! IR's answers (IRD numbers).
//!
//! A host that turns on `trace` for every target should therefore install its
//! logger through [`WithoutWireDumps`], or filter out the targets in
//! [`WIRE_DUMP_TARGETS`] itself:
//!
//! ```
//! use log::{Log, Metadata, Record};
//!
//! struct Stderr;
//! impl Log for Stderr {
//!     fn enabled(&self, _: &Metadata<'_>) -> bool { true }
//!     fn log(&self, r: &Record<'_>) { eprintln!("{} {}: {}", r.level(), r.target(), r.args()) }
//!     fn flush(&self) {}
//! }
//!
//! static LOGGER: nzpir::logging::WithoutWireDumps<Stderr> =
//!     nzpir::logging::WithoutWireDumps::new(Stderr);
//! log::set_logger(&LOGGER).expect("no logger yet");
//! log::set_max_level(log::LevelFilter::Trace);
//! ```

use log::{Level, Log, Metadata, Record};

/// Log targets (and their sub-targets) whose `debug` and `trace` records
/// dump raw HTTP traffic.
pub const WIRE_DUMP_TARGETS: &[&str] = &["ureq_proto"];

/// Whether records with this metadata may carry raw HTTP bytes: `debug` or
/// `trace` from a target in [`WIRE_DUMP_TARGETS`].
pub fn is_wire_dump(metadata: &Metadata<'_>) -> bool {
    metadata.level() >= Level::Debug
        && WIRE_DUMP_TARGETS.iter().any(|t| {
            metadata
                .target()
                .strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// A logger that passes every record to the one it wraps, except the raw
/// HTTP dumps ([`is_wire_dump`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct WithoutWireDumps<L>(L);

impl<L> WithoutWireDumps<L> {
    /// Wraps `inner`.
    pub const fn new(inner: L) -> Self {
        WithoutWireDumps(inner)
    }

    /// The wrapped logger.
    pub fn inner(&self) -> &L {
        &self.0
    }
}

impl<L: Log> Log for WithoutWireDumps<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !is_wire_dump(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !is_wire_dump(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Keep(Mutex<Vec<String>>);
    impl Log for Keep {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &Record<'_>) {
            self.0.lock().expect("lock").push(r.target().to_owned());
        }
        fn flush(&self) {}
    }

    #[test]
    fn drops_only_wire_dumps() {
        let filter = WithoutWireDumps::new(Keep::default());
        for (target, level, passes) in [
            ("ureq_proto::util", Level::Trace, false),
            ("ureq_proto::client", Level::Debug, false),
            ("ureq_proto", Level::Trace, false),
            ("ureq_proto::client", Level::Info, true),
            ("ureq_protocols", Level::Trace, true),
            ("ureq::run", Level::Debug, true),
            ("nzpir", Level::Trace, true),
            ("rustls::client", Level::Trace, true),
        ] {
            let meta = Metadata::builder().target(target).level(level).build();
            assert_eq!(filter.enabled(&meta), passes, "{target} {level}");
            filter.log(
                &Record::builder()
                    .metadata(meta)
                    .args(format_args!("x"))
                    .build(),
            );
        }
        let kept = filter.inner().0.lock().expect("lock").clone();
        assert_eq!(
            kept,
            [
                "ureq_proto::client",
                "ureq_protocols",
                "ureq::run",
                "nzpir",
                "rustls::client"
            ]
        );
    }
}

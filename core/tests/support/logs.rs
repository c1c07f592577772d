//! Capturing log records for assertions: everything that was logged, and what
//! a host's logger installed through `nzpir::logging::WithoutWireDumps` gets.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use log::{Level, Log, Metadata, Record};
use nzpir::logging::WithoutWireDumps;

/// One record: level, target, message.
pub type Entry = (Level, String, String);

/// Keeps every record while switched on.
pub struct Capture {
    on: AtomicBool,
    records: Mutex<Vec<Entry>>,
}

impl Capture {
    pub const fn new() -> Capture {
        Capture {
            on: AtomicBool::new(true),
            records: Mutex::new(Vec::new()),
        }
    }

    pub fn records(&self) -> Vec<Entry> {
        self.records.lock().expect("lock").clone()
    }
}

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &Record<'_>) {
        if self.on.load(Ordering::SeqCst) {
            self.records.lock().expect("lock").push((
                r.level(),
                r.target().to_owned(),
                r.args().to_string(),
            ));
        }
    }
    fn flush(&self) {}
}

/// The process's logger in these tests: `raw` sees every record, `host` only
/// what passes `WithoutWireDumps` (what nzpir tells hosts to install).
pub struct Tee {
    pub raw: Capture,
    pub host: WithoutWireDumps<Capture>,
}

impl Tee {
    pub const fn new() -> Tee {
        Tee {
            raw: Capture::new(),
            host: WithoutWireDumps::new(Capture::new()),
        }
    }

    /// Installs `tee` as the process's logger, at trace level.
    pub fn install(tee: &'static Tee) {
        log::set_logger(tee).expect("logger");
        log::set_max_level(log::LevelFilter::Trace);
    }

    /// Stops or resumes recording (e.g. around a test's own HTTP calls).
    pub fn record(&self, on: bool) {
        self.raw.on.store(on, Ordering::SeqCst);
        self.host.inner().on.store(on, Ordering::SeqCst);
    }

    pub fn host_records(&self) -> Vec<Entry> {
        self.host.inner().records()
    }
}

impl Log for Tee {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &Record<'_>) {
        self.raw.log(r);
        self.host.log(r);
    }
    fn flush(&self) {}
}

/// The bytes `ureq_proto` dumped at trace level (16 per record, as hex and
/// ASCII), decoded from the hex column and joined in order.
pub fn wire_dump_text(records: &[Entry]) -> String {
    let mut bytes = Vec::new();
    for (level, target, msg) in records {
        if *level != Level::Trace || !target.starts_with("ureq_proto") {
            continue;
        }
        // "7665 4331 ... 6d56  ASCII": 8 groups of two bytes, `--` for none.
        for group in msg.split(' ').take(8) {
            for pair in [group.get(0..2), group.get(2..4)].into_iter().flatten() {
                if let Ok(b) = u8::from_str_radix(pair, 16) {
                    bytes.push(b);
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

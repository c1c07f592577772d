//! Lookups for many investors, streamed: any iterator of requests in, one
//! answer per request out, in input order, with bounded concurrency, an
//! optional start-rate cap, identical requests looked up once, a resumable
//! journal, progress reports and prompt cancellation. Every surface (the CLI's
//! `batch`, Python's `lookup_many`, Node's `lookupMany`, the C bulk call) runs
//! on [`run`] or [`stream`].
//!
//! ## Memory
//! The runner reads its input only as far as a window of
//! [`BatchOptions::window`] items ahead of the oldest item not yet handed out,
//! so memory depends on the window, never on the register's size:
//! a ten-million-row register needs what a thousand-row one does.
//!
//! ## Identical requests
//! Two items whose requests are byte-for-byte the same JSON are looked up once
//! when the second arrives while the first is still in the window (in flight
//! or waiting to be handed out), or while the first's answer is among the
//! [`BatchOptions::recent_answers`] most recent distinct answers (kept in two
//! generations of at most that many entries each, so the memory is bounded
//! too). Duplicates further apart than that are looked up again: de-duplicating
//! a whole register would mean remembering every request in it.
//!
//! ## Answers that are not final
//! A rate, not-found and IR's own refusals (EV1000, EV1043, IR003...) are final.
//! Connection failures, timeouts and server faults are not: they are handed
//! out, never journaled, and a resumed run tries them again. A gateway's HTTP
//! 429 and IR's EV1026 (a token's time claims refused, which a clock step or a
//! fresh token cures) are tried again later in the same run, up to
//! [`BatchOptions::retry_later`] times (a 429 pauses every worker for its
//! `Retry-After`, capped at [`BatchOptions::retry_after_cap`]); if they still
//! fail they are handed out as not final, like a connection failure.
//!
//! ## The journal
//! An append-only file of JSON lines, created with mode 0600 (never through a
//! symbolic link), each new final answer flushed to disk before it is handed
//! out. A line holds a keyed hash of the request's JSON (HMAC-SHA-256), the
//! answer (a rate, not-found, or IR's error code and message) and a MAC over
//! the line. The key is not in the journal: it is derived from the journal's
//! random salt and a 256-bit secret in a separate key file readable only by
//! its owner (see [`default_key_path`]).
//!
//! What that protects, honestly: someone who has the journal alone (a copy in
//! a backup, a shared folder, a support ticket) learns how many lookups were
//! made and which rates and error codes came back, but cannot tell whose they
//! were, cannot confirm a guess of an IRD number (there are only about 12.7
//! million valid ones, so without the key a guess could be checked in
//! seconds), and cannot forge or alter a line without it being dropped. Someone
//! who can read the key file too, i.e. the same user account, can do all of
//! that; the journal is not encryption at rest.
//!
//! A line cut short by a crash is cut off before appending; a damaged line
//! anywhere else costs that line only (its request is looked up again).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, IrCode, scrub};
use crate::model::{PirOutcome, PirRate, PirRequest};

/// The highest `max_rps` accepted.
pub const MAX_RPS: f64 = 10_000.0;
/// The lowest `max_rps` accepted (one lookup every 1,000 s).
pub const MIN_RPS: f64 = 0.001;
/// The highest `concurrency` accepted.
pub const MAX_CONCURRENCY: usize = 256;
/// The largest window accepted.
pub const MAX_WINDOW: usize = 1 << 20;

/// The answer for one request, in a form that can be journaled and shared
/// between identical requests.
#[derive(Clone, PartialEq, Eq)]
pub enum BatchAnswer {
    /// A suggested rate.
    Rate(PirRate),
    /// IR could not determine a rate.
    NotFound,
    /// The lookup failed.
    Failed(BatchFailure),
}

impl fmt::Debug for BatchAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchAnswer::Rate(r) => write!(f, "Rate({r})"),
            BatchAnswer::NotFound => f.write_str("NotFound"),
            BatchAnswer::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

/// A failed lookup, reduced to what a report needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BatchFailure {
    /// The kind (journaled as [`ErrorKind::as_str`] spells it).
    pub kind: ErrorKind,
    /// IR's code, or a local code (`INVALID` for local validation).
    pub code: Option<String>,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// A message safe to write into a report.
    pub message: String,
}

impl BatchFailure {
    /// From an error. Local validation lists every broken rule (field and
    /// rule, never the value), so a report row says all that is wrong at once.
    pub fn from_error(e: &Error) -> Self {
        let message = match e.field_errors() {
            [_, _, ..] => format!(
                "invalid input: {}",
                e.field_errors()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => e.to_string(),
        };
        BatchFailure {
            kind: e.kind(),
            code: e
                .ir_code()
                .map(|c| c.as_str().to_owned())
                .or_else(|| (e.kind() == ErrorKind::InvalidInput).then(|| "INVALID".to_owned())),
            http_status: e.http_status(),
            message,
        }
    }

    /// Whether this is IR's IR003 (too many queries of one IRD in 24 hours).
    pub fn is_rate_limited(&self) -> bool {
        self.code.as_deref() == Some(IrCode::IR003.as_str())
    }

    /// Whether this is worth trying again later in the same run: a gateway's
    /// HTTP 429 (not IR003, which is IR's final word for 24 hours) or EV1026.
    pub fn is_retry_later(&self) -> bool {
        (self.http_status == Some(429) && !self.is_rate_limited())
            || self.code.as_deref() == Some(IrCode::EV1026.as_str())
    }

    /// The kind.
    #[deprecated(note = "read the `kind` field, an ErrorKind")]
    pub fn error_kind(&self) -> Option<ErrorKind> {
        Some(self.kind)
    }

    /// An [`Error`] with this failure's kind, message, code and status (for
    /// answers read back from a journal, which keep no more than that).
    pub fn to_error(&self) -> Error {
        let mut e = Error::new(self.kind, self.message.clone());
        if let Some(code) = self.code.as_deref().filter(|c| *c != "INVALID") {
            e = e.with_ir_code(IrCode::parse(code));
        }
        if let Some(s) = self.http_status {
            e = e.with_http_status(s);
        }
        e
    }
}

impl BatchAnswer {
    /// From a lookup's result.
    pub fn from_result(r: &Result<PirOutcome, Error>) -> Self {
        match r {
            Ok(PirOutcome::Suggested { rate, .. }) => BatchAnswer::Rate(*rate),
            Ok(PirOutcome::NotFound { .. }) => BatchAnswer::NotFound,
            Err(e) => BatchAnswer::Failed(BatchFailure::from_error(e)),
        }
    }

    /// Whether this answer is final (journaled, not tried again on resume):
    /// a rate, not-found, or an error IR itself gave, other than a 429 or
    /// EV1026.
    pub fn is_final(&self) -> bool {
        match self {
            BatchAnswer::Rate(_) | BatchAnswer::NotFound => true,
            BatchAnswer::Failed(f) => {
                !f.is_retry_later()
                    && matches!(
                        f.kind,
                        ErrorKind::Rejected
                            | ErrorKind::Authentication
                            | ErrorKind::Authorisation
                            | ErrorKind::RateLimited
                            | ErrorKind::InvalidInput
                    )
            }
        }
    }

    /// The outcome this answer stands for, for a request about `ird`.
    pub fn to_outcome(&self, ird: &str, pie_ird: Option<&str>) -> Option<PirOutcome> {
        match self {
            BatchAnswer::Rate(rate) => Some(PirOutcome::Suggested {
                ird: ird.to_owned(),
                pie_ird: pie_ird.map(str::to_owned),
                rate: *rate,
            }),
            BatchAnswer::NotFound => Some(PirOutcome::NotFound {
                ird: ird.to_owned(),
                pie_ird: pie_ird.map(str::to_owned),
            }),
            BatchAnswer::Failed(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Options, cancellation, progress
// ---------------------------------------------------------------------------

/// Checks a start-rate cap: a number of lookups per second from [`MIN_RPS`]
/// to [`MAX_RPS`] (not NaN, not infinite, not 0 or below).
pub fn check_max_rps(rps: f64) -> Result<f64, Error> {
    if rps.is_finite() && (MIN_RPS..=MAX_RPS).contains(&rps) {
        Ok(rps)
    } else {
        Err(Error::config(
            "max_rps",
            format!("must be a finite number of lookups per second above 0 and at most {MAX_RPS}"),
        ))
    }
}

/// Settings for a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Lookups in flight at once, 1 to [`MAX_CONCURRENCY`] (default 4: IR may
    /// throttle heavy users).
    pub concurrency: usize,
    /// At most this many lookups started per second (see [`check_max_rps`]).
    pub max_rps: Option<f64>,
    /// Validate requests locally first (items that fail make no call).
    pub validate_locally: bool,
    /// Items read ahead of the oldest one not yet handed out; 0 picks
    /// `max(256, 64 x concurrency)`. Bounds the memory of a run.
    pub window: usize,
    /// Distinct answers remembered, beyond the window, to answer an identical
    /// request without a lookup (two generations of this many; 0 for none).
    pub recent_answers: usize,
    /// How many times a 429 or EV1026 is tried again later in the run.
    pub retry_later: u32,
    /// The longest a 429's `Retry-After` (or the backoff) is waited.
    pub retry_after_cap: Duration,
    /// How often progress is reported (and, with no answer coming, at least
    /// this often too, so that a caller can check for interrupts).
    pub progress_interval: Duration,
    /// The number of items, when the caller knows it (for progress only).
    pub total_hint: Option<usize>,
    /// On cancellation, wait for the lookups already on the wire before
    /// returning (no thread of the run outlives it), rather than return at
    /// once and let them finish on their own.
    pub wait_on_cancel: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: 4,
            max_rps: None,
            validate_locally: true,
            window: 0,
            recent_answers: 16_384,
            retry_later: 3,
            retry_after_cap: Duration::from_secs(60),
            progress_interval: Duration::from_millis(100),
            total_hint: None,
            wait_on_cancel: false,
        }
    }
}

impl BatchOptions {
    /// Checks every setting, naming the one that is wrong.
    pub fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::config(
                "concurrency",
                format!("must be 1 to {MAX_CONCURRENCY}"),
            ));
        }
        if let Some(r) = self.max_rps {
            check_max_rps(r)?;
        }
        if self.window > MAX_WINDOW {
            return Err(Error::config(
                "window",
                format!("must be at most {MAX_WINDOW}"),
            ));
        }
        Ok(())
    }

    fn window_size(&self) -> usize {
        if self.window == 0 {
            (self.concurrency * 64).max(256)
        } else {
            self.window.max(self.concurrency)
        }
    }
}

/// Stops a run: the runner hands out nothing more, starts no new lookup and
/// returns at once; lookups already on the wire finish on their own threads
/// and still journal their answers (each line is written whole), so a resumed
/// run neither loses nor repeats them.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels the run(s) using this token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far a batch has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The number of items, when known ([`BatchOptions::total_hint`]).
    pub total: Option<usize>,
    /// Items read from the input so far.
    pub read: usize,
    /// Items handed out.
    pub done: usize,
    /// Of those, items that failed (any reason, including the next three).
    pub failed: usize,
    /// Of those, items that came in already failed (unreadable rows).
    pub unreadable: usize,
    /// Items that broke a local rule (no call made).
    pub invalid: usize,
    /// Items answered from the journal of an earlier run.
    pub resumed: usize,
    /// Items answered by an identical request's lookup.
    pub duplicates: usize,
    /// Lookups completed in this run.
    pub lookups: usize,
    /// Lookups put back to be tried again later (429, EV1026).
    pub retried: usize,
    /// Of the failed items, those whose answer is not final (kept for resume).
    pub not_final: usize,
    /// Lookups started but not yet answered.
    pub in_flight: usize,
    /// Time since the run started.
    pub elapsed: Duration,
    /// Whether the run was cancelled before the end.
    pub cancelled: bool,
}

/// Where an item's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSource {
    /// The item came in already failed.
    Input,
    /// Local validation refused it.
    Local,
    /// The journal of an earlier run.
    Journal,
    /// An identical request's lookup.
    Duplicate,
    /// A lookup made for it.
    Lookup,
}

/// One item's answer, handed out in input order.
pub struct Answered<T> {
    /// The item's position in the input, from 0.
    pub index: usize,
    /// What the caller attached to the item.
    pub payload: T,
    /// The answer.
    pub answer: BatchAnswer,
    /// The whole error when the item failed in this run (`None` for answers
    /// from the journal, which keep only [`BatchFailure`]).
    pub error: Option<Arc<Error>>,
    /// Where the answer came from.
    pub source: AnswerSource,
}

impl<T> fmt::Debug for Answered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answered")
            .field("index", &self.index)
            .field("answer", &self.answer)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<T> Answered<T> {
    /// The error for a failed item: the whole one when it failed in this run,
    /// else one rebuilt from the journal's record.
    pub fn failure(&self) -> Option<Arc<Error>> {
        match (&self.error, &self.answer) {
            (Some(e), _) => Some(Arc::clone(e)),
            (None, BatchAnswer::Failed(f)) => Some(Arc::new(f.to_error())),
            _ => None,
        }
    }
}

/// One item of the input: a request, or why the caller could not make one.
pub type BatchInput = Result<PirRequest, Error>;

// ---------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------

const KEY_ENV: &str = "NZPIR_JOURNAL_KEY";

/// The key file journals use unless told otherwise: `$NZPIR_JOURNAL_KEY`, else
/// `$XDG_STATE_HOME/nzpir/journal.key`, else `~/.local/state/nzpir/journal.key`.
/// It is made on first use (256 random bits, mode 0600, in a 0700 folder).
pub fn default_key_path() -> Result<PathBuf, Error> {
    let nonempty = |v: std::ffi::OsString| (!v.is_empty()).then_some(v);
    if let Some(p) = std::env::var_os(KEY_ENV).and_then(nonempty) {
        return Ok(PathBuf::from(p));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").and_then(nonempty) {
        return Ok(PathBuf::from(d).join("nzpir").join("journal.key"));
    }
    if let Some(h) = std::env::var_os("HOME").and_then(nonempty) {
        return Ok(PathBuf::from(h)
            .join(".local")
            .join("state")
            .join("nzpir")
            .join("journal.key"));
    }
    Err(Error::config(
        KEY_ENV,
        "no HOME to keep the journal key in: set NZPIR_JOURNAL_KEY to a file path",
    ))
}

fn journal_err(path: &Path, what: &str, e: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "batch journal {}: {what}: {e}",
            scrub(&path.to_string_lossy())
        ),
    )
}

fn key_err(path: &Path, what: &str, e: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "batch journal key {}: {what}: {e}",
            scrub(&path.to_string_lossy())
        ),
    )
}

#[cfg(unix)]
fn private_options(opts: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    opts.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
}

#[cfg(not(unix))]
fn private_options(_opts: &mut OpenOptions) {}

/// Refuses a file others may read or that someone else owns.
#[cfg(unix)]
fn check_private(
    file: &File,
    path: &Path,
    err: fn(&Path, &str, String) -> Error,
) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let m = file
        .metadata()
        .map_err(|e| err(path, "cannot read its metadata", e.to_string()))?;
    if !m.is_file() {
        return Err(err(path, "is not a regular file", String::new()));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me {
        return Err(err(path, "belongs to another user", String::new()));
    }
    if m.mode() & 0o077 != 0 {
        return Err(err(
            path,
            "may be read by other users",
            "make it private (chmod 600)".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_f: &File, _p: &Path, _e: fn(&Path, &str, String) -> Error) -> Result<(), Error> {
    Ok(())
}

fn key_err_s(path: &Path, what: &str, e: String) -> Error {
    key_err(path, what, e)
}

fn journal_err_s(path: &Path, what: &str, e: String) -> Error {
    journal_err(path, what, e)
}

fn nofollow_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Reads the key file, making it (atomically, 0600) when it does not exist.
fn load_key(path: &Path) -> Result<[u8; 32], Error> {
    for _ in 0..50 {
        let mut opts = OpenOptions::new();
        opts.read(true);
        private_options(&mut opts);
        match opts.open(path) {
            Ok(mut f) => {
                check_private(&f, path, key_err_s)?;
                let mut text = String::new();
                f.read_to_string(&mut text)
                    .map_err(|e| key_err(path, "cannot read", e))?;
                let text = text.trim();
                let mut key = [0u8; 32];
                if text.len() != 64 {
                    return Err(key_err(path, "is not an nzpir journal key", "wrong length"));
                }
                for (i, b) in key.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| {
                        key_err(path, "is not an nzpir journal key", "not hexadecimal")
                    })?;
                }
                return Ok(key);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(path)?,
            Err(e) if nofollow_error(&e) => {
                return Err(key_err(path, "is a symbolic link", "give the file itself"));
            }
            Err(e) => return Err(key_err(path, "cannot open", e)),
        }
    }
    Err(key_err(
        path,
        "cannot be created",
        "another process keeps replacing it",
    ))
}

fn create_key(path: &Path) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir)
            .map_err(|e| key_err(path, "cannot create its folder", e))?;
    }
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key)
        .map_err(|_| key_err(path, "cannot make a key", "random source failed"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut tag = [0u8; 8];
    aws_lc_rs::rand::fill(&mut tag)
        .map_err(|_| key_err(path, "cannot make a key", "random source failed"))?;
    let tmp = {
        let mut s = path.as_os_str().to_owned();
        s.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            u64::from_le_bytes(tag)
        ));
        PathBuf::from(s)
    };
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    private_options(&mut opts);
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(format!("{hex}\n").as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(key_err(path, "cannot write", e));
    }
    // A hard link appears whole or not at all, and never replaces a key
    // another process made first (then that one is used).
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(key_err(path, "cannot create", e)),
    }
}

#[derive(Serialize, Deserialize)]
struct JournalHeader {
    nzpir_journal: u32,
    salt: String,
    #[serde(default)]
    check: String,
}

#[derive(Serialize, Deserialize)]
struct LineBody {
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    not_found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<BatchFailure>,
}

#[derive(Serialize, Deserialize)]
struct JournalLine {
    #[serde(flatten)]
    body: LineBody,
    m: String,
}

/// The key of a request: HMAC-SHA-256 of its JSON under the journal's key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestKey([u8; 32]);

impl fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestKey({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// A journaled answer, small: 1,000,000 of them take about 40 MB.
#[derive(Clone, Copy)]
enum Compact {
    Rate(PirRate),
    NotFound,
    Failed(u32),
}

/// An append-only journal of completed lookups (see the module's docs).
pub struct Journal {
    path: PathBuf,
    key: aws_lc_rs::hmac::Key,
    file: Mutex<File>,
    /// The same file, for `fdatasync` while other lines are appended.
    sync_file: File,
    durable: Mutex<Durable>,
    durable_cv: Condvar,
    done: HashMap<[u8; 16], Compact>,
    failures: Vec<BatchFailure>,
    damaged: usize,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("answers", &self.done.len())
            .field("damaged", &self.damaged)
            .finish_non_exhaustive()
    }
}

/// Group commit: lines are numbered as they are appended, and one
/// `fdatasync` makes every line appended before it durable, so concurrent
/// lookups share a flush instead of queueing for one each.
#[derive(Debug, Default)]
struct Durable {
    written: u64,
    synced: u64,
    syncing: bool,
    syncs: u64,
}

fn mac16(key: &aws_lc_rs::hmac::Key, parts: &[&[u8]]) -> [u8; 16] {
    let mut ctx = aws_lc_rs::hmac::Context::with_key(key);
    for p in parts {
        ctx.update(p);
    }
    let tag = ctx.sign();
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag.as_ref()[..16]);
    out
}

impl Journal {
    /// Opens the journal at `path` with the key file of [`default_key_path`].
    /// With `resume`, the answers already in it are read back; without, an
    /// existing journal is an error (so that a finished run is never silently
    /// redone) unless it is empty.
    pub fn open(path: impl Into<PathBuf>, resume: bool) -> Result<Self, Error> {
        let path = path.into();
        if path.is_dir() {
            return Err(journal_err(&path, "is a folder", "give the path of a file"));
        }
        let key_path = default_key_path()?;
        Journal::open_with_key_file(path, resume, &key_path)
    }

    /// As [`open`](Self::open), with the secret in `key_file` (made when
    /// missing).
    pub fn open_with_key_file(
        path: impl Into<PathBuf>,
        resume: bool,
        key_file: &Path,
    ) -> Result<Self, Error> {
        let path = path.into();
        if path.is_dir() {
            return Err(journal_err(&path, "is a folder", "give the path of a file"));
        }
        let secret = load_key(key_file)?;
        let (mut file, existing) = open_journal_file(&path, resume)?;
        let secret_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let derive = |salt: &[u8]| {
            let tag = aws_lc_rs::hmac::sign(
                &secret_key,
                &[b"nzpir batch journal v2\0".as_slice(), salt].concat(),
            );
            aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, tag.as_ref())
        };
        let mut done = HashMap::new();
        let mut failures: Vec<BatchFailure> = Vec::new();
        let mut interned: HashMap<BatchFailure, u32> = HashMap::new();
        let mut damaged = 0usize;
        let mut key = None;
        let mut good_len: u64 = 0;
        if existing {
            let mut reader = BufReader::new(&file);
            let mut line = Vec::new();
            let mut offset: u64 = 0;
            let mut first = true;
            loop {
                line.clear();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| journal_err(&path, "cannot read", e))?;
                if n == 0 {
                    break;
                }
                offset += n as u64;
                if line.last() != Some(&b'\n') {
                    // A torn last line from a crash: cut off below.
                    break;
                }
                good_len = offset;
                let text = &line[..line.len() - 1];
                if first {
                    first = false;
                    let h: JournalHeader = serde_json::from_slice(text)
                        .map_err(|e| journal_err(&path, "is not an nzpir journal", e))?;
                    if h.nzpir_journal != 2 {
                        return Err(journal_err(
                            &path,
                            "was written by an older nzpir whose journal held its own key",
                            "remove it and run the batch again without --resume",
                        ));
                    }
                    let salt = STANDARD
                        .decode(&h.salt)
                        .map_err(|e| journal_err(&path, "has a bad salt", e))?;
                    let k = derive(&salt);
                    if STANDARD.encode(mac16(&k, &[b"check"])) != h.check {
                        return Err(journal_err(
                            &path,
                            "was written with another key",
                            format!(
                                "its key file is not {}; set {KEY_ENV} to the key file of the run that wrote it",
                                scrub(&key_file.to_string_lossy())
                            ),
                        ));
                    }
                    key = Some(k);
                    continue;
                }
                let Some(k) = &key else { break };
                let Some((rk, answer)) = parse_line(k, text) else {
                    damaged += 1;
                    continue;
                };
                let compact = match answer {
                    BatchAnswer::Rate(r) => Compact::Rate(r),
                    BatchAnswer::NotFound => Compact::NotFound,
                    BatchAnswer::Failed(f) => {
                        let next = failures.len() as u32;
                        let i = *interned.entry(f.clone()).or_insert_with(|| {
                            failures.push(f);
                            next
                        });
                        Compact::Failed(i)
                    }
                };
                let mut short = [0u8; 16];
                short.copy_from_slice(&rk[..16]);
                done.insert(short, compact);
            }
        }
        let key = match key {
            Some(k) => k,
            None => {
                let mut salt = [0u8; 32];
                aws_lc_rs::rand::fill(&mut salt).map_err(|_| {
                    journal_err(&path, "cannot make a salt", "random source failed")
                })?;
                let k = derive(&salt);
                let header = serde_json::to_string(&JournalHeader {
                    nzpir_journal: 2,
                    salt: STANDARD.encode(salt),
                    check: STANDARD.encode(mac16(&k, &[b"check"])),
                })
                .map_err(|e| journal_err(&path, "cannot encode", e))?;
                file.set_len(0)
                    .and_then(|()| file.write_all(format!("{header}\n").as_bytes()))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| journal_err(&path, "cannot write", e))?;
                good_len = header.len() as u64 + 1;
                k
            }
        };
        // Cut off a torn tail so the next line starts cleanly.
        file.set_len(good_len)
            .and_then(|()| file.seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(|e| journal_err(&path, "cannot truncate", e))?;
        let sync_file = file
            .try_clone()
            .map_err(|e| journal_err(&path, "cannot open", e))?;
        Ok(Journal {
            key,
            path,
            file: Mutex::new(file),
            sync_file,
            durable: Mutex::new(Durable::default()),
            durable_cv: Condvar::new(),
            done,
            failures,
            damaged,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key of a request under this journal's key.
    pub fn key(&self, req: &PirRequest) -> RequestKey {
        let tag = aws_lc_rs::hmac::sign(&self.key, &req.to_json());
        let mut k = [0u8; 32];
        k.copy_from_slice(tag.as_ref());
        RequestKey(k)
    }

    /// The answer recorded for a request key, if any.
    pub fn answer(&self, key: &RequestKey) -> Option<BatchAnswer> {
        let mut short = [0u8; 16];
        short.copy_from_slice(&key.0[..16]);
        self.done.get(&short).map(|c| match c {
            Compact::Rate(r) => BatchAnswer::Rate(*r),
            Compact::NotFound => BatchAnswer::NotFound,
            Compact::Failed(i) => BatchAnswer::Failed(self.failures[*i as usize].clone()),
        })
    }

    /// How many answers were read back.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether no answers were read back.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// How many damaged lines were skipped when it was read back.
    pub fn damaged_lines(&self) -> usize {
        self.damaged
    }

    /// Appends a final answer and returns once it is on disk. The line is
    /// written with one call, so a crash leaves at most a torn last line;
    /// concurrent calls share one `fdatasync` (group commit).
    pub fn record(&self, key: &RequestKey, answer: &BatchAnswer) -> Result<(), Error> {
        let body = LineBody {
            k: STANDARD.encode(key.0),
            rate: match answer {
                BatchAnswer::Rate(r) => Some(r.to_string()),
                _ => None,
            },
            not_found: matches!(answer, BatchAnswer::NotFound),
            error: match answer {
                BatchAnswer::Failed(f) => Some(f.clone()),
                _ => None,
            },
        };
        let body_json =
            serde_json::to_vec(&body).map_err(|e| journal_err(&self.path, "cannot encode", e))?;
        let line = JournalLine {
            m: STANDARD.encode(mac16(&self.key, &[b"line\0", &body_json])),
            body,
        };
        let mut text = serde_json::to_string(&line)
            .map_err(|e| journal_err(&self.path, "cannot encode", e))?;
        text.push('\n');
        let seq = self.append(&text)?;
        self.sync_through(seq)
    }

    /// Appends a whole line (one write) and returns its number.
    fn append(&self, text: &str) -> Result<u64, Error> {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes())
            .map_err(|e| journal_err(&self.path, "cannot append", e))?;
        let mut d = self.durable.lock().unwrap_or_else(|p| p.into_inner());
        d.written += 1;
        Ok(d.written)
    }

    /// Returns once line `seq` is durable: flushes itself when no flush is
    /// under way, else waits for the one that is (and flushes again when
    /// that one started before the line was written).
    fn sync_through(&self, seq: u64) -> Result<(), Error> {
        let mut d = self.durable.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if d.synced >= seq {
                return Ok(());
            }
            if d.syncing {
                d = self.durable_cv.wait(d).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            d.syncing = true;
            let target = d.written;
            drop(d);
            let r = self.sync_file.sync_data();
            d = self.durable.lock().unwrap_or_else(|p| p.into_inner());
            d.syncing = false;
            if r.is_ok() {
                d.synced = d.synced.max(target);
                d.syncs += 1;
            }
            self.durable_cv.notify_all();
            r.map_err(|e| journal_err(&self.path, "cannot flush", e))?;
        }
    }

    /// Lines made durable, and the `fdatasync` calls that did it.
    #[cfg(test)]
    fn durability(&self) -> (u64, u64) {
        let d = self.durable.lock().unwrap_or_else(|p| p.into_inner());
        (d.synced, d.syncs)
    }
}

/// One line's key and answer, when the line is whole and its MAC holds.
fn parse_line(key: &aws_lc_rs::hmac::Key, text: &[u8]) -> Option<(Vec<u8>, BatchAnswer)> {
    let line: JournalLine = serde_json::from_slice(text).ok()?;
    let body_json = serde_json::to_vec(&line.body).ok()?;
    let m = STANDARD.decode(&line.m).ok()?;
    let want = mac16(key, &[b"line\0", &body_json]);
    if m.len() != 16 || aws_lc_rs::constant_time::verify_slices_are_equal(&m, &want).is_err() {
        return None;
    }
    let k = STANDARD.decode(&line.body.k).ok()?;
    if k.len() != 32 {
        return None;
    }
    let answer = if let Some(r) = line.body.rate {
        BatchAnswer::Rate(r.parse().ok()?)
    } else if line.body.not_found {
        BatchAnswer::NotFound
    } else {
        BatchAnswer::Failed(line.body.error?)
    };
    Some((k, answer))
}

/// Opens the journal file: a new one is created 0600 with `O_EXCL` and
/// `O_NOFOLLOW`; an existing one is opened only with `resume`. Returns the
/// file and whether it already had content.
fn open_journal_file(path: &Path, resume: bool) -> Result<(File, bool), Error> {
    let create = || {
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create_new(true);
        private_options(&mut opts);
        opts.open(path)
    };
    let symlink = || journal_err(path, "is a symbolic link", "give the file itself");
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(symlink()),
        Ok(m) if m.len() == 0 && !resume => {
            // An empty file left by a run that never started: start afresh.
            std::fs::remove_file(path).map_err(|e| journal_err(path, "cannot replace", e))?;
        }
        Ok(_) if !resume => {
            return Err(journal_err(
                path,
                "already exists",
                "pass --resume to continue that run, or remove it to start again",
            ));
        }
        Ok(_) => {
            let mut opts = OpenOptions::new();
            opts.read(true).append(true);
            private_options(&mut opts);
            let file = opts.open(path).map_err(|e| {
                if nofollow_error(&e) {
                    symlink()
                } else {
                    journal_err(path, "cannot open", e)
                }
            })?;
            check_private(&file, path, journal_err_s)?;
            let len = file
                .metadata()
                .map_err(|e| journal_err(path, "cannot open", e))?
                .len();
            return Ok((file, len > 0));
        }
        Err(_) => {}
    }
    let file = create().map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            journal_err(path, "already exists", "another run made it just now")
        } else if nofollow_error(&e) {
            symlink()
        } else {
            journal_err(path, "cannot create", e)
        }
    })?;
    Ok((file, false))
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

/// Spaces out lookup starts to at most `rps` per second, and holds every start
/// back while a 429 asked to wait.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// Waits for this start's slot; false when cancelled while waiting.
    fn wait(&self, cancel: &CancelToken) -> bool {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            let now = Instant::now();
            if slot <= now {
                return true;
            }
            std::thread::sleep((slot - now).min(Duration::from_millis(50)));
        }
    }

    fn pause_until(&self, until: Instant) {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next = (*next).max(until);
    }
}

struct Job {
    id: u64,
    req: PirRequest,
    key: [u8; 32],
    round: u32,
    not_before: Instant,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Job>,
    later: Vec<Job>,
    closed: bool,
}

struct Shared<L> {
    lookup: L,
    queue: Mutex<Queue>,
    cv: Condvar,
    cancel: CancelToken,
    pacer: Pacer,
    journal: Option<Arc<Journal>>,
    retry_later: u32,
    retry_after_cap: Duration,
    retried: AtomicUsize,
    in_flight: AtomicUsize,
}

enum Msg {
    Done {
        id: u64,
        answer: BatchAnswer,
        error: Option<Arc<Error>>,
    },
    JournalFailed(Error),
}

impl<L> Shared<L>
where
    L: Fn(&PirRequest) -> Result<PirOutcome, Error> + Send + Sync + 'static,
{
    fn next_job(&self) -> Option<Job> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.cancel.is_cancelled() {
                return None;
            }
            let now = Instant::now();
            if let Some(pos) = q.later.iter().position(|j| j.not_before <= now) {
                return Some(q.later.swap_remove(pos));
            }
            if let Some(j) = q.ready.pop_front() {
                return Some(j);
            }
            if q.closed && q.later.is_empty() {
                return None;
            }
            let wait = q
                .later
                .iter()
                .map(|j| j.not_before.saturating_duration_since(now))
                .min()
                .unwrap_or(Duration::from_millis(100))
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            q = self
                .cv
                .wait_timeout(q, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn work(&self, tx: &mpsc::Sender<Msg>) {
        while let Some(mut job) = self.next_job() {
            if !self.pacer.wait(&self.cancel) {
                return;
            }
            self.in_flight.fetch_add(1, Ordering::Relaxed);
            // A lookup that panics must not leave its item waiting forever.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.lookup)(&job.req)))
                    .unwrap_or_else(|_| Err(Error::new(ErrorKind::Server, "the lookup panicked")));
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            let answer = BatchAnswer::from_result(&result);
            if let (BatchAnswer::Failed(f), Err(e)) = (&answer, &result)
                && f.is_retry_later()
                && job.round < self.retry_later
                && !self.cancel.is_cancelled()
            {
                let backoff = Duration::from_secs(1) * 2u32.saturating_pow(job.round);
                let delay = e.retry_after().unwrap_or(backoff).min(self.retry_after_cap);
                let until = Instant::now() + delay;
                if f.http_status == Some(429) {
                    self.pacer.pause_until(until);
                }
                log::debug!(
                    target: "nzpir",
                    "batch: {} answered; trying again in {} ms",
                    f.code.as_deref().unwrap_or("HTTP 429"),
                    delay.as_millis()
                );
                job.round += 1;
                job.not_before = until;
                self.retried.fetch_add(1, Ordering::Relaxed);
                self.queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .later
                    .push(job);
                self.cv.notify_all();
                continue;
            }
            if let Some(j) = &self.journal
                && answer.is_final()
                && let Err(e) = j.record(&RequestKey(job.key), &answer)
            {
                let _ = tx.send(Msg::JournalFailed(e));
                return;
            }
            let error = result.err().map(Arc::new);
            if tx
                .send(Msg::Done {
                    id: job.id,
                    answer,
                    error,
                })
                .is_err()
            {
                return;
            }
        }
    }
}

enum SlotState {
    Waiting,
    Ready {
        answer: BatchAnswer,
        error: Option<Arc<Error>>,
        source: AnswerSource,
    },
}

struct Slot<T> {
    index: usize,
    payload: Option<T>,
    state: SlotState,
}

/// Recent answers, in two generations of at most `cap` entries each.
struct Recent {
    cap: usize,
    young: HashMap<[u8; 32], (BatchAnswer, Option<Arc<Error>>)>,
    old: HashMap<[u8; 32], (BatchAnswer, Option<Arc<Error>>)>,
}

impl Recent {
    fn get(&self, k: &[u8; 32]) -> Option<&(BatchAnswer, Option<Arc<Error>>)> {
        self.young.get(k).or_else(|| self.old.get(k))
    }

    fn insert(&mut self, k: [u8; 32], v: (BatchAnswer, Option<Arc<Error>>)) {
        if self.cap == 0 {
            return;
        }
        if self.young.len() >= self.cap {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(k, v);
    }
}

/// Runs lookups over `rows` and hands each item's answer to `on_answer`, in
/// input order, on the calling thread. `lookup` (normally a clone of a
/// [`Client`](crate::Client) calling [`lookup`](crate::Client::lookup)) runs
/// on `options.concurrency` threads of the runner's own.
///
/// Each item is a payload of the caller's (carried to its answer) and a
/// request, or the error that stopped the caller making one (handed out as
/// that item's failure, with no call). With a journal, answers from an earlier
/// run are reused and each new final answer is flushed to it before it is
/// handed out. `progress` is called on the calling thread about every
/// `options.progress_interval`, also while nothing arrives, and once at the
/// end.
///
/// Returns when every item is handed out, when `cancel` is cancelled (the
/// returned progress then says `cancelled`), or with the first error of
/// `on_answer` or of the journal (the run is then cancelled too).
#[allow(clippy::too_many_arguments)]
pub fn run<T, I, L, A, P>(
    rows: I,
    lookup: L,
    options: &BatchOptions,
    journal: Option<Arc<Journal>>,
    cancel: &CancelToken,
    mut on_answer: A,
    mut progress: P,
) -> Result<Progress, Error>
where
    I: IntoIterator<Item = (T, BatchInput)>,
    L: Fn(&PirRequest) -> Result<PirOutcome, Error> + Send + Sync + 'static,
    A: FnMut(Answered<T>) -> Result<(), Error>,
    P: FnMut(&Progress),
{
    options.check()?;
    let started = Instant::now();
    let today = crate::validate::Clock::today_nz(&crate::validate::SystemClock);
    let window_cap = options.window_size();
    let shared = Arc::new(Shared {
        lookup,
        queue: Mutex::new(Queue::default()),
        cv: Condvar::new(),
        cancel: cancel.clone(),
        pacer: Pacer {
            interval: options
                .max_rps
                .and_then(|r| Duration::try_from_secs_f64(1.0 / r).ok())
                .unwrap_or(Duration::ZERO),
            next: Mutex::new(Instant::now()),
        },
        journal: journal.clone(),
        retry_later: options.retry_later,
        retry_after_cap: options.retry_after_cap,
        retried: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut workers = Vec::with_capacity(options.concurrency);
    for i in 0..options.concurrency {
        let s = Arc::clone(&shared);
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("nzpir-batch-{i}"))
            .spawn(move || s.work(&tx));
        match spawned {
            Ok(h) => workers.push(h),
            Err(e) => {
                cancel_workers(&shared);
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("cannot start the batch's threads: {e}"),
                ));
            }
        }
    }
    drop(tx);

    let mut state = Progress {
        total: options.total_hint,
        ..Progress::default()
    };
    let mut rows = rows.into_iter();
    let mut input_done = false;
    let mut window: VecDeque<Slot<T>> = VecDeque::new();
    let mut base: u64 = 0; // sequence number of window[0]
    let mut next_seq: u64 = 0;
    let mut inflight: HashMap<[u8; 32], u64> = HashMap::new();
    let mut jobs: HashMap<u64, ([u8; 32], Vec<u64>)> = HashMap::new();
    let mut recent = Recent {
        cap: options.recent_answers,
        young: HashMap::new(),
        old: HashMap::new(),
    };
    let mut last_progress = Instant::now();
    let mut first_progress = true;

    let result: Result<(), Error> = (|| {
        loop {
            if cancel.is_cancelled() {
                return Ok(());
            }
            // Read ahead while the window has room.
            let mut read_some = false;
            while !input_done && window.len() < window_cap {
                let Some((payload, item)) = rows.next() else {
                    input_done = true;
                    let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
                    q.closed = true;
                    shared.cv.notify_all();
                    break;
                };
                read_some = true;
                let index = state.read;
                state.read += 1;
                let seq = next_seq;
                next_seq += 1;
                let ready = |answer, error, source| SlotState::Ready {
                    answer,
                    error,
                    source,
                };
                let slot_state = match item {
                    Err(e) => {
                        let answer = BatchAnswer::Failed(BatchFailure::from_error(&e));
                        ready(answer, Some(Arc::new(e)), AnswerSource::Input)
                    }
                    Ok(req) => {
                        let violations = if options.validate_locally {
                            req.violations(today)
                        } else {
                            Vec::new()
                        };
                        if violations.is_empty() {
                            let key = match &journal {
                                Some(j) => j.key(&req).0,
                                None => {
                                    let d = aws_lc_rs::digest::digest(
                                        &aws_lc_rs::digest::SHA256,
                                        &req.to_json(),
                                    );
                                    let mut k = [0u8; 32];
                                    k.copy_from_slice(d.as_ref());
                                    k
                                }
                            };
                            if let Some(a) =
                                journal.as_ref().and_then(|j| j.answer(&RequestKey(key)))
                            {
                                ready(a, None, AnswerSource::Journal)
                            } else if let Some(id) = inflight.get(&key) {
                                if let Some((_, waiting)) = jobs.get_mut(id) {
                                    waiting.push(seq);
                                }
                                SlotState::Waiting
                            } else if let Some((a, e)) = recent.get(&key) {
                                ready(a.clone(), e.clone(), AnswerSource::Duplicate)
                            } else {
                                inflight.insert(key, seq);
                                jobs.insert(seq, (key, vec![seq]));
                                let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
                                q.ready.push_back(Job {
                                    id: seq,
                                    req,
                                    key,
                                    round: 0,
                                    not_before: Instant::now(),
                                });
                                drop(q);
                                shared.cv.notify_one();
                                SlotState::Waiting
                            }
                        } else {
                            let e = Error::invalid_input(violations);
                            let answer = BatchAnswer::Failed(BatchFailure::from_error(&e));
                            ready(answer, Some(Arc::new(e)), AnswerSource::Local)
                        }
                    }
                };
                window.push_back(Slot {
                    index,
                    payload: Some(payload),
                    state: slot_state,
                });
                // Hand out what is ready at the front at once.
                emit(&mut window, &mut base, &mut state, &mut on_answer, cancel)?;
                if cancel.is_cancelled() {
                    return Ok(());
                }
            }
            emit(&mut window, &mut base, &mut state, &mut on_answer, cancel)?;
            if input_done && window.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if first_progress || now.duration_since(last_progress) >= options.progress_interval {
                first_progress = false;
                last_progress = now;
                fill(&mut state, &shared, started);
                progress(&state);
            }
            if read_some && window.len() < window_cap && !input_done {
                continue;
            }
            // Wait for an answer (or the next progress tick).
            let wait = options
                .progress_interval
                .saturating_sub(now.duration_since(last_progress))
                .max(Duration::from_millis(1));
            let mut msg = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                // The workers end on their own once the run is cancelled
                // (also from the input iterator, just before this wait).
                Err(mpsc::RecvTimeoutError::Disconnected) if cancel.is_cancelled() => {
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(
                        ErrorKind::Server,
                        "the batch's lookup threads stopped",
                    ));
                }
            };
            while let Some(m) = msg.take() {
                match m {
                    Msg::JournalFailed(e) => return Err(e),
                    Msg::Done { id, answer, error } => {
                        state.lookups += 1;
                        if let Some((key, seqs)) = jobs.remove(&id) {
                            inflight.remove(&key);
                            for (n, seq) in seqs.iter().enumerate() {
                                if let Some(slot) = seq
                                    .checked_sub(base)
                                    .and_then(|p| window.get_mut(p as usize))
                                {
                                    slot.state = SlotState::Ready {
                                        answer: answer.clone(),
                                        error: error.clone(),
                                        source: if n == 0 {
                                            AnswerSource::Lookup
                                        } else {
                                            AnswerSource::Duplicate
                                        },
                                    };
                                }
                            }
                            recent.insert(key, (answer, error));
                        }
                    }
                }
                msg = rx.try_recv().ok();
            }
        }
    })();

    let cancelled = cancel.is_cancelled();
    if result.is_err() || cancelled {
        cancel_workers(&shared);
        if options.wait_on_cancel {
            for w in workers {
                let _ = w.join();
            }
        }
    } else {
        // Every job is answered and the queue is closed: the workers end.
        for w in workers {
            let _ = w.join();
        }
    }
    fill(&mut state, &shared, started);
    state.cancelled = cancelled && result.is_ok() && !(input_done && window.is_empty());
    if result.is_ok() {
        progress(&state);
    }
    result.map(|()| state)
}

fn cancel_workers<L>(shared: &Shared<L>) {
    shared.cancel.cancel();
    let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
    q.closed = true;
    q.ready.clear();
    q.later.clear();
    shared.cv.notify_all();
}

fn fill<L>(state: &mut Progress, shared: &Shared<L>, started: Instant) {
    state.retried = shared.retried.load(Ordering::Relaxed);
    state.in_flight = shared.in_flight.load(Ordering::Relaxed);
    state.elapsed = started.elapsed();
}

fn emit<T, A>(
    window: &mut VecDeque<Slot<T>>,
    base: &mut u64,
    state: &mut Progress,
    on_answer: &mut A,
    cancel: &CancelToken,
) -> Result<(), Error>
where
    A: FnMut(Answered<T>) -> Result<(), Error>,
{
    // Nothing more is handed out once the run is cancelled (also from
    // `on_answer` itself).
    while !cancel.is_cancelled()
        && matches!(window.front(), Some(s) if matches!(s.state, SlotState::Ready { .. }))
    {
        let Some(slot) = window.pop_front() else {
            break;
        };
        *base += 1;
        let SlotState::Ready {
            answer,
            error,
            source,
        } = slot.state
        else {
            continue;
        };
        state.done += 1;
        if let BatchAnswer::Failed(_) = &answer {
            state.failed += 1;
            if !answer.is_final() {
                state.not_final += 1;
            }
        }
        match source {
            AnswerSource::Input => state.unreadable += 1,
            AnswerSource::Local => state.invalid += 1,
            AnswerSource::Journal => state.resumed += 1,
            AnswerSource::Duplicate => state.duplicates += 1,
            AnswerSource::Lookup => {}
        }
        let Some(payload) = slot.payload else {
            continue;
        };
        on_answer(Answered {
            index: slot.index,
            payload,
            answer,
            error,
            source,
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The same, as a stream consumed from another thread
// ---------------------------------------------------------------------------

/// What [`BatchStream::next_timeout`] found.
#[derive(Debug)]
pub enum StreamEvent<T> {
    /// The next item's answer, in input order.
    Item(Answered<T>),
    /// Nothing yet; call again (check for interrupts, report progress).
    Pending,
    /// The run is over: every item handed out, cancelled, or failed.
    Finished(Result<Progress, Error>),
}

/// A run on a thread of its own whose answers are taken one at a time, in
/// input order (for generators, async iterators and event loops). Dropping it
/// cancels the run.
pub struct BatchStream<T> {
    rx: mpsc::Receiver<Answered<T>>,
    cancel: CancelToken,
    progress: Arc<Mutex<Progress>>,
    handle: Option<std::thread::JoinHandle<Result<Progress, Error>>>,
    finished: bool,
}

impl<T> fmt::Debug for BatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchStream")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// Starts [`run`] on a thread of its own and returns its answers as a
/// [`BatchStream`]. The input iterator is read on that thread; at most a
/// window of answers waits to be taken.
pub fn stream<T, I, L>(
    rows: I,
    lookup: L,
    options: BatchOptions,
    journal: Option<Arc<Journal>>,
    cancel: CancelToken,
) -> Result<BatchStream<T>, Error>
where
    T: Send + 'static,
    I: Iterator<Item = (T, BatchInput)> + Send + 'static,
    L: Fn(&PirRequest) -> Result<PirOutcome, Error> + Send + Sync + 'static,
{
    options.check()?;
    let (tx, rx) = mpsc::sync_channel::<Answered<T>>(options.window_size());
    let progress = Arc::new(Mutex::new(Progress {
        total: options.total_hint,
        ..Progress::default()
    }));
    let p2 = Arc::clone(&progress);
    let c2 = cancel.clone();
    let handle = std::thread::Builder::new()
        .name("nzpir-batch".to_owned())
        .spawn(move || {
            run(
                rows,
                lookup,
                &options,
                journal,
                &c2,
                |a| {
                    let mut a = a;
                    loop {
                        match tx.try_send(a) {
                            Ok(()) => return Ok(()),
                            Err(mpsc::TrySendError::Full(back)) => {
                                if c2.is_cancelled() {
                                    return Ok(());
                                }
                                a = back;
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Err(mpsc::TrySendError::Disconnected(_)) => {
                                c2.cancel();
                                return Ok(());
                            }
                        }
                    }
                },
                |p| *p2.lock().unwrap_or_else(|e| e.into_inner()) = *p,
            )
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot start the batch's thread: {e}"),
            )
        })?;
    Ok(BatchStream {
        rx,
        cancel,
        progress,
        handle: Some(handle),
        finished: false,
    })
}

impl<T> BatchStream<T> {
    /// The next answer, waiting at most `timeout` for it.
    pub fn next_timeout(&mut self, timeout: Duration) -> StreamEvent<T> {
        if self.finished {
            return StreamEvent::Finished(Ok(self.progress()));
        }
        match self.rx.recv_timeout(timeout) {
            Ok(a) => StreamEvent::Item(a),
            Err(mpsc::RecvTimeoutError::Timeout) => StreamEvent::Pending,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.finished = true;
                let r = match self.handle.take().map(std::thread::JoinHandle::join) {
                    Some(Ok(r)) => r,
                    _ => Err(Error::new(ErrorKind::Server, "the batch's thread panicked")),
                };
                if let Ok(p) = &r {
                    *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = *p;
                }
                StreamEvent::Finished(r)
            }
        }
    }

    /// The next answer if one is ready now, without waiting.
    pub fn try_next(&mut self) -> Option<Answered<T>> {
        if self.finished {
            return None;
        }
        self.rx.try_recv().ok()
    }

    /// The latest progress report.
    pub fn progress(&self) -> Progress {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cancels the run; [`next_timeout`](Self::next_timeout) then finishes
    /// promptly.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The run's cancel token.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }
}

impl<T> Drop for BatchStream<T> {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests;

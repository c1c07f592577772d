//! Lookups for many investors: bounded concurrency, an optional request-rate
//! cap, identical requests looked up once, and a journal so that an
//! interrupted run resumes without losing or repeating a completed lookup.
//!
//! The runner is independent of how a lookup is made: it takes a function
//! (normally [`Client::lookup`](crate::Client::lookup)) and calls it from a
//! fixed pool of threads.
//!
//! ## The journal
//! An append-only file of JSON lines, flushed after every completed lookup.
//! The first line holds a random salt; each later line holds a keyed hash
//! (HMAC-SHA-256 with that salt) of the request's JSON and the answer. The
//! journal therefore never holds an IRD number, name or date of birth, and a
//! resumed run can still tell which requests were answered. A line cut short by
//! a crash is ignored and cut off before appending.
//!
//! Only IR's answers are journaled (a rate, not-found, or an error IR sent,
//! IR003 included); transport failures, timeouts and server faults are not,
//! so a resumed run tries them again.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, IrCode, scrub};
use crate::model::{PirOutcome, PirRate, PirRequest};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFailure {
    /// The kind, as [`ErrorKind::as_str`] spells it.
    pub kind: String,
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
            kind: e.kind().as_str().to_owned(),
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
    /// a rate, not-found, or an error IR itself gave.
    pub fn is_final(&self) -> bool {
        match self {
            BatchAnswer::Rate(_) | BatchAnswer::NotFound => true,
            BatchAnswer::Failed(f) => matches!(
                f.kind.as_str(),
                "rejected" | "authentication" | "authorisation" | "rate_limited" | "invalid_input"
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct JournalHeader {
    nzpir_journal: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct JournalLine {
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    not_found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<BatchFailure>,
}

/// The key of a request: HMAC-SHA-256 of its JSON under the journal's salt.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestKey([u8; 32]);

impl fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestKey({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// An append-only journal of completed lookups.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    key: aws_lc_rs::hmac::Key,
    file: Mutex<File>,
    done: HashMap<RequestKey, BatchAnswer>,
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

impl Journal {
    /// Opens the journal at `path`. With `resume`, the answers already in it are
    /// read back; without, an existing journal is an error (so that a finished
    /// run is never silently redone) unless it is empty.
    pub fn open(path: impl Into<PathBuf>, resume: bool) -> Result<Self, Error> {
        let path = path.into();
        if path.is_dir() {
            return Err(journal_err(&path, "is a folder", "give the path of a file"));
        }
        let exists = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if exists && !resume {
            return Err(journal_err(
                &path,
                "already exists",
                "pass --resume to continue that run, or remove it to start again",
            ));
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| journal_err(&path, "cannot open", e))?;
        let mut done = HashMap::new();
        let mut salt = None;
        let mut good_len: u64 = 0;
        if exists {
            let reader = BufReader::new(&file);
            let mut offset: u64 = 0;
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(|e| journal_err(&path, "cannot read", e))?;
                let len = line.len() as u64 + 1;
                if i == 0 {
                    let h: JournalHeader = serde_json::from_slice(&line)
                        .map_err(|e| journal_err(&path, "is not an nzpir journal", e))?;
                    salt = Some(
                        STANDARD
                            .decode(h.salt)
                            .map_err(|e| journal_err(&path, "has a bad salt", e))?,
                    );
                    offset += len;
                    good_len = offset;
                    continue;
                }
                match serde_json::from_slice::<JournalLine>(&line) {
                    Ok(l) => {
                        let mut k = [0u8; 32];
                        let bytes = STANDARD
                            .decode(&l.k)
                            .map_err(|e| journal_err(&path, "has a bad key", e))?;
                        if bytes.len() != 32 {
                            return Err(journal_err(&path, "has a bad key", "wrong length"));
                        }
                        k.copy_from_slice(&bytes);
                        let answer = if let Some(r) = l.rate {
                            BatchAnswer::Rate(
                                r.parse()
                                    .map_err(|e| journal_err(&path, "has a bad rate", e))?,
                            )
                        } else if l.not_found {
                            BatchAnswer::NotFound
                        } else if let Some(e) = l.error {
                            BatchAnswer::Failed(e)
                        } else {
                            return Err(journal_err(&path, "has a line without an answer", i + 1));
                        };
                        done.insert(RequestKey(k), answer);
                        offset += len;
                        good_len = offset;
                    }
                    // A torn last line from a crash; anything after it is ignored too.
                    Err(_) => break,
                }
            }
        }
        let salt = match salt {
            Some(s) => s,
            None => {
                let mut s = [0u8; 32];
                aws_lc_rs::rand::fill(&mut s).map_err(|_| {
                    journal_err(&path, "cannot make a salt", "random source failed")
                })?;
                let header = serde_json::to_string(&JournalHeader {
                    nzpir_journal: 1,
                    salt: STANDARD.encode(s),
                })
                .map_err(|e| journal_err(&path, "cannot encode", e))?;
                file.set_len(0)
                    .and_then(|()| file.write_all(format!("{header}\n").as_bytes()))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| journal_err(&path, "cannot write", e))?;
                good_len = header.len() as u64 + 1;
                s.to_vec()
            }
        };
        // Cut off a torn tail so the next line starts cleanly.
        file.set_len(good_len)
            .and_then(|()| file.seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(|e| journal_err(&path, "cannot truncate", e))?;
        Ok(Journal {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &salt),
            path,
            file: Mutex::new(file),
            done,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key of a request under this journal's salt.
    pub fn key(&self, req: &PirRequest) -> RequestKey {
        let tag = aws_lc_rs::hmac::sign(&self.key, &req.to_json());
        let mut k = [0u8; 32];
        k.copy_from_slice(tag.as_ref());
        RequestKey(k)
    }

    /// The answer recorded for a request key, if any.
    pub fn answer(&self, key: &RequestKey) -> Option<&BatchAnswer> {
        self.done.get(key)
    }

    /// How many answers were read back.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether no answers were read back.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Appends a final answer and flushes it to disk.
    pub fn record(&self, key: &RequestKey, answer: &BatchAnswer) -> Result<(), Error> {
        let line = JournalLine {
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
        let mut text = serde_json::to_string(&line)
            .map_err(|e| journal_err(&self.path, "cannot encode", e))?;
        text.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| journal_err(&self.path, "cannot append", e))
    }
}

/// How far a batch has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows in the batch.
    pub total: usize,
    /// Rows with an answer (from the journal, local validation or IR).
    pub done: usize,
    /// Of those, rows that failed.
    pub failed: usize,
    /// Network lookups made in this run.
    pub lookups: usize,
    /// Rows answered from the journal of an earlier run.
    pub resumed: usize,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// Settings for a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Lookups in flight at once (default 4: IR may throttle heavy users).
    pub concurrency: usize,
    /// At most this many lookups started per second.
    pub max_rps: Option<f64>,
    /// Validate requests locally first (rows that fail make no call).
    pub validate_locally: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: 4,
            max_rps: None,
            validate_locally: true,
        }
    }
}

/// Spaces out lookup starts to at most `rps` per second.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

/// One row of a batch: its input index and either a request or the reason the
/// caller could not build one (a malformed row).
pub type BatchRow = (usize, Result<PirRequest, Error>);

/// Runs `lookup` over `rows` and calls `on_answer(index, answer)` once per row,
/// in input order. `progress` is called after each answer.
///
/// Identical requests are looked up once. With a journal, answers from an
/// earlier run are reused and each new final answer is flushed to it before
/// `on_answer` sees it.
pub fn run<L, A, P>(
    rows: Vec<BatchRow>,
    lookup: L,
    options: &BatchOptions,
    journal: Option<&Journal>,
    mut on_answer: A,
    mut progress: P,
) -> Result<Progress, Error>
where
    L: Fn(&PirRequest) -> Result<PirOutcome, Error> + Sync,
    A: FnMut(usize, &BatchAnswer) -> Result<(), Error>,
    P: FnMut(&Progress),
{
    let started = Instant::now();
    let total = rows.len();
    let today = crate::validate::SystemClock;
    let today = crate::validate::Clock::today_nz(&today);

    // Work out each row's answer source: local (invalid, journaled, duplicate) or a lookup.
    #[derive(Clone, Copy)]
    enum Source {
        Ready,
        Lookup(usize),
    }
    let mut ready: Vec<Option<BatchAnswer>> = vec![None; total];
    let mut source = vec![Source::Ready; total];
    let mut unique: Vec<(PirRequest, Option<RequestKey>)> = Vec::new();
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut resumed = 0;
    let mut order = Vec::with_capacity(total);
    for (pos, (index, row)) in rows.into_iter().enumerate() {
        order.push(index);
        let req = match row {
            Ok(r) => r,
            Err(e) => {
                ready[pos] = Some(BatchAnswer::Failed(BatchFailure::from_error(&e)));
                continue;
            }
        };
        if options.validate_locally {
            let v = req.violations(today);
            if !v.is_empty() {
                ready[pos] = Some(BatchAnswer::Failed(BatchFailure::from_error(
                    &Error::invalid_input(v),
                )));
                continue;
            }
        }
        let key = journal.map(|j| j.key(&req));
        if let (Some(j), Some(k)) = (journal, &key)
            && let Some(a) = j.answer(k)
        {
            ready[pos] = Some(a.clone());
            resumed += 1;
            continue;
        }
        let json = req.to_json();
        let slot = *seen.entry(json).or_insert_with(|| {
            unique.push((req, key));
            unique.len() - 1
        });
        source[pos] = Source::Lookup(slot);
    }

    // Look the unique requests up on a fixed pool of threads.
    let results: Vec<Mutex<Option<BatchAnswer>>> =
        (0..unique.len()).map(|_| Mutex::new(None)).collect();
    let finished = (Mutex::new(0usize), Condvar::new());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let journal_error: Mutex<Option<Error>> = Mutex::new(None);
    let pacer = options.max_rps.filter(|r| *r > 0.0).map(|rps| Pacer {
        interval: Duration::from_secs_f64(1.0 / rps),
        next: Mutex::new(Instant::now()),
    });
    let workers = options.concurrency.clamp(1, 256).min(unique.len().max(1));
    let mut state = Progress {
        total,
        done: 0,
        failed: 0,
        lookups: 0,
        resumed,
        elapsed: Duration::ZERO,
    };

    std::thread::scope(|scope| -> Result<(), Error> {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((req, key)) = unique.get(i) else {
                        break;
                    };
                    if let Some(p) = &pacer {
                        p.wait();
                    }
                    // A lookup that panics must not leave its row waiting forever.
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lookup(req)))
                            .unwrap_or_else(|_| {
                                Err(Error::new(ErrorKind::Server, "the lookup panicked"))
                            });
                    let answer = BatchAnswer::from_result(&result);
                    if let (Some(j), Some(k)) = (journal, key)
                        && answer.is_final()
                        && let Err(e) = j.record(k, &answer)
                    {
                        stop.store(true, Ordering::Relaxed);
                        *journal_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
                    let (count, cv) = &finished;
                    *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                    cv.notify_all();
                }
            });
        }

        // Hand answers out in input order as they become available.
        for (pos, src) in source.iter().enumerate() {
            let answer = match *src {
                Source::Ready => ready[pos].take(),
                Source::Lookup(slot) => {
                    let (count, cv) = &finished;
                    let mut guard = count.lock().unwrap_or_else(|p| p.into_inner());
                    loop {
                        if let Some(a) = results[slot]
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clone()
                        {
                            break Some(a);
                        }
                        if stop.load(Ordering::Relaxed) {
                            break None;
                        }
                        guard = cv.wait(guard).unwrap_or_else(|p| p.into_inner());
                    }
                }
            };
            let Some(answer) = answer else { break };
            state.done += 1;
            state.failed += usize::from(matches!(answer, BatchAnswer::Failed(_)));
            state.lookups = *finished.0.lock().unwrap_or_else(|p| p.into_inner());
            state.elapsed = started.elapsed();
            if let Err(e) = on_answer(order[pos], &answer) {
                stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
            progress(&state);
        }
        Ok(())
    })?;
    if let Some(e) = journal_error
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    state.lookups = *finished.0.lock().unwrap_or_else(|p| p.into_inner());
    state.elapsed = started.elapsed();
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn req(ird: &str) -> PirRequest {
        PirRequest::builder(ird).pie_ird("136410132").build()
    }

    const VALID: [&str; 4] = ["049091850", "035901981", "049098576", "136410132"];

    fn fake(calls: &AtomicUsize) -> impl Fn(&PirRequest) -> Result<PirOutcome, Error> + Sync + '_ {
        move |r: &PirRequest| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            match r.ird() {
                "049091850" => Ok(PirOutcome::Suggested {
                    ird: r.ird().into(),
                    pie_ird: None,
                    rate: PirRate::LOW,
                }),
                "035901981" => Ok(PirOutcome::NotFound {
                    ird: r.ird().into(),
                    pie_ird: None,
                }),
                "049098576" => Err(Error::from_ir(
                    401,
                    crate::IrErrorBody::single(crate::IrErrorItem::new(IrCode::IR003)),
                )),
                _ => Err(Error::new(ErrorKind::Transport, "connection refused")),
            }
        }
    }

    fn collect(
        rows: Vec<BatchRow>,
        calls: &AtomicUsize,
        journal: Option<&Journal>,
        opts: &BatchOptions,
    ) -> (Vec<(usize, BatchAnswer)>, Progress) {
        let mut out = Vec::new();
        let p = run(
            rows,
            fake(calls),
            opts,
            journal,
            |i, a| {
                out.push((i, a.clone()));
                Ok(())
            },
            |_| {},
        )
        .expect("run");
        (out, p)
    }

    #[test]
    fn answers_in_input_order_with_duplicates_looked_up_once() {
        let calls = AtomicUsize::new(0);
        let mut rows: Vec<BatchRow> = Vec::new();
        for i in 0..40 {
            rows.push((i, Ok(req(VALID[i % 4]))));
        }
        rows.push((40, Ok(req("136410133"))));
        rows.push((
            41,
            Err(Error::new(
                ErrorKind::InvalidInput,
                "row 42 has 3 columns, expected 14",
            )),
        ));
        let opts = BatchOptions {
            concurrency: 8,
            ..BatchOptions::default()
        };
        let (out, p) = collect(rows, &calls, None, &opts);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "one call per distinct request"
        );
        assert_eq!(
            out.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..42).collect::<Vec<_>>()
        );
        assert_eq!(out[0].1, BatchAnswer::Rate(PirRate::LOW));
        assert_eq!(out[1].1, BatchAnswer::NotFound);
        let BatchAnswer::Failed(f) = &out[2].1 else {
            panic!("IR003 expected")
        };
        assert!(f.is_rate_limited());
        let BatchAnswer::Failed(f) = &out[40].1 else {
            panic!("invalid expected")
        };
        assert_eq!(
            (f.kind.as_str(), f.code.as_deref()),
            ("invalid_input", Some("INVALID"))
        );
        assert!(!f.message.contains("136410133"));
        assert_eq!((p.total, p.done, p.lookups), (42, 42, 4));
    }

    #[test]
    fn an_invalid_row_names_every_broken_rule() {
        let calls = AtomicUsize::new(0);
        let bad = PirRequest::builder("136410133")
            .pie_ird("12")
            .filing_period("2020-02-30")
            .build();
        let (out, _) = collect(vec![(0, Ok(bad))], &calls, None, &BatchOptions::default());
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing is sent");
        let BatchAnswer::Failed(f) = &out[0].1 else {
            panic!("invalid expected")
        };
        assert_eq!(
            f.message,
            "invalid input: IRD fails the modulus-11 check digit; PieIRD must be 8 or 9 digits; \
             FilingPeriod must be a real calendar date"
        );
        assert!(!f.message.contains("136410133"));
    }

    #[test]
    fn concurrency_is_bounded() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let rows: Vec<BatchRow> = (0..30)
            .map(|i| {
                let n = 10_000_000 + i * 1000;
                let ird = (n..n + 1000)
                    .find_map(|v| crate::IrdNumber::from_u32(v).ok())
                    .expect("a valid number");
                (i as usize, Ok(req(&ird.to_string())))
            })
            .collect();
        let lookup = |r: &PirRequest| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(PirOutcome::NotFound {
                ird: r.ird().into(),
                pie_ird: None,
            })
        };
        let opts = BatchOptions {
            concurrency: 3,
            ..BatchOptions::default()
        };
        let p = run(rows, lookup, &opts, None, |_, _| Ok(()), |_| {}).expect("run");
        assert_eq!(p.lookups, 30);
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn max_rps_spaces_out_lookups() {
        let calls = AtomicUsize::new(0);
        let rows: Vec<BatchRow> = (0..4).map(|i| (i, Ok(req(VALID[i])))).collect();
        let opts = BatchOptions {
            concurrency: 4,
            max_rps: Some(20.0),
            ..BatchOptions::default()
        };
        let t = Instant::now();
        collect(rows, &calls, None, &opts);
        // Four starts at 20 per second: the last starts 150 ms after the first.
        assert!(
            t.elapsed() >= Duration::from_millis(150),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn resume_repeats_no_completed_lookup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("batch.journal");
        let rows = || -> Vec<BatchRow> { (0..4).map(|i| (i, Ok(req(VALID[i])))).collect() };
        let calls = AtomicUsize::new(0);
        {
            let j = Journal::open(&path, false).expect("journal");
            let (out, _) = collect(
                rows(),
                &calls,
                Some(&j),
                &BatchOptions {
                    concurrency: 1,
                    ..BatchOptions::default()
                },
            );
            assert_eq!(out.len(), 4);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // The transport failure is not journaled; the other three are.
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 4, "{text}");
        for ird in VALID {
            assert!(!text.contains(ird), "journal holds an IRD number: {text}");
        }
        // A crash left half a line behind.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"{\"k\":\"abc"))
            .expect("tear");
        assert!(
            Journal::open(&path, false).is_err(),
            "an existing journal needs --resume"
        );
        let j = Journal::open(&path, true).expect("resume");
        assert_eq!(j.len(), 3);
        let (out, p) = collect(rows(), &calls, Some(&j), &BatchOptions::default());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            5,
            "only the failed row is tried again"
        );
        assert_eq!((p.resumed, p.lookups, out.len()), (3, 1, 4));
        assert_eq!(out[0].1, BatchAnswer::Rate(PirRate::LOW));
        drop(j);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.ends_with('\n') && !text.contains("{\"k\":\"abc{"),
            "{text}"
        );
    }

    #[test]
    fn a_folder_is_not_a_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        for resume in [false, true] {
            let e = Journal::open(dir.path(), resume).expect_err("a folder");
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.to_string().contains("is a folder"), "{e}");
        }
    }

    #[test]
    fn a_panicking_lookup_fails_its_row_only() {
        let rows: Vec<BatchRow> = (0..2).map(|i| (i, Ok(req(VALID[i])))).collect();
        let lookup = |r: &PirRequest| -> Result<PirOutcome, Error> {
            if r.ird() == VALID[0] {
                panic!("boom");
            }
            Ok(PirOutcome::NotFound {
                ird: r.ird().into(),
                pie_ird: None,
            })
        };
        let mut out = Vec::new();
        run(
            rows,
            lookup,
            &BatchOptions::default(),
            None,
            |i, a| {
                out.push((i, a.clone()));
                Ok(())
            },
            |_| {},
        )
        .expect("run");
        assert!(matches!(out[0].1, BatchAnswer::Failed(_)));
        assert_eq!(out[1].1, BatchAnswer::NotFound);
    }
}

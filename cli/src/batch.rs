//! `nzpir batch`: a CSV of investors in, the same rows with their rates out.
//!
//! The lookups themselves (bounded concurrency, request-rate cap,
//! de-duplication, the resumable journal) are the core's `nzpir::batch`; this
//! module reads and writes the CSV, reports progress and picks the exit code.
//!
//! Output is written in full to `OUT.csv.partial` and renamed to `OUT.csv`
//! once every row is in it, so a crash never leaves a half-written `OUT.csv`;
//! `--resume` writes it again from the start, taking every completed lookup
//! from the journal.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ArgMatches;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use nzpir::batch::{self, Answered, BatchAnswer, BatchOptions, CancelToken, Journal, Progress};

use crate::args::{BatchArgs, ProgressMode};
use crate::conn::{self, Purpose};
use crate::exit::{self, Failure};
use crate::request::{Field, Fields};

/// The columns added to the input's.
pub const OUTPUT_COLUMNS: [&str; 4] = [
    "SuggestedPirRate",
    "PirRateNotFound",
    "ErrorCode",
    "ErrorMessage",
];

/// The error code of a row that could not be read.
pub const CSV_CODE: &str = "CSV";

/// One input row.
#[derive(Debug)]
struct Row {
    /// The carried-through cells (the input's columns minus output columns).
    carried: Vec<String>,
    /// The request, or why the row could not be read (CSV) or made into one.
    request: Result<nzpir::PirRequest, (String, String)>,
}

/// A row's carried cells and, for a row not looked up, its code and message.
type Carried = (Vec<String>, Option<(String, String)>);

/// The input file's header: what the rows are read against.
#[derive(Debug)]
struct Layout {
    /// The output's leading columns (the input's, minus output columns).
    header: Vec<String>,
    names: Vec<String>,
    fields: Vec<(usize, Field)>,
    carried: Vec<usize>,
}

type Records = csv::ByteRecordsIntoIter<QuoteCounter<std::io::BufReader<File>>>;

/// The input file, read a row at a time (one row ahead, to report a quote
/// left open at the end of the file on the row where it opened).
struct Input {
    path: PathBuf,
    layout: Layout,
    records: Records,
    quotes: Rc<Cell<u64>>,
    default_pie: Option<String>,
    ahead: Option<(Row, u64, bool)>,
    done: bool,
    /// A read error that ended the input early (it stops the run).
    failure: Rc<Cell<Option<Failure>>>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("header", &self.layout.header)
            .finish_non_exhaustive()
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens the CSV and reads its header. A header problem stops the run (exit
/// 2); a row problem becomes that row's `CSV` error and the run goes on.
fn read_input(path: &Path, default_pie: Option<&str>) -> Result<Input, Failure> {
    let file = File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let quotes = Rc::new(Cell::new(0u64));
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(QuoteCounter {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            quotes: quotes.clone(),
        });
    let mut records = reader.into_byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(Failure::usage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
        None => {
            return Err(Failure::usage(format!(
                "{} is empty: it needs a header row with an IRD column",
                path.display()
            )));
        }
    };
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw).map_err(|_| {
            Failure::usage(format!(
                "{}: the header row is not UTF-8 (column {})",
                path.display(),
                i + 1
            ))
        })?;
        if name.contains(['\n', '\r']) {
            return Err(Failure::usage(format!(
                "{}: the header row has a line break inside column {}: is a quote left open?",
                path.display(),
                i + 1
            )));
        }
        names.push(name.to_owned());
    }
    let mut fields: Vec<(usize, Field)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(f) = Field::from_column(name) {
            if fields.iter().any(|(_, g)| *g == f) {
                return Err(Failure::usage(format!(
                    "{}: two columns are named {}",
                    path.display(),
                    f.column()
                )));
            }
            fields.push((i, f));
        }
    }
    if !fields.iter().any(|(_, f)| *f == Field::Ird) {
        return Err(Failure::usage(format!(
            "{} has no IRD column (the header names the columns: IRD, PieIRD, FilingPeriod, ...)",
            path.display()
        )));
    }
    let carried: Vec<usize> = (0..names.len())
        .filter(|i| {
            !OUTPUT_COLUMNS
                .iter()
                .any(|o| o.eq_ignore_ascii_case(names[*i].trim()))
        })
        .collect();
    let header: Vec<String> = carried.iter().map(|i| names[*i].clone()).collect();
    Ok(Input {
        path: path.to_owned(),
        layout: Layout {
            header,
            names,
            fields,
            carried,
        },
        records,
        quotes,
        default_pie: default_pie.map(str::to_owned),
        ahead: None,
        done: false,
        failure: Rc::new(Cell::new(None)),
    })
}

impl Layout {
    /// One record as a row: its carried cells and its request or problem.
    fn row(&self, record: &csv::ByteRecord, line: u64, default_pie: Option<&str>) -> Row {
        let width = self.names.len();
        if record.len() != width {
            // A quote left open swallows the following lines into one field.
            let open_quote = record.iter().any(|f| f.contains(&b'\n'));
            return Row {
                carried: vec![String::new(); self.carried.len()],
                request: Err((
                    CSV_CODE.to_owned(),
                    format!(
                        "line {line}: {} fields, the header has {width}; row not looked up{}",
                        record.len(),
                        if open_quote {
                            " (a quote opened on this line seems not to be closed: the lines after it were read into this row)"
                        } else {
                            ""
                        }
                    ),
                )),
            };
        }
        let bad_column = record
            .iter()
            .position(|cell| std::str::from_utf8(cell).is_err());
        let cell = |i: usize| String::from_utf8_lossy(&record[i]).into_owned();
        let carried_cells: Vec<String> = self.carried.iter().map(|i| cell(*i)).collect();
        if let Some(col) = bad_column {
            return Row {
                carried: carried_cells,
                request: Err((
                    CSV_CODE.to_owned(),
                    format!(
                        "line {line}: column {} ({}) is not UTF-8; row not looked up",
                        col + 1,
                        self.names[col]
                    ),
                )),
            };
        }
        let mut values = Fields::default();
        for (i, f) in &self.fields {
            let v = cell(*i);
            let v = v.trim();
            if !v.is_empty() {
                values.set(*f, v);
            }
        }
        if values.get(Field::PieIrd).is_none()
            && let Some(pie) = default_pie
        {
            values.set(Field::PieIrd, pie);
        }
        let request = Ok(values.to_request());
        Row {
            carried: carried_cells,
            request,
        }
    }
}

impl Iterator for Input {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        loop {
            match self.records.next() {
                Some(Ok(record)) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    let newline = record.iter().any(|f| f.contains(&b'\n'));
                    let row = self.layout.row(&record, line, self.default_pie.as_deref());
                    if let Some((held, _, _)) = self.ahead.replace((row, line, newline)) {
                        return Some(held);
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.failure.set(Some(Failure::usage(format!(
                        "cannot read {}: {e}",
                        self.path.display()
                    ))));
                    return None;
                }
                None => {
                    self.done = true;
                    return self.finish_last();
                }
            }
        }
    }
}

impl Input {
    /// The last row, checked for a quote left open at the end of the file.
    ///
    /// The csv reader ends a quote left open at the end of the file without a
    /// word, having read every line after it into the last row. In a
    /// well-formed file quotes come in pairs; an odd count with line breaks in
    /// the last row means exactly that, so the row is reported instead of
    /// looked up.
    fn finish_last(&mut self) -> Option<Row> {
        let (mut row, line, newline) = self.ahead.take()?;
        if self.quotes.get() % 2 == 1 && newline {
            row.request = Err((
                CSV_CODE.to_owned(),
                format!(
                    "line {line}: a quote opened in this row is never closed, so every line after it was read into this row; row not looked up"
                ),
            ));
        }
        Some(row)
    }
}

/// Counts the `"` bytes read through it.
struct QuoteCounter<R> {
    inner: R,
    quotes: Rc<Cell<u64>>,
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        self.quotes.set(self.quotes.get() + q);
        Ok(n)
    }
}

/// Progress on standard error; never an IRD number or a name. It counts the
/// rows that reach the lookup stage (not those that cannot be read).
enum Reporter {
    Bar(ProgressBar),
    Lines {
        last: Instant,
        last_tenth: usize,
        total: usize,
    },
    Silent,
}

impl Reporter {
    fn new(mode: ProgressMode, total: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        match mode {
            ProgressMode::None => Reporter::Silent,
            ProgressMode::Lines => Reporter::lines(total),
            ProgressMode::Auto if !terminal => Reporter::lines(total),
            ProgressMode::Auto | ProgressMode::Bar => {
                let bar =
                    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} rows  {rate}  ETA {eta}  {msg}",
                ) {
                    bar.set_style(style.with_key(
                        "rate",
                        |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.1} rows/s", s.per_sec());
                        },
                    ));
                }
                Reporter::Bar(bar)
            }
        }
    }

    fn lines(total: usize) -> Self {
        Reporter::Lines {
            last: Instant::now(),
            last_tenth: 0,
            total,
        }
    }

    fn update(&mut self, p: &Progress) {
        let done = p.done - p.unreadable;
        match self {
            Reporter::Silent => {}
            Reporter::Bar(bar) => {
                bar.set_position(done as u64);
                if p.failed > p.unreadable {
                    bar.set_message(format!("{} failed", p.failed - p.unreadable));
                }
            }
            Reporter::Lines {
                last,
                last_tenth,
                total,
            } => {
                let total = *total;
                let tenth = (done * 10).checked_div(total).unwrap_or(10);
                if tenth > *last_tenth || last.elapsed() >= Duration::from_secs(5) {
                    *last_tenth = tenth;
                    *last = Instant::now();
                    let secs = p.elapsed.as_secs_f64().max(1e-3);
                    let rate = done as f64 / secs;
                    let eta = if rate > 0.0 {
                        format!("{:.0} s", total.saturating_sub(done) as f64 / rate)
                    } else {
                        "unknown".to_owned()
                    };
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "nzpir batch: {done}/{total} rows ({}%), {} looked up, {} from the journal, {} failed; {rate:.1} rows/s, ETA {eta}",
                        done * 100 / total.max(1),
                        p.lookups,
                        p.resumed,
                        p.failed - p.unreadable,
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// What the run found, for the summary and the exit code.
#[derive(Debug, Default)]
struct Tally {
    rates: usize,
    not_found: usize,
    failed: BTreeMap<String, usize>,
    worst: u8,
    retry_later: usize,
}

impl Tally {
    fn failure(&mut self, code: &str, exit_code: u8) {
        *self.failed.entry(code.to_owned()).or_default() += 1;
        self.worst = self.worst.max(exit_code);
    }
}

/// The four output cells for an answer.
fn answer_cells(answer: &BatchAnswer, tally: &mut Tally) -> [String; 4] {
    match answer {
        BatchAnswer::Rate(r) => {
            tally.rates += 1;
            [r.to_string(), "false".into(), String::new(), String::new()]
        }
        BatchAnswer::NotFound => {
            tally.not_found += 1;
            [String::new(), "true".into(), String::new(), String::new()]
        }
        BatchAnswer::Failed(f) => {
            let code = f
                .code
                .clone()
                .unwrap_or_else(|| f.kind.as_str().to_ascii_uppercase());
            tally.failure(&code, exit::for_kind(f.kind));
            if !answer.is_final() {
                tally.retry_later += 1;
            }
            [String::new(), String::new(), code, f.message.clone()]
        }
    }
}

/// A cell as written to the output: one that a spreadsheet would read as a
/// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return)
/// gets a leading `'`, so that opening the file never runs anything a server
/// or an input file put there. A plain number (`-12.5`, `+64`) cannot be a
/// formula and is left as it is. This applies to every cell the tool
/// writes: its own columns, and the input's header and cells it carries
/// through (the input file is not the output file's author's to trust).
fn neutralise(cell: &str) -> Cow<'_, str> {
    let formula_like = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula_like || is_plain_number(cell) {
        return Cow::Borrowed(cell);
    }
    Cow::Owned(format!("'{cell}"))
}

/// [`neutralise`]d, as the bytes the CSV writer takes.
fn cell(text: &str) -> Cow<'_, [u8]> {
    match neutralise(text) {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

/// `[+-]digits[.digits]`: a number a spreadsheet reads as a number.
fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn write_row(
    w: &mut csv::Writer<BufWriter<File>>,
    carried: &[String],
    cells: &[String; 4],
) -> Result<(), nzpir::Error> {
    w.write_record(carried.iter().chain(cells.iter()).map(|c| cell(c)))
        .map_err(|e| {
            nzpir::Error::new(
                nzpir::ErrorKind::Config,
                format!("cannot write the output: {e}"),
            )
        })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Runs `nzpir batch`: rows stream from the input through the core's runner
/// to the output, each written as soon as it and every row before it have
/// their answer, so memory stays flat whatever the register's size.
pub fn run(args: &BatchArgs, m: &ArgMatches) -> Result<u8, Failure> {
    let started = Instant::now();
    conn::init_logging(args.conn.verbose);
    if same_file(&args.input, &args.out) {
        return Err(Failure::usage("--out must not be the input file"));
    }
    let cfg = conn::resolve(&args.conn, m, Purpose::Lookup)?;
    let concurrency = usize::from(args.concurrency);
    let client = nzpir::ClientBuilder::from_config(&cfg)
        .and_then(|b| {
            b.user_agent_suffix("nzpir-cli")
                .max_idle_connections(concurrency)
                .build()
        })
        .map_err(Failure::from)?;
    let input = read_input(&args.input, args.pie_ird.as_deref())?;
    // The progress total: a first pass that counts, holding nothing.
    let lookup_rows = match args.progress {
        ProgressMode::None => 0,
        _ => read_input(&args.input, args.pie_ird.as_deref())?
            .filter(|r| r.request.is_ok())
            .count(),
    };
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| with_suffix(&args.out, ".journal"));
    let partial = with_suffix(&args.out, ".partial");
    let file = File::create(&partial)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", partial.display())))?;
    // Opened last, so a run that cannot start leaves no journal behind.
    let journal = Arc::new(Journal::open(&journal_path, args.resume).map_err(Failure::from)?);
    let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
    writer
        .write_record(
            input
                .layout
                .header
                .iter()
                .map(|c| cell(c))
                .chain(OUTPUT_COLUMNS.iter().map(|c| Cow::Borrowed(c.as_bytes()))),
        )
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", partial.display())))?;

    let options = BatchOptions {
        concurrency,
        max_rps: args.max_rps,
        validate_locally: cfg.validate_locally.unwrap_or(true),
        ..BatchOptions::default()
    };
    let read_failure = Rc::clone(&input.failure);
    // Rows that cannot be read go through the runner as already-failed items,
    // so that they keep their place; their cells say why.
    let items = input.map(|row| match row.request {
        Ok(req) => ((row.carried, None), Ok(req)),
        Err(problem) => (
            (row.carried, Some(problem)),
            Err(nzpir::Error::new(
                nzpir::ErrorKind::InvalidInput,
                "row not looked up",
            )),
        ),
    });
    let mut tally = Tally::default();
    let mut reporter = Reporter::new(args.progress, lookup_rows);
    let lookup_client = client.clone();
    let result = batch::run(
        items,
        move |req| lookup_client.lookup(req),
        &options,
        Some(Arc::clone(&journal)),
        &CancelToken::new(),
        |a: Answered<Carried>| {
            let (carried, problem) = a.payload;
            let cells = match problem {
                Some((code, message)) => {
                    tally.failure(&code, exit::USAGE);
                    [String::new(), String::new(), code, message]
                }
                None => answer_cells(&a.answer, &mut tally),
            };
            write_row(&mut writer, &carried, &cells)
        },
        |p| reporter.update(p),
    );
    reporter.finish();
    let progress = result.map_err(Failure::from)?;
    if let Some(f) = read_failure.take() {
        return Err(f);
    }
    let total = progress.read;

    // Make the output whole on disk, then put it in place.
    let file = writer
        .into_inner()
        .map_err(|e| Failure::usage(format!("cannot write {}: {}", partial.display(), e.error())))?
        .into_inner()
        .map_err(|e| {
            Failure::usage(format!("cannot write {}: {}", partial.display(), e.error()))
        })?;
    file.sync_all()
        .and_then(|()| std::fs::rename(&partial, &args.out))
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", args.out.display())))?;
    drop(journal);
    let journal_note = if tally.retry_later == 0 {
        match std::fs::remove_file(&journal_path) {
            Ok(()) => String::new(),
            Err(e) => format!(
                "; the journal {} could not be removed: {e}",
                journal_path.display()
            ),
        }
    } else {
        format!(
            "; {} row(s) failed on the way (connection, timeout, server, HTTP 429 or EV1026): run again with --resume to retry just those (journal {})",
            tally.retry_later,
            journal_path.display()
        )
    };

    let failed: usize = tally.failed.values().sum();
    let by_code = tally
        .failed
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        std::io::stderr().lock(),
        "nzpir batch: {total} rows -> {}: {} rates, {} not found, {failed} failed{}; {} looked up, {} from the journal; {:.1} s{journal_note}",
        args.out.display(),
        tally.rates,
        tally.not_found,
        if by_code.is_empty() {
            String::new()
        } else {
            format!(" ({by_code})")
        },
        progress.lookups,
        progress.resumed,
        started.elapsed().as_secs_f64(),
    );
    Ok(tally.worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Whole {
        header: Vec<String>,
        rows: Vec<Row>,
    }

    fn input(text: &[u8]) -> Result<Whole, Failure> {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("in.csv");
        std::fs::write(&p, text).expect("write");
        let i = read_input(&p, None)?;
        let header = i.layout.header.clone();
        Ok(Whole {
            header,
            rows: i.collect(),
        })
    }

    #[test]
    fn cells_that_could_start_a_formula_are_neutralised() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("+64 21 555 0100", "'+64 21 555 0100"),
            ("-12.5", "-12.5"),
            ("+64", "+64"),
            ("-", "'-"),
            ("EV1100", "EV1100"),
            ("Gary = Allen", "Gary = Allen"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn rows_columns_and_problems() {
        let t = input(
            b"\xEF\xBB\xBFMember,ird,PieIRD,ErrorCode\n\
              m1,49-091-850,125000002,old\n\
              m2,136410133\n\
              m3,\xff,125000002,\n\
              m4,,,\n",
        )
        .expect("reads");
        assert_eq!(t.header, ["Member", "ird", "PieIRD"]);
        assert_eq!(t.rows.len(), 4);
        let r = t.rows[0].request.as_ref().expect("request");
        assert_eq!(r.ird(), "049091850");
        assert_eq!(t.rows[0].carried, ["m1", "49-091-850", "125000002"]);
        let (code, msg) = t.rows[1].request.as_ref().expect_err("short row");
        assert_eq!(code, CSV_CODE);
        assert!(msg.starts_with("line 3: 2 fields"), "{msg}");
        let (code, msg) = t.rows[2].request.as_ref().expect_err("bad bytes");
        assert_eq!(code, CSV_CODE);
        assert!(msg.contains("line 4") && msg.contains("ird"), "{msg}");
        assert!(!msg.contains('\u{fffd}'));
        // An empty IRD is a request that local validation refuses.
        assert_eq!(t.rows[3].request.as_ref().expect("request").ird(), "");
    }

    #[test]
    fn a_quote_left_open_is_reported_where_it_opens() {
        let t = input(b"IRD,Note\n139276507,ok\n139276310,\"open\n049091850,x\n139439976,y\n")
            .expect("reads");
        assert_eq!(t.rows.len(), 2);
        let (code, msg) = t.rows[1].request.as_ref().expect_err("swallowed");
        assert_eq!(code, CSV_CODE);
        assert!(
            msg.starts_with("line 3: a quote opened in this row is never closed"),
            "{msg}"
        );
        assert!(input(b"IRD,\"Note\n139276507,ok\n").is_err());
        // Quoted line breaks and doubled quotes are fine.
        let t = input(b"IRD,Note\n139276507,\"two\nlines, \"\"quoted\"\"\"\n139276310,x\n")
            .expect("reads");
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows.iter().all(|r| r.request.is_ok()));
        assert_eq!(t.rows[0].carried[1], "two\nlines, \"quoted\"");
        // A quote left open in a short row is reported by its width too.
        let t = input(b"IRD,Note,Other\n139276507,\"open\n1,2\n").expect("reads");
        let (_, msg) = t.rows[0].request.as_ref().expect_err("swallowed");
        assert!(msg.starts_with("line 2: "), "{msg}");
    }

    #[test]
    fn header_problems_stop_the_run() {
        assert!(input(b"Name,PieIRD\nx,125000002\n").is_err());
        assert!(input(b"").is_err());
        assert!(input(b"IRD,ird\n1,2\n").is_err());
    }
}

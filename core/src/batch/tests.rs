use super::*;
use std::sync::atomic::AtomicUsize;

fn req(ird: &str) -> PirRequest {
    PirRequest::builder(ird).pie_ird("136410132").build()
}

const VALID: [&str; 4] = ["049091850", "035901981", "049098576", "136410132"];

/// `n` distinct valid IRD numbers.
fn distinct(n: usize) -> Vec<String> {
    (10_000_000u32..)
        .filter_map(|v| crate::IrdNumber::from_u32(v).ok())
        .take(n)
        .map(|i| i.to_string())
        .collect()
}

fn fake(
    calls: Arc<AtomicUsize>,
) -> impl Fn(&PirRequest) -> Result<PirOutcome, Error> + Send + Sync + 'static {
    move |r: &PirRequest| {
        calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
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

fn rows_of(irds: &[&str]) -> Vec<((), BatchInput)> {
    irds.iter().map(|i| ((), Ok(req(i)))).collect()
}

fn collect<I: IntoIterator<Item = ((), BatchInput)>>(
    rows: I,
    calls: &Arc<AtomicUsize>,
    journal: Option<Arc<Journal>>,
    opts: &BatchOptions,
) -> (Vec<(usize, BatchAnswer, AnswerSource)>, Progress) {
    let mut out = Vec::new();
    let p = run(
        rows,
        fake(Arc::clone(calls)),
        opts,
        journal,
        &CancelToken::new(),
        |a| {
            out.push((a.index, a.answer, a.source));
            Ok(())
        },
        |_| {},
    )
    .expect("run");
    (out, p)
}

#[test]
fn answers_in_input_order_with_duplicates_looked_up_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut rows: Vec<((), BatchInput)> = Vec::new();
    for i in 0..40 {
        rows.push(((), Ok(req(VALID[i % 4]))));
    }
    rows.push(((), Ok(req("136410133"))));
    rows.push((
        (),
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
        out.iter().map(|(i, _, _)| *i).collect::<Vec<_>>(),
        (0..42).collect::<Vec<_>>()
    );
    assert_eq!(out[0].1, BatchAnswer::Rate(PirRate::LOW));
    assert_eq!(out[0].2, AnswerSource::Lookup);
    assert_eq!(out[4].2, AnswerSource::Duplicate);
    assert_eq!(out[1].1, BatchAnswer::NotFound);
    let BatchAnswer::Failed(f) = &out[2].1 else {
        panic!("IR003 expected")
    };
    assert!(f.is_rate_limited());
    assert!(out[2].1.is_final(), "IR003 is IR's final word");
    let BatchAnswer::Failed(f) = &out[40].1 else {
        panic!("invalid expected")
    };
    assert_eq!(
        (f.kind.as_str(), f.code.as_deref()),
        ("invalid_input", Some("INVALID"))
    );
    assert!(!f.message.contains("136410133"));
    assert_eq!(out[41].2, AnswerSource::Input);
    assert_eq!((p.done, p.lookups, p.read), (42, 4, 42));
    assert_eq!((p.duplicates, p.invalid, p.unreadable), (36, 1, 1));
    assert!(!p.cancelled);
}

#[test]
fn an_invalid_row_names_every_broken_rule() {
    let calls = Arc::new(AtomicUsize::new(0));
    let bad = PirRequest::builder("136410133")
        .pie_ird("12")
        .filing_period("2020-02-30")
        .build();
    let (out, _) = collect(vec![((), Ok(bad))], &calls, None, &BatchOptions::default());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing is sent");
    let BatchAnswer::Failed(f) = &out[0].1 else {
        panic!("invalid expected")
    };
    assert_eq!(
        f.message,
        "invalid input: IRD fails the modulus-11 check digit; PieIRD must be 8 or 9 digits; \
         FilingPeriod must be a real calendar date"
    );
}

#[test]
fn concurrency_is_bounded() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let irds = distinct(30);
    let rows: Vec<((), BatchInput)> = irds.iter().map(|i| ((), Ok(req(i)))).collect();
    let (f, pk) = (Arc::clone(&in_flight), Arc::clone(&peak));
    let lookup = move |r: &PirRequest| {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        pk.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
        f.fetch_sub(1, Ordering::SeqCst);
        Ok(PirOutcome::NotFound {
            ird: r.ird().into(),
            pie_ird: None,
        })
    };
    let opts = BatchOptions {
        concurrency: 3,
        ..BatchOptions::default()
    };
    let p = run(
        rows,
        lookup,
        &opts,
        None,
        &CancelToken::new(),
        |_| Ok(()),
        |_| {},
    )
    .expect("run");
    assert_eq!(p.lookups, 30);
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[test]
fn memory_is_bounded_by_the_window_not_the_input() {
    // An endless-looking input: the runner must not read more than a window
    // ahead of what it has handed out.
    let read = Arc::new(AtomicUsize::new(0));
    let r2 = Arc::clone(&read);
    let irds = distinct(50);
    let rows = (0..5_000usize).map(move |i| {
        r2.fetch_add(1, Ordering::SeqCst);
        ((), Ok(req(&irds[i % 50])))
    });
    let opts = BatchOptions {
        concurrency: 4,
        window: 64,
        recent_answers: 0,
        ..BatchOptions::default()
    };
    let mut worst = 0usize;
    let lookup = |r: &PirRequest| {
        Ok(PirOutcome::NotFound {
            ird: r.ird().into(),
            pie_ird: None,
        })
    };
    let p = run(
        rows,
        lookup,
        &opts,
        None,
        &CancelToken::new(),
        |a| {
            worst = worst.max(read.load(Ordering::SeqCst) - a.index);
            Ok(())
        },
        |_| {},
    )
    .expect("run");
    assert_eq!(p.done, 5_000);
    assert!(worst <= 64 + 1, "read {worst} ahead of the output");
    // Without a memory of recent answers, duplicates further apart than the
    // window are looked up again; within the window, once.
    assert!(
        p.lookups < 5_000 && p.lookups >= 5_000 / 64,
        "{}",
        p.lookups
    );
}

#[test]
fn recent_answers_spare_duplicates_beyond_the_window() {
    let calls = Arc::new(AtomicUsize::new(0));
    let irds = distinct(100);
    let rows: Vec<((), BatchInput)> = (0..1_000).map(|i| ((), Ok(req(&irds[i % 100])))).collect();
    let opts = BatchOptions {
        concurrency: 2,
        window: 8,
        ..BatchOptions::default()
    };
    let (out, p) = collect(rows, &calls, None, &opts);
    assert_eq!(out.len(), 1_000);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        100,
        "each distinct request once"
    );
    assert_eq!(p.duplicates, 900);
}

#[test]
fn max_rps_spaces_out_lookups() {
    let calls = Arc::new(AtomicUsize::new(0));
    let opts = BatchOptions {
        concurrency: 4,
        max_rps: Some(20.0),
        ..BatchOptions::default()
    };
    let t = Instant::now();
    collect(rows_of(&VALID), &calls, None, &opts);
    // Four starts at 20 per second: the last starts 150 ms after the first.
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn nonsense_settings_are_refused_without_a_panic() {
    for bad in [
        0.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e9,
        1e-300 * 0.0,
    ] {
        let e = check_max_rps(bad).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("max_rps"), "{e}");
        let opts = BatchOptions {
            max_rps: Some(bad),
            ..BatchOptions::default()
        };
        let e = run(
            rows_of(&VALID),
            |_: &PirRequest| Err(Error::new(ErrorKind::Server, "never called")),
            &opts,
            None,
            &CancelToken::new(),
            |_| Ok(()),
            |_| {},
        )
        .expect_err("refused before any call");
        assert!(e.to_string().contains("max_rps"), "{e}");
    }
    assert!(check_max_rps(0.001).is_ok());
    assert!(check_max_rps(MAX_RPS).is_ok());
    for c in [0, MAX_CONCURRENCY + 1] {
        let opts = BatchOptions {
            concurrency: c,
            ..BatchOptions::default()
        };
        assert!(
            opts.check()
                .expect_err("refused")
                .to_string()
                .contains("concurrency")
        );
    }
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join("keys").join("journal.key")
}

#[test]
fn resume_repeats_no_completed_lookup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("batch.journal");
    let kf = key_file(dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let one = BatchOptions {
        concurrency: 1,
        ..BatchOptions::default()
    };
    {
        let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
        let (out, _) = collect(rows_of(&VALID), &calls, Some(j), &one);
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
        Journal::open_with_key_file(&path, false, &kf).is_err(),
        "an existing journal needs resume"
    );
    let j = Arc::new(Journal::open_with_key_file(&path, true, &kf).expect("resume"));
    assert_eq!(j.len(), 3);
    let (out, p) = collect(rows_of(&VALID), &calls, Some(Arc::clone(&j)), &one);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "only the failed row is tried again"
    );
    assert_eq!((p.resumed, p.lookups, out.len()), (3, 1, 4));
    assert_eq!(out[0].1, BatchAnswer::Rate(PirRate::LOW));
    assert_eq!(out[0].2, AnswerSource::Journal);
    drop(j);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.ends_with('\n') && !text.contains("{\"k\":\"abc{"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn the_journal_is_private_and_its_key_is_elsewhere() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
    collect(
        rows_of(&VALID[..1]),
        &calls,
        Some(j),
        &BatchOptions::default(),
    );
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&kf), 0o600);
    assert_eq!(mode(kf.parent().expect("folder")), 0o700);
    let key_hex = std::fs::read_to_string(&kf).expect("key");
    let journal = std::fs::read_to_string(&path).expect("journal");
    assert!(
        !journal.contains(key_hex.trim()),
        "the key is not in the journal"
    );

    // Another key cannot read it (nor confirm a guessed IRD number).
    let other = dir.path().join("other.key");
    let e = Journal::open_with_key_file(&path, true, &other).expect_err("other key");
    assert!(e.to_string().contains("another key"), "{e}");

    // A symbolic link is not followed, for the journal or the key.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&path, &link).expect("symlink");
    for resume in [false, true] {
        let e = Journal::open_with_key_file(&link, resume, &kf).expect_err("symlink");
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
    let klink = dir.path().join("klink");
    std::os::unix::fs::symlink(&kf, &klink).expect("symlink");
    let e = Journal::open_with_key_file(dir.path().join("j2"), false, &klink).expect_err("symlink");
    assert!(e.to_string().contains("symbolic link"), "{e}");

    // A key others may read is refused.
    std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let e = Journal::open_with_key_file(dir.path().join("j3"), false, &kf).expect_err("0644");
    assert!(e.to_string().contains("other users"), "{e}");
}

#[test]
fn a_damaged_line_costs_that_line_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let irds = distinct(6);
    let irds: Vec<&str> = irds.iter().map(String::as_str).collect();
    let ok = |r: &PirRequest| {
        Ok(PirOutcome::NotFound {
            ird: r.ird().into(),
            pie_ird: None,
        })
    };
    let one = BatchOptions {
        concurrency: 1,
        ..BatchOptions::default()
    };
    let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
    run(
        rows_of(&irds),
        ok,
        &one,
        Some(j),
        &CancelToken::new(),
        |_| Ok(()),
        |_| {},
    )
    .expect("run");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 7);
    // Line 3 is garbled, line 5 has its answer altered (its MAC no longer holds).
    lines[2] = "garbage \u{0} not json".to_owned();
    lines[4] = lines[4].replace("\"not_found\":true", "\"rate\":\"28\"");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let j = Journal::open_with_key_file(&path, true, &kf).expect("resume");
    assert_eq!((j.len(), j.damaged_lines()), (4, 2));
    let (_, p) = collect(rows_of(&irds), &calls, Some(Arc::new(j)), &one);
    assert_eq!(
        (p.resumed, p.lookups),
        (4, 2),
        "only the two damaged lines are redone"
    );
}

#[test]
fn too_many_requests_and_ev1026_are_tried_again_later_and_not_journaled_if_they_persist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let irds = distinct(3);
    let (a, b, c) = (irds[0].clone(), irds[1].clone(), irds[2].clone());
    let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let c2 = Arc::clone(&calls);
    let (a2, b2) = (a.clone(), b.clone());
    let lookup = move |r: &PirRequest| {
        let n = {
            let mut m = c2.lock().expect("lock");
            let n = m.entry(r.ird().to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        if r.ird() == a2 && n == 1 {
            // A gateway's 429 asking for 200 ms.
            return Err(Error::from_status(429, "(too many requests)")
                .with_retry_after(Some(Duration::from_millis(200))));
        }
        if r.ird() == b2 {
            // EV1026 every time.
            return Err(Error::from_ir(
                401,
                crate::IrErrorBody::single(crate::IrErrorItem::new(IrCode::EV1026)),
            ));
        }
        Ok(PirOutcome::Suggested {
            ird: r.ird().into(),
            pie_ird: None,
            rate: PirRate::TOP,
        })
    };
    let opts = BatchOptions {
        concurrency: 2,
        retry_later: 2,
        retry_after_cap: Duration::from_millis(50),
        ..BatchOptions::default()
    };
    let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
    let mut out = Vec::new();
    let t = Instant::now();
    let p = run(
        rows_of(&[&a, &b, &c]),
        lookup,
        &opts,
        Some(Arc::clone(&j)),
        &CancelToken::new(),
        |x| {
            out.push(x.answer);
            Ok(())
        },
        |_| {},
    )
    .expect("run");
    let calls = calls.lock().expect("lock").clone();
    assert_eq!(calls[&a], 2, "429: tried again");
    assert_eq!(out[0], BatchAnswer::Rate(PirRate::TOP));
    assert_eq!(calls[&b], 3, "EV1026: the first try and two later");
    let BatchAnswer::Failed(f) = &out[1] else {
        panic!("EV1026 expected")
    };
    assert_eq!(f.code.as_deref(), Some("EV1026"));
    assert!(!out[1].is_final(), "kept for resume");
    assert_eq!(calls[&c], 1);
    assert_eq!((p.retried, p.not_final), (3, 1));
    // The Retry-After was honoured within its cap (50 ms, not 200 ms).
    assert!(t.elapsed() >= Duration::from_millis(50));
    drop(j);
    let j = Journal::open_with_key_file(&path, true, &kf).expect("resume");
    assert_eq!(j.len(), 2, "the EV1026 is not journaled");
    assert!(j.answer(&j.key(&req(&b))).is_none());
}

#[test]
fn cancel_returns_at_once_and_leaves_the_journal_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let irds = distinct(40);
    let irds: Vec<&str> = irds.iter().map(String::as_str).collect();
    let finished = Arc::new(AtomicUsize::new(0));
    let f2 = Arc::clone(&finished);
    let lookup = move |r: &PirRequest| {
        std::thread::sleep(Duration::from_millis(400));
        f2.fetch_add(1, Ordering::SeqCst);
        Ok(PirOutcome::NotFound {
            ird: r.ird().into(),
            pie_ird: None,
        })
    };
    let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let mut handed = 0;
    let p = run(
        rows_of(&irds),
        lookup,
        &BatchOptions {
            concurrency: 4,
            progress_interval: Duration::from_millis(10),
            ..BatchOptions::default()
        },
        Some(Arc::clone(&j)),
        &cancel,
        |_| {
            handed += 1;
            Ok(())
        },
        |p| {
            if p.elapsed >= Duration::from_millis(50) {
                c2.cancel();
            }
        },
    )
    .expect("run");
    assert!(p.cancelled);
    assert_eq!(handed, 0);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "returned before the lookups on the wire finished"
    );
    // Those lookups finish on their own threads and journal whole lines.
    let deadline = Instant::now() + Duration::from_secs(10);
    while finished.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(finished.load(Ordering::SeqCst), 4, "no new lookup started");
    drop(j);
    let j = Journal::open_with_key_file(&path, true, &kf).expect("resume");
    assert_eq!((j.len(), j.damaged_lines()), (4, 0));
}

/// The input ends the run (as the C ABI's request callback does) while the
/// only lookup waits to be tried again: the workers leave without an answer,
/// and the run is still a clean cancellation, not a failure.
#[test]
fn cancelled_by_the_input_while_every_worker_leaves() {
    let irds = distinct(1);
    let lookup = |_: &PirRequest| {
        Err(Error::from_status(429, "(too many requests)")
            .with_retry_after(Some(Duration::from_secs(5))))
    };
    let cancel = CancelToken::new();
    let mut calls = 0;
    let rows = std::iter::from_fn(|| {
        calls += 1;
        if calls == 1 {
            return Some(((), Ok(req(&irds[0]))));
        }
        // Let the lookup be answered and queued for later, then end the run
        // and give the workers time to leave.
        std::thread::sleep(Duration::from_millis(150));
        cancel.cancel();
        std::thread::sleep(Duration::from_millis(400));
        None
    });
    let mut handed = 0;
    let p = run(
        rows,
        lookup,
        &BatchOptions {
            concurrency: 2,
            wait_on_cancel: true,
            ..BatchOptions::default()
        },
        None,
        &cancel,
        |_| {
            handed += 1;
            Ok(())
        },
        |_| {},
    )
    .expect("a cancelled run, not an error");
    assert!(p.cancelled);
    assert_eq!(handed, 0);
}

#[test]
fn one_flush_makes_every_line_written_before_it_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let j = Journal::open_with_key_file(&path, false, &kf).expect("journal");
    // Three lines appended before anyone flushes: the first to ask for its
    // line flushes all three; the others find theirs durable already.
    let seqs: Vec<u64> = (0..3)
        .map(|i| j.append(&format!("{{\"line\":{i}}}\n")).expect("append"))
        .collect();
    assert_eq!(j.durability(), (0, 0));
    j.sync_through(seqs[0]).expect("flush");
    assert_eq!(j.durability(), (3, 1));
    j.sync_through(seqs[2]).expect("already durable");
    j.sync_through(seqs[1]).expect("already durable");
    assert_eq!(j.durability(), (3, 1), "no second flush");
}

#[test]
fn concurrent_answers_are_all_journaled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("j");
    let kf = key_file(dir.path());
    let irds = distinct(400);
    let j = Arc::new(Journal::open_with_key_file(&path, false, &kf).expect("journal"));
    std::thread::scope(|s| {
        for chunk in irds.chunks(50) {
            let j = Arc::clone(&j);
            s.spawn(move || {
                for ird in chunk {
                    j.record(&j.key(&req(ird)), &BatchAnswer::NotFound)
                        .expect("record");
                }
            });
        }
    });
    let (synced, syncs) = j.durability();
    assert_eq!(synced, 400);
    assert!((1..=400).contains(&syncs), "{syncs}");
    drop(j);
    let j = Journal::open_with_key_file(&path, true, &kf).expect("resume");
    assert_eq!((j.len(), j.damaged_lines()), (400, 0));
    for ird in &irds {
        assert!(j.answer(&j.key(&req(ird))).is_some());
    }
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
fn a_panicking_lookup_fails_its_item_only() {
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
        rows_of(&VALID[..2]),
        lookup,
        &BatchOptions::default(),
        None,
        &CancelToken::new(),
        |a| {
            out.push(a.answer);
            Ok(())
        },
        |_| {},
    )
    .expect("run");
    assert!(matches!(out[0], BatchAnswer::Failed(_)));
    assert_eq!(out[1], BatchAnswer::NotFound);
}

#[test]
fn a_stream_hands_out_in_order_and_stops_when_dropped() {
    let irds = distinct(300);
    let rows: Vec<(usize, BatchInput)> = irds
        .iter()
        .enumerate()
        .map(|(i, d)| (i, Ok(req(d))))
        .collect();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut s = stream(
        rows.into_iter(),
        fake(Arc::clone(&calls)),
        BatchOptions {
            concurrency: 8,
            ..BatchOptions::default()
        },
        None,
        CancelToken::new(),
    )
    .expect("stream");
    let mut next = 0;
    loop {
        match s.next_timeout(Duration::from_millis(50)) {
            StreamEvent::Item(a) => {
                assert_eq!((a.index, a.payload), (next, next));
                next += 1;
            }
            StreamEvent::Pending => {}
            StreamEvent::Finished(r) => {
                assert_eq!(r.expect("run").done, 300);
                break;
            }
        }
    }
    assert_eq!(next, 300);
    // Dropped early: the run stops.
    let irds = distinct(2_000);
    let rows: Vec<((), BatchInput)> = irds.iter().map(|d| ((), Ok(req(d)))).collect();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut s = stream(
        rows.into_iter(),
        fake(Arc::clone(&calls)),
        BatchOptions::default(),
        None,
        CancelToken::new(),
    )
    .expect("stream");
    while !matches!(s.next_timeout(Duration::from_secs(5)), StreamEvent::Item(_)) {}
    drop(s);
    std::thread::sleep(Duration::from_millis(100));
    let n = calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(calls.load(Ordering::SeqCst), n, "no lookups after the drop");
    assert!(n < 2_000);
}

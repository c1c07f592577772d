//! Retries and timeouts against the sandbox's fault injection, each with the
//! sandbox's counters as proof of how many attempts reached it. A lookup is
//! counted by IR (IR003) once it reaches IR, so it is sent again only when it
//! cannot have: no connection (a closed port), or refused before processing
//! (a load balancer's 503, a 429), up to the cap. A 502, a 504, PIR150, a
//! connection dropped after sending, a timeout waiting for the answer, a plain
//! 500, a truncated or malformed 200 body are reported after one attempt.

mod support;

use std::time::{Duration, Instant};

use nzpir::{Auth, Client, ErrorKind, PirRequest};
use nzpir_sandbox::{Fault, FaultKind, Profile, Sandbox, SandboxOptions};
use support::sandbox::{assert_error, builder, fast_retries, pie, rs256, start_with};

const IRD: &str = "139276507";

fn sandbox() -> Sandbox {
    // No IR003 here: the retries themselves are what is counted.
    start_with(
        SandboxOptions::default()
            .profile(Profile::Strict)
            .ir003_limit(0),
    )
}

fn client(sb: &Sandbox, retries: u32) -> Client {
    builder(sb)
        .auth(Auth::Jwt(rs256(sb.manifest(), None)))
        .retry_policy(fast_retries(retries))
        .build()
        .expect("client")
}

fn request(sb: &Sandbox) -> PirRequest {
    PirRequest::builder(IRD)
        .pie_ird(pie(sb.manifest(), "kowhai-scheme"))
        .build()
}

/// What the sandbox saw: requests that reached the PIR route, and those whose
/// body it read for our investor.
fn seen(sb: &Sandbox) -> (u64, u64) {
    (sb.stats().pir_requests, sb.pir_calls_for(IRD))
}

#[test]
fn refusals_before_processing_are_retried_up_to_the_cap() {
    for (fault, status) in [
        (Fault::status(503), 503u16),
        (
            Fault::new(FaultKind::Answer {
                status: 429,
                body: String::new(),
            }),
            429,
        ),
    ] {
        let sb = sandbox();
        let client = client(&sb, 2);
        let req = request(&sb);

        // Two refusals, then the answer: three attempts.
        sb.set_fault(fault.clone().times(2));
        let o = client.lookup(&req).expect("third attempt answers");
        assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), Some("28"));
        assert_eq!(seen(&sb), (3, 3), "{status}: 1 + 2 retries");
        assert_eq!(sb.stats().pir_responses.get(&status.to_string()), Some(&2));

        // Always refused: the cap (2 retries) ends it with the last error.
        sb.set_fault(fault);
        let e = client.lookup(&req).expect_err("still failing");
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(e.attempts(), 3);
        assert!(e.to_string().contains("after 3 attempts"), "{e}");
        assert_eq!(seen(&sb), (6, 6), "{status}: three more attempts, no more");
        assert_eq!(sb.stats().faults_applied, 5);
    }
}

#[test]
fn a_502_or_504_may_have_reached_ir_and_is_not_sent_again() {
    for status in [502u16, 504] {
        let sb = sandbox();
        let client = client(&sb, 2);
        sb.set_fault(Fault::status(status).times(1));
        let e = client.lookup(&request(&sb)).expect_err("gateway error");
        assert_error(&e, ErrorKind::Server, None, Some(status));
        assert_eq!(e.attempts(), 1, "{status}");
        assert!(e.is_retryable(), "a later call may succeed");
        assert!(!e.request_not_sent());
        assert_eq!(seen(&sb), (1, 1));
    }
}

#[test]
fn a_closed_port_is_retried_as_nothing_was_sent() {
    let port = support::free_port();
    let client = Client::builder()
        .endpoint(format!("https://127.0.0.1:{port}"))
        .retry_policy(fast_retries(2))
        .build()
        .expect("client");
    let e = client
        .lookup(&PirRequest::builder(IRD).build())
        .expect_err("nothing listens");
    assert_error(&e, ErrorKind::Transport, None, None);
    assert!(e.request_not_sent(), "{e}");
    assert_eq!(e.attempts(), 3);
}

#[test]
fn a_500_without_irs_body_is_not_retried() {
    let sb = sandbox();
    let client = client(&sb, 3);
    sb.set_fault(Fault::status(500));
    let e = client.lookup(&request(&sb)).expect_err("500");
    assert_error(&e, ErrorKind::Server, None, Some(500));
    assert_eq!(e.attempts(), 1);
    assert_eq!(seen(&sb), (1, 1));
}

#[test]
fn dropped_connections_are_not_sent_again() {
    let sb = sandbox();
    let client = client(&sb, 2);
    let req = request(&sb);

    // Closed once the head arrived, or after the request was read: the
    // client cannot tell whether IR processed it, so it reports, once.
    sb.set_fault(Fault::new(FaultKind::DropBeforeRead).times(1));
    let e = client.lookup(&req).expect_err("dropped");
    assert_error(&e, ErrorKind::Transport, None, None);
    assert_eq!(e.attempts(), 1);
    assert_eq!(seen(&sb), (1, 0));

    sb.set_fault(Fault::new(FaultKind::DropAfterProcess).times(1));
    let e = client.lookup(&req).expect_err("processed, answer lost");
    assert_error(&e, ErrorKind::Transport, None, None);
    assert_eq!(e.attempts(), 1);
    assert!(!e.request_not_sent());
    assert_eq!(seen(&sb), (2, 1), "IR counted it once, and only once");
    assert!(!e.to_string().contains(IRD), "{e}");

    // The next call answers on a new connection.
    assert!(client.lookup(&req).expect("answer").rate().is_some());
}

#[test]
fn pir150_is_not_sent_again() {
    let sb = sandbox();
    let client = client(&sb, 2);
    let req = request(&sb);

    sb.set_fault(Fault::new(FaultKind::Pir150).times(1));
    let e = client.lookup(&req).expect_err("PIR150");
    assert_error(&e, ErrorKind::Server, Some("PIR150"), Some(500));
    assert_eq!(e.attempts(), 1);
    assert_eq!(seen(&sb), (1, 1));
    assert_eq!(sb.stats().ir_codes.get("PIR150"), Some(&1));
}

#[test]
fn truncated_or_malformed_200_bodies_are_not_retried() {
    let sb = sandbox();
    let client = client(&sb, 3);
    let req = request(&sb);

    // IR processed the query (it counts towards IR003), so asking again is
    // not harmless: the error is reported, once.
    sb.set_fault(Fault::new(FaultKind::TruncatedBody).times(1));
    let e = client.lookup(&req).expect_err("truncated");
    assert_error(&e, ErrorKind::Server, None, Some(200));
    assert_eq!(e.attempts(), 1);
    assert!(!e.is_retryable());
    assert_eq!(seen(&sb), (1, 1));

    sb.set_fault(Fault::new(FaultKind::MalformedBody).times(1));
    let e = client.lookup(&req).expect_err("malformed");
    assert_error(&e, ErrorKind::Server, None, Some(200));
    assert_eq!(e.attempts(), 1);
    assert!(!e.to_string().contains(IRD), "{e}");
    assert_eq!(seen(&sb), (2, 2));

    // With the faults spent, the same client answers on a fresh connection.
    assert!(client.lookup(&req).expect("answer").rate().is_some());
    assert_eq!(seen(&sb), (3, 3));
}

#[test]
fn an_answer_about_another_investor_is_an_error_not_a_rate() {
    let sb = sandbox();
    let client = client(&sb, 3);
    let req = request(&sb);

    sb.set_fault(Fault::new(FaultKind::OtherInvestor).times(1));
    let e = client.lookup(&req).expect_err("someone else's answer");
    assert_error(&e, ErrorKind::Server, None, Some(200));
    assert!(e.to_string().contains("another investor"), "{e}");
    for n in [IRD, "049091850", "136410132", "125000002"] {
        assert!(!e.to_string().contains(n), "{e}");
        assert!(!format!("{e:?}").contains(n), "{e:?}");
    }
    // IR answered (the query counts), so it is reported once, not retried.
    assert_eq!(e.attempts(), 1);
    assert_eq!(seen(&sb), (1, 1));

    // The next answer is about the investor asked about, and is used.
    let o = client.lookup(&req).expect("answer");
    assert_eq!(o.ird(), IRD);
    assert_eq!(o.rate().map(|r| r.to_string()).as_deref(), Some("28"));
}

#[test]
fn a_slow_answer_is_a_timeout_and_is_not_sent_again() {
    let sb = sandbox();
    let req = request(&sb);
    // Generous: the retry below must answer within the same timeout on a
    // busy machine, with a new connection's handshake.
    let timeout = Duration::from_millis(1500);
    let delay = Duration::from_secs(6);

    let no_retry = builder(&sb)
        .auth(Auth::Jwt(rs256(sb.manifest(), None)))
        .retry_policy(fast_retries(0))
        .timeout(timeout)
        .build()
        .expect("client");
    sb.set_fault(Fault::delay(delay).times(1));
    let started = Instant::now();
    let e = no_retry.lookup(&req).expect_err("timeout");
    let took = started.elapsed();
    assert_error(&e, ErrorKind::Timeout, None, None);
    assert_eq!(e.attempts(), 1);
    assert!(e.is_retryable());
    assert!(took >= timeout, "gave up only after the timeout: {took:?}");
    assert!(took < delay, "did not wait for the slow answer: {took:?}");
    // The delay holds the request before its body is read, so only the route
    // counter has seen it yet.
    assert_eq!(sb.stats().pir_requests, 1);

    // IR may still be processing (and counting) it: even with retries
    // allowed, a lookup that timed out waiting for the answer is not sent again.
    let one_retry = builder(&sb)
        .auth(Auth::Jwt(rs256(sb.manifest(), None)))
        .retry_policy(fast_retries(1))
        .timeout(timeout)
        .build()
        .expect("client");
    sb.set_fault(Fault::delay(delay).times(1));
    let e = one_retry.lookup(&req).expect_err("timeout");
    assert_error(&e, ErrorKind::Timeout, None, None);
    assert_eq!(e.attempts(), 1);
    assert_eq!(sb.stats().pir_requests, 2, "one attempt for each call");
    sb.clear_faults();
}

/// A gateway's rate limit (429 with `Retry-After`): the wait it asks for is
/// kept, a lookup is tried again after it, and a bulk run pauses and then
/// answers every row.
#[test]
fn a_rate_limit_with_retry_after_is_waited_out() {
    let sb = sandbox();
    let req = request(&sb);
    // No retries: the error carries the gateway's wait.
    sb.set_fault(Fault::new(FaultKind::TooManyRequests { secs: Some(1) }).times(1));
    let e = client(&sb, 0).lookup(&req).expect_err("429");
    assert_error(&e, ErrorKind::RateLimited, None, Some(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert!(e.is_retryable());

    // With retries, the lookup is sent again no sooner than asked (within
    // the policy's longest wait, 8 s by default).
    sb.set_fault(Fault::new(FaultKind::TooManyRequests { secs: Some(1) }).times(1));
    let patient = builder(&sb)
        .auth(Auth::Jwt(rs256(sb.manifest(), None)))
        .retry_policy(nzpir::RetryPolicy::new(2).with_base_delay(Duration::from_millis(5)))
        .build()
        .expect("client");
    let started = Instant::now();
    let o = patient.lookup(&req).expect("answered after the wait");
    assert!(o.rate().is_some());
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "retried before Retry-After: {:?}",
        started.elapsed()
    );
    assert_eq!(sb.stats().pir_responses.get("429"), Some(&2));

    // A bulk run: two rows refused, then every row answered, none twice.
    let irds = ["139276507", "139276310", "139439976"];
    sb.set_fault(Fault::new(FaultKind::TooManyRequests { secs: Some(1) }).times(2));
    let c = client(&sb, 0);
    let scheme = pie(sb.manifest(), "kowhai-scheme");
    let rows = irds
        .iter()
        .map(|i| ((), Ok(PirRequest::builder(*i).pie_ird(&scheme).build())));
    let mut answers = Vec::new();
    let progress = nzpir::batch::run(
        rows,
        move |r: &PirRequest| c.lookup(r),
        &nzpir::batch::BatchOptions {
            concurrency: 2,
            ..nzpir::batch::BatchOptions::default()
        },
        None,
        &nzpir::batch::CancelToken::new(),
        |a| {
            answers.push(a.answer);
            Ok(())
        },
        |_| {},
    )
    .expect("run");
    assert_eq!(answers.len(), 3);
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, nzpir::batch::BatchAnswer::Rate(_))),
        "{answers:?}"
    );
    assert_eq!(progress.retried, 2);
    assert_eq!(sb.stats().pir_responses.get("429"), Some(&4));
}

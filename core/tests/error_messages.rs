//! Error messages are safe to log: whatever IR or a configuration holds, a
//! message and `Debug` never carry anything shaped like an IRD number (8 or
//! more digits, with or without `-` or space between them), which is what
//! `nzpir::error::scrub` removes and what log filters look for.
//!
//! Each case here was found by the fuzz targets in `fuzz/`.

use nzpir::{Error, ErrorKind, IrCode, IrErrorBody};

/// The longest run of digits, single `-` or space separators included.
fn longest_digit_run(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut best, mut run) = (0, 0);
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            best = usize::max(best, run);
        } else if !(matches!(c, b'-' | b' ')
            && run > 0
            && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            run = 0;
        }
    }
    best
}

#[track_caller]
fn assert_loggable(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            longest_digit_run(&text) < 8,
            "IRD-shaped digits in {text:?}"
        );
    }
}

#[test]
fn an_unknown_ir_code_is_scrubbed_in_the_message() {
    let body = IrErrorBody::parse(
        br#"{"errors":[{"code":"EV049091850","type":"security","message":"Authentication error"}]}"#,
    )
    .expect("an error body");
    let e = Error::from_ir(401, body);
    assert_loggable(&e);
    assert!(e.to_string().contains("[redacted]"), "{e}");
    // The code itself stays as IR sent it, for programs that look at it.
    let code = e.ir_code().expect("a code");
    assert_eq!(code, &IrCode::Other("EV049091850".into()));
    assert_eq!(code.as_str(), "EV049091850");
    assert_eq!(e.kind(), ErrorKind::Authentication);
}

#[test]
fn known_ir_codes_read_as_ir_spells_them() {
    for code in IrCode::KNOWN {
        assert_eq!(code.to_string(), code.as_str());
    }
    assert_eq!(IrCode::parse("EV9999").to_string(), "EV9999");
}

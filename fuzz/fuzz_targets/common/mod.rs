//! Checks shared by the targets.
#![allow(dead_code)]

/// The longest run of ASCII digits in `text`, counting single `-` or space
/// separators between digits as part of the run (`49-091-850` is 8 digits):
/// the shapes `nzpir::error::scrub` promises to remove.
pub fn longest_digit_run(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut best, mut run) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            run += 1;
            best = best.max(run);
        } else if matches!(b[i], b'-' | b' ')
            && run > 0
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            // A separator inside a run keeps it going.
        } else {
            run = 0;
        }
        i += 1;
    }
    best
}

/// Panics when `text` (an error message or `Debug` output meant for logs)
/// holds something shaped like an IRD number.
#[track_caller]
pub fn assert_no_ird_like(what: &str, text: &str) {
    assert!(
        longest_digit_run(text) < 8,
        "{what} holds a run of 8 or more digits: {text:?}"
    );
}

/// Every string value (not object keys) in a JSON document.
pub fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// Panics when `message` quotes one of the input's string values the way
/// serde does (`string "..."`): parse errors must not echo data.
#[track_caller]
pub fn assert_no_quoted_value(what: &str, message: &str, values: &[String]) {
    for v in values {
        let quoted = format!("{v:?}");
        assert!(
            !message.contains(&quoted),
            "{what} echoes the input value {quoted}: {message:?}"
        );
    }
}

/// The string values of `data` when it is a JSON document.
pub fn json_values(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        json_strings(&v, &mut out);
    }
    out
}

//! IRD numbers: strict and lenient parsing against a plain reference written
//! from IR's published rule and the documented lenient forms, plus the bulk
//! functions against the single one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nzpir::{IrdError, IrdNumber};

/// IR's rule, step by step, on a number.
fn reference_check(value: u64) -> Result<u32, IrdError> {
    if !(10_000_000..=200_000_000).contains(&value) {
        return Err(IrdError::OutOfRange);
    }
    let check = value % 10;
    let base = value / 10;
    let digits: Vec<u64> = format!("{base:08}")
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .collect();
    let weighted = |w: [u64; 8]| {
        let sum: u64 = digits.iter().zip(w).map(|(d, w)| d * w).sum();
        match sum % 11 {
            0 => 0,
            r => 11 - r,
        }
    };
    let mut computed = weighted([3, 2, 7, 6, 5, 4, 3, 2]);
    if computed == 10 {
        computed = weighted([7, 4, 3, 2, 5, 2, 7, 6]);
        if computed == 10 {
            return Err(IrdError::CheckDigit);
        }
    }
    if computed == check {
        Ok(value as u32)
    } else {
        Err(IrdError::CheckDigit)
    }
}

/// The wire form: 8 or 9 ASCII digits and nothing else.
fn reference_strict(b: &[u8]) -> Result<u32, IrdError> {
    if !b.iter().all(u8::is_ascii_digit) {
        return Err(IrdError::NotDigits);
    }
    if b.len() != 8 && b.len() != 9 {
        return Err(IrdError::WrongLength);
    }
    reference_check(
        std::str::from_utf8(b)
            .expect("digits")
            .parse()
            .expect("fits"),
    )
}

/// The lenient form: surrounding ASCII white space, then digits with single
/// `-` or space separators, each between two digits.
fn reference_lenient(b: &[u8]) -> Result<u32, IrdError> {
    let t = b.trim_ascii();
    let mut digits = Vec::new();
    for (i, &c) in t.iter().enumerate() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let between =
            i > 0 && t[i - 1].is_ascii_digit() && t.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !(matches!(c, b'-' | b' ') && between) {
            return Err(IrdError::NotDigits);
        }
    }
    if digits.len() != 8 && digits.len() != 9 {
        return Err(IrdError::WrongLength);
    }
    reference_strict(&digits)
}

fuzz_target!(|data: &[u8]| {
    let strict = IrdNumber::parse_bytes(data);
    assert_eq!(
        strict.map(IrdNumber::get),
        reference_strict(data),
        "strict {data:?}"
    );
    let lenient = IrdNumber::parse_lenient_bytes(data);
    assert_eq!(
        lenient.map(IrdNumber::get),
        reference_lenient(data),
        "lenient {data:?}"
    );
    if strict.is_ok() {
        assert_eq!(lenient, strict, "the wire form is also lenient");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        assert_eq!(IrdNumber::parse(s), strict);
        assert_eq!(IrdNumber::parse_lenient(s), lenient);
        assert_eq!(s.parse::<IrdNumber>(), lenient);
        assert_eq!(IrdNumber::is_valid(s), lenient.is_ok());
    }
    if let Ok(n) = lenient {
        let wire = n.to_string();
        assert_eq!(wire.as_bytes(), &n.to_digits()[..]);
        assert_eq!(IrdNumber::parse(&wire), Ok(n));
        assert_eq!(IrdNumber::from_u32(n.get()), Ok(n));
        assert!(
            !format!("{n:?}").contains(&wire[1..]),
            "Debug hides the number"
        );
    }
    // Bulk over the input's lines agrees with one at a time.
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let single: Vec<_> = lines
        .iter()
        .map(|l| IrdNumber::parse_lenient_bytes(l))
        .collect();
    assert_eq!(nzpir::ird::check_many(&lines), single);
    let flags: Vec<bool> = single.iter().map(Result::is_ok).collect();
    assert_eq!(nzpir::ird::validate_many(&lines), flags);
    let mut out = vec![false; lines.len()];
    assert_eq!(
        nzpir::ird::validate_into(&lines, &mut out),
        flags.iter().filter(|f| **f).count()
    );
    assert_eq!(out, flags);
    // A number parses exactly when IR's rule accepts it.
    if data.len() >= 4 {
        let v = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        assert_eq!(
            IrdNumber::from_u32(v).map(IrdNumber::get),
            reference_check(u64::from(v))
        );
    }
});

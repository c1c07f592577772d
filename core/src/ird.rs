//! IRD numbers: parsing, normalisation and Inland Revenue's modulus-11 check.
//!
//! The wire form is 9 ASCII digits; an 8-digit number is padded with a leading
//! zero. [`IrdNumber::parse`] accepts exactly that (strict), and
//! [`IrdNumber::parse_lenient`] also accepts what people type: `49-091-850`,
//! `049 091 850`, surrounding white space.
//!
//! The check follows IR's published rule:
//! 1. a number below 10,000,000 or above 200,000,000 is invalid (IR raised the
//!    ceiling from 150,000,000 on 1 April 2026; [`MIN_IRD`] and [`MAX_IRD`] are
//!    the one place the range lives);
//! 2. drop the check digit and left-pad the base to 8 digits;
//! 3. weights 3,2,7,6,5,4,3,2; remainder 0 gives check 0, else 11 - remainder;
//! 4. if that is 10, weights 7,4,3,2,5,2,7,6 the same way; 10 again is invalid;
//! 5. valid when the computed digit equals the last digit.

use std::fmt;
use std::str::FromStr;

/// The lowest IRD number IR issues.
pub const MIN_IRD: u32 = 10_000_000;
/// The highest IRD number IR's rule accepts: 200,000,000 since 1 April 2026
/// (it was 150,000,000 before; numbers above that are issued from then on).
pub const MAX_IRD: u32 = 200_000_000;

/// `"must be between 10,000,000 and 200,000,000"` and its NUL, built at
/// compile time from [`MIN_IRD`] and [`MAX_IRD`], so the limits are written
/// down once.
const RANGE_MESSAGE_NUL: [u8; RANGE_MESSAGE_LEN + 1] = range_message();
const RANGE_PREFIX: &[u8] = b"must be between ";
const RANGE_AND: &[u8] = b" and ";
const RANGE_MESSAGE_LEN: usize =
    RANGE_PREFIX.len() + grouped_len(MIN_IRD) + RANGE_AND.len() + grouped_len(MAX_IRD);
const RANGE_MESSAGE_C: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(&RANGE_MESSAGE_NUL) {
        Ok(s) => s,
        Err(_) => panic!("the range message has one NUL, at its end"),
    };

/// Digits of `n` with a comma between groups of three (`200,000,000` is 11).
const fn grouped_len(n: u32) -> usize {
    let mut digits = 1;
    let mut v = n / 10;
    while v > 0 {
        digits += 1;
        v /= 10;
    }
    digits + (digits - 1) / 3
}

/// Writes `n` with commas into `out` at `at`; returns the position after it.
const fn write_grouped(out: &mut [u8; RANGE_MESSAGE_LEN + 1], at: usize, n: u32) -> usize {
    let len = grouped_len(n);
    let mut i = len;
    let mut v = n;
    let mut written = 0;
    loop {
        i -= 1;
        out[at + i] = b'0' + (v % 10) as u8;
        v /= 10;
        written += 1;
        if v == 0 {
            break;
        }
        if written % 3 == 0 {
            i -= 1;
            out[at + i] = b',';
        }
    }
    at + len
}

const fn write_bytes(out: &mut [u8; RANGE_MESSAGE_LEN + 1], at: usize, b: &[u8]) -> usize {
    let mut i = 0;
    while i < b.len() {
        out[at + i] = b[i];
        i += 1;
    }
    at + b.len()
}

const fn range_message() -> [u8; RANGE_MESSAGE_LEN + 1] {
    let mut out = [0u8; RANGE_MESSAGE_LEN + 1];
    let at = write_bytes(&mut out, 0, RANGE_PREFIX);
    let at = write_grouped(&mut out, at, MIN_IRD);
    let at = write_bytes(&mut out, at, RANGE_AND);
    let at = write_grouped(&mut out, at, MAX_IRD);
    assert!(at == RANGE_MESSAGE_LEN);
    out
}

const PRIMARY_WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
const SECONDARY_WEIGHTS: [u32; 8] = [7, 4, 3, 2, 5, 2, 7, 6];

/// Why a string is not a valid IRD number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IrdError {
    /// Something other than digits (or, when lenient, `-` and space between digits).
    NotDigits,
    /// Not 8 or 9 digits.
    WrongLength,
    /// Below [`MIN_IRD`] or above [`MAX_IRD`] (10,000,000 to 200,000,000).
    OutOfRange,
    /// The check digit does not match IR's modulus-11 rule.
    CheckDigit,
}

impl IrdError {
    /// A stable, machine-readable code for the reason, shared by every binding.
    pub const fn code(self) -> &'static str {
        match self {
            IrdError::NotDigits => "ird_digits",
            IrdError::WrongLength => "ird_length",
            IrdError::OutOfRange => "ird_range",
            IrdError::CheckDigit => "ird_check_digit",
        }
    }

    /// The reason in words; it never repeats the input.
    pub const fn message(self) -> &'static str {
        match std::str::from_utf8(self.c_message().to_bytes()) {
            Ok(s) => s,
            Err(_) => "not a valid IRD number",
        }
    }

    /// [`message`](Self::message) as a NUL-terminated static string, for the
    /// C ABI and other foreign callers that need one.
    pub const fn c_message(self) -> &'static std::ffi::CStr {
        match self {
            IrdError::NotDigits => c"must contain only digits",
            IrdError::WrongLength => c"must be 8 or 9 digits",
            IrdError::OutOfRange => RANGE_MESSAGE_C,
            IrdError::CheckDigit => c"fails the modulus-11 check digit",
        }
    }

    /// A small integer for the reason (1..=4), used by the C ABI.
    pub const fn as_u8(self) -> u8 {
        match self {
            IrdError::NotDigits => 1,
            IrdError::WrongLength => 2,
            IrdError::OutOfRange => 3,
            IrdError::CheckDigit => 4,
        }
    }
}

impl fmt::Display for IrdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for IrdError {}

/// A valid IRD number (it passed the range and modulus-11 checks).
///
/// `Display` gives the 9-digit wire form; `Debug` never shows the number,
/// because IRD numbers are personal data.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IrdNumber(u32);

impl IrdNumber {
    /// Strict parse of the wire form: exactly 8 or 9 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, IrdError> {
        Self::parse_bytes(s.as_bytes())
    }

    /// Strict parse over bytes; allocation-free.
    #[inline]
    pub fn parse_bytes(b: &[u8]) -> Result<Self, IrdError> {
        let mut d = [0u8; 9];
        match b.len() {
            9 => d.copy_from_slice(b),
            8 => {
                d[0] = b'0';
                d[1..].copy_from_slice(b);
            }
            _ => {
                return Err(if b.iter().all(u8::is_ascii_digit) {
                    IrdError::WrongLength
                } else {
                    IrdError::NotDigits
                });
            }
        }
        let mut all_digits = true;
        for x in &mut d {
            *x = x.wrapping_sub(b'0');
            all_digits &= *x <= 9;
        }
        if !all_digits {
            return Err(IrdError::NotDigits);
        }
        Self::from_digits(&d)
    }

    /// Range and modulus-11 check over nine digit values (0..=9), most significant first.
    #[inline]
    fn from_digits(d: &[u8; 9]) -> Result<Self, IrdError> {
        let value = d.iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
        if !(MIN_IRD..=MAX_IRD).contains(&value) {
            return Err(IrdError::OutOfRange);
        }
        let base: &[u8; 8] = d.first_chunk().unwrap_or(&[0; 8]);
        if weighted_check(base) == Some(u32::from(d[8])) {
            Ok(IrdNumber(value))
        } else {
            Err(IrdError::CheckDigit)
        }
    }

    /// Lenient parse for human-entered data: surrounding white space is ignored
    /// and single `-` or space separators between digits are allowed
    /// (`49-091-850`, `049 091 850`). Anything else is rejected.
    pub fn parse_lenient(s: &str) -> Result<Self, IrdError> {
        Self::parse_lenient_bytes(s.as_bytes())
    }

    /// Lenient parse over bytes; allocation-free.
    #[inline]
    pub fn parse_lenient_bytes(b: &[u8]) -> Result<Self, IrdError> {
        // Fast path: the wire form.
        if b.len() == 9 || b.len() == 8 {
            match Self::parse_bytes(b) {
                Err(IrdError::NotDigits) => {}
                done => return done,
            }
        }
        let b = b.trim_ascii();
        let mut buf = [0u8; 9];
        let mut digits = 0usize;
        let mut prev_digit = false;
        for (i, &c) in b.iter().enumerate() {
            if c.is_ascii_digit() {
                if digits < 9 {
                    buf[digits] = c - b'0';
                }
                digits += 1;
                prev_digit = true;
            } else if (c == b'-' || c == b' ') && prev_digit {
                // A separator must sit between two digits.
                match b.get(i + 1) {
                    Some(n) if n.is_ascii_digit() => prev_digit = false,
                    _ => return Err(IrdError::NotDigits),
                }
            } else {
                return Err(IrdError::NotDigits);
            }
        }
        match digits {
            9 => Self::from_digits(&buf),
            8 => {
                buf.copy_within(0..8, 1);
                buf[0] = 0;
                Self::from_digits(&buf)
            }
            _ => Err(IrdError::WrongLength),
        }
    }

    /// Checks a number against IR's range and modulus-11 rule.
    #[inline]
    pub fn from_u32(value: u32) -> Result<Self, IrdError> {
        if !(MIN_IRD..=MAX_IRD).contains(&value) {
            return Err(IrdError::OutOfRange);
        }
        if check_digit(value / 10) == Some(value % 10) {
            Ok(IrdNumber(value))
        } else {
            Err(IrdError::CheckDigit)
        }
    }

    /// The number as an integer.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The 9-digit wire form, without allocating.
    pub fn to_digits(self) -> [u8; 9] {
        let mut out = [b'0'; 9];
        let mut v = self.0;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out
    }

    /// Returns true when `s` is a valid IRD number in strict or lenient form.
    #[inline]
    pub fn is_valid(s: &str) -> bool {
        Self::parse_lenient_bytes(s.as_bytes()).is_ok()
    }
}

/// The modulus-11 check digit for an 8-digit base, or `None` when IR's rule
/// gives 10 with both weight sets (no valid number has that base).
pub fn check_digit(base: u32) -> Option<u32> {
    let mut digits = [0u8; 8];
    let mut v = base;
    for d in digits.iter_mut().rev() {
        *d = (v % 10) as u8;
        v /= 10;
    }
    weighted_check(&digits)
}

#[inline]
fn weighted_check(digits: &[u8; 8]) -> Option<u32> {
    let weighted = |w: &[u32; 8]| {
        let mut sum = 0u32;
        for (d, w) in digits.iter().zip(w) {
            sum += u32::from(*d) * w;
        }
        match sum % 11 {
            0 => 0,
            r => 11 - r,
        }
    };
    match weighted(&PRIMARY_WEIGHTS) {
        10 => match weighted(&SECONDARY_WEIGHTS) {
            10 => None,
            c => Some(c),
        },
        c => Some(c),
    }
}

impl fmt::Display for IrdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.0)
    }
}

impl fmt::Debug for IrdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IrdNumber(<redacted>)")
    }
}

impl FromStr for IrdNumber {
    type Err = IrdError;
    fn from_str(s: &str) -> Result<Self, IrdError> {
        Self::parse_lenient(s)
    }
}

impl serde::Serialize for IrdNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IrdNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        IrdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Validates many strings at once (lenient form), writing one flag per input.
///
/// No allocation happens per item; `out` must be as long as `inputs`.
/// Returns the number of valid inputs.
///
/// # Panics
/// Never: a length mismatch only checks the shorter of the two.
pub fn validate_into<S: AsRef<[u8]>>(inputs: &[S], out: &mut [bool]) -> usize {
    let mut valid = 0;
    for (s, o) in inputs.iter().zip(out.iter_mut()) {
        *o = IrdNumber::parse_lenient_bytes(s.as_ref()).is_ok();
        valid += usize::from(*o);
    }
    valid
}

/// Validates many strings at once (lenient form); one allocation for the result.
pub fn validate_many<I>(inputs: I) -> Vec<bool>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    inputs
        .into_iter()
        .map(|s| IrdNumber::parse_lenient_bytes(s.as_ref()).is_ok())
        .collect()
}

/// Checks each string (lenient form) and reports the reason per item.
pub fn check_many<I>(inputs: I) -> Vec<Result<IrdNumber, IrdError>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    inputs
        .into_iter()
        .map(|s| IrdNumber::parse_lenient_bytes(s.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irs_worked_examples() {
        for ok in ["49091850", "35901981", "49098576", "136410132"] {
            assert!(IrdNumber::parse(ok).is_ok(), "{ok} should be valid");
        }
        assert_eq!(IrdNumber::parse("136410133"), Err(IrdError::CheckDigit));
        // 9125568 has 7 digits: the wire form rejects its length, and as a
        // number it is below IR's range.
        assert_eq!(IrdNumber::parse("9125568"), Err(IrdError::WrongLength));
        assert_eq!(IrdNumber::from_u32(9_125_568), Err(IrdError::OutOfRange));
    }

    #[test]
    fn secondary_weights_are_used() {
        // 49098576: the primary weights give 10, the secondary give 6.
        assert_eq!(check_digit(4_909_857), Some(6));
        assert_eq!(
            IrdNumber::parse("049098576").map(|n| n.get()),
            Ok(49_098_576)
        );
    }

    #[test]
    fn eight_digits_pad_to_nine() {
        let n = IrdNumber::parse("49091850").expect("valid");
        assert_eq!(n.to_string(), "049091850");
        assert_eq!(&n.to_digits(), b"049091850");
        assert_eq!(IrdNumber::parse("049091850"), Ok(n));
    }

    #[test]
    fn lenient_forms() {
        let n = IrdNumber::parse("049091850").expect("valid");
        for s in [
            "49-091-850",
            "049 091 850",
            "  049091850 ",
            "\t49091850\n",
            "049-091-850",
        ] {
            assert_eq!(IrdNumber::parse_lenient(s), Ok(n), "{s:?}");
        }
        for (s, e) in [
            ("49--091-850", IrdError::NotDigits),
            ("-49091850", IrdError::NotDigits),
            ("49091850-", IrdError::NotDigits),
            ("49.091.850", IrdError::NotDigits),
            ("49_091_850", IrdError::NotDigits),
            ("", IrdError::WrongLength),
            ("   ", IrdError::WrongLength),
            ("1234567", IrdError::WrongLength),
            ("1234567890", IrdError::WrongLength),
            ("١٢٣٤٥٦٧٨٩", IrdError::NotDigits),
        ] {
            assert_eq!(IrdNumber::parse_lenient(s), Err(e), "{s:?}");
        }
        // Strict parse does not accept the human forms.
        assert_eq!(IrdNumber::parse("49-091-850"), Err(IrdError::NotDigits));
        assert_eq!(IrdNumber::parse(" 49091850"), Err(IrdError::NotDigits));
    }

    #[test]
    fn reasons() {
        assert_eq!(IrdNumber::parse("12345678a"), Err(IrdError::NotDigits));
        assert_eq!(IrdNumber::parse("1234567890"), Err(IrdError::WrongLength));
        assert_eq!(
            IrdNumber::parse("99999999999999999999"),
            Err(IrdError::WrongLength)
        );
        assert_eq!(IrdNumber::parse("009999999"), Err(IrdError::OutOfRange));
        assert_eq!(IrdNumber::parse("200000001"), Err(IrdError::OutOfRange));
        assert_eq!(IrdNumber::parse("200000010"), Err(IrdError::OutOfRange));
        // Valid since 1 April 2026, when IR raised the ceiling.
        assert_eq!(
            IrdNumber::parse("150000009").map(IrdNumber::get),
            Ok(150_000_009)
        );
        assert_eq!(
            IrdNumber::parse("199999990").map(IrdNumber::get),
            Ok(199_999_990)
        );
        assert_eq!(IrdNumber::parse("150000010"), Err(IrdError::CheckDigit));
        assert_eq!(IrdNumber::parse("999999999"), Err(IrdError::OutOfRange));
    }

    #[test]
    fn range_bounds_inclusive() {
        // Both bounds are inside the range; whether they pass depends on the check digit.
        assert_ne!(IrdNumber::from_u32(MIN_IRD), Err(IrdError::OutOfRange));
        assert_ne!(IrdNumber::from_u32(MAX_IRD), Err(IrdError::OutOfRange));
        assert_eq!(IrdNumber::from_u32(MIN_IRD - 1), Err(IrdError::OutOfRange));
        assert_eq!(IrdNumber::from_u32(MAX_IRD + 1), Err(IrdError::OutOfRange));
    }

    #[test]
    fn the_range_message_is_built_from_the_limits() {
        assert_eq!(
            IrdError::OutOfRange.message(),
            "must be between 10,000,000 and 200,000,000"
        );
        assert_eq!(
            IrdError::OutOfRange.c_message().to_str(),
            Ok(IrdError::OutOfRange.message())
        );
        for e in [
            IrdError::NotDigits,
            IrdError::WrongLength,
            IrdError::OutOfRange,
            IrdError::CheckDigit,
        ] {
            assert_eq!(e.c_message().to_str(), Ok(e.message()));
        }
    }

    #[test]
    fn debug_hides_the_number() {
        let n = IrdNumber::parse("49091850").expect("valid");
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("49091850"), "{dbg}");
    }

    #[test]
    fn bulk_matches_single() {
        let inputs = ["49091850", "136410133", "49-091-850", "x", "136410132"];
        let expected: Vec<bool> = inputs.iter().map(|s| IrdNumber::is_valid(s)).collect();
        assert_eq!(validate_many(inputs), expected);
        let mut out = [false; 5];
        assert_eq!(validate_into(&inputs, &mut out), 3);
        assert_eq!(&out[..], &expected[..]);
        let reasons = check_many(inputs);
        assert_eq!(reasons[1], Err(IrdError::CheckDigit));
        assert_eq!(reasons[3], Err(IrdError::NotDigits));
    }
}

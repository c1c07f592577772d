//! IRD numbers: single checks, normalisation and the bulk check.

use nzpir::IrdNumber;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::errors::{self, type_error};

/// Whether `s` is a valid IRD number (8 or 9 digits, `49-091-850` and
/// `049 091 850` forms accepted, IR's range and modulus-11 check).
#[pyfunction]
pub(crate) fn is_valid_ird(s: &str) -> bool {
    IrdNumber::is_valid(s)
}

/// The 9-digit wire form of a valid IRD number (`"49-091-850"` gives
/// `"049091850"`). Raises `InvalidIrdError` with the `reason` otherwise.
#[pyfunction]
pub(crate) fn normalise_ird(py: Python<'_>, s: &str) -> PyResult<String> {
    IrdNumber::parse_lenient(s)
        .map(|n| n.to_string())
        .map_err(|reason| errors::invalid_ird(py, "ird", reason))
}

/// Deprecated: `normalise_ird`, the spelling every nzpir surface uses.
#[pyfunction]
pub(crate) fn normalize_ird(py: Python<'_>, s: &str) -> PyResult<String> {
    crate::oauth::deprecated(py, "nzpir.normalize_ird()", "nzpir.normalise_ird()")?;
    normalise_ird(py, s)
}

/// `is_valid_ird` for every item of an iterable of strings, as a list of
/// bools in the same order.
///
/// One pass with the GIL held: each item's UTF-8 is borrowed from the `str`
/// itself (CPython caches it; for the ASCII strings IRD numbers are, it is the
/// string's own buffer) and checked at once. Collecting owned references
/// first, to check them with the GIL released, cost several times the check
/// (about 12 ns a number); a list of a million numbers holds the GIL for
/// tens of milliseconds, as a list comprehension would.
#[pyfunction]
pub(crate) fn valid_irds<'py>(
    py: Python<'py>,
    irds: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    if irds.is_instance_of::<PyString>() {
        return Err(type_error(
            "irds",
            "an iterable of str (not a single str)",
            irds,
        ));
    }
    let check = |i: usize, item: &Bound<'py, PyAny>| -> PyResult<bool> {
        match item.cast::<PyString>() {
            // A lone surrogate has no UTF-8: not an IRD number either.
            Ok(s) => Ok(utf8(s).is_some_and(|b| IrdNumber::parse_lenient_bytes(b).is_ok())),
            Err(_) => Err(type_error(&format!("irds[{i}]"), "str", item)),
        }
    };
    let mut out: Vec<bool> = Vec::with_capacity(irds.len().unwrap_or(0));
    if let Ok(list) = irds.cast::<PyList>() {
        for (i, item) in list.iter().enumerate() {
            out.push(check(i, &item)?);
        }
    } else {
        let iter = irds
            .try_iter()
            .map_err(|_| type_error("irds", "an iterable of str", irds))?;
        for (i, item) in iter.enumerate() {
            out.push(check(i, &item?)?);
        }
    }
    PyList::new(py, out)
}

// `PyUnicode_AsUTF8AndSize`: in CPython's C API since 3.3 and in its stable
// ABI since 3.10. pyo3 offers it to abi3-py39 builds only as an encoded copy
// (a new `bytes` per string, most of `valid_irds`' time), so it is declared
// here; every CPython this package supports exports it.
unsafe extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::ffi::c_char;
}

/// The UTF-8 of a `str`, borrowed from the string (CPython caches it with the
/// string; an ASCII string's is its own buffer). `None` for a string with a
/// lone surrogate (the `UnicodeEncodeError` is cleared).
fn utf8<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a [u8]> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` and the GIL is held; the buffer belongs to
    // the string, which outlives the borrow `'a`.
    let p = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if p.is_null() {
        drop(PyErr::take(s.py()));
        return None;
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: CPython returns `size` bytes at `p`, valid while `s` lives.
    Some(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

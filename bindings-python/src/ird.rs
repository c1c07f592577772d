//! IRD numbers: single checks, normalisation and the bulk check.

use nzpir::IrdNumber;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyString;

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
pub(crate) fn normalize_ird(py: Python<'_>, s: &str) -> PyResult<String> {
    IrdNumber::parse_lenient(s)
        .map(|n| n.to_string())
        .map_err(|reason| errors::invalid_ird(py, "ird", reason))
}

/// `is_valid_ird` for every item of an iterable of strings, as a list of
/// bools in the same order. The strings are collected first, then checked
/// with the GIL released.
#[pyfunction]
pub(crate) fn valid_irds(py: Python<'_>, irds: &Bound<'_, PyAny>) -> PyResult<Vec<bool>> {
    if irds.is_instance_of::<PyString>() {
        return Err(type_error(
            "irds",
            "an iterable of str (not a single str)",
            irds,
        ));
    }
    let iter = irds
        .try_iter()
        .map_err(|_| type_error("irds", "an iterable of str", irds))?;
    let mut items: Vec<PyBackedStr> = Vec::with_capacity(irds.len().unwrap_or(0));
    for (i, item) in iter.enumerate() {
        let item = item?;
        match item.extract::<PyBackedStr>() {
            Ok(s) => items.push(s),
            Err(_) => return Err(type_error(&format!("irds[{i}]"), "str", &item)),
        }
    }
    let mut out = vec![false; items.len()];
    py.detach(|| nzpir::ird::validate_into(&items, &mut out));
    Ok(out)
}

//! Argument conversion: Python values into what the core takes. Every failure
//! names the argument.

use std::path::PathBuf;

use nzpir::{DateText, PeriodText};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyInt, PyString, PyType};

use crate::errors::type_error;

/// A file path: `str` or `os.PathLike`.
pub(crate) fn path_arg(argument: &str, obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        let fs = obj.py().import("os")?.call_method1("fspath", (obj,))?;
        if let Ok(s) = fs.cast::<PyString>() {
            return Ok(PathBuf::from(s.to_cow()?.into_owned()));
        }
    }
    Err(type_error(
        argument,
        "a path (str or os.PathLike) or PEM bytes",
        obj,
    ))
}

/// An optional `str` argument; `None` is absent.
pub(crate) fn opt_str(argument: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => match o.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => Err(type_error(argument, "str", o)),
        },
    }
}

static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A filing period argument: a year (`int`), or what [`date_arg`] takes.
/// The core reads each form ([`nzpir::PeriodText`]).
pub(crate) fn period_arg(
    argument: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<PeriodText>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        // A year too large for i64 is as wrong as any other out of range.
        let year = obj.extract::<i64>().unwrap_or(i64::MAX);
        return Ok(Some(PeriodText::year(year)));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(PeriodText::text(s.to_cow()?.into_owned())));
    }
    date_arg_or(
        argument,
        obj,
        "int (a year), datetime.date or a yyyy-MM-dd str",
    )
    .map(|d| d.map(PeriodText::from))
}

/// A date argument: `datetime.date` or a `yyyy-MM-dd` string (checked by the
/// core's validation, which names the field). A `datetime.datetime` is refused
/// rather than silently cut to its date.
pub(crate) fn date_arg(
    argument: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<DateText>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(DateText::from(s.to_cow()?.into_owned())));
    }
    date_arg_or(argument, obj, "datetime.date or a yyyy-MM-dd str")
}

fn date_arg_or(
    argument: &str,
    obj: &Bound<'_, PyAny>,
    expected: &str,
) -> PyResult<Option<DateText>> {
    let py = obj.py();
    let datetime = DATETIME.import(py, "datetime", "datetime")?;
    let date = DATE.import(py, "datetime", "date")?;
    if obj.is_instance(datetime)? {
        return Err(type_error(
            argument,
            &format!("{expected} (pass a datetime's .date())"),
            obj,
        ));
    }
    if obj.is_instance(date)? {
        let year: i32 = obj.getattr("year")?.extract()?;
        let month: u8 = obj.getattr("month")?.extract()?;
        let day: u8 = obj.getattr("day")?.extract()?;
        return Ok(Some(DateText::from_ymd(year, month, day)));
    }
    Err(type_error(argument, expected, obj))
}

/// `decimal.Decimal` from exact decimal text.
pub(crate) fn decimal<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    DECIMAL.import(py, "decimal", "Decimal")?.call1((text,))
}

/// A mapping argument (`dict`) as `(key, value)` string pairs, refusing keys
/// outside `allowed` and values that are not `str` or `None`.
pub(crate) fn str_mapping(
    argument: &str,
    obj: &Bound<'_, PyAny>,
    allowed: &[&str],
) -> PyResult<Vec<(String, Option<String>)>> {
    let dict = obj.cast::<PyDict>().map_err(|_| {
        type_error(
            argument,
            &format!("a dict with keys {}", allowed.join(", ")),
            obj,
        )
    })?;
    let mut out = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        let key: String = k
            .extract()
            .map_err(|_| type_error(&format!("{argument} key"), "str", &k))?;
        if !allowed.contains(&key.as_str()) {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "{argument}: unknown key {}; expected {}",
                quote(&key),
                allowed.join(", ")
            )));
        }
        let value = opt_str(&format!("{argument}[{}]", quote(&key)), Some(&v))?;
        out.push((key, value));
    }
    Ok(out)
}

/// `s` quoted as Python's `repr()` of a str would (for reprs of our classes).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

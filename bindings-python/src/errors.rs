//! The one exception tree, and the one place nzpir's errors become Python
//! exceptions.
//!
//! Every class derives from `nzpir.NzpirError`. Some also derive from the
//! builtin a Python programmer would reach for: `InvalidInputError` is a
//! `ValueError`, `GatewayTimeoutError` a `TimeoutError`. Multiple bases are
//! why the classes are made with `type(name, bases, namespace)` at import
//! rather than with `create_exception!` (one base only).
//!
//! Each class carries class-level defaults (`kind`, `ir_code`, `http_status`,
//! `attempts`), which a raised instance overrides. Messages are the core's
//! `Display`: they name fields, settings and IR's codes, never secrets or
//! personal data.

use std::error::Error as _;

use nzpir::{ErrorKind, FieldError, Rule};
use pyo3::exceptions::{PyException, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

/// The classes, made once per interpreter.
pub(crate) struct Classes {
    pub base: Py<PyType>,
    /// One per [`ErrorKind`], in the order of [`ErrorKind::ALL`].
    pub by_kind: Vec<Py<PyType>>,
    pub invalid_ird: Py<PyType>,
    pub sandbox: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Python class name and docstring for each kind: the core's table
/// ([`ErrorKind::contract`]), with the Python-only notes.
fn describe(kind: ErrorKind) -> (&'static str, String) {
    let c = kind.contract();
    let extra = match kind {
        ErrorKind::InvalidInput => {
            " `errors` (also `field_errors`) lists every violation as {field, rule, message}."
        }
        ErrorKind::Timeout => " Also a builtin TimeoutError.",
        ErrorKind::TokenStore => " The store's own exception, if any, is the __cause__.",
        _ => "",
    };
    (c.python_class, format!("{}{extra}", c.summary))
}

fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    doc: &str,
    bases: Vec<Bound<'py, PyAny>>,
    kind: &str,
    extra: &[(&str, Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "nzpir")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("kind", kind)?;
    ns.set_item("ir_code", py.None())?;
    ns.set_item("http_status", py.None())?;
    ns.set_item("attempts", 0)?;
    ns.set_item("setting", py.None())?;
    ns.set_item("retryable", false)?;
    ns.set_item("ir_errors", PyList::empty(py))?;
    ns.set_item("field_errors", PyList::empty(py))?;
    for (k, v) in extra {
        ns.set_item(*k, v)?;
    }
    let bases = PyTuple::new(py, bases)?;
    let cls = py.get_type::<PyType>().call1((name, bases, ns))?;
    Ok(cls.cast_into::<PyType>()?)
}

fn build(py: Python<'_>) -> PyResult<Classes> {
    let base = make_class(
        py,
        "NzpirError",
        "The base of every nzpir error. `kind` is a stable name (`invalid_input`, \
         `authentication`, ...); `ir_code` is IR's code (`EV1041`, ...) of the first of \
         `ir_errors` (every error IR listed, as {code, type, message, field}) and \
         `http_status` the HTTP status when the gateway answered; `retryable` says whether \
         trying again later may succeed; `attempts` counts calls made; `field_errors` lists \
         every broken rule of invalid input as {field, rule, message}.",
        vec![py.get_type::<PyException>().into_any()],
        "error",
        &[],
    )?;
    let mut by_kind = Vec::with_capacity(ErrorKind::ALL.len());
    let mut invalid_input = None;
    for kind in ErrorKind::ALL {
        let (name, doc) = describe(kind);
        let mut bases = vec![base.clone().into_any()];
        let mut extra = Vec::new();
        match kind {
            ErrorKind::InvalidInput => {
                bases.push(py.get_type::<PyValueError>().into_any());
                extra.push(("errors", PyList::empty(py).into_any()));
            }
            ErrorKind::Timeout => bases.push(py.get_type::<PyTimeoutError>().into_any()),
            // A setting with a wrong value is a ValueError too, as Python's
            // own argument checks raise.
            ErrorKind::Config => bases.push(py.get_type::<PyValueError>().into_any()),
            _ => {}
        }
        let cls = make_class(py, name, &doc, bases, kind.as_str(), &extra)?;
        if kind == ErrorKind::InvalidInput {
            invalid_input = Some(cls.clone());
        }
        by_kind.push(cls.unbind());
    }
    let invalid_input = invalid_input.ok_or_else(|| {
        pyo3::exceptions::PyRuntimeError::new_err("ErrorKind::ALL lacks InvalidInput")
    })?;
    let invalid_ird = make_class(
        py,
        "InvalidIrdError",
        "An IRD number is not valid. `reason` is a stable code (`ird_digits`, \
         `ird_length`, `ird_range`, `ird_check_digit`).",
        vec![invalid_input.into_any()],
        ErrorKind::InvalidInput.as_str(),
        &[
            ("errors", PyList::empty(py).into_any()),
            ("reason", "ird".into_pyobject(py)?.into_any()),
        ],
    )?;
    let sandbox = make_class(
        py,
        "SandboxError",
        "The sandbox could not start or was given a bad option.",
        vec![base.clone().into_any()],
        "sandbox",
        &[],
    )?;
    Ok(Classes {
        base: base.unbind(),
        by_kind,
        invalid_ird: invalid_ird.unbind(),
        sandbox: sandbox.unbind(),
    })
}

pub(crate) fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || build(py))
}

/// Adds every class to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    let mut all = vec![&c.base, &c.invalid_ird, &c.sandbox];
    all.extend(c.by_kind.iter());
    for cls in all {
        let cls = cls.bind(py);
        m.add(cls.name()?, cls)?;
    }
    Ok(())
}

fn class_for(py: Python<'_>, kind: ErrorKind) -> PyResult<Bound<'_, PyType>> {
    let c = classes(py)?;
    let cls = ErrorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| c.by_kind.get(i))
        .unwrap_or(&c.base);
    Ok(cls.bind(py).clone())
}

/// `{field, rule, message}` for one violation.
fn field_error_dict<'py>(py: Python<'py>, fe: &FieldError) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("field", fe.field)?;
    d.set_item("rule", fe.rule.code())?;
    d.set_item("message", fe.message())?;
    Ok(d)
}

fn build_exception<'py>(py: Python<'py>, e: &nzpir::Error) -> PyResult<Bound<'py, PyAny>> {
    let fields = e.field_errors();
    let all_ird = !fields.is_empty() && fields.iter().all(|f| matches!(f.rule, Rule::Ird(_)));
    let cls = if e.kind() == ErrorKind::InvalidInput && all_ird {
        classes(py)?.invalid_ird.bind(py).clone()
    } else {
        class_for(py, e.kind())?
    };
    // Settings are named as Python's keywords (`key`, not `tls.client_key`).
    let exc = cls.call1((e.message_for(nzpir::Surface::Python),))?;
    exc.setattr("kind", e.kind().as_str())?;
    exc.setattr("setting", e.setting_name(nzpir::Surface::Python))?;
    exc.setattr("ir_code", e.ir_code().map(|c| c.as_str()))?;
    exc.setattr("http_status", e.http_status())?;
    exc.setattr("attempts", e.attempts())?;
    exc.setattr("retryable", e.is_retryable())?;
    let ir_errors = PyList::empty(py);
    for item in e.ir_errors() {
        let d = PyDict::new(py);
        d.set_item("code", item.code.as_str())?;
        d.set_item("type", &item.error_type)?;
        d.set_item("message", &item.message)?;
        d.set_item("field", item.field())?;
        ir_errors.append(d)?;
    }
    exc.setattr("ir_errors", ir_errors)?;
    let list = PyList::empty(py);
    for fe in fields {
        list.append(field_error_dict(py, fe)?)?;
    }
    exc.setattr("field_errors", &list)?;
    if e.kind() == ErrorKind::InvalidInput {
        exc.setattr("errors", list)?;
        if all_ird {
            exc.setattr("reason", fields[0].rule.code())?;
        }
    }
    // A host callback's own exception (e.g. from a token store) is the cause.
    if let Some(cause) = e.source().and_then(|s| s.downcast_ref::<PyErr>()) {
        exc.setattr("__cause__", cause.value(py))?;
    }
    Ok(exc)
}

/// nzpir's error as an instance of the matching exception class (for
/// results that carry an error rather than raise it).
pub(crate) fn exception<'py>(py: Python<'py>, e: &nzpir::Error) -> PyResult<Bound<'py, PyAny>> {
    build_exception(py, e)
}

/// nzpir's error as the matching Python exception.
pub(crate) fn to_py(e: nzpir::Error) -> PyErr {
    // A setting given a value of the wrong type is Python's TypeError.
    // It carries `setting` like nzpir's own errors.
    if e.is_wrong_type() {
        return Python::attach(|py| {
            let exc = pyo3::exceptions::PyTypeError::new_err(
                e.message_for(nzpir::Surface::Python).into_owned(),
            );
            let named = exc
                .value(py)
                .setattr("setting", e.setting_name(nzpir::Surface::Python));
            match named {
                Ok(()) => exc,
                Err(err) => err,
            }
        });
    }
    Python::attach(|py| match build_exception(py, &e) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    })
}

/// `InvalidIrdError` for an argument that is not a valid IRD number.
pub(crate) fn invalid_ird(
    py: Python<'_>,
    argument: &'static str,
    reason: nzpir::IrdError,
) -> PyErr {
    let fe = FieldError::new(argument, Rule::Ird(reason));
    let build = || -> PyResult<Bound<'_, PyAny>> {
        let cls = classes(py)?.invalid_ird.bind(py);
        let exc = cls.call1((format!("invalid input: {fe}"),))?;
        exc.setattr("kind", ErrorKind::InvalidInput.as_str())?;
        exc.setattr("reason", reason.code())?;
        let list = PyList::new(py, [field_error_dict(py, &fe)?])?;
        exc.setattr("field_errors", &list)?;
        exc.setattr("errors", list)?;
        Ok(exc)
    };
    match build() {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// `SandboxError` with the sandbox's message (it names files and settings only).
pub(crate) fn sandbox(py: Python<'_>, message: String) -> PyErr {
    let build = || -> PyResult<Bound<'_, PyAny>> {
        let cls = classes(py)?.sandbox.bind(py);
        cls.call1((message,))
    };
    match build() {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// `ValueError`/`TypeError` helpers for arguments, naming the argument.
pub(crate) fn type_error(argument: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let type_name = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned());
    pyo3::exceptions::PyTypeError::new_err(format!(
        "{argument}: expected {expected}, got {type_name}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_class_of_its_own() {
        let names: std::collections::HashSet<&str> =
            ErrorKind::ALL.iter().map(|k| describe(*k).0).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        // A kind added to the core without a class here would fall back to
        // the base class; this test names it.
        assert!(!names.contains("NzpirError"));
        for k in ErrorKind::ALL {
            let (name, doc) = describe(k);
            assert!(name.ends_with("Error") && !doc.is_empty(), "{k}");
            assert_eq!(name, k.contract().python_class);
        }
    }
}

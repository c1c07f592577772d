//! `estimate_pir(facts)`: the core's PIR estimator. The facts mapping is
//! turned into the core's JSON facts (amounts as exact decimal text) and the
//! core does the rest, including every field error.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType};
use serde_json::{Map, Value};

use crate::convert;
use crate::errors::{to_py, type_error};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A Python value as JSON. Decimals become their exact text (never a float);
/// a float becomes its shortest round-trip text, as JSON numbers do.
fn to_json(path: &str, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > 8 {
        return Err(PyTypeError::new_err(format!("{path}: nested too deeply")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(i) => Value::from(i),
            // Too large for a number: the core refuses it by its rule.
            Err(_) => Value::from(obj.str()?.to_cow()?.into_owned()),
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::from(s.to_cow()?.into_owned()));
    }
    let decimal = DECIMAL.import(obj.py(), "decimal", "Decimal")?;
    if obj.is_instance(decimal)? {
        // format(d, "f") never uses an exponent (Decimal("4.8E+4") -> "48000").
        let text: String = obj
            .py()
            .import("builtins")?
            .call_method1("format", (obj, "f"))?
            .extract()?;
        return Ok(Value::from(text));
    }
    // A filing period as datetime.date (a datetime is refused, as in lookups).
    let date = DATE.import(obj.py(), "datetime", "date")?;
    if obj.is_instance(date)? {
        return Ok(
            convert::date_arg(path, Some(obj))?.map_or(Value::Null, |d| Value::from(d.as_str()))
        );
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let text: String = f.repr()?.extract()?;
        return Ok(Value::from(text));
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        let mut out = Map::new();
        for item in m.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let key: String = k
                .extract()
                .map_err(|_| type_error(&format!("{path} key"), "str", &k))?;
            let value = to_json(&format!("{path}[{}]", convert::quote(&key)), &v, depth + 1)?;
            out.insert(key, value);
        }
        return Ok(Value::Object(out));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            out.push(to_json(&format!("{path}[{i}]"), &item?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    Err(type_error(
        path,
        "a mapping, list, str, int, Decimal, bool or None",
        obj,
    ))
}

/// An explained PIR estimate.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct PirEstimate {
    inner: nzpir::PirEstimate,
}

#[pymethods]
impl PirEstimate {
    /// The rate as an exact `Decimal` (0, 10.5, 17.5 or 28), or `None` when
    /// the facts are not enough (see `missing`).
    #[getter]
    fn rate<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .rate
            .map(|r| convert::decimal(py, &r.to_string()))
            .transpose()
    }

    /// The rule that decided it (`resident_individual`, `non_resident`,
    /// `notified_foreign_investor`, `transitional_resident_zero_rate`,
    /// `zero_rate_entity`, `trustee_election`, `cannot_estimate`).
    #[getter]
    fn rule(&self) -> &'static str {
        self.inner.rule.id()
    }

    /// Why, in words: which PIR year, which income year, which threshold row.
    #[getter]
    fn explanation(&self) -> &str {
        &self.inner.explanation
    }

    /// The facts that are missing (keys of the facts) when it cannot estimate.
    #[getter]
    fn missing(&self) -> Vec<&'static str> {
        self.inner.missing.clone()
    }

    /// The PIR year the estimate is for, when the facts gave one.
    #[getter]
    fn pir_year(&self) -> Option<i32> {
        self.inner.pir_year
    }

    /// The income year that decided the rate (resident individuals).
    #[getter]
    fn decided_by_year(&self) -> Option<i32> {
        self.inner.decided_by_year
    }

    fn __repr__(&self) -> String {
        let rate = match self.inner.rate {
            Some(r) => format!("Decimal('{r}')"),
            None => "None".to_owned(),
        };
        format!("PirEstimate(rate={rate}, rule='{}')", self.inner.rule.id())
    }
}

/// Estimates an investor's PIR from their facts by IR's published rules.
///
/// `facts` is a mapping with snake_case keys: `pir_year` or `filing_period`,
/// `investor_type`, `residency`, `trustee_election`, `zero_rate_pie`,
/// `notified_foreign_investor` and `income`, a list of mappings with `year`,
/// `taxable_income` and `pie_income` (`Decimal`, `int` or decimal `str`).
/// Bad facts raise `InvalidInputError` whose `.errors` name each field and rule.
#[pyfunction]
pub(crate) fn estimate_pir(facts: &Bound<'_, PyAny>) -> PyResult<PirEstimate> {
    if facts.cast::<PyMapping>().is_err() {
        return Err(type_error("facts", "a mapping", facts));
    }
    let value = to_json("facts", facts, 0)?;
    nzpir::PirFacts::from_json_value(&value)
        .map(|f| PirEstimate {
            inner: nzpir::estimate_pir(&f),
        })
        .map_err(to_py)
}

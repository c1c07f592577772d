//! `Client.lookup_many` and `Client.iter_lookup_many`: the core's streaming
//! batch runner (`nzpir::batch`) behind a list and an iterator.
//!
//! The runner works on threads of its own; the caller's thread waits for each
//! answer with the GIL released, in slices of 50 ms, between which it checks
//! for signals (Ctrl-C raises `KeyboardInterrupt` and cancels the run) and
//! calls `on_progress`. Requests are converted to the core's model here;
//! everything else is the core's.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nzpir::PirRequest;
use nzpir::batch::{
    self, Answered, BatchInput, BatchOptions, BatchStream, CancelToken, Journal, Progress,
    StreamEvent,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyIterator, PyMapping, PyString};
use pyo3::{IntoPyObjectExt, sync::PyOnceLock, types::PyType};

use crate::client::{LookupResult, REQUEST_KEYS, RequestArgs, request};
use crate::errors;

/// What each item carries to its answer: the request's IRD numbers (for the
/// `LookupResult`).
type Payload = (String, Option<String>);

/// How long the caller's thread waits without the GIL before it checks for
/// signals again.
const SLICE: Duration = Duration::from_millis(50);
/// How often `on_progress` is called at most (and once at the end).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A value that stands for "no value" in a record: `None`, or a float NaN
/// (what pandas puts in an empty cell of `df.to_dict("records")`).
fn is_missing(v: &Bound<'_, PyAny>) -> bool {
    v.is_none()
        || v.cast::<PyFloat>()
            .map(|f| f.value().is_nan())
            .unwrap_or(false)
}

/// One mapping of `requests` as the core's input: a request, or the reason
/// the core refuses to make one (an item-level error). A wrong type raises
/// `TypeError` naming the item's index and field.
fn item(index: usize, obj: &Bound<'_, PyAny>) -> PyResult<(Payload, BatchInput)> {
    let py = obj.py();
    let mapping = obj.cast::<PyMapping>().map_err(|_| {
        errors::type_error(
            &format!("requests[{index}]"),
            "a mapping with lookup()'s keyword names (ird, pie_ird, ...)",
            obj,
        )
    })?;
    let mut values: [Option<Bound<'_, PyAny>>; 8] = Default::default();
    for key in mapping.keys()?.iter() {
        let Ok(name) = key.cast::<PyString>() else {
            return Err(errors::type_error(
                &format!("requests[{index}] key"),
                "str",
                &key,
            ));
        };
        let name = name.to_cow()?;
        let Some(slot) = REQUEST_KEYS.iter().position(|k| *k == name) else {
            return Err(PyTypeError::new_err(format!(
                "requests[{index}]: unknown key {}; expected {}",
                crate::convert::quote(&name),
                REQUEST_KEYS.join(", ")
            )));
        };
        let mut v = mapping.get_item(&key)?;
        if is_missing(&v) {
            continue;
        }
        // A date column read by pandas is a Timestamp at midnight: its date.
        if matches!(REQUEST_KEYS[slot], "filing_period" | "dob")
            && v.is_instance(DATETIME.import(py, "datetime", "datetime")?)?
            && v.call_method0("time")?
                .call_method0("isoformat")?
                .extract::<String>()?
                == "00:00:00"
        {
            v = v.call_method0("date")?;
        }
        values[slot] = Some(v);
    }
    let [
        ird,
        pie_ird,
        filing_period,
        formatted_name,
        name,
        dob,
        formatted_address,
        address,
    ] = &values;
    let request = request(
        &format!("requests[{index}]."),
        &RequestArgs {
            ird: ird.as_ref(),
            pie_ird: pie_ird.as_ref(),
            filing_period: filing_period.as_ref(),
            formatted_name: formatted_name.as_ref(),
            name: name.as_ref(),
            dob: dob.as_ref(),
            formatted_address: formatted_address.as_ref(),
            address: address.as_ref(),
        },
    )?;
    Ok((
        (
            request.ird().to_owned(),
            request.pie_ird().map(str::to_owned),
        ),
        Ok(request),
    ))
}

/// The run's settings from `lookup_many`'s keyword arguments.
pub(crate) fn options(
    c: i64,
    max_rps: Option<&Bound<'_, PyAny>>,
    total: Option<usize>,
    validate_locally: bool,
) -> PyResult<BatchOptions> {
    if !(1..=batch::MAX_CONCURRENCY as i64).contains(&c) {
        return Err(PyValueError::new_err(format!(
            "concurrency: must be 1 to {}",
            batch::MAX_CONCURRENCY
        )));
    }
    let rps = match max_rps.filter(|o| !o.is_none()) {
        None => None,
        Some(o) if o.is_instance_of::<pyo3::types::PyBool>() => {
            return Err(errors::type_error("max_rps", "float", o));
        }
        Some(o) => {
            let r: f64 = o
                .extract()
                .map_err(|_| errors::type_error("max_rps", "float", o))?;
            batch::check_max_rps(r).map_err(|_| {
                PyValueError::new_err(format!(
                    "max_rps: must be a number of lookups per second from {} to {}",
                    batch::MIN_RPS,
                    batch::MAX_RPS
                ))
            })?;
            Some(r)
        }
    };
    Ok(BatchOptions {
        concurrency: c as usize,
        max_rps: rps,
        validate_locally,
        total_hint: total,
        ..BatchOptions::default()
    })
}

/// Opens (or resumes) the journal at `path`.
pub(crate) fn journal(
    py: Python<'_>,
    path: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Arc<Journal>>> {
    let Some(path) = path.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let path = crate::convert::path_arg("journal", path)?;
    py.detach(move || Journal::open(path, true))
        .map(|j| Some(Arc::new(j)))
        .map_err(errors::to_py)
}

/// How far a `lookup_many` run has got (passed to `on_progress`).
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct BatchProgress {
    p: Progress,
}

#[pymethods]
impl BatchProgress {
    /// The number of requests, when known (a sized input), else `None`.
    #[getter]
    fn total(&self) -> Option<usize> {
        self.p.total
    }
    /// Requests read from the input so far.
    #[getter]
    fn read(&self) -> usize {
        self.p.read
    }
    /// Requests with their result, handed out in input order.
    #[getter]
    fn done(&self) -> usize {
        self.p.done
    }
    /// Of those, requests whose result is an error.
    #[getter]
    fn failed(&self) -> usize {
        self.p.failed
    }
    /// Lookups made in this run (identical requests share one).
    #[getter]
    fn lookups(&self) -> usize {
        self.p.lookups
    }
    /// Requests answered from the journal of an earlier run.
    #[getter]
    fn resumed(&self) -> usize {
        self.p.resumed
    }
    /// Requests answered by an identical request's lookup.
    #[getter]
    fn duplicates(&self) -> usize {
        self.p.duplicates
    }
    /// Lookups on the wire now.
    #[getter]
    fn in_flight(&self) -> usize {
        self.p.in_flight
    }
    /// Seconds since the run started.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.p.elapsed.as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "BatchProgress(total={}, done={}, failed={}, lookups={}, resumed={}, elapsed={:.3})",
            self.p
                .total
                .map_or_else(|| "None".to_owned(), |t| t.to_string()),
            self.p.done,
            self.p.failed,
            self.p.lookups,
            self.p.resumed,
            self.p.elapsed.as_secs_f64()
        )
    }
}

/// Reads a Python iterator on the runner's thread, taking the GIL for each
/// item. A conversion error or an exception from the iterator ends the input
/// (the items before it are still answered) and is raised afterwards.
struct PyInput {
    iter: Py<PyIterator>,
    index: usize,
    error: Arc<Mutex<Option<PyErr>>>,
}

impl Iterator for PyInput {
    type Item = (Payload, BatchInput);

    fn next(&mut self) -> Option<Self::Item> {
        Python::attach(|py| {
            let next = self.iter.bind(py).clone().next()?;
            let index = self.index;
            self.index += 1;
            match next.and_then(|obj| item(index, &obj)) {
                Ok(x) => Some(x),
                Err(e) => {
                    *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    None
                }
            }
        })
    }
}

/// A run in progress, answers taken one at a time.
pub(crate) struct Run {
    stream: Mutex<Option<BatchStream<Payload>>>,
    cancel: CancelToken,
    on_progress: Option<Py<PyAny>>,
    last_progress: Mutex<Option<Instant>>,
    input_error: Arc<Mutex<Option<PyErr>>>,
}

impl Run {
    /// Starts a run over items already converted.
    pub(crate) fn start(
        client: &nzpir::Client,
        items: Vec<(Payload, BatchInput)>,
        options: BatchOptions,
        journal: Option<Arc<Journal>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Run> {
        Run::start_with(
            client,
            items.into_iter(),
            options,
            journal,
            on_progress,
            None,
        )
    }

    /// Starts a run reading `requests` lazily.
    pub(crate) fn start_lazy(
        client: &nzpir::Client,
        requests: &Bound<'_, PyAny>,
        options: BatchOptions,
        journal: Option<Arc<Journal>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Run> {
        let error = Arc::new(Mutex::new(None));
        let input = PyInput {
            iter: requests.try_iter()?.unbind(),
            index: 0,
            error: Arc::clone(&error),
        };
        Run::start_with(client, input, options, journal, on_progress, Some(error))
    }

    fn start_with<I>(
        client: &nzpir::Client,
        input: I,
        options: BatchOptions,
        journal: Option<Arc<Journal>>,
        on_progress: Option<Py<PyAny>>,
        error: Option<Arc<Mutex<Option<PyErr>>>>,
    ) -> PyResult<Run>
    where
        I: Iterator<Item = (Payload, BatchInput)> + Send + 'static,
    {
        let cancel = CancelToken::new();
        let c = client.clone();
        let stream = batch::stream(
            input,
            move |r: &PirRequest| c.lookup(r),
            options,
            journal,
            cancel.clone(),
        )
        .map_err(errors::to_py)?;
        Ok(Run {
            stream: Mutex::new(Some(stream)),
            cancel,
            on_progress,
            last_progress: Mutex::new(None),
            input_error: error.unwrap_or_default(),
        })
    }

    /// Stops the run; the next `next()` ends the iteration.
    pub(crate) fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The latest progress.
    pub(crate) fn progress(&self) -> Option<Progress> {
        self.stream
            .try_lock()
            .ok()
            .and_then(|s| s.as_ref().map(BatchStream::progress))
    }

    fn report(&self, py: Python<'_>, p: Progress, last: bool) -> PyResult<()> {
        let Some(cb) = &self.on_progress else {
            return Ok(());
        };
        let mut when = self.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        if !last && when.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return Ok(());
        }
        *when = Some(Instant::now());
        drop(when);
        cb.call1(py, (BatchProgress { p },))?;
        Ok(())
    }

    /// The next result in input order: a `LookupResult` or the `NzpirError`
    /// instance for that request; `None` at the end (or after `cancel`).
    pub(crate) fn next(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let Ok(mut guard) = self.stream.try_lock() else {
            return Err(PyRuntimeError::new_err(
                "this lookup_many run is being read by another thread",
            ));
        };
        loop {
            let Some(stream) = guard.as_mut() else {
                return Ok(None);
            };
            // Signals first, also while results flow without a pause:
            // Ctrl-C stops the run even when no wait ever times out.
            if let Err(e) = py.check_signals() {
                stream.cancel();
                *guard = None;
                return Err(e);
            }
            let event = match stream.try_next() {
                Some(a) => StreamEvent::Item(a),
                None => py.detach(|| stream.next_timeout(SLICE)),
            };
            match event {
                StreamEvent::Item(a) => {
                    let p = stream.progress();
                    let out = result(py, a)?;
                    self.report(py, p, false)?;
                    return Ok(Some(out));
                }
                StreamEvent::Pending => {
                    let p = stream.progress();
                    self.report(py, p, false)?;
                }
                StreamEvent::Finished(r) => {
                    *guard = None;
                    let p = r.map_err(errors::to_py)?;
                    if let Some(e) = self
                        .input_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .take()
                    {
                        return Err(e);
                    }
                    if !p.cancelled {
                        self.report(py, p, true)?;
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// One answer as Python sees it.
fn result(py: Python<'_>, a: Answered<Payload>) -> PyResult<Py<PyAny>> {
    let (ird, pie_ird) = &a.payload;
    if let Some(outcome) = a.answer.to_outcome(ird, pie_ird.as_deref()) {
        return LookupResult::new(outcome).into_py_any(py);
    }
    match a.failure() {
        Some(e) => Ok(errors::exception(py, &e)?.unbind()),
        None => Err(PyRuntimeError::new_err("a failed result without an error")),
    }
}

/// Converts every request of `requests` up front (a wrong type raises before
/// any lookup), with their number.
pub(crate) fn convert_all(requests: &Bound<'_, PyAny>) -> PyResult<Vec<(Payload, BatchInput)>> {
    let mut out = Vec::with_capacity(requests.len().unwrap_or(0));
    for (index, obj) in requests.try_iter()?.enumerate() {
        out.push(item(index, &obj?)?);
    }
    Ok(out)
}

/// The iterator `Client.iter_lookup_many` returns: results in input order,
/// each a `LookupResult` or the `NzpirError` instance for that request.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct LookupManyIterator {
    run: Run,
}

impl LookupManyIterator {
    pub(crate) fn new(run: Run) -> Self {
        LookupManyIterator { run }
    }
}

#[pymethods]
impl LookupManyIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.run.next(py)
    }

    /// Stops the run: no new lookup starts, iteration ends. Safe to call
    /// from another thread.
    fn close(&self) {
        self.run.cancel();
    }

    /// The latest progress (`None` while another thread is reading).
    #[getter]
    fn progress(&self) -> Option<BatchProgress> {
        self.run.progress().map(|p| BatchProgress { p })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.run.cancel();
        false
    }

    fn __repr__(&self) -> String {
        "LookupManyIterator(...)".to_owned()
    }
}

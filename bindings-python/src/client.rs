//! `nzpir.Client`, its lookup result, and the `Name`/`Address` request parts.

use std::sync::Arc;

use nzpir::options::{self, Options, Setting, Surface, Value as Raw};
use nzpir::{AuthSettings, ClientBuilder, Config, PirOutcome, PirRequest};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::bulk;
use crate::convert;
use crate::errors::{self, type_error};
use crate::oauth::{OAuth, PyTokenStore};

/// The suffix every Python client adds to its `User-Agent`.
const USER_AGENT_SUFFIX: &str = "python";

fn redact(v: &Option<String>) -> &'static str {
    if v.is_some() { "<redacted>" } else { "None" }
}

/// An investor's name, for IR's soft matching (`Name` in IR's request).
#[pyclass(module = "nzpir", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Name {
    #[pyo3(get)]
    first_name: Option<String>,
    #[pyo3(get)]
    last_name: Option<String>,
    #[pyo3(get)]
    middle_name: Option<String>,
}

#[pymethods]
impl Name {
    /// Members left out are reported by validation, with the rest.
    #[new]
    #[pyo3(signature = (first_name = None, last_name = None, middle_name = None))]
    fn new(
        first_name: Option<String>,
        last_name: Option<String>,
        middle_name: Option<String>,
    ) -> Self {
        Name {
            first_name,
            last_name,
            middle_name,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Name(first_name={}, last_name={}, middle_name={})",
            redact(&self.first_name),
            redact(&self.last_name),
            redact(&self.middle_name)
        )
    }
}

/// An investor's address, for IR's soft matching (`Address` in IR's request).
/// `country` is an ISO 3166-1 alpha-2 code.
#[pyclass(module = "nzpir", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Address {
    #[pyo3(get)]
    street: Option<String>,
    #[pyo3(get)]
    city: Option<String>,
    #[pyo3(get)]
    country: Option<String>,
    #[pyo3(get)]
    post_code: Option<String>,
    #[pyo3(get)]
    state: Option<String>,
}

#[pymethods]
impl Address {
    /// Members left out are reported by validation, with the rest.
    #[new]
    #[pyo3(signature = (street = None, city = None, country = None, post_code = None, state = None))]
    fn new(
        street: Option<String>,
        city: Option<String>,
        country: Option<String>,
        post_code: Option<String>,
        state: Option<String>,
    ) -> Self {
        Address {
            street,
            city,
            country,
            post_code,
            state,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Address(street={}, city={}, country={}, post_code={}, state={})",
            redact(&self.street),
            redact(&self.city),
            self.country
                .as_deref()
                .map_or("None".to_owned(), convert::quote),
            redact(&self.post_code),
            redact(&self.state)
        )
    }
}

const NAME_KEYS: [&str; 3] = ["first_name", "middle_name", "last_name"];
const ADDRESS_KEYS: [&str; 5] = ["street", "city", "post_code", "state", "country"];

/// A `Name`/`Address` object or a dict with snake_case keys: its members'
/// values in the order of `keys`. Members left out are reported by validation.
fn part(
    argument: &str,
    class: &str,
    obj: Option<&Bound<'_, PyAny>>,
    keys: &[&'static str],
    from_class: impl Fn(&Bound<'_, PyAny>) -> Option<Vec<Option<String>>>,
) -> PyResult<Option<Vec<Option<String>>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Some(values) = from_class(obj) {
        return Ok(Some(values));
    }
    if !obj.is_instance_of::<PyDict>() {
        return Err(type_error(
            argument,
            &format!("nzpir.{class} or a dict"),
            obj,
        ));
    }
    let given = convert::str_mapping(argument, obj, keys)?;
    Ok(Some(
        keys.iter()
            .map(|key| {
                given
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.clone())
            })
            .collect(),
    ))
}

/// A lookup's arguments, as `lookup()` names them.
pub(crate) struct RequestArgs<'a, 'py> {
    pub(crate) ird: Option<&'a Bound<'py, PyAny>>,
    pub(crate) pie_ird: Option<&'a Bound<'py, PyAny>>,
    pub(crate) filing_period: Option<&'a Bound<'py, PyAny>>,
    pub(crate) formatted_name: Option<&'a Bound<'py, PyAny>>,
    pub(crate) name: Option<&'a Bound<'py, PyAny>>,
    pub(crate) dob: Option<&'a Bound<'py, PyAny>>,
    pub(crate) formatted_address: Option<&'a Bound<'py, PyAny>>,
    pub(crate) address: Option<&'a Bound<'py, PyAny>>,
}

/// The keyword names of `lookup()`, which `lookup_many()`'s mappings use.
pub(crate) const REQUEST_KEYS: [&str; 8] = [
    "ird",
    "pie_ird",
    "filing_period",
    "formatted_name",
    "name",
    "dob",
    "formatted_address",
    "address",
];

/// The request a lookup's arguments make, through the core's builder; a
/// type error names the argument, after `prefix` (`requests[3].` for
/// `lookup_many`). A missing `ird` is left to the core's validation (an
/// empty IRD number).
pub(crate) fn request(prefix: &str, a: &RequestArgs<'_, '_>) -> PyResult<PirRequest> {
    let arg = |n: &str| format!("{prefix}{n}");
    let ird = match a.ird {
        Some(o) if !o.is_none() => convert::opt_str(&arg("ird"), Some(o))?
            .ok_or_else(|| type_error(&arg("ird"), "str", o))?,
        Some(o) if prefix.is_empty() => return Err(type_error("ird", "str", o)),
        _ => String::new(),
    };
    let mut b = PirRequest::builder(ird);
    if let Some(v) = convert::opt_str(&arg("pie_ird"), a.pie_ird)? {
        b = b.pie_ird(v);
    }
    if let Some(v) = convert::period_arg(&arg("filing_period"), a.filing_period)? {
        b = b.filing_period(v);
    }
    if let Some(v) = convert::opt_str(&arg("formatted_name"), a.formatted_name)? {
        b = b.formatted_name(v);
    }
    if let Some(v) = convert::date_arg(&arg("dob"), a.dob)? {
        b = b.dob(v);
    }
    if let Some(v) = convert::opt_str(&arg("formatted_address"), a.formatted_address)? {
        b = b.formatted_address(v);
    }
    if let Some(v) = part(&arg("name"), "Name", a.name, &NAME_KEYS, |o| {
        o.cast::<Name>().ok().map(|n| {
            let n = n.get();
            vec![
                n.first_name.clone(),
                n.middle_name.clone(),
                n.last_name.clone(),
            ]
        })
    })? {
        let [first, middle, last]: [Option<String>; 3] =
            v.try_into().unwrap_or_else(|_| Default::default());
        let mut name = nzpir::Name::empty();
        if let Some(x) = first {
            name = name.with_first_name(x);
        }
        if let Some(x) = middle {
            name = name.with_middle_name(x);
        }
        if let Some(x) = last {
            name = name.with_last_name(x);
        }
        b = b.name(name);
    }
    if let Some(v) = part(&arg("address"), "Address", a.address, &ADDRESS_KEYS, |o| {
        o.cast::<Address>().ok().map(|a| {
            let a = a.get();
            vec![
                a.street.clone(),
                a.city.clone(),
                a.post_code.clone(),
                a.state.clone(),
                a.country.clone(),
            ]
        })
    })? {
        let [street, city, post_code, state, country]: [Option<String>; 5] =
            v.try_into().unwrap_or_else(|_| Default::default());
        let mut addr = nzpir::Address::empty();
        if let Some(x) = street {
            addr = addr.with_street(x);
        }
        if let Some(x) = city {
            addr = addr.with_city(x);
        }
        if let Some(x) = post_code {
            addr = addr.with_post_code(x);
        }
        if let Some(x) = state {
            addr = addr.with_state(x);
        }
        if let Some(x) = country {
            addr = addr.with_country(x);
        }
        b = b.address(addr);
    }
    Ok(b.build())
}

/// The result of a lookup: IR's suggested rate, or that IR has none.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct LookupResult {
    outcome: PirOutcome,
}

impl LookupResult {
    pub(crate) fn new(outcome: PirOutcome) -> Self {
        LookupResult { outcome }
    }
}

#[pymethods]
impl LookupResult {
    /// The suggested PIR as an exact `Decimal` (10.5, 17.5 or 28), or `None`
    /// when IR could not determine one.
    #[getter]
    fn rate<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.outcome
            .rate()
            .map(|r| convert::decimal(py, &r.to_string()))
            .transpose()
    }

    /// Whether IR could not determine a rate for the investor.
    #[getter]
    fn not_found(&self) -> bool {
        self.outcome.is_not_found()
    }

    /// The investor's IRD number as IR echoed it.
    #[getter]
    fn ird(&self) -> &str {
        self.outcome.ird()
    }

    /// The PIE's IRD number, when it was sent.
    #[getter]
    fn pie_ird(&self) -> Option<&str> {
        self.outcome.pie_ird()
    }

    fn __repr__(&self) -> String {
        let rate = match self.outcome.rate() {
            Some(r) => format!("Decimal('{r}')"),
            None => "None".to_owned(),
        };
        format!(
            "LookupResult(rate={rate}, not_found={}, ird=<redacted>, pie_ird={})",
            if self.outcome.is_not_found() {
                "True"
            } else {
                "False"
            },
            if self.outcome.pie_ird().is_some() {
                "<redacted>"
            } else {
                "None"
            }
        )
    }
}

/// Seconds since the Unix epoch as an aware `datetime.datetime` in UTC.
fn utc_datetime<'py>(py: Python<'py>, secs: i64) -> PyResult<Bound<'py, PyAny>> {
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    dt.getattr("datetime")?
        .call_method1("fromtimestamp", (secs, utc))
}

/// One check of `nzpir.doctor` / `Client.doctor`.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct DoctorCheck {
    /// A stable name, e.g. `client_cert.dates`, `gateway.tls`.
    #[pyo3(get)]
    id: &'static str,
    /// `ok`, `warn`, `fail` or `skip`.
    #[pyo3(get)]
    status: &'static str,
    /// What was found.
    #[pyo3(get)]
    detail: String,
    /// What to do (warnings and failures), else `None`.
    #[pyo3(get)]
    action: Option<String>,
    /// A failure's class (`config`, `authentication`, `tls`, `transport`...), else `None`.
    #[pyo3(get)]
    kind: Option<&'static str>,
}

#[pymethods]
impl DoctorCheck {
    fn __repr__(&self) -> String {
        format!(
            "DoctorCheck(id={}, status={}, detail={})",
            convert::quote(self.id),
            convert::quote(self.status),
            convert::quote(&self.detail)
        )
    }
}

/// Runs the core's checks on `cfg` with the GIL released.
pub(crate) fn run_doctor(
    py: Python<'_>,
    cfg: Config,
    ird: Option<String>,
    pie_ird: Option<String>,
) -> Vec<DoctorCheck> {
    let report = py.detach(move || {
        nzpir::doctor::run(
            &cfg,
            &nzpir::doctor::Options {
                ird,
                pie_ird,
                ..nzpir::doctor::Options::default()
            },
        )
    });
    report
        .checks
        .into_iter()
        .map(|c| DoctorCheck {
            id: c.id,
            status: c.status.as_str(),
            detail: c.detail,
            action: c.action,
            kind: c.kind.map(|k| k.as_str()),
        })
        .collect()
}

/// Checks a configuration file (such as the sandbox's `nzpir.toml`)
/// against IR's requirements and the live gateway: the client certificate
/// and key, the JWT credential, DNS, TCP, the TLS handshake, the clock
/// against the gateway's `Date`, the status endpoint and, with `ird`, one
/// real lookup. Returns one `DoctorCheck` per check; none raises.
#[pyfunction]
#[pyo3(signature = (config, *, ird = None, pie_ird = None))]
pub(crate) fn doctor(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    ird: Option<&Bound<'_, PyAny>>,
    pie_ird: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<DoctorCheck>> {
    let path = convert::path_arg("config", config)?;
    let ird = convert::opt_str("ird", ird)?;
    let pie_ird = convert::opt_str("pie_ird", pie_ird)?;
    let cfg = py
        .detach(|| Config::from_file(&path))
        .map_err(errors::to_py)?;
    Ok(run_doctor(py, cfg, ird, pie_ird))
}

/// A Python value as the core's raw setting value: the core checks types,
/// ranges and every rule, and names the keyword in its errors.
pub(crate) fn raw(obj: &Bound<'_, PyAny>) -> PyResult<Raw> {
    use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
    Ok(if obj.is_instance_of::<PyBool>() {
        Raw::Bool(obj.extract()?)
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>()
            .map_or(Raw::Other("an integer out of range"), Raw::Int)
    } else if obj.is_instance_of::<PyFloat>() {
        Raw::Float(obj.extract()?)
    } else if obj.is_instance_of::<PyString>() {
        Raw::Str(obj.extract()?)
    } else if obj.is_instance_of::<PyBytes>() {
        Raw::Bytes(obj.extract()?)
    } else if let Ok(b) = obj.cast::<pyo3::types::PyByteArray>() {
        Raw::Bytes(b.to_vec())
    } else if obj.hasattr("__fspath__")? {
        Raw::Path(convert::path_arg("path", obj)?)
    } else if obj.is_instance_of::<PyList>() {
        Raw::Other("a list")
    } else if obj.is_instance_of::<PyDict>() {
        Raw::Other("a dict")
    } else {
        Raw::Other("another type")
    })
}

/// Where the OAuth tokens live: a file path, or a Python object with
/// `load()` and `save(tokens)` methods.
pub(crate) enum StoreArg {
    Path(std::path::PathBuf),
    Object(Arc<PyTokenStore>),
}

pub(crate) fn store_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<StoreArg>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let callable = |name: &str| -> PyResult<bool> {
        Ok(obj.hasattr(name)? && obj.getattr(name)?.is_callable())
    };
    if callable("load")? && callable("save")? {
        return Ok(Some(StoreArg::Object(Arc::new(PyTokenStore::new(
            obj.clone().unbind(),
        )))));
    }
    match convert::path_arg("token_store", obj) {
        Ok(p) => Ok(Some(StoreArg::Path(p))),
        Err(_) => Err(type_error(
            "token_store",
            "a file path or an object with load() and save(tokens) methods",
            obj,
        )),
    }
}

/// A blocking client of IR's PIR gateway. Build one and share it: it is
/// safe to use from many threads at once, and every call releases the GIL.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct Client {
    pub(crate) inner: nzpir::Client,
    auth: &'static str,
    /// The settings it was built from, for `doctor()`.
    config: Config,
}

impl Client {
    pub(crate) fn build(
        py: Python<'_>,
        cfg: Config,
        store: Option<Arc<PyTokenStore>>,
    ) -> PyResult<Client> {
        let auth = match &cfg.auth {
            None | Some(AuthSettings::None) => "none",
            Some(AuthSettings::Jwt(_)) => "jwt",
            Some(AuthSettings::Bearer { .. }) => "bearer",
            Some(AuthSettings::Oauth(_)) => "oauth",
        };
        let config = cfg.clone();
        let inner = py
            .detach(move || {
                let mut b = ClientBuilder::from_config(&cfg)?.user_agent_suffix(USER_AGENT_SUFFIX);
                if let Some(store) = store {
                    b = b.token_store(store);
                }
                b.build()
            })
            .map_err(errors::to_py)?;
        Ok(Client {
            inner,
            auth,
            config,
        })
    }

    pub(crate) fn from_config_path(
        py: Python<'_>,
        path: std::path::PathBuf,
        token_store: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Client> {
        let mut cfg = py
            .detach(|| Config::from_file(&path))
            .map_err(errors::to_py)?;
        let mut object_store = None;
        match store_arg(token_store)? {
            None => {}
            // The given store replaces the file the configuration names.
            Some(StoreArg::Path(p)) => {
                options::override_token_store(&mut cfg, Some(p)).map_err(errors::to_py)?;
            }
            Some(StoreArg::Object(obj)) => {
                options::override_token_store(&mut cfg, None).map_err(errors::to_py)?;
                object_store = Some(obj);
            }
        }
        Client::build(py, cfg, object_store)
    }
}

#[pymethods]
impl Client {
    /// A client from keyword arguments: the settings of the core's options
    /// schema by their snake_case names (`environment`, `cert`, `key`,
    /// `jwt_cert`, `timeout`, `max_idle_connections`, ...; see the README).
    ///
    /// PEM arguments (`cert`, `key`, `ca`, `jwt_cert`, `jwt_key`) take a file
    /// path (`str` or `os.PathLike`) or the PEM content (`bytes`, or a `str`
    /// starting with `-----BEGIN`). Give at most one way to authenticate:
    /// `jwt_cert`/`jwt_key`/`issuer` (M2M JWT), `bearer_token`, or the
    /// `oauth_*` settings with a `token_store` (a path, or an object with
    /// `load()` and `save(tokens)`).
    #[new]
    #[pyo3(signature = (**settings))]
    fn new(py: Python<'_>, settings: Option<&Bound<'_, PyDict>>) -> PyResult<Client> {
        let mut options = Options::new(Surface::Python);
        let mut object_store = None;
        for (name, value) in settings.into_iter().flatten() {
            let name: String = name.extract()?;
            if Setting::from_name(Surface::Python, &name).is_none() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "Client() got an unexpected keyword argument '{}'",
                    name.chars().take(40).collect::<String>()
                )));
            }
            if value.is_none() {
                continue;
            }
            if name == "token_store"
                && let Some(StoreArg::Object(store)) = store_arg(Some(&value))?
            {
                options.host_token_store();
                object_store = Some(store);
                continue;
            }
            options.set(&name, raw(&value)?).map_err(errors::to_py)?;
        }
        let cfg = options.to_config().map_err(errors::to_py)?;
        Client::build(py, cfg, object_store)
    }

    /// A client from a TOML (or `.json`) configuration file, such as the
    /// sandbox's `nzpir.toml`. Relative paths in it are relative to the file.
    /// `token_store` overrides an OAuth configuration's store (a path, or an
    /// object with `load()` and `save(tokens)`).
    #[classmethod]
    #[pyo3(signature = (path, *, token_store = None))]
    fn from_config(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        token_store: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Client> {
        let path = convert::path_arg("path", path)?;
        Client::from_config_path(py, path, token_store)
    }

    /// Asks IR for the investor's suggested PIR.
    ///
    /// The request is checked locally first: nothing is sent if it breaks a
    /// rule (`InvalidInputError` lists every violation). Dates are
    /// `datetime.date` or `yyyy-MM-dd` strings; `name` and `address` are
    /// `Name`/`Address` objects or dicts with the same (snake_case) keys.
    #[pyo3(signature = (
        ird,
        *,
        pie_ird = None,
        filing_period = None,
        formatted_name = None,
        name = None,
        dob = None,
        formatted_address = None,
        address = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn lookup(
        &self,
        py: Python<'_>,
        ird: &Bound<'_, PyAny>,
        pie_ird: Option<&Bound<'_, PyAny>>,
        filing_period: Option<&Bound<'_, PyAny>>,
        formatted_name: Option<&Bound<'_, PyAny>>,
        name: Option<&Bound<'_, PyAny>>,
        dob: Option<&Bound<'_, PyAny>>,
        formatted_address: Option<&Bound<'_, PyAny>>,
        address: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<LookupResult> {
        let request = request(
            "",
            &RequestArgs {
                ird: Some(ird),
                pie_ird,
                filing_period,
                formatted_name,
                name,
                dob,
                formatted_address,
                address,
            },
        )?;
        let client = self.inner.clone();
        let outcome = py
            .detach(move || client.lookup(&request))
            .map_err(errors::to_py)?;
        Ok(LookupResult { outcome })
    }

    /// Looks up many investors: `requests` is any iterable of mappings with
    /// `lookup()`'s keyword names (`ird`, `pie_ird`, `filing_period`, ...;
    /// `None` or NaN is a missing value, so `df.to_dict("records")` works).
    ///
    /// Returns a list in input order whose items are `LookupResult` or the
    /// `NzpirError` instance for that request: one bad request never raises
    /// for the run. Identical requests are looked up once; `concurrency`
    /// lookups run at once on the core's threads (the GIL is released) and
    /// `max_rps` caps their start rate. With `journal` (a path), completed
    /// lookups are recorded and a later call with the same path repeats none
    /// of them. `on_progress(BatchProgress)` is called on this thread about
    /// every 0.1 s and once at the end. Ctrl-C stops the run and raises
    /// `KeyboardInterrupt`. A request of a wrong type raises `TypeError`
    /// naming its index and field, before any lookup.
    #[pyo3(signature = (requests, *, concurrency = 4, max_rps = None, journal = None, on_progress = None))]
    fn lookup_many(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        concurrency: i64,
        max_rps: Option<&Bound<'_, PyAny>>,
        journal: Option<&Bound<'_, PyAny>>,
        on_progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let options = bulk::options(concurrency, max_rps, None, self.inner.validates_locally())?;
        let items = bulk::convert_all(requests)?;
        let options = nzpir::batch::BatchOptions {
            total_hint: Some(items.len()),
            ..options
        };
        let n = items.len();
        let journal = bulk::journal(py, journal)?;
        let on_progress = on_progress
            .filter(|o| !o.is_none())
            .map(|o| o.clone().unbind());
        let run = bulk::Run::start(&self.inner, items, options, journal, on_progress)?;
        let mut out = Vec::with_capacity(n);
        while let Some(r) = run.next(py)? {
            out.push(r);
        }
        Ok(out)
    }

    /// `lookup_many` for registers that do not fit in a list: an iterator of
    /// results in input order (each a `LookupResult` or the `NzpirError`
    /// instance), reading `requests` only as far as the lookups in flight
    /// need. A wrong type raises `TypeError` when iteration reaches it (the
    /// results before it are returned first). `close()` stops the run.
    #[pyo3(signature = (requests, *, concurrency = 4, max_rps = None, journal = None, on_progress = None))]
    fn iter_lookup_many(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        concurrency: i64,
        max_rps: Option<&Bound<'_, PyAny>>,
        journal: Option<&Bound<'_, PyAny>>,
        on_progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bulk::LookupManyIterator> {
        let total = requests.len().ok();
        let options = bulk::options(concurrency, max_rps, total, self.inner.validates_locally())?;
        let journal = bulk::journal(py, journal)?;
        let on_progress = on_progress
            .filter(|o| !o.is_none())
            .map(|o| o.clone().unbind());
        let run = bulk::Run::start_lazy(&self.inner, requests, options, journal, on_progress)?;
        Ok(bulk::LookupManyIterator::new(run))
    }

    /// Checks the gateway's status endpoint (reachability, TLS and the client
    /// certificate; no `Authorization` is sent). Raises on failure.
    fn status(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.inner.clone();
        py.detach(move || client.status()).map_err(errors::to_py)
    }

    /// Reads the client certificate and key files again now and uses them
    /// for new connections if they make a valid pair. Returns `True` when a
    /// different certificate is now in use. Raises `ConfigError` (naming the
    /// setting) when the files are broken or do not match; the pair in use
    /// is then kept. (The files are also checked, by modification time and at
    /// most every 5 seconds, whenever a new connection opens.)
    fn reload_identity(&self, py: Python<'_>) -> PyResult<bool> {
        let client = self.inner.clone();
        py.detach(move || client.reload_identity())
            .map_err(errors::to_py)
    }

    /// When the client certificate in use expires, as an aware UTC
    /// `datetime`, or `None` without one.
    #[getter]
    fn identity_expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .identity_not_after()
            .map(|s| utc_datetime(py, s))
            .transpose()
    }

    /// The SHA-256 thumbprint of the client certificate in use, or `None`.
    #[getter]
    fn identity_thumbprint(&self) -> Option<String> {
        self.inner.identity().map(|i| i.thumbprint().to_owned())
    }

    /// Runs `nzpir.doctor`'s checks on the settings this client was built
    /// from; with `ird` (and `pie_ird`), one real lookup too.
    #[pyo3(signature = (*, ird = None, pie_ird = None))]
    fn doctor(
        &self,
        py: Python<'_>,
        ird: Option<&Bound<'_, PyAny>>,
        pie_ird: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<DoctorCheck>> {
        let ird = convert::opt_str("ird", ird)?;
        let pie_ird = convert::opt_str("pie_ird", pie_ird)?;
        Ok(run_doctor(py, self.config.clone(), ird, pie_ird))
    }

    /// The gateway's base URL.
    #[getter]
    fn endpoint(&self) -> &str {
        self.inner.endpoint()
    }

    /// The `User-Agent` sent with every call.
    #[getter]
    fn user_agent(&self) -> &str {
        self.inner.user_agent()
    }

    /// How calls authenticate: `jwt`, `bearer`, `oauth` or `none`.
    #[getter]
    fn auth(&self) -> &'static str {
        self.auth
    }

    /// The OAuth helpers (authorise, refresh, introspect, revoke) when the
    /// client uses OAuth, else `None`.
    #[getter]
    fn oauth(&self) -> Option<OAuth> {
        self.inner.oauth().map(|s| OAuth::new(Arc::clone(s)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(endpoint={}, auth={})",
            convert::quote(self.inner.endpoint()),
            convert::quote(self.auth)
        )
    }
}

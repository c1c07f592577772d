//! `nzpir.Client`, its lookup result, and the `Name`/`Address` request parts.

use std::str::FromStr;
use std::sync::Arc;

use nzpir::{
    AuthSettings, ClientBuilder, Config, Connection, Environment, JwtSettings, OAuthSettings,
    PirOutcome, PirRequest, Secret,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::bulk;
use crate::convert::{self, PemArg};
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

fn pem_into(
    argument: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Option<std::path::PathBuf>, Option<String>)> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok((None, None)),
        Some(o) => match convert::pem_arg(argument, o)? {
            PemArg::Path(p) => Ok((Some(p), None)),
            PemArg::Pem(t) => Ok((None, Some(t))),
        },
    }
}

fn opt_path(
    argument: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<std::path::PathBuf>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => convert::path_arg(argument, o).map(Some),
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

fn seconds(argument: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => {
            if o.is_instance_of::<pyo3::types::PyBool>() {
                return Err(type_error(argument, "a number of seconds", o));
            }
            let v: f64 = o
                .extract()
                .map_err(|_| type_error(argument, "a number of seconds", o))?;
            if v.is_finite() && v > 0.0 {
                Ok(Some(v))
            } else {
                Err(PyValueError::new_err(format!(
                    "{argument}: must be a positive number of seconds"
                )))
            }
        }
    }
}

fn count(argument: &str, obj: Option<&Bound<'_, PyAny>>, max: i64) -> PyResult<Option<i64>> {
    count_in(argument, obj, 0, max)
}

fn count_in(
    argument: &str,
    obj: Option<&Bound<'_, PyAny>>,
    min: i64,
    max: i64,
) -> PyResult<Option<i64>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => {
            if o.is_instance_of::<pyo3::types::PyBool>() {
                return Err(type_error(argument, "int", o));
            }
            let v: i64 = o.extract().map_err(|_| type_error(argument, "int", o))?;
            if (min..=max).contains(&v) {
                Ok(Some(v))
            } else {
                Err(PyValueError::new_err(format!(
                    "{argument}: must be between {min} and {max}"
                )))
            }
        }
    }
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
            Some(store) => {
                let Some(AuthSettings::Oauth(o)) = &mut cfg.auth else {
                    return Err(errors::to_py(nzpir::Error::config(
                        "token_store",
                        "only used with OAuth (`[auth] type = \"oauth\"`)",
                    )));
                };
                // The given store replaces the file the configuration names.
                match store {
                    StoreArg::Path(p) => o.token_store = Some(p),
                    StoreArg::Object(obj) => {
                        o.token_store = None;
                        object_store = Some(obj);
                    }
                }
            }
        }
        Client::build(py, cfg, object_store)
    }
}

#[pymethods]
impl Client {
    /// A client from keyword arguments (the same settings as the TOML file).
    ///
    /// PEM arguments (`cert`, `key`, `ca`, `jwt_cert`, `jwt_key`) take a file
    /// path (`str` or `os.PathLike`) or the PEM content as `bytes`. Give at
    /// most one way to authenticate: `jwt_cert`/`jwt_key`/`issuer` (M2M JWT),
    /// `bearer_token`, or the `oauth_*` settings with a `token_store`.
    #[new]
    #[pyo3(signature = (
        *,
        environment = None,
        endpoint = None,
        connection = None,
        cert = None,
        key = None,
        ca = None,
        pkcs12 = None,
        pkcs12_password = None,
        jwt_cert = None,
        jwt_key = None,
        jwt_pkcs12 = None,
        jwt_pkcs12_password = None,
        jwt_alg = None,
        issuer = None,
        start_logon = None,
        unset_start_logon = None,
        jwt_ttl = None,
        bearer_token = None,
        oauth_client_id = None,
        oauth_client_secret = None,
        oauth_redirect_uri = None,
        oauth_endpoint = None,
        token_store = None,
        timeout = None,
        connect_timeout = None,
        max_retries = None,
        retry_base_delay = None,
        proxy = None,
        validate_locally = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        environment: Option<&Bound<'_, PyAny>>,
        endpoint: Option<&Bound<'_, PyAny>>,
        connection: Option<&Bound<'_, PyAny>>,
        cert: Option<&Bound<'_, PyAny>>,
        key: Option<&Bound<'_, PyAny>>,
        ca: Option<&Bound<'_, PyAny>>,
        pkcs12: Option<&Bound<'_, PyAny>>,
        pkcs12_password: Option<&Bound<'_, PyAny>>,
        jwt_cert: Option<&Bound<'_, PyAny>>,
        jwt_key: Option<&Bound<'_, PyAny>>,
        jwt_pkcs12: Option<&Bound<'_, PyAny>>,
        jwt_pkcs12_password: Option<&Bound<'_, PyAny>>,
        jwt_alg: Option<&Bound<'_, PyAny>>,
        issuer: Option<&Bound<'_, PyAny>>,
        start_logon: Option<&Bound<'_, PyAny>>,
        unset_start_logon: Option<&Bound<'_, PyAny>>,
        jwt_ttl: Option<&Bound<'_, PyAny>>,
        bearer_token: Option<&Bound<'_, PyAny>>,
        oauth_client_id: Option<&Bound<'_, PyAny>>,
        oauth_client_secret: Option<&Bound<'_, PyAny>>,
        oauth_redirect_uri: Option<&Bound<'_, PyAny>>,
        oauth_endpoint: Option<&Bound<'_, PyAny>>,
        token_store: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        retry_base_delay: Option<&Bound<'_, PyAny>>,
        proxy: Option<&Bound<'_, PyAny>>,
        validate_locally: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Client> {
        let mut cfg = Config::default();
        if let Some(env) = convert::opt_str("environment", environment)? {
            cfg.environment = Some(Environment::from_str(&env).map_err(errors::to_py)?);
        }
        cfg.endpoint = convert::opt_str("endpoint", endpoint)?;
        if let Some(c) = convert::opt_str("connection", connection)? {
            cfg.connection = Some(match c.trim().to_ascii_lowercase().as_str() {
                "cloud" => Connection::Cloud,
                "desktop" => Connection::Desktop,
                _ => {
                    return Err(errors::to_py(nzpir::Error::config(
                        "connection",
                        "must be cloud or desktop",
                    )));
                }
            });
        }
        (cfg.tls.client_cert, cfg.tls.client_cert_pem) = pem_into("cert", cert)?;
        let (key_path, key_pem) = pem_into("key", key)?;
        cfg.tls.client_key = key_path;
        cfg.tls.client_key_pem = key_pem.map(Secret::new);
        (cfg.tls.ca_cert, cfg.tls.ca_cert_pem) = pem_into("ca", ca)?;
        cfg.tls.client_pkcs12 = opt_path("pkcs12", pkcs12)?;
        cfg.tls.client_pkcs12_password =
            convert::opt_str("pkcs12_password", pkcs12_password)?.map(Secret::new);
        cfg.timeout_secs = seconds("timeout", timeout)?;
        cfg.connect_timeout_secs = seconds("connect_timeout", connect_timeout)?;
        cfg.retry_base_delay_secs = seconds("retry_base_delay", retry_base_delay)?;
        cfg.max_retries = count("max_retries", max_retries, 100)?.map(|n| n as u32);
        cfg.proxy = convert::opt_str("proxy", proxy)?;
        cfg.validate_locally = match validate_locally.filter(|o| !o.is_none()) {
            None => None,
            Some(o) => Some(
                o.extract::<bool>()
                    .map_err(|_| type_error("validate_locally", "bool", o))?,
            ),
        };

        // Authentication: at most one of JWT, bearer token, OAuth.
        let jwt = JwtSettings {
            alg: convert::opt_str("jwt_alg", jwt_alg)?,
            issuer: convert::opt_str("issuer", issuer)?,
            start_logon: convert::opt_str("start_logon", start_logon)?,
            unset_start_logon: convert::opt_str("unset_start_logon", unset_start_logon)?,
            ttl_secs: count_in(
                "jwt_ttl",
                jwt_ttl,
                nzpir::jwt::MIN_TTL.as_secs() as i64,
                nzpir::jwt::MAX_TTL.as_secs() as i64,
            )?
            .map(|n| n as u64),
            ..JwtSettings::default()
        };
        let (cert_path, cert_pem) = pem_into("jwt_cert", jwt_cert)?;
        let (key_path, key_pem) = pem_into("jwt_key", jwt_key)?;
        let jwt = JwtSettings {
            cert: cert_path,
            cert_pem,
            key: key_path,
            key_pem: key_pem.map(Secret::new),
            pkcs12: opt_path("jwt_pkcs12", jwt_pkcs12)?,
            pkcs12_password: convert::opt_str("jwt_pkcs12_password", jwt_pkcs12_password)?
                .map(Secret::new),
            ..jwt
        };
        let bearer = convert::opt_str("bearer_token", bearer_token)?;
        let oauth = OAuthSettings {
            client_id: convert::opt_str("oauth_client_id", oauth_client_id)?,
            client_secret: convert::opt_str("oauth_client_secret", oauth_client_secret)?
                .map(Secret::new),
            redirect_uri: convert::opt_str("oauth_redirect_uri", oauth_redirect_uri)?,
            endpoint: convert::opt_str("oauth_endpoint", oauth_endpoint)?,
            token_store: None,
        };
        let store = store_arg(token_store)?;
        let jwt_given = jwt != JwtSettings::default();
        let oauth_given = oauth != OAuthSettings::default() || store.is_some();
        let ways = [jwt_given, bearer.is_some(), oauth_given];
        if ways.iter().filter(|w| **w).count() > 1 {
            return Err(errors::to_py(nzpir::Error::config(
                "auth",
                "give one way to authenticate: jwt_cert/jwt_key/issuer, bearer_token, \
                 or oauth_* with token_store",
            )));
        }
        let mut object_store = None;
        cfg.auth = if jwt_given {
            Some(AuthSettings::Jwt(jwt))
        } else if let Some(token) = bearer {
            Some(AuthSettings::Bearer {
                token: Secret::new(token),
            })
        } else if oauth_given {
            let mut oauth = oauth;
            match store {
                Some(StoreArg::Path(p)) => oauth.token_store = Some(p),
                Some(StoreArg::Object(obj)) => object_store = Some(obj),
                None => {}
            }
            Some(AuthSettings::Oauth(oauth))
        } else {
            None
        };
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

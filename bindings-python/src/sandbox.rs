//! `nzpir.Sandbox`: the local emulator of IR's gateway, in-process, for tests.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use nzpir::AuthSettings;
use nzpir_sandbox::{Fault, Profile, SandboxOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::convert;
use crate::errors::{self, type_error};

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn json_loads<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyValueError::new_err(format!("cannot encode: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// An integer argument within bounds, else a `ValueError` naming it.
fn in_range(argument: &str, v: i64, min: i64, max: i64) -> PyResult<i64> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!(
            "{argument}: must be between {min} and {max}"
        )))
    }
}

/// Keyword arguments of `Client(...)` that start a new way to authenticate,
/// replacing the sandbox's M2M JWT defaults.
const OTHER_AUTH: [&str; 6] = [
    "bearer_token",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_redirect_uri",
    "oauth_endpoint",
    "token_store",
];
const JWT_KEYS: [&str; 4] = ["jwt_cert", "jwt_key", "jwt_alg", "issuer"];

/// A local emulator of IR's PIR gateway and OAuth server over real mutual
/// TLS, running on background threads of this process. It starts at once;
/// use it as a context manager (or call `shutdown()`).
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct Sandbox {
    inner: nzpir_sandbox::Sandbox,
}

impl Sandbox {
    fn fault(
        kind: &str,
        times: Option<i64>,
        ms: Option<i64>,
        status: Option<i64>,
        secs: Option<i64>,
        body: Option<&str>,
        scope: &str,
    ) -> PyResult<Fault> {
        let mut m = Map::new();
        m.insert("kind".into(), Value::String(kind.to_owned()));
        for (key, v) in [
            ("times", times),
            ("ms", ms),
            ("status", status),
            ("secs", secs),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), v.into());
            }
        }
        if let Some(b) = body {
            m.insert("body".into(), Value::String(b.to_owned()));
        }
        m.insert("scope".into(), Value::String(scope.to_owned()));
        Fault::from_json(Value::Object(m)).map_err(|p| PyValueError::new_err(format!("fault: {p}")))
    }
}

impl Drop for Sandbox {
    /// Freed by Python (with the GIL held): the server threads are joined with
    /// the GIL released, so none of them can be left waiting for it.
    fn drop(&mut self) {
        if self.inner.is_running() {
            let inner = &self.inner;
            if Python::try_attach(|py| py.detach(|| inner.shutdown())).is_none() {
                inner.shutdown();
            }
        }
    }
}

#[pymethods]
impl Sandbox {
    /// Starts a sandbox. `profile` is `"strict"` (IR's production rules over
    /// the default fixture) or `"ir-mock"` (IR's published mock scenarios).
    /// Without `pki_dir`, its PKI lives in a temporary folder removed at
    /// shutdown.
    #[new]
    #[pyo3(signature = (
        profile = "strict",
        *,
        pki_dir = None,
        fixture = None,
        ir003_limit = None,
        access_token_ttl = None,
        clock_offset = None,
        expires_in_as_string = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        profile: &str,
        pki_dir: Option<&Bound<'_, PyAny>>,
        fixture: Option<&Bound<'_, PyAny>>,
        ir003_limit: Option<i64>,
        access_token_ttl: Option<i64>,
        clock_offset: Option<i64>,
        expires_in_as_string: bool,
    ) -> PyResult<Sandbox> {
        let profile = Profile::from_str(profile)
            .map_err(|e| PyValueError::new_err(format!("profile: {e}")))?;
        let mut opts = SandboxOptions::default()
            .profile(profile)
            .expires_in_as_string(expires_in_as_string);
        if let Some(d) = pki_dir.filter(|o| !o.is_none()) {
            opts = opts.pki_dir(convert::path_arg("pki_dir", d)?);
        }
        if let Some(f) = fixture.filter(|o| !o.is_none()) {
            opts = opts.fixture_file(convert::path_arg("fixture", f)?);
        }
        if let Some(n) = ir003_limit {
            opts = opts.ir003_limit(in_range("ir003_limit", n, 0, u32::MAX.into())? as u32);
        }
        if let Some(t) = access_token_ttl {
            let t = in_range("access_token_ttl", t, 1, 365 * 86_400)?;
            opts = opts.access_token_ttl(Duration::from_secs(t as u64));
        }
        if let Some(s) = clock_offset {
            opts = opts.clock_offset(s);
        }
        let inner = py
            .detach(move || nzpir_sandbox::Sandbox::start(opts))
            .map_err(|e| errors::sandbox(py, e.to_string()))?;
        Ok(Sandbox { inner })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) {
        self.shutdown(py);
    }

    /// Stops serving and removes `manifest.json` (and a temporary PKI folder
    /// when the object is freed). Idempotent.
    fn shutdown(&self, py: Python<'_>) {
        py.detach(|| self.inner.shutdown());
    }

    /// Whether the sandbox is serving.
    #[getter]
    fn running(&self) -> bool {
        self.inner.is_running()
    }

    /// The gateway's base URL (mutual TLS), `https://127.0.0.1:PORT`.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    /// The OAuth listener's base URL (one-way TLS, OAuth endpoints only).
    #[getter]
    fn oauth_url(&self) -> &str {
        self.inner.oauth_url()
    }

    /// `"strict"` or `"ir-mock"`.
    #[getter]
    fn profile(&self) -> &'static str {
        self.inner.profile().as_str()
    }

    /// The manifest (the content of `manifest.json`) as a dict.
    #[getter]
    fn manifest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, self.inner.manifest())
    }

    /// `manifest.json`.
    #[getter]
    fn manifest_path(&self) -> String {
        path_str(self.inner.manifest_path())
    }

    /// The ready client configuration, `nzpir.toml` (mutual TLS, M2M JWT).
    #[getter]
    fn config_path(&self) -> String {
        path_str(self.inner.config_path())
    }

    /// The PKI folder.
    #[getter]
    fn pki_dir(&self) -> String {
        path_str(self.inner.pki_dir())
    }

    /// The test CA certificate (trust it to verify the server).
    #[getter]
    fn ca_cert(&self) -> String {
        path_str(&self.inner.manifest().ca_cert)
    }

    /// The registered TLS client certificate.
    #[getter]
    fn client_cert(&self) -> String {
        path_str(&self.inner.manifest().client_cert)
    }

    /// Its private key.
    #[getter]
    fn client_key(&self) -> String {
        path_str(&self.inner.manifest().client_key)
    }

    /// A client certificate from the sandbox CA that is not registered (EV1023).
    #[getter]
    fn unregistered_client_cert(&self) -> String {
        path_str(&self.inner.manifest().unregistered_client_cert)
    }

    /// Its private key.
    #[getter]
    fn unregistered_client_key(&self) -> String {
        path_str(&self.inner.manifest().unregistered_client_key)
    }

    /// The RS256 JWT signing certificate.
    #[getter]
    fn jwt_rs256_cert(&self) -> String {
        path_str(&self.inner.manifest().jwt_rs256_cert)
    }

    /// Its RSA key.
    #[getter]
    fn jwt_rs256_key(&self) -> String {
        path_str(&self.inner.manifest().jwt_rs256_key)
    }

    /// The ECDSA JWT signing certificate.
    #[getter]
    fn jwt_ec_cert(&self) -> String {
        path_str(&self.inner.manifest().jwt_ec_cert)
    }

    /// Its key.
    #[getter]
    fn jwt_ec_key(&self) -> String {
        path_str(&self.inner.manifest().jwt_ec_key)
    }

    /// The algorithm configured for the ECDSA credential (`ES256`).
    #[getter]
    fn jwt_ec_alg(&self) -> &str {
        &self.inner.manifest().jwt_ec_alg
    }

    /// The keyword arguments of `Client(...)` equal to the ready configuration
    /// (`endpoint`, `cert`, `key`, `ca`, `jwt_cert`, `jwt_key`, `jwt_alg`,
    /// `issuer`, `jwt_ttl`), to adjust before building a client.
    fn client_kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let path = self.inner.config_path().to_owned();
        let cfg = py
            .detach(move || nzpir::Config::from_file(&path))
            .map_err(errors::to_py)?;
        let d = PyDict::new(py);
        let opt_path = |p: &Option<std::path::PathBuf>| p.as_deref().map(path_str);
        d.set_item("endpoint", cfg.endpoint)?;
        d.set_item("cert", opt_path(&cfg.tls.client_cert))?;
        d.set_item("key", opt_path(&cfg.tls.client_key))?;
        d.set_item("ca", opt_path(&cfg.tls.ca_cert))?;
        if let Some(AuthSettings::Jwt(j)) = &cfg.auth {
            d.set_item("jwt_cert", opt_path(&j.cert))?;
            d.set_item("jwt_key", opt_path(&j.key))?;
            d.set_item("jwt_alg", j.alg.as_deref())?;
            d.set_item("issuer", j.issuer.as_deref())?;
            d.set_item("jwt_ttl", j.ttl_secs)?;
        }
        Ok(d)
    }

    /// A client for this sandbox: the ready configuration (mutual TLS, M2M JWT
    /// authorised by the KiwiSaver provider, so send `pie_ird="125000002"`),
    /// with any `Client(...)` keyword arguments given here applied on top. A
    /// bearer token or OAuth settings replace the JWT.
    #[pyo3(signature = (**overrides))]
    fn client(&self, py: Python<'_>, overrides: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let overrides = overrides.filter(|o| !o.is_empty());
        let Some(overrides) = overrides else {
            let path = self.inner.config_path().to_owned();
            let client = Client::from_config_path(py, path, None)?;
            return Ok(Py::new(py, client)?.into_any());
        };
        let kwargs = self.client_kwargs(py)?;
        let mut other_auth = false;
        for key in OTHER_AUTH {
            other_auth |= overrides.contains(key)?;
        }
        if other_auth {
            for key in JWT_KEYS
                .iter()
                .chain(["jwt_ttl", "unset_start_logon"].iter())
            {
                if kwargs.contains(key)? {
                    kwargs.del_item(key)?;
                }
            }
        }
        kwargs.update(overrides.as_mapping())?;
        let client = py.get_type::<Client>().call((), Some(&kwargs))?;
        Ok(client.unbind())
    }

    /// Makes the next requests go wrong, replacing any fault already set.
    /// `kind`: `"delay"` (with `ms`), `"drop_before_read"`, `"drop_after_read"`, `"drop_after_process"`,
    /// `"status"` (with `status`, 500-599), `"truncated_body"`,
    /// `"malformed_body"`, `"pir150"`, `"other_investor"`, `"answer"` (with
    /// `status`, 400-599, and `body`: the JSON text sent as it is, e.g. a
    /// hostile error body) or `"too_many_requests"` (a gateway's 429, with
    /// `Retry-After: secs` when `secs` is given); `times`: how many requests
    /// (default: every one until cleared); `scope`: `"pir"` or `"token"`.
    #[pyo3(signature = (kind, *, times = None, ms = None, status = None, secs = None, body = None, scope = "pir"))]
    #[allow(clippy::too_many_arguments)]
    fn set_fault(
        &self,
        kind: &str,
        times: Option<i64>,
        ms: Option<i64>,
        status: Option<i64>,
        secs: Option<i64>,
        body: Option<&str>,
        scope: &str,
    ) -> PyResult<()> {
        self.inner
            .set_fault(Sandbox::fault(kind, times, ms, status, secs, body, scope)?);
        Ok(())
    }

    /// Adds a fault after those already set (faults apply in order).
    #[pyo3(signature = (kind, *, times = None, ms = None, status = None, secs = None, body = None, scope = "pir"))]
    #[allow(clippy::too_many_arguments)]
    fn add_fault(
        &self,
        kind: &str,
        times: Option<i64>,
        ms: Option<i64>,
        status: Option<i64>,
        secs: Option<i64>,
        body: Option<&str>,
        scope: &str,
    ) -> PyResult<()> {
        self.inner
            .add_fault(Sandbox::fault(kind, times, ms, status, secs, body, scope)?);
        Ok(())
    }

    /// Clears every fault.
    fn clear_faults(&self) {
        self.inner.clear_faults();
    }

    /// The faults still set, as dicts.
    fn faults<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.faults())
    }

    /// How many PIR requests carrying this `IRD` string reached the sandbox
    /// (whatever the answer), to count attempts and retries.
    fn calls_for(&self, ird: &Bound<'_, PyAny>) -> PyResult<u64> {
        let ird =
            convert::opt_str("ird", Some(ird))?.ok_or_else(|| type_error("ird", "str", ird))?;
        Ok(self.inner.pir_calls_for(&ird))
    }

    /// The counters (`pir_requests`, `pir_responses` by status, `ir_codes`,
    /// `token_requests` by grant type, `connections`, ...), as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.stats())
    }

    /// Zeroes the counters and per-IRD call counts (IR003 windows stay).
    fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    /// Forgets every IR003 window.
    fn reset_quotas(&self) {
        self.inner.reset_quotas();
    }

    /// Moves the sandbox's clock `secs` away from the system clock.
    fn set_clock_offset(&self, secs: i64) {
        self.inner.set_clock_offset(secs);
    }

    fn __repr__(&self) -> String {
        format!(
            "Sandbox(url={}, profile={}, running={})",
            convert::quote(self.inner.url()),
            convert::quote(self.inner.profile().as_str()),
            if self.inner.is_running() {
                "True"
            } else {
                "False"
            }
        )
    }
}

//! OAuth: the helpers on `client.oauth`, the token set, and a token store
//! made of any Python object with `load()` and `save(tokens)`.

use std::fmt;
use std::sync::Arc;

use nzpir::oauth::{
    AuthorizationRequest as CoreRequest, OAuthTokenSource, StoreLock, TokenKind,
    TokenSet as CoreTokens, TokenStore,
};
use nzpir::{Error, ErrorKind, Secret};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::{convert, errors};

/// A token store over a Python object: `load() -> dict | None` and
/// `save(tokens: dict) -> None`, and optionally `lock()`, which returns a
/// context manager holding the store's lock across processes (a
/// `filelock.FileLock`, a Redis lock...): the core enters it around every
/// load-refresh-save. The core calls the store from whatever thread needs a
/// token (with the GIL released); each call takes the GIL for its duration.
pub(crate) struct PyTokenStore {
    obj: Py<PyAny>,
}

impl fmt::Debug for PyTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PyTokenStore")
    }
}

impl PyTokenStore {
    pub(crate) fn new(obj: Py<PyAny>) -> Self {
        PyTokenStore { obj }
    }
}

/// A store failure. The message names the method and the exception's type
/// only (a store's own message might quote a token); the exception itself is
/// kept as the source, and becomes the `TokenStoreError`'s `__cause__`.
fn callback_error(py: Python<'_>, method: &str, err: PyErr) -> Error {
    let type_name = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an exception".to_owned());
    Error::new(
        ErrorKind::TokenStore,
        format!("token store {method} raised {type_name}"),
    )
    .with_source(err)
}

fn bad_tokens(problem: &str) -> Error {
    Error::new(
        ErrorKind::TokenStore,
        format!("token store load() returned an invalid token set: {problem}"),
    )
}

fn tokens_from_dict(d: &Bound<'_, PyAny>) -> Result<CoreTokens, Error> {
    let d = d
        .cast::<PyDict>()
        .map_err(|_| bad_tokens("expected a dict or None"))?;
    let text = |key: &str, required: bool| -> Result<Option<String>, Error> {
        match d.get_item(key).ok().flatten() {
            None => {
                if required {
                    Err(bad_tokens(&format!("{key:?} is missing")))
                } else {
                    Ok(None)
                }
            }
            Some(v) if v.is_none() && !required => Ok(None),
            Some(v) => v
                .cast::<PyString>()
                .ok()
                .and_then(|s| s.to_cow().ok().map(|c| c.into_owned()))
                .map(Some)
                .ok_or_else(|| bad_tokens(&format!("{key:?} must be a str"))),
        }
    };
    let access = text("access_token", true)?.unwrap_or_default();
    let expires_at = match d.get_item("expires_at").ok().flatten() {
        Some(v) if !v.is_instance_of::<pyo3::types::PyBool>() => v
            .extract::<i64>()
            .map_err(|_| bad_tokens("\"expires_at\" must be an int (seconds since the epoch)"))?,
        _ => {
            return Err(bad_tokens(
                "\"expires_at\" must be an int (seconds since the epoch)",
            ));
        }
    };
    Ok(CoreTokens {
        access_token: Secret::new(access),
        refresh_token: text("refresh_token", false)?.map(Secret::new),
        expires_at,
        scope: text("scope", false)?,
    })
}

fn tokens_to_dict<'py>(py: Python<'py>, t: &CoreTokens) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("access_token", t.access_token.expose())?;
    d.set_item(
        "refresh_token",
        t.refresh_token.as_ref().map(Secret::expose),
    )?;
    d.set_item("expires_at", t.expires_at)?;
    d.set_item("scope", t.scope.as_deref())?;
    Ok(d)
}

/// A held `lock()` context manager: left (`__exit__(None, None, None)`) when
/// the core drops it.
struct HeldLock(Option<Py<PyAny>>);

impl Drop for HeldLock {
    fn drop(&mut self) {
        let Some(cm) = self.0.take() else { return };
        // During interpreter shutdown there is nothing left to release into.
        let _ = Python::try_attach(|py| {
            if let Err(e) = cm.call_method1(py, "__exit__", (py.None(), py.None(), py.None())) {
                // The refresh itself is done and stored; a lock that cannot be
                // released is the host's to see (its own exception, in the
                // `nzpir` log with its type only: the text may quote a path).
                let name = e
                    .get_type(py)
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                log::warn!(target: "nzpir", "token store lock: __exit__ raised {name}");
            }
        });
    }
}

impl TokenStore for PyTokenStore {
    fn lock(&self) -> Result<StoreLock, Error> {
        Python::attach(|py| {
            let obj = self.obj.bind(py);
            let lock = match obj.getattr("lock") {
                Ok(f) if f.is_callable() => f,
                Ok(f) if f.is_none() => return Ok(StoreLock::none()),
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::TokenStore,
                        "token store lock must be a method returning a context manager",
                    ));
                }
                Err(_) => return Ok(StoreLock::none()),
            };
            let cm = lock.call0().map_err(|e| callback_error(py, "lock()", e))?;
            cm.call_method0("__enter__").map_err(|e| {
                if cm.hasattr("__enter__").unwrap_or(false) {
                    callback_error(py, "lock().__enter__()", e)
                } else {
                    Error::new(
                        ErrorKind::TokenStore,
                        "token store lock() must return a context manager (with __enter__ and __exit__)",
                    )
                }
            })?;
            Ok(StoreLock::held(HeldLock(Some(cm.unbind()))))
        })
    }

    fn load(&self) -> Result<Option<CoreTokens>, Error> {
        Python::attach(|py| {
            let got = self
                .obj
                .bind(py)
                .call_method0("load")
                .map_err(|e| callback_error(py, "load()", e))?;
            if got.is_none() {
                Ok(None)
            } else {
                tokens_from_dict(&got).map(Some)
            }
        })
    }

    fn save(&self, tokens: &CoreTokens) -> Result<(), Error> {
        Python::attach(|py| {
            let d = tokens_to_dict(py, tokens).map_err(|e| callback_error(py, "save()", e))?;
            self.obj
                .bind(py)
                .call_method1("save", (d,))
                .map_err(|e| callback_error(py, "save()", e))?;
            Ok(())
        })
    }
}

/// OAuth tokens of one grant. `repr()` never shows the tokens.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct TokenSet {
    inner: CoreTokens,
}

#[pymethods]
impl TokenSet {
    /// The access token (sent as `Authorization: Bearer ...`).
    #[getter]
    fn access_token(&self) -> &str {
        self.inner.access_token.expose()
    }

    /// The refresh token; `None` for desktop applications.
    #[getter]
    fn refresh_token(&self) -> Option<&str> {
        self.inner.refresh_token.as_ref().map(Secret::expose)
    }

    /// When the access token expires, in seconds since the Unix epoch.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.inner.expires_at
    }

    /// The granted scope.
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }

    /// The tokens as the dict a token store's `save()` receives.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        tokens_to_dict(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "TokenSet(access_token=<redacted>, refresh_token={}, expires_at={}, scope={})",
            if self.inner.refresh_token.is_some() {
                "<redacted>"
            } else {
                "None"
            },
            self.inner.expires_at,
            self.inner
                .scope
                .as_deref()
                .map_or("None".to_owned(), convert::quote)
        )
    }
}

/// An authorisation in progress: send the person's browser to `url`, then
/// pass the URL IR redirects back to to `OAuth.complete`.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct AuthorizationRequest {
    inner: CoreRequest,
}

#[pymethods]
impl AuthorizationRequest {
    /// IR's authorize URL with every parameter (PKCE S256, state).
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    /// The `state` sent; the redirect back must carry the same.
    #[getter]
    fn state(&self) -> &str {
        self.inner.state()
    }

    /// The PKCE code verifier (a secret until the exchange).
    #[getter]
    fn code_verifier(&self) -> &str {
        self.inner.pkce().verifier().expose()
    }

    fn __repr__(&self) -> String {
        // The state is a secret until the browser comes back (it is what
        // ties the redirect to this request), and the URL carries it.
        let endpoint = self.inner.url().split('?').next().unwrap_or_default();
        format!(
            "AuthorizationRequest(url={}, state=<redacted>, code_verifier=<redacted>)",
            convert::quote(&format!("{endpoint}?<redacted>"))
        )
    }
}

fn token_kind(kind: &str) -> PyResult<TokenKind> {
    match kind {
        "access" | "access_token" => Ok(TokenKind::Access),
        "refresh" | "refresh_token" => Ok(TokenKind::Refresh),
        _ => Err(pyo3::exceptions::PyValueError::new_err(
            "kind: must be \"access\" or \"refresh\"",
        )),
    }
}

/// OAuth helpers of a client built with OAuth settings (`client.oauth`):
/// start and complete an authorisation, refresh, introspect and revoke. Every
/// call releases the GIL.
#[pyclass(module = "nzpir", frozen)]
pub(crate) struct OAuth {
    source: Arc<OAuthTokenSource>,
}

impl OAuth {
    pub(crate) fn new(source: Arc<OAuthTokenSource>) -> Self {
        OAuth { source }
    }

    /// The given token, or the stored token of `kind`.
    fn token(&self, py: Python<'_>, token: Option<String>, kind: TokenKind) -> PyResult<Secret> {
        if let Some(t) = token {
            return Ok(Secret::new(t));
        }
        let source = Arc::clone(&self.source);
        let stored = py
            .detach(move || source.store().load())
            .map_err(errors::to_py)?;
        let t = stored.and_then(|t| match kind {
            TokenKind::Access => Some(t.access_token),
            TokenKind::Refresh => t.refresh_token,
        });
        t.ok_or_else(|| {
            errors::to_py(Error::new(
                ErrorKind::ConsentRequired,
                "OAuth: no such token stored; a myIR user must authorise first",
            ))
        })
    }
}

/// A `DeprecationWarning` naming the old spelling and the new one.
pub(crate) fn deprecated(py: Python<'_>, old: &str, new: &str) -> PyResult<()> {
    PyErr::warn(
        py,
        &py.get_type::<pyo3::exceptions::PyDeprecationWarning>(),
        &std::ffi::CString::new(format!("{old} is deprecated; use {new}")).unwrap_or_default(),
        1,
    )
}

#[pymethods]
impl OAuth {
    /// Starts an authorisation: a fresh state and PKCE pair, and the URL to
    /// send the person's browser to.
    fn authorization_request(&self) -> PyResult<AuthorizationRequest> {
        let inner = self
            .source
            .oauth()
            .authorization_request()
            .map_err(errors::to_py)?;
        Ok(AuthorizationRequest { inner })
    }

    /// Deprecated: `authorization_request()`, the name every surface uses.
    fn start(&self, py: Python<'_>) -> PyResult<AuthorizationRequest> {
        deprecated(py, "OAuth.start()", "OAuth.authorization_request()")?;
        self.authorization_request()
    }

    /// Deprecated: `complete_authorization()`, the name every surface uses.
    fn complete(
        &self,
        py: Python<'_>,
        request: &Bound<'_, AuthorizationRequest>,
        redirect_url: &str,
    ) -> PyResult<TokenSet> {
        deprecated(py, "OAuth.complete()", "OAuth.complete_authorization()")?;
        self.complete_authorization(py, request, redirect_url)
    }

    /// Completes an authorisation from the URL IR redirected back to (or just
    /// its query): checks the state, exchanges the code with the PKCE
    /// verifier, stores the tokens and makes the client use them.
    fn complete_authorization(
        &self,
        py: Python<'_>,
        request: &Bound<'_, AuthorizationRequest>,
        redirect_url: &str,
    ) -> PyResult<TokenSet> {
        let request = request.get().inner.clone();
        let redirect = redirect_url.to_owned();
        let source = Arc::clone(&self.source);
        let tokens = py
            .detach(move || source.complete_authorization(&request, &redirect))
            .map_err(errors::to_py)?;
        Ok(TokenSet { inner: tokens })
    }

    /// Refreshes now (IR's refresh tokens rotate: the new set is stored
    /// before it is returned) and returns the new tokens.
    fn refresh(&self, py: Python<'_>) -> PyResult<TokenSet> {
        let source = Arc::clone(&self.source);
        let tokens = py
            .detach(move || source.refresh_now())
            .map_err(errors::to_py)?;
        Ok(TokenSet { inner: tokens })
    }

    /// The tokens the store holds, or `None`.
    fn tokens(&self, py: Python<'_>) -> PyResult<Option<TokenSet>> {
        let source = Arc::clone(&self.source);
        let stored = py
            .detach(move || source.store().load())
            .map_err(errors::to_py)?;
        Ok(stored.map(|inner| TokenSet { inner }))
    }

    /// Asks IR whether a token is live: `active`, `client_id`, `username`,
    /// `sub`, `scope`, `exp`, `iat`. Without `token`, the stored token of
    /// `kind` (`"access"` or `"refresh"`).
    #[pyo3(signature = (token = None, *, kind = "access"))]
    fn introspect<'py>(
        &self,
        py: Python<'py>,
        token: Option<String>,
        kind: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let kind = token_kind(kind)?;
        let token = self.token(py, token, kind)?;
        let source = Arc::clone(&self.source);
        let i = py
            .detach(move || source.oauth().introspect(&token, kind))
            .map_err(errors::to_py)?;
        let d = PyDict::new(py);
        d.set_item("active", i.active)?;
        d.set_item("client_id", i.client_id)?;
        d.set_item("username", i.username)?;
        d.set_item("sub", i.sub)?;
        d.set_item("scope", i.scope)?;
        d.set_item("exp", i.exp)?;
        d.set_item("iat", i.iat)?;
        Ok(d)
    }

    /// Revokes a token at IR (revoking a refresh token also revokes the access
    /// tokens issued with it). Without `token`, the stored token of `kind`.
    #[pyo3(signature = (token = None, *, kind = "refresh"))]
    fn revoke(&self, py: Python<'_>, token: Option<String>, kind: &str) -> PyResult<()> {
        let kind = token_kind(kind)?;
        let token = self.token(py, token, kind)?;
        let source = Arc::clone(&self.source);
        py.detach(move || source.oauth().revoke(&token, kind))
            .map_err(errors::to_py)
    }

    fn __repr__(&self) -> String {
        let c = self.source.oauth().config();
        format!(
            "OAuth(client_id={}, endpoint={})",
            convert::quote(&c.client_id),
            convert::quote(&c.base_url)
        )
    }
}

//! An OAuth token store written in JavaScript: an object with `load()` and
//! `save(tokens)`, each returning a value or a Promise, and optionally
//! `lock()`, which takes the store's lock across processes and returns (or
//! resolves to) the function that releases it, as `proper-lockfile`'s
//! `lock()` does. The core holds that lock around every load-refresh-save.
//!
//! The core calls a [`TokenStore`] synchronously from the worker thread that
//! runs a lookup (one of the binding's own threads, never libuv's).
//! [`JsTokenStore`] hands each call to the JavaScript thread through a
//! threadsafe function and waits there for the Promise to settle. The
//! JavaScript thread is free to run it because every call of this module is
//! asynchronous, and libuv's pool is free for the store's own file, DNS or
//! crypto work because no lookup holds one of its threads; a call that does
//! not settle within [`STORE_TIMEOUT`] fails with `NZPIR_TOKEN_STORE` rather
//! than hanging.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, ValueType};
use nzpir::oauth::{StoreLock, TokenSet, TokenStore};
use nzpir::{ErrorKind, Secret};

use crate::args::{Fields, is_nullish};
use crate::error::ArgError;

/// How long the core waits for `load()` or `save()` to settle.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(30);

/// The token set as JavaScript sees it (`save(tokens)` receives one,
/// `load()` returns one or `null`). It holds secrets: keep it where the
/// application keeps secrets.
#[napi(object, js_name = "TokenSet", use_nullable = true)]
pub struct TokenSetJs {
    /// The access token.
    pub access_token: String,
    /// The refresh token (IR's are single-use: keep the latest); `null` for
    /// desktop applications.
    pub refresh_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The granted scope.
    pub scope: Option<String>,
}

impl From<&TokenSet> for TokenSetJs {
    fn from(t: &TokenSet) -> Self {
        TokenSetJs {
            access_token: t.access_token.expose().to_owned(),
            refresh_token: t.refresh_token.as_ref().map(|r| r.expose().to_owned()),
            expires_at: t.expires_at,
            scope: t.scope.clone(),
        }
    }
}

/// What `load()` gave, checked on the JavaScript thread.
struct Loaded(std::result::Result<Option<TokenSet>, ArgError>);

fn read_tokens(v: Unknown<'_>) -> std::result::Result<Option<TokenSet>, ArgError> {
    if is_nullish(&v) {
        return Ok(None);
    }
    let f = Fields::new(v, "tokenStore.load()")?;
    let access = f.required_string("accessToken")?;
    let refresh = f.string("refreshToken")?;
    let expires = f.number("expiresAt")?.ok_or_else(|| {
        ArgError::new(
            f.path_of("expiresAt"),
            "is required (seconds since the Unix epoch)",
        )
    })?;
    Ok(Some(TokenSet {
        access_token: Secret::new(access),
        refresh_token: refresh.filter(|r| !r.is_empty()).map(Secret::new),
        expires_at: expires as i64,
        scope: f.string("scope")?,
    }))
}

impl FromNapiValue for Loaded {
    unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> Result<Self> {
        let v = unsafe { Unknown::from_raw_unchecked(env, v) };
        Ok(Loaded(read_tokens(v)))
    }
}

/// Whatever `save()` resolved with (it is ignored).
struct Ignored;

impl FromNapiValue for Ignored {
    unsafe fn from_napi_value(_: napi::sys::napi_env, _: napi::sys::napi_value) -> Result<Self> {
        Ok(Ignored)
    }
}

/// What `lock()` gave: the function that releases the lock, made callable
/// from the worker thread that will drop the lock.
struct Release(std::result::Result<Tsfn<()>, &'static str>);

impl FromNapiValue for Release {
    unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> Result<Self> {
        let u = unsafe { Unknown::from_raw_unchecked(env, v) };
        if u.get_type()? != ValueType::Function {
            return Ok(Release(Err(
                "token store lock() must return (or resolve to) the function that releases the lock",
            )));
        }
        let f: Function<'_, (), Unknown<'static>> = unsafe { Function::from_napi_value(env, v)? };
        Ok(Release(Ok(f
            .build_threadsafe_function()
            .weak::<true>()
            .build()?)))
    }
}

/// A held JavaScript lock: its release function is called (and awaited, at
/// most [`STORE_TIMEOUT`]) when the core drops it.
struct HeldLock(Tsfn<()>);

impl Drop for HeldLock {
    fn drop(&mut self) {
        // The refresh is done and stored by now; a release that throws is the
        // host's own failure, seen by its own code.
        let _ = call::<(), Ignored>("lock release", &self.0, ());
    }
}

/// The answer of one call, sent from the JavaScript thread to the worker.
enum Reply<T: FromNapiValue + 'static> {
    /// The function returned a value at once (or threw: `Err`).
    Ready(Result<T>),
    /// The function returned a Promise.
    Pending(Promise<T>),
}

// SAFETY: a `Promise<T>` is a receiver of a channel; the value it carries is
// produced on the JavaScript thread and only moved, never touched, here.
unsafe impl<T: FromNapiValue + Send + 'static> Send for Reply<T> {}

type Tsfn<A> = ThreadsafeFunction<A, Unknown<'static>, A, Status, false, true>;

/// A [`TokenStore`] over a JavaScript object's `load()` and `save(tokens)`.
pub struct JsTokenStore {
    load: Tsfn<()>,
    save: Tsfn<TokenSetJs>,
    lock: Option<Tsfn<()>>,
}

impl std::fmt::Debug for JsTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsTokenStore")
    }
}

impl JsTokenStore {
    /// Wraps `store` (an object with `load` and `save` methods; checked
    /// here). Its functions are bound to it, so `this` works inside them.
    /// The threadsafe functions are weak: they do not keep the process alive.
    pub fn new(store: &Fields<'_>) -> std::result::Result<Self, ArgError> {
        let load = store.function("load")?.ok_or_else(|| {
            ArgError::new(
                store.path_of("load"),
                "is required: async () => tokens | null",
            )
        })?;
        let save = store.function("save")?.ok_or_else(|| {
            ArgError::new(store.path_of("save"), "is required: async (tokens) => void")
        })?;
        let lock = store.function("lock")?;
        let this = store.object();
        let bad = |key: &str| ArgError::new(store.path_of(key), "could not be bound to the store");
        let lock = match lock {
            None => None,
            Some(lock) => {
                let lock: Function<'_, (), Unknown<'static>> = lock
                    .bind(this)
                    .and_then(|f| unsafe { Function::from_napi_value(f.value().env, f.raw()) })
                    .map_err(|_| bad("lock"))?;
                Some(
                    lock.build_threadsafe_function()
                        .weak::<true>()
                        .build()
                        .map_err(|_| bad("lock"))?,
                )
            }
        };
        let load: Function<'_, (), Unknown<'static>> = load
            .bind(this)
            .and_then(|f| unsafe { Function::from_napi_value(f.value().env, f.raw()) })
            .map_err(|_| bad("load"))?;
        let save: Function<'_, TokenSetJs, Unknown<'static>> = save
            .bind(this)
            .and_then(|f| unsafe { Function::from_napi_value(f.value().env, f.raw()) })
            .map_err(|_| bad("save"))?;
        Ok(JsTokenStore {
            load: load
                .build_threadsafe_function()
                .weak::<true>()
                .build()
                .map_err(|_| bad("load"))?,
            save: save
                .build_threadsafe_function()
                .weak::<true>()
                .build()
                .map_err(|_| bad("save"))?,
            lock,
        })
    }
}

fn store_error(message: impl Into<String>) -> nzpir::Error {
    nzpir::Error::new(ErrorKind::TokenStore, message.into())
}

/// What nzpir's message says of a JavaScript failure: that it threw or
/// rejected, never its text. A store's exception text is the host's, and may
/// quote a token or a path with a person's name; the host has it already.
fn describe(_: &Error) -> &'static str {
    "it threw or rejected (its message is not repeated here)"
}

/// Calls `f` on the JavaScript thread with `arg` and waits for its value or
/// its Promise.
fn call<A, T>(what: &str, f: &Tsfn<A>, arg: A) -> std::result::Result<T, nzpir::Error>
where
    A: 'static + napi::bindgen_prelude::JsValuesTupleIntoVec,
    T: FromNapiValue + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<Reply<T>>(1);
    let status = f.call_with_return_value(
        arg,
        ThreadsafeFunctionCallMode::Blocking,
        move |ret: Result<Unknown<'static>>, env: Env| {
            let reply = match ret {
                Err(e) => Reply::Ready(Err(e)),
                Ok(v) if v.is_promise().unwrap_or(false) => {
                    match unsafe { Promise::<T>::from_napi_value(env.raw(), v.raw()) } {
                        Ok(p) => Reply::Pending(p),
                        Err(e) => Reply::Ready(Err(e)),
                    }
                }
                Ok(v) => Reply::Ready(unsafe { T::from_napi_value(env.raw(), v.raw()) }),
            };
            // The worker may have given up waiting; nothing to do then.
            let _ = tx.send(reply);
            Ok(())
        },
    );
    if status != Status::Ok {
        return Err(store_error(format!(
            "token store {what}: JavaScript could not be called ({status})"
        )));
    }
    let deadline = Instant::now() + STORE_TIMEOUT;
    let timed_out = || {
        store_error(format!(
            "token store {what} did not settle within {} s",
            STORE_TIMEOUT.as_secs()
        ))
    };
    let reply = rx.recv_timeout(STORE_TIMEOUT).map_err(|_| timed_out())?;
    let result = match reply {
        Reply::Ready(r) => r,
        Reply::Pending(p) => block_on(p, deadline).ok_or_else(timed_out)?,
    };
    result.map_err(|e| store_error(format!("token store {what} failed: {}", describe(&e))))
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread until it is ready or `deadline` passes.
fn block_on<F: Future>(fut: F, deadline: Instant) -> Option<F::Output> {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::park_timeout(deadline - now);
    }
}

impl TokenStore for JsTokenStore {
    fn lock(&self) -> std::result::Result<StoreLock, nzpir::Error> {
        let Some(lock) = &self.lock else {
            return Ok(StoreLock::none());
        };
        let Release(release) = call::<(), Release>("lock()", lock, ())?;
        Ok(StoreLock::held(HeldLock(release.map_err(store_error)?)))
    }

    fn load(&self) -> std::result::Result<Option<TokenSet>, nzpir::Error> {
        let Loaded(r) = call::<(), Loaded>("load()", &self.load, ())?;
        r.map_err(|e| {
            store_error(format!(
                "token store load() returned a bad value: {}",
                e.message
            ))
        })
    }

    fn save(&self, tokens: &TokenSet) -> std::result::Result<(), nzpir::Error> {
        call::<TokenSetJs, Ignored>("save()", &self.save, TokenSetJs::from(tokens)).map(|_| ())
    }
}

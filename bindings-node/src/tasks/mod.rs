//! Blocking work run on the binding's own threads (`pool`), not libuv's:
//! each call returns a Promise, the work runs on a pool thread, and the
//! result or the error object is made on the JavaScript thread. Nothing here
//! blocks the event loop, and nothing here takes a thread from libuv's pool,
//! which a JavaScript token store may need while a lookup waits on it.

mod lookup;
pub mod oauth;
mod pool;
mod sandbox;

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::JsDeferred;
use napi::bindgen_prelude::*;

pub use lookup::{Lookup, LookupResult, Status};
pub use oauth::{CompleteAuthorization, Introspect, Refresh, Revoke};
pub use sandbox::{StartSandbox, StopSandbox};

use crate::error::{Failure, to_js};

/// One piece of blocking work and how its answer becomes a JavaScript value.
pub trait Work: Send + 'static {
    /// The answer, made on the pool thread.
    type Output: Send + 'static;
    /// What the Promise resolves with.
    type JsValue: ToNapiValue + TypeName;

    /// Runs on a pool thread.
    fn run(&mut self) -> std::result::Result<Self::Output, Failure>;

    /// Runs on the JavaScript thread.
    fn to_js(&mut self, env: &Env, output: Self::Output) -> Result<Self::JsValue>;
}

/// What settles a Promise, on the JavaScript thread.
type Settle<W> = Box<dyn FnOnce(Env) -> Result<<W as Work>::JsValue>>;

/// A [`Work`] and the Promise it settles: an error (an argument's, the
/// core's) always reaches JavaScript as a rejection with a typed error
/// object, never as a thrown exception in the middle of the event loop.
struct Blocking<W: Work> {
    work: W,
    deferred: JsDeferred<W::JsValue, Settle<W>>,
}

impl<W: Work> pool::Job for Blocking<W> {
    fn run(self: Box<Self>) {
        let Blocking { mut work, deferred } = *self;
        match catch_unwind(AssertUnwindSafe(|| work.run())) {
            Ok(output) => deferred.resolve(Box::new(move |env: Env| match output {
                Ok(v) => work.to_js(&env, v),
                Err(f) => Err(to_js(&env, f)),
            })),
            Err(_) => deferred.reject(Error::new(
                napi::Status::GenericFailure,
                "nzpir: internal error (a worker thread panicked)",
            )),
        }
    }

    fn refuse(self: Box<Self>, error: std::io::Error) {
        self.deferred.reject(Error::new(
            napi::Status::GenericFailure,
            format!("nzpir: could not start a worker thread: {error}"),
        ));
    }
}

/// The Promise of a piece of work, run on the binding's pool. The Promise's
/// pending settlement keeps the event loop (and so the process) alive until
/// the work is done, as libuv's own work requests do; the pool's threads do
/// not.
pub fn spawn<'env, W: Work>(env: &'env Env, work: W) -> Result<PromiseRaw<'env, W::JsValue>> {
    let (deferred, promise) = env.create_deferred::<W::JsValue, Settle<W>>()?;
    pool::execute(Box::new(Blocking { work, deferred }));
    Ok(PromiseRaw::new(env.raw(), promise.raw()))
}

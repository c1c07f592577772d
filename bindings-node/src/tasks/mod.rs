//! Blocking work run on threads of the binding's own, not libuv's: each call
//! returns a Promise, the work runs on a thread of the `blocking` crate's
//! pool, and the result or the error object is made on the JavaScript
//! thread. Nothing here blocks the event loop, and nothing here takes a
//! thread from libuv's pool (4 threads by default, shared with Node's file
//! system, DNS and crypto work), which a JavaScript token store may need
//! while a lookup waits on it: with as many lookups in flight as libuv has
//! threads, a store's `fs.promises` read would wait for a thread that only
//! the store's own answer could free.
//!
//! That pool starts threads as work arrives (up to 500, or
//! `BLOCKING_MAX_THREADS`) and ends idle ones; its threads hold no libuv
//! handle, so what keeps the process alive while a call runs is only the
//! Promise's pending settlement.

mod lookup;
pub mod oauth;
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

impl<W: Work> Blocking<W> {
    fn run(self) {
        let Blocking { mut work, deferred } = self;
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
}

/// The Promise of a piece of work, run on the blocking pool. The Promise's
/// pending settlement keeps the event loop (and so the process) alive until
/// the work is done, as libuv's own work requests do; the pool's threads do
/// not.
pub fn spawn<'env, W: Work>(env: &'env Env, work: W) -> Result<PromiseRaw<'env, W::JsValue>> {
    let (deferred, promise) = env.create_deferred::<W::JsValue, Settle<W>>()?;
    let job = Blocking { work, deferred };
    // Detached: the work runs whether or not the task is polled, and settles
    // the Promise itself.
    blocking::unblock(move || job.run()).detach();
    Ok(PromiseRaw::new(env.raw(), promise.raw()))
}

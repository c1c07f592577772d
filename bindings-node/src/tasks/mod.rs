//! Blocking work run on libuv's thread pool: each call returns a Promise
//! (napi's `AsyncTask`), `compute` runs on a pool thread, and the result or the
//! error object is made on the JavaScript thread. Nothing here blocks the
//! event loop.

mod lookup;
pub mod oauth;
mod sandbox;

use napi::bindgen_prelude::*;

pub use lookup::{Lookup, Status};
pub use oauth::{CompleteAuthorization, Introspect, Refresh, Revoke};
pub use sandbox::{StartSandbox, StopSandbox};

use crate::error::{Failure, to_js};

/// One piece of blocking work and how its answer becomes a JavaScript value.
pub trait Work: Send + 'static {
    /// The answer, made on the pool thread.
    type Output: Send + 'static;
    /// What the Promise resolves with.
    type JsValue: ToNapiValue + TypeName;

    /// Runs on a libuv pool thread.
    fn run(&mut self) -> std::result::Result<Self::Output, Failure>;

    /// Runs on the JavaScript thread.
    fn to_js(&mut self, env: &Env, output: Self::Output) -> Result<Self::JsValue>;
}

/// The `Task` for any [`Work`]: an error (an argument's, the core's) always
/// reaches JavaScript as a rejection with a typed error object, never as a
/// thrown exception in the middle of the event loop.
pub struct Blocking<W: Work>(pub W);

impl<W: Work> Task for Blocking<W> {
    type Output = std::result::Result<W::Output, Failure>;
    type JsValue = W::JsValue;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.0.run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        match output {
            Ok(v) => self.0.to_js(&env, v),
            Err(f) => Err(to_js(&env, f)),
        }
    }
}

/// Shorthand: the Promise of a piece of work.
pub fn spawn<W: Work>(work: W) -> AsyncTask<Blocking<W>> {
    AsyncTask::new(Blocking(work))
}

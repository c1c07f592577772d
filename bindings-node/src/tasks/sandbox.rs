//! Starting and stopping a sandbox: making its PKI (RSA and ECDSA keys) and
//! joining its threads take long enough to keep off the JavaScript thread.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use nzpir_sandbox::SandboxOptions;

use super::Work;
use crate::error::{ArgError, Failure};
use crate::sandbox::Sandbox;

/// Starts a sandbox; options that could not be read fail here, so that the
/// Promise rejects.
pub struct StartSandbox {
    pub options: Option<std::result::Result<SandboxOptions, ArgError>>,
}

impl Work for StartSandbox {
    type Output = nzpir_sandbox::Sandbox;
    type JsValue = Sandbox;

    fn run(&mut self) -> std::result::Result<nzpir_sandbox::Sandbox, Failure> {
        let options = self
            .options
            .take()
            .unwrap_or_else(|| Ok(SandboxOptions::default()))?;
        Ok(nzpir_sandbox::Sandbox::start(options)?)
    }

    fn to_js(&mut self, _: &Env, sb: nzpir_sandbox::Sandbox) -> Result<Sandbox> {
        Ok(Sandbox::wrap(sb))
    }
}

/// Stops a sandbox and waits for its threads.
pub struct StopSandbox {
    pub sandbox: Arc<nzpir_sandbox::Sandbox>,
}

impl Work for StopSandbox {
    type Output = ();
    type JsValue = ();

    fn run(&mut self) -> std::result::Result<(), Failure> {
        self.sandbox.shutdown();
        Ok(())
    }

    fn to_js(&mut self, _: &Env, _: ()) -> Result<()> {
        Ok(())
    }
}

//! `Sandbox`: nzpir's local emulator of IR's gateway and OAuth server, over
//! real mutual TLS, in this process (on its own threads).

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use nzpir_sandbox::{Fault, Profile, SandboxOptions};
use serde_json::{Map, Value};

use crate::args::{Fields, string_arg};
use crate::error::{ArgError, throw};
use crate::tasks::{StartSandbox, StopSandbox, spawn};

fn options_from(v: Option<Unknown<'_>>) -> std::result::Result<SandboxOptions, ArgError> {
    let mut o = SandboxOptions::default();
    let Some(f) = Fields::optional(v, "options")? else {
        return Ok(o);
    };
    f.only(&[
        "profile",
        "pkiDir",
        "fixtureFile",
        "ir003Limit",
        "clockOffset",
        "accessTokenTtl",
        "expiresInAsString",
    ])?;
    if let Some(p) = f.string("profile")? {
        let profile: Profile = p
            .parse()
            .map_err(|_| ArgError::new(f.path_of("profile"), "must be `strict` or `ir-mock`"))?;
        o = o.profile(profile);
    }
    if let Some(d) = f.string("pkiDir")? {
        o = o.pki_dir(d);
    }
    if let Some(p) = f.string("fixtureFile")? {
        o = o.fixture_file(p);
    }
    if let Some(n) = f.count("ir003Limit")? {
        o = o.ir003_limit(n);
    }
    if let Some(s) = f.number("clockOffset")? {
        o = o.clock_offset(s as i64);
    }
    if let Some(ms) = f.seconds("accessTokenTtl")? {
        o = o.access_token_ttl(Duration::from_millis(ms as u64));
    }
    if let Some(b) = f.boolean("expiresInAsString")? {
        o = o.expires_in_as_string(b);
    }
    Ok(o)
}

fn fault_from(v: Unknown<'_>) -> std::result::Result<Fault, ArgError> {
    let f = Fields::new(v, "fault")?;
    f.only(&["kind", "ms", "status", "secs", "times", "scope", "body"])?;
    let mut json = Map::new();
    json.insert("kind".into(), Value::String(f.required_string("kind")?));
    for key in ["ms", "status", "secs", "times"] {
        if let Some(n) = f.count(key)? {
            json.insert(key.into(), Value::from(n));
        }
    }
    for key in ["scope", "body"] {
        if let Some(s) = f.string(key)? {
            json.insert(key.into(), Value::String(s));
        }
    }
    Fault::from_json(Value::Object(json)).map_err(|p| ArgError::new("fault", p))
}

/// A running sandbox. Start one with `await Sandbox.start()`, point a client
/// at `configPath` (or at `manifest`'s files), and `await sandbox.stop()`
/// when done (it also stops when garbage-collected or at exit).
#[napi]
pub struct Sandbox {
    inner: Arc<nzpir_sandbox::Sandbox>,
}

impl Sandbox {
    pub fn wrap(sb: nzpir_sandbox::Sandbox) -> Self {
        Sandbox {
            inner: Arc::new(sb),
        }
    }
}

#[napi]
impl Sandbox {
    /// Starts a sandbox (profile `strict` by default) on 127.0.0.1, on an
    /// ephemeral port, with a fresh PKI in a temporary folder unless
    /// `options.pkiDir` is given. Resolves once it is listening.
    #[napi(
        ts_args_type = "options?: SandboxOptions",
        ts_return_type = "Promise<Sandbox>"
    )]
    pub fn start<'env>(
        env: &'env Env,
        options: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Sandbox>> {
        spawn(
            env,
            StartSandbox {
                options: Some(options_from(options)),
            },
        )
    }

    /// Stops serving and waits for the sandbox's threads.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        spawn(
            env,
            StopSandbox {
                sandbox: Arc::clone(&self.inner),
            },
        )
    }

    /// Whether it is still serving.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.inner.is_running()
    }

    /// The gateway's base URL (`https://127.0.0.1:PORT`, mutual TLS).
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.inner.url().to_owned()
    }

    /// The OAuth listener's base URL (one-way TLS, as IR's OAuth host).
    #[napi(getter)]
    pub fn oauth_url(&self) -> String {
        self.inner.oauth_url().to_owned()
    }

    /// `strict` or `ir-mock`.
    #[napi(getter)]
    pub fn profile(&self) -> String {
        self.inner.profile().as_str().to_owned()
    }

    /// The manifest (the same as `manifest.json`; its keys are a contract and
    /// keep the file's snake_case spelling).
    #[napi(getter, ts_return_type = "SandboxManifest")]
    pub fn manifest(&self) -> Value {
        serde_json::to_value(self.inner.manifest()).unwrap_or(Value::Null)
    }

    /// The path of `manifest.json`.
    #[napi(getter)]
    pub fn manifest_path(&self) -> String {
        self.inner.manifest_path().display().to_string()
    }

    /// The path of the ready client configuration (`nzpir.toml`): pass it to
    /// `Client.fromConfig`.
    #[napi(getter)]
    pub fn config_path(&self) -> String {
        self.inner.config_path().display().to_string()
    }

    /// The folder with the PKI, `nzpir.toml` and `manifest.json`.
    #[napi(getter)]
    pub fn pki_dir(&self) -> String {
        self.inner.pki_dir().display().to_string()
    }

    /// Replaces every fault with `fault` (for tests): e.g.
    /// `{kind: 'delay', ms: 500, times: 1}` or `{kind: 'status', status: 503}`.
    #[napi(ts_args_type = "fault: FaultSpec")]
    pub fn set_fault(&self, env: Env, fault: Unknown<'_>) -> Result<()> {
        let fault = throw(&env, fault_from(fault))?;
        self.inner.set_fault(fault);
        Ok(())
    }

    /// Adds a fault after those already set (faults apply in order).
    #[napi(ts_args_type = "fault: FaultSpec")]
    pub fn add_fault(&self, env: Env, fault: Unknown<'_>) -> Result<()> {
        let fault = throw(&env, fault_from(fault))?;
        self.inner.add_fault(fault);
        Ok(())
    }

    /// Clears every fault.
    #[napi]
    pub fn clear_faults(&self) {
        self.inner.clear_faults();
    }

    /// How many PIR requests carried this `IRD` (whatever the answer), so a
    /// test can count attempts.
    #[napi(ts_args_type = "ird: string")]
    pub fn calls_for(&self, env: Env, ird: Unknown<'_>) -> Result<f64> {
        let ird = throw(&env, string_arg(&ird, "ird"))?;
        Ok(self.inner.pir_calls_for(&ird) as f64)
    }

    /// The counters (requests, answers by status and IR code, token calls...).
    #[napi(ts_return_type = "SandboxStats")]
    pub fn stats(&self) -> Value {
        serde_json::to_value(self.inner.stats()).unwrap_or(Value::Null)
    }

    /// Zeroes the counters and per-IRD call counts (IR003 windows stay).
    #[napi]
    pub fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    /// Forgets every IR003 window.
    #[napi]
    pub fn reset_quotas(&self) {
        self.inner.reset_quotas();
    }

    /// Runs the sandbox's clock `secs` seconds away from the system clock.
    #[napi]
    pub fn set_clock_offset(&self, secs: i64) {
        self.inner.set_clock_offset(secs);
    }
}

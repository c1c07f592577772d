//! `nzpir demo`: a sandbox in this process, fresh certificates, and one real
//! mutual-TLS + M2M JWT lookup through the same client every surface uses.

use std::time::Instant;

use nzpir::{AuthSettings, Config, PirRequest};
use nzpir_sandbox::{Profile, Sandbox, SandboxOptions};

use crate::args::DemoArgs;
use crate::exit::{self, Failure};
use crate::lookup::write_stdout;

/// Runs `nzpir demo`.
pub fn run(args: &DemoArgs) -> Result<u8, Failure> {
    let started = Instant::now();
    write_stdout(
        "nzpir demo: a real lookup over mutual TLS with an M2M JWT, against a local\n\
         emulator of IR's PIR gateway (nzpir-sandbox, profile strict) started in this\n\
         process with a fresh test CA and certificates. Nothing leaves this machine.\n\n",
    )?;
    let sandbox = Sandbox::start(SandboxOptions::default().profile(Profile::Strict))
        .map_err(|e| Failure::new(exit::INTERNAL, format!("the sandbox did not start: {e}")))?;
    let sandbox_secs = started.elapsed().as_secs_f64();
    let manifest = sandbox.manifest();

    let cfg = Config::from_file(sandbox.config_path()).map_err(Failure::from)?;
    let (alg, issuer) = match &cfg.auth {
        Some(AuthSettings::Jwt(j)) => (
            j.alg.clone().unwrap_or_else(|| "RS256".to_owned()),
            j.issuer.clone().unwrap_or_default(),
        ),
        _ => (String::new(), String::new()),
    };
    let sub = manifest
        .thumbprints
        .get("jwt_rs256")
        .cloned()
        .unwrap_or_default();
    let client = crate::conn::client(&cfg)?;

    let request = PirRequest::builder(args.ird.as_str())
        .pie_ird(args.pie_ird.as_str())
        .build();
    let body = String::from_utf8_lossy(&request.to_json()).into_owned();
    write_stdout(&format!(
        "  sandbox   {url}  ({dir})\n\
         \x20 config    {config}\n\
         \x20 TLS       client certificate client.pem (registered with the sandbox), CA ca.pem\n\
         \x20 auth      M2M JWT {alg}, iss \"{issuer}\", sub {sub}\n\
         \x20           (sub is the signing certificate's SHA-256 thumbprint)\n\
         \x20 request   POST {url}/gateway/calculators/pir\n\
         \x20           {body}\n\
         \x20           {ird} is one of IR's published test IRD numbers, not a person's;\n\
         \x20           {pie} is the sandbox's KiwiSaver scheme.\n",
        url = sandbox.url(),
        dir = sandbox.pki_dir().display(),
        config = sandbox.config_path().display(),
        ird = request.ird(),
        pie = request.pie_ird().unwrap_or_default(),
    ))?;

    let lookup_started = Instant::now();
    let result = client.lookup(&request);
    let lookup_secs = lookup_started.elapsed().as_secs_f64();
    let calls = sandbox.stats().pir_requests;
    match result {
        Ok(outcome) => {
            let answer = serde_json::to_string(&outcome.to_response()).unwrap_or_default();
            let verdict = match outcome.rate() {
                Some(rate) => format!("suggested PIR {rate}%"),
                None => "IR has no suggested PIR for this investor".to_owned(),
            };
            write_stdout(&format!(
                "  answer    HTTP 200 {answer}\n\n\
                 Result: {verdict}. The sandbox counted {calls} PIR call; sandbox start \
                 {sandbox_secs:.1} s, lookup {lookup_ms:.0} ms, {total:.1} s in all.\n\n\
                 Next: `nzpir sandbox --pki-dir ./sandbox-pki` in one terminal, then\n\
                 \x20     `nzpir lookup --config ./sandbox-pki/nzpir.toml --ird 139276310 --pie-ird 125000002`\n",
                lookup_ms = lookup_secs * 1000.0,
                total = started.elapsed().as_secs_f64(),
            ))?;
            Ok(exit::OK)
        }
        Err(e) => Err(Failure::from(e)),
    }
}

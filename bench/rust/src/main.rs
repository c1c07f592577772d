//! The Rust measurements of `bench/run.sh`.
//!
//! ```text
//! nzpir-bench ird CORPUS SECONDS               nzpir::ird::validate_into over the corpus
//! nzpir-bench lookup PEER CONFIG.toml SECONDS  lookups, one thread
//! nzpir-bench jwt ALG CERT KEY SECONDS         JwtSigner::mint
//! nzpir-bench jwt-crate ALG CERT KEY SECONDS   jsonwebtoken::encode, EncodingKey built once
//! ```
//!
//! Lookup peers: `core` (one `Client`, kept-alive connection), `core-fresh`
//! (`max_idle_connections(0)`: a full handshake per lookup), `core-newclient`
//! (a new `Client` from the configuration file per lookup), `ureq` and
//! `ureq-fresh` (the hand-written floor: a ureq agent over rustls and
//! aws-lc-rs, a JWT minted once with the `jsonwebtoken` crate, the body and
//! the answer through serde_json; nothing from nzpir on the hot path).
//!
//! Each measurement warms up, then runs for SECONDS of wall time, and prints
//! one JSON line: `{"peer", "items", "secs", "per_sec", "ns_per"}`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nzpir::{AuthSettings, Client, ClientBuilder, Config, JwtAlgorithm, JwtSigner, PirRequest};

/// The investor and scheme every lookup asks about (nginx answers the same
/// body whatever is sent; the sandbox's fixture has this investor).
const IRD: &str = "139276507";
const PIE_IRD: &str = "125000002";

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match argv.as_slice() {
        ["ird", corpus, secs] => ird(Path::new(corpus), seconds(secs)),
        ["lookup", peer, config, secs] => lookup(peer, Path::new(config), seconds(secs)),
        ["jwt", alg, cert, key, secs] => jwt(alg, Path::new(cert), Path::new(key), seconds(secs)),
        ["jwt-crate", alg, _cert, key, secs] => jwt_crate(alg, Path::new(key), seconds(secs)),
        _ => Err("usage: nzpir-bench ird CORPUS SECONDS | lookup PEER CONFIG SECONDS | jwt[-crate] ALG CERT KEY SECONDS".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nzpir-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seconds(s: &str) -> f64 {
    s.parse().unwrap_or(3.0)
}

/// Warms up (a tenth of the time, at most half a second), then calls `f`
/// until `secs` have passed. `f` returns how many items it did.
fn timed(secs: f64, mut f: impl FnMut() -> Res<u64>) -> Res<(u64, Duration)> {
    let warm = Instant::now() + Duration::from_secs_f64((secs / 10.0).min(0.5));
    while Instant::now() < warm {
        f()?;
    }
    let limit = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut items = 0u64;
    loop {
        items += f()?;
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return Ok((items, elapsed));
        }
    }
}

fn report(peer: &str, items: u64, elapsed: Duration, extra: &str) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{{\"peer\":\"{peer}\",\"items\":{items},\"secs\":{secs:.6},\"per_sec\":{:.3},\"ns_per\":{:.3}{extra}}}",
        items as f64 / secs,
        secs * 1e9 / items as f64
    );
}

fn ird(corpus: &Path, secs: f64) -> Res<()> {
    let text = std::fs::read_to_string(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    // What a caller holds: one String per number.
    let items: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut out = vec![false; items.len()];
    nzpir::ird::validate_into(&items, &mut out);
    let valid = out.iter().filter(|v| **v).count();
    let (n, elapsed) = timed(secs, || {
        nzpir::ird::validate_into(black_box(&items), black_box(&mut out));
        Ok(items.len() as u64)
    })?;
    report("core", n, elapsed, &format!(",\"valid\":{valid}"));
    Ok(())
}

fn request() -> PirRequest {
    PirRequest::builder(IRD).pie_ird(PIE_IRD).build()
}

fn check(outcome: &nzpir::PirOutcome) -> Res<u64> {
    if outcome.rate().is_some() {
        Ok(1)
    } else {
        Err("the answer had no rate".to_owned())
    }
}

fn lookup(peer: &str, config: &Path, secs: f64) -> Res<()> {
    let err = |e: nzpir::Error| e.to_string();
    let cfg = Config::from_file(config).map_err(err)?;
    let (n, elapsed) = match peer {
        "core" => {
            let client = Client::from_config(&cfg).map_err(err)?;
            timed(secs, || check(&client.lookup(&request()).map_err(err)?))?
        }
        "core-fresh" => {
            let client = ClientBuilder::from_config(&cfg)
                .and_then(|b| b.max_idle_connections(0).build())
                .map_err(err)?;
            timed(secs, || check(&client.lookup(&request()).map_err(err)?))?
        }
        "core-newclient" => timed(secs, || {
            let client = Client::from_config_file(config).map_err(err)?;
            check(&client.lookup(&request()).map_err(err)?)
        })?,
        "ureq" => {
            let floor = Floor::new(&cfg, 32)?;
            timed(secs, || floor.lookup())?
        }
        "ureq-fresh" => {
            let floor = Floor::new(&cfg, 0)?;
            timed(secs, || floor.lookup())?
        }
        other => return Err(format!("unknown lookup peer {other}")),
    };
    report(peer, n, elapsed, "");
    Ok(())
}

fn jwt(alg: &str, cert: &Path, key: &Path, secs: f64) -> Res<()> {
    let alg: JwtAlgorithm = alg.parse().map_err(|e: nzpir::Error| e.to_string())?;
    let signer = JwtSigner::builder_from_files(cert, key)
        .algorithm(alg)
        .issuer("nzpir bench")
        .build()
        .map_err(|e| e.to_string())?;
    let (n, elapsed) = timed(secs, || {
        black_box(signer.mint().map_err(|e| e.to_string())?);
        Ok(1)
    })?;
    report("core", n, elapsed, "");
    Ok(())
}

/// The `jsonwebtoken` crate used directly, as a Rust developer would: an
/// `EncodingKey` built once from the PEM, `encode` per token, with the same
/// claims as nzpir's (its aws-lc signer parses an RSA key for each signature).
fn jwt_crate(alg: &str, key: &Path, secs: f64) -> Res<()> {
    let pem = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let (alg, key) = match alg {
        "RS256" => (jsonwebtoken::Algorithm::RS256, jsonwebtoken::EncodingKey::from_rsa_pem(&pem)),
        "ES256" => (jsonwebtoken::Algorithm::ES256, jsonwebtoken::EncodingKey::from_ec_pem(&pem)),
        other => return Err(format!("jwt-crate: {other} is not measured")),
    };
    let key = key.map_err(|e| e.to_string())?;
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some("M2M".to_owned());
    let (n, elapsed) = timed(secs, || {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs()
            - 30;
        let claims = serde_json::json!({
            "iss": "nzpir bench",
            "sub": "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
            "startLogon": null,
            "iat": iat,
            "exp": iat + 540,
        });
        black_box(jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?);
        Ok(1)
    })?;
    report("jsonwebtoken", n, elapsed, "");
    Ok(())
}

// ---------------------------------------------------------------------------
// The floor: a minimal hand-written loop over the same stack (ureq, rustls,
// aws-lc-rs), as a Rust developer would write it without nzpir.

#[derive(serde::Serialize)]
struct WireRequest<'a> {
    #[serde(rename = "IRD")]
    ird: &'a str,
    #[serde(rename = "PieIRD")]
    pie_ird: &'a str,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct WireAnswer {
    #[serde(rename = "IRD")]
    ird: String,
    #[serde(rename = "SuggestedPirRate")]
    rate: Option<f64>,
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    #[serde(rename = "startLogon")]
    start_logon: &'a str,
    iat: u64,
    exp: u64,
}

struct Floor {
    agent: ureq::Agent,
    url: String,
    token: String,
}

fn read(setting: &str, path: Option<&PathBuf>) -> Res<Vec<u8>> {
    let path = path.ok_or_else(|| format!("the configuration has no {setting}"))?;
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

impl Floor {
    fn new(cfg: &Config, idle: usize) -> Res<Floor> {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
        let pem_err = |e: ureq::Error| e.to_string();
        let ca = read("tls.ca_cert", cfg.tls.ca_cert.as_ref())?;
        let cert = read("tls.client_cert", cfg.tls.client_cert.as_ref())?;
        let key = read("tls.client_key", cfg.tls.client_key.as_ref())?;
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(RootCerts::new_with_certs(&[
                Certificate::from_pem(&ca).map_err(pem_err)?
            ]))
            .client_cert(Some(ClientCert::new_with_certs(
                &[Certificate::from_pem(&cert).map_err(pem_err)?],
                PrivateKey::from_pem(&key).map_err(pem_err)?,
            )))
            .build();
        // ureq's defaults otherwise: no timeouts, which also spares the
        // thread ureq spawns to bound a DNS lookup (made for every request,
        // kept-alive or not, whenever a timeout is set).
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_idle_connections(idle)
            .max_idle_connections_per_host(idle)
            .proxy(None)
            .build()
            .new_agent();

        let Some(AuthSettings::Jwt(j)) = &cfg.auth else {
            return Err("the configuration's auth is not a JWT".to_owned());
        };
        let jwt_cert = read("auth.cert", j.cert.as_ref())?;
        let jwt_key = read("auth.key", j.key.as_ref())?;
        let der = Certificate::from_pem(&jwt_cert).map_err(pem_err)?;
        let sub = nzpir::thumbprint(der.der());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("M2M".to_owned());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&jwt_key).map_err(|e| e.to_string())?;
        let claims = Claims {
            iss: j.issuer.as_deref().unwrap_or(""),
            sub: &sub,
            start_logon: "",
            iat: now,
            exp: now + 300,
        };
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?;
        let endpoint = cfg.endpoint.as_deref().ok_or("the configuration has no endpoint")?;
        Ok(Floor {
            agent,
            url: format!("{}/gateway/calculators/pir", endpoint.trim_end_matches('/')),
            token,
        })
    }

    fn lookup(&self) -> Res<u64> {
        let body = serde_json::to_vec(&WireRequest {
            ird: IRD,
            pie_ird: PIE_IRD,
        })
        .map_err(|e| e.to_string())?;
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Authorization", &self.token)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(&body[..])
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("HTTP {}", resp.status()));
        }
        let bytes = resp.body_mut().read_to_vec().map_err(|e| e.to_string())?;
        let answer: WireAnswer = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        match answer.rate {
            Some(_) => Ok(1),
            None => Err("the answer had no rate".to_owned()),
        }
    }
}

//! Helpers for tests against a live `nzpir_sandbox::Sandbox`: clients wired to
//! it, JWT signers from its generated credentials, the fixture's parties, and
//! IR's OAuth flow driven like a browser would (GET authorize, read the 302).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nzpir::config::{AuthSettings, Environment, OAuthSettings, TlsSettings};
use nzpir::oauth::{OAuthClient, OAuthClientConfig, OAuthTokenSource, TokenSet, TokenStore};
use nzpir::{
    Client, ClientBuilder, Config, Error, ErrorKind, JwtAlgorithm, JwtSigner, RetryPolicy, Secret,
};
use nzpir_sandbox::{Manifest, Profile, Sandbox, SandboxOptions};

/// The redirect URI every fixture OAuth client accepts (any port).
pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// A sandbox with the given profile and defaults otherwise.
pub fn start(profile: Profile) -> Sandbox {
    start_with(SandboxOptions::default().profile(profile))
}

/// A sandbox with the given options.
pub fn start_with(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options).expect("the sandbox starts")
}

/// A client builder for the sandbox's gateway: the registered client
/// certificate, the sandbox CA, no proxy, and retries with short waits.
pub fn builder(sb: &Sandbox) -> ClientBuilder {
    let m = sb.manifest();
    Client::builder()
        .endpoint(sb.url())
        .identity_files(&m.client_cert, &m.client_key)
        .add_root_certificate_file(&m.ca_cert)
        .retry_policy(fast_retries(2))
        .no_proxy()
}

/// `n` retries with waits of a few milliseconds (the policy is what is tested,
/// not the waits).
pub fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::new(n)
        .with_base_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(20))
}

/// The name of the party that owns a JWT credential (`jwt_rs256`, `jwt_ec`).
pub fn issuer_of(m: &Manifest, credential: &str) -> String {
    m.parties
        .iter()
        .find(|p| p.credentials.iter().any(|c| c == credential))
        .map(|p| p.name.clone())
        .expect("the credential belongs to a party")
}

/// The `PieIRD` of a party of the fixture.
pub fn pie(m: &Manifest, id: &str) -> String {
    m.parties
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.ird.clone())
        .expect("party in the fixture")
}

/// The RS256 credential's signer (the ready `nzpir.toml` uses the same).
pub fn rs256(m: &Manifest, start_logon: Option<&str>) -> JwtSigner {
    let mut b = JwtSigner::builder_from_files(&m.jwt_rs256_cert, &m.jwt_rs256_key)
        .algorithm(JwtAlgorithm::RS256)
        .issuer(issuer_of(m, "jwt_rs256"));
    if let Some(l) = start_logon {
        b = b.start_logon(l);
    }
    b.build().expect("RS256 signer")
}

/// The ECDSA credential's signer, with the algorithm the sandbox configured.
pub fn ec(m: &Manifest) -> JwtSigner {
    let alg: JwtAlgorithm = m.jwt_ec_alg.parse().expect("manifest algorithm");
    JwtSigner::builder_from_files(&m.jwt_ec_cert, &m.jwt_ec_key)
        .algorithm(alg)
        .issuer(issuer_of(m, "jwt_ec"))
        .build()
        .expect("EC signer")
}

/// The fixture's secret for an OAuth client.
pub fn oauth_secret(m: &Manifest, client_id: &str) -> String {
    m.oauth
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .map(|c| c.client_secret.clone())
        .expect("OAuth client in the fixture")
}

/// The registration of a fixture OAuth client, on the sandbox's OAuth host
/// (one-way TLS, like IR's).
pub fn oauth_config(sb: &Sandbox, client_id: &str) -> OAuthClientConfig {
    let m = sb.manifest();
    OAuthClientConfig {
        base_url: m.oauth.base_url.clone(),
        client_id: client_id.to_owned(),
        client_secret: Secret::new(oauth_secret(m, client_id)),
        redirect_uri: REDIRECT_URI.to_owned(),
    }
}

/// A configuration for the sandbox: mutual TLS with the registered client
/// certificate, OAuth as the fixture client `client_id`, tokens kept in the
/// file `token_store`.
pub fn oauth_file_config(sb: &Sandbox, client_id: &str, token_store: PathBuf) -> Config {
    let m = sb.manifest();
    Config::new()
        .with_environment(Environment::Sandbox)
        .with_endpoint(sb.url().to_owned())
        .with_tls(TlsSettings {
            client_cert: Some(m.client_cert.clone()),
            client_key: Some(m.client_key.clone()),
            ca_cert: Some(m.ca_cert.clone()),
            ..TlsSettings::default()
        })
        .with_auth(AuthSettings::Oauth(OAuthSettings {
            client_id: Some(client_id.to_owned()),
            client_secret: Some(Secret::new(oauth_secret(m, client_id))),
            redirect_uri: Some(REDIRECT_URI.to_owned()),
            endpoint: Some(m.oauth.base_url.clone()),
            token_store: Some(token_store),
        }))
}

/// An OAuth client calling through `client`'s TLS (the sandbox CA is trusted).
pub fn oauth_client(sb: &Sandbox, client: &Client, client_id: &str) -> OAuthClient {
    OAuthClient::new(oauth_config(sb, client_id), client.form_post())
}

/// What a browser does with IR's authorize URL: GET it and return the
/// `Location` of the 302 (the sandbox consents at once). Redirects are not
/// followed: the redirect URI is the application's, not a server here.
pub fn browser_get(sb: &Sandbox, url: &str) -> String {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let ca = std::fs::read(&sb.manifest().ca_cert).expect("CA PEM");
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(nzpir::tls::crypto_provider())
        .root_certs(RootCerts::new_with_certs(&[
            Certificate::from_pem(&ca).expect("CA certificate")
        ]))
        .build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let resp = agent.get(url).call().expect("GET authorize");
    assert_eq!(resp.status().as_u16(), 302, "authorize redirects at once");
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

/// The whole code flow for a fixture client: authorize URL, the browser's
/// redirect, the state check, and the code exchange.
pub fn grant(sb: &Sandbox, oauth: &OAuthClient) -> TokenSet {
    let req = oauth
        .authorization_request()
        .expect("authorisation request");
    let location = browser_get(sb, req.url());
    let code = req.code_from_redirect(&location).expect("code");
    oauth
        .exchange_code(&code, req.pkce().verifier())
        .expect("code exchange")
}

/// A token source over `store` for a fixture client.
pub fn token_source(
    sb: &Sandbox,
    client: &Client,
    client_id: &str,
    store: Arc<dyn TokenStore>,
) -> Arc<OAuthTokenSource> {
    Arc::new(OAuthTokenSource::new(
        oauth_client(sb, client, client_id),
        store,
    ))
}

/// Asserts an error's kind, IR code and HTTP status.
#[track_caller]
pub fn assert_error(e: &Error, kind: ErrorKind, code: Option<&str>, status: Option<u16>) {
    assert_eq!(e.kind(), kind, "kind of {e}");
    assert_eq!(
        e.ir_code().map(|c| c.as_str().to_owned()).as_deref(),
        code,
        "IR code of {e}"
    );
    assert_eq!(e.http_status(), status, "HTTP status of {e}");
}

/// The number of token-endpoint calls of a grant type.
pub fn token_calls(sb: &Sandbox, grant_type: &str) -> u64 {
    sb.stats()
        .token_requests
        .get(grant_type)
        .copied()
        .unwrap_or(0)
}

/// A unique file name in a temporary folder.
pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    dir.path().join(name)
}

/// A plain HTTPS agent with the registered client certificate, for what the
/// client's API cannot send (a GET to the PIR path, a body that is not JSON).
pub fn raw_agent(sb: &Sandbox) -> ureq::Agent {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
    let m = sb.manifest();
    let read = |p: &std::path::Path| std::fs::read(p).expect("PEM file");
    let (ca, cert, key) = (read(&m.ca_cert), read(&m.client_cert), read(&m.client_key));
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(nzpir::tls::crypto_provider())
        .root_certs(RootCerts::new_with_certs(&[
            Certificate::from_pem(&ca).expect("CA certificate")
        ]))
        .client_cert(Some(ClientCert::new_with_certs(
            &[Certificate::from_pem(&cert).expect("client certificate")],
            PrivateKey::from_pem(&key).expect("client key"),
        )))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

//! `manifest.json` (what tests in every language read) and the ready client
//! configuration `nzpir.toml`.
//!
//! The manifest's keys `url`, `profile`, `ca_cert`, `client_cert`,
//! `client_key`, `unregistered_client_cert`, `unregistered_client_key`,
//! `jwt_rs256_cert`, `jwt_rs256_key`, `jwt_ec_cert`, `jwt_ec_key`,
//! `jwt_ec_alg`, `config` and `parties` are a contract: they are never renamed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nzpir::{AuthSettings, Config, Environment, JwtSettings, PirRate, TlsSettings};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::fixture::{CertRef, Fixture, PartyKind};
use crate::oauth::SCOPE;
use crate::pki::{Pki, thumbprint};
use crate::server::{ADMIN_PREFIX, AUTHORIZE_PATH, INTROSPECT_PATH, REVOKE_PATH, TOKEN_PATH};

/// What a running sandbox tells its clients: where it is, which files to
/// use, and who exists in its fixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The base URL, e.g. `https://127.0.0.1:PORT`.
    pub url: String,
    /// `ir-mock` or `strict`.
    pub profile: String,
    /// The sandbox CA certificate (trust it to verify the server).
    pub ca_cert: PathBuf,
    /// The registered TLS client certificate.
    pub client_cert: PathBuf,
    /// Its private key.
    pub client_key: PathBuf,
    /// A client certificate signed by the sandbox CA but not registered (EV1023).
    pub unregistered_client_cert: PathBuf,
    /// Its private key.
    pub unregistered_client_key: PathBuf,
    /// A renewal of the registered client certificate: a new key and
    /// certificate from the sandbox CA with the same CN, accepted because IR
    /// trusts client certificates by CN.
    #[serde(default)]
    pub renewed_client_cert: PathBuf,
    /// Its private key.
    #[serde(default)]
    pub renewed_client_key: PathBuf,
    /// The RS256 JWT signing certificate (self-signed).
    pub jwt_rs256_cert: PathBuf,
    /// Its RSA 2048 private key.
    pub jwt_rs256_key: PathBuf,
    /// The ECDSA JWT signing certificate (self-signed).
    pub jwt_ec_cert: PathBuf,
    /// Its private key.
    pub jwt_ec_key: PathBuf,
    /// `ES256` or `ES384`: the algorithm configured for the EC credential.
    pub jwt_ec_alg: String,
    /// The ready client configuration (`nzpir.toml`).
    pub config: PathBuf,
    /// The fixture's parties, with their logons, credentials and investors.
    pub parties: Vec<ManifestParty>,
    /// The fixture's myIR logons.
    pub logons: Vec<ManifestLogon>,
    /// The fixture's investors.
    pub investors: Vec<ManifestInvestor>,
    /// The OAuth endpoints and clients.
    pub oauth: ManifestOAuth,
    /// SHA-256 thumbprints (upper-case hex) of the generated certificates by
    /// fixture name; the JWT ones are the `sub` to send.
    pub thumbprints: BTreeMap<String, String>,
    /// The admin API's base URL (`{url}/__sandbox`).
    pub admin_url: String,
    /// The PKI folder.
    pub pki_dir: PathBuf,
    /// The sandbox server's CA-signed certificate.
    pub server_cert: PathBuf,
    /// IR003 limit: answered queries per IRD in 24 hours (0: none).
    pub ir003_limit: u32,
    /// The process serving the sandbox.
    pub pid: u32,
    /// The sandbox version.
    pub version: String,
}

/// A party, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestParty {
    /// Fixture id.
    pub id: String,
    /// `pie`, `kiwisaver_scheme`, `kiwisaver_provider`, `scheme_admin_manager`,
    /// `tax_preparer` or `other`.
    pub kind: PartyKind,
    /// Its IRD number (for a PIE or scheme, the `PieIRD` to send).
    pub ird: String,
    /// Its name.
    pub name: String,
    /// myIR logons that belong to it.
    pub logons: Vec<String>,
    /// JWT credentials that belong to it, by certificate name (`jwt_rs256`...)
    /// or file path.
    pub credentials: Vec<String>,
    /// Provider: its schemes. Scheme administration manager: the providers it
    /// manages. Tax preparer: the PIEs and schemes it prepares for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemes: Vec<String>,
    /// See `schemes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manages: Vec<String>,
    /// See `schemes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    /// Scheme: IRD numbers of its members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// PIE or scheme: IRD numbers on its reconciliation return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reconciliation: Vec<String>,
    /// Tax preparer: IRD numbers of investors it has a client-list link to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_investors: Vec<String>,
}

/// A myIR logon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLogon {
    /// The logon (a `startLogon` value).
    pub id: String,
    /// The party it belongs to (`null`: no access to anything).
    pub party: Option<String>,
}

/// An investor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestInvestor {
    /// The IRD number.
    pub ird: String,
    /// The rate IR suggests, or `null` (`PirRateNotFound`).
    pub suggested_pir_rate: Option<PirRate>,
    /// The full fixture entry (memberships, name, date of birth, address...).
    pub fixture: crate::fixture::Investor,
}

/// OAuth endpoints and clients. The endpoints are on the OAuth listener
/// (one-way TLS, as IR's OAuth host); the same paths also work on `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestOAuth {
    /// The OAuth host's base URL (`https://127.0.0.1:PORT`, no client
    /// certificate needed), for the client's `oauth.endpoint` setting.
    pub base_url: String,
    /// `GET` authorize endpoint.
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Introspection endpoint.
    pub introspect_url: String,
    /// Revocation endpoint.
    pub revoke_url: String,
    /// The scope to ask for.
    pub scope: String,
    /// Access token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// The fixture's OAuth clients.
    pub clients: Vec<crate::fixture::OAuthClient>,
}

pub(crate) struct ManifestInputs<'a> {
    pub url: &'a str,
    pub oauth_url: &'a str,
    pub profile: &'a str,
    pub pki: &'a Pki,
    pub pki_dir: &'a Path,
    pub config_path: &'a Path,
    pub fixture: &'a Fixture,
    pub ir003_limit: u32,
    pub access_ttl_secs: i64,
}

fn cert_name(c: &CertRef) -> String {
    match c {
        CertRef::Named(n) => n.clone(),
        CertRef::File { file } => file.display().to_string(),
    }
}

pub(crate) fn build(i: &ManifestInputs<'_>, jwt_ec_alg: &str) -> Manifest {
    let f = i.fixture;
    let files = &i.pki.files;
    let parties = f
        .parties
        .iter()
        .map(|p| {
            let has = |list: &[String]| list.contains(&p.id);
            ManifestParty {
                id: p.id.clone(),
                kind: p.kind,
                ird: p.ird.clone(),
                name: p.name.clone(),
                logons: f
                    .logons
                    .iter()
                    .filter(|l| l.party.as_deref() == Some(p.id.as_str()))
                    .map(|l| l.id.clone())
                    .collect(),
                credentials: f
                    .jwt_credentials
                    .iter()
                    .filter(|c| c.party == p.id)
                    .map(|c| cert_name(&c.cert))
                    .collect(),
                schemes: p.schemes.clone(),
                manages: p.manages.clone(),
                clients: p.clients.clone(),
                members: f
                    .investors
                    .iter()
                    .filter(|v| has(&v.memberships))
                    .map(|v| v.ird.clone())
                    .collect(),
                reconciliation: f
                    .investors
                    .iter()
                    .filter(|v| has(&v.reconciliation))
                    .map(|v| v.ird.clone())
                    .collect(),
                client_investors: f
                    .investors
                    .iter()
                    .filter(|v| has(&v.tax_preparers))
                    .map(|v| v.ird.clone())
                    .collect(),
            }
        })
        .collect();
    let mut thumbprints = BTreeMap::new();
    for name in crate::pki::NAMED_CERTS {
        if let Some(der) = i.pki.named(name) {
            thumbprints.insert(name.to_owned(), thumbprint(der.as_ref()));
        }
    }
    let url = i.url.to_owned();
    let oauth_url = i.oauth_url;
    Manifest {
        url: url.clone(),
        profile: i.profile.to_owned(),
        ca_cert: files.ca_cert.clone(),
        client_cert: files.client_cert.clone(),
        client_key: files.client_key.clone(),
        unregistered_client_cert: files.unregistered_client_cert.clone(),
        unregistered_client_key: files.unregistered_client_key.clone(),
        renewed_client_cert: files.renewed_client_cert.clone(),
        renewed_client_key: files.renewed_client_key.clone(),
        jwt_rs256_cert: files.jwt_rs256_cert.clone(),
        jwt_rs256_key: files.jwt_rs256_key.clone(),
        jwt_ec_cert: files.jwt_ec_cert.clone(),
        jwt_ec_key: files.jwt_ec_key.clone(),
        jwt_ec_alg: jwt_ec_alg.to_owned(),
        config: i.config_path.to_owned(),
        parties,
        logons: f
            .logons
            .iter()
            .map(|l| ManifestLogon {
                id: l.id.clone(),
                party: l.party.clone(),
            })
            .collect(),
        investors: f
            .investors
            .iter()
            .map(|v| ManifestInvestor {
                ird: v.ird.clone(),
                suggested_pir_rate: v.suggested_pir_rate,
                fixture: v.clone(),
            })
            .collect(),
        oauth: ManifestOAuth {
            base_url: oauth_url.to_owned(),
            authorize_url: format!("{oauth_url}{AUTHORIZE_PATH}"),
            token_url: format!("{oauth_url}{TOKEN_PATH}"),
            introspect_url: format!("{oauth_url}{INTROSPECT_PATH}"),
            revoke_url: format!("{oauth_url}{REVOKE_PATH}"),
            scope: SCOPE.to_owned(),
            access_token_ttl_secs: i.access_ttl_secs,
            clients: f.oauth_clients.clone(),
        },
        thumbprints,
        admin_url: format!("{url}{ADMIN_PREFIX}"),
        pki_dir: i.pki_dir.to_owned(),
        server_cert: files.server_cert.clone(),
        ir003_limit: i.ir003_limit,
        pid: std::process::id(),
        version: crate::VERSION.to_owned(),
    }
}

/// The ready client configuration: mTLS with the registered client
/// certificate, the sandbox CA, and M2M JWT with the registered RS256
/// credential (issuer: the name of the party it belongs to; no `startLogon`,
/// so calls are authorised by the credential and must send a `PieIRD`).
pub(crate) fn client_config(url: &str, pki: &Pki, fixture: &Fixture) -> Config {
    let issuer = fixture
        .jwt_credentials
        .iter()
        .find(|c| c.cert == CertRef::Named("jwt_rs256".to_owned()))
        .and_then(|c| fixture.parties.iter().find(|p| p.id == c.party))
        .map_or_else(|| "nzpir sandbox".to_owned(), |p| p.name.clone());
    let files = &pki.files;
    Config::new()
        .with_environment(Environment::Sandbox)
        .with_endpoint(url.to_owned())
        .with_tls(TlsSettings {
            client_cert: Some(files.client_cert.clone()),
            client_key: Some(files.client_key.clone()),
            ca_cert: Some(files.ca_cert.clone()),
            ..TlsSettings::default()
        })
        .with_auth(AuthSettings::Jwt(JwtSettings {
            cert: Some(files.jwt_rs256_cert.clone()),
            key: Some(files.jwt_rs256_key.clone()),
            alg: Some("RS256".to_owned()),
            issuer: Some(issuer),
            start_logon: None,
            ttl_secs: Some(300),
            ..JwtSettings::default()
        }))
}

pub(crate) fn write_config(path: &Path, config: &Config) -> Result<(), Error> {
    let text = config
        .to_toml_string()
        .map_err(|e| Error::new(crate::ErrorKind::Io, format!("client configuration: {e}")))?;
    let header = "# nzpir client configuration for the local sandbox, written by nzpir-sandbox.\n\
                  # mTLS with the registered client certificate; M2M JWT (RS256) authorised by\n\
                  # the credential's party, so lookups must send a PieIRD (see manifest.json).\n\n";
    crate::pki::write_atomically(path, format!("{header}{text}").as_bytes())
}

pub(crate) fn write_manifest(path: &Path, manifest: &Manifest) -> Result<Vec<u8>, Error> {
    let mut json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::new(crate::ErrorKind::Io, format!("manifest: {e}")))?;
    json.push(b'\n');
    crate::pki::write_atomically(path, &json)?;
    Ok(json)
}

//! Settings that are allowed but unusual where real deployments put them are
//! said out loud: an extra trusted CA with environment `production` (IR's
//! production gateway has a public certificate) logs a warning.

mod support;

use log::Level;
use nzpir::{Auth, Client, Environment, Secret};
use support::Pki;
use support::logs::Tee;

static LOGGER: Tee = Tee::new();

fn client(env: Environment, extra_ca: Option<&str>) {
    let pki = Pki::new();
    let id = pki.client();
    let mut b = Client::builder()
        .environment(env)
        .identity_pem(id.cert_pem.clone().into_bytes(), id.key_pem.clone())
        .auth(Auth::Bearer(Secret::new("token".to_owned())));
    if let Some(ca) = extra_ca {
        b = b.add_root_certificate_pem(ca.as_bytes().to_vec());
    }
    b.build().expect("client");
}

fn warnings() -> Vec<String> {
    LOGGER
        .host_records()
        .into_iter()
        .filter(|(level, target, _)| *level == Level::Warn && target == "nzpir")
        .map(|(_, _, msg)| msg)
        .collect()
}

#[test]
fn an_extra_ca_for_production_is_a_warning() {
    Tee::install(&LOGGER);
    let other = Pki::new();

    client(Environment::Production, None);
    client(Environment::Test, Some(&other.ca_pem));
    assert!(warnings().is_empty(), "{:?}", warnings());

    client(Environment::Production, Some(&other.ca_pem));
    let w = warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("production") && w[0].contains("extra trusted CA"),
        "{w:?}"
    );
}

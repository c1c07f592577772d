//! A client keeps looking up across a certificate renewal on disk: the
//! sandbox's renewed certificate (same CN, new key, same CA) renamed into
//! place is picked up for new connections without a restart; broken files
//! leave the old pair in use; an explicit reload takes a new pair at once.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use nzpir::{Auth, Client, PirRequest};
use nzpir_sandbox::Profile;

use support::sandbox::{pie, rs256, start};

/// As certbot does: the new file is written elsewhere and renamed into place.
fn renew(from: &Path, to: &Path) {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).expect("copy");
    std::fs::rename(&tmp, to).expect("rename");
}

fn thumbprint(path: &Path) -> String {
    let pem = std::fs::read(path).expect("cert");
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).expect("pem");
    nzpir::thumbprint(&block.contents)
}

#[test]
fn a_client_keeps_looking_up_across_a_renewal_on_disk() {
    let sb = start(Profile::Strict);
    let m = sb.manifest();
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    std::fs::copy(&m.client_cert, &cert).expect("copy");
    std::fs::copy(&m.client_key, &key).expect("copy");
    let client = Client::builder()
        .endpoint(sb.url())
        .identity_files(&cert, &key)
        .add_root_certificate_file(&m.ca_cert)
        .no_proxy()
        // Every lookup on a new connection, so that each one shows which
        // certificate a new connection presents.
        .max_idle_connections(0)
        .auth(Auth::Jwt(rs256(m, None)))
        .build()
        .expect("client");
    assert!(client.identity_is_watched());
    let original = thumbprint(&m.client_cert);
    assert_eq!(client.identity().expect("identity").thumbprint(), original);
    let req = PirRequest::builder("139276507")
        .pie_ird(pie(m, "kowhai-scheme"))
        .build();
    let rate = |c: &Client| c.lookup(&req).map(|o| o.rate().map(|r| r.to_string()));
    assert_eq!(rate(&client).expect("lookup").as_deref(), Some("28"));

    // The renewal: the key first, then the certificate (between the two the
    // pair does not match and must not be used).
    renew(&m.renewed_client_key, &key);
    renew(&m.renewed_client_cert, &cert);
    let renewed = thumbprint(&m.renewed_client_cert);
    let started = Instant::now();
    let mut lookups = 0;
    while client.identity().expect("identity").thumbprint() != renewed {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the renewed certificate was not picked up"
        );
        assert_eq!(
            rate(&client).expect("lookup across the renewal").as_deref(),
            Some("28")
        );
        lookups += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(lookups > 0);
    assert_eq!(
        rate(&client)
            .expect("with the renewed certificate")
            .as_deref(),
        Some("28")
    );
    let (_, block) =
        x509_parser::pem::parse_x509_pem(&std::fs::read(&cert).expect("cert")).expect("pem");
    let not_after = block
        .parse_x509()
        .expect("x509")
        .validity()
        .not_after
        .timestamp();
    assert_eq!(client.identity_not_after(), Some(not_after));
    assert_eq!(
        client.identity_expires_at(),
        Some(std::time::UNIX_EPOCH + Duration::from_secs(not_after as u64))
    );

    // Half-written files: an explicit reload says why, the pair in use stays.
    let text = std::fs::read_to_string(&m.client_cert).expect("cert");
    std::fs::write(&cert, &text[..text.len() / 2]).expect("write");
    let e = client.reload_identity().expect_err("broken files");
    assert!(e.to_string().contains("tls.client_cert"), "{e}");
    assert_eq!(client.identity().expect("identity").thumbprint(), renewed);
    assert_eq!(
        rate(&client).expect("still the renewed pair").as_deref(),
        Some("28")
    );

    // Another certificate (another CN) taken at once by an explicit reload:
    // the next connection presents it, and the sandbox does not know it.
    renew(&m.unregistered_client_key, &key);
    renew(&m.unregistered_client_cert, &cert);
    assert!(client.reload_identity().expect("valid pair"));
    let e = rate(&client).expect_err("an unregistered CN");
    assert_eq!(e.ir_code().map(|c| c.as_str()), Some("EV1023"), "{e}");
}

//! A client identity that follows its files: when the certificate and key
//! are replaced on disk (as certbot and other ACME clients do, by renaming new
//! files into place), new connections use the new pair without a restart.
//!
//! - The files are checked cheaply, by their metadata (modification time,
//!   size and inode), when a connection is opened, at most once every
//!   [`CHECK_INTERVAL`], and on an explicit [`LiveIdentity::reload`].
//! - A new pair is used only once both files load and the key matches the
//!   certificate: a half-written or mismatched pair (the certificate renamed
//!   into place before the key) is never presented. The old pair stays in use,
//!   with a warning, until the files are whole again.
//! - The current pair is swapped atomically ([`ArcSwap`]); a handshake in
//!   progress keeps the pair it started with, and kept-alive connections keep
//!   theirs until they close.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;

use crate::config::Secret;
use crate::error::{Error, scrub};
use crate::pem;
use crate::tls::Identity;
use crate::validate::Clock;

/// How often, at most, the files are looked at when connections open.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Where an identity was read from, so that it can be read again.
#[derive(Clone)]
pub(crate) enum IdentityFiles {
    /// A PEM (or DER) certificate file and a PEM key file.
    Pem { cert: PathBuf, key: PathBuf },
    /// A PKCS#12 bundle and its password.
    Pkcs12 { path: PathBuf, password: Secret },
}

impl fmt::Debug for IdentityFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityFiles::Pem { .. } => f.write_str("Pem"),
            IdentityFiles::Pkcs12 { .. } => f.write_str("Pkcs12"),
        }
    }
}

/// What a file looked like: enough to notice it was replaced or rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

impl IdentityFiles {
    fn stamps(&self) -> Vec<Option<Stamp>> {
        match self {
            IdentityFiles::Pem { cert, key } => vec![stamp(cert), stamp(key)],
            IdentityFiles::Pkcs12 { path, .. } => vec![stamp(path)],
        }
    }

    /// Reads and checks the pair (both files, key matching the certificate).
    pub(crate) fn load(&self, clock: &dyn Clock) -> Result<Identity, Error> {
        match self {
            IdentityFiles::Pem { cert, key } => {
                let c = pem::read_file("tls.client_cert", cert)?;
                let k = pem::read_file("tls.client_key", key)?;
                Identity::load(("tls.client_cert", &c), ("tls.client_key", &k), clock)
            }
            IdentityFiles::Pkcs12 { path, password } => {
                let data = pem::read_file("tls.client_pkcs12", path)?;
                Identity::load_pkcs12(
                    ("tls.client_pkcs12", &data),
                    ("tls.client_pkcs12_password", password.expose()),
                    clock,
                )
            }
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    /// The files as they were when the identity in use was read.
    loaded: Vec<Option<Stamp>>,
    /// The files as they were when they last failed to load (warned once).
    broken: Option<Vec<Option<Stamp>>>,
}

/// The identity in use, and the files it may be read again from.
pub(crate) struct LiveIdentity {
    current: ArcSwap<Identity>,
    files: Option<IdentityFiles>,
    seen: Mutex<Seen>,
    /// Milliseconds after `epoch` before which no check is made.
    next_check_ms: AtomicU64,
    epoch: Instant,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for LiveIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveIdentity")
            .field("current", &**self.current.load())
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl LiveIdentity {
    /// An identity given as text or already loaded: nothing to watch.
    pub(crate) fn fixed(identity: Identity, clock: Arc<dyn Clock>) -> LiveIdentity {
        Self::with(identity, None, Vec::new(), clock)
    }

    /// Loads the identity from `files` and watches them.
    pub(crate) fn from_files(
        files: IdentityFiles,
        clock: Arc<dyn Clock>,
    ) -> Result<LiveIdentity, Error> {
        // Stamps first: a file replaced while it is read is read again later.
        let stamps = files.stamps();
        let identity = files.load(&*clock)?;
        Ok(Self::with(identity, Some(files), stamps, clock))
    }

    fn with(
        identity: Identity,
        files: Option<IdentityFiles>,
        loaded: Vec<Option<Stamp>>,
        clock: Arc<dyn Clock>,
    ) -> LiveIdentity {
        LiveIdentity {
            current: ArcSwap::from_pointee(identity),
            files,
            seen: Mutex::new(Seen {
                loaded,
                broken: None,
            }),
            next_check_ms: AtomicU64::new(CHECK_INTERVAL.as_millis() as u64),
            epoch: Instant::now(),
            clock,
        }
    }

    /// The identity in use.
    pub(crate) fn current(&self) -> Identity {
        (**self.current.load()).clone()
    }

    /// Whether the identity comes from files that are watched.
    pub(crate) fn is_watched(&self) -> bool {
        self.files.is_some()
    }

    /// Called when a connection is about to be opened: looks at the files
    /// if [`CHECK_INTERVAL`] has passed since the last look, and takes a new
    /// pair that loads. Never fails: a broken pair is warned about once and
    /// the old one kept.
    pub(crate) fn check_if_due(&self) {
        if self.files.is_none() {
            return;
        }
        let now = self.epoch.elapsed().as_millis() as u64;
        let due = self.next_check_ms.load(Ordering::Acquire);
        if now < due {
            return;
        }
        let next = now + CHECK_INTERVAL.as_millis() as u64;
        // One thread looks; the others go on with the pair in use.
        if self
            .next_check_ms
            .compare_exchange(due, next, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let _ = self.refresh(false);
    }

    /// Reads the files now, whatever their metadata says. `Ok(true)` when a
    /// different certificate is now in use, `Ok(false)` when it is the same
    /// (or the identity was not given as files); an error when the files do
    /// not make a valid pair, in which case the old pair stays in use.
    pub(crate) fn reload(&self) -> Result<bool, Error> {
        self.refresh(true)
    }

    fn refresh(&self, forced: bool) -> Result<bool, Error> {
        let Some(files) = &self.files else {
            return Ok(false);
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let stamps = files.stamps();
        if !forced && stamps == seen.loaded {
            return Ok(false);
        }
        if !forced && seen.broken.as_ref() == Some(&stamps) {
            // Already warned about these very files.
            return Ok(false);
        }
        match files.load(&*self.clock) {
            Ok(identity) => {
                let old = self.current.load();
                let changed = identity.thumbprint() != old.thumbprint();
                if changed {
                    log::info!(
                        target: "nzpir",
                        "client certificate renewed: now {} (expires {}), was one expiring {}",
                        scrub(identity.subject()),
                        pem::utc(identity.not_after_unix()),
                        pem::utc(old.not_after_unix())
                    );
                    self.current.store(Arc::new(identity));
                }
                seen.loaded = stamps;
                seen.broken = None;
                Ok(changed)
            }
            Err(e) => {
                log::warn!(
                    target: "nzpir",
                    "the client certificate files changed but do not load ({e}); still using the certificate expiring {}",
                    pem::utc(self.current.load().not_after_unix())
                );
                seen.broken = Some(stamps);
                Err(e)
            }
        }
    }

    /// The chain and key for the next handshake.
    fn certified(&self) -> Arc<CertifiedKey> {
        self.current.load().certified_key()
    }
}

/// rustls asks this for the client certificate of each handshake.
#[derive(Debug)]
pub(crate) struct Resolver(pub Arc<LiveIdentity>);

impl ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.certified())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::SystemClock;
    use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};

    fn pair(cn: &str) -> (String, String) {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = CertificateParams::new(vec![cn.to_owned()]).expect("params");
        p.distinguished_name
            .push(rcgen::DnType::CommonName, cn.to_owned());
        (
            p.self_signed(&key).expect("cert").pem(),
            key.serialize_pem(),
        )
    }

    fn replace(path: &std::path::Path, bytes: impl AsRef<[u8]>) {
        // As an ACME client does: a new file renamed over the old one.
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, bytes).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }

    /// A live identity over a fresh PEM pair with this CN in `dir`: the
    /// identity, its two paths and the first certificate's text.
    fn live_pem(
        dir: &std::path::Path,
        cn: &str,
    ) -> (LiveIdentity, std::path::PathBuf, std::path::PathBuf, String) {
        let (c, k) = (dir.join("c.pem"), dir.join("k.pem"));
        let (cert, key) = pair(cn);
        std::fs::write(&c, &cert).expect("write");
        std::fs::write(&k, &key).expect("write");
        let live = LiveIdentity::from_files(
            IdentityFiles::Pem {
                cert: c.clone(),
                key: k.clone(),
            },
            Arc::new(SystemClock),
        )
        .expect("loads");
        (live, c, k, cert)
    }

    #[test]
    fn follows_a_renewal_and_keeps_the_old_pair_when_broken() {
        let dir = tempfile::tempdir().expect("dir");
        let (live, c, k, cert1) = live_pem(dir.path(), "one.example");
        let first = live.current().thumbprint().to_owned();
        assert!(!live.reload().expect("same files"));

        // The certificate is replaced before the key: a mismatched pair.
        let (cert2, key2) = pair("one.example");
        replace(&c, &cert2);
        let e = live.reload().expect_err("mismatched");
        assert!(e.to_string().contains("does not match"), "{e}");
        assert_eq!(live.current().thumbprint(), first, "the old pair stays");
        // Still mismatched when connections check: quietly kept.
        assert!(!live.refresh(false).expect("already warned"));

        // The key follows: the new pair is taken.
        replace(&k, &key2);
        assert!(live.refresh(false).expect("new pair"));
        assert_ne!(live.current().thumbprint(), first);

        // A half-written certificate is refused, the pair in use kept.
        let second = live.current().thumbprint().to_owned();
        replace(&c, &cert1.as_bytes()[..cert1.len() / 2]);
        assert!(live.reload().is_err());
        assert_eq!(live.current().thumbprint(), second);
    }

    fn bundle(cn: &str, password: &str) -> Vec<u8> {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = CertificateParams::new(vec![cn.to_owned()]).expect("params");
        p.distinguished_name
            .push(rcgen::DnType::CommonName, cn.to_owned());
        let cert = p.self_signed(&key).expect("cert");
        let chain = PrivateKeyChain::new(
            b"1".to_vec(),
            PrivateKey::from_der(&key.serialize_der()).expect("pkcs8"),
            [Certificate::from_der(cert.der()).expect("cert")],
        );
        let mut store = KeyStore::new();
        store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(password).write().expect("pkcs12")
    }

    #[test]
    fn a_pkcs12_bundle_is_followed_too() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("client.p12");
        std::fs::write(&path, bundle("three.example", "pw")).expect("write");
        let live = LiveIdentity::from_files(
            IdentityFiles::Pkcs12 {
                path: path.clone(),
                password: Secret::new("pw"),
            },
            Arc::new(SystemClock),
        )
        .expect("loads");
        let first = live.current().thumbprint().to_owned();
        replace(&path, bundle("three.example", "pw"));
        assert!(live.reload().expect("renewed bundle"));
        assert_ne!(live.current().thumbprint(), first);
        // A renewal with another password is refused; the bundle in use stays.
        let second = live.current().thumbprint().to_owned();
        replace(&path, bundle("three.example", "other"));
        let e = live.reload().expect_err("wrong password");
        assert!(e.to_string().contains("tls.client_pkcs12_password"), "{e}");
        assert_eq!(live.current().thumbprint(), second);
    }

    #[test]
    fn checks_at_most_once_per_interval() {
        let dir = tempfile::tempdir().expect("dir");
        let (live, c, k, _) = live_pem(dir.path(), "two.example");
        let first = live.current().thumbprint().to_owned();
        let (cert2, key2) = pair("two.example");
        replace(&k, &key2);
        replace(&c, &cert2);
        // Within the first interval nothing is looked at.
        live.check_if_due();
        assert_eq!(live.current().thumbprint(), first);
        // Once due, the next connection takes the new pair.
        live.next_check_ms.store(0, Ordering::Release);
        live.check_if_due();
        assert_ne!(live.current().thumbprint(), first);
    }
}

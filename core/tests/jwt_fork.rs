//! A forked child must never wait on the JWT signer's mint lock it inherited:
//! the thread holding it in the parent does not exist in the child. The fork
//! notice (`fork::after_fork_in_child`, which hosts call from their fork
//! hooks and which the process id stands in for otherwise) is process-wide,
//! so this is its own test binary.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use nzpir::{Clock, JwtSigner};

const NOW: i64 = 1_900_000_000;

/// A clock the test moves, and can make its next reading wait (to stop a
/// signing thread while it holds the mint lock).
#[derive(Debug, Default)]
struct Moving {
    now: AtomicI64,
    gate: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
}

impl Clock for Moving {
    fn now_unix(&self) -> i64 {
        let gate = self.gate.lock().expect("gate").take();
        if let Some((reached, release)) = gate {
            let _ = reached.send(());
            let _ = release.recv();
        }
        self.now.load(Ordering::SeqCst)
    }
}

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jwt")
        .join(name)
}

#[test]
fn a_child_makes_its_own_mint_lock() {
    let clock = Arc::new(Moving::default());
    clock.now.store(NOW, Ordering::SeqCst);
    let signer = JwtSigner::builder_from_files(data("p256.crt"), data("p256.key"))
        .issuer("Acme")
        .clock(clock.clone())
        .build()
        .expect("signer");
    let first = signer.token().expect("jwt");

    // A thread replacing a refused token reads the clock under the mint lock;
    // stop it there: the state a child inherits when its parent forked at
    // that moment.
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    *clock.gate.lock().expect("gate") = Some((held_tx, release_rx));
    let s2 = signer.clone();
    let refused = first.clone();
    let holder = std::thread::spawn(move || s2.replace(&refused).map(|_| ()));
    held_rx.recv().expect("the lock is held");

    // The token has expired; in the parent, the next call would wait for the
    // signing thread. After a fork, it signs at once.
    clock.now.store(NOW + 3600, Ordering::SeqCst);
    nzpir::fork::after_fork_in_child();
    let (done_tx, done_rx) = mpsc::channel();
    let s3 = signer.clone();
    std::thread::spawn(move || {
        let _ = done_tx.send(s3.token().map(|t| t.expose().to_owned()));
    });
    let renewed = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the child waited on the parent's mint lock")
        .expect("a new token");
    assert_ne!(renewed, first.expose());

    release_tx.send(()).expect("release");
    holder.join().expect("holder").expect("replaced");
}

//! Fork safety.
//!
//! A process that `fork()`s copies its memory, and with it every kept-alive
//! TLS connection and its keys and sequence numbers. If parent and child both
//! wrote on such a connection, the server would see the same nonces twice
//! (AES-GCM nonce reuse) and, at best, answer `bad_record_mac`. So state that
//! must belong to one process records the process it was made in
//! ([`Owner`]), and is rebuilt, never used, in any other: the client's
//! connection pool (a new agent; the inherited connections are closed in the
//! child without a byte written on them) and OAuth tokens held in memory
//! (read again from the store, under its lock).
//!
//! The process id tells the child apart. Hosts that know when they fork
//! (Python's `os.register_at_fork`, `pthread_atfork`) also call
//! [`after_fork_in_child`], which covers the one case a process id misses: a
//! descendant that ends up with the id of the process the state was made in.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped in every child by [`after_fork_in_child`].
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Tells nzpir that this process is the child of a `fork()`: every client's
/// connections and cached OAuth tokens are rebuilt before their next use.
/// Safe to call at any time (it only bumps a counter); nzpir also detects a
/// fork by itself from the process id.
pub fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The process (and fork generation) a piece of state was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pid: u32,
    generation: u64,
}

impl Owner {
    /// This process, now.
    pub fn current() -> Owner {
        Owner {
            pid: std::process::id(),
            generation: FORK_GENERATION.load(Ordering::SeqCst),
        }
    }

    /// Whether this is still the process the state was made in.
    pub fn is_current(&self) -> bool {
        *self == Owner::current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_notice_makes_state_stale() {
        let owner = Owner::current();
        assert!(owner.is_current());
        after_fork_in_child();
        assert!(!owner.is_current());
        assert!(Owner::current().is_current());
    }
}

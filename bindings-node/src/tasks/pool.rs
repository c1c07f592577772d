//! The binding's own threads for blocking work, kept apart from libuv's pool.
//!
//! libuv's pool (4 threads by default) also runs Node's file system, DNS and
//! crypto work. A lookup waiting there on a JavaScript token store whose
//! `load()` reads a file with `fs.promises` would hold a pool thread while
//! the read waits for one: with as many lookups in flight as pool threads,
//! nothing moves until the store's timeout. On these threads the store's
//! I/O always finds libuv's pool free.
//!
//! The pool starts empty, starts a thread whenever a job arrives and no
//! thread is idle (up to [`MAX_THREADS`]; beyond that, jobs queue), and a
//! thread idle for [`IDLE_TIMEOUT`] ends. Its threads hold no libuv handle,
//! so they never keep Node's event loop alive: what keeps the process alive
//! while a job runs is the Promise's pending settlement (see `super::spawn`),
//! and nothing once every job has settled.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// At most this many threads at once; further jobs wait for a free one.
/// Each in-flight lookup holds a thread while it waits on the network, so
/// this is how many can be in flight at once (libuv's pool allowed 4).
pub const MAX_THREADS: usize = 64;

/// A thread with nothing to do for this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// One piece of work for the pool.
pub trait Job: Send + 'static {
    /// Runs on a pool thread.
    fn run(self: Box<Self>);

    /// Called instead of [`Job::run`] when no thread could be started to run
    /// it; runs on the submitting thread.
    fn refuse(self: Box<Self>, error: std::io::Error);
}

struct State {
    queue: VecDeque<Box<dyn Job>>,
    /// Threads alive (running a job or idle).
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
}

struct Pool {
    state: Mutex<State>,
    wake: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        wake: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock still holds a
        // consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs `job` on a pool thread: an idle one, a new one, or the first to
/// become free when [`MAX_THREADS`] are busy.
pub fn execute(job: Box<dyn Job>) {
    let pool = pool();
    let mut state = pool.lock();
    state.queue.push_back(job);
    // Every queued job needs a waiting thread of its own: the idle threads
    // may already be promised to jobs queued before this one.
    if state.queue.len() > state.idle && state.threads < MAX_THREADS {
        let spawned = std::thread::Builder::new()
            .name("nzpir-worker".into())
            .spawn(move || worker(pool));
        match spawned {
            Ok(_) => state.threads += 1,
            // A running thread will take it once it is free.
            Err(_) if state.threads > 0 => {}
            // No thread to ever run it: fail it rather than leave its Promise
            // pending (and the process alive) forever.
            Err(e) => {
                if let Some(job) = state.queue.pop_back() {
                    drop(state);
                    job.refuse(e);
                }
                return;
            }
        }
    }
    drop(state);
    pool.wake.notify_one();
}

fn worker(pool: &'static Pool) {
    let mut state = pool.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            // A job settles its own Promise even when its work panics; this
            // only keeps the thread (and the count of threads) alive.
            let _ = catch_unwind(AssertUnwindSafe(|| job.run()));
            state = pool.lock();
            continue;
        }
        state.idle += 1;
        let (next, timeout) = pool
            .wake
            .wait_timeout(state, IDLE_TIMEOUT)
            .unwrap_or_else(|p| p.into_inner());
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.queue.is_empty() {
            state.threads -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::Barrier;
    use std::sync::mpsc;

    struct FnJob<F: FnOnce() + Send + 'static>(F);

    impl<F: FnOnce() + Send + 'static> Job for FnJob<F> {
        fn run(self: Box<Self>) {
            (self.0)()
        }
        fn refuse(self: Box<Self>, e: std::io::Error) {
            panic!("refused: {e}")
        }
    }

    #[test]
    fn jobs_that_wait_on_each_other_all_run_at_once() {
        // More jobs than libuv's default pool, each waiting until all have
        // started: only a pool that grows to demand finishes this.
        let n = 16;
        let barrier = Arc::new(Barrier::new(n));
        let (tx, rx) = mpsc::channel();
        for i in 0..n {
            let barrier = Arc::clone(&barrier);
            let tx = tx.clone();
            execute(Box::new(FnJob(move || {
                barrier.wait();
                tx.send(i).expect("send");
            })));
        }
        let mut done: Vec<usize> = (0..n)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(30))
                    .expect("a job did not finish")
            })
            .collect();
        done.sort_unstable();
        assert_eq!(done, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn the_pool_keeps_working_after_a_job_panics() {
        execute(Box::new(FnJob(|| panic!("boom"))));
        let (tx, rx) = mpsc::channel();
        execute(Box::new(FnJob(move || tx.send(()).expect("send"))));
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the next job ran");
        assert!(pool().lock().threads <= MAX_THREADS);
    }
}

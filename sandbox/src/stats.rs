//! Counters and the per-IRD call log (which also holds the IR003 windows).
//!
//! Counters are atomics; the per-IRD log is sharded so that concurrent calls
//! about different investors rarely meet on a lock.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use nzpir::IrCode;
use serde::{Deserialize, Serialize};

/// A snapshot of a sandbox's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests that reached `POST /gateway/calculators/pir` (every attempt,
    /// including those a fault dropped before the body was read).
    pub pir_requests: u64,
    /// PIR answers by HTTP status (`"200"`, `"400"`, ...).
    pub pir_responses: BTreeMap<String, u64>,
    /// PIR answers by IR error code (`"EV1100"`, ...).
    pub ir_codes: BTreeMap<String, u64>,
    /// Requests to the token endpoint by `grant_type`
    /// (`authorization_code`, `refresh_token`, `other`).
    pub token_requests: BTreeMap<String, u64>,
    /// Requests to the authorize endpoint.
    pub authorize_requests: u64,
    /// Refresh tokens sent a second time (each revoked its whole token set).
    #[serde(default)]
    pub refresh_replays: u64,
    /// Requests to the introspect endpoint.
    pub introspect_requests: u64,
    /// Requests to the revoke endpoint.
    pub revoke_requests: u64,
    /// Requests to `GET /gateway/calculators/status`.
    pub status_requests: u64,
    /// Faults applied.
    pub faults_applied: u64,
    /// TLS connections established.
    pub connections: u64,
    /// TLS handshakes that failed or timed out (e.g. no client certificate).
    pub tls_handshake_failures: u64,
    /// Answers 404 (unknown path).
    pub not_found: u64,
    /// Answers 405 (wrong method).
    pub method_not_allowed: u64,
    /// Answers 413 (body over the limit).
    pub payload_too_large: u64,
}

const STATUSES: [u16; 11] = [200, 400, 401, 405, 413, 429, 500, 502, 503, 504, 0];
const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "other"];
const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct IrdEntry {
    calls: u64,
    /// Unix times of answered queries within the window (IR003).
    answered: VecDeque<i64>,
}

/// The live counters.
#[derive(Debug)]
pub(crate) struct Counters {
    pub pir_requests: AtomicU64,
    statuses: [AtomicU64; STATUSES.len()],
    codes: Vec<AtomicU64>,
    grants: [AtomicU64; GRANTS.len()],
    pub authorize_requests: AtomicU64,
    pub refresh_replays: AtomicU64,
    pub introspect_requests: AtomicU64,
    pub revoke_requests: AtomicU64,
    pub status_requests: AtomicU64,
    pub faults_applied: AtomicU64,
    pub connections: AtomicU64,
    pub tls_handshake_failures: AtomicU64,
    pub not_found: AtomicU64,
    pub method_not_allowed: AtomicU64,
    pub payload_too_large: AtomicU64,
    irds: [Mutex<HashMap<String, IrdEntry>>; SHARDS],
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            pir_requests: AtomicU64::new(0),
            statuses: Default::default(),
            codes: IrCode::KNOWN.iter().map(|_| AtomicU64::new(0)).collect(),
            grants: Default::default(),
            authorize_requests: AtomicU64::new(0),
            refresh_replays: AtomicU64::new(0),
            introspect_requests: AtomicU64::new(0),
            revoke_requests: AtomicU64::new(0),
            status_requests: AtomicU64::new(0),
            faults_applied: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            tls_handshake_failures: AtomicU64::new(0),
            not_found: AtomicU64::new(0),
            method_not_allowed: AtomicU64::new(0),
            payload_too_large: AtomicU64::new(0),
            irds: Default::default(),
        }
    }
}

impl Counters {
    pub fn inc(&self, c: &AtomicU64) {
        bump(c);
    }

    /// Records a PIR answer.
    pub fn pir_answer(&self, status: u16, code: Option<&IrCode>) {
        let i = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        bump(&self.statuses[i]);
        if let Some(code) = code
            && let Some(j) = IrCode::KNOWN.iter().position(|k| k == code)
        {
            bump(&self.codes[j]);
        }
    }

    pub fn token_request(&self, grant_type: Option<&str>) {
        let i = GRANTS
            .iter()
            .position(|g| Some(*g) == grant_type)
            .unwrap_or(GRANTS.len() - 1);
        bump(&self.grants[i]);
    }

    fn shard(&self, ird: &str) -> std::sync::MutexGuard<'_, HashMap<String, IrdEntry>> {
        let mut h = DefaultHasher::new();
        ird.hash(&mut h);
        let i = (h.finish() as usize) % SHARDS;
        self.irds[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a PIR request about `ird` (the body was read).
    pub fn pir_call(&self, ird: &str) {
        let mut shard = self.shard(ird);
        match shard.get_mut(ird) {
            Some(e) => e.calls += 1,
            None => {
                shard.insert(
                    ird.to_owned(),
                    IrdEntry {
                        calls: 1,
                        answered: VecDeque::new(),
                    },
                );
            }
        }
    }

    pub fn calls_for(&self, ird: &str) -> u64 {
        self.shard(ird).get(ird).map_or(0, |e| e.calls)
    }

    /// IR003: records an answered query about `ird` at `now`, unless `limit`
    /// queries were already answered in the 24 hours before (then `false`).
    /// A `limit` of 0 means no limit.
    pub fn admit_query(&self, ird: &str, now: i64, limit: u32) -> bool {
        if limit == 0 {
            return true;
        }
        let limit = limit as usize;
        let mut shard = self.shard(ird);
        let entry = shard.entry(ird.to_owned()).or_default();
        while entry
            .answered
            .front()
            .is_some_and(|t| *t <= now - 24 * 3600)
        {
            entry.answered.pop_front();
        }
        if entry.answered.len() >= limit {
            return false;
        }
        entry.answered.push_back(now);
        true
    }

    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let nonzero = |pairs: Vec<(String, u64)>| {
            pairs
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect::<BTreeMap<_, _>>()
        };
        Stats {
            pir_requests: get(&self.pir_requests),
            pir_responses: nonzero(
                STATUSES
                    .iter()
                    .zip(&self.statuses)
                    .map(|(s, c)| {
                        let key = if *s == 0 {
                            "other".to_owned()
                        } else {
                            s.to_string()
                        };
                        (key, get(c))
                    })
                    .collect(),
            ),
            ir_codes: nonzero(
                IrCode::KNOWN
                    .iter()
                    .zip(&self.codes)
                    .map(|(k, c)| (k.as_str().to_owned(), get(c)))
                    .collect(),
            ),
            token_requests: nonzero(
                GRANTS
                    .iter()
                    .zip(&self.grants)
                    .map(|(g, c)| ((*g).to_owned(), get(c)))
                    .collect(),
            ),
            authorize_requests: get(&self.authorize_requests),
            refresh_replays: get(&self.refresh_replays),
            introspect_requests: get(&self.introspect_requests),
            revoke_requests: get(&self.revoke_requests),
            status_requests: get(&self.status_requests),
            faults_applied: get(&self.faults_applied),
            connections: get(&self.connections),
            tls_handshake_failures: get(&self.tls_handshake_failures),
            not_found: get(&self.not_found),
            method_not_allowed: get(&self.method_not_allowed),
            payload_too_large: get(&self.payload_too_large),
        }
    }

    /// Zeroes every counter and the per-IRD call counts (not the IR003 windows).
    pub fn reset(&self) {
        let zero = |c: &AtomicU64| c.store(0, Ordering::Relaxed);
        for c in [
            &self.pir_requests,
            &self.authorize_requests,
            &self.refresh_replays,
            &self.introspect_requests,
            &self.revoke_requests,
            &self.status_requests,
            &self.faults_applied,
            &self.connections,
            &self.tls_handshake_failures,
            &self.not_found,
            &self.method_not_allowed,
            &self.payload_too_large,
        ] {
            zero(c);
        }
        self.statuses.iter().for_each(zero);
        self.codes.iter().for_each(zero);
        self.grants.iter().for_each(zero);
        for shard in &self.irds {
            let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
            s.retain(|_, e| {
                e.calls = 0;
                !e.answered.is_empty()
            });
        }
    }

    /// Forgets every IR003 window.
    pub fn reset_quotas(&self) {
        for shard in &self.irds {
            let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
            s.retain(|_, e| {
                e.answered.clear();
                e.calls > 0
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_window_rolls() {
        let c = Counters::default();
        assert!(c.admit_query("139276507", 1000, 2));
        assert!(c.admit_query("139276507", 2000, 2));
        assert!(!c.admit_query("139276507", 3000, 2));
        assert!(c.admit_query("139276310", 3000, 2));
        // 24 hours after the first answer it leaves the window.
        assert!(c.admit_query("139276507", 1000 + 86_400, 2));
        assert!(!c.admit_query("139276507", 1001 + 86_400, 2));
        c.reset_quotas();
        assert!(c.admit_query("139276507", 1002 + 86_400, 2));
        assert!(c.admit_query("x", 0, 0));
    }

    #[test]
    fn counting() {
        let c = Counters::default();
        c.pir_call("139276507");
        c.pir_call("139276507");
        c.pir_answer(401, Some(&IrCode::EV1043));
        c.pir_answer(200, None);
        c.pir_answer(418, None);
        c.token_request(Some("refresh_token"));
        c.token_request(Some("bogus"));
        let s = c.snapshot();
        assert_eq!(c.calls_for("139276507"), 2);
        assert_eq!(c.calls_for("139276310"), 0);
        assert_eq!(s.ir_codes.get("EV1043"), Some(&1));
        assert_eq!(s.pir_responses.get("other"), Some(&1));
        assert_eq!(s.token_requests.get("refresh_token"), Some(&1));
        assert_eq!(s.token_requests.get("other"), Some(&1));
        c.reset();
        assert_eq!(c.calls_for("139276507"), 0);
        assert_eq!(c.snapshot(), Stats::default());
    }
}

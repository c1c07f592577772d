//! Fault injection: what a test can make the sandbox do wrong, on purpose.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Wait `ms` milliseconds, then answer as usual.
    Delay {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// Close the connection once the request head has arrived, without reading
    /// the body or answering.
    DropBeforeRead,
    /// Read the whole request, then close the connection without answering.
    DropAfterRead,
    /// Handle the request as usual (a token request rotates the refresh
    /// token, a lookup counts against the investor), then close the
    /// connection without sending the answer: a crash or network failure
    /// between IR's processing and the client's receipt.
    DropAfterProcess,
    /// Answer with this HTTP status (500-599) and a gateway's HTML page, as a
    /// load balancer in front of IR would (e.g. 502, 503, 504).
    Status {
        /// The status, 500-599.
        status: u16,
    },
    /// Answer as usual but send only half of the body before closing the
    /// connection (the `Content-Length` promises all of it).
    TruncatedBody,
    /// Answer as usual, but with a body that is not valid JSON.
    MalformedBody,
    /// Answer IR's `PIR150` (HTTP 500, unknown error while processing).
    Pir150,
    /// Answer this HTTP status (400-599) with this body as JSON, unchecked:
    /// what a hostile or broken server might send (an error "code" that is an
    /// IRD number or a spreadsheet formula, a message with personal data).
    Answer {
        /// The status, 400-599.
        status: u16,
        /// The body, sent as it is with `Content-Type: application/json`.
        body: String,
    },
    /// Answer 429 Too Many Requests, as a gateway's rate limit in front of IR
    /// does (before IR processes anything), with `Retry-After: secs` when
    /// `secs` is given.
    TooManyRequests {
        /// The `Retry-After` header, in seconds; none when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secs: Option<u64>,
    },
    /// Answer a PIR request as usual, but for another investor: the answer's
    /// `IRD` (and its `PieIRD`, when there is one) is not the one asked about,
    /// as a gateway that mixed up two callers' answers would send.
    OtherInvestor,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// `POST /gateway/calculators/pir` (the default).
    #[default]
    Pir,
    /// `POST /gateway3/oauth/token`.
    Token,
}

/// A fault and how many requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What goes wrong.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// The number of requests it applies to; `None`: every request until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Which requests.
    #[serde(default)]
    pub scope: FaultScope,
}

impl Fault {
    /// A fault on every PIR request until cleared.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            kind,
            times: None,
            scope: FaultScope::Pir,
        }
    }

    /// A delay before answering.
    pub fn delay(d: Duration) -> Self {
        Fault::new(FaultKind::Delay {
            ms: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// An HTTP status (500-599) with a gateway's HTML page.
    pub fn status(status: u16) -> Self {
        Fault::new(FaultKind::Status { status })
    }

    /// Applies to the next `n` requests only.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Applies to requests of `scope`.
    #[must_use]
    pub fn scope(mut self, scope: FaultScope) -> Self {
        self.scope = scope;
        self
    }

    /// A fault from its JSON form (`{"kind": "delay", "ms": 200, "times": 1,
    /// "scope": "token"}`), checked: what the bindings' `setFault` and the
    /// admin endpoint accept. The error names the field or the rule.
    pub fn from_json(value: serde_json::Value) -> Result<Fault, String> {
        const MEMBERS: [&str; 7] = ["kind", "ms", "secs", "status", "body", "times", "scope"];
        let Some(obj) = value.as_object() else {
            return Err("a fault is a JSON object".to_owned());
        };
        if let Some(k) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(format!("unknown fault member `{k}`"));
        }
        for (key, max) in [
            ("ms", u64::MAX),
            ("secs", 86_400),
            ("status", u64::from(u16::MAX)),
            ("times", u64::from(u32::MAX)),
        ] {
            if let Some(v) = obj.get(key)
                && v.as_u64().is_none_or(|n| n > max)
            {
                return Err(format!("`{key}` must be a whole number from 0 to {max}"));
            }
        }
        let fault: Fault = serde_json::from_value(value).map_err(|e| e.to_string())?;
        match fault.problem() {
            Some(p) => Err(p.to_owned()),
            None => Ok(fault),
        }
    }

    /// Why the fault cannot be used, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        match (&self.kind, self.scope) {
            _ if self.times == Some(0) => Some("`times` must be at least 1"),
            (FaultKind::Status { status }, _) if !(500..=599).contains(status) => {
                Some("`status` must be between 500 and 599")
            }
            (FaultKind::Answer { status, .. }, _) if !(400..=599).contains(status) => {
                Some("`status` must be between 400 and 599")
            }
            (FaultKind::Delay { ms }, _) if *ms > 600_000 => {
                Some("`ms` must be at most 600000 (10 minutes)")
            }
            (FaultKind::Pir150, FaultScope::Token) => {
                Some("`pir150` applies to the PIR operation only")
            }
            _ => None,
        }
    }
}

/// The faults of one sandbox, used in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    any: AtomicBool,
    queue: Mutex<Vec<Fault>>,
}

impl FaultQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, fault: Fault) {
        let mut q = self.lock();
        q.push(fault);
        self.any.store(true, Ordering::Release);
    }

    pub fn replace(&self, faults: Vec<Fault>) {
        let mut q = self.lock();
        *q = faults;
        self.any.store(!q.is_empty(), Ordering::Release);
    }

    pub fn clear(&self) {
        self.replace(Vec::new());
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// The fault for the next request of `scope`, if any, counting it down.
    pub fn take(&self, scope: FaultScope) -> Option<FaultKind> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut q = self.lock();
        let pos = q.iter().position(|f| f.scope == scope)?;
        let kind = q[pos].kind.clone();
        if let Some(n) = q[pos].times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                q.remove(pos);
            }
        }
        self.any.store(!q.is_empty(), Ordering::Release);
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_run_out_in_order() {
        let q = FaultQueue::default();
        assert_eq!(q.take(FaultScope::Pir), None);
        q.add(Fault::status(503).times(2));
        q.add(Fault::new(FaultKind::Pir150).times(1));
        q.add(Fault::new(FaultKind::DropBeforeRead).scope(FaultScope::Token));
        let s503 = Some(FaultKind::Status { status: 503 });
        assert_eq!(q.take(FaultScope::Pir), s503);
        assert_eq!(q.take(FaultScope::Pir), s503);
        assert_eq!(q.take(FaultScope::Pir), Some(FaultKind::Pir150));
        assert_eq!(q.take(FaultScope::Pir), None);
        assert_eq!(q.take(FaultScope::Token), Some(FaultKind::DropBeforeRead));
        assert_eq!(q.take(FaultScope::Token), Some(FaultKind::DropBeforeRead));
        q.clear();
        assert_eq!(q.take(FaultScope::Token), None);
    }

    #[test]
    fn json_form() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"delay","ms":250,"times":3}"#).expect("parses");
        assert_eq!(f, Fault::delay(Duration::from_millis(250)).times(3));
        let f: Fault = serde_json::from_str(r#"{"kind":"status","status":502,"scope":"token"}"#)
            .expect("parses");
        assert_eq!(f, Fault::status(502).scope(FaultScope::Token));
        assert!(Fault::status(404).problem().is_some());
        assert!(
            Fault::new(FaultKind::TruncatedBody)
                .times(0)
                .problem()
                .is_some()
        );
        let back = serde_json::to_value(Fault::new(FaultKind::MalformedBody)).expect("serialises");
        assert_eq!(
            back,
            serde_json::json!({"kind":"malformed_body","scope":"pir"})
        );
    }
}

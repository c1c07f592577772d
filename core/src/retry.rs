//! Retries with exponential backoff and full jitter, for transient faults only.

use std::time::Duration;

/// When and how often a failed call is tried again.
///
/// Only transient faults are retried (see [`Error::is_retryable`](crate::Error::is_retryable)):
/// a connection that could not be made or broke, a timeout, HTTP 502/503/504 and
/// IR's PIR150. Rejections (400), authentication and authorisation failures
/// (401) and IR003 are never retried.
///
/// Before retry `n` (1-based) the client sleeps a random time between zero and
/// `min(max_delay, base_delay * 2^(n-1))` ("full jitter"), or the server's
/// `Retry-After` if that is longer (still capped by `max_delay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 250 ms base delay, 8 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The default policy with `max_retries` retries after the first attempt.
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            ..RetryPolicy::default()
        }
    }

    /// No retries.
    pub fn none() -> Self {
        RetryPolicy::new(0)
    }

    /// Sets the base delay (the first retry waits up to this long).
    #[must_use]
    pub fn with_base_delay(mut self, base: Duration) -> Self {
        self.base_delay = base;
        self
    }

    /// Sets the longest wait before any retry.
    #[must_use]
    pub fn with_max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The base delay.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest wait before a retry.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The upper bound of the wait before retry `retry` (1-based).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before retry `retry`: uniform in `[0, ceiling]`, or the server's
    /// `Retry-After` when that is longer, capped at `max_delay`.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let jittered = ceiling.mul_f64(unit_random());
        match retry_after {
            Some(ra) => ra.max(jittered).min(self.max_delay),
            None => jittered,
        }
    }
}

/// A uniform random number in `[0, 1)`.
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_and_cap() {
        let p = RetryPolicy::new(5)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(700));
        let c: Vec<u128> = (1..=6).map(|n| p.backoff_ceiling(n).as_millis()).collect();
        assert_eq!(c, [100, 200, 400, 700, 700, 700]);
        assert_eq!(p.backoff_ceiling(200), Duration::from_millis(700));
    }

    #[test]
    fn full_jitter_stays_in_range_and_varies() {
        let p = RetryPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(3, None)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(1)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "jitter should spread the waits");
        // Retry-After wins when longer, but never beyond the cap.
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(60))),
            Duration::from_secs(8)
        );
    }
}

//! Exponential backoff with full jitter, bounded by a [`Deadline`].
//!
//! Shared by the sinks that retry (OpenSearch, Firehose). The caller keeps its own loop
//! and asks [`Backoff::wait`] before each new attempt:
//!
//! ```
//! # async fn demo() {
//! use std::time::Duration;
//! use csoc_forwarder::retry::Backoff;
//! use csoc_forwarder::invocation::Deadline;
//!
//! let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
//! let deadline = Deadline::after(Duration::from_millis(500));
//! let mut attempt = 0;
//! loop {
//!     let failed = attempt < 2; // ... send, and keep what is still failing ...
//!     if !failed {
//!         break;
//!     }
//!     attempt += 1;
//!     if !backoff.wait(attempt, deadline).await {
//!         break; // out of time: report what is left as retryable
//!     }
//! }
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo());
//! ```
//!
//! Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): before attempt
//! `n` (1-based), sleep a uniformly random time in `[0, min(cap, base · 2^(n-1))]`.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use crate::invocation::Deadline;

/// Backoff parameters. Cheap to copy; holds no state between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The upper bound of the first sleep.
    pub base: Duration,
    /// No sleep is longer than this.
    pub cap: Duration,
    /// Do not start another attempt with less than this left before the deadline: an
    /// attempt needs some time to be worth making.
    pub min_attempt: Duration,
}

impl Backoff {
    /// `base` and `cap` as given; `min_attempt` 100 ms.
    pub const fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            min_attempt: Duration::from_millis(100),
        }
    }

    /// The same, with another `min_attempt`.
    pub const fn with_min_attempt(self, min_attempt: Duration) -> Self {
        Self {
            min_attempt,
            ..self
        }
    }

    /// The upper bound of the sleep before attempt `attempt` (1-based; 0 gives zero).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32 << (attempt - 1).min(20);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random sleep before attempt `attempt`: uniform in `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.ceiling(attempt).mul_f64(unit_random())
    }

    /// Sleeps before attempt `attempt` and says whether that attempt may start.
    ///
    /// Returns `false` at once, without sleeping, when the sleep would leave less than
    /// `min_attempt` before `deadline`: the caller then reports what is still failing as
    /// retryable instead of running out the clock.
    pub async fn wait(&self, attempt: u32, deadline: Deadline) -> bool {
        let delay = self.delay(attempt);
        if deadline.remaining() < delay + self.min_attempt {
            return false;
        }
        tokio::time::sleep(delay).await;
        deadline.remaining() >= self.min_attempt
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(RandomState::new().build_hasher().finish() | 1);
}

/// A uniform number in `[0, 1)`: xorshift64*, seeded per thread from the OS-seeded
/// `RandomState`. Jitter needs spread, not cryptographic quality.
fn unit_random() -> f64 {
    RNG.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        assert_eq!(B.ceiling(0), Duration::ZERO);
        assert_eq!(B.ceiling(1), Duration::from_millis(100));
        assert_eq!(B.ceiling(2), Duration::from_millis(200));
        assert_eq!(B.ceiling(4), Duration::from_millis(800));
        assert_eq!(B.ceiling(6), Duration::from_secs(2));
        assert_eq!(B.ceiling(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let delays: Vec<Duration> = (0..200).map(|_| B.delay(3)).collect();
        assert!(delays.iter().all(|d| *d <= B.ceiling(3)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "full jitter spreads the delays");
        assert!(delays.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(200)));
    }

    #[tokio::test]
    async fn wait_refuses_when_the_deadline_is_too_close() {
        let deadline = Deadline::after(Duration::from_millis(50));
        let start = std::time::Instant::now();
        assert!(!B.wait(1, deadline).await);
        assert!(start.elapsed() < Duration::from_millis(50), "no sleep");
    }

    #[tokio::test]
    async fn wait_sleeps_within_the_ceiling_when_there_is_time() {
        let deadline = Deadline::after(Duration::from_secs(10));
        let start = std::time::Instant::now();
        assert!(B.wait(1, deadline).await);
        assert!(start.elapsed() <= Duration::from_millis(100) + Duration::from_millis(50));
    }
}

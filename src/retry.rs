//! The one retry loop ([`Backoff::retrying`]: pending items, send, classify, back off, bounded
//! by a [`Deadline`]) used by every sink that retries (OpenSearch, Firehose, Slack), and
//! its exponential backoff with full jitter. A caller with a loop of its own asks
//! [`Backoff::wait`] before each new attempt:
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
use std::time::{Duration, Instant};

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

/// What one round of sending did, as the sink classified it.
#[derive(Debug)]
pub struct Round<T> {
    /// The items to send again.
    pub retry: Vec<T>,
    /// Wait with the exponential backoff before the next round (`false`: e.g. only
    /// rewritten items to send, nothing failed in a way worth waiting for).
    pub back_off: bool,
    /// Do not start the next round before this (the service's `Retry-After`).
    pub not_before: Option<Instant>,
    /// Stop: what is left cannot succeed within this invocation.
    pub stop: bool,
}

impl<T> Round<T> {
    /// Retry `items` after the backoff.
    pub fn retry(items: Vec<T>) -> Self {
        Self {
            retry: items,
            back_off: true,
            not_before: None,
            stop: false,
        }
    }

    /// Nothing left to send.
    pub fn done() -> Self {
        Self::retry(Vec::new())
    }

    /// Give up on `items` for this invocation.
    pub fn stop(items: Vec<T>) -> Self {
        Self {
            stop: true,
            ..Self::retry(items)
        }
    }
}

/// How a [`Retrying`] loop ended.
#[derive(Debug)]
pub struct Finished<T> {
    /// The items still failing: report them as retryable.
    pub left: Vec<T>,
    /// Rounds sent.
    pub rounds: u32,
    /// Backoff waits started (the last may have been refused by the deadline).
    pub backoffs: u32,
    /// The loop stopped because the deadline left no time for another round.
    pub out_of_time: bool,
}

impl Backoff {
    /// The retry loop for `items`, at most `max_rounds` rounds, bounded by `deadline`.
    /// The caller sends and classifies; the loop decides whether and when to go on:
    ///
    /// ```text
    /// let mut retry = backoff.retrying(items, max_rounds, deadline);
    /// while let Some((items, round)) = retry.next_round() {
    ///     let outcome = /* send `items`, classify: */ Round::retry(still_failing);
    ///     retry.settle(outcome).await;
    /// }
    /// let finished = retry.finish(); // `finished.left`: report as retryable
    /// ```
    pub fn retrying<T>(&self, items: Vec<T>, max_rounds: u32, deadline: Deadline) -> Retrying<T> {
        Retrying {
            backoff: *self,
            max_rounds,
            deadline,
            items,
            rounds: 0,
            backoffs: 0,
            over: false,
            out_of_time: false,
        }
    }
}

/// A retry loop in progress ([`Backoff::retrying`]): the pending items, the rounds sent
/// and the backoff waits; it goes on until nothing is left, a round says stop,
/// `max_rounds` rounds were sent, or the next round (after its wait) could not start
/// before the deadline.
#[derive(Debug)]
pub struct Retrying<T> {
    backoff: Backoff,
    max_rounds: u32,
    deadline: Deadline,
    items: Vec<T>,
    rounds: u32,
    backoffs: u32,
    over: bool,
    out_of_time: bool,
}

impl<T> Retrying<T> {
    /// The items to send in the next round and its number (from 1), or `None` when the
    /// loop is over.
    pub fn next_round(&mut self) -> Option<(Vec<T>, u32)> {
        if self.over || self.items.is_empty() {
            return None;
        }
        self.rounds += 1;
        Some((std::mem::take(&mut self.items), self.rounds))
    }

    /// What the round did: keeps what to send again and waits (the backoff, or the
    /// service's `Retry-After`) before the next round, or ends the loop.
    pub async fn settle(&mut self, round: Round<T>) {
        self.items = round.retry;
        if self.items.is_empty() || round.stop || self.rounds >= self.max_rounds {
            self.over = true;
            return;
        }
        if let Some(at) = round.not_before {
            if at + self.backoff.min_attempt >= self.deadline.instant() {
                self.over = true;
                self.out_of_time = true;
                return;
            }
            tokio::time::sleep_until(at.into()).await;
        } else if round.back_off {
            self.backoffs += 1;
            if !self.backoff.wait(self.backoffs, self.deadline).await {
                self.over = true;
                self.out_of_time = true;
            }
        }
    }

    /// How the loop ended.
    pub fn finish(self) -> Finished<T> {
        Finished {
            left: self.items,
            rounds: self.rounds,
            backoffs: self.backoffs,
            out_of_time: self.out_of_time,
        }
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

    /// Drives a loop where `classify` turns each round's items into its outcome.
    async fn drive(
        backoff: Backoff,
        items: Vec<u32>,
        max_rounds: u32,
        deadline: Deadline,
        mut classify: impl FnMut(Vec<u32>) -> Round<u32>,
    ) -> (Finished<u32>, Vec<Vec<u32>>) {
        let mut sent = Vec::new();
        let mut retry = backoff.retrying(items, max_rounds, deadline);
        while let Some((items, _)) = retry.next_round() {
            sent.push(items.clone());
            retry.settle(classify(items)).await;
        }
        (retry.finish(), sent)
    }

    const FAST: Backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(2))
        .with_min_attempt(Duration::ZERO);

    #[tokio::test]
    async fn the_loop_retries_until_done_and_counts_rounds() {
        let deadline = Deadline::after(Duration::from_secs(10));
        // Each round one item succeeds.
        let (done, sent) = drive(FAST, vec![1, 2, 3], 10, deadline, |items| {
            Round::retry(items.into_iter().skip(1).collect())
        })
        .await;
        assert!(done.left.is_empty());
        assert_eq!((done.rounds, done.backoffs), (3, 2));
        assert_eq!(sent, vec![vec![1, 2, 3], vec![2, 3], vec![3]]);
    }

    #[tokio::test]
    async fn the_loop_stops_at_max_rounds_a_stop_or_the_deadline() {
        let deadline = Deadline::after(Duration::from_secs(10));
        let (capped, _) = drive(FAST, vec![1], 2, deadline, Round::retry).await;
        assert_eq!(
            (capped.left, capped.rounds, capped.out_of_time),
            (vec![1], 2, false)
        );
        let (stopped, _) = drive(FAST, vec![1], 9, deadline, Round::stop).await;
        assert_eq!((stopped.rounds, stopped.backoffs), (1, 0));
        let soon = Deadline::after(Duration::from_millis(50));
        let (late, _) = drive(B, vec![1], 9, soon, Round::retry).await;
        assert!(late.out_of_time);
        assert_eq!(late.rounds, 1);
        let (waited, _) = drive(FAST, vec![1], 9, deadline, |items| Round {
            not_before: Some(Instant::now() + Duration::from_secs(60)),
            ..Round::retry(items)
        })
        .await;
        assert!(waited.out_of_time, "Retry-After past the deadline");
    }

    #[tokio::test]
    async fn wait_sleeps_within_the_ceiling_when_there_is_time() {
        let deadline = Deadline::after(Duration::from_secs(10));
        let start = std::time::Instant::now();
        assert!(B.wait(1, deadline).await);
        assert!(start.elapsed() <= Duration::from_millis(100) + Duration::from_millis(50));
    }
}

//! One invocation's context: when it must have answered by ([`Deadline`]), when the
//! event arrived, and the name of its dead letter. Every stage that waits is bounded by
//! the deadline; the sinks and the retry loop take it from here.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// When the invocation must have answered by.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    pub fn after(d: Duration) -> Self {
        Self(Instant::now() + d)
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn instant(&self) -> Instant {
        self.0
    }

    /// This deadline moved `margin` earlier (not before now's past: saturating).
    pub fn earlier_by(&self, margin: Duration) -> Self {
        Self(self.0.checked_sub(margin).unwrap_or(self.0))
    }
}

/// One invocation's context.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// When the event was received; recorded in dead letters.
    pub received_at: DateTime<Utc>,
    /// When the answer is due.
    pub deadline: Deadline,
    /// Names the dead letter of an event that is not understood as a whole.
    pub source: String,
}

//! How long a record and a delivery take, learnt as the function runs: the Kinesis loop
//! reserves this much time before it starts a record, so a record is only started when
//! there is time to decode, build and deliver it.

use std::time::Duration;

/// Assumed before anything was measured: a record's decode and build, and one delivery.
const FIRST_RECORD: Duration = Duration::from_millis(50);
const FIRST_FLUSH: Duration = Duration::from_millis(500);

/// The estimates. A longer observation replaces an estimate at once; a shorter one
/// lowers it by an eighth of the difference, so one slow delivery is not forgotten after
/// one fast one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pace {
    /// Decoding one record and building its documents (delivery not included).
    pub(super) record: Duration,
    /// Delivering one chunk to the index and the archive and settling it.
    pub(super) flush: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Self {
            record: FIRST_RECORD,
            flush: FIRST_FLUSH,
        }
    }
}

impl Pace {
    pub(super) fn observe_record(&mut self, took: Duration) {
        self.record = learn(self.record, took);
    }

    pub(super) fn observe_flush(&mut self, took: Duration) {
        self.flush = learn(self.flush, took);
    }

    /// The time to reserve before starting another record.
    pub(super) fn next_record(&self) -> Duration {
        self.record + self.flush
    }
}

fn learn(estimate: Duration, observed: Duration) -> Duration {
    if observed >= estimate {
        observed
    } else {
        estimate - (estimate - observed) / 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_observations_count_at_once_fast_ones_slowly() {
        let mut pace = Pace::default();
        pace.observe_flush(Duration::from_secs(4));
        assert_eq!(pace.flush, Duration::from_secs(4));
        pace.observe_flush(Duration::ZERO);
        assert_eq!(pace.flush, Duration::from_millis(3500));
        pace.observe_record(Duration::from_millis(10));
        assert!(pace.record < FIRST_RECORD && pace.record > Duration::from_millis(40));
        assert_eq!(pace.next_record(), pace.record + pace.flush);
    }
}

//! Alert suppression across invocations: an alert's fingerprint is claimed for a window;
//! while it is claimed, matches are counted instead of posted, and the first message
//! after the window says how many were suppressed.
//!
//! [`SuppressionStore`] has two adapters: [`dynamodb::DynamoDbSuppression`] (the table
//! the Terraform module creates, shared by the commons' invocations) and
//! [`LocalSuppression`] (in memory, per run: `process`, `serve`, tests).

pub mod dynamodb;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// One claim: post this alert unless its fingerprint is held.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub fingerprint: &'a str,
    /// The readable form of the fingerprint (kept beside it, for people).
    pub label: &'a str,
    pub now: DateTime<Utc>,
    pub window: Duration,
    /// Events behind the alert: counted as suppressed when the claim fails.
    pub matches: u64,
}

/// What a claim decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Post; `suppressed` matches were held back since the previous message.
    Post { suppressed: u64 },
    /// Another message holds the fingerprint: do not post (the matches were counted).
    Suppressed,
}

#[derive(Debug, Error)]
#[error("suppression store: {0}")]
pub struct SuppressionError(pub String);

/// Where fingerprints are claimed.
#[async_trait]
pub trait SuppressionStore: Send + Sync + std::fmt::Debug {
    async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Claim, SuppressionError>;
}

/// The end of a window, in whole seconds since the epoch.
pub fn until(now: DateTime<Utc>, window: Duration) -> i64 {
    now.timestamp()
        .saturating_add(i64::try_from(window.as_secs()).unwrap_or(i64::MAX))
}

/// Suppression in memory, for one run.
#[derive(Debug, Default)]
pub struct LocalSuppression {
    /// fingerprint → (claimed until, suppressed matches).
    held: Mutex<HashMap<String, (i64, u64)>>,
}

#[async_trait]
impl SuppressionStore for LocalSuppression {
    async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Claim, SuppressionError> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let now = req.now.timestamp();
        match held.get_mut(req.fingerprint) {
            Some((until_, suppressed)) if *until_ > now => {
                *suppressed = suppressed.saturating_add(req.matches);
                Ok(Claim::Suppressed)
            }
            Some(entry) => {
                let suppressed = entry.1;
                *entry = (until(req.now, req.window), 0);
                Ok(Claim::Post { suppressed })
            }
            None => {
                held.insert(req.fingerprint.to_owned(), (until(req.now, req.window), 0));
                Ok(Claim::Post { suppressed: 0 })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fingerprint_is_held_for_its_window_and_counts() {
        let store = LocalSuppression::default();
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let req = |now, matches| ClaimRequest {
            fingerprint: "f",
            label: "l",
            now,
            window: Duration::from_secs(1800),
            matches,
        };
        assert_eq!(
            store.claim(&req(t0, 1)).await.unwrap(),
            Claim::Post { suppressed: 0 }
        );
        let t1 = t0 + chrono::Duration::minutes(10);
        assert_eq!(store.claim(&req(t1, 2)).await.unwrap(), Claim::Suppressed);
        assert_eq!(store.claim(&req(t1, 3)).await.unwrap(), Claim::Suppressed);
        let t2 = t0 + chrono::Duration::minutes(30);
        assert_eq!(
            store.claim(&req(t2, 1)).await.unwrap(),
            Claim::Post { suppressed: 5 }
        );
        assert_eq!(store.claim(&req(t2, 1)).await.unwrap(), Claim::Suppressed);
    }
}

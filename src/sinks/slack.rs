//! The Slack incoming-webhook adapter of [`AlertSink`].
//!
//! - The URL is a credential: [`WebhookUrl`] (in [`crate::config::slack`]) never shows it (`Debug`/`Display` redact it)
//!   and errors are built without it.
//! - At most one message per [`MIN_INTERVAL`] per instance (the state outlives
//!   invocations); each request times out after [`TIMEOUT`] or at the deadline.
//! - 429: `Retry-After` (seconds) is honoured when it fits the time budget; 5xx and other
//!   refusals are errors (the caller logs and counts them).
//! - The Lambda reads the URL from Secrets Manager once per cold start
//!   ([`webhook_from_secret`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{AlertSink, SinkError, SinkName};
pub use crate::config::slack::WebhookUrl;
use crate::config::slack::url_from_secret;
use crate::invocation::Deadline;
use crate::retry::{Backoff, Round};

/// A request's time limit.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// The least time between two messages of one instance.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Tries per message (the first and the retries after 429).
const MAX_ATTEMPTS: u32 = 3;
/// The retry loop's settings: Slack's waits come from `Retry-After` and the sending
/// slots, not from a backoff; a try needs no minimum time (its slot says).
const RETRY: Backoff =
    Backoff::new(Duration::ZERO, Duration::ZERO).with_min_attempt(Duration::ZERO);

const SINK: SinkName = SinkName::Slack;

/// Reads the webhook URL from Secrets Manager. The error names the secret, never its value.
pub async fn webhook_from_secret(
    sdk: &aws_config::SdkConfig,
    secret_id: &str,
) -> Result<WebhookUrl, SinkError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let failed = |message: String| SinkError::Failed {
        sink: SINK,
        message,
    };
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            failed(format!(
                "cannot read secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| failed(format!("secret {secret_id} has no string value")))?;
    url_from_secret(text).map_err(|e| failed(format!("secret {secret_id}: {e}")))
}

/// Posts payloads to a Slack incoming webhook.
pub struct SlackWebhook {
    client: reqwest::Client,
    url: WebhookUrl,
    timeout: Duration,
    min_interval: Duration,
    /// When the next message may be sent.
    next_slot: Mutex<Instant>,
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("min_interval", &self.min_interval)
            .finish_non_exhaustive()
    }
}

impl SlackWebhook {
    /// With the production limits ([`TIMEOUT`], [`MIN_INTERVAL`]).
    pub fn new(url: WebhookUrl) -> Result<Self, SinkError> {
        Self::with_limits(url, TIMEOUT, MIN_INTERVAL)
    }

    /// With other limits (tests).
    pub fn with_limits(
        url: WebhookUrl,
        timeout: Duration,
        min_interval: Duration,
    ) -> Result<Self, SinkError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SinkError::Failed {
                sink: SINK,
                message: format!("cannot build the HTTP client: {}", e.without_url()),
            })?;
        Ok(Self {
            client,
            url,
            timeout,
            min_interval,
            next_slot: Mutex::new(Instant::now()),
        })
    }

    /// Reserves the next sending slot, if it comes before the deadline.
    fn reserve(&self, deadline: Deadline, not_before: Instant) -> Option<Instant> {
        let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let slot = (*next).max(Instant::now()).max(not_before);
        if slot >= deadline.instant() {
            return None;
        }
        *next = slot + self.min_interval;
        Some(slot)
    }
}

fn failed(message: String) -> SinkError {
    SinkError::Failed {
        sink: SINK,
        message,
    }
}

/// `Retry-After` in seconds (HTTP dates are not used by Slack); 1 s when absent.
fn retry_after(resp: &reqwest::Response) -> Duration {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
}

#[async_trait]
impl AlertSink for SlackWebhook {
    async fn post(&self, payload: &serde_json::Value, deadline: Deadline) -> Result<(), SinkError> {
        let mut not_before = Instant::now();
        let mut error = failed("gave up after repeated 429 answers".to_owned());
        let mut retry = RETRY.retrying(vec![()], MAX_ATTEMPTS, deadline);
        while let Some((one, attempt)) = retry.next_round() {
            let round = 'round: {
                match self.try_post(payload, deadline, not_before).await {
                    Ok(()) => Round::done(),
                    Err(Attempt::Failed(err)) => {
                        error = err;
                        Round::stop(one)
                    }
                    Err(Attempt::TooMany(wait)) => {
                        let at = Instant::now() + wait;
                        if attempt == MAX_ATTEMPTS || at >= deadline.instant() {
                            error = failed(format!(
                                "429 Too Many Requests: Retry-After {} s does not fit the time budget (try {attempt})",
                                wait.as_secs()
                            ));
                            break 'round Round::stop(one);
                        }
                        // Every later message waits too.
                        {
                            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
                            *next = (*next).max(at);
                        }
                        not_before = at;
                        Round {
                            back_off: false,
                            ..Round::retry(one)
                        }
                    }
                }
            };
            retry.settle(round).await;
        }
        if retry.finish().left.is_empty() {
            Ok(())
        } else {
            Err(error)
        }
    }
}

/// Why one try did not deliver.
enum Attempt {
    /// For good (for this message): no time, a transport error, a refusal.
    Failed(SinkError),
    /// 429: try again after this long.
    TooMany(Duration),
}

impl SlackWebhook {
    /// One try in the next sending slot at or after `not_before`.
    async fn try_post(
        &self,
        payload: &serde_json::Value,
        deadline: Deadline,
        not_before: Instant,
    ) -> Result<(), Attempt> {
        let no_time = || {
            Attempt::Failed(failed(
                "no time left in the invocation's budget to post".to_owned(),
            ))
        };
        let slot = self.reserve(deadline, not_before).ok_or_else(no_time)?;
        tokio::time::sleep_until(slot.into()).await;
        let timeout = self.timeout.min(deadline.remaining());
        if timeout.is_zero() {
            return Err(no_time());
        }
        let resp = self
            .client
            .post(self.url.expose())
            .timeout(timeout)
            .json(payload)
            .send()
            .await
            .map_err(|e| {
                Attempt::Failed(if e.is_timeout() {
                    failed(format!("timed out after {} ms", timeout.as_millis()))
                } else {
                    // `without_url`: the URL is a credential.
                    failed(format!("request failed: {}", e.without_url()))
                })
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt::TooMany(retry_after(&resp)));
        }
        let body = resp.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        Err(Attempt::Failed(failed(format!(
            "webhook answered {status}: {body}"
        ))))
    }
}

/// Alerts go nowhere, for a reason (the secret could not be read): every post fails
/// with it, so the failures are logged and counted.
#[derive(Debug, Clone)]
pub struct DisabledAlerts {
    pub reason: String,
}

#[async_trait]
impl AlertSink for DisabledAlerts {
    async fn post(
        &self,
        _payload: &serde_json::Value,
        _deadline: Deadline,
    ) -> Result<(), SinkError> {
        Err(failed(format!("alerts are disabled: {}", self.reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_never_shows() {
        let u = WebhookUrl::parse("https://hooks.slack.com/services/T/B/SECRET").unwrap();
        assert!(!format!("{u:?} {u}").contains("SECRET"));
        let w = SlackWebhook::new(u).unwrap();
        assert!(!format!("{w:?}").contains("SECRET"));
        assert!(WebhookUrl::parse("ftp://x").is_err());
        assert_eq!(
            url_from_secret(r#"{"url":"https://h/x"}"#)
                .unwrap()
                .expose(),
            "https://h/x"
        );
    }
}

//! Slack alerts, evaluated on the documents a batch produced: slow responses
//! ([`slow`]) and risky CloudTrail activity ([`sigma`] rules), as Block Kit payloads
//! ([`slack`]) posted through the [`AlertSink`].
//!
//! Evaluation is pure and deterministic ([`Alerter::evaluate`]) and reads each
//! document's header (its kind, envelope fields and the access-log fields as written):
//! no document's JSON is parsed again, except the message of a CloudTrail document when
//! a rule applies to CloudTrail (Sigma rules read the event as a `Value`). Delivery ([`Alerter::deliver`])
//! is best effort: its failures are logged and counted and never touch the batch.

mod cloudtrail;
#[cfg(test)]
mod json_oracle;
mod message;
#[cfg(test)]
mod prefilter_tests;
pub mod sigma;
pub mod slack;
pub mod slow;
pub mod suppression;
#[cfg(test)]
mod test_documents;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::Digest as _;
use tracing::warn;

pub use self::cloudtrail::restore_event;
use self::cloudtrail::{ALL_TEXT_FIELDS, HitKey, Seen, TextReads, cloudtrail_event, top_fields};
pub use self::message::discover_url;
use self::message::{finish, window_text};
use self::sigma::{Level, LoadError, Meta, RuleSet};
use self::slack::Message;
use self::slow::{Environment, SlowCheck, SlowRequest};
use self::suppression::{Claim, ClaimRequest, LocalSuppression, SuppressionStore};
use crate::config::Config;
use crate::document::Document;
use crate::invocation::Deadline;
use crate::sinks::AlertSink;

/// Messages posted per invocation; past this, the rest are summed up in one more.
pub const MAX_MESSAGES: usize = 10;
/// Documents listed (with links) in one CloudTrail alert.
const MAX_DOCS_LISTED: usize = 5;
/// How long an alert's fingerprint stays claimed after a message, unless the rule says
/// otherwise (`suppression_window`).
pub const DEFAULT_SUPPRESSION_WINDOW: Duration = Duration::from_secs(30 * 60);
/// The longest one claim may take; past it the alert is posted (fail open).
const CLAIM_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything alerting needs, built once per cold start.
#[derive(Debug, Clone)]
pub struct Alerter {
    slow: Option<SlowCheck>,
    rules: Arc<RuleSet>,
    /// Some rule applies to CloudTrail events (else no document is read for them).
    cloudtrail_rules: bool,
    /// The fields the rules' prefilters read ([`RuleSet::prefilter_fields`]).
    prefilter_fields: Vec<String>,
    /// The free-form fields of a CloudTrail event each rule reads.
    text_reads: TextReads,
    dashboards_url: Option<String>,
    suppression: Arc<dyn SuppressionStore>,
    window: Duration,
}

impl Default for Alerter {
    /// The built-in rules; the slow-response check off; no Dashboards links;
    /// suppression per run.
    fn default() -> Self {
        Self::new(None, RuleSet::builtin(), None)
    }
}

/// What delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
    /// Alerts not posted: their fingerprint was claimed within its window.
    pub suppressed: usize,
}

/// One alert before suppression and rendering.
#[derive(Debug, Clone)]
pub struct Alert {
    /// What suppression keys on (hex SHA-256 of the rule or check, the commons and the
    /// principal and call, or the log group, or the correlation's group).
    pub fingerprint: String,
    /// A readable form of the fingerprint (stored beside it).
    pub label: String,
    pub window: Duration,
    pub level: Level,
    /// Events (or slow requests) behind it.
    pub matches: u64,
    pub message: Message,
}

/// What alerting keeps of one document that can be part of an alert
/// ([`Alerter::candidate`]): small, so a batch keeps these instead of its documents
/// while they stream to the sinks.
#[derive(Debug, Clone)]
pub struct Candidate(Kind);

#[derive(Debug, Clone)]
enum Kind {
    Slow(Environment, SlowRequest),
    CloudTrail {
        /// The rules that matched (indexes into the rule set).
        matched: Vec<usize>,
        /// The correlations fed, with their group-by values.
        groups: Vec<(usize, Vec<String>)>,
        seen: Seen,
    },
}

impl Alerter {
    /// With suppression per run ([`LocalSuppression`]).
    pub fn new(slow: Option<SlowCheck>, rules: RuleSet, dashboards_url: Option<String>) -> Self {
        Self {
            slow,
            cloudtrail_rules: rules.rules.iter().any(|r| r.cloudtrail),
            prefilter_fields: rules.prefilter_fields(),
            text_reads: TextReads::new(&rules),
            rules: Arc::new(rules),
            dashboards_url: dashboards_url.map(|u| u.trim_end_matches('/').to_owned()),
            suppression: Arc::new(LocalSuppression::default()),
            window: DEFAULT_SUPPRESSION_WINDOW,
        }
    }

    /// Replaces the suppression store (the DynamoDB table in Lambda).
    pub fn with_suppression(mut self, store: Arc<dyn SuppressionStore>) -> Self {
        self.suppression = store;
        self
    }

    /// Replaces the default suppression window.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The slow check and links of `config`, and its rules: `ALERT_RULES` (files or
    /// directories of Sigma rules), else the built-in ones. A rule that cannot be used
    /// is an error naming its file.
    pub fn from_config(config: &Config) -> Result<Self, LoadError> {
        let rules = match &config.alert_rules {
            Some(paths) => RuleSet::from_paths(paths)?,
            None => RuleSet::builtin(),
        };
        Ok(Self::new(
            config.threshold.map(|threshold| SlowCheck {
                threshold,
                streams: config.slow_log_streams.clone(),
            }),
            rules,
            config.dashboards_url.clone(),
        ))
    }

    /// Evaluates and delivers the alerts of `docs`, suppression applied. Never fails.
    pub async fn run<'d>(
        &self,
        docs: impl IntoIterator<Item = &'d Document>,
        sink: &dyn AlertSink,
        deadline: Deadline,
    ) -> Delivery {
        self.run_at(docs, sink, deadline, Utc::now()).await
    }

    /// [`Alerter::run`] at a given time (tests replay invocations across windows).
    pub async fn run_at<'d>(
        &self,
        docs: impl IntoIterator<Item = &'d Document>,
        sink: &dyn AlertSink,
        deadline: Deadline,
        now: DateTime<Utc>,
    ) -> Delivery {
        let candidates = self.candidates(docs);
        self.post(self.drafts(&candidates), sink, deadline, now)
            .await
    }

    /// Posts the alerts of a batch's candidates (streaming delivery keeps candidates,
    /// not documents), suppression applied. Never fails.
    pub async fn run_candidates<'c>(
        &self,
        candidates: impl IntoIterator<Item = &'c Candidate>,
        sink: &dyn AlertSink,
        deadline: Deadline,
    ) -> Delivery {
        self.post(self.drafts(candidates), sink, deadline, Utc::now())
            .await
    }

    /// Claims each alert's fingerprint, then renders and posts those not suppressed.
    async fn post(
        &self,
        drafts: Vec<Draft<'_>>,
        sink: &dyn AlertSink,
        deadline: Deadline,
        now: DateTime<Utc>,
    ) -> Delivery {
        let mut kept = Vec::with_capacity(drafts.len().min(MAX_MESSAGES));
        let mut suppressed = 0;
        for draft in drafts {
            if draft.window.is_zero() {
                kept.push(self.render(draft));
                continue;
            }
            let req = ClaimRequest {
                fingerprint: &draft.fingerprint,
                label: &draft.label,
                now,
                window: draft.window,
                matches: draft.matches,
            };
            // Bounded: a slow store must not eat the time left for posting.
            let limit = CLAIM_TIMEOUT.min(deadline.remaining());
            let claim = match tokio::time::timeout(limit, self.suppression.claim(&req)).await {
                Ok(claim) => claim,
                Err(_) => Err(suppression::SuppressionError(format!(
                    "no answer within {} ms",
                    limit.as_millis()
                ))),
            };
            match claim {
                Ok(Claim::Post { suppressed: 0 }) => kept.push(self.render(draft)),
                Ok(Claim::Post { suppressed: n }) => {
                    let mut alert = self.render(draft);
                    alert.message.sections.push(format!(
                        "_{n} more matching events were suppressed since the last message (window {})._",
                        window_text(alert.window)
                    ));
                    alert
                        .message
                        .fallback
                        .push_str(&format!(" ({n} more suppressed)"));
                    kept.push(alert);
                }
                Ok(Claim::Suppressed) => suppressed += 1,
                Err(err) => {
                    // Fail open: a missed alert costs more than a repeated one.
                    warn!(error = %err, fingerprint = %draft.fingerprint, "suppression store failed; posting");
                    kept.push(self.render(draft));
                }
            }
        }
        if suppressed > 0 {
            tracing::info!(suppressed, "alerts suppressed: claimed within their window");
        }
        let payloads = finish(kept);
        let mut d = Self::deliver(&payloads, sink, deadline).await;
        d.suppressed = suppressed;
        d
    }

    /// Posts each payload in order; failures are logged and counted.
    pub async fn deliver(payloads: &[Value], sink: &dyn AlertSink, deadline: Deadline) -> Delivery {
        let mut d = Delivery::default();
        for payload in payloads {
            match sink.post(payload, deadline).await {
                Ok(()) => d.sent += 1,
                Err(err) => {
                    warn!(error = %err, "slack alert not delivered");
                    d.failed += 1;
                }
            }
        }
        d
    }

    /// The webhook payloads for `docs` without suppression: CloudTrail alerts by
    /// severity, then slow responses; identical ones once; at most [`MAX_MESSAGES`].
    pub fn evaluate<'d>(&self, docs: impl IntoIterator<Item = &'d Document>) -> Vec<Value> {
        finish(self.alerts(docs))
    }

    /// The alerts of `docs`, most severe first, slow responses last.
    pub fn alerts<'d>(&self, docs: impl IntoIterator<Item = &'d Document>) -> Vec<Alert> {
        self.alerts_of(&self.candidates(docs))
    }

    fn candidates<'d>(&self, docs: impl IntoIterator<Item = &'d Document>) -> Vec<Candidate> {
        docs.into_iter().filter_map(|d| self.candidate(d)).collect()
    }

    /// What alerting keeps of one document, if it can be part of an alert.
    pub fn candidate(&self, doc: &Document) -> Option<Candidate> {
        if let Some(check) = &self.slow
            && let Some((env, req)) = check.check(doc)
        {
            return Some(Candidate(Kind::Slow(env, req)));
        }
        self.cloudtrail_candidate(doc, true)
    }

    /// The candidate of a CloudTrail document; `lean`: not parsed when no rule's
    /// prefilter lets its event through, and of its free-form fields kept as text only
    /// those the rules that may match read parsed back (tests compare with neither).
    fn cloudtrail_candidate(&self, doc: &Document, lean: bool) -> Option<Candidate> {
        // Only CloudTrail documents, and only when a rule can apply to them.
        if !self.cloudtrail_rules || doc.kind() != crate::document::Kind::CloudTrail {
            return None;
        }
        let top = lean
            .then(|| top_fields(doc, &self.prefilter_fields))
            .flatten();
        let may = self.rules.may_match(top.as_ref());
        if !may.contains(&true) {
            return None;
        }
        let text = if lean {
            self.text_reads.of(&may)
        } else {
            ALL_TEXT_FIELDS
        };
        let event = cloudtrail_event(doc, &text)?;
        let matched: Vec<usize> = self.rules.matching_among(&event, &may).collect();
        self.cloudtrail_hit(matched, &event, || Seen::new(doc, &event))
    }

    /// The candidate of a CloudTrail event the rules `matched` (none: no candidate),
    /// with the correlation groups it falls in.
    fn cloudtrail_hit(
        &self,
        matched: Vec<usize>,
        event: &Value,
        seen: impl FnOnce() -> Seen,
    ) -> Option<Candidate> {
        if matched.is_empty() {
            return None;
        }
        let groups = self
            .rules
            .correlations
            .iter()
            .enumerate()
            .filter(|(_, corr)| corr.rules.iter().any(|r| matched.contains(r)))
            .map(|(c, corr)| {
                let key = corr
                    .group_by
                    .iter()
                    .map(|f| group_value(event, f))
                    .collect();
                (c, key)
            })
            .collect();
        Some(Candidate(Kind::CloudTrail {
            matched,
            groups,
            seen: seen(),
        }))
    }

    /// The alerts of a batch's candidates, most severe first, slow responses last.
    pub fn alerts_of<'c>(&self, candidates: impl IntoIterator<Item = &'c Candidate>) -> Vec<Alert> {
        self.drafts(candidates)
            .into_iter()
            .map(|d| self.render(d))
            .collect()
    }

    /// The alerts of a batch's candidates before rendering, in [`Alerter::alerts_of`]'s
    /// order: grouped, labelled and fingerprinted, their messages not yet written.
    fn drafts<'a, 'c: 'a>(
        &'a self,
        candidates: impl IntoIterator<Item = &'c Candidate>,
    ) -> Vec<Draft<'a>> {
        let mut slow: BTreeMap<&Environment, Vec<&SlowRequest>> = BTreeMap::new();
        let mut hits: BTreeMap<HitKey<'a>, Vec<&Seen>> = BTreeMap::new();
        let mut groups: BTreeMap<(usize, &[String]), Vec<&Seen>> = BTreeMap::new();
        for candidate in candidates {
            match &candidate.0 {
                Kind::Slow(env, req) => slow.entry(env).or_default().push(req),
                Kind::CloudTrail {
                    matched,
                    groups: fed,
                    seen,
                } => {
                    for &i in matched {
                        if self.rules.rules[i].generate {
                            hits.entry(HitKey::new(i, seen)).or_default().push(seen);
                        }
                    }
                    for (c, key) in fed {
                        groups.entry((*c, key)).or_default().push(seen);
                    }
                }
            }
        }

        let mut drafts: Vec<Draft<'a>> = Vec::new();
        for (key, seen) in hits {
            let meta = &self.rules.rules[key.rule].meta;
            let first = seen[0];
            let label = format!(
                "rule {} commons {} who {} call {} {} account {} region {} from {}",
                meta.key(),
                first.commons,
                first.who,
                first.event_source,
                first.event_name,
                first.account,
                first.region,
                first.source_ip
            );
            drafts.push(self.draft(meta, label, seen.len(), Body::Rule { meta, seen }));
        }
        for ((c, key), seen) in groups {
            let corr = &self.rules.correlations[c];
            if seen.len() >= corr.min_count {
                let groups: Vec<String> = corr
                    .group_by
                    .iter()
                    .zip(key)
                    .map(|(f, v)| format!("{f}={v}"))
                    .collect();
                let label = format!(
                    "correlation {} commons {} {}",
                    corr.meta.key(),
                    seen[0].commons,
                    groups.join(" ")
                );
                let (meta, n) = (&corr.meta, seen.len());
                drafts.push(self.draft(meta, label, n, Body::Burst { meta, groups, seen }));
            }
        }
        // Most severe first; the sort is stable, so the order stays deterministic.
        drafts.sort_by_key(|a| std::cmp::Reverse(a.level));
        for (env, requests) in slow {
            let label = format!(
                "slow-check commons {} log group {}",
                env.commons, env.log_group
            );
            drafts.push(Draft {
                fingerprint: fingerprint(&label),
                label,
                window: self.window,
                level: Level::Medium,
                matches: requests.len() as u64,
                body: Body::Slow { env, requests },
            });
        }
        drafts
    }

    fn draft<'a>(&self, meta: &Meta, label: String, matches: usize, body: Body<'a>) -> Draft<'a> {
        Draft {
            fingerprint: fingerprint(&label),
            label,
            window: meta.suppression_window.unwrap_or(self.window),
            level: meta.level,
            matches: matches as u64,
            body,
        }
    }

    /// The alert of `draft`, its message written.
    fn render(&self, draft: Draft<'_>) -> Alert {
        let message = match draft.body {
            Body::Rule { meta, seen } => self.rule_message(meta, &seen),
            Body::Burst { meta, groups, seen } => self.burst_message(meta, &groups, &seen),
            Body::Slow { env, requests } => {
                let threshold = self.slow.as_ref().map_or(0.0, |s| s.threshold);
                slow::message(env, threshold, requests)
            }
        };
        Alert {
            fingerprint: draft.fingerprint,
            label: draft.label,
            window: draft.window,
            level: draft.level,
            matches: draft.matches,
            message,
        }
    }
}

/// An alert before suppression: what suppression keys on, and what its message is made
/// of, borrowed from the candidates. Only the alerts that are posted are rendered
/// ([`Alerter::render`]): in a batch whose alerts were posted minutes ago, none is.
struct Draft<'a> {
    fingerprint: String,
    label: String,
    window: Duration,
    level: Level,
    matches: u64,
    body: Body<'a>,
}

/// What an alert's message is written from.
enum Body<'a> {
    Rule {
        meta: &'a Meta,
        seen: Vec<&'a Seen>,
    },
    Burst {
        meta: &'a Meta,
        groups: Vec<String>,
        seen: Vec<&'a Seen>,
    },
    Slow {
        env: &'a Environment,
        requests: Vec<&'a SlowRequest>,
    },
}

/// Hex SHA-256 of a fingerprint's readable form.
fn fingerprint(label: &str) -> String {
    hex::encode(sha2::Sha256::digest(label.as_bytes()))
}

/// The text of a correlation's group-by field (values joined with `,`; empty when absent).
pub fn group_value(event: &Value, path: &str) -> String {
    let mut parts = Vec::new();
    sigma::field::any_value(event, path, &mut |v| {
        let mut buf = [0u8; 64];
        if let Some(t) = sigma::field::text(v, &mut buf) {
            parts.push(t.to_owned());
        }
        false
    });
    parts.join(",")
}

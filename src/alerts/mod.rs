//! Slack alerts, evaluated on the documents a batch produced: slow responses
//! ([`slow`]) and risky CloudTrail activity ([`rules`]), as Block Kit payloads
//! ([`slack`]) posted through the [`AlertSink`].
//!
//! Evaluation is pure and deterministic ([`Alerter::evaluate`]); only documents that can
//! be alerts are parsed (cheap substring checks first). Delivery ([`Alerter::deliver`])
//! is best effort: its failures are logged and counted and never touch the batch.

mod cloudtrail;
pub mod rules;
pub mod slack;
pub mod slow;

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;
use tracing::warn;

use self::cloudtrail::{HitKey, Seen, cloudtrail_event};
use self::rules::{Rule, RuleSet};
use self::slack::{Message, code, escape, link};
use self::slow::{Environment, SlowCheck, SlowRequest};
use crate::config::Config;
use crate::document::Document;
use crate::invocation::Deadline;
use crate::sinks::AlertSink;

/// Messages posted per invocation; past this, the rest are summed up in one more.
pub const MAX_MESSAGES: usize = 10;
/// Documents listed (with links) in one CloudTrail alert.
const MAX_DOCS_LISTED: usize = 5;

/// Everything alerting needs, built once per cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerter {
    slow: Option<SlowCheck>,
    rules: RuleSet,
    dashboards_url: Option<String>,
}

impl Default for Alerter {
    /// The default rules; the slow-response check off; no Dashboards links.
    fn default() -> Self {
        Self {
            slow: None,
            rules: RuleSet::default(),
            dashboards_url: None,
        }
    }
}

/// What alerting keeps of one document that can be part of an alert
/// ([`Alerter::candidate`]).
#[derive(Debug, Clone)]
pub struct Candidate(Kind);

#[derive(Debug, Clone)]
enum Kind {
    Slow(Environment, SlowRequest),
    CloudTrail { rules: Vec<usize>, seen: Seen },
}

/// What delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
}

impl Alerter {
    pub fn new(slow: Option<SlowCheck>, rules: RuleSet, dashboards_url: Option<String>) -> Self {
        Self {
            slow,
            rules,
            dashboards_url: dashboards_url.map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    pub fn from_config(config: &Config) -> Self {
        Self::new(
            config.threshold.map(|threshold| SlowCheck {
                threshold,
                streams: config.slow_log_streams.clone(),
            }),
            config.alert_rules.clone().unwrap_or_default(),
            config.dashboards_url.clone(),
        )
    }

    /// Evaluates and delivers the alerts of `docs`. Never fails.
    pub async fn run<'d>(
        &self,
        docs: impl IntoIterator<Item = &'d Document>,
        sink: &dyn AlertSink,
        deadline: Deadline,
    ) -> Delivery {
        let payloads = self.evaluate(docs);
        Self::deliver(&payloads, sink, deadline).await
    }

    /// What alerting keeps of one document, if it can be part of an alert: small, so a
    /// batch keeps these instead of its documents while they stream to the sinks.
    pub fn candidate(&self, doc: &Document) -> Option<Candidate> {
        if let Some(check) = &self.slow
            && let Some((env, req)) = check.check(doc)
        {
            return Some(Candidate(Kind::Slow(env, req)));
        }
        let (head, event) = cloudtrail_event(doc)?;
        let rules: Vec<usize> = rules::matching(&self.rules, &event)
            .filter_map(|rule| self.rules.rules.iter().position(|r| std::ptr::eq(r, rule)))
            .collect();
        if rules.is_empty() {
            return None;
        }
        let seen = Seen::new(doc, &head, &event);
        Some(Candidate(Kind::CloudTrail { rules, seen }))
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

    /// The webhook payloads for `docs`: CloudTrail alerts by severity, then slow
    /// responses; identical ones once; at most [`MAX_MESSAGES`].
    pub fn evaluate<'d>(&self, docs: impl IntoIterator<Item = &'d Document>) -> Vec<Value> {
        let candidates: Vec<Candidate> =
            docs.into_iter().filter_map(|d| self.candidate(d)).collect();
        self.payloads(&candidates)
    }

    /// The webhook payloads for the candidates of a batch's documents, as
    /// [`Alerter::evaluate`] gives them for the documents themselves.
    pub fn payloads<'c>(&self, candidates: impl IntoIterator<Item = &'c Candidate>) -> Vec<Value> {
        let mut slow: BTreeMap<Environment, Vec<SlowRequest>> = BTreeMap::new();
        let mut hits: BTreeMap<HitKey, Vec<Seen>> = BTreeMap::new();
        let mut bursts: BTreeMap<(usize, String), Vec<Seen>> = BTreeMap::new();
        for candidate in candidates {
            match &candidate.0 {
                Kind::Slow(env, req) => slow.entry(env.clone()).or_default().push(req.clone()),
                Kind::CloudTrail { rules, seen } => {
                    for &i in rules {
                        let rule = &self.rules.rules[i];
                        if rule.burst.is_some() {
                            bursts
                                .entry((i, seen.account.clone()))
                                .or_default()
                                .push(seen.clone());
                        } else {
                            hits.entry(HitKey::new(i, seen))
                                .or_default()
                                .push(seen.clone());
                        }
                    }
                }
            }
        }

        let mut messages: Vec<(rules::Severity, Message)> = Vec::new();
        for (key, seen) in &hits {
            let rule = &self.rules.rules[key.rule];
            messages.push((rule.severity, self.rule_message(rule, seen)));
        }
        for ((i, _), seen) in &bursts {
            let rule = &self.rules.rules[*i];
            let min = rule.burst.map_or(usize::MAX, |b| b.min_count);
            if seen.len() >= min {
                messages.push((rule.severity, self.burst_message(rule, seen)));
            }
        }
        // Most severe first; the sort is stable, so the order stays deterministic.
        messages.sort_by_key(|m| std::cmp::Reverse(m.0));
        let threshold = self.slow.as_ref().map_or(0.0, |s| s.threshold);
        for (env, reqs) in slow {
            messages.push((
                rules::Severity::Medium,
                slow::message(&env, threshold, reqs),
            ));
        }

        let mut unique = HashSet::new();
        let mut payloads: Vec<(String, Value)> = Vec::new();
        for (_, m) in messages {
            let p = m.to_payload();
            let text = p.to_string();
            if unique.insert(text) {
                payloads.push((m.fallback, p));
            }
        }
        if payloads.len() > MAX_MESSAGES {
            let rest = payloads.split_off(MAX_MESSAGES - 1);
            let list: Vec<String> = rest
                .iter()
                .map(|(f, _)| format!("• {}", escape(f)))
                .collect();
            let summary = Message {
                fallback: format!("{} more alerts in this batch", rest.len()),
                header: format!("{} more alerts in this batch", rest.len()),
                fields: Vec::new(),
                sections: vec![list.join("\n")],
                context: Some("Posted together: at most 10 messages per invocation.".to_owned()),
            };
            payloads.push((summary.fallback.clone(), summary.to_payload()));
        }
        payloads.into_iter().map(|(_, p)| p).collect()
    }

    fn doc_link(&self, seen: &Seen) -> String {
        match &self.dashboards_url {
            Some(base) => link(&discover_url(base, &seen.doc_id, &seen.at), &seen.doc_id),
            None => code(&seen.doc_id),
        }
    }

    fn docs_section(&self, seen: &[Seen]) -> String {
        let mut lines: Vec<String> = seen
            .iter()
            .take(MAX_DOCS_LISTED)
            .map(|s| format!("• {} ({})", self.doc_link(s), escape(&s.source)))
            .collect();
        if seen.len() > MAX_DOCS_LISTED {
            lines.push(format!("+{} more", seen.len() - MAX_DOCS_LISTED));
        }
        format!("*Documents*\n{}", lines.join("\n"))
    }

    fn rule_message(&self, rule: &Rule, seen: &[Seen]) -> Message {
        let first = &seen[0];
        let n = seen.len();
        let when = if n == 1 {
            escape(&first.when)
        } else {
            format!(
                "{} events, {} to {}",
                n,
                escape(&first.when),
                escape(&seen[n - 1].when)
            )
        };
        Message {
            fallback: format!(
                "[{}] {}: {} {} called {} {} in account {} region {} from {} at {}; document {}{}",
                rule.severity.as_str(),
                rule.title,
                first.who_type,
                first.who,
                first.event_source,
                first.event_name,
                first.account,
                first.region,
                first.source_ip,
                first.when,
                first.doc_id,
                if n > 1 {
                    format!(" (+{} more)", n - 1)
                } else {
                    String::new()
                },
            ),
            header: format!("[{}] {}", rule.severity.as_str(), rule.title),
            fields: vec![
                (
                    "Who".to_owned(),
                    format!("{} {}", escape(&first.who_type), code(&first.who)),
                ),
                (
                    "What".to_owned(),
                    format!("{} {}", code(&first.event_source), code(&first.event_name)),
                ),
                (
                    "Where".to_owned(),
                    format!(
                        "account {} region {} from {}",
                        code(&first.account),
                        code(&first.region),
                        code(&first.source_ip)
                    ),
                ),
                ("When".to_owned(), when),
            ],
            sections: vec![self.docs_section(seen)],
            context: Some(format!(
                "rule {} · commons {}",
                code(&rule.id),
                code(&first.commons)
            )),
        }
    }

    fn burst_message(&self, rule: &Rule, seen: &[Seen]) -> Message {
        let first = &seen[0];
        let mut who: BTreeMap<&str, usize> = BTreeMap::new();
        let mut what: BTreeMap<String, usize> = BTreeMap::new();
        for s in seen {
            *who.entry(&s.who).or_default() += 1;
            *what
                .entry(format!("{} {}", s.event_source, s.event_name))
                .or_default() += 1;
        }
        let top = |m: BTreeMap<&str, usize>| {
            let mut v: Vec<(&str, usize)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            v.iter()
                .take(5)
                .map(|(k, c)| format!("{} ×{c}", code(k)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let what_ref: BTreeMap<&str, usize> = what.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        Message {
            fallback: format!(
                "[{}] {}: {} events in one batch in account {}, first {} by {} {}",
                rule.severity.as_str(),
                rule.title,
                seen.len(),
                first.account,
                first.when,
                first.who_type,
                first.who,
            ),
            header: format!("[{}] {}", rule.severity.as_str(), rule.title),
            fields: vec![
                (
                    "Count".to_owned(),
                    format!("{} events in one batch", seen.len()),
                ),
                ("Who".to_owned(), top(who)),
                ("What".to_owned(), top(what_ref)),
                (
                    "Where".to_owned(),
                    format!(
                        "account {} region {}",
                        code(&first.account),
                        code(&first.region)
                    ),
                ),
                (
                    "When".to_owned(),
                    format!(
                        "{} to {}",
                        escape(&first.when),
                        escape(&seen[seen.len() - 1].when)
                    ),
                ),
            ],
            sections: vec![self.docs_section(seen)],
            context: Some(format!(
                "rule {} · commons {}",
                code(&rule.id),
                code(&first.commons)
            )),
        }
    }
}

/// An OpenSearch Dashboards Discover link to one document, one day either side of it.
pub fn discover_url(base: &str, doc_id: &str, at: &str) -> String {
    let (from, to) = match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => {
            let t = t.with_timezone(&chrono::Utc);
            let fmt = |t: chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            };
            (
                fmt(t - chrono::Duration::days(1)),
                fmt(t + chrono::Duration::days(1)),
            )
        }
        Err(_) => ("now-30d".to_owned(), "now".to_owned()),
    };
    let id: String = doc_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!(
        "{base}/app/discover#/?_g=(time:(from:'{from}',to:'{to}'))&_a=(query:(language:kuery,query:'_id:%22{id}%22'))"
    )
}

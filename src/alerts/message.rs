//! Alerts rendered as Slack messages: CloudTrail rule and correlation messages with the
//! rule's metadata and Discover links, and the payloads of one invocation (identical ones
//! once, at most [`MAX_MESSAGES`]).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::cloudtrail::Seen;
use super::sigma::Meta;
use super::slack::{Message, code, escape, link};
use super::{Alert, Alerter, MAX_DOCS_LISTED, MAX_MESSAGES};

impl Alerter {
    pub(super) fn doc_link(&self, seen: &Seen) -> String {
        match &self.dashboards_url {
            Some(base) => link(&discover_url(base, &seen.doc_id, &seen.at), &seen.doc_id),
            None => code(&seen.doc_id),
        }
    }

    pub(super) fn docs_section(&self, seen: &[&Seen]) -> String {
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

    /// The rule's description and false positives, then the documents.
    pub(super) fn rule_sections(&self, meta: &Meta, seen: &[&Seen]) -> Vec<String> {
        let mut sections = Vec::new();
        if !meta.description.is_empty() {
            sections.push(escape(&meta.description));
        }
        sections.push(self.docs_section(seen));
        if !meta.falsepositives.is_empty() {
            sections.push(format!(
                "*False positives*: {}",
                escape(&meta.falsepositives.join("; "))
            ));
        }
        sections
    }

    /// "rule `<name>` · id `<id>` · ATT&CK … · commons `<commons>`".
    pub(super) fn rule_context(meta: &Meta, commons: &str) -> String {
        let mut parts = vec![format!("rule {}", code(meta.key()))];
        if !meta.id.is_empty() && meta.id != meta.key() {
            parts.push(format!("id {}", code(&meta.id)));
        }
        if !meta.tags.is_empty() {
            parts.push(escape(&meta.tags.join(" ")));
        }
        parts.push(format!("commons {}", code(commons)));
        parts.join(" · ")
    }

    pub(super) fn rule_message(&self, rule: &Meta, seen: &[&Seen]) -> Message {
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
                rule.level.as_str(),
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
            header: format!("[{}] {}", rule.level.as_str(), rule.title),
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
            sections: self.rule_sections(rule, seen),
            context: Some(Self::rule_context(rule, &first.commons)),
        }
    }

    pub(super) fn burst_message(&self, rule: &Meta, groups: &[String], seen: &[&Seen]) -> Message {
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
                rule.level.as_str(),
                rule.title,
                seen.len(),
                first.account,
                first.when,
                first.who_type,
                first.who,
            ),
            header: format!("[{}] {}", rule.level.as_str(), rule.title),
            fields: vec![
                (
                    "Count".to_owned(),
                    if groups.is_empty() {
                        format!("{} events in one batch", seen.len())
                    } else {
                        format!(
                            "{} events in one batch ({})",
                            seen.len(),
                            code(&groups.join(" "))
                        )
                    },
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
            sections: self.rule_sections(rule, seen),
            context: Some(Self::rule_context(rule, &first.commons)),
        }
    }
}

/// Alerts to payloads: identical ones once; at most [`MAX_MESSAGES`], the rest summed
/// up in the last.
pub(super) fn finish(alerts: Vec<Alert>) -> Vec<Value> {
    // Identical payloads are found by what they show, so only the posted ones are written.
    let mut unique = HashSet::new();
    let mut messages: Vec<Message> = Vec::new();
    for a in alerts {
        if unique.insert(a.message.shown()) {
            messages.push(a.message);
        }
    }
    if messages.len() > MAX_MESSAGES {
        let rest = messages.split_off(MAX_MESSAGES - 1);
        let list: Vec<String> = rest
            .iter()
            .map(|m| format!("• {}", escape(&m.fallback)))
            .collect();
        messages.push(Message {
            fallback: format!("{} more alerts in this batch", rest.len()),
            header: format!("{} more alerts in this batch", rest.len()),
            fields: Vec::new(),
            sections: vec![list.join("\n")],
            context: Some("Posted together: at most 10 messages per invocation.".to_owned()),
        });
    }
    messages.iter().map(Message::to_payload).collect()
}

/// `30 min`, `2 h`, `45 s`.
pub(super) fn window_text(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
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

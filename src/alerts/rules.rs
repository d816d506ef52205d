//! CloudTrail alert rules: data, not code. The format is documented in README.md
//! ("Slack alerts"); the defaults are `rules/default.json`, embedded in the binary.
//!
//! ```json
//! {"version": 1, "rules": [
//!   {"id": "kms-key-deletion", "title": "KMS key scheduled for deletion or disabled",
//!    "severity": "high",
//!    "match": {"eventSource": ["kms.amazonaws.com"], "eventName": ["ScheduleKeyDeletion", "DisableKey"]},
//!    "match_any": [],
//!    "unless": {"errorCode": ["*"]},
//!    "include_read_only": false,
//!    "burst": null}
//! ]}
//! ```
//!
//! - `match`: every path must hold one of the values; `match_any`: at least one of these
//!   maps must match in full (when given); `unless`: the rule does not fire when any path
//!   holds one of its values.
//! - A path is dotted (`userIdentity.type`); arrays on the way are searched element by
//!   element. The free-form fields (`requestParameters`, …) are looked into.
//! - A value is compared with the field as text (`true`, `42` for non-strings); `*` alone
//!   means "present, not null and not empty"; a trailing `*` is a prefix match (`Delete*`).
//! - Read-only events (`readOnly: true`, or without `readOnly` an event name starting with
//!   Get, List, Describe, Head, Lookup, BatchGet or Search) never fire a rule unless it
//!   says `"include_read_only": true`.
//! - `burst: {"min_count": N}`: fire once per account when at least N events of one batch
//!   match, instead of once per event.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

/// The default rules, shipped as data.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.json");

/// Event-name prefixes that mark a read-only call when `readOnly` is absent.
const READ_ONLY_PREFIXES: [&str; 7] = [
    "Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search",
];

#[derive(Debug, Error, PartialEq, Eq)]
#[error("alert rules: {0}")]
pub struct RulesError(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

type Conditions = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: u32,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    pub min_count: usize,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default, rename = "match")]
    pub all: Conditions,
    #[serde(default, rename = "match_any")]
    pub any: Vec<Conditions>,
    #[serde(default)]
    pub unless: Conditions,
    #[serde(default)]
    pub include_read_only: bool,
    #[serde(default)]
    pub burst: Option<Burst>,
}

/// A validated set of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self::parse(DEFAULT_RULES).expect("the default rules are valid (tested)")
    }
}

impl RuleSet {
    /// Parses and validates a rules file; the error says which rule and why.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile =
            serde_json::from_str(text).map_err(|e| RulesError(format!("not valid: {e}")))?;
        if file.version != 1 {
            return Err(RulesError(format!(
                "version {} is not supported (expected 1)",
                file.version
            )));
        }
        let mut ids = HashSet::new();
        for (i, rule) in file.rules.iter().enumerate() {
            let name = if rule.id.is_empty() {
                format!("rule #{}", i + 1)
            } else {
                format!("rule {:?}", rule.id)
            };
            let fail = |why: &str| Err(RulesError(format!("{name}: {why}")));
            if rule.id.is_empty()
                || !rule
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return fail("`id` must be letters, digits, `-` and `_`");
            }
            if !ids.insert(rule.id.as_str()) {
                return fail("`id` is used twice");
            }
            if rule.title.trim().is_empty() {
                return fail("`title` is empty");
            }
            if rule.all.is_empty() && rule.any.is_empty() {
                return fail("needs at least one condition in `match` or `match_any`");
            }
            if rule.any.iter().any(BTreeMap::is_empty) {
                return fail("a `match_any` entry is empty");
            }
            let maps = std::iter::once(&rule.all)
                .chain(&rule.any)
                .chain(std::iter::once(&rule.unless));
            for map in maps {
                for (path, values) in map {
                    if path.is_empty() || path.split('.').any(str::is_empty) {
                        return fail(&format!("path {path:?} is not a dotted field path"));
                    }
                    if values.is_empty() {
                        return fail(&format!("path {path:?} has no values"));
                    }
                }
            }
            if let Some(b) = rule.burst
                && b.min_count < 2
            {
                return fail("`burst.min_count` must be at least 2");
            }
        }
        Ok(Self { rules: file.rules })
    }

    /// The rules that fire on one CloudTrail event (single-event and burst rules alike).
    pub fn matching<'r>(&'r self, event: &Value) -> impl Iterator<Item = &'r Rule> {
        let read_only = is_read_only(event);
        self.rules
            .iter()
            .filter(move |r| (r.include_read_only || !read_only) && r.matches(event))
    }
}

impl Rule {
    pub fn matches(&self, event: &Value) -> bool {
        conditions_hold(&self.all, event)
            && (self.any.is_empty() || self.any.iter().any(|c| conditions_hold(c, event)))
            && !self
                .unless
                .iter()
                .any(|(path, values)| path_matches(event, path, values))
    }
}

fn conditions_hold(conditions: &Conditions, event: &Value) -> bool {
    conditions
        .iter()
        .all(|(path, values)| path_matches(event, path, values))
}

/// Whether any value found at `path` matches one of `patterns`.
fn path_matches(event: &Value, path: &str, patterns: &[String]) -> bool {
    let mut found = Vec::new();
    collect(event, &path.split('.').collect::<Vec<_>>(), &mut found);
    found
        .iter()
        .any(|v| patterns.iter().any(|p| value_matches(v, p)))
}

fn collect<'v>(value: &'v Value, path: &[&str], out: &mut Vec<&'v Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect(item, path, out)),
        Value::Object(obj) => match path.split_first() {
            None => out.push(value),
            Some((first, rest)) => {
                if let Some(v) = obj.get(*first) {
                    collect(v, rest, out);
                }
            }
        },
        _ if path.is_empty() => out.push(value),
        _ => {}
    }
}

fn value_matches(value: &Value, pattern: &str) -> bool {
    if value.is_null() {
        return false;
    }
    if pattern == "*" {
        // Present: CloudTrail writes `"errorCode": ""` for some successes.
        return !matches!(value, Value::String(s) if s.is_empty());
    }
    let text = match value {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Value::Object(_) | Value::Array(_) => return false,
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    match pattern.strip_suffix('*') {
        Some(prefix) => text.starts_with(prefix),
        None => text == pattern,
    }
}

/// Read-only: `readOnly: true`, or without `readOnly`, a reading event name.
pub fn is_read_only(event: &Value) -> bool {
    match event.get("readOnly") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => event
            .get("eventName")
            .and_then(Value::as_str)
            .is_some_and(|name| READ_ONLY_PREFIXES.iter().any(|p| name.starts_with(p))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_rules_are_valid() {
        let set = RuleSet::default();
        assert!(set.rules.len() >= 10);
    }

    #[test]
    fn paths_go_through_arrays_and_wildcards_work() {
        let ev = json!({"a": {"items": [{"c": "x"}, {"c": "0.0.0.0/0"}]}, "n": 3, "b": true});
        assert!(path_matches(&ev, "a.items.c", &["0.0.0.0/0".into()]));
        assert!(!path_matches(&ev, "a.items.c", &["y".into()]));
        assert!(path_matches(&ev, "n", &["3".into()]));
        assert!(path_matches(&ev, "b", &["*".into()]));
        assert!(path_matches(&ev, "a.items.c", &["0.0*".into()]));
        assert!(!path_matches(&ev, "missing", &["*".into()]));
    }
}

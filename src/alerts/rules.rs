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

use serde_json::Value;

pub use crate::config::alert_rules::{
    Burst, Conditions, DEFAULT_RULES, Rule, RuleSet, RulesError, Severity,
};

/// Event-name prefixes that mark a read-only call when `readOnly` is absent.
const READ_ONLY_PREFIXES: [&str; 7] = [
    "Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search",
];

/// The rules of `set` that fire on one CloudTrail event (single-event and burst rules alike).
pub fn matching<'r>(set: &'r RuleSet, event: &Value) -> impl Iterator<Item = &'r Rule> {
    let read_only = is_read_only(event);
    set.rules
        .iter()
        .filter(move |r| (r.include_read_only || !read_only) && matches(r, event))
}

/// Whether `rule` fires on `event` (read-only events aside).
pub fn matches(rule: &Rule, event: &Value) -> bool {
    conditions_hold(&rule.all, event)
        && (rule.any.is_empty() || rule.any.iter().any(|c| conditions_hold(c, event)))
        && !rule
            .unless
            .iter()
            .any(|(path, values)| path_matches(event, path, values))
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

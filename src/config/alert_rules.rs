//! `ALERT_RULES`: the CloudTrail alert rules as data, read and validated once with the
//! rest of the configuration. The format is documented in README.md ("Slack alerts")
//! and in [`crate::alerts::rules`], which evaluates them; the defaults are
//! `rules/default.json`, embedded in the binary.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use thiserror::Error;

/// The default rules, shipped as data.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.json");

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

pub type Conditions = BTreeMap<String, Vec<String>>;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid() {
        let set = RuleSet::default();
        assert!(set.rules.len() >= 10);
    }
}

//! Sigma rules (specification 2.0), compiled once and evaluated on every CloudTrail
//! event as it streams past.
//!
//! - `load.rs`: the built-in rules, files and directories, what happened to each rule;
//!   `parse.rs`: one YAML document as a rule or a correlation; `mod.rs`: the compiled
//!   rules and their evaluation.
//! - [`detection`]: selections and field values; `modifiers.rs`: field modifiers;
//!   `pattern.rs`: a string value matched without a regular expression; [`condition`]:
//!   the condition language; [`field`]:
//!   dotted field access into nested objects and arrays.
//! - A rule applies to CloudTrail when its `logsource` is `product: aws` and
//!   `service: cloudtrail`, or names neither (and no `category`); other rules load but
//!   never apply.
//! - Correlation rules of type `event_count` (`group-by`, `condition: gte|gt N`) count,
//!   over the events of one invocation, the events that match the rules they name; the
//!   rules they name alert on their own only with `generate: true`.
//! - `status: deprecated` and `unsupported` rules are skipped with a log line; a rule
//!   that cannot be used is refused, naming its file and the reason.
//! - The custom field `suppression_window` (`30s`, `15m`, `2h`, `1d`, `0` for none)
//!   overrides the alert suppression window of the rule.

pub mod condition;
pub mod detection;
pub mod field;
mod load;
mod modifiers;
mod parse;
mod pattern;
mod prefilter;
pub(super) mod reach;
mod reads;

use std::time::Duration;

use serde_json::Value;

use self::detection::Detection;
pub use self::load::{BUILTIN, Entry, LoadError, Loaded, Status, load_paths};
pub use self::prefilter::Prefilter;

/// A rule's severity (`level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub enum Level {
    Informational,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" => Self::Informational,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => return None,
        })
    }
}

/// What an alert shows of a rule (a detection or a correlation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub file: String,
    pub id: String,
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub description: String,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    /// `suppression_window`; `None`: the default window.
    pub suppression_window: Option<Duration>,
}

impl Meta {
    /// How alerts name the rule: `name`, else `id`, else the title.
    pub fn key(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or_else(|| Some(self.id.as_str()).filter(|i| !i.is_empty()))
            .unwrap_or(&self.title)
    }
}

/// A detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: Meta,
    /// Its `logsource` is CloudTrail's (or names none).
    pub cloudtrail: bool,
    /// Alerts on its own (false when only a correlation uses it).
    pub generate: bool,
    detection: Detection,
}

impl Rule {
    pub fn matches(&self, event: &Value) -> bool {
        self.detection.matches(event)
    }

    /// What every CloudTrail event it matches passes, if it says so in a few top fields.
    pub fn prefilter(&self) -> Option<&Prefilter> {
        self.detection.prefilter()
    }

    /// The fields it reads of an event (`None`: every value).
    pub fn fields(&self) -> Option<Vec<&str>> {
        self.detection.fields()
    }
}

/// An `event_count` correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub meta: Meta,
    /// Indices into [`RuleSet::rules`].
    pub rules: Vec<usize>,
    pub group_by: Vec<String>,
    /// Fires at this many events of one group.
    pub min_count: usize,
}

/// The compiled rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub correlations: Vec<Correlation>,
}

impl RuleSet {
    /// Indices of the CloudTrail rules that match `event`.
    pub fn matching<'a>(&'a self, event: &'a Value) -> impl Iterator<Item = usize> + 'a {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.cloudtrail && r.matches(event))
            .map(|(i, _)| i)
    }

    /// Which rules may match a CloudTrail event whose located top fields are `top`
    /// (`None`: not known, every CloudTrail rule may): `false` only for a rule that
    /// applies to CloudTrail not at all, or whose prefilter says it cannot match.
    pub fn may_match(&self, top: Option<&Value>) -> Vec<bool> {
        self.rules
            .iter()
            .map(|r| match (r.prefilter(), top) {
                _ if !r.cloudtrail => false,
                (Some(p), Some(top)) => p.passes(top),
                _ => true,
            })
            .collect()
    }

    /// The fields the CloudTrail rules' prefilters read, each once: all that
    /// [`RuleSet::may_match`] reads of the top fields.
    pub fn prefilter_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = (self.rules.iter())
            .filter(|r| r.cloudtrail)
            .filter_map(Rule::prefilter)
            .flat_map(|p| p.fields())
            .map(str::to_owned)
            .collect();
        fields.sort();
        fields.dedup();
        fields
    }

    /// [`RuleSet::matching`] among the rules `may` allows ([`RuleSet::may_match`]).
    pub fn matching_among<'a>(
        &'a self,
        event: &'a Value,
        may: &'a [bool],
    ) -> impl Iterator<Item = usize> + 'a {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(i, r)| {
                r.cloudtrail && may.get(*i).copied().unwrap_or(true) && r.matches(event)
            })
            .map(|(i, _)| i)
    }
}

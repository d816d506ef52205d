//! Sigma rules (specification 2.0), compiled once and evaluated on every CloudTrail
//! event as it streams past.
//!
//! - [`detection`]: selections, field modifiers and values; [`condition`]: the condition
//!   language; [`field`]: dotted field access into nested objects and arrays.
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

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_norway::Value as Yaml;
use thiserror::Error;

use self::detection::Detection;

/// The built-in rules, shipped in `rules/` and built into the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "rules/access-denied-burst.yml",
        include_str!("../../../rules/access-denied-burst.yml"),
    ),
    (
        "rules/cloudtrail-tampering.yml",
        include_str!("../../../rules/cloudtrail-tampering.yml"),
    ),
    (
        "rules/console-signin-failure.yml",
        include_str!("../../../rules/console-signin-failure.yml"),
    ),
    (
        "rules/console-signin-without-mfa.yml",
        include_str!("../../../rules/console-signin-without-mfa.yml"),
    ),
    (
        "rules/ec2-terminate-instances.yml",
        include_str!("../../../rules/ec2-terminate-instances.yml"),
    ),
    (
        "rules/iam-change.yml",
        include_str!("../../../rules/iam-change.yml"),
    ),
    (
        "rules/kms-key-deletion.yml",
        include_str!("../../../rules/kms-key-deletion.yml"),
    ),
    (
        "rules/root-activity.yml",
        include_str!("../../../rules/root-activity.yml"),
    ),
    (
        "rules/s3-bucket-access-change.yml",
        include_str!("../../../rules/s3-bucket-access-change.yml"),
    ),
    (
        "rules/security-group-open-to-world.yml",
        include_str!("../../../rules/security-group-open-to-world.yml"),
    ),
];

/// A rule that cannot be used: the file and why.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("alert rules: {file}: {reason}")]
pub struct LoadError {
    pub file: String,
    pub reason: String,
}

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
            .or(Some(self.id.as_str()).filter(|i| !i.is_empty()))
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

/// What loading did with one rule (`rules check` prints these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub file: String,
    pub id: String,
    pub title: String,
    pub status: Status,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Loaded,
    Refused,
    Skipped,
}

/// Every rule of some files, with what happened to each.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    pub set: RuleSet,
}

impl Loaded {
    /// The set, or the first refusal.
    pub fn into_result(self) -> Result<RuleSet, LoadError> {
        match self
            .entries
            .into_iter()
            .find(|e| e.status == Status::Refused)
        {
            Some(e) => Err(LoadError {
                file: e.file,
                reason: if e.id.is_empty() {
                    e.reason
                } else {
                    format!("rule {}: {}", e.id, e.reason)
                },
            }),
            None => Ok(self.set),
        }
    }
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Self {
        load_texts(
            BUILTIN
                .iter()
                .map(|(f, t)| ((*f).to_owned(), Ok((*t).to_owned()))),
        )
        .into_result()
        .unwrap_or_else(|e| {
            // Tested: the built-in rules all load.
            tracing::error!(error = %e, "a built-in rule does not load");
            Self::default()
        })
    }

    /// The rules of `paths` (files, or directories searched recursively for `.yml` and
    /// `.yaml`), or the first that cannot be used.
    pub fn from_paths(paths: &[PathBuf]) -> Result<Self, LoadError> {
        let loaded = load_paths(paths);
        for e in loaded
            .entries
            .iter()
            .filter(|e| e.status == Status::Skipped)
        {
            tracing::info!(file = %e.file, id = %e.id, reason = %e.reason, "alert rule skipped");
        }
        if loaded.entries.is_empty() {
            return Err(LoadError {
                file: paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: "no Sigma rule (.yml or .yaml) found".to_owned(),
            });
        }
        loaded.into_result()
    }

    /// The rules of one YAML text (`name` stands for its file in errors).
    pub fn from_yaml(name: &str, text: &str) -> Result<Self, LoadError> {
        load_texts(std::iter::once((name.to_owned(), Ok(text.to_owned())))).into_result()
    }

    /// Indices of the CloudTrail rules that match `event`.
    pub fn matching<'a>(&'a self, event: &'a Value) -> impl Iterator<Item = usize> + 'a {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.cloudtrail && r.matches(event))
            .map(|(i, _)| i)
    }
}

/// Loads the rules of `paths`; unreadable files are refused entries.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files);
    }
    load_texts(files.into_iter().map(|f| {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read: {e}"));
        (f.display().to_string(), text)
    }))
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => {
                out.push(path.to_owned());
                return;
            }
        };
        entries.sort();
        for e in entries {
            if e.is_dir() {
                collect_files(&e, out);
            } else if e
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"))
            {
                out.push(e);
            }
        }
    } else {
        out.push(path.to_owned());
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogSource {
    product: Option<String>,
    service: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Header {
    title: Option<String>,
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    description: Option<String>,
    level: Option<String>,
    tags: Option<Vec<String>>,
    falsepositives: Option<Yaml>,
    logsource: Option<LogSource>,
    detection: Option<Yaml>,
    correlation: Option<RawCorrelation>,
    action: Option<Yaml>,
    suppression_window: Option<Yaml>,
}

#[derive(Debug, Deserialize)]
struct RawCorrelation {
    #[serde(rename = "type")]
    kind: String,
    rules: Vec<String>,
    #[serde(rename = "group-by", default)]
    group_by: Vec<String>,
    #[serde(default)]
    timespan: Option<String>,
    condition: Option<Yaml>,
    #[serde(default)]
    generate: bool,
}

enum Parsed {
    Rule(Rule),
    Correlation(Meta, RawCorrelation),
}

/// Loads rules from `(file name, text)` pairs.
fn load_texts(files: impl Iterator<Item = (String, Result<String, String>)>) -> Loaded {
    let mut entries = Vec::new();
    let mut parsed: Vec<(usize, Parsed)> = Vec::new();
    let mut seen = HashSet::new();
    for (file, text) in files {
        let refuse = |entries: &mut Vec<Entry>, reason: String| {
            entries.push(Entry {
                file: file.clone(),
                id: String::new(),
                title: String::new(),
                status: Status::Refused,
                reason,
            });
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                refuse(&mut entries, e);
                continue;
            }
        };
        let mut docs = 0;
        for doc in serde_norway::Deserializer::from_str(&text) {
            docs += 1;
            let yaml = match Yaml::deserialize(doc) {
                Ok(Yaml::Null) => continue,
                Ok(y) => y,
                Err(e) => {
                    refuse(&mut entries, format!("not valid YAML: {e}"));
                    break;
                }
            };
            let header: Header = match serde_norway::from_value(yaml) {
                Ok(h) => h,
                Err(e) => {
                    refuse(&mut entries, format!("not a Sigma rule: {e}"));
                    continue;
                }
            };
            let id = header.id.clone().unwrap_or_default();
            let title = header.title.clone().unwrap_or_default();
            let entry = |status, reason: String| Entry {
                file: file.clone(),
                id: id.clone(),
                title: title.clone(),
                status,
                reason,
            };
            let status = header.status.as_deref().unwrap_or("").to_ascii_lowercase();
            if status == "deprecated" || status == "unsupported" {
                entries.push(entry(Status::Skipped, format!("status: {status}")));
                continue;
            }
            let key = header
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .or(header.id.clone());
            if let Some(k) = &key
                && !seen.insert(k.clone())
            {
                entries.push(entry(
                    Status::Refused,
                    format!("id or name {k:?} is used twice"),
                ));
                continue;
            }
            match parse_doc(&file, header) {
                Ok(p) => {
                    entries.push(entry(Status::Loaded, String::new()));
                    parsed.push((entries.len() - 1, p));
                }
                Err(reason) => entries.push(entry(Status::Refused, reason)),
            }
        }
        if docs == 0 {
            refuse(&mut entries, "the file holds no rule".to_owned());
        }
    }

    // Rules first, then correlations resolved against them.
    let mut set = RuleSet::default();
    let mut correlations = Vec::new();
    for (entry, p) in parsed {
        match p {
            Parsed::Rule(rule) => set.rules.push(rule),
            Parsed::Correlation(meta, raw) => correlations.push((entry, meta, raw)),
        }
    }
    for (entry, meta, raw) in correlations {
        match resolve(&set, &raw) {
            Ok((rules, min_count)) => {
                if !raw.generate {
                    for &i in &rules {
                        set.rules[i].generate = false;
                    }
                }
                set.correlations.push(Correlation {
                    meta,
                    rules,
                    group_by: raw.group_by,
                    min_count,
                });
            }
            Err(reason) => {
                entries[entry].status = Status::Refused;
                entries[entry].reason = reason;
            }
        }
    }
    Loaded { entries, set }
}

fn resolve(set: &RuleSet, raw: &RawCorrelation) -> Result<(Vec<usize>, usize), String> {
    let mut rules = Vec::new();
    for r in &raw.rules {
        let i = set
            .rules
            .iter()
            .position(|rule| rule.meta.id == *r || rule.meta.name.as_deref() == Some(r.as_str()))
            .ok_or_else(|| format!("correlation names rule {r:?}, which is not loaded"))?;
        rules.push(i);
    }
    if rules.is_empty() {
        return Err("correlation names no rule".to_owned());
    }
    let Some(Yaml::Mapping(cond)) = &raw.condition else {
        return Err("correlation needs `condition: {gte: N}`".to_owned());
    };
    if cond.len() != 1 {
        return Err("correlation `condition` must be one of `gte: N` or `gt: N`".to_owned());
    }
    let (op, n) = cond.iter().next().ok_or("empty condition")?;
    let n = n
        .as_u64()
        .ok_or("correlation `condition` needs a whole number")?;
    let n = usize::try_from(n).map_err(|_| "correlation count too large".to_owned())?;
    let min = match op.as_str() {
        Some("gte") => n,
        Some("gt") => n + 1,
        _ => return Err("correlation `condition`: only `gte` and `gt` are supported".to_owned()),
    };
    if min < 1 {
        return Err("correlation `condition` must ask for at least 1 event".to_owned());
    }
    Ok((rules, min))
}

fn parse_doc(file: &str, h: Header) -> Result<Parsed, String> {
    if h.action.is_some() {
        return Err("rule collections (`action: global`) are not supported".to_owned());
    }
    let title = h
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or("`title` is missing")?;
    let level = match &h.level {
        None => Level::Medium,
        Some(l) => Level::parse(l).ok_or_else(|| format!("`level: {l}` is not a Sigma level"))?,
    };
    let falsepositives = match &h.falsepositives {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::String(s)) => vec![s.clone()],
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Some(_) => return Err("`falsepositives` must be a list of strings".to_owned()),
    };
    let suppression_window = match &h.suppression_window {
        None => None,
        Some(v) => Some(parse_window(v)?),
    };
    let meta = Meta {
        file: file.to_owned(),
        id: h.id.clone().unwrap_or_default(),
        name: h.name.clone(),
        title,
        level,
        description: h.description.clone().unwrap_or_default().trim().to_owned(),
        tags: h.tags.clone().unwrap_or_default(),
        falsepositives,
        suppression_window,
    };
    if let Some(c) = h.correlation {
        if c.kind != "event_count" {
            return Err(format!(
                "correlation type `{}` is not supported (only `event_count`)",
                c.kind
            ));
        }
        if c.timespan.is_none() {
            return Err("correlation needs a `timespan`".to_owned());
        }
        return Ok(Parsed::Correlation(meta, c));
    }
    let detection = h.detection.as_ref().ok_or("`detection` is missing")?;
    let logsource = h.logsource.ok_or("`logsource` is missing")?;
    let is =
        |v: &Option<String>, want: &str| v.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(want));
    let cloudtrail = logsource.category.is_none()
        && is(&logsource.product, "aws")
        && is(&logsource.service, "cloudtrail");
    Ok(Parsed::Rule(Rule {
        meta,
        cloudtrail,
        generate: true,
        detection: Detection::compile(detection)?,
    }))
}

/// `30s`, `15m`, `2h`, `1d`, or `0` (no suppression).
fn parse_window(v: &Yaml) -> Result<Duration, String> {
    let bad = || format!("`suppression_window` {v:?} is not a duration like 30m, 2h or 0");
    let text = match v {
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.trim().to_owned(),
        _ => return Err(bad()),
    };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (n, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_all_load_and_every_file_in_rules_is_built_in() {
        let loaded = load_texts(
            BUILTIN
                .iter()
                .map(|(f, t)| ((*f).to_owned(), Ok((*t).to_owned()))),
        );
        for e in &loaded.entries {
            assert_eq!(e.status, Status::Loaded, "{e:?}");
        }
        assert_eq!(
            loaded.set.rules.len() + loaded.set.correlations.len(),
            BUILTIN.len() + 1
        );
        let mut on_disk: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
                .expect("rules/")
                .map(|e| format!("rules/{}", e.expect("entry").file_name().to_string_lossy()))
                .filter(|n| n.ends_with(".yml"))
                .collect();
        on_disk.sort();
        let built: Vec<&str> = BUILTIN.iter().map(|(f, _)| *f).collect();
        assert_eq!(on_disk, built);
    }

    #[test]
    fn windows_parse() {
        assert_eq!(
            parse_window(&Yaml::String("15m".into())),
            Ok(Duration::from_secs(900))
        );
        assert_eq!(parse_window(&Yaml::String("0".into())), Ok(Duration::ZERO));
        assert!(parse_window(&Yaml::String("soon".into())).is_err());
    }
}

//! Loading rules: the built-in ones, files and directories of `.yml`/`.yaml`, and YAML
//! texts of several documents; what happened to each rule (loaded, skipped, refused), and
//! correlations resolved against the rules they name.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_norway::Value as Yaml;
use thiserror::Error;

use super::parse::{Header, Parsed, parse_doc, resolve};
use super::{Correlation, RuleSet};

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
                .or_else(|| header.id.clone());
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
}

//! One YAML document: a detection rule or a correlation (its header, `level`,
//! `falsepositives`, `logsource`, `suppression_window`), and a correlation's rules and
//! count resolved against the loaded rules.

use std::time::Duration;

use serde::Deserialize;
use serde_norway::Value as Yaml;

use super::detection::Detection;
use super::{Level, Meta, Rule, RuleSet};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogSource {
    product: Option<String>,
    service: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Header {
    pub(super) title: Option<String>,
    pub(super) id: Option<String>,
    pub(super) name: Option<String>,
    pub(super) status: Option<String>,
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
pub(super) struct RawCorrelation {
    #[serde(rename = "type")]
    kind: String,
    rules: Vec<String>,
    #[serde(rename = "group-by", default)]
    pub(super) group_by: Vec<String>,
    #[serde(default)]
    timespan: Option<String>,
    condition: Option<Yaml>,
    #[serde(default)]
    pub(super) generate: bool,
}

pub(super) enum Parsed {
    Rule(Rule),
    Correlation(Meta, RawCorrelation),
}

pub(super) fn resolve(set: &RuleSet, raw: &RawCorrelation) -> Result<(Vec<usize>, usize), String> {
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

pub(super) fn parse_doc(file: &str, h: Header) -> Result<Parsed, String> {
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
    fn windows_parse() {
        assert_eq!(
            parse_window(&Yaml::String("15m".into())),
            Ok(Duration::from_secs(900))
        );
        assert_eq!(parse_window(&Yaml::String("0".into())), Ok(Duration::ZERO));
        assert!(parse_window(&Yaml::String("soon".into())).is_err());
    }
}

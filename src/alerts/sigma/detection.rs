//! A rule's `detection`: its selections compiled once (values into patterns, `re` values
//! into regular expressions, CIDR networks and numbers), and its condition.
//!
//! - A selection is a map (every field must match: AND), a list of maps (any: OR) or a
//!   list of keywords (any value anywhere in the event equals one, wildcards allowed).
//! - A field's list of values is OR, or AND with `|all`.
//! - Strings match case-insensitively (`|cased` for exact case), with `*` and `?`
//!   wildcards (`\*`, `\?`, `\\` escape them); numbers and booleans match as text.
//! - `null` matches a field that is absent or null.
//! - Modifiers: `contains`, `startswith`, `endswith`, `all`, `cased`, `re` (with `i`,
//!   `m`, `s`), `cidr`, `exists`, `base64`, `base64offset`, `windash`, `fieldref`, `gt`,
//!   `gte`, `lt`, `lte`. Others are refused, naming the modifier.
//!
//! String values are [`Pattern`]s (no regular expression: see `pattern.rs`); the values
//! of one field, when OR, are one test, and `re` values one regular expression: one
//! look-up of the field per test, however long the list.

use regex::Regex;
use serde_json::Value;
use serde_norway::Value as Yaml;

use super::condition::{self, Expr};
use super::field;
use super::modifiers::{Cmp, Modifiers, Position, build, transform};
use super::pattern::{LONG_LIST, Pattern};
use super::prefilter::Prefilter;

/// A compiled detection.
#[derive(Debug, Clone)]
pub struct Detection {
    names: Vec<String>,
    pub(super) selections: Vec<Selection>,
    condition: Expr,
    /// What every matching CloudTrail event passes, read from a few top fields.
    prefilter: Option<Prefilter>,
}

#[derive(Debug, Clone)]
pub(super) enum Selection {
    /// Any of these groups (each: every field matches).
    Any(Vec<Vec<FieldTest>>),
    /// Any scalar of the event matches (a [`ValueTest::Text`] or, for a long list,
    /// [`ValueTest::Regex`]).
    Keywords(ValueTest),
}

#[derive(Debug, Clone)]
pub(super) struct FieldTest {
    pub(super) field: String,
    pub(super) test: Test,
}

#[derive(Debug, Clone)]
pub(super) enum Test {
    Exists(bool),
    /// OR (`all == false`) or AND of the tests; `null` adds "absent or null".
    Values {
        all: bool,
        null: bool,
        tests: Vec<ValueTest>,
    },
}

#[derive(Debug, Clone)]
pub(super) enum ValueTest {
    /// Any of these string values (an OR list, or one value's variants).
    Text(Vec<Pattern>),
    /// `re`: any of the expressions, as one.
    Regex(Regex),
    Cidr(ipnet::IpNet),
    Compare(Cmp, f64),
    FieldRef {
        other: String,
        position: Position,
        cased: bool,
    },
}

impl Detection {
    /// Compiles the `detection` map of a rule.
    pub fn compile(detection: &Yaml) -> Result<Self, String> {
        let Yaml::Mapping(map) = detection else {
            return Err("`detection` is not a map".to_owned());
        };
        let mut names = Vec::new();
        let mut selections = Vec::new();
        let mut condition_text: Option<String> = None;
        for (key, value) in map {
            let Yaml::String(name) = key else {
                return Err("`detection` has a key that is not a string".to_owned());
            };
            if name == "condition" {
                condition_text = Some(match value {
                    Yaml::String(s) => s.clone(),
                    // A list of conditions: any of them.
                    Yaml::Sequence(items) => {
                        let parts: Result<Vec<String>, String> = items
                            .iter()
                            .map(|c| match c {
                                Yaml::String(s) => Ok(format!("({s})")),
                                _ => Err("`condition` list items must be strings".to_owned()),
                            })
                            .collect();
                        parts?.join(" or ")
                    }
                    _ => return Err("`condition` must be a string".to_owned()),
                });
                continue;
            }
            if name == "timeframe" {
                return Err(
                    "`timeframe` in a detection is not supported: write a correlation rule"
                        .to_owned(),
                );
            }
            let sel = Selection::compile(value).map_err(|e| format!("selection `{name}`: {e}"))?;
            names.push(name.clone());
            selections.push(sel);
        }
        let text = condition_text.ok_or("`detection` has no `condition`")?;
        let condition =
            condition::parse(&text, &names).map_err(|e| format!("condition {text:?}: {e}"))?;
        Ok(Self {
            prefilter: Prefilter::derive(&condition, &selections),
            names,
            selections,
            condition,
        })
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.condition
            .eval(&mut |i| self.selections[i].matches(event))
    }

    /// What every matching CloudTrail event passes (`None`: no such condition found).
    pub fn prefilter(&self) -> Option<&Prefilter> {
        self.prefilter.as_ref()
    }

    /// The selection names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl Selection {
    fn compile(value: &Yaml) -> Result<Self, String> {
        match value {
            Yaml::Mapping(_) => Ok(Self::Any(vec![group(value)?])),
            Yaml::Sequence(items)
                if !items.is_empty() && items.iter().all(|i| matches!(i, Yaml::Mapping(_))) =>
            {
                Ok(Self::Any(
                    items.iter().map(group).collect::<Result<_, _>>()?,
                ))
            }
            Yaml::Sequence(items) if !items.is_empty() && items.iter().all(is_scalar) => {
                let mut patterns = Vec::new();
                for item in items {
                    for text in scalar_texts(item)? {
                        patterns.push(Pattern::new(&text, Position::Whole, false, false)?);
                    }
                }
                Ok(Self::Keywords(text_test(patterns)))
            }
            Yaml::String(_) | Yaml::Number(_) => {
                let text = scalar_texts(value)?.remove(0);
                Ok(Self::Keywords(ValueTest::Text(vec![Pattern::new(
                    &text,
                    Position::Whole,
                    false,
                    false,
                )?])))
            }
            _ => Err("must be a map, a list of maps or a list of keywords".to_owned()),
        }
    }

    fn matches(&self, event: &Value) -> bool {
        match self {
            Self::Any(groups) => groups.iter().any(|g| g.iter().all(|t| t.matches(event))),
            Self::Keywords(test) => field::any_scalar(event, &mut |v| test.matches(v, event)),
        }
    }
}

fn is_scalar(v: &Yaml) -> bool {
    matches!(v, Yaml::String(_) | Yaml::Number(_) | Yaml::Bool(_))
}

/// One map of field tests (AND).
fn group(map: &Yaml) -> Result<Vec<FieldTest>, String> {
    let Yaml::Mapping(map) = map else {
        return Err("not a map".to_owned());
    };
    if map.is_empty() {
        return Err("an empty map matches nothing".to_owned());
    }
    map.iter()
        .map(|(key, value)| {
            let Yaml::String(key) = key else {
                return Err("a field name is not a string".to_owned());
            };
            FieldTest::compile(key, value).map_err(|e| format!("`{key}`: {e}"))
        })
        .collect()
}

/// A YAML scalar as the texts it stands for (a number keeps its written form).
fn scalar_texts(v: &Yaml) -> Result<Vec<String>, String> {
    match v {
        Yaml::String(s) => Ok(vec![s.clone()]),
        Yaml::Number(n) => Ok(vec![n.to_string()]),
        Yaml::Bool(b) => Ok(vec![b.to_string()]),
        _ => Err("a value must be a string, a number, a boolean or null".to_owned()),
    }
}

impl FieldTest {
    fn compile(key: &str, value: &Yaml) -> Result<Self, String> {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().to_owned();
        // `'|all': [...]` (no field name): keywords with modifiers, on every value.
        if (field.is_empty() && !key.starts_with('|'))
            || (!field.is_empty() && field.split('.').any(str::is_empty))
        {
            return Err("the field name is empty or not a dotted name".to_owned());
        }
        let mods: Vec<&str> = parts.collect();
        let m = Modifiers::parse(&mods)?;
        let values: Vec<&Yaml> = match value {
            Yaml::Sequence(items) if items.is_empty() => {
                return Err("an empty list of values".to_owned());
            }
            Yaml::Sequence(items) => items.iter().collect(),
            Yaml::Mapping(_) | Yaml::Tagged(_) => {
                return Err("a value must be a scalar or a list of scalars".to_owned());
            }
            v => vec![v],
        };
        if m.exists {
            let [Yaml::Bool(b)] = values.as_slice() else {
                return Err("`exists` takes `true` or `false`".to_owned());
            };
            return Ok(Self {
                field,
                test: Test::Exists(*b),
            });
        }
        let mut null = false;
        let mut tests = Vec::new();
        let mut sources = Vec::new();
        // Each value's patterns (its variants).
        let mut values_patterns: Vec<Vec<Pattern>> = Vec::new();
        for v in values {
            if matches!(v, Yaml::Null) {
                if m.all {
                    return Err("`null` in an `all` list".to_owned());
                }
                null = true;
                continue;
            }
            if let Some(cmp) = m.cmp {
                let n = match v {
                    Yaml::Number(n) => n.as_f64(),
                    Yaml::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .ok_or("a comparison takes a number")?;
                tests.push(ValueTest::Compare(cmp, n));
                continue;
            }
            let texts = scalar_texts(v)?;
            for text in texts {
                if m.cidr {
                    let net = text
                        .parse::<ipnet::IpNet>()
                        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| format!("{text:?} is not a CIDR network"))?;
                    tests.push(ValueTest::Cidr(net));
                } else if m.fieldref {
                    tests.push(ValueTest::FieldRef {
                        other: text,
                        position: m.position,
                        cased: m.cased,
                    });
                } else if m.re {
                    Regex::new(&text).map_err(|e| format!("regular expression {text:?}: {e}"))?;
                    let flags = m.re_flags.clone();
                    sources.push(if flags.is_empty() {
                        format!("(?:{text})")
                    } else {
                        format!("(?{flags}:{text})")
                    });
                } else {
                    let literal = m.base64 || m.base64offset;
                    values_patterns.push(
                        transform(&text, &m)
                            .iter()
                            .map(|t| Pattern::new(t, m.position, m.cased, literal))
                            .collect::<Result<_, _>>()?,
                    );
                }
            }
        }
        if m.all {
            tests.extend(values_patterns.into_iter().map(ValueTest::Text));
            for s in sources {
                tests.push(ValueTest::Regex(build(&s)?));
            }
        } else {
            let patterns: Vec<Pattern> = values_patterns.into_iter().flatten().collect();
            if !patterns.is_empty() {
                tests.push(text_test(patterns));
            }
            if !sources.is_empty() {
                match build(&sources.join("|")) {
                    Ok(re) => tests.push(ValueTest::Regex(re)),
                    // Too large as one (thousands of values): one expression each.
                    Err(_) => {
                        for s in sources {
                            tests.push(ValueTest::Regex(build(&s)?));
                        }
                    }
                }
            }
        }
        Ok(Self {
            field,
            test: Test::Values {
                all: m.all,
                null,
                tests,
            },
        })
    }

    /// Calls `f` on the values of the field (every scalar of the event for keywords).
    fn any_value(&self, event: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        if self.field.is_empty() {
            field::any_scalar(event, f)
        } else {
            field::any_value(event, &self.field, f)
        }
    }

    pub(super) fn matches(&self, event: &Value) -> bool {
        match &self.test {
            Test::Exists(want) => field::exists(event, &self.field) == *want,
            Test::Values { all, null, tests } => {
                if *null && !self.any_value(event, &mut |v| !v.is_null()) {
                    return true;
                }
                let one = |t: &ValueTest| self.any_value(event, &mut |v| t.matches(v, event));
                if *all {
                    !tests.is_empty() && tests.iter().all(one)
                } else {
                    tests.iter().any(one)
                }
            }
        }
    }
}

/// One OR list of string values: patterns, or one regular expression written from them
/// when the list is long ([`LONG_LIST`]; the patterns again if it is too large to build).
fn text_test(patterns: Vec<Pattern>) -> ValueTest {
    if patterns.len() > LONG_LIST {
        let sources: Vec<String> = patterns.iter().map(Pattern::regex_source).collect();
        if let Ok(re) = build(&sources.join("|")) {
            return ValueTest::Regex(re);
        }
    }
    ValueTest::Text(patterns)
}

impl ValueTest {
    fn matches(&self, v: &Value, event: &Value) -> bool {
        match self {
            Self::Text(patterns) => {
                let mut buf = [0u8; 64];
                field::text(v, &mut buf).is_some_and(|t| patterns.iter().any(|p| p.matches(t)))
            }
            Self::Regex(re) => {
                let mut buf = [0u8; 64];
                field::text(v, &mut buf).is_some_and(|t| re.is_match(t))
            }
            Self::Cidr(net) => match v {
                Value::String(s) => s
                    .trim()
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| net.contains(&ip)),
                _ => false,
            },
            Self::Compare(cmp, n) => field::number(v).is_some_and(|x| match cmp {
                Cmp::Gt => x > *n,
                Cmp::Gte => x >= *n,
                Cmp::Lt => x < *n,
                Cmp::Lte => x <= *n,
            }),
            Self::FieldRef {
                other,
                position,
                cased,
            } => {
                let mut buf = [0u8; 64];
                let Some(mine) = field::text(v, &mut buf) else {
                    return false;
                };
                let mine = if *cased {
                    mine.to_owned()
                } else {
                    mine.to_lowercase()
                };
                field::any_value(event, other, &mut |o| {
                    let mut buf = [0u8; 64];
                    let Some(theirs) = field::text(o, &mut buf) else {
                        return false;
                    };
                    let theirs = if *cased {
                        theirs.to_owned()
                    } else {
                        theirs.to_lowercase()
                    };
                    match position {
                        Position::Whole => mine == theirs,
                        Position::Contains => mine.contains(&theirs),
                        Position::Start => mine.starts_with(&theirs),
                        Position::End => mine.ends_with(&theirs),
                    }
                })
            }
        }
    }
}

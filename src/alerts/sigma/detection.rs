//! A rule's `detection`: its selections compiled once (values into regular expressions,
//! CIDR networks and numbers), and its condition.
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
//! The values of one field, when OR, become a single regular expression: one pass per
//! field value, however long the list.

use regex::Regex;
use serde_json::Value;
use serde_norway::Value as Yaml;

use super::condition::{self, Expr};
use super::field;
use super::modifiers::{Cmp, Modifiers, Position, anchor, build, text_source, transform};
use super::prefilter::Prefilter;

/// A compiled detection.
#[derive(Debug, Clone)]
pub struct Detection {
    names: Vec<String>,
    selections: Vec<Selection>,
    condition: Expr,
    /// What every matching CloudTrail event passes, read from a few top fields.
    prefilter: Option<Prefilter>,
}

#[derive(Debug, Clone)]
pub(super) enum Selection {
    /// Any of these groups (each: every field matches).
    Any(Vec<Vec<FieldTest>>),
    /// Any scalar of the event matches.
    Keywords(Regex),
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
    Text(Regex),
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
                let mut sources = Vec::new();
                for item in items {
                    for text in scalar_texts(item)? {
                        sources.push(text_source(&text, Position::Whole, false));
                    }
                }
                Ok(Self::Keywords(build(&sources.join("|"))?))
            }
            Yaml::String(_) | Yaml::Number(_) => {
                let text = scalar_texts(value)?.remove(0);
                Ok(Self::Keywords(build(&text_source(
                    &text,
                    Position::Whole,
                    false,
                ))?))
            }
            _ => Err("must be a map, a list of maps or a list of keywords".to_owned()),
        }
    }

    fn matches(&self, event: &Value) -> bool {
        match self {
            Self::Any(groups) => groups.iter().any(|g| g.iter().all(|t| t.matches(event))),
            Self::Keywords(re) => field::any_scalar(event, &mut |v| {
                let mut buf = [0u8; 64];
                field::text(v, &mut buf).is_some_and(|t| re.is_match(t))
            }),
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
                    let variants = transform(&text, &m);
                    let literal = m.base64 || m.base64offset;
                    let alts: Vec<String> = variants
                        .iter()
                        .map(|t| {
                            if literal {
                                anchor(&regex::escape(t), m.position, m.cased)
                            } else {
                                text_source(t, m.position, m.cased)
                            }
                        })
                        .collect();
                    sources.push(format!("(?:{})", alts.join("|")));
                }
            }
        }
        if m.all {
            for s in sources {
                tests.push(ValueTest::Text(build(&s)?));
            }
        } else if !sources.is_empty() {
            match build(&sources.join("|")) {
                Ok(re) => tests.push(ValueTest::Text(re)),
                // Too large as one (thousands of values): one expression each.
                Err(_) => {
                    for s in sources {
                        tests.push(ValueTest::Text(build(&s)?));
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

impl ValueTest {
    fn matches(&self, v: &Value, event: &Value) -> bool {
        match self {
            Self::Text(re) => {
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

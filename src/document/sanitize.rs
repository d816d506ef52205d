//! A JSON message made safe for the index mapping: `.` → `_` in keys (without
//! collisions), depth and field caps (what is over a cap is kept as JSON text), and the
//! free-form CloudTrail fields as text.

use std::borrow::Cow;
use std::cell::Cell;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::json::{Entries, Json, Object};
use super::{CLOUDTRAIL_TEXT_FIELDS, Limits, OVERFLOW_KEY};

/// A JSON object written with `.` → `_` in keys, depth and field caps, and (at the top of
/// a CloudTrail event) the free-form fields as text.
pub(super) struct Sanitized<'a> {
    pub(super) obj: &'a Object<'a>,
    pub(super) depth: usize,
    pub(super) limits: Limits,
    pub(super) budget: &'a Cell<usize>,
    pub(super) cloudtrail: bool,
}

impl Sanitized<'_> {
    fn child<'b>(&'b self, value: &'b Json<'b>) -> SanitizedValue<'b> {
        SanitizedValue {
            value,
            depth: self.depth + 1,
            limits: self.limits,
            budget: self.budget,
        }
    }
}

impl Serialize for Sanitized<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut keys = OutputKeys::new(self.obj.keys());
        let mut map = s.serialize_map(None)?;
        for (i, (key, value)) in self.obj.entries.iter().enumerate() {
            if self.budget.get() == 0 {
                // Past the field cap: the rest of this object is kept as one text field.
                let rest = Entries(&self.obj.entries[i..]);
                let text = serde_json::to_string(&rest).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&keys.claim_overflow(), &text)?;
                break;
            }
            self.budget.set(self.budget.get() - 1);
            let out_key = keys.claim(key);
            if self.cloudtrail
                && CLOUDTRAIL_TEXT_FIELDS.contains(&key.as_ref())
                && is_container(value)
            {
                let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&out_key, &text)?;
            } else {
                map.serialize_entry(&out_key, &self.child(value))?;
            }
        }
        map.end()
    }
}

struct SanitizedValue<'a> {
    value: &'a Json<'a>,
    depth: usize,
    limits: Limits,
    budget: &'a Cell<usize>,
}

impl Serialize for SanitizedValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if is_container(self.value) && self.depth > self.limits.max_depth {
            let text = serde_json::to_string(self.value).map_err(serde::ser::Error::custom)?;
            return s.serialize_str(&text);
        }
        match self.value {
            Json::Object(obj) => Sanitized {
                obj,
                depth: self.depth,
                limits: self.limits,
                budget: self.budget,
                cloudtrail: false,
            }
            .serialize(s),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&SanitizedValue {
                        value: item,
                        depth: self.depth + 1,
                        limits: self.limits,
                        budget: self.budget,
                    })?;
                }
                seq.end()
            }
            scalar => scalar.serialize(s),
        }
    }
}

fn is_container(v: &Json<'_>) -> bool {
    matches!(v, Json::Object(_) | Json::Array(_))
}

/// Output key names for one object (its input keys are `keys`). Keys without `.` keep
/// their names; a rewritten key (`.` → `_`) or the synthetic overflow key that would
/// collide with another key gets a `_2`, `_3`, … suffix, so no field is lost. Audit-record
/// attributes ([`crate::audit`]) are named by the same rule.
pub(crate) struct OutputKeys<'a, K> {
    keys: K,
    /// Names taken, computed only once a rewrite happens: most objects need none.
    taken: Option<Vec<Cow<'a, str>>>,
}

impl<'a, K: Iterator<Item = &'a str> + Clone> OutputKeys<'a, K> {
    pub(crate) fn new(keys: K) -> Self {
        Self { keys, taken: None }
    }

    pub(crate) fn claim<'k>(&mut self, key: &'k str) -> Cow<'k, str> {
        if key.contains('.') {
            Cow::Owned(self.step_aside(key.replace('.', "_")))
        } else {
            Cow::Borrowed(key)
        }
    }

    fn claim_overflow(&mut self) -> String {
        self.step_aside(OVERFLOW_KEY.to_owned())
    }

    fn step_aside(&mut self, base: String) -> String {
        let keys = &self.keys;
        let taken = self.taken.get_or_insert_with(|| {
            keys.clone()
                .filter(|k| !k.contains('.'))
                .map(Cow::Borrowed)
                .collect()
        });
        let is_taken = |name: &str| taken.iter().any(|t| t == name);
        let mut candidate = base;
        if is_taken(&candidate) {
            let base = std::mem::take(&mut candidate);
            let mut n = 2;
            loop {
                candidate = format!("{base}_{n}");
                if !is_taken(&candidate) {
                    break;
                }
                n += 1;
            }
        }
        taken.push(Cow::Owned(candidate.clone()));
        candidate
    }
}

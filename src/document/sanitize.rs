//! A JSON message made safe for the index mapping: `.` → `_` in keys (without
//! collisions), depth and field caps (what is over a cap is kept as JSON text), and the
//! free-form CloudTrail fields as text, or as objects outside the field cap.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::header::TopFields;
use super::json::{Entries, Json, Object};
use super::{CLOUDTRAIL_TEXT_FIELDS, Limits, OVERFLOW_KEY};

/// How the free-form fields at the top of a CloudTrail event are written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FreeForm {
    Text,
    /// Objects outside the field budget (the index maps them as `flat_object`).
    Objects,
}

/// A JSON object written with `.` → `_` in keys, depth and field caps, and (at the top of
/// a CloudTrail event) the free-form fields as text or as uncounted objects.
pub(super) struct Sanitized<'a> {
    pub(super) obj: &'a Object<'a>,
    pub(super) depth: usize,
    pub(super) limits: Limits,
    pub(super) budget: &'a Cell<usize>,
    pub(super) cloudtrail: Option<FreeForm>,
    /// At the top of a message: where its fields are written, for the header.
    pub(super) tap: Option<&'a Tap>,
}

/// Where the top-level values of a message were written, for the document's header:
/// the output position (kept by [`Tracked`]) and the fields noted so far.
#[derive(Default)]
pub(super) struct Tap {
    pub(super) pos: Cell<usize>,
    pub(super) top: RefCell<TopFields>,
}

/// A writer that keeps its position in a [`Tap`].
pub(super) struct Tracked<'w> {
    pub(super) out: &'w mut Vec<u8>,
    pub(super) pos: &'w Cell<usize>,
}

impl std::io::Write for Tracked<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(buf);
        self.pos.set(self.out.len());
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(drop)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
                let out_key = keys.claim_overflow();
                map.serialize_key(&out_key)?;
                let value_at = self.tap.map(|t| t.pos.get() + 1);
                map.serialize_value(&text)?;
                // The header notes it too: alerts' prefilter must know the event has more.
                if let (Some(tap), Some(at)) = (self.tap, value_at) {
                    tap.top
                        .borrow_mut()
                        .note(out_key.as_bytes(), at, tap.pos.get());
                }
                break;
            }
            self.budget.set(self.budget.get() - 1);
            let out_key = keys.claim(key);
            let free_form = self
                .cloudtrail
                .filter(|_| CLOUDTRAIL_TEXT_FIELDS.contains(&key.as_ref()) && is_container(value));
            map.serialize_key(&out_key)?;
            // The compact formatter writes `:` next, then the value.
            let value_at = self.tap.map(|t| t.pos.get() + 1);
            if free_form == Some(FreeForm::Text) {
                let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
                map.serialize_value(&text)?;
            } else if free_form == Some(FreeForm::Objects) {
                // A budget of its own: a flat_object adds one field to the mapping.
                let unlimited = Cell::new(usize::MAX);
                let child = SanitizedValue {
                    value,
                    depth: self.depth + 1,
                    limits: self.limits,
                    budget: &unlimited,
                };
                map.serialize_value(&child)?;
            } else {
                map.serialize_value(&self.child(value))?;
            }
            if let (Some(tap), Some(at)) = (self.tap, value_at) {
                tap.top
                    .borrow_mut()
                    .note(out_key.as_bytes(), at, tap.pos.get());
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
                cloudtrail: None,
                tap: None,
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
///
/// Linear in the number of keys: taken names are a hash set, and each base name
/// remembers the next suffix to try, so no suffix is tried twice (50,000 colliding keys
/// took 2.5 s when every claim rescanned a list from `_2`).
pub(crate) struct OutputKeys<'a, K> {
    keys: K,
    /// Names taken, computed only once a rewrite happens: most objects need none.
    taken: Option<HashSet<Cow<'a, str>>>,
    /// Base name → the next suffix to try for it.
    next_suffix: HashMap<String, u64>,
    /// Names looked up in `taken` (tests hold the work to linear).
    #[cfg(test)]
    lookups: usize,
}

impl<'a, K: Iterator<Item = &'a str> + Clone> OutputKeys<'a, K> {
    pub(crate) fn new(keys: K) -> Self {
        Self {
            keys,
            taken: None,
            next_suffix: HashMap::new(),
            #[cfg(test)]
            lookups: 0,
        }
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

    /// `base`, or `base_N` with the smallest N ≥ 2 not taken; then it is taken. Names
    /// only ever get taken, so a suffix found taken once stays taken: the search for a
    /// base resumes where the last one stopped.
    fn step_aside(&mut self, base: String) -> String {
        let keys = &self.keys;
        let taken = self.taken.get_or_insert_with(|| {
            keys.clone()
                .filter(|k| !k.contains('.'))
                .map(Cow::Borrowed)
                .collect()
        });
        #[cfg(test)]
        {
            self.lookups += 1;
        }
        if !taken.contains(base.as_str()) {
            taken.insert(Cow::Owned(base.clone()));
            return base;
        }
        let mut n = self.next_suffix.get(&base).copied().unwrap_or(2);
        let candidate = loop {
            let candidate = format!("{base}_{n}");
            n += 1;
            #[cfg(test)]
            {
                self.lookups += 1;
            }
            if !taken.contains(candidate.as_str()) {
                break candidate;
            }
        };
        self.next_suffix.insert(base, n);
        taken.insert(Cow::Owned(candidate.clone()));
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2^m keys `k?k?…k` with each `?` a `.` or a `_`: all rewrite to the same name.
    fn colliding(m: u32) -> Vec<String> {
        (0..1u32 << m)
            .map(|bits| {
                let mut key = "k".to_owned();
                for i in 0..m {
                    key.push(if bits >> i & 1 == 1 { '.' } else { '_' });
                    key.push('k');
                }
                key
            })
            .collect()
    }

    fn claim_all(keys: &[String]) -> (Vec<String>, usize) {
        let mut out = OutputKeys::new(keys.iter().map(String::as_str));
        let names = keys.iter().map(|k| out.claim(k).into_owned()).collect();
        (names, out.lookups)
    }

    #[test]
    fn colliding_keys_are_renamed_in_linear_work() {
        let keys = colliding(12);
        let n = keys.len();
        let (names, lookups) = claim_all(&keys);
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), n, "every key keeps a name of its own");
        assert!(
            lookups <= 4 * n,
            "{lookups} names compared for {n} keys: the renaming must stay linear"
        );
    }

    #[test]
    fn the_names_are_the_first_free_suffix_in_key_order() {
        // Taken suffixes are skipped; each rewritten key takes the next free one.
        let keys: Vec<String> = ["a.b", "a_b", "a_b_2", "a.b_", "x.y", "a_b_4"]
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        let (names, _) = claim_all(&keys);
        assert_eq!(names, ["a_b_3", "a_b", "a_b_2", "a_b_", "x_y", "a_b_4"]);
        let keys = colliding(2);
        let (names, _) = claim_all(&keys);
        assert_eq!(names, ["k_k_k", "k_k_k_2", "k_k_k_3", "k_k_k_4"]);
    }
}

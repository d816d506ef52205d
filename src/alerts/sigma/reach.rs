//! A JSON value parsed keeping only what some field paths reach, by the rules of
//! [`any_value`](super::field::any_value): a key is kept when it is one of the paths or
//! a dotted prefix of one, with what lies under it kept for the rest of those paths; an
//! array's elements are kept for the same paths; a path that ends at a key keeps all of
//! its value. The rest is read past by the parser, never built. The prefilter's top fields
//! ([`Prefilter`](super::Prefilter)) are parsed this way: a CloudTrail `userIdentity` is
//! mostly `sessionContext`, which no prefilter reads.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::document::Str;

/// `text` (JSON) parsed keeping what `paths` reach: each of the paths reaches the same
/// values on it as on the whole value.
pub fn parse(text: &str, paths: &[&str]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Reach(paths).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// `text`, the value of the key `key`, parsed keeping what `paths` (from the object
/// that holds the key) reach under it; `None` when none of them reaches it.
pub fn parse_under<P: AsRef<str>>(
    text: &str,
    key: &str,
    paths: &[P],
) -> Option<serde_json::Result<Value>> {
    let rest: Vec<&str> = paths
        .iter()
        .filter_map(|p| below(p.as_ref(), key))
        .collect();
    (!rest.is_empty()).then(|| parse(text, &rest))
}

/// A value read keeping what these paths reach.
struct Reach<'p>(&'p [&'p str]);

impl<'de> DeserializeSeed<'de> for Reach<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.iter().any(|p| p.is_empty()) {
            // A path ends here: all of the value.
            return Value::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reach<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    // Scalars as `Value` reads them (a path with more to go reaches nothing in one).
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Reach(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Str(key)) = map.next_key()? {
            let rest: Vec<&str> = self.0.iter().filter_map(|p| below(p, &key)).collect();
            if rest.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else {
                // A repeated key keeps its last value, as in a `Value`.
                out.insert(key.into_owned(), map.next_value_seed(Reach(&rest))?);
            }
        }
        Ok(Value::Object(out))
    }
}

/// What of `path` lies under `key`: `""` when the path is the key, the rest after
/// `key.` when the key is a dotted prefix of it.
fn below<'p>(path: &'p str, key: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(key)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('.')
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::field::any_value;
    use super::parse;

    /// Every value `path` reaches in `value`, in the order they are visited.
    fn reached(value: &Value, path: &str) -> Vec<String> {
        let mut seen = Vec::new();
        any_value(value, path, &mut |v| {
            seen.push(v.to_string());
            false
        });
        seen
    }

    #[test]
    fn only_what_the_paths_reach_is_kept() {
        let text = r#"{"type":"Root","arn":"a","sessionContext":{"attributes":{"mfa":"true"},"x":[1]},
            "a.b":{"c":1,"d":2},"a":{"b":{"c":3,"e":4}},"list":[{"k":1,"z":2},{"k":[3]}]}"#;
        let kept = parse(
            text,
            &["type", "a.b.c", "list.k", "sessionContext.attributes"],
        )
        .expect("JSON");
        assert_eq!(
            kept,
            json!({"type": "Root", "sessionContext": {"attributes": {"mfa": "true"}},
                "a.b": {"c": 1}, "a": {"b": {"c": 3}}, "list": [{"k": 1}, {"k": [3]}]})
        );
        assert_eq!(parse(text, &[]).expect("JSON"), json!({}));
        let whole: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(parse(text, &["", "type"]).expect("JSON"), whole);
        assert_eq!(parse("\"x\"", &["type"]).expect("JSON"), json!("x"));
        assert!(parse("{\"type\":", &["type"]).is_err());
        assert!(parse("{\"type\":1} x", &["type"]).is_err());
    }

    /// A JSON value with keys that nest, dot and repeat.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-c.]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    "[a-c]|[a-c]\\.[a-c]|[a-c]\\.[a-c]\\.[a-c]",
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Every path reaches the same values, in the same order, in the pruned value
        /// as in the whole one.
        #[test]
        fn paths_reach_the_same_values(
            value in value(),
            paths in prop::collection::vec("[a-c](\\.[a-c]){0,3}", 0..4),
        ) {
            let text = value.to_string();
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            let kept = parse(&text, &refs).expect("JSON");
            for path in &paths {
                prop_assert_eq!(reached(&kept, path), reached(&value, path), "{}", path);
            }
        }
    }
}

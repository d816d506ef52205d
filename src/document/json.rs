//! The JSON tree a message is parsed into: borrowed where it can be, objects as sorted
//! vectors, read and written exactly as `serde_json::Value` would.

use std::borrow::Cow;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Number;

// Why a tree of our own and not a crate: `serde_json_borrow` 0.9 (a borrowed, Vec-backed
// DOM, the obvious candidate) was measured in its place on 2026-11-22 (BENCHMARKS.md,
// "Second round"): with its objects sorted and de-duplicated as they are written, to
// keep these bytes, the pipeline ran 2.0% more instructions per log event (callgrind,
// 1,584.6 M against 1,552.8 M a pass; 0.6% more with mimalloc), an extra vector per
// object. Timed runs could not tell them apart, but the count repeats exactly, so the
// tree stays. Revisit if the crate can sort at parse time.

/// A JSON value parsed from a message. It behaves as `serde_json::Value` does, with
/// fewer allocations: strings borrow from the message when there is nothing to unescape,
/// and an object is one sorted vector (keys in `serde_json::Map` order, a repeated key
/// keeping its last value) instead of a tree of nodes. Serialized plainly it gives the
/// same bytes as the `Value` would; the tests below hold it to that.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A JSON object: entries sorted by key, keys unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Object<'a> {
    pub(super) entries: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Object<'a> {
    /// Entries in input order → sorted by key; of a repeated key the last value is kept,
    /// as `serde_json::Map::insert` does.
    pub(super) fn from_entries(mut entries: Vec<(Cow<'a, str>, Json<'a>)>) -> Self {
        // A stable sort keeps repeated keys in input order…
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // …and `dedup_by` drops the later of two equal neighbours, so move the later
        // value into the kept slot first.
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        Self { entries }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.entries
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }
}

impl Json<'_> {
    #[cfg(test)]
    fn to_value(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.as_ref().to_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(obj) => Value::Object(
                obj.entries
                    .iter()
                    .map(|(k, v)| (k.as_ref().to_owned(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(obj) => Json::Object(Object {
                entries: obj
                    .entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            }),
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(text) => s.serialize_str(text),
            Json::Array(items) => s.collect_seq(items),
            Json::Object(obj) => Entries(&obj.entries).serialize(s),
        }
    }
}

/// Object entries written as a JSON object.
pub(super) struct Entries<'e, 'a>(pub(super) &'e [(Cow<'a, str>, Json<'a>)]);

impl Serialize for Entries<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// The key `serde_json::Value` reads as "the JSON text in this string" (its raw-value
/// token, active with the `raw_value` feature this crate uses).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Mirrors `serde_json::Value`'s visitor, call for call.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(d)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(Str(first)) = map.next_key()? else {
            return Ok(Json::Object(Object::default()));
        };
        if first == RAW_VALUE_TOKEN {
            // As `Value` does: the value is a string holding JSON text, which is parsed,
            // and the object ends there.
            let Str(text) = map.next_value()?;
            return serde_json::from_str::<Json>(&text)
                .map(Json::into_owned)
                .map_err(de::Error::custom);
        }
        let mut entries = Vec::with_capacity(8);
        entries.push((first, map.next_value()?));
        while let Some(Str(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Json::Object(Object::from_entries(entries)))
    }
}

/// A string that borrows from the input when it can (keys and raw-value text; the keys
/// of the alerts' prefilter fields too).
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// `Json` must read and write every message exactly as `serde_json::Value` does.
    fn same_as_value(text: &str) {
        let value = serde_json::from_str::<Value>(text);
        let json = serde_json::from_str::<Json>(text);
        match (&value, &json) {
            (Ok(v), Ok(j)) => {
                assert_eq!(&j.to_value(), v, "{text}");
                assert_eq!(
                    serde_json::to_string(j).unwrap(),
                    serde_json::to_string(v).unwrap(),
                    "{text}"
                );
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{text}: Value gave {value:?}, Json gave {json:?}"),
        }
    }

    #[test]
    fn json_reads_and_writes_like_serde_json_value() {
        for text in [
            r#"{"b":1,"a":2,"c":{"z":[1,2.50,-3,1e3,18446744073709551615,-9223372036854775808]}}"#,
            r#"{"k":1,"k":2,"j":0,"k":3}"#,
            r#"{"esc\"aped":"a\nb\u00e9\ud83d\ude00","plain":"x","n":null,"t":true,"f":false}"#,
            r#"{"a.b":1,"a_b":2,"nested":{"x.y":{"deep":[{"a":{}}]}}}"#,
            r#"{"$serde_json::private::RawValue":"{\"b\":1,\"a\":[2]}"}"#,
            r#"{"$serde_json::private::RawValue":"[1]"}"#,
            r#"{"$serde_json::private::RawValue":"{}","more":1}"#,
            r#"{"$serde_json::private::RawValue":5}"#,
            r#"{"x":{"$serde_json::private::RawValue":"\"s\""}}"#,
            r#"{"a":1e400}"#,
            r#"{"a":1} trailing"#,
            r#"{"a":"#,
            "{}",
            "[]",
            "\"text\"",
            "1.0",
        ] {
            same_as_value(text);
        }
        let deep = format!("{}{}", "{\"a\":".repeat(200), "}".repeat(200));
        same_as_value(&deep);
    }

    #[test]
    fn object_keeps_the_last_of_a_repeated_key() {
        let Ok(Json::Object(obj)) = serde_json::from_str::<Json>(r#"{"k":1,"a":0,"k":2,"k":3}"#)
        else {
            panic!("an object")
        };
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["a", "k"]);
        assert_eq!(obj.get("k"), Some(&Json::Number(3.into())));
    }
}

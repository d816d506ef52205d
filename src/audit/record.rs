//! The body of an audit-records request: its schema and its checks. Every error names
//! the field, with the record's index: `auditRecords[2].trackingId: missing field`.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Refusal;
use crate::timestamp::Rfc3339Millis;

/// Most attributes one record may carry: each name becomes index fields.
pub const MAX_ATTRIBUTES: usize = 200;

/// `{"messageType": "...", "auditRecords": [...]}`. Unknown fields are refused rather
/// than dropped, so nothing a caller sends is silently lost.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditPost {
    pub message_type: String,
    #[serde(deserialize_with = "objects")]
    pub audit_records: Vec<AuditRecord>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditRecord {
    pub attributes: Attributes,
    pub datetime: Datetime,
    #[serde(default)]
    pub previous_tracking_ids: Option<Vec<String>>,
    #[serde(default)]
    pub source_node: Option<String>,
    pub tracking_id: String,
}

/// Parses and checks a body.
pub fn parse(text: &str) -> Result<AuditPost, Refusal> {
    let mut de = serde_json::Deserializer::from_str(text);
    let post: AuditPost = serde_path_to_error::deserialize(&mut de)
        .map(|ObjectOnly(post)| post)
        .map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Refusal::bad_request(format!("body is not valid JSON: {inner}"))
            } else if path == "." {
                Refusal::bad_request(format!("body: {inner}"))
            } else {
                Refusal::bad_request(format!("{path}: {inner}"))
            }
        })?;
    de.end()
        .map_err(|e| Refusal::bad_request(format!("body is not valid JSON: {e}")))?;
    check(&post)?;
    Ok(post)
}

/// What a record or the body must be; serde's derive would also take an array of the
/// fields in order, which gives confusing errors for a common mistake.
trait Expecting {
    const EXPECTING: &'static str;
}

impl Expecting for AuditPost {
    const EXPECTING: &'static str = "an object {\"messageType\": \"...\", \"auditRecords\": [...]}";
}

impl Expecting for AuditRecord {
    const EXPECTING: &'static str =
        "an audit record object {\"attributes\", \"datetime\", \"trackingId\", ...}";
}

/// `T` from a JSON object only.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

fn objects<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AuditRecord>, D::Error> {
    Vec::<ObjectOnly<AuditRecord>>::deserialize(d).map(|v| v.into_iter().map(|o| o.0).collect())
}

/// What the types cannot say: non-empty names and ids, ids unique in the request.
fn check(post: &AuditPost) -> Result<(), Refusal> {
    if post.message_type.trim().is_empty() {
        return Err(Refusal::bad_request("messageType: must not be empty"));
    }
    if post.audit_records.is_empty() {
        return Err(Refusal::bad_request(
            "auditRecords: empty: send at least one record",
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(post.audit_records.len());
    for (i, record) in post.audit_records.iter().enumerate() {
        if record.tracking_id.trim().is_empty() {
            return Err(Refusal::bad_request(format!(
                "auditRecords[{i}].trackingId: must not be empty"
            )));
        }
        if let Some(first) = seen.insert(&record.tracking_id, i) {
            return Err(Refusal::bad_request(format!(
                "auditRecords[{i}].trackingId: {:?} repeats auditRecords[{first}].trackingId (each record needs its own)",
                record.tracking_id
            )));
        }
    }
    Ok(())
}

/// An ISO 8601 date-time. Without a zone it is UTC. Years 0000–9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datetime(pub DateTime<Utc>);

impl Datetime {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let at = DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                    .map(|t| t.and_utc())
            })?;
        Rfc3339Millis::new(at).map(|_| Self(at))
    }
}

impl<'de> Deserialize<'de> for Datetime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "{s:?} is not an ISO 8601 date-time in years 0000-9999 (e.g. 2026-11-22T08:15:30Z)"
            ))
        })
    }
}

/// An attribute value: attributes are flat.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a flat value (string, number, boolean or null)")
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                serde_json::Number::from_f64(v)
                    .map(Scalar::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::String(v))
            }
        }
        d.deserialize_any(ScalarVisitor)
    }
}

/// The attributes in the order sent. A repeated or empty name is refused (a JSON object
/// would keep only the last), and so are more than [`MAX_ATTRIBUTES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(pub Vec<(String, Scalar)>);

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;
        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of flat attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let mut out: Vec<(String, Scalar)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name.is_empty() {
                        return Err(de::Error::custom("an attribute name is empty"));
                    }
                    if out.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(format!(
                            "attribute {name:?} appears twice"
                        )));
                    }
                    if out.len() == MAX_ATTRIBUTES {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_ATTRIBUTES} attributes"
                        )));
                    }
                    let value = map.next_value::<Scalar>()?;
                    out.push((name, value));
                }
                Ok(Attributes(out))
            }
        }
        d.deserialize_map(AttributesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<String> {
        Datetime::parse(s).map(|d| d.0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    #[test]
    fn datetimes_in_iso_8601_forms() {
        let want = Some("2026-11-22T08:15:30.123Z".to_owned());
        assert_eq!(at("2026-11-22T08:15:30.123Z"), want);
        assert_eq!(at("2026-11-22T09:15:30.123+01:00"), want);
        assert_eq!(at("2026-11-22T09:15:30.123+0100"), want);
        assert_eq!(at(" 2026-11-22T08:15:30.123 "), want, "no zone is UTC");
        assert_eq!(at("2026-11-22 08:15:30.123"), want);
        assert_eq!(
            at("2026-11-22T08:15:30Z"),
            Some("2026-11-22T08:15:30.000Z".to_owned())
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22",
            "10000-01-01T00:00:00Z",
            "1764000000",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn refusals_name_the_field_and_the_record() {
        let err = |body: &str| parse(body).expect_err("refused").error;
        assert!(err(r#"{"messageType":"m","auditRecords":[{"attributes":{},"datetime":"2026-11-22T08:15:30Z","trackingId":"a"},{"attributes":{"a":[1]},"datetime":"x","trackingId":"b"}]}"#)
            .starts_with("auditRecords[1].attributes.a: invalid type: sequence, expected a flat value"));
        assert!(
            err(r#"{"messageType":"m","auditRecords":[{"attributes":{"a":1,"a":2},"datetime":"2026-11-22T08:15:30Z","trackingId":"a"}]}"#)
                .starts_with("auditRecords[0].attributes: attribute \"a\" appears twice")
        );
        assert!(err(r#"{"auditRecords":[]}"#).starts_with("body: missing field `messageType`"));
        assert!(
            err(r#"{"messageType":"","auditRecords":[]}"#)
                .starts_with("messageType: must not be empty")
        );
        assert!(
            err(r#"{"messageType":"m","auditRecords":[]} trailing"#)
                .starts_with("body is not valid JSON: trailing characters")
        );
        let many: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let body = format!(
            r#"{{"messageType":"m","auditRecords":[{{"attributes":{{{many}}},"datetime":"2026-11-22T08:15:30Z","trackingId":"a"}}]}}"#
        );
        assert!(
            err(&body).starts_with("auditRecords[0].attributes: more than 200 attributes"),
            "{}",
            err(&body)
        );
    }
}

//! Times written inside log messages. Minimal first cut (RFC 3339 only); the full
//! set of formats replaces it.

use chrono::{DateTime, SecondsFormat, Utc};

pub const WELL_KNOWN_FIELDS: [&str; 5] = [
    "time",
    "timestamp",
    "@timestamp",
    "date_access",
    "eventTime",
];

pub fn find_in_text(_text: &str, _event_time: DateTime<Utc>) -> Option<DateTime<Utc>> {
    None
}

pub fn parse_json_value(
    value: &serde_json::Value,
    _event_time: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let s = value.as_str()?;
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn write_rfc3339_millis(out: &mut String, t: DateTime<Utc>) {
    out.push_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true));
}

pub fn from_epoch_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

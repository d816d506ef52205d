//! What is replayed: `--since/--until` by a key's date path, else by a dead letter's or
//! a document's time; `--source` for dead letters; archived documents that were
//! truncated are left out (their full original is a `firehose` dead letter).
//! `--resume-after` is the listing's (see [`source`](super::source)).

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use serde::Deserialize;

use super::Replayer;
use crate::dead_letter::DeadLetter;
use crate::sinks::firehose::archive::TRUNCATED_FIELD;

impl Replayer<'_> {
    /// Whether a key's date path (`…/YYYY/MM/DD[/HH]/…`) is within `--since/--until`;
    /// keys without one are read (their content's time decides).
    pub(super) fn key_in_range(&self, key: &str) -> bool {
        match key_span(key) {
            Some((from, to)) => self.overlaps(from, to),
            None => true,
        }
    }

    fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.options.since.is_none_or(|s| to > s) && self.options.until.is_none_or(|u| from < u)
    }

    pub(super) fn time_in_range(&self, at: DateTime<Utc>) -> bool {
        self.options.since.is_none_or(|s| at >= s) && self.options.until.is_none_or(|u| at < u)
    }

    /// Whether a dead letter is of `--source` (when given) and, when its key has no
    /// date path, was received within `--since/--until`.
    pub(super) fn letter_selected(&self, letter: &DeadLetter, dated: bool) -> bool {
        self.options
            .source
            .as_ref()
            .is_none_or(|s| *s == letter.source)
            && (dated
                || DateTime::parse_from_rfc3339(&letter.received_at)
                    .map_or(true, |t| self.time_in_range(t.with_timezone(&Utc))))
    }
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "@timestamp")]
    at: Option<String>,
    #[serde(rename = "_archive_truncated")]
    truncated: Option<serde::de::IgnoredAny>,
}

/// A document's `@timestamp`.
pub(super) fn document_time(source: &str) -> Result<DateTime<Utc>, String> {
    let head: Head =
        serde_json::from_str(source).map_err(|e| format!("the document is not JSON: {e}"))?;
    let at = head.at.ok_or("the document has no `@timestamp`")?;
    DateTime::parse_from_rfc3339(&at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`@timestamp` {at:?}: {e}"))
}

pub(super) fn is_truncated(source: &str) -> bool {
    source.contains(TRUNCATED_FIELD)
        && serde_json::from_str::<Head>(source).is_ok_and(|h| h.truncated.is_some())
}

/// The time span of a key's date path: `YYYY/MM/DD/HH/` (Firehose's default prefix,
/// one hour) or `YYYY/MM/DD/` (dead letters, one day).
pub fn key_span(key: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let parts: Vec<&str> = key.split('/').collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    for i in 0..dirs.len().saturating_sub(2) {
        let (Some(y), Some(m), Some(d)) =
            (num(dirs[i], 4), num(dirs[i + 1], 2), num(dirs[i + 2], 2))
        else {
            continue;
        };
        let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
            continue;
        };
        let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?);
        return Some(
            match dirs.get(i + 3).and_then(|h| num(h, 2)).filter(|h| *h < 24) {
                Some(h) => {
                    let from = start + chrono::Duration::hours(i64::from(h));
                    (from, from + chrono::Duration::hours(1))
                }
                None => (start, start + chrono::Duration::days(1)),
            },
        );
    }
    None
}

/// Parses `--since/--until`: RFC 3339, or a UTC date `YYYY-MM-DD` (its midnight).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
        .ok_or_else(|| format!("{text:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_date_paths() {
        let t = |s: &str| parse_time(s).expect("time");
        assert_eq!(
            key_span("dead-letter/kinesis-s/2026/01/02/x.json"),
            Some((t("2026-01-02"), t("2026-01-03")))
        );
        assert_eq!(
            key_span("prefix/2026/01/02/07/stream-1-2026-01-02-07-00-00-abc.gz"),
            Some((t("2026-01-02T07:00:00Z"), t("2026-01-02T08:00:00Z")))
        );
        assert_eq!(key_span("kinesis-s-20260102T030405.678Z-id.json"), None);
        assert_eq!(key_span("2026/13/02/x"), None);
        assert!(parse_time("yesterday").is_err());
    }
}

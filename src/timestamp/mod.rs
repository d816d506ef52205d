//! Times written inside log messages.
//!
//! [`find_in_text`] finds the first time in free text. It does not run one regex per
//! format: every supported format contains a clock `HH:MM:SS`, so the scan jumps from
//! `:` to `:` (an eight-bytes-at-a-time search), and only where two colons form a clock
//! does it look at the bytes just before for a date (ISO 8601, CLF `dd/Mon/yyyy:` or a
//! month name), then parse that candidate forward by hand. A leading squid epoch
//! (`1520520148.130`) is checked once at offset 0. All parsing works on bytes with
//! bounds-checked access, so no input can panic it.
//!
//! Formats found in text (the earliest position wins; results are UTC):
//! - ISO 8601 / RFC 3339 with a `T`, `t` or space between date and time, `-` or `/`
//!   between date parts (`2018/03/08 14:41:57` is the nginx error-log form), seconds
//!   required, an optional fraction after `.` or `,` (digits past nanoseconds are
//!   dropped), and an optional zone: `Z`, `+hh:mm`, `+hhmm`, `+hh`, or ` +hhmm` /
//!   ` +hh:mm` after one space (fluentd). No zone means UTC.
//! - CLF (nginx/apache access logs) `08/Mar/2018:14:42:27 +0000`; no zone means UTC.
//! - Month-name stamps: syslog `Apr  8 14:42:01` and ctime `Thu Mar  8 14:42:27 2018`,
//!   both with an optional fraction. A four-digit year after the clock is used; without
//!   one the year is the one (of the event's year, the year before and the year after)
//!   that puts the stamp closest to the event's own time. The weekday is not checked.
//! - Squid `1520520148.130` (ten digits, a dot, three digits) at offset 0 only.
//!
//! Month names are matched case-insensitively; dates and clocks are validated
//! (no Feb 30, no hour 24, no second 60). A match must not be glued to a digit
//! before or after it (nor to a letter before a month name). Only times in the years
//! 0000..=9999 (UTC) are returned, the ones RFC 3339 and OpenSearch can hold.//!
//! Files: [`formats`] (the stamps found in text and JSON strings), [`scan`] (bounds-checked
//! byte helpers), [`calendar`] (dates to epoch seconds), [`rfc3339`] (writing times).

mod calendar;
mod formats;
mod rfc3339;
mod scan;

use chrono::{DateTime, Utc};

use self::formats::{
    from_epoch_float, from_epoch_integer, parse_around_clock, parse_bare_date, parse_epoch_prefix,
    parse_iso, parse_numeric_string, parse_rfc2822,
};
use self::scan::{find_colon, is_clock};

pub use self::rfc3339::{Rfc3339Millis, write_rfc3339_millis};

/// JSON fields looked at first, in this order, when the message is a JSON object.
pub const WELL_KNOWN_FIELDS: [&str; 5] = [
    "time",
    "timestamp",
    "@timestamp",
    "date_access",
    "eventTime",
];

/// JSON numbers above this are epoch milliseconds, at or below it epoch seconds
/// (1e11 s is the year 5138; 1e11 ms is 1973).
pub(crate) const MILLIS_THRESHOLD: f64 = 1e11;

/// The first time found in free text, or None. `event_time` is the log event's own
/// timestamp (used for the year of syslog stamps).
///
/// See the module documentation for the formats. Cost is one pass for `:` (about
/// 0.12 ns per byte) plus a few byte checks per colon.
pub fn find_in_text(text: &str, event_time: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if let Some(t) = parse_epoch_prefix(b) {
        return Some(t);
    }
    let mut from = 0;
    while let Some(colon) = find_colon(b, from) {
        from = colon + 1;
        let Some(clock) = colon.checked_sub(2) else {
            continue;
        };
        if is_clock(b, clock)
            && let Some(t) = parse_around_clock(b, clock, event_time).and_then(rfc3339_range)
        {
            return Some(t);
        }
    }
    None
}

/// A JSON field value: a string in any supported format (the whole string, trimmed,
/// should be the time; fall back to [`find_in_text`] on it), or a number: epoch seconds
/// (with fraction), or epoch milliseconds when > 1e11.
///
/// Strings are tried, in order, as: a decimal epoch number with at least nine integer
/// digits (same seconds/milliseconds rule as numbers; shorter digit strings are more
/// likely durations or ids), a bare date `YYYY-MM-DD` (midnight UTC), an ISO 8601
/// stamp that is the whole string, RFC 2822
/// (`Thu, 08 Mar 2018 14:42:27 +0000`), then [`find_in_text`]. Null, booleans, arrays
/// and objects give None, and so do times outside the years 0000..=9999.
pub fn parse_json_value(
    value: &serde_json::Value,
    event_time: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match value {
        serde_json::Value::Number(n) => parse_json_number(n),
        serde_json::Value::String(s) => parse_json_string(s, event_time),
        _ => None,
    }
}

/// [`parse_json_value`] of a JSON number.
pub fn parse_json_number(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(i) = n.as_i64() {
        from_epoch_integer(i)
    } else {
        from_epoch_float(n.as_f64()?)
    }
    .and_then(rfc3339_range)
}

/// [`parse_json_value`] of a JSON string.
pub fn parse_json_string(s: &str, event_time: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let b = s.as_bytes();
    parse_numeric_string(s)
        .or_else(|| parse_bare_date(b))
        .or_else(|| parse_iso(b, 0).and_then(|(t, end)| (end == b.len()).then_some(t)))
        .or_else(|| parse_rfc2822(s))
        .or_else(|| find_in_text(s, event_time))
        .and_then(rfc3339_range)
}

/// Epoch milliseconds (CloudWatch's log event timestamp) to UTC; None when out of
/// chrono's range.
pub fn from_epoch_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Epoch seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;

/// Keeps only times in years 0000..=9999 (UTC), the ones RFC 3339 (and OpenSearch's
/// `date` type) can represent. Only reachable from syslog stamps near year 0 or 9999,
/// offsets pushing 0000-01-01 or 9999-12-31 over the edge, or huge epoch numbers.
pub(crate) fn rfc3339_range(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (MIN_SECS..=MAX_SECS).contains(&t.timestamp()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::json;

    pub(super) fn ev() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 3, 9, 0, 0, 0).unwrap()
    }

    pub(super) fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(super) fn find(s: &str) -> Option<DateTime<Utc>> {
        find_in_text(s, ev())
    }

    pub(super) fn fmt(t: DateTime<Utc>) -> String {
        let mut s = String::new();
        write_rfc3339_millis(&mut s, t);
        s
    }

    pub(super) fn found(s: &str) -> String {
        fmt(find(s).unwrap_or_else(|| panic!("no time in {s:?}")))
    }

    // --- parse_json_value -------------------------------------------------------

    #[test]
    fn json_strings() {
        let e = ev();
        let p = |v: serde_json::Value| parse_json_value(&v, e).map(fmt);
        assert_eq!(
            p(json!("2018-03-08T14:41:57.123Z")).as_deref(),
            Some("2018-03-08T14:41:57.123Z")
        );
        assert_eq!(
            p(json!("  2018-03-08T14:41:57+01:00 \n")).as_deref(),
            Some("2018-03-08T13:41:57.000Z")
        );
        assert_eq!(
            p(json!("08/Mar/2018:14:42:27 +0000")).as_deref(),
            Some("2018-03-08T14:42:27.000Z")
        );
        assert_eq!(
            p(json!("Thu Mar  8 14:42:27 2018")).as_deref(),
            Some("2018-03-08T14:42:27.000Z")
        );
        assert_eq!(
            p(json!("Thu, 08 Mar 2018 14:42:27 +0100")).as_deref(),
            Some("2018-03-08T13:42:27.000Z")
        );
        assert_eq!(
            p(json!("8 Mar 2018 14:42:27 GMT")).as_deref(),
            Some("2018-03-08T14:42:27.000Z")
        );
        assert_eq!(
            p(json!("2018-03-08 14:41:57 +0000")).as_deref(),
            Some("2018-03-08T14:41:57.000Z")
        );
        assert_eq!(
            p(json!("2018-03-08")).as_deref(),
            Some("2018-03-08T00:00:00.000Z")
        );
        assert_eq!(
            p(json!("1520520148")).as_deref(),
            Some("2018-03-08T14:42:28.000Z")
        );
        assert_eq!(
            p(json!("1520520148.13")).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        assert_eq!(
            p(json!("1520520148130")).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        // Fallback: a time inside the string.
        assert_eq!(
            p(json!("at 2018-03-08T14:41:57Z ok")).as_deref(),
            Some("2018-03-08T14:41:57.000Z")
        );
        // Not times.
        for v in [
            json!(""),
            json!("   "),
            json!("hello"),
            json!("0.123"),
            json!("12345"),
            json!("2018-02-30"),
            json!("1520520148."),
        ] {
            assert_eq!(p(v.clone()), None, "{v}");
        }
    }

    #[test]
    fn json_numbers() {
        let e = ev();
        let p = |v: serde_json::Value| parse_json_value(&v, e).map(fmt);
        assert_eq!(
            p(json!(1520520148)).as_deref(),
            Some("2018-03-08T14:42:28.000Z")
        );
        assert_eq!(
            p(json!(1520520148.13)).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        assert_eq!(
            p(json!(1520520148.999)).as_deref(),
            Some("2018-03-08T14:42:28.999Z")
        );
        assert_eq!(
            p(json!(1520520148130_i64)).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        assert_eq!(
            p(json!(1520520148130.5)).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        assert_eq!(
            p(json!(1520520148130_u64)).as_deref(),
            Some("2018-03-08T14:42:28.130Z")
        );
        assert_eq!(p(json!(0)).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(p(json!(-1.5)).as_deref(), Some("1969-12-31T23:59:58.500Z"));
        // 1e11 itself is seconds (year 5138); just above is milliseconds (1973).
        assert_eq!(
            p(json!(100_000_000_000_i64)).as_deref(),
            Some("5138-11-16T09:46:40.000Z")
        );
        assert_eq!(
            p(json!(100_000_000_001_i64)).as_deref(),
            Some("1973-03-03T09:46:40.001Z")
        );
        // Out of range (chrono's, or RFC 3339's four-digit years).
        assert_eq!(p(json!(300_000_000_000_000_i64)), None);
        assert_eq!(p(json!(-100_000_000_000.0)), None);
        assert_eq!(p(json!(u64::MAX)), None);
        assert_eq!(p(json!(i64::MIN)), None);
        assert_eq!(p(json!(1e300)), None);
        assert_eq!(p(json!(-1e300)), None);
    }

    #[test]
    fn json_non_times() {
        let e = ev();
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!({"time": "2018-03-08T14:41:57Z"}),
            json!(["2018-03-08T14:41:57Z"]),
        ] {
            assert_eq!(parse_json_value(&v, e), None, "{v}");
        }
    }

    // --- properties ---------------------------------------------------------------

    fn assert_round_trips(t: DateTime<Utc>) -> Result<(), TestCaseError> {
        let s = fmt(t);
        let back = DateTime::parse_from_rfc3339(&s)
            .map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        prop_assert_eq!(back.timestamp(), t.timestamp());
        prop_assert_eq!(
            back.timestamp_subsec_millis(),
            t.timestamp_subsec_millis().min(999)
        );
        Ok(())
    }

    /// Text made of pieces that look like parts of stamps, to reach deep code paths.
    fn stampish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("2018-03-08".to_string()),
            Just("08/Mar/2018:".to_string()),
            Just("Mar  8 ".to_string()),
            Just("Feb 29 ".to_string()),
            Just("1520520148.130".to_string()),
            "[0-9]{1,4}",
            "[0-2][0-9]:[0-6][0-9]:[0-6][0-9]",
            "[ T:/.,+Zz-]",
            "[+-][0-9]{2}:?[0-9]{2}",
            "[A-Za-z]{1,4}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn never_panics_on_unicode(s in any::<String>(), ms in -8_000_000_000_000_000i64..8_000_000_000_000_000) {
            let e = from_epoch_millis(ms).unwrap();
            if let Some(t) = find_in_text(&s, e) { assert_round_trips(t)?; }
            if let Some(t) = parse_json_value(&serde_json::Value::String(s), e) { assert_round_trips(t)?; }
        }

        #[test]
        fn never_panics_on_stampish(s in stampish(), ms in -8_000_000_000_000_000i64..8_000_000_000_000_000) {
            let e = from_epoch_millis(ms).unwrap();
            if let Some(t) = find_in_text(&s, e) { assert_round_trips(t)?; }
            if let Some(t) = parse_json_value(&serde_json::Value::String(s), e) { assert_round_trips(t)?; }
        }

        #[test]
        fn written_time_is_found_again(ms in -30_000_000_000_000i64..253_402_300_799_999, pre in "[a-z =\\[]{0,8}", post in "[a-z \\]]{0,8}") {
            let t = from_epoch_millis(ms).unwrap();
            let s = format!("{pre}{}{post}", fmt(t));
            let got = find_in_text(&s, t);
            prop_assert_eq!(got, Some(t), "{}", s);
        }

        #[test]
        fn json_numbers_never_panic(f in any::<f64>(), i in any::<i64>()) {
            let e = ev();
            if let Some(n) = serde_json::Number::from_f64(f)
                && let Some(t) = parse_json_value(&serde_json::Value::Number(n), e)
            {
                assert_round_trips(t)?;
            }
            if let Some(t) = parse_json_value(&json!(i), e) { assert_round_trips(t)?; }
        }
    }
}

//! The formats of times written inside messages: each parsed forward by hand from a
//! candidate position (see the module documentation of [`crate::timestamp`]).

use chrono::{DateTime, Datelike, Utc};

use super::MILLIS_THRESHOLD;
use super::calendar::{Clock, epoch_secs, to_datetime};
use super::scan::{byte, digits, is_clock, is_digit_at, month_number, no_digit_before};

/// Parses a clock at `i`; returns it and the index just past it. Rejects a clock glued
/// to a following digit.
pub(super) fn parse_clock(b: &[u8], i: usize) -> Option<(Clock, usize)> {
    if !is_clock(b, i) {
        return None;
    }
    let hour = digits(b, i, 2)?;
    let minute = digits(b, i + 3, 2)?;
    let second = digits(b, i + 6, 2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut end = i + 8;
    let mut nano = 0u32;
    if matches!(byte(b, end), Some(b'.' | b',')) && is_digit_at(b, end + 1) {
        end += 1;
        let mut scale = 100_000_000u32;
        while let Some(c) = byte(b, end).filter(u8::is_ascii_digit) {
            nano += u32::from(c - b'0') * scale;
            scale /= 10; // reaches 0 after nine digits: further digits are dropped
            end += 1;
        }
    } else if is_digit_at(b, end) {
        return None;
    }
    Some((
        Clock {
            hour,
            minute,
            second,
            nano,
        },
        end,
    ))
}

/// A numeric UTC offset at `i` (`+hh:mm`, `+hhmm`, or `+hh` when `short_ok`), in
/// seconds east, and the index past it. None when malformed or glued to a digit.
pub(super) fn parse_offset(b: &[u8], i: usize, short_ok: bool) -> Option<(i32, usize)> {
    let sign = match byte(b, i)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hh = digits(b, i + 1, 2)?;
    let (mm, end) = if byte(b, i + 3) == Some(b':') {
        (digits(b, i + 4, 2)?, i + 6)
    } else if let Some(mm) = digits(b, i + 3, 2) {
        (mm, i + 5)
    } else if short_ok {
        (0, i + 3)
    } else {
        return None;
    };
    if hh > 23 || mm > 59 || is_digit_at(b, end) {
        return None;
    }
    Some((sign * (hh * 3600 + mm * 60) as i32, end))
}

/// The zone after an ISO clock ending at `i`: (offset seconds, end). No zone is UTC.
pub(super) fn parse_iso_zone(b: &[u8], i: usize) -> (i32, usize) {
    match byte(b, i) {
        Some(b'Z' | b'z') => (0, i + 1),
        Some(b'+' | b'-') => parse_offset(b, i, true).unwrap_or((0, i)),
        Some(b' ') => parse_offset(b, i + 1, false).unwrap_or((0, i)),
        _ => (0, i),
    }
}

// ---------------------------------------------------------------------------------
// Formats

/// `1520520148.130` at offset 0, not followed by a digit.
pub(super) fn parse_epoch_prefix(b: &[u8]) -> Option<DateTime<Utc>> {
    if byte(b, 10)? != b'.' || is_digit_at(b, 14) {
        return None;
    }
    let hi = digits(b, 0, 5)?;
    let lo = digits(b, 5, 5)?;
    let ms = digits(b, 11, 3)?;
    DateTime::from_timestamp(i64::from(hi) * 100_000 + i64::from(lo), ms * 1_000_000)
}

/// Given a clock at `t`, looks just before it for a date and parses the whole stamp.
pub(super) fn parse_around_clock(
    b: &[u8],
    t: usize,
    event_time: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match byte(b, t.checked_sub(1)?)? {
        b'T' | b't' => parse_iso(b, t.checked_sub(11)?).map(|(d, _)| d),
        b':' => {
            // CLF: two-digit day at t-12, or one-digit day at t-11.
            t.checked_sub(12)
                .and_then(|s| parse_clf(b, s))
                .or_else(|| parse_clf(b, t.checked_sub(11)?))
                .map(|(d, _)| d)
        }
        b' ' => t
            .checked_sub(11)
            .and_then(|s| parse_iso(b, s))
            // "Mon dd " / "Mon  d " start at t-7, "Mon d " at t-6.
            .or_else(|| {
                t.checked_sub(7)
                    .and_then(|s| parse_month_name(b, s, event_time))
            })
            .or_else(|| parse_month_name(b, t.checked_sub(6)?, event_time))
            .map(|(d, _)| d),
        _ => None,
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f][zone]` (or `/` between date parts) at `i`.
pub(super) fn parse_iso(b: &[u8], i: usize) -> Option<(DateTime<Utc>, usize)> {
    if !no_digit_before(b, i) {
        return None;
    }
    let year = digits(b, i, 4)?;
    let sep = byte(b, i + 4)?;
    if !(sep == b'-' || sep == b'/') || byte(b, i + 7)? != sep {
        return None;
    }
    let month = digits(b, i + 5, 2)?;
    let day = digits(b, i + 8, 2)?;
    if !matches!(byte(b, i + 10)?, b'T' | b't' | b' ') {
        return None;
    }
    let (clock, end) = parse_clock(b, i + 11)?;
    let (offset, end) = parse_iso_zone(b, end);
    let secs = epoch_secs(i64::from(year), month, day, clock, offset)?;
    Some((to_datetime(secs, clock)?, end))
}

/// CLF `dd/Mon/yyyy:HH:MM:SS[ +hhmm]` (day may be one digit) at `i`.
pub(super) fn parse_clf(b: &[u8], i: usize) -> Option<(DateTime<Utc>, usize)> {
    if !no_digit_before(b, i) {
        return None;
    }
    let (day, j) = match digits(b, i, 2) {
        Some(d) => (d, i + 2),
        None => (digits(b, i, 1)?, i + 1),
    };
    if byte(b, j)? != b'/' || byte(b, j + 4)? != b'/' || byte(b, j + 9)? != b':' {
        return None;
    }
    let month = month_number(b, j + 1)?;
    let year = digits(b, j + 5, 4)?;
    let (clock, end) = parse_clock(b, j + 10)?;
    let (offset, end) = match byte(b, end) {
        Some(b' ') => parse_offset(b, end + 1, false).unwrap_or((0, end)),
        _ => (0, end),
    };
    let secs = epoch_secs(i64::from(year), month, day, clock, offset)?;
    Some((to_datetime(secs, clock)?, end))
}

/// `Mon[ ]{1,2}d{1,2} HH:MM:SS[.f][ YYYY]` at `i` (syslog, and ctime after its
/// weekday). Without a year, the year nearest `event_time` is chosen.
pub(super) fn parse_month_name(
    b: &[u8],
    i: usize,
    event_time: DateTime<Utc>,
) -> Option<(DateTime<Utc>, usize)> {
    if i > 0 && byte(b, i - 1)?.is_ascii_alphanumeric() {
        return None;
    }
    let month = month_number(b, i)?;
    let mut j = i + 3;
    if byte(b, j)? != b' ' {
        return None;
    }
    j += 1;
    if byte(b, j)? == b' ' {
        j += 1;
    }
    let (day, j) = match digits(b, j, 2) {
        Some(d) => (d, j + 2),
        None => (digits(b, j, 1)?, j + 1),
    };
    if byte(b, j)? != b' ' {
        return None;
    }
    let (clock, end) = parse_clock(b, j + 1)?;
    if byte(b, end) == Some(b' ')
        && let Some(year) = digits(b, end + 1, 4)
        && !is_digit_at(b, end + 5)
    {
        let secs = epoch_secs(i64::from(year), month, day, clock, 0)?;
        return Some((to_datetime(secs, clock)?, end + 5));
    }
    Some((nearest_year(month, day, clock, event_time)?, end))
}

/// The stamp (month, day, clock) in the year before, of, or after `event_time` that is
/// closest to it; ties go to the event's own year.
pub(super) fn nearest_year(
    month: u32,
    day: u32,
    clock: Clock,
    event_time: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    // Distances in nanoseconds: i128 cannot overflow over chrono's whole range.
    let ev_secs = event_time.timestamp();
    let ev = i128::from(ev_secs) * 1_000_000_000 + i128::from(event_time.timestamp_subsec_nanos());
    let dist = |secs: i64| (i128::from(secs) * 1_000_000_000 + i128::from(clock.nano) - ev).abs();
    const HALF_YEAR: i128 = 182 * 86_400 * 1_000_000_000;
    let y = i64::from(event_time.year());
    let same = epoch_secs(y, month, day, clock, 0);
    // Within 182 days, the other years are at least 183 days away: done.
    if let Some(secs) = same
        && dist(secs) <= HALF_YEAR
    {
        return to_datetime(secs, clock);
    }
    let mut best = same;
    for year in [y - 1, y + 1] {
        // None for Feb 29 outside a leap year.
        if let Some(secs) = epoch_secs(year, month, day, clock, 0)
            && best.is_none_or(|b| dist(secs) < dist(b))
        {
            best = Some(secs);
        }
    }
    to_datetime(best?, clock)
}

pub(super) fn from_epoch_integer(i: i64) -> Option<DateTime<Utc>> {
    if i as f64 > MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(i)
    } else {
        DateTime::from_timestamp(i, 0)
    }
}

pub(super) fn from_epoch_float(f: f64) -> Option<DateTime<Utc>> {
    // Rounded to whole microseconds: an f64 epoch carries about 0.2 µs of precision,
    // so this recovers the written digits (1520520148.130 → .130, not .129999…).
    let micros = if f > MILLIS_THRESHOLD {
        f * 1e3
    } else {
        f * 1e6
    }
    .round();
    if !micros.is_finite() || micros.abs() >= 9.0e18 {
        return None;
    }
    DateTime::from_timestamp_micros(micros as i64)
}

/// A string that is only a decimal epoch with at least nine integer digits.
pub(super) fn parse_numeric_string(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if int_len < 9 {
        return None;
    }
    match b.get(int_len) {
        None => from_epoch_integer(s.parse().ok()?),
        Some(b'.') if b.len() > int_len + 1 && b[int_len + 1..].iter().all(u8::is_ascii_digit) => {
            from_epoch_float(s.parse().ok()?)
        }
        _ => None,
    }
}

/// Exactly `YYYY-MM-DD`: midnight UTC.
pub(super) fn parse_bare_date(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 10 || byte(b, 4)? != b'-' || byte(b, 7)? != b'-' {
        return None;
    }
    let midnight = Clock {
        hour: 0,
        minute: 0,
        second: 0,
        nano: 0,
    };
    let secs = epoch_secs(
        i64::from(digits(b, 0, 4)?),
        digits(b, 5, 2)?,
        digits(b, 8, 2)?,
        midnight,
        0,
    )?;
    to_datetime(secs, midnight)
}

pub(super) fn parse_rfc2822(s: &str) -> Option<DateTime<Utc>> {
    // Cheap pre-check (chrono's parser costs more than all of ours): RFC 2822 starts
    // with `Thu,` or with a one- or two-digit day and a space.
    let b = s.as_bytes();
    let shaped = match b {
        [a, _, _, b',', ..] => a.is_ascii_alphabetic(),
        [d, b' ', ..] | [d, _, b' ', ..] => d.is_ascii_digit(),
        _ => false,
    };
    if !shaped || s.len() < 20 {
        return None;
    }
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{find, fmt, found};
    use super::super::*;
    use chrono::TimeZone;

    // --- formats ---------------------------------------------------------------

    #[test]
    fn fluentd_with_offset() {
        assert_eq!(
            found("2018-03-08 14:41:57 +0000 app: hi"),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(
            found("2018-03-08 14:41:57 +0200 app: hi"),
            "2018-03-08T12:41:57.000Z"
        );
        assert_eq!(
            found("2018-03-08 14:41:57 -0530"),
            "2018-03-08T20:11:57.000Z"
        );
        assert_eq!(
            found("2018-03-08 14:41:57 +02:00"),
            "2018-03-08T12:41:57.000Z"
        );
    }

    #[test]
    fn ctime() {
        assert_eq!(found("Thu Mar 8 14:42:27 2018"), "2018-03-08T14:42:27.000Z");
        assert_eq!(
            found("Thu Mar  8 14:42:27 2018"),
            "2018-03-08T14:42:27.000Z"
        );
        assert_eq!(
            found("[Thu Mar 08 14:42:27 2018] [error] x"),
            "2018-03-08T14:42:27.000Z"
        );
        // The explicit year wins over event_time's year.
        assert_eq!(
            found("Thu Mar  8 14:42:27 2015 x"),
            "2015-03-08T14:42:27.000Z"
        );
    }

    #[test]
    fn ctime_fraction() {
        assert_eq!(
            found("[Thu Mar 08 14:42:27.570065 2018] [core:error]"),
            "2018-03-08T14:42:27.570Z"
        );
        let t = find("Thu Mar 08 14:42:27.570065 2018").unwrap();
        assert_eq!(t.timestamp_subsec_nanos(), 570_065_000);
    }

    #[test]
    fn clf() {
        let line = r#"10.0.0.1 - - [08/Mar/2018:14:42:27 +0000] "GET / HTTP/1.1" 200 612"#;
        assert_eq!(found(line), "2018-03-08T14:42:27.000Z");
        assert_eq!(
            found("[08/Mar/2018:14:42:27 -0700]"),
            "2018-03-08T21:42:27.000Z"
        );
        assert_eq!(
            found("at 8/Mar/2018:14:42:27 x"),
            "2018-03-08T14:42:27.000Z"
        );
        assert_eq!(found("08/Mar/2018:14:42:27"), "2018-03-08T14:42:27.000Z");
        assert_eq!(
            found("08/mar/2018:14:42:27 +0100"),
            "2018-03-08T13:42:27.000Z"
        );
    }

    #[test]
    fn syslog_takes_event_year() {
        assert_eq!(
            found("Apr 8 14:42:01 host sshd[1]: x"),
            "2018-04-08T14:42:01.000Z"
        );
        assert_eq!(
            found("Apr  8 14:42:01 host sshd[1]: x"),
            "2018-04-08T14:42:01.000Z"
        );
        assert_eq!(found("Apr 18 14:42:01 host"), "2018-04-18T14:42:01.000Z");
        assert_eq!(
            found("<13>Mar  8 14:42:01 host"),
            "2018-03-08T14:42:01.000Z"
        );
    }

    #[test]
    fn syslog_year_turn() {
        let jan1 = Utc.with_ymd_and_hms(2019, 1, 1, 0, 0, 5).unwrap();
        let t = find_in_text("Dec 31 23:59:59 host x", jan1).unwrap();
        assert_eq!(fmt(t), "2018-12-31T23:59:59.000Z");
        let dec31 = Utc.with_ymd_and_hms(2018, 12, 31, 23, 59, 58).unwrap();
        let t = find_in_text("Jan  1 00:00:01 host x", dec31).unwrap();
        assert_eq!(fmt(t), "2019-01-01T00:00:01.000Z");
        // Closest wins, both ways: from Dec 31, Aug 1 is this year's, Jun 1 next year's.
        let t = find_in_text("Aug  1 00:00:01 host x", dec31).unwrap();
        assert_eq!(fmt(t), "2018-08-01T00:00:01.000Z");
        let t = find_in_text("Jun  1 00:00:01 host x", dec31).unwrap();
        assert_eq!(fmt(t), "2019-06-01T00:00:01.000Z");
    }

    #[test]
    fn results_stay_in_four_digit_years() {
        let y0 = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(find_in_text("Dec 31 23:59:59 h", y0), None);
        assert_eq!(find_in_text("0000-01-01T00:30:00+01:00", y0), None);
        assert_eq!(
            fmt(find_in_text("0000-01-01T00:30:00Z", y0).unwrap()),
            "0000-01-01T00:30:00.000Z"
        );
        let y9999 = Utc.with_ymd_and_hms(9999, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(find_in_text("Jan  1 00:00:00 h", y9999), None);
        assert_eq!(find_in_text("9999-12-31T23:30:00-01:00", y9999), None);
        // A rejected candidate does not hide a later one.
        assert_eq!(
            fmt(find_in_text("Jan  1 00:00:00 h 9999-12-31T23:30:00Z", y9999).unwrap()),
            "9999-12-31T23:30:00.000Z"
        );
    }

    #[test]
    fn syslog_feb_29() {
        // 2020 is a leap year; the event in 2021-01 is nearest to 2020-02-29.
        let e = Utc.with_ymd_and_hms(2021, 1, 10, 0, 0, 0).unwrap();
        assert_eq!(
            fmt(find_in_text("Feb 29 10:00:00 h", e).unwrap()),
            "2020-02-29T10:00:00.000Z"
        );
        // No leap year among 2017, 2018, 2019: no match.
        assert_eq!(find("Feb 29 10:00:00 h"), None);
    }

    #[test]
    fn squid_epoch() {
        assert_eq!(
            found(
                "1520520148.130    112 10.0.0.1 TCP_MISS/200 1234 GET http://x/ - DIRECT/1.2.3.4 text/html"
            ),
            "2018-03-08T14:42:28.130Z"
        );
        assert_eq!(found("1520520148.130"), "2018-03-08T14:42:28.130Z");
        // Only at the start, and exactly 10.3 digits.
        assert_eq!(find("x 1520520148.130 y"), None);
        assert_eq!(find("1520520148.1301 y"), None);
        assert_eq!(find("15205201480.130 y"), None);
        assert_eq!(find("1520520148.13 y"), None);
    }

    #[test]
    fn iso_variants() {
        assert_eq!(found("2018-03-08T14:41:57Z"), "2018-03-08T14:41:57.000Z");
        assert_eq!(
            found("2018-03-08T14:41:57.123+02:00"),
            "2018-03-08T12:41:57.123Z"
        );
        assert_eq!(
            found("2018-03-08T14:41:57.123+0200"),
            "2018-03-08T12:41:57.123Z"
        );
        assert_eq!(found("2018-03-08T14:41:57+02"), "2018-03-08T12:41:57.000Z");
        assert_eq!(
            found("2018-03-08T14:41:57.123456789Z"),
            "2018-03-08T14:41:57.123Z"
        );
        assert_eq!(
            find("2018-03-08T14:41:57.123456789Z")
                .unwrap()
                .timestamp_subsec_nanos(),
            123_456_789
        );
        assert_eq!(
            find("2018-03-08T14:41:57.1234567891234Z")
                .unwrap()
                .timestamp_subsec_nanos(),
            123_456_789
        );
        assert_eq!(
            found("2018-03-08 14:41:57,123 INFO main"),
            "2018-03-08T14:41:57.123Z"
        );
        assert_eq!(found("2018-03-08T14:41:57"), "2018-03-08T14:41:57.000Z");
        assert_eq!(found("2018-03-08t14:41:57z"), "2018-03-08T14:41:57.000Z");
        assert_eq!(
            found("2018/03/08 14:41:57 [error] 7#7: x"),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(
            found("2018-03-08T23:30:00-01:00"),
            "2018-03-09T00:30:00.000Z"
        );
        assert_eq!(found("2018-03-08T14:41:57.5Z"), "2018-03-08T14:41:57.500Z");
    }

    #[test]
    fn malformed_zone_is_ignored_not_fatal() {
        // A bad offset leaves the time as UTC rather than dropping it.
        assert_eq!(
            found("2018-03-08T14:41:57+2500"),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(
            found("2018-03-08 14:41:57 +00001"),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(found("2018-03-08 14:41:57 -"), "2018-03-08T14:41:57.000Z");
        assert_eq!(
            found("2018-03-08 14:41:57 - 12 items"),
            "2018-03-08T14:41:57.000Z"
        );
    }

    // --- invalid -----------------------------------------------------------------

    #[test]
    fn invalid_dates_do_not_match() {
        for s in [
            "2018-02-30T14:41:57Z",
            "2018-13-08T14:41:57Z",
            "2018-00-08T14:41:57Z",
            "2018-03-08T25:41:57Z",
            "2018-03-08T24:00:00Z",
            "2018-03-08T14:60:57Z",
            "2018-03-08T14:41:60Z",
            "2018-03-08T14:41Z",
            "2018-03-08T4:41:57Z",
            "2018-03-08X14:41:57Z",
            "2018-03/08T14:41:57Z",
            "30/Feb/2018:14:42:27 +0000",
            "08/Foo/2018:14:42:27 +0000",
            "Foo  8 14:42:01 host",
            "Feb 30 14:42:01 host",
            "Apr 31 14:42:01 host",
            "Mar 32 14:42:01 host",
            "Mar 0 14:42:01 host",
            "Mar 8 25:42:01 host",
            "Thu Foo  8 14:42:27 2018",
            "12018-03-08T14:41:57Z",
            "2018-03-08T14:41:579",
            "XMar  8 14:42:01 host",
            "Mar   8 14:42:01 host",
            "Mar 8  14:42:01 host",
            "March 8 14:42:01 host",
            "108/Mar/2018:14:42:27 +0000",
            "2018-03-08",
            "14:42:01",
            "build 1.2.3 at 12:34:56",
        ] {
            assert_eq!(find(s), None, "{s:?}");
        }
    }

    #[test]
    fn invalid_candidate_does_not_hide_later_valid_one() {
        assert_eq!(
            found("2018-02-30T14:41:57Z then 2018-03-08T14:41:57Z"),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(
            found("up 12:34:56, then Apr  8 14:42:01 h"),
            "2018-04-08T14:42:01.000Z"
        );
    }

    // --- position ------------------------------------------------------------------

    #[test]
    fn mid_line() {
        assert_eq!(
            found("level=info ts=2018-03-08T14:41:57.001Z msg=ok"),
            "2018-03-08T14:41:57.001Z"
        );
        assert_eq!(
            found(r#"{"a":1,"b":"x","t":"2018-03-08T14:41:57Z"}"#),
            "2018-03-08T14:41:57.000Z"
        );
    }

    #[test]
    fn earliest_position_wins() {
        assert_eq!(
            found(
                "Apr  8 14:42:01 host app: 2018-03-08T14:41:57Z done at 08/Mar/2018:14:42:27 +0000"
            ),
            "2018-04-08T14:42:01.000Z"
        );
        assert_eq!(
            found("x 2017-01-01T00:00:00Z y [08/Mar/2018:14:42:27 +0000] Apr  8 14:42:01"),
            "2017-01-01T00:00:00.000Z"
        );
        assert_eq!(
            found("x [08/Mar/2018:14:42:27 +0000] 2017-01-01T00:00:00Z"),
            "2018-03-08T14:42:27.000Z"
        );
        // Squid epoch at the start beats a later ISO stamp.
        assert_eq!(
            found("1520520148.130 2017-01-01T00:00:00Z"),
            "2018-03-08T14:42:28.130Z"
        );
    }

    #[test]
    fn empty_and_tiny() {
        for s in [
            "",
            ":",
            "::",
            "1",
            "0:00:00",
            "00:00:0",
            ":00:00:00",
            "Mar",
            "T00:00:00",
            " 00:00:00",
        ] {
            assert_eq!(find(s), None, "{s:?}");
        }
    }

    #[test]
    fn non_ascii_next_to_digits() {
        assert_eq!(found("é2018-03-08T14:41:57Zé"), "2018-03-08T14:41:57.000Z");
        assert_eq!(
            found("日志2018-03-08 14:41:57,5日志"),
            "2018-03-08T14:41:57.500Z"
        );
        assert_eq!(found("→Apr  8 14:42:01→"), "2018-04-08T14:42:01.000Z");
        assert_eq!(
            found("ü[08/Mar/2018:14:42:27 +0000]ü"),
            "2018-03-08T14:42:27.000Z"
        );
        assert_eq!(find("١٢:٣٤:٥٦ 2018-03-08T14:41:5٧Z"), None);
        assert_eq!(
            find("2018-03-08T14:41:57\u{0301}"),
            find("2018-03-08T14:41:57")
        );
        assert_eq!(find("Mär  8 14:42:01"), None);
        assert_eq!(find("😀:😀:😀"), None);
    }

    #[test]
    fn very_long_lines() {
        let mut s = "x".repeat(1 << 20);
        assert_eq!(find(&s), None);
        s.push_str(" 2018-03-08T14:41:57Z");
        assert_eq!(found(&s), "2018-03-08T14:41:57.000Z");
        let colons = "1:2:3 ab:cd 12:34: ".repeat(50_000);
        assert_eq!(find(&colons), None);
        let digits = "9".repeat(100_000);
        assert_eq!(find(&digits), None);
        let frac = format!("2018-03-08T14:41:57.{}Z", "1".repeat(10_000));
        assert_eq!(found(&frac), "2018-03-08T14:41:57.111Z");
    }
}

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
//! 0000..=9999 (UTC) are returned, the ones RFC 3339 and OpenSearch can hold.

use chrono::{DateTime, Datelike, Timelike, Utc};

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
const MILLIS_THRESHOLD: f64 = 1e11;

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

/// Appends `t` as RFC 3339 UTC with milliseconds, e.g. `2018-03-08T14:41:57.000Z`, to
/// `out`. Sub-millisecond digits are truncated, never rounded up. Years outside
/// 0000..=9999 (only reachable from extreme epoch values) are written the way chrono
/// writes them (`+10000-…`).
pub fn write_rfc3339_millis(out: &mut String, t: DateTime<Utc>) {
    match Rfc3339Millis::new(t) {
        Some(text) => out.push_str(text.as_str()),
        None => {
            use std::fmt::Write;
            let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        }
    }
}

/// `t` as RFC 3339 UTC with milliseconds (`2018-03-08T14:41:57.000Z`), held on the
/// stack: what [`write_rfc3339_millis`] writes, without a `String` per time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339Millis([u8; 24]);

impl Rfc3339Millis {
    /// None for years outside 0000..=9999.
    pub fn new(t: DateTime<Utc>) -> Option<Self> {
        let n = t.naive_utc();
        let year = u32::try_from(n.year()).ok().filter(|y| *y <= 9999)?;
        // A leap second carries nanoseconds >= 1e9; cap so it stays three digits.
        let millis = (n.nanosecond() / 1_000_000).min(999);
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        put2(&mut buf, 0, year / 100);
        put2(&mut buf, 2, year);
        put2(&mut buf, 5, n.month());
        put2(&mut buf, 8, n.day());
        put2(&mut buf, 11, n.hour());
        put2(&mut buf, 14, n.minute());
        put2(&mut buf, 17, n.second());
        buf[20] = b'0' + (millis / 100) as u8;
        put2(&mut buf, 21, millis);
        Some(Self(buf))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or("1970-01-01T00:00:00.000Z")
    }
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
fn rfc3339_range(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (MIN_SECS..=MAX_SECS).contains(&t.timestamp()).then_some(t)
}

// ---------------------------------------------------------------------------------
// Byte helpers (all bounds-checked)

const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes the last two decimal digits of `v` at `buf[at..at + 2]`.
#[inline]
fn put2(buf: &mut [u8; 24], at: usize, v: u32) {
    let i = (v % 100) as usize * 2;
    buf[at] = PAIRS[i];
    buf[at + 1] = PAIRS[i + 1];
}

/// The index of the first `:` at or after `from`: eight bytes at a time (SWAR), which
/// beats `str::find` on the short lines that are the common case.
fn find_colon(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const COLONS: u64 = LO * b':' as u64;
    // Flags the zero bytes of `x`; the lowest flag is exactly the first zero byte
    // (borrows only create false flags above a true zero).
    let zeros = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w) ^ COLONS
    };
    // Sixteen bytes per step while no colon is seen, then eight.
    while let Some(chunk) = b.get(i..i + 16) {
        let (lo, hi) = chunk.split_at(8);
        if zeros(word(lo)) | zeros(word(hi)) != 0 {
            break;
        }
        i += 16;
    }
    while let Some(chunk) = b.get(i..i + 8) {
        let z = zeros(word(chunk));
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| c == b':').map(|k| i + k)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch seconds of a local date and clock, validated; `offset` is seconds east.
fn epoch_secs(y: i64, m: u32, d: u32, c: Clock, offset: i32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let sod = i64::from(c.hour * 3600 + c.minute * 60 + c.second);
    Some(days_from_civil(y, m, d) * 86_400 + sod - i64::from(offset))
}

fn to_datetime(secs: i64, c: Clock) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, c.nano)
}

#[inline]
fn byte(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

#[inline]
fn is_digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// The number written by exactly `n` ASCII digits at `i`.
#[inline]
fn digits(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let s = b.get(i..i.checked_add(n)?)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// True when the byte before `i` (if any) is not a digit.
#[inline]
fn no_digit_before(b: &[u8], i: usize) -> bool {
    i == 0 || !is_digit_at(b, i - 1)
}

/// `dd:dd:dd` at `i`: the cheap filter run at each colon.
#[inline]
fn is_clock(b: &[u8], i: usize) -> bool {
    match b.get(i..i + 8) {
        Some(s) => {
            s[0].is_ascii_digit()
                && s[1].is_ascii_digit()
                && s[3].is_ascii_digit()
                && s[4].is_ascii_digit()
                && s[5] == b':'
                && s[6].is_ascii_digit()
                && s[7].is_ascii_digit()
        }
        None => false,
    }
}

fn month_number(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(i..i + 3)?;
    let m = [s[0] | 0x20, s[1] | 0x20, s[2] | 0x20];
    Some(match &m {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------
// Pieces

/// A parsed clock `HH:MM:SS[.fraction]`.
#[derive(Clone, Copy)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nano: u32,
}

/// Parses a clock at `i`; returns it and the index just past it. Rejects a clock glued
/// to a following digit.
fn parse_clock(b: &[u8], i: usize) -> Option<(Clock, usize)> {
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
fn parse_offset(b: &[u8], i: usize, short_ok: bool) -> Option<(i32, usize)> {
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
fn parse_iso_zone(b: &[u8], i: usize) -> (i32, usize) {
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
fn parse_epoch_prefix(b: &[u8]) -> Option<DateTime<Utc>> {
    if byte(b, 10)? != b'.' || is_digit_at(b, 14) {
        return None;
    }
    let hi = digits(b, 0, 5)?;
    let lo = digits(b, 5, 5)?;
    let ms = digits(b, 11, 3)?;
    DateTime::from_timestamp(i64::from(hi) * 100_000 + i64::from(lo), ms * 1_000_000)
}

/// Given a clock at `t`, looks just before it for a date and parses the whole stamp.
fn parse_around_clock(b: &[u8], t: usize, event_time: DateTime<Utc>) -> Option<DateTime<Utc>> {
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
fn parse_iso(b: &[u8], i: usize) -> Option<(DateTime<Utc>, usize)> {
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
fn parse_clf(b: &[u8], i: usize) -> Option<(DateTime<Utc>, usize)> {
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
fn parse_month_name(
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
fn nearest_year(
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

fn from_epoch_integer(i: i64) -> Option<DateTime<Utc>> {
    if i as f64 > MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(i)
    } else {
        DateTime::from_timestamp(i, 0)
    }
}

fn from_epoch_float(f: f64) -> Option<DateTime<Utc>> {
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
fn parse_numeric_string(s: &str) -> Option<DateTime<Utc>> {
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
fn parse_bare_date(b: &[u8]) -> Option<DateTime<Utc>> {
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

fn parse_rfc2822(s: &str) -> Option<DateTime<Utc>> {
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
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::json;

    fn ev() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 3, 9, 0, 0, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn find(s: &str) -> Option<DateTime<Utc>> {
        find_in_text(s, ev())
    }

    fn fmt(t: DateTime<Utc>) -> String {
        let mut s = String::new();
        write_rfc3339_millis(&mut s, t);
        s
    }

    fn found(s: &str) -> String {
        fmt(find(s).unwrap_or_else(|| panic!("no time in {s:?}")))
    }

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

    // --- formatting ---------------------------------------------------------------

    #[test]
    fn write_truncates_millis() {
        assert_eq!(
            fmt(utc("2018-03-08T14:41:57.999999999Z")),
            "2018-03-08T14:41:57.999Z"
        );
        assert_eq!(
            fmt(utc("2018-12-31T23:59:59.9999Z")),
            "2018-12-31T23:59:59.999Z"
        );
        assert_eq!(
            fmt(utc("2018-03-08T14:41:57.0009Z")),
            "2018-03-08T14:41:57.000Z"
        );
        assert_eq!(fmt(utc("2018-03-08T14:41:57Z")), "2018-03-08T14:41:57.000Z");
    }

    #[test]
    fn write_appends_and_pads() {
        let mut s = String::from("x=");
        write_rfc3339_millis(&mut s, utc("0099-01-02T03:04:05.006Z"));
        assert_eq!(s, "x=0099-01-02T03:04:05.006Z");
        assert_eq!(
            fmt(utc("9999-12-31T23:59:59.999Z")),
            "9999-12-31T23:59:59.999Z"
        );
        // Outside four-digit years: chrono's own rendering, no panic.
        let far = from_epoch_millis(300_000_000_000_000).unwrap();
        assert!(fmt(far).starts_with("+1"), "{}", fmt(far));
        let past = from_epoch_millis(-100_000_000_000_000).unwrap();
        assert!(fmt(past).starts_with('-'), "{}", fmt(past));
    }

    #[test]
    fn write_leap_second_stays_three_digits() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1500)
            .unwrap()
            .and_utc();
        assert_eq!(fmt(leap), "2016-12-31T23:59:59.999Z");
    }

    #[test]
    fn epoch_millis() {
        assert_eq!(
            fmt(from_epoch_millis(1520520148130).unwrap()),
            "2018-03-08T14:42:28.130Z"
        );
        assert_eq!(
            fmt(from_epoch_millis(-1).unwrap()),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(from_epoch_millis(i64::MAX), None);
        assert_eq!(from_epoch_millis(i64::MIN), None);
    }

    /// (year, month, day) of days since 1970-01-01 (inverse of `days_from_civil`).
    fn civil_from_days(z: i64) -> (i64, u32, u32) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    #[test]
    fn calendar_matches_chrono() {
        for days in (-800_000..3_000_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            let c = chrono::NaiveDate::from_ymd_opt(y as i32, m, d).unwrap();
            assert_eq!(
                c.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                    .num_days(),
                days
            );
            assert_eq!(days_from_civil(y, m, d), days);
        }
        for y in [1900, 2000, 2019, 2020, 2100] {
            for m in 1..=12 {
                let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let len = chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1).unwrap()
                    - chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap();
                assert_eq!(
                    i64::from(days_in_month(i64::from(y), m)),
                    len.num_days(),
                    "{y}-{m}"
                );
            }
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

    // --- micro-benchmark ----------------------------------------------------------
    // cargo test --release --lib timestamp::tests::bench -- --ignored --nocapture
    // Best of 200 batches, so other load on the machine mostly drops out.

    pub(super) fn ns_per_op(mut f: impl FnMut()) -> f64 {
        let mut best = f64::MAX;
        for _ in 0..200 {
            let n = 10_000u32;
            let start = std::time::Instant::now();
            for _ in 0..n {
                f();
            }
            best = best.min(start.elapsed().as_nanos() as f64 / f64::from(n));
        }
        best
    }

    #[test]
    #[ignore = "micro-benchmark; run with --release"]
    fn bench() {
        use std::hint::black_box;
        let pad = |s: &str| {
            let mut s = s.to_string();
            while s.len() < 1024 {
                s.push_str(" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\" rt=0.123 ua=\"curl/7.58.0\" host=example.org:443");
            }
            s
        };
        let cases = [
            ("nginx 1KB", pad(r#"10.0.0.1 - - [08/Mar/2018:14:42:27 +0000] "GET /index.html HTTP/1.1" 200 612 "-""#)),
            ("no time 1KB", pad("GET /index.html 200 612 level=info msg=\"request done\" user=alice")),
            ("no time 1KB json", pad(r#"{"level":"info","msg":"request done","user":"alice","status":200,"path":"/a:b","#)),
            ("syslog", "Apr  8 14:42:01 ip-10-0-0-1 sshd[1234]: Accepted publickey for ec2-user from 10.0.0.2 port 52722 ssh2".to_string()),
            ("fluentd", "2018-03-08 14:41:57 +0000 [info]: #0 fluentd worker is now running worker=0".to_string()),
            ("iso json 1KB", pad(r#"{"level":"info","time":"2018-03-08T14:41:57.123Z","msg":"x"}"#)),
            ("squid", "1520520148.130    112 10.0.0.1 TCP_MISS/200 1234 GET http://x/ - DIRECT/1.2.3.4 text/html".to_string()),
        ];
        let e = ev();
        for (name, line) in &cases {
            let ns = ns_per_op(|| {
                black_box(find_in_text(black_box(line), e));
            });
            println!(
                "{name:>16} ({:>4} B): {ns:6.1} ns/op -> {:?}",
                line.len(),
                find_in_text(line, e)
            );
        }
        let mut out = String::with_capacity(64);
        let ns = ns_per_op(|| {
            out.clear();
            write_rfc3339_millis(black_box(&mut out), black_box(e));
        });
        println!("write_rfc3339_millis: {ns:.1} ns/op");
        let v = json!("2018-03-08T14:41:57.123Z");
        let ns = ns_per_op(|| {
            black_box(parse_json_value(black_box(&v), e));
        });
        println!("parse_json_value(ISO string): {ns:.1} ns/op");
        let v = json!(1520520148.13);
        let ns = ns_per_op(|| {
            black_box(parse_json_value(black_box(&v), e));
        });
        println!("parse_json_value(float): {ns:.1} ns/op");
    }
}

//! Writing a time as RFC 3339 UTC with milliseconds, without formatting machinery.

use chrono::{DateTime, Datelike, Timelike, Utc};

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

    /// The 24 bytes of the text.
    pub fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or("1970-01-01T00:00:00.000Z")
    }
}

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

#[cfg(test)]
mod tests {
    use super::super::from_epoch_millis;
    use super::super::tests::{fmt, utc};
    use super::*;

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
}

//! The proleptic Gregorian calendar: a validated date and clock to epoch seconds.

use chrono::{DateTime, Utc};

/// A parsed clock `HH:MM:SS[.fraction]`.
#[derive(Clone, Copy)]
pub(super) struct Clock {
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    pub(super) nano: u32,
}

pub(super) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub(super) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's algorithm).
pub(super) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch seconds of a local date and clock, validated; `offset` is seconds east.
pub(super) fn epoch_secs(y: i64, m: u32, d: u32, c: Clock, offset: i32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let sod = i64::from(c.hour * 3600 + c.minute * 60 + c.second);
    Some(days_from_civil(y, m, d) * 86_400 + sod - i64::from(offset))
}

pub(super) fn to_datetime(secs: i64, c: Clock) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, c.nano)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Numbers for the one-pass message path ([`super::fast`]): the integers it copies
//! through as they are, and the floats it writes back as serde_json does. (The end of a
//! run of plain string bytes is [`crate::json_bytes::plain_run`].)

use serde_json::Number;

/// An integer serde_json reads as `u64`/`i64` and writes back as it is: no leading zero,
/// not `-0`, no fraction or exponent, in range.
pub(super) fn integer_ok(n: &[u8]) -> Option<()> {
    let digits = n.strip_prefix(b"-").unwrap_or(n);
    let negative = digits.len() != n.len();
    let ok = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || (digits.len() == 1 && !negative))
        && digits.len() <= if negative { 18 } else { 19 };
    ok.then_some(())
}

/// A number with a fraction or an exponent, as serde_json reads it (always a float,
/// parsed by the tree path's own parser); `None` when it is not one or is out of range.
fn float(n: &[u8]) -> Option<f64> {
    if !n.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return None;
    }
    serde_json::from_slice(n).ok()
}

/// Appends a number as the tree path writes it back: an integer as it is
/// ([`integer_ok`]), a float as serde_json writes the `f64` it reads (shortest form:
/// `0.10` → `0.1`, `1e3` → `1000.0`); `None` for any other number (`-0`, integers out
/// of range).
pub(super) fn write_number(n: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if integer_ok(n).is_some() {
        out.extend_from_slice(n);
    } else {
        // A finite f64 always serializes.
        serde_json::to_writer(&mut *out, &float(n)?).ok()?;
    }
    Some(())
}

/// A number's value as the tree path holds it (time fields read it).
pub(super) fn number(text: &str) -> Option<Number> {
    int_number(text).or_else(|| Number::from_f64(float(text.as_bytes())?))
}

pub(super) fn int_number(text: &str) -> Option<Number> {
    integer_ok(text.as_bytes())?;
    if text.starts_with('-') {
        text.parse::<i64>().ok().map(Number::from)
    } else {
        text.parse::<u64>().ok().map(Number::from)
    }
}

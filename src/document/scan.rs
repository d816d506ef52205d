//! Byte scanning for the one-pass message path ([`super::fast`]): the end of a run of
//! plain string bytes, 8 bytes at a time (SWAR), the integers it copies through as they
//! are, and the floats it writes back as serde_json does.

use serde_json::Number;

/// Bytes a JSON string copies through as they are (not `"`, `\`, or a control byte).
const PLAIN: [bool; 256] = {
    let mut t = [true; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = false;
        i += 1;
    }
    t[b'"' as usize] = false;
    t[b'\\' as usize] = false;
    t
};

/// The end of the run of [`PLAIN`] bytes from `i`: 8 bytes at a time (SWAR), then byte
/// by byte. In a word, the lowest byte flagged by these tests is always a true match
/// (a false flag can only sit above a true one), so the first match is exact.
pub(super) fn plain_run(s: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = s.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(bytes);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while s.get(i).is_some_and(|&b| PLAIN[b as usize]) {
        i += 1;
    }
    i
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_runs_stop_at_the_first_quote_backslash_or_control_byte() {
        for text in [
            "",
            "abc",
            "abcdefghijklmnop\"",
            "abcdefgh\\ijk",
            "ab\u{1f}cdefghijkl",
            "é\u{7f}ÿabcdefgh\"x",
            "\"",
            "0123456\u{0}",
        ] {
            let b = text.as_bytes();
            for start in 0..=b.len() {
                let expected = b[start..]
                    .iter()
                    .position(|&c| !PLAIN[c as usize])
                    .map_or(b.len(), |p| start + p);
                assert_eq!(plain_run(b, start), expected, "{text:?} from {start}");
            }
        }
    }
}

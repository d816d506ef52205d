//! Bounds-checked byte helpers for the time finder: no input can make them panic.

/// The index of the first `:` at or after `from`: eight bytes at a time (SWAR), which
/// beats `str::find` on the short lines that are the common case.
pub(super) fn find_colon(b: &[u8], mut i: usize) -> Option<usize> {
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

#[inline]
pub(super) fn byte(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

#[inline]
pub(super) fn is_digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// The number written by exactly `n` ASCII digits at `i`.
#[inline]
pub(super) fn digits(b: &[u8], i: usize, n: usize) -> Option<u32> {
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
pub(super) fn no_digit_before(b: &[u8], i: usize) -> bool {
    i == 0 || !is_digit_at(b, i - 1)
}

/// `dd:dd:dd` at `i`: the cheap filter run at each colon.
#[inline]
pub(super) fn is_clock(b: &[u8], i: usize) -> bool {
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

pub(super) fn month_number(b: &[u8], i: usize) -> Option<u32> {
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

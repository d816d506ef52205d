//! The members of an object the one-pass path writes ([`super::Writer`]): where each key
//! is, the check that the `.` → `_` rewrite made no two keys the same, and putting the
//! members of an object whose keys came unsorted in key order, in place.
//!
//! Most loggers write keys in an order of their own (nginx's `log_format`, CloudTrail,
//! fluentd); the tree path sorts them. Here the object is written as it is read, then its
//! members are put in the order of their keys as read (as the tree sorts, before the
//! rewrite): one copy of the object's bytes, no tree.

use std::cell::Cell;

use super::{CLOUDTRAIL_TEXT_FIELDS, KEEP_BYTES, Writer};

thread_local! {
    /// The bytes of an object whose members are being put in key order, and their order,
    /// kept from one object to the next (taken while in use: an object written again
    /// inside it, as text, finds them empty).
    static SORTING: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static SORT_KEYS: Cell<Vec<(u128, usize)>> = const { Cell::new(Vec::new()) };
}

/// An object member written to the output: its key's span there (the text between the
/// quotes), where the key is in the message (as read: the same length), and whether
/// `.` → `_` changed it. Where its value ends is known from the next member's key
/// (before its `,"`), or the object's end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Member {
    pub(super) key_start: usize,
    pub(super) key_end: usize,
    pub(super) src_start: usize,
    pub(super) rewritten: bool,
}

impl Member {
    /// The key as written.
    pub(super) fn key<'o>(&self, out: &'o [u8]) -> &'o [u8] {
        &out[self.key_start..self.key_end]
    }

    /// The key as read: what the tree sorts by.
    pub(super) fn read<'m>(&self, src: &'m [u8]) -> &'m [u8] {
        &src[self.src_start..self.src_start + (self.key_end - self.key_start)]
    }
}

impl Writer<'_> {
    /// Puts the members of the object being closed (from `base` on the stack; its `{`
    /// written, not its `}`) in the order of their keys as read, as the tree path writes
    /// them; `None` on a repeated key. At the top, the header's spans are noted again
    /// where the values now are, and a CloudTrail free-form field written as a plain
    /// value before the last marker was read is written again, as text.
    pub(super) fn sort_members(&mut self, out: &mut Vec<u8>, base: usize, top: bool) -> Option<()> {
        let src = self.src;
        let members = &self.members[base..];
        let count = members.len();
        // The object's bytes after its `{`, from the first member's opening quote.
        let from = members.first()?.key_start - 1;
        // The members in key order: (the key's first 16 bytes, for cheap comparisons;
        // the member's index). Keys hold no NUL byte (a control byte gives up), so a
        // shorter key padded with zeros sorts first, as it should.
        let mut order = SORT_KEYS.take();
        if order.capacity() * std::mem::size_of::<(u128, usize)>() > KEEP_BYTES {
            order = Vec::new();
        }
        order.clear();
        order.extend(members.iter().enumerate().map(|(i, m)| {
            let key = m.read(src);
            let mut prefix = [0u8; 16];
            let n = key.len().min(16);
            prefix[..n].copy_from_slice(&key[..n]);
            (u128::from_be_bytes(prefix), i)
        }));
        let key = |i: usize| members[i].read(src);
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(key(b.1))));
        if order
            .windows(2)
            .any(|w| w[0].0 == w[1].0 && key(w[0].1) == key(w[1].1))
        {
            SORT_KEYS.set(order);
            return None;
        }
        let as_text = top && self.text_fields_to_rewrite();
        let object_end = out.len();
        let mut written = SORTING.take();
        if written.capacity() > KEEP_BYTES {
            written = Vec::new();
        }
        written.clear();
        written.extend_from_slice(&out[from..]);
        out.truncate(from);
        if top {
            self.time.top = Default::default();
        }
        let end_of_message = self.pos;
        let mut whole = Some(());
        for (n, &(_, i)) in order.iter().enumerate() {
            // A copy: a field written again as text pushes members above these.
            let m = self.members[base + i];
            // Where it ends: before the next one's `,"`, or at the object's end.
            let end = if i + 1 < count {
                self.members[base + i + 1].key_start - 2
            } else {
                object_end
            };
            if n > 0 {
                out.push(b',');
            }
            let at = out.len();
            let key = m.read(src);
            // `"key":` starts at the key's opening quote; the value after it.
            let member = m.key_start - 1 - from;
            let value_at = m.key_end + 2 - from;
            if as_text
                && CLOUDTRAIL_TEXT_FIELDS.iter().any(|f| f.as_bytes() == key)
                && matches!(written.get(value_at), Some(b'{' | b'['))
            {
                out.extend_from_slice(&written[member..value_at]);
                // Read again from the message (after the key's closing quote).
                self.pos = m.src_start + key.len() + 1;
                whole = self.eat(b':').and_then(|()| self.as_text(out, 2));
                if whole.is_none() {
                    break;
                }
            } else {
                out.extend_from_slice(&written[member..end - from]);
            }
            if top {
                let key_start = at + 1;
                let key_end = key_start + (m.key_end - m.key_start);
                self.time
                    .top
                    .note(&out[key_start..key_end], key_end + 2, out.len());
            }
        }
        self.pos = end_of_message;
        SORT_KEYS.set(order);
        SORTING.set(written);
        whole
    }
}

/// Whether the keys of `members` (in `out`) are all different. A key repeated as read
/// is found apart (next to its repeat as read, or when the members are put in order), so
/// only a key the rewrite changed can equal another here: each of those is compared with
/// the others (no allocation), unless that is many comparisons.
pub(super) fn distinct(out: &[u8], members: &[Member]) -> bool {
    let rewritten = members.iter().filter(|m| m.rewritten).count();
    if rewritten.saturating_mul(members.len()) <= 256 {
        return members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.rewritten)
            .all(|(i, r)| {
                let r = r.key(out);
                members
                    .iter()
                    .enumerate()
                    .all(|(j, m)| i == j || m.key(out) != r)
            });
    }
    let mut keys: Vec<&[u8]> = members.iter().map(|m| m.key(out)).collect();
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

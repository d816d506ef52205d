//! Splitting a sequence of items into requests bounded by bytes and by item count.

use std::ops::Range;

/// Ranges of consecutive items, each at most `max_bytes` in total (an item larger than
/// that gets a range of its own) and at most `max_items` long. `lens` are item sizes.
pub fn ranges(
    lens: impl IntoIterator<Item = usize>,
    max_bytes: usize,
    max_items: usize,
) -> Vec<Range<usize>> {
    let max_items = max_items.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    let mut end = 0;
    for (i, len) in lens.into_iter().enumerate() {
        if i > start && (bytes + len > max_bytes || i - start >= max_items) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += len;
        end = i + 1;
    }
    if start < end {
        out.push(start..end);
    }
    out
}

//! The top of a message, as the one-pass path ([`super::Writer`]) reads it: the
//! CloudTrail markers, the time fields' values, and which fields are CloudTrail's
//! free-form fields.

use super::{CLOUDTRAIL_MARKERS, CLOUDTRAIL_TEXT_FIELDS, Field, TimeFields, Writer};
use crate::document::scan::number;

impl<'m> Writer<'m> {
    /// A top-level key: note CloudTrail markers and the time fields' values.
    pub(super) fn top_field(&mut self, key: &'m [u8]) -> Option<()> {
        if CLOUDTRAIL_MARKERS.iter().any(|m| m.as_bytes() == key) {
            self.markers += 1;
        }
        let slot = if key == b"log" {
            Some(TimeFields::LOG)
        } else {
            crate::timestamp::WELL_KNOWN_FIELDS
                .iter()
                .position(|k| k.as_bytes() == key)
        };
        if let Some(slot) = slot {
            self.skip_ws();
            let field = match self.peek()? {
                b'"' => {
                    let start = self.pos + 1;
                    let (end, _) = self.string_end(start)?;
                    // Cut at ASCII quotes of a `str`: UTF-8.
                    Field::String(std::str::from_utf8(&self.src[start..end]).ok()?)
                }
                b'-' | b'0'..=b'9' => {
                    let (start, end) = self.number_span()?;
                    let text = std::str::from_utf8(&self.src[start..end]).ok()?;
                    Field::Number(number(text)?)
                }
                _ => Field::Other,
            };
            self.time.values[slot] = Some(field);
        }
        Some(())
    }

    /// Whether a top-level key is a CloudTrail text field of a CloudTrail event, as far
    /// as the markers read so far tell. A text field read before the last marker
    /// (`additionalEventData` comes before the markers in key order; any of them may in
    /// a logger's order) is written as a plain value, and again as text when the markers
    /// turn out complete ([`Writer::sort_members`]).
    pub(super) fn is_text_field(&mut self, key: &[u8]) -> bool {
        if !CLOUDTRAIL_TEXT_FIELDS.iter().any(|f| f.as_bytes() == key) {
            return false;
        }
        let cloudtrail = self.markers == CLOUDTRAIL_MARKERS.len();
        self.text_field_before_markers |= !cloudtrail;
        cloudtrail
    }

    /// Whether free-form fields were written as plain values before the last marker, and
    /// must be written again as text: the markers are complete, and the fields are text
    /// (not objects outside the cap).
    pub(super) fn text_fields_to_rewrite(&self) -> bool {
        self.text_field_before_markers
            && !self.free_form_objects
            && self.markers == CLOUDTRAIL_MARKERS.len()
    }
}

//! The top-level fields of a message that the one-pass path ([`super::fast`]) picks up
//! on its way for the time finder (`builder::time_in_fields`): the well-known time
//! fields, `log`, and whether the message is a CloudTrail event.

use serde_json::Number;

use super::header::TopFields;

/// A top-level scalar of the message, for the time finder.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field<'m> {
    Number(Number),
    /// The string's text as it is in the message, between the quotes, still escaped.
    String(&'m str),
    Other,
}

impl Field<'_> {
    /// The string's value, unescaped (allocates only when there is an escape).
    pub(super) fn unescaped(raw: &str) -> std::borrow::Cow<'_, str> {
        if !raw.contains('\\') {
            return std::borrow::Cow::Borrowed(raw);
        }
        let mut quoted = String::with_capacity(raw.len() + 2);
        quoted.push('"');
        quoted.push_str(raw);
        quoted.push('"');
        // A JSON string's text: a message whose string serde_json does not read goes
        // to the tree path (`fast::strings`).
        std::borrow::Cow::Owned(serde_json::from_str::<String>(&quoted).unwrap_or_default())
    }
}

/// The top-level fields the time finder reads (see `builder::time_in_object`).
#[derive(Debug, Default)]
pub(super) struct TimeFields<'m> {
    /// `time`, `timestamp`, `@timestamp`, `date_access`, `eventTime` (in
    /// `timestamp::WELL_KNOWN_FIELDS` order), then `log`.
    pub(super) values: [Option<Field<'m>>; 6],
    /// All four CloudTrail marker keys are present.
    pub(super) cloudtrail: bool,
    /// Where the header's top fields were written (spans into the output).
    pub(super) top: TopFields,
}

impl<'m> TimeFields<'m> {
    pub(super) const LOG: usize = 5;

    pub(super) fn get(&self, key: &str) -> Option<&Field<'m>> {
        let i = if key == "log" {
            Self::LOG
        } else {
            crate::timestamp::WELL_KNOWN_FIELDS
                .iter()
                .position(|k| *k == key)?
        };
        self.values[i].as_ref()
    }
}

//! The subscription envelope read by hand, in the shape CloudWatch Logs writes it: one
//! object, its known fields in any order (escaped keys too), string or integer ids,
//! unknown fields holding strings, any JSON whitespace; its strings are read by
//! `string.rs`. Anything else (a field twice or missing, a float or `-0`, an unknown
//! field holding an object, a lone surrogate, text after the end, text that is not JSON)
//! is `None`: [`super::Decoder`] then reads the envelope with serde_json, which gives the
//! same answer or the error. Property tests hold the two together: where this reader
//! answers, serde_json answers the same.

use std::borrow::Cow;

use super::{Envelope, LogEvent, string};

/// The envelope in `text`, or `None` for serde_json to read it. `scratch` is working
/// space, reused between records.
pub fn read<'a>(text: &'a str, scratch: &mut Vec<u8>) -> Option<Envelope<'a>> {
    let mut r = Reader {
        text,
        i: 0,
        scratch,
    };
    let envelope = r.envelope()?;
    r.skip_space();
    (r.i == text.len()).then_some(envelope)
}

struct Reader<'a, 's> {
    text: &'a str,
    i: usize,
    scratch: &'s mut Vec<u8>,
}

/// Sets a field not set before (serde refuses a field given twice).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

impl<'a> Reader<'a, '_> {
    fn envelope(&mut self) -> Option<Envelope<'a>> {
        let (mut message_type, mut owner, mut log_group, mut log_stream) = (None, None, None, None);
        let (mut subscription_filters, mut log_events) = (None, None);
        self.object(|r, key| match key {
            "messageType" => once(&mut message_type, r.string()?),
            "owner" => once(&mut owner, r.string()?),
            "logGroup" => once(&mut log_group, r.string()?),
            "logStream" => once(&mut log_stream, r.string()?),
            "subscriptionFilters" => {
                let mut filters = Vec::new();
                r.array(|r| r.string().map(|s| filters.push(s)))?;
                once(&mut subscription_filters, filters)
            }
            "logEvents" => {
                let mut events = Vec::new();
                r.array(|r| r.log_event().map(|e| events.push(e)))?;
                once(&mut log_events, events)
            }
            _ => r.string().map(drop),
        })?;
        Some(Envelope {
            message_type: message_type?,
            owner: owner?,
            log_group: log_group?,
            log_stream: log_stream?,
            subscription_filters: subscription_filters.unwrap_or_default(),
            log_events: log_events.unwrap_or_default(),
        })
    }

    fn log_event(&mut self) -> Option<LogEvent<'a>> {
        let (mut id, mut timestamp, mut message) = (None, None, None);
        self.object(|r, key| match key {
            "id" => {
                let value = if r.peek()? == b'"' {
                    r.string()?
                } else {
                    // serde_json reads an unsigned integer as `u64`, written back as it
                    // is when it has no leading zero; a sign, fraction or exponent is
                    // left to it.
                    let digits = r.integer()?;
                    digits.parse::<u64>().ok()?;
                    Cow::Owned(digits.to_owned())
                };
                once(&mut id, value)
            }
            "timestamp" => {
                let n = r.signed_integer()?;
                once(&mut timestamp, n.parse::<i64>().ok()?)
            }
            "message" => once(&mut message, r.string()?),
            _ => r.string().map(drop),
        })?;
        Some(LogEvent {
            id: id?,
            timestamp: timestamp?,
            message: message?,
        })
    }

    /// `{ "key": value, … }`, each value read by `member` (called with its key).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            member(self, &key)?;
            if self.after_item(b'}')? {
                return Some(());
            }
        }
    }

    /// `[ value, … ]`, each value read by `item`.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            if self.after_item(b']')? {
                return Some(());
            }
        }
    }

    /// After an item: `,` (more follow: false) or `close` (the end: true).
    fn after_item(&mut self, close: u8) -> Option<bool> {
        let b = self.peek()?;
        self.i += 1;
        match b {
            b',' => Some(false),
            b if b == close => Some(true),
            _ => None,
        }
    }

    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        let (value, next) = string::string(self.text, self.i, self.scratch)?;
        self.i = next;
        Some(value)
    }

    /// Digits with no leading zero and no fraction or exponent after them.
    fn integer(&mut self) -> Option<&'a str> {
        self.skip_space();
        let s = self.text.as_bytes();
        let start = self.i;
        let end = start
            + s.get(start..)?
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let digits = self.text.get(start..end)?;
        let leading_zero = digits.len() > 1 && digits.starts_with('0');
        if digits.is_empty() || leading_zero || matches!(s.get(end), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i = end;
        Some(digits)
    }

    /// [`Self::integer`] with an optional `-`; not `-0`, which serde_json reads as a
    /// float.
    fn signed_integer(&mut self) -> Option<&'a str> {
        self.skip_space();
        let start = self.i;
        let negative = self.text.as_bytes().get(start) == Some(&b'-');
        if negative {
            self.i += 1;
            if !self.text.as_bytes().get(self.i)?.is_ascii_digit() {
                return None;
            }
        }
        let digits = self.integer()?;
        if negative && digits == "0" {
            return None;
        }
        self.text.get(start..self.i)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    /// The next byte that is not JSON whitespace.
    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.as_bytes().get(self.i).copied()
    }

    fn skip_space(&mut self) {
        while matches!(
            self.text.as_bytes().get(self.i),
            Some(b' ' | b'\n' | b'\r' | b'\t')
        ) {
            self.i += 1;
        }
    }
}

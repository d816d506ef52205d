//! Slack Block Kit payloads: a header, fields, sections and a context line, with a plain
//! `text` fallback (shown in notifications and by clients without blocks).
//!
//! Everything taken from a log is escaped for Slack's mrkdwn (`&`, `<`, `>`), and every
//! text is cut to Slack's limits, so a payload is always accepted for its shape.

use serde_json::{Value, json};

/// Slack's limits.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const FIELDS_MAX: usize = 10;
const FALLBACK_MAX: usize = 3000;

/// One Slack message, before it becomes a payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The plain `text` fallback.
    pub fallback: String,
    /// Plain text header.
    pub header: String,
    /// `(label, mrkdwn value)` pairs shown two by two.
    pub fields: Vec<(String, String)>,
    /// mrkdwn sections, in order.
    pub sections: Vec<String>,
    /// A small mrkdwn line at the bottom.
    pub context: Option<String>,
}

impl Message {
    /// The webhook payload.
    pub fn to_payload(&self) -> Value {
        self.shown().payload()
    }

    /// What the message's payload shows: every text cut to Slack's limits.
    pub fn shown(&self) -> Shown {
        Shown {
            text: cut(&self.fallback, FALLBACK_MAX),
            header: cut(&self.header, HEADER_MAX),
            fields: self
                .fields
                .iter()
                .take(FIELDS_MAX)
                .map(|(label, value)| cut(&format!("*{label}*\n{value}"), FIELD_MAX))
                .collect(),
            sections: self.sections.iter().map(|t| cut(t, SECTION_MAX)).collect(),
            context: self.context.as_deref().map(|c| cut(c, SECTION_MAX)),
        }
    }
}

/// What a payload shows of a [`Message`], each text cut: two messages give the same
/// payload exactly when they show the same, so identical payloads are found without
/// writing them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shown {
    text: String,
    header: String,
    fields: Vec<String>,
    sections: Vec<String>,
    context: Option<String>,
}

impl Shown {
    /// The Block Kit payload.
    pub fn payload(self) -> Value {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": self.header, "emoji": true},
        })];
        if !self.fields.is_empty() {
            let fields: Vec<Value> = self
                .fields
                .into_iter()
                .map(|text| json!({"type": "mrkdwn", "text": text}))
                .collect();
            blocks.push(json!({"type": "section", "fields": fields}));
        }
        for text in self.sections {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": text},
            }));
        }
        if let Some(context) = self.context {
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": context}],
            }));
        }
        json!({"text": self.text, "blocks": blocks})
    }
}

/// Escapes text for mrkdwn: Slack treats `<…>` as links and mentions.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text, false);
    out
}

/// Escaped text in backticks (inline code), backticks in it replaced.
pub fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('`');
    push_escaped(&mut out, text, true);
    out.push('`');
    out
}

/// `text` escaped onto `out` (and its backticks as `'` with `in_code`), copied run by
/// run between the bytes that change: they are ASCII, so every run ends on a character
/// boundary.
fn push_escaped(out: &mut String, text: &str, in_code: bool) {
    let mut run = 0;
    for (i, b) in text.bytes().enumerate() {
        let with = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'`' if in_code => "'",
            _ => continue,
        };
        out.push_str(&text[run..i]);
        out.push_str(with);
        run = i + 1;
    }
    out.push_str(&text[run..]);
}

/// A mrkdwn link; `url` is built by the forwarder, `label` is escaped.
pub fn link(url: &str, label: &str) -> String {
    format!(
        "<{}|{}>",
        url.replace('>', "%3E").replace('|', "%7C"),
        escape(label)
    )
}

/// At most `max` characters, with `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// One pass gives what the definitions say: `&`, `<`, `>` as entities, and in
        /// code every backtick a quote first.
        #[test]
        fn escape_and_code_are_their_definitions(text in "[a-c&<>`é\u{1F600} ]{0,40}") {
            let mut by_char = String::new();
            for c in text.chars() {
                match c {
                    '&' => by_char.push_str("&amp;"),
                    '<' => by_char.push_str("&lt;"),
                    '>' => by_char.push_str("&gt;"),
                    c => by_char.push(c),
                }
            }
            proptest::prop_assert_eq!(escape(&text), by_char);
            let quoted = text.replace('`', "'");
            proptest::prop_assert_eq!(code(&text), format!("`{}`", escape(&quoted)));
        }
    }

    #[test]
    fn payloads_have_a_fallback_and_respect_limits() {
        let m = Message {
            fallback: "x".repeat(5000),
            header: "h".repeat(400),
            fields: vec![("a".into(), "b".repeat(3000))],
            sections: vec!["s".repeat(4000)],
            context: Some("c".into()),
        };
        let p = m.to_payload();
        assert_eq!(p["text"].as_str().unwrap().chars().count(), 3000);
        assert_eq!(
            p["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            150
        );
        assert_eq!(
            p["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            3000
        );
        assert_eq!(escape("<a&b>"), "&lt;a&amp;b&gt;");
    }

    #[test]
    fn messages_show_the_same_exactly_when_their_payloads_are_the_same() {
        let base = Message {
            fallback: "x".repeat(FALLBACK_MAX + 5),
            header: "h".into(),
            fields: vec![("a".into(), "b".into())],
            sections: vec!["s".into()],
            context: None,
        };
        let past_the_cut = Message {
            fallback: format!("{}y", base.fallback),
            ..base.clone()
        };
        let shown = Message {
            context: Some(String::new()),
            ..base.clone()
        };
        let more_fields = Message {
            fields: vec![("a".into(), "b".into()); FIELDS_MAX + 1],
            ..base.clone()
        };
        for (a, b) in [
            (&base, &past_the_cut),
            (&base, &shown),
            (&more_fields, &base),
        ] {
            assert_eq!(
                a.shown() == b.shown(),
                a.to_payload() == b.to_payload(),
                "{a:?} {b:?}"
            );
        }
        assert_eq!(base.shown(), past_the_cut.shown());
        assert_ne!(base.shown(), shown.shown());
    }
}

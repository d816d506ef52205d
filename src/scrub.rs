//! Credential scrubbing: credential-like values in a log event's message are replaced by
//! `REDACTED` before the document is built, so they reach neither the index nor the
//! archive (nor a dead letter of a document that could not be built).
//!
//! Built-in patterns ([`BUILT_IN`], in this order):
//!
//! | name | redacts the value of |
//! | --- | --- |
//! | `query_param` | URL query parameters `token`, `access_token`, `id_token`, `refresh_token`, `signature`, `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, `password`, `secret`, `client_secret`, `api_key`, … |
//! | `authorization` | `Authorization: <scheme> <credentials>` (header or JSON key) |
//! | `bearer` | `Bearer <token>` anywhere (16 characters or more) |
//! | `aws_secret_access_key` | a 40-character AWS secret access key after its name (`aws_secret_access_key=`, `"SecretAccessKey": "`) |
//! | `jwt` | JSON Web Tokens (`eyJ….eyJ….…`) |
//!
//! `SCRUB_PATTERNS` adds patterns (a JSON object `{"name": "regex"}`, applied after the
//! built-in ones, in name order); a named group `secret` says which part to redact,
//! otherwise the whole match is. `SCRUB=off` turns scrubbing off.
//!
//! Deterministic and idempotent: the same text always gives the same result, and a value
//! already `REDACTED` is neither changed nor counted again. Only values are replaced, never
//! JSON structure: the value patterns stop at `"` and `\`, so a JSON message stays valid
//! JSON.
//!
//! The hot path stays cheap: the message is lower-cased (ASCII) into a reused buffer and
//! searched once (a SIMD literal search) for the few words the built-in patterns need
//! (`token`, `signature`, `authorization`, `bearer`, `eyj`, …); a pattern's regex runs only
//! when one of its words is there, so almost every message is neither searched by a
//! regex nor copied; and the built-in patterns find their secret in the match without
//! capture groups (a DFA search only). Patterns added by `SCRUB_PATTERNS` run on every
//! message. The keywords match ASCII case-insensitively (`(?i-u:…)`), as the lower-cased
//! search sees them. CloudTrail events go through the same patterns: what AWS already redacts
//! (`HIDDEN_DUE_TO_SECURITY_REASONS`, the secret key it never logs) matches none of them,
//! so it is left as it is.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

use regex::Regex;
use thiserror::Error;

use crate::decode::LogEvent;

/// What a redacted value becomes.
pub const REDACTED: &str = "REDACTED";

/// Redactions per pattern name.
pub type Redactions = BTreeMap<String, usize>;

/// The built-in patterns: name and regex (the `secret` group is what is replaced).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "query_param",
        r#"(?:[?&;]|\\u0026)(?i-u:token|access_token|id_token|refresh_token|auth_token|signature|x-amz-signature|x-amz-credential|x-amz-security-token|password|passwd|secret|client_secret|api_key|apikey)=(?P<secret>[^&\s"'\\#<>]+)"#,
    ),
    (
        "authorization",
        r#"(?-u:\b)(?i-u:authorization)["']?\s*[:=]\s*["']?(?:(?i-u:bearer|basic|token|digest|negotiate)\s+)?(?P<secret>[^\s"'\\,;]{8,})"#,
    ),
    (
        "bearer",
        r"(?-u:\b)(?i-u:bearer)\s+(?P<secret>[A-Za-z0-9\-._~+/]{16,}=*)",
    ),
    (
        "aws_secret_access_key",
        r#"(?i-u:(?:aws_?)?secret_?access_?key)["']?\s*[:=]\s*["']?(?P<secret>[A-Za-z0-9/+]{40})"#,
    ),
    (
        "jwt",
        r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    ),
];

/// Where the secret is in a match of the built-in pattern of the same index (the
/// `secret` group, found without running a capture engine; a test holds them together).
const BUILT_IN_SPLITS: [Split; 5] = [
    Split::AfterFirst(b'='),
    Split::AfterSeparator,
    Split::AfterSeparator,
    Split::Last(40),
    Split::Whole,
];

/// For each built-in pattern (same index), lower-case words one of which every match
/// contains (a test holds them together).
const BUILT_IN_WORDS: [&[&str]; 5] = [
    &[
        "token",
        "signature",
        "credential",
        "passw",
        "secret",
        "api_key",
        "apikey",
    ],
    &["authorization"],
    &["bearer"],
    &["secret"],
    &["eyj"],
];

/// The distinct words of [`BUILT_IN_WORDS`], each searched once per message.
const WORDS: &[&str] = &[
    "token",
    "signature",
    "credential",
    "passw",
    "secret",
    "api_key",
    "apikey",
    "authorization",
    "bearer",
    "eyj",
];

thread_local! {
    /// The lower-cased message, reused.
    static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScrubError {
    #[error("not a JSON object of pattern names to regular expressions: {0}")]
    NotAnObject(String),
    #[error("pattern name {0:?}: use letters, digits and _ (at most 64), not a built-in name")]
    BadName(String),
    #[error("pattern {name}: {reason}")]
    BadPattern { name: String, reason: String },
}

/// Which part of a match is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// The whole match.
    Whole,
    /// The capture group of this index (added patterns with a `secret` group).
    Group(usize),
    /// After the first occurrence of this byte.
    AfterFirst(u8),
    /// After the last whitespace or quote, else after the first `:` or `=`.
    AfterSeparator,
    /// The last this many bytes.
    Last(usize),
}

#[derive(Debug, Clone)]
struct Pattern {
    name: String,
    regex: Regex,
    split: Split,
    /// Bits of the [`WORDS`] one of which a match needs; `None` (an added pattern): run
    /// on every message.
    words: Option<u32>,
}

/// The compiled patterns, built once at start.
#[derive(Debug, Clone)]
pub struct Scrubber {
    patterns: Vec<Pattern>,
    /// The [`WORDS`] as one literal search.
    words: regex::bytes::Regex,
}

impl PartialEq for Scrubber {
    fn eq(&self, other: &Self) -> bool {
        self.patterns.len() == other.patterns.len()
            && self
                .patterns
                .iter()
                .zip(&other.patterns)
                .all(|(a, b)| a.name == b.name && a.regex.as_str() == b.regex.as_str())
    }
}

impl Default for Scrubber {
    fn default() -> Self {
        Self::built_in()
    }
}

impl Scrubber {
    /// The built-in patterns only.
    pub fn built_in() -> Self {
        // The built-in patterns are constants, tested below: they compile.
        Self::with_extra(&[]).expect("built-in patterns compile")
    }

    /// The built-in patterns, then `extra` (name, regex) in the order given.
    pub fn with_extra(extra: &[(String, String)]) -> Result<Self, ScrubError> {
        let mut patterns = Vec::with_capacity(BUILT_IN.len() + extra.len());
        for (((name, source), words), split) in
            BUILT_IN.iter().zip(BUILT_IN_WORDS).zip(BUILT_IN_SPLITS)
        {
            let mut pattern = compile(name, source)?;
            pattern.split = split;
            pattern.words = Some(
                words
                    .iter()
                    .filter_map(|w| WORDS.iter().position(|x| x == w))
                    .fold(0, |bits, i| bits | 1 << i),
            );
            patterns.push(pattern);
        }
        for (name, source) in extra {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !BUILT_IN.iter().any(|(b, _)| b == name);
            if !ok {
                return Err(ScrubError::BadName(name.clone()));
            }
            patterns.push(compile(name, source)?);
        }
        let words =
            regex::bytes::Regex::new(&WORDS.join("|")).map_err(|e| ScrubError::BadPattern {
                name: "(words)".to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self { patterns, words })
    }

    /// `SCRUB_PATTERNS`: a JSON object of names to regular expressions.
    pub fn parse_extra(text: &str) -> Result<Vec<(String, String)>, ScrubError> {
        let map: BTreeMap<String, String> =
            serde_json::from_str(text).map_err(|e| ScrubError::NotAnObject(e.to_string()))?;
        Ok(map.into_iter().collect())
    }

    /// The pattern names, in the order they are applied.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| p.name.as_str())
    }

    /// Whether any pattern occurs in `text`.
    pub fn matches(&self, text: &str) -> bool {
        let words = self.words_in(text);
        self.patterns
            .iter()
            .any(|p| p.may_match(words) && p.regex.is_match(text))
    }

    /// Bits of the [`WORDS`] in `text`, in any ASCII case.
    fn words_in(&self, text: &str) -> u32 {
        LOWER.with(|lower| {
            let mut lower = lower.borrow_mut();
            lower.clear();
            lower.extend_from_slice(text.as_bytes());
            lower.make_ascii_lowercase();
            let mut bits = 0;
            let mut at = 0;
            // Restarting one byte after each found word: overlapping words count too.
            while let Some(m) = self.words.find_at(&lower, at) {
                if let Some(i) = WORDS.iter().position(|w| w.as_bytes() == m.as_bytes()) {
                    bits |= 1 << i;
                }
                at = m.start() + 1;
            }
            bits
        })
    }

    /// `text` with every credential-like value replaced by [`REDACTED`]; each
    /// replacement is counted under its pattern's name in `counts`.
    pub fn scrub<'a>(&self, text: &'a str, counts: &mut Redactions) -> Cow<'a, str> {
        let words = self.words_in(text);
        let mut current = Cow::Borrowed(text);
        for pattern in &self.patterns {
            if !pattern.may_match(words) {
                continue;
            }
            if let Some((next, n)) = pattern.apply(&current) {
                // The name is copied once per batch, not once per redaction.
                match counts.get_mut(&pattern.name) {
                    Some(count) => *count += n,
                    None => {
                        counts.insert(pattern.name.clone(), n);
                    }
                }
                current = Cow::Owned(next);
            }
        }
        current
    }

    /// The log event with its message scrubbed (borrowed as it is when nothing was
    /// redacted).
    pub fn scrub_event<'e>(
        &self,
        event: &'e LogEvent<'e>,
        counts: &mut Redactions,
    ) -> Cow<'e, LogEvent<'e>> {
        match self.scrub(&event.message, counts) {
            Cow::Borrowed(_) => Cow::Borrowed(event),
            Cow::Owned(message) => Cow::Owned(LogEvent {
                id: event.id.clone(),
                timestamp: event.timestamp,
                message: Cow::Owned(message),
            }),
        }
    }
}

fn compile(name: &str, source: &str) -> Result<Pattern, ScrubError> {
    let bad = |reason: String| ScrubError::BadPattern {
        name: name.to_owned(),
        reason,
    };
    let regex = Regex::new(source).map_err(|e| bad(e.to_string()))?;
    if regex.is_match("") {
        return Err(bad("matches the empty text".to_owned()));
    }
    let split = regex
        .capture_names()
        .position(|n| n == Some("secret"))
        .map_or(Split::Whole, Split::Group);
    Ok(Pattern {
        name: name.to_owned(),
        regex,
        split,
        words: None,
    })
}

impl Pattern {
    fn may_match(&self, words: u32) -> bool {
        self.words.is_none_or(|bits| bits & words != 0)
    }

    /// The secret's byte range in `text` for each match, in order.
    fn secrets(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        if let Split::Group(g) = self.split {
            return self
                .regex
                .captures_iter(text)
                .filter_map(|c| c.get(g).map(|m| m.range()))
                .collect();
        }
        self.regex
            .find_iter(text)
            .map(|m| {
                let b = m.as_str().as_bytes();
                let from = match self.split {
                    Split::AfterFirst(sep) => b.iter().position(|&c| c == sep).map_or(0, |i| i + 1),
                    Split::AfterSeparator => b
                        .iter()
                        .rposition(|&c| c.is_ascii_whitespace() || c == b'"' || c == b'\'')
                        .or_else(|| b.iter().position(|&c| c == b':' || c == b'='))
                        .map_or(0, |i| i + 1),
                    Split::Last(n) => b.len().saturating_sub(n),
                    Split::Whole | Split::Group(_) => 0,
                };
                m.start() + from..m.end()
            })
            .collect()
    }

    /// `text` with this pattern's values replaced, and how many were; `None` when none
    /// was (nothing is copied then).
    fn apply(&self, text: &str) -> Option<(String, usize)> {
        let mut out = String::new();
        let mut last = 0;
        let mut n = 0;
        let spans = self.secrets(text);
        // The longest the result can be: each secret becomes `REDACTED`.
        let most = text.len() + spans.len() * REDACTED.len();
        for span in spans {
            // The built-in splits land on ASCII bytes, so on character boundaries.
            let Some(secret) = text.get(span.clone()) else {
                continue;
            };
            if secret == REDACTED || span.start < last {
                continue;
            }
            if n == 0 {
                out.reserve(most);
            }
            out.push_str(&text[last..span.start]);
            out.push_str(REDACTED);
            last = span.end;
            n += 1;
        }
        if n == 0 {
            return None;
        }
        out.push_str(&text[last..]);
        Some((out, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubbed(text: &str) -> (String, Redactions) {
        let mut counts = Redactions::new();
        let out = Scrubber::built_in().scrub(text, &mut counts).into_owned();
        (out, counts)
    }

    #[test]
    fn query_parameters_lose_their_values() {
        let (out, counts) = scrubbed(
            "GET /user/data/download/x?expires_in=900&signature=c2VjcmV0 HTTP/1.1 ref=https://a/?token=abc123&x=1",
        );
        assert_eq!(
            out,
            "GET /user/data/download/x?expires_in=900&signature=REDACTED HTTP/1.1 ref=https://a/?token=REDACTED&x=1"
        );
        assert_eq!(counts["query_param"], 2);
        let (out, _) = scrubbed(
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20180308%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=IQoJb3&X-Amz-Signature=abcdef0123",
        );
        assert_eq!(
            out,
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED"
        );
        for param in ["access_token", "id_token", "password", "secret", "api_key"] {
            let (out, _) = scrubbed(&format!("/cb?{param}=hunter2&state=ok"));
            assert_eq!(out, format!("/cb?{param}=REDACTED&state=ok"));
        }
    }

    #[test]
    fn json_stays_valid_json() {
        let text = r#"{"http_request":"/a?token=abc\"def&b=1","http_referer":"https://x/?id_token=eyJabc\u0026q=2","n":1}"#;
        let (out, counts) = scrubbed(text);
        let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v["http_request"], "/a?token=REDACTED\"def&b=1");
        assert_eq!(v["http_referer"], "https://x/?id_token=REDACTED&q=2");
        assert_eq!(v["n"], 1);
        assert_eq!(counts["query_param"], 2);
        // `&` written as \u0026 (Go's encoder) still separates parameters.
        let (out, _) = scrubbed(r#"{"u":"/a?x=1\u0026password=pw\u0026y=2"}"#);
        assert_eq!(out, r#"{"u":"/a?x=1\u0026password=REDACTED\u0026y=2"}"#);
    }

    #[test]
    fn authorization_bearer_keys_and_jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let (out, counts) = scrubbed(&format!(
            r#"{{"headers":{{"Authorization":"Bearer {jwt}"}},"msg":"got token {jwt} from idp"}}"#
        ));
        assert_eq!(
            out,
            r#"{"headers":{"Authorization":"Bearer REDACTED"},"msg":"got token REDACTED from idp"}"#
        );
        assert_eq!(counts["authorization"], 1);
        assert_eq!(counts["jwt"], 1);
        assert!(!counts.contains_key("bearer"), "not counted twice");
        let (out, _) = scrubbed("curl -H 'authorization: Basic dXNlcjpwYXNzd29yZA=='");
        assert_eq!(out, "curl -H 'authorization: Basic REDACTED'");
        let (out, counts) = scrubbed("sent Bearer abcdefghijklmnopqrstuvwxyz012345 upstream");
        assert_eq!(out, "sent Bearer REDACTED upstream");
        assert_eq!(counts["bearer"], 1);
        let (out, counts) = scrubbed(
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY; \"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
        );
        assert_eq!(
            out,
            "export AWS_SECRET_ACCESS_KEY=REDACTED; \"SecretAccessKey\": \"REDACTED\""
        );
        assert_eq!(counts["aws_secret_access_key"], 2);
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let s = Scrubber::built_in();
        let mut counts = Redactions::new();
        for text in [
            "GET /index.html?page=2&sort=asc HTTP/1.1",
            r#"{"eventName":"ConsoleLogin","userIdentity":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"},"requestParameters":{"password":"HIDDEN_DUE_TO_SECURITY_REASONS"}}"#,
            "the bearer of bad news",
            "commit 0123456789abcdef0123456789abcdef01234567",
            "authorization: ok",
        ] {
            assert!(
                matches!(s.scrub(text, &mut counts), Cow::Borrowed(_)),
                "{text}"
            );
        }
        assert!(counts.is_empty(), "{counts:?}");
    }

    /// Every text a built-in pattern matches holds one of its words (lower-cased), and
    /// the keywords match in any ASCII case.
    #[test]
    fn the_words_never_hide_a_match() {
        let s = Scrubber::built_in();
        let names = [
            "token",
            "access_token",
            "Id_Token",
            "refresh_token",
            "auth_token",
            "signature",
            "X-Amz-Signature",
            "x-amz-credential",
            "X-AMZ-SECURITY-TOKEN",
            "password",
            "passwd",
            "secret",
            "client_secret",
            "api_key",
            "APIKEY",
        ];
        let mut texts: Vec<String> = names
            .iter()
            .flat_map(|n| {
                [
                    format!("/a?{n}=v"),
                    format!("x\\u0026{n}=v"),
                    format!(";{n}=v"),
                ]
            })
            .collect();
        texts.extend(
            [
                "Authorization: Basic dXNlcjpwYXNz",
                "AUTHORIZATION=\"tokenvalue123\"",
                r#"{"Authorization":"Bearer abc.def.ghi-longer"}"#,
                "authorization:abc:def12345",
                "Authorization: Negotiate abc",
                "authorization = 'Digest user=\"u\", response=\"abcdef0123\"'",
                "Bearer\tabcdefghijklmnopqrstuvwxyz==",
                "BEARER abcdefghijklmnopqrstu",
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "SecretAccessKey:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "secretaccess_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.x",
            ]
            .map(str::to_owned),
        );
        for (pattern, words) in s.patterns.iter().zip(BUILT_IN_WORDS) {
            let matched: Vec<&String> =
                texts.iter().filter(|t| pattern.regex.is_match(t)).collect();
            assert!(!matched.is_empty(), "{}: no sample", pattern.name);
            for t in matched {
                let lower = t.to_ascii_lowercase();
                assert!(
                    words.iter().any(|w| lower.contains(w)),
                    "{} matches {t} without its words",
                    pattern.name
                );
                assert!(pattern.may_match(s.words_in(t)), "{}: {t}", pattern.name);
            }
        }
        // The splits find what the `secret` groups capture.
        for (i, pattern) in s.patterns.iter().enumerate() {
            let by_group = Regex::new(BUILT_IN[i].1).expect("compiles");
            let g = by_group.capture_names().position(|n| n == Some("secret"));
            for t in &texts {
                let expected: Vec<_> = by_group
                    .captures_iter(t)
                    .map(|c| c.get(g.unwrap_or(0)).expect("group").range())
                    .collect();
                assert_eq!(pattern.secrets(t), expected, "{}: {t}", pattern.name);
            }
        }
        // A Kelvin sign is not a k: the keywords fold ASCII only, as the words do.
        assert!(!s.matches("/a?to\u{212A}en=v"));
        assert!(s.matches("/a?toKen=v"));
    }

    #[test]
    fn scrubbing_is_idempotent() {
        let text = "/a?token=x&signature=y Authorization: Bearer abcdefghijklmnop";
        let (once, counts) = scrubbed(text);
        assert_eq!(counts.values().sum::<usize>(), 3);
        let (twice, again) = scrubbed(&once);
        assert_eq!(once, twice);
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn extra_patterns_are_validated_and_applied() {
        let extra = Scrubber::parse_extra(r#"{"github_token":"gh[pousr]_[A-Za-z0-9]{36}","ssn":"ssn=(?P<secret>\\d{3}-\\d{2}-\\d{4})"}"#)
            .expect("json");
        let s = Scrubber::with_extra(&extra).expect("valid");
        assert_eq!(
            s.names().collect::<Vec<_>>(),
            [
                "query_param",
                "authorization",
                "bearer",
                "aws_secret_access_key",
                "jwt",
                "github_token",
                "ssn"
            ]
        );
        let mut counts = Redactions::new();
        let out = s.scrub(
            "push with ghp_abcdefghijklmnopqrstuvwxyz0123456789 for ssn=123-45-6789",
            &mut counts,
        );
        assert_eq!(out, "push with REDACTED for ssn=REDACTED");
        assert_eq!(counts["github_token"], 1);
        assert_eq!(counts["ssn"], 1);
        for (json, what) in [
            ("[1]", "not an object"),
            (r#"{"a b":"x"}"#, "bad name"),
            (r#"{"jwt":"x"}"#, "built-in name"),
            (r#"{"a":"("}"#, "bad regex"),
            (r#"{"a":"x*"}"#, "matches empty"),
        ] {
            let r = Scrubber::parse_extra(json).and_then(|e| Scrubber::with_extra(&e));
            assert!(r.is_err(), "{what}");
        }
    }
}

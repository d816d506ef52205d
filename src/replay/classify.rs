//! What an object is, read from its content (never from its name): a dead letter
//! (`{source, error, received_at, raw, event_id}`, compact as in S3 or pretty as the local
//! sink writes it) or an archive object (NDJSON documents as Firehose writes them).
//! And, for a dead letter, which sinks missed it ([`Route`]).

use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _};

use crate::dead_letter::DeadLetter;

/// What an object holds.
#[derive(Debug)]
pub enum Content {
    /// One dead letter.
    DeadLetter(DeadLetter),
    /// Archived documents; the first line is already read.
    Archive { first_line: String },
    /// Nothing at all (an empty archive object).
    Empty,
    /// Neither: why.
    Unknown(String),
}

/// Which sinks a dead letter goes back to: only those that missed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A document the index refused (source `opensearch`): the index only.
    Index,
    /// A document the archive refused or truncated (source `firehose`): the archive only.
    Archive,
    /// Input that never became documents (a Kinesis record, an event, an audit request):
    /// the whole pipeline again.
    Pipeline,
}

impl Route {
    pub fn of(letter: &DeadLetter) -> Self {
        match letter.source.as_str() {
            "opensearch" => Self::Index,
            "firehose" => Self::Archive,
            _ => Self::Pipeline,
        }
    }
}

/// How one capped line read ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without its `\n`) is in the buffer.
    Read,
    /// The line was longer than the cap: it was skipped to its end, the buffer is empty.
    TooLong,
    /// The end of the object.
    Eof,
}

/// Reads one line into `buf` (cleared first), holding at most `cap` bytes of it.
pub async fn read_line<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::Eof,
                (true, true) => Line::TooLong,
                (true, false) => Line::Read,
            });
        }
        any = true;
        let (part, used, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if !too_long {
            if buf.len() + part.len() > cap {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        reader.consume(used);
        if end {
            return Ok(if too_long { Line::TooLong } else { Line::Read });
        }
    }
}

#[derive(Deserialize)]
struct Probe {
    source: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
    raw: Option<IgnoredAny>,
    received_at: Option<IgnoredAny>,
    #[serde(rename = "_id")]
    id: Option<IgnoredAny>,
    #[serde(rename = "@timestamp")]
    timestamp: Option<IgnoredAny>,
}

/// Reads the start of an object (and, for a dead letter, all of it, at most
/// `letter_cap` bytes) and says what it is. An archive line is at most `line_cap` bytes.
pub async fn classify<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    line_cap: usize,
    letter_cap: usize,
) -> std::io::Result<Content> {
    let mut first = Vec::new();
    let cap = line_cap.max(letter_cap);
    let line = loop {
        match read_line(reader, &mut first, cap).await? {
            Line::Eof => return Ok(Content::Empty),
            Line::TooLong => {
                return Ok(Content::Unknown(format!(
                    "the first line is longer than {cap} bytes"
                )));
            }
            Line::Read if first.trim_ascii().is_empty() => continue,
            Line::Read => break String::from_utf8_lossy(&first).into_owned(),
        }
    };
    if line.trim() == "{" {
        // A pretty-printed dead letter (the local sink): the rest of it, capped.
        let mut text = line.into_bytes();
        text.push(b'\n');
        let left = u64::try_from(letter_cap.saturating_sub(text.len())).unwrap_or(u64::MAX);
        let mut rest = reader.take(left.saturating_add(1));
        rest.read_to_end(&mut text).await?;
        if text.len() > letter_cap {
            return Ok(Content::Unknown(format!(
                "a dead letter over {letter_cap} bytes"
            )));
        }
        return Ok(letter(&text));
    }
    let Ok(probe) = serde_json::from_str::<Probe>(&line) else {
        return Ok(Content::Unknown(
            "neither a dead letter nor NDJSON documents".to_owned(),
        ));
    };
    if probe.source.is_some()
        && probe.error.is_some()
        && probe.raw.is_some()
        && probe.received_at.is_some()
    {
        return Ok(letter(line.as_bytes()));
    }
    if probe.id.is_some() || probe.timestamp.is_some() {
        return Ok(Content::Archive { first_line: line });
    }
    Ok(Content::Unknown(
        "a JSON object that is neither a dead letter nor an archived document".to_owned(),
    ))
}

fn letter(bytes: &[u8]) -> Content {
    match serde_json::from_slice::<DeadLetter>(bytes) {
        Ok(letter) => Content::DeadLetter(letter),
        Err(err) => Content::Unknown(format!("not a dead letter: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn of(bytes: &[u8]) -> Content {
        let mut reader = bytes;
        classify(&mut reader, 1024, 4096).await.expect("read")
    }

    fn a_letter() -> DeadLetter {
        let at = "2026-01-02T03:04:05.678Z".parse().expect("time");
        DeadLetter::from_bytes("opensearch", "refused", at, b"{\"a\":1}", Some("id1"))
    }

    #[tokio::test]
    async fn dead_letters_compact_or_pretty() {
        let letter = a_letter();
        for bytes in [
            serde_json::to_vec(&letter).expect("json"),
            serde_json::to_vec_pretty(&letter).expect("json"),
        ] {
            match of(&bytes).await {
                Content::DeadLetter(got) => assert_eq!(got, letter),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(Route::of(&letter), Route::Index);
    }

    #[tokio::test]
    async fn archive_objects_by_their_documents() {
        let text =
            b"{\"_id\":\"x\",\"@timestamp\":\"2026-01-02T03:04:05.678Z\"}\n{\"_id\":\"y\"}\n";
        match of(text).await {
            Content::Archive { first_line } => assert!(first_line.starts_with("{\"_id\":\"x\"")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(of(b"").await, Content::Empty));
        assert!(matches!(of(b"{\"other\":1}").await, Content::Unknown(_)));
        assert!(matches!(of(b"plain text").await, Content::Unknown(_)));
        let long = format!("{{\"@timestamp\":\"{}\"}}", "x".repeat(5000));
        assert!(matches!(of(long.as_bytes()).await, Content::Unknown(_)));
    }

    #[tokio::test]
    async fn long_lines_are_skipped_whole() {
        let text = format!("{}\nshort\n", "x".repeat(100));
        let mut reader = text.as_bytes();
        let mut buf = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut buf, 10).await.expect("read"),
            Line::TooLong
        );
        assert_eq!(
            read_line(&mut reader, &mut buf, 10).await.expect("read"),
            Line::Read
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_line(&mut reader, &mut buf, 10).await.expect("read"),
            Line::Eof
        );
    }
}

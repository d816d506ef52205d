//! Slow responses: JSON messages in the checked log streams whose `http_response_time`
//! (seconds, a string or a number) is above the threshold. One Slack message per
//! invocation and (commons, log group), with the count, the worst, the 95th percentile and
//! the 10 worst requests.
//!
//! Query strings (and fragments) of the request and the referer are cut to `?...`: they
//! hold tokens and signatures. Messages that are not JSON, or lack a usable
//! `http_response_time`, are skipped quietly.

use serde_json::Value;

use super::slack::{Message, code, escape};
use crate::document::Document;

/// Requests listed in one message; the rest are counted as "+N more".
pub const MAX_LISTED: usize = 10;

/// The slow-response check: a threshold and the log streams it applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowCheck {
    pub threshold: f64,
    /// A stream is checked when its name contains one of these.
    pub streams: Vec<String>,
}

/// One slow request, with what is safe to show.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowRequest {
    pub response_time: f64,
    pub pod: Option<String>,
    /// Verb and path, query string cut.
    pub request: Option<String>,
    pub referer: Option<String>,
    pub client_ip: Option<String>,
    pub date_access: Option<String>,
    pub doc_id: String,
}

/// Where a slow request was seen: the group of one message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Environment {
    pub commons: String,
    pub log_group: String,
}

impl SlowCheck {
    /// The slow request in `doc`, if it is one. Reads the document's header: the log
    /// stream, and the message's access-log fields as they were written (each one JSON
    /// value, read only when the document is in a checked stream and has a response
    /// time); the document's JSON is not parsed.
    pub fn check(&self, doc: &Document) -> Option<(Environment, SlowRequest)> {
        let time = doc.access_field("http_response_time")?;
        let stream = doc.log_stream();
        if !self.streams.iter().any(|s| stream.contains(s.as_str())) {
            return None;
        }
        let response_time = response_time(time)?;
        if response_time <= self.threshold {
            return None;
        }
        let field = |name: &str| doc.access_field(name).and_then(value);
        let kubernetes = field("kubernetes");
        let pod = match kubernetes.as_ref().and_then(|k| k.get("pod_name")) {
            Some(name) => text(name),
            None => field("kubernetes_pod_name").as_ref().and_then(text),
        };
        let path = field("http_request").as_ref().and_then(text);
        let request = match (field("http_verb").as_ref().and_then(text), path) {
            (Some(verb), Some(path)) => Some(format!("{verb} {}", redact_query(&path))),
            (None, Some(path)) => Some(redact_query(&path)),
            _ => None,
        };
        Some((
            Environment {
                commons: doc.commons().into_owned(),
                log_group: doc.log_group().into_owned(),
            },
            SlowRequest {
                response_time,
                pod,
                request,
                referer: field("http_referer")
                    .as_ref()
                    .and_then(text)
                    .map(|r| redact_query(&r)),
                client_ip: field("network_client_ip").as_ref().and_then(text),
                date_access: field("date_access").as_ref().and_then(text),
                doc_id: doc.id.clone(),
            },
        ))
    }
}

/// [`seconds`] of a written JSON value; a string without escapes (the usual case) is
/// read in place, with no `Value` built.
fn response_time(json: &str) -> Option<f64> {
    match json.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(text) if !text.contains('\\') => {
            let n = text.trim().parse::<f64>().ok()?;
            (n.is_finite() && n >= 0.0).then_some(n)
        }
        _ => value(json).as_ref().and_then(seconds),
    }
}

/// One field's JSON value as written in the document.
fn value(json: &str) -> Option<Value> {
    serde_json::from_str(json).ok()
}

/// Seconds from a number or a numeric string; finite and not negative.
pub(super) fn seconds(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && s != "-" => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Cuts every query string and fragment to `?...`: from `?` or `#` up to the next space.
pub fn redact_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut skipping = false;
    for c in s.chars() {
        if skipping {
            if c.is_whitespace() {
                skipping = false;
                out.push(c);
            }
        } else if c == '?' || c == '#' {
            out.push_str("?...");
            skipping = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// The nearest-rank percentile of ascending `sorted` (`p` in 0..=100).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The one message for the slow requests of one environment.
pub fn message(env: &Environment, threshold: f64, mut requests: Vec<&SlowRequest>) -> Message {
    requests.sort_by(|a, b| {
        b.response_time
            .total_cmp(&a.response_time)
            .then_with(|| a.doc_id.cmp(&b.doc_id))
    });
    let mut times: Vec<f64> = requests.iter().map(|r| r.response_time).collect();
    times.sort_by(f64::total_cmp);
    let count = requests.len();
    let worst = times.last().copied().unwrap_or(0.0);
    let p95 = percentile(&times, 95.0);
    let mut lines = Vec::new();
    for r in requests.iter().take(MAX_LISTED) {
        let or_dash = |o: &Option<String>| o.as_deref().map_or_else(|| "-".to_owned(), code);
        lines.push(format!(
            "• *{:.3} s* {} pod {} client {} at {} referer {}",
            r.response_time,
            or_dash(&r.request),
            or_dash(&r.pod),
            or_dash(&r.client_ip),
            or_dash(&r.date_access),
            or_dash(&r.referer),
        ));
    }
    if count > MAX_LISTED {
        lines.push(format!("+{} more", count - MAX_LISTED));
    }
    Message {
        fallback: format!(
            "{count} slow responses over {threshold} s in {} {}: worst {worst:.3} s, p95 {p95:.3} s",
            env.commons, env.log_group
        ),
        header: format!("Slow responses in {}", env.commons),
        fields: vec![
            (
                "Environment".to_owned(),
                format!("{} / {}", code(&env.commons), code(&env.log_group)),
            ),
            (
                "Slow requests".to_owned(),
                format!("{count} over {threshold} s"),
            ),
            ("Worst".to_owned(), format!("{worst:.3} s")),
            ("p95".to_owned(), format!("{p95:.3} s")),
        ],
        sections: vec![lines.join("\n")],
        context: Some(escape(&format!(
            "csoc-forwarder slow-response check; worst document {}",
            requests.first().map_or("-", |r| r.doc_id.as_str())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_and_fragments_are_cut() {
        assert_eq!(
            redact_query("GET /a/b?sig=x&t=y HTTP/1.1"),
            "GET /a/b?... HTTP/1.1"
        );
        assert_eq!(
            redact_query("https://h/p#access_token=z"),
            "https://h/p?..."
        );
        assert_eq!(redact_query("/plain"), "/plain");
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), 19.0);
        assert_eq!(percentile(&[3.0], 95.0), 3.0);
    }
}

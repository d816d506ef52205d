//! One CloudWatch Embedded Metric Format (EMF) line per Lambda invocation.
//!
//! Lambda sends stdout to CloudWatch Logs, which turns the line into metrics in
//! [`DEFAULT_NAMESPACE`] (or `METRICS_NAMESPACE`) with the dimension `commons`. The
//! metric names are listed in [`METRICS`] and in the README, for alarms.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::report::Report;

pub use crate::config::DEFAULT_METRICS_NAMESPACE as DEFAULT_NAMESPACE;

/// The dimension every metric carries.
pub const DIMENSION: &str = "commons";

/// Every metric in the line: name, unit, and what it counts (for the README).
pub const METRICS: &[(&str, &str, &str)] = &[
    ("Records", "Count", "Kinesis records in the event"),
    ("LogEvents", "Count", "log events decoded"),
    ("Documents", "Count", "documents built"),
    (
        "Indexed",
        "Count",
        "documents in the index after the invocation (safe-indexed included)",
    ),
    (
        "SafeIndexed",
        "Count",
        "documents indexed in the safe form after a mapping error",
    ),
    (
        "Archived",
        "Count",
        "documents stored by the Firehose archive",
    ),
    (
        "DeadLettered",
        "Count",
        "records, events or documents kept in the dead letter",
    ),
    (
        "Retried",
        "Count",
        "records reported in batchItemFailures, left for Lambda to retry",
    ),
    ("Alerts", "Count", "Slack alerts sent"),
    (
        "Redacted",
        "Count",
        "credential-like values redacted (also one `Redacted.<pattern>` metric per pattern that fired)",
    ),
    ("Duration", "Milliseconds", "time spent handling the event"),
];

/// What the line says besides the counts.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Process start to this (first) invocation handled; only on a cold start.
    pub cold_start: Option<Duration>,
    /// Peak resident memory of the process so far (kB).
    pub max_rss_kb: Option<u64>,
    /// The Lambda request id.
    pub request_id: Option<String>,
}

/// The EMF JSON line (without the newline) for one invocation.
pub fn emf_line(
    namespace: &str,
    commons: &str,
    report: &Report,
    duration: Duration,
    extra: &Extra,
    timestamp_ms: i64,
) -> String {
    let c = &report.counts;
    let values = [
        c.records,
        c.log_events,
        c.documents,
        c.indexed,
        c.safe_indexed,
        c.archived,
        c.dead_lettered,
        c.retryable_failures,
        c.alerts,
        c.redacted.values().sum(),
    ];
    let mut line = Map::new();
    line.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[DIMENSION]],
                "Metrics": METRICS
                    .iter()
                    .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit }))
                    .chain(c.redacted.keys().map(|p| json!({ "Name": redacted_metric(p), "Unit": "Count" })))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    line.insert(DIMENSION.to_owned(), json!(commons));
    for ((name, _, _), value) in METRICS.iter().zip(values) {
        line.insert((*name).to_owned(), json!(value));
    }
    for (pattern, n) in &c.redacted {
        line.insert(redacted_metric(pattern), json!(n));
    }
    let ms = (duration.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    line.insert("Duration".to_owned(), json!(ms));
    line.insert("kind".to_owned(), json!(report.kind));
    line.insert(
        "control_messages".to_owned(),
        json!(report.counts.control_messages),
    );
    if let Some(cold) = extra.cold_start {
        line.insert(
            "cold_start_ms".to_owned(),
            json!((cold.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0),
        );
    }
    if let Some(kb) = extra.max_rss_kb {
        line.insert("max_rss_kb".to_owned(), json!(kb));
    }
    if let Some(id) = &extra.request_id {
        line.insert("request_id".to_owned(), json!(id));
    }
    Value::Object(line).to_string()
}

/// The metric counting the redactions of one scrubbing pattern.
pub fn redacted_metric(pattern: &str) -> String {
    format!("Redacted.{pattern}")
}

/// The process's peak resident set size (kB), from `/proc/self/status` (Linux).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Counts;

    #[test]
    fn line_declares_every_metric_and_carries_its_value() {
        let report = Report {
            kind: crate::event::EventKind::Kinesis,
            counts: Counts {
                records: 3,
                log_events: 10,
                documents: 9,
                indexed: 9,
                archived: 8,
                dead_lettered: 2,
                retryable_failures: 1,
                ..Counts::default()
            },
            response: json!({}),
            error: None,
        };
        let extra = Extra {
            cold_start: Some(Duration::from_micros(12_345)),
            max_rss_kb: Some(20_000),
            request_id: Some("r-1".to_owned()),
        };
        let line = emf_line("NS", "qa", &report, Duration::from_millis(7), &extra, 1_000);
        let v: Value = serde_json::from_str(&line).expect("json");
        let decl = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(decl["Namespace"], "NS");
        assert_eq!(decl["Dimensions"], json!([["commons"]]));
        assert_eq!(v["_aws"]["Timestamp"], 1_000);
        assert_eq!(v["commons"], "qa");
        for (name, _, _) in METRICS {
            assert!(v[name].is_number(), "{name} missing");
            assert!(
                decl["Metrics"]
                    .as_array()
                    .expect("metrics")
                    .iter()
                    .any(|m| m["Name"] == *name)
            );
        }
        assert_eq!(v["Records"], 3);
        assert_eq!(v["Archived"], 8);
        assert_eq!(v["Retried"], 1);
        assert_eq!(v["Duration"], 7.0);
        assert_eq!(v["cold_start_ms"], 12.345);
        assert_eq!(v["Redacted"], 0);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn redactions_are_counted_per_pattern() {
        let report = Report {
            kind: crate::event::EventKind::Kinesis,
            counts: Counts {
                redacted: [("query_param".to_owned(), 3), ("jwt".to_owned(), 1)].into(),
                ..Counts::default()
            },
            response: json!({}),
            error: None,
        };
        let line = emf_line("NS", "qa", &report, Duration::ZERO, &Extra::default(), 1);
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["Redacted"], 4);
        assert_eq!(v["Redacted.query_param"], 3);
        assert_eq!(v["Redacted.jwt"], 1);
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"].to_string();
        assert!(declared.contains("Redacted.query_param"), "{declared}");
        assert!(declared.contains("Redacted.jwt"), "{declared}");
    }

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
        }
    }
}

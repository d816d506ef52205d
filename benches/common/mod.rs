//! What the benches share: the Kinesis event shape the corpora are wrapped in, the
//! CONTROL_MESSAGE event, and running the release `csoc-forwarder process` on an event
//! for its own peak RSS. Each bench uses a part of it.
#![allow(dead_code)]

use std::borrow::Cow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use csoc_forwarder::decode::{self, CONTROL_MESSAGE, Envelope, LogEvent};
use serde_json::json;

/// The stream every bench event comes from.
pub const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:999999999999:stream/qaplanetv1_stream";

/// One Kinesis record of a Lambda event, carrying `data` (base64 of a gzipped envelope).
pub fn kinesis_record(seq: u64, data: String, clock_ms: i64) -> serde_json::Value {
    let seq = format!("4959033827149025660855969253836157109592157598913{seq:07}");
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "2f1c58b54e4b2a5a53ad1cbd1c6f8a5a",
            "sequenceNumber": seq,
            "data": data,
            "approximateArrivalTimestamp": clock_ms as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{seq}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::999999999999:role/qaplanetv1-csoc-forwarder",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
    })
}

/// The envelope CloudWatch Logs sends to check a destination.
pub fn control_envelope(clock_ms: i64) -> Envelope<'static> {
    Envelope {
        message_type: Cow::Borrowed(CONTROL_MESSAGE),
        owner: Cow::Borrowed("CloudwatchLogs"),
        log_group: Cow::Borrowed(""),
        log_stream: Cow::Borrowed(""),
        subscription_filters: vec![],
        log_events: vec![LogEvent {
            id: Cow::Borrowed(""),
            timestamp: clock_ms,
            message: Cow::Borrowed(
                "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
            ),
        }],
    }
}

/// A Lambda event of one record holding the control envelope.
pub fn control_event(clock_ms: i64) -> Vec<u8> {
    let record = kinesis_record(0, decode::encode(&control_envelope(clock_ms)), clock_ms);
    serde_json::to_vec(&json!({ "Records": [record] })).expect("event")
}

/// Runs `csoc-forwarder process` on `event` with `envs`: its own peak RSS in MB, and
/// seconds taken.
// The child is reaped by `wait4`, which also gives its own rusage (`Child::wait` cannot).
#[allow(clippy::zombie_processes)]
pub fn process_peak_rss(event: &Path, out: &Path, envs: &[(&str, &str)]) -> (f64, f64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"));
    cmd.arg("process")
        .arg("--out")
        .arg(out)
        .arg(event)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let child = cmd.spawn().expect("run csoc-forwarder");
    let pid = child.id() as libc::pid_t;
    // SAFETY: wait4 reaps this child (so `child` is never waited on) and only writes
    // into the status and rusage it is given.
    let (status, ru) = unsafe {
        let mut status: libc::c_int = 0;
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut ru), pid, "wait4");
        (status, ru)
    };
    let secs = started.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "csoc-forwarder process failed on {}: status {status}",
        event.display()
    );
    // ru_maxrss is in KiB on Linux.
    (ru.ru_maxrss as f64 * 1024.0 / 1e6, secs)
}

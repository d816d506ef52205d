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

/// SplitMix64: small, seeded, the same on every machine (the pipeline and Sigma
/// corpora; each bench adds the helpers its corpus needs).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Set when a bench binary runs as the peak-RSS probe (see [`rss_probe`]).
const PROBE: &str = "CSOC_BENCH_RSS_PROBE";

/// Runs `csoc-forwarder process` on `event` with `envs`: its own peak RSS in MB, and
/// seconds taken.
///
/// Measured through a probe: this bench binary started again, small, which runs the
/// command and reads its `ru_maxrss`. Spawned from the bench itself, the child's
/// `ru_maxrss` would be at least the bench's own peak (Linux records the memory a child
/// had before its `exec`, the parent's when spawned by `vfork`/`posix_spawn`), and the
/// bench holds its corpus. The probe's own few MB are the floor of the figure.
pub fn process_peak_rss(event: &Path, out: &Path, envs: &[(&str, &str)]) -> (f64, f64) {
    let output = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(PROBE, "1")
        .arg(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .arg("process")
        .arg("--out")
        .arg(out)
        .arg(event)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the peak-RSS probe");
    assert!(
        output.status.success(),
        "csoc-forwarder process failed on {}: {}",
        event.display(),
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    let mut next = || -> f64 {
        words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("probe output: {text:?}"))
    };
    let (kib, secs) = (next(), next());
    (kib * 1024.0 / 1e6, secs)
}

/// First thing in a bench's `main`: when this binary runs as the probe of
/// [`process_peak_rss`], runs the command it was given (its output discarded), prints
/// the command's peak RSS in KiB and the seconds it took, and exits; otherwise returns.
// The child is reaped by `wait4`, which also gives its own rusage (`Child::wait` cannot).
#[allow(clippy::zombie_processes)]
pub fn rss_probe() {
    if std::env::var_os(PROBE).is_none() {
        return;
    }
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("probe: a program to run");
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .env_remove(PROBE)
        .stdout(Stdio::null())
        .spawn()
        .expect("probe: run the program");
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
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        eprintln!("probe: the program failed: status {status}");
        std::process::exit(1);
    }
    // ru_maxrss is in KiB on Linux.
    println!("{} {secs}", ru.ru_maxrss);
    std::process::exit(0);
}

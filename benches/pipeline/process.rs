//! The real binary as a child process: its peak RSS on one 100-record event, and the
//! whole process on the corpus with its parts (start-up, alert evaluation, output
//! writing, file reading) measured one by one.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use csoc_forwarder::decode::{self, Decoder};
use csoc_forwarder::document::{Document, DocumentBuilder};
use csoc_forwarder::event::{self, Input};
use csoc_forwarder::sinks::firehose::archive;
use csoc_forwarder::sinks::opensearch::bulk;

use super::corpus::Corpus;
use super::timing::{Measurement, measure, median, ratios, rusage};
use super::{EVENTS, PROCESS_ROUNDS, TARGET_PROCESS_RATIO, Work, common, verdict};

// ---------------------------------------------------------------------------------------
// Peak RSS of the real binary

pub(super) struct Rss {
    pub(super) batch_mb: f64,
    pub(super) idle_mb: f64,
}

pub(super) fn peak_rss(corpus: &Corpus) -> Rss {
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = dir.path().join("event-100-records.json");
    std::fs::write(&batch, &corpus.events[0].json).expect("write event");
    let idle = dir.path().join("event-control-message.json");
    std::fs::write(&idle, &corpus.control_event_json).expect("write event");
    let idle_mb = child_max_rss_mb(&idle, &dir.path().join("out-idle"));
    let batch_mb = child_max_rss_mb(&batch, &dir.path().join("out-batch"));
    Rss { batch_mb, idle_mb }
}

/// The peak RSS of `csoc-forwarder process` on `event`, in MB.
fn child_max_rss_mb(event: &Path, out: &Path) -> f64 {
    common::process_peak_rss(event, out, &[]).0
}

// ---------------------------------------------------------------------------------------
// Outside the benchmarked path: the whole process, and its parts measured one by one

pub(super) struct Outside {
    /// `csoc-forwarder process` on the corpus: log events, then CPU seconds per run.
    pub(super) process_events: u64,
    pub(super) process_cpu: Vec<f64>,
    /// The decode-only rate (log events per CPU-second) of a repetition run just before
    /// each of those runs.
    pub(super) decode_rates: Vec<f64>,
    /// The same binary on a 1-record control message: CPU seconds per run (start-up,
    /// configuration, runtime, exit).
    pub(super) startup_cpu: Vec<f64>,
    pub(super) alerts: Measurement,
    pub(super) writing: Measurement,
    pub(super) reading: Measurement,
}

impl Outside {
    pub(super) fn print(&self) {
        let process_rate = self.process_events as f64 / median(self.process_cpu.clone());
        let process_rates: Vec<f64> = self
            .process_cpu
            .iter()
            .map(|cpu| self.process_events as f64 / cpu)
            .collect();
        let ratios = ratios(&process_rates, &self.decode_rates);
        let ratio = median(ratios.clone());
        println!();
        println!(
            "whole process, `csoc-forwarder process --threshold 1 --out DIR` on the corpus \
             ({PROCESS_ROUNDS} x {EVENTS} event files, {} log events; slow-response check and \
             default rules on, local sinks), per CPU-second (user + system) of the process, \
             median of {} runs: {:.0} log events/s = {:.2}x decode only (target >= \
             {TARGET_PROCESS_RATIO:.1}x: {}), the median of each run's ratio to a decode-only \
             repetition run just before it ({:.2}x to {:.2}x)",
            self.process_events,
            self.process_cpu.len(),
            process_rate,
            ratio,
            verdict(ratio >= TARGET_PROCESS_RATIO),
            ratios[0],
            ratios[ratios.len() - 1],
        );
        println!(
            "  start-up (same binary, 1-record control message): {:.1} ms of CPU per run",
            median(self.startup_cpu.clone()) * 1e3
        );
        for (name, m) in [
            ("alert evaluation (Alerter::evaluate)", &self.alerts),
            ("output writing (_bulk + archive files)", &self.writing),
            ("file reading (the event file)", &self.reading),
        ] {
            let eps = m.median_cpu_rate();
            println!(
                "  {name:<40} {eps:>12.0} log events/s  {:>8.0} ns/event",
                1e9 / eps
            );
        }
    }
}

pub(super) fn outside_the_pipeline(
    corpus: &Corpus,
    builder: &DocumentBuilder,
    reps: usize,
    rep: Duration,
    mut decode_only: impl FnMut(usize) -> Work,
) -> Outside {
    use csoc_forwarder::alerts::slow::SlowCheck;
    use csoc_forwarder::alerts::{Alerter, sigma::RuleSet};

    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<_> = (0..EVENTS)
        .map(|i| {
            let path = dir.path().join(format!("event-{i}.json"));
            std::fs::write(&path, &corpus.events[i].json).expect("write event");
            path
        })
        .collect();
    let control = dir.path().join("event-control.json");
    std::fs::write(&control, &corpus.control_event_json).expect("write event");

    let mut process_cpu = Vec::new();
    let mut startup_cpu = Vec::new();
    let mut decode_rates = Vec::new();
    for run in 0..3 {
        decode_rates.push(measure(1, rep, &mut decode_only).median_cpu_rate());
        let out = dir.path().join(format!("out-{run}"));
        let args: Vec<&Path> = (0..PROCESS_ROUNDS)
            .flat_map(|_| files.iter().map(|p| p.as_path()))
            .collect();
        process_cpu.push(child_cpu_seconds(&args, &out));
        startup_cpu.push(child_cpu_seconds(&[&control], &dir.path().join("out-idle")));
    }

    // The parts, in this process, per corpus event.
    let docs: Vec<Vec<Document>> = (0..EVENTS)
        .map(|i| documents(builder, &corpus.events[i].json))
        .collect();
    let alerter = Alerter::new(
        Some(SlowCheck {
            threshold: 1.0,
            streams: csoc_forwarder::config::DEFAULT_SLOW_LOG_STREAMS
                .split(',')
                .map(str::to_owned)
                .collect(),
        }),
        RuleSet::builtin(),
        None,
    );
    let alerts = measure(reps, rep, |i| {
        black_box(alerter.evaluate(&docs[i]));
        Work {
            log_events: docs[i].len() as u64,
            ..Work::default()
        }
    });
    // Per event: its `_bulk` bodies, then its Firehose record batches.
    let bodies: Vec<Vec<Vec<u8>>> = docs
        .iter()
        .map(|d| {
            let bulk = bulk::chunk_ranges(d, bulk::DEFAULT_MAX_BYTES, bulk::DEFAULT_MAX_DOCS)
                .into_iter()
                .map(|r| bulk::encode_body(&d[r]));
            let archive = archive::batch_ranges(d)
                .into_iter()
                .map(|r| archive::encode_batch(&d[r]).0);
            bulk.chain(archive).collect()
        })
        .collect();
    let out = dir.path().join("out-parts");
    std::fs::create_dir_all(&out).expect("out dir");
    let writing = measure(reps, rep, |i| {
        // As the local sinks write: a temporary file, then renamed into place.
        for (n, body) in bodies[i].iter().enumerate() {
            let tmp = out.join(format!("{n}.tmp"));
            std::fs::write(&tmp, body).expect("write");
            std::fs::rename(&tmp, out.join(format!("{n}.json"))).expect("rename");
        }
        Work {
            log_events: docs[i].len() as u64,
            ..Work::default()
        }
    });
    let reading = measure(reps, rep, |i| {
        black_box(std::fs::read(&files[i]).expect("read"));
        Work {
            log_events: docs[i].len() as u64,
            ..Work::default()
        }
    });
    Outside {
        process_events: PROCESS_ROUNDS as u64 * docs.iter().map(|d| d.len() as u64).sum::<u64>(),
        process_cpu,
        decode_rates,
        startup_cpu,
        alerts,
        writing,
        reading,
    }
}

/// The documents of one Kinesis event.
fn documents(builder: &DocumentBuilder, event_json: &[u8]) -> Vec<Document> {
    let Ok(Input::Kinesis(event)) = event::parse(event_json) else {
        panic!("the corpus is a Kinesis event");
    };
    let mut decoder = Decoder::new(decode::DEFAULT_MAX_DECOMPRESSED_BYTES);
    let mut docs = Vec::new();
    for record in &event.records {
        let env = decoder
            .decode(&record.kinesis.data)
            .expect("corpus decodes");
        if !env.is_control_message() {
            let documents = builder.envelope(&env);
            for log_event in &env.log_events {
                docs.push(documents.build(log_event).expect("corpus builds"));
            }
        }
    }
    docs
}

/// CPU seconds (user + system) of `csoc-forwarder process --threshold 1 --out OUT FILES…`.
fn child_cpu_seconds(files: &[&Path], out: &Path) -> f64 {
    let before = rusage(libc::RUSAGE_CHILDREN);
    let status = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .arg("process")
        .arg("--threshold")
        .arg("1")
        .arg("--out")
        .arg(out)
        .args(files)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run csoc-forwarder");
    assert!(status.success(), "csoc-forwarder process failed: {status}");
    let after = rusage(libc::RUSAGE_CHILDREN);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(after.ru_utime) + tv(after.ru_stime)) - (tv(before.ru_utime) + tv(before.ru_stime))
}

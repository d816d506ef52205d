//! The pipeline benchmark (issue #2): the Lambda handler's CPU work on Kinesis events,
//! with no I/O and no network, on a corpus this file generates (seeded, deterministic).
//!
//! Measured per event, single-threaded: `event::parse` → per record `Decoder::decode`
//! (base64 → capped gunzip → envelope) → `Scrubber::scrub_event` and
//! `DocumentBuilder::envelope(..).build` for every log event →
//! `_bulk` bodies (`bulk::chunk_ranges` + `encode_body`) and Firehose records
//! (`archive::batch_ranges` + `encode_batch`), all serialized.
//!
//! Also: the "base64 + gunzip + envelope parse only" rate (its repetitions alternate with
//! the full pipeline's, and their ratio is taken pair by pair), the peak RSS of the real
//! binary (`csoc-forwarder process`) on one 100-record event, as a child process, and
//! (issue #15) that binary's rate on the whole corpus as a process (alerts on, local
//! sinks) against the decode-only rate, with start-up, alert evaluation, output writing
//! and file reading measured apart.
//!
//! Files: this one (options, what is measured, the report), `pipeline/corpus.rs` (the
//! generated corpus), `pipeline/timing.rs` (repetitions on the thread's CPU clock,
//! medians), `pipeline/process.rs` (the real binary as a child: peak RSS, the whole
//! process and its parts).
//!
//! Run: `cargo bench --bench pipeline`. Options (after `--`):
//!   --seconds S        time per repetition (default 1.5)
//!   --reps N           repetitions, the median is reported (default 5)
//!   --write-event PATH write one generated 100-record event to PATH and exit
//!   --passes N         no timing: run the full pipeline N times over the corpus (or, with
//!                      --decode-only, the decode baseline) and exit; for instruction
//!                      counts, e.g. `valgrind --tool=callgrind` (subtract a `--passes 0` run)
//!   --no-scrub         leave out credential scrubbing (`scrub::Scrubber`, on by default
//!                      in the Lambda): the difference is what scrubbing costs
//!   --no-bulk          leave out the `_bulk` bodies (documents + Firehose records only):
//!                      with --passes, or in place of the full pipeline when timed; the
//!                      difference is what bulk encoding adds (BENCHMARKS.md)
//!   --unsorted-keys    the corpus's JSON messages with their keys in an order of their
//!                      own, as loggers write them, instead of serde_json's sorted order
//!                      (the same messages otherwise; BENCHMARKS.md "Twelfth round")
//!   --float-times      nginx's `http_response_time` written as a number (`0.123`), as
//!                      `log_format … escape=json` formats with `$request_time` unquoted
//!                      do, instead of a string: a float in every nginx message
//!                      (BENCHMARKS.md "Fourteenth round")
//!   --go-escapes       the corpus's JSON messages with `&`, `<` and `>` escaped as Go's
//!                      `encoding/json` writes them (`\u0026`, …): every nginx message's
//!                      query string (BENCHMARKS.md "Fifteenth round")

mod common;
#[path = "pipeline/corpus.rs"]
mod corpus;
#[path = "pipeline/process.rs"]
mod process;
#[path = "pipeline/timing.rs"]
mod timing;

/// The allocator the binary ships with (src/main.rs), so the in-process figures are
/// those of the code as it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use csoc_forwarder::decode::{self, Decoder};
use csoc_forwarder::document::{DEFAULT_INDEX_PREFIX, Document, DocumentBuilder, Limits};
use csoc_forwarder::event::{self, Input};
use csoc_forwarder::scrub::{Redactions, Scrubber};
use csoc_forwarder::sinks::firehose::archive;
use csoc_forwarder::sinks::opensearch::bulk;

use corpus::{Corpus, KeyOrder, ResponseTime, Style};
use process::{outside_the_pipeline, peak_rss};
use timing::{measure_pair, median, pair_ratios, warm_up};

/// Kinesis events in the corpus (distinct data, cycled through while measuring).
const EVENTS: usize = 4;
const RECORDS_PER_EVENT: usize = 100;
/// Records per event that are CloudWatch Logs CONTROL_MESSAGEs.
const CONTROL_RECORDS: [usize; 2] = [0, 57];
const SEED: u64 = 0x2026_1122;

const TARGET_EVENTS_PER_SEC: f64 = 220_000.0;
const TARGET_RSS_MB: f64 = 48.0;
/// Issue #15: the full pipeline at >= 0.6x, the whole process at >= 0.4x, of the
/// decode-only rate measured in the same run.
const TARGET_RATIO_TO_DECODE: f64 = 0.6;
const TARGET_PROCESS_RATIO: f64 = 0.4;
/// Times the whole process reads the corpus's 4 events in one run (so start-up is a
/// small part of it; it is measured on its own too).
const PROCESS_ROUNDS: usize = 3;

fn main() {
    common::rss_probe();
    let opts = Options::from_args();
    let style = Style {
        order: if opts.unsorted_keys {
            KeyOrder::Unsorted
        } else {
            KeyOrder::Sorted
        },
        response_time: if opts.float_times {
            ResponseTime::Number
        } else {
            ResponseTime::Text
        },
        go_escapes: opts.go_escapes,
    };
    let corpus = Corpus::generate(SEED, style);

    if let Some(path) = &opts.write_event {
        std::fs::write(path, &corpus.events[0].json).expect("write event file");
        eprintln!("wrote one {RECORDS_PER_EVENT}-record event to {path}");
        return;
    }

    let builder = DocumentBuilder::new("local", DEFAULT_INDEX_PREFIX, Limits::default());
    let bulk = !opts.no_bulk;
    let scrubber = (!opts.no_scrub).then(Scrubber::built_in);
    let scrubber = scrubber.as_ref();
    if let Some(passes) = opts.passes {
        let mut n = 0;
        for _ in 0..passes {
            for event in &corpus.events {
                n += if opts.decode_only {
                    decode_only(&event.json).log_events
                } else {
                    pipeline(&builder, scrubber, &event.json, bulk).log_events
                };
            }
        }
        println!("{n} log events");
        return;
    }

    print_machine();
    corpus.describe();

    let rep = Duration::from_secs_f64(opts.seconds);

    // The full pipeline and the baseline (base64 + gunzip + envelope parse only), one
    // repetition of each in turn.
    let events = |i: usize| corpus.events[i].json.as_slice();
    warm_up(|i| pipeline(&builder, scrubber, events(i), bulk));
    warm_up(|i| decode_only(events(i)));
    let (full, base) = measure_pair(
        opts.reps,
        rep,
        |i| pipeline(&builder, scrubber, events(i), bulk),
        |i| decode_only(events(i)),
    );

    let rss = peak_rss(&corpus);
    let outside = outside_the_pipeline(&corpus, &builder, opts.reps, rep, |i| {
        decode_only(events(i))
    });

    let decoded_per_event = corpus.decoded_bytes as f64 / corpus.log_events as f64;
    println!();
    println!(
        "{:<44} {:>14} {:>12} {:>12}",
        "measure (median of reps, single thread)", "log events/s", "decoded MB/s", "ns/event"
    );
    for (name, m) in [
        (
            if bulk {
                "full pipeline (per CPU-second)"
            } else {
                "pipeline without _bulk bodies (per CPU-s)"
            },
            &full,
        ),
        ("base64+gunzip+envelope only (per CPU-second)", &base),
    ] {
        let eps = m.median_cpu_rate();
        println!(
            "{:<44} {:>14.0} {:>12.1} {:>12.0}",
            name,
            eps,
            eps * decoded_per_event / 1e6,
            1e9 / eps
        );
    }
    println!(
        "full pipeline per wall-second (median): {:.0} log events/s; reps (CPU-s rate): {}",
        full.median_wall_rate(),
        full.cpu_rates()
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "output per log event: {:.0} bytes of _bulk body + {:.0} bytes of Firehose records",
        full.out_bulk as f64 / full.log_events as f64,
        full.out_archive as f64 / full.log_events as f64
    );
    println!(
        "peak RSS, `csoc-forwarder process` on one {RECORDS_PER_EVENT}-record event \
         ({:.1} MB of event JSON, {:.1} MB gunzipped): {:.1} MB (same binary on a \
         1-record control message: {:.1} MB)",
        corpus.events[0].json.len() as f64 / 1e6,
        corpus.events[0].decoded_bytes as f64 / 1e6,
        rss.batch_mb,
        rss.idle_mb
    );

    outside.print();

    let eps = full.median_cpu_rate();
    let ratios = pair_ratios(&full, &base);
    let ratio = median(ratios.clone());
    println!(
        "full pipeline / decode only: {:.2}x (target >= {TARGET_RATIO_TO_DECODE:.1}x: {}), the \
         median of the {} repetitions' ratios, each to the decode-only repetition run next \
         to it ({:.2}x to {:.2}x; the ratio of the medians: {:.2}x)",
        ratio,
        verdict(ratio >= TARGET_RATIO_TO_DECODE),
        ratios.len(),
        ratios[0],
        ratios[ratios.len() - 1],
        eps / base.median_cpu_rate()
    );
    println!("load average at the end: {}", load_average());
    println!();
    println!(
        "target: >= {TARGET_EVENTS_PER_SEC:.0} log events/s per core: {} ({:+.1}%)",
        verdict(eps >= TARGET_EVENTS_PER_SEC),
        (eps / TARGET_EVENTS_PER_SEC - 1.0) * 100.0
    );
    println!(
        "target: peak RSS <= {TARGET_RSS_MB:.0} MB for a {RECORDS_PER_EVENT}-record batch: {} ({:.1} MB)",
        verdict(rss.batch_mb <= TARGET_RSS_MB),
        rss.batch_mb
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

struct Options {
    seconds: f64,
    reps: usize,
    write_event: Option<String>,
    passes: Option<usize>,
    decode_only: bool,
    no_bulk: bool,
    no_scrub: bool,
    unsorted_keys: bool,
    float_times: bool,
    go_escapes: bool,
}

impl Options {
    fn from_args() -> Self {
        let mut opts = Options {
            seconds: 1.5,
            reps: 5,
            write_event: None,
            passes: None,
            decode_only: false,
            no_bulk: false,
            no_scrub: false,
            unsorted_keys: false,
            float_times: false,
            go_escapes: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--seconds" => opts.seconds = args.next().and_then(|v| v.parse().ok()).unwrap(),
                "--reps" => opts.reps = args.next().and_then(|v| v.parse().ok()).unwrap(),
                "--write-event" => opts.write_event = args.next(),
                "--passes" => opts.passes = args.next().and_then(|v| v.parse().ok()),
                "--decode-only" => opts.decode_only = true,
                "--no-bulk" => opts.no_bulk = true,
                "--no-scrub" => opts.no_scrub = true,
                "--unsorted-keys" => opts.unsorted_keys = true,
                "--float-times" => opts.float_times = true,
                "--go-escapes" => opts.go_escapes = true,
                // `cargo bench` passes `--bench`; filters are meaningless here.
                _ => {}
            }
        }
        opts.reps = opts.reps.max(1);
        opts
    }
}

// ---------------------------------------------------------------------------------------
// What is measured

#[derive(Default, Clone, Copy)]
struct Work {
    log_events: u64,
    bulk_bytes: u64,
    archive_bytes: u64,
}

/// The handler's CPU work on one Kinesis event (see `pipeline::kinesis`
/// and the local sinks), minus the file writes. `bulk: false` leaves out the `_bulk` bodies.
fn pipeline(
    builder: &DocumentBuilder,
    scrubber: Option<&Scrubber>,
    event_json: &[u8],
    bulk: bool,
) -> Work {
    let Ok(Input::Kinesis(event)) = event::parse(event_json) else {
        panic!("the corpus is a Kinesis event");
    };
    let mut work = Work::default();
    let mut decoder = Decoder::new(decode::DEFAULT_MAX_DECOMPRESSED_BYTES);
    let mut docs: Vec<Document> = Vec::with_capacity(event.records.len() * 8);
    let mut redactions = Redactions::new();
    for record in &event.records {
        let env = decoder
            .decode(&record.kinesis.data)
            .expect("corpus decodes");
        if env.is_control_message() {
            continue;
        }
        let documents = builder.envelope(&env);
        for log_event in &env.log_events {
            work.log_events += 1;
            let log_event = match scrubber {
                Some(s) => s.scrub_event(log_event, &mut redactions),
                None => Cow::Borrowed(log_event),
            };
            docs.push(documents.build(&log_event).expect("corpus builds"));
        }
    }
    if bulk {
        for range in bulk::chunk_ranges(&docs, bulk::DEFAULT_MAX_BYTES, bulk::DEFAULT_MAX_DOCS) {
            let body = bulk::encode_body(&docs[range]);
            work.bulk_bytes += black_box(&body).len() as u64;
        }
    }
    for range in archive::batch_ranges(&docs) {
        let (body, truncated) = archive::encode_batch(&docs[range]);
        black_box(truncated);
        work.archive_bytes += black_box(&body).len() as u64;
    }
    work
}

/// The baseline: event parse, then base64 + gunzip + envelope parse of every record.
fn decode_only(event_json: &[u8]) -> Work {
    let Ok(Input::Kinesis(event)) = event::parse(event_json) else {
        panic!("the corpus is a Kinesis event");
    };
    let mut work = Work::default();
    let mut decoder = Decoder::new(decode::DEFAULT_MAX_DECOMPRESSED_BYTES);
    for record in &event.records {
        let env = decoder
            .decode(&record.kinesis.data)
            .expect("corpus decodes");
        if !env.is_control_message() {
            work.log_events += black_box(&env).log_events.len() as u64;
        }
    }
    work
}

// ---------------------------------------------------------------------------------------
// The machine

fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k.trim(), "model name" | "Model" | "CPU part").then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {model}, {cores} cores available, {} {}; load average {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        load_average()
    );
}

/// The 1-minute load average: rates are per CPU-second of the benchmark thread, but
/// other work on the machine still shares caches and cores.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

//! The memory benchmark (issue #11): peak RSS of `csoc-forwarder process` on the largest
//! Kinesis events Lambda can deliver (a 6 MB payload), against the 100 MB target.
//! Benchmark-style: it prints figures and a verdict, it does not fail on them.
//!
//! Two generated events (seeded, deterministic), each about 5.9 MB of event JSON:
//! - access-log records of about 1 MiB gunzipped each (nginx JSON lines as the
//!   gen3 reverse proxy writes them, varied the way real traffic is);
//! - records just under the decompression cap (`MAX_DECOMPRESSED_BYTES`, 8 MiB), of
//!   repetitive access-log lines that compress about 100:1, the worst case for memory
//!   that holds decoded data.
//!
//! Each event is processed by the release binary as a child process with the local
//! sinks (files in a temp dir); its own peak RSS comes from `wait4`.
//!
//! Run: `cargo bench --bench memory` (`make bench` runs it). Options (after `--`):
//!   --write-events DIR  write the two events to DIR and exit
//!   --chunk-bytes N     run with DELIVERY_CHUNK_BYTES=N

mod common;

use std::borrow::Cow;
use std::path::Path;

use csoc_forwarder::decode::{self, Envelope, LogEvent};
use serde_json::json;

/// Lambda's synchronous payload limit is 6 MB; the event JSON stays just below.
const EVENT_BYTES: usize = 5_900_000;
const ONE_MIB: usize = 1024 * 1024;
/// The default decompression cap, less room for the envelope's closing bytes.
const UNDER_CAP: usize = decode::DEFAULT_MAX_DECOMPRESSED_BYTES - 4096;
const TARGET_MB: f64 = 100.0;
const SEED: u64 = 0x2026_1129;

fn main() {
    common::rss_probe();
    let mut write_to = None;
    let mut chunk_bytes = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write-events" => write_to = args.next(),
            "--chunk-bytes" => chunk_bytes = args.next(),
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }

    let mut rng = Rng(SEED);
    let events = [
        (
            "~1 MiB access-log records",
            generate(&mut rng, ONE_MIB, false),
        ),
        (
            "records just under the 8 MiB cap",
            generate(&mut rng, UNDER_CAP, true),
        ),
    ];

    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(out) = &write_to {
        for (i, (_, event)) in events.iter().enumerate() {
            let path = Path::new(out).join(format!("memory-event-{}.json", i + 1));
            std::fs::write(&path, &event.json).expect("write event");
            eprintln!("wrote {}", path.display());
        }
        return;
    }

    println!(
        "peak RSS of `csoc-forwarder process` (release, local sinks) on 6 MB Kinesis events; \
         DELIVERY_CHUNK_BYTES={}",
        chunk_bytes.as_deref().unwrap_or("default (4194304)")
    );
    let idle = dir.path().join("idle.json");
    std::fs::write(&idle, common::control_event(1_795_932_000_000)).expect("write event");
    let (idle_mb, _) = run(&idle, &dir.path().join("out-idle"), chunk_bytes.as_deref());
    println!("  idle (one control-message record): {idle_mb:.1} MB");
    let mut worst: f64 = 0.0;
    for (i, (name, event)) in events.iter().enumerate() {
        let path = dir.path().join(format!("event-{i}.json"));
        std::fs::write(&path, &event.json).expect("write event");
        let (mb, secs) = run(
            &path,
            &dir.path().join(format!("out-{i}")),
            chunk_bytes.as_deref(),
        );
        worst = worst.max(mb);
        println!(
            "  {name}: {} records, {:.2} MB event JSON, {:.0} MB gunzipped, {} log events: \
             peak RSS {mb:.1} MB ({secs:.1} s)",
            event.records,
            event.json.len() as f64 / 1e6,
            event.decoded as f64 / 1e6,
            event.log_events,
        );
        // The output is not kept: the next run starts from the same disk.
        let _ = std::fs::remove_dir_all(dir.path().join(format!("out-{i}")));
    }
    println!(
        "target: peak RSS < {TARGET_MB:.0} MB for any event Lambda can deliver: {} ({worst:.1} MB)",
        if worst < TARGET_MB { "met" } else { "MISSED" }
    );
}

/// Runs `csoc-forwarder process` on `event`: its own peak RSS in MB, and seconds taken.
fn run(event: &Path, out: &Path, chunk_bytes: Option<&str>) -> (f64, f64) {
    match chunk_bytes {
        Some(n) => common::process_peak_rss(event, out, &[("DELIVERY_CHUNK_BYTES", n)]),
        None => common::process_peak_rss(event, out, &[]),
    }
}

struct Event {
    json: Vec<u8>,
    records: usize,
    decoded: usize,
    log_events: usize,
}

/// Records of `record_bytes` gunzipped each (envelope JSON) until the event JSON
/// reaches [`EVENT_BYTES`].
fn generate(rng: &mut Rng, record_bytes: usize, repetitive: bool) -> Event {
    let mut records = Vec::new();
    let mut json_bytes = 20;
    let (mut decoded, mut log_events) = (0, 0);
    // 2026-11-29T06:00:00Z
    let mut clock_ms: i64 = 1_795_932_000_000;
    let template = nginx_line(rng, clock_ms);
    loop {
        let seq = records.len() as u64 + 1;
        let env = envelope(rng, record_bytes, repetitive, &template, &mut clock_ms, seq);
        let record = common::kinesis_record(seq, decode::encode(&env), clock_ms);
        let len = serde_json::to_vec(&record).expect("record").len() + 1;
        if json_bytes + len > EVENT_BYTES {
            break;
        }
        json_bytes += len;
        decoded += serde_json::to_vec(&env).expect("envelope").len();
        log_events += env.log_events.len();
        records.push(record);
    }
    Event {
        records: records.len(),
        json: serde_json::to_vec(&json!({ "Records": records })).expect("event"),
        decoded,
        log_events,
    }
}

fn envelope(
    rng: &mut Rng,
    bytes: usize,
    repetitive: bool,
    template: &str,
    clock_ms: &mut i64,
    seq: u64,
) -> Envelope<'static> {
    let mut log_events = Vec::new();
    // The envelope's own fields, then per event its message (escaped about 10%
    // larger), a 56-digit id, a timestamp and the JSON around them.
    let mut size = 300;
    loop {
        *clock_ms += 1 + rng.below(5) as i64;
        let message = if repetitive {
            template.replacen("REQ", &format!("{:016x}", log_events.len()), 1)
        } else {
            nginx_line(rng, *clock_ms)
        };
        let add = message.len() + message.len() / 8 + 110;
        if size + add > bytes {
            break;
        }
        size += add;
        log_events.push(LogEvent {
            id: Cow::Owned(format!(
                "3568926364839183747297373978172801970139024{seq:07}{:06}",
                log_events.len()
            )),
            timestamp: *clock_ms,
            message: Cow::Owned(message),
        });
    }
    Envelope {
        message_type: Cow::Borrowed("DATA_MESSAGE"),
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Borrowed("qaplanetv1"),
        log_stream: Cow::Owned(format!(
            "revproxy-deployment-5d9c8b7f6-{}_default_revproxy",
            rng.word(5)
        )),
        subscription_filters: vec![Cow::Borrowed("qaplanetv1-csoc")],
        log_events,
    }
}

/// One nginx access-log line as the gen3 reverse proxy writes it (JSON); `REQ` marks
/// the request id, filled in by the repetitive generator.
fn nginx_line(rng: &mut Rng, ms: i64) -> String {
    let secs = ms / 1000;
    json!({
        "gen3log": "nginx",
        "date_access": format!("{secs}"),
        "user_id": format!("user{}@example.org", rng.below(5000)),
        "request_id": "REQ",
        "session_id": rng.hex(24),
        "visitor_id": rng.hex(24),
        "network_client_ip": format!("73.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256)),
        "network_bytes_write": rng.below(200_000),
        "http_status_code": *rng.pick(&[200, 200, 200, 204, 302, 304, 403, 404, 500]),
        "http_request": format!("/user/data/download/dg.4503/{}?expires_in=900&signature={}", rng.hex(8), rng.word(32)),
        "http_verb": rng.pick(&["GET", "GET", "POST", "PUT"]),
        "http_referer": format!("https://qa.planx-pla.net/{}", rng.word(10)),
        "http_useragent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "http_upstream": format!("http://{}-service/", rng.pick(&["fence", "sheepdog", "peregrine", "indexd"])),
        "http_response_time": format!("0.{:03}", rng.below(900)),
        "stream": "stdout",
        "kubernetes": {
            "container_name": "revproxy",
            "namespace_name": "default",
            "pod_name": format!("revproxy-deployment-5d9c8b7f6-{}", rng.word(5)),
            "host": format!("ip-172-24-{}-{}.ec2.internal", rng.below(256), rng.below(256)),
        },
    })
    .to_string()
}

/// xorshift64*: deterministic and fast; not for secrets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
    fn word(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }
}

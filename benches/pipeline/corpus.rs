//! The generated corpus (seeded, deterministic): Kinesis events of CloudWatch Logs
//! records of nginx, application, CloudTrail and syslog messages.

use std::borrow::Cow;

use csoc_forwarder::decode::{self, Envelope, LogEvent};
use serde_json::json;

use super::common::Rng;
use super::{CONTROL_RECORDS, EVENTS, RECORDS_PER_EVENT, common};

// ---------------------------------------------------------------------------------------
// The corpus

pub(super) struct CorpusEvent {
    pub(super) json: Vec<u8>,
    pub(super) decoded_bytes: usize,
}

pub(super) struct Corpus {
    pub(super) events: Vec<CorpusEvent>,
    pub(super) control_event_json: Vec<u8>,
    /// Per event of the corpus, on average: gunzipped bytes and log events.
    pub(super) decoded_bytes: usize,
    pub(super) log_events: usize,
    pub(super) message_bytes: usize,
    pub(super) kinds: [usize; 4],
}

const ACCOUNT: &str = "123456789012";

/// The order of the keys of the JSON messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyOrder {
    /// serde_json's (sorted): the default, as the rounds in BENCHMARKS.md measured.
    Sorted,
    /// An order of each key's own (a hash of it), as loggers write keys in an order of
    /// theirs (nginx's `log_format`, CloudTrail, fluentd): neither sorted nor reversed.
    Unsorted,
}

/// How nginx writes `http_response_time`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ResponseTime {
    /// A string (`"0.123"`: gen3's `log_format` quotes `$request_time`): the default, as
    /// the rounds in BENCHMARKS.md measured.
    Text,
    /// A number (`0.123`), as `log_format … escape=json` formats that leave
    /// `$request_time` unquoted write it: a float in every nginx message.
    Number,
}

/// How the JSON messages are written.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) order: KeyOrder,
    pub(super) response_time: ResponseTime,
    /// `&`, `<` and `>` in JSON messages escaped as Go's `encoding/json` writes them
    /// (`\u0026`, `\u003c`, `\u003e`); off by default, as the rounds in BENCHMARKS.md
    /// measured.
    pub(super) go_escapes: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Nginx,
    App,
    CloudTrail,
    Syslog,
}

impl Corpus {
    pub(super) fn generate(seed: u64, style: Style) -> Self {
        let mut rng = Rng(seed);
        let mut events = Vec::new();
        let (mut decoded, mut log_events, mut message_bytes, mut kinds) = (0, 0, 0, [0; 4]);
        // 2026-11-22T06:00:00Z
        let mut clock_ms: i64 = 1_795_327_200_000;
        let mut seq: u64 = 0;
        for _ in 0..EVENTS {
            let mut records = Vec::with_capacity(RECORDS_PER_EVENT);
            let mut event_decoded = 0;
            for r in 0..RECORDS_PER_EVENT {
                seq += 1;
                let env = if CONTROL_RECORDS.contains(&r) {
                    common::control_envelope(clock_ms)
                } else {
                    let kind = match rng.below(100) {
                        0..40 => Kind::Nginx,
                        40..65 => Kind::App,
                        65..80 => Kind::CloudTrail,
                        _ => Kind::Syslog,
                    };
                    let n = 40 + rng.below(21) as usize;
                    kinds[kind as usize] += n;
                    let env = data_envelope(&mut rng, kind, n, &mut clock_ms, seq, style);
                    log_events += n;
                    message_bytes += env
                        .log_events
                        .iter()
                        .map(|e| e.message.len())
                        .sum::<usize>();
                    env
                };
                let plain = serde_json::to_vec(&env).expect("envelope serializes").len();
                event_decoded += plain;
                records.push(common::kinesis_record(seq, decode::encode(&env), clock_ms));
            }
            decoded += event_decoded;
            events.push(CorpusEvent {
                json: serde_json::to_vec(&json!({ "Records": records })).unwrap(),
                decoded_bytes: event_decoded,
            });
        }
        let control = json!({ "Records": [common::kinesis_record(0, decode::encode(&common::control_envelope(clock_ms)), clock_ms)] });
        Corpus {
            events,
            control_event_json: serde_json::to_vec(&control).unwrap(),
            decoded_bytes: decoded / EVENTS,
            log_events: log_events / EVENTS,
            message_bytes: message_bytes / EVENTS,
            kinds,
        }
    }

    pub(super) fn describe(&self) {
        let total: usize = self.kinds.iter().sum();
        let pct = |i: usize| 100.0 * self.kinds[i] as f64 / total as f64;
        println!(
            "corpus: {EVENTS} Kinesis events x {RECORDS_PER_EVENT} records ({} control messages each); \
             per event on average {} log events, {:.2} MB gunzipped, {:.0} bytes of message per log event; \
             event JSON {:.2} MB",
            CONTROL_RECORDS.len(),
            self.log_events,
            self.decoded_bytes as f64 / 1e6,
            self.message_bytes as f64 / self.log_events as f64,
            self.events[0].json.len() as f64 / 1e6,
        );
        println!(
            "        log events: nginx JSON {:.0}%, app JSON (fluentd/Kubernetes) {:.0}%, CloudTrail {:.0}%, syslog text {:.0}%",
            pct(0),
            pct(1),
            pct(2),
            pct(3)
        );
    }
}

fn data_envelope(
    rng: &mut Rng,
    kind: Kind,
    n: usize,
    clock_ms: &mut i64,
    seq: u64,
    style: Style,
) -> Envelope<'static> {
    let (group, stream) = match kind {
        Kind::Nginx => (
            "qaplanetv1".to_owned(),
            format!(
                "revproxy-deployment-5d9c8b7f6-{}_default_revproxy",
                rng.word(5)
            ),
        ),
        Kind::App => (
            "qaplanetv1".to_owned(),
            format!("fence-deployment-7d9f8c6b5-{}_default_fence", rng.word(5)),
        ),
        Kind::CloudTrail => (
            "qaplanetv1-cloudtrail".to_owned(),
            format!("{ACCOUNT}_CloudTrail_us-east-1"),
        ),
        Kind::Syslog => (
            "qaplanetv1".to_owned(),
            format!("i-0a1b2c3d4e5f{:05x}/var/log/messages", rng.below(1 << 20)),
        ),
    };
    let mut log_events = Vec::with_capacity(n);
    for i in 0..n {
        *clock_ms += 1 + rng.below(40) as i64;
        let message = match kind {
            Kind::Nginx => nginx_message(rng, *clock_ms, style.response_time),
            Kind::App => app_message(rng, *clock_ms),
            Kind::CloudTrail => cloudtrail_message(rng, *clock_ms),
            Kind::Syslog => syslog_message(rng, *clock_ms),
        };
        let message = match style.order {
            KeyOrder::Sorted => message,
            KeyOrder::Unsorted => unsorted(&message),
        };
        let message = if style.go_escapes && message.starts_with('{') {
            // Outside strings a JSON text has none of these characters.
            message
                .replace('&', "\\u0026")
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
        } else {
            message
        };
        log_events.push(LogEvent {
            // CloudWatch Logs ids: 56 digits.
            id: Cow::Owned(format!(
                "3568926364839183747297373978172801970139024{seq:07}{i:06}"
            )),
            timestamp: *clock_ms,
            message: Cow::Owned(message),
        });
    }
    Envelope {
        message_type: Cow::Borrowed("DATA_MESSAGE"),
        owner: Cow::Borrowed(ACCOUNT),
        log_group: Cow::Owned(group),
        log_stream: Cow::Owned(stream),
        subscription_filters: vec![Cow::Borrowed("qaplanetv1-csoc")],
        log_events,
    }
}

/// A JSON message's text with every object's keys in [`KeyOrder::Unsorted`] order; other
/// text as it is.
fn unsorted(message: &str) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        let hash = |k: &str| {
            k.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        };
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by_key(|(k, _)| hash(k));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            v => out.push_str(&v.to_string()),
        }
    }
    match serde_json::from_str::<serde_json::Value>(message) {
        Ok(v @ serde_json::Value::Object(_)) => {
            let mut out = String::with_capacity(message.len());
            write(&v, &mut out);
            out
        }
        _ => message.to_owned(),
    }
}

fn kubernetes(rng: &mut Rng, app: &str) -> serde_json::Value {
    json!({
        "container_name": app,
        "namespace_name": "default",
        "pod_name": format!("{app}-deployment-5d9c8b7f6-{}", rng.word(5)),
        "pod_id": format!("7c1e6c52-22c1-11e8-b5b6-{}", rng.hex(12)),
        "labels": {
            "app": app,
            "pod-template-hash": "1857463924",
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/part-of": "gen3",
        },
        "host": format!("ip-172-24-{}-{}.ec2.internal", rng.below(256), rng.below(256)),
        "master_url": "https://172.20.0.1:443/api",
        "namespace_id": "2a4d5e6f-22c1-11e8-b5b6-0a5f2c1a3e4e",
    })
}

const PATHS: [&str; 6] = [
    "/user/user",
    "/api/v0/submission/graphql",
    "/user/data/download/dg.4503/5a3c",
    "/index/index?hash=md5:",
    "/peregrine/_status",
    "/guppy/download",
];

fn nginx_message(rng: &mut Rng, ms: i64, response_time: ResponseTime) -> String {
    let (date, _) = civil(ms);
    let path = format!(
        "{}{}?expires_in=900&signature={}",
        rng.pick(&PATHS),
        rng.hex(8),
        rng.word_about(24, 40)
    );
    let secs = if rng.below(50) == 0 {
        format!("{}.{:03}", 10 + rng.below(20), rng.below(1000))
    } else {
        format!("0.{:03}", rng.below(900))
    };
    json!({
        "gen3log": "nginx",
        "date_access": format!("{date}+00:00"),
        "user_id": if rng.below(3) == 0 { "-".to_owned() } else { format!("user{}@example.org", rng.below(5000)) },
        "request_id": rng.hex(16),
        "session_id": rng.hex(24),
        "visitor_id": rng.hex(24),
        "network_client_ip": format!("73.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256)),
        "network_bytes_write": rng.below(200_000),
        "http_status_code": *rng.pick(&[200, 200, 200, 200, 204, 302, 304, 401, 403, 404, 500]),
        "http_request": path,
        "http_verb": rng.pick(&["GET", "GET", "GET", "POST", "PUT"]),
        "http_referer": format!("https://qa.planx-pla.net/{}", rng.word(10)),
        "http_useragent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "http_upstream": format!("http://{}-service/", rng.pick(&["fence", "sheepdog", "peregrine", "indexd"])),
        "http_response_time": match response_time {
            ResponseTime::Text => json!(secs),
            ResponseTime::Number => json!(secs.parse::<f64>().expect("a number")),
        },
        "stream": "stdout",
        "kubernetes": kubernetes(rng, "revproxy"),
    })
    .to_string()
}

fn app_message(rng: &mut Rng, ms: i64) -> String {
    let (date, nanos) = civil(ms);
    let text = format!(
        "[{} {},{:03}][fence.blueprints.{}][{:>6}] {} user={} request_id={} {}\n",
        &date[..10],
        &date[11..19],
        nanos / 1_000_000,
        rng.pick(&["login", "data", "storage", "oauth2"]),
        rng.pick(&["INFO", "INFO", "DEBUG", "WARN", "ERROR"]),
        rng.pick(&[
            "user logged in via google",
            "presigned URL generated for object",
            "token refreshed",
            "authorization check passed for resource path /programs/DEV/projects/test",
        ]),
        rng.below(100_000),
        rng.hex(16),
        rng.sentence_about(20, 200),
    );
    json!({
        "log": text,
        "stream": rng.pick(&["stdout", "stderr"]),
        "time": format!("{date}.{nanos:09}Z"),
        "kubernetes": kubernetes(rng, "fence"),
    })
    .to_string()
}

fn cloudtrail_message(rng: &mut Rng, ms: i64) -> String {
    let (date, _) = civil(ms);
    let (source, name, params, response) = match rng.below(4) {
        0 => (
            "iam.amazonaws.com",
            "CreateAccessKey",
            json!({ "userName": format!("user{}", rng.below(100)) }),
            json!({ "accessKey": {
                "accessKeyId": format!("AKIA{}", rng.word(16).to_uppercase()),
                "status": "Active",
                "userName": "bob",
                "createDate": "Nov 22, 2026 6:00:00 AM" } }),
        ),
        1 => (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({
                "groupId": format!("sg-{}", rng.hex(17)),
                "ipPermissions": { "items": [
                    { "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                      "ipRanges": { "items": [ { "cidrIp": "0.0.0.0/0" } ] } },
                    { "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                      "ipRanges": { "items": [ { "cidrIp": "10.0.0.0/8", "description": "internal" } ] } }
                ] }
            }),
            json!({ "requestId": rng.hex(32), "_return": true,
                    "securityGroupRuleSet": { "items": [ { "groupId": "sg-1", "securityGroupRuleId": format!("sgr-{}", rng.hex(17)), "isEgress": false } ] } }),
        ),
        2 => (
            "s3.amazonaws.com",
            "GetObject",
            json!({ "bucketName": "qaplanetv1-data-bucket", "Host": "qaplanetv1-data-bucket.s3.amazonaws.com",
                    "key": format!("dg.4503/{}/{}.bam", rng.hex(8), rng.word(12)) }),
            serde_json::Value::Null,
        ),
        _ => (
            "sts.amazonaws.com",
            "AssumeRole",
            json!({ "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/csoc-adminvm"), "roleSessionName": rng.word(12), "durationSeconds": 3600 }),
            json!({ "credentials": { "accessKeyId": format!("ASIA{}", rng.word(16).to_uppercase()),
                    "sessionToken": rng.word(120), "expiration": "Nov 22, 2026 7:00:00 AM" },
                    "assumedRoleUser": { "assumedRoleId": format!("AROA{}:{}", rng.word(16).to_uppercase(), rng.word(8)),
                    "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/csoc-adminvm/x") } }),
        ),
    };
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "alice",
        },
        "eventTime": format!("{date}Z"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": format!("73.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256)),
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/iam.create-access-key",
        "requestParameters": params,
        "responseElements": response,
        "requestID": rng.hex(32),
        "eventID": rng.hex(32),
        "readOnly": rng.below(2) == 0,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": { "tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
                        "clientProvidedHostHeader": format!("{}.amazonaws.com", source.split('.').next().unwrap_or("iam")) },
    })
    .to_string()
}

fn syslog_message(rng: &mut Rng, ms: i64) -> String {
    let (date, _) = civil(ms);
    // `Nov 22 06:00:01` from `2026-11-22T06:00:01`.
    let day: u32 = date[8..10].parse().unwrap();
    let stamp = format!("Nov {day:>2} {}", &date[11..19]);
    let host = format!("ip-172-31-{}-{}", rng.below(256), rng.below(256));
    match rng.below(4) {
        0 => format!(
            "{stamp} {host} sshd[{}]: Accepted publickey for ubuntu from 73.{}.{}.{} port {} ssh2: RSA SHA256:{}",
            rng.below(30000),
            rng.below(256),
            rng.below(256),
            rng.below(256),
            rng.below(65536),
            rng.word(43)
        ),
        1 => format!(
            "{stamp} {host} kernel: [{}.{:06}] audit: type=1400 audit({}.{:03}:{}): apparmor=\"DENIED\" operation=\"open\" profile=\"{}\" name=\"/proc/{}/status\" pid={} comm=\"{}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0 {}",
            rng.below(900_000),
            rng.below(1_000_000),
            ms / 1000,
            ms % 1000,
            rng.below(100_000),
            rng.word(12),
            rng.below(30000),
            rng.below(30000),
            rng.word(8),
            rng.sentence_about(200, 600)
        ),
        2 => format!(
            "{stamp} {host} dockerd[{}]: time=\"{date}.{:09}Z\" level={} msg=\"{}\"",
            rng.below(30000),
            rng.below(1_000_000_000),
            rng.pick(&["info", "warning", "error"]),
            rng.sentence_about(300, 700)
        ),
        _ => format!(
            "{stamp} {host} systemd[1]: Started Session {} of user {}. {}",
            rng.below(10_000),
            rng.word(8),
            rng.sentence_about(0, 300)
        ),
    }
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) and the nanoseconds of `ms` since the epoch.
fn civil(ms: i64) -> (String, u32) {
    let t = chrono::DateTime::from_timestamp_millis(ms).expect("corpus time in range");
    (
        t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        t.timestamp_subsec_nanos(),
    )
}

/// The corpus's own draws, on the benches' shared generator.
impl Rng {
    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
    fn word(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| char::from(ALPHABET[self.below(ALPHABET.len() as u64) as usize]))
            .collect()
    }
    fn word_about(&mut self, min: usize, extra: u64) -> String {
        let len = min + self.below(extra) as usize;
        self.word(len)
    }
    fn sentence_about(&mut self, min: usize, extra: u64) -> String {
        let len = min + self.below(extra) as usize;
        self.sentence(len)
    }
    /// Words from a small vocabulary, about `len` bytes: compresses like real log text.
    fn sentence(&mut self, len: usize) -> String {
        const WORDS: [&str; 24] = [
            "the",
            "request",
            "failed",
            "retrying",
            "connection",
            "to",
            "upstream",
            "timed",
            "out",
            "after",
            "ms",
            "cache",
            "miss",
            "for",
            "key",
            "object",
            "written",
            "bytes",
            "session",
            "expired",
            "token",
            "valid",
            "handler",
            "completed",
        ];
        let mut s = String::with_capacity(len + 12);
        while s.len() < len {
            if !s.is_empty() {
                s.push(' ');
            }
            if self.below(6) == 0 {
                s.push_str(&self.hex(8));
            } else {
                s.push_str(WORDS[self.below(WORDS.len() as u64) as usize]);
            }
        }
        s
    }
}

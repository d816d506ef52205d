//! Slack delivery against a local stand-in webhook: payloads, faults (500, timeout, 429
//! with Retry-After), the rate limit, best effort for the batch, and the webhook URL read
//! from moto's Secrets Manager.

use std::time::{Duration, Instant};

use csoc_forwarder::alerts::Alerter;
use csoc_forwarder::alerts::sigma::RuleSet;
use csoc_forwarder::alerts::slow::SlowCheck;
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::sinks::slack::{self, SlackWebhook, WebhookUrl};
use csoc_forwarder::sinks::{AlertSink, local};
use serde_json::json;

use crate::common::moto::Moto;
use crate::common::webhook::{FakeWebhook, Reply};
use crate::common::{fixture, pipeline_with, run};

fn rt() -> tokio::runtime::Runtime {
    crate::common::runtime()
}

fn sink(hook: &FakeWebhook, timeout: Duration, interval: Duration) -> SlackWebhook {
    SlackWebhook::with_limits(
        WebhookUrl::parse(&hook.url()).expect("url"),
        timeout,
        interval,
    )
    .expect("client")
}

fn assert_no_secret(text: &str) {
    for secret in ["XSECRETTOKENX", "QSECRETQ"] {
        assert!(!text.contains(secret), "the webhook URL leaked: {text}");
    }
}

#[test]
fn the_production_limits_are_as_documented() {
    assert_eq!(slack::TIMEOUT, Duration::from_secs(2));
    assert_eq!(slack::MIN_INTERVAL, Duration::from_secs(1));
}

#[test]
fn a_payload_is_posted_as_json_to_the_webhook() {
    let hook = FakeWebhook::start(vec![Reply::ok()]);
    let s = sink(&hook, Duration::from_secs(2), Duration::ZERO);
    let payload = json!({"text": "hello", "blocks": []});
    rt().block_on(s.post(&payload, Deadline::after(Duration::from_secs(10))))
        .expect("posted");
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, payload);
    assert_eq!(
        got[0].path,
        "/services/T000/B000/XSECRETTOKENX?sig=QSECRETQ"
    );
    assert_no_secret(&format!("{s:?}"));
}

#[test]
fn a_5xx_is_an_error_without_the_url() {
    let hook = FakeWebhook::start(vec![Reply::status(500, "internal_error")]);
    let s = sink(&hook, Duration::from_secs(2), Duration::ZERO);
    let err = rt()
        .block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_secs(10)),
        ))
        .expect_err("500 fails");
    let msg = err.to_string();
    assert!(
        msg.contains("500") && msg.contains("internal_error"),
        "{msg}"
    );
    assert_no_secret(&msg);
    assert_eq!(hook.received().len(), 1, "5xx is not retried");
}

#[test]
fn a_slow_webhook_times_out_without_the_url() {
    let hook = FakeWebhook::start(vec![Reply::slow(Duration::from_secs(3))]);
    let s = sink(&hook, Duration::from_millis(300), Duration::ZERO);
    let start = Instant::now();
    let err = rt()
        .block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_secs(10)),
        ))
        .expect_err("times out");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    assert!(msg.contains("timed out"), "{msg}");
    assert_no_secret(&msg);
}

#[test]
fn a_connection_error_does_not_show_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port(); // dropped: nothing listens
    let url = format!("http://127.0.0.1:{port}/services/T000/B000/XSECRETTOKENX?sig=QSECRETQ");
    let s = SlackWebhook::with_limits(
        WebhookUrl::parse(&url).expect("url"),
        Duration::from_secs(1),
        Duration::ZERO,
    )
    .expect("client");
    let err = rt()
        .block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_secs(10)),
        ))
        .expect_err("refused");
    assert_no_secret(&err.to_string());
}

#[test]
fn a_429_is_retried_after_retry_after_within_the_budget() {
    let hook = FakeWebhook::start(vec![Reply::retry_after(1), Reply::ok()]);
    let s = sink(&hook, Duration::from_secs(2), Duration::ZERO);
    // On the sender's clock (the webhook's receipt times would jitter under load).
    let started = std::time::Instant::now();
    rt().block_on(s.post(
        &json!({"text": "x"}),
        Deadline::after(Duration::from_secs(10)),
    ))
    .expect("posted on the second try");
    let took = started.elapsed();
    assert_eq!(hook.received().len(), 2);
    assert!(
        took >= Duration::from_secs(1),
        "waited the 1 s Retry-After: took {took:?}"
    );
}

#[test]
fn a_429_past_the_budget_gives_up_at_once() {
    let hook = FakeWebhook::start(vec![Reply::retry_after(120)]);
    let s = sink(&hook, Duration::from_secs(2), Duration::ZERO);
    let start = Instant::now();
    let err = rt()
        .block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_secs(5)),
        ))
        .expect_err("no time to wait");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("429"), "{err}");
    assert_eq!(hook.received().len(), 1);
}

#[test]
fn messages_are_spaced_by_the_rate_limit_and_stop_at_the_deadline() {
    let hook = FakeWebhook::start(Vec::new());
    let s = sink(&hook, Duration::from_secs(2), Duration::from_millis(300));
    let rt = rt();
    // Measured on the sender's clock, the one the limiter spaces by: load can only make the
    // three posts take longer, never shorter (the webhook's receipt times would jitter).
    let started = std::time::Instant::now();
    for _ in 0..3 {
        rt.block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_secs(10)),
        ))
        .expect("posted");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(600),
        "three posts 300 ms apart take at least 600 ms, took {took:?}"
    );
    assert_eq!(hook.received().len(), 3);
    // No slot before the deadline: refused without a request.
    let err = rt
        .block_on(s.post(
            &json!({"text": "x"}),
            Deadline::after(Duration::from_millis(50)),
        ))
        .expect_err("no slot");
    assert!(err.to_string().contains("budget"), "{err}");
    assert_eq!(hook.received().len(), 3);
}

fn alerting_pipeline(
    hook: &FakeWebhook,
) -> (csoc_forwarder::pipeline::Pipeline, tempfile::TempDir) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let pipeline = pipeline_with(local::sinks(dir.path(), "test_firehose"))
        .with_alerts(Alerter::new(
            Some(SlowCheck {
                threshold: 1.0,
                streams: vec!["revproxy".into()],
            }),
            RuleSet::builtin(),
            None,
        ))
        .with_alert_sink(Box::new(sink(
            hook,
            Duration::from_millis(500),
            Duration::ZERO,
        )));
    (pipeline, dir)
}

#[test]
fn slack_failures_never_fail_the_batch() {
    // kinesis-mixed: 1 slow-response message + 4 CloudTrail alerts; every post fails.
    let hook = FakeWebhook::start(vec![
        Reply::status(500, "x"),
        Reply::status(503, "x"),
        Reply::slow(Duration::from_secs(2)),
        Reply::status(404, "no_service"),
        Reply::status(500, "x"),
    ]);
    let (pipeline, _dir) = alerting_pipeline(&hook);
    let report = run(&pipeline, &fixture("kinesis-mixed.json"));
    let c = &report.counts;
    assert_eq!((c.alerts, c.alert_failures), (0, 5));
    assert_eq!((c.indexed, c.retryable_failures), (15, 0));
    assert_eq!(report.response, json!({"batchItemFailures": []}));
}

#[test]
fn the_batch_alerts_reach_the_webhook_redacted() {
    let hook = FakeWebhook::start(Vec::new());
    let (pipeline, dir) = alerting_pipeline(&hook);
    let report = run(&pipeline, &fixture("kinesis-mixed.json"));
    assert_eq!((report.counts.alerts, report.counts.alert_failures), (5, 0));
    let got = hook.received();
    assert_eq!(got.len(), 5);
    for r in &got {
        assert!(r.body["text"].is_string() && r.body["blocks"].is_array());
        let text = r.body.to_string();
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("eyJhbGciOi"),
            "{text}"
        );
    }
    assert!(got.iter().any(|r| {
        r.body["text"]
            .as_str()
            .expect("text")
            .contains("1 slow responses over 1 s")
    }));
    // With a webhook, nothing goes to the local slack directory.
    assert!(!dir.path().join("slack").exists());
}

#[test]
fn the_webhook_url_is_read_from_secrets_manager() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let sdk = moto.sdk_config().await;
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        let hook = FakeWebhook::start(Vec::new());
        let plain = client
            .create_secret()
            .name("commons/csoc-forwarder/slack-webhook")
            .secret_string(hook.url())
            .send()
            .await
            .expect("create secret");
        let as_json = client
            .create_secret()
            .name("json-webhook")
            .secret_string(json!({"url": hook.url()}).to_string())
            .send()
            .await
            .expect("create secret");
        let no_value = client
            .create_secret()
            .name("empty-webhook")
            .send()
            .await
            .expect("create secret");

        for arn in [plain.arn().expect("arn"), as_json.arn().expect("arn")] {
            let url = slack::webhook_from_secret(&sdk, arn).await.expect("read");
            assert_eq!(url.expose(), hook.url());
            assert_no_secret(&format!("{url:?} {url}"));
            SlackWebhook::new(url)
                .expect("client")
                .post(
                    &json!({"text": "from the secret"}),
                    Deadline::after(Duration::from_secs(10)),
                )
                .await
                .expect("posted");
        }
        assert_eq!(hook.received().len(), 2);

        for arn in [
            no_value.arn().expect("arn"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf",
        ] {
            let err = slack::webhook_from_secret(&sdk, arn)
                .await
                .expect_err("no usable value");
            assert!(err.to_string().contains(arn), "{err}");
        }
    });
}

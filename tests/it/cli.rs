//! The `process` command as a user runs it: summary lines and exit codes.

use std::process::{Command, Output, Stdio};

use crate::common::fixture_path;

fn process(args: &[&str], out: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .arg("process")
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("COMMON_NAME")
        .env_remove("THRESHOLD")
        .env_remove("INDEX_PREFIX")
        .env_remove("FIREHOSE_STREAM")
        .env_remove("OPENSEARCH_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run binary")
}

fn summaries(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("summary line is JSON"))
        .collect()
}

#[test]
fn processes_fixtures_with_exit_0_and_one_summary_line_each() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let mixed = fixture_path("kinesis-mixed.json");
    let control = fixture_path("kinesis-control-message.json");
    let out = process(
        &[
            mixed.to_str().expect("path"),
            control.to_str().expect("path"),
            "--common-name",
            "qaplanetv1",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = summaries(&out);
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    for key in [
        "file",
        "kind",
        "records",
        "control_messages",
        "log_events",
        "documents",
        "indexed",
        "archived",
        "alerts",
        "dead_lettered",
        "retryable_failures",
        "response",
    ] {
        assert!(first.get(key).is_some(), "summary has {key}");
    }
    assert_eq!(first["documents"], 15);
    assert_eq!(lines[1]["control_messages"], 1);
    // The commons name reached the documents and the default Firehose stream name.
    let archive = dir.path().join("firehose").join("qaplanetv1_firehose");
    let text: String = std::fs::read_dir(&archive)
        .expect("archive dir")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    assert!(
        text.lines()
            .all(|l| l.contains(r#""commons":"qaplanetv1""#))
    );
}

#[test]
fn reads_standard_input() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["process", "--out"])
        .arg(dir.path())
        .arg("-")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = std::fs::read(fixture_path("kinesis-syslog.json")).expect("fixture");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &input).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summaries(&out)[0]["file"], "-");
    assert_eq!(summaries(&out)[0]["documents"], 8);
}

#[test]
fn an_unreadable_file_is_exit_2_and_the_others_still_run() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let good = fixture_path("kinesis-syslog.json");
    let out = process(
        &["/no/such/file.json", good.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/file.json"));
    assert_eq!(summaries(&out).len(), 1);
}

#[test]
fn a_file_that_is_not_an_event_is_exit_2_and_kept_in_the_dead_letter() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let input = dir.path().join("notes.txt");
    std::fs::write(&input, "hello").expect("write");
    let out = process(&[input.to_str().expect("path")], &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("event is not JSON"));
    let letters: Vec<_> = std::fs::read_dir(dir.path().join("out/dead-letter"))
        .expect("dead letters")
        .collect();
    assert_eq!(letters.len(), 1);
    let name = letters[0]
        .as_ref()
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("file-notes-"), "{name}");
}

#[test]
fn records_left_for_retry_are_exit_3() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A file where the index directory should be: every bulk write fails (retryable).
    std::fs::write(dir.path().join("opensearch"), b"in the way").expect("write");
    let out = process(
        &[fixture_path("kinesis-syslog.json").to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    let line = &summaries(&out)[0];
    assert_eq!(line["retryable_failures"], 1);
    assert_eq!(
        line["response"]["batchItemFailures"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn bad_configuration_and_usage_are_exit_2_with_a_clear_message() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let f = fixture_path("kinesis-syslog.json");
    let f = f.to_str().expect("path");
    for (args, needle) in [
        (vec![f, "--threshold", "soon"], "THRESHOLD"),
        (vec![f, "--threshold", "-1"], "positive"),
        (vec![f, "--common-name", "bad name!"], "COMMON_NAME"),
        (vec![], "FILE"),
    ] {
        let out = process(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn a_function_url_request_prints_its_response_in_the_summary_line() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = process(
        &[fixture_path("function-url-audit.json")
            .to_str()
            .expect("path")],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = &summaries(&out)[0];
    assert_eq!(line["kind"], "function_url");
    assert_eq!(line["documents"], 2);
    assert_eq!(line["response"]["statusCode"], 201);
    let body: serde_json::Value =
        serde_json::from_str(line["response"]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["recordsProcessed"], 2);
    assert_eq!(body["node"], "fence-node-1");
    assert_eq!(body["commons"], "local");

    // A refused request: exit 2, the 400 in the summary, the request kept.
    let bad = dir.path().join("bad-request.json");
    let mut event: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture_path("function-url-audit.json")).expect("read"),
    )
    .expect("json");
    event["body"] = "{\"messageType\": \"echo.text\", \"auditRecords\": []}".into();
    std::fs::write(&bad, serde_json::to_vec(&event).expect("json")).expect("write");
    let out = process(&[bad.to_str().expect("path")], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let line = &summaries(&out)[0];
    assert_eq!(line["response"]["statusCode"], 400);
    assert_eq!(line["dead_lettered"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("auditRecords: empty"));
}

/// `process` with `envs` set (and the usual variables removed), on `args`.
fn process_env(args: &[&str], out: &std::path::Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .arg("process")
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("COMMON_NAME")
        .env_remove("THRESHOLD")
        .env_remove("INDEX_PREFIX")
        .env_remove("FIREHOSE_STREAM")
        .env_remove("OPENSEARCH_URL")
        .env_remove("PROCESS_TIME_BUDGET")
        .env_remove("NO_COLOR")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run binary")
}

/// A Kinesis event file with one record whose data is not base64 (a logged warning).
fn bad_record_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("bad-record.json");
    std::fs::write(
        &path,
        r#"{"Records":[{"eventID":"shardId-0:1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":"*** not base64 ***","sequenceNumber":"1","partitionKey":"p"}}]}"#,
    )
    .expect("write");
    path
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let input = bad_record_file(dir.path());
    let out = process_env(
        &[input.to_str().expect("path")],
        &dir.path().join("out"),
        &[("RUST_LOG", "info")],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record dead-lettered"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI escape codes in: {stderr:?}"
    );
}

#[test]
fn an_unwritable_out_directory_is_one_clear_error_and_exit_2_before_any_work() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A regular file where a directory of `--out` should be: nothing can be written
    // under it, whoever runs the test (root included).
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"in the way").expect("write");
    let out_dir = blocker.join("out");
    let out = process(
        &[fixture_path("kinesis-mixed.json").to_str().expect("path")],
        &out_dir,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: cannot write to the output directory {}",
            out_dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no warning per document: {stderr}"
    );
    assert!(out.stdout.is_empty(), "no file was processed");
}

#[test]
fn the_time_budget_is_validated_from_the_flag_and_the_environment() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let f = fixture_path("kinesis-syslog.json");
    let f = f.to_str().expect("path");
    for (args, envs) in [
        (vec![f, "--time-budget", "soon"], vec![]),
        (vec![f, "--time-budget", "2"], vec![]),
        (vec![f], vec![("PROCESS_TIME_BUDGET", "0")]),
    ] {
        let out = process_env(&args, dir.path(), &envs);
        assert_eq!(out.status.code(), Some(2), "{args:?} {envs:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("PROCESS_TIME_BUDGET"), "{stderr}");
    }
    let out = process_env(&[f, "--time-budget", "30"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_unreachable_cluster_is_one_clear_error_at_once() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let url = format!("http://127.0.0.1:{port}");
    let out = process_env(
        &[fixture_path("kinesis-mixed.json").to_str().expect("path")],
        dir.path(),
        &[("OPENSEARCH_URL", &url)],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(
        stderr
            .matches("cannot reach the OpenSearch cluster")
            .count(),
        1,
        "said once: {stderr}"
    );
    assert!(
        errors[0].contains(&format!("cannot reach the OpenSearch cluster at {url}/")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was processed"), "{stderr}");
    assert!(
        !stderr.contains("bulk request failed: retrying"),
        "no retry loop: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_cluster_that_keeps_failing_stops_at_the_time_budget_with_a_clear_error() {
    use crate::common::fault_server::{Action, FaultServer};
    // Answers, so it is reachable, but every `_bulk` request fails with 503.
    let server = FaultServer::memory(|seen| {
        if seen.is_bulk() {
            Action::Respond(503, r#"{"error":"unavailable"}"#.to_owned())
        } else {
            Action::Respond(200, "{}".to_owned())
        }
    });
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = process_env(
        &[
            fixture_path("kinesis-syslog.json").to_str().expect("path"),
            "--time-budget",
            "5",
        ],
        dir.path(),
        &[
            ("OPENSEARCH_URL", &server.url),
            ("OPENSEARCH_TEMPLATE", "false"),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "left for retry: not every document was stored within the time budget of 5 s"
        ),
        "{stderr}"
    );
    assert_eq!(summaries(&out)[0]["retryable_failures"], 1);
}

#[test]
fn serve_has_no_threshold_flag() {
    // A taken address, so that a serve that accepted the flag would stop too.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["serve", "--threshold", "1", "--listen", &addr])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdin(Stdio::null())
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unexpected argument '--threshold'"),
        "{stderr}"
    );
}

//! `csoc-forwarder serve` over real HTTP: the binary listens on 127.0.0.1, takes audit
//! records on the local sinks, answers every status, and stops cleanly on SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{audit_body, gzip};

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(out: &Path) -> Self {
        Self::start_with(out, &[])
    }

    fn start_with(out: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--common-name",
                "qaplanetv1",
                "--out",
            ])
            .arg(out)
            .args(extra)
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("OPENSEARCH_URL")
            .env_remove("COMMON_NAME")
            .env_remove("FIREHOSE_STREAM")
            .env_remove("INDEX_PREFIX")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://") {
                    let url = line[at..].split('/').take(3).collect::<Vec<_>>().join("/");
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints its address");
        Self { child, url }
    }

    /// Stops with SIGTERM; returns the exit code and what was printed on stdout.
    fn stop(mut self) -> (Option<i32>, String) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = self.child.wait().expect("wait");
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("stdout");
        }
        (status.code(), stdout)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Every line of every file under `dir`, recursively.
fn lines_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(lines_under(&path));
        } else {
            out.extend(
                std::fs::read_to_string(&path)
                    .expect("read")
                    .lines()
                    .map(str::to_owned),
            );
        }
    }
    out
}

#[tokio::test]
async fn serve_takes_audit_records_over_http() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let server = Server::start(dir.path());
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);

    // Plain JSON.
    let res = http
        .post(url("/node-a"))
        .header("content-type", "application/json")
        .body(audit_body(3))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"commons": "qaplanetv1", "messageType": "echo.text", "node": "node-a", "recordsProcessed": 3})
    );

    // gzip'd JSON, to a URL-encoded node name.
    let res = http
        .post(url("/node%20b"))
        .header("content-encoding", "gzip")
        .body(gzip(&audit_body(2)))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        (body["node"].clone(), body["recordsProcessed"].clone()),
        (json!("node b"), json!(2))
    );

    // A wrong method.
    let res = http.get(url("/node-a")).send().await.expect("get");
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");

    // A bad body: 400 with the field named, and the request kept.
    let res = http
        .post(url("/node-a"))
        .body(r#"{"messageType": "echo.text", "auditRecords": [{"attributes": {}, "datetime": "2026-11-22T08:15:30Z"}]}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 400);
    let body = res.json::<Value>().await.expect("json");
    let error = body["error"].as_str().expect("error");
    assert!(
        error.starts_with("auditRecords[0]: missing field `trackingId`"),
        "{error}"
    );

    // Over the function URL's 6 MB request limit.
    let res = http
        .post(url("/node-a"))
        .body(vec![b' '; 6 * 1024 * 1024 + 1])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 413);

    let (code, stdout) = server.stop();
    assert_eq!(code, Some(0), "SIGTERM stops serve cleanly");
    // One summary line per request that reached the handler.
    let summaries: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("summary line"))
        .collect();
    let statuses: Vec<u64> = summaries
        .iter()
        .map(|s| s["response"]["statusCode"].as_u64().expect("status"))
        .collect();
    assert_eq!(statuses, [201, 201, 405, 400]);
    assert_eq!(summaries[1]["path"], "/node%20b");

    // What the local sinks hold: five documents in the archive and the index, and the
    // bad request in the dead letter under its node.
    let archived = lines_under(&dir.path().join("firehose"));
    assert_eq!(archived.len(), 5, "{archived:?}");
    let docs: Vec<Value> = archived
        .iter()
        .map(|l| serde_json::from_str(l).expect("doc"))
        .collect();
    assert!(
        docs.iter()
            .all(|d| d["sourceIp"] == "127.0.0.1" && d.get("userArn").is_none())
    );
    assert_eq!(lines_under(&dir.path().join("opensearch")).len(), 10);
    let letters: Vec<_> = std::fs::read_dir(dir.path().join("dead-letter"))
        .expect("dead letters")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(letters[0].starts_with("node-a-"), "{letters:?}");
}

/// `host:port` of the server.
fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Reads from `stream` until it closes, `want` shows up, or 20 s pass; what was read.
fn read_until(stream: &mut std::net::TcpStream, want: &str) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&got).contains(want) {
                    break;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(err) => panic!(
                "no answer and not closed ({err}); got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use std::io::Write as _;
    let dir = tempfile::TempDir::new().expect("tempdir");
    let server = Server::start_with(dir.path(), &["--header-timeout", "1"]);
    let mut stream = std::net::TcpStream::connect(addr(&server)).expect("connect");
    stream
        .write_all(b"POST /node-a HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // The server closes the connection (it may say 408 first) instead of waiting forever.
    let got = read_until(&mut stream, "\r\n\r\n");
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");
}

#[test]
fn a_body_that_never_arrives_is_408_and_requests_over_the_concurrency_are_429() {
    use std::io::Write as _;
    let dir = tempfile::TempDir::new().expect("tempdir");
    let server = Server::start_with(dir.path(), &["--concurrency", "1", "--body-timeout", "3"]);
    // A slow client: headers, then 10 of the 100 body bytes it announced. The
    // `100 Continue` says the server is reading its body (it holds the one slot).
    let mut slow = std::net::TcpStream::connect(addr(&server)).expect("connect");
    slow.write_all(
        b"POST /node-a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    )
    .expect("write");
    let got = read_until(&mut slow, "100 Continue\r\n\r\n");
    assert!(got.starts_with("HTTP/1.1 100 Continue"), "{got}");
    slow.write_all(b"{\"message").expect("write");

    // Meanwhile another request is throttled, as a function URL at its concurrency.
    let rt = crate::common::runtime();
    let post = |n: usize| {
        rt.block_on(
            reqwest::Client::new()
                .post(format!("{}/node-a", server.url))
                .body(audit_body(n))
                .send(),
        )
        .expect("post")
    };
    let throttled = post(1);
    assert_eq!(throttled.status().as_u16(), 429);
    assert_eq!(throttled.headers()["retry-after"], "1");

    // The slow body gets 408 when its time is up; then the slot is free again.
    let got = read_until(&mut slow, "\r\n\r\n");
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert_eq!(post(2).status().as_u16(), 201);
}

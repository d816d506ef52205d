//! osmem-server, the in-memory OpenSearch-compatible server, started per test on a free
//! loopback port and killed when dropped.
//!
//! The binary comes from `OSMEM_SERVER_BIN`, else from the project's `.venv` (`make
//! tools` installs it). Missing, the test fails with what to run: it is never skipped.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use opensearch::OpenSearch;
use opensearch::http::Method;
use opensearch::http::headers::HeaderMap;
use opensearch::http::transport::Transport;
use serde_json::Value;

pub struct Osmem {
    child: Child,
    pub url: String,
}

/// Where the osmem-server binary is, or a panic saying how to get it.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("OSMEM_SERVER_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = root.join(".venv").join("lib");
    if let Ok(entries) = std::fs::read_dir(&lib) {
        for entry in entries.flatten() {
            let candidate = entry
                .path()
                .join("site-packages/osmem_server/bin/osmem-server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let python = root.join(".venv/bin/python");
    if let Ok(out) = Command::new(&python)
        .args([
            "-c",
            "import osmem_server; print(osmem_server.resolve_binary())",
        ])
        .output()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && Path::new(&path).is_file() {
            return PathBuf::from(path);
        }
    }
    panic!(
        "osmem-server not found: run `make tools` (installs requirements-test.txt into .venv) \
         or set OSMEM_SERVER_BIN to the binary"
    );
}

impl Osmem {
    /// Starts a fresh server and waits for its ready line.
    pub fn start() -> Self {
        let bin = binary();
        let mut child = Command::new(&bin)
            .args([
                "-addr",
                "127.0.0.1:0",
                "-no-stdin-watch",
                "-no-ja",
                "-parent-pid",
                &std::process::id().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(url) = v["url"].as_str()
                {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => Self { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "osmem-server ({}) did not print its url within 30 s",
                    bin.display()
                );
            }
        }
    }

    pub fn client(&self) -> OpenSearch {
        OpenSearch::new(Transport::single_node(&self.url).expect("client"))
    }

    /// Makes everything indexed so far searchable.
    pub async fn refresh(&self) {
        request(&self.client(), Method::Post, "_refresh", None).await;
    }

    /// `_count` of documents matching `query` (match_all when `None`) over `index`.
    pub async fn count(&self, index: &str, query: Option<Value>) -> u64 {
        let body = match query {
            Some(q) => serde_json::json!({ "query": q }),
            None => serde_json::json!({ "query": { "match_all": {} } }),
        };
        let v = request(
            &self.client(),
            Method::Post,
            &format!("{index}/_count"),
            Some(body),
        )
        .await;
        v["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("no count in {v}"))
    }

    /// The `_source`s of the hits of `query`.
    pub async fn search(&self, index: &str, query: Value) -> Vec<Value> {
        let v = request(
            &self.client(),
            Method::Post,
            &format!("{index}/_search"),
            Some(serde_json::json!({ "query": query, "size": 1000 })),
        )
        .await;
        v["hits"]["hits"]
            .as_array()
            .unwrap_or_else(|| panic!("no hits in {v}"))
            .iter()
            .map(|h| h["_source"].clone())
            .collect()
    }
}

impl Drop for Osmem {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON request; panics on a transport error, returns the body (any status).
pub async fn request(
    client: &OpenSearch,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let body = body.map(|b| Bytes::from(serde_json::to_vec(&b).expect("json")));
    let response = client
        .send(method, path, HeaderMap::new(), None::<&()>, body, None)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

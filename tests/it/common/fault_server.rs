//! A fault-injecting HTTP server for the OpenSearch sink tests, on a free loopback port,
//! in a thread of its own (so it serves whatever runtime the test uses).
//!
//! For each request a script chooses an [`Action`]: answer with a status, answer
//! slowly, reset the connection, or handle the `_bulk` request, with some items
//! failing (429, …) and the rest going to an in-memory store or to an upstream server
//! (osmem-server). Every request is recorded.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use opensearch::OpenSearch;
use opensearch::http::Method;
use opensearch::http::headers::{CONTENT_TYPE, HeaderMap, HeaderValue};
use opensearch::http::transport::Transport;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Decides an item's status before it reaches the store: `Some(status)` fails it.
/// Arguments: the document id, and how many times the server has seen this id before.
pub type ItemFault = Arc<dyn Fn(&str, u32) -> Option<u16> + Send + Sync>;

/// What to do with one request.
pub enum Action {
    /// Answer `status` with `body`.
    Respond(u16, String),
    /// Wait, then do the inner action.
    Slow(Duration, Box<Action>),
    /// Read the request, then reset the connection without answering.
    Reset,
    /// Handle it: `_bulk` items pass through `faults`, the rest goes to the backend.
    Handle(Option<ItemFault>),
}

/// What the script sees of a request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 0-based, over all requests.
    pub n: usize,
    pub method: String,
    pub path: String,
    pub gzip: bool,
    /// Body bytes as sent (compressed when gzip).
    pub bytes: usize,
    /// `_bulk` items in the body.
    pub ids: Vec<String>,
    /// The request headers as sent: lower-cased names, trimmed values, in order.
    pub headers: Vec<(String, String)>,
    /// The body as sent (compressed when gzip).
    pub body: Vec<u8>,
}

impl Seen {
    pub fn is_bulk(&self) -> bool {
        self.path.contains("_bulk")
    }

    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Script = Arc<dyn Fn(&Seen) -> Action + Send + Sync>;

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    /// id → times seen in bulk bodies.
    times: HashMap<String, u32>,
    /// In-memory store: id → source (memory backend only).
    store: HashMap<String, String>,
    /// id → times created (201) by the memory backend.
    created: HashMap<String, u32>,
}

pub struct FaultServer {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    /// A server whose backend is an in-memory store (201 first time, 409 after).
    pub fn memory(script: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Self {
        Self::start(None, Arc::new(script))
    }

    /// A server in front of `upstream` (osmem-server's url).
    pub fn proxy(upstream: &str, script: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Self {
        Self::start(Some(upstream.to_owned()), Arc::new(script))
    }

    fn start(upstream: Option<String>, script: Script) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let rt = crate::common::runtime();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                url_tx.send(format!("http://{addr}")).expect("url");
                let upstream = upstream.map(|u| {
                    Arc::new(OpenSearch::new(
                        Transport::single_node(&u).expect("upstream"),
                    ))
                });
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let (script, st, upstream) =
                            (Arc::clone(&script), Arc::clone(&st), upstream.clone());
                        tokio::spawn(async move {
                            let _ = serve_conn(stream, script, st, upstream).await;
                        });
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stop_rx => {}
                }
            });
        });
        let url = url_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("fault server started");
        Self {
            url,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("lock").seen.clone()
    }

    pub fn bulk_requests(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(Seen::is_bulk).collect()
    }

    /// Documents in the memory store.
    pub fn stored(&self) -> usize {
        self.state.lock().expect("lock").store.len()
    }

    /// The memory store's source for `id`.
    pub fn source(&self, id: &str) -> Option<Value> {
        let state = self.state.lock().expect("lock");
        state
            .store
            .get(id)
            .map(|s| serde_json::from_str(s).expect("json"))
    }

    /// The most times any one id was created (must stay 1: no duplicates).
    pub fn max_creates_per_id(&self) -> u32 {
        let state = self.state.lock().expect("lock");
        state.created.values().copied().max().unwrap_or(0)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    gzip: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(8192);
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let mut length = 0usize;
    let mut gzip = false;
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        headers.push((name.clone(), value.to_owned()));
        if name == "content-length" {
            length = value.parse().ok()?;
        } else if name == "content-encoding" && value.eq_ignore_ascii_case("gzip") {
            gzip = true;
        }
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path,
        gzip,
        headers,
        body,
    })
}

async fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

fn plain_body(req: &Request) -> Vec<u8> {
    if !req.gzip {
        return req.body.clone();
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&req.body[..])
        .read_to_end(&mut out)
        .expect("gzip body");
    out
}

/// `(action line, source line, id)` of each item of a bulk body.
fn bulk_items(body: &[u8]) -> Vec<(String, String, String)> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let mut out = Vec::new();
    while let (Some(action), Some(source)) = (lines.next(), lines.next()) {
        let v: Value = serde_json::from_str(action).expect("action line");
        let id = v["create"]["_id"].as_str().unwrap_or_default().to_owned();
        out.push((action.to_owned(), source.to_owned(), id));
    }
    out
}

async fn serve_conn(
    mut stream: TcpStream,
    script: Script,
    state: Arc<Mutex<State>>,
    upstream: Option<Arc<OpenSearch>>,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut stream).await else {
        return Ok(());
    };
    let plain = plain_body(&req);
    let is_bulk = req.path.contains("_bulk");
    let items = if is_bulk {
        bulk_items(&plain)
    } else {
        Vec::new()
    };
    let seen = {
        let mut st = state.lock().expect("lock");
        let seen = Seen {
            n: st.seen.len(),
            method: req.method.clone(),
            path: req.path.clone(),
            gzip: req.gzip,
            bytes: req.body.len(),
            ids: items.iter().map(|i| i.2.clone()).collect(),
            headers: req.headers.clone(),
            body: req.body.clone(),
        };
        st.seen.push(seen.clone());
        seen
    };
    let mut action = script(&seen);
    loop {
        match action {
            Action::Slow(d, inner) => {
                tokio::time::sleep(d).await;
                action = *inner;
            }
            Action::Respond(status, body) => {
                return respond(&mut stream, status, body.as_bytes()).await;
            }
            Action::Reset => {
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                drop(stream);
                return Ok(());
            }
            Action::Handle(faults) => {
                let (status, body) = if is_bulk {
                    handle_bulk(&items, faults, &state, upstream.as_deref()).await
                } else if let Some(up) = &upstream {
                    forward(up, &req.method, &req.path, plain).await
                } else {
                    (200, br#"{"acknowledged":true}"#.to_vec())
                };
                return respond(&mut stream, status, &body).await;
            }
        }
    }
}

async fn forward(up: &OpenSearch, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let method = match method {
        "GET" => Method::Get,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        _ => Method::Post,
    };
    let mut headers = HeaderMap::new();
    if path.contains("_bulk") {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
    }
    let body = if body.is_empty() {
        None
    } else {
        Some(Bytes::from(body))
    };
    match up
        .send(method, path, headers, None::<&()>, body, None)
        .await
    {
        Ok(r) => {
            let status = r.status_code().as_u16();
            (
                status,
                r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(e) => (
            502,
            json!({ "error": e.to_string() }).to_string().into_bytes(),
        ),
    }
}

async fn handle_bulk(
    items: &[(String, String, String)],
    faults: Option<ItemFault>,
    state: &Mutex<State>,
    upstream: Option<&OpenSearch>,
) -> (u16, Vec<u8>) {
    // Which items fail here, before the backend.
    let mut answers: Vec<Option<Value>> = vec![None; items.len()];
    let mut pass = Vec::new();
    {
        let mut st = state.lock().expect("lock");
        for (i, (_, _, id)) in items.iter().enumerate() {
            let times = st.times.entry(id.clone()).or_insert(0);
            let before = *times;
            *times += 1;
            match faults.as_ref().and_then(|f| f(id, before)) {
                Some(status) => {
                    answers[i] = Some(json!({"create": {"_id": id, "status": status,
                        "error": {"type": "es_rejected_execution_exception", "reason": format!("injected {status}")}}}));
                }
                None => pass.push(i),
            }
        }
    }
    if let Some(up) = upstream {
        let mut body = Vec::new();
        for &i in &pass {
            body.extend_from_slice(items[i].0.as_bytes());
            body.push(b'\n');
            body.extend_from_slice(items[i].1.as_bytes());
            body.push(b'\n');
        }
        if !pass.is_empty() {
            let (status, answer) = forward(up, "POST", "/_bulk", body).await;
            if status != 200 {
                return (status, answer);
            }
            let v: Value = serde_json::from_slice(&answer).expect("upstream bulk answer");
            for (&i, item) in pass.iter().zip(v["items"].as_array().expect("items")) {
                answers[i] = Some(item.clone());
            }
        }
    } else {
        let mut st = state.lock().expect("lock");
        for &i in &pass {
            let (_, source, id) = &items[i];
            let status = if st.store.contains_key(id) {
                409
            } else {
                st.store.insert(id.clone(), source.clone());
                *st.created.entry(id.clone()).or_insert(0) += 1;
                201
            };
            answers[i] = Some(if status == 201 {
                json!({"create": {"_id": id, "status": 201, "result": "created"}})
            } else {
                json!({"create": {"_id": id, "status": 409, "error": {"type": "version_conflict_engine_exception", "reason": "document already exists"}}})
            });
        }
    }
    let items: Vec<Value> = answers.into_iter().map(|a| a.expect("answered")).collect();
    let errors = items
        .iter()
        .any(|i| i["create"]["status"].as_u64() != Some(201));
    (
        200,
        json!({"took": 1, "errors": errors, "items": items})
            .to_string()
            .into_bytes(),
    )
}

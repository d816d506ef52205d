//! A local HTTP server standing in for the Slack webhook: answers from a script, records
//! every request (path, body, time). Plain std TCP on its own thread, HTTP/1.1, one
//! request per connection.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (a timeout case).
    pub delay: Duration,
}

impl Reply {
    pub fn ok() -> Self {
        Self::status(200, "ok")
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub fn retry_after(seconds: u64) -> Self {
        let mut r = Self::status(429, "rate_limited");
        r.headers
            .push(("Retry-After".to_owned(), seconds.to_string()));
        r
    }

    pub fn slow(delay: Duration) -> Self {
        let mut r = Self::ok();
        r.delay = delay;
        r
    }
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: serde_json::Value,
}

pub struct FakeWebhook {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeWebhook {
    /// Serves `script` in order, then `200 ok` for ever.
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = Arc::clone(&received);
        let script = Arc::new(Mutex::new(script.into_iter()));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let rec = Arc::clone(&rec);
                let reply = script
                    .lock()
                    .expect("lock")
                    .next()
                    .unwrap_or_else(Reply::ok);
                std::thread::spawn(move || serve(stream, &reply, &rec));
            }
        });
        Self { port, received }
    }

    /// The webhook URL, with a secret path and query string as Slack's have.
    pub fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/services/T000/B000/XSECRETTOKENX?sig=QSECRETQ",
            self.port
        )
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

fn serve(stream: TcpStream, reply: &Reply, rec: &Mutex<Vec<Received>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    rec.lock().expect("lock").push(Received {
        path,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    std::thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

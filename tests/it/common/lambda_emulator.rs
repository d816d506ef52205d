//! The Lambda runtime API emulator of cargo-lambda (`cargo lambda watch
//! --only-lambda-apis`), with the real function binary (the one `cargo test` built)
//! serving it as Lambda would run it. Logs stay in a temp dir outside the crate.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::moto::{free_port, tool, wait_for_port};

/// The function name the emulator serves with `--only-lambda-apis`.
pub const FUNCTION: &str = "_";

pub struct LambdaEmulator {
    watch: Child,
    function: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl LambdaEmulator {
    /// Starts the emulator, then the function with `env` (and nothing else from this
    /// process's environment) plus the variables Lambda sets.
    pub fn start(env: &[(String, String)]) -> Self {
        Self::start_with(env, None)
    }

    /// [`LambdaEmulator::start`] for a function with a `timeout`: the emulator always
    /// gives 600 s (as a duration), so the function reaches it through a proxy that
    /// sets `Lambda-Runtime-Deadline-Ms` as Lambda does, to the epoch milliseconds at
    /// which `timeout` ends, counted from when the invocation is handed over.
    pub fn start_with_timeout(env: &[(String, String)], timeout: Duration) -> Self {
        Self::start_with(env, Some(timeout))
    }

    /// As `start`, with another build of the function: `program args...` (for example
    /// `qemu-aarch64 -L <sysroot> bootstrap`, the arm64 package under emulation).
    pub fn start_program(
        program: &std::path::Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Self {
        Self::start_full(program, args, env, None)
    }

    fn start_with(env: &[(String, String)], timeout: Option<Duration>) -> Self {
        Self::start_full(
            std::path::Path::new(env!("CARGO_BIN_EXE_csoc-forwarder")),
            &[],
            env,
            timeout,
        )
    }

    fn start_full(
        program: &std::path::Path,
        args: &[&str],
        env: &[(String, String)],
        timeout: Option<Duration>,
    ) -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let port = free_port();
        let watch_log = std::fs::File::create(dir.path().join("watch.log")).expect("log");
        let watch = Command::new(tool("cargo-lambda"))
            .args(["lambda", "watch", "--only-lambda-apis", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(watch_log.try_clone().expect("log"))
            .stderr(watch_log)
            .spawn()
            .expect("start cargo lambda watch");
        wait_for_port(port, Duration::from_secs(60), "cargo lambda watch");

        let runtime_port = match timeout {
            Some(timeout) => deadline_proxy(port, timeout),
            None => port,
        };
        let function_log = std::fs::File::create(dir.path().join("function.log")).expect("log");
        let function = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{runtime_port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(function_log.try_clone().expect("log"))
            .stderr(function_log)
            .spawn()
            .expect("start the function binary");
        Self {
            watch,
            function,
            port,
            dir,
        }
    }

    /// Everything the function wrote (JSON logs and EMF lines).
    pub fn function_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("function.log")).unwrap_or_default()
    }

    /// Both logs, labelled, for a failing assertion's message.
    pub fn logs(&self) -> String {
        format!(
            "--- function log ---\n{}\n--- watch log ---\n{}",
            self.function_log(),
            self.watch_log()
        )
    }

    pub fn watch_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("watch.log")).unwrap_or_default()
    }

    /// The EMF lines the function wrote so far, in order.
    pub fn emf_lines(&self) -> Vec<serde_json::Value> {
        self.function_log()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("_aws").is_some())
            .collect()
    }

    /// Whether the function process has exited, and how.
    pub fn function_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.function.try_wait().expect("try_wait")
    }

    /// Invokes the function with `event` as Lambda's Invoke API does; the response.
    pub fn invoke(&mut self, event: &[u8]) -> serde_json::Value {
        let (status, _, body) = request(
            self.port,
            "POST",
            &format!("/2015-03-31/functions/{FUNCTION}/invocations"),
            &[("content-type", "application/json")],
            event,
        );
        assert!(
            status == 200,
            "invoke answered {status}: {}\n{}",
            String::from_utf8_lossy(&body),
            self.logs()
        );
        serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "invoke response is not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })
    }
}

impl LambdaEmulator {
    /// Calls the function through the emulator's function URL
    /// (`/lambda-url/<function>/<path>`): status, lowercased head, body.
    pub fn function_url(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        request(
            self.port,
            method,
            &format!("/lambda-url/{FUNCTION}{path}"),
            headers,
            body,
        )
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        for child in [&mut self.function, &mut self.watch] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A minimal HTTP/1.1 request on 127.0.0.1 (`Connection: close`): status, the head
/// (lowercased) and the body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    stream.write_all(body).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut rest = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        rest = dechunk(&rest);
    }
    (status, head, rest)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// A proxy on a free port in front of the runtime API on `upstream`: every answer that
/// hands over an invocation gets `Lambda-Runtime-Deadline-Ms` = now + `timeout` (epoch
/// ms). One thread per connection; each request goes upstream on a connection of its own
/// and comes back re-framed with a `Content-Length`.
fn deadline_proxy(upstream: u16, timeout: Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = proxy_connection(client, upstream, timeout);
            });
        }
    });
    port
}

fn proxy_connection(
    mut client: TcpStream,
    upstream: u16,
    timeout: Duration,
) -> std::io::Result<()> {
    let mut reader = std::io::BufReader::new(client.try_clone()?);
    loop {
        let Some((head, body)) = read_message(&mut reader)? else {
            return Ok(());
        };
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        up.write_all(&reframe(&head, body.len(), true, None))?;
        up.write_all(&body)?;
        let mut up_reader = std::io::BufReader::new(up);
        let Some((head, body)) = read_message(&mut up_reader)? else {
            return Ok(());
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            + timeout;
        client.write_all(&reframe(
            &head,
            body.len(),
            false,
            Some(deadline.as_millis()),
        ))?;
        client.write_all(&body)?;
    }
}

/// One HTTP/1.1 message: its head (up to the blank line) and its body (by
/// `Content-Length`, chunked, or for a response without either, up to the close).
fn read_message(r: &mut impl std::io::BufRead) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let lower = head.to_ascii_lowercase();
    let header = |name: &str| {
        lower
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let mut body = Vec::new();
    if let Some(len) = header("content-length:") {
        body.resize(len.parse().unwrap_or(0), 0);
        r.read_exact(&mut body)?;
    } else if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if lower.starts_with("http/") && !lower.starts_with("http/1.1 204") {
        r.read_to_end(&mut body)?;
    }
    Ok(Some((head, body)))
}

/// `head` with its framing replaced by `Content-Length: len`, `Connection: close` when
/// `close`, and the deadline header set when given and present.
fn reframe(head: &str, len: usize, close: bool, deadline_ms: Option<u128>) -> Vec<u8> {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "content-length" | "transfer-encoding" | "connection" => continue,
            "lambda-runtime-deadline-ms" if deadline_ms.is_some() => {
                out.push_str(&format!(
                    "lambda-runtime-deadline-ms: {}\r\n",
                    deadline_ms.unwrap_or_default()
                ));
            }
            _ => {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
    }
    out.push_str(&format!("content-length: {len}\r\n"));
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

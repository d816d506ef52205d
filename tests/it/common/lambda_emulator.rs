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
        Self::start_program(
            std::path::Path::new(env!("CARGO_BIN_EXE_csoc-forwarder")),
            &[],
            env,
        )
    }

    /// As `start`, with another build of the function: `program args...` (for example
    /// `qemu-aarch64 -L <sysroot> bootstrap`, the arm64 package under emulation).
    pub fn start_program(
        program: &std::path::Path,
        args: &[&str],
        env: &[(String, String)],
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

        let function_log = std::fs::File::create(dir.path().join("function.log")).expect("log");
        let function = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
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

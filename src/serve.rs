//! `csoc-forwarder serve`: the audit-records endpoint over plain HTTP, for trying it
//! locally. Each request becomes the function URL event Lambda would deliver (without
//! an IAM identity), goes through the same [`Pipeline::handle`], and the function URL
//! response it gives becomes the HTTP response.
//!
//! Bounded like a function URL front end ([`Limits`]): at most `concurrency` requests
//! are handled at once (more get 429 with `Retry-After`, as a throttled function URL
//! answers), request headers must arrive within `header_timeout` and the body within
//! `body_timeout` (else the connection is closed, or 408), and at most
//! [`MAX_CONNECTIONS`] connections are open (more wait in the listen backlog).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::invocation::{Deadline, Invocation};
use crate::pipeline::Pipeline;
use crate::report::Report;

/// The largest request body a function URL accepts (6 MB); `serve` refuses larger ones
/// the same way, before they reach the handler.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// How much of an oversized body is read (and dropped) before the 413, so that
/// ordinary clients see the answer instead of a reset connection.
const MAX_DRAIN_BYTES: usize = 4 * MAX_REQUEST_BYTES;

/// The time each request gets: the audit function's default timeout in Terraform.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// How long in-flight requests may take to finish once shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(35);

/// Requests handled at once by default (`--concurrency`).
pub const DEFAULT_CONCURRENCY: u16 = 4;

/// Open connections at most; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 256;

/// The bounds `serve` works within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests handled at once (body read and handler); more get 429.
    pub concurrency: usize,
    /// Time for a request's headers to arrive (also how long an idle keep-alive
    /// connection stays open); then the connection is closed.
    pub header_timeout: Duration,
    /// Time for a request's body to arrive once its headers have; then 408.
    pub body_timeout: Duration,
}

impl Limits {
    /// 4 requests at once (a few times the 6 MB body each in memory), 10 s for headers,
    /// 30 s for the body.
    pub const DEFAULT: Self = Self {
        concurrency: DEFAULT_CONCURRENCY as usize,
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(30),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What one request did: written to stdout as one JSON line.
#[derive(serde::Serialize)]
struct SummaryLine<'a> {
    method: &'a str,
    path: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    pipeline: Arc<Pipeline>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let sequence = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(Semaphore::new(limits.concurrency.max(1)));
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&connections).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // E.g. too many open files: keep serving the connections we have.
                    warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let pipeline = Arc::clone(&pipeline);
        let sequence = Arc::clone(&sequence);
        let requests = Arc::clone(&requests);
        let service = service_fn(move |req| {
            let pipeline = Arc::clone(&pipeline);
            let requests = Arc::clone(&requests);
            let n = sequence.fetch_add(1, Ordering::Relaxed);
            async move {
                // Held until the answer is built: the body and the handler's work.
                let Ok(_permit) = requests.try_acquire_owned() else {
                    warn!(
                        path = req.uri().path(),
                        "too many requests at once: answered 429"
                    );
                    return Ok::<_, Infallible>(too_many_requests(limits.concurrency));
                };
                Ok(answer(req, peer, &pipeline, n, limits.body_timeout).await)
            }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                warn!(error = %err, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("requests still in flight after the drain time were cut");
    }
    Ok(())
}

async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    pipeline: &Pipeline,
    n: u64,
    body_timeout: Duration,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(body_timeout, read_body(body)).await {
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => {
            warn!(
                path = parts.uri.path(),
                "request body over the function URL limit"
            );
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body is over {MAX_REQUEST_BYTES} bytes, the function URL limit"),
            );
        }
        Ok(Err(BodyError::Read(err))) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &format!("request body could not be read: {err}"),
            );
        }
        Err(_) => {
            warn!(
                path = parts.uri.path(),
                "request body too slow: answered 408"
            );
            let mut res = json_response(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} s",
                    body_timeout.as_secs_f64()
                ),
            );
            res.headers_mut()
                .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
            return res;
        }
    };
    let now = chrono::Utc::now();
    let event = function_url_event(&parts, &body, peer, n, now);
    let bytes = match serde_json::to_vec(&event) {
        Ok(bytes) => bytes,
        Err(err) => {
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string());
        }
    };
    drop(event);
    drop(body);
    let inv = Invocation {
        received_at: now,
        deadline: Deadline::after(REQUEST_DEADLINE),
        source: "serve".to_owned(),
    };
    let report = pipeline.handle(&bytes, &inv).await;
    let line = serde_json::to_string(&SummaryLine {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        report: &report,
    })
    .unwrap_or_default();
    println!("{line}");
    http_response(&report.response)
}

/// The 429 of a throttled function URL, asking the caller to retry shortly.
fn too_many_requests(concurrency: usize) -> Response<Full<Bytes>> {
    let mut res = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("too many requests at once (at most {concurrency}): retry shortly"),
    );
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

enum BodyError {
    TooLarge,
    Read(hyper::Error),
}

/// The body, up to [`MAX_REQUEST_BYTES`]. A larger one is read on (and dropped) up to
/// [`MAX_DRAIN_BYTES`], so the client is done sending and reads the 413.
async fn read_body(mut body: Incoming) -> Result<Bytes, BodyError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if total <= MAX_REQUEST_BYTES {
                buf.extend_from_slice(&data);
            } else if total > MAX_DRAIN_BYTES {
                return Err(BodyError::TooLarge);
            }
        }
    }
    if total > MAX_REQUEST_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(buf))
}

/// The function URL event (payload format 2.0) Lambda would deliver for this request.
/// Bodies that are UTF-8 and not content-encoded arrive as text, others base64.
pub fn function_url_event(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    n: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> LambdaFunctionUrlRequest {
    let mut req = LambdaFunctionUrlRequest::default();
    req.version = Some("2.0".to_owned());
    req.raw_path = Some(parts.uri.path().to_owned());
    req.raw_query_string = Some(parts.uri.query().unwrap_or("").to_owned());
    req.headers = parts.headers.clone();
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) if !parts.headers.contains_key(CONTENT_ENCODING) => {
                req.body = Some(text.to_owned());
            }
            _ => {
                req.body = Some(STANDARD.encode(body));
                req.is_base64_encoded = true;
            }
        }
    }
    let ctx = &mut req.request_context;
    ctx.request_id = Some(format!("serve-{}-{n}", now.timestamp_millis()));
    ctx.time_epoch = now.timestamp_millis();
    ctx.http.method = Some(parts.method.as_str().to_owned());
    ctx.http.path = Some(
        percent_encoding::percent_decode_str(parts.uri.path())
            .decode_utf8_lossy()
            .into_owned(),
    );
    ctx.http.protocol = Some(format!("{:?}", parts.version));
    ctx.http.source_ip = Some(peer.ip().to_string());
    ctx.http.user_agent = parts
        .headers
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    req
}

/// The HTTP response for the handler's function URL response.
fn http_response(response: &serde_json::Value) -> Response<Full<Bytes>> {
    let Ok(r) = serde_json::from_value::<LambdaFunctionUrlResponse>(response.clone()) else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &response.to_string());
    };
    let status = u16::try_from(r.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match r.body {
        Some(body) if r.is_base64_encoded => STANDARD.decode(body).unwrap_or_default(),
        Some(body) => body.into_bytes(),
        None => Vec::new(),
    };
    let mut out = Response::new(Full::new(Bytes::from(body)));
    *out.status_mut() = status;
    *out.headers_mut() = r.headers;
    out
}

fn json_response(status: StatusCode, error: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": error }).to_string();
    let mut out = Response::new(Full::new(Bytes::from(body)));
    *out.status_mut() = status;
    out.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    out
}

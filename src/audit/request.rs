//! An audit-records request as a function URL delivers it: the method, the node named
//! by the path, and the body (base64 when the function URL says so, gzip when sent so).

use std::borrow::Cow;

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use aws_lambda_events::http;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use super::Refusal;
use super::record::{self, AuditPost};
use crate::decode::{DecodeError, GZIP_MAGIC, gunzip_capped};

/// Longest node name, in bytes once URL-decoded.
pub const MAX_NODE_BYTES: usize = 255;

/// A request that passed every check: who it is for and what it carries.
#[derive(Debug)]
pub struct AuditRequest {
    pub node: String,
    pub post: AuditPost,
}

/// Reads and checks `req`: `POST /{node-name}` with an audit-records body of at most
/// `max_body_bytes` (as sent, and again once gunzipped).
pub fn read(
    req: &LambdaFunctionUrlRequest,
    max_body_bytes: usize,
) -> Result<AuditRequest, Refusal> {
    let method = req.request_context.http.method.as_deref().unwrap_or("");
    if !method.eq_ignore_ascii_case("POST") {
        return Err(Refusal::method_not_allowed(method));
    }
    let node = node(req)?;
    let text = body(req, max_body_bytes).map_err(|r| r.for_node(&node))?;
    let post = record::parse(&text).map_err(|r| r.for_node(&node))?;
    Ok(AuditRequest { node, post })
}

/// The node: the one path segment, URL-decoded.
fn node(req: &LambdaFunctionUrlRequest) -> Result<String, Refusal> {
    let raw = req
        .raw_path
        .as_deref()
        .or(req.request_context.http.path.as_deref())
        .unwrap_or("");
    let segment = raw.strip_prefix('/').unwrap_or(raw);
    let segment = segment.strip_suffix('/').unwrap_or(segment);
    if segment.is_empty() || segment.contains('/') {
        return Err(Refusal::bad_request(format!(
            "path {raw:?} must name one node: POST /{{node-name}}"
        )));
    }
    let node = percent_decode_str(segment).decode_utf8().map_err(|_| {
        Refusal::bad_request(format!(
            "path {raw:?}: the node name is not UTF-8 once URL-decoded"
        ))
    })?;
    if node.trim().is_empty() || node.chars().any(char::is_control) {
        return Err(Refusal::bad_request(format!(
            "path {raw:?}: the node name must not be blank or hold control characters"
        )));
    }
    if node.len() > MAX_NODE_BYTES {
        return Err(Refusal::bad_request(format!(
            "path: the node name is {} bytes, at most {MAX_NODE_BYTES}",
            node.len()
        )));
    }
    Ok(node.into_owned())
}

/// The body as JSON text: base64-decoded when the function URL encoded it, gunzipped
/// when it is gzip (by `Content-Encoding: gzip`, or by its magic bytes), capped.
fn body(req: &LambdaFunctionUrlRequest, cap: usize) -> Result<String, Refusal> {
    let Some(body) = req.body.as_deref().filter(|b| !b.is_empty()) else {
        return Err(Refusal::bad_request(
            "body is empty: expected {\"messageType\": \"...\", \"auditRecords\": [...]}",
        ));
    };
    let bytes: Cow<'_, [u8]> = if req.is_base64_encoded {
        Cow::Owned(
            STANDARD
                .decode(body.trim_ascii())
                .map_err(|e| Refusal::bad_request(format!("body is not valid base64: {e}")))?,
        )
    } else {
        Cow::Borrowed(body.as_bytes())
    };
    if bytes.len() > cap {
        return Err(Refusal::too_large(format!(
            "body is {} bytes, over the cap of {cap} bytes: send fewer records per request",
            bytes.len()
        )));
    }
    let encoding = req
        .headers
        .get(http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let gzip = match encoding.as_deref() {
        None | Some("" | "identity") => bytes.starts_with(&GZIP_MAGIC),
        Some("gzip" | "x-gzip") => true,
        Some(other) => {
            return Err(Refusal::bad_request(format!(
                "Content-Encoding {other:?} is not supported: send gzip or no encoding"
            )));
        }
    };
    if gzip {
        let mut out = Vec::new();
        return match gunzip_capped(&bytes, cap, &mut out) {
            Ok(_) => String::from_utf8(out)
                .map_err(|_| Refusal::bad_request("body is not UTF-8 once gunzipped")),
            Err(DecodeError::TooLarge { cap }) => Err(Refusal::too_large(format!(
                "body is over the cap of {cap} bytes once gunzipped: send fewer records per request"
            ))),
            Err(DecodeError::NotGzip) => Err(Refusal::bad_request(
                "body is not gzip, though Content-Encoding says gzip",
            )),
            Err(DecodeError::Utf8 { offset }) => Err(Refusal::bad_request(format!(
                "body is not UTF-8 once gunzipped (first bad byte at offset {offset})"
            ))),
            Err(err) => Err(Refusal::bad_request(format!(
                "body is not valid gzip: {err}"
            ))),
        };
    }
    String::from_utf8(bytes.into_owned()).map_err(|e| {
        Refusal::bad_request(format!(
            "body is not UTF-8 (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

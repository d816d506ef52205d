//! The answer to an audit-records request, as a function URL response.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};

use super::{METHOD_NOT_ALLOWED, SERVICE_UNAVAILABLE};

/// Seconds a caller is asked to wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// A function URL response with `body` as JSON.
pub fn response(status: u16, body: &serde_json::Value) -> serde_json::Value {
    let mut r = LambdaFunctionUrlResponse::default();
    r.status_code = i64::from(status);
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == METHOD_NOT_ALLOWED {
        r.headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    if status == SERVICE_UNAVAILABLE {
        r.headers
            .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    r.body = Some(body.to_string());
    r.is_base64_encoded = false;
    serde_json::to_value(&r).unwrap_or_default()
}

/// `{"error": "..."}` with `status`.
pub fn error(status: u16, error: &str) -> serde_json::Value {
    response(status, &serde_json::json!({ "error": error }))
}

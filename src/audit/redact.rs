//! What a refused request's dead letter must not keep: the caller's credentials.
//!
//! The letter keeps the whole function-URL event so it can be replayed; the headers that
//! carry credentials (`authorization` with its SigV4 signature, `x-amz-security-token`,
//! `cookie`, …), the `cookies` list and the authorizer's `accessKey` are replaced by
//! [`REDACTED`] first. Nothing a replay needs (path, method, body, encoding) is touched.

use serde_json::Value;

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Headers (lower case) whose values are credentials.
pub const CREDENTIAL_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "x-amz-security-token",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// `event` (a function-URL event as JSON) with the caller's credentials redacted. Input
/// that is not a JSON object is returned as an empty object's text rather than kept as
/// is, since it could not be checked.
pub fn event(event: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(event) else {
        return b"{}".to_vec();
    };
    let Some(obj) = value.as_object_mut() else {
        return b"{}".to_vec();
    };
    if let Some(Value::Object(headers)) = obj.get_mut("headers") {
        for (name, v) in headers.iter_mut() {
            if CREDENTIAL_HEADERS
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
            {
                *v = Value::String(REDACTED.to_owned());
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get_mut("cookies") {
        for c in cookies.iter_mut() {
            *c = Value::String(REDACTED.to_owned());
        }
    }
    if let Some(Value::Object(iam)) = obj
        .get_mut("requestContext")
        .and_then(|c| c.get_mut("authorizer"))
        .and_then(|a| a.get_mut("iam"))
        && let Some(key) = iam.get_mut("accessKey")
        && !key.is_null()
    {
        *key = Value::String(REDACTED.to_owned());
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_replaced_and_the_rest_kept() {
        let ev = serde_json::json!({
            "rawPath": "/n",
            "headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/…, Signature=abc",
                        "x-amz-security-token": "IQoSESSIONTOKEN", "cookie": "s=1",
                        "content-encoding": "gzip"},
            "cookies": ["s=1"],
            "requestContext": {"authorizer": {"iam": {"accessKey": "ASIAKEY", "userArn": "arn"}}},
            "body": "e30=",
            "isBase64Encoded": true,
        });
        let out: Value =
            serde_json::from_slice(&event(&serde_json::to_vec(&ev).expect("json"))).expect("json");
        let text = out.to_string();
        for secret in ["Signature=abc", "IQoSESSIONTOKEN", "s=1", "ASIAKEY"] {
            assert!(!text.contains(secret), "{secret} kept in {text}");
        }
        assert_eq!(out["headers"]["content-encoding"], "gzip");
        assert_eq!(out["requestContext"]["authorizer"]["iam"]["userArn"], "arn");
        assert_eq!(out["body"], "e30=");
        assert_eq!(out["rawPath"], "/n");
    }
}

//! The one place that decides what a `_bulk` answer means, for the request as a whole
//! and for each item. Pure functions on status codes and response bodies.
//!
//! | answer | meaning |
//! | --- | --- |
//! | item 200 / 201 | indexed |
//! | item 409 (version conflict) | already indexed by an earlier try: indexed |
//! | item 429, 5xx | retry the item with backoff |
//! | item 401, 403, 404 (auth, blocked or read-only index, no index) | retry: the cluster, not the document, is at fault |
//! | item 400 (mapper_parsing_exception, field-type conflict, total-fields limit, …) | the document itself: index it again in the safe form |
//! | any other item status | refused for good: dead letter |
//! | request 413 | split the request in halves; a single document: refused for good |
//! | request 400 | the body as a whole was refused: split to find the bad document |
//! | request 429, 5xx, any other status, a body that is not a bulk answer | retry every item |
//! | no answer (refused, reset, timeout) | retry every item (decided by the caller) |

use serde::Deserialize;
use serde_json::Value;

/// What one item's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemClass {
    /// 200 / 201.
    Indexed,
    /// 409: the id is already in the index.
    AlreadyIndexed,
    /// Worth trying again later.
    Retry(String),
    /// The document itself was refused (400): try its safe form.
    BadDocument { error_type: String, reason: String },
    /// Refused for good.
    Rejected(String),
}

/// What the answer to one `_bulk` request means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestClass {
    /// One class per item sent, in order.
    Items(Vec<ItemClass>),
    /// Every item is worth trying again.
    Retry(String),
    /// Too large (413) or refused as a whole (400): send the halves separately.
    Split(String),
}

#[derive(Deserialize)]
struct BulkResponse {
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<Value>,
}

/// Classifies the answer to a `_bulk` request that carried `sent` items.
pub fn classify_response(status: u16, body: &[u8], sent: usize) -> RequestClass {
    match status {
        200..=299 => {}
        413 => return RequestClass::Split(format!("413 request too large: {}", brief(body))),
        400 => return RequestClass::Split(format!("400 bad request: {}", brief(body))),
        _ => return RequestClass::Retry(format!("HTTP {status}: {}", brief(body))),
    }
    let parsed: BulkResponse = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(err) => {
            return RequestClass::Retry(format!(
                "HTTP {status} with a body that is not a bulk answer ({err}): {}",
                brief(body)
            ));
        }
    };
    if parsed.items.len() != sent {
        return RequestClass::Retry(format!(
            "the bulk answer has {} items for {sent} sent",
            parsed.items.len()
        ));
    }
    RequestClass::Items(
        parsed
            .items
            .iter()
            .map(|item| match item.values().next() {
                Some(item) => classify_item(item.status, item.error.as_ref()),
                None => ItemClass::Retry("an empty item in the bulk answer".to_owned()),
            })
            .collect(),
    )
}

/// Classifies one item of a bulk answer.
pub fn classify_item(status: u16, error: Option<&Value>) -> ItemClass {
    let (error_type, reason) = describe(error);
    let said = || format!("{status} {error_type}: {reason}");
    match status {
        200 | 201 => ItemClass::Indexed,
        409 => ItemClass::AlreadyIndexed,
        429 | 500..=599 | 401 | 403 | 404 => ItemClass::Retry(said()),
        400 => ItemClass::BadDocument { error_type, reason },
        _ => ItemClass::Rejected(said()),
    }
}

/// `(type, reason)` of an item error, with the root cause's reason appended when it
/// says more (a field-type conflict's "For input string" lives there).
fn describe(error: Option<&Value>) -> (String, String) {
    let Some(error) = error else {
        return ("unknown".to_owned(), "no error given".to_owned());
    };
    if let Some(text) = error.as_str() {
        return ("unknown".to_owned(), text.to_owned());
    }
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let error_type = text(error, "type").unwrap_or_else(|| "unknown".to_owned());
    let mut reason = text(error, "reason").unwrap_or_default();
    if let Some(cause) = error.get("caused_by")
        && let Some(cause_reason) = text(cause, "reason")
    {
        let cause_type = text(cause, "type").unwrap_or_default();
        reason = format!("{reason} (caused by {cause_type}: {cause_reason})");
    }
    (error_type, reason)
}

/// The start of a body, as text, for error messages.
fn brief(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    let text = text.trim();
    if body.len() > MAX {
        format!("{text}…")
    } else if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(status: u16, body: &str, sent: usize) -> Vec<ItemClass> {
        match classify_response(status, body.as_bytes(), sent) {
            RequestClass::Items(items) => items,
            other => panic!("expected items, got {other:?}"),
        }
    }

    #[test]
    fn created_and_conflicts_count_as_indexed() {
        let body = r#"{"took":30,"errors":true,"items":[
            {"create":{"_index":"csoc-logs-2018.03.08","_id":"a","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
            {"create":{"_index":"csoc-logs-2018.03.08","_id":"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict, document already exists (current version [1])","index":"csoc-logs-2018.03.08","shard":"0","index_uuid":"x"}}}
        ]}"#;
        assert_eq!(
            items(200, body, 2),
            vec![ItemClass::Indexed, ItemClass::AlreadyIndexed]
        );
    }

    #[test]
    fn item_429_and_5xx_are_retried() {
        let body = r#"{"took":3,"errors":true,"items":[
            {"create":{"_index":"i","_id":"a","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},
            {"create":{"_index":"i","_id":"b","status":503,"error":{"type":"unavailable_shards_exception","reason":"[i][0] primary shard is not active"}}},
            {"create":{"_index":"i","_id":"c","status":403,"error":{"type":"cluster_block_exception","reason":"index [i] blocked by: [FORBIDDEN/8/index write (api)];"}}},
            {"create":{"_index":"i","_id":"d","status":201}}
        ]}"#;
        let got = items(200, body, 4);
        assert!(
            matches!(&got[0], ItemClass::Retry(r) if r.contains("429 es_rejected_execution_exception"))
        );
        assert!(matches!(&got[1], ItemClass::Retry(r) if r.contains("503")));
        assert!(matches!(&got[2], ItemClass::Retry(r) if r.contains("cluster_block_exception")));
        assert_eq!(got[3], ItemClass::Indexed);
    }

    #[test]
    fn document_errors_go_to_the_safe_form() {
        let body = r#"{"took":5,"errors":true,"items":[
            {"create":{"_index":"i","_id":"a","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [message.http_response_time] of type [float] in document with id 'a'. Preview of field's value: 'slow'","caused_by":{"type":"number_format_exception","reason":"For input string: \"slow\""}}}},
            {"create":{"_index":"i","_id":"b","status":400,"error":{"type":"illegal_argument_exception","reason":"Limit of total fields [1000] has been exceeded"}}}
        ]}"#;
        let got = items(200, body, 2);
        match &got[0] {
            ItemClass::BadDocument { error_type, reason } => {
                assert_eq!(error_type, "mapper_parsing_exception");
                assert!(reason.contains("message.http_response_time"), "{reason}");
                assert!(reason.contains("For input string"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &got[1],
            ItemClass::BadDocument { error_type, reason }
                if error_type == "illegal_argument_exception" && reason.contains("total fields")
        ));
    }

    #[test]
    fn other_item_statuses_are_refused_for_good() {
        let got = items(
            200,
            r#"{"errors":true,"items":[{"create":{"_index":"i","_id":"a","status":422,"error":"odd"}}]}"#,
            1,
        );
        assert!(
            matches!(&got[0], ItemClass::Rejected(r) if r.contains("422") && r.contains("odd"))
        );
    }

    #[test]
    fn request_level_answers() {
        assert!(matches!(
            classify_response(413, b"", 10),
            RequestClass::Split(r) if r.contains("413")
        ));
        assert!(matches!(
            classify_response(400, br#"{"error":{"type":"illegal_argument_exception","reason":"Malformed action/metadata line [1]"},"status":400}"#, 10),
            RequestClass::Split(r) if r.contains("Malformed")
        ));
        for status in [429, 500, 502, 503, 504, 401, 403, 404] {
            assert!(
                matches!(classify_response(status, b"{}", 1), RequestClass::Retry(r) if r.contains(&status.to_string())),
                "{status}"
            );
        }
        assert!(matches!(
            classify_response(200, b"<html>proxy error</html>", 1),
            RequestClass::Retry(r) if r.contains("not a bulk answer")
        ));
        assert!(matches!(
            classify_response(200, br#"{"errors":false,"items":[]}"#, 1),
            RequestClass::Retry(r) if r.contains("0 items for 1")
        ));
    }

    #[test]
    fn an_all_good_answer_has_one_class_per_item() {
        let body = r#"{"took":1,"errors":false,"items":[{"create":{"_index":"i","_id":"a","status":201}},{"index":{"_index":"i","_id":"b","status":200}}]}"#;
        assert_eq!(
            items(200, body, 2),
            vec![ItemClass::Indexed, ItemClass::Indexed]
        );
    }
}

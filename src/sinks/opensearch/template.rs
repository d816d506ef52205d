//! The index template and the retention policy, put once per cold start.
//!
//! Both ship as files under `opensearch/` so operators can apply them by hand; the code
//! puts the same files with the configured prefix (and retention days) filled in.

use std::time::Duration;

use bytes::Bytes;
use opensearch::OpenSearch;
use opensearch::http::Method;
use opensearch::http::headers::HeaderMap;
use serde_json::{Value, json};
use tracing::{info, warn};

/// `opensearch/index-template.json`, for `csoc-logs-*`.
pub const INDEX_TEMPLATE: &str = include_str!("../../../opensearch/index-template.json");
/// `opensearch/retention-policy.json`, for `csoc-logs-*` and 90 days.
pub const RETENTION_POLICY: &str = include_str!("../../../opensearch/retention-policy.json");

/// The index template for `<prefix>-*`.
pub fn index_template(prefix: &str) -> Value {
    let mut template: Value = serde_json::from_str(INDEX_TEMPLATE).expect("shipped template");
    template["index_patterns"] = json!([format!("{prefix}-*")]);
    template
}

/// The ISM policy deleting `<prefix>-*` indices `days` after they are created.
pub fn retention_policy(prefix: &str, days: u32) -> Value {
    let mut policy: Value = serde_json::from_str(RETENTION_POLICY).expect("shipped policy");
    let p = &mut policy["policy"];
    p["description"] = json!(format!(
        "csoc-forwarder: delete {prefix}-* indices {days} days after they are created."
    ));
    p["states"][0]["transitions"][0]["conditions"]["min_index_age"] = json!(format!("{days}d"));
    p["ism_template"][0]["index_patterns"] = json!([format!("{prefix}-*")]);
    policy
}

/// The names they are stored under.
pub fn template_name(prefix: &str) -> String {
    prefix.to_owned()
}

pub fn policy_name(prefix: &str) -> String {
    format!("{prefix}-retention")
}

/// Puts the template, then the retention policy (`days` 0: none). Never fails the cold
/// start: what does not work is a warning, and indexing goes on with dynamic mappings.
/// Returns whether the template was put.
pub async fn install(
    client: &OpenSearch,
    prefix: &str,
    days: u32,
    serverless: bool,
    timeout: Duration,
) -> bool {
    let name = template_name(prefix);
    let put = send_json(
        client,
        Method::Put,
        &format!("_index_template/{name}"),
        &index_template(prefix),
        timeout,
    )
    .await;
    let template_ok = match put {
        Ok((200..=299, _)) => {
            info!(template = %name, "index template put");
            true
        }
        Ok((status, body)) => {
            warn!(template = %name, status, body = %brief(&body), "index template not put: documents are indexed with dynamic mappings");
            false
        }
        Err(err) => {
            // Unreachable: do not spend the cold start on the policy too.
            warn!(template = %name, error = %err, "index template not put (cluster unreachable): documents are indexed with dynamic mappings");
            return false;
        }
    };
    if days == 0 {
        return template_ok;
    }
    if serverless {
        warn!(
            "OpenSearch Serverless has no ISM: set a data lifecycle policy on the collection for retention"
        );
        return template_ok;
    }
    if let Err(err) = put_policy(client, prefix, days, timeout).await {
        warn!(policy = %policy_name(prefix), error = %err, "retention policy not put: indices are kept until deleted by hand");
    }
    template_ok
}

/// Creates the policy, or updates it when its days differ (ISM needs the sequence
/// number of the stored policy to update it).
async fn put_policy(
    client: &OpenSearch,
    prefix: &str,
    days: u32,
    timeout: Duration,
) -> Result<(), String> {
    let name = policy_name(prefix);
    let path = format!("_plugins/_ism/policies/{name}");
    let policy = retention_policy(prefix, days);
    let (status, body) = send(client, Method::Get, &path, None, timeout).await?;
    let put_path = match status {
        200 => {
            let stored: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            // The cluster adds fields (retry settings, times) to what it stores: compare
            // only what this function sets.
            let same = policy_key(&stored) == policy_key(&policy);
            if same {
                info!(policy = %name, days, "retention policy already in place");
                return Ok(());
            }
            format!(
                "{path}?if_seq_no={}&if_primary_term={}",
                stored["_seq_no"], stored["_primary_term"]
            )
        }
        404 if !no_handler(&body) => path.clone(),
        _ => return Err(unsupported(status, &body)),
    };
    match send_json(client, Method::Put, &put_path, &policy, timeout).await? {
        (200..=299, _) => {
            info!(policy = %name, days, "retention policy put");
            Ok(())
        }
        // Another cold start put it at the same time.
        (409, _) => Ok(()),
        (status, body) => Err(unsupported(status, &body)),
    }
}

/// The retention age and the index patterns of a policy.
fn policy_key(policy: &Value) -> (&Value, &Value) {
    let p = &policy["policy"];
    (
        &p["states"][0]["transitions"][0]["conditions"]["min_index_age"],
        &p["ism_template"][0]["index_patterns"],
    )
}

fn no_handler(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("no handler found")
}

fn unsupported(status: u16, body: &[u8]) -> String {
    if no_handler(body) || matches!(status, 400 | 405) {
        format!(
            "the cluster does not support ISM (HTTP {status}: {})",
            brief(body)
        )
    } else {
        format!("HTTP {status}: {}", brief(body))
    }
}

async fn send_json(
    client: &OpenSearch,
    method: Method,
    path: &str,
    body: &Value,
    timeout: Duration,
) -> Result<(u16, Bytes), String> {
    let bytes = Bytes::from(serde_json::to_vec(body).map_err(|e| e.to_string())?);
    send(client, method, path, Some(bytes), timeout).await
}

async fn send(
    client: &OpenSearch,
    method: Method,
    path: &str,
    body: Option<Bytes>,
    timeout: Duration,
) -> Result<(u16, Bytes), String> {
    let response = client
        .send(
            method,
            path,
            HeaderMap::new(),
            None::<&()>,
            body,
            Some(timeout),
        )
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status_code().as_u16();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}

fn brief(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_is_for_the_default_prefix() {
        let template = index_template(crate::document::DEFAULT_INDEX_PREFIX);
        let shipped: Value = serde_json::from_str(INDEX_TEMPLATE).expect("json");
        assert_eq!(template, shipped);
        let props = &template["template"]["mappings"]["properties"];
        for field in ["@timestamp", "timestamp"] {
            assert_eq!(props[field]["type"], "date");
        }
        for field in [
            "owner",
            "logGroup",
            "logStream",
            "commons",
            "subscriptionFilters",
        ] {
            assert_eq!(props[field]["type"], "keyword", "{field}");
        }
        assert_eq!(props["message"]["properties"]["log"]["type"], "text");
        assert_eq!(
            props["message"]["properties"]["http_response_time"]["type"],
            "float"
        );
        assert!(
            template["template"]["settings"]["index.mapping.total_fields.limit"]
                .as_u64()
                .is_some()
        );
    }

    #[test]
    fn prefix_and_days_are_filled_in() {
        assert_eq!(
            index_template("other")["index_patterns"],
            json!(["other-*"])
        );
        let shipped: Value = serde_json::from_str(RETENTION_POLICY).expect("json");
        assert_eq!(retention_policy("csoc-logs", 90), shipped);
        let p = retention_policy("other", 7);
        assert_eq!(
            p["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"],
            "7d"
        );
        assert_eq!(
            p["policy"]["ism_template"][0]["index_patterns"],
            json!(["other-*"])
        );
    }
}

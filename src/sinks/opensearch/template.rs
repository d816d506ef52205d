//! The index template and the retention policy, put once per cold start.
//!
//! Both ship as files under `opensearch/` so operators can apply them by hand; the code
//! puts the same files with the configured prefix (and retention days) filled in.
//!
//! The CloudTrail free-form objects (`requestParameters`, `responseElements`,
//! `additionalEventData`, `serviceEventDetails`) are `flat_object` fields in the shipped
//! template (OpenSearch 2.7+). [`install`] puts that form first; a cluster that refuses
//! the type (older OpenSearch, Elasticsearch) gets the text form ([`FreeForm::Text`]),
//! and documents then carry those objects as JSON text. What was put decides how
//! documents are built ([`crate::sinks::IndexSink::free_form`]).
//!
//! Priorities: a more specific prefix wins. The template and the ISM policy for
//! `<prefix>-*` have priority [`priority`] (100 for `csoc-logs`, higher for a longer
//! prefix such as the per-commons `csoc-logs-<commons>`), so a per-commons retention
//! overrides the shared `csoc-logs-*` one and the templates never tie.

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

pub use crate::config::{FreeForm, FreeFormChoice};

/// Template (and ISM template) priority for `<prefix>-*`: 100 for the shipped
/// `csoc-logs`, one more per character of a longer prefix. Overlapping patterns
/// (`csoc-logs-*` and `csoc-logs-qa-*`) always have different lengths, so they never tie
/// and the more specific one wins.
pub fn priority(prefix: &str) -> u64 {
    91 + prefix.len() as u64
}

/// The index template for `<prefix>-*` with the free-form objects mapped as `form`.
pub fn index_template(prefix: &str, form: FreeForm) -> Value {
    let mut template: Value = serde_json::from_str(INDEX_TEMPLATE).expect("shipped template");
    template["index_patterns"] = json!([format!("{prefix}-*")]);
    template["priority"] = json!(priority(prefix));
    if form == FreeForm::Text {
        let message = &mut template["template"]["mappings"]["properties"]["message"]["properties"];
        for field in crate::document::CLOUDTRAIL_TEXT_FIELDS {
            message[field] = json!({ "type": "text" });
        }
    }
    template
}

/// Every field path the template maps (aliases included), e.g. `message.eventName`,
/// `aws.cloudtrail.event_name`, with its type.
pub fn mapped_fields(template: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, props: &Value, out: &mut Vec<(String, String)>) {
        let Some(map) = props.as_object() else { return };
        for (name, spec) in map {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if let Some(kind) = spec["type"].as_str() {
                out.push((path.clone(), kind.to_owned()));
                for (sub, sub_spec) in spec["fields"].as_object().into_iter().flatten() {
                    if let Some(kind) = sub_spec["type"].as_str() {
                        out.push((format!("{path}.{sub}"), kind.to_owned()));
                    }
                }
            }
            walk(&path, &spec["properties"], out);
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &template["template"]["mappings"]["properties"],
        &mut out,
    );
    out
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
    p["ism_template"][0]["priority"] = json!(priority(prefix));
    policy
}

/// The names they are stored under.
pub fn template_name(prefix: &str) -> String {
    prefix.to_owned()
}

pub fn policy_name(prefix: &str) -> String {
    format!("{prefix}-retention")
}

/// What [`install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installed {
    /// The template was put.
    pub template: bool,
    /// The form documents must take: what the put template maps.
    pub free_form: FreeForm,
}

/// Puts the template (`flat_object` first when `choice` is `Auto`, then the text form
/// if the cluster refuses the type), then the retention policy (`days` 0: none). Never
/// fails the cold start: what does not work is a warning, and indexing goes on with
/// dynamic mappings (and free-form objects as text, which never explodes a mapping).
pub async fn install(
    client: &OpenSearch,
    prefix: &str,
    days: u32,
    serverless: bool,
    choice: FreeFormChoice,
    timeout: Duration,
) -> Installed {
    let name = template_name(prefix);
    let path = format!("_index_template/{name}");
    let first = match choice {
        FreeFormChoice::Auto => FreeForm::FlatObject,
        FreeFormChoice::Fixed(form) => form,
    };
    let mut put = send_json(
        client,
        Method::Put,
        &path,
        &index_template(prefix, first),
        timeout,
    )
    .await
    .map(|(status, body)| (status, body, first));
    if choice == FreeFormChoice::Auto
        && let Ok((400, body, _)) = &put
        && String::from_utf8_lossy(body).contains("flat_object")
    {
        info!(template = %name, "the cluster has no flat_object type: CloudTrail free-form objects are mapped and stored as text");
        put = send_json(
            client,
            Method::Put,
            &path,
            &index_template(prefix, FreeForm::Text),
            timeout,
        )
        .await
        .map(|(status, body)| (status, body, FreeForm::Text));
    }
    let installed = match put {
        Ok((200..=299, _, form)) => {
            info!(template = %name, free_form = ?form, "index template put");
            Installed {
                template: true,
                free_form: form,
            }
        }
        Ok((status, body, _)) => {
            warn!(template = %name, status, body = %brief(&body), "index template not put: documents are indexed with dynamic mappings");
            Installed {
                template: false,
                free_form: FreeForm::Text,
            }
        }
        Err(err) => {
            // Unreachable: do not spend the cold start on the policy too.
            warn!(template = %name, error = %err, "index template not put (cluster unreachable): documents are indexed with dynamic mappings");
            return Installed {
                template: false,
                free_form: fallback(choice),
            };
        }
    };
    if days == 0 {
        return installed;
    }
    if serverless {
        warn!(
            "OpenSearch Serverless has no ISM: set a data lifecycle policy on the collection for retention"
        );
        return installed;
    }
    if let Err(err) = put_policy(client, prefix, days, timeout).await {
        warn!(policy = %policy_name(prefix), error = %err, "retention policy not put: indices are kept until deleted by hand");
    }
    installed
}

/// The form documents take when no template is put: text unless configured otherwise
/// (an operator who applied the `flat_object` template by hand says so).
pub fn fallback(choice: FreeFormChoice) -> FreeForm {
    match choice {
        FreeFormChoice::Auto => FreeForm::Text,
        FreeFormChoice::Fixed(form) => form,
    }
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

/// The retention age, the index patterns and their priority of a policy.
fn policy_key(policy: &Value) -> (&Value, &Value, &Value) {
    let p = &policy["policy"];
    (
        &p["states"][0]["transitions"][0]["conditions"]["min_index_age"],
        &p["ism_template"][0]["index_patterns"],
        &p["ism_template"][0]["priority"],
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
        let template = index_template(crate::document::DEFAULT_INDEX_PREFIX, FreeForm::FlatObject);
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
            index_template("other", FreeForm::FlatObject)["index_patterns"],
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

    #[test]
    fn cloudtrail_and_access_log_fields_are_exact_and_aliased() {
        let template = index_template("csoc-logs", FreeForm::FlatObject);
        let fields: std::collections::HashMap<String, String> =
            mapped_fields(&template).into_iter().collect();
        for field in [
            "eventName",
            "eventSource",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "errorCode",
            "eventType",
            "recipientAccountId",
            "userIdentity.type",
            "userIdentity.arn",
            "userIdentity.accountId",
            "userIdentity.principalId",
            "userIdentity.userName",
            "userIdentity.sessionContext.sessionIssuer.type",
            "userIdentity.sessionContext.sessionIssuer.arn",
            "userIdentity.sessionContext.sessionIssuer.accountId",
            "userIdentity.sessionContext.sessionIssuer.principalId",
            "userIdentity.sessionContext.sessionIssuer.userName",
            "http_verb",
            "http_status_code",
            "network_client_ip",
            "kubernetes.pod_name",
            "kubernetes.namespace_name",
        ] {
            assert_eq!(fields[&format!("message.{field}")], "keyword", "{field}");
        }
        assert_eq!(fields["message.readOnly"], "boolean");
        assert_eq!(fields["message.eventTime"], "date");
        for field in crate::document::CLOUDTRAIL_TEXT_FIELDS {
            assert_eq!(fields[&format!("message.{field}")], "flat_object");
        }
        // Every alias points at a field the template maps, and not at another alias.
        let aliases = collect_aliases(&template["template"]["mappings"]["properties"], "");
        assert!(aliases.len() >= 30, "{aliases:?}");
        for (alias, path) in &aliases {
            assert!(alias.starts_with("aws.cloudtrail."), "{alias}");
            let target = fields
                .get(path)
                .unwrap_or_else(|| panic!("{alias} → {path}"));
            assert_ne!(target, "alias", "{alias} → {path}");
        }
    }

    fn collect_aliases(props: &Value, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, spec) in props.as_object().into_iter().flatten() {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if spec["type"] == "alias" {
                out.push((
                    path.clone(),
                    spec["path"].as_str().expect("path").to_owned(),
                ));
            }
            out.extend(collect_aliases(&spec["properties"], &path));
        }
        out
    }

    #[test]
    fn the_text_form_maps_the_free_form_objects_as_text() {
        let template = index_template("csoc-logs", FreeForm::Text);
        let fields: std::collections::HashMap<String, String> =
            mapped_fields(&template).into_iter().collect();
        for field in crate::document::CLOUDTRAIL_TEXT_FIELDS {
            assert_eq!(fields[&format!("message.{field}")], "text");
        }
        assert!(!template.to_string().contains("flat_object"));
        assert_eq!(
            fields["aws.cloudtrail.response_elements.text"], "alias",
            "the alias still points at the text field"
        );
    }

    #[test]
    fn a_more_specific_prefix_has_the_higher_priority() {
        assert_eq!(priority("csoc-logs"), 100);
        assert!(priority("csoc-logs-qa") > priority("csoc-logs"));
        assert!(priority("csoc-logs-qa-2") > priority("csoc-logs-qa"));
        let t = index_template("csoc-logs-qa", FreeForm::FlatObject);
        assert_eq!(t["priority"], json!(priority("csoc-logs-qa")));
        let p = retention_policy("csoc-logs-qa", 30);
        assert_eq!(
            p["policy"]["ism_template"][0]["priority"],
            json!(priority("csoc-logs-qa"))
        );
        assert_eq!(
            p["policy"]["ism_template"][0]["index_patterns"],
            json!(["csoc-logs-qa-*"])
        );
    }
}

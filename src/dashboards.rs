//! The OpenSearch Dashboards saved objects that ship with the forwarder
//! (`opensearch/dashboards/csoc-overview.ndjson`: the `csoc-logs-*` index pattern, saved
//! searches, visualizations and the "CSOC overview" dashboard), the fields they use, and
//! `csoc-forwarder dashboards install`: one multipart `POST
//! /api/saved_objects/_import?overwrite=true` with the `osd-xsrf` header, authenticated
//! like the index sink (SigV4, basic or none; see [`crate::sinks::opensearch::client`]).
//!
//! The NDJSON is written by `scripts/make_dashboards.py` (its readable source).

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use opensearch::http::Method;
use opensearch::http::headers::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use regex::Regex;
use serde_json::Value;
use thiserror::Error;

use crate::sinks::opensearch::OpenSearchConfig;
use crate::sinks::opensearch::client::{ConnectError, build_client};

/// `opensearch/dashboards/csoc-overview.ndjson`.
pub const SAVED_OBJECTS: &str = include_str!("../opensearch/dashboards/csoc-overview.ndjson");

/// The file name the objects are sent under.
pub const FILE_NAME: &str = "csoc-overview.ndjson";

/// The import API path (under the Dashboards base URL).
pub const IMPORT_PATH: &str = "api/saved_objects/_import";

/// The multipart boundary (never found in the objects: checked when the body is built).
const BOUNDARY: &str = "csoc-forwarder-saved-objects-7f3a9c";

/// One request; imports are small.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum DashboardsError {
    #[error("saved object on line {line}: {reason}")]
    Parse { line: usize, reason: String },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("Dashboards import: {0}")]
    Transport(String),
    #[error("Dashboards import refused (HTTP {status}): {body}")]
    Refused { status: u16, body: String },
    #[error("Dashboards import: {failed} saved object(s) not imported: {errors}")]
    Partial { failed: usize, errors: String },
}

/// The saved objects, one JSON object per line (blank lines skipped).
pub fn parse(ndjson: &str) -> Result<Vec<Value>, DashboardsError> {
    ndjson
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let parse = |reason: String| DashboardsError::Parse {
                line: i + 1,
                reason,
            };
            let v: Value = serde_json::from_str(l).map_err(|e| parse(e.to_string()))?;
            for key in ["id", "type", "attributes"] {
                if v.get(key).is_none() {
                    return Err(parse(format!("no {key}")));
                }
            }
            Ok(v)
        })
        .collect()
}

/// A field a saved object uses, and how.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldUse {
    pub field: String,
    /// Aggregated (terms, histogram, percentiles): must be keyword, numeric or date.
    pub aggregated: bool,
    /// The saved object's id.
    pub object: String,
}

/// Every field the saved objects use: the index pattern's time field, saved-search
/// columns and sort, aggregation fields, and the fields named in KQL queries.
pub fn fields_used(objects: &[Value]) -> Result<BTreeSet<FieldUse>, DashboardsError> {
    let mut out = BTreeSet::new();
    for obj in objects {
        let id = obj["id"].as_str().unwrap_or_default().to_owned();
        let attrs = &obj["attributes"];
        let mut add = |field: &str, aggregated: bool| {
            out.insert(FieldUse {
                field: field.to_owned(),
                aggregated,
                object: id.clone(),
            });
        };
        if let Some(f) = attrs["timeFieldName"].as_str() {
            add(f, true);
        }
        for c in attrs["columns"].as_array().into_iter().flatten() {
            add(c.as_str().unwrap_or_default(), false);
        }
        for s in attrs["sort"].as_array().into_iter().flatten() {
            add(s[0].as_str().unwrap_or_default(), true);
        }
        if let Some(src) = attrs["kibanaSavedObjectMeta"]["searchSourceJSON"].as_str() {
            let src: Value = serde_json::from_str(src).map_err(|e| DashboardsError::Parse {
                line: 0,
                reason: format!("{id}: searchSourceJSON: {e}"),
            })?;
            for f in kql_fields(src["query"]["query"].as_str().unwrap_or_default()) {
                add(&f, false);
            }
        }
        if let Some(state) = attrs["visState"].as_str() {
            let state: Value = serde_json::from_str(state).map_err(|e| DashboardsError::Parse {
                line: 0,
                reason: format!("{id}: visState: {e}"),
            })?;
            for agg in state["aggs"].as_array().into_iter().flatten() {
                if let Some(f) = agg["params"]["field"].as_str() {
                    add(f, true);
                }
                for filter in agg["params"]["filters"].as_array().into_iter().flatten() {
                    for f in kql_fields(filter["input"]["query"].as_str().unwrap_or_default()) {
                        add(&f, false);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The field names in a KQL query (`field:value`, `field >= n`).
pub fn kql_fields(query: &str) -> Vec<String> {
    // A constant pattern: it compiles.
    let re = Regex::new(r"([A-Za-z_@][A-Za-z0-9_.@]*)\s*(?::|>=|<=|>|<)").expect("regex");
    re.captures_iter(query).map(|c| c[1].to_owned()).collect()
}

/// The multipart/form-data body carrying `ndjson` as the `file` field, and its
/// content type.
pub fn multipart(ndjson: &str) -> (String, Vec<u8>) {
    debug_assert!(!ndjson.contains(BOUNDARY));
    let mut body = Vec::with_capacity(ndjson.len() + 256);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{FILE_NAME}\"\r\nContent-Type: application/ndjson\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(ndjson.as_bytes());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub success_count: usize,
}

/// Imports `ndjson` into the Dashboards at `config.url` (overwriting objects with the
/// same ids), authenticated as `config.auth` says.
pub async fn install(config: &OpenSearchConfig, ndjson: &str) -> Result<Imported, DashboardsError> {
    let objects = parse(ndjson)?;
    if ndjson.contains(BOUNDARY) {
        return Err(DashboardsError::Parse {
            line: 0,
            reason: "the objects contain the multipart boundary".to_owned(),
        });
    }
    let client = build_client(config).await?;
    let (content_type, body) = multipart(ndjson);
    let mut headers = HeaderMap::with_capacity(2);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .map_err(|e| DashboardsError::Transport(e.to_string()))?,
    );
    headers.insert(
        HeaderName::from_static("osd-xsrf"),
        HeaderValue::from_static("true"),
    );
    let response = client
        .send(
            Method::Post,
            IMPORT_PATH,
            headers,
            Some(&[("overwrite", "true")]),
            Some(Bytes::from(body)),
            Some(TIMEOUT),
        )
        .await
        .map_err(|e| DashboardsError::Transport(e.to_string()))?;
    let status = response.status_code().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| DashboardsError::Transport(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]).into_owned();
    if !(200..300).contains(&status) {
        return Err(DashboardsError::Refused { status, body: text });
    }
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let success_count = answer["successCount"].as_u64().unwrap_or(0) as usize;
    if answer["success"] != Value::Bool(true) {
        let errors = answer["errors"].as_array().map_or(0, Vec::len);
        return Err(DashboardsError::Partial {
            failed: errors.max(objects.len().saturating_sub(success_count)),
            errors: answer["errors"].to_string(),
        });
    }
    Ok(Imported { success_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_objects_parse_and_are_complete() {
        let objects = parse(SAVED_OBJECTS).expect("ndjson");
        let of = |t: &str| {
            objects
                .iter()
                .filter(|o| o["type"] == t)
                .map(|o| o["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(of("index-pattern"), ["csoc-logs"]);
        assert_eq!(objects[0]["attributes"]["title"], "csoc-logs-*");
        assert_eq!(objects[0]["attributes"]["timeFieldName"], "@timestamp");
        assert_eq!(of("search").len(), 4);
        assert_eq!(of("visualization").len(), 7);
        assert_eq!(of("dashboard"), ["csoc-overview"]);
        // Every reference points at an object in the file.
        let ids: BTreeSet<(String, String)> = objects
            .iter()
            .map(|o| {
                (
                    o["type"].as_str().unwrap().to_owned(),
                    o["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for o in &objects {
            for r in o["references"].as_array().expect("references") {
                let key = (
                    r["type"].as_str().unwrap().to_owned(),
                    r["id"].as_str().unwrap().to_owned(),
                );
                assert!(ids.contains(&key), "{}: {key:?}", o["id"]);
            }
        }
    }

    /// The contract: every field a saved object uses is in the index template, in both
    /// free-form forms, and what is aggregated is aggregatable.
    #[test]
    fn every_field_used_is_in_the_template() {
        use crate::sinks::opensearch::template::{FreeForm, index_template, mapped_fields};
        let used = fields_used(&parse(SAVED_OBJECTS).expect("ndjson")).expect("fields");
        assert!(used.len() > 20, "{used:?}");
        for form in [FreeForm::FlatObject, FreeForm::Text] {
            let mapped: std::collections::HashMap<String, String> =
                mapped_fields(&index_template("csoc-logs", form))
                    .into_iter()
                    .collect();
            for u in &used {
                let kind = mapped.get(&u.field).unwrap_or_else(|| {
                    panic!("{} uses {}, not in the template", u.object, u.field)
                });
                if u.aggregated {
                    assert!(
                        matches!(
                            kind.as_str(),
                            "keyword" | "date" | "float" | "long" | "boolean" | "alias"
                        ),
                        "{} aggregates {} ({kind})",
                        u.object,
                        u.field
                    );
                }
            }
        }
        // And the check can fail.
        let mut objects = parse(SAVED_OBJECTS).expect("ndjson");
        objects[1]["attributes"]["columns"] = serde_json::json!(["message.noSuchField"]);
        let used = fields_used(&objects).expect("fields");
        assert!(used.iter().any(|u| u.field == "message.noSuchField"));
    }

    #[test]
    fn kql_field_names() {
        assert_eq!(
            kql_fields(
                "message.eventSource:* and not message.errorMessage:* or message.http_response_time >= 1"
            ),
            [
                "message.eventSource",
                "message.errorMessage",
                "message.http_response_time"
            ]
        );
    }

    #[test]
    fn the_multipart_body_carries_the_file() {
        let (ct, body) = multipart("{\"a\":1}\n");
        assert_eq!(ct, format!("multipart/form-data; boundary={BOUNDARY}"));
        let body = String::from_utf8(body).expect("utf-8");
        assert!(body.starts_with(&format!("--{BOUNDARY}\r\n")));
        assert!(body.contains("name=\"file\"; filename=\"csoc-overview.ndjson\""));
        assert!(body.contains("\r\n\r\n{\"a\":1}\n\r\n"));
        assert!(body.ends_with(&format!("--{BOUNDARY}--\r\n")));
    }

    #[test]
    fn bad_lines_are_named() {
        let err = parse("{\"id\":\"a\",\"type\":\"search\",\"attributes\":{}}\nnot json\n")
            .expect_err("bad");
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse("{\"id\":\"a\"}").is_err());
    }
}

//! One audit record → one document, indexed and archived like a log document.
//!
//! The id is derived from the trackingId (with the node and messageType it was posted
//! under), so a retried post creates no duplicates. The same record always gives the
//! same bytes: nothing here reads the clock.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::record::{AuditRecord, Scalar};
use crate::document::{Document, DocumentBuilder, DocumentError, Header, OutputKeys, document_id};
use crate::timestamp::Rfc3339Millis;

/// The `logGroup`-like namespace of audit-record ids, so they can never equal a log
/// event's.
const ID_NAMESPACE: &str = "audit-records";

/// Who posted: the SigV4 identity the function URL verified, and the client address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller<'a> {
    pub user_arn: Option<&'a str>,
    pub source_ip: Option<&'a str>,
}

impl<'a> Caller<'a> {
    pub fn of(req: &'a LambdaFunctionUrlRequest) -> Self {
        let ctx = &req.request_context;
        Self {
            user_arn: ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.iam.as_ref())
                .and_then(|iam| iam.user_arn.as_deref()),
            source_ip: ctx.http.source_ip.as_deref(),
        }
    }
}

/// The document of `record`, posted to `node` with `message_type` by `caller`.
pub fn audit_document(
    builder: &DocumentBuilder,
    node: &str,
    message_type: &str,
    caller: &Caller<'_>,
    record: &AuditRecord,
) -> Result<Document, DocumentError> {
    let at = Rfc3339Millis::new(record.datetime.0)
        .ok_or_else(|| DocumentError::Timestamp(record.datetime.0.timestamp_millis()))?;
    // Written apart first, so the header knows where they end.
    let attributes = serde_json::value::to_raw_value(&Attributes(&record.attributes.0))
        .map_err(|e| DocumentError::Serialize(e.to_string()))?;
    let view = AuditView {
        at: at.as_str(),
        attributes: &attributes,
        commons: builder.commons(),
        message_type,
        node,
        previous_tracking_ids: record.previous_tracking_ids.as_deref(),
        source_ip: caller.source_ip,
        source_node: record.source_node.as_deref(),
        timestamp: at.as_str(),
        tracking_id: &record.tracking_id,
        user_arn: caller.user_arn,
    };
    let source =
        serde_json::to_string(&view).map_err(|e| DocumentError::Serialize(e.to_string()))?;
    Ok(Document {
        id: document_id(ID_NAMESPACE, node, message_type, &record.tracking_id),
        index: builder.index_for(&at),
        header: Header::audit(
            record.datetime.0.timestamp_millis(),
            &source,
            attributes.get().len(),
        ),
        source,
    })
}

/// The document's fields, in sorted order like log documents'.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditView<'a> {
    #[serde(rename = "@timestamp")]
    at: &'a str,
    attributes: &'a RawValue,
    commons: &'a str,
    message_type: &'a str,
    node: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_tracking_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_node: Option<&'a str>,
    timestamp: &'a str,
    tracking_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_arn: Option<&'a str>,
}

/// Attribute names with `.` rewritten to `_` (a dot would make the index nest them),
/// by the rule of log messages ([`OutputKeys`]): a rewritten name that is taken steps
/// aside with `_2`, `_3`, ….
struct Attributes<'a>(&'a [(String, Scalar)]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut keys = OutputKeys::new(self.0.iter().map(|(name, _)| name.as_str()));
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(&keys.claim(name), value)?;
        }
        map.end()
    }
}

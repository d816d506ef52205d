//! The audit-records endpoint: services outside AWS `POST /{node-name}` a batch of audit
//! records through a Lambda function URL (or `csoc-forwarder serve`), and each record
//! becomes a document, indexed and archived like a log document.
//!
//! [`request`] reads the HTTP request (method, node, body), [`record`] the body's
//! schema, [`document`] builds the documents and [`response`] writes the answer;
//! [`redact`] takes the caller's credentials out of a refused request before it is
//! kept. The pipeline ([`crate::pipeline`]) puts them in order and decides what is kept.

pub mod document;
pub mod record;
pub mod redact;
pub mod request;
pub mod response;

pub use document::{Caller, audit_document};
pub use record::{AuditPost, AuditRecord};
pub use request::{AuditRequest, read};

/// Why a request is refused, and with which HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub error: String,
    /// The node named by the path, when the path was read.
    pub node: Option<String>,
}

pub const BAD_REQUEST: u16 = 400;
pub const METHOD_NOT_ALLOWED: u16 = 405;
pub const PAYLOAD_TOO_LARGE: u16 = 413;
pub const CREATED: u16 = 201;
pub const SERVICE_UNAVAILABLE: u16 = 503;

impl Refusal {
    pub fn bad_request(error: impl Into<String>) -> Self {
        Self {
            status: BAD_REQUEST,
            error: error.into(),
            node: None,
        }
    }

    pub fn too_large(error: impl Into<String>) -> Self {
        Self {
            status: PAYLOAD_TOO_LARGE,
            error: error.into(),
            node: None,
        }
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self {
            status: METHOD_NOT_ALLOWED,
            error: format!("method {method} is not allowed: POST /{{node-name}}"),
            node: None,
        }
    }

    pub fn for_node(mut self, node: &str) -> Self {
        self.node = Some(node.to_owned());
        self
    }

    /// Whether the request carried a submission that must be kept (dead-lettered)
    /// before the refusal is answered: bad bodies (400) and oversized ones (413).
    pub fn keeps_body(&self) -> bool {
        matches!(self.status, BAD_REQUEST | PAYLOAD_TOO_LARGE)
    }
}

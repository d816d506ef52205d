//! Fuzzes the rewritten forms of a document read back (replay reads archived and
//! dead-lettered documents, which may be anything): the input is a document's JSON, the
//! first byte sets a record limit. Nothing panics; for a document that is JSON, the safe
//! form, when there is one, and the archive record are JSON too (a rewrite copies the
//! document's members and strings as they were written, so it cannot mend a document
//! that is not), and the record fits its limit (once the limit leaves room for the id
//! and the marker).
#![no_main]

use csoc_forwarder::document::Document;
use csoc_forwarder::sinks::firehose::archive;
use csoc_forwarder::sinks::opensearch::safe::safe_form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let source = String::from_utf8_lossy(rest).into_owned();
    let json = serde_json::from_str::<serde_json::Value>(&source).is_ok();
    let doc = Document::from_source("id-1".to_owned(), "csoc-logs-x".to_owned(), source);
    let safe = safe_form(&doc, "mapper_parsing_exception", "reason");
    let limit = 120 + usize::from(first) * 4;
    let record = archive::record_with_limit(&doc, limit);
    if !json {
        return;
    }
    if let Some(safe) = safe {
        assert!(serde_json::from_str::<serde_json::Value>(&safe.source).is_ok());
    }
    if record.truncated_from.is_some() {
        assert!(record.bytes.len() <= limit);
        assert!(serde_json::from_slice::<serde_json::Value>(&record.bytes).is_ok());
    }
});

//! The audit-records endpoint on the handler: function URL requests → documents, every
//! status with its message, dead letters, the caller's identity; idempotent posts
//! against osmem-server.

use std::time::Duration;

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use csoc_forwarder::audit;
use csoc_forwarder::pipeline::Pipeline;
use csoc_forwarder::sinks::{ItemOutcome, local};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::osmem::Osmem;
use crate::common::{
    AuditBody, ScriptedIndex, audit_body, builder, dead_letters, files, fixture,
    function_url_event, gzip, local_pipeline, pipeline_with, run, sinks_with_index, url_response,
};

/// The archive lines (one JSON document each) the local Firehose sink wrote.
fn archived(dir: &std::path::Path) -> Vec<Value> {
    files(&dir.join("firehose"), "test_firehose")
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .expect("read")
                .lines()
                .map(|l| serde_json::from_str(l).expect("json line"))
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// The `_id`s in the local index sink's bulk files.
fn bulk_ids(dir: &std::path::Path) -> Vec<String> {
    files(dir, "opensearch")
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .expect("read")
                .lines()
                .step_by(2)
                .map(|l| {
                    let action: Value = serde_json::from_str(l).expect("action");
                    action["create"]["_id"].as_str().expect("_id").to_owned()
                })
                .collect::<Vec<String>>()
        })
        .collect()
}

#[test]
fn plain_gzip_and_base64_bodies_each_give_201_with_the_count() {
    for how in [AuditBody::Plain, AuditBody::Gzip, AuditBody::Base64] {
        let (pipeline, dir) = local_pipeline();
        let event = function_url_event("POST", "/indexd-node", Some(&audit_body(3)), how);
        let report = run(&pipeline, &event);
        let (status, body, headers) = url_response(&report);
        assert_eq!(status, 201, "{how:?}: {body}");
        assert_eq!(
            body,
            json!({"commons": "testcommons", "messageType": "echo.text",
                   "node": "indexd-node", "recordsProcessed": 3}),
            "{how:?}"
        );
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(report.kind, "function_url");
        let c = &report.counts;
        assert_eq!(
            (c.log_events, c.documents, c.indexed, c.archived),
            (3, 3, 3, 3)
        );
        assert_eq!((c.dead_lettered, c.retryable_failures), (0, 0));
        assert!(report.error.is_none());
        let docs = archived(dir.path());
        assert_eq!(docs.len(), 3, "{how:?}");
        assert_eq!(bulk_ids(dir.path()).len(), 3, "{how:?}");
        assert_eq!(docs[2]["trackingId"], "t-2");
        assert_eq!(docs[2]["attributes"], json!({"action": "download", "n": 2}));
    }
}

#[test]
fn audit_documents_of_the_fixture() {
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &fixture("function-url-audit.json"));
    assert_eq!(url_response(&report).0, 201);
    let docs = archived(dir.path());
    // The caller's identity from the function URL's IAM authorizer, the node from the
    // path, dotted attribute names rewritten, datetimes in UTC with milliseconds.
    assert_eq!(
        docs[0]["userArn"],
        "arn:aws:sts::111122223333:assumed-role/audit-service/audit-service"
    );
    assert_eq!(docs[0]["sourceIp"], "203.0.113.10");
    assert_eq!(docs[1]["@timestamp"], "2026-11-22T07:15:30.000Z");
    insta::assert_json_snapshot!("audit-documents-function-url-audit", docs);
    let ids = bulk_ids(dir.path());
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| id.len() == 64));
}

#[test]
fn the_id_comes_from_the_tracking_id_so_a_retried_post_is_the_same_document() {
    let ids_of = |body: &Value, path: &str| {
        let (pipeline, dir) = local_pipeline();
        let event = function_url_event(
            "POST",
            path,
            Some(&serde_json::to_vec(body).expect("json")),
            AuditBody::Plain,
        );
        assert_eq!(url_response(&run(&pipeline, &event)).0, 201);
        bulk_ids(dir.path())
    };
    let record = |id: &str, action: &str| json!({"attributes": {"action": action}, "datetime": "2026-11-22T08:15:30Z", "trackingId": id});
    let post = |records: Vec<Value>| json!({"messageType": "echo.text", "auditRecords": records});
    let first = ids_of(&post(vec![record("a", "x"), record("b", "x")]), "/n1");
    // The same trackingIds again, even with other content: the same ids.
    assert_eq!(
        ids_of(&post(vec![record("a", "y"), record("b", "y")]), "/n1"),
        first
    );
    // Another trackingId, or another node: another id.
    assert_ne!(ids_of(&post(vec![record("c", "x")]), "/n1")[0], first[0]);
    assert_ne!(ids_of(&post(vec![record("a", "x")]), "/n2")[0], first[0]);
}

#[test]
fn the_path_is_url_decoded_into_the_node() {
    let (pipeline, dir) = local_pipeline();
    let event = function_url_event(
        "POST",
        "/fence%20node%2F1",
        Some(&audit_body(1)),
        AuditBody::Plain,
    );
    let report = run(&pipeline, &event);
    let (status, body, _) = url_response(&report);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["node"], "fence node/1");
    assert_eq!(archived(dir.path())[0]["node"], "fence node/1");
}

/// Every refusal: its status, a message naming what is wrong, and whether the request
/// was kept in the dead letter (with the node as its source).
#[test]
fn bad_requests_get_their_status_a_clear_message_and_are_kept() {
    let body = |v: Value| serde_json::to_vec(&v).expect("json");
    let one = |record: Value| body(json!({"messageType": "echo.text", "auditRecords": [record]}));
    let good = json!({"attributes": {}, "datetime": "2026-11-22T08:15:30Z", "trackingId": "t"});
    let with = |key: &str, value: Value| {
        let mut r = good.clone();
        r[key] = value;
        one(r)
    };
    let mut bad_gzip = function_url_event("POST", "/n1", Some(b"not gzip"), AuditBody::Base64);
    {
        let mut ev: Value = serde_json::from_slice(&bad_gzip).expect("json");
        ev["headers"]["content-encoding"] = "gzip".into();
        bad_gzip = serde_json::to_vec(&ev).expect("json");
    }
    let mut corrupt = gzip(&audit_body(2));
    corrupt.truncate(corrupt.len() / 2);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "bad gzip",
            bad_gzip,
            400,
            "body is not gzip, though Content-Encoding says gzip",
        ),
        (
            "truncated gzip",
            function_url_event("POST", "/n1", Some(&corrupt), AuditBody::Base64),
            400,
            "body is not valid gzip",
        ),
        (
            "bad base64",
            {
                let mut ev: Value = serde_json::from_slice(&function_url_event(
                    "POST",
                    "/n1",
                    Some(b"{}"),
                    AuditBody::Base64,
                ))
                .expect("json");
                ev["body"] = "%%% not base64".into();
                serde_json::to_vec(&ev).expect("json")
            },
            400,
            "body is not valid base64",
        ),
        (
            "bad JSON",
            function_url_event("POST", "/n1", Some(b"{\"messageType\": "), AuditBody::Plain),
            400,
            "body is not valid JSON: EOF while parsing",
        ),
        (
            "not an object",
            function_url_event("POST", "/n1", Some(b"[1, 2]"), AuditBody::Plain),
            400,
            "body: invalid type: sequence, expected an object {\"messageType\"",
        ),
        (
            "record not an object",
            function_url_event(
                "POST",
                "/n1",
                Some(&body(json!({"messageType": "m", "auditRecords": [["t"]]}))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0]: invalid type: sequence, expected an audit record object",
        ),
        (
            "wrong field type",
            function_url_event(
                "POST",
                "/n1",
                Some(&with("trackingId", json!(5))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0].trackingId: invalid type: integer `5`, expected a string",
        ),
        (
            "nested attribute",
            function_url_event(
                "POST",
                "/n1",
                Some(&with("attributes", json!({"ok": 1, "user": {"name": "x"}}))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0].attributes.user: invalid type: map, expected a flat value (string, number, boolean or null)",
        ),
        (
            "missing trackingId",
            function_url_event(
                "POST",
                "/n1",
                Some(&one(
                    json!({"attributes": {}, "datetime": "2026-11-22T08:15:30Z"}),
                )),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0]: missing field `trackingId`",
        ),
        (
            "empty trackingId",
            function_url_event(
                "POST",
                "/n1",
                Some(&with("trackingId", json!(" "))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0].trackingId: must not be empty",
        ),
        (
            "bad datetime",
            function_url_event(
                "POST",
                "/n1",
                Some(&with("datetime", json!("yesterday"))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0].datetime: \"yesterday\" is not an ISO 8601 date-time",
        ),
        (
            "unknown field",
            function_url_event(
                "POST",
                "/n1",
                Some(&with("extra", json!(1))),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[0].extra: unknown field `extra`, expected one of `attributes`",
        ),
        (
            "repeated trackingId",
            function_url_event(
                "POST",
                "/n1",
                Some(&body(
                    json!({"messageType": "m", "auditRecords": [good, good]}),
                )),
                AuditBody::Plain,
            ),
            400,
            "auditRecords[1].trackingId: \"t\" repeats auditRecords[0].trackingId",
        ),
        (
            "empty records",
            function_url_event(
                "POST",
                "/n1",
                Some(&body(
                    json!({"messageType": "echo.text", "auditRecords": []}),
                )),
                AuditBody::Plain,
            ),
            400,
            "auditRecords: empty: send at least one record",
        ),
        (
            "empty body",
            function_url_event("POST", "/n1", None, AuditBody::Plain),
            400,
            "body is empty",
        ),
        (
            "no node",
            function_url_event("POST", "/", Some(&audit_body(1)), AuditBody::Plain),
            400,
            "path \"/\" must name one node: POST /{node-name}",
        ),
        (
            "oversize",
            function_url_event("POST", "/n1", Some(&audit_body(2000)), AuditBody::Plain),
            413,
            "bytes, over the cap of 65536 bytes",
        ),
        (
            "gzip bomb",
            function_url_event(
                "POST",
                "/n1",
                Some(&format!("{{\"messageType\": \"{}\"}}", "a".repeat(1 << 20)).into_bytes()),
                AuditBody::Gzip,
            ),
            413,
            "over the cap of 65536 bytes once gunzipped",
        ),
        (
            "wrong method",
            function_url_event("GET", "/n1", None, AuditBody::Plain),
            405,
            "method GET is not allowed: POST /{node-name}",
        ),
    ];
    for (name, event, want_status, want_message) in cases {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let pipeline = Pipeline::new(
            64 * 1024,
            builder(),
            local::sinks(dir.path(), "test_firehose"),
        );
        let report = run(&pipeline, &event);
        let (status, body, headers) = url_response(&report);
        let error = body["error"].as_str().unwrap_or_default();
        assert_eq!(status, want_status, "{name}: {body}");
        assert!(
            error.contains(want_message),
            "{name}: {error:?} lacks {want_message:?}"
        );
        assert_eq!(report.error.as_deref(), Some(error), "{name}");
        assert_eq!(report.counts.documents, 0, "{name}");
        assert!(
            archived(dir.path()).is_empty(),
            "{name}: nothing is archived"
        );
        let letters = dead_letters(dir.path());
        if want_status == 405 {
            assert_eq!(headers["allow"], "POST", "{name}");
            assert!(letters.is_empty(), "{name}: no submission to keep");
            assert_eq!(report.counts.dead_lettered, 0);
            continue;
        }
        assert_eq!(letters.len(), 1, "{name}: the request is kept");
        assert_eq!(report.counts.dead_lettered, 1, "{name}");
        let (file, letter) = &letters[0];
        let source = if name == "no node" { "audit" } else { "n1" };
        assert_eq!(letter["source"], source, "{name}");
        assert!(file.starts_with(&format!("{source}-")), "{name}: {file}");
        assert_eq!(letter["error"], error, "{name}");
        assert_eq!(letter["event_id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
        // The whole event is kept (credentials redacted), so it can be replayed.
        assert_eq!(
            letter["raw"],
            crate::common::b64(&audit::redact::event(&event)),
            "{name}"
        );
    }
}

#[test]
fn sinks_that_still_fail_after_their_retries_give_503_so_the_caller_retries() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let index = ScriptedIndex::new(|_| ItemOutcome::Retryable {
        reason: "cluster unavailable".to_owned(),
    });
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    let event = function_url_event("POST", "/n1", Some(&audit_body(2)), AuditBody::Plain);
    let report = run(&pipeline, &event);
    let (status, body, headers) = url_response(&report);
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().expect("error").contains("retry"));
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(report.counts.retryable_failures, 1);
    assert_eq!(report.counts.indexed, 0);
    assert!(report.error.is_none(), "a 503 is not a bad request");
}

#[test]
fn a_refused_request_that_cannot_be_kept_is_503_not_400() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    std::fs::write(dir.path().join("dead-letter"), b"in the way").expect("write");
    let pipeline = pipeline_with(local::sinks(dir.path(), "test_firehose"));
    let event = function_url_event("POST", "/n1", Some(b"not json"), AuditBody::Plain);
    let report = run(&pipeline, &event);
    let (status, body, _) = url_response(&report);
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().expect("error");
    assert!(error.contains("body is not valid JSON"), "{error}");
    assert!(error.contains("could not be kept"), "{error}");
    assert_eq!(report.counts.retryable_failures, 1);
}

/// The raw bytes of a dead letter.
fn letter_raw(letter: &Value) -> Vec<u8> {
    base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        letter["raw"].as_str().expect("raw"),
    )
    .expect("base64")
}

#[test]
fn a_refused_request_is_kept_without_the_callers_credentials() {
    let mut ev: Value = serde_json::from_slice(&function_url_event(
        "POST",
        "/n1",
        Some(b"not json"),
        AuditBody::Plain,
    ))
    .expect("json");
    ev["headers"]["authorization"] =
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY123456/20261122/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=f00dfeedf00dfeed".into();
    ev["headers"]["cookie"] = "session=s3cr3t-cookie".into();
    ev["cookies"] = json!(["session=s3cr3t-cookie"]);
    let event = serde_json::to_vec(&ev).expect("json");
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &event);
    assert_eq!(url_response(&report).0, 400);
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1);
    let file =
        std::fs::read_to_string(dir.path().join("dead-letter").join(&letters[0].0)).expect("read");
    let raw = String::from_utf8(letter_raw(&letters[0].1)).expect("utf8");
    for secret in [
        "f00dfeedf00dfeed",
        "ASIAEXAMPLEKEY123456",
        "IQoJb3JpZ2luX2VjEXAMPLE",
        "s3cr3t-cookie",
    ] {
        assert!(
            !raw.contains(secret),
            "{secret} kept in the dead letter: {raw}"
        );
        assert!(
            !file.contains(secret),
            "{secret} kept in the dead letter file"
        );
    }
    // What a replay needs is still there: replaying the letter gives the same answer.
    let kept: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(kept["body"], "not json");
    assert_eq!(kept["rawPath"], "/n1");
    let (again, _) = local_pipeline();
    let replayed = run(&again, raw.as_bytes());
    assert_eq!(url_response(&replayed), url_response(&report));
}

#[test]
fn a_dot_dot_node_is_kept_under_a_visible_safe_name() {
    for path in ["/..", "/%2E%2E", "/.hidden"] {
        let (pipeline, dir) = local_pipeline();
        let event = function_url_event("POST", path, Some(b"not json"), AuditBody::Plain);
        let report = run(&pipeline, &event);
        assert_eq!(url_response(&report).0, 400, "{path}");
        let letters = dead_letters(dir.path());
        assert_eq!(letters.len(), 1, "{path}: kept as a visible file");
        let (file, letter) = &letters[0];
        assert!(!file.starts_with('.'), "{path}: {file}");
        let source = letter["source"].as_str().expect("source");
        assert!(
            !source.starts_with('.') && source.starts_with('_'),
            "{path}: {source}"
        );
    }
}

#[tokio::test]
async fn posting_the_same_records_twice_creates_no_duplicates_in_opensearch() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = crate::opensearch::config_for(&os.url, dir.path(), &[]);
    let pipeline = csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("pipeline");
    let event = fixture("function-url-audit.json");
    let inv = crate::opensearch::invocation(Duration::from_secs(60));
    let first = pipeline.handle(&event, &inv).await;
    let second = pipeline.handle(&event, &inv).await;
    os.refresh().await;
    for report in [&first, &second] {
        let (status, body, _) = url_response(report);
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["recordsProcessed"], 2);
        assert_eq!(report.counts.indexed, 2, "{report:?}");
    }
    assert_eq!(os.count("csoc-logs-*", None).await, 2);
    let hits = os
        .search(
            "csoc-logs-2026.11.22",
            json!({"term": {"trackingId": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"}}),
        )
        .await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["node"], "fence-node-1");
    assert_eq!(hits[0]["commons"], "testcommons");
    assert_eq!(
        hits[0]["previousTrackingIds"],
        json!(["3f9c2a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60"])
    );
}

#[tokio::test]
async fn an_attribute_type_conflict_goes_through_the_safe_form() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = crate::opensearch::config_for(&os.url, dir.path(), &[]);
    let pipeline = csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("pipeline");
    let inv = crate::opensearch::invocation(Duration::from_secs(60));
    let post = |id: &str, size: Value| {
        let body = json!({"messageType": "echo.text", "auditRecords": [
            {"attributes": {"size": size}, "datetime": "2026-11-22T08:15:30Z", "trackingId": id}
        ]});
        function_url_event(
            "POST",
            "/n1",
            Some(&serde_json::to_vec(&body).expect("json")),
            AuditBody::Plain,
        )
    };
    let first = pipeline.handle(&post("a", json!(12)), &inv).await;
    let second = pipeline.handle(&post("b", json!("large")), &inv).await;
    assert_eq!(url_response(&first).0, 201);
    assert_eq!(url_response(&second).0, 201, "{second:?}");
    assert_eq!(second.counts.safe_indexed, 1, "{second:?}");
    os.refresh().await;
    let hits = os
        .search("csoc-logs-*", json!({"term": {"trackingId": "b"}}))
        .await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["message"]["log"], r#"{"size":"large"}"#);
    assert!(hits[0].get("attributes").is_none());
    assert_eq!(hits[0]["ingest_error"]["type"], "mapper_parsing_exception");
}

fn url_request(body: &[u8], gzip_header: bool, base64: bool) -> LambdaFunctionUrlRequest {
    let event = function_url_event("POST", "/n1", Some(b"{}"), AuditBody::Plain);
    let mut req: LambdaFunctionUrlRequest = serde_json::from_slice(&event).expect("request");
    if base64 {
        req.body = Some(crate::common::b64(body));
        req.is_base64_encoded = true;
    } else {
        req.body = Some(String::from_utf8_lossy(body).into_owned());
    }
    if gzip_header {
        req.headers
            .insert("content-encoding", "gzip".parse().expect("header"));
    }
    req
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ]
}

proptest! {
    #[test]
    fn any_body_gets_an_answer_never_a_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        gzip_header in any::<bool>(),
        base64 in any::<bool>(),
    ) {
        match audit::read(&url_request(&body, gzip_header, base64), 4096) {
            Ok(request) => prop_assert!(!request.post.audit_records.is_empty()),
            Err(refusal) => {
                prop_assert!(matches!(refusal.status, 400 | 413), "{refusal:?}");
                prop_assert!(!refusal.error.is_empty());
            }
        }
    }

    #[test]
    fn every_valid_record_becomes_one_document_keeping_every_attribute(
        records in proptest::collection::vec(
            proptest::collection::btree_map("[a-z.]{1,6}", scalar(), 0..12),
            1..8,
        ),
    ) {
        let posted: Vec<Value> = records
            .iter()
            .enumerate()
            .map(|(i, attributes)| json!({
                "attributes": attributes,
                "datetime": "2026-11-22T08:15:30Z",
                "trackingId": format!("t-{i}"),
            }))
            .collect();
        let body = serde_json::to_vec(&json!({"messageType": "m", "auditRecords": posted}))
            .expect("json");
        for (gz, b64) in [(false, false), (true, true)] {
            let bytes = if gz { gzip(&body) } else { body.clone() };
            let req = url_request(&bytes, gz, b64);
            let (request, docs) = crate::common::audit_documents(&req);
            prop_assert_eq!(request.post.audit_records.len(), records.len());
            for (doc, attributes) in docs.iter().zip(&records) {
                let source: Value = serde_json::from_str(&doc.source).expect("json");
                let kept = source["attributes"].as_object().expect("attributes");
                // Every attribute kept (a dotted name under its rewritten one), none nested.
                prop_assert_eq!(kept.len(), attributes.len());
                prop_assert!(kept.keys().all(|k| !k.contains('.')));
                let mut values: Vec<String> = kept.values().map(Value::to_string).collect();
                let mut sent: Vec<String> = attributes.values().map(Value::to_string).collect();
                values.sort();
                sent.sort();
                prop_assert_eq!(values, sent);
            }
        }
    }
}

#[test]
fn a_dotted_attribute_name_that_is_taken_steps_aside() {
    let (pipeline, dir) = local_pipeline();
    let body = json!({"messageType": "m", "auditRecords": [{
        "attributes": {"a.b": 1, "a_b": 2, "c.d": 3},
        "datetime": "2026-11-22T08:15:30Z", "trackingId": "t"}]});
    let event = function_url_event(
        "POST",
        "/n1",
        Some(&serde_json::to_vec(&body).expect("json")),
        AuditBody::Plain,
    );
    assert_eq!(url_response(&run(&pipeline, &event)).0, 201);
    assert_eq!(
        archived(dir.path())[0]["attributes"],
        json!({"a_b_2": 1, "a_b": 2, "c_d": 3})
    );
}

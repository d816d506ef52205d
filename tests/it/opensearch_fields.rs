//! The index template for analysts, against osmem-server (which supports `keyword`,
//! `alias` and `flat_object` as OpenSearch 2.7+ does): `term` queries on the exact
//! CloudTrail and access-log fields, the Security Analytics `aws.cloudtrail.*` aliases,
//! `flat_object` free-form fields, the text form for a cluster without `flat_object`
//! (the fault server refuses the type in front of osmem), the safe form, and the
//! per-prefix priorities that let a per-commons template and retention override the
//! shared ones.

use std::time::Duration;

use csoc_forwarder::report::Report;
use csoc_forwarder::sinks::opensearch::template;
use opensearch::http::Method;
use serde_json::{Value, json};

use crate::common::fault_server::{Action, FaultServer, Seen};
use crate::common::osmem::{Osmem, request};
use crate::common::{b64, envelope, fixture, gzip, kinesis_event};
use crate::opensearch::{config_for, invocation};

/// A CloudTrail event by an assumed role (SageMaker `CreateSpace`), as the seed of the
/// fixtures has none with a session issuer.
const CREATE_SPACE: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEROLEID:bob","arn":"arn:aws:sts::123456789012:assumed-role/SageMakerRole/bob","accountId":"123456789012","accessKeyId":"ASIAEXAMPLEKEY","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEROLEID","arn":"arn:aws:iam::123456789012:role/SageMakerRole","accountId":"123456789012","userName":"SageMakerRole"},"attributes":{"creationDate":"2018-03-08T14:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2018-03-08T14:42:45Z","eventSource":"sagemaker.amazonaws.com","eventName":"CreateSpace","awsRegion":"us-east-1","sourceIPAddress":"10.1.2.3","userAgent":"aws-cli/2.15.0","requestParameters":{"domainId":"d-abc123","spaceName":"analysis","spaceSettings":{"appType":"JupyterLab"}},"responseElements":{"spaceArn":"arn:aws:sagemaker:us-east-1:123456789012:space/d-abc123/analysis"},"requestID":"11111111-2222-3333-4444-555555555555","eventID":"66666666-7777-8888-9999-000000000000","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#;

fn cloudtrail_record(messages: &[&str]) -> Vec<u8> {
    let env = envelope(
        "qaplanetv1-cloudtrail",
        "123456789012_CloudTrail_us-east-1",
        messages,
    );
    kinesis_event(&[b64(&gzip(&serde_json::to_vec(&env).expect("json")))])
}

async fn handle(config: &csoc_forwarder::config::Config, event: &[u8]) -> Report {
    let pipeline = csoc_forwarder::startup::pipeline(config)
        .await
        .expect("pipeline");
    pipeline
        .handle(event, &invocation(Duration::from_secs(60)))
        .await
}

/// Indexes the mixed fixture, the EventBridge fixtures with errors and S3 parameters,
/// and `CREATE_SPACE` through `config`.
async fn index_fixtures(config: &csoc_forwarder::config::Config) {
    for event in [
        fixture("kinesis-mixed.json"),
        fixture("eventbridge-access-denied-burst.json"),
        fixture("eventbridge-s3-bucket-access-change.json"),
        fixture("eventbridge-console-signin-failure.json"),
        cloudtrail_record(&[CREATE_SPACE]),
    ] {
        let report = handle(config, &event).await;
        assert_eq!(report.counts.indexed, report.counts.documents, "{report:?}");
        assert_eq!(report.counts.safe_indexed, 0, "{report:?}");
    }
}

#[tokio::test]
async fn term_queries_on_the_exact_fields_and_their_aliases_find_the_fixtures() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[]);
    index_fixtures(&config).await;
    os.refresh().await;

    let os = &os;
    let count = |field: String, value: Value| async move {
        os.count("csoc-logs-*", Some(json!({ "term": { field: value } })))
            .await
    };
    for (field, value, alias) in [
        ("eventName", json!("CreateSpace"), Some("event_name")),
        ("eventName", json!("ConsoleLogin"), Some("event_name")),
        (
            "eventSource",
            json!("sagemaker.amazonaws.com"),
            Some("event_source"),
        ),
        ("awsRegion", json!("us-east-1"), Some("aws_region")),
        (
            "sourceIPAddress",
            json!("10.1.2.3"),
            Some("source_ip_address"),
        ),
        ("userAgent", json!("aws-cli/2.15.0"), Some("user_agent")),
        ("errorCode", json!("AccessDenied"), Some("error_code")),
        ("eventType", json!("AwsConsoleSignIn"), Some("event_type")),
        ("recipientAccountId", json!("123456789012"), None),
        (
            "userIdentity.type",
            json!("AssumedRole"),
            Some("user_identity.type"),
        ),
        (
            "userIdentity.arn",
            json!("arn:aws:iam::123456789012:user/alice"),
            Some("user_identity.arn"),
        ),
        (
            "userIdentity.accountId",
            json!("123456789012"),
            Some("user_identity.accountId"),
        ),
        (
            "userIdentity.principalId",
            json!("AIDAJ45Q7YFFAREXAMPLE"),
            Some("user_identity.principalId"),
        ),
        (
            "userIdentity.userName",
            json!("alice"),
            Some("user_identity.userName"),
        ),
        (
            "userIdentity.sessionContext.sessionIssuer.type",
            json!("Role"),
            Some("user_identity.session_context.session_issuer.type"),
        ),
        (
            "userIdentity.sessionContext.sessionIssuer.arn",
            json!("arn:aws:iam::123456789012:role/SageMakerRole"),
            Some("user_identity.session_context.session_issuer.arn"),
        ),
        (
            "userIdentity.sessionContext.sessionIssuer.userName",
            json!("SageMakerRole"),
            None,
        ),
        ("readOnly", json!(false), None),
        ("http_verb", json!("GET"), None),
        ("http_status_code", json!("200"), None),
        ("network_client_ip", json!("73.12.201.4"), None),
        (
            "kubernetes.pod_name",
            json!("fence-deployment-7d9f8c6b5-q2w3e"),
            None,
        ),
        ("kubernetes.namespace_name", json!("default"), None),
    ] {
        let path = format!("message.{field}");
        let n = count(path.clone(), value.clone()).await;
        assert!(n > 0, "term {path}: {value} found nothing");
        if let Some(alias) = alias {
            let alias = format!("aws.cloudtrail.{alias}");
            assert_eq!(
                count(alias.clone(), value.clone()).await,
                n,
                "alias {alias}"
            );
        }
    }
    // Exact: a part of a value finds nothing (the fields are not analysed).
    assert_eq!(
        count("message.eventName".into(), json!("createspace")).await,
        0
    );
    assert_eq!(count("message.userAgent".into(), json!("aws")).await, 0);
    // The time of the event is a date.
    let n = os
        .count(
            "csoc-logs-*",
            Some(json!({"range": {"message.eventTime": {"gte": "2018-03-08T14:42:45Z", "lte": "2018-03-08T14:42:45Z"}}})),
        )
        .await;
    assert_eq!(n, 1);

    // flat_object: the free-form objects are searchable by inner path, with wildcards.
    let hits = os
        .search(
            "csoc-logs-*",
            json!({"query_string": {"query": "message.requestParameters.bucketName:commons-*"}}),
        )
        .await;
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h["message"]["requestParameters"]["bucketName"] == "commons-data")
    );
    assert_eq!(
        count(
            "message.requestParameters.spaceSettings.appType".into(),
            json!("JupyterLab")
        )
        .await,
        1
    );
    assert_eq!(
        count("message.additionalEventData.MFAUsed".into(), json!("No")).await,
        2,
        "the root sign-in of the mixed fixture and the failed one"
    );

    // The applied template and the index mapping hold the aliases and the types.
    let stored = request(&os.client(), Method::Get, "_index_template/csoc-logs", None).await;
    let applied = &stored["index_templates"][0]["index_template"];
    assert_eq!(applied["priority"], 100, "{stored}");
    let ct = &applied["template"]["mappings"]["properties"]["aws"]["properties"]["cloudtrail"]["properties"];
    assert_eq!(
        ct["event_name"],
        json!({"type": "alias", "path": "message.eventName"})
    );
    let mapping = request(
        &os.client(),
        Method::Get,
        "csoc-logs-2018.03.08/_mapping",
        None,
    )
    .await;
    let props = &mapping["csoc-logs-2018.03.08"]["mappings"]["properties"];
    let message = &props["message"]["properties"];
    assert_eq!(message["eventName"]["type"], "keyword", "{mapping}");
    assert_eq!(message["requestParameters"]["type"], "flat_object");
    assert_eq!(
        props["aws"]["properties"]["cloudtrail"]["properties"]["user_identity"]["properties"]["arn"]
            ["path"],
        "message.userIdentity.arn"
    );
    // Terms aggregation on an alias (what a Security Analytics detector or a
    // visualization runs).
    let agg = request(
        &os.client(),
        Method::Post,
        "csoc-logs-*/_search",
        Some(json!({"size": 0, "aggs": {"calls": {"terms": {"field": "aws.cloudtrail.event_name", "size": 50}}}})),
    )
    .await;
    let keys: Vec<&str> = agg["aggregations"]["calls"]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["key"].as_str())
        .collect();
    assert!(keys.contains(&"CreateSpace"), "{agg}");
}

#[tokio::test]
async fn a_cluster_without_flat_object_gets_the_text_form() {
    let os = Osmem::start();
    // In front of osmem: refuse any template that maps a flat_object, as OpenSearch
    // before 2.7 (or Elasticsearch) does.
    let server = FaultServer::proxy(&os.url, |seen: &Seen| {
        if seen.method == "PUT"
            && seen.path.contains("_index_template")
            && String::from_utf8_lossy(&seen.body).contains("flat_object")
        {
            Action::Respond(
                400,
                r#"{"error":{"type":"mapper_parsing_exception","reason":"No handler for type [flat_object] declared on field [requestParameters]"},"status":400}"#.into(),
            )
        } else {
            Action::Handle(None)
        }
    });
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&server.url, dir.path(), &[]);
    index_fixtures(&config).await;
    os.refresh().await;
    let puts: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.contains("_index_template"))
        .collect();
    // Per cold start (one per event): the flat_object form, refused, then the text form.
    assert_eq!(puts.len(), 10, "{puts:?}");
    for pair in puts.chunks(2) {
        assert!(String::from_utf8_lossy(&pair[0].body).contains("flat_object"));
        assert!(!String::from_utf8_lossy(&pair[1].body).contains("flat_object"));
    }
    let mapping = request(
        &os.client(),
        Method::Get,
        "csoc-logs-2018.03.08/_mapping",
        None,
    )
    .await;
    let message =
        &mapping["csoc-logs-2018.03.08"]["mappings"]["properties"]["message"]["properties"];
    assert_eq!(message["requestParameters"]["type"], "text", "{mapping}");
    assert_eq!(message["eventName"]["type"], "keyword");
    // Documents carry the objects as JSON text, still searchable as text.
    let hits = os
        .search(
            "csoc-logs-*",
            json!({"term": {"message.eventName": "CreateSpace"}}),
        )
        .await;
    assert_eq!(hits.len(), 1);
    let text = hits[0]["message"]["requestParameters"]
        .as_str()
        .expect("text form");
    assert_eq!(
        serde_json::from_str::<Value>(text).expect("JSON text")["spaceName"],
        "analysis"
    );
    let n = os
        .count(
            "csoc-logs-*",
            Some(json!({"match": {"message.requestParameters": "commons-data"}})),
        )
        .await;
    assert!(n > 0);
}

#[tokio::test]
async fn the_form_can_be_chosen_and_a_refused_document_still_gets_the_safe_form() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[("OPENSEARCH_FREEFORM", "text")]);
    // A CloudTrail-shaped event whose readOnly is not a boolean, and whose userIdentity
    // is not an object: refused by the template's types, stored in the safe form.
    let odd = r#"{"eventVersion":"1.08","eventSource":"x.amazonaws.com","eventName":"Odd","eventTime":"2018-03-08T14:42:50Z","readOnly":"perhaps","userIdentity":"nobody","requestParameters":{"a":1}}"#;
    let report = handle(&config, &cloudtrail_record(&[CREATE_SPACE, odd])).await;
    assert_eq!(report.counts.indexed, 2, "{report:?}");
    assert_eq!(report.counts.safe_indexed, 1, "{report:?}");
    os.refresh().await;
    let safe = os
        .search(
            "csoc-logs-*",
            json!({"term": {"ingest_error.type": "mapper_parsing_exception"}}),
        )
        .await;
    assert_eq!(safe.len(), 1, "{safe:?}");
    assert!(
        safe[0]["message"]["log"]
            .as_str()
            .expect("log")
            .contains("perhaps")
    );
    let fine = os
        .search(
            "csoc-logs-*",
            json!({"term": {"message.eventName": "CreateSpace"}}),
        )
        .await;
    assert!(
        fine[0]["message"]["requestParameters"].is_string(),
        "text form chosen"
    );
}

/// A per-commons prefix (`csoc-logs-<commons>`) has its own template and retention, at a
/// higher priority than the shared `csoc-logs` ones, so both can be put and the
/// per-commons ones win for its indices.
#[tokio::test]
async fn a_per_commons_prefix_overrides_the_shared_template_and_retention() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let shared = config_for(&os.url, dir.path(), &[]);
    let qa = config_for(
        &os.url,
        dir.path(),
        &[
            ("INDEX_PREFIX", "csoc-logs-qa"),
            ("OPENSEARCH_RETENTION_DAYS", "30"),
        ],
    );
    let event = fixture("kinesis-cloudtrail.json");
    assert_eq!(handle(&shared, &event).await.counts.indexed, 4);
    let report = handle(&qa, &event).await;
    assert_eq!(report.counts.indexed, 4, "{report:?}");
    os.refresh().await;
    let templates = request(&os.client(), Method::Get, "_index_template", None).await;
    let priority = |name: &str| {
        templates["index_templates"]
            .as_array()
            .expect("templates")
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not put: {templates}"))["index_template"]["priority"]
            .clone()
    };
    assert_eq!(priority("csoc-logs"), 100);
    assert_eq!(
        priority("csoc-logs-qa"),
        json!(template::priority("csoc-logs-qa"))
    );
    // The per-commons index got the full template (its own, the higher priority).
    let mapping = request(
        &os.client(),
        Method::Get,
        "csoc-logs-qa-2018.03.08/_mapping",
        None,
    )
    .await;
    assert_eq!(
        mapping["csoc-logs-qa-2018.03.08"]["mappings"]["properties"]["message"]["properties"]["eventName"]
            ["type"],
        "keyword",
        "{mapping}"
    );
    assert_eq!(
        os.count(
            "csoc-logs-*",
            Some(json!({"term": {"message.eventName": "ConsoleLogin"}}))
        )
        .await,
        2,
        "csoc-logs-* finds both commons"
    );
}

/// The retention policies as put: the per-commons one (30 days) outranks the shared one
/// (90 days) for `csoc-logs-qa-*` indices.
#[tokio::test]
async fn the_per_commons_retention_policy_outranks_the_shared_one() {
    let server = FaultServer::memory(|seen: &Seen| {
        if seen.method == "GET" && seen.path.contains("_plugins/_ism/policies/") {
            Action::Respond(
                404,
                r#"{"error":{"type":"status_exception","reason":"Policy not found"},"status":404}"#
                    .into(),
            )
        } else {
            Action::Respond(200, r#"{"acknowledged":true}"#.into())
        }
    });
    let dir = tempfile::TempDir::new().expect("tempdir");
    for extra in [
        vec![],
        vec![
            ("INDEX_PREFIX", "csoc-logs-qa"),
            ("OPENSEARCH_RETENTION_DAYS", "30"),
        ],
    ] {
        let config = config_for(&server.url, dir.path(), &extra);
        csoc_forwarder::startup::pipeline(&config)
            .await
            .expect("pipeline");
    }
    let policies: Vec<(String, Value)> = server
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.contains("_plugins/_ism/policies/"))
        .map(|s| {
            (
                s.path.clone(),
                serde_json::from_slice(&s.body).expect("policy json"),
            )
        })
        .collect();
    assert_eq!(policies.len(), 2, "{policies:?}");
    let (shared_path, shared) = &policies[0];
    let (qa_path, qa) = &policies[1];
    assert!(
        shared_path.ends_with("/csoc-logs-retention"),
        "{shared_path}"
    );
    assert!(qa_path.ends_with("/csoc-logs-qa-retention"), "{qa_path}");
    let ism = |p: &Value| p["policy"]["ism_template"][0].clone();
    assert_eq!(ism(shared)["index_patterns"], json!(["csoc-logs-*"]));
    assert_eq!(ism(qa)["index_patterns"], json!(["csoc-logs-qa-*"]));
    assert!(ism(qa)["priority"].as_u64() > ism(shared)["priority"].as_u64());
    let age = |p: &Value| {
        p["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"].clone()
    };
    assert_eq!(age(shared), "90d");
    assert_eq!(age(qa), "30d");
}

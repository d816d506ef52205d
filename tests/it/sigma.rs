//! Sigma semantics on CloudTrail events: rules written here in SigmaHQ's style (our own
//! text, not copies), one per modifier and condition form, each with events that must
//! and must not match. Also: log sources, statuses, correlations, and text fields as the
//! index stores them.

use csoc_forwarder::alerts::Alerter;
use csoc_forwarder::alerts::sigma::{RuleSet, Status, load_paths};
use serde_json::{Value, json};

use crate::common::fixture;

/// The CloudTrail event of the security-group fixture.
fn base() -> Value {
    let ev: Value =
        serde_json::from_slice(&fixture("eventbridge-security-group-open-to-world.json"))
            .expect("json");
    ev["detail"].clone()
}

/// `base()` with `changes` merged in at the top level (`null` removes a key).
fn with(changes: Value) -> Value {
    let mut ev = base();
    for (k, v) in changes.as_object().expect("object") {
        if v.is_null() {
            ev.as_object_mut().expect("object").remove(k);
        } else {
            ev[k] = v.clone();
        }
    }
    ev
}

fn rule(detection: &str) -> RuleSet {
    let text = format!(
        "title: Test rule\nid: 0d4e0f76-5a4c-4a57-9d0c-2f1f1b2a3c4d\nstatus: test\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\nlevel: high\n"
    );
    RuleSet::from_yaml("test.yml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn check(detection: &str, hits: &[Value], misses: &[Value]) {
    let set = rule(detection);
    for (i, ev) in hits.iter().enumerate() {
        assert_eq!(set.matching(ev).count(), 1, "hit #{i} of\n{detection}");
    }
    for (i, ev) in misses.iter().enumerate() {
        assert_eq!(set.matching(ev).count(), 0, "miss #{i} of\n{detection}");
    }
}

#[test]
fn strings_match_case_insensitively_unless_cased() {
    check(
        "  sel:\n    eventName: authorizesecuritygroupingress\n  condition: sel",
        &[base()],
        &[with(json!({"eventName": "AuthorizeSecurityGroupEgress"}))],
    );
    check(
        "  sel:\n    eventName|cased: authorizesecuritygroupingress\n  condition: sel",
        &[with(json!({"eventName": "authorizesecuritygroupingress"}))],
        &[base()],
    );
}

#[test]
fn lists_are_or_maps_are_and_and_wildcards_work() {
    check(
        "  sel:\n    eventSource: ec2.amazonaws.com\n    eventName:\n      - RunInstances\n      - Authorize*Ingress\n  condition: sel",
        &[base(), with(json!({"eventName": "RunInstances"}))],
        &[
            with(json!({"eventSource": "iam.amazonaws.com"})),
            with(json!({"eventName": "AuthorizeSecurityGroupEgress"})),
        ],
    );
    check(
        "  sel:\n    awsRegion: us-east-?\n    sourceIPAddress: '73.12.*'\n  condition: sel",
        &[base()],
        &[with(json!({"awsRegion": "us-east-10"}))],
    );
    // An escaped wildcard is the character itself.
    check(
        "  sel:\n    userAgent: 'a\\*b'\n  condition: sel",
        &[with(json!({"userAgent": "A*B"}))],
        &[with(json!({"userAgent": "axxb"}))],
    );
}

#[test]
fn contains_startswith_endswith_and_all() {
    check(
        "  sel:\n    userAgent|contains: python/3\n    eventName|startswith: authorize\n    eventSource|endswith: .AMAZONAWS.COM\n  condition: sel",
        &[base()],
        &[with(json!({"userAgent": "Boto3/1.34"}))],
    );
    check(
        "  sel:\n    userAgent|contains|all:\n      - aws-cli\n      - linux\n  condition: sel",
        &[base()],
        &[with(json!({"userAgent": "aws-cli/2.15.0 Windows/10"}))],
    );
}

#[test]
fn regular_expressions_with_flags() {
    check(
        "  sel:\n    eventName|re: '^Authorize.*Ingress$'\n  condition: sel",
        &[base()],
        &[with(json!({"eventName": "authorizesecuritygroupingress"}))],
    );
    check(
        "  sel:\n    eventName|re|i: '^authorize'\n  condition: sel",
        &[base(), with(json!({"eventName": "AUTHORIZEX"}))],
        &[with(json!({"eventName": "RunInstances"}))],
    );
    check(
        "  sel:\n    errorMessage|re|s: 'denied.at'\n  condition: sel",
        &[with(json!({"errorMessage": "denied\nat 3"}))],
        &[with(json!({"errorMessage": "granted"}))],
    );
    check(
        "  sel:\n    errorMessage|re|m: '^at'\n  condition: sel",
        &[with(json!({"errorMessage": "denied\nat 3"}))],
        &[with(json!({"errorMessage": "denied at 3"}))],
    );
}

#[test]
fn cidr_matches_addresses_in_networks() {
    check(
        "  sel:\n    sourceIPAddress|cidr:\n      - 10.0.0.0/8\n      - 73.12.0.0/16\n      - 2001:db8::/32\n  condition: sel",
        &[base(), with(json!({"sourceIPAddress": "2001:db8::1"}))],
        &[
            with(json!({"sourceIPAddress": "73.13.0.1"})),
            with(json!({"sourceIPAddress": "ec2.amazonaws.com"})),
        ],
    );
}

#[test]
fn exists_and_null() {
    check(
        "  sel:\n    errorCode|exists: false\n    userIdentity.arn|exists: true\n  condition: sel",
        &[base()],
        &[with(json!({"errorCode": "AccessDenied"}))],
    );
    check(
        "  sel:\n    errorCode: null\n  condition: sel",
        &[base(), with(json!({"errorCode": Value::Null}))],
        &[with(json!({"errorCode": "AccessDenied"}))],
    );
    // `null` in a list: absent, or one of the values.
    check(
        "  sel:\n    errorCode:\n      - null\n      - AccessDenied\n  condition: sel",
        &[base(), with(json!({"errorCode": "AccessDenied"}))],
        &[with(json!({"errorCode": "Throttling"}))],
    );
}

#[test]
fn base64_base64offset_and_windash() {
    // "curl http://evil.example" in base64, as RunInstances user data carries it.
    let user_data = |s: &str| {
        use base64::Engine as _;
        with(
            json!({"requestParameters": {"userData": base64::engine::general_purpose::STANDARD.encode(s)}}),
        )
    };
    check(
        "  sel:\n    requestParameters.userData|base64: 'curl http://evil.example'\n  condition: sel",
        &[user_data("curl http://evil.example")],
        &[user_data("curl http://good.example")],
    );
    for prefix in ["", "x", "xy", "#!/bin/sh\n"] {
        check(
            "  sel:\n    requestParameters.userData|base64offset|contains: 'evil.example'\n  condition: sel",
            &[user_data(&format!("{prefix}curl http://evil.example/x"))],
            &[user_data(&format!("{prefix}curl http://good.example/x"))],
        );
    }
    check(
        "  sel:\n    requestParameters.commands|windash|contains: ' -enc '\n  condition: sel",
        &[
            with(json!({"requestParameters": {"commands": ["powershell -enc AAAA"]}})),
            with(json!({"requestParameters": {"commands": ["powershell /enc AAAA"]}})),
            with(json!({"requestParameters": {"commands": ["powershell \u{2013}enc AAAA"]}})),
        ],
        &[with(
            json!({"requestParameters": {"commands": ["powershell enc AAAA"]}}),
        )],
    );
}

#[test]
fn fieldref_compares_two_fields() {
    check(
        "  sel:\n    userIdentity.accountId|fieldref: recipientAccountId\n  condition: sel",
        &[base()],
        &[with(json!({"recipientAccountId": "999999999999"}))],
    );
}

#[test]
fn numeric_comparisons() {
    let ports = |from: i64| {
        let mut ev = base();
        ev["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] = json!(from);
        ev
    };
    check(
        "  sel:\n    requestParameters.ipPermissions.items.fromPort|lt: 1024\n  condition: sel",
        &[ports(22)],
        &[ports(8080)],
    );
    check(
        "  sel:\n    requestParameters.ipPermissions.items.fromPort|lte: 22\n  condition: sel",
        &[ports(22)],
        &[ports(23)],
    );
    check(
        "  sel:\n    requestParameters.ipPermissions.items.fromPort|gt: 22\n  condition: sel",
        &[ports(23)],
        &[ports(22)],
    );
    check(
        "  sel:\n    requestParameters.ipPermissions.items.fromPort|gte: 22\n  condition: sel",
        &[ports(22), ports(443)],
        &[ports(21)],
    );
}

#[test]
fn nested_fields_and_arrays_element_by_element() {
    check(
        "  sel:\n    userIdentity.type: IAMUser\n    requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n    responseElements.securityGroupRuleSet.items.groupId: sg-0a1b2c3d4e5f67890\n  condition: sel",
        &[base()],
        &[with(
            json!({"requestParameters": {"ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}}}),
        )],
    );
    // Numbers and booleans match as text.
    check(
        "  sel:\n    readOnly: 'false'\n    requestParameters.ipPermissions.items.toPort: 22\n  condition: sel",
        &[base()],
        &[with(json!({"readOnly": true}))],
    );
}

#[test]
fn conditions_not_of_and_parentheses() {
    let sel = "  selection_ec2:\n    eventSource: ec2.amazonaws.com\n  selection_world:\n    requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n  filter_alice:\n    userIdentity.userName: alice\n";
    let bob = with(json!({"userIdentity": {"type": "IAMUser", "userName": "bob"}}));
    let iam = with(json!({"eventSource": "iam.amazonaws.com", "requestParameters": {}}));
    check(
        &format!("{sel}  condition: all of selection_* and not filter_alice"),
        std::slice::from_ref(&bob),
        &[base(), iam.clone()],
    );
    check(
        &format!("{sel}  condition: 1 of selection_*"),
        &[base(), bob.clone()],
        std::slice::from_ref(&iam),
    );
    check(
        &format!("{sel}  condition: all of them"),
        &[base()],
        std::slice::from_ref(&bob),
    );
    check(
        &format!("{sel}  condition: 1 of them"),
        std::slice::from_ref(&iam),
        &[with(
            json!({"eventSource": "s3.amazonaws.com", "requestParameters": {}, "userIdentity": {}}),
        )],
    );
    check(
        &format!("{sel}  condition: selection_ec2 and (filter_alice or not selection_world)"),
        &[base()],
        &[bob, iam],
    );
}

#[test]
fn keywords_search_every_value() {
    check(
        "  keywords:\n    - 'sg-0a1b2c3d4e5f67890'\n    - '*evil*'\n  condition: keywords",
        &[
            base(),
            with(
                json!({"eventName": "x", "requestParameters": {"note": "an EVIL plan"}, "responseElements": {}}),
            ),
        ],
        &[with(
            json!({"requestParameters": {}, "responseElements": {}}),
        )],
    );
}

#[test]
fn keyword_lists_take_modifiers() {
    // `'|all'`: every keyword must be somewhere in the event.
    check(
        "  keywords:\n    '|all':\n      - '*sg-0a1b2c3d4e5f67890*'\n      - '*0.0.0.0/0*'\n  condition: keywords",
        &[base()],
        &[with(
            json!({"requestParameters": {"groupId": "sg-0a1b2c3d4e5f67890"}}),
        )],
    );
    check(
        "  keywords:\n    '|contains': EVIL\n  condition: keywords",
        &[with(json!({"userAgent": "an evil tool"}))],
        &[base()],
    );
}

#[test]
fn thousands_of_values_still_compile() {
    let values: String = (0..3_000)
        .map(|i| format!("      - '{i:064x}'\n"))
        .collect();
    check(
        &format!("  sel:\n    userAgent|contains:\n{values}  condition: sel"),
        &[with(json!({"userAgent": format!("x {:064x} y", 2_999)}))],
        &[base()],
    );
}

#[test]
fn long_lists_answer_as_short_ones() {
    // Past 64 values a list is matched as one regular expression written from its
    // patterns: wildcards, newlines and case folding (the Kelvin sign) as before.
    let values: String = (0..100)
        .map(|i| format!("      - 'Evil{i}*Tool?'\n      - 'kelvin{i}'\n"))
        .collect();
    let matching = [
        with(json!({"userAgent": "EVIL42 any TOOLx"})),
        with(json!({"userAgent": "evil99Tool\n"})),
        with(json!({"userAgent": "\u{212A}ELVIN7"})),
    ];
    let other = [
        base(),
        with(json!({"userAgent": "evil42 tool"})),
        with(json!({"userAgent": "xevil1Tool!"})),
        with(json!({"userAgent": "kelvin100"})),
    ];
    check(
        &format!("  sel:\n    userAgent:\n{values}  condition: sel"),
        &matching,
        &other,
    );
    check(
        &format!("  keywords:\n{values}  condition: keywords"),
        &matching,
        &other,
    );
}

#[test]
fn other_log_sources_load_but_do_not_apply_and_statuses_are_honoured() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let detection =
        "detection:\n  sel:\n    eventName: AuthorizeSecurityGroupIngress\n  condition: sel\n";
    std::fs::create_dir(dir.path().join("nested")).expect("mkdir");
    std::fs::write(dir.path().join("windows.yml"), format!("title: W\nid: w\nlogsource:\n  product: windows\n  category: process_creation\n{detection}")).expect("write");
    std::fs::write(
        dir.path().join("nested/any.yaml"),
        format!("title: A\nid: a\nlogsource:\n  category: something\n{detection}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("nested/plain.yml"),
        format!("title: P\nid: p\nlogsource: {{}}\n{detection}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("old.yml"),
        format!("title: D\nid: d\nstatus: deprecated\nlogsource: {{product: aws}}\n{detection}"),
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a rule").expect("write");
    let loaded = load_paths(&[dir.path().to_owned()]);
    let status: Vec<(String, Status)> = loaded
        .entries
        .iter()
        .map(|e| (e.id.clone(), e.status))
        .collect();
    assert_eq!(
        status,
        [
            ("a".to_owned(), Status::Loaded),
            ("p".to_owned(), Status::Loaded),
            ("d".to_owned(), Status::Skipped),
            ("w".to_owned(), Status::Loaded),
        ]
    );
    let set = loaded.into_result().expect("loads");
    let fired: Vec<&str> = set
        .matching(&base())
        .map(|i| set.rules[i].meta.key())
        .collect();
    assert_eq!(fired, ["p"]);
}

#[test]
fn correlations_count_per_group_over_one_invocation() {
    let text = "title: Base\nname: base\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: ConsoleLogin\n  condition: sel\n---\ntitle: Many sign-ins\nid: many\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition:\n    gt: 2\nlevel: high\n";
    let set = RuleSet::from_yaml("corr.yml", text).expect("loads");
    assert!(
        !set.rules[0].generate,
        "the base rule only feeds the correlation"
    );
    assert_eq!(set.correlations[0].min_count, 3);
    let login = |ip: &str| with(json!({"eventName": "ConsoleLogin", "sourceIPAddress": ip}));
    let events = [
        login("1.1.1.1"),
        login("1.1.1.1"),
        login("2.2.2.2"),
        login("1.1.1.1"),
        base(),
    ];
    let lines = csoc_forwarder::cli::rules::test_lines(&set, "f", &events);
    let fires: Vec<(Value, Value, Value)> = lines
        .iter()
        .filter(|l| l.get("correlation").is_some())
        .map(|l| {
            (
                l["group"]["sourceIPAddress"].clone(),
                l["count"].clone(),
                l["fires"].clone(),
            )
        })
        .collect();
    assert_eq!(
        fires,
        [
            (json!("1.1.1.1"), json!(3), json!(true)),
            (json!("2.2.2.2"), json!(1), json!(false))
        ]
    );
    // Refusals: an unknown rule, an unsupported type or condition.
    for (bad, why) in [
        (
            "rules: [nope]\n  timespan: 1m\n  condition: {gte: 2}",
            "not loaded",
        ),
        (
            "rules: [base]\n  timespan: 1m\n  condition: {lte: 2}",
            "only `gte` and `gt`",
        ),
    ] {
        let t = format!(
            "title: B\nname: base\nlogsource: {{product: aws}}\ndetection:\n  sel:\n    eventName: x\n  condition: sel\n---\ntitle: C\nid: c\ncorrelation:\n  type: event_count\n  {bad}\n"
        );
        let err = RuleSet::from_yaml("c.yml", &t).expect_err(bad).to_string();
        assert!(err.contains("c.yml") && err.contains(why), "{err}");
    }
    let t = "title: C\nid: c\ncorrelation:\n  type: temporal\n  rules: [x]\n  timespan: 1m\n";
    assert!(
        RuleSet::from_yaml("t.yml", t)
            .expect_err("temporal")
            .to_string()
            .contains("not supported")
    );
}

#[test]
fn text_fields_of_the_index_are_matched_as_the_original_objects() {
    // requestParameters is stored as text in the document; the rule reaches inside.
    let docs = crate::common::fixture_documents("kinesis-cloudtrail.json");
    let set = rule(
        "  sel:\n    requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n  condition: sel",
    );
    let payloads = Alerter::new(None, set, None).evaluate(&docs);
    assert_eq!(payloads.len(), 1);
    let text = payloads[0].to_string();
    for part in ["[high] Test rule", "0d4e0f76-5a4c-4a57-9d0c-2f1f1b2a3c4d"] {
        assert!(text.contains(part), "{part}: {text}");
    }
}

//! Configuration: defaults, validation, and the README table against `ENV_VARS`.

use csoc_forwarder::config::ENV_VARS;

use crate::common::config_from as from;

#[test]
fn defaults_hold() {
    let c = from(&[]).expect("defaults are valid");
    assert_eq!(c.common_name, "local");
    assert_eq!(c.index_prefix, "csoc-logs");
    assert_eq!(c.threshold, None);
    assert_eq!(c.max_decompressed_bytes, 8 * 1024 * 1024);
    assert_eq!(c.firehose_stream, "local_firehose");
    assert_eq!(c.out_dir, std::path::PathBuf::from("./out"));
}

#[test]
fn values_are_read_and_empty_means_unset() {
    let c = from(&[
        ("COMMON_NAME", "qaplanetv1"),
        ("THRESHOLD", "2.5"),
        ("INDEX_PREFIX", " "),
        ("MAX_DECOMPRESSED_BYTES", "4096"),
    ])
    .expect("valid");
    assert_eq!(c.common_name, "qaplanetv1");
    assert_eq!(c.firehose_stream, "qaplanetv1_firehose");
    assert_eq!(c.threshold, Some(2.5));
    assert_eq!(c.index_prefix, "csoc-logs");
    assert_eq!(c.max_decompressed_bytes, 4096);
}

#[test]
fn bad_values_fail_with_the_variable_named() {
    for (name, value) in [
        ("COMMON_NAME", "has space"),
        ("COMMON_NAME", "-leading"),
        ("INDEX_PREFIX", "Upper"),
        ("INDEX_PREFIX", "a*b"),
        ("THRESHOLD", "fast"),
        ("THRESHOLD", "0"),
        ("THRESHOLD", "NaN"),
        ("MAX_DECOMPRESSED_BYTES", "12"),
        ("MAX_DECOMPRESSED_BYTES", "lots"),
        ("FIREHOSE_STREAM", "bad/stream"),
    ] {
        let err = from(&[(name, value)]).expect_err(&format!("{name}={value} must fail"));
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn the_readme_documents_every_variable_the_binary_reads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for var in ENV_VARS {
        assert!(
            readme.contains(&format!("| `{}` |", var.name)),
            "README lacks a row for {}",
            var.name
        );
    }
    // And nothing else: every variable row in the README is a real one.
    let section = readme
        .split("## Configuration")
        .nth(1)
        .expect("section")
        .split("\n## ")
        .next()
        .expect("body");
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let name = line
            .trim_start_matches("| `")
            .split('`')
            .next()
            .expect("name");
        assert!(
            ENV_VARS.iter().any(|v| v.name == name),
            "README documents unknown variable {name}"
        );
    }
}

#[test]
fn every_setting_is_validated_whatever_else_is_set() {
    // Without OPENSEARCH_URL, as with it: a bad OpenSearch setting is an error at once.
    for (name, value) in [
        ("OPENSEARCH_AUTH", "sigv5"),
        ("OPENSEARCH_TIMEOUT", "abc"),
        ("OPENSEARCH_TIMEOUT", "0"),
        ("OPENSEARCH_BULK_MAX_DOCS", "0"),
        ("OPENSEARCH_BULK_MAX_BYTES", "12"),
        ("OPENSEARCH_GZIP", "maybe"),
        ("OPENSEARCH_TEMPLATE", "perhaps"),
        ("OPENSEARCH_RETENTION_DAYS", "-1"),
        ("PROCESS_TIME_BUDGET", "1"),
        ("PROCESS_TIME_BUDGET", "soon"),
    ] {
        for url in [None, Some("http://127.0.0.1:9200")] {
            let mut pairs = vec![(name, value)];
            pairs.extend(url.map(|u| ("OPENSEARCH_URL", u)));
            let err = from(&pairs).expect_err(&format!("{name}={value} with {url:?} must fail"));
            assert!(err.to_string().contains(name), "{err}");
        }
    }
    // Basic auth without its credentials is refused even before a URL is set.
    let err = from(&[("OPENSEARCH_AUTH", "basic")]).expect_err("basic needs credentials");
    assert!(err.to_string().contains("OPENSEARCH_SECRET_ID"), "{err}");
    // Good values without a URL are fine, and mean no cluster.
    let c = from(&[("OPENSEARCH_AUTH", "none"), ("OPENSEARCH_TIMEOUT", "5")]).expect("valid");
    assert!(c.opensearch.is_none());
}

#[test]
fn a_malformed_opensearch_url_never_shows_its_credentials() {
    for (url, secret) in [
        ("http://admin:PW-s3cret@host:notaport", "PW-s3cret"),
        ("ftp://admin:PW-s3cret@host", "PW-s3cret"),
        ("admin:PW-s3cret@host:9200", "PW-s3cret"),
        ("http://admin:p/w-s3cret@host:9200", "w-s3cret"),
        ("https://admin:PW-s3cret@", "PW-s3cret"),
        ("http://admin:PW-s3cret@host:9200", "PW-s3cret"),
    ] {
        let err = from(&[("OPENSEARCH_URL", url)]).expect_err(url);
        let (shown, debug) = (err.to_string(), format!("{err:?}"));
        assert!(shown.contains("OPENSEARCH_URL"), "{shown}");
        assert!(!shown.contains(secret), "{url}: {shown}");
        assert!(!debug.contains(secret), "{url}: {debug}");
        assert!(!shown.contains("admin"), "{url}: {shown}");
    }
}

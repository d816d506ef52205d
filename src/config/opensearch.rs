//! The OpenSearch part of the configuration: read from the same lookup as the rest of
//! [`crate::config`], validated once. Unset `OPENSEARCH_URL` means no cluster: the local
//! file sink is used.

use std::fmt;
use std::time::Duration;

use opensearch::http::Url;

use super::{
    ConfigError, OPENSEARCH_AUTH, OPENSEARCH_BULK_MAX_BYTES, OPENSEARCH_BULK_MAX_DOCS,
    OPENSEARCH_FREEFORM, OPENSEARCH_GZIP, OPENSEARCH_PASSWORD, OPENSEARCH_RETENTION_DAYS,
    OPENSEARCH_SECRET_ID, OPENSEARCH_TEMPLATE, OPENSEARCH_TIMEOUT, OPENSEARCH_URL,
    OPENSEARCH_USERNAME,
};

/// Default `_bulk` request body cap: about 5 MiB.
pub const DEFAULT_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Default document cap per `_bulk` request.
pub const DEFAULT_MAX_DOCS: usize = 5_000;
/// Default per-request timeout (each request is also cut to the invocation's deadline).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default retention (ISM policy) in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// How the CloudTrail free-form objects are mapped in the index, and so stored in
/// documents (`crate::sinks::opensearch::template` puts the template in this form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FreeForm {
    /// `flat_object` (OpenSearch 2.7+): documents keep the objects, and
    /// `message.requestParameters.bucketName: prod-*` works.
    FlatObject,
    /// `text`: documents carry the objects as JSON text (any cluster, and the local files).
    #[default]
    Text,
}

/// The configured choice (`OPENSEARCH_FREEFORM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FreeFormChoice {
    /// `flat_object` where the cluster takes it, else text (decided at cold start).
    #[default]
    Auto,
    /// Always this form (the template is put in it; with `OPENSEARCH_TEMPLATE=false`,
    /// say which form the template applied by hand has).
    Fixed(FreeForm),
}

/// How requests to the cluster are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// HTTP basic auth.
    Basic(BasicSource),
    /// AWS SigV4 with the Lambda's credentials (the default credential chain).
    SigV4 {
        /// `es` (managed domains) or `aoss` (OpenSearch Serverless).
        service: &'static str,
        /// From the endpoint's host name when it names one; else the SDK's region
        /// (`AWS_REGION`).
        region: Option<String>,
    },
}

/// Where basic-auth credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasicSource {
    /// A Secrets Manager secret (ARN or name) holding `{"username": …, "password": …}`.
    Secret(String),
    /// From the environment, for local use.
    Inline {
        username: String,
        password: Redacted,
    },
}

/// A string that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Everything the OpenSearch sink needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSearchConfig {
    pub url: Url,
    pub auth: Auth,
    /// Request body cap in bytes (before gzip).
    pub max_bytes: usize,
    /// Document cap per request.
    pub max_docs: usize,
    /// gzip request bodies.
    pub gzip: bool,
    /// Per-request timeout (also cut to the deadline).
    pub timeout: Duration,
    /// Put the index template and retention policy at cold start.
    pub template: bool,
    /// ISM retention in days; 0 puts no policy.
    pub retention_days: u32,
    /// How the CloudTrail free-form objects are mapped (`OPENSEARCH_FREEFORM`).
    pub free_form: FreeFormChoice,
}

impl OpenSearchConfig {
    /// `None` when `OPENSEARCH_URL` is unset. `get` treats empty values as unset. Every
    /// `OPENSEARCH_*` setting is validated whether or not `OPENSEARCH_URL` is set, so a
    /// mistake shows at once, not the day the URL is added.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let auth_kind = match get(OPENSEARCH_AUTH).map(|v| v.trim().to_ascii_lowercase()) {
            None => None,
            Some(v) if matches!(v.as_str(), "sigv4" | "basic" | "none") => Some(v),
            Some(v) => return Err(invalid(OPENSEARCH_AUTH, &v, "one of sigv4, basic, none")),
        };
        let basic = match auth_kind.as_deref() {
            Some("basic") => Some(basic_source(get)?),
            _ => None,
        };
        let max_bytes = parse_num(
            get,
            OPENSEARCH_BULK_MAX_BYTES,
            DEFAULT_MAX_BYTES,
            4096..=100 * 1024 * 1024,
        )?;
        let max_docs = parse_num(get, OPENSEARCH_BULK_MAX_DOCS, DEFAULT_MAX_DOCS, 1..=100_000)?;
        let gzip = parse_bool(get, OPENSEARCH_GZIP, false)?;
        let timeout = Duration::from_secs(parse_num(
            get,
            OPENSEARCH_TIMEOUT,
            DEFAULT_TIMEOUT.as_secs() as usize,
            1..=900,
        )? as u64);
        let template = parse_bool(get, OPENSEARCH_TEMPLATE, true)?;
        let retention_days = parse_num(
            get,
            OPENSEARCH_RETENTION_DAYS,
            DEFAULT_RETENTION_DAYS as usize,
            0..=36_500,
        )? as u32;
        let free_form = parse_free_form(get)?;
        let Some(raw_url) = get(OPENSEARCH_URL) else {
            return Ok(None);
        };
        let url = parse_url(&raw_url)?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let auth = match (auth_kind.as_deref(), basic) {
            (_, Some(basic)) => Auth::Basic(basic),
            (None, _) if aws_endpoint(&host).is_some() => sigv4(&host),
            (Some("sigv4"), _) => sigv4(&host),
            _ => Auth::None,
        };
        Ok(Some(Self {
            url,
            auth,
            max_bytes,
            max_docs,
            gzip,
            timeout,
            template,
            retention_days,
            free_form,
        }))
    }

    /// The URL without any user info, for logs.
    pub fn display_url(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.to_string()
    }
}

/// `(service, region)` for an Amazon OpenSearch Service or Serverless host name:
/// `search-<domain>-<id>.<region>.es.amazonaws.com`, `vpc-…`, `<id>.<region>.aoss.amazonaws.com`.
pub fn aws_endpoint(host: &str) -> Option<(&'static str, Option<&str>)> {
    let host = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (rest, service) = if let Some(rest) = host.strip_suffix(".es") {
        (rest, "es")
    } else if let Some(rest) = host.strip_suffix(".aoss") {
        (rest, "aoss")
    } else {
        return None;
    };
    let region = rest.rsplit('.').next().filter(|r| r.contains('-'));
    Some((service, region))
}

fn sigv4(host: &str) -> Auth {
    let (service, region) = aws_endpoint(host).unwrap_or(("es", None));
    Auth::SigV4 {
        service,
        region: region.map(str::to_owned),
    }
}

fn basic_source(get: &dyn Fn(&str) -> Option<String>) -> Result<BasicSource, ConfigError> {
    let secret = get(OPENSEARCH_SECRET_ID);
    let user = get(OPENSEARCH_USERNAME);
    let password = get(OPENSEARCH_PASSWORD);
    match (secret, user, password) {
        (Some(secret), None, None) => Ok(BasicSource::Secret(secret.trim().to_owned())),
        (None, Some(username), Some(password)) => Ok(BasicSource::Inline {
            username,
            password: Redacted(password),
        }),
        (Some(_), _, _) => Err(invalid(
            OPENSEARCH_SECRET_ID,
            "(set)",
            "basic auth takes its credentials from OPENSEARCH_SECRET_ID or from OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD, not both",
        )),
        _ => Err(invalid(
            OPENSEARCH_AUTH,
            "basic",
            "basic auth needs OPENSEARCH_SECRET_ID, or both OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD",
        )),
    }
}

fn parse_url(v: &str) -> Result<Url, ConfigError> {
    let reason = "an http:// or https:// URL such as https://search-x.us-east-1.es.amazonaws.com";
    // Whatever is wrong, the value is only ever shown without its user info.
    let shown = without_user_info(v);
    let url = Url::parse(v.trim()).map_err(|_| invalid(OPENSEARCH_URL, &shown, reason))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(OPENSEARCH_URL, &shown, reason));
    }
    if url.password().is_some() {
        return Err(invalid(
            OPENSEARCH_URL,
            &shown,
            "no credentials in the URL: use OPENSEARCH_AUTH=basic",
        ));
    }
    Ok(url)
}

/// `v` with everything between the scheme (or the start) and the last `@` replaced by
/// `<redacted>`: user info is never printed, even when `v` does not parse as a URL (a
/// password may hold `/`, `?`, `#` or `@`, so the last `@` of the whole value counts).
pub fn without_user_info(v: &str) -> String {
    let v = v.trim();
    let start = v.find("://").map_or(0, |i| i + 3);
    match v[start..].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &v[..start], &v[start + at..]),
        None => v.to_owned(),
    }
}

fn parse_num(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(default);
    };
    match v.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(invalid(
            name,
            &v,
            &format!("a whole number from {} to {}", range.start(), range.end()),
        )),
    }
}

/// `OPENSEARCH_FREEFORM`: `auto` (default), `flat_object` or `text`.
fn parse_free_form(get: &dyn Fn(&str) -> Option<String>) -> Result<FreeFormChoice, ConfigError> {
    match get(OPENSEARCH_FREEFORM).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(FreeFormChoice::Auto),
        Some(v) if v == "auto" => Ok(FreeFormChoice::Auto),
        Some(v) if v == "flat_object" => Ok(FreeFormChoice::Fixed(FreeForm::FlatObject)),
        Some(v) if v == "text" => Ok(FreeFormChoice::Fixed(FreeForm::Text)),
        Some(v) => Err(invalid(
            OPENSEARCH_FREEFORM,
            &v,
            "one of auto, flat_object, text",
        )),
    }
}

fn parse_bool(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(default);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(name, &v, "true or false")),
    }
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_endpoints_are_recognised() {
        assert_eq!(
            aws_endpoint("search-csoc-abc123.us-east-1.es.amazonaws.com"),
            Some(("es", Some("us-east-1")))
        );
        assert_eq!(
            aws_endpoint("vpc-csoc-abc123.eu-west-2.es.amazonaws.com"),
            Some(("es", Some("eu-west-2")))
        );
        assert_eq!(
            aws_endpoint("abc123.us-west-2.aoss.amazonaws.com"),
            Some(("aoss", Some("us-west-2")))
        );
        assert_eq!(aws_endpoint("localhost"), None);
        assert_eq!(aws_endpoint("logs.example.com"), None);
        assert_eq!(aws_endpoint("s3.amazonaws.com"), None);
    }

    #[test]
    fn user_info_is_cut_from_any_value() {
        for (v, want) in [
            (
                "http://admin:PW@host:notaport",
                "http://<redacted>@host:notaport",
            ),
            ("ftp://admin:PW@host", "ftp://<redacted>@host"),
            ("admin:PW@host:9200", "<redacted>@host:9200"),
            ("http://admin:p/w@x@host", "http://<redacted>@host"),
            ("https://host:9200", "https://host:9200"),
        ] {
            assert_eq!(without_user_info(v), want);
        }
    }

    #[test]
    fn redacted_never_prints() {
        let source = BasicSource::Inline {
            username: "u".into(),
            password: Redacted("hunter2".into()),
        };
        assert!(!format!("{source:?}").contains("hunter2"));
    }
}

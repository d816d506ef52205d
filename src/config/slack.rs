//! The Slack incoming-webhook URL (`SLACK_WEBHOOK_URL`, or the text of the
//! `SLACK_WEBHOOK_SECRET_ARN` secret). It is a credential: [`WebhookUrl`] never shows it.

/// A webhook URL. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// An `https://` URL (`http://` is accepted for local test servers).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !s.contains(char::is_whitespace) => Ok(Self(s.to_owned())),
            _ => Err("an https:// URL (the Slack incoming webhook)".to_owned()),
        }
    }

    /// The URL itself: only for sending the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted webhook URL>")
    }
}

/// The URL from a secret's text: the URL itself, or JSON with a `url`, `webhook_url` or
/// `slack_webhook_url` key.
pub fn url_from_secret(text: &str) -> Result<WebhookUrl, String> {
    let text = text.trim();
    if text.starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|_| "the secret is not valid JSON".to_owned())?;
        let url = ["url", "webhook_url", "slack_webhook_url"]
            .iter()
            .find_map(|k| v.get(*k).and_then(serde_json::Value::as_str))
            .ok_or_else(|| "the secret's JSON has no `url` key".to_owned())?;
        WebhookUrl::parse(url).map_err(|e| format!("the secret's `url` is not {e}"))
    } else {
        WebhookUrl::parse(text).map_err(|e| format!("the secret is not {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_never_shows() {
        let u = WebhookUrl::parse("https://hooks.slack.com/services/T/B/SECRET").unwrap();
        assert!(!format!("{u:?} {u}").contains("SECRET"));
        assert!(WebhookUrl::parse("ftp://x").is_err());
        assert_eq!(
            url_from_secret(r#"{"url":"https://h/x"}"#)
                .unwrap()
                .expose(),
            "https://h/x"
        );
    }
}

//! Building the one HTTP client (and its connection pool) for the cluster, with its
//! authentication. Done once per cold start.

use opensearch::OpenSearch;
use opensearch::auth::Credentials;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use serde::Deserialize;
use thiserror::Error;
use tracing::info;

use crate::config::opensearch::{Auth, BasicSource, OpenSearchConfig};

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("OpenSearch: cannot build the HTTP client: {0}")]
    Client(String),
    #[error("OpenSearch: SigV4 needs AWS credentials, and none were found")]
    NoAwsCredentials,
    #[error(
        "OpenSearch: SigV4 needs a region: set AWS_REGION, or use an Amazon endpoint host name"
    )]
    NoRegion,
    #[error("OpenSearch: cannot read the basic-auth secret {secret_id}: {reason}")]
    Secret { secret_id: String, reason: String },
}

/// The client for `config`, with credentials resolved (AWS chain, Secrets Manager).
pub async fn build_client(config: &OpenSearchConfig) -> Result<OpenSearch, ConnectError> {
    let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(config.url.clone()));
    match &config.auth {
        Auth::None => {}
        Auth::Basic(BasicSource::Inline { username, password }) => {
            builder = builder.auth(Credentials::Basic(username.clone(), password.0.clone()));
        }
        Auth::Basic(BasicSource::Secret(secret_id)) => {
            let (username, password) = read_secret(secret_id).await?;
            builder = builder.auth(Credentials::Basic(username, password));
        }
        Auth::SigV4 { service, region } => {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await;
            let provider = sdk
                .credentials_provider()
                .ok_or(ConnectError::NoAwsCredentials)?;
            let region = match region {
                Some(r) => aws_config::Region::new(r.clone()),
                None => sdk.region().cloned().ok_or(ConnectError::NoRegion)?,
            };
            info!(service = %service, region = %region, "OpenSearch requests are SigV4-signed");
            builder = builder
                .auth(Credentials::AwsSigV4(provider, region))
                .service_name(service);
        }
    }
    let transport = builder
        .build()
        .map_err(|e| ConnectError::Client(e.to_string()))?;
    Ok(OpenSearch::new(transport))
}

#[derive(Deserialize)]
struct BasicSecret {
    username: String,
    password: String,
}

/// Reads `{"username", "password"}` from Secrets Manager. Errors never carry the value.
async fn read_secret(secret_id: &str) -> Result<(String, String), ConnectError> {
    let fail = |reason: String| ConnectError::Secret {
        secret_id: secret_id.to_owned(),
        reason,
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    let text = out
        .secret_string()
        .ok_or_else(|| fail("the secret has no string value".to_owned()))?;
    let secret: BasicSecret = serde_json::from_str(text).map_err(|_| {
        fail(r#"the secret is not JSON of the form {"username": "…", "password": "…"}"#.to_owned())
    })?;
    Ok((secret.username, secret.password))
}

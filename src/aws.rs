//! The shared AWS configuration, loaded once per cold start.
//!
//! Region, credentials and endpoint come from the usual places (Lambda's environment,
//! `AWS_*` variables, profiles); `AWS_ENDPOINT_URL` points every client at an emulator.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Connecting must be quick; one call must leave time for a retry within the deadline.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads the shared configuration. Clients are built from it once, at cold start.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

//! `csoc-forwarder dashboards install`: imports the OpenSearch Dashboards saved objects
//! ([`crate::dashboards`]) with the index's authentication.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_USAGE};
use crate::config;

#[derive(Debug, Args)]
pub struct DashboardsArgs {
    #[command(subcommand)]
    pub command: DashboardsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DashboardsCommand {
    /// Import the saved objects (POST /api/saved_objects/_import?overwrite=true).
    /// Authentication as for the index: OPENSEARCH_AUTH, OPENSEARCH_USERNAME /
    /// OPENSEARCH_PASSWORD or OPENSEARCH_SECRET_ID, the AWS credential chain for SigV4.
    Install(DashboardsInstallArgs),
}

#[derive(Debug, Args)]
pub struct DashboardsInstallArgs {
    /// OpenSearch Dashboards base URL, e.g.
    /// https://search-csoc-x.us-east-1.es.amazonaws.com/_dashboards [env: DASHBOARDS_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// sigv4, basic or none [env: OPENSEARCH_AUTH] [default: sigv4 for Amazon hosts, else none]
    #[arg(long, value_name = "AUTH")]
    pub auth: Option<String>,
    /// Saved objects to import instead of the built-in opensearch/dashboards/csoc-overview.ndjson
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `dashboards install`: imports the saved objects; prints `{"url", "imported"}`.
/// Exit codes: 0 imported, 2 usage (no URL, bad auth, unreadable file), 1 refused.
pub async fn run(args: &DashboardsArgs) -> ExitCode {
    let DashboardsCommand::Install(args) = &args.command;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(url) = args.url.clone().or_else(|| env(config::DASHBOARDS_URL)) else {
        eprintln!("error: dashboards install needs --url URL (or DASHBOARDS_URL)");
        return ExitCode::from(EXIT_USAGE);
    };
    let lookup = |name: &str| match name {
        config::OPENSEARCH_URL => Some(url.clone()),
        config::OPENSEARCH_AUTH => args.auth.clone().or_else(|| env(name)),
        _ => env(name),
    };
    let os = match crate::sinks::opensearch::OpenSearchConfig::from_lookup(&lookup) {
        Ok(Some(os)) => os,
        Ok(None) => return ExitCode::from(EXIT_USAGE),
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let ndjson = match &args.file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => crate::dashboards::SAVED_OBJECTS.to_owned(),
    };
    match crate::dashboards::install(&os, &ndjson).await {
        Ok(imported) => {
            println!(
                "{}",
                serde_json::json!({"url": os.display_url(), "imported": imported.success_count})
            );
            ExitCode::from(EXIT_OK)
        }
        Err(err @ crate::dashboards::DashboardsError::Parse { .. }) => {
            eprintln!("error: {err}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

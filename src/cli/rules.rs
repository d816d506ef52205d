//! `csoc-forwarder rules check PATH...` and `rules test PATH --event FILE...`: tooling for
//! rule authors, on the same loader and evaluator as the pipeline.
//!
//! - `check` prints one JSON line per rule: `{"file", "id", "title", "status":
//!   "loaded"|"refused"|"skipped", "reason"}`; exit 0 only when every rule loaded
//!   (skipped ones included), 2 otherwise.
//! - `test` prints one JSON line per CloudTrail event of each file, with the rules that
//!   match it, then one per correlation that fires over the file's events (a file stands
//!   for one invocation). Event files: a CloudTrail event, a CloudTrail log file
//!   (`{"Records": [...]}`), an EventBridge event, a Kinesis event of CloudWatch Logs
//!   records, a JSON array or JSON lines of any of these.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::EXIT_USAGE;
use crate::alerts::restore_event;
use crate::alerts::sigma::{self, RuleSet, Status};
use crate::decode::{DEFAULT_MAX_DECOMPRESSED_BYTES, Decoder};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load Sigma rules and print one JSON line per rule: loaded, refused (with the
    /// reason) or skipped. Exits 0 only when none is refused.
    Check(CheckArgs),
    /// Print which rules match which CloudTrail events of the given files.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rule files, or directories searched recursively for .yml and .yaml files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A rule file, or a directory searched recursively.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Event files (CloudTrail, EventBridge or Kinesis events).
    #[arg(long = "event", required = true, value_name = "FILE")]
    pub events: Vec<PathBuf>,
}

/// Runs a `rules` subcommand.
pub fn run(cmd: &RulesCommand) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::Check(args) => {
            let loaded = sigma::load_paths(&args.paths);
            if loaded.entries.is_empty() {
                eprintln!("error: no Sigma rule (.yml or .yaml) found");
                return ExitCode::from(EXIT_USAGE);
            }
            let mut ok = true;
            for e in &loaded.entries {
                ok &= e.status != Status::Refused;
                let line = serde_json::to_string(e).unwrap_or_default();
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
            ExitCode::from(if ok { 0 } else { EXIT_USAGE })
        }
        RulesCommand::Test(args) => {
            let rules = match RuleSet::from_paths(std::slice::from_ref(&args.path)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            };
            let mut code = 0;
            for file in &args.events {
                let name = file.display().to_string();
                let events = match std::fs::read(file)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|b| cloudtrail_events(&b))
                {
                    Ok(ev) => ev,
                    Err(e) => {
                        eprintln!("error: {name}: {e}");
                        code = EXIT_USAGE;
                        continue;
                    }
                };
                for line in test_lines(&rules, &name, &events) {
                    if writeln!(out, "{line}").is_err() {
                        return ExitCode::from(code);
                    }
                }
            }
            ExitCode::from(code)
        }
    }
}

/// The output lines of `rules test` for the events of one file.
pub fn test_lines(rules: &RuleSet, file: &str, events: &[Value]) -> Vec<Value> {
    let mut lines = Vec::new();
    let mut counts: BTreeMap<(usize, Vec<String>), usize> = BTreeMap::new();
    for (n, event) in events.iter().enumerate() {
        let matched: Vec<usize> = rules.matching(event).collect();
        let s = |k: &str| event.get(k).cloned().unwrap_or(Value::Null);
        lines.push(json!({
            "file": file,
            "event": n,
            "eventID": s("eventID"),
            "eventName": s("eventName"),
            "rules": matched.iter().map(|&i| rules.rules[i].meta.key()).collect::<Vec<_>>(),
        }));
        for (c, corr) in rules.correlations.iter().enumerate() {
            if corr.rules.iter().any(|r| matched.contains(r)) {
                let key = corr
                    .group_by
                    .iter()
                    .map(|f| crate::alerts::group_value(event, f))
                    .collect();
                *counts.entry((c, key)).or_default() += 1;
            }
        }
    }
    for ((c, key), count) in counts {
        let corr = &rules.correlations[c];
        let group: serde_json::Map<String, Value> = corr
            .group_by
            .iter()
            .cloned()
            .zip(key.into_iter().map(Value::String))
            .collect();
        lines.push(json!({
            "file": file,
            "correlation": corr.meta.key(),
            "group": group,
            "count": count,
            "fires": count >= corr.min_count,
        }));
    }
    lines
}

/// The CloudTrail events of an event file, free-form text fields parsed back.
pub fn cloudtrail_events(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => collect(v, &mut out)?,
        Err(whole) => {
            let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v = serde_json::from_str(line).map_err(|e| {
                    format!("not JSON ({whole}), nor JSON lines (line {}: {e})", i + 1)
                })?;
                collect(v, &mut out)?;
            }
        }
    }
    for e in &mut out {
        restore_event(e);
    }
    Ok(out)
}

fn collect(v: Value, out: &mut Vec<Value>) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            for i in items {
                collect(i, out)?;
            }
        }
        Value::Object(mut obj) => {
            if let Some(Value::Array(records)) = obj.remove("Records") {
                for r in records {
                    match r
                        .get("kinesis")
                        .and_then(|k| k.get("data"))
                        .and_then(Value::as_str)
                    {
                        Some(data) => {
                            let mut decoder = Decoder::new(DEFAULT_MAX_DECOMPRESSED_BYTES);
                            let env = decoder.decode(data).map_err(|e| e.to_string())?;
                            for le in &env.log_events {
                                if let Ok(v) = serde_json::from_str::<Value>(&le.message) {
                                    collect(v, out)?;
                                }
                            }
                        }
                        None => collect(r, out)?,
                    }
                }
            } else if obj.contains_key("detail-type") {
                if let Some(detail) = obj.remove("detail") {
                    collect(detail, out)?;
                }
            } else if obj.contains_key("eventName") {
                out.push(Value::Object(obj));
            }
        }
        _ => {}
    }
    Ok(())
}

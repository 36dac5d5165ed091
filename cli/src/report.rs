//! `ozm diagnose`, `ozm cleanup` and `ozm config`: the daemon's instance-tracking reports, as
//! text for a person or, with `--json`, the same JSON documents the MCP tools return.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use ozm_protocol::{CliRequest, CliResponse, Peer};
use serde_json::Value;

use crate::connect;

/// Exit code of `ozm diagnose` when it finds conflicts.
pub const EXIT_CONFLICTS: u8 = 4;

/// Asks the daemon for a report; returns whether it found conflicts (for `diagnose`).
pub async fn run(socket: &Path, request: CliRequest, json: bool) -> anyhow::Result<bool> {
    let mut connection = connect::hello(socket, Peer::Cli).await?;
    let kind = request.clone();
    connection.send(&request).await?;
    let report: Value = match connection.recv_within(Duration::from_secs(30)).await? {
        CliResponse::Json(text) => serde_json::from_str(&text).context("reading the report")?,
        CliResponse::Error(message) => bail!("ozmd could not answer: {message}"),
        _ => bail!("ozmd answered with the wrong report"),
    };
    let conflicts = report["conflicts"]
        .as_array()
        .is_some_and(|list| !list.is_empty());
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(conflicts);
    }
    match kind {
        CliRequest::Diagnose => write_diagnosis(&mut out, &report)?,
        CliRequest::Cleanup { .. } => write_cleanup(&mut out, &report)?,
        _ => write_config(&mut out, &report)?,
    }
    Ok(conflicts)
}

fn write_diagnosis(out: &mut impl Write, report: &Value) -> std::io::Result<()> {
    let conflicts = report["conflicts"].as_array().cloned().unwrap_or_default();
    writeln!(out, "status: {}", text(&report["status"]))?;
    writeln!(out, "conflicts: {}", conflicts.len())?;
    for conflict in &conflicts {
        let other = &conflict["instance"];
        writeln!(
            out,
            "  [{}] {}: pid {} ({}): {}",
            text(&conflict["severity"]),
            text(&conflict["type"]),
            other["pid"],
            text(&other["server_name"]),
            text(&conflict["details"])
        )?;
        for difference in conflict["differences"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "      {}: {} here, {} there; the daemon uses {}",
                text(&difference["setting"]),
                difference["this_instance"],
                difference["other_instance"],
                difference["daemon_uses"]
            )?;
        }
    }
    for advice in report["recommendations"].as_array().into_iter().flatten() {
        writeln!(out, "recommendation: {}", text(advice))?;
    }
    Ok(())
}

fn write_cleanup(out: &mut impl Write, report: &Value) -> std::io::Result<()> {
    let actions = report["actions_taken"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if actions.is_empty() {
        writeln!(out, "nothing to clean up")?;
    }
    for action in actions {
        writeln!(out, "{}", text(&action))?;
    }
    Ok(())
}

fn write_config(out: &mut impl Write, report: &Value) -> std::io::Result<()> {
    let daemon = &report["daemon"];
    writeln!(
        out,
        "daemon (pid {}), config hash {}",
        daemon["pid"],
        text(&daemon["config_hash"])
    )?;
    for (name, value) in daemon["daemon_wide_settings"]
        .as_object()
        .into_iter()
        .flatten()
    {
        writeln!(out, "  {name} = {}", text(value))?;
    }
    for instance in report["instances"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "{} (pid {}, {}), config hash {}",
            text(&instance["instance_id"]),
            instance["pid"],
            text(&instance["server_name"]),
            text(&instance["config_hash"])
        )?;
        for (name, value) in instance["settings"].as_object().into_iter().flatten() {
            writeln!(out, "  {name} = {}", text(value))?;
        }
    }
    Ok(())
}

/// A JSON value as plain text: strings without quotes.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

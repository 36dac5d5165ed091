//! `ozm diagnose`, `ozm cleanup` and `ozm config`: the daemon's instance-tracking reports, as
//! tables on a terminal, records when piped (see [`crate::table`]) or, with `--json`, the same
//! JSON documents the MCP tools return.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use ozm_protocol::{CliRequest, CliResponse};
use serde_json::Value;

use crate::request;
use crate::table::{Cell, Fit, Mode, Report, Table};

/// Exit code of `ozm diagnose` when it finds conflicts.
pub const EXIT_CONFLICTS: u8 = 4;

/// How long a report may take: cleanup reads the instance files and may remove indexes.
const REPORT_WITHIN: Duration = Duration::from_secs(30);

/// Asks the daemon for a report; returns whether it found conflicts (for `diagnose`).
pub async fn run(socket: &Path, request: CliRequest, json: bool) -> anyhow::Result<bool> {
    let report: Value = match request::ask(socket, &request, REPORT_WITHIN).await? {
        CliResponse::Json(text) => serde_json::from_str(&text).context("reading the report")?,
        other => request::unexpected(other)?,
    };
    let conflicts = report["conflicts"]
        .as_array()
        .is_some_and(|list| !list.is_empty());
    if json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        crate::table::print(text.as_bytes())?;
        return Ok(conflicts);
    }
    let mut out = Report::new(Mode::detect());
    match request {
        CliRequest::Diagnose => write_diagnosis(&mut out, &report),
        CliRequest::Cleanup { .. } => write_cleanup(&mut out, &report),
        _ => write_config(&mut out, &report),
    }
    out.print()?;
    Ok(conflicts)
}

fn write_diagnosis(out: &mut Report, report: &Value) {
    let conflicts = report["conflicts"].as_array().cloned().unwrap_or_default();
    let mut summary = Table::new(
        "diagnosis",
        "Diagnosis",
        &[("status", Fit::Keep), ("conflicts", Fit::Keep)],
    );
    let status = text(&report["status"]);
    summary.row(vec![
        match status.as_str() {
            "healthy" => Cell::new(status),
            "warning" => Cell::warning(status),
            _ => Cell::error(status),
        },
        Cell::new(conflicts.len().to_string()),
    ]);
    out.table(&summary);

    let mut found = Table::new(
        "conflict",
        format!("Conflicts ({})", conflicts.len()),
        &[
            ("severity", Fit::Keep),
            ("type", Fit::Keep),
            ("pid", Fit::Keep),
            ("with_pid", Fit::Keep),
            ("server", Fit::Spare),
            ("details", Fit::End),
        ],
    );
    let mut differences = Table::new(
        "difference",
        "Settings that differ",
        &[
            ("pid", Fit::Keep),
            ("setting", Fit::End),
            ("value", Fit::End),
            ("with_pid", Fit::Keep),
            ("with_value", Fit::End),
            ("daemon_uses", Fit::End),
        ],
    );
    // From the operator's view a conflict is between `instance` and, for most kinds, `with`;
    // a difference's `this_instance` is the value of the `with` side.
    for conflict in &conflicts {
        let other = &conflict["instance"];
        let with = &conflict["with"];
        let severity = text(&conflict["severity"]);
        found.row(vec![
            match severity.as_str() {
                "high" => Cell::error(&severity),
                "warning" => Cell::warning(&severity),
                _ => Cell::new(&severity),
            },
            Cell::new(text(&conflict["type"])),
            Cell::new(text(&other["pid"])),
            Cell::new(text(&with["pid"])),
            Cell::new(text(&other["server_name"])),
            Cell::new(text(&conflict["details"])),
        ]);
        for difference in conflict["differences"].as_array().into_iter().flatten() {
            differences.row(vec![
                Cell::new(text(&other["pid"])),
                Cell::new(text(&difference["setting"])),
                Cell::new(text(&difference["other_instance"])),
                Cell::new(text(&with["pid"])),
                Cell::new(text(&difference["this_instance"])),
                Cell::new(text(&difference["daemon_uses"])),
            ]);
        }
    }
    out.table(&found);
    if !differences.is_empty() {
        out.table(&differences);
    }
    let advice = strings(&report["recommendations"]);
    if !advice.is_empty() {
        out.sentences("recommendation", "Recommendations", &advice);
    }
}

fn write_cleanup(out: &mut Report, report: &Value) {
    let actions = strings(&report["actions_taken"]);
    if actions.is_empty() {
        // Said on stderr, so that the records on stdout stay only what was done.
        let _ = writeln!(std::io::stderr(), "ozm: nothing to clean up");
        return;
    }
    let done = if report["dry_run"] == true {
        "Would do"
    } else {
        "Done"
    };
    out.sentences("action", done, &actions);
}

fn write_config(out: &mut Report, report: &Value) {
    let daemon = &report["daemon"];
    let instances = report["instances"].as_array().cloned().unwrap_or_default();
    let mut hashes = Table::new(
        "instance",
        format!("Instances ({} and the daemon)", instances.len()),
        &[
            ("id", Fit::Keep),
            ("pid", Fit::Keep),
            ("server", Fit::End),
            ("config_hash", Fit::Middle),
        ],
    );
    hashes.row(vec![
        Cell::new("daemon"),
        Cell::new(text(&daemon["pid"])),
        Cell::new(""),
        Cell::new(text(&daemon["config_hash"])),
    ]);
    let mut settings = Table::new(
        "setting",
        "Settings",
        &[
            ("instance", Fit::Keep),
            ("name", Fit::End),
            ("value", Fit::End),
        ],
    );
    for (name, value) in daemon["daemon_wide_settings"]
        .as_object()
        .into_iter()
        .flatten()
    {
        settings.row(vec![
            Cell::new("daemon"),
            Cell::new(name),
            Cell::new(text(value)),
        ]);
    }
    for instance in &instances {
        let id = text(&instance["instance_id"]);
        hashes.row(vec![
            Cell::new(&id),
            Cell::new(text(&instance["pid"])),
            Cell::new(text(&instance["server_name"])),
            Cell::new(text(&instance["config_hash"])),
        ]);
        for (name, value) in instance["settings"].as_object().into_iter().flatten() {
            settings.row(vec![
                Cell::new(&id),
                Cell::new(name),
                Cell::new(text(value)),
            ]);
        }
    }
    out.table(&hashes);
    out.table(&settings);
}

/// The strings of a JSON list.
fn strings(list: &Value) -> Vec<String> {
    list.as_array().into_iter().flatten().map(text).collect()
}

/// A JSON value as plain text: strings without quotes, nothing for null.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

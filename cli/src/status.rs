//! `ozm status`: the daemon, its connected shims, its archives and ozm's own indexes of them,
//! as tables on a terminal, records when piped, or JSON.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use ozm_protocol::{ArchiveState, StatusReport, Supervisor};

use crate::index;
use crate::request;
use crate::table::{Cell, Fit, Mode, Report, Table};

/// Asks the daemon for its status and prints it.
pub async fn run(socket: &Path, json: bool) -> anyhow::Result<()> {
    let report = request::status(socket).await?;
    if json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        return crate::table::print(text.as_bytes());
    }
    let mut out = Report::new(Mode::detect());
    write_report(&mut out, &report);
    out.print()
}

fn write_report(out: &mut Report, report: &StatusReport) {
    let daemon = &report.daemon;
    let mut about = Table::new(
        "daemon",
        "ozmd",
        &[
            ("version", Fit::Keep),
            ("pid", Fit::Keep),
            ("up", Fit::Keep),
            ("service", Fit::End),
            ("socket", Fit::Middle),
            ("http", Fit::Spare),
        ],
    );
    let serves = |mcp: bool| if mcp { " (mcp)" } else { "" };
    let bound = report
        .http
        .iter()
        .map(|listener| format!("{}{}", listener.address, serves(listener.mcp)));
    let waiting = report.http_waiting.iter().map(|listener| {
        let (address, mcp) = (&listener.address, serves(listener.mcp));
        format!("{address}{mcp} waiting: {}", listener.reason)
    });
    let http: Vec<String> = bound.chain(waiting).collect();
    about.row(vec![
        Cell::new(&daemon.version),
        Cell::new(daemon.pid.to_string()),
        Cell::new(duration(daemon.uptime_seconds)),
        Cell::new(report.supervisor.as_ref().map(service).unwrap_or_default()),
        Cell::new(&daemon.socket),
        Cell::new(http.join(", ")),
    ]);
    out.table(&about);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut shims = Table::new(
        "shim",
        format!("Shims ({})", report.shims.len()),
        &[
            ("id", Fit::Keep),
            ("pid", Fit::Keep),
            ("client", Fit::End),
            ("connected", Fit::Spare),
            ("heartbeat", Fit::Keep),
            ("server", Fit::Spare),
            ("settings", Fit::Spare),
            ("conflicts", Fit::End),
            ("directories", Fit::Middle),
        ],
    );
    for shim in &report.shims {
        let client = match &shim.client {
            Some((pid, name)) => format!("{name} (pid {pid})"),
            None => "unknown".to_owned(),
        };
        let age = duration(shim.heartbeat_age_seconds);
        let heartbeat = if shim.responsive {
            Cell::new(format!("{age} ago"))
        } else {
            Cell::error(format!("NOT ANSWERING ({age})"))
        };
        shims.row(vec![
            Cell::new(&shim.instance_id),
            Cell::new(shim.pid.to_string()),
            Cell::new(client),
            Cell::new(format!(
                "{} ago",
                duration(now.saturating_sub(shim.connected_at))
            )),
            heartbeat,
            Cell::new(&shim.server_name),
            Cell::new(&shim.config_hash[..shim.config_hash.len().min(12)]),
            if shim.conflicts.is_empty() {
                Cell::new("")
            } else {
                Cell::warning(shim.conflicts.join(", "))
            },
            Cell::new(shim.directories.join(", ")),
        ]);
    }
    out.table(&shims);

    let mut archives = Table::new(
        "archive",
        format!("Archives ({})", report.archives.len()),
        &[
            ("path", Fit::Middle),
            ("size", Fit::Keep),
            ("state", Fit::End),
        ],
    );
    for archive in &report.archives {
        let state = match &archive.state {
            ArchiveState::Open { entries } => Cell::new(format!(
                "open, {} entries",
                index::count(u64::from(*entries))
            )),
            ArchiveState::Unreadable(reason) => Cell::error(format!("UNREADABLE: {reason}")),
        };
        archives.row(vec![
            Cell::new(&archive.path),
            Cell::new(index::size(archive.size_bytes)),
            state,
        ]);
    }
    out.table(&archives);

    let mut indexes = index::table(format!("Indexes ({})", report.indexes.len()));
    for status in &report.indexes {
        index::add_row(&mut indexes, status);
    }
    out.table(&indexes);
}

/// Who runs the daemon, for the `service` column: `ozmd.service (systemd --user)`.
fn service(supervisor: &Supervisor) -> String {
    let scope = if supervisor.user { " --user" } else { "" };
    format!("{} ({}{scope})", supervisor.unit, supervisor.manager)
}

/// An age or a wait, as precise as a person needs it: `22s`, `3m5s`, `1h6m`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{}s", seconds / 60, seconds % 60),
        _ => format!("{}h{}m", seconds / 3600, seconds % 3600 / 60),
    }
}

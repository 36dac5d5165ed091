//! `ozm status`: the daemon, its connected shims, its archives and ozm's own indexes of them,
//! as text or JSON.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use ozm_protocol::{ArchiveState, CliRequest, CliResponse, Peer, StatusReport};

use crate::{connect, index};

/// Asks the daemon for its status and prints it.
pub async fn run(socket: &Path, json: bool) -> anyhow::Result<()> {
    let mut connection = connect::hello(socket, Peer::Cli).await?;
    connection.send(&CliRequest::Status).await?;
    let report = match connection.recv_within(Duration::from_secs(10)).await? {
        CliResponse::Status(report) => report,
        CliResponse::Error(message) => bail!("ozmd could not answer: {message}"),
        _ => bail!("ozmd answered with the wrong report"),
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &report)?;
    }
    Ok(())
}

fn write_text(out: &mut impl Write, report: &StatusReport) -> std::io::Result<()> {
    let daemon = &report.daemon;
    writeln!(
        out,
        "ozmd {} (pid {}), up {}",
        daemon.version,
        daemon.pid,
        duration(daemon.uptime_seconds)
    )?;
    writeln!(out, "socket: {}", daemon.socket)?;

    writeln!(out, "\nshims: {}", report.shims.len())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    for shim in &report.shims {
        let age = duration(now.saturating_sub(shim.connected_at));
        let client = match &shim.client {
            Some((pid, name)) => format!("{} (pid {pid})", shown(name)),
            None => "unknown client".to_owned(),
        };
        writeln!(
            out,
            "  {} pid {}, for {client}, connected {age} ago: {}",
            shim.instance_id,
            shim.pid,
            shown(&shim.directories.join(", "))
        )?;
        let heartbeat = if shim.responsive {
            "answering"
        } else {
            "NOT ANSWERING"
        };
        let conflicts = if shim.conflicts.is_empty() {
            String::new()
        } else {
            format!(", conflicts: {}", shim.conflicts.join(", "))
        };
        writeln!(
            out,
            "    {}, settings {}, heartbeat {} ago ({heartbeat}){conflicts}",
            shown(&shim.server_name),
            &shim.config_hash[..shim.config_hash.len().min(12)],
            duration(shim.heartbeat_age_seconds)
        )?;
    }

    writeln!(out, "\narchives: {}", report.archives.len())?;
    for archive in &report.archives {
        let state = match &archive.state {
            ArchiveState::Open { entries } => format!("open, {entries} entries"),
            ArchiveState::Unreadable(reason) => format!("UNREADABLE: {}", shown(reason)),
        };
        writeln!(
            out,
            "  {} ({} bytes): {state}",
            shown(&archive.path),
            archive.size_bytes
        )?;
    }

    writeln!(out, "\nindexes: {}", report.indexes.len())?;
    for index in &report.indexes {
        writeln!(out, "  {}", index::describe(index))?;
    }
    Ok(())
}

/// Text with control characters escaped, so a file or process name cannot rewrite the terminal.
pub fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// An age or a wait, as precise as a person needs it: `22s`, `3m5s`, `1h6m`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{}s", seconds / 60, seconds % 60),
        _ => format!("{}h{}m", seconds / 3600, seconds % 3600 / 60),
    }
}

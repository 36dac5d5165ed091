//! Requests from `ozm status` and the other operator commands.
//!
//! A request the daemon cannot decode (say, from a newer `ozm`) gets an error answer and the
//! connection stays open, so a newer CLI can fall back.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ozm_protocol::{
    ArchiveState, ArchiveStatus, CliRequest, CliResponse, Connection, DaemonStatus, FrameError,
    ShimStatus, StatusReport,
};
use tracing::debug;

use crate::server::Daemon;

/// How long an operator connection may stay idle.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Answers requests until the client leaves.
pub async fn serve(daemon: &Arc<Daemon>, mut connection: Connection) {
    loop {
        let response = match connection.recv_within::<CliRequest>(IDLE_LIMIT).await {
            Ok(CliRequest::Status) => CliResponse::Status(status(daemon)),
            Err(FrameError::Garbled(error)) => CliResponse::Error(format!(
                "request not understood by ozmd {}: {error}",
                env!("CARGO_PKG_VERSION")
            )),
            Err(error) => {
                debug!(%error, "operator connection ended");
                return;
            }
        };
        if connection.send(&response).await.is_err() {
            return;
        }
    }
}

fn status(daemon: &Daemon) -> StatusReport {
    let shims = daemon
        .registry
        .shims()
        .into_iter()
        .map(|shim| ShimStatus {
            instance_id: shim.instance_id,
            pid: shim.pid,
            uid: shim.uid,
            directories: shim.directories.iter().map(|d| display(d)).collect(),
            connected_at: shim
                .connected_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
        })
        .collect();
    let archives = daemon
        .library
        .all()
        .into_iter()
        .map(|archive| ArchiveStatus {
            path: display(&archive.path),
            size_bytes: archive.size_bytes,
            state: match archive.open() {
                Ok(open) => ArchiveState::Open {
                    entries: open.archive.all_entry_count(),
                },
                Err(reason) => ArchiveState::Unreadable(reason),
            },
        })
        .collect();
    StatusReport {
        daemon: DaemonStatus {
            pid: daemon.info.pid,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: daemon.info.started.elapsed().as_secs(),
            socket: display(&daemon.socket),
        },
        shims,
        archives,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

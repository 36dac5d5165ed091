//! Requests from `ozm status` and the other operator commands.
//!
//! A request the daemon cannot decode (say, from a newer `ozm`) gets an error answer and the
//! connection stays open, so a newer CLI can fall back. An older `ozm` is sent only what its
//! protocol minor version can decode.
//!
//! The status report says whether systemd runs the daemon, so that `ozm daemon stop` leaves a
//! supervised daemon to `systemctl` rather than have systemd start it again through its socket.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ozm_protocol::{
    ArchiveState, ArchiveStatus, CliRequest, CliResponse, Connection, DaemonStatus, FrameError,
    HttpListener, HttpWaiting, IndexKind, IndexStatus, ShimStatus, StatusReport, Supervisor,
};
use tracing::debug;

use crate::instances::{self, Caller, View};
use crate::library::LibraryArchive;
use crate::server::Daemon;

/// How long an operator connection may stay idle.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// The protocol minor version from which a client decodes [`IndexKind::Links`].
const LINKS_SINCE_MINOR: u16 = 3;

/// Answers requests until the client leaves; `minor` is the client's protocol minor version.
pub async fn serve(daemon: &Arc<Daemon>, mut connection: Connection, caller: Caller, minor: u16) {
    loop {
        let response = match connection.recv_within::<CliRequest>(IDLE_LIMIT).await {
            Ok(request) => {
                debug!(?request, "operator request");
                decodable(answer(daemon, request, caller).await, minor)
            }
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

/// Answers one request off the runtime's threads: reports read `/proc` and the disk.
async fn answer(daemon: &Arc<Daemon>, request: CliRequest, caller: Caller) -> CliResponse {
    if let CliRequest::Index { archives } = request {
        return index(daemon, archives).await;
    }
    let daemon = Arc::clone(daemon);
    let answered = tokio::task::spawn_blocking(move || {
        daemon.report(caller, |view| {
            let json = match request {
                CliRequest::Status => return CliResponse::Status(Box::new(status(&daemon, view))),
                CliRequest::Diagnose => instances::diagnose(view),
                CliRequest::Cleanup { dry_run } => instances::cleanup(view, dry_run),
                CliRequest::Config => instances::configuration(view),
                CliRequest::Index { .. } => unreachable!("answered above"),
            };
            CliResponse::Json(json.to_string())
        })
    })
    .await;
    answered.unwrap_or_else(|_| CliResponse::Error("the report failed unexpectedly".into()))
}

/// `response` without what a client of protocol minor `minor` cannot decode: index kinds added
/// after its version, which would make it refuse the whole report.
fn decodable(mut response: CliResponse, minor: u16) -> CliResponse {
    let known = |index: &IndexStatus| index.kind != IndexKind::Links || minor >= LINKS_SINCE_MINOR;
    match &mut response {
        CliResponse::Status(report) => report.indexes.retain(known),
        CliResponse::Indexing(builds) => builds.retain(known),
        CliResponse::Error(_) | CliResponse::Json(_) => {}
    }
    response
}

/// What `ozm status` shows, seen by the operator (for `/health/instances`).
pub(crate) fn status_report(daemon: &Daemon) -> StatusReport {
    daemon.report(Caller::service(), |view| status(daemon, view))
}

fn status(daemon: &Daemon, view: &View) -> StatusReport {
    let conflicts = view.conflicts();
    let involved = |id: &str| -> Vec<String> {
        conflicts
            .iter()
            .filter(|c| {
                [Some(&c.instance), c.with.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|side| side["instance_id"] == id)
            })
            .map(|c| c.kind.to_owned())
            .collect()
    };
    let seconds = |time: SystemTime| time.duration_since(UNIX_EPOCH).map_or(0, |s| s.as_secs());
    let shims = view
        .shims()
        .into_iter()
        .map(|shim| ShimStatus {
            conflicts: involved(&shim.instance_id),
            pid: shim.pid,
            uid: shim.uid,
            directories: shim.directories.iter().map(|d| display(d)).collect(),
            connected_at: seconds(shim.connected_at),
            gid: shim.gid,
            client: shim
                .client
                .as_ref()
                .map(|client| (client.pid, client.name.clone())),
            server_name: shim.settings.server_name.clone(),
            config_hash: shim.config_hash.clone(),
            heartbeat_age_seconds: shim.last_heartbeat.elapsed().map_or(0, |age| age.as_secs()),
            responsive: shim.responsive,
            instance_id: shim.instance_id,
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
    let indexes = daemon
        .library
        .all()
        .iter()
        .flat_map(|archive| index_states(archive))
        .collect();
    StatusReport {
        indexes,
        daemon: DaemonStatus {
            pid: daemon.info.pid,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: daemon.info.started.elapsed().as_secs(),
            socket: display(&daemon.socket),
        },
        shims,
        archives,
        supervisor: SUPERVISOR.clone(),
        http: crate::http::listening()
            .into_iter()
            .map(|(address, mcp)| HttpListener {
                address: address.to_string(),
                mcp,
            })
            .collect(),
        http_waiting: crate::http::waiting()
            .into_iter()
            .map(|waiting| HttpWaiting {
                address: waiting.address.to_string(),
                mcp: waiting.mcp,
                reason: waiting.reason,
            })
            .collect(),
    }
}

/// The service manager that started this daemon, read once: the environment and the cgroup do
/// not change while it runs.
static SUPERVISOR: LazyLock<Option<Supervisor>> = LazyLock::new(|| {
    let pid = std::process::id().to_string();
    let exec_pid = std::env::var("SYSTEMD_EXEC_PID").ok();
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    systemd_unit(
        std::env::var_os("INVOCATION_ID").is_some(),
        exec_pid.as_deref(),
        &pid,
        &cgroup,
    )
});

/// The systemd unit running this process, if systemd started it itself. systemd gives each
/// service an `INVOCATION_ID`, which the service's children inherit; since systemd 248,
/// `SYSTEMD_EXEC_PID` tells the process systemd ran from a program that process started (an
/// `ozmd` started from a shell in a terminal that runs as a service is no service). The unit's
/// name and its manager come from the cgroup (`…/user@1000.service/app.slice/ozmd.service`).
fn systemd_unit(
    invocation: bool,
    exec_pid: Option<&str>,
    own_pid: &str,
    cgroup: &str,
) -> Option<Supervisor> {
    if !invocation || exec_pid.is_some_and(|exec_pid| exec_pid != own_pid) {
        return None;
    }
    // cgroup v2 has one line `0::PATH`; v1 has one per hierarchy, `ID:CONTROLLERS:PATH`.
    let path = cgroup
        .lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .find(|path| path.ends_with(".service"))?;
    let unit = path.rsplit('/').next()?;
    Some(Supervisor {
        manager: "systemd".to_owned(),
        unit: unit.to_owned(),
        user: path.contains("/user@"),
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// `ozm index`: queues the builds of the archives named (every archive if none), opening one
/// not known yet, and answers with where each build stands. In system mode only archives under
/// the roots may be named, as only directories under them may be served.
async fn index(daemon: &Arc<Daemon>, paths: Vec<String>) -> CliResponse {
    let mut chosen: Vec<Arc<LibraryArchive>> = Vec::new();
    if paths.is_empty() {
        chosen = daemon.library.all();
        chosen.retain(|archive| archive.open().is_ok());
    }
    for given in paths {
        let path = std::path::PathBuf::from(&given);
        // The roots first, so that nothing is told of paths outside them.
        if daemon.system {
            let roots = daemon.settings.get().roots.clone();
            let file = daemon.config_file.as_ref();
            if let Err(reason) = crate::server::within_roots(&[resolved(&path)], &roots, file) {
                return CliResponse::Error(reason);
            }
        }
        if path.is_dir() {
            return CliResponse::Error(format!(
                "{given} is a directory: name archives, or none for every archive ozmd serves"
            ));
        }
        let library = Arc::clone(&daemon.library);
        let added = tokio::task::spawn_blocking(move || library.add_archive(&path)).await;
        let Ok(Some(archive)) = added else {
            return CliResponse::Error(not_an_archive(&given));
        };
        if let Err(reason) = archive.open() {
            return CliResponse::Error(format!("{given}: {reason}"));
        }
        chosen.push(archive);
    }
    let mut states = Vec::new();
    for archive in &chosen {
        if let Ok(open) = archive.open() {
            daemon.library.indexer().request(&open);
        }
        states.extend(index_states(archive));
    }
    CliResponse::Indexing(states)
}

/// Why `given` cannot be indexed: nothing is there (neither a file nor the first part of a split
/// archive), or it is not a ZIM archive.
fn not_an_archive(given: &str) -> String {
    let first_part = format!("{given}aa");
    if [given, &first_part]
        .iter()
        .all(|path| std::fs::symlink_metadata(path).is_err())
    {
        return format!("{given}: no such file");
    }
    format!(
        "{given}: not a ZIM archive (a file named *.zim, or the parts *.zimaa, *.zimab, … of a \
         split one)"
    )
}

/// `path` with its links resolved; a split set's `foo.zim`, which does not exist, by its directory.
fn resolved(path: &Path) -> PathBuf {
    let by_directory = || {
        let parent = std::fs::canonicalize(path.parent()?).ok()?;
        Some(parent.join(path.file_name()?))
    };
    std::fs::canonicalize(path)
        .ok()
        .or_else(by_directory)
        .unwrap_or_else(|| path.to_path_buf())
}

/// Where the own indexes of one archive stand.
fn index_states(archive: &LibraryArchive) -> Vec<IndexStatus> {
    let Ok(open) = archive.open() else {
        return Vec::new();
    };
    open.own
        .states()
        .into_iter()
        .map(|(kind, state)| IndexStatus {
            archive: display(&archive.path),
            kind,
            state,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ozm_protocol::BuildState;

    #[test]
    fn a_client_of_an_older_minor_is_not_sent_the_link_graph() {
        let index = |kind| IndexStatus {
            archive: "/zim/x.zim".into(),
            kind,
            state: BuildState::Queued,
        };
        let builds = CliResponse::Indexing(vec![index(IndexKind::Titles), index(IndexKind::Links)]);
        let kinds = |response: CliResponse| match response {
            CliResponse::Indexing(builds) => builds.iter().map(|b| b.kind).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(kinds(decodable(builds.clone(), 2)), [IndexKind::Titles]);
        assert_eq!(
            kinds(decodable(builds, 3)),
            [IndexKind::Titles, IndexKind::Links]
        );
    }

    #[test]
    fn a_daemon_systemd_started_knows_its_unit_and_manager() {
        let user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/ozmd.service\n";
        let found = systemd_unit(true, Some("42"), "42", user).expect("a user unit");
        assert_eq!((found.unit.as_str(), found.user), ("ozmd.service", true));
        let system = "12:pids:/system.slice/ozmd.service\n0::/system.slice/ozmd.service\n";
        let found = systemd_unit(true, None, "42", system).expect("a system unit");
        assert_eq!((found.unit.as_str(), found.user), ("ozmd.service", false));
    }

    #[test]
    fn a_daemon_started_from_a_shell_is_nobodys_service() {
        let terminal = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/\
                        gnome-terminal-server.service\n";
        // Started by a shell in a terminal that systemd runs: INVOCATION_ID is inherited.
        assert_eq!(systemd_unit(true, Some("7"), "42", terminal), None);
        assert_eq!(systemd_unit(false, None, "42", terminal), None);
        let scope = "0::/user.slice/user-1000.slice/session-2.scope\n";
        assert_eq!(systemd_unit(true, None, "42", scope), None);
    }
}

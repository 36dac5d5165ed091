//! The instance-tracking reports: health, configuration, diagnosis and cleanup, the same
//! documents for the MCP tools (`get_server_health`, `get_server_configuration`,
//! `diagnose_server_state`, `resolve_server_conflicts`) and the operator's commands.
//!
//! Everything here reads `/proc` and the Python server's tracking directory: cheap blocking work
//! that callers run in `spawn_blocking`. Cleanup acts only on what it has proved: a Python
//! instance file found stale, and a shim the registry knows by kernel-given identity (pid and
//! start time) whose AI client has died. It never signals any other process.
//!
//! Every report is seen by a [`Caller`]. In system mode a user sees the details (pids,
//! directories, settings) of its own uid's instances only, and conflicts among those; root, the
//! service's own user and callers running with the service's group see every instance. Cleanup
//! ends only the caller's own orphaned shims and removes only instance files the caller owns
//! (root: any); the daemon's index cache is cleaned for root and the service's user only.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::conflicts::{self, Conflict};
use crate::library::Library;
use crate::mcp::DaemonInfo;
use crate::process;
use crate::python_instances::{self, FileState, Removal, ScannedFile};
use crate::registry::{Registry, ShimRecord};
use crate::settings::Settings;

/// Who asks, as the kernel told: whose instances a report details, what cleanup may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The caller's uid.
    pub uid: u32,
    /// Whether every instance is shown, not only the caller's uid's.
    pub sees_all: bool,
    /// Whether cleanup may remove instance files of other users.
    pub cleans_all: bool,
}

impl Caller {
    /// The daemon looking at itself: everything.
    pub fn service() -> Caller {
        Caller {
            uid: rustix::process::geteuid().as_raw(),
            sees_all: true,
            cleans_all: true,
        }
    }

    /// Whether `shim`'s details are shown to this caller.
    pub fn sees(&self, shim: &ShimRecord) -> bool {
        self.sees_all || shim.uid == self.uid
    }
}

/// What a report is computed from, and from whose point of view.
pub struct View<'a> {
    /// Every connected shim.
    pub registry: &'a Registry,
    /// The archives.
    pub library: &'a Library,
    /// The daemon's own settings.
    pub daemon_settings: &'a Settings,
    /// The daemon's facts.
    pub info: &'a DaemonInfo,
    /// The asking shim's instance id, or `None` for the operator.
    pub viewpoint: Option<&'a str>,
    /// Who asks.
    pub caller: Caller,
}

impl View<'_> {
    /// The connected shims this caller may see.
    pub fn shims(&self) -> Vec<ShimRecord> {
        let mut shims = self.registry.shims();
        shims.retain(|shim| self.caller.sees(shim));
        shims
    }

    fn me(&self) -> Option<ShimRecord> {
        self.viewpoint.and_then(|id| self.registry.get(id))
    }

    /// The settings that decide tracking: the asking shim's, or the daemon's for the operator.
    fn settings(&self) -> Settings {
        self.me()
            .map_or_else(|| self.daemon_settings.clone(), |me| me.settings)
    }

    /// The Python server's instance files the caller may see; an unreadable directory counts
    /// as none, with a warning in the log.
    fn python_files(&self) -> Vec<ScannedFile> {
        let dir = self.settings().tracking_dir;
        let mut files = python_instances::scan(&dir).unwrap_or_else(|error| {
            tracing::warn!(dir = ?dir, %error, "cannot read the instance directory");
            Vec::new()
        });
        files.retain(python_instances::is_instance_file);
        // In system mode another user's files are theirs to see, not this caller's.
        files.retain(|file| self.caller.sees_all || owner(&file.path) == Some(self.caller.uid));
        files
    }

    /// The conflicts this view sees; none when the asking shim turned tracking off.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let settings = self.settings();
        if !settings.tracking_enabled {
            return Vec::new();
        }
        let shims = self.shims();
        let python = self.python_files();
        conflicts::detect(
            &shims,
            &python,
            self.daemon_settings,
            settings.conflict_detection,
            self.viewpoint,
        )
    }
}

/// `get_server_health`.
pub fn health(view: &View, cache: Value) -> Value {
    let settings = view.settings();
    let conflicts = view.conflicts();
    let archives = view.library.all();
    let unreadable = archives.iter().filter(|a| a.open().is_err()).count();
    let mut recommendations = recommendations(&conflicts);
    let mut warnings = Vec::new();
    if unreadable > 0 {
        warnings.push(format!(
            "{unreadable} archive(s) cannot be read; see zim_health"
        ));
    }
    if !settings.tracking_enabled {
        recommendations.push(
            "instance tracking is off for this session \
            (OPENZIM_MCP_INSTANCE__TRACKING_ENABLED=false): conflicts are not checked"
                .into(),
        );
    }
    let status = if conflicts.iter().any(|c| c.severity == "high") || unreadable > 0 {
        "warning"
    } else {
        "healthy"
    };
    json!({
        "timestamp": now_seconds(),
        "status": status,
        "server_name": settings.server_name,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_info": {
            "process_id": view.info.pid,
            "uptime_seconds": view.info.started.elapsed().as_secs(),
        },
        "instance_tracking": {
            "enabled": settings.tracking_enabled,
            "tracking_enabled": settings.tracking_enabled,
            "active_instances": view.shims().len(),
            "conflicts_detected": conflicts.len(),
            "current_instance_id": view.viewpoint,
            "conflict_detection": settings.conflict_detection,
        },
        "archives": {"found": archives.len(), "unreadable": unreadable},
        "cache_performance": cache,
        "recommendations": recommendations,
        "warnings": warnings,
    })
}

/// `get_server_configuration` and `ozm config`.
pub fn configuration(view: &View) -> Value {
    let me = view.me();
    let daemon_wide = view.daemon_settings.daemon_wide();
    let mut warnings = Vec::new();
    if let Some(me) = &me {
        for (name, mine, daemons) in me.settings.daemon_wide_differences(view.daemon_settings) {
            warnings.push(format!(
                "this session asked for {name}={mine}, but the setting is daemon-wide: the \
                 daemon's {daemons} stands"
            ));
        }
    }
    let instances: Vec<Value> = view
        .shims()
        .iter()
        .map(|shim| {
            json!({"instance_id": shim.instance_id, "pid": shim.pid,
                   "server_name": shim.settings.server_name, "config_hash": shim.config_hash,
                   "settings": shim.settings})
        })
        .collect();
    json!({
        "configuration": me.as_ref().map(|me| json!({
            "instance_id": me.instance_id,
            "server_name": me.settings.server_name,
            "allowed_directories": display_all(&me.directories),
            "settings": me.settings,
            "config_hash": me.config_hash,
            "server_pid": view.info.pid,
        })),
        "daemon": {
            "pid": view.info.pid,
            "daemon_wide_settings": daemon_wide,
            "config_hash": view.daemon_settings.hash(&[]),
        },
        "instances": instances,
        "diagnostics": {
            "validation_status": if warnings.is_empty() { "ok" } else { "warning" },
            "warnings": warnings,
        },
        "timestamp": now_seconds(),
    })
}

/// `diagnose_server_state` and `ozm diagnose`.
pub fn diagnose(view: &View) -> Value {
    let conflicts = view.conflicts();
    let directories: Vec<PathBuf> = match view.me() {
        Some(me) => me.directories,
        None => view
            .shims()
            .into_iter()
            .flat_map(|s| s.directories)
            .collect(),
    };
    let mut checks = serde_json::Map::new();
    for directory in &directories {
        checks.insert(
            directory.display().to_string(),
            environment_check(directory, view.library),
        );
    }
    let status = match conflicts.iter().map(|c| c.severity).max_by_key(|s| rank(s)) {
        Some("high") => "error",
        Some(_) => "warning",
        None => "healthy",
    };
    json!({
        "status": status,
        "timestamp": now_seconds(),
        "server_info": {"pid": view.info.pid, "instance_id": view.viewpoint},
        "conflicts": conflicts,
        "environment_checks": checks,
        "recommendations": recommendations(&conflicts),
    })
}

/// `resolve_server_conflicts` and `ozm cleanup`: removes stale Python instance files and ends
/// orphaned shims of the caller's uid (root may end anyone's), or with `dry_run` says what it
/// would do.
pub fn cleanup(view: &View, dry_run: bool) -> Value {
    let caller_uid = view.caller.uid;
    let verb = |done: &str, would: &str| {
        if dry_run {
            would.to_owned()
        } else {
            done.to_owned()
        }
    };
    let mut actions = Vec::new();
    let mut files_cleaned = Vec::new();
    for file in view.python_files() {
        if file.state == FileState::Live {
            continue;
        }
        let path = file.path.display().to_string();
        if !view.caller.cleans_all && owner(&file.path) != Some(caller_uid) {
            actions.push(format!("left {path}: it belongs to another user"));
            continue;
        }
        if dry_run {
            actions.push(format!("would remove stale instance file {path}"));
            files_cleaned.push(path);
            continue;
        }
        match python_instances::remove_stale(&file) {
            Ok(Removal::Removed) => {
                actions.push(format!("removed stale instance file {path}"));
                files_cleaned.push(path);
            }
            Ok(Removal::NotAnInstanceFile) => {
                actions.push(format!("left {path}: not an instance file of openzim-mcp"));
            }
            Ok(Removal::StillLive) => actions.push(format!("left {path}: its server is running")),
            Ok(Removal::Changed) => {
                actions.push(format!("left {path}: it changed since it was checked"));
            }
            Err(error) => actions.push(format!("could not remove {path}: {error}")),
        }
    }
    let mut orphans_ended = Vec::new();
    for shim in view.shims() {
        let untracked = !shim.settings.tracking_enabled;
        if untracked || !shim.is_orphaned() || (caller_uid != 0 && caller_uid != shim.uid) {
            continue;
        }
        let Some(process) = &shim.process else {
            continue;
        };
        let ended = dry_run || process::terminate_exactly(process).unwrap_or(false);
        if ended {
            actions.push(format!(
                "{} orphaned shim {} (pid {})",
                verb("ended", "would end"),
                shim.instance_id,
                shim.pid
            ));
            orphans_ended.push(json!({"instance_id": shim.instance_id, "pid": shim.pid}));
        }
    }
    let removed_indexes = clean_indexes(view.library, caller_uid, dry_run, &mut actions);
    if !dry_run {
        for action in &actions {
            tracing::info!(caller_uid, action, "cleanup");
        }
    }
    json!({
        "timestamp": now_seconds(),
        "dry_run": dry_run,
        "actions_taken": actions,
        "cleanup_results": {
            "stale_instances_removed": files_cleaned.len(),
            "files_cleaned": files_cleaned,
            "orphans_ended": orphans_ended,
            "active_instances_found": view.shims().len(),
        },
        "removed_indexes": removed_indexes,
        "status": "success",
    })
}

/// Removes the own indexes of archives that are gone or were replaced. The cache is the
/// daemon's, so only its own user or root may clear it.
fn clean_indexes(
    library: &Library,
    caller_uid: u32,
    dry_run: bool,
    actions: &mut Vec<String>,
) -> Vec<Value> {
    if caller_uid != 0 && caller_uid != rustix::process::getuid().as_raw() {
        return Vec::new();
    }
    // An archive deleted or replaced on disk stays open until a tool names it: its index is
    // in use only while the file it is served from is still the same archive.
    let in_use: Vec<PathBuf> = library
        .all()
        .iter()
        .filter_map(|archive| {
            let directory = archive.open().ok()?.own.directory().to_path_buf();
            let still_there = match archive.parts.first() {
                Some(first) => first.exists(),
                None => crate::ownindex::store::key_of_file(&archive.path)
                    .is_some_and(|key| directory.ends_with(key)),
            };
            still_there.then_some(directory)
        })
        .collect();
    let root = &library.indexer().config().root;
    let mut removed = Vec::new();
    for stale in crate::ownindex::store::stale(root, &in_use) {
        let directory = stale.directory.display().to_string();
        let outcome = match (dry_run, stale.directory.is_dir()) {
            (true, _) => Ok(()),
            (false, true) => std::fs::remove_dir_all(&stale.directory),
            (false, false) => std::fs::remove_file(&stale.directory),
        };
        match outcome {
            Ok(()) => {
                actions.push(format!(
                    "{} the index {directory}: {}",
                    if dry_run { "would remove" } else { "removed" },
                    stale.reason
                ));
                removed.push(json!({"directory": directory,
                    "archive": stale.archive.display().to_string(), "reason": stale.reason}));
            }
            Err(error) => actions.push(format!("could not remove the index {directory}: {error}")),
        }
    }
    removed
}

/// The uid owning a file (not following a link).
fn owner(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|meta| meta.uid())
}

fn environment_check(directory: &Path, library: &Library) -> Value {
    let meta = std::fs::metadata(directory);
    let archives: Vec<_> = library
        .all()
        .into_iter()
        .filter(|archive| archive.path.starts_with(directory))
        .collect();
    let readable = archives.iter().filter(|a| a.open().is_ok()).count();
    json!({
        "exists": meta.is_ok(),
        "is_directory": meta.as_ref().is_ok_and(|m| m.is_dir()),
        "readable": std::fs::read_dir(directory).is_ok(),
        "zim_files_count": archives.len(),
        "zim_files_accessible": readable,
        "total_size_mb": archives.iter().map(|a| a.size_bytes).sum::<u64>() / 1_000_000,
    })
}

fn recommendations(conflicts: &[Conflict]) -> Vec<String> {
    let mut advice: Vec<String> = Vec::new();
    let mut add = |text: &str| {
        if !advice.iter().any(|a| a == text) {
            advice.push(text.to_owned());
        }
    };
    for conflict in conflicts {
        match conflict.kind {
            "configuration_mismatch" => add("give every client the same OPENZIM_MCP_CACHE__* \
                settings (or none): they are daemon-wide and the daemon's values stand"),
            "stale_instance" => add("run `ozm cleanup` to remove instance files left by the \
                Python openzim-mcp server"),
            "orphaned_instance" => add("run `ozm cleanup` to end shims whose AI client has exited"),
            "multiple_instances" => add("several clients serve the same directories; that is \
                fine through one daemon, but stop any Python openzim-mcp server still running"),
            "unresponsive_instance" => add("a shim stopped answering; it is dropped if it stays \
                silent, or restart its AI client"),
            _ => {}
        }
    }
    advice
}

fn rank(severity: &str) -> u8 {
    match severity {
        "high" => 3,
        "warning" => 2,
        "low" => 1,
        _ => 0,
    }
}

fn display_all(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

//! Conflicts between instances, computed from the registry and the Python server's instance
//! files whenever someone asks.
//!
//! A conflict is one pair; seen from an instance, `instance` is the other side. Directories
//! overlap when they are the same or one lies inside the other (they are canonical, so symlinks
//! are already resolved). What counts, and how severe it is, depends on the detection level:
//!
//! What each level reports (the README has the same as a table):
//!
//! - `configuration_mismatch` (overlapping instances whose daemon-wide settings differ): high at
//!   every level; strict counts any difference, moderate and relaxed only major ones
//!   (`cache_enabled`, `cache_max_bytes`).
//! - `multiple_instances` (other overlapping instances): warning under strict, info under
//!   moderate, and under relaxed only for identical directories (info), Python servers left out.
//!   Two HTTP sessions are never a pair: both are the daemon's own, over its directories with its
//!   settings, as the sessions of one Python HTTP server were one instance.
//! - `stale_instance` (a Python instance file whose process is gone or whose pid now names
//!   another program): low at every level.
//! - `orphaned_instance` (a shim whose AI client has died): high under strict, else warning.
//! - `unresponsive_instance` (a shim missing heartbeats): warning, not reported under relaxed.
//!
//! [`watch`] looks for them as clients come and go and logs each when it is found and settled.

mod watch;

pub use watch::watch;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::python_instances::{FileState, ScannedFile};
use crate::registry::{ShimRecord, Transport};
use crate::settings::{ConflictDetection, Settings};

/// One conflict, in the shape openzim-mcp's guide gives.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// `configuration_mismatch`, `multiple_instances`, `stale_instance`, `orphaned_instance` or
    /// `unresponsive_instance`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `high`, `warning`, `low` or `info`.
    pub severity: &'static str,
    /// The other side: pid, server_name, config_hash, directories (and instance_id for shims).
    pub instance: Value,
    /// The side the conflict is seen from, when it is not the caller itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<Value>,
    /// What is wrong, in words.
    pub details: String,
    /// For a mismatch: each setting that differs, what each side asked for and what stands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Value>,
}

/// Every conflict seen from `viewpoint` (a shim's instance id), or every conflict at all for
/// the operator (`None`), at the given detection level.
pub fn detect(
    shims: &[ShimRecord],
    python: &[ScannedFile],
    daemon: &Settings,
    level: ConflictDetection,
    viewpoint: Option<&str>,
) -> Vec<Conflict> {
    let tracked: Vec<&ShimRecord> = shims
        .iter()
        .filter(|s| s.settings.tracking_enabled)
        .collect();
    let mut found = Vec::new();
    for (i, a) in tracked.iter().enumerate() {
        for b in &tracked[i + 1..] {
            let (me, other) = match viewpoint {
                Some(id) if a.instance_id == id => (*a, *b),
                Some(id) if b.instance_id == id => (*b, *a),
                Some(_) => continue,
                None => (*a, *b),
            };
            if let Some(mut conflict) = pair(me, other, daemon, level) {
                if viewpoint.is_none() {
                    conflict.with = Some(describe_shim(me));
                }
                found.push(conflict);
            }
        }
    }
    for file in python {
        found.extend(python_file(file, tracked.iter().copied(), viewpoint, level));
    }
    for shim in &tracked {
        if viewpoint.is_some_and(|id| id != shim.instance_id) {
            continue;
        }
        found.extend(lonely(shim, level));
    }
    found
}

fn pair(
    me: &ShimRecord,
    other: &ShimRecord,
    daemon: &Settings,
    level: ConflictDetection,
) -> Option<Conflict> {
    let both_http = matches!(
        (me.transport, other.transport),
        (Transport::Http(_), Transport::Http(_))
    );
    if both_http || !overlap(&me.directories, &other.directories) {
        return None;
    }
    let differences: Vec<_> = me
        .settings
        .daemon_wide_differences(&other.settings)
        .into_iter()
        .filter(|(name, _, _)| level == ConflictDetection::Strict || Settings::is_major(name))
        .collect();
    if !differences.is_empty() {
        let stands = daemon.daemon_wide();
        let names: Vec<&str> = differences.iter().map(|(name, _, _)| *name).collect();
        return Some(Conflict {
            kind: "configuration_mismatch",
            severity: "high",
            instance: describe_shim(other),
            with: None,
            details: format!(
                "instances over the same directories ask for different daemon-wide settings \
                 ({}); the daemon's values stand",
                names.join(", ")
            ),
            differences: differences
                .into_iter()
                .map(|(name, mine, theirs)| {
                    json!({"setting": name, "this_instance": mine, "other_instance": theirs,
                           "daemon_uses": stands.get(name)})
                })
                .collect(),
        });
    }
    let severity = match level {
        ConflictDetection::Strict => "warning",
        ConflictDetection::Moderate => "info",
        ConflictDetection::Relaxed if same_directories(me, other) => "info",
        ConflictDetection::Relaxed => return None,
    };
    Some(Conflict {
        kind: "multiple_instances",
        severity,
        instance: describe_shim(other),
        with: None,
        details: "another instance serves overlapping directories through the same daemon; \
                  both share its archives and caches, so this is harmless unless unintended"
            .into(),
        differences: Vec::new(),
    })
}

fn python_file<'a>(
    scanned: &ScannedFile,
    shims: impl Iterator<Item = &'a ShimRecord>,
    viewpoint: Option<&str>,
    level: ConflictDetection,
) -> Vec<Conflict> {
    let state = &scanned.state;
    let file = scanned.instance.as_ref();
    let instance = json!({
        "pid": file.map(|f| f.pid),
        "server_name": file.map(|f| f.server_name.as_str()),
        "config_hash": file.map(|f| f.config_hash.as_str()),
        "directories": file.map(|f| f.allowed_directories.clone()),
        "instance_file": scanned.path.display().to_string(),
    });
    let Some(file) = file.filter(|_| *state == FileState::Live) else {
        // A stale file concerns everyone equally; from a shim's view it is listed once.
        return vec![Conflict {
            kind: "stale_instance",
            severity: "low",
            instance,
            with: None,
            details: match state {
                FileState::Gone => "the Python server that wrote this file is gone".into(),
                FileState::PidReused { now } => {
                    format!("the file's pid now belongs to another program ({now})")
                }
                FileState::Unreadable { reason } => format!("the file cannot be read: {reason}"),
                FileState::Live => "the file cannot be read".into(),
            },
            differences: Vec::new(),
        }];
    };
    let directories: Vec<PathBuf> = file
        .allowed_directories
        .iter()
        .map(|dir| std::fs::canonicalize(dir).unwrap_or_else(|_| PathBuf::from(dir)))
        .collect();
    shims
        .filter(|shim| viewpoint.is_none_or(|id| id == shim.instance_id))
        .filter(|shim| overlap(&shim.directories, &directories))
        .filter(|_| level != ConflictDetection::Relaxed)
        .map(|shim| Conflict {
            kind: "multiple_instances",
            severity: if level == ConflictDetection::Strict {
                "warning"
            } else {
                "info"
            },
            instance: instance.clone(),
            with: viewpoint.is_none().then(|| describe_shim(shim)),
            details: "a Python openzim-mcp server also serves these directories, with its own \
                      copies of the archives in memory"
                .into(),
            differences: Vec::new(),
        })
        .collect()
}

/// Conflicts of one shim on its own: orphaned or unresponsive.
fn lonely(shim: &ShimRecord, level: ConflictDetection) -> Vec<Conflict> {
    let mut found = Vec::new();
    if shim.is_orphaned() {
        found.push(Conflict {
            kind: "orphaned_instance",
            severity: if level == ConflictDetection::Strict {
                "high"
            } else {
                "warning"
            },
            instance: describe_shim(shim),
            with: None,
            details: "the AI client that launched this shim has exited, but the shim still runs; \
                      `ozm cleanup` ends it"
                .into(),
            differences: Vec::new(),
        });
    }
    if !shim.responsive && level != ConflictDetection::Relaxed {
        found.push(Conflict {
            kind: "unresponsive_instance",
            severity: "warning",
            instance: describe_shim(shim),
            with: None,
            details: "the shim does not answer heartbeats; it is dropped if it stays silent".into(),
            differences: Vec::new(),
        });
    }
    found
}

/// The fields of an instance a conflict shows.
pub fn describe_shim(shim: &ShimRecord) -> Value {
    json!({
        "instance_id": shim.instance_id,
        "pid": shim.pid,
        "server_name": shim.settings.server_name,
        "config_hash": shim.config_hash,
        "directories": shim.directories.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
    })
}

/// Whether two sets of directories share any: the same directory or one inside another.
pub fn overlap(a: &[PathBuf], b: &[PathBuf]) -> bool {
    a.iter().any(|x| b.iter().any(|y| nested(x, y)))
}

fn nested(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn same_directories(a: &ShimRecord, b: &ShimRecord) -> bool {
    let mut x = a.directories.clone();
    let mut y = b.directories.clone();
    x.sort();
    y.sort();
    x == y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_overlap_when_equal_or_nested_only() {
        let p = |s: &str| vec![PathBuf::from(s)];
        assert!(overlap(&p("/z"), &p("/z")));
        assert!(overlap(&p("/z"), &p("/z/wiki")));
        assert!(overlap(&p("/z/wiki"), &p("/z")));
        assert!(!overlap(&p("/z/wiki"), &p("/z/wikibooks")));
        assert!(!overlap(&p("/a"), &p("/b")));
    }
}

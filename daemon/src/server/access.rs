//! Who may connect, who sees what, and which directories a shim may ask for.
//!
//! A user's daemon serves its own user (and root): any other peer is refused at the handshake.
//! In system mode the socket's mode and group decide who connects (the kernel refuses the
//! others), every directory a shim asks for must lie under a root of the config file, and a
//! user's reports show its own instances only (see [`crate::instances`]).

use std::path::{Component, Path, PathBuf};

use super::Daemon;
use crate::config;
use crate::instances::Caller;

/// Why a user's daemon refuses a peer of `uid`: it serves its own user and root only. In system
/// mode the socket's permissions have already let only the service's users through.
pub(super) fn foreign_user(daemon: &Daemon, uid: u32) -> Option<String> {
    let own_uid = rustix::process::geteuid().as_raw();
    let foreign = !daemon.system && uid != own_uid && uid != 0;
    foreign.then(|| format!("this ozmd belongs to uid {own_uid}; start your own daemon"))
}

impl Daemon {
    /// Who a peer is to the reports: in system mode a user sees its own instances only, unless
    /// it is root or the service's own user. Membership of the socket's group is what lets a
    /// user connect at all, so it grants no wider view.
    pub fn caller(&self, uid: u32) -> Caller {
        let service_uid = rustix::process::geteuid().as_raw();
        Caller {
            uid,
            sees_all: !self.system || uid == 0 || uid == service_uid,
            cleans_all: !self.system || uid == 0,
        }
    }
}

/// Resolves a shim's directories, refusing any that `allowed` refuses (the roots, in system
/// mode), then any that is missing or not a directory. `allowed` sees the resolved path, or, when
/// the directory cannot be resolved, the path as written with `..` taken lexically: a directory
/// outside the roots is refused as such whether or not it exists, so that the refusal says what
/// matters and tells nothing of what lies outside.
pub(super) fn canonical_directories(
    requested: &[String],
    allowed: impl Fn(&Path) -> Result<(), String>,
) -> Result<Vec<PathBuf>, String> {
    if requested.is_empty() {
        return Err("no directory given: run `ozm mcp DIR…` with the directories to serve".into());
    }
    requested
        .iter()
        .map(|dir| match std::fs::canonicalize(dir) {
            Ok(path) => {
                allowed(&path)?;
                if path.is_dir() {
                    Ok(path)
                } else {
                    Err(format!("{dir} is not a directory"))
                }
            }
            Err(error) => {
                allowed(&lexical(Path::new(dir)))?;
                Err(format!("cannot use directory {dir}: {error}"))
            }
        })
        .collect()
}

/// `path` made absolute, with `.` and `..` taken as written (no symlink resolved).
fn lexical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// In system mode, each directory must lie under one of the roots, both canonical (symlinks
/// resolved), so that a link inside a root cannot lead a shim elsewhere.
pub(crate) fn within_roots(
    directories: &[PathBuf],
    roots: &[PathBuf],
    file: Option<&config::Source>,
) -> Result<(), String> {
    let file = file.map_or_else(
        || "the daemon's config file (ozmd --config)".to_owned(),
        |source| source.path.display().to_string(),
    );
    if roots.is_empty() {
        return Err(format!(
            "this ozmd serves no directories: no roots are configured; ask the operator to add \
             roots = [\"/srv/zim\", …] to {file} and reload ozmd"
        ));
    }
    // A resolved directory has no link in it, so it can lie under a root as written only when
    // that root has none either; a path taken as written may name a root through its link.
    let canonical: Vec<PathBuf> = roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .chain(roots.iter().cloned())
        .collect();
    let outside = directories
        .iter()
        .find(|dir| !canonical.iter().any(|root| dir.starts_with(root)));
    match outside {
        None => Ok(()),
        Some(dir) => {
            let listed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            Err(format!(
                "{} is not under the roots this ozmd serves ({}); ask the operator to add it to \
                 roots in {file}",
                dir.display(),
                listed.join(", ")
            ))
        }
    }
}

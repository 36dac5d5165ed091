//! Finding archives under a directory.
//!
//! The walk follows no symlinked directory (so it cannot loop), and a symlinked file counts only
//! if its target lies inside the directory being scanned: a link pointing elsewhere would let a
//! session read files outside the directories it was given.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

/// How deep below a directory archives are looked for.
const MAX_DEPTH: usize = 8;

/// An archive found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// The canonical path; `foo.zim` for a split set.
    pub path: PathBuf,
    /// The parts of a split set, in order; empty for a single file.
    pub parts: Vec<PathBuf>,
    /// The size of all parts together.
    pub size_bytes: u64,
}

/// Every archive under `directory` (which must be canonical), in path order.
pub(super) fn scan(directory: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    walk(directory, directory, 0, &mut found);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn walk(root: &Path, directory: &Path, depth: usize, found: &mut Vec<Found>) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            warn!(directory = %directory.display(), %error, "cannot list directory");
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &path, depth + 1, found);
            }
            continue;
        }
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            let raw = path.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
            if raw.ends_with(b".zim") || raw.ends_with(b".zimaa") {
                // Archives are named to clients by their paths, as UTF-8 text.
                warn!(path = %path.display(),
                    "skipping an archive whose file name is not UTF-8: rename it to serve it");
            }
            continue;
        };
        // Other files, and links such as `latest -> 2024/`, are none of the library's business.
        if !(name.ends_with(".zim") || name.ends_with(".zimaa")) {
            continue;
        }
        if let Some(archive) = archive_at(root, &path, name) {
            found.push(archive);
        }
    }
}

fn archive_at(root: &Path, path: &Path, name: &str) -> Option<Found> {
    let canonical = match std::fs::canonicalize(path) {
        Ok(canonical) => canonical,
        Err(error) => {
            debug!(path = %path.display(), %error, "skipping unresolvable file");
            return None;
        }
    };
    if !canonical.starts_with(root) {
        warn!(path = %path.display(), target = %canonical.display(),
            "skipping a link that points outside the directory");
        return None;
    }
    // A named pipe or device called `foo.zim` would block whoever opens it.
    if !std::fs::metadata(&canonical).is_ok_and(|meta| meta.is_file()) {
        warn!(path = %path.display(),
            "skipping something named like an archive that is not a regular file");
        return None;
    }
    if name.ends_with(".zim") {
        let size_bytes = std::fs::metadata(&canonical).ok()?.len();
        return Some(Found {
            path: canonical,
            parts: Vec::new(),
            size_bytes,
        });
    }
    let stem = name.strip_suffix(".zimaa")?;
    // A whole file of the same name takes precedence over parts, as libzim does.
    let set = canonical.with_file_name(format!("{stem}.zim"));
    if set.exists() {
        return None;
    }
    let parts = split_parts(&canonical)?;
    let size_bytes = parts
        .iter()
        .filter_map(|part| std::fs::metadata(part).ok())
        .map(|m| m.len());
    Some(Found {
        size_bytes: size_bytes.sum(),
        path: set,
        parts,
    })
}

/// The archive at `path` alone: `foo.zim`, or a split set named by `foo.zim` or any of its
/// parts; `None` for anything else.
pub(super) fn single(path: &Path) -> Option<Found> {
    let name = path.file_name()?.to_str()?;
    let first_part = match name.rsplit_once(".zim") {
        Some((stem, part)) if part.len() == 2 && part.chars().all(|c| c.is_ascii_lowercase()) => {
            path.with_file_name(format!("{stem}.zimaa"))
        }
        Some((stem, "")) if !path.exists() => path.with_file_name(format!("{stem}.zimaa")),
        _ => path.to_path_buf(),
    };
    let canonical = std::fs::canonicalize(&first_part).ok()?;
    let name = canonical.file_name()?.to_str()?.to_owned();
    archive_at(canonical.parent()?, &canonical, &name)
}

/// `foo.zimaa`, `foo.zimab`, … up to the first missing one.
pub(super) fn split_parts(first: &Path) -> Option<Vec<PathBuf>> {
    let parts = part_names(first)?
        .take_while(|part| part.is_file())
        .collect();
    Some(parts)
}

/// The first part of the split set starting at `first` that is missing while a later one is
/// there (`foo.zimab` deleted, `foo.zimac` still present), which is why such a set cannot be
/// read; `None` when the parts are contiguous.
pub(super) fn missing_part(first: &Path) -> Option<PathBuf> {
    let mut names = part_names(first)?.skip_while(|part| part.is_file());
    let missing = names.next()?;
    names.any(|part| part.is_file()).then_some(missing)
}

/// Every possible part name of a split set, `foo.zimaa` to `foo.zimzz`, in order.
fn part_names(first: &Path) -> Option<impl Iterator<Item = PathBuf>> {
    let base = first.to_str()?.strip_suffix("aa")?.to_owned();
    let names = ('a'..='z').flat_map(move |a| {
        let base = base.clone();
        ('a'..='z').map(move |b| PathBuf::from(format!("{base}{a}{b}")))
    });
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sets_count_once_and_partial_downloads_and_pipes_are_skipped() {
        let dir = std::env::temp_dir().join(format!("ozm-scan-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for name in [
            "a.zim",
            "b.zimaa",
            "b.zimab",
            "c.zim.part",
            "sub/d.zim",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        // A named pipe must be skipped without being opened, or the scan would block.
        let fifo = std::process::Command::new("mkfifo")
            .arg(dir.join("pipe.zim"))
            .status();
        assert!(fifo.is_ok_and(|status| status.success()));
        let dir = std::fs::canonicalize(&dir).unwrap();
        let found = scan(&dir);
        let names: Vec<_> = found
            .iter()
            .map(|f| f.path.strip_prefix(&dir).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                Path::new("a.zim"),
                Path::new("b.zim"),
                Path::new("sub/d.zim")
            ]
        );
        assert_eq!(found[1].parts.len(), 2);
        assert_eq!(found[1].size_bytes, 2);
        assert_eq!(missing_part(&dir.join("b.zimaa")), None);
        std::fs::write(dir.join("b.zimad"), b"x").unwrap();
        assert_eq!(
            missing_part(&dir.join("b.zimaa")),
            Some(dir.join("b.zimac"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

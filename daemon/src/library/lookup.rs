//! Resolving the `zim_file_path` a tool call gives to one archive a session may read.
//!
//! A session may read only archives inside its own directories. It names one by an absolute
//! path inside them, by its path relative to the directory holding it, or by its bare file name
//! when that is unique (in any case, `.zim` optional). For a split set, `foo.zim` and the name
//! of any part work. Anything else, `..` and absolute paths elsewhere included, is refused.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::{Library, LibraryArchive};

/// Why a `zim_file_path` names no archive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The path was empty.
    #[error("zim_file_path is empty: give an archive's file name or path")]
    Empty,
    /// The path leads outside the session's directories.
    #[error("access denied: {0} is outside the directories this server was given")]
    Outside(String),
    /// Nothing matches.
    #[error("no archive named {requested}; available: {}", available.join(", "))]
    NotFound {
        /// What was asked for.
        requested: String,
        /// The names that would work.
        available: Vec<String>,
    },
    /// Several archives share the name.
    #[error("{requested} is ambiguous; give one of: {}", candidates.join(", "))]
    Ambiguous {
        /// What was asked for.
        requested: String,
        /// The names that would work.
        candidates: Vec<String>,
    },
}

pub(super) fn lookup(
    library: &Library,
    directories: &[PathBuf],
    requested: &str,
) -> Result<(String, Arc<LibraryArchive>), LookupError> {
    let requested = requested.trim();
    if requested.is_empty() {
        return Err(LookupError::Empty);
    }
    let normalised = set_name(requested);
    let path = Path::new(&normalised);
    if path.components().any(|part| part == Component::ParentDir) {
        return Err(LookupError::Outside(requested.to_owned()));
    }
    if path.is_absolute() {
        let canonical = canonical_archive_path(path);
        let inside = canonical
            .as_ref()
            .is_some_and(|canonical| directories.iter().any(|dir| canonical.starts_with(dir)));
        if !inside {
            return Err(LookupError::Outside(requested.to_owned()));
        }
        let found = canonical.and_then(|canonical| library.get(&canonical));
        return found
            .and_then(|archive| name_within(&archive.path, directories).map(|n| (n, archive)))
            .ok_or_else(|| not_found(library, directories, requested));
    }

    // The usual case costs one map lookup per directory; only a bare file name that is not at
    // the top of a directory is looked for among every archive.
    let mut matches: Vec<(String, Arc<LibraryArchive>)> = Vec::new();
    for directory in directories {
        // `withns/small.zim`: a name labelled with its directory, given when two directories
        // hold the same file name (see `name_within`).
        let labelled = directory
            .file_name()
            .and_then(|label| path.strip_prefix(label).ok())
            .filter(|rest| !rest.as_os_str().is_empty());
        let found = library
            .get(&directory.join(path))
            .or_else(|| labelled.and_then(|rest| library.get(&directory.join(rest))));
        let Some(archive) = found else {
            continue;
        };
        if !matches.iter().any(|(_, found)| found.path == archive.path)
            && let Some(name) = name_within(&archive.path, directories)
        {
            matches.push((name, archive));
        }
    }
    if matches.is_empty() && path.components().count() == 1 {
        let visible = library.visible_from(directories);
        matches = visible
            .iter()
            .filter(|(_, archive)| archive.path.file_name() == path.file_name())
            .cloned()
            .collect();
        if matches.is_empty() {
            // `ZIMFILE.zim` or `zimfile`: how people (and models) write a name they read.
            let wanted = normalised.to_lowercase();
            matches = visible
                .into_iter()
                .filter(|(_, archive)| {
                    let lower = |part: Option<&std::ffi::OsStr>| {
                        part.map(|p| p.to_string_lossy().to_lowercase())
                    };
                    lower(archive.path.file_name()).as_ref() == Some(&wanted)
                        || lower(archive.path.file_stem()).as_ref() == Some(&wanted)
                })
                .collect();
        }
    }
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(not_found(library, directories, requested)),
        _ => Err(LookupError::Ambiguous {
            requested: requested.to_owned(),
            candidates: matches.into_iter().map(|(name, _)| name).collect(),
        }),
    }
}

/// The name of an archive seen from `directories`: its shortest path relative to one of them,
/// unless another of them holds a file of that name too; then that path labelled with its
/// directory's name (`withns/small.zim`), or, if that is not unique either, its absolute path.
pub(super) fn name_within(path: &Path, directories: &[PathBuf]) -> Option<String> {
    let (directory, relative) = directories
        .iter()
        .filter_map(|dir| path.strip_prefix(dir).ok().map(|relative| (dir, relative)))
        .min_by_key(|(_, relative)| relative.as_os_str().len())?;
    let taken = |name: &Path| {
        directories
            .iter()
            .any(|other| other != directory && other.join(name).exists())
    };
    if directories.len() == 1 || !taken(relative) {
        return Some(relative.to_string_lossy().into_owned());
    }
    let label = directory.file_name()?;
    let labelled = Path::new(label).join(relative);
    let label_unique = directories
        .iter()
        .filter(|dir| dir.file_name() == Some(label))
        .count()
        == 1;
    Some(if label_unique && !taken(&labelled) {
        labelled.to_string_lossy().into_owned()
    } else {
        path.to_string_lossy().into_owned()
    })
}

/// Names listed when nothing matches; zim_health lists them all.
const AVAILABLE_LISTED: usize = 50;

pub(super) fn not_found(
    library: &Library,
    directories: &[PathBuf],
    requested: &str,
) -> LookupError {
    let visible = library.visible_from(directories);
    let mut available: Vec<String> = visible
        .iter()
        .take(AVAILABLE_LISTED)
        .map(|(name, _)| name.clone())
        .collect();
    if visible.len() > AVAILABLE_LISTED {
        available.push(format!(
            "… and {} more (zim_health lists them all)",
            visible.len() - AVAILABLE_LISTED
        ));
    }
    LookupError::NotFound {
        requested: requested.to_owned(),
        available,
    }
}

/// `foo.zimab` names the set `foo.zim`.
fn set_name(requested: &str) -> String {
    let bytes = requested.as_bytes();
    let is_part = bytes.len() > 6
        && requested.is_char_boundary(bytes.len() - 2)
        && requested[..bytes.len() - 2].ends_with(".zim")
        && bytes[bytes.len() - 2..].iter().all(u8::is_ascii_lowercase);
    if is_part {
        requested[..bytes.len() - 2].to_owned()
    } else {
        requested.to_owned()
    }
}

/// Canonicalises an archive path whose file may not exist (a split set's `foo.zim`).
fn canonical_archive_path(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return Some(canonical);
    }
    let parent = std::fs::canonicalize(path.parent()?).ok()?;
    Some(parent.join(path.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::set_name;

    #[test]
    fn part_names_map_to_their_set() {
        assert_eq!(set_name("books/wiki.zimab"), "books/wiki.zim");
        assert_eq!(set_name("wiki.zim"), "wiki.zim");
        assert_eq!(set_name("wiki.zimXY"), "wiki.zimXY");
    }
}

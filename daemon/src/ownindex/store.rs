//! Where ozm's own indexes live on disk, and how a build becomes an index atomically.
//!
//! Each archive gets a directory under `<cache>/indexes/` named by its UUID, the MD5 its header
//! records and its size: archives that share a UUID (some carry all zeros) still get their own,
//! and a replaced file gets a new one. Inside, `archive.json` names the archive (for cleanup),
//! `titles-1.fst` is the folded title index, written to a temporary name and renamed, and
//! `fulltext-1/` is the full-text index, built as `fulltext-1.partial-<pid>/` and renamed when
//! complete. `links-1.graph` is the link graph, written like the title index (its sorted chunks
//! are partial files too). A build cut short by a crash or kill thus leaves only partial files,
//! which no reader opens and the next build removes. The numbers are format versions: an ozm
//! that changes a format changes its number and builds anew.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::Archive;

/// The complete full-text index of a key directory.
pub const FULLTEXT: &str = "fulltext-1";
/// The title index of a key directory.
pub const TITLES: &str = "titles-1.fst";
/// The link graph of a key directory.
pub const LINKS: &str = "links-1.graph";
/// What a key directory says about its archive.
const ARCHIVE_FILE: &str = "archive.json";

/// The directory of one archive's indexes.
#[derive(Clone, Debug)]
pub struct KeyDir {
    /// `<cache>/indexes/<key>`.
    pub path: PathBuf,
}

/// What `archive.json` holds.
#[derive(Serialize, Deserialize)]
pub struct ArchiveRecord {
    /// The archive's path when the directory was made.
    pub archive: PathBuf,
    /// The key, as the directory is named.
    pub key: String,
}

/// The name of an archive's directory: UUID, header MD5 and size, in hex and decimal.
pub fn key(archive: &Archive) -> String {
    format!(
        "{}-{}-{}",
        archive.uuid().replace('-', ""),
        archive.stored_checksum_hex(),
        archive.file_size()
    )
}

impl KeyDir {
    /// The directory for `archive` under `root` (`<cache>/indexes`); nothing is created yet.
    pub fn of(root: &Path, archive: &Archive) -> KeyDir {
        KeyDir {
            path: root.join(key(archive)),
        }
    }

    /// Creates the directory and its `archive.json`, if missing.
    pub fn create(&self, archive: &Path) -> std::io::Result<()> {
        // A title build in a search's time and a full-text build may both get here first.
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _creating = CREATING.lock().unwrap_or_else(|poison| poison.into_inner());
        std::fs::create_dir_all(&self.path)?;
        let record = self.path.join(ARCHIVE_FILE);
        if record.exists() {
            return Ok(());
        }
        let key = self
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = serde_json::to_vec_pretty(&ArchiveRecord {
            archive: archive.to_path_buf(),
            key,
        })?;
        write_atomically(&record, &text)
    }

    /// The complete full-text index, if one was built.
    pub fn fulltext(&self) -> Option<PathBuf> {
        let path = self.path.join(FULLTEXT);
        path.is_dir().then_some(path)
    }

    /// A fresh directory for a full-text build by this process; partial builds left by
    /// processes that are gone are removed first.
    pub fn start_fulltext_build(&self) -> std::io::Result<PathBuf> {
        remove_stale_partials(&self.path);
        let partial = self
            .path
            .join(format!("{FULLTEXT}.partial-{}", std::process::id()));
        if partial.exists() {
            std::fs::remove_dir_all(&partial)?;
        }
        std::fs::create_dir_all(&partial)?;
        Ok(partial)
    }

    /// Makes a finished build the complete index, in one rename.
    pub fn publish_fulltext(&self, partial: &Path) -> std::io::Result<PathBuf> {
        let done = self.path.join(FULLTEXT);
        std::fs::rename(partial, &done)?;
        sync_dir(&self.path);
        Ok(done)
    }
}

/// Partial builds in `dir` whose process is gone (killed, crashed): nothing will finish them.
pub fn stale_partials(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    listing
        .flatten()
        .filter(|item| {
            let name = item.file_name().to_string_lossy().into_owned();
            let Some((_, pid)) = name.split_once(".partial-") else {
                return false;
            };
            // This process's own builds are its caller's business.
            let owner = pid.parse::<u32>().ok();
            let ours = owner == Some(std::process::id());
            let alive = owner.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            !ours && !alive
        })
        .map(|item| item.path())
        .collect()
}

/// Removes the partial builds in `dir` whose process is gone; returns those removed.
pub fn remove_stale_partials(dir: &Path) -> Vec<PathBuf> {
    stale_partials(dir)
        .into_iter()
        .filter(|path| {
            let outcome = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
            outcome.is_ok()
        })
        .collect()
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers see all or nothing.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = partial_file(path);
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// The temporary name a file is written under by this process.
pub fn partial_file(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

/// Makes a rename in `dir` durable; a failure only weakens crash safety, so it is ignored.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Bytes used by the files under `path`.
pub fn size_on_disk(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|listing| {
            listing
                .flatten()
                .map(|item| size_on_disk(&item.path()))
                .sum()
        })
        .unwrap_or(0)
}

/// Below this much free space, a failed build is taken to have run out of it.
pub const LOW_SPACE_BYTES: u64 = 16 << 20;

/// Bytes free for this user on the file system holding `path`.
pub fn space_left(path: &Path) -> Option<u64> {
    let stats = rustix::fs::statvfs(path).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Every key directory under `root`, with the archive it records.
pub fn key_dirs(root: &Path) -> Vec<(PathBuf, Option<ArchiveRecord>)> {
    let Ok(listing) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    listing
        .flatten()
        .filter(|item| item.path().is_dir())
        .map(|item| {
            let record = std::fs::read(item.path().join(ARCHIVE_FILE))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            (item.path(), record)
        })
        .collect()
}

/// An index directory that `ozm cleanup` removes, and why.
pub struct StaleIndex {
    /// The key directory.
    pub directory: PathBuf,
    /// The archive it was built for.
    pub archive: PathBuf,
    /// Why it is no longer wanted.
    pub reason: &'static str,
}

/// Index directories under `root` whose archive is gone or was replaced by another file, and
/// unfinished builds of processes that are gone; directories in `in_use` (those of archives
/// being served) are never listed whole.
pub fn stale(root: &Path, in_use: &[PathBuf]) -> Vec<StaleIndex> {
    let mut stale = Vec::new();
    for (directory, record) in key_dirs(root) {
        let Some(record) = record else { continue };
        let gone = if in_use.contains(&directory) {
            None
        } else if record.archive.exists() {
            key_of_file(&record.archive)
                .is_some_and(|key| key != record.key)
                .then_some("its archive was replaced by another file")
        } else if split_set_exists(&record.archive) {
            None
        } else {
            Some("its archive is gone")
        };
        if let Some(reason) = gone {
            stale.push(StaleIndex {
                directory,
                archive: record.archive,
                reason,
            });
            continue;
        }
        for partial in stale_partials(&directory) {
            stale.push(StaleIndex {
                directory: partial,
                archive: record.archive.clone(),
                reason: "an unfinished build of a daemon that is gone",
            });
        }
    }
    stale
}

/// Whether `foo.zim` names a split set whose first part `foo.zimaa` exists.
fn split_set_exists(path: &Path) -> bool {
    let mut first = path.as_os_str().to_os_string();
    first.push("aa");
    Path::new(&first).exists()
}

/// The key of the single-file archive at `path`, read from its header, as [`key`] makes it.
pub fn key_of_file(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let mut header = [0u8; 80];
    file.read_exact(&mut header).ok()?;
    let checksum_pos = u64::from_le_bytes(header[72..80].try_into().ok()?);
    let mut checksum = [0u8; 16];
    file.seek(SeekFrom::Start(checksum_pos)).ok()?;
    file.read_exact(&mut checksum).ok()?;
    Some(format!("{}-{}-{size}", hex(&header[8..24]), hex(&checksum)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

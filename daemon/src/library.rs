//! The archives the daemon serves: found under the directories shims ask for, opened once and
//! shared by every session.
//!
//! A directory is scanned when the first shim naming it connects. Single files (`foo.zim`) and
//! split sets (`foo.zimaa`, `foo.zimab`, … known together as `foo.zim`) count as one archive
//! each; anything else, such as a `*.part` download, is skipped. Each archive is opened at once
//! (opening maps the file and reads a few tables, well under a millisecond); one that cannot be
//! read is kept in the list with the reason. MD5 checksums are verified afterwards by one
//! background thread at the lowest priority, one archive at a time, and a mismatch marks the
//! archive damaged.
//!
//! Whenever a tool names an archive, its files are compared (device, inode, size, modification
//! time) with what was opened: a file replaced by rename is opened anew, a deleted one is no
//! longer served. Directories are scanned when first asked for and again on SIGHUP
//! ([`Library::rescan`]): a file copied in later is seen from then on, and every archive is
//! compared with its files, so those deleted leave the lists.

mod lookup;
mod rescan;
mod scan;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, mpsc};

use tokio::sync::OnceCell;
use tracing::{debug, info, warn};

use crate::archive::clusters::ClusterCache;
use crate::archive::{Archive, ArchiveError};
use crate::fulltext::embedded::EmbeddedIndexes;
use crate::ownindex::{Indexer, OwnIndexes};
use crate::rendered::RenderedCache;

pub use lookup::LookupError;
pub use rescan::Rescan;

/// An archive that opened, with what sessions build on it.
pub struct OpenArchive {
    /// The archive itself.
    pub archive: Archive,
    /// The Xapian indexes it carries, examined on first search.
    pub indexes: EmbeddedIndexes,
    /// Whether it is a split set (`foo.zimaa`, `foo.zimab`, …).
    pub split: bool,
    /// ozm's own indexes of it, shared with its copies.
    pub own: Arc<OwnIndexes>,
}

/// Where the MD5 verification of an archive stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// Not verified yet.
    Pending,
    /// Not verified, because the archive cannot be opened at all.
    Unchecked,
    /// The stored checksum matches the file.
    Valid,
    /// The stored checksum does not match, or could not be computed: the file is damaged.
    Damaged(String),
}

/// One archive of the library, readable or not.
pub struct LibraryArchive {
    /// Its canonical path; `foo.zim` for a split set.
    pub path: PathBuf,
    /// Its part files, in order, for a split set; empty for a single file.
    pub parts: Vec<PathBuf>,
    /// Its size in bytes, all parts together.
    pub size_bytes: u64,
    /// What its files were when it was opened, to notice a replaced or deleted file.
    fingerprint: Option<Vec<FileStamp>>,
    opened: Result<Arc<OpenArchive>, String>,
    checksum: Mutex<Checksum>,
}

impl LibraryArchive {
    /// The open archive, or why it cannot be served.
    pub fn open(&self) -> Result<Arc<OpenArchive>, String> {
        let opened = self.opened.clone()?;
        match &*self
            .checksum
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            Checksum::Damaged(reason) => Err(reason.clone()),
            _ => Ok(opened),
        }
    }

    /// Where its checksum verification stands.
    pub fn checksum(&self) -> Checksum {
        self.checksum
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Whether it was found as a split set.
    pub fn is_split(&self) -> bool {
        !self.parts.is_empty()
    }

    fn set_checksum(&self, state: Checksum) {
        *self
            .checksum
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = state;
    }
}

/// Every archive found so far, by canonical path.
pub struct Library {
    clusters: Arc<ClusterCache>,
    rendered: RwLock<Arc<RenderedCache>>,
    archives: RwLock<BTreeMap<PathBuf, Arc<LibraryArchive>>>,
    scanned: Mutex<HashMap<PathBuf, Arc<OnceCell<()>>>>,
    checksum_queue: mpsc::Sender<Arc<LibraryArchive>>,
    indexer: Arc<Indexer>,
}

impl Library {
    /// An empty library, with the thread that verifies checksums.
    pub fn new(
        clusters: Arc<ClusterCache>,
        rendered: RenderedCache,
        indexer: Arc<Indexer>,
    ) -> Arc<Library> {
        let (checksum_queue, queue) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("ozm-checksums".into())
            .spawn(move || verify_checksums(queue));
        if let Err(error) = spawned {
            warn!(%error, "cannot start the checksum thread; archives stay unverified");
        }
        Arc::new(Library {
            clusters,
            rendered: RwLock::new(Arc::new(rendered)),
            archives: RwLock::default(),
            scanned: Mutex::default(),
            checksum_queue,
            indexer,
        })
    }

    /// The shared cache of articles rendered as Markdown.
    pub fn rendered(&self) -> Arc<RenderedCache> {
        Arc::clone(
            &self
                .rendered
                .read()
                .unwrap_or_else(|poison| poison.into_inner()),
        )
    }

    /// Puts a new cache of rendered articles in place of the current one, which is dropped
    /// with its entries once the answers reading it are done: its size and lifetime are fixed
    /// when it is made.
    pub fn replace_rendered(&self, rendered: RenderedCache) {
        *self
            .rendered
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = Arc::new(rendered);
    }

    /// The builder of ozm's own indexes.
    pub fn indexer(&self) -> &Indexer {
        &self.indexer
    }

    /// The shared cluster cache.
    pub fn clusters(&self) -> &ClusterCache {
        &self.clusters
    }

    /// Scans the directories not scanned before and opens what they hold. A shim naming a
    /// directory that another shim's scan is still reading waits for that scan, so every shim
    /// sees the whole directory.
    pub async fn add_directories(self: &Arc<Self>, directories: &[PathBuf]) {
        for directory in directories {
            let scan = Arc::clone(
                self.scanned
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .entry(directory.clone())
                    .or_default(),
            );
            scan.get_or_init(|| async {
                let library = Arc::clone(self);
                let scanned = directory.clone();
                let found =
                    tokio::task::spawn_blocking(move || library.scan_and_open(&scanned)).await;
                match found {
                    Ok((total, found)) => {
                        info!(directory = %directory.display(), archives = total, new = found.len(),
                            "directory scanned");
                        for archive in found {
                            let _ = self.checksum_queue.send(archive);
                        }
                    }
                    Err(error) => warn!(%error, "scanning a directory failed"),
                }
            })
            .await;
        }
    }

    /// The archive at `path` (`foo.zim`, or a split set named by any of its parts), opened and
    /// added to the library if it was not known; `None` if the path names no archive. Only that
    /// file is looked at, not its directory.
    pub fn add_archive(&self, path: &Path) -> Option<Arc<LibraryArchive>> {
        let found = scan::single(path)?;
        if let Some(known) = self.read().get(&found.path) {
            return Some(Arc::clone(known));
        }
        let opened = Arc::new(self.open_archive(found));
        let mut archives = self
            .archives
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        let kept = archives.entry(opened.path.clone()).or_insert_with(|| {
            let _ = self.checksum_queue.send(Arc::clone(&opened));
            Arc::clone(&opened)
        });
        Some(Arc::clone(kept))
    }

    /// Scans one directory; returns how many archives it holds and those it added (a nested
    /// directory's archives may already be known through another).
    fn scan_and_open(&self, directory: &Path) -> (usize, Vec<Arc<LibraryArchive>>) {
        let found = scan::scan(directory);
        let total = found.len();
        let mut added = Vec::new();
        for found in found {
            if self.read().contains_key(&found.path) {
                continue;
            }
            let archive = Arc::new(self.open_archive(found));
            let mut archives = self
                .archives
                .write()
                .unwrap_or_else(|poison| poison.into_inner());
            if !archives.contains_key(&archive.path) {
                archives.insert(archive.path.clone(), Arc::clone(&archive));
                added.push(archive);
            }
        }
        (total, added)
    }

    fn open_archive(&self, found: scan::Found) -> LibraryArchive {
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Archive::open(&found.path, Arc::clone(&self.clusters))
        }))
        .unwrap_or_else(|_| {
            Err(ArchiveError::Corrupt(
                "the reader crashed on this file".into(),
            ))
        });
        let opened = match opened {
            Ok(archive) => {
                info!(archive = %found.path.display(), "archive opened");
                let open = Arc::new(OpenArchive {
                    own: self.indexer.indexes_for(&archive),
                    archive,
                    indexes: EmbeddedIndexes::default(),
                    split: !found.parts.is_empty(),
                });
                self.indexer.opened(&open);
                Ok(open)
            }
            Err(error) => {
                let missing = found
                    .parts
                    .first()
                    .and_then(|first| scan::missing_part(first));
                let reason = match missing {
                    Some(part) => format!("cannot be read: its part {} is missing", part.display()),
                    None => format!("cannot be read: {error}"),
                };
                warn!(archive = %found.path.display(), %error, reason, "archive cannot be read");
                Err(reason)
            }
        };
        let checksum = if opened.is_ok() {
            Checksum::Pending
        } else {
            Checksum::Unchecked
        };
        let files = if found.parts.is_empty() {
            vec![found.path.clone()]
        } else {
            found.parts.clone()
        };
        LibraryArchive {
            fingerprint: fingerprint(&files),
            path: found.path,
            parts: found.parts,
            size_bytes: found.size_bytes,
            opened,
            checksum: Mutex::new(checksum),
        }
    }

    /// The archive as its files are now: the same one if they did not change, a freshly opened
    /// one if they were replaced (by rename, as archives should be), `None` if they are gone.
    fn current(&self, archive: Arc<LibraryArchive>) -> Option<Arc<LibraryArchive>> {
        let files = if archive.parts.is_empty() {
            vec![archive.path.clone()]
        } else {
            archive.parts.clone()
        };
        let now = fingerprint(&files);
        if now == archive.fingerprint {
            return Some(archive);
        }
        let mut archives = self
            .archives
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        // Another lookup holding the same stale handle may have dealt with the change while this
        // one waited for the lock: its result stands, rather than a second opening.
        match archives.get(&archive.path) {
            Some(current) if !Arc::ptr_eq(current, &archive) && current.fingerprint == now => {
                return Some(Arc::clone(current));
            }
            None if now.is_none() => return None,
            _ => {}
        }
        archives.remove(&archive.path);
        if now.is_none() {
            info!(archive = %archive.path.display(), "archive is gone; no longer served");
            abandon_builds(&archive, None);
            return None;
        }
        let parts = if archive.parts.is_empty() {
            Vec::new()
        } else {
            scan::split_parts(&archive.parts[0]).unwrap_or_default()
        };
        let files = if parts.is_empty() {
            vec![archive.path.clone()]
        } else {
            parts.clone()
        };
        let size_bytes = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        let found = scan::Found {
            path: archive.path.clone(),
            parts,
            size_bytes,
        };
        let reopened = Arc::new(self.open_archive(found));
        info!(archive = %archive.path.display(), "archive was replaced; opened the new file");
        abandon_builds(&archive, reopened.opened.as_ref().ok());
        archives.insert(reopened.path.clone(), Arc::clone(&reopened));
        let _ = self.checksum_queue.send(Arc::clone(&reopened));
        Some(reopened)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PathBuf, Arc<LibraryArchive>>> {
        self.archives
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Every archive found, in path order.
    pub fn all(&self) -> Vec<Arc<LibraryArchive>> {
        self.read().values().cloned().collect()
    }

    /// The archives inside any of `directories`, with the name each is known by there.
    pub fn visible_from(&self, directories: &[PathBuf]) -> Vec<(String, Arc<LibraryArchive>)> {
        self.read()
            .values()
            .filter_map(|archive| {
                lookup::name_within(&archive.path, directories)
                    .map(|name| (name, Arc::clone(archive)))
            })
            .collect()
    }

    /// Finds the archive a tool call names, seen from a session's directories.
    pub fn lookup(
        &self,
        directories: &[PathBuf],
        requested: &str,
    ) -> Result<(String, Arc<LibraryArchive>), LookupError> {
        let (name, archive) = lookup::lookup(self, directories, requested)?;
        match self.current(archive) {
            Some(archive) => Ok((name, archive)),
            None => Err(lookup::not_found(self, directories, requested)),
        }
    }

    fn get(&self, path: &Path) -> Option<Arc<LibraryArchive>> {
        self.read().get(path).cloned()
    }
}

#[cfg(test)]
mod tests;

/// Device, inode, size and modification time of one file.
type FileStamp = (u64, u64, u64, i64, i64);

/// The stamps of `files`, or `None` when any is missing.
fn fingerprint(files: &[PathBuf]) -> Option<Vec<FileStamp>> {
    use std::os::unix::fs::MetadataExt;
    files
        .iter()
        .map(|file| {
            let meta = std::fs::metadata(file).ok()?;
            Some((
                meta.dev(),
                meta.ino(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
            ))
        })
        .collect()
}

/// Stops the index builds of an archive whose file was deleted or replaced, unless another open
/// copy (the same UUID, checksum and size, as `replacement` may be) shares its indexes.
fn abandon_builds(old: &LibraryArchive, replacement: Option<&Arc<OpenArchive>>) {
    let Ok(old) = &old.opened else { return };
    let shared = replacement.is_some_and(|new| Arc::ptr_eq(&new.own, &old.own));
    if !shared && Arc::strong_count(&old.own) == 1 {
        old.own.abandon();
    }
}

/// Verifies checksums one archive at a time, on a thread of its own at the lowest CPU priority,
/// so that reading a 100 GB archive never competes with answers.
fn verify_checksums(queue: mpsc::Receiver<Arc<LibraryArchive>>) {
    let this_thread = Some(rustix::thread::gettid());
    if let Err(error) = rustix::process::setpriority_process(this_thread, 19) {
        warn!(%error, "cannot lower the priority of checksum verification");
    }
    while let Ok(entry) = queue.recv() {
        let Ok(open) = entry.opened.clone() else {
            continue;
        };
        let verify = std::panic::AssertUnwindSafe(|| open.archive.verify_checksum());
        let result = std::panic::catch_unwind(verify);
        let state = match result {
            Ok(Ok(())) => Checksum::Valid,
            Ok(Err(ArchiveError::Zim(zim::Error::InvalidChecksum))) => {
                Checksum::Damaged("damaged: its MD5 checksum does not match its content".into())
            }
            Ok(Err(error)) => Checksum::Damaged(format!("damaged: checksum not readable: {error}")),
            Err(_) => Checksum::Damaged("damaged: the checksum could not be computed".into()),
        };
        match &state {
            Checksum::Damaged(reason) => {
                warn!(archive = %entry.path.display(), reason, "archive is damaged");
            }
            _ => debug!(archive = %entry.path.display(), "checksum verified"),
        }
        entry.set_checksum(state);
    }
}

//! The indexer: decides which own indexes an archive needs, queues their builds and runs them
//! on threads of their own at the lowest CPU priority (tantivy's threads, started from them,
//! inherit it). Title indexes go first in the queue, since they are quick and make title search
//! whole; link graphs go last, since only `zim_links` with `direction=inbound` waits for them.

mod builds;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use ozm_protocol::IndexKind;
use tracing::{info, warn};

use super::fulltext::FulltextIndex;
use super::store::{self, KeyDir};
use super::titles::TitleIndex;
use super::{IndexConfig, OwnIndexes, SYNC_TITLES_LIMIT, Slot, lock};
use crate::fulltext::embedded::IndexKind as EmbeddedKind;
use crate::library::OpenArchive;
use crate::links::graph::LinkGraph;

/// How long a stopping daemon waits for its builds to clean up.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// How often a running build logs its progress.
const PROGRESS_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The daemon's index builder.
pub struct Indexer {
    config: IndexConfig,
    /// The indexes of every archive opened, by key directory: copies of one archive (same UUID,
    /// checksum and size) share them, so they are built once.
    known: Mutex<HashMap<PathBuf, Weak<OwnIndexes>>>,
    queue: Mutex<VecDeque<(Arc<OpenArchive>, IndexKind)>>,
    wake: Condvar,
    stop: AtomicBool,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Indexer {
    /// An indexer with its build threads started.
    pub fn new(config: IndexConfig) -> Arc<Indexer> {
        let indexer = Arc::new(Indexer {
            config,
            known: Mutex::default(),
            queue: Mutex::default(),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            threads: Mutex::default(),
        });
        for number in 0..indexer.config.jobs.max(1) {
            let worker = Arc::clone(&indexer);
            let spawned = std::thread::Builder::new()
                .name(format!("ozm-index-{number}"))
                .spawn(move || worker.run());
            match spawned {
                Ok(thread) => lock(&indexer.threads).push(thread),
                Err(error) => warn!(%error, "cannot start an index build thread"),
            }
        }
        indexer
    }

    /// Where indexes live.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The own indexes of a newly opened archive, shared with its open copies.
    pub fn indexes_for(&self, archive: &crate::archive::Archive) -> Arc<OwnIndexes> {
        let dir = KeyDir::of(&self.config.root, archive);
        let mut known = lock(&self.known);
        known.retain(|_, indexes| indexes.strong_count() > 0);
        if let Some(indexes) = known.get(&dir.path).and_then(Weak::upgrade) {
            return indexes;
        }
        let indexes = Arc::new(OwnIndexes::new(dir));
        known.insert(indexes.dir.path.clone(), Arc::downgrade(&indexes));
        indexes
    }

    /// A newly opened archive: indexes built before are picked up, and with eager builds the
    /// missing ones are queued.
    pub fn opened(&self, archive: &Arc<OpenArchive>) {
        self.look(archive, IndexKind::Titles, self.config.eager);
        // Whether an archive's Xapian index is damaged shows only when it is opened, which is
        // left to its first search; an archive without one is settled now.
        let has_xapian = archive.archive.has_fulltext_index().unwrap_or(false);
        if self.config.all_archives || !has_xapian {
            self.look(archive, IndexKind::Fulltext, self.config.eager);
        }
        self.look(archive, IndexKind::Links, self.config.eager);
    }

    /// Queues every index `archive` needs that is not built or building (`ozm index`), ahead
    /// of the builds queued on their own; a failed build is tried again.
    pub fn request(&self, archive: &Arc<OpenArchive>) {
        // Queued in the order they should run (an idle worker takes the first at once): the
        // quick title build, then the full-text build, then the link graph.
        let order = [IndexKind::Titles, IndexKind::Fulltext, IndexKind::Links];
        for kind in order {
            let retry = match kind {
                IndexKind::Titles => matches!(*lock(&archive.own.titles), Slot::Failed(_)),
                IndexKind::Fulltext => matches!(*lock(&archive.own.fulltext), Slot::Failed(_)),
                IndexKind::Links => matches!(*lock(&archive.own.links), Slot::Failed(_)),
            };
            if retry {
                self.reset(archive, kind);
            }
            self.look(archive, kind, true);
        }
        // Then each is moved to the front in turn, the last one moved going first.
        for kind in order.into_iter().rev() {
            let mut waiting = lock(&self.queue);
            let at = waiting.iter().position(|(queued, queued_kind)| {
                *queued_kind == kind && Arc::ptr_eq(&queued.own, &archive.own)
            });
            if let Some(job) = at.and_then(|at| waiting.remove(at)) {
                waiting.push_front(job);
            }
        }
    }

    /// The full-text index a search should use, queuing its build on first need; `None` when
    /// the archive's Xapian index serves or the own index is not ready.
    pub fn fulltext(&self, archive: &Arc<OpenArchive>) -> Option<Arc<FulltextIndex>> {
        self.look(archive, IndexKind::Fulltext, true);
        archive.own.ready_fulltext()
    }

    /// The link graph of `archive`, its build queued on first need; `None` until it is ready.
    pub fn links(&self, archive: &Arc<OpenArchive>) -> Option<Arc<LinkGraph>> {
        self.look(archive, IndexKind::Links, true);
        archive.own.ready_links()
    }

    /// Whether searches of `archive` are meant to use the own full-text index: it has no
    /// usable Xapian one (none, or a damaged one), or the settings ask for it everywhere.
    pub fn wants_fulltext(&self, archive: &OpenArchive) -> bool {
        self.config.all_archives
            || !archive
                .indexes
                .is_usable(&archive.archive, EmbeddedKind::Fulltext)
    }

    /// The folded title index, built now if the archive is small enough and it is missing;
    /// `None` while a large archive's index is built in the background, or if it failed.
    pub fn titles(&self, archive: &Arc<OpenArchive>) -> Option<Arc<TitleIndex>> {
        self.look(archive, IndexKind::Titles, false);
        if let Slot::Ready(index) = &*lock(&archive.own.titles) {
            return Some(Arc::clone(index));
        }
        let small = archive.archive.all_entry_count() as usize <= SYNC_TITLES_LIMIT;
        if !small {
            self.look(archive, IndexKind::Titles, true);
            return None;
        }
        let _building = lock(&archive.own.titles_building);
        if matches!(*lock(&archive.own.titles), Slot::Unknown | Slot::Queued) {
            self.build_titles(archive);
        }
        match &*lock(&archive.own.titles) {
            Slot::Ready(index) => Some(Arc::clone(index)),
            _ => None,
        }
    }

    /// Ends the builds: the running ones stop at their next article and leave nothing behind.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_all();
        // A build stops at its next article and removes what it wrote; one that is writing its
        // index out is not waited for, and its partial directory goes at the next build.
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        while Instant::now() < deadline && !lock(&self.threads).iter().all(|t| t.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Settles an unknown slot: a built index is opened, an unneeded one marked so, a missing
    /// one queued if `queue`.
    fn look(&self, archive: &Arc<OpenArchive>, kind: IndexKind, queue: bool) {
        let own = &archive.own;
        let enqueue = match kind {
            IndexKind::Titles => {
                let mut slot = lock(&own.titles);
                if matches!(*slot, Slot::Unknown) {
                    let path = own.dir.path.join(store::TITLES);
                    if path.exists() {
                        *slot = match TitleIndex::open(&path) {
                            Ok(index) => Slot::Ready(Arc::new(index)),
                            Err(_) => Slot::Unknown,
                        };
                    }
                }
                let enqueue = queue && matches!(*slot, Slot::Unknown);
                if enqueue {
                    *slot = Slot::Queued;
                }
                enqueue
            }
            IndexKind::Fulltext => {
                let mut slot = lock(&own.fulltext);
                if matches!(*slot, Slot::Unknown) {
                    if !self.wants_fulltext(archive) {
                        *slot = Slot::NotNeeded;
                    } else if let Some(path) = own.dir.fulltext() {
                        *slot = match FulltextIndex::open(&archive.archive, &path) {
                            Ok(index) => {
                                info!(archive = %archive.archive.path().display(),
                                    documents = index.documents, "own full-text index reused");
                                Slot::Ready(Arc::new(index))
                            }
                            Err(error) => {
                                warn!(archive = %archive.archive.path().display(), %error,
                                    "own full-text index unreadable; it is built anew");
                                let _ = std::fs::remove_dir_all(&path);
                                Slot::Unknown
                            }
                        };
                    }
                }
                let enqueue = queue && matches!(*slot, Slot::Unknown);
                if enqueue {
                    *slot = Slot::Queued;
                }
                enqueue
            }
            IndexKind::Links => {
                let mut slot = lock(&own.links);
                if matches!(*slot, Slot::Unknown) {
                    *slot = reuse_links(archive);
                }
                let enqueue = queue && matches!(*slot, Slot::Unknown);
                if enqueue {
                    *slot = Slot::Queued;
                }
                enqueue
            }
        };
        if enqueue {
            let mut waiting = lock(&self.queue);
            match kind {
                IndexKind::Titles => waiting.push_front((Arc::clone(archive), kind)),
                IndexKind::Fulltext | IndexKind::Links => {
                    waiting.push_back((Arc::clone(archive), kind))
                }
            }
            self.wake.notify_one();
        }
    }

    fn reset(&self, archive: &OpenArchive, kind: IndexKind) {
        match kind {
            IndexKind::Titles => *lock(&archive.own.titles) = Slot::Unknown,
            IndexKind::Fulltext => *lock(&archive.own.fulltext) = Slot::Unknown,
            IndexKind::Links => *lock(&archive.own.links) = Slot::Unknown,
        }
    }

    fn run(&self) {
        let this_thread = Some(rustix::thread::gettid());
        if let Err(error) = rustix::process::setpriority_process(this_thread, 19) {
            warn!(%error, "cannot lower the priority of index builds");
        }
        loop {
            let job = {
                let mut waiting = lock(&self.queue);
                loop {
                    if self.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(job) = waiting.pop_front() {
                        break job;
                    }
                    waiting = self
                        .wake
                        .wait(waiting)
                        .unwrap_or_else(|poison| poison.into_inner());
                }
            };
            let (archive, kind) = job;
            // A reader crash on a damaged archive fails that build, not the build thread.
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind {
                IndexKind::Titles => {
                    let _building = lock(&archive.own.titles_building);
                    if matches!(*lock(&archive.own.titles), Slot::Queued) {
                        self.build_titles(&archive);
                    }
                }
                IndexKind::Fulltext => self.build_fulltext(&archive),
                IndexKind::Links => self.build_links(&archive),
            }));
            release_free_memory();
            if built.is_err() {
                let reason = "the archive reader crashed on this archive".to_owned();
                warn!(archive = %archive.archive.path().display(), ?kind, reason,
                    "index build failed");
                match kind {
                    IndexKind::Titles => *lock(&archive.own.titles) = Slot::Failed(reason),
                    IndexKind::Fulltext => *lock(&archive.own.fulltext) = Slot::Failed(reason),
                    IndexKind::Links => *lock(&archive.own.links) = Slot::Failed(reason),
                }
            }
        }
    }
}

/// Gives the heap memory glibc's malloc keeps free back to the system. A build allocates tens to
/// hundreds of megabytes (tantivy's writer budget, decompressed clusters) that malloc would
/// otherwise hold for the daemon's whole life: 26 of 44 MB after a 20,000-article build.
fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes no pointer; it only returns free pages of malloc's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The slot of a link graph built before: ready if its file opens, else unknown (and a file
/// that does not open, of an older format say, is removed to be built anew).
fn reuse_links(archive: &OpenArchive) -> Slot<LinkGraph> {
    let path = archive.own.dir.path.join(store::LINKS);
    if !path.exists() {
        return Slot::Unknown;
    }
    let name = archive.archive.path().display();
    match LinkGraph::open(&path, archive.archive.all_entry_count()) {
        Ok(graph) => {
            info!(archive = %name, links = graph.links, "link graph reused");
            Slot::Ready(Arc::new(graph))
        }
        Err(error) => {
            warn!(archive = %name, error = %format!("{error:#}"),
                "link graph unreadable; it is built anew");
            let _ = std::fs::remove_file(&path);
            Slot::Unknown
        }
    }
}

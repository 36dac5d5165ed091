//! ozm's own indexes: a full-text index (tantivy) for archives that carry no Xapian one, and a
//! folded title index and a link graph (see [`crate::links::graph`]) for every archive. Built
//! once per machine in the cache directory, on background threads at the lowest CPU priority,
//! one at a time unless the settings say otherwise, and shared by every session; answers never
//! wait for a build, but a small archive's title index (built in about a second) is made on its
//! first title search.

pub mod analyzer;
pub mod fulltext;
mod query;
pub mod store;
pub mod titles;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ozm_protocol::{BuildState, IndexKind};

use crate::links::graph::LinkGraph;
use fulltext::FulltextIndex;
use store::KeyDir;
use titles::TitleIndex;

pub use worker::Indexer;

/// Archives with at most this many titled entries get their title index on first use, in the
/// search's own time (about a microsecond per title); larger ones in the background.
pub const SYNC_TITLES_LIMIT: usize = 1_000_000;

/// The index settings of the daemon.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// `<cache>/indexes`.
    pub root: PathBuf,
    /// Build as soon as an archive is opened, rather than on its first search.
    pub eager: bool,
    /// Builds at once.
    pub jobs: usize,
    /// Build a full-text index even for archives that carry a Xapian one, and prefer it.
    pub all_archives: bool,
}

/// How a build reports and is stopped.
pub struct BuildControl<'a> {
    /// Told the articles done and the articles in all.
    pub progress: &'a dyn Fn(u64, u64),
    /// Set when the daemon stops: the build ends early with an error.
    pub stop: &'a AtomicBool,
    /// Set when the archive's file is replaced or deleted: the build ends early too.
    pub abandoned: &'a AtomicBool,
}

impl BuildControl<'_> {
    /// Why the build must end now, if it must.
    pub fn interrupted(&self) -> Option<&'static str> {
        if self.abandoned.load(Ordering::Relaxed) {
            Some("its archive was replaced or deleted")
        } else if self.stop.load(Ordering::Relaxed) {
            Some("the daemon is stopping")
        } else {
            None
        }
    }
}

/// Where one index of one archive stands.
pub enum Slot<T> {
    /// Not looked for yet.
    Unknown,
    /// Not wanted: the archive's own Xapian index serves.
    NotNeeded,
    /// Waiting for a build slot.
    Queued,
    /// Being built.
    Building(Arc<Progress>),
    /// Ready for searches.
    Ready(Arc<T>),
    /// The build failed, for this reason.
    Failed(String),
}

/// How far a build has come.
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    started: Instant,
}

impl Progress {
    fn new() -> Arc<Progress> {
        Arc::new(Progress {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    fn set(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    /// Done, total, items per second and seconds left (once there is a rate to go by).
    pub fn figures(&self) -> (u64, u64, f64, Option<u64>) {
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        let left = (rate > 0.0 && done > 0)
            .then(|| (total.saturating_sub(done) as f64 / rate).ceil() as u64);
        (done, total, rate, left)
    }

    fn state(&self) -> BuildState {
        let (done, total, per_second, seconds_left) = self.figures();
        BuildState::Building {
            done,
            total,
            per_second,
            seconds_left,
        }
    }
}

/// The own indexes of one open archive.
pub struct OwnIndexes {
    dir: KeyDir,
    fulltext: Mutex<Slot<FulltextIndex>>,
    titles: Mutex<Slot<TitleIndex>>,
    links: Mutex<Slot<LinkGraph>>,
    /// Held while a title index is built in a search's time, so a second search waits for it.
    titles_building: Mutex<()>,
    /// Set when the archive's file was replaced or deleted: its builds stop.
    abandoned: AtomicBool,
}

impl OwnIndexes {
    /// The indexes of an archive whose key directory is `dir`; nothing is read yet.
    pub fn new(dir: KeyDir) -> OwnIndexes {
        OwnIndexes {
            dir,
            fulltext: Mutex::new(Slot::Unknown),
            titles: Mutex::new(Slot::Unknown),
            links: Mutex::new(Slot::Unknown),
            titles_building: Mutex::new(()),
            abandoned: AtomicBool::new(false),
        }
    }

    /// Stops the builds of these indexes: their archive's file is gone.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// The directory its indexes live in.
    pub fn directory(&self) -> &std::path::Path {
        &self.dir.path
    }

    /// The builds to show: every index looked for, with its state.
    pub fn states(&self) -> Vec<(IndexKind, BuildState)> {
        let mut states = Vec::new();
        if let Some(state) = self.fulltext_state() {
            states.push((IndexKind::Fulltext, state));
        }
        let titles = state_of(&lock(&self.titles), |index| {
            (index.titles() as u64, index.size_bytes())
        });
        if let Some(state) = titles {
            states.push((IndexKind::Titles, state));
        }
        if let Some(state) = self.links_state() {
            states.push((IndexKind::Links, state));
        }
        states
    }

    /// The link graph if it is ready.
    pub fn ready_links(&self) -> Option<Arc<LinkGraph>> {
        match &*lock(&self.links) {
            Slot::Ready(graph) => Some(Arc::clone(graph)),
            _ => None,
        }
    }

    /// Where the link graph stands, if it was looked for.
    pub fn links_state(&self) -> Option<BuildState> {
        state_of(&lock(&self.links), |graph| {
            (graph.articles, graph.size_bytes())
        })
    }

    /// The full-text index if it is ready.
    pub fn ready_fulltext(&self) -> Option<Arc<FulltextIndex>> {
        match &*lock(&self.fulltext) {
            Slot::Ready(index) => Some(Arc::clone(index)),
            _ => None,
        }
    }

    /// Where the full-text index stands, if it was looked for and is wanted.
    pub fn fulltext_state(&self) -> Option<BuildState> {
        state_of(&lock(&self.fulltext), |index| {
            (index.documents, index.size_bytes)
        })
    }
}

fn state_of<T>(slot: &Slot<T>, figures: impl Fn(&T) -> (u64, u64)) -> Option<BuildState> {
    match slot {
        Slot::Unknown | Slot::NotNeeded => None,
        Slot::Queued => Some(BuildState::Queued),
        Slot::Building(progress) => Some(progress.state()),
        Slot::Ready(index) => {
            let (documents, size_bytes) = figures(index);
            Some(BuildState::Ready {
                documents,
                size_bytes,
            })
        }
        Slot::Failed(reason) => Some(BuildState::Failed(reason.clone())),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A build's state as tools and reports show it, e.g. `{"zim_file_path": …, "kind": "fulltext",
/// "state": "building", "done": 120, "total": 2000, …}`.
pub fn state_json(archive: &str, kind: IndexKind, state: &BuildState) -> serde_json::Value {
    use serde_json::json;
    let kind = match kind {
        IndexKind::Fulltext => "fulltext",
        IndexKind::Titles => "titles",
        IndexKind::Links => "links",
    };
    let mut value = json!({"zim_file_path": archive, "kind": kind});
    let details = match state {
        BuildState::Queued => json!({"state": "queued"}),
        BuildState::Building {
            done,
            total,
            per_second,
            seconds_left,
        } => json!({"state": "building", "done": done, "total": total,
            "per_second": per_second.round(), "seconds_left": seconds_left}),
        BuildState::Ready {
            documents,
            size_bytes,
        } => json!({"state": "ready", "documents": documents, "size_bytes": size_bytes}),
        BuildState::Failed(reason) => json!({"state": "failed", "error": reason}),
    };
    if let (Some(value), serde_json::Value::Object(details)) = (value.as_object_mut(), details) {
        value.extend(details);
    }
    value
}

/// A count with thousands separated, as people read it: `20,000`.
pub fn grouped(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// What a full-text search of an archive without a usable index says about the build;
/// `damage` says what is wrong with the Xapian index the archive carries, if it has one.
pub fn pending_note(name: &str, state: Option<&BuildState>, damage: Option<&str>) -> String {
    let why = match state {
        Some(BuildState::Building { total: 0, .. }) => "ozm is building one (starting)".into(),
        Some(BuildState::Building {
            done,
            total,
            seconds_left,
            ..
        }) => {
            let left = seconds_left.map_or(String::new(), |s| format!(", about {s} s left"));
            format!(
                "ozm is building one ({} of {} articles{left})",
                grouped(*done),
                grouped(*total)
            )
        }
        Some(BuildState::Queued) => "ozm is building one (queued)".into(),
        Some(BuildState::Failed(reason)) => format!("ozm's build of one failed: {reason}"),
        _ => "ozm builds one when asked (`ozm index`)".into(),
    };
    match damage {
        Some(damage) => format!("{name}: {damage}; {why}; its results match titles only"),
        None => format!("{name} has no full-text index yet: {why}; its results match titles only"),
    }
}

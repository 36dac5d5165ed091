//! The builds themselves, run by the indexer's threads: each sets its index's slot to building,
//! reports its progress, and leaves the slot ready or failed with the reason.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use tracing::{debug, info, warn};

use super::{Indexer, PROGRESS_LOG_INTERVAL};
use crate::library::OpenArchive;
use crate::links::build;
use crate::links::graph::LinkGraph;
use crate::ownindex::fulltext::{self, FulltextIndex};
use crate::ownindex::store;
use crate::ownindex::titles::{self, TitleIndex};
use crate::ownindex::{BuildControl, Progress, Slot, lock};

impl Indexer {
    pub(super) fn build_titles(&self, archive: &OpenArchive) {
        let progress = Progress::new();
        *lock(&archive.own.titles) = Slot::Building(Arc::clone(&progress));
        let started = Instant::now();
        debug!(archive = %archive.archive.path().display(), kind = "titles",
            "index build started");
        let path = archive.own.dir.path.join(store::TITLES);
        let built = archive
            .own
            .dir
            .create(archive.archive.path())
            .with_context(|| format!("creating {}", archive.own.dir.path.display()))
            .and_then(|()| {
                store::remove_stale_partials(&archive.own.dir.path);
                titles::build(&archive.archive, &path, &|done, total| {
                    progress.set(done, total)
                })
                .with_context(|| format!("writing {}", path.display()))
            })
            .and_then(|_| TitleIndex::open(&path));
        let name = archive.archive.path().display().to_string();
        *lock(&archive.own.titles) = match built {
            Ok(index) => {
                info!(archive = %name, kind = "titles", documents = index.titles(),
                    seconds = started.elapsed().as_secs_f64(), "index build finished");
                Slot::Ready(Arc::new(index))
            }
            Err(error) => {
                let reason = failure(&error, &self.config.root);
                let seconds = started.elapsed().as_secs_f64();
                warn!(archive = %name, kind = "titles", reason, seconds, "index build failed");
                Slot::Failed(reason)
            }
        };
    }

    pub(super) fn build_fulltext(&self, archive: &OpenArchive) {
        let progress = Progress::new();
        {
            let mut slot = lock(&archive.own.fulltext);
            // A build queued for a file since replaced or deleted is not started.
            if !matches!(*slot, Slot::Queued) || archive.own.abandoned.load(Ordering::Relaxed) {
                return;
            }
            *slot = Slot::Building(Arc::clone(&progress));
        }
        let name = archive.archive.path().display().to_string();
        let dir = &archive.own.dir;
        let report = reporter(&name, "fulltext", &progress);
        let control = BuildControl {
            progress: &report,
            stop: &self.stop,
            abandoned: &archive.own.abandoned,
        };
        let mut partial = None;
        let built = (|| -> anyhow::Result<FulltextIndex> {
            let within = dir.path.display();
            dir.create(archive.archive.path())
                .with_context(|| format!("creating {within}"))?;
            let path = dir
                .start_fulltext_build()
                .with_context(|| format!("preparing a build in {within}"))?;
            partial = Some(path.clone());
            fulltext::build(&archive.archive, &path, &control)?;
            let done = match dir.publish_fulltext(&path) {
                Ok(done) => done,
                // Another ozmd sharing the cache finished the same index first: it is used.
                Err(_) if dir.fulltext().is_some() => {
                    let _ = std::fs::remove_dir_all(&path);
                    dir.fulltext().context("the index another ozmd built")?
                }
                Err(error) => {
                    return Err(error)
                        .with_context(|| format!("moving the finished index into {within}"));
                }
            };
            FulltextIndex::open(&archive.archive, &done).context("opening the finished index")
        })();
        *lock(&archive.own.fulltext) = match built {
            Ok(index) => {
                let seconds = progress.started.elapsed().as_secs_f64();
                info!(archive = %name, kind = "fulltext", documents = index.documents, seconds,
                    size_bytes = index.size_bytes, "index build finished");
                Slot::Ready(Arc::new(index))
            }
            Err(error) => {
                if let Some(partial) = partial {
                    let _ = std::fs::remove_dir_all(partial);
                }
                Slot::Failed(self.ended(archive, &name, "fulltext", &error, progress.started))
            }
        };
    }

    pub(super) fn build_links(&self, archive: &OpenArchive) {
        let progress = Progress::new();
        {
            let mut slot = lock(&archive.own.links);
            // A build queued for a file since replaced or deleted is not started.
            if !matches!(*slot, Slot::Queued) || archive.own.abandoned.load(Ordering::Relaxed) {
                return;
            }
            *slot = Slot::Building(Arc::clone(&progress));
        }
        let name = archive.archive.path().display().to_string();
        let report = reporter(&name, "links", &progress);
        let control = BuildControl {
            progress: &report,
            stop: &self.stop,
            abandoned: &archive.own.abandoned,
        };
        let dir = &archive.own.dir;
        let path = dir.path.join(store::LINKS);
        let built = dir
            .create(archive.archive.path())
            .with_context(|| format!("creating {}", dir.path.display()))
            .and_then(|()| {
                store::remove_stale_partials(&dir.path);
                build::link_graph(&archive.archive, &path, &control)
            })
            .and_then(|_| LinkGraph::open(&path, archive.archive.all_entry_count()));
        *lock(&archive.own.links) = match built {
            Ok(graph) => {
                let seconds = progress.started.elapsed().as_secs_f64();
                info!(archive = %name, kind = "links", documents = graph.articles,
                    links = graph.links, seconds, size_bytes = graph.size_bytes(),
                    "index build finished");
                Slot::Ready(Arc::new(graph))
            }
            Err(error) => {
                Slot::Failed(self.ended(archive, &name, "links", &error, progress.started))
            }
        };
    }

    /// Why a build ended without an index, logged as what it was (a stop, an abandonment or a
    /// failure) with the seconds since it `started`.
    fn ended(
        &self,
        archive: &OpenArchive,
        name: &str,
        kind: &'static str,
        error: &anyhow::Error,
        started: Instant,
    ) -> String {
        let reason = failure(error, &self.config.root);
        let seconds = started.elapsed().as_secs_f64();
        if self.stop.load(Ordering::Relaxed) {
            info!(archive = %name, kind, seconds, "index build stopped: ozmd stops");
        } else if archive.own.abandoned.load(Ordering::Relaxed) {
            info!(archive = %name, kind, seconds,
                "index build stopped: the archive was replaced or deleted");
        } else {
            warn!(archive = %name, kind, reason, seconds, "index build failed");
        }
        reason
    }
}

/// What a build tells its progress: the figures `ozm status` shows, and the log a line when it
/// starts and one every [`PROGRESS_LOG_INTERVAL`].
fn reporter<'a>(
    name: &'a str,
    kind: &'static str,
    progress: &'a Progress,
) -> impl Fn(u64, u64) + 'a {
    let last_log = Cell::new(None::<Instant>);
    move |done: u64, total: u64| {
        progress.set(done, total);
        let Some(logged) = last_log.get() else {
            info!(archive = %name, kind, total, "index build started");
            last_log.set(Some(Instant::now()));
            return;
        };
        if logged.elapsed() >= PROGRESS_LOG_INTERVAL {
            last_log.set(Some(Instant::now()));
            let (done, total, per_second, seconds_left) = progress.figures();
            info!(archive = %name, kind, done, total,
                per_second = per_second.round(), seconds_left, "index build progress");
        }
    }
}

/// Why a build failed, in words an operator can act on.
fn failure(error: &anyhow::Error, root: &std::path::Path) -> String {
    // tantivy's writer threads report a full disk only as "killed": the disk is asked too.
    let disk_full = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(store::is_disk_full)
            || cause.to_string().contains("No space left on device")
    }) || store::space_left(root)
        .is_some_and(|bytes| bytes < store::LOW_SPACE_BYTES);
    if disk_full {
        format!(
            "no space left on the disk holding {}: the unfinished index was removed; free some \
             space, then run `ozm index`",
            root.display()
        )
    } else {
        format!("{error:#}")
    }
}

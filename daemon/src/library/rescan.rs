//! Looking again at every known directory and archive, on SIGHUP.

use std::path::PathBuf;
use std::sync::Arc;

use tracing::{debug, warn};

use super::Library;

/// What a rescan changed, by archive path.
#[derive(Debug, Default)]
pub struct Rescan {
    /// Archives found that were not known.
    pub added: Vec<PathBuf>,
    /// Archives whose files are gone.
    pub removed: Vec<PathBuf>,
    /// Archives whose files were replaced, opened anew.
    pub replaced: Vec<PathBuf>,
}

impl Library {
    /// Looks again at every known directory and archive (SIGHUP): archives added since appear,
    /// those whose files are gone leave the lists, replaced ones are opened anew.
    pub async fn rescan(self: &Arc<Self>) -> Rescan {
        let library = Arc::clone(self);
        let rescanned = tokio::task::spawn_blocking(move || library.rescan_blocking()).await;
        rescanned.unwrap_or_else(|error| {
            warn!(%error, "rescanning the directories failed");
            Rescan::default()
        })
    }

    fn rescan_blocking(&self) -> Rescan {
        let mut changes = Rescan::default();
        for archive in self.all() {
            let path = archive.path.clone();
            match self.current(Arc::clone(&archive)) {
                None => changes.removed.push(path),
                Some(now) if !Arc::ptr_eq(&now, &archive) => changes.replaced.push(path),
                Some(_) => {}
            }
        }
        let directories: Vec<PathBuf> = self
            .scanned
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .keys()
            .cloned()
            .collect();
        for directory in directories {
            let (total, added) = self.scan_and_open(&directory);
            debug!(directory = %directory.display(), archives = total, new = added.len(),
                "directory rescanned");
            for archive in added {
                changes.added.push(archive.path.clone());
                let _ = self.checksum_queue.send(archive);
            }
        }
        // A set whose parts changed (one deleted, say) was dropped and found again: replaced.
        let Rescan { added, removed, .. } = &mut changes;
        let found_again: Vec<PathBuf> = removed
            .iter()
            .filter(|path| added.contains(path))
            .cloned()
            .collect();
        added.retain(|path| !found_again.contains(path));
        removed.retain(|path| !found_again.contains(path));
        changes.replaced.extend(found_again);
        changes
    }
}

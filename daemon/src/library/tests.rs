//! The library against a real archive file (`OZM_TEST_DATA`, default `../shared/zim`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::Library;
use crate::archive::clusters::ClusterCache;
use crate::ownindex::{IndexConfig, Indexer};
use crate::rendered::RenderedCache;

/// The small Wikipedia archive, or `None` (with a note) when the test archives are absent.
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn small_archive() -> Option<PathBuf> {
    let base = std::env::var_os("OZM_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/zim"));
    let path = base.join("libkiwix/zimfile.zim");
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent; set OZM_TEST_DATA", path.display());
        return None;
    }
    Some(path)
}

/// Several lookups may hold the handle of an archive that was replaced: the first opens the new
/// file, and the others get that opening rather than one each.
#[tokio::test]
async fn a_replaced_archive_is_opened_once_for_every_stale_handle() {
    let Some(source) = small_archive() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ozmd-library-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = std::fs::canonicalize(&dir).unwrap();
    let served = dir.join("wiki.zim");
    std::fs::copy(&source, &served).unwrap();
    let library = Library::new(
        Arc::new(ClusterCache::new(1 << 20)),
        RenderedCache::new(1 << 20, 10, Duration::from_secs(60)),
        Indexer::new(IndexConfig {
            root: dir.join("indexes"),
            eager: false,
            jobs: 1,
            all_archives: false,
        }),
    );
    library.add_directories(std::slice::from_ref(&dir)).await;
    let stale = library.get(&served).expect("the archive is found");

    let replacement = dir.join("wiki.zim.new");
    std::fs::copy(&source, &replacement).unwrap();
    std::fs::rename(&replacement, &served).unwrap();
    let first = library.current(Arc::clone(&stale)).expect("reopened");
    let second = library.current(stale).expect("reopened");
    assert!(Arc::ptr_eq(&first, &second), "the archive was opened twice");
    assert!(Arc::ptr_eq(&first, &library.get(&served).expect("served")));
    std::fs::remove_dir_all(&dir).unwrap();
}

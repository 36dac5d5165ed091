//! A full disk stops an index build with a clear reason, removes what was written, and leaves the
//! daemon serving. The disk is a small tmpfs mounted over the daemon's cache directory, which
//! needs root (or CAP_SYS_ADMIN); elsewhere the test says it was skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ozm_tests::fixture::{Daemon, index_state, wait_until};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::json;

/// Room for the title index, far from enough for the full-text index of the archive below.
const TMPFS_SIZE: &str = "256k";

/// Unmounts the tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("--lazy").arg(&self.0).status();
    }
}

fn mount_small_disk(at: &Path) -> Option<Mounted> {
    std::fs::create_dir_all(at).expect("mount point");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_SIZE}"), "tmpfs"])
        .arg(at)
        .output()
        .is_ok_and(|out| out.status.success());
    mounted.then(|| Mounted(at.to_path_buf()))
}

#[test]
fn a_full_disk_fails_the_build_with_its_reason_and_leaves_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let Some(_mounted) = mount_small_disk(&cache) else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: cannot mount a tmpfs here (needs root); disk-full handling untested"
        );
        return;
    };
    let archives = work.path().join("zim");
    std::fs::create_dir_all(&archives).unwrap();
    let archive = archives.join("words.zim");
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Words").metadata("Language", "eng");
    for n in 0..3_000 {
        let words: Vec<String> = (0..60).map(|i| format!("w{}x{}", n * 7 + i, i)).collect();
        let html = format!("<p>{}</p>", words.join(" "));
        zim.article(&format!("Page_{n}"), &format!("Page {n}"), &html);
    }
    zim.write(&archive).unwrap();

    let cache_home = cache.to_str().unwrap();
    let daemon = Daemon::start_with_env(&[("XDG_CACHE_HOME", cache_home)]);
    let mut shim = daemon.shim(&[&archives]);
    shim.initialize();
    let archive = std::fs::canonicalize(&archive).unwrap();
    let mut failure = None;
    wait_until(
        std::time::Duration::from_secs(120),
        "the build to fail",
        || {
            failure = index_state(&daemon.socket, &archive, "Fulltext").and_then(|state| {
                state
                    .get("Failed")
                    .and_then(|r| r.as_str())
                    .map(str::to_owned)
            });
            failure.is_some()
        },
    );
    let reason = failure.unwrap();
    assert!(reason.contains("no space left"), "{reason}");
    assert!(
        reason.contains("ozm index"),
        "the reason says what to do: {reason}"
    );

    let leftovers: Vec<String> = std::fs::read_dir(cache.join("ozm/indexes"))
        .unwrap()
        .flatten()
        .flat_map(|key| std::fs::read_dir(key.path()).unwrap().flatten())
        .map(|item| item.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("fulltext"))
        .collect();
    assert_eq!(
        leftovers,
        Vec::<String>::new(),
        "the partial index is removed"
    );
    assert!(
        daemon.log().contains("index build failed"),
        "{}",
        daemon.log()
    );

    // The daemon still answers, from titles, and says why.
    let answer = shim.call_ok("zim_search", json!({"query": "Page 12"}));
    assert_eq!(answer["results"][0]["path"], "Page_12", "{answer}");
    let notes = answer["notes"].to_string();
    assert!(
        notes.contains("failed") && notes.contains("no space left"),
        "{answer}"
    );
}

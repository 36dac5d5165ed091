//! What an operator does around ozm's own indexes: `ozm cleanup` while an archive is served from
//! two paths, `ozm index` naming a file copied in after its directory was scanned or a file that
//! is no archive, and a daemon whose cache directory cannot be created. Archives are written by
//! the tests' own ZIM writer, which writes no Xapian index, unless a test says otherwise.

use std::path::Path;

use ozm_tests::fixture::{
    Daemon, INDEX_WAIT, Shim, canonical_temp_dir, fulltext_search, index_key, index_state, ozm,
    result_paths, status_json, test_data, wait_for_index_ready, wait_until, write_small_archive,
};
use serde_json::{Value, json};

/// An initialised shim of `daemon` serving `directories`.
fn session(daemon: &Daemon, directories: &[&Path]) -> Shim {
    let mut shim = daemon.shim(directories);
    shim.initialize();
    shim
}

/// The paths of the archives `ozm status --json` lists.
fn listed_archives(daemon: &Daemon) -> Vec<String> {
    let status = status_json(&daemon.socket);
    let archives = status["archives"].as_array().expect("an archive list");
    archives
        .iter()
        .map(|archive| archive["path"].as_str().expect("a path").to_owned())
        .collect()
}

#[test]
fn cleanup_keeps_the_index_of_an_archive_still_served_from_another_path() {
    let (_first, x1) = canonical_temp_dir();
    let (_second, x2) = canonical_temp_dir();
    let original = x1.join("twin.zim");
    let copy = x2.join("twin.zim");
    write_small_archive(&original, "twinword");
    std::fs::copy(&original, &copy).expect("copying the archive");
    let key = index_key(&copy);
    assert_eq!(index_key(&original), key, "the copy is the same archive");
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &[&x1, &x2]);
    wait_for_index_ready(&daemon.socket, &original);
    wait_for_index_ready(&daemon.socket, &copy);

    // The first copy goes; the second still serves the same archive, so its index is in use.
    std::fs::remove_file(&original).expect("deleting the first copy");
    let output = ozm(&daemon.socket, &["cleanup", "--json"]);
    assert!(
        output.status.success(),
        "ozm cleanup --json: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_slice(&output.stdout).expect("ozm cleanup --json prints JSON");
    assert_eq!(report["removed_indexes"], json!([]), "{report}");
    let built = daemon.index_dir().join(&key).join("fulltext-1");
    assert!(built.is_dir(), "the index of the served copy was removed");

    // The copy is still searched through its index.
    let answer = fulltext_search(&mut shim, copy.to_str().unwrap(), "twinword");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");
    assert!(answer["results"][0]["score"].as_f64().is_some(), "{answer}");
    assert!(answer.get("notes").is_none(), "{answer}");
    let state = index_state(&daemon.socket, &copy, "Fulltext");
    assert!(
        state
            .as_ref()
            .is_some_and(|state| state.get("Ready").is_some()),
        "{state:?}"
    );
}

#[test]
fn ozm_index_opens_an_archive_copied_into_a_directory_already_scanned() {
    let (_tmp, dir) = canonical_temp_dir();
    let first = dir.join("first.zim");
    write_small_archive(&first, "firstword");
    let daemon = Daemon::start();
    let _shim = session(&daemon, &[&dir]);
    wait_for_index_ready(&daemon.socket, &first);

    // The new archive is written elsewhere and copied in, as a download would arrive.
    let (_elsewhere, elsewhere) = canonical_temp_dir();
    write_small_archive(&elsewhere.join("late.zim"), "lateword");
    let late = dir.join("late.zim");
    std::fs::copy(elsewhere.join("late.zim"), &late).expect("copying the new archive in");

    let output = ozm(&daemon.socket, &["index", late.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ozm index failed: {stderr}");
    let line = stdout
        .lines()
        .find(|line| line.contains(late.to_str().unwrap()) && line.contains("full-text"))
        .unwrap_or_else(|| panic!("no line on the full-text index: {stdout}"));
    assert!(line.contains("ready"), "{line}");
    let ready = wait_for_index_ready(&daemon.socket, &late);
    assert_eq!(ready["documents"], 3, "{ready}");
}

#[test]
fn ozm_index_refuses_a_file_that_is_no_archive_without_opening_its_neighbours() {
    let (_tmp, dir) = canonical_temp_dir();
    let neighbours = [dir.join("one.zim"), dir.join("two.zim")];
    for (archive, word) in neighbours.iter().zip(["oneword", "twoword"]) {
        write_small_archive(archive, word);
    }
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "what to read next\n").expect("writing notes.txt");
    // No session names the directory, so only `ozm index` could have opened anything.
    let daemon = Daemon::start();

    let output = ozm(&daemon.socket, &["index", notes.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "ozm index notes.txt succeeded");
    assert!(stderr.contains("not a ZIM archive"), "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");

    let listed = listed_archives(&daemon);
    for archive in &neighbours {
        let archive = archive.to_str().unwrap();
        assert!(
            !listed.iter().any(|path| path == archive),
            "{archive} was opened: {listed:?}"
        );
    }
}

#[test]
fn without_a_cache_directory_archives_are_served_and_the_build_failure_is_named() {
    let Some(data) = test_data() else { return };
    let (_tmp, tmp) = canonical_temp_dir();
    // A regular file stands where the cache's parent directory should be.
    let blocker = tmp.join("afile");
    std::fs::write(&blocker, "not a directory\n").expect("writing the blocking file");
    let cache = blocker.join("cache");
    let (_served, dir) = canonical_temp_dir();
    std::fs::copy(data.join("libkiwix/zimfile.zim"), dir.join("zimfile.zim"))
        .expect("copying zimfile.zim");
    let plain = dir.join("plain.zim");
    write_small_archive(&plain, "plainword");
    let daemon = Daemon::start_with_env(&[("OZM_CACHE_DIR", cache.to_str().unwrap())]);
    let mut shim = session(&daemon, &[&dir]);

    // The archive's own Xapian index needs no cache: its searches are ranked.
    let embedded = fulltext_search(&mut shim, "zimfile.zim", "piano");
    assert!(!result_paths(&embedded).is_empty(), "{embedded}");
    assert!(
        embedded["results"][0]["score"].as_f64().is_some(),
        "{embedded}"
    );

    // ozm's own index cannot be built, and the status says where it could not be written.
    let mut reason = String::new();
    wait_until(INDEX_WAIT, "the full-text build of plain.zim fails", || {
        let state = index_state(&daemon.socket, &plain, "Fulltext");
        let failed = state.as_ref().and_then(|state| state["Failed"].as_str());
        if let Some(failed) = failed {
            reason = failed.to_owned();
        }
        failed.is_some()
    });
    assert!(reason.contains(blocker.to_str().unwrap()), "{reason}");

    // Searching that archive answers from titles, unranked, and the note says why.
    let answer = fulltext_search(&mut shim, "plain.zim", "alpha");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");
    assert!(answer["results"][0].get("score").is_none(), "{answer}");
    let notes = answer["notes"].as_array().expect("a note on the index");
    assert!(
        notes.iter().any(|note| {
            let note = note.as_str().unwrap_or_default();
            note.contains("plain.zim") && note.contains("failed") && note.contains("titles")
        }),
        "{notes:?}"
    );
}

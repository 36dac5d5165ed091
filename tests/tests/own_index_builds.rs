//! The life of the indexes ozm builds for archives without a Xapian index: searching while one
//! is built, a build killed half-way and started again, an index kept across restarts, builds
//! left until a search needs them, stale indexes cleaned up, and `ozm index` asking for builds.
//! Archives are written by the tests' own ZIM writer, which writes no Xapian index.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ozm_tests::fixture::{
    Daemon, INDEX_WAIT, Shim, canonical_temp_dir, fulltext_search, index_key, index_state, ozm,
    result_paths, wait_for_index_ready, wait_for_index_state, wait_for_kind_ready, wait_until,
    write_small_archive,
};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// Articles in the archive whose build the tests watch, [`BIG_WORDS`] words each: enough that a
/// debug daemon takes a few seconds over them (it reads 30,000 of 40 words in 1 to 4 s, by the
/// load of the machine), so that a test can search and kill during the build.
const BIG_ARTICLES: u64 = 80_000;

/// Made-up words in each article of the big archive.
const BIG_WORDS: usize = 80;

/// Bump when the big archive's content changes, so that no stale copy is reused.
const BIG_VERSION: u32 = 2;

/// The made-up word only article `n` of the big archive holds.
fn big_word(n: u64) -> String {
    format!("qbig{n:05}")
}

/// Text for article `n` of the big archive: [`BIG_WORDS`] made-up words, then its own word.
fn big_body(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fi", "go", "hu", "je", "pa",
        "zu",
    ];
    let mut seed = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    let words: Vec<String> = (0..BIG_WORDS)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = (seed >> 33) as usize;
            (0..3).map(|i| SYLLABLES[(bits >> (4 * i)) & 15]).collect()
        })
        .collect();
    format!("<p>{} {}.</p>", words.join(" "), big_word(n))
}

/// The directory holding `big.zim`, [`BIG_ARTICLES`] articles titled `Wanderer NNNNN`, and the
/// archive's path. It is written once into Cargo's scratch directory for integration tests and
/// reused by later runs; the writer is deterministic, so every run reads the same bytes.
fn big_archive() -> (PathBuf, PathBuf) {
    static WRITTEN: OnceLock<PathBuf> = OnceLock::new();
    let dir = WRITTEN.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = scratch.join(format!("own-index-big-v{BIG_VERSION}-{BIG_ARTICLES}"));
        std::fs::create_dir_all(&dir).expect("creating the big archive's directory");
        let dir = std::fs::canonicalize(dir).expect("canonical scratch directory");
        if !dir.join("big.zim").exists() {
            let mut zim = ZimBuilder::new();
            zim.metadata("Title", "Big").metadata("Language", "eng");
            for n in 0..BIG_ARTICLES {
                zim.article(
                    &format!("W{n:05}.html"),
                    &format!("Wanderer {n:05}"),
                    &big_body(n),
                );
            }
            // Another test process may write it too: each writes aside, then renames.
            let aside = dir.join(format!("big.zim.{}.tmp", std::process::id()));
            zim.write(&aside).expect("writing the big archive");
            std::fs::rename(&aside, dir.join("big.zim")).expect("moving the big archive in");
        }
        dir
    });
    (dir.clone(), dir.join("big.zim"))
}

/// An initialised shim of `daemon` serving `directory`.
fn session(daemon: &Daemon, directory: &Path) -> Shim {
    let mut shim = daemon.shim(&[directory]);
    shim.initialize();
    shim
}

/// The `index build started` lines the daemon logged for the full-text index of `archive`.
fn build_starts(daemon: &Daemon, archive: &Path) -> usize {
    let archive = archive.to_str().expect("UTF-8 path");
    daemon
        .log()
        .lines()
        .filter(|line| line.contains("index build started") && line.contains(archive))
        .filter(|line| line.to_lowercase().contains("fulltext"))
        .count()
}

/// Waits until the full-text build of `archive` has read some articles and not all of them.
fn wait_until_half_way(daemon: &Daemon, archive: &Path) -> Value {
    wait_for_index_state(&daemon.socket, archive, "Fulltext", "building", |state| {
        assert!(
            state.get("Ready").is_none(),
            "the build ended before a test could watch it; raise BIG_ARTICLES"
        );
        let building = &state["Building"];
        let (done, total) = (building["done"].as_u64(), building["total"].as_u64());
        matches!((done, total), (Some(done), Some(total)) if done > 0 && done < total)
    })
}

#[test]
fn a_search_during_a_build_answers_from_titles_and_says_so() {
    let (dir, big) = big_archive();
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    let state = wait_until_half_way(&daemon, &big);
    assert_eq!(state["Building"]["total"], BIG_ARTICLES, "{state}");

    // Titles answer meanwhile, unranked, and the answer says the index is being built.
    let early = fulltext_search(&mut shim, "big.zim", "wanderer");
    assert!(!result_paths(&early).is_empty(), "{early}");
    for row in early["results"].as_array().unwrap() {
        assert!(
            row.get("score").is_none(),
            "a title match has no score: {row}"
        );
        assert!(
            row["title"].as_str().unwrap().starts_with("Wanderer "),
            "{row}"
        );
    }
    // The progress is counted in articles, thousands grouped as people read them.
    let of_total = format!(
        " of {},{:03} articles",
        BIG_ARTICLES / 1000,
        BIG_ARTICLES % 1000
    );
    let notes = early["notes"].as_array().expect("a note on the build");
    assert!(
        notes.iter().any(|note| {
            let note = note.as_str().unwrap();
            note.contains("big.zim") && note.contains("building") && note.contains(&of_total)
        }),
        "{notes:?}"
    );
    let builds = early["index_builds"]
        .as_array()
        .expect("the builds under way");
    let build = builds
        .iter()
        .find(|build| build["zim_file_path"] == "big.zim" && build["kind"] == "fulltext")
        .unwrap_or_else(|| panic!("no full-text build of big.zim: {builds:?}"));
    assert_eq!(build["state"], "building", "{build}");
    assert_eq!(build["total"], BIG_ARTICLES, "{build}");
    assert!(build["done"].as_u64().is_some(), "{build}");

    // Once the index is ready, the same search is ranked over every article.
    let ready = wait_for_index_ready(&daemon.socket, &big);
    assert_eq!(ready["documents"], BIG_ARTICLES, "{ready}");
    assert!(
        ready["size_bytes"].as_u64().is_some_and(|size| size > 0),
        "{ready}"
    );
    let ranked = fulltext_search(&mut shim, "big.zim", "wanderer");
    assert_eq!(ranked["total"], BIG_ARTICLES, "{ranked}");
    assert!(ranked.get("notes").is_none(), "{ranked}");
    assert!(ranked["results"][0]["score"].as_f64().is_some(), "{ranked}");
    let word = fulltext_search(&mut shim, "big.zim", &big_word(12_345));
    assert_eq!(result_paths(&word), ["W12345.html"], "{word}");

    // The server's health lists the finished build.
    let health = shim.call_ok("get_server_health", json!({}));
    let builds = health["index_builds"]
        .as_array()
        .expect("index builds in the health");
    let build = builds
        .iter()
        .find(|build| build["zim_file_path"] == "big.zim" && build["kind"] == "fulltext")
        .unwrap_or_else(|| panic!("no full-text build of big.zim: {builds:?}"));
    assert_eq!(build["state"], "ready", "{build}");
    assert_eq!(build["documents"], BIG_ARTICLES, "{build}");
}

#[test]
fn a_build_killed_half_way_is_started_again_and_leaves_no_partial_index() {
    let (dir, big) = big_archive();
    let mut daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    wait_until_half_way(&daemon, &big);
    shim.kill();
    daemon.kill();

    // Nothing half-built passes for a complete index.
    let keyed = daemon.index_dir().join(index_key(&big));
    assert!(
        !keyed.join("fulltext-1").exists(),
        "a complete index after a killed build"
    );

    daemon.restart();
    let mut shim = session(&daemon, &dir);
    let ready = wait_for_index_ready(&daemon.socket, &big);
    assert_eq!(ready["documents"], BIG_ARTICLES, "{ready}");
    assert!(keyed.join("fulltext-1").is_dir());
    let leftovers: Vec<String> = std::fs::read_dir(&keyed)
        .expect("the archive's index directory")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("fulltext-1.partial"))
        .collect();
    assert!(leftovers.is_empty(), "partial indexes left: {leftovers:?}");

    let word = fulltext_search(&mut shim, "big.zim", &big_word(777));
    assert_eq!(result_paths(&word), ["W00777.html"], "{word}");
    assert_eq!(build_starts(&daemon, &big), 2, "{}", daemon.log());
}

/// A build whose archive is replaced by rename stops, leaves nothing of itself behind, and the
/// new file gets its own index.
#[test]
fn replacing_an_archive_during_its_build_stops_that_build() {
    let (_big_dir, big) = big_archive();
    let (_tmp, dir) = canonical_temp_dir();
    let served = dir.join("big.zim");
    std::fs::copy(&big, &served).expect("copying the big archive");
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    wait_until_half_way(&daemon, &served);
    let old_keyed = daemon.index_dir().join(index_key(&served));

    let fresh = dir.join("fresh.tmp");
    write_small_archive(&fresh, "replacementword");
    std::fs::rename(&fresh, &served).expect("replacing the archive");
    // The daemon notices the new file when a tool names it.
    fulltext_search(&mut shim, "big.zim", "replacementword");
    let ready = wait_for_index_ready(&daemon.socket, &served);
    assert_eq!(ready["documents"], 3, "{ready}");
    let answer = fulltext_search(&mut shim, "big.zim", "replacementword");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");

    let log = daemon.log();
    assert!(log.contains("the archive was replaced or deleted"), "{log}");
    let leftovers: Vec<String> = std::fs::read_dir(&old_keyed)
        .expect("the old archive's index directory")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("fulltext-1"))
        .collect();
    assert!(leftovers.is_empty(), "the stopped build left {leftovers:?}");
}

#[test]
fn an_index_is_reused_after_a_restart() {
    let (_tmp, dir) = canonical_temp_dir();
    let archive = dir.join("kept.zim");
    write_small_archive(&archive, "keepsakeword");
    let mut daemon = Daemon::start();
    let shim = session(&daemon, &dir);
    wait_for_index_ready(&daemon.socket, &archive);
    let built = daemon
        .index_dir()
        .join(index_key(&archive))
        .join("fulltext-1");
    let inode = std::fs::metadata(&built).expect("the built index").ino();
    assert_eq!(build_starts(&daemon, &archive), 1, "{}", daemon.log());
    drop(shim);

    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    daemon.restart();
    let mut shim = session(&daemon, &dir);
    wait_for_index_ready(&daemon.socket, &archive);

    // The same directory serves, and no build ran again.
    let answer = fulltext_search(&mut shim, "kept.zim", "keepsakeword");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");
    assert!(answer["results"][0]["score"].as_f64().is_some(), "{answer}");
    assert_eq!(std::fs::metadata(&built).expect("the index").ino(), inode);
    assert_eq!(build_starts(&daemon, &archive), 1, "{}", daemon.log());
}

#[test]
fn with_lazy_builds_nothing_is_built_until_a_search_needs_it() {
    let (_tmp, dir) = canonical_temp_dir();
    let archive = dir.join("lazy.zim");
    write_small_archive(&archive, "lazyword");
    let daemon = Daemon::start_with_env(&[("OZM_INDEX_BUILDS", "lazy")]);
    let mut shim = session(&daemon, &dir);

    // The session has opened the archive, and no build is queued, running or done.
    let listed = shim.call_ok("zim_metadata", json!({"zim_file_path": "lazy.zim"}));
    assert_eq!(listed["counts"]["article_count"], 3, "{listed}");
    let state = index_state(&daemon.socket, &archive, "Fulltext");
    assert!(state.is_none(), "nothing was asked for yet: {state:?}");
    let built = daemon
        .index_dir()
        .join(index_key(&archive))
        .join("fulltext-1");
    assert!(!built.exists());

    // A full-text search asks for the build; once it is ready, searches are ranked.
    fulltext_search(&mut shim, "lazy.zim", "lazyword");
    wait_for_index_ready(&daemon.socket, &archive);
    assert!(built.is_dir());
    let ranked = fulltext_search(&mut shim, "lazy.zim", "lazyword");
    assert_eq!(result_paths(&ranked), ["Alpha.html"], "{ranked}");
    assert!(ranked["results"][0]["score"].as_f64().is_some(), "{ranked}");

    // A title search needs the folded title index, which is built too.
    let arguments = json!({"zim_file_path": "lazy.zim", "query": "alp", "mode": "title"});
    let titles = shim.call_ok("zim_search", arguments);
    assert_eq!(result_paths(&titles), ["Alpha.html"], "{titles}");
    wait_for_kind_ready(&daemon.socket, &archive, "Titles");
    assert!(built.with_file_name("titles-1.fst").is_file());
}

/// `ozm cleanup [--dry-run] --json`, parsed; fails if the command fails.
fn cleanup(daemon: &Daemon, dry_run: bool) -> Value {
    let mut args = vec!["cleanup", "--json"];
    if dry_run {
        args.push("--dry-run");
    }
    let output = ozm(&daemon.socket, &args);
    assert!(
        output.status.success(),
        "ozm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ozm cleanup --json prints JSON")
}

/// The index directories a cleanup report lists as removed, by name, with their archives.
fn removed(report: &Value) -> Vec<(String, String)> {
    let removed = report["removed_indexes"]
        .as_array()
        .unwrap_or_else(|| panic!("no removed_indexes: {report}"));
    let mut removed: Vec<(String, String)> = removed
        .iter()
        .map(|item| {
            assert!(
                item["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{item}"
            );
            let directory = Path::new(item["directory"].as_str().expect("a directory"));
            let name = directory.file_name().expect("a directory name");
            let archive = item["archive"].as_str().expect("an archive");
            (name.to_string_lossy().into_owned(), archive.to_owned())
        })
        .collect();
    removed.sort();
    removed
}

#[test]
fn cleanup_removes_the_indexes_of_deleted_and_replaced_archives() {
    let (_tmp, dir) = canonical_temp_dir();
    let [kept, deleted, replaced] = ["kept.zim", "deleted.zim", "replaced.zim"].map(|name| {
        let path = dir.join(name);
        write_small_archive(&path, &format!("word{}", name.len()));
        path
    });
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    for archive in [&kept, &deleted, &replaced] {
        wait_for_index_ready(&daemon.socket, archive);
    }
    let [kept_key, deleted_key, old_key] = [&kept, &deleted, &replaced].map(|a| index_key(a));

    // One archive is deleted; another is replaced by rename, and a search notices.
    std::fs::remove_file(&deleted).unwrap();
    let aside = dir.join("replaced.zim.new");
    write_small_archive(&aside, "replacementword");
    std::fs::rename(&aside, &replaced).unwrap();
    let new_key = index_key(&replaced);
    assert_ne!(new_key, old_key);
    fulltext_search(&mut shim, "replaced.zim", "replacementword");
    let new_index = daemon.index_dir().join(&new_key).join("fulltext-1");
    wait_until(INDEX_WAIT, "the replaced archive gets an index", || {
        new_index.is_dir()
    });
    wait_for_index_ready(&daemon.socket, &replaced);
    let answer = fulltext_search(&mut shim, "replaced.zim", "replacementword");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");

    // A dry run lists both stale directories and removes nothing.
    let stale = vec![
        (deleted_key.clone(), deleted.display().to_string()),
        (old_key.clone(), replaced.display().to_string()),
    ];
    let mut stale_sorted = stale.clone();
    stale_sorted.sort();
    let dry = cleanup(&daemon, true);
    assert_eq!(removed(&dry), stale_sorted, "{dry}");
    for key in [&kept_key, &deleted_key, &old_key, &new_key] {
        assert!(
            daemon.index_dir().join(key).is_dir(),
            "{key} went in a dry run"
        );
    }

    // The real cleanup removes them and keeps the live ones.
    let done = cleanup(&daemon, false);
    assert_eq!(removed(&done), stale_sorted, "{done}");
    for (key, _) in &stale {
        assert!(!daemon.index_dir().join(key).exists(), "{key} was kept");
    }
    for key in [&kept_key, &new_key] {
        assert!(daemon.index_dir().join(key).is_dir(), "{key} was removed");
    }
    let answer = fulltext_search(&mut shim, "kept.zim", "word8");
    assert_eq!(result_paths(&answer), ["Alpha.html"], "{answer}");
    assert_eq!(
        removed(&cleanup(&daemon, true)),
        [],
        "nothing is left to clean"
    );
}

#[test]
fn ozm_index_builds_what_it_is_asked_for_and_refuses_what_is_no_archive() {
    let (_tmp, dir) = canonical_temp_dir();
    let archive = dir.join("asked.zim");
    write_small_archive(&archive, "askedword");
    let (_junk, junk) = canonical_temp_dir();
    let text = junk.join("x.zim");
    std::fs::write(&text, "this is a text file, not a ZIM archive\n").unwrap();
    let daemon = Daemon::start();

    // No session has named the directory: `ozm index` makes the daemon find the archive.
    let output = ozm(&daemon.socket, &["index", archive.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ozm index failed: {stderr}");
    let line = stdout
        .lines()
        .find(|line| line.contains(archive.to_str().unwrap()) && line.contains("full-text"))
        .unwrap_or_else(|| panic!("no line on the full-text index: {stdout}"));
    assert!(line.contains("ready"), "{line}");
    let ready = wait_for_index_ready(&daemon.socket, &archive);
    assert_eq!(ready["documents"], 3, "{ready}");

    // A text file named .zim and a missing file are refused with their names.
    for bad in [&text, &junk.join("missing.zim")] {
        let output = ozm(&daemon.socket, &["index", bad.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "ozm index {} succeeded",
            bad.display()
        );
        let name = bad.file_name().unwrap().to_str().unwrap();
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

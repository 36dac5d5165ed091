//! What ozm refuses to serve: damaged archives, which `zim_health` lists as unreadable with the
//! reason while every good archive keeps working, and archives outside the served directories,
//! which no path, absolute path or symlink reaches.

use std::path::{Path, PathBuf};

use ozm_tests::fixture::{Daemon, Shim, WAIT, test_data, wait_until};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// The zim-testing-suite categories, each with its own set of `invalid.*` files.
const CATEGORIES: [&str; 3] = ["nons", "withns", "noTitleListingV0"];

/// The archives of the test data that libzim opens and whose checksum matches.
const GOOD_ARCHIVES: [&str; 16] = [
    "libkiwix/corner_cases#&.zim",
    "libkiwix/example.zim",
    "libkiwix/poor.zim",
    "libkiwix/spelling_correction_test.zim",
    "libkiwix/zimfile.zim",
    "zim-testing-suite/noTitleListingV0/small.zim",
    "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim",
    "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02_splitted.zim",
    "zim-testing-suite/nons/small.zim",
    "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim",
    "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zim",
    "zim-testing-suite/withns/small.zim",
    "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim",
    "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02_splitted.zim",
    "zim-tools/good.zim",
    "zim-tools/poor.zim",
];

/// Asks `zim_health` until no archive's checksum is still being verified, and returns the last
/// answer's archive rows.
fn settled_archives(shim: &mut Shim) -> Vec<Value> {
    let mut rows = Vec::new();
    wait_until(WAIT, "checksums verified", || {
        let health = shim.call_ok("zim_health", json!({}));
        rows = health["loaded_archives"]
            .as_array()
            .expect("an archive list")
            .clone();
        rows.iter().all(|row| row["checksum"] != "pending")
    });
    rows
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|row| row["name"] == name)
        .unwrap_or_else(|| panic!("zim_health does not list {name}"))
}

#[test]
fn every_broken_archive_is_listed_unreadable_with_a_reason_and_good_ones_keep_working() {
    let Some(data) = test_data() else { return };

    // The `.embedded` files hold a ZIM at an offset; copied under `.zim` names they are served.
    let embedded = tempfile::tempdir().expect("temporary directory");
    let mut broken = Vec::new();
    for category in CATEGORIES {
        let dir = data.join("zim-testing-suite").join(category);
        for file in ["small.zim.embedded", "small.zim.embedded.multi"] {
            let copy = format!("{category}-{}.zim", file.replace("small.zim.", "small."));
            std::fs::copy(dir.join(file), embedded.path().join(&copy)).expect("copying");
            broken.push(copy);
        }
        for file in std::fs::read_dir(&dir)
            .expect("listing the test data")
            .flatten()
        {
            let name = file.file_name().into_string().expect("a UTF-8 file name");
            if name.starts_with("invalid.") {
                broken.push(format!("zim-testing-suite/{category}/{name}"));
            }
        }
    }
    broken.push("zim-tools/bad_checksum.zim".to_owned());
    // 12 + 16 + 16 invalid files, bad_checksum.zim and six embedded copies.
    assert_eq!(broken.len(), 51, "{broken:?}");

    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data, embedded.path()]);
    shim.initialize();
    let rows = settled_archives(&mut shim);

    for name in &broken {
        let row = row(&rows, name);
        assert_eq!(row["readable"], false, "{row}");
        let reason = row["error"].as_str().unwrap_or_default();
        assert!(
            !reason.trim().is_empty(),
            "{name} is listed without a reason: {row}"
        );
        // Whether or not it opened, a broken archive is never reported with a valid checksum.
        assert!(
            ["mismatch", "not_checked"].contains(&row["checksum"].as_str().unwrap()),
            "{row}"
        );
    }
    let bad_checksum = row(&rows, "zim-tools/bad_checksum.zim");
    assert_eq!(bad_checksum["checksum"], "mismatch");
    assert!(
        bad_checksum["error"].as_str().unwrap().contains("checksum"),
        "{bad_checksum}"
    );
    let embedded_row = row(&rows, "nons-small.embedded.zim");
    assert!(
        embedded_row["error"]
            .as_str()
            .unwrap()
            .contains("magic number"),
        "{embedded_row}"
    );

    // Everything else is readable with a verified checksum, and nothing else is listed.
    let readable: Vec<&str> = rows
        .iter()
        .filter(|row| row["readable"] == true)
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    assert_eq!(readable, GOOD_ARCHIVES);
    for name in GOOD_ARCHIVES {
        assert_eq!(row(&rows, name)["checksum"], "valid", "{name}");
    }
    assert_eq!(rows.len(), GOOD_ARCHIVES.len() + broken.len());
    let health = shim.call_ok("zim_health", json!({}));
    assert_eq!(health["health"]["status"], "warning");
    assert_eq!(
        health["health"]["warnings"],
        json!(["51 archive(s) cannot be read"])
    );

    // Tools refuse a damaged archive with the reason instead of serving its content.
    for name in [
        "zim-tools/bad_checksum.zim",
        "zim-testing-suite/nons/invalid.outofbounds_titleptrpos.zim",
    ] {
        let refused = shim.call_tool("zim_get", json!({"zim_file_path": name, "main_page": true}));
        assert!(refused.is_error, "{name} was served: {}", refused.body);
        assert_eq!(refused.body["operation"], "archive_unreadable");
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("checksum"),
            "{}",
            refused.body
        );
    }
    let tiny = "zim-testing-suite/withns/invalid.smaller_than_header.zim";
    let refused = shim.call_tool("zim_metadata", json!({"zim_file_path": tiny}));
    assert!(refused.is_error);
    assert_eq!(refused.body["operation"], "archive_unreadable");
    assert_eq!(refused.body["zim_file_path"], tiny);

    // The good archives of the same session still answer, and a search over every archive
    // skips the broken ones.
    let main = json!({"zim_file_path": "zim-tools/good.zim", "main_page": true});
    assert_eq!(shim.call_ok("zim_get", main)["path"], "main.html");
    let everywhere = json!({"query": "Test ZIM", "mode": "title", "cross_file": true, "limit": 50});
    let found = shim.call_ok("zim_search", everywhere);
    let hits = found["results"].as_array().expect("a result list");
    assert!(
        hits.iter()
            .any(|hit| hit["zim_file_path"] == "zim-tools/good.zim"),
        "{found}"
    );
    for hit in hits {
        let archive = hit["zim_file_path"].as_str().unwrap();
        assert!(
            GOOD_ARCHIVES.contains(&archive),
            "a broken archive answered: {hit}"
        );
    }

    // A second client of the same daemon sees the same verdicts at once and reads good archives.
    let mut second = daemon.shim(&[&data, embedded.path()]);
    second.initialize();
    let seen = second.call_ok("zim_health", json!({}));
    assert_eq!(seen["loaded_archives"], json!(rows));
    let article = json!({"zim_file_path": "zim-tools/good.zim", "entry_path": "article1.html"});
    assert_eq!(
        second.call_ok("zim_get", article)["title"],
        "Test ZIM file - Article 1"
    );
    assert!(second.close().success());
    assert!(shim.close().success());
}

#[test]
fn the_embedded_originals_are_not_archive_names_and_are_not_listed() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();
    let health = shim.call_ok("zim_health", json!({}));
    for row in health["loaded_archives"]
        .as_array()
        .expect("an archive list")
    {
        let name = row["name"].as_str().unwrap();
        assert!(name.ends_with(".zim"), "{name} is listed as an archive");
    }
}

/// A served directory with an archive of its own, beside a directory that is not served and
/// holds a secret archive which a symlink and a symlinked directory in the served one point to.
struct Layout {
    _root: tempfile::TempDir,
    served: PathBuf,
    secret: PathBuf,
}

fn layout() -> Layout {
    let root = tempfile::tempdir().expect("temporary directory");
    let served = root.path().join("served");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&served).expect("served directory");
    std::fs::create_dir_all(&outside).expect("outside directory");
    let secret = outside.join("secret.zim");
    ZimBuilder::new()
        .metadata("Title", "Classified")
        .article("Hidden.html", "Hidden", "<p>classified content</p>")
        .main_page("Hidden.html")
        .write(&secret)
        .expect("writing the secret archive");
    ZimBuilder::new()
        .metadata("Title", "Open")
        .article("Open.html", "Open", "<p>public content</p>")
        .main_page("Open.html")
        .write(&served.join("own.zim"))
        .expect("writing the served archive");
    std::os::unix::fs::symlink(&secret, served.join("link.zim")).expect("a file symlink");
    std::os::unix::fs::symlink(&outside, served.join("elsewhere")).expect("a directory symlink");
    let served = std::fs::canonicalize(served).expect("canonical served directory");
    let secret = std::fs::canonicalize(secret).expect("canonical secret archive");
    Layout {
        _root: root,
        served,
        secret,
    }
}

/// Every tool that takes an archive, asked about `archive`.
fn every_tool(archive: &str) -> [(&'static str, Value); 4] {
    [
        ("zim_metadata", json!({"zim_file_path": archive})),
        (
            "zim_get",
            json!({"zim_file_path": archive, "main_page": true}),
        ),
        (
            "zim_browse",
            json!({"zim_file_path": archive, "namespace": "C"}),
        ),
        (
            "zim_search",
            json!({"zim_file_path": archive, "query": "Hid", "mode": "title"}),
        ),
    ]
}

#[test]
fn archives_outside_the_served_directories_are_refused_however_they_are_named() {
    let layout = layout();
    let served = &layout.served;
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[served]);
    shim.initialize();

    // Only the served directory's own archive is listed; the symlinks lead outside.
    let health = shim.call_ok("zim_health", json!({}));
    let names: Vec<&str> = health["loaded_archives"]
        .as_array()
        .expect("an archive list")
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["own.zim"]);

    let absolute = |path: &Path| path.to_str().expect("a UTF-8 path").to_owned();
    let attempts = [
        ("../outside/secret.zim".to_owned(), "access_denied"),
        (
            "elsewhere/../../outside/secret.zim".to_owned(),
            "access_denied",
        ),
        (absolute(&layout.secret), "access_denied"),
        (
            format!("{}/../outside/secret.zim", absolute(served)),
            "access_denied",
        ),
        (absolute(&served.join("link.zim")), "access_denied"),
        (
            absolute(&served.join("elsewhere/secret.zim")),
            "access_denied",
        ),
        ("/etc/passwd".to_owned(), "access_denied"),
        ("link.zim".to_owned(), "missing_archive"),
        ("elsewhere/secret.zim".to_owned(), "missing_archive"),
        ("secret.zim".to_owned(), "missing_archive"),
    ];
    for (archive, operation) in &attempts {
        for (tool, arguments) in every_tool(archive) {
            let refused = shim.call_tool(tool, arguments);
            assert!(
                refused.is_error,
                "{tool} served {archive}: {}",
                refused.body
            );
            assert_eq!(
                refused.body["operation"], *operation,
                "{tool} {archive}: {}",
                refused.body
            );
            let text = refused.body.to_string();
            assert!(
                !text.contains("lassified") && !text.contains("Hidden"),
                "{text}"
            );
        }
    }

    // The served archive itself is read normally, by name and by absolute path.
    let own = absolute(&served.join("own.zim"));
    for archive in ["own.zim", own.as_str()] {
        let page = shim.call_ok(
            "zim_get",
            json!({"zim_file_path": archive, "main_page": true}),
        );
        assert_eq!(page["path"], "Open.html");
        assert!(
            page["content"].as_str().unwrap().contains("public content"),
            "{page}"
        );
    }
    assert!(shim.close().success());
}

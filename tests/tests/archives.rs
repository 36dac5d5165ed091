//! What `zim_metadata` tells a user about each kind of real archive: the values libzim reports
//! (shared/zim/ORACLE.md) for the old and new namespace schemes, ZIM 6.3 without a v0 title
//! listing, split sets named either way, and archives with odd or missing metadata.

use ozm_tests::fixture::{Daemon, test_data};
use serde_json::{Value, json};

/// What libzim reports about one archive, as `zim_metadata` should show it.
struct Expected {
    /// The `zim_file_path` asked for.
    name: &'static str,
    /// The name the answer gives back (a split set answers with its `.zim` name).
    answered_as: &'static str,
    version: &'static str,
    uuid: &'static str,
    multipart: bool,
    /// article_count, entry_count, all_entry_count.
    counts: [u64; 3],
    /// has_fulltext_index, has_title_index.
    indexes: [bool; 2],
    /// Namespace letters with their entry counts, in order.
    namespaces: &'static [(&'static str, u64)],
    /// Blocks of `Key = value` lines, as ORACLE.md writes them.
    metadata: &'static [&'static str],
    absent: &'static [&'static str],
}

/// What every copy of the Belarusian Wikibooks says about itself.
const WIKIBOOKS: &str = "\
    Title = Wikibooks
    Language = bel
    Creator = Wikibooks
    Publisher = Kiwix
    Date = 2017-02-13
    Description = З пляцоўкі Wikibooks
    Name = kiwix.wikibooks_be_all
    Tags = nopic";

/// The new-scheme copies (`nons`, `noTitleListingV0`) also carry an illustration.
const NEW_WIKIBOOKS: &str = "\
    Counter = application/javascript=3;image/gif=2;image/png=32;text/css=1;text/html=66
    Illustration_48x48@1 = <PNG, 2091 bytes>";

const WITHNS_WIKIBOOKS: Expected = Expected {
    name: "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim",
    answered_as: "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim",
    version: "5.0",
    uuid: "be32cda4-a5c9-2ee2-1a2b-9502ee3b53ed",
    multipart: false,
    counts: [66, 118, 118],
    indexes: [false, false],
    // 66 articles and 4 redirects in `A`, 34 images in `I`, a stylesheet, 3 scripts and the
    // favicon redirect in `-`, 9 metadata values in `M`.
    namespaces: &[("-", 5), ("A", 70), ("I", 34), ("M", 9)],
    metadata: &[
        WIKIBOOKS,
        "Counter = application/javascript=3;image/gif=2;image/png=32;text/css=1;text/html=66;\
         text/plain=9;",
    ],
    absent: &["Illustration_48x48@1"],
};

const NONS_WIKIBOOKS: Expected = Expected {
    name: "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim",
    answered_as: "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim",
    version: "6.1",
    uuid: "e05d7de7-41cd-85d0-c38e-f79cff8f78d6",
    multipart: false,
    counts: [66, 109, 123],
    indexes: [false, true],
    namespaces: &[("C", 109), ("M", 10), ("W", 1), ("X", 3)],
    metadata: &[WIKIBOOKS, NEW_WIKIBOOKS],
    absent: &[],
};

const V63_WIKIBOOKS: Expected = Expected {
    name: "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim",
    answered_as: "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim",
    version: "6.3",
    uuid: "dca4bf30-40a9-ddd8-c3a6-de1ce2aa3cdc",
    indexes: [true, true],
    ..NONS_WIKIBOOKS
};

/// The same facts as `single`, read from its split set under `name`.
fn split(single: Expected, name: &'static str, answered_as: &'static str) -> Expected {
    Expected {
        name,
        answered_as,
        multipart: true,
        ..single
    }
}

const RAY_CHARLES: Expected = Expected {
    name: "libkiwix/zimfile.zim",
    answered_as: "libkiwix/zimfile.zim",
    version: "5.0",
    uuid: "6f1d19d0-633f-087b-fb55-7ac324ff9baf",
    multipart: false,
    counts: [129, 371, 371],
    indexes: [true, true],
    // 129 articles and all 155 redirects in `A`; in `-` the 72 resources the Counter lists.
    namespaces: &[("-", 72), ("A", 284), ("I", 2), ("M", 11), ("X", 2)],
    metadata: &["\
        Title = Ray Charles
        Language = eng
        Creator = Wikipedia
        Publisher = Kiwix
        Date = 2020-03-31
        Description = Wikipedia articles about Ray Charles
        Name = wikipedia_en_ray_charles
        Counter = text/plain=10;text/css=14;application/javascript=15;image/png=24;text/html=129;\
            image/svg+xml=16;image/gif=3;image/jpeg=2
        Tags = wikipedia;_category:wikipedia;_pictures:no;_videos:no;_details:no;_ftindex:yes
        Flavour = _mini
        Scraper = mwoffliner 1.10.2"],
    absent: &[],
};

const GOOD: Expected = Expected {
    name: "zim-tools/good.zim",
    answered_as: "zim-tools/good.zim",
    version: "6.1",
    uuid: "00000000-0000-0000-0000-000000000000",
    multipart: false,
    counts: [3, 4, 19],
    indexes: [false, true],
    namespaces: &[("C", 4), ("M", 11), ("W", 1), ("X", 3)],
    metadata: &["\
        Title = Test ZIM file
        Language = eng
        Creator = N/A
        Publisher = N/A
        Date = 2026-08-07
        Description = N/A
        Name = good_zimfile
        Counter = image/png=1;text/html=3
        Tags = _ftindex:no
        Scraper = zimwriterfs-3.1.3
        Illustration_48x48@1 = <PNG, 5123 bytes>"],
    absent: &[],
};

/// Old zimwriterfs output: values with a stray `=`, and several empty ones.
const OLD_SMALL: Expected = Expected {
    name: "zim-testing-suite/withns/small.zim",
    answered_as: "zim-testing-suite/withns/small.zim",
    version: "5.0",
    uuid: "eeb924bb-0f5b-60f6-9d13-1259f6516ae7",
    multipart: false,
    counts: [1, 17, 17],
    indexes: [true, true],
    namespaces: &[("-", 1), ("A", 1), ("I", 1), ("M", 12), ("X", 2)],
    metadata: &["\
        Title = =Test ZIM file
        Language = =en
        Creator = =
        Publisher = =
        Date = 2020-11-15
        Description = =
        Name =
        Counter = image/png=1;text/html=1;
        Tags = _ftindex:yes;_ftindex
        Flavour =
        Scraper =
        Source ="],
    absent: &[],
};

/// ZIM 5.1: its minor version makes it new-scheme, so its paths have no `A/`.
const OLD_POOR: Expected = Expected {
    name: "libkiwix/poor.zim",
    answered_as: "libkiwix/poor.zim",
    version: "5.1",
    uuid: "00000000-0000-0000-0000-000000000000",
    multipart: false,
    counts: [0, 12, 22],
    indexes: [false, true],
    namespaces: &[("C", 12), ("M", 7), ("X", 3)],
    metadata: &["\
        Language = en
        Creator = N/A
        Publisher = N/A
        Date = 2021-03-02
        Counter = image/png=1;text/html=8;
        Tags = _ftindex:no
        Scraper = zimwriterfs-2.2.0"],
    absent: &["Title", "Description", "Name"],
};

const POOR: Expected = Expected {
    name: "zim-tools/poor.zim",
    answered_as: "zim-tools/poor.zim",
    version: "6.1",
    uuid: "00000000-0000-0000-0000-000000000000",
    multipart: false,
    counts: [16, 17, 28],
    indexes: [false, true],
    namespaces: &[("C", 17), ("M", 8), ("X", 3)],
    metadata: &["\
        Language = en
        Date = 2026-08-07
        Name = poor_zimfile
        Counter = image/png=1;text/html=13"],
    absent: &["Title", "Description"],
};

const CORNER_CASES: Expected = Expected {
    name: "libkiwix/corner_cases#&.zim",
    answered_as: "libkiwix/corner_cases#&.zim",
    version: "6.1",
    uuid: "702abcbe-6fe9-2615-2f5d-451af7986437",
    multipart: false,
    counts: [2, 7, 18],
    indexes: [false, true],
    namespaces: &[("C", 7), ("M", 7), ("W", 1), ("X", 3)],
    metadata: &["\
        Title = ZIM corner cases
        Language = en
        Date = 2023-01-17
        Counter = application/javascript=1;image/png=1;text/css=1;text/html=2
        Illustration_48x48@1 = <PNG, 0 bytes>"],
    absent: &["Creator", "Publisher", "Description", "Name"],
};

/// No entry carries the front-article flag, so libzim counts no articles.
const EXAMPLE: Expected = Expected {
    name: "libkiwix/example.zim",
    answered_as: "libkiwix/example.zim",
    version: "6.1",
    uuid: "5dc0b3af-5df2-0925-f0ca-d2bf75e78af6",
    multipart: false,
    counts: [0, 60, 75],
    indexes: [true, true],
    namespaces: &[("C", 60), ("M", 9), ("W", 2), ("X", 4)],
    metadata: &["\
        Title = Wikibooks
        Creator = test
        Date = 2021-04-17
        Description = testZim
        Counter = image/jpeg=1;image/png=21;inode/x-empty=6;text/html=4;text/plain=28;"],
    absent: &["Name"],
};

const SPELLING: Expected = Expected {
    name: "libkiwix/spelling_correction_test.zim",
    answered_as: "libkiwix/spelling_correction_test.zim",
    version: "6.3",
    uuid: "554c9707-897e-097a-53ba-1b1306d8bb88",
    multipart: false,
    counts: [62, 63, 77],
    indexes: [false, true],
    namespaces: &[("C", 63), ("M", 11), ("W", 1), ("X", 2)],
    metadata: &["\
        Title = Spelling corrections test
        Language = deu
        Description = ZIM file for testing spelling corrections
        Illustration_48x48@1 = <PNG, 1011 bytes>"],
    absent: &[],
};

/// Compares one `zim_metadata` answer with what libzim reports, naming the archive on failure.
fn check(answer: &Value, expected: &Expected) {
    let name = expected.name;
    assert_eq!(answer["zim_file_path"], expected.answered_as, "{name}");
    let identity = &answer["archive_identity"];
    assert_eq!(identity["format_version"], expected.version, "{name}");
    assert_eq!(identity["uuid"], expected.uuid, "{name}");
    assert_eq!(identity["is_multipart"], expected.multipart, "{name}");

    let [articles, entries, all] = expected.counts;
    let counts = json!({"article_count": articles, "entry_count": entries, "all_entry_count": all});
    assert_eq!(answer["counts"], counts, "{name}");
    let [fulltext, title] = expected.indexes;
    let capabilities = &answer["index_capabilities"];
    assert_eq!(capabilities["has_fulltext_index"], fulltext, "{name}");
    assert_eq!(capabilities["has_title_index"], title, "{name}");
    let searched_by_index = capabilities["fulltext_search"] == "the archive's Xapian index";
    assert_eq!(searched_by_index, fulltext, "{name}: {capabilities}");

    let namespaces: Vec<(&str, u64)> = answer["namespaces"]
        .as_array()
        .expect("a namespace list")
        .iter()
        .map(|ns| {
            (
                ns["namespace"].as_str().unwrap(),
                ns["entries"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(namespaces, expected.namespaces, "{name}");
    // Every entry belongs to exactly one namespace.
    assert_eq!(
        namespaces.iter().map(|(_, count)| count).sum::<u64>(),
        all,
        "{name}"
    );

    let metadata = &answer["metadata"];
    for line in expected.metadata.iter().flat_map(|block| block.lines()) {
        let (key, value) = line.split_once('=').expect("a `Key = value` line");
        let key = key.trim();
        assert_eq!(metadata[key], value.trim(), "{name}: metadata {key}");
    }
    for key in expected.absent {
        assert!(
            metadata.get(key).is_none(),
            "{name}: {key} should be absent: {metadata}"
        );
    }
}

#[test]
fn metadata_counts_and_indexes_match_libzim_for_every_archive_format() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();

    let nons = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zim";
    let withns = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02_splitted.zim";
    let v63 = "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02_splitted.zim";
    let cases = [
        WITHNS_WIKIBOOKS,
        NONS_WIKIBOOKS,
        V63_WIKIBOOKS,
        // A split set is named by its `.zim` name or by its first part, and answers as the set.
        split(NONS_WIKIBOOKS, nons, nons),
        split(
            NONS_WIKIBOOKS,
            "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zimaa",
            nons,
        ),
        split(
            WITHNS_WIKIBOOKS,
            "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02_splitted.zimaa",
            withns,
        ),
        split(V63_WIKIBOOKS, v63, v63),
        RAY_CHARLES,
        GOOD,
        OLD_SMALL,
        OLD_POOR,
        POOR,
        CORNER_CASES,
        EXAMPLE,
        SPELLING,
    ];
    for expected in &cases {
        let answer = shim.call_ok("zim_metadata", json!({"zim_file_path": expected.name}));
        check(&answer, expected);
    }
}

#[test]
fn any_part_of_a_split_set_names_the_whole_set_which_is_listed_once() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();

    let set = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zim";
    let last = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zimac";
    let answer = shim.call_ok("zim_metadata", json!({"zim_file_path": last}));
    check(&answer, &split(NONS_WIKIBOOKS, last, set));

    // zim_health lists the set once, under its `.zim` name, with the size of all three parts.
    let health = shim.call_ok("zim_health", json!({}));
    let listed: Vec<&Value> = health["loaded_archives"]
        .as_array()
        .expect("an archive list")
        .iter()
        .filter(|row| {
            row["name"]
                .as_str()
                .unwrap()
                .starts_with(set.trim_end_matches(".zim"))
        })
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], set);
    assert_eq!(listed[0]["split"], true);
    assert_eq!(listed[0]["size_bytes"], 1024 + 133_601 + 77_357);
}

#[test]
fn the_same_file_name_in_two_served_directories_gets_a_name_per_directory() {
    let Some(data) = test_data() else { return };
    let (nons, withns) = (
        data.join("zim-testing-suite/nons"),
        data.join("zim-testing-suite/withns"),
    );
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&nons, &withns]);
    shim.initialize();

    let health = shim.call_ok("zim_health", json!({}));
    let names: Vec<&str> = health["loaded_archives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["name"].as_str())
        .filter(|name| name.ends_with("small.zim"))
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["nons/small.zim", "withns/small.zim"], "{names:?}");

    // Each name reaches its own archive: the new scheme and the old one.
    for (name, main_page) in [
        ("nons/small.zim", "main.html"),
        ("withns/small.zim", "A/main.html"),
    ] {
        let page = shim.call_ok("zim_get", json!({"zim_file_path": name, "main_page": true}));
        assert_eq!(page["path"], main_page, "{name}");
        assert_eq!(page["zim_file_path"], name);
    }
    // The bare file name is ambiguous, and the answer offers the labelled names.
    let bare = shim.call_tool(
        "zim_metadata",
        json!({"zim_file_path": "wikibooks_be_all_nopic_2017-02.zim"}),
    );
    assert_eq!(
        bare.body["operation"], "ambiguous_archive",
        "both hold it: {}",
        bare.body
    );
    let candidates = bare.body["candidates"].as_array().unwrap();
    assert!(candidates.contains(&json!("nons/wikibooks_be_all_nopic_2017-02.zim")));
}

//! Searching archives that carry no Xapian index, through the index ozm builds for them: text in
//! many scripts found as a reader would type it, answers shaped exactly like those of an
//! embedded index, one ranking across both kinds of archive, concurrent sessions, and title
//! suggestions that ignore case. Every archive here is written by the tests' own ZIM writer,
//! which writes no Xapian index, so each is searched through ozm's own.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use ozm_tests::fixture::{
    Daemon, Shim, canonical_temp_dir, result_paths, status_json, test_data, wait_for_index_ready,
    wait_for_kind_ready,
};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// Filler articles of the script archive, each with a made-up word of its own in its body.
const FILLERS: usize = 50;

/// The made-up word only filler article `n` holds.
fn filler_word(n: usize) -> String {
    format!("zqvx{n:04}")
}

/// The path of filler article `n`.
fn filler_path(n: usize) -> String {
    format!("Filler{n:02}.html")
}

/// A French article, written into archives of both languages to show the stemmer is chosen by
/// the archive's `Language`.
const CHANTEUSES: (&str, &str, &str) = (
    "Chanteuses.html",
    "Les chanteuses",
    "<p>Elles chantaient toute la nuit.</p>",
);

/// Writes `scripts.zim` (English): articles in Latin with accents, Cyrillic, Greek, Chinese and
/// Japanese, markup that must not be indexed, a redirect, near and distant word pairs, and
/// [`FILLERS`] fillers sharing the word `paragraph` (repeated 1–3 times, so scores differ
/// and tie).
fn write_scripts_archive(dir: &Path) -> PathBuf {
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Scripts").metadata("Language", "eng");
    let articles = [
        (
            "Elections.html",
            "Élections en France",
            "<p>Les élections législatives ont eu lieu en juin.</p>",
        ),
        (
            "Dusseldorf.html",
            "Düsseldorf",
            "<p>Düsseldorf liegt am Rhein und ist eine Landeshauptstadt.</p>",
        ),
        (
            "Moskva.html",
            "Москва",
            concat!(
                "<p>Москва — столица России, ",
                "крупнейший город страны.</p>"
            ),
        ),
        (
            "Athina.html",
            "Αθήνα",
            "<p>Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.</p>",
        ),
        (
            "Beijing.html",
            "北京",
            "<p>北京是中华人民共和国的首都，也是全国的政治中心。</p>",
        ),
        (
            "Fuji.html",
            "富士山",
            concat!(
                "<p>富士山は日本で一番高い山です。",
                "わたしは毎日べんきょうします。</p>"
            ),
        ),
        (
            "Morning.html",
            "Morning habits",
            "<p>She runs along the river every morning.</p>",
        ),
        (
            "Markup.html",
            "Markup",
            "<html><head><style>.stylehiddenword { color: red }</style>\
             <script>var scripthiddenword = 1;</script></head>\
             <body><p>Only visiblemarkupword is shown.</p>\
             <script>document.write('scripthiddenword');</script></body></html>",
        ),
        (
            "Lighthouse.html",
            "Lighthouse keeper",
            "<p>The keeper tends the lamp.</p>",
        ),
        (
            "Velvet1.html",
            "Evening storm",
            "<p>A velvet thunder rolled over the hills.</p>",
        ),
        (
            "Velvet2.html",
            "Theatre",
            "<p>Thunder shook the velvet curtains.</p>",
        ),
        CHANTEUSES,
    ];
    for (path, title, html) in articles {
        zim.article(path, title, html);
    }
    zim.redirect("Zorbleflux.html", "Zorbleflux beacon", "Lighthouse.html");
    for n in 1..=FILLERS {
        let html = format!(
            "<p>This {} holds the marker {} and nothing else of note.</p>",
            "paragraph ".repeat(n % 3 + 1),
            filler_word(n)
        );
        zim.article(&filler_path(n), &format!("Filler page {n}"), &html);
    }
    let path = dir.join("scripts.zim");
    zim.write(&path).expect("writing scripts.zim");
    path
}

/// Writes `chansons.zim`, in French, with the article [`CHANTEUSES`].
fn write_french_archive(dir: &Path) -> PathBuf {
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Chansons")
        .metadata("Language", "fra");
    let (path, title, html) = CHANTEUSES;
    zim.article(path, title, html)
        .article("Accueil.html", "Accueil", "<p>Bienvenue.</p>");
    let path = dir.join("chansons.zim");
    zim.write(&path).expect("writing chansons.zim");
    path
}

/// A daemon and an initialised shim serving `directory`.
fn serve(directory: &Path) -> (Daemon, Shim) {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[directory]);
    shim.initialize();
    (daemon, shim)
}

/// A full-text search of one archive, up to 50 rows.
fn fulltext(shim: &mut Shim, archive: &str, query: &str) -> Value {
    let arguments = json!({"zim_file_path": archive, "query": query, "limit": 50});
    shim.call_ok("zim_search", arguments)
}

fn rows(answer: &Value) -> &Vec<Value> {
    answer["results"].as_array().expect("a result list")
}

fn path_set(answer: &Value) -> BTreeSet<&str> {
    result_paths(answer).into_iter().collect()
}

fn keys(object: &Value) -> BTreeSet<&str> {
    let object = object.as_object().expect("an object");
    object.keys().map(String::as_str).collect()
}

/// What a search for a word finds first and how many it finds, for a failure message.
fn summary(answer: &Value) -> String {
    format!("total {} rows {:?}", answer["total"], result_paths(answer))
}

#[test]
fn text_in_every_script_is_found_as_a_reader_types_it() {
    let (_dir, dir) = canonical_temp_dir();
    let scripts = write_scripts_archive(&dir);
    let french = write_french_archive(&dir);
    let (daemon, mut shim) = serve(&dir);
    wait_for_index_ready(&daemon.socket, &scripts);
    wait_for_index_ready(&daemon.socket, &french);

    // Each query finds exactly the one article that holds it: accents and case do not matter,
    // Chinese and Japanese are found from any run of characters, English words by their stem.
    // The snippet shows the words as the article writes them, in bold.
    let unique = [
        ("elections", "Elections.html", "élections"),
        ("ÉLECTIONS", "Elections.html", "élections"),
        ("Dusseldorf", "Dusseldorf.html", "Düsseldorf"),
        ("DÜSSELDORF", "Dusseldorf.html", "Düsseldorf"),
        ("москва", "Moskva.html", "Москва"),
        ("СТОЛИЦА", "Moskva.html", "столица"),
        ("ΑΘΗΝΑ", "Athina.html", "Αθήνα"),
        ("αθηνα", "Athina.html", "Αθήνα"),
        ("πρωτευουσα", "Athina.html", "πρωτεύουσα"),
        ("ΕΛΛΑΔΑΣ", "Athina.html", "Ελλάδας"),
        ("首都", "Beijing.html", "首都"),
        ("人民共和国", "Beijing.html", "人民共和国"),
        ("华", "Beijing.html", "华"),
        ("富士山は", "Fuji.html", "富士山は"),
        ("べんきょう", "Fuji.html", "べんきょう"),
        ("running", "Morning.html", "runs"),
        ("visiblemarkupword", "Markup.html", "visiblemarkupword"),
    ];
    for (query, path, shown) in unique {
        let answer = fulltext(&mut shim, "scripts.zim", query);
        assert_eq!(
            result_paths(&answer),
            [path],
            "{query}: {}",
            summary(&answer)
        );
        assert_eq!(answer["total"], 1, "{query}");
        let row = &rows(&answer)[0];
        assert!(row["score"].as_f64().is_some(), "{query}: {row}");
        let snippet = row["snippet"].as_str().expect("a snippet");
        assert!(
            snippet.contains(&format!("**{shown}**")),
            "{query}: **{shown}** is not in the snippet {snippet:?}"
        );
    }

    // A redirect's title finds the article it leads to.
    let answer = fulltext(&mut shim, "scripts.zim", "zorbleflux");
    assert_eq!(
        result_paths(&answer),
        ["Lighthouse.html"],
        "{}",
        summary(&answer)
    );

    // Every filler is found by its own word, and by nothing else.
    for n in 1..=FILLERS {
        let answer = fulltext(&mut shim, "scripts.zim", &filler_word(n));
        assert_eq!(
            result_paths(&answer),
            [filler_path(n)],
            "{}: {}",
            filler_word(n),
            summary(&answer)
        );
    }

    // Words inside <script> and <style> are no text; neither is a French verb an English
    // stemmer does not reduce to the stem of `chantaient`.
    for query in ["scripthiddenword", "stylehiddenword", "chanter"] {
        let answer = fulltext(&mut shim, "scripts.zim", query);
        assert_eq!(answer["total"], 0, "{query}: {}", summary(&answer));
        assert!(rows(&answer).is_empty(), "{query}: {answer}");
    }

    // The French archive is stemmed in French: `chanter` finds `chantaient`.
    let answer = fulltext(&mut shim, "chansons.zim", "chanter");
    assert_eq!(
        result_paths(&answer),
        [CHANTEUSES.0],
        "{}",
        summary(&answer)
    );

    // A phrase needs its words side by side; -word excludes; OR offers alternatives.
    let both = BTreeSet::from(["Velvet1.html", "Velvet2.html"]);
    let near = BTreeSet::from(["Velvet1.html"]);
    for (query, want) in [
        ("velvet thunder", &both),
        ("\"velvet thunder\"", &near),
        ("velvet -curtains", &near),
        ("hills OR curtains", &both),
    ] {
        let answer = fulltext(&mut shim, "scripts.zim", query);
        assert_eq!(&path_set(&answer), want, "{query}: {}", summary(&answer));
        assert_eq!(answer["total"], want.len(), "{query}");
    }
}

#[test]
fn answers_have_the_shape_of_embedded_index_answers_and_page_exactly() {
    let (_dir, dir) = canonical_temp_dir();
    let scripts = write_scripts_archive(&dir);
    let (daemon, mut shim) = serve(&dir);
    wait_for_index_ready(&daemon.socket, &scripts);

    // All fillers hold `paragraph`; pages of 20 cover them once each, and say where the next
    // page starts until the last.
    let mut seen = Vec::new();
    let mut offset = Some(0);
    let mut pages = 0;
    while let Some(at) = offset {
        let arguments = json!({
            "zim_file_path": "scripts.zim", "query": "paragraph", "limit": 20, "offset": at
        });
        let answer = shim.call_ok("zim_search", arguments);
        assert_eq!(answer["total"], FILLERS, "{answer}");
        assert!(answer.get("notes").is_none(), "{answer}");
        let page_info = &answer["page_info"];
        assert_eq!(
            keys(page_info),
            BTreeSet::from(["limit", "next_offset", "offset", "total_is_lower_bound"])
        );
        assert_eq!(page_info["offset"], at);
        assert_eq!(page_info["limit"], 20);
        assert_eq!(page_info["total_is_lower_bound"], false);
        for row in rows(&answer) {
            assert_eq!(
                keys(row),
                BTreeSet::from(["path", "score", "snippet", "title", "zim_file_path"]),
                "{row}"
            );
            assert_eq!(row["zim_file_path"], "scripts.zim");
            let path = row["path"].as_str().unwrap();
            let n: usize = path["Filler".len()..path.len() - ".html".len()]
                .parse()
                .unwrap_or_else(|_| panic!("not a filler: {row}"));
            assert_eq!(row["title"], format!("Filler page {n}"), "{row}");
            let snippet = row["snippet"].as_str().expect("a snippet");
            assert!(snippet.contains("**paragraph**"), "{row}");
            assert!(
                row["score"].as_f64().is_some_and(|score| score > 0.0),
                "{row}"
            );
        }
        let scores: Vec<f64> = rows(&answer)
            .iter()
            .map(|row| row["score"].as_f64().unwrap())
            .collect();
        assert!(scores.is_sorted_by(|a, b| a >= b), "best first: {scores:?}");
        seen.extend(result_paths(&answer).into_iter().map(str::to_owned));
        pages += 1;
        offset = page_info["next_offset"].as_u64();
        if let Some(next) = offset {
            assert_eq!(next, at + 20);
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), FILLERS, "{seen:?}");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        FILLERS,
        "a row came twice"
    );

    // Articles that repeat the word rank above those that hold it once.
    let first = fulltext(&mut shim, "scripts.zim", "paragraph");
    let thrice: HashSet<String> = (1..=FILLERS)
        .filter(|n| n % 3 == 2)
        .map(filler_path)
        .collect();
    let top: HashSet<String> = result_paths(&first)
        .into_iter()
        .take(thrice.len())
        .map(str::to_owned)
        .collect();
    assert_eq!(top, thrice, "{:?}", result_paths(&first));
}

#[test]
fn one_ranking_mixes_an_embedded_index_and_an_own_index() {
    let Some(data) = test_data() else { return };
    let (_dir, dir) = canonical_temp_dir();
    std::fs::copy(data.join("libkiwix/zimfile.zim"), dir.join("zimfile.zim"))
        .expect("copying zimfile.zim");
    let music = dir.join("music.zim");
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Music").metadata("Language", "eng");
    zim.article(
        "Piano.html",
        "Piano",
        "<p>The piano has 88 keys; a piano sounds when a hammer strikes a string.</p>",
    )
    .article(
        "Organ.html",
        "Organ",
        "<p>An organ is older than the piano.</p>",
    )
    .article("Drum.html", "Drum", "<p>A drum is struck.</p>");
    zim.write(&music).expect("writing music.zim");
    let (daemon, mut shim) = serve(&dir);
    wait_for_index_ready(&daemon.socket, &music);

    // The two kinds of index answer in the same shape.
    let own = fulltext(&mut shim, "music.zim", "piano");
    let embedded = fulltext(&mut shim, "zimfile.zim", "piano");
    assert_eq!(path_set(&own), BTreeSet::from(["Organ.html", "Piano.html"]));
    assert_eq!(embedded["total"], 13, "{}", summary(&embedded));
    assert_eq!(keys(&own), keys(&embedded));
    assert_eq!(keys(&rows(&own)[0]), keys(&rows(&embedded)[0]));
    assert_eq!(keys(&own["page_info"]), keys(&embedded["page_info"]));

    // Across archives: one ranking by score, rows of both archives, every match counted.
    let arguments = json!({"query": "piano", "cross_file": true, "limit": 50});
    let answer = shim.call_ok("zim_search", arguments);
    assert_eq!(answer["total"], 15, "{answer}");
    assert_eq!(answer["files_searched"], 2);
    assert!(answer.get("notes").is_none(), "{answer}");
    let archives: BTreeSet<&str> = rows(&answer)
        .iter()
        .map(|row| row["zim_file_path"].as_str().unwrap())
        .collect();
    assert_eq!(archives, BTreeSet::from(["music.zim", "zimfile.zim"]));
    let scores: Vec<f64> = rows(&answer)
        .iter()
        .map(|row| row["score"].as_f64().expect("every row ranked"))
        .collect();
    assert_eq!(scores.len(), 15);
    assert!(scores.is_sorted_by(|a, b| a >= b), "best first: {scores:?}");
}

#[test]
fn two_sessions_searching_at_once_get_the_same_answers_from_one_index() {
    let (_dir, dir) = canonical_temp_dir();
    let scripts = write_scripts_archive(&dir);
    let daemon = Daemon::start();
    let mut first = daemon.shim(&[&dir]);
    let mut second = daemon.shim(&[&dir]);
    first.initialize();
    second.initialize();
    wait_for_index_ready(&daemon.socket, &scripts);

    // Each session searches from its own thread; every answer is the first one.
    let arguments = json!({"zim_file_path": "scripts.zim", "query": "paragraph", "limit": 20});
    let expected = first.call_ok("zim_search", arguments.clone());
    assert_eq!(expected["total"], FILLERS);
    let searching = [first, second].map(|mut shim| {
        let arguments = arguments.clone();
        std::thread::spawn(move || {
            let answers: Vec<Value> = (0..50)
                .map(|_| shim.call_ok("zim_search", arguments.clone()))
                .collect();
            (shim, answers)
        })
    });
    // The sessions stay open until the status is read.
    let mut sessions = Vec::new();
    for thread in searching {
        let (shim, answers) = thread.join().expect("a searching session");
        for answer in answers {
            assert_eq!(answer, expected);
        }
        sessions.push(shim);
    }

    // One index serves both sessions.
    let status = status_json(&daemon.socket);
    let builds = status["indexes"]
        .as_array()
        .expect("an index list")
        .iter()
        .filter(|index| index["archive"] == scripts.to_str().unwrap())
        .filter(|index| index["kind"] == "Fulltext")
        .count();
    assert_eq!(builds, 1, "{status}");
}

#[test]
fn suggestions_and_title_search_ignore_case_in_cyrillic() {
    let Some(data) = test_data() else { return };
    let (_dir, dir) = canonical_temp_dir();
    let name = "wikibooks_be_all_nopic_2017-02.zim";
    let archive = dir.join(name);
    std::fs::copy(data.join("zim-testing-suite/withns").join(name), &archive)
        .expect("copying the Belarusian Wikibooks");
    let (daemon, mut shim) = serve(&dir);
    wait_for_kind_ready(&daemon.socket, &archive, "Titles");

    // The titles that matched: a redirect's own title, where a row was led to its target.
    let mut titles = |mode: &str, query: &str| -> Vec<String> {
        let arguments = json!({"zim_file_path": name, "query": query, "mode": mode, "limit": 50});
        let answer = shim.call_ok("zim_search", arguments);
        rows(&answer)
            .iter()
            .map(|row| {
                let title = row.get("matched_title").unwrap_or(&row["title"]);
                title.as_str().expect("a title").to_owned()
            })
            .collect()
    };
    for mode in ["suggest", "title"] {
        let esperanto = ("эспэранта", "Эспэранта");
        let cookery = ("кулінар", "Кулінар");
        let prefixes = [esperanto, cookery];
        for (lower, capital) in prefixes {
            let found = titles(mode, lower);
            assert!(!found.is_empty(), "{mode} {lower}: nothing");
            assert!(
                found
                    .iter()
                    .all(|title| title.to_lowercase().starts_with(lower)),
                "{mode} {lower}: {found:?}"
            );
            assert_eq!(titles(mode, capital), found, "{mode} {capital}");
            assert_eq!(titles(mode, &capital.to_uppercase()), found, "{mode} upper");
        }
    }
}

/// Writes `pasted.zim` (English): an article whose accents are written as HTML entities and
/// whose long word carries a soft hyphen, a Japanese and Chinese one with the punctuation of
/// those scripts between its runs, one holding a word found nowhere else, and one plain page.
fn write_pasted_archive(dir: &Path) -> PathBuf {
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Pasted").metadata("Language", "eng");
    zim.article(
        "Entities.html",
        "Written with entities",
        "<p>A caf&eacute; asks for a r&eacute;sum&#233; and a zzent&shy;ity.</p>",
    )
    .article(
        "Daigaku.html",
        "大学",
        concat!(
            "<p>東京大学は日本の大学です。",
            "北京大学、清华大学も有名です。</p>"
        ),
    )
    .article(
        "Lonely.html",
        "Lonely",
        "<p>Only this page holds uniqueword.</p>",
    )
    .article("Plain.html", "Plain", "<p>Nothing of note here.</p>");
    let path = dir.join("pasted.zim");
    zim.write(&path).expect("writing pasted.zim");
    path
}

#[test]
fn entities_and_pasted_chinese_and_japanese_are_found_as_a_reader_types_them() {
    let (_dir, dir) = canonical_temp_dir();
    let pasted = write_pasted_archive(&dir);
    let (daemon, mut shim) = serve(&dir);
    wait_for_index_ready(&daemon.socket, &pasted);

    // Named and numbered entities are the characters they name, with or without accents; a
    // soft hyphen only marks where the word may break. Runs of Chinese and Japanese copied
    // with the punctuation between them are found as the text has them.
    let cases = [
        ("café", "Entities.html", "café"),
        ("cafe", "Entities.html", "café"),
        ("résumé", "Entities.html", "résumé"),
        ("zzentity", "Entities.html", "zzentity"),
        ("です。北京", "Daigaku.html", "北京"),
        ("北京大学、清华大学", "Daigaku.html", "清华大学"),
    ];
    for (query, path, shown) in cases {
        let answer = fulltext(&mut shim, "pasted.zim", query);
        assert_eq!(
            result_paths(&answer),
            [path],
            "{query}: {}",
            summary(&answer)
        );
        let row = &rows(&answer)[0];
        assert!(row["score"].as_f64().is_some(), "{query}: {row}");
        let snippet = row["snippet"].as_str().expect("a snippet");
        assert!(
            snippet.contains(shown),
            "{query}: {shown} is not in {snippet:?}"
        );
    }
}

#[test]
fn a_query_of_exclusions_alone_is_searched_as_its_words() {
    let (_dir, dir) = canonical_temp_dir();
    let pasted = write_pasted_archive(&dir);
    let (daemon, mut shim) = serve(&dir);
    wait_for_index_ready(&daemon.socket, &pasted);

    // Nothing is left to exclude from, so the word is looked for, as with a Xapian index.
    let answer = fulltext(&mut shim, "pasted.zim", "-uniqueword");
    assert_eq!(
        result_paths(&answer),
        ["Lonely.html"],
        "{}",
        summary(&answer)
    );
    assert_eq!(answer["total"], 1, "{answer}");
    assert!(rows(&answer)[0]["score"].as_f64().is_some(), "{answer}");
}

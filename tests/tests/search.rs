//! Finding entries: `zim_browse` walks a namespace page by page with a cursor, and `zim_search`
//! with mode="title" finds the title prefixes libzim suggests (shared/zim/ORACLE.md), leading from
//! a redirect's title to its target. Full-text search on an archive without an index answers from
//! titles and says so; bad arguments are refused with a reason.

use std::collections::HashSet;

use ozm_tests::fixture::{Shim, result_paths, serve, test_data};
use serde_json::{Value, json};

const WITHNS_WIKIBOOKS: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const V63_WIKIBOOKS: &str = "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim";
const NONS_SPLIT: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted.zim";
const RAY_CHARLES: &str = "libkiwix/zimfile.zim";

/// The first five titles starting with `Эспэранта`, as libzim suggests them.
const ESPERANTO: [&str; 5] = [
    "Эспэранта.html",
    "Эспэранта_Альфабэт.html",
    "Эспэранта_Вінавальны_склон.html",
    "Эспэранта_Дзеяслоў.html",
    "Эспэранта_Займеньнік.html",
];

/// Every page of a namespace from the first to the one marked done, checking each page's place.
fn browse_all(shim: &mut Shim, archive: &str, namespace: &str, limit: u64) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut arguments = json!({"zim_file_path": archive, "namespace": namespace,
            "limit": limit, "include_assets": true});
        if !cursor.is_null() {
            arguments["cursor"] = cursor;
        }
        let page = shim.call_ok("zim_browse", arguments);
        let results = page["results"].as_array().expect("a result list");
        assert_eq!(
            page["page_info"]["offset"],
            rows.len(),
            "{archive} {namespace}"
        );
        assert_eq!(page["page_info"]["returned_count"], results.len());
        rows.extend(results.iter().cloned());
        assert!(results.len() as u64 <= limit);
        if page["done"] == true {
            assert_eq!(page["next_cursor"], Value::Null);
            assert_eq!(page["total"], rows.len(), "{archive} {namespace}");
            return rows;
        }
        assert_eq!(
            results.len() as u64,
            limit,
            "a page short of the limit is not the last"
        );
        cursor = page["next_cursor"].clone();
        assert!(cursor.is_string(), "{page}");
    }
}

#[test]
fn browsing_a_namespace_to_the_end_visits_every_entry_once_in_path_order() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // 129 articles and 155 redirects in 50-entry pages; 109 content entries in 7-entry pages.
    let cases = [
        (RAY_CHARLES, "A", 50, 284),
        (NONS_WIKIBOOKS, "C", 7, 109),
        (WITHNS_WIKIBOOKS, "I", 10, 34),
        (V63_WIKIBOOKS, "C", 200, 109),
    ];
    for (archive, namespace, limit, total) in cases {
        let rows = browse_all(&mut shim, archive, namespace, limit);
        assert_eq!(rows.len(), total, "{archive} {namespace}");
        let paths: Vec<&str> = rows
            .iter()
            .map(|row| row["path"].as_str().unwrap())
            .collect();
        let unique: HashSet<&str> = paths.iter().copied().collect();
        assert_eq!(unique.len(), paths.len(), "{archive}: an entry came twice");
        assert!(
            paths.is_sorted(),
            "{archive} {namespace} is not in path order"
        );
    }

    // Rows say what each entry is; a redirect names its target.
    let rows = browse_all(&mut shim, NONS_WIKIBOOKS, "C", 50);
    let row = |path: &str| {
        rows.iter()
            .find(|row| row["path"] == path)
            .expect(path)
            .clone()
    };
    let esperanto = row("Эспэранта.html");
    assert_eq!(esperanto["title"], "Эспэранта");
    assert_eq!(esperanto["content_type"], "text/html");
    assert_eq!(row("s/style.css")["content_type"], "text/css");
    let redirect = row("Вугорская_кухня.html");
    assert_eq!(redirect["content_type"], "redirect");
    assert_eq!(redirect["redirect_to"], "Венгерская_кухня.html");

    // The namespace counts of zim_metadata agree with what browsing finds.
    let metadata = shim.call_ok("zim_metadata", json!({"zim_file_path": NONS_WIKIBOOKS}));
    let content = &metadata["namespaces"][0];
    assert_eq!(content["namespace"], "C");
    assert_eq!(content["entries"], rows.len());
}

#[test]
fn a_browse_cursor_continues_only_its_own_namespace() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let first = json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "limit": 10});
    let first = shim.call_ok("zim_browse", first);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();

    let elsewhere = json!({"zim_file_path": RAY_CHARLES, "namespace": "I", "cursor": cursor});
    let refused = shim.call_tool("zim_browse", elsewhere);
    assert!(refused.is_error, "{}", refused.body);
    assert_eq!(refused.body["operation"], "cursor_context_mismatch");

    let forged = json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "cursor": "not-a-cursor"});
    let refused = shim.call_tool("zim_browse", forged);
    assert!(refused.is_error);
    assert_eq!(refused.body["operation"], "cursor_decode");

    // The same cursor in its own namespace carries on where the first page stopped.
    let next = json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "cursor": cursor});
    let next = shim.call_ok("zim_browse", next);
    assert_eq!(next["page_info"]["offset"], 10);

    // An absent namespace is empty, and the answer lists the namespaces there are.
    let absent = json!({"zim_file_path": "zim-tools/good.zim", "namespace": "A"});
    let absent = shim.call_ok("zim_browse", absent);
    assert_eq!(absent["total"], 0);
    assert_eq!(absent["done"], true);
    assert_eq!(absent["available_namespaces"], json!(["C", "M", "W", "X"]));

    for (arguments, operation) in [
        (
            json!({"zim_file_path": RAY_CHARLES, "namespace": "AB"}),
            "invalid_namespace",
        ),
        (
            json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "limit": 0}),
            "invalid_limit",
        ),
        (
            json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "limit": 201}),
            "invalid_limit",
        ),
    ] {
        let refused = shim.call_tool("zim_browse", arguments);
        assert!(refused.is_error);
        assert_eq!(refused.body["operation"], operation);
    }
}

#[test]
fn title_search_finds_the_prefix_matches_libzim_suggests() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let mut search = |archive: &str, query: &str, limit: u64| {
        let arguments =
            json!({"zim_file_path": archive, "query": query, "mode": "title", "limit": limit});
        shim.call_ok("zim_search", arguments)
    };

    // Case does not matter, in Cyrillic as in Latin.
    let old: Vec<String> = ESPERANTO.iter().map(|path| format!("A/{path}")).collect();
    for query in ["Эспэранта", "эспэранта", "ЭСПЭРАНТА"] {
        assert_eq!(
            result_paths(&search(WITHNS_WIKIBOOKS, query, 5)),
            old,
            "{query}"
        );
        for archive in [NONS_WIKIBOOKS, V63_WIKIBOOKS, NONS_SPLIT] {
            assert_eq!(
                result_paths(&search(archive, query, 5)),
                ESPERANTO,
                "{archive} {query}"
            );
        }
    }
    for query in ["Abent", "abent"] {
        let found = search("libkiwix/spelling_correction_test.zim", query, 10);
        assert_eq!(result_paths(&found), ["Abenteuer.html"], "{query}");
    }
    let good = search("zim-tools/good.zim", "Test", 10);
    assert_eq!(
        result_paths(&good),
        ["article1.html", "article2.html", "main.html"]
    );
    assert_eq!(
        result_paths(&search("libkiwix/corner_cases#&.zim", "c", 10)),
        ["c#.html"]
    );

    // `Ray` finds the article about him, matched by its own title.
    let ray = search(RAY_CHARLES, "Ray", 10);
    let row = ray["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["path"] == "A/Ray_Charles");
    let row = row.unwrap_or_else(|| panic!("A/Ray_Charles is missing: {ray}"));
    assert_eq!(row["title"], "Ray Charles");
    assert!(row.get("redirect_from").is_none(), "{row}");
    assert!(result_paths(&ray).contains(&"A/Ray_(film)"));
    assert_eq!(ray["returned_count"], 10);
}

#[test]
fn title_search_leads_from_a_redirect_title_to_its_target() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // archive | query | target found | redirect that matched | its title
    let cases = "\
        zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim | Вугорская \
            | A/Венгерская_кухня.html | A/Вугорская_кухня.html \
            | Вугорская кухня
        zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim | вугорская \
            | Венгерская_кухня.html | Вугорская_кухня.html \
            | Вугорская кухня
        zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim \
            | ВУГОРСКАЯ КУХ \
            | Венгерская_кухня.html | Вугорская_кухня.html \
            | Вугорская кухня
        libkiwix/zimfile.zim | Ray C. Rob | A/Ray_Charles | A/Ray_C._Robinson | Ray C. Robinson";
    for line in cases.lines() {
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [archive, query, target, redirect, title] = fields[..] else {
            panic!("{line}")
        };
        let arguments = json!({"zim_file_path": archive, "query": query, "mode": "title"});
        let found = shim.call_ok("zim_search", arguments);
        let first = &found["results"][0];
        assert_eq!(first["path"], target, "{archive} {query}: {found}");
        assert_eq!(first["redirect_from"], redirect, "{archive} {query}");
        assert_eq!(first["matched_title"], title, "{archive} {query}");

        // The path found is the one zim_get reads, with no further redirect.
        let read = json!({"zim_file_path": archive, "entry_path": target});
        assert_eq!(
            shim.call_ok("zim_get", read)["redirected_from"],
            Value::Null
        );
    }
}

#[test]
fn full_text_search_without_an_index_answers_from_titles_and_says_so() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // A search without a mode is a full-text search.
    let arguments = json!({"zim_file_path": WITHNS_WIKIBOOKS, "query": "Эспэранта"});
    let answer = shim.call_ok("zim_search", arguments);
    assert_eq!(answer["mode"], "fulltext");
    assert_eq!(
        result_paths(&answer)[..5],
        ESPERANTO.map(|path| format!("A/{path}"))
    );
    let notes = answer["notes"].as_array().expect("a note on the fallback");
    let note = notes[0].as_str().unwrap();
    assert!(
        note.contains("has no full-text index") && note.contains("titles only"),
        "{note}"
    );
    assert!(
        answer["results"][0].get("score").is_none(),
        "title matches carry no score"
    );
}

#[test]
fn bad_search_arguments_are_refused_with_a_body_naming_the_problem() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let base = json!({"zim_file_path": RAY_CHARLES, "query": "Ray", "mode": "title"});
    let with = |key: &str, value: Value| {
        let mut arguments = base.clone();
        arguments[key] = value;
        arguments
    };
    let without_query = json!({"zim_file_path": RAY_CHARLES, "mode": "title"});
    let cases = [
        (
            with("limt", json!(3)),
            "unknown_argument",
            "Did you mean 'limit'",
        ),
        (
            with("limit", json!(0)),
            "invalid_limit",
            "`limit` must be between 1 and 50",
        ),
        (with("limit", json!(51)), "invalid_limit", "(provided: 51)"),
        (with("limit", json!("ten")), "invalid_argument", "\"ten\""),
        (
            with("query", json!("")),
            "invalid_query",
            "`query` is empty",
        ),
        (
            with("query", json!("   ")),
            "invalid_query",
            "`query` is empty",
        ),
        (
            with("query", json!("\u{301}\u{301}")),
            "invalid_query",
            "`query` is empty",
        ),
        (without_query, "invalid_argument", "missing field `query`"),
        (with("mode", json!("fuzzy")), "invalid_mode", "\"fuzzy\""),
        (
            with("offset", json!(5)),
            "invalid_combination",
            "`offset` applies to",
        ),
        (
            json!({"zim_file_path": RAY_CHARLES, "query": "Ray", "limit": 1001}),
            "invalid_limit",
            "between 1 and 1000",
        ),
        (
            json!({"zim_file_path": RAY_CHARLES, "query": "Ray", "namespace": "AB"}),
            "invalid_namespace",
            "one letter",
        ),
        (
            json!({"zim_file_path": RAY_CHARLES, "query": "Ray", "offset": -1}),
            "invalid_offset",
            "between 0 and 10000",
        ),
        (
            json!({"query": "Ray", "mode": "title"}),
            "invalid_argument",
            "`zim_file_path` is required",
        ),
    ];
    for (arguments, operation, says) in cases {
        let refused = shim.call_tool("zim_search", arguments.clone());
        assert!(
            refused.is_error,
            "{arguments} was accepted: {}",
            refused.body
        );
        assert_eq!(refused.body["error"], true);
        assert_eq!(refused.body["operation"], operation, "{arguments}");
        let message = refused.body["message"].as_str().unwrap();
        assert!(message.contains(says), "{arguments}: {message}");
    }

    // An unknown argument is named, with every accepted one.
    let refused = shim.call_tool("zim_search", with("limt", json!(3)));
    assert_eq!(refused.body["unknown_arguments"], json!(["limt"]));
    let accepted = json!([
        "content_type",
        "cross_file",
        "limit",
        "mode",
        "namespace",
        "offset",
        "query",
        "zim_file_path"
    ]);
    assert_eq!(refused.body["accepted_arguments"], accepted);
}

//! `zim_browse` walks: going through a whole namespace by entry id returns every entry exactly
//! once; assets of the content namespace are hidden unless asked for, in walks and pages alike;
//! a cursor continues only the listing it was made for.

use std::collections::HashSet;

use ozm_tests::fixture::{Daemon, Shim, test_data};
use serde_json::{Value, json};

const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const RAY_CHARLES: &str = "libkiwix/zimfile.zim";

/// Entries of `C` in the new-scheme Wikibooks: 66 pages, 5 redirects (4 of them to pages; one,
/// `favicon`, to an image) and 38 assets (1 CSS, 3 scripts, 34 images).
const NONS_CONTENT: usize = 109;
const NONS_DOCUMENTS: usize = 70;

fn serve() -> Option<(Daemon, Shim)> {
    let data = test_data()?;
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();
    Some((daemon, shim))
}

/// Every call of a listing from the start to `done`, following `next_cursor`.
fn all_calls(shim: &mut Shim, first: Value) -> Vec<Value> {
    let mut calls = Vec::new();
    let mut arguments = first.clone();
    loop {
        let answer = shim.call_ok("zim_browse", arguments.clone());
        let done = answer["done"] == true;
        let cursor = answer["next_cursor"].clone();
        calls.push(answer);
        if done {
            assert_eq!(cursor, Value::Null);
            return calls;
        }
        assert!(cursor.is_string(), "a listing not done has a cursor");
        arguments = first.clone();
        arguments["cursor"] = cursor;
    }
}

fn paths(calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .flat_map(|call| call["results"].as_array().expect("results").clone())
        .map(|row| row["path"].as_str().expect("a path").to_owned())
        .collect()
}

#[test]
fn a_walk_to_the_end_returns_every_entry_once() {
    let Some((_daemon, mut shim)) = serve() else {
        return;
    };
    let walk = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "mode": "walk",
        "limit": 7, "include_assets": true});
    let calls = all_calls(&mut shim, walk);
    let walked = paths(&calls);
    assert_eq!(walked.len(), NONS_CONTENT);
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), NONS_CONTENT, "an entry came twice");
    assert!(walked.is_sorted(), "a walk goes in path order");
    assert_eq!(calls.len(), NONS_CONTENT.div_ceil(7));

    // Rows are path and title only; each call says how far it got.
    let first = &calls[0];
    assert_eq!(first["mode"], "walk");
    assert_eq!(first["results"][0].as_object().unwrap().len(), 2);
    assert_eq!(first["namespace_entry_count"], NONS_CONTENT);
    assert_eq!(first["total"], Value::Null);
    let scanned: u64 = calls
        .iter()
        .map(|call| call["scanned_count"].as_u64().unwrap())
        .sum();
    assert_eq!(scanned, NONS_CONTENT as u64);
    let row = calls
        .iter()
        .flat_map(|call| call["results"].as_array().unwrap().clone())
        .find(|row| row["path"] == "Эспэранта.html")
        .expect("the Esperanto page");
    assert_eq!(row["title"], "Эспэранта");

    // The walk and the pages of page mode list the same entries.
    let page = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "limit": 200,
        "include_assets": true});
    assert_eq!(paths(&all_calls(&mut shim, page)), walked);

    // An old archive's article namespace, in the largest walk a call allows: 129 articles and
    // 155 redirects, none of them hidden.
    let walk = json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "mode": "walk",
        "limit": 500});
    let calls = all_calls(&mut shim, walk);
    assert_eq!(calls.len(), 1);
    assert_eq!(paths(&calls).len(), 284);
    assert!(paths(&calls).contains(&"A/Ray_Charles".to_owned()));
}

#[test]
fn assets_of_the_content_namespace_are_hidden_unless_asked_for() {
    let Some((_daemon, mut shim)) = serve() else {
        return;
    };
    let walk = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "mode": "walk",
        "limit": 9});
    let calls = all_calls(&mut shim, walk);
    let shown = paths(&calls);
    assert_eq!(shown.len(), NONS_DOCUMENTS);
    assert!(shown.contains(&"Эспэранта.html".to_owned()));
    // A redirect to a page is shown; one to an image is not.
    assert!(shown.contains(&"Вугорская_кухня.html".to_owned()));
    assert!(!shown.contains(&"favicon".to_owned()));
    for asset in [
        "s/style.css",
        "m/115a35549794e50dcd03e60ef1a1ae24.png",
        "favicon.png",
    ] {
        assert!(!shown.contains(&asset.to_owned()), "{asset} is shown");
    }
    let scanned: u64 = calls
        .iter()
        .map(|call| call["scanned_count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        scanned, NONS_CONTENT as u64,
        "hidden entries are looked at, once"
    );

    // Page mode hides them too: the total is known once the last page is reached, and
    // offsets count the entries shown.
    let page = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "limit": 50});
    let pages = all_calls(&mut shim, page);
    assert_eq!(paths(&pages), shown);
    assert_eq!(pages[0]["total"], Value::Null);
    assert_eq!(pages[1]["total"], NONS_DOCUMENTS);
    assert_eq!(pages[1]["page_info"]["offset"], 50);
    let redirect = &pages[0]["results"][0];
    assert_eq!(redirect["path"], "Main_Page.html");
    assert_eq!(redirect["redirect_to"], "Першая_старонка.html");
    let offset = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "offset": 10,
        "limit": 3});
    let offset = shim.call_ok("zim_browse", offset);
    assert_eq!(paths(std::slice::from_ref(&offset)), shown[10..13]);
    assert_eq!(offset["page_info"]["offset"], 10);

    // Other namespaces are listed whole: an old archive keeps its images in `I`.
    let images = json!({"zim_file_path": RAY_CHARLES, "namespace": "I", "mode": "walk"});
    let images = shim.call_ok("zim_browse", images);
    assert_eq!(
        paths(&[images]),
        [
            "I/m/Ray_Charles_Here_We_Go_Again.jpg",
            "I/m/Ray_Charles_classic_piano_pose.jpg"
        ]
    );
}

#[test]
fn a_cursor_continues_only_its_own_listing() {
    let Some((_daemon, mut shim)) = serve() else {
        return;
    };
    let walk = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "mode": "walk",
        "limit": 5});
    let first = shim.call_ok("zim_browse", walk.clone());
    let cursor = first["next_cursor"].clone();

    let mut with_assets = walk.clone();
    with_assets["include_assets"] = json!(true);
    let mut as_page = walk.clone();
    as_page["mode"] = json!("page");
    let mut elsewhere = walk.clone();
    elsewhere["namespace"] = json!("M");
    for mut other in [with_assets, as_page, elsewhere] {
        other["cursor"] = cursor.clone();
        let refused = shim.call_tool("zim_browse", other.clone());
        assert!(refused.is_error, "{other}");
        assert_eq!(refused.body["operation"], "cursor_context_mismatch");
    }

    // In its own listing the cursor carries on after the first five.
    let mut next = walk.clone();
    next["cursor"] = cursor;
    let next = shim.call_ok("zim_browse", next);
    let all = all_calls(
        &mut shim,
        json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C",
        "mode": "walk", "limit": 10}),
    );
    assert_eq!(paths(&[next]), paths(&all)[5..10]);

    for (arguments, operation) in [
        (json!({"mode": "walk", "offset": 5}), "invalid_combination"),
        (json!({"mode": "walk", "limit": 501}), "invalid_limit"),
        (json!({"mode": "page", "limit": 201}), "invalid_limit"),
        (json!({"mode": "jump"}), "invalid_mode"),
        (json!({"cursor": "not-a-cursor"}), "cursor_decode"),
    ] {
        let mut arguments = arguments;
        arguments["zim_file_path"] = json!(NONS_WIKIBOOKS);
        arguments["namespace"] = json!("C");
        let refused = shim.call_tool("zim_browse", arguments.clone());
        assert!(refused.is_error, "{arguments}");
        assert_eq!(refused.body["operation"], operation, "{arguments}");
    }
}

#[test]
fn a_cursor_continues_only_the_archive_it_came_from() {
    let Some((_daemon, mut shim)) = serve() else {
        return;
    };
    let withns = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";
    for mode in ["walk", "page"] {
        let first = json!({"zim_file_path": RAY_CHARLES, "namespace": "A", "mode": mode,
            "limit": 5});
        let cursor = shim.call_ok("zim_browse", first)["next_cursor"].clone();
        assert!(cursor.is_string());
        // The same namespace, mode and asset choice in another old archive.
        let elsewhere = json!({"zim_file_path": withns, "namespace": "A", "mode": mode,
            "limit": 5, "cursor": cursor});
        let refused = shim.call_tool("zim_browse", elsewhere);
        assert!(refused.is_error, "{mode}: {}", refused.body);
        assert_eq!(refused.body["operation"], "cursor_context_mismatch");
        let message = refused.body["message"].as_str().unwrap();
        assert!(message.contains("another archive"), "{message}");
    }
}

#[test]
fn the_description_says_when_a_page_knows_its_total() {
    let Some((_daemon, mut shim)) = serve() else {
        return;
    };
    let listed = shim.request("tools/list", json!({}));
    let browse = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tool| tool["name"] == "zim_browse")
        .expect("zim_browse")
        .clone();
    let description = browse["description"].as_str().unwrap();
    assert!(
        description.contains("null until the last page"),
        "{description}"
    );
    assert!(
        !description.contains("with an exact total"),
        "{description}"
    );

    // As it says: hiding assets leaves the first page without a total, listing them does not.
    let hidden = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "limit": 5});
    assert_eq!(shim.call_ok("zim_browse", hidden)["total"], Value::Null);
    let listed = json!({"zim_file_path": NONS_WIKIBOOKS, "namespace": "C", "limit": 5,
        "include_assets": true});
    assert_eq!(shim.call_ok("zim_browse", listed)["total"], NONS_CONTENT);
    let old = json!({"zim_file_path": RAY_CHARLES, "namespace": "I", "limit": 1});
    assert_eq!(shim.call_ok("zim_browse", old)["total"], 2);
}

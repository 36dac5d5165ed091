//! `zim_query`: the tool modes (simple lists `zim_query` alone, advanced lists every tool), the
//! choice of archive, and requests about archives and namespaces answered from the real
//! archives (shared/zim/ORACLE.md), each through the tool that answers it, with the call shown.
//! Requests about articles are in `query_reading.rs`.

use std::path::Path;

use ozm_tests::fixture::{Daemon, Shim, ask, ask_in, result_paths, serve, test_data};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::json;

const RAY_CHARLES: &str = "libkiwix/zimfile.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const WITHNS_WIKIBOOKS: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";

fn tool_names(shim: &mut Shim) -> Vec<String> {
    let listed = shim.request("tools/list", json!({}));
    listed["result"]["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .map(|tool| tool["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn simple_mode_lists_only_zim_query_and_advanced_mode_every_tool() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();

    let mut by_env = daemon.shim_with_env(&[dir], &[("OPENZIM_MCP_TOOL_MODE", "simple")]);
    let init = by_env.initialize();
    assert_eq!(tool_names(&mut by_env), ["zim_query"]);
    let instructions = init["result"]["instructions"]
        .as_str()
        .expect("instructions");
    assert!(instructions.contains("Ask zim_query"), "{instructions}");

    // The flag of `ozm mcp` wins over the environment, both ways.
    let flag = |mode: &'static str| [dir, Path::new("--mode"), Path::new(mode)];
    let env = [("OPENZIM_MCP_TOOL_MODE", "advanced")];
    let mut by_flag = Shim::start(&daemon.socket, dir, &flag("simple"), &env);
    by_flag.initialize();
    assert_eq!(tool_names(&mut by_flag), ["zim_query"]);
    let env = [("OPENZIM_MCP_TOOL_MODE", "simple")];
    let mut advanced = Shim::start(&daemon.socket, dir, &flag("advanced"), &env);
    let init = advanced.initialize();
    let names = tool_names(&mut advanced);
    for tool in [
        "zim_query",
        "zim_health",
        "zim_metadata",
        "zim_get",
        "zim_browse",
        "zim_search",
    ] {
        assert!(names.iter().any(|name| name == tool), "{tool} in {names:?}");
    }
    let instructions = init["result"]["instructions"]
        .as_str()
        .expect("instructions");
    assert!(instructions.contains("zim_links"), "{instructions}");

    // Advanced is the default.
    let mut default = daemon.shim(&[dir]);
    default.initialize();
    assert_eq!(tool_names(&mut default), names);
}

#[test]
fn archives_their_metadata_namespaces_and_main_pages() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let listed = ask(&mut shim, json!("list archives"));
    assert_eq!(listed["intent"], "list_files");
    assert_eq!(listed["tool"], "zim_health");
    let answer = listed["answer"].as_str().unwrap();
    assert!(
        answer.contains("- `libkiwix/zimfile.zim` (569.3 KB)"),
        "{answer}"
    );

    // The archive is named in the query, by the start of its file name.
    let described = ask(&mut shim, json!("What is in zimfile?"));
    assert_eq!(described["intent"], "metadata");
    assert_eq!(described["tool"], "zim_metadata");
    assert_eq!(
        described["arguments"],
        json!({"zim_file_path": RAY_CHARLES})
    );
    assert_eq!(described["result"]["metadata"]["Title"], "Ray Charles");
    let answer = described["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("**Ray Charles** — `libkiwix/zimfile.zim`"),
        "{answer}"
    );
    assert!(
        answer.contains("Wikipedia articles about Ray Charles"),
        "{answer}"
    );
    assert!(answer.contains("- Language: eng"), "{answer}");

    let namespaces = ask(&mut shim, json!("list namespaces of zimfile"));
    assert_eq!(namespaces["intent"], "list_namespaces");
    let letters: Vec<&str> = namespaces["result"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(letters, ["-", "A", "I", "M", "X"]);
    assert!(
        namespaces["answer"]
            .as_str()
            .unwrap()
            .contains("- `A` — 284 entries")
    );

    let main = ask(&mut shim, json!("show me the main page of zimfile"));
    assert_eq!(main["intent"], "main_page");
    assert_eq!(main["tool"], "zim_get");
    assert_eq!(main["arguments"]["main_page"], true);
    assert_eq!(main["result"]["path"], "A/index");
    assert_eq!(main["result"]["title"], "Main Page");
    let main = ask_in(&mut shim, NONS_WIKIBOOKS, "Hauptseite");
    assert_eq!(main["result"]["path"], "Першая_старонка.html");

    // "Describe X" asks about an archive when X names one.
    let described = ask(
        &mut shim,
        json!("describe withns/wikibooks_be_all_nopic_2017-02"),
    );
    assert_eq!(described["intent"], "metadata");
    assert_eq!(described["arguments"]["zim_file_path"], WITHNS_WIKIBOOKS);
}

#[test]
fn namespaces_are_browsed_and_walked() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let images = ask(&mut shim, json!("browse namespace I in zimfile"));
    assert_eq!(images["intent"], "browse");
    assert_eq!(
        images["arguments"],
        json!({"zim_file_path": RAY_CHARLES, "namespace": "I", "mode": "page"})
    );
    assert_eq!(
        result_paths(&images["result"]),
        [
            "I/m/Ray_Charles_Here_We_Go_Again.jpg",
            "I/m/Ray_Charles_classic_piano_pose.jpg"
        ]
    );

    // Without a namespace, the content namespace of the archive's scheme; a walk continues
    // with the cursor its answer gives.
    let walk = ask(
        &mut shim,
        json!({"query": "list all articles",
        "zim_file_path": NONS_WIKIBOOKS, "limit": 60}),
    );
    assert_eq!(walk["intent"], "walk_namespace");
    assert_eq!(walk["arguments"]["namespace"], "C");
    assert_eq!(walk["arguments"]["mode"], "walk");
    let cursor = walk["result"]["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    assert!(walk["answer"].as_str().unwrap().contains(&cursor));
    let rest = ask(
        &mut shim,
        json!({"query": "list all articles",
        "zim_file_path": NONS_WIKIBOOKS, "limit": 60, "cursor": cursor}),
    );
    assert_eq!(rest["result"]["done"], true);
    assert_eq!(
        result_paths(&walk["result"]).len() + result_paths(&rest["result"]).len(),
        70
    );
}

#[test]
fn the_archive_is_asked_for_when_the_query_cannot_tell() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let refused = shim.call_tool("zim_query", json!({"query": "main page"}));
    assert!(refused.is_error);
    assert_eq!(refused.body["operation"], "invalid_argument");
    let available = refused.body["available_archives"].as_array().unwrap();
    assert!(available.contains(&json!(RAY_CHARLES)));

    // A name that starts several archives' names, and a title several archives have.
    let refused = shim.call_tool("zim_query", json!({"query": "what is in wikibooks_be"}));
    assert_eq!(refused.body["operation"], "ambiguous_archive");
    assert!(
        refused.body["candidates"]
            .as_array()
            .unwrap()
            .contains(&json!(NONS_WIKIBOOKS))
    );
    let refused = shim.call_tool("zim_query", json!({"query": "summary of Эспэранта"}));
    assert_eq!(refused.body["operation"], "ambiguous_archive");
    assert!(
        refused.body["candidates"]
            .as_array()
            .unwrap()
            .contains(&json!(NONS_WIKIBOOKS))
    );

    let refused = shim.call_tool("zim_query", json!({"query": "main page of nosuchthing"}));
    assert_eq!(refused.body["operation"], "missing_archive");

    let long = "piano ".repeat(700);
    let refused = shim.call_tool("zim_query", json!({"query": long}));
    assert_eq!(refused.body["operation"], "invalid_query");
    let refused = shim.call_tool("zim_query", json!({"query": "  "}));
    assert_eq!(refused.body["operation"], "invalid_query");
    let refused = shim.call_tool("zim_query", json!({"query": "piano", "limt": 3}));
    assert_eq!(refused.body["operation"], "unknown_argument");
}

#[test]
fn the_only_archive_served_needs_no_name() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut builder = ZimBuilder::new();
    builder
        .article(
            "Home.html",
            "Home",
            "<h1>Home</h1><p>Welcome to the garden.</p>",
        )
        .article(
            "Roses.html",
            "Roses",
            "<h1>Roses</h1><p>Roses need sun.</p><h2>Pruning</h2><p>Prune in March.</p>",
        )
        .redirect("Rose.html", "Rose", "Roses.html")
        .main_page("Home.html");
    builder
        .write(&dir.path().join("garden.zim"))
        .expect("writing the archive");
    let (_daemon, mut shim) = serve(&[dir.path()]);

    let main = ask(&mut shim, json!("main page"));
    assert_eq!(main["arguments"]["zim_file_path"], "garden.zim");
    assert_eq!(main["result"]["path"], "Home.html");

    let told = ask(&mut shim, json!("tell me about roses"));
    assert_eq!(told["result"]["path"], "Roses.html");
    let section = ask(&mut shim, json!("the Pruning section of Roses"));
    assert!(
        section["answer"]
            .as_str()
            .unwrap()
            .contains("Prune in March.")
    );
    let searched = ask(&mut shim, json!("search for sun"));
    assert_eq!(searched["arguments"]["zim_file_path"], "garden.zim");
}

#[test]
fn questions_the_metadata_answers() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for (query, archive) in [
        ("how many articles are there?", Some(RAY_CHARLES)),
        ("what language is this archive in?", Some(RAY_CHARLES)),
        ("what is the license of zimfile", None),
        ("how many articles does zimfile have", None),
    ] {
        let arguments = match archive {
            Some(archive) => json!({"query": query, "zim_file_path": archive}),
            None => json!({"query": query}),
        };
        let answered = ask(&mut shim, arguments);
        assert_eq!(answered["intent"], "metadata", "{query}");
        assert_eq!(answered["tool"], "zim_metadata", "{query}");
        assert_eq!(
            answered["arguments"],
            json!({"zim_file_path": RAY_CHARLES}),
            "{query}"
        );
        let answer = answered["answer"].as_str().unwrap();
        assert!(answer.contains("- Articles: 129; entries: 371"), "{answer}");
        assert!(answer.contains("- Language: eng"), "{answer}");
    }
}

#[test]
fn a_limit_is_brought_down_to_what_each_request_lists_and_below_one_refused() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for (query, limit, used) in [
        ("search for piano", 5000, 1000),
        ("suggest Ray", 500, 50),
        ("is there an article called Ray Charles", 51, 50),
        ("browse namespace A", 1000, 200),
        ("walk namespace A", 1000, 500),
        ("links in Ray Charles", 501, 500),
        ("articles related to Ray Charles", 101, 100),
    ] {
        let answered = ask(
            &mut shim,
            json!({"query": query, "zim_file_path": RAY_CHARLES, "limit": limit}),
        );
        assert_eq!(answered["arguments"]["limit"], used, "{query}");
        let note = format!("limit {limit} is more than this request lists at once: {used}");
        assert!(
            answered["notes"][0].as_str().unwrap().starts_with(&note),
            "{query}: {}",
            answered["notes"]
        );
        assert!(
            answered["answer"]
                .as_str()
                .unwrap()
                .starts_with(&format!("_{note}"))
        );
    }
    let within = ask(
        &mut shim,
        json!({"query": "browse namespace A", "zim_file_path": RAY_CHARLES, "limit": 3}),
    );
    assert_eq!(within["arguments"]["limit"], 3);
    assert!(within.get("notes").is_none());

    for query in [
        "search for piano",
        "browse namespace A",
        "list archives",
        "main page",
    ] {
        for limit in [0, -5] {
            let refused = shim.call_tool(
                "zim_query",
                json!({"query": query, "zim_file_path": RAY_CHARLES, "limit": limit}),
            );
            assert!(refused.is_error, "{query} {limit}");
            assert_eq!(
                refused.body["operation"], "invalid_limit",
                "{query} {limit}"
            );
        }
    }
}

#[test]
fn control_characters_are_taken_out_of_the_query() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let found = ask_in(&mut shim, RAY_CHARLES, "search\u{0} for\tpiano\u{7}");
    assert_eq!(found["intent"], "search");
    assert_eq!(found["arguments"]["query"], "piano");
    let unknown = ask_in(
        &mut shim,
        RAY_CHARLES,
        "tell me about ham\u{0}burgers\u{1b}",
    );
    let text = unknown.to_string();
    assert!(
        !text.contains("\\u0000") && !text.contains("\\u001b"),
        "{text}"
    );
    assert!(
        unknown["notes"][0]
            .as_str()
            .unwrap()
            .contains("'hamburgers'")
    );
    let refused = shim.call_tool("zim_query", json!({"query": "\u{0}\u{1}"}));
    assert_eq!(refused.body["operation"], "invalid_query");
}

#[test]
fn the_tool_describes_what_works_on_any_archive() {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    shim.initialize();
    let listed = shim.request("tools/list", json!({}));
    let tool = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tool| tool["name"] == "zim_query")
        .expect("zim_query")
        .clone();
    let description = tool["description"].as_str().unwrap();
    assert!(!description.contains("Early life"), "{description}");
    assert!(description.contains("\"the History section of ARTICLE\""));
    let limit = tool["inputSchema"]["properties"]["limit"]["description"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for range in ["1 to 1000", "1 to 50", "1 to 200", "1 to 500", "1 to 100"] {
        assert!(limit.contains(range), "{range}: {limit}");
    }
}

#[test]
fn an_archive_named_with_nothing_else_asked_is_described() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for query in [
        "describe example.zim",
        "describe the archive example.zim",
        "tell me about example.zim",
        "what is in example.zim?",
        "what is example.zim about?",
        "language of example",
        "example.zim",
    ] {
        let described = ask(&mut shim, json!(query));
        assert_eq!(described["intent"], "metadata", "{query}");
        assert_eq!(described["tool"], "zim_metadata", "{query}");
        assert_eq!(
            described["arguments"],
            json!({"zim_file_path": "libkiwix/example.zim"}),
            "{query}"
        );
        assert_eq!(described["result"]["metadata"]["Title"], "Wikibooks");
        let answer = described["answer"].as_str().unwrap();
        assert!(answer.contains("- Language: en"), "{query}: {answer}");
    }
    // Other words ask for more than the archive: they are searched for in it.
    let searched = ask(&mut shim, json!("search example.zim for cookies"));
    assert_eq!(searched["intent"], "search");
    assert_eq!(searched["arguments"]["query"], "cookies");
}

#[test]
fn a_cursor_the_request_does_not_use_is_noted_and_one_that_fails_shows_the_call() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let walk = ask(
        &mut shim,
        json!({"query": "walk namespace A in zimfile", "limit": 3}),
    );
    let cursor = walk["result"]["next_cursor"].as_str().expect("a cursor");

    // A search takes no cursor: it is left out, and the answer says so.
    let searched = ask(
        &mut shim,
        json!({"query": "search for piano in zimfile", "cursor": cursor}),
    );
    assert_eq!(searched["arguments"].get("cursor"), None);
    let note = searched["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("`cursor` was left out: the search request does not use it"),
        "{note}"
    );
    assert!(searched["answer"].as_str().unwrap().contains(note));
    // Related articles are one page: no cursor or offset is sent, and both are noted.
    let related = ask(
        &mut shim,
        json!({"query": "articles related to Ray Charles in zimfile", "cursor": cursor,
            "offset": 2}),
    );
    assert_eq!(related["tool"], "zim_links");
    assert_eq!(related["arguments"].get("cursor"), None);
    assert_eq!(related["notes"].as_array().unwrap().len(), 2);
    // A walk continues with its cursor: an offset is noted.
    let walked = ask(
        &mut shim,
        json!({"query": "walk namespace A in zimfile", "cursor": cursor, "offset": 2}),
    );
    assert_eq!(walked["arguments"]["cursor"], cursor);
    assert!(
        walked["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("`offset` was left out")
    );

    // Another archive's cursor is refused with the reading and the call, as an answer has.
    let refused = shim.call_tool(
        "zim_query",
        json!({"query": "walk namespace A in example.zim", "cursor": cursor}),
    );
    assert!(refused.is_error);
    assert_eq!(refused.body["operation"], "cursor_context_mismatch");
    assert_eq!(refused.body["intent"], "walk_namespace");
    assert_eq!(refused.body["tool"], "zim_browse");
    assert_eq!(
        refused.body["arguments"],
        json!({"zim_file_path": "libkiwix/example.zim", "namespace": "A", "mode": "walk",
            "cursor": cursor})
    );
}

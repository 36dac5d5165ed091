//! `zim_query`: the tool modes (simple lists `zim_query` alone, advanced lists every tool), the
//! choice of archive, and requests about archives and namespaces answered from the real
//! archives (shared/zim/ORACLE.md), each through the tool that answers it, with the call shown.
//! Requests about articles are in `query_reading.rs`.

use std::path::Path;

use ozm_tests::fixture::{Daemon, Shim, test_data};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

const RAY_CHARLES: &str = "libkiwix/zimfile.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const WITHNS_WIKIBOOKS: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";

/// A daemon and an initialised shim serving `directories`.
fn serve(directories: &[&Path]) -> (Daemon, Shim) {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(directories);
    shim.initialize();
    (daemon, shim)
}

/// Asks `query` (a string, or the arguments as an object) and returns the answer.
fn ask(shim: &mut Shim, query: Value) -> Value {
    let arguments = match query {
        Value::String(_) => json!({"query": query}),
        other => other,
    };
    shim.call_ok("zim_query", arguments)
}

/// Asks `query` of the archive `archive`.
fn ask_in(shim: &mut Shim, archive: &str, query: &str) -> Value {
    ask(shim, json!({"query": query, "zim_file_path": archive}))
}

fn paths(result: &Value) -> Vec<&str> {
    result["results"]
        .as_array()
        .expect("a result list")
        .iter()
        .map(|row| row["path"].as_str().expect("a path"))
        .collect()
}

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
        paths(&images["result"]),
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
        paths(&walk["result"]).len() + paths(&rest["result"]).len(),
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

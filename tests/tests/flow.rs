//! Clients that push hard: many requests at once, many shims at once, bytes that are not text.
//! None of them may stall a session or see less than the whole library.

use std::collections::HashSet;

use ozm_tests::fixture::{Daemon, Shim};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::json;

/// An empty `library` directory in the daemon's temporary directory.
fn library_of(daemon: &Daemon) -> std::path::PathBuf {
    let library = daemon.dir.path().join("library");
    std::fs::create_dir(&library).unwrap();
    library
}

/// One `tools/call` line per id, all written at once as a client pipelining its requests would.
fn burst(ids: std::ops::Range<usize>, tool: &str, arguments: &serde_json::Value) -> String {
    ids.map(|id| {
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                          "params": {"name": tool, "arguments": arguments}});
        format!("{call}\n")
    })
    .collect()
}

#[test]
fn hundreds_of_pipelined_requests_for_long_answers_are_all_answered() {
    let daemon = Daemon::start();
    let library = library_of(&daemon);
    let paragraph = "<p>Offline knowledge, kept in one file, read by many clients at once.</p>";
    let mut zim = ZimBuilder::new();
    zim.article("Long.html", "Long", &paragraph.repeat(4000))
        .main_page("Long.html");
    zim.write(&library.join("long.zim")).unwrap();

    let mut shim = daemon.shim(&[&library]);
    shim.initialize();
    // Every request is written before any answer is read, so both sides of the socket fill up.
    let requests = 300;
    let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Long.html"});
    shim.send_bytes(burst(1000..1000 + requests, "zim_get", &arguments).as_bytes());
    let mut answered = HashSet::new();
    while answered.len() < requests {
        let message = shim.read_message();
        assert!(message["result"]["isError"] != true, "{message}");
        answered.insert(message["id"].as_u64().expect("an id"));
    }
    assert_eq!(answered.len(), requests);
    shim.close_cleanly();
}

#[test]
fn a_line_that_is_not_utf8_gets_a_parse_error_and_the_session_goes_on() {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    shim.initialize();
    shim.send_bytes(b"\xff\xfe{\"jsonrpc\"}\n");
    let error = shim.read_message();
    assert_eq!(error["error"]["code"], -32700, "{error}");
    let tools = shim.request("tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    shim.close_cleanly();
}

#[test]
fn shims_arriving_together_on_a_new_directory_all_see_every_archive() {
    let daemon = Daemon::start();
    let library = library_of(&daemon);
    let archives = 150;
    for n in 0..archives {
        let mut zim = ZimBuilder::new();
        zim.article("A.html", "A", "<p>a</p>").main_page("A.html");
        zim.write(&library.join(format!("z{n:03}.zim"))).unwrap();
    }
    let mut shims: Vec<Shim> = (0..8).map(|_| daemon.shim(&[&library])).collect();
    for shim in &mut shims {
        shim.initialize();
        let health = shim.call_tool("zim_health", json!({}));
        let listed = health.body["loaded_archives"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(
            listed, archives,
            "a shim saw {listed} of {archives} archives"
        );
    }
    for shim in shims {
        shim.close_cleanly();
    }
}

#[test]
fn a_client_that_closes_stdin_after_its_last_request_still_gets_every_answer() {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    shim.initialize();
    shim.send_bytes(burst(101..121, "zim_health", &json!({})).as_bytes());
    let (status, transcript) = shim.close_with_transcript();
    assert!(status.success(), "{status}");
    let answered: HashSet<u64> = transcript
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message["id"].as_u64())
        .filter(|id| (101..=120).contains(id))
        .collect();
    assert_eq!(answered.len(), 20, "answered: {answered:?}");
}

fn one_article_archive(title: &str) -> ZimBuilder {
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", title)
        .article("Main.html", title, &format!("<p>{title}</p>"))
        .main_page("Main.html");
    zim
}

#[test]
fn an_archive_replaced_by_rename_is_reopened_and_a_deleted_one_is_gone() {
    let daemon = Daemon::start();
    let library = library_of(&daemon);
    let archive = library.join("wiki.zim");
    one_article_archive("First edition")
        .write(&archive)
        .unwrap();

    let mut shim = daemon.shim(&[&library]);
    shim.initialize();
    let main = json!({"zim_file_path": "wiki.zim", "main_page": true});
    let first = shim.call_tool("zim_get", main.clone());
    assert_eq!(first.body["title"], "First edition", "{}", first.body);

    // A new edition is written beside the old one and renamed over it, as downloads should be.
    let staged = daemon.dir.path().join("wiki.zim.new");
    one_article_archive("Second edition, a little longer")
        .write(&staged)
        .unwrap();
    std::fs::rename(&staged, &archive).unwrap();
    let second = shim.call_tool("zim_get", main.clone());
    assert_eq!(
        second.body["title"], "Second edition, a little longer",
        "{}",
        second.body
    );

    std::fs::remove_file(&archive).unwrap();
    let gone = shim.call_tool("zim_get", main);
    assert!(gone.is_error, "{}", gone.body);
    assert_eq!(gone.body["operation"], "missing_archive");
    shim.close_cleanly();
}

#[test]
fn reading_past_the_end_of_an_article_says_so() {
    let daemon = Daemon::start();
    let library = library_of(&daemon);
    one_article_archive("Short")
        .write(&library.join("short.zim"))
        .unwrap();
    let mut shim = daemon.shim(&[&library]);
    shim.initialize();
    let past = shim.call_tool(
        "zim_get",
        json!({"zim_file_path": "short.zim", "entry_path": "Main.html", "content_offset": 10_000}),
    );
    assert!(!past.is_error, "{}", past.body);
    assert_eq!(past.body["content"], "");
    assert_eq!(past.body["next_offset"], serde_json::Value::Null);
    let note = past.body["note"].as_str().expect("a note");
    assert!(note.contains("past the end"), "{note}");
    shim.close_cleanly();
}

//! What a model gets wrong in a call and ozm reads anyway or corrects: numbers and truth values
//! sent as text, archive names typed in another case or without `.zim`, misspelt argument and
//! tool names answered with the closest one, and simple mode naming only the tools it lists.

use ozm_tests::fixture::{Daemon, Shim, test_data};
use serde_json::json;

fn serve(env: &[(&str, &str)]) -> Option<(Daemon, Shim)> {
    let data = test_data()?;
    let daemon = Daemon::start();
    let mut shim = daemon.shim_with_env(&[&data.join("libkiwix")], env);
    shim.initialize();
    Some((daemon, shim))
}

#[test]
fn numbers_and_truth_values_sent_as_text_are_read_as_numbers() {
    let Some((_daemon, mut shim)) = serve(&[]) else {
        return;
    };
    let page = shim.call_ok(
        "zim_browse",
        json!({"zim_file_path": "zimfile.zim", "namespace": "A", "limit": "3",
            "include_assets": "false"}),
    );
    assert_eq!(page["results"].as_array().unwrap().len(), 3, "{page}");

    let refused = shim.call_tool(
        "zim_browse",
        json!({"zim_file_path": "zimfile.zim", "namespace": "A", "limit": "three"}),
    );
    assert!(refused.is_error);
    assert_eq!(refused.body["operation"], "invalid_argument");
}

#[test]
fn archives_are_found_whatever_the_case_and_without_their_extension() {
    let Some((_daemon, mut shim)) = serve(&[]) else {
        return;
    };
    for name in ["zimfile", "ZIMFILE.zim", "ZimFile"] {
        let metadata = shim.call_ok("zim_metadata", json!({"zim_file_path": name}));
        assert_eq!(
            metadata["zim_file_path"], "zimfile.zim",
            "{name}: {metadata}"
        );
    }
    let missing = shim.call_tool("zim_metadata", json!({"zim_file_path": "zimfil"}));
    assert_eq!(missing.body["operation"], "missing_archive");
}

#[test]
fn misspelt_names_are_answered_with_the_closest_one() {
    let Some((_daemon, mut shim)) = serve(&[]) else {
        return;
    };
    let refused = shim.call_tool(
        "zim_get",
        json!({"zim_file": "zimfile.zim", "main_page": true}),
    );
    assert_eq!(refused.body["operation"], "unknown_argument");
    assert_eq!(
        refused.body["closest_matches"],
        json!({"zim_file": "zim_file_path"})
    );
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains("Did you mean 'zim_file_path' instead of 'zim_file'?"),
        "{message}"
    );

    let refused = shim.call_tool("ZIM_QUERY", json!({"query": "main page"}));
    assert_eq!(refused.body["operation"], "unknown_tool");
    assert_eq!(refused.body["closest_match"], "zim_query");
    let refused = shim.call_tool("search", json!({"query": "piano"}));
    assert_eq!(refused.body["closest_match"], "zim_search");

    let refused = shim.call_tool("zim_health", json!({"x": 1}));
    let message = refused.body["message"].as_str().unwrap();
    assert!(message.ends_with("It takes no arguments."), "{message}");

    let refused = shim.call_tool(
        "zim_get",
        json!({"zim_file_path": "zimfile.zim", "main_page": true, "content_offset": -1}),
    );
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains("must be at least 0 (provided: -1)"),
        "{message}"
    );
}

#[test]
fn simple_mode_names_only_the_tools_it_lists() {
    let Some((_daemon, mut shim)) = serve(&[("OPENZIM_MCP_TOOL_MODE", "simple")]) else {
        return;
    };
    let refused = shim.call_tool("zim_serch", json!({"query": "piano"}));
    assert_eq!(refused.body["operation"], "unknown_tool");
    assert_eq!(refused.body["available_tools"], json!(["zim_query"]));
    assert_eq!(refused.body["closest_match"], json!(null));
}

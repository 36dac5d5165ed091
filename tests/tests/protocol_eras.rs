//! Both eras of MCP, through the real shim: clients that open with `initialize` (every revision
//! from 2024-11-05 to 2025-11-25, each answered with the version it asked for) and stateless
//! 2026-07-28 clients, which send `server/discover` and carry their protocol version and
//! capabilities in every request's `_meta`. `ping` is answered in both, and malformed input gets
//! a JSON-RPC error in both without ending the session; nor does a notification or response
//! sent before the session starts.

use ozm_tests::fixture::{Daemon, Shim, test_data};
use serde_json::{Value, json};

/// The revisions that open a session with `initialize`.
const HANDSHAKE_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The stateless revision.
const STATELESS: &str = "2026-07-28";

const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";

/// `params` with the `_meta` a stateless client sends with every request.
fn stateless(mut params: Value) -> Value {
    params["_meta"] = json!({
        PROTOCOL_VERSION_KEY: STATELESS,
        CAPABILITIES_KEY: {},
        "io.modelcontextprotocol/clientInfo": {"name": "ozm-tests", "version": "0"},
    });
    params
}

/// The result of a request that must succeed.
fn result(answer: &Value) -> &Value {
    answer
        .get("result")
        .unwrap_or_else(|| panic!("expected a result: {answer}"))
}

/// The names of the tools a `tools/list` answer lists.
fn tool_names(answer: &Value) -> Vec<&str> {
    result(answer)["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .map(|tool| tool["name"].as_str().expect("a tool name"))
        .collect()
}

/// The main page of zimfile.zim read with zim_get, as a tools/call answer; checks it.
fn assert_main_page(answer: &Value) {
    let text = result(answer)["content"][0]["text"]
        .as_str()
        .expect("a text block");
    let page: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(result(answer)["isError"], false, "{page}");
    assert_eq!(page["path"], "A/index", "{page}");
    assert_eq!(page["title"], "Main Page", "{page}");
}

/// Sends malformed lines, then requests of a method that does not exist and of one whose params
/// do not fit (each made a request of the era by `era`), and checks each is answered with the
/// right JSON-RPC error.
fn assert_malformed_input_answered(shim: &mut Shim, era: fn(Value) -> Value) {
    for (line, code) in [
        (r#"{"jsonrpc": "2.0", "id": 1, "method":"#, -32700),
        ("[]", -32600),
        (r#"[{"jsonrpc": "2.0", "id": 2, "method": "ping"}]"#, -32600),
        (r#"{"jsonrpc": "2.0", "id": 3, "method": 7}"#, -32600),
    ] {
        shim.send_raw(line);
        let answer = shim.read_message();
        assert_eq!(answer["error"]["code"], code, "{line}: {answer}");
    }
    let unknown = shim.request("no/such/method", era(json!({})));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let nameless = shim.request("tools/call", era(json!({"arguments": {}})));
    assert_eq!(nameless["error"]["code"], -32602, "{nameless}");
    let message = nameless["error"]["message"].as_str().expect("a message");
    assert!(message.contains("missing field `name`"), "{message}");
}

#[test]
fn every_handshake_revision_is_answered_with_the_version_it_asked_for() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    for version in HANDSHAKE_VERSIONS {
        let mut shim = daemon.shim(&[&data.join("libkiwix")]);
        let init = shim.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "ozm-tests", "version": "0"}
            }),
        );
        let init = result(&init);
        assert_eq!(init["protocolVersion"], version, "{init}");
        assert_eq!(init["serverInfo"]["name"], "ozm", "{init}");
        for capability in ["tools", "resources", "prompts", "completions"] {
            assert!(
                init["capabilities"][capability].is_object(),
                "{version}: {init}"
            );
        }
        shim.send_raw(r#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#);

        let tools = shim.request("tools/list", json!({}));
        assert!(tool_names(&tools).contains(&"zim_get"), "{tools}");
        let call = json!({"name": "zim_get",
            "arguments": {"zim_file_path": "zimfile.zim", "main_page": true}});
        assert_main_page(&shim.request("tools/call", call));
        assert_eq!(result(&shim.request("ping", json!({}))), &json!({}));
        shim.close_cleanly();
    }
}

#[test]
fn a_stateless_client_is_served_without_a_handshake() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data.join("libkiwix")]);

    // Before anything else: a ping, then discovery.
    assert_eq!(result(&shim.request("ping", json!({}))), &json!({}));
    let discover = shim.request("server/discover", stateless(json!({})));
    let discovered = result(&discover);
    let versions = discovered["supportedVersions"]
        .as_array()
        .expect("supported versions");
    for version in HANDSHAKE_VERSIONS.iter().chain([&STATELESS]) {
        assert!(versions.contains(&json!(version)), "{discovered}");
    }
    assert!(
        discovered["capabilities"]["resources"].is_object(),
        "{discovered}"
    );
    assert_eq!(
        discovered["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "ozm"
    );

    // A session of self-contained requests.
    let tools = shim.request("tools/list", stateless(json!({})));
    assert!(tool_names(&tools).contains(&"zim_search"), "{tools}");
    let call = stateless(json!({"name": "zim_get",
        "arguments": {"zim_file_path": "zimfile.zim", "main_page": true}}));
    assert_main_page(&shim.request("tools/call", call));
    let uri = "zim://zimfile.zim/entry/A/Ray_Charles";
    let read = shim.request("resources/read", stateless(json!({"uri": uri})));
    let contents = &result(&read)["contents"][0];
    assert_eq!(contents["uri"], uri, "{read}");
    assert_eq!(contents["mimeType"], "text/html", "{read}");
    assert_eq!(contents["text"].as_str().map(str::len), Some(7860));

    // ping, which 2026-07-28 dropped, is still answered, with _meta or without.
    assert_eq!(
        result(&shim.request("ping", stateless(json!({})))),
        &json!({})
    );
    assert_eq!(result(&shim.request("ping", json!({}))), &json!({}));
    shim.close_cleanly();
}

#[test]
fn a_stateless_request_without_its_meta_is_refused_with_the_missing_fields() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data.join("libkiwix")]);

    // First message of all: no lifecycle has started, and the client may still correct itself.
    let bare = shim.request("tools/list", json!({}));
    assert_eq!(bare["error"]["code"], -32602, "{bare}");
    let message = bare["error"]["message"].as_str().expect("a message");
    assert!(message.contains(PROTOCOL_VERSION_KEY), "{message}");
    assert!(message.contains(CAPABILITIES_KEY), "{message}");

    // Once the stateless session runs, each request must carry both fields.
    let tools = shim.request("tools/list", stateless(json!({})));
    assert!(tool_names(&tools).contains(&"zim_get"), "{tools}");
    let version_only = json!({"_meta": {PROTOCOL_VERSION_KEY: STATELESS}});
    for params in [json!({}), version_only] {
        let refused = shim.request("tools/list", params.clone());
        assert_eq!(refused["error"]["code"], -32602, "{params}: {refused}");
        let message = refused["error"]["message"].as_str().expect("a message");
        assert!(message.contains(CAPABILITIES_KEY), "{message}");
    }
    let read = shim.request("resources/read", json!({"uri": "zim://files"}));
    assert_eq!(read["error"]["code"], -32602, "{read}");

    // Malformed lines are answered too, and the session goes on.
    assert_malformed_input_answered(&mut shim, stateless);
    let tools = shim.request("tools/list", stateless(json!({})));
    assert!(tool_names(&tools).contains(&"zim_get"), "{tools}");
    shim.close_cleanly();
}

#[test]
fn a_handshake_session_answers_malformed_input_and_goes_on() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data.join("libkiwix")]);
    shim.initialize();
    assert_malformed_input_answered(&mut shim, |params| params);
    let tools = shim.request("tools/list", json!({}));
    assert!(tool_names(&tools).contains(&"zim_get"), "{tools}");
    assert_eq!(result(&shim.request("ping", json!({}))), &json!({}));
    shim.close_cleanly();
}

#[test]
fn messages_before_the_session_starts_do_not_end_it() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let early = [
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 1}}),
        json!({"jsonrpc": "2.0", "id": 7, "result": {}}),
    ];
    for era in ["2025-06-18", STATELESS] {
        let mut shim = daemon.shim(&[&data.join("libkiwix")]);
        for message in &early {
            shim.send_raw(&message.to_string());
        }
        // A refused request does not start the session either.
        let bare = shim.request("tools/list", json!({}));
        assert_eq!(bare["error"]["code"], -32602, "{bare}");
        shim.send_raw(&early[0].to_string());
        let tools = if era == STATELESS {
            shim.request("tools/list", stateless(json!({})))
        } else {
            let init = shim.initialize();
            assert_eq!(result(&init)["protocolVersion"], era, "{init}");
            shim.request("tools/list", json!({}))
        };
        assert!(tool_names(&tools).contains(&"zim_get"), "{era}: {tools}");
        shim.close_cleanly();
    }
}

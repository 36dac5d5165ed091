//! The daemon's HTTP side, spoken to as an MCP client would, on loopback: a streamable HTTP
//! session answering as the socket does (ORACLE values), a stateless request, bodies that are
//! not one JSON-RPC message or are over the limit however sent, the health endpoints, and the
//! bearer token of a listener that is not loopback-only. `http_metrics.rs` reads `/metrics`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use ozm_tests::fixture::{
    Daemon, HttpClient, WAIT, binary, canonical_temp_dir, http_daemon, http_get, http_request,
    listening_address, result_paths, run_bounded, status_json, test_data, wait_ready, wait_until,
};
use serde_json::{Value, json};

const RAY_CHARLES: &str = "libkiwix/zimfile.zim";

/// libzim's top five for `piano` in the Ray Charles archive (ORACLE.md).
const PIANO: [&str; 5] = [
    "A/The_Genius_Sings_the_Blues",
    "A/Mess_Around",
    "A/Jazz_Number_II",
    "A/Hank_Crawford",
    "A/Side_by_Side_(1927_song)",
];

/// The names of the tools a `tools/list` answer lists, sorted.
fn tool_names(answer: &Value) -> Vec<String> {
    let tools = answer["result"]["tools"].as_array().expect("a tool list");
    let mut names: Vec<String> = tools
        .iter()
        .map(|tool| tool["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_http_session_answers_with_the_same_tools_and_values_as_the_socket() {
    let Some(data) = test_data() else { return };
    let (daemon, address) = http_daemon(&data, &[]);
    wait_ready(address);

    // `ozm status --json` names the listener.
    let listeners = &status_json(&daemon.socket)["http"];
    assert_eq!(
        listeners,
        &json!([{"address": address.to_string(), "mcp": true}])
    );

    let mut client = HttpClient::new(address, None);
    let opened = client.initialize();
    assert_eq!(opened["result"]["serverInfo"]["name"], "ozm", "{opened}");
    assert_eq!(opened["result"]["protocolVersion"], "2025-06-18");

    // The same tools as a shim's session of the same daemon.
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();
    let over_http = tool_names(&client.request("tools/list", json!({})));
    assert_eq!(
        over_http,
        tool_names(&shim.request("tools/list", json!({})))
    );
    assert!(
        over_http.contains(&"zim_search".to_owned()),
        "{over_http:?}"
    );

    // ORACLE values: the full-text top five for `piano`, and the Ray Charles article.
    let found = client.call_ok(
        "zim_search",
        json!({"zim_file_path": RAY_CHARLES, "query": "piano"}),
    );
    assert_eq!(&result_paths(&found)[..5], PIANO);
    let article = client.call_ok(
        "zim_get",
        json!({"zim_file_path": RAY_CHARLES, "entry_path": "A/Ray_Charles"}),
    );
    assert_eq!(article["title"], "Ray Charles");
    assert_eq!(article["content_type"], "text/html");

    // The session and the shim are both instances, each with its transport.
    let instances = http_get(address, "/health/instances", &[]).json();
    let listed = instances["instances"].as_array().expect("an instance list");
    assert_eq!(instances["count"], 2, "{instances:#}");
    let http = listed
        .iter()
        .find(|i| i["transport"] == "http")
        .expect("the HTTP session");
    assert!(
        http["instance_id"].as_str().unwrap().starts_with("http_"),
        "{http}"
    );
    assert_eq!(http["directories"], json!([data.to_str().unwrap()]));
    let socket = listed
        .iter()
        .find(|i| i["transport"] == "socket")
        .expect("the shim");
    assert_eq!(socket["pid"], shim.pid());

    // Each call was logged with its fields.
    let log = daemon.log();
    let search_line = log
        .lines()
        .find(|line| line.contains("tool answered") && line.contains("tool=\"zim_search\""))
        .unwrap_or_else(|| panic!("no log line of the search in:\n{log}"));
    for field in [
        "instance=\"http_",
        "archive=\"libkiwix/zimfile.zim\"",
        "outcome=\"ok\"",
    ] {
        assert!(
            search_line.contains(field),
            "{field} missing: {search_line}"
        );
    }
    assert!(search_line.contains("duration_ms="), "{search_line}");
    assert!(log.contains("HTTP session started"), "{log}");

    // Ending the session removes its instance.
    let closed = client.close();
    assert!(closed.status < 300, "{closed:?}");
    wait_until(WAIT, "the HTTP session leaves the registry", || {
        http_get(address, "/health/instances", &[]).json()["count"] == 1
    });
    assert!(daemon.log().contains("HTTP session ended"));
}

#[test]
fn a_stateless_request_is_answered_without_a_session() {
    let Some(data) = test_data() else { return };
    let (_daemon, address) = http_daemon(&data, &[]);
    wait_ready(address);

    let version = "2026-07-28";
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "ozm-tests", "version": "0"},
    });
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "zim_get", "_meta": meta,
        "arguments": {"zim_file_path": RAY_CHARLES, "entry_path": "A/Ray_Charles"}}});
    let headers = [
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
        ("MCP-Protocol-Version", version),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "zim_get"),
    ];
    let answered = http_request(address, "POST", "/mcp", &headers, Some(&call.to_string()));
    assert_eq!(answered.status, 200, "{answered:?}");
    assert_eq!(answered.header("mcp-session-id"), None);
    let answer = answered.answer();
    assert_eq!(answer["id"], 7);
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .expect("a text result");
    let article: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(article["title"], "Ray Charles");

    // It opened no instance.
    let instances = http_get(address, "/health/instances", &[]).json();
    assert_eq!(instances["count"], 0, "{instances:#}");
}

/// A body that is not one JSON-RPC message gets 400 and a JSON-RPC error saying what is wrong,
/// as MCP asks, and the listener goes on serving.
#[test]
fn a_body_that_is_not_one_json_rpc_message_gets_a_json_rpc_error() {
    let (_dir, served) = canonical_temp_dir();
    let (_daemon, address) = http_daemon(&served, &[]);
    let headers = [
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
    ];
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]).to_string();
    for (body, code, said) in [
        (
            "{\"jsonrpc\": \"2.0\", \"id\": 1,",
            -32700,
            "parse error: the body is not JSON",
        ),
        (batch.as_str(), -32600, "batches are not supported"),
        (
            "{\"id\": 1, \"method\": \"ping\"}",
            -32600,
            "not a JSON-RPC 2.0 message",
        ),
        // JSON-RPC 2.0 in name only: rmcp would answer 415.
        (
            "{\"jsonrpc\": \"2.0\", \"id\": 1}",
            -32600,
            "not a JSON-RPC request",
        ),
    ] {
        let answered = http_request(address, "POST", "/mcp", &headers, Some(body));
        assert_eq!(answered.status, 400, "{body}: {answered:?}");
        let error = &answered.json()["error"];
        assert_eq!(error["code"], code, "{body}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(said), "{body}: {message}");
    }
    let mut client = HttpClient::new(address, None);
    let hello = client.initialize();
    assert_eq!(hello["result"]["serverInfo"]["name"], "ozm", "{hello}");
}

/// A body sent in chunks, with no length declared, is refused with 413 once it passes the limit,
/// as one that declares its length is.
#[test]
fn a_chunked_body_over_the_limit_gets_413() {
    let (_dir, served) = canonical_temp_dir();
    let (daemon, address) = http_daemon(&served, &[]);
    let mut stream = TcpStream::connect(address).expect("connecting");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("sending the head");
    // 5 MiB of spaces in 1 MiB chunks; ozmd may answer and close before the last ones.
    let chunk = [
        format!("{:x}\r\n", 1 << 20).into_bytes(),
        vec![b' '; 1 << 20],
    ]
    .concat();
    for _ in 0..5 {
        if stream
            .write_all(&chunk)
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("bodies are limited to 4 MiB"), "{answer}");
    assert!(daemon.log().contains("status=413"), "{}", daemon.log());
}

#[test]
fn health_says_ok_and_readiness_says_why_not() {
    let Some(data) = test_data() else { return };
    let (_daemon, address) = http_daemon(&data, &[]);
    let healthz = http_get(address, "/healthz", &[]);
    assert_eq!(
        (healthz.status, healthz.json()),
        (200, json!({"status": "ok"}))
    );
    wait_ready(address);
    assert_eq!(
        http_get(address, "/readyz", &[]).json(),
        json!({"status": "ready"})
    );

    // Without directories: not ready, and /mcp refuses with the same reason.
    let (nothing, _path) = canonical_temp_dir();
    let config_home = nothing.path().to_str().unwrap();
    let empty = Daemon::start_with_env(&[
        ("OPENZIM_MCP_TRANSPORT", "http"),
        ("OPENZIM_MCP_PORT", "0"),
        ("XDG_CONFIG_HOME", config_home),
    ]);
    let address = listening_address(&empty, "HTTP");
    let readyz = http_get(address, "/readyz", &[]);
    assert_eq!(readyz.status, 503, "{readyz:?}");
    let reason = readyz.json();
    assert_eq!(reason["status"], "not_ready");
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("OPENZIM_MCP_ALLOWED_DIRECTORIES"),
        "{reason}"
    );
    let refused = HttpClient::new(address, None).post(&json!({"jsonrpc": "2.0", "id": 1,
        "method": "initialize", "params": {"protocolVersion": "2025-06-18",
        "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}));
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(
        refused.body.contains("no directories to serve over HTTP"),
        "{refused:?}"
    );
    assert_eq!(http_get(address, "/healthz", &[]).status, 200);
}

#[test]
fn a_listener_beyond_loopback_requires_the_token() {
    let Some(data) = test_data() else { return };
    let token = "s3cret-token";
    let (_daemon, bound) = http_daemon(
        &data,
        &[
            ("OPENZIM_MCP_HOST", "0.0.0.0"),
            ("OPENZIM_MCP_AUTH_TOKEN", token),
        ],
    );
    assert!(bound.ip().is_unspecified(), "{bound}");
    let address = SocketAddr::from(([127, 0, 0, 1], bound.port()));

    for path in ["/metrics", "/health/instances"] {
        assert_eq!(
            http_get(address, path, &[]).status,
            401,
            "{path} without a token"
        );
        let wrong = [("Authorization", "Bearer s3cret-tokem")];
        assert_eq!(
            http_get(address, path, &wrong).status,
            401,
            "{path} with a wrong one"
        );
        let right = format!("Bearer {token}");
        let allowed = http_get(address, path, &[("Authorization", &right)]);
        assert_eq!(allowed.status, 200, "{path}: {allowed:?}");
    }
    let refused = http_get(address, "/metrics", &[]);
    assert_eq!(
        refused.header("www-authenticate"),
        Some("Bearer realm=\"ozm\"")
    );
    assert_eq!(http_get(address, "/healthz", &[]).status, 200);
    assert_ne!(http_get(address, "/readyz", &[]).status, 401);

    // /mcp needs it too; with it a session opens.
    let without = HttpClient::new(address, None).post(&json!({"jsonrpc": "2.0", "id": 1,
        "method": "tools/list"}));
    assert_eq!(without.status, 401, "{without:?}");
    wait_ready(address);
    let mut client = HttpClient::new(address, Some(token));
    assert_eq!(client.initialize()["result"]["serverInfo"]["name"], "ozm");

    // A Host header that is not allowed is refused even with the token (DNS rebinding).
    let right = format!("Bearer {token}");
    let headers = [("Host", "evil.example"), ("Authorization", right.as_str())];
    let rebound = http_request(address, "GET", "/metrics", &headers, None);
    assert_eq!(rebound.status, 403, "{rebound:?}");
}

#[test]
fn ozmd_refuses_to_listen_beyond_loopback_without_a_token() {
    let (dir, _path) = canonical_temp_dir();
    let socket = dir.path().join("ozmd.sock");
    let run = |extra: &[(&str, &str)]| {
        let mut command = std::process::Command::new(binary("ozmd"));
        command
            .arg("--socket")
            .arg(&socket)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("XDG_CACHE_HOME", dir.path())
            .env("OPENZIM_MCP_TRANSPORT", "http")
            .env("OPENZIM_MCP_HOST", "0.0.0.0")
            .env("OPENZIM_MCP_PORT", "0")
            .envs(extra.iter().copied());
        command
    };
    let refused = run_bounded(&mut run(&[]));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("OPENZIM_MCP_HOST"), "{stderr}");
    assert!(stderr.contains("OPENZIM_MCP_AUTH_TOKEN"), "{stderr}");
    assert!(!socket.exists(), "nothing was bound");
}

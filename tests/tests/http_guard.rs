//! The HTTP listeners against careless or hostile callers, on loopback: connections that never
//! finish a request (its head or its body) cannot take the descriptors the socket's shims need,
//! and are closed; a loopback address other than 127.0.0.1 is served; a page of another site is
//! refused; HTTP sessions are not conflicts with each other; system mode needs a token; a port
//! another program holds is waited for.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ozm_tests::fixture::{
    ConfiguredDaemon, Daemon, HttpClient, Running, Shim, WAIT, binary, canonical_temp_dir,
    http_daemon, http_get, http_request, ozm, status_json, test_data, wait_for_socket, wait_ready,
    wait_until,
};
use serde_json::json;

/// How long the daemon lets a connection idle (30 s), with room for a busy machine.
const IDLE_BOUND: Duration = Duration::from_secs(120);

/// A directory holding only the Ray Charles archive.
fn ray_charles_dir(data: &Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = canonical_temp_dir();
    let zim = path.join("zim");
    std::fs::create_dir(&zim).unwrap();
    std::fs::copy(data.join("libkiwix/zimfile.zim"), zim.join("ray.zim")).unwrap();
    (dir, path)
}

/// Opens a connection and sends the first line of a request, never the rest.
fn half_request(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connecting");
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("sending half a request");
    stream
}

#[test]
fn clients_that_never_finish_a_request_leave_the_shims_served() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = ray_charles_dir(&data);
    let socket = path.join("ozmd.sock");
    let log = path.join("ozmd.log");
    let zim = path.join("zim");
    let daemon = Command::new("sh")
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(binary("ozmd"))
        .arg("--socket")
        .arg(&socket)
        .env("XDG_CACHE_HOME", path.join("cache"))
        .env("XDG_CONFIG_HOME", &path)
        .env("OPENZIM_MCP_TRANSPORT", "http")
        .env("OPENZIM_MCP_PORT", "0")
        .env("OPENZIM_MCP_ALLOWED_DIRECTORIES", &zim)
        .env("OPENZIM_MCP_INSTANCE__TRACKING_DIR", path.join("instances"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting ozmd");
    let _daemon = Running(daemon);
    wait_for_socket(&socket);
    let marker = "HTTP listening on ";
    let mut address = None;
    wait_until(WAIT, "ozmd logs its HTTP address", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        address = text.lines().find_map(|line| {
            let rest = &line[line.find(marker)? + marker.len()..];
            rest.split_whitespace().next()?.parse::<SocketAddr>().ok()
        });
        address.is_some()
    });
    let address = address.unwrap();
    wait_ready(address);

    // More half-sent requests than ozmd has descriptors.
    let held: Vec<TcpStream> = (0..100).map(|_| half_request(address)).collect();
    let mut shim = Shim::start(&socket, &path, &[&zim], &[]);
    shim.initialize();
    let article = shim.call_ok(
        "zim_get",
        json!({"zim_file_path": "ray.zim", "entry_path": "A/Ray_Charles"}),
    );
    assert_eq!(article["title"], "Ray Charles");
    drop(shim);
    drop(held);
    wait_ready(address);
}

#[test]
fn a_connection_without_a_request_is_closed() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = ray_charles_dir(&data);
    let (_daemon, address) = http_daemon(&path.join("zim"), &[]);
    let mut stream = half_request(address);
    stream.set_read_timeout(Some(IDLE_BOUND)).unwrap();
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the connection stayed open: {error}"),
    }
    // A client that finishes its request is answered as before.
    assert_eq!(http_get(address, "/healthz", &[]).status, 200);
}

/// A body that never arrives in full is answered 408 once the idle time is up, and its
/// connection closed, rather than held as a request in progress for good.
#[test]
fn a_body_that_never_arrives_is_refused_and_its_connection_closed() {
    let (_dir, served) = canonical_temp_dir();
    let (daemon, address) = http_daemon(&served, &[]);
    let mut stream = TcpStream::connect(address).expect("connecting");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\""
    );
    stream
        .write_all(head.as_bytes())
        .expect("sending a tenth of a body");
    stream.set_read_timeout(Some(IDLE_BOUND)).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the connection stayed open: {error}"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 30 s"), "{answer}");
    assert!(daemon.log().contains("status=408"), "{}", daemon.log());
}

#[test]
fn a_loopback_address_is_served_and_a_foreign_page_refused() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = ray_charles_dir(&data);
    let (_daemon, address) = http_daemon(&path.join("zim"), &[("OPENZIM_MCP_HOST", "127.0.0.2")]);
    assert_eq!(address.ip().to_string(), "127.0.0.2");
    wait_ready(address);
    assert_eq!(http_get(address, "/metrics", &[]).status, 200);
    let mut client = HttpClient::new(address, None);
    assert_eq!(client.initialize()["result"]["serverInfo"]["name"], "ozm");

    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "page", "version": "0"}}})
    .to_string();
    let post = |origin: &str| {
        let headers = [
            ("Accept", "application/json, text/event-stream"),
            ("Content-Type", "application/json"),
            ("Origin", origin),
        ];
        http_request(address, "POST", "/mcp", &headers, Some(&initialize))
    };
    let foreign = post("https://evil.example");
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert!(foreign.body.contains("Origin"), "{foreign:?}");
    assert_eq!(post("null").status, 403);
    let local = post("http://localhost:6274");
    assert_eq!(local.status, 200, "{local:?}");
    let metrics = http_get(address, "/metrics", &[("Origin", "https://evil.example")]);
    assert_eq!(metrics.status, 403);
}

#[test]
fn http_sessions_conflict_with_shims_but_not_with_each_other() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = ray_charles_dir(&data);
    let zim = path.join("zim");
    let (daemon, address) = http_daemon(&zim, &[]);
    wait_ready(address);
    let mut first = HttpClient::new(address, None);
    let mut second = HttpClient::new(address, None);
    first.initialize();
    second.initialize();
    let instances = http_get(address, "/health/instances", &[]).json();
    assert_eq!(instances["count"], 2, "{instances:#}");
    for instance in instances["instances"].as_array().unwrap() {
        assert_eq!(instance["conflicts"], json!([]), "{instances:#}");
    }

    let mut shim = daemon.shim(&[&zim]);
    shim.initialize();
    let instances = http_get(address, "/health/instances", &[]).json();
    for instance in instances["instances"].as_array().unwrap() {
        let expected = if instance["transport"] == "http" {
            1
        } else {
            2
        };
        let kinds = vec!["multiple_instances"; expected];
        assert_eq!(instance["conflicts"], json!(kinds), "{instances:#}");
    }
}

/// A port another program holds leaves the socket serving: `ozm status` shows the listener as
/// waiting, with why, and once the port is free ozmd listens on it by itself.
#[test]
fn a_port_held_by_another_program_is_listened_on_once_free() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = holder.local_addr().expect("its address");
    let (_dir, served) = canonical_temp_dir();
    let port = address.port().to_string();
    let daemon = Daemon::start_with_env(&[
        ("OPENZIM_MCP_TRANSPORT", "http"),
        ("OPENZIM_MCP_PORT", &port),
        ("OPENZIM_MCP_ALLOWED_DIRECTORIES", served.to_str().unwrap()),
    ]);
    let waiting = || status_json(&daemon.socket)["http_waiting"].clone();
    wait_until(WAIT, "the listener is shown waiting", || {
        waiting().as_array().is_some_and(|all| !all.is_empty())
    });
    let status = status_json(&daemon.socket);
    assert_eq!(status["http"], json!([]), "{status}");
    let reason = "Address already in use";
    assert_eq!(status["http_waiting"][0]["address"], address.to_string());
    assert_eq!(status["http_waiting"][0]["mcp"], true);
    let said = status["http_waiting"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(said.starts_with(reason), "{status}");
    assert!(said.ends_with("another program holds the port"), "{status}");
    let table = String::from_utf8(ozm(&daemon.socket, &["status"]).stdout).unwrap();
    let field = format!("\thttp {address} (mcp) waiting: {reason}");
    assert!(table.contains(&field), "{table}");
    assert!(
        daemon
            .log()
            .contains("cannot listen for HTTP; trying again every 5 s"),
        "{}",
        daemon.log()
    );

    drop(holder);
    wait_until(WAIT, "ozmd listens once the port is free", || {
        TcpStream::connect(address).is_ok()
    });
    assert_eq!(http_get(address, "/healthz", &[]).status, 200);
    let status = status_json(&daemon.socket);
    assert_eq!(status["http_waiting"], json!([]), "{status}");
    assert_eq!(
        status["http"],
        json!([{"address": address.to_string(), "mcp": true}])
    );
}

/// An address that is not one of this machine's is waited for too (it may be given to the
/// machine later), and `ozm status` says which setting to check.
#[test]
fn an_address_not_of_this_machine_is_waited_for_naming_the_setting() {
    let (_dir, served) = canonical_temp_dir();
    let daemon = Daemon::start_with_env(&[
        ("OPENZIM_MCP_TRANSPORT", "http"),
        // TEST-NET-1 (RFC 5737) is no machine's address: bound only, never sent to.
        ("OPENZIM_MCP_HOST", "192.0.2.1"),
        ("OPENZIM_MCP_PORT", "0"),
        ("OPENZIM_MCP_AUTH_TOKEN", "a-token"),
        ("OPENZIM_MCP_ALLOWED_DIRECTORIES", served.to_str().unwrap()),
    ]);
    let waiting = || status_json(&daemon.socket)["http_waiting"].clone();
    wait_until(WAIT, "the listener is shown waiting", || {
        waiting().as_array().is_some_and(|all| !all.is_empty())
    });
    let status = status_json(&daemon.socket);
    assert_eq!(status["http_waiting"][0]["address"], "192.0.2.1:0");
    let said = status["http_waiting"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    let hint = "192.0.2.1 is not an address of this machine (yet): check OPENZIM_MCP_HOST";
    assert!(said.ends_with(hint), "{status}");
}

#[test]
fn system_mode_refuses_http_without_a_token() {
    let (_dir, path) = canonical_temp_dir();
    let config = path.join("ozmd.toml");
    std::fs::write(&config, "").unwrap();
    let socket = path.join("ozmd.sock");
    for listener in [
        ("OPENZIM_MCP_TRANSPORT", "http"),
        ("OPENZIM_MCP_METRICS__ENABLED", "true"),
    ] {
        let args: [&OsStr; 5] = [
            "--system".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--cache-dir".as_ref(),
            path.as_os_str(),
        ];
        let env = [
            listener,
            ("OPENZIM_MCP_PORT", "0"),
            ("OPENZIM_MCP_METRICS__PORT", "0"),
        ];
        let refused = ConfiguredDaemon::run_to_exit(&socket, &args, &env);
        assert!(!refused.status.success(), "{listener:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("system mode"), "{stderr}");
        assert!(stderr.contains("OPENZIM_MCP_AUTH_TOKEN"), "{stderr}");
        assert!(!socket.exists(), "nothing was bound");
    }
}

#[test]
fn each_refused_request_is_logged_with_its_reason() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = ray_charles_dir(&data);
    let (daemon, address) = http_daemon(&path.join("zim"), &[]);
    wait_ready(address);
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let json_only = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    let refused = http_request(address, "POST", "/mcp", &json_only, Some(&list));
    assert_eq!(refused.status, 406, "{refused:?}");
    let ended = [
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", "no-such-session"),
    ];
    let refused = http_request(address, "POST", "/mcp", &ended, Some(&list));
    assert_eq!(refused.status, 404, "{refused:?}");
    let refused = http_get(address, "/metrics", &[("Host", "evil.example")]);
    assert_eq!(refused.status, 403, "{refused:?}");

    let log = daemon.log();
    let refusals: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("HTTP request refused"))
        .collect();
    assert_eq!(refusals.len(), 3, "{log}");
    assert!(refusals.iter().all(|line| line.contains("WARN")), "{log}");
    assert!(refusals[0].contains("status=406") && refusals[0].contains("text/event-stream"));
    assert!(refusals[1].contains("status=404") && refusals[1].contains("Session not found"));
    assert!(
        refusals[2].contains("Host header not allowed") && refusals[2].contains("evil.example")
    );
}

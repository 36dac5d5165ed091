//! Shims through daemon restarts: busy shims whose daemon is killed (SIGKILL) or stopped
//! (SIGTERM) and started again on the same socket, as systemd would, see every call answered
//! once, right and without error; a daemon a shim started and that died is started again by
//! the shim; stateless-era clients carry on the same way; a daemon that does not come back, or
//! hangs, ends the shim with an error that names the cause; and a socket this user may not open
//! is refused with what to do about it.
//!
//! Daemons that shims start run detached; a [`DaemonSweeper`] kills them when a test ends.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use ozm_tests::fixture::{
    Daemon, DaemonSweeper, Load, Outcome, Shim, WAIT, binary, daemons_for, expected_answers,
    run_bounded, signal, test_data, wait_exit, wait_until,
};
use serde_json::{Value, json};

/// Shims busy at once.
const SHIMS: usize = 4;

/// Calls each shim pipelines between two restarts.
const ROUND: usize = 30;

/// The variable that shortens how long a shim tries to reach a daemon again.
const LIMIT_ENV: &str = "OZM_RECONNECT_TIMEOUT_SECS";

/// Fails with every failure of `outcome`.
fn assert_no_failures(outcome: &Outcome) {
    assert!(
        outcome.failures.is_empty(),
        "{} of {} calls went wrong:\n{}",
        outcome.failures.len(),
        outcome.calls,
        outcome.failures.join("\n")
    );
}

/// The answers a daemon on its own gives, checked against the oracle.
fn expected(daemon: &Daemon, data: &Path) -> Vec<String> {
    let mut shim = daemon.shim(&[data]);
    shim.initialize();
    let expected = expected_answers(&mut shim);
    shim.close_cleanly();
    expected
}

#[test]
fn busy_shims_see_no_error_when_the_daemon_is_killed_or_restarted() {
    let Some(data) = test_data() else { return };
    let mut daemon = Daemon::start();
    let _sweeper = DaemonSweeper::new(&daemon.socket);
    let expected = expected(&daemon, &data);
    let mut loads: Vec<Load> = (0..SHIMS)
        .map(|_| {
            let mut shim = daemon.shim(&[&data]);
            shim.initialize();
            Load::new(shim, false)
        })
        .collect();

    // Killed while the first answers come in; a new daemon takes over the same socket.
    loads.iter_mut().for_each(|load| load.send(ROUND));
    loads[0].read_one();
    daemon.kill();
    daemon.restart();

    // Stopped cleanly while busy, then started again.
    loads.iter_mut().for_each(|load| load.send(ROUND));
    loads[0].read_one();
    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    daemon.restart();

    loads.iter_mut().for_each(|load| load.send(ROUND));
    for load in loads {
        let outcome = load.finish(&expected);
        assert_eq!(outcome.calls, 3 * ROUND);
        assert_no_failures(&outcome);
    }
}

#[test]
fn a_daemon_the_shim_started_is_started_again_when_it_is_killed() {
    let Some(data) = test_data() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ozmd.sock");
    let _sweeper = DaemonSweeper::new(&socket);
    let cache = dir.path().join("cache");
    let env = [("XDG_CACHE_HOME", cache.to_str().expect("UTF-8 path"))];
    let mut shim = Shim::start(&socket, dir.path(), &[&data], &env);
    shim.initialize();
    let expected = expected_answers(&mut shim);
    let [started] = daemons_for(&socket)[..] else {
        panic!("the shim should have started one daemon")
    };

    let mut load = Load::new(shim, false);
    load.send(ROUND);
    load.read_one();
    signal(started, "KILL");
    wait_until(WAIT, "the killed daemon is gone", || {
        !daemons_for(&socket).contains(&started)
    });
    load.send(ROUND);
    assert_no_failures(&load.finish(&expected));

    let now = daemons_for(&socket);
    assert_eq!(now.len(), 1, "one daemon should serve again: {now:?}");
    assert_ne!(now[0], started);
}

#[test]
fn stateless_clients_carry_on_across_a_restart() {
    let Some(data) = test_data() else { return };
    let mut daemon = Daemon::start();
    let _sweeper = DaemonSweeper::new(&daemon.socket);
    let expected = expected(&daemon, &data);

    // No initialize: every request carries the 2026-07-28 revision in its _meta.
    let mut load = Load::new(daemon.shim(&[&data]), true);
    load.send(ROUND);
    load.read_one();
    daemon.kill();
    daemon.restart();
    load.send(ROUND);
    load.read_one();
    daemon.terminate();
    daemon.restart();
    load.send(ROUND);
    assert_no_failures(&load.finish(&expected));
}

#[test]
fn when_the_daemon_does_not_come_back_requests_get_an_error_naming_why() {
    let Some(data) = test_data() else { return };
    let mut daemon = Daemon::start();
    let stderr_path = daemon.dir.path().join("shim.stderr");
    let mut child = Command::new(binary("ozm"))
        .arg("mcp")
        .arg(&data)
        .env("OZM_SOCKET", &daemon.socket)
        .env("XDG_STATE_HOME", daemon.dir.path())
        .env(LIMIT_ENV, "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("a stderr file"))
        .spawn()
        .expect("starting ozm mcp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut send = |message: Value| writeln!(stdin, "{message}").expect("writing to the shim");
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "ozm-tests", "version": "0"}}}),
    );
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("the answer to initialize");
    assert!(first.contains("\"result\""), "{first}");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    // Stopped, and nobody starts it again: the socket is gone, so the shim waits for a new
    // daemon rather than starting one behind the operator's back.
    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    for id in 2..=4 {
        send(
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "zim_get",
            "arguments": {"zim_file_path": "libkiwix/zimfile.zim", "main_page": true}}}),
        );
    }
    let status = wait_exit(&mut child);
    assert!(
        !status.success(),
        "the shim should fail when no daemon comes back"
    );

    let answers: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(&line.expect("a line")).expect("JSON-RPC only"))
        .collect();
    let ids: Vec<&Value> = answers.iter().map(|answer| &answer["id"]).collect();
    assert_eq!(ids, [&json!(2), &json!(3), &json!(4)], "{answers:?}");
    let cause = "did not come back within 2 s";
    for answer in &answers {
        let message = answer["error"]["message"].as_str().expect("an error");
        assert!(message.contains(cause), "{message}");
        assert!(
            message.contains("lost ozmd (it closed the connection)"),
            "{message}"
        );
        assert!(
            message.contains(&daemon.socket.display().to_string()),
            "{message}"
        );
    }
    let stderr = std::fs::read_to_string(&stderr_path).expect("the shim's stderr");
    assert!(stderr.contains("ozmd went away"), "{stderr}");
    assert!(stderr.contains(cause), "{stderr}");
    assert!(
        daemons_for(&daemon.socket).is_empty(),
        "the shim started a daemon"
    );
}

/// Stops `daemon` (SIGSTOP), as if it hung, and sends it through `shim` a call with `id` that it
/// will not answer.
fn call_a_stopped_daemon(daemon: &Daemon, shim: &mut Shim, id: &str) {
    signal(daemon.pid(), "STOP");
    let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "zim_get", "arguments": {"zim_file_path": "libkiwix/zimfile.zim",
        "main_page": true}}});
    shim.send_raw(&call.to_string());
}

/// A client may close stdin right after its last request (`cat requests | ozm mcp`). A daemon
/// that hangs (here stopped with SIGSTOP) never answers: the shim gives up after its drain
/// limit, but still answers the request, with an error, and fails rather than exit quietly.
#[test]
fn a_request_a_hung_daemon_never_answers_gets_an_error_once_stdin_closed() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();
    call_a_stopped_daemon(&daemon, &mut shim, "last");
    let (status, transcript) = shim.close_with_transcript();
    signal(daemon.pid(), "CONT");

    assert!(!status.success(), "the shim exited with {status}");
    let answers: Vec<Value> = transcript
        .iter()
        .map(|line| serde_json::from_str(line).expect("JSON-RPC only"))
        .filter(|answer: &Value| answer["id"] == "last")
        .collect();
    let [answer] = &answers[..] else {
        panic!("one answer to the last request expected: {transcript:?}")
    };
    let message = answer["error"]["message"].as_str().expect("an error");
    assert!(message.contains("closed stdin"), "{message}");
}

/// An AI client never closes stdin, so the drain limit above does not help it. A daemon that
/// hangs while the client waits sends no heartbeat either: after the silence limit (here its
/// floor of 10 s) the shim takes it for lost, cannot reach it again (it never greets), and
/// answers the request with an error that says why, rather than leaving the client waiting.
#[test]
fn a_request_a_hung_daemon_never_answers_gets_an_error_while_stdin_stays_open() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let heartbeat = ("OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL", "1");
    let mut shim = daemon.shim_with_env(&[&data], &[heartbeat, (LIMIT_ENV, "2")]);
    shim.initialize();
    call_a_stopped_daemon(&daemon, &mut shim, "waits");
    let answer = shim.read_message();
    let status = shim.wait();
    signal(daemon.pid(), "CONT");

    assert_eq!(answer["id"], "waits", "{answer}");
    let message = answer["error"]["message"].as_str().expect("an error");
    assert!(
        message.contains("sent nothing, not even a heartbeat, for 10 s"),
        "{message}"
    );
    assert!(
        message.contains("did not come back within 2 s"),
        "{message}"
    );
    assert!(!status.success(), "the shim exited with {status}");
}

#[test]
fn a_user_outside_the_sockets_group_is_told_to_join_it() {
    if !Path::new("/usr/bin/setpriv").exists() && !Path::new("/bin/setpriv").exists() {
        let _ = writeln!(std::io::stderr(), "SKIPPED: setpriv is missing");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let traversable = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(dir.path(), traversable).expect("chmod");
    let socket = dir.path().join("ozmd.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("a socket");
    std::os::unix::fs::chown(&socket, Some(0), Some(100)).expect("chown root:100");
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660)).expect("chmod");
    let group = std::fs::read_to_string("/etc/group")
        .expect("/etc/group")
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.get(2) == Some(&"100")).then(|| fields[0].to_owned())
        })
        .unwrap_or_else(|| "gid 100".to_owned());

    let output = run_bounded(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(binary("ozm"))
            .arg("mcp")
            .arg(dir.path())
            .env("OZM_SOCKET", &socket),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout is for JSON-RPC only");
    for needle in [
        format!("permission denied connecting to {}", socket.display()),
        format!("belongs to group {group} (mode 0660)"),
        format!("sudo usermod -aG {group} $USER"),
    ] {
        assert!(stderr.contains(&needle), "{needle:?} not in {stderr}");
    }
}

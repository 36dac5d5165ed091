//! The daemon's life on its socket: one daemon per socket path, sockets left by a crash replaced,
//! clean stops that remove only the daemon's own socket, the socket's mode, and daemons started
//! by shims, alone or several at the same moment.
//!
//! Daemons that shims start run detached, so no handle of the test owns them: a
//! [`DaemonSweeper`] kills every `ozmd` started for the test's socket when the test ends, even on
//! failure.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use ozm_tests::fixture::{
    Daemon, DaemonSweeper, Running, Shim, WAIT, assert_jsonrpc, binary, daemons_for, run_bounded,
    shim_pids, signal, status_json, wait_for_socket, wait_until,
};
use serde_json::json;

/// "At once": a shim that exited is out of `ozm status` as soon as the daemon reads the end of
/// its connection, far sooner than any heartbeat would notice.
const AT_ONCE: Duration = Duration::from_secs(2);

/// Initialises an MCP session and checks that it lists tools.
fn assert_serves(shim: &mut Shim) {
    let init = shim.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "ozm", "{init}");
    let tools = shim.request("tools/list", json!({}));
    assert!(
        tools["result"]["tools"]
            .as_array()
            .is_some_and(|tools| !tools.is_empty()),
        "{tools}"
    );
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket())
}

#[test]
fn a_second_daemon_on_the_same_socket_exits_naming_the_running_one() {
    let daemon = Daemon::start();

    let second = run_bounded(
        Command::new(binary("ozmd"))
            .arg("--socket")
            .arg(&daemon.socket),
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second daemon ran: {stderr}");
    assert!(
        stderr.contains(&format!("pid {}", daemon.pid())),
        "the message does not name the running daemon: {stderr}"
    );

    // The first daemon still serves, and its socket is still there.
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    assert_serves(&mut shim);
    assert_eq!(status_json(&daemon.socket)["daemon"]["pid"], daemon.pid());
    shim.close_cleanly();
}

#[test]
fn a_socket_left_by_a_killed_daemon_is_replaced_by_the_next_daemon() {
    let mut daemon = Daemon::start();
    let killed = daemon.pid();
    daemon.kill();
    assert!(
        is_socket(&daemon.socket),
        "SIGKILL should leave the socket file behind"
    );
    assert!(
        UnixStream::connect(&daemon.socket).is_err(),
        "nobody should answer on it"
    );

    daemon.restart();
    assert_ne!(daemon.pid(), killed);
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    assert_serves(&mut shim);
    assert_eq!(status_json(&daemon.socket)["daemon"]["pid"], daemon.pid());
    assert!(
        daemon
            .log()
            .contains("replacing a socket left by a daemon that died"),
        "{}",
        daemon.log()
    );
    shim.close_cleanly();
}

#[test]
fn a_shim_finding_a_socket_left_by_a_killed_daemon_starts_a_new_daemon() {
    let mut daemon = Daemon::start();
    daemon.kill();
    assert!(is_socket(&daemon.socket));
    let _sweeper = DaemonSweeper::new(&daemon.socket);

    let state = daemon.dir.path().join("state");
    let mut shim = Shim::start(&daemon.socket, &state, &[daemon.dir.path()], &[]);
    assert_serves(&mut shim);
    let started = status_json(&daemon.socket)["daemon"]["pid"]
        .as_u64()
        .expect("daemon pid");
    assert_eq!(daemons_for(&daemon.socket), [started as u32]);
    shim.close_cleanly();
}

#[test]
fn a_stopping_daemon_leaves_a_newer_socket_at_its_path_alone() {
    let mut daemon = Daemon::start();

    // Someone moves the daemon's socket aside and puts a newer socket at the path.
    std::fs::rename(&daemon.socket, daemon.dir.path().join("moved-aside.sock"))
        .expect("moving the socket aside");
    let newer = UnixListener::bind(&daemon.socket).expect("binding a newer socket");
    let newer_inode = std::fs::symlink_metadata(&daemon.socket)
        .expect("newer socket")
        .ino();

    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    let meta = std::fs::symlink_metadata(&daemon.socket).expect("the newer socket was removed");
    assert_eq!(
        meta.ino(),
        newer_inode,
        "the socket at the path is not the newer one"
    );
    UnixStream::connect(&daemon.socket).expect("the newer socket still answers");
    assert!(
        daemon.log().contains("socket was replaced; leaving it"),
        "{}",
        daemon.log()
    );
    drop(newer);
}

/// Stops a daemon serving a shim with `signal_name` and checks that it exits 0, removes its
/// socket and lets the shim go.
fn assert_stops_cleanly_on(signal_name: &str) {
    let mut daemon = Daemon::start();
    // The shim waits for a daemon to come back for a second only, not the default minute.
    let quick = [("OZM_RECONNECT_TIMEOUT_SECS", "1")];
    let mut shim = daemon.shim_with_env(&[daemon.dir.path()], &quick);
    assert_serves(&mut shim);

    let status = daemon.stop_with(signal_name);
    assert!(
        status.success(),
        "ozmd exited with {status} on SIG{signal_name}"
    );
    assert!(
        !daemon.socket.exists(),
        "ozmd left its socket behind on SIG{signal_name}"
    );
    let log = daemon.log();
    assert!(log.contains(&format!("SIG{signal_name} received")), "{log}");
    assert!(log.contains("ozmd stopped"), "{log}");

    // The shim loses its daemon and nobody starts one again (a stopped daemon's socket is gone,
    // so the shim starts none itself); it must not hang on with nobody to talk to.
    let status = shim.wait();
    assert!(
        !status.success(),
        "the shim reported success after its daemon stopped"
    );
    shim.transcript()
        .iter()
        .for_each(|line| assert_jsonrpc(line));
}

#[test]
fn sigterm_stops_the_daemon_cleanly_and_removes_its_socket() {
    assert_stops_cleanly_on("TERM");
}

#[test]
fn sigint_stops_the_daemon_cleanly_and_removes_its_socket() {
    assert_stops_cleanly_on("INT");
}

#[test]
fn the_socket_and_its_lock_are_private_even_under_a_permissive_umask() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ozmd.sock");
    let log = std::fs::File::create(dir.path().join("ozmd.log")).expect("log file");
    let command = format!(
        "umask 000 && exec '{}' --socket \"$1\"",
        binary("ozmd").display()
    );
    let _daemon = Running(
        Command::new("sh")
            .args(["-c", &command, "sh"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting ozmd"),
    );
    wait_for_socket(&socket);

    let mode = |path: &Path| {
        std::fs::symlink_metadata(path)
            .expect("file exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert!(is_socket(&socket));
    assert_eq!(mode(&socket), 0o600, "socket mode {:o}", mode(&socket));
    let lock = dir.path().join("ozmd.lock");
    assert_eq!(mode(&lock) & 0o077, 0, "lock file mode {:o}", mode(&lock));
}

#[test]
fn the_socket_is_created_with_mode_0600() {
    let daemon = Daemon::start();
    let meta = std::fs::symlink_metadata(&daemon.socket).expect("socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

/// The process group of a process, from /proc.
fn process_group(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 1..];
    // Fields after the name: state, ppid, pgrp, …
    after_name
        .split_whitespace()
        .nth(2)
        .expect("pgrp field")
        .parse()
        .expect("numeric pgrp")
}

#[test]
fn a_shim_with_no_daemon_starts_one_that_outlives_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("run").join("ozmd.sock");
    let state = dir.path().join("state");
    let served = tempfile::tempdir().expect("served directory");
    let _sweeper = DaemonSweeper::new(&socket);

    let marker = ("OPENZIM_MCP_CACHE__MAX_SIZE", "7");
    let mut shim = Shim::start(&socket, &state, &[served.path()], &[marker]);
    assert_serves(&mut shim);

    let status = status_json(&socket);
    let pid = status["daemon"]["pid"].as_u64().expect("daemon pid") as u32;
    assert_eq!(shim_pids(&status), [shim.pid()]);
    assert_eq!(daemons_for(&socket), [pid], "one ozmd for the socket");

    // Detached: its own process group, a clean environment, its log in the state directory.
    assert_eq!(
        process_group(pid),
        pid,
        "ozmd is not in a process group of its own"
    );
    assert_ne!(process_group(pid), process_group(shim.pid()));
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("daemon environment");
    assert!(
        !String::from_utf8_lossy(&environ).contains(marker.0),
        "the daemon inherited the shim's client settings"
    );
    let log = std::fs::read_to_string(state.join("ozm").join("ozmd.log")).expect("daemon log");
    assert!(log.contains("ozmd listening"), "{log}");

    // The daemon stays when the shim leaves, and serves the next shim.
    shim.close_cleanly();
    wait_until(AT_ONCE, "the closed shim leaves ozm status", || {
        shim_pids(&status_json(&socket)).is_empty()
    });
    assert_eq!(status_json(&socket)["daemon"]["pid"], pid);
    let mut next = Shim::start(&socket, &state, &[served.path()], &[]);
    assert_serves(&mut next);
    assert_eq!(daemons_for(&socket), [pid]);
    next.close_cleanly();

    // Stop it as an operator would; it removes its socket.
    signal(pid, "TERM");
    wait_until(WAIT, "the detached daemon exits on SIGTERM", || {
        daemons_for(&socket).is_empty()
    });
    assert!(
        !socket.exists(),
        "the detached daemon left its socket behind"
    );
}

#[test]
fn shims_started_together_with_no_daemon_share_one_daemon() {
    const SHIMS: usize = 4;
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ozmd.sock");
    let state = dir.path().join("state");
    let _sweeper = DaemonSweeper::new(&socket);

    let barrier = Arc::new(Barrier::new(SHIMS));
    let starters: Vec<_> = (0..SHIMS)
        .map(|_| {
            let (barrier, socket, state) = (Arc::clone(&barrier), socket.clone(), state.clone());
            let served = dir.path().to_path_buf();
            std::thread::spawn(move || {
                barrier.wait();
                Shim::start(&socket, &state, &[&served], &[])
            })
        })
        .collect();
    let mut shims: Vec<Shim> = starters
        .into_iter()
        .map(|starter| starter.join().expect("starting a shim"))
        .collect();
    shims.iter_mut().for_each(assert_serves);

    let status = status_json(&socket);
    let pid = status["daemon"]["pid"].as_u64().expect("daemon pid") as u32;
    let mut expected: Vec<u32> = shims.iter().map(Shim::pid).collect();
    expected.sort_unstable();
    assert_eq!(
        shim_pids(&status),
        expected,
        "not every shim is on daemon {pid}"
    );

    // Daemons that lost the race exit on their own; exactly one is left.
    wait_until(WAIT, "the losing daemons exit", || {
        daemons_for(&socket) == [pid]
    });
    shims.into_iter().for_each(Shim::close_cleanly);
}

#[test]
fn a_shim_whose_daemon_cannot_start_says_so_with_the_log_to_read() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // No daemon can bind a socket inside /proc: the one the shim starts exits at once.
    let output = run_bounded(
        Command::new(binary("ozm"))
            .args(["mcp", &dir.path().display().to_string()])
            .env("OZM_SOCKET", "/proc/ozm-test/ozmd.sock")
            .env("XDG_STATE_HOME", dir.path().join("state")),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "stdout carries JSON-RPC only");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ozmd exited as it started"), "{stderr}");
    assert!(stderr.contains("ozmd.log"), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("state/ozm/ozmd.log")).unwrap_or_default();
    assert!(
        log.contains("/proc/ozm-test"),
        "the daemon's log names the socket: {log}"
    );
}

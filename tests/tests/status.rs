//! Shims coming and going as `ozm status` shows them, and what `ozm status` says with and without
//! a daemon.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ozm_tests::fixture::{
    Daemon, Shim, WAIT, assert_jsonrpc, daemons_for, ozm, shim_pids, status_json, wait_until,
};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::json;

/// "At once": a shim that exited is out of `ozm status` as soon as the daemon reads the end of
/// its connection, far sooner than any heartbeat would notice.
const AT_ONCE: Duration = Duration::from_secs(2);

/// Initialises an MCP session and checks that it lists tools.
fn assert_serves(shim: &mut Shim) {
    let init = shim.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "ozm", "{init}");
    let tools = shim.request("tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[test]
fn a_shim_whose_client_closes_stdin_exits_0_and_leaves_status_at_once() {
    let daemon = Daemon::start();
    let mut leaving = daemon.shim(&[daemon.dir.path()]);
    let mut staying = daemon.shim(&[daemon.dir.path()]);
    assert_serves(&mut leaving);
    assert_serves(&mut staying);
    let leaving_pid = leaving.pid();
    let staying_pid = staying.pid();
    let mut both = vec![leaving_pid, staying_pid];
    both.sort_unstable();
    assert_eq!(shim_pids(&status_json(&daemon.socket)), both);

    leaving.close_cleanly();
    wait_until(AT_ONCE, "the closed shim leaves ozm status", || {
        shim_pids(&status_json(&daemon.socket)) == [staying_pid]
    });
    assert!(staying.request("tools/list", json!({}))["result"].is_object());
    staying.close_cleanly();
}

#[test]
fn a_killed_shim_disappears_from_status() {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    assert_serves(&mut shim);
    let pid = shim.pid();
    assert_eq!(shim_pids(&status_json(&daemon.socket)), [pid]);

    shim.kill();
    wait_until(WAIT, "the killed shim leaves ozm status", || {
        shim_pids(&status_json(&daemon.socket)).is_empty()
    });
    shim.transcript()
        .iter()
        .for_each(|line| assert_jsonrpc(line));
}

#[test]
fn status_without_a_daemon_says_so_and_exits_3() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ozmd.sock");

    // No socket file at all, then a socket file nobody listens on (a crashed daemon's).
    for leftover in [false, true] {
        if leftover {
            drop(UnixListener::bind(&socket).expect("binding"));
            let meta = std::fs::symlink_metadata(&socket).expect("a socket file");
            assert!(meta.file_type().is_socket());
        }
        for args in [&["status"][..], &["status", "--json"][..]] {
            let output = ozm(&socket, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(3), "ozm {args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("no daemon at {}", socket.display())),
                "ozm {args:?}: {stderr}"
            );
            assert!(output.stdout.is_empty(), "ozm {args:?} printed to stdout");
        }
    }
    assert!(
        daemons_for(&socket).is_empty(),
        "ozm status must not start a daemon"
    );
}

#[test]
fn status_json_describes_the_daemon_its_shims_and_archives() {
    let served = tempfile::tempdir().expect("served directory");
    let served_path = std::fs::canonicalize(served.path()).expect("canonical directory");
    let archive = served_path.join("small.zim");
    let mut builder = ZimBuilder::new();
    builder
        .metadata("Title", "Small")
        .article("Home", "Home", "<html><body><p>Hello.</p></body></html>")
        .main_page("Home");
    builder.write(&archive).expect("writing the test archive");
    let broken = served_path.join("broken.zim");
    std::fs::write(&broken, b"this is not a ZIM archive").expect("writing the broken archive");

    let daemon = Daemon::start();
    let before = now_seconds();
    let mut shim = daemon.shim(&[served.path()]);
    assert_serves(&mut shim);
    let after = now_seconds();
    let status = status_json(&daemon.socket);

    let about = &status["daemon"];
    assert_eq!(about["pid"], daemon.pid());
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert!(about["uptime_seconds"].is_u64(), "{about}");
    assert_eq!(about["socket"], daemon.socket.display().to_string());

    let shims = status["shims"].as_array().expect("a shim list");
    assert_eq!(shims.len(), 1, "{status}");
    let entry = &shims[0];
    assert_eq!(entry["pid"], shim.pid());
    assert_eq!(
        entry["directories"],
        json!([served_path.display().to_string()])
    );
    assert_eq!(
        entry["uid"],
        std::fs::metadata(&archive).expect("archive").uid()
    );
    assert!(
        entry["instance_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{entry}"
    );
    let connected_at = entry["connected_at"]
        .as_u64()
        .expect("connected_at in seconds");
    assert!(
        (before..=after).contains(&connected_at),
        "{connected_at} not in {before}..={after}"
    );

    let archives = status["archives"].as_array().expect("an archive list");
    let find = |path: &Path| {
        archives
            .iter()
            .find(|found| found["path"] == path.display().to_string())
            .unwrap_or_else(|| panic!("{} is not listed: {status}", path.display()))
    };
    let small = find(&archive);
    let size = std::fs::metadata(&archive).expect("archive").len();
    assert_eq!(small["size_bytes"], size);
    let entries = &small["state"]["Open"]["entries"];
    assert!(entries.as_u64().is_some_and(|n| n > 0), "{small}");
    let unreadable = &find(&broken)["state"]["Unreadable"];
    assert!(
        unreadable.as_str().is_some_and(|why| !why.is_empty()),
        "{status}"
    );

    // The text form names the same things.
    let text = ozm(&daemon.socket, &["status"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("pid {}", daemon.pid())), "{text}");
    assert!(text.contains(&format!("pid {}", shim.pid())), "{text}");
    assert!(text.contains("small.zim"), "{text}");
    shim.close_cleanly();
}

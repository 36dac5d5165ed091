//! A daemon out of file descriptors: clients holding connections make accepts fail until they
//! let go. The log says so at most every ten seconds, not at every retry, and the daemon serves
//! again afterwards.

use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use ozm_tests::fixture::{WAIT, binary, ozm, signal, wait_exit, wait_for_socket, wait_until};

/// Descriptors the daemon may open: enough to start, far fewer than the connections below.
const DESCRIPTOR_LIMIT: u32 = 64;

#[test]
fn running_out_of_descriptors_is_logged_once_and_served_through() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ozmd.sock");
    let log_path = dir.path().join("ozmd.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut daemon = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n {DESCRIPTOR_LIMIT} && exec \"$0\" \"$@\""
        ))
        .arg(binary("ozmd"))
        .arg("--socket")
        .arg(&socket)
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env(
            "OPENZIM_MCP_INSTANCE__TRACKING_DIR",
            dir.path().join("instances"),
        )
        .env_remove("OZM_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting ozmd");
    wait_for_socket(&socket);

    // Silent connections: each holds a descriptor in the daemon until the hello times out.
    let started = std::time::Instant::now();
    let held: Vec<UnixStream> = (0..3 * DESCRIPTOR_LIMIT)
        .filter_map(|_| UnixStream::connect(&socket).ok())
        .collect();
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    wait_until(WAIT, "accepts failing", || {
        read_log().contains("accepting connections fails")
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    drop(held);

    wait_until(WAIT, "the daemon serving again", || {
        ozm(&socket, &["status", "--json"]).status.success()
    });
    let log = read_log();
    // One report, and one more for each ten seconds the episode lasted on a slow machine.
    let allowed = 1 + started.elapsed().as_secs() / 10;
    let reports = log.matches("accepting connections fails").count() as u64;
    assert!((1..=allowed).contains(&reports), "{log}");
    signal(daemon.id(), "TERM");
    wait_exit(&mut daemon);
}

//! The instance registry seen end to end: conflicts between real shims, the Python server's
//! instance files, orphaned and unresponsive shims, heartbeats, settings and cleanup, through
//! the MCP tools and the operator's commands.

use std::path::Path;
use std::process::{Command, Stdio};

use ozm_tests::fixture::{Daemon, Shim, WAIT, ozm, signal, status_json, wait_until};
use serde_json::{Value, json};

const CACHE_MAX_SIZE: &str = "OPENZIM_MCP_CACHE__MAX_SIZE";
const LEVEL: &str = "OPENZIM_MCP_INSTANCE__CONFLICT_DETECTION";

/// An initialised shim with `env`.
fn shim(daemon: &Daemon, dir: &Path, env: &[(&str, &str)]) -> Shim {
    let mut shim = daemon.shim_with_env(&[dir], env);
    shim.initialize();
    shim
}

fn conflicts(shim: &mut Shim) -> Vec<Value> {
    let diagnosis = shim.call_tool("diagnose_server_state", json!({}));
    assert!(!diagnosis.is_error, "{}", diagnosis.body);
    diagnosis.body["conflicts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kinds(conflicts: &[Value]) -> Vec<(String, String)> {
    conflicts
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_owned(),
                c["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn diagnose_json(daemon: &Daemon) -> (i32, Value) {
    let output = ozm(&daemon.socket, &["diagnose", "--json"]);
    let report = serde_json::from_slice(&output.stdout).expect("diagnose prints JSON");
    (output.status.code().expect("an exit code"), report)
}

#[test]
fn different_cache_sizes_over_one_directory_are_one_high_configuration_mismatch() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let mut a = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "100")]);
    let b = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "500")]);

    let seen = conflicts(&mut a);
    assert_eq!(
        kinds(&seen),
        [("configuration_mismatch".into(), "high".into())],
        "{seen:?}"
    );
    assert_eq!(seen[0]["instance"]["pid"], b.pid());
    let difference = &seen[0]["differences"][0];
    assert_eq!(difference["setting"], "cache_max_size");
    assert_eq!(difference["this_instance"], "100");
    assert_eq!(difference["other_instance"], "500");

    // The operator sees the same pair once, and `ozm diagnose` says so by its exit code.
    let (code, report) = diagnose_json(&daemon);
    assert_eq!(code, 4, "{report}");
    let all = report["conflicts"].as_array().unwrap();
    assert_eq!(
        kinds(all),
        [("configuration_mismatch".into(), "high".into())]
    );
}

#[test]
fn identical_settings_are_multiple_instances_under_strict_and_info_under_moderate() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let mut strict = shim(&daemon, dir, &[]);
    let mut moderate = shim(&daemon, dir, &[(LEVEL, "moderate")]);
    assert_eq!(
        kinds(&conflicts(&mut strict)),
        [("multiple_instances".into(), "warning".into())]
    );
    assert_eq!(
        kinds(&conflicts(&mut moderate)),
        [("multiple_instances".into(), "info".into())]
    );
}

#[test]
fn moderate_and_relaxed_ignore_minor_differences_and_relaxed_ignores_mere_overlap() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let nested = dir.join("nested");
    std::fs::create_dir(&nested).unwrap();
    let _other = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "500")]);
    let mut moderate = shim(&daemon, dir, &[(LEVEL, "moderate")]);
    let mut relaxed_same = shim(&daemon, dir, &[(LEVEL, "relaxed")]);
    let mut relaxed_nested = shim(&daemon, &nested, &[(LEVEL, "relaxed")]);

    let seen = kinds(&conflicts(&mut moderate));
    assert!(
        seen.iter()
            .all(|(kind, severity)| kind == "multiple_instances" && severity == "info"),
        "{seen:?}"
    );
    let seen = kinds(&conflicts(&mut relaxed_same));
    assert!(
        seen.iter().all(|(kind, _)| kind == "multiple_instances"),
        "{seen:?}"
    );
    assert!(!seen.is_empty());
    assert_eq!(kinds(&conflicts(&mut relaxed_nested)), []);
}

#[test]
fn shims_over_unrelated_directories_do_not_conflict() {
    let daemon = Daemon::start();
    let (left, right) = (
        daemon.dir.path().join("left"),
        daemon.dir.path().join("right"),
    );
    std::fs::create_dir(&left).unwrap();
    std::fs::create_dir(&right).unwrap();
    let mut a = shim(&daemon, &left, &[(CACHE_MAX_SIZE, "100")]);
    let _b = shim(&daemon, &right, &[(CACHE_MAX_SIZE, "500")]);
    assert_eq!(kinds(&conflicts(&mut a)), []);
    let (code, report) = diagnose_json(&daemon);
    assert_eq!(code, 0, "{report}");
}

fn write_instance_file(dir: &Path, pid: u32, start_time: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let file = json!({
        "pid": pid, "config_hash": "c909d917", "allowed_directories": ["/srv/zim"],
        "start_time": start_time, "server_name": "openzim-mcp", "last_heartbeat": start_time,
        "start_time_iso": "2026-01-01T00:00:00", "last_heartbeat_iso": "2026-01-01T00:00:00",
    });
    std::fs::write(dir.join(format!("server_{pid}.json")), file.to_string()).unwrap();
}

#[test]
fn python_instance_files_of_dead_or_reused_pids_are_stale_and_cleaned_without_harm() {
    let daemon = Daemon::start();
    let tracking = daemon.tracking_dir();

    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let mut sleeper = Command::new("sleep")
        .arg("300")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    write_instance_file(&tracking, gone_pid, 1_000_000.0);
    write_instance_file(&tracking, sleeper.id(), 1_000_000.0);

    let (code, report) = diagnose_json(&daemon);
    assert_eq!(code, 4, "{report}");
    let stale: Vec<&Value> = report["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "stale_instance")
        .collect();
    assert_eq!(stale.len(), 2, "{report}");
    assert!(stale.iter().all(|c| c["severity"] == "low"));

    // A dry run changes nothing.
    let dry = ozm(&daemon.socket, &["cleanup", "--dry-run", "--json"]);
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(
        dry["cleanup_results"]["stale_instances_removed"], 2,
        "{dry}"
    );
    assert_eq!(std::fs::read_dir(&tracking).unwrap().count(), 2);

    let done = ozm(&daemon.socket, &["cleanup", "--json"]);
    assert!(done.status.success());
    let done: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(
        done["cleanup_results"]["stale_instances_removed"], 2,
        "{done}"
    );
    assert_eq!(done["actions_taken"].as_array().unwrap().len(), 2, "{done}");
    assert_eq!(std::fs::read_dir(&tracking).unwrap().count(), 0);
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "cleanup must not touch the sleep"
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(diagnose_json(&daemon).0, 0);
}

#[test]
fn a_shim_whose_client_died_is_orphaned_and_ended_by_cleanup() {
    let daemon = Daemon::start();
    let ozm_binary = ozm_tests::fixture::binary("ozm");
    // The "AI client" is a shell running the shim (`; :` keeps the shell from exec'ing it); the
    // shim's stdin is a pipe from a `sleep` the test holds, so it stays open after the shell dies.
    let mut feeder = Command::new("sleep")
        .arg("300")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let script = format!(
        "{} mcp {}; :",
        ozm_binary.display(),
        daemon.dir.path().display()
    );
    let mut client = Command::new("sh")
        .args(["-c", &script])
        .env("OZM_SOCKET", &daemon.socket)
        .env("XDG_STATE_HOME", daemon.dir.path())
        .env("OPENZIM_MCP_INSTANCE__TRACKING_DIR", daemon.tracking_dir())
        .stdin(Stdio::from(feeder.stdout.take().unwrap()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(WAIT, "the shim registers", || {
        status_json(&daemon.socket)["shims"]
            .as_array()
            .is_some_and(|shims| shims.len() == 1)
    });
    let shim_pid = status_json(&daemon.socket)["shims"][0]["pid"]
        .as_u64()
        .unwrap();
    assert_eq!(
        status_json(&daemon.socket)["shims"][0]["client"][0],
        client.id()
    );

    client.kill().unwrap();
    client.wait().unwrap();
    let (code, report) = diagnose_json(&daemon);
    assert_eq!(code, 4, "{report}");
    let orphaned = &report["conflicts"][0];
    assert_eq!(orphaned["type"], "orphaned_instance", "{report}");
    assert_eq!(orphaned["instance"]["pid"], shim_pid);

    let done: Value =
        serde_json::from_slice(&ozm(&daemon.socket, &["cleanup", "--json"]).stdout).unwrap();
    assert_eq!(
        done["cleanup_results"]["orphans_ended"][0]["pid"], shim_pid,
        "{done}"
    );
    wait_until(WAIT, "the orphan leaves the registry", || {
        status_json(&daemon.socket)["shims"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
    let _ = feeder.kill();
    let _ = feeder.wait();
}

#[test]
fn last_heartbeat_moves_while_a_shim_idles() {
    let daemon = Daemon::start();
    let _shim = shim(
        &daemon,
        daemon.dir.path(),
        &[("OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL", "1")],
    );
    wait_until(WAIT, "the shim has been connected for 3 s", || {
        let status = status_json(&daemon.socket);
        let connected = status["shims"][0]["connected_at"]
            .as_u64()
            .unwrap_or(u64::MAX);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        now.as_secs().saturating_sub(connected) >= 3
    });
    let shim = &status_json(&daemon.socket)["shims"][0];
    assert!(
        shim["heartbeat_age_seconds"].as_u64().unwrap() <= 2,
        "{shim}"
    );
    assert_eq!(shim["responsive"], true);
}

/// A daemon stopped (SIGSTOP) for longer than it waits for heartbeats could not hear its shims
/// meanwhile: running again, it keeps them rather than dropping them as silent, and still drops
/// one that then stops answering.
#[test]
fn a_daemon_that_was_stopped_keeps_its_shims_when_it_runs_again() {
    let daemon = Daemon::start();
    let mut shim = shim(
        &daemon,
        daemon.dir.path(),
        &[("OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL", "1")],
    );
    let id = status_json(&daemon.socket)["shims"][0]["instance_id"].clone();
    assert!(id.is_string(), "{id}");
    signal(daemon.pid(), "STOP");
    std::thread::sleep(std::time::Duration::from_secs(6));
    signal(daemon.pid(), "CONT");
    // Enough heartbeats for a drop (after 4 silent intervals) to have happened.
    std::thread::sleep(std::time::Duration::from_secs(3));

    let log = daemon.log();
    assert!(!log.contains("dropping a shim"), "{log}");
    let status = status_json(&daemon.socket);
    assert_eq!(status["shims"][0]["instance_id"], id, "{status}");
    assert_eq!(status["shims"][0]["responsive"], true, "{status}");
    let answer = shim.request("tools/list", json!({}));
    assert!(answer["result"]["tools"].is_array(), "{answer}");

    signal(shim.pid(), "STOP");
    wait_until(WAIT, "the shim stopped after the daemon is dropped", || {
        daemon.log().contains("dropping a shim")
    });
    signal(shim.pid(), "CONT");
}

/// libfaketime (Debian's `faketime` package), which sets a process's wall clock apart from its
/// monotonic clock; the test that needs it is skipped where it is not installed.
fn libfaketime() -> Option<&'static str> {
    let places = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    ];
    places.into_iter().find(|place| Path::new(place).exists())
}

/// Silence is counted on the monotonic clock: the daemon's wall clock set forward an hour, as it
/// is when a machine wakes from sleep, drops no shim, and set back it hides no silent one.
#[test]
fn a_wall_clock_that_jumps_neither_drops_shims_nor_hides_a_silent_one() {
    let Some(faketime) = libfaketime() else {
        let skipped = "skipped: libfaketime is not installed (apt-get install faketime)\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), skipped.as_bytes());
        return;
    };
    let offset = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(offset.path(), "+0\n").unwrap();
    let daemon = Daemon::start_with_env(&[
        ("LD_PRELOAD", faketime),
        ("FAKETIME_TIMESTAMP_FILE", offset.path().to_str().unwrap()),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ]);
    let interval = [("OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL", "1")];
    let shim = shim(&daemon, daemon.dir.path(), &interval);

    std::fs::write(offset.path(), "+1h\n").unwrap();
    // Enough heartbeats for a drop (after 4 silent intervals) to have happened.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let log = daemon.log();
    assert!(!log.contains("dropping a shim"), "{log}");
    assert_eq!(status_json(&daemon.socket)["shims"][0]["responsive"], true);

    std::fs::write(offset.path(), "-1h\n").unwrap();
    signal(shim.pid(), "STOP");
    wait_until(WAIT, "the stopped shim is dropped", || {
        daemon.log().contains("dropping a shim")
    });
    signal(shim.pid(), "CONT");
}

#[test]
fn a_bad_setting_is_refused_naming_the_variable_and_the_range() {
    let daemon = Daemon::start();
    let output = Command::new(ozm_tests::fixture::binary("ozm"))
        .arg("mcp")
        .arg(daemon.dir.path())
        .env("OZM_SOCKET", &daemon.socket)
        .env(CACHE_MAX_SIZE, "0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(CACHE_MAX_SIZE) && stderr.contains("10000"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn tracking_turned_off_is_said_by_the_health_answer() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let _other = shim(&daemon, dir, &[]);
    let mut untracked = shim(
        &daemon,
        dir,
        &[("OPENZIM_MCP_INSTANCE__TRACKING_ENABLED", "false")],
    );
    let health = untracked.call_tool("get_server_health", json!({}));
    let tracking = &health.body["instance_tracking"];
    assert_eq!(tracking["tracking_enabled"], false, "{}", health.body);
    assert_eq!(tracking["conflicts_detected"], 0);
    assert!(
        tracking["current_instance_id"]
            .as_str()
            .unwrap()
            .starts_with("server_")
    );
    assert_eq!(tracking["active_instances"], 2);
}

#[test]
fn configuration_shows_settings_and_a_hash_shared_by_equal_settings() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let mut a = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "100")]);
    let mut b = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "100")]);
    let hash = |shim: &mut Shim| {
        let config = shim.call_tool("get_server_configuration", json!({}));
        config.body["configuration"]["config_hash"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ha, hb) = (hash(&mut a), hash(&mut b));
    assert_eq!(ha.len(), 64);
    assert_eq!(ha, hb);
    let text = ozm(&daemon.socket, &["config"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains(&ha));
}

#[test]
fn a_shim_that_stops_answering_heartbeats_is_marked_then_dropped() {
    use ozm_protocol::{Connection, Hello, HelloReply, Peer, ShimRegistration};
    let daemon = Daemon::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _silent = runtime.block_on(async {
        let stream = tokio::net::UnixStream::connect(&daemon.socket)
            .await
            .unwrap();
        let mut connection = Connection::new(stream);
        let registration = ShimRegistration {
            directories: vec![daemon.dir.path().display().to_string()],
            settings: vec![(
                "OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL".into(),
                "1".into(),
            )],
        };
        connection
            .send(&Hello::new("test", Peer::Shim(registration)))
            .await
            .unwrap();
        let reply: HelloReply = connection.recv().await.unwrap();
        assert!(matches!(reply, HelloReply::Welcome { .. }), "{reply:?}");
        connection
    });
    wait_until(WAIT, "the silent shim is marked unresponsive", || {
        status_json(&daemon.socket)["shims"][0]["responsive"] == false
    });
    wait_until(WAIT, "the silent shim is dropped", || {
        status_json(&daemon.socket)["shims"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
}

#[test]
fn a_shim_that_names_no_cache_setting_takes_the_daemons_and_differs_from_nobody() {
    let daemon = Daemon::start_with_env(&[(CACHE_MAX_SIZE, "50")]);
    let dir = daemon.dir.path();
    let mut silent = shim(&daemon, dir, &[]);
    let _explicit = shim(&daemon, dir, &[(CACHE_MAX_SIZE, "50")]);
    assert_eq!(
        kinds(&conflicts(&mut silent)),
        [("multiple_instances".into(), "warning".into())]
    );
    let config = silent.call_tool("get_server_configuration", json!({}));
    assert_eq!(
        config.body["configuration"]["settings"]["cache_max_size"], 50,
        "{}",
        config.body
    );
    assert_eq!(config.body["diagnostics"]["warnings"], json!([]));
}

#[test]
fn a_lowercase_prefix_is_a_setting_too() {
    let daemon = Daemon::start();
    let dir = daemon.dir.path();
    let mut lower = shim(&daemon, dir, &[("openzim_mcp_cache__max_size", "500")]);
    let _default = shim(&daemon, dir, &[]);
    let seen = conflicts(&mut lower);
    assert_eq!(
        kinds(&seen),
        [("configuration_mismatch".into(), "high".into())],
        "{seen:?}"
    );
}

//! `ozm daemon restart` through the real binaries: a connected shim carries on, and the new
//! daemon is started as the old one was (options, settings, working directory), with what it
//! cannot reuse said; another user's daemon is left alone.
//!
//! Each test has its own [`Place`]; the daemons restarts leave running are killed at the end.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use ozm_tests::fixture::{
    Place, binary, canonical_temp_dir, daemons_for, run_bounded, wait_for_socket,
    write_small_archive,
};
use serde_json::json;

#[test]
fn restart_gives_a_new_daemon_and_a_connected_shim_keeps_working() {
    let place = Place::temporary();
    let (_served, served) = canonical_temp_dir();
    write_small_archive(&served.join("small.zim"), "restartword");
    place.ozm_ok(&["daemon", "start"]);
    let before = place.daemon_pid();
    let mut shim = place.shim(&served);
    shim.initialize();
    assert!(shim.request("tools/list", json!({}))["result"]["tools"].is_array());

    let restarted = place.ozm_ok(&["daemon", "restart"]);
    assert!(
        restarted.starts_with(&format!("stopped ozmd (pid {before})\n")),
        "{restarted}"
    );
    let after = place.daemon_pid();
    assert_ne!(before, after);
    assert!(restarted.contains(&format!("(pid {after})")), "{restarted}");
    assert_eq!(daemons_for(&place.socket), [after]);

    // The shim reconnects to the new daemon on its own.
    let answer = shim.request("tools/list", json!({}));
    assert!(answer["result"]["tools"].is_array(), "{answer}");
    shim.close_cleanly();
}

/// Starts `ozmd OPTIONS… --socket SOCKET` in `cwd` with the place's environment and `env`, as
/// a user would by hand, and waits until it listens.
fn start_by_hand(place: &Place, options: &[&str], env: &[(&str, &str)], cwd: &Path) -> Child {
    let daemon = Command::new(binary("ozmd"))
        .args(options)
        .arg("--socket")
        .arg(&place.socket)
        .envs(place.env())
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ozmd");
    wait_for_socket(&place.socket);
    daemon
}

/// Runs `ozm OPTIONS… daemon restart` from the place's directory.
fn restart_from(place: &Place, options: &[&str]) -> Output {
    run_bounded(
        Command::new(binary("ozm"))
            .args(options)
            .args(["daemon", "restart"])
            .envs(place.env())
            .current_dir(place.dir.path()),
    )
}

/// `restart` starts the new daemon as the old one was started: its options (an empty one
/// among them), its settings, and its working directory, against which a relative config path
/// is read. The socket, here given relative to another directory, stays the one restarted.
#[test]
fn restart_keeps_the_options_and_settings_of_a_daemon_started_by_hand() {
    let place = Place::temporary();
    let config_dir = place.dir.path().join("config");
    std::fs::create_dir_all(&config_dir).expect("the config directory");
    std::fs::write(config_dir.join("ozmd.toml"), "[cache]\nmax_size = 150\n")
        .expect("writing the config file");
    let options = [
        "--index-builds",
        "lazy",
        "--log",
        "",
        "--config",
        "ozmd.toml",
    ];
    let ttl = ("OPENZIM_MCP_CACHE__TTL_SECONDS", "120");
    let mut by_hand = start_by_hand(&place, &options, &[ttl], &config_dir);
    let before = place.daemon_pid();

    let output = restart_from(&place, &["--socket", "run/ozmd.sock"]);
    let restarted = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{restarted}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(by_hand.wait().expect("reaping the old daemon").success());
    assert!(
        restarted.contains(
            "starting it with its options --index-builds lazy --log \"\" --config ozmd.toml \
             and its settings OPENZIM_MCP_CACHE__TTL_SECONDS\n"
        ),
        "{restarted}"
    );
    let after = place.daemon_pid();
    assert_ne!(before, after);
    let command_line = std::fs::read(format!("/proc/{after}/cmdline")).expect("its command line");
    assert!(
        String::from_utf8_lossy(&command_line).contains("--index-builds\0lazy\0--log\0\0"),
        "{command_line:?}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&place.ozm_ok(&["config", "--json"])).expect("JSON config");
    let daemon_wide = &config["daemon"]["daemon_wide_settings"];
    assert_eq!(daemon_wide["cache_ttl_seconds"], "120", "{config}");
    assert_eq!(daemon_wide["cache_max_size"], "150", "{config}");
}

/// A daemon started from a directory removed since cannot be started there again: `restart`
/// says where the new one starts, and when it then fails (its relative config path names no
/// file there) how to start one anyway.
#[test]
fn restart_of_a_daemon_whose_directory_is_gone_says_where_it_starts_and_how_to_recover() {
    let place = Place::temporary();
    let gone = place.dir.path().join("gone");
    std::fs::create_dir_all(&gone).expect("a directory");
    std::fs::write(gone.join("ozmd.toml"), "").expect("writing the config file");
    let mut by_hand = start_by_hand(&place, &["--config", "ozmd.toml"], &[], &gone);
    std::fs::remove_dir_all(&gone).expect("removing its directory");

    let output = restart_from(&place, &[]);
    assert!(by_hand.wait().expect("reaping the old daemon").success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    let here = std::fs::canonicalize(place.dir.path()).expect("the directory");
    let moved = format!(
        "its working directory {} is gone, so it starts in {}",
        here.join("gone").display(),
        here.display()
    );
    assert!(stdout.contains(&moved), "{stdout}");
    assert!(
        stderr.contains("`ozm daemon start` starts one with default options"),
        "{stderr}"
    );
    place.ozm_ok(&["daemon", "start"]);
}

/// Restarted by root, another user's daemon would come back running as root, in files and
/// with a socket its user cannot use: `restart` refuses and leaves it running.
#[test]
fn restart_leaves_the_daemon_of_another_user_running() {
    let root = std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0);
    if !root || !Path::new("/usr/bin/setpriv").exists() {
        let _ = writeln!(std::io::stderr(), "SKIPPED: needs root and setpriv");
        return;
    }
    let place = Place::temporary();
    let traversable = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(place.dir.path(), traversable).expect("chmod");
    for dir in ["run", "home", "state", "cache", "config"] {
        let dir = place.dir.path().join(dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
    }
    let mut theirs = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(binary("ozmd"))
        .envs(place.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ozmd as uid 65534");
    wait_for_socket(&place.socket);
    let before = place.daemon_pid();

    let output = place.ozm(&["daemon", "restart"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("runs as uid 65534"), "{stderr}");
    assert_eq!(place.daemon_pid(), before);
    let _ = theirs.kill();
    let _ = theirs.wait();
}

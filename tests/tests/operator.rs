//! The operator's commands through the real binaries: `ozm daemon start | stop | restart |
//! status`, shell completions and man pages, and commands whose daemon dies while they wait
//! (the form of the reports is in `operator_output.rs`).
//!
//! Each test has its own socket, state, cache and home in a temporary directory; the daemons
//! `ozm daemon start` leaves running are found by their `--socket` and killed at the end.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ozm_tests::fixture::{
    Daemon, DaemonSweeper, Shim, WAIT, binary, canonical_temp_dir, daemons_for, ozm, run_bounded,
    signal, status_json, wait_exit, wait_for_socket, wait_until, write_small_archive,
};
use serde_json::json;

/// A place of its own for the daemons of one test.
struct Place {
    // Declared first, so that the daemons are killed before their directory is removed.
    _sweeper: DaemonSweeper,
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("temporary directory");
        let socket = dir.path().join("run/ozmd.sock");
        Place {
            _sweeper: DaemonSweeper::new(&socket),
            dir,
            socket,
        }
    }

    /// The environment of every command: everything a daemon started from it keeps, here.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let at = |name: &str| self.dir.path().join(name);
        vec![
            ("OZM_SOCKET", self.socket.clone()),
            ("HOME", at("home")),
            ("XDG_STATE_HOME", at("state")),
            ("XDG_CACHE_HOME", at("cache")),
            ("XDG_CONFIG_HOME", at("config")),
        ]
    }

    /// Runs `ozm ARGS…` to its end.
    fn ozm(&self, args: &[&str]) -> Output {
        run_bounded(Command::new(binary("ozm")).args(args).envs(self.env()))
    }

    /// Runs `ozm ARGS…`, which must succeed, and returns its stdout.
    fn ozm_ok(&self, args: &[&str]) -> String {
        let output = self.ozm(args);
        assert!(
            output.status.success(),
            "ozm {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    /// The pid of the daemon answering on the socket, from `ozm status --json`.
    fn daemon_pid(&self) -> u32 {
        let pid = status_json(&self.socket)["daemon"]["pid"].as_u64();
        pid.and_then(|pid| pid.try_into().ok()).expect("a pid")
    }

    /// A shim serving `directory`, with this place's environment.
    fn shim(&self, directory: &Path) -> Shim {
        let env: Vec<(&str, String)> = self
            .env()
            .into_iter()
            .map(|(name, value)| (name, value.display().to_string()))
            .collect();
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        Shim::start(
            &self.socket,
            &self.dir.path().join("state"),
            &[directory],
            &env,
        )
    }
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn start_starts_a_daemon_once_and_status_answers_with_its_pid() {
    let place = Place::new();
    let started = place.ozm_ok(&["daemon", "start"]);
    let pid = place.daemon_pid();
    assert!(
        started.starts_with(&format!("started ozmd (pid {pid}) on ")),
        "{started}"
    );
    assert!(
        started.contains(&place.socket.display().to_string()),
        "{started}"
    );
    assert_eq!(daemons_for(&place.socket), [pid]);

    // A second start finds it and leaves it alone.
    let again = place.ozm_ok(&["daemon", "start"]);
    assert!(again.starts_with("already running: ozmd "), "{again}");
    assert!(again.contains(&format!("(pid {pid})")), "{again}");
    assert_eq!(daemons_for(&place.socket), [pid]);

    let said = place.ozm_ok(&["daemon", "status"]);
    assert!(said.contains(&format!("(pid {pid})")), "{said}");
    // It logs where `ozm daemon start` said.
    let log = place.dir.path().join("state/ozm/ozmd.log");
    assert!(started.contains(&log.display().to_string()), "{started}");
    wait_until(WAIT, "the daemon logs that it listens", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains("listening"))
    });
}

#[test]
fn stop_ends_the_daemon_and_its_socket_and_a_second_stop_finds_nothing() {
    let place = Place::new();
    place.ozm_ok(&["daemon", "start"]);
    let pid = place.daemon_pid();

    let stopped = place.ozm_ok(&["daemon", "stop"]);
    assert_eq!(stopped.trim_end(), format!("stopped ozmd (pid {pid})"));
    // Reparented to init (or a subreaper), it is reaped soon after it exits.
    wait_until(WAIT, "the stopped daemon is reaped", || {
        !process_exists(pid)
    });
    assert!(daemons_for(&place.socket).is_empty());
    assert!(!place.socket.exists(), "the socket file is left behind");

    let nothing = place.ozm_ok(&["daemon", "stop"]);
    assert!(nothing.contains("nothing to stop"), "{nothing}");
    let none = place.ozm(&["daemon", "status"]);
    assert_eq!(none.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&none.stdout).contains("no ozmd runs on"));
    assert_eq!(place.ozm(&["status"]).status.code(), Some(3));
}

#[test]
fn stop_ends_a_daemon_started_by_hand_cleanly() {
    let mut daemon = Daemon::start();
    let output = ozm(&daemon.socket, &["daemon", "stop"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.trim_end(),
        format!("stopped ozmd (pid {})", daemon.pid())
    );
    // The test is its parent: it has exited and waits to be reaped, with its own exit code.
    assert!(daemon.terminate().success(), "{}", daemon.log());
    assert!(!daemon.socket.exists());
}

#[test]
fn restart_gives_a_new_daemon_and_a_connected_shim_keeps_working() {
    let place = Place::new();
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

/// `restart` starts the new daemon as the old one was started: its options (an empty one
/// among them), its settings, and its working directory, against which a relative config path
/// is read. The socket, here given relative to another directory, stays the one restarted.
#[test]
fn restart_keeps_the_options_and_settings_of_a_daemon_started_by_hand() {
    let place = Place::new();
    let config_dir = place.dir.path().join("config");
    std::fs::create_dir_all(&config_dir).expect("the config directory");
    std::fs::write(config_dir.join("ozmd.toml"), "[cache]\nmax_size = 150\n")
        .expect("writing the config file");
    let mut by_hand = Command::new(binary("ozmd"))
        .args([
            "--index-builds",
            "lazy",
            "--log",
            "",
            "--config",
            "ozmd.toml",
        ])
        .arg("--socket")
        .arg(&place.socket)
        .envs(place.env())
        .env("OPENZIM_MCP_CACHE__TTL_SECONDS", "120")
        .current_dir(&config_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ozmd");
    wait_for_socket(&place.socket);
    let before = place.daemon_pid();

    let output = run_bounded(
        Command::new(binary("ozm"))
            .args(["--socket", "run/ozmd.sock", "daemon", "restart"])
            .envs(place.env())
            .current_dir(place.dir.path()),
    );
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
    let place = Place::new();
    let gone = place.dir.path().join("gone");
    std::fs::create_dir_all(&gone).expect("a directory");
    std::fs::write(gone.join("ozmd.toml"), "").expect("writing the config file");
    let mut by_hand = Command::new(binary("ozmd"))
        .args(["--config", "ozmd.toml", "--socket"])
        .arg(&place.socket)
        .envs(place.env())
        .current_dir(&gone)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ozmd");
    wait_for_socket(&place.socket);
    std::fs::remove_dir_all(&gone).expect("removing its directory");

    let output = run_bounded(
        Command::new(binary("ozm"))
            .args(["daemon", "restart"])
            .envs(place.env())
            .current_dir(place.dir.path()),
    );
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
    let place = Place::new();
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

/// A daemon that hangs (stopped with SIGSTOP) is no running daemon to `status` or `start`;
/// `stop --force` kills it and removes its socket as a clean stop would, so that the shims
/// connected to it wait for the operator instead of starting a daemon behind their back.
#[test]
fn a_hung_daemon_is_reported_as_such_and_stop_force_ends_it_with_its_socket() {
    let place = Place::new();
    place.ozm_ok(&["daemon", "start"]);
    let pid = place.daemon_pid();
    signal(pid, "STOP");

    for command in [["daemon", "status"], ["daemon", "start"]] {
        let output = place.ozm(&command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        let said = format!(
            "ozmd (pid {pid}) on {} does not answer",
            place.socket.display()
        );
        assert!(stderr.contains(&said), "{command:?}: {stderr}");
    }
    assert_eq!(
        daemons_for(&place.socket),
        [pid],
        "a second daemon was started"
    );

    let stopped = place.ozm_ok(&["daemon", "stop", "--wait", "1", "--force"]);
    assert!(
        stopped.contains("was killed; its socket file is removed"),
        "{stopped}"
    );
    wait_until(WAIT, "the killed daemon is reaped", || !process_exists(pid));
    assert!(!place.socket.exists(), "the socket file is left behind");
}

/// A program that is not ozmd listening on the socket is named, and neither reported as a
/// running daemon, nor signalled, nor taken for one already started.
#[test]
fn a_socket_held_by_another_program_is_named_and_left_alone() {
    let place = Place::new();
    std::fs::create_dir_all(place.dir.path().join("run")).expect("the socket's directory");
    let listener = std::os::unix::net::UnixListener::bind(&place.socket).expect("a socket");
    // It hangs up on every connection, as a program that speaks another protocol may.
    std::thread::spawn(move || listener.incoming().for_each(drop));
    let holder = format!("held by pid {}", std::process::id());

    for command in [
        ["daemon", "status"],
        ["daemon", "start"],
        ["daemon", "stop"],
    ] {
        let output = place.ozm(&command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        assert!(
            stderr.contains(&holder) && stderr.contains("which is not ozmd"),
            "{command:?}: {stderr}"
        );
    }
    assert!(
        daemons_for(&place.socket).is_empty(),
        "a daemon was started"
    );
}

/// `ozm index` of a file that is not there says so, rather than call it no ZIM archive.
#[test]
fn index_of_a_missing_file_says_it_is_missing() {
    let daemon = Daemon::start();
    let missing = daemon.dir.path().join("missing.zim");
    let output = ozm(&daemon.socket, &["index", missing.to_str().expect("UTF-8")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let said = format!("{}: no such file", missing.display());
    assert!(stderr.contains(&said), "{stderr}");

    let text = daemon.dir.path().join("notes.zim");
    std::fs::write(&text, "not an archive").expect("a file");
    let output = ozm(&daemon.socket, &["index", text.to_str().expect("UTF-8")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
}

/// The lines of a report, each checked to be a record: a known kind, then `NAME VALUE` fields.
#[test]
fn completions_and_man_pages_come_from_the_command_line() {
    let place = Place::new();
    let bash = place.ozm_ok(&["completions", "bash"]);
    for word in [
        "status",
        "daemon",
        "mcp",
        "restart",
        "completions",
        "--socket",
    ] {
        assert!(bash.contains(word), "the bash script lacks {word}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            place.ozm_ok(&["completions", shell]).contains("daemon"),
            "{shell}"
        );
    }

    let page = place.ozm_ok(&["man"]);
    assert!(page.contains("\n.TH ozm 1 "), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "ozm.1 lacks {section}");
    }

    let dir = place.dir.path().join("man1");
    let listed = place.ozm_ok(&["man", "--dir", dir.to_str().expect("UTF-8")]);
    let commands = [
        "ozm",
        "ozm-mcp",
        "ozm-status",
        "ozm-index",
        "ozm-diagnose",
        "ozm-cleanup",
        "ozm-config",
        "ozm-daemon",
        "ozm-daemon-start",
        "ozm-daemon-stop",
        "ozm-daemon-restart",
        "ozm-daemon-status",
        "ozm-completions",
        "ozm-man",
    ];
    let mut expected: Vec<PathBuf> = commands
        .iter()
        .map(|name| dir.join(format!("{name}.1")))
        .collect();
    let mut written: Vec<PathBuf> = listed.lines().map(PathBuf::from).collect();
    expected.sort();
    written.sort();
    assert_eq!(written, expected);
    let groff = Command::new("groff").arg("--version").output().is_ok();
    for page in &written {
        let text = std::fs::read_to_string(page).expect("a page");
        assert!(
            text.contains(".SH NAME") && text.contains(".SH SYNOPSIS"),
            "{}",
            page.display()
        );
        if groff {
            // groff reads it as a man page without a warning, even without preconv (which
            // `man` runs, but `groff -man` alone does not).
            let check = ["-man", "-ww", "-z"];
            let checked = run_bounded(Command::new("groff").args(check).arg(page));
            assert!(
                checked.status.success() && checked.stderr.is_empty(),
                "{}: {}",
                page.display(),
                String::from_utf8_lossy(&checked.stderr)
            );
        }
    }
}

/// Whether `pid` has a connected Unix socket (state 03 in /proc/net/unix).
fn has_connected_socket(pid: u32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inodes: Vec<String> = fds
        .filter_map(|fd| {
            let target = std::fs::read_link(fd.ok()?.path()).ok()?;
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(5) == Some(&"03")
            && fields
                .get(6)
                .is_some_and(|inode| inodes.iter().any(|i| i == inode))
    })
}

#[test]
fn a_command_whose_daemon_dies_while_it_waits_fails_with_a_message() {
    for command in ["status", "diagnose", "cleanup", "config"] {
        let mut daemon = Daemon::start();
        // Stopped, the daemon leaves the connection in its backlog, unanswered.
        signal(daemon.pid(), "STOP");
        let mut waiting = Command::new(binary("ozm"))
            .arg(command)
            .env("OZM_SOCKET", &daemon.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting ozm");
        wait_until(WAIT, "ozm connects", || has_connected_socket(waiting.id()));
        daemon.kill();

        let status = wait_exit(&mut waiting);
        let output = waiting.wait_with_output().expect("the output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!status.success(), "ozm {command} succeeded: {stderr}");
        assert!(
            stderr.starts_with("ozm: ") && stderr.contains("ozmd"),
            "{command}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{command} printed a report");
    }
}

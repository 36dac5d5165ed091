//! The operator's commands through the real binaries: `ozm daemon start | stop | status`,
//! shell completions and man pages, and commands whose daemon dies while they wait (restarts
//! are in `restart_by_hand.rs`, the form of the reports in `operator_output.rs`).
//!
//! Each test has its own [`Place`]: socket, state, cache and home in a temporary directory; the
//! daemons `ozm daemon start` leaves running are found by their `--socket` and killed at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ozm_tests::fixture::{
    Daemon, Place, WAIT, binary, daemons_for, ozm, run_bounded, signal, wait_exit, wait_until,
};

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn start_starts_a_daemon_once_and_status_answers_with_its_pid() {
    let place = Place::temporary();
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
    let place = Place::temporary();
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

/// A daemon that hangs (stopped with SIGSTOP) is no running daemon to `status` or `start`;
/// `stop --force` kills it and removes its socket as a clean stop would, so that the shims
/// connected to it wait for the operator instead of starting a daemon behind their back.
#[test]
fn a_hung_daemon_is_reported_as_such_and_stop_force_ends_it_with_its_socket() {
    let place = Place::temporary();
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
    let place = Place::temporary();
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

#[test]
fn completions_and_man_pages_come_from_the_command_line() {
    let place = Place::temporary();
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
        "ozmd",
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

/// An `ozm` installed without `ozmd` still writes its own pages, and says why ozmd's is missing.
#[test]
fn man_pages_are_written_without_ozmd_and_its_absence_is_said() {
    let place = Place::temporary();
    let bin = place.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("a bin directory");
    std::fs::copy(binary("ozm"), bin.join("ozm")).expect("copying ozm alone");
    let dir = place.dir.path().join("man1");
    let output = run_bounded(
        Command::new(bin.join("ozm"))
            .args(["man", "--dir"])
            .arg(&dir)
            .env("PATH", &bin),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("ozm: no page for ozmd: running ozmd --man-page"),
        "{stderr}"
    );
    assert!(dir.join("ozm.1").exists());
    assert!(!dir.join("ozmd.1").exists());
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

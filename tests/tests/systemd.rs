//! ozmd under systemd, with real processes: socket activation through `systemd-socket-activate`
//! and a real `ozm mcp`, sd_notify messages on a datagram socket the test binds, and the system
//! mode's group socket (what it logs is in `logs.rs`).

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};

use ozm_tests::fixture::{
    DaemonSweeper, Notifications, Running, Scratch, Shim, WAIT, binary, run_bounded, status_json,
    test_data, wait_exit, wait_for_socket, wait_until,
};
use serde_json::json;

/// The tool that hands ozmd a socket as systemd does, and where it comes from.
const SOCKET_ACTIVATE: &str = "systemd-socket-activate";

/// `systemd-socket-activate`, or a failure naming the package that provides it.
fn socket_activate() -> Command {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .any(|dir| dir.join(SOCKET_ACTIVATE).is_file());
    assert!(
        found,
        "{SOCKET_ACTIVATE} is missing: install the Debian package `systemd` (CI does, in .ci/run)"
    );
    Command::new(SOCKET_ACTIVATE)
}

#[test]
fn a_socket_handed_over_by_systemd_serves_a_shim_and_is_left_in_place() {
    let Some(data) = test_data() else { return };
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let log = std::fs::File::create(scratch.path("ozmd.log")).expect("log file");
    let mut activator = socket_activate();
    activator
        .arg("--listen")
        .arg(&socket)
        .arg(format!(
            "--setenv=XDG_CACHE_HOME={}",
            scratch.path("cache").display()
        ))
        .arg(format!(
            "--setenv=OPENZIM_MCP_INSTANCE__TRACKING_DIR={}",
            scratch.path("instances").display()
        ))
        .arg("--setenv=OZM_LOG=info")
        .arg(binary("ozmd"))
        .args(["--index-builds", "lazy"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut daemon = Running::start(&mut activator);
    // A shim that lost its daemon may start one of its own; the sweeper ends it.
    let _sweeper = DaemonSweeper::new(&socket);
    wait_until(WAIT, "systemd-socket-activate listens", || socket.exists());

    // The shim's connection is what starts ozmd, as with ozmd.socket.
    let archives = data.join("zim-testing-suite/nons");
    let mut shim = Shim::start(&socket, scratch.dir.path(), &[&archives], &[]);
    shim.initialize();
    let page = shim.call_ok(
        "zim_get",
        json!({"zim_file_path": "small.zim", "main_page": true}),
    );
    assert_eq!(page["path"], "main.html");
    assert_eq!(page["title"], "Test ZIM file");

    // systemd-socket-activate execs ozmd in its own process.
    assert_eq!(status_json(&socket)["daemon"]["pid"], daemon.0.id());
    let log = scratch.log();
    assert!(
        log.contains("listening") && log.contains("from=\"systemd\""),
        "{log}"
    );
    assert!(
        !scratch.path("ozmd.lock").exists(),
        "ozmd locked systemd's socket"
    );

    shim.close_cleanly();
    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    let meta = std::fs::symlink_metadata(&socket).expect("systemd's socket was removed");
    assert!(meta.file_type().is_socket(), "not a socket any more");
    assert!(scratch.log().contains("ozmd stopped"), "{}", scratch.log());
}

#[test]
fn anything_but_a_listening_stream_socket_handed_over_is_refused() {
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let log = std::fs::File::create(scratch.path("ozmd.log")).expect("log file");
    let mut activator = socket_activate();
    activator
        .args(["--datagram", "--listen"])
        .arg(&socket)
        .arg(binary("ozmd"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut daemon = Running::start(&mut activator);
    wait_until(WAIT, "systemd-socket-activate listens", || socket.exists());

    // A datagram wakes the activator, which hands the socket to ozmd.
    let client = UnixDatagram::unbound().expect("a datagram socket");
    client
        .send_to(b"hello", &socket)
        .expect("sending a datagram");
    let status = wait_exit(&mut daemon.0);
    assert!(!status.success(), "ozmd served a datagram socket");
    let log = scratch.log();
    assert!(
        log.contains("is a datagram or packet socket, not a listening Unix stream socket")
            && log.contains("ListenStream="),
        "{log}"
    );

    // A file where the socket should be, as a broken unit could pass.
    let script = "exec 3</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --socket \"$1\"";
    let output = run_bounded(
        Command::new("sh")
            .args(["-c", script])
            .arg(binary("ozmd"))
            .arg(scratch.path("unused.sock")),
    );
    assert!(!output.status.success(), "ozmd served a file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not a socket, not a listening"),
        "{stderr}"
    );
    assert!(
        !scratch.path("unused.sock").exists(),
        "ozmd bound a socket of its own"
    );
}

#[test]
fn readiness_status_watchdog_and_stopping_are_reported_to_systemd() {
    let Some(data) = test_data() else { return };
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let mut notifications = Notifications::bind(&scratch.path("notify.sock"));
    let mut ozmd = scratch.ozmd(&["--index-builds", "lazy"]);
    ozmd.arg("--socket")
        .arg(&socket)
        .env("NOTIFY_SOCKET", scratch.path("notify.sock"))
        .env("WATCHDOG_USEC", "2000000");
    let mut daemon = Running::start(&mut ozmd);
    let _sweeper = DaemonSweeper::new(&socket);

    notifications.first("READY=1", |line| line == "READY=1");
    let status = notifications.first("a status", |line| line.starts_with("STATUS="));
    assert_eq!(status, "STATUS=serving 0 archives to 0 clients");
    notifications.first("a watchdog ping", |line| line == "WATCHDOG=1");

    // A client arrives with its archives, and the status follows.
    let archives = data.join("zim-testing-suite/nons");
    let mut shim = Shim::start(&socket, scratch.dir.path(), &[&archives], &[]);
    shim.initialize();
    let (joined, status) = notifications.first_from(0, "a status with the client", |line| {
        line.starts_with("STATUS=serving") && line.contains(" to 1 client")
    });
    assert!(!status.starts_with("STATUS=serving 0 archives"), "{status}");
    let pings = |notifications: &Notifications| {
        notifications
            .lines()
            .filter(|line| *line == "WATCHDOG=1")
            .count()
    };
    let before = pings(&notifications);
    wait_until(WAIT, "a watchdog ping while serving", || {
        notifications.receive();
        pings(&notifications) > before
    });

    // The client leaves, and the status follows again.
    shim.close_cleanly();
    notifications.first_from(joined + 1, "a status without the client", |line| {
        line.starts_with("STATUS=serving") && line.contains(" to 0 clients")
    });

    let stopped = daemon.terminate();
    assert!(stopped.success(), "ozmd exited with {stopped}");
    notifications.first("STOPPING=1", |line| line == "STOPPING=1");
    assert!(scratch.log().contains("ozmd ready"), "{}", scratch.log());
}

#[test]
fn system_mode_binds_a_socket_its_group_may_use() {
    let scratch = Scratch::temporary();
    let socket = scratch.path("run/ozmd.sock");
    let gid = own_gid();
    let start = || {
        let mut ozmd = scratch.ozmd(&["--system", "--socket-group", &gid]);
        ozmd.arg("--socket")
            .arg(&socket)
            .arg("--cache-dir")
            .arg(scratch.path("cache"));
        let daemon = Running::start(&mut ozmd);
        wait_for_socket(&socket);
        daemon
    };
    let mut daemon = start();

    let meta = std::fs::metadata(&socket).expect("the socket");
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(meta.gid().to_string(), gid);
    let dir = std::fs::metadata(scratch.path("run")).expect("the socket's directory");
    assert_eq!(dir.permissions().mode() & 0o777, 0o750);
    assert!(scratch.path("cache/indexes").is_dir(), "no index directory");

    let status = daemon.terminate();
    assert!(status.success(), "ozmd exited with {status}");
    assert!(!socket.exists(), "ozmd left the socket it bound behind");

    // A directory already there that keeps the group out is used, and the log says so.
    std::fs::set_permissions(scratch.path("run"), std::fs::Permissions::from_mode(0o700))
        .expect("closing the socket's directory");
    let mut daemon = start();
    assert!(daemon.terminate().success());
    let log = scratch.log();
    assert!(
        log.contains("the socket's directory keeps the group out") && log.contains("mode=\"700\""),
        "{log}"
    );
}

/// The test's own group id, which any user may give its files.
fn own_gid() -> String {
    let output = run_bounded(Command::new("id").arg("-g"));
    String::from_utf8(output.stdout)
        .expect("id -g prints a number")
        .trim()
        .to_owned()
}

#[test]
fn a_missing_group_keeps_the_socket_private_and_warning_hides_info_lines() {
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let args = ["--system", "--socket-group", "ozm-test-no-such-group"];
    let mut ozmd = scratch.ozmd(&args);
    ozmd.arg("--socket")
        .arg(&socket)
        .env("OPENZIM_MCP_LOGGING__LEVEL", "Warning");
    let mut daemon = Running::start(&mut ozmd);
    wait_for_socket(&socket);

    let mode = std::fs::metadata(&socket)
        .expect("the socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(ozm_status_works(&socket));
    assert!(daemon.terminate().success());
    let log = scratch.log();
    assert!(
        log.contains("group does not exist") && log.contains("ozm-test-no-such-group"),
        "{log}"
    );
    assert!(log.lines().all(|line| !line.contains(" INFO ")), "{log}");
}

fn ozm_status_works(socket: &Path) -> bool {
    status_json(socket)["daemon"]["pid"].is_u64()
}

#[test]
fn a_socket_that_cannot_be_made_stops_ozmd_saying_why_once() {
    let scratch = Scratch::temporary();
    std::fs::write(scratch.path("not-a-directory"), b"").expect("a file");
    let mut ozmd = scratch.ozmd(&[]);
    ozmd.arg("--socket")
        .arg(scratch.path("not-a-directory/ozmd.sock"));
    let output = run_bounded(&mut ozmd);
    assert!(!output.status.success(), "ozmd started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not-a-directory"), "{stderr}");
    assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");

    // A user who is not in the group cannot give it the socket: the message says what to do.
    std::fs::set_permissions(scratch.dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("opening the scratch directory to another user");
    let mut ozmd = Command::new("setpriv");
    ozmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(binary("ozmd"))
        .args([
            "--system",
            "--config",
            "/dev/null",
            "--socket-group",
            &own_gid(),
        ])
        .arg("--socket")
        .arg(scratch.path("run/ozmd.sock"))
        .arg("--cache-dir")
        .arg(scratch.path("nobody-cache"))
        .env("OZM_LOG_TARGET", "stderr");
    let output = run_bounded(&mut ozmd);
    assert!(!output.status.success(), "ozmd started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let refusal = stderr
        .lines()
        .find(|line| line.starts_with("ozmd: "))
        .unwrap_or_default();
    let said = format!("cannot give group {} to", own_gid());
    assert!(
        refusal.contains(&said) && refusal.contains("--socket-group"),
        "{stderr}"
    );
    assert_eq!(refusal.matches("os error").count(), 1, "{stderr}");
}

#[test]
fn a_handed_over_socket_ozmd_cannot_reach_is_reported_instead_of_readiness() {
    let scratch = Scratch::temporary();
    let socket = scratch.path("gone.sock");
    let mut notifications = Notifications::bind(&scratch.path("notify.sock"));
    // A listening socket whose path ozmd cannot reach, as when a unit puts it in a /tmp that
    // PrivateTmp= hides from the service. perl (essential in Debian) hands it over.
    let script = r#"use Socket; use POSIX;
        $^F = 3; # descriptors up to 3 stay open across exec
        socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
        bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!";
        listen($s, 16) or die "listen: $!";
        unlink $ARGV[0] or die "unlink: $!";
        fileno($s) == 3 or POSIX::dup2(fileno($s), 3) or die "dup2: $!";
        $ENV{LISTEN_PID} = $$; $ENV{LISTEN_FDS} = 1;
        shift @ARGV; exec @ARGV or die "exec: $!";"#;
    let log = std::fs::File::create(scratch.path("ozmd.log")).expect("log file");
    let mut command = Command::new("perl");
    command
        .args(["-e", script])
        .arg(&socket)
        .arg(binary("ozmd"))
        .args(["--config", "/dev/null", "--index-builds", "lazy"])
        .env_remove("OZM_LOG")
        .env_remove("OPENZIM_MCP_LOGGING__LEVEL")
        .env("OZM_LOG_TARGET", "stderr")
        .env("NOTIFY_SOCKET", scratch.path("notify.sock"))
        .env("XDG_CACHE_HOME", scratch.path("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut daemon = Running::start(&mut command);

    let status = notifications.first("a status saying why ozmd is not ready", |line| {
        line.starts_with("STATUS=not ready")
    });
    assert!(status.contains("gone.sock"), "{status}");
    assert!(
        notifications.lines().all(|line| line != "READY=1"),
        "ozmd claimed readiness"
    );
    let log = scratch.log();
    assert!(
        log.contains("cannot answer a status request on its own socket"),
        "{log}"
    );
    assert!(daemon.terminate().success());
}

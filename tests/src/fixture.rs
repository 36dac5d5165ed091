//! Running the real binaries: an `ozmd` on a temporary socket and `ozm mcp` shims spoken to over
//! their stdin/stdout, as an AI client would. Every process is killed when its handle drops, and
//! every wait is bounded in time; nothing sleeps a fixed amount.
//!
//! The binaries are taken from the target directory the tests were built into, so build them
//! first: `cargo build --workspace && cargo test --workspace`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The real test archives (`OZM_TEST_DATA`, default `../shared/zim` beside the workspace), or
/// `None` with a message on stderr when they are absent and the variable was not set. When the
/// variable is set and the directory is missing, the test fails: CI must not skip silently.
pub fn test_data() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OZM_TEST_DATA") {
        let path = PathBuf::from(path);
        assert!(
            path.is_dir(),
            "OZM_TEST_DATA={} is not a directory",
            path.display()
        );
        return Some(std::fs::canonicalize(path).expect("canonical OZM_TEST_DATA"));
    }
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/zim");
    match std::fs::canonicalize(&default) {
        Ok(path) => Some(path),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the real test archives are absent ({} not found); set OZM_TEST_DATA",
                default.display()
            );
            None
        }
    }
}

/// A built binary of this workspace (`ozm` or `ozmd`), from the profile directory (such as
/// `target/debug`) of the running executable: a test in `deps/` or a tool beside the binaries.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("path of the running executable");
    let candidates = exe.ancestors().skip(1).take(2).map(|dir| dir.join(name));
    let found = candidates.clone().find(|path| path.is_file());
    found.unwrap_or_else(|| {
        let tried: Vec<String> = candidates.map(|path| path.display().to_string()).collect();
        panic!(
            "{name} is missing ({}): build it first with `cargo build --workspace`",
            tried.join(", ")
        )
    })
}

/// A running `ozmd` on a socket in its own temporary directory.
pub struct Daemon {
    child: Child,
    /// The socket it listens on.
    pub socket: PathBuf,
    /// Holds the socket, the log and the shims' state directory.
    pub dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts a daemon and waits until it accepts connections.
    pub fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("temporary directory");
        let socket = dir.path().join("ozmd.sock");
        let child = spawn_daemon(&socket, &dir.path().join("ozmd.log"));
        wait_for_socket(&socket);
        Daemon { child, socket, dir }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ozmd.log")).unwrap_or_default()
    }

    /// Starts a shim of this daemon serving `directories`.
    pub fn shim(&self, directories: &[&Path]) -> Shim {
        Shim::start(&self.socket, self.dir.path(), directories, &[])
    }

    /// Sends SIGTERM and waits for the daemon to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.stop_with("TERM")
    }

    /// Sends a signal (`TERM`, `INT`) and waits for the daemon to exit.
    pub fn stop_with(&mut self, name: &str) -> ExitStatus {
        signal(self.child.id(), name);
        wait_exit(&mut self.child)
    }

    /// Starts a new daemon on the same socket after this one exited or was killed (it is killed
    /// first if it still runs), logging to the same file, and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("ozmd.log"))
            .expect("daemon log file");
        self.child = spawn_daemon_logging(&self.socket, log);
        wait_for_socket(&self.socket);
    }

    /// Kills the daemon with SIGKILL, as a crash would, leaving its socket file behind.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ozmd --socket SOCKET` with its stderr in `log`, without waiting for it.
pub fn spawn_daemon(socket: &Path, log: &Path) -> Child {
    spawn_daemon_logging(socket, std::fs::File::create(log).expect("daemon log file"))
}

fn spawn_daemon_logging(socket: &Path, log: std::fs::File) -> Child {
    Command::new(binary("ozmd"))
        .arg("--socket")
        .arg(socket)
        .env("OZM_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting ozmd")
}

/// Waits until something accepts connections on `socket`.
pub fn wait_for_socket(socket: &Path) {
    let deadline = Instant::now() + WAIT;
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for a child to exit, killing it if it does not within [`WAIT`].
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("polling a child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process {} did not exit within {WAIT:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a command to its end and returns what it printed; kills it and fails after [`WAIT`].
pub fn run_bounded(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting a command");
    // Read both pipes on threads, so that a chatty child never blocks on a full pipe.
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_exit(&mut child);
    Output {
        status,
        stdout: stdout.join().expect("reading stdout"),
        stderr: stderr.join().expect("reading stderr"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `ozm ARGS…` against the daemon on `socket`.
pub fn ozm(socket: &Path, args: &[&str]) -> Output {
    run_bounded(
        Command::new(binary("ozm"))
            .args(args)
            .env("OZM_SOCKET", socket),
    )
}

/// `ozm status --json` of the daemon on `socket`, parsed; fails if the command fails.
pub fn status_json(socket: &Path) -> Value {
    let output = ozm(socket, &["status", "--json"]);
    assert!(
        output.status.success(),
        "ozm status --json failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ozm status --json prints JSON")
}

/// The pids of the shims an `ozm status --json` report lists, in order.
pub fn shim_pids(status: &Value) -> Vec<u32> {
    let mut pids: Vec<u32> = status["shims"]
        .as_array()
        .expect("a shim list")
        .iter()
        .map(|shim| {
            shim["pid"]
                .as_u64()
                .and_then(|pid| pid.try_into().ok())
                .expect("a pid")
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// The live `ozmd` processes started for `socket` (`ozmd --socket SOCKET`), found in /proc.
///
/// Processes that have exited but are not reaped yet (zombies) have no command line, so they
/// are not counted.
pub fn daemons_for(socket: &Path) -> Vec<u32> {
    let wanted = [
        b"--socket".as_slice(),
        socket.as_os_str().as_encoded_bytes(),
    ];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_ozmd = args
                .first()
                .is_some_and(|exe| *exe == b"ozmd" || exe.ends_with(b"/ozmd"));
            is_ozmd && args.windows(2).any(|pair| pair == wanted)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Kills, when dropped, every `ozmd` started for a socket: the daemons shims start on their
/// own, detached, which no [`Child`] handle of the test owns.
pub struct DaemonSweeper {
    socket: PathBuf,
}

impl DaemonSweeper {
    /// Watches `socket`.
    pub fn new(socket: &Path) -> DaemonSweeper {
        DaemonSweeper {
            socket: socket.to_path_buf(),
        }
    }
}

impl Drop for DaemonSweeper {
    fn drop(&mut self) {
        for pid in daemons_for(&self.socket) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
    }
}

/// Polls `check` every few milliseconds until it holds; fails with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails unless `line` is one JSON-RPC 2.0 message: a request or notification (`method`), or a
/// response (`id` and exactly one of `result` and `error`, an error with a code and a message).
pub fn assert_jsonrpc(line: &str) {
    let message: Value =
        serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON: {line:?}: {error}"));
    assert_eq!(message["jsonrpc"], "2.0", "not JSON-RPC 2.0: {line}");
    if message.get("method").is_some() {
        assert!(
            message["method"].is_string(),
            "method is not a string: {line}"
        );
        return;
    }
    assert!(message.get("id").is_some(), "a response without id: {line}");
    match (message.get("result"), message.get("error")) {
        (Some(_), None) => {}
        (None, Some(error)) => {
            assert!(error["code"].is_i64(), "error without integer code: {line}");
            assert!(
                error["message"].is_string(),
                "error without message: {line}"
            );
        }
        _ => panic!("a response needs exactly one of result and error: {line}"),
    }
}

/// Sends a signal (`TERM`, `INT`, `KILL`) to a process.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
    assert!(
        status.is_ok_and(|status| status.success()),
        "kill -{name} {pid} failed"
    );
}

/// A tool call's result as the model sees it.
#[derive(Debug, Clone)]
pub struct ToolResult {
    /// Whether the result is marked `isError`.
    pub is_error: bool,
    /// The result's text, parsed as JSON.
    pub body: Value,
}

/// A running `ozm mcp` spoken to over its stdin and stdout.
pub struct Shim {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    transcript: Arc<Mutex<Vec<String>>>,
    next_id: u64,
}

impl Shim {
    /// Starts `ozm mcp DIR…` for the daemon on `socket`; `state` receives the log of any daemon
    /// the shim starts itself; `env` adds variables.
    pub fn start(socket: &Path, state: &Path, directories: &[&Path], env: &[(&str, &str)]) -> Shim {
        let mut child = Command::new(binary("ozm"))
            .arg("mcp")
            .args(directories)
            .env("OZM_SOCKET", socket)
            .env("XDG_STATE_HOME", state)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting ozm mcp");
        let stdout = child.stdout.take().expect("shim stdout");
        let (sender, lines) = channel();
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                record
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .push(line.clone());
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Shim {
            child,
            stdin,
            lines,
            transcript,
            next_id: 0,
        }
    }

    /// Every line the shim wrote to stdout so far, read or not.
    pub fn transcript(&self) -> Vec<String> {
        self.transcript
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Kills the shim with SIGKILL, as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the shim to exit on its own; kills it and fails after [`WAIT`].
    pub fn wait(&mut self) -> ExitStatus {
        wait_exit(&mut self.child)
    }

    /// The shim's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one line to the shim's stdin.
    pub fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("writing to the shim");
        stdin.flush().expect("flushing the shim's stdin");
    }

    /// The next line the shim writes to stdout, parsed; fails after [`WAIT`].
    pub fn read_message(&mut self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("shim wrote a non-JSON line {line:?}: {error}")),
            Err(RecvTimeoutError::Timeout) => panic!("no message from the shim within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the shim closed its stdout"),
        }
    }

    /// Sends a request and returns the response with the same id.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&request.to_string());
        loop {
            let message = self.read_message();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    /// Performs the MCP initialisation and returns the server's answer.
    pub fn initialize(&mut self) -> Value {
        let answer = self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "ozm-tests", "version": "0"}
            }),
        );
        self.send_raw(
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        );
        answer
    }

    /// Calls a tool and parses its text result.
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> ToolResult {
        let answer = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        let result = answer
            .get("result")
            .unwrap_or_else(|| panic!("{name} answered without a result: {answer}"));
        let text = result["content"][0]["text"]
            .as_str()
            .expect("a text result");
        ToolResult {
            is_error: result["isError"].as_bool().unwrap_or(false),
            body: serde_json::from_str(text).expect("the text result is JSON"),
        }
    }

    /// Calls a tool that must succeed and returns its parsed answer; fails with the error body.
    pub fn call_ok(&mut self, name: &str, arguments: Value) -> Value {
        let result = self.call_tool(name, arguments.clone());
        assert!(
            !result.is_error,
            "{name} {arguments} failed: {:#}",
            result.body
        );
        result.body
    }

    /// Closes stdin, as a client that quits does, and waits for the shim to exit.
    pub fn close(mut self) -> ExitStatus {
        self.stdin.take();
        wait_exit(&mut self.child)
    }

    /// Closes stdin and checks that the shim exits 0 having written only JSON-RPC to stdout.
    pub fn close_cleanly(self) {
        let (status, transcript) = self.close_with_transcript();
        assert!(status.success(), "the shim exited with {status}");
        transcript.iter().for_each(|line| assert_jsonrpc(line));
    }

    /// Like [`Shim::close`], and also returns every line the shim wrote to stdout, up to the
    /// end of its stdout.
    pub fn close_with_transcript(mut self) -> (ExitStatus, Vec<String>) {
        self.stdin.take();
        let status = wait_exit(&mut self.child);
        let deadline = Instant::now() + WAIT;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("the shim's stdout stayed open"),
            }
        }
        (status, self.transcript())
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

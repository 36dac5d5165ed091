//! Running the real binaries: an `ozmd` on a temporary socket and `ozm mcp` shims spoken to over
//! their stdin/stdout, as an AI client would. Every process is killed when its handle drops, and
//! every wait is bounded in time; nothing sleeps a fixed amount.
//!
//! The binaries are taken from the target directory the tests were built into, so build them
//! first: `cargo build --workspace && cargo test --workspace`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
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

/// A built binary of this workspace (`ozm` or `ozmd`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the binaries first with `cargo build --workspace`",
        path.display()
    );
    path
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
        signal(self.child.id(), "TERM");
        wait_exit(&mut self.child)
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
    let log = std::fs::File::create(log).expect("daemon log file");
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
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
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
            next_id: 0,
        }
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

    /// Closes stdin, as a client that quits does, and waits for the shim to exit.
    pub fn close(mut self) -> ExitStatus {
        self.stdin.take();
        wait_exit(&mut self.child)
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Reaching the daemon: connect, say hello, and for a shim start a daemon when none answers.
//!
//! A daemon a shim starts runs detached (its own process group, so the AI client's signals do
//! not reach it), with a clean environment so that it never depends on which client came first,
//! and logs to `ozmd.log` in the state directory. Two shims starting at once may each start
//! one; the daemons' socket lock lets one win, the other exits, and both shims connect to the
//! winner.

use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_protocol::{Connection, Hello, HelloReply, Peer};
use tokio::net::UnixStream;

/// How long a shim waits for a daemon it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a shim whose daemon exited at start waits for the daemon that won the race to it.
const RIVAL_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for the daemon's answer to the hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon's log is moved aside when it grows past this.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// No daemon answers on the socket.
#[derive(Debug)]
pub struct NoDaemon(pub PathBuf);

impl std::fmt::Display for NoDaemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no daemon at {}: start it with `ozmd` (or `systemctl --user start ozmd`), \
             or run `ozm mcp DIR` once to have it started",
            self.0.display()
        )
    }
}

impl std::error::Error for NoDaemon {}

/// Connects and completes the handshake.
pub async fn hello(socket: &Path, peer: Peer) -> anyhow::Result<Connection> {
    let stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(error) if is_absent(&error) => return Err(NoDaemon(socket.to_path_buf()).into()),
        Err(error) => {
            return Err(error).with_context(|| format!("connecting to {}", socket.display()));
        }
    };
    let mut connection = Connection::new(stream);
    connection
        .send(&Hello::new(env!("CARGO_PKG_VERSION"), peer))
        .await?;
    match connection.recv_within::<HelloReply>(HELLO_TIMEOUT).await {
        Ok(HelloReply::Welcome { .. }) => Ok(connection),
        Ok(HelloReply::Refused { reason }) => bail!("ozmd refused the connection: {reason}"),
        Err(error) => bail!("no answer from ozmd at {}: {error}", socket.display()),
    }
}

/// Like [`hello`], but starts a daemon first when none is running.
pub async fn hello_starting_daemon(socket: &Path, peer: Peer) -> anyhow::Result<Connection> {
    match hello(socket, peer.clone()).await {
        Err(error) if error.is::<NoDaemon>() => {}
        other => return other,
    }
    let mut daemon = Some(start_daemon(socket)?);
    let mut exited = None;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        // A daemon that exits at once (a bad setting, or another one won the race) is reaped
        // here; if no daemon answers soon after, the shim says so rather than at the deadline.
        if let Some(Ok(Some(status))) = daemon.as_mut().map(Child::try_wait) {
            daemon = None;
            exited = Some((status, Instant::now()));
        }
        match hello(socket, peer.clone()).await {
            Err(error)
                if error.is::<NoDaemon>()
                    && exited.is_some_and(|(_, at)| at.elapsed() > RIVAL_GRACE) =>
            {
                bail!(
                    "ozmd exited as it started ({}); see {}",
                    exited
                        .map(|(status, _)| status.to_string())
                        .unwrap_or_default(),
                    log_path().display()
                )
            }
            Err(error) if error.is::<NoDaemon>() && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(error) if error.is::<NoDaemon>() => bail!(
                "started ozmd but it did not listen on {} within {START_TIMEOUT:?}; see {}",
                socket.display(),
                log_path().display()
            ),
            other => {
                if let Some(mut daemon) = daemon {
                    // Reaped when it ends, so an exited daemon is no zombie while the shim runs.
                    std::thread::spawn(move || daemon.wait());
                }
                return other;
            }
        }
    }
}

fn is_absent(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::NotFound | ErrorKind::ConnectionRefused
    )
}

fn log_path() -> PathBuf {
    ozm_protocol::paths::state_dir().join("ozmd.log")
}

fn start_daemon(socket: &Path) -> anyhow::Result<Child> {
    let log = log_path();
    if let Some(dir) = log.parent() {
        ozm_protocol::paths::create_private_dir(dir)?;
    }
    if std::fs::metadata(&log).is_ok_and(|meta| meta.len() > LOG_ROTATE_BYTES) {
        let _ = std::fs::rename(&log, log.with_extension("log.1"));
    }
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("opening the daemon log {}", log.display()))?;

    let mut command = Command::new(daemon_binary());
    command
        .arg("--socket")
        .arg(socket)
        .env_clear()
        .envs(std::env::vars_os().filter(|(name, _)| inherited(name)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .process_group(0);
    command
        .spawn()
        .context("starting ozmd (is it installed beside ozm or on PATH?)")
}

/// The variables a daemon started by a shim keeps: where things live, nothing client-specific.
fn inherited(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    matches!(
        name.as_ref(),
        "PATH" | "HOME" | "USER" | "LANG" | "TMPDIR" | "OZM_LOG"
    ) || name.starts_with("XDG_")
}

/// `ozmd` beside this executable, else from PATH.
fn daemon_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("ozmd")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("ozmd"))
}

//! Reaching the daemon: which socket, connect, say hello, and for a shim start a daemon when
//! none answers.
//!
//! Which socket: the one the user gave (`--socket` or `OZM_SOCKET`), else the user's own
//! (`$XDG_RUNTIME_DIR/ozm/ozmd.sock`). When the user gave none, no daemon answers on the user
//! socket and the system service's socket (`/run/ozm/ozmd.sock`) exists, the system socket is
//! used instead ([`socket_to_use`]): on a machine where ozmd runs as a service, `ozm mcp` and the
//! operator's commands reach it without configuration, and no private daemon starts beside it.
//! Nobody but systemd starts a daemon on the system socket.
//!
//! A daemon a shim starts runs detached (its own process group, so the AI client's signals do
//! not reach it), with a clean environment so that it never depends on which client came first,
//! and logs to `ozmd.log` in the state directory. Two shims starting at once may each start
//! one; the daemons' socket lock lets one win, the other exits, and both shims connect to the
//! winner.

mod refusals;

use std::ffi::{OsStr, OsString};
use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_protocol::{Connection, Hello, HelloReply, Peer, paths};
use tokio::net::UnixStream;

pub use refusals::{AccessDenied, NoDaemon, Refused};

/// How long a shim waits for a daemon it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a shim whose daemon exited at start waits for the daemon that won the race to it.
const RIVAL_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for the daemon's answer to the hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon's log is moved aside when it grows past this.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// A connection the daemon accepted.
pub struct Greeted {
    /// The connection, past the handshake.
    pub connection: Connection,
    /// The pid of the daemon that answered.
    pub daemon_pid: u32,
}

/// The socket a command talks to, given the one it was asked for (`--socket`, `OZM_SOCKET`, or
/// by default the user socket): the system socket instead where the rule of this module says so.
pub fn socket_to_use(requested: &Path) -> PathBuf {
    let given = std::env::var_os(paths::SOCKET_ENV).is_some_and(|value| !value.is_empty())
        || requested != paths::socket_path();
    let system = paths::system_socket_path();
    if given || std::fs::symlink_metadata(&system).is_err() || answers(requested) {
        requested.to_path_buf()
    } else {
        system
    }
}

/// Whether something accepts connections on `socket`.
fn answers(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

/// Connects and completes the handshake.
pub async fn hello(socket: &Path, peer: Peer) -> anyhow::Result<Connection> {
    Ok(greet(socket, peer).await?.connection)
}

/// Connects and completes the handshake, telling which daemon answered.
///
/// The errors a caller may want to tell apart are [`NoDaemon`], [`AccessDenied`] and
/// [`Refused`]; anything else (no answer in time, a connection cut during the handshake) may
/// pass if tried again.
pub async fn greet(socket: &Path, peer: Peer) -> anyhow::Result<Greeted> {
    let stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(error) if is_absent(&error) => return Err(NoDaemon(socket.to_path_buf()).into()),
        Err(error) if error.kind() == ErrorKind::PermissionDenied => {
            return Err(AccessDenied::of(socket).into());
        }
        Err(error) => {
            return Err(error).with_context(|| format!("connecting to {}", socket.display()));
        }
    };
    let mut connection = Connection::new(stream);
    connection
        .send(&Hello::new(env!("CARGO_PKG_VERSION"), peer))
        .await?;
    match connection.recv_within::<HelloReply>(HELLO_TIMEOUT).await {
        Ok(HelloReply::Welcome { daemon_pid, .. }) => Ok(Greeted {
            connection,
            daemon_pid,
        }),
        Ok(HelloReply::Refused { reason }) => Err(Refused(reason).into()),
        Err(error) => bail!("no answer from ozmd at {}: {error}", socket.display()),
    }
}

/// How a daemon is started: the arguments and environment of `ozmd`, and where it runs.
pub struct Launch {
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// The working directory; `None` keeps this process's.
    pub cwd: Option<PathBuf>,
}

impl Launch {
    /// What a shim starts: `ozmd --socket SOCKET`, keeping only the variables that say where
    /// things live.
    pub fn plain(socket: &Path) -> Launch {
        Launch {
            args: vec!["--socket".into(), socket.into()],
            env: std::env::vars_os()
                .filter(|(name, _)| inherited(name))
                .collect(),
            cwd: None,
        }
    }
}

/// Like [`greet`], but starts a daemon first when none is running, except on the system socket,
/// where only systemd starts one.
pub async fn hello_starting_daemon(socket: &Path, peer: Peer) -> anyhow::Result<Greeted> {
    hello_launching(socket, peer, &Launch::plain(socket)).await
}

/// Like [`hello_starting_daemon`], starting the daemon as `launch` says.
pub async fn hello_launching(
    socket: &Path,
    peer: Peer,
    launch: &Launch,
) -> anyhow::Result<Greeted> {
    match greet(socket, peer.clone()).await {
        Err(error) if error.is::<NoDaemon>() && may_start_daemon(socket) => {}
        other => return other,
    }
    let mut daemon = Some(start_daemon(launch)?);
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
        match greet(socket, peer.clone()).await {
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

/// Whether a shim may start a daemon of its own on `socket`: anywhere but the system socket.
pub fn may_start_daemon(socket: &Path) -> bool {
    socket != paths::system_socket_path()
}

fn is_absent(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::NotFound | ErrorKind::ConnectionRefused
    )
}

pub(crate) fn log_path() -> PathBuf {
    paths::state_dir().join("ozmd.log")
}

fn start_daemon(launch: &Launch) -> anyhow::Result<Child> {
    let log = log_path();
    if let Some(dir) = log.parent() {
        paths::create_private_dir(dir)?;
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
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .process_group(0);
    if let Some(cwd) = &launch.cwd {
        command.current_dir(cwd);
    }
    command
        .spawn()
        .context("starting ozmd (is it installed beside ozm or on PATH?)")
}

/// The variables a daemon started by a shim keeps: where things live, nothing client-specific.
pub(crate) fn inherited(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    matches!(
        name.as_ref(),
        "PATH" | "HOME" | "USER" | "LANG" | "TMPDIR" | "OZM_LOG"
    ) || name.starts_with("XDG_")
}

/// `ozmd` beside this executable, else from PATH.
pub(crate) fn daemon_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("ozmd")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("ozmd"))
}

//! Life under systemd: the socket it hands over, readiness and status, the watchdog, stopping.
//!
//! Socket activation: systemd binds the path of `ozmd.socket` itself and passes the listening
//! socket as fd 3 (`LISTEN_FDS=1`, `LISTEN_PID=` our pid). ozmd then never binds, locks, touches
//! or removes the path: the socket is systemd's, and it stays open while ozmd restarts, so shims
//! that connect meanwhile wait in its backlog instead of failing.
//!
//! Notifications (`Type=notify`) go to `NOTIFY_SOCKET`; without it every call here does nothing
//! and no [`Reporter`] runs. The reporter proves that the daemon serves before it says so: it
//! connects to the daemon's own socket as `ozm status` would and asks for the status report, a
//! round trip through the accept loop, the handshake, the registry and the library. Its first
//! answer sends `READY=1`; later answers refresh `STATUS=` when it changed and pet the watchdog.
//! A daemon whose core stalls stops answering, so it stops petting and systemd restarts it.

use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ozm_protocol::{
    ArchiveState, BuildState, CliRequest, CliResponse, Connection, Hello, HelloReply, Peer,
    StatusReport,
};
use rustix::net::{AddressFamily, SocketType, sockopt};
use sd_notify::NotifyState;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// How often the status shown by `systemctl status` is refreshed, at most.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// How long to wait between attempts to reach the daemon before it first answers.
const READY_RETRY: Duration = Duration::from_millis(50);

/// How long the daemon may fail to answer its first status request before the operator is told
/// why systemd does not see it ready.
const READY_PATIENCE: Duration = Duration::from_secs(5);

/// Set once the handed-over socket was taken, so that its descriptor is owned only once.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Why the socket systemd handed over cannot be used; the daemon does not start.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// `LISTEN_FDS` or `LISTEN_PID` could not be read.
    #[error("cannot take the sockets systemd handed over (LISTEN_FDS, LISTEN_PID): {0}")]
    Environment(std::io::Error),
    /// More than one socket was handed over.
    #[error(
        "systemd handed over {0} sockets; ozmd takes one: list one ListenStream= in ozmd.socket"
    )]
    TooMany(usize),
    /// The descriptor is not what a socket unit for ozmd gives.
    #[error(
        "the file descriptor systemd handed over is {found}, not a listening Unix stream \
         socket: ozmd.socket needs ListenStream=/path/ozmd.sock and Accept=no"
    )]
    NotAUnixListener {
        /// What it is instead.
        found: &'static str,
    },
    /// The socket has no path a shim could connect to.
    #[error(
        "the socket systemd handed over has no file system path (abstract or unnamed): \
         ozmd.socket needs ListenStream=/path/ozmd.sock"
    )]
    NoPath,
    /// A system call on the descriptor failed.
    #[error("cannot use the socket systemd handed over: {0}")]
    Io(#[from] std::io::Error),
}

/// A listening socket handed over by systemd.
pub struct Inherited {
    /// The listener, ready for the runtime.
    pub listener: UnixListener,
    /// Its path, which shims connect to.
    pub path: PathBuf,
}

/// The socket systemd handed over, if it did (call inside the runtime). Anything but exactly one
/// listening Unix stream socket with a path is refused with the reason.
pub fn inherited_listener() -> Result<Option<Inherited>, ActivationError> {
    let mut fds = sd_notify::listen_fds().map_err(ActivationError::Environment)?;
    let count = fds.len();
    let Some(fd) = fds.next() else {
        return Ok(None);
    };
    if count > 1 {
        return Err(ActivationError::TooMany(count));
    }
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    // SAFETY: LISTEN_PID names this process, so the descriptor was passed to it, and nothing
    // else in ozmd uses descriptor 3; borrowed only for the checks, which fail on a closed one.
    check_listener(unsafe { BorrowedFd::borrow_raw(fd) })?;
    // SAFETY: as above, and the checks found an open listening socket; TAKEN makes sure it is
    // owned once.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let listener = std::os::unix::net::UnixListener::from(fd);
    listener.set_nonblocking(true)?;
    let path = listener
        .local_addr()?
        .as_pathname()
        .filter(|path| !path.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .ok_or(ActivationError::NoPath)?;
    let listener = UnixListener::from_std(listener)?;
    Ok(Some(Inherited { listener, path }))
}

/// Refuses anything but a listening Unix stream socket, saying what it is instead.
fn check_listener(fd: BorrowedFd) -> Result<(), ActivationError> {
    let refuse = |found| Err(ActivationError::NotAUnixListener { found });
    let Ok(domain) = sockopt::socket_domain(fd) else {
        return refuse("not a socket");
    };
    if domain != AddressFamily::UNIX {
        return refuse("a network socket");
    }
    if sockopt::socket_type(fd).map_err(std::io::Error::from)? != SocketType::STREAM {
        return refuse("a datagram or packet socket");
    }
    if !sockopt::socket_acceptconn(fd).map_err(std::io::Error::from)? {
        return refuse("a socket that does not listen (a connection, as Accept=yes gives)");
    }
    Ok(())
}

/// Whether a service manager waits for notifications (`NOTIFY_SOCKET` is set).
pub fn notifications_wanted() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some_and(|value| !value.is_empty())
}

/// Tells systemd the daemon is stopping (`STOPPING=1`); nothing without `NOTIFY_SOCKET`.
pub fn notify_stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// What tells systemd about a SIGHUP reload: `RELOADING=1` as it starts, `READY=1` when it is
/// done (`systemctl reload` waits for it); `None` without `NOTIFY_SOCKET`.
pub fn reload_hook() -> Option<crate::reload::Hook> {
    if !notifications_wanted() {
        return None;
    }
    Some(Arc::new(|starting: bool| {
        if !starting {
            send(&[NotifyState::Ready]);
            return;
        }
        // systemd 253 and later want the time of the reload with it; older ones ignore it.
        match NotifyState::monotonic_usec_now() {
            Ok(now) => send(&[NotifyState::Reloading, now]),
            Err(_) => send(&[NotifyState::Reloading]),
        }
    }))
}

/// Sends notifications, logging (not failing) when systemd cannot be told.
fn send(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(states) {
        warn!(%error, "cannot notify systemd");
    }
}

/// The task that reports readiness, status and liveness to systemd.
pub struct Reporter {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Reporter {
    /// Starts reporting on the daemon serving `socket`; `None` without `NOTIFY_SOCKET`.
    pub fn start(socket: &Path) -> Option<Reporter> {
        if !notifications_wanted() {
            return None;
        }
        let watchdog = sd_notify::watchdog_enabled();
        let stop = CancellationToken::new();
        let task = tokio::spawn(report(socket.to_path_buf(), watchdog, stop.clone()));
        Some(Reporter { stop, task })
    }

    /// Ends the reports and closes their connection, so the daemon's drain does not wait on it.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Waits for the daemon's first answer to send `READY=1`, then refreshes the status and pets
/// the watchdog after each answer, until stopped.
async fn report(socket: PathBuf, watchdog: Option<Duration>, stop: CancellationToken) {
    let period = watchdog.map_or(STATUS_EVERY, |interval| (interval / 2).min(STATUS_EVERY));
    let mut probe = Probe::new(socket.clone());
    let started = std::time::Instant::now();
    let mut told = false;
    let first = loop {
        match probe.ask(period, &stop).await {
            None => return,
            Some(Ok(report)) => break report,
            Some(Err(error)) if !told && started.elapsed() >= READY_PATIENCE => {
                told = true;
                warn!(socket = %socket.display(), error,
                    "ozmd cannot answer a status request on its own socket, so it does not tell \
                     systemd it is ready (it is stopped when TimeoutStartSec= runs out); the \
                     socket's path must be reachable inside the service's sandbox");
                send(&[NotifyState::Status(&format!("not ready: {error}"))]);
            }
            Some(Err(error)) => debug!(error, "not ready yet"),
        }
        tokio::time::sleep(READY_RETRY).await;
    };
    let mut shown = status_line(&first);
    send(&[NotifyState::Ready, NotifyState::Status(&shown)]);
    let watchdog_ms = watchdog.map(|interval| interval.as_millis());
    info!(status = shown, watchdog_ms, "ozmd ready");

    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let report = match probe.ask(period, &stop).await {
            None => return,
            Some(Ok(report)) => report,
            Some(Err(error)) => {
                warn!(
                    error,
                    "ozmd did not answer its own status request; watchdog not petted"
                );
                continue;
            }
        };
        if watchdog.is_some() {
            send(&[NotifyState::Watchdog]);
        }
        let line = status_line(&report);
        if line != shown {
            send(&[NotifyState::Status(&line)]);
            shown = line;
        }
    }
}

/// The one-line status `systemctl status ozmd` shows, e.g. "serving 3 archives to 2 clients".
fn status_line(report: &StatusReport) -> String {
    let plural = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let mut line = format!(
        "serving {} to {}",
        plural(report.archives.len(), "archive", "archives"),
        plural(report.shims.len(), "client", "clients")
    );
    let unreadable = report
        .archives
        .iter()
        .filter(|archive| matches!(archive.state, ArchiveState::Unreadable(_)))
        .count();
    if unreadable > 0 {
        line += &format!("; {} unreadable", plural(unreadable, "archive", "archives"));
    }
    let building = report
        .indexes
        .iter()
        .filter(|index| {
            matches!(
                index.state,
                BuildState::Queued | BuildState::Building { .. }
            )
        })
        .count();
    if building > 0 {
        line += &format!(
            "; {} queued or building",
            plural(building, "index", "indexes")
        );
    }
    for waiting in &report.http_waiting {
        line += &format!("; HTTP waiting for {}: {}", waiting.address, waiting.reason);
    }
    line
}

/// An operator connection to the daemon's own socket, kept open between questions.
struct Probe {
    socket: PathBuf,
    connection: Option<Connection>,
}

impl Probe {
    fn new(socket: PathBuf) -> Probe {
        Probe {
            socket,
            connection: None,
        }
    }

    /// Asks for the status report within `limit`; `None` once `stop` is cancelled.
    async fn ask(
        &mut self,
        limit: Duration,
        stop: &CancellationToken,
    ) -> Option<Result<StatusReport, String>> {
        tokio::select! {
            () = stop.cancelled() => None,
            answer = tokio::time::timeout(limit, self.status()) => {
                Some(answer.unwrap_or_else(|_| Err(format!("no answer within {limit:?}"))))
            }
        }
    }

    /// Asks for the status report, connecting first if needed. A failed or abandoned question
    /// drops the connection, so the next one starts afresh.
    async fn status(&mut self) -> Result<StatusReport, String> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection
            .send(&CliRequest::Status)
            .await
            .map_err(|error| format!("asking for the status: {error}"))?;
        let report = match connection.recv::<CliResponse>().await {
            Ok(CliResponse::Status(report)) => *report,
            Ok(CliResponse::Error(message)) => return Err(message),
            Ok(_) => return Err("the answer is not a status report".into()),
            Err(error) => return Err(format!("reading the status: {error}")),
        };
        self.connection = Some(connection);
        Ok(report)
    }

    async fn connect(&self) -> Result<Connection, String> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|error| format!("connecting to {}: {error}", self.socket.display()))?;
        let mut connection = Connection::new(stream);
        let hello = Hello::new(env!("CARGO_PKG_VERSION"), Peer::Cli);
        connection
            .send(&hello)
            .await
            .map_err(|error| format!("saying hello: {error}"))?;
        match connection.recv::<HelloReply>().await {
            Ok(HelloReply::Welcome { .. }) => Ok(connection),
            Ok(HelloReply::Refused { reason }) => Err(format!("refused: {reason}")),
            Err(error) => Err(format!("reading the welcome: {error}")),
        }
    }
}

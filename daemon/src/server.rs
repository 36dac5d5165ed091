//! Accepting connections, the handshake, and handing each connection to its kind of task.
//!
//! Each connection runs in a task of its own, so one client's failure (a garbled frame, a
//! silent peer, a panic in a tool) ends that connection alone. A peer gets
//! [`HANDSHAKE_TIMEOUT`] to say hello. The kernel tells us who the peer is. A user's daemon
//! serves its own user (and root) only. In system mode the socket's permissions decide who may
//! connect, and a shim may ask only for directories under the configured roots.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ozm_protocol::{
    Connection, FrameError, Hello, HelloPrefix, HelloReply, PROTOCOL_MAJOR, PROTOCOL_MINOR, Peer,
    ShimRegistration, check_version,
};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::archive::clusters::ClusterCache;
use crate::config::{self, DaemonConfig};
use crate::instances::{Caller, View};
use crate::library::Library;
use crate::mcp::DaemonInfo;
use crate::ownindex::{IndexConfig, Indexer};
use crate::registry::{self, Registry};
use crate::rendered::RenderedCache;
use crate::settings::Settings;
use crate::{operator, relay};

mod access;

use access::canonical_directories;
pub(crate) use access::within_roots;

/// How long a new connection may stay silent before it is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connections get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Decompressed clusters kept in memory, shared by all archives.
const CLUSTER_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// Everything the connection tasks share.
pub struct Daemon {
    /// The archives.
    pub library: Arc<Library>,
    /// The connected shims.
    pub registry: Arc<Registry>,
    /// Facts tools report.
    pub info: DaemonInfo,
    /// The daemon's own settings and roots (its config file under its environment), replaced
    /// on SIGHUP; their daemon-wide values stand.
    pub settings: Arc<config::Live>,
    /// System mode: any user the socket lets through may connect, within the roots.
    pub system: bool,
    /// The config file read again on SIGHUP.
    pub config_file: Option<config::Source>,
    /// The socket served.
    pub socket: PathBuf,
    /// Cancelled when the daemon stops.
    pub shutdown: CancellationToken,
}

/// What [`serve`] runs with.
pub struct ServeOptions {
    /// The daemon's settings and roots: [`config::load`].
    pub config: DaemonConfig,
    /// Where own indexes live and how they are built.
    pub indexes: IndexConfig,
    /// System mode (`ozmd --system`).
    pub system: bool,
    /// The config file read again on SIGHUP, if there is one to look for.
    pub config_file: Option<config::Source>,
    /// Called as a reload starts (`true`) and when it is done (`false`): systemd's
    /// `RELOADING=1` and `READY=1`.
    pub on_reload: Option<crate::reload::Hook>,
}

impl Daemon {
    /// Runs `report` over the daemon's registry, library and settings as `caller` sees them.
    pub fn report<R>(&self, caller: Caller, report: impl FnOnce(&View) -> R) -> R {
        let settings = self.settings.settings();
        report(&View {
            registry: &self.registry,
            library: &self.library,
            daemon_settings: &settings,
            info: &self.info,
            viewpoint: None,
            caller,
        })
    }
}

/// Serves `listener` until `shutdown` completes, then closes every connection. SIGHUP reloads
/// (see [`crate::reload`]).
pub async fn serve(
    listener: UnixListener,
    socket: &Path,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let ServeOptions {
        config,
        indexes,
        system,
        config_file,
        on_reload,
    } = options;
    info!(directory = %indexes.root.display(), eager = indexes.eager, jobs = indexes.jobs,
        all_archives = indexes.all_archives, "own indexes");
    log_roots(system, &config.roots, config_file.as_ref());
    let indexer = Indexer::new(indexes);
    let daemon = Arc::new(Daemon {
        library: Library::new(
            Arc::new(ClusterCache::new(CLUSTER_CACHE_BYTES)),
            RenderedCache::from_settings(&config.settings),
            Arc::clone(&indexer),
        ),
        settings: Arc::new(config::Live::new(config)),
        system,
        config_file,
        registry: Arc::default(),
        info: DaemonInfo {
            started: Instant::now(),
            pid: std::process::id(),
        },
        socket: socket.to_path_buf(),
        shutdown: CancellationToken::new(),
    });
    let reloads = crate::reload::on_hangup(Arc::clone(&daemon), on_reload);
    tokio::spawn(crate::conflicts::watch(Arc::clone(&daemon)));
    crate::http::start(&daemon).await;
    let mut connections = JoinSet::new();
    let mut accept_failures = AcceptFailures::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(handle(Arc::clone(&daemon), stream));
                }
                Err(error) => {
                    accept_failures.failed(&error);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    info!(connections = connections.len(), "stopping");
    reloads.abort();
    daemon.shutdown.cancel();
    let builds_stopped = tokio::task::spawn_blocking(move || indexer.shutdown());
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        connections.abort_all();
    }
    let _ = builds_stopped.await;
}

/// Says which roots system mode serves, or that it serves none.
fn log_roots(system: bool, roots: &[PathBuf], file: Option<&config::Source>) {
    let file = file.map(|source| source.path.display().to_string());
    match (system, roots.is_empty()) {
        (true, true) => warn!(
            config = file,
            "no roots configured: every shim is refused until roots are added and ozmd reloaded"
        ),
        (true, false) => info!(roots = ?roots, "system mode: shims may ask for these roots"),
        (false, false) => info!(roots = ?roots, "roots are enforced in system mode only"),
        (false, true) => {}
    }
}

/// How often failing accepts are reported at most.
const ACCEPT_FAILURE_REPORT_EVERY: Duration = Duration::from_secs(10);

/// Failing accepts (out of file descriptors, say, for as long as clients hold them; accepts
/// may then fail and succeed by turns): reported at most every
/// [`ACCEPT_FAILURE_REPORT_EVERY`], with the count since the last report, rather than twenty
/// times a second.
#[derive(Default)]
struct AcceptFailures {
    since_report: u64,
    reported: Option<Instant>,
}

impl AcceptFailures {
    fn failed(&mut self, error: &std::io::Error) {
        self.since_report += 1;
        if self
            .reported
            .is_none_or(|at| at.elapsed() >= ACCEPT_FAILURE_REPORT_EVERY)
        {
            warn!(%error, failures = self.since_report,
                "accepting connections fails; new clients wait until it works again");
            self.since_report = 0;
            self.reported = Some(Instant::now());
        }
    }
}

async fn handle(daemon: Arc<Daemon>, stream: UnixStream) {
    let (pid, uid, gid) = match stream.peer_cred() {
        Ok(cred) => (
            cred.pid().unwrap_or(0).max(0) as u32,
            cred.uid(),
            cred.gid(),
        ),
        Err(error) => {
            warn!(%error, "cannot read the peer's credentials; closing");
            return;
        }
    };
    let mut connection = Connection::new(stream);
    if let Some(reason) = access::foreign_user(&daemon, uid) {
        warn!(pid, uid, "refusing a client of another user");
        let _ = connection.send(&HelloReply::Refused { reason }).await;
        return;
    }
    let hello = match read_hello(&mut connection).await {
        Ok(hello) => hello,
        Err(reason) => {
            warn!(pid, reason, "handshake refused");
            let _ = connection.send(&HelloReply::Refused { reason }).await;
            return;
        }
    };
    match hello.peer {
        Peer::Cli => {
            debug!(pid, "operator command connected");
            if welcome(&mut connection, format!("cli-{pid}")).await {
                let caller = daemon.caller(uid);
                operator::serve(&daemon, connection, caller, hello.minor).await;
            }
        }
        Peer::Shim(registration) => {
            let peer = registry::Peer { pid, uid, gid };
            shim(&daemon, connection, peer, registration).await;
        }
    }
}

/// Reads the hello, refusing silence, garbage and other protocol versions.
async fn read_hello(connection: &mut Connection) -> Result<Hello, String> {
    let body = match tokio::time::timeout(HANDSHAKE_TIMEOUT, connection.recv_raw()).await {
        Err(_) => return Err(format!("no hello within {HANDSHAKE_TIMEOUT:?}")),
        Ok(Err(FrameError::Closed)) => return Err("closed before saying hello".into()),
        Ok(Err(error)) => return Err(format!("unreadable hello: {error}")),
        Ok(Ok(body)) => body,
    };
    let prefix: HelloPrefix = postcard::from_bytes(&body)
        .map_err(|_| "the first frame is not an ozm hello".to_owned())?;
    check_version(&prefix)?;
    postcard::from_bytes(&body).map_err(|error| format!("garbled hello: {error}"))
}

async fn welcome(connection: &mut Connection, instance_id: String) -> bool {
    let reply = HelloReply::Welcome {
        major: PROTOCOL_MAJOR,
        minor: PROTOCOL_MINOR,
        build: env!("CARGO_PKG_VERSION").to_owned(),
        daemon_pid: std::process::id(),
        instance_id,
    };
    connection.send(&reply).await.is_ok()
}

async fn shim(
    daemon: &Arc<Daemon>,
    mut connection: Connection,
    peer: registry::Peer,
    registration: ShimRegistration,
) {
    let (pid, uid) = (peer.pid, peer.uid);
    let daemon_settings = daemon.settings.get();
    let allowed = |directory: &Path| {
        if !daemon.system {
            return Ok(());
        }
        let (roots, file) = (&daemon_settings.roots, daemon.config_file.as_ref());
        within_roots(&[directory.to_path_buf()], roots, file)
    };
    let accepted =
        canonical_directories(&registration.directories, allowed).and_then(|directories| {
            let settings = shim_settings(&registration.settings, &daemon_settings.settings)
                .map_err(|errors| settings_refusal(&errors))?;
            Ok((directories, settings))
        });
    let (directories, settings) = match accepted {
        Ok(accepted) => accepted,
        Err(reason) => {
            warn!(pid, uid, reason, "shim refused");
            let _ = connection.send(&HelloReply::Refused { reason }).await;
            return;
        }
    };
    for unknown in crate::settings::unknown_variables(&registration.settings) {
        warn!(pid, variable = ?unknown, "unknown setting ignored (misspelled?)");
    }
    for ignored in crate::settings::ignored_variables(&registration.settings) {
        debug!(
            pid,
            variable = ignored,
            "setting of openzim-mcp that ozm does not use"
        );
    }
    daemon.library.add_directories(&directories).await;
    let registered = daemon.registry.register(
        peer,
        directories.clone(),
        registration.settings.clone(),
        settings.clone(),
    );
    let instance = registered.instance_id().to_owned();
    if !welcome(&mut connection, instance.clone()).await {
        return;
    }
    info!(instance, pid, directories = ?directories, "shim connected");
    relay::run(
        daemon,
        connection,
        &instance,
        directories,
        daemon.caller(uid),
        settings,
    )
    .await;
    info!(instance, pid, "shim disconnected");
}

/// A shim's effective settings: its variables, and the daemon's values of the daemon-wide
/// settings it does not name. Computed again for every live shim when the daemon's change.
pub fn shim_settings(
    requested: &[(String, String)],
    daemon: &Settings,
) -> Result<Settings, Vec<crate::settings::SettingError>> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Settings::from_env(&with_daemon_values(requested, daemon), home.as_deref())
}

/// The shim's variables, plus the daemon's own value for every daemon-wide setting the shim did
/// not ask for: a shim that names no cache size asks for nothing, and so differs from nobody.
fn with_daemon_values(shim: &[(String, String)], daemon: &Settings) -> Vec<(String, String)> {
    let mut variables = shim.to_vec();
    for (key, value) in daemon.daemon_wide() {
        let name = format!(
            "{}{}",
            crate::settings::PREFIX,
            key.replacen('_', "__", 1).to_uppercase()
        );
        if !shim
            .iter()
            .any(|(given, _)| given.eq_ignore_ascii_case(&name))
        {
            variables.push((name, value));
        }
    }
    variables
}

fn settings_refusal(errors: &[crate::settings::SettingError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("invalid settings: {}", lines.join("; "))
}

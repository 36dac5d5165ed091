//! The `ozmd` binary: parses its arguments, sets up logging, takes its socket (from systemd or by
//! binding it) and runs the daemon in the foreground until SIGTERM or SIGINT.
//!
//! Start-up is a sequence: settings, logging, where things live (user or system mode), the
//! runtime, the listener, the reports to systemd, then serving until the shutdown signal.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use ozmd::logging::{LogOptions, LogTarget};
use ozmd::socket::Access;
use ozmd::systemd::{self, Reporter};
use tracing::{info, warn};

/// The ozm daemon: serves ZIM archives to `ozm mcp` shims over a Unix socket.
#[derive(Parser)]
#[command(name = "ozmd", version, about, long_about = LONG_ABOUT)]
struct Args {
    /// The socket to listen on (default: $XDG_RUNTIME_DIR/ozm/ozmd.sock; with --system
    /// $RUNTIME_DIRECTORY/ozmd.sock, else /run/ozm/ozmd.sock). A socket handed over by systemd
    /// is used instead.
    #[arg(long, env = "OZM_SOCKET")]
    socket: Option<PathBuf>,
    /// Run as the system service: system paths, a socket its group may use, and access rules
    /// for the users of that group.
    #[arg(long)]
    system: bool,
    /// The config file: roots and OPENZIM_MCP_* settings in TOML, reread on SIGHUP (default:
    /// $XDG_CONFIG_HOME/ozm/ozmd.toml; with --system /etc/ozm/ozmd.toml; absent means defaults).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// With --system, the group whose members may connect to a socket ozmd binds itself.
    #[arg(long, default_value = "ozm", requires = "system")]
    socket_group: String,
    /// Log filter, e.g. `info` or `ozmd=debug`; wins over OPENZIM_MCP_LOGGING__LEVEL
    /// (default: info, with the MCP library's own lines from warn on).
    #[arg(long, env = "OZM_LOG")]
    log: Option<String>,
    /// Where log lines go: journald when stderr is the journal (auto), journald, or stderr.
    #[arg(long, env = "OZM_LOG_TARGET", value_enum, default_value = "auto")]
    log_target: LogTarget,
    /// Where ozm's own indexes are kept (default: $XDG_CACHE_HOME/ozm, else ~/.cache/ozm; with
    /// --system $CACHE_DIRECTORY, else /var/cache/ozm).
    #[arg(long, env = "OZM_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// When own indexes are built: as soon as an archive is opened, or on its first search.
    #[arg(long, env = "OZM_INDEX_BUILDS", value_enum, default_value = "eager")]
    index_builds: IndexBuilds,
    /// How many index builds run at once.
    #[arg(long, env = "OZM_INDEX_JOBS", default_value_t = 1,
        value_parser = clap::value_parser!(u16).range(1..=8))]
    index_jobs: u16,
    /// Which archives get ozm's own full-text index: those without a Xapian one, or all (and
    /// searches then prefer it once built).
    #[arg(long, env = "OZM_OWN_INDEX", value_enum, default_value = "missing")]
    own_index: OwnIndex,
    /// Print this manual page (roff) and exit; `ozm man --dir` writes it beside ozm's pages.
    #[arg(long, hide = true)]
    man_page: bool,
}

/// What `ozmd --help` and the man page say beyond the options.
const LONG_ABOUT: &str = "The ozm daemon: owns every open ZIM archive, search index and \
connected client, and serves MCP sessions to `ozm mcp` shims over a Unix socket (and over \
streamable HTTP when OPENZIM_MCP_TRANSPORT=http).

Most users never start it themselves: the first `ozm mcp` does, and `ozm daemon start`, `stop` \
and `restart` run it by hand. As a service, systemd starts it through ozmd.socket.

SIGHUP rereads the config file and rescans the directories without dropping a session; SIGTERM \
and SIGINT stop it cleanly. Settings are the OPENZIM_MCP_* variables of openzim-mcp, from the \
environment or from the config file (ozmd.toml: roots, and the same settings in TOML), the \
environment winning.";

/// When own indexes are built.
#[derive(Clone, Copy, clap::ValueEnum)]
enum IndexBuilds {
    Eager,
    Lazy,
}

/// Which archives get an own full-text index.
#[derive(Clone, Copy, clap::ValueEnum)]
enum OwnIndex {
    Missing,
    All,
}

/// How often the socket's timestamp is refreshed.
const SOCKET_TOUCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.man_page {
        return write_man_page();
    }
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "ozmd: {}", explain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes ozmd's manual page to stdout. Generated here, from the options ozmd itself parses,
/// so that it never falls behind them; `ozm man` asks for it.
fn write_man_page() -> std::process::ExitCode {
    let mut page = Vec::new();
    let written = clap_mangen::Man::new(Args::command())
        .render(&mut page)
        .and_then(|()| std::io::stdout().write_all(&page));
    match written {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "ozmd: writing the man page: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, leaving out a cause whose text the message before already holds
/// (most of ozmd's errors quote their cause), so that no reason is printed twice.
fn explain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

fn run(args: Args) -> anyhow::Result<()> {
    let config_file = ozmd::config::Source::new(args.config.clone(), args.system);
    let loaded = ozmd::config::load(config_file.as_ref())?;
    loaded
        .config
        .http
        .check_system_mode(args.system)
        .map_err(anyhow::Error::msg)?;
    let sink = ozmd::logging::init(&LogOptions {
        target: args.log_target,
        // `Environment=OZM_LOG=` in a drop-in clears the filter rather than silencing ozmd.
        filter: args
            .log
            .as_deref()
            .filter(|filter| !filter.trim().is_empty()),
        level: loaded.config.settings.logging_level,
    })?;
    let mode = if args.system { "system" } else { "user" };
    info!(
        version = env!("CARGO_PKG_VERSION"),
        pid = std::process::id(),
        mode,
        log = sink.name(),
        "ozmd starting"
    );
    if let Some(file) = &config_file {
        info!(file = %file.path.display(), found = file.path.exists(), "config file");
    }
    for warning in &loaded.warnings {
        warn!(warning, "config file");
    }
    let indexes = index_config(&args)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (listener, socket, owned) = listen(&args)?;
        let signalled = shutdown_signal()?;
        let reporter = Reporter::start(&socket);
        if reporter.is_none() {
            info!("ozmd ready");
        }
        let touching = owned.clone().map(|owned| {
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(SOCKET_TOUCH_INTERVAL);
                loop {
                    interval.tick().await;
                    owned.touch();
                }
            })
        });
        let stop = async {
            signalled.await;
            systemd::notify_stopping();
            if let Some(reporter) = reporter {
                reporter.stop().await;
            }
        };
        let options = ozmd::server::ServeOptions {
            config: loaded.config,
            indexes,
            system: args.system,
            config_file,
            on_reload: systemd::reload_hook(),
        };
        ozmd::server::serve(listener, &socket, options, stop).await;
        if let Some(touching) = touching {
            touching.abort();
            let _ = touching.await;
        }
        drop(owned);
        info!("ozmd stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// The listener: the socket systemd handed over, else the one bound here (removed at exit).
fn listen(
    args: &Args,
) -> anyhow::Result<(
    tokio::net::UnixListener,
    PathBuf,
    Option<Arc<ozmd::socket::OwnedSocket>>,
)> {
    if let Some(inherited) = systemd::inherited_listener()? {
        if let Some(asked) = args
            .socket
            .as_ref()
            .filter(|asked| **asked != inherited.path)
        {
            warn!(asked = %asked.display(), socket = %inherited.path.display(),
                "--socket ignored: serving the socket systemd handed over");
        }
        info!(socket = %inherited.path.display(), from = "systemd", "ozmd listening");
        return Ok((inherited.listener, inherited.path, None));
    }
    let socket = socket_path(args);
    let (listener, owned) = ozmd::socket::bind(&socket, socket_access(args))?;
    info!(socket = %socket.display(), from = "bound", "ozmd listening");
    Ok((listener, socket, Some(Arc::new(owned))))
}

/// The socket to bind when systemd hands none over.
fn socket_path(args: &Args) -> PathBuf {
    match (&args.socket, args.system) {
        (Some(socket), _) => socket.clone(),
        (None, true) => systemd_dir("RUNTIME_DIRECTORY", "/run/ozm").join("ozmd.sock"),
        (None, false) => ozm_protocol::paths::socket_path(),
    }
}

/// Who may use a socket bound here: the daemon's user, and in system mode its socket group.
/// A missing group leaves the socket to the daemon's user rather than stopping the service.
fn socket_access(args: &Args) -> Access {
    if !args.system {
        return Access::Owner;
    }
    match ozmd::socket::group_id(&args.socket_group) {
        Some(gid) => Access::Group(gid),
        None => {
            warn!(
                group = args.socket_group,
                uid = rustix::process::geteuid().as_raw(),
                "group does not exist: the socket stays mode 0600, for this uid (and root) only; \
                 create the group (systemd-sysusers, groupadd) or name one with --socket-group"
            );
            Access::Owner
        }
    }
}

/// A directory systemd made for the service (`$RUNTIME_DIRECTORY`, `$CACHE_DIRECTORY`: the first
/// of a colon-separated list), else the system default.
fn systemd_dir(variable: &str, default: &str) -> PathBuf {
    std::env::var(variable)
        .ok()
        .and_then(|dirs| dirs.split(':').next().map(PathBuf::from))
        .filter(|dir| dir.is_absolute())
        .unwrap_or_else(|| PathBuf::from(default))
}

/// The index settings, with the cache directory made (private to the user running ozmd).
fn index_config(args: &Args) -> anyhow::Result<ozmd::ownindex::IndexConfig> {
    let cache = match (&args.cache_dir, args.system) {
        (Some(cache), _) => cache.clone(),
        (None, true) => systemd_dir("CACHE_DIRECTORY", "/var/cache/ozm"),
        (None, false) => ozm_protocol::paths::cache_dir()
            .context("no cache directory: set HOME, XDG_CACHE_HOME or --cache-dir")?,
    };
    let root = std::path::absolute(cache.join("indexes")).context("the index directory")?;
    // Archives are served without ozm's own indexes rather than not at all: each build then
    // fails with the reason, in `ozm status` and in search notes.
    if let Err(error) = ozm_protocol::paths::create_private_dir(&root) {
        warn!(directory = %root.display(), %error,
            "cannot create the index directory; ozm's own indexes cannot be built");
    }
    Ok(ozmd::ownindex::IndexConfig {
        root,
        eager: matches!(args.index_builds, IndexBuilds::Eager),
        jobs: usize::from(args.index_jobs),
        all_archives: matches!(args.own_index, OwnIndex::All),
    })
}

/// Installs the SIGTERM and SIGINT handlers now (so a signal right after readiness stops the
/// daemon cleanly) and completes on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => info!("SIGTERM received"),
            _ = interrupt.recv() => info!("SIGINT received"),
        }
    })
}

//! The `ozmd` binary: parses its arguments, sets up logging to stderr and runs the daemon in the
//! foreground until SIGTERM or SIGINT.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tracing::info;
use tracing_subscriber::EnvFilter;

/// The ozm daemon: serves ZIM archives to `ozm mcp` shims over a Unix socket.
#[derive(Parser)]
#[command(name = "ozmd", version, about)]
struct Args {
    /// The socket to listen on (default: $XDG_RUNTIME_DIR/ozm/ozmd.sock).
    #[arg(long, env = "OZM_SOCKET")]
    socket: Option<PathBuf>,
    /// Log filter, e.g. `info` or `ozmd=debug` (the MCP library's own lines only from warn on).
    #[arg(long, env = "OZM_LOG", default_value = "info,rmcp=warn")]
    log: String,
    /// Where ozm's own indexes are kept (default: $XDG_CACHE_HOME/ozm, else ~/.cache/ozm).
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
}

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
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "ozmd: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&args.log).context("parsing --log")?)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(ozm_protocol::paths::socket_path);
    let settings = daemon_settings()?;
    let indexes = index_config(&args)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (listener, owned) = ozmd::socket::bind(&socket)?;
        info!(socket = %socket.display(), pid = std::process::id(),
            version = env!("CARGO_PKG_VERSION"), "ozmd listening");
        let owned = std::sync::Arc::new(owned);
        let toucher = std::sync::Arc::clone(&owned);
        let touching = tokio::spawn(async move {
            let mut interval = tokio::time::interval(SOCKET_TOUCH_INTERVAL);
            loop {
                interval.tick().await;
                toucher.touch();
            }
        });
        ozmd::server::serve(listener, owned.path(), settings, indexes, shutdown_signal()).await;
        info!("ozmd stopped");
        touching.abort();
        let _ = touching.await;
        drop(owned);
        Ok::<_, anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// The daemon's own settings: the `OPENZIM_MCP_*` variables of its environment. Their
/// daemon-wide values (the caches) are the ones that stand, whatever a shim asks for.
fn daemon_settings() -> anyhow::Result<ozmd::settings::Settings> {
    ozmd::settings::Settings::daemon_defaults().map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid settings: {}", lines.join("; "))
    })
}

/// The index settings, with the cache directory made (private to the user running ozmd).
fn index_config(args: &Args) -> anyhow::Result<ozmd::ownindex::IndexConfig> {
    let cache = args
        .cache_dir
        .clone()
        .or_else(ozm_protocol::paths::cache_dir)
        .context("no cache directory: set HOME, XDG_CACHE_HOME or --cache-dir")?;
    let root = std::path::absolute(cache.join("indexes")).context("the index directory")?;
    // Archives are served without ozm's own indexes rather than not at all: each build then
    // fails with the reason, in `ozm status` and in search notes.
    if let Err(error) = ozm_protocol::paths::create_private_dir(&root) {
        tracing::warn!(directory = %root.display(), %error,
            "cannot create the index directory; ozm's own indexes cannot be built");
    }
    Ok(ozmd::ownindex::IndexConfig {
        root,
        eager: matches!(args.index_builds, IndexBuilds::Eager),
        jobs: usize::from(args.index_jobs),
        all_archives: matches!(args.own_index, OwnIndex::All),
    })
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    tokio::select! {
        _ = terminate.recv() => info!("SIGTERM received"),
        _ = interrupt.recv() => info!("SIGINT received"),
    }
}

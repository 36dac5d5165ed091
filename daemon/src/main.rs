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
    let socket = args.socket.unwrap_or_else(ozm_protocol::paths::socket_path);
    let settings = daemon_settings()?;

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
        ozmd::server::serve(listener, owned.path(), settings, shutdown_signal()).await;
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

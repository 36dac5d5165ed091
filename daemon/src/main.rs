//! The `ozmd` binary: parses its arguments, sets up logging to stderr and runs the daemon in the
//! foreground until SIGTERM or SIGINT.

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
    /// Log filter, e.g. `info` or `ozmd=debug`.
    #[arg(long, env = "OZM_LOG", default_value = "info")]
    log: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&args.log).context("parsing --log")?)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let socket = args.socket.unwrap_or_else(ozm_protocol::paths::socket_path);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (listener, owned) = ozmd::socket::bind(&socket)?;
        info!(socket = %socket.display(), pid = std::process::id(),
            version = env!("CARGO_PKG_VERSION"), "ozmd listening");
        ozmd::server::serve(listener, owned.path(), shutdown_signal()).await;
        info!("ozmd stopped");
        drop(owned);
        Ok::<_, anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
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

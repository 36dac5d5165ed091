//! The `ozm` command: `ozm mcp DIR…`, the stdio shim an AI client launches, and the operator's
//! commands such as `ozm status`. It never depends on the daemon's code: it speaks to `ozmd`
//! over the socket, and starts one when none is running.

mod connect;
mod index;
mod report;
mod shim;
mod status;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ozm_protocol::CliRequest;

/// Exit code when no daemon is running, so scripts can tell it from other failures.
const EXIT_NO_DAEMON: u8 = 3;

/// ozm: offline ZIM archives for AI clients, over MCP.
#[derive(Parser)]
#[command(name = "ozm", version, about, propagate_version = true)]
struct Cli {
    /// The daemon's socket (default: $XDG_RUNTIME_DIR/ozm/ozmd.sock).
    #[arg(long, global = true, env = "OZM_SOCKET")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ZIM archives under DIR… to the AI client on stdin/stdout (MCP over stdio).
    Mcp {
        /// Directories holding .zim files (searched recursively).
        #[arg(required = true)]
        directories: Vec<PathBuf>,
        /// Which tools the client sees: `simple` (only zim_query, for small models) or
        /// `advanced` (every tool). Overrides OPENZIM_MCP_TOOL_MODE.
        #[arg(long, value_parser = ["simple", "advanced"])]
        mode: Option<String>,
    },
    /// Show the daemon, its connected shims, its archives and their indexes.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Build ozm's own indexes now and follow the builds; exits 1 when one fails.
    ///
    /// Builds the indexes of ARCHIVE…, or of every archive the daemon knows when none is named.
    /// Interrupting the command stops only the following: the daemon goes on building.
    Index {
        /// ZIM archives (one the daemon does not know yet is opened, its directory is not scanned).
        #[arg(value_name = "ARCHIVE")]
        archives: Vec<PathBuf>,
    },
    /// Show conflicts between instances and what to do; exits 4 when there are any.
    Diagnose {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove stale instance files of the Python server and end orphaned shims.
    Cleanup {
        /// Only say what would be done.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show the daemon's and every instance's effective settings and their hashes.
    Config {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = cli.socket.unwrap_or_else(ozm_protocol::paths::socket_path);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the async runtime: {error}"), 1),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Mcp { directories, mode } => shim::run(&socket, &directories, mode.as_deref())
                .await
                .map(|()| 0),
            Command::Status { json } => status::run(&socket, json).await.map(|()| 0),
            Command::Index { archives } => index::run(&socket, &archives).await,
            Command::Diagnose { json } => {
                let conflicts = report::run(&socket, CliRequest::Diagnose, json).await?;
                Ok(if conflicts { report::EXIT_CONFLICTS } else { 0 })
            }
            Command::Cleanup { dry_run, json } => {
                report::run(&socket, CliRequest::Cleanup { dry_run }, json)
                    .await
                    .map(|_| 0)
            }
            Command::Config { json } => report::run(&socket, CliRequest::Config, json)
                .await
                .map(|_| 0),
        }
    });
    // The shim's read of stdin may still wait on a blocking thread (the daemon went away while
    // the client kept stdin open); dropping the runtime would wait for that read forever.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => ExitCode::from(code),
        // A reader that stopped early (`ozm status | head`) is not a failure.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) if error.is::<connect::NoDaemon>() => {
            fail(&format!("{error:#}"), EXIT_NO_DAEMON)
        }
        Err(error) => fail(&format!("{error:#}"), 1),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn fail(message: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ozm: {message}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}

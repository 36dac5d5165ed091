//! The `ozm` command: `ozm mcp DIR…`, the stdio shim an AI client launches, and the operator's
//! commands such as `ozm status`. It never depends on the daemon's code: it speaks to `ozmd`
//! over the socket, and starts one when none is running.

mod connect;
mod daemon_control;
mod docs;
mod index;
mod report;
mod request;
mod shim;
mod status;
mod table;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use ozm_protocol::CliRequest;

use crate::daemon_control::{Action, StopOptions};

/// Exit code when no daemon is running, so scripts can tell it from other failures.
const EXIT_NO_DAEMON: u8 = 3;

/// What `ozm --help` and the man page say after the commands.
const AFTER_HELP: &str = "\
Output: on a terminal, reports are tables that fit its width (COLUMNS overrides it), with errors \
in red and warnings in yellow unless NO_COLOR is set or TERM is dumb. Piped or redirected, each \
line is one record: its kind (daemon, shim, archive, index, diagnosis, conflict, difference, \
recommendation, instance, setting, action), then NAME VALUE fields separated by tabs, complete \
and uncoloured. --json prints JSON.

Exit codes: 0 success; 1 failure; 2 bad usage; 3 no daemon answers on the socket; \
4 `ozm diagnose` found conflicts.

Shell completions: `ozm completions bash|zsh|fish|elvish|powershell`. \
Man pages: `ozm man --dir DIR`.";

/// ozm: offline ZIM archives for AI clients, over MCP.
#[derive(Parser)]
#[command(name = "ozm", version, about, propagate_version = true, after_help = AFTER_HELP)]
struct Cli {
    /// The daemon's socket (default: $XDG_RUNTIME_DIR/ozm/ozmd.sock, or the system service's
    /// /run/ozm/ozmd.sock if it exists and no daemon answers on the first).
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
    /// Start, stop or restart the daemon yourself, when no service manager runs it.
    ///
    /// A daemon systemd runs is left to `systemctl`, which would start it again: `stop` and
    /// `restart` refuse and name the command to use.
    Daemon {
        #[command(subcommand)]
        action: DaemonCommand,
    },
    /// Print the completion script for SHELL.
    ///
    /// bash: `ozm completions bash > ~/.local/share/bash-completion/completions/ozm`
    ///
    /// zsh: `ozm completions zsh > ~/.zfunc/_ozm`, with `fpath+=~/.zfunc` before `compinit` in
    /// ~/.zshrc
    ///
    /// fish: `ozm completions fish > ~/.config/fish/completions/ozm.fish`
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page ozm(1), or with --dir write one page per command into DIR.
    ///
    /// For example `ozm man --dir ~/.local/share/man/man1`, then `man ozm-daemon`. With --dir,
    /// ozmd(1) is written too, by the ozmd beside ozm (else on PATH).
    Man {
        /// Write every page (and ozmd's) into this directory (made if missing) and list them.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DaemonCommand {
    /// Start ozmd in the background, unless one answers on the socket; exits 0 either way.
    ///
    /// The daemon runs detached, as one a shim starts, and logs to ozmd.log in
    /// $XDG_STATE_HOME/ozm (else ~/.local/state/ozm). `ozmd` is taken from beside `ozm`, else
    /// from PATH.
    Start,
    /// Stop the daemon (SIGTERM) and wait until it has exited; exits 0 if none was running.
    Stop(StopArgs),
    /// Stop the daemon, then start a new one; connected shims reconnect on their own.
    Restart(StopArgs),
    /// Say whether a daemon answers on the socket, with its pid; exits 3 when none does.
    Status,
}

#[derive(Args)]
struct StopArgs {
    /// How long the daemon gets to exit, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    wait: u64,
    /// Kill the daemon (SIGKILL) if it has not exited in time, instead of failing.
    #[arg(long)]
    force: bool,
}

impl From<StopArgs> for StopOptions {
    fn from(args: StopArgs) -> StopOptions {
        StopOptions {
            wait: std::time::Duration::from_secs(args.wait),
            force: args.force,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Generated from the definition; no daemon needed.
    let generated = match &cli.command {
        Command::Completions { shell } => Some(docs::completions(Cli::command(), *shell)),
        Command::Man { dir } => Some(docs::man(Cli::command(), dir.as_deref())),
        _ => None,
    };
    if let Some(outcome) = generated {
        return outcome.map_or_else(
            |error| fail(&format!("{error:#}"), 1),
            |()| ExitCode::SUCCESS,
        );
    }
    let is_shim = matches!(cli.command, Command::Mcp { .. });
    let requested = cli.socket.unwrap_or_else(ozm_protocol::paths::socket_path);
    let socket = connect::socket_to_use(&requested);
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
            Command::Daemon { action } => {
                let action = match action {
                    DaemonCommand::Start => Action::Start,
                    DaemonCommand::Stop(args) => Action::Stop(args.into()),
                    DaemonCommand::Restart(args) => Action::Restart(args.into()),
                    DaemonCommand::Status => Action::Status,
                };
                daemon_control::run(&socket, action).await
            }
            Command::Completions { .. } | Command::Man { .. } => unreachable!("answered above"),
        }
    });
    // The shim's read of stdin may still wait on a blocking thread (the daemon went away while
    // the client kept stdin open); dropping the runtime would wait for that read forever.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => ExitCode::from(code),
        // The AI client closed the shim's stdout: it has gone, which ends the session. The
        // operator's commands print through `table::print`, which handles a closed pipe itself,
        // so that a broken connection to the daemon never passes for one.
        Err(error) if is_shim && is_broken_pipe(&error) => ExitCode::SUCCESS,
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

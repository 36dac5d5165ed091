//! `ozm mcp DIR…`: relays an AI client's MCP session between stdin/stdout and the daemon, and
//! carries the session over when the daemon restarts.
//!
//! Each line on stdin is one JSON-RPC message and goes to the daemon as one frame; each message
//! from the daemon is written to stdout as one line. stdout carries nothing else: every
//! diagnostic goes to stderr. Reading stdin, writing to the daemon, reading from the daemon and
//! writing stdout run side by side, so that no side ever waits for another to read.
//!
//! When the connection is lost (the daemon was restarted, killed, or sent garbage), the shim
//! keeps stdin and stdout open, finds a daemon again ([`reconnect`]), replays the client's
//! `initialize` and `notifications/initialized` under its own id, and sends again every request
//! still in flight ([`session`]); every tool is read-only, so a request answered twice is
//! harmless, and the client sees each answer once. Only when no daemon can be reached within
//! the limit, or one refuses the shim, are the requests in flight answered with an error and
//! the shim exits non-zero. Otherwise it ends when stdin closes and the last answer is out, or,
//! if no answer comes for [`DRAIN_LIMIT`], answers what is left with an error and fails. A
//! daemon that sends nothing, not even a heartbeat, while requests wait is treated as lost
//! ([`silence_limit`]).

mod link;
mod reconnect;
mod session;
mod shared;
mod stdio;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use ozm_protocol::{Peer, ShimRegistration};
use tokio::sync::mpsc;

use crate::connect::{self, Greeted};
use link::{Ended, Outbox};
use session::Restore;
use shared::Shared;
use stdio::say;

/// Prefix of the environment variables the shim passes on as its settings.
const SETTINGS_PREFIX: &str = "OPENZIM_MCP_";

/// Messages queued between the tasks.
const QUEUE: usize = 64;

/// How long the shim waits, once stdin has closed, for the next answer to requests already sent,
/// while connected or reconnecting.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The variable of the interval at which the daemon pings this shim, and its default (seconds).
const HEARTBEAT_VARIABLE: &str = "OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL";
const DEFAULT_HEARTBEAT_SECS: u64 = 30;

/// The shortest silence taken for a hung daemon, so that a daemon slowed by a loaded machine
/// is not abandoned for a late heartbeat.
const SHORTEST_SILENCE: Duration = Duration::from_secs(10);

/// Runs the shim until stdin closes or no daemon can be reached any more. `socket` is the one
/// [`connect::socket_to_use`] chose; `tool_mode`, from the command line, overrides the
/// environment's `OPENZIM_MCP_TOOL_MODE`.
pub async fn run(
    socket: &Path,
    directories: &[PathBuf],
    tool_mode: Option<&str>,
) -> anyhow::Result<()> {
    let registration = registration(directories, tool_mode)?;
    let silence = silence_limit(&registration.settings);
    let peer = Peer::Shim(registration);
    let first = connect::hello_starting_daemon(socket, peer.clone()).await?;
    let shared = Arc::new(Shared::default());
    let (to_stdout, for_stdout) = mpsc::channel::<String>(QUEUE);
    let mut printer = tokio::spawn(stdio::print(for_stdout));
    let stdin = tokio::spawn(stdio::relay_stdin(Arc::clone(&shared), to_stdout.clone()));

    let outcome = tokio::select! {
        outcome = carry_on(socket, &peer, first, &shared, &to_stdout, silence) => outcome,
        // The client may close stdin right after its last request; its answers still come,
        // as long as they keep coming. What is left unanswered then gets an error, never silence.
        () = drain_limit(&shared) => {
            let why = format!(
                "the client closed stdin and ozmd gave no answer for {} s",
                DRAIN_LIMIT.as_secs()
            );
            let unanswered = shared.abandon(&why);
            let settled = unanswered.is_empty();
            for answer in unanswered {
                let _ = to_stdout.send(answer).await;
            }
            if settled { Ok(()) } else { Err(anyhow!(why)) }
        }
        outcome = &mut printer => return outcome.context("writing to stdout")?,
    };

    // The last answers (or the errors of a shim giving up) are written before it exits.
    stdin.abort();
    let _ = stdin.await;
    drop(to_stdout);
    printer.await.context("writing to stdout")??;
    outcome
}

/// Relays on `greeted` and each connection after it, until the work is done or no daemon can
/// be reached.
async fn carry_on(
    socket: &Path,
    peer: &Peer,
    mut greeted: Greeted,
    shared: &Shared,
    to_stdout: &mpsc::Sender<String>,
    silence: Duration,
) -> anyhow::Result<()> {
    let mut lost_since = None;
    loop {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let restore = shared.attach(sender.clone());
        if let Some(since) = lost_since.take() {
            say(&restored(&greeted, since, &restore));
        }
        let outbox = Outbox { sender, receiver };
        let connection = greeted.connection;
        let served = link::serve(
            connection,
            restore.messages,
            outbox,
            shared,
            to_stdout,
            silence,
        );
        let reason = match served.await {
            Ended::Finished => return Ok(()),
            Ended::Lost(reason) => reason,
        };
        say(&format!("ozmd went away ({reason}); reconnecting"));
        lost_since = Some(Instant::now());
        greeted = tokio::select! {
            found = reconnect::again(socket, peer, reconnect::limit()) => match found {
                Ok(greeted) => greeted,
                Err(error) => {
                    let why =
                        format!("lost ozmd ({reason}) and could not reach it again: {error:#}");
                    for answer in shared.abandon(&why) {
                        let _ = to_stdout.send(answer).await;
                    }
                    bail!(why);
                }
            },
            () = shared.finished() => return Ok(()),
        };
    }
}

/// What the operator reads once the session is back.
fn restored(greeted: &Greeted, since: Instant, restore: &Restore) -> String {
    let mut words = format!(
        "reconnected to ozmd pid {} after {} ms",
        greeted.daemon_pid,
        since.elapsed().as_millis()
    );
    if restore.replayed {
        words.push_str("; session restored");
    }
    match restore.resent {
        0 => {}
        1 => words.push_str(", 1 request resent"),
        count => words.push_str(&format!(", {count} requests resent")),
    }
    words
}

/// Returns once stdin is closed and no answer has come for [`DRAIN_LIMIT`].
async fn drain_limit(shared: &Shared) {
    shared.stdin_closed().await;
    while let Some(progress) = shared.last_progress() {
        let deadline = tokio::time::Instant::from_std(progress + DRAIN_LIMIT);
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// How long the daemon may send nothing while requests wait before the shim takes it for hung:
/// three of the heartbeat intervals it pings this shim at, and at least [`SHORTEST_SILENCE`].
fn silence_limit(settings: &[(String, String)]) -> Duration {
    let interval = settings
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(HEARTBEAT_VARIABLE))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_HEARTBEAT_SECS);
    Duration::from_secs(interval.saturating_mul(3)).max(SHORTEST_SILENCE)
}

/// What the shim tells the daemon about itself.
fn registration(
    directories: &[PathBuf],
    tool_mode: Option<&str>,
) -> anyhow::Result<ShimRegistration> {
    let mut settings = settings_of_environment();
    if let Some(mode) = tool_mode {
        let tool_mode_variable = format!("{SETTINGS_PREFIX}TOOL_MODE");
        settings.retain(|(name, _)| !name.eq_ignore_ascii_case(&tool_mode_variable));
        settings.push((tool_mode_variable, mode.to_owned()));
    }
    Ok(ShimRegistration {
        directories: directories
            .iter()
            .map(|dir| absolute(dir))
            .collect::<anyhow::Result<_>>()?,
        settings,
    })
}

/// The `OPENZIM_MCP_*` variables of this process, whatever the case of their prefix; variables
/// that are not UTF-8 are left out rather than crashing the shim.
fn settings_of_environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| {
            name.get(..SETTINGS_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(SETTINGS_PREFIX))
        })
        .collect()
}

/// The directory as an absolute path (canonical where it exists), as UTF-8 for the wire.
fn absolute(dir: &Path) -> anyhow::Result<String> {
    let path = std::fs::canonicalize(dir).or_else(|_| std::path::absolute(dir))?;
    path.to_str().map(str::to_owned).ok_or_else(|| {
        anyhow!(
            "{} is not valid UTF-8; ozm needs UTF-8 directory names",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit_with(variable: &[(&str, &str)]) -> Duration {
        let settings: Vec<(String, String)> = variable
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        silence_limit(&settings)
    }

    #[test]
    fn the_silence_limit_is_three_heartbeats_and_never_under_ten_seconds() {
        assert_eq!(limit_with(&[]), Duration::from_secs(90));
        assert_eq!(
            limit_with(&[("openzim_mcp_instance__heartbeat_interval", "60")]),
            Duration::from_secs(180)
        );
        assert_eq!(limit_with(&[(HEARTBEAT_VARIABLE, "1")]), SHORTEST_SILENCE);
        assert_eq!(
            limit_with(&[(HEARTBEAT_VARIABLE, "soon")]),
            Duration::from_secs(90)
        );
    }
}

//! `ozm mcp DIR…`: relays an AI client's MCP session between stdin/stdout and the daemon.
//!
//! Each line on stdin is one JSON-RPC message and goes to the daemon as one frame; each message
//! from the daemon is written to stdout as one line. stdout carries nothing else: every
//! diagnostic goes to stderr. Reading stdin, writing to the daemon, reading from the daemon and
//! writing stdout are four tasks joined by queues, so that no side ever waits for another to
//! read. The shim ends when stdin closes (the client is gone) or when the daemon closes the
//! connection.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use ozm_protocol::{DaemonFrame, Peer, ShimFrame, ShimRegistration};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc};

use crate::connect;

/// The largest JSON-RPC message relayed: a frame's limit less room for the frame's own fields.
const MAX_MESSAGE_BYTES: usize = ozm_protocol::MAX_FRAME_LEN - 1024;

/// Prefix of the environment variables the shim passes on as its settings.
const SETTINGS_PREFIX: &str = "OPENZIM_MCP_";

/// Messages queued between the tasks.
const QUEUE: usize = 64;

/// How long the shim waits, once stdin has closed, for answers to requests already sent.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The ids of requests sent and not yet answered on stdout.
#[derive(Clone, Default)]
struct InFlight {
    ids: Arc<Mutex<HashSet<String>>>,
    settled: Arc<Notify>,
    daemon_gone: Arc<AtomicBool>,
}

impl InFlight {
    /// Notes a request (a message with an `id` and a `method`) going to the daemon.
    fn sent(&self, text: &str) {
        if let Ok(message) = serde_json::from_str::<Value>(text)
            && message.get("method").is_some()
            && let Some(id) = message.get("id")
        {
            self.lock().insert(id.to_string());
        }
    }

    /// Notes an answer written to stdout.
    fn settle(&self, text: &str) {
        if let Ok(message) = serde_json::from_str::<Value>(text)
            && message.get("method").is_none()
            && let Some(id) = message.get("id")
        {
            self.lock().remove(&id.to_string());
            self.settled.notify_waiters();
        }
    }

    /// Notes that no answer can come any more.
    fn daemon_gone(&self) {
        self.daemon_gone.store(true, Ordering::SeqCst);
        self.settled.notify_waiters();
    }

    /// Waits until every request has its answer, the daemon is gone, or `limit` has passed.
    async fn drain(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let settled = self.settled.notified();
            if self.lock().is_empty() || self.daemon_gone.load(Ordering::SeqCst) {
                return;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Tells the in-flight list, however the reader ends, that the daemon can answer no more.
struct DaemonGone(InFlight);

impl Drop for DaemonGone {
    fn drop(&mut self) {
        self.0.daemon_gone();
    }
}

/// Runs the shim until stdin closes or the daemon goes away. `tool_mode`, from the command
/// line, overrides the environment's `OPENZIM_MCP_TOOL_MODE`.
pub async fn run(
    socket: &Path,
    directories: &[PathBuf],
    tool_mode: Option<&str>,
) -> anyhow::Result<()> {
    let mut settings = settings_of_environment();
    if let Some(mode) = tool_mode {
        let tool_mode_variable = format!("{SETTINGS_PREFIX}TOOL_MODE");
        settings.retain(|(name, _)| !name.eq_ignore_ascii_case(&tool_mode_variable));
        settings.push((tool_mode_variable, mode.to_owned()));
    }
    let registration = ShimRegistration {
        directories: directories
            .iter()
            .map(|dir| absolute(dir))
            .collect::<anyhow::Result<_>>()?,
        settings,
    };
    let connection = connect::hello_starting_daemon(socket, Peer::Shim(registration)).await?;
    let (mut sink, mut stream) = connection.into_inner().split();
    let (to_daemon, mut for_daemon) = mpsc::channel::<ShimFrame>(QUEUE);
    let (to_stdout, mut for_stdout) = mpsc::channel::<String>(QUEUE);

    let writer = tokio::spawn(async move {
        while let Some(frame) = for_daemon.recv().await {
            let body = postcard::to_stdvec(&frame)?;
            sink.send(Bytes::from(body))
                .await
                .context("sending to ozmd")?;
        }
        anyhow::Ok(())
    });
    let in_flight = InFlight::default();
    let answered = in_flight.clone();
    let printer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = for_stdout.recv().await {
            stdout.write_all(line.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
            stdout.flush().await?;
            answered.settle(&line);
        }
        anyhow::Ok(())
    });
    let pongs = to_daemon.clone();
    let answers = to_stdout.clone();
    let gone = in_flight.clone();
    let reader = tokio::spawn(async move {
        let _notice = DaemonGone(gone);
        while let Some(frame) = stream.next().await {
            match postcard::from_bytes::<DaemonFrame>(&frame.context("reading from ozmd")?) {
                Ok(DaemonFrame::JsonRpc(text)) => answers.send(text).await?,
                Ok(DaemonFrame::Ping(number)) => pongs.send(ShimFrame::Pong(number)).await?,
                Err(error) => bail!("garbled frame from ozmd: {error}"),
            }
        }
        bail!("ozmd closed the connection")
    });

    tokio::select! {
        outcome = relay_stdin(to_daemon, to_stdout, &in_flight) => {
            // The client may close stdin right after its last request; its answers still come.
            in_flight.drain(DRAIN_LIMIT).await;
            outcome
        }
        outcome = reader => outcome?,
        outcome = writer => outcome?,
        outcome = printer => outcome?.context("writing to stdout"),
    }
}

/// Sends each line of stdin to the daemon; answers lines that cannot be relayed itself.
async fn relay_stdin(
    to_daemon: mpsc::Sender<ShimFrame>,
    to_stdout: mpsc::Sender<String>,
    in_flight: &InFlight,
) -> anyhow::Result<()> {
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        if stdin
            .read_until(b'\n', &mut line)
            .await
            .context("reading stdin")?
            == 0
        {
            return Ok(());
        }
        let refusal = match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(_) if line.len() > MAX_MESSAGE_BYTES => Some(format!(
                "message of {} bytes exceeds the {MAX_MESSAGE_BYTES} bytes ozm accepts",
                line.len()
            )),
            Ok(text) => {
                let text = text.trim_end_matches(['\n', '\r']).to_owned();
                in_flight.sent(&text);
                to_daemon.send(ShimFrame::JsonRpc(text)).await?;
                None
            }
            Err(error) => Some(format!("parse error: the line is not UTF-8 ({error})")),
        };
        // A message the daemon would refuse is answered here, so the client learns why
        // instead of losing its session.
        if let Some(message) = refusal {
            let code = if message.starts_with("parse error") {
                -32700
            } else {
                -32600
            };
            let error = serde_json::json!({
                "jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}
            });
            to_stdout.send(error.to_string()).await?;
        }
    }
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
    match path.to_str() {
        Some(text) => Ok(text.to_owned()),
        None => bail!(
            "{} is not valid UTF-8; ozm needs UTF-8 directory names",
            path.display()
        ),
    }
}

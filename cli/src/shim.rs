//! `ozm mcp DIR…`: relays an AI client's MCP session between stdin/stdout and the daemon.
//!
//! Each line on stdin is one JSON-RPC message and goes to the daemon as one frame; each message
//! from the daemon is written to stdout as one line. stdout carries nothing else: every
//! diagnostic goes to stderr. The shim ends when stdin closes (the client is gone) or when the
//! daemon closes the connection.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use ozm_protocol::{DaemonFrame, Peer, ShimFrame, ShimRegistration};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::connect;

/// The largest JSON-RPC message relayed: a frame's limit less room for the frame's own fields.
const MAX_MESSAGE_BYTES: usize = ozm_protocol::MAX_FRAME_LEN - 1024;

/// Prefix of the environment variables the shim passes on as its settings.
const SETTINGS_PREFIX: &str = "OPENZIM_MCP_";

/// Runs the shim until stdin closes or the daemon goes away.
pub async fn run(socket: &Path, directories: &[PathBuf]) -> anyhow::Result<()> {
    let registration = ShimRegistration {
        directories: directories
            .iter()
            .map(|dir| absolute(dir))
            .collect::<anyhow::Result<_>>()?,
        settings: std::env::vars()
            .filter(|(name, _)| name.starts_with(SETTINGS_PREFIX))
            .collect(),
    };
    let connection = connect::hello_starting_daemon(socket, Peer::Shim(registration)).await?;
    let mut frames = connection.into_inner();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();

    loop {
        tokio::select! {
            line = stdin.next_line() => {
                let Some(line) = line.context("reading stdin")? else { return Ok(()) };
                if line.trim().is_empty() {
                    continue;
                }
                // A message the daemon would refuse as a frame is answered here, so the client
                // learns why instead of losing its session.
                if line.len() > MAX_MESSAGE_BYTES {
                    let refusal = format!(
                        "{{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{{\"code\":-32600,\
                         \"message\":\"message of {} bytes exceeds the {MAX_MESSAGE_BYTES} \
                         bytes ozm accepts\"}}}}\n",
                        line.len()
                    );
                    stdout.write_all(refusal.as_bytes()).await?;
                    stdout.flush().await?;
                    continue;
                }
                send(&mut frames, &ShimFrame::JsonRpc(line)).await?;
            }
            frame = frames.next() => {
                let Some(frame) = frame else { bail!("ozmd closed the connection") };
                let frame = frame.context("reading from ozmd")?;
                match postcard::from_bytes::<DaemonFrame>(&frame) {
                    Ok(DaemonFrame::JsonRpc(text)) => {
                        stdout.write_all(text.as_bytes()).await?;
                        stdout.write_all(b"\n").await?;
                        stdout.flush().await?;
                    }
                    Ok(DaemonFrame::Ping(number)) => {
                        send(&mut frames, &ShimFrame::Pong(number)).await?;
                    }
                    Err(error) => bail!("garbled frame from ozmd: {error}"),
                }
            }
        }
    }
}

async fn send<S>(frames: &mut S, frame: &ShimFrame) -> anyhow::Result<()>
where
    S: futures_util::Sink<Bytes, Error = std::io::Error> + Unpin,
{
    let body = postcard::to_stdvec(frame)?;
    frames
        .send(Bytes::from(body))
        .await
        .context("sending to ozmd")
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

//! The client's side: reading stdin line by line, writing stdout, and the shim's own words on
//! stderr. stdout carries JSON-RPC and nothing else.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use ozm_protocol::ShimFrame;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::shared::Shared;

/// The largest JSON-RPC message relayed: a frame's limit less room for the frame's own fields.
const MAX_MESSAGE_BYTES: usize = ozm_protocol::MAX_FRAME_LEN - 1024;

/// Tells the operator something on stderr, where an AI client shows or logs it.
pub fn say(message: &str) {
    // One write, so that lines of shims sharing a stderr do not interleave.
    let line = format!("ozm: {message}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Writes each line it is given to stdout, as it comes.
pub async fn print(mut lines: mpsc::Receiver<String>) -> anyhow::Result<()> {
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.recv().await {
        stdout
            .write_all(line.as_bytes())
            .await
            .context("writing to stdout")?;
        stdout.write_all(b"\n").await.context("writing to stdout")?;
        stdout.flush().await.context("writing to stdout")?;
    }
    Ok(())
}

/// Hands each line of stdin to the session and on to the daemon; answers lines that cannot be
/// relayed itself. Notes the end of stdin, however it comes.
pub async fn relay_stdin(shared: Arc<Shared>, to_stdout: mpsc::Sender<String>) {
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        shared.room().await;
        match stdin.read_until(b'\n', &mut line).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                say(&format!("cannot read stdin ({error}); taking it as closed"));
                break;
            }
        }
        let refusal = match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(_) if line.len() > MAX_MESSAGE_BYTES => Some(format!(
                "message of {} bytes exceeds the {MAX_MESSAGE_BYTES} bytes ozm accepts",
                line.len()
            )),
            Ok(text) => {
                let text = text.trim_end_matches(['\n', '\r']).to_owned();
                // A failed send leaves a request in flight, and the next connection resends it.
                if let Some(link) = shared.client_sent(&text) {
                    let _ = link.send(ShimFrame::JsonRpc(text)).await;
                }
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
            if to_stdout.send(error.to_string()).await.is_err() {
                break;
            }
        }
    }
    shared.close_stdin();
}

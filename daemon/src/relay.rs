//! One shim connection after the handshake: its MCP session runs here, in the daemon.
//!
//! The shim sends each JSON-RPC message from its AI client as a frame. This task checks that the
//! text is a JSON-RPC message (answering -32700 or -32600 itself when it is not, as a stdio
//! server would), hands it to the session's rmcp service, and sends the service's messages back
//! as frames. It also pings the shim every heartbeat interval (the shim's
//! `OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL`): each answer moves the registry's
//! `last_heartbeat`; a shim silent for [`UNRESPONSIVE_AFTER`] intervals is marked unresponsive,
//! and one silent for [`DROPPED_AFTER`] intervals is dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ozm_protocol::{Connection, DaemonFrame, ShimFrame};
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::mcp::{OzmMcp, Session};
use crate::server::Daemon;
use crate::settings::Settings;

/// Heartbeat intervals without an answer before a shim is marked unresponsive.
pub const UNRESPONSIVE_AFTER: u32 = 2;

/// Heartbeat intervals without an answer before a shim is dropped.
pub const DROPPED_AFTER: u32 = 4;

/// Messages waiting between the connection and the MCP service before either side waits.
const QUEUE: usize = 64;

/// Relays until the shim leaves, the session ends or the daemon stops.
pub async fn run(
    daemon: &Arc<Daemon>,
    connection: Connection,
    instance: &str,
    dirs: Vec<PathBuf>,
    uid: u32,
    settings: Settings,
) {
    let heartbeat = Duration::from_secs(settings.heartbeat_interval_secs);
    let (to_service, from_shim) = mpsc::channel::<ClientJsonRpcMessage>(QUEUE);
    let (to_shim, mut from_service) = mpsc::channel::<ServerJsonRpcMessage>(QUEUE);
    let session = Session {
        library: Arc::clone(&daemon.library),
        directories: dirs,
        instance_id: instance.to_owned(),
        daemon: daemon.info.clone(),
        registry: Arc::clone(&daemon.registry),
        settings,
        daemon_settings: Arc::clone(&daemon.settings),
        uid,
    };
    let service = tokio::spawn(run_service(OzmMcp::new(session), from_shim, to_shim));

    let mut frames = connection.into_inner();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut pings_sent = 0u64;
    let mut last_answer = tokio::time::Instant::now();
    loop {
        let outgoing = tokio::select! {
            () = daemon.shutdown.cancelled() => break,
            frame = frames.next() => {
                let Some(Ok(frame)) = frame else { break };
                match postcard::from_bytes::<ShimFrame>(&frame) {
                    Ok(ShimFrame::JsonRpc(text)) => match parse(&text) {
                        Ok(message) => {
                            if to_service.send(message).await.is_err() { break }
                            continue;
                        }
                        Err(answer) => answer,
                    },
                    Ok(ShimFrame::Pong(number)) => {
                        let was_responsive = daemon.registry.get(instance).is_none_or(|r| r.responsive);
                        if !was_responsive {
                            info!(instance, "shim answers heartbeats again");
                        }
                        debug!(instance, number, "shim answered heartbeat");
                        daemon.registry.heartbeat(instance);
                        last_answer = tokio::time::Instant::now();
                        continue;
                    }
                    Err(error) => {
                        warn!(instance, %error, "garbled frame from shim; closing");
                        break;
                    }
                }
            }
            message = from_service.recv() => match message {
                Some(message) => match serde_json::to_string(&message) {
                    Ok(text) => DaemonFrame::JsonRpc(text),
                    Err(error) => {
                        warn!(instance, %error, "cannot encode an MCP message");
                        continue;
                    }
                },
                None => break,
            },
            _ = ping.tick() => {
                let silent = last_answer.elapsed();
                if silent > heartbeat * DROPPED_AFTER {
                    warn!(instance, silent_s = silent.as_secs(), "dropping a shim that stopped answering heartbeats");
                    break;
                }
                if silent > heartbeat * UNRESPONSIVE_AFTER
                    && daemon.registry.get(instance).is_some_and(|r| r.responsive)
                {
                    warn!(instance, silent_s = silent.as_secs(), "shim is not answering heartbeats");
                    daemon.registry.mark_unresponsive(instance);
                }
                pings_sent += 1;
                DaemonFrame::Ping(pings_sent)
            }
        };
        let Ok(body) = postcard::to_stdvec(&outgoing) else {
            break;
        };
        if let Err(error) = frames.send(bytes::Bytes::from(body)).await {
            warn!(instance, %error, "cannot send to shim; closing");
            break;
        }
    }
    drop(to_service);
    service.abort();
}

async fn run_service(
    server: OzmMcp,
    from_shim: mpsc::Receiver<ClientJsonRpcMessage>,
    to_shim: mpsc::Sender<ServerJsonRpcMessage>,
) {
    let incoming = futures_util::stream::unfold(from_shim, |mut receiver| async move {
        receiver.recv().await.map(|message| (message, receiver))
    });
    let outgoing = futures_util::sink::unfold(to_shim, |sender, message| async move {
        sender.send(message).await.map(|()| sender)
    });
    match server.serve((Box::pin(outgoing), Box::pin(incoming))).await {
        Ok(running) => {
            let _ = running.waiting().await;
        }
        Err(error) => debug!(%error, "MCP session ended before it started"),
    }
}

/// Reads one client message, or the JSON-RPC error a stdio server would answer instead.
fn parse(text: &str) -> Result<ClientJsonRpcMessage, DaemonFrame> {
    let reply = |id: Value, code: i64, message: &str| {
        let error =
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
        DaemonFrame::JsonRpc(error.to_string())
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|error| reply(Value::Null, -32700, &format!("parse error: {error}")))?;
    if value.is_array() {
        return Err(reply(
            Value::Null,
            -32600,
            "JSON-RPC batches are not supported",
        ));
    }
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    serde_json::from_value(value)
        .map_err(|error| reply(id, -32600, &format!("invalid request: {error}")))
}

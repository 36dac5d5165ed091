//! One shim connection after the handshake: its MCP session runs here, in the daemon.
//!
//! Two halves run side by side, so that neither side of the socket ever waits on the other: the
//! reader takes the shim's frames, checks that each is a JSON-RPC message (answering -32700 or
//! -32600 itself when it is not, as a stdio server would) and hands it to the session's rmcp
//! service; the writer sends the service's messages, those answers and the heartbeat pings.
//! Until the session has started (`initialize`, or a stateless client's first request), the
//! reader drops notifications and responses: rmcp would end the session at them.
//!
//! At most [`MAX_IN_FLIGHT`] requests of one session are being answered at a time; the reader
//! stops reading until one is answered, so a client that sends faster than it reads holds no more
//! than that many answers in the daemon's memory.
//!
//! Every heartbeat interval (the shim's `OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL`) the shim is
//! pinged; each answer moves the registry's `last_heartbeat`. A shim silent for
//! [`UNRESPONSIVE_AFTER`] intervals is marked unresponsive, one silent for [`DROPPED_AFTER`] is
//! dropped. Silence is counted on the monotonic clock, not from `last_heartbeat` (wall-clock
//! time, for people): the wall clock set forward, as it is when a machine wakes from sleep,
//! would drop every shim, and set back it would keep a silent one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use ozm_protocol::{Connection, DaemonFrame, ShimFrame};
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::PollSender;
use tracing::{debug, info, warn};

use crate::instances::Caller;
use crate::mcp::{McpService, Session, opens_session};
use crate::registry::Registry;
use crate::server::Daemon;
use crate::settings::Settings;

/// Heartbeat intervals without an answer before a shim is marked unresponsive.
pub const UNRESPONSIVE_AFTER: u32 = 2;

/// Heartbeat intervals without an answer before a shim is dropped.
pub const DROPPED_AFTER: u32 = 4;

/// Requests of one session answered at a time.
pub const MAX_IN_FLIGHT: usize = 16;

/// Messages waiting between the connection and the MCP service before either side waits.
const QUEUE: usize = 64;

/// Requests being answered, by JSON-RPC id, each holding a place among [`MAX_IN_FLIGHT`].
type InFlight = Arc<Mutex<HashMap<String, OwnedSemaphorePermit>>>;

/// Relays until the shim leaves, the session ends or the daemon stops.
pub async fn run(
    daemon: &Arc<Daemon>,
    connection: Connection,
    instance: &str,
    dirs: Vec<PathBuf>,
    caller: Caller,
    settings: Settings,
) {
    let heartbeat = Duration::from_secs(settings.heartbeat_interval_secs);
    let (to_service, from_shim) = mpsc::channel::<ClientJsonRpcMessage>(QUEUE);
    let (to_shim, from_service) = mpsc::channel::<ServerJsonRpcMessage>(QUEUE);
    let (replies, local_replies) = mpsc::channel::<DaemonFrame>(QUEUE);
    let session = Session {
        library: Arc::clone(&daemon.library),
        directories: dirs,
        instance_id: instance.to_owned(),
        daemon: daemon.info.clone(),
        registry: Arc::clone(&daemon.registry),
        settings,
        daemon_settings: Arc::clone(&daemon.settings),
        caller,
    };
    let service = tokio::spawn(run_service(McpService::new(session), from_shim, to_shim));

    let (sink, stream) = connection.into_inner().split();
    let in_flight = InFlight::default();
    let pings = replies.clone();
    let answered = Mutex::new(Instant::now());
    let reader = read_shim(
        stream,
        to_service,
        replies,
        &answered,
        &daemon.registry,
        instance,
        &in_flight,
    );
    let outgoing = Outgoing {
        from_service,
        local_replies,
        in_flight: &in_flight,
    };
    let writer = write_shim(sink, outgoing, instance);
    tokio::select! {
        () = daemon.shutdown.cancelled() => {}
        () = reader => {}
        () = writer => {}
        () = heartbeats(pings, &answered, &daemon.registry, instance, heartbeat) => {}
    }
    service.abort();
}

/// Pings the shim every interval and ends when it has been silent too long. It runs apart from
/// the writer, so a shim that stopped reading is noticed even while a send to it waits.
///
/// A tick that comes much later than due means the daemon itself did not run (stopped with
/// SIGSTOP, or starved): the shim's answers could not be read meanwhile, so its silence is
/// counted only from then.
async fn heartbeats(
    pings: mpsc::Sender<DaemonFrame>,
    answered: &Mutex<Instant>,
    registry: &Registry,
    instance: &str,
    heartbeat: Duration,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_tick = Instant::now();
    let mut resumed: Option<Instant> = None;
    for number in 1.. {
        tick.tick().await;
        if last_tick.elapsed() > heartbeat * 2 {
            debug!(
                instance,
                paused_s = last_tick.elapsed().as_secs(),
                "the daemon did not run for a while; the shim's silence counts from now"
            );
            resumed = Some(Instant::now());
        }
        last_tick = Instant::now();
        let since_resumed = resumed.map_or(Duration::MAX, |at| at.elapsed());
        let last_answer = *answered.lock().unwrap_or_else(PoisonError::into_inner);
        let silent = last_answer.elapsed().min(since_resumed);
        if silent > heartbeat * DROPPED_AFTER {
            warn!(
                instance,
                silent_s = silent.as_secs(),
                "dropping a shim that stopped answering heartbeats"
            );
            return;
        }
        if silent > heartbeat * UNRESPONSIVE_AFTER
            && registry
                .get(instance)
                .is_some_and(|record| record.responsive)
        {
            warn!(
                instance,
                silent_s = silent.as_secs(),
                "shim is not answering heartbeats"
            );
            registry.mark_unresponsive(instance);
        }
        // A full queue means the shim is not reading; the silence is counted all the same.
        let _ = pings.try_send(DaemonFrame::Ping(number));
    }
}

/// Reads the shim's frames until it closes the connection or breaks the protocol; `answered` is
/// when the shim last answered a heartbeat, on the monotonic clock.
async fn read_shim(
    mut stream: impl Stream<Item = std::io::Result<bytes::BytesMut>> + Unpin,
    to_service: mpsc::Sender<ClientJsonRpcMessage>,
    replies: mpsc::Sender<DaemonFrame>,
    answered: &Mutex<Instant>,
    registry: &Registry,
    instance: &str,
    in_flight: &InFlight,
) {
    let places = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut started = false;
    while let Some(Ok(frame)) = stream.next().await {
        let text = match postcard::from_bytes::<ShimFrame>(&frame) {
            Ok(ShimFrame::JsonRpc(text)) => text,
            Ok(ShimFrame::Pong(number)) => {
                if registry
                    .get(instance)
                    .is_some_and(|record| !record.responsive)
                {
                    info!(instance, "shim answers heartbeats again");
                }
                debug!(instance, number, "shim answered heartbeat");
                *answered.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
                registry.heartbeat(instance);
                continue;
            }
            Err(error) => {
                warn!(instance, %error, "garbled frame from shim; closing");
                return;
            }
        };
        let parsed = match parse(&text) {
            Ok(parsed) => parsed,
            Err(reply) => {
                if replies.send(reply).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if !started {
            if parsed.request_id.is_none() {
                debug!(
                    instance,
                    "dropped a message sent before the session started"
                );
                continue;
            }
            started = parsed.opens_session;
        }
        if let Some(id) = parsed.request_id {
            let Ok(place) = Arc::clone(&places).acquire_owned().await else {
                return;
            };
            lock(in_flight).insert(id, place);
        }
        if let Some(id) = parsed.cancels {
            // A cancelled request gets no answer, so its place is given back here.
            lock(in_flight).remove(&id);
        }
        let message = parsed.message;
        if to_service.send(message).await.is_err() {
            return;
        }
    }
}

/// What the writer sends: the service's messages and the reader's own answers.
struct Outgoing<'a> {
    from_service: mpsc::Receiver<ServerJsonRpcMessage>,
    local_replies: mpsc::Receiver<DaemonFrame>,
    in_flight: &'a InFlight,
}

/// Sends frames to the shim until it cannot be reached.
async fn write_shim(
    mut sink: impl Sink<Bytes, Error = std::io::Error> + Unpin,
    mut outgoing: Outgoing<'_>,
    instance: &str,
) {
    loop {
        let frame = tokio::select! {
            message = outgoing.from_service.recv() => {
                let Some(message) = message else { return };
                let Ok(value) = serde_json::to_value(&message) else {
                    warn!(instance, "cannot encode an MCP message");
                    continue;
                };
                if value.get("method").is_none()
                    && let Some(id) = value.get("id")
                {
                    lock(outgoing.in_flight).remove(&id.to_string());
                }
                DaemonFrame::JsonRpc(value.to_string())
            }
            Some(reply) = outgoing.local_replies.recv() => reply,
        };
        let Ok(body) = postcard::to_stdvec(&frame) else {
            return;
        };
        if let Err(error) = sink.send(Bytes::from(body)).await {
            warn!(instance, %error, "cannot send to shim; closing");
            return;
        }
    }
}

async fn run_service(
    server: McpService,
    from_shim: mpsc::Receiver<ClientJsonRpcMessage>,
    to_shim: mpsc::Sender<ServerJsonRpcMessage>,
) {
    let incoming = futures_util::stream::unfold(from_shim, |mut receiver| async move {
        receiver.recv().await.map(|message| (message, receiver))
    });
    match server
        .serve((PollSender::new(to_shim), Box::pin(incoming)))
        .await
    {
        Ok(running) => {
            let _ = running.waiting().await;
        }
        Err(error) => debug!(%error, "MCP session ended before it started"),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A client message, with what the relay needs to know of it.
struct Parsed {
    message: ClientJsonRpcMessage,
    /// Its id, as a key, when it is a request (it has both `id` and `method`).
    request_id: Option<String>,
    /// The id of the request it cancels, when it is `notifications/cancelled`.
    cancels: Option<String>,
    /// Whether it starts the session's lifecycle.
    opens_session: bool,
}

/// Reads one client message, or the JSON-RPC error a stdio server would answer instead.
fn parse(text: &str) -> Result<Parsed, DaemonFrame> {
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
    let request_id = value
        .get("method")
        .and(value.get("id"))
        .map(Value::to_string);
    let cancels = (value["method"] == "notifications/cancelled")
        .then(|| value["params"]["requestId"].to_string());
    let opens_session = opens_session(&value);
    let message = serde_json::from_value(value)
        .map_err(|error| reply(id, -32600, &format!("invalid request: {error}")))?;
    Ok(Parsed {
        message,
        request_id,
        cancels,
        opens_session,
    })
}

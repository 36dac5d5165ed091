//! One connection to the daemon. A writer task sends what restores the session first, then the
//! client's messages and the answers to heartbeats; the reader, in the caller's task, hands the
//! daemon's messages to stdout through the session, which drops duplicate answers and the
//! answers to the shim's own replayed `initialize`. Reading and writing never wait on each
//! other, so a daemon that stops reading until it has answered cannot stall the shim.
//!
//! A daemon that sends nothing, not even a heartbeat, for the silence limit while requests wait
//! for answers hangs (or was stopped with SIGSTOP): the connection is taken for lost, so the
//! requests are sent again to a daemon that answers, or get an error, instead of waiting forever.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use ozm_protocol::{Connection, DaemonFrame, ShimFrame};
use tokio::sync::mpsc;

use super::session::Answer;
use super::shared::Shared;
use super::stdio::say;

/// How long the reader may go on handing answers over after the writer failed; the connection
/// is gone by then, so its end follows at once.
const READ_REST: Duration = Duration::from_secs(1);

/// How a connection ended.
pub enum Ended {
    /// The client closed stdin and every request has its answer.
    Finished,
    /// The daemon can no longer be reached on this connection, for the reason given.
    Lost(String),
}

/// The two ends of the channel that feeds the connection's writer.
pub struct Outbox {
    /// Where messages for this connection go.
    pub sender: mpsc::Sender<ShimFrame>,
    /// What the writer sends from.
    pub receiver: mpsc::Receiver<ShimFrame>,
}

/// Relays on `connection` until it is lost or the shim's work is done. `restore` is sent
/// before anything from `outbox`; `silence_limit` is how long a daemon may send nothing while
/// requests wait.
pub async fn serve(
    connection: Connection,
    restore: Vec<String>,
    outbox: Outbox,
    shared: &Shared,
    to_stdout: &mpsc::Sender<String>,
    silence_limit: Duration,
) -> Ended {
    let (sink, stream) = connection.into_inner().split();
    let mut writer = tokio::spawn(write(sink, restore, outbox.receiver));
    let reader = read(stream, outbox.sender, shared, to_stdout, silence_limit);
    tokio::pin!(reader);
    let mut writer_ended = false;
    let ended = tokio::select! {
        reason = &mut reader => Ended::Lost(reason),
        failure = &mut writer => {
            writer_ended = true;
            let failure = failure.unwrap_or_else(|error| format!("the writer failed: {error}"));
            // Answers the daemon sent before it went away are still worth handing on.
            match tokio::time::timeout(READ_REST, &mut reader).await {
                Ok(reason) => Ended::Lost(reason),
                Err(_) => Ended::Lost(failure),
            }
        }
        () = shared.finished() => Ended::Finished,
    };
    shared.detach();
    if !writer_ended {
        writer.abort();
        // Once the writer is gone, its queue is too: a late send to it fails, never waits.
        let _ = writer.await;
    }
    ended
}

/// Sends `restore`, then every frame of `outbox`; returns why it stopped.
async fn write(
    mut sink: impl Sink<Bytes, Error = std::io::Error> + Unpin,
    restore: Vec<String>,
    mut outbox: mpsc::Receiver<ShimFrame>,
) -> String {
    let restored = restore.into_iter().map(ShimFrame::JsonRpc);
    let mut send = async |frame: ShimFrame| match postcard::to_stdvec(&frame) {
        Ok(body) => sink
            .send(Bytes::from(body))
            .await
            .map_err(|error| format!("sending failed: {error}")),
        Err(error) => Err(format!("cannot encode a frame: {error}")),
    };
    for frame in restored {
        if let Err(reason) = send(frame).await {
            return reason;
        }
    }
    while let Some(frame) = outbox.recv().await {
        if let Err(reason) = send(frame).await {
            return reason;
        }
    }
    "the shim stopped sending".to_owned()
}

/// Reads the daemon's frames until the connection is lost; returns the reason in an
/// operator's words.
async fn read(
    mut stream: impl Stream<Item = std::io::Result<bytes::BytesMut>> + Unpin,
    pongs: mpsc::Sender<ShimFrame>,
    shared: &Shared,
    to_stdout: &mpsc::Sender<String>,
    silence_limit: Duration,
) -> String {
    loop {
        // A stream's `next` keeps what it has read in the stream, so a timeout loses nothing.
        let frame = match tokio::time::timeout(silence_limit, stream.next()).await {
            Ok(None) => return "it closed the connection".to_owned(),
            Ok(Some(Err(error))) => return format!("reading from it failed: {error}"),
            Ok(Some(Ok(frame))) => frame,
            Err(_) if shared.awaiting_answers() => {
                return format!(
                    "it sent nothing, not even a heartbeat, for {} s while requests waited: it \
                     hangs or was stopped",
                    silence_limit.as_secs()
                );
            }
            Err(_) => continue,
        };
        match postcard::from_bytes::<DaemonFrame>(&frame) {
            Ok(DaemonFrame::JsonRpc(text)) => match shared.daemon_sent(&text) {
                Answer::Forward => {
                    if to_stdout.send(text).await.is_err() {
                        return "stdout closed".to_owned();
                    }
                }
                Answer::Duplicate => {}
                Answer::Replayed(None) => {}
                Answer::Replayed(Some(refusal)) => say(&format!(
                    "the new ozmd did not accept the session's initialize again: {refusal}"
                )),
            },
            // A full queue means the writer is behind; a missed answer to one heartbeat is
            // harmless, and waiting here could stall the answers the daemon waits to send.
            Ok(DaemonFrame::Ping(number)) => {
                let _ = pongs.try_send(ShimFrame::Pong(number));
            }
            Err(error) => return format!("it sent a garbled frame: {error}"),
        }
    }
}

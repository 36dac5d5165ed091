//! One request of an operator's command and the daemon's answer.
//!
//! A daemon that goes away in the middle (killed, restarted) is an error with a message, never a
//! quiet success: the failure is kept as words, not as the I/O error underneath, because a
//! broken pipe in the chain would pass for a reader of stdout that stopped early.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use ozm_protocol::{CliRequest, CliResponse, Connection, FrameError, Peer, StatusReport};

use crate::connect;

/// How long a status report may take.
pub const STATUS_WITHIN: Duration = Duration::from_secs(10);

/// Connects to the daemon on `socket` and asks `request`, waiting at most `within`.
pub async fn ask(
    socket: &Path,
    request: &CliRequest,
    within: Duration,
) -> anyhow::Result<CliResponse> {
    let mut connection = connect::hello(socket, Peer::Cli).await.map_err(|error| {
        match error.downcast::<connect::NoDaemon>() {
            Ok(none) => none.into(),
            Err(other) => anyhow!("{other:#}"),
        }
    })?;
    ask_on(&mut connection, request, within).await
}

/// Asks `request` on a connection already open.
pub async fn ask_on(
    connection: &mut Connection,
    request: &CliRequest,
    within: Duration,
) -> anyhow::Result<CliResponse> {
    connection.send(request).await.map_err(lost)?;
    connection.recv_within(within).await.map_err(lost)
}

/// The daemon's status report.
pub async fn status(socket: &Path) -> anyhow::Result<StatusReport> {
    match ask(socket, &CliRequest::Status, STATUS_WITHIN).await? {
        CliResponse::Status(report) => Ok(*report),
        other => unexpected(other),
    }
}

/// The error for an answer that is not the one asked for.
pub fn unexpected<T>(response: CliResponse) -> anyhow::Result<T> {
    match response {
        CliResponse::Error(message) => bail!("ozmd could not answer: {message}"),
        _ => bail!("ozmd answered with the wrong report"),
    }
}

/// The error for a daemon that stopped answering, in words.
fn lost(error: FrameError) -> anyhow::Error {
    match error {
        FrameError::Timeout(limit) => anyhow!("ozmd did not answer within {}s", limit.as_secs()),
        FrameError::Garbled(error) => anyhow!(
            "ozmd's answer is not understood ({error}): run the same version of ozm and ozmd"
        ),
        other => anyhow!("lost the connection to ozmd before it answered ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daemon that dies after the handshake: its end of the socket closes before it answers.
    /// The request must fail with words and no I/O error that `main` could take for a closed
    /// stdout.
    #[tokio::test]
    async fn a_daemon_gone_before_answering_is_an_error_in_words() {
        let (ours, theirs) = tokio::net::UnixStream::pair().expect("a socket pair");
        drop(theirs);
        let mut connection = Connection::new(ours);
        let error = ask_on(&mut connection, &CliRequest::Status, STATUS_WITHIN)
            .await
            .expect_err("no answer can come");
        assert!(
            error.to_string().contains("lost the connection to ozmd"),
            "{error:#}"
        );
        assert!(
            error.chain().all(|cause| !cause.is::<std::io::Error>()),
            "{error:?}"
        );
    }
}

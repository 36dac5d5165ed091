//! Length-prefixed postcard frames over a Unix stream.
//!
//! A frame is a 4-byte big-endian length and a postcard body. A frame longer than
//! [`MAX_FRAME_LEN`] is refused before anything is allocated for it.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::{Serialize, de::DeserializeOwned};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The largest frame either side accepts: room for a 25 MB entry sent as base64 inside
/// JSON-RPC, and no more.
pub const MAX_FRAME_LEN: usize = 40 * 1024 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// The peer sent nothing within the allowed time.
    #[error("the peer sent nothing for {0:?}")]
    Timeout(Duration),
    /// A frame was larger than [`MAX_FRAME_LEN`] or the stream failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// A frame's body was not a message of the expected kind.
    #[error("garbled frame: {0}")]
    Garbled(#[from] postcard::Error),
}

/// A framed connection, typed per call.
pub struct Connection {
    framed: Framed<UnixStream, LengthDelimitedCodec>,
}

impl Connection {
    /// Wraps a connected stream.
    pub fn new(stream: UnixStream) -> Self {
        let codec = LengthDelimitedCodec::builder()
            .max_frame_length(MAX_FRAME_LEN)
            .new_codec();
        Connection {
            framed: Framed::new(stream, codec),
        }
    }

    /// The underlying stream, for peer credentials.
    pub fn stream(&self) -> &UnixStream {
        self.framed.get_ref()
    }

    /// Sends one message.
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), FrameError> {
        let body = postcard::to_stdvec(message)?;
        self.framed.send(Bytes::from(body)).await?;
        Ok(())
    }

    /// Receives one raw frame body.
    pub async fn recv_raw(&mut self) -> Result<bytes::BytesMut, FrameError> {
        match self.framed.next().await {
            Some(frame) => Ok(frame?),
            None => Err(FrameError::Closed),
        }
    }

    /// Receives one message.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<T, FrameError> {
        let body = self.recv_raw().await?;
        Ok(postcard::from_bytes(&body)?)
    }

    /// Receives one message, giving up after `limit`.
    pub async fn recv_within<T: DeserializeOwned>(
        &mut self,
        limit: Duration,
    ) -> Result<T, FrameError> {
        tokio::time::timeout(limit, self.recv())
            .await
            .map_err(|_| FrameError::Timeout(limit))?
    }

    /// Splits into a sink and a stream of raw frames, for relaying both ways at once.
    pub fn into_inner(self) -> Framed<UnixStream, LengthDelimitedCodec> {
        self.framed
    }
}

//! The language `ozmd` and its clients speak over the Unix socket.
//!
//! Every connection carries length-prefixed frames (a 4-byte big-endian length, then a postcard
//! body) and opens with a handshake: the client sends a [`Hello`] naming its protocol version and
//! its role, the daemon answers with a [`HelloReply`]. After that the connection carries
//! [`ShimFrame`]/[`DaemonFrame`] for a shim (MCP JSON-RPC relayed verbatim, plus pings) or
//! [`CliRequest`]/[`CliResponse`] for the operator's commands.
//!
//! This crate holds no runtime of its own beyond what framing needs, so the shim stays small.

mod frame;
mod hello;
mod messages;
pub mod paths;

pub use frame::{Connection, FrameError, MAX_FRAME_LEN};
pub use hello::{
    Hello, HelloPrefix, HelloReply, MAGIC, PROTOCOL_MAJOR, PROTOCOL_MINOR, Peer, ShimRegistration,
    check_version,
};
pub use messages::{
    ArchiveState, ArchiveStatus, BuildState, CliRequest, CliResponse, DaemonFrame, DaemonStatus,
    HttpListener, HttpWaiting, IndexKind, IndexStatus, ShimFrame, ShimStatus, StatusReport,
    Supervisor,
};

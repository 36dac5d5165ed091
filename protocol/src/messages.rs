//! Frames exchanged after the handshake.
//!
//! A shim connection relays MCP: each JSON-RPC message travels as one [`ShimFrame::JsonRpc`] or
//! [`DaemonFrame::JsonRpc`], its text untouched. A CLI connection carries one [`CliRequest`] and
//! its [`CliResponse`] at a time. New variants are only ever appended, so that an older peer
//! still decodes every variant it knows.

use serde::{Deserialize, Serialize};

/// What a shim sends after the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShimFrame {
    /// One JSON-RPC message from the AI client, as the client wrote it.
    JsonRpc(String),
    /// The answer to a [`DaemonFrame::Ping`] carrying the same number.
    Pong(u64),
}

/// What the daemon sends to a shim after the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DaemonFrame {
    /// One JSON-RPC message for the AI client.
    JsonRpc(String),
    /// A liveness check; the shim answers with [`ShimFrame::Pong`].
    Ping(u64),
}

/// An operator's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CliRequest {
    /// The daemon, its clients and its archives.
    Status,
    /// Conflicts between instances and recommendations (since 1.1); answered with JSON.
    Diagnose,
    /// Settle conflicts, or with `dry_run` only say what would be done (since 1.1); JSON.
    Cleanup {
        /// Report the actions without taking them.
        dry_run: bool,
    },
    /// The daemon's effective settings and every instance's, with hashes (since 1.1); JSON.
    Config,
    /// Start building ozm's own indexes of these archives (paths as given; none means every
    /// archive the daemon knows), answered with [`CliResponse::Indexing`] (since 1.2).
    Index {
        /// Archive paths; a file not known yet is opened, with the rest of its directory.
        archives: Vec<String>,
    },
}

/// The daemon's answer to a [`CliRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CliResponse {
    /// Answer to [`CliRequest::Status`]; boxed, as the largest answer by far (the same bytes on
    /// the wire).
    Status(Box<StatusReport>),
    /// The request could not be served; the text says why.
    Error(String),
    /// A report as JSON text, the same document the matching MCP tool returns (since 1.1).
    Json(String),
    /// Answer to [`CliRequest::Index`]: the builds of the archives asked for (since 1.2).
    Indexing(Vec<IndexStatus>),
}

/// Everything `ozm status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The daemon itself.
    pub daemon: DaemonStatus,
    /// Every connected shim.
    pub shims: Vec<ShimStatus>,
    /// Every archive found under the shims' directories.
    pub archives: Vec<ArchiveStatus>,
    /// ozm's own indexes: queued, being built, ready or failed (since 1.2).
    pub indexes: Vec<IndexStatus>,
    /// The service manager running the daemon, if any: `ozm daemon stop` then leaves the
    /// daemon to it (since 1.4). Last, so that clients built before it still read the report:
    /// they stop decoding before it.
    #[serde(default)]
    pub supervisor: Option<Supervisor>,
    /// The daemon's HTTP listeners (`OPENZIM_MCP_TRANSPORT=http`, `METRICS__ENABLED`; since
    /// 1.4); after `supervisor`, for the same reason.
    #[serde(default)]
    pub http: Vec<HttpListener>,
    /// HTTP listeners the settings ask for whose port could not be bound yet (another program
    /// holds it, say); ozmd tries each again until it can (since 1.5). Last, for the same reason.
    #[serde(default)]
    pub http_waiting: Vec<HttpWaiting>,
}

/// An HTTP listener of the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpListener {
    /// The address bound, e.g. `127.0.0.1:8000`.
    pub address: String,
    /// Whether it serves MCP at `/mcp` (else health and metrics only).
    pub mcp: bool,
}

/// An HTTP listener the daemon could not bind yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpWaiting {
    /// The address asked for, e.g. `127.0.0.1:8000`.
    pub address: String,
    /// Whether it is to serve MCP at `/mcp`.
    pub mcp: bool,
    /// Why the last attempt failed, e.g. `Address already in use (os error 98)`.
    pub reason: String,
}

/// A service manager that runs the daemon and would start it again if `ozm` stopped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervisor {
    /// Which manager: `systemd`.
    pub manager: String,
    /// The unit it runs the daemon as, e.g. `ozmd.service`.
    pub unit: String,
    /// Whether that is a user's manager (`systemctl --user`) rather than the system's.
    pub user: bool,
}

/// One of ozm's own indexes of one archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexStatus {
    /// The archive's path.
    pub archive: String,
    /// Which index.
    pub kind: IndexKind,
    /// Where its build stands.
    pub state: BuildState,
}

/// The indexes ozm builds itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexKind {
    /// Full text of the articles, for archives without a Xapian full-text index.
    Fulltext,
    /// Case- and accent-folded titles, for every archive.
    Titles,
    /// Which articles link to each entry, for every archive (since 1.3; a client of an older
    /// minor is not sent it).
    Links,
}

/// Where the build of an index stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BuildState {
    /// Waiting for a free build slot.
    Queued,
    /// Being built.
    Building {
        /// Articles read so far.
        done: u64,
        /// Articles to read.
        total: u64,
        /// Articles per second since the build started.
        per_second: f64,
        /// Estimated seconds until it is done, once there is a rate to go by.
        seconds_left: Option<u64>,
    },
    /// Built and in use.
    Ready {
        /// Articles it holds.
        documents: u64,
        /// Its size on disk.
        size_bytes: u64,
    },
    /// The build failed; the text says why. It is tried again when the daemon restarts.
    Failed(String),
}

/// The daemon process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// Its process id.
    pub pid: u32,
    /// Its build version.
    pub version: String,
    /// Seconds since it started.
    pub uptime_seconds: u64,
    /// The socket it listens on.
    pub socket: String,
}

/// One connected shim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimStatus {
    /// The id the daemon gave the connection.
    pub instance_id: String,
    /// The shim's process id, from the kernel.
    pub pid: u32,
    /// The shim's user id, from the kernel.
    pub uid: u32,
    /// The directories it serves.
    pub directories: Vec<String>,
    /// When it connected, in seconds since the Unix epoch.
    pub connected_at: u64,
    /// The shim's group id, from the kernel.
    pub gid: u32,
    /// The AI client that launched it: pid and process name, when known.
    pub client: Option<(u32, String)>,
    /// Its `OPENZIM_MCP_SERVER_NAME`.
    pub server_name: String,
    /// SHA-256 of its effective settings.
    pub config_hash: String,
    /// Seconds since it last answered a heartbeat.
    pub heartbeat_age_seconds: u64,
    /// Whether it answers heartbeats.
    pub responsive: bool,
    /// The conflicts it is part of, in a word each (e.g. `configuration_mismatch`).
    pub conflicts: Vec<String>,
}

/// One archive in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveStatus {
    /// Its path (for a split set, the `foo.zim` name the parts share).
    pub path: String,
    /// Its size in bytes (all parts of a split set together).
    pub size_bytes: u64,
    /// Whether it can be read.
    pub state: ArchiveState,
}

/// Whether an archive can be served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArchiveState {
    /// Open and readable, with this many entries.
    Open {
        /// Entries of every namespace.
        entries: u32,
    },
    /// Cannot be read; the text says why.
    Unreadable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden bytes: an accidental change of the relayed frames' layout fails here.
    #[test]
    fn shim_frames_wire_layout_is_stable() {
        let bytes = postcard::to_stdvec(&ShimFrame::JsonRpc("{}".into())).unwrap();
        assert_eq!(bytes, [0, 2, b'{', b'}']);
        let bytes = postcard::to_stdvec(&DaemonFrame::Ping(300)).unwrap();
        assert_eq!(bytes, [1, 0xac, 0x02]);
        let bytes = postcard::to_stdvec(&CliRequest::Status).unwrap();
        assert_eq!(bytes, [0]);
        let bytes = postcard::to_stdvec(&IndexKind::Links).unwrap();
        assert_eq!(bytes, [2]);
    }

    /// The status report as a client of protocol 1.4 reads it: without `http_waiting`.
    #[derive(Debug, Deserialize)]
    enum CliResponse14 {
        Status(StatusReport14),
    }

    #[derive(Debug, Deserialize)]
    struct StatusReport14 {
        daemon: DaemonStatus,
        _shims: Vec<ShimStatus>,
        _archives: Vec<ArchiveStatus>,
        _indexes: Vec<IndexStatus>,
        _supervisor: Option<Supervisor>,
        http: Vec<HttpListener>,
    }

    /// A field appended to the report is left unread by older clients, which still read all
    /// the rest.
    #[test]
    fn a_client_of_protocol_1_4_reads_a_report_with_waiting_listeners() {
        let listener = |port: u16| HttpListener {
            address: format!("127.0.0.1:{port}"),
            mcp: true,
        };
        let report = StatusReport {
            daemon: DaemonStatus {
                pid: 7,
                version: "0.1.0".into(),
                uptime_seconds: 3,
                socket: "/s".into(),
            },
            shims: Vec::new(),
            archives: Vec::new(),
            indexes: Vec::new(),
            supervisor: None,
            http: vec![listener(8000), listener(9000)],
            http_waiting: vec![HttpWaiting {
                address: "127.0.0.1:8080".into(),
                mcp: false,
                reason: "Address already in use (os error 98)".into(),
            }],
        };
        let bytes = postcard::to_stdvec(&CliResponse::Status(Box::new(report))).unwrap();
        let CliResponse14::Status(read) = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(read.daemon.pid, 7);
        assert_eq!(read.http, [listener(8000), listener(9000)]);
    }
}

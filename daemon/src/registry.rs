//! The connected shims, one record per live connection, with what the kernel says about each.
//!
//! A record lives exactly as long as its connection: the connection task holds a
//! [`Registration`], and dropping it (the shim exited, was killed, or was dropped for missing
//! heartbeats) removes the record at once. Identity comes from the kernel: pid, uid and gid from
//! the socket's peer credentials, and the process start time, so a reused pid is never taken for
//! the same shim.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::Notify;

use crate::process::ProcessInfo;
use crate::settings::Settings;

/// One connected shim.
#[derive(Debug, Clone)]
pub struct ShimRecord {
    /// The connection's id, `server_<pid>`.
    pub instance_id: String,
    /// The shim's pid, from the kernel.
    pub pid: u32,
    /// The shim's uid, from the kernel.
    pub uid: u32,
    /// The shim's gid, from the kernel.
    pub gid: u32,
    /// The shim process as it was when it connected (start time included).
    pub process: Option<ProcessInfo>,
    /// Its parent when it connected: the AI client.
    pub client: Option<ProcessInfo>,
    /// Its directories, canonical.
    pub directories: Vec<PathBuf>,
    /// Its effective settings.
    pub settings: Settings,
    /// The `OPENZIM_MCP_*` variables it passed, to settle its settings again when the daemon's
    /// change (SIGHUP).
    pub requested: Vec<(String, String)>,
    /// SHA-256 of its settings and directories.
    pub config_hash: String,
    /// When it connected.
    pub connected_at: SystemTime,
    /// When it last answered a heartbeat (or connected).
    pub last_heartbeat: SystemTime,
    /// Whether it answered the last heartbeats in time.
    pub responsive: bool,
    /// How it reaches the daemon.
    pub transport: Transport,
}

/// How a client reaches the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An `ozm mcp` shim on the Unix socket.
    Socket,
    /// A streamable HTTP session, opened from this address.
    Http(SocketAddr),
}

impl Transport {
    /// Its name in reports and metrics: `socket` or `http`.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Socket => "socket",
            Transport::Http(_) => "http",
        }
    }
}

impl ShimRecord {
    /// Whether the AI client that launched the shim has gone while the shim lingers: the client
    /// process no longer exists as it was, or the shim has been handed to another parent.
    pub fn is_orphaned(&self) -> bool {
        let (Some(client), Some(process)) = (&self.client, &self.process) else {
            return false;
        };
        let reparented =
            ProcessInfo::read(process.pid).is_some_and(|now| now.parent_pid != client.pid);
        !client.is_alive() || reparented
    }
}

/// Every connected shim.
#[derive(Default)]
pub struct Registry {
    shims: Mutex<BTreeMap<String, ShimRecord>>,
    /// Woken when a client joins or leaves, so that conflicts are looked at again at once.
    changed: Notify,
}

/// Keeps a shim's record in the registry until dropped.
pub struct Registration {
    registry: Arc<Registry>,
    instance_id: String,
}

impl Registration {
    /// The connection's id.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.instance_id);
        self.registry.changed.notify_one();
    }
}

/// What the kernel says about a connecting shim.
pub struct Peer {
    /// Its pid.
    pub pid: u32,
    /// Its uid.
    pub uid: u32,
    /// Its gid.
    pub gid: u32,
}

impl Registry {
    /// Adds a shim; it stays until the returned registration is dropped.
    pub fn register(
        self: &Arc<Self>,
        peer: Peer,
        directories: Vec<PathBuf>,
        requested: Vec<(String, String)>,
        settings: Settings,
    ) -> Registration {
        let process = ProcessInfo::read(peer.pid);
        let client = process
            .as_ref()
            .and_then(|process| ProcessInfo::read(process.parent_pid));
        let config_hash = settings.hash(&directories);
        let now = SystemTime::now();
        let mut shims = self.lock();
        let mut instance_id = format!("server_{}", peer.pid);
        for serial in 2.. {
            if !shims.contains_key(&instance_id) {
                break;
            }
            instance_id = format!("server_{}_{serial}", peer.pid);
        }
        let record = ShimRecord {
            instance_id: instance_id.clone(),
            pid: peer.pid,
            uid: peer.uid,
            gid: peer.gid,
            process,
            client,
            directories,
            settings,
            requested,
            config_hash,
            connected_at: now,
            last_heartbeat: now,
            responsive: true,
            transport: Transport::Socket,
        };
        shims.insert(instance_id.clone(), record);
        drop(shims);
        self.changed.notify_one();
        Registration {
            registry: Arc::clone(self),
            instance_id,
        }
    }

    /// Adds an HTTP session under `instance_id` (unique: the HTTP server numbers its sessions);
    /// it stays until the returned registration is dropped.
    pub fn register_http(
        self: &Arc<Self>,
        instance_id: String,
        peer: SocketAddr,
        directories: Vec<PathBuf>,
        settings: Settings,
    ) -> Registration {
        let now = SystemTime::now();
        let record = ShimRecord {
            instance_id: instance_id.clone(),
            pid: 0,
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
            process: None,
            client: None,
            config_hash: settings.hash(&directories),
            directories,
            settings,
            requested: Vec::new(),
            connected_at: now,
            last_heartbeat: now,
            responsive: true,
            transport: Transport::Http(peer),
        };
        self.lock().insert(instance_id.clone(), record);
        self.changed.notify_one();
        Registration {
            registry: Arc::clone(self),
            instance_id,
        }
    }

    /// Completes when a client joined or left since the last call (one waiter at a time).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// The pid of a shim, from the kernel; `None` for an HTTP session or an unknown id.
    pub fn pid(&self, instance_id: &str) -> Option<u32> {
        let shims = self.lock();
        let record = shims.get(instance_id)?;
        (record.transport == Transport::Socket).then_some(record.pid)
    }

    /// Replaces the settings of every shim for which `settle` gives new ones (and their hash).
    pub fn resettle(&self, settle: impl Fn(&ShimRecord) -> Option<Settings>) {
        for record in self.lock().values_mut() {
            if let Some(settings) = settle(record) {
                record.config_hash = settings.hash(&record.directories);
                record.settings = settings;
            }
        }
    }

    /// Records an answered heartbeat.
    pub fn heartbeat(&self, instance_id: &str) {
        if let Some(record) = self.lock().get_mut(instance_id) {
            record.last_heartbeat = SystemTime::now();
            record.responsive = true;
        }
    }

    /// Marks a shim that missed its heartbeats.
    pub fn mark_unresponsive(&self, instance_id: &str) {
        if let Some(record) = self.lock().get_mut(instance_id) {
            record.responsive = false;
        }
    }

    /// One shim's record.
    pub fn get(&self, instance_id: &str) -> Option<ShimRecord> {
        self.lock().get(instance_id).cloned()
    }

    /// Every connected shim, by id.
    pub fn shims(&self) -> Vec<ShimRecord> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ShimRecord>> {
        self.shims
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

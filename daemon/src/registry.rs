//! The connected shims, one record per live connection.
//!
//! A record lives exactly as long as its connection: the connection task holds a
//! [`Registration`] and dropping it (the shim exited, was killed, or broke the protocol) removes
//! the record at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// One connected shim.
#[derive(Debug, Clone)]
pub struct ShimRecord {
    /// The connection's id, e.g. `shim-4242-1`.
    pub instance_id: String,
    /// The shim's pid, from the kernel.
    pub pid: u32,
    /// The shim's uid, from the kernel.
    pub uid: u32,
    /// Its directories, canonical.
    pub directories: Vec<PathBuf>,
    /// When it connected.
    pub connected_at: SystemTime,
}

/// Every connected shim.
#[derive(Default)]
pub struct Registry {
    shims: Mutex<BTreeMap<String, ShimRecord>>,
    connections: AtomicU64,
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
    }
}

impl Registry {
    /// Adds a shim; it stays until the returned registration is dropped.
    pub fn register(
        self: &Arc<Self>,
        pid: u32,
        uid: u32,
        directories: Vec<PathBuf>,
    ) -> Registration {
        let serial = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let instance_id = format!("shim-{pid}-{serial}");
        let record = ShimRecord {
            instance_id: instance_id.clone(),
            pid,
            uid,
            directories,
            connected_at: SystemTime::now(),
        };
        self.lock().insert(instance_id.clone(), record);
        Registration {
            registry: Arc::clone(self),
            instance_id,
        }
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

//! SIGHUP (`systemctl reload ozmd`): the config file read again and every known directory
//! rescanned, without dropping a session.
//!
//! New settings apply from the reload on: new shims get them, `ozm config` and the management
//! tools show them, and each live shim's daemon-wide values it did not ask for follow the
//! daemon's. A live session keeps its own per-session values (tool mode, content limits). The
//! cache of rendered articles is made anew when its size or lifetime changed (it cannot be
//! resized), so it starts empty; the cluster cache has a fixed size. The HTTP listeners and the
//! flags (socket, cache directory, index builds) stay as they were at start: they change with a
//! restart. A broken file changes nothing, and the log says why. Reloads run one at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::config::{self, DaemonConfig};
use crate::registry::Transport;
use crate::rendered::RenderedCache;
use crate::server::{Daemon, shim_settings};
use crate::settings::Settings;

/// Told `true` as a reload starts and `false` when it is done, for systemd's `RELOADING=1` and
/// `READY=1`.
pub type Hook = Arc<dyn Fn(bool) + Send + Sync>;

/// Reloads on every SIGHUP until the task is aborted.
pub fn on_hangup(daemon: Arc<Daemon>, hook: Option<Hook>) -> JoinHandle<()> {
    // Installed before the task runs, so a SIGHUP right after start reloads rather than kills.
    let hangups = signal(SignalKind::hangup());
    tokio::spawn(async move {
        let mut hangups = match hangups {
            Ok(hangups) => hangups,
            Err(error) => {
                error!(%error, "cannot install the SIGHUP handler; reloads need a restart");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            debug!("SIGHUP received: reloading");
            if let Some(hook) = &hook {
                hook(true);
            }
            reload(&daemon).await;
            if let Some(hook) = &hook {
                hook(false);
            }
        }
    })
}

/// Reads the config file again, applies what changed, rescans, and logs one line saying what
/// changed.
pub async fn reload(daemon: &Arc<Daemon>) {
    let source = daemon.config_file.clone();
    let loaded = tokio::task::spawn_blocking(move || config::load(source.as_ref())).await;
    let settings_changed = match loaded {
        Ok(Ok(loaded)) => {
            for warning in &loaded.warnings {
                warn!(warning, "config file");
            }
            apply(daemon, loaded.config)
        }
        Ok(Err(broken)) => {
            error!(reason = %broken, "config file not reloaded: the previous settings stay");
            Vec::new()
        }
        Err(failed) => {
            error!(error = %failed, "reading the config file failed: the previous settings stay");
            Vec::new()
        }
    };
    let rescan = daemon.library.rescan().await;
    info!(added = ?names(&rescan.added), removed = ?names(&rescan.removed),
        replaced = ?names(&rescan.replaced), settings = ?settings_changed, "reloaded");
}

/// Puts `new` in effect; returns the names of the settings that changed.
fn apply(daemon: &Daemon, new: DaemonConfig) -> Vec<String> {
    let old = daemon.settings.get();
    let mut changed = differences(&old.settings, &new.settings);
    if old.roots != new.roots {
        changed.push("roots".into());
    }
    if old.http != new.http {
        warn!("the HTTP settings changed: they apply when ozmd restarts");
        changed.push("http".into());
    }
    let (before, after) = (Arc::clone(&old.settings), Arc::clone(&new.settings));
    daemon.settings.replace(new);
    if changed.is_empty() {
        return changed;
    }

    if before.logging_level != after.logging_level {
        let level = serde_json::to_value(after.logging_level).unwrap_or_default();
        if let Err(reason) = crate::logging::set_level(level.as_str().unwrap_or("INFO")) {
            warn!(reason, "the log level could not be changed");
        }
    }
    let cache = |s: &Settings| {
        let bounds = (s.cache_max_bytes, s.cache_max_size, s.cache_ttl_seconds);
        (s.cache_enabled, bounds)
    };
    if cache(&before) != cache(&after) {
        let replaced = daemon.library.rendered();
        let rendered = RenderedCache::from_settings(&after).counting_on(&replaced);
        daemon.library.replace_rendered(rendered);
    }
    // A shim's daemon-wide values it did not name were the daemon's: they follow them. An HTTP
    // session took all of the daemon's; its per-session values stay as its session has them.
    daemon.registry.resettle(|record| match record.transport {
        Transport::Socket => shim_settings(&record.requested, &after).ok(),
        Transport::Http(_) => Some(Settings {
            cache_enabled: after.cache_enabled,
            cache_max_size: after.cache_max_size,
            cache_max_bytes: after.cache_max_bytes,
            cache_ttl_seconds: after.cache_ttl_seconds,
            ..record.settings.clone()
        }),
    });
    changed
}

/// The names of the settings whose values differ.
fn differences(old: &Settings, new: &Settings) -> Vec<String> {
    let fields = |settings: &Settings| match serde_json::to_value(settings) {
        Ok(Value::Object(fields)) => fields.into_iter().collect::<BTreeMap<_, _>>(),
        _ => BTreeMap::new(),
    };
    let new = fields(new);
    fields(old)
        .into_iter()
        .filter(|(name, value)| new.get(name) != Some(value))
        .map(|(name, _)| name)
        .collect()
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect()
}

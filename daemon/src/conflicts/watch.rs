//! The conflict watch: a task that looks for conflicts whenever a client joins or leaves, and
//! every [`CHECK_INTERVAL`] otherwise (an AI client dying or a Python server's instance file
//! appearing tells the daemon nothing), so that the log says when each conflict is found and when
//! it is settled, once each, and the metrics show how many there are.
//!
//! It sees what the operator sees (`ozm diagnose`): every conflict at the daemon's own detection
//! level. The work reads `/proc` and the tracking directory, so it runs off the runtime's threads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tracing::{info, warn};

use super::Conflict;
use crate::instances::Caller;
use crate::metrics;
use crate::server::Daemon;

/// How often conflicts are looked for when no client joins or leaves.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Watches until the daemon stops.
pub async fn watch(daemon: Arc<Daemon>) {
    let mut known: BTreeMap<String, Conflict> = BTreeMap::new();
    loop {
        let checked = Arc::clone(&daemon);
        let found = tokio::task::spawn_blocking(move || {
            checked.report(Caller::service(), |view| view.conflicts())
        })
        .await
        .unwrap_or_default();
        let now: BTreeMap<String, Conflict> = found
            .into_iter()
            .map(|conflict| (key(&conflict), conflict))
            .collect();
        for conflict in now
            .iter()
            .filter(|(k, _)| !known.contains_key(*k))
            .map(|(_, c)| c)
        {
            log_found(conflict);
        }
        for conflict in known
            .iter()
            .filter(|(k, _)| !now.contains_key(*k))
            .map(|(_, c)| c)
        {
            log_settled(conflict);
        }
        let mut by_kind: BTreeMap<&str, i64> = BTreeMap::new();
        for conflict in now.values() {
            *by_kind.entry(conflict.kind).or_default() += 1;
        }
        metrics::set_conflicts(&by_kind);
        known = now;

        tokio::select! {
            () = daemon.shutdown.cancelled() => return,
            () = daemon.registry.changed() => {}
            () = tokio::time::sleep(CHECK_INTERVAL) => {}
        }
    }
}

/// What names one conflict across checks: its kind and its two sides, in either order.
fn key(conflict: &Conflict) -> String {
    let mut sides = [
        side(&conflict.instance),
        conflict.with.as_ref().and_then(side),
    ];
    sides.sort();
    let [a, b] = sides;
    format!(
        "{} {} {}",
        conflict.kind,
        a.unwrap_or_default(),
        b.unwrap_or_default()
    )
}

/// One side of a conflict in a word: a shim's instance id, a Python server's instance file.
fn side(described: &Value) -> Option<String> {
    ["instance_id", "instance_file", "pid"]
        .iter()
        .find_map(|field| match &described[*field] {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(format!("pid {number}")),
            _ => None,
        })
}

/// The settings that differ, as `name: this vs other (daemon uses …)`.
fn differences(conflict: &Conflict) -> Option<String> {
    let each: Vec<String> = conflict
        .differences
        .iter()
        .map(|difference| {
            format!(
                "{}: {} vs {} (daemon uses {})",
                difference["setting"].as_str().unwrap_or_default(),
                difference["this_instance"].as_str().unwrap_or_default(),
                difference["other_instance"].as_str().unwrap_or_default(),
                difference["daemon_uses"].as_str().unwrap_or_default()
            )
        })
        .collect();
    (!each.is_empty()).then(|| each.join("; "))
}

/// A new conflict: a high one (settings that differ, a strict-mode orphan) is a warning, the
/// rest (a second instance over the same directories, a stale file) information.
fn log_found(conflict: &Conflict) {
    let (kind, severity, details) = (conflict.kind, conflict.severity, &conflict.details);
    let (instance, other) = sides(conflict);
    let differs = differences(conflict);
    if severity == "high" {
        warn!(
            kind,
            severity, instance, other, differs, details, "conflict found"
        );
    } else {
        info!(
            kind,
            severity, instance, other, differs, details, "conflict found"
        );
    }
}

fn log_settled(conflict: &Conflict) {
    let (instance, other) = sides(conflict);
    info!(kind = conflict.kind, instance, other, "conflict settled");
}

/// The two instances of a conflict as the log names them: the one it was found from, and the
/// other side when there is one.
fn sides(conflict: &Conflict) -> (Option<String>, Option<String>) {
    let instance = conflict
        .with
        .as_ref()
        .and_then(side)
        .or_else(|| side(&conflict.instance));
    let other = conflict.with.as_ref().and(side(&conflict.instance));
    (instance, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conflict(instance: Value, with: Option<Value>) -> Conflict {
        Conflict {
            kind: "multiple_instances",
            severity: "info",
            instance,
            with,
            details: String::new(),
            differences: Vec::new(),
        }
    }

    #[test]
    fn a_pair_is_the_same_conflict_seen_from_either_side() {
        let a = json!({"instance_id": "server_1", "pid": 1});
        let b = json!({"instance_id": "server_2", "pid": 2});
        let one = conflict(a.clone(), Some(b.clone()));
        let other = conflict(b, Some(a));
        assert_eq!(key(&one), key(&other));
        assert_eq!(key(&one), "multiple_instances server_1 server_2");
    }

    #[test]
    fn a_stale_file_is_named_by_its_path() {
        let file = json!({"pid": 7, "instance_file": "/home/u/.openzim_mcp_instances/x.json"});
        let stale = conflict(file, None);
        assert_eq!(
            side(&stale.instance).unwrap(),
            "/home/u/.openzim_mcp_instances/x.json"
        );
    }
}

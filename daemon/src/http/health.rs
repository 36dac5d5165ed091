//! The endpoints a supervisor or a monitoring system reads: `/healthz` (the process answers),
//! `/readyz` (it can serve `/mcp`), `/health/instances` (the registry, as `ozm status --json`
//! shows it) and `/metrics` (Prometheus text).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::HttpState;
use crate::metrics;
use crate::registry::Transport;

/// `{"status":"ok"}` while the process answers at all.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `{"status":"ready"}`, or 503 with `not_ready` and the reason.
pub async fn readyz(State(state): State<HttpState>) -> Response {
    match not_ready(&state).await {
        None => Json(json!({"status": "ready"})).into_response(),
        Some(reason) => {
            let body = json!({"status": "not_ready", "reason": reason});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// Why the daemon cannot serve now. A listener without `/mcp` is ready while the daemon runs;
/// with `/mcp`, it needs directories, one of them readable, and their archives found.
async fn not_ready(state: &HttpState) -> Option<String> {
    if state.daemon.shutdown.is_cancelled() {
        return Some("ozmd is stopping".into());
    }
    // Without /mcp there is nothing more to wait for.
    state.mcp.as_ref()?;
    let directories = &state.settings.directories;
    if directories.is_empty() {
        return Some(super::NO_DIRECTORIES.into());
    }
    let mut readable = false;
    for directory in directories {
        readable |= tokio::fs::read_dir(directory).await.is_ok();
    }
    if !readable {
        let names: Vec<String> = directories
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Some(format!(
            "none of the directories can be read: {}",
            names.join(", ")
        ));
    }
    if !state.scanned.initialized() {
        return Some("the directories are being scanned for archives".into());
    }
    None
}

/// Every connected instance, as `ozm status --json` lists them, with its transport (and an
/// HTTP session's address).
pub async fn instances(State(state): State<HttpState>) -> Response {
    let daemon = Arc::clone(&state.daemon);
    let listed = tokio::task::spawn_blocking(move || {
        let report = crate::operator::status_report(&daemon);
        let records = daemon.registry.shims();
        let instances: Vec<Value> = report
            .shims
            .into_iter()
            .map(|shim| {
                let transport = records
                    .iter()
                    .find(|record| record.instance_id == shim.instance_id)
                    .map(|record| record.transport);
                let mut value = serde_json::to_value(&shim).unwrap_or_default();
                value["transport"] = json!(transport.map_or("socket", |t| t.name()));
                if let Some(Transport::Http(peer)) = transport {
                    value["peer"] = json!(peer.to_string());
                }
                value
            })
            .collect();
        json!({"count": instances.len(), "instances": instances})
    })
    .await;
    match listed {
        Ok(listed) => Json(listed).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the report failed").into_response(),
    }
}

/// The metrics, in Prometheus text format 0.0.4.
pub async fn metrics(State(state): State<HttpState>) -> Response {
    let daemon = Arc::clone(&state.daemon);
    match tokio::task::spawn_blocking(move || metrics::encode(&daemon)).await {
        Ok(text) => ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the metrics failed").into_response(),
    }
}

//! The daemon's HTTP side: streamable HTTP MCP at `/mcp` (`OPENZIM_MCP_TRANSPORT=http`), and
//! `/healthz`, `/readyz`, `/health/instances` and `/metrics` beside it, or on a listener of their
//! own (`OPENZIM_MCP_METRICS__ENABLED`, on `HOST:METRICS__PORT`) when `/mcp` is off.
//!
//! [`start`] is called once by the server, with the shared daemon. Listeners stop when the
//! daemon does. The settings were checked when ozmd started (it refuses an exposed listener
//! without a token). A port that cannot be bound (another program holds it) is logged as an
//! error and tried again every [`RETRY_EVERY`] until it can be, while the socket keeps serving;
//! `ozm status` and systemd's status line show the listener as waiting, with why.
//!
//! HTTP sessions serve the directories of `OPENZIM_MCP_ALLOWED_DIRECTORIES` (ozmd's environment),
//! with ozmd's own settings. The listeners keep the settings they started with: changing them
//! takes a restart.

mod auth;
mod body;
mod connections;
mod health;
mod mcp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::OnceCell;
use tracing::{error, info, warn};

use crate::server::Daemon;
use crate::settings::HttpSettings;

/// Why `/mcp` refuses sessions and `/readyz` is not ready when no directory is configured.
const NO_DIRECTORIES: &str = "no directories to serve over HTTP: set \
    OPENZIM_MCP_ALLOWED_DIRECTORIES in ozmd's environment (a comma-separated list or a JSON \
    array) and restart ozmd";

/// How often a port that could not be bound is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// The listeners, for `ozm status`.
static LISTENERS: Mutex<Listeners> = Mutex::new(Listeners {
    bound: Vec::new(),
    waiting: Vec::new(),
});

struct Listeners {
    /// The addresses listened on, and whether each serves `/mcp`.
    bound: Vec<(SocketAddr, bool)>,
    /// Those whose port could not be bound yet.
    waiting: Vec<Waiting>,
}

/// A listener whose port could not be bound yet.
#[derive(Clone)]
pub struct Waiting {
    pub address: SocketAddr,
    /// Whether it is to serve `/mcp`.
    pub mcp: bool,
    /// Why the last attempt failed.
    pub reason: String,
}

/// What every request handler shares.
#[derive(Clone)]
struct HttpState {
    daemon: Arc<Daemon>,
    settings: Arc<HttpSettings>,
    /// `/mcp`, on the listener that serves it.
    mcp: Option<mcp::McpHttpService>,
    /// Set once the directories of HTTP sessions have been scanned for archives.
    scanned: Arc<OnceCell<()>>,
}

/// Starts the HTTP listeners the daemon's settings ask for.
pub async fn start(daemon: &Arc<Daemon>) {
    let config = daemon.settings.get();
    if !config.http.any() {
        return;
    }
    let mut settings = config.http.clone();
    if settings.directories.is_empty() {
        settings.directories = existing(&config.roots);
    }
    let settings = Arc::new(settings);
    if settings.auth_token.is_none() && !settings.host.is_loopback() {
        warn!(host = %settings.host, "HTTP serves an address other than loopback without a \
            token (OPENZIM_MCP_INSECURE_DISABLE_AUTH): anyone who reaches it may use it");
    }
    let scanned = Arc::new(OnceCell::new());
    let state = |mcp| HttpState {
        daemon: Arc::clone(daemon),
        settings: Arc::clone(&settings),
        mcp,
        scanned: Arc::clone(&scanned),
    };
    let shared_port = settings.metrics_port == settings.port && settings.port != 0;
    if settings.mcp {
        let with_mcp = state(Some(mcp::service(daemon, &settings)));
        if !settings.directories.is_empty() {
            tokio::spawn(scan(with_mcp.clone()));
        }
        listen(with_mcp, settings.port, "HTTP").await;
    }
    if settings.metrics && !(settings.mcp && shared_port) {
        listen(state(None), settings.metrics_port, "metrics").await;
    }
}

/// The roots that are directories now, canonical.
fn existing(roots: &[PathBuf]) -> Vec<PathBuf> {
    let canonical = roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok());
    canonical.filter(|root| root.is_dir()).collect()
}

/// The addresses the daemon listens on for HTTP, and whether each serves `/mcp`.
pub fn listening() -> Vec<(SocketAddr, bool)> {
    listeners().bound.clone()
}

/// The listeners whose port could not be bound yet.
pub fn waiting() -> Vec<Waiting> {
    listeners().waiting.clone()
}

fn listeners() -> std::sync::MutexGuard<'static, Listeners> {
    LISTENERS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
}

/// Binds `port` on the configured host and serves `state`'s routes there until the daemon stops;
/// a port that cannot be bound is tried again in the background.
async fn listen(state: HttpState, port: u16, what: &'static str) {
    let address = SocketAddr::new(state.settings.host, port);
    match TcpListener::bind(address).await {
        Ok(listener) => serve(state, listener, what),
        Err(error) => {
            let reason = unbound(&error, address);
            error!(%address, error = reason, "cannot listen for {what}; trying again every {} s",
                RETRY_EVERY.as_secs());
            let mcp = state.mcp.is_some();
            listeners().waiting.push(Waiting {
                address,
                mcp,
                reason,
            });
            tokio::spawn(async move {
                if let Some(listener) = bind_when_free(&state, address).await {
                    serve(state, listener, what);
                }
            });
        }
    }
}

/// Tries to bind `address` every [`RETRY_EVERY`] until it can, or the daemon stops (`None`).
async fn bind_when_free(state: &HttpState, address: SocketAddr) -> Option<TcpListener> {
    let stopped = state.daemon.shutdown.clone();
    loop {
        tokio::select! {
            () = stopped.cancelled() => return None,
            () = tokio::time::sleep(RETRY_EVERY) => {}
        }
        let attempt = TcpListener::bind(address).await;
        let waiting = &mut listeners().waiting;
        match attempt {
            Ok(listener) => {
                waiting.retain(|asked| asked.address != address);
                return Some(listener);
            }
            Err(error) => {
                let mine = waiting.iter_mut().filter(|asked| asked.address == address);
                mine.for_each(|asked| asked.reason = unbound(&error, address));
            }
        }
    }
}

/// Why `address` could not be bound, with what to do when the error alone does not say it.
/// Each is tried again all the same: an address may be given to the machine later (ozmd may
/// start before the network), and the lowest unprivileged port may be lowered.
fn unbound(error: &std::io::Error, address: SocketAddr) -> String {
    use std::io::ErrorKind;
    let hint = match error.kind() {
        ErrorKind::AddrInUse => "another program holds the port".to_owned(),
        ErrorKind::AddrNotAvailable => format!(
            "{} is not an address of this machine (yet): check OPENZIM_MCP_HOST",
            address.ip()
        ),
        ErrorKind::PermissionDenied if address.port() < 1024 => {
            "a port below 1024 takes root or CAP_NET_BIND_SERVICE: choose a port from 1024"
                .to_owned()
        }
        _ => return error.to_string(),
    };
    format!("{error}; {hint}")
}

/// Serves `state`'s routes on `listener` until the daemon stops.
fn serve(state: HttpState, listener: TcpListener, what: &'static str) {
    let bound = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::new(state.settings.host, 0));
    let serves_mcp = state.mcp.is_some();
    info!(address = %bound, mcp = serves_mcp, token = state.settings.token_required(),
        "{what} listening on {bound}");
    listeners().bound.push((bound, serves_mcp));
    let stopped = state.daemon.shutdown.clone().cancelled_owned();
    let app = routes(state).into_make_service_with_connect_info::<connections::Peer>();
    let listener = connections::Listener::new(listener);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            error!(address = %bound, %error, "{what} listener failed");
        }
    });
}

/// `/healthz` and `/readyz` for anyone; the rest behind the token and the `Host` check. Every
/// request keeps its connection from being closed as idle while it is answered.
fn routes(state: HttpState) -> Router {
    let mut guarded = Router::new()
        .route("/health/instances", get(health::instances))
        .route("/metrics", get(health::metrics));
    if state.mcp.is_some() {
        guarded = guarded
            .route("/mcp", any(serve_mcp))
            .route("/mcp/", any(serve_mcp));
    }
    let guarded = guarded.layer(middleware::from_fn_with_state(state.clone(), auth::guard));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(guarded)
        .layer(middleware::from_fn(connections::track))
        .with_state(state)
}

/// Scans the directories of HTTP sessions, once; sessions wait for it, so they see every archive.
async fn scan(state: HttpState) {
    state
        .scanned
        .get_or_init(|| async {
            let directories = &state.settings.directories;
            state.daemon.library.add_directories(directories).await;
            info!(directories = ?directories, "directories of HTTP sessions scanned");
        })
        .await;
}

/// `/mcp`: refused with the reason when there is nothing to serve or the body is not one
/// JSON-RPC message, else handed to rmcp once the directories are scanned. A refusal is logged
/// with its reason, rmcp's included (a client that accepts no event stream, a session that has
/// ended), so the log says why a client fails.
async fn serve_mcp(State(state): State<HttpState>, request: Request) -> Response {
    let peer = connections::peer_of(&request);
    let path = request.uri().path().chars().take(100).collect::<String>();
    let answer = match &state.mcp {
        _ if state.settings.directories.is_empty() => {
            let error = json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32603, "message": NO_DIRECTORIES}});
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(error)).into_response()
        }
        Some(service) => match body::checked(request).await {
            Ok(request) => {
                scan(state.clone()).await;
                service.handle(request).await.into_response()
            }
            Err(refusal) => refusal,
        },
        None => StatusCode::NOT_FOUND.into_response(),
    };
    if !answer.status().is_client_error() && !answer.status().is_server_error() {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    // Refusals are a line or a JSON-RPC error; their text is the reason.
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let reason: String = String::from_utf8_lossy(&text)
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    let status = parts.status.as_u16();
    warn!(peer, path, status, reason, "HTTP request refused");
    Response::from_parts(parts, text.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_port_that_cannot_be_bound_says_what_to_do() {
        let address = |text: &str| text.parse::<SocketAddr>().unwrap();
        let why = |kind, at| unbound(&Error::from(kind), address(at));
        assert!(why(ErrorKind::AddrInUse, "127.0.0.1:8000").ends_with("holds the port"));
        let elsewhere = why(ErrorKind::AddrNotAvailable, "192.0.2.1:8000");
        assert!(
            elsewhere.ends_with(
                "192.0.2.1 is not an address of this machine (yet): check \
            OPENZIM_MCP_HOST"
            ),
            "{elsewhere}"
        );
        let low = why(ErrorKind::PermissionDenied, "127.0.0.1:80");
        assert!(low.contains("CAP_NET_BIND_SERVICE"), "{low}");
        let other = why(ErrorKind::PermissionDenied, "127.0.0.1:8000");
        assert_eq!(other, Error::from(ErrorKind::PermissionDenied).to_string());
    }
}

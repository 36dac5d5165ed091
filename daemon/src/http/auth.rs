//! Who may use the guarded endpoints (`/mcp`, `/health/instances`, `/metrics`): a caller that
//! presents the bearer token when one is set, naming an allowed host in its `Host` header.
//!
//! Without a token only a loopback listener runs (the settings refuse anything else unless the
//! operator declared it insecure). The `Host` check keeps a web page from reaching a loopback
//! listener through a name that resolves to 127.0.0.1 (DNS rebinding): loopback names are
//! allowed, and the operator's `OPENZIM_MCP_ALLOWED_HOSTS`. rmcp checks `/mcp` the same way.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::warn;

use super::HttpState;

/// Host names every listener accepts.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Lets a request through, or answers 401 (no or wrong token) or 403 (a host not allowed).
pub async fn guard(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.to_string())
        .unwrap_or_default();
    let path = request.uri().path().chars().take(100).collect::<String>();
    if let Some(token) = &state.settings.auth_token {
        let presented = bearer(request.headers());
        if !presented.is_some_and(|presented| token.matches(presented)) {
            let reason = if presented.is_some() {
                "wrong bearer token"
            } else {
                "no bearer token"
            };
            warn!(peer, path, reason, "HTTP request refused");
            let body = json!({"error": "unauthorized", "message": format!(
                "{reason}: send `Authorization: Bearer <token>` with the token set in \
                 OPENZIM_MCP_AUTH_TOKEN")});
            let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
            let challenge = axum::http::HeaderValue::from_static("Bearer realm=\"ozm\"");
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            return response;
        }
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok());
    if !host.is_some_and(|host| host_allowed(host, &state.settings.allowed_hosts)) {
        let host = host
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect::<String>();
        warn!(
            peer,
            path, host, "HTTP request refused: Host header not allowed"
        );
        let body = json!({"error": "forbidden", "message": format!(
            "Host {host:?} is not allowed: add it to OPENZIM_MCP_ALLOWED_HOSTS in ozmd's \
             environment")});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| token.trim_ascii())
}

/// Whether a `Host` header names a loopback host or an allowed one: an allowed entry without a
/// port matches any port, one with a port only that port.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let (name, _port) = split_host(host);
    let exact = |entry: &str| entry.eq_ignore_ascii_case(host);
    let by_name = |entry: &str| !entry.contains(':') && entry.eq_ignore_ascii_case(name);
    LOOPBACK_HOSTS.contains(&name.to_ascii_lowercase().as_str())
        || allowed.iter().any(|entry| exact(entry) || by_name(entry))
}

/// `host:port`, `[v6]:port` or a bare host, as (host, port).
fn split_host(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (name, after.strip_prefix(':'));
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_allowed_hosts_pass() {
        let allowed = vec!["wiki.lan".to_owned(), "ozm.lan:8000".to_owned()];
        for host in [
            "127.0.0.1:8000",
            "localhost",
            "[::1]:9",
            "LOCALHOST:1",
            "wiki.lan:80",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        assert!(host_allowed("ozm.lan:8000", &allowed));
        for host in [
            "ozm.lan:8001",
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some(b"abc".as_slice()));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}

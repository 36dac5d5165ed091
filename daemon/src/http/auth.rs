//! Who may use the guarded endpoints (`/mcp`, `/health/instances`, `/metrics`): a caller that
//! presents the bearer token when one is set, naming an allowed host in its `Host` header, and
//! in its `Origin` header when it sends one.
//!
//! Without a token only a loopback listener runs (the settings refuse anything else unless the
//! operator declared it insecure). The `Host` check keeps a web page from reaching a loopback
//! listener through a name that resolves to 127.0.0.1 (DNS rebinding): loopback names and
//! addresses are allowed, and the operator's `OPENZIM_MCP_ALLOWED_HOSTS`. The `Origin` check,
//! which MCP asks of every server, keeps a page of another site from calling `/mcp` through the
//! visitor's browser. These checks are the only ones: rmcp's own `Host` check is off.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::warn;

use super::HttpState;

/// Host names every listener accepts.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Lets a request through, or answers 401 (no or wrong token) or 403 (a host or an origin not
/// allowed).
pub async fn guard(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let peer = super::connections::peer_of(&request);
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
    let allowed = &state.settings.allowed_hosts;
    if let Some((header, value)) = refused_header(request.headers(), allowed) {
        let value: String = value.chars().take(100).collect();
        let reason = format!("{header} header not allowed");
        warn!(peer, path, reason, value, "HTTP request refused");
        let body = json!({"error": "forbidden", "message": format!(
            "{header} {value:?} is not allowed: add its host to OPENZIM_MCP_ALLOWED_HOSTS in \
             ozmd's environment")});
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

/// The `Host` header when it names no allowed host (or is missing), else the `Origin` header
/// when one is sent for another site, with its value.
fn refused_header<'a>(
    headers: &'a HeaderMap,
    allowed: &[String],
) -> Option<(&'static str, &'a str)> {
    let text = |name| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("(not text)"))
    };
    let host = text(HOST);
    if !host.is_some_and(|host| host_allowed(host, allowed)) {
        return Some(("Host", host.unwrap_or_default()));
    }
    let origin = text(ORIGIN)?;
    (!origin_allowed(origin, allowed)).then_some(("Origin", origin))
}

/// Whether a `Host` header names a loopback host or an allowed one: an allowed entry without a
/// port matches any port, one with a port only that port.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let (name, _port) = split_host(host);
    let exact = |entry: &str| entry.eq_ignore_ascii_case(host);
    let by_name = |entry: &str| !entry.contains(':') && entry.eq_ignore_ascii_case(name);
    let loopback_address = name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    loopback_address
        || LOOPBACK_HOSTS.contains(&name.to_ascii_lowercase().as_str())
        || allowed.iter().any(|entry| exact(entry) || by_name(entry))
}

/// Whether an `Origin` (`scheme://host[:port]`) is a page of an allowed host; `null` (a sandboxed
/// or local page) is not.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_scheme, host)| !host.contains('/') && host_allowed(host, allowed))
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
            "127.0.0.2:8000",
            "[::1]",
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
            "10.0.0.1:8000",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }

    #[test]
    fn only_origins_of_allowed_hosts_pass() {
        let allowed = vec!["wiki.lan".to_owned()];
        for origin in [
            "http://localhost:6274",
            "https://wiki.lan",
            "http://127.0.0.1",
        ] {
            assert!(origin_allowed(origin, &allowed), "{origin}");
        }
        for origin in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
            "http://evil.example/localhost",
            "",
        ] {
            assert!(!origin_allowed(origin, &allowed), "{origin}");
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

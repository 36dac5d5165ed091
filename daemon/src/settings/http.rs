//! The daemon's HTTP settings, read from ozmd's own environment with the Python server's names:
//! whether `/mcp` is served (`TRANSPORT=http`), where (`HOST`, `PORT`), who may call it
//! (`AUTH_TOKEN`, `INSECURE_DISABLE_AUTH`, `ALLOWED_HOSTS`), which directories its sessions serve
//! (`ALLOWED_DIRECTORIES`), and the listener of metrics and health alone (`METRICS__ENABLED`,
//! `METRICS__PORT`).
//!
//! They belong to the daemon: a shim's values for them are ignored, since its session runs on
//! the socket. A listener on an address other than loopback without a token is refused here,
//! before anything is bound, so ozmd never starts exposed by mistake.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::{Given, SettingError, boolean, key_of};

/// The keys only the daemon reads, from its own environment (shims' values are ignored).
pub(super) const DAEMON_ONLY: &str = "transport host port auth_token insecure_disable_auth \
    allowed_hosts allowed_directories metrics__enabled metrics__port";

/// Where metrics and health are served when `METRICS__PORT` is not given.
pub const DEFAULT_METRICS_PORT: u16 = 9464;

/// The HTTP listeners the daemon runs, and who may use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `TRANSPORT=http`: `/mcp` is served on `host:port`; `stdio` (the default) serves none.
    pub mcp: bool,
    /// `HOST`: the address listened on, default 127.0.0.1 (an IP address, or `localhost`).
    pub host: IpAddr,
    /// `PORT`: the port of `/mcp`, default 8000; 0 lets the kernel choose (the log says which).
    pub port: u16,
    /// `AUTH_TOKEN`: the bearer token callers must present, when set.
    pub auth_token: Option<AuthToken>,
    /// `INSECURE_DISABLE_AUTH`: serve an address other than loopback without a token.
    pub insecure_disable_auth: bool,
    /// `ALLOWED_HOSTS`: `Host` header values accepted beside the loopback names.
    pub allowed_hosts: Vec<String>,
    /// `ALLOWED_DIRECTORIES`: what HTTP sessions serve, canonical.
    pub directories: Vec<PathBuf>,
    /// `METRICS__ENABLED`: metrics and health on a listener of their own.
    pub metrics: bool,
    /// `METRICS__PORT`: its port, default [`DEFAULT_METRICS_PORT`].
    pub metrics_port: u16,
}

/// A bearer token; it is never printed, and compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(String);

impl std::fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthToken(…)")
    }
}

impl AuthToken {
    /// Whether `presented` is this token. Both are hashed first, so the comparison takes the
    /// same time whatever their lengths and wherever they first differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented);
        let differing = expected
            .iter()
            .zip(presented.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        differing == 0
    }
}

impl HttpSettings {
    /// Reads the HTTP settings from `vars` (the daemon's `OPENZIM_MCP_*` variables); every bad
    /// value is reported.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, Vec<SettingError>> {
        let mut given = Given::default();
        let mut sorted: Vec<_> = vars.iter().collect();
        sorted.sort();
        for (name, value) in sorted {
            let key = key_of(name).filter(|key| DAEMON_ONLY.split_whitespace().any(|k| k == key));
            if let Some(key) = key {
                given.insert(key, name, value.trim());
            }
        }
        let token_given = given.values.contains_key("auth_token");
        let settings = HttpSettings {
            mcp: given.get("transport", "stdio", transport),
            // A refused host is reported; the loopback stands in until the errors are read.
            host: given
                .get("host", "127.0.0.1", |value| host(value).map(Some))
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: given.get("port", "8000", port),
            auth_token: if token_given {
                given.get("auth_token", "", token)
            } else {
                None
            },
            insecure_disable_auth: given.get("insecure_disable_auth", "false", boolean),
            allowed_hosts: given.get("allowed_hosts", "", allowed_hosts),
            directories: given.get("allowed_directories", "", directories),
            metrics: given.get("metrics__enabled", "false", boolean),
            metrics_port: given.get("metrics__port", &DEFAULT_METRICS_PORT.to_string(), port),
        };
        if settings.exposed_without_token() {
            given.errors.push(SettingError {
                variable: "OPENZIM_MCP_HOST".into(),
                value: settings.host.to_string(),
                expected: "a loopback address (127.0.0.1, ::1) unless OPENZIM_MCP_AUTH_TOKEN \
                           is set: callers from other machines must present a token (or set \
                           OPENZIM_MCP_INSECURE_DISABLE_AUTH=true to serve without one)"
                    .into(),
            });
        }
        given
            .errors
            .is_empty()
            .then_some(settings)
            .ok_or(given.errors)
    }

    /// Whether any HTTP listener runs.
    pub fn any(&self) -> bool {
        self.mcp || self.metrics
    }

    /// Whether callers must present the token: whenever one is set. Without one, only a
    /// loopback listener (or one the operator declared insecure) runs at all.
    pub fn token_required(&self) -> bool {
        self.auth_token.is_some()
    }

    /// Refuses a listener without a token in system mode (`ozmd --system`), unless declared
    /// insecure: the socket's group decides who may use the system daemon, and every local user
    /// can reach a loopback port, so without a token any of them would get past the group to
    /// `/mcp`, and to `/health/instances`, which lists every user's instances.
    pub fn check_system_mode(&self, system: bool) -> Result<(), String> {
        if !system || !self.any() || self.auth_token.is_some() || self.insecure_disable_auth {
            return Ok(());
        }
        Err(
            "in system mode an HTTP listener (OPENZIM_MCP_TRANSPORT=http or \
             OPENZIM_MCP_METRICS__ENABLED) needs OPENZIM_MCP_AUTH_TOKEN: without it every local \
             user could use /mcp and read /health/instances, bypassing the socket's group; set a \
             token (or OPENZIM_MCP_INSECURE_DISABLE_AUTH=true to accept that)"
                .into(),
        )
    }

    /// A listener on an address other than loopback, with no token, not declared insecure.
    fn exposed_without_token(&self) -> bool {
        self.any()
            && !self.host.is_loopback()
            && self.auth_token.is_none()
            && !self.insecure_disable_auth
    }
}

/// `stdio` (no `/mcp`) or `http`.
fn transport(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "stdio" => Ok(false),
        "http" => Ok(true),
        _ => Err("stdio or http (ozm serves no sse transport; use http)".into()),
    }
}

/// An IP address, or `localhost` for 127.0.0.1: no name is looked up.
fn host(value: &str) -> Result<IpAddr, String> {
    if value.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bracketless = value.trim_start_matches('[').trim_end_matches(']');
    bracketless
        .parse()
        .map_err(|_| "an IP address such as 127.0.0.1, 0.0.0.0 or ::1, or localhost".into())
}

/// A TCP port; 0 lets the kernel choose one.
fn port(value: &str) -> Result<u16, String> {
    let expected = || "a port from 1 to 65535 (or 0 for any free port)".to_owned();
    value.parse().map_err(|_| expected())
}

/// A token of printable ASCII without spaces, as a bearer token must be.
fn token(value: &str) -> Result<Option<AuthToken>, String> {
    let printable = !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic());
    let token = printable.then(|| Some(AuthToken(value.to_owned())));
    token.ok_or_else(|| "a non-blank token of printable ASCII characters without spaces".into())
}

/// Host names (or `host:port`); `*` would switch off the DNS-rebinding protection.
fn allowed_hosts(value: &str) -> Result<Vec<String>, String> {
    let hosts = list(value)?;
    if hosts.iter().any(|host| host.contains('*')) {
        return Err("host names without wildcards (`*` would accept any Host header)".into());
    }
    Ok(hosts)
}

/// Existing directories, made canonical.
fn directories(value: &str) -> Result<Vec<PathBuf>, String> {
    list(value)?
        .iter()
        .map(|dir| match std::fs::canonicalize(dir) {
            Ok(path) if path.is_dir() => Ok(path),
            Ok(_) => Err(format!("directories ({dir} is not a directory)")),
            Err(error) => Err(format!("existing directories ({dir}: {error})")),
        })
        .collect()
}

/// A list as pydantic read one (a JSON array of strings) or separated by commas.
fn list(value: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = if value.starts_with('[') {
        serde_json::from_str(value)
            .map_err(|_| "a JSON array of strings, or a comma-separated list")?
    } else {
        value.split(',').map(str::to_owned).collect()
    };
    let items = items.into_iter().map(|item| item.trim().to_owned());
    Ok(items.filter(|item| !item.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<HttpSettings, Vec<SettingError>> {
        let vars: Vec<(String, String)> = pairs
            .iter()
            .map(|&(name, value)| (name.into(), value.into()))
            .collect();
        HttpSettings::from_vars(&vars)
    }

    #[test]
    fn nothing_listens_by_default() {
        let settings = parse(&[]).unwrap();
        assert!(!settings.any());
        assert_eq!(settings.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(
            (settings.port, settings.metrics_port),
            (8000, DEFAULT_METRICS_PORT)
        );
        assert_eq!(settings.auth_token, None);
    }

    #[test]
    fn an_exposed_listener_needs_a_token_or_the_insecure_switch() {
        let exposed = [
            ("OPENZIM_MCP_TRANSPORT", "http"),
            ("OPENZIM_MCP_HOST", "0.0.0.0"),
        ];
        let refused = parse(&exposed).unwrap_err();
        assert_eq!(refused[0].variable, "OPENZIM_MCP_HOST");
        assert!(refused[0].expected.contains("OPENZIM_MCP_AUTH_TOKEN"));

        let with_token = [exposed[0], exposed[1], ("OPENZIM_MCP_AUTH_TOKEN", "s3cret")];
        let settings = parse(&with_token).unwrap();
        assert!(settings.token_required());
        assert!(settings.auth_token.unwrap().matches(b"s3cret"));

        let insecure = [
            exposed[0],
            exposed[1],
            ("OPENZIM_MCP_INSECURE_DISABLE_AUTH", "true"),
        ];
        assert!(!parse(&insecure).unwrap().token_required());

        let metrics_only = [("OPENZIM_MCP_METRICS__ENABLED", "1"), exposed[1]];
        assert!(parse(&metrics_only).is_err());
        assert!(parse(&[exposed[1]]).is_ok(), "no listener, nothing exposed");
    }

    #[test]
    fn system_mode_needs_a_token_for_any_listener() {
        let http = [("OPENZIM_MCP_TRANSPORT", "http")];
        let metrics = [("OPENZIM_MCP_METRICS__ENABLED", "true")];
        for listener in [&http, &metrics] {
            let settings = parse(listener).unwrap();
            assert!(settings.check_system_mode(false).is_ok());
            let refused = settings.check_system_mode(true).unwrap_err();
            assert!(refused.contains("OPENZIM_MCP_AUTH_TOKEN"), "{refused}");
        }
        let with_token = parse(&[http[0], ("OPENZIM_MCP_AUTH_TOKEN", "s3cret")]).unwrap();
        assert!(with_token.check_system_mode(true).is_ok());
        let insecure = [http[0], ("OPENZIM_MCP_INSECURE_DISABLE_AUTH", "true")];
        assert!(parse(&insecure).unwrap().check_system_mode(true).is_ok());
        assert!(
            parse(&[]).unwrap().check_system_mode(true).is_ok(),
            "no listener"
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_variable() {
        let cases = [
            ("OPENZIM_MCP_PORT", "65536"),
            ("OPENZIM_MCP_METRICS__PORT", "-1"),
            ("OPENZIM_MCP_AUTH_TOKEN", " "),
            ("OPENZIM_MCP_AUTH_TOKEN", "clé"),
            ("OPENZIM_MCP_AUTH_TOKEN", "two words"),
            ("OPENZIM_MCP_TRANSPORT", "sse"),
            ("OPENZIM_MCP_HOST", "example.org"),
            ("OPENZIM_MCP_ALLOWED_HOSTS", "*"),
            ("OPENZIM_MCP_ALLOWED_DIRECTORIES", "/no/such/directory"),
        ];
        for (variable, value) in cases {
            let refused = parse(&[(variable, value)]).unwrap_err();
            assert_eq!(refused[0].variable, variable, "{value}");
        }
    }

    #[test]
    fn lists_are_json_arrays_or_comma_separated() {
        let dir = std::env::temp_dir();
        let canonical = std::fs::canonicalize(&dir).unwrap();
        let json = format!("[{:?}]", dir.display().to_string());
        let from_json = parse(&[("OPENZIM_MCP_ALLOWED_DIRECTORIES", &json)]).unwrap();
        assert_eq!(from_json.directories, [canonical]);
        let hosts = parse(&[("OPENZIM_MCP_ALLOWED_HOSTS", "wiki.lan, ozm.lan:8000,")]).unwrap();
        assert_eq!(hosts.allowed_hosts, ["wiki.lan", "ozm.lan:8000"]);
    }

    #[test]
    fn a_token_matches_only_itself() {
        let token = token("abc").unwrap().unwrap();
        assert!(token.matches(b"abc"));
        assert!(!token.matches(b"abd"));
        assert!(!token.matches(b"abcd"));
        assert!(!token.matches(b""));
        assert_eq!(format!("{token:?}"), "AuthToken(…)");
    }
}

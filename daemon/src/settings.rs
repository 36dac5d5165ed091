//! The settings of one shim, read from the `OPENZIM_MCP_*` variables it passes in its handshake,
//! with the Python server's names, defaults and ranges, so its users keep their configuration.
//!
//! Names are matched without regard to case after the prefix, and groups are nested with `__`
//! (`OPENZIM_MCP_CACHE__MAX_SIZE`), as pydantic-settings did. Every refused value is reported,
//! not only the first. Variables the Python server had that ozm has no use for (rate limits,
//! search tuning) are accepted and ignored; [`ignored_variables`] and [`unknown_variables`] list
//! them so the daemon can say so. The HTTP settings (`TRANSPORT`, `HOST`, `PORT`, `AUTH_TOKEN`,
//! `METRICS__*`, …) are the daemon's alone: [`HttpSettings`] reads them from ozmd's own
//! variables (its environment over its config file), and a shim's values for them count as
//! ignored. The JSON form of a whole group
//! (`OPENZIM_MCP_CACHE='{"max_size": 5}'`), which pydantic also read, is not supported: such a
//! variable counts as unknown.
//!
//! Per-session settings (server name, tool mode, content and search limits, instance tracking,
//! log level) change only what that one client sees, so each shim's values are honoured for its
//! session. Daemon-wide settings (`CACHE__*`) size the caches every session shares, so the daemon
//! holds one value: a shim may ask for another, the daemon's stands, and
//! [`Settings::daemon_wide_differences`] says what was asked. The daemon's own values come from
//! [`Settings::daemon_defaults`], the same variables read from its own environment.
//!
//! # Canonical form and hash
//!
//! [`Settings::hash`] is the SHA-256 of [`Settings::canonical`], in lowercase hex. The canonical
//! form is the JSON text of one object with exactly these keys, in this order (sorted by bytes),
//! no whitespace between tokens, in UTF-8 with non-ASCII characters written as they are:
//!
//! - `allowed_directories`: the directories as strings, sorted by bytes, each once;
//! - `cache_enabled`: `true` or `false`;
//! - `cache_max_bytes`, `cache_max_size`, `cache_ttl_seconds`, `content_max_length`,
//!   `content_snippet_length`, `search_default_limit`: integers;
//! - `server_name`: a string;
//! - `tool_mode`: `"advanced"` or `"simple"`.
//!
//! Strings escape `"`, `\`, and control characters (`\n`, `\t`…, others as lowercase `\u00xx`).
//! Python recomputes it with `json.dumps(d, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)`. As in the Python server, the hash covers what shapes a client's answers
//! and the shared caches; tracking, conflict detection and logging change no answer and stay out
//! (the tracking directory would also tie the hash to `$HOME`). Directories that are not UTF-8
//! are written with U+FFFD in place of their invalid bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod http;

pub use http::{AuthToken, DEFAULT_METRICS_PORT, HttpSettings};

/// The prefix every setting variable starts with (its case does not matter).
pub const PREFIX: &str = "OPENZIM_MCP_";

/// The keys ozm reads, lowercase, without the prefix.
const KNOWN: &str = "server_name tool_mode content__max_content_length content__snippet_length \
    content__default_search_limit instance__tracking_enabled instance__tracking_dir \
    instance__conflict_detection instance__heartbeat_interval logging__level cache__enabled \
    cache__max_size cache__max_bytes cache__ttl_seconds";

/// Keys of the Python server (or of its documentation) that ozm accepts and ignores, and whole
/// groups (ending in `__`): ozm has no CORS, rate limiter or search tuning. A shim's values for
/// the daemon's own keys ([`http::DAEMON_ONLY`]) are ignored too.
const IGNORED: &str = "cors_origins stateless_http watch_interval_seconds \
    resource_cache_ttl_seconds subscriptions_enabled presets_override_path timeout_max_workers \
    regex_max_workers cache__persistence_enabled cache__persistence_path \
    cache__libzim_cluster_cache_max_size_bytes \
    cache__libzim_dirent_cache_max_count content__table_row_threshold \
    content__table_char_threshold content__infobox_kv_limit logging__format logging__json \
    instance__cleanup_interval instance__max_stale_age server__request_timeout \
    server__max_concurrent rate_limit__ meta__ search__ synthesize__ query_rewrite__ ml__ \
    monitoring__ metrics__ smart_retrieval__ security__";

/// Settings of one shim, parsed from its `OPENZIM_MCP_*` variables, with defaults for the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// `SERVER_NAME`: the name given to the client, default `openzim-mcp`.
    pub server_name: String,
    /// `TOOL_MODE`: default advanced, unlike the Python server's `simple`, so that a client
    /// sees every tool, `zim_query` among them; `simple` lists `zim_query` alone, for small
    /// models.
    pub tool_mode: ToolMode,
    /// `CONTENT__MAX_CONTENT_LENGTH`: characters of an article per answer, 100 to 10,000,000.
    pub content_max_length: u64,
    /// `CONTENT__SNIPPET_LENGTH`: characters of a search snippet, 100 to 100,000.
    pub content_snippet_length: u64,
    /// `CONTENT__DEFAULT_SEARCH_LIMIT`: results when a search names no limit, 1 to 100.
    pub search_default_limit: u64,
    /// `INSTANCE__TRACKING_ENABLED`: whether this instance is recorded, default true.
    pub tracking_enabled: bool,
    /// `INSTANCE__TRACKING_DIR`: where the Python server recorded its instances, default
    /// `~/.openzim_mcp_instances`; empty (the default when `$HOME` is unknown, as for a system
    /// service) when there is none to look at.
    pub tracking_dir: PathBuf,
    /// `INSTANCE__CONFLICT_DETECTION`: which differences are reported, default strict.
    pub conflict_detection: ConflictDetection,
    /// `INSTANCE__HEARTBEAT_INTERVAL`: seconds between heartbeats, 1 to 3600.
    pub heartbeat_interval_secs: u64,
    /// `LOGGING__LEVEL`: the session's log level, default INFO.
    pub logging_level: LogLevel,
    /// `CACHE__ENABLED` (daemon-wide): whether answers are cached, default true.
    pub cache_enabled: bool,
    /// `CACHE__MAX_SIZE` (daemon-wide): cached entries, 1 to 10,000, default 100.
    pub cache_max_size: u64,
    /// `CACHE__MAX_BYTES` (daemon-wide): cache memory, 0 to 8 GiB, default 64 MiB.
    pub cache_max_bytes: u64,
    /// `CACHE__TTL_SECONDS` (daemon-wide): lifetime of a cached entry, 60 to 86,400.
    pub cache_ttl_seconds: u64,
}

/// Which tools a session lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolMode {
    /// Every tool.
    #[default]
    Advanced,
    /// Only the natural-language front door.
    Simple,
}

/// Which conflicts with other instances are reported (the full table is in `conflicts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictDetection {
    /// Every difference of daemon-wide settings, and other instances over the same directories.
    #[default]
    Strict,
    /// Only major differences (see [`Settings::is_major`]); other instances as information.
    Moderate,
    /// Only major differences, and other instances only over identical directories.
    Relaxed,
}

/// A session's log level, named as in Python's `logging`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Per-request detail.
    Debug,
    /// Lifecycle.
    #[default]
    Info,
    /// Refused or degraded requests.
    Warning,
    /// Failures.
    Error,
    /// Failures that stop the service.
    Critical,
}

impl ToolMode {
    const ALL: [Self; 2] = [Self::Advanced, Self::Simple];
}

impl ConflictDetection {
    const ALL: [Self; 3] = [Self::Strict, Self::Moderate, Self::Relaxed];
}

impl LogLevel {
    const ALL: [Self; 5] = [
        Self::Debug,
        Self::Info,
        Self::Warning,
        Self::Error,
        Self::Critical,
    ];
}

/// A refused value: names the variable and the accepted range or values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not accepted: {expected}")]
pub struct SettingError {
    /// The variable, as the shim spelled it.
    pub variable: String,
    /// The value given.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
}

impl Settings {
    /// Parses a shim's variables; every bad value is reported (not just the first).
    ///
    /// `home` expands `~` in the tracking directory; without it (or if it is not absolute), a
    /// `~` path is refused. Two spellings of one setting (`CACHE__MAX_SIZE`, `cache__max_size`)
    /// must agree, so that the result never depends on the order of the variables.
    pub fn from_env(
        vars: &[(String, String)],
        home: Option<&Path>,
    ) -> Result<Self, Vec<SettingError>> {
        let mut given = Given::default();
        let mut sorted: Vec<_> = vars.iter().collect();
        sorted.sort();
        for (name, value) in sorted {
            if let Some(key) = key_of(name).filter(|key| is_known(key)) {
                given.insert(key, name, value.trim());
            }
        }

        let default_tracking_dir = if home.is_some_and(Path::is_absolute) {
            "~/.openzim_mcp_instances"
        } else {
            ""
        };
        let settings = Self {
            server_name: given.get("server_name", "openzim-mcp", non_empty),
            tool_mode: given.get("tool_mode", "advanced", choice(&ToolMode::ALL)),
            content_max_length: given.get(
                "content__max_content_length",
                "100000",
                range(100, 10_000_000),
            ),
            content_snippet_length: given.get(
                "content__snippet_length",
                "3000",
                range(100, 100_000),
            ),
            search_default_limit: given.get("content__default_search_limit", "10", range(1, 100)),
            tracking_enabled: given.get("instance__tracking_enabled", "true", boolean),
            tracking_dir: given.get("instance__tracking_dir", default_tracking_dir, |v| {
                if v.is_empty() {
                    Ok(PathBuf::new())
                } else {
                    tracking_dir(v, home)
                }
            }),
            conflict_detection: given.get(
                "instance__conflict_detection",
                "strict",
                choice(&ConflictDetection::ALL),
            ),
            heartbeat_interval_secs: given.get(
                "instance__heartbeat_interval",
                "30",
                range(1, 3600),
            ),
            logging_level: given.get("logging__level", "INFO", choice(&LogLevel::ALL)),
            cache_enabled: given.get("cache__enabled", "true", boolean),
            cache_max_size: given.get("cache__max_size", "100", range(1, 10_000)),
            cache_max_bytes: given.get("cache__max_bytes", "67108864", range(0, 8 << 30)),
            cache_ttl_seconds: given.get("cache__ttl_seconds", "3600", range(60, 86_400)),
        };
        given
            .errors
            .is_empty()
            .then_some(settings)
            .ok_or(given.errors)
    }

    /// The daemon's own settings: [`Settings::from_env`] over the daemon's environment and `$HOME`.
    ///
    /// Variables that are not UTF-8 are skipped. The TOML file and the flags of the design are
    /// not read here; a caller layers them by passing their values as variables.
    pub fn daemon_defaults() -> Result<Self, Vec<SettingError>> {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .filter(|(name, _)| key_of(name).is_some())
            .collect();
        let home = std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from);
        Self::from_env(&vars, home.as_deref())
    }

    /// Names and values of the daemon-wide settings, for comparing two instances.
    pub fn daemon_wide(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("cache_enabled", self.cache_enabled.to_string()),
            ("cache_max_bytes", self.cache_max_bytes.to_string()),
            ("cache_max_size", self.cache_max_size.to_string()),
            ("cache_ttl_seconds", self.cache_ttl_seconds.to_string()),
        ])
    }

    /// Which daemon-wide settings differ from `other`, with both values: (name, mine, theirs).
    pub fn daemon_wide_differences(&self, other: &Self) -> Vec<(&'static str, String, String)> {
        let theirs = other.daemon_wide();
        self.daemon_wide()
            .into_iter()
            .filter(|(name, mine)| theirs[name] != *mine)
            .map(|(name, mine)| (name, mine, theirs[name].clone()))
            .collect()
    }

    /// Whether a daemon-wide setting is major (relaxed conflict detection reports only these).
    pub fn is_major(name: &str) -> bool {
        matches!(name, "cache_enabled" | "cache_max_bytes")
    }

    /// The canonical form the hash is taken over (see the module documentation).
    pub fn canonical(&self, directories: &[PathBuf]) -> String {
        let mut directories: Vec<String> = directories
            .iter()
            .map(|dir| dir.to_string_lossy().into_owned())
            .collect();
        directories.sort();
        directories.dedup();

        // A BTreeMap sorts the keys whatever features serde_json was built with.
        let form: BTreeMap<&str, Value> = BTreeMap::from([
            ("allowed_directories", json!(directories)),
            ("cache_enabled", json!(self.cache_enabled)),
            ("cache_max_bytes", json!(self.cache_max_bytes)),
            ("cache_max_size", json!(self.cache_max_size)),
            ("cache_ttl_seconds", json!(self.cache_ttl_seconds)),
            ("content_max_length", json!(self.content_max_length)),
            ("content_snippet_length", json!(self.content_snippet_length)),
            ("search_default_limit", json!(self.search_default_limit)),
            ("server_name", json!(self.server_name)),
            ("tool_mode", json!(self.tool_mode)),
        ]);
        serde_json::to_string(&form).expect("a map of JSON values always serializes")
    }

    /// SHA-256 of [`Settings::canonical`], in lowercase hex.
    pub fn hash(&self, directories: &[PathBuf]) -> String {
        let digest = Sha256::digest(self.canonical(directories).as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// `OPENZIM_MCP_*` variables that ozm neither reads nor knows from the Python server.
pub fn unknown_variables(vars: &[(String, String)]) -> Vec<String> {
    variables_where(vars, |key| !is_known(key) && !is_ignored(key))
}

/// `OPENZIM_MCP_*` variables of the Python server that ozm accepts but does not use.
pub fn ignored_variables(vars: &[(String, String)]) -> Vec<String> {
    variables_where(vars, is_ignored)
}

/// The keys ozm reads, lowercase and without the prefix (`cache__max_size`), so that a
/// misspelt name can be answered with the closest one.
pub fn known_keys() -> Vec<&'static str> {
    let daemon_only = http::DAEMON_ONLY.split_whitespace();
    KNOWN.split_whitespace().chain(daemon_only).collect()
}

/// The names of the prefixed variables whose key passes `keep`, sorted, each once.
fn variables_where(vars: &[(String, String)], keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = vars
        .iter()
        .filter(|(name, _)| key_of(name).is_some_and(|key| keep(&key)))
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn is_known(key: &str) -> bool {
    KNOWN.split_whitespace().any(|known| known == key)
}

fn is_ignored(key: &str) -> bool {
    let group = key.split_inclusive("__").next().unwrap_or_default();
    let daemon_only = http::DAEMON_ONLY.split_whitespace();
    IGNORED
        .split_whitespace()
        .chain(daemon_only)
        .any(|ignored| ignored == key || ignored == group)
}

/// The lowercase key of a prefixed variable (`CACHE__MAX_SIZE` → `cache__max_size`).
fn key_of(name: &str) -> Option<String> {
    let (prefix, key) = name.split_at_checked(PREFIX.len())?;
    prefix
        .eq_ignore_ascii_case(PREFIX)
        .then(|| key.to_ascii_lowercase())
}

/// The known variables given, by key, and the errors found so far.
#[derive(Default)]
struct Given<'a> {
    values: BTreeMap<String, (&'a str, &'a str)>,
    errors: Vec<SettingError>,
}

impl<'a> Given<'a> {
    /// Records a variable, refusing a second spelling of its key with another value.
    fn insert(&mut self, key: String, name: &'a str, value: &'a str) {
        match self.values.get(&key) {
            Some(&(first, other)) if other != value => self.errors.push(SettingError {
                variable: name.to_owned(),
                value: value.to_owned(),
                expected: format!("the value of {first} ({other:?}), which sets the same setting"),
            }),
            Some(_) => {}
            None => {
                self.values.insert(key, (name, value));
            }
        }
    }

    /// The value of `key` (or the default text) parsed; a refusal is recorded.
    fn get<T: Default>(
        &mut self,
        key: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let (name, value) = match self.values.get(key) {
            Some(&(name, value)) => (name.to_owned(), value),
            None => (format!("{PREFIX}{}", key.to_ascii_uppercase()), default),
        };
        parse(value).unwrap_or_else(|expected| {
            let value = value.to_owned();
            self.errors.push(SettingError {
                variable: name,
                value,
                expected,
            });
            T::default()
        })
    }
}

/// An integer from `min` to `max`.
fn range(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> {
    move |value| {
        let n = value.parse().ok().filter(|n| (min..=max).contains(n));
        n.ok_or_else(|| format!("an integer from {min} to {max}"))
    }
}

fn non_empty(value: &str) -> Result<String, String> {
    let name = (!value.is_empty()).then(|| value.to_owned());
    name.ok_or_else(|| "a non-empty name".into())
}

/// A boolean as pydantic reads one: true/false, 1/0, yes/no, on/off, t/f, y/n, in any case.
fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
        _ => Err("true or false (or 1/0, yes/no, on/off)".into()),
    }
}

/// One of `all`, named as they serialize, in any case.
fn choice<T: Serialize + Copy>(all: &'static [T]) -> impl Fn(&str) -> Result<T, String> {
    let names: Vec<String> = all
        .iter()
        .map(|option| json!(option).as_str().unwrap_or_default().to_owned())
        .collect();
    move |value| {
        let found = names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(value));
        found
            .map(|i| all[i])
            .ok_or_else(|| format!("one of {}", names.join(", ")))
    }
}

/// An absolute path, in which a leading `~` stands for `home`.
fn tracking_dir(value: &str, home: Option<&Path>) -> Result<PathBuf, String> {
    let no_home = || format!("an absolute path ($HOME is unknown, so {value} cannot be expanded)");
    let path = match value.strip_prefix("~/").or((value == "~").then_some("")) {
        Some(rest) => home
            .filter(|home| home.is_absolute())
            .ok_or_else(no_home)?
            .join(rest),
        None => PathBuf::from(value),
    };
    let absolute = path.is_absolute().then_some(path);
    absolute.ok_or_else(|| "an absolute path, or one starting with ~/".into())
}

#[cfg(test)]
mod tests;

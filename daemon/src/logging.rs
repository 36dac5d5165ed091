//! Where ozmd's log lines go and which of them are kept.
//!
//! Under systemd, when stderr is the journal (`JOURNAL_STREAM` names stderr's device and inode),
//! lines go to journald as structured entries: the message, a priority, `SYSLOG_IDENTIFIER=ozmd`
//! and every field of the line as `OZM_<FIELD>` (`OZM_INSTANCE`, `OZM_PID`, `OZM_ARCHIVE`, …).
//! Elsewhere they go to stderr, one readable line each: time, level, message, then the fields.
//!
//! Priorities follow what `journalctl -p` users expect: error is err (3), warn is warning (4),
//! info is info (6), debug and trace are debug (7). (tracing-journald's own mapping puts info at
//! notice and debug at info, so `journalctl -p info` would show debug lines.)
//!
//! The filter sits behind a reload handle kept in a static, so that SIGHUP can change it while
//! the daemon runs ([`set_level`]). Nothing here writes to stdout.

use std::sync::OnceLock;

use tracing_journald::{Priority, PriorityMappings};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::settings::LogLevel;

/// The filter when nothing else is asked for: info on, the MCP library's own lines from warn on.
pub const DEFAULT_FILTER: &str = "info,rmcp=warn";

/// The name journal entries carry (`journalctl -t ozmd`).
const SYSLOG_IDENTIFIER: &str = "ozmd";

/// Put before every field name in the journal: `archive` becomes `OZM_ARCHIVE`.
const FIELD_PREFIX: &str = "OZM";

/// Where log lines should go, as asked with `--log-target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogTarget {
    /// journald when stderr is the journal, else stderr.
    Auto,
    /// journald, or a start-up error if it cannot be reached.
    Journald,
    /// stderr, readable lines.
    Stderr,
}

/// Where log lines go once [`init`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Structured entries sent to journald.
    Journald,
    /// Readable lines on stderr.
    Stderr,
}

impl Sink {
    /// Its name in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Sink::Journald => "journald",
            Sink::Stderr => "stderr",
        }
    }
}

/// What decides the logging: the target, and the filter or level asked for.
#[derive(Debug, Clone, Copy)]
pub struct LogOptions<'a> {
    /// `--log-target`.
    pub target: LogTarget,
    /// `--log`/`OZM_LOG`: a full filter, which wins over `level` when given.
    pub filter: Option<&'a str>,
    /// `OPENZIM_MCP_LOGGING__LEVEL`: the level of ozm's own lines.
    pub level: LogLevel,
}

/// Why logging could not be set up; the daemon does not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `--log`/`OZM_LOG` is not a filter.
    #[error("invalid log filter {given:?} (--log/OZM_LOG), e.g. `info,ozmd=debug`: {reason}")]
    Filter {
        /// The filter given.
        given: String,
        /// What the parser said.
        reason: String,
    },
    /// `--log-target journald` and journald cannot be reached.
    #[error("--log-target journald: cannot reach journald: {0}; use --log-target stderr")]
    Journald(std::io::Error),
    /// Another subscriber was already installed (a second call).
    #[error("logging was already set up")]
    AlreadySet,
}

/// The running filter's reload handle, and whether a `--log` filter fixed it at start.
struct Control {
    handle: reload::Handle<EnvFilter, Registry>,
    fixed_by_flag: bool,
}

static CONTROL: OnceLock<Control> = OnceLock::new();

/// Installs the subscriber for the whole process and says where lines go.
pub fn init(options: &LogOptions) -> Result<Sink, LogError> {
    let directives = match options.filter {
        Some(filter) => filter.to_owned(),
        None => level_filter(options.level),
    };
    let filter = EnvFilter::try_new(&directives).map_err(|error| LogError::Filter {
        given: directives.clone(),
        reason: error.to_string(),
    })?;

    // In auto mode a journal that cannot be reached is no reason to stop: stderr is the journal's
    // own stream then, so lines still arrive there, only without their fields.
    let journal_stream = stderr_is_journal();
    let (journald, unreachable) = match options.target {
        LogTarget::Stderr => (None, None),
        LogTarget::Journald => (Some(journald_layer().map_err(LogError::Journald)?), None),
        LogTarget::Auto if journal_stream => match journald_layer() {
            Ok(layer) => (Some(layer), None),
            Err(error) => (None, Some(error)),
        },
        LogTarget::Auto => (None, None),
    };
    let sink = if journald.is_some() {
        Sink::Journald
    } else {
        Sink::Stderr
    };
    let stderr = (sink == Sink::Stderr).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(false)
    });

    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(journald)
        .with(stderr)
        .try_init()
        .map_err(|_| LogError::AlreadySet)?;
    let control = Control {
        handle,
        fixed_by_flag: options.filter.is_some(),
    };
    CONTROL.set(control).map_err(|_| LogError::AlreadySet)?;
    if let Some(error) = unreachable {
        tracing::warn!(%error, "stderr is the journal but journald cannot be reached; \
            logging plain lines to stderr");
    }
    Ok(sink)
}

/// Changes the filter while the daemon runs (SIGHUP): `filter` is a level name as
/// `OPENZIM_MCP_LOGGING__LEVEL` takes it (DEBUG, INFO, WARNING, ERROR, CRITICAL, any case) or a
/// full filter such as `info,ozmd::server=debug`.
///
/// A filter given with `--log`/`OZM_LOG` at start wins over level names, as it did at start: a
/// level name then changes nothing. A full filter always applies.
pub fn set_level(filter: &str) -> Result<(), String> {
    let control = CONTROL.get().ok_or("logging is not set up yet")?;
    let directives = match parse_level(filter) {
        Some(_) if control.fixed_by_flag => {
            tracing::debug!(level = filter, "log level left as --log/OZM_LOG set it");
            return Ok(());
        }
        Some(level) => level_filter(level),
        None => filter.to_owned(),
    };
    let new = EnvFilter::try_new(&directives)
        .map_err(|error| format!("invalid log filter {filter:?}: {error}"))?;
    let before = control
        .handle
        .with_current(ToString::to_string)
        .unwrap_or_default();
    control
        .handle
        .reload(new)
        .map_err(|error| format!("cannot change the log filter: {error}"))?;
    if before != directives {
        tracing::info!(before, filter = directives, "log filter changed");
    }
    Ok(())
}

/// The filter for a level of ozm's own lines. Below info, other crates stay at info and the MCP
/// library at warn, so debug shows ozm's detail and not the libraries'. ozm has no level above
/// error, so CRITICAL keeps its errors.
pub fn level_filter(level: LogLevel) -> String {
    match level {
        LogLevel::Debug => format!("{DEFAULT_FILTER},ozmd=debug,ozm_protocol=debug"),
        LogLevel::Info => DEFAULT_FILTER.to_owned(),
        LogLevel::Warning => "warn".to_owned(),
        LogLevel::Error | LogLevel::Critical => "error".to_owned(),
    }
}

/// A level name as Python's `logging` spells it, in any case.
fn parse_level(name: &str) -> Option<LogLevel> {
    match name.to_ascii_uppercase().as_str() {
        "DEBUG" => Some(LogLevel::Debug),
        "INFO" => Some(LogLevel::Info),
        "WARNING" => Some(LogLevel::Warning),
        "ERROR" => Some(LogLevel::Error),
        "CRITICAL" => Some(LogLevel::Critical),
        _ => None,
    }
}

/// Whether stderr is the journal: systemd sets `JOURNAL_STREAM=<device>:<inode>` of the stream
/// it connects to stderr, and a child whose stderr was redirected elsewhere inherits the variable
/// but not the stream, so the numbers are compared with stderr's own.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((device, inode)) = value.to_str().and_then(|value| value.split_once(':')) else {
        return false;
    };
    let Ok(stat) = rustix::fs::fstat(std::io::stderr()) else {
        return false;
    };
    device.parse() == Ok(stat.st_dev) && inode.parse() == Ok(stat.st_ino)
}

/// The journald layer with ozm's identifier, field prefix and priorities.
fn journald_layer() -> std::io::Result<tracing_journald::Layer> {
    let priorities = PriorityMappings {
        error: Priority::Error,
        warn: Priority::Warning,
        info: Priority::Informational,
        debug: Priority::Debug,
        trace: Priority::Debug,
    };
    Ok(tracing_journald::layer()?
        .with_syslog_identifier(SYSLOG_IDENTIFIER.to_owned())
        .with_field_prefix(Some(FIELD_PREFIX.to_owned()))
        .with_priority_mappings(priorities))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_are_read_in_any_case() {
        assert_eq!(parse_level("warning"), Some(LogLevel::Warning));
        assert_eq!(parse_level("Critical"), Some(LogLevel::Critical));
        assert_eq!(parse_level("ozmd=debug"), None);
    }

    #[test]
    fn every_level_gives_a_valid_filter() {
        for name in ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] {
            let level = parse_level(name).expect("a level");
            EnvFilter::try_new(level_filter(level)).expect("a valid filter");
        }
        assert_eq!(level_filter(LogLevel::Info), DEFAULT_FILTER);
    }
}

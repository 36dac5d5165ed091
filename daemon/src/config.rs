//! The daemon's optional config file, `ozmd.toml`: the roots system mode serves and the
//! daemon's own `OPENZIM_MCP_*` settings written as TOML.
//!
//! ```toml
//! roots = ["/srv/zim"]
//! server_name = "library"
//!
//! [cache]
//! max_size = 200
//!
//! [logging]
//! level = "DEBUG"
//! ```
//!
//! A key stands for the variable of the same name: `[cache] max_size` is
//! `OPENZIM_MCP_CACHE__MAX_SIZE`. Every value goes through the parser of the variables
//! ([`Settings::from_env`]), so names, ranges and messages are theirs; a variable of the daemon's
//! environment wins over the file. Flags stay flags: the socket, the cache directory and the
//! index builds are not read here. The file is read at start and again on SIGHUP.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue};

use crate::settings::{self, HttpSettings, PREFIX, SettingError, Settings};

/// The key holding the roots.
const ROOTS: &str = "roots";

/// Where the config file is looked for.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Named with `--config`: then it must exist.
    pub explicit: bool,
}

impl Source {
    /// `given` (from `--config`), else `/etc/ozm/ozmd.toml` in system mode, else
    /// `$XDG_CONFIG_HOME/ozm/ozmd.toml` or `~/.config/ozm/ozmd.toml`; `None` when there is no
    /// home to look in.
    pub fn new(given: Option<PathBuf>, system: bool) -> Option<Source> {
        if let Some(path) = given {
            return Some(Source {
                path,
                explicit: true,
            });
        }
        let path = if system {
            PathBuf::from("/etc/ozm/ozmd.toml")
        } else {
            let absolute = |var| {
                std::env::var_os(var)
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
            };
            absolute("XDG_CONFIG_HOME")
                .or_else(|| absolute("HOME").map(|home| home.join(".config")))?
                .join("ozm/ozmd.toml")
        };
        Some(Source {
            path,
            explicit: false,
        })
    }
}

/// What the daemon runs with: replaced whole when the file is read again.
#[derive(Debug)]
pub struct DaemonConfig {
    /// The daemon's settings: the file's values, the environment's over them.
    pub settings: Arc<Settings>,
    /// Its HTTP listeners, from the same variables; they are bound at start only.
    pub http: HttpSettings,
    /// The directories shims may ask for in system mode, as written.
    pub roots: Vec<PathBuf>,
    /// Every `OPENZIM_MCP_*` variable in effect, the file's under their variable names, for
    /// settings read outside [`Settings`].
    pub variables: Vec<(String, String)>,
}

/// The config in effect, shared by the connection tasks and replaced on SIGHUP; a session that
/// holds the old one keeps it until it asks again.
#[derive(Debug)]
pub struct Live(RwLock<Arc<DaemonConfig>>);

impl Live {
    /// Starts with `config`.
    pub fn new(config: DaemonConfig) -> Live {
        Live(RwLock::new(Arc::new(config)))
    }

    /// The config now in effect.
    pub fn get(&self) -> Arc<DaemonConfig> {
        Arc::clone(&self.0.read().unwrap_or_else(|poison| poison.into_inner()))
    }

    /// The daemon's settings now in effect.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.get().settings)
    }

    /// Puts `config` in effect and returns the one it replaces.
    pub fn replace(&self, config: DaemonConfig) -> Arc<DaemonConfig> {
        let mut current = self.0.write().unwrap_or_else(|poison| poison.into_inner());
        std::mem::replace(&mut *current, Arc::new(config))
    }
}

/// A config read, with what the operator should hear about it.
#[derive(Debug)]
pub struct Loaded {
    /// The config.
    pub config: DaemonConfig,
    /// Keys ignored (with the closest known one) and roots that do not exist.
    pub warnings: Vec<String>,
}

/// Why the daemon's settings cannot be used: every problem found, each with its line in the
/// file, or named as a variable of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the problems are in it.
    pub file: Option<PathBuf>,
    /// What is wrong: `line N: …`, or `in the environment: …`.
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => write!(f, "the config file {}: ", file.display())?,
            None => write!(f, "invalid settings: ")?,
        }
        write!(f, "{}", self.problems.join("; "))
    }
}

impl std::error::Error for ConfigError {}

/// Reads `source` (none: defaults and the environment), layering the environment's variables
/// over the file's.
pub fn load(source: Option<&Source>) -> Result<Loaded, ConfigError> {
    let Some(source) = source else {
        return from_text("", None);
    };
    match std::fs::read_to_string(&source.path) {
        Ok(text) => from_text(&text, Some(&source.path)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !source.explicit => {
            from_text("", None)
        }
        Err(error) => Err(ConfigError {
            file: Some(source.path.clone()),
            problems: vec![format!("cannot be read: {error}")],
        }),
    }
}

/// One setting found in the file.
struct Entry {
    /// As the file writes it: `[cache] max_size`.
    key: String,
    /// The variable it stands for: `OPENZIM_MCP_CACHE__MAX_SIZE`.
    variable: String,
    value: String,
    /// The value as the file writes it, for messages.
    literal: String,
    line: usize,
}

/// Reads the text of `file` (none: no file to read).
fn from_text(text: &str, file: Option<&Path>) -> Result<Loaded, ConfigError> {
    let fail = |problems| ConfigError {
        file: file.map(Path::to_path_buf),
        problems,
    };
    let table = DeTable::parse(text).map_err(|error| {
        let line = error.span().map_or(1, |span| line_of(text, span.start));
        let reason = error.message().replace('\n', "; ");
        fail(vec![format!("line {line}: {reason}")])
    })?;
    let mut found = Found::default();
    for (key, value) in in_file_order(table.get_ref()) {
        let line = line_of(text, key.span().start);
        match (key.get_ref().as_ref(), value.get_ref()) {
            (ROOTS, value) => match root_list(value) {
                Ok(roots) => found.roots = roots,
                Err(reason) => found
                    .problems
                    .push(format!("line {line}: {ROOTS}: {reason}")),
            },
            (group, DeValue::Table(inner)) => {
                for (key, value) in in_file_order(inner) {
                    let line = line_of(text, key.span().start);
                    let name = format!("{group}__{}", key.get_ref());
                    let shown = format!("[{group}] {}", key.get_ref());
                    found.setting(&shown, &name, value.get_ref(), line);
                }
            }
            (name, value) => found.setting(name, name, value, line),
        }
    }
    let Found {
        roots,
        entries,
        problems,
        warnings,
    } = found;
    if !problems.is_empty() {
        return Err(fail(problems));
    }

    let shown = file.map_or_else(String::new, |file| file.display().to_string());
    let warnings = warnings
        .into_iter()
        .chain(missing_roots(&roots))
        .map(|warning| format!("{shown}: {warning}"))
        .collect();
    let variables = with_environment(&entries);
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from);
    let settings = Settings::from_env(&variables, home.as_deref());
    let http = HttpSettings::from_vars(&variables);
    let (settings, http) = match (settings, http) {
        (Ok(settings), Ok(http)) => (settings, http),
        (settings, http) => {
            let mut errors = settings.err().unwrap_or_default();
            errors.extend(http.err().unwrap_or_default());
            let in_file = errors
                .iter()
                .any(|error| entries.iter().any(|e| e.variable == error.variable));
            return Err(ConfigError {
                file: file.filter(|_| in_file).map(Path::to_path_buf),
                problems: refusals(&errors, &entries),
            });
        }
    };
    Ok(Loaded {
        config: DaemonConfig {
            settings: Arc::new(settings),
            http,
            roots,
            variables,
        },
        warnings,
    })
}

/// Each refused value, with its line when the file gave it.
fn refusals(errors: &[SettingError], entries: &[Entry]) -> Vec<String> {
    let refusal = |error: &SettingError| match entries.iter().find(|e| e.variable == error.variable)
    {
        Some(e) => format!(
            "line {}: {} = {} is not accepted: {}",
            e.line, e.key, e.literal, error.expected
        ),
        None => format!("in the environment: {error}"),
    };
    errors.iter().map(refusal).collect()
}

/// What the file holds, sorted out.
#[derive(Default)]
struct Found {
    roots: Vec<PathBuf>,
    entries: Vec<Entry>,
    problems: Vec<String>,
    warnings: Vec<String>,
}

impl Found {
    /// Takes one setting: `shown` as the file writes it, `name` its key (`cache__max_size`).
    /// An unknown key is a warning naming the closest known one; a key of openzim-mcp that ozm
    /// does not use is kept among the variables when it is a single value.
    fn setting(&mut self, shown: &str, name: &str, value: &DeValue, line: usize) {
        let variable = format!("{PREFIX}{}", name.to_ascii_uppercase());
        let pair = [(variable.clone(), String::new())];
        if !settings::unknown_variables(&pair).is_empty() {
            let closest = settings::known_keys()
                .into_iter()
                .chain([ROOTS])
                .min_by_key(|known| {
                    crate::mcp::args::edit_distance(known, &name.to_ascii_lowercase())
                })
                .map(as_toml)
                .unwrap_or_default();
            self.warnings.push(format!(
                "line {line}: unknown key {shown} ignored; the closest known key is {closest}"
            ));
            return;
        }
        let ignored = !settings::ignored_variables(&pair).is_empty();
        let text = match value {
            // The daemon's lists (`allowed_hosts`, …) read JSON arrays.
            DeValue::Array(items) if ignored => json_list(items),
            value => scalar(value),
        };
        match text {
            Ok(text) => self.entries.push(Entry {
                key: shown.to_owned(),
                variable,
                literal: match value {
                    DeValue::String(_) => format!("{text:?}"),
                    _ => text.clone(),
                },
                value: text,
                line,
            }),
            Err(_) if ignored => {}
            Err(reason) => self
                .problems
                .push(format!("line {line}: {shown}: {reason}")),
        }
    }
}

/// A single value as the text its variable would hold, or why it cannot be one.
fn scalar(value: &DeValue) -> Result<String, &'static str> {
    Ok(match value {
        DeValue::String(text) => text.to_string(),
        DeValue::Integer(number) => i128::from_str_radix(number.as_str(), number.radix())
            .map_err(|_| "the number is too large")?
            .to_string(),
        DeValue::Float(number) => number.as_str().to_owned(),
        DeValue::Boolean(flag) => flag.to_string(),
        DeValue::Table(_) | DeValue::Datetime(_) | DeValue::Array(_) => {
            return Err("expected a string, number or boolean");
        }
    })
}

/// A list of single values as the JSON array its variable would hold.
fn json_list(items: &DeArray) -> Result<String, &'static str> {
    let texts: Vec<String> = items
        .iter()
        .map(|item| scalar(item.get_ref()))
        .collect::<Result<_, _>>()?;
    Ok(serde_json::Value::from(texts).to_string())
}

fn root_list(value: &DeValue) -> Result<Vec<PathBuf>, String> {
    let DeValue::Array(items) = value else {
        return Err("expected a list of directories, as in roots = [\"/srv/zim\"]".into());
    };
    items
        .iter()
        .map(|item| match item.get_ref() {
            DeValue::String(path) if Path::new(path.as_ref()).is_absolute() => {
                Ok(PathBuf::from(path.as_ref()))
            }
            DeValue::String(path) => Err(format!("{path} is not an absolute path")),
            _ => Err("every root is a directory's absolute path, in quotes".into()),
        })
        .collect()
}

fn missing_roots(roots: &[PathBuf]) -> Vec<String> {
    roots
        .iter()
        .filter(|root| !root.is_dir())
        .map(|root| format!("the root {} is not a directory (yet)", root.display()))
        .collect()
}

/// The file's variables, less those the environment sets, followed by the environment's.
fn with_environment(entries: &[Entry]) -> Vec<(String, String)> {
    let environment: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| key_of(name).is_some())
        .collect();
    let overridden: BTreeSet<String> = environment
        .iter()
        .filter_map(|(name, _)| key_of(name))
        .collect();
    entries
        .iter()
        .filter(|e| key_of(&e.variable).is_none_or(|key| !overridden.contains(&key)))
        .map(|e| (e.variable.clone(), e.value.clone()))
        .chain(environment)
        .collect()
}

/// The lowercase key of a prefixed variable, as the settings parser matches it.
fn key_of(name: &str) -> Option<String> {
    let (prefix, key) = name.split_at_checked(PREFIX.len())?;
    prefix
        .eq_ignore_ascii_case(PREFIX)
        .then(|| key.to_ascii_lowercase())
}

/// `cache__max_size` as the file writes it: `[cache] max_size`.
fn as_toml(key: &str) -> String {
    match key.split_once("__") {
        Some((group, name)) => format!("[{group}] {name}"),
        None => key.to_owned(),
    }
}

/// The entries of a table in the order the file writes them, so problems are told line by line.
fn in_file_order<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.bytes().filter(|&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests;

//! What every tool shares: argument parsing, the error envelope and running archive work off
//! the runtime's threads.
//!
//! A failed tool call reaches the model as a result with `isError: true` whose text is a JSON
//! envelope `{"error": true, "operation": …, "message": …}` plus details, the shape openzim-mcp
//! users know, so the model can read what went wrong and correct itself.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::Session;
use crate::library::{LookupError, OpenArchive};

/// A tool call that could not be answered.
#[derive(Debug, Clone)]
pub struct ToolError {
    /// A short code naming the failure, such as `invalid_argument` or `entry_not_found`.
    pub operation: String,
    /// What went wrong and what to do, for the model to read.
    pub message: String,
    /// Further fields of the envelope.
    pub details: Map<String, Value>,
}

impl ToolError {
    /// An error with no details.
    pub fn new(operation: &str, message: impl Into<String>) -> Self {
        ToolError {
            operation: operation.to_owned(),
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Adds a field to the envelope.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The result the model sees.
    pub fn into_result(self) -> CallToolResult {
        let mut envelope = Map::new();
        envelope.insert("error".into(), Value::Bool(true));
        envelope.insert("operation".into(), Value::String(self.operation));
        envelope.insert("message".into(), Value::String(self.message));
        envelope.extend(self.details);
        let envelope = Value::Object(envelope);
        let mut result = CallToolResult::error(vec![ContentBlock::text(pretty(&envelope))]);
        result.structured_content = Some(envelope);
        result
    }
}

impl From<LookupError> for ToolError {
    fn from(error: LookupError) -> Self {
        let message = error.to_string();
        match error {
            LookupError::Empty => ToolError::new("invalid_argument", message),
            LookupError::Outside(_) => ToolError::new("access_denied", message),
            LookupError::NotFound { available, .. } => {
                ToolError::new("missing_archive", message).with("available_archives", available)
            }
            LookupError::Ambiguous { candidates, .. } => {
                ToolError::new("ambiguous_archive", message).with("candidates", candidates)
            }
        }
    }
}

/// A successful answer: pretty-printed JSON in one text block, for clients that read text, and
/// the same object as structured content, for those that read that.
pub fn success(value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(pretty(&value))]);
    result.structured_content = Some(value);
    result
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A read-only tool whose input schema comes from `T`.
pub fn tool<T: JsonSchema>(name: &'static str, description: &'static str) -> Tool {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({}));
    let mut schema = match schema {
        Value::Object(object) => object,
        _ => JsonObject::new(),
    };
    schema.remove("$schema");
    schema.remove("title");
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.values_mut().for_each(tidy_property);
    }
    let annotations = ToolAnnotations::new().read_only(true).open_world(false);
    Tool::new(name, description, Arc::new(schema)).with_annotations(annotations)
}

/// `"type": ["integer", "null"]` → `"type": "integer"`: an optional argument is one left out,
/// and some clients accept a single type per argument only. Descriptions come from doc
/// comments wrapped for the source; a client shows them as one paragraph.
fn tidy_property(property: &mut Value) {
    if let Some(Value::String(description)) = property.get_mut("description") {
        *description = description.replace('\n', " ");
    }
    if let Some(Value::Array(types)) = property.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if let [single] = kept.as_slice() {
            property["type"] = single.clone();
        }
    }
}

/// Parses a tool's arguments, refusing unknown names with the closest accepted one.
pub fn parse<T: DeserializeOwned + JsonSchema>(
    tool: &str,
    arguments: Option<JsonObject>,
) -> Result<T, ToolError> {
    let mut arguments = arguments.unwrap_or_default();
    let properties = properties_of::<T>();
    let mut accepted: Vec<String> = properties.keys().cloned().collect();
    accepted.sort();
    let unknown: Vec<&String> = arguments
        .keys()
        .filter(|name| !accepted.iter().any(|a| a == *name))
        .collect();
    if !unknown.is_empty() {
        let closest: Vec<(&String, String)> = unknown
            .iter()
            .filter_map(|name| closest(name, &accepted).map(|close| (*name, close)))
            .collect();
        let hints: Vec<String> = closest
            .iter()
            .map(|(name, close)| format!("Did you mean '{close}' instead of '{name}'?"))
            .collect();
        let closest_matches: Map<String, Value> = closest
            .into_iter()
            .map(|(name, close)| (name.clone(), Value::String(close)))
            .collect();
        let names: Vec<&str> = unknown.iter().map(|name| name.as_str()).collect();
        let accepted_list = if accepted.is_empty() {
            "It takes no arguments.".to_owned()
        } else {
            format!("Accepted: {}", accepted.join(", "))
        };
        return Err(ToolError::new(
            "unknown_argument",
            format!(
                "`{tool}` does not accept argument(s): {}. {}{accepted_list}",
                names.join(", "),
                hints
                    .iter()
                    .map(|hint| format!("{hint} "))
                    .collect::<String>(),
            ),
        )
        .with("unknown_arguments", names)
        .with("accepted_arguments", accepted)
        .with("closest_matches", closest_matches));
    }
    for (name, value) in arguments.iter_mut() {
        // Optional arguments declare `["integer", "null"]`, required ones `"integer"`.
        let declared = match properties.get(name).and_then(|p| p.get("type")) {
            Some(Value::String(declared)) => Some(declared.as_str()),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        };
        if let (Some(declared), Value::String(text)) = (declared, &*value)
            && let Some(read) = lenient(declared, text)
        {
            *value = read;
        }
    }
    serde_json::from_value(Value::Object(arguments)).map_err(|error| {
        ToolError::new(
            "invalid_argument",
            format!("invalid arguments for `{tool}`: {error}"),
        )
    })
}

fn properties_of<T: JsonSchema>() -> Map<String, Value> {
    match serde_json::to_value(schemars::schema_for!(T)) {
        Ok(Value::Object(mut schema)) => match schema.remove("properties") {
            Some(Value::Object(properties)) => properties,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// A number or truth value a client sent as text (`"5"`, `"true"`), as small models often do
/// and as the Python server accepted, in the type the argument declares.
fn lenient(declared: &str, text: &str) -> Option<Value> {
    let text = text.trim();
    match declared {
        "integer" => text.parse::<i64>().ok().map(Value::from),
        "number" => text.parse::<f64>().ok().map(Value::from),
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

/// The candidate nearest to `name`, ignoring case: one that starts with it or that it starts
/// with (`zim_file` for `zim_file_path`), else the nearest by edit distance (at most 2 edits,
/// or a third of its length for long names), if any is that near.
pub fn closest(name: &str, candidates: &[String]) -> Option<String> {
    let name = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    let distance = |candidate: &str| {
        let candidate = candidate.to_lowercase();
        // `zim_file` for `zim_file_path`, `search` for `zim_search`.
        let shares_part = name.chars().count() >= 3
            && (candidate.starts_with(&name)
                || name.starts_with(&candidate)
                || candidate.ends_with(&format!("_{name}")));
        if shares_part {
            0
        } else {
            edit_distance(&candidate, &name)
        }
    };
    candidates
        .iter()
        .map(|candidate| (distance(candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.clone())
}

/// Levenshtein distance, over characters: how near a misspelt name is to a known one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Checks that an optional number lies in `range`, naming the argument when it does not.
pub fn bounded(
    name: &str,
    value: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ToolError> {
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        return Ok(value);
    }
    let allowed = if *range.end() == i64::MAX {
        format!("at least {}", range.start())
    } else {
        format!("between {} and {}", range.start(), range.end())
    };
    Err(ToolError::new(
        &format!("invalid_{name}"),
        format!("`{name}` must be {allowed} (provided: {value})"),
    ))
}

/// Opens the archive a call names, seen from the session's directories.
pub fn archive(
    session: &Session,
    requested: &str,
) -> Result<(String, Arc<OpenArchive>), ToolError> {
    let (name, archive) = session.library.lookup(&session.directories, requested)?;
    let open = archive.open().map_err(|reason| {
        ToolError::new("archive_unreadable", format!("{name} {reason}"))
            .with("zim_file_path", name.clone())
    })?;
    Ok((name, open))
}

/// Runs blocking archive work on the blocking pool; a panic there becomes a tool error.
pub async fn blocking<T, F>(work: F) -> Result<T, ToolError>
where
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ToolError::new(
            "internal_error",
            "reading the archive failed unexpectedly",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn the_closest_name_ignores_case_and_completes_prefixes() {
        let names: Vec<String> = ["zim_file_path", "max_content_length", "limit", "zim_query"]
            .map(String::from)
            .to_vec();
        let closest = |name| super::closest(name, &names);
        assert_eq!(closest("zim_file").as_deref(), Some("zim_file_path"));
        assert_eq!(closest("ZIM_QUERY").as_deref(), Some("zim_query"));
        assert_eq!(closest("limitt").as_deref(), Some("limit"));
        assert_eq!(closest("archive"), None);
        let tools: Vec<String> = ["zim_search", "zim_get"].map(String::from).to_vec();
        assert_eq!(
            super::closest("search", &tools).as_deref(),
            Some("zim_search")
        );
    }

    #[test]
    fn numbers_and_truth_values_sent_as_text_are_read_as_declared() {
        assert_eq!(super::lenient("integer", " 5 "), Some(5.into()));
        assert_eq!(super::lenient("boolean", "True"), Some(true.into()));
        assert_eq!(super::lenient("integer", "five"), None);
        assert_eq!(super::lenient("string", "5"), None);
    }

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("limit", "limitt"), 1);
        assert_eq!(edit_distance("query", "qeury"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}

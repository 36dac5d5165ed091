//! `zim_browse`: the entries of one namespace in path order, a page at a time, with an opaque
//! cursor to continue from.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::archive::{Archive, ArchiveError, EntryKind};

/// The tool's name.
pub const NAME: &str = "zim_browse";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BrowseArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// One namespace letter: `C` (content) in new archives; `A` (articles), `I` (images), `-`
    /// (layout) in old ones; `M` (metadata), `W` (well-known), `X` (indexes) in both.
    namespace: String,
    /// Entries per page, 1 to 200 (default 50).
    limit: Option<i64>,
    /// The next_cursor of the previous page, to continue from there.
    cursor: Option<String>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<BrowseArgs>(
        NAME,
        "List the entries of one namespace of a ZIM archive in path order (path, title, type). \
         Pass the answer's next_cursor as cursor to get the next page; done=true means there is \
         no more.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: BrowseArgs = args::parse(NAME, arguments)?;
    let limit = args::bounded("limit", request.limit, 50, 1..=200)? as u32;
    let mut letters = request.namespace.trim().chars();
    let (Some(letter), None) = (letters.next(), letters.next()) else {
        return Err(ToolError::new(
            "invalid_namespace",
            format!(
                "`namespace` must be one letter such as C, A, M (provided: {:?})",
                request.namespace
            ),
        ));
    };
    let start = match &request.cursor {
        Some(cursor) => Some(decode_cursor(cursor, letter)?),
        None => None,
    };
    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    args::blocking(move || {
        page(&open.archive, letter, start, limit)
            .map(|mut answer| {
                answer["zim_file_path"] = Value::String(name.clone());
                answer
            })
            .map_err(|error| ToolError::new("archive_unreadable", format!("{name}: {error}")))
    })
    .await
}

fn page(
    archive: &Archive,
    letter: char,
    start: Option<u32>,
    limit: u32,
) -> Result<Value, ArchiveError> {
    let range = archive.namespace_range(letter)?;
    if range.is_empty() {
        let available: Vec<String> = archive
            .namespaces()?
            .into_iter()
            .map(|(letter, _)| letter.to_string())
            .collect();
        return Ok(json!({
            "namespace": letter.to_string(),
            "results": [],
            "total": 0,
            "done": true,
            "next_cursor": Value::Null,
            "available_namespaces": available,
            "_meta": {"reason": "empty_namespace"},
        }));
    }
    let first = start.unwrap_or(range.start).clamp(range.start, range.end);
    let end = first.saturating_add(limit).min(range.end);
    let mut results = Vec::new();
    for index in first..end {
        // One damaged entry is shown as such, so the rest of the namespace stays reachable.
        let entry = match archive.entry(index) {
            Ok(entry) => entry,
            Err(error) => {
                results.push(json!({"entry_index": index, "error": error.to_string()}));
                continue;
            }
        };
        let mut row = json!({"path": entry.path, "title": entry.title});
        match &entry.kind {
            EntryKind::Item { mime, .. } => row["content_type"] = json!(mime),
            EntryKind::Redirect(target) => {
                row["content_type"] = json!("redirect");
                row["redirect_to"] = json!(archive.entry(*target)?.path);
            }
            EntryKind::Empty => row["content_type"] = json!("empty"),
        }
        results.push(row);
    }
    let done = end >= range.end;
    Ok(json!({
        "namespace": letter.to_string(),
        "results": results,
        "total": range.end - range.start,
        "page_info": {"offset": first - range.start, "limit": limit, "returned_count": end - first},
        "done": done,
        "next_cursor": if done { Value::Null } else { Value::String(encode_cursor(letter, end)) },
    }))
}

fn encode_cursor(letter: char, next: u32) -> String {
    URL_SAFE_NO_PAD.encode(format!("browse:{letter}:{next}"))
}

fn decode_cursor(cursor: &str, letter: char) -> Result<u32, ToolError> {
    let invalid = || {
        ToolError::new(
            "cursor_decode",
            "`cursor` is not a cursor from zim_browse: pass the \
            next_cursor of a previous answer unchanged, or leave it out to start over",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, ':');
    let (Some("browse"), Some(cursor_letter), Some(next)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if cursor_letter != letter.to_string() {
        return Err(ToolError::new(
            "cursor_context_mismatch",
            format!("this cursor continues namespace {cursor_letter}, not {letter}"),
        ));
    }
    next.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_namespaces_and_garbage() {
        let cursor = encode_cursor('C', 42);
        assert_eq!(decode_cursor(&cursor, 'C').unwrap(), 42);
        assert_eq!(
            decode_cursor(&cursor, 'A').unwrap_err().operation,
            "cursor_context_mismatch"
        );
        assert_eq!(
            decode_cursor("!!", 'C').unwrap_err().operation,
            "cursor_decode"
        );
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("browse:C:x"), 'C')
                .unwrap_err()
                .operation,
            "cursor_decode"
        );
    }
}

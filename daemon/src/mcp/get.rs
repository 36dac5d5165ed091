//! `zim_get`: one entry of an archive, or its main page. HTML comes back as Markdown, paged
//! exactly: the offsets count Unicode characters of the Markdown, and reading from each answer's
//! `next_offset` yields the whole text with nothing lost or repeated. Redirects are followed.
//! Other text comes back as it is; binary entries are described, or sent as base64 on request.

use std::sync::Arc;

use base64::Engine;
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use super::entry;
use crate::archive::{Archive, ArchiveError, Resolved};
use crate::content;
use crate::rendered::RenderedCache;

/// The tool's name.
pub const NAME: &str = "zim_get";

/// Bytes of a binary entry sent unless the call asks otherwise.
const DEFAULT_BINARY_BYTES: i64 = 10_000_000;
/// The most bytes of a binary entry one answer carries.
const MAX_BINARY_BYTES: i64 = 25_000_000;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// The entry, e.g. `A/Ray_Charles` in old archives or `Berlin` in new ones (`C/Berlin` also
    /// works). Leave out with main_page=true.
    entry_path: Option<String>,
    /// Return the archive's main page instead of entry_path.
    main_page: Option<bool>,
    /// Text: the most characters to return (default 100000, or the session's
    /// OPENZIM_MCP_CONTENT__MAX_CONTENT_LENGTH). Binary: the most bytes (default
    /// 10000000, at most 25000000).
    max_content_length: Option<i64>,
    /// Text: the character to start at; pass the previous answer's next_offset to read on.
    content_offset: Option<i64>,
    /// Return the entry's bytes as base64 instead of text.
    binary: Option<bool>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<GetArgs>(
        NAME,
        "Read an entry of a ZIM archive (or its main page with main_page=true). Articles come \
         back as Markdown; long ones are paged: when next_offset is not null, call again with \
         content_offset=next_offset to read on. Redirects are followed. Images and other binary \
         entries are described, or returned as base64 with binary=true.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: GetArgs = args::parse(NAME, arguments)?;
    let main_page = request.main_page.unwrap_or(false);
    let binary = request.binary.unwrap_or(false);
    let wanted = match (request.entry_path, main_page) {
        (Some(_), true) => {
            return Err(ToolError::new(
                "invalid_path_combination",
                "`entry_path` and `main_page=true` exclude each other: pass one of them",
            ));
        }
        (None, false) => {
            return Err(ToolError::new(
                "invalid_path_combination",
                "pass `entry_path`, or `main_page=true` for the archive's main page",
            ));
        }
        (Some(path), false) if path.trim().is_empty() => {
            return Err(ToolError::new("invalid_argument", "`entry_path` is empty"));
        }
        (path, _) => path,
    };
    let (max_len, offset) = if binary {
        let max = args::bounded(
            "max_content_length",
            request.max_content_length,
            DEFAULT_BINARY_BYTES,
            1..=MAX_BINARY_BYTES,
        )?;
        (max as usize, 0)
    } else {
        let max = args::bounded(
            "max_content_length",
            request.max_content_length,
            i64::try_from(session.settings.content_max_length).unwrap_or(i64::MAX),
            1..=10_000_000,
        )?;
        let offset = args::bounded("content_offset", request.content_offset, 0, 0..=i64::MAX)?;
        (max as usize, offset as usize)
    };

    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    args::blocking(move || {
        let archive = &open.archive;
        let rendered = session.library.rendered();
        let resolved = entry::locate(&open, &name, wanted.as_deref())?;
        let answer = if binary {
            binary_answer(archive, &resolved, max_len)
        } else {
            text_answer(archive, rendered, &resolved, offset, max_len)
        };
        let mut answer = answer.map_err(|error| entry::read_error(&name, error))?;
        answer["zim_file_path"] = Value::String(name);
        if !resolved.via.is_empty() {
            answer["redirected_from"] = json!(resolved.via);
        }
        answer["source"] = citation(archive);
        Ok(answer)
    })
    .await
}

fn text_answer(
    archive: &Archive,
    rendered: &RenderedCache,
    resolved: &Resolved,
    offset: usize,
    max_len: usize,
) -> Result<Value, ArchiveError> {
    let entry = &resolved.entry;
    let mime = entry.mime().unwrap_or_default().to_owned();
    let bytes = archive.content(entry)?.unwrap_or_default();
    let text: Arc<str> = if mime.starts_with("text/html") {
        rendered.get_or_render(archive.cache_key(), entry.index, || {
            content::html_to_markdown(&String::from_utf8_lossy(&bytes))
        })
    } else if is_text(&mime) {
        Arc::from(String::from_utf8_lossy(&bytes))
    } else {
        return Ok(json!({
            "path": entry.path,
            "title": entry.title,
            "content_type": mime,
            "size": bytes.len(),
            "content": Value::Null,
            "note": format!("binary entry ({mime}, {} bytes): call again with binary=true to \
                receive it as base64", bytes.len()),
        }));
    };
    let page = content::page(&text, offset, max_len);
    let mut answer = json!({
        "path": entry.path,
        "title": entry.title,
        "content_type": mime,
        "content": page.text,
        "content_offset": page.offset,
        "total_chars": page.total_chars,
        "next_offset": page.next_offset,
        "truncated": page.next_offset.is_some(),
    });
    if offset > 0 && offset >= page.total_chars {
        answer["note"] = json!(format!(
            "content_offset {offset} is past the end: the text has {} characters",
            page.total_chars
        ));
    }
    Ok(answer)
}

fn is_text(mime: &str) -> bool {
    mime.starts_with("text/")
        || [
            "application/javascript",
            "application/json",
            "application/xml",
        ]
        .iter()
        .any(|text| mime.starts_with(text))
        || mime.ends_with("+xml")
}

fn binary_answer(
    archive: &Archive,
    resolved: &Resolved,
    max_len: usize,
) -> Result<Value, ArchiveError> {
    let entry = &resolved.entry;
    let bytes = archive.content(entry)?.unwrap_or_default();
    let mut answer = json!({
        "path": entry.path,
        "title": entry.title,
        "mime_type": entry.mime().unwrap_or_default(),
        "size": bytes.len(),
        "encoding": "base64",
        "truncated": bytes.len() > max_len,
    });
    if bytes.len() <= max_len {
        answer["data"] = Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes));
    } else {
        let advice = if bytes.len() as i64 > MAX_BINARY_BYTES {
            format!("entries over {MAX_BINARY_BYTES} bytes cannot be sent through MCP")
        } else {
            format!("raise max_content_length (at most {MAX_BINARY_BYTES}) to receive the data")
        };
        answer["note"] = Value::String(format!(
            "the entry has {} bytes, more than max_content_length={max_len}: {advice}",
            bytes.len()
        ));
    }
    Ok(answer)
}

/// What a model needs to cite the archive: its Title, Source, License and Date where present.
fn citation(archive: &Archive) -> Value {
    let mut source = serde_json::Map::new();
    for key in ["Title", "Source", "License", "Date"] {
        if let Ok(Some(value)) = archive.metadata_text(key)
            && !value.is_empty()
        {
            source.insert(key.to_lowercase(), Value::String(value));
        }
    }
    Value::Object(source)
}

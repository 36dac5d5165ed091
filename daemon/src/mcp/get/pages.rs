//! The answers for an entry's text page by page, and for its bytes.

use base64::Engine;
use serde_json::{Value, json};

use super::super::args::{self, ToolError};
use crate::archive::{Archive, ArchiveError, Entry, Resolved};
use crate::content::{self, Budget, Rendered};

/// Bytes of a binary entry sent unless the call asks otherwise.
const DEFAULT_BINARY_BYTES: i64 = 10_000_000;
/// The most bytes of a binary entry one answer carries.
const MAX_BINARY_BYTES: i64 = 25_000_000;

/// One page of `text` from char `offset`. A page that is not the last says in `notice` how to
/// read on: `again` opens the sentence ("Call zim_get again with the same arguments and").
pub fn page_answer(
    entry: &Entry,
    mime: &str,
    text: &Rendered,
    offset: usize,
    budget: Budget,
    again: &str,
) -> Value {
    let page = content::page_in(&text.markdown, offset, budget);
    let total = page.total_chars;
    let mut answer = json!({
        "path": entry.path,
        "title": entry.title,
        "content_type": mime,
        "content": page.text,
        "content_offset": page.offset,
        "total_chars": total,
        "next_offset": page.next_offset,
        "truncated": page.next_offset.is_some(),
        "estimated_tokens": content::estimate_tokens(&page.text),
    });
    if offset > 0 && offset >= total {
        answer["note"] = json!(format!(
            "content_offset {offset} is past the end: the text has {total} characters"
        ));
        return answer;
    }
    let (number, count) = content::page_number(&text.markdown, offset, budget);
    answer["page"] = json!(number);
    answer["page_count"] = json!(count);
    if let Some(next) = page.next_offset {
        answer["notice"] = json!(format!(
            "{again} content_offset={next} to read on (page {number} of {count}; this page \
             holds characters {offset} to {next} of {total})."
        ));
    }
    answer
}

/// An entry that is not text, described.
pub fn describe_binary(entry: &Entry, mime: &str, size: usize) -> Value {
    json!({
        "path": entry.path,
        "title": entry.title,
        "content_type": mime,
        "size": size,
        "content": Value::Null,
        "note": format!("binary entry ({mime}, {size} bytes): call again with binary=true to \
            receive it as base64"),
    })
}

/// The most bytes a binary read may return, from the call's `max_content_length`.
pub fn binary_limit(requested: Option<i64>) -> Result<usize, ToolError> {
    let max = args::bounded(
        "max_content_length",
        requested,
        DEFAULT_BINARY_BYTES,
        1..=MAX_BINARY_BYTES,
    )?;
    Ok(max as usize)
}

/// An entry's bytes as base64, or a description when they are more than `max_len`.
pub fn binary_answer(
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
    if !resolved.via.is_empty() {
        answer["redirected_from"] = json!(resolved.via);
    }
    Ok(answer)
}

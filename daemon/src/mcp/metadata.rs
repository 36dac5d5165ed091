//! `zim_metadata`: what an archive says about itself, its counts, namespaces and indexes.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::archive::ArchiveError;
use crate::fulltext::embedded::IndexKind;
use crate::library::OpenArchive;

/// The tool's name.
pub const NAME: &str = "zim_metadata";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MetadataArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<MetadataArgs>(
        NAME,
        "Describe a ZIM archive: its M/ metadata (Title, Description, Language, Creator, Date, \
         …; illustrations summarised), entry and article counts, namespaces with their entry \
         counts, UUID, whether it is split, and whether it has full-text and title indexes.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: MetadataArgs = args::parse(NAME, arguments)?;
    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    args::blocking(move || {
        describe(&open, &name)
            .map_err(|error| ToolError::new("archive_unreadable", format!("{name}: {error}")))
    })
    .await
}

fn describe(open: &OpenArchive, name: &str) -> Result<Value, ArchiveError> {
    let (archive, split) = (&open.archive, open.split);
    let mut metadata = Map::new();
    for entry in archive.metadata_entries()? {
        let key = entry.path.trim_start_matches("M/").to_owned();
        let bytes = archive.content(&entry)?.unwrap_or_default();
        let mime = entry.mime().unwrap_or_default();
        let value = match std::str::from_utf8(&bytes) {
            Ok(text) if !key.starts_with("Illustration_") && !mime.starts_with("image/") => {
                Value::String(text.to_owned())
            }
            _ => Value::String(format!(
                "<{}, {} bytes>",
                describe_binary(&bytes, mime),
                bytes.len()
            )),
        };
        metadata.insert(key, value);
    }

    let namespaces: Vec<Value> = archive
        .namespaces()?
        .into_iter()
        .map(|(letter, count)| {
            json!({"namespace": letter.to_string(), "entries": count,
                   "description": namespace_description(letter, archive.is_new_scheme())})
        })
        .collect();

    Ok(json!({
        "zim_file_path": name,
        "metadata": metadata,
        "counts": {
            "article_count": archive.article_count()?,
            "entry_count": archive.entry_count()?,
            "all_entry_count": archive.all_entry_count(),
        },
        "namespaces": namespaces,
        "archive_identity": {
            "uuid": archive.uuid(),
            "is_multipart": split,
            "format_version": archive.version(),
            "namespace_scheme": if archive.is_new_scheme() { "new" } else { "old" },
        },
        "index_capabilities": {
            "has_fulltext_index": archive.has_fulltext_index()?,
            "has_title_index": archive.has_title_index()?,
            "fulltext_search": open.indexes.describe(archive, IndexKind::Fulltext),
            "title_suggestions": open.indexes.describe(archive, IndexKind::Title),
        },
    }))
}

fn describe_binary(bytes: &[u8], mime: &str) -> &'static str {
    if bytes.starts_with(b"\x89PNG") || mime == "image/png" {
        "PNG"
    } else if mime.starts_with("image/") {
        "image"
    } else {
        "binary"
    }
}

fn namespace_description(letter: char, new_scheme: bool) -> &'static str {
    match (letter, new_scheme) {
        ('C', _) => "content: articles and their resources",
        ('A', false) => "articles",
        ('I', false) => "images and media",
        ('-', false) => "layout: stylesheets, scripts, favicon",
        ('M', _) => "metadata",
        ('W', _) => "well-known entries such as the main page",
        ('X', _) => "search indexes and title listings",
        _ => "other",
    }
}

//! `zim_metadata`: what an archive says about itself, its counts, namespaces and indexes.

use std::sync::Arc;

use ozm_protocol::BuildState;
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::archive::ArchiveError;
use crate::fulltext::embedded::IndexKind;
use crate::library::OpenArchive;
use crate::ownindex;

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
    let wants_own = session.library.indexer().wants_fulltext(&open);
    args::blocking(move || {
        describe(&open, &name, wants_own)
            .map_err(|error| ToolError::new("archive_unreadable", format!("{name}: {error}")))
    })
    .await
}

fn describe(open: &OpenArchive, name: &str, wants_own: bool) -> Result<Value, ArchiveError> {
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
            "fulltext_search": fulltext_source(open, wants_own),
            "title_suggestions": title_source(open),
            "own_indexes": open.own.states().iter()
                .map(|(kind, state)| ownindex::state_json(name, *kind, state))
                .collect::<Vec<_>>(),
        },
    }))
}

/// What answers suggestions: the archive's title index, else ozm's folded one (built on the
/// first title search of a small archive), else the archive's title listing.
fn title_source(open: &OpenArchive) -> String {
    let embedded = open.indexes.describe(&open.archive, IndexKind::Title);
    if embedded.starts_with("the archive's Xapian") {
        return embedded;
    }
    let folded_ready = open.own.states().iter().any(|(kind, state)| {
        *kind == ozm_protocol::IndexKind::Titles && matches!(state, BuildState::Ready { .. })
    });
    if folded_ready {
        "ozm's folded title index".to_owned()
    } else {
        "the archive's title listing until ozm's folded title index is built".to_owned()
    }
}

/// What answers full-text searches: ozm's own index where it is wanted, else the archive's.
fn fulltext_source(open: &OpenArchive, wants_own: bool) -> String {
    let embedded = open.indexes.describe(&open.archive, IndexKind::Fulltext);
    if !wants_own {
        return embedded;
    }
    match open.own.fulltext_state() {
        Some(BuildState::Ready { documents, .. }) => {
            format!(
                "ozm's own index ({} articles)",
                ownindex::grouped(documents)
            )
        }
        Some(BuildState::Failed(reason)) => {
            format!("titles only: the build of ozm's own index failed: {reason}")
        }
        _ if embedded.starts_with("the archive's") => {
            format!("{embedded} until ozm's own index is built")
        }
        _ => "titles only until ozm's own index is built".to_owned(),
    }
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

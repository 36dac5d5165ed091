//! `zim_search`: finding entries. Title search (`mode="title"` or `"suggest"`) matches titles
//! that start with the query, ignoring case and accents, with redirects resolved to their
//! targets. Full-text search is not built yet and says so.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::archive::titles;
use crate::library::OpenArchive;

/// The tool's name.
pub const NAME: &str = "zim_search";

/// The longest query accepted, as in openzim-mcp.
const MAX_QUERY_CHARS: usize = 4096;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    /// What to look for.
    query: String,
    /// `title` (titles starting with the query), `suggest` (the same, for completion) or
    /// `fulltext` (not available yet in this version). Default: title, until full-text search
    /// exists.
    mode: Option<String>,
    /// The archive; may be left out when only one archive is served.
    zim_file_path: Option<String>,
    /// Search every archive of this session instead of one.
    cross_file: Option<bool>,
    /// Results per archive, 1 to 50 (default 10).
    limit: Option<i64>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<SearchArgs>(
        NAME,
        "Search a ZIM archive. mode=\"title\" finds entries whose title starts with the query, \
         ignoring case and accents; redirects lead to their target. Use the returned path with \
         zim_get. cross_file=true searches every archive.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: SearchArgs = args::parse(NAME, arguments)?;
    let query: String = request.query.chars().filter(|c| !c.is_control()).collect();
    let query = query.trim().to_owned();
    // Accents alone (combining marks) fold to nothing, which would match every title.
    if titles::fold(&query).trim().is_empty() {
        return Err(ToolError::new("invalid_query", "`query` is empty"));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ToolError::new(
            "invalid_query",
            format!("`query` is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let mode = request
        .mode
        .as_deref()
        .unwrap_or("title")
        .trim()
        .to_lowercase();
    match mode.as_str() {
        "title" | "suggest" => {}
        "fulltext" => {
            return Err(ToolError::new(
                "fulltext_unavailable",
                "full-text search is not yet available in this version of ozm; use \
                 mode=\"title\" to find entries by title",
            ));
        }
        other => {
            return Err(ToolError::new(
                "invalid_mode",
                format!("`mode` must be fulltext, title or suggest (provided: {other:?})"),
            ));
        }
    }
    let default_limit = session.settings.search_default_limit.min(50) as i64;
    let limit = args::bounded("limit", request.limit, default_limit, 1..=50)? as usize;
    let cross_file = request.cross_file.unwrap_or(false);

    let targets = if cross_file {
        if request.zim_file_path.is_some() {
            return Err(ToolError::new(
                "invalid_combination",
                "`zim_file_path` and `cross_file=true` exclude each other",
            ));
        }
        session
            .library
            .visible_from(&session.directories)
            .into_iter()
            .filter_map(|(name, archive)| archive.open().ok().map(|open| (name, open)))
            .collect()
    } else {
        vec![single_archive(&session, request.zim_file_path.as_deref())?]
    };

    let search_query = query.clone();
    let results = args::blocking(move || {
        let mut results = Vec::new();
        for (name, open) in &targets {
            results.extend(search_one(name, open, &search_query, limit)?);
        }
        Ok(results)
    })
    .await?;
    Ok(json!({
        "query": query,
        "mode": mode,
        "results": results,
        "returned_count": results.len(),
    }))
}

fn single_archive(
    session: &Session,
    requested: Option<&str>,
) -> Result<(String, Arc<OpenArchive>), ToolError> {
    if let Some(requested) = requested {
        return args::archive(session, requested);
    }
    let visible = session.library.visible_from(&session.directories);
    let readable: Vec<_> = visible
        .iter()
        .filter(|(_, archive)| archive.open().is_ok())
        .collect();
    match readable.as_slice() {
        [(name, _)] => args::archive(session, name),
        _ => Err(ToolError::new(
            "invalid_argument",
            "`zim_file_path` is required when more than one archive is served (or pass \
             cross_file=true)",
        )
        .with(
            "available_archives",
            readable
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>(),
        )),
    }
}

fn search_one(
    name: &str,
    open: &OpenArchive,
    query: &str,
    limit: usize,
) -> Result<Vec<Value>, ToolError> {
    let matches = titles::search(&open.archive, &open.titles, query, limit)
        .map_err(|error| ToolError::new("archive_unreadable", format!("{name}: {error}")))?;
    Ok(matches
        .into_iter()
        .map(|found| {
            let mut row = json!({
                "zim_file_path": name,
                "path": found.entry.path,
                "title": found.entry.title,
            });
            if let Some(from) = found.redirect_from {
                row["matched_title"] = json!(found.matched_title);
                row["redirect_from"] = json!(from);
            }
            row
        })
        .collect())
}

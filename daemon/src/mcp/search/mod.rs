//! `zim_search`: full-text search, titles and suggestions, over one archive or all of a
//! session's archives. Full-text search reads the Xapian index inside the archive and ranks as
//! libzim does; an archive without one (or with a damaged one) is searched by title instead,
//! and the answer says so. This module checks the arguments; [`run`] does the searching.

mod run;

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::Session;
use super::args::{self, ToolError};
use crate::archive::titles;
use crate::fulltext::embedded::Filter;

/// The tool's name.
pub const NAME: &str = "zim_search";

/// The longest query accepted, as in openzim-mcp.
const MAX_QUERY_CHARS: usize = 4096;

/// The deepest a full-text page may start, so a query cannot make the daemon rank millions.
pub(super) const MAX_OFFSET: i64 = 10_000;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    /// What to look for. Words are all required; "quoted words" must be adjacent where the
    /// index allows, -word excludes a word, and OR (in capitals) offers alternatives.
    query: String,
    /// `fulltext` (default: article text, ranked), `title` (titles starting with the query)
    /// or `suggest` (title completions ranked as Kiwix ranks them).
    mode: Option<String>,
    /// The archive; may be left out when only one archive is served.
    zim_file_path: Option<String>,
    /// Search every archive of this session instead of one, in one ranking.
    cross_file: Option<bool>,
    /// Results to return: 1 to 1000 for fulltext (default 10), 1 to 50 otherwise.
    limit: Option<i64>,
    /// Full-text results to skip, for the next page: 0 (default) to 10000.
    offset: Option<i64>,
    /// Full-text only: keep entries of this namespace (`C` in new archives, `A` in old ones).
    namespace: Option<String>,
    /// Full-text only: keep entries whose MIME type starts with this, such as `text/html`.
    content_type: Option<String>,
}

/// What kind of search was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fulltext,
    Title,
    Suggest,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Fulltext => "fulltext",
            Mode::Title => "title",
            Mode::Suggest => "suggest",
        }
    }
}

/// A checked request.
struct Request {
    query: String,
    mode: Mode,
    limit: usize,
    offset: usize,
    filter: Filter,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<SearchArgs>(
        NAME,
        "Search ZIM archives. mode=\"fulltext\" (default) searches article text with the \
         archive's own index, ranked as Kiwix ranks it, with a snippet per result; \
         mode=\"title\" finds titles starting with the query; mode=\"suggest\" completes a \
         title as it is typed. Use the returned path with zim_get. cross_file=true searches \
         every archive in one ranking; offset pages through full-text results.",
    )
}

/// Answers a call; `cancel` fires when the client cancels the call or goes away.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    let raw: SearchArgs = args::parse(NAME, arguments)?;
    let cross_file = raw.cross_file.unwrap_or(false);
    if cross_file && raw.zim_file_path.is_some() {
        return Err(ToolError::new(
            "invalid_combination",
            "`zim_file_path` and `cross_file=true` exclude each other",
        ));
    }
    let requested = raw.zim_file_path.clone();
    let request = check(&session, raw)?;
    run::search(session, request, requested, cross_file, cancel).await
}

fn check(session: &Session, raw: SearchArgs) -> Result<Request, ToolError> {
    let query = clean_query(&raw.query);
    // Accents alone (combining marks) are removed from every query and leave nothing.
    if titles::fold(&query).trim().is_empty() {
        return Err(ToolError::new("invalid_query", "`query` is empty"));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ToolError::new(
            "invalid_query",
            format!("`query` is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let mode = match raw
        .mode
        .as_deref()
        .map(|mode| mode.trim().to_lowercase())
        .as_deref()
    {
        None | Some("fulltext") => Mode::Fulltext,
        Some("title") => Mode::Title,
        Some("suggest") => Mode::Suggest,
        Some(other) => {
            return Err(ToolError::new(
                "invalid_mode",
                format!("`mode` must be fulltext, title or suggest (provided: {other:?})"),
            ));
        }
    };
    let max_limit = if mode == Mode::Fulltext { 1000 } else { 50 };
    let default_limit = (session.settings.search_default_limit as i64).clamp(1, max_limit);
    let limit = args::bounded("limit", raw.limit, default_limit, 1..=max_limit)? as usize;
    if mode != Mode::Fulltext {
        for (name, given) in [
            ("offset", raw.offset.is_some()),
            ("namespace", raw.namespace.is_some()),
            ("content_type", raw.content_type.is_some()),
        ] {
            if given {
                return Err(ToolError::new(
                    "invalid_combination",
                    format!("`{name}` applies to mode=\"fulltext\" only"),
                ));
            }
        }
    }
    let offset = args::bounded("offset", raw.offset, 0, 0..=MAX_OFFSET)? as usize;
    let namespace = match raw.namespace.as_deref().map(str::trim) {
        None => None,
        Some(letter) if letter.len() == 1 && letter.is_ascii() => letter.chars().next(),
        Some(other) => {
            return Err(ToolError::new(
                "invalid_namespace",
                format!("`namespace` is one letter, such as C or A (provided: {other:?})"),
            ));
        }
    };
    // MIME types are case-insensitive.
    let content_type = raw
        .content_type
        .map(|kind| kind.trim().to_ascii_lowercase());
    if content_type
        .as_ref()
        .is_some_and(|kind| kind.is_empty() || kind.len() > 100)
    {
        return Err(ToolError::new(
            "invalid_content_type",
            "`content_type` is a MIME type or its start, such as text/html",
        ));
    }
    Ok(Request {
        query,
        mode,
        limit,
        offset,
        filter: Filter {
            namespace,
            content_type,
        },
    })
}

/// The query with control characters and direction marks turned into spaces (they are
/// invisible, and would otherwise glue words together or split them) and zero-width joiners
/// removed.
fn clean_query(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        // Zero-width spaces and joiners sit inside words; Xapian drops them, and so do titles.
        .filter(|c| !matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'))
        .map(|c| {
            let direction_mark = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{061c}' | '\u{feff}');
            if c.is_control() || direction_mark {
                ' '
            } else {
                c
            }
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::clean_query;

    #[test]
    fn invisible_characters_become_spaces() {
        assert_eq!(
            clean_query("ray\u{200f}charles\u{0}\n piano"),
            "ray charles piano"
        );
        assert_eq!(clean_query("\u{202e}\t"), "");
        assert_eq!(clean_query("ra\u{200d}y"), "ray");
    }
}

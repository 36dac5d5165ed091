//! `zim_query`: one tool that takes a request in plain words, for models too small to choose
//! among tools and arguments. A fixed set of rules ([`intent`]) says what the query asks for;
//! [`run`] picks the archive ([`target`]), finds articles named by title ([`locate`], [`read`];
//! a query that is only an article's name opens it, [`bare`]) and calls the real tool through
//! the same dispatch a client's call goes through; [`answer`] renders its result as short
//! Markdown. The answer also carries the tool and arguments used, so a model can call that
//! tool directly next time.

mod answer;
mod archives;
mod bare;
mod intent;
mod locate;
mod read;
mod run;
mod target;
mod words;

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::Session;
use super::args::{self, ToolError};

/// The tool's name.
pub const NAME: &str = "zim_query";

/// The longest query accepted, as in openzim-mcp.
const MAX_QUERY_CHARS: usize = 4096;

// The call's arguments; once checked (the query trimmed and its length checked, a blank archive
// name left out), the request the other parts of the tool answer. (No doc comment: it would
// become the input schema's description.)
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Request {
    /// The request in plain words, e.g. "tell me about Ray Charles", "search for piano",
    /// "summary of Ray Charles", "the History section of ARTICLE", "what links to
    /// Ray Charles", "list archives", "main page of zimfile". At most 4096 characters.
    query: String,
    /// The archive (a name from "list archives"). May be left out when only one archive is
    /// served or the query names one ("... in zimfile").
    zim_file_path: Option<String>,
    /// How many results a search, listing or link list returns, at least 1. A larger number
    /// than the request allows is brought down to its most: full-text search 1 to 1000
    /// (default 10), titles and suggestions 1 to 50 (default 10), a page of a namespace 1 to
    /// 200 (default 50), a walk 1 to 500 (default 200), links out of an article 1 to 500,
    /// links into it and related articles 1 to 100 (default 25 for links).
    limit: Option<i64>,
    /// Results to skip, for the next page of a search or listing.
    offset: Option<i64>,
    /// The next_cursor of a previous listing or link list, to continue it.
    cursor: Option<String>,
    /// Where to start reading an article, in characters: pass the number an earlier answer
    /// gave to read on.
    content_offset: Option<i64>,
    /// The most characters of article text to return (default 4000).
    max_content_length: Option<i64>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<Request>(
        NAME,
        "Ask the offline ZIM archives (Wikipedia, Wikibooks, ...) in plain words. Examples: \
         \"list archives\", \"what is in zimfile\", \"main page\", \"search for piano\", \
         \"search all archives for piano\", \"tell me about Ray Charles\", \"Ray Charles\" (a \
         bare title or entry path opens the article), \"summary of Ray Charles\", \"table of \
         contents of Ray Charles\", \"the History section of ARTICLE\", \"links in Ray \
         Charles\", \"what links to Ray Charles\", \"articles related to Ray Charles\", \"is \
         there an article called Hallelujah\", \"titles starting with Ray\", \"browse namespace \
         A\". Name the archive with zim_file_path or in the query (\"... in zimfile\") when \
         several are served. The answer has a Markdown `answer`, the tool and arguments it used, \
         and that tool's `result`; long articles continue with content_offset, longer lists with \
         offset or cursor.",
    )
}

/// Answers a call; `cancel` fires when the client cancels the call or goes away.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    let raw: Request = args::parse(NAME, arguments)?;
    let query = without_control_characters(&raw.query).trim().to_owned();
    if query.is_empty() {
        return Err(ToolError::new(
            "invalid_query",
            "`query` is empty: say what you want, e.g. \"search for piano\"",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ToolError::new(
            "invalid_query",
            format!("`query` is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    // Each request has its own most, to which a larger limit is brought down.
    if let Some(limit) = raw.limit.filter(|&limit| limit < 1) {
        return Err(ToolError::new(
            "invalid_limit",
            format!("`limit` must be at least 1 (provided: {limit})"),
        ));
    }
    args::bounded("offset", raw.offset, 0, 0..=i64::MAX)?;
    args::bounded("content_offset", raw.content_offset, 0, 0..=i64::MAX)?;
    args::bounded(
        "max_content_length",
        raw.max_content_length,
        1,
        1..=i64::MAX,
    )?;
    let request = Request {
        query,
        zim_file_path: raw.zim_file_path.filter(|path| !path.trim().is_empty()),
        ..raw
    };
    run::answer(session, request, cancel).await
}

/// `query` without control characters: a line break or tab becomes a space, anything else
/// (a NUL) goes. They are invisible, and an answer that quotes the query must not carry them.
fn without_control_characters(query: &str) -> String {
    query
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_taken_out_of_queries() {
        let cleaned = super::without_control_characters("Ray\0 Charles\u{7}\n\tpiano\u{9b}");
        assert_eq!(cleaned, "Ray Charles  piano");
    }
}

//! `zim_query`: one tool that takes a request in plain words, for models too small to choose
//! among tools and arguments. A fixed set of rules ([`intent`]) says what the query asks for;
//! [`run`] picks the archive ([`target`]), finds articles named by title ([`locate`], [`read`])
//! and calls the real tool through the same dispatch a client's call goes through; [`answer`]
//! renders its result as short Markdown. The answer also carries the tool and arguments used,
//! so a model can call that tool directly next time.

mod answer;
mod archives;
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    /// The request in plain words, e.g. "tell me about Ray Charles", "search for piano",
    /// "summary of Ray Charles", "the Early life section of Ray Charles", "what links to
    /// Ray Charles", "list archives", "main page of zimfile". At most 4096 characters.
    query: String,
    /// The archive (a name from "list archives"). May be left out when only one archive is
    /// served or the query names one ("... in zimfile").
    zim_file_path: Option<String>,
    /// How many results a search, listing or link list returns (default 10 for searches, 50
    /// for a page of a namespace, 200 for a walk, 25 for links).
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

/// A checked request: the arguments, the query trimmed and its length checked.
pub(super) struct Request {
    query: String,
    zim_file_path: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    cursor: Option<String>,
    content_offset: Option<i64>,
    max_content_length: Option<i64>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<QueryArgs>(
        NAME,
        "Ask the offline ZIM archives (Wikipedia, Wikibooks, ...) in plain words. Examples: \
         \"list archives\", \"what is in zimfile\", \"main page\", \"search for piano\", \
         \"tell me about Ray Charles\", \"show me the article Ray Charles\", \"summary of Ray \
         Charles\", \"table of contents of Ray Charles\", \"the Early life section of Ray \
         Charles\", \"links in Ray Charles\", \"what links to Ray Charles\", \"articles related \
         to Ray Charles\", \"is there an article called Hallelujah\", \"titles starting with \
         Ray\", \"browse namespace A\". Name the archive with zim_file_path or in the query \
         (\"... in zimfile\") when several are served. The answer has a Markdown `answer`, the \
         tool and arguments it used, and that tool's `result`; long articles continue with \
         content_offset, longer lists with offset or cursor.",
    )
}

/// Answers a call; `cancel` fires when the client cancels the call or goes away.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    let raw: QueryArgs = args::parse(NAME, arguments)?;
    let query = raw.query.trim().to_owned();
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
        limit: raw.limit,
        offset: raw.offset,
        cursor: raw.cursor,
        content_offset: raw.content_offset,
        max_content_length: raw.max_content_length,
    };
    run::answer(session, request, cancel).await
}

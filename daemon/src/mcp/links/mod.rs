//! `zim_links`: the links of an article (`outbound`, every occurrence in document order), the
//! entries it links to most (`related`), and the articles that link to it (`inbound`, from the
//! link graph the daemon builds in the background; until it is ready, the answer says how far
//! the build has come and when to ask again).

mod answers;
mod cursor;

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use super::browse::cursor::archive_tag;
use super::entry;
use crate::links::Kind;
use answers::Page;

/// The tool's name.
pub const NAME: &str = "zim_links";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LinksArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// The article, e.g. `A/Ray_Charles` in old archives or `Berlin` in new ones.
    entry_path: String,
    /// `outbound` (default): the page's links in document order; `related`: the entries it
    /// links to most, each once; `inbound`: the articles that link to it.
    direction: Option<String>,
    /// Outbound only: `internal` (default, entries of the archive), `external` (web sites) or
    /// `media` (images, sounds, videos).
    kind: Option<String>,
    /// Results per page: outbound 1 to 500 (default 100); inbound and related 1 to 100
    /// (default 10).
    limit: Option<i64>,
    /// Results to skip (outbound and inbound). Or pass `cursor` instead.
    offset: Option<i64>,
    /// The next_cursor of the previous answer, to continue from there.
    cursor: Option<String>,
}

/// Which way the links are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Outbound,
    Inbound,
    Related,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
            Direction::Related => "related",
        }
    }
}

/// What a cursor is bound to: a cursor made for another archive, page or listing is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    /// The archive, as [`archive_tag`] names it.
    archive: u64,
    direction: Direction,
    kind: Kind,
    entry_path: String,
}

/// A call's arguments, checked.
struct Request {
    direction: Direction,
    kind: Kind,
    limit: usize,
    offset: usize,
    cursor: Option<(Context, usize)>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<LinksArgs>(
        NAME,
        "The links of an article. direction=outbound (default) lists its links in document \
         order (kind=internal, external or media), each internal one with the path zim_get \
         takes (exists=false for entries the archive lacks); direction=related lists the \
         entries it links to most; direction=inbound lists the articles that link to it, from \
         a link graph the server builds in the background (until it is ready, the answer says \
         when to ask again). Page with cursor=next_cursor.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: LinksArgs = args::parse(NAME, arguments)?;
    if request.entry_path.trim().is_empty() {
        return Err(ToolError::new("invalid_argument", "`entry_path` is empty"));
    }
    let checked = check(&request)?;
    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    let graph = match checked.direction {
        Direction::Outbound => None,
        _ => session.library.indexer().links(&open),
    };
    args::blocking(move || {
        let resolved = entry::locate(&open, &name, Some(&request.entry_path))?;
        let page = resolved.entry;
        let context = Context {
            archive: archive_tag(&open.archive),
            direction: checked.direction,
            kind: checked.kind,
            entry_path: page.path.clone(),
        };
        let offset = match &checked.cursor {
            Some((made_for, _)) if *made_for != context => {
                return Err(cursor::mismatch(made_for, &context));
            }
            Some((_, offset)) => *offset,
            None => checked.offset,
        };
        let page_of = Page {
            context: &context,
            offset,
            limit: checked.limit,
        };
        let mut answer = match checked.direction {
            Direction::Outbound => answers::outbound(&open.archive, &page, &page_of),
            Direction::Related => answers::related(&open, &page, graph.as_deref(), checked.limit),
            Direction::Inbound => match &graph {
                Some(graph) => answers::inbound(&open.archive, &page, graph, &page_of),
                None => Ok(answers::pending(&open, &name, &page)),
            },
        }
        .map_err(|error| entry::read_error(&name, error))?;
        answer["zim_file_path"] = Value::String(name);
        answer["direction"] = json!(checked.direction.name());
        if !resolved.via.is_empty() {
            answer["redirected_from"] = json!(resolved.via);
        }
        Ok(answer)
    })
    .await
}

fn check(request: &LinksArgs) -> Result<Request, ToolError> {
    let direction = match request.direction.as_deref().map(str::trim) {
        None | Some("outbound") => Direction::Outbound,
        Some("inbound") => Direction::Inbound,
        Some("related") => Direction::Related,
        Some(other) => {
            return Err(ToolError::new(
                "invalid_direction",
                format!("`direction` must be outbound, inbound or related (provided: {other:?})"),
            ));
        }
    };
    let kind = match request.kind.as_deref().map(str::trim) {
        None | Some("internal") => Kind::Internal,
        Some("external") => Kind::External,
        Some("media") => Kind::Media,
        Some(other) => {
            return Err(ToolError::new(
                "invalid_kind",
                format!("`kind` must be internal, external or media (provided: {other:?})"),
            ));
        }
    };
    if direction != Direction::Outbound && kind != Kind::Internal {
        return Err(ToolError::new(
            "invalid_combination",
            format!(
                "`kind` applies to direction=outbound only: {} links are links between \
                 articles",
                direction.name()
            ),
        ));
    }
    let (default, most) = match direction {
        Direction::Outbound => (100, 500),
        _ => (10, 100),
    };
    let limit = args::bounded("limit", request.limit, default, 1..=most)? as usize;
    let offset = args::bounded("offset", request.offset, 0, 0..=i64::from(u32::MAX))? as usize;
    if direction == Direction::Related && (request.offset.is_some() || request.cursor.is_some()) {
        return Err(ToolError::new(
            "invalid_combination",
            "direction=related answers one page: leave out `offset` and `cursor`, and raise \
             `limit` (at most 100) for more",
        ));
    }
    if request.offset.is_some() && request.cursor.is_some() {
        return Err(ToolError::new(
            "invalid_combination",
            "`cursor` and `offset` exclude each other: a cursor already knows where to go on",
        ));
    }
    let cursor = request.cursor.as_deref().map(cursor::decode).transpose()?;
    Ok(Request {
        direction,
        kind,
        limit,
        offset,
        cursor,
    })
}

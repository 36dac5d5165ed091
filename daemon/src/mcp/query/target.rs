//! Which archive a query is answered from, and the calls made on its behalf: the arguments the
//! request adds (limit, offsets, cursor, text window) and the call itself, through the same
//! dispatch a client's call goes through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

use super::archives;
use super::run::{Outcome, Run};
use crate::mcp::args::{self, ToolError};
use crate::mcp::tools;

/// Characters of an article an answer carries unless the call says otherwise: enough for the
/// lead of an article without filling a small model's context.
const ARTICLE_CHARS: i64 = 4000;

/// The most results one call of each tool gives; a larger `limit` is brought down to it.
pub mod most {
    /// zim_search, full text.
    pub const FULLTEXT: i64 = 1000;
    /// zim_search, titles and suggestions.
    pub const TITLES: i64 = 50;
    /// zim_browse, mode=page.
    pub const PAGE: i64 = 200;
    /// zim_browse, mode=walk.
    pub const WALK: i64 = 500;
    /// zim_links, direction=outbound.
    pub const OUTBOUND: i64 = 500;
    /// zim_links, inbound and related.
    pub const LINKED: i64 = 100;
}

/// The answer of a tool called on the query's behalf.
type ToolCall<'a> = Pin<Box<dyn Future<Output = Result<Value, ToolError>> + Send + 'a>>;

impl Run {
    /// A subject without a closing archive mention, and the archive to use: the one named,
    /// else the request's, else the only one; `None` means every archive (when `all`).
    pub fn subject(
        &self,
        subject: &str,
        mentioned: Option<Vec<String>>,
        all: bool,
    ) -> Result<(String, Option<String>), ToolError> {
        let (subject, named) = match archives::take_from_subject(subject, &self.names) {
            Some((rest, found)) if mentioned.is_none() => (rest, Some(found)),
            _ => (subject.to_owned(), mentioned),
        };
        if subject.trim().is_empty() {
            return Err(ToolError::new(
                "invalid_query",
                "the query names no subject: say what to look for, e.g. \"search for piano\"",
            ));
        }
        Ok((subject, self.archive(named, all)?))
    }

    /// The archives a scope slot names, else those the query named.
    pub fn scope(&self, scope: &str, mentioned: Option<Vec<String>>) -> Option<Vec<String>> {
        archives::scope(scope, &self.names).or(mentioned)
    }

    /// The one archive to use.
    pub fn one(&self, named: Option<Vec<String>>) -> Result<String, ToolError> {
        self.archive(named, false)?
            .ok_or_else(|| self.ask_for_archive())
    }

    /// The archive to use: the request's, else the one named, else the only one served;
    /// `None` (every archive) when none is and `all` allows it.
    fn archive(&self, named: Option<Vec<String>>, all: bool) -> Result<Option<String>, ToolError> {
        if let Some(path) = &self.request.zim_file_path {
            return Ok(Some(path.clone()));
        }
        match named.as_deref() {
            Some([one]) => return Ok(Some(one.clone())),
            Some(several) if !several.is_empty() => {
                return Err(ToolError::new(
                    "ambiguous_archive",
                    format!(
                        "the query names several archives: {}. Name one fully or pass it as \
                         zim_file_path",
                        several.join(", ")
                    ),
                )
                .with("candidates", several.to_vec()));
            }
            _ => {}
        }
        match self.names.as_slice() {
            [one] => Ok(Some(one.clone())),
            [] => Err(ToolError::new(
                "no_archives_loaded",
                "no readable archive is served to this session",
            )),
            _ if all => Ok(None),
            _ => Err(self.ask_for_archive()),
        }
    }

    /// The error that asks which archive to use.
    pub fn ask_for_archive(&self) -> ToolError {
        ToolError::new(
            "invalid_argument",
            format!(
                "several archives are served: name one in the query (\"... in zimfile\") or pass \
                 zim_file_path. Available: {}",
                self.names.join(", ")
            ),
        )
        .with("available_archives", self.names.clone())
    }

    /// The error for a scope that names no archive.
    pub fn no_archive_named(&self, scope: &str) -> ToolError {
        ToolError::new(
            "missing_archive",
            format!(
                "no served archive is named '{scope}'. Available: {}",
                self.names.join(", ")
            ),
        )
        .with("available_archives", self.names.clone())
    }

    /// `C` in archives of the new namespace scheme, `A` in old ones.
    pub fn content_namespace(&self, archive: &str) -> Result<char, ToolError> {
        let (_, open) = args::archive(&self.session, archive)?;
        Ok(if open.archive.is_new_scheme() {
            'C'
        } else {
            'A'
        })
    }

    /// Calls a tool as a client would; its refusal names the tool and the arguments, as an
    /// answer does, so the model can see what to change. Boxed behind a named type: this tool
    /// is itself answered by dispatch, so the compiler could not otherwise size the future or
    /// tell that it is `Send`.
    pub fn call<'a>(&'a self, tool: &'a str, arguments: &'a Value) -> ToolCall<'a> {
        let object = arguments.as_object().cloned();
        Box::pin(async move {
            let session = Arc::clone(&self.session);
            let called = tools::dispatch(session, tool, object, self.cancel.clone()).await;
            called.map_err(|error| {
                error
                    .with("tool", tool)
                    .with("arguments", arguments.clone())
            })
        })
    }

    /// `zim_file_path`, or `cross_file` when every archive is searched.
    pub fn add_target(&self, arguments: &mut Value, archive: Option<String>) {
        match archive {
            Some(archive) => arguments["zim_file_path"] = json!(archive),
            None => arguments["cross_file"] = json!(true),
        }
    }

    /// The request's limit, when it gives one (each tool has its own default), brought down
    /// to `most`, the most the tool gives; the answer then says so.
    pub fn add_limit(&self, arguments: &mut Value, most: i64) {
        let Some(limit) = self.request.limit else {
            return;
        };
        if limit > most {
            self.note(format!(
                "limit {limit} is more than this request lists at once: {most} are listed"
            ));
        }
        arguments["limit"] = json!(limit.min(most));
    }

    /// Notes for the request's paging arguments that the call answering it does not take:
    /// they were left out, which the model should read rather than guess.
    pub fn unused(&self, outcome: &Outcome) -> Vec<String> {
        let request = &self.request;
        let continues = if outcome.result["next_cursor"].is_string() {
            "; continue with the next_cursor of its answer"
        } else {
            ""
        };
        let given = [
            ("limit", request.limit.is_some(), "limit", ""),
            ("offset", request.offset.is_some(), "offset", continues),
            (
                "cursor",
                request.cursor.is_some(),
                "cursor",
                "; a cursor continues a namespace listing or the links of an article",
            ),
            (
                "content_offset",
                request.content_offset.is_some(),
                "content_offset",
                "; it pages an article's text",
            ),
            (
                "max_content_length",
                request.max_content_length.is_some(),
                // zim_get_section names it so.
                if outcome.tool == "zim_get_section" {
                    "max_chars"
                } else {
                    "max_content_length"
                },
                "; it bounds an article's text",
            ),
        ];
        given
            .into_iter()
            .filter(|&(_, given, key, _)| given && outcome.arguments.get(key).is_none())
            .map(|(name, _, _, why)| {
                format!(
                    "`{name}` was left out: the {} request does not use it{why}",
                    outcome.intent
                )
            })
            .collect()
    }

    /// Keeps `note` for the answer.
    pub fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(note);
    }

    /// The window of a listing: limit (at most `most`), and the cursor, or the offset where
    /// the tool takes one.
    pub fn add_list_window(&self, arguments: &mut Value, offsets: bool, most: i64) {
        self.add_limit(arguments, most);
        if let Some(cursor) = &self.request.cursor {
            arguments["cursor"] = json!(cursor);
        } else if let Some(offset) = self.request.offset.filter(|_| offsets) {
            arguments["offset"] = json!(offset);
        }
    }

    /// The window of an article's text.
    pub fn add_paging(&self, arguments: &mut Value) {
        let max = self.request.max_content_length.unwrap_or(ARTICLE_CHARS);
        arguments["max_content_length"] = json!(max);
        if let Some(offset) = self.request.content_offset {
            arguments["content_offset"] = json!(offset);
        }
    }
}

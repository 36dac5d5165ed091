//! `zim_get`: one entry of an archive, several at once, or the main page. HTML comes back as
//! Markdown in one of four views: the text itself (paged exactly: offsets count Unicode
//! characters of the Markdown, and reading from each answer's `next_offset` yields the whole
//! text with nothing lost or repeated), its lead as a summary, its table of contents, or its
//! structure. Redirects are followed. Other text comes back as it is; binary entries are
//! described, or sent as base64 on request.

mod batch;
mod fit;
mod pages;
mod views;

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use super::entry;
use crate::archive::Archive;
use crate::content::{Budget, DEFAULT_PAGE_CHARS, DEFAULT_PAGE_TOKENS, Style};
use crate::library::OpenArchive;
use crate::rendered::{Article, RenderedCache};

/// The tool's name.
pub const NAME: &str = "zim_get";

/// The most entries one call reads.
const MAX_BATCH: usize = 50;
/// Characters of an article page a call may ask for.
const MAX_TEXT_CHARS: i64 = 10_000_000;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// The entry, e.g. `A/Ray_Charles` in old archives or `Berlin` in new ones (`C/Berlin` also
    /// works). Leave out with entry_paths or main_page=true.
    entry_path: Option<String>,
    /// Up to 50 entries read in one call; each answers with its first page (long ones share
    /// the page budget) or its error.
    entry_paths: Option<Vec<String>>,
    /// Return the archive's main page instead of entry_path.
    main_page: Option<bool>,
    /// `full` (default): the text. `summary`: the lead section. `toc`: the headings as a tree
    /// with section ids for zim_get_section. `structure`: headings with their character
    /// positions, and a preview of each section (content_preview: shorter, or left out, when a
    /// long article's view would not fit otherwise).
    view: Option<String>,
    /// Text: the most characters to return (default: a page of about 25,000 tokens, at most
    /// 100,000 characters, or the session's OPENZIM_MCP_CONTENT__MAX_CONTENT_LENGTH). With
    /// view=summary: the summary's length. With view=toc or structure: the most characters of
    /// the answer (default: the same page; the deepest headings are left out first). Binary:
    /// the most bytes (default 10000000, at most 25000000).
    max_content_length: Option<i64>,
    /// Text, view=full: the character to start at; pass the previous answer's next_offset to
    /// read on, or a heading's position from view=structure to start there.
    content_offset: Option<i64>,
    /// Return the entry's bytes as base64 instead of text.
    binary: Option<bool>,
    /// For small models: the infobox first as `label: value` lines, large tables summarised
    /// in one line, no link markup. Offsets and positions then refer to the compact text.
    compact: Option<bool>,
    /// Accepted for compatibility with openzim-mcp (tiny, small, medium, large or a number)
    /// and ignored: compact text is paged like any other, by max_content_length.
    #[schemars(with = "Option<String>")]
    compact_budget: Option<Value>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<GetArgs>(
        NAME,
        "Read an entry of a ZIM archive (or its main page with main_page=true, or up to 50 \
         entries with entry_paths). Articles come back as Markdown; long ones are paged: when \
         next_offset is not null, call again with content_offset=next_offset to read on (the \
         notice field says exactly how). view=toc lists the headings with section ids (read one \
         section with zim_get_section), view=summary returns the lead, view=structure gives \
         each heading's character position. compact=true suits small models. Redirects are \
         followed. Images and other binary entries are described, or returned as base64 with \
         binary=true.",
    )
}

/// What the text of an entry is shown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The Markdown, paged.
    Full,
    /// The lead section.
    Summary,
    /// The headings as a tree.
    Toc,
    /// Headings with positions, and section previews.
    Structure,
}

impl View {
    fn parse(view: Option<&str>) -> Result<Self, ToolError> {
        match view.map(str::trim) {
            None | Some("full") => Ok(View::Full),
            Some("summary") => Ok(View::Summary),
            Some("toc") => Ok(View::Toc),
            Some("structure") => Ok(View::Structure),
            Some(other) => Err(ToolError::new(
                "invalid_view",
                format!(
                    "`view` must be one of full, summary, toc, structure (provided: {other}). \
                     Leave it out to read the text."
                ),
            )),
        }
    }
}

/// What every entry of one call is read with.
struct Reading<'a> {
    open: &'a OpenArchive,
    name: &'a str,
    rendered: &'a RenderedCache,
    view: View,
    style: Style,
    offset: usize,
    /// The page of text for view=full; for view=summary, its `max_chars` is the summary's.
    budget: Budget,
    /// Whether the call chose the page size (batches then give it to every entry).
    chosen_length: bool,
}

impl Reading<'_> {
    fn archive(&self) -> &Archive {
        &self.open.archive
    }

    /// One entry's answer in the call's view: `again` tells the model how to call for the next
    /// page.
    fn answer(
        &self,
        wanted: Option<&str>,
        budget: Budget,
        again: &str,
    ) -> Result<Value, ToolError> {
        let resolved = entry::locate(self.open, self.name, wanted)?;
        let entry = &resolved.entry;
        let article = self
            .rendered
            .article(self.archive(), entry, self.style)
            .map_err(|error| entry::read_error(self.name, error))?;
        let mime = entry.mime().unwrap_or_default();
        let mut answer = match (article, self.view) {
            (Article::Binary { mime, size }, View::Full) => {
                pages::describe_binary(entry, &mime, size)
            }
            (Article::Binary { mime, .. }, view) => {
                return Err(ToolError::new(
                    "invalid_view",
                    format!(
                        "{} is {mime}, not text: view={} reads articles. Leave view out to \
                         have it described, or pass binary=true for its bytes.",
                        entry.path,
                        views::name(view)
                    ),
                ));
            }
            (Article::Text(rendered), View::Full) => {
                pages::page_answer(entry, mime, &rendered, self.offset, budget, again)
            }
            (Article::Text(rendered), View::Summary) => {
                views::summary(entry, mime, &rendered, budget.max_chars)
            }
            (Article::Text(rendered), View::Toc) => views::toc(entry, mime, &rendered, budget),
            (Article::Text(rendered), View::Structure) => {
                views::structure(entry, mime, &rendered, budget)
            }
        };
        if self.style == Style::Compact {
            answer["compact"] = Value::Bool(true);
        }
        if !resolved.via.is_empty() {
            answer["redirected_from"] = json!(resolved.via);
        }
        Ok(answer)
    }
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: GetArgs = args::parse(NAME, arguments)?;
    check_compact_budget(request.compact_budget.as_ref())?;
    let targets = targets(&request)?;
    let view = View::parse(request.view.as_deref())?;
    let binary = request.binary.unwrap_or(false);
    let style = if request.compact.unwrap_or(false) {
        Style::Compact
    } else {
        Style::Full
    };
    let offset = args::bounded("content_offset", request.content_offset, 0, 0..=i64::MAX)? as usize;
    check_combination(&targets, view, binary, offset)?;
    // max_content_length counts bytes for binary reads, chars for text.
    let (max_binary, (budget, chosen_length)) = if binary {
        let max = pages::binary_limit(request.max_content_length)?;
        (Some(max), (Budget::chars(DEFAULT_PAGE_CHARS), true))
    } else {
        let budget = page_budget(&session, view, request.max_content_length)?;
        (None, budget)
    };

    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    args::blocking(move || {
        let rendered = session.library.rendered();
        let reading = Reading {
            open: &open,
            name: &name,
            rendered: &rendered,
            view,
            style,
            offset,
            budget,
            chosen_length,
        };
        let mut answer = match (targets, max_binary) {
            (Targets::Many(paths), _) => batch::answer(&reading, &paths),
            (Targets::One(wanted), Some(max)) => {
                let resolved = entry::locate(&open, &name, wanted.as_deref())?;
                pages::binary_answer(reading.archive(), &resolved, max)
                    .map_err(|error| entry::read_error(&name, error))?
            }
            (Targets::One(wanted), None) => {
                let again = "Call zim_get again with the same arguments and";
                reading.answer(wanted.as_deref(), budget, again)?
            }
        };
        answer["zim_file_path"] = Value::String(name.clone());
        answer["source"] = citation(reading.archive());
        Ok(answer)
    })
    .await
}

/// The entries a call names.
enum Targets {
    /// One entry, or the main page (`None`).
    One(Option<String>),
    /// Several entries.
    Many(Vec<String>),
}

fn targets(request: &GetArgs) -> Result<Targets, ToolError> {
    let main_page = request.main_page.unwrap_or(false);
    let combination = |message: &str| Err(ToolError::new("invalid_path_combination", message));
    match (&request.entry_path, &request.entry_paths, main_page) {
        (Some(_), Some(_), _) => combination(
            "`entry_path` and `entry_paths` exclude each other: pass entry_path for one entry, \
             or entry_paths for several",
        ),
        (Some(_), None, true) => {
            combination("`entry_path` and `main_page=true` exclude each other: pass one of them")
        }
        (None, Some(_), true) => combination(
            "`entry_paths` and `main_page=true` exclude each other: read the main page in a \
             call of its own",
        ),
        (None, None, false) => combination(
            "pass `entry_path`, `entry_paths` (up to 50), or `main_page=true` for the archive's \
             main page",
        ),
        (Some(path), None, false) if path.trim().is_empty() => {
            Err(ToolError::new("invalid_argument", "`entry_path` is empty"))
        }
        (Some(path), None, false) => Ok(Targets::One(Some(path.clone()))),
        (None, None, true) => Ok(Targets::One(None)),
        (None, Some(paths), false) if paths.is_empty() || paths.len() > MAX_BATCH => {
            Err(ToolError::new(
                "invalid_batch_size",
                format!(
                    "`entry_paths` must hold 1 to {MAX_BATCH} paths (provided: {}). Split a \
                     longer list over several calls.",
                    paths.len()
                ),
            ))
        }
        (None, Some(paths), false) => Ok(Targets::Many(paths.clone())),
    }
}

/// Refuses arguments that cannot go together, saying what to pass instead.
fn check_combination(
    targets: &Targets,
    view: View,
    binary: bool,
    offset: usize,
) -> Result<(), ToolError> {
    let many = matches!(targets, Targets::Many(_));
    let refuse = |operation: &str, message: &str| Err(ToolError::new(operation, message));
    if binary && many {
        return refuse(
            "invalid_path_combination",
            "`binary=true` reads one entry: pass entry_path instead of entry_paths",
        );
    }
    if binary && offset > 0 {
        return refuse(
            "invalid_argument",
            "`content_offset` pages through text, but `binary=true` returns the entry's bytes \
             from the start (up to max_content_length of them): leave content_offset out",
        );
    }
    if binary && view != View::Full {
        return refuse(
            "invalid_view",
            "`binary=true` returns bytes, which have no view: leave view out, or binary",
        );
    }
    if offset > 0 && many {
        return refuse(
            "invalid_path_combination",
            "`content_offset` continues one entry: pass it with entry_path, using the \
             next_offset of that entry's result",
        );
    }
    if offset > 0 && view != View::Full {
        return refuse(
            "invalid_view",
            "`content_offset` pages through the text: use it with view=full (the default)",
        );
    }
    Ok(())
}

/// The page a call gets, and whether the call chose its size. When neither the call nor the
/// session chose one, a page holds at most 100,000 chars and about 25,000 tokens, so that a
/// page of any script fits a model's context. A session that sets exactly 100,000 cannot be
/// told from one that sets nothing, so it gets the token bound too.
fn page_budget(
    session: &Session,
    view: View,
    requested: Option<i64>,
) -> Result<(Budget, bool), ToolError> {
    let session_chars = usize::try_from(session.settings.content_max_length).unwrap_or(usize::MAX);
    if view == View::Summary {
        let default = i64::try_from(session.settings.content_snippet_length).unwrap_or(i64::MAX);
        let chars = args::bounded("max_content_length", requested, default, 1..=MAX_TEXT_CHARS)?;
        return Ok((Budget::chars(chars as usize), requested.is_some()));
    }
    if requested.is_none() {
        return Ok(if session_chars == DEFAULT_PAGE_CHARS {
            (Budget::tokens(session_chars, DEFAULT_PAGE_TOKENS), false)
        } else {
            (Budget::chars(session_chars), false)
        });
    }
    let chars = args::bounded("max_content_length", requested, 0, 1..=MAX_TEXT_CHARS)?;
    Ok((Budget::chars(chars as usize), true))
}

/// Checks openzim-mcp's `compact_budget`, which ozm accepts and ignores: its compact text is
/// paged like any other text.
pub fn check_compact_budget(budget: Option<&Value>) -> Result<(), ToolError> {
    let named = |name: &str| {
        let name = name.trim().to_ascii_lowercase();
        ["tiny", "small", "medium", "large"].contains(&name.as_str())
            || name.parse::<u64>().is_ok_and(|chars| chars > 0)
    };
    let valid = match budget {
        None | Some(Value::Null) => true,
        Some(Value::String(name)) => named(name),
        Some(Value::Number(chars)) => chars.as_u64().is_some_and(|chars| chars > 0),
        Some(_) => false,
    };
    if valid {
        return Ok(());
    }
    let provided = budget.map(Value::to_string).unwrap_or_default();
    Err(ToolError::new(
        "invalid_argument",
        format!(
            "`compact_budget` must be tiny, small, medium, large or a positive number \
             (provided: {provided}); ozm accepts it for compatibility and ignores it, so it can \
             be left out"
        ),
    ))
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

//! `zim_browse`: the entries of one namespace in path order, with an opaque cursor to continue
//! from. Two shapes: `page` (rows say what each entry is; offsets and an exact total) and `walk`
//! (bare path and title, larger pages, for going through a whole namespace).
//!
//! Both go through entry ids, so a walk visits every entry exactly once. In the content
//! namespaces (`C`, and `A` of old archives) assets — style sheets, scripts, fonts, images and
//! any other entry that is not a document — are hidden unless `include_assets` is true; old
//! archives keep most assets in other namespaces anyway. A cursor names its archive,
//! namespace, mode and asset choice, and is refused in any other.
//!
//! With assets hidden, how many documents a namespace holds is known only once a listing has
//! looked at all of it: counting them up front would read every entry of a namespace that may
//! hold millions, so `total` is null until the last page.

pub(super) mod cursor;
mod documents;

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::archive::{Archive, ArchiveError, Entry, EntryKind};
use cursor::{Context, Mode, Resume, archive_tag, decode_cursor, encode_cursor};
use documents::{is_document, skip_shown};

/// The tool's name.
pub const NAME: &str = "zim_browse";

/// The deepest `offset` a page may start at; further on, follow `next_cursor`.
const MAX_OFFSET: i64 = 100_000;

/// Entries one call looks at while it fills a page with documents, so that a namespace made
/// mostly of assets cannot hold a call for long; the page then ends early with a cursor.
const SCAN_BUDGET: u32 = 50_000;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BrowseArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// One namespace letter: `C` (content) in new archives; `A` (articles), `I` (images), `-`
    /// (layout) in old ones; `M` (metadata), `W` (well-known), `X` (indexes) in both.
    namespace: String,
    /// `page` (default: rows with content type and redirect target, offsets, and `total`:
    /// exact from the first page when assets are listed or outside the content namespace,
    /// else null until the last page) or `walk` (path and title only, up to 500 a call, to go
    /// through a whole namespace).
    mode: Option<String>,
    /// Entries per call: page 1 to 200 (default 50), walk 1 to 500 (default 200).
    limit: Option<i64>,
    /// Page mode only: entries to skip, 0 (default) to 100000. Walks continue with `cursor`.
    offset: Option<i64>,
    /// The next_cursor of the previous answer, to continue from there.
    cursor: Option<String>,
    /// Also list style sheets, scripts, fonts, images and other non-document entries of the
    /// content namespace (default false: they are hidden).
    include_assets: Option<bool>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<BrowseArgs>(
        NAME,
        "List the entries of one namespace of a ZIM archive in path order. mode=\"page\" \
         (default) gives path, title and type, and `total`: exact from the first page when \
         include_assets=true or outside the content namespace, else null until the last page \
         (hidden assets are counted only as the listing passes them); mode=\"walk\" gives path \
         and title, up to 500 per call, to go through a whole namespace. Pass the answer's \
         next_cursor as cursor to continue; done=true means there is no more. Assets (CSS, \
         scripts, fonts, images) of the content namespace are hidden unless \
         include_assets=true.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: BrowseArgs = args::parse(NAME, arguments)?;
    let mode = match request.mode.as_deref().map(str::trim) {
        None | Some("page") => Mode::Page,
        Some("walk") => Mode::Walk,
        Some(other) => {
            return Err(ToolError::new(
                "invalid_mode",
                format!("`mode` must be page or walk (provided: {other:?})"),
            ));
        }
    };
    let limit = match mode {
        Mode::Page => args::bounded("limit", request.limit, 50, 1..=200)?,
        Mode::Walk => args::bounded("limit", request.limit, 200, 1..=500)?,
    } as u32;
    let mut letters = request.namespace.trim().chars();
    let (Some(letter), None) = (letters.next(), letters.next()) else {
        return Err(ToolError::new(
            "invalid_namespace",
            format!(
                "`namespace` must be one letter such as C, A, M (provided: {:?})",
                request.namespace
            ),
        ));
    };
    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    let context = Context {
        archive: archive_tag(&open.archive),
        letter,
        mode,
        assets: request.include_assets.unwrap_or(false),
    };
    let start = match (&request.cursor, request.offset, mode) {
        (Some(_), Some(_), _) => {
            return Err(ToolError::new(
                "invalid_combination",
                "`cursor` and `offset` exclude each other: a cursor already knows where to go on",
            ));
        }
        (None, Some(_), Mode::Walk) => {
            return Err(ToolError::new(
                "invalid_combination",
                "`offset` applies to mode=\"page\" only: a walk starts at the beginning and \
                 continues with `cursor`",
            ));
        }
        (Some(cursor), None, _) => Start::Cursor(decode_cursor(cursor, context)?),
        (None, offset, _) => {
            Start::Offset(args::bounded("offset", offset, 0, 0..=MAX_OFFSET)? as u32)
        }
    };
    args::blocking(move || {
        list(&open.archive, context, start, limit)
            .map(|mut answer| {
                answer["zim_file_path"] = Value::String(name.clone());
                answer
            })
            .map_err(|error| ToolError::new("archive_unreadable", format!("{name}: {error}")))
    })
    .await
}

/// Where a call starts.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// Shown entries to skip from the start of the namespace.
    Offset(u32),
    /// Where an earlier call stopped.
    Cursor(Resume),
}

/// One call's listing of `context` from `start`.
fn list(
    archive: &Archive,
    context: Context,
    start: Start,
    limit: u32,
) -> Result<Value, ArchiveError> {
    let range = archive.namespace_range(context.letter)?;
    if range.is_empty() {
        return empty_namespace(archive, context);
    }
    // Only the content namespaces mix documents with assets; the others are listed whole.
    let hide_assets = !context.assets && matches!(context.letter, 'C' | 'A');
    let from = match start {
        Start::Cursor(resume) => resume,
        Start::Offset(skip) if !hide_assets => Resume {
            next_id: range.start.saturating_add(skip).min(range.end),
            shown: skip.min(range.end - range.start),
        },
        Start::Offset(skip) => skip_shown(archive, &range, skip),
    };
    let first = from.next_id.clamp(range.start, range.end);
    let mut rows = Vec::new();
    let mut next = first;
    while next < range.end && rows.len() < limit as usize && next - first < SCAN_BUDGET {
        let index = next;
        next += 1;
        // One damaged entry is shown as such, so the rest of the namespace stays reachable.
        let entry = match archive.entry(index) {
            Ok(entry) => entry,
            Err(error) => {
                rows.push(json!({"entry_index": index, "error": error.to_string()}));
                continue;
            }
        };
        // A redirect whose target cannot be read is listed without it.
        let target = match &entry.kind {
            EntryKind::Redirect(target) => archive.entry(*target).ok(),
            _ => None,
        };
        if hide_assets && !is_document(&entry, target.as_ref()) {
            continue;
        }
        rows.push(row(context.mode, &entry, target.as_ref()));
    }

    let done = next >= range.end;
    let returned = rows.len() as u32;
    let shown = from.shown + returned;
    let resume = Resume {
        next_id: next,
        shown,
    };
    let next_cursor = if done {
        Value::Null
    } else {
        Value::String(encode_cursor(context, resume))
    };
    let namespace_entries = range.end - range.start;
    let mut answer = json!({
        "namespace": context.letter.to_string(),
        "mode": context.mode.name(),
        "include_assets": context.assets,
        "results": rows,
        "done": done,
        "next_cursor": next_cursor,
        "namespace_entry_count": namespace_entries,
        "scanned_count": next - first,
    });
    match context.mode {
        Mode::Page => {
            // Hiding assets leaves the number of documents unknown until the last page.
            let total = if !hide_assets {
                json!(namespace_entries)
            } else if done {
                json!(shown)
            } else {
                Value::Null
            };
            answer["total"] = total;
            answer["page_info"] =
                json!({"offset": from.shown, "limit": limit, "returned_count": returned});
        }
        Mode::Walk => {
            answer["total"] = Value::Null;
            answer["page_info"] = json!({"limit": limit, "returned_count": returned});
            answer["scanned_through_id"] = if next > first {
                json!(next - 1)
            } else {
                Value::Null
            };
            answer["archive_entry_count"] = json!(archive.all_entry_count());
        }
    }
    if !done && returned < limit {
        answer["_meta"] = json!({"reason": "scan_budget", "hint": format!(
            "{SCAN_BUDGET} entries were looked at without filling the page (mostly hidden \
             assets); pass next_cursor to go on"
        )});
    }
    Ok(answer)
}

/// An entry as `mode` lists it.
fn row(mode: Mode, entry: &Entry, target: Option<&Entry>) -> Value {
    let mut row = json!({"path": entry.path, "title": entry.title});
    if mode == Mode::Walk {
        return row;
    }
    match (&entry.kind, target) {
        (EntryKind::Item { mime, .. }, _) => row["content_type"] = json!(mime),
        (EntryKind::Redirect(_), target) => {
            row["content_type"] = json!("redirect");
            row["redirect_to"] = json!(target.map(|target| &target.path));
        }
        (EntryKind::Empty, _) => row["content_type"] = json!("empty"),
    }
    row
}

/// The answer for a namespace the archive does not have, naming those it has.
fn empty_namespace(archive: &Archive, context: Context) -> Result<Value, ArchiveError> {
    let available: Vec<String> = archive
        .namespaces()?
        .into_iter()
        .map(|(letter, _)| letter.to_string())
        .collect();
    Ok(json!({
        "namespace": context.letter.to_string(),
        "mode": context.mode.name(),
        "results": [],
        "total": 0,
        "done": true,
        "next_cursor": Value::Null,
        "namespace_entry_count": 0,
        "available_namespaces": available,
        "_meta": {"reason": "empty_namespace"},
    }))
}

//! Completions (`completion/complete`): archive names for the prompts' `zim_file_path` and the
//! archive templates' `name`, and entry paths for the prompts' `entry_path` and the entry
//! template's `path` once the archive is known from the other arguments (or is the only one).
//!
//! Entry paths are found by binary search in the archive's path order, for the usual
//! capitalisations of what was typed, then by title as zim_search's title mode finds them
//! (ignoring case and accents once ozm's title index is built), reading `_` as the space it
//! stands for in paths. So a completion costs a few dozen entry reads even in an archive of
//! millions. Anything else completes to nothing.

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};
use tracing::debug;

use super::Session;
use super::args::{self, ToolError};
use super::resources::{ARCHIVE_TEMPLATE, ENTRY_TEMPLATE};
use crate::archive::titles::{self, case_variants};
use crate::archive::{Archive, ArchiveError};
use crate::library::OpenArchive;

/// Values sent at most, as the protocol allows.
const LIMIT: usize = CompletionInfo::MAX_VALUES;

/// Answers a completion request.
pub async fn complete(
    session: Arc<Session>,
    request: CompleteRequestParams,
) -> Result<CompleteResult, ErrorData> {
    let typed = request.argument.value.as_str();
    let given = |name: &str| {
        request
            .context
            .as_ref()
            .and_then(|context| context.get_argument(name))
            .cloned()
    };
    let is_template = |uri: &str| uri == ARCHIVE_TEMPLATE || uri == ENTRY_TEMPLATE;
    let values = match (&request.r#ref, request.argument.name.as_str()) {
        (Reference::Prompt(_), "zim_file_path") => archive_names(&session, typed),
        (Reference::Resource(template), "name") if is_template(&template.uri) => {
            archive_names(&session, typed)
        }
        (Reference::Prompt(_), "entry_path") => {
            entry_paths(&session, given("zim_file_path"), typed).await
        }
        (Reference::Resource(template), "path") if template.uri == ENTRY_TEMPLATE => {
            entry_paths(&session, given("name"), typed).await
        }
        _ => Vec::new(),
    };
    Ok(CompleteResult::new(completion(values)))
}

/// At most [`LIMIT`] values; the total is given when every match was found.
fn completion(mut values: Vec<String>) -> CompletionInfo {
    let has_more = values.len() > LIMIT;
    values.truncate(LIMIT);
    let total = (!has_more).then(|| u32::try_from(values.len()).unwrap_or(u32::MAX));
    CompletionInfo::with_pagination(values, total, has_more).unwrap_or_default()
}

/// Names of the readable archives whose name or file name starts with `typed`, ignoring case;
/// absolute paths when `typed` is one.
fn archive_names(session: &Session, typed: &str) -> Vec<String> {
    let typed = typed.to_lowercase();
    let mut values: Vec<String> = session
        .library
        .visible_from(&session.directories)
        .into_iter()
        .filter(|(_, archive)| archive.open().is_ok())
        .filter_map(|(name, archive)| {
            if typed.starts_with('/') {
                let path = archive.path.display().to_string();
                return path.to_lowercase().starts_with(&typed).then_some(path);
            }
            let file = archive.path.file_name()?.to_string_lossy().to_lowercase();
            (name.to_lowercase().starts_with(&typed) || file.starts_with(&typed)).then_some(name)
        })
        .collect();
    values.sort();
    values
}

/// Paths of entries in `archive` (the session's only archive when `None`) whose path or title
/// starts with `typed`: up to one more than [`LIMIT`], so the caller knows whether there are
/// more.
async fn entry_paths(session: &Arc<Session>, archive: Option<String>, typed: &str) -> Vec<String> {
    let archive = archive.or_else(|| {
        let mut visible = session.library.visible_from(&session.directories);
        (visible.len() == 1).then(|| visible.remove(0).0)
    });
    let Some(archive) = archive else {
        return Vec::new();
    };
    let (session, typed) = (Arc::clone(session), typed.to_owned());
    let found = args::blocking(move || {
        let (_, open) = args::archive(&session, &archive)?;
        let error = |error: ArchiveError| ToolError::new("archive_unreadable", error.to_string());
        let mut values = path_matches(&open.archive, &typed, LIMIT + 1).map_err(error)?;
        for found in title_matches(&session, &open, &as_title(&typed)).map_err(error)? {
            if !values.contains(&found) {
                values.push(found);
            }
        }
        Ok(values)
    })
    .await;
    found.unwrap_or_else(|error| {
        debug!(reason = ?error.message, "no entry paths to complete");
        Vec::new()
    })
}

/// What was typed, read as the start of a title: without a namespace, with `_` as the space it
/// stands for in paths (`A/Ray_C` is the title `Ray C`).
fn as_title(typed: &str) -> String {
    let bare = match typed.split_once('/') {
        Some((namespace, rest)) if namespace.chars().count() == 1 => rest,
        _ => typed,
    };
    bare.replace('_', " ")
}

/// Paths of the content entries whose titles start with `typed`, as a title search finds them.
fn title_matches(
    session: &Session,
    open: &Arc<OpenArchive>,
    typed: &str,
) -> Result<Vec<String>, ArchiveError> {
    let folded = session.library.indexer().titles(open);
    let found = titles::search(&open.archive, folded.as_deref(), typed, LIMIT + 1)?;
    Ok(found.into_iter().map(|found| found.entry.path).collect())
}

/// Up to `limit` entry paths starting with `typed` in one of its usual capitalisations, in path
/// order. In old archives the path names its namespace (`A/Ray`); without one, articles (`A/`)
/// are meant. In new archives `C/` may be written or not.
fn path_matches(archive: &Archive, typed: &str, limit: usize) -> Result<Vec<String>, ArchiveError> {
    let (namespace, prefixes): (char, Vec<String>) = if archive.is_new_scheme() {
        let typed = typed.strip_prefix("C/").unwrap_or(typed);
        ('C', case_variants(typed))
    } else {
        let (namespace, rest) = match typed.split_once('/') {
            Some((letter, rest)) if letter.chars().count() == 1 => (letter.to_uppercase(), rest),
            _ => ("A".to_owned(), typed),
        };
        let prefixes = case_variants(rest)
            .into_iter()
            .map(|variant| format!("{namespace}/{variant}"))
            .collect();
        (namespace.chars().next().unwrap_or('A'), prefixes)
    };
    let range = archive.namespace_range(namespace)?;
    let mut found: Vec<String> = Vec::new();
    for prefix in prefixes {
        let (mut low, mut high) = (range.start, range.end);
        while low < high {
            let middle = low + (high - low) / 2;
            if archive.entry(middle)?.path < prefix {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        for index in (low..range.end).take(limit) {
            let path = archive.entry(index)?.path;
            if !path.starts_with(&prefix) {
                break;
            }
            found.push(path);
        }
    }
    found.sort();
    found.dedup();
    found.truncate(limit);
    Ok(found)
}

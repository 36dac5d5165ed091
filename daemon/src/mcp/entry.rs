//! Finding the entry a tool call names: the path forms an archive's own links use, the main
//! page, redirects followed to the entry that holds content, and the errors a model can act on.

use serde_json::{Value, json};

use super::args::ToolError;
use crate::archive::{Archive, ArchiveError, Resolved, href, titles};
use crate::library::OpenArchive;

/// Titles offered when a path names no entry.
const NEAREST_TITLES: usize = 5;

/// The entry `wanted` names (the main page when `None`), redirects followed: redirect entries
/// and pages that redirect with a meta refresh.
pub fn locate(open: &OpenArchive, name: &str, wanted: Option<&str>) -> Result<Resolved, ToolError> {
    let archive = &open.archive;
    let entry = match wanted {
        Some(path) => archive
            .find(path)
            .map_err(|error| read_error(name, error))?
            .ok_or_else(|| not_found(archive, name, path))?,
        None => archive
            .main_entry()
            .map_err(|error| read_error(name, error))?
            .ok_or_else(|| ToolError::new("entry_not_found", format!("{name} has no main page")))?,
    };
    archive
        .resolve_pages(entry)
        .map_err(|error| read_error(name, error))
}

/// `entry_not_found`, with the titles nearest to what the path seems to name.
fn not_found(archive: &Archive, name: &str, path: &str) -> ToolError {
    let nearest = nearest_titles(archive, path);
    let advice = match nearest.first() {
        Some(first) => format!(
            "Nearest titles: {}. Pass one of their paths, e.g. entry_path=\"{}\", or find \
             others with zim_search mode=\"title\"",
            nearest
                .iter()
                .map(|(_, title)| format!("'{title}'"))
                .collect::<Vec<_>>()
                .join(", "),
            first.0
        ),
        None => "Use zim_search with mode=\"title\" to find the right path".to_owned(),
    };
    let scheme_hint = if archive.is_new_scheme() || path.starts_with("A/") {
        ""
    } else {
        " (articles of this archive are under `A/`)"
    };
    let rows: Vec<Value> = nearest
        .iter()
        .map(|(path, title)| json!({"path": path, "title": title}))
        .collect();
    ToolError::new(
        "entry_not_found",
        format!("entry not found: '{path}' in {name}{scheme_hint}. {advice}."),
    )
    .with("entry_path", path)
    .with("nearest_titles", rows)
}

/// Up to five content entries whose titles start with the words of the path's last segment,
/// dropping words from its end until some title matches.
fn nearest_titles(archive: &Archive, path: &str) -> Vec<(String, String)> {
    let decoded = match href::classify("", path) {
        href::Href::Internal { path, .. } => path,
        _ => path.to_owned(),
    };
    let last = decoded.rsplit('/').next().unwrap_or_default();
    let stem = [".html", ".htm"]
        .iter()
        .find_map(|extension| last.strip_suffix(extension))
        .unwrap_or(last);
    let mut words: Vec<&str> = stem.split(['_', ' ']).filter(|w| !w.is_empty()).collect();
    while !words.is_empty() {
        let query = words.join(" ");
        if let Ok(matches) = titles::search(archive, None, &query, NEAREST_TITLES)
            && !matches.is_empty()
        {
            return matches
                .into_iter()
                .map(|found| (found.entry.path, found.entry.title))
                .collect();
        }
        words.pop();
    }
    Vec::new()
}

/// A read failure as the model sees it: loops named with their chain.
pub fn read_error(name: &str, error: ArchiveError) -> ToolError {
    match error {
        ArchiveError::RedirectLoop(chain) => ToolError::new(
            "redirect_loop",
            format!("{name}: {}", ArchiveError::RedirectLoop(chain.clone())),
        )
        .with("redirect_chain", chain),
        ArchiveError::TooManyRedirects(chain) => ToolError::new(
            "too_many_redirects",
            format!("{name}: {}", ArchiveError::TooManyRedirects(chain.clone())),
        )
        .with("redirect_chain", chain),
        other => ToolError::new("archive_unreadable", format!("{name}: {other}")),
    }
}

//! Finding the article a query names: the main page, an entry path, or a title — exactly,
//! else (unless only an exact title will do) the first title starting with the words. Titles
//! are looked up with `zim_search` mode="title", as a client would.

use serde_json::{Value, json};

use super::read::same_title;
use super::run::Run;
use super::words::Words;
use crate::archive::titles::fold;
use crate::mcp::args::{self, ToolError};
use crate::mcp::entry;

/// Title matches looked at in one archive.
const TITLE_CANDIDATES: i64 = 10;

/// Title matches looked at over every archive, to find the one that has a title.
const CROSS_TITLE_CANDIDATES: i64 = 50;

/// An article found from what the query calls it.
pub(super) struct Located {
    pub path: String,
    pub title: String,
    /// How it was found, for the answer.
    pub lookup: Value,
    /// Whether the title matched exactly (or the path or main page was named).
    pub exact: bool,
}

impl Run {
    /// The article `title` names in `archive`.
    pub async fn locate(
        &self,
        archive: &str,
        title: &str,
        strict: bool,
    ) -> Result<Option<Located>, ToolError> {
        let main_page = ["main page", "the main page", "home page", "front page"];
        let is_main_page = main_page.contains(&fold(title).as_str());
        let path_like = path_like(title);
        if is_main_page || path_like {
            let (name, open) = args::archive(&self.session, archive)?;
            let wanted = path_like.then(|| title.to_owned());
            let found =
                args::blocking(move || Ok(entry::locate(&open, &name, wanted.as_deref()).ok()))
                    .await?;
            if let Some(found) = found {
                let (path, title) = (found.entry.path, found.entry.title);
                let by = if path_like { "path" } else { "main_page" };
                return Ok(Some(Located {
                    lookup: json!({"by": by, "path": path, "title": title}),
                    path,
                    title,
                    exact: true,
                }));
            }
        }

        // A path that names no entry may still be a title: "Ray_Charles" is "Ray Charles".
        let spaced = title.replace('_', " ");
        let title = if path_like { spaced.as_str() } else { title };
        // "The Beatles" may be titled "Beatles".
        let words = Words::new(title);
        let mut wanted = vec![title.to_owned()];
        if words.len() > 1 && ["the", "a", "an"].contains(&words.key(0)) {
            wanted.push(words.text(1, words.len()));
        }
        let mut nearest = None;
        for wanted in wanted {
            let arguments = json!({
                "query": wanted,
                "mode": "title",
                "zim_file_path": archive,
                "limit": TITLE_CANDIDATES,
            });
            let result = self.call("zim_search", &arguments).await?;
            let rows = result["results"].as_array().cloned().unwrap_or_default();
            let exact = rows.iter().find(|row| same_title(row, &wanted));
            let Some((row, exact)) = exact
                .map(|row| (row, true))
                .or_else(|| rows.first().filter(|_| !strict).map(|row| (row, false)))
            else {
                continue;
            };
            let path = row["path"].as_str().unwrap_or_default().to_owned();
            let title = row["title"].as_str().unwrap_or_default().to_owned();
            let by = if exact { "exact_title" } else { "title_prefix" };
            let lookup = json!({
                "by": by, "tool": "zim_search", "arguments": arguments,
                "path": path, "title": title,
            });
            let located = Located {
                path,
                title,
                lookup,
                exact,
            };
            if exact {
                return Ok(Some(located));
            }
            nearest.get_or_insert(located);
        }
        Ok(nearest)
    }

    /// The one archive with an article titled `title`, when no archive was named; several are
    /// an error that lists them.
    pub async fn archive_with_title(&self, title: &str) -> Result<Option<String>, ToolError> {
        let arguments = json!({
            "query": title,
            "mode": "title",
            "cross_file": true,
            "limit": CROSS_TITLE_CANDIDATES,
        });
        let result = self.call("zim_search", &arguments).await?;
        let mut archives: Vec<String> = result["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| same_title(row, title))
            .filter_map(|row| row["zim_file_path"].as_str().map(str::to_owned))
            .collect();
        archives.sort();
        archives.dedup();
        match archives.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            several => Err(ToolError::new(
                "ambiguous_archive",
                format!(
                    "'{title}' is the title of an article in several archives: {}. Name one in \
                     the query (\"... in NAME\") or pass zim_file_path",
                    several.join(", ")
                ),
            )
            .with("candidates", several.to_vec())),
        }
    }
}

/// Whether `text` looks like an entry path rather than a title: one word with a slash, an
/// underscore or an `.html` ending.
pub(super) fn path_like(text: &str) -> bool {
    !text.contains(char::is_whitespace)
        && (text.contains(['/', '_']) || text.ends_with(".html") || text.ends_with(".htm"))
}

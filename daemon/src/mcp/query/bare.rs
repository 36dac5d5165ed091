//! A query that is nothing but an article's name — its title ("Ray Charles"), its entry path
//! ("A/Ray_Charles", "Ray_Charles") or its address on the web — opens that article instead of
//! searching for the words, and one that begins a title ("complete graph") is not read as a
//! request ("complete …"). Any other search lists the article titled exactly as the query
//! first, where there is one: a full-text ranking need not put it there.

use serde_json::{Value, json};

use super::intent::{BARE_CONFIDENCE, Intent, Parsed};
use super::locate::path_like;
use super::read::{Reading, same_title};
use super::run::{Outcome, Run};
use super::target::most;
use crate::archive::href::{self, Href};
use crate::archive::titles::fold;
use crate::mcp::args::{self, ToolError};

/// How sure the reading of a bare title is: it was typed as a search, but names one article.
const NAMED_CONFIDENCE: f64 = 0.7;

/// Title matches looked at for an exact title among the search's results.
const TITLE_CANDIDATES: i64 = 10;

impl Run {
    /// The article `query` names exactly, read, in `archive` or (when `None`) in the one
    /// archive that has it; `None` when no article, or one in several archives, has that name.
    pub async fn open_named(
        &self,
        query: &str,
        archive: Option<String>,
    ) -> Result<Option<Outcome>, ToolError> {
        let named = web_name(query).unwrap_or_else(|| query.to_owned());
        let archive = match archive {
            Some(archive) => archive,
            None => match self.archive_naming(&named).await? {
                Some(archive) => archive,
                None => return Ok(None),
            },
        };
        let Some(found) = self.locate(&archive, &named, true).await? else {
            return Ok(None);
        };
        let read = Reading::Full { strict: true };
        let notes = vec![format!(
            "'{named}' names the article '{}', so it is read; ask \"search for {query}\" to \
             search for the words instead",
            found.title
        )];
        let outcome = self
            .read_found(
                "get_article",
                NAMED_CONFIDENCE,
                &archive,
                found,
                read,
                notes,
            )
            .await?;
        Ok(Some(outcome))
    }

    /// `parsed`, unless its first word may also begin a title ("complete graph") and a title
    /// where the query looks does start with the whole query: then a search for it, as for
    /// words no rule claims.
    pub async fn settle(
        &self,
        parsed: Parsed,
        mentioned: Option<Vec<String>>,
    ) -> Result<Parsed, ToolError> {
        let Intent::Suggestions {
            or_search: Some(whole),
            ..
        } = &parsed.intent
        else {
            return Ok(parsed);
        };
        let (words, archive) = self.subject(whole, mentioned, true)?;
        let mut lookup = json!({"query": words, "mode": "title", "limit": TITLE_CANDIDATES});
        self.add_target(&mut lookup, archive);
        let titled = self.call("zim_search", &lookup).await?;
        let wanted = fold(&words);
        let begins_a_title = titled["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row["title"].as_str())
            .any(|title| fold(title).starts_with(&wanted));
        if !begins_a_title {
            return Ok(parsed);
        }
        Ok(Parsed {
            intent: Intent::Search {
                query: whole.clone(),
                everywhere: false,
            },
            confidence: BARE_CONFIDENCE,
        })
    }

    /// The one archive with an article titled `named` (underscores read as spaces), else the
    /// one with an entry at that path.
    async fn archive_naming(&self, named: &str) -> Result<Option<String>, ToolError> {
        match self.archive_with_title(&named.replace('_', " ")).await {
            Ok(Some(archive)) => return Ok(Some(archive)),
            Ok(None) => {}
            // Several archives have it: the search shows them all.
            Err(error) if error.operation == "ambiguous_archive" => return Ok(None),
            Err(error) => return Err(error),
        }
        if !path_like(named) {
            return Ok(None);
        }
        let mut holding = Vec::new();
        for name in &self.names {
            let (name, open) = args::archive(&self.session, name)?;
            let path = named.to_owned();
            let found =
                args::blocking(move || Ok(matches!(open.archive.find(&path), Ok(Some(_))))).await?;
            if found {
                holding.push(name);
            }
        }
        Ok(match holding.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    /// Moves the articles titled exactly `query` to the top of the first page of a search's
    /// `result` (`arguments` says where it searched); whether that changed the page.
    pub async fn exact_titles_first(
        &self,
        query: &str,
        arguments: &Value,
        result: &mut Value,
    ) -> bool {
        let exact = self.exact_titles(query, arguments, result).await;
        let Some(rows) = result["results"].as_array_mut() else {
            return false;
        };
        let before: Vec<Value> = rows.iter().map(place).collect();
        for title_row in exact.iter().rev() {
            let at = rows.iter().position(|row| place(row) == place(title_row));
            let row = match at {
                Some(at) => rows.remove(at),
                None => title_row.clone(),
            };
            rows.insert(0, row);
        }
        rows.iter().map(place).collect::<Vec<_>>() != before
    }

    /// The title rows of articles titled exactly `query` where the search looked: one title
    /// lookup over the same archives, and, when that one was cut short (titles starting with
    /// the query filled it), one more in each archive of the results it missed.
    async fn exact_titles(&self, query: &str, arguments: &Value, result: &Value) -> Vec<Value> {
        let title = query.replace('_', " ");
        let cross = arguments.get("zim_file_path").is_none();
        let limit = if cross {
            most::TITLES
        } else {
            TITLE_CANDIDATES
        };
        let mut lookup = json!({"query": title, "mode": "title", "limit": limit});
        match arguments.get("zim_file_path") {
            Some(archive) => lookup["zim_file_path"] = archive.clone(),
            None => lookup["cross_file"] = json!(true),
        }
        // The search has its answer already; a failed title lookup takes nothing from it.
        let rows = match self.call("zim_search", &lookup).await {
            Ok(titled) => titled["results"].as_array().cloned().unwrap_or_default(),
            Err(_) => return Vec::new(),
        };
        let mut exact: Vec<Value> = rows
            .iter()
            .filter(|row| same_title(row, query))
            .cloned()
            .collect();
        if !cross || (rows.len() as i64) < limit {
            return exact;
        }
        let mut missed: Vec<&str> = Vec::new();
        let found_in = result["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row["zim_file_path"].as_str());
        for archive in found_in {
            let looked_at = rows.iter().any(|row| row["zim_file_path"] == archive);
            if !looked_at && !missed.contains(&archive) {
                missed.push(archive);
            }
        }
        for archive in missed {
            let lookup = json!({"query": title, "mode": "title", "limit": TITLE_CANDIDATES,
                "zim_file_path": archive});
            if let Ok(titled) = self.call("zim_search", &lookup).await {
                let rows = titled["results"].as_array().cloned().unwrap_or_default();
                exact.extend(rows.into_iter().filter(|row| same_title(row, query)));
            }
        }
        exact
    }
}

/// Where a search row leads: its archive and path.
fn place(row: &Value) -> Value {
    json!([row["zim_file_path"], row["path"]])
}

/// The last segment of a web address, percent-decoded (`https://en.wikipedia.org/wiki/
/// Ray_Charles` → `Ray_Charles`): offline copies of a site keep its page names as paths.
fn web_name(query: &str) -> Option<String> {
    let lower = query.get(..8)?.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &query[8..]
    } else if lower.starts_with("http://") {
        &query[7..]
    } else {
        return None;
    };
    let rest = rest.split(['?', '#']).next()?.trim_end_matches('/');
    let (_, segment) = rest.rsplit_once('/')?;
    match href::classify("", segment) {
        Href::Internal { path, .. } if !path.is_empty() => Some(path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::web_name;

    #[test]
    fn web_addresses_name_their_last_segment() {
        let name = |url: &str| web_name(url);
        assert_eq!(
            name("https://en.wikipedia.org/wiki/Ray_Charles").as_deref(),
            Some("Ray_Charles")
        );
        assert_eq!(
            name("HTTP://en.wikipedia.org/wiki/Side_by_Side_%281927_song%29?x=1#Y").as_deref(),
            Some("Side_by_Side_(1927_song)")
        );
        assert_eq!(name("https://en.wikipedia.org/"), None);
        assert_eq!(name("Ray Charles"), None);
        assert_eq!(name("http:"), None);
    }
}

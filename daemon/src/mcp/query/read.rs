//! Articles and searches: an article named by title is found (see [`locate`](super::locate))
//! and read in the way the intent asks — its text, summary, contents, a section or its links;
//! a title that matches nothing becomes a full-text search for it.

use serde_json::{Value, json};

use super::intent::{Direction, Intent};
use super::locate::Located;
use super::run::{Outcome, Run};
use super::target::most;
use super::words::trim_outer;
use crate::mcp::args::ToolError;

/// Links listed unless the call says otherwise, as openzim-mcp's zim_query lists them: a list a
/// small model can take in.
const LINKS_LIMIT: i64 = 25;

/// How an article is read.
#[derive(Clone, Debug)]
pub(super) enum Reading {
    /// Its text, paged; `strict` when only an exact title will do ("tell me about X").
    Full {
        strict: bool,
    },
    Summary,
    Toc,
    Section(String),
    Links {
        direction: Direction,
        kind: Option<&'static str>,
    },
}

impl Reading {
    /// How `intent` reads its article.
    pub fn of(intent: &Intent) -> Reading {
        match intent {
            Intent::Summary { .. } => Reading::Summary,
            Intent::Toc { .. } => Reading::Toc,
            Intent::Section { section, .. } => Reading::Section(section.clone()),
            Intent::Links {
                direction, kind, ..
            } => Reading::Links {
                direction: *direction,
                kind: *kind,
            },
            _ => Reading::Full { strict: false },
        }
    }
}

impl Run {
    /// A full-text search, over every archive when `archive` is `None`; a search that finds
    /// nothing is tried again without question words and other words every page has.
    pub async fn search(
        &self,
        name: &'static str,
        confidence: f64,
        query: &str,
        archive: Option<String>,
    ) -> Result<Outcome, ToolError> {
        let mut arguments = json!({"query": query});
        self.add_target(&mut arguments, archive);
        self.add_limit(&mut arguments, most::FULLTEXT);
        if let Some(offset) = self.request.offset {
            arguments["offset"] = json!(offset);
        }
        let mut result = self.call("zim_search", &arguments).await?;
        let mut notes = Vec::new();
        let shorter = content_words(query);
        if result["total"] == 0 && !shorter.is_empty() && shorter != query {
            let mut again = arguments.clone();
            again["query"] = json!(shorter);
            let retried = self.call("zim_search", &again).await?;
            if retried["total"] != 0 {
                notes.push(format!(
                    "nothing matched every word; searched for '{shorter}'"
                ));
                (arguments, result) = (again, retried);
            }
        }
        if self.request.offset.unwrap_or(0) == 0 {
            let query = arguments["query"].as_str().unwrap_or(query).to_owned();
            if self
                .exact_titles_first(&query, &arguments, &mut result)
                .await
            {
                notes.push(format!(
                    "articles titled exactly '{query}' are listed first"
                ));
            }
        }
        let mut outcome = Outcome::of(name, confidence, "zim_search", arguments);
        outcome.notes = notes;
        Ok(outcome.with_result(result))
    }

    /// Reads the article `title` names in the way `read` says.
    pub async fn read(
        &self,
        name: &'static str,
        confidence: f64,
        title: &str,
        mentioned: Option<Vec<String>>,
        read: Reading,
    ) -> Result<Outcome, ToolError> {
        let (title, archive) = self.subject(title, mentioned, true)?;
        let strict = matches!(read, Reading::Full { strict: true });
        let mut notes = Vec::new();
        let archive = match archive {
            Some(archive) => archive,
            None => match self.archive_with_title(&title).await? {
                Some(archive) => {
                    notes.push(format!("'{title}' is a title in {archive}"));
                    archive
                }
                // Asked about a subject no archive has a title for: search them all.
                None if strict => return self.unlocated(name, &title, None).await,
                None => return Err(self.ask_for_archive()),
            },
        };
        let Some(found) = self.locate(&archive, &title, strict).await? else {
            return self.unlocated(name, &title, Some(archive)).await;
        };
        if !found.exact {
            notes.push(format!(
                "no article is titled exactly '{title}'; the nearest title is '{}'",
                found.title
            ));
        }
        self.read_found(name, confidence, &archive, found, read, notes)
            .await
    }

    /// Reads the article `found` in `archive` in the way `read` says.
    pub async fn read_found(
        &self,
        name: &'static str,
        confidence: f64,
        archive: &str,
        found: Located,
        read: Reading,
        notes: Vec<String>,
    ) -> Result<Outcome, ToolError> {
        let mut arguments = json!({"zim_file_path": archive, "entry_path": found.path});
        let tool = match read {
            Reading::Full { .. } => {
                self.add_paging(&mut arguments);
                "zim_get"
            }
            Reading::Summary => {
                arguments["view"] = json!("summary");
                "zim_get"
            }
            Reading::Toc => {
                arguments["view"] = json!("toc");
                "zim_get"
            }
            Reading::Section(section) => {
                arguments["section_id"] = json!(section);
                if let Some(max) = self.request.max_content_length {
                    arguments["max_chars"] = json!(max);
                }
                "zim_get_section"
            }
            Reading::Links { direction, kind } => {
                arguments["direction"] = json!(match direction {
                    Direction::Outbound => "outbound",
                    Direction::Inbound => "inbound",
                    Direction::Related => "related",
                });
                if let Some(kind) = kind {
                    arguments["kind"] = json!(kind);
                }
                let most = match direction {
                    Direction::Outbound => most::OUTBOUND,
                    _ => most::LINKED,
                };
                // Related articles are one page: no offset or cursor continues them.
                if direction == Direction::Related {
                    self.add_limit(&mut arguments, most);
                } else {
                    self.add_list_window(&mut arguments, true, most);
                }
                if self.request.limit.is_none() {
                    arguments["limit"] = json!(LINKS_LIMIT);
                }
                "zim_links"
            }
        };
        let result = self.call(tool, &arguments).await?;
        // A nearest title is a guess.
        let confidence = if found.exact {
            confidence
        } else {
            confidence * 0.8
        };
        let mut outcome = Outcome::of(name, confidence, tool, arguments).with_result(result);
        outcome.lookup = Some(found.lookup);
        outcome.notes = notes;
        Ok(outcome)
    }

    /// The answer when no title matches: a full-text search for the words.
    async fn unlocated(
        &self,
        name: &'static str,
        title: &str,
        archive: Option<String>,
    ) -> Result<Outcome, ToolError> {
        let mut outcome = self.search(name, 0.6, title, archive).await?;
        let found = outcome.result["total"] != 0;
        let note = if found {
            format!("no article is titled '{title}'; these articles mention it")
        } else {
            format!("no article is titled '{title}', and no article mentions it")
        };
        outcome.notes.insert(0, note);
        Ok(outcome)
    }
}

/// Whether a search row's title (or the title of the redirect that led to it) is `wanted`,
/// ignoring case, accents and underscores.
pub(super) fn same_title(row: &Value, wanted: &str) -> bool {
    let wanted = crate::archive::titles::fold(&wanted.replace('_', " "));
    ["title", "matched_title"].iter().any(|key| {
        row[*key].as_str().is_some_and(|title| {
            crate::archive::titles::fold(trim_outer(&title.replace('_', " "))) == wanted
        })
    })
}

/// The query without question words and other words every page has, which a search would
/// otherwise require.
fn content_words(query: &str) -> String {
    const STOP: &str = "a an the of in on at to for about and is are was were be did does do \
        what who whom when where why how which that this it its by with from as me tell";
    query
        .split_whitespace()
        .filter(|word| {
            let key = trim_outer(word).to_lowercase();
            !STOP.split_whitespace().any(|stop| stop == key)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn question_words_are_left_out_of_retried_searches() {
        assert_eq!(
            super::content_words("When was Ray Charles born?"),
            "Ray Charles born?"
        );
        assert_eq!(super::content_words("the of"), "");
    }

    #[test]
    fn titles_match_ignoring_case_accents_and_underscores() {
        let row = json!({"title": "A Song for You", "matched_title": "A Song For You"});
        assert!(super::same_title(&row, "a song for you"));
        assert!(super::same_title(
            &json!({"title": "Café_Noir"}),
            "cafe noir"
        ));
        assert!(!super::same_title(&row, "A Song"));
    }
}

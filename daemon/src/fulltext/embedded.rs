//! Search through the Xapian indexes an archive carries (`X/fulltext/xapian` and
//! `X/title/xapian`), as libzim searches them: its query handling, its weighting, its order of
//! results. What each index says about itself (language, stopwords, which value slot holds
//! the title) is read once per archive and kept.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::warn;

use super::matcher::{self, FULLTEXT_WEIGHTING, Hit, SUGGEST_WEIGHTING};
use super::snippet;
use super::terms::{self, Analyzer};
use crate::archive::{Archive, ArchiveError, Entry};
use crate::glass::{Database, GlassError};

/// The two indexes an archive may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// Article text.
    Fulltext,
    /// Titles, for suggestions.
    Title,
}

impl IndexKind {
    fn entry_name(self) -> &'static str {
        match self {
            IndexKind::Fulltext => "fulltext",
            IndexKind::Title => "title",
        }
    }
}

/// What one index says about itself.
struct IndexInfo {
    analyzer: Analyzer,
    title_slot: Option<u32>,
    target_path_slot: Option<u32>,
}

/// Whether an index can be used.
enum IndexState {
    Absent,
    Usable(IndexInfo),
    Damaged(String),
}

/// The embedded indexes of one archive, examined on first use.
#[derive(Default)]
pub struct EmbeddedIndexes {
    fulltext: OnceLock<IndexState>,
    title: OnceLock<IndexState>,
    /// Set once damage found during a search has been logged.
    damage_reported: AtomicBool,
}

/// The words of one full-text query as one archive's index stems them, for snippets.
pub struct Highlighter<'a> {
    analyzer: &'a Analyzer,
    wanted: HashSet<String>,
    starts: Vec<String>,
}

impl Highlighter<'_> {
    /// A passage of `entry` showing the query's words in bold.
    pub fn snippet(&self, archive: &Archive, entry: &Entry) -> Option<String> {
        let html = archive.content(entry).ok()??;
        let html = String::from_utf8_lossy(&html);
        // Stemming every word of an article is the costly part: each distinct word once.
        let mut seen: HashMap<String, bool> = HashMap::new();
        Some(snippet::make(&html, |word| {
            let lower = word.to_lowercase();
            if lower.is_ascii()
                && !self
                    .starts
                    .iter()
                    .any(|start| lower.starts_with(start.as_str()))
            {
                return false;
            }
            *seen
                .entry(lower)
                .or_insert_with_key(|word| self.wanted.contains(self.analyzer.term(word).as_str()))
        }))
    }
}

/// Why an archive cannot be searched through its own index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The archive has no index of this kind.
    #[error("the archive has no embedded {0} index")]
    NoIndex(&'static str),
    /// The index is there but cannot be read.
    #[error("the archive's {kind} index cannot be read: {reason}")]
    Damaged {
        /// Which index.
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Xapian's query parser would refuse the text; libzim lists matching titles instead.
    #[error("the text cannot be parsed as a Xapian query")]
    Unparsable,
    /// The archive itself failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// One result, before paging.
#[derive(Clone, Debug)]
pub struct Found {
    /// The entry, as the archive holds it (a redirect for suggestions, resolved by the caller).
    pub entry: Entry,
    /// The BM25 weight.
    pub score: f64,
}

/// A page of results.
#[derive(Debug, Default)]
pub struct Page {
    /// The results on this page, best first.
    pub found: Vec<Found>,
    /// How many documents matched in all.
    pub matched: u32,
    /// Whether the time budget ran out, so later documents were not considered.
    pub partial: bool,
}

/// Which documents a full-text search keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only entries of this namespace letter (`C` in new archives, `A` in old ones).
    pub namespace: Option<char>,
    /// Only entries whose MIME type starts with this (lower case; MIME types ignore case).
    pub content_type: Option<String>,
}

impl EmbeddedIndexes {
    /// True the first time it is asked, so damage found mid-search is logged once per archive.
    pub fn first_damage_report(&self) -> bool {
        !self.damage_reported.swap(true, Ordering::Relaxed)
    }

    /// Whether the archive carries this index and it opened without damage.
    pub fn is_usable(&self, archive: &Archive, kind: IndexKind) -> bool {
        matches!(self.state(archive, kind), IndexState::Usable(_))
    }

    /// How searches of `kind` are answered, in words.
    pub fn describe(&self, archive: &Archive, kind: IndexKind) -> String {
        match (self.state(archive, kind), kind) {
            (IndexState::Usable(_), _) => "the archive's Xapian index".to_owned(),
            (IndexState::Absent, IndexKind::Fulltext) => {
                "titles only: the archive has no full-text index".to_owned()
            }
            (IndexState::Absent, IndexKind::Title) => "the archive's title listing".to_owned(),
            (IndexState::Damaged(reason), _) => format!("titles only: {reason}"),
        }
    }

    /// Full-text search: the results ranked `offset` to `offset + limit`.
    pub fn fulltext(
        &self,
        archive: &Archive,
        text: &str,
        (offset, limit): (usize, usize),
        filter: &Filter,
        stop: &dyn Fn() -> bool,
    ) -> Result<Page, SearchError> {
        let info = self.info(archive, IndexKind::Fulltext)?;
        let outcome = archive.with_xapian_index("fulltext", |bytes| -> Result<_, SearchError> {
            let db = Database::open(bytes).map_err(damaged(IndexKind::Fulltext))?;
            // libzim gives its full-text parser no database, so `c#` stays `c#` even where the
            // index holds only `c`.
            let Some(query) = terms::parse_fulltext(text, &info.analyzer) else {
                return Ok(Page::default());
            };
            let mut accept = |docid| accept_document(archive, &db, docid, filter);
            let filtering = filter.namespace.is_some() || filter.content_type.is_some();
            let ranked = matcher::best(
                &db,
                &query,
                FULLTEXT_WEIGHTING,
                offset + limit,
                stop,
                filtering.then_some(&mut accept as &mut dyn FnMut(u32) -> Result<bool, GlassError>),
            )
            .map_err(damaged(IndexKind::Fulltext))?;
            let mut found = Vec::with_capacity(limit);
            for hit in ranked.hits.iter().skip(offset) {
                if let Some(result) =
                    describe(archive, &db, IndexKind::Fulltext, hit.docid, hit.weight)?
                {
                    found.push(result);
                }
            }
            Ok(Page {
                found,
                matched: ranked.matched,
                partial: ranked.partial,
            })
        })?;
        outcome.unwrap_or(Err(SearchError::NoIndex("fulltext")))
    }

    /// Title suggestions, as libzim's SuggestionSearcher ranks them: by weight, then by title;
    /// where the index records redirect targets, entries sharing one count once.
    pub fn suggest(
        &self,
        archive: &Archive,
        text: &str,
        (offset, limit): (usize, usize),
    ) -> Result<Page, SearchError> {
        let info = self.info(archive, IndexKind::Title)?;
        let outcome = archive.with_xapian_index("title", |bytes| -> Result<_, SearchError> {
            let db = Database::open(bytes).map_err(damaged(IndexKind::Title))?;
            let query =
                terms::parse_suggest(text, &info.analyzer).map_err(|_| SearchError::Unparsable)?;
            let Some(query) = query else {
                return Ok(Page::default());
            };
            let hits =
                matcher::all(&db, &query, SUGGEST_WEIGHTING).map_err(damaged(IndexKind::Title))?;
            let matched = u32::try_from(hits.len()).unwrap_or(u32::MAX);
            // Titles are read only for a shortlist of the best weights, widened when entries
            // sharing a target leave it too short.
            let mut shortlist = (offset + limit) * 2 + 16;
            loop {
                let ranked = rank_by_title(&db, info, &hits, shortlist)?;
                let complete = ranked.len() == hits.len();
                let found = collapse_and_page(archive, &db, info, ranked, (offset, limit))?;
                if found.len() == limit || complete {
                    return Ok(Page {
                        found,
                        matched,
                        partial: false,
                    });
                }
                shortlist *= 4;
            }
        })?;
        outcome.unwrap_or(Err(SearchError::NoIndex("title")))
    }

    /// What snippets of this archive highlight for a full-text query: parsed once, used for
    /// every result of the archive.
    pub fn highlighter(&self, archive: &Archive, text: &str) -> Option<Highlighter<'_>> {
        let info = self.info(archive, IndexKind::Fulltext).ok()?;
        let query = terms::parse_fulltext(text, &info.analyzer)?;
        let wanted: HashSet<String> = query.terms().into_iter().map(str::to_owned).collect();
        // A stem keeps the start of its word, so ASCII words that start like no wanted term
        // need no stemming.
        let starts = wanted
            .iter()
            .map(|term| {
                let keep = term.chars().count().saturating_sub(1).clamp(1, 3);
                term.chars().take(keep).collect()
            })
            .collect();
        Some(Highlighter {
            analyzer: &info.analyzer,
            wanted,
            starts,
        })
    }

    fn info(&self, archive: &Archive, kind: IndexKind) -> Result<&IndexInfo, SearchError> {
        match self.state(archive, kind) {
            IndexState::Usable(info) => Ok(info),
            IndexState::Absent => Err(SearchError::NoIndex(kind.entry_name())),
            IndexState::Damaged(reason) => Err(SearchError::Damaged {
                kind: kind.entry_name(),
                reason: reason.clone(),
            }),
        }
    }

    fn state(&self, archive: &Archive, kind: IndexKind) -> &IndexState {
        let cell = match kind {
            IndexKind::Fulltext => &self.fulltext,
            IndexKind::Title => &self.title,
        };
        cell.get_or_init(|| examine(archive, kind))
    }
}

/// Reads what an index says about itself; a damaged one is logged once and not used.
fn examine(archive: &Archive, kind: IndexKind) -> IndexState {
    let read = archive.with_xapian_index(kind.entry_name(), |bytes| {
        let db = Database::open(bytes)?;
        let text = |name| -> Result<Option<String>, GlassError> {
            Ok(db
                .metadata(name)?
                .map(|value| String::from_utf8_lossy(&value).into_owned()))
        };
        let language = text("language")?;
        let stopwords = text("stopwords")?;
        let values = text("valuesmap")?.unwrap_or_default();
        // Probe the structures every search needs, so damage shows now and not mid-query.
        db.doc_lengths()?;
        Ok::<_, GlassError>((language, stopwords, values))
    });
    let (language, stopwords, values) = match read {
        Ok(None) => return IndexState::Absent,
        Ok(Some(Ok(found))) => found,
        Ok(Some(Err(error))) => {
            warn!(
                archive = %archive.path().display(),
                index = kind.entry_name(),
                %error,
                "embedded index cannot be read; titles are searched instead"
            );
            return IndexState::Damaged(error.to_string());
        }
        Err(error) => return IndexState::Damaged(error.to_string()),
    };
    let language = match language {
        Some(language) => Some(language),
        None => archive.metadata_text("Language").ok().flatten(),
    };
    let slot = |name: &str| {
        values.split(';').find_map(|pair| {
            let (key, slot) = pair.split_once(':')?;
            (key == name).then(|| slot.trim().parse().ok()).flatten()
        })
    };
    IndexState::Usable(IndexInfo {
        analyzer: Analyzer::new(language.as_deref(), stopwords.as_deref()),
        // Indexes written before the map existed keep the title in slot 0.
        title_slot: if values.is_empty() {
            Some(0)
        } else {
            slot("title")
        },
        target_path_slot: slot("targetPath"),
    })
}

fn damaged(kind: IndexKind) -> impl Fn(GlassError) -> SearchError {
    move |error| SearchError::Damaged {
        kind: kind.entry_name(),
        reason: error.to_string(),
    }
}

/// The text in a document's value slot, or empty.
fn slot_text(db: &Database<'_>, slot: Option<u32>, docid: u32) -> Result<String, SearchError> {
    let Some(slot) = slot else {
        return Ok(String::new());
    };
    let value = db.value(slot, docid).map_err(damaged(IndexKind::Title))?;
    Ok(value
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default())
}

/// The archive entry a document stands for; `None` when the archive no longer has it.
fn describe(
    archive: &Archive,
    db: &Database<'_>,
    kind: IndexKind,
    docid: u32,
    score: f64,
) -> Result<Option<Found>, SearchError> {
    let Some(path) = db.document_data(docid).map_err(damaged(kind))? else {
        return Ok(None);
    };
    let path = String::from_utf8_lossy(&path);
    let Some(entry) = archive.find(&path)? else {
        return Ok(None);
    };
    Ok(Some(Found { entry, score }))
}

/// Whether a document passes the namespace and content type filter.
fn accept_document(
    archive: &Archive,
    db: &Database<'_>,
    docid: u32,
    filter: &Filter,
) -> Result<bool, GlassError> {
    let Some(path) = db.document_data(docid)? else {
        return Ok(false);
    };
    let Ok(Some(entry)) = archive.find(&String::from_utf8_lossy(&path)) else {
        return Ok(false);
    };
    let namespace_ok = filter
        .namespace
        .is_none_or(|wanted| entry.namespace == wanted);
    let type_ok = filter.content_type.as_deref().is_none_or(|wanted| {
        entry
            .mime()
            .is_some_and(|mime| mime.to_ascii_lowercase().starts_with(wanted))
    });
    Ok(namespace_ok && type_ok)
}

/// The hits whose weight is among the best `shortlist`, with their titles, ranked by weight,
/// then title, then document id, as Xapian's "relevance then value" order.
fn rank_by_title(
    db: &Database<'_>,
    info: &IndexInfo,
    hits: &[Hit],
    shortlist: usize,
) -> Result<Vec<(Hit, String)>, SearchError> {
    let threshold = if hits.len() > shortlist {
        let mut weights: Vec<f64> = hits.iter().map(|hit| hit.weight).collect();
        let (_, nth, _) = weights.select_nth_unstable_by(shortlist - 1, |a, b| b.total_cmp(a));
        *nth
    } else {
        f64::NEG_INFINITY
    };
    let mut titles = info.title_slot.map(|slot| db.values(slot));
    let mut ranked = Vec::new();
    for hit in hits.iter().filter(|hit| hit.weight >= threshold) {
        let title = match titles.as_mut() {
            Some(values) => values.get(hit.docid).map_err(damaged(IndexKind::Title))?,
            None => None,
        };
        ranked.push((
            *hit,
            String::from_utf8_lossy(title.unwrap_or_default()).into_owned(),
        ));
    }
    ranked.sort_by(|(a, a_title), (b, b_title)| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a_title.cmp(b_title))
            .then(a.docid.cmp(&b.docid))
    });
    Ok(ranked)
}

/// Drops entries whose redirect target an earlier entry already has, then takes the page.
fn collapse_and_page(
    archive: &Archive,
    db: &Database<'_>,
    info: &IndexInfo,
    ranked: Vec<(Hit, String)>,
    (offset, limit): (usize, usize),
) -> Result<Vec<Found>, SearchError> {
    let mut seen_targets = HashSet::new();
    let mut found = Vec::with_capacity(limit);
    let mut skipped = 0;
    for (hit, _) in ranked {
        if found.len() == limit {
            break;
        }
        if let Some(slot) = info.target_path_slot {
            let target = slot_text(db, Some(slot), hit.docid)?;
            if !target.is_empty() && !seen_targets.insert(target) {
                continue;
            }
        }
        let Some(result) = describe(archive, db, IndexKind::Title, hit.docid, hit.weight)? else {
            continue;
        };
        if skipped < offset {
            skipped += 1;
            continue;
        }
        found.push(result);
    }
    Ok(found)
}

//! Runs a checked `zim_search` request over its archives, on a blocking thread, and shapes the
//! answer: one ranking of rows, each naming its archive, with notes on anything degraded.
//!
//! Each archive gives its candidates for the window asked of it; across archives the ranked
//! candidates are merged by score, title matches after them, and only the page that is
//! returned is described in full (snippets are the costly part).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ozm_protocol::IndexKind;
use tokio_util::sync::CancellationToken;

use serde_json::{Value, json};
use tracing::warn;

use super::{MAX_OFFSET, Mode, Request};
use crate::archive::titles::{self, TitleMatch};
use crate::fulltext::embedded::{
    Filter, Found, Highlighter, IndexKind as EmbeddedKind, Page, SearchError,
};
use crate::fulltext::snippet;
use crate::library::{Library, OpenArchive};
use crate::mcp::Session;
use crate::mcp::args::{self, ToolError};
use crate::ownindex::{self, Indexer};

/// How long one call may search; archives not reached by then are listed as skipped, and
/// a full-text ranking cut short is marked partial.
const TIME_BUDGET: Duration = Duration::from_secs(10);

/// Words of a query that are searched; the rest are ignored (and the answer says so).
const MAX_QUERY_WORDS: usize = 64;

/// A result before it becomes a row: which archive, what ranks it, what it is.
struct Candidate {
    archive: usize,
    score: Option<f64>,
    kind: Kind,
}

enum Kind {
    Fulltext(Found),
    /// A match of ozm's own full-text index.
    Own(Found),
    Suggestion(Found),
    Title(TitleMatch),
}

/// What searching one archive gave.
#[derive(Default)]
struct ArchiveAnswer {
    candidates: Vec<Candidate>,
    /// Matches counted (title matches: only as many as were looked at).
    matched: u64,
    /// Whether the archive has results past the window.
    more: bool,
    /// Whether the count is only a lower bound (title matches, or a search cut short).
    lower_bound: bool,
    partial: bool,
    note: Option<String>,
    /// Where the build of the archive's own index stands, when search waits for it.
    build: Option<Value>,
}

/// The archives of one call, readable and not.
struct Targets {
    open: Vec<(String, Arc<OpenArchive>)>,
    unreadable: Vec<String>,
}

/// Searches the archives the request names and answers.
pub(super) async fn search(
    session: Arc<Session>,
    request: Request,
    requested: Option<String>,
    cross_file: bool,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    let targets = if cross_file {
        let (mut open, mut unreadable) = (Vec::new(), Vec::new());
        for (name, archive) in session.library.visible_from(&session.directories) {
            match archive.open() {
                Ok(archive) => open.push((name, archive)),
                Err(_) => unreadable.push(name),
            }
        }
        if open.is_empty() {
            return Err(ToolError::new(
                "no_archives_loaded",
                "no readable archive is served",
            ));
        }
        Targets { open, unreadable }
    } else {
        let single = single_archive(&session, requested.as_deref())?;
        Targets {
            open: vec![single],
            unreadable: Vec::new(),
        }
    };
    let library = Arc::clone(&session.library);
    args::blocking(move || Ok(answer(&targets, &request, cross_file, &cancel, &library))).await
}

fn answer(
    targets: &Targets,
    request: &Request,
    cross_file: bool,
    cancel: &CancellationToken,
    library: &Library,
) -> Value {
    let deadline = Instant::now() + TIME_BUDGET;
    // A client that went away (or cancelled) stops the work as the time budget does.
    let stop = || cancel.is_cancelled() || Instant::now() > deadline;
    // Across archives every archive gives its best `offset + limit`, and the merge pages.
    let window = if cross_file {
        (0, request.offset + request.limit)
    } else {
        (request.offset, request.limit)
    };
    let mut candidates = Vec::new();
    let (mut matched, mut more, mut lower_bound, mut partial) = (0u64, false, false, false);
    let (mut notes, mut skipped, mut builds) = (Vec::new(), Vec::new(), Vec::new());
    for (index, (name, open)) in targets.open.iter().enumerate() {
        if stop() {
            skipped.push(name.clone());
            continue;
        }
        let found = search_archive(
            (index, name),
            open,
            request,
            window,
            &stop,
            library.indexer(),
        );
        candidates.extend(found.candidates);
        matched += found.matched;
        more |= found.more;
        lower_bound |= found.lower_bound;
        partial |= found.partial;
        notes.extend(found.note);
        builds.extend(found.build);
    }
    if cross_file {
        // Ranked candidates first, best first; title matches keep their order after them.
        candidates.sort_by(|a, b| match (a.score, b.score) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        more |= candidates.len() > request.offset + request.limit;
        candidates = candidates
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect();
    }
    // Each archive's highlighter is made once, for the first of its results on the page.
    let mut highlighters = HashMap::new();
    let rows: Vec<Value> = candidates
        .into_iter()
        .map(|candidate| {
            let (_, open) = &targets.open[candidate.archive];
            let highlighter = highlighters
                .entry(candidate.archive)
                .or_insert_with(|| open.indexes.highlighter(&open.archive, &request.query));
            row(
                &targets.open,
                candidate,
                highlighter.as_ref(),
                &request.query,
                &stop,
            )
        })
        .collect();
    let returned = rows.len();
    let next = request.offset + returned;
    let next_offset = (more && returned > 0 && next <= MAX_OFFSET as usize).then_some(next);
    let mut answer = json!({
        "query": request.query,
        "mode": request.mode.name(),
        "results": rows,
        "returned_count": returned,
        "total": matched,
        "page_info": {
            "offset": request.offset,
            "limit": request.limit,
            "next_offset": next_offset,
            "total_is_lower_bound": lower_bound || partial || !skipped.is_empty(),
        },
    });
    if cross_file {
        answer["files_searched"] = json!(targets.open.len() - skipped.len());
        if !targets.unreadable.is_empty() {
            answer["files_unreadable"] = json!(targets.unreadable);
        }
    } else if let Some((name, _)) = targets.open.first() {
        answer["zim_file_path"] = json!(name);
    }
    let words = request
        .query
        .split_whitespace()
        .filter(|word| *word != "OR")
        .count();
    if request.mode == Mode::Fulltext && words > MAX_QUERY_WORDS {
        notes.push(format!(
            "only the first {MAX_QUERY_WORDS} words of the query are searched"
        ));
    }
    if more && next > MAX_OFFSET as usize {
        notes.push(format!(
            "results past offset {MAX_OFFSET} cannot be paged to; narrow the query"
        ));
    }
    if partial || !skipped.is_empty() {
        answer["partial"] = json!(true);
        notes.push(format!(
            "the search stopped after {} s; results are the best found so far",
            TIME_BUDGET.as_secs()
        ));
    }
    if !skipped.is_empty() {
        answer["files_skipped"] = json!(skipped);
    }
    if !notes.is_empty() {
        answer["notes"] = json!(notes);
    }
    if !builds.is_empty() {
        answer["index_builds"] = json!(builds);
    }
    answer
}

fn search_archive(
    (index, name): (usize, &str),
    open: &Arc<OpenArchive>,
    request: &Request,
    window: (usize, usize),
    stop: &dyn Fn() -> bool,
    indexer: &Indexer,
) -> ArchiveAnswer {
    if request.mode == Mode::Fulltext && indexer.wants_fulltext(open) {
        if let Some(own) = indexer.fulltext(open) {
            return match own.search(&open.archive, &request.query, window, &request.filter) {
                Ok(Some(page)) => ranked(index, window, page, Kind::Own),
                Ok(None) => ArchiveAnswer::default(),
                Err(error) => {
                    warn!(archive = %open.archive.path().display(), %error,
                        "own full-text index failed during a search");
                    let note = format!("{name}: {error}; its results match titles only");
                    title_matches(index, open, request, window, Some(note), indexer)
                }
            };
        }
        if !open
            .indexes
            .is_usable(&open.archive, EmbeddedKind::Fulltext)
        {
            let state = open.own.fulltext_state();
            let damage = open
                .archive
                .has_fulltext_index()
                .unwrap_or(false)
                .then(|| open.indexes.describe(&open.archive, EmbeddedKind::Fulltext));
            let damage = damage
                .as_deref()
                .map(|text| text.trim_start_matches("titles only: "));
            let note = ownindex::pending_note(name, state.as_ref(), damage);
            let mut answer = title_matches(index, open, request, window, Some(note), indexer);
            answer.build =
                state.map(|state| ownindex::state_json(name, IndexKind::Fulltext, &state));
            return answer;
        }
    }
    let indexes = &open.indexes;
    let outcome = match request.mode {
        Mode::Fulltext => indexes
            .fulltext(&open.archive, &request.query, window, &request.filter, stop)
            .map(|page| ranked(index, window, page, Kind::Fulltext)),
        Mode::Suggest => indexes
            .suggest(&open.archive, &request.query, window)
            .map(|page| ranked(index, window, page, Kind::Suggestion)),
        Mode::Title => return title_matches(index, open, request, window, None, indexer),
    };
    let note = match outcome {
        Ok(answer) => return answer,
        // Without a title index libzim lists titles too: nothing is missing.
        Err(SearchError::NoIndex(_)) if request.mode == Mode::Suggest => None,
        Err(SearchError::Unparsable) => None,
        Err(SearchError::NoIndex(_)) => Some(format!(
            "{name} has no full-text index: its results match titles only (reason: \
             no_xapian_index)"
        )),
        Err(error) => {
            if indexes.first_damage_report() {
                warn!(
                    archive = %open.archive.path().display(),
                    %error,
                    "embedded index failed during a search; titles are searched instead"
                );
            }
            Some(format!("{name}: {error}; its results match titles only"))
        }
    };
    title_matches(index, open, request, window, note, indexer)
}

fn ranked(
    index: usize,
    (offset, _): (usize, usize),
    page: Page,
    kind: fn(Found) -> Kind,
) -> ArchiveAnswer {
    let more = offset + page.found.len() < page.matched as usize;
    let candidates = page
        .found
        .into_iter()
        .map(|found| Candidate {
            archive: index,
            score: Some(found.score),
            kind: kind(found),
        })
        .collect();
    ArchiveAnswer {
        candidates,
        matched: u64::from(page.matched),
        more,
        lower_bound: false,
        partial: page.partial,
        note: None,
        build: None,
    }
}

/// Titles starting with the query, filtered as a full-text search would be.
fn title_matches(
    index: usize,
    open: &Arc<OpenArchive>,
    request: &Request,
    (offset, limit): (usize, usize),
    note: Option<String>,
    indexer: &Indexer,
) -> ArchiveAnswer {
    // One more than the window tells whether there is a next page.
    let wanted = offset + limit + 1;
    let folded = indexer.titles(open);
    let matches = match titles::search(&open.archive, folded.as_deref(), &request.query, wanted) {
        Ok(matches) => matches,
        Err(error) => {
            return ArchiveAnswer {
                note: Some(format!("cannot be searched: {error}")),
                ..ArchiveAnswer::default()
            };
        }
    };
    let kept: Vec<TitleMatch> = matches
        .into_iter()
        .filter(|found| passes(&request.filter, found))
        .collect();
    let more = kept.len() > offset + limit;
    let counted = kept.len().min(offset + limit);
    let candidates = kept
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|found| Candidate {
            archive: index,
            score: None,
            kind: Kind::Title(found),
        })
        .collect();
    ArchiveAnswer {
        candidates,
        matched: counted as u64,
        more,
        lower_bound: true,
        partial: false,
        note,
        build: None,
    }
}

fn passes(filter: &Filter, found: &TitleMatch) -> bool {
    let namespace_ok = filter
        .namespace
        .is_none_or(|wanted| found.entry.namespace == wanted);
    let type_ok = filter.content_type.as_deref().is_none_or(|wanted| {
        found
            .entry
            .mime()
            .is_some_and(|mime| mime.to_ascii_lowercase().starts_with(wanted))
    });
    namespace_ok && type_ok
}

/// The row a client sees for a candidate on the returned page.
fn row(
    archives: &[(String, Arc<OpenArchive>)],
    candidate: Candidate,
    highlighter: Option<&Highlighter<'_>>,
    query: &str,
    stop: &dyn Fn() -> bool,
) -> Value {
    let (name, open) = &archives[candidate.archive];
    let ranked = |found: Found, snippet: Option<String>| {
        json!({
            "zim_file_path": name,
            "path": found.entry.path,
            "title": found.entry.title,
            "snippet": snippet,
            "score": round(found.score),
        })
    };
    // Out of time, the rows still go out, without their snippets.
    match candidate.kind {
        Kind::Fulltext(found) => {
            let snippet = highlighter
                .filter(|_| !stop())
                .and_then(|highlighter| highlighter.snippet(&open.archive, &found.entry));
            ranked(found, snippet)
        }
        Kind::Own(found) => {
            let snippet = (!stop())
                .then(|| own_snippet(open, &found, query))
                .flatten();
            ranked(found, snippet)
        }
        Kind::Suggestion(found) => suggestion_row(name, open, found),
        Kind::Title(found) => {
            let mut value = json!({
                "zim_file_path": name,
                "path": found.entry.path,
                "title": found.entry.title,
            });
            if let Some(from) = found.redirect_from {
                value["matched_title"] = json!(found.matched_title);
                value["redirect_from"] = json!(from);
            }
            value
        }
    }
}

/// The passage of an own-index result showing the query's words in bold.
fn own_snippet(open: &OpenArchive, found: &Found, query: &str) -> Option<String> {
    let index = open.own.ready_fulltext()?;
    let content = open.archive.content(&found.entry).ok()??;
    let terms = index.hit_terms(query);
    let html = String::from_utf8_lossy(&content);
    Some(snippet::make_with(
        &html,
        |text| index.words(text),
        |term| terms.iter().any(|hit| hit == term),
    ))
}

/// A suggestion, led to the entry it redirects to; a broken redirect is shown as it is.
fn suggestion_row(name: &str, open: &OpenArchive, found: Found) -> Value {
    let matched_path = found.entry.path.clone();
    match open.archive.resolve(found.entry.clone()) {
        Ok(resolved) => {
            let mut value = json!({
                "zim_file_path": name,
                "path": resolved.entry.path,
                "title": resolved.entry.title,
                "score": round(found.score),
            });
            if !resolved.via.is_empty() {
                value["matched_title"] = json!(found.entry.title);
                value["redirect_from"] = json!(matched_path);
            }
            value
        }
        Err(error) => json!({
            "zim_file_path": name,
            "path": matched_path,
            "title": found.entry.title,
            "score": round(found.score),
            "redirect_error": error.to_string(),
        }),
    }
}

/// Scores rounded for reading; the order is decided before rounding.
fn round(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

fn single_archive(
    session: &Session,
    requested: Option<&str>,
) -> Result<(String, Arc<OpenArchive>), ToolError> {
    if let Some(requested) = requested {
        return args::archive(session, requested);
    }
    let visible = session.library.visible_from(&session.directories);
    let readable: Vec<_> = visible
        .iter()
        .filter(|(_, archive)| archive.open().is_ok())
        .collect();
    match readable.as_slice() {
        [(name, _)] => args::archive(session, name),
        _ => Err(ToolError::new(
            "invalid_argument",
            "`zim_file_path` is required when more than one archive is served (or pass \
             cross_file=true)",
        )
        .with(
            "available_archives",
            readable
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>(),
        )),
    }
}

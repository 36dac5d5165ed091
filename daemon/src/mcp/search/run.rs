//! Runs a checked `zim_search` request over its archives, on a blocking thread, and shapes the
//! answer: one ranking of rows, each naming its archive, with notes on anything degraded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Mode, Request};
use crate::archive::titles;
use crate::fulltext::embedded::{IndexKind, Page, SearchError};
use crate::library::OpenArchive;
use crate::mcp::Session;
use crate::mcp::args::{self, ToolError};

/// How long one call may search; archives not reached by then are listed as skipped, and
/// a full-text ranking cut short is marked partial.
const TIME_BUDGET: Duration = Duration::from_secs(10);

/// One result row with the score it is ranked by (`None` for title matches).
struct Row {
    score: Option<f64>,
    value: Value,
}

/// What searching one archive gave.
#[derive(Default)]
struct ArchiveAnswer {
    rows: Vec<Row>,
    matched: Option<u32>,
    partial: bool,
    note: Option<String>,
}

/// Searches the archives the request names and answers.
pub(super) async fn search(
    session: Arc<Session>,
    request: Request,
    requested: Option<String>,
    cross_file: bool,
) -> Result<Value, ToolError> {
    let targets = if cross_file {
        let open: Vec<_> = session
            .library
            .visible_from(&session.directories)
            .into_iter()
            .filter_map(|(name, archive)| archive.open().ok().map(|open| (name, open)))
            .collect();
        if open.is_empty() {
            return Err(ToolError::new(
                "no_archives_loaded",
                "no readable archive is served",
            ));
        }
        open
    } else {
        vec![single_archive(&session, requested.as_deref())?]
    };
    args::blocking(move || Ok(answer(&targets, &request, cross_file))).await
}

fn answer(targets: &[(String, Arc<OpenArchive>)], request: &Request, cross_file: bool) -> Value {
    let deadline = Instant::now() + TIME_BUDGET;
    // Across archives every archive gives its best `offset + limit`, and the merge pages.
    let window = if cross_file {
        (0, request.offset + request.limit)
    } else {
        (request.offset, request.limit)
    };
    let mut rows = Vec::new();
    let (mut matched, mut partial) = (0u64, false);
    let (mut notes, mut skipped) = (Vec::new(), Vec::new());
    for (name, open) in targets {
        if Instant::now() > deadline {
            skipped.push(name.clone());
            continue;
        }
        let found = search_archive(name, open, request, window, deadline);
        rows.extend(found.rows);
        matched += u64::from(found.matched.unwrap_or(0));
        partial |= found.partial;
        notes.extend(found.note);
    }
    if cross_file {
        // Ranked rows first, best first; title matches keep their order after them.
        rows.sort_by(|a, b| match (a.score, b.score) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        rows = rows
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect();
    }
    let returned = rows.len();
    let more = request.mode == Mode::Fulltext && (request.offset + returned) < matched as usize;
    let mut answer = json!({
        "query": request.query,
        "mode": request.mode.name(),
        "results": rows.into_iter().map(|row| row.value).collect::<Vec<_>>(),
        "returned_count": returned,
        "page_info": {
            "offset": request.offset,
            "limit": request.limit,
            "next_offset": more.then_some(request.offset + returned),
        },
    });
    if request.mode == Mode::Fulltext {
        answer["total"] = json!(matched);
    }
    if cross_file {
        answer["files_searched"] = json!(targets.len() - skipped.len());
    } else if let Some((name, _)) = targets.first() {
        answer["zim_file_path"] = json!(name);
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
    answer
}

fn search_archive(
    name: &str,
    open: &OpenArchive,
    request: &Request,
    window: (usize, usize),
    deadline: Instant,
) -> ArchiveAnswer {
    let indexes = &open.indexes;
    let outcome = match request.mode {
        Mode::Fulltext => indexes
            .fulltext(
                &open.archive,
                &request.query,
                window,
                &request.filter,
                Some(deadline),
            )
            .map(|page| fulltext_rows(name, open, request, page)),
        Mode::Suggest if indexes.usable(&open.archive, IndexKind::Title) => indexes
            .suggest(&open.archive, &request.query, window)
            .map(|page| suggestion_rows(name, open, page)),
        Mode::Title | Mode::Suggest => return title_rows(name, open, request, None),
    };
    match outcome {
        Ok(answer) => answer,
        Err(SearchError::Unparsable) => title_rows(name, open, request, None),
        Err(SearchError::NoIndex(_)) => title_rows(
            name,
            open,
            request,
            Some(format!(
                "{name} has no full-text index: its results match titles only \
                 (reason: no_xapian_index)"
            )),
        ),
        Err(error) => title_rows(
            name,
            open,
            request,
            Some(format!("{name}: {error}; its results match titles only")),
        ),
    }
}

fn fulltext_rows(name: &str, open: &OpenArchive, request: &Request, page: Page) -> ArchiveAnswer {
    let rows = page
        .found
        .into_iter()
        .map(|found| {
            let snippet = open
                .indexes
                .snippet(&open.archive, &request.query, &found.entry);
            Row {
                score: Some(found.score),
                value: json!({
                    "zim_file_path": name,
                    "path": found.entry.path,
                    "title": found.title,
                    "snippet": snippet,
                    "score": round(found.score),
                }),
            }
        })
        .collect();
    ArchiveAnswer {
        rows,
        matched: Some(page.matched),
        partial: page.partial,
        note: None,
    }
}

fn suggestion_rows(name: &str, open: &OpenArchive, page: Page) -> ArchiveAnswer {
    let mut rows = Vec::new();
    for found in page.found {
        let matched_path = found.entry.path.clone();
        let resolved = match open.archive.resolve(found.entry.clone()) {
            Ok(resolved) => resolved,
            Err(error) => {
                // A broken redirect is still what the title index suggests; say what is wrong.
                let value = json!({
                    "zim_file_path": name,
                    "path": matched_path,
                    "title": found.title,
                    "score": round(found.score),
                    "redirect_error": error.to_string(),
                });
                rows.push(Row {
                    score: Some(found.score),
                    value,
                });
                continue;
            }
        };
        let mut value = json!({
            "zim_file_path": name,
            "path": resolved.entry.path,
            "title": resolved.entry.title,
            "score": round(found.score),
        });
        if !resolved.via.is_empty() {
            value["matched_title"] = json!(found.title);
            value["redirect_from"] = json!(matched_path);
        }
        rows.push(Row {
            score: Some(found.score),
            value,
        });
    }
    ArchiveAnswer {
        rows,
        matched: Some(page.matched),
        ..ArchiveAnswer::default()
    }
}

fn title_rows(
    name: &str,
    open: &OpenArchive,
    request: &Request,
    note: Option<String>,
) -> ArchiveAnswer {
    let limit = request.offset + request.limit;
    let matches = match titles::search(&open.archive, &open.titles, &request.query, limit) {
        Ok(matches) => matches,
        Err(error) => {
            return ArchiveAnswer {
                note: Some(format!("{name} cannot be searched: {error}")),
                ..ArchiveAnswer::default()
            };
        }
    };
    let rows = matches
        .into_iter()
        .skip(request.offset)
        .map(|found| {
            let mut value = json!({
                "zim_file_path": name,
                "path": found.entry.path,
                "title": found.entry.title,
            });
            if let Some(from) = found.redirect_from {
                value["matched_title"] = json!(found.matched_title);
                value["redirect_from"] = json!(from);
            }
            Row { score: None, value }
        })
        .collect();
    ArchiveAnswer {
        rows,
        matched: None,
        partial: false,
        note,
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

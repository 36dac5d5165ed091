//! The answers of `zim_links`, one function per direction, and the rows they list.

use ozm_protocol::BuildState;
use serde_json::{Value, json};

use super::Context;
use super::cursor;
use crate::archive::{Archive, ArchiveError, Entry};
use crate::library::OpenArchive;
use crate::links::extract::Element;
use crate::links::graph::LinkGraph;
use crate::links::{self, Kind, Link, Target, rank};
use crate::ownindex;

/// Characters of a `data:` URL shown: the rest is the data itself.
const INLINE_URL_CHARS: usize = 60;

/// Where a page of results starts, and what its cursor is bound to.
pub struct Page<'a> {
    /// What its cursor is bound to.
    pub context: &'a Context,
    /// Results skipped.
    pub offset: usize,
    /// Results at most.
    pub limit: usize,
}

impl Page<'_> {
    /// The pagination fields of an answer listing `returned` of `total` results.
    fn fields(&self, returned: usize, total: usize) -> Value {
        let next = self.offset + returned;
        let done = next >= total;
        let next_cursor = if done {
            Value::Null
        } else {
            json!(cursor::encode(self.context, next))
        };
        json!({
            "total": total,
            "done": done,
            "next_cursor": next_cursor,
            "page_info": {"offset": self.offset, "limit": self.limit, "returned_count": returned},
        })
    }
}

/// `outbound`: the page's links of one kind in document order, a page of them, with the
/// count of each kind.
pub fn outbound(
    archive: &Archive,
    page: &Entry,
    listing: &Page<'_>,
) -> Result<Value, ArchiveError> {
    let mime = page.mime().unwrap_or_default().to_owned();
    let links = if mime.starts_with("text/html") {
        let bytes = archive.content(page)?.unwrap_or_default();
        links::outbound(archive, page, &String::from_utf8_lossy(&bytes))
    } else {
        Vec::new()
    };
    let count = |kind: Kind| links.iter().filter(|link| link.kind == kind).count();
    let chosen: Vec<&Link> = links
        .iter()
        .filter(|link| link.kind == listing.context.kind)
        .collect();
    let rows: Vec<Value> = chosen
        .iter()
        .skip(listing.offset)
        .take(listing.limit)
        .map(|link| outbound_row(link))
        .collect();
    let mut answer = json!({
        "path": page.path,
        "title": page.title,
        "content_type": mime,
        "kind": listing.context.kind.name(),
        "results": rows,
        "category_totals": {
            "internal": count(Kind::Internal),
            "external": count(Kind::External),
            "media": count(Kind::Media),
            "anchor": count(Kind::Anchor),
        },
    });
    merge(&mut answer, listing.fields(rows.len(), chosen.len()));
    if !mime.starts_with("text/html") {
        answer["note"] = json!(format!(
            "{} is not an HTML page ({mime}): it has no links",
            page.path
        ));
    }
    Ok(answer)
}

fn outbound_row(link: &Link) -> Value {
    let raw = &link.raw;
    let mut row = json!({"url": raw.url, "type": link.kind.name()});
    // Media carry no text of their own: their `alt` says what they show.
    if raw.element == Element::Anchor {
        row["text"] = json!(raw.text);
    }
    match &link.target {
        Target::Entry {
            entry,
            redirect_from,
        } => {
            row["path"] = json!(entry.path);
            row["title"] = json!(entry.title);
            row["exists"] = json!(true);
            if let Some(from) = redirect_from {
                row["redirect_from"] = json!(from);
            }
        }
        Target::Missing => row["exists"] = json!(false),
        Target::Outside(domain) => row["domain"] = json!(domain),
        Target::Inline => {
            row["url"] = json!(shortened(&raw.url));
            row["embedded"] = json!(true);
        }
        Target::SamePage => {}
    }
    if let Some(fragment) = &link.fragment {
        row["fragment"] = json!(fragment);
    }
    if let Some(alt) = &raw.alt {
        row["alt"] = json!(alt);
    }
    row
}

/// `related`: the entries the page links to, each once, best first; one page.
pub fn related(
    open: &OpenArchive,
    page: &Entry,
    graph: Option<&LinkGraph>,
    limit: usize,
) -> Result<Value, ArchiveError> {
    let archive = &open.archive;
    let bytes = archive.content(page)?.unwrap_or_default();
    let links = links::outbound(archive, page, &String::from_utf8_lossy(&bytes));
    let neighbours = rank::related(&links, page.index, graph);
    let rows: Vec<Value> = neighbours
        .iter()
        .take(limit)
        .map(|neighbour| {
            let mut row = json!({
                "path": neighbour.entry.path,
                "title": neighbour.entry.title,
                "link_text": neighbour.text,
                "mention_count": neighbour.mentions,
            });
            if let Some(back) = neighbour.links_back {
                row["links_back"] = json!(back);
            }
            row
        })
        .collect();
    let mut answer = json!({
        "path": page.path,
        "title": page.title,
        "results": rows,
        "total": neighbours.len(),
        "done": rows.len() == neighbours.len(),
        "next_cursor": Value::Null,
        "page_info": {"offset": 0, "limit": limit, "returned_count": rows.len()},
        "ranking": rank::RELATED_RANKING,
    });
    if rows.len() < neighbours.len() {
        // Related neighbours come in one page: the way to more is a larger limit.
        answer["note"] = json!(format!(
            "{} more neighbours: call again with a larger limit (at most 100)",
            neighbours.len() - rows.len()
        ));
    }
    if graph.is_none() {
        answer["graph"] = graph_state(open);
    }
    Ok(answer)
}

/// `inbound`: a page of the articles linking to `page`, from the link graph, best first, each
/// with the words it links with.
pub fn inbound(
    archive: &Archive,
    page: &Entry,
    graph: &LinkGraph,
    listing: &Page<'_>,
) -> Result<Value, ArchiveError> {
    let sources = rank::inbound(graph, page.index);
    let mut rows = Vec::new();
    for &(source, degree) in sources.iter().skip(listing.offset).take(listing.limit) {
        let entry = archive.entry(source)?;
        // The words the linking page uses for this one, read again from that page.
        let html = archive.content(&entry)?.unwrap_or_default();
        let text =
            links::anchor_text_to(archive, &entry, &String::from_utf8_lossy(&html), page.index);
        rows.push(json!({
            "path": entry.path,
            "title": entry.title,
            "inbound_degree": degree,
            "anchor_text": text,
        }));
    }
    let mut answer = json!({
        "path": page.path,
        "title": page.title,
        "results": rows,
        "ranking": rank::INBOUND_RANKING,
        "graph": {"state": "ready", "articles": graph.articles, "links": graph.links},
    });
    merge(&mut answer, listing.fields(rows.len(), sources.len()));
    Ok(answer)
}

/// The answer to `inbound` while the link graph is not ready: no rows, the build's progress
/// and when to ask again.
pub fn pending(open: &OpenArchive, name: &str, page: &Entry) -> Value {
    let graph = graph_state(open);
    let note = match open.own.links_state() {
        Some(BuildState::Building {
            done,
            total,
            seconds_left,
            ..
        }) if total > 0 => {
            let wait = seconds_left.map_or("in a minute".to_owned(), |s| format!("in about {s} s"));
            format!(
                "the link graph of {name} is being built ({} of {} articles read): ask again \
                 {wait}",
                ownindex::grouped(done),
                ownindex::grouped(total)
            )
        }
        Some(BuildState::Failed(reason)) => format!(
            "the build of the link graph of {name} failed: {reason}; `ozm index` tries again"
        ),
        Some(BuildState::Ready { .. }) => {
            format!("the link graph of {name} has just been built: ask again now")
        }
        _ => format!(
            "the link graph of {name} is waiting to be built, after the index builds before \
             it: ask again in a minute (`ozm status` shows its progress)"
        ),
    };
    json!({
        "path": page.path,
        "title": page.title,
        "results": [],
        "total": Value::Null,
        "done": false,
        "next_cursor": Value::Null,
        "graph": graph,
        "note": note,
    })
}

/// The link graph's build as answers show it.
fn graph_state(open: &OpenArchive) -> Value {
    match open.own.links_state() {
        Some(BuildState::Building {
            done,
            total,
            seconds_left,
            ..
        }) => json!({"state": "building", "done": done, "total": total,
            "eta_seconds": seconds_left}),
        Some(BuildState::Ready { .. }) => json!({"state": "ready"}),
        Some(BuildState::Failed(reason)) => json!({"state": "failed", "error": reason}),
        Some(BuildState::Queued) | None => json!({"state": "queued"}),
    }
}

fn merge(answer: &mut Value, fields: Value) {
    if let (Some(answer), Value::Object(fields)) = (answer.as_object_mut(), fields) {
        answer.extend(fields);
    }
}

/// A `data:` URL cut to its type and first bytes.
fn shortened(url: &str) -> String {
    if url.chars().count() <= INLINE_URL_CHARS {
        return url.to_owned();
    }
    let start: String = url.chars().take(INLINE_URL_CHARS).collect();
    format!("{start}…")
}

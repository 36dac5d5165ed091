//! The views of an article other than its text: its lead as a summary, its headings as a
//! table of contents, and its structure (headings with positions, sections with previews).

use serde_json::{Value, json};

use super::View;
use super::fit::{self, Shown, Size};
use crate::archive::Entry;
use crate::content::{self, Budget, Heading, Rendered};

/// Characters of a section's preview in the structure view, and the shorter previews tried
/// when the view would not fit its budget.
const PREVIEW_CHARS: &[usize] = &[200, 100, 40, 0];

/// The name a view is asked for by.
pub fn name(view: View) -> &'static str {
    match view {
        View::Full => "full",
        View::Summary => "summary",
        View::Toc => "toc",
        View::Structure => "structure",
    }
}

/// The lead section, at most `max_chars` of it. Its tables (an infobox, mostly) are left out
/// when it has prose: a summary is read, not looked up.
pub fn summary(entry: &Entry, mime: &str, text: &Rendered, max_chars: usize) -> Value {
    let lead = text.lead();
    let table = |block: &&str| block.lines().all(|line| line.starts_with('|'));
    let prose: Vec<&str> = lead.split("\n\n").filter(|b| !table(b)).collect();
    let lead = if prose.is_empty() {
        lead.to_owned()
    } else {
        prose.join("\n\n")
    };
    let page = content::page(&lead, 0, max_chars);
    let summary = page.text.trim_end();
    json!({
        "path": entry.path,
        "title": entry.title,
        "summary": summary,
        "word_count": content::word_count(summary),
        "content_type": mime,
        "is_truncated": page.next_offset.is_some(),
        "article_chars": text.total_chars,
        "heading_count": text.outline.len(),
    })
}

/// The headings as a tree, each with the id zim_get_section takes, as many as fit `budget`.
pub fn toc(entry: &Entry, mime: &str, text: &Rendered, budget: Budget) -> Value {
    let build = |shown: &Shown| {
        let headings: Vec<&Heading> = shown.indices.iter().map(|&i| &text.outline[i]).collect();
        json!({
            "title": entry.title,
            "path": entry.path,
            "content_type": mime,
            "toc": tree(&headings),
            "heading_count": text.outline.len(),
            "max_depth": depth(&text.outline),
        })
    };
    // A heading nests as deep in any cut as in the whole tree: the headings a cut leaves out
    // are deeper than it, or after it. The top nodes are elements of `toc` (two levels deep in
    // the answer); each rank of children sits two levels further in.
    let nesting = nesting(&text.outline);
    let row = |index: usize, _| {
        let node = node(&text.outline[index], Vec::new());
        Size::of_element(&node, 2 + 2 * nesting[index])
    };
    let mut answer = fit::fit(text, budget, &[0], build, row);
    if text.outline.is_empty() {
        answer["note"] = json!(no_headings(entry));
    }
    answer
}

/// `headings` as nested nodes: each holds the headings of a lower rank that follow it.
fn tree(headings: &[&Heading]) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut at = 0;
    while at < headings.len() {
        let heading = headings[at];
        let rest = &headings[at + 1..];
        let inside = rest.iter().take_while(|h| h.level > heading.level).count();
        nodes.push(node(heading, tree(&rest[..inside])));
        at += 1 + inside;
    }
    nodes
}

/// The node of the table of contents for `heading`.
fn node(heading: &Heading, children: Vec<Value>) -> Value {
    json!({
        "section_id": heading.id,
        "text": heading.text,
        "level": heading.level,
        "id_source": heading.id_source.as_str(),
        "children": children,
    })
}

/// How many headings each heading of the tree of `headings` is nested in.
fn nesting(headings: &[Heading]) -> Vec<usize> {
    let mut open: Vec<u8> = Vec::new();
    let mut nesting = Vec::with_capacity(headings.len());
    for heading in headings {
        while open.last().is_some_and(|&level| level >= heading.level) {
            open.pop();
        }
        nesting.push(open.len());
        open.push(heading.level);
    }
    nesting
}

/// How deep the tree of `headings` nests.
fn depth(headings: &[Heading]) -> usize {
    nesting(headings)
        .iter()
        .max()
        .map_or(0, |deepest| deepest + 1)
}

/// Every heading with its position, and a preview of every section, as many as fit `budget`.
/// Previews cut to nothing are left out of the sections.
pub fn structure(entry: &Entry, mime: &str, text: &Rendered, budget: Budget) -> Value {
    // Made for the rows measured or shown only: most headings of a long article are neither.
    let preview = |index: usize, chars: usize| {
        (chars > 0).then(|| {
            let body = content::page(text.body(index), 0, PREVIEW_CHARS[0]).text;
            let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
            content::page(&words, 0, chars).text
        })
    };
    let word_count = content::word_count(&text.markdown);
    let build = |shown: &Shown| {
        let outline = &text.outline;
        let indices = shown.indices.iter();
        let headings: Vec<Value> = indices.clone().map(|&i| heading_row(&outline[i])).collect();
        let sections: Vec<Value> = indices
            .map(|&i| section_row(&outline[i], preview(i, shown.preview_chars)))
            .collect();
        json!({
            "title": entry.title,
            "path": entry.path,
            "content_type": mime,
            "headings": headings,
            "sections": sections,
            "heading_count": text.outline.len(),
            "word_count": word_count,
            "character_count": text.total_chars,
        })
    };
    // Each heading is a row of `headings` and one of `sections`, both two levels deep.
    let row = |index: usize, chars: usize| {
        let heading = &text.outline[index];
        Size::of_element(&heading_row(heading), 2)
            + Size::of_element(&section_row(heading, preview(index, chars)), 2)
    };
    let mut answer = fit::fit(text, budget, PREVIEW_CHARS, build, row);
    if text.outline.is_empty() {
        answer["note"] = json!(no_headings(entry));
    }
    answer
}

/// A row of the structure's `headings`.
fn heading_row(heading: &Heading) -> Value {
    json!({
        "id": heading.id,
        "text": heading.text,
        "level": heading.level,
        "position": heading.position,
    })
}

/// A row of the structure's `sections`, with `preview` unless previews are left out.
fn section_row(heading: &Heading, preview: Option<String>) -> Value {
    let mut row = json!({"id": heading.id, "title": heading.text, "level": heading.level});
    if let Some(preview) = preview {
        row["content_preview"] = json!(preview.trim_end());
    }
    row
}

/// Why a view lists no heading, and what to read instead.
pub fn no_headings(entry: &Entry) -> String {
    format!(
        "{} has no headings, so it has no sections: read it whole with zim_get (view=full)",
        entry.path
    )
}

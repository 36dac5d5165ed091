//! The views of an article other than its text: its lead as a summary, its headings as a
//! table of contents, and its structure (headings with positions, sections with previews).

use serde_json::{Value, json};

use super::View;
use super::fit::{self, Shown};
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
    let mut answer = fit::fit(text, budget, &[0], build);
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
        nodes.push(json!({
            "section_id": heading.id,
            "text": heading.text,
            "level": heading.level,
            "id_source": heading.id_source.as_str(),
            "children": tree(&rest[..inside]),
        }));
        at += 1 + inside;
    }
    nodes
}

/// How deep the tree of `headings` nests.
fn depth(headings: &[Heading]) -> usize {
    let mut open: Vec<u8> = Vec::new();
    let mut deepest = 0;
    for heading in headings {
        while open.last().is_some_and(|&level| level >= heading.level) {
            open.pop();
        }
        open.push(heading.level);
        deepest = deepest.max(open.len());
    }
    deepest
}

/// Every heading with its position, and a preview of every section, as many as fit `budget`.
pub fn structure(entry: &Entry, mime: &str, text: &Rendered, budget: Budget) -> Value {
    let previews: Vec<String> = (0..text.outline.len())
        .map(|index| {
            let body = content::page(text.body(index), 0, PREVIEW_CHARS[0]).text;
            body.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect();
    let word_count = content::word_count(&text.markdown);
    let build = |shown: &Shown| {
        let heading = |&index: &usize| &text.outline[index];
        let headings: Vec<Value> = shown
            .indices
            .iter()
            .map(heading)
            .map(|h| json!({"id": h.id, "text": h.text, "level": h.level, "position": h.position}))
            .collect();
        let sections: Vec<Value> = shown
            .indices
            .iter()
            .map(|&index| {
                let h = &text.outline[index];
                let preview = match shown.preview_chars {
                    0 => String::new(),
                    chars => content::page(&previews[index], 0, chars).text,
                };
                json!({
                    "id": h.id,
                    "title": h.text,
                    "level": h.level,
                    "content_preview": preview.trim_end(),
                })
            })
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
    let mut answer = fit::fit(text, budget, PREVIEW_CHARS, build);
    if text.outline.is_empty() {
        answer["note"] = json!(no_headings(entry));
    }
    answer
}

/// Why a view lists no heading, and what to read instead.
pub fn no_headings(entry: &Entry) -> String {
    format!(
        "{} has no headings, so it has no sections: read it whole with zim_get (view=full)",
        entry.path
    )
}

//! The views of an article other than its text: its lead as a summary, its headings as a
//! table of contents, and its structure (headings with positions, sections with previews).

use serde_json::{Value, json};

use super::View;
use crate::archive::Entry;
use crate::content::{self, Rendered};

/// Characters of a section's preview in the structure view.
const PREVIEW_CHARS: usize = 200;

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

/// The headings as a tree, each with the id zim_get_section takes.
pub fn toc(entry: &Entry, mime: &str, text: &Rendered) -> Value {
    let (toc, depth) = tree(text, 0..text.outline.len());
    let mut answer = json!({
        "title": entry.title,
        "path": entry.path,
        "content_type": mime,
        "toc": toc,
        "heading_count": text.outline.len(),
        "max_depth": depth,
    });
    if text.outline.is_empty() {
        answer["note"] = json!(no_headings(entry));
    }
    answer
}

/// The headings in `range` as nested nodes, and the depth of the deepest.
fn tree(text: &Rendered, range: std::ops::Range<usize>) -> (Vec<Value>, usize) {
    let (mut nodes, mut depth) = (Vec::new(), 0);
    let mut index = range.start;
    while index < range.end {
        let heading = &text.outline[index];
        let inside = text.subsections(index);
        let (children, below) = tree(text, inside.clone());
        depth = depth.max(below + 1);
        nodes.push(json!({
            "section_id": heading.id,
            "text": heading.text,
            "level": heading.level,
            "id_source": heading.id_source.as_str(),
            "children": children,
        }));
        index = inside.end;
    }
    (nodes, depth)
}

/// Every heading with its position, and a preview of every section.
pub fn structure(entry: &Entry, mime: &str, text: &Rendered) -> Value {
    let headings: Vec<Value> = text
        .outline
        .iter()
        .map(|h| json!({"id": h.id, "text": h.text, "level": h.level, "position": h.position}))
        .collect();
    let sections: Vec<Value> = (0..text.outline.len())
        .map(|index| {
            let heading = &text.outline[index];
            let body = content::page(text.body(index), 0, PREVIEW_CHARS).text;
            let preview: Vec<&str> = body.split_whitespace().collect();
            json!({
                "id": heading.id,
                "title": heading.text,
                "level": heading.level,
                "content_preview": preview.join(" "),
            })
        })
        .collect();
    let mut answer = json!({
        "title": entry.title,
        "path": entry.path,
        "content_type": mime,
        "headings": headings,
        "sections": sections,
        "word_count": content::word_count(&text.markdown),
        "character_count": text.total_chars,
    });
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

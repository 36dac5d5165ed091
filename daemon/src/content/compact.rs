//! The compact style, for small models with small contexts: an article's infobox comes first as
//! `label: value` lines (the facts a question most often needs), a large table shrinks to one
//! line saying what it holds, and link and image markup is dropped (the link handlers do that).

use super::convert::Cell;
use super::tables::{flatten_cell, has_header};
use super::tidy::heading_level;

/// The most infobox lines kept, as openzim-mcp's `CONTENT__INFOBOX_KV_LIMIT` default.
const INFOBOX_LINES: usize = 30;
/// A table with more rows than this is summarised (`CONTENT__TABLE_ROW_THRESHOLD`).
const LARGE_ROWS: usize = 8;
/// A table whose Markdown is longer than this, in chars, is summarised
/// (`CONTENT__TABLE_CHAR_THRESHOLD`).
const LARGE_CHARS: usize = 600;
/// How many header cells a table's summary names.
const NAMED_COLUMNS: usize = 6;

/// Whether a table with these classes is an infobox.
pub fn is_infobox(class: &str) -> bool {
    class
        .split_ascii_whitespace()
        .any(|c| c.starts_with("infobox") || c == "vcard")
}

/// An infobox's rows as `label: value` lines; rows with a single cell (titles, image captions)
/// say nothing a line could hold.
pub fn infobox_lines(rows: &[Vec<Cell>]) -> Vec<String> {
    let lines = rows.iter().filter_map(|row| {
        let cells: Vec<String> = row
            .iter()
            .map(|(text, _)| flatten_cell(text))
            .filter(|text| !text.is_empty())
            .collect();
        let (label, values) = cells.split_first()?;
        (!values.is_empty())
            .then(|| format!("{}: {}", label.trim_end_matches(':'), values.join("; ")))
    });
    lines.take(INFOBOX_LINES).collect()
}

/// Whether a table is too large to show in compact style.
pub fn is_large(rows: &[Vec<Cell>], rendered: &str) -> bool {
    rows.len() > LARGE_ROWS || rendered.trim().chars().count() > LARGE_CHARS
}

/// One line saying what a table holds: `[Table: 14 rows × 2 columns: Name, Value]`.
pub fn summary(rows: &[Vec<Cell>], caption: &str) -> String {
    let header = has_header(rows);
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let body_rows = rows.len() - usize::from(header);
    let title = if caption.is_empty() {
        "Table".to_owned()
    } else {
        format!("Table \"{caption}\"")
    };
    let mut line = format!("[{title}: {body_rows} rows × {columns} columns");
    if header {
        let names: Vec<String> = rows[0]
            .iter()
            .map(|(text, _)| flatten_cell(text))
            .filter(|text| !text.is_empty())
            .collect();
        if !names.is_empty() {
            line.push_str(": ");
            line.push_str(&names[..names.len().min(NAMED_COLUMNS)].join(", "));
            if names.len() > NAMED_COLUMNS {
                line.push_str(", …");
            }
        }
    }
    line.push(']');
    line
}

/// `markdown` with the infobox lines first: right under the title when the text opens with
/// one, else at the very start.
pub fn put_first(markdown: &str, lines: &[String]) -> String {
    let block = lines.join("\n");
    let (first, rest) = markdown.split_once('\n').unwrap_or((markdown, ""));
    if heading_level(first) == Some(1) {
        let rest = rest.trim_start_matches('\n');
        format!("{first}\n\n{block}\n\n{rest}")
            .trim_end()
            .to_owned()
    } else if markdown.is_empty() {
        block
    } else {
        format!("{block}\n\n{markdown}")
    }
}

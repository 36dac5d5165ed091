//! Tables as Markdown pipe tables, nested and layout tables as lines of text, and in compact
//! style infoboxes set aside and large tables summarised in one line.

use htmd::Element;
use htmd::element_handler::{HandlerResult, Handlers};

use super::compact;
use super::convert::{Cell, attr, squash, with_state};

/// A hostile `colspan` must not make a table allocate millions of empty cells.
const MAX_COLSPAN: usize = 32;

/// A table: pipe table, lines of text, or in compact style set aside or summarised.
pub fn table(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    with_state(|state| state.tables.push(Vec::new()));
    // Cells report to the table instead of rendering, so what is left is the caption.
    let caption = flatten_cell(&handlers.walk_children(element.node).content);
    let (mut rows, nested, compact) = with_state(|state| {
        let rows = state.tables.pop().unwrap_or_default();
        (rows, !state.tables.is_empty(), state.compact)
    });
    rows.retain(|row| !row.is_empty());
    if compact && compact::is_infobox(attr(&element, "class").unwrap_or_default()) {
        let lines = compact::infobox_lines(&rows);
        with_state(|state| state.infobox.extend(lines));
        return Some("".into());
    }
    let rendered = render_table(&rows, &caption, nested);
    if compact && compact::is_large(&rows, &rendered) {
        return Some(format!("\n\n{}\n\n", compact::summary(&rows, &caption)).into());
    }
    Some(rendered.into())
}

/// A row: opens a row in the table being built.
pub fn row(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    with_state(|state| state.tables.last_mut().map(|rows| rows.push(Vec::new())));
    Some(handlers.walk_children(element.node))
}

/// A cell: reports its Markdown to its row, spread over the columns it spans.
pub fn cell(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let header = element.tag == "th";
    let mut cells = vec![(handlers.walk_children(element.node).content, header)];
    let span = attr(&element, "colspan")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    cells.resize(span.clamp(1, MAX_COLSPAN), (String::new(), header));
    with_state(|state| {
        let row = state.tables.last_mut().and_then(|rows| rows.last_mut());
        row.map(|row| row.append(&mut cells))
    });
    // Only a cell outside any table still holds its text here.
    let text: String = cells.into_iter().map(|(text, _)| text).collect();
    Some(text.into())
}

/// A cell's Markdown on one line: its lines and list items become `; `-separated parts.
pub fn flatten_cell(markdown: &str) -> String {
    // A rule only separates blocks, which the `; ` already does.
    let parts = markdown.lines().map(squash);
    let parts = parts.filter(|line| !line.is_empty() && line != "* * *");
    let parts = parts.map(|line| line.strip_prefix("- ").map(str::to_owned).unwrap_or(line));
    parts.collect::<Vec<_>>().join("; ")
}

/// Whether the first row names the columns.
pub fn has_header(rows: &[Vec<Cell>]) -> bool {
    rows.first()
        .is_some_and(|row| row.iter().all(|cell| cell.1))
}

fn render_table(rows: &[Vec<Cell>], caption: &str, nested: bool) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = format!("\n\n{caption}\n\n");
    let mut lines = rows.iter().map(|row| {
        let cells = row.iter().map(|(text, _)| flatten_cell(text));
        cells
            .filter(|text| !nested || !text.is_empty())
            .collect::<Vec<_>>()
    });
    if nested || columns < 2 {
        // Pipe tables cannot nest, and a one-column table is a layout box: keep its text.
        lines.for_each(|cells| out.push_str(&format!("{}\n\n", cells.join(", "))));
        return out;
    }
    let mut pipe_row = |cells: Vec<String>| {
        let cells = cells.iter().map(|cell| cell.replace('|', "\\|"));
        let pad = std::iter::repeat_n(String::new(), columns);
        let cells: Vec<String> = cells.chain(pad).take(columns).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    };
    let head = if has_header(rows) { lines.next() } else { None };
    pipe_row(head.unwrap_or_default());
    pipe_row(vec!["---".to_owned(); columns]);
    lines
        .filter(|cells| cells.iter().any(|c| !c.is_empty()))
        .for_each(pipe_row);
    out.push('\n');
    out
}

//! Tables on a terminal: columns aligned and fitted to its width, cells shortened with `…`,
//! sentences wrapped at words, colour when wanted.

use super::{Cell, Fit, Table, Tone};

pub(super) const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Space between two columns.
const GAP: usize = 2;

/// A column is not shortened below this many columns while a wider one can give way.
const NARROWEST: usize = 6;

pub(super) fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// The heading and the rows of a table, aligned and fitted to `width`.
pub(super) fn rows(table: &Table, width: usize, color: bool) -> String {
    let headings: Vec<String> = table
        .columns
        .iter()
        .map(|(name, _)| name.to_uppercase().replace('_', " "))
        .collect();
    let natural: Vec<usize> = (0..table.columns.len())
        .map(|i| {
            let cells = table.rows.iter().map(|row| display_width(&row[i].text));
            cells
                .chain([display_width(&headings[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();

    // Spare columns go, the last first, while the table is too wide.
    let mut shown: Vec<usize> = (0..table.columns.len()).collect();
    let total = |shown: &[usize]| -> usize {
        shown
            .iter()
            .map(|&i| natural[i] + GAP)
            .sum::<usize>()
            .saturating_sub(GAP)
    };
    while total(&shown) > width {
        let Some(spare) = shown
            .iter()
            .rposition(|&i| table.columns[i].1 == Fit::Spare)
        else {
            break;
        };
        shown.remove(spare);
    }
    let widths = fitted(
        &shown.iter().map(|&i| natural[i]).collect::<Vec<_>>(),
        &shown
            .iter()
            .map(|&i| display_width(&headings[i]))
            .collect::<Vec<_>>(),
        &shown
            .iter()
            .map(|&i| table.columns[i].1)
            .collect::<Vec<_>>(),
        width,
    );

    let mut text = String::new();
    let heading_cells: Vec<Cell> = headings.iter().map(Cell::new).collect();
    for (i, row) in [heading_cells].iter().chain(&table.rows).enumerate() {
        let mut line = String::new();
        for (place, (&column, &width)) in shown.iter().zip(&widths).enumerate() {
            let cell = &row[column];
            let shortened = shortened(&cell.text, width, table.columns[column].1);
            let padding = width - display_width(&shortened);
            let code = match cell.tone {
                Tone::Normal => None,
                Tone::Warning => Some(YELLOW),
                Tone::Error => Some(RED),
            };
            line.push_str(&match code {
                Some(code) if i > 0 => paint(&shortened, code, color),
                _ => shortened,
            });
            if place + 1 < shown.len() {
                line.push_str(&" ".repeat(padding + GAP));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Column widths that fit `room`: the widest column of paths or prose loses one column at a
/// time down to its heading or [`NARROWEST`], then, if that is not enough, the widest of all
/// down to one.
fn fitted(natural: &[usize], headings: &[usize], fits: &[Fit], room: usize) -> Vec<usize> {
    let mut widths = natural.to_vec();
    let gaps = GAP * natural.len().saturating_sub(1);
    for last_resort in [false, true] {
        let floor = |i: usize| match fits[i] {
            _ if last_resort => 1,
            Fit::Middle | Fit::End => natural[i].min(headings[i].max(NARROWEST)),
            Fit::Keep | Fit::Spare => natural[i],
        };
        while widths.iter().sum::<usize>() + gaps > room {
            let widest = (0..widths.len())
                .filter(|&i| widths[i] > floor(i))
                .max_by_key(|&i| widths[i]);
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
    }
    widths
}

/// `text` shortened to at most `width` columns with `…`.
pub(super) fn shortened(text: &str, width: usize, fit: Fit) -> String {
    if display_width(text) <= width {
        return text.to_owned();
    }
    let room = width.saturating_sub(1);
    match fit {
        Fit::Middle => {
            // The end of a path (the file name) says more than its start.
            let tail_room = room - room * 2 / 5;
            let head = leading(text, room - tail_room);
            let tail = trailing(text, tail_room);
            format!("{head}…{tail}")
        }
        Fit::Keep | Fit::End | Fit::Spare => format!("{}…", leading(text, room)),
    }
}

/// The longest start of `text` at most `width` columns wide.
fn leading(text: &str, width: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|&c| {
            used += char_width(c);
            used <= width
        })
        .collect()
}

/// The longest end of `text` at most `width` columns wide.
fn trailing(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut tail: Vec<char> = text
        .chars()
        .rev()
        .take_while(|&c| {
            used += char_width(c);
            used <= width
        })
        .collect();
    tail.reverse();
    tail.into_iter().collect()
}

/// `text` broken at spaces into lines of at most `width` columns (a longer word stands alone),
/// the first line after `first`, the others after `rest`.
pub(super) fn wrapped(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut lines = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        if !empty && display_width(&line) + 1 + display_width(word) > width {
            lines.push_str(&line);
            lines.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push_str(&line);
    lines.push('\n');
    lines
}

/// Columns `text` takes on a terminal.
pub(super) fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// Columns a character takes, close to what terminals do: East Asian wide characters and emoji
/// take two, combining marks and zero-width characters none.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0,
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_keeps_what_fits_and_says_so() {
        assert_eq!(shortened("/a/b/c/file.zim", 10, Fit::Middle), "/a/…le.zim");
        assert_eq!(shortened("no room for this", 8, Fit::End), "no room…");
        assert_eq!(shortened("short", 8, Fit::End), "short");
        assert_eq!(shortened("日本語の記事", 7, Fit::End), "日本語…");
        assert_eq!(
            wrapped("one two three four", 14, "  - ", "    "),
            "  - one two\n    three four\n"
        );
    }
}

//! The structure of a rendered article: its headings with stable ids and exact positions, and
//! the sections they open.
//!
//! A heading's id is the one the page gives it, so links with a fragment (`Berlin#History`) and
//! ids from the table of contents agree: the element's own `id`, else the `id` of its MediaWiki
//! `mw-headline` span, else an `<a name>` in it or right before it, else a slug of its text
//! that keeps every script's letters. Repeated ids get `_2`, `_3`, … in document order.
//!
//! Positions count Unicode characters of the final Markdown, as `content_offset` does. The
//! heading handler puts a private-use marker before each heading's text; once the Markdown is
//! tidied, [`resolve`] finds the markers at the start of heading lines, notes where those lines
//! start and removes every marker, so tidying can never shift a position.

use std::borrow::Cow;
use std::collections::HashSet;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Rendered;
use super::dom::Headings;
use super::tidy::heading_level;

const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

/// Where a heading's id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    /// The heading element's own `id`.
    Id,
    /// The `id` of the MediaWiki `mw-headline` span inside it.
    Headline,
    /// An `<a name>` in it or right before it.
    Anchor,
    /// A slug of its text: the page gives it no id.
    Slug,
}

impl IdSource {
    /// The name tools report.
    pub fn as_str(self) -> &'static str {
        match self {
            IdSource::Id => "id",
            IdSource::Headline => "mw-headline",
            IdSource::Anchor => "anchor",
            IdSource::Slug => "slug",
        }
    }
}

/// One heading of a rendered article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Its id, unique within the article.
    pub id: String,
    /// Where the id comes from.
    pub id_source: IdSource,
    /// Its text, without markup.
    pub text: String,
    /// Its rank, 1 (`#`) to 6.
    pub level: u8,
    /// Where its line starts in the Markdown, in chars.
    pub position: usize,
    /// Where its line starts in the Markdown, in bytes.
    pub byte: usize,
}

/// A stretch of an article's Markdown: a section, or the part of one a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// First char.
    pub start: usize,
    /// Char after the last one (trailing blank lines excluded).
    pub end: usize,
    /// First byte.
    pub start_byte: usize,
    /// Byte after the last one.
    pub end_byte: usize,
}

/// The marker the heading handler puts before the text of heading number `seed`.
pub fn marker(seed: usize) -> String {
    format!("{MARK_OPEN}{seed}{MARK_CLOSE}")
}

/// `text` with the marker characters replaced, so that only the heading handler makes markers.
pub fn unmark(text: &str) -> Option<String> {
    text.contains([MARK_OPEN, MARK_CLOSE])
        .then(|| text.replace([MARK_OPEN, MARK_CLOSE], "\u{FFFD}"))
}

/// The Markdown without markers, and the headings whose markers open a heading line.
pub fn resolve(markdown: &str, headings: &Headings) -> (String, Vec<Heading>) {
    let mut out = String::with_capacity(markdown.len());
    let mut chars = 0;
    let mut outline = Vec::new();
    let mut ids = HashSet::new();
    for line in markdown.split_inclusive('\n') {
        let level = heading_level(line.trim_end_matches('\n'));
        let seed = level.and_then(|level| {
            let marked = line[level..].strip_prefix(' ')?.strip_prefix(MARK_OPEN)?;
            let (number, _) = marked.split_once(MARK_CLOSE)?;
            headings.seeds.get(number.parse::<usize>().ok()?)
        });
        let clean = if line.contains(MARK_OPEN) {
            Cow::Owned(strip_markers(line))
        } else {
            Cow::Borrowed(line)
        };
        if let (Some(level), Some(seed)) = (level, seed) {
            let shown = clean[level..].trim();
            let text = if seed.text.is_empty() {
                shown
            } else {
                &seed.text
            };
            let (base, id_source) = seed
                .anchor
                .clone()
                .unwrap_or_else(|| (slug(text), IdSource::Slug));
            outline.push(Heading {
                id: unique(base, &mut ids),
                id_source,
                text: text.to_owned(),
                level: level as u8,
                position: chars,
                byte: out.len(),
            });
        }
        chars += clean.chars().count();
        out.push_str(&clean);
    }
    (out, outline)
}

/// `line` without the markers in it.
fn strip_markers(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find(MARK_OPEN) {
        let after = &rest[open + MARK_OPEN.len_utf8()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[digits..].strip_prefix(MARK_CLOSE) {
            Some(tail) if digits > 0 => {
                out.push_str(&rest[..open]);
                rest = tail;
            }
            _ => {
                out.push_str(&rest[..open + MARK_OPEN.len_utf8()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `base`, or `base_2`, `base_3`, … when taken.
fn unique(base: String, taken: &mut HashSet<String>) -> String {
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

/// An id made of a heading's text, as MediaWiki makes them: words joined by `_`, letters of
/// every script and their marks kept, case kept, punctuation other than `-` and `.` dropped.
pub fn slug(text: &str) -> String {
    let keep = |c: &char| {
        c.is_alphanumeric()
            || matches!(c, '-' | '.' | '_')
            || matches!(
                get_general_category(*c),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
    };
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| word.chars().filter(keep).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() {
        "section".to_owned()
    } else {
        words.join("_")
    }
}

/// `text` for loose matching: no case, no accents, `_` as a space, spaces squashed.
pub fn fold(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == '_' { ' ' } else { c })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Rendered {
    /// The section heading `index` opens: up to the next heading of the same or a higher rank
    /// with its subsections, up to the next heading without them. Trailing blank lines are
    /// left out.
    pub fn section(&self, index: usize, include_subsections: bool) -> Section {
        let heading = &self.outline[index];
        let text = self.section_text(index, include_subsections);
        // The heading knows where it starts in chars: counting them from the start of the
        // article for every section would cost as much as the article per call.
        Section {
            start: heading.position,
            end: heading.position + text.chars().count(),
            start_byte: heading.byte,
            end_byte: heading.byte + text.len(),
        }
    }

    /// The Markdown of the section heading `index` opens, trailing blank lines excluded.
    fn section_text(&self, index: usize, include_subsections: bool) -> &str {
        let heading = &self.outline[index];
        let next = self.outline[index + 1..]
            .iter()
            .find(|next| !include_subsections || next.level <= heading.level);
        let end = next.map_or(self.markdown.len(), |next| next.byte);
        self.markdown[heading.byte..end].trim_end()
    }

    /// The text of section `index` without its heading line and its subsections.
    pub fn body(&self, index: usize) -> &str {
        let text = self.section_text(index, false);
        text.split_once('\n').map_or("", |(_, body)| body.trim())
    }

    /// The heading that section `index` belongs to.
    pub fn parent(&self, index: usize) -> Option<usize> {
        let level = self.outline[index].level;
        (0..index).rev().find(|&i| self.outline[i].level < level)
    }

    /// The headings inside section `index`, as a range of outline indices.
    pub fn subsections(&self, index: usize) -> std::ops::Range<usize> {
        let level = self.outline[index].level;
        let after = self.outline[index + 1..].iter();
        let count = after.take_while(|next| next.level > level).count();
        index + 1..index + 1 + count
    }

    /// The lead: the text before the first heading, past the title heading the article may
    /// open with; when that is empty, the body of the first section that has one.
    pub fn lead(&self) -> &str {
        let opens_with_title = self
            .outline
            .first()
            .is_some_and(|h| h.position == 0 && h.level == 1);
        let skip = usize::from(opens_with_title);
        let start = if opens_with_title {
            self.markdown.find('\n').unwrap_or(self.markdown.len())
        } else {
            0
        };
        let end = self
            .outline
            .get(skip)
            .map_or(self.markdown.len(), |h| h.byte);
        let lead = self.markdown[start..end.max(start)].trim();
        if !lead.is_empty() {
            return lead;
        }
        let mut bodies = (skip..self.outline.len()).map(|i| self.body(i));
        bodies.find(|body| !body.is_empty()).unwrap_or("")
    }

    /// The heading `wanted` names: an id, exactly or loosely, else a heading's text, loosely
    /// (no case, no accents, `_` for a space).
    pub fn find_section(&self, wanted: &str) -> Option<usize> {
        let exact = self.outline.iter().position(|h| h.id == wanted);
        let folded = fold(wanted);
        exact
            .or_else(|| self.outline.iter().position(|h| fold(&h.id) == folded))
            .or_else(|| self.outline.iter().position(|h| fold(&h.text) == folded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_every_scripts_letters_and_marks() {
        assert_eq!(slug("Early life"), "Early_life");
        assert_eq!(
            slug("  Стандартная  бібліятэка C++ "),
            "Стандартная_бібліятэка_C"
        );
        assert_eq!(slug("Career & music (1950–1960)"), "Career_music_19501960");
        assert_eq!(slug("हिन्दी भाषा"), "हिन्दी_भाषा");
        assert_eq!(slug("日本語の歴史"), "日本語の歴史");
        assert_eq!(slug("v1.2 - notes_x"), "v1.2_-_notes_x");
        assert_eq!(slug("?!"), "section");
    }

    #[test]
    fn repeated_ids_are_numbered_in_order() {
        let mut taken = HashSet::new();
        let ids: Vec<String> = ["Notes", "Notes", "Notes_2", "Notes"]
            .map(|base| unique(base.to_owned(), &mut taken))
            .into();
        assert_eq!(ids, ["Notes", "Notes_2", "Notes_2_2", "Notes_3"]);
    }

    #[test]
    fn folding_ignores_case_accents_and_underscores() {
        assert_eq!(fold("  Éarly_LIFE\u{A0} "), "early life");
        let folded = fold("ГІСТОРЫЯ_і  спадчына");
        assert_eq!(folded, "гісторыя і спадчына");
        assert_eq!(fold("Ça s'écrit"), "ca s'ecrit");
    }

    #[test]
    fn only_well_formed_markers_are_removed() {
        let line = format!(
            "## {}Title {MARK_OPEN}x{MARK_CLOSE} {MARK_OPEN}",
            marker(12)
        );
        assert_eq!(
            strip_markers(&line),
            format!("## Title {MARK_OPEN}x{MARK_CLOSE} {MARK_OPEN}")
        );
        assert_eq!(unmark("a\u{E000}b"), Some("a\u{FFFD}b".to_owned()));
        assert_eq!(unmark("plain"), None);
    }
}

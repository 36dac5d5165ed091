//! Article text for language models: renders a ZIM article's HTML as Markdown without the
//! MediaWiki page furniture, finds its headings (with stable ids and their exact positions in
//! the Markdown), and cuts long text into exact pages that fit a model's budget.
//!
//! Rendering runs in four steps: `dom` prepares the parsed page (depth limit, footer, heading
//! ids), `convert` and `tables` turn it into Markdown, `tidy` cleans the Markdown up, and
//! `outline` replaces the markers the heading handler left by the positions of the headings.
//!
//! Everything here is CPU-bound and synchronous. It must never run on the async runtime's worker
//! threads: callers run it in `spawn_blocking`.

mod budget;
mod compact;
mod convert;
mod dom;
mod outline;
mod tables;
mod tidy;

pub use budget::{
    Budget, DEFAULT_PAGE_CHARS, DEFAULT_PAGE_TOKENS, Page, estimate_quarters, estimate_tokens,
    page, page_in, page_number, split, word_count,
};
pub use outline::{Heading, IdSource, Section, fold};

use convert::Conversion;

/// How an article is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Style {
    /// Everything the article says, links and tables included.
    #[default]
    Full,
    /// For small models: the infobox first as `label: value` lines, large tables replaced by a
    /// one-line summary, link and image markup dropped.
    Compact,
}

/// An article rendered as Markdown, with its headings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The Markdown.
    pub markdown: String,
    /// Its length in Unicode characters, the unit of every offset a tool reports.
    pub total_chars: usize,
    /// Its headings in document order.
    pub outline: Vec<Heading>,
}

impl Rendered {
    /// Text that is not HTML, kept as it is: it has no headings.
    pub fn plain(text: String) -> Self {
        Rendered {
            total_chars: text.chars().count(),
            markdown: text,
            outline: Vec::new(),
        }
    }
}

/// Renders the HTML of the article at `page` (its path as users name it, which its links are
/// read from) as Markdown in `style`, with its outline.
pub fn render(html: &str, style: Style, page: &str) -> Rendered {
    let Ok(tree) = convert::CONVERTER.html_to_tree(html) else {
        return Rendered::default();
    };
    let headings = dom::prepare(&tree);
    let conversion = Conversion::new(style == Style::Compact, page, &headings);
    let (markdown, infobox) = conversion.run(&tree);
    let mut markdown = tidy::tidy(&markdown);
    if !infobox.is_empty() {
        markdown = compact::put_first(&markdown, &infobox);
    }
    let (markdown, outline) = outline::resolve(&markdown, &headings);
    Rendered {
        total_chars: markdown.chars().count(),
        markdown,
        outline,
    }
}

#[cfg(test)]
mod tests;

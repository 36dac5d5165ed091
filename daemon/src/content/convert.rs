//! HTML to Markdown through htmd, with handlers for what MediaWiki pages hold: furniture to
//! drop, links to keep as entry paths, formulas, exponents, code and headings that carry a
//! marker for the outline.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::LazyLock;

use htmd::element_handler::{HandlerResult, Handlers};
use htmd::options::{BulletListMarker, Options};
use htmd::{Element, HtmlToMarkdown, Node};

use super::dom::{self, Headings};
use super::{outline, tables};
use crate::archive::href::{self, Href};

/// Elements that carry furniture classes or hidden styles in MediaWiki output.
const FILTERED_TAGS: &[&str] = &[
    "a", "aside", "center", "dd", "div", "dl", "dt", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "img", "li", "ol", "p", "section", "small", "span", "sub", "sup", "table", "td", "th", "tr",
    "ul",
];

/// The converter every rendering shares.
pub static CONVERTER: LazyLock<HtmlToMarkdown> = LazyLock::new(|| {
    // Handlers registered later run first, so the furniture filter sees every element before the
    // renderers it falls back to.
    HtmlToMarkdown::builder()
        .options(Options {
            bullet_list_marker: BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            ..Options::default()
        })
        .add_handler(vec!["a"], link)
        .add_handler(vec!["img"], image)
        .add_handler(vec!["pre"], preformatted)
        .add_handler(vec!["sup"], superscript)
        .add_handler(vec!["br"], |_: &dyn Handlers, _: Element| Some("\n".into()))
        .add_handler(vec!["h1", "h2", "h3", "h4", "h5", "h6"], heading)
        .add_handler(vec!["table"], tables::table)
        .add_handler(vec!["tr"], tables::row)
        .add_handler(vec!["td", "th"], tables::cell)
        .add_handler(FILTERED_TAGS.to_vec(), drop_furniture)
        .skip_tags(vec![
            "button", "footer", "head", "input", "link", "meta", "nav", "noscript", "script",
            "select", "style", "svg", "template", "textarea",
        ])
        .build()
});

/// A table cell's Markdown, and whether it is a header cell.
pub type Cell = (String, bool);

/// What the handlers of one conversion share. htmd calls them as plain functions, so they reach
/// it through a thread-local.
#[derive(Default)]
pub struct State {
    /// Compact style: infoboxes set aside, large tables summarised, no link markup.
    pub compact: bool,
    /// The path of the page, as users name it: its links are read from there.
    page: String,
    /// The index of each heading's seed, by the address of its node.
    headings: HashMap<usize, usize>,
    /// Infobox lines set aside in compact style.
    pub infobox: Vec<String>,
    /// The rows of the tables being built, innermost table last: cells report to their table
    /// instead of rendering.
    pub tables: Vec<Vec<Vec<Cell>>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Runs `work` with the state of the conversion in progress.
pub fn with_state<T>(work: impl FnOnce(&mut State) -> T) -> T {
    STATE.with_borrow_mut(work)
}

/// One conversion of a parsed page.
pub struct Conversion(State);

impl Conversion {
    /// A conversion in compact style or not of the page at path `page`, knowing its headings.
    pub fn new(compact: bool, page: &str, headings: &Headings) -> Self {
        Conversion(State {
            compact,
            page: page.to_owned(),
            headings: headings.by_node.clone(),
            ..State::default()
        })
    }

    /// The page's Markdown (heading markers included), and the infobox lines set aside.
    pub fn run(self, tree: &Rc<Node>) -> (String, Vec<String>) {
        // A conversion that panicked part-way must not leave its state to the next one.
        with_state(|state| *state = self.0);
        let markdown = CONVERTER.tree_to_markdown(tree);
        let state = with_state(std::mem::take);
        (markdown, state.infobox)
    }
}

/// An attribute of the element being handled.
pub fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    let mut attrs = element.attrs.iter();
    attrs.find(|a| &*a.name.local == name).map(|a| &*a.value)
}

/// `text` on one line with single spaces.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn drop_furniture(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let get = |name| attr(&element, name).unwrap_or_default();
    if dom::is_furniture(get("class"), get("style"), get("id")) {
        return None;
    }
    handlers.fallback(element)
}

/// A heading on a line of its own, its text preceded by the marker that tells the outline
/// which heading this is and where it ended up.
fn heading(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let text = squash(&handlers.walk_children(element.node).content);
    if text.is_empty() {
        return Some("".into());
    }
    let level = element.tag[1..].parse().unwrap_or(2);
    let seed = with_state(|state| state.headings.get(&dom::address(element.node)).copied());
    let marker = seed.map(outline::marker).unwrap_or_default();
    Some(format!("\n\n{} {marker}{text}\n\n", "#".repeat(level)).into())
}

fn link(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let text = squash(&content);
    let href = attr(&element, "href").unwrap_or_default();
    let (plain, target) = with_state(|state| (state.compact, link_target(&state.page, href)));
    let Some(target) = target.filter(|_| !plain && !text.is_empty()) else {
        return Some(content.into());
    };
    // The text's surrounding spaces separate it from its neighbours and must stay outside.
    let space = |yes: bool| if yes { " " } else { "" };
    let before = space(content.starts_with(char::is_whitespace));
    let after = space(content.ends_with(char::is_whitespace));
    Some(format!("{before}[{text}]({}){after}", destination(&target)).into())
}

fn image(_: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let alt = squash(attr(&element, "alt")?);
    let src = attr(&element, "src").filter(|_| !alt.is_empty())?;
    // MediaWiki renders formulas as images whose alt text is the TeX source.
    if attr(&element, "class").is_some_and(|c| c.contains("mwe-math-fallback-image")) {
        let tex = alt.strip_prefix("{\\displaystyle ");
        let tex = tex.and_then(|tex| tex.strip_suffix('}')).unwrap_or(&alt);
        return Some(format!("${tex}$").into());
    }
    let (plain, target) = with_state(|state| (state.compact, link_target(&state.page, src)));
    let target = target.filter(|_| !plain)?;
    let alt = alt.replace('[', "\\[").replace(']', "\\]");
    Some(format!("![{alt}]({})", destination(&target)).into())
}

/// Where an href of the page leads, as zim_get takes it: the entry path it names, read from the
/// page's own path as a browser reads it and without its fragment (zim_get reads whole
/// entries), or a URL outside the archive as written. `None` for the page itself or a place in
/// it, which tells the reader nothing.
fn link_target(page: &str, href: &str) -> Option<String> {
    if href.trim().is_empty() {
        return None;
    }
    match href::classify(page, href) {
        Href::External { url, .. } => Some(url),
        Href::Internal { path, .. } if !path.is_empty() && path != page => Some(path),
        Href::Internal { .. } | Href::Anchor(_) => None,
    }
}

/// A Markdown link destination; only the angle-bracket form can hold spaces and unbalanced
/// parentheses.
fn destination(target: &str) -> String {
    let mut depth = 0isize;
    let nested = target.chars().all(|c| {
        depth += isize::from(c == '(') - isize::from(c == ')');
        depth >= 0
    });
    if nested && depth == 0 && !target.contains(|c: char| c.is_whitespace() || c == '<') {
        return target.to_owned();
    }
    let escaped = target.replace('<', "\\<").replace('>', "\\>");
    format!("<{}>", squash(&escaped))
}

/// Plain text would read an exponent as digits: `10<sup>22</sup>` must not become `1022`.
fn superscript(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let text = squash(&handlers.walk_children(element.node).content);
    Some(match text.contains(' ') {
        _ if text.is_empty() => text.into(),
        true => format!("^({text})").into(),
        false => format!("^{text}").into(),
    })
}

/// htmd fences only `<pre><code>`, but MediaWiki highlights code as spans straight in `<pre>`.
fn preformatted(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let rendered = handlers.fallback(element)?.content;
    let code = rendered.trim_matches('\n');
    if code.trim_start().starts_with("```") {
        return Some(rendered.into());
    }
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    Some(format!("\n\n{fence}\n{code}\n{fence}\n\n").into())
}

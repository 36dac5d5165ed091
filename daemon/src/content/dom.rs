//! The pass over a parsed page before it is converted: it bounds the tree's depth, removes the
//! footer the ZIM scraper appended, moves what a heading wrongly holds out of it, and learns
//! each heading's id and plain text while the tree still holds the anchors and attributes the
//! Markdown loses.

use std::collections::HashMap;
use std::rc::Rc;

use markup5ever_rcdom::{Node, NodeData};

use super::outline::{self, IdSource};

/// htmd walks the tree recursively; deeper elements are flattened so the walk fits the 2 MiB stack
/// of a `spawn_blocking` thread even in debug builds. Real articles nest a few dozen levels.
const MAX_DEPTH: usize = 128;

/// Classes of MediaWiki furniture: edit links, navigation boxes, citations, maintenance notices,
/// print-only and screen-only chrome.
const FURNITURE_CLASSES: &str = "ambox catlinks metadata mw-cite-backlink mw-dismissable-notice \
    mw-editsection mw-jump-link mw-references mw-references-wrap mw-reflink-text navbox \
    navbox-styles noprint printfooter reference references reflist sistersitebox toc \
    vertical-navbox";

/// Ids of the chrome around a saved MediaWiki page: notices, menus, the footer.
const FURNITURE_IDS: &str = "catlinks footer jump-to-nav mw-head mw-navigation mw-panel \
    siteNotice toc";

/// The comment pair scrapers (mwoffliner) put around the licence footer of every article; the
/// answer names the archive's source and licence once, so the footer would only repeat it.
const FOOTER_OPEN: &str = "htdig_noindex";
const FOOTER_CLOSE: &str = "/htdig_noindex";

/// What the pass learnt about one heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadingSeed {
    /// The id the page gives it, and where that id came from.
    pub anchor: Option<(String, IdSource)>,
    /// Its text without markup or furniture.
    pub text: String,
}

/// The headings of a page, in document order, and which node each one is.
#[derive(Debug, Default)]
pub struct Headings {
    /// Document order.
    pub seeds: Vec<HeadingSeed>,
    /// The index in `seeds` of each heading node, by the node's address.
    pub by_node: HashMap<usize, usize>,
}

/// A node's identity while the tree lives.
pub fn address(node: &Rc<Node>) -> usize {
    Rc::as_ptr(node) as usize
}

/// Whether an element with these attributes is page furniture.
pub fn is_furniture(class: &str, style: &str, id: &str) -> bool {
    let listed = |list: &str, name: &str| list.split_ascii_whitespace().any(|f| f == name);
    let hidden = style
        .split_whitespace()
        .collect::<String>()
        .contains("display:none");
    hidden
        || class
            .split_ascii_whitespace()
            .any(|c| listed(FURNITURE_CLASSES, c))
        || (!id.is_empty() && listed(FURNITURE_IDS, id))
}

/// Prepares `tree` for conversion and returns its headings.
pub fn prepare(tree: &Rc<Node>) -> Headings {
    bound_depth(tree);
    let mut found = Vec::new();
    // Depth-first in document order: children are pushed last first.
    let mut stack = vec![Rc::clone(tree)];
    while let Some(node) = stack.pop() {
        // The heading markers are private-use characters: any the text holds are replaced, so
        // that only the heading handler makes markers.
        if let NodeData::Text { contents } = &node.data {
            let replaced = outline::unmark(&contents.borrow());
            if let Some(replaced) = replaced {
                *contents.borrow_mut() = replaced.into();
            }
        }
        drop_footer(&node);
        if is_heading(&node) {
            found.push(Rc::clone(&node));
            // What moved out comes right after the heading's own children.
            let moved = split_heading(&node);
            stack.extend(moved.into_iter().rev());
        }
        let children = node.children.borrow();
        stack.extend(children.iter().rev().map(Rc::clone));
    }
    let mut headings = Headings::default();
    for node in found {
        let seed = HeadingSeed {
            anchor: anchor(&node),
            text: plain_text(&node),
        };
        headings
            .by_node
            .insert(address(&node), headings.seeds.len());
        headings.seeds.push(seed);
    }
    headings
}

/// Flattens every element deeper than [`MAX_DEPTH`].
fn bound_depth(tree: &Rc<Node>) {
    let mut stack = vec![(Rc::clone(tree), 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth == MAX_DEPTH {
            flatten(&node);
        } else {
            let children = node.children.borrow();
            stack.extend(children.iter().map(|child| (Rc::clone(child), depth + 1)));
        }
    }
}

/// Replaces everything below `node` by its leaves (text mostly), in document order. Emptying each
/// inner node before it is dropped keeps the drop itself from recursing.
fn flatten(node: &Rc<Node>) {
    let mut pending = node.children.take();
    pending.reverse();
    let mut leaves = Vec::new();
    while let Some(next) = pending.pop() {
        let children = next.children.take();
        if children.is_empty() {
            next.parent.set(Some(Rc::downgrade(node)));
            leaves.push(next);
        } else {
            pending.extend(children.into_iter().rev());
        }
    }
    *node.children.borrow_mut() = leaves;
}

/// Elements that make a block of their own.
const BLOCK_TAGS: &str = "address article aside blockquote details dd div dl dt fieldset \
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section \
    table ul";

fn is_block(node: &Node) -> bool {
    tag(node).is_some_and(|tag| BLOCK_TAGS.split_ascii_whitespace().any(|b| b == tag))
}

/// A heading is one line of text, but the HTML parser puts the rest of the page into a heading
/// left unclosed (`<h2>Title<p>…`), and a heading can wrap blocks. Everything from the first
/// block after the heading's own text on moves out, to right after the heading, in order; a
/// lone block that holds the whole text (`<h2><div>Title</div></h2>`) stays its text. Returns
/// the nodes moved.
fn split_heading(heading: &Rc<Node>) -> Vec<Rc<Node>> {
    let Some(first) = first_block_after_text(heading) else {
        return Vec::new();
    };
    let Some(outer) = parent(heading) else {
        return Vec::new();
    };
    // `first` and its following siblings, then the following siblings of each ancestor up to
    // the heading: the rest of the heading in document order.
    let mut moved = Vec::new();
    let mut node = first;
    let mut inclusive = true;
    while let Some(up) = parent(&node) {
        let mut siblings = up.children.borrow_mut();
        let Some(at) = siblings.iter().position(|s| Rc::ptr_eq(s, &node)) else {
            break;
        };
        moved.extend(siblings.drain(at + usize::from(!inclusive)..));
        drop(siblings);
        if Rc::ptr_eq(&up, heading) {
            break;
        }
        (node, inclusive) = (up, false);
    }
    for node in &moved {
        node.parent.set(Some(Rc::downgrade(&outer)));
    }
    let mut siblings = outer.children.borrow_mut();
    let at = siblings.iter().position(|s| Rc::ptr_eq(s, heading));
    let at = at.map_or(siblings.len(), |at| at + 1);
    siblings.splice(at..at, moved.iter().cloned());
    moved
}

/// The first block inside `heading` that follows text of its own, or that follows a lone first
/// block holding no block itself.
fn first_block_after_text(heading: &Rc<Node>) -> Option<Rc<Node>> {
    let mut text_before = false;
    let mut stack: Vec<Rc<Node>> = heading.children.borrow().iter().rev().cloned().collect();
    while let Some(node) = stack.pop() {
        if is_block(&node) {
            if text_before || holds_block(&node) {
                return Some(node);
            }
            text_before = true;
            continue;
        }
        match &node.data {
            NodeData::Text { contents } => text_before |= !contents.borrow().trim().is_empty(),
            NodeData::Element { .. } if node_is_furniture(&node) => {}
            _ => stack.extend(node.children.borrow().iter().rev().cloned()),
        }
    }
    None
}

/// Whether a block lies anywhere below `node`.
fn holds_block(node: &Rc<Node>) -> bool {
    let mut stack: Vec<Rc<Node>> = node.children.borrow().iter().cloned().collect();
    while let Some(next) = stack.pop() {
        if is_block(&next) {
            return true;
        }
        stack.extend(next.children.borrow().iter().cloned());
    }
    false
}

/// The parent of `node`, if it has one.
fn parent(node: &Rc<Node>) -> Option<Rc<Node>> {
    let parent = node.parent.take();
    node.parent.set(parent.clone());
    parent?.upgrade()
}

/// Removes the children of `node` between the footer's comments.
fn drop_footer(node: &Rc<Node>) {
    let comment = |child: &Rc<Node>| match &child.data {
        NodeData::Comment { contents } => Some(contents.trim().to_owned()),
        _ => None,
    };
    let mut children = node.children.borrow_mut();
    let Some(open) = children
        .iter()
        .position(|c| comment(c).is_some_and(|c| c == FOOTER_OPEN))
    else {
        return;
    };
    let close = children[open..]
        .iter()
        .position(|c| comment(c).is_some_and(|c| c == FOOTER_CLOSE))
        .map_or(children.len(), |at| open + at + 1);
    children.drain(open..close);
}

/// The tag name of an element node.
pub fn tag(node: &Node) -> Option<&str> {
    match &node.data {
        NodeData::Element { name, .. } => Some(&name.local),
        _ => None,
    }
}

/// An attribute of an element node, empty when absent.
pub fn attribute(node: &Node, wanted: &str) -> String {
    let NodeData::Element { attrs, .. } = &node.data else {
        return String::new();
    };
    let attrs = attrs.borrow();
    let found = attrs.iter().find(|a| &*a.name.local == wanted);
    found.map(|a| a.value.trim().to_owned()).unwrap_or_default()
}

fn is_heading(node: &Node) -> bool {
    matches!(tag(node).map(str::as_bytes), Some([b'h', b'1'..=b'6']))
}

fn node_is_furniture(node: &Node) -> bool {
    let get = |name| attribute(node, name);
    is_furniture(&get("class"), &get("style"), &get("id"))
}

/// The id a heading carries: its own, its MediaWiki headline's, or an `<a name>` in it or
/// right before it.
fn anchor(heading: &Rc<Node>) -> Option<(String, IdSource)> {
    let own = attribute(heading, "id");
    if !own.is_empty() {
        return Some((own, IdSource::Id));
    }
    let inside = descendants(heading);
    let headline = inside.iter().find(|node| {
        tag(node) == Some("span")
            && attribute(node, "class")
                .split_ascii_whitespace()
                .any(|c| c == "mw-headline")
            && !attribute(node, "id").is_empty()
    });
    if let Some(span) = headline {
        return Some((attribute(span, "id"), IdSource::Headline));
    }
    let named = inside.iter().find_map(|node| anchor_name(node));
    named
        .or_else(|| previous_element(heading).and_then(|node| anchor_name(&node)))
        .map(|name| (name, IdSource::Anchor))
}

/// The name of an `<a name="…">` (or of an `<a id="…">` that links nowhere).
fn anchor_name(node: &Node) -> Option<String> {
    if tag(node) != Some("a") {
        return None;
    }
    let name = attribute(node, "name");
    let id = attribute(node, "id");
    let name = if name.is_empty() && attribute(node, "href").is_empty() {
        id
    } else {
        name
    };
    (!name.is_empty()).then_some(name)
}

/// The element right before `node` among its siblings, skipping blank text and comments.
fn previous_element(node: &Rc<Node>) -> Option<Rc<Node>> {
    let parent = parent(node)?;
    let siblings = parent.children.borrow();
    let at = siblings.iter().position(|s| Rc::ptr_eq(s, node))?;
    siblings[..at]
        .iter()
        .rev()
        .find(|s| match &s.data {
            NodeData::Text { contents } => !contents.borrow().trim().is_empty(),
            NodeData::Comment { .. } => false,
            _ => true,
        })
        .filter(|s| tag(s).is_some())
        .map(Rc::clone)
}

/// Every node below `node`, in document order.
fn descendants(node: &Rc<Node>) -> Vec<Rc<Node>> {
    let mut found = Vec::new();
    let mut stack: Vec<Rc<Node>> = node.children.borrow().iter().rev().cloned().collect();
    while let Some(next) = stack.pop() {
        stack.extend(next.children.borrow().iter().rev().cloned());
        found.push(next);
    }
    found
}

/// Elements that separate words even without spaces around them.
const BLOCKS: &str = "br dd div dt li ol p table td th tr ul";

/// The text of `node` as a reader sees it: no furniture, no scripts, spaces squashed.
pub fn plain_text(node: &Rc<Node>) -> String {
    let mut text = String::new();
    let mut stack: Vec<Rc<Node>> = node.children.borrow().iter().rev().cloned().collect();
    while let Some(next) = stack.pop() {
        match &next.data {
            NodeData::Text { contents } => text.push_str(&contents.borrow()),
            NodeData::Element { name, .. } => {
                let skipped = matches!(&*name.local, "script" | "style" | "noscript");
                if !skipped && !node_is_furniture(&next) {
                    if BLOCKS.split(' ').any(|block| block == &*name.local) {
                        text.push(' ');
                    }
                    stack.extend(next.children.borrow().iter().rev().cloned());
                }
            }
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! Article text for language models: renders a ZIM article's HTML as Markdown without the
//! MediaWiki page furniture, and cuts long text into exact pages.
//!
//! Everything here is CPU-bound and synchronous. It must never run on the async runtime's worker
//! threads: callers run it in `spawn_blocking`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::LazyLock;

use htmd::element_handler::{HandlerResult, Handlers};
use htmd::options::{BulletListMarker, Options};
use htmd::{Element, HtmlToMarkdown, Node};

/// htmd walks the tree recursively; deeper elements are flattened so the walk fits the 2 MiB stack
/// of a `spawn_blocking` thread even in debug builds. Real articles nest a few dozen levels.
const MAX_DEPTH: usize = 128;

/// A hostile `colspan` must not make a table allocate millions of empty cells.
const MAX_COLSPAN: usize = 32;

/// Classes of MediaWiki furniture: edit links, navigation boxes, citations, print-only chrome.
const FURNITURE_CLASSES: &str = "catlinks metadata mw-cite-backlink mw-editsection mw-jump-link \
    mw-references mw-references-wrap mw-reflink-text navbox navbox-styles noprint reference \
    references reflist toc vertical-navbox";

/// Elements that carry furniture classes or hidden styles in MediaWiki output.
const FILTERED_TAGS: &[&str] = &[
    "a", "aside", "center", "dd", "div", "dl", "dt", "figure", "img", "li", "ol", "p", "section",
    "small", "span", "sub", "sup", "table", "td", "th", "tr", "ul",
];

static CONVERTER: LazyLock<HtmlToMarkdown> = LazyLock::new(|| {
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
        .add_handler(vec!["table"], table)
        .add_handler(vec!["tr"], row)
        .add_handler(vec!["td", "th"], cell)
        .add_handler(FILTERED_TAGS.to_vec(), drop_furniture)
        .skip_tags(vec![
            "button", "footer", "head", "input", "link", "meta", "nav", "noscript", "script",
            "select", "style", "svg", "template", "textarea",
        ])
        .build()
});

/// A cell's Markdown, and whether it is a header cell.
type Cell = (String, bool);

thread_local! {
    // htmd renders cells through their own handlers, so they reach their table through this
    // stack of the rows of tables being built, innermost table last.
    static TABLES: RefCell<Vec<Vec<Vec<Cell>>>> = const { RefCell::new(Vec::new()) };
}

/// Renders an article's HTML as Markdown.
pub fn html_to_markdown(html: &str) -> String {
    // A conversion that panicked part-way must not hand its half-built tables to the next one.
    TABLES.with_borrow_mut(Vec::clear);
    let Ok(tree) = CONVERTER.html_to_tree(html) else {
        return String::new();
    };
    let mut stack = vec![(Rc::clone(&tree), 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth == MAX_DEPTH {
            flatten(&node);
        } else {
            let children = node.children.borrow();
            stack.extend(children.iter().map(|child| (Rc::clone(child), depth + 1)));
        }
    }
    tidy(&CONVERTER.tree_to_markdown(&tree))
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

fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    let mut attrs = element.attrs.iter();
    attrs.find(|a| &*a.name.local == name).map(|a| &*a.value)
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn drop_furniture(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let is_furniture = |class| FURNITURE_CLASSES.split(' ').any(|f| f == class);
    let class = attr(&element, "class").unwrap_or_default();
    let style: String = attr(&element, "style")
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if class.split_ascii_whitespace().any(is_furniture) || style.contains("display:none") {
        return None;
    }
    handlers.fallback(element)
}

fn link(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let text = squash(&content);
    let href = attr(&element, "href").unwrap_or_default();
    // A fragment points into the page being read, so it tells the reader nothing.
    if text.is_empty() || href.is_empty() || href.starts_with('#') {
        return Some(content.into());
    }
    // The text's surrounding spaces separate it from its neighbours and must stay outside.
    let space = |yes: bool| if yes { " " } else { "" };
    let before = space(content.starts_with(char::is_whitespace));
    let after = space(content.ends_with(char::is_whitespace));
    let target = destination(&link_target(href));
    Some(format!("{before}[{text}]({target}){after}").into())
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
    let alt = alt.replace('[', "\\[").replace(']', "\\]");
    Some(format!("![{alt}]({})", destination(&link_target(src))).into())
}

/// An href as an entry path: ZIM articles link relatively and percent-encode, while the archive
/// stores paths decoded. Links with a scheme (as a browser reads it) leave the archive untouched.
fn link_target(href: &str) -> String {
    let (scheme, _) = href.split_once(':').unwrap_or_default();
    let valid = |c: char| c.is_ascii_alphanumeric() || "+-.".contains(c);
    let scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic()) && scheme.chars().all(valid);
    if scheme || href.starts_with("//") {
        return href.to_owned();
    }
    let path = href.strip_prefix("./").unwrap_or(href);
    let mut bytes = Vec::with_capacity(path.len());
    let mut rest = path.as_bytes();
    while let [first, tail @ ..] = rest {
        let hex = tail
            .get(..2)
            .filter(|h| *first == b'%' && h.iter().all(u8::is_ascii_hexdigit));
        let byte = hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        bytes.push(byte.unwrap_or(*first));
        rest = if byte.is_some() { &tail[2..] } else { tail };
    }
    String::from_utf8(bytes).unwrap_or_else(|_| path.to_owned())
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

fn table(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    TABLES.with_borrow_mut(|tables| tables.push(Vec::new()));
    // Cells report to the table instead of rendering, so what is left is the caption.
    let caption = flatten_cell(&handlers.walk_children(element.node).content);
    let rows = TABLES.with_borrow_mut(Vec::pop).unwrap_or_default();
    let nested = TABLES.with_borrow(|tables| !tables.is_empty());
    Some(render_table(rows, &caption, nested).into())
}

fn row(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    TABLES.with_borrow_mut(|tables| tables.last_mut().map(|rows| rows.push(Vec::new())));
    Some(handlers.walk_children(element.node))
}

fn cell(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let header = element.tag == "th";
    let mut cells = vec![(handlers.walk_children(element.node).content, header)];
    let span = attr(&element, "colspan")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    cells.resize(span.clamp(1, MAX_COLSPAN), (String::new(), header));
    TABLES.with_borrow_mut(|tables| {
        let row = tables.last_mut().and_then(|rows| rows.last_mut());
        row.map(|row| row.append(&mut cells))
    });
    // Only a cell outside any table still holds its text here.
    let text: String = cells.into_iter().map(|(text, _)| text).collect();
    Some(text.into())
}

/// A cell's Markdown on one line: its lines and list items become `; `-separated parts.
fn flatten_cell(markdown: &str) -> String {
    // A rule only separates blocks, which the `; ` already does.
    let parts = markdown.lines().map(squash);
    let parts = parts.filter(|line| !line.is_empty() && line != "* * *");
    let parts = parts.map(|line| line.strip_prefix("- ").map(str::to_owned).unwrap_or(line));
    parts.collect::<Vec<_>>().join("; ")
}

fn render_table(mut rows: Vec<Vec<Cell>>, caption: &str, nested: bool) -> String {
    rows.retain(|row| !row.is_empty());
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let header = rows
        .first()
        .is_some_and(|row| row.iter().all(|cell| cell.1));
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
    let head = if header { lines.next() } else { None };
    pipe_row(head.unwrap_or_default());
    pipe_row(vec!["---".to_owned(); columns]);
    lines
        .filter(|cells| cells.iter().any(|c| !c.is_empty()))
        .for_each(pipe_row);
    out.push('\n');
    out
}

fn heading_level(line: &str) -> Option<usize> {
    let level = line.len() - line.trim_start_matches('#').len();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' '))).then_some(level)
}

/// Trims line ends, drops headings left without content, and collapses blank runs, leaving
/// fenced code as it is.
fn tidy(markdown: &str) -> String {
    let lines: Vec<&str> = markdown.lines().map(str::trim_end).collect();
    let mut fence: Option<usize> = None;
    let code: Vec<bool> = lines
        .iter()
        .map(|line| {
            let line = line.trim_start();
            let ticks = line.len() - line.trim_start_matches('`').len();
            match fence {
                None if ticks >= 3 => fence = Some(ticks),
                Some(open) if ticks >= open && ticks == line.len() => fence = None,
                _ => return fence.is_some(),
            }
            true
        })
        .collect();
    // Walking backwards, a heading is empty when what follows it is the end or a heading of the
    // same or higher rank; `None` stands for the end, `Some(7)` for content.
    let mut keep = vec![true; lines.len()];
    let mut next: Option<usize> = None;
    for (i, line) in lines.iter().enumerate().rev() {
        match heading_level(line).filter(|_| !code[i]) {
            Some(level) if next.is_none_or(|n| n <= level) => keep[i] = false,
            Some(level) => next = Some(level),
            None if code[i] || !line.is_empty() => next = Some(7),
            None => {}
        }
    }
    let mut out = String::with_capacity(markdown.len());
    let mut blank = false;
    for (i, line) in lines.iter().enumerate().filter(|&(i, _)| keep[i]) {
        if line.is_empty() && !code[i] {
            blank = !out.is_empty();
            continue;
        }
        if std::mem::take(&mut blank) {
            out.push('\n');
        }
        // htmd keeps the space that opens an inline element starting a paragraph; list and code
        // indents are never a single space.
        let single_space = line.starts_with(' ') && !line[1..].starts_with(' ') && !code[i];
        out.push_str(if single_space { &line[1..] } else { line });
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// One window of a longer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The window's text.
    pub text: String,
    /// Where the window starts, in chars.
    pub offset: usize,
    /// The whole text's length, in chars.
    pub total_chars: usize,
    /// Where the next window starts, or `None` on the last one.
    pub next_offset: Option<usize>,
}

/// The window of `text` from char `offset`, at most `max_chars` long, ending at a break if it can.
pub fn page(text: &str, offset: usize, max_chars: usize) -> Page {
    // The window ends after the last paragraph, line or word break in its final fifth, so pages
    // rarely cut words; the next page starts right there, so pages still join up exactly.
    let byte_at = |text: &str, chars| text.char_indices().nth(chars).map(|(i, _)| i);
    let total_chars = text.chars().count();
    let rest = &text[byte_at(text, offset).unwrap_or(text.len())..];
    let max_chars = max_chars.max(1);
    let len = byte_at(rest, max_chars).map_or(rest.len(), |end| {
        // The final fifth starts at least one char in, so every page makes progress.
        let tail = byte_at(rest, max_chars - max_chars / 5).unwrap_or(end);
        let mut cuts = ["\n\n", "\n", " "].into_iter();
        let cut = cuts.find_map(|b| rest[tail..end].rfind(b).map(|i| tail + i + b.len()));
        cut.unwrap_or(end)
    });
    let text = rest[..len].to_owned();
    let next_offset = (len < rest.len()).then(|| offset + text.chars().count());
    Page {
        text,
        offset,
        total_chars,
        next_offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = r##"<html><head><title>Moon</title><style>p { color: red }</style>
<script>var x = 1;</script><link rel="stylesheet" href="s.css"></head><body>
<a class="mw-jump-link" href="#content">Jump to navigation</a><h1>Moon</h1>
<div class="hatnote">For other uses, see Moon (disambiguation).</div>
<table class="infobox"><tbody><tr><th colspan="2">Moon</th></tr>
<tr><td colspan="2"><img src="../I/Full%20Moon.jpg" alt="Full moon"><img src="deco.png"></td></tr>
<tr><th>Mass</th><td>7.342×10<sup>22</sup> kg<sup class="reference"><a href="#n1">1</a></sup></td>
</tr><tr><th>Satellite of</th><td><a href="./Earth">Earth</a> | Sol</td></tr>
<tr><th>Names</th><td><ul><li>Luna</li><li>Selene</li></ul></td></tr><tr><th>Orbit</th><td>
<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td></td></tr></table></td></tr></table>
<p>The <b>Moon</b> is <a href="Natural_satellite#Overview">Earth's only natural satellite</a><sup
class="mw-ref reference"><a href="#n2">[2]</a></sup>. See <a href="../A/Tide">tides</a>,
<a href="%D0%9C%D1%96%D1%81%D1%8F%D1%86.html">Месяц</a> and
<a href="https://example.org/x?a=1&amp;b=%20">NASA</a>.</p><p><a href="100%25_(%zz%4">Odd</a>,
<a href="%FF">bad</a> and <a href="//x/%41">CDN</a> links.</p>
<h2>Name<span class="mw-editsection"><span>[</span><a href="e">edit</a><span>]</span></span></h2>
<p>From Old English <i>mōna</i><span style="display: none">hidden</span>.</p>
<h2>Gallery</h2><h2>References</h2><ol class="references"><li id="n1">NASA.</li></ol>
<div class="navbox"><a href="Mars">Mars</a></div><div class="noprint">Print me not</div>
<script>document.write("late")</script><noscript>Enable JS</noscript></body></html>"##;

    #[test]
    fn renders_a_mediawiki_article_without_furniture() {
        let expected = "# Moon\n\nFor other uses, see Moon (disambiguation).\n
| Moon |  |
| --- | --- |
| ![Full moon](<../I/Full Moon.jpg>) |  |
| Mass | 7.342×10^22 kg |
| Satellite of | [Earth](Earth) \\| Sol |
| Names | Luna; Selene |
| Orbit | a, b; c |

The **Moon** is [Earth's only natural satellite](Natural_satellite#Overview). See \
[tides](../A/Tide), [Месяц](Місяц.html) and [NASA](https://example.org/x?a=1&b=%20).

[Odd](<100%_(%zz%4>), [bad](%FF) and [CDN](//x/%41) links.

## Name\n\nFrom Old English *mōna*.";
        assert_eq!(html_to_markdown(ARTICLE), expected);
    }

    #[test]
    fn drops_empty_sections_and_blank_runs_but_not_code() {
        let html = "<h2>A</h2><h3>B</h3><h2>C</h2><p>c  </p>\n\n\n<p>d</p><h3>D</h3><h2>E</h2>\
            <h3>F</h3><pre><span>## x</span>\n\n\n<span>y ``` z</span></pre><h4>G</h4><h2>H</h2>";
        let code = "````\n## x\n\n\ny ``` z\n````";
        let expected = format!("## C\n\nc\n\nd\n\n## E\n\n### F\n\n{code}");
        assert_eq!(html_to_markdown(html), expected);
    }

    #[test]
    fn survives_hostile_input() {
        let hash = |i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as usize;
        let bytes: Vec<u8> = (0..20_000).map(|i| hash(i) as u8).collect();
        let tags: Vec<&str> = "<table>|<td colspan=9>|</tr>|<li>|<a href=%>|</b>|<pre>"
            .split('|')
            .collect();
        let soup: String = (0..5_000).map(|i| tags[hash(i) % tags.len()]).collect();
        let mut inputs = vec![
            String::new(),
            String::from_utf8_lossy(&bytes).into_owned(),
            soup,
            "<table><tr><td colspan=4000000000>x<td colspan=-1>y<tr><th></table".to_owned(),
            "<ol start=99999999999999999999><li>x<li><ul><li>y<img alt=z src=''>".to_owned(),
        ];
        // Each level is a few recursive calls in htmd: this nesting would overflow the stack.
        let deep = ["<div>", "<span>", "<table><tr><td>", "<ul><li>", "<b><i>"];
        inputs.extend(deep.map(|open| format!("{}deep", open.repeat(3_000))));
        for html in &inputs {
            let markdown = html_to_markdown(html);
            assert!(!html.ends_with("deep") || markdown.contains("deep"));
        }
    }

    #[test]
    fn pages_join_up_to_the_text_exactly() {
        let texts = [
            "",
            "a",
            "Першы абзац.\n\nДругі радок\nі трэці, 🦀🦀.\n",
            "👩‍👩‍👧 🇧🇾\n\n\nкраб🦀краб  краб\n\n",
            &"слова ".repeat(15),
        ];
        for text in texts {
            let chars: Vec<char> = text.chars().collect();
            for max_chars in 1..=chars.len() + 2 {
                for start in 0..=chars.len() + 1 {
                    let (mut offset, mut joined) = (start, String::new());
                    loop {
                        let page = page(text, offset, max_chars);
                        let len = page.text.chars().count();
                        assert_eq!((page.offset, page.total_chars), (offset, chars.len()));
                        assert!(len <= max_chars && (len > 0 || offset >= chars.len()));
                        joined.push_str(&page.text);
                        let Some(next) = page.next_offset else { break };
                        assert!(next == offset + len && next < chars.len());
                        offset = next;
                    }
                    assert_eq!(
                        joined,
                        chars[start.min(chars.len())..].iter().collect::<String>()
                    );
                }
            }
        }
    }

    #[test]
    fn pages_end_at_the_best_break_in_their_last_fifth() {
        let text = "Абзац адзін.\n\nРадок\nдва тры чатыры";
        assert_eq!(page(text, 0, 16).text, "Абзац адзін.\n\n");
        assert_eq!(page(text, 0, 22).text, "Абзац адзін.\n\nРадок\n");
        assert_eq!(page(text, 20, 10).text, "два тры ча");
        assert_eq!(page("one two three four", 0, 16).text, "one two three ");
        let paragraph_first = format!("{}\n\nb\nc d", "x".repeat(20));
        assert_eq!(
            page(&paragraph_first, 0, 25).text,
            format!("{}\n\n", "x".repeat(20))
        );
        let last = page(text, 28, 100);
        assert_eq!((last.text.as_str(), last.next_offset), ("чатыры", None));
        let past = Page {
            text: String::new(),
            offset: 40,
            total_chars: 34,
            next_offset: None,
        };
        assert_eq!(page(text, 40, 5), past);
    }
}

//! Finding the links of an HTML page in document order: `<a href>` with its text, and the
//! media an `<img>`, `<source>`, `<video>` or `<audio>` shows. One pass over the bytes, with no
//! tree built: the link graph runs this over every article of a Wikipedia, where a parser that
//! builds a document would cost more than reading the archive does. The content of `<script>`,
//! `<style>` and comments is skipped.

use crate::fulltext::snippet::push_decoded;

/// Anchor text kept per link: a link's words, not a paragraph wrapped in `<a>`.
const MAX_TEXT_CHARS: usize = 200;

/// The element a link was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// `<a href>`.
    Anchor,
    /// `<img src>` (or the first `srcset` candidate when there is no `src`).
    Image,
    /// `<source src>` (or `srcset`) inside `<picture>`, `<video>` or `<audio>`.
    Source,
    /// `<video src>`.
    Video,
    /// `<audio src>`.
    Audio,
}

/// One link as the page writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLink {
    /// Where it was found.
    pub element: Element,
    /// The `href` or `src`, character references decoded.
    pub url: String,
    /// An anchor's text: tags stripped, references decoded, whitespace squashed (an image's
    /// `alt` when the anchor holds only an image); empty for media.
    pub text: String,
    /// An image's `alt`.
    pub alt: Option<String>,
}

/// The links of `html` in document order. Without `with_text`, anchor texts and `alt`s are left
/// empty, which is all a link graph needs and saves decoding every page's text.
pub fn links(html: &str, with_text: bool) -> Vec<RawLink> {
    let mut found: Vec<RawLink> = Vec::new();
    // The anchor whose text is being collected: its index in `found`, and its raw text.
    let mut open: Option<(usize, String)> = None;
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(lt) = find_byte(bytes, b'<', at) {
        if let Some((_, text)) = open.as_mut().filter(|_| with_text) {
            text.push_str(&html[at..lt]);
        }
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            at = find(bytes, b"-->", lt + 4).map_or(bytes.len(), |end| end + 3);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .take_while(|byte| byte.is_ascii_alphanumeric())
                .count();
        let name = &bytes[name_start..name_end];
        if name.is_empty() {
            // `<!DOCTYPE>`, `<?xml?>` or a lone `<` in text: a stray `<` stays text.
            if matches!(rest.get(1), Some(b'!' | b'?')) {
                at = find_byte(bytes, b'>', lt).map_or(bytes.len(), |end| end + 1);
            } else {
                if let Some((_, text)) = open.as_mut().filter(|_| with_text) {
                    text.push('<');
                }
                at = lt + 1;
            }
            continue;
        }
        let tag_end = tag_end(bytes, name_end);
        at = tag_end.map_or(bytes.len(), |end| end + 1);
        let attributes = &html[name_end..tag_end.unwrap_or(bytes.len())];
        if closing {
            if name.eq_ignore_ascii_case(b"a") {
                close(&mut found, open.take());
            }
            continue;
        }
        let is = |tag: &str| name.eq_ignore_ascii_case(tag.as_bytes());
        if is("script") || is("style") {
            let end_tag = [b"</", name].concat();
            at = find_ignoring_case(bytes, &end_tag, at)
                .and_then(|start| find_byte(bytes, b'>', start))
                .map_or(bytes.len(), |end| end + 1);
        } else if is("a") {
            // Anchors do not nest: a new one ends the one before.
            close(&mut found, open.take());
            if let Some(url) = attribute(attributes, "href") {
                found.push(RawLink {
                    element: Element::Anchor,
                    url,
                    text: String::new(),
                    alt: None,
                });
                open = Some((found.len() - 1, String::new()));
            }
        } else if let Some(element) = media_element(name) {
            let src = attribute(attributes, "src")
                .or_else(|| attribute(attributes, "srcset").and_then(|set| first_candidate(&set)));
            let alt = (with_text && element == Element::Image)
                .then(|| attribute(attributes, "alt"))
                .flatten();
            if let (Some((anchor, text)), Some(alt)) = (open.as_mut(), &alt) {
                // An anchor around an image only is named by the image's `alt`.
                if found[*anchor].text.is_empty() && text.trim().is_empty() {
                    found[*anchor].text = alt.clone();
                }
            }
            if let Some(url) = src {
                found.push(RawLink {
                    element,
                    url,
                    text: String::new(),
                    alt,
                });
            }
        } else if is("br")
            && let Some((_, text)) = open.as_mut()
        {
            text.push(' ');
        }
    }
    if let Some((_, text)) = open.as_mut().filter(|_| with_text) {
        text.push_str(&html[at.min(html.len())..]);
    }
    close(&mut found, open);
    found
}

fn media_element(name: &[u8]) -> Option<Element> {
    [
        ("img", Element::Image),
        ("source", Element::Source),
        ("video", Element::Video),
        ("audio", Element::Audio),
    ]
    .into_iter()
    .find(|(tag, _)| name.eq_ignore_ascii_case(tag.as_bytes()))
    .map(|(_, element)| element)
}

/// Ends the anchor being collected: its text is decoded and squashed.
fn close(found: &mut [RawLink], open: Option<(usize, String)>) {
    let Some((index, raw)) = open else { return };
    if raw.trim().is_empty() {
        return;
    }
    let mut decoded = String::with_capacity(raw.len());
    push_decoded(&mut decoded, &raw);
    found[index].text = squashed(&decoded, MAX_TEXT_CHARS);
}

/// `text` with runs of whitespace made one space, trimmed, and cut at `max` characters.
fn squashed(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, word) in text.split_whitespace().enumerate() {
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= max {
            return out.chars().take(max).collect();
        }
    }
    out
}

/// Where the tag whose name ends at `from` ends: the first `>` outside a quoted value.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (offset, &byte) in bytes[from..].iter().enumerate() {
        match (quote, byte) {
            (None, b'>') => return Some(from + offset),
            (None, b'"' | b'\'') => quote = Some(byte),
            (Some(open), _) if open == byte => quote = None,
            _ => {}
        }
    }
    None
}

/// The value of attribute `wanted` in a tag's attribute text, references decoded.
fn attribute(attributes: &str, wanted: &str) -> Option<String> {
    let bytes = attributes.as_bytes();
    let mut at = 0;
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let name_start = at;
        while at < bytes.len()
            && !matches!(bytes[at], b'=' | b'/')
            && !bytes[at].is_ascii_whitespace()
        {
            at += 1;
        }
        let name = &attributes[name_start..at];
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let mut value = None;
        if bytes.get(at) == Some(&b'=') {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let (start, end, next) = match bytes.get(at) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let end = find_byte(bytes, quote, at + 1).unwrap_or(bytes.len());
                    (at + 1, end, end + 1)
                }
                _ => {
                    let length = bytes[at..]
                        .iter()
                        .take_while(|byte| !byte.is_ascii_whitespace())
                        .count();
                    (at, at + length, at + length)
                }
            };
            value = Some(&attributes[start..end]);
            at = next;
        }
        if name.eq_ignore_ascii_case(wanted) {
            let raw = value.unwrap_or_default();
            let mut decoded = String::with_capacity(raw.len());
            push_decoded(&mut decoded, raw);
            return Some(decoded);
        }
    }
}

/// The URL of the first candidate of a `srcset` (`a.png 1x, b.png 2x`).
fn first_candidate(srcset: &str) -> Option<String> {
    let first = srcset.trim_start().split(',').next()?;
    let url = first.split_whitespace().next()?;
    Some(url.to_owned())
}

fn find_byte(bytes: &[u8], byte: u8, from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == byte)
        .map(|at| from + at)
}

fn find(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

fn find_ignoring_case(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(html: &str) -> Vec<(Element, String, String)> {
        links(html, true)
            .into_iter()
            .map(|link| (link.element, link.url, link.text))
            .collect()
    }

    #[test]
    fn links_come_in_document_order_with_their_text_squashed_and_decoded() {
        let html = "<p><A HREF='One?a=1&amp;b=2'>  the <b>first</b>\n\t&amp; best </a>\
            <img alt=\"x &gt; y\" srcset=\"small.png 1x, big.png 2x\">\
            <a href=two title=\"a > b\">second<br>line</a><a href=\"#top\"></a></p>";
        assert_eq!(
            urls(html),
            [
                (
                    Element::Anchor,
                    "One?a=1&b=2".into(),
                    "the first & best".into()
                ),
                (Element::Image, "small.png".into(), String::new()),
                (Element::Anchor, "two".into(), "second line".into()),
                (Element::Anchor, "#top".into(), String::new()),
            ]
        );
        assert_eq!(links(html, true)[1].alt.as_deref(), Some("x > y"));
        // Without text, the same links with none.
        let bare: Vec<String> = links(html, false).into_iter().map(|l| l.url).collect();
        assert_eq!(bare, ["One?a=1&b=2", "small.png", "two", "#top"]);
    }

    #[test]
    fn scripts_styles_and_comments_hold_no_links() {
        let html = "<script>document.write('<a href=\"no1\">')</script>\
            <STYLE>a[href=\"no2\"] {}</STYLE><!-- <a href=\"no3\">x</a> -->\
            <a href=yes>a <!-- not --> b</a>";
        assert_eq!(urls(html), [(Element::Anchor, "yes".into(), "a b".into())]);
    }

    #[test]
    fn an_anchor_around_an_image_is_named_by_its_alt_and_anchors_do_not_nest() {
        let html = "<a href=\"File:X.jpg\"><img src=\"x.jpg\" alt=\"A cat\"></a>\
            <a href=first>one <a href=second>two</a> <video src=\"v.webm\"></video>\
            <audio><source src=\"s.ogg\"></audio><a name=plain>not a link</a>";
        assert_eq!(
            urls(html),
            [
                (Element::Anchor, "File:X.jpg".into(), "A cat".into()),
                (Element::Image, "x.jpg".into(), String::new()),
                (Element::Anchor, "first".into(), "one".into()),
                (Element::Anchor, "second".into(), "two".into()),
                (Element::Video, "v.webm".into(), String::new()),
                (Element::Source, "s.ogg".into(), String::new()),
            ]
        );
    }

    #[test]
    fn broken_markup_ends_without_a_fault() {
        for html in [
            "<a href=\"unclosed",
            "<a href=x>text",
            "<",
            "a < b",
            "<!-- open",
            "<img",
        ] {
            let _ = links(html, true);
        }
        assert_eq!(
            urls("<a href=x>text"),
            [(Element::Anchor, "x".into(), "text".into())]
        );
    }
}

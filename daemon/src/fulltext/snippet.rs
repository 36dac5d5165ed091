//! Snippets: a short passage of an article showing the query's words in bold, so a model can
//! judge a result without fetching it. libzim makes them with Xapian from the article text;
//! here the text is the article's HTML with tags, scripts and styles dropped.

use super::terms;

/// Words in a snippet.
const WINDOW_WORDS: usize = 36;

/// Only the start of an article is searched for the passage, so a long article stays cheap.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The passage of `html` with the most distinct words for which `is_hit` holds, hits in bold;
/// the article's opening words when none is found. `is_hit` gets each word as an unstemmed
/// index term (lower case, accents removed), words cut as the indexer cut them.
pub fn make(html: &str, is_hit: impl FnMut(&str) -> bool) -> String {
    make_with(html, terms::words, is_hit)
}

/// [`make`] with the words cut by `cut`; `is_hit` gets each word's `term`.
pub fn make_with(
    html: &str,
    cut: impl Fn(&str) -> Vec<terms::Word>,
    mut is_hit: impl FnMut(&str) -> bool,
) -> String {
    let text = visible_text(html);
    let mut words = cut(&text);
    // CJK bigrams overlap the characters they join; the characters are enough to show.
    let mut end_so_far = 0;
    words.retain(|word| {
        let keep = word.range.start >= end_so_far;
        end_so_far = end_so_far.max(word.range.end);
        keep
    });
    let hits: Vec<Option<&str>> = words
        .iter()
        .map(|word| is_hit(&word.term).then_some(word.term.as_str()))
        .collect();
    let start = best_window_start(&hits);
    let end = (start + WINDOW_WORDS).min(words.len());
    let mut snippet = String::new();
    if start > 0 {
        snippet.push('…');
    }
    let mut previous_end = match start {
        0 => 0,
        _ => words[start].range.start,
    };
    let mut previous_hit = false;
    for (word, hit) in words[start..end].iter().zip(&hits[start..end]) {
        let between = &text[previous_end..word.range.start];
        let shown = &text[word.range.clone()];
        if hit.is_some() && previous_hit && between.is_empty() {
            // Hits that touch (the characters of a Chinese word) share one pair of stars.
            snippet.truncate(snippet.len() - 2);
            snippet.push_str(shown);
            snippet.push_str("**");
        } else if hit.is_some() {
            push_spaced(&mut snippet, between);
            snippet.push_str("**");
            snippet.push_str(shown);
            snippet.push_str("**");
        } else {
            push_spaced(&mut snippet, between);
            snippet.push_str(shown);
        }
        previous_hit = hit.is_some();
        previous_end = word.range.end;
    }
    // Punctuation right after the last word belongs with it.
    let tail = text[previous_end..]
        .split_whitespace()
        .next()
        .unwrap_or_default();
    if !tail.chars().any(char::is_alphanumeric) {
        snippet.push_str(tail);
    }
    if end < words.len() {
        snippet.push_str(" …");
    }
    snippet
}

/// Appends the text between two words with its white space reduced to single spaces.
fn push_spaced(snippet: &mut String, between: &str) {
    if between.starts_with(char::is_whitespace) && !snippet.is_empty() {
        snippet.push(' ');
    }
    let parts: Vec<&str> = between.split_whitespace().collect();
    snippet.push_str(&parts.join(" "));
    if !parts.is_empty() && between.ends_with(char::is_whitespace) {
        snippet.push(' ');
    }
}

/// Where the window with the most distinct hits (then the most hits) starts.
fn best_window_start(hits: &[Option<&str>]) -> usize {
    let mut best = (0, 0, 0);
    for start in 0..hits.len() {
        if hits[start].is_none() {
            continue;
        }
        let window = &hits[start..(start + WINDOW_WORDS).min(hits.len())];
        let mut distinct: Vec<&str> = window.iter().flatten().copied().collect();
        let count = distinct.len();
        distinct.sort_unstable();
        distinct.dedup();
        if (distinct.len(), count) > (best.0, best.1) {
            // Start a few words early, so the first hit has some context before it.
            best = (distinct.len(), count, start.saturating_sub(4));
        }
    }
    best.2
}

/// The start of the text a reader sees (see [`all_visible_text`]): a snippet needs no more.
pub fn visible_text(html: &str) -> String {
    all_visible_text(cut_at_char_boundary(html, MAX_TEXT_BYTES))
}

/// The text a reader sees: tags removed, scripts, styles and the head skipped, entities decoded.
/// The licence footer scrapers (mwoffliner) put between `<!--htdig_noindex-->` comments on every
/// article is left out, as libzim's indexer leaves it out: it would match every article.
pub fn all_visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        push_decoded(&mut text, &rest[..open]);
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let Some(close) = comment.find("-->") else {
                break;
            };
            rest = &comment[close + 3..];
            if comment[..close].trim() == "htdig_noindex" {
                let footer_end = rest.find("/htdig_noindex").and_then(|at| {
                    let close = rest[at..].find("-->")?;
                    Some(at + close + 3)
                });
                rest = &rest[footer_end.unwrap_or(rest.len())..];
                text.push(' ');
            }
            continue;
        }
        let lower: String = rest.chars().take(8).flat_map(char::to_lowercase).collect();
        // `<header>` and `<styles-x>` are other elements: the name must end after the word.
        let skipped = ["script", "style", "head"].into_iter().find(|tag| {
            lower[1..].starts_with(tag)
                && !lower[1 + tag.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '-')
        });
        let end = match skipped {
            Some(tag) => find_ignoring_case(rest, &format!("</{tag}"))
                .map(|at| at + rest[at..].find('>').unwrap_or(rest.len() - at)),
            None => rest.find('>'),
        };
        let Some(end) = end else { break };
        // `<a href="x">ZIM format</a>.` reads "ZIM format." in a browser: only tags that
        // break the line or the word apart become a space.
        if !is_inline(&rest[..end]) {
            text.push(' ');
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    push_decoded(&mut text, rest.split('<').next().unwrap_or_default());
    text
}

/// Elements a browser lays out inside a line, without a break around them.
const INLINE_ELEMENTS: [&str; 20] = [
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "em", "font", "i", "kbd", "mark", "q",
    "s", "small", "span", "strong", "sub", "u",
];

/// Whether the tag starting `tag` (`<b class=x`, `</span`) is an inline element's.
fn is_inline(tag: &str) -> bool {
    let name: String = tag
        .trim_start_matches('<')
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    INLINE_ELEMENTS.contains(&name.as_str())
}

fn cut_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Appends `raw` with its character references decoded.
pub(crate) fn push_decoded(out: &mut String, raw: &str) {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity_end = rest[1..].find(';').map(|at| at + 1).filter(|&at| at <= 10);
        let decoded = entity_end.and_then(|end| decode_entity(&rest[1..end]));
        match (decoded, entity_end) {
            (Some(character), Some(end)) => {
                // A soft hyphen only says where a word may break: the word reads whole.
                if character != SOFT_HYPHEN {
                    out.push(character);
                }
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    if let Some(at) = LATIN_1.iter().position(|&known| known == name) {
        return char::from_u32(0xa0 + at as u32);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "euro" => '€',
        "trade" => '™',
        "OElig" => 'Œ',
        "oelig" => 'œ',
        "Scaron" => 'Š',
        "scaron" => 'š',
        "Yuml" => 'Ÿ',
        _ => return None,
    })
}

/// U+00AD, `&shy;`.
const SOFT_HYPHEN: char = '\u{ad}';

/// HTML's names for U+00A0 to U+00FF, in order: accented letters are named in older pages.
#[rustfmt::skip]
const LATIN_1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrapers_footer_and_comments_are_left_out() {
        let html = "<p>Ray sang.</p><!-- a note --><!--htdig_noindex--><div>This article is \
                    issued from Wikipedia under CC-BY-SA</div><!--/htdig_noindex--><p>End</p>";
        let text = all_visible_text(html);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Ray", "sang.", "End"]
        );
        let unclosed = all_visible_text("<p>Kept</p><!--htdig_noindex--><p>footer");
        assert_eq!(unclosed.trim(), "Kept");
    }

    #[test]
    fn inline_tags_join_their_text_and_block_tags_part_it() {
        let html = "<p>It reads the <a href=x>ZIM format</a>. <B>Bold</B>ly</p><p>Next<br>line</p>";
        let text = all_visible_text(html);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>().join(" "),
            "It reads the ZIM format. Boldly Next line"
        );
    }

    #[test]
    fn text_skips_markup_scripts_and_styles() {
        let html = "<html><head><title>T</title></head><body><p>Ray &amp; <b>Charles</b></p>\
                    <script>var x = '<p>';</script><STYLE>p{}</STYLE><p>sang&#33;</p></body>";
        let text = visible_text(html);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Ray", "&", "Charles", "sang!"]
        );
        let named = visible_text("caf&eacute; r&eacute;sum&#233; zzent&shy;ity &Uuml;ber&hellip;");
        assert_eq!(named, "café résumé zzentity Über…");
        // Elements whose names start like skipped ones are read; the whole text is kept.
        let page = "<header>Top</header><styled-box>Box</styled-box><p>end</p>";
        let all = all_visible_text(&format!("{page}{}", "word ".repeat(20_000)));
        assert_eq!(
            all.split_whitespace().take(3).collect::<Vec<_>>(),
            ["Top", "Box", "end"]
        );
        assert_eq!(all.split_whitespace().count(), 20_003);
    }

    #[test]
    fn snippets_bold_the_hits_in_the_richest_window() {
        let mut html = String::from("<p>");
        html.push_str(&"filler ".repeat(100));
        html.push_str("the piano player met a jazz piano teacher");
        html.push_str(&" filler".repeat(100));
        let snippet = make(&html, |word| {
            matches!(word.to_lowercase().as_str(), "piano" | "jazz")
        });
        assert!(snippet.starts_with('…') && snippet.ends_with('…'));
        assert!(snippet.contains("the **piano** player met a **jazz** **piano** teacher"));
        let punctuated = make("<p>(piano). Урок/Рэцэпт:Квас</p>", |word| {
            matches!(word, "piano" | "рэцэпт")
        });
        assert_eq!(punctuated, "(**piano**). Урок/**Рэцэпт**:Квас");
    }

    #[test]
    fn without_hits_the_snippet_is_the_opening() {
        assert_eq!(make("<p>One two</p>", |_| false), "One two");
        assert_eq!(make("", |_| false), "");
    }
}

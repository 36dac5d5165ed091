//! Pages of text sized for a model's context, and the measures tools report (tokens, words).
//!
//! A page holds at most a number of characters and, for the default page, about a number of
//! tokens. Tokens are estimated from the UTF-8 length of each character, which tracks how BPE
//! tokenizers of current models split text: ASCII (English, code, Markdown) runs about 4 chars
//! to a token; two-byte characters (accented Latin, Greek, Cyrillic, Hebrew, Arabic) about 2;
//! three-byte characters (CJK, kana, Hangul, Indic and South-East Asian scripts) about 1; and
//! four-byte characters (emoji, rare ideographs) about 2 tokens each. The estimate leans high
//! for all but English, so a page estimated at 25,000 tokens rarely holds more. 100,000 chars of
//! English are 25,000 tokens, so the default page of English text is the same as openzim-mcp's.

/// Characters of the default page (openzim-mcp's `CONTENT__MAX_CONTENT_LENGTH` default).
pub const DEFAULT_PAGE_CHARS: usize = 100_000;
/// Estimated tokens of the default page.
pub const DEFAULT_PAGE_TOKENS: usize = 25_000;

/// How much text one page may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The most characters.
    pub max_chars: usize,
    /// The most tokens, estimated, when tokens count at all.
    pub max_tokens: Option<usize>,
}

impl Budget {
    /// At most `max_chars` characters.
    pub fn chars(max_chars: usize) -> Self {
        Budget {
            max_chars,
            max_tokens: None,
        }
    }

    /// At most `max_chars` characters and about `max_tokens` tokens.
    pub fn tokens(max_chars: usize, max_tokens: usize) -> Self {
        Budget {
            max_chars,
            max_tokens: Some(max_tokens),
        }
    }
}

/// What a char is estimated to cost, in quarters of a token.
fn quarters(c: char) -> usize {
    match c.len_utf8() {
        1 => 1,
        2 => 2,
        3 => 4,
        _ => 8,
    }
}

/// The tokens `text` is estimated to take in a model's context.
pub fn estimate_tokens(text: &str) -> usize {
    estimate_quarters(text).div_ceil(4)
}

/// [`estimate_tokens`] in quarters of a token, not rounded: the estimates of the parts of a
/// text add up to the estimate of the whole.
pub fn estimate_quarters(text: &str) -> usize {
    text.chars().map(quarters).sum()
}

/// Words in `text`: runs of letters or digits between spaces, and every ideograph or kana of
/// the scripts that write no spaces.
pub fn word_count(text: &str) -> usize {
    let ideograph = |c: char| {
        matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
            | 0x20000..=0x3134F)
    };
    let words = text.split_whitespace().map(|word| {
        let ideographs = word.chars().filter(|&c| ideograph(c)).count();
        let other = word.chars().any(|c| c.is_alphanumeric() && !ideograph(c));
        ideographs + usize::from(other)
    });
    words.sum()
}

/// `total` shared among texts of `sizes`: no text gets more than it needs, and what small texts
/// leave goes to the larger ones in equal parts. Every share is at least 1.
pub fn split(sizes: &[usize], total: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut shares = vec![0; sizes.len()];
    let mut left = total;
    for (served, &i) in order.iter().enumerate() {
        let fair = left / (sizes.len() - served);
        shares[i] = sizes[i].min(fair).max(1);
        left = left.saturating_sub(shares[i]);
    }
    shares
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
    page_in(text, offset, Budget::chars(max_chars))
}

/// The window of `text` from char `offset` that fits `budget`, ending at a break if it can.
pub fn page_in(text: &str, offset: usize, budget: Budget) -> Page {
    let total_chars = text.chars().count();
    let start = byte_at(text, offset).unwrap_or(text.len());
    let rest = &text[start..];
    let (len, chars) = window(rest, budget);
    Page {
        text: rest[..len].to_owned(),
        offset,
        total_chars,
        next_offset: (len < rest.len()).then_some(offset + chars),
    }
}

/// The number of the page that starts at char `offset` and how many pages the text has, when
/// it is read from the start in pages of `budget`. A page that starts inside one of those pages
/// (a model that jumped to a heading) takes its number, and the count follows the pages read
/// from there on.
pub fn page_number(text: &str, offset: usize, budget: Budget) -> (usize, usize) {
    let start = byte_at(text, offset).unwrap_or(text.len());
    // Pages that end at or before the start, then the pages from the start to the end.
    let (mut before, mut at) = (0, 0);
    while at < start {
        let len = window(&text[at..], budget).0;
        if at + len > start {
            break;
        }
        (before, at) = (before + 1, at + len);
    }
    let (mut after, mut at) = (0, start);
    while at < text.len() {
        (after, at) = (after + 1, at + window(&text[at..], budget).0);
    }
    (before + 1, before + after.max(1))
}

fn byte_at(text: &str, chars: usize) -> Option<usize> {
    text.char_indices().nth(chars).map(|(i, _)| i)
}

/// The length in bytes and chars of the page at the start of `rest`.
///
/// The page ends after the last paragraph, line or word break (or ideographic full stop) in
/// its final fifth, or right before one that follows it, so pages rarely cut words; the next
/// page starts right there, so pages still join up exactly. It holds at least one char, so
/// reading always makes progress.
fn window(rest: &str, budget: Budget) -> (usize, usize) {
    let max_chars = budget.max_chars.max(1);
    let max_quarters = budget.max_tokens.map(|tokens| tokens.saturating_mul(4));
    let (mut cost, mut fit, mut end) = (0, 0, rest.len());
    for (i, c) in rest.char_indices() {
        let next_cost = cost + quarters(c);
        if fit == max_chars || (fit > 0 && max_quarters.is_some_and(|max| next_cost > max)) {
            end = i;
            break;
        }
        (cost, fit) = (next_cost, fit + 1);
    }
    if end == rest.len() {
        return (end, fit);
    }
    let tail = rest
        .char_indices()
        .nth(fit - fit / 5)
        .map_or(end, |(i, _)| i);
    // A window that ends right before a break ends as well as it can.
    let mut cuts = ["\n\n", "\n", " ", "。"].into_iter();
    let cut = cuts.find_map(|b| {
        let at_end = rest[end..].starts_with(b).then_some(end);
        at_end.or_else(|| rest[tail..end].rfind(b).map(|i| tail + i + b.len()))
    });
    let len = cut.unwrap_or(end);
    (len, fit - rest[len..end].chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn tokens_are_estimated_by_script() {
        assert_eq!(estimate_tokens(&"word ".repeat(20)), 25);
        assert_eq!(estimate_tokens("слова"), 3);
        assert_eq!(estimate_tokens("漢字"), 2);
        assert_eq!(estimate_tokens("🦀"), 2);
        assert_eq!(word_count("Two words, 漢字かな and **bold**!"), 4 + 4);
    }

    #[test]
    fn a_token_budget_holds_fewer_chars_of_denser_scripts() {
        let budget = Budget::tokens(100_000, 100);
        let english = "word ".repeat(200);
        let page = page_in(&english, 0, budget);
        assert_eq!(page.text.chars().count(), 400);
        assert!(page.text.ends_with(' '));
        let ideographs = "漢".repeat(500);
        assert_eq!(page_in(&ideographs, 0, budget).text.chars().count(), 100);
        let cyrillic = "слова ".repeat(100);
        let page = page_in(&cyrillic, 0, budget);
        // Five two-byte letters and a space cost 11 quarters: 36 words fit in 100 tokens.
        assert_eq!(page.text, "слова ".repeat(36));
        // A char costlier than the whole budget still makes a page.
        assert_eq!(page_in("🦀🦀", 0, Budget::tokens(10, 1)).text, "🦀");
    }

    #[test]
    fn pages_are_numbered_from_the_start() {
        let text = "aaaa\nbbbb\ncccc\ndd";
        let budget = Budget::chars(5);
        let starts: Vec<usize> =
            std::iter::successors(Some(0), |&at| page_in(text, at, budget).next_offset).collect();
        assert_eq!(starts, [0, 5, 10, 15]);
        let numbers: Vec<(usize, usize)> = starts
            .iter()
            .map(|&at| page_number(text, at, budget))
            .collect();
        assert_eq!(numbers, [(1, 4), (2, 4), (3, 4), (4, 4)]);
        // A page that starts inside page 2 takes its number; the count follows from there.
        assert_eq!(page_number(text, 7, budget), (2, 3));
        assert_eq!(page_number("", 0, budget), (1, 1));
    }

    #[test]
    fn a_shared_budget_serves_small_texts_whole() {
        assert_eq!(split(&[10, 1000, 50, 1000], 1000), [10, 470, 50, 470]);
        assert_eq!(split(&[0, 5], 100), [1, 5]);
        assert_eq!(split(&[], 100), Vec::<usize>::new());
    }
}

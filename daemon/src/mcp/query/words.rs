//! The words of a query and a small pattern language over them, so that the intent rules read
//! as the phrasings they accept: `show|read me? the? article|page` matches "show the page" and
//! "read me the article". Tokens are separated by spaces; `a|b` accepts either word; a trailing
//! `?` makes a token optional. Words are compared in lower case without the punctuation around
//! them; subjects are given back as the user typed them.

/// A query split into words.
pub struct Words<'a> {
    typed: Vec<&'a str>,
    keys: Vec<String>,
}

/// Punctuation that may surround a word without being part of it; brackets are handled apart.
fn is_outer_punctuation(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '`'
            | ','
            | ';'
            | ':'
            | '.'
            | '!'
            | '?'
            | '¿'
            | '¡'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '«'
            | '»'
            | '„'
    )
}

/// Brackets that go in pairs.
const BRACKETS: [(char, char); 2] = [('(', ')'), ('[', ']')];

/// `text` without the punctuation around it. A bracket goes only when nothing in the text
/// closes or opens it, or when one pair wraps the whole: "(The Night Time Is) The Right Time"
/// and "Side by Side (1927 song)" keep theirs.
pub fn trim_outer(text: &str) -> &str {
    let mut text = text;
    loop {
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || is_outer_punctuation(c));
        let trimmed = without_unpaired_brackets(trimmed);
        if trimmed.len() == text.len() {
            return trimmed;
        }
        text = trimmed;
    }
}

/// `text` without a bracket at either end that has no partner in it, or a pair around it all.
fn without_unpaired_brackets(text: &str) -> &str {
    let mut text = text;
    for (open, close) in BRACKETS {
        let opened = text.matches(open).count();
        let closed = text.matches(close).count();
        if wrapped(text, open, close) {
            text = &text[open.len_utf8()..text.len() - close.len_utf8()];
        } else if text.starts_with(open) && opened > closed {
            text = &text[open.len_utf8()..];
        } else if text.ends_with(close) && closed > opened {
            text = &text[..text.len() - close.len_utf8()];
        }
    }
    text
}

/// Whether the bracket opening `text` is closed by the one ending it.
fn wrapped(text: &str, open: char, close: char) -> bool {
    if !text.starts_with(open) || !text.ends_with(close) || text.len() < 2 {
        return false;
    }
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return at + c.len_utf8() == text.len();
            }
        }
    }
    false
}

impl<'a> Words<'a> {
    /// The words of `text`.
    pub fn new(text: &'a str) -> Self {
        let typed: Vec<&str> = text.split_whitespace().collect();
        let keys = typed
            .iter()
            .map(|word| trim_outer(word).to_lowercase().replace('’', "'"))
            .collect();
        Words { typed, keys }
    }

    /// How many words there are.
    pub fn len(&self) -> usize {
        self.typed.len()
    }

    /// The compared form of word `at`.
    pub fn key(&self, at: usize) -> &str {
        self.keys.get(at).map_or("", String::as_str)
    }

    /// Whether every word is one of `vocabulary` (words separated by spaces).
    pub fn all_in(&self, vocabulary: &str) -> bool {
        let known = |key: &String| vocabulary.split_whitespace().any(|word| word == key);
        self.keys.iter().all(known)
    }

    /// Whether some word is one of `wanted` (words separated by spaces).
    pub fn any_in(&self, wanted: &str) -> bool {
        let known = |key: &String| wanted.split_whitespace().any(|word| word == key);
        self.keys.iter().any(known)
    }

    /// The first position at or after `from` whose word is one of `wanted`.
    pub fn position(&self, from: usize, wanted: &[&str]) -> Option<usize> {
        (from..self.len()).find(|&at| wanted.contains(&self.key(at)))
    }

    /// How many words the longest of `patterns` matches at `at`.
    pub fn match_at(&self, at: usize, patterns: &[&str]) -> Option<usize> {
        let keys = self.keys.get(at..).unwrap_or_default();
        patterns
            .iter()
            .filter_map(|pattern| {
                let tokens: Vec<&str> = pattern.split_whitespace().collect();
                matched(keys, &tokens)
            })
            .max()
    }

    /// The words of `patterns`' longest match at the start, and what follows it.
    pub fn after_prefix(&self, patterns: &[&str]) -> Option<String> {
        self.match_at(0, patterns)
            .map(|length| self.text(length, self.len()))
    }

    /// What follows `patterns`' longest match at the start, as the subject of a request. An
    /// article ending the match goes back to the subject: the pattern's `the?` waited for a
    /// noun ("summary of the article X") that did not come ("summary of The Beatles"). Finding
    /// an article by title tries it without a leading article too.
    pub fn subject_after(&self, patterns: &[&str]) -> Option<String> {
        let length = self.match_at(0, patterns)?;
        let ends_with_article = length > 0 && ["the", "a", "an"].contains(&self.key(length - 1));
        let start = if ends_with_article {
            length - 1
        } else {
            length
        };
        Some(self.text(start, self.len()))
    }

    /// What precedes the longest match of `patterns` at the end, when it ends the query.
    pub fn before_suffix(&self, patterns: &[&str]) -> Option<String> {
        (1..self.len()).find_map(|at| {
            (self.match_at(at, patterns) == Some(self.len() - at)).then(|| self.text(0, at))
        })
    }

    /// Words `from..to` as typed, without the punctuation around the whole.
    pub fn text(&self, from: usize, to: usize) -> String {
        let to = to.min(self.len());
        let from = from.min(to);
        trim_outer(&self.typed[from..to].join(" ")).to_owned()
    }
}

/// How many of `keys` the tokens match from the start, preferring to take optional words.
fn matched(keys: &[String], tokens: &[&str]) -> Option<usize> {
    let Some((token, rest)) = tokens.split_first() else {
        return Some(0);
    };
    let (alternatives, optional) = match token.strip_suffix('?') {
        Some(token) => (token, true),
        None => (*token, false),
    };
    let taken = keys
        .first()
        .filter(|key| alternatives.split('|').any(|word| word == key.as_str()))
        .and_then(|_| matched(&keys[1..], rest))
        .map(|length| length + 1);
    match taken {
        Some(length) => Some(length),
        None if optional => matched(keys, rest),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Words;

    #[test]
    fn patterns_take_optional_words_and_alternatives() {
        let words = Words::new("Show me the Article: Ray Charles?");
        let show = ["show|read me? the? article|page"];
        assert_eq!(words.match_at(0, &show), Some(4));
        assert_eq!(words.after_prefix(&show).unwrap(), "Ray Charles");
        assert_eq!(Words::new("read page X").match_at(0, &show), Some(2));
        assert_eq!(Words::new("show X").match_at(0, &show), None);
        // The optional word is skipped when taking it would fail the rest.
        assert_eq!(
            Words::new("the the end").match_at(0, &["the? the end"]),
            Some(3)
        );
    }

    #[test]
    fn subjects_keep_the_article_a_pattern_left_hanging() {
        let summary = ["summary of the? article|page?"];
        let subject = |text: &str| Words::new(text).subject_after(&summary).unwrap();
        assert_eq!(subject("summary of The Beatles"), "The Beatles");
        assert_eq!(subject("summary of the article The Beatles"), "The Beatles");
        assert_eq!(subject("summary of Ray Charles"), "Ray Charles");
        // The pattern language itself still takes the optional word.
        assert_eq!(
            Words::new("summary of the X")
                .after_prefix(&summary)
                .unwrap(),
            "X"
        );
    }

    #[test]
    fn brackets_are_trimmed_only_when_nothing_pairs_them() {
        use super::trim_outer;
        let title = "(The Night Time Is) The Right Time";
        assert_eq!(trim_outer(title), title);
        assert_eq!(
            trim_outer("Side by Side (1927 song)?"),
            "Side by Side (1927 song)"
        );
        assert_eq!(trim_outer("(Ray Charles)"), "Ray Charles");
        assert_eq!(trim_outer("(a) (b)"), "(a) (b)");
        assert_eq!(trim_outer("song)"), "song");
        assert_eq!(trim_outer("([x"), "x");
        assert_eq!(trim_outer("\"«Ray»!\""), "Ray");
    }

    #[test]
    fn suffixes_and_vocabularies() {
        let words = Words::new("Ray Charles summary");
        assert_eq!(
            words.before_suffix(&["summary|outline"]).unwrap(),
            "Ray Charles"
        );
        assert!(Words::new("list all archives").all_in("list all archives"));
        assert!(Words::new("list all ARCHIVES!").any_in("archives"));
        assert_eq!(
            Words::new("a b section c").position(0, &["section"]),
            Some(2)
        );
    }
}

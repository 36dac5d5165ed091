//! The words of article text as libzim's indexer saw them (Xapian 1.4's `TermGenerator` with
//! CJK n-grams), with where each lies in the text, so snippets can highlight query terms.
//!
//! The indexer reads the article text with accents removed (up to its first NUL, as libzim's
//! ICU call does); here the text is read as it is and each word's term normalised from the
//! lower-cased text, which splits the same words in all but contrived text (a combining mark
//! standing between two digits and a separator, say).

use std::ops::Range;

use super::unicode::{
    Join, before_nul, is_cjk, is_cjk_wordchar, is_suffix, is_wordchar, join, strip_marks,
};

/// The indexer drops words whose term is longer than this many bytes (Xapian's default).
const MAX_TERM_BYTES: usize = 64;

/// One word of a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Where the word lies in the text, in bytes.
    pub range: Range<usize>,
    /// The word as an unstemmed index term: lower-case, accents removed.
    pub term: String,
}

/// The words of `text` in order, as the full-text indexer cut them. A run of CJK characters
/// gives each character and each pair of neighbours, overlapping, as the index holds them.
///
/// Xapian's quirks are kept, since the index has them: a word that an apostrophe or `&` joins
/// to a CJK run goes on after the run (`soul’日本·zz` indexes `soul'zz`), and is lost if the
/// text ends with the run.
pub fn words(text: &str) -> Vec<Word> {
    let text = before_nul(text);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    // The whole text is lower-cased at once, as the indexer does, because a Greek capital
    // sigma's lower case depends on the letters around it; each character's lower case then
    // lies at a known offset, the lengths not depending on context.
    let lower = text.to_lowercase();
    let mut lower_at = Vec::with_capacity(chars.len() + 1);
    let mut offset = 0;
    for &(_, c) in &chars {
        lower_at.push(offset);
        offset += c.to_lowercase().map(char::len_utf8).sum::<usize>();
    }
    lower_at.push(offset);
    let mut reader = Reader {
        text,
        chars: &chars,
        lower: &lower,
        lower_at: &lower_at,
        at: 0,
        found: Vec::new(),
    };
    reader.run();
    reader.found
}

/// Walks a text word by word.
struct Reader<'a> {
    text: &'a str,
    chars: &'a [(usize, char)],
    /// The text lower-cased.
    lower: &'a str,
    /// Where each character's lower case starts in `lower`, and where `lower` ends.
    lower_at: &'a [usize],
    at: usize,
    found: Vec<Word>,
}

impl Reader<'_> {
    /// The lower case of the characters from `first` up to `end`.
    fn lower(&self, first: usize, end: usize) -> &str {
        &self.lower[self.lower_at[first]..self.lower_at[end]]
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.chars.get(at).map(|&(_, c)| c)
    }

    fn offset(&self, at: usize) -> usize {
        self.chars
            .get(at)
            .map_or(self.text.len(), |&(offset, _)| offset)
    }

    /// Moves to the next word character; false at the end of the text.
    fn skip_to_word(&mut self) -> bool {
        while self.char_at(self.at).is_some_and(|c| !is_wordchar(c)) {
            self.at += 1;
        }
        self.at < self.chars.len()
    }

    fn run(&mut self) {
        while self.skip_to_word() {
            let mut raw = String::new();
            let mut start = None;
            let mut ended = false;
            loop {
                if self.char_at(self.at).is_some_and(is_cjk_wordchar) {
                    self.ngrams();
                    if !self.skip_to_word() {
                        return;
                    }
                    continue;
                }
                start.get_or_insert(self.at);
                let mut prev = ' ';
                while let Some(c) = self.char_at(self.at).filter(|&c| is_wordchar(c)) {
                    raw.push_str(self.lower(self.at, self.at + 1));
                    prev = c;
                    self.at += 1;
                    // A CJK character ends the word, suffix or not.
                    if self.char_at(self.at).is_some_and(is_cjk) {
                        ended = true;
                        break;
                    }
                }
                let next = self.char_at(self.at + 1).filter(|&n| is_wordchar(n));
                let (false, Some(c), Some(next)) = (ended, self.char_at(self.at), next) else {
                    break;
                };
                match join(prev, c, next) {
                    Join::Stop => break,
                    Join::Skip => {}
                    Join::Keep(kept) => raw.push(kept),
                }
                self.at += 1;
            }
            if !ended {
                self.suffix(&mut raw);
            }
            let term = strip_marks(&raw);
            if let Some(start) = start
                && !term.is_empty()
                && term.len() <= MAX_TERM_BYTES
            {
                let range = self.offset(start)..self.offset(self.at);
                self.found.push(Word { range, term });
            }
        }
    }

    /// Adds the n-grams of the CJK run at the cursor and moves past it.
    fn ngrams(&mut self) {
        let start = self.at;
        while self.char_at(self.at).is_some_and(is_cjk_wordchar) {
            self.at += 1;
        }
        for first in start..self.at {
            for last in first..(first + 2).min(self.at) {
                let range = self.offset(first)..self.offset(last + 1);
                let term = strip_marks(self.lower(first, last + 1));
                self.found.push(Word { range, term });
            }
        }
    }

    /// Up to three `+` or `#` stay on the word, unless a word character follows them.
    fn suffix(&mut self, raw: &mut String) {
        let rest = &self.chars[self.at..];
        let count = rest.iter().take_while(|&&(_, c)| is_suffix(c)).count();
        if count > 0 && count <= 3 && !self.char_at(self.at + count).is_some_and(is_wordchar) {
            raw.extend(rest[..count].iter().map(|&(_, c)| c));
            self.at += count;
        }
    }
}

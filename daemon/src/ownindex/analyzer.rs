//! How ozm's own full-text index cuts text into terms, for indexing and for queries alike.
//!
//! Words are runs of word characters (letters, marks, digits; `_` separates, so paths split
//! into their words). Each word is lower-cased and its accents removed, as libzim does before
//! Xapian sees it (`Élections` → `elections`, `Ἀθῆναι` → `αθηναι`, final sigma
//! as sigma), then stemmed by the archive's language where Xapian has a stemmer for it. Chinese,
//! Japanese and Korean runs, which carry no spaces, become characters and overlapping pairs of
//! characters at the same positions, so any run of one or more characters can be looked up:
//! one character as itself, two as their pair, longer ones as a phrase of pairs.

use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::fulltext::terms::{Stemmer, is_cjk, is_wordchar, remove_accents};

/// The name the tokenizer is registered under in every own index.
pub const TOKENIZER: &str = "ozm";

/// Words longer than this (in bytes, after folding) are not indexed: they are noise such as
/// base64 data, and tantivy refuses terms above 64 KiB.
const MAX_TERM_BYTES: usize = 120;

/// Whether terms are made for the index (characters and pairs) or for a query (pairs only).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Index,
    Query,
}

/// The tokenizer tantivy calls while indexing and while cutting snippets.
#[derive(Clone)]
pub struct OzmTokenizer {
    stemmer: Option<Arc<Stemmer>>,
}

impl OzmTokenizer {
    /// The tokenizer for an archive whose `Language` metadata is `language`.
    pub fn for_language(language: Option<&str>) -> Self {
        let stemmer = language
            .and_then(|list| list.split(',').next())
            .and_then(Stemmer::for_language)
            .map(Arc::new);
        OzmTokenizer { stemmer }
    }

    /// The terms of `text`, with their positions and byte ranges.
    pub fn terms(&self, text: &str, side: Side) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut position = 0;
        let mut rest = text.char_indices().peekable();
        while let Some(&(start, c)) = rest.peek() {
            if is_cjk(c) && is_wordchar(c) {
                let mut chars = Vec::new();
                while let Some(&(at, c)) = rest.peek() {
                    if !(is_cjk(c) && is_wordchar(c)) {
                        break;
                    }
                    chars.push((at, c));
                    rest.next();
                }
                self.push_cjk(&mut tokens, &chars, &mut position, side);
            } else if is_wordchar(c) && c != '_' {
                let mut end = start;
                while let Some(&(at, c)) = rest.peek() {
                    if !is_wordchar(c) || c == '_' || is_cjk(c) {
                        break;
                    }
                    end = at + c.len_utf8();
                    rest.next();
                }
                if let Some(term) = self.word_term(&text[start..end]) {
                    tokens.push(token(term, start..end, position));
                    position += 1;
                }
            } else {
                rest.next();
            }
        }
        tokens
    }

    /// The indexed form of one word: folded, then stemmed; `None` for one too long to index.
    pub fn word_term(&self, word: &str) -> Option<String> {
        let folded = fold(word);
        if folded.is_empty() || folded.len() > MAX_TERM_BYTES {
            return None;
        }
        Some(match &self.stemmer {
            Some(stemmer) => stemmer.stem(&folded),
            None => folded,
        })
    }

    fn push_cjk(
        &self,
        tokens: &mut Vec<Token>,
        chars: &[(usize, char)],
        position: &mut usize,
        side: Side,
    ) {
        let end_of = |i: usize| chars[i].0 + chars[i].1.len_utf8();
        // Each character takes a position, on both sides, so that words after the run keep
        // their distance to it in phrases.
        for (i, &(at, c)) in chars.iter().enumerate() {
            if side == Side::Index || chars.len() == 1 {
                tokens.push(token(fold(&c.to_string()), at..end_of(i), *position + i));
            }
            if let Some(&(_, next)) = chars.get(i + 1) {
                let pair = fold(&format!("{c}{next}"));
                tokens.push(token(pair, at..end_of(i + 1), *position + i));
            }
        }
        *position += chars.len();
    }
}

/// Lower case, accents removed, final sigma as sigma.
fn fold(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    remove_accents(word).replace('ς', "σ")
}

fn token(text: String, range: std::ops::Range<usize>, position: usize) -> Token {
    Token {
        offset_from: range.start,
        offset_to: range.end,
        position,
        text,
        position_length: 1,
    }
}

impl Tokenizer for OzmTokenizer {
    type TokenStream<'a> = Terms;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms {
            tokens: self.terms(text, Side::Index),
            next: 0,
        }
    }
}

/// The terms of one text, handed to tantivy one by one.
pub struct Terms {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Terms {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokenizer: &OzmTokenizer, text: &str, side: Side) -> Vec<(String, usize)> {
        tokenizer
            .terms(text, side)
            .into_iter()
            .map(|token| (token.text, token.position))
            .collect()
    }

    #[test]
    fn words_are_folded_in_every_script() {
        let plain = OzmTokenizer::for_language(None);
        let terms: Vec<String> = texts(
            &plain,
            "Élections à DÜSSELDORF, Ἀθῆναι ΑΘΗΝΑΣ Москва",
            Side::Index,
        )
        .into_iter()
        .map(|(text, _)| text)
        .collect();
        assert_eq!(
            terms,
            ["elections", "a", "dusseldorf", "αθηναι", "αθηνασ", "москва"]
        );
    }

    #[test]
    fn paths_split_at_underscores_and_slashes() {
        let plain = OzmTokenizer::for_language(None);
        let terms: Vec<(String, usize)> = texts(&plain, "Ray_Charles/early_life", Side::Index);
        let words: Vec<&str> = terms.iter().map(|(text, _)| text.as_str()).collect();
        assert_eq!(words, ["ray", "charles", "early", "life"]);
    }

    #[test]
    fn the_archive_language_stems() {
        let english = OzmTokenizer::for_language(Some("eng"));
        assert_eq!(english.word_term("Running").as_deref(), Some("run"));
        let french = OzmTokenizer::for_language(Some("fra,eng"));
        assert_eq!(french.word_term("élections").as_deref(), Some("elect"));
        assert_eq!(
            OzmTokenizer::for_language(Some("xyz"))
                .word_term("Runs")
                .as_deref(),
            Some("runs")
        );
    }

    #[test]
    fn cjk_runs_index_characters_and_pairs_and_query_by_pairs() {
        let plain = OzmTokenizer::for_language(None);
        let indexed = texts(&plain, "北京大学", Side::Index);
        assert_eq!(
            indexed,
            [
                ("北".into(), 0),
                ("北京".into(), 0),
                ("京".into(), 1),
                ("京大".into(), 1),
                ("大".into(), 2),
                ("大学".into(), 2),
                ("学".into(), 3),
            ]
        );
        let query = texts(&plain, "京大学", Side::Query);
        assert_eq!(query, [("京大".into(), 0), ("大学".into(), 1)]);
        assert_eq!(texts(&plain, "京", Side::Query), [("京".into(), 0)]);
        let mixed = texts(&plain, "東京タワー tower", Side::Query);
        assert_eq!(mixed.last(), Some(&("tower".into(), 5)));
        // Punctuation between two runs keeps them apart as in the text (dakuten fold away).
        let punctuated = texts(&plain, "です。北京", Side::Query);
        assert_eq!(punctuated, [("てす".into(), 0), ("北京".into(), 2)]);
    }
}

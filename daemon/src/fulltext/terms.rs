//! What a user typed, turned into index terms and a [`Query`] exactly as libzim 9.8 does with
//! Xapian 1.4.23, so the embedded indexes answer as they answer in Kiwix.
//!
//! Full-text search (libzim's `search.cpp`): the text goes through [`remove_accents`], then
//! Xapian's query parser with `AND` between words, every term stemmed (`STEM_ALL`), the
//! index's stop words, and no syntax but CJK n-grams (`FLAG_CJK_NGRAM`): quotes, `-`, `OR` and
//! brackets are plain punctuation there. ozm adds three things libzim lacks, only when the text
//! uses them: a pair of double quotes makes a phrase, `-word` (at the start or after white
//! space) excludes a word, and an upper-case `OR` between words makes either side enough. A
//! text whose additions Xapian's grammar cannot take is read the libzim way.
//!
//! Title suggestions (libzim's `suggestion.cpp`): the text, accents removed, is parsed with
//! Xapian's default syntax (quotes, `+`/`-`, brackets) and a partial last word, stems marked
//! with `Z` (`STEM_SOME`) and no stop words; if Xapian refuses it, again with no syntax. The
//! result is or'ed with two phrases of the unstemmed words, the second led by the anchor word
//! every title starts with, which favours titles that start with the text.
//!
//! Everything here is synchronous, allocates in proportion to the text, and never panics on
//! any input. At most 64 words of a text are read and brackets nest at most 16 deep, so huge or
//! hostile input stays cheap; libzim has no such limits.

mod grammar;
mod lexer;
mod stem;
#[cfg(test)]
mod tests;
mod unicode;
mod words;

pub use stem::{Stemmer, Stopwords};
pub use unicode::{is_cjk, is_wordchar, remove_accents};
pub use words::{Word, words};

use grammar::{Context, Tree, parse};
use lexer::{Stemming, Syntax, Token, lex};
use unicode::{before_nul, is_whitespace};

use super::query::Query;

/// The word libzim puts before every title in the title index.
const ANCHOR: &str = "0posanchor";

/// Xapian refuses the text; libzim then lists titles that start with it instead of suggesting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Xapian's query parser cannot parse this text")]
pub struct Unparsable;

/// How one index turns words into terms: its stemmer and its stop words.
#[derive(Debug, Default)]
pub struct Analyzer {
    stemmer: Option<Stemmer>,
    stopwords: Stopwords,
}

impl Analyzer {
    /// The analyzer for an index whose metadata gives `language` and `stopwords` (see
    /// [`Stemmer::for_language`] and [`Stopwords::from_metadata`]).
    pub fn new(language: Option<&str>, stopwords: Option<&str>) -> Self {
        Analyzer {
            stemmer: language.and_then(Stemmer::for_language),
            stopwords: stopwords.map(Stopwords::from_metadata).unwrap_or_default(),
        }
    }

    /// The full-text index term of one word: accents removed, lower-cased, stemmed.
    pub fn term(&self, word: &str) -> String {
        let word = remove_accents(word);
        match &self.stemmer {
            Some(stemmer) => stemmer.stem(&word),
            None => word,
        }
    }

    fn context(&self, stopwords: bool) -> Context<'_> {
        Context {
            stemmer: self.stemmer.as_ref(),
            stopwords: stopwords.then_some(&self.stopwords),
        }
    }

    /// `stemming` where the index has a stemmer, else none.
    fn stemming(&self, stemming: Stemming) -> Stemming {
        if self.stemmer.is_some() {
            stemming
        } else {
            Stemming::Off
        }
    }
}

/// The full-text query for `text`, or `None` when nothing is left to search for (or Xapian
/// refuses the text, for which libzim returns no results either).
pub fn parse_fulltext(text: &str, analyzer: &Analyzer) -> Option<Query> {
    let stemming = analyzer.stemming(Stemming::Bare);
    let context = analyzer.context(true);
    let mut plain = remove_accents(text);
    if let Some((normalized, syntax)) = with_additions(text) {
        let tokens = lex(&normalized, &syntax, stemming);
        let uses_additions = tokens.iter().any(|token| {
            matches!(
                token,
                Token::Quote | Token::Hate | Token::HateAfterOperator | Token::Or
            )
        });
        if uses_additions && let Ok(tree) = parse(&tokens, &context) {
            return tree.map(Tree::into_query);
        }
        // Read the libzim way, but without the stray `OR`s dropped above.
        plain = normalized;
    }
    let tokens = lex(&plain, &Syntax::default(), stemming);
    parse(&tokens, &context)
        .ok()
        .flatten()
        .map(Tree::into_query)
}

/// The title-suggestion query for `text` (what has been typed so far), as libzim builds it:
/// `Ok(None)` for an empty text, which suggests nothing, and `Err` where Xapian refuses the
/// text, for which libzim lists the titles that start with the text instead.
///
/// A text with no word at all becomes a [`Query::Wildcard`] of the whole text, as in libzim.
/// libzim gives its parser no index, so a word's `+` or `#` suffix always stays on it.
pub fn parse_suggest(text: &str, analyzer: &Analyzer) -> Result<Option<Query>, Unparsable> {
    let text = remove_accents(text);
    if text.is_empty() {
        return Ok(None);
    }
    let context = analyzer.context(false);
    let stemming = analyzer.stemming(Stemming::Prefixed);
    let syntax = Syntax {
        quotes: usize::MAX,
        love: true,
        hate: true,
        brackets: true,
        partial: true,
        or_at: Vec::new(),
    };
    // Xapian parses a text its syntax refuses once more without syntax, before giving up.
    let main = parse(&lex(&text, &syntax, stemming), &context)
        .or_else(|_| parse(&lex(&text, &Syntax::default(), stemming), &context))?;
    let Some(main) = main else {
        return Ok(Some(Query::Wildcard(text)));
    };
    let words = words_phrase(&text, &context)?;
    let anchored = words_phrase(&format!("{ANCHOR} {text}"), &context)?;
    let first = either([Some(main.into_query()), words]);
    Ok(Some(either([Some(first), anchored])))
}

/// libzim's phrase subquery: `text` parsed without syntax or stemming, and its terms (by
/// position, then term) required in a row. One term stands alone.
fn words_phrase(text: &str, context: &Context) -> Result<Option<Query>, Unparsable> {
    let tokens = lex(text, &Syntax::default(), Stemming::Off);
    let Some(tree) = parse(&tokens, context)? else {
        return Ok(None);
    };
    let mut terms: Vec<String> = tree.terms().into_iter().map(|(_, term)| term).collect();
    Ok(Some(match terms.len() {
        1 => Query::Term(terms.remove(0)),
        _ => Query::Phrase(terms),
    }))
}

/// The parts that are there, or'ed; one part alone, as Xapian leaves it.
fn either(parts: [Option<Query>; 2]) -> Query {
    match parts {
        [Some(one), None] | [None, Some(one)] => one,
        parts => Query::Or(parts.into_iter().flatten().collect()),
    }
}

/// `text` normalised for ozm's additions, with the syntax they need, if it may use any: a
/// double quote, a `-` or a white-space separated `OR`. White-space separated pieces are
/// normalised one by one, which gives what normalising the whole does, so that where an `OR`
/// stood is known. An `OR` with no word on one side is dropped, and so are pieces past the
/// lexer's word limit, so that a long or sloppy `OR` chain still parses as one.
fn with_additions(text: &str) -> Option<(String, Syntax)> {
    let pieces: Vec<&str> = before_nul(text)
        .split(is_whitespace)
        .filter(|p| !p.is_empty())
        .collect();
    let mut kept: Vec<&str> = Vec::with_capacity(pieces.len());
    for (index, &piece) in pieces.iter().enumerate() {
        let is_or = piece == "OR";
        let word_before = kept.last().is_some_and(|&last| last != "OR");
        let word_after = pieces.get(index + 1).is_some_and(|&next| next != "OR");
        if !is_or || (word_before && word_after) {
            kept.push(piece);
        }
    }
    // The lexer stops after its word limit, `OR`s not counted; cut there, so that no `OR`
    // is left hanging.
    let mut words = 0;
    kept.retain(|&piece| {
        words += usize::from(piece != "OR");
        words <= lexer::MAX_WORDS
    });
    if kept.last() == Some(&"OR") {
        kept.pop();
    }
    let mut normalized = String::with_capacity(text.len());
    let mut or_at = Vec::new();
    for piece in kept {
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        if piece == "OR" {
            or_at.push(normalized.chars().count());
        }
        normalized.push_str(&remove_accents(piece));
    }
    let quotes = normalized
        .chars()
        .filter(|c| matches!(c, '"' | '“' | '”'))
        .count()
        / 2
        * 2;
    let hate = normalized.contains('-');
    if quotes == 0 && !hate && or_at.is_empty() && !pieces.contains(&"OR") {
        return None;
    }
    let syntax = Syntax {
        quotes,
        hate,
        or_at,
        ..Syntax::default()
    };
    Some((normalized, syntax))
}

impl Tree {
    /// The tree as the matcher takes it.
    fn into_query(self) -> Query {
        match self {
            Tree::Term(term, _) => Query::Term(term),
            Tree::And(parts) => Query::And(parts.into_iter().map(Tree::into_query).collect()),
            Tree::Or(parts) => Query::Or(parts.into_iter().map(Tree::into_query).collect()),
            Tree::AndNot(left, right) => {
                Query::AndNot(Box::new(left.into_query()), Box::new(right.into_query()))
            }
            Tree::Phrase(terms) => Query::Phrase(terms.into_iter().map(|(term, _)| term).collect()),
            Tree::Partial { prefix, term, .. } => Query::Partial { prefix, term },
        }
    }
}

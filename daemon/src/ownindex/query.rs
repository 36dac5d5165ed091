//! What a user typed, as clauses for an own index: words that must all match (a word may be a
//! group of alternatives joined by `OR`), `"quoted phrases"`, and `-words` that must not. The
//! same syntax the embedded indexes accept; nothing of tantivy's query language (fields,
//! ranges, wildcards) is reachable from it.

use super::analyzer::OzmTokenizer;
use super::fulltext::terms_of;

/// Words searched; the rest are ignored, as with the embedded indexes.
const MAX_WORDS: usize = 64;

/// Terms of one word or phrase, with their positions relative to its first term.
pub type Terms = Vec<(usize, String)>;

/// One condition of a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Clause {
    /// One of these words or phrases must match.
    Must(Vec<Terms>),
    /// This word or phrase must not match.
    MustNot(Terms),
}

/// A parsed query.
#[derive(Debug, PartialEq, Eq)]
pub struct UserQuery {
    /// Its conditions, all of which must hold.
    pub clauses: Vec<Clause>,
}

/// A piece of the text before analysis.
struct Piece<'a> {
    text: &'a str,
    excluded: bool,
    or_before: bool,
}

impl UserQuery {
    /// Parses `text`; words that give no term (punctuation alone) are dropped.
    pub fn parse(text: &str, tokenizer: &OzmTokenizer) -> UserQuery {
        let mut clauses: Vec<Clause> = Vec::new();
        for piece in pieces(text).into_iter().take(MAX_WORDS) {
            let mut terms = terms_of(tokenizer, piece.text);
            let Some(&(first, _)) = terms.first() else {
                continue;
            };
            for (position, _) in &mut terms {
                *position -= first;
            }
            match (piece.excluded, piece.or_before, clauses.last_mut()) {
                (true, _, _) => clauses.push(Clause::MustNot(terms)),
                (false, true, Some(Clause::Must(alternatives))) => alternatives.push(terms),
                (false, _, _) => clauses.push(Clause::Must(vec![terms])),
            }
        }
        // Exclusions alone would match nothing: they are searched as words, as Xapian's
        // query parser does when it refuses such a query.
        if !clauses
            .iter()
            .any(|clause| matches!(clause, Clause::Must(_)))
        {
            for clause in &mut clauses {
                if let Clause::MustNot(terms) = clause {
                    *clause = Clause::Must(vec![std::mem::take(terms)]);
                }
            }
        }
        UserQuery { clauses }
    }

    /// The terms of the words that must match, for snippets.
    pub fn shown_terms(&self) -> Vec<String> {
        let mut shown: Vec<String> = self
            .clauses
            .iter()
            .filter_map(|clause| match clause {
                Clause::Must(alternatives) => Some(alternatives),
                Clause::MustNot(_) => None,
            })
            .flatten()
            .flatten()
            .map(|(_, term)| term.clone())
            .collect();
        shown.sort();
        shown.dedup();
        shown
    }
}

/// Splits `text` into words and quoted phrases, noting `-` before them and `OR` between them.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut or_before = false;
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let excluded = rest.starts_with('-') && rest.len() > 1;
        if excluded {
            rest = &rest[1..];
        }
        let (piece, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        rest = after.trim_start();
        if piece == "OR" && !excluded {
            // An `OR` joins the words on either side; one at either end is ignored.
            or_before = !pieces.is_empty();
            continue;
        }
        pieces.push(Piece {
            text: piece,
            excluded,
            or_before,
        });
        or_before = false;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> UserQuery {
        UserQuery::parse(text, &OzmTokenizer::for_language(Some("eng")))
    }

    fn terms(words: &[&str]) -> Terms {
        words
            .iter()
            .enumerate()
            .map(|(at, word)| (at, (*word).to_owned()))
            .collect()
    }

    #[test]
    fn words_phrases_exclusions_and_alternatives() {
        let query = parse(r#"Jazz "piano players" -organ cats OR dogs"#);
        assert_eq!(
            query.clauses,
            [
                Clause::Must(vec![terms(&["jazz"])]),
                Clause::Must(vec![terms(&["piano", "player"])]),
                Clause::MustNot(terms(&["organ"])),
                Clause::Must(vec![terms(&["cat"]), terms(&["dog"])]),
            ]
        );
        assert_eq!(
            query.shown_terms(),
            ["cat", "dog", "jazz", "piano", "player"]
        );
    }

    #[test]
    fn punctuation_stray_operators_and_open_quotes_are_harmless() {
        assert_eq!(parse("OR -- ... OR").clauses, []);
        assert_eq!(
            parse("-café").clauses,
            [Clause::Must(vec![terms(&["cafe"])])]
        );
        assert_eq!(
            parse(r#""unclosed phrase"#).clauses,
            [Clause::Must(vec![terms(&["unclos", "phrase"])])]
        );
        assert_eq!(
            parse("field:value").clauses,
            [Clause::Must(vec![terms(&["field", "valu"])])]
        );
    }
}

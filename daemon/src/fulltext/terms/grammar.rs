//! The query parser's grammar, after the Lemon rules of Xapian 1.4's queryparser.lemony, for
//! the tokens [`super::lexer`] makes. It accepts what Xapian accepts, refuses what Xapian
//! refuses (a refused query is retried or given up by the caller, as Xapian and libzim do),
//! and builds the same tree, down to where `AND`s are flattened.
//!
//! A query is one or more operands joined by `OR`. An operand is a sequence of units: a term,
//! a group of words, a phrase, a CJK run, a partial word, a bracketed query, or `+`/`-` and one
//! of those. A sequence of one plain word is taken as it is; in a longer one, stop words are
//! dropped. A group drops its stop words unless all of its words are stop words. Refused are:
//! an operand of excluded (`-`) words only, an `OR` with an empty side, and tokens out of place
//! (a group word after a CJK run, an empty phrase, an unmatched bracket).

use super::Unparsable;
use super::lexer::{Lexeme, Stemming, Token};
use super::stem::{Stemmer, Stopwords};
use super::unicode::is_cjk_wordchar;

/// A parsed query, with the query position of each term (which libzim's phrase subqueries
/// need).
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    /// One term at a position.
    Term(String, u32),
    /// All parts.
    And(Vec<Tree>),
    /// Any part.
    Or(Vec<Tree>),
    /// The left side without the right.
    AndNot(Box<Tree>, Box<Tree>),
    /// Adjacent terms, at their positions.
    Phrase(Vec<(String, u32)>),
    /// A word still being typed: every term starting with `prefix`, or `term`.
    Partial {
        prefix: String,
        term: String,
        pos: u32,
    },
}

impl Tree {
    /// Every term with its position, sorted by position then term, a term repeated at the
    /// same position kept once: Xapian's `Query::get_terms_begin()`.
    pub fn terms(&self) -> Vec<(u32, String)> {
        let mut terms = Vec::new();
        self.gather(&mut terms);
        terms.sort();
        terms.dedup();
        terms
    }

    fn gather(&self, terms: &mut Vec<(u32, String)>) {
        match self {
            Tree::Term(term, pos) | Tree::Partial { term, pos, .. } => {
                terms.push((*pos, term.clone()));
            }
            Tree::And(parts) | Tree::Or(parts) => parts.iter().for_each(|part| part.gather(terms)),
            Tree::AndNot(left, right) => {
                left.gather(terms);
                right.gather(terms);
            }
            Tree::Phrase(phrase) => {
                terms.extend(phrase.iter().map(|(term, pos)| (*pos, term.clone())))
            }
        }
    }
}

/// What the grammar needs besides the tokens.
pub struct Context<'a> {
    /// The stemmer terms are stemmed with, where their stemming asks for it.
    pub stemmer: Option<&'a Stemmer>,
    /// The stop words to drop, for full-text queries.
    pub stopwords: Option<&'a Stopwords>,
}

/// Parses `tokens`; `Ok(None)` when nothing is left to search for.
pub fn parse(tokens: &[Token], context: &Context) -> Result<Option<Tree>, Unparsable> {
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        context,
    };
    let tree = parser.expr()?;
    if parser.at < tokens.len() {
        return Err(Unparsable);
    }
    Ok(tree)
}

/// A unit of an operand, before stop words are considered.
enum Unit {
    Atom(Atom),
    Love(Option<Tree>),
    Hate(Option<Tree>),
}

/// A term or compound, before stop words are considered.
enum Atom {
    /// A plain word, dropped if it is a stop word and not alone.
    Word(Lexeme),
    /// Anything else; `None` when its words were all dropped.
    Compound(Option<Tree>),
}

struct Parser<'t, 'c> {
    tokens: &'t [Token],
    at: usize,
    context: &'c Context<'c>,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// Operands joined by `OR`, grouped to the left; every operand must hold a term.
    fn expr(&mut self) -> Result<Option<Tree>, Unparsable> {
        let mut left = self.operand()?;
        while matches!(self.peek(), Some(Token::Or)) {
            self.at += 1;
            let (Some(either), Some(or)) = (left, self.operand()?) else {
                return Err(Unparsable);
            };
            left = Some(Tree::Or(vec![either, or]));
        }
        Ok(left)
    }

    /// A sequence of units; `None` when its words were all dropped. There must be one.
    fn operand(&mut self) -> Result<Option<Tree>, Unparsable> {
        let starts = matches!(self.peek(), Some(Token::Love | Token::Hate))
            || self.peek().is_some_and(starts_atom);
        if !starts {
            return Err(Unparsable);
        }
        let mut units = Vec::new();
        while let Some(token) = self.peek() {
            let unit = match token {
                Token::Love => {
                    self.at += 1;
                    Unit::Love(self.atom()?.whole(self.context))
                }
                Token::Hate => {
                    self.at += 1;
                    Unit::Hate(self.atom()?.whole(self.context))
                }
                token if starts_atom(token) => Unit::Atom(self.atom()?),
                _ => break,
            };
            units.push(unit);
        }
        if let [Unit::Atom(_)] = units.as_slice()
            && let Some(Unit::Atom(atom)) = units.pop()
        {
            return Ok(atom.whole(self.context));
        }
        let mut query = None;
        let mut hate = None;
        for unit in units {
            match unit {
                Unit::Atom(Atom::Word(word)) => {
                    let stopped = self
                        .context
                        .stopwords
                        .is_some_and(|s| s.contains(&word.name));
                    if !stopped {
                        query = Some(and(query, term(&word, self.context)));
                    }
                }
                Unit::Atom(Atom::Compound(Some(tree))) | Unit::Love(Some(tree)) => {
                    query = Some(and(query, tree));
                }
                Unit::Hate(Some(tree)) => hate = Some(or(hate, tree)),
                Unit::Atom(Atom::Compound(None)) | Unit::Love(None) | Unit::Hate(None) => {}
            }
        }
        match (query, hate) {
            (Some(query), Some(hate)) => Ok(Some(Tree::AndNot(Box::new(query), Box::new(hate)))),
            // Xapian refuses a query of excluded words only.
            (None, Some(_)) => Err(Unparsable),
            (query, None) => Ok(query),
        }
    }

    fn atom(&mut self) -> Result<Atom, Unparsable> {
        let tree = match self.next() {
            Some(Token::Term(word)) => match self.peek() {
                Some(Token::GroupTerm(_)) => self.group(word),
                Some(Token::PhraseTerm(_)) => {
                    let mut words = vec![word];
                    while let Some(Token::PhraseTerm(word)) = self.peek() {
                        words.push(word.clone());
                        self.at += 1;
                    }
                    Some(phrase(&words, self.context))
                }
                _ => return Ok(Atom::Word(word)),
            },
            Some(Token::Cjk(word)) => Some(ngrams(&word)),
            Some(Token::Partial(word)) => Some(Tree::Partial {
                term: make_term(&word, self.context),
                prefix: word.name,
                pos: word.pos,
            }),
            Some(Token::Quote) => {
                let mut words = Vec::new();
                while let Some(Token::Term(word) | Token::Cjk(word)) = self.peek() {
                    words.push(word.clone());
                    self.at += 1;
                }
                if words.is_empty() || !matches!(self.next(), Some(Token::Quote)) {
                    return Err(Unparsable);
                }
                Some(phrase(&words, self.context))
            }
            Some(Token::Open) => {
                let inner = self.expr()?;
                if !matches!(self.next(), Some(Token::Close)) {
                    return Err(Unparsable);
                }
                inner
            }
            _ => return Err(Unparsable),
        };
        Ok(Atom::Compound(tree))
    }

    /// Words separated by white space only: their terms, stop words dropped unless all are
    /// stop words (or, when a partial word follows, even then).
    fn group(&mut self, first: Lexeme) -> Option<Tree> {
        let mut words = vec![first];
        let mut empty_ok = false;
        loop {
            match self.peek() {
                Some(Token::GroupTerm(word)) => words.push(word.clone()),
                Some(Token::EmptyGroupOk) => empty_ok = true,
                _ => break,
            }
            self.at += 1;
        }
        let kept = |word: &&Lexeme| {
            !self
                .context
                .stopwords
                .is_some_and(|s| s.contains(&word.name))
        };
        let mut terms: Vec<Tree> = words
            .iter()
            .filter(kept)
            .map(|word| term(word, self.context))
            .collect();
        if terms.is_empty() && !empty_ok {
            terms = words.iter().map(|word| term(word, self.context)).collect();
        }
        match terms.len() {
            0 => None,
            1 => terms.pop(),
            _ => Some(Tree::And(terms)),
        }
    }
}

impl Atom {
    /// The atom where stop words do not apply: alone, or after `+` or `-`.
    fn whole(self, context: &Context) -> Option<Tree> {
        match self {
            Atom::Word(word) => Some(term(&word, context)),
            Atom::Compound(tree) => tree,
        }
    }
}

/// Whether `token` starts a term or compound.
fn starts_atom(token: &Token) -> bool {
    matches!(
        token,
        Token::Term(_) | Token::Cjk(_) | Token::Partial(_) | Token::Quote | Token::Open
    )
}

/// `left AND right`, appending to `left` when it is already an `AND` (Xapian's `&=`).
fn and(left: Option<Tree>, right: Tree) -> Tree {
    match left {
        None => right,
        Some(Tree::And(mut parts)) => {
            parts.push(right);
            Tree::And(parts)
        }
        Some(left) => Tree::And(vec![left, right]),
    }
}

/// `left OR right`, appending to `left` when it is already an `OR` (Xapian's `|=`).
fn or(left: Option<Tree>, right: Tree) -> Tree {
    match left {
        None => right,
        Some(Tree::Or(mut parts)) => {
            parts.push(right);
            Tree::Or(parts)
        }
        Some(left) => Tree::Or(vec![left, right]),
    }
}

/// The term for a word on its own.
fn term(word: &Lexeme, context: &Context) -> Tree {
    Tree::Term(make_term(word, context), word.pos)
}

/// The index term for `word`: itself, its stem, or `Z` and its stem.
fn make_term(word: &Lexeme, context: &Context) -> String {
    match (word.stemming, context.stemmer) {
        (Stemming::Bare, Some(stemmer)) => stemmer.stem(&word.name),
        (Stemming::Prefixed, Some(stemmer)) => format!("Z{}", stemmer.stem(&word.name)),
        _ => word.name.clone(),
    }
}

/// The words of a phrase, each CJK character on its own. Phrase terms need positions, which
/// titles keep for unstemmed words only, so `Z` stems give way to the words themselves; full
/// text keeps its bare stems.
fn phrase(words: &[Lexeme], context: &Context) -> Tree {
    let mut terms = Vec::new();
    for word in words {
        let stemming = match word.stemming {
            Stemming::Prefixed => Stemming::Off,
            other => other,
        };
        let mut push = |name: String| {
            let word = Lexeme {
                name,
                stemming,
                pos: word.pos,
            };
            terms.push((make_term(&word, context), word.pos));
        };
        if word.name.starts_with(is_cjk_wordchar) {
            word.name.chars().for_each(|c| push(c.to_string()));
        } else {
            push(word.name.clone());
        }
    }
    match <[_; 1]>::try_from(terms) {
        Ok([(term, pos)]) => Tree::Term(term, pos),
        Err(terms) => Tree::Phrase(terms),
    }
}

/// A CJK run as Xapian searches it: every character and every pair of neighbours, all
/// required, in the order c1, c1c2, c2, c2c3, c3.
fn ngrams(word: &Lexeme) -> Tree {
    let chars: Vec<char> = word.name.chars().collect();
    let mut terms = Vec::with_capacity(chars.len() * 2);
    for (at, c) in chars.iter().enumerate() {
        if at > 0 {
            terms.push(Tree::Term(chars[at - 1..=at].iter().collect(), word.pos));
        }
        terms.push(Tree::Term(c.to_string(), word.pos));
    }
    match terms.len() {
        1 => terms.remove(0),
        _ => Tree::And(terms),
    }
}

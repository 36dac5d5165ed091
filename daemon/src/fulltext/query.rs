//! The query tree that [`super::terms`] produces and the matcher evaluates. Terms are exactly as
//! stored in the index: accents removed, lower-cased, stemmed (with the `Z` prefix where the
//! database stores stems that way), at most 64 bytes.

/// A parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// One index term.
    Term(String),
    /// Every part must match; the weights add up.
    And(Vec<Query>),
    /// Any part may match; the weights of those that match add up.
    Or(Vec<Query>),
    /// The left side matches and the right side does not; only the left side weighs.
    AndNot(Box<Query>, Box<Query>),
    /// The left side must match; the right side adds weight where it also matches.
    AndMaybe(Box<Query>, Box<Query>),
    /// Terms adjacent and in this order. A database without positions treats it as `And`.
    Phrase(Vec<String>),
    /// Every index term starting with this text, however many, weighted as one term: what
    /// libzim suggests from when the text holds no word at all.
    Wildcard(String),
    /// A word still being typed: the 100 most frequent index terms starting with `prefix`,
    /// weighted as one term (Xapian's OP_SYNONYM), or'ed with `term`.
    Partial {
        /// The typed start of the word, as an index term prefix.
        prefix: String,
        /// The term Xapian ors in beside the expansion: the stem with its `Z`, or the word itself
        /// where it is not stemmed (then counted twice, as in Xapian).
        term: String,
    },
}

impl Query {
    /// Every index term the query names (the prefix, for a word still being typed).
    pub fn terms(&self) -> Vec<&str> {
        match self {
            Query::Term(term) => vec![term.as_str()],
            Query::And(parts) | Query::Or(parts) => parts.iter().flat_map(Query::terms).collect(),
            Query::AndNot(left, _) => left.terms(),
            Query::AndMaybe(left, right) => [left.terms(), right.terms()].concat(),
            Query::Phrase(terms) => terms.iter().map(String::as_str).collect(),
            Query::Wildcard(prefix) => vec![prefix.as_str()],
            Query::Partial { prefix, term } => vec![prefix.as_str(), term.as_str()],
        }
    }
}

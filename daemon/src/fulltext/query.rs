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
    /// A word still being typed: every index term starting with `prefix`, weighted as one
    /// term (Xapian's OP_SYNONYM), or'ed with `stem` when the whole word has one.
    Partial {
        /// The typed start of the word, as an index term prefix.
        prefix: String,
        /// The stemmed form of the typed word, if it is to be matched too.
        stem: Option<String>,
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
            Query::Partial { prefix, stem } => std::iter::once(prefix.as_str())
                .chain(stem.as_deref())
                .collect(),
        }
    }
}

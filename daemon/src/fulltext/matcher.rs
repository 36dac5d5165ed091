//! Evaluates a [`Query`] over a glass database and ranks the documents it matches with BM25,
//! the weighting libzim asks Xapian for, so that ranks agree with libzim's.
//!
//! Documents are visited in id order ("document at a time"): each node of the query moves to
//! its next match at or after a given id. AND nodes leapfrog, so a rare term leads and the
//! posting lists of common terms are entered through their chunk index rather than read end to
//! end. A document's length is only looked up when its best possible weight could still enter
//! the results.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::nodes::{Length, Node};
use super::query::Query;
use crate::glass::{Database, GlassError, PostingList};

/// BM25 parameters, as Xapian's `BM25Weight(k1, k2, k3, b, min_normlen)` with k2 = 0, k3 = 1.
#[derive(Clone, Copy, Debug)]
pub struct Weighting {
    /// How quickly repeated occurrences stop adding weight.
    pub k1: f64,
    /// How much document length matters, from 0 (not at all) to 1.
    pub b: f64,
    /// The smallest normalised length, so very short documents are not over-rewarded.
    pub min_normlen: f64,
}

/// Xapian's default, which libzim uses for full-text search.
pub const FULLTEXT_WEIGHTING: Weighting = Weighting {
    k1: 1.0,
    b: 0.5,
    min_normlen: 0.5,
};

/// What libzim uses for title suggestions: the number of occurrences hardly matters, short
/// titles win.
pub const SUGGEST_WEIGHTING: Weighting = Weighting {
    k1: 0.001,
    b: 1.0,
    min_normlen: 0.5,
};

/// A matching document with its weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The document id in the index.
    pub docid: u32,
    /// Its BM25 weight for the query.
    pub weight: f64,
}

/// The best documents of a query, and how many matched in all.
#[derive(Debug, Default)]
pub struct Ranked {
    /// Best first; equal weights in increasing document id, as Xapian orders them.
    pub hits: Vec<Hit>,
    /// Every document the query matched (of those considered, when `partial`).
    pub matched: u32,
    /// Whether the search was told to stop before every document was considered.
    pub partial: bool,
}

/// How many documents are visited between two asks whether to stop (the first is asked).
const CLOCK_EVERY: u32 = 4096;

/// Ranks the documents matching `query` and keeps the best `wanted`. With a filter, only the
/// documents it accepts count and rank; it is asked about every match. Once `stop` says so
/// (time is up, or the client went away), the documents seen so far are ranked and the result
/// is marked partial.
pub fn best(
    db: &Database<'_>,
    query: &Query,
    weighting: Weighting,
    wanted: usize,
    stop: &dyn Fn() -> bool,
    mut filter: Option<&mut dyn FnMut(u32) -> Result<bool, GlassError>>,
) -> Result<Ranked, GlassError> {
    let mut scorer = Scorer::new(db, weighting)?;
    let mut root = Node::build(db, query, &|doc_freq| scorer.term_weight(doc_freq))?;
    let mut heap: BinaryHeap<Ranking> = BinaryHeap::new();
    let mut matched = 0u32;
    let mut partial = false;
    let mut next = 1;
    let mut visited = 0u32;
    while let Some(docid) = root.skip_to(next)? {
        visited += 1;
        next = docid.saturating_add(1);
        if visited % CLOCK_EVERY == 1 && stop() {
            partial = true;
            break;
        }
        if let Some(accept) = filter.as_mut()
            && !accept(docid)?
        {
            continue;
        }
        matched += 1;
        let floor = match heap.peek() {
            Some(worst) if heap.len() >= wanted => worst.0.weight,
            _ if wanted == 0 => f64::INFINITY,
            _ => f64::NEG_INFINITY,
        };
        // A later document with an equal weight ranks below, so it must beat the floor.
        if root.weight(&weighting, docid, scorer.shortest()) <= floor {
            continue;
        }
        let weight = root.weight(&weighting, docid, scorer.length(docid)?);
        if weight <= floor {
            continue;
        }
        heap.push(Ranking(Hit { docid, weight }));
        if heap.len() > wanted {
            heap.pop();
        }
        if docid == u32::MAX {
            break;
        }
    }
    let mut hits: Vec<Hit> = heap.into_iter().map(|ranking| ranking.0).collect();
    hits.sort_by_key(|hit| Ranking(*hit));
    Ok(Ranked {
        hits,
        matched,
        partial,
    })
}

/// Every document matching `query` with its weight, in document order.
pub fn all(db: &Database<'_>, query: &Query, weighting: Weighting) -> Result<Vec<Hit>, GlassError> {
    let mut scorer = Scorer::new(db, weighting)?;
    let mut root = Node::build(db, query, &|doc_freq| scorer.term_weight(doc_freq))?;
    let mut hits = Vec::new();
    let mut next = 1;
    while let Some(docid) = root.skip_to(next)? {
        let length = scorer.length(docid)?;
        hits.push(Hit {
            docid,
            weight: root.weight(&weighting, docid, length),
        });
        if docid == u32::MAX {
            break;
        }
        next = docid + 1;
    }
    Ok(hits)
}

/// Orders hits so that the heap's top is the worst: lower weight, then higher id.
#[derive(PartialEq)]
struct Ranking(Hit);

impl Eq for Ranking {}

impl PartialOrd for Ranking {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranking {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .weight
            .total_cmp(&self.0.weight)
            .then(self.0.docid.cmp(&other.0.docid))
    }
}

/// The collection statistics and document lengths BM25 needs.
struct Scorer<'a> {
    weighting: Weighting,
    doc_count: f64,
    average_length: f64,
    shortest_normalised: f64,
    lengths: PostingList<'a>,
}

impl<'a> Scorer<'a> {
    fn new(db: &Database<'a>, weighting: Weighting) -> Result<Self, GlassError> {
        let stats = db.stats();
        let average_length = stats.average_length().max(f64::MIN_POSITIVE);
        Ok(Scorer {
            weighting,
            doc_count: f64::from(stats.doc_count),
            average_length,
            shortest_normalised: (f64::from(stats.doclen_lower_bound) / average_length)
                .max(weighting.min_normlen),
            lengths: db.doc_lengths()?,
        })
    }

    fn length(&mut self, docid: u32) -> Result<Length, GlassError> {
        let raw = match self.lengths.skip_to(docid)? {
            Some((found, length)) if found == docid => length,
            _ => return Err(GlassError::corrupt("a matching document has no length")),
        };
        let normalised = (f64::from(raw) / self.average_length).max(self.weighting.min_normlen);
        Ok(Length { normalised, raw })
    }

    /// A length no document goes below, to bound a weight before looking the length up.
    fn shortest(&self) -> Length {
        Length {
            normalised: self.shortest_normalised,
            raw: u32::MAX,
        }
    }

    /// Xapian's BM25 term weight for a term in `doc_freq` documents.
    fn term_weight(&self, doc_freq: f64) -> f64 {
        let mut ratio = (self.doc_count - doc_freq + 0.5) / (doc_freq + 0.5);
        // Terms in more than about a third of the documents would weigh little or less than
        // nothing; Xapian compresses the ratio instead.
        if ratio < 2.0 {
            ratio = ratio * 0.5 + 1.0;
        }
        ratio.ln() * (self.weighting.k1 + 1.0)
    }
}

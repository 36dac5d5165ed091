//! The query tree made executable: each node can move to its next matching document at or
//! after a given id and say what that document weighs. Built by [`Node::build`] from a
//! [`Query`]; driven by the matcher.

use super::matcher::Weighting;
use super::query::Query;
use super::select;
use crate::glass::{Database, GlassError, PostingList};

/// How many index terms a word still being typed may stand for, the most frequent kept, as
/// Xapian's query parser limits partial terms.
const MAX_PARTIAL_EXPANSION: usize = 100;

/// Where a node stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum At {
    Start,
    Doc(u32),
    End,
}

/// One executable node.
pub enum Node<'a> {
    /// Matches nothing (a term absent from the index).
    Empty,
    /// One term's postings and its BM25 term weight.
    Term {
        list: PostingList<'a>,
        term_weight: f64,
        at: At,
    },
    /// Several terms counted as one: their frequencies add up in each document.
    Synonym {
        lists: Vec<PostingList<'a>>,
        term_weight: f64,
        at: At,
    },
    /// All children match.
    And(Vec<Node<'a>>),
    /// Any child matches.
    Or(Vec<Node<'a>>, At),
    /// The left side matches and the right does not.
    AndNot(Box<Node<'a>>, Box<Node<'a>>),
    /// The left side matches; the right one adds weight.
    AndMaybe(Box<Node<'a>>, Box<Node<'a>>),
    /// All terms match, next to each other and in order, where the index has positions.
    Phrase {
        db: Database<'a>,
        terms: Vec<Vec<u8>>,
        all: Box<Node<'a>>,
    },
}

/// A document's length, as BM25 uses it.
#[derive(Clone, Copy, Debug)]
pub struct Length {
    /// The length divided by the average, at least the weighting's minimum.
    pub normalised: f64,
    /// The length itself, which caps a synonym's frequency.
    pub raw: u32,
}

/// What a term weighs in this database, from how many documents hold it.
pub type TermWeigher<'w> = &'w dyn Fn(f64) -> f64;

impl<'a> Node<'a> {
    /// Opens the posting lists `query` needs.
    pub fn build(
        db: &Database<'a>,
        query: &Query,
        weigh: TermWeigher<'_>,
    ) -> Result<Node<'a>, GlassError> {
        Ok(match query {
            Query::Term(term) => term_node(db, term.as_bytes(), weigh)?,
            Query::And(parts) => {
                let mut nodes = Vec::with_capacity(parts.len());
                for part in parts {
                    match Node::build(db, part, weigh)? {
                        Node::Empty => return Ok(Node::Empty),
                        node => nodes.push(node),
                    }
                }
                Node::And(nodes)
            }
            Query::Or(parts) => {
                let mut nodes = Vec::with_capacity(parts.len());
                for part in parts {
                    match Node::build(db, part, weigh)? {
                        Node::Empty => {}
                        node => nodes.push(node),
                    }
                }
                if nodes.is_empty() {
                    Node::Empty
                } else {
                    Node::Or(nodes, At::Start)
                }
            }
            Query::AndNot(left, right) => match Node::build(db, left, weigh)? {
                Node::Empty => Node::Empty,
                left => match Node::build(db, right, weigh)? {
                    Node::Empty => left,
                    right => Node::AndNot(Box::new(left), Box::new(right)),
                },
            },
            Query::AndMaybe(left, right) => match Node::build(db, left, weigh)? {
                Node::Empty => Node::Empty,
                left => match Node::build(db, right, weigh)? {
                    Node::Empty => left,
                    right => Node::AndMaybe(Box::new(left), Box::new(right)),
                },
            },
            Query::Phrase(terms) => {
                let parts: Vec<Query> = terms.iter().cloned().map(Query::Term).collect();
                match Node::build(db, &Query::And(parts), weigh)? {
                    Node::And(mut nodes) if nodes.len() == 1 => nodes.remove(0),
                    Node::And(nodes) => Node::Phrase {
                        db: *db,
                        terms: terms.iter().map(|term| term.as_bytes().to_vec()).collect(),
                        all: Box::new(Node::And(nodes)),
                    },
                    other => other,
                }
            }
            Query::Wildcard(prefix) => synonym_node(db, prefix.as_bytes(), usize::MAX, weigh)?,
            Query::Partial { prefix, term } => {
                let expansion = synonym_node(db, prefix.as_bytes(), MAX_PARTIAL_EXPANSION, weigh)?;
                match (expansion, term_node(db, term.as_bytes(), weigh)?) {
                    (Node::Empty, only) | (only, Node::Empty) => only,
                    (expansion, term) => Node::Or(vec![expansion, term], At::Start),
                }
            }
        })
    }

    /// Moves to the first matching document at or after `target`.
    pub fn skip_to(&mut self, target: u32) -> Result<Option<u32>, GlassError> {
        match self {
            Node::Empty => Ok(None),
            Node::Term { list, at, .. } => {
                *at = match list.skip_to(target)? {
                    Some((docid, _)) => At::Doc(docid),
                    None => At::End,
                };
                Ok(doc(*at))
            }
            Node::Synonym { lists, at, .. } => {
                let mut lowest = None;
                for list in lists.iter_mut() {
                    if let Some((docid, _)) = list.skip_to(target)? {
                        lowest = Some(lowest.map_or(docid, |low: u32| low.min(docid)));
                    }
                }
                *at = lowest.map_or(At::End, At::Doc);
                Ok(lowest)
            }
            Node::And(children) => {
                let mut target = target;
                'agree: loop {
                    for child in children.iter_mut() {
                        match child.skip_to(target)? {
                            None => return Ok(None),
                            Some(docid) if docid > target => {
                                target = docid;
                                continue 'agree;
                            }
                            Some(_) => {}
                        }
                    }
                    return Ok(Some(target));
                }
            }
            Node::Or(children, at) => {
                let mut lowest = None;
                for child in children.iter_mut() {
                    if let Some(docid) = child.skip_to(target)? {
                        lowest = Some(lowest.map_or(docid, |low: u32| low.min(docid)));
                    }
                }
                *at = lowest.map_or(At::End, At::Doc);
                Ok(lowest)
            }
            Node::AndNot(left, right) => {
                let mut target = target;
                loop {
                    let Some(docid) = left.skip_to(target)? else {
                        return Ok(None);
                    };
                    if right.skip_to(docid)? != Some(docid) {
                        return Ok(Some(docid));
                    }
                    target = docid
                        .checked_add(1)
                        .ok_or(GlassError::corrupt("docid overflow"))?;
                }
            }
            Node::AndMaybe(left, right) => {
                let found = left.skip_to(target)?;
                if let Some(docid) = found {
                    right.skip_to(docid)?;
                }
                Ok(found)
            }
            Node::Phrase { db, terms, all } => {
                let mut target = target;
                loop {
                    let Some(docid) = all.skip_to(target)? else {
                        return Ok(None);
                    };
                    if !db.has_positions() || adjacent(db, terms, docid)? {
                        return Ok(Some(docid));
                    }
                    target = docid
                        .checked_add(1)
                        .ok_or(GlassError::corrupt("docid overflow"))?;
                }
            }
        }
    }

    /// The weight of `docid`, where every node stands after `skip_to` returned it, for a
    /// document of `normalised_length`.
    pub fn weight(&self, weighting: &Weighting, docid: u32, length: Length) -> f64 {
        let part = |term_weight: f64, wdf: u32| {
            let Weighting { k1, b, .. } = *weighting;
            let wdf = f64::from(wdf);
            term_weight * wdf / (k1 * (length.normalised * b + (1.0 - b)) + wdf)
        };
        match self {
            Node::Empty => 0.0,
            Node::Term {
                list, term_weight, ..
            } => match list.current() {
                Some((at, wdf)) if at == docid => part(*term_weight, wdf),
                _ => 0.0,
            },
            Node::Synonym {
                lists, term_weight, ..
            } => {
                let wdf = lists
                    .iter()
                    .filter_map(PostingList::current)
                    .filter(|&(at, _)| at == docid)
                    .map(|(_, wdf)| wdf)
                    .fold(0u32, u32::saturating_add);
                // Xapian caps a synonym's frequency at the document's length.
                if wdf == 0 {
                    0.0
                } else {
                    part(*term_weight, wdf.min(length.raw))
                }
            }
            Node::And(children) => children
                .iter()
                .map(|child| child.weight(weighting, docid, length))
                .sum(),
            Node::Or(children, _) => children
                .iter()
                .filter(|child| child.is_at(docid))
                .map(|child| child.weight(weighting, docid, length))
                .sum(),
            Node::AndNot(left, _) => left.weight(weighting, docid, length),
            Node::AndMaybe(left, right) => {
                let extra = if right.is_at(docid) {
                    right.weight(weighting, docid, length)
                } else {
                    0.0
                };
                left.weight(weighting, docid, length) + extra
            }
            Node::Phrase { all, .. } => all.weight(weighting, docid, length),
        }
    }

    /// Whether this node's last match is `docid`.
    fn is_at(&self, docid: u32) -> bool {
        match self {
            Node::Empty => false,
            Node::Term { at, .. } | Node::Synonym { at, .. } | Node::Or(_, at) => {
                *at == At::Doc(docid)
            }
            Node::And(children) => children.iter().all(|child| child.is_at(docid)),
            Node::AndNot(left, _) | Node::AndMaybe(left, _) => left.is_at(docid),
            Node::Phrase { all, .. } => all.is_at(docid),
        }
    }
}

fn doc(at: At) -> Option<u32> {
    match at {
        At::Doc(docid) => Some(docid),
        At::Start | At::End => None,
    }
}

fn term_node<'a>(
    db: &Database<'a>,
    term: &[u8],
    weigh: TermWeigher<'_>,
) -> Result<Node<'a>, GlassError> {
    Ok(match db.postings(term)? {
        Some(list) => {
            let term_weight = weigh(f64::from(list.counts().doc_freq));
            Node::Term {
                list,
                term_weight,
                at: At::Start,
            }
        }
        None => Node::Empty,
    })
}

/// Every term starting with `prefix` as one synonym, keeping the `limit` most frequent.
fn synonym_node<'a>(
    db: &Database<'a>,
    prefix: &[u8],
    limit: usize,
    weigh: TermWeigher<'_>,
) -> Result<Node<'a>, GlassError> {
    let mut candidates: Vec<(Vec<u8>, u32)> = Vec::new();
    db.terms_with_prefix(prefix, |term, counts| {
        candidates.push((term.to_vec(), counts.doc_freq));
        true
    })?;
    select::keep_first(&mut candidates, limit, |a, b| a.1 > b.1);
    let mut lists = Vec::with_capacity(candidates.len());
    let mut doc_freqs = Vec::with_capacity(candidates.len());
    for (term, doc_freq) in candidates {
        if let Some(list) = db.postings(&term)? {
            lists.push(list);
            doc_freqs.push(f64::from(doc_freq));
        }
    }
    if lists.is_empty() {
        return Ok(Node::Empty);
    }
    let doc_count = f64::from(db.stats().doc_count.max(1));
    let term_weight = weigh(union_estimate(doc_freqs, doc_count));
    Ok(Node::Synonym {
        lists,
        term_weight,
        at: At::Start,
    })
}

/// How many documents hold any of the terms, estimated as Xapian estimates it: the two smallest
/// counts are merged as if independent (`a + b − ab/N`, rounded), again and again.
fn union_estimate(mut counts: Vec<f64>, doc_count: f64) -> f64 {
    while counts.len() > 1 {
        counts.sort_by(|a, b| b.total_cmp(a));
        let (a, b) = (counts.pop().unwrap_or(0.0), counts.pop().unwrap_or(0.0));
        counts.push((a + b - a * b / doc_count + 0.5).floor());
    }
    counts.first().copied().unwrap_or(0.0)
}

/// Whether `terms` occur one after another in `docid`.
fn adjacent(db: &Database<'_>, terms: &[Vec<u8>], docid: u32) -> Result<bool, GlassError> {
    let mut lists = Vec::with_capacity(terms.len());
    for term in terms {
        match db.positions(term, docid)? {
            Some(positions) => lists.push(positions),
            None => return Ok(false),
        }
    }
    Ok(lists[0].iter().any(|&start| {
        lists.iter().enumerate().skip(1).all(|(offset, positions)| {
            start
                .checked_add(offset as u32)
                .is_some_and(|wanted| positions.binary_search(&wanted).is_ok())
        })
    }))
}

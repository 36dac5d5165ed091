//! The orders `zim_links` lists neighbours in: the entries a page links to most (`related`), and
//! the articles that link to an entry (`inbound`), best first.

use std::collections::HashMap;

use super::graph::LinkGraph;
use super::{Kind, Link, Target};
use crate::archive::Entry;

/// How `related` ranks, as its answers say.
pub const RELATED_RANKING: &str = "entries this page links to, each once, by mention_count \
    (links in the page), doubled when the entry links back (links_back; known once the link \
    graph is built); ties by first mention";

/// How `inbound` ranks, as its answers say.
pub const INBOUND_RANKING: &str = "articles linking here, by their own inbound_degree (how \
    many articles link to them: well-linked pages first); ties in path order";

/// An entry a page links to.
#[derive(Debug, Clone)]
pub struct Neighbour {
    /// The entry (redirects followed).
    pub entry: Entry,
    /// How many links of the page lead to it.
    pub mentions: usize,
    /// Where its first link stands among the page's links.
    pub first: usize,
    /// The text of its first link that has one.
    pub text: String,
    /// Whether it links back to the page; `None` while the link graph is not ready.
    pub links_back: Option<bool>,
}

/// The entries the internal links of page `page` lead to, each once, best first; the page
/// itself is left out. With a graph, those that link back rank higher.
pub fn related(links: &[Link], page: u32, graph: Option<&LinkGraph>) -> Vec<Neighbour> {
    let mut neighbours: Vec<Neighbour> = Vec::new();
    let mut known: HashMap<u32, usize> = HashMap::new();
    for (position, link) in links.iter().enumerate() {
        let (Kind::Internal, Target::Entry { entry, .. }) = (link.kind, &link.target) else {
            continue;
        };
        if entry.index == page {
            continue;
        }
        match known.get(&entry.index) {
            Some(&at) => {
                let neighbour = &mut neighbours[at];
                neighbour.mentions += 1;
                if neighbour.text.is_empty() {
                    neighbour.text.clone_from(&link.raw.text);
                }
            }
            None => {
                known.insert(entry.index, neighbours.len());
                neighbours.push(Neighbour {
                    entry: entry.clone(),
                    mentions: 1,
                    first: position,
                    text: link.raw.text.clone(),
                    links_back: None,
                });
            }
        }
    }
    if let Some(graph) = graph {
        let linking_here = graph.inbound(page);
        for neighbour in &mut neighbours {
            neighbour.links_back = Some(linking_here.contains(neighbour.entry.index));
        }
    }
    let score = |n: &Neighbour| n.mentions * if n.links_back == Some(true) { 2 } else { 1 };
    neighbours.sort_by(|a, b| score(b).cmp(&score(a)).then(a.first.cmp(&b.first)));
    neighbours
}

/// The articles linking to `target` with their own inbound degree, best first.
pub fn inbound(graph: &LinkGraph, target: u32) -> Vec<(u32, usize)> {
    let mut sources: Vec<(u32, usize)> = graph
        .inbound(target)
        .iter()
        .map(|source| (source, graph.inbound_degree(source)))
        .collect();
    // Entry indexes follow path order, so ties fall in path order.
    sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    sources
}

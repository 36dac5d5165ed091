//! Title search: entries whose title starts with what the user typed, ignoring case and accents.
//!
//! The folded title index (see `crate::ownindex::titles`) answers once it is built: titles of
//! articles and redirects, lower case, accents removed. Until then (a large archive's index is
//! built in the background) titles are found by binary search over the archive's own title
//! listing, ordered by the exact bytes of each title, once for each of the usual
//! capitalisations of the query (as typed, lower case, upper case, first letter capitalised):
//! accents are not folded, and in new archives, whose listing holds articles only, titles of
//! redirects are not found.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Archive, ArchiveError, Entry, EntryKind};
use crate::ownindex::titles::TitleIndex;

/// A title that matched, and the entry holding its content.
#[derive(Debug, Clone)]
pub struct TitleMatch {
    /// The entry that holds content (the target, when the title belongs to a redirect).
    pub entry: Entry,
    /// The title that matched.
    pub matched_title: String,
    /// The redirect's path, when the title that matched belongs to a redirect.
    pub redirect_from: Option<String>,
}

/// Lower case without accents, the form titles are compared in.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Up to `limit` content entries whose titles start with `query`, in title order; redirects are
/// resolved and each target appears once.
pub fn search(
    archive: &Archive,
    folded: Option<&TitleIndex>,
    query: &str,
    limit: usize,
) -> Result<Vec<TitleMatch>, ArchiveError> {
    let candidates = match folded {
        Some(index) => index.prefix(&fold(query), limit * 4),
        None => from_listing(archive, query, limit * 4)?,
    };

    // Each target's position in `matches`.
    let mut seen: HashMap<u32, usize> = HashMap::new();
    let mut matches: Vec<TitleMatch> = Vec::new();
    for index in candidates {
        // A damaged entry is left out rather than failing the whole search.
        let Ok(entry) = archive.entry(index) else {
            continue;
        };
        let Ok(resolved) = archive.resolve(entry.clone()) else {
            continue;
        };
        if resolved.entry.mime().is_none() {
            continue;
        }
        let redirect_from = (!resolved.via.is_empty()).then(|| entry.path.clone());
        // A target met first through a redirect and then through its own title is shown as
        // matched by its own title, where it was listed first.
        if let Some(&at) = seen.get(&resolved.entry.index) {
            if redirect_from.is_none() {
                matches[at].matched_title = entry.title;
                matches[at].redirect_from = None;
            }
            continue;
        }
        seen.insert(resolved.entry.index, matches.len());
        matches.push(TitleMatch {
            entry: resolved.entry,
            matched_title: entry.title,
            redirect_from,
        });
        if matches.len() == limit {
            break;
        }
    }
    Ok(matches)
}

/// The entries a title search looks at: articles in the title listing, or the article
/// namespace when the archive has no listing.
fn titled_entries(archive: &Archive) -> Result<Vec<u32>, ArchiveError> {
    let article_namespace = if archive.is_new_scheme() { 'C' } else { 'A' };
    let range = archive.namespace_range(article_namespace)?;
    match archive.title_order()? {
        Some(order) => Ok(order
            .into_iter()
            .filter(|index| range.contains(index))
            .collect()),
        None => Ok(range.collect()),
    }
}

/// The entries the folded title index holds: the titled entries (or, when the archive marks
/// none, its HTML entries) and, in new archives, the redirects among the content entries. The
/// article listing leaves redirects out, yet their titles (old names, other spellings) are
/// worth finding, as they are in old archives.
pub fn indexed_entries(archive: &Archive) -> Result<Vec<u32>, ArchiveError> {
    let mut entries = titled_entries(archive)?;
    // An archive that marks no entry as an article (`libkiwix/example.zim`, some zimit
    // archives) lists no titles: its HTML pages stand in for articles.
    if entries.is_empty() {
        let namespace = if archive.is_new_scheme() { 'C' } else { 'A' };
        for index in archive.namespace_range(namespace)? {
            let entry = archive.entry(index)?;
            if entry
                .mime()
                .is_some_and(|mime| mime.starts_with("text/html"))
            {
                entries.push(index);
            }
        }
    }
    if archive.is_new_scheme() {
        for index in archive.namespace_range('C')? {
            if let EntryKind::Redirect(_) = archive.entry(index)?.kind {
                entries.push(index);
            }
        }
        entries.sort_unstable();
        entries.dedup();
    }
    Ok(entries)
}

fn from_listing(archive: &Archive, query: &str, limit: usize) -> Result<Vec<u32>, ArchiveError> {
    let order = titled_entries(archive)?;
    let mut found: Vec<(String, u32)> = Vec::new();
    for variant in case_variants(query) {
        let start = lower_bound(archive, &order, &variant)?;
        for &index in order[start..].iter().take(limit) {
            let title = archive.entry(index)?.title;
            if !title.starts_with(&variant) {
                break;
            }
            found.push((title, index));
        }
    }
    found.sort();
    found.dedup_by_key(|(_, index)| *index);
    Ok(found
        .into_iter()
        .map(|(_, index)| index)
        .take(limit)
        .collect())
}

fn lower_bound(archive: &Archive, order: &[u32], prefix: &str) -> Result<usize, ArchiveError> {
    let (mut low, mut high) = (0, order.len());
    while low < high {
        let mid = low + (high - low) / 2;
        if archive.entry(order[mid])?.title.as_str() < prefix {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    Ok(low)
}

/// `query` as typed, in lower case, in upper case and with its first letter capitalised, each
/// once: the forms a title or path usually takes.
pub fn case_variants(query: &str) -> Vec<String> {
    let mut chars = query.chars();
    let capitalised = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    let mut variants = vec![
        query.to_owned(),
        query.to_lowercase(),
        query.to_uppercase(),
        capitalised,
    ];
    variants.sort();
    variants.dedup();
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_accents_in_any_script() {
        assert_eq!(fold("Élections à Düsseldorf"), "elections a dusseldorf");
        assert_eq!(fold("ЭСПЭРАНТА"), "эспэранта");
        assert_eq!(fold("Ἀθῆναι"), "αθηναι");
    }
}

//! The links of an article: where each one leads (an entry of the archive, a missing entry, a
//! web site, a place in the same page), read the way a browser reads them from the page's own
//! path, and the link graph that says which articles link to an entry.
//!
//! Everything here is blocking work on the archive: callers run it off the runtime's threads.

pub mod build;
pub mod extract;
pub mod graph;
pub mod rank;

use std::collections::HashMap;

use crate::archive::href::{self, Href};
use crate::archive::{Archive, Entry, EntryKind};
use extract::{Element, RawLink};

/// What kind of link it is, as `zim_links` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// To another entry of the archive (or one it lacks).
    Internal,
    /// To a web site, mail address or other place outside the archive.
    External,
    /// An image, sound or video the page shows, or a link to an entry that is one.
    Media,
    /// To a place in the same page (`#History`): counted, not listed.
    Anchor,
}

impl Kind {
    /// Its name in answers.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::External => "external",
            Kind::Media => "media",
            Kind::Anchor => "anchor",
        }
    }
}

/// Where a link leads.
#[derive(Debug, Clone)]
pub enum Target {
    /// An entry of the archive: the one holding content, redirect entries followed.
    Entry {
        /// That entry.
        entry: Entry,
        /// The redirect entry the link names, when it names one.
        redirect_from: Option<String>,
    },
    /// An archive path no entry has (or a redirect that loops).
    Missing,
    /// Outside the archive, on this host when the URL names one.
    Outside(Option<String>),
    /// Data carried in the URL itself (`data:`).
    Inline,
    /// A place in the same page.
    SamePage,
}

/// One link of a page, classified and looked up.
#[derive(Debug, Clone)]
pub struct Link {
    /// Its kind.
    pub kind: Kind,
    /// Where it leads.
    pub target: Target,
    /// The `#fragment` of an internal link.
    pub fragment: Option<String>,
    /// The link as written, with its text.
    pub raw: RawLink,
}

/// Every link of the page `page` whose HTML is `html`, in document order; `javascript:` links,
/// which lead nowhere, are left out.
pub fn outbound(archive: &Archive, page: &Entry, html: &str) -> Vec<Link> {
    extract::links(html, true)
        .into_iter()
        .filter_map(|raw| {
            let (kind, target, fragment) = classify(archive, &page.path, &raw)?;
            Some(Link {
                kind,
                target,
                fragment,
                raw,
            })
        })
        .collect()
}

/// The text of the first link of `page` to the entry `target` (redirects followed), if any.
pub fn anchor_text_to(archive: &Archive, page: &Entry, html: &str, target: u32) -> Option<String> {
    let mut lookups = Lookups::default();
    extract::links(html, true)
        .into_iter()
        .filter(|raw| raw.element == Element::Anchor)
        .find(|raw| match href::classify(&page.path, &raw.url) {
            Href::Internal { path, .. } => lookups.index_of(archive, &path) == Some(target),
            _ => false,
        })
        .map(|raw| raw.text)
}

/// The entries the anchors of the page at `page_path` lead to (redirects followed), each once,
/// in no particular order; the page itself is left out.
pub fn linked_entries(
    archive: &Archive,
    page: u32,
    page_path: &str,
    html: &str,
    lookups: &mut Lookups,
) -> Vec<u32> {
    let mut targets: Vec<u32> = extract::links(html, false)
        .into_iter()
        .filter(|raw| raw.element == Element::Anchor)
        .filter_map(|raw| match href::classify(page_path, &raw.url) {
            Href::Internal { path, .. } => lookups.index_of(archive, &path),
            _ => None,
        })
        .filter(|&target| target != page)
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

fn classify(
    archive: &Archive,
    page_path: &str,
    raw: &RawLink,
) -> Option<(Kind, Target, Option<String>)> {
    let url = raw.url.trim();
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    if scheme.is_some_and(|scheme| scheme.eq_ignore_ascii_case("javascript")) {
        return None;
    }
    let media = raw.element != Element::Anchor;
    if media && scheme.is_some_and(|scheme| scheme.eq_ignore_ascii_case("data")) {
        return Some((Kind::Media, Target::Inline, None));
    }
    Some(match href::classify(page_path, url) {
        Href::External { domain, .. } => {
            let kind = if media { Kind::Media } else { Kind::External };
            (
                kind,
                Target::Outside(domain.or_else(|| mail_domain(url))),
                None,
            )
        }
        Href::Anchor(_) => (Kind::Anchor, Target::SamePage, None),
        Href::Internal { path, fragment } => {
            let target = target(archive, &path);
            let shows_media = matches!(&target, Target::Entry { entry, .. }
                if entry.mime().is_some_and(is_media_type));
            let kind = if media || shows_media {
                Kind::Media
            } else {
                Kind::Internal
            };
            (kind, target, fragment)
        }
    })
}

/// The domain of a `mailto:` address, lower-cased.
fn mail_domain(url: &str) -> Option<String> {
    let (scheme, address) = url.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("mailto") {
        return None;
    }
    let domain = address.split(['?', ',']).next()?.rsplit_once('@')?.1;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Whether a MIME type is an image, a sound or a video.
fn is_media_type(mime: &str) -> bool {
    ["image/", "audio/", "video/"]
        .iter()
        .any(|prefix| mime.starts_with(prefix))
}

/// Paths looked up so far. Pages link to the same few entries again and again (their
/// neighbours, their categories, the main page), so a build keeps one of these for many pages.
#[derive(Default)]
pub struct Lookups {
    known: HashMap<String, Option<u32>>,
}

/// Paths a [`Lookups`] remembers before it starts afresh: a few tens of megabytes.
const REMEMBERED_PATHS: usize = 200_000;

impl Lookups {
    /// The index of the entry `path` leads to (redirect entries followed), if there is one.
    pub fn index_of(&mut self, archive: &Archive, path: &str) -> Option<u32> {
        if let Some(known) = self.known.get(path) {
            return *known;
        }
        let index = archive
            .find(path)
            .ok()
            .flatten()
            .and_then(|entry| archive.resolve(entry).ok())
            .filter(|resolved| !matches!(resolved.entry.kind, EntryKind::Empty))
            .map(|resolved| resolved.entry.index);
        if self.known.len() >= REMEMBERED_PATHS {
            self.known.clear();
        }
        self.known.insert(path.to_owned(), index);
        index
    }
}

/// Where the archive path `path` leads. Redirect entries are followed; a page that redirects
/// with a meta refresh is shown as itself, since telling would mean reading every page linked.
fn target(archive: &Archive, path: &str) -> Target {
    let found = archive.find(path).ok().flatten();
    let Some(named) = found else {
        return Target::Missing;
    };
    let named_path = named.path.clone();
    match archive.resolve(named) {
        Ok(resolved) if !matches!(resolved.entry.kind, EntryKind::Empty) => Target::Entry {
            redirect_from: (!resolved.via.is_empty()).then_some(named_path),
            entry: resolved.entry,
        },
        _ => Target::Missing,
    }
}

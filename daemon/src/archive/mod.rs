//! One open ZIM archive, behind a narrow, owned API.
//!
//! This module is the only place that touches the `zim` crate. It gives both namespace schemes
//! one path space (`A/Foo` in old archives, `Foo` in new ones, where `C/Foo` also works), follows
//! redirects with a hop limit, hands out owned bytes, and keeps recently decompressed clusters
//! (see [`clusters`]). Everything here is blocking work on memory-mapped files: callers run it in
//! `spawn_blocking`, never on the runtime's threads.
//!
//! The crate maps archive files into memory, so an archive truncated in place while open can
//! fault the process; archives must be replaced by rename.

pub mod clusters;
pub mod href;
mod meta_refresh;
mod open_checks;
pub mod titles;

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use zim::{MimeType, Namespace, Target, Zim};

use clusters::ClusterCache;

/// How many redirects `zim_get` follows before it gives up, as openzim-mcp did.
pub const MAX_REDIRECT_HOPS: usize = 10;

/// Why an archive or an entry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The `zim` crate refused the bytes.
    #[error("{0}")]
    Zim(#[from] zim::Error),
    /// The archive failed one of the checks made when it is opened.
    #[error("{0}")]
    Corrupt(String),
    /// A chain of redirects comes back to itself.
    #[error("redirect loop: {}", .0.join(" -> "))]
    RedirectLoop(Vec<String>),
    /// A chain of redirects is longer than [`MAX_REDIRECT_HOPS`].
    #[error("more than {MAX_REDIRECT_HOPS} redirects: {}", .0.join(" -> "))]
    TooManyRedirects(Vec<String>),
}

/// What an entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// Content stored in a cluster.
    Item {
        /// Its MIME type.
        mime: String,
        /// The cluster holding it.
        cluster: u32,
        /// Its blob within the cluster.
        blob: u32,
    },
    /// A redirect to the entry with this index.
    Redirect(u32),
    /// A deprecated link target or deleted entry, which holds nothing.
    Empty,
}

/// One directory entry, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its index in path order.
    pub index: u32,
    /// Its namespace letter.
    pub namespace: char,
    /// Its path as users name it.
    pub path: String,
    /// Its title (the stored path when the archive gives none).
    pub title: String,
    /// What it holds.
    pub kind: EntryKind,
}

impl Entry {
    /// The MIME type, or `None` for redirects and empty entries.
    pub fn mime(&self) -> Option<&str> {
        match &self.kind {
            EntryKind::Item { mime, .. } => Some(mime),
            _ => None,
        }
    }
}

/// An entry reached by following redirects, and the paths that led to it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The entry that holds content.
    pub entry: Entry,
    /// The redirects followed on the way, first to last; empty when there were none.
    pub via: Vec<String>,
}

/// An open archive.
pub struct Archive {
    zim: Zim,
    new_scheme: bool,
    clusters: Arc<ClusterCache>,
    cache_key: u64,
}

impl Archive {
    /// Opens the archive at `path` (for a split set, `foo.zim` or `foo.zimaa`) and checks that
    /// its structures can be read, so a broken file is refused here with the reason.
    pub fn open(path: &Path, clusters: Arc<ClusterCache>) -> Result<Archive, ArchiveError> {
        let zim = Zim::new(path)?;
        // The minor version alone says which scheme is used, as in libzim: a 5.1 archive uses the
        // new scheme and a 6.0 one the old.
        let new_scheme = zim.header.version_minor >= 1;
        let archive = Archive {
            zim,
            new_scheme,
            cache_key: clusters.new_archive_key(),
            clusters,
        };
        open_checks::check(&archive)?;
        Ok(archive)
    }

    /// The file the archive was opened from.
    pub fn path(&self) -> &Path {
        &self.zim.file_path
    }

    /// The key this archive's entries have in the shared caches; no other open archive has it.
    pub fn cache_key(&self) -> u64 {
        self.cache_key
    }

    /// Whether the archive uses the new namespace scheme (minor version 1 and later).
    pub fn is_new_scheme(&self) -> bool {
        self.new_scheme
    }

    /// The header's format version, as `major.minor`.
    pub fn version(&self) -> String {
        format!(
            "{}.{}",
            self.zim.header.version_major, self.zim.header.version_minor
        )
    }

    /// The archive's UUID in its usual hyphenated form.
    pub fn uuid(&self) -> String {
        self.zim.header.uuid.to_string()
    }

    /// The MD5 the header points at, in hex: with the UUID and size it tells archives apart.
    pub fn stored_checksum_hex(&self) -> String {
        self.zim
            .checksum
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The archive's size in bytes (all parts of a split set), as its header implies.
    pub fn file_size(&self) -> u64 {
        self.zim.header.checksum_pos + 16
    }

    /// Entries of every namespace, as libzim's `all_entry_count`.
    pub fn all_entry_count(&self) -> u32 {
        self.zim.header.article_count
    }

    /// User entries, as libzim's `entry_count`: the `C` namespace in new archives, everything in
    /// old ones.
    pub fn entry_count(&self) -> Result<u32, ArchiveError> {
        if self.new_scheme {
            Ok(range_len(&self.namespace_range('C')?))
        } else {
            Ok(self.all_entry_count())
        }
    }

    /// Front articles, as libzim's `article_count`: the article listing where there is one,
    /// otherwise the `text/html` entries the `Counter` metadata reports.
    pub fn article_count(&self) -> Result<u32, ArchiveError> {
        if let Some(listing) = self.zim.article_list_by_title()? {
            return Ok(u32::try_from(listing.len()?).unwrap_or(u32::MAX));
        }
        let counter = self.metadata_text("Counter")?.unwrap_or_default();
        Ok(counter
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(mime, _)| mime.starts_with("text/html"))
            .filter_map(|(_, count)| count.trim().parse::<u32>().ok())
            .sum())
    }

    /// Whether the archive carries a Xapian full-text index.
    pub fn has_fulltext_index(&self) -> Result<bool, ArchiveError> {
        Ok(self
            .zim
            .find_by_path(Namespace::FulltextIndex, "fulltext/xapian")?
            .is_some())
    }

    /// Whether the archive carries a Xapian title index (old archives use the full-text one).
    pub fn has_title_index(&self) -> Result<bool, ArchiveError> {
        Ok(self
            .zim
            .find_by_path(Namespace::FulltextIndex, "title/xapian")?
            .is_some()
            || self.has_fulltext_index()?)
    }

    /// Calls `read` with the bytes of an embedded Xapian index (`fulltext` or `title`), borrowed
    /// from the archive's mapping, or answers `None` when the archive has no such index.
    pub fn with_xapian_index<T>(
        &self,
        kind: &str,
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, ArchiveError> {
        match self
            .zim
            .get_by_path(Namespace::FulltextIndex, &format!("{kind}/xapian"))?
        {
            Some(entry) => match self.zim.entry_content(&entry)? {
                Some(content) => Ok(Some(content.with(read)?)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Checks the MD5 checksum over the whole archive; slow on large files.
    pub fn verify_checksum(&self) -> Result<(), ArchiveError> {
        Ok(self.zim.verify_checksum()?)
    }

    /// The entry at `index` in path order.
    pub fn entry(&self, index: u32) -> Result<Entry, ArchiveError> {
        let raw = self.zim.get_by_url_index(index)?;
        let namespace = char::from(raw.namespace.as_byte());
        let path = if self.new_scheme && namespace == 'C' {
            raw.url.clone()
        } else {
            format!("{namespace}/{}", raw.url)
        };
        let kind = match (raw.mime_type, raw.target) {
            (MimeType::Redirect, Some(Target::Redirect(target))) => EntryKind::Redirect(target),
            (MimeType::Type(mime), Some(Target::Cluster(cluster, blob))) => EntryKind::Item {
                mime,
                cluster,
                blob,
            },
            _ => EntryKind::Empty,
        };
        let title = if raw.title.is_empty() {
            raw.url
        } else {
            raw.title
        };
        Ok(Entry {
            index,
            namespace,
            path,
            title,
            kind,
        })
    }

    /// Finds an entry by the path a user gives, trying the forms both schemes allow, then the
    /// forms of links copied from article Markdown: percent-decoded, without leading `./` and
    /// `../`, without a `#section`. The path as given is always tried first, since `#` and `%`
    /// also occur in real paths.
    pub fn find(&self, user_path: &str) -> Result<Option<Entry>, ArchiveError> {
        for (namespace, path) in self.path_candidates(user_path) {
            if let Some(index) = self.zim.find_by_path(Namespace::from(namespace), &path)? {
                return self.entry(index).map(Some);
            }
        }
        Ok(None)
    }

    fn path_candidates(&self, user_path: &str) -> Vec<(u8, String)> {
        let forms = link_forms(user_path);
        let mut candidates = Vec::new();
        for form in forms {
            let split = form
                .split_once('/')
                .filter(|(ns, rest)| ns.len() == 1 && ns.is_ascii() && !rest.is_empty());
            if self.new_scheme {
                candidates.push((b'C', form.clone()));
            }
            if let Some((ns, rest)) = split {
                candidates.push((ns.as_bytes()[0], rest.to_owned()));
            } else if !self.new_scheme {
                candidates.push((b'A', form.clone()));
            }
        }
        candidates
    }

    /// Follows redirects from `entry` to the entry that holds content.
    pub fn resolve(&self, entry: Entry) -> Result<Resolved, ArchiveError> {
        let mut seen = HashSet::from([entry.index]);
        let mut via = Vec::new();
        let mut current = entry;
        while let EntryKind::Redirect(target) = current.kind {
            via.push(current.path.clone());
            let next = self.entry(target)?;
            if !seen.insert(next.index) {
                via.push(next.path);
                return Err(ArchiveError::RedirectLoop(via));
            }
            if via.len() > MAX_REDIRECT_HOPS {
                return Err(ArchiveError::TooManyRedirects(via));
            }
            current = next;
        }
        Ok(Resolved {
            entry: current,
            via,
        })
    }

    /// Follows redirect entries and pages that redirect with a meta refresh (whose targets are
    /// read relative to the page) to the entry that holds content; loops and chains longer than
    /// [`MAX_REDIRECT_HOPS`] are errors naming every hop.
    pub fn resolve_pages(&self, entry: Entry) -> Result<Resolved, ArchiveError> {
        let mut seen = HashSet::from([entry.index]);
        let mut resolved = self.resolve(entry)?;
        seen.insert(resolved.entry.index);
        while let Some(target) = self.refresh_target(&resolved.entry)? {
            resolved.via.push(resolved.entry.path.clone());
            let Some(next) = self.find(&target)? else {
                // A refresh to nowhere: the page itself is what there is to read.
                resolved.via.pop();
                break;
            };
            let next = self.resolve(next)?;
            let mut via = std::mem::take(&mut resolved.via);
            via.extend(next.via);
            if !seen.insert(next.entry.index) {
                via.push(next.entry.path);
                return Err(ArchiveError::RedirectLoop(via));
            }
            if via.len() > MAX_REDIRECT_HOPS {
                return Err(ArchiveError::TooManyRedirects(via));
            }
            resolved = Resolved {
                entry: next.entry,
                via,
            };
        }
        Ok(resolved)
    }

    /// Where an HTML page sends its reader with a meta refresh, as an archive path.
    fn refresh_target(&self, entry: &Entry) -> Result<Option<String>, ArchiveError> {
        if !entry
            .mime()
            .is_some_and(|mime| mime.starts_with("text/html"))
        {
            return Ok(None);
        }
        let Some(bytes) = self.content(entry)? else {
            return Ok(None);
        };
        let Some(url) = meta_refresh::target(&bytes) else {
            return Ok(None);
        };
        Ok(match href::classify(&entry.path, &url) {
            href::Href::Internal { path, .. } => Some(path),
            _ => None,
        })
    }

    /// The main page, as stored: `W/mainPage` in new archives (a redirect), else the header's.
    pub fn main_entry(&self) -> Result<Option<Entry>, ArchiveError> {
        if let Some(index) = self
            .zim
            .find_by_path(Namespace::CategoriesArticle, "mainPage")?
        {
            return self.entry(index).map(Some);
        }
        match self.zim.header.main_page {
            Some(index) if index < self.all_entry_count() => self.entry(index).map(Some),
            _ => Ok(None),
        }
    }

    /// The bytes of an item, or `None` for a redirect or an empty entry.
    pub fn content(&self, entry: &Entry) -> Result<Option<Arc<[u8]>>, ArchiveError> {
        let EntryKind::Item { cluster, blob, .. } = entry.kind else {
            return Ok(None);
        };
        self.clusters
            .blob(&self.zim, self.cache_key, cluster, blob)
            .map(Some)
    }

    /// Hands `read` the blobs of one cluster, decompressed once and outside the shared cache:
    /// an index build reads every cluster once, in order, and would only evict what searches
    /// keep there.
    pub fn read_cluster<T>(
        &self,
        cluster: u32,
        read: impl for<'g> FnOnce(&'g dyn Fn(u32) -> Result<&'g [u8], ArchiveError>) -> T,
    ) -> Result<T, ArchiveError> {
        let handle = self.zim.get_cluster(cluster)?;
        let guard = handle.read()?;
        let blob = |index: u32| guard.blob(index).map_err(ArchiveError::from);
        Ok(read(&blob))
    }

    /// A metadata value as text, if present and valid UTF-8.
    pub fn metadata_text(&self, name: &str) -> Result<Option<String>, ArchiveError> {
        let Some(index) = self.zim.find_by_path(Namespace::Metadata, name)? else {
            return Ok(None);
        };
        let bytes = self.content(&self.entry(index)?)?;
        Ok(bytes.and_then(|bytes| String::from_utf8(bytes.to_vec()).ok()))
    }

    /// Every metadata entry, in path order.
    pub fn metadata_entries(&self) -> Result<Vec<Entry>, ArchiveError> {
        self.namespace_range('M')?
            .map(|index| self.entry(index))
            .collect()
    }

    /// The indices of the entries in namespace `letter`, in path order.
    pub fn namespace_range(&self, letter: char) -> Result<Range<u32>, ArchiveError> {
        let Ok(byte) = u8::try_from(letter) else {
            return Ok(0..0);
        };
        Ok(self.zim.namespace_range(Namespace::from(byte))?)
    }

    /// Every namespace present, with its number of entries.
    pub fn namespaces(&self) -> Result<Vec<(char, u32)>, ArchiveError> {
        let mut found = Vec::new();
        let mut index = 0;
        while index < self.all_entry_count() {
            let letter = self.entry(index)?.namespace;
            let range = self.namespace_range(letter)?;
            if range.end <= index {
                return Err(ArchiveError::Corrupt(
                    "the entry table is not sorted by path".into(),
                ));
            }
            found.push((letter, range_len(&range)));
            index = range.end;
        }
        Ok(found)
    }

    /// Entry indices in title order: the article listing where there is one, else the full
    /// title listing, else `None`.
    pub fn title_order(&self) -> Result<Option<Vec<u32>>, ArchiveError> {
        if let Some(listing) = self.zim.article_list_by_title()? {
            return Ok(Some(listing.to_vec()?));
        }
        match self.zim.entry_list_by_title()? {
            Some(listing) => Ok(Some(listing.to_vec()?)),
            None => Ok(None),
        }
    }

    pub(crate) fn zim(&self) -> &Zim {
        &self.zim
    }
}

/// The path as given, then its percent-decoded form, then each without leading `./` or `../`
/// and without a `#section`.
fn link_forms(user_path: &str) -> Vec<String> {
    let mut forms = vec![user_path.to_owned()];
    if let Some(destination) = markdown_destination(user_path) {
        forms.push(destination);
    }
    if user_path.contains('%')
        && let Some(decoded) = percent_decode(user_path)
    {
        forms.push(decoded);
    }
    for index in 0..forms.len() {
        let mut link = forms[index].as_str();
        while let Some(rest) = link.strip_prefix("./").or_else(|| link.strip_prefix("../")) {
            link = rest;
        }
        let link = link.split_once('#').map_or(link, |(path, _)| path);
        if !link.is_empty() && link != forms[index] {
            forms.push(link.to_owned());
        }
    }
    forms
}

/// A link destination as Markdown writes it (`<Sp ace.html>`, `Ang\<le\>.html`) without its
/// brackets and escapes, so a path copied out of an article's Markdown reaches its entry.
fn markdown_destination(path: &str) -> Option<String> {
    let inner = path
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(path);
    let mut unescaped = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(next) if c == '\\' && next.is_ascii_punctuation() => {}
            _ => unescaped.push(c),
        }
    }
    (unescaped != path).then_some(unescaped)
}

fn range_len(range: &Range<u32>) -> u32 {
    range.end.saturating_sub(range.start)
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape is malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn link_forms_are_tried_after_the_path_as_given() {
        let forms = super::link_forms("../A/Moon#Orbit");
        assert_eq!(forms, ["../A/Moon#Orbit", "A/Moon"]);
        assert_eq!(
            super::link_forms("c%23.html"),
            ["c%23.html", "c#.html", "c"]
        );
        assert_eq!(
            super::link_forms("<Sp ace.html>"),
            ["<Sp ace.html>", "Sp ace.html"]
        );
        assert_eq!(
            super::link_forms(r"<Ang\<le\>_(x.html>"),
            [r"<Ang\<le\>_(x.html>", "Ang<le>_(x.html"]
        );
    }

    #[test]
    fn percent_decoding_handles_utf8_and_rejects_garbage() {
        assert_eq!(percent_decode("c%23.html").as_deref(), Some("c#.html"));
        assert_eq!(percent_decode("%D0%9A").as_deref(), Some("К"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
    }
}

//! Which entries of a content namespace `zim_browse` shows when assets are hidden: documents a
//! reader opens, and redirects to them.

use std::ops::Range;

use super::cursor::Resume;
use crate::archive::{Archive, Entry, EntryKind};

/// MIME types shown when assets are hidden: the kinds of entry a reader opens.
const DOCUMENT_TYPES: [&str; 6] = [
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/markdown",
    "application/pdf",
    "application/epub+zip",
];

/// The position after the first `skip` shown entries of `range`.
pub(super) fn skip_shown(archive: &Archive, range: &Range<u32>, skip: u32) -> Resume {
    let mut resume = Resume {
        next_id: range.start,
        shown: 0,
    };
    while resume.shown < skip && resume.next_id < range.end {
        let entry = archive.entry(resume.next_id);
        resume.next_id += 1;
        let Ok(entry) = entry else {
            resume.shown += 1;
            continue;
        };
        let target = match &entry.kind {
            EntryKind::Redirect(target) => archive.entry(*target).ok(),
            _ => None,
        };
        if is_document(&entry, target.as_ref()) {
            resume.shown += 1;
        }
    }
    resume
}

/// Whether an entry is a document a reader opens: an item of a document type, or a redirect
/// to one (a redirect to a redirect is kept: following the chain here would cost a read per hop).
pub(super) fn is_document(entry: &Entry, target: Option<&Entry>) -> bool {
    let document = |mime: &str| DOCUMENT_TYPES.iter().any(|kind| mime.starts_with(kind));
    match (&entry.kind, target) {
        (EntryKind::Item { mime, .. }, _) => document(mime),
        (EntryKind::Redirect(_), Some(target)) => match &target.kind {
            EntryKind::Item { mime, .. } => document(mime),
            EntryKind::Redirect(_) => true,
            EntryKind::Empty => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_pages_and_redirects_to_them() {
        let item = |mime: &str| Entry {
            index: 0,
            namespace: 'C',
            path: "x".into(),
            title: "x".into(),
            kind: EntryKind::Item {
                mime: mime.into(),
                cluster: 0,
                blob: 0,
            },
        };
        let redirect = Entry {
            kind: EntryKind::Redirect(0),
            ..item("")
        };
        assert!(is_document(&item("text/html; charset=utf-8"), None));
        assert!(!is_document(&item("text/css"), None));
        assert!(!is_document(&item("image/png"), None));
        assert!(!is_document(&item("font/woff2"), None));
        assert!(is_document(&redirect, Some(&item("text/html"))));
        assert!(!is_document(&redirect, Some(&item("image/png"))));
    }
}

//! The reader against the indexes of real archives (`OZM_TEST_DATA`, default `../shared/zim`).

use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::archive::Archive;
use crate::archive::clusters::ClusterCache;

/// The test archives, or `None` (with a note) when they are absent.
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
pub(super) fn archive(relative: &str) -> Option<Archive> {
    let base = std::env::var_os("OZM_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/zim"));
    let path = base.join(relative);
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent; set OZM_TEST_DATA", path.display());
        return None;
    }
    Some(Archive::open(&path, Arc::new(ClusterCache::new(1 << 20))).expect("test archive opens"))
}

fn with_index<T>(relative: &str, kind: &str, read: impl FnOnce(Database<'_>) -> T) -> Option<T> {
    let archive = archive(relative)?;
    archive
        .with_xapian_index(kind, |bytes| {
            read(Database::open(bytes).expect("index opens"))
        })
        .expect("archive reads")
}

fn text(bytes: Option<Cow<'_, [u8]>>) -> String {
    String::from_utf8(bytes.expect("present").into_owned()).expect("UTF-8")
}

#[test]
fn reads_the_statistics_and_metadata_of_a_full_text_index() {
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let stats = db.stats();
        assert_eq!(
            (stats.doc_count, stats.last_docid, stats.total_length),
            (128, 128, 22287)
        );
        assert_eq!(text(db.metadata("language").unwrap()), "eng");
        assert_eq!(text(db.metadata("kind").unwrap()), "fulltext");
        assert!(text(db.metadata("valuesmap").unwrap()).starts_with("title:0;wordcount:1"));
        assert!(db.metadata("absent").unwrap().is_none());
        assert!(!db.has_positions());
    });
}

#[test]
fn walks_every_document_length() {
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let mut lengths = db.doc_lengths().unwrap();
        let (mut count, mut total, mut last) = (0, 0u64, 0);
        while let Some((docid, length)) = lengths.advance().unwrap() {
            assert!(docid > last);
            (count, total, last) = (count + 1, total + u64::from(length), docid);
        }
        assert_eq!((count, total, last), (128, 22287, 128));
    });
}

#[test]
fn reads_postings_values_and_document_data() {
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let mut piano = db.postings(b"piano").unwrap().expect("piano is indexed");
        assert_eq!(
            piano.counts(),
            TermCounts {
                doc_freq: 13,
                collection_freq: 15
            }
        );
        let mut docs = Vec::new();
        while let Some(posting) = piano.advance().unwrap() {
            docs.push(posting);
        }
        assert_eq!(docs.len(), 13);
        assert_eq!(docs[..3], [(3, 1), (34, 1), (36, 2)]);
        assert!(
            db.postings(b"blues").unwrap().is_none(),
            "only the stem is indexed"
        );
        assert_eq!(
            text(db.document_data(1).unwrap()),
            "A/Volcanic_Action_of_My_Soul"
        );
        assert_eq!(
            db.value(0, 1).unwrap().unwrap(),
            b"Volcanic Action of My Soul"
        );
        assert!(db.document_data(10_000).unwrap().is_none());
    });
}

#[test]
fn skips_to_documents_inside_posting_lists() {
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let mut the = db.postings(b"the").unwrap().unwrap();
        assert_eq!(the.skip_to(8).unwrap(), Some((8, 11)));
        assert_eq!(
            the.skip_to(8).unwrap(),
            Some((8, 11)),
            "skipping back stays put"
        );
        assert_eq!(the.advance().unwrap(), Some((9, 19)));
        assert_eq!(the.skip_to(129).unwrap(), None);
    });
}

#[test]
fn lists_terms_by_prefix_in_order() {
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let mut terms = Vec::new();
        db.terms_with_prefix(b"pi", |term, _| {
            terms.push(String::from_utf8(term.to_vec()).unwrap());
            terms.len() < 3
        })
        .unwrap();
        assert_eq!(terms, ["pianist", "piano", "pick"]);
    });
}

#[test]
fn reads_positions_of_a_title_index() {
    with_index("libkiwix/zimfile.zim", "title", |db| {
        assert!(db.has_positions());
        let mut ray = db.postings(b"ray").unwrap().unwrap();
        assert_eq!(ray.skip_to(125).unwrap(), Some((125, 1)));
        assert_eq!(
            db.value(0, 125).unwrap().unwrap(),
            b"Here We Go Again: Celebrating the Genius of Ray Charles"
        );
        assert_eq!(db.positions(b"ray", 125).unwrap(), Some(vec![9]));
    });
}

#[test]
fn a_search_told_to_stop_ranks_what_it_has_seen() {
    use crate::fulltext::matcher::{self, FULLTEXT_WEIGHTING};
    use crate::fulltext::query::Query;
    with_index("libkiwix/zimfile.zim", "fulltext", |db| {
        let piano = Query::Term("piano".into());
        let whole = matcher::best(&db, &piano, FULLTEXT_WEIGHTING, 5, &|| false, None).unwrap();
        assert_eq!(
            (whole.matched, whole.partial, whole.hits.len()),
            (13, false, 5)
        );
        let stopped = matcher::best(&db, &piano, FULLTEXT_WEIGHTING, 5, &|| true, None).unwrap();
        assert!(stopped.partial);
        assert!(stopped.matched < 13 && stopped.hits.is_empty());
    });
}

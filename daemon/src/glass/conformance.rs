//! The reader against Xapian itself. `tests/data/glass_facts.json` holds what python3-xapian
//! 1.4.22 read from the indexes embedded in the test archives (written by
//! `tests/oracle/glass_facts.py`); every fact is read again here and must come out the same.
//! Beyond the recorded facts, every posting list of every database is walked and checked
//! against its counts and the document lengths, which Xapian keeps consistent.
//!
//! The benchmark archive (`OZM_BENCH_DATA`, default `../shared/bench`) covers what the small
//! archives cannot: 20,001 documents, whose keys use every bit of the two-byte id form (below
//! 0x8000; the longer forms are pinned in `codec`), and posting lists of many chunks. Its
//! expected values were read with the same Xapian (python3-xapian 1.4.22) from the blobs
//! `tests/oracle/glass_facts.py` extracts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::tests::archive;
use super::*;

/// A walk longer than this is a loop, not a database.
const MAX_STEPS: usize = 1_000_000;

/// The facts file: what Xapian read from each database.
#[derive(Deserialize)]
struct Facts {
    databases: Vec<DatabaseFacts>,
}

#[derive(Deserialize)]
struct DatabaseFacts {
    archive: String,
    kind: String,
    blob_size: usize,
    blob_sha256: String,
    uuid: String,
    revision: u64,
    doccount: u32,
    lastdocid: u32,
    avlength: f64,
    total_length: u64,
    doclength_lower_bound: u32,
    doclength_upper_bound: u32,
    has_positions: bool,
    metadata: BTreeMap<String, String>,
    terms: BTreeMap<String, TermFacts>,
    term_count: usize,
    first_terms: Vec<String>,
    last_terms: Vec<String>,
    top_termfreq: Vec<(String, u32)>,
    prefix_counts: PrefixCounts,
    documents: Vec<DocumentFacts>,
    value_slots: BTreeMap<u32, SlotFacts>,
    positions: Vec<PositionFacts>,
}

/// One term; absent terms carry only zero counts.
#[derive(Deserialize)]
struct TermFacts {
    termfreq: u32,
    collection_freq: u64,
    exists: bool,
    #[serde(default)]
    wdf_upper_bound: u32,
    /// The first (document, wdf) pairs, up to `postlist_count`.
    #[serde(default)]
    postlist: Vec<(u32, u32)>,
    #[serde(default)]
    postlist_count: usize,
    #[serde(default)]
    postlist_truncated: bool,
}

#[derive(Deserialize)]
struct PrefixCounts {
    #[serde(rename = "Z")]
    z: usize,
    uppercase_ascii_start: usize,
}

/// One document; the termlist fields are absent where the writer left the termlist table out.
#[derive(Deserialize)]
struct DocumentFacts {
    docid: u32,
    data: String,
    doclength: u32,
    /// Non-empty values by slot, read from the value streams.
    values: BTreeMap<u32, String>,
    values_via_termlist: BTreeMap<u32, String>,
    termlist_count: Option<usize>,
    #[serde(default)]
    termlist_head: Vec<String>,
}

#[derive(Deserialize)]
struct SlotFacts {
    value_freq: u32,
    lower_bound: String,
    upper_bound: String,
}

#[derive(Deserialize)]
struct PositionFacts {
    term: String,
    docid: u32,
    /// Empty where Xapian holds no positions (stems are indexed without them).
    positions: Vec<u32>,
    wdf: u32,
}

fn facts() -> Facts {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/glass_facts.json");
    let text = std::fs::read_to_string(&path).expect("the facts file reads");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Runs `check` on every database of the facts file whose archive is present, with a label
/// naming the database for assertion messages.
fn each_database(check: impl Fn(&str, &DatabaseFacts, &[u8], Database<'_>)) {
    for facts in facts().databases {
        let Some(archive) = archive(&facts.archive) else {
            continue;
        };
        let label = format!("{} ({})", facts.archive, facts.kind);
        let checked = archive.with_xapian_index(&facts.kind, |bytes| {
            check(&label, &facts, bytes, ok(Database::open(bytes), &label));
        });
        assert!(
            checked.expect("the archive reads").is_some(),
            "{label}: no such index"
        );
    }
}

/// The value of a read that must succeed; the panic says what was being read.
pub(super) fn ok<T>(result: Result<T, GlassError>, at: &str) -> T {
    result.unwrap_or_else(|error| panic!("{at}: {error}"))
}

/// Every (document, frequency) pair left in a list; fails on a read error or an endless walk.
pub(super) fn walk(list: &mut PostingList<'_>, at: &str) -> Vec<(u32, u32)> {
    let mut postings = Vec::new();
    while let Some(posting) = ok(list.advance(), at) {
        postings.push(posting);
        assert!(postings.len() <= MAX_STEPS, "{at}: the walk does not end");
    }
    postings
}

/// Every term of a database with its counts, in key order.
fn vocabulary(db: &Database<'_>, label: &str) -> Vec<(String, TermCounts)> {
    let mut terms = Vec::new();
    let listed = db.terms_with_prefix(b"", |term, counts| {
        terms.push((String::from_utf8(term.to_vec()).expect("UTF-8"), counts));
        terms.len() <= MAX_STEPS
    });
    ok(listed, label);
    assert!(
        terms.len() <= MAX_STEPS,
        "{label}: the term walk does not end"
    );
    terms
}

pub(super) fn text(bytes: Option<Cow<'_, [u8]>>) -> Option<String> {
    bytes.map(|bytes| String::from_utf8(bytes.into_owned()).expect("UTF-8"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn statistics_and_metadata_match_xapian() {
    each_database(|label, facts, bytes, db| {
        // The archive must hold the very database the facts were read from.
        assert_eq!(bytes.len(), facts.blob_size, "{label}: index size");
        let digest = hex(&Sha256::digest(bytes));
        assert_eq!(
            digest, facts.blob_sha256,
            "{label}: not the index Xapian read"
        );

        // The reader skips the UUID and revision; they sit where it expects them.
        let mut header = &bytes[MAGIC.len() + 2..];
        let uuid = hex(ok(codec::take(&mut header, 16), label));
        let parts = [
            &uuid[..8],
            &uuid[8..12],
            &uuid[12..16],
            &uuid[16..20],
            &uuid[20..],
        ];
        assert_eq!(parts.join("-"), facts.uuid, "{label}: UUID");
        let revision = ok(codec::read_varint(&mut header), label);
        assert_eq!(revision, facts.revision, "{label}: revision");

        let stats = db.stats();
        let counts = (stats.doc_count, stats.last_docid, stats.total_length);
        let expected = (facts.doccount, facts.lastdocid, facts.total_length);
        assert_eq!(
            counts, expected,
            "{label}: documents, last id, total length"
        );
        let bounds = (stats.doclen_lower_bound, stats.doclen_upper_bound);
        let expected = (facts.doclength_lower_bound, facts.doclength_upper_bound);
        assert_eq!(bounds, expected, "{label}: document length bounds");
        let average = stats.average_length();
        assert!(
            (average - facts.avlength).abs() < 1e-9,
            "{label}: average {average}"
        );
        assert_eq!(
            db.has_positions(),
            facts.has_positions,
            "{label}: positions"
        );

        for (name, value) in &facts.metadata {
            let read = text(ok(db.metadata(name), label));
            assert_eq!(read.as_ref(), Some(value), "{label}: metadata {name}");
        }
        let absent = ok(db.metadata("zz_absent"), label);
        assert_eq!(absent, None, "{label}: absent metadata");
    });
}

#[test]
fn term_counts_and_posting_lists_match_xapian() {
    each_database(|label, facts, _, db| {
        for (term, expected) in &facts.terms {
            let at = format!("{label}: term {term:?}");
            let open = || ok(db.postings(term.as_bytes()), &at);
            let Some(mut list) = open() else {
                assert!(!expected.exists, "{at}: Xapian has it, the reader does not");
                let counts = (expected.termfreq, expected.collection_freq);
                assert_eq!(counts, (0, 0), "{at}");
                continue;
            };
            assert!(expected.exists, "{at}: the reader has it, Xapian does not");
            let counts = TermCounts {
                doc_freq: expected.termfreq,
                collection_freq: expected.collection_freq,
            };
            assert_eq!(list.counts(), counts, "{at}: counts");

            // The whole list, compared as far as Xapian recorded it.
            let postings = walk(&mut list, &at);
            assert_eq!(postings.len(), expected.postlist_count, "{at}: postings");
            let recorded = expected.postlist.len();
            assert_eq!(postings[..recorded], expected.postlist, "{at}: postings");
            let truncated = recorded < postings.len();
            assert_eq!(truncated, expected.postlist_truncated, "{at}: truncation");

            // Xapian bounds a term's wdf by its first wdf and the rest of its collection
            // frequency, then by the database's bound.
            let first_wdf = u64::from(postings[0].1);
            let bound = (counts.collection_freq - first_wdf).max(first_wdf);
            let bound = bound.min(u64::from(db.stats().wdf_upper_bound));
            assert_eq!(
                bound,
                u64::from(expected.wdf_upper_bound),
                "{at}: wdf bound"
            );

            // Skipping lands on each recorded document, in one pass and from a fresh list.
            let mut skipping = open().unwrap();
            for &(docid, wdf) in &expected.postlist {
                let skipped = ok(skipping.skip_to(docid), &at);
                assert_eq!(skipped, Some((docid, wdf)), "{at}: skip to {docid}");
            }
            for (index, &(docid, wdf)) in expected.postlist.iter().enumerate().step_by(7) {
                let mut fresh = open().unwrap();
                let skipped = ok(fresh.skip_to(docid), &at);
                assert_eq!(skipped, Some((docid, wdf)), "{at}: fresh skip to {docid}");
                let next = ok(fresh.skip_to(docid + 1), &at);
                let expected = postings.get(index + 1).copied();
                assert_eq!(next, expected, "{at}: skip past {docid}");
            }
            let end = postings.last().unwrap().0 + 1;
            let skipped = ok(open().unwrap().skip_to(end), &at);
            assert_eq!(skipped, None, "{at}: skip past the end");

            // The term is listed first under its own prefix, with the same counts.
            let mut listed = None;
            let listing = db.terms_with_prefix(term.as_bytes(), |found, counts| {
                listed = Some((found.to_vec(), counts));
                false
            });
            ok(listing, &at);
            let expected = Some((term.as_bytes().to_vec(), counts));
            assert_eq!(listed, expected, "{at}: listed");
        }
    });
}

#[test]
fn documents_match_xapian() {
    each_database(|label, facts, _, db| {
        for document in &facts.documents {
            let docid = document.docid;
            let at = format!("{label}: document {docid}");
            let data = text(ok(db.document_data(docid), &at));
            assert_eq!(data.as_ref(), Some(&document.data), "{at}: data");
            let length = ok(ok(db.doc_lengths(), &at).skip_to(docid), &at);
            assert_eq!(length, Some((docid, document.doclength)), "{at}: length");

            for slot in 0..3 {
                // Xapian's get_value gives an empty string for an absent value.
                let value = ok(db.value(slot, docid), &at).filter(|value| !value.is_empty());
                let value = value.map(|value| String::from_utf8(value).expect("UTF-8"));
                assert_eq!(
                    value.as_ref(),
                    document.values.get(&slot),
                    "{at}: value {slot}"
                );
                if let Some(via_termlist) = document.values_via_termlist.get(&slot) {
                    assert_eq!(value.as_ref(), Some(via_termlist), "{at}: value {slot}");
                }
            }
        }
        for docid in [0, facts.lastdocid + 1] {
            let data = ok(db.document_data(docid), label);
            assert_eq!(data, None, "{label}: document {docid}");
        }
    });
}

#[test]
fn value_slot_statistics_match_xapian() {
    each_database(|label, facts, _, db| {
        for (&slot, expected) in &facts.value_slots {
            let at = format!("{label}: slot {slot}");
            let mut values = Vec::new();
            for docid in 1..=facts.lastdocid {
                values.extend(ok(db.value(slot, docid), &at).filter(|value| !value.is_empty()));
            }
            let count = u32::try_from(values.len()).unwrap();
            assert_eq!(count, expected.value_freq, "{at}: documents with a value");
            let text = |value: Option<&Vec<u8>>| {
                String::from_utf8(value.cloned().unwrap_or_default()).expect("UTF-8")
            };
            assert_eq!(
                text(values.iter().min()),
                expected.lower_bound,
                "{at}: lowest"
            );
            assert_eq!(
                text(values.iter().max()),
                expected.upper_bound,
                "{at}: highest"
            );
        }
    });
}

#[test]
fn positions_match_xapian() {
    each_database(|label, facts, _, db| {
        for expected in &facts.positions {
            let (term, docid) = (expected.term.as_bytes(), expected.docid);
            let at = format!("{label}: positions of {:?} in {docid}", expected.term);
            let positions = ok(db.positions(term, docid), &at).unwrap_or_default();
            assert_eq!(positions, expected.positions, "{at}");
            let mut list = ok(db.postings(term), &at).expect("the term has postings");
            let posting = ok(list.skip_to(docid), &at);
            assert_eq!(posting, Some((docid, expected.wdf)), "{at}: wdf");
        }
    });
}

#[test]
fn decodes_interpolated_positions() {
    // The only three-position list of the small archives, as python3-xapian 1.4.22 reads it
    // ("The Night Time Is the Right Time (To Be With the One That You Love)").
    let Some(archive) = archive("libkiwix/zimfile.zim") else {
        return;
    };
    let checked = archive.with_xapian_index("title", |bytes| {
        let db = Database::open(bytes).unwrap();
        assert_eq!(db.positions(b"the", 176).unwrap(), Some(vec![1, 5, 11]));
        assert_eq!(db.positions(b"time", 255).unwrap(), Some(vec![3, 7]));
    });
    assert!(checked.unwrap().is_some());
}

#[test]
fn vocabulary_matches_xapian() {
    each_database(|label, facts, _, db| {
        let terms = vocabulary(&db, label);
        let names: Vec<&str> = terms.iter().map(|(term, _)| term.as_str()).collect();
        assert_eq!(names.len(), facts.term_count, "{label}: number of terms");
        let first = &names[..facts.first_terms.len()];
        assert_eq!(first, facts.first_terms, "{label}: first terms");
        let last = &names[names.len() - facts.last_terms.len()..];
        assert_eq!(last, facts.last_terms, "{label}: last terms");

        // Xapian's ten most frequent terms, ties broken by term.
        let mut by_freq: Vec<(String, u32)> = terms
            .iter()
            .map(|(term, counts)| (term.clone(), counts.doc_freq))
            .collect();
        by_freq.sort_by(|(a, a_freq), (b, b_freq)| b_freq.cmp(a_freq).then(a.cmp(b)));
        let top = &by_freq[..facts.top_termfreq.len()];
        assert_eq!(top, facts.top_termfreq, "{label}: most frequent terms");

        let mut stems = 0;
        ok(
            db.terms_with_prefix(b"Z", |_, _| {
                stems += 1;
                true
            }),
            label,
        );
        assert_eq!(stems, facts.prefix_counts.z, "{label}: terms under Z");
        let capitals = names
            .iter()
            .filter(|term| term.as_bytes()[0].is_ascii_uppercase());
        let capitals = capitals.count();
        assert_eq!(
            capitals, facts.prefix_counts.uppercase_ascii_start,
            "{label}: capitals"
        );
    });
}

#[test]
fn every_posting_list_agrees_with_the_counts_and_document_lengths() {
    each_database(|label, facts, _, db| {
        let mut lengths = vec![0u64; facts.lastdocid as usize + 1];
        let mut termlists: BTreeMap<u32, Vec<String>> = facts
            .documents
            .iter()
            .map(|document| (document.docid, Vec::new()))
            .collect();
        let mut with_positions = 0;
        for (term, counts) in vocabulary(&db, label) {
            let at = format!("{label}: term {term:?}");
            let mut list = ok(db.postings(term.as_bytes()), &at).expect("a listed term");
            let postings = walk(&mut list, &at);
            assert_eq!(
                postings.len(),
                counts.doc_freq as usize,
                "{at}: document frequency"
            );
            let total: u64 = postings.iter().map(|&(_, wdf)| u64::from(wdf)).sum();
            assert_eq!(total, counts.collection_freq, "{at}: collection frequency");
            let increasing = postings.windows(2).all(|pair| pair[0].0 < pair[1].0);
            assert!(increasing, "{at}: documents out of order");
            for &(docid, wdf) in &postings {
                assert!(
                    (1..=facts.lastdocid).contains(&docid),
                    "{at}: document {docid}"
                );
                lengths[docid as usize] += u64::from(wdf);
                if let Some(termlist) = termlists.get_mut(&docid) {
                    termlist.push(term.clone());
                }
                // A positional term occurs once per position.
                let Some(positions) = ok(db.positions(term.as_bytes(), docid), &at) else {
                    continue;
                };
                assert_eq!(positions.len(), wdf as usize, "{at}: positions in {docid}");
                let increasing = positions.windows(2).all(|pair| pair[0] < pair[1]);
                assert!(increasing, "{at}: positions in {docid} out of order");
                with_positions += 1;
            }
        }
        let found = with_positions > 0;
        assert_eq!(found, facts.has_positions, "{label}: positions found");

        // A document's length is the sum of its terms' frequencies.
        let doc_lengths = walk(&mut ok(db.doc_lengths(), label), label);
        assert_eq!(
            doc_lengths.len(),
            facts.doccount as usize,
            "{label}: lengths"
        );
        for (docid, length) in doc_lengths {
            let sum = lengths[docid as usize];
            assert_eq!(u64::from(length), sum, "{label}: length of {docid}");
        }

        // The termlists Xapian read, rebuilt from the posting lists.
        for document in &facts.documents {
            let Some(count) = document.termlist_count else {
                continue;
            };
            let at = format!("{label}: terms of document {}", document.docid);
            let termlist = &termlists[&document.docid];
            assert_eq!(termlist.len(), count, "{at}");
            assert_eq!(
                termlist[..document.termlist_head.len()],
                document.termlist_head,
                "{at}"
            );
        }
    });
}

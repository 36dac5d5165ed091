//! Fuzzes the Xapian glass reader: arbitrary bytes are opened as a database and read through
//! every path search uses (statistics, metadata, posting lists walked and skipped, document
//! lengths, document data, values, positions, the whole term listing). The reader may refuse
//! the bytes, but it must not panic, and no walk may run past [`MAX_STEPS`]: a loop is a crash
//! here, not a hang.
//!
//! Run it from `daemon/fuzz` (libFuzzer needs a nightly compiler's sanitizer flags):
//!
//! ```text
//! cargo install cargo-fuzz
//! cargo run --example seed_corpus -- ../../../shared/zim corpus/glass_reader
//! cargo +nightly fuzz run glass_reader -- -max_total_time=300 -timeout=10
//! ```
//!
//! With only a stable toolchain, `RUSTC_BOOTSTRAP=1 cargo fuzz run glass_reader` lets the
//! stable compiler accept those flags. The seeds are the real indexes of the test archives
//! (the example copies them out); without them libFuzzer starts from nothing and rarely gets
//! past the version record. A crash is saved under `artifacts/glass_reader/`; replay it with
//! `cargo +nightly fuzz run glass_reader artifacts/glass_reader/<file>`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ozmd::glass::{Database, PostingList};

/// Steps any one walk may take; no input this fuzzer makes holds that many entries.
const MAX_STEPS: usize = 1_000_000;

/// Terms read in every database that has them: a common word, a stem, the title anchor, and a
/// term holding a NUL, which keys escape.
const FIXED_TERMS: [&[u8]; 4] = [b"the", b"Zthe", b"0posanchor", b"a\0b"];

fuzz_target!(|bytes: &[u8]| {
    let Ok(db) = Database::open(bytes) else {
        return;
    };
    let stats = db.stats();
    let _ = (stats.average_length(), db.has_positions());
    for name in ["language", "valuesmap", "kind", "stopwords", ""] {
        let _ = db.metadata(name);
    }

    // The whole term listing, keeping the first few terms to read further.
    let mut terms: Vec<Vec<u8>> = FIXED_TERMS.iter().map(|term| term.to_vec()).collect();
    let mut steps = 0;
    let _ = db.terms_with_prefix(b"", |term, _| {
        steps += 1;
        if terms.len() < FIXED_TERMS.len() + 6 {
            terms.push(term.to_vec());
        }
        steps < MAX_STEPS
    });
    assert!(steps < MAX_STEPS, "the term listing does not end");
    let _ = db.terms_with_prefix(b"Z", |_, _| false);

    let last = stats.last_docid;
    let docids = [0, 1, 2, 3, last / 2, last, last.saturating_add(1), 0x8001];
    for term in &terms {
        let mut occurrences = Vec::new();
        if let Ok(Some(mut list)) = db.postings(term) {
            let _ = list.counts();
            occurrences = walk(&mut list, "a posting list");
        }
        if let Ok(Some(mut list)) = db.postings(term) {
            for target in [1, 3, last / 2, last, last.saturating_add(1)] {
                let _ = list.skip_to(target);
            }
        }
        for &docid in occurrences.iter().chain(&docids) {
            let _ = db.positions(term, docid);
        }
    }

    if let Ok(mut lengths) = db.doc_lengths() {
        walk(&mut lengths, "the document lengths");
    }
    if let Ok(mut lengths) = db.doc_lengths() {
        for docid in docids {
            let _ = lengths.skip_to(docid);
        }
    }
    for docid in docids {
        let _ = db.document_data(docid);
        for slot in 0..3 {
            let _ = db.value(slot, docid);
        }
    }
    for slot in 0..3 {
        let mut values = db.values(slot);
        for docid in docids {
            let _ = values.get(docid);
        }
    }
});

/// Walks a list to its end or its first error; returns its first few documents.
fn walk(list: &mut PostingList<'_>, what: &str) -> Vec<u32> {
    let mut first = Vec::new();
    for _ in 0..MAX_STEPS {
        match list.advance() {
            Ok(Some((docid, _))) if first.len() < 8 => first.push(docid),
            Ok(Some(_)) => {}
            _ => return first,
        }
    }
    panic!("{what} does not end");
}

//! The reader on the 20,000-article benchmark archive (`OZM_BENCH_DATA`, default
//! `../shared/bench`), whose document ids pass the sizes where their key encoding grows. The
//! expected values were read with python3-xapian 1.4.22.

use super::*;
use crate::archive::Archive;
use crate::archive::clusters::ClusterCache;
use std::path::PathBuf;
use std::sync::Arc;

use super::conformance::{ok, text, walk};

/// Where the benchmark archive and its manifest are.
fn bench_dir() -> PathBuf {
    std::env::var_os("OZM_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench"))
}

/// Runs `check` on an index of the benchmark archive, or skips (with a note) when it is absent.
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn with_bench_index(kind: &str, check: impl FnOnce(Database<'_>)) {
    let path = bench_dir().join("bench-20k.zim");
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent; set OZM_BENCH_DATA", path.display());
        return;
    }
    let archive = Archive::open(&path, Arc::new(ClusterCache::new(1 << 20)));
    let checked = archive
        .expect("the benchmark archive opens")
        .with_xapian_index(kind, |bytes| {
            check(ok(Database::open(bytes), "bench-20k"));
        });
    assert!(
        checked.expect("the archive reads").is_some(),
        "bench-20k: no {kind} index"
    );
}

#[test]
fn reads_high_document_ids_of_the_benchmark_index() {
    with_bench_index("fulltext", |db| {
        let stats = db.stats();
        let counts = (stats.doc_count, stats.last_docid, stats.total_length);
        assert_eq!(counts, (20_001, 20_001, 8_920_622));

        // Every document has a length, in order, and they add up.
        let lengths = walk(&mut db.doc_lengths().unwrap(), "bench-20k lengths");
        let ids: Vec<u32> = lengths.iter().map(|&(docid, _)| docid).collect();
        assert_eq!(ids, (1..=20_001).collect::<Vec<_>>());
        let total: u64 = lengths.iter().map(|&(_, length)| u64::from(length)).sum();
        assert_eq!(total, stats.total_length);
        let shortest = lengths.iter().map(|&(_, length)| length).min();
        let longest = lengths.iter().map(|&(_, length)| length).max();
        assert_eq!((shortest, longest), (Some(28), Some(5186)));

        // Ids either side of 0x2000 and near the end: (id, length, data, title, word count).
        let documents = [
            (1, 465, "C/Main_Page", "main page", "449"),
            (
                8191,
                175,
                "C/Purloins_doubloons",
                "purloins doubloons",
                "169",
            ),
            (
                8192,
                334,
                "C/Meteorologists_of_Mephistopheles",
                "meteorologists of mephistopheles",
                "319",
            ),
            (8193, 203, "C/Jame_Olson", "jame olson", "195"),
            (
                19_999,
                124,
                "C/Ellen_(triceratopses)",
                "ellen (triceratopses)",
                "120",
            ),
            (20_000, 572, "C/Kris_Herod", "kris herod", "556"),
        ];
        let mut skipping = db.doc_lengths().unwrap();
        for (docid, length, data, title, words) in documents {
            let at = format!("bench-20k document {docid}");
            assert_eq!(
                ok(skipping.skip_to(docid), &at),
                Some((docid, length)),
                "{at}"
            );
            let read = text(ok(db.document_data(docid), &at));
            assert_eq!(read.as_deref(), Some(data), "{at}");
            let read_title = ok(db.value(0, docid), &at);
            assert_eq!(read_title.as_deref(), Some(title.as_bytes()), "{at}: title");
            let read_words = ok(db.value(1, docid), &at);
            assert_eq!(read_words.as_deref(), Some(words.as_bytes()), "{at}: words");
        }
        assert_eq!(db.document_data(20_002).unwrap(), None);

        // A list of many chunks, walked and skipped across the chunk boundaries.
        let mut also = db.postings(b"also").unwrap().unwrap();
        let counts = also.counts();
        assert_eq!((counts.doc_freq, counts.collection_freq), (20_000, 34_568));
        let postings = walk(&mut also, "bench-20k \"also\"");
        assert_eq!(postings.len(), 20_000);
        let sum: u64 = postings.iter().map(|&(_, wdf)| u64::from(wdf)).sum();
        assert_eq!(sum, 34_568);
        assert_eq!(postings[..3], [(2, 2), (3, 5), (4, 1)]);
        assert_eq!(
            postings[postings.len() - 3..],
            [(19_999, 1), (20_000, 1), (20_001, 2)]
        );
        let mut skipping = db.postings(b"also").unwrap().unwrap();
        for (docid, wdf) in [
            (8180, 4),
            (8190, 3),
            (8193, 1),
            (8199, 3),
            (19_994, 4),
            (20_001, 2),
        ] {
            let skipped = ok(skipping.skip_to(docid), "bench-20k \"also\"");
            assert_eq!(skipped, Some((docid, wdf)), "bench-20k \"also\", {docid}");
        }
        assert_eq!(skipping.skip_to(20_002).unwrap(), None);
    });
}

#[test]
fn finds_every_needle_of_the_benchmark_index() {
    with_bench_index("fulltext", |db| {
        // The generator's manifest names the one article holding each needle word.
        let manifest = std::fs::read(bench_dir().join("bench-20k.json")).expect("the manifest");
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let needles = manifest["needles"].as_object().expect("needles");
        assert_eq!(needles.len(), 200);
        for (needle, path) in needles {
            let mut list = ok(db.postings(needle.as_bytes()), needle).expect(needle);
            let postings = walk(&mut list, needle);
            assert_eq!(postings.len(), 1, "{needle}");
            let data = text(ok(db.document_data(postings[0].0), needle));
            assert_eq!(
                data,
                Some(format!("C/{}", path.as_str().unwrap())),
                "{needle}"
            );
        }
    });
}

#[test]
fn reads_high_document_ids_of_the_benchmark_title_index() {
    with_bench_index("title", |db| {
        let lengths = walk(&mut db.doc_lengths().unwrap(), "bench-20k title lengths");
        assert_eq!(lengths.len(), 20_001);
        let total: u64 = lengths.iter().map(|&(_, length)| u64::from(length)).sum();
        assert_eq!(total, 108_497);
        let data = text(db.document_data(20_000).unwrap());
        assert_eq!(data.as_deref(), Some("C/Zürich_Thessaly"));
        assert_eq!(
            text(db.document_data(8193).unwrap()).as_deref(),
            Some("C/Hun_Clay")
        );
        let path = db.value(1, 20_000).unwrap();
        assert_eq!(path.as_deref(), Some("Zürich_Thessaly".as_bytes()));

        // "The the the": one term at three consecutive positions.
        let mut the = db.postings(b"the").unwrap().unwrap();
        assert_eq!(the.skip_to(17_664).unwrap(), Some((17_664, 3)));
        assert_eq!(db.positions(b"the", 17_664).unwrap(), Some(vec![2, 3, 4]));
    });
}

//! The reader on damaged indexes. Each real database of the test archives is copied and damaged
//! in thousands of fixed ways (single-byte flips over the version record, every block header,
//! item directories and pseudo-random offsets; truncations; changed block sizes and levels;
//! zeroed and swapped blocks), and a fixed workload then touches every reading path. The reader
//! may refuse a damaged index or read nonsense from it, but it must not panic and must not
//! loop: every walk is capped at [`MAX_STEPS`], and reaching the cap fails the test. Crafted
//! inputs that such damage is unlikely to produce complete it: position lists at the edges of
//! the bit widths, and a tree whose branches all lead to the same leaf.

use std::panic::{self, AssertUnwindSafe};

use super::tests::archive;
use super::*;

/// Steps any one walk may take; a damaged index that needs more is looping.
const MAX_STEPS: usize = 1_000_000;

/// Damage done at pseudo-random offsets of each database, on top of the systematic kinds.
const RANDOM_FLIPS: usize = 300;

/// What the workload asks for: terms and documents chosen from the undamaged database.
struct Probe {
    terms: Vec<Vec<u8>>,
    docids: Vec<u32>,
}

/// A walk that reached [`MAX_STEPS`].
struct Endless(&'static str);

/// xorshift64*, so that every run damages the same bytes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as usize % bound
    }
}

/// Reads through every path of the reader, ignoring what it reads and the errors it gives.
fn workload(bytes: &[u8], probe: &Probe) -> Result<(), Endless> {
    let Ok(db) = Database::open(bytes) else {
        return Ok(());
    };
    let stats = db.stats();
    let _ = (stats.average_length(), db.has_positions());
    for name in ["language", "valuesmap", "kind", "stopwords"] {
        let _ = db.metadata(name);
    }
    let last = stats.last_docid;
    for term in &probe.terms {
        // Positions are read where the term occurs, as a phrase check would.
        let mut occurrences = Vec::new();
        if let Ok(Some(mut list)) = db.postings(term) {
            occurrences = walk(&mut list, "a posting list")?;
        }
        if let Ok(Some(mut list)) = db.postings(term) {
            for target in [1, 3, last / 2, last, last.saturating_add(1)] {
                let _ = list.skip_to(target);
            }
        }
        for &docid in occurrences.iter().chain(&probe.docids) {
            let _ = db.positions(term, docid);
        }
    }
    if let Ok(mut lengths) = db.doc_lengths() {
        walk(&mut lengths, "the document lengths")?;
    }
    if let Ok(mut lengths) = db.doc_lengths() {
        for &docid in &probe.docids {
            let _ = lengths.skip_to(docid);
        }
    }
    for &docid in &probe.docids {
        let _ = db.document_data(docid);
        for slot in 0..3 {
            let _ = db.value(slot, docid);
        }
    }
    for slot in 0..3 {
        let mut values = db.values(slot);
        for &docid in &probe.docids {
            let _ = values.get(docid);
        }
    }
    let mut steps = 0;
    let _ = db.terms_with_prefix(b"", |_, _| {
        steps += 1;
        steps < MAX_STEPS
    });
    if steps >= MAX_STEPS {
        return Err(Endless("the term listing"));
    }
    let _ = db.terms_with_prefix(b"Z", |_, _| false);
    Ok(())
}

/// Walks a list to its end or its first error; returns its first few documents.
fn walk(list: &mut PostingList<'_>, what: &'static str) -> Result<Vec<u32>, Endless> {
    let mut first = Vec::new();
    for _ in 0..MAX_STEPS {
        match list.advance() {
            Ok(Some((docid, _))) if first.len() < 8 => first.push(docid),
            Ok(Some(_)) => {}
            _ => return Ok(first),
        }
    }
    Err(Endless(what))
}

/// Runs the workload on one damaged copy; what went wrong, if it panicked or looped.
fn failure(bytes: &[u8], probe: &Probe) -> Option<String> {
    match panic::catch_unwind(AssertUnwindSafe(|| workload(bytes, probe))) {
        Ok(Ok(())) => None,
        Ok(Err(Endless(what))) => Some(format!("{what} does not end")),
        Err(payload) => Some(match payload.downcast::<String>() {
            Ok(message) => format!("panic: {message}"),
            Err(payload) => format!("panic: {:?}", payload.downcast_ref::<&str>()),
        }),
    }
}

/// The terms and documents the workload reads: the most frequent terms, the first and last,
/// a stem, an absent term; documents at the edges and either side of the longer key forms.
fn probe(db: &Database<'_>) -> Probe {
    let mut terms = Vec::new();
    db.terms_with_prefix(b"", |term, counts| {
        terms.push((counts.doc_freq, term.to_vec()));
        true
    })
    .expect("the undamaged index lists its terms");
    let (first, last) = (terms[0].1.clone(), terms[terms.len() - 1].1.clone());
    let stem = terms
        .iter()
        .find(|(_, term)| term.starts_with(b"Z"))
        .map(|(_, term)| term.clone());
    terms.sort_by(|a, b| b.cmp(a));
    let mut chosen: Vec<Vec<u8>> = terms.into_iter().take(4).map(|(_, term)| term).collect();
    chosen.extend([first, last, b"zz_absent".to_vec()]);
    chosen.extend(stem);
    let last_docid = db.stats().last_docid;
    Probe {
        terms: chosen,
        docids: vec![
            0,
            1,
            2,
            3,
            last_docid / 2,
            last_docid,
            last_docid + 1,
            0x2001,
            0x8001,
        ],
    }
}

/// Where each table's root record keeps its flags (level and emptiness) and its block size,
/// and where the version record ends.
fn version_record(bytes: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut input = &bytes[MAGIC.len() + 2 + 16..];
    let offset = |input: &[u8]| bytes.len() - input.len();
    codec::read_varint(&mut input).expect("revision");
    let mut fields = Vec::new();
    for _ in 0..6 {
        codec::read_varint(&mut input).expect("root");
        let flags = offset(input);
        codec::read_varint(&mut input).expect("flags");
        codec::read_varint(&mut input).expect("entries");
        fields.push((flags, offset(input)));
        codec::read_varint(&mut input).expect("block size");
        codec::read_varint(&mut input).expect("compress_min");
        codec::read_string(&mut input).expect("free list");
    }
    // Eight statistics end the record.
    for _ in 0..8 {
        codec::read_varint(&mut input).expect("statistic");
    }
    (fields, offset(input))
}

/// One database being damaged, and what the damage found.
struct Damage<'a> {
    label: String,
    original: &'a [u8],
    copy: Vec<u8>,
    probe: Probe,
    variants: usize,
    failures: Vec<String>,
}

impl Damage<'_> {
    fn run(&mut self, len: usize, what: impl FnOnce() -> String) {
        self.variants += 1;
        if let Some(failure) = failure(&self.copy[..len], &self.probe) {
            self.failures
                .push(format!("{}, {}: {failure}", self.label, what()));
        }
    }

    /// Writes `bytes` at `offset`, runs the workload, and restores the original bytes.
    fn overwrite(&mut self, offset: usize, bytes: &[u8]) {
        let Some(end) = offset
            .checked_add(bytes.len())
            .filter(|&end| end <= self.copy.len())
        else {
            return;
        };
        if self.copy[offset..end] == *bytes {
            return;
        }
        self.copy[offset..end].copy_from_slice(bytes);
        self.run(self.copy.len(), || match bytes {
            [byte] => format!("byte {offset} set to {byte:#04x}"),
            _ => format!("{} bytes from {offset} replaced", bytes.len()),
        });
        self.copy[offset..end].copy_from_slice(&self.original[offset..end]);
    }

    fn flip(&mut self, offset: usize, mask: u8) {
        if let Some(&byte) = self.original.get(offset) {
            self.overwrite(offset, &[byte ^ mask]);
        }
    }

    fn truncate(&mut self, len: usize) {
        if len < self.copy.len() {
            self.run(len, || format!("cut to {len} bytes"));
        }
    }

    /// Every byte of the version record and a little after it (opening reads nothing else of
    /// block 0), then each table's level and block size set outright.
    fn damage_version_record(&mut self) {
        let (root_fields, record_end) = version_record(self.original);
        for offset in 0..record_end + 16 {
            self.flip(offset, 0xff);
            self.flip(offset, 1 << (offset % 8));
        }
        for (flags, size) in root_fields {
            for value in [0x00, 0x01, 0x04, 0x08, 0x0c, 0x7c] {
                self.overwrite(flags, &[value]);
            }
            for value in [0, 1, 2, 8, 32, 33, 0x7f] {
                self.overwrite(size, &[value]);
            }
        }
    }

    /// Every header byte, the level set outright, a few item offsets, the whole block zeroed
    /// and replaced by the next one.
    fn damage_block(&mut self, start: usize, block_size: usize, rng: &mut Rng) {
        for offset in start..start + 11 {
            self.flip(offset, (rng.below(255) + 1) as u8);
        }
        for level in [0, 1, 2, 254] {
            self.overwrite(start + 4, &[level]);
        }
        let dir_end = u16::from_be_bytes([self.original[start + 9], self.original[start + 10]]);
        let items = usize::from(dir_end).saturating_sub(11) / 2;
        if items > 0 {
            for item in [0, items / 2, items - 1, rng.below(items)] {
                let at = start + 11 + 2 * item;
                self.flip(at + rng.below(2), 1 << rng.below(8));
                self.overwrite(at, &[0xff, 0xff]);
            }
        }
        self.overwrite(start, &vec![0; block_size]);
        if let Some(next) = self
            .original
            .get(start + block_size..start + 2 * block_size)
        {
            self.overwrite(start, next);
        }
    }
}

/// Damages a copy of one database in every way this file knows, and fails with the list of
/// damages that made the reader panic or loop.
#[expect(
    clippy::print_stderr,
    reason = "the damage run reports its size on stderr"
)]
fn survives_damage(relative: &str, kind: &str, seed: u64) {
    let Some(archive) = archive(relative) else {
        return;
    };
    let original = archive
        .with_xapian_index(kind, <[u8]>::to_vec)
        .expect("the archive reads")
        .expect("the archive has the index");
    let probe = probe(&Database::open(&original).expect("the undamaged index opens"));
    let mut damage = Damage {
        label: format!("{relative} ({kind})"),
        original: &original,
        copy: original.clone(),
        probe,
        variants: 0,
        failures: Vec::new(),
    };
    let (root_fields, _) = version_record(&original);
    let size_field = codec::read_varint(&mut &original[root_fields[0].1..]);
    let block_size = 2048 * usize::try_from(size_field.expect("block size")).unwrap();
    let blocks = original.len() / block_size;
    let mut rng = Rng(seed);

    damage.damage_version_record();
    for block in 1..blocks {
        damage.damage_block(block * block_size, block_size, &mut rng);
    }
    for _ in 0..RANDOM_FLIPS {
        let offset = rng.below(original.len());
        damage.flip(offset, (rng.below(255) + 1) as u8);
    }

    // Cut at the start, inside and at the end of every block, and anywhere.
    let ends = (1..=blocks).flat_map(|b| [b * block_size - block_size / 2, b * block_size - 1]);
    for len in (0..32).chain(ends) {
        damage.truncate(len);
    }
    for _ in 0..16 {
        damage.truncate(rng.below(original.len()));
    }

    eprintln!("{}: {} damaged copies read", damage.label, damage.variants);
    assert!(
        damage.failures.is_empty(),
        "{} of {} damaged copies failed:\n{}",
        damage.failures.len(),
        damage.variants,
        damage.failures[..damage.failures.len().min(20)].join("\n")
    );
}

#[test]
fn damaged_zimfile_full_text_index_is_refused_without_panic() {
    survives_damage("libkiwix/zimfile.zim", "fulltext", 0x0123_4567_89ab_cdef);
}

#[test]
fn damaged_zimfile_title_index_is_refused_without_panic() {
    survives_damage("libkiwix/zimfile.zim", "title", 0x5eed_0002);
}

#[test]
fn damaged_wikibooks_full_text_index_is_refused_without_panic() {
    let archive = "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim";
    survives_damage(archive, "fulltext", 0x5eed_0003);
}

#[test]
fn damaged_wikibooks_title_index_is_refused_without_panic() {
    let archive = "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim";
    survives_damage(archive, "title", 0x5eed_0004);
}

#[test]
fn damaged_poor_title_index_is_refused_without_panic() {
    survives_damage("libkiwix/poor.zim", "title", 0x5eed_0005);
}

#[test]
fn crafted_position_lists_are_refused_without_panic() {
    // Last positions at the edges of the bit widths, each followed by every short bit pattern
    // a simple generator gives: the decoder must give increasing lists or an error.
    let mut rng = Rng(0x5eed_0006);
    for last in [
        1,
        2,
        3,
        255,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0001,
        u32::MAX - 1,
        u32::MAX,
    ] {
        let mut head = Vec::new();
        let mut rest = last;
        while rest >= 0x80 {
            head.push((rest as u8) | 0x80);
            rest >>= 7;
        }
        head.push(rest as u8);
        for len in 0..2000 {
            let mut tag = head.clone();
            tag.extend((0..len % 24).map(|_| rng.below(256) as u8));
            let decoded = panic::catch_unwind(|| positions::decode(&tag))
                .unwrap_or_else(|_| panic!("decoding {tag:02x?} panicked"));
            if let Ok(positions) = decoded {
                assert!(
                    positions.windows(2).all(|pair| pair[0] < pair[1]),
                    "{tag:02x?}"
                );
                assert_eq!(positions.last(), Some(&last), "{tag:02x?}");
            }
        }
    }
    // Three positions spanning the whole range: 0, 1 and u32::MAX.
    let mut tag = vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0x01];
    tag.extend([0; 8]);
    assert_eq!(positions::decode(&tag).unwrap(), [0, 1, u32::MAX]);
}

/// A database of 2048-byte blocks whose postlist table is `blocks`, the first of them (block 1)
/// its root at `root_level`; the other tables are empty.
fn crafted_database(root_level: u8, blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(FORMAT_VERSION.to_be_bytes());
    bytes.extend([0; 16]);
    bytes.push(1);
    // Root, flags (level, emptiness), entries, block size / 2048, compress_min, free list.
    bytes.extend([1, root_level << 2, 1, 1, 0, 0]);
    for _ in 0..5 {
        bytes.extend([0, 1, 0, 1, 0, 0]);
    }
    bytes.extend([1, 0, 1, 1, 0, 0, 1, 0]);
    bytes.resize(2048, 0);
    for block in blocks {
        bytes.extend(block);
    }
    bytes
}

/// A 2048-byte block at `level` holding `items`, packed from its end.
fn crafted_block(level: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut block = vec![0; 2048];
    block[4] = level;
    let dir_end = u16::try_from(11 + 2 * items.len()).unwrap();
    block[9..11].copy_from_slice(&dir_end.to_be_bytes());
    let mut start = block.len();
    for (index, item) in items.iter().enumerate() {
        start -= item.len();
        block[start..start + item.len()].copy_from_slice(item);
        let offset = u16::try_from(start).unwrap().to_be_bytes();
        block[11 + 2 * index..13 + 2 * index].copy_from_slice(&offset);
    }
    block
}

#[test]
fn a_tree_whose_branches_share_a_child_is_walked_once() {
    // Every item of the two branch levels points to the same child, so a walk that follows
    // them all would list the leaf's 20 terms 64 × 64 times.
    let branch = |child: u32| -> Vec<Vec<u8>> {
        let items = (0..64u8).map(|i| [&child.to_be_bytes()[..], &[2, b't', i, 0, 1]].concat());
        items.collect()
    };
    let leaf: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            let key = format!("t{i:02}");
            // First and last piece; a one-document posting list.
            let head = 0x6000 | u16::try_from(key.len() + 6).unwrap();
            let tag = [1, 1, 0, b'1', 0, 1];
            [&head.to_be_bytes()[..], &[3], key.as_bytes(), &tag].concat()
        })
        .collect();
    let blocks = [
        crafted_block(2, &branch(2)),
        crafted_block(1, &branch(3)),
        crafted_block(0, &leaf),
    ];
    let bytes = crafted_database(2, &blocks);
    let db = Database::open(&bytes).unwrap();
    assert_eq!(db.postings(b"t07").unwrap().unwrap().counts().doc_freq, 1);

    let mut visits = 0;
    let listed = db.terms_with_prefix(b"", |_, _| {
        visits += 1;
        visits < MAX_STEPS
    });
    assert!(
        listed.is_err(),
        "the second pass through the leaf is refused"
    );
    assert_eq!(visits, 20);
}

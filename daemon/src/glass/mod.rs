//! A read-only reader of Xapian "glass" databases in their single-file form, the form libzim
//! embeds in archives as `X/fulltext/xapian` and `X/title/xapian`.
//!
//! The database is a byte slice borrowed from the archive's mapping: block 0 holds the version
//! record (format, the root of each table, collection statistics), and each table is a B-tree
//! of fixed-size blocks in the same numbered space. Only what search needs is read: the
//! postlist table (posting lists, document lengths, metadata, value streams), the docdata
//! table (each document's entry path) and the position table. Every length and offset is
//! checked, so a damaged index gives a [`GlassError`] and never a panic.

mod btree;
mod codec;
mod positions;
mod postings;
mod values;

use std::borrow::Cow;

use btree::{Cursor, Table};
pub use postings::{PostingList, TermCounts};
pub use values::ValueCursor;

/// The only glass format version there is (2016-03-14), in every archive seen.
pub const FORMAT_VERSION: u16 = 1134;

const MAGIC: &[u8; 14] = b"\x0f\x0dXapian Glass";

/// Why a database cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GlassError {
    /// The bytes do not start like a glass database.
    #[error("not a Xapian glass database")]
    NotGlass,
    /// A glass version this reader does not know.
    #[error("Xapian glass format {0} is not supported (only {FORMAT_VERSION} is)")]
    Version(u16),
    /// A structure is damaged or out of the bounds this reader accepts.
    #[error("the Xapian index is damaged: {0}")]
    Corrupt(String),
}

impl GlassError {
    /// A damaged structure, described.
    pub fn corrupt(what: &str) -> Self {
        GlassError::Corrupt(what.to_owned())
    }
}

/// Collection statistics from the version record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Documents in the database.
    pub doc_count: u32,
    /// The highest document id in use.
    pub last_docid: u32,
    /// The shortest document length.
    pub doclen_lower_bound: u32,
    /// The longest document length.
    pub doclen_upper_bound: u32,
    /// The highest within-document frequency of any term.
    pub wdf_upper_bound: u32,
    /// The sum of all document lengths.
    pub total_length: u64,
}

impl Stats {
    /// The average document length, the "avdl" of BM25.
    pub fn average_length(&self) -> f64 {
        if self.doc_count == 0 {
            0.0
        } else {
            self.total_length as f64 / f64::from(self.doc_count)
        }
    }
}

/// An open database over borrowed bytes. Opening parses only the version record, so it is
/// cheap enough to do for every query.
#[derive(Clone, Copy)]
pub struct Database<'a> {
    postlist: Table<'a>,
    docdata: Table<'a>,
    position: Table<'a>,
    stats: Stats,
}

/// Keys of the postlist table that are not terms start with a NUL and one of these bytes.
const METADATA_KEY: &[u8] = b"\x00\xc0";
const VALUE_STREAM_KEY: &[u8] = b"\x00\xd8";
const DOC_LENGTH_KEY: &[u8] = b"\x00\xe0";

impl<'a> Database<'a> {
    /// Reads the version record at the start of `bytes`.
    pub fn open(bytes: &'a [u8]) -> Result<Self, GlassError> {
        let mut input = bytes;
        if codec::take(&mut input, MAGIC.len()).map_err(|_| GlassError::NotGlass)? != MAGIC {
            return Err(GlassError::NotGlass);
        }
        let format = codec::take(&mut input, 2)?;
        let format = u16::from_be_bytes([format[0], format[1]]);
        if format != FORMAT_VERSION {
            return Err(GlassError::Version(format));
        }
        let _uuid = codec::take(&mut input, 16)?;
        let _revision = codec::read_varint(&mut input)?;
        let names = [
            "postlist", "docdata", "termlist", "position", "spelling", "synonym",
        ];
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            tables.push(read_root(&mut input, bytes, name)?);
        }
        let doc_count = codec::read_varint32(&mut input)?;
        let last_docid = codec::read_varint32(&mut input)?
            .checked_add(doc_count)
            .ok_or(GlassError::corrupt("last document id overflows"))?;
        let doclen_lower_bound = codec::read_varint32(&mut input)?;
        let wdf_upper_bound = codec::read_varint32(&mut input)?;
        let doclen_upper_bound = codec::read_varint32(&mut input)?.saturating_add(wdf_upper_bound);
        let _oldest_changeset = codec::read_varint(&mut input)?;
        let total_length = codec::read_varint(&mut input)?;
        Ok(Database {
            postlist: tables[0],
            docdata: tables[1],
            position: tables[3],
            stats: Stats {
                doc_count,
                last_docid,
                doclen_lower_bound,
                doclen_upper_bound,
                wdf_upper_bound,
                total_length,
            },
        })
    }

    /// The collection statistics.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether the database stores term positions, without which phrases cannot be checked.
    pub fn has_positions(&self) -> bool {
        self.position.root.is_some()
    }

    /// A metadata value stored by the indexer (`language`, `stopwords`, `valuesmap`, ...).
    pub fn metadata(&self, name: &str) -> Result<Option<Cow<'a, [u8]>>, GlassError> {
        self.postlist.get(&[METADATA_KEY, name.as_bytes()].concat())
    }

    /// The posting list of `term`, or `None` when no document has it.
    pub fn postings(&self, term: &[u8]) -> Result<Option<PostingList<'a>>, GlassError> {
        let (first, later) = postings::term_keys(term);
        PostingList::open(self.postlist, &first, later)
    }

    /// A cursor over every document's length, in document order.
    pub fn doc_lengths(&self) -> Result<PostingList<'a>, GlassError> {
        PostingList::open(self.postlist, DOC_LENGTH_KEY, DOC_LENGTH_KEY.to_vec())?
            .ok_or(GlassError::corrupt("the document lengths are missing"))
    }

    /// A document's data: in ZIM indexes, the full path of its entry (`A/Foo`, `C/Foo`).
    pub fn document_data(&self, docid: u32) -> Result<Option<Cow<'a, [u8]>>, GlassError> {
        let mut key = Vec::with_capacity(5);
        codec::push_sortable_uint(&mut key, docid);
        self.docdata.get(&key)
    }

    /// The value a document has in `slot` (the title, the word count, ...).
    pub fn value(&self, slot: u32, docid: u32) -> Result<Option<Vec<u8>>, GlassError> {
        Ok(self.values(slot).get(docid)?.map(<[u8]>::to_vec))
    }

    /// A reader of every document's value in `slot`.
    pub fn values(&self, slot: u32) -> ValueCursor<'a> {
        ValueCursor::new(self.postlist, slot)
    }

    /// Where `term` occurs in document `docid`, in increasing order; `None` when the database
    /// holds no positions for that pair.
    pub fn positions(&self, term: &[u8], docid: u32) -> Result<Option<Vec<u32>>, GlassError> {
        let (_, mut key) = postings::term_keys(term);
        codec::push_sortable_uint(&mut key, docid);
        match self.position.get(&key)? {
            Some(tag) => positions::decode(&tag).map(Some),
            None => Ok(None),
        }
    }

    /// Calls `visit` with every term starting with `prefix` and its counts, in byte order,
    /// until it returns false.
    pub fn terms_with_prefix(
        &self,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8], TermCounts) -> bool,
    ) -> Result<(), GlassError> {
        let mut start = Vec::with_capacity(prefix.len() + 1);
        codec::push_escaped_term(&mut start, prefix);
        let mut cursor = Cursor::new(self.postlist);
        let mut on_item = cursor.seek(&start)?;
        if !on_item {
            on_item = cursor.next()?;
        }
        while on_item {
            let item = cursor.current()?;
            if !item.key.starts_with(&start) {
                return Ok(());
            }
            // Later chunks and pieces share the term's prefix; only first chunks name a term.
            if item.component == 1
                && let Some(term) = unescape_term(item.key)
            {
                let mut head = item.tag;
                let counts = TermCounts {
                    doc_freq: codec::read_varint32(&mut head)?,
                    collection_freq: codec::read_varint(&mut head)?,
                };
                if !visit(&term, counts) {
                    return Ok(());
                }
            }
            on_item = cursor.next()?;
        }
        Ok(())
    }
}

/// Reads one table's root record and checks it against the database's size.
fn read_root<'a>(
    input: &mut &[u8],
    bytes: &'a [u8],
    name: &'static str,
) -> Result<Table<'a>, GlassError> {
    let root = codec::read_varint32(input)?;
    let flags = codec::read_varint(input)?;
    let _entries = codec::read_varint(input)?;
    let block_size = codec::read_varint(input)?.saturating_mul(2048);
    let _compress_min = codec::read_varint(input)?;
    let _free_list = codec::read_string(input)?;
    let root_is_fake = flags & 1 != 0;
    let root_level = u8::try_from(flags >> 2).unwrap_or(u8::MAX);
    if !(2048..=65536).contains(&block_size) || !block_size.is_power_of_two() {
        return Err(GlassError::Corrupt(format!(
            "{name} table: block size {block_size}"
        )));
    }
    if root_level > btree::MAX_LEVELS {
        return Err(GlassError::Corrupt(format!(
            "{name} table: {root_level} levels"
        )));
    }
    Ok(Table {
        bytes,
        name,
        root: (!root_is_fake).then_some(root),
        root_level,
        block_size: block_size as usize,
    })
}

/// The term a first-chunk key names; `None` for a later chunk's key (an unescaped NUL) and for
/// the empty key of the item every table starts with.
fn unescape_term(key: &[u8]) -> Option<Vec<u8>> {
    if key.is_empty() {
        return None;
    }
    let mut term = Vec::with_capacity(key.len());
    let mut bytes = key.iter();
    while let Some(&byte) = bytes.next() {
        term.push(byte);
        if byte == 0 && bytes.next() != Some(&0xff) {
            return None;
        }
    }
    Some(term)
}

#[cfg(test)]
mod bench_index;
#[cfg(test)]
mod conformance;
#[cfg(test)]
mod damage;
#[cfg(test)]
mod tests;

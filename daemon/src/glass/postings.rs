//! Posting lists: for one term, the documents it occurs in with its frequency in each; for the
//! document lengths, every document with its length. Both are stored in chunks of about 2 KB,
//! each under its own key, so a cursor can jump to the chunk holding a document id without
//! reading the chunks before it. That jump is what lets a rare term lead a common one.
//!
//! A chunk is `'0'`/`'1'` (is it the term's last chunk), the distance from its first to its last
//! document id, the first document's frequency, then (id gap − 1, frequency) pairs. The first
//! chunk is prefixed with the term's document count, its total frequency and its first
//! document id − 1; later chunks take their first id from their key.

use std::borrow::Cow;

use super::GlassError;
use super::btree::{Cursor, Table};
use super::codec::{push_sortable_uint, read_sortable_uint, read_varint32};

/// A term's counts, read from the head of its first chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermCounts {
    /// Documents the term occurs in.
    pub doc_freq: u32,
    /// Occurrences over all documents.
    pub collection_freq: u64,
}

/// A forward cursor over one posting list.
pub struct PostingList<'a> {
    cursor: Cursor<'a>,
    /// Later chunks' keys are this followed by their first document id.
    chunk_prefix: Vec<u8>,
    counts: TermCounts,
    chunk: Chunk<'a>,
    /// The current document and its frequency; `None` before the start or after the end.
    current: Option<(u32, u32)>,
    started: bool,
}

/// The chunk being read.
struct Chunk<'a> {
    bytes: Cow<'a, [u8]>,
    /// Where the next (gap, frequency) pair starts.
    offset: usize,
    first: u32,
    last: u32,
    is_last: bool,
    first_wdf: u32,
}

impl<'a> PostingList<'a> {
    /// Opens the list stored under `first_key`, whose later chunks are keyed `chunk_prefix` +
    /// the chunk's first id; `None` when there is no such list.
    pub fn open(
        table: Table<'a>,
        first_key: &[u8],
        chunk_prefix: Vec<u8>,
    ) -> Result<Option<Self>, GlassError> {
        let mut cursor = Cursor::new(table);
        if !cursor.seek(first_key)? {
            return Ok(None);
        }
        let bytes = cursor.read_tag()?;
        let mut input: &[u8] = &bytes;
        let doc_freq = read_varint32(&mut input)?;
        let collection_freq = super::codec::read_varint(&mut input)?;
        let first = read_varint32(&mut input)?
            .checked_add(1)
            .ok_or(GlassError::corrupt("document id overflows"))?;
        let header_len = bytes.len() - input.len();
        let chunk = Chunk::parse(bytes, header_len, first)?;
        Ok(Some(PostingList {
            cursor,
            chunk_prefix,
            counts: TermCounts {
                doc_freq,
                collection_freq,
            },
            chunk,
            current: None,
            started: false,
        }))
    }

    /// The list's counts.
    pub fn counts(&self) -> TermCounts {
        self.counts
    }

    /// The current document id and its frequency (for document lengths: its length).
    pub fn current(&self) -> Option<(u32, u32)> {
        self.current
    }

    /// Moves to the next document; `None` at the end.
    pub fn advance(&mut self) -> Result<Option<(u32, u32)>, GlassError> {
        if !self.started {
            self.started = true;
            self.current = Some((self.chunk.first, self.chunk.first_wdf));
            return Ok(self.current);
        }
        let Some((docid, _)) = self.current else {
            return Ok(None);
        };
        self.current = match self.chunk.next_after(docid)? {
            Some(found) => Some(found),
            None if self.chunk.is_last => None,
            None => self.next_chunk()?,
        };
        Ok(self.current)
    }

    /// Moves to the first document at or after `target`; `None` when there is none. Chunks
    /// that end before `target` are passed over through the table's index, unread.
    pub fn skip_to(&mut self, target: u32) -> Result<Option<(u32, u32)>, GlassError> {
        if let Some((docid, _)) = self.current
            && docid >= target
            && self.started
        {
            return Ok(self.current);
        }
        if self.started && self.current.is_none() {
            return Ok(None);
        }
        if target > self.chunk.last && !self.chunk.is_last {
            self.seek_chunk(target)?;
        }
        loop {
            let Some((docid, wdf)) = self.advance()? else {
                return Ok(None);
            };
            if docid >= target {
                return Ok(Some((docid, wdf)));
            }
        }
    }

    /// Positions on the chunk whose first id is the greatest at most `target`, just before its
    /// first document.
    fn seek_chunk(&mut self, target: u32) -> Result<(), GlassError> {
        let mut key = self.chunk_prefix.clone();
        push_sortable_uint(&mut key, target);
        if !self.cursor.seek_floor(&key)? {
            return Ok(());
        }
        // Landing on the current chunk or an earlier one leaves nothing to skip.
        match self.chunk_start()? {
            Some(first) if first > self.chunk.first => {
                let bytes = self.cursor.read_tag()?;
                self.chunk = Chunk::parse(bytes, 0, first)?;
                self.started = false;
                self.current = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads the chunk after the current one and returns its first document. The cursor is
    /// positioned afresh, since a skip may have moved it elsewhere.
    fn next_chunk(&mut self) -> Result<Option<(u32, u32)>, GlassError> {
        let missing = || GlassError::corrupt("a posting list ends before its last chunk");
        let mut key = self.chunk_prefix.clone();
        push_sortable_uint(
            &mut key,
            self.chunk.last.checked_add(1).ok_or_else(missing)?,
        );
        if !self.cursor.seek_floor(&key)? {
            return Err(missing());
        }
        if self.cursor.current()?.key != key.as_slice() && !self.cursor.next_key()? {
            return Err(missing());
        }
        let first = self.chunk_start()?.ok_or_else(missing)?;
        if first <= self.chunk.last {
            return Err(GlassError::corrupt("posting list chunks overlap"));
        }
        let bytes = self.cursor.read_tag()?;
        self.chunk = Chunk::parse(bytes, 0, first)?;
        Ok(Some((self.chunk.first, self.chunk.first_wdf)))
    }

    /// The first document id of the later chunk under the cursor, `None` if the cursor is on
    /// some other key.
    fn chunk_start(&self) -> Result<Option<u32>, GlassError> {
        let item = self.cursor.current()?;
        // The document lengths' first chunk has the bare prefix as its key.
        match item.key.strip_prefix(self.chunk_prefix.as_slice()) {
            Some(mut id_bytes) if !id_bytes.is_empty() => {
                let first = read_sortable_uint(&mut id_bytes)?;
                Ok(id_bytes.is_empty().then_some(first))
            }
            _ => Ok(None),
        }
    }
}

impl<'a> Chunk<'a> {
    fn parse(bytes: Cow<'a, [u8]>, start: usize, first: u32) -> Result<Self, GlassError> {
        let mut input = bytes.get(start..).unwrap_or_default();
        let is_last = match input.split_first() {
            Some((b'1', rest)) => {
                input = rest;
                true
            }
            Some((b'0', rest)) => {
                input = rest;
                false
            }
            _ => return Err(GlassError::corrupt("a posting chunk has a bad header")),
        };
        let last = first
            .checked_add(read_varint32(&mut input)?)
            .ok_or(GlassError::corrupt("document id overflows"))?;
        let first_wdf = read_varint32(&mut input)?;
        let offset = bytes.len() - input.len();
        Ok(Chunk {
            bytes,
            offset,
            first,
            last,
            is_last,
            first_wdf,
        })
    }

    /// The pair after `docid` in this chunk, or `None` when the chunk is exhausted.
    fn next_after(&mut self, docid: u32) -> Result<Option<(u32, u32)>, GlassError> {
        let mut input = self.bytes.get(self.offset..).unwrap_or_default();
        if input.is_empty() {
            return Ok(None);
        }
        let gap = read_varint32(&mut input)?;
        let wdf = read_varint32(&mut input)?;
        self.offset = self.bytes.len() - input.len();
        let next = docid
            .checked_add(gap)
            .and_then(|id| id.checked_add(1))
            .filter(|&id| id <= self.last)
            .ok_or(GlassError::corrupt(
                "a posting chunk runs past its last document",
            ))?;
        Ok(Some((next, wdf)))
    }
}

/// The key of a term's first chunk and the prefix of its later chunks' keys.
pub fn term_keys(term: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut first = Vec::with_capacity(term.len() + 6);
    super::codec::push_escaped_term(&mut first, term);
    let mut later = first.clone();
    later.push(0);
    (first, later)
}

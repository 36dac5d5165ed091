//! Value streams: for one slot, every document's value (in ZIM indexes: the title, the word
//! count, the redirect target), stored in chunks keyed by slot and first document id. A chunk is
//! the first value, then (id gap − 1, value) pairs, each value length-prefixed.

use std::borrow::Cow;
use std::ops::Range;

use super::btree::{Cursor, Table};
use super::codec::{push_sortable_uint, read_sortable_uint, read_string, read_varint32};
use super::{GlassError, VALUE_STREAM_KEY};

/// Reads one slot's values; cheapest when asked in increasing document order.
pub struct ValueCursor<'a> {
    cursor: Cursor<'a>,
    prefix: Vec<u8>,
    chunk: Option<ValueChunk<'a>>,
}

/// The chunk being read and where in it the reader stands.
struct ValueChunk<'a> {
    bytes: Cow<'a, [u8]>,
    first: u32,
    /// The document under the reader, and where its value lies in `bytes`.
    at: u32,
    value: Range<usize>,
    /// Where the next pair starts.
    next: usize,
}

impl<'a> ValueCursor<'a> {
    /// A reader of `slot`'s values.
    pub fn new(postlist: Table<'a>, slot: u32) -> Self {
        let mut prefix = VALUE_STREAM_KEY.to_vec();
        let mut rest = slot;
        while rest >= 0x80 {
            prefix.push((rest as u8) | 0x80);
            rest >>= 7;
        }
        prefix.push(rest as u8);
        ValueCursor {
            cursor: Cursor::new(postlist),
            prefix,
            chunk: None,
        }
    }

    /// The value of `docid`, if it has one.
    pub fn get(&mut self, docid: u32) -> Result<Option<&[u8]>, GlassError> {
        let usable = self
            .chunk
            .as_ref()
            .is_some_and(|chunk| chunk.first <= docid);
        if !usable || self.chunk.as_ref().is_some_and(|chunk| chunk.at > docid) {
            self.load(docid)?;
        }
        for pass in 0..2 {
            let Some(chunk) = self.chunk.as_mut() else {
                return Ok(None);
            };
            while chunk.at < docid && chunk.step()? {}
            if chunk.at == docid {
                let chunk = self.chunk.as_ref().expect("just read");
                return Ok(Some(&chunk.bytes[chunk.value.clone()]));
            }
            if chunk.at > docid || pass == 1 {
                return Ok(None);
            }
            // The chunk ended before `docid`: a later chunk may hold it.
            self.load(docid)?;
        }
        Ok(None)
    }

    /// Loads the chunk that would hold `docid`.
    fn load(&mut self, docid: u32) -> Result<(), GlassError> {
        let mut key = self.prefix.clone();
        push_sortable_uint(&mut key, docid);
        self.chunk = None;
        if !self.cursor.seek_floor(&key)? {
            return Ok(());
        }
        let Some(mut id_bytes) = self
            .cursor
            .current()?
            .key
            .strip_prefix(self.prefix.as_slice())
        else {
            return Ok(());
        };
        let first = read_sortable_uint(&mut id_bytes)?;
        let bytes = self.cursor.read_tag()?;
        let mut input: &[u8] = &bytes;
        let value_len = read_string(&mut input)?.len();
        let value_end = bytes.len() - input.len();
        self.chunk = Some(ValueChunk {
            first,
            at: first,
            value: value_end - value_len..value_end,
            next: value_end,
            bytes,
        });
        Ok(())
    }
}

impl ValueChunk<'_> {
    /// Moves to the next document of the chunk; false at its end.
    fn step(&mut self) -> Result<bool, GlassError> {
        let mut input = self.bytes.get(self.next..).unwrap_or_default();
        if input.is_empty() {
            return Ok(false);
        }
        let gap = read_varint32(&mut input)?;
        let value_len = read_string(&mut input)?.len();
        let value_end = self.bytes.len() - input.len();
        self.at = self
            .at
            .checked_add(gap)
            .and_then(|id| id.checked_add(1))
            .ok_or(GlassError::corrupt("a value stream overflows"))?;
        self.value = value_end - value_len..value_end;
        self.next = value_end;
        Ok(true)
    }
}

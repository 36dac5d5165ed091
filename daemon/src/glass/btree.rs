//! One B-tree table of a glass database: blocks, items, and a cursor that finds a key and walks
//! the leaves in key order. Blocks are read in place from the database's bytes; nothing is
//! copied except tags split over several items or stored deflated.
//!
//! A block starts with an 11-byte header (revision, level, two free-space counts, the end of the
//! item directory), then a directory of 2-byte item offsets in key order. A branch item is a
//! child block number, a key and a component number; a leaf item is a size word whose top bits
//! flag compressed/last/first component, a key, a component number unless it is the first, and
//! the tag bytes.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::GlassError;

/// Bytes of the block header before the item directory.
const HEADER_LEN: usize = 11;

/// Trees deeper than this are refused: a real database of a billion entries needs fewer, and a
/// corrupt level byte must not send the cursor down a long chain of blocks.
pub const MAX_LEVELS: u8 = 12;

/// An inflated tag larger than this is refused rather than allocated.
const MAX_TAG_LEN: usize = 256 << 20;

/// One table of the database: where its root is and how its blocks are laid out.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// The whole database.
    pub bytes: &'a [u8],
    /// The table's name, for error messages.
    pub name: &'static str,
    /// The root block, or `None` when the table is empty or absent.
    pub root: Option<u32>,
    /// The root block's level: 0 when the root is a leaf.
    pub root_level: u8,
    /// Block size in bytes.
    pub block_size: usize,
}

/// A parsed block header with its bytes.
#[derive(Clone, Copy)]
struct Block<'a> {
    data: &'a [u8],
    level: u8,
    items: usize,
}

/// One leaf item.
pub struct LeafItem<'a> {
    /// The item's key.
    pub key: &'a [u8],
    /// Which piece of a split tag this is, from 1.
    pub component: u16,
    /// Whether this is the tag's last piece.
    pub last: bool,
    /// Whether the whole tag is deflated (flagged on every piece).
    pub compressed: bool,
    /// This piece of the tag.
    pub tag: &'a [u8],
}

impl<'a> Table<'a> {
    fn block(&self, number: u32, level: u8) -> Result<Block<'a>, GlassError> {
        let start = usize::try_from(number)
            .unwrap_or(usize::MAX)
            .saturating_mul(self.block_size);
        let data = self
            .bytes
            .get(start..start.saturating_add(self.block_size))
            .filter(|_| number != 0)
            .ok_or_else(|| self.corrupt(format!("block {number} lies outside the database")))?;
        if data[4] != level {
            return Err(self.corrupt(format!("block {number} has level {}, not {level}", data[4])));
        }
        let dir_end = usize::from(u16::from_be_bytes([data[9], data[10]]));
        if dir_end < HEADER_LEN || dir_end > data.len() || !(dir_end - HEADER_LEN).is_multiple_of(2)
        {
            return Err(self.corrupt(format!("block {number} has a bad item directory")));
        }
        let items = (dir_end - HEADER_LEN) / 2;
        if items == 0 {
            return Err(self.corrupt(format!("block {number} holds no items")));
        }
        Ok(Block { data, level, items })
    }

    fn corrupt(&self, what: String) -> GlassError {
        GlassError::Corrupt(format!("{} table: {what}", self.name))
    }

    /// The tag stored under `key`, or `None` when the key is absent.
    pub fn get(&self, key: &[u8]) -> Result<Option<Cow<'a, [u8]>>, GlassError> {
        let mut cursor = Cursor::new(*self);
        if !cursor.seek(key)? {
            return Ok(None);
        }
        cursor.read_tag().map(Some)
    }
}

impl<'a> Block<'a> {
    fn item_offset(&self, index: usize) -> usize {
        let at = HEADER_LEN + 2 * index;
        usize::from(u16::from_be_bytes([self.data[at], self.data[at + 1]]))
    }

    /// The child block number and key of branch item `index`.
    fn branch(&self, index: usize) -> Result<(u32, &'a [u8], u16), GlassError> {
        let item = self.data.get(self.item_offset(index)..).unwrap_or_default();
        let key_len = usize::from(*item.get(4).ok_or(GlassError::corrupt("branch item cut"))?);
        let fields = item
            .get(..7 + key_len)
            .ok_or(GlassError::corrupt("branch item cut"))?;
        let child = u32::from_be_bytes([fields[0], fields[1], fields[2], fields[3]]);
        let component = u16::from_be_bytes([fields[5 + key_len], fields[6 + key_len]]);
        Ok((child, &fields[5..5 + key_len], component))
    }

    fn leaf(&self, index: usize) -> Result<LeafItem<'a>, GlassError> {
        let cut = || GlassError::corrupt("leaf item runs past its block");
        let item = self.data.get(self.item_offset(index)..).unwrap_or_default();
        let head = item.get(..3).ok_or_else(cut)?;
        let size = usize::from(u16::from_be_bytes([head[0], head[1]]) & 0x1fff) + 3;
        let item = item.get(..size).ok_or_else(cut)?;
        let flags = head[0];
        let key_end = 3 + usize::from(head[2]);
        let key = item.get(3..key_end).ok_or_else(cut)?;
        let (component, tag_start) = if flags & 0x20 != 0 {
            (1, key_end)
        } else {
            let number = item.get(key_end..key_end + 2).ok_or_else(cut)?;
            (u16::from_be_bytes([number[0], number[1]]), key_end + 2)
        };
        Ok(LeafItem {
            key,
            component,
            last: flags & 0x40 != 0,
            compressed: flags & 0x80 != 0,
            tag: item.get(tag_start..).ok_or_else(cut)?,
        })
    }

    fn key_at(&self, index: usize) -> Result<(&'a [u8], u16), GlassError> {
        if self.level == 0 {
            let item = self.leaf(index)?;
            Ok((item.key, item.component))
        } else {
            let (_, key, component) = self.branch(index)?;
            Ok((key, component))
        }
    }

    /// The last item whose (key, component) is at most (`key`, 1), or `None` if every item is
    /// greater. The first item of a branch block stands for minus infinity.
    fn last_at_most(&self, key: &[u8]) -> Result<Option<usize>, GlassError> {
        let (mut low, mut high) = (usize::from(self.level > 0), self.items);
        while low < high {
            let middle = (low + high) / 2;
            let (item_key, component) = self.key_at(middle)?;
            match item_key.cmp(key).then(component.cmp(&1)) {
                Ordering::Greater => high = middle,
                _ => low = middle + 1,
            }
        }
        Ok(match low {
            0 => None,
            found => Some(found - 1),
        })
    }
}

/// A position in a table's leaves, with the chain of blocks above it.
pub struct Cursor<'a> {
    table: Table<'a>,
    /// From the root down to the leaf: each block and the item taken in it.
    path: Vec<(Block<'a>, usize)>,
    /// Set when the sought key is smaller than every item of the current leaf.
    before_leaf: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor on `table`, not yet positioned.
    pub fn new(table: Table<'a>) -> Self {
        Cursor {
            table,
            path: Vec::new(),
            before_leaf: false,
        }
    }

    /// Moves to the last item whose key is at most `key`; true when that item has exactly this
    /// key (and is the first piece of its tag). An empty table leaves the cursor at its end.
    pub fn seek(&mut self, key: &[u8]) -> Result<bool, GlassError> {
        self.path.clear();
        self.before_leaf = false;
        let Some(root) = self.table.root else {
            return Ok(false);
        };
        let mut block = self.table.block(root, self.table.root_level)?;
        loop {
            let found = block.last_at_most(key)?;
            if block.level == 0 {
                self.before_leaf = found.is_none();
                self.path.push((block, found.unwrap_or(0)));
                break;
            }
            let index = found.unwrap_or(0);
            let (child, _, _) = block.branch(index)?;
            self.path.push((block, index));
            block = self.table.block(child, block.level - 1)?;
        }
        if self.before_leaf {
            return Ok(false);
        }
        let item = self.current()?;
        Ok(item.key == key && item.component == 1)
    }

    /// Moves to the first piece of the last tag whose key is at most `key`; false when every key
    /// is greater.
    pub fn seek_floor(&mut self, key: &[u8]) -> Result<bool, GlassError> {
        if self.seek(key)? {
            return Ok(true);
        }
        if self.path.is_empty() || (self.before_leaf && !self.prev()?) {
            return Ok(false);
        }
        while self.current()?.component != 1 {
            if !self.prev()? {
                return Err(self.table.corrupt("a split tag has no first piece".into()));
            }
        }
        Ok(true)
    }

    /// Moves past every remaining piece of the current tag to the next key; false at the end.
    pub fn next_key(&mut self) -> Result<bool, GlassError> {
        let key = self.current()?.key;
        while self.next()? {
            if self.current()?.key != key {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The leaf item under the cursor.
    pub fn current(&self) -> Result<LeafItem<'a>, GlassError> {
        match self.path.last() {
            Some((leaf, index)) if !self.before_leaf => leaf.leaf(*index),
            _ => Err(GlassError::corrupt("cursor is not on an item")),
        }
    }

    /// Moves to the next leaf item; false at the end of the table.
    pub fn next(&mut self) -> Result<bool, GlassError> {
        if self.path.is_empty() {
            return Ok(false);
        }
        if std::mem::take(&mut self.before_leaf) {
            return Ok(true);
        }
        self.step(true)
    }

    /// Moves to the previous leaf item; false at the start of the table.
    pub fn prev(&mut self) -> Result<bool, GlassError> {
        if self.path.is_empty() {
            return Ok(false);
        }
        // Before the leaf's first item, the previous item is the one before that first item.
        self.before_leaf = false;
        self.step(false)
    }

    /// Steps one item along the leaves, climbing to the nearest block that has a neighbour and
    /// coming down its first (or last) children.
    fn step(&mut self, forward: bool) -> Result<bool, GlassError> {
        let Some(depth) = self.path.iter().rposition(|(block, index)| {
            if forward {
                index + 1 < block.items
            } else {
                *index > 0
            }
        }) else {
            return Ok(false);
        };
        let (_, index) = &mut self.path[depth];
        *index = if forward { *index + 1 } else { *index - 1 };
        let Some(&(left, _)) = self.path.last().filter(|_| depth + 1 < self.path.len()) else {
            return Ok(true);
        };
        for level in depth + 1..self.path.len() {
            let (parent, index) = self.path[level - 1];
            let (child, _, _) = parent.branch(index)?;
            let block = self.table.block(child, parent.level - 1)?;
            self.path[level] = (block, if forward { 0 } else { block.items - 1 });
        }
        // Keys must move on from leaf to leaf: in a damaged tree whose branches share a child,
        // a walk would otherwise pass through the same leaves again and again.
        let (entered, _) = self.path[self.path.len() - 1];
        let (first, last) = (entered.key_at(0)?, entered.key_at(entered.items - 1)?);
        let beyond = if forward {
            first > left.key_at(left.items - 1)?
        } else {
            last < left.key_at(0)?
        };
        if !beyond || first > last {
            return Err(self.table.corrupt("leaves out of key order".into()));
        }
        Ok(true)
    }

    /// Reads the whole tag starting at the current item, joining its pieces and inflating it;
    /// leaves the cursor on its last piece.
    pub fn read_tag(&mut self) -> Result<Cow<'a, [u8]>, GlassError> {
        let first = self.current()?;
        if first.component != 1 {
            return Err(self.table.corrupt("a tag starts with a later piece".into()));
        }
        let (key, compressed) = (first.key, first.compressed);
        let mut tag = Cow::Borrowed(first.tag);
        let mut last = first.last;
        let mut component = 1;
        while !last {
            if !self.next()? {
                return Err(self.table.corrupt("a split tag ends early".into()));
            }
            let piece = self.current()?;
            component += 1;
            if piece.key != key || piece.component != component {
                return Err(self
                    .table
                    .corrupt("a split tag's pieces are out of order".into()));
            }
            if tag.len() + piece.tag.len() > MAX_TAG_LEN {
                return Err(self.table.corrupt("a tag is implausibly large".into()));
            }
            tag.to_mut().extend_from_slice(piece.tag);
            last = piece.last;
        }
        if !compressed {
            return Ok(tag);
        }
        miniz_oxide::inflate::decompress_to_vec_with_limit(&tag, MAX_TAG_LEN)
            .map(Cow::Owned)
            .map_err(|error| {
                self.table
                    .corrupt(format!("a deflated tag is damaged: {error:?}"))
            })
    }
}

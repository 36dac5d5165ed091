//! The link graph of an archive: for every entry, the articles that link to it. Built once per
//! archive by the index worker, in the background, and mapped from its file afterwards.
//!
//! The file is an inbound adjacency list, little-endian throughout: a 32-byte header (the magic
//! `ozmlinks`, the format version as u32, the archive's entry count as u32, the articles read
//! as u64, the links as u64), then `entries + 1` u64 offsets, then the links' sources as u32
//! entry indexes: the articles linking to entry `t` are `sources[offsets[t]..offsets[t + 1]]`,
//! in ascending order. A source links to a target once however often it mentions it; redirects
//! are followed to the entry they lead to; only `<a href>` counts, not images. How a graph is
//! built is [`super::build`]'s business.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::bail;

/// The first bytes of a graph file.
const MAGIC: [u8; 8] = *b"ozmlinks";
/// The format written; a file of another version is built anew.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_BYTES: u64 = 32;

/// A link graph, mapped from its file.
pub struct LinkGraph {
    map: memmap2::Mmap,
    entries: u32,
    /// Articles read to build it.
    pub articles: u64,
    /// Links it holds.
    pub links: u64,
}

/// The articles linking to one entry, in ascending entry order.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    bytes: &'a [u8],
}

impl Sources<'_> {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The source at `position`.
    fn get(&self, position: usize) -> u32 {
        let at = position * 4;
        u32::from_le_bytes([
            self.bytes[at],
            self.bytes[at + 1],
            self.bytes[at + 2],
            self.bytes[at + 3],
        ])
    }

    /// Every source, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|position| self.get(position))
    }

    /// Whether `source` is among them.
    pub fn contains(&self, source: u32) -> bool {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.get(middle).cmp(&source) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

impl LinkGraph {
    /// Maps the graph at `path`, built for an archive of `entries` entries; a file of another
    /// format, another archive or cut short is an error.
    pub fn open(path: &Path, entries: u32) -> anyhow::Result<LinkGraph> {
        let file = File::open(path)?;
        // SAFETY: the file is ozm's own, written once under a temporary name and renamed into
        // place, never modified afterwards; cleanup removes it only by unlinking, which leaves
        // the mapping valid.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        if map.len() < HEADER_BYTES as usize || map[..8] != MAGIC {
            bail!("{} is not an ozm link graph", path.display());
        }
        let word = |at: usize| u32::from_le_bytes(map[at..at + 4].try_into().unwrap_or([0; 4]));
        let long = |at: usize| u64::from_le_bytes(map[at..at + 8].try_into().unwrap_or([0; 8]));
        let (version, stored_entries) = (word(8), word(12));
        if version != FORMAT_VERSION {
            bail!("link graph format {version}, not {FORMAT_VERSION}");
        }
        if stored_entries != entries {
            bail!("the link graph is of an archive of {stored_entries} entries, not {entries}");
        }
        let graph = LinkGraph {
            entries,
            articles: long(16),
            links: long(24),
            map,
        };
        let expected = sources_start(entries) + graph.links * 4;
        if graph.map.len() as u64 != expected || graph.offset(entries) != graph.links {
            bail!("the link graph is cut short or damaged");
        }
        Ok(graph)
    }

    /// The articles that link to the entry `target`.
    pub fn inbound(&self, target: u32) -> Sources<'_> {
        if target >= self.entries {
            return Sources { bytes: &[] };
        }
        let (start, end) = (self.offset(target), self.offset(target + 1));
        // A damaged offset gives no sources rather than a fault.
        let base = sources_start(self.entries);
        let range = (base + start * 4) as usize..(base + end * 4) as usize;
        match self.map.get(range) {
            Some(bytes) if start <= end => Sources { bytes },
            _ => Sources { bytes: &[] },
        }
    }

    /// How many articles link to `target`.
    pub fn inbound_degree(&self, target: u32) -> usize {
        self.inbound(target).len()
    }

    /// Its size on disk.
    pub fn size_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    fn offset(&self, target: u32) -> u64 {
        let at = (HEADER_BYTES + u64::from(target) * 8) as usize;
        self.map
            .get(at..at + 8)
            .and_then(|bytes| bytes.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }
}

fn sources_start(entries: u32) -> u64 {
    HEADER_BYTES + (u64::from(entries) + 1) * 8
}

/// What a graph's header says.
pub struct Header {
    /// The archive's entries, every namespace.
    pub entries: u32,
    /// The articles read.
    pub articles: u64,
    /// The links found.
    pub links: u64,
}

/// Writes a graph to `path` from its (target, source) pairs (target in the high 32 bits) in
/// ascending order: the offsets and the sources are written side by side, through two handles
/// on the one file.
pub fn write(
    path: &Path,
    header: &Header,
    pairs: impl Iterator<Item = std::io::Result<u64>>,
) -> anyhow::Result<()> {
    let file = File::create(path)?;
    let start = sources_start(header.entries);
    file.set_len(start + header.links * 4)?;
    let mut offsets = BufWriter::new(file);
    let mut sources = File::options().write(true).open(path)?;
    sources.seek(SeekFrom::Start(start))?;
    let mut sources = BufWriter::new(sources);

    offsets.write_all(&MAGIC)?;
    offsets.write_all(&FORMAT_VERSION.to_le_bytes())?;
    offsets.write_all(&header.entries.to_le_bytes())?;
    offsets.write_all(&header.articles.to_le_bytes())?;
    offsets.write_all(&header.links.to_le_bytes())?;
    let (mut next_target, mut written) = (0u64, 0u64);
    for pair in pairs {
        let pair = pair?;
        let (target, source) = (pair >> 32, pair as u32);
        if target >= u64::from(header.entries) {
            bail!(
                "a link to entry {target} of an archive of {} entries",
                header.entries
            );
        }
        // The offset of every target up to this one: those between have no links.
        while next_target <= target {
            offsets.write_all(&written.to_le_bytes())?;
            next_target += 1;
        }
        sources.write_all(&source.to_le_bytes())?;
        written += 1;
    }
    while next_target <= u64::from(header.entries) {
        offsets.write_all(&written.to_le_bytes())?;
        next_target += 1;
    }
    if written != header.links || next_target != u64::from(header.entries) + 1 {
        bail!("the links changed while they were written");
    }
    let sources = sources.into_inner().map_err(|error| error.into_error())?;
    sources.sync_all()?;
    let offsets = offsets.into_inner().map_err(|error| error.into_error())?;
    offsets.sync_all()?;
    Ok(())
}

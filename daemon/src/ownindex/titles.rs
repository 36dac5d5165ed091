//! The folded title index: every titled entry's title, lower-cased and without accents, in
//! sorted order, so a title search finds `Düsseldorf` from `dussel` in any archive. Kept as an
//! FST set (compact, mapped from disk, shared by every session) whose keys are the folded title,
//! a NUL and the entry's index as four big-endian bytes, so equal titles stay distinct and a
//! prefix scan lists matches in folded title order.

use std::path::Path;

use fst::{IntoStreamer, Set, SetBuilder, Streamer};

use super::store;
use crate::archive::titles::{fold, indexed_entries};
use crate::archive::{Archive, ArchiveError};

/// A folded title index, mapped from its file.
pub struct TitleIndex {
    set: Set<memmap2::Mmap>,
}

impl TitleIndex {
    /// Maps the index at `path`; a file that is not a valid index is an error.
    pub fn open(path: &Path) -> anyhow::Result<TitleIndex> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the file is ozm's own, written once under a temporary name and renamed into
        // place, never modified afterwards; cleanup removes it only by unlinking, which leaves
        // the mapping valid.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(TitleIndex {
            set: Set::new(map)?,
        })
    }

    /// Up to `limit` entries whose folded title starts with `folded_prefix`, in title order.
    pub fn prefix(&self, folded_prefix: &str, limit: usize) -> Vec<u32> {
        let mut found = Vec::new();
        let mut stream = self.set.range().ge(folded_prefix.as_bytes()).into_stream();
        while let Some(key) = stream.next() {
            if !key.starts_with(folded_prefix.as_bytes()) || found.len() == limit {
                break;
            }
            if let Some(index) = key.last_chunk::<4>() {
                found.push(u32::from_be_bytes(*index));
            }
        }
        found
    }

    /// Titles it holds.
    pub fn titles(&self) -> usize {
        self.set.len()
    }
}

/// Writes the folded title index of `archive` to `path` (through a temporary file); `progress`
/// is told how many entries were read. Returns how many titles it holds.
pub fn build(archive: &Archive, path: &Path, progress: &dyn Fn(u64, u64)) -> anyhow::Result<u64> {
    let entries = indexed_entries(archive)?;
    let total = entries.len() as u64;
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(entries.len());
    for (done, index) in entries.into_iter().enumerate() {
        let entry = match archive.entry(index) {
            Ok(entry) => entry,
            // A damaged entry is left out, as searches leave it out.
            Err(ArchiveError::Corrupt(_)) => continue,
            Err(error) => return Err(error.into()),
        };
        let mut key = fold(&entry.title).into_bytes();
        key.push(0);
        key.extend_from_slice(&index.to_be_bytes());
        keys.push(key);
        if done % 65_536 == 0 {
            progress(done as u64, total);
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let partial = store::partial_file(path);
    let written = (|| -> anyhow::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        let mut builder = SetBuilder::new(file)?;
        for key in &keys {
            builder.insert(key)?;
        }
        let file = builder.into_inner()?;
        file.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(())
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    progress(total, total);
    Ok(keys.len() as u64)
}

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

    /// Its size on disk.
    pub fn size_bytes(&self) -> u64 {
        self.set.as_fst().as_bytes().len() as u64
    }

    /// Titles it holds.
    pub fn titles(&self) -> usize {
        self.set.len()
    }
}

/// Keys sorted in memory at once: about 70 MB. A larger archive's keys are sorted in chunks of
/// this size, each written as a set of its own, and the sets merged into the index, so memory
/// stays bounded on a Wikipedia of twenty million titles.
const CHUNK_KEYS: usize = 1_000_000;

/// Writes the folded title index of `archive` to `path` (through a temporary file); `progress`
/// is told how many entries were read. Returns how many titles it holds.
pub fn build(archive: &Archive, path: &Path, progress: &dyn Fn(u64, u64)) -> anyhow::Result<u64> {
    let entries = indexed_entries(archive)?;
    let total = entries.len() as u64;
    let mut chunks: Vec<std::path::PathBuf> = Vec::new();
    let written = (|| -> anyhow::Result<u64> {
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(entries.len().min(CHUNK_KEYS));
        for (done, &index) in entries.iter().enumerate() {
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
            if keys.len() == CHUNK_KEYS {
                let chunk = chunk_path(path, chunks.len());
                write_set(&chunk, &mut keys)?;
                chunks.push(chunk);
                keys.clear();
            }
            if done % 65_536 == 0 {
                progress(done as u64, total);
            }
        }
        let partial = store::partial_file(path);
        let count = if chunks.is_empty() {
            write_set(&partial, &mut keys)?
        } else {
            let last = chunk_path(path, chunks.len());
            write_set(&last, &mut keys)?;
            chunks.push(last);
            merge_sets(&chunks, &partial)?
        };
        std::fs::rename(&partial, path)?;
        Ok(count)
    })();
    for chunk in &chunks {
        let _ = std::fs::remove_file(chunk);
    }
    if written.is_err() {
        let _ = std::fs::remove_file(store::partial_file(path));
    }
    progress(total, total);
    written
}

/// `titles-1.fst.chunk3.partial-<pid>`: a partial file, so a crashed build's chunks are found
/// and removed like its other partial files.
fn chunk_path(path: &Path, number: usize) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".chunk{number}"));
    store::partial_file(&path.with_file_name(name))
}

/// Sorts `keys` and writes them as a set to `path`; returns how many distinct keys it holds.
fn write_set(path: &Path, keys: &mut [Vec<u8>]) -> anyhow::Result<u64> {
    keys.sort_unstable();
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut builder = SetBuilder::new(file)?;
    let (mut previous, mut count): (Option<&[u8]>, u64) = (None, 0);
    for key in keys.iter() {
        if previous != Some(key.as_slice()) {
            builder.insert(key)?;
            count += 1;
        }
        previous = Some(key);
    }
    finish(builder)?;
    Ok(count)
}

/// Merges the sets in `chunks` into one set at `path`; returns how many keys it holds.
fn merge_sets(chunks: &[std::path::PathBuf], path: &Path) -> anyhow::Result<u64> {
    let mut sets = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        sets.push(Set::new(std::fs::read(chunk)?)?);
    }
    let mut union = sets.iter().collect::<fst::set::OpBuilder>().union();
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut builder = SetBuilder::new(file)?;
    let mut count = 0;
    while let Some(key) = union.next() {
        builder.insert(key)?;
        count += 1;
    }
    finish(builder)?;
    Ok(count)
}

fn finish(builder: SetBuilder<std::io::BufWriter<std::fs::File>>) -> anyhow::Result<()> {
    let file = builder.into_inner()?;
    file.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(title: &str, index: u32) -> Vec<u8> {
        let mut key = fold(title).into_bytes();
        key.push(0);
        key.extend_from_slice(&index.to_be_bytes());
        key
    }

    #[test]
    fn chunks_merge_into_one_index_that_finds_prefixes_in_title_order() {
        let dir = std::env::temp_dir().join(format!("ozm-titles-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, second) = (dir.join("a.chunk"), dir.join("b.chunk"));
        let mut one = vec![key("Düsseldorf", 7), key("Apple", 1), key("Dusk", 3)];
        let mut two = vec![key("dussel", 9), key("Ἀθῆναι", 2), key("Apple", 1)];
        assert_eq!(write_set(&first, &mut one).unwrap(), 3);
        assert_eq!(write_set(&second, &mut two).unwrap(), 3);
        let merged = dir.join("titles.fst");
        assert_eq!(merge_sets(&[first, second], &merged).unwrap(), 5);

        let index = TitleIndex::open(&merged).unwrap();
        assert_eq!(index.prefix(&fold("DUS"), 10), [3, 9, 7]);
        assert_eq!(index.prefix("dussel", 1), [9]);
        assert_eq!(index.prefix(&fold("αθη"), 10), [2]);
        assert_eq!(index.prefix("zebra", 10), Vec::<u32>::new());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn chunk_files_are_partial_files_of_this_process() {
        let chunk = chunk_path(Path::new("/cache/key/titles-1.fst"), 3);
        let expected = format!(
            "/cache/key/titles-1.fst.chunk3.partial-{}",
            std::process::id()
        );
        assert_eq!(chunk, Path::new(&expected));
    }
}

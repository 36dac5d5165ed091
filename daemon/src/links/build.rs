//! Building a link graph (see [`super::graph`] for the file): every article is read once,
//! cluster by cluster, and each of its links kept as a (target, source) pair. A Wikipedia has
//! about six million articles of about a hundred links each, too many pairs to hold: they are
//! sorted in chunks of [`CHUNK_PAIRS`] (64 MB), each written to a file of its own, and the
//! chunks merged into the graph, so memory stays near that bound, plus 12 bytes per article
//! for the reading plan and the paths [`Lookups`] remembers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::graph::{self, Header};
use super::{Lookups, linked_entries};
use crate::archive::{Archive, EntryKind};
use crate::ownindex::{BuildControl, store};

/// (target, source) pairs sorted in memory before they are written out as a chunk.
const CHUNK_PAIRS: usize = 8 << 20;

/// Builds the link graph of `archive` at `path` (through a temporary file); returns the
/// articles read.
pub fn link_graph(
    archive: &Archive,
    path: &Path,
    control: &BuildControl<'_>,
) -> anyhow::Result<u64> {
    let pages = pages(archive)?;
    let total = pages.len() as u64;
    (control.progress)(0, total);
    let mut chunks: Vec<PathBuf> = Vec::new();
    let partial = store::partial_file(path);
    let built = (|| -> anyhow::Result<()> {
        let mut pairs: Vec<u64> = Vec::new();
        let mut lookups = Lookups::default();
        let mut done = 0;
        for group in pages.chunk_by(|a, b| a.0 == b.0) {
            if let Some(why) = control.interrupted() {
                bail!("{why}");
            }
            // A cluster or entry that cannot be read is left out rather than failing the build.
            let _ = archive.read_cluster(group[0].0, |blob| {
                for &(_, number, index) in group {
                    let (Ok(entry), Ok(bytes)) = (archive.entry(index), blob(number)) else {
                        continue;
                    };
                    let html = String::from_utf8_lossy(bytes);
                    let targets = linked_entries(archive, index, &entry.path, &html, &mut lookups);
                    pairs.extend(
                        targets
                            .into_iter()
                            .map(|target| (u64::from(target) << 32) | u64::from(index)),
                    );
                }
            });
            if pairs.len() >= CHUNK_PAIRS {
                let chunk = chunk_path(path, chunks.len());
                chunks.push(chunk.clone());
                write_chunk(&chunk, &mut pairs).context("writing a chunk of links")?;
                pairs.clear();
            }
            done += group.len() as u64;
            (control.progress)(done, total);
        }
        let entries = archive.all_entry_count();
        let links = pairs.len() as u64 + chunk_pairs(&chunks)?;
        let header = Header {
            entries,
            articles: total,
            links,
        };
        if chunks.is_empty() {
            pairs.sort_unstable();
            graph::write(&partial, &header, pairs.into_iter().map(Ok))?;
        } else {
            let chunk = chunk_path(path, chunks.len());
            chunks.push(chunk.clone());
            write_chunk(&chunk, &mut pairs)?;
            drop(pairs);
            graph::write(&partial, &header, Merge::open(&chunks)?)?;
        }
        std::fs::rename(&partial, path)?;
        Ok(())
    })();
    for chunk in &chunks {
        let _ = std::fs::remove_file(chunk);
    }
    if built.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    built?;
    (control.progress)(total, total);
    Ok(total)
}

/// The HTML items of the content namespace as (cluster, blob, entry), in cluster order so that
/// each cluster is decompressed once.
fn pages(archive: &Archive) -> anyhow::Result<Vec<(u32, u32, u32)>> {
    let namespace = if archive.is_new_scheme() { 'C' } else { 'A' };
    let mut pages = Vec::new();
    for index in archive.namespace_range(namespace)? {
        let Ok(entry) = archive.entry(index) else {
            continue;
        };
        if let EntryKind::Item {
            mime,
            cluster,
            blob,
        } = &entry.kind
            && mime.to_ascii_lowercase().starts_with("text/html")
        {
            pages.push((*cluster, *blob, index));
        }
    }
    pages.sort_unstable();
    Ok(pages)
}

/// Chunk `number` of a build of `path`: named as a partial file of this process, so that one a
/// crash leaves behind is removed by the next build and by `ozm cleanup`.
fn chunk_path(path: &Path, number: usize) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(
        "{name}.chunk{number}.partial-{}",
        std::process::id()
    ))
}

/// Sorts `pairs` and writes them to `path`.
fn write_chunk(path: &Path, pairs: &mut [u64]) -> std::io::Result<()> {
    pairs.sort_unstable();
    let mut out = BufWriter::new(File::create(path)?);
    for pair in pairs.iter() {
        out.write_all(&pair.to_le_bytes())?;
    }
    out.flush()
}

/// Pairs written to the chunks so far.
fn chunk_pairs(chunks: &[PathBuf]) -> std::io::Result<u64> {
    chunks
        .iter()
        .map(|chunk| Ok(std::fs::metadata(chunk)?.len() / 8))
        .sum()
}

/// The pairs of several sorted chunks, in ascending order.
struct Merge {
    readers: Vec<BufReader<File>>,
    heads: BinaryHeap<Reverse<(u64, usize)>>,
}

impl Merge {
    fn open(chunks: &[PathBuf]) -> std::io::Result<Merge> {
        let mut merge = Merge {
            readers: Vec::with_capacity(chunks.len()),
            heads: BinaryHeap::with_capacity(chunks.len()),
        };
        for (number, chunk) in chunks.iter().enumerate() {
            let mut reader = BufReader::with_capacity(1 << 16, File::open(chunk)?);
            if let Some(pair) = read_pair(&mut reader)? {
                merge.heads.push(Reverse((pair, number)));
            }
            merge.readers.push(reader);
        }
        Ok(merge)
    }
}

impl Iterator for Merge {
    type Item = std::io::Result<u64>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((pair, number)) = self.heads.pop()?;
        match read_pair(&mut self.readers[number]) {
            Ok(Some(next)) => self.heads.push(Reverse((next, number))),
            Ok(None) => {}
            Err(error) => return Some(Err(error)),
        }
        Some(Ok(pair))
    }
}

fn read_pair(reader: &mut impl Read) -> std::io::Result<Option<u64>> {
    let mut bytes = [0u8; 8];
    match reader.read_exact(&mut bytes) {
        Ok(()) => Ok(Some(u64::from_le_bytes(bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::graph::LinkGraph;

    fn pair(target: u32, source: u32) -> u64 {
        (u64::from(target) << 32) | u64::from(source)
    }

    fn inbound(graph: &LinkGraph, target: u32) -> Vec<u32> {
        graph.inbound(target).iter().collect()
    }

    #[test]
    fn chunks_merge_into_a_graph_that_lists_each_entrys_sources_in_order() {
        let dir = std::env::temp_dir().join(format!("ozm-links-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("links.graph");
        let chunks = [chunk_path(&path, 0), chunk_path(&path, 1)];
        write_chunk(&chunks[0], &mut [pair(5, 1), pair(2, 1), pair(5, 0)]).unwrap();
        write_chunk(&chunks[1], &mut [pair(2, 3), pair(0, 3), pair(5, 4)]).unwrap();
        let header = Header {
            entries: 7,
            articles: 4,
            links: chunk_pairs(&chunks).unwrap(),
        };
        graph::write(&path, &header, Merge::open(&chunks).unwrap()).unwrap();

        let graph = LinkGraph::open(&path, 7).unwrap();
        assert_eq!((graph.articles, graph.links), (4, 6));
        assert_eq!(inbound(&graph, 0), [3]);
        assert_eq!(inbound(&graph, 2), [1, 3]);
        assert_eq!(inbound(&graph, 5), [0, 1, 4]);
        assert_eq!(inbound(&graph, 6), Vec::<u32>::new());
        assert_eq!(inbound(&graph, 99), Vec::<u32>::new());
        assert!(graph.inbound(5).contains(4) && !graph.inbound(5).contains(3));
        assert_eq!(graph.inbound_degree(2), 2);

        // Another archive's graph, or one cut short, is refused.
        assert!(LinkGraph::open(&path, 8).is_err());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(LinkGraph::open(&path, 7).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

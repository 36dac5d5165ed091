//! Decompressed clusters kept for reuse, shared by every archive and every session.
//!
//! The `zim` crate decompresses a whole cluster on every read (1–2 ms for zstd, 12–22 ms for
//! xz), and the clusters it returns borrow the archive, so they cannot be kept. This cache keeps
//! owned copies of recently used compressed clusters, bounded by bytes, so that reading any entry
//! of a recently used cluster costs no decompression. Uncompressed clusters (images, indexes)
//! are read straight from the mapping and never cached here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::sync::Cache;
use zim::{Compression, Zim};

use super::ArchiveError;

/// Hit and size figures for `ozm status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterCacheStats {
    /// Reads served without decompression.
    pub hits: u64,
    /// Reads that decompressed a cluster.
    pub misses: u64,
    /// Clusters held.
    pub clusters: u64,
    /// Bytes held.
    pub bytes: u64,
}

/// Every blob of one cluster, decompressed.
struct DecodedCluster {
    data: Vec<u8>,
    /// `ends[i]` is where blob `i` ends in `data`; blob `i` starts where blob `i - 1` ends.
    ends: Vec<usize>,
}

impl DecodedCluster {
    fn blob(&self, index: u32) -> Result<Arc<[u8]>, ArchiveError> {
        let index = index as usize;
        let end = *self
            .ends
            .get(index)
            .ok_or(ArchiveError::Zim(zim::Error::OutOfBounds))?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Ok(Arc::from(&self.data[start..end]))
    }
}

/// The shared cache of decompressed clusters.
pub struct ClusterCache {
    clusters: Cache<(u64, u32), Arc<DecodedCluster>>,
    next_archive_key: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ClusterCache {
    /// A cache holding at most `max_bytes` of decompressed data.
    pub fn new(max_bytes: u64) -> Self {
        let clusters = Cache::builder()
            .name("clusters")
            .max_capacity(max_bytes)
            .weigher(|_key, cluster: &Arc<DecodedCluster>| {
                u32::try_from(cluster.data.len() + cluster.ends.len() * 8 + 64).unwrap_or(u32::MAX)
            })
            .build();
        ClusterCache {
            clusters,
            next_archive_key: AtomicU64::new(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A key no other open archive uses, so that a reopened file never sees stale clusters.
    pub fn new_archive_key(&self) -> u64 {
        self.next_archive_key.fetch_add(1, Ordering::Relaxed)
    }

    /// The bytes of blob `blob` of cluster `cluster`.
    pub fn blob(
        &self,
        zim: &Zim,
        archive_key: u64,
        cluster: u32,
        blob: u32,
    ) -> Result<Arc<[u8]>, ArchiveError> {
        let handle = zim.get_cluster(cluster)?;
        if handle.compression() == Compression::None {
            let guard = handle.read()?;
            return Ok(Arc::from(guard.blob(blob)?));
        }
        if let Some(decoded) = self.clusters.get(&(archive_key, cluster)) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return decoded.blob(blob);
        }

        // Concurrent readers of one cluster wait for a single decompression.
        let decoded = self
            .clusters
            .try_get_with((archive_key, cluster), || {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let guard = handle.read()?;
                let mut data = Vec::new();
                let mut ends = Vec::with_capacity(guard.blob_count());
                for index in 0..guard.blob_count() {
                    let index = u32::try_from(index).map_err(zim::Error::from)?;
                    data.extend_from_slice(guard.blob(index)?);
                    ends.push(data.len());
                }
                Ok::<_, zim::Error>(Arc::new(DecodedCluster { data, ends }))
            })
            .map_err(|error| ArchiveError::Corrupt(error.to_string()))?;
        decoded.blob(blob)
    }

    /// Current figures.
    pub fn stats(&self) -> ClusterCacheStats {
        self.clusters.run_pending_tasks();
        ClusterCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            clusters: self.clusters.entry_count(),
            bytes: self.clusters.weighted_size(),
        }
    }
}

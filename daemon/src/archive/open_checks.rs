//! Structural checks made when an archive is opened.
//!
//! The `zim` crate reads its tables lazily, so a damaged archive would otherwise open and fail
//! later, on whichever entry a client happens to ask for. These checks read the parts every
//! session touches (both ends of the entry and cluster tables, the ordering of the first entries,
//! the title listing, the metadata entries and the main page) so that such a file is reported as
//! unreadable, with the reason, before anyone uses it. They stay cheap on a 100 GB archive:
//! only a few entries and clusters are read, and the MD5 checksum is left to the background
//! check.

use super::{Archive, ArchiveError, EntryKind};

/// Clusters checked at each end of the cluster table.
const CLUSTERS_CHECKED_PER_END: u32 = 8;

/// Runs every check; the first failure names what is broken.
pub(super) fn check(archive: &Archive) -> Result<(), ArchiveError> {
    let count = archive.all_entry_count();
    if count == 0 {
        return Err(ArchiveError::Corrupt("the archive has no entries".into()));
    }
    entry_table(archive, count).map_err(|e| context("entry table", e))?;
    clusters(archive).map_err(|e| context("cluster table", e))?;
    title_listing(archive, count).map_err(|e| context("title listing", e))?;
    // Metadata entries are parsed but their content is not read: in old archives it shares a
    // compressed cluster with the articles, and decompressing that here would slow every open.
    archive
        .metadata_entries()
        .map_err(|e| context("metadata", e))?;
    if let Some(main) = archive.main_entry().map_err(|e| context("main page", e))? {
        archive.resolve(main).map_err(|e| context("main page", e))?;
    }
    Ok(())
}

fn context(part: &str, error: ArchiveError) -> ArchiveError {
    ArchiveError::Corrupt(format!("{part}: {error}"))
}

fn entry_table(archive: &Archive, count: u32) -> Result<(), ArchiveError> {
    let first = archive.entry(0)?;
    let last = archive.entry(count - 1)?;
    if count > 1 {
        let second = archive.entry(1)?;
        if sort_key(archive, 0)? > sort_key(archive, 1)? {
            return Err(ArchiveError::Corrupt(format!(
                "entries are not sorted by path ({} comes before {})",
                first.path, second.path
            )));
        }
    }
    for entry in [&first, &last] {
        if let EntryKind::Redirect(target) = entry.kind
            && target >= count
        {
            return Err(ArchiveError::Corrupt(format!(
                "redirect {} points past the last entry",
                entry.path
            )));
        }
    }
    Ok(())
}

/// The key entries are sorted by: the namespace byte, then the stored path.
fn sort_key(archive: &Archive, index: u32) -> Result<(u8, String), ArchiveError> {
    let raw = archive.zim().get_by_url_index(index)?;
    Ok((raw.namespace.as_byte(), raw.url))
}

fn clusters(archive: &Archive) -> Result<(), ArchiveError> {
    let total = archive.zim().header.cluster_count;
    let head = 0..total.min(CLUSTERS_CHECKED_PER_END);
    let tail = total.saturating_sub(CLUSTERS_CHECKED_PER_END).max(head.end)..total;
    for index in head.chain(tail) {
        let cluster = archive.zim().get_cluster(index)?;
        // Only uncompressed clusters are loaded: their blob tables cost nothing to read, while
        // decompressing would make opening slow.
        if cluster.compression() == zim::Compression::None {
            cluster.read()?;
        }
    }
    Ok(())
}

fn title_listing(archive: &Archive, count: u32) -> Result<(), ArchiveError> {
    let zim = archive.zim();
    let listing = match zim.article_list_by_title()? {
        Some(listing) => Some(listing),
        None => zim.entry_list_by_title()?,
    };
    let Some(listing) = listing else {
        return Ok(());
    };
    let len = listing.len()?;
    let ends = [
        listing.get(0)?,
        listing.get(len.saturating_sub(1))?,
        listing.get(1)?,
    ];
    for index in ends.into_iter().flatten() {
        if index >= count {
            return Err(ArchiveError::Corrupt(format!(
                "it names entry {index} but the archive has {count}"
            )));
        }
    }
    if let (Some(first), Some(second)) = (listing.get(0)?, listing.get(1)?) {
        let (first, second) = (archive.entry(first)?, archive.entry(second)?);
        if (first.namespace, &first.title) > (second.namespace, &second.title) {
            return Err(ArchiveError::Corrupt(format!(
                "titles are not sorted ({:?} comes before {:?})",
                first.title, second.title
            )));
        }
    }
    Ok(())
}

//! Seeds the `glass_reader` corpus with the real Xapian indexes of the test archives: every
//! `X/fulltext/xapian` and `X/title/xapian` of the `.zim` files under a directory, each written
//! as `<path of the archive, slashes as "__">.<kind>.glass`. Indexes over 1 MiB are left out,
//! as libFuzzer mutates large inputs slowly.
//!
//! `cargo run --example seed_corpus -- <directory of archives> <corpus directory>`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use ozmd::archive::Archive;
use ozmd::archive::clusters::ClusterCache;

/// Indexes larger than this are not worth mutating.
const MAX_SEED_LEN: usize = 1 << 20;

fn main() -> Result<()> {
    let mut arguments = std::env::args_os().skip(1);
    let (Some(archives), Some(corpus)) = (arguments.next(), arguments.next()) else {
        anyhow::bail!("usage: seed_corpus <directory of archives> <corpus directory>");
    };
    let corpus = PathBuf::from(corpus);
    std::fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    let archives = PathBuf::from(archives);
    let mut paths = Vec::new();
    find_archives(&archives, &mut paths)?;
    paths.sort();
    let cache = Arc::new(ClusterCache::new(1 << 20));
    let mut written = 0;
    for path in paths {
        // Archives the reader refuses are not seeds.
        let Ok(archive) = Archive::open(&path, cache.clone()) else {
            continue;
        };
        // Archives of the same name sit in different folders; the seed names keep them apart.
        let relative = path
            .strip_prefix(&archives)
            .unwrap_or(&path)
            .with_extension("");
        let stem = relative.to_string_lossy().replace('/', "__");
        for kind in ["fulltext", "title"] {
            let Ok(Some(bytes)) = archive.with_xapian_index(kind, <[u8]>::to_vec) else {
                continue;
            };
            if bytes.len() <= MAX_SEED_LEN {
                let seed = corpus.join(format!("{stem}.{kind}.glass"));
                std::fs::write(&seed, bytes)
                    .with_context(|| format!("writing {}", seed.display()))?;
                written += 1;
            }
        }
    }
    anyhow::ensure!(written > 0, "no index found under {}", archives.display());
    Ok(())
}

fn find_archives(directory: &Path, paths: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(directory).with_context(|| format!("reading {}", directory.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            find_archives(&path, paths)?;
        } else if path.extension().is_some_and(|extension| extension == "zim") {
            paths.push(path);
        }
    }
    Ok(())
}

//! Articles rendered as Markdown, kept for reuse by every session.
//!
//! Rendering a long article takes milliseconds (tens of them for a large one), and a model reads
//! it page by page: without this cache every page would render the whole article again. Entries
//! are keyed by the archive's cache key and the entry's index. The daemon's own settings size it:
//! `CACHE__MAX_BYTES` bounds its memory, `CACHE__TTL_SECONDS` its entries' lifetime, and
//! `CACHE__ENABLED=false` turns it off. `CACHE__MAX_SIZE` (a count of entries in openzim-mcp) is
//! recorded and compared between instances but not applied: one bound is enough, and bytes are
//! what a machine runs out of.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use moka::sync::Cache;

use crate::settings::Settings;

/// The shared cache of rendered articles.
pub struct RenderedCache {
    texts: Cache<(u64, u32), Arc<str>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl RenderedCache {
    /// A cache sized by the daemon's settings.
    pub fn from_settings(settings: &Settings) -> Self {
        let max_bytes = if settings.cache_enabled {
            settings.cache_max_bytes
        } else {
            0
        };
        Self::new(max_bytes, Duration::from_secs(settings.cache_ttl_seconds))
    }

    /// A cache holding at most `max_bytes` of text, each text for at most `ttl`.
    pub fn new(max_bytes: u64, ttl: Duration) -> Self {
        let texts = Cache::builder()
            .name("rendered")
            .max_capacity(max_bytes)
            .time_to_live(ttl)
            .weigher(|_key, text: &Arc<str>| u32::try_from(text.len() + 64).unwrap_or(u32::MAX))
            .build();
        RenderedCache {
            texts,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The text of entry `entry` of the archive with `archive_key`, rendered once.
    pub fn get_or_render(
        &self,
        archive_key: u64,
        entry: u32,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some(text) = self.texts.get(&(archive_key, entry)) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return text;
        }
        self.texts.get_with((archive_key, entry), || {
            self.misses.fetch_add(1, Ordering::Relaxed);
            Arc::from(render())
        })
    }

    /// Reads served from the cache, and renders.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_is_rendered_once_and_then_served_from_the_cache() {
        let cache = RenderedCache::new(1024 * 1024, Duration::from_secs(60));
        let mut renders = 0;
        for _ in 0..3 {
            let text = cache.get_or_render(1, 7, || {
                renders += 1;
                "# Title".to_owned()
            });
            assert_eq!(&*text, "# Title");
        }
        assert_eq!(renders, 1);
        assert_eq!(cache.counts(), (2, 1));
        assert_eq!(
            &*cache.get_or_render(2, 7, || "other archive".to_owned()),
            "other archive"
        );
    }
}

//! Articles rendered as Markdown, with their outlines, kept for reuse by every session.
//!
//! Rendering a long article takes milliseconds (tens of them for a large one), and a model reads
//! it page by page or section by section: without this cache every call would render the whole
//! article again. Entries are keyed by the archive's cache key, the entry's index and the style.
//! The daemon's own settings size it: `CACHE__MAX_BYTES` bounds its memory, `CACHE__MAX_SIZE`
//! the number of its entries (as in openzim-mcp), `CACHE__TTL_SECONDS` their lifetime, and
//! `CACHE__ENABLED=false` turns it off.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

use crate::archive::{Archive, ArchiveError, Entry};
use crate::content::{self, Rendered, Style};
use crate::settings::Settings;

/// What an entry holds, read as text.
pub enum Article {
    /// HTML rendered as Markdown, or other text as it is.
    Text(Arc<Rendered>),
    /// Bytes that are not text.
    Binary {
        /// Their MIME type.
        mime: String,
        /// Their length.
        size: usize,
    },
}

/// The shared cache of rendered articles.
pub struct RenderedCache {
    texts: Cache<(u64, u32, Style), Arc<Rendered>>,
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
        let ttl = Duration::from_secs(settings.cache_ttl_seconds);
        Self::new(max_bytes, settings.cache_max_size, ttl)
    }

    /// A cache holding at most `max_entries` texts of `max_bytes` in all, each for at most
    /// `ttl`. Every text weighs at least an equal share of `max_bytes`, so that however short
    /// the texts, no more than `max_entries` fit (moka bounds one total weight, not both).
    ///
    /// The least recently read text makes room for a new one. moka's default policy (TinyLFU)
    /// would rather turn the new one away while an old one was read more often: with room for
    /// one text, a model paging through a new article had it rendered again every other page.
    pub fn new(max_bytes: u64, max_entries: u64, ttl: Duration) -> Self {
        let max_entries = max_entries.max(1);
        // A weight is a u32: a larger share is capped, and the capacity with it.
        let share = (max_bytes / max_entries).min(u64::from(u32::MAX));
        let texts = Cache::builder()
            .name("rendered")
            .max_capacity(max_bytes.min(share * max_entries))
            .eviction_policy(EvictionPolicy::lru())
            .time_to_live(ttl)
            .weigher(move |_key, rendered: &Arc<Rendered>| {
                let headings: usize = rendered
                    .outline
                    .iter()
                    .map(|h| h.id.len() + h.text.len() + 96)
                    .sum();
                let size = (rendered.markdown.len() + headings + 64) as u64;
                u32::try_from(size.max(share)).unwrap_or(u32::MAX)
            })
            .build();
        RenderedCache {
            texts,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// This cache, counting on from `before`'s hits and misses: it replaces `before` when a
    /// reload changes the cache settings, and `/metrics` counters must not go back to 0.
    pub fn counting_on(self, before: &RenderedCache) -> Self {
        let (hits, misses) = before.counts();
        self.hits.store(hits, Ordering::Relaxed);
        self.misses.store(misses, Ordering::Relaxed);
        self
    }

    /// Entry `entry` of the archive with `archive_key` in `style`, rendered once.
    pub fn get_or_render(
        &self,
        archive_key: u64,
        entry: u32,
        style: Style,
        render: impl FnOnce() -> Rendered,
    ) -> Arc<Rendered> {
        let key = (archive_key, entry, style);
        if let Some(rendered) = self.texts.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return rendered;
        }
        self.texts.get_with(key, || {
            self.misses.fetch_add(1, Ordering::Relaxed);
            Arc::new(render())
        })
    }

    /// An entry of `archive` read as text: HTML rendered in `style`, other text types as they
    /// are (they have no style), anything else described.
    pub fn article(
        &self,
        archive: &Archive,
        entry: &Entry,
        style: Style,
    ) -> Result<Article, ArchiveError> {
        let mime = entry.mime().unwrap_or_default().to_owned();
        let html = mime.starts_with("text/html");
        if !html && !is_text(&mime) {
            let size = archive.content(entry)?.map_or(0, |bytes| bytes.len());
            return Ok(Article::Binary { mime, size });
        }
        let style = if html { style } else { Style::Full };
        let key = (archive.cache_key(), entry.index, style);
        // The bytes are read only on a miss, and a failed read leaves nothing in the cache.
        if let Some(rendered) = self.texts.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Article::Text(rendered));
        }
        let bytes = archive.content(entry)?.unwrap_or_default();
        let rendered = self.get_or_render(key.0, key.1, style, || {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if html {
                content::render(&text, style, &entry.path)
            } else {
                Rendered::plain(text)
            }
        });
        Ok(Article::Text(rendered))
    }

    /// Reads served from the cache, and renders.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

/// Whether entries of this MIME type are text a model can read as it is.
pub fn is_text(mime: &str) -> bool {
    mime.starts_with("text/")
        || [
            "application/javascript",
            "application/json",
            "application/xml",
        ]
        .iter()
        .any(|text| mime.starts_with(text))
        || mime.ends_with("+xml")
        || mime.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_is_rendered_once_per_style_and_then_served_from_the_cache() {
        let cache = RenderedCache::new(1024 * 1024, 100, Duration::from_secs(60));
        let mut renders = 0;
        for _ in 0..3 {
            let rendered = cache.get_or_render(1, 7, Style::Full, || {
                renders += 1;
                Rendered::plain("# Title".to_owned())
            });
            assert_eq!(rendered.markdown, "# Title");
        }
        assert_eq!(renders, 1);
        assert_eq!(cache.counts(), (2, 1));
        let other = |text: &str| Rendered::plain(text.to_owned());
        let compact = cache.get_or_render(1, 7, Style::Compact, || other("compact"));
        assert_eq!(compact.markdown, "compact");
        let archive = cache.get_or_render(2, 7, Style::Full, || other("other archive"));
        assert_eq!(archive.markdown, "other archive");
    }

    #[test]
    fn no_more_entries_are_kept_than_the_size_allows_however_short() {
        let cache = RenderedCache::new(1024 * 1024, 3, Duration::from_secs(60));
        for entry in 0..20 {
            cache.get_or_render(1, entry, Style::Full, || Rendered::plain("x".to_owned()));
        }
        cache.texts.run_pending_tasks();
        assert_eq!(cache.texts.entry_count(), 3);

        let roomy = RenderedCache::new(1024 * 1024, 100, Duration::from_secs(60));
        for entry in 0..20 {
            roomy.get_or_render(1, entry, Style::Full, || Rendered::plain("x".to_owned()));
        }
        roomy.texts.run_pending_tasks();
        assert_eq!(roomy.texts.entry_count(), 20);

        // A share of 8 GiB is more than a weight can say.
        let huge = RenderedCache::new(8 << 30, 1, Duration::from_secs(60));
        for entry in 0..5 {
            huge.get_or_render(1, entry, Style::Full, || Rendered::plain("x".to_owned()));
        }
        huge.texts.run_pending_tasks();
        assert_eq!(huge.texts.entry_count(), 1);
    }

    /// With room for one text, the one being read stays, however often another was read.
    #[test]
    fn a_new_article_takes_the_place_of_one_read_often() {
        let cache = RenderedCache::new(1024 * 1024, 1, Duration::from_secs(60));
        for _ in 0..30 {
            cache.get_or_render(1, 1, Style::Full, || {
                Rendered::plain("read often".to_owned())
            });
            cache.texts.run_pending_tasks();
        }
        let mut renders = 0;
        for _ in 0..4 {
            cache.get_or_render(1, 2, Style::Full, || {
                renders += 1;
                Rendered::plain("new".to_owned())
            });
            cache.texts.run_pending_tasks();
        }
        assert_eq!(renders, 1);
    }

    #[test]
    fn a_replacing_cache_counts_on() {
        let cache = RenderedCache::new(1024 * 1024, 10, Duration::from_secs(60));
        for _ in 0..3 {
            cache.get_or_render(1, 1, Style::Full, || Rendered::plain("x".to_owned()));
        }
        let replacing = RenderedCache::new(0, 1, Duration::from_secs(60)).counting_on(&cache);
        assert_eq!(replacing.counts(), (2, 1));
    }
}

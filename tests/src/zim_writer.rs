//! A small ZIM writer, so that end-to-end tests and the demo can build archives that no real test
//! archive covers: either namespace scheme, zstd or stored clusters, several clusters, redirects,
//! metadata, the main page and the `X/listing/titleOrdered/v1` article listing.
//!
//! It builds the whole archive in memory. It does not write Xapian full-text or title indexes,
//! extended (64-bit offset) clusters, split output, or the `X/listing/titleOrdered/v0` entry (the
//! header's title pointer list, which every reader falls back to, covers it).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use md5::{Digest, Md5};

const MAGIC: u32 = 72_173_914;
const HEADER_LEN: usize = 80;
const NO_ENTRY: u32 = 0xffff_ffff;
const REDIRECT_MIME: u16 = 0xffff;
const LISTING_V1: &str = "X/listing/titleOrdered/v1";
const LISTING_MIME: &str = "application/octet-stream+zimlisting";
/// Small enough that a test needs only a few MiB of content to span several clusters.
const CLUSTER_LIMIT: usize = 1 << 20;
const TEXT_HINTS: [&str; 3] = ["javascript", "json", "xml"];
const STORED: u8 = 1;
const ZSTD: u8 = 5;

enum Body {
    Item {
        mime: String,
        content: Vec<u8>,
        front: bool,
    },
    Redirect(String),
    /// The v1 listing holds entry indices, which are only known once every entry is sorted.
    Listing,
}

struct Entry {
    /// Namespace, slash, path: ordering these bytes is the (namespace, path) order of the format.
    long_path: String,
    title: String,
    body: Body,
}

impl Entry {
    fn new(long_path: String, title: &str, body: Body) -> Self {
        Self {
            long_path,
            title: title.to_owned(),
            body,
        }
    }

    fn ns(&self) -> u8 {
        self.long_path.as_bytes()[0]
    }

    fn path(&self) -> &str {
        &self.long_path[2..]
    }

    /// The mime type and bytes stored for the entry, with `listing` standing in for the listing.
    fn blob<'a>(&'a self, listing: &'a [u8]) -> Option<(&'a str, &'a [u8])> {
        match &self.body {
            Body::Item { mime, content, .. } => Some((mime, content)),
            Body::Listing => Some((LISTING_MIME, listing)),
            Body::Redirect(_) => None,
        }
    }

    /// Readers substitute the path for an empty title, so titles sort by this.
    fn title_key(&self) -> &str {
        if self.title.is_empty() {
            self.path()
        } else {
            &self.title
        }
    }
}

struct Cluster<'a> {
    compressed: bool,
    blobs: Vec<&'a [u8]>,
    size: usize,
}

impl Cluster<'_> {
    fn encode(&self) -> Result<Vec<u8>> {
        let mut offset = 4 * (self.blobs.len() + 1);
        let mut data = Vec::with_capacity(offset + self.size);
        data.extend(le32(offset)?);
        for blob in &self.blobs {
            offset += blob.len();
            data.extend(le32(offset)?);
        }
        data.extend(self.blobs.concat());
        if !self.compressed {
            return Ok([&[STORED][..], &data].concat());
        }
        let packed = zstd::encode_all(&data[..], zstd::DEFAULT_COMPRESSION_LEVEL)?;
        Ok([&[ZSTD][..], &packed].concat())
    }
}

/// Collects entries for one ZIM archive and writes it with [`ZimBuilder::write`].
#[derive(Default)]
pub struct ZimBuilder {
    old_scheme: bool,
    uncompressed: bool,
    entries: Vec<Entry>,
    main_page: Option<String>,
}

impl ZimBuilder {
    /// New-namespace-scheme archive (ZIM 6.1): content in `C`, metadata in `M`, `W/mainPage`,
    /// and the title listing `X/listing/titleOrdered/v1`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Old-namespace-scheme archive (ZIM 5.0): paths carry their namespace, e.g. "A/Foo",
    /// "I/x.png", "M/Title".
    pub fn old_scheme() -> Self {
        let mut builder = Self::new();
        builder.old_scheme = true;
        builder
    }

    /// Compress text clusters with zstd (default) or store them uncompressed.
    pub fn compress(mut self, yes: bool) -> Self {
        self.uncompressed = !yes;
        self
    }

    /// A metadata entry `M/<name>` with mime type text/plain.
    pub fn metadata(&mut self, name: &str, value: &str) -> &mut Self {
        let body = item_body("text/plain", value.as_bytes(), false);
        self.add(format!("M/{name}"), "", body)
    }

    /// An item. `path` is without namespace in the new scheme ("Foo.html"), with it in the old
    /// ("A/Foo"). `front_article` marks it as an article (counts in article_count and the v1
    /// listing); the old scheme has no listing, and readers count its `A` namespace instead.
    pub fn item(
        &mut self,
        path: &str,
        title: &str,
        mime: &str,
        content: &[u8],
        front_article: bool,
    ) -> &mut Self {
        let body = item_body(mime, content, front_article);
        self.add(self.long_path(path), title, body)
    }

    /// Convenience: an HTML article (text/html, front article).
    pub fn article(&mut self, path: &str, title: &str, html: &str) -> &mut Self {
        self.item(path, title, "text/html", html.as_bytes(), true)
    }

    /// A redirect from `path` to `target_path`, both written as for [`ZimBuilder::item`].
    pub fn redirect(&mut self, path: &str, title: &str, target_path: &str) -> &mut Self {
        let body = Body::Redirect(self.long_path(target_path));
        self.add(self.long_path(path), title, body)
    }

    /// Sets the main page, written as for [`ZimBuilder::item`].
    pub fn main_page(&mut self, path: &str) -> &mut Self {
        self.main_page = Some(self.long_path(path));
        self
    }

    /// Writes the archive to `out`, replacing any file there.
    pub fn write(&self, out: &Path) -> Result<()> {
        let bytes = self.build()?;
        std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
    }

    fn long_path(&self, path: &str) -> String {
        format!("{}{path}", if self.old_scheme { "" } else { "C/" })
    }

    fn add(&mut self, long_path: String, title: &str, body: Body) -> &mut Self {
        self.entries.push(Entry::new(long_path, title, body));
        self
    }

    fn build(&self) -> Result<Vec<u8>> {
        let mut extra = Vec::new();
        if let (false, Some(main)) = (self.old_scheme, &self.main_page) {
            let body = Body::Redirect(main.clone());
            extra.push(Entry::new("W/mainPage".into(), "", body));
        }
        if !self.old_scheme {
            extra.push(Entry::new(LISTING_V1.into(), "", Body::Listing));
        }
        let mut all: Vec<&Entry> = self.entries.iter().chain(&extra).collect();
        for e in &all {
            let ok = matches!(e.long_path.as_bytes(), [ns, b'/', _, ..] if *ns != b'/');
            ensure!(ok, "path {:?} needs a namespace and a name", e.long_path);
            let nul = e.long_path.contains('\0') || e.title.contains('\0');
            ensure!(!nul, "NUL in the path or title of {:?}", e.long_path);
        }
        all.sort_by(|a, b| a.long_path.cmp(&b.long_path));
        if let Some(dup) = all.windows(2).find(|w| w[0].long_path == w[1].long_path) {
            bail!("two entries at {}", dup[0].long_path);
        }
        let index: HashMap<&str, u32> = (0..).zip(&all).map(|(i, e)| (&*e.long_path, i)).collect();
        let lookup = |p: &str| index.get(p).copied().context(format!("no entry at {p}"));

        // Stable sorts keep entries with equal titles in path order, as libzim's check accepts.
        let by_title = |mut ids: Vec<u32>| -> Vec<u8> {
            ids.sort_by_key(|&i| (all[i as usize].ns(), all[i as usize].title_key()));
            ids.into_iter().flat_map(u32::to_le_bytes).collect()
        };
        let title_order = by_title((0..).take(all.len()).collect());
        let is_front = |e: &&Entry| matches!(e.body, Body::Item { front: true, .. });
        let front = (0..).zip(&all).filter(|(_, e)| is_front(e)).map(|(i, _)| i);
        let listing = by_title(front.collect());

        let mimes: BTreeSet<&str> = all.iter().filter_map(|e| Some(e.blob(&[])?.0)).collect();
        let mime_index: HashMap<&str, u16> = mimes.iter().copied().zip(0..).collect();

        // Text goes to zstd clusters and binary to stored ones, each cluster closed past the
        // limit; the listing must be stored, since libzim reads it straight from the file.
        let mut clusters: Vec<Cluster> = Vec::new();
        let mut open: [Option<usize>; 2] = [None, None];
        let mut dirents = Vec::with_capacity(all.len());
        for e in &all {
            let mut d = Vec::new();
            if let Body::Redirect(target) = &e.body {
                d.extend(REDIRECT_MIME.to_le_bytes());
                d.extend([0, e.ns(), 0, 0, 0, 0]);
                d.extend(lookup(target)?.to_le_bytes());
            }
            if let Some((mime, content)) = e.blob(&listing) {
                let text = is_text(mime);
                let slot = &mut open[usize::from(text)];
                let ci = match *slot {
                    Some(ci) if clusters[ci].size < CLUSTER_LIMIT => ci,
                    _ => {
                        let compressed = text && !self.uncompressed;
                        clusters.push(Cluster {
                            compressed,
                            blobs: Vec::new(),
                            size: 0,
                        });
                        *slot.insert(clusters.len() - 1)
                    }
                };
                let cluster = &mut clusters[ci];
                d.extend(mime_index[mime].to_le_bytes());
                d.extend([0, e.ns(), 0, 0, 0, 0]);
                d.extend(le32(ci)?);
                d.extend(le32(cluster.blobs.len())?);
                cluster.blobs.push(content);
                cluster.size += content.len();
            }
            d.extend(e.path().as_bytes());
            d.push(0);
            if e.title != e.path() {
                d.extend(e.title.as_bytes());
            }
            d.push(0);
            dirents.push(d);
        }
        let packed: Result<Vec<_>> = clusters.iter().map(Cluster::encode).collect();
        let clusters = packed?;

        let mut out = vec![0u8; HEADER_LEN];
        for mime in &mimes {
            out.extend(mime.bytes().chain([0]));
        }
        out.push(0);
        let path_ptr_pos = out.len();
        let title_ptr_pos = path_ptr_pos + 8 * all.len();
        let cluster_ptr_pos = title_ptr_pos + 4 * all.len();
        let mut pos = cluster_ptr_pos + 8 * clusters.len();
        for d in &dirents {
            out.extend((pos as u64).to_le_bytes());
            pos += d.len();
        }
        out.extend(title_order);
        for c in &clusters {
            out.extend((pos as u64).to_le_bytes());
            pos += c.len();
        }
        out.extend(dirents.iter().chain(&clusters).flatten());

        // libzim points the header at W/mainPage itself in the new scheme, not at its target.
        let main_page = match &self.main_page {
            Some(_) if !self.old_scheme => lookup("W/mainPage")?,
            Some(main) => lookup(main)?,
            None => NO_ENTRY,
        };
        let version: [u16; 2] = if self.old_scheme { [5, 0] } else { [6, 1] };
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend(MAGIC.to_le_bytes());
        header.extend(version.into_iter().flat_map(u16::to_le_bytes));
        header.extend([0u8; 16]);
        header.extend(le32(all.len())?);
        header.extend(le32(clusters.len())?);
        for at in [path_ptr_pos, title_ptr_pos, cluster_ptr_pos, HEADER_LEN] {
            header.extend((at as u64).to_le_bytes());
        }
        header.extend(main_page.to_le_bytes());
        header.extend(NO_ENTRY.to_le_bytes());
        header.extend((out.len() as u64).to_le_bytes());
        out[..HEADER_LEN].copy_from_slice(&header);

        // A content hash keeps builds reproducible while distinct archives get distinct uuids.
        let uuid = Md5::digest(&out);
        out[8..24].copy_from_slice(&uuid);
        let checksum = Md5::digest(&out);
        out.extend_from_slice(&checksum);
        Ok(out)
    }
}

fn item_body(mime: &str, content: &[u8], front: bool) -> Body {
    Body::Item {
        mime: mime.to_owned(),
        content: content.to_vec(),
        front,
    }
}

fn le32(n: usize) -> Result<[u8; 4]> {
    let n = u32::try_from(n).context("too large for a 32-bit field")?;
    Ok(n.to_le_bytes())
}

/// Whether a mime type is worth compressing, as text is and images and fonts mostly are not.
fn is_text(mime: &str) -> bool {
    mime.starts_with("text/") || TEXT_HINTS.iter().any(|hint| mime.contains(hint))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use zim::Namespace::{Articles, CategoriesArticle, Layout, UserContent};
    use zim::{Compression, Content, DirectoryEntry, Listing, MimeType, Namespace, Target, Zim};

    use super::*;

    /// Writes to a fresh temp file and opens it, so each test reads what a reader would.
    fn round_trip(builder: &ZimBuilder) -> (Zim, PathBuf) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ozm-zimw-{}-{n}.zim", std::process::id()));
        builder.write(&path).unwrap();
        let zim = Zim::new(&path).unwrap();
        zim.verify_checksum().unwrap();
        (zim, path)
    }

    fn get(zim: &Zim, ns: Namespace, path: &str) -> DirectoryEntry {
        zim.get_by_path(ns, path).unwrap().unwrap()
    }

    fn bytes(content: zim::Result<Option<Content>>) -> Vec<u8> {
        content.unwrap().unwrap().to_vec().unwrap()
    }

    fn resolved(zim: &Zim, ns: Namespace, path: &str) -> Vec<u8> {
        let entry = zim.resolve(get(zim, ns, path)).unwrap();
        bytes(zim.entry_content(&entry))
    }

    fn paths(zim: &Zim, listing: zim::Result<Option<Listing>>) -> Vec<String> {
        let ids = listing.unwrap().unwrap().to_vec().unwrap();
        let url = |&i: &u32| zim.get_by_url_index(i).unwrap().url;
        ids.iter().map(url).collect()
    }

    fn sample(builder: &mut ZimBuilder) {
        builder
            .metadata("Title", "Sample")
            .metadata("Language", "eng")
            .article("Main.html", "Welcome", "<h1>Main</h1>")
            .article("Zebra.html", "Aardvark", "<p>a</p>")
            .item("logo.png", "", "image/png", b"\x89PNG\0\x01", false)
            .redirect("Alias.html", "Alias", "Zebra.html")
            .main_page("Main.html");
    }

    #[test]
    fn new_scheme_round_trips() {
        for compress in [true, false] {
            let mut builder = ZimBuilder::new().compress(compress);
            sample(&mut builder);
            let (zim, path) = round_trip(&builder);
            let h = &zim.header;
            assert_eq!([h.version_major, h.version_minor], [6, 1]);
            assert_eq!(h.article_count, 8);
            let main = zim.main_page().unwrap().unwrap();
            assert_eq!([main.url, main.title], ["Main.html", "Welcome"]);
            let well_known = zim.find_by_path(CategoriesArticle, "mainPage").unwrap();
            assert_eq!(h.main_page, well_known);
            assert_eq!(resolved(&zim, UserContent, "Alias.html"), b"<p>a</p>");
            assert_eq!(resolved(&zim, UserContent, "logo.png"), b"\x89PNG\0\x01");
            assert_eq!(bytes(zim.metadata("Title")), b"Sample");

            let text = get(&zim, UserContent, "Main.html");
            assert_eq!(text.mime_type, MimeType::Type("text/html".into()));
            let Some(Target::Cluster(ci, _)) = text.target else {
                panic!("no content")
            };
            let want = [Compression::None, Compression::Zstd][usize::from(compress)];
            assert_eq!(zim.get_cluster(ci).unwrap().compression(), want);
            // "Aardvark" (Zebra.html) sorts before "Welcome" (Main.html).
            let listed = paths(&zim, zim.article_list_by_title());
            assert_eq!(listed, ["Zebra.html", "Main.html"]);
            std::fs::remove_file(path).unwrap();
        }
    }

    #[test]
    fn old_scheme_round_trips() {
        let mut builder = ZimBuilder::old_scheme();
        builder
            .metadata("Title", "Old")
            .article("A/Foo", "Foo", "<p>foo</p>")
            .item("I/x.png", "x.png", "image/png", b"\x89PNG", false)
            .item("-/style.css", "", "text/css", b"p{}", false)
            .redirect("A/Bar", "Bar", "A/Foo")
            .main_page("A/Foo");
        let (zim, path) = round_trip(&builder);
        let h = &zim.header;
        assert_eq!([h.version_major, h.version_minor], [5, 0]);
        assert_eq!(h.article_count, 5);
        assert_eq!(h.main_page, zim.find_by_path(Articles, "Foo").unwrap());
        assert_eq!(zim.main_page().unwrap().unwrap().url, "Foo");
        assert_eq!(
            zim.find_by_path(CategoriesArticle, "mainPage").unwrap(),
            None
        );
        assert_eq!(resolved(&zim, Articles, "Bar"), b"<p>foo</p>");
        assert_eq!(resolved(&zim, Layout, "style.css"), b"p{}");
        assert_eq!(bytes(zim.metadata("Title")), b"Old");
        let by_title = paths(&zim, zim.entry_list_by_title());
        assert_eq!(by_title, ["style.css", "Bar", "Foo", "x.png", "Title"]);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn large_content_spans_several_clusters() {
        let mut builder = ZimBuilder::new();
        let page = |i| format!("<p>{i}</p>").repeat(99_999);
        for i in 0..3 {
            builder.article(&format!("P{i}.html"), &format!("Page {i}"), &page(i));
        }
        let (zim, path) = round_trip(&builder);
        // P0 and P1 fill the first text cluster, the listing has a stored one of its own.
        assert_eq!(zim.header.cluster_count, 3);
        let p2 = get(&zim, UserContent, "P2.html");
        assert_eq!(p2.target, Some(Target::Cluster(1, 0)));
        assert_eq!(resolved(&zim, UserContent, "P2.html"), page(2).as_bytes());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn builds_are_reproducible_and_bad_input_is_refused() {
        let mut builder = ZimBuilder::new();
        sample(&mut builder);
        assert_eq!(builder.build().unwrap(), builder.build().unwrap());
        builder.redirect("Dangling.html", "", "Missing.html");
        assert!(builder.build().is_err());
        let mut dup = ZimBuilder::new();
        dup.article("A.html", "A", "").article("A.html", "B", "");
        assert!(dup.build().is_err());
        let unprefixed = ZimBuilder::old_scheme().article("Foo", "", "").build();
        assert!(unprefixed.is_err());
    }
}

//! ozm's own full-text index of one archive, in tantivy: its schema, its build and its searches.
//!
//! One document per HTML item of the content namespace: its title, the titles of the redirects
//! that lead to it, the words of its path and its visible text, all cut by [`OzmTokenizer`] with
//! positions (for phrases); its entry index, namespace and MIME type for filters. Nothing of the
//! text is stored: results are read back from the archive, as for the embedded index.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use anyhow::Context;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, RegexQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use super::BuildControl;
use super::analyzer::{OzmTokenizer, Side, TOKENIZER};
use super::query::{Clause, UserQuery};
use crate::archive::{Archive, EntryKind};
use crate::fulltext::embedded::{Filter, Found, Page};
use crate::fulltext::snippet;
use crate::fulltext::terms::{Word, is_cjk};

/// Memory tantivy may fill before it writes a segment.
const WRITER_BUDGET_BYTES: usize = 64 << 20;

/// What a word weighs in each field besides the text. A word scores by the field it matches
/// best, plus [`FIELD_TIE_BREAKER`] of the others: a title, being short, already weighs more
/// under BM25, and scores stay near those of the Xapian indexes (within about a third on the
/// benchmark archive), which `cross_file` ranks them against. Path words mostly repeat the title.
const TITLE_BOOST: f32 = 1.0;
const REDIRECT_BOOST: f32 = 1.0;
const PATH_BOOST: f32 = 0.5;
const FIELD_TIE_BREAKER: f32 = 0.3;

/// The fields of an own index.
#[derive(Clone, Copy)]
struct Fields {
    entry: Field,
    namespace: Field,
    mime: Field,
    title: Field,
    redirects: Field,
    path: Field,
    body: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut builder = Schema::builder();
        let fields = Fields {
            entry: builder.add_u64_field("entry", FAST | INDEXED),
            namespace: builder.add_text_field("namespace", STRING),
            mime: builder.add_text_field("mime", STRING),
            title: builder.add_text_field("title", text.clone()),
            redirects: builder.add_text_field("redirects", text.clone()),
            path: builder.add_text_field("path", text.clone()),
            body: builder.add_text_field("body", text),
        };
        (builder.build(), fields)
    }

    fn of(schema: &Schema) -> anyhow::Result<Fields> {
        Ok(Fields {
            entry: schema.get_field("entry")?,
            namespace: schema.get_field("namespace")?,
            mime: schema.get_field("mime")?,
            title: schema.get_field("title")?,
            redirects: schema.get_field("redirects")?,
            path: schema.get_field("path")?,
            body: schema.get_field("body")?,
        })
    }
}

/// An own index ready for searches.
pub struct FulltextIndex {
    reader: IndexReader,
    fields: Fields,
    tokenizer: OzmTokenizer,
    /// Documents it holds.
    pub documents: u64,
    /// Its size on disk.
    pub size_bytes: u64,
}

/// The tokenizer for `archive`, from its `Language` metadata.
pub fn tokenizer_for(archive: &Archive) -> OzmTokenizer {
    let language = archive.metadata_text("Language").ok().flatten();
    OzmTokenizer::for_language(language.as_deref())
}

/// What a build reads: the content namespace's HTML items as (cluster, blob, entry), in
/// cluster order so each cluster is decompressed once, and the titles of the redirects that
/// lead to each target entry.
struct Plan {
    items: Vec<(u32, u32, u32)>,
    redirects: HashMap<u32, Vec<String>>,
}

fn plan(archive: &Archive) -> anyhow::Result<Plan> {
    let namespace = if archive.is_new_scheme() { 'C' } else { 'A' };
    let mut items = Vec::new();
    let mut redirects: HashMap<u32, Vec<String>> = HashMap::new();
    for index in archive.namespace_range(namespace)? {
        let Ok(entry) = archive.entry(index) else {
            continue;
        };
        match &entry.kind {
            EntryKind::Item {
                mime,
                cluster,
                blob,
            } if mime.to_ascii_lowercase().starts_with("text/html") => {
                items.push((*cluster, *blob, index));
            }
            EntryKind::Redirect(_) => {
                if let Ok(resolved) = archive.resolve(entry.clone()) {
                    redirects
                        .entry(resolved.entry.index)
                        .or_default()
                        .push(entry.title);
                }
            }
            _ => {}
        }
    }
    items.sort_unstable();
    Ok(Plan { items, redirects })
}

/// Builds the own index of `archive` into the empty directory `dir`; returns its documents.
pub fn build(archive: &Archive, dir: &Path, control: &BuildControl<'_>) -> anyhow::Result<u64> {
    let (schema, fields) = Fields::schema();
    let index = Index::create_in_dir(dir, schema).context("creating the index")?;
    let tokenizer = tokenizer_for(archive);
    index.tokenizers().register(TOKENIZER, tokenizer);
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET_BYTES)
        .context("starting the index writer")?;
    let Plan {
        items,
        mut redirects,
    } = plan(archive)?;
    let total = items.len() as u64;
    (control.progress)(0, total);
    let mut done = 0;
    for group in items.chunk_by(|a, b| a.0 == b.0) {
        if control.abandoned.load(Ordering::Relaxed) {
            anyhow::bail!("its archive was replaced or deleted");
        }
        if control.stop.load(Ordering::Relaxed) {
            // Dropping the writer would first index the thousands of documents queued for its
            // thread; the daemon is exiting, so the writer is abandoned and its files removed.
            std::mem::forget(writer);
            anyhow::bail!("the daemon is stopping");
        }
        // A cluster or entry that cannot be read is left out rather than failing the build.
        let indexed = archive.read_cluster(group[0].0, |blob| -> tantivy::Result<()> {
            for &(_, number, index) in group {
                let (Ok(entry), Ok(content)) = (archive.entry(index), blob(number)) else {
                    continue;
                };
                let mut document = TantivyDocument::new();
                document.add_u64(fields.entry, u64::from(index));
                document.add_text(fields.namespace, entry.namespace.to_string());
                let mime = entry.mime().unwrap_or("").to_ascii_lowercase();
                document.add_text(fields.mime, mime);
                document.add_text(fields.title, &entry.title);
                for title in redirects.remove(&index).unwrap_or_default() {
                    document.add_text(fields.redirects, title);
                }
                document.add_text(fields.path, &entry.path);
                let html = String::from_utf8_lossy(content);
                document.add_text(fields.body, snippet::all_visible_text(&html));
                writer.add_document(document)?;
            }
            Ok(())
        });
        if let Ok(written) = indexed {
            written?;
        }
        done += group.len() as u64;
        (control.progress)(done, total);
    }
    // Every article is read; what is left is writing the index out.
    (control.progress)(total, total);
    writer.commit().context("writing the index")?;
    writer.wait_merging_threads().context("merging the index")?;
    Ok(total)
}

impl FulltextIndex {
    /// Opens a complete own index of `archive`.
    pub fn open(archive: &Archive, dir: &Path) -> anyhow::Result<FulltextIndex> {
        let index = Index::open_in_dir(dir)?;
        let fields = Fields::of(&index.schema())?;
        let tokenizer = tokenizer_for(archive);
        index.tokenizers().register(TOKENIZER, tokenizer.clone());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let documents = reader.searcher().num_docs();
        Ok(FulltextIndex {
            reader,
            fields,
            tokenizer,
            documents,
            size_bytes: super::store::size_on_disk(dir),
        })
    }

    /// One page of the best matches of `text`, with the exact number of matches.
    pub fn search(
        &self,
        archive: &Archive,
        text: &str,
        (offset, limit): (usize, usize),
        filter: &Filter,
    ) -> anyhow::Result<Option<Page>> {
        let parsed = UserQuery::parse(text, &self.tokenizer);
        let Some(query) = self.query(&parsed, filter) else {
            return Ok(None);
        };
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1))
            .and_offset(offset)
            .order_by_score();
        let (top, matched) = searcher.search(&query, &(top, Count))?;
        let mut found = Vec::with_capacity(top.len());
        for (score, address) in top {
            let column = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64("entry")?;
            let Some(index) = column.first(address.doc_id) else {
                continue;
            };
            let Ok(index) = u32::try_from(index) else {
                continue;
            };
            if let Ok(entry) = archive.entry(index) {
                found.push(Found {
                    entry,
                    score: f64::from(score),
                });
            }
        }
        Ok(Some(Page {
            found,
            matched: u32::try_from(matched).unwrap_or(u32::MAX),
            partial: false,
        }))
    }

    /// The terms a snippet shows in bold for `text`: the folded, stemmed words of its clauses
    /// that are not excluded.
    pub fn hit_terms(&self, text: &str) -> Vec<String> {
        let mut terms = UserQuery::parse(text, &self.tokenizer).shown_terms();
        // Snippets cut Chinese and Japanese text into characters: each character of a pair the
        // query looks up is shown in bold.
        let characters: Vec<String> = terms
            .iter()
            .filter(|term| term.chars().any(is_cjk))
            .flat_map(|term| term.chars().map(String::from).collect::<Vec<_>>())
            .collect();
        terms.extend(characters);
        terms.sort();
        terms.dedup();
        terms
    }

    /// The words of an article's text as snippets show them, each with its term: the
    /// index's terms, Chinese and Japanese characters one by one (not their pairs).
    pub fn words(&self, text: &str) -> Vec<Word> {
        self.tokenizer
            .terms(text, Side::Index)
            .into_iter()
            .filter(|token| {
                !(token.text.chars().nth(1).is_some() && token.text.chars().all(is_cjk))
            })
            .map(|token| Word {
                range: token.offset_from..token.offset_to,
                term: token.text,
            })
            .collect()
    }

    fn query(&self, parsed: &UserQuery, filter: &Filter) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut positive = false;
        for clause in &parsed.clauses {
            match clause {
                Clause::Must(alternatives) => {
                    let options: Vec<(Occur, Box<dyn Query>)> = alternatives
                        .iter()
                        .map(|terms| (Occur::Should, self.in_any_field(terms)))
                        .collect();
                    clauses.push((Occur::Must, Box::new(BooleanQuery::new(options))));
                    positive = true;
                }
                Clause::MustNot(terms) => clauses.push((Occur::MustNot, self.in_any_field(terms))),
            }
        }
        if !positive {
            return None;
        }
        if let Some(namespace) = filter.namespace {
            let term = Term::from_field_text(self.fields.namespace, &namespace.to_string());
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        if let Some(prefix) = &filter.content_type {
            let pattern = format!("{}.*", escape_regex(prefix));
            let query = RegexQuery::from_pattern(&pattern, self.fields.mime).ok()?;
            clauses.push((Occur::Must, Box::new(query)));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// A word or phrase (terms with their positions) in the title, a redirect's title, the path
    /// or the text.
    fn in_any_field(&self, terms: &[(usize, String)]) -> Box<dyn Query> {
        let fields = [
            (self.fields.title, TITLE_BOOST),
            (self.fields.redirects, REDIRECT_BOOST),
            (self.fields.path, PATH_BOOST),
            (self.fields.body, 1.0),
        ];
        let options = fields
            .into_iter()
            .map(|(field, boost)| {
                let query: Box<dyn Query> = match terms {
                    [(_, single)] => Box::new(TermQuery::new(
                        Term::from_field_text(field, single),
                        IndexRecordOption::WithFreqs,
                    )),
                    _ => Box::new(PhraseQuery::new_with_offset(
                        terms
                            .iter()
                            .map(|(at, text)| (*at, Term::from_field_text(field, text)))
                            .collect(),
                    )),
                };
                let boosted: Box<dyn Query> = Box::new(BoostQuery::new(query, boost));
                boosted
            })
            .collect();
        Box::new(DisjunctionMaxQuery::with_tie_breaker(
            options,
            FIELD_TIE_BREAKER,
        ))
    }
}

/// `text` with the characters that mean something in a regular expression escaped.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~\"".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The terms of one word or phrase as a query looks them up, with their positions.
pub fn terms_of(tokenizer: &OzmTokenizer, text: &str) -> Vec<(usize, String)> {
    tokenizer
        .terms(text, Side::Query)
        .into_iter()
        .map(|token| (token.position, token.text))
        .collect()
}

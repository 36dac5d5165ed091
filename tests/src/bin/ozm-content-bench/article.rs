//! The long article: about a megabyte of HTML in many sections, with lists, tables and text in
//! several scripts, written into an archive of its own. A model reads such an article page by
//! page, or its outline first and then the sections it needs; each of those calls is timed, and
//! the pages are checked to add up to the whole text, character for character.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use ozm_tests::fixture::Daemon;
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

use crate::{LOG, Run};

/// The archive's file name, as `zim_file_path` takes it.
const ARCHIVE: &str = "long-article.zim";
/// The long article's path.
const PATH: &str = "Long_article";
/// Bytes of HTML the article grows to.
const HTML_BYTES: usize = 1_000_000;
/// Fresh daemons whose first read (which renders the article) is timed.
const FRESH_DAEMONS: usize = 5;
/// Calls of each outline view.
const VIEW_CALLS: usize = 20;
/// Sections read by id.
const SECTIONS: usize = 20;
/// More pages than this means `next_offset` does not lead to the end.
const MAX_PAGES: usize = 1000;

/// Words the text is drawn from: some in other scripts, and one outside the Basic Multilingual
/// Plane, so that pages cut by characters are cut where a byte count would go wrong.
const WORDS: &str = "river mountain harbour library council railway festival treaty orchestra \
    province cathedral merchant winter bridge garden museum century island valley market \
    Zürich façade naïve Øresund Łódź Paulista Ελλάδα Москва \
    東京 القاهرة Ḥalab crème fjörd \
    smörgåsbord 𝄞 über piñata Kraków résumé Dvořák";
/// Subsection headings, repeated from section to section as in real articles.
const SUBHEADINGS: &str = "Overview History Überblick Notes Données \
    Примечания Reception Legacy";

/// Writes the archive, then times the reads of its long article.
pub fn run(run: &mut Run) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let html = article_html();
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Long article")
        .metadata("Language", "eng");
    zim.article(PATH, "Long article", &html)
        .article(
            "Short_note",
            "Short note",
            "<p>A short page the long one links to.</p>",
        )
        .main_page(PATH);
    zim.write(&dir.path().join(ARCHIVE))?;
    // Each daemon renders the article on its first read; the last one serves the rest.
    let mut first = Vec::new();
    let mut kept = None;
    for _ in 0..FRESH_DAEMONS {
        let daemon = Daemon::start_with_env(&[("OZM_INDEX_BUILDS", "lazy"), LOG]);
        let mut shim = daemon.shim(&[dir.path()]);
        shim.initialize();
        let (elapsed, page) = run.call_ok(&mut shim, "zim_get", article_args(json!({})))?;
        first.push(elapsed);
        kept = Some((shim, daemon, page));
    }
    let (mut shim, daemon, page) = kept.context("no daemon was started")?;
    let total = page["total_chars"].as_u64().unwrap_or(0);
    writeln!(
        run.out,
        "\n1. {PATH} in {ARCHIVE}, written by this driver: {:.2} MB of HTML, {total} characters \
         of Markdown",
        html.len() as f64 / 1e6
    )?;

    // Then every page after the first, from each answer's next_offset.
    let mut text = content(&page)?.to_owned();
    let mut next = page["next_offset"].as_u64();
    let mut following = Vec::new();
    while let Some(offset) = next {
        let (elapsed, page) = run.call_ok(
            &mut shim,
            "zim_get",
            article_args(json!({"content_offset": offset})),
        )?;
        following.push(elapsed);
        text.push_str(content(&page)?);
        next = page["next_offset"].as_u64();
        if following.len() > MAX_PAGES {
            bail!("zim_get gave more than {MAX_PAGES} pages: next_offset never ends");
        }
    }
    let whole = json!({"max_content_length": 10_000_000});
    let (whole_elapsed, whole) = run.call_ok(&mut shim, "zim_get", article_args(whole))?;
    same_text(&text, content(&whole)?)?;

    run.row(
        "zim_get, first page, first read (renders)",
        &first,
        &format!("the first page, on {FRESH_DAEMONS} fresh daemons (lazy: no index build runs)"),
    )?;
    run.row(
        "zim_get, each following page",
        &following,
        &format!(
            "{} pages in all with the default page size, read on from next_offset; they add up \
             to the whole text",
            following.len() + 1
        ),
    )?;
    run.row(
        "zim_get, whole text in one answer",
        &[whole_elapsed],
        "max_content_length=10000000: the text the pages were compared with",
    )?;

    // The outline views, then sections by the ids view=structure gives.
    let mut views = |view: &str| -> anyhow::Result<(Vec<Duration>, Value)> {
        let mut timings = Vec::new();
        let mut answer = Value::Null;
        for _ in 0..VIEW_CALLS {
            let (elapsed, body) =
                run.call_ok(&mut shim, "zim_get", article_args(json!({"view": view})))?;
            timings.push(elapsed);
            answer = body;
        }
        Ok((timings, answer))
    };
    let (toc, toc_answer) = views("toc")?;
    let (structure, structure_answer) = views("structure")?;
    let ids: Vec<&str> = structure_answer["headings"]
        .as_array()
        .context("view=structure without headings")?
        .iter()
        .filter_map(|heading| heading["id"].as_str())
        .collect();
    // What a model reads of each: the answer's JSON text, as the shim sends it.
    let size = |answer: &Value| serde_json::to_string_pretty(answer).map_or(0, |text| text.len());
    let meaning = format!(
        "the headings as a tree with section ids ({} headings), {VIEW_CALLS} calls; {:.0} kB \
         of JSON",
        toc_answer["heading_count"],
        size(&toc_answer) as f64 / 1e3
    );
    run.row("zim_get view=toc", &toc, &meaning)?;
    let meaning = format!(
        "each heading's position and a preview of each section, {VIEW_CALLS} calls; {:.0} kB \
         of JSON",
        size(&structure_answer) as f64 / 1e3
    );
    run.row("zim_get view=structure", &structure, &meaning)?;
    let mut sections = Vec::new();
    for index in 0..SECTIONS.min(ids.len()) {
        let id = ids[index * ids.len() / SECTIONS.min(ids.len())];
        let section = json!({"zim_file_path": ARCHIVE, "entry_path": PATH, "section_id": id});
        sections.push(run.call_ok(&mut shim, "zim_get_section", section)?.0);
    }
    run.row(
        "zim_get_section",
        &sections,
        "sections by their id from view=structure, spread over the article, with subsections",
    )?;
    run.memory(daemon.pid(), "after these reads")?;
    // The shim first: a shim whose daemon is gone says so on stderr.
    drop(shim);
    drop(daemon);
    Ok(())
}

/// `zim_get`'s arguments for the long article, with the `extra` ones.
fn article_args(extra: Value) -> Value {
    let mut arguments = json!({"zim_file_path": ARCHIVE, "entry_path": PATH});
    if let (Some(map), Value::Object(extra)) = (arguments.as_object_mut(), extra) {
        map.extend(extra);
    }
    arguments
}

/// An answer's `content`.
fn content(page: &Value) -> anyhow::Result<&str> {
    page["content"]
        .as_str()
        .with_context(|| format!("an answer without content: {page}"))
}

/// Fails, saying where, unless the pages put together are the whole text.
fn same_text(pages: &str, whole: &str) -> anyhow::Result<()> {
    if pages == whole {
        return Ok(());
    }
    let at = pages
        .chars()
        .zip(whole.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let around =
        |text: &str| -> String { text.chars().skip(at.saturating_sub(40)).take(80).collect() };
    bail!(
        "the pages put together differ from the whole text at character {at} ({} and {} \
         characters):\npages: {:?}\nwhole: {:?}",
        pages.chars().count(),
        whole.chars().count(),
        around(pages),
        around(whole)
    )
}

/// A small deterministic generator, so that every run reads the same article.
struct Draw(u64);

impl Draw {
    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// One of the space-separated `words`.
    fn pick(&mut self, words: &'static str) -> &'static str {
        let count = words.split_whitespace().count();
        words
            .split_whitespace()
            .nth(self.below(count))
            .unwrap_or_default()
    }

    fn word(&mut self) -> &'static str {
        self.pick(WORDS)
    }

    /// A sentence of 6 to 20 words, some in bold or italics, some linked.
    fn sentence(&mut self) -> String {
        let mut words = Vec::new();
        for _ in 0..6 + self.below(15) {
            let word = self.word();
            words.push(match self.below(40) {
                0 => format!("<b>{word}</b>"),
                1 => format!("<i>{word}</i>"),
                2 => format!("<a href=\"Short_note\">{word}</a>"),
                _ => word.to_owned(),
            });
        }
        format!("{}.", words.join(" "))
    }

    fn paragraph(&mut self) -> String {
        let sentences: Vec<String> = (0..2 + self.below(7)).map(|_| self.sentence()).collect();
        format!("<p>{}</p>\n", sentences.join(" "))
    }

    fn list(&mut self, tag: &str) -> String {
        let items: String = (0..3 + self.below(6))
            .map(|_| format!("<li>{}</li>", self.sentence()))
            .collect();
        format!("<{tag}>{items}</{tag}>\n")
    }

    fn table(&mut self) -> String {
        let mut rows = String::from("<tr><th>Place</th><th>Année</th><th>Note</th></tr>");
        for _ in 0..3 + self.below(6) {
            let (place, year) = (self.word(), 1800 + self.below(220));
            rows.push_str(&format!(
                "<tr><td>{place}</td><td>{year}</td><td>{}</td></tr>",
                self.word()
            ));
        }
        format!("<table>{rows}</table>\n")
    }
}

/// About [`HTML_BYTES`] of article: numbered sections, each with a lead and subsections.
fn article_html() -> String {
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let mut html = String::from("<html><head><title>Long article</title></head><body>\n");
    html.push_str("<h1>Long article</h1>\n");
    html.push_str(&draw.paragraph());
    let mut number = 0;
    while html.len() < HTML_BYTES {
        number += 1;
        let heading = format!("Part {number}: {} and {}", draw.word(), draw.word());
        html.push_str(&format!("<h2>{heading}</h2>\n{}", draw.paragraph()));
        for _ in 0..2 + draw.below(3) {
            let sub = draw.pick(SUBHEADINGS);
            html.push_str(&format!("<h3>{sub}</h3>\n"));
            for _ in 0..1 + draw.below(4) {
                html.push_str(&draw.paragraph());
            }
            match draw.below(12) {
                0..=2 => html.push_str(&draw.list("ul")),
                3 => html.push_str(&draw.list("ol")),
                4 | 5 => html.push_str(&draw.table()),
                _ => {}
            }
        }
    }
    html.push_str("</body></html>\n");
    html
}

//! Rendering real-looking MediaWiki pages: furniture, links, tables, headings and outline.

use super::*;

/// The Markdown of a page at the archive's root.
fn html_to_markdown(html: &str) -> String {
    render(html, Style::Full, "Page").markdown
}

const ARTICLE: &str = r##"<html><head><title>Moon</title><style>p { color: red }</style>
<script>var x = 1;</script><link rel="stylesheet" href="s.css"></head><body>
<a class="mw-jump-link" href="#content">Jump to navigation</a><h1>Moon</h1>
<div class="hatnote">For other uses, see Moon (disambiguation).</div>
<table class="infobox"><tbody><tr><th colspan="2">Moon</th></tr>
<tr><td colspan="2"><img src="../I/Full%20Moon.jpg" alt="Full moon"><img src="deco.png"></td></tr>
<tr><th>Mass</th><td>7.342×10<sup>22</sup> kg<sup class="reference"><a href="#n1">1</a></sup></td>
</tr><tr><th>Satellite of</th><td><a href="./Earth">Earth</a> | Sol</td></tr>
<tr><th>Names</th><td><ul><li>Luna</li><li>Selene</li></ul></td></tr><tr><th>Orbit</th><td>
<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td></td></tr></table></td></tr></table>
<p>The <b>Moon</b> is <a href="Natural_satellite#Overview">Earth's only natural satellite</a><sup
class="mw-ref reference"><a href="#n2">[2]</a></sup>. See <a href="../A/Tide">tides</a>,
<a href="%D0%9C%D1%96%D1%81%D1%8F%D1%86.html">Месяц</a> and
<a href="https://example.org/x?a=1&amp;b=%20">NASA</a>.</p><p><a href="100%25_(%zz%4">Odd</a>,
<a href="%FF">bad</a> and <a href="//x/%41">CDN</a> links.</p>
<h2>Name<span class="mw-editsection"><span>[</span><a href="e">edit</a><span>]</span></span></h2>
<p>From Old English <i>mōna</i><span style="display: none">hidden</span>.</p>
<h2>Gallery</h2><h2>References</h2><ol class="references"><li id="n1">NASA.</li></ol>
<div class="navbox"><a href="Mars">Mars</a></div><div class="noprint">Print me not</div>
<script>document.write("late")</script><noscript>Enable JS</noscript></body></html>"##;

#[test]
fn renders_a_mediawiki_article_without_furniture() {
    let expected = "# Moon\n\nFor other uses, see Moon (disambiguation).\n
| Moon |  |
| --- | --- |
| ![Full moon](<I/Full Moon.jpg>) |  |
| Mass | 7.342×10^22 kg |
| Satellite of | [Earth](Earth) \\| Sol |
| Names | Luna; Selene |
| Orbit | a, b; c |

The **Moon** is [Earth's only natural satellite](Natural_satellite). See \
[tides](A/Tide), [Месяц](Місяц.html) and [NASA](https://example.org/x?a=1&b=%20).

[Odd](<100%25_(%zz%4>), [bad](%FF) and [CDN](//x/%41) links.

## Name\n\nFrom Old English *mōna*.";
    assert_eq!(html_to_markdown(ARTICLE), expected);
}

#[test]
fn drops_empty_sections_and_blank_runs_but_not_code() {
    let html = "<h2>A</h2><h3>B</h3><h2>C</h2><p>c  </p>\n\n\n<p>d</p><h3>D</h3><h2>E</h2>\
        <h3>F</h3><pre><span>## x</span>\n\n\n<span>y ``` z</span></pre><h4>G</h4><h2>H</h2>";
    let code = "````\n## x\n\n\ny ``` z\n````";
    let expected = format!("## C\n\nc\n\nd\n\n## E\n\n### F\n\n{code}");
    assert_eq!(html_to_markdown(html), expected);
}

#[test]
fn survives_hostile_input() {
    let hash = |i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as usize;
    let bytes: Vec<u8> = (0..20_000).map(|i| hash(i) as u8).collect();
    let tags: Vec<&str> = "<table>|<td colspan=9>|</tr>|<li>|<a href=%>|</b>|<pre>"
        .split('|')
        .collect();
    let soup: String = (0..5_000).map(|i| tags[hash(i) % tags.len()]).collect();
    let mut inputs = vec![
        String::new(),
        String::from_utf8_lossy(&bytes).into_owned(),
        soup,
        "<table><tr><td colspan=4000000000>x<td colspan=-1>y<tr><th></table".to_owned(),
        "<ol start=99999999999999999999><li>x<li><ul><li>y<img alt=z src=''>".to_owned(),
    ];
    // Each level is a few recursive calls in htmd: this nesting would overflow the stack.
    let deep = ["<div>", "<span>", "<table><tr><td>", "<ul><li>", "<b><i>"];
    inputs.extend(deep.map(|open| format!("{}deep", open.repeat(3_000))));
    for html in &inputs {
        let markdown = html_to_markdown(html);
        assert!(!html.ends_with("deep") || markdown.contains("deep"));
    }
}

/// Headings of every kind a ZIM article carries: MediaWiki headline spans with edit links,
/// `<a name>` anchors, new mwoffliner sections, plain headings in any script, repeats, empty
/// ones, one inside a table, and marker characters the page itself contains.
const SECTIONS: &str = r##"<html><body><h1 id="firstHeading">Тэст</h1>
<p>Lead <b>text</b>, with a <a href="Other">link</a>.</p>
<table class="infobox"><tr><th>Born</th><td>1930</td></tr></table>
<h2><span class="mw-headline" id="Early_life">Early <i>life</i></span><span
class="mw-editsection">[<a href="edit">edit</a>]</span></h2><p>Childhood.</p>
<h3 id="Schooling">Schooling</h3><p>School.</p>
<a name="Career"></a>
<h2>Career &amp; music</h2><p>Work.</p>
<section data-mw-section-id="3"><div class="mw-heading mw-heading2">
<h2 id="Гісторыя_і_спадчына">Гісторыя
 і спадчына</h2><span class="mw-editsection">[edit]</span></div>
<p>Спадчына.</p></section>
<h3>Розныя назвы, 1990-я!</h3><p>Назвы.</p>
<h3>Notes</h3><p>One.</p><h3>Notes</h3><p>Two.</p>
<h4 id="Schooling">Again</h4><p>Twice.</p>
<h2></h2><table><tr><td><h3>In a cell</h3></td><td>x</td></tr></table>
<p>Private use: &#xE000;0&#xE001; stays text.</p>
<h2>References</h2><ol class="references"><li>Ref.</li></ol></body></html>"##;

#[test]
fn headings_get_the_ids_the_page_gives_them_and_exact_positions() {
    let rendered = render(SECTIONS, Style::Full, "Тэст");
    let got: Vec<(&str, &str, &str, u8)> = rendered
        .outline
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                h.id_source.as_str(),
                h.text.as_str(),
                h.level,
            )
        })
        .collect();
    let expected = [
        ("firstHeading", "id", "Тэст", 1),
        ("Early_life", "mw-headline", "Early life", 2),
        ("Schooling", "id", "Schooling", 3),
        ("Career", "anchor", "Career & music", 2),
        ("Гісторыя_і_спадчына", "id", "Гісторыя і спадчына", 2),
        ("Розныя_назвы_1990-я", "slug", "Розныя назвы, 1990-я!", 3),
        ("Notes", "slug", "Notes", 3),
        ("Notes_2", "slug", "Notes", 3),
        ("Schooling_2", "id", "Again", 4),
    ];
    assert_eq!(got, expected);

    // Each position is where the heading's line starts, in chars, and the text has no marker.
    let markdown = &rendered.markdown;
    assert_eq!(rendered.total_chars, markdown.chars().count());
    for heading in &rendered.outline {
        let chars = markdown.chars().skip(heading.position);
        let line: String = chars.take_while(|&c| c != '\n').collect();
        assert_eq!(&markdown[heading.byte..heading.byte + line.len()], line);
        let hashes = "#".repeat(usize::from(heading.level));
        assert!(line.starts_with(&format!("{hashes} ")), "{line}");
    }
    assert!(markdown.contains("## Early *life*\n\nChildhood."));
    assert!(!markdown.contains("edit") && !markdown.contains("References"));
    assert!(markdown.contains("Private use: \u{FFFD}0\u{FFFD} stays text."));
    assert!(!markdown.contains(['\u{E000}', '\u{E001}']));
    assert!(markdown.contains("| ### In a cell | x |"));
}

#[test]
fn sections_reach_to_the_next_heading_of_their_rank() {
    let rendered = render(SECTIONS, Style::Full, "Тэст");
    let text = |section: Section| &rendered.markdown[section.start_byte..section.end_byte];
    let early = rendered.find_section("Early_life").expect("by id");
    assert_eq!(
        text(rendered.section(early, true)),
        "## Early *life*\n\nChildhood.\n\n### Schooling\n\nSchool."
    );
    assert_eq!(
        text(rendered.section(early, false)),
        "## Early *life*\n\nChildhood."
    );
    let section = rendered.section(early, true);
    assert_eq!(section.end - section.start, text(section).chars().count());
    assert_eq!(rendered.parent(early), Some(0));
    assert_eq!(rendered.subsections(early), early + 1..early + 2);
    assert_eq!(rendered.body(early), "Childhood.");

    // Headings are found by their text too, without regard to case, accents or underscores.
    assert_eq!(rendered.find_section("early LIFE"), Some(early));
    assert_eq!(rendered.find_section("ГІСТОРЫЯ_І_СПАДЧЫНА"), Some(4));
    assert_eq!(rendered.find_section("career & Músic"), Some(3));
    assert_eq!(rendered.find_section("Notes_2"), Some(7));
    assert_eq!(rendered.find_section("Legacy"), None);

    // The lead skips the title and its infobox stays in it; the last section runs to the end.
    assert!(
        rendered
            .lead()
            .starts_with("Lead **text**, with a [link](Other).")
    );
    let last = rendered.outline.len() - 1;
    assert!(text(rendered.section(last, true)).ends_with("stays text."));
}

#[test]
fn a_page_without_headings_has_no_outline_and_its_text_is_its_lead() {
    let rendered = render("<p>Just a paragraph.</p>", Style::Full, "Just");
    assert!(rendered.outline.is_empty());
    assert_eq!(rendered.lead(), "Just a paragraph.");
    let titled = render(
        "<h1>Title</h1><h2>Empty</h2><h2>Body</h2><p>Text.</p>",
        Style::Full,
        "Title",
    );
    assert_eq!(titled.lead(), "Text.");
}

#[test]
fn compact_style_puts_the_infobox_first_and_summarises_large_tables() {
    let rows: String = (1..=12)
        .map(|i| format!("<tr><td>row {i}</td><td><a href=\"X{i}\">value {i}</a></td></tr>"))
        .collect();
    let html = format!(
        "<h1>Moon</h1><p>The <a href=\"Moon\">Moon</a> orbits.</p>\
         <table class=\"infobox vcard\"><tr><th colspan=2>Moon</th></tr>\
         <tr><th>Mass</th><td>7.3×10<sup>22</sup> kg</td></tr>\
         <tr><th>Names</th><td><ul><li>Luna</li><li>Selene</li></ul></td></tr></table>\
         <table><caption>Orbits</caption><tr><th>Name</th><th>Value</th></tr>{rows}</table>\
         <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>\
         <p><img src=\"m.png\" alt=\"Map\"> End.</p>"
    );
    let compact = render(&html, Style::Compact, "Moon");
    assert_eq!(
        compact.markdown,
        "# Moon\n\nMass: 7.3×10^22 kg\nNames: Luna; Selene\n\nThe Moon orbits.\n\n\
         [Table \"Orbits\": 12 rows × 2 columns: Name, Value]\n\n| A | B |\n| --- | --- |\n\
         | 1 | 2 |\n\nEnd."
    );
    assert_eq!(compact.outline.len(), 1);
    let full = render(&html, Style::Full, "Moon");
    assert!(full.markdown.contains("| row 12 | [value 12](X12) |"));
    assert!(full.markdown.contains("![Map](m.png)"));
}

#[test]
fn the_scrapers_licence_footer_is_dropped() {
    let html = "<p>Body.</p><!--htdig_noindex--><div>This article is issued from \
        <a href=\"https://en.wikipedia.org\">Wikipedia</a>.</div><!--/htdig_noindex-->\
        <p>After.</p>";
    assert_eq!(html_to_markdown(html), "Body.\n\nAfter.");
}

#[test]
fn marker_characters_in_a_heading_stay_its_text() {
    let rendered = render("<h2>&#xE000;0&#xE001; x</h2><p>y</p>", Style::Full, "X");
    assert_eq!(rendered.markdown, "## \u{FFFD}0\u{FFFD} x\n\ny");
    assert_eq!(rendered.outline[0].text, "\u{FFFD}0\u{FFFD} x");
    assert_eq!(rendered.outline[0].position, 0);
}

#[test]
fn a_heading_left_open_keeps_the_text_the_parser_put_in_it() {
    let open = "<html><body><h2>Open heading<p>ZZEND</p></body></html>";
    assert_eq!(html_to_markdown(open), "## Open heading\n\nZZEND");
    let after = "<p>x</p><h2>Open heading<p>ZZEND</p>";
    assert_eq!(html_to_markdown(after), "x\n\n## Open heading\n\nZZEND");
    // Blocks inside the heading's inline markup follow it, in order.
    let inline = "<h2>A <b>b<p>c</p>d</b> e<ul><li>f</li></ul></h2><p>g</p>";
    assert_eq!(
        html_to_markdown(inline),
        "## A **b**\n\nc\n\nd e\n\n- f\n\ng"
    );
    // A block that holds the heading's whole text is its text.
    let wrapped = "<h3><div>Title</div></h3><p>text</p>";
    assert_eq!(html_to_markdown(wrapped), "### Title\n\ntext");
    // Headings left open one after the other each open their section.
    let rendered = render(
        "<h2 id=one>One<p>first</p><h3>Two<div>second<h4>Three<p>third",
        Style::Full,
        "Page",
    );
    let headings: Vec<(&str, &str, u8)> = rendered
        .outline
        .iter()
        .map(|h| (h.id.as_str(), h.text.as_str(), h.level))
        .collect();
    assert_eq!(
        headings,
        [("one", "One", 2), ("Two", "Two", 3), ("Three", "Three", 4)]
    );
    assert_eq!(
        rendered.markdown,
        "## One\n\nfirst\n\n### Two\n\nsecond\n\n#### Three\n\nthird"
    );
}

#[test]
fn links_are_entry_paths_read_from_the_pages_own_path() {
    let html = r##"<p><a href="Sibling">sib</a>, <a href="../Long">up</a>,
        <a href="/Long">root</a>, <a href="Dir2/../Long?x=1#Top">query</a>,
        <a href="./Two%20Words">two</a>, <a href="Odd_(x">odd</a>, <a href="#Top">here</a>,
        <a href="https://example.org/a?b#c">web</a>, <img src="../I/m.png" alt="Map">,
        <a href="Sub%20Page#Top">self</a>, <a href="?action=edit">edit</a></p>"##;
    assert_eq!(
        render(html, Style::Full, "Dir/Sub Page").markdown,
        "[sib](Dir/Sibling), [up](Long), [root](Long), [query](Dir/Long), \
         [two](<Dir/Two Words>), [odd](<Dir/Odd_(x>), here, [web](https://example.org/a?b#c), \
         ![Map](I/m.png), self, edit"
    );
    // Old-scheme articles name their namespace, and so do their links.
    let old = r#"<p><a href="Georgia">Georgia</a> <img src="../I/m/Ray.jpg" alt="Ray"></p>"#;
    assert_eq!(
        render(old, Style::Full, "A/Ray_Charles").markdown,
        "[Georgia](A/Georgia) ![Ray](I/m/Ray.jpg)"
    );
}

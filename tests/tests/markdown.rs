//! The Markdown `zim_get` makes of an article: no text is lost to broken markup, and every link
//! names an entry the way `zim_get` takes it back.

use ozm_tests::fixture::{Shim, serve_archive};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

fn get(shim: &mut Shim, archive: &str, path: &str) -> Value {
    shim.call_ok(
        "zim_get",
        json!({"zim_file_path": archive, "entry_path": path}),
    )
}

fn content(answer: &Value) -> &str {
    answer["content"].as_str().expect("content")
}

/// The destination of every link and image of `markdown`, `<…>` forms unwrapped.
fn destinations(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for rest in markdown.split("](").skip(1) {
        let target = match rest.strip_prefix('<') {
            Some(angled) => angled.split('>').next(),
            None => rest.split(')').next(),
        };
        found.extend(target.map(|target| target.replace("\\<", "<").replace("\\>", ">")));
    }
    found
}

#[test]
fn a_heading_left_open_keeps_the_rest_of_the_page() {
    let mut zim = ZimBuilder::new();
    zim.article(
        "Open",
        "Open",
        "<html><body><h2>Open heading<p>ZZEND</p></body></html>",
    )
    .article("After", "After", "<p>x</p><h2>Open heading<p>ZZEND</p>")
    .article(
        "Nested",
        "Nested",
        "<h2>One<p>first<h3>Two <b>bold<ul><li>item</li></ul></b>",
    )
    .main_page("Open");
    let (_dir, _daemon, mut shim) = serve_archive(&zim, "open.zim");

    let open = get(&mut shim, "open.zim", "Open");
    assert_eq!(content(&open), "## Open heading\n\nZZEND");
    let after = get(&mut shim, "open.zim", "After");
    assert_eq!(content(&after), "x\n\n## Open heading\n\nZZEND");
    let nested = get(&mut shim, "open.zim", "Nested");
    assert_eq!(
        content(&nested),
        "## One\n\nfirst\n\n### Two **bold**\n\n- item"
    );

    // The heading is a section of its own, holding the text after it.
    let arguments = json!({"zim_file_path": "open.zim", "entry_path": "Open",
                           "section_id": "Open heading"});
    let section = shim.call_ok("zim_get_section", arguments);
    assert_eq!(section["content"], "## Open heading\n\nZZEND");
}

/// A page two levels down linking every way a ZIM page links.
const SUB_PAGE: &str = r##"<p><a href="Sibling">sibling</a>, <a href="../Long">up</a>,
<a href="/Long">root</a>, <a href="../Long?x=1#Part">query</a>, <a href="Two%20Words">two</a>,
<a href="./Odd_(x">odd</a>, <a href="#Top">here</a>, <a href="https://example.org/w?a=b">web</a>,
<img src="../I/Map.png" alt="Map"></p>"##;

#[test]
fn links_in_nested_pages_are_entry_paths_zim_get_takes_as_they_are() {
    let mut zim = ZimBuilder::new();
    zim.article("Dir/Sub Page", "Sub Page", SUB_PAGE)
        .article("Dir/Sibling", "Sibling", "<p>Next door.</p>")
        .article("Dir/Two Words", "Two Words", "<p>Two.</p>")
        .article("Dir/Odd_(x", "Odd", "<p>Odd.</p>")
        .article("Long", "Long", "<h2 id=Part>Part</h2><p>Long.</p>")
        .article(
            "Start",
            "Start",
            r#"<p><a href="Dir/../Long">long</a> <a href="Dir/Sub%20Page">sub</a></p>"#,
        )
        .item("I/Map.png", "Map", "image/png", b"\x89PNG", false)
        .main_page("Start");
    let (_dir, _daemon, mut shim) = serve_archive(&zim, "nested.zim");

    let sub = get(&mut shim, "nested.zim", "Dir/Sub Page");
    assert_eq!(
        content(&sub),
        "[sibling](Dir/Sibling), [up](Long), [root](Long), [query](Long), \
         [two](<Dir/Two Words>), [odd](<Dir/Odd_(x>), here, [web](https://example.org/w?a=b), \
         ![Map](I/Map.png)"
    );
    let start = get(&mut shim, "nested.zim", "Start");
    assert_eq!(content(&start), "[long](Long) [sub](<Dir/Sub Page>)");

    // Each internal destination, passed back as it is, reads the entry it names.
    let markdown = format!("{} {}", content(&sub), content(&start));
    let expected = [
        "Dir/Sibling",
        "Long",
        "Long",
        "Long",
        "Dir/Two Words",
        "Dir/Odd_(x",
        "I/Map.png",
        "Long",
        "Dir/Sub Page",
    ];
    let internal: Vec<String> = destinations(&markdown)
        .into_iter()
        .filter(|target| !target.contains("://"))
        .collect();
    assert_eq!(internal, expected);
    for target in &internal {
        let answer = get(&mut shim, "nested.zim", target);
        assert_eq!(answer["path"], *target, "{answer}");
    }
}

#[test]
fn links_in_old_scheme_articles_name_their_namespace() {
    let mut zim = ZimBuilder::old_scheme();
    zim.article(
        "A/Foo",
        "Foo",
        r#"<p><a href="Bar">bar</a> <img src="../I/m/x.png" alt="x"></p>"#,
    )
    .article("A/Bar", "Bar", "<p>bar</p>")
    .item("I/m/x.png", "x.png", "image/png", b"\x89PNG", false)
    .main_page("A/Foo");
    let (_dir, _daemon, mut shim) = serve_archive(&zim, "old.zim");

    let foo = get(&mut shim, "old.zim", "A/Foo");
    assert_eq!(content(&foo), "[bar](A/Bar) ![x](I/m/x.png)");
    for (target, path) in [("A/Bar", "A/Bar"), ("I/m/x.png", "I/m/x.png")] {
        assert_eq!(get(&mut shim, "old.zim", target)["path"], path);
    }
}

//! Long articles through `zim_get`: pages sized by the token budget that join up to the whole
//! text (a megabyte article, ideographs against English), and tables of contents and structures
//! of long articles kept to one page.

use ozm_tests::fixture::{Daemon, Shim, serve_archive, text};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// An article of `sections` sections mixing English, Belarusian, Greek, Japanese and emoji.
fn long_article(sections: usize) -> String {
    let mut html = String::from("<html><body><h1>Long</h1><p>Lead paragraph.</p>\n");
    for i in 0..sections {
        html.push_str(&format!("<h2>Section {i}: Раздзел {i}</h2>\n"));
        for j in 0..5 {
            html.push_str(&format!(
                "<p>Paragraph {i}.{j}: plain English words to read, Беларуская \
                 мова і слова, Ελληνικά γράμματα, \
                 漢字かな交じり文 and 🦀 {}.</p>\n",
                "filler ".repeat(j * 3)
            ));
        }
        if i % 10 == 0 {
            html.push_str("<h3>Sub</h3><ul><li>one</li><li>two</li></ul>\n");
        }
    }
    html.push_str("</body></html>");
    html
}

/// Reads an entry page by page from offset 0, checking what each page says about the next;
/// returns the pages.
fn read_pages(shim: &mut Shim, arguments: &Value) -> Vec<String> {
    let (mut pages, mut offset, mut count) = (Vec::<String>::new(), 0, None);
    loop {
        let mut call = arguments.clone();
        call["content_offset"] = json!(offset);
        let page = shim.call_ok("zim_get", call);
        let content = text(&page["content"]).to_owned();
        assert_eq!(page["content_offset"], offset);
        assert_eq!(page["page"], pages.len() + 1);
        let page_count = page["page_count"].as_u64().unwrap();
        assert_eq!(*count.get_or_insert(page_count), page_count);
        pages.push(content.clone());
        let Some(next) = page["next_offset"].as_u64() else {
            assert!(page.get("notice").is_none());
            assert_eq!(pages.len() as u64, page_count);
            return pages;
        };
        assert_eq!(next, offset + content.chars().count() as u64);
        let notice = text(&page["notice"]);
        let expected = format!(
            "content_offset={next} to read on (page {} of {page_count};",
            pages.len()
        );
        assert!(notice.contains(&expected), "{notice}");
        offset = next;
    }
}

#[test]
fn a_megabyte_article_read_page_by_page_is_its_whole_text() {
    let html = long_article(950);
    assert!(html.len() > 1_000_000, "{} bytes", html.len());
    let mut builder = ZimBuilder::new();
    builder
        .article("Long.html", "Long", &html)
        .main_page("Long.html");
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "long.zim");

    let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Long.html"});
    let mut whole = arguments.clone();
    whole["max_content_length"] = json!(10_000_000);
    let whole = shim.call_ok("zim_get", whole);
    let full = text(&whole["content"]).to_owned();
    assert_eq!(whole["next_offset"], Value::Null);
    assert!(full.contains("## Section 799: Раздзел 799"));

    // The default page: at most 100,000 chars and about 25,000 tokens.
    let pages = read_pages(&mut shim, &arguments);
    assert!(pages.len() > 10, "{} pages", pages.len());
    for page in &pages[..pages.len() - 1] {
        assert!(page.chars().count() <= 100_000);
        assert!(
            page.ends_with('\n'),
            "a page ends mid-line: {:?}",
            &page[page.len() - 40..]
        );
    }
    assert!(
        pages.concat() == full,
        "the default pages lose or repeat text"
    );

    // A small page size chosen by the call.
    let mut small = arguments.clone();
    small["max_content_length"] = json!(20_011);
    let pages = read_pages(&mut shim, &small);
    assert!(pages.iter().all(|page| page.chars().count() <= 20_011));
    assert!(
        pages.concat() == full,
        "the small pages lose or repeat text"
    );

    // A batch shares one page's budget among its entries.
    let arguments = json!({"zim_file_path": "long.zim",
                           "entry_paths": ["Long.html", "Long.html", "Long.html"]});
    let batch = shim.call_ok("zim_get", arguments);
    let total: u64 = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["estimated_tokens"].as_u64().unwrap())
        .sum();
    assert!(total <= 25_100, "{total} tokens in one batch answer");
    let notice = text(&batch["results"][0]["notice"]);
    assert!(notice.starts_with("Call zim_get with entry_path=\"Long.html\" and content_offset="));
}

#[test]
fn a_page_of_ideographs_holds_fewer_chars_than_a_page_of_english() {
    let english: String = (0..3000)
        .map(|i| format!("<p>Sentence {i} says something in plain English words.</p>"))
        .collect();
    let chinese: String = (0..3000)
        .map(|i| format!("<p>第{i}句话用中文说了一些事情，汉字很多。</p>"))
        .collect();
    let mut builder = ZimBuilder::new();
    builder
        .article(
            "English.html",
            "English",
            &format!("<h1>English</h1>{english}"),
        )
        .article(
            "Chinese.html",
            "Chinese",
            &format!("<h1>中文</h1>{chinese}"),
        )
        .main_page("English.html");
    let (dir, _daemon, mut shim) = serve_archive(&builder, "scripts.zim");

    let first_page = |shim: &mut Shim, path: &str| {
        let arguments = json!({"zim_file_path": "scripts.zim", "entry_path": path});
        let page = shim.call_ok("zim_get", arguments);
        let chars = text(&page["content"]).chars().count();
        let tokens = page["estimated_tokens"].as_u64().unwrap();
        assert!(page["next_offset"].is_u64(), "{path} fits one page");
        assert!(tokens <= 25_000, "{path}: {tokens} tokens");
        chars
    };
    let english = first_page(&mut shim, "English.html");
    let chinese = first_page(&mut shim, "Chinese.html");
    // The Chinese paragraphs hold ASCII digits and blank lines: about 3 chars to 1 token.
    assert!(english > 80_000, "{english} chars of English");
    assert!(chinese < 32_000, "{chinese} chars of Chinese");

    // A session that sets its own page size gets exactly that many chars, in any script.
    let daemon = Daemon::start();
    let env = [("OPENZIM_MCP_CONTENT__MAX_CONTENT_LENGTH", "60000")];
    let mut shim = daemon.shim_with_env(&[dir.path()], &env);
    shim.initialize();
    let arguments = json!({"zim_file_path": "scripts.zim", "entry_path": "Chinese.html"});
    let page = shim.call_ok("zim_get", arguments);
    assert!(text(&page["content"]).chars().count() > 48_000);
}

/// An article of `sections` sections of `subsections` subsections each, under a title.
fn deep_article(sections: usize, subsections: usize) -> String {
    let mut html = String::from("<h1>Deep</h1><p>Lead.</p>");
    for i in 0..sections {
        html.push_str(&format!(
            "<h2>Section number {i}</h2><p>Text of section {i}.</p>"
        ));
        for j in 0..subsections {
            html.push_str(&format!("<h3>Subsection {i}.{j}</h3><p>Text {i}.{j}.</p>"));
        }
    }
    html
}

/// The size of `answer` as the model reads it: chars and estimated tokens of pretty JSON.
fn size(answer: &Value) -> (usize, usize) {
    let json = serde_json::to_string_pretty(answer).unwrap();
    let quarters: usize = json.chars().map(|c| [0, 1, 2, 4, 8][c.len_utf8()]).sum();
    (json.chars().count(), quarters.div_ceil(4))
}

#[test]
fn tables_of_contents_and_structures_of_long_articles_fit_one_page() {
    let mut builder = ZimBuilder::new();
    builder
        .article("Long.html", "Long", &long_article(950))
        .article("Deep.html", "Deep", &deep_article(80, 8))
        .main_page("Long.html");
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "long.zim");
    let view = |shim: &mut Shim, path: &str, view: &str| {
        let arguments = json!({"zim_file_path": "long.zim", "entry_path": path, "view": view});
        shim.call_ok("zim_get", arguments)
    };

    // Leaving out the 640 subsections is enough: every section is listed, with no children.
    let toc = view(&mut shim, "Deep.html", "toc");
    assert_eq!(
        (&toc["truncated"], &toc["omitted_headings"]),
        (&json!(true), &json!(640))
    );
    assert_eq!(
        (&toc["heading_count"], &toc["max_depth"]),
        (&json!(721), &json!(3))
    );
    let sections = toc["toc"][0]["children"].as_array().unwrap();
    assert_eq!(sections.len(), 80);
    assert_eq!(sections[79]["text"], "Section number 79");
    assert!(sections.iter().all(|s| s["children"] == json!([])));
    let note = text(&toc["note"]);
    assert!(
        note.contains("the 640 headings below level 2 are left out"),
        "{note}"
    );
    assert!(note.contains("zim_get_section"), "{note}");
    let structure = view(&mut shim, "Deep.html", "structure");
    assert_eq!(structure["omitted_headings"], 640);
    assert_eq!(structure["headings"].as_array().unwrap().len(), 81);
    assert_eq!(
        structure["sections"][80]["content_preview"],
        "Text of section 79."
    );

    // zim_get_section lists what was left out.
    let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Deep.html",
                           "section_id": "Section number 79", "include_subsections": false});
    let section = shim.call_ok("zim_get_section", arguments);
    assert_eq!(section["subsections"].as_array().unwrap().len(), 8);
    assert_eq!(section["subsections"][7]["title"], "Subsection 79.7");

    // Without its subsections the megabyte article is still too long: the list stops.
    for kind in ["toc", "structure"] {
        let answer = view(&mut shim, "Long.html", kind);
        let (chars, tokens) = size(&answer);
        assert!(
            chars <= 100_000 && tokens <= 25_500,
            "{kind}: {chars} chars, {tokens} tokens"
        );
        assert!(chars > 50_000, "{kind}: only {chars} chars");
        assert_eq!(answer["truncated"], true, "{kind}");
        assert_eq!(answer["heading_count"], 1046);
        let shown = match kind {
            "toc" => answer["toc"][0]["children"].as_array().unwrap().len() + 1,
            _ => answer["headings"].as_array().unwrap().len(),
        };
        assert_eq!(
            shown + answer["omitted_headings"].as_u64().unwrap() as usize,
            1046
        );
        let note = text(&answer["note"]);
        assert!(note.contains("the list stops after 'Section "), "{note}");
        // The note says where the text goes on past the list.
        let offset = note.split("content_offset=").nth(1).unwrap();
        let offset: u64 = offset.split(' ').next().unwrap().parse().unwrap();
        let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Long.html",
                               "content_offset": offset, "max_content_length": 40});
        let next = shim.call_ok("zim_get", arguments);
        assert!(text(&next["content"]).starts_with("## Section "), "{next}");
    }

    // A batch of views shares the page.
    let arguments = json!({"zim_file_path": "long.zim", "view": "structure",
                           "entry_paths": ["Long.html", "Deep.html"]});
    let batch = shim.call_ok("zim_get", arguments);
    let (chars, _) = size(&batch);
    assert!(chars <= 101_000, "{chars} chars in one batch");
    assert_eq!(batch["results"][1]["truncated"], true);

    // A larger max_content_length shows everything.
    let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Deep.html",
                           "view": "toc", "max_content_length": 10_000_000});
    let whole = shim.call_ok("zim_get", arguments);
    assert_eq!(whole["truncated"], false);
    assert!(whole.get("omitted_headings").is_none());
    assert_eq!(
        whole["toc"][0]["children"][79]["children"][7]["text"],
        "Subsection 79.7"
    );
}

#[test]
fn a_structure_without_previews_leaves_the_preview_field_out() {
    let mut html = String::from("<h1>Many</h1><p>Lead.</p>");
    for i in 0..200 {
        let words = format!("Words of section {i}. ").repeat(12);
        html.push_str(&format!("<h2>S{i}</h2><p>{words}</p>"));
    }
    let mut builder = ZimBuilder::new();
    builder
        .article("Many.html", "Many", &html)
        .main_page("Many.html");
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "many.zim");
    let structure = |shim: &mut Shim, max: u64| {
        let arguments = json!({"zim_file_path": "many.zim", "entry_path": "Many.html",
                               "view": "structure", "max_content_length": max});
        shim.call_ok("zim_get", arguments)
    };
    let has_preview = |answer: &Value| -> Vec<bool> {
        let sections = answer["sections"].as_array().unwrap();
        sections
            .iter()
            .map(|s| s.get("content_preview").is_some())
            .collect()
    };

    let whole = structure(&mut shim, 200_000);
    assert_eq!(whole["truncated"], false);
    assert_eq!(has_preview(&whole), [true; 201]);
    assert!(text(&whole["sections"][200]["content_preview"]).starts_with("Words of section 199."));

    // Every heading fits only without previews: the sections then have no preview field.
    let bare = structure(&mut shim, 40_000);
    let note = text(&bare["note"]);
    assert!(note.contains("section previews are left out"), "{note}");
    assert_eq!(
        (&bare["truncated"], &bare["omitted_headings"]),
        (&json!(true), &json!(0))
    );
    assert_eq!(has_preview(&bare), [false; 201]);
    assert_eq!(
        bare["sections"][200],
        json!({"id": "S199", "title": "S199", "level": 2})
    );
    assert_eq!(bare["headings"][200]["text"], "S199");
}

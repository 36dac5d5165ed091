//! Reading entries with `zim_get`: main pages, and the title, MIME type and size of entries as
//! libzim reports them (shared/zim/ORACLE.md), binary entries as base64, and exact paging of a
//! long article.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ozm_tests::fixture::{Shim, serve, serve_archive, test_data};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// Main pages, one per line: archive | path | title | how it is reached (`W/mainPage` in new
/// archives, which redirect to the page; `-` in old ones, whose header names the page itself).
const MAIN_PAGES: &str = "\
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim \
        | A/Першая_старонка.html \
        | Першая старонка | -
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim | Першая_старонка.html \
        | Першая старонка | W/mainPage
    zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim \
        | Першая_старонка.html | Першая старонка | W/mainPage
    libkiwix/zimfile.zim | A/index | Main Page | -
    zim-testing-suite/withns/small.zim | A/main.html | Test ZIM file | -
    zim-testing-suite/nons/small.zim | main.html | Test ZIM file | W/mainPage
    zim-tools/good.zim | main.html | Test ZIM file - Main page | W/mainPage
    libkiwix/example.zim | Wikibooks.html | Wikibooks | W/mainPage
    libkiwix/spelling_correction_test.zim | Willkommen.html | Willkommen | W/mainPage
    libkiwix/corner_cases#&.zim | empty.html | empty.html | W/mainPage";

/// Entries, one per line, as ORACLE.md lists them: archive | path | title | MIME type | size.
const ENTRIES: &str = "\
    zim-testing-suite/nons/small.zim | main.html | Test ZIM file | text/html | 207
    zim-testing-suite/nons/small.zim | favicon.png | favicon.png | image/png | 3201
    zim-testing-suite/withns/small.zim | I/favicon.png | favicon.png | image/png | 3201
    zim-testing-suite/withns/small.zim | X/fulltext/xapian | Xapian Fulltext Index \
        | application/octet-stream+xapian | 32768
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim | Эспэранта.html \
        | Эспэранта \
        | text/html | 5204
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim | s/style.css | s/style.css \
        | text/css | 47674
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim \
        | m/115a35549794e50dcd03e60ef1a1ae24.png | m/115a35549794e50dcd03e60ef1a1ae24.png \
        | image/png | 1170
    zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim \
        | Эспэранта.html \
        | Эспэранта | text/html | 5204
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim | A/Эспэранта.html \
        | Эспэранта \
        | text/html | 5219
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim | -/s/style.css | s/style.css \
        | text/css | 47674
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim \
        | I/m/115a35549794e50dcd03e60ef1a1ae24.png | m/115a35549794e50dcd03e60ef1a1ae24.png \
        | image/png | 1170
    libkiwix/zimfile.zim | A/Ray_Charles | Ray Charles | text/html | 7860
    libkiwix/zimfile.zim | I/m/Ray_Charles_classic_piano_pose.jpg \
        | m/Ray_Charles_classic_piano_pose.jpg | image/jpeg | 20077
    libkiwix/zimfile.zim | -/s/css_modules/content.parsoid.css \
        | s/css_modules/content.parsoid.css | text/css | 4453
    libkiwix/example.zim | Wikibooks.html | Wikibooks | text/html | 83784
    libkiwix/example.zim | Wikibooks_files/287px-ChewyGingerCookies.jpg \
        | Wikibooks_files/287px-ChewyGingerCookies.jpg | image/jpeg | 21187
    libkiwix/example.zim | FreedomBox for Communities_Offline Wikipedia - Wikibooks, open \
        books for an open world_files/index(13).php | FreedomBox for Communities_Offline \
        Wikipedia - Wikibooks, open books for an open world_files/index(13).php \
        | inode/x-empty | 0
    libkiwix/corner_cases#&.zim | c#.html | C# | text/html | 404
    libkiwix/corner_cases#&.zim | empty.html | empty.html | text/html | 0
    libkiwix/corner_cases#&.zim | empty.png | empty.png | image/png | 0
    zim-tools/good.zim | main.html | Test ZIM file - Main page | text/html | 989
    zim-tools/good.zim | article1.html | Test ZIM file - Article 1 | text/html | 240
    zim-tools/good.zim | favicon.png | favicon.png | image/png | 5123
    zim-tools/poor.zim | article1.html | Test ZIM file - Article 1 | text/html | 240
    zim-tools/poor.zim | empty.html | empty.html | text/html | 0
    zim-tools/poor.zim | image.png | image.png | image/png | 5123
    libkiwix/poor.zim | article1.html | Test ZIM file - Article 1 | text/html | 240
    libkiwix/poor.zim | image.png | image.png | image/png | 5123
    libkiwix/spelling_correction_test.zim | Abenteuer.html | Abenteuer | text/html | 225
    libkiwix/spelling_correction_test.zim | Applaus.html | Applaus | text/html | 211
    libkiwix/spelling_correction_test.zim | favicon.png | favicon.png | image/png | 1011";

/// The fields of each line of a `|`-separated table.
fn table(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .map(|line| line.split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn main_pages_resolve_to_the_entry_libzim_names() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for row in table(MAIN_PAGES) {
        let [archive, path, title, via] = row[..] else {
            panic!("bad row {row:?}")
        };
        let page = shim.call_ok(
            "zim_get",
            json!({"zim_file_path": archive, "main_page": true}),
        );
        assert_eq!(page["zim_file_path"], archive);
        assert_eq!(page["path"], path, "{archive}");
        assert_eq!(page["title"], title, "{archive}");
        assert_eq!(page["content_type"], "text/html", "{archive}");
        let via = if via == "-" {
            Value::Null
        } else {
            json!([via])
        };
        assert_eq!(page["redirected_from"], via, "{archive}");
    }

    // The corner-case archive's main page is an empty item: no text, nothing further to read.
    let empty = json!({"zim_file_path": "libkiwix/corner_cases#&.zim", "main_page": true});
    let empty = shim.call_ok("zim_get", empty);
    assert_eq!(empty["content"], "");
    assert_eq!(empty["total_chars"], 0);
    assert_eq!(empty["next_offset"], Value::Null);

    // Neither poor.zim has a main page.
    for archive in ["zim-tools/poor.zim", "libkiwix/poor.zim"] {
        let none = shim.call_tool(
            "zim_get",
            json!({"zim_file_path": archive, "main_page": true}),
        );
        assert!(none.is_error, "{}", none.body);
        assert_eq!(none.body["operation"], "entry_not_found");
        assert!(
            none.body["message"]
                .as_str()
                .unwrap()
                .contains("no main page")
        );
    }
}

#[test]
fn entries_have_the_title_type_and_size_libzim_reports() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for row in table(ENTRIES) {
        let [archive, path, title, mime, size] = row[..] else {
            panic!("bad row {row:?}")
        };
        let size: usize = size.parse().expect("a size");
        let at = format!("{archive} {path}");

        // binary=true returns the stored bytes whatever their type: their length is the size.
        let raw = json!({"zim_file_path": archive, "entry_path": path, "binary": true});
        let raw = shim.call_ok("zim_get", raw);
        assert_eq!(raw["path"], path, "{at}");
        assert_eq!(raw["title"], title, "{at}");
        assert_eq!(raw["mime_type"], mime, "{at}");
        assert_eq!(raw["size"], size, "{at}");
        assert_eq!(raw["truncated"], false, "{at}");
        let bytes = STANDARD
            .decode(raw["data"].as_str().expect("base64 data"))
            .expect("base64");
        assert_eq!(bytes.len(), size, "{at}");

        // Read as text, the entry names its type; entries that are not text are only described.
        let read = shim.call_ok(
            "zim_get",
            json!({"zim_file_path": archive, "entry_path": path}),
        );
        assert_eq!(read["title"], title, "{at}");
        assert_eq!(read["content_type"], mime, "{at}");
        if !mime.starts_with("text/") {
            assert_eq!(read["content"], Value::Null, "{at}");
            assert_eq!(read["size"], size, "{at}");
            assert!(
                read["note"].as_str().unwrap().contains("binary=true"),
                "{at}"
            );
        }
    }
}

#[test]
fn binary_entries_are_sent_whole_or_described_when_larger_than_asked() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let favicon = |max: u64| {
        json!({"zim_file_path": "zim-tools/good.zim", "entry_path": "favicon.png",
               "binary": true, "max_content_length": max})
    };
    let whole = shim.call_ok("zim_get", favicon(5123));
    assert_eq!(whole["encoding"], "base64");
    let bytes = STANDARD
        .decode(whole["data"].as_str().expect("base64 data"))
        .expect("base64");
    assert_eq!(bytes.len(), 5123);
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    // One byte short: the answer says so and carries no partial data.
    let short = shim.call_ok("zim_get", favicon(5122));
    assert_eq!(short["truncated"], true);
    assert_eq!(short["size"], 5123);
    assert!(short.get("data").is_none(), "{short}");
    assert!(
        short["note"]
            .as_str()
            .unwrap()
            .contains("max_content_length"),
        "{short}"
    );
}

#[test]
fn a_long_article_read_page_by_page_is_exactly_the_text_of_one_read() {
    // Over 300 KB of HTML mixing one-, two-, three- and four-byte characters, so that page
    // boundaries fall inside words and inside multi-byte characters.
    let paragraphs: String = (0..5000)
        .map(|i| {
            let scripts = "Ελληνικά, кириллица, 漢字 and 🦀";
            format!("<p>Paragraph {i:04}: {scripts} {i}.</p>\n")
        })
        .collect();
    let html = format!("<html><body><h1>Long</h1>\n{paragraphs}</body></html>");
    assert!(html.len() > 300_000);
    let mut builder = ZimBuilder::new();
    builder
        .article("Long.html", "Long", &html)
        .main_page("Long.html");
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "long.zim");

    let read = |shim: &mut Shim, offset: u64, max: u64| {
        let arguments = json!({"zim_file_path": "long.zim", "entry_path": "Long.html",
                               "content_offset": offset, "max_content_length": max});
        shim.call_ok("zim_get", arguments)
    };
    let whole = read(&mut shim, 0, 10_000_000);
    let text = whole["content"].as_str().expect("text").to_owned();
    let total = whole["total_chars"].as_u64().expect("total_chars");
    assert_eq!(text.chars().count() as u64, total);
    // Rendering drops the markup but keeps the 5000 paragraphs' text.
    assert!(total > 200_000, "only {total} characters");
    assert_eq!(whole["next_offset"], Value::Null);
    assert_eq!(whole["truncated"], false);
    for word in ["Paragraph 0000", "Paragraph 4999", "кириллица", "🦀"] {
        assert!(text.contains(word), "{word} is missing");
    }

    // At most 19997 characters a page (a prime, out of step with the paragraph pattern); a page
    // may end early at a break, and the next one starts exactly there.
    let page_size = 19_997;
    let mut pages = Vec::new();
    let mut offset = 0;
    loop {
        let page = read(&mut shim, offset, page_size);
        assert_eq!(page["content_offset"], offset);
        assert_eq!(page["total_chars"], total);
        let content = page["content"].as_str().expect("text").to_owned();
        let len = content.chars().count() as u64;
        assert!(
            0 < len && len <= page_size,
            "a page of {len} characters at {offset}"
        );
        pages.push(content);
        let Some(next) = page["next_offset"].as_u64() else {
            assert_eq!(offset + len, total);
            assert_eq!(page["truncated"], false);
            break;
        };
        assert_eq!(next, offset + len);
        assert_eq!(page["truncated"], true);
        offset = next;
    }
    assert!(pages.len() as u64 >= total.div_ceil(page_size));
    assert!(pages.concat() == text, "the pages lose or repeat text");
}

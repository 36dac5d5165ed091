//! How entries are named for `zim_get`: redirects followed hop by hop, redirect loops refused,
//! `A/` paths in old archives and `Foo` or `C/Foo` in new ones, percent-encoded paths copied from
//! links, and paths in non-Latin scripts.

use ozm_tests::fixture::{Shim, ToolResult, serve, test_data};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

const WITHNS_WIKIBOOKS: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const V63_WIKIBOOKS: &str = "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim";
const RAY_CHARLES: &str = "libkiwix/zimfile.zim";
const CORNER_CASES: &str = "libkiwix/corner_cases#&.zim";

fn get(shim: &mut Shim, archive: &str, path: &str) -> ToolResult {
    shim.call_tool(
        "zim_get",
        json!({"zim_file_path": archive, "entry_path": path}),
    )
}

/// `%XX` for every byte outside the unreserved URL characters, as links in articles are written.
fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[test]
fn redirects_are_followed_and_name_the_hop() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let cases = [
        (RAY_CHARLES, "A/A_Song_For_You", "A/A_Song_for_You"),
        (
            RAY_CHARLES,
            "A/(The_Night_Time_Is)_The_Right_Time",
            "A/Night_Time_Is_the_Right_Time",
        ),
        (
            WITHNS_WIKIBOOKS,
            "A/Вугорская_кухня.html",
            "A/Венгерская_кухня.html",
        ),
        (WITHNS_WIKIBOOKS, "-/favicon", "I/favicon.png"),
        (
            NONS_WIKIBOOKS,
            "Вугорская_кухня.html",
            "Венгерская_кухня.html",
        ),
        (NONS_WIKIBOOKS, "Main_Page.html", "Першая_старонка.html"),
        (NONS_WIKIBOOKS, "favicon", "favicon.png"),
        (V63_WIKIBOOKS, "index.htm", "Першая_старонка.html"),
        (
            V63_WIKIBOOKS,
            "Галоўная_старонка.html",
            "Першая_старонка.html",
        ),
        (CORNER_CASES, "c_sharp.html", "c#.html"),
    ];
    for (archive, from, to) in cases {
        let read = get(&mut shim, archive, from);
        assert!(!read.is_error, "{archive} {from}: {}", read.body);
        assert_eq!(read.body["path"], to, "{archive} {from}");
        assert_eq!(
            read.body["redirected_from"],
            json!([from]),
            "{archive} {from}"
        );
    }

    // The target itself is read without a detour.
    let target = get(&mut shim, NONS_WIKIBOOKS, "Венгерская_кухня.html");
    assert_eq!(target.body["title"], "Венгерская кухня");
    assert_eq!(target.body["redirected_from"], Value::Null);
}

#[test]
fn redirect_loops_are_reported_instead_of_followed() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // redirect_loop.html points at itself; redirect_loop2 -> redirect_loop3 -> redirect_loop.
    for archive in ["zim-tools/poor.zim", "libkiwix/poor.zim"] {
        for start in [
            "redirect_loop.html",
            "redirect_loop2.html",
            "redirect_loop3.html",
        ] {
            let looped = get(&mut shim, archive, start);
            assert!(looped.is_error, "{archive} {start}: {}", looped.body);
            assert_eq!(looped.body["operation"], "redirect_loop", "{}", looped.body);
            let chain = looped.body["redirect_chain"].as_array().expect("the chain");
            assert_eq!(chain[0], start);
            assert_eq!(chain.last().unwrap(), "redirect_loop.html", "{chain:?}");
            assert!(looped.body["message"].as_str().unwrap().contains(archive));
        }
    }
}

#[test]
fn old_archives_take_namespaced_paths_and_new_ones_take_bare_or_c_paths() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // New scheme (ZIM 6.1, 6.3, and 5.1 by its minor version): `Foo` and `C/Foo` are the same
    // entry, answered as `Foo`.
    for (archive, path) in [
        (NONS_WIKIBOOKS, "Эспэранта.html"),
        (V63_WIKIBOOKS, "Эспэранта.html"),
        ("libkiwix/poor.zim", "article1.html"),
    ] {
        for asked in [path.to_owned(), format!("C/{path}")] {
            let read = get(&mut shim, archive, &asked);
            assert!(!read.is_error, "{archive} {asked}: {}", read.body);
            assert_eq!(read.body["path"], path);
        }
    }
    let wrong = get(&mut shim, NONS_WIKIBOOKS, "A/Эспэранта.html");
    assert!(wrong.is_error);
    assert_eq!(wrong.body["operation"], "entry_not_found");

    // Old scheme: the namespace is part of the path; articles are in `A`, images in `I`.
    let article = get(&mut shim, WITHNS_WIKIBOOKS, "A/Эспэранта.html");
    assert_eq!(article.body["path"], "A/Эспэранта.html");
    let image = get(
        &mut shim,
        RAY_CHARLES,
        "I/m/Ray_Charles_classic_piano_pose.jpg",
    );
    assert_eq!(image.body["content_type"], "image/jpeg");
    for (archive, path) in [
        (WITHNS_WIKIBOOKS, "C/Эспэранта.html"),
        (RAY_CHARLES, "m/Ray_Charles_classic_piano_pose.jpg"),
        (RAY_CHARLES, "C/Ray_Charles"),
    ] {
        let missing = get(&mut shim, archive, path);
        assert!(missing.is_error, "{archive} {path}: {}", missing.body);
        assert_eq!(missing.body["operation"], "entry_not_found");
        assert_eq!(missing.body["entry_path"], path);
        // The message tells the model how to find the right path.
        let message = missing.body["message"].as_str().unwrap();
        assert!(
            message.contains("`A/`") && message.contains("zim_search"),
            "{message}"
        );
    }

    let missing = get(&mut shim, "zim-tools/good.zim", "no_such_page.html");
    assert!(missing.is_error);
    assert_eq!(missing.body["operation"], "entry_not_found");
    assert_eq!(missing.body["entry_path"], "no_such_page.html");
}

#[test]
fn percent_encoded_paths_copied_from_links_reach_the_entry() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let cyrillic = percent_encode("Эспэранта.html");
    let old_cyrillic = percent_encode("A/Эспэранта.html");
    let cases = [
        (CORNER_CASES, "c%23.html", "c#.html", Value::Null),
        (CORNER_CASES, "c%23", "c#.html", json!(["c#"])),
        (CORNER_CASES, "c#", "c#.html", json!(["c#"])),
        (
            NONS_WIKIBOOKS,
            cyrillic.as_str(),
            "Эспэранта.html",
            Value::Null,
        ),
        (
            WITHNS_WIKIBOOKS,
            old_cyrillic.as_str(),
            "A/Эспэранта.html",
            Value::Null,
        ),
    ];
    for (archive, asked, path, via) in cases {
        let read = get(&mut shim, archive, asked);
        assert!(!read.is_error, "{archive} {asked}: {}", read.body);
        assert_eq!(read.body["path"], path, "{archive} {asked}");
        assert_eq!(read.body["redirected_from"], via, "{archive} {asked}");
    }
    assert_eq!(
        get(&mut shim, CORNER_CASES, "c%23.html").body["title"],
        "C#"
    );
}

#[test]
fn non_latin_paths_are_read_as_typed_prefixed_or_percent_encoded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut builder = ZimBuilder::new();
    builder
        .metadata("Title", "Cities")
        .article("Київ.html", "Київ", "<p>Столиця України</p>")
        .article("Ἀθῆναι", "Ἀθῆναι", "<p>Πρωτεύουσα</p>")
        .article("東京/新宿", "新宿", "<p>東京都の区</p>")
        .article("كتاب.html", "كتاب", "<p>مكتبة</p>")
        .redirect("Kyiv", "Kyiv", "Київ.html")
        .main_page("Київ.html");
    builder
        .write(&dir.path().join("cities.zim"))
        .expect("writing the archive");
    let (_daemon, mut shim) = serve(&[dir.path()]);

    let cases = [
        ("Київ.html", "Столиця"),
        ("Ἀθῆναι", "Πρωτεύουσα"),
        ("東京/新宿", "東京都"),
        ("كتاب.html", "مكتبة"),
    ];
    for (path, word) in cases {
        for asked in [path.to_owned(), format!("C/{path}"), percent_encode(path)] {
            let read = get(&mut shim, "cities.zim", &asked);
            assert!(!read.is_error, "{asked}: {}", read.body);
            assert_eq!(read.body["path"], path, "{asked}");
            let content = read.body["content"].as_str().unwrap();
            assert!(content.contains(word), "{asked}: {content}");
        }
    }
    let redirect = get(&mut shim, "cities.zim", "Kyiv");
    assert_eq!(redirect.body["path"], "Київ.html");
    assert_eq!(redirect.body["redirected_from"], json!(["Kyiv"]));
}

/// Every internal link of a rendered article, as Markdown writes it: `[text](target)`, where the
/// target may hold balanced parentheses.
fn internal_links(markdown: &str) -> Vec<String> {
    let mut links = Vec::new();
    for rest in markdown.split("](").skip(1) {
        let mut depth = 0;
        let end = rest.find(|c| {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => return true,
                ')' => depth -= 1,
                _ => {}
            }
            false
        });
        if let Some(end) = end {
            links.push(rest[..end].to_owned());
        }
    }
    links.retain(|target| !target.contains("://") && !target.starts_with('#'));
    links
}

#[test]
fn links_in_a_rendered_article_can_be_passed_back_as_entry_paths() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let article = get(&mut shim, RAY_CHARLES, "A/Ray_Charles");
    assert!(!article.is_error, "{}", article.body);
    let links = internal_links(article.body["content"].as_str().expect("content"));
    assert!(links.len() >= 5, "too few links: {links:?}");
    for link in &links {
        let target = get(&mut shim, RAY_CHARLES, link);
        assert!(
            !target.is_error,
            "the link {link} leads nowhere: {}",
            target.body
        );
    }
    let tangerine = get(&mut shim, RAY_CHARLES, "Tangerine_Records_(1962)");
    assert_eq!(
        tangerine.body["path"], "A/Tangerine_Records_(1962)",
        "{}",
        tangerine.body
    );
}

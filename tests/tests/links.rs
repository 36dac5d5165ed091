//! `zim_links`: the links of a page as a browser would follow them (every internal one readable
//! with `zim_get` through the path it is given), the entries a page links to most, and the
//! articles that link to a page, from the link graph the daemon builds in the background and
//! keeps across restarts.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ozm_tests::fixture::{
    Daemon, Shim, canonical_temp_dir, index_key, test_data, wait_for_kind_ready,
};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

/// The rows of an answer.
fn rows(answer: &Value) -> &Vec<Value> {
    answer["results"].as_array().expect("a result list")
}

/// One field of every row, as text (`-` where a row lacks it).
fn column<'a>(answer: &'a Value, field: &str) -> Vec<&'a str> {
    rows(answer)
        .iter()
        .map(|row| row[field].as_str().unwrap_or("-"))
        .collect()
}

fn links(shim: &mut Shim, arguments: Value) -> Value {
    shim.call_ok("zim_links", arguments)
}

fn refused(shim: &mut Shim, arguments: Value) -> String {
    let result = shim.call_tool("zim_links", arguments.clone());
    assert!(
        result.is_error,
        "{arguments} was answered: {:#}",
        result.body
    );
    result.body["operation"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The page an answer is about: every direction names it `path`, as zim_get does.
fn page_named(answer: &Value) -> &str {
    assert!(answer.get("entry_path").is_none(), "{answer:#}");
    answer["path"].as_str().expect("the page's path")
}

fn session(daemon: &Daemon, dir: &Path) -> Shim {
    let mut shim = daemon.shim(&[dir]);
    shim.initialize();
    shim
}

#[test]
fn every_internal_link_of_ray_charles_is_read_by_zim_get_through_its_path() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &data.join("libkiwix"));
    let page = json!({"zim_file_path": "zimfile.zim", "entry_path": "A/Ray_Charles"});

    let internal = links(&mut shim, page.clone());
    assert_eq!(
        column(&internal, "path"),
        [
            "A/Tangerine_Records_(1962)",
            "A/The_Raelettes",
            "A/Modern_Sounds_in_Country_and_Western_Music",
            "A/Georgia_on_My_Mind",
            "A/Modern_Sounds_in_Country_and_Western_Music",
        ]
    );
    assert_eq!(column(&internal, "text")[3], "Georgia On My Mind");
    assert_eq!(
        internal["category_totals"],
        json!({"internal": 5, "external": 3, "media": 0, "anchor": 0})
    );
    assert_eq!(
        (internal["total"].clone(), internal["done"].clone()),
        (json!(5), json!(true))
    );
    for row in rows(&internal) {
        assert_eq!(row["exists"], true, "{row}");
        let read = shim.call_tool(
            "zim_get",
            json!({"zim_file_path": "zimfile.zim", "entry_path": row["path"]}),
        );
        assert!(!read.is_error, "zim_get {}: {:#}", row["path"], read.body);
        assert_eq!(read.body["title"], row["title"], "{row}");
    }

    let mut external = page.clone();
    external["kind"] = json!("external");
    let external = links(&mut shim, external);
    assert_eq!(
        column(&external, "domain"),
        ["raycharles.com", "en.wikipedia.org", "creativecommons.org"]
    );
    assert_eq!(column(&external, "url")[0], "http://raycharles.com");
    shim.close_cleanly();
}

#[test]
fn media_are_images_the_page_shows_and_dangling_links_do_not_exist() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &data.join("libkiwix"));
    let media = links(
        &mut shim,
        json!({"zim_file_path": "example.zim", "entry_path": "Wikibooks.html", "kind": "media"}),
    );
    assert_eq!(media["total"], 20);
    let first = &rows(&media)[0];
    assert_eq!(first["url"], "./Wikibooks_files/Haskell-logo.png");
    assert_eq!(first["path"], "Wikibooks_files/Haskell-logo.png");
    assert_eq!(first["alt"], "Haskell-logo.png");
    let image = shim.call_ok(
        "zim_get",
        json!({"zim_file_path": "example.zim", "entry_path": first["path"], "binary": true}),
    );
    assert_eq!(image["mime_type"], "image/png");
    shim.close_cleanly();

    // poor.zim's page links to entries it lacks, shows an image it lacks and one inline.
    let mut shim = session(&daemon, &data.join("zim-tools"));
    let page = json!({"zim_file_path": "poor.zim", "entry_path": "dangling_link.html"});
    let internal = links(&mut shim, page.clone());
    assert_eq!(column(&internal, "url"), ["A/non_existent.html"]);
    assert_eq!(rows(&internal)[0]["exists"], false);
    assert!(rows(&internal)[0].get("path").is_none(), "{internal}");
    let mut media = page.clone();
    media["kind"] = json!("media");
    let media = links(&mut shim, media);
    assert_eq!(rows(&media)[0]["url"], "I/image.png");
    assert_eq!(rows(&media)[0]["exists"], false);
    assert_eq!(rows(&media)[1]["embedded"], true);
    let mut external = page;
    external["kind"] = json!("external");
    let external = links(&mut shim, external);
    assert_eq!(
        column(&external, "domain"),
        [
            "openzim.org",
            "openzim.org",
            "ftp.openzim.org",
            "openzim.org"
        ]
    );
    shim.close_cleanly();
}

/// Writes an archive whose page `wiki/Start` links the ways real pages do: up and across
/// directories, percent-encoded (Cyrillic and a space), with a fragment and a query string,
/// through a redirect, to nothing, to an image, to a mail address, and as `javascript:` and
/// inside a script and a comment (not links).
fn write_paths_archive(path: &Path) {
    let start = r##"<html><head><script>var a = '<a href="Script">';</script></head><body>
        <p><a href="../wiki/%D0%9A%D0%B8%D1%97%D0%B2#%D0%86%D1%81%D1%82%D0%BE%D1%80%D1%96%D1%8F"
        >Kyiv city</a> and <a href="./Two%20Words">two</a>, <a href="../top.html?lang=en">top</a>,
        <a href="Old_name">old name</a>, <a href="#Section">here</a>, <a href="Missing">gone</a>,
        <a href='https://Example.org/x'>example</a>,
        <a href="mailto:Ann@Mail.Example.org?subject=Hi">write</a>,
        <a href="javascript:void(0)">nothing</a>.
        <!-- <a href="Commented">hidden</a> -->
        <img src="../media/pic.png" alt="A picture"> <a href="../media/pic.png">picture</a>
        <a href="Two%20Words"><b>Bold</b> &amp; <i>italic</i>
           text</a></p></body></html>"##;
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Paths").metadata("Language", "eng");
    zim.article("wiki/Start", "Start", start)
        .article("wiki/Київ", "Київ", "<p>The capital.</p>")
        .article("wiki/Two Words", "Two Words", "<p>Two.</p>")
        .article("top.html", "Top", "<p>Top.</p>")
        .item(
            "media/pic.png",
            "pic.png",
            "image/png",
            b"\x89PNG\r\n",
            false,
        )
        .redirect("wiki/Old_name", "Old name", "wiki/Київ");
    zim.write(path).expect("writing the paths archive");
}

#[test]
fn relative_encoded_and_redirected_links_lead_where_a_browser_goes() {
    let (_tmp, dir) = canonical_temp_dir();
    write_paths_archive(&dir.join("paths.zim"));
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    let page = json!({"zim_file_path": "paths.zim", "entry_path": "wiki/Start"});

    let internal = links(&mut shim, page.clone());
    assert_eq!(
        column(&internal, "path"),
        [
            "wiki/Київ",
            "wiki/Two Words",
            "top.html",
            "wiki/Київ",
            "-",
            "wiki/Two Words"
        ]
    );
    assert_eq!(
        column(&internal, "text"),
        [
            "Kyiv city",
            "two",
            "top",
            "old name",
            "gone",
            "Bold & italic text"
        ]
    );
    let kyiv = &rows(&internal)[0];
    assert_eq!(kyiv["fragment"], "Історія");
    assert_eq!(rows(&internal)[3]["redirect_from"], "wiki/Old_name");
    assert_eq!(rows(&internal)[4]["exists"], false);
    assert_eq!(
        internal["category_totals"],
        json!({"internal": 6, "external": 2, "media": 2, "anchor": 1})
    );
    for row in rows(&internal).iter().filter(|row| row["exists"] == true) {
        let read = shim.call_ok(
            "zim_get",
            json!({"zim_file_path": "paths.zim", "entry_path": row["path"]}),
        );
        assert_eq!(read["title"], row["title"], "{row}");
    }

    let mut external = page.clone();
    external["kind"] = json!("external");
    let external = links(&mut shim, external);
    assert_eq!(
        column(&external, "domain"),
        ["example.org", "mail.example.org"]
    );

    let mut media = page.clone();
    media["kind"] = json!("media");
    let media = links(&mut shim, media);
    assert_eq!(column(&media, "path"), ["media/pic.png", "media/pic.png"]);
    assert_eq!(rows(&media)[0]["alt"], "A picture");
    assert_eq!(rows(&media)[1]["text"], "picture");
    shim.close_cleanly();
}

#[test]
fn cursor_paging_returns_every_link_once_and_refuses_foreign_cursors() {
    let Some(data) = test_data() else { return };
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &data.join("libkiwix"));
    let page = json!({"zim_file_path": "example.zim", "entry_path": "Wikibooks.html",
        "kind": "external"});
    let mut whole = page.clone();
    whole["limit"] = json!(500);
    let whole = links(&mut shim, whole);
    assert_eq!(whole["total"], 236);
    let expected: Vec<&str> = column(&whole, "url");
    assert_eq!(expected.len(), 236);

    let mut seen: Vec<String> = Vec::new();
    let mut arguments = page.clone();
    arguments["limit"] = json!(50);
    loop {
        let answer = links(&mut shim, arguments.clone());
        seen.extend(column(&answer, "url").into_iter().map(str::to_owned));
        if answer["done"] == true {
            assert_eq!(answer["next_cursor"], Value::Null);
            break;
        }
        arguments["cursor"] = answer["next_cursor"].clone();
        assert!(seen.len() < 236, "the pages go on past the end");
    }
    assert_eq!(seen, expected);

    // A cursor continues its own listing only.
    let mut first = page.clone();
    first["limit"] = json!(50);
    let cursor = links(&mut shim, first)["next_cursor"].clone();
    let mut media = page.clone();
    media["kind"] = json!("media");
    media["cursor"] = cursor.clone();
    assert_eq!(refused(&mut shim, media), "cursor_context_mismatch");
    let mut other_page = page.clone();
    other_page["entry_path"] = json!(
        "FreedomBox for Communities_Offline Wikipedia - Wikibooks, \
        open books for an open world.html"
    );
    other_page["cursor"] = cursor;
    assert_eq!(refused(&mut shim, other_page), "cursor_context_mismatch");
    let mut garbage = page.clone();
    garbage["cursor"] = json!("not-a-cursor");
    assert_eq!(refused(&mut shim, garbage), "cursor_decode");

    // Arguments out of range are named.
    let mut wide = page.clone();
    wide["limit"] = json!(501);
    assert_eq!(refused(&mut shim, wide), "invalid_limit");
    let mut sideways = page.clone();
    sideways["direction"] = json!("sideways");
    assert_eq!(refused(&mut shim, sideways), "invalid_direction");
    let mut inbound_media = page;
    inbound_media["direction"] = json!("inbound");
    assert_eq!(refused(&mut shim, inbound_media), "invalid_combination");
    shim.close_cleanly();
}

/// Writes an archive whose `index.html` links to five pages named after `word`.
fn write_index_archive(path: &Path, word: &str) {
    let anchors: String = (1..=5)
        .map(|i| format!("<a href=\"{word}_{i}.html\">{word} {i}</a> "))
        .collect();
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", word).metadata("Language", "eng");
    zim.article("index.html", word, &format!("<p>{anchors}</p>"));
    for i in 1..=5 {
        let page = format!("{word}_{i}.html");
        zim.article(&page, &format!("{word} {i}"), "<p>A page.</p>");
    }
    zim.main_page("index.html");
    zim.write(path).expect("writing an index archive");
}

#[test]
fn a_cursor_continues_only_in_the_archive_it_came_from() {
    let (_tmp, dir) = canonical_temp_dir();
    write_index_archive(&dir.join("t1.zim"), "One");
    write_index_archive(&dir.join("t2.zim"), "Two");
    let daemon = Daemon::start();
    let mut shim = session(&daemon, &dir);
    let first = links(
        &mut shim,
        json!({"zim_file_path": "t1.zim", "entry_path": "index.html", "limit": 3}),
    );
    assert_eq!(
        column(&first, "path"),
        ["One_1.html", "One_2.html", "One_3.html"]
    );
    let cursor = first["next_cursor"].clone();

    // The same page path in another archive is another listing.
    let elsewhere = shim.call_tool(
        "zim_links",
        json!({"zim_file_path": "t2.zim", "entry_path": "index.html", "cursor": cursor}),
    );
    assert!(elsewhere.is_error, "{:#}", elsewhere.body);
    assert_eq!(elsewhere.body["operation"], "cursor_context_mismatch");
    let message = elsewhere.body["message"].as_str().unwrap();
    assert!(message.contains("another archive"), "{message}");

    let rest = links(
        &mut shim,
        json!({"zim_file_path": "t1.zim", "entry_path": "index.html", "cursor": cursor}),
    );
    assert_eq!(column(&rest, "path"), ["One_4.html", "One_5.html"]);
    assert_eq!(rest["done"], true);
    shim.close_cleanly();
}

/// Writes an archive of pages linking to each other: Alpha mentions Eta three times, Gamma twice
/// and Beta once; Beta and Gamma link back to Alpha; Zeta links to Gamma through the redirect
/// Epsilon; Eta links to Delta.
fn write_web_archive(path: &Path) {
    let page = |hrefs: &[(&str, &str)]| -> String {
        let anchors: Vec<String> = hrefs
            .iter()
            .map(|(href, text)| format!("<a href=\"{href}\">{text}</a>"))
            .collect();
        format!("<html><body><p>{}</p></body></html>", anchors.join(" and "))
    };
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "Web").metadata("Language", "eng");
    let alpha = page(&[
        ("Eta.html", "eta"),
        ("Gamma.html", "the third"),
        ("Eta.html", "eta again"),
        ("Beta.html", "the second"),
        ("Gamma.html", "gamma"),
        ("Eta.html", "eta once more"),
    ]);
    zim.article("Alpha.html", "Alpha", &alpha)
        .article(
            "Beta.html",
            "Beta",
            &page(&[("Gamma.html", "on to gamma"), ("Alpha.html", "back")]),
        )
        .article("Gamma.html", "Gamma", &page(&[("Alpha.html", "the first")]))
        .article("Delta.html", "Delta", &page(&[]))
        .article(
            "Zeta.html",
            "Zeta",
            &page(&[("Epsilon.html", "by its old name")]),
        )
        .article("Eta.html", "Eta", &page(&[("Delta.html", "delta")]))
        .redirect("Epsilon.html", "Epsilon", "Gamma.html");
    zim.write(path).expect("writing the web archive");
}

#[test]
fn inbound_links_come_from_the_graph_once_built_and_survive_a_restart() {
    let (_tmp, dir) = canonical_temp_dir();
    let archive = dir.join("web.zim");
    write_web_archive(&archive);
    // Lazy builds: the graph is built when a call first needs it.
    let mut daemon = Daemon::start_with_env(&[("OZM_INDEX_BUILDS", "lazy")]);
    let mut shim = session(&daemon, &dir);
    let gamma = json!({"zim_file_path": "web.zim", "entry_path": "Gamma.html",
        "direction": "inbound"});

    // Until the graph is ready, the answer says so instead of failing.
    let pending = links(&mut shim, gamma.clone());
    assert_eq!(page_named(&pending), "Gamma.html");
    assert_eq!(pending["results"], json!([]), "{pending}");
    assert!(pending["graph"]["state"].is_string(), "{pending}");
    assert!(
        pending["note"].as_str().unwrap().contains("ask again"),
        "{pending}"
    );

    let ready = wait_for_kind_ready(&daemon.socket, &archive, "Links");
    assert_eq!(ready["documents"], 6, "{ready}");
    let inbound = links(&mut shim, gamma.clone());
    assert_eq!(
        column(&inbound, "path"),
        ["Alpha.html", "Beta.html", "Zeta.html"]
    );
    assert_eq!(
        column(&inbound, "anchor_text"),
        ["the third", "on to gamma", "by its old name"]
    );
    let degrees: Vec<&Value> = rows(&inbound)
        .iter()
        .map(|row| &row["inbound_degree"])
        .collect();
    assert_eq!(degrees, [&json!(2), &json!(1), &json!(0)]);
    assert_eq!(inbound["total"], 3);
    assert_eq!(page_named(&inbound), "Gamma.html");

    // The redirect leads to the same page and says so.
    let mut epsilon = gamma.clone();
    epsilon["entry_path"] = json!("Epsilon.html");
    let through = links(&mut shim, epsilon);
    assert_eq!(column(&through, "path"), column(&inbound, "path"));
    assert_eq!(through["redirected_from"], json!(["Epsilon.html"]));

    // Paging by offset and by cursor.
    let mut second = gamma.clone();
    second["limit"] = json!(2);
    let first_page = links(&mut shim, second.clone());
    assert_eq!(column(&first_page, "path"), ["Alpha.html", "Beta.html"]);
    second["cursor"] = first_page["next_cursor"].clone();
    let next = links(&mut shim, second);
    assert_eq!(
        (column(&next, "path"), next["done"].clone()),
        (vec!["Zeta.html"], json!(true))
    );

    // Related: most mentioned first, doubled when the neighbour links back.
    let related = links(
        &mut shim,
        json!({"zim_file_path": "web.zim", "entry_path": "Alpha.html", "direction": "related"}),
    );
    assert_eq!(
        column(&related, "path"),
        ["Gamma.html", "Eta.html", "Beta.html"]
    );
    let counts: Vec<&Value> = rows(&related)
        .iter()
        .map(|row| &row["mention_count"])
        .collect();
    assert_eq!(counts, [&json!(2), &json!(3), &json!(1)]);
    assert_eq!(
        column(&related, "link_text"),
        ["the third", "eta", "the second"]
    );
    assert_eq!(rows(&related)[0]["links_back"], true);
    assert_eq!(rows(&related)[1]["links_back"], false);
    assert_eq!(related["done"], true);
    assert_eq!(page_named(&related), "Alpha.html");
    let outbound = json!({"zim_file_path": "web.zim", "entry_path": "Alpha.html"});
    assert_eq!(page_named(&links(&mut shim, outbound)), "Alpha.html");
    // One page only: a smaller limit says how to see the rest.
    let first = links(
        &mut shim,
        json!({"zim_file_path": "web.zim", "entry_path": "Alpha.html", "direction": "related",
            "limit": 1}),
    );
    assert_eq!(column(&first, "path"), ["Gamma.html"]);
    assert_eq!(first["done"], false);
    let note = first["note"].as_str().expect("a note on the rest");
    assert!(
        note.contains("2 more neighbours") && note.contains("larger limit"),
        "{note}"
    );
    let delta = json!({"zim_file_path": "web.zim", "entry_path": "Delta.html",
        "direction": "inbound"});
    assert_eq!(
        column(&links(&mut shim, delta.clone()), "path"),
        ["Eta.html"]
    );
    shim.close_cleanly();

    // After a restart the graph's file is used as it is, without a new build.
    let graph = daemon
        .index_dir()
        .join(index_key(&archive))
        .join("links-1.graph");
    let before = std::fs::metadata(&graph).expect("the link graph's file");
    daemon.restart();
    let mut shim = session(&daemon, &dir);
    let again = links(&mut shim, gamma);
    assert_eq!(
        column(&again, "path"),
        ["Alpha.html", "Beta.html", "Zeta.html"]
    );
    let after = std::fs::metadata(&graph).expect("the link graph's file");
    assert_eq!((after.ino(), after.mtime()), (before.ino(), before.mtime()));
    assert!(
        daemon.log().contains("link graph reused"),
        "{}",
        daemon.log()
    );
    shim.close_cleanly();
}

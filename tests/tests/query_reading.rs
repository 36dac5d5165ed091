//! `zim_query` on articles: searches, titles, reading an article found by its title, path or a
//! redirect, page by page; summaries, contents, sections and links — each answered from the
//! real archives (shared/zim/ORACLE.md) through the tool that answers it, with the call shown.

use std::time::Duration;

use ozm_tests::fixture::{ask, ask_in, result_paths, serve, test_data, wait_until};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

const RAY_CHARLES: &str = "libkiwix/zimfile.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const WITHNS_WIKIBOOKS: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";

#[test]
fn searches_titles_and_suggestions() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // The five best full-text matches for "piano", as libzim ranks them.
    let found = ask(&mut shim, json!("search for piano in zimfile"));
    assert_eq!(found["intent"], "search");
    assert_eq!(found["confidence"], 0.9);
    assert_eq!(
        found["arguments"],
        json!({"query": "piano", "zim_file_path": RAY_CHARLES})
    );
    assert_eq!(
        result_paths(&found["result"])[..5],
        [
            "A/The_Genius_Sings_the_Blues",
            "A/Mess_Around",
            "A/Jazz_Number_II",
            "A/Hank_Crawford",
            "A/Side_by_Side_(1927_song)"
        ]
    );
    let answer = found["answer"].as_str().unwrap();
    assert!(
        answer.contains("1. **The Genius Sings the Blues** — `A/The_Genius_Sings_the_Blues`"),
        "{answer}"
    );

    // Bare keywords are a search too, less sure; the limit and offset pass through.
    let bare = ask(
        &mut shim,
        json!({"query": "piano", "zim_file_path": RAY_CHARLES,
        "limit": 2, "offset": 1}),
    );
    assert_eq!(bare["intent"], "search");
    assert_eq!(bare["confidence"], 0.5);
    assert_eq!(
        result_paths(&bare["result"]),
        ["A/Mess_Around", "A/Jazz_Number_II"]
    );
    assert!(
        bare["answer"]
            .as_str()
            .unwrap()
            .contains("ask again with offset=3")
    );

    // With no archive named, a search covers them all.
    let everywhere = ask(&mut shim, json!("find articles about кухня"));
    assert_eq!(
        everywhere["arguments"],
        json!({"query": "кухня", "cross_file": true})
    );
    assert!(everywhere["result"]["files_searched"].as_u64().unwrap() > 1);

    // A question that matches nothing word for word is searched without its question words.
    let question = ask_in(&mut shim, RAY_CHARLES, "when was Ray Charles born");
    assert_eq!(question["arguments"]["query"], "Ray Charles born");
    assert!(result_paths(&question["result"]).contains(&"A/Ray_Charles"));

    // A title reached through a redirect's own title.
    let titled = ask_in(
        &mut shim,
        RAY_CHARLES,
        "is there an article called A Song For You?",
    );
    assert_eq!(titled["intent"], "find_by_title");
    assert_eq!(titled["arguments"]["mode"], "title");
    assert_eq!(result_paths(&titled["result"])[0], "A/A_Song_for_You");
    let answer = titled["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Yes: **A Song for You** — `A/A_Song_for_You`."),
        "{answer}"
    );

    let esperanto = ask_in(
        &mut shim,
        WITHNS_WIKIBOOKS,
        "titles starting with Эспэранта",
    );
    assert_eq!(esperanto["intent"], "suggestions");
    assert_eq!(
        result_paths(&esperanto["result"])[..5],
        [
            "A/Эспэранта.html",
            "A/Эспэранта_Альфабэт.html",
            "A/Эспэранта_Вінавальны_склон.html",
            "A/Эспэранта_Дзеяслоў.html",
            "A/Эспэранта_Займеньнік.html"
        ]
    );
    let completed = ask_in(&mut shim, NONS_WIKIBOOKS, "suggest кухня");
    assert_eq!(completed["arguments"]["mode"], "suggest");
    let azerbaijani = "Азербайджанская_кухня.html";
    assert!(result_paths(&completed["result"]).contains(&azerbaijani));
}

#[test]
fn articles_found_by_title_path_or_redirect_and_read_page_by_page() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    // Only one archive has an article titled "Ray Charles": no need to name it.
    let told = ask(&mut shim, json!("tell me about Ray Charles"));
    assert_eq!(told["intent"], "tell_me_about");
    assert_eq!(told["tool"], "zim_get");
    assert_eq!(
        told["arguments"],
        json!({"zim_file_path": RAY_CHARLES, "entry_path": "A/Ray_Charles",
            "max_content_length": 4000})
    );
    assert_eq!(told["lookup"]["by"], "exact_title");
    assert_eq!(told["lookup"]["tool"], "zim_search");
    assert_eq!(told["lookup"]["arguments"]["mode"], "title");
    let answer = told["answer"].as_str().unwrap();
    assert!(
        answer.contains("**Ray Charles Robinson** (September 23, 1930"),
        "{answer}"
    );

    for query in [
        "show me the article Ray Charles",
        "Who was Ray Charles?",
        "read A/Ray_Charles",
    ] {
        let read = ask_in(&mut shim, RAY_CHARLES, query);
        assert_eq!(read["result"]["path"], "A/Ray_Charles", "{query}");
    }
    assert_eq!(
        ask_in(&mut shim, RAY_CHARLES, "read A/Ray_Charles")["lookup"]["by"],
        "path"
    );

    // A redirect's title leads to the article it redirects to.
    let redirected = ask_in(&mut shim, WITHNS_WIKIBOOKS, "show me Вугорская кухня");
    assert_eq!(redirected["result"]["path"], "A/Венгерская_кухня.html");

    // Paging: the answer says where to read on, and reading on continues exactly there.
    let first = ask(
        &mut shim,
        json!({"query": "read Ray Charles",
        "zim_file_path": RAY_CHARLES, "max_content_length": 1000}),
    );
    let total = first["result"]["total_chars"].as_u64().unwrap();
    let next = first["result"]["next_offset"]
        .as_u64()
        .expect("more to read");
    assert!(next <= 1000);
    let answer = first["answer"].as_str().unwrap();
    let more = format!(
        "{} more characters: ask again with content_offset={next}",
        total - next
    );
    assert!(answer.contains(&more), "{answer}");
    let rest = ask(
        &mut shim,
        json!({"query": "read Ray Charles",
        "zim_file_path": RAY_CHARLES, "max_content_length": 1000, "content_offset": next}),
    );
    assert_eq!(rest["arguments"]["content_offset"], next);
    assert_eq!(rest["result"]["content_offset"], next);

    // No title: the words are searched for instead, and the answer says so.
    let unknown = ask_in(&mut shim, RAY_CHARLES, "tell me about hamburgers");
    assert_eq!(unknown["intent"], "tell_me_about");
    assert_eq!(unknown["tool"], "zim_search");
    assert_eq!(unknown["result"]["total"], 0);
    assert!(
        unknown["answer"]
            .as_str()
            .unwrap()
            .contains("no article is titled 'hamburgers'")
    );
}

#[test]
fn summaries_contents_and_sections() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let summary = ask(&mut shim, json!("summary of Ray Charles in zimfile"));
    assert_eq!(summary["intent"], "summary");
    assert_eq!(summary["arguments"]["view"], "summary");
    let text = summary["result"]["summary"].as_str().expect("a summary");
    assert!(text.starts_with("**Ray Charles Robinson**"), "{text}");

    let toc = ask_in(&mut shim, NONS_WIKIBOOKS, "table of contents of Эспэранта");
    assert_eq!(toc["intent"], "toc");
    assert_eq!(toc["arguments"]["view"], "toc");
    assert_eq!(toc["arguments"]["entry_path"], "Эспэранта.html");
    let answer = toc["answer"].as_str().unwrap();
    assert!(
        answer.contains("- Эспэранта\n  - Зьмест\n  - Крыніцы"),
        "{answer}"
    );

    let section = ask_in(
        &mut shim,
        NONS_WIKIBOOKS,
        "the Крыніцы section of Эспэранта",
    );
    assert_eq!(section["intent"], "get_section");
    assert_eq!(section["tool"], "zim_get_section");
    assert_eq!(section["arguments"]["section_id"], "Крыніцы");
    let answer = section["answer"].as_str().unwrap();
    let sources = "Вікікніга \"Эспэранта\" ствараецца";
    assert!(answer.contains(sources), "{answer}");
    assert!(
        !answer.contains("Фразэалёгія"),
        "another section came along: {answer}"
    );

    // A section the article lacks: the tool's refusal comes back with the call that made it.
    let query = "section Early life of Эспэранта";
    let missing = shim.call_tool(
        "zim_query",
        json!({"query": query, "zim_file_path": NONS_WIKIBOOKS}),
    );
    assert!(missing.is_error);
    assert_eq!(missing.body["operation"], "section_not_found");
    assert_eq!(missing.body["tool"], "zim_get_section");
    assert_eq!(missing.body["intent"], "get_section");
}

#[test]
fn links_out_of_an_article_related_ones_and_those_that_point_to_it() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data.join("libkiwix")]);

    let out = ask(&mut shim, json!("links in Ray Charles in zimfile"));
    assert_eq!(out["intent"], "links");
    assert_eq!(out["arguments"]["direction"], "outbound");
    assert_eq!(out["arguments"]["limit"], 25);
    assert!(result_paths(&out["result"]).contains(&"A/Georgia_on_My_Mind"));

    let related = ask(
        &mut shim,
        json!("articles related to Ray Charles in zimfile"),
    );
    assert_eq!(related["intent"], "related");
    assert!(result_paths(&related["result"]).contains(&"A/Georgia_on_My_Mind"));

    // Inbound links come from a graph built in the background.
    let mut inbound = Value::Null;
    wait_until(Duration::from_secs(120), "the link graph", || {
        inbound = ask(
            &mut shim,
            json!({"query": "what links to Ray Charles in zimfile",
            "limit": 50}),
        );
        !inbound["result"]["results"].as_array().unwrap().is_empty()
    });
    assert_eq!(inbound["intent"], "inbound_links");
    assert_eq!(inbound["arguments"]["direction"], "inbound");
    let linking = result_paths(&inbound["result"]);
    assert!(linking.contains(&"A/Georgia_on_My_Mind"), "{linking:?}");
    assert!(linking.contains(&"A/The_Raelettes"), "{linking:?}");
    let answer = inbound["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Pages that link to **Ray Charles**:"),
        "{answer}"
    );
}

#[test]
fn titles_keep_their_own_the_and_other_phrasings_find_the_article() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let genius = "A/The_Genius_Sings_the_Blues";
    for (query, view) in [
        ("summary of The Genius Sings the Blues", "summary"),
        ("summarize The Genius Sings the Blues", "summary"),
        (
            "summary of the article The Genius Sings the Blues",
            "summary",
        ),
        ("toc of The Genius Sings the Blues", "toc"),
        ("table of contents of The Genius Sings the Blues", "toc"),
    ] {
        let read = ask_in(&mut shim, RAY_CHARLES, query);
        assert_eq!(read["tool"], "zim_get", "{query}");
        assert_eq!(read["arguments"]["view"], view, "{query}");
        assert_eq!(read["result"]["path"], genius, "{query}");
        assert_eq!(read["lookup"]["by"], "exact_title", "{query}");
    }

    let ray = "A/Ray_Charles";
    for (query, intent) in [
        ("I'd like to read about Ray Charles", "get_article"),
        ("tell me everything about Ray Charles", "tell_me_about"),
        ("What is the Ray Charles article about?", "summary"),
        (
            "give me a short summary of the Ray Charles article",
            "summary",
        ),
        ("toc Ray Charles", "toc"),
    ] {
        let read = ask_in(&mut shim, RAY_CHARLES, query);
        assert_eq!(read["intent"], intent, "{query}");
        assert_eq!(read["result"]["path"], ray, "{query}");
    }

    // A title in brackets, reached through its redirect.
    let told = ask(
        &mut shim,
        json!("tell me about (The Night Time Is) The Right Time"),
    );
    assert_eq!(told["tool"], "zim_get");
    assert_eq!(told["result"]["path"], "A/Night_Time_Is_the_Right_Time");
}

#[test]
fn a_bare_title_path_or_address_opens_the_article() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for query in [
        "Ray Charles",
        "Ray Charles?",
        "ray charles",
        "Ray_Charles",
        "A/Ray_Charles",
        "https://en.wikipedia.org/wiki/Ray_Charles",
    ] {
        let read = ask(&mut shim, json!(query));
        assert_eq!(read["intent"], "get_article", "{query}");
        assert_eq!(read["tool"], "zim_get", "{query}");
        assert_eq!(read["arguments"]["zim_file_path"], RAY_CHARLES, "{query}");
        assert_eq!(read["result"]["path"], "A/Ray_Charles", "{query}");
        let notes = read["notes"].to_string();
        assert!(notes.contains("search for"), "{query}: {notes}");
    }
    let esperanto = ask_in(&mut shim, NONS_WIKIBOOKS, "Эспэранта");
    assert_eq!(esperanto["intent"], "get_article");
    assert_eq!(esperanto["result"]["path"], "Эспэранта.html");

    // A title of several archives: the search lists those articles first.
    let several = ask(&mut shim, json!("Эспэранта"));
    assert_eq!(several["intent"], "search");
    assert_eq!(several["arguments"]["cross_file"], true);
    let rows = several["result"]["results"].as_array().unwrap();
    assert!(rows.len() > 2);
    for row in &rows[..2] {
        assert_eq!(row["title"], "Эспэранта", "{row}");
        assert_eq!(row["path"], "Эспэранта.html", "{row}");
    }
    assert_ne!(rows[0]["zim_file_path"], rows[1]["zim_file_path"]);

    // An explicit search lists the article of that title first, where the ranking did not.
    let searched = ask_in(&mut shim, RAY_CHARLES, "search for Ray Charles");
    assert_eq!(searched["tool"], "zim_search");
    assert_eq!(result_paths(&searched["result"])[0], "A/Ray_Charles");
    let notes = searched["notes"].to_string();
    assert!(notes.contains("titled exactly 'Ray Charles'"), "{notes}");
}

#[test]
fn words_asking_for_every_archive_search_them_all() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    for query in [
        "search all archives for piano",
        "search for piano everywhere",
        "search for piano across all archives",
        "find piano in every archive",
        "search for piano in all zim files",
        "search everything for piano",
    ] {
        let found = ask(&mut shim, json!(query));
        assert_eq!(found["intent"], "search", "{query}");
        assert_eq!(
            found["arguments"],
            json!({"query": "piano", "cross_file": true}),
            "{query}"
        );
        assert!(found["result"]["files_searched"].as_u64().unwrap() > 1);
    }
    // Even when the call names one archive.
    let found = ask_in(&mut shim, RAY_CHARLES, "search for piano everywhere");
    assert_eq!(found["arguments"]["cross_file"], true);
}

#[test]
fn titles_reached_through_redirects_say_so() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let suggested = ask_in(&mut shim, RAY_CHARLES, "suggest Ray");
    let answer = suggested["answer"].as_str().unwrap();
    // Four suggestions lead to the same article: one line names them.
    let rows = result_paths(&suggested["result"]);
    assert_eq!(
        rows.iter().filter(|path| **path == "A/Ray_Charles").count(),
        4
    );
    assert_eq!(answer.matches("`A/Ray_Charles`").count(), 1, "{answer}");
    let line = "1. **Ray Charles** — `A/Ray_Charles` — matched through redirect(s) \
        'Charles, Ray' (`A/Charles,_Ray`), 'Ray charles' (`A/Ray_charles`), \
        'Ray C. Robinson' (`A/Ray_C._Robinson`)\n";
    assert!(answer.contains(line), "{answer}");
    assert!(
        answer.contains(
            "**Ray (film)** — `A/Ray_(film)` — matched through redirect(s) 'Ray \
            (movie)' (`A/Ray_(movie)`)"
        ),
        "{answer}"
    );
}

#[test]
fn completions_and_title_searches_in_other_words() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);

    let completed = ask(&mut shim, json!("complete Ray Ch in zimfile"));
    assert_eq!(completed["intent"], "suggestions");
    assert_eq!(
        completed["arguments"],
        json!({"query": "Ray Ch", "mode": "suggest", "zim_file_path": RAY_CHARLES})
    );
    assert_eq!(result_paths(&completed["result"])[0], "A/Ray_Charles");

    let titled = ask(&mut shim, json!("title search Genius in zimfile"));
    assert_eq!(titled["intent"], "find_by_title");
    assert_eq!(
        titled["arguments"],
        json!({"query": "Genius", "mode": "title", "zim_file_path": RAY_CHARLES})
    );
    assert_eq!(
        result_paths(&titled["result"]),
        [
            "A/Genius_&_Friends",
            "A/Genius_+_Soul_=_Jazz",
            "A/Genius_Loves_Company"
        ]
    );
}

#[test]
fn complete_beginning_a_title_is_no_request_for_completions() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut builder = ZimBuilder::new();
    builder
        .article(
            "Complete_graph.html",
            "Complete graph",
            "<h1>Complete graph</h1><p>Every pair of vertices is joined.</p>",
        )
        .article(
            "Graph_theory.html",
            "Graph theory",
            "<h1>Graph theory</h1><p>The study of graphs.</p>",
        )
        .main_page("Graph_theory.html");
    builder
        .write(&dir.path().join("graphs.zim"))
        .expect("writing the archive");
    let (_daemon, mut shim) = serve(&[dir.path()]);

    let opened = ask(&mut shim, json!("complete graph"));
    assert_eq!(opened["intent"], "get_article");
    assert_eq!(opened["result"]["path"], "Complete_graph.html");
    let completed = ask(&mut shim, json!("complete Graph th"));
    assert_eq!(completed["intent"], "suggestions");
    assert_eq!(completed["arguments"]["query"], "Graph th");
    assert_eq!(result_paths(&completed["result"]), ["Graph_theory.html"]);
}

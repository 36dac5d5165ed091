//! The structure of articles through `zim_get` views and `zim_get_section`: headings with the
//! ids the real archives give them, their positions, summaries, sections by id and by text,
//! batches and compact text (long articles: long_articles.rs).

use ozm_tests::fixture::{Shim, serve, serve_archive, test_data, text};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

const ZIMFILE: &str = "libkiwix/zimfile.zim";
const WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";
const WIKIBOOKS_OLD: &str = "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim";
const CPP: &str = "Дапаможнік_па_C++.html";

/// The operation of a call that must fail.
fn refused(shim: &mut Shim, tool: &str, arguments: Value) -> Value {
    let result = shim.call_tool(tool, arguments.clone());
    assert!(
        result.is_error,
        "{tool} {arguments} succeeded: {}",
        result.body
    );
    result.body
}

#[test]
fn ray_charles_has_one_titled_section_a_summary_and_a_compact_infobox() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let ray = |extra: Value| {
        let mut arguments = json!({"zim_file_path": ZIMFILE, "entry_path": "A/Ray_Charles"});
        arguments
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        arguments
    };

    // The article's only heading is its <h1>, whose mw-headline span carries id="title_0".
    let toc = shim.call_ok("zim_get", ray(json!({"view": "toc"})));
    let expected = json!([{"section_id": "title_0", "text": "Ray Charles", "level": 1,
                           "id_source": "mw-headline", "children": []}]);
    assert_eq!(toc["toc"], expected);
    assert_eq!(
        (toc["heading_count"].clone(), toc["max_depth"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(toc["title"], "Ray Charles");

    let structure = shim.call_ok("zim_get", ray(json!({"view": "structure"})));
    assert_eq!(
        structure["headings"],
        json!([{"id": "title_0", "text": "Ray Charles", "level": 1, "position": 0}])
    );
    let preview = text(&structure["sections"][0]["content_preview"]);
    assert!(
        preview.starts_with("**Ray Charles Robinson** (September 23, 1930"),
        "{preview}"
    );

    // The summary is the lead's prose: the infobox table is left out.
    let summary = shim.call_ok("zim_get", ray(json!({"view": "summary"})));
    let lead = text(&summary["summary"]);
    assert!(lead.starts_with("**Ray Charles Robinson** (September 23, 1930 – June 10, 2004)"));
    assert!(lead.ends_with("in 2008."), "{lead}");
    assert!(!lead.contains("| Birth name |"), "{lead}");
    assert_eq!(summary["is_truncated"], false);
    assert!(summary["word_count"].as_u64().unwrap() > 250);
    let short = shim.call_ok(
        "zim_get",
        ray(json!({"view": "summary", "max_content_length": 100})),
    );
    assert_eq!(short["is_truncated"], true);
    assert!(text(&short["summary"]).chars().count() <= 100);

    // The whole article is one page, and the scraper's licence footer is gone.
    let full = shim.call_ok("zim_get", ray(json!({})));
    let markdown = text(&full["content"]);
    assert!(markdown.starts_with("# Ray Charles\n\n**Ray Charles Robinson**"));
    assert!(markdown.contains("| Birth name | Ray Charles Robinson |"));
    assert!(
        !markdown.contains("This article is issued from"),
        "{markdown}"
    );
    assert_eq!(
        (full["page"].clone(), full["page_count"].clone()),
        (json!(1), json!(1))
    );
    assert!(full.get("notice").is_none());

    // Its one section, by id or by text, is the whole article.
    for id in ["title_0", "ray charles", "RAY_CHARLES"] {
        let arguments = json!({"zim_file_path": ZIMFILE, "entry_path": "A/Ray_Charles",
                               "section_id": id});
        let section = shim.call_ok("zim_get_section", arguments);
        assert_eq!(section["section_id"], "title_0");
        assert_eq!(section["section_title"], "Ray Charles");
        assert_eq!(section["parent_id"], Value::Null);
        assert_eq!(section["content"], full["content"]);
        assert_eq!(section["char_count"], full["total_chars"]);
    }

    // Compact: the infobox's facts come first as lines, with no link markup anywhere.
    let compact = shim.call_ok("zim_get", ray(json!({"compact": true})));
    let compact = text(&compact["content"]);
    let facts = "# Ray Charles\n\nBirth name: Ray Charles Robinson\n\
        Born: September 23, 1930; Albany, Georgia, U.S.\n\
        Died: June 10, 2004 (aged 73); Beverly Hills, California, U.S.\n\
        Genres: R&B; soul; blues; gospel; country; jazz; rock and roll\n";
    assert!(compact.starts_with(facts), "{compact}");
    assert!(compact.contains("\nLabels: Atlantic; ABC; Tangerine; Warner Bros.;"));
    assert!(compact.contains("his two *Modern Sounds* albums"));
    assert!(!compact.contains("]("), "{compact}");
    assert!(!compact.contains("| Birth name"));
}

#[test]
fn belarusian_wikibooks_headings_nest_and_sections_are_found_by_id_or_text() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let get = json!({"zim_file_path": WIKIBOOKS, "entry_path": CPP});

    // The parsoid ids of the page, nested by rank under the <h1 id="titleHeading">.
    let mut arguments = get.clone();
    arguments["view"] = json!("toc");
    let toc = shim.call_ok("zim_get", arguments);
    assert_eq!(toc["heading_count"], 21);
    assert_eq!(toc["max_depth"], 4);
    let title = &toc["toc"][0];
    assert_eq!(
        (&title["section_id"], &title["text"], &title["id_source"]),
        (
            &json!("titleHeading"),
            &json!("Дапаможнік па C++"),
            &json!("id")
        )
    );
    let library = &title["children"][0];
    assert_eq!(library["section_id"], "mwAw");
    assert_eq!(library["text"], "Стандартная бібліятэка C++");
    assert_eq!(library["children"][0]["section_id"], "mwCQ");
    assert_eq!(
        library["children"][0]["text"],
        "Загалоўкавыя файлы стандартнай бібліятэкі C++"
    );
    let functions = &title["children"][1];
    assert_eq!(functions["text"], "Функцыі ў C++");
    let ids: Vec<&str> = functions["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| text(&child["section_id"]))
        .collect();
    assert_eq!(ids, ["mwTA", "mwVw", "mwYA", "mwZA"]);
    assert_eq!(
        functions["children"][1]["children"][0]["section_id"],
        "mwWA"
    );

    // Each heading's position is where its line starts in the full text.
    let full = shim.call_ok("zim_get", get.clone());
    let markdown: Vec<char> = text(&full["content"]).chars().collect();
    let mut arguments = get.clone();
    arguments["view"] = json!("structure");
    let structure = shim.call_ok("zim_get", arguments);
    assert_eq!(structure["character_count"], markdown.len());
    for heading in structure["headings"].as_array().unwrap() {
        let at = heading["position"].as_u64().unwrap() as usize;
        let hashes = "#".repeat(heading["level"].as_u64().unwrap() as usize);
        let line: String = markdown[at..].iter().take_while(|c| **c != '\n').collect();
        assert_eq!(line, format!("{hashes} {}", text(&heading["text"])));
    }

    // A section by its heading's text, without and with its subsections.
    let section = |shim: &mut Shim, id: &str, subsections: bool| {
        let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": CPP,
                               "section_id": id, "include_subsections": subsections});
        shim.call_ok("zim_get_section", arguments)
    };
    let own = section(&mut shim, "функцыі ў c++", false);
    assert_eq!(own["section_id"], "mwRw");
    assert_eq!(own["parent_id"], "titleHeading");
    assert_eq!(own["level"], 2);
    let content = text(&own["content"]);
    let opening = "## Функцыі ў C++\n\nПраграміст здольны пісаць";
    assert!(content.starts_with(opening), "{content}");
    assert!(
        content.ends_with("напісаныя самім праграмістам."),
        "{content}"
    );
    let subsections: Vec<&str> = own["subsections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(&s["id"]))
        .collect();
    assert_eq!(subsections, ["mwTA", "mwVw", "mwWA", "mwYA", "mwZA"]);
    let whole = section(&mut shim, "mwRw", true);
    let content = text(&whole["content"]);
    assert!(content.contains("\n### Прыклады функцый са стандартнай"));
    assert!(content.contains("\n#### Прыклад праграмы\n"));
    assert!(!content.contains("Аргумэнты функцыі main()"));
    // The section is exactly its stretch of the full text.
    let (start, end) = (
        whole["section_start"].as_u64().unwrap() as usize,
        whole["section_end"].as_u64().unwrap() as usize,
    );
    assert_eq!(content, markdown[start..end].iter().collect::<String>());
    assert_eq!(whole["char_count"], end - start);

    // A section cut short says where the rest is, and zim_get reads exactly that.
    let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": CPP,
                           "section_id": "mwRw", "max_chars": 400});
    let cut = shim.call_ok("zim_get_section", arguments);
    assert_eq!(cut["truncated"], true);
    let next = cut["next_offset"].as_u64().unwrap();
    let notice = text(&cut["notice"]);
    assert!(
        notice.contains(&format!("content_offset={next}")),
        "{notice}"
    );
    let mut rest = get.clone();
    rest["content_offset"] = json!(next);
    rest["max_content_length"] = json!(end as u64 - next);
    let rest = shim.call_ok("zim_get", rest);
    assert_eq!(
        format!("{}{}", text(&cut["content"]), text(&rest["content"])),
        content
    );

    // The old-scheme copy of the archive gives the same outline.
    let arguments = json!({"zim_file_path": WIKIBOOKS_OLD, "entry_path": format!("A/{CPP}"),
                           "view": "toc"});
    assert_eq!(shim.call_ok("zim_get", arguments)["toc"], toc["toc"]);

    // Эспэранта's two sections, by their Cyrillic headings.
    let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": "Эспэранта.html",
                           "view": "toc"});
    let esperanto = shim.call_ok("zim_get", arguments);
    let sections: Vec<(&str, &str)> = esperanto["toc"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (text(&s["section_id"]), text(&s["text"])))
        .collect();
    assert_eq!(sections, [("mwBA", "Зьмест"), ("mwIA", "Крыніцы")]);
    let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": "Эспэранта.html",
                           "section_id": "КРЫНІЦЫ"});
    let sources = shim.call_ok("zim_get_section", arguments);
    assert!(text(&sources["content"]).contains("[PMEG](http://bertilow.com/pmeg/)"));
}

#[test]
fn an_unknown_section_lists_the_sections_and_the_closest_one() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": CPP,
                           "section_id": "Літаратуры"});
    let error = refused(&mut shim, "zim_get_section", arguments);
    assert_eq!(error["operation"], "section_not_found");
    assert!(text(&error["message"]).contains("Did you mean 'Літаратура'?"));
    assert_eq!(error["closest_match"], "mwZA");
    let ids = error["available_section_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 21);
    assert_eq!(ids[0], "titleHeading");
    assert_eq!(
        error["available_sections"][3],
        json!({"id": "mwRw", "title": "Функцыі ў C++"})
    );

    // Not an article at all.
    let arguments = json!({"zim_file_path": WIKIBOOKS, "entry_path": "s/style.css",
                           "section_id": "x"});
    let css = refused(&mut shim, "zim_get_section", arguments);
    assert_eq!(css["operation"], "section_not_found");
    assert!(text(&css["message"]).contains("has no headings"));
}

#[test]
fn several_entries_in_one_call_report_each_success_and_failure() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let paths = ["A/Ray_Charles", "A/No_such_article", "A/Hit_the_Road_Jack"];
    let arguments = json!({"zim_file_path": ZIMFILE, "entry_paths": paths});
    let batch = shim.call_ok("zim_get", arguments);
    assert_eq!(
        (batch["succeeded"].clone(), batch["failed"].clone()),
        (json!(2), json!(1))
    );
    let results = batch["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index);
        assert_eq!(result["entry_path"], paths[index]);
    }
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[0]["title"], "Ray Charles");
    assert!(text(&results[0]["content"]).starts_with("# Ray Charles"));
    assert_eq!(results[1]["success"], false);
    assert_eq!(results[1]["operation"], "entry_not_found");
    assert_eq!(results[2]["success"], true);
    assert_eq!(results[2]["path"], "A/Hit_the_Road_Jack");
    assert_eq!(batch["zim_file_path"], ZIMFILE);

    // Views apply to every entry of a batch.
    let arguments = json!({"zim_file_path": ZIMFILE, "entry_paths": ["A/Ray_Charles"],
                           "view": "toc"});
    let tocs = shim.call_ok("zim_get", arguments);
    assert_eq!(tocs["results"][0]["toc"][0]["section_id"], "title_0");

    // What cannot go together is refused with what to pass instead.
    let cases = [
        (
            json!({"entry_path": "A/Ray_Charles", "entry_paths": ["A/Ray_Charles"]}),
            "invalid_path_combination",
        ),
        (
            json!({"entry_paths": ["A/Ray_Charles"], "main_page": true}),
            "invalid_path_combination",
        ),
        (json!({}), "invalid_path_combination"),
        (json!({"entry_paths": []}), "invalid_batch_size"),
        (
            json!({"entry_paths": vec!["A/Ray_Charles"; 51]}),
            "invalid_batch_size",
        ),
        (
            json!({"entry_path": "A/Ray_Charles", "view": "outline"}),
            "invalid_view",
        ),
        (
            json!({"entry_path": "A/Ray_Charles", "view": "toc", "content_offset": 5}),
            "invalid_view",
        ),
        (
            json!({"entry_paths": ["A/Ray_Charles"], "content_offset": 5}),
            "invalid_path_combination",
        ),
        (
            json!({"entry_paths": ["A/Ray_Charles"], "binary": true}),
            "invalid_path_combination",
        ),
        (
            json!({"entry_path": "A/Ray_Charles", "binary": true, "view": "toc"}),
            "invalid_view",
        ),
        (
            json!({"entry_path": "A/Ray_Charles", "binary": true, "content_offset": 5}),
            "invalid_argument",
        ),
        (
            json!({"entry_path": "A/Ray_Charles", "compact_budget": "huge"}),
            "invalid_argument",
        ),
    ];
    for (mut arguments, operation) in cases {
        arguments["zim_file_path"] = json!(ZIMFILE);
        let error = refused(&mut shim, "zim_get", arguments.clone());
        assert_eq!(error["operation"], operation, "{arguments}");
        assert!(text(&error["message"]).len() > 30, "{error}");
    }
}

/// An article in MediaWiki's markup, with every kind of furniture around its text.
const FURNISHED: &str = r##"<html><head><style>.x{}</style><script>var s = 1;</script></head>
<body><h1>Moon</h1><p>The Moon<sup class="reference"><a href="#cite-1">[1]</a></sup> orbits
Earth.<sup class="noprint Inline-Template Template-Fix">[<i><a href="Wikipedia:Citation_needed">
citation needed</a></i>]</sup></p>
<h2><span class="mw-headline" id="Orbit">Orbit</span><span class="mw-editsection">[<a
href="edit">edit</a>]</span></h2><p>Elliptic.</p>
<h2 id="References">References</h2><div class="reflist"><ol class="references"><li
id="cite-1">A reference text.</li></ol></div>
<div role="navigation" class="navbox"><a href="Mars">Mars</a> · <a href="Venus">Venus</a></div>
<div class="printfooter">Retrieved from elsewhere</div></body></html>"##;

#[test]
fn page_furniture_never_reaches_the_text() {
    let mut builder = ZimBuilder::new();
    builder
        .article("Moon.html", "Moon", FURNISHED)
        .article("Plain.html", "Plain", "<p>Only a paragraph.</p>")
        .main_page("Moon.html");
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "moon.zim");

    let moon = json!({"zim_file_path": "moon.zim", "entry_path": "Moon.html"});
    let page = shim.call_ok("zim_get", moon.clone());
    assert_eq!(
        page["content"],
        "# Moon\n\nThe Moon orbits Earth.\n\n## Orbit\n\nElliptic."
    );
    let mut toc = moon.clone();
    toc["view"] = json!("toc");
    let toc = shim.call_ok("zim_get", toc);
    assert_eq!(toc["toc"][0]["children"][0]["section_id"], "Orbit");
    assert_eq!(toc["heading_count"], 2);

    // A page without headings says so in every view that lists them.
    let plain = json!({"zim_file_path": "moon.zim", "entry_path": "Plain.html", "view": "toc"});
    let plain = shim.call_ok("zim_get", plain);
    assert_eq!(plain["toc"], json!([]));
    assert!(text(&plain["note"]).contains("has no headings"));
    let arguments = json!({"zim_file_path": "moon.zim", "entry_path": "Plain.html",
                           "section_id": "Intro"});
    let error = refused(&mut shim, "zim_get_section", arguments);
    assert_eq!(error["operation"], "section_not_found");
    assert!(text(&error["message"]).contains("has no headings"));
}

#[test]
fn compact_budget_is_accepted_and_ignored_and_sections_can_be_compact() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve(&[&data]);
    let ray = json!({"zim_file_path": ZIMFILE, "entry_path": "A/Ray_Charles", "compact": true});
    let compact = shim.call_ok("zim_get", ray.clone());
    for budget in [json!("tiny"), json!("LARGE"), json!(3000), json!("12000")] {
        let mut arguments = ray.clone();
        arguments["compact_budget"] = budget;
        let answer = shim.call_ok("zim_get", arguments);
        assert_eq!(answer["content"], compact["content"]);
    }

    // A section in compact text is its stretch of zim_get's compact text.
    let arguments = json!({"zim_file_path": ZIMFILE, "entry_path": "A/Ray_Charles",
                           "section_id": "title_0", "compact": true, "compact_budget": "small"});
    let section = shim.call_ok("zim_get_section", arguments);
    assert_eq!(section["content"], compact["content"]);
    assert_eq!(section["compact"], true);
    let arguments = json!({"zim_file_path": ZIMFILE, "entry_path": "A/Ray_Charles",
                           "section_id": "title_0"});
    let full = shim.call_ok("zim_get_section", arguments);
    assert!(text(&full["content"]).contains("]("));
    assert!(!text(&section["content"]).contains("]("));
}

//! The intent parser on many phrasings of each request.

use super::{Direction, Intent, parse};

fn s(text: &str) -> String {
    text.to_owned()
}

/// Each query with the intent it must get.
fn cases() -> Vec<(&'static str, Intent)> {
    let article = |title: &str| Intent::GetArticle { title: s(title) };
    let search = |query: &str| Intent::Search {
        query: s(query),
        everywhere: false,
    };
    let search_all = |query: &str| Intent::Search {
        query: s(query),
        everywhere: true,
    };
    let summary = |title: &str| Intent::Summary { title: s(title) };
    let toc = |title: &str| Intent::Toc { title: s(title) };
    let tell = |subject: &str| Intent::TellMeAbout {
        subject: s(subject),
        describe: false,
    };
    let links = |title: &str, direction| Intent::Links {
        title: s(title),
        direction,
        kind: None,
    };
    let section = |section: &str, title: &str| Intent::Section {
        title: s(title),
        section: s(section),
    };
    let browse = |namespace, walk, scope: &str| Intent::Browse {
        namespace,
        walk,
        scope: s(scope),
    };
    let metadata = |scope: &str| Intent::Metadata { scope: s(scope) };
    let main_page = |scope: &str| Intent::MainPage { scope: s(scope) };
    let prefix = |prefix: &str| Intent::Suggestions {
        prefix: s(prefix),
        complete: false,
        or_search: None,
    };
    let title = |title: &str| Intent::FindByTitle { title: s(title) };
    vec![
        // The archives.
        ("list archives", Intent::ListFiles),
        ("List all ZIM files", Intent::ListFiles),
        ("which archives are available?", Intent::ListFiles),
        ("what zim files do you have", Intent::ListFiles),
        ("please show me the archives", Intent::ListFiles),
        // What an archive holds.
        ("what is in zimfile", metadata("zimfile")),
        ("What's in wikibooks_be?", metadata("wikibooks_be")),
        ("describe the archive", metadata("")),
        ("describe archive zimfile", metadata("zimfile")),
        ("metadata of zimfile", metadata("zimfile")),
        ("archive info", metadata("")),
        ("what is this archive about", metadata("")),
        ("how many articles are there?", metadata("")),
        ("how many articles does zimfile have", metadata("zimfile")),
        ("what language is this archive in?", metadata("")),
        ("what is the license of zimfile", metadata("zimfile")),
        ("what's the archive's language", metadata("")),
        ("list namespaces", Intent::ListNamespaces { scope: s("") }),
        (
            "what namespaces are there in zimfile",
            Intent::ListNamespaces {
                scope: s("zimfile"),
            },
        ),
        // The main page.
        ("main page", main_page("")),
        ("Show me the main page", main_page("")),
        ("open the home page of zimfile", main_page("zimfile")),
        ("what's on the front page?", main_page("")),
        ("Hauptseite", main_page("")),
        // Searching.
        ("search for piano", search("piano")),
        ("Search piano players", search("piano players")),
        ("find articles about soul music", search("soul music")),
        ("look up gospel", search("gospel")),
        ("articles mentioning Georgia", search("Georgia")),
        ("get me articles about jazz", search("jazz")),
        ("piano", search("piano")),
        ("Ray Charles discography", search("Ray Charles discography")),
        ("cherche piano", search("piano")),
        ("suche nach Klavier", search("Klavier")),
        ("buscar piano", search("piano")),
        ("найди кухня", search("кухня")),
        // Bare titles are searched for here; the run opens the article when one has that title.
        ("Ray Charles?", search("Ray Charles")),
        ("A/Ray_Charles", search("A/Ray_Charles")),
        // Every archive: the words saying so are no part of the search.
        ("search all archives for piano", search_all("piano")),
        ("search for piano everywhere", search_all("piano")),
        ("search for piano across all archives", search_all("piano")),
        ("find piano in every archive", search_all("piano")),
        ("search for piano in all zim files", search_all("piano")),
        ("search everything for piano", search_all("piano")),
        (
            "articles about piano in all of the archives",
            search_all("piano"),
        ),
        ("piano everywhere", search_all("piano")),
        ("search everything", search("everything")),
        // Titles.
        (
            "article titled Ray Charles",
            Intent::FindByTitle {
                title: s("Ray Charles"),
            },
        ),
        (
            "is there a page called Hallelujah I Love Her So?",
            Intent::FindByTitle {
                title: s("Hallelujah I Love Her So"),
            },
        ),
        (
            "find the article named Mess Around",
            Intent::FindByTitle {
                title: s("Mess Around"),
            },
        ),
        ("titles starting with Ray", prefix("Ray")),
        (
            "list articles that begin with Эспэранта",
            prefix("Эспэранта"),
        ),
        (
            "suggest Ray Ch",
            Intent::Suggestions {
                prefix: s("Ray Ch"),
                complete: true,
                or_search: None,
            },
        ),
        // "Complete" may begin a title: the run asks the archive which it is.
        (
            "complete Ray Ch in zimfile",
            Intent::Suggestions {
                prefix: s("Ray Ch in zimfile"),
                complete: true,
                or_search: Some(s("complete Ray Ch in zimfile")),
            },
        ),
        ("title search Genius in zimfile", title("Genius in zimfile")),
        ("search titles for Genius", title("Genius")),
        ("search by title Genius", title("Genius")),
        ("search titles starting with Ray", prefix("Ray")),
        // Reading.
        ("show me the article Ray Charles", article("Ray Charles")),
        ("read Ray Charles", article("Ray Charles")),
        ("get the page about Mess Around", article("Mess Around")),
        ("open A/Ray_Charles", article("A/Ray_Charles")),
        ("article Ray Charles", article("Ray Charles")),
        (
            "Could you please show me Ray Charles",
            article("Ray Charles"),
        ),
        ("zeige Ray Charles", article("Ray Charles")),
        ("I'd like to read about Ray Charles", article("Ray Charles")),
        (
            "show me The Genius Sings the Blues",
            article("The Genius Sings the Blues"),
        ),
        ("tell me everything about Ray Charles", tell("Ray Charles")),
        (
            "tell me about (The Night Time Is) The Right Time",
            tell("(The Night Time Is) The Right Time"),
        ),
        (
            "tell me about Side by Side (1927 song)",
            tell("Side by Side (1927 song)"),
        ),
        ("tell me about Ray Charles", tell("Ray Charles")),
        ("Who was Ray Charles?", tell("Ray Charles")),
        ("what is soul music", tell("soul music")),
        ("explain gospel music", tell("gospel music")),
        ("qui est Ray Charles", tell("Ray Charles")),
        ("wer ist Ray Charles", tell("Ray Charles")),
        ("quién es Ray Charles", tell("Ray Charles")),
        ("что такое Эспэранта", tell("Эспэранта")),
        (
            "describe Ray Charles",
            Intent::TellMeAbout {
                subject: s("Ray Charles"),
                describe: true,
            },
        ),
        // Views of an article; a title's own "The" stays, "the article" goes.
        (
            "summary of The Genius Sings the Blues",
            summary("The Genius Sings the Blues"),
        ),
        (
            "summarize The Genius Sings the Blues",
            summary("The Genius Sings the Blues"),
        ),
        (
            "toc of The Genius Sings the Blues",
            toc("The Genius Sings the Blues"),
        ),
        (
            "table of contents of The Genius Sings the Blues",
            toc("The Genius Sings the Blues"),
        ),
        (
            "summary of the article The Genius Sings the Blues",
            summary("The Genius Sings the Blues"),
        ),
        ("summary of the article Ray Charles", summary("Ray Charles")),
        // "The X article": the title is tried with and without "the" when it is looked up.
        (
            "give me a short summary of the Ray Charles article",
            summary("the Ray Charles"),
        ),
        (
            "What is the Ray Charles article about?",
            summary("the Ray Charles"),
        ),
        ("toc Ray Charles", toc("Ray Charles")),
        (
            "links in The Genius Sings the Blues",
            links("The Genius Sings the Blues", Direction::Outbound),
        ),
        (
            "summarize Ray Charles",
            Intent::Summary {
                title: s("Ray Charles"),
            },
        ),
        (
            "summary of Ray Charles",
            Intent::Summary {
                title: s("Ray Charles"),
            },
        ),
        (
            "give me a short summary of the article Ray Charles",
            Intent::Summary {
                title: s("Ray Charles"),
            },
        ),
        (
            "Ray Charles summary",
            Intent::Summary {
                title: s("Ray Charles"),
            },
        ),
        (
            "toc of Ray Charles",
            Intent::Toc {
                title: s("Ray Charles"),
            },
        ),
        (
            "table of contents of Ray Charles",
            Intent::Toc {
                title: s("Ray Charles"),
            },
        ),
        (
            "outline of Ray Charles",
            Intent::Toc {
                title: s("Ray Charles"),
            },
        ),
        (
            "what are the sections of Ray Charles",
            Intent::Toc {
                title: s("Ray Charles"),
            },
        ),
        (
            "what sections does Ray Charles have",
            Intent::Toc {
                title: s("Ray Charles"),
            },
        ),
        (
            "the History section of Ray Charles",
            section("History", "Ray Charles"),
        ),
        (
            "section Early life in Ray Charles",
            section("Early life", "Ray Charles"),
        ),
        (
            "show me the Early life section of Ray Charles",
            section("Early life", "Ray Charles"),
        ),
        (
            "read the section Discography from Ray Charles",
            section("Discography", "Ray Charles"),
        ),
        (
            "Abschnitt Leben von Ray Charles",
            section("Leben", "Ray Charles"),
        ),
        // Links.
        (
            "links in Ray Charles",
            links("Ray Charles", Direction::Outbound),
        ),
        (
            "list the links of Ray Charles",
            links("Ray Charles", Direction::Outbound),
        ),
        (
            "what does Ray Charles link to",
            links("Ray Charles", Direction::Outbound),
        ),
        (
            "what links to Ray Charles",
            links("Ray Charles", Direction::Inbound),
        ),
        (
            "which pages link to Ray Charles?",
            links("Ray Charles", Direction::Inbound),
        ),
        (
            "backlinks of Ray Charles",
            links("Ray Charles", Direction::Inbound),
        ),
        (
            "related to Ray Charles",
            links("Ray Charles", Direction::Related),
        ),
        (
            "articles related to Ray Charles",
            links("Ray Charles", Direction::Related),
        ),
        (
            "what is related to Ray Charles",
            links("Ray Charles", Direction::Related),
        ),
        (
            "external links in Ray Charles",
            Intent::Links {
                title: s("Ray Charles"),
                direction: Direction::Outbound,
                kind: Some("external"),
            },
        ),
        // Listing a namespace.
        ("browse namespace A", browse(Some('A'), false, "")),
        ("browse", browse(None, false, "")),
        ("browse C", browse(Some('C'), false, "")),
        ("walk the C namespace", browse(Some('C'), true, "")),
        (
            "walk namespace M in zimfile",
            browse(Some('M'), true, "zimfile"),
        ),
        ("list all articles", browse(None, true, "")),
        ("list entries in zimfile", browse(None, false, "zimfile")),
        (
            "list all entries in namespace I",
            browse(Some('I'), true, ""),
        ),
    ]
}

#[test]
fn every_phrasing_gets_its_intent() {
    let mut wrong = Vec::new();
    for (query, expected) in cases() {
        let parsed = parse(query);
        if parsed.intent != expected {
            wrong.push(format!(
                "{query:?}: got {:?}, want {expected:?}",
                parsed.intent
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn explicit_phrasings_are_surer_than_bare_keywords() {
    assert_eq!(parse("search for piano").confidence, 0.9);
    assert_eq!(parse("piano").confidence, 0.5);
    assert!(parse("what is in zimfile").confidence < 0.9);
    assert_eq!(parse("   ").intent.name(), "search");
}

#[test]
fn intents_are_named_as_openzim_mcp_names_them() {
    let names: Vec<&str> = [
        "list archives",
        "what is in zimfile",
        "list namespaces",
        "main page",
        "search for piano",
        "article titled X",
        "titles starting with X",
        "read X",
        "tell me about X",
        "summary of X",
        "toc of X",
        "section A of X",
        "links in X",
        "what links to X",
        "related to X",
        "browse",
        "walk namespace C",
    ]
    .iter()
    .map(|query| parse(query).intent.name())
    .collect();
    assert_eq!(
        names,
        [
            "list_files",
            "metadata",
            "list_namespaces",
            "main_page",
            "search",
            "find_by_title",
            "suggestions",
            "get_article",
            "tell_me_about",
            "summary",
            "toc",
            "get_section",
            "links",
            "inbound_links",
            "related",
            "browse",
            "walk_namespace",
        ]
    );
}

//! Rules for questions about an archive rather than an article: what it holds, its
//! namespaces, its main page, and listing a namespace.

use super::{CONNECTORS, Intent, Parsed};
use crate::mcp::query::words::Words;

/// "What is in X": X is probably an archive.
const WHAT_IS_IN: &[&str] = &["what is|was in|inside", "what's|whats in|inside"];

/// Metadata and namespaces: questions about an archive rather than an article.
pub(super) fn archive_rules(words: &Words) -> Option<Parsed> {
    let sure = |intent| {
        Some(Parsed {
            intent,
            confidence: 0.9,
        })
    };
    if let Some(at) = words.position(0, &["namespaces"]) {
        let rest = Words::new(&words.text(at + 1, words.len()))
            .after_prefix(&["are|is? there? in|of|from|for? the? archive|zim|file?"])
            .unwrap_or_default();
        return sure(Intent::ListNamespaces { scope: rest });
    }
    let explicit = [
        "describe|description the? archive|zim|file|library",
        "describe the|this archive|zim|file|library",
        "metadata of|for|about|in? the|this? archive|zim|file? of|for?",
        "archive|zim info|information|details|metadata of|for|about?",
        "info|information|details about|on|of|for the|this? archive|zim|file|library",
        "what is this|the archive|zim|file|library about?",
        "what's|whats this|the archive|zim|file|library about?",
        "about the|this archive|zim|library",
    ];
    if let Some(scope) = words.after_prefix(&explicit) {
        return sure(Intent::Metadata { scope });
    }
    // Questions that the archive's metadata answers: its size, language, license.
    let questions = [
        "how many articles|entries|pages|items|documents are|is there? in|of? the|this? \
         archive|zim|file|library?",
        "how many articles|entries|pages|items|documents does|do the|this? archive|zim|file|\
         library?",
        "what|which language|languages is|are the|this? archive|zim|file|library?",
        "what|what's|whats is? the|this? archive's|zim's? language|languages|license|licence|\
         date|creator|publisher of|for? the|this? archive|zim|file|library?",
    ];
    if words.match_at(0, &questions).is_some() {
        // "… does zimfile have", "… is this archive in": the verb closing the question goes.
        let question = words
            .before_suffix(&["have|has|hold|holds|contain|contains", "written? in"])
            .unwrap_or_else(|| words.text(0, words.len()));
        let scope = Words::new(&question)
            .after_prefix(&questions)
            .unwrap_or_default();
        return sure(Intent::Metadata { scope });
    }
    if let Some(scope) = words.after_prefix(WHAT_IS_IN) {
        return Some(Parsed {
            intent: Intent::Metadata { scope },
            confidence: 0.7,
        });
    }
    None
}

/// Listing or walking a namespace.
pub(super) fn browse(words: &Words) -> Option<Intent> {
    let walk_verbs = ["walk|enumerate|iterate|crawl over|through?"];
    let page_verbs = ["browse"];
    let listing = ["list|show|display|give me? all|every? the? entries|articles|pages|items"];
    let (walk, after) = if let Some(n) = words.match_at(0, &walk_verbs) {
        (true, n)
    } else if let Some(n) = words.match_at(0, &page_verbs) {
        (false, n)
    } else {
        let n = words.match_at(0, &listing)?;
        let every = words.any_in("all every");
        // "list articles about X" is a search, not a listing.
        let rest = words.key(n);
        let scoped = rest.is_empty() || CONNECTORS.contains(&rest) || rest == "namespace";
        if !scoped {
            return None;
        }
        (every, n)
    };
    // The namespace is the letter beside the word "namespace"; what follows names the archive.
    let mut namespace = None;
    let mut scope_start = after;
    let mut at = after;
    while at < words.len() {
        let key = words.key(at);
        if key == "namespace" {
            let next = words.key(at + 1);
            let previous = if at > 0 { words.key(at - 1) } else { "" };
            let letter = [next, previous]
                .into_iter()
                .find(|word| word.chars().count() == 1);
            if let Some(letter) = letter {
                namespace = letter.to_uppercase().chars().next();
                let next_is_letter = next.chars().count() == 1;
                scope_start = if next_is_letter { at + 2 } else { at + 1 };
            } else {
                scope_start = at + 1;
            }
        }
        at += 1;
    }
    let scope = Words::new(&words.text(scope_start, words.len()))
        .after_prefix(&["in|of|from|within? the? namespace?"])
        .unwrap_or_default();
    // "browse C": a lone letter is the namespace.
    let scope = if scope.chars().count() == 1 && namespace.is_none() {
        namespace = scope.to_uppercase().chars().next();
        String::new()
    } else {
        scope
    };
    Some(Intent::Browse {
        namespace,
        walk,
        scope,
    })
}

/// `show me the main page (of X)`; the scope may name the archive.
pub(super) fn main_page(words: &Words) -> Option<String> {
    let lead = [
        "show|open|get|read|display|view|fetch|give|go|take me? to? the? main|home|front|start|\
         landing|welcome|index page",
        "what is on? the main|home|front|start|landing page",
        "what's|whats on? the main|home|front|start|landing page",
        "the? main|home|front|start|landing|welcome|index page",
        "show|open|get|read|display|view|fetch|give|go|take me? to? the? homepage|mainpage|\
         startpage|hauptseite|startseite",
        "the? homepage|mainpage|startpage|hauptseite|startseite",
        "la? page d'accueil|principale",
        "la? página|pagina principal|inicial",
        "главная|галоўная страница|старонка",
    ];
    let rest = words.after_prefix(&lead)?;
    if rest.is_empty() {
        return Some(rest);
    }
    Words::new(&rest).after_prefix(&["of|in|from|for|von|de|du the? archive|zim?"])
}

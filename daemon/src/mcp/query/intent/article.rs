//! Rules for requests about articles: reading one, asking about a subject, its summary,
//! contents, sections and links, titles, and searches.

use super::{CONNECTORS, Direction, Intent, Parsed};
use crate::mcp::query::words::{Words, trim_outer};

/// "Articles about X": a search whatever verb comes before it.
const ABOUT: &str = "articles|pages|entries|anything|something|stuff|information|texts \
    about|on|mentioning|regarding|containing";

/// Words saying that every archive is to be searched, before the subject: "search all
/// archives for X", "search everything for X".
const EVERY_ARCHIVE_BEFORE: &[&str] = &[
    "in|across|over|through? all|every of? the? zim? \
     archives|archive|zims|files|file|libraries|library for?",
    "everything|everywhere for?",
];

/// The same after the subject: "X everywhere", "X across all archives", "X in every zim file".
const EVERY_ARCHIVE_AFTER: &[&str] = &[
    "everywhere",
    "in|across|over|through|from|on all|every of? the? zim? \
     archives|archive|zims|files|file|libraries|library",
];

/// A search for `subject`, over every archive when its words say so; those words are no part
/// of what is searched for.
pub(super) fn search(subject: String) -> Intent {
    let words = Words::new(&subject);
    let rest = words
        .after_prefix(EVERY_ARCHIVE_BEFORE)
        .or_else(|| words.before_suffix(EVERY_ARCHIVE_AFTER));
    match rest {
        Some(query) if !query.is_empty() => Intent::Search {
            query,
            everywhere: true,
        },
        _ => Intent::Search {
            query: subject,
            everywhere: false,
        },
    }
}

/// The subject after `patterns`, without the noun closing "the X article": "the X", which
/// finding the article also tries without "the".
fn article_subject(words: &Words, patterns: &[&str]) -> Option<String> {
    let subject = words.subject_after(patterns)?;
    let subject_words = Words::new(&subject);
    if subject_words.len() > 2 && subject_words.key(0) == "the" {
        return Some(
            subject_words
                .before_suffix(&["article|page|entry"])
                .unwrap_or(subject),
        );
    }
    Some(subject)
}

/// Words that introduce a section's name and what follows it.
const SECTION_WORDS: &[&str] = &[
    "section",
    "sección",
    "seccion",
    "abschnitt",
    "раздел",
    "раздзел",
];

/// `the History section of X`, `section Early life in X`.
pub(super) fn section(words: &Words) -> Option<Intent> {
    let at = words.position(0, SECTION_WORDS)?;
    let lead = ["show|read|get|give|open me? the?", "the"];
    let (section, title) = if words.position(at + 1, CONNECTORS) == Some(at + 1) {
        let start = words.match_at(0, &lead).filter(|&n| n <= at).unwrap_or(0);
        (words.text(start, at), words.text(at + 2, words.len()))
    } else {
        let connector = words.position(at + 2, CONNECTORS)?;
        (
            words.text(at + 1, connector),
            words.text(connector + 1, words.len()),
        )
    };
    let section = trim_outer(&section).to_owned();
    (!section.is_empty() && !title.is_empty()).then_some(Intent::Section { title, section })
}

/// Summaries and tables of contents.
pub(super) fn article_views(words: &Words) -> Option<Intent> {
    // "What is the X article about?"
    if let Some(question) = words.before_suffix(&["article|page|entry about"])
        && let Some(title) = Words::new(&question).subject_after(&["what is|was", "what's|whats"])
        && !title.is_empty()
    {
        return Some(Intent::Summary { title });
    }
    let summary = [
        "summarize|summarise|tldr|tl;dr|résume|resume|résumer|resumir|zusammenfassen the? \
         article|page?",
        "give|write? me? a|an|the? short|brief|quick? summary|overview|gist|synopsis|abstract \
         of|for|on|about the? article|page?",
        "zusammenfassung|resumen|résumé|кратко von|de|du|del|об|пра?",
        "fasse zusammen",
    ];
    if let Some(title) = article_subject(words, &summary) {
        return (!title.is_empty()).then_some(Intent::Summary { title });
    }
    if let Some(title) = words.before_suffix(&["summary|overview|tldr"]) {
        return Some(Intent::Summary { title });
    }
    let toc = [
        "show|give|get|list|display? me? the? table of contents of|for|in the? article|page?",
        "show|give|get|list|display|what|which? me? are? the? toc|outline|contents|sections|\
         headings|headers|structure|chapters of|for|in the? article|page?",
        "inhaltsverzeichnis|gliederung|índice|indice|sommaire von|de|du|del?",
        "змест|содержание",
        "table des matières de|du?",
        "toc",
    ];
    if let Some(title) = article_subject(words, &toc) {
        return (!title.is_empty()).then_some(Intent::Toc { title });
    }
    if words
        .match_at(0, &["what|which sections|headings does|do"])
        .is_some()
    {
        let end = words
            .position(3, &["have", "contain", "has"])
            .unwrap_or(words.len());
        return Some(Intent::Toc {
            title: words.text(3, end),
        });
    }
    if let Some(title) = words.before_suffix(&["toc|outline|sections|headings"]) {
        return Some(Intent::Toc { title });
    }
    None
}

/// Outbound, inbound and related links.
pub(super) fn links(words: &Words) -> Option<Intent> {
    let with = |title: String, direction, kind| {
        (!title.is_empty()).then_some(Intent::Links {
            title,
            direction,
            kind,
        })
    };
    let inbound = [
        "what|which|who pages|articles? links|link|point|points|refer|refers to",
        "pages|articles linking|pointing to",
        "pages|articles that|which link|links|point|refer to",
        "show|list|get|find? me? the? backlinks|inbound|incoming links? to|of|for|into?",
        "links to",
    ];
    if let Some(title) = article_subject(words, &inbound) {
        return with(title, Direction::Inbound, None);
    }
    let related = [
        "show|list|find|get? me? articles|pages|topics|things|entries? related|similar to",
        "show|list|find|get? me? related|similar articles|pages|topics? of|for|to|about?",
        "what|which articles|pages|topics|entries? is|are related|similar to",
        "see also for|of?",
        "more like",
    ];
    if let Some(title) = article_subject(words, &related) {
        return with(title, Direction::Related, None);
    }
    let outbound = [
        "show|list|get|give|what|which? me? are? all? the? outbound|outgoing|internal? \
         links|hyperlinks in|from|on|of the? article|page?",
    ];
    if let Some(title) = article_subject(words, &outbound) {
        return with(title, Direction::Outbound, None);
    }
    let external = ["show|list|get|what|which? me? are? all? the? external links in|from|on|of"];
    if let Some(title) = article_subject(words, &external) {
        return with(title, Direction::Outbound, Some("external"));
    }
    let media =
        ["show|list|get|what|which? me? are? all? the? images|media|pictures in|from|on|of"];
    if let Some(title) = article_subject(words, &media) {
        return with(title, Direction::Outbound, Some("media"));
    }
    if words.match_at(0, &["what|which does"]).is_some() {
        let end = words.position(2, &["link", "links"])?;
        return with(words.text(2, end), Direction::Outbound, None);
    }
    None
}

/// Finding titles: an exact title, or titles starting with a prefix.
pub(super) fn titles(words: &Words) -> Option<Intent> {
    let suggestions = |prefix: String, complete, or_search| {
        (!prefix.is_empty()).then_some(Intent::Suggestions {
            prefix,
            complete,
            or_search,
        })
    };
    // Before titles found by name: "search titles starting with X" gives a prefix.
    let prefix = [
        "show|list|find|get|search? me? all? titles|articles|pages|entries starting|beginning|\
         starts|begins with",
        "show|list|find|get|search? me? all? titles|articles|pages|entries that|which start|\
         begin with",
    ];
    if let Some(prefix) = words.subject_after(&prefix) {
        return suggestions(prefix, false, None);
    }
    let find = [
        "is|are there an|a|any? article|page|entry|articles|pages called|titled|named",
        "do|does you|it|the|this? archive? have an|a|any? article|page|entry called|titled|named",
        "find|get|show|search|lookup|look me? up? the|an|a? article|page|entry called|titled|\
         named",
        "article|page|entry called|titled|named",
        "article|page|entry with the title",
        "find|lookup|search? the? title",
        "title|titles search|lookup for?",
        "search|find|lookup|look up? by|in|for? title|titles for?",
    ];
    if let Some(title) = article_subject(words, &find) {
        return (!title.is_empty()).then_some(Intent::FindByTitle { title });
    }
    let complete = [
        "suggest|autocomplete",
        "suggestions|completions for|of",
        "title suggestions|completions for|of?",
    ];
    if let Some(prefix) = words.subject_after(&complete) {
        return suggestions(prefix, true, None);
    }
    // "Complete" may also begin a title ("complete graph"): the run asks the archive.
    let prefix = words.subject_after(&["complete"])?;
    let whole = words.text(0, words.len());
    suggestions(prefix, true, Some(whole))
}

/// Reading an article, asking about a subject, and explicit searches.
pub(super) fn reading(words: &Words) -> Option<Parsed> {
    let parsed = |intent, confidence| Some(Parsed { intent, confidence });
    let search_verbs = [
        "search|find|look|lookup|seek|query up|for? articles|pages|entries|anything|something? \
         about|on|mentioning|containing|with|regarding|for?",
        "full text search for?",
        "fulltext search for?",
        ABOUT,
        "mentions of",
        "where is|are",
        "cherche|chercher|recherche|rechercher des? articles? sur?",
        "suche|suchen|finde nach|über?",
        "busca|buscar|encuentra artículos|articulos? sobre|de?",
        "найди|найти|поиск|искать статьи? о|об|про?",
        "шукаць|пошук|знайдзі|знайсці артыкулы? пра?",
    ];
    let tell = [
        "tell|teach us|me more|everything|all? about|of",
        "what|who is|are|was|were",
        "what's|whats|who's|whos",
        "explain|define",
        "definition|meaning of",
        "information|info|facts|details about|on|regarding",
        "what do you know about",
        "qu'est-ce que?",
        "qu'est ce que",
        "qui est|était",
        "c'est quoi",
        "was|wer ist|sind|war|waren",
        "erzähl|erzähle mir? von|über",
        "qué|que|quién|quien es|son|fue|era",
        "háblame|hablame de|sobre",
        "что|кто такое|такой|такая|такие|это",
        "хто|што такі|такая|такое",
    ];
    let read = [
        "show|display|open|read|get|fetch|give|view|print|load me? the? full? \
         text|content|contents? of? the? article|page|entry|wikipedia? article|page? \
         about|on|for|of|called|titled|named?",
        "full text|content of the?",
        "the? article|page about|on|for|of?",
        "lies|zeige|zeig|montre|affiche|lire mir|moi? den|die|das|le|la? artikel|article?",
        "muestra|muéstrame|lee me? el? artículo?",
        "покажи|прочитай|адкрый статью|артыкул?",
    ];
    if let Some(subject) = words.subject_after(&search_verbs)
        && !subject.is_empty()
    {
        return parsed(search(subject), 0.9);
    }
    if let Some(subject) = article_subject(words, &["describe"])
        && !subject.is_empty()
    {
        let intent = Intent::TellMeAbout {
            subject,
            describe: true,
        };
        return parsed(intent, 0.7);
    }
    if let Some(subject) = article_subject(words, &tell)
        && !subject.is_empty()
    {
        let intent = Intent::TellMeAbout {
            subject,
            describe: false,
        };
        return parsed(intent, 0.8);
    }
    if let Some(title) = article_subject(words, &read)
        && !title.is_empty()
    {
        // "get me articles about X" reads as a search.
        if let Some(query) = Words::new(&title).subject_after(&[ABOUT])
            && !query.is_empty()
        {
            return parsed(search(query), 0.8);
        }
        return parsed(Intent::GetArticle { title }, 0.9);
    }
    None
}

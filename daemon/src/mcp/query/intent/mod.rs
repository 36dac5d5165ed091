//! What a natural-language query asks for, by fixed rules tried in order: the same query always
//! gets the same intent, and each rule reads as the phrasings it accepts. English first, with
//! the common forms of French, German, Spanish and Russian/Belarusian where they are one or two
//! words. A query no rule claims is searched for as it stands, unless it is the name of an
//! article, which the caller then opens.
//!
//! The parser knows nothing of the archives: a phrase that may name one (`in zimfile`) stays in
//! the subject, and the caller takes it out when it names a served archive.

mod archive;
mod article;
#[cfg(test)]
mod tests;

use super::words::{Words, trim_outer};
use archive::{archive_rules, browse, main_page};
use article::{article_views, links, reading, search, section, titles};

/// Which links of an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The links the article makes.
    Outbound,
    /// The articles that link to it.
    Inbound,
    /// Its nearest neighbours.
    Related,
}

/// What a query asks for; subjects are as the user typed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The archives served.
    ListFiles,
    /// What an archive holds; `scope` may name it.
    Metadata { scope: String },
    /// An archive's namespaces.
    ListNamespaces { scope: String },
    /// An archive's main page.
    MainPage { scope: String },
    /// Full-text search; `everywhere` when the query says to search every archive.
    Search { query: String, everywhere: bool },
    /// Whether an article has this title.
    FindByTitle { title: String },
    /// Titles starting with a prefix (`complete`: ranked completions instead). `or_search`:
    /// the query to search for instead when a title starts with it ("complete graph").
    Suggestions {
        prefix: String,
        complete: bool,
        or_search: Option<String>,
    },
    /// An article, read.
    GetArticle { title: String },
    /// An article when the title is unmistakable, else a search; `describe` when the query
    /// said "describe", which may name an archive instead.
    TellMeAbout { subject: String, describe: bool },
    /// An article's lead section.
    Summary { title: String },
    /// An article's headings.
    Toc { title: String },
    /// One section of an article.
    Section { title: String, section: String },
    /// An article's links; `kind` is `external` or `media` when the query says so.
    Links {
        title: String,
        direction: Direction,
        kind: Option<&'static str>,
    },
    /// The entries of a namespace (the content namespace when `None`).
    Browse {
        namespace: Option<char>,
        walk: bool,
        scope: String,
    },
}

impl Intent {
    /// The intent's name in answers, as openzim-mcp names it.
    pub fn name(&self) -> &'static str {
        match self {
            Intent::ListFiles => "list_files",
            Intent::Metadata { .. } => "metadata",
            Intent::ListNamespaces { .. } => "list_namespaces",
            Intent::MainPage { .. } => "main_page",
            Intent::Search { .. } => "search",
            Intent::FindByTitle { .. } => "find_by_title",
            Intent::Suggestions { .. } => "suggestions",
            Intent::GetArticle { .. } => "get_article",
            Intent::TellMeAbout { .. } => "tell_me_about",
            Intent::Summary { .. } => "summary",
            Intent::Toc { .. } => "toc",
            Intent::Section { .. } => "get_section",
            Intent::Links { direction, .. } => match direction {
                Direction::Outbound => "links",
                Direction::Inbound => "inbound_links",
                Direction::Related => "related",
            },
            Intent::Browse { walk: false, .. } => "browse",
            Intent::Browse { walk: true, .. } => "walk_namespace",
        }
    }
}

/// How sure the reading of a query is when no rule claimed it: its words are searched for, or
/// the article they name exactly is read.
pub const BARE_CONFIDENCE: f64 = 0.5;

/// An intent and how sure the rule that found it is, from 0 to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// What the query asks for.
    pub intent: Intent,
    /// 0.9 for an explicit phrasing, less for guesses; 0.5 for bare keywords.
    pub confidence: f64,
}

/// Politeness and framing before the request itself.
const FILLER: &[&str] = &[
    "please|pls|kindly|hey|hi|ok|okay|so|now",
    "can|could|would|will you please?",
    "i want|need to?",
    "i'd like|love to?",
    "i would like|love to?",
    "i'm looking for",
    "help me",
    "let me",
    "bitte|пожалуйста",
    "por favor",
    "s'il te plaît",
    "калі ласка",
];

/// Words that can only be asking for the list of archives.
const LIST_VOCABULARY: &str = "list show me all the available which what are there do you have \
    zim zims files file archives archive loaded served of your is libraries library get tell about \
    my can i read open";
/// Of which one must be there: "list all" alone lists no archives.
const LIST_NOUNS: &str = "archives files zims libraries zim";

/// Words that join a name to what it belongs to: `section X of Y`, `entries in zimfile`.
const CONNECTORS: &[&str] = &[
    "of", "in", "from", "on", "de", "del", "du", "von", "im", "aus", "в", "у", "ў", "з", "из",
];

/// The intent of `query`.
pub fn parse(query: &str) -> Parsed {
    let text = strip_filler(trim_outer(query));
    let words = Words::new(&text);
    let sure = |intent| Parsed {
        intent,
        confidence: 0.9,
    };
    if words.len() == 0 {
        return Parsed {
            intent: search(String::new()),
            confidence: 0.0,
        };
    }
    if words.all_in(LIST_VOCABULARY) && words.any_in(LIST_NOUNS) {
        return sure(Intent::ListFiles);
    }
    if let Some(parsed) = archive_rules(&words) {
        return parsed;
    }
    if let Some(intent) = section(&words) {
        return sure(intent);
    }
    if let Some(intent) = article_views(&words) {
        return sure(intent);
    }
    if let Some(intent) = links(&words) {
        return sure(intent);
    }
    if let Some(intent) = titles(&words) {
        // A guess: the archive may have a title that starts with the words.
        let confidence = match intent {
            Intent::Suggestions {
                or_search: Some(_), ..
            } => 0.7,
            _ => 0.9,
        };
        return Parsed { intent, confidence };
    }
    if let Some(intent) = browse(&words) {
        return sure(intent);
    }
    if let Some(scope) = main_page(&words) {
        return sure(Intent::MainPage { scope });
    }
    reading(&words).unwrap_or_else(|| Parsed {
        intent: search(text.clone()),
        confidence: BARE_CONFIDENCE,
    })
}

/// `text` without politeness before and after the request.
fn strip_filler(text: &str) -> String {
    let mut text = text.to_owned();
    loop {
        let words = Words::new(&text);
        match words.after_prefix(FILLER) {
            Some(rest) if rest != text => text = rest,
            _ => break,
        }
    }
    let words = Words::new(&text);
    words
        .before_suffix(&["please|bitte", "for me"])
        .unwrap_or(text)
}

//! Which served archive a query names. A word names an archive when it is the archive's name,
//! its file name with or without `.zim`, or (three characters or more) the start of its file
//! name: `zimfile`, `libkiwix/zimfile.zim` and `wikibooks_be` all work. Ordinary words such as
//! "small" or "good" are file names too, so outside the scope slot of an intent a word counts
//! only in an unmistakable place: a `.zim` word anywhere; `in X,` at the start of the query;
//! `in X` (from, within, inside, using) at the end of a subject.

use super::words::{Words, trim_outer};

/// Words that introduce an archive.
const MARKERS: &[&str] = &[
    "in", "from", "within", "inside", "using", "im", "dans", "en", "в", "у",
];

/// A slot of its own: `the archive X`, `X zim`.
const ARCHIVE_NOUNS: &[&str] = &["archive", "zim", "file", "library"];

/// Words that ask what an archive is, around its name: "describe X", "tell me about X", "what
/// is X about?", "language of X". Nothing here asks for an article or a search.
const DESCRIBING: &str = "describe description tell me us about what is was what's whats in \
    inside of for on the this archive zim file library info information details metadata \
    language languages license licence please";

/// The archives a query asks to describe, when its words name archives (a `.zim` word already
/// taken out as `mentioned`, else one word that is exactly one archive's name) and nothing else
/// is asked: every other word is one of [`DESCRIBING`]. A bare name is searched for, as any
/// word, and so is one that several archives share ("what is small"): it may be a subject.
pub fn described(
    text: &str,
    mentioned: Option<&[String]>,
    names: &[String],
) -> Option<Vec<String>> {
    let words = Words::new(text);
    let describing = |at: usize| {
        DESCRIBING
            .split_whitespace()
            .any(|word| word == words.key(at))
    };
    let mut named = mentioned.map(<[String]>::to_vec);
    for at in (0..words.len()).filter(|&at| !describing(at)) {
        let found = exactly_named(words.key(at), names);
        if found.len() != 1 || named.is_some() {
            return None;
        }
        named = Some(found);
    }
    // A name alone asks nothing; `example.zim` alone is unmistakable.
    let asks = mentioned.is_some() || words.len() > 1;
    named.filter(|_| asks)
}

/// The names among `names` that `word` names exactly: an archive's name or its file name,
/// with or without `.zim`.
fn exactly_named(word: &str, names: &[String]) -> Vec<String> {
    let found = named_by(word, names);
    let wanted = trim_outer(word).to_lowercase();
    let wanted = wanted.strip_suffix(".zim").unwrap_or(&wanted);
    let exact = |name: &String| {
        let lower = name.to_lowercase();
        let stem = lower.strip_suffix(".zim").unwrap_or(&lower);
        stem == wanted || stem.ends_with(&format!("/{wanted}"))
    };
    if found.iter().all(exact) {
        found
    } else {
        Vec::new()
    }
}

/// The names among `names` that `word` names: exact names first, else names it starts.
pub fn named_by(word: &str, names: &[String]) -> Vec<String> {
    let wanted = trim_outer(word).to_lowercase();
    let wanted = wanted.strip_suffix(".zim").unwrap_or(&wanted);
    if wanted.is_empty() {
        return Vec::new();
    }
    let stems: Vec<(String, String)> = names
        .iter()
        .map(|name| {
            let lower = name.to_lowercase();
            let stem = lower.strip_suffix(".zim").unwrap_or(&lower).to_owned();
            let file = stem.rsplit('/').next().unwrap_or_default().to_owned();
            (stem, file)
        })
        .collect();
    let pick = |test: &dyn Fn(&str, &str) -> bool| -> Vec<String> {
        names
            .iter()
            .zip(&stems)
            .filter(|(_, (stem, file))| test(stem, file))
            .map(|(name, _)| name.clone())
            .collect()
    };
    let exact = pick(&|stem, file| {
        stem == wanted || file == wanted || stem.ends_with(&format!("/{wanted}"))
    });
    if !exact.is_empty() || wanted.chars().count() < 3 {
        return exact;
    }
    pick(&|stem, file| file.starts_with(wanted) || stem.starts_with(wanted))
}

/// The archives a scope slot names (`zimfile`, `the zimfile archive`), if any word there does.
pub fn scope(text: &str, names: &[String]) -> Option<Vec<String>> {
    let words = Words::new(text);
    let rest = words
        .after_prefix(&["in|of|from|for? the|this? archive|zim|file|library?"])
        .unwrap_or_default();
    let rest = Words::new(&rest)
        .before_suffix(&["archive|zim|file|library"])
        .unwrap_or(rest);
    let found = named_by(&rest, names);
    (!found.is_empty()).then_some(found)
}

/// The query without a leading `in X,` or any `.zim` word naming archives, and those archives.
pub fn take_from_query(query: &str, names: &[String]) -> Option<(String, Vec<String>)> {
    let words = Words::new(query);
    for at in 0..words.len() {
        let key = words.key(at);
        let is_file = key.ends_with(".zim");
        let leads = at == 0 && MARKERS.contains(&key);
        if !is_file && !leads {
            continue;
        }
        // The phrase: a marker, `the`, a noun, the name, a noun.
        let mut start = at;
        let mut end = at + 1;
        if leads {
            end = skip(&words, end, &["the", "this"]);
            end = skip(&words, end, ARCHIVE_NOUNS);
            let typed_name = words.text(end, end + 1);
            let ends_phrase = query
                .split_whitespace()
                .nth(end)
                .is_some_and(|word| word.ends_with(','))
                || ARCHIVE_NOUNS.contains(&words.key(end + 1));
            if !ends_phrase {
                continue;
            }
            let found = named_by(&typed_name, names);
            if found.is_empty() {
                continue;
            }
            end = skip(&words, end + 1, ARCHIVE_NOUNS);
            return Some((words.text(end, words.len()), found));
        }
        let found = named_by(key, names);
        if found.is_empty() {
            continue;
        }
        if start > 0 && ARCHIVE_NOUNS.contains(&words.key(start - 1)) {
            start -= 1;
        }
        if start > 0 && ["the", "this"].contains(&words.key(start - 1)) {
            start -= 1;
        }
        if start > 0 && MARKERS.contains(&words.key(start - 1)) {
            start -= 1;
        }
        end = skip(&words, end, ARCHIVE_NOUNS);
        let rest = format!("{} {}", words.text(0, start), words.text(end, words.len()));
        return Some((rest.trim().to_owned(), found));
    }
    None
}

/// A subject without a closing `in X` naming archives, and those archives.
pub fn take_from_subject(subject: &str, names: &[String]) -> Option<(String, Vec<String>)> {
    let words = Words::new(subject);
    let marker = (1..words.len())
        .rev()
        .find(|&at| MARKERS.contains(&words.key(at)))?;
    let mut at = skip(&words, marker + 1, &["the", "this"]);
    at = skip(&words, at, ARCHIVE_NOUNS);
    if at + 1 != words.len()
        && !(at + 2 == words.len() && ARCHIVE_NOUNS.contains(&words.key(at + 1)))
    {
        return None;
    }
    let found = named_by(&words.text(at, at + 1), names);
    (!found.is_empty()).then(|| (words.text(0, marker), found))
}

/// The position after `at` when the word there is one of `optional`.
fn skip(words: &Words, at: usize, optional: &[&str]) -> usize {
    if optional.contains(&words.key(at)) {
        at + 1
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "libkiwix/zimfile.zim",
            "zim-testing-suite/nons/small.zim",
            "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim",
            "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn words_name_archives_by_name_file_name_or_its_start() {
        let names = names();
        assert_eq!(named_by("zimfile", &names), ["libkiwix/zimfile.zim"]);
        assert_eq!(named_by("zimfile.zim", &names), ["libkiwix/zimfile.zim"]);
        assert_eq!(
            named_by("libkiwix/zimfile.zim", &names),
            ["libkiwix/zimfile.zim"]
        );
        assert_eq!(named_by("wikibooks_be", &names).len(), 2);
        assert_eq!(
            named_by("nons/wikibooks_be_all_nopic_2017-02", &names),
            ["zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim"]
        );
        assert!(named_by("zi", &names).is_empty());
        assert!(named_by("piano", &names).is_empty());
    }

    #[test]
    fn archives_are_described_when_nothing_else_is_asked() {
        let names = names();
        let zimfile = Some(vec!["libkiwix/zimfile.zim".to_owned()]);
        let mention = ["libkiwix/zimfile.zim".to_owned()];
        // What is left once `zimfile.zim` is taken out of the query.
        for left in ["describe", "tell me about", "what is", "what is about", ""] {
            assert_eq!(described(left, Some(&mention), &names), zimfile, "{left}");
        }
        assert_eq!(described("language of zimfile", None, &names), zimfile);
        assert_eq!(described("what is zimfile about?", None, &names), zimfile);
        // Something else is asked, the name is only a start, or it stands alone.
        assert_eq!(described("search", Some(&mention), &names), None);
        assert_eq!(described("language of flowers", None, &names), None);
        assert_eq!(described("describe wikibooks_be", None, &names), None);
        assert_eq!(described("zimfile", None, &names), None);
        let shared = "describe wikibooks_be_all_nopic_2017-02";
        assert_eq!(described(shared, None, &names), None);
    }

    #[test]
    fn mentions_are_taken_only_from_unmistakable_places() {
        let names = names();
        let zimfile = vec!["libkiwix/zimfile.zim".to_owned()];
        assert_eq!(
            take_from_subject("piano in zimfile", &names),
            Some(("piano".to_owned(), zimfile.clone()))
        );
        assert_eq!(
            take_from_subject("Ray Charles in the zimfile archive", &names),
            Some(("Ray Charles".to_owned(), zimfile.clone()))
        );
        // "small" here is an ordinary word, not the end of the subject.
        assert_eq!(take_from_subject("life in small towns", &names), None);
        assert_eq!(
            take_from_query("in zimfile, search for piano", &names),
            Some(("search for piano".to_owned(), zimfile.clone()))
        );
        assert_eq!(
            take_from_query("search zimfile.zim for piano", &names),
            Some(("search for piano".to_owned(), zimfile.clone()))
        );
        assert_eq!(take_from_query("in small towns, life", &names), None);
        assert_eq!(scope("the zimfile archive", &names), Some(zimfile));
        assert_eq!(scope("a hamburger", &names), None);
    }
}

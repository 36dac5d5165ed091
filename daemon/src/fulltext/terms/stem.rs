//! Stemmers and stop words, chosen as libzim chooses them from an index's metadata.
//!
//! libzim turns the index's `language` (ISO 639-3 such as `eng`, sometimes 639-1 such as `en`)
//! into a language with ICU's `Locale(..).getLanguage()` and hands that to `Xapian::Stem`; a
//! language Xapian has no stemmer for means no stemming. Xapian 1.4 ships an older Snowball
//! than the current one, and the current algorithms stem differently (English, German, Dutch,
//! French and others changed). `rust-stemmers` 1.2 carries the older algorithms and agrees with
//! Xapian 1.4.23 word for word for its 17 languages, Portuguese aside (see
//! [`Stemmer::stem`]); the seven it lacks (Armenian, Basque, Catalan, Indonesian, Irish,
//! Lithuanian, Nepali) come from `waken_snowball`, which agrees with Xapian on all of them.
//! Xapian's extra algorithms (`earlyenglish`, `german2`, `kraaij_pohlmann`, `lovins`,
//! `porter`) are not offered: no archive names its language that way, and such an index is
//! searched unstemmed.

use std::collections::HashSet;
use std::fmt;

use rust_stemmers::Algorithm as Classic;
use waken_snowball::Algorithm as Recent;

/// The languages Xapian 1.4 stems: ISO 639-3 code, ISO 639-1 code, Xapian's name, algorithm.
#[rustfmt::skip]
const LANGUAGES: [(&str, &str, &str, Algorithm); 26] = [
    ("ara", "ar", "arabic",      Algorithm::Classic(Classic::Arabic)),
    ("hye", "hy", "armenian",    Algorithm::Recent(Recent::Armenian)),
    ("eus", "eu", "basque",      Algorithm::Recent(Recent::Basque)),
    ("cat", "ca", "catalan",     Algorithm::Recent(Recent::Catalan)),
    ("dan", "da", "danish",      Algorithm::Classic(Classic::Danish)),
    ("nld", "nl", "dutch",       Algorithm::Classic(Classic::Dutch)),
    ("eng", "en", "english",     Algorithm::Classic(Classic::English)),
    ("fin", "fi", "finnish",     Algorithm::Classic(Classic::Finnish)),
    ("fra", "fr", "french",      Algorithm::Classic(Classic::French)),
    ("deu", "de", "german",      Algorithm::Classic(Classic::German)),
    ("hun", "hu", "hungarian",   Algorithm::Classic(Classic::Hungarian)),
    ("ind", "id", "indonesian",  Algorithm::Recent(Recent::Indonesian)),
    ("gle", "ga", "irish",       Algorithm::Recent(Recent::Irish)),
    ("ita", "it", "italian",     Algorithm::Classic(Classic::Italian)),
    ("lit", "lt", "lithuanian",  Algorithm::Recent(Recent::Lithuanian)),
    ("nep", "ne", "nepali",      Algorithm::Recent(Recent::Nepali)),
    ("nor", "no", "norwegian",   Algorithm::Classic(Classic::Norwegian)),
    ("nob", "nb", "norwegian",   Algorithm::Classic(Classic::Norwegian)),
    ("nno", "nn", "norwegian",   Algorithm::Classic(Classic::Norwegian)),
    ("por", "pt", "portuguese",  Algorithm::Classic(Classic::Portuguese)),
    ("ron", "ro", "romanian",    Algorithm::Classic(Classic::Romanian)),
    ("rus", "ru", "russian",     Algorithm::Classic(Classic::Russian)),
    ("spa", "es", "spanish",     Algorithm::Classic(Classic::Spanish)),
    ("swe", "sv", "swedish",     Algorithm::Classic(Classic::Swedish)),
    ("tam", "ta", "tamil",       Algorithm::Classic(Classic::Tamil)),
    ("tur", "tr", "turkish",     Algorithm::Classic(Classic::Turkish)),
];

/// A Snowball algorithm, from the crate that stems as Xapian 1.4 does.
#[derive(Clone, Copy)]
enum Algorithm {
    Classic(Classic),
    Recent(Recent),
}

/// A Snowball stemmer that stems as Xapian 1.4's does for one language.
pub struct Stemmer {
    /// Xapian's name for the language.
    language: &'static str,
    engine: Engine,
}

/// A ready stemmer, from one crate or the other.
enum Engine {
    Classic(rust_stemmers::Stemmer),
    Recent(Recent),
}

impl Stemmer {
    /// The stemmer libzim would use for an index whose language is `code`, if there is one.
    ///
    /// Like ICU, only what comes before the first `_`, `-`, `@` or `.` counts, case aside, and a
    /// three-letter code becomes its two-letter equivalent; like Xapian, a two-letter code or
    /// an English language name (`english`) picks the stemmer. Anything else, a list such as
    /// `eng,fra` included (ICU keeps it whole and Xapian knows no such language), gives `None`.
    pub fn for_language(code: &str) -> Option<Self> {
        let wanted = code
            .split(['_', '-', '@', '.'])
            .next()?
            .to_ascii_lowercase();
        let &(_, _, language, algorithm) = LANGUAGES
            .iter()
            .find(|(three, two, name, _)| [*three, *two, *name].contains(&wanted.as_str()))?;
        let engine = match algorithm {
            Algorithm::Classic(algorithm) => {
                Engine::Classic(rust_stemmers::Stemmer::create(algorithm))
            }
            Algorithm::Recent(algorithm) => Engine::Recent(algorithm),
        };
        Some(Stemmer { language, engine })
    }

    /// The stem of `word`, which should already be lower-case.
    ///
    /// Xapian 1.4's Portuguese algorithm predates a Snowball fix: it turns a final "-uciones"
    /// (and "-ución") inside the region Snowball calls R2 into "-u", and leaves "-ução" and
    /// "-uções" alone, where `rust-stemmers` does the reverse. Accents are removed before
    /// stemming in libzim, so only the accent-free "-uciones" can reach the stemmer, and it is
    /// handled here the Xapian way.
    pub fn stem(&self, word: &str) -> String {
        if self.language == "portuguese"
            && let Some(base) = word.strip_suffix("uciones")
            && portuguese_r2(word) <= base.len()
        {
            return format!("{base}u");
        }
        match &self.engine {
            Engine::Classic(stemmer) => stemmer.stem(word).into_owned(),
            Engine::Recent(algorithm) => waken_snowball::stem(*algorithm, word).into_owned(),
        }
    }
}

impl fmt::Debug for Stemmer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Stemmer").field(&self.language).finish()
    }
}

/// Where Snowball's region R2 starts in a Portuguese word, in bytes: after the first non-vowel
/// that follows a vowel, twice over. Snowball first writes "ã" and "õ" as a vowel and a tilde
/// (a non-vowel), which takes the same two bytes.
fn portuguese_r2(word: &str) -> usize {
    let mut letters = Vec::with_capacity(word.len());
    for (at, c) in word.char_indices() {
        match c {
            'ã' | 'õ' => letters.extend([(at + 1, true), (at + 2, false)]),
            _ => letters.push((at + c.len_utf8(), "aeiouáéíóúâêô".contains(c))),
        }
    }
    let region_after = |start: usize| -> usize {
        let rest = &letters[start..];
        let vowel = rest.iter().position(|&(_, vowel)| vowel);
        let consonant = vowel.and_then(|v| rest[v..].iter().position(|&(_, vowel)| !vowel));
        match (vowel, consonant) {
            (Some(v), Some(c)) => start + v + c + 1,
            _ => letters.len(),
        }
    };
    let r2 = region_after(region_after(0));
    r2.checked_sub(1).map_or(0, |last| letters[last].0)
}

/// The stop words of an index: its `stopwords` metadata, one word a line.
#[derive(Debug, Default)]
pub struct Stopwords(HashSet<String>);

impl Stopwords {
    /// Reads the `stopwords` metadata of an index, split at each newline as libzim splits it.
    pub fn from_metadata(text: &str) -> Self {
        Stopwords(text.split('\n').map(str::to_owned).collect())
    }

    /// Whether `word` (lower-case, accents removed) is a stop word.
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }
}

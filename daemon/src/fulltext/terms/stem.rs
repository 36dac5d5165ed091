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

/// The languages Xapian 1.4 stems: ISO 639-3 code, ISO 639-1 code, Xapian's name.
const LANGUAGES: [(&str, &str, &str); 26] = [
    ("ara", "ar", "arabic"),
    ("hye", "hy", "armenian"),
    ("eus", "eu", "basque"),
    ("cat", "ca", "catalan"),
    ("dan", "da", "danish"),
    ("nld", "nl", "dutch"),
    ("eng", "en", "english"),
    ("fin", "fi", "finnish"),
    ("fra", "fr", "french"),
    ("deu", "de", "german"),
    ("hun", "hu", "hungarian"),
    ("ind", "id", "indonesian"),
    ("gle", "ga", "irish"),
    ("ita", "it", "italian"),
    ("lit", "lt", "lithuanian"),
    ("nep", "ne", "nepali"),
    ("nor", "no", "norwegian"),
    ("nob", "nb", "norwegian"),
    ("nno", "nn", "norwegian"),
    ("por", "pt", "portuguese"),
    ("ron", "ro", "romanian"),
    ("rus", "ru", "russian"),
    ("spa", "es", "spanish"),
    ("swe", "sv", "swedish"),
    ("tam", "ta", "tamil"),
    ("tur", "tr", "turkish"),
];

/// A Snowball stemmer that stems as Xapian 1.4's does for one language.
pub struct Stemmer {
    /// Xapian's name for the language.
    language: &'static str,
    engine: Engine,
}

/// Which crate carries the algorithm.
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
        let language = code
            .split(['_', '-', '@', '.'])
            .next()?
            .to_ascii_lowercase();
        let &(_, _, language) = LANGUAGES
            .iter()
            .find(|(three, two, name)| [*three, *two, *name].contains(&language.as_str()))?;
        let engine = match language {
            "arabic" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Arabic)),
            "danish" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Danish)),
            "dutch" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Dutch)),
            "english" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::English)),
            "finnish" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Finnish)),
            "french" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::French)),
            "german" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::German)),
            "hungarian" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Hungarian)),
            "italian" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Italian)),
            "norwegian" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Norwegian)),
            "portuguese" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Portuguese)),
            "romanian" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Romanian)),
            "russian" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Russian)),
            "spanish" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Spanish)),
            "swedish" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Swedish)),
            "tamil" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Tamil)),
            "turkish" => Engine::Classic(rust_stemmers::Stemmer::create(Classic::Turkish)),
            "armenian" => Engine::Recent(Recent::Armenian),
            "basque" => Engine::Recent(Recent::Basque),
            "catalan" => Engine::Recent(Recent::Catalan),
            "indonesian" => Engine::Recent(Recent::Indonesian),
            "irish" => Engine::Recent(Recent::Irish),
            "lithuanian" => Engine::Recent(Recent::Lithuanian),
            _ => Engine::Recent(Recent::Nepali),
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

//! Expected values come from Xapian 1.4.23 and ICU 73 as built into libzim 9.8.2 (the PyPI
//! `libzim` wheel): its `QueryParser` set up as libzim's search and suggestion code set it up,
//! `Query::get_description()` with positions left out, `Xapian::Stem`, `TermGenerator`, and
//! libzim's `removeAccents`. The ozm additions have no oracle; their expectations follow the
//! module documentation.

use super::*;

/// The stop words the full-text cases use (libzim's English list is 1,298 words long).
const STOPWORDS: &str = "the\na\nof\nand\nor\nto\nbe\nnot\nwho\nis\nin\nit\nman\n";

/// A query written as Xapian describes it, positions left out; empty for no query.
fn describe(query: &Query) -> String {
    let join = |parts: &[Query], op: &str| {
        let parts: Vec<String> = parts.iter().map(describe).collect();
        format!("({})", parts.join(&format!(" {op} ")))
    };
    match query {
        Query::Term(term) => term.clone(),
        Query::And(parts) => join(parts, "AND"),
        Query::Or(parts) => join(parts, "OR"),
        Query::AndNot(left, right) => format!("({} AND_NOT {})", describe(left), describe(right)),
        Query::AndMaybe(left, right) => {
            format!("({} AND_MAYBE {})", describe(left), describe(right))
        }
        Query::Phrase(terms) => format!("({})", terms.join(&format!(" PHRASE {} ", terms.len()))),
        Query::Partial { prefix, term } => format!("(WILDCARD SYNONYM {prefix} OR {term})"),
        Query::Wildcard(prefix) => format!("WILDCARD SYNONYM {prefix}"),
    }
}

fn fulltext(language: &str, stopwords: Option<&str>, text: &str) -> String {
    let analyzer = Analyzer::new(Some(language), stopwords);
    parse_fulltext(text, &analyzer)
        .as_ref()
        .map(describe)
        .unwrap_or_default()
}

fn suggest(language: &str, text: &str) -> Result<String, Unparsable> {
    let analyzer = Analyzer::new(Some(language), None);
    Ok(parse_suggest(text, &analyzer)?
        .as_ref()
        .map(describe)
        .unwrap_or_default())
}

#[test]
fn fulltext_queries_are_libzims() {
    let cases = [
        ("Running fast", "(run AND fast)"),
        // One word is searched even when it is a stop word, and so is a group of stop words.
        ("the", "the"),
        ("the who", "(the AND who)"),
        ("the running man", "run"),
        // Stop words that are not in one white-space group are simply dropped.
        ("the''of", ""),
        // Hyphens and other phrase punctuation make a phrase, stemmed like the rest.
        ("rhythm-and-blues", "(rhythm PHRASE 3 and PHRASE 3 blue)"),
        (
            "e-mail user@example.com",
            "((e PHRASE 2 mail) AND (user PHRASE 3 exampl PHRASE 3 com))",
        ),
        ("10:30", "(10 PHRASE 2 30)"),
        ("U.S.A.", "(u PHRASE 3 s PHRASE 3 a)"),
        // Up to three `+` or `#` stay on a word: libzim's parser has no index to check.
        ("C++ google+ f#", "(c++ AND google+ AND f#)"),
        ("c++++", "c"),
        ("fish+chips", "(fish AND chip)"),
        ("O'Reilly's", "o'reilli"),
        ("it\u{2019}s", "it"),
        ("3.14 1,000 1.2.3", "(3.14 AND 1,000 AND 1.2.3)"),
        ("foo_bar", "foo_bar"),
        ("naïve café", "(naiv AND cafe)"),
        ("Ελληνικά ΟΔΟΣ", "(ελληνικα AND οδος)"),
        ("Straße", "straße"),
        ("日本語", "(日 AND 日本 AND 本 AND 本語 AND 語)"),
        (
            "hello 日本語",
            "(hello AND (日 AND 日本 AND 本 AND 本語 AND 語))",
        ),
        ("ＡＢＣ", "(ａ AND ａｂ AND ｂ AND ｂｃ AND ｃ)"),
        // Xapian's grammar refuses a CJK run inside a group; libzim then finds nothing.
        ("zz 語日 aa", ""),
        // Right-to-left marks separate words; quotes, `-` and lower-case `or` are punctuation
        // or words to libzim.
        ("x\u{200f}y", "(x AND y)"),
        ("x or y", "(x AND y)"),
        ("\"quoted phrase", "(quot AND phrase)"),
        ("-running", "run"),
        ("!!!", ""),
        ("*", ""),
        ("\"", ""),
        ("", ""),
    ];
    for (text, expected) in cases {
        assert_eq!(fulltext("eng", Some(STOPWORDS), text), expected, "{text:?}");
    }
}

#[test]
fn fulltext_in_other_languages() {
    assert_eq!(
        fulltext("rus", None, "Беларускай мовы"),
        "(беларуска AND мов)"
    );
    assert_eq!(
        fulltext("rus", None, "книгами и журналами"),
        "(книг AND и AND журнал)"
    );
    // Belarusian has no stemmer; й loses its breve with the accents.
    assert_eq!(
        fulltext("bel", None, "Беларускай мовы"),
        "(беларускаи AND мовы)"
    );
    assert_eq!(
        fulltext("fra", None, "L'été des révolutions"),
        "(l'et AND de AND revolu)"
    );
    assert_eq!(fulltext("deu", None, "Häuser Bücher"), "(haus AND buch)");
    assert_eq!(
        fulltext("por", None, "soluciones revoluciones"),
        "(solucion AND revolu)"
    );
    assert_eq!(
        fulltext("lit", None, "Lietuvos respublikos"),
        "(lietuv AND respublik)"
    );
}

#[test]
fn fulltext_additions() {
    let cases = [
        (
            "\"rhythm and blues\" piano",
            "((rhythm PHRASE 3 and PHRASE 3 blue) AND piano)",
        ),
        ("\"quoted phrase\"", "(quot PHRASE 2 phrase)"),
        ("“curly quotes” here", "((cur PHRASE 2 quot) AND here)"),
        ("-piano jazz", "(jazz AND_NOT piano)"),
        (
            "jazz -piano -organ soul",
            "((jazz AND soul) AND_NOT (piano OR organ))",
        ),
        ("jazz OR blues", "(jazz OR blue)"),
        ("jazz OR blues soul", "(jazz OR (blue AND soul))"),
        // What the additions cannot make sense of is read the libzim way.
        ("\"lone quote", "(lone AND quot)"),
        ("-jazz", "jazz"),
        ("the -jazz", "jazz"),
        ("jazz OR", "jazz"),
        ("OR jazz", "jazz"),
        ("x OR -y", "(x AND y)"),
        ("jazz - piano", "(jazz AND piano)"),
    ];
    for (text, expected) in cases {
        assert_eq!(fulltext("eng", Some(STOPWORDS), text), expected, "{text:?}");
    }
}

#[test]
fn long_input_is_cut_at_64_words() {
    let query = fulltext("eng", None, &"word ".repeat(10_000));
    assert_eq!(query.matches("word").count(), 64);
    let cjk = fulltext("eng", None, &"日本".repeat(5_000));
    assert_eq!(cjk.matches(" AND ").count(), 2 * 64 - 2);
    let nested = suggest("eng", &format!("{}x", "( ".repeat(5_000)));
    assert!(nested.is_ok());
    for odd in [
        "\0",
        "a\0b",
        "\u{202e}\u{200f}",
        "\u{1}\u{7f}",
        "\"\"\"",
        "((((",
        "+-+-",
        "\u{FFFD}",
    ] {
        fulltext("eng", Some(STOPWORDS), odd);
        let _ = suggest("eng", odd);
        words(odd);
    }
}

/// What libzim makes of a suggestion whose main query is `main`: it or'ed with the words as
/// a phrase, then with the words led by the title anchor as a phrase.
fn suggestion(main: &str, words: &str) -> String {
    let phrase = |words: Vec<&str>| match words.len() {
        1 => words[0].to_owned(),
        n => format!("({})", words.join(&format!(" PHRASE {n} "))),
    };
    let anchored = std::iter::once("0posanchor")
        .chain(words.split(' '))
        .collect();
    format!(
        "(({main} OR {}) OR {})",
        phrase(words.split(' ').collect()),
        phrase(anchored)
    )
}

#[test]
fn suggestions_are_libzims() {
    let cases = [
        (
            "Running fa",
            "(Zrun AND (WILDCARD SYNONYM fa OR Zfa))",
            "running fa",
        ),
        ("hello", "(WILDCARD SYNONYM hello OR Zhello)", "hello"),
        // A trailing space means the word is complete.
        ("hello ", "Zhello", "hello"),
        // Xapian refuses the lone bracket, then parses again without syntax or partial word.
        ("a )", "Za", "a"),
        (
            "-foo bar",
            "((WILDCARD SYNONYM bar OR Zbar) AND_NOT Zfoo)",
            "foo bar",
        ),
        (
            "12 monkeys",
            "(12 AND (WILDCARD SYNONYM monkeys OR Zmonkey))",
            "12 monkeys",
        ),
        (
            "\"a b\" c",
            "((a PHRASE 2 b) AND (WILDCARD SYNONYM c OR Zc))",
            "a b c",
        ),
        (
            "google+",
            "(WILDCARD SYNONYM google+ OR Zgoogle+)",
            "google+",
        ),
        (
            "foo bar baz",
            "(Zfoo AND Zbar AND (WILDCARD SYNONYM baz OR Zbaz))",
            "foo bar baz",
        ),
        // Upper-case words are lower-cased first, so operators are words here.
        (
            "x OR y",
            "(Zx AND Zor AND (WILDCARD SYNONYM y OR Zy))",
            "x or y",
        ),
        (
            "rhythm-and-blues",
            "(rhythm PHRASE 3 and PHRASE 3 blues)",
            "rhythm and blues",
        ),
    ];
    for (text, main, words) in cases {
        assert_eq!(
            suggest("eng", text),
            Ok(suggestion(main, words)),
            "{text:?}"
        );
    }
    assert_eq!(suggest("eng", "!!"), Ok("WILDCARD SYNONYM !!".to_owned()));
    assert_eq!(suggest("eng", ""), Ok(String::new()));
    assert_eq!(suggest("eng", "日本 abc"), Err(Unparsable));
}

#[test]
fn suggestions_without_a_stemmer() {
    let main = "(беларускаи AND (WILDCARD SYNONYM мовы OR мовы))";
    let expected = suggestion(main, "беларускаи мовы");
    assert_eq!(suggest("bel", "Беларускай мовы"), Ok(expected));
}

#[test]
fn languages_map_as_icu_and_xapian_do() {
    let stem = |code: &str, word: &str| Stemmer::for_language(code).map(|s| s.stem(word));
    for code in [
        "eng", "en", "EN-gb", "en_US", "english", "ENGLISH", "en.UTF-8",
    ] {
        assert_eq!(stem(code, "running").as_deref(), Some("run"), "{code}");
    }
    for code in [
        "bel", "zho", "fre", "ger", "eng,fra", "=en", " en", "und", "", "porter",
    ] {
        assert!(Stemmer::for_language(code).is_none(), "{code}");
    }
    assert_eq!(stem("nob", "hundene").as_deref(), Some("hund"));
}

#[test]
fn stems_match_xapian() {
    let cases = [
        ("eng", "generously", "generous"),
        ("eng", "added", "ad"),
        ("eng", "agrologists", "agrologist"),
        ("deu", "aachenerinnen", "aachenerinn"),
        ("nld", "aaibaar", "aaibar"),
        ("fra", "albanaises", "albanais"),
        ("spa", "abdicacion", "abdicacion"),
        ("ron", "abandonați", "abandonaț"),
        ("rus", "аксёнах", "аксён"),
        ("swe", "adjektivets", "adjektivet"),
        ("lit", "nenusigeria", "nenusig"),
        // The seven languages `waken_snowball` stems.
        ("cat", "arquitectures", "arquitectur"),
        ("eus", "etxeetan", "etxe"),
        ("ind", "membaca", "baca"),
        ("gle", "gcathracha", "cathracha"),
        ("nep", "किताबहरू", "किताब"),
        ("hye", "գրքերը", "գրքերը"),
        // Xapian's older Portuguese: "-uciones" in R2 becomes "-u".
        ("por", "revoluciones", "revolu"),
        ("por", "soluciones", "solucion"),
        ("por", "abacuciones", "abacu"),
        ("por", "bauciones", "baucion"),
    ];
    for (code, word, expected) in cases {
        let stemmer = Stemmer::for_language(code).expect("a stemmer");
        assert_eq!(stemmer.stem(word), expected, "{code} {word}");
    }
}

#[test]
fn accents_are_removed_as_icu_removes_them() {
    assert_eq!(
        remove_accents("Révolution ÉLECTIONS"),
        "revolution elections"
    );
    assert_eq!(
        remove_accents("Straße Ørestad ǅemal"),
        "straße ørestad ǆemal"
    );
    assert_eq!(
        remove_accents("İstanbul ΟΔΟΣ ΟΔΟΣ.ΑΒ"),
        "istanbul οδος οδοσ.αβ"
    );
    assert_eq!(remove_accents("Ὀδυσσεύς"), "οδυσσευς");
    assert_eq!(remove_accents("हिन्दी"), "हनद");
    // ICU reads a C string.
    assert_eq!(remove_accents("ab\0cd"), "ab");
}

#[test]
fn words_are_cut_as_the_indexer_cut_them() {
    let text = "C++ and fish+chips, O’Neil’s 日本 ÉCOLE x\u{200d}y 1,000";
    let found: Vec<(String, &str)> = words(text)
        .into_iter()
        .map(|word| (word.term, &text[word.range]))
        .collect();
    let expected = [
        ("c++", "C++"),
        ("and", "and"),
        ("fish", "fish"),
        ("chips", "chips"),
        ("o'neil's", "O’Neil’s"),
        ("日", "日"),
        ("日本", "日本"),
        ("本", "本"),
        ("ecole", "ÉCOLE"),
        ("xy", "x\u{200d}y"),
        ("1,000", "1,000"),
    ];
    let found: Vec<(&str, &str)> = found
        .iter()
        .map(|(term, raw)| (term.as_str(), *raw))
        .collect();
    assert_eq!(found, expected);
    // A word joined to a CJK run goes on after it, as in the index.
    let terms: Vec<String> = words("Soul’日本·zz")
        .into_iter()
        .map(|word| word.term)
        .collect();
    assert_eq!(terms, ["日", "日本", "本", "soul'zz"]);
    assert!(words(&"x".repeat(65)).is_empty());
}

#[test]
fn stopwords_split_at_newlines() {
    let stopwords = Stopwords::from_metadata("the\na\n\nof");
    assert!(stopwords.contains("the") && stopwords.contains("of"));
    assert!(!stopwords.contains("th"));
    let analyzer = Analyzer::new(Some("eng"), Some("the"));
    assert_eq!(analyzer.term("Running"), "run");
    assert_eq!(analyzer.term("Éléphants"), "eleph");
}

#[test]
fn xapian_unicode_tables_are_masked() {
    use super::unicode::is_wordchar;
    // Armenian letter added in Unicode 11 is no word character to Xapian 1.4.
    assert!(!is_wordchar('\u{560}'));
    assert!(is_wordchar('ա'));
    assert_eq!(unicode_general_category::UNICODE_VERSION, (16, 0, 0));
}

//! The character classes and joining rules Xapian 1.4 tokenises by, and libzim's accent
//! removal. Xapian's tables come from an older Unicode (before 10.0): characters assigned since
//! are unassigned to it, so never part of a word. They are listed here and masked, or a word
//! holding one would split elsewhere than it did when the index was written.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// Whether Xapian counts `c` as part of a word: letters, marks, numbers and connectors.
pub fn is_wordchar(c: char) -> bool {
    use GeneralCategory::*;
    // Most text is ASCII, whose word characters are letters, digits and `_`.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    matches!(
        category(c),
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | NonspacingMark
            | EnclosingMark
            | SpacingMark
            | DecimalNumber
            | LetterNumber
            | OtherNumber
            | ConnectorPunctuation
    )
}

/// Whether Xapian counts `c` as white space, control characters included.
pub fn is_whitespace(c: char) -> bool {
    use GeneralCategory::*;
    matches!(
        category(c),
        Control | SpaceSeparator | LineSeparator | ParagraphSeparator
    )
}

/// Whether `c` is a decimal digit of any script.
pub fn is_digit(c: char) -> bool {
    category(c) == GeneralCategory::DecimalNumber
}

/// Whether a word starting with `c` may be stemmed under Xapian's `STEM_SOME`: it starts with a
/// letter that is not upper-case.
pub fn starts_stemmable(c: char) -> bool {
    use GeneralCategory::*;
    matches!(
        category(c),
        LowercaseLetter | TitlecaseLetter | ModifierLetter | OtherLetter
    )
}

/// Whether `c` lies in the blocks Xapian splits into n-grams (Chinese, Japanese, Korean).
pub fn is_cjk(c: char) -> bool {
    let c = u32::from(c);
    CJK_BLOCKS
        .iter()
        .any(|&(first, last)| (first..=last).contains(&c))
}

/// A CJK character that belongs to a word: the ones Xapian makes n-grams of.
pub fn is_cjk_wordchar(c: char) -> bool {
    is_cjk(c) && is_wordchar(c)
}

/// What a character between two word characters does to the word.
pub enum Join {
    /// Ends it.
    Stop,
    /// Is left out of it.
    Skip,
    /// Joins it, as this character.
    Keep(char),
}

/// Whether `c`, between `prev` and `next` (both word characters), joins them into one word.
pub fn join(prev: char, c: char, next: char) -> Join {
    if matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}') {
        return Join::Skip;
    }
    if is_digit(prev) && is_digit(next) {
        // The separators Unicode's word-boundary rules allow inside numbers.
        return match c {
            ',' | '.' | ';' | '\u{37e}' | '\u{589}' | '\u{60d}' | '\u{7f8}' | '\u{2044}'
            | '\u{fe10}' | '\u{fe13}' | '\u{fe14}' => Join::Keep(c),
            _ => Join::Stop,
        };
    }
    match c {
        '\'' | '&' | '\u{b7}' | '\u{5f4}' | '\u{2027}' => Join::Keep(c),
        '\u{2019}' | '\u{201b}' => Join::Keep('\''),
        _ => Join::Stop,
    }
}

/// Whether `c` may follow a word as part of it, as in "c++" and "c#".
pub fn is_suffix(c: char) -> bool {
    c == '+' || c == '#'
}

/// Whether C's `strchr(set, c)` finds `c`: it compares the low byte only, and finds the
/// terminating NUL too, so `＀` (U+FF00) counts as one of the set.
pub fn in_c_string(set: &str, c: char) -> bool {
    let low = u32::from(c).to_le_bytes()[0];
    low == 0 || set.bytes().any(|b| b == low)
}

/// Whether `c` is one of the double quotes Xapian accepts.
pub fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}')
}

/// Whether `c` joins the words on either side into a phrase.
pub fn is_phrase_generator(c: char) -> bool {
    ".-/:\\@".contains(c)
}

/// Whether `c` after a word keeps it from being stemmed under `STEM_SOME`.
pub fn is_stem_preventer(c: char) -> bool {
    "(/\\@<>=*[{\"".contains(c)
}

/// libzim's `removeAccents`: ICU's `Lower; NFD; [:M:] remove; NFC`. ICU reads the text as a C
/// string, so it ends at the first NUL. Only characters Unicode assigned after ICU 73's
/// version (15.0) can come out differently.
pub fn remove_accents(text: &str) -> String {
    strip_marks(&before_nul(text).to_lowercase())
}

/// The part of `text` ICU reads as a C string: up to the first NUL.
pub fn before_nul(text: &str) -> &str {
    text.find('\0').map_or(text, |nul| &text[..nul])
}

/// `text` (already lower-cased) with its marks removed, then composed.
pub fn strip_marks(text: &str) -> String {
    // ASCII has no marks and nothing to compose.
    if text.is_ascii() {
        return text.to_owned();
    }
    text.nfd().filter(|&c| !is_mark(c)).nfc().collect()
}

/// Whether `c` is a mark, which accent removal drops (by the current Unicode, as ICU does).
fn is_mark(c: char) -> bool {
    use GeneralCategory::*;
    matches!(
        get_general_category(c),
        NonspacingMark | SpacingMark | EnclosingMark
    )
}

/// The general category of `c` as Xapian 1.4.23's tables give it.
fn category(c: char) -> GeneralCategory {
    let code = u32::from(c);
    match code {
        // Three characters whose category Unicode changed since Xapian's tables were made.
        0x111C9 => GeneralCategory::OtherPunctuation,
        0x1CF2 | 0x1CF3 => GeneralCategory::SpacingMark,
        _ if assigned_after_xapian(code) => GeneralCategory::Unassigned,
        _ => get_general_category(c),
    }
}

/// Whether Unicode assigned `code` after the version Xapian 1.4's tables come from.
fn assigned_after_xapian(code: u32) -> bool {
    let at = NEWER_THAN_XAPIAN.partition_point(|&(_, last)| last < code);
    NEWER_THAN_XAPIAN
        .get(at)
        .is_some_and(|&(first, _)| first <= code)
}

/// The blocks of Xapian's `CJK::codepoint_is_cjk`: radicals, CJK symbols, kana, bopomofo,
/// hangul, the unified and compatibility ideographs, and half- and full-width forms.
const CJK_BLOCKS: [(u32, u32); 9] = [
    (0x2E80, 0x2EFF),
    (0x3000, 0x9FFF),
    (0xA700, 0xA71F),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2A6DF),
    (0x2F800, 0x2FA1F),
];

/// Word characters (by Unicode 16, the version `unicode-general-category` 1.1 follows) that
/// Xapian 1.4.23 reports as unassigned, as inclusive ranges in ascending order. Found by
/// comparing the two over every code point; a newer Unicode in that crate would need this list
/// checked again.
#[rustfmt::skip]
const NEWER_THAN_XAPIAN: [(u32, u32); 214] = [
    (0x0560, 0x0560), (0x0588, 0x0588), (0x05EF, 0x05EF), (0x07FD, 0x07FD), (0x0860, 0x086A),
    (0x0870, 0x0887), (0x0889, 0x088E), (0x0897, 0x089F), (0x08B5, 0x08B5), (0x08BE, 0x08D3),
    (0x09FC, 0x09FC), (0x09FE, 0x09FE), (0x0AFA, 0x0AFF), (0x0B55, 0x0B55), (0x0C04, 0x0C04),
    (0x0C3C, 0x0C3C), (0x0C5D, 0x0C5D), (0x0CDD, 0x0CDD), (0x0CF3, 0x0CF3), (0x0D00, 0x0D00),
    (0x0D04, 0x0D04), (0x0D3B, 0x0D3C), (0x0D81, 0x0D81), (0x0E86, 0x0E86), (0x0E89, 0x0E89),
    (0x0E8C, 0x0E8C), (0x0E8E, 0x0E93), (0x0E98, 0x0E98), (0x0EA0, 0x0EA0), (0x0EA8, 0x0EA9),
    (0x0EAC, 0x0EAC), (0x0EBA, 0x0EBA), (0x0ECE, 0x0ECE), (0x170D, 0x170D), (0x1715, 0x1715),
    (0x171F, 0x171F), (0x180F, 0x180F), (0x1878, 0x1878), (0x1ABF, 0x1ACE), (0x1B4C, 0x1B4C),
    (0x1C89, 0x1C8A), (0x1C90, 0x1CBA), (0x1CBD, 0x1CBF), (0x1CF7, 0x1CF7), (0x1CFA, 0x1CFA),
    (0x1DF6, 0x1DFA), (0x2C2F, 0x2C2F), (0x2C5F, 0x2C5F), (0x312E, 0x312F), (0x31BB, 0x31BF),
    (0x4DB6, 0x4DBF), (0x9FD6, 0x9FFF), (0xA7AF, 0xA7AF), (0xA7B8, 0xA7CD), (0xA7D0, 0xA7D1),
    (0xA7D3, 0xA7D3), (0xA7D5, 0xA7DC), (0xA7F2, 0xA7F6), (0xA82C, 0xA82C), (0xA8FE, 0xA8FF),
    (0xAB66, 0xAB69), (0x1032D, 0x1032F), (0x10570, 0x1057A), (0x1057C, 0x1058A),
    (0x1058C, 0x10592), (0x10594, 0x10595), (0x10597, 0x105A1), (0x105A3, 0x105B1),
    (0x105B3, 0x105B9), (0x105BB, 0x105BC), (0x105C0, 0x105F3), (0x10780, 0x10785),
    (0x10787, 0x107B0), (0x107B2, 0x107BA), (0x10A34, 0x10A35), (0x10A48, 0x10A48),
    (0x10D00, 0x10D27), (0x10D30, 0x10D39), (0x10D40, 0x10D65), (0x10D69, 0x10D6D),
    (0x10D6F, 0x10D85), (0x10E80, 0x10EA9), (0x10EAB, 0x10EAC), (0x10EB0, 0x10EB1),
    (0x10EC2, 0x10EC4), (0x10EFC, 0x10F27), (0x10F30, 0x10F54), (0x10F70, 0x10F85),
    (0x10FB0, 0x10FCB), (0x10FE0, 0x10FF6), (0x11070, 0x11075), (0x110C2, 0x110C2),
    (0x11144, 0x11147), (0x111CE, 0x111CF), (0x1123F, 0x11241), (0x1133B, 0x1133B),
    (0x11380, 0x11389), (0x1138B, 0x1138B), (0x1138E, 0x1138E), (0x11390, 0x113B5),
    (0x113B7, 0x113C0), (0x113C2, 0x113C2), (0x113C5, 0x113C5), (0x113C7, 0x113CA),
    (0x113CC, 0x113D3), (0x113E1, 0x113E2), (0x1145E, 0x11461), (0x116B8, 0x116B8),
    (0x116D0, 0x116E3), (0x1171A, 0x1171A), (0x11740, 0x11746), (0x11800, 0x1183A),
    (0x11900, 0x11906), (0x11909, 0x11909), (0x1190C, 0x11913), (0x11915, 0x11916),
    (0x11918, 0x11935), (0x11937, 0x11938), (0x1193B, 0x11943), (0x11950, 0x11959),
    (0x119A0, 0x119A7), (0x119AA, 0x119D7), (0x119DA, 0x119E1), (0x119E3, 0x119E4),
    (0x11A00, 0x11A3E), (0x11A47, 0x11A47), (0x11A50, 0x11A99), (0x11A9D, 0x11A9D),
    (0x11AB0, 0x11ABF), (0x11BC0, 0x11BE0), (0x11BF0, 0x11BF9), (0x11D00, 0x11D06),
    (0x11D08, 0x11D09), (0x11D0B, 0x11D36), (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D),
    (0x11D3F, 0x11D47), (0x11D50, 0x11D59), (0x11D60, 0x11D65), (0x11D67, 0x11D68),
    (0x11D6A, 0x11D8E), (0x11D90, 0x11D91), (0x11D93, 0x11D98), (0x11DA0, 0x11DA9),
    (0x11EE0, 0x11EF6), (0x11F00, 0x11F10), (0x11F12, 0x11F3A), (0x11F3E, 0x11F42),
    (0x11F50, 0x11F5A), (0x11FB0, 0x11FB0), (0x11FC0, 0x11FD4), (0x12F90, 0x12FF0),
    (0x1342F, 0x1342F), (0x13440, 0x13455), (0x13460, 0x143FA), (0x16100, 0x16139),
    (0x16A70, 0x16ABE), (0x16AC0, 0x16AC9), (0x16D40, 0x16D6C), (0x16D70, 0x16D79),
    (0x16E40, 0x16E96), (0x16F45, 0x16F4A), (0x16F4F, 0x16F4F), (0x16F7F, 0x16F87),
    (0x16FE1, 0x16FE1), (0x16FE3, 0x16FE4), (0x16FF0, 0x16FF1), (0x187ED, 0x187F7),
    (0x18AF3, 0x18CD5), (0x18CFF, 0x18D08), (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE), (0x1B002, 0x1B122), (0x1B132, 0x1B132), (0x1B150, 0x1B152),
    (0x1B155, 0x1B155), (0x1B164, 0x1B167), (0x1B170, 0x1B2FB), (0x1CCF0, 0x1CCF9),
    (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1D2C0, 0x1D2D3), (0x1D2E0, 0x1D2F3),
    (0x1D372, 0x1D378), (0x1DF00, 0x1DF1E), (0x1DF25, 0x1DF2A), (0x1E030, 0x1E06D),
    (0x1E08F, 0x1E08F), (0x1E100, 0x1E12C), (0x1E130, 0x1E13D), (0x1E140, 0x1E149),
    (0x1E14E, 0x1E14E), (0x1E290, 0x1E2AE), (0x1E2C0, 0x1E2F9), (0x1E4D0, 0x1E4F9),
    (0x1E5D0, 0x1E5FA), (0x1E7E0, 0x1E7E6), (0x1E7E8, 0x1E7EB), (0x1E7ED, 0x1E7EE),
    (0x1E7F0, 0x1E7FE), (0x1E94B, 0x1E94B), (0x1EC71, 0x1ECAB), (0x1ECAD, 0x1ECAF),
    (0x1ECB1, 0x1ECB4), (0x1ED01, 0x1ED2D), (0x1ED2F, 0x1ED3D), (0x1FBF0, 0x1FBF9),
    (0x2A6D7, 0x2A6DF), (0x2B735, 0x2B739), (0x2CEB0, 0x2EBE0), (0x2EBF0, 0x2EE5D),
    (0x30000, 0x3134A), (0x31350, 0x323AF),
];

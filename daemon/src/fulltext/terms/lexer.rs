//! The query parser's lexer, after the loop in Xapian 1.4's `QueryParser::Internal::parse_query`
//! (queryparser.lemony): it cuts lower-cased text into the tokens the grammar reads.
//!
//! A word is a run of word characters. One `'`, `&`, `·`, `׳` or `‧` between two word
//! characters joins them (`’` and `‛` join as `'`; zero-width spaces and joiners are dropped);
//! between two digits `,`, `.`, `;` and a few more join too (`1,000`). Up to three `+` or `#`
//! right after a word stay on it (`c++`, `c#`), which Xapian undoes where its database holds
//! the bare word but not the suffixed one (libzim's parser has no database, so never). Words
//! joined by `.`, `-`, `/`, `:`, `\` or `@` become a phrase
//! (`e-mail`); words separated only by white space form a group, which is where stop words
//! are dropped; a run of CJK characters is one token that becomes n-grams. Xapian's rules for
//! upper-case initials (`U.S.A.`) and operators (`AND`) never fire here, since libzim lower-cases
//! the text first.

use super::unicode::{
    Join, in_c_string, is_cjk, is_cjk_wordchar, is_double_quote, is_phrase_generator,
    is_stem_preventer, is_suffix, is_whitespace, is_wordchar, join, starts_stemmable,
};

/// A query stops after this many words (a CJK character counts as one), so huge input stays
/// cheap. Xapian has no such limit; the words past it are ignored.
pub const MAX_WORDS: usize = 64;

/// Brackets nest at most this deep; deeper ones are plain punctuation, so the grammar's
/// recursion stays shallow. Xapian has no such limit.
const MAX_DEPTH: usize = 16;

/// How a term is made, Xapian's stemming strategy applied to one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stemming {
    /// The word itself (`STEM_NONE`).
    Off,
    /// `Z` and the stem, as titles are indexed (`STEM_SOME`).
    Prefixed,
    /// The stem alone, as full text is indexed (`STEM_ALL`).
    Bare,
}

/// One word of the query.
#[derive(Clone, Debug)]
pub struct Lexeme {
    /// The word, lower-case.
    pub name: String,
    /// How its term is made.
    pub stemming: Stemming,
    /// Its position in the query, counting from 1.
    pub pos: u32,
}

/// What the grammar reads.
#[derive(Clone, Debug)]
pub enum Token {
    /// A word.
    Term(Lexeme),
    /// A word separated from the previous one by white space only.
    GroupTerm(Lexeme),
    /// A word joined to the previous one by phrase punctuation.
    PhraseTerm(Lexeme),
    /// A run of CJK characters.
    Cjk(Lexeme),
    /// The last word, still being typed.
    Partial(Lexeme),
    /// A double quote opening or closing a phrase.
    Quote,
    /// `+` before a word.
    Love,
    /// `-` before a word.
    Hate,
    /// `-` right after an operator, which the grammar refuses.
    HateAfterOperator,
    /// The `OR` operator.
    Or,
    /// An opening bracket.
    Open,
    /// A closing bracket.
    Close,
    /// Marks a group whose words may all be stop words.
    EmptyGroupOk,
}

/// Which parts of Xapian's query syntax are on; all off is what libzim's full-text search uses.
#[derive(Clone, Debug, Default)]
pub struct Syntax {
    /// How many double quotes may open or close a phrase; the rest are punctuation.
    pub quotes: usize,
    /// `+word`.
    pub love: bool,
    /// `-word`.
    pub hate: bool,
    /// `(` and `)`.
    pub brackets: bool,
    /// The last word stands for every word it starts.
    pub partial: bool,
    /// Where (in characters) a word `or` is the operator.
    pub or_at: Vec<usize>,
}

/// Where the lexer stands, Xapian's lexer modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between words.
    Default,
    /// Inside a quoted phrase.
    InQuotes,
    /// At a word joined to the one before by phrase punctuation.
    InPhrase,
    /// After a word and white space: a word here starts a group with it.
    InGroup,
    /// Inside a group of words.
    InGroup2,
}

impl Mode {
    fn in_group(self) -> bool {
        matches!(self, Mode::InGroup | Mode::InGroup2)
    }

    /// Neither in quotes nor in a punctuation-joined phrase.
    fn plain(self) -> bool {
        matches!(self, Mode::Default | Mode::InGroup | Mode::InGroup2)
    }
}

/// What the previous step leaves for the next one (Xapian's `goto` targets).
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    Nothing,
    Operator,
    OperatorNeedingTerm,
}

/// Cuts `text` (already lower-case, accents removed) into tokens.
///
/// `stemming` is how terms are made where nothing prevents it.
pub fn lex(text: &str, syntax: &Syntax, stemming: Stemming) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut lexer = Lexer {
        chars: &chars,
        at: 0,
        syntax,
        stemming,
        tokens: Vec::new(),
        mode: Mode::Default,
        prev: ' ',
        pos: 1,
        words: 0,
        quotes: 0,
        depth: 0,
    };
    lexer.run();
    lexer.tokens
}

/// The lexer's state over one query.
struct Lexer<'a> {
    chars: &'a [char],
    at: usize,
    syntax: &'a Syntax,
    stemming: Stemming,
    tokens: Vec<Token>,
    mode: Mode,
    /// The character before the current one as Xapian tracks it: a space after white space,
    /// a letter after a word, else the punctuation itself.
    prev: char,
    /// The next word's position.
    pos: u32,
    /// Words read so far, against [`MAX_WORDS`].
    words: usize,
    /// Double quotes seen so far, against [`Syntax::quotes`].
    quotes: usize,
    /// Brackets still open.
    depth: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
    }

    fn run(&mut self) {
        let mut after = After::Nothing;
        while let Some(c) = self.peek() {
            let mut last_was_operator = false;
            let mut needs_term = false;
            match std::mem::replace(&mut after, After::Nothing) {
                After::Nothing => {}
                After::Operator => {
                    self.mode = Mode::Default;
                    last_was_operator = true;
                }
                After::OperatorNeedingTerm => {
                    needs_term = true;
                    last_was_operator = true;
                }
            }
            if self.mode == Mode::InPhrase {
                self.mode = Mode::Default;
            }
            let mut c = c;
            if is_whitespace(c) {
                self.prev = ' ';
                self.skip_while(is_whitespace);
                let Some(next) = self.peek() else { break };
                c = next;
            }
            if !is_wordchar(c) {
                after = self.punctuation(c, last_was_operator);
                continue;
            }
            if self.words >= MAX_WORDS {
                break;
            }
            self.prev = 'a';
            after = self.word(needs_term);
        }
        if self.mode == Mode::InQuotes {
            self.tokens.push(Token::Quote);
        }
        for _ in 0..self.depth {
            self.tokens.push(Token::Close);
        }
    }

    /// Handles the character `c` at the cursor, which is not part of a word.
    fn punctuation(&mut self, c: char, last_was_operator: bool) -> After {
        let prev = std::mem::replace(&mut self.prev, c);
        self.at += 1;
        if self.mode.in_group() {
            self.mode = Mode::Default;
        }
        match c {
            '"' | '\u{201c}' | '\u{201d}' => {
                if self.mode == Mode::Default {
                    self.skip_while(is_whitespace);
                    match self.peek() {
                        // A quote at the very end is dropped, and so is an empty pair.
                        None => return After::Nothing,
                        Some(quote) if is_double_quote(quote) => {
                            self.prev = quote;
                            self.at += 1;
                            self.quotes += 2;
                            return After::Nothing;
                        }
                        Some(_) => {}
                    }
                }
                // Inside a phrase, `""` stands for a quote character, which is dropped.
                if self.mode == Mode::InQuotes && c == '"' && self.peek() == Some('"') {
                    self.at += 1;
                    self.quotes += 2;
                    return After::Nothing;
                }
                self.quotes += 1;
                if self.quotes <= self.syntax.quotes {
                    self.tokens.push(Token::Quote);
                    self.mode = match self.mode {
                        Mode::Default => Mode::InQuotes,
                        _ => Mode::Default,
                    };
                }
            }
            '+' | '-' => {
                // A sign counts only at the start of a word that follows white space or `(`.
                let Some(next) = self.peek() else {
                    return After::Nothing;
                };
                if prev > ' ' && prev != '(' {
                    return After::Nothing;
                }
                if is_whitespace(next) || next == '+' || next == '-' {
                    self.prev = next;
                    self.at += 1;
                    return After::Nothing;
                }
                let wanted = if c == '+' {
                    self.syntax.love
                } else {
                    self.syntax.hate
                };
                if self.mode == Mode::Default && wanted {
                    self.tokens.push(match c {
                        '+' => Token::Love,
                        _ if last_was_operator => Token::HateAfterOperator,
                        _ => Token::Hate,
                    });
                    return After::OperatorNeedingTerm;
                }
            }
            '(' => {
                self.skip_while(is_whitespace);
                let Some(next) = self.peek() else {
                    return After::Nothing;
                };
                if prev > ' ' && !in_c_string("()+-", prev) {
                    return After::Nothing;
                }
                if next == ')' {
                    self.prev = next;
                    self.at += 1;
                    return After::Nothing;
                }
                if self.mode == Mode::Default && self.syntax.brackets && self.depth < MAX_DEPTH {
                    self.depth += 1;
                    self.tokens.push(Token::Open);
                }
            }
            ')' if self.mode == Mode::Default && self.syntax.brackets => {
                self.depth = self.depth.saturating_sub(1);
                self.tokens.push(Token::Close);
            }
            _ => {}
        }
        After::Nothing
    }

    /// Reads the word at the cursor, and the words phrase punctuation joins to it.
    fn word(&mut self, needs_term: bool) -> After {
        loop {
            let start = self.at;
            let (name, cjk) = self.term();
            if self.mode.plain() && name == "or" && self.syntax.or_at.contains(&start) {
                // An operator, not a word: it does not count against the limit.
                self.words -= 1;
                self.tokens.push(Token::Or);
                return After::Operator;
            }
            let lexeme = Lexeme {
                stemming: self.stemming_for(&name),
                name,
                pos: self.pos,
            };
            self.pos += 1;
            if cjk {
                self.tokens.push(Token::Cjk(lexeme));
                return After::Nothing;
            }
            if self.mode.plain() && self.peek().is_none() && self.syntax.partial {
                if self.mode == Mode::InGroup2 {
                    self.tokens.push(Token::EmptyGroupOk);
                }
                self.mode = Mode::Default;
                self.tokens.push(Token::Partial(lexeme));
                return After::Nothing;
            }
            if self.mode == Mode::InPhrase {
                self.tokens.push(Token::PhraseTerm(lexeme));
            } else {
                // A word that starts a phrase does not join the group before it.
                if self.mode.in_group() && self.phrase_follows() {
                    self.mode = Mode::Default;
                }
                if self.mode.in_group() {
                    self.mode = Mode::InGroup2;
                    self.tokens.push(Token::GroupTerm(lexeme));
                } else {
                    self.tokens.push(Token::Term(lexeme));
                    if self.mode != Mode::Default {
                        return After::Nothing;
                    }
                }
            }
            let Some(next) = self.peek() else {
                return After::Nothing;
            };
            if is_phrase_generator(next) {
                self.skip_while(is_phrase_generator);
                if self.peek().is_some_and(is_wordchar) {
                    if self.words >= MAX_WORDS {
                        self.at = self.chars.len();
                        return After::Nothing;
                    }
                    self.mode = Mode::InPhrase;
                    continue;
                }
            } else if self.mode.plain() {
                let was_in_group = self.mode.in_group();
                self.mode = Mode::Default;
                if !needs_term && is_whitespace(next) {
                    self.prev = ' ';
                    self.skip_while(is_whitespace);
                    if self.peek().is_some_and(is_wordchar) {
                        self.mode = if was_in_group {
                            Mode::InGroup2
                        } else {
                            Mode::InGroup
                        };
                    }
                }
            }
            return After::Nothing;
        }
    }

    /// Whether phrase punctuation and then a word follow the cursor.
    fn phrase_follows(&self) -> bool {
        let rest = &self.chars[self.at..];
        let punctuation = rest.iter().take_while(|&&c| is_phrase_generator(c)).count();
        punctuation > 0 && rest.get(punctuation).is_some_and(|&c| is_wordchar(c))
    }

    /// Reads one word from the cursor, which is on a word character; says whether it is a run
    /// of CJK characters.
    fn term(&mut self) -> (String, bool) {
        let first = self.chars[self.at];
        if is_cjk(first) {
            let budget = MAX_WORDS - self.words;
            let run = self.chars[self.at..]
                .iter()
                .take(budget)
                .take_while(|&&c| is_cjk_wordchar(c))
                .count();
            self.words += run;
            let name = self.chars[self.at..self.at + run].iter().collect();
            self.at += run;
            return (name, true);
        }
        self.words += 1;
        let mut name = String::from(first);
        let mut prev = first;
        self.at += 1;
        while let Some(c) = self.peek().filter(|&c| !is_cjk(c)) {
            let kept = if is_wordchar(c) {
                c
            } else {
                let Some(&next) = self.chars.get(self.at + 1).filter(|&&n| is_wordchar(n)) else {
                    break;
                };
                match join(prev, c, next) {
                    Join::Stop => break,
                    Join::Skip => {
                        self.at += 1;
                        continue;
                    }
                    Join::Keep(kept) => kept,
                }
            };
            name.push(kept);
            prev = kept;
            self.at += 1;
        }
        (self.suffix(name), false)
    }

    /// `name` with the `+` or `#` suffix that follows it, when the suffix belongs to it: at
    /// most three of them, not followed by a word character. Xapian would drop a suffix the
    /// index lacks where it holds the bare word, but libzim gives its parser no index, so the
    /// suffix always stays ("c++", and "google+" too).
    fn suffix(&mut self, name: String) -> String {
        let rest = &self.chars[self.at..];
        let count = rest.iter().take_while(|&&c| is_suffix(c)).count();
        if count == 0 || count > 3 || rest.get(count).is_some_and(|&c| is_wordchar(c)) {
            return name;
        }
        let suffixed: String = name.chars().chain(rest[..count].iter().copied()).collect();
        self.at += count;
        suffixed
    }

    /// How the term for `name` is made, given the character that follows it.
    fn stemming_for(&self, name: &str) -> Stemming {
        match self.stemming {
            Stemming::Prefixed => {
                let stemmable = name.chars().next().is_some_and(starts_stemmable);
                let prevented = self.peek().is_some_and(is_stem_preventer);
                if stemmable && !prevented {
                    Stemming::Prefixed
                } else {
                    Stemming::Off
                }
            }
            other => other,
        }
    }
}

//! The regular expressions real `tokenizer.json` files split words with, each as a hand-written
//! scanner that returns what a backtracking engine (Oniguruma, `fancy-regex`) matches:
//!
//! - GPT-2's, which the ByteLevel pre-tokenizer applies with `use_regex` (GPT-2, SmolLM2), and
//!   which a Split may also name;
//! - Llama 3's, in a Split before ByteLevel (Llama 3, 3.1, 3.2);
//! - Qwen2's, the same but one digit at a time (Qwen2, Qwen2.5, Qwen3).
//!
//! A Split's regex is accepted only if it is one of these, character for character: a general
//! engine with lookaround would add about 1.2 MB to the page's wasm (docs/formats.md), and a
//! pattern we cannot run is refused by name rather than run wrongly.

use crate::model::tokenizer::unicode_tables::{LETTER, NUMBER};

/// GPT-2's regex, as the ByteLevel pre-tokenizer of `tokenizers` applies it.
pub const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Llama 3's regex (its `tokenizer.json`'s Split pattern).
pub const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2's regex: Llama 3's with one digit per word.
pub const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A regex this module runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Gpt2,
    /// Llama 3's (`digits` 3) or Qwen2's (`digits` 1): the longest run of digits one word holds.
    Llama3 {
        digits: usize,
    },
}

impl Pattern {
    /// The pattern written `source`, if it is one of the known ones.
    pub fn from_source(source: &str) -> Option<Pattern> {
        match source {
            GPT2 => Some(Pattern::Gpt2),
            LLAMA3 => Some(Pattern::Llama3 { digits: 3 }),
            QWEN2 => Some(Pattern::Llama3 { digits: 1 }),
            _ => None,
        }
    }

    /// The regex's source text.
    pub fn source(self) -> &'static str {
        match self {
            Pattern::Gpt2 => GPT2,
            Pattern::Llama3 { digits: 3 } => LLAMA3,
            Pattern::Llama3 { .. } => QWEN2,
        }
    }

    /// The end of the match that starts at byte `i` (< text.len()), or `None` if none starts
    /// there. Every character starts a match of these three patterns, so matches tile the
    /// text; the `Option` keeps the scanner honest all the same.
    pub fn match_at(self, text: &str, i: usize) -> Option<usize> {
        match self {
            Pattern::Gpt2 => Some(gpt2_end(text, i)),
            Pattern::Llama3 { digits } => llama3_end(text, i, digits),
        }
    }

    /// The matches of the regex in `text`, leftmost first, as `find_iter` gives them.
    pub fn find_iter(self, text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
        if self == Pattern::Gpt2 {
            return Matches::Gpt2(gpt2_ranges(text));
        }
        let mut pos = 0;
        let other = std::iter::from_fn(move || {
            while pos < text.len() {
                let start = pos;
                match self.match_at(text, start) {
                    Some(end) if end > start => {
                        pos = end;
                        return Some((start, end));
                    }
                    _ => pos += text[start..].chars().next().map_or(1, char::len_utf8),
                }
            }
            None
        });
        Matches::Other(other)
    }
}

/// The matches of one of the patterns (GPT-2's scanner called directly: it runs on every word
/// of GPT-2's, SmolLM2's and the lab's own tokenizers).
enum Matches<A, B> {
    Gpt2(A),
    Other(B),
}

impl<A, B> Iterator for Matches<A, B>
where
    A: Iterator<Item = (usize, usize)>,
    B: Iterator<Item = (usize, usize)>,
{
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        match self {
            Matches::Gpt2(a) => a.next(),
            Matches::Other(b) => b.next(),
        }
    }
}

/// GPT-2's words as byte ranges: every character starts one, so they tile the text.
fn gpt2_ranges(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        pos = gpt2_end(text, start);
        Some((start, pos))
    })
}

/// Unicode General Category L (letters), `\p{L}`.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(LETTER, c)
}

/// Unicode General Category N (numbers), `\p{N}`.
pub fn is_number(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_ranges(NUMBER, c)
}

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `\s`: Unicode White_Space, as in Oniguruma and Rust's regex (not Python's `isspace`,
/// which adds U+001C..U+001F).
pub fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Neither space, letter nor number: `[^\s\p{L}\p{N}]`.
pub fn is_other(c: char) -> bool {
    !is_space(c) && !is_letter(c) && !is_number(c)
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

/// The words GPT-2's regex splits `text` into, in order; together they are exactly `text`.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    Pattern::Gpt2.find_iter(text).map(move |(a, b)| &text[a..b])
}

/// The end of the run of characters of `class` starting at byte `i`.
fn run_end(text: &str, i: usize, class: fn(char) -> bool) -> usize {
    text[i..]
        .char_indices()
        .find(|&(_, c)| !class(c))
        .map_or(text.len(), |(k, _)| i + k)
}

/// `\s+(?!\S)|\s+` at byte `i`, a space: the run of spaces, less its last one if a non-space
/// follows it and the run is longer than one.
fn spaces_end(text: &str, i: usize) -> usize {
    let end = run_end(text, i, is_space);
    if end == text.len() {
        return end;
    }
    let last = text[..end].chars().next_back().map_or(0, char::len_utf8);
    if end - last > i {
        end - last
    } else {
        end
    }
}

/// `'s|'t|'re|'ve|'m|'ll|'d` at byte `i`; `fold` compares case-insensitively, as `(?i:…)` does
/// (where `s` also matches U+017F LATIN SMALL LETTER LONG S, its case fold).
fn contraction_end(text: &str, i: usize, fold: bool) -> Option<usize> {
    let rest = text[i..].strip_prefix('\'')?;
    'suffix: for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
        let mut len = 0;
        let mut chars = rest.chars();
        for want in suffix.chars() {
            let Some(c) = chars.next() else {
                continue 'suffix;
            };
            let same = c == want
                || (fold && (c.to_ascii_lowercase() == want || (want == 's' && c == 'ſ')));
            if !same {
                continue 'suffix;
            }
            len += c.len_utf8();
        }
        return Some(i + 1 + len);
    }
    None
}

/// GPT-2's regex at byte `i` (< text.len()): the first alternative that matches there.
fn gpt2_end(text: &str, i: usize) -> usize {
    if let Some(end) = contraction_end(text, i, false) {
        return end;
    }
    let mut chars = text[i..].chars();
    let Some(c) = chars.next() else {
        return text.len();
    };
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space never belongs to a class, so the
    // optional space is taken exactly when the character after it is of the class.
    let after_space = if c == ' ' { chars.next() } else { None };
    for class in [is_letter as fn(char) -> bool, is_number, is_other] {
        let start = match after_space {
            Some(d) if class(d) => i + 1,
            _ if class(c) => i,
            _ => continue,
        };
        return run_end(text, start, class);
    }
    spaces_end(text, i)
}

/// Llama 3's regex at byte `i` (< text.len()), with `\p{N}{1,digits}`:
/// `(?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|
/// \s+(?!\S)|\s+`.
fn llama3_end(text: &str, i: usize, digits: usize) -> Option<usize> {
    if let Some(end) = contraction_end(text, i, true) {
        return Some(end);
    }
    let mut chars = text[i..].chars();
    let c = chars.next()?;
    let next = chars.next();
    // `[^\r\n\p{L}\p{N}]?\p{L}+`
    if is_letter(c) {
        return Some(run_end(text, i, is_letter));
    }
    if !is_newline(c) && !is_number(c) && next.is_some_and(is_letter) {
        return Some(run_end(text, i + c.len_utf8(), is_letter));
    }
    // `\p{N}{1,digits}`
    if is_number(c) {
        let mut end = i;
        for (n, d) in text[i..].chars().enumerate() {
            if n == digits || !is_number(d) {
                break;
            }
            end += d.len_utf8();
        }
        return Some(end);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let start = if c == ' ' && next.is_some_and(is_other) {
        Some(i + 1)
    } else if is_other(c) {
        Some(i)
    } else {
        None
    };
    if let Some(start) = start {
        let end = run_end(text, start, is_other);
        return Some(run_end(text, end, is_newline));
    }
    // c is a space. `\s*[\r\n]+`: the greedy `\s*` gives back characters until a newline
    // follows, so the match ends just after the run's last newline.
    let run = run_end(text, i, is_space);
    if let Some(k) = text[i..run].rfind(is_newline) {
        return Some(i + k + 1);
    }
    // `\s+(?!\S)|\s+`
    Some(spaces_end(text, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: Pattern, text: &str) -> Vec<&str> {
        p.find_iter(text).map(|(a, b)| &text[a..b]).collect()
    }

    /// \p{L} and \p{N} are General Categories, not Rust's Alphabetic / Numeric.
    #[test]
    fn letter_and_number_are_general_categories() {
        assert!(is_letter('é') && is_letter('ß') && is_letter('中') && is_letter('ǅ'));
        // U+0345 COMBINING GREEK YPOGEGRAMMENI is Alphabetic but Mn.
        assert!('\u{345}'.is_alphabetic() && !is_letter('\u{345}'));
        // U+2160 ROMAN NUMERAL ONE is Alphabetic and Nl: a number here.
        assert!(!is_letter('\u{2160}') && is_number('\u{2160}'));
        assert!(is_number('²') && is_number('٣') && is_number('½'));
        assert!(!is_number('a') && !is_letter('1') && !is_letter('_'));
        assert!(is_other('\u{345}') && is_other('!') && !is_other('\u{3000}'));
    }

    /// GPT-2's alternatives, in order, with its backtracking.
    #[test]
    fn gpt2_words() {
        let p = Pattern::Gpt2;
        assert_eq!(split(p, "Hello world"), ["Hello", " world"]);
        assert_eq!(
            split(p, "I'm don't they'll 'x"),
            ["I", "'m", " don", "'t", " they", "'ll", " '", "x"]
        );
        assert_eq!(split(p, "a  b"), ["a", " ", " b"]);
        assert_eq!(split(p, "a   \n b  "), ["a", "   \n", " b", "  "]);
        assert_eq!(split(p, " 12ab!? \t"), [" 12", "ab", "!?", " \t"]);
        assert_eq!(split(p, "x\n\ny"), ["x", "\n", "\n", "y"]);
        assert_eq!(split(p, "\u{3000}中文"), ["\u{3000}", "中文"]);
        assert_eq!(split(p, "'S"), ["'", "S"]);
        assert_eq!(split(p, ""), Vec::<&str>::new());
        assert_eq!(words("a b").collect::<Vec<_>>(), ["a", " b"]);
    }

    /// Llama 3's alternatives: case-insensitive contractions, one non-letter before a word,
    /// digits in threes, punctuation with its newlines, newlines with the spaces before them.
    #[test]
    fn llama3_words() {
        let p = Pattern::Llama3 { digits: 3 };
        assert_eq!(
            split(p, "I'M don'T ſ's"),
            ["I", "'M", " don", "'T", " ſ", "'s"]
        );
        assert_eq!(split(p, "1234567 x"), ["123", "456", "7", " x"]);
        assert_eq!(split(p, "(hello) \"x\""), ["(hello", ")", " \"", "x", "\""]);
        assert_eq!(split(p, "a.\n\nb"), ["a", ".\n\n", "b"]);
        assert_eq!(split(p, "a  \n  \n b"), ["a", "  \n  \n", " b"]);
        assert_eq!(split(p, "a\r\n\r\nb"), ["a", "\r\n\r\n", "b"]);
        assert_eq!(split(p, "\tx  y   "), ["\tx", " ", " y", "   "]);
        assert_eq!(split(p, "\nx"), ["\n", "x"]);
        let q = Pattern::Llama3 { digits: 1 };
        assert_eq!(split(q, "x 123"), ["x", " ", "1", "2", "3"]);
    }

    #[test]
    fn known_sources_round_trip() {
        for p in [
            Pattern::Gpt2,
            Pattern::Llama3 { digits: 3 },
            Pattern::Llama3 { digits: 1 },
        ] {
            assert_eq!(Pattern::from_source(p.source()), Some(p));
        }
        assert_eq!(Pattern::from_source(r"\s+"), None);
    }
}

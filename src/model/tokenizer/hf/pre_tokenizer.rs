//! `pre_tokenizer`: how a normalized text is cut into the words BPE encodes one by one, as
//! `tokenizers` does it: each step cuts every piece the step before gave, and empty pieces are
//! dropped.
//!
//! - `ByteLevel`: a space in front (`add_prefix_space`), GPT-2's regex (`use_regex`), then each
//!   byte becomes GPT-2's character for it (done by the model, which reads bytes). It must be
//!   the last step.
//! - `Split`: a string or one of the known regexes ([`super::patterns`]), with its `behavior`
//!   and `invert`.
//! - `Digits`: digits apart from the rest, each alone with `individual_digits`.
//! - `Metaspace`: spaces become `replacement` (`▁`), which goes in front of the text too
//!   (`prepend_scheme` always, or first: only at the start of the input), and with `split` each
//!   `▁` begins a new word.
//! - `Sequence` of these.

use serde_json::Value;

use super::component::{
    char_field, kind, pattern_field, string_field, unsupported, Fields, PatternJson,
};
use super::json::bad;
use super::patterns::Pattern;
use crate::error::Result;

/// What becomes of the delimiters a Split finds (`SplitDelimiterBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Behavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// What a Split looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SplitPattern {
    /// A fixed string.
    Literal(String),
    /// One of the known regexes.
    Regex(Pattern),
}

/// Where Metaspace puts its replacement in front of a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prepend {
    Always,
    /// Only in front of the piece that starts the input.
    First,
    Never,
}

/// One pre-tokenizer step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PreTokenizer {
    ByteLevel {
        add_prefix_space: bool,
        use_regex: bool,
    },
    Split {
        pattern: SplitPattern,
        behavior: Behavior,
        invert: bool,
    },
    Digits {
        individual: bool,
    },
    Metaspace {
        replacement: char,
        prepend: Prepend,
        split: bool,
    },
}

const SUPPORTED: &str = "ByteLevel, Split, Digits, Metaspace, Sequence";
const BEHAVIORS: &str = "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous";
const SCHEMES: &str = "always, first, never";

/// Reads `pre_tokenizer` (null: none) into its steps, a Sequence flattened.
pub(super) fn read(v: Option<&Value>, field: &str, out: &mut Vec<PreTokenizer>) -> Result<()> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let o = Fields::new(v, field)?;
    let step = match kind(&o)? {
        "ByteLevel" => PreTokenizer::ByteLevel {
            add_prefix_space: o.flag("add_prefix_space", true)?,
            use_regex: o.flag("use_regex", true)?,
        },
        "Split" => {
            let pattern = match pattern_field(&o)? {
                PatternJson::String(s) => SplitPattern::Literal(s.to_string()),
                PatternJson::Regex(r) => match Pattern::from_source(r) {
                    Some(p) => SplitPattern::Regex(p),
                    None => match super::component::literal_regex(r) {
                        Some(s) => SplitPattern::Literal(s),
                        None => {
                            return Err(super::component::regex_unsupported(
                                &o.field("pattern.Regex"),
                                r,
                                "GPT-2's, Llama 3's and Qwen2's regexes and plain strings",
                                crate::error::Code::TokenizerSplitRegex,
                            ))
                        }
                    },
                },
            };
            let behavior = match string_field(&o, "behavior")? {
                "Removed" => Behavior::Removed,
                "Isolated" => Behavior::Isolated,
                "MergedWithPrevious" => Behavior::MergedWithPrevious,
                "MergedWithNext" => Behavior::MergedWithNext,
                "Contiguous" => Behavior::Contiguous,
                other => return Err(unsupported(&o.field("behavior"), other, BEHAVIORS)),
            };
            PreTokenizer::Split {
                pattern,
                behavior,
                invert: o.flag("invert", false)?,
            }
        }
        "Digits" => PreTokenizer::Digits {
            individual: o.flag("individual_digits", false)?,
        },
        "Metaspace" => {
            let prepend = match o.get("prepend_scheme") {
                // Files older than `prepend_scheme` say `add_prefix_space`.
                None => {
                    if o.flag("add_prefix_space", true)? {
                        Prepend::Always
                    } else {
                        Prepend::Never
                    }
                }
                Some(_) => match string_field(&o, "prepend_scheme")? {
                    "always" => Prepend::Always,
                    "first" => Prepend::First,
                    "never" => Prepend::Never,
                    other => return Err(unsupported(&o.field("prepend_scheme"), other, SCHEMES)),
                },
            };
            PreTokenizer::Metaspace {
                replacement: char_field(&o, "replacement")?,
                prepend,
                split: o.flag("split", true)?,
            }
        }
        "Sequence" => {
            let list = o.list("pretokenizers")?;
            for (i, p) in list.iter().enumerate() {
                read(Some(p), &format!("{field}.pretokenizers[{i}]"), out)?;
            }
            return Ok(());
        }
        other => return Err(unsupported(&o.field("type"), other, SUPPORTED)),
    };
    out.push(step);
    Ok(())
}

/// The steps must end with ByteLevel if they have one: after it, the text is GPT-2's byte
/// characters, which the model reads as bytes. Returns whether they end with it.
pub(super) fn check_byte_level_last(steps: &[PreTokenizer]) -> Result<bool> {
    let at = steps
        .iter()
        .position(|s| matches!(s, PreTokenizer::ByteLevel { .. }));
    match at {
        None => Ok(false),
        Some(i) if i + 1 == steps.len() => Ok(true),
        Some(_) => Err(bad(
            "pre_tokenizer: a ByteLevel step is only supported as the last step",
        )),
    }
}

/// Cuts `text` with `steps` and gives each word to `word`, in order. `origin`: whether `text`
/// starts the input (Metaspace's `first`).
pub(super) fn pre_tokenize<F: FnMut(&str) -> Result<()>>(
    steps: &[PreTokenizer],
    text: &str,
    origin: bool,
    word: &mut F,
) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let Some((step, rest)) = steps.split_first() else {
        return word(text);
    };
    match step {
        PreTokenizer::ByteLevel {
            add_prefix_space,
            use_regex,
        } => {
            let prefixed;
            let text = if *add_prefix_space && !text.starts_with(' ') {
                prefixed = format!(" {text}");
                prefixed.as_str()
            } else {
                text
            };
            if *use_regex {
                for (a, b) in Pattern::Gpt2.find_iter(text) {
                    pre_tokenize(rest, &text[a..b], origin && a == 0, word)?;
                }
                Ok(())
            } else {
                pre_tokenize(rest, text, origin, word)
            }
        }
        PreTokenizer::Split {
            pattern,
            behavior,
            invert,
        } => {
            let found = match pattern {
                SplitPattern::Literal(s) => marks(
                    text,
                    text.match_indices(s.as_str())
                        .map(|(i, m)| (i, i + m.len())),
                ),
                SplitPattern::Regex(p) => marks(text, p.find_iter(text)),
            };
            let found = found.into_iter().map(|(a, b, m)| (a, b, m != *invert));
            for (a, b) in apply(found, *behavior) {
                pre_tokenize(rest, &text[a..b], origin && a == 0, word)?;
            }
            Ok(())
        }
        PreTokenizer::Digits { individual } => {
            let behavior = if *individual {
                Behavior::Isolated
            } else {
                Behavior::Contiguous
            };
            for (a, b) in apply(char_marks(text, char::is_numeric), behavior) {
                pre_tokenize(rest, &text[a..b], origin && a == 0, word)?;
            }
            Ok(())
        }
        PreTokenizer::Metaspace {
            replacement,
            prepend,
            split,
        } => {
            let mut rep = [0; 4];
            let rep = replacement.encode_utf8(&mut rep);
            let mut s = text.replace(' ', rep);
            let put = match prepend {
                Prepend::Always => true,
                Prepend::First => origin,
                Prepend::Never => false,
            };
            if put && !s.starts_with(*replacement) {
                s.insert_str(0, rep);
            }
            if *split {
                let c = *replacement;
                for (a, b) in apply(char_marks(&s, move |d| d == c), Behavior::MergedWithNext) {
                    pre_tokenize(rest, &s[a..b], origin && a == 0, word)?;
                }
                Ok(())
            } else {
                pre_tokenize(rest, &s, origin, word)
            }
        }
    }
}

/// The matches `found` in `text` with the gaps between them: (start, end, is a match), covering
/// the text (`tokenizers`' `find_matches`).
fn marks(text: &str, found: impl Iterator<Item = (usize, usize)>) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut prev = 0;
    for (a, b) in found {
        if a == b {
            continue;
        }
        if prev != a {
            out.push((prev, a, false));
        }
        out.push((a, b, true));
        prev = b;
    }
    if prev != text.len() {
        out.push((prev, text.len(), false));
    }
    out
}

/// Each character for which `is` holds as a match of its own, with the gaps between.
fn char_marks(text: &str, is: impl Fn(char) -> bool) -> Vec<(usize, usize, bool)> {
    marks(
        text,
        text.char_indices()
            .filter(|&(_, c)| is(c))
            .map(|(i, c)| (i, i + c.len_utf8())),
    )
}

/// The pieces a behavior makes of the marked ranges, empty ones left out.
fn apply(
    marked: impl IntoIterator<Item = (usize, usize, bool)>,
    behavior: Behavior,
) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut previous_match = false;
    match behavior {
        Behavior::Isolated => out.extend(marked.into_iter().map(|(a, b, _)| (a, b))),
        Behavior::Removed => {
            out.extend(marked.into_iter().filter(|m| !m.2).map(|(a, b, _)| (a, b)))
        }
        Behavior::Contiguous => {
            for (a, b, m) in marked {
                match out.last_mut() {
                    Some(last) if m == previous_match => last.1 = b,
                    _ => out.push((a, b)),
                }
                previous_match = m;
            }
        }
        Behavior::MergedWithPrevious => {
            for (a, b, m) in marked {
                match out.last_mut() {
                    Some(last) if m && !previous_match => last.1 = b,
                    _ => out.push((a, b)),
                }
                previous_match = m;
            }
        }
        Behavior::MergedWithNext => {
            let marked: Vec<_> = marked.into_iter().collect();
            for &(a, b, m) in marked.iter().rev() {
                match out.last_mut() {
                    Some(last) if m && !previous_match => last.0 = a,
                    _ => out.push((a, b)),
                }
                previous_match = m;
            }
            out.reverse();
        }
    }
    out.retain(|&(a, b)| a != b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tokenizers`' own example: "The-final--countdown" split on "-".
    #[test]
    fn behaviors_follow_tokenizers() {
        let text = "The-final--countdown";
        let cut = |behavior| -> Vec<&str> {
            let m = marks(text, text.match_indices('-').map(|(i, _)| (i, i + 1)));
            apply(m, behavior)
                .into_iter()
                .map(|(a, b)| &text[a..b])
                .collect()
        };
        assert_eq!(cut(Behavior::Removed), ["The", "final", "countdown"]);
        assert_eq!(
            cut(Behavior::Isolated),
            ["The", "-", "final", "-", "-", "countdown"]
        );
        assert_eq!(
            cut(Behavior::MergedWithPrevious),
            ["The-", "final-", "-", "countdown"]
        );
        assert_eq!(
            cut(Behavior::MergedWithNext),
            ["The", "-final", "-", "-countdown"]
        );
        assert_eq!(
            cut(Behavior::Contiguous),
            ["The", "-", "final", "--", "countdown"]
        );
    }

    #[test]
    fn metaspace_and_digits() {
        let steps = [
            PreTokenizer::Digits { individual: true },
            PreTokenizer::Metaspace {
                replacement: '▁',
                prepend: Prepend::First,
                split: true,
            },
        ];
        let mut words = Vec::new();
        pre_tokenize(&steps, "ab 12 c", true, &mut |w| {
            words.push(w.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(words, ["▁ab", "▁", "1", "2", "▁c"]);
        words.clear();
        pre_tokenize(&steps, "x", false, &mut |w| {
            words.push(w.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(words, ["x"]);
    }
}

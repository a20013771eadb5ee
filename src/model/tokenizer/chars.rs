//! The character-level tokenizer: one token per Unicode character of the training text.

use std::collections::HashMap;

use crate::error::{Code, Error, Result};
use crate::limits::{check_text_len, MAX_TEXT_BYTES};
use crate::model::Config;

/// A character-level vocabulary: id i is the i-th character of `chars`.
///
/// Encoding is strict: a character outside the vocabulary is an error that names it, because a
/// silent replacement would hide from a student why the model sees something else than typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,
    ids: HashMap<char, u32>,
}

impl Vocab {
    /// Builds the vocabulary from the distinct characters of `text`, sorted by code point.
    pub fn from_text(text: &str) -> Result<Vocab> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Vocab::from_chars(chars)
    }

    /// A vocabulary with exactly these characters, in this order. They must be distinct.
    pub fn from_chars(chars: Vec<char>) -> Result<Vocab> {
        if chars.len() < 2 {
            return Err(Error::arg(
                "vocabulary",
                "at least 2 distinct characters",
                chars.len(),
            ));
        }
        let mut ids = HashMap::with_capacity(chars.len());
        for (i, &ch) in chars.iter().enumerate() {
            if ids.insert(ch, i as u32).is_some() {
                return Err(Error::new(format!(
                    "vocabulary lists the character {ch:?} twice"
                )));
            }
        }
        Ok(Vocab { chars, ids })
    }

    /// A model's vocabulary must have exactly `config.vocab_size` entries.
    pub fn check_size(&self, config: &Config) -> Result<()> {
        if self.len() != config.vocab_size {
            return Err(Error::new(format!(
                "vocabulary has {} characters but vocab_size is {}",
                self.len(),
                config.vocab_size
            )));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    pub fn id(&self, ch: char) -> Option<u32> {
        self.ids.get(&ch).copied()
    }

    /// Text → ids. An unknown character is an error naming it and its position; a text longer
    /// than [`MAX_TEXT_BYTES`] is an error.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        check_text_len("text", text)?;
        text.chars()
            .enumerate()
            .map(|(pos, ch)| {
                self.id(ch).ok_or_else(|| {
                    Error::new(format!(
                        "text: character {ch:?} (U+{:04X}) at position {pos} is not in the \
                         model's vocabulary of {} characters",
                        ch as u32,
                        self.len()
                    ))
                    .coded(
                        Code::TextUnknownCharacter,
                        [
                            ("char", ch.to_string().into()),
                            ("unicode", format!("U+{:04X}", ch as u32).into()),
                            ("position", pos.to_string().into()),
                            ("size", self.len().into()),
                        ],
                    )
                })
            })
            .collect()
    }

    /// Ids → text. An id ≥ V is an error, and so are more than [`MAX_TEXT_BYTES`] ids.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        if ids.len() > MAX_TEXT_BYTES {
            return Err(Error::arg(
                "ids",
                &format!("at most {MAX_TEXT_BYTES} token ids"),
                ids.len(),
            ));
        }
        ids.iter()
            .map(|&id| {
                self.chars.get(id as usize).copied().ok_or_else(|| {
                    Error::arg("ids", &format!("token ids in [0, {})", self.len()), id)
                })
            })
            .collect()
    }
}

//! The BPE model of a Hugging Face `tokenizer.json` (`"model": {"type": "BPE", ...}`), and
//! GPT-2's byte map.
//!
//! A word (one piece the pre-tokenizer gave) starts as one symbol per character, or per byte
//! when the pre-tokenizer ends with ByteLevel (GPT-2 names byte b by a printable character,
//! [`byte_char`]); then the adjacent pair whose merge has the lowest rank is merged, leftmost
//! first, until no pair has a merge. A character the vocabulary lacks becomes its UTF-8 bytes as
//! `<0xNN>` tokens (`byte_fallback`), else the unknown token (`unk_token`, consecutive ones fused
//! into one with `fuse_unk`), else it is an error (`tokenizers` drops it without a word).
//!
//! The rest of the pipeline (normalizer, pre-tokenizer, added tokens, post-processor, decoder)
//! is [`super::hf`]; GPT-2's tokenizer is the configuration ByteLevel pre-tokenizer + BPE +
//! ByteLevel decoder of it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde_json::Value;

use crate::error::{brief, Code, Error, Result};

/// The name the byte-level BPE tokenizer had: the generic `tokenizer.json` tokenizer, of which
/// GPT-2's is one configuration.
pub type ByteLevelBpe = super::hf::HfTokenizer;

/// The BPE model: vocabulary, merges and what becomes of a character it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BpeModel {
    /// Every id's token; token → id for `model.vocab`.
    pub table: super::hf::table::TokenTable,
    /// (left id, right id) → (rank, merged id); a lower rank merges first.
    pub merges: HashMap<(u32, u32), (u32, u32)>,
    /// The id of each byte's one-byte token (GPT-2's character for it); `None` if the
    /// vocabulary lacks it.
    pub byte_ids: Vec<Option<u32>>,
    /// The id of each one-character token.
    pub char_ids: HashMap<char, u32>,
    /// With `byte_fallback`: the id of each `<0xNN>` token.
    pub fallback: Option<Vec<Option<u32>>>,
    pub unk: Option<u32>,
    pub fuse_unk: bool,
    pub ignore_merges: bool,
}

impl BpeModel {
    /// One word → its ids, appended to `out`. `byte_level`: the word's symbols are its bytes
    /// (GPT-2's characters for them), else its characters.
    pub fn word_ids(&self, word: &str, byte_level: bool, out: &mut Vec<u32>) -> Result<()> {
        if self.ignore_merges {
            let found = if byte_level {
                let name: String = word.bytes().map(byte_char).collect();
                self.table.get(&name)
            } else {
                self.table.get(word)
            };
            if let Some(id) = found {
                out.push(id);
                return Ok(());
            }
        }
        if byte_level && word.bytes().all(|b| self.byte_ids[b as usize].is_some()) {
            // The common case: every byte has its token.
            let ids = word.bytes().map(|b| self.byte_ids[b as usize].unwrap_or(0));
            self.merge(ids, out);
            return Ok(());
        }
        let mut symbols: Vec<u32> = Vec::with_capacity(word.len());
        if byte_level {
            for b in word.bytes() {
                match self.byte_ids[b as usize] {
                    Some(id) => symbols.push(id),
                    None => self.unknown(byte_char(b), word, Some(b), &mut symbols)?,
                }
            }
        } else {
            let mut unk_pending = false;
            for c in word.chars() {
                match self.char_ids.get(&c) {
                    Some(&id) => {
                        if unk_pending {
                            symbols.push(self.unk.unwrap_or(0));
                            unk_pending = false;
                        }
                        symbols.push(id)
                    }
                    None => {
                        if let Some(ids) = self.fallback_ids(c) {
                            // As `tokenizers`: a pending unknown token waits past them.
                            symbols.extend(ids);
                            continue;
                        }
                        if self.unk.is_some() {
                            if unk_pending && !self.fuse_unk {
                                symbols.push(self.unk.unwrap_or(0));
                            }
                            unk_pending = true;
                            continue;
                        }
                        return Err(unspellable(c, word));
                    }
                }
            }
            if unk_pending {
                symbols.push(self.unk.unwrap_or(0));
            }
        }
        self.merge(symbols.into_iter(), out);
        Ok(())
    }

    /// A byte of a byte-level word whose token the vocabulary lacks.
    fn unknown(&self, c: char, word: &str, byte: Option<u8>, symbols: &mut Vec<u32>) -> Result<()> {
        if let Some(ids) = self.fallback_ids(c) {
            symbols.extend(ids);
            return Ok(());
        }
        if let Some(unk) = self.unk {
            let fused = self.fuse_unk && symbols.last() == Some(&unk);
            if !fused {
                symbols.push(unk);
            }
            return Ok(());
        }
        match byte {
            Some(b) => Err(Error::new(format!(
                "text: byte 0x{b:02X} of {} has no token in tokenizer.json's model.vocab",
                brief(&format_args!("{word:?}"))
            ))),
            None => Err(unspellable(c, word)),
        }
    }

    /// The `<0xNN>` ids of `c`'s UTF-8 bytes, with `byte_fallback` and if the vocabulary has
    /// them all.
    fn fallback_ids(&self, c: char) -> Option<Vec<u32>> {
        let table = self.fallback.as_ref()?;
        let mut buf = [0; 4];
        c.encode_utf8(&mut buf)
            .bytes()
            .map(|b| table[b as usize])
            .collect()
    }

    /// Merges `symbols` by rank (leftmost lowest rank first, as `tokenizers` does with its
    /// priority queue) and appends the result to `out`.
    fn merge(&self, symbols: impl ExactSizeIterator<Item = u32>, out: &mut Vec<u32>) {
        const NONE: usize = usize::MAX;
        // A doubly linked list of symbols; a merged-away symbol has `alive` false.
        struct Symbol {
            id: u32,
            prev: usize,
            next: usize,
            alive: bool,
        }
        let n = symbols.len();
        let mut list: Vec<Symbol> = symbols
            .enumerate()
            .map(|(i, id)| Symbol {
                id,
                prev: if i == 0 { NONE } else { i - 1 },
                next: if i + 1 == n { NONE } else { i + 1 },
                alive: true,
            })
            .collect();
        // (rank, left position, left id, right id, merged id), smallest first.
        let mut queue = BinaryHeap::new();
        let push = |queue: &mut BinaryHeap<_>, left: usize, a: u32, b: u32| {
            if let Some(&(rank, merged)) = self.merges.get(&(a, b)) {
                queue.push(Reverse((rank, left, a, b, merged)));
            }
        };
        for i in 1..n {
            push(&mut queue, i - 1, list[i - 1].id, list[i].id);
        }
        while let Some(Reverse((_, left, a, b, merged))) = queue.pop() {
            let right = list[left].next;
            // Skip a pair that an earlier merge changed.
            if !list[left].alive || right == NONE || list[left].id != a || list[right].id != b {
                continue;
            }
            let after = list[right].next;
            list[left].id = merged;
            list[left].next = after;
            list[right].alive = false;
            if after != NONE {
                list[after].prev = left;
                push(&mut queue, left, merged, list[after].id);
            }
            let before = list[left].prev;
            if before != NONE {
                push(&mut queue, before, list[before].id, merged);
            }
        }
        out.extend(list.iter().filter(|s| s.alive).map(|s| s.id));
    }
}

/// The error for a character the vocabulary can spell neither as a token nor as bytes.
fn unspellable(c: char, word: &str) -> Error {
    Error::new(format!(
        "text: {c:?} (in {}) has no token in tokenizer.json's model.vocab, which has no \
         unk_token and no byte_fallback",
        brief(&format_args!("{word:?}"))
    ))
    .coded(Code::TextUnspellable, [("char", c.to_string().into())])
}

/// A byte-level BPE `tokenizer.json` as `tokenizers` writes one: `vocab` maps each token (in
/// GPT-2's byte characters) to its id, `merges` are pairs of tokens in rank order.
pub fn tokenizer_json(
    vocab: serde_json::Map<String, Value>,
    merges: Vec<Value>,
    added_tokens: Vec<Value>,
    add_prefix_space: bool,
    use_regex: bool,
    ignore_merges: bool,
) -> Value {
    let byte_level = serde_json::json!({
        "type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": true,
        "use_regex": use_regex,
    });
    serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added_tokens,
        "normalizer": null,
        "pre_tokenizer": byte_level,
        "post_processor": null,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
            "ignore_merges": ignore_merges, "vocab": vocab, "merges": merges,
        },
    })
}

/// GPT-2's printable name of byte `b` (its `bytes_to_unicode`): the printable Latin-1 bytes
/// (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for themselves, the other 68 bytes, in order, for the
/// characters U+0100, U+0101, … (so a space is `Ġ`, U+0120, and a newline `Ċ`, U+010A).
pub fn byte_char(b: u8) -> char {
    BYTE_CHARS[b as usize]
}

/// The byte GPT-2's name `c` stands for; `None` for a character that names no byte.
pub fn char_byte(c: char) -> Option<u8> {
    let c = c as u32;
    if c < 256 && printable(c as u8) {
        Some(c as u8)
    } else {
        UNPRINTABLE.get(c.checked_sub(256)? as usize).copied()
    }
}

const fn printable(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The 68 bytes that are not printable, in order: byte UNPRINTABLE[n] is named U+0100 + n.
const UNPRINTABLE: [u8; 68] = {
    let mut out = [0; 68];
    let (mut b, mut n) = (0, 0);
    while b < 256 {
        if !printable(b as u8) {
            out[n] = b as u8;
            n += 1;
        }
        b += 1;
    }
    out
};

/// Byte b's name, for every b.
const BYTE_CHARS: [char; 256] = {
    let mut out = ['\0'; 256];
    let mut b = 0;
    while b < 256 {
        out[b] = b as u8 as char;
        b += 1;
    }
    let mut n = 0;
    while n < 68 {
        out[UNPRINTABLE[n] as usize] = match char::from_u32(256 + n as u32) {
            Some(c) => c,
            None => panic!("U+0100..U+0143 are characters"),
        };
        n += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    /// GPT-2's map: printable Latin-1 to itself, the other 68 bytes to U+0100.. in order.
    #[test]
    fn byte_chars_follow_gpt2() {
        assert_eq!(byte_char(b'a'), 'a');
        assert_eq!(byte_char(0), '\u{100}');
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
        assert_eq!(byte_char(0x7F), '\u{121}');
        assert_eq!(byte_char(0xAD), '\u{143}');
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_char(b);
            assert!(seen.insert(c));
            assert_eq!(char_byte(c), Some(b));
        }
        assert_eq!(char_byte('\u{144}'), None);
        assert_eq!(char_byte(' '), None);
    }
}

//! Byte-level BPE, GPT-2's tokenizer, read from a Hugging Face `tokenizer.json`.
//!
//! Encoding a text, as the `tokenizers` library does it for GPT-2:
//!
//! 1. added tokens (`<|endoftext|>`) are cut out of the text first, leftmost, longest on a tie;
//! 2. each remaining piece (with a space in front if `add_prefix_space`) is split into words by
//!    GPT-2's regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
//!    here a hand-written scanner ([`words`]);
//! 3. each word's UTF-8 bytes start as one token per byte (GPT-2 names byte b by a printable
//!    character, [`byte_char`]), and the adjacent pair whose merge has the lowest rank is merged,
//!    leftmost first, until no pair has a merge.
//!
//! Decoding concatenates the tokens' bytes, so it is lossless; a single token need not hold
//! whole UTF-8 characters (`<0xE2>`), which [`super::StreamDecoder`] handles when generating.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde_json::Value;

use crate::error::{brief, Error, Result};
use crate::limits::{check_text_len, over_cap, MAX_MODEL_VOCAB, MAX_TOKENIZER_JSON_BYTES};
use crate::model::tokenizer::unicode_tables::{LETTER, NUMBER};

/// A byte-level BPE tokenizer (GPT-2's), as `tokenizer.json` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteLevelBpe {
    /// Each id's bytes, as decoding writes them.
    tokens: Vec<Vec<u8>>,
    /// The id of each byte's one-byte token; `None` if the vocabulary lacks it.
    byte_ids: Vec<Option<u32>>,
    /// (left id, right id) → (rank, merged id); a lower rank merges first.
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Token (as GPT-2's byte characters) → id: only needed with `ignore_merges`.
    vocab: HashMap<String, u32>,
    /// Added tokens (content, id), matched in the text before pre-tokenisation.
    added: Vec<(String, u32)>,
    add_prefix_space: bool,
    use_regex: bool,
    ignore_merges: bool,
    /// Ids in [tokens.len(), tokens.len() + unused): rows of a model whose `vocab_size` is
    /// larger than the tokenizer's (embeddings padded for speed); they decode to nothing.
    unused: usize,
}

impl ByteLevelBpe {
    /// Reads a `tokenizer.json` as the `tokenizers` library writes it. Only byte-level BPE is
    /// accepted: model BPE, no normalizer, pre-tokenizer and decoder ByteLevel; anything else is
    /// an error naming `tokenizer.json` and the field.
    pub fn from_json(bytes: &[u8]) -> Result<ByteLevelBpe> {
        if bytes.len() > MAX_TOKENIZER_JSON_BYTES {
            return Err(bad(over_cap(bytes.len(), MAX_TOKENIZER_JSON_BYTES)));
        }
        let json: Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let root = json
            .as_object()
            .ok_or_else(|| bad("is not a JSON object".into()))?;
        let model = root
            .get("model")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("model is missing or not an object".into()))?;
        let kind = model.get("type").and_then(Value::as_str);
        if kind != Some("BPE") {
            return Err(bad(format!(
                "model.type is {}; only \"BPE\" (byte-level) is supported",
                shown(model.get("type"))
            )));
        }
        for key in ["dropout", "continuing_subword_prefix", "end_of_word_suffix"] {
            match model.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(v) => {
                    return Err(bad(format!(
                        "model.{key} is {}; only null is supported",
                        brief(v)
                    )))
                }
            }
        }
        if flag(model.get("byte_fallback"), "model.byte_fallback", false)? {
            return Err(bad(
                "model.byte_fallback is true; only false is supported".into()
            ));
        }
        let ignore_merges = flag(model.get("ignore_merges"), "model.ignore_merges", false)?;
        check_null_or_type(root.get("normalizer"), "normalizer", None)?;
        let pre = check_null_or_type(
            root.get("pre_tokenizer"),
            "pre_tokenizer",
            Some("ByteLevel"),
        )?;
        check_null_or_type(root.get("decoder"), "decoder", Some("ByteLevel"))?;
        let add_prefix_space = flag(
            pre.get("add_prefix_space"),
            "pre_tokenizer.add_prefix_space",
            true,
        )?;
        let use_regex = flag(pre.get("use_regex"), "pre_tokenizer.use_regex", true)?;

        // Vocabulary: token → id, then id → token.
        let vocab_json = model
            .get("vocab")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("model.vocab is missing or not an object".into()))?;
        let added_json = match root.get("added_tokens") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => &a[..],
            Some(v) => return Err(bad(format!("added_tokens is {}, not a list", brief(v)))),
        };
        if vocab_json.len() + added_json.len() > MAX_MODEL_VOCAB {
            return Err(bad(format!(
                "{} tokens; at most {MAX_MODEL_VOCAB} are accepted",
                vocab_json.len() + added_json.len()
            )));
        }
        let id_of = |v: &Value, field: &dyn Fn() -> String| -> Result<u32> {
            match v.as_u64() {
                Some(id) if (id as usize) < MAX_MODEL_VOCAB => Ok(id as u32),
                _ => Err(bad(format!(
                    "{} is {}; an id must be an integer in [0, {MAX_MODEL_VOCAB})",
                    field(),
                    brief(v)
                ))),
            }
        };
        let mut names: Vec<Option<String>> = Vec::new();
        let mut place = |id: u32, name: &str, field: &dyn Fn() -> String| -> Result<()> {
            let i = id as usize;
            if names.len() <= i {
                names.resize(i + 1, None);
            }
            match &names[i] {
                Some(other) if other != name => Err(bad(format!(
                    "{} gives id {id} to {}, which {} already has",
                    field(),
                    brief(&format_args!("{name:?}")),
                    brief(&format_args!("{other:?}"))
                ))),
                _ => {
                    names[i] = Some(name.to_string());
                    Ok(())
                }
            }
        };
        let mut vocab = HashMap::with_capacity(vocab_json.len());
        for (token, v) in vocab_json {
            let field = || format!("model.vocab[{}]", brief(&format_args!("{token:?}")));
            let id = id_of(v, &field)?;
            place(id, token, &field)?;
            vocab.insert(token.clone(), id);
        }
        let mut added = Vec::with_capacity(added_json.len());
        for (i, t) in added_json.iter().enumerate() {
            let field = |key: &str| format!("added_tokens[{i}].{key}");
            let content = t
                .get("content")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("{} must be a non-empty string", field("content"))))?;
            let id = id_of(t.get("id").unwrap_or(&Value::Null), &|| field("id"))?;
            for key in ["lstrip", "rstrip", "single_word"] {
                if flag(t.get(key), &field(key), false)? {
                    return Err(bad(format!(
                        "{} is true; only false is supported",
                        field(key)
                    )));
                }
            }
            // An added token may repeat its vocabulary entry (GPT-2's <|endoftext|> does).
            if vocab.get(content) != Some(&id) {
                place(id, content, &|| field("id"))?;
            }
            added.push((content.to_string(), id));
        }
        let mut tokens = Vec::with_capacity(names.len());
        for (id, name) in names.into_iter().enumerate() {
            let name = name.ok_or_else(|| {
                bad(format!(
                    "no token has id {id}; ids must run from 0 without gaps"
                ))
            })?;
            tokens.push(token_bytes_of(&name));
        }
        if tokens.len() < 2 {
            return Err(bad(format!(
                "{} tokens; at least 2 are needed",
                tokens.len()
            )));
        }
        let mut byte_ids = vec![None; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = vocab.get(byte_char(b as u8).to_string().as_str()).copied();
        }

        // Merges, rank = position in the list; the later of two equal pairs wins, as in
        // `tokenizers`.
        let merges_json = model
            .get("merges")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("model.merges is missing or not a list".into()))?;
        let mut merges = HashMap::with_capacity(merges_json.len());
        for (rank, m) in merges_json.iter().enumerate() {
            let field = || format!("model.merges[{rank}]");
            let (a, b) = match m {
                Value::String(s) => match s.split(' ').collect::<Vec<_>>()[..] {
                    [a, b] => (a, b),
                    _ => {
                        return Err(bad(format!(
                            "{} = {} is not two tokens separated by one space",
                            field(),
                            brief(&format_args!("{s:?}"))
                        )))
                    }
                },
                Value::Array(pair) => match &pair[..] {
                    [Value::String(a), Value::String(b)] => (a.as_str(), b.as_str()),
                    _ => {
                        return Err(bad(format!(
                            "{} = {} is not a pair of tokens",
                            field(),
                            brief(m)
                        )))
                    }
                },
                _ => {
                    return Err(bad(format!(
                        "{} = {} is neither \"a b\" nor [\"a\", \"b\"]",
                        field(),
                        brief(m)
                    )))
                }
            };
            let lookup = |t: &str| {
                vocab.get(t).copied().ok_or_else(|| {
                    bad(format!(
                        "{}: {} is not in model.vocab",
                        field(),
                        brief(&format_args!("{t:?}"))
                    ))
                })
            };
            let merged = lookup(&format!("{a}{b}"))?;
            merges.insert((lookup(a)?, lookup(b)?), (rank as u32, merged));
        }
        Ok(ByteLevelBpe {
            tokens,
            byte_ids,
            merges,
            vocab,
            added,
            add_prefix_space,
            use_regex,
            ignore_merges,
            unused: 0,
        })
    }

    /// The tokenizer as a `tokenizer.json`, which `tokenizers` and [`ByteLevelBpe::from_json`]
    /// read back as the same tokenizer: the vocabulary, the merges in rank order, the added
    /// tokens and the pre-tokenizer's flags. Unused model rows ([`ByteLevelBpe::pad_to`]) are
    /// not tokens and are left out.
    pub fn to_json(&self) -> Value {
        let mut names = vec![""; self.tokens.len()];
        for (name, &id) in &self.vocab {
            names[id as usize] = name;
        }
        let mut merges: Vec<(u32, u32, u32)> = self
            .merges
            .iter()
            .map(|(&(a, b), &(rank, _))| (rank, a, b))
            .collect();
        merges.sort_unstable();
        let merges = merges
            .into_iter()
            .map(|(_, a, b)| serde_json::json!([names[a as usize], names[b as usize]]))
            .collect();
        let added = self
            .added
            .iter()
            .map(|(content, id)| {
                serde_json::json!({
                    "id": id, "content": content, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true,
                })
            })
            .collect();
        let vocab = self
            .vocab
            .iter()
            .map(|(name, &id)| (name.clone(), id.into()))
            .collect();
        tokenizer_json(
            vocab,
            merges,
            added,
            self.add_prefix_space,
            self.use_regex,
            self.ignore_merges,
        )
    }

    /// Number of ids, unused model rows included.
    pub fn len(&self) -> usize {
        self.tokens.len() + self.unused
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of ids the tokenizer itself defines (`model.vocab` and `added_tokens`).
    pub fn defined(&self) -> usize {
        self.tokens.len()
    }

    /// Extends the ids to a model's `vocab_size` ≥ [`ByteLevelBpe::defined`]: the extra ids are
    /// rows a model padded its embedding with; they decode to nothing.
    pub fn pad_to(&mut self, vocab_size: usize) {
        self.unused = vocab_size.saturating_sub(self.tokens.len());
    }

    /// Text → ids. No special token is added; an added token written in the text is matched.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        check_text_len("text", text)?;
        let mut ids = Vec::with_capacity(text.len() / 3);
        // A word's ids, computed once per distinct word of this text.
        let mut cache: HashMap<String, Vec<u32>> = HashMap::new();
        let mut prefixed = String::new();
        for (segment, added) in self.split_added(text) {
            if let Some(id) = added {
                ids.push(id);
                continue;
            }
            let segment = if self.add_prefix_space && !segment.starts_with(' ') {
                prefixed.clear();
                prefixed.push(' ');
                prefixed.push_str(segment);
                prefixed.as_str()
            } else {
                segment
            };
            if !self.use_regex {
                self.word_ids(segment, &mut ids)?;
                continue;
            }
            for word in words(segment) {
                if let Some(known) = cache.get(word) {
                    ids.extend_from_slice(known);
                    continue;
                }
                let start = ids.len();
                self.word_ids(word, &mut ids)?;
                cache.insert(word.to_string(), ids[start..].to_vec());
            }
        }
        Ok(ids)
    }

    /// Splits `text` at the added tokens: (segment, None) for text, (content, Some(id)) for an
    /// added token. Leftmost match first, the longest among those starting at the same place.
    fn split_added<'t>(&self, text: &'t str) -> Vec<(&'t str, Option<u32>)> {
        let mut out = Vec::new();
        // Where each added token next occurs at or after `pos`: None until searched,
        // usize::MAX for nowhere. Each is searched again only once `pos` has passed it.
        let mut next: Vec<Option<usize>> = vec![None; self.added.len()];
        let mut pos = 0;
        loop {
            let mut best: Option<(usize, usize)> = None; // (start, index into added)
            for (k, (content, _)) in self.added.iter().enumerate() {
                if next[k].is_none_or(|s| s != usize::MAX && s < pos) {
                    let found = text[pos..].find(content.as_str());
                    next[k] = Some(found.map_or(usize::MAX, |i| pos + i));
                }
                let start = next[k].unwrap_or(usize::MAX);
                if start == usize::MAX {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((s, j)) => {
                        start < s || (start == s && content.len() > self.added[j].0.len())
                    }
                };
                if better {
                    best = Some((start, k));
                }
            }
            let Some((start, k)) = best else { break };
            if start > pos {
                out.push((&text[pos..start], None));
            }
            let (content, id) = &self.added[k];
            out.push((&text[start..start + content.len()], Some(*id)));
            pos = start + content.len();
        }
        if pos < text.len() {
            out.push((&text[pos..], None));
        }
        out
    }

    /// One word → its ids, appended to `out`: bytes, then merges by rank (leftmost lowest rank
    /// first, as `tokenizers` does with its priority queue).
    fn word_ids(&self, word: &str, out: &mut Vec<u32>) -> Result<()> {
        if self.ignore_merges {
            let name: String = word.bytes().map(byte_char).collect();
            if let Some(&id) = self.vocab.get(&name) {
                out.push(id);
                return Ok(());
            }
        }
        const NONE: usize = usize::MAX;
        // A doubly linked list of symbols; a merged-away symbol has `alive` false.
        struct Symbol {
            id: u32,
            prev: usize,
            next: usize,
            alive: bool,
        }
        let n = word.len();
        let mut symbols = Vec::with_capacity(n);
        for (i, b) in word.bytes().enumerate() {
            let id = self.byte_ids[b as usize].ok_or_else(|| {
                Error::new(format!(
                    "text: byte 0x{b:02X} of {} has no token in tokenizer.json's model.vocab",
                    brief(&format_args!("{word:?}"))
                ))
            })?;
            symbols.push(Symbol {
                id,
                prev: if i == 0 { NONE } else { i - 1 },
                next: if i + 1 == n { NONE } else { i + 1 },
                alive: true,
            });
        }
        // (rank, left position, left id, right id, merged id), smallest first.
        let mut queue = BinaryHeap::new();
        let push = |queue: &mut BinaryHeap<_>, left: usize, a: u32, b: u32| {
            if let Some(&(rank, merged)) = self.merges.get(&(a, b)) {
                queue.push(Reverse((rank, left, a, b, merged)));
            }
        };
        for i in 1..n {
            push(&mut queue, i - 1, symbols[i - 1].id, symbols[i].id);
        }
        while let Some(Reverse((_, left, a, b, merged))) = queue.pop() {
            let right = symbols[left].next;
            // Skip a pair that an earlier merge changed.
            if !symbols[left].alive
                || right == NONE
                || symbols[left].id != a
                || symbols[right].id != b
            {
                continue;
            }
            let after = symbols[right].next;
            symbols[left].id = merged;
            symbols[left].next = after;
            symbols[right].alive = false;
            if after != NONE {
                symbols[after].prev = left;
                push(&mut queue, left, merged, symbols[after].id);
            }
            let before = symbols[left].prev;
            if before != NONE {
                push(&mut queue, before, symbols[before].id, merged);
            }
        }
        out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
        Ok(())
    }

    /// One id's bytes. An id ≥ [`ByteLevelBpe::len`] is an error.
    pub fn token_bytes(&self, id: u32) -> Result<&[u8]> {
        match self.tokens.get(id as usize) {
            Some(b) => Ok(b),
            None if (id as usize) < self.len() => Ok(&[]),
            None => Err(Error::arg(
                "ids",
                &format!("token ids in [0, {})", self.len()),
                id,
            )),
        }
    }

    /// Ids → their bytes, concatenated. An id ≥ [`ByteLevelBpe::len`] is an error.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for &id in ids {
            out.extend_from_slice(self.token_bytes(id)?);
        }
        Ok(out)
    }

    /// How the page shows one token: its text with a visible space `␣` and newline `↵`, other
    /// control characters and bytes that are not whole UTF-8 characters as `<0xE2>`; an unused
    /// model row as `<unused 50300>`.
    pub fn token_text(&self, id: u32) -> Result<String> {
        let bytes = self.token_bytes(id)?;
        if id as usize >= self.tokens.len() {
            return Ok(format!("<unused {id}>"));
        }
        Ok(super::visible_bytes(bytes))
    }
}

/// The error for a bad `tokenizer.json`.
fn bad(what: String) -> Error {
    Error::new(format!("tokenizer.json: {what}"))
}

/// A JSON value as an error shows it (cut short, see [`brief`]); `missing` for none.
fn shown(v: Option<&Value>) -> String {
    v.map_or("missing".into(), |v| brief(v))
}

/// A boolean field, `default` when absent or null.
fn flag(v: Option<&Value>, field: &str, default: bool) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(bad(format!("{field} is {}, not true or false", brief(v)))),
    }
}

/// A component (`normalizer`, `pre_tokenizer`, `decoder`) that must be null (`want` None) or
/// an object of type `want`; returns the object (empty for null).
fn check_null_or_type<'v>(
    v: Option<&'v Value>,
    field: &str,
    want: Option<&str>,
) -> Result<&'v serde_json::Map<String, Value>> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    match (v, want) {
        (None | Some(Value::Null), None) => Ok(EMPTY.get_or_init(serde_json::Map::new)),
        (Some(Value::Object(o)), Some(want))
            if o.get("type").and_then(Value::as_str) == Some(want) =>
        {
            Ok(o)
        }
        (v, None) => Err(bad(format!(
            "{field} is {}; only null is supported",
            shown(v)
        ))),
        (v, Some(want)) => {
            let kind = v.and_then(|v| v.get("type"));
            Err(bad(format!(
                "{field}.type is {}; only {want:?} is supported",
                shown(kind.or(v))
            )))
        }
    }
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

/// A token's bytes: each character's byte, or, if one character names no byte (an added
/// token such as `<|endoftext|>` written with other characters), the token's own UTF-8, as the
/// `tokenizers` ByteLevel decoder does.
fn token_bytes_of(name: &str) -> Vec<u8> {
    name.chars()
        .map(char_byte)
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| name.as_bytes().to_vec())
}

/// Unicode General Category L (letters), GPT-2's `\p{L}`.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(LETTER, c)
}

/// Unicode General Category N (numbers), GPT-2's `\p{N}`.
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
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Neither space, letter nor number: GPT-2's `[^\s\p{L}\p{N}]`.
fn is_other(c: char) -> bool {
    !is_space(c) && !is_letter(c) && !is_number(c)
}

/// The words GPT-2's regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// splits `text` into, in order; together they are exactly `text`.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let end = word_end(text, pos);
        let word = &text[pos..end];
        pos = end;
        Some(word)
    })
}

/// Where the word starting at byte `i` (< text.len()) ends: the first alternative of the regex
/// that matches there, as a backtracking engine tries them.
fn word_end(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        return text.len();
    };
    // 's 't 're 've 'm 'll 'd
    if c == '\'' {
        for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
            if rest[1..].starts_with(suffix) {
                return i + 1 + suffix.len();
            }
        }
    }
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
    // `\s+(?!\S)`, else `\s+`: a run of spaces, less its last one if a non-space follows it.
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

/// The end of the run of characters of `class` starting at byte `i`.
fn run_end(text: &str, i: usize, class: fn(char) -> bool) -> usize {
    text[i..]
        .char_indices()
        .find(|&(_, c)| !class(c))
        .map_or(text.len(), |(k, _)| i + k)
}

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

    fn split(text: &str) -> Vec<&str> {
        words(text).collect()
    }

    /// The regex's alternatives, in order, with its backtracking.
    #[test]
    fn words_follow_gpt2_regex() {
        assert_eq!(split("Hello world"), ["Hello", " world"]);
        assert_eq!(
            split("I'm don't they'll 'x"),
            ["I", "'m", " don", "'t", " they", "'ll", " '", "x"]
        );
        assert_eq!(split("a  b"), ["a", " ", " b"]);
        assert_eq!(split("a   \n b  "), ["a", "   \n", " b", "  "]);
        assert_eq!(split(" 12ab!? \t"), [" 12", "ab", "!?", " \t"]);
        assert_eq!(split("x\n\ny"), ["x", "\n", "\n", "y"]);
        assert_eq!(split("\u{3000}中文"), ["\u{3000}", "中文"]);
        assert_eq!(split("'S"), ["'", "S"]);
        assert_eq!(split(""), Vec::<&str>::new());
    }

    const TINY: &str = r#"{
        "added_tokens": [{"id": 10, "content": "<|end|>", "special": true,
                          "lstrip": false, "rstrip": false, "single_word": false, "normalized": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "vocab": {
            "a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġa": 4, "Ġab": 5, "c": 6, "bc": 7, "Ã": 8, "©": 9, "<|end|>": 10},
            "merges": ["a b", ["Ġ", "a"], "Ġa b", "b c"]}
    }"#;

    #[test]
    fn merges_by_rank_and_added_tokens() {
        let t = ByteLevelBpe::from_json(TINY.as_bytes()).unwrap();
        assert_eq!(t.len(), 11);
        // "abc": a b → ab (rank 0) before b c (rank 3).
        assert_eq!(t.encode("abc").unwrap(), [3, 6]);
        // " ab": a b (rank 0) merges before Ġ a (rank 1), so "Ġa b" never applies.
        assert_eq!(t.encode(" ab<|end|>bc").unwrap(), [2, 3, 10, 7]);
        assert_eq!(t.encode(" a a").unwrap(), [4, 4]);
        assert_eq!(t.encode("é").unwrap(), [8, 9]);
        assert_eq!(
            t.decode_bytes(&[5, 10, 8, 9]).unwrap(),
            " ab<|end|>é".as_bytes()
        );
        assert_eq!(t.token_text(8).unwrap(), "<0xC3>");
        assert_eq!(t.token_text(5).unwrap(), "␣ab");
        let err = t.encode("x").unwrap_err().to_string();
        assert!(err.contains("byte 0x78"), "{err}");
        assert!(t.token_bytes(11).is_err());
    }

    #[test]
    fn rejects_other_tokenizers_by_field() {
        let wordpiece = TINY.replace(r#""type": "BPE""#, r#""type": "WordPiece""#);
        assert_eq!(
            ByteLevelBpe::from_json(wordpiece.as_bytes())
                .unwrap_err()
                .to_string(),
            "tokenizer.json: model.type is \"WordPiece\"; only \"BPE\" (byte-level) is supported"
        );
        let meta = TINY.replace(
            r#""type": "ByteLevel", "add"#,
            r#""type": "Metaspace", "add"#,
        );
        assert_eq!(
            ByteLevelBpe::from_json(meta.as_bytes())
                .unwrap_err()
                .to_string(),
            "tokenizer.json: pre_tokenizer.type is \"Metaspace\"; only \"ByteLevel\" is supported"
        );
        let gap = TINY.replace(r#""©": 9"#, r#""©": 12"#);
        assert!(ByteLevelBpe::from_json(gap.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("no token has id 9"));
        let merge = TINY.replace(r#""b c""#, r#""c a""#);
        assert_eq!(
            ByteLevelBpe::from_json(merge.as_bytes())
                .unwrap_err()
                .to_string(),
            "tokenizer.json: model.merges[3]: \"ca\" is not in model.vocab"
        );
        assert!(ByteLevelBpe::from_json(b"{")
            .unwrap_err()
            .to_string()
            .starts_with("tokenizer.json: not valid JSON"));
    }
}

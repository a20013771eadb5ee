//! A Hugging Face `tokenizer.json` with a BPE model, the pipeline `tokenizers` runs, each part
//! read from the file: GPT-2, SmolLM2, Llama 2 / TinyLlama, Llama 3 and Qwen2 / Qwen3 are
//! configurations of it.
//!
//! Encoding a text, as `tokenizers` does it:
//!
//! 1. added tokens that are not `normalized` are cut out of the raw text ([`added`]);
//! 2. each piece between them is normalized ([`normalizer`]), and the `normalized` added tokens
//!    are cut out of it;
//! 3. each remaining piece is cut into words ([`pre_tokenizer`]);
//! 4. each word becomes ids ([`BpeModel`]);
//! 5. [`HfTokenizer::encode_with_special`] puts the post-processor's special tokens around them
//!    ([`post`]).
//!
//! Decoding turns each id into its token string and runs the decoder chain ([`decoder`]).
//! What is refused: a component type, option or Split regex the lab does not implement, named
//! with its field ([`component::unsupported`]); see docs/formats.md.

mod added;
mod component;
mod decoder;
mod json;
mod normalizer;
pub mod patterns;
mod post;
mod pre_tokenizer;
pub(crate) mod table;

use std::collections::HashMap;

use serde_json::Value;

use self::added::Added;
use self::decoder::Decoder;
use self::json::{bad, quoted};
use self::normalizer::Normalizer;
use self::pre_tokenizer::PreTokenizer;
use crate::error::{brief, Error, Result};
use crate::limits::{check_text_len, over_cap, MAX_MODEL_VOCAB, MAX_TOKENIZER_JSON_BYTES};
use crate::model::tokenizer::bpe::{byte_char, BpeModel};

/// A tokenizer read from a Hugging Face `tokenizer.json` (BPE model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfTokenizer {
    /// Each id's bytes as the page shows the token and the stream decoder writes it: the
    /// decoder steps that act on one token alone, applied to it; all ids' one after another,
    /// id i's ending at `piece_ends[i]`. (Each id's token string is `model.table`'s.)
    pieces: Vec<u8>,
    piece_ends: Vec<u32>,
    /// Boxed, as are the fields written back, to keep [`super::Tokenizer`] small.
    model: Box<BpeModel>,
    added: Vec<Added>,
    /// Whether some added token is matched in normalized text.
    added_normalized: bool,
    normalizer: Vec<Normalizer>,
    pre_tokenizer: Vec<PreTokenizer>,
    /// The pre-tokenizer ends with ByteLevel: the model reads each word's bytes.
    byte_level: bool,
    decoder: Vec<Decoder>,
    around: post::Around,
    /// The file's normalizer, pre_tokenizer, post_processor and decoder, and the model's
    /// fields other than vocab and merges, as read: [`HfTokenizer::to_json`] writes them back.
    components: Box<[Value; 4]>,
    model_fields: Box<serde_json::Map<String, Value>>,
    /// Ids in [names.len(), names.len() + unused): rows of a model whose `vocab_size` is larger
    /// than the tokenizer's (embeddings padded for speed); they decode to nothing.
    unused: usize,
}

const COMPONENTS: [&str; 4] = ["normalizer", "pre_tokenizer", "post_processor", "decoder"];

impl HfTokenizer {
    /// Reads a `tokenizer.json` as the `tokenizers` library writes it (model BPE). Anything
    /// the lab does not implement is an error naming `tokenizer.json` and the field.
    pub fn from_json(bytes: &[u8]) -> Result<HfTokenizer> {
        if bytes.len() > MAX_TOKENIZER_JSON_BYTES {
            return Err(bad(over_cap(bytes.len(), MAX_TOKENIZER_JSON_BYTES)));
        }
        let file = json::read(bytes)?;
        let model = file
            .model
            .ok_or_else(|| bad("model is missing or not an object"))?;
        // The model's fields but `vocab` and `merges`: to_json writes them back as they are.
        let model_obj = Value::Object(model.fields);
        let fields = model_obj.as_object();
        let mf = |key: &str| fields.and_then(|f| f.get(key)).filter(|v| !v.is_null());
        match mf("type") {
            None => {}
            Some(Value::String(s)) if s == "BPE" => {}
            Some(Value::String(s)) => {
                return Err(component::unsupported("model.type", s, "\"BPE\""))
            }
            Some(v) => return Err(bad(format!("model.type is {}, not a string", brief(v)))),
        }
        match mf("dropout") {
            None => {}
            Some(v) if v.as_f64() == Some(0.0) => {}
            Some(v) => {
                return Err(component::unsupported_shown(
                    "model.dropout",
                    brief(v),
                    "null",
                ))
            }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            match mf(key) {
                None => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(v) => {
                    return Err(component::unsupported_shown(
                        &format!("model.{key}"),
                        brief(v),
                        "null",
                    ))
                }
            }
        }
        let mfields = component::Fields::new(&model_obj, "model")?;
        let byte_fallback = mfields.flag("byte_fallback", false)?;
        let fuse_unk = mfields.flag("fuse_unk", false)?;
        let ignore_merges = mfields.flag("ignore_merges", false)?;
        let unk_name = match mf("unk_token") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                return Err(bad(format!(
                    "model.unk_token is {}, not a string",
                    brief(v)
                )))
            }
        };
        let mut table = model
            .vocab
            .ok_or_else(|| bad("model.vocab is missing or not an object"))?;
        let merges = model
            .merges
            .ok_or_else(|| bad("model.merges is missing or not a list"))?;

        // Added tokens.
        let added_json = match &file.added_tokens {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => &a[..],
            Some(v) => return Err(bad(format!("added_tokens is {}, not a list", brief(v)))),
        };
        if table.vocab_len() + added_json.len() > MAX_MODEL_VOCAB {
            return Err(bad(format!(
                "{} tokens; at most {MAX_MODEL_VOCAB} are accepted",
                table.vocab_len() + added_json.len()
            )));
        }
        let mut added = Vec::with_capacity(added_json.len());
        for (i, t) in added_json.iter().enumerate() {
            added.push(added::read(t, i)?);
        }
        for (i, a) in added.iter().enumerate() {
            // An added token may repeat its vocabulary entry (GPT-2's <|endoftext|> does).
            if table.get(&a.content) != Some(a.id) {
                table.place(a.id, &a.content, &|| format!("added_tokens[{i}].id"))?;
            }
        }
        if let Some(id) = table.gap() {
            return Err(bad(format!(
                "no token has id {id}; ids must run from 0 without gaps"
            )));
        }
        if table.len() < 2 {
            return Err(bad(format!(
                "{} tokens; at least 2 are needed",
                table.len()
            )));
        }

        // The pipeline's components.
        let mut normalizer = Vec::new();
        normalizer::read(file.normalizer.as_ref(), "normalizer", &mut normalizer)?;
        let mut pre = Vec::new();
        pre_tokenizer::read(file.pre_tokenizer.as_ref(), "pre_tokenizer", &mut pre)?;
        let byte_level = pre_tokenizer::check_byte_level_last(&pre)?;
        let mut decoders = Vec::new();
        decoder::read(file.decoder.as_ref(), "decoder", &mut decoders)?;
        let mut around = post::Around::default();
        post::read(file.post_processor.as_ref(), "post_processor", &mut around)?;
        for &id in around.before.iter().chain(&around.after) {
            if id as usize >= table.len() {
                return Err(bad(format!(
                    "post_processor names id {id}, but the ids run to {}",
                    table.len() - 1
                )));
            }
        }
        for a in &mut added {
            if a.normalized {
                a.pattern = normalizer::normalize(&normalizer, &a.content).into_owned();
                if a.pattern.is_empty() {
                    a.normalized = false;
                    a.pattern = a.content.clone();
                }
            }
        }

        // The model.
        let unk = match &unk_name {
            None => None,
            Some(u) => Some(table.get(u).ok_or_else(|| {
                bad(format!(
                    "model.unk_token {} is not in model.vocab",
                    quoted(u)
                ))
            })?),
        };
        let byte_ids = (0..=255u8)
            .map(|b| table.get(byte_char(b).to_string().as_str()))
            .collect();
        let char_ids = table
            .vocab()
            .filter_map(|(t, id)| {
                let mut c = t.chars();
                match (c.next(), c.next()) {
                    (Some(ch), None) => Some((ch, id)),
                    _ => None,
                }
            })
            .collect();
        let fallback = byte_fallback.then(|| {
            (0..=255u8)
                .map(|b| table.get(&format!("<0x{b:02X}>")))
                .collect()
        });
        // A token's piece is rarely longer than its string (GPT-2's `Ġ`, `▁` and `<0x0A>` are
        // one byte): one allocation in general.
        let mut pieces = Vec::with_capacity(table.text_len());
        let mut piece_ends = Vec::with_capacity(table.len());
        for id in 0..table.len() as u32 {
            pieces.extend(token_piece(&decoders, table.name(id)));
            if pieces.len() > u32::MAX as usize {
                return Err(bad("the tokens' text is too long"));
            }
            piece_ends.push(pieces.len() as u32);
        }
        let model = Box::new(BpeModel {
            table,
            merges,
            byte_ids,
            char_ids,
            fallback,
            unk,
            fuse_unk,
            ignore_merges,
        });
        let model_fields = match model_obj {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        Ok(HfTokenizer {
            pieces,
            piece_ends,
            model,
            added_normalized: added.iter().any(|a| a.normalized),
            added,
            normalizer,
            pre_tokenizer: pre,
            byte_level,
            decoder: decoders,
            around,
            components: Box::new([
                file.normalizer.unwrap_or(Value::Null),
                file.pre_tokenizer.unwrap_or(Value::Null),
                file.post_processor.unwrap_or(Value::Null),
                file.decoder.unwrap_or(Value::Null),
            ]),
            model_fields: Box::new(model_fields),
            unused: 0,
        })
    }

    /// The tokenizer as a `tokenizer.json`, which `tokenizers` and [`HfTokenizer::from_json`]
    /// read back as the same tokenizer: the vocabulary, the merges in rank order, the added
    /// tokens and the pipeline's components as they were read. Unused model rows
    /// ([`HfTokenizer::pad_to`]) are not tokens and are left out.
    pub fn to_json(&self) -> Value {
        let merges: Vec<Value> = self
            .merge_pairs()
            .into_iter()
            .map(|(a, b)| serde_json::json!([a, b]))
            .collect();
        let added: Vec<Value> = self
            .added
            .iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.id, "content": a.content, "single_word": false, "lstrip": a.lstrip,
                    "rstrip": a.rstrip, "normalized": a.normalized, "special": a.special,
                })
            })
            .collect();
        let vocab: serde_json::Map<String, Value> = self
            .model
            .table
            .vocab()
            .map(|(name, id)| (name.to_string(), id.into()))
            .collect();
        let mut model = (*self.model_fields).clone();
        model.insert("vocab".into(), Value::Object(vocab));
        model.insert("merges".into(), Value::Array(merges));
        let mut root = serde_json::Map::new();
        root.insert("version".into(), "1.0".into());
        root.insert("truncation".into(), Value::Null);
        root.insert("padding".into(), Value::Null);
        root.insert("added_tokens".into(), Value::Array(added));
        for (name, v) in COMPONENTS.iter().zip(self.components.iter()) {
            root.insert(name.to_string(), v.clone());
        }
        root.insert("model".into(), Value::Object(model));
        Value::Object(root)
    }

    /// The merges in rank order, each as its two token strings (`("Ġ", "t")`).
    pub fn merge_pairs(&self) -> Vec<(&str, &str)> {
        let mut merges: Vec<(u32, u32, u32)> = self
            .model
            .merges
            .iter()
            .map(|(&(a, b), &(rank, _))| (rank, a, b))
            .collect();
        merges.sort_unstable();
        merges
            .into_iter()
            .map(|(_, a, b)| (self.name(a), self.name(b)))
            .collect()
    }

    /// Number of ids, unused model rows included.
    pub fn len(&self) -> usize {
        self.model.table.len() + self.unused
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of ids the tokenizer itself defines (`model.vocab` and `added_tokens`).
    pub fn defined(&self) -> usize {
        self.model.table.len()
    }

    /// The token string of id `id` as the vocabulary spells it (GPT-2's byte characters,
    /// `Ġthe`), empty past the defined ids.
    pub fn token_name(&self, id: u32) -> &str {
        self.name(id)
    }

    /// The token string of a defined id (empty past them).
    fn name(&self, id: u32) -> &str {
        self.model.table.name(id)
    }

    /// Extends the ids to a model's `vocab_size` ≥ [`HfTokenizer::defined`]: the extra ids are
    /// rows a model padded its embedding with; they decode to nothing.
    pub fn pad_to(&mut self, vocab_size: usize) {
        self.unused = vocab_size.saturating_sub(self.defined());
    }

    /// The id the post-processor puts first (`<s>`, `<|begin_of_text|>`), if it puts one.
    pub fn bos(&self) -> Option<u32> {
        self.around.before.first().copied()
    }

    /// The id of a token, a vocabulary entry or an added token (`<|im_end|>`).
    pub fn id_of(&self, token: &str) -> Option<u32> {
        self.model
            .table
            .get(token)
            .or_else(|| self.added.iter().find(|a| a.content == token).map(|a| a.id))
    }

    /// The added tokens marked `special`, (content, id), in the file's order.
    pub fn special_tokens(&self) -> impl Iterator<Item = (&str, u32)> {
        self.added
            .iter()
            .filter(|a| a.special)
            .map(|a| (a.content.as_str(), a.id))
    }

    /// Text → ids, no special token added (`tokenizer.encode(text, add_special_tokens=False)`);
    /// an added token written in the text is matched.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        check_text_len("text", text)?;
        let mut ids = Vec::with_capacity(text.len() / 3);
        // A word's ids, computed once per distinct word of this text.
        let mut cache: HashMap<String, Vec<u32>> = HashMap::new();
        let mut word = |w: &str, ids: &mut Vec<u32>| -> Result<()> {
            if let Some(known) = cache.get(w) {
                ids.extend_from_slice(known);
                return Ok(());
            }
            let start = ids.len();
            self.model.word_ids(w, self.byte_level, ids)?;
            cache.insert(w.to_string(), ids[start..].to_vec());
            Ok(())
        };
        for (a, b, id) in added::split(&self.added, text, false) {
            if let Some(id) = id {
                ids.push(id);
                continue;
            }
            let normalized = normalizer::normalize(&self.normalizer, &text[a..b]);
            let pieces = if self.added_normalized {
                added::split(&self.added, &normalized, true)
            } else {
                vec![(0, normalized.len(), None)]
            };
            for (c, d, id) in pieces {
                if let Some(id) = id {
                    ids.push(id);
                    continue;
                }
                pre_tokenizer::pre_tokenize(
                    &self.pre_tokenizer,
                    &normalized[c..d],
                    a == 0 && c == 0,
                    &mut |w| word(w, &mut ids),
                )?;
            }
        }
        Ok(ids)
    }

    /// Text → ids with the post-processor's special tokens around them: transformers'
    /// `tokenizer(text).input_ids` (`<s>` first for Llama 2, `<|begin_of_text|>` for Llama 3,
    /// nothing for GPT-2 and Qwen2).
    pub fn encode_with_special(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = self.around.before.clone();
        ids.extend(self.encode(text)?);
        ids.extend_from_slice(&self.around.after);
        Ok(ids)
    }

    /// Checks every id; the token strings of the defined ones (unused rows have none).
    fn names_of(&self, ids: &[u32]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            self.token_bytes(id)?;
            if (id as usize) < self.defined() {
                out.push(self.name(id).to_string());
            }
        }
        Ok(out)
    }

    /// Ids → text, special tokens kept (`tokenizer.decode(ids)`). An id ≥
    /// [`HfTokenizer::len`] is an error.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        Ok(decoder::decode(&self.decoder, self.names_of(ids)?, true))
    }

    /// The text of `ids` that follow others (`at_start` false) or begin the text: what the
    /// stream decoder adds for them.
    pub(super) fn decode_part(&self, ids: &[u32], at_start: bool) -> Result<String> {
        Ok(decoder::decode(
            &self.decoder,
            self.names_of(ids)?,
            at_start,
        ))
    }

    /// Whether decoding is the tokens' bytes end to end (a ByteLevel decoder alone): then a
    /// stream decoder only has to wait for whole UTF-8 characters.
    pub(super) fn decodes_bytes(&self) -> bool {
        self.decoder == [Decoder::ByteLevel]
    }

    /// Whether the decoded text of ids cut after a token that is not a `<0xNN>` byte is the
    /// text of each part: true when, before the first Fuse, the steps act on each token alone
    /// (Replace, ByteFallback, Metaspace, Strip) and after it only Strip cuts the text's start
    /// (Llama 2's and TinyLlama's chains). Else the stream decoder waits for the end.
    pub(super) fn decodes_in_parts(&self) -> bool {
        let mut fused = false;
        for d in &self.decoder {
            match d {
                Decoder::ByteLevel => return false,
                Decoder::Fuse => fused = true,
                Decoder::Strip { stop, .. } if fused && *stop > 0 => return false,
                Decoder::Strip { .. } => {}
                Decoder::Replace { .. } | Decoder::ByteFallback | Decoder::Metaspace { .. } => {
                    if fused {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Whether `id` is a `<0xNN>` token that a ByteFallback decoder joins with its neighbours.
    pub(super) fn is_byte_token(&self, id: u32) -> bool {
        self.decoder.contains(&Decoder::ByteFallback)
            && (id as usize) < self.defined()
            && decoder::fallback_byte(self.name(id)).is_some()
    }

    /// One id's bytes, as the decoder writes the token alone. An id ≥ [`HfTokenizer::len`] is
    /// an error.
    pub fn token_bytes(&self, id: u32) -> Result<&[u8]> {
        let i = id as usize;
        match self.piece_ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.piece_ends[i - 1] };
                Ok(&self.pieces[start as usize..end as usize])
            }
            None if i < self.len() => Ok(&[]),
            None => Err(Error::arg(
                "ids",
                &format!("token ids in [0, {})", self.len()),
                id,
            )),
        }
    }

    /// Ids → their bytes, concatenated. An id ≥ [`HfTokenizer::len`] is an error.
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
        if id as usize >= self.defined() {
            return Ok(format!("<unused {id}>"));
        }
        Ok(super::visible_bytes(bytes))
    }
}

/// A token's bytes as the decoder steps that act on one token write it: Replace, Metaspace's
/// `▁` to space, a `<0xNN>` byte, GPT-2's byte characters (Fuse and Strip join or cut the
/// text, not a token).
fn token_piece(decoders: &[Decoder], name: &str) -> Vec<u8> {
    let mut s = name.to_string();
    for d in decoders {
        match d {
            Decoder::ByteLevel => return decoder::byte_level_bytes(&s),
            Decoder::ByteFallback => {
                if let Some(b) = decoder::fallback_byte(&s) {
                    return vec![b];
                }
            }
            Decoder::Replace { from, to } => s = s.replace(from.as_str(), to),
            Decoder::Metaspace { replacement, .. } => {
                s = s
                    .chars()
                    .map(|c| if c == *replacement { ' ' } else { c })
                    .collect()
            }
            Decoder::Fuse | Decoder::Strip { .. } => {}
        }
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let t = HfTokenizer::from_json(TINY.as_bytes()).unwrap();
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
        assert_eq!(t.decode(&[5, 10, 8, 9]).unwrap(), " ab<|end|>é");
        assert_eq!(t.token_text(8).unwrap(), "<0xC3>");
        assert_eq!(t.token_text(5).unwrap(), "␣ab");
        let err = t.encode("x").unwrap_err().to_string();
        assert!(err.contains("byte 0x78"), "{err}");
        assert!(t.token_bytes(11).is_err());
        assert_eq!(t.bos(), None);
        assert_eq!(t.encode_with_special("ab").unwrap(), [3]);
    }

    #[test]
    fn rejects_other_tokenizers_by_field() {
        let err = |json: &str| {
            HfTokenizer::from_json(json.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&TINY.replace(r#""type": "BPE""#, r#""type": "WordPiece""#)),
            "tokenizer.json: model.type \"WordPiece\" is not supported; supported: \"BPE\""
        );
        let whitespace = TINY.replace(
            r#""type": "ByteLevel", "add"#,
            r#""type": "Whitespace", "add"#,
        );
        assert_eq!(
            err(&whitespace),
            "tokenizer.json: pre_tokenizer.type \"Whitespace\" is not supported; supported: \
             ByteLevel, Split, Digits, Metaspace, Sequence"
        );
        let coded = HfTokenizer::from_json(whitespace.as_bytes()).unwrap_err();
        assert_eq!(coded.code(), Some(crate::error::Code::TokenizerUnsupported));
        assert!(err(&TINY.replace(r#""©": 9"#, r#""©": 12"#)).contains("no token has id 9"));
        assert_eq!(
            err(&TINY.replace(r#""b c""#, r#""c a""#)),
            "tokenizer.json: model.merges[3]: \"ca\" is not in model.vocab"
        );
        assert_eq!(
            err(&TINY.replace(r#""b c""#, r#""b c d""#)),
            "tokenizer.json: model.merges[3] = \"b c d\" is not two tokens separated by one space"
        );
        assert_eq!(
            err(&TINY.replace(r#""b": 1,"#, r#""b": -1,"#)),
            format!(
                "tokenizer.json: model.vocab[\"b\"] is -1; an id must be an integer in [0, {})",
                crate::limits::MAX_MODEL_VOCAB
            )
        );
        assert!(err("{").starts_with("tokenizer.json: not valid JSON"));
        // A component of many small values costs far more as JSON values than as text.
        let zeros = format!("[{}0]", "0,".repeat(100_000));
        assert_eq!(
            err(&TINY.replace(
                r#""normalizer": null"#,
                &format!(r#""normalizer": {zeros}"#)
            )),
            "tokenizer.json: normalizer is too large: its JSON values would take more than \
             twice the file's size"
        );
        let merge = TINY.replace(r#""b c""#, &zeros);
        assert_eq!(
            err(&merge),
            "tokenizer.json: model.merges[3] is too large: its JSON values would take more than \
             twice the file's size"
        );
        assert_eq!(
            err("[1]"),
            "tokenizer.json: the file is a list, not a JSON object"
        );
        assert_eq!(err("7"), "tokenizer.json: the file is 7, not a JSON object");
        assert_eq!(
            err(r#"{"model": {"vocab": true}}"#),
            "tokenizer.json: model.vocab is true, not an object"
        );
        assert_eq!(
            err(r#"{"model": {"vocab": {}, "merges": "a b"}}"#),
            "tokenizer.json: model.merges is \"a b\", not a list"
        );
        assert_eq!(
            err("{}"),
            "tokenizer.json: model is missing or not an object"
        );
    }
}

//! A GGUF file's tokenizer, from its `tokenizer.ggml.*` metadata, built from the pieces the lab
//! already has rather than a third tokenizer:
//!
//! - `tokenizer.ggml.model` = `gpt2`: byte-level BPE, `tokens` (in GPT-2's byte-to-character
//!   spelling) and `merges` (`"a b"`), with the pre-tokenizer `tokenizer.ggml.pre` names. This
//!   is the `tokenizer.json` Hugging Face would hold, and it is read as one
//!   ([`crate::model::tokenizer::hf`]): `gpt-2` (GPT-2's regex), `llama-bpe` (Llama 3's regex,
//!   whole words that are tokens kept whole, as llama.cpp's `ignore_merges`), `qwen2` (Qwen2's
//!   regex) and `smollm` (each digit alone, then GPT-2's regex). Any other `pre` is refused by
//!   name. Control tokens (`token_type` 3) and user-defined ones (4) are added tokens, matched
//!   before the model; unused ones (5) at the end are rows of a padded embedding, which decode
//!   to nothing;
//! - `tokenizer.ggml.model` = `llama`: SentencePiece, `tokens` with `scores`, `▁` for a space
//!   and `<0xNN>` byte tokens, merged by score as llama.cpp's and llama2.c's tokenizers do
//!   ([`SentencePiece`]): the byte tokens must be ids 3 to 258 and `<s>` id 1, as in Llama's
//!   vocabulary;
//! - `bos_token_id`, `eos_token_id`, `add_bos_token` (default: true for `llama`, false for
//!   `gpt2`), and `tokenizer.chat_template`, kept as text.
//!
//! The vocabulary must have exactly as many tokens as the embedding has rows.

use serde_json::{json, Value as Json};

use crate::error::{brief, Code, Error, Result};
use crate::limits::MAX_GGUF_CHAT_TEMPLATE_BYTES;
use crate::model::format::gguf::{Array, Header, Strings, Value};
use crate::model::tokenizer::hf::patterns;
use crate::model::tokenizer::{ByteLevelBpe, SentencePiece, Tokenizer};

/// The pre-tokenizers (`tokenizer.ggml.pre`) of byte-level BPE vocabularies the lab reads.
pub const SUPPORTED_PRE: [&str; 4] = ["gpt-2", "llama-bpe", "qwen2", "smollm"];

/// A GGUF file's tokenizer and what goes with it.
#[derive(Debug, Clone)]
pub struct GgufTokenizer {
    pub tokenizer: Tokenizer,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos: Option<u32>,
    /// `tokenizer.ggml.eos_token_id`: where generation stops.
    pub eos: Option<u32>,
    /// Whether llama.cpp puts BOS before a prompt (`tokenizer.ggml.add_bos_token`).
    pub add_bos: bool,
    /// `tokenizer.chat_template`, as written.
    pub chat_template: Option<String>,
    /// Every `tokenizer.*` key of the file with its value, in the file's order: what a GGUF
    /// writer puts back ([`super::gguf_write`]).
    pub metadata: Vec<(String, Value)>,
}

/// token_type values (llama.cpp's `llama_token_type`): unused is a row a model padded its
/// embedding with.
const NORMAL: i32 = 1;
const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;
const UNUSED: i32 = 5;

fn value_error(file: &str, key: &str, v: &dyn std::fmt::Display, wanted: &str) -> Error {
    let shown = brief(v);
    Error::new(format!("{file}: metadata {key} is {shown}; {wanted}")).coded(
        Code::ModelConfigValue,
        [
            ("file", file.into()),
            ("field", key.into()),
            ("value", shown.into()),
        ],
    )
}

fn missing(file: &str, key: &str) -> Error {
    Error::new(format!("{file}: metadata {key} is missing")).coded(
        Code::ModelConfigMissing,
        [("file", file.into()), ("field", key.into())],
    )
}

/// The tokenizer of `header`'s metadata, for a model of `vocab_size` ids.
pub fn read(file: &str, header: &Header, vocab_size: usize) -> Result<GgufTokenizer> {
    const MODEL: &str = "tokenizer.ggml.model";
    const TOKENS: &str = "tokenizer.ggml.tokens";
    let model = header.get(MODEL).ok_or_else(|| missing(file, MODEL))?;
    let tokens = header.get(TOKENS).ok_or_else(|| missing(file, TOKENS))?;
    let Some(tokens) = tokens.as_array().and_then(Array::strings) else {
        return Err(value_error(
            file,
            TOKENS,
            tokens,
            "an array of strings is needed",
        ));
    };
    if tokens.len() != vocab_size {
        return Err(Error::new(format!(
            "{file}: metadata {TOKENS} has {} tokens, but token_embd.weight has {vocab_size} \
             rows; the two must agree",
            tokens.len()
        ))
        .coded(
            Code::ModelConfigMismatch,
            [
                ("file", file.into()),
                ("field", TOKENS.into()),
                ("value", tokens.len().to_string().into()),
                (
                    "other",
                    format!("token_embd.weight rows = {vocab_size}").into(),
                ),
            ],
        ));
    }
    let id = |key: &str| -> Result<Option<u32>> {
        match header.get(key) {
            None => Ok(None),
            Some(v) => match v.as_int() {
                Some(n) if (0..vocab_size as i128).contains(&n) => Ok(Some(n as u32)),
                _ => Err(value_error(
                    file,
                    key,
                    v,
                    &format!("a token id in [0, {vocab_size}) is needed"),
                )),
            },
        }
    };
    let flag = |key: &str, default: bool| -> Result<bool> {
        match header.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(value_error(file, key, v, "true or false is needed")),
        }
    };
    let token_types = match header.get("tokenizer.ggml.token_type") {
        None => None,
        Some(Value::Array(Array::I32(t))) if t.len() == vocab_size => Some(t.as_slice()),
        Some(v) => {
            return Err(value_error(
                file,
                "tokenizer.ggml.token_type",
                v,
                &format!("an array of {vocab_size} INT32 is needed"),
            ))
        }
    };
    let chat_template = match header.get("tokenizer.chat_template") {
        None => None,
        Some(Value::String(s)) if s.len() <= MAX_GGUF_CHAT_TEMPLATE_BYTES => Some(s.clone()),
        Some(Value::String(s)) => {
            return Err(value_error(
                file,
                "tokenizer.chat_template",
                &format!("{} bytes long", s.len()),
                &format!("at most {MAX_GGUF_CHAT_TEMPLATE_BYTES} bytes are accepted"),
            ))
        }
        Some(v) => {
            return Err(value_error(
                file,
                "tokenizer.chat_template",
                v,
                "a string is needed",
            ))
        }
    };
    let bos = id("tokenizer.ggml.bos_token_id")?;
    let eos = id("tokenizer.ggml.eos_token_id")?;
    let (tokenizer, add_bos) = match model.as_str() {
        Some("gpt2") => {
            let add_bos = flag("tokenizer.ggml.add_bos_token", false)?;
            let t = byte_level_bpe(
                file,
                header,
                tokens,
                token_types,
                add_bos.then_some(bos).flatten(),
            )?;
            (Tokenizer::Bpe(t), add_bos)
        }
        Some("llama") => {
            if !flag("tokenizer.ggml.add_space_prefix", true)? {
                return Err(value_error(
                    file,
                    "tokenizer.ggml.add_space_prefix",
                    &false,
                    "SentencePiece vocabularies are read with their space prefix",
                ));
            }
            let add_bos = flag("tokenizer.ggml.add_bos_token", true)?;
            (
                Tokenizer::SentencePiece(sentencepiece(file, header, tokens, bos)?),
                add_bos,
            )
        }
        _ => {
            return Err(value_error(
                file,
                MODEL,
                model,
                "\"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece) is supported",
            ))
        }
    };
    let metadata = header
        .metadata
        .iter()
        .filter(|(key, _)| key.starts_with("tokenizer."))
        .cloned()
        .collect();
    Ok(GgufTokenizer {
        tokenizer,
        bos,
        eos,
        add_bos,
        chat_template,
        metadata,
    })
}

/// The `tokenizer.json` a byte-level BPE vocabulary would be, read by the Hugging Face
/// pipeline.
fn byte_level_bpe(
    file: &str,
    header: &Header,
    tokens: &Strings,
    token_types: Option<&[i32]>,
    bos: Option<u32>,
) -> Result<ByteLevelBpe> {
    const PRE: &str = "tokenizer.ggml.pre";
    const MERGES: &str = "tokenizer.ggml.merges";
    let pre = match header.get(PRE) {
        None => "default",
        Some(v) => v
            .as_str()
            .ok_or_else(|| value_error(file, PRE, v, "a string is needed"))?,
    };
    let split = |pattern: &str| {
        json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated",
               "invert": false})
    };
    let byte_level = |use_regex: bool| {
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false,
               "use_regex": use_regex})
    };
    let (pre_tokenizer, ignore_merges) = match pre {
        "gpt-2" => (byte_level(true), false),
        "llama-bpe" => (
            json!({"type": "Sequence",
                   "pretokenizers": [split(patterns::LLAMA3), byte_level(false)]}),
            true,
        ),
        "qwen2" => (
            json!({"type": "Sequence",
                   "pretokenizers": [split(patterns::QWEN2), byte_level(false)]}),
            false,
        ),
        "smollm" => (
            json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
            false,
        ),
        other => {
            return Err(Error::new(format!(
                "{file}: metadata {PRE} is {}; supported: {}",
                brief(&other),
                SUPPORTED_PRE.join(", ")
            ))
            .coded(
                Code::TokenizerUnsupported,
                [
                    ("field", PRE.into()),
                    ("value", other.into()),
                    ("supported", SUPPORTED_PRE.join(", ").into()),
                ],
            ))
        }
    };
    let merges = header.get(MERGES).ok_or_else(|| missing(file, MERGES))?;
    let Some(merges) = merges.as_array().and_then(Array::strings) else {
        return Err(value_error(
            file,
            MERGES,
            merges,
            "an array of strings is needed",
        ));
    };
    let text = |s: &[u8], key: &str, i: usize| -> Result<String> {
        std::str::from_utf8(s).map(str::to_string).map_err(|_| {
            value_error(
                file,
                &format!("{key}[{i}]"),
                &String::from_utf8_lossy(s),
                "UTF-8 text is needed",
            )
        })
    };
    // The file is written as text, token by token, rather than built as a JSON tree first:
    // a tree of 151 936 tokens would take several times the metadata's memory.
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let mut vocab = String::with_capacity(tokens.len() * 16);
    let mut added = String::new();
    let mut seen = std::collections::HashSet::with_capacity(tokens.len());
    // Unused ids at the end (an embedding padded past the vocabulary, `[PADn]`) decode to
    // nothing, as llama.cpp decodes them: rows of the model, not tokens.
    let used = match token_types {
        Some(k) => k.len() - k.iter().rev().take_while(|&&k| k == UNUSED).count(),
        None => tokens.len(),
    };
    for (i, t) in tokens.iter().enumerate().take(used) {
        let name = text(t, "tokenizer.ggml.tokens", i)?;
        if !seen.insert(t) {
            return Err(value_error(
                file,
                &format!("tokenizer.ggml.tokens[{i}]"),
                &name,
                "each token appears once",
            ));
        }
        let q = quote(&name);
        let kind = token_types.map_or(1, |k| k[i]);
        if kind == CONTROL || kind == USER_DEFINED {
            if !added.is_empty() {
                added.push(',');
            }
            added.push_str(&format!(
                "{{\"id\":{i},\"content\":{q},\"single_word\":false,\"lstrip\":false,\
                 \"rstrip\":false,\"normalized\":false,\"special\":{}}}",
                kind == CONTROL
            ));
        }
        if i > 0 {
            vocab.push(',');
        }
        vocab.push_str(&q);
        vocab.push(':');
        vocab.push_str(&i.to_string());
    }
    drop(seen);
    let mut merge_list = String::with_capacity(merges.len() * 12);
    for (i, m) in merges.iter().enumerate() {
        if i > 0 {
            merge_list.push(',');
        }
        merge_list.push_str(&quote(&text(m, MERGES, i)?));
    }
    let post = match bos {
        Some(id) => {
            let name = tokens.str(id as usize).unwrap_or_default();
            json!({"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": name, "type_id": 0}},
                              {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [], "special_tokens": {name: {"id": name, "ids": [id],
                                                         "tokens": [name]}}})
        }
        None => Json::Null,
    };
    let decoder = json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false,
                         "use_regex": false});
    let json = format!(
        "{{\"added_tokens\":[{added}],\"normalizer\":null,\"pre_tokenizer\":{pre_tokenizer},\
         \"post_processor\":{post},\"decoder\":{decoder},\"model\":{{\"type\":\"BPE\",\
         \"ignore_merges\":{ignore_merges},\"vocab\":{{{vocab}}},\"merges\":[{merge_list}]}}}}"
    );
    drop((vocab, added, merge_list));
    let bytes = json.into_bytes();
    let mut t = ByteLevelBpe::from_json(&bytes).map_err(|e| {
        Error::new(format!(
            "{file}: the tokenizer.ggml metadata, read as tokenizer.json: {e}"
        ))
    })?;
    t.pad_to(tokens.len());
    Ok(t)
}

/// The SentencePiece of a `llama` vocabulary: llama2.c's `tokenizer.bin` of its tokens and
/// scores, `▁` written as a space.
fn sentencepiece(
    file: &str,
    header: &Header,
    tokens: &Strings,
    bos: Option<u32>,
) -> Result<SentencePiece> {
    const SCORES: &str = "tokenizer.ggml.scores";
    let scores = header.get(SCORES).ok_or_else(|| missing(file, SCORES))?;
    let scores = match scores {
        Value::Array(Array::F32(s)) if s.len() == tokens.len() => s,
        v => {
            return Err(value_error(
                file,
                SCORES,
                v,
                &format!("an array of {} FLOAT32 is needed", tokens.len()),
            ))
        }
    };
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(value_error(
            file,
            &format!("{SCORES}[{i}]"),
            &"NaN",
            "a number is needed",
        ));
    }
    if bos.is_some_and(|b| b != crate::model::tokenizer::sentencepiece::BOS) {
        return Err(value_error(
            file,
            "tokenizer.ggml.bos_token_id",
            &bos.unwrap_or_default(),
            "a SentencePiece vocabulary's <s> is id 1",
        ));
    }
    for b in 0..=255u32 {
        let id = b as usize + 3;
        let want = format!("<0x{b:02X}>");
        if tokens.get(id) != Some(want.as_bytes()) {
            return Err(value_error(
                file,
                &format!("tokenizer.ggml.tokens[{id}]"),
                &String::from_utf8_lossy(tokens.get(id).unwrap_or_default()),
                &format!("SentencePiece byte tokens <0x00> … <0xFF> are ids 3 … 258, so {want}"),
            ));
        }
    }
    let mut bin =
        Vec::with_capacity(4 + 8 * tokens.len() + tokens.iter().map(<[u8]>::len).sum::<usize>());
    let mut max_len = 0usize;
    bin.extend(0u32.to_le_bytes());
    for (t, s) in tokens.iter().zip(scores) {
        let piece = replace_spaces(t);
        max_len = max_len.max(piece.len());
        bin.extend(s.to_le_bytes());
        bin.extend((piece.len() as u32).to_le_bytes());
        bin.extend(&piece);
    }
    bin[..4].copy_from_slice(&(max_len as u32).to_le_bytes());
    SentencePiece::from_bytes(&bin)
        .map_err(|e| Error::new(format!("{file}: the tokenizer.ggml metadata: {e}")))
}

/// A SentencePiece piece with `▁` (U+2581) as a plain space.
fn replace_spaces(piece: &[u8]) -> Vec<u8> {
    const MARK: &[u8] = "▁".as_bytes();
    let mut out = Vec::with_capacity(piece.len());
    let mut i = 0;
    while i < piece.len() {
        if piece[i..].starts_with(MARK) {
            out.push(b' ');
            i += MARK.len();
        } else {
            out.push(piece[i]);
            i += 1;
        }
    }
    out
}

/// The `tokenizer.*` metadata of a byte-level BPE tokenizer read from a `tokenizer.json`, for
/// a model of `vocab_size` ids, as llama.cpp's converter (`convert_hf_to_gguf.py`) writes it,
/// and which [`read`] reads back as the same tokenizer:
///
/// - `pre` names the pre-tokenizer, which must be one llama.cpp implements
///   ([`SUPPORTED_PRE`]): GPT-2's ByteLevel (`gpt-2`), Llama 3's Split then ByteLevel with
///   `ignore_merges` (`llama-bpe`), Qwen2's Split then ByteLevel (`qwen2`), SmolLM's Digits
///   then ByteLevel (`smollm`). A normalizer is refused but Qwen2's NFC, which is dropped, as
///   llama.cpp does: text not in NFC is then tokenized as it is written;
/// - `tokens` are the vocabulary's strings by id; ids past the tokenizer's (a padded
///   embedding) are `[PADn]` tokens of type unused; added tokens are control tokens when
///   `special` or written `<|…|>`, user-defined otherwise;
/// - `merges` are `"a b"` in rank order;
/// - the BOS id and `add_bos_token` are what the post-processor puts before a text (one BOS or
///   nothing; anything else is refused); `eos` is written as `eos_token_id`; the chat template
///   as `tokenizer.chat_template`.
///
/// `Err` is the reason a tokenizer has no such form, a sentence that completes "this model
/// cannot be written as a GGUF file: …".
pub fn bpe_metadata(
    t: &ByteLevelBpe,
    vocab_size: usize,
    eos: Option<u32>,
    chat_template: Option<&str>,
) -> std::result::Result<Vec<(String, Value)>, String> {
    let json = t.to_json();
    if json["model"]["byte_fallback"] == true {
        return Err(
            "its tokenizer.json is a SentencePiece-style BPE (byte_fallback to <0xNN> \
                    tokens, as Llama 2's), and only a byte-level BPE tokenizer.json is written \
                    as GGUF metadata"
                .into(),
        );
    }
    let normalizer = &json["normalizer"];
    if !(normalizer.is_null() || normalizer["type"] == "NFC") {
        return Err(format!(
            "the normalizer of its tokenizer.json ({}) has no llama.cpp form; only none or \
             NFC is written",
            brief(&normalizer["type"])
        ));
    }
    let pre = &json["pre_tokenizer"];
    let steps: Vec<&Json> = match pre["type"].as_str() {
        Some("Sequence") => pre["pretokenizers"]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().collect()),
        _ => vec![pre],
    };
    let byte_level = |s: &Json, regex: bool| {
        s["type"] == "ByteLevel"
            && s["add_prefix_space"] == false
            && s["use_regex"].as_bool().unwrap_or(true) == regex
    };
    let split = |s: &Json, pattern: &str| {
        s["type"] == "Split"
            && s["pattern"]["Regex"] == pattern
            && s["behavior"] == "Isolated"
            && s["invert"] == false
    };
    let digits = |s: &Json| s["type"] == "Digits" && s["individual_digits"] == true;
    let pre_name = match steps[..] {
        [a] if byte_level(a, true) => "gpt-2",
        [a, b] if split(a, patterns::GPT2) && byte_level(b, false) => "gpt-2",
        [a, b] if split(a, patterns::LLAMA3) && byte_level(b, false) => "llama-bpe",
        [a, b] if split(a, patterns::QWEN2) && byte_level(b, false) => "qwen2",
        [a, b] if digits(a) && byte_level(b, true) => "smollm",
        _ => {
            return Err(format!(
                "the pre_tokenizer of its tokenizer.json is none of those llama.cpp names \
                 ({}: GPT-2's, Llama 3's, Qwen2's and SmolLM's)",
                SUPPORTED_PRE.join(", ")
            ))
        }
    };
    let model = &json["model"];
    // llama.cpp keeps a word that is a token whole (`ignore_merges`) for llama-bpe only.
    let ignore_merges = model["ignore_merges"] == true;
    if ignore_merges && pre_name != "llama-bpe" {
        return Err(format!(
            "its tokenizer.json's model has ignore_merges true, which llama.cpp does with the \
             llama-bpe pre-tokenizer only, not with {pre_name}"
        ));
    }
    if !ignore_merges && pre_name == "llama-bpe" {
        return Err(
            "its tokenizer.json's model has ignore_merges false, but llama.cpp's \
                    llama-bpe pre-tokenizer keeps a word that is a token whole"
                .into(),
        );
    }
    if json["decoder"]["type"] != "ByteLevel" {
        return Err(format!(
            "the decoder of its tokenizer.json ({}) is not ByteLevel",
            brief(&json["decoder"]["type"])
        ));
    }
    // The post-processor puts one BOS before the text, or nothing.
    let bos = t.bos();
    let plain = t.encode("a").map_err(|e| e.to_string())?;
    let with = t.encode_with_special("a").map_err(|e| e.to_string())?;
    if with != bos.into_iter().chain(plain).collect::<Vec<u32>>() {
        return Err(
            "the post_processor of its tokenizer.json adds tokens other than one BOS \
                    before the text, which llama.cpp's add_bos_token cannot say"
                .into(),
        );
    }
    if let Some(c) = chat_template.filter(|c| c.len() > MAX_GGUF_CHAT_TEMPLATE_BYTES) {
        return Err(format!(
            "its chat template is {} bytes long; a GGUF file's is read back up to \
             {MAX_GGUF_CHAT_TEMPLATE_BYTES} bytes",
            c.len()
        ));
    }
    let defined = t.defined().min(vocab_size);
    let mut kinds = vec![NORMAL; vocab_size];
    kinds[defined..].fill(UNUSED);
    for a in json["added_tokens"].as_array().into_iter().flatten() {
        let content = a["content"].as_str().unwrap_or_default();
        if a["lstrip"] == true || a["rstrip"] == true {
            return Err(format!(
                "its added token {} takes the spaces around it (lstrip or rstrip), which a \
                 GGUF token cannot say",
                brief(&a["content"])
            ));
        }
        let looks_special = content.starts_with("<|") && content.ends_with("|>");
        if !(a["special"] == true || looks_special) && content.contains('▁') {
            return Err(format!(
                "its added token {} holds ▁, which llama.cpp's converter writes as a space",
                brief(&a["content"])
            ));
        }
        if let Some(id) = a["id"].as_u64().filter(|&id| (id as usize) < vocab_size) {
            kinds[id as usize] = match a["special"] == true || looks_special {
                true => CONTROL,
                false => USER_DEFINED,
            };
        }
    }
    let mut names = Vec::with_capacity(vocab_size);
    for id in 0..vocab_size {
        if id < defined {
            names.push(t.token_name(id as u32).to_string());
            continue;
        }
        let pad = format!("[PAD{id}]");
        if t.id_of(&pad).is_some() {
            return Err(format!(
                "its vocabulary has a token {pad}, the name llama.cpp gives the unused id {id}"
            ));
        }
        names.push(pad);
    }
    let merges = t.merge_pairs();
    if let Some((a, b)) = merges
        .iter()
        .find(|(a, b)| a.contains(' ') || b.contains(' '))
    {
        return Err(format!(
            "its merge {} has a space, which a GGUF merge \"a b\" cannot hold",
            brief(&format!("\"{a} {b}\""))
        ));
    }
    let merges: Vec<String> = merges.iter().map(|(a, b)| format!("{a} {b}")).collect();
    drop(json);
    let key = |k: &str| format!("tokenizer.{k}");
    let mut out = vec![
        (key("ggml.model"), Value::String("gpt2".into())),
        (key("ggml.pre"), Value::String(pre_name.into())),
        (
            key("ggml.tokens"),
            Value::Array(Array::String(Strings::from_list(&names))),
        ),
        (key("ggml.token_type"), Value::Array(Array::I32(kinds))),
        (
            key("ggml.merges"),
            Value::Array(Array::String(Strings::from_list(&merges))),
        ),
    ];
    if let Some(b) = bos {
        out.push((key("ggml.bos_token_id"), Value::U32(b)));
    }
    if let Some(e) = eos {
        out.push((key("ggml.eos_token_id"), Value::U32(e)));
    }
    out.push((key("ggml.add_bos_token"), Value::Bool(bos.is_some())));
    if let Some(c) = chat_template {
        out.push((key("chat_template"), Value::String(c.into())));
    }
    Ok(out)
}

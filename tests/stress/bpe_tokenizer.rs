//! The `bpe_tokenizer` target: `ByteLevelBpe::from_json` on an edited `tokenizer.json`, then the
//! tokenizer contract.

use logitlab::model::tokenizer::bpe;
use logitlab::model::{ByteLevelBpe, Tokenizer};
use serde_json::{json, Value};

use crate::contracts::check_decoding;
use crate::fixtures::{bytes_tokenizer_json, parsed, HF_TOKENIZER};
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{check, count_from_here, given, stress, try_bug, Bytes, Target, Verdict, MB};
use crate::inputs::{bpe_text, edit_json, json_bytes};

const BPE_KEYS: [&str; 26] = [
    "model",
    "type",
    "vocab",
    "merges",
    "added_tokens",
    "id",
    "content",
    "special",
    "lstrip",
    "rstrip",
    "single_word",
    "normalized",
    "normalizer",
    "pre_tokenizer",
    "decoder",
    "add_prefix_space",
    "use_regex",
    "trim_offsets",
    "dropout",
    "byte_fallback",
    "ignore_merges",
    "continuing_subword_prefix",
    "end_of_word_suffix",
    "unk_token",
    "Ġ",
    "<|endoftext|>",
];

/// Where the tokenizer edits start: the fields `from_json` reads.
const BPE_FOCUS: [&str; 10] = [
    "",
    "/model",
    "/model/vocab",
    "/model/vocab",
    "/model/merges",
    "/model/merges",
    "/added_tokens",
    "/added_tokens/0",
    "/pre_tokenizer",
    "/decoder",
];

/// The tokenizers `bpe_tokenizer` edits: the fixture's, the 257-token one with a few merges in
/// both forms, and one that lacks most bytes (so encoding can fail).
fn bpe_bases() -> &'static [Value] {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        let mut few = bytes_tokenizer_json(true);
        let vocab = few["model"]["vocab"].as_object_mut().unwrap();
        vocab.retain(|k, _| k.chars().all(|c| "<|endoftext>Ġthr".contains(c)));
        let kept: Vec<String> = vocab.keys().cloned().collect();
        for (id, k) in kept.iter().enumerate() {
            vocab.insert(k.clone(), json!(id));
        }
        let eot = vocab["<|endoftext|>"].clone();
        few["added_tokens"][0]["id"] = eot;
        few["model"]["merges"] = json!(["Ġ t", ["Ġt", "h"]]);
        vec![parsed(HF_TOKENIZER), bytes_tokenizer_json(true), few]
    })
}

/// Whether `text`'s round trip may legitimately differ: `add_prefix_space` adds spaces, an
/// added token written with GPT-2's byte characters (`Ġx`) decodes to its bytes (` x`), as in
/// `tokenizers`, and an edit may have made the tokenizer other than byte-level (no ByteLevel
/// pre-tokenizer or decoder: no decoder joins the tokens with spaces). Parses the JSON again,
/// so it is only asked after a round trip failed.
fn round_trip_may_differ(json: &[u8], text: &str) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(json) else {
        return false;
    };
    if v["pre_tokenizer"]["add_prefix_space"] != json!(false)
        || v["pre_tokenizer"]["type"] != json!("ByteLevel")
        || v["decoder"]["type"] != json!("ByteLevel")
        || !v["normalizer"].is_null()
    {
        return true;
    }
    v["added_tokens"].as_array().is_some_and(|a| {
        a.iter().filter_map(|t| t["content"].as_str()).any(|c| {
            let bytes: Option<Vec<u8>> = c.chars().map(bpe::char_byte).collect();
            text.contains(c) && bytes.is_some_and(|b| b != c.as_bytes())
        })
    })
}

/// `ByteLevelBpe::from_json` on an edited tokenizer.json; when it loads: encode of arbitrary
/// text, decode of arbitrary ids, token_text of every id, the stream decoder on arbitrary ids.
pub fn run_bpe_tokenizer(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let bases = bpe_bases();
    let base = b.u8() as usize % 4 % bases.len(); // the quick 257-token base twice as often
    let mut json = bases[base].clone();
    let edits = if data.is_empty() { 0 } else { 1 + b.u8() % 4 };
    for _ in 0..edits {
        edit_json(&mut json, &mut b, &BPE_KEYS, &BPE_FOCUS);
    }
    let bytes = json_bytes(&json, &mut b);
    count_from_here();
    given(bytes.len());
    let mut bpe = match ByteLevelBpe::from_json(&bytes) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    given(0); // read: what follows is no longer the file's cost

    let defined = bpe.defined();
    check!(
        defined >= 2 && bpe.len() == defined,
        "{defined} ids defined"
    );
    if b.u8().is_multiple_of(4) {
        bpe.pad_to(defined + b.u8() as usize % 8); // a model's padded rows
    }
    let t = Tokenizer::Bpe(bpe);
    let mut features = format!("b{base}");
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[b.pos.min(data.len())..]).into_owned(),
        _ => bpe_text(&mut b, 1 << 14),
    };
    match t.encode(&text) {
        Ok(ids) => {
            check!(
                ids.iter().all(|&i| (i as usize) < t.len()),
                "encode gave an id out of range"
            );
            match t.decode(&ids) {
                Ok(back) => {
                    if back != text && !round_trip_may_differ(&bytes, &text) {
                        return Bug(format!("decode(encode({text:?})) = {back:?}"));
                    }
                }
                Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
            }
            features.push_str(" enc");
        }
        Err(e) => {
            let m = e.to_string();
            check!(
                m.starts_with("text: "),
                "encode error does not name the text: {m}"
            );
            features.push_str(" unk");
        }
    }
    try_bug!(check_decoding(&t, &mut b, &mut features));
    Verdict::Ok(features)
}

fn seeds_bpe_tokenizer() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0, 0],
        vec![1, 0, 1, 1, 1, 1, 10, 40, 41, 42, 200, 201],
    ]
}

pub const TARGET: Target = Target {
    name: "bpe_tokenizer",
    budget: 4_000,
    max_input: 1024,
    alloc_cap: 4 * MB,
    names: &["tokenizer.json: "],
    prefix: true,
    seeds: seeds_bpe_tokenizer,
    run: run_bpe_tokenizer,
};

#[test]
fn stress_bpe_tokenizer() {
    stress(&TARGET);
}

//! The `hf_tokenizer` target: `HfTokenizer::from_json` on an edited copy of one of the five
//! pipeline fixtures (SmolLM2, Llama 3, Qwen2, TinyLlama and older Llama 2 layouts), then
//! encode, encode with special tokens and the tokenizer contract.

use logitlab::model::tokenizer::hf::HfTokenizer;
use logitlab::model::Tokenizer;
use serde_json::Value;

use crate::contracts::check_decoding;
use crate::fixtures::parsed;
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{check, count_from_here, stress, try_bug, Bytes, Target, Verdict, MB};
use crate::inputs::{bpe_text, edit_json, json_bytes};

const FIXTURES: [&[u8]; 5] = [
    include_bytes!("../fixtures/tokenizers/smollm2.json"),
    include_bytes!("../fixtures/tokenizers/llama3.json"),
    include_bytes!("../fixtures/tokenizers/qwen2.json"),
    include_bytes!("../fixtures/tokenizers/tinyllama.json"),
    include_bytes!("../fixtures/tokenizers/metaspace.json"),
];

/// Keys and values the edits write: the pipeline's fields and type names.
const KEYS: [&str; 40] = [
    "type",
    "normalizer",
    "normalizers",
    "pre_tokenizer",
    "pretokenizers",
    "decoder",
    "decoders",
    "post_processor",
    "processors",
    "pattern",
    "String",
    "Regex",
    "content",
    "behavior",
    "invert",
    "Isolated",
    "MergedWithNext",
    "Contiguous",
    "Removed",
    "individual_digits",
    "replacement",
    "prepend_scheme",
    "first",
    "split",
    "start",
    "stop",
    "single",
    "special_tokens",
    "ids",
    "SpecialToken",
    "Sequence",
    "byte_fallback",
    "fuse_unk",
    "unk_token",
    "ignore_merges",
    "added_tokens",
    "lstrip",
    "rstrip",
    "normalized",
    "▁",
];

/// Where the edits start.
const FOCUS: [&str; 9] = [
    "",
    "/normalizer",
    "/pre_tokenizer",
    "/decoder",
    "/post_processor",
    "/added_tokens",
    "/model",
    "/model/merges",
    "/model/vocab",
];

const PIECES: [&str; 10] = [
    "<s>",
    "</s>",
    "<|begin_of_text|>",
    "<|im_start|>",
    "<think>",
    "[MASK]",
    "<0x41>",
    "▁",
    " \r\n",
    "12345",
];

fn bases() -> &'static [Value] {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| FIXTURES.iter().map(|f| parsed(f)).collect())
}

/// A text of the pieces the fixtures treat specially and arbitrary text.
fn text(b: &mut Bytes) -> String {
    let mut s = String::new();
    for _ in 0..b.len(6) {
        match b.u8() % 3 {
            0 => s.push_str(b.pick(&PIECES)),
            _ => s.push_str(&bpe_text(b, 1 << 12)),
        }
    }
    s
}

/// `HfTokenizer::from_json` on an edited fixture; when it loads: encode and encode with special
/// tokens of arbitrary text, then decode, token_text and the stream decoder.
pub fn run_hf_tokenizer(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let base = b.u8() as usize % bases().len();
    let mut json = bases()[base].clone();
    let edits = if data.is_empty() { 0 } else { b.u8() % 4 };
    for _ in 0..edits {
        edit_json(&mut json, &mut b, &KEYS, &FOCUS);
    }
    let bytes = json_bytes(&json, &mut b);
    count_from_here();
    let hf = match HfTokenizer::from_json(&bytes) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    let t = Tokenizer::Bpe(hf);
    let mut features = format!("b{base}");
    let text = text(&mut b);
    match (t.encode(&text), t.encode_with_special(&text)) {
        (Ok(ids), Ok(with)) => {
            check!(
                ids.iter().chain(&with).all(|&i| (i as usize) < t.len()),
                "encode gave an id out of range"
            );
            check!(
                with.windows(ids.len().max(1)).any(|w| w == &ids[..]) || ids.is_empty(),
                "encode_with_special({text:?}) = {with:?} does not hold encode's {ids:?}"
            );
            if let Err(e) = t.decode(&with) {
                return Bug(format!("decode of encoded ids failed: {e}"));
            }
            // The byte-level fixtures without a normalizer give the text back.
            let unedited = edits == 0
                && serde_json::from_slice::<Value>(&bytes).ok().as_ref() == Some(&bases()[base]);
            if unedited && base < 2 {
                let back = t.decode(&ids).unwrap_or_default();
                check!(back == text, "decode(encode({text:?})) = {back:?}");
            }
            features.push_str(" enc");
        }
        (Err(e), _) | (_, Err(e)) => {
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

fn seeds() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0, 0],
        vec![1, 0, 1, 2, 3],
        vec![2, 0, 7, 7, 7, 7],
        vec![3, 0, 9, 1, 2, 200, 201],
        vec![4, 0, 5, 5, 40, 41, 42],
    ]
}

pub const TARGET: Target = Target {
    name: "hf_tokenizer",
    budget: 3_000,
    max_input: 1024,
    alloc_cap: 4 * MB,
    names: &["tokenizer.json: "],
    prefix: true,
    seeds,
    run: run_hf_tokenizer,
};

#[test]
fn stress_hf_tokenizer() {
    stress(&TARGET);
}

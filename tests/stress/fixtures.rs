//! The files the targets start from: the shipped checkpoint, the Hugging Face GPT-2 folders
//! (`config.json`, `model.safetensors`, `tokenizer.json`) of `tests/fixtures/hf/`, a small
//! tokenizer.json made here, and the llama2.c files (`model.bin`, `tokenizer.bin`) of
//! `tests/fixtures/llama2c/`.

use logitlab::model::tokenizer::bpe;
use serde_json::{json, Map, Value};

/// The shipped checkpoint, `www/models/default.safetensors`.
pub fn default_checkpoint() -> &'static [u8] {
    include_bytes!("../../www/models/default.safetensors")
}

/// One fixture folder of `tests/fixtures/hf/`: config.json and model.safetensors.
pub struct HfFolder {
    pub config: &'static [u8],
    pub model: &'static [u8],
}

macro_rules! hf_folder {
    ($name:literal) => {
        HfFolder {
            config: include_bytes!(concat!("../fixtures/hf/", $name, "/config.json")),
            model: include_bytes!(concat!("../fixtures/hf/", $name, "/model.safetensors")),
        }
    };
}

pub const HF_FOLDERS: [HfFolder; 4] = [
    hf_folder!("bf16-tied-gelu_new"),
    hf_folder!("f16-untied-gelu"),
    hf_folder!("f32-tied-gelu_new"),
    hf_folder!("f32-noprefix-untied-gelu_new"),
];

/// The fixtures' tokenizer (every folder holds a copy of it).
pub const HF_TOKENIZER: &[u8] = include_bytes!("../fixtures/hf/tokenizer.json");

/// A fixture file parsed once.
pub fn parsed(bytes: &'static [u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// A tokenizer.json with the 256 byte tokens and `<|endoftext|>` only (257 ids, padded to the
/// model's 1024): far quicker to parse than the fixture's, so most `hf_safetensors`
/// executions use it.
pub fn bytes_tokenizer_json(merges: bool) -> Value {
    let mut vocab = Map::new();
    vocab.insert("<|endoftext|>".into(), json!(0));
    for b in 0..=255u8 {
        vocab.insert(bpe::byte_char(b).to_string(), json!(1 + b as u32));
    }
    let mut merge_list = Vec::new();
    if merges {
        // A few merges in both forms: "Ġ t", ["Ġt", "h"], ...
        for (k, (a, c)) in [("Ġ", "t"), ("Ġt", "h"), ("e", "r"), ("Ã", "©"), ("Ċ", "Ċ")]
            .into_iter()
            .enumerate()
        {
            vocab.insert(format!("{a}{c}"), json!(257 + k));
            merge_list.push(if k % 2 == 0 {
                json!(format!("{a} {c}"))
            } else {
                json!([a, c])
            });
        }
    }
    json!({
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": false,
                          "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                          "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
                    "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": vocab, "merges": merge_list}
    })
}

pub fn bytes_tokenizer() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| serde_json::to_vec(&bytes_tokenizer_json(false)).unwrap())
}

/// llama2.c's `tokenizer.bin` of the fixtures of `tests/fixtures/llama2c/`.
pub const LLAMA2C_TOKENIZER: &[u8] = include_bytes!("../fixtures/llama2c/tokenizer.bin");
/// The model fixtures: legacy shared, version 1 shared, legacy with its own classifier.
pub const LLAMA2C_MODELS: [&[u8]; 3] = [
    include_bytes!("../fixtures/llama2c/gqa-shared-v0.bin"),
    include_bytes!("../fixtures/llama2c/gqa-shared-v1.bin"),
    include_bytes!("../fixtures/llama2c/mha-separate-v0.bin"),
];

/// The Llama-family fixture folders of `tests/fixtures/llama/` (config.json and
/// model.safetensors; every folder's tokenizer is [`LLAMA_HF_TOKENIZER`]).
pub const LLAMA_HF_FOLDERS: [HfFolder; 4] = [
    HfFolder {
        config: include_bytes!("../fixtures/llama/llama-bias-bf16/config.json"),
        model: include_bytes!("../fixtures/llama/llama-bias-bf16/model.safetensors"),
    },
    HfFolder {
        config: include_bytes!("../fixtures/llama/llama3-rope-f32/config.json"),
        model: include_bytes!("../fixtures/llama/llama3-rope-f32/model.safetensors"),
    },
    HfFolder {
        config: include_bytes!("../fixtures/llama/qwen2-f16/config.json"),
        model: include_bytes!("../fixtures/llama/qwen2-f16/model.safetensors"),
    },
    HfFolder {
        config: include_bytes!("../fixtures/llama/qwen3-bf16/config.json"),
        model: include_bytes!("../fixtures/llama/qwen3-bf16/model.safetensors"),
    },
];

/// The Llama-family fixtures' tokenizer.
pub const LLAMA_HF_TOKENIZER: &[u8] = include_bytes!("../fixtures/llama/tokenizer.json");

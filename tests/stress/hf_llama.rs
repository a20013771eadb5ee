//! The `hf_llama` target: a Hugging Face Llama, Qwen2 or Qwen3 folder whose `config.json`, or
//! its `model.safetensors` header, is edited (fields, rotary scalings, head widths, names,
//! shapes, dtypes, offsets), then loaded, whole and in parts as the page streams it, and, if
//! accepted, run forward and for a few greedy tokens.

use logitlab::limits::MAX_WEIGHT_BYTES;
use logitlab::model::Net;
use serde_json::Value;

use crate::contracts::use_hf_model;
use crate::fixtures::{parsed, LLAMA_HF_FOLDERS, LLAMA_HF_TOKENIZER};
use crate::harness::Verdict::Rejected;
use crate::harness::{check, count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::hf_safetensors::Split;
use crate::inputs::{edit_json, json_bytes};

const KEYS: [&str; 32] = [
    "architectures",
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "max_position_embeddings",
    "rms_norm_eps",
    "hidden_act",
    "tie_word_embeddings",
    "attention_bias",
    "mlp_bias",
    "use_sliding_window",
    "rope_theta",
    "rope_scaling",
    "rope_parameters",
    "rope_type",
    "type",
    "factor",
    "low_freq_factor",
    "high_freq_factor",
    "original_max_position_embeddings",
    "eos_token_id",
    "llama3",
    "linear",
    "Qwen3ForCausalLM",
    "dtype",
    "shape",
    "data_offsets",
];

/// A fixture folder with its config or its weights' header edited, loaded by `Net::from_hf`.
fn run_hf_llama(data: &[u8]) -> Verdict {
    static BASES: std::sync::OnceLock<Vec<(Value, Value, usize)>> = std::sync::OnceLock::new();
    let bases = BASES.get_or_init(|| {
        LLAMA_HF_FOLDERS
            .iter()
            .map(|f| {
                let n = u64::from_le_bytes(f.model[..8].try_into().unwrap()) as usize;
                let header = serde_json::from_slice(&f.model[8..8 + n]).unwrap();
                (parsed(f.config), header, n)
            })
            .collect()
    });
    let mut b = Bytes::new(data);
    let folder = b.u8() as usize % bases.len();
    let (config, header, n) = &bases[folder];
    let model = LLAMA_HF_FOLDERS[folder].model;
    let edit_header = b.u8().is_multiple_of(3);
    let edits = if data.is_empty() { 0 } else { 1 + b.u8() % 4 };
    let (mut config, mut header) = (config.clone(), header.clone());
    for _ in 0..edits {
        let target = if edit_header {
            &mut header
        } else {
            &mut config
        };
        edit_json(target, &mut b, &KEYS, &["", ""]);
    }
    let config = json_bytes(&config, &mut b);
    let model: Vec<u8> = if edit_header {
        let header = serde_json::to_vec(&header).unwrap();
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header);
        out.extend(&model[8 + n..]);
        out
    } else {
        model.to_vec()
    };
    let split = Split::from(&mut b);
    count_from_here();
    given(config.len() + model.len() + LLAMA_HF_TOKENIZER.len());
    let net = Net::from_hf(&[
        ("config.json", &config),
        ("model.safetensors", &model),
        ("tokenizer.json", LLAMA_HF_TOKENIZER),
    ]);
    if let Some(bug) = split.differs(&net, &config, &model, LLAMA_HF_TOKENIZER) {
        return bug;
    }
    match net {
        Err(e) => Rejected(e.to_string()),
        Ok(net) => {
            given(0); // read: what follows is no longer the files' cost
            check!(
                net.config().validate().is_ok(),
                "accepted an invalid config"
            );
            check!(
                net.weight_bytes() <= MAX_WEIGHT_BYTES,
                "holds {} bytes of weights",
                net.weight_bytes()
            );
            let l = net.config().llama().copied();
            let verdict = use_hf_model(&net);
            match verdict {
                Verdict::Ok(s) => Verdict::Ok(format!(
                    "{s} {:?} {}",
                    l.map(|l| (l.variant, l.qkv_bias, l.qk_norm)),
                    net.dtype().name()
                )),
                other => other,
            }
        }
    }
}

fn seeds_hf_llama() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![]];
    for folder in 0..4 {
        seeds.push(vec![folder, 1, 0, 0, 0, 0, 0, 0, 0, 1]); // one config edit
        seeds.push(vec![folder, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // one header edit
    }
    seeds
}

pub const TARGET: Target = Target {
    name: "hf_llama",
    budget: 2_000,
    max_input: 512,
    alloc_cap: 4 * MB,
    // A config may accept a context shorter than the fixed prompt: then `forward` refuses it.
    names: &[
        "config.json: ",
        "model.safetensors: ",
        "tokenizer.json: ",
        "ids must be ",
    ],
    prefix: true,
    seeds: seeds_hf_llama,
    run: run_hf_llama,
};

#[test]
fn stress_hf_llama() {
    stress(&TARGET);
}

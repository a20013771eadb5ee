//! The `hf_config` target: a Hugging Face GPT-2 `config.json`, edited.

use logitlab::limits::MAX_CONFIG_JSON_BYTES;
use logitlab::model::format::hf_gpt2;
use serde_json::Value;

use crate::fixtures::{parsed, HF_FOLDERS};
use crate::harness::Verdict::Rejected;
use crate::harness::{check, count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::inputs::{edit_json, json_bytes};

const CONFIG_KEYS: [&str; 24] = [
    "model_type",
    "architectures",
    "vocab_size",
    "n_positions",
    "n_ctx",
    "n_embd",
    "n_layer",
    "n_head",
    "n_inner",
    "activation_function",
    "layer_norm_epsilon",
    "tie_word_embeddings",
    "scale_attn_weights",
    "scale_attn_by_inverse_layer_idx",
    "add_cross_attention",
    "reorder_and_upcast_attn",
    "bos_token_id",
    "eos_token_id",
    "torch_dtype",
    "dtype",
    "type",
    "GPT2LMHeadModel",
    "",
    "vocab_size ",
];

/// `read_config` on an edited fixture `config.json`; a config it accepts must be valid and
/// within the parameter cap.
pub fn run_hf_config(data: &[u8]) -> Verdict {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    let bases = BASES.get_or_init(|| HF_FOLDERS.iter().map(|f| parsed(f.config)).collect());
    let mut b = Bytes::new(data);
    let folder = b.u8() as usize % bases.len();
    let mut json = bases[folder].clone();
    let edits = if data.is_empty() { 0 } else { 1 + b.u8() % 6 };
    for _ in 0..edits {
        edit_json(&mut json, &mut b, &CONFIG_KEYS, &["", ""]);
    }
    let mut bytes = json_bytes(&json, &mut b);
    if b.u8().is_multiple_of(64) {
        // Padded with spaces to about the size cap: valid JSON, but no config is that large.
        let n = MAX_CONFIG_JSON_BYTES - 2 + b.u8() as usize % 4;
        bytes.resize(n.max(bytes.len()), b' ');
    }
    count_from_here();
    given(bytes.len());
    match hf_gpt2::read_config(&bytes) {
        Err(e) => Rejected(e.to_string()),
        Ok(c) => {
            check!(
                bytes.len() <= MAX_CONFIG_JSON_BYTES,
                "accepted a config.json of {} bytes",
                bytes.len()
            );
            check!(c.validate().is_ok(), "accepted an invalid config {c:?}");
            check!(
                c.parameter_count() <= logitlab::limits::MAX_INFERENCE_PARAMETERS,
                "accepted {} parameters",
                c.parameter_count()
            );
            Verdict::Ok(format!(
                "{:?} tied{} inner{} eps{}",
                c.arch.gelu,
                c.arch.tied_head,
                c.arch.mlp_width.is_some(),
                c.arch.layer_norm_eps == 1e-5
            ))
        }
    }
}

fn seeds_hf_config() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![]];
    for folder in 0..4 {
        seeds.push(vec![folder, 0, 0, 0, 0, 0, 0, 0, 1]); // one edit
    }
    seeds
}

pub const TARGET: Target = Target {
    name: "hf_config",
    budget: 6_000,
    max_input: 512,
    alloc_cap: MB,
    names: &["config.json: "],
    prefix: true,
    seeds: seeds_hf_config,
    run: run_hf_config,
};

#[test]
fn stress_hf_config() {
    stress(&TARGET);
}

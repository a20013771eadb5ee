//! What several test files share: the expectations of the native (`tests/model.rs`) and
//! browser (`tests/web_model.rs`) model tests (the same checkpoint, prompt, options and seed must
//! give the same text on both), and the random logits of `tests/numerics.rs` and
//! `tests/sampling.rs`.

#![allow(dead_code)]

/// The committed default checkpoint.
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../www/models/default.safetensors");

pub const PROMPT: &str = "ROMEO:\n";

/// Greedy (temperature 0) continuation of [`PROMPT`], 80 tokens: depends only on the model's
/// arithmetic, not on the sampler.
pub const GREEDY_80: &str =
    "The state of the state of the state of the state,\nAnd then the strange of the st";

/// Seed and temperature of the sampled continuation below.
pub const SAMPLE_SEED: u64 = 42;
pub const SAMPLE_TEMPERATURE: f32 = 0.8;

/// Sampled continuation of [`PROMPT`], 80 tokens, T = 0.8, seed 42. It depends on the sampler
/// (`crate::sampling`) as well as the model: re-pin it if the sampler's draw changes
/// (`cargo test --release --test model -- --nocapture pinned` prints the actual text).
pub const SAMPLED_80: &str =
    "Thy son drink is a last thousand from thy knave.\n\nSHEPHERD.\nSweet others, and ye";

/// Determinism across platforms: [`DETERMINISM_SEEDS`] texts of [`DETERMINISM_TOKENS`] tokens
/// each from the default model, with options that vary per seed (see [`determinism_settings`]),
/// must be byte-identical natively (`tests/model.rs`) and in headless Chromium
/// (`tests/web_model.rs`). Both compare against [`DETERMINISM_FNV`], the FNV-1a hash of each
/// text's UTF-8 bytes, so equal hashes on both sides mean equal bytes. 300 tokens after the
/// 7-character prompt cross the 128-character context twice, so the KV-cache restart is covered.
pub const DETERMINISM_SEEDS: u64 = 20;
pub const DETERMINISM_TOKENS: usize = 300;

/// Per seed s: both output modes, T from 0.5 to 1.45, top-k, top-p and min-p on and off.
pub fn determinism_settings(
    s: u64,
) -> (
    logitlab::model::OutputMode,
    logitlab::sampling::SampleOptions,
) {
    use logitlab::model::OutputMode;
    let mode = if s.is_multiple_of(2) {
        OutputMode::Logits
    } else {
        OutputMode::LogSoftmax
    };
    let options = logitlab::sampling::SampleOptions {
        temperature: 0.5 + 0.05 * s as f32,
        top_k: [0, 40][(s / 2 % 2) as usize],
        top_p: [1.0, 0.9][(s / 4 % 2) as usize],
        min_p: [0.0, 0.05][(s / 8 % 2) as usize],
        seed: Some(s),
        ..Default::default()
    };
    (mode, options)
}

/// The texts for seeds 0..DETERMINISM_SEEDS.
pub fn determinism_texts() -> Vec<String> {
    let model = logitlab::model::Net::from_safetensors(DEFAULT_MODEL).unwrap();
    (0..DETERMINISM_SEEDS)
        .map(|s| {
            let (mode, options) = determinism_settings(s);
            logitlab::model::Generator::new(&model, PROMPT, mode, options)
                .unwrap()
                .generate(DETERMINISM_TOKENS)
                .unwrap()
        })
        .collect()
}

/// FNV-1a (64-bit) of the bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Checks the texts against the pinned hashes; on a mismatch, prints every actual hash (to
/// re-pin after an intended change of the sampler or the model) and fails.
pub fn check_determinism(texts: &[String]) {
    let actual: Vec<u64> = texts.iter().map(|t| fnv1a(t.as_bytes())).collect();
    for t in texts {
        assert_eq!(t.chars().count(), DETERMINISM_TOKENS);
    }
    if actual != DETERMINISM_FNV {
        let list: Vec<String> = actual.iter().map(|h| format!("0x{h:016x}")).collect();
        panic!(
            "determinism hashes differ; actual: [{}]\nfirst text: {:?}",
            list.join(", "),
            texts[0]
        );
    }
}

/// Pinned from a native run (`cargo test --test model twenty -- --nocapture` prints the actual
/// hashes when they differ). Seed 0's text starts "I have shall be shall be have been a".
pub const DETERMINISM_FNV: [u64; DETERMINISM_SEEDS as usize] = [
    0xe03a0c7e4ff136d6,
    0x8a76e089dfadbb12,
    0xfd71f8d95b8d4c7b,
    0x71d6a6f13fe92294,
    0x1289fea54284170a,
    0x96f99ac60fc307ab,
    0xd67a6439e4a4a446,
    0x82aaaafe46835e6b,
    0x0185d8c119f7a75f,
    0x909e4858ec240f34,
    0x2d15660f8e396d04,
    0xe9f6520b3875f460,
    0xd1a4bbe51660e515,
    0x25fbd0bd459d221e,
    0xf7d991ed7217ea9d,
    0x1ac4db925167120f,
    0xe6793b3dfcc2ab0e,
    0xa5f70d2f924f44b2,
    0x52f157c547e81fd1,
    0xe879ed6c4c2c9a80,
];

/// Random logits with distinct values (so that definitions by rank have one answer).
pub fn random_logits(rng: &mut logitlab::rng::Rng, v: usize, scale: f64) -> Vec<f32> {
    let mut z: Vec<f32> = (0..v).map(|_| (rng.normal() * scale) as f32).collect();
    z.sort_by(|a, b| a.partial_cmp(b).unwrap());
    z.dedup();
    // Shuffle so that rank and id are unrelated.
    for i in (1..z.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        z.swap(i, j);
    }
    z
}

/// A GGUF vocabulary file (llama.cpp's `ggml-vocab-*.gguf`, cut down to a few tokens): the file,
/// and the tokenizer its metadata describes for as many ids as it lists tokens.
pub fn gguf_vocab(
    file: &[u8],
) -> logitlab::Result<(
    logitlab::model::format::gguf::Gguf,
    logitlab::model::format::gguf_tokenizer::GgufTokenizer,
)> {
    use logitlab::model::format::{gguf, gguf_tokenizer};
    let g = gguf::read("vocab.gguf", file)?;
    let v = g
        .header
        .get("tokenizer.ggml.tokens")
        .and_then(|t| t.as_array())
        .map_or(0, |a| a.len());
    let t = gguf_tokenizer::read("vocab.gguf", &g.header, v)?;
    Ok((g, t))
}

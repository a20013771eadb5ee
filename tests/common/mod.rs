//! Expectations shared by the native (`tests/model.rs`) and browser (`tests/web_model.rs`)
//! tests: the same checkpoint, prompt, options and seed must give the same text on both.

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

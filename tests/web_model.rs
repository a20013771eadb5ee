//! The model in a real browser (`wasm-pack test --headless --chrome --release -- --test
//! web_model`): the default checkpoint loads, its KV cache agrees with recomputation, and the
//! same prompt, options and seed give the same text as the native tests (`tests/common`).

#![cfg(target_arch = "wasm32")]

mod common;

use logitlab::data::Corpus;
use logitlab::model::{Config, Generator, Gpt, KvCache, Net, OutputMode};
use logitlab::sampling::SampleOptions;
use logitlab::train::{Pipeline, TrainOptions, Trainer};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn generate(model: &Net, temperature: f32, seed: u64, n: usize) -> String {
    let opts = SampleOptions {
        temperature,
        seed: Some(seed),
        ..SampleOptions::default()
    };
    Generator::new(model, common::PROMPT, OutputMode::Logits, opts)
        .unwrap()
        .generate(n)
        .unwrap()
}

#[wasm_bindgen_test]
fn default_model_generates_the_same_text_as_native() {
    let model = Net::from_safetensors(common::DEFAULT_MODEL).unwrap();
    assert_eq!(model.config().parameter_count(), 820_480);
    assert_eq!(generate(&model, 0.0, 0, 80), common::GREEDY_80);
    assert_eq!(
        generate(&model, common::SAMPLE_TEMPERATURE, common::SAMPLE_SEED, 80),
        common::SAMPLED_80
    );
}

#[wasm_bindgen_test]
fn kv_cache_equals_recomputation_in_wasm() {
    let net = Net::from_safetensors(common::DEFAULT_MODEL).unwrap();
    let ids = net
        .encode("ROMEO:\nBut soft, what light through yonder window breaks?")
        .unwrap();
    let full = net.forward_ids(&ids, OutputMode::LogSoftmax).unwrap();
    let mut cache = KvCache::new();
    let mut inc = net
        .forward_cached(&mut cache, &ids[..10], OutputMode::LogSoftmax)
        .unwrap();
    for &id in &ids[10..] {
        inc.extend(
            net.forward_cached(&mut cache, &[id], OutputMode::LogSoftmax)
                .unwrap(),
        );
    }
    assert_eq!(full, inc);
}

/// The page's forward pass (plain arrays, simd128) against candle's, in the browser.
#[wasm_bindgen_test]
fn net_matches_candle_in_wasm() {
    let model = Gpt::from_safetensors(common::DEFAULT_MODEL).unwrap();
    let net = Net::from_safetensors(common::DEFAULT_MODEL).unwrap();
    let ids = net.encode("ROMEO:\nBut soft, what light").unwrap();
    for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
        let a = model.forward_ids(&ids, mode).unwrap();
        let b = net.forward_ids(&ids, mode).unwrap();
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "{mode:?}: {diff}");
    }
}

#[wasm_bindgen_test]
fn bad_bytes_are_errors_not_panics() {
    let good = common::DEFAULT_MODEL;
    for bytes in [
        &good[..0],
        &good[..10],
        &good[..good.len() / 2],
        b"not a model".as_slice(),
    ] {
        let e = Gpt::from_safetensors(bytes).unwrap_err().to_string();
        assert!(
            e.starts_with("checkpoint: not a valid safetensors file"),
            "{e}"
        );
    }
}

#[wasm_bindgen_test]
fn trainer_runs_in_the_browser() {
    let text = "To be, or not to be, that is the question:\n".repeat(40);
    let config = Config::unit_test(0);
    let opts = TrainOptions {
        batch_size: 4,
        learning_rate: 1e-2,
        warmup_steps: 2,
        total_steps: 100,
        eval_batches: 1,
        ..TrainOptions::default()
    };
    let corpus = || Corpus::from_text(&text).unwrap();
    let mut a = Trainer::new(corpus(), config, Pipeline::CrossEntropyOnLogits, 1, opts).unwrap();
    let mut b = Trainer::new(corpus(), config, Pipeline::NllOnLogSoftmax, 1, opts).unwrap();
    let first = a.step(1).unwrap();
    assert!((first.train_ce - (a.model().config().vocab_size as f32).ln()).abs() < 0.1);
    assert!((b.step(1).unwrap().loss - first.loss).abs() < 1e-5);
    let later = a.step(20).unwrap();
    assert!(later.train_ce < first.train_ce - 0.5, "{first:?} {later:?}");
    let mut wrong = Trainer::new(corpus(), config, Pipeline::NllOnLogits, 1, opts).unwrap();
    assert!(wrong.step(30).unwrap().loss < -1.0);
}

/// The same 20 seeds × 300 tokens as natively (`tests/model.rs`), against the same hashes:
/// native and browser text are byte-identical.
#[wasm_bindgen_test]
fn twenty_seeds_of_300_tokens_match_native() {
    common::check_determinism(&common::determinism_texts());
}

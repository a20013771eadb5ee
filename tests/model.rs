//! Native tests of the model, checkpoint I/O, generation and the training pipelines. Tiny
//! configs only, so they run in seconds.

// Runs natively (`cargo test`) and in headless Chromium (`wasm-pack test`), where `#[test]`
// becomes `#[wasm_bindgen_test]`.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use logitlab::data::Corpus;
use logitlab::model::{Config, Generator, Gpt, Init, KvCache, Net, OutputMode, Vocab};
use logitlab::rng::Rng;
use logitlab::sampling::SampleOptions;
use logitlab::train::{Pipeline, TrainOptions, Trainer};

const TEXT: &str = "To be, or not to be, that is the question:\n\
Whether 'tis nobler in the mind to suffer\n\
The slings and arrows of outrageous fortune,\n\
Or to take arms against a sea of troubles\n\
And by opposing end them. To die: to sleep;\n";

fn corpus() -> Corpus {
    Corpus::from_text(&TEXT.repeat(20)).unwrap()
}

fn vocab() -> Vocab {
    Vocab::from_text(TEXT).unwrap()
}

fn tiny_config() -> Config {
    Config {
        context_length: 16,
        ..Config::unit_test(vocab().len())
    }
}

/// A model with large random weights (std `std`, LayerNorm gains around 1), so that logits vary
/// a lot across positions and a wrong cache or mask would show.
fn random_model(config: Config, seed: u64, std: f64) -> Gpt {
    let mut rng = Rng::new(seed);
    let tensors: HashMap<String, Tensor> = config
        .layout()
        .into_iter()
        .map(|p| {
            let offset = if p.init == Init::Ones { 1.0 } else { 0.0 };
            let data: Vec<f32> = (0..p.elem_count())
                .map(|_| (offset + rng.normal() * std) as f32)
                .collect();
            (
                p.name,
                Tensor::from_vec(data, p.shape, &Device::Cpu).unwrap(),
            )
        })
        .collect();
    Gpt::from_tensors(config, vocab(), &tensors).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn options(batch_size: usize) -> TrainOptions {
    TrainOptions {
        batch_size,
        learning_rate: 1e-2,
        min_learning_rate: 1e-3,
        warmup_steps: 5,
        total_steps: 300,
        eval_batches: 1,
        ..TrainOptions::default()
    }
}

/// The page's forward pass ([`Net`], plain arrays) computes what the candle model computes.
#[test]
fn net_matches_candle() {
    let mut models: Vec<Gpt> = (10..14)
        .map(|seed| random_model(tiny_config(), seed, 0.3))
        .collect();
    // A width that is not a multiple of 4 takes the matmul's one-by-one tail.
    let odd = Config {
        embd: 6,
        heads: 2,
        ..tiny_config()
    };
    models.push(random_model(odd, 14, 0.5));
    models.push(Gpt::from_safetensors(common::DEFAULT_MODEL).unwrap());
    for model in &models {
        let net = model.to_net().unwrap();
        assert_eq!(net.config(), model.config());
        assert_eq!(net.tokenizer(), model.tokenizer());
        let n = model.config().context_length.min(40);
        let ids = model.encode(&TEXT[..n]).unwrap();
        for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
            let candle = model.forward_ids(&ids, mode).unwrap();
            let plain = net.forward_ids(&ids, mode).unwrap();
            let spread = candle.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(
                spread > 1.0,
                "weights too small for a meaningful test: {spread}"
            );
            // Only the order of the sums differs: a few float32 roundings of values up to ~20.
            let diff = max_abs_diff(&candle, &plain);
            assert!(diff < 1e-4, "{mode:?}: Net and candle differ by {diff}");
            assert_eq!(
                net.next_token_values(&ids, mode).unwrap(),
                &plain[plain.len() - model.config().vocab_size..]
            );
        }
    }
}

/// The checkpoint's float16 → f32 conversion is exact: all 65 536 bit patterns against `half`.
#[test]
fn f16_conversion_is_exact() {
    for bits in 0..=u16::MAX {
        let want = half::f16::from_bits(bits).to_f32();
        let got = logitlab::model::format::f16_bits_to_f32(bits);
        if want.is_nan() {
            assert!(got.is_nan(), "{bits:#06x}: {got}");
        } else {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{bits:#06x}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn kv_cache_equals_full_recomputation() {
    let net = random_model(tiny_config(), 1, 0.3).to_net().unwrap();
    let ids = net.encode("Whether 'tis nob").unwrap(); // 16 ids = the whole context
    assert_eq!(ids.len(), 16);
    let v = net.config().vocab_size;
    let full = net.forward_ids(&ids, OutputMode::Logits).unwrap();
    // Prefill 5 tokens at once, then one token at a time.
    let mut cache = KvCache::new();
    let mut incremental = net
        .forward_cached(&mut cache, &ids[..5], OutputMode::Logits)
        .unwrap();
    for &id in &ids[5..] {
        incremental.extend(
            net.forward_cached(&mut cache, &[id], OutputMode::Logits)
                .unwrap(),
        );
    }
    assert_eq!(cache.len(), 16);
    assert_eq!(incremental.len(), 16 * v);
    // Every row is computed the same way however it is fed: not one bit differs.
    assert_eq!(full, incremental);
    // And the cache is full: one more token is a clear error that leaves the cache as it was.
    let err = net
        .forward_cached(&mut cache, &[ids[0]], OutputMode::Logits)
        .unwrap_err();
    assert!(err.to_string().contains("contextLength = 16"), "{err}");
    assert_eq!(cache.len(), 16);
    // A cleared cache starts again at position 0.
    cache.clear();
    let again = net
        .forward_cached(&mut cache, &ids[..3], OutputMode::Logits)
        .unwrap();
    assert_eq!(again, full[..3 * v]);
}

#[test]
fn log_softmax_mode_is_log_softmax_of_logits() {
    let model = random_model(tiny_config(), 2, 0.3);
    let ids = model.encode("To be, or not").unwrap();
    let v = model.config().vocab_size;
    let z = model.forward_ids(&ids, OutputMode::Logits).unwrap();
    let out = model.forward_ids(&ids, OutputMode::LogSoftmax).unwrap();
    for (row_z, row_out) in z.chunks(v).zip(out.chunks(v)) {
        // log_softmax(z) = z − logsumexp(z), in f64 as the reference.
        let max = row_z
            .iter()
            .fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
        let lse = max
            + row_z
                .iter()
                .map(|&x| (x as f64 - max).exp())
                .sum::<f64>()
                .ln();
        for (&zi, &oi) in row_z.iter().zip(row_out) {
            assert!(
                (zi as f64 - lse - oi as f64).abs() < 1e-5,
                "{zi} {lse} {oi}"
            );
        }
        let total: f64 = row_out.iter().map(|&x| (x as f64).exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
    // next_token_values is the last row.
    let last = model
        .next_token_values(&ids, OutputMode::LogSoftmax)
        .unwrap();
    assert_eq!(last.as_slice(), &out[out.len() - v..]);
}

#[test]
fn checkpoint_round_trip_in_f16() {
    let model = random_model(tiny_config(), 3, 0.3);
    let bytes = model.to_safetensors().unwrap();
    // f16: two bytes per parameter plus a small header.
    let params = model.config().parameter_count() as usize;
    assert!(bytes.len() > 2 * params && bytes.len() < 2 * params + 8192);
    let loaded = Gpt::from_safetensors(&bytes).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.tokenizer(), model.tokenizer());
    for ((name, a), (name_b, b)) in model.named_tensors().iter().zip(loaded.named_tensors()) {
        assert_eq!(name, &name_b);
        let a16: Vec<f32> = a
            .to_dtype(DType::F16)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a16, b, "{name} is not the f16 rounding of the original");
    }
    // Same outputs up to f16 rounding of the weights.
    let ids = model.encode("Or to take arms").unwrap();
    let diff = max_abs_diff(
        &model.forward_ids(&ids, OutputMode::Logits).unwrap(),
        &loaded.forward_ids(&ids, OutputMode::Logits).unwrap(),
    );
    assert!(diff < 0.05, "{diff}");
    // Saving the loaded model again gives the same bytes.
    assert_eq!(loaded.to_safetensors().unwrap().len(), bytes.len());
}

fn load_err(bytes: &[u8]) -> String {
    Gpt::from_safetensors(bytes).unwrap_err().to_string()
}

#[test]
fn bad_checkpoints_give_clear_errors() {
    let model = random_model(tiny_config(), 4, 0.1);
    let good = model.to_safetensors().unwrap();
    assert!(load_err(&[]).contains("not a valid safetensors file (0 bytes)"));
    for cut in [3, 8, 100, good.len() / 2, good.len() - 1] {
        let e = load_err(&good[..cut]);
        assert!(
            e.starts_with("checkpoint: not a valid safetensors file"),
            "{cut}: {e}"
        );
    }
    let mut rng = Rng::new(9);
    let random: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
    assert!(load_err(&random).contains("not a valid safetensors file"));
    assert!(load_err(b"{\"hello\": 1}").contains("not a valid safetensors file"));

    // Valid safetensors, but a tensor of the wrong shape.
    let mut tensors: Vec<(String, Tensor)> = model.named_tensors();
    tensors[1].1 = Tensor::zeros((3, 7), DType::F32, &Device::Cpu).unwrap();
    let meta = safetensors::SafeTensors::read_metadata(&good)
        .unwrap()
        .1
        .metadata()
        .clone();
    let wrong_shape = safetensors::serialize(tensors.clone(), meta.clone()).unwrap();
    let e = load_err(&wrong_shape);
    assert!(
        e.contains("\"wpe\" has shape [3, 7], the config needs [16, 32]"),
        "{e}"
    );

    // A missing tensor, a missing metadata field, no metadata at all, another format.
    let missing = safetensors::serialize(tensors[2..].to_vec(), meta.clone()).unwrap();
    assert!(load_err(&missing).contains("missing tensor \"wte\""));
    let record: serde_json::Value =
        serde_json::from_str(&meta.as_ref().unwrap()["logitlab"]).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| {
        let mut r = record.as_object().unwrap().clone();
        edit(&mut r);
        let m = HashMap::from([(
            "logitlab".to_string(),
            serde_json::Value::Object(r).to_string(),
        )]);
        load_err(&safetensors::serialize(model.named_tensors(), Some(m)).unwrap())
    };
    let e = with(&|r| {
        r.remove("heads");
    });
    assert!(e.contains("metadata lacks \"heads\""), "{e}");
    let e = with(&|r| {
        r.insert("format".into(), "gpt2".into());
    });
    assert!(e.contains("format is \"gpt2\""), "{e}");
    let e = with(&|r| {
        r.insert("heads".into(), 3.into());
    });
    assert!(
        e.contains("embd must be a multiple of heads (3), got 32"),
        "{e}"
    );
    let e = with(&|r| {
        r.insert("layers".into(), (-1).into());
    });
    assert!(
        e.contains("\"layers\" = -1 is not a non-negative integer"),
        "{e}"
    );
    let e = load_err(&safetensors::serialize(model.named_tensors(), None).unwrap());
    assert!(e.contains("no \"logitlab\" metadata"), "{e}");
}

#[test]
fn encode_and_decode() {
    let v = vocab();
    let ids = v.encode("To be").unwrap();
    assert_eq!(v.decode(&ids).unwrap(), "To be");
    // Sorted by code point: '\n' < ' ' < ...
    assert_eq!(v.encode("\n ").unwrap(), vec![0, 1]);
    let e = v.encode("To bé").unwrap_err().to_string();
    assert!(
        e.contains("'é' (U+00E9) at position 4 is not in the model's vocabulary"),
        "{e}"
    );
    let e = v.decode(&[0, 999]).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("ids must be token ids in [0, {}), got 999", v.len())
    );
}

#[test]
fn generation_is_deterministic_for_a_seed() {
    let model = random_model(tiny_config(), 5, 0.3);
    let net = model.to_net().unwrap();
    let opts = |seed| SampleOptions {
        temperature: 1.0,
        seed: Some(seed),
        ..SampleOptions::default()
    };
    let run = |seed, mode| {
        Generator::new(&net, "To be", mode, opts(seed))
            .unwrap()
            .generate(40) // crosses the 16-token context: exercises the window restart
            .unwrap()
    };
    let a = run(7, OutputMode::Logits);
    assert_eq!(a.chars().count(), 40);
    assert_eq!(a, run(7, OutputMode::Logits));
    assert_ne!(a, run(8, OutputMode::Logits));

    // Greedy generation: each token is the argmax of a full (uncached) recomputation.
    let greedy = SampleOptions {
        temperature: 0.0,
        seed: Some(1),
        ..SampleOptions::default()
    };
    let mut g = Generator::new(&net, "To be", OutputMode::LogSoftmax, greedy).unwrap();
    // 5 + 11 tokens: all within the 16-token context, where no window restart happens.
    for _ in 0..11 {
        let tokens = g.tokens().to_vec();
        let step = g.next_token().unwrap();
        let values = model
            .next_token_values(&tokens, OutputMode::Logits)
            .unwrap();
        let argmax = (0..values.len()).fold(0, |b, i| if values[i] > values[b] { i } else { b });
        assert_eq!(step.token as usize, argmax);
        assert_eq!(step.sample.probs.len(), values.len());
        assert_eq!(step.text, model.decode(&[step.token]).unwrap());
    }
}

#[test]
fn every_parameter_gets_a_nonzero_gradient() {
    for pipeline in Pipeline::ALL {
        let mut trainer = Trainer::new(corpus(), tiny_config(), pipeline, 1, options(4)).unwrap();
        let grads = trainer.gradients().unwrap();
        assert_eq!(grads.len(), 4 + 12 * tiny_config().layers);
        for (name, g) in grads {
            let g = g.unwrap_or_else(|| panic!("{pipeline:?}: no gradient for {name}"));
            let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{pipeline:?}: {name} |g|² = {norm}"
            );
        }
    }
}

#[test]
fn same_seed_same_init_and_batches_for_every_pipeline() {
    let mut first_ce = Vec::new();
    let mut inits = Vec::new();
    for pipeline in Pipeline::ALL {
        let mut t = Trainer::new(corpus(), tiny_config(), pipeline, 42, options(4)).unwrap();
        inits.push(t.snapshot().unwrap().to_safetensors().unwrap());
        // The true cross-entropy of step 1 is measured before the update: same init and same
        // batch give the same number whatever the pipeline.
        first_ce.push(t.step(1).unwrap().train_ce);
    }
    assert!(inits.iter().all(|b| b == &inits[0]));
    for ce in &first_ce {
        assert!((ce - first_ce[0]).abs() < 1e-5, "{first_ce:?}");
    }
    // At init the model is close to uniform: CE ≈ ln V.
    let ln_v = (vocab().len() as f32).ln();
    assert!(
        (first_ce[0] - ln_v).abs() < 0.1,
        "{} vs {ln_v}",
        first_ce[0]
    );
}

#[test]
fn the_two_correct_pipelines_give_identical_losses() {
    let mut a = Trainer::new(
        corpus(),
        tiny_config(),
        Pipeline::CrossEntropyOnLogits,
        3,
        options(4),
    )
    .unwrap();
    let mut b = Trainer::new(
        corpus(),
        tiny_config(),
        Pipeline::NllOnLogSoftmax,
        3,
        options(4),
    )
    .unwrap();
    for _ in 0..5 {
        let (ra, rb) = (a.step(4).unwrap(), b.step(4).unwrap());
        assert!((ra.loss - rb.loss).abs() < 1e-4, "{ra:?} {rb:?}");
        assert!((ra.val_ce.unwrap() - rb.val_ce.unwrap()).abs() < 1e-4);
        // For a correct pipeline the loss is the true cross-entropy.
        assert!((ra.loss - ra.train_ce).abs() < 1e-6);
    }
    // And it learns: 20 steps at lr 1e-2 take CE well below ln V.
    let r = a.step(1).unwrap();
    assert!(r.train_ce < (vocab().len() as f32).ln() - 0.5, "{r:?}");
}

#[test]
fn nll_on_logits_goes_negative_and_ce_on_softmax_stays_bounded() {
    let mut t = Trainer::new(
        corpus(),
        tiny_config(),
        Pipeline::NllOnLogits,
        1,
        options(8),
    )
    .unwrap();
    let mut steps = 0;
    let mut r = t.step(10).unwrap();
    while r.loss > -1.0 && steps < 300 {
        r = t.step(10).unwrap();
        steps += 10;
    }
    // −z[y] has no lower bound: it passes −1 quickly and keeps going.
    assert!(r.loss < -1.0, "after {steps} steps: {r:?}");
    assert!(r.train_ce > 0.0);

    // cross_entropy(softmax(z)) = logsumexp(p) − p_y ≥ ln(V − 1 + e) − 1 (all mass on y).
    let v = vocab().len() as f32;
    let floor = (v - 1.0 + std::f32::consts::E).ln() - 1.0;
    let mut t = Trainer::new(
        corpus(),
        tiny_config(),
        Pipeline::CrossEntropyOnSoftmax,
        1,
        options(8),
    )
    .unwrap();
    for _ in 0..5 {
        let r = t.step(10).unwrap();
        assert!(
            r.loss >= floor - 1e-4 && r.loss <= v.ln() + 1e-3,
            "{r:?} floor {floor}"
        );
    }
}

#[test]
fn learning_rate_schedule() {
    let o = TrainOptions {
        learning_rate: 1.0,
        min_learning_rate: 0.1,
        warmup_steps: 10,
        total_steps: 110,
        ..TrainOptions::default()
    };
    assert!((o.learning_rate_at(0) - 0.1).abs() < 1e-12);
    assert!((o.learning_rate_at(9) - 1.0).abs() < 1e-12);
    assert!((o.learning_rate_at(10) - 1.0).abs() < 1e-12);
    assert!((o.learning_rate_at(60) - 0.55).abs() < 1e-12); // half-way down the cosine
    assert!((o.learning_rate_at(110) - 0.1).abs() < 1e-12);
    assert!((o.learning_rate_at(500) - 0.1).abs() < 1e-12);
}

#[test]
fn bad_arguments_are_errors() {
    let e = Trainer::new(
        corpus(),
        Config {
            heads: 3,
            ..tiny_config()
        },
        Pipeline::CrossEntropyOnLogits,
        1,
        options(4),
    )
    .err()
    .unwrap()
    .to_string();
    assert_eq!(e, "embd must be a multiple of heads (3), got 32");
    let short = Corpus::from_text("abcdefghij").unwrap();
    let e = Trainer::new(short, tiny_config(), Pipeline::NllOnLogits, 1, options(4))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("needs more than contextLength + 1 = 17"), "{e}");
    assert!(Pipeline::parse("mse")
        .unwrap_err()
        .to_string()
        .starts_with("pipeline must be one of"));
    let model = random_model(tiny_config(), 6, 0.1);
    assert!(model.forward_ids(&[], OutputMode::Logits).is_err());
    assert!(model.forward_ids(&[999], OutputMode::Logits).is_err());
    let net = model.to_net().unwrap();
    assert!(Generator::new(&net, "", OutputMode::Logits, SampleOptions::default()).is_err());
}

/// Generates `n` tokens from the committed default model.
fn default_text(temperature: f32, seed: u64, n: usize) -> String {
    let model = Net::from_safetensors(common::DEFAULT_MODEL).unwrap();
    let opts = SampleOptions {
        temperature,
        seed: Some(seed),
        ..SampleOptions::default()
    };
    Generator::new(&model, common::PROMPT, OutputMode::Logits, opts)
        .unwrap()
        .generate(n)
        .unwrap()
}

#[test]
fn default_model_generates_the_pinned_text() {
    let model = Gpt::from_safetensors(common::DEFAULT_MODEL).unwrap();
    let c = *model.config();
    assert_eq!(
        (c.layers, c.heads, c.embd, c.context_length, c.vocab_size),
        (4, 4, 128, 128, 84)
    );
    assert!(common::DEFAULT_MODEL.len() <= 2_000_000);
    let greedy = default_text(0.0, 0, 80);
    println!("pinned greedy: {greedy:?}");
    assert_eq!(greedy, common::GREEDY_80);
    let sampled = default_text(common::SAMPLE_TEMPERATURE, common::SAMPLE_SEED, 80);
    println!("pinned sampled: {sampled:?}");
    assert_eq!(sampled, common::SAMPLED_80);
}

/// 20 seeds × 300 tokens from the default model, pinned by hash (`tests/common`); the same
/// check runs in headless Chromium in `tests/web_model.rs`, so the two are byte-identical.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn twenty_seeds_of_300_tokens_match_the_pinned_hashes() {
    common::check_determinism(&common::determinism_texts());
}

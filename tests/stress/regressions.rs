//! Regressions: each input a stress run found, or a review found while writing a target, with
//! the fix it needed. The inputs are also in the committed corpus, which every run replays.

use logitlab::data::Corpus;
use logitlab::loss::{loss, LossFunction, LossOptions, Reduction};
use logitlab::model::format::llama2c;
use logitlab::model::tokenizer::SentencePiece;
use logitlab::model::{Arch, Config, Gpt, OutputMode};
use logitlab::train::{Pipeline, TrainOptions, Trainer};

use crate::bpe_tokenizer::run_bpe_tokenizer;
use crate::checkpoint::tiny_model;
use crate::checkpoint_default::run_checkpoint_default;
use crate::fixtures::{LLAMA2C_MODELS, LLAMA2C_TOKENIZER};
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{execute, install_panic_hook, Verdict, LARGEST, MB};
use crate::hf_config::run_hf_config;
use crate::llama2c_model::{self, run_llama2c_model};

fn expect_rejected(v: Verdict, needle: &str) {
    match v {
        Rejected(m) => assert!(m.contains(needle), "{m}"),
        Verdict::Ok(f) => panic!("accepted ({f}), expected an error with {needle:?}"),
        Bug(b) => panic!("bug: {b}"),
    }
}

/// Found: the shipped checkpoint with 0xFF bytes written over a weight (an f16 NaN) loaded, and
/// `forward` returned NaN. Fixed: the loader rejects non-finite weights, naming the tensor.
#[test]
fn regression_checkpoint_with_a_nan_weight_is_refused() {
    expect_rejected(
        run_checkpoint_default(&[0x39, 0xff, 0xff, 0xff, 0xff]),
        "weights must be finite",
    );
}

/// Found: a checkpoint whose metadata vocabulary lists a character twice failed with
/// "vocabulary lists the character 'B' twice", not saying it was about the checkpoint. Fixed:
/// "checkpoint: metadata \"vocab\": ...".
#[test]
fn regression_checkpoint_with_a_duplicate_character_names_the_checkpoint() {
    expect_rejected(
        run_checkpoint_default(&[0x24, 0x42]),
        "checkpoint: metadata \"vocab\": vocabulary lists the character 'B' twice",
    );
}

/// Finite weights can still overflow f32 in the forward pass: the output is then an error that
/// says so, never NaN logits for the sampler.
#[test]
fn regression_forward_overflow_is_an_error_not_nan() {
    let model = tiny_model();
    let tensors: std::collections::HashMap<String, candle_core::Tensor> = model
        .named_tensors()
        .into_iter()
        .map(|(n, t)| (n, (t.ones_like().unwrap() * 3e38).unwrap()))
        .collect();
    let huge = Gpt::from_tensors(*model.config(), model.tokenizer().clone(), &tensors).unwrap();
    let candle = huge.forward_ids(&[0, 1], OutputMode::Logits);
    let plain = huge
        .to_net()
        .unwrap()
        .forward_ids(&[0, 1], OutputMode::Logits); // the page's
    for e in [candle.unwrap_err(), plain.unwrap_err()] {
        let e = e.to_string();
        assert!(
            e.starts_with("model: the forward pass overflowed f32"),
            "{e}"
        );
    }
}

/// Found: nll with +∞ at one row's target and −∞ at another's returned loss = NaN (∞ − ∞).
/// Fixed: an error naming `values`.
#[test]
fn regression_nll_with_plus_and_minus_infinity_is_an_error() {
    let mut o = LossOptions::new(1);
    o.function = LossFunction::Nll;
    let e = loss(&[f32::INFINITY, f32::NEG_INFINITY], &[0, 0], &o)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("values hold +Infinity"), "{e}");
    o.reduction = Reduction::Sum;
    assert!(loss(&[f32::INFINITY, f32::NEG_INFINITY], &[0, 0], &o).is_err());
    // One infinity alone is a well-defined (infinite) loss.
    assert_eq!(
        loss(&[f32::NEG_INFINITY, 1.0], &[0, 0], &o).unwrap().loss,
        f32::INFINITY
    );
}

/// Found: empty pasted text, or one repeated character, failed with "vocabulary must be at least
/// 2 distinct characters", naming no argument of `new Trainer(text, ...)`. Fixed: the error
/// names `text` and counts its characters.
#[test]
fn regression_empty_and_single_character_text_name_the_text() {
    for (text, got) in [
        ("", "0 characters, 0 distinct"),
        ("aaaa", "4 characters, 1 distinct"),
        ("😀", "1 characters, 1 distinct"),
    ] {
        let e = Corpus::from_text(text).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("text must be a text with 2 to 262144 distinct characters, got {got}")
        );
    }
    // NUL and non-BMP characters are ordinary characters.
    let c = Corpus::from_text(&"\0😀a\n".repeat(10)).unwrap();
    assert_eq!(
        c.tokenizer.chars().unwrap().chars(),
        &['\0', '\n', 'a', '😀']
    );
}

/// Found by review, and what the browser junk test would hit: a junk config asked the trainer
/// for ~1.3e10 parameters (a 50 GB allocation: an abort in wasm, which also wrapped the count
/// around its 32-bit usize), and a huge batch for ~1e12 activations. Fixed: caps checked before
/// anything is allocated.
#[test]
fn regression_trainer_refuses_huge_configs_before_allocating() {
    install_panic_hook();
    let corpus = || Corpus::from_text(&"To be, or not to be.\n".repeat(400)).unwrap();
    let huge = Config {
        vocab_size: 0,
        context_length: 4096,
        layers: 64,
        heads: 64,
        embd: 4096,
        arch: Arch::LAB,
    };
    LARGEST.with(|l| l.set(0));
    let e = Trainer::new(
        corpus(),
        huge,
        Pipeline::NllOnLogits,
        1,
        TrainOptions::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.starts_with("config: 12"), "{e}");
    assert!(e.ends_with("training takes at most 16777216"), "{e}");
    assert!(LARGEST.with(|l| l.get()) < 4 * MB);
    let wide = Config {
        context_length: 4096,
        ..Config::unit_test(0)
    };
    let options = TrainOptions {
        batch_size: 4096,
        ..TrainOptions::default()
    };
    let e = Trainer::new(corpus(), wide, Pipeline::NllOnLogits, 1, options)
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("batchSize × contextLength too large"), "{e}");
    // The default model's own training stays within the caps.
    let default = Config::preset("medium", 84).unwrap();
    assert!(default.parameter_count() <= logitlab::limits::MAX_TRAIN_PARAMETERS as u64);
    assert!(
        logitlab::train::activation_estimate(&default, 32)
            <= logitlab::limits::MAX_TRAIN_ACTIVATIONS as u64
    );
}

/// Found by review: `Trainer.step(n)` took a u32, so step(-1) in JS became 4 294 967 295 steps
/// (the tab froze). The wasm binding now takes a number and both layers cap n.
#[test]
fn regression_step_count_is_capped() {
    let corpus = Corpus::from_text(&"To be, or not to be.\n".repeat(40)).unwrap();
    let config = Config {
        context_length: 8,
        embd: 8,
        ..Config::unit_test(0)
    };
    let options = TrainOptions {
        batch_size: 2,
        eval_batches: 0,
        ..TrainOptions::default()
    };
    let mut t = Trainer::new(corpus, config, Pipeline::CrossEntropyOnLogits, 1, options).unwrap();
    for n in [0, 10_001, usize::MAX] {
        let e = t.step(n).unwrap_err().to_string();
        assert_eq!(e, format!("n must be an integer in [1, 10000], got {n}"));
    }
    assert_eq!(t.step(1).unwrap().step, 1);
}

/// Found by the `hf_config` target's size check: a `config.json` padded with spaces to 1 MiB + 1
/// byte loaded, because `read_config` capped it at 32 MiB (the `tokenizer.json` cap), while
/// `src/limits.rs` and `Model.fromFiles` say 1 MiB. Fixed: `read_config` checks
/// `MAX_CONFIG_JSON_BYTES`, so the native reader and the page agree.
#[test]
fn regression_config_json_over_one_mib_is_refused() {
    use logitlab::limits::MAX_CONFIG_JSON_BYTES;
    use logitlab::model::format::hf_gpt2::read_config;
    let mut config = include_bytes!("../fixtures/hf/f32-tied-gelu_new/config.json").to_vec();
    config.resize(MAX_CONFIG_JSON_BYTES + 1, b' ');
    assert_eq!(
        read_config(&config).unwrap_err().to_string(),
        "config.json: 1048577 bytes; at most 1048576 (1 MiB) are accepted"
    );
    config.truncate(MAX_CONFIG_JSON_BYTES);
    assert!(read_config(&config).is_ok());
    // The target's input: the bf16 folder's config, padded to 1 MiB + 1.
    expect_rejected(
        run_hf_config(&[0x40, 0x00, 0x57, 0x80]),
        "config.json: 1048577 bytes; at most 1048576 (1 MiB) are accepted",
    );
}

/// Found by the `hf_config` and `bpe_tokenizer` targets: an error quoted the wrong value whole,
/// so `"normalizer": <a copy of the whole file>` gave a 145 679-byte message (with GPT-2's
/// 1.4 MB tokenizer.json, a message of megabytes for the page to show), and a word of a text
/// that the vocabulary cannot encode was quoted whole. Fixed: every value, token, tensor name,
/// shape and word an error quotes is cut to 60 characters and `…` (`logitlab::error::brief`).
#[test]
fn regression_errors_quote_at_most_a_brief_value() {
    use logitlab::model::format::hf_gpt2::read_config;
    use logitlab::model::ByteLevelBpe;
    let tokenizer = include_bytes!("../fixtures/hf/tokenizer.json");
    let mut json: serde_json::Value = serde_json::from_slice(tokenizer).unwrap();
    // 200 tokens of the vocabulary as the normalizer: quoted, cut short.
    let part: serde_json::Map<String, serde_json::Value> = json["model"]["vocab"]
        .as_object()
        .unwrap()
        .iter()
        .take(200)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json["normalizer"] = part.into();
    let e = ByteLevelBpe::from_json(json.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("tokenizer.json: normalizer is {\""), "{e}");
    assert!(e.ends_with("…; a component needs a \"type\""), "{e}");
    assert!(e.len() < 200, "{} bytes", e.len());
    // The whole file as the normalizer: refused before it is built as JSON values (a copy of
    // a large tokenizer.json would take ten times its size).
    let mut json: serde_json::Value = serde_json::from_slice(tokenizer).unwrap();
    json["normalizer"] = json.clone();
    let e = ByteLevelBpe::from_json(json.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "tokenizer.json: normalizer is too large: its JSON values would take more than twice \
         the file's size"
    );
    let config = include_bytes!("../fixtures/hf/f32-tied-gelu_new/config.json");
    let mut json: serde_json::Value = serde_json::from_slice(config).unwrap();
    json["n_layer"] = json.clone();
    let e = read_config(json.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("config.json: n_layer is {\""), "{e}");
    assert!(e.ends_with("…, not a non-negative integer"), "{e}");
    // The targets' inputs: the whole file copied into normalizer (now refused as too large
    // before it is built), and into n_layer.
    expect_rejected(
        run_bpe_tokenizer(&[0xe0, 0x0a]),
        "tokenizer.json: normalizer is too large",
    );
    expect_rejected(
        run_hf_config(&[0x42, 0x0a, 0x70, 0x5b, 0x00]),
        "config.json: n_layer is {\"",
    );
    // A long word that the vocabulary cannot encode (it lacks the byte 'x').
    let mut json: serde_json::Value = serde_json::from_slice(tokenizer).unwrap();
    let vocab = json["model"]["vocab"].as_object_mut().unwrap();
    let id = vocab.remove("x").unwrap();
    vocab.insert("no x".into(), id);
    let merges = json["model"]["merges"].as_array_mut().unwrap();
    merges.retain(|m| !m.to_string().contains('x'));
    let t = ByteLevelBpe::from_json(json.to_string().as_bytes()).unwrap();
    let e = t.encode(&"x".repeat(100_000)).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "text: byte 0x78 of \"{}… has no token in tokenizer.json's model.vocab",
            "x".repeat(59)
        )
    );
}

/// Found by the `llama2c_model` target: a `model.bin` with a NaN or ±∞ written over a weight
/// loaded (the HF and logitlab readers refuse them), so the forward pass failed later, or, for a
/// row the prompt never reads, a model with a NaN weight ran. Fixed: `llama2c::read` refuses
/// non-finite weights, naming the file, the tensor (run.c's name) and the layer.
#[test]
fn regression_llama2c_non_finite_weight_is_refused() {
    let with = |fixture: usize, at: usize, x: f32| {
        let mut bytes = LLAMA2C_MODELS[fixture].to_vec();
        bytes[at..at + 4].copy_from_slice(&x.to_le_bytes());
        llama2c::read(&bytes, LLAMA2C_TOKENIZER)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        with(0, 28, f32::NAN),
        "model.bin: tensor token_embedding_table holds NaN at index 0; weights must be finite"
    );
    // Version 1: rms_att, rms_ffn (2 × 48 each), rms_final (48), the embedding (512 × 48), wq
    // of layer 0 (48 × 48), then wq of layer 1.
    let wq1 = 256 + 4 * (96 + 96 + 48 + 512 * 48 + 48 * 48);
    assert_eq!(
        with(1, wq1 + 4 * 5, f32::INFINITY),
        "model.bin: tensor wq of layer 1 holds inf at index 5; weights must be finite"
    );
    let last = LLAMA2C_MODELS[2].len() - 4;
    assert_eq!(
        with(2, last, f32::NEG_INFINITY),
        "model.bin: tensor wcls holds -inf at index 24575; weights must be finite"
    );
    // The target's inputs: junk floats (NaN) in the data.
    expect_rejected(
        run_llama2c_model(&[0x7e]),
        "model.bin: tensor wq of layer 1 holds NaN at index 212",
    );
    expect_rejected(
        run_llama2c_model(&[0xef, 0x0a, 0xe2, 0x80, 0xae, 0xbf, 0xbd, 0xbd]),
        "model.bin: tensor wv of layer 1 holds NaN at index 2084",
    );
}

/// Found by the `llama2c_model` target once it also fed the file in parts with its length
/// unknown (as a download without Content-Length reaches the page): the reader allocated each
/// tensor whole at its first byte, so a short file whose header claimed a large embedding took
/// 8 MiB for a few hundred bytes. Fixed: with the length unknown a tensor grows with the bytes
/// that arrive (at most twice them); with it known, the header is checked against it first.
#[test]
fn regression_llama2c_stream_of_unknown_length_allocates_what_it_received() {
    install_panic_hook();
    let input = [
        0x73, 0x0b, 0x99, 0xf3, 0xf1, 0x84, 0x8c, 0xaf, 0xa4, 0xd4, 0x1f, 0x03, 0xfc, 0xfc, 0x74,
        0x1b, 0x10, 0xe5, 0xea, 0x7d, 0xfa,
    ];
    let t = &llama2c_model::TARGET;
    assert!(execute(t, &input).is_ok(), "{:?}", execute(t, &input));
    // Directly: a header claiming a 512 × 4 096 embedding (8 MiB), then 1 000 bytes.
    let header = [4096i32, 4096, 1, 32, 32, 512, 256];
    let mut bytes: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.resize(1000, 0);
    LARGEST.with(|l| l.set(0));
    let mut r = llama2c::Reader::new(None, LLAMA2C_TOKENIZER).unwrap();
    r.push(&bytes).unwrap();
    assert!(LARGEST.with(|l| l.get()) <= 1 << 16);
    let e = r.finish().unwrap_err().to_string();
    assert!(
        e.starts_with("model.bin: has 1000 bytes, but its header"),
        "{e}"
    );
}

/// Found by review while writing the `sentencepiece` target: `tokenizer.bin`'s reader computed
/// `at + 8 + length` with a length of up to u32::MAX (allowed by a max_token_length of
/// u32::MAX), which overflows wasm32's 32-bit usize: a panic in a debug build, a wrapped range
/// in release. Fixed: the piece is taken as `data[at + 8..].get(..length)`, which cannot
/// overflow; the error names the file, the token and its length.
#[test]
fn regression_tokenizer_bin_huge_length_is_an_error() {
    let mut bytes = u32::MAX.to_le_bytes().to_vec(); // max_token_length
    bytes.extend(0f32.to_le_bytes());
    bytes.extend(u32::MAX.to_le_bytes()); // the length of token 0
    bytes.extend(b"abc");
    assert_eq!(
        SentencePiece::from_bytes(&bytes).unwrap_err().to_string(),
        "tokenizer.bin: token 0 has length 4294967295 but only 3 bytes are left"
    );
}

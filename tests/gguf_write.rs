//! Writing GGUF files (`format::gguf_write::to_gguf`, `Model.toGguf` in JS):
//!
//! - every GGUF fixture of `tests/fixtures/gguf/` (llama F32, qwen2 F16 and Q4_0, qwen3 BF16
//!   and Q4_K_M), and the llama one quantised here to Q8_0 and Q4_0, written and read back:
//!   the same config, tokenizer, end ids and chat template, every weight bit for bit, and the
//!   same logits bit for bit at every position of the fixture's 128 ids; written twice, the
//!   same bytes;
//! - llama.cpp loads the files the writer makes and runs them: `tests/fixtures/gguf_write/`
//!   holds three of them (the llama model quantised to Q8_0, the qwen2 F16 model, the qwen3
//!   BF16 model quantised to Q4_0), which this test checks are the writer's very bytes, and
//!   `make_gguf_write_fixtures.py` recorded llama.cpp's 32 greedy ids after a prompt with each
//!   (llama-cpp-python, one thread, f32 KV cache), and its top-1 ids teacher-forced over 128
//!   ids; ours, on the same file, are the same greedy ids and agree at ≥ 99% of the 128;
//! - what cannot be written is refused by name (`model.ggufExport`): a GPT-2-family model, a
//!   model whose tokenizer has no GGUF form (a Hugging Face folder's), a tokenizer metadata
//!   whose vocabulary disagrees with the embedding.
//!
//! Run with `LOGITLAB_WRITE_GGUF_FIXTURES=1` to rewrite the three files after a change to the
//! writer (then rerun the script).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::model::format::gguf_write::to_gguf;
use logitlab::model::quant::QType;
use logitlab::model::{KvCache, Net, OutputMode};

const LLAMA_F32_JSON: &str = include_str!("fixtures/gguf/llama-f32.json");

fn fixtures() -> [(&'static str, &'static [u8]); 5] {
    [
        (
            "llama-f32.gguf",
            include_bytes!("fixtures/gguf/llama-f32.gguf"),
        ),
        (
            "qwen2-f16.gguf",
            include_bytes!("fixtures/gguf/qwen2-f16.gguf"),
        ),
        (
            "qwen2-q4_0.gguf",
            include_bytes!("fixtures/gguf/qwen2-q4_0.gguf"),
        ),
        (
            "qwen3-bf16.gguf",
            include_bytes!("fixtures/gguf/qwen3-bf16.gguf"),
        ),
        (
            "qwen3-q4_k_m.gguf",
            include_bytes!("fixtures/gguf/qwen3-q4_k_m.gguf"),
        ),
    ]
}

fn ids() -> Vec<u32> {
    let meta: serde_json::Value = serde_json::from_str(LLAMA_F32_JSON).unwrap();
    serde_json::from_value(meta["ids"].clone()).unwrap()
}

/// `net` written and read back is the same model, bit for bit.
fn assert_round_trip(name: &str, net: &Net, ids: &[u32]) {
    let bytes = to_gguf(net).unwrap();
    assert_eq!(bytes, to_gguf(net).unwrap(), "{name}: not deterministic");
    let back = Net::from_gguf("back.gguf", &bytes).unwrap();
    assert_eq!(back.config(), net.config(), "{name}");
    assert_eq!(back.tensor_types(), net.tensor_types(), "{name}");
    assert_eq!(back.weight_bytes(), net.weight_bytes(), "{name}");
    let layout = net.config().layout();
    for ((p, a), b) in layout.iter().zip(net.tensors()).zip(back.tensors()) {
        let same = a.len() == b.len()
            && a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{name}: {} differs after the round trip", p.name);
    }
    assert_eq!(back.end_ids(), net.end_ids(), "{name}");
    assert_eq!(
        back.chat_template().map(|c| c.source().to_string()),
        net.chat_template().map(|c| c.source().to_string()),
        "{name}"
    );
    assert_eq!(back.gguf_vocab(), net.gguf_vocab(), "{name}");
    let text = "the ant, 2024 — Xin chào 🐜";
    assert_eq!(
        back.prompt_ids(text).unwrap(),
        net.prompt_ids(text).unwrap(),
        "{name}"
    );
    let v = net.config().vocab_size;
    let ids: Vec<u32> = ids.iter().map(|&i| i % v as u32).collect();
    let z = net.forward_ids(&ids, OutputMode::Logits).unwrap();
    let zb = back.forward_ids(&ids, OutputMode::Logits).unwrap();
    assert_eq!(z.len(), zb.len());
    let same = z.iter().zip(&zb).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same, "{name}: the logits differ after the round trip");
}

#[test]
fn every_fixture_reads_back_bit_for_bit() {
    let ids = ids();
    for (name, bytes) in fixtures() {
        let net = Net::from_gguf(name, bytes).unwrap();
        assert_round_trip(name, &net, &ids);
    }
}

#[test]
fn a_quantised_copy_reads_back_bit_for_bit() {
    let ids = ids();
    let net = Net::from_gguf("llama-f32.gguf", fixtures()[0].1).unwrap();
    for qtype in [QType::Q8_0, QType::Q4_0] {
        let q = net.quantized(qtype).unwrap();
        assert_round_trip(qtype.name(), &q, &ids);
    }
    // Q4_K on a model whose rows divide into its blocks of 256.
    let net = Net::from_gguf("qwen3-bf16.gguf", fixtures()[3].1).unwrap();
    let q = net.quantized(QType::Q4K).unwrap();
    assert_round_trip("qwen3 q4_K", &q, &ids);
}

/// The files llama.cpp ran: (file, the fixture it is written from, the type it is quantised
/// to first).
fn written() -> [(&'static str, &'static [u8], usize, Option<QType>); 3] {
    [
        (
            "llama-q8_0",
            include_bytes!("fixtures/gguf_write/llama-q8_0.gguf"),
            0,
            Some(QType::Q8_0),
        ),
        (
            "qwen2-f16",
            include_bytes!("fixtures/gguf_write/qwen2-f16.gguf"),
            1,
            None,
        ),
        (
            "qwen3-q4_0",
            include_bytes!("fixtures/gguf_write/qwen3-q4_0.gguf"),
            3,
            Some(QType::Q4_0),
        ),
    ]
}

#[test]
fn llama_cpp_runs_the_written_files_greedily_as_we_do() {
    let expected: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/gguf_write/expected.json")).unwrap();
    for (name, file, source, qtype) in written() {
        let (source_name, source_bytes) = fixtures()[source];
        let mut net = Net::from_gguf(source_name, source_bytes).unwrap();
        if let Some(q) = qtype {
            net = net.quantized(q).unwrap();
        }
        let bytes = to_gguf(&net).unwrap();
        #[cfg(not(target_arch = "wasm32"))]
        if std::env::var_os("LOGITLAB_WRITE_GGUF_FIXTURES").is_some() {
            let path = format!(
                "{}/tests/fixtures/gguf_write/{name}.gguf",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::write(path, &bytes).unwrap();
            continue;
        }
        assert!(
            bytes == file,
            "{name}: the writer no longer writes the file llama.cpp ran"
        );
        let want = &expected[name];
        let prompt: Vec<u32> = serde_json::from_value(want["prompt"].clone()).unwrap();
        let theirs: Vec<u32> = serde_json::from_value(want["greedy"].clone()).unwrap();
        assert_eq!(theirs.len(), 32, "{name}");
        let net = Net::from_gguf(name, file).unwrap();
        let v = net.config().vocab_size;
        let mut cache = KvCache::new();
        let mut pending = prompt.clone();
        let mut ours = Vec::new();
        for _ in 0..theirs.len() {
            let z = net
                .forward_cached(&mut cache, &pending, OutputMode::Logits)
                .unwrap();
            let last = &z[z.len() - v..];
            let best = (0..v).fold(0, |b, j| if last[j] > last[b] { j } else { b }) as u32;
            ours.push(best);
            pending = vec![best];
        }
        assert_eq!(ours, theirs, "{name}: greedy ids differ from llama.cpp's");
        // Teacher-forced over 128 ids, the top-1 id at ≥ 99% of the positions (llama.cpp
        // quantises the activations of an F16 matmul to F16, where we keep f32).
        let forced: Vec<u32> = serde_json::from_value(want["ids"].clone()).unwrap();
        let top1: Vec<usize> = serde_json::from_value(want["top1"].clone()).unwrap();
        assert_eq!((forced.len(), top1.len()), (128, 128), "{name}");
        let z = net.forward_ids(&forced, OutputMode::Logits).unwrap();
        let agree = z
            .chunks_exact(v)
            .zip(&top1)
            .filter(|(row, &t)| (0..v).fold(0, |b, j| if row[j] > row[b] { j } else { b }) == t)
            .count();
        println!("{name}: greedy ids equal; top-1 agrees at {agree}/128");
        assert!(
            agree * 100 >= 99 * 128,
            "{name}: top-1 agrees at {agree}/128"
        );
    }
}

#[test]
fn what_cannot_be_written_is_refused_by_name() {
    let code = |e: &logitlab::Error| e.code().map(|c| c.name());
    // A GPT-2-family model.
    let gpt = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let e = to_gguf(&gpt).unwrap_err();
    assert_eq!(code(&e), Some("model.ggufExport"), "{e}");
    assert!(e.to_string().contains("GPT-2"), "{e}");
    // A Hugging Face folder: its tokenizer.json has no GGUF form here.
    let dir = "fixtures/llama/qwen2-f32";
    let files: Vec<(&str, &[u8])> = vec![
        (
            "config.json",
            include_bytes!("fixtures/llama/qwen2-f32/config.json"),
        ),
        (
            "model.safetensors",
            include_bytes!("fixtures/llama/qwen2-f32/model.safetensors"),
        ),
        (
            "tokenizer.json",
            include_bytes!("fixtures/llama/qwen2-f32/tokenizer.json"),
        ),
    ];
    let hf = Net::from_hf(&files).unwrap();
    let e = to_gguf(&hf).unwrap_err();
    assert_eq!(code(&e), Some("model.ggufExport"), "{dir}: {e}");
    assert!(e.to_string().contains("tokenizer"), "{e}");
    // Tokenizer metadata of another vocabulary than the embedding's.
    let llama = Net::from_gguf("llama-f32.gguf", fixtures()[0].1).unwrap();
    let qwen = Net::from_gguf("qwen2-f16.gguf", fixtures()[1].1).unwrap();
    let mixed = llama.with_gguf_vocab(qwen.gguf_vocab().map(<[_]>::to_vec));
    let e = to_gguf(&mixed).unwrap_err();
    assert_eq!(code(&e), Some("model.ggufExport"), "{e}");
    assert!(e.to_string().contains("264 tokens"), "{e}");
}

//! llama2.c checkpoints (`model.bin`, legacy and version 1, and `tokenizer.bin`) against the
//! reference fixtures of `tests/fixtures/llama2c/`, made by
//! `tests/fixtures/make_llama2c_fixtures.py` with transformers' `LlamaForCausalLM` and a
//! SentencePiece BPE. Every file is included with `include_bytes!`, so the same tests also run
//! in the browser.

// Runs natively (`cargo test`) and in headless Chromium (`wasm-pack test`), where `#[test]`
// becomes `#[wasm_bindgen_test]`.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::model::format::llama2c;
use logitlab::model::{Family, Generator, KvCache, Llama, Net, OutputMode};
use logitlab::sampling::SampleOptions;
use serde_json::Value;

const TOKENIZER_BIN: &[u8] = include_bytes!("fixtures/llama2c/tokenizer.bin");
const ENCODE_CASES: &str = include_str!("fixtures/llama2c/encode_cases.json");
const GQA_SHARED_V0: &[u8] = include_bytes!("fixtures/llama2c/gqa-shared-v0.bin");
const GQA_SHARED_V1: &[u8] = include_bytes!("fixtures/llama2c/gqa-shared-v1.bin");
const MHA_SEPARATE_V0: &[u8] = include_bytes!("fixtures/llama2c/mha-separate-v0.bin");
const GQA_SHARED_EXPECTED: &str = include_str!("fixtures/llama2c/gqa-shared-v0.json");
const MHA_SEPARATE_EXPECTED: &str = include_str!("fixtures/llama2c/mha-separate-v0.json");
/// The smallest vocabulary: 32 pieces written by hand, no byte pieces.
const TOKENIZER32_BIN: &[u8] = include_bytes!("fixtures/llama2c/tokenizer32.bin");
const ENCODE_CASES32: &str = include_str!("fixtures/llama2c/encode_cases32.json");
const VOCAB32_V0: &[u8] = include_bytes!("fixtures/llama2c/vocab32-gqa-separate-v0.bin");
const VOCAB32_EXPECTED: &str = include_str!("fixtures/llama2c/vocab32-gqa-separate-v0.json");

/// One model file of the fixtures and what it must read as.
struct Fixture {
    name: &'static str,
    bin: &'static [u8],
    tokenizer: &'static [u8],
    /// The text whose BOS + encoding are the expectations' `prompt_ids`.
    prompt: &'static str,
    vocab: usize,
    expected: &'static str,
    kv_heads: usize,
    shared: bool,
    version: u32,
}

const MODELS: [Fixture; 4] = [
    Fixture {
        name: "gqa-shared-v0",
        tokenizer: TOKENIZER_BIN,
        prompt: PROMPT,
        vocab: 512,
        bin: GQA_SHARED_V0,
        expected: GQA_SHARED_EXPECTED,
        kv_heads: 2,
        shared: true,
        version: 0,
    },
    Fixture {
        name: "gqa-shared-v1",
        tokenizer: TOKENIZER_BIN,
        prompt: PROMPT,
        vocab: 512,
        bin: GQA_SHARED_V1,
        expected: GQA_SHARED_EXPECTED,
        kv_heads: 2,
        shared: true,
        version: 1,
    },
    Fixture {
        name: "mha-separate-v0",
        tokenizer: TOKENIZER_BIN,
        prompt: PROMPT,
        vocab: 512,
        bin: MHA_SEPARATE_V0,
        expected: MHA_SEPARATE_EXPECTED,
        kv_heads: 6,
        shared: false,
        version: 0,
    },
    Fixture {
        name: "vocab32-gqa-separate-v0",
        bin: VOCAB32_V0,
        tokenizer: TOKENIZER32_BIN,
        prompt: PROMPT32,
        vocab: 32,
        expected: VOCAB32_EXPECTED,
        kv_heads: 2,
        shared: false,
        version: 0,
    },
];

fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as u32)
        .collect()
}

/// The header fields are read as written, into a Llama config.
#[test]
fn headers_give_the_llama_config() {
    for Fixture {
        name,
        bin,
        tokenizer,
        vocab,
        kv_heads,
        shared,
        version,
        ..
    } in MODELS
    {
        let c = llama2c::read(bin, tokenizer).unwrap();
        assert_eq!(c.version, version, "{name}");
        let config = c.config;
        assert_eq!(
            (config.embd, config.layers, config.heads, config.vocab_size),
            (48, 2, 6, vocab),
            "{name}"
        );
        assert_eq!(config.context_length, 96, "{name}");
        assert_eq!(config.mlp_width(), 128, "{name}");
        assert_eq!(
            config.arch.family,
            Family::Llama(Llama::llama2c(kv_heads, 8)),
            "{name}"
        );
        assert_eq!(config.arch.tied_head, shared, "{name}");
    }
    // The same weights in both layouts read to the same tensors.
    let v0 = llama2c::read(GQA_SHARED_V0, TOKENIZER_BIN).unwrap();
    let v1 = llama2c::read(GQA_SHARED_V1, TOKENIZER_BIN).unwrap();
    assert_eq!(v0.tensors, v1.tensors);
}

/// Logits within 1e-4 of transformers at every prompt position, and the 64 greedy ids of
/// transformers (with its KV cache) from ours, fed one token at a time.
#[test]
fn logits_and_greedy_ids_match_transformers() {
    for Fixture {
        name,
        bin,
        tokenizer,
        prompt: text,
        expected,
        ..
    } in MODELS
    {
        let net = Net::from_llama2c(bin, tokenizer).unwrap();
        let expected: Value = serde_json::from_str(expected).unwrap();
        let prompt = ids_of(&expected["prompt_ids"]);
        let v = net.config().vocab_size;
        let z = net.forward_ids(&prompt, OutputMode::Logits).unwrap();
        let rows = expected["logits"].as_array().unwrap();
        assert_eq!(rows.len(), prompt.len(), "{name}");
        let mut max_diff = 0f32;
        for (t, row) in rows.iter().enumerate() {
            for (j, want) in row.as_array().unwrap().iter().enumerate() {
                let got = z[t * v + j];
                max_diff = max_diff.max((got - want.as_f64().unwrap() as f32).abs());
            }
        }
        println!(
            "{name}: max |Δlogit| = {max_diff:e} over {} positions",
            prompt.len()
        );
        assert!(max_diff < 1e-4, "{name}: max |Δlogit| = {max_diff}");

        let greedy = ids_of(&expected["greedy_ids"]);
        let argmax = |row: &[f32]| {
            (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best }) as u32
        };
        let mut cache = KvCache::new();
        let z = net
            .forward_cached(&mut cache, &prompt, OutputMode::Logits)
            .unwrap();
        let mut next = argmax(&z[z.len() - v..]);
        let mut got = Vec::new();
        for _ in 0..greedy.len() {
            got.push(next);
            let z = net
                .forward_cached(&mut cache, &[next], OutputMode::Logits)
                .unwrap();
            next = argmax(&z);
        }
        assert_eq!(got, greedy, "{name}");

        // The same through Generator at T = 0: BOS + the prompt, then the same 64 ids, and
        // its streamed text is their decoded text.
        let options = SampleOptions {
            temperature: 0.0,
            seed: Some(1),
            ..SampleOptions::default()
        };
        let mut g = Generator::new(&net, text, OutputMode::Logits, options).unwrap();
        let text = g.generate(64).unwrap();
        assert_eq!(g.tokens()[..prompt.len()], prompt[..], "{name}");
        assert_eq!(g.tokens()[prompt.len()..], greedy[..], "{name}");
        let decoded = net.decode(&greedy).unwrap();
        assert!(
            decoded.starts_with(&text),
            "{name}: {text:?} vs {decoded:?}"
        );
    }
}

/// The fixtures' prompt (their prompt ids are BOS and its encoding).
const PROMPT: &str = "But soft, what light through yonder window breaks?";
/// The prompt of the 32-piece vocabulary's model.
const PROMPT32: &str = "the heat in the east then a thin rain";

/// encode and decode give run.c's ids and text (the script's transcription of run.c), and
/// the stream decoder, one id at a time, the same text.
#[test]
fn encode_and_decode_match_run_c() {
    let net = Net::from_llama2c(GQA_SHARED_V0, TOKENIZER_BIN).unwrap();
    check_cases(&net, ENCODE_CASES, 11);
    // Byte fallback: "😀" has no piece, so its four UTF-8 bytes are ids byte + 3.
    let ids = net.encode("😀").unwrap();
    assert_eq!(
        &ids[ids.len() - 4..],
        [0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3]
    );
    assert_eq!(net.token_text(0xF0 + 3).unwrap(), "<0xF0>");
    assert_eq!(net.token_text(b'\n' as u32 + 3).unwrap(), "↵");
    assert_eq!(net.token_text(1).unwrap(), "↵<s>↵");
}

/// The same with 32 pieces and no byte pieces: merges by score, and a character the
/// vocabulary cannot spell is an error naming it (run.c would emit the id byte + 3, past the
/// vocabulary's end).
#[test]
fn a_32_piece_vocabulary_encodes_as_run_c() {
    let net = Net::from_llama2c(VOCAB32_V0, TOKENIZER32_BIN).unwrap();
    assert_eq!(net.config().vocab_size, 32);
    check_cases(&net, ENCODE_CASES32, 4);
    let e = net.encode("the zebra").unwrap_err().to_string();
    println!("{e}");
    assert!(e.contains("'z'") || e.contains("\"z\""), "{e}");
}

/// Each case's text encodes to its ids (run.c's), its ids decode to its text, and the stream
/// decoder gives the same text one id at a time.
fn check_cases(net: &Net, cases: &str, count: usize) {
    let cases: Value = serde_json::from_str(cases).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), count);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let ids = ids_of(&case["ids"]);
        if let Some(text) = case["text"].as_str() {
            assert_eq!(net.encode(text).unwrap(), ids, "case {name}");
        }
        let decoded = case["decoded"].as_str().unwrap();
        assert_eq!(net.decode(&ids).unwrap(), decoded, "case {name}");
        let t = net.tokenizer();
        let mut stream = t.stream();
        let mut text: String = ids.iter().map(|&id| stream.push(t, id).unwrap()).collect();
        text.push_str(&stream.finish());
        assert_eq!(text, decoded, "case {name} streamed");
    }
}

/// Generation stops where run.c's does: when the model produces BOS. With the final norm's
/// gains at 0 every logit is 0, so each draw is uniform over the 32 ids and BOS (id 1) comes
/// within a few dozen tokens for most seeds.
#[test]
fn generation_ends_when_the_model_produces_bos() {
    let mut c = llama2c::read(VOCAB32_V0, TOKENIZER32_BIN).unwrap();
    let final_norm = c
        .config
        .layout()
        .iter()
        .position(|p| p.name == "norm.weight");
    let final_norm = final_norm.expect("a final norm in the layout");
    c.tensors[final_norm].iter_mut().for_each(|g| *g = 0.0);
    let tokenizer = logitlab::model::Tokenizer::SentencePiece(c.tokenizer);
    let net = Net::from_layout(c.config, tokenizer, c.tensors).unwrap();
    let mut ended = 0;
    for seed in 0..20 {
        let options = SampleOptions {
            seed: Some(seed),
            ..SampleOptions::default()
        };
        let mut g = Generator::new(&net, PROMPT32, OutputMode::Logits, options).unwrap();
        let start = g.tokens().len();
        let text = g.generate(200).unwrap();
        let generated = &g.tokens()[start..];
        let bos = generated.iter().position(|&t| t == 1);
        match bos {
            Some(at) => {
                // Stopped right at the first BOS, which adds no text.
                assert_eq!(at, generated.len() - 1, "seed {seed}");
                assert!(g.ended(), "seed {seed}");
                assert_eq!(text, net.decode(&generated[..at]).unwrap(), "seed {seed}");
                let e = g.next_token().unwrap_err().to_string();
                assert!(e.contains("ended the text"), "{e}");
                ended += 1;
            }
            None => assert_eq!(generated.len(), 200, "seed {seed}"),
        }
    }
    assert!(
        ended >= 15,
        "only {ended} of 20 seeds produced BOS in 200 uniform draws"
    );
}

fn with_i32(bytes: &[u8], at: usize, v: i32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    out
}

fn error(model: &[u8], tokenizer: &[u8]) -> String {
    llama2c::read(model, tokenizer).unwrap_err().to_string()
}

/// Every bad header is refused before anything is allocated from it, with the file and field.
#[test]
fn bad_headers_are_refused_with_file_and_field() {
    // Legacy header fields at 4·i: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len.
    let v0 = GQA_SHARED_V0;
    let cases: [(usize, i32, &str); 10] = [
        (
            0,
            0,
            "model.bin: header field dim must be an integer in [1, 4096], got 0",
        ),
        (
            0,
            -48,
            "header field dim must be an integer in [1, 4096], got -48",
        ),
        (
            4,
            i32::MAX,
            "header field hidden_dim must be an integer in [1, 16384], got 2147483647",
        ),
        (
            8,
            0,
            "header field n_layers must be an integer in [1, 64], got 0",
        ),
        (
            12,
            5,
            "header field dim must be a multiple of n_heads (5), got 48",
        ),
        (
            16,
            4,
            "header field n_heads must be a multiple of n_kv_heads (4), got 6",
        ),
        (
            16,
            7,
            "header field n_kv_heads must be an integer in [1, 6], got 7",
        ),
        (
            20,
            i32::MIN,
            "header field vocab_size must be an integer in [1, 262144], got 2147483648",
        ),
        (
            24,
            1 << 30,
            "header field seq_len must be an integer in [1, 4096], got 1073741824",
        ),
        (
            12,
            48,
            "head size) must be even for rotary embeddings, got 48 / 48 = 1",
        ),
    ];
    for (at, value, want) in cases {
        let e = error(&with_i32(v0, at, value), TOKENIZER_BIN);
        assert!(e.starts_with("model.bin: "), "{e}");
        assert!(e.contains(want), "{e:?} lacks {want:?}");
    }
    // Shorter than the header; shorter or longer than the header implies.
    assert!(error(&v0[..10], TOKENIZER_BIN)
        .contains("model.bin: has 10 bytes, shorter than the 28-byte header"));
    let e = error(&v0[..v0.len() - 4], TOKENIZER_BIN);
    assert!(
        e.contains(&format!("has {} bytes, but its header", v0.len() - 4)),
        "{e}"
    );
    assert!(e.ends_with(&format!("implies {}", v0.len())), "{e}");
    // A negative vocab_size says the classifier follows, which makes the file too short.
    let e = error(&with_i32(v0, 20, -512), TOKENIZER_BIN);
    assert!(e.contains("vocab_size -512"), "{e}");
    // Version 1: version, shared_classifier flag, short header.
    let v1 = GQA_SHARED_V1;
    assert!(error(&with_i32(v1, 4, 2), TOKENIZER_BIN)
        .contains("model.bin: header field version must be 1"));
    let mut flag = v1.to_vec();
    flag[36] = 7;
    assert!(error(&flag, TOKENIZER_BIN)
        .contains("header field shared_classifier must be 0 or 1, got 7"));
    assert!(error(&v1[..100], TOKENIZER_BIN)
        .contains("has 100 bytes, shorter than the 256-byte header of a version 1 file"));
    // A tokenizer of another size: vocab_size 511 and one embedding row fewer.
    let mut smaller = with_i32(v0, 20, 511);
    smaller.drain(28..28 + 48 * 4);
    assert_eq!(
        error(&smaller, TOKENIZER_BIN),
        "tokenizer.bin: has 512 tokens, but model.bin's vocab_size is 511; the two files are \
         not from the same model"
    );
    // A cut tokenizer.bin.
    let e = error(v0, &TOKENIZER_BIN[..TOKENIZER_BIN.len() - 1]);
    assert_eq!(
        e,
        "tokenizer.bin: token 511 has length 1 but only 0 bytes are left"
    );
    let e = error(v0, &TOKENIZER_BIN[..TOKENIZER_BIN.len() - 2]);
    assert!(
        e.starts_with("tokenizer.bin: token 511 is cut off at byte"),
        "{e}"
    );
    assert!(error(v0, &[1, 0]).contains("tokenizer.bin: has 2 bytes"));
}

/// A legacy file rewritten as version 1 (export.py's `version1_export` order), to cover a
/// version 1 file with its own classifier without a second fixture of 420 KB.
fn legacy_to_v1(v0: &[u8]) -> Vec<u8> {
    let field = |i: usize| i32::from_le_bytes(v0[4 * i..4 * i + 4].try_into().unwrap());
    let [dim, hidden, layers, heads, kv_heads, vocab, seq_len] = [0, 1, 2, 3, 4, 5, 6].map(field);
    let (c, h, l, hd) = (
        dim as usize,
        hidden as usize,
        layers as usize,
        (dim / heads) as usize,
    );
    let (v, kv) = (vocab.unsigned_abs() as usize, kv_heads as usize * hd);
    // Section sizes in floats, in legacy order.
    let names = [
        "emb",
        "rms_att",
        "wq",
        "wk",
        "wv",
        "wo",
        "rms_ffn",
        "w1",
        "w2",
        "w3",
        "rms_final",
        "freq_cis",
        "wcls",
    ];
    let sizes = [
        v * c,
        l * c,
        l * c * c,
        l * kv * c,
        l * kv * c,
        l * c * c,
        l * c,
        l * h * c,
        l * c * h,
        l * h * c,
        c,
        seq_len as usize * hd,
        if vocab < 0 { v * c } else { 0 },
    ];
    let mut sections = std::collections::HashMap::new();
    let mut at = 28;
    for (name, n) in names.iter().zip(sizes) {
        sections.insert(*name, &v0[at..at + 4 * n]);
        at += 4 * n;
    }
    assert_eq!(at, v0.len());
    let mut out = 0x616b_3432u32.to_le_bytes().to_vec();
    out.extend(1i32.to_le_bytes());
    for f in [dim, hidden, layers, heads, kv_heads, vocab.abs(), seq_len] {
        out.extend(f.to_le_bytes());
    }
    out.push(u8::from(vocab > 0));
    out.resize(256, 0);
    for name in [
        "rms_att",
        "rms_ffn",
        "rms_final",
        "emb",
        "wq",
        "wk",
        "wv",
        "wo",
        "w1",
        "w2",
        "w3",
        "wcls",
    ] {
        out.extend_from_slice(sections[name]);
    }
    out
}

/// Version 1 with a separate classifier reads to the same tensors as its legacy original.
#[test]
fn version1_with_separate_classifier_reads_as_legacy() {
    let v1 = legacy_to_v1(MHA_SEPARATE_V0);
    let a = llama2c::read(MHA_SEPARATE_V0, TOKENIZER_BIN).unwrap();
    let b = llama2c::read(&v1, TOKENIZER_BIN).unwrap();
    assert_eq!((a.version, b.version), (0, 1));
    assert_eq!(a.config, b.config);
    assert_eq!(a.tensors, b.tensors);
    // And the shared fixture, rewritten, is byte for byte export.py's own version 1 file.
    assert_eq!(legacy_to_v1(GQA_SHARED_V0), GQA_SHARED_V1);
}

/// The KV cache gives bit for bit the values of a full recomputation, fed in any split.
#[test]
fn kv_cache_matches_recomputation_bit_for_bit() {
    for Fixture {
        name,
        bin,
        tokenizer,
        vocab,
        ..
    } in MODELS
    {
        let net = Net::from_llama2c(bin, tokenizer).unwrap();
        let ids: Vec<u32> = (0..40).map(|i| (i * 37 + 5) % vocab as u32).collect();
        let full = net.forward_ids(&ids, OutputMode::LogSoftmax).unwrap();
        let mut cache = KvCache::new();
        let mut pieces = Vec::new();
        for chunk in [&ids[..13], &ids[13..14], &ids[14..]] {
            pieces.extend(
                net.forward_cached(&mut cache, chunk, OutputMode::LogSoftmax)
                    .unwrap(),
            );
        }
        assert_eq!(cache.len(), ids.len(), "{name}");
        let same = full
            .iter()
            .zip(&pieces)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && full.len() == pieces.len(), "{name}");
        // Past the context (96): an error, and the cache is left as it was.
        let long = vec![3; 57];
        assert!(net
            .forward_cached(&mut cache, &long, OutputMode::Logits)
            .is_err());
        assert_eq!(cache.len(), ids.len(), "{name}");
    }
}

/// All of *Romeo and Juliet* encodes (the merge loop is O(n log n), not run.c's O(n²)) and
/// decodes back to itself after the dummy-prefix space.
#[test]
fn whole_play_round_trips() {
    let net = Net::from_llama2c(GQA_SHARED_V0, TOKENIZER_BIN).unwrap();
    let play = include_str!("../www/texts/romeo-and-juliet.txt");
    let ids = net.encode(play).unwrap();
    assert!(ids.len() < play.len() * 6 / 10, "{} ids", ids.len()); // 185 merges only
    assert_eq!(net.decode(&ids).unwrap(), format!(" {play}"));
}

/// The page feeds `model.bin` to a `Reader` as it downloads, in parts of whatever size arrive:
/// every split, with the length known or not, reads the same checkpoint as the whole file.
#[test]
fn a_file_read_in_parts_is_the_same_checkpoint() {
    for Fixture {
        name,
        bin,
        tokenizer,
        ..
    } in MODELS
    {
        let whole = llama2c::read(bin, tokenizer).unwrap();
        for part in [1, 3, 4, 27, 29, 256, 4097, bin.len()] {
            for len in [Some(bin.len()), None] {
                let mut r = llama2c::Reader::new(len, tokenizer).unwrap();
                for chunk in bin.chunks(part) {
                    r.push(chunk).unwrap();
                }
                assert_eq!(r.received(), bin.len(), "{name}");
                let c = r.finish().unwrap();
                assert_eq!(
                    c.tensors, whole.tensors,
                    "{name}, parts of {part}, length {len:?}"
                );
                assert_eq!(c.config, whole.config, "{name}");
            }
        }
    }
}

/// A stream that lies is refused as soon as it can be: a bad header by the push that completes
/// it (before a weight is allocated), a mismatched tokenizer there too, a file that goes on past
/// what its header implies by that push, and one that ends early by `finish`.
#[test]
fn a_bad_stream_is_refused_when_it_shows() {
    let v0 = GQA_SHARED_V0;
    let push_all = |bytes: &[u8], tokenizer: &[u8], len: Option<usize>| {
        let mut r = llama2c::Reader::new(len, tokenizer)?;
        for chunk in bytes.chunks(100) {
            r.push(chunk)?;
        }
        r.finish()
    };
    // The header is read from the first 256 bytes: a bad field fails there, not at the end.
    let mut r = llama2c::Reader::new(None, TOKENIZER_BIN).unwrap();
    let bad = with_i32(v0, 12, 5);
    assert_eq!(
        r.push(&bad[..256]).unwrap_err().to_string(),
        "model.bin: header field dim must be a multiple of n_heads (5), got 48"
    );
    let mut r = llama2c::Reader::new(None, TOKENIZER32_BIN).unwrap();
    assert!(r
        .push(&v0[..256])
        .unwrap_err()
        .to_string()
        .starts_with("tokenizer.bin: has 32 tokens, but model.bin's vocab_size is 512"));
    // The length given is checked against the header before any tensor.
    let mut r = llama2c::Reader::new(Some(v0.len() + 4), TOKENIZER_BIN).unwrap();
    let e = r.push(&v0[..256]).unwrap_err().to_string();
    assert!(
        e.contains(&format!("has {} bytes, but its header", v0.len() + 4)),
        "{e}"
    );
    // Unknown length: too long, too short, shorter than a header.
    let mut longer = v0.to_vec();
    longer.extend([0; 8]);
    assert_eq!(
        push_all(&longer, TOKENIZER_BIN, None)
            .unwrap_err()
            .to_string(),
        format!(
            "model.bin: has more bytes than the {} its header implies",
            v0.len()
        )
    );
    let e = push_all(&v0[..v0.len() - 5], TOKENIZER_BIN, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "model.bin: has {} bytes, but its header",
            v0.len() - 5
        )),
        "{e}"
    );
    assert!(e.ends_with(&format!("implies {}", v0.len())), "{e}");
    assert!(push_all(&v0[..10], TOKENIZER_BIN, None)
        .unwrap_err()
        .to_string()
        .contains("model.bin: has 10 bytes, shorter than the 28-byte header"));
    // A NaN weight is named when its tensor is complete.
    let mut nan = v0.to_vec();
    nan[28..32].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(push_all(&nan, TOKENIZER_BIN, None)
        .unwrap_err()
        .to_string()
        .contains("tensor token_embedding_table holds NaN at index 0"));
    // A file over the cap is refused by its size alone.
    assert!(llama2c::Reader::new(Some(1 << 31), TOKENIZER_BIN)
        .unwrap_err()
        .to_string()
        .contains("at most 1073741824 (1 GiB)"));
}

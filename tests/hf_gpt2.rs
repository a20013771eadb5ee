//! Hugging Face GPT-2 checkpoints and their byte-level BPE tokenizer, against the reference
//! fixtures of `tests/fixtures/hf/` (made with transformers and tokenizers; see its README).
//! Every file is included with `include_bytes!`, so the same tests also run in the browser.

// Runs natively (`cargo test`) and in headless Chromium (`wasm-pack test`), where `#[test]`
// becomes `#[wasm_bindgen_test]`.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::model::{ByteLevelBpe, Generator, KvCache, Net, OutputMode, Tokenizer};
use logitlab::sampling::SampleOptions;
use serde_json::Value;

const TOKENIZER_JSON: &[u8] = include_bytes!("fixtures/hf/tokenizer.json");
const TOKENIZER_CASES: &str = include_str!("fixtures/hf/tokenizer_cases.json");

fn tokenizer() -> Tokenizer {
    Tokenizer::Bpe(ByteLevelBpe::from_json(TOKENIZER_JSON).unwrap())
}

fn cases() -> Vec<(String, String, Vec<u32>)> {
    let cases: Value = serde_json::from_str(TOKENIZER_CASES).unwrap();
    cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ids = c["ids"].as_array().unwrap();
            (
                c["name"].as_str().unwrap().to_string(),
                c["text"].as_str().unwrap().to_string(),
                ids.iter().map(|i| i.as_u64().unwrap() as u32).collect(),
            )
        })
        .collect()
}

/// A tokenizer written back as `tokenizer.json` ([`ByteLevelBpe::to_json`]) reads as the same
/// tokenizer: vocabulary, merge ranks, added tokens and flags, so it gives the same ids on
/// every case. (The shipped subword model's `tokenizer.json` is written this way; that
/// `tokenizers` reads it to the same ids is checked by `tests/fixtures/subword/`.)
#[test]
fn tokenizer_json_round_trips() {
    let original = ByteLevelBpe::from_json(TOKENIZER_JSON).unwrap();
    let written = serde_json::to_vec(&original.to_json()).unwrap();
    let back = ByteLevelBpe::from_json(&written).unwrap();
    assert_eq!(back, original);
    let back = Tokenizer::Bpe(back);
    for (name, text, ids) in cases() {
        assert_eq!(back.encode(&text).unwrap(), ids, "case {name}");
    }
}

/// Our ids are `tokenizers`' ids, case by case, and decoding gives the text back.
#[test]
fn tokenizer_ids_match_tokenizers_on_every_case() {
    let t = tokenizer();
    assert_eq!(t.len(), 1024);
    let cases = cases();
    assert_eq!(cases.len(), 47);
    for (name, text, ids) in &cases {
        assert_eq!(&t.encode(text).unwrap(), ids, "case {name}");
        assert_eq!(&t.decode(ids).unwrap(), text, "case {name}");
    }
}

/// The stream decoder, fed one id at a time, gives the same text, in whole characters.
#[test]
fn stream_decoding_matches_decode() {
    let t = tokenizer();
    for (name, text, ids) in cases() {
        let mut stream = t.stream();
        let mut out = String::new();
        for &id in &ids {
            out.push_str(&stream.push(&t, id).unwrap());
        }
        out.push_str(&stream.finish());
        assert_eq!(out, text, "case {name}");
    }
}

/// How the page shows single tokens.
#[test]
fn token_text_shows_spaces_newlines_and_partial_bytes() {
    let t = tokenizer();
    assert_eq!(t.token_text(0).unwrap(), "<|endoftext|>");
    let ids = t.encode(" the\n").unwrap();
    let shown: Vec<String> = ids.iter().map(|&id| t.token_text(id).unwrap()).collect();
    assert_eq!(shown.concat(), "␣the↵");
    // An emoji is several byte tokens none of which is a character on its own.
    let ids = t.encode("🦀").unwrap();
    let shown: String = ids.iter().map(|&id| t.token_text(id).unwrap()).collect();
    assert_eq!(shown, "<0xF0><0x9F><0xA6><0x80>");
    assert!(t.token_text(1024).is_err());
}

/// One fixture folder: its files by name, and its expected.json.
struct Folder {
    name: &'static str,
    config: &'static [u8],
    model: &'static [u8],
    tokenizer: &'static [u8],
    expected: &'static str,
}

macro_rules! folder {
    ($name:literal) => {
        Folder {
            name: $name,
            config: include_bytes!(concat!("fixtures/hf/", $name, "/config.json")),
            model: include_bytes!(concat!("fixtures/hf/", $name, "/model.safetensors")),
            tokenizer: include_bytes!(concat!("fixtures/hf/", $name, "/tokenizer.json")),
            expected: include_str!(concat!("fixtures/hf/", $name, "/expected.json")),
        }
    };
}

fn folders() -> [Folder; 4] {
    [
        folder!("f32-tied-gelu_new"),
        folder!("f16-untied-gelu"),
        folder!("bf16-tied-gelu_new"),
        folder!("f32-noprefix-untied-gelu_new"),
    ]
}

impl Folder {
    fn files(&self) -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("config.json", self.config),
            ("model.safetensors", self.model),
            ("tokenizer.json", self.tokenizer),
        ]
    }

    fn net(&self) -> Net {
        Net::from_hf_gpt2(&self.files()).unwrap()
    }

    fn expected(&self) -> Value {
        serde_json::from_str(self.expected).unwrap()
    }
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as u32)
        .collect()
}

/// The prompt's ids, and every position's logits within 1e-4 of transformers'.
#[test]
fn logits_match_transformers() {
    for f in folders() {
        let net = f.net();
        let want = f.expected();
        let prompt_ids = ids(&want["prompt_ids"]);
        assert_eq!(
            net.encode(want["prompt"].as_str().unwrap()).unwrap(),
            prompt_ids,
            "{}",
            f.name
        );
        let got = net.forward_ids(&prompt_ids, OutputMode::Logits).unwrap();
        let rows = want["logits"].as_array().unwrap();
        assert_eq!(rows.len(), prompt_ids.len());
        let v = net.config().vocab_size;
        let mut worst = 0f64;
        for (t, row) in rows.iter().enumerate() {
            let row = row.as_array().unwrap();
            assert_eq!(row.len(), v);
            for (j, z) in row.iter().enumerate() {
                let d = (f64::from(got[t * v + j]) - z.as_f64().unwrap()).abs();
                worst = worst.max(d);
            }
        }
        println!("{}: max |Δlogit| = {worst:.2e}", f.name);
        assert!(worst < 1e-4, "{}: max |Δlogit| = {worst}", f.name);
    }
}

/// The next-token values (the classifier on the last position alone) are the last row of every
/// position's, bit for bit: from scratch, and after a cached prefix, in both output modes.
#[test]
fn the_last_position_alone_is_the_last_row() {
    for f in folders() {
        let net = f.net();
        let v = net.config().vocab_size;
        let prompt = ids(&f.expected()["prompt_ids"]);
        assert!(prompt.len() >= 2, "{}", f.name);
        let (head, tail) = prompt.split_at(prompt.len() / 2);
        for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
            let all = net.forward_ids(&prompt, mode).unwrap();
            let last = &all[all.len() - v..];
            assert_eq!(
                net.next_token_values(&prompt, mode).unwrap(),
                last,
                "{}",
                f.name
            );
            let cached = |last_only: bool| {
                let mut cache = KvCache::new();
                net.forward_cached(&mut cache, head, mode).unwrap();
                if last_only {
                    net.forward_cached_last(&mut cache, tail, mode).unwrap()
                } else {
                    let all = net.forward_cached(&mut cache, tail, mode).unwrap();
                    all[all.len() - v..].to_vec()
                }
            };
            assert_eq!(cached(true), cached(false), "{}", f.name);
        }
    }
}

/// Greedy decoding with the KV cache, one token at a time as the page generates, gives
/// transformers' 64 ids.
#[test]
fn greedy_ids_match_transformers() {
    for f in folders() {
        let net = f.net();
        let want = f.expected();
        let mut ids_so_far = ids(&want["prompt_ids"]);
        let mut cache = KvCache::new();
        let mut pending = ids_so_far.clone();
        let v = net.config().vocab_size;
        let mut greedy = Vec::new();
        for _ in 0..64 {
            let values = net
                .forward_cached(&mut cache, &pending, OutputMode::Logits)
                .unwrap();
            let last = &values[values.len() - v..];
            let best = (0..v).fold(0, |b, j| if last[j] > last[b] { j } else { b }) as u32;
            greedy.push(best);
            ids_so_far.push(best);
            pending = vec![best];
        }
        assert_eq!(greedy, ids(&want["greedy"]), "{}", f.name);
        // The same through Generator at T = 0, whose text is the decoded ids.
        let options = SampleOptions {
            temperature: 0.0,
            seed: Some(1),
            ..SampleOptions::default()
        };
        let mut g = Generator::new(
            &net,
            want["prompt"].as_str().unwrap(),
            OutputMode::Logits,
            options,
        )
        .unwrap();
        let text = g.generate(64).unwrap();
        assert_eq!(
            &g.tokens()[ids_so_far.len() - 64..],
            &greedy[..],
            "{}",
            f.name
        );
        let decoded = net.decode(&greedy).unwrap();
        assert!(
            decoded.starts_with(&text),
            "{}: {text:?} vs {decoded:?}",
            f.name
        );
    }
}

/// The error from loading `f32-tied-gelu_new` with one file replaced (or, for `None`, removed).
fn error_with(name: &str, bytes: Option<&[u8]>) -> String {
    let f = folder!("f32-tied-gelu_new");
    let mut files: Vec<(&str, &[u8])> = f.files();
    files.retain(|(n, _)| *n != name);
    if let Some(bytes) = bytes {
        files.push((name, bytes));
    }
    Net::from_hf_gpt2(&files).unwrap_err().to_string()
}

fn config_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut json: Value = serde_json::from_slice(folder!("f32-tied-gelu_new").config).unwrap();
    edit(json.as_object_mut().unwrap());
    json.to_string().into_bytes()
}

/// A safetensors file with this header and `data_len` zero bytes of data.
fn safetensors(header: &Value, data_len: usize) -> Vec<u8> {
    let header = header.to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data_len, 0);
    out
}

#[test]
fn errors_name_the_file_and_field() {
    // A missing file.
    assert_eq!(
        error_with("tokenizer.json", None),
        "tokenizer.json: missing; a Hugging Face folder needs config.json, \
         model.safetensors and tokenizer.json"
    );
    // Malformed JSON.
    assert!(error_with("config.json", Some(b"{\"n_embd\": 3"))
        .starts_with("config.json: not valid JSON"));
    assert!(
        error_with("tokenizer.json", Some(b"[1, 2")).starts_with("tokenizer.json: not valid JSON")
    );
    // Unknown architectures and tokenizer types.
    let llama = config_with(|c| {
        c.insert("model_type".into(), "llama".into());
    });
    assert_eq!(
        error_with("config.json", Some(&llama)),
        "config.json: model_type is \"llama\"; only \"gpt2\" is supported"
    );
    let relu = config_with(|c| {
        c.insert("activation_function".into(), "relu".into());
    });
    assert!(error_with("config.json", Some(&relu))
        .starts_with("config.json: activation_function is \"relu\"; only"));
    let five = config_with(|c| {
        c.insert("n_head".into(), 5.into());
    });
    assert_eq!(
        error_with("config.json", Some(&five)),
        "config.json: n_head = 5 does not divide n_embd = 32"
    );
    let deep = config_with(|c| {
        c.insert("n_layer".into(), 1000.into());
    });
    assert_eq!(
        error_with("config.json", Some(&deep)),
        "config.json: n_layer = 1000 is outside [1, 64]"
    );
    let tokenizer = String::from_utf8(TOKENIZER_JSON.to_vec()).unwrap();
    let wordpiece = tokenizer.replacen("\"type\": \"BPE\"", "\"type\": \"WordPiece\"", 1);
    assert!(
        wordpiece != tokenizer,
        "the fixture's model.type is spelled otherwise"
    );
    assert_eq!(
        error_with("tokenizer.json", Some(wordpiece.as_bytes())),
        "tokenizer.json: model.type \"WordPiece\" is not supported; supported: \"BPE\""
    );
    // A tokenizer whose vocabulary disagrees with the model; a smaller one is accepted.
    let small = config_with(|c| {
        c.insert("vocab_size".into(), 512.into());
    });
    assert_eq!(
        error_with("config.json", Some(&small)),
        "tokenizer.json: 1024 tokens but config.json vocab_size is 512"
    );
    // A shape that disagrees with the config.
    let wide = config_with(|c| {
        c.insert("n_embd".into(), 64.into());
    });
    assert_eq!(
        error_with("config.json", Some(&wide)),
        "model.safetensors: tensor \"transformer.wte.weight\" has shape [1024, 32]; \
         config.json implies [1024, 64]"
    );
    let untied = config_with(|c| {
        c.insert("tie_word_embeddings".into(), false.into());
    });
    assert_eq!(
        error_with("config.json", Some(&untied)),
        "model.safetensors: missing tensor \"transformer.lm_head.weight\" (or \
         \"lm_head.weight\") (config.json has tie_word_embeddings false)"
    );
    // Declared sizes larger than the file, or than the caps.
    let mut short = 1_000_000u64.to_le_bytes().to_vec();
    short.resize(5000, b' ');
    assert_eq!(
        error_with("model.safetensors", Some(&short)),
        "model.safetensors: header declares 1000000 bytes but the file has 5000"
    );
    let past_end = safetensors(
        &serde_json::json!({"wte.weight": {"dtype": "F32", "shape": [1024, 32],
                                           "data_offsets": [0, 131072]}}),
        100,
    );
    assert_eq!(
        error_with("model.safetensors", Some(&past_end)),
        "model.safetensors: tensor \"wte.weight\" declares bytes [0, 131072) but the file \
         holds 100 bytes after its header"
    );
    let lying = safetensors(
        &serde_json::json!({"wte.weight": {"dtype": "F32", "shape": [1024, 1u64 << 40],
                                           "data_offsets": [0, 16]}}),
        16,
    );
    assert_eq!(
        error_with("model.safetensors", Some(&lying)),
        "model.safetensors: tensor \"wte.weight\" has shape [1024, 1099511627776] in F32, but \
         its data_offsets span 16 bytes"
    );
    let huge = config_with(|c| {
        for (k, v) in [("n_embd", 4096), ("n_layer", 64), ("n_positions", 4096)] {
            c.insert(k.into(), v.into());
        }
    });
    let e = error_with("config.json", Some(&huge));
    assert!(e.starts_with("config.json: the model has "), "{e}");
    assert!(
        e.ends_with(" parameters; at most 2147483648 are accepted"),
        "{e}"
    );
    // Fewer parameters, but more bytes in f32 than a model's weights may take.
    let large = config_with(|c| {
        for (k, v) in [("n_embd", 2048), ("n_layer", 12)] {
            c.insert(k.into(), v.into());
        }
    });
    let e = error_with("config.json", Some(&large));
    assert!(e.contains("would take 2"), "{e}");
    assert!(
        e.ends_with("in f32; at most 2147483648 (2 GiB) are accepted"),
        "{e}"
    );
    assert!(error_with("model.safetensors", Some(&[1, 2, 3])).contains("8-byte header length"));
    // The tensors must tile the data, as the safetensors library requires: overlap would let a
    // small file describe a large model.
    let two = |a: [u64; 2], b: [u64; 2], data_len: usize| {
        let f = safetensors(
            &serde_json::json!({
                "a": {"dtype": "F32", "shape": [2], "data_offsets": a},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": b},
            }),
            data_len,
        );
        error_with("model.safetensors", Some(&f))
    };
    for (a, b, data_len, error) in [
        ([0, 8], [4, 12], 12, "tensors \"a\" and \"b\" overlap (bytes [4, 8) are in both)"),
        ([0, 8], [0, 8], 8, "tensors \"a\" and \"b\" overlap (bytes [0, 8) are in both)"),
        ([0, 8], [12, 20], 20, "bytes [8, 12) between tensors \"a\" and \"b\" belong to no tensor"),
        ([4, 12], [12, 20], 20, "bytes [0, 4) before tensor \"a\" belong to no tensor"),
        ([0, 8], [8, 16], 20, "the tensors end at byte 16 of the data, which has 20: the bytes after them belong to no tensor"),
    ] {
        assert_eq!(two(a, b, data_len), format!("model.safetensors: {error}"));
    }
}

/// The lab's own model exported as a Hugging Face folder reads back as the same network: the
/// same ids and bit-identical logits. (transformers' side: tests/fixtures/check_hf_export.py.)
#[test]
fn the_lab_model_exports_as_a_hugging_face_folder() {
    let net = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let files = net
        .to_hf_gpt2(logitlab::model::format::hf_gpt2::StoreAs::F32)
        .unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["config.json", "model.safetensors", "tokenizer.json"]
    );
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, &b[..])).collect();
    let back = Net::from_hf_gpt2(&files).unwrap();
    let text = "ROMEO:\nBut soft, what light through yonder window breaks?";
    let ids = net.encode(text).unwrap();
    assert_eq!(back.encode(text).unwrap(), ids);
    assert_eq!(back.decode(&ids).unwrap(), text);
    assert_eq!(
        back.forward_ids(&ids, OutputMode::Logits).unwrap(),
        net.forward_ids(&ids, OutputMode::Logits).unwrap()
    );
    // A model with a character that is more than one byte cannot be a byte-level BPE vocabulary.
    let corpus = logitlab::data::Corpus::from_text(&"héllo wörld ".repeat(40)).unwrap();
    let config = logitlab::model::Config::unit_test(corpus.tokenizer.len());
    let gpt = logitlab::model::Gpt::new(config, corpus.tokenizer, 1).unwrap();
    let e = gpt
        .to_net()
        .unwrap()
        .to_hf_gpt2(logitlab::model::format::hf_gpt2::StoreAs::F32)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("export: the character 'é' is 2 bytes"), "{e}");
}

/// The shipped subword model, `www/models/shakespeare-bpe/`, against what Hugging Face's own
/// libraries compute with it (`tests/fixtures/subword/expected.json`, made by
/// `tests/fixtures/make_subword_fixtures.py`): `tokenizers`' ids, the logits of
/// `GPT2LMHeadModel.from_pretrained` to 1e-4, and its 48 greedy ids, whose text is pinned.
const SUBWORD_FOLDER: [(&str, &[u8]); 3] = [
    (
        "config.json",
        include_bytes!("../www/models/shakespeare-bpe/config.json"),
    ),
    (
        "model.safetensors",
        include_bytes!("../www/models/shakespeare-bpe/model.safetensors"),
    ),
    (
        "tokenizer.json",
        include_bytes!("../www/models/shakespeare-bpe/tokenizer.json"),
    ),
];
const SUBWORD_EXPECTED: &str = include_str!("fixtures/subword/expected.json");

/// The greedy continuation of the fixture's prompt, 48 tokens, natively and in Chromium.
const SUBWORD_GREEDY_TEXT: &str =
    "\n\n[Enter a Messenger.]\n\n[Enter a Messenger.]\n\n[Enter CLAUDIO, and \
    CLAUDIO, and Soldiers.]\n\n[Enter CLAUDIO, and CLAUDIO.]\n\n[Enter C";

#[test]
fn the_subword_model_matches_transformers_and_tokenizers() {
    let net = Net::from_hf_gpt2(&SUBWORD_FOLDER).unwrap();
    let size: usize = SUBWORD_FOLDER.iter().map(|(_, b)| b.len()).sum();
    assert!(size <= 3_000_000, "{size} bytes");
    assert_eq!(net.config().vocab_size, 4096);
    let expected: Value = serde_json::from_str(SUBWORD_EXPECTED).unwrap();
    for case in expected["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(net.encode(text).unwrap(), ids(&case["ids"]), "{text:?}");
    }
    let prompt = ids(&expected["prompt_ids"]);
    let v = net.config().vocab_size;
    let z = net.forward_ids(&prompt, OutputMode::Logits).unwrap();
    let mut max_diff = 0f32;
    for (row, want) in expected["logits"].as_object().unwrap() {
        let row: usize = row.parse().unwrap();
        for (j, want) in want.as_array().unwrap().iter().enumerate() {
            let got = z[row * v + j];
            max_diff = max_diff.max((got - want.as_f64().unwrap() as f32).abs());
        }
    }
    println!("subword model: max |Δlogit| vs transformers = {max_diff:e}");
    assert!(max_diff < 1e-4, "max |Δlogit| = {max_diff}");

    let options = SampleOptions {
        temperature: 0.0,
        seed: Some(1),
        ..SampleOptions::default()
    };
    let text = expected["prompt"].as_str().unwrap();
    let mut g = Generator::new(&net, text, OutputMode::Logits, options).unwrap();
    let greedy_text = g.generate(48).unwrap();
    assert_eq!(g.tokens()[prompt.len()..], ids(&expected["greedy_ids"])[..]);
    println!("greedy: {greedy_text:?}");
    assert_eq!(greedy_text, SUBWORD_GREEDY_TEXT);
}

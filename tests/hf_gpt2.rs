//! Hugging Face GPT-2 checkpoints and their byte-level BPE tokenizer, against the reference
//! fixtures of `tests/fixtures/hf/` (made with transformers and tokenizers; see its README).
//! Every file is included with `include_bytes!`, so the same tests can run in the browser.

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

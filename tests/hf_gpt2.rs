//! Hugging Face GPT-2 checkpoints and their byte-level BPE tokenizer, against the reference
//! fixtures of `tests/fixtures/hf/` (made with transformers and tokenizers; see its README).
//! Every file is included with `include_bytes!`, so the same tests can run in the browser.

use logitlab::model::{ByteLevelBpe, Tokenizer};
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

//! Chat templates against what transformers renders (`tests/fixtures/chat/`, made by
//! `make_chat_fixtures.py`): templates in the structure of SmolLM2's, Qwen2.5's, Qwen3's,
//! TinyLlama's and Llama 2's, each over a few conversations, exact to the byte; and a Qwen2
//! folder whose greedy reply to its chat prompt ends at its end-of-text id, as transformers'
//! does. Every file is included with `include_bytes!`, so the same tests also run in the
//! browser.

#![cfg(feature = "chat")]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::error::Code;
use logitlab::model::{ChatTemplate, Generator, Net, OutputMode};
use logitlab::sampling::SampleOptions;
use serde_json::Value;

macro_rules! template {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("fixtures/chat/", $name, "/tokenizer_config.json")).as_slice(),
            include_str!(concat!("fixtures/chat/", $name, "/cases.json")),
        )
    };
}

const TEMPLATES: [(&str, &[u8], &str); 5] = [
    template!("smollm2"),
    template!("qwen2.5"),
    template!("qwen3"),
    template!("tinyllama"),
    template!("llama2"),
];

/// Every conversation renders as transformers' `apply_chat_template(tokenize=False)` did, or
/// fails with the template's own message where it raised one.
#[test]
fn each_template_renders_as_transformers_does() {
    let mut checked = 0;
    for (name, config, cases) in TEMPLATES {
        let template = ChatTemplate::from_tokenizer_config(config)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: no chat template"));
        let cases: Vec<Value> = serde_json::from_str(cases).unwrap();
        assert!(cases.len() >= 6, "{name}");
        for (i, case) in cases.iter().enumerate() {
            let messages = case["messages"].as_array().unwrap();
            let generation = case["add_generation_prompt"].as_bool().unwrap();
            let got = template.apply(messages, generation);
            match (&case["text"], &case["error"]) {
                (Value::String(want), _) => {
                    assert_eq!(got.unwrap(), *want, "{name} case {i}");
                }
                (_, Value::String(message)) => {
                    let e = got.unwrap_err();
                    assert_eq!(e.code(), Some(Code::ChatTemplate), "{name} case {i}");
                    assert!(
                        e.to_string().starts_with(&format!(
                            "tokenizer_config.json: chat_template: {message}"
                        )),
                        "{name} case {i}: {e}"
                    );
                }
                _ => panic!("{name} case {i}: neither text nor error"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 37);
}

fn qwen2_chat() -> Net {
    const DIR: [(&str, &[u8]); 5] = [
        (
            "config.json",
            include_bytes!("fixtures/chat/qwen2-chat/config.json"),
        ),
        (
            "model.safetensors",
            include_bytes!("fixtures/chat/qwen2-chat/model.safetensors"),
        ),
        (
            "tokenizer.json",
            include_bytes!("fixtures/chat/qwen2-chat/tokenizer.json"),
        ),
        (
            "generation_config.json",
            include_bytes!("fixtures/chat/qwen2-chat/generation_config.json"),
        ),
        (
            "tokenizer_config.json",
            include_bytes!("fixtures/chat/qwen2-chat/tokenizer_config.json"),
        ),
    ];
    Net::from_hf(&DIR).unwrap()
}

/// The folder's chat prompt, then greedy decoding: transformers' ids, ending at eos_token_id.
#[test]
fn a_chat_reply_ends_at_the_end_of_text_id() {
    let want: Value =
        serde_json::from_str(include_str!("fixtures/chat/qwen2-chat/expected.json")).unwrap();
    let net = qwen2_chat();
    let template = net.chat_template().expect("the folder has a chat template");
    let prompt = template
        .apply(want["messages"].as_array().unwrap(), true)
        .unwrap();
    assert_eq!(prompt, want["prompt"].as_str().unwrap());
    let ids: Vec<u32> = serde_json::from_value(want["prompt_ids"].clone()).unwrap();
    assert_eq!(net.encode(&prompt).unwrap(), ids);
    let greedy: Vec<u32> = serde_json::from_value(want["greedy"].clone()).unwrap();
    assert_eq!(net.end_ids(), [0]);
    let options = SampleOptions {
        temperature: 0.0,
        seed: Some(1),
        ..SampleOptions::default()
    };
    let mut g = Generator::new(&net, &prompt, OutputMode::Logits, options).unwrap();
    let mut got = Vec::new();
    loop {
        let t = g.next_token().unwrap();
        got.push(t.token);
        if t.end {
            break;
        }
        assert!(got.len() < 64, "no end: {got:?}");
    }
    assert_eq!(got, greedy);
    assert!(g.next_token().is_err());
    assert_eq!(
        net.decode(&greedy[..greedy.len() - 1]).unwrap(),
        want["text"].as_str().unwrap()
    );
}

/// A template that writes bos_token, for a model whose tokenizer adds BOS: generation starts
/// from transformers' ids for the rendered conversation, one BOS and not two; a plain prompt
/// still gets its BOS.
#[test]
fn a_template_that_writes_bos_gives_one_bos() {
    const DIR: [(&str, &[u8]); 4] = [
        (
            "config.json",
            include_bytes!("fixtures/chat/llama2-chat/config.json"),
        ),
        (
            "model.safetensors",
            include_bytes!("fixtures/chat/llama2-chat/model.safetensors"),
        ),
        (
            "tokenizer.json",
            include_bytes!("fixtures/chat/llama2-chat/tokenizer.json"),
        ),
        (
            "tokenizer_config.json",
            include_bytes!("fixtures/chat/llama2-chat/tokenizer_config.json"),
        ),
    ];
    let want: Value =
        serde_json::from_str(include_str!("fixtures/chat/llama2-chat/expected.json")).unwrap();
    let net = Net::from_hf(&DIR).unwrap();
    let prompt = net
        .chat_template()
        .unwrap()
        .apply(want["messages"].as_array().unwrap(), true)
        .unwrap();
    assert_eq!(prompt, want["prompt"].as_str().unwrap());
    let ids: Vec<u32> = serde_json::from_value(want["prompt_ids"].clone()).unwrap();
    let g = Generator::new(&net, &prompt, OutputMode::Logits, SampleOptions::default()).unwrap();
    assert_eq!(g.tokens(), ids);
    assert_eq!(net.prompt_ids(&prompt).unwrap(), ids);
    assert!(net.prompt_ids("").unwrap().is_empty());
    let plain = Generator::new(
        &net,
        "[INST] Hi",
        OutputMode::Logits,
        SampleOptions::default(),
    )
    .unwrap();
    assert_eq!(plain.tokens()[0], 1);
    assert_eq!(plain.tokens()[1..], net.encode("[INST] Hi").unwrap());
}

/// A folder without tokenizer_config.json, or whose file has no template, has none; a broken
/// one refuses the folder, naming the file. A chat_template.jinja beside it (where recent
/// transformers saves the template) wins over the field, as transformers reads them, and the
/// special tokens still come from tokenizer_config.json.
#[test]
fn the_template_comes_from_tokenizer_config_json_or_chat_template_jinja() {
    let net = qwen2_chat();
    assert!(net
        .clone()
        .with_chat_files(None, None)
        .unwrap()
        .chat_template()
        .is_none());
    let plain = net
        .clone()
        .with_chat_files(Some(br#"{"eos_token": "<|endoftext|>"}"#), None)
        .unwrap();
    assert!(plain.chat_template().is_none());
    let both = net
        .clone()
        .with_chat_files(
            Some(br#"{"eos_token": "<|endoftext|>", "chat_template": "FROM_CONFIG"}"#),
            Some(b"{{ eos_token }}|FROM_JINJA"),
        )
        .unwrap();
    let template = both.chat_template().unwrap();
    assert_eq!(template.source(), "{{ eos_token }}|FROM_JINJA");
    assert_eq!(
        template.apply(&[], false).unwrap(),
        "<|endoftext|>|FROM_JINJA"
    );
    let alone = net.clone().with_chat_files(None, Some(b"x")).unwrap();
    assert_eq!(alone.chat_template().unwrap().source(), "x");
    let e = net
        .clone()
        .with_chat_files(None, Some(&[0x78, 0xff][..]))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("chat_template.jinja: not UTF-8"),
        "{e}"
    );
    let e = net
        .with_chat_files(Some(br#"{"chat_template": {"default": "x"}}"#), None)
        .unwrap_err();
    assert_eq!(e.code(), Some(Code::ModelConfigValue));
    assert!(
        e.to_string()
            .starts_with("tokenizer_config.json: chat_template is"),
        "{e}"
    );
}

/// Tokens per word: the prompt's length under the model's tokenizer, over its
/// whitespace-separated words.
#[test]
fn tokens_per_word() {
    let net = qwen2_chat();
    let text = "But soft, what light\nthrough yonder window breaks?";
    let s = net.token_stats(text).unwrap();
    assert_eq!(s.tokens, net.encode(text).unwrap().len());
    assert_eq!(s.words, 8);
    assert_eq!(s.per_word, Some(s.tokens as f64 / 8.0));
    let none = net.token_stats(" \n ").unwrap();
    assert_eq!((none.words, none.per_word), (0, None));
}

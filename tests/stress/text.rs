//! The `text` target: a character vocabulary from arbitrary text, encode and decode round trips,
//! arbitrary ids.

use logitlab::model::{Net, Vocab};

use crate::fixtures::default_checkpoint;
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{check, stress, Bytes, Target, Verdict, MB};

/// Vocabulary, encode and decode on arbitrary strings and ids.
fn run_text(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let which = b.u8() % 3;
    let s = b.text(1 << 16);
    let vocab = match which {
        0 => match Vocab::from_text(&s) {
            Ok(v) => v,
            Err(e) => return Rejected(e.to_string()),
        },
        _ => shipped_vocab().clone(),
    };
    let ids: Vec<u32> = (0..b.len(64))
        .map(|_| match b.u8() % 4 {
            0 => b.u32(),
            _ => b.u8() as u32 % (vocab.len() as u32 + 2),
        })
        .collect();
    let other = b.text(4096);
    let mut features = format!("w{which}");
    for text in [&s, &other] {
        match vocab.encode(text) {
            Ok(ids) => {
                check!(
                    ids.iter().all(|&i| (i as usize) < vocab.len()),
                    "encode gave an id out of range"
                );
                match vocab.decode(&ids) {
                    Ok(back) => check!(&back == text, "decode(encode(s)) != s for {text:?}"),
                    Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
                }
                features.push_str(" enc");
            }
            Err(e) => {
                let m = e.to_string();
                check!(
                    m.starts_with("text: character"),
                    "encode error does not name the character: {m}"
                );
                features.push_str(" unk");
            }
        }
    }
    match vocab.decode(&ids) {
        Ok(text) => {
            check!(text.chars().count() == ids.len(), "decode length");
            features.push_str(" dec");
        }
        Err(e) => {
            let m = e.to_string();
            check!(m.starts_with("ids must be"), "decode error: {m}");
            features.push_str(" bad");
        }
    }
    Verdict::Ok(features)
}

fn shipped_vocab() -> &'static Vocab {
    static VOCAB: std::sync::OnceLock<Vocab> = std::sync::OnceLock::new();
    VOCAB.get_or_init(|| {
        Net::from_safetensors(default_checkpoint())
            .unwrap()
            .tokenizer()
            .chars()
            .unwrap()
            .clone()
    })
}

fn seeds_text() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0, 10, 40, 41, 200, 201, 202, 203, 1, 2, 3, 4, 5, 6],
        vec![1, 0, 12, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 210, 211],
    ]
}

pub const TARGET: Target = Target {
    name: "text",
    budget: 10_000,
    max_input: 1024,
    alloc_cap: 4 * MB,
    names: &["vocabulary", "text"],
    prefix: false,
    seeds: seeds_text,
    run: run_text,
};

#[test]
fn stress_text() {
    stress(&TARGET);
}

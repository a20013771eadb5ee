//! The `bpe_encode` target: the fixture BPE tokenizer, unedited, on arbitrary text.

use logitlab::model::{ByteLevelBpe, Tokenizer};

use crate::contracts::check_stream;
use crate::fixtures::HF_TOKENIZER;
use crate::harness::Verdict::Bug;
use crate::harness::{check, stress, try_bug, Bytes, Target, Verdict, MB};
use crate::inputs::bpe_text;

fn fixture_tokenizer() -> &'static Tokenizer {
    static T: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    T.get_or_init(|| Tokenizer::Bpe(ByteLevelBpe::from_json(HF_TOKENIZER).unwrap()))
}

/// The fixture tokenizer, unedited, on arbitrary text: decode(encode(text)) is the text, byte
/// for byte (`<|endoftext|>` included); every id is in range; the stream decoder, fed the ids
/// one at a time, gives the same text.
fn run_bpe_encode(data: &[u8]) -> Verdict {
    let t = fixture_tokenizer();
    let mut b = Bytes::new(data);
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[1.min(data.len())..]).into_owned(),
        _ => bpe_text(&mut b, 1 << 15),
    };
    let ids = match t.encode(&text) {
        Ok(ids) => ids,
        Err(e) => return Bug(format!("encode failed: {e}")),
    };
    check!(
        ids.iter().all(|&i| (i as usize) < t.len()),
        "encode gave an id out of range"
    );
    match t.decode(&ids) {
        Ok(back) => check!(back == text, "decode(encode({text:?})) = {back:?}"),
        Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
    }
    try_bug!(check_stream(t, &ids));
    // Which kinds of text and tokens this was.
    let specials = ids.iter().filter(|&&i| i == 0).count();
    let kinds = text.chars().fold(0u8, |k, c| {
        k | match c {
            c if c.is_ascii_alphanumeric() || c == ' ' => 0,
            '\'' => 1,
            c if c.is_whitespace() => 2,
            c if c.len_utf8() == 4 => 4,
            c if !c.is_ascii() => 8,
            _ => 0,
        }
    });
    Verdict::Ok(format!(
        "{kinds:04b} special{} merged{}",
        specials.min(2),
        ids.len() < text.len()
    ))
}

fn seeds_bpe_encode() -> Vec<Vec<u8>> {
    let mut prompt = vec![0];
    prompt.extend_from_slice("Romeo:\nBut soft, what light<|endoftext|> 'sé😀".as_bytes());
    vec![vec![], prompt, vec![1, 6, 0, 1, 2, 3, 4, 5]]
}

pub const TARGET: Target = Target {
    name: "bpe_encode",
    budget: 6_000,
    max_input: 1024,
    alloc_cap: 4 * MB,
    names: &[],
    prefix: true,
    seeds: seeds_bpe_encode,
    run: run_bpe_encode,
};

#[test]
fn stress_bpe_encode() {
    stress(&TARGET);
}

//! `tokenizer.json` encode speed (`src/model/tokenizer/hf/`), natively:
//! `cargo bench --bench tokenize`. The text is the shipped *Romeo and Juliet*; the tokenizers
//! are GPT-2's layout (the fixtures' 1 024 tokens, trained on this very text by
//! `tests/fixtures/make_hf_fixtures.py`), then the five pipeline fixtures of
//! `tests/fixtures/tokenizers/` (a few hundred merges each, so more ids per byte).

use std::time::Instant;

use logitlab::model::ByteLevelBpe;

fn main() {
    let text = std::fs::read_to_string("www/texts/romeo-and-juliet.txt")
        .expect("www/texts/romeo-and-juliet.txt (run from the repository root)");
    for name in [
        "hf/tokenizer.json",
        "tokenizers/smollm2.json",
        "tokenizers/llama3.json",
        "tokenizers/qwen2.json",
        "tokenizers/tinyllama.json",
        "tokenizers/metaspace.json",
    ] {
        bench(name, &text);
    }
}

fn bench(name: &str, text: &str) {
    let json = std::fs::read(format!("tests/fixtures/{name}")).unwrap();
    let start = Instant::now();
    let tokenizer = ByteLevelBpe::from_json(&json).unwrap();
    let load = start.elapsed().as_secs_f64();
    tokenizer.encode(text).unwrap(); // warm-up
    let runs = 10;
    let start = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..runs {
        ids = tokenizer.encode(text).unwrap();
    }
    let secs = start.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{name}: encode {} bytes → {} ids in {:.1} ms ({:.1} MB/s, {:.2} M ids/s); parsed in \
         {:.1} ms",
        text.len(),
        ids.len(),
        secs * 1e3,
        text.len() as f64 / secs / 1e6,
        ids.len() as f64 / secs / 1e6,
        load * 1e3
    );
}

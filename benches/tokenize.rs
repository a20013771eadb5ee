//! Byte-level BPE encode speed (`src/model/tokenizer/bpe.rs`), natively:
//! `cargo bench --bench tokenize`. The tokenizer is the fixtures' (1 024 tokens, trained on
//! this very text by `tests/fixtures/make_hf_fixtures.py`); the text is the shipped
//! *Romeo and Juliet*.

use std::time::Instant;

use logitlab::model::ByteLevelBpe;

fn main() {
    let json = std::fs::read("tests/fixtures/hf/tokenizer.json")
        .expect("tests/fixtures/hf/tokenizer.json (run from the repository root)");
    let text = std::fs::read_to_string("www/texts/romeo-and-juliet.txt").unwrap();
    let start = Instant::now();
    let tokenizer = ByteLevelBpe::from_json(&json).unwrap();
    let load = start.elapsed().as_secs_f64();
    tokenizer.encode(&text).unwrap(); // warm-up
    let runs = 10;
    let start = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..runs {
        ids = tokenizer.encode(&text).unwrap();
    }
    let secs = start.elapsed().as_secs_f64() / runs as f64;
    println!(
        "BPE encode: {} bytes → {} ids in {:.1} ms ({:.1} MB/s, {:.2} M ids/s); tokenizer.json \
         parsed in {:.1} ms",
        text.len(),
        ids.len(),
        secs * 1e3,
        text.len() as f64 / secs / 1e6,
        ids.len() as f64 / secs / 1e6,
        load * 1e3
    );
}

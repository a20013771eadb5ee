//! Generation speed of the default model with the KV cache (the page's plain-array forward
//! pass, `logitlab::net`), natively on one thread:
//! `RAYON_NUM_THREADS=1 cargo bench --bench generate` (build.sh bench sets the variable).
//! benches/run.mjs measures the same loop in wasm (Node and headless Chromium).

use std::time::Instant;

use logitlab::model::{Generator, Net, OutputMode};
use logitlab::sampling::SampleOptions;

fn main() {
    let bytes = std::fs::read("www/models/default.safetensors")
        .expect("www/models/default.safetensors (run from the repository root)");
    let model = Net::from_safetensors(&bytes).unwrap();
    let opts = SampleOptions {
        temperature: 0.8,
        seed: Some(1),
        ..SampleOptions::default()
    };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    for (label, n) in [("warm-up", 50), ("1000 tokens", 1000)] {
        let mut g = Generator::new(&model, "ROMEO:\n", OutputMode::Logits, opts.clone()).unwrap();
        let start = Instant::now();
        for _ in 0..n {
            g.next_token().unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        if label != "warm-up" {
            println!(
                "native generation ({threads} thread(s)): {:.0} tokens/s ({:.2} ms/token, {n} tokens with the KV cache)",
                n as f64 / secs,
                secs * 1e3 / n as f64
            );
        }
    }
}

//! Microseconds per `sample` call, natively on one thread: `cargo bench --bench sample`.
//! The same grid runs in wasm (Node and headless Chromium) through benches/run.mjs, and
//! `./build.sh bench` prints all of them side by side.

use std::hint::black_box;
use std::time::Instant;

use logitlab::rng::Rng;
use logitlab::sampling::{sample, SampleOptions};

/// The vocabulary sizes of the benchmark: a character model, and three real tokenizers
/// (Llama 2, Llama 3, Gemma).
pub const VOCABS: [usize; 4] = [65, 32_000, 128_256, 256_000];

fn settings() -> Vec<(&'static str, SampleOptions)> {
    let base = SampleOptions {
        temperature: 0.8,
        ..SampleOptions::default()
    };
    vec![
        ("T=0.8", base.clone()),
        (
            "T=0.8 topK=40",
            SampleOptions {
                top_k: 40,
                ..base.clone()
            },
        ),
        (
            "T=0.8 topP=0.9",
            SampleOptions {
                top_p: 0.9,
                ..base.clone()
            },
        ),
        (
            "T=0.8 topK=50 topP=0.9 minP=0.05",
            SampleOptions {
                top_k: 50,
                top_p: 0.9,
                min_p: 0.05,
                ..base
            },
        ),
    ]
}

/// Logits shaped like a trained model's: a heavy head and a long Gaussian tail.
fn logits(v: usize) -> Vec<f32> {
    let mut rng = Rng::new(v as u64);
    (0..v)
        .map(|i| (rng.normal() * 2.0) as f32 + if i % 97 == 0 { 6.0 } else { 0.0 })
        .collect()
}

fn main() {
    println!("native sample() µs/call, one thread");
    println!("{:>8}  {:<34} {:>10}", "V", "setting", "µs/call");
    for v in VOCABS {
        let z = logits(v);
        for (name, opts) in settings() {
            let mut seed = 0u64;
            let mut run = |n: usize| {
                for _ in 0..n {
                    seed += 1;
                    let o = SampleOptions {
                        seed: Some(seed),
                        ..opts.clone()
                    };
                    black_box(sample(black_box(&z), &o).unwrap().token);
                }
            };
            run(3);
            // Enough calls for ~0.3 s, at least 5.
            let start = Instant::now();
            run(5);
            let per = start.elapsed().as_secs_f64() / 5.0;
            let n = ((0.3 / per) as usize).max(5);
            let start = Instant::now();
            run(n);
            let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
            println!("{v:>8}  {name:<34} {us:>10.1}");
        }
    }
}

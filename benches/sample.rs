//! Microseconds per `sample` call, natively on one thread: `cargo bench --bench sample`.
//! The same grid runs in wasm (Node and headless Chromium) through benches/run.mjs, and
//! `./build.sh bench` prints all of them side by side.

use std::hint::black_box;
use std::time::Instant;

use logitlab::rng::Rng;
use logitlab::sampling::chain::{from_json, preset};
use logitlab::sampling::{sample, Input, SampleOptions, Sampler};

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

/// Microseconds per call of `f`: enough calls for ~0.3 s, at least 5.
fn per_call(mut f: impl FnMut()) -> f64 {
    f();
    f();
    let start = Instant::now();
    for _ in 0..5 {
        f();
    }
    let per = start.elapsed().as_secs_f64() / 5.0;
    let n = ((0.3 / per) as usize).max(5);
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The sampler workbench at V = 151 936: each step alone and the two presets, with a history
/// of 256 ids (benches/sample-bench.mjs's CHAINS in Node).
fn chains() {
    let v = 151_936;
    let z = logits(v);
    let history: Vec<u32> = (0..256u64)
        .map(|i| ((i * 2_654_435_761) % v as u64) as u32)
        .collect();
    let step = |s: &str| from_json(&serde_json::from_str(s).unwrap()).unwrap();
    let grid = [
        (
            "temperature t=0.8",
            step(r#"[{"kind":"temperature","t":0.8}]"#),
        ),
        (
            "dynamicTemperature",
            step(r#"[{"kind":"dynamicTemperature","range":0.5}]"#),
        ),
        (
            "topK 40 llama.cpp",
            step(r#"[{"kind":"topK","k":40,"rule":"llama.cpp"}]"#),
        ),
        ("topP 0.9", step(r#"[{"kind":"topP","p":0.9}]"#)),
        ("minP 0.05", step(r#"[{"kind":"minP","p":0.05}]"#)),
        ("typical 0.9", step(r#"[{"kind":"typical","p":0.9}]"#)),
        ("eta 3e-4", step(r#"[{"kind":"eta","epsilon":0.0003}]"#)),
        ("topNSigma 1", step(r#"[{"kind":"topNSigma","n":1}]"#)),
        ("xtc 1 0.1", step(r#"[{"kind":"xtc","probability":1}]"#)),
        (
            "penalties",
            step(r#"[{"kind":"penalties","repeat":1.1,"frequency":0.1}]"#),
        ),
        ("dry", step(r#"[{"kind":"dry","multiplier":0.8}]"#)),
        ("mirostat", step(r#"[{"kind":"mirostat"}]"#)),
        ("mirostatV2", step(r#"[{"kind":"mirostatV2"}]"#)),
        ("preset huggingface", preset("huggingface").unwrap()),
        ("preset llama.cpp", preset("llama.cpp").unwrap()),
    ];
    println!("\nnative Sampler.sample µs/call at V = {v}, one thread");
    for (name, steps) in grid {
        let mut s = Sampler::new(steps, Some(1)).unwrap();
        let us = per_call(|| {
            black_box(
                s.sample(black_box(&z), &history, Input::Logits)
                    .unwrap()
                    .token,
            );
        });
        println!("  {name:<34} {us:>10.1}");
    }
}

fn main() {
    chains();
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

//! Training speed of the page's model-size presets, natively on one thread:
//! `RAYON_NUM_THREADS=1 cargo bench --bench train` (build.sh bench sets the variable).
//! benches/run.mjs measures the same steps in wasm in headless Chromium. Both use the text
//! the page ships (www/texts/romeo-and-juliet.txt), batch 8, crossEntropyOnLogits, and no
//! validation pass, so a step is one forward, one backward and one AdamW update.

use std::time::Instant;

use logitlab::data::Corpus;
use logitlab::model::Config;
use logitlab::train::{Pipeline, TrainOptions, Trainer};

fn main() {
    let text = std::fs::read_to_string("www/texts/romeo-and-juliet.txt")
        .expect("www/texts/romeo-and-juliet.txt (run from the repository root)");
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let batch_size = 8;
    for (preset, steps) in [("tiny", 60), ("small", 30), ("medium", 8)] {
        let corpus = Corpus::from_text(&text).unwrap();
        let config = Config::preset(preset, 0).unwrap();
        let options = TrainOptions {
            batch_size,
            learning_rate: 1e-2,
            min_learning_rate: 1e-3,
            warmup_steps: 20,
            total_steps: 3000,
            eval_batches: 0,
            ..TrainOptions::default()
        };
        let mut t =
            Trainer::new(corpus, config, Pipeline::CrossEntropyOnLogits, 1, options).unwrap();
        t.step(3).unwrap(); // warm-up
        let start = Instant::now();
        t.step(steps).unwrap();
        let secs = start.elapsed().as_secs_f64();
        let tokens = (steps * batch_size * config.context_length) as f64;
        println!(
            "native training ({threads} thread(s)), preset {preset:6} (batch {batch_size} × context {}): {:.1} steps/s, {:.0} tokens/s",
            config.context_length,
            steps as f64 / secs,
            tokens / secs
        );
    }
}

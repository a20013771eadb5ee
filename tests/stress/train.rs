//! The `train` target: `Corpus::from_text` and a few training steps on arbitrary text with junk
//! settings.

use logitlab::data::Corpus;
use logitlab::model::{Arch, Config};
use logitlab::train::{Pipeline, TrainOptions, Trainer};

use crate::harness::Verdict::Rejected;
use crate::harness::{check, stress, Bytes, Target, Verdict, MB};

/// Corpus::from_text and a training step on arbitrary pasted text and settings.
fn run_train(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let pipeline = b.pick(&Pipeline::ALL);
    let config = Config {
        vocab_size: 0,
        context_length: b.pick(&[1, 2, 3, 4, 8, 0]),
        layers: b.pick(&[1, 2]),
        heads: b.pick(&[1, 2, 3]),
        embd: b.pick(&[4, 6, 8, 5]),
        arch: Arch::LAB,
    };
    let options = TrainOptions {
        batch_size: b.pick(&[1, 2, 3, 0]),
        learning_rate: b.pick(&[1e-3, 1e-2, 0.3, 10.0, 11.0, f64::NAN, -1.0, 0.0]),
        min_learning_rate: b.pick(&[1e-4, 0.0, 10.0]),
        warmup_steps: b.pick(&[0, 1, 10]),
        total_steps: b.pick(&[0, 1, 100, usize::MAX]),
        weight_decay: b.pick(&[0.0, 0.1, 10.0, f64::INFINITY]),
        beta1: b.pick(&[0.9, 0.0, 0.999_999]),
        beta2: b.pick(&[0.99, 0.0, 1.0]),
        grad_clip: b.pick(&[1.0, 0.0, 1e6, f64::NAN]),
        eval_batches: b.pick(&[0, 1, 2]),
    };
    let steps = b.pick(&[1, 2, 3, 0]);
    let seed = b.u64();
    let text = b.text(9 * MB);
    let corpus = match Corpus::from_text(&text) {
        Ok(c) => c,
        Err(e) => return Rejected(e.to_string()),
    };
    let mut trainer = match Trainer::new(corpus, config, pipeline, seed, options) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    match trainer.step(steps) {
        Err(e) => Rejected(e.to_string()),
        Ok(r) => {
            check!(r.loss.is_finite(), "loss {}", r.loss);
            check!(r.train_ce.is_finite(), "trainCe {}", r.train_ce);
            check!(
                r.val_ce.is_none_or(|v| v.is_finite()),
                "valCe {:?}",
                r.val_ce
            );
            check!(!r.grad_norm.is_nan(), "gradNorm {}", r.grad_norm);
            check!(
                r.learning_rate.is_finite(),
                "learningRate {}",
                r.learning_rate
            );
            Verdict::Ok(format!("{} val{}", pipeline.name(), r.val_ce.is_some()))
        }
    }
}

fn seeds_train() -> Vec<Vec<u8>> {
    let mut text = vec![20];
    for i in 0..60u8 {
        text.push(if i % 13 == 12 { 10 } else { 40 + i % 7 });
    }
    let mut seeds = vec![vec![]];
    let mut good = vec![0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
    good.extend([7, 0, 0, 0, 0, 0, 0, 0]);
    good.extend(&text);
    seeds.push(good.clone());
    // The same text as one huge line, NUL and emoji included.
    let mut huge = good[..24].to_vec();
    huge.extend([10, 40, 41, 200, 201, 42, 255, 17]);
    seeds.push(huge);
    seeds
}

pub const TARGET: Target = Target {
    name: "train",
    budget: 400,
    max_input: 1024,
    alloc_cap: 96 * MB,
    names: &[
        "text",
        "batchSize",
        "learningRate",
        "minLearningRate",
        "weightDecay",
        "beta",
        "gradClip",
        "contextLength",
        "embd",
        "heads",
        "training diverged",
        "n must be",
    ],
    prefix: false,
    seeds: seeds_train,
    run: run_train,
};

#[test]
fn stress_train() {
    stress(&TARGET);
}

//! STAND-IN on branch `model` only: a minimal copy of the API of main's `src/sampling.rs`, so
//! that generation compiles and runs before the merge. The merge replaces this whole file with
//! main's version (take main's side); nothing here is meant to survive.

use crate::error::{Error, Result};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Input {
    #[default]
    Logits,
    LogProbs,
    Probs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    pub input: Input,
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    pub min_p: f32,
    pub seed: Option<u64>,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            input: Input::Logits,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            seed: None,
        }
    }
}

impl SampleOptions {
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(Error::arg(
                "temperature",
                "a finite number >= 0",
                self.temperature,
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub token: usize,
    pub probs: Vec<f32>,
    pub seed: u64,
}

/// Temperature, top-k and min-p only (top-p ignored); main's version is the real one.
pub fn sample_with(values: &[f32], opts: &SampleOptions, rng: &mut Rng) -> Result<Sample> {
    opts.validate()?;
    let scores: Vec<f32> = match opts.input {
        Input::Probs => values.iter().map(|p| p.ln()).collect(),
        _ => values.to_vec(),
    };
    let argmax =
        (0..scores.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best });
    let mut probs = vec![0.0f32; scores.len()];
    if opts.temperature == 0.0 {
        probs[argmax] = 1.0;
        return Ok(Sample {
            token: argmax,
            probs,
            seed: 0,
        });
    }
    let max = scores[argmax];
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let k = if opts.top_k == 0 {
        scores.len()
    } else {
        opts.top_k.min(scores.len())
    };
    for &i in &order[..k] {
        probs[i] = ((scores[i] - max) / opts.temperature).exp();
    }
    let p_max = 1.0f32;
    for p in probs.iter_mut() {
        if *p < opts.min_p * p_max {
            *p = 0.0;
        }
    }
    let sum: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= sum);
    let u = rng.next_f64() as f32;
    let mut acc = 0.0;
    let mut token = argmax;
    for &i in &order {
        acc += probs[i];
        if probs[i] > 0.0 && u < acc {
            token = i;
            break;
        }
    }
    Ok(Sample {
        token,
        probs,
        seed: 0,
    })
}

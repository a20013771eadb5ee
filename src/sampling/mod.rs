//! The sampler chain of the seed's sections 4.3 and 5, in Hugging Face transformers' order,
//! as small steps over one shared [`Candidates`] set (llama.cpp's shape):
//!
//! ```text
//! let mut c = Candidates::new(values, input)?;      // log space, shifted so the best is 0
//! c.temperature(t); c.top_k(k); c.top_p(p); c.min_p(m);
//! let (probs, entropy) = c.renormalise(); let token = c.draw(&probs, rng);
//! ```
//!
//! Every step works on scores s in log space, so logits z and log-probs log_softmax(z) give the
//! same distribution at every temperature T: they differ by the constant logsumexp(z), and the
//! first thing the chain does is subtract the maximum. Each step only narrows the set of kept ids
//! and records, per id, which step cut it ([`Cut`]), so the page can grey them out.
//!
//! No step sorts the whole vocabulary: top-k and top-p bucket the kept ids by score (1/32 nat
//! per bucket), keep the buckets before the one where the count or the mass reaches its target,
//! cut those after it, and order only the ids of that boundary bucket.
//!
//! Ties: top-k keeps exactly k ids, and on a tie with the k-th the lower id wins (Hugging Face's
//! `TopKLogitsWarper` keeps every id tied with the k-th); top-p's prefix and T = 0 break ties the
//! same way.

mod candidates;
pub mod chain;
pub mod fast;
mod pool;
mod steps;
pub mod workbench;

pub use candidates::Candidates;
pub use chain::{Rule, Step};
pub use workbench::Sampler;

use crate::error::{Error, Result};
use crate::limits::MAX_SEED;
use crate::numerics::check_temperature;
use crate::rng::Rng;

/// What the `values` passed to [`sample`] hold.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
pub enum Input {
    /// Raw logits z (any real numbers, −∞ allowed).
    #[default]
    Logits,
    /// Log-probabilities, e.g. log_softmax(z). Need not be normalised.
    LogProbs,
    /// Probabilities p ≥ 0 (need not sum exactly to 1). Zeros become −∞ and stay excluded.
    Probs,
}

impl Input {
    pub fn parse(s: &str) -> Result<Input> {
        match s {
            "logits" => Ok(Input::Logits),
            "logProbs" => Ok(Input::LogProbs),
            "probs" => Ok(Input::Probs),
            _ => Err(Error::arg(
                "input",
                "one of \"logits\", \"logProbs\", \"probs\"",
                format!("{s:?}"),
            )),
        }
    }
}

/// The knobs of the chain. Every field has a default that turns its step off.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    pub input: Input,
    /// T ≥ 0, default 1. 0 = greedy (argmax, lowest id on a tie).
    pub temperature: f32,
    /// Keep the k best ids; 0 (default) or k ≥ V = off. Ties at the boundary keep the lower id.
    pub top_k: usize,
    /// Nucleus: keep the smallest set of best ids whose probability mass is ≥ p, in [0, 1].
    /// 1 (default) = off, 0 = greedy.
    pub top_p: f32,
    /// Drop ids with p < min_p · p_max, in [0, 1]. 0 (default) = off.
    pub min_p: f32,
    /// Seed for the draw; `None` draws a fresh one, reported in [`Sample::seed`].
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
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<()> {
        check_temperature(self.temperature)?;
        if !(self.top_p.is_finite() && (0.0..=1.0).contains(&self.top_p)) {
            return Err(Error::arg(
                "topP",
                "a number in [0, 1] (1 = off, 0 = greedy)",
                self.top_p,
            ));
        }
        if !(self.min_p.is_finite() && (0.0..=1.0).contains(&self.min_p)) {
            return Err(Error::arg(
                "minP",
                "a number in [0, 1] (0 = off)",
                self.min_p,
            ));
        }
        if let Some(seed) = self.seed {
            if seed > MAX_SEED {
                return Err(Error::arg("seed", "an integer in [0, 2^53 - 1]", seed));
            }
        }
        Ok(())
    }
}

/// Why an id is missing from the final distribution: one per id in [`Sample::cut`]. The binding
/// sends it to JS as the number in brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Cut {
    /// Still in the final distribution (0).
    Kept = 0,
    /// The input already excluded it: logit −∞ or probability 0 (1).
    Input = 1,
    /// Temperature 0: only the argmax survives (2).
    Greedy = 2,
    /// Not among the k best (3).
    TopK = 3,
    /// Outside the nucleus (4).
    TopP = 4,
    /// p < min_p · p_max (5).
    MinP = 5,
}

impl Cut {
    /// Every reason, in code order: `Cut::ALL[c as usize] == c`.
    pub const ALL: [Cut; 6] = [
        Cut::Kept,
        Cut::Input,
        Cut::Greedy,
        Cut::TopK,
        Cut::TopP,
        Cut::MinP,
    ];

    /// Its name in the JS API: "kept", "input", "greedy", "topK", "topP", "minP".
    pub fn name(self) -> &'static str {
        match self {
            Cut::Kept => "kept",
            Cut::Input => "input",
            Cut::Greedy => "greedy",
            Cut::TopK => "topK",
            Cut::TopP => "topP",
            Cut::MinP => "minP",
        }
    }
}

/// The result of one draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The drawn id.
    pub token: usize,
    /// The final distribution the token was drawn from: length V, 0 for cut ids, sums to 1.
    pub probs: Vec<f32>,
    /// Per id, the step that cut it, [`Cut::Kept`] if none did.
    pub cut: Vec<Cut>,
    /// How many ids were kept.
    pub kept: usize,
    /// The seed of the draw, so it can be replayed.
    pub seed: u64,
    /// Entropy of `probs` in nats.
    pub entropy: f64,
    /// ln p(token) under `probs`, the distribution it was drawn from.
    pub log_prob: f32,
    /// ln p(token) under the model's own distribution at T = 1 before any filter:
    /// log_softmax(z)[token]. Its negative is the surprisal the page tints text by.
    pub model_log_prob: f32,
}

/// The candidates after every step of the chain, in its order: temperature, top-k, top-p,
/// min-p. No randomness: only the draw uses the generator.
fn chain<'a>(values: &'a [f32], opts: &SampleOptions) -> Result<Candidates<'a>> {
    opts.validate()?;
    let mut c = Candidates::new(values, opts.input)?;
    c.temperature(opts.temperature);
    c.top_k(opts.top_k);
    c.top_p(opts.top_p);
    c.min_p(opts.min_p);
    Ok(c)
}

/// The token [`sample`] draws with each of `seeds` (`opts.seed` is ignored), and the final
/// distribution they come from. The chain runs once and the draws share one walk of the kept
/// ids, so 1 000 draws at V = 151 936 cost about one [`sample`], not 1 000.
pub fn draws(
    values: &[f32],
    opts: &SampleOptions,
    seeds: impl Iterator<Item = u64>,
) -> Result<(Vec<f32>, Vec<usize>)> {
    let c = chain(values, opts)?;
    let (probs, _) = c.renormalise();
    let tokens = c.draw_each(&probs, seeds.map(Rng::new));
    Ok((probs, tokens))
}

/// Draws one token with a generator seeded from `opts.seed` (or a fresh random seed).
pub fn sample(values: &[f32], opts: &SampleOptions) -> Result<Sample> {
    opts.validate()?;
    let seed = opts.seed.unwrap_or_else(Rng::random_seed);
    let mut rng = Rng::new(seed);
    let mut s = sample_with(values, opts, &mut rng)?;
    s.seed = seed;
    Ok(s)
}

/// Draws one token with the caller's generator, as generation does: one generator per text,
/// advanced once per token. `Sample::seed` is `opts.seed` (or 0 when absent).
///
/// Cost: a few O(V) passes with one `exp` per id (two when T ∉ {0, 1}: the model's own log-prob
/// needs exp(z − m), the chain exp((z − m) / T)). The first filter lists the ids it keeps in
/// one more pass; the later steps work on that list. Only one score bucket is ever ordered.
pub fn sample_with(values: &[f32], opts: &SampleOptions, rng: &mut Rng) -> Result<Sample> {
    let c = chain(values, opts)?;
    let (probs, entropy) = c.renormalise();
    let token = c.draw(&probs, rng);
    Ok(Sample {
        token,
        entropy,
        log_prob: (probs[token] as f64).ln() as f32,
        model_log_prob: c.model_log_prob(values[token], opts.input),
        kept: c.kept,
        probs,
        cut: c.cut,
        seed: opts.seed.unwrap_or(0),
    })
}

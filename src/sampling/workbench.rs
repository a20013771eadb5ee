//! The sampler workbench: a chain of [`Step`]s (see [`super::chain`]) run over one
//! `Pool`, in order, each step recording which ids it cut and the mass they carried; then
//! the draw. A [`Sampler`] holds the chain and the state that lives across tokens: the
//! generator (XTC's coin and the draw) and Mirostat's μ.
//!
//! ```text
//! let mut s = Sampler::new(chain::preset("llama.cpp")?, Some(7))?;
//! let d = s.distribution(&z, &history, Input::Logits)?;  // what the next draw would see
//! let t = s.sample(&z, &history, Input::Logits)?;        // draws, then advances the state
//! ```

use super::chain::{self, Step};
use super::pool::Pool;
use super::steps::{self, Context};
use super::Input;
use crate::error::{Code, Error, Result};
use crate::limits::{MAX_HISTORY, MAX_SEED};
use crate::rng::Rng;

pub use super::pool::INPUT_CUT;

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Its kind, e.g. "topK".
    pub kind: &'static str,
    /// How many ids were kept after it.
    pub kept: usize,
    /// The mass, in the distribution it was handed, of the ids it cut.
    pub mass_removed: f64,
}

/// The final distribution of a chain, before any draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// p over all V ids, 0 for a cut id; sums to 1.
    pub probs: Vec<f32>,
    /// Per id: 0 kept, i + 1 cut by step i, [`INPUT_CUT`] excluded by the input.
    pub cut: Vec<u8>,
    /// One report per step.
    pub steps: Vec<StepReport>,
    /// How many ids were kept.
    pub kept: usize,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// Mirostat's μ the chain used (`None` without a Mirostat step).
    pub mu: Option<f32>,
}

/// A draw: the distribution it came from and the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub token: usize,
    /// ln p(token) under `distribution.probs`.
    pub log_prob: f32,
    pub distribution: Distribution,
}

/// A chain and its state across tokens.
#[derive(Debug, Clone)]
pub struct Sampler {
    steps: Vec<Step>,
    seed: u64,
    rng: Rng,
    /// Mirostat's μ, from 2·tau.
    mu: f32,
}

impl Sampler {
    /// A sampler for `steps` (checked by [`chain::check`]), its generator seeded by `seed` or
    /// a fresh seed.
    pub fn new(steps: Vec<Step>, seed: Option<u64>) -> Result<Sampler> {
        chain::check(&steps)?;
        if let Some(seed) = seed {
            if seed > MAX_SEED {
                return Err(Error::arg("seed", "an integer in [0, 2^53 - 1]", seed));
            }
        }
        let seed = seed.unwrap_or_else(Rng::random_seed);
        let mu = match steps.last() {
            Some(Step::Mirostat { tau, .. } | Step::MirostatV2 { tau, .. }) => 2.0 * tau,
            _ => 0.0,
        };
        Ok(Sampler {
            steps,
            seed,
            rng: Rng::new(seed),
            mu,
        })
    }

    /// The chain, every parameter filled in.
    pub fn chain(&self) -> &[Step] {
        &self.steps
    }

    /// The seed the generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Mirostat's μ now (`None` without a Mirostat step).
    pub fn mu(&self) -> Option<f32> {
        self.steps.last().filter(|s| s.selects()).map(|_| self.mu)
    }

    /// The distribution the next [`Sampler::sample`] on the same arguments would draw from
    /// (XTC's coin included), without drawing and without changing the state.
    pub fn distribution(
        &self,
        values: &[f32],
        history: &[u32],
        input: Input,
    ) -> Result<Distribution> {
        let mut rng = self.rng.clone();
        let mut mu = self.mu;
        self.run(values, history, input, &mut rng, &mut mu)
            .map(|(d, _)| d)
    }

    /// Runs the chain, draws a token from its distribution, and advances the state: the
    /// generator, and μ ← μ − eta·(−log2 p(token) − tau) after a Mirostat step.
    pub fn sample(&mut self, values: &[f32], history: &[u32], input: Input) -> Result<Draw> {
        let mut rng = self.rng.clone();
        let mut mu = self.mu;
        let (distribution, pool) = self.run(values, history, input, &mut rng, &mut mu)?;
        let token = draw(&pool, &distribution.probs, &mut rng);
        let p = distribution.probs[token];
        if let Some(Step::Mirostat { tau, eta, .. } | Step::MirostatV2 { tau, eta }) =
            self.steps.last()
        {
            let surprise = -p.log2();
            mu -= eta * (surprise - tau);
        }
        self.rng = rng;
        self.mu = mu;
        Ok(Draw {
            token,
            log_prob: (p as f64).ln() as f32,
            distribution,
        })
    }

    fn run(
        &self,
        values: &[f32],
        history: &[u32],
        input: Input,
        rng: &mut Rng,
        mu: &mut f32,
    ) -> Result<(Distribution, Pool)> {
        if history.len() > MAX_HISTORY {
            return Err(history_too_long(history.len()));
        }
        let mut pool = Pool::new(values, input)?;
        for (i, step) in self.steps.iter().enumerate() {
            if let Step::LogitBias { bias } = step {
                if let Some(&(id, _)) = bias.iter().find(|(id, _)| *id as usize >= pool.len()) {
                    return Err(Error::new(format!(
                        "chain[{i}].bias (logitBias) names id {id}, beyond the vocabulary: ids must be < V = {}",
                        pool.len()
                    ))
                    .coded(
                        Code::ChainBiasId,
                        [
                            ("index", i.to_string().into()),
                            ("step", (i + 1).to_string().into()),
                            // An id, as the page writes ids: never grouped.
                            ("id", id.to_string().into()),
                            ("vocab", pool.len().into()),
                        ],
                    ));
                }
            }
        }
        let mut reports = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            let mut cx = Context { history, rng, mu };
            let removed = steps::apply(step, &mut pool, i as u8 + 1, &mut cx);
            if pool.kept == 0 {
                return Err(Error::new(format!(
                    "chain[{i}] ({}) removed every id: nothing is left to sample",
                    step.kind()
                ))
                .coded(
                    Code::ChainAllCut,
                    [
                        ("index", i.to_string().into()),
                        ("step", (i + 1).to_string().into()),
                        ("kind", step.kind().into()),
                    ],
                ));
            }
            reports.push(StepReport {
                kind: step.kind(),
                kept: pool.kept,
                mass_removed: removed,
            });
        }
        let (probs, entropy) = pool.renormalise();
        let mu = self.steps.last().filter(|s| s.selects()).map(|_| *mu);
        Ok((
            Distribution {
                probs,
                cut: std::mem::take(&mut pool.cut),
                steps: reports,
                kept: pool.kept,
                entropy,
                mu,
            },
            pool,
        ))
    }
}

/// The error for a history of `n` > [`MAX_HISTORY`] ids.
pub fn history_too_long(n: usize) -> Error {
    Error::new(format!(
        "history has {n} ids; at most {MAX_HISTORY} are accepted"
    ))
    .coded(
        Code::HistoryTooLong,
        [("count", n.into()), ("max", MAX_HISTORY.into())],
    )
}

/// The draw: u ∈ [0, 1) from the generator, then the first kept id, in id order, where the
/// running mass of `probs` passes u. Over a list of kept ids, one id at a time (as
/// [`super::Candidates::draw`]); over the whole vocabulary, by blocks of 256 ids, each block's
/// mass in four running sums (vectorised), one id at a time only inside the block where u
/// falls. If rounding leaves u beyond every sum, the last id with p > 0.
fn draw(pool: &Pool, probs: &[f32], rng: &mut Rng) -> usize {
    let u = rng.next_f64();
    let mut acc = 0.0f64;
    let walk = |ids: &mut dyn Iterator<Item = usize>, acc: &mut f64| {
        for i in ids {
            let p = probs[i];
            if p > 0.0 {
                *acc += p as f64;
                if u < *acc {
                    return Some(i);
                }
            }
        }
        None
    };
    let found = match pool.list() {
        Some(ids) => walk(&mut ids.iter().map(|&i| i as usize), &mut acc),
        None => {
            const BLOCK: usize = 256;
            let mut found = None;
            for (b, block) in probs.chunks(BLOCK).enumerate() {
                let mut lanes = [0.0f64; 4];
                for quad in block.chunks(4) {
                    for (lane, &p) in lanes.iter_mut().zip(quad) {
                        *lane += p as f64;
                    }
                }
                let mass = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
                if u < acc + mass {
                    let start = b * BLOCK;
                    found = walk(&mut (start..start + block.len()), &mut acc);
                    if found.is_some() {
                        break;
                    }
                } else {
                    acc += mass;
                }
            }
            found
        }
    };
    found
        .or_else(|| (0..probs.len()).rev().find(|&i| probs[i] > 0.0))
        .unwrap_or_else(|| pool.best(1).first().map_or(0, |&i| i as usize))
}

//! Weights in low precision: a model against its quantised copy ([`crate::model::quantize`])
//! on the same ids, the figures of the page's card of that name.
//!
//! At each position t, after ids[0..=t], p = softmax(z_original) and q = softmax(z_quantised):
//!
//! - KL(p ‖ q) = Σ_i p_i (ln p_i − ln q_i), in nats: what the original's distribution loses,
//!   on average over its own draws, when the quantised one stands in for it (0 iff p = q);
//! - whether the greedy (top-1) ids agree;
//! - ln p(ids[t+1]) under each, which over the text gives each model's perplexity
//!   exp(−mean ln p(next id)).
//!
//! At the last position, the context the page shows, the two distributions side by side: the
//! ids in either's top [`TOP`], with both probabilities and both ranks (1 = most probable), and
//! the [`MOST_CHANGED`] of them whose rank moved most.
//!
//! Everything is computed in f64 from the two models' f32 logits; the two models are run with
//! a KV cache, [`CHUNK`] positions at a time, so memory stays O(CHUNK · V).

use crate::error::{Error, Result};
use crate::model::{KvCache, Net, OutputMode};

/// How many of each distribution's most probable ids the side-by-side view lists.
pub const TOP: usize = 8;

/// How many ids with the largest rank change are named.
pub const MOST_CHANGED: usize = 5;

/// Positions fed to each model at once.
const CHUNK: usize = 32;

/// One position's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// KL(original ‖ quantised), in nats.
    pub kl: f64,
    /// The two greedy (top-1) ids: original, quantised.
    pub top1: (u32, u32),
}

/// One id at the last position, in both distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub id: u32,
    pub p_original: f64,
    pub p_quantized: f64,
    /// 1 = the most probable id (ties: the lower id first).
    pub rank_original: usize,
    pub rank_quantized: usize,
}

impl Ranked {
    /// How far the id moved: rank_quantized − rank_original (> 0: it fell).
    pub fn rank_change(&self) -> i64 {
        self.rank_quantized as i64 - self.rank_original as i64
    }
}

/// A model against its quantised copy over ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// One per id: the distributions after ids[0..=t].
    pub positions: Vec<Position>,
    /// Mean KL over the positions, in nats.
    pub mean_kl: f64,
    /// Share of positions whose greedy ids agree, in [0, 1].
    pub top1_agreement: f64,
    /// Each model's perplexity on ids[1..] (original, quantised); none for a single id.
    pub perplexity: Option<(f64, f64)>,
    /// At the last position: the ids in either's top [`TOP`], by the original's rank.
    pub last: Vec<Ranked>,
    /// Of those, the [`MOST_CHANGED`] whose rank moved most (largest |change| first; ties by
    /// the original's rank), only ids that moved.
    pub most_changed: Vec<Ranked>,
}

/// ln softmax(z) in f64.
fn log_probs(z: &[f32]) -> Vec<f64> {
    let max = z
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
    let sum: f64 = z.iter().map(|&x| (f64::from(x) - max).exp()).sum();
    let lse = max + sum.ln();
    z.iter().map(|&x| f64::from(x) - lse).collect()
}

/// Ids by decreasing probability, ties by the lower id.
fn order(lp: &[f64]) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..lp.len() as u32).collect();
    ids.sort_by(|&a, &b| lp[b as usize].total_cmp(&lp[a as usize]).then(a.cmp(&b)));
    ids
}

/// KL(p ‖ q) from ln p and ln q, in nats. Terms with p = 0 add 0.
fn kl(lp: &[f64], lq: &[f64]) -> f64 {
    lp.iter()
        .zip(lq)
        .map(|(&a, &b)| {
            if a == f64::NEG_INFINITY {
                0.0
            } else {
                a.exp() * (a - b)
            }
        })
        .sum::<f64>()
        .max(0.0)
}

/// Runs `original` and `quantized` on `ids` (teacher-forced: every position sees the ids
/// before it) and compares their next-token distributions. The two must share a vocabulary;
/// `ids` must be 1 to the smaller context length ids, each < V.
pub fn compare(original: &Net, quantized: &Net, ids: &[u32]) -> Result<Comparison> {
    let v = original.config().vocab_size;
    if quantized.config().vocab_size != v {
        return Err(Error::arg(
            "b",
            &format!("a model of the same vocabulary as a ({v} ids)"),
            format!("a model of {} ids", quantized.config().vocab_size),
        ));
    }
    let context = original
        .config()
        .context_length
        .min(quantized.config().context_length);
    if ids.is_empty() || ids.len() > context {
        return Err(Error::arg(
            "ids",
            &format!("1 to {context} token ids (the context length)"),
            format!("{} ids", ids.len()),
        ));
    }
    if let Some(&bad) = ids.iter().find(|&&id| id as usize >= v) {
        return Err(Error::arg("ids", &format!("token ids in [0, {v})"), bad));
    }
    let (mut cache_a, mut cache_b) = (KvCache::new(), KvCache::new());
    let mut positions = Vec::with_capacity(ids.len());
    let (mut nll_a, mut nll_b) = (0f64, 0f64);
    let mut last = (Vec::new(), Vec::new());
    for (c, chunk) in ids.chunks(CHUNK).enumerate() {
        let za = original.forward_cached(&mut cache_a, chunk, OutputMode::Logits)?;
        let zb = quantized.forward_cached(&mut cache_b, chunk, OutputMode::Logits)?;
        for (k, (ra, rb)) in za.chunks_exact(v).zip(zb.chunks_exact(v)).enumerate() {
            let t = c * CHUNK + k;
            let (lp, lq) = (log_probs(ra), log_probs(rb));
            let top = |l: &[f64]| {
                (0..v)
                    .max_by(|&i, &j| l[i].total_cmp(&l[j]).then(j.cmp(&i)))
                    .unwrap_or(0) as u32
            };
            positions.push(Position {
                kl: kl(&lp, &lq),
                top1: (top(&lp), top(&lq)),
            });
            if let Some(&next) = ids.get(t + 1) {
                nll_a -= lp[next as usize];
                nll_b -= lq[next as usize];
            }
            if t + 1 == ids.len() {
                last = (lp, lq);
            }
        }
    }
    let n = positions.len() as f64;
    let mean_kl = positions.iter().map(|p| p.kl).sum::<f64>() / n;
    let agree = positions.iter().filter(|p| p.top1.0 == p.top1.1).count();
    let perplexity = (ids.len() > 1).then(|| {
        let m = (ids.len() - 1) as f64;
        ((nll_a / m).exp(), (nll_b / m).exp())
    });
    let (lp, lq) = last;
    let (oa, ob) = (order(&lp), order(&lq));
    let mut rank_a = vec![0usize; v];
    let mut rank_b = vec![0usize; v];
    for (r, (&a, &b)) in oa.iter().zip(&ob).enumerate() {
        rank_a[a as usize] = r + 1;
        rank_b[b as usize] = r + 1;
    }
    let mut shown: Vec<u32> = oa.iter().take(TOP).copied().collect();
    for &id in ob.iter().take(TOP) {
        if !shown.contains(&id) {
            shown.push(id);
        }
    }
    shown.sort_by_key(|&id| rank_a[id as usize]);
    let ranked: Vec<Ranked> = shown
        .iter()
        .map(|&id| Ranked {
            id,
            p_original: lp[id as usize].exp(),
            p_quantized: lq[id as usize].exp(),
            rank_original: rank_a[id as usize],
            rank_quantized: rank_b[id as usize],
        })
        .collect();
    let mut most_changed: Vec<Ranked> = ranked
        .iter()
        .filter(|r| r.rank_change() != 0)
        .cloned()
        .collect();
    most_changed.sort_by(|a, b| {
        b.rank_change()
            .abs()
            .cmp(&a.rank_change().abs())
            .then(a.rank_original.cmp(&b.rank_original))
    });
    most_changed.truncate(MOST_CHANGED);
    Ok(Comparison {
        positions,
        mean_kl,
        top1_agreement: agree as f64 / n,
        perplexity,
        last: ranked,
        most_changed,
    })
}

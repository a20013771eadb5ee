//! Locally typical sampling, with both references' boundaries.

use crate::sampling::chain::Rule;
use crate::sampling::pool::Pool;

/// A walk's ids in id order and its last id, as [`Pool::walk`] returns them.
type Walk = (Vec<u32>, u32);

/// Below this many kept ids, walk them all: listing the ids near the entropy first would cost
/// more than it saves.
const NEAR_FROM: usize = 2048;

/// Locally typical: order the ids by |−ln p_i − H| (closest to the entropy first) and keep
/// them until their mass reaches p. Hugging Face stops at the first running mass ≥ p and keeps
/// every id whose distance equals the last one's; llama.cpp stops at the first running mass
/// > p. Both keep at least `min_keep`; p ≥ 1 = off.
pub(super) fn typical(pool: &mut Pool, code: u8, p: f32, min_keep: usize, rule: Rule) -> f64 {
    if p >= 1.0 || pool.kept <= 1 {
        return 0.0;
    }
    let total = pool.exps();
    let (h, sigma) = pool.surprisal();
    // |−ln p_i − H| with −ln p_i = ln Σe − (s_i − max): |c − s_i|, c = ln Σe + max − H, in
    // float32 as both references take it.
    let c = (total.ln() + pool.top() as f64 - h) as f32;
    let key = |i: usize| (c - pool.score(i)).abs() as f64;
    let target = p as f64 * total;
    let stop = |mass: f64, count: usize| match rule {
        Rule::HuggingFace => mass >= target && count >= min_keep,
        Rule::LlamaCpp => mass > target && count >= min_keep,
    };
    let near = if pool.kept > NEAR_FROM {
        near_walk(pool, c, sigma, p, key, stop)
    } else {
        None
    };
    let (near, walked) = match near {
        Some((near, walked)) => (Some(near), Some(walked)),
        None => (None, pool.walk(key, stop)),
    };
    let Some((ids, last)) = walked else {
        return 0.0;
    };
    match rule {
        Rule::LlamaCpp => pool.keep_only(ids, code),
        Rule::HuggingFace => {
            // Every id tied with the last one's key has a key below the walk's edge: it is
            // among the ids near c, when the walk went through those only.
            let edge = key(last as usize);
            let mut ids = ids;
            let mut ties: Vec<u32> = Vec::new();
            let mut tie = |i: usize| {
                if key(i) == edge && ids.binary_search(&(i as u32)).is_err() {
                    ties.push(i as u32)
                }
            };
            match &near {
                Some(near) => near.iter().for_each(|&i| tie(i as usize)),
                None => pool.each(tie),
            }
            if !ties.is_empty() {
                ids.extend(ties);
                ids.sort_unstable();
            }
            pool.keep_only(ids, code)
        }
    }
}

/// The walk over the ids near c only, when it is the whole walk: the ids with s_i ≥ c − r
/// (e_i ≥ e^(c − r − max): one vectorised pass over the exponentials lists them), for an r that
/// turns out to be past the key where the walk stops, so that every id left out comes after.
/// The first r is a guess, 1.1·z·σ with σ the surprisal's spread and z the two-sided normal
/// quantile of p, as if −ln p_i were normal around H; it doubles twice if the walk does not stop
/// within it. Returns the ids listed and the walk's result; `None` if no r served, or one
/// listed more than a quarter of the kept ids (the caller walks every id).
fn near_walk(
    pool: &Pool,
    c: f32,
    sigma: f64,
    p: f32,
    key: impl Fn(usize) -> f64 + Copy,
    stop: impl Fn(f64, usize) -> bool + Copy,
) -> Option<(Vec<u32>, Walk)> {
    let (c, top) = (c as f64, pool.top() as f64);
    let mut r = (1.1 * normal_quantile(p as f64) * sigma).max(1.0 / 32.0);
    for _ in 0..3 {
        // An id whose key is below r − 2·slack has s_i > c − r + slack, so e_i (s_i − max
        // rounded to float32, then exp within an ulp) is ≥ `least`; an id left out has a key
        // above r − 2·slack. Slack covers float32's rounding of c − s_i and of s_i − max.
        let slack = (c.abs() + top.abs() + r + 1.0) / (1u64 << 20) as f64;
        let least = ((c - r - top).exp() * (1.0 - 1.0 / (1u64 << 20) as f64)) as f32;
        if least < f32::MIN_POSITIVE {
            return None;
        }
        let near = pool.at_least(least);
        if near.len() > pool.kept / 4 {
            return None;
        }
        if let Some(walked) = pool.walk_among(&near, key, stop) {
            if key(walked.1 as usize) + 2.0 * slack < r {
                return Some((near, walked));
            }
        }
        r *= 2.0;
    }
    None
}

/// z with P(|Z| ≤ z) = p for a standard normal Z, within 5·10⁻⁴ (Abramowitz and Stegun
/// 26.2.23); 0 for p ≤ 0.
fn normal_quantile(p: f64) -> f64 {
    let q = (1.0 - p) / 2.0;
    if q >= 0.5 {
        return 0.0;
    }
    let t = (-2.0 * q.ln()).sqrt();
    t - (2.515517 + t * (0.802853 + t * 0.010328))
        / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
}

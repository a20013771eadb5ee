//! Temperature, and llama.cpp's dynamic temperature (`temp_ext`).

use crate::sampling::pool::Pool;

/// s ← s / t; t = 0 keeps only the best id (the lowest on a tie), as llama.cpp's temperature
/// ≤ 0 does. Hugging Face refuses t = 0 (it means greedy decoding, `do_sample=False`).
pub(super) fn temperature(pool: &mut Pool, code: u8, t: f32) -> f64 {
    if t <= 0.0 {
        let best = pool.best(1);
        return pool.keep_only(best, code);
    }
    pool.divide(t);
    0.0
}

/// llama.cpp's `temp_ext`: with range > 0 and more than one id kept, T from the normalised
/// entropy, min_t + (max_t − min_t)·(H / ln n)^exponent, min_t = max(0, t − range),
/// max_t = t + range; then temperature T.
pub(super) fn dynamic_temperature(
    pool: &mut Pool,
    code: u8,
    t: f32,
    range: f32,
    exponent: f32,
) -> f64 {
    if range <= 0.0 {
        return temperature(pool, code, t);
    }
    if pool.kept <= 1 {
        return 0.0;
    }
    let (lo, hi) = ((t - range).max(0.0), t + range);
    let max_entropy = -(1.0 / pool.kept as f32).ln();
    let normalised = entropy_f32(pool) / max_entropy;
    let dyn_t = lo + (hi - lo) * normalised.powf(exponent);
    temperature(pool, code, dyn_t)
}

/// The entropy of the kept ids' distribution as llama.cpp's `temp_ext` takes it, in float32:
/// p_i = exp(s_i − max) / Σ, sums in order best first, H = Σ −p_i ln p_i. T depends on H
/// through a power, so float64 would move the probabilities by more than 1e-6. The order is
/// exact up to 2048 ids (a set that small is ordered); above, the entropy is float64.
pub(super) fn entropy_f32(pool: &mut Pool) -> f32 {
    if pool.kept > 2048 {
        // Too many to order: float64 without a log per id, then float32.
        pool.exps();
        return pool.entropy() as f32;
    }
    let ids = pool.best(pool.kept);
    let max = pool.max();
    let e: Vec<f32> = (ids.iter())
        .map(|&i| crate::sampling::fast::exp_le0(pool.score(i as usize) - max))
        .collect();
    let sum = e.iter().fold(0.0f32, |a, &x| a + x);
    let mut h = 0.0f32;
    for &x in &e {
        let p = x / sum;
        if p > 0.0 {
            h -= p * p.ln();
        }
    }
    h
}

//! ε- and η-sampling (Hugging Face's truncation samplers).

use crate::sampling::pool::Pool;

/// Drops the ids with p_i below `floor`, but never one tied with the best score (Hugging
/// Face's `min_tokens_to_keep` = 1 for ε- and η-sampling).
pub(super) fn below_floor(pool: &mut Pool, code: u8, floor: f64) -> f64 {
    let max = pool.top();
    pool.retain(code, |pl, i| pl.p(i) >= floor || pl.score(i) >= max)
}

/// ε-sampling: drop p_i < ε; 0 = off.
pub(super) fn epsilon_cut(pool: &mut Pool, code: u8, epsilon: f64) -> f64 {
    if epsilon <= 0.0 {
        return 0.0;
    }
    pool.exps();
    below_floor(pool, code, epsilon)
}

/// η-sampling: drop p_i < η = min(ε, √ε · e^−H); 0 = off.
pub(super) fn eta(pool: &mut Pool, code: u8, epsilon: f32) -> f64 {
    if epsilon <= 0.0 {
        return 0.0;
    }
    pool.exps();
    let h = pool.entropy();
    let e = epsilon as f64;
    below_floor(pool, code, e.min(e.sqrt() * (-h).exp()))
}

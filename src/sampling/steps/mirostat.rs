//! Mirostat 1.0 and 2.0.

use super::top_k::top_k;
use crate::sampling::chain::Rule;
use crate::sampling::pool::Pool;

/// Mirostat 1.0: from the m best ids' probabilities, the Zipf exponent ŝ by least squares
/// (t_i = ln((i + 2)/(i + 1)), b_i = ln(p_i / p_{i+1})), then keep the k best,
/// k = (ε̂ · 2^μ / (1 − V^−ε̂))^(1/ŝ), ε̂ = ŝ − 1. In float32, as llama.cpp.
pub(super) fn mirostat(pool: &mut Pool, code: u8, m: usize, mu: f32) -> f64 {
    pool.exps();
    let top = pool.best(m.min(pool.kept));
    let p: Vec<f32> = top.iter().map(|&i| pool.p(i as usize) as f32).collect();
    let (mut sum_tb, mut sum_tt) = (0.0f32, 0.0f32);
    for i in 0..m.saturating_sub(1).min(p.len().saturating_sub(1)) {
        let t = ((i + 2) as f32 / (i + 1) as f32).ln();
        let b = (p[i] / p[i + 1]).ln();
        sum_tb += t * b;
        sum_tt += t * t;
    }
    let s_hat = sum_tb / sum_tt;
    let eps = s_hat - 1.0;
    let v = pool.len() as f32;
    let k = ((eps * 2f32.powf(mu)) / (1.0 - v.powf(-eps))).powf(1.0 / s_hat);
    // llama.cpp: top_k(max(int(k), 1)). Converting a float that is NaN or beyond int32 to
    // int is undefined in C++; x86-64's conversion gives INT_MIN, so llama.cpp keeps 1 id (as
    // when m = 1, or one id is kept, and ŝ = 0/0). Here the same.
    let k = if k.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&k) {
        1
    } else {
        (k as i64).max(1) as usize
    };
    // The k best are the first k of the m best when k ≤ m (the same order, ties to the lower
    // id): no second selection over the vocabulary.
    if k <= top.len() {
        let mut best = top[..k].to_vec();
        best.sort_unstable();
        return pool.keep_only(best, code);
    }
    top_k(pool, code, k, Rule::LlamaCpp)
}

/// Mirostat 2.0: keep the ids whose surprisal −log2 p_i is ≤ μ, at least the best one.
pub(super) fn mirostat_v2(pool: &mut Pool, code: u8, mu: f32) -> f64 {
    pool.exps();
    // −log2 p_i ≤ μ ⇔ p_i ≥ 2^−μ, but llama.cpp compares the surprisal: so here, for the ids
    // near the threshold only (a log per id costs more than the rest of the pass).
    let least = (-mu).exp2() as f64;
    let mut keep: Vec<u32> = Vec::new();
    pool.each(|i| {
        let p = pool.p(i);
        let near = (p - least).abs() <= least * 1e-5;
        if (!near && p > least) || (near && -(p as f32).log2() <= mu) {
            keep.push(i as u32)
        }
    });
    if keep.is_empty() {
        let best = pool.best(1);
        return pool.keep_only(best, code);
    }
    pool.keep_only(keep, code)
}

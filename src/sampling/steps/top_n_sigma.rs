//! Top-nσ.

use crate::sampling::pool::Pool;

/// Top-nσ: drop s_i < max − n·σ, σ the kept scores' standard deviation (over n, not n − 1);
/// n ≤ 0 = off.
pub(super) fn top_n_sigma(pool: &mut Pool, code: u8, n: f32) -> f64 {
    if n <= 0.0 || pool.kept <= 1 {
        return 0.0;
    }
    let (mut sum, mut max) = (0.0f64, f64::NEG_INFINITY);
    pool.each(|i| {
        let s = pool.score(i) as f64;
        sum += s;
        max = max.max(s);
    });
    let mean = sum / pool.kept as f64;
    let mut var = 0.0f64;
    pool.each(|i| var += (pool.score(i) as f64 - mean).powi(2));
    let sigma = (var / pool.kept as f64).sqrt();
    let floor = max - n as f64 * sigma;
    pool.retain(code, |pl, i| pl.score(i) as f64 >= floor)
}

//! XTC, Exclude Top Choices.

use crate::rng::Rng;
use crate::sampling::pool::Pool;

/// XTC: off if probability ≤ 0, threshold > 0.5 or fewer than 2 ids. Else a coin u ∈ [0, 1)
/// from the generator; if u ≤ probability, the ids with p_i ≥ threshold, all but the least
/// likely of them, go, provided at least `min_keep` ids stay.
pub(super) fn xtc(
    pool: &mut Pool,
    code: u8,
    probability: f32,
    threshold: f32,
    min_keep: usize,
    rng: &mut Rng,
) -> f64 {
    if probability <= 0.0 || threshold > 0.5 || pool.kept < 2 {
        return 0.0;
    }
    let chance = rng.next_f64() as f32;
    if chance > probability {
        return 0.0;
    }
    pool.exps();
    // llama.cpp compares its float32 probabilities.
    let mut above: Vec<u32> = Vec::new();
    pool.each(|i| {
        if pool.p(i) as f32 >= threshold {
            above.push(i as u32)
        }
    });
    if above.len() < 2 || pool.kept - (above.len() - 1) < min_keep {
        return 0.0;
    }
    // The least likely of them stays: the last in the chain's order.
    let better = pool.better();
    let last = (above.iter().copied())
        .max_by(|a, b| better(a, b))
        .unwrap_or(above[0]);
    pool.retain(code, |_, i| {
        i as u32 == last || above.binary_search(&(i as u32)).is_err()
    })
}

//! Locally typical sampling, with both references' boundaries.

use crate::sampling::chain::Rule;
use crate::sampling::pool::Pool;

/// Locally typical: order the ids by |−ln p_i − H| (closest to the entropy first) and keep
/// them until their mass reaches p. Hugging Face stops at the first running mass ≥ p and keeps
/// every id whose distance equals the last one's; llama.cpp stops at the first running mass
/// > p. Both keep at least `min_keep`; p ≥ 1 = off.
pub(super) fn typical(pool: &mut Pool, code: u8, p: f32, min_keep: usize, rule: Rule) -> f64 {
    if p >= 1.0 || pool.kept <= 1 {
        return 0.0;
    }
    let total = pool.exps();
    let h = pool.entropy();
    // |−ln p_i − H| with −ln p_i = ln Σe − (s_i − max): |c − s_i|, c = ln Σe + max − H, in
    // float32 as both references take it.
    let c = (total.ln() + pool.top() as f64 - h) as f32;
    let key = |i: usize| (c - pool.score(i)).abs() as f64;
    let target = p as f64 * total;
    let walked = match rule {
        Rule::HuggingFace => pool.walk(key, |mass, count| mass >= target && count >= min_keep),
        Rule::LlamaCpp => pool.walk(key, |mass, count| mass > target && count >= min_keep),
    };
    let Some((ids, last)) = walked else {
        return 0.0;
    };
    match rule {
        Rule::LlamaCpp => pool.keep_only(ids, code),
        Rule::HuggingFace => {
            let edge = key(last as usize);
            let mut ids = ids;
            let mut ties: Vec<u32> = Vec::new();
            pool.each(|i| {
                if key(i) == edge && ids.binary_search(&(i as u32)).is_err() {
                    ties.push(i as u32)
                }
            });
            if !ties.is_empty() {
                ids.extend(ties);
                ids.sort_unstable();
            }
            pool.keep_only(ids, code)
        }
    }
}

//! Hugging Face's repetition penalty.

use crate::sampling::pool::Pool;

/// Hugging Face's repetition penalty over the whole history, once per id: s ← s · penalty if
/// s < 0, else s / penalty.
pub(super) fn repetition_penalty(pool: &mut Pool, penalty: f32, history: &[u32]) -> f64 {
    if penalty == 1.0 {
        return 0.0;
    }
    let mut seen = history.to_vec();
    seen.sort_unstable();
    seen.dedup();
    for &id in &seen {
        let i = id as usize;
        if i < pool.len() && pool.is_kept(i) {
            let s = pool.score(i);
            pool.set(i, if s < 0.0 { s * penalty } else { s / penalty });
        }
    }
    0.0
}

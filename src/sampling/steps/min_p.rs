//! Min-p.

use crate::sampling::pool::Pool;

/// Min-p in log space: p_i ≥ p · p_max ⇔ s_i ≥ s_max + ln p; at least `min_keep` ids (the
/// best ones). Hugging Face compares the probabilities, llama.cpp the logits, as here.
pub(super) fn min_p(pool: &mut Pool, code: u8, p: f32, min_keep: usize) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    let floor = pool.max() as f64 + (p as f64).ln();
    let mut ids = Vec::new();
    pool.each(|i| {
        if pool.score(i) as f64 >= floor {
            ids.push(i as u32)
        }
    });
    if ids.len() >= min_keep.max(1) {
        pool.keep_only(ids, code)
    } else {
        let mut ids = pool.best_set(min_keep);
        ids.sort_unstable();
        pool.keep_only(ids, code)
    }
}

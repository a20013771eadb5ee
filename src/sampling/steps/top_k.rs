//! Top-k, with both references' ties.

use crate::sampling::chain::Rule;
use crate::sampling::pool::Pool;

/// Top-k. Hugging Face keeps every id whose score is ≥ the k-th best's (ties with it too);
/// llama.cpp exactly k (here the lower ids among those tied).
pub(super) fn top_k(pool: &mut Pool, code: u8, k: usize, rule: Rule) -> f64 {
    if k == 0 || k >= pool.kept {
        return 0.0;
    }
    // The exponentials first: the mass the step removes needs them, and with them the
    // selection lists its candidates in one vectorised pass.
    pool.exps();
    let mut best = pool.best_set(k);
    match rule {
        Rule::LlamaCpp => {
            best.sort_unstable();
            pool.keep_only(best, code)
        }
        Rule::HuggingFace => {
            // The k-th best is the worst of the k best; every id tied with it has its e.
            let (kth, at) = (best.iter()).fold((f32::INFINITY, 0), |(m, at), &i| {
                let s = pool.score(i as usize);
                if s < m {
                    (s, i as usize)
                } else {
                    (m, at)
                }
            });
            let mut ids = pool.at_least(pool.e(at));
            ids.retain(|&i| pool.score(i as usize) >= kth);
            pool.keep_only(ids, code)
        }
    }
}

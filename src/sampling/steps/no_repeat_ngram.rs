//! Hugging Face's no-repeat n-gram ban.

use super::history::suffix_matches;
use crate::sampling::pool::Pool;

/// Hugging Face's no-repeat n-gram: ban every id that, after the last n − 1 ids, would repeat
/// an n-gram of the history; 0 = off. The id after each earlier occurrence of the last n − 1
/// ids is banned: k back, an occurrence ends where the Z-array's match is ≥ n − 1.
pub(super) fn no_repeat_ngram(pool: &mut Pool, code: u8, n: usize, history: &[u32]) -> f64 {
    if n == 0 || history.len() + 1 < n {
        return 0.0;
    }
    let len = history.len();
    let z = suffix_matches(history);
    let mut banned: Vec<u32> = (1..=len)
        .filter(|&k| z[k] >= n - 1)
        .map(|k| history[len - k])
        .collect();
    banned.sort_unstable();
    banned.dedup();
    if !banned
        .iter()
        .any(|&b| (b as usize) < pool.len() && pool.is_kept(b as usize))
    {
        return 0.0;
    }
    pool.retain(code, |_, i| banned.binary_search(&(i as u32)).is_err())
}

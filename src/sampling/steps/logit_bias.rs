//! Logit bias.

use crate::sampling::pool::Pool;

/// s_id ← s_id + value for each pair (values add up for a repeated id); −∞ cuts the id.
/// An id beyond the vocabulary is an error of the caller ([`crate::sampling::workbench`] checks).
pub(super) fn logit_bias(pool: &mut Pool, code: u8, bias: &[(u32, f32)]) -> f64 {
    let mut banned: Vec<u32> = Vec::new();
    for &(id, value) in bias {
        let i = id as usize;
        if i >= pool.len() || !pool.is_kept(i) {
            continue;
        }
        if value == f32::NEG_INFINITY {
            banned.push(id);
        } else {
            pool.set(i, pool.score(i) + value);
        }
    }
    if banned.is_empty() {
        return 0.0;
    }
    banned.sort_unstable();
    pool.retain(code, |_, i| banned.binary_search(&(i as u32)).is_err())
}

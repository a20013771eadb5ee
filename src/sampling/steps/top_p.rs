//! Top-p (nucleus).

use crate::sampling::pool::Pool;

/// Top-p: the smallest best-first prefix whose mass reaches p of the kept mass (the id that
/// reaches it included), and at least `min_keep` ids; p ≥ 1 = off.
pub(super) fn top_p(pool: &mut Pool, code: u8, p: f32, min_keep: usize) -> f64 {
    if p >= 1.0 || pool.kept <= 1 {
        return 0.0;
    }
    let total = pool.exps();
    let target = p as f64 * total;
    let max = pool.top() as f64;
    let key = |i: usize| max - pool.score(i) as f64;
    let stop = |mass: f64, count: usize| mass >= target && count >= min_keep.max(1);
    // The nucleus's last id L: the ids from L on carry more than (1 − p)·Σe, and there are at
    // most `kept` of them, each with e ≤ e_L, so e_L ≥ (1 − p)·Σe / kept. The ids below half
    // of that come after L: walk the others only (if the walk stops among them).
    let least = ((1.0 - p as f64) * total / (2 * pool.kept) as f64) as f32;
    let walked = if least > 0.0 && pool.kept > 2048 {
        let ids = pool.at_least(least);
        (pool.walk_among(&ids, key, stop)).or_else(|| pool.walk(key, stop))
    } else {
        pool.walk(key, stop)
    };
    match walked {
        Some((ids, _)) => pool.keep_only(ids, code),
        None => 0.0,
    }
}

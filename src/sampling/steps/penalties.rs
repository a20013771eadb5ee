//! llama.cpp's repeat, frequency and presence penalties.

use super::history::window;
use crate::sampling::pool::Pool;

/// llama.cpp's penalties over the last `last_n` ids (−1 = all, 0 = off), each id seen c times:
/// s ← s · repeat if s ≤ 0, else s / repeat; then s ← s − c·frequency − presence.
pub(super) fn penalties(
    pool: &mut Pool,
    history: &[u32],
    last_n: i32,
    repeat: f32,
    frequency: f32,
    presence: f32,
) -> f64 {
    if last_n == 0 || (repeat == 1.0 && frequency == 0.0 && presence == 0.0) {
        return 0.0;
    }
    let window = window(history, last_n);
    let mut counts: Vec<u32> = window.to_vec();
    counts.sort_unstable();
    let mut j = 0;
    while j < counts.len() {
        let id = counts[j];
        let mut c = 0;
        while j < counts.len() && counts[j] == id {
            c += 1;
            j += 1;
        }
        let i = id as usize;
        if i < pool.len() && pool.is_kept(i) {
            let s = pool.score(i);
            let s = if s <= 0.0 { s * repeat } else { s / repeat };
            pool.set(i, s - (c as f32 * frequency + presence));
        }
    }
    0.0
}

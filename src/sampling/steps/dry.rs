//! DRY, "Don't Repeat Yourself".

use super::history::suffix_matches;
use super::history::window;
use crate::sampling::pool::Pool;

/// llama.cpp's DRY sampler, with breakers as id sequences.
pub(super) struct Dry<'a> {
    pub(super) multiplier: f32,
    pub(super) base: f32,
    pub(super) allowed_length: usize,
    pub(super) last_n: i32,
    pub(super) breakers: &'a [Vec<u32>],
}

impl Dry<'_> {
    /// For each shift k of the last `last_n` ids, the repeat of length L (the latest ids equal
    /// those k back, capped where a breaker stands) makes the id that followed the earlier
    /// copy lose multiplier · base^(L − allowed) if L ≥ allowed. Only scores change.
    pub(super) fn apply(&self, pool: &mut Pool, history: &[u32]) -> f64 {
        if self.multiplier == 0.0 || self.base < 1.0 || self.last_n == 0 {
            return 0.0;
        }
        let w = window(history, self.last_n);
        let n = w.len();
        if n <= self.allowed_length {
            return 0.0;
        }
        // r(i): the id i back from the latest (r(0) the latest).
        let r = |i: usize| w[n - 1 - i];
        // A breaker (head, then tail in text order) ending i back caps repeats at i − tail.
        let mut rep_limit = n;
        'scan: for i in 0..n {
            let mut longest: Option<usize> = None;
            for b in self.breakers {
                let (head, tail) = (b[0], &b[1..]);
                if head == r(i)
                    && tail.len() <= i
                    && longest.is_none_or(|l| tail.len() > l)
                    && (0..tail.len()).all(|o| tail[o] == r(i - o - 1))
                {
                    longest = Some(tail.len());
                }
            }
            if let Some(l) = longest {
                rep_limit = i - l;
                break 'scan;
            }
        }
        if rep_limit < self.allowed_length {
            return 0.0;
        }
        let z = suffix_matches(w);
        // The longest repeat each following id would extend.
        let mut longest: Vec<(u32, usize)> = Vec::new();
        for (k, &matched) in z.iter().enumerate().take(n).skip(1) {
            let len = matched.min(rep_limit);
            if len >= self.allowed_length {
                longest.push((r(k - 1), len));
            }
        }
        longest.sort_unstable();
        let max_exponent = if self.base > 1.000001 {
            (88.722_84_f32 / self.base.ln()) as i64
        } else {
            0
        };
        let mut j = 0;
        while j < longest.len() {
            let id = longest[j].0;
            let mut len = 0;
            while j < longest.len() && longest[j].0 == id {
                len = len.max(longest[j].1);
                j += 1;
            }
            let i = id as usize;
            let single_breaker = self.breakers.iter().any(|b| b.len() == 1 && b[0] == id);
            if i < pool.len() && pool.is_kept(i) && !single_breaker {
                let mut exponent = (len - self.allowed_length) as i64;
                if max_exponent > 0 && exponent > max_exponent {
                    exponent = max_exponent;
                }
                let penalty =
                    self.multiplier * self.base.powi(exponent.min(i32::MAX as i64) as i32);
                pool.set(i, pool.score(i) - penalty);
            }
        }
        0.0
    }
}

//! The candidate pool a [`super::workbench::Sampler`]'s steps share: every id's score in log
//! space, unshifted (a repetition penalty depends on the sign of the logit), which ids are still
//! kept, and which step cut each of the others. Like [`super::Candidates`], it works on all ids
//! until a step cuts, then on the list of kept ids; unlike it, steps may change scores in any
//! order, so the exponentials are taken when a step needs them and kept until a score changes.
//!
//! Orderings: best first is higher score first, on a tie the lower id first. No step sorts the
//! vocabulary: [`Pool::best`] and [`Pool::walk`] bucket the ids (1/32 nat per bucket), keep the
//! buckets before the one where the count or the mass reaches its target, and order only that
//! bucket's ids.

use std::cmp::Ordering;

use super::candidates::to_log_space;
use super::fast;
use super::Input;
use crate::error::Result;

/// The cut code of an id the input excluded (logit −∞, probability 0). Step i's code is i + 1.
pub const INPUT_CUT: u8 = 255;

/// Bucket width and count for [`Pool::best`] and [`Pool::walk`]: keys from 0 to 32 in 1/32
/// steps, the last bucket holding every key above.
const BUCKETS: usize = 1024;

/// Below this many kept ids, order them all: the buckets would cost more than they save.
const SMALL: usize = 2048;

fn bucket32(key: f32) -> usize {
    ((key * 32.0) as usize).min(BUCKETS - 1)
}

fn bucket(key: f64) -> usize {
    // +∞ lands in the last bucket (`as` saturates).
    ((key * 32.0) as usize).min(BUCKETS - 1)
}

/// The candidate pool. See the module's doc.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Scores in log space, one per id; meaningful for the kept ids only (a step that keeps most
    /// of the vocabulary sets the others to −∞, see [`Pool::cut_in_place`]).
    s: Vec<f32>,
    /// The kept ids in id order once a step has cut; `None` while they are every id whose
    /// score is above −∞.
    list: Option<Vec<u32>>,
    /// Per id: 0 kept, i + 1 cut by step i, [`INPUT_CUT`] excluded by the input.
    pub cut: Vec<u8>,
    /// How many ids are kept.
    pub kept: usize,
    /// e_i = exp(s_i − max) for the kept ids, when `fresh`.
    e: Vec<f32>,
    /// The kept ids' best score and Σ e_i, when `fresh`.
    max: f32,
    sum: f64,
    fresh: bool,
}

impl Pool {
    /// Every id of `values` (of the given kind) that the input does not exclude.
    pub fn new(values: &[f32], input: Input) -> Result<Pool> {
        let v = to_log_space(values, input)?;
        let fast::Scan { excluded, .. } = fast::scan("values", &v)?;
        let s = v.into_owned();
        let cut = if excluded == 0 {
            vec![0; s.len()]
        } else {
            (s.iter())
                .map(|&x| if x > f32::NEG_INFINITY { 0 } else { INPUT_CUT })
                .collect()
        };
        Ok(Pool {
            kept: s.len() - excluded,
            s,
            list: None,
            cut,
            e: Vec::new(),
            max: 0.0,
            sum: 0.0,
            fresh: false,
        })
    }

    /// The vocabulary size V.
    #[allow(clippy::len_without_is_empty)] // never empty: `new` refuses no values
    pub fn len(&self) -> usize {
        self.s.len()
    }

    /// Score of id i.
    pub fn score(&self, i: usize) -> f32 {
        self.s[i]
    }

    /// Whether id i is still kept.
    pub fn is_kept(&self, i: usize) -> bool {
        self.cut[i] == 0
    }

    /// The kept ids, in id order.
    pub fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        let (list, all) = match &self.list {
            Some(ids) => (&ids[..], 0),
            None => (&[][..], self.s.len()),
        };
        (list.iter().map(|&i| i as usize))
            .chain((0..all).filter(|&i| self.s[i] > f32::NEG_INFINITY))
    }

    /// The kept ids in id order, once a step has cut any (`None` while every id the input
    /// did not exclude is kept).
    pub fn list(&self) -> Option<&[u32]> {
        self.list.as_deref()
    }

    /// The kept ids with e_i ≥ `least` (> 0), in id order: over the whole vocabulary four ids at
    /// a time (`fast::at_least`; an id the input excluded has e = 0). Call [`Pool::exps`] first.
    pub fn at_least(&self, least: f32) -> Vec<u32> {
        match &self.list {
            None => fast::at_least(&self.e, least),
            Some(ids) => (ids.iter().copied())
                .filter(|&i| self.e[i as usize] >= least)
                .collect(),
        }
    }

    /// Calls `f` on each kept id in id order: a plain loop in either form (the hot passes use it
    /// rather than [`Pool::ids`], whose chained iterator the compiler does not flatten).
    #[inline]
    pub fn each(&self, mut f: impl FnMut(usize)) {
        match &self.list {
            Some(ids) => ids.iter().for_each(|&i| f(i as usize)),
            None => {
                for (i, &x) in self.s.iter().enumerate() {
                    if x > f32::NEG_INFINITY {
                        f(i)
                    }
                }
            }
        }
    }

    /// Sets the score of kept id i to y, kept finite: a score that overflowed to −∞ becomes the
    /// lowest finite f32 (−∞ means "cut"), one that overflowed to +∞ the highest.
    pub fn set(&mut self, i: usize, y: f32) {
        self.s[i] = if y.is_nan() {
            self.s[i]
        } else {
            y.clamp(f32::MIN, f32::MAX)
        };
        self.fresh = false;
    }

    /// Every kept score divided by t > 0 (temperature).
    pub fn divide(&mut self, t: f32) {
        if t == 1.0 {
            return;
        }
        match self.list.take() {
            Some(ids) => {
                for &i in &ids {
                    let i = i as usize;
                    self.s[i] = (self.s[i] / t).clamp(f32::MIN, f32::MAX);
                }
                self.list = Some(ids);
            }
            None => fast::divide(&mut self.s, t),
        }
        self.fresh = false;
    }

    /// The best kept score.
    pub fn max(&self) -> f32 {
        match &self.list {
            Some(ids) => (ids.iter()).fold(f32::NEG_INFINITY, |m, &i| m.max(self.s[i as usize])),
            None => fast::max_of(&self.s),
        }
    }

    /// Takes e_i = exp(s_i − max) over the kept ids, if a score or the set changed since, and
    /// returns Σ e_i (≥ 1: the best id has e = 1). Sums in [`crate::numerics::sum`]'s order.
    pub fn exps(&mut self) -> f64 {
        if self.fresh {
            return self.sum;
        }
        let max = self.max();
        match &self.list {
            None => (self.e, self.sum) = fast::exp_shifted(&self.s, max),
            Some(ids) => {
                if self.e.len() != self.s.len() {
                    self.e = vec![0.0; self.s.len()];
                }
                let mut acc = [0.0f64; 4];
                for &i in ids {
                    let i = i as usize;
                    let e = fast::exp_le0(fast::kept_score(self.s[i], self.s[i] - max));
                    self.e[i] = e;
                    acc[i % 4] += e as f64;
                }
                self.sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            }
        }
        self.max = max;
        self.fresh = true;
        self.sum
    }

    /// e_i as [`Pool::exps`] left it (call that first).
    pub fn e(&self, i: usize) -> f32 {
        self.e[i]
    }

    /// The kept ids' distribution's best score (call [`Pool::exps`] first).
    pub fn top(&self) -> f32 {
        self.max
    }

    /// p_i = e_i / Σ e (call [`Pool::exps`] first).
    pub fn p(&self, i: usize) -> f64 {
        self.e[i] as f64 / self.sum
    }

    /// Entropy H = −Σ p_i ln p_i of the kept ids' distribution, in nats, without a log per id:
    /// ln p_i = (s_i − max) − ln Σe (call [`Pool::exps`] first).
    pub fn entropy(&self) -> f64 {
        self.surprisal().0
    }

    /// The mean and the standard deviation of the surprisal −ln p_i over the kept ids'
    /// distribution: the entropy H, and σ = √(Σ p_i (ln p_i)² − H²), in one pass (call
    /// [`Pool::exps`] first).
    pub fn surprisal(&self) -> (f64, f64) {
        // With d_i = s_i − max: ln p_i = d_i − ln Σe, so H = ln Σe − Σ e_i d_i / Σe, and the
        // variance of ln p_i is that of d_i, Σ e_i d_i² / Σe − (Σ e_i d_i / Σe)².
        let max = self.max as f64;
        let term = |e: f32, s: f32| {
            if e > 0.0 {
                let d = s as f64 - max;
                (e as f64 * d, e as f64 * d * d)
            } else {
                (0.0, 0.0)
            }
        };
        let (es, es2) = match &self.list {
            Some(ids) => ids.iter().fold((0.0, 0.0), |(a, b), &i| {
                let (x, y) = term(self.e[i as usize], self.s[i as usize]);
                (a + x, b + y)
            }),
            // Four running sums, so that the pass vectorises (e is 0 for every id not kept).
            None => {
                let (mut lanes, mut lanes2) = ([0.0f64; 4], [0.0f64; 4]);
                for (e, s) in self.e.chunks(4).zip(self.s.chunks(4)) {
                    for j in 0..e.len() {
                        let (x, y) = term(e[j], s[j]);
                        lanes[j] += x;
                        lanes2[j] += y;
                    }
                }
                (
                    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]),
                    (lanes2[0] + lanes2[1]) + (lanes2[2] + lanes2[3]),
                )
            }
        };
        let mean = es / self.sum;
        let h = (self.sum.ln() - mean).max(0.0);
        (h, (es2 / self.sum - mean * mean).max(0.0).sqrt())
    }

    /// Keeps exactly `ids` (kept ids, in id order) and cuts every other kept id with `code`;
    /// returns the mass the cut ids had in the distribution before (0 if nothing was cut).
    pub fn keep_only(&mut self, ids: Vec<u32>, code: u8) -> f64 {
        if ids.len() == self.kept {
            return 0.0;
        }
        let sum = self.exps();
        if self.list.is_none() && ids.len() > self.s.len() / 8 {
            return self.cut_in_place(&ids, code, sum);
        }
        let mut removed = 0.0f64;
        match self.list.take() {
            Some(old) => {
                for &i in &old {
                    self.cut[i as usize] = code;
                }
            }
            None => {
                for c in self.cut.iter_mut() {
                    if *c == 0 {
                        *c = code;
                    }
                }
            }
        }
        let mut kept_mass = 0.0f64;
        for &i in &ids {
            self.cut[i as usize] = 0;
            kept_mass += self.e[i as usize] as f64;
        }
        removed += (sum - kept_mass).max(0.0) / sum;
        self.kept = ids.len();
        self.list = Some(ids);
        self.fresh = false;
        removed
    }

    /// [`Pool::keep_only`] for a step that keeps a large part of the whole vocabulary: the
    /// pool stays in its first form, the cut ids' scores set to −∞ as the references set them,
    /// so the later passes still run over the whole vocabulary four ids at a time.
    fn cut_in_place(&mut self, ids: &[u32], code: u8, sum: f64) -> f64 {
        let mut next = ids.iter().peekable();
        let mut kept_mass = 0.0f64;
        for i in 0..self.s.len() {
            if next.peek() == Some(&&(i as u32)) {
                next.next();
                kept_mass += self.e[i] as f64;
            } else if self.cut[i] == 0 {
                self.cut[i] = code;
                self.s[i] = f32::NEG_INFINITY;
            }
        }
        self.kept = ids.len();
        self.fresh = false;
        (sum - kept_mass).max(0.0) / sum
    }

    /// Keeps the kept ids for which `keep` holds; see [`Pool::keep_only`].
    pub fn retain(&mut self, code: u8, keep: impl Fn(&Pool, usize) -> bool) -> f64 {
        let mut ids = Vec::new();
        self.each(|i| {
            if keep(self, i) {
                ids.push(i as u32)
            }
        });
        self.keep_only(ids, code)
    }

    /// The chain's order, best first: higher score first, on a tie the lower id.
    pub fn better(&self) -> impl Fn(&u32, &u32) -> Ordering + Copy + '_ {
        let s = &self.s;
        move |a, b| {
            s[*b as usize]
                .partial_cmp(&s[*a as usize])
                .unwrap_or(Ordering::Equal)
                .then(a.cmp(b))
        }
    }

    /// The n best kept ids (n ≤ kept), best first. Buckets the scores below the best, orders
    /// only the ids up to the bucket where the count reaches n.
    pub fn best(&self, n: usize) -> Vec<u32> {
        let mut ids = self.best_set(n);
        ids.sort_unstable_by(self.better());
        ids
    }

    /// The n best kept ids (n ≤ kept), in no order: [`Pool::best`] without its sort.
    pub fn best_set(&self, n: usize) -> Vec<u32> {
        let n = n.min(self.kept);
        if n == 0 {
            return Vec::new();
        }
        let better = self.better();
        let mut cand: Vec<u32> = if self.kept <= SMALL {
            self.ids().map(|i| i as u32).collect()
        } else {
            // Buckets of the distance to the best, in float32 (only which bucket matters).
            let max = self.max();
            let key = |i: usize| bucket32(max - self.s[i]);
            let mut hist = vec![0usize; BUCKETS];
            self.each(|i| hist[key(i)] += 1);
            let (mut b, mut count) = (0, 0);
            while b < BUCKETS - 1 && count + hist[b] < n {
                count += hist[b];
                b += 1;
            }
            if self.fresh && self.list.is_none() && b + 1 < BUCKETS {
                // The exponentials are there: the ids up to bucket b have e above
                // e^(−(b+1)/32), less a margin far above exp's rounding error; one vectorised
                // pass lists them (and a few past b, which the key then drops).
                let edge = (-((b + 1) as f64) / 32.0).exp() * (1.0 - 1.0 / (1u64 << 20) as f64);
                let mut cand = fast::at_least(&self.e, edge as f32);
                cand.retain(|&i| key(i as usize) <= b);
                cand
            } else {
                let mut cand = Vec::with_capacity(count + hist[b]);
                self.each(|i| {
                    if key(i) <= b {
                        cand.push(i as u32)
                    }
                });
                cand
            }
        };
        if n < cand.len() {
            cand.select_nth_unstable_by(n - 1, better);
            cand.truncate(n);
        }
        cand
    }

    /// Walks the kept ids in the order of `key` (≥ 0, smaller first; on a tie the lower id),
    /// adding up e_i, and stops at the first id after which `stop(mass, count)` holds. Returns
    /// the ids walked, that one included, in id order, and that last id; `None` if `stop` never
    /// holds. Only the ids of the bucket (1/32 of key) where it stops are ordered. Call
    /// [`Pool::exps`] first.
    pub fn walk(
        &self,
        key: impl Fn(usize) -> f64,
        stop: impl Fn(f64, usize) -> bool,
    ) -> Option<(Vec<u32>, u32)> {
        self.walk_in(Kept(self), key, stop)
    }

    /// [`Pool::walk`] over `ids` only (kept ids in id order), for a step that knows that every
    /// other kept id comes after where it stops.
    pub fn walk_among(
        &self,
        ids: &[u32],
        key: impl Fn(usize) -> f64,
        stop: impl Fn(f64, usize) -> bool,
    ) -> Option<(Vec<u32>, u32)> {
        self.walk_in(Among(ids), key, stop)
    }

    fn walk_in(
        &self,
        ids: impl Ids,
        key: impl Fn(usize) -> f64,
        stop: impl Fn(f64, usize) -> bool,
    ) -> Option<(Vec<u32>, u32)> {
        let order = |a: &u32, b: &u32| {
            key(*a as usize)
                .partial_cmp(&key(*b as usize))
                .unwrap_or(Ordering::Equal)
                .then(a.cmp(b))
        };
        let walk_sorted = |ids: &mut Vec<u32>, mass: f64, count: usize| -> Option<usize> {
            ids.sort_unstable_by(order);
            let (mut m, mut c) = (mass, count);
            for (j, &i) in ids.iter().enumerate() {
                m += self.e[i as usize] as f64;
                c += 1;
                if stop(m, c) {
                    return Some(j);
                }
            }
            None
        };
        let small = ids.len() <= SMALL;
        let (mut taken, edge) = if small {
            let mut all: Vec<u32> = Vec::with_capacity(ids.len());
            ids.each(|i| all.push(i as u32));
            let j = walk_sorted(&mut all, 0.0, 0)?;
            all.truncate(j + 1);
            let last = all[j];
            (all, last)
        } else {
            // Two histograms, by the parity of the id, then added: consecutive ids often share
            // a bucket, and one histogram would make each update wait for the previous one.
            let mut mass = vec![[0.0f64; 2]; BUCKETS];
            let mut counts = vec![[0usize; 2]; BUCKETS];
            ids.each(|i| {
                let b = bucket(key(i));
                mass[b][i & 1] += self.e[i] as f64;
                counts[b][i & 1] += 1;
            });
            let mass: Vec<f64> = mass.iter().map(|m| m[0] + m[1]).collect();
            let count: Vec<usize> = counts.iter().map(|c| c[0] + c[1]).collect();
            let (mut b, mut m, mut c) = (0, 0.0, 0);
            while b < BUCKETS && !stop(m + mass[b], c + count[b]) {
                m += mass[b];
                c += count[b];
                b += 1;
            }
            if b == BUCKETS {
                return None;
            }
            let mut before = Vec::with_capacity(c);
            let mut at = Vec::new();
            ids.each(|i| match bucket(key(i)).cmp(&b) {
                Ordering::Less => before.push(i as u32),
                Ordering::Equal => at.push(i as u32),
                Ordering::Greater => {}
            });
            let j = walk_sorted(&mut at, m, c)?;
            let last = at[j];
            at.truncate(j + 1);
            at.sort_unstable();
            (merge(&before, &at), last)
        };
        if small {
            taken.sort_unstable();
        }
        Some((taken, edge))
    }

    /// The final distribution over all V ids (p_i for the kept ids, 0 for the others) and its
    /// entropy, in one pass ([`Pool::entropy`]'s sum as it goes).
    pub fn renormalise(&mut self) -> (Vec<f32>, f64) {
        let sum = self.exps();
        let max = self.max as f64;
        let mut ps = 0.0f64;
        let probs = match &self.list {
            Some(ids) => {
                let mut probs = vec![0.0f32; self.s.len()];
                for &i in ids {
                    let i = i as usize;
                    let p = self.e[i] as f64 / sum;
                    probs[i] = p as f32;
                    if p > 0.0 {
                        ps += p * (self.s[i] as f64 - max);
                    }
                }
                probs
            }
            // Every id (e is 0 for those the input excluded), four lanes at a time: a running
            // sum per lane lets the compiler vectorise the loop.
            None => {
                let mut probs = vec![0.0f32; self.s.len()];
                let mut lanes = [0.0f64; 4];
                let quads = (self.e.chunks(4))
                    .zip(self.s.chunks(4))
                    .zip(probs.chunks_mut(4));
                for ((e, s), out) in quads {
                    for j in 0..e.len() {
                        let p = e[j] as f64 / sum;
                        out[j] = p as f32;
                        lanes[j] += if p > 0.0 {
                            p * (s[j] as f64 - max)
                        } else {
                            0.0
                        };
                    }
                }
                ps = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
                probs
            }
        };
        (probs, (sum.ln() - ps).max(0.0))
    }
}

/// A set of kept ids that [`Pool::walk_in`] goes through, in id order.
trait Ids {
    fn len(&self) -> usize;
    fn each(&self, f: impl FnMut(usize));
}

/// Every kept id of the pool.
struct Kept<'a>(&'a Pool);

impl Ids for Kept<'_> {
    fn len(&self) -> usize {
        self.0.kept
    }
    fn each(&self, f: impl FnMut(usize)) {
        self.0.each(f)
    }
}

/// A list of kept ids.
struct Among<'a>(&'a [u32]);

impl Ids for Among<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn each(&self, mut f: impl FnMut(usize)) {
        self.0.iter().for_each(|&i| f(i as usize))
    }
}

/// The union of two lists of ids in increasing order, in increasing order.
fn merge(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] < b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

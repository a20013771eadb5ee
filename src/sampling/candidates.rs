//! The candidate set the sampler's steps share, and the steps themselves: temperature, top-k,
//! top-p, min-p, renormalisation and the draw. Each narrows the set of kept ids and records
//! why it cut the others.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::fast::{self, Scan};
use super::{Cut, Input};
use crate::error::{Error, Result};
use crate::numerics;
use crate::rng::Rng;

/// The candidate set the steps of the chain share, as in llama.cpp's samplers. Each step records
/// in `cut`, per id, why it removed it.
///
/// Two forms. At first every id is kept unless the input excluded it (its score is −∞, its e
/// 0), and passes run over the whole vocabulary, which vectorise. The first step that cuts
/// (top-k, top-p, min-p, T = 0) lists the ids it keeps, in id order, and from then on the steps
/// work on that list alone, and the cut ids' scores are never written. Every sum over the kept
/// ids adds e_i to the running sum i mod 4, in id order, in either form: the sums of
/// [`numerics::sum`] over all of e, to the last bit.
#[derive(Debug, Clone)]
pub struct Candidates<'a> {
    /// The values in log space (borrowed when they already are), read by the temperature step.
    values: Cow<'a, [f32]>,
    /// Scores s in log space with the same softmax as the input, shifted so that the best is 0
    /// (every exponent is ≤ 0), then divided by T; −∞ for an id the input excluded. Meaningful
    /// for the kept ids only.
    s: Vec<f32>,
    /// e_i = exp(s_i) ∈ [0, 1]: computed once, shared by top-p, renormalisation and the draw.
    e: Vec<f32>,
    /// Per id, the step that cut it.
    pub(super) cut: Vec<Cut>,
    /// The kept ids in id order, once a step has cut any; `None` while they are every id whose
    /// score is above −∞.
    list: Option<Vec<u32>>,
    /// How many ids are kept.
    pub(super) kept: usize,
    /// The shift m = max of the log-space values.
    max: f32,
    /// The model's own normaliser at T = 1: ln Σ exp(z_i − m), over the unscaled scores.
    model_log_sum: f64,
    /// Σ e over the kept ids, as the temperature step leaves it; `None` once a step has cut.
    mass: Option<f64>,
}

impl<'a> Candidates<'a> {
    /// Every id of `values` (of the given kind) that the input does not already exclude. The
    /// chain's first step is always [`Candidates::temperature`] (T = 1 included): it takes the
    /// exponentials the others use.
    pub fn new(values: &'a [f32], input: Input) -> Result<Candidates<'a>> {
        let values = to_log_space(values, input)?;
        let Scan { max, excluded } = fast::scan("values", &values)?;
        let cut = if excluded == 0 {
            vec![Cut::Kept; values.len()]
        } else {
            (values.iter())
                .map(|&x| {
                    if x > f32::NEG_INFINITY {
                        Cut::Kept
                    } else {
                        Cut::Input
                    }
                })
                .collect()
        };
        Ok(Candidates {
            s: Vec::new(),
            e: Vec::new(),
            cut,
            list: None,
            kept: values.len() - excluded,
            max,
            values,
            model_log_sum: f64::NAN,
            mass: None,
        })
    }

    /// Temperature: s ← (s − m) / T and e ← exp(s), with the model's own normaliser at T = 1
    /// on the way. T = 0 is greedy: keep only the argmax (lowest id on a tie). T = 1 only
    /// shifts the scores.
    pub fn temperature(&mut self, t: f32) {
        let scale = if t == 0.0 { 1.0 } else { t };
        let exps = fast::exp_scaled(&self.values, self.max, scale);
        (self.s, self.e) = (exps.s, exps.e);
        self.model_log_sum = exps.at_one.ln();
        self.mass = Some(exps.at_t);
        if t == 0.0 {
            let best = numerics::argmax(&self.s) as u32;
            self.keep_only(vec![best], Cut::Greedy);
        }
    }

    /// Top-k: keep the k best ids; 0 or k ≥ the number kept = off. A selection, not a sort:
    /// only the ids in the score bucket where the count reaches k are ordered.
    pub fn top_k(&mut self, k: usize) {
        if k == 0 || k >= self.kept {
            return;
        }
        let (b, need) = self.boundary(self.kept_ids(), k as f64, |_| 1.0);
        // Most of the vocabulary lies past bucket b: leave it out in one pass over e, as top-p
        // does, then bucket only the rest. e_i below e^(−(b+1)/32), less a margin far above
        // exp's rounding error, has s_i < −(b+1)/32: it is surely past b.
        let ids = if b + 1 < BUCKETS {
            let edge = (-((b + 1) as f64) / 32.0).exp() * (1.0 - 1.0 / (1u64 << 20) as f64);
            self.at_least(edge as f32)
        } else {
            self.kept_ids().map(|i| i as u32).collect()
        };
        let mut edge = self.bucket_of(&ids, b);
        edge.select_nth_unstable_by(need as usize - 1, better(&self.s));
        self.keep_best(ids, b, edge.get(need as usize - 1), Cut::TopK);
    }

    /// Top-p: keep the smallest best-first set whose mass reaches p of the kept mass; 1 = off,
    /// 0 = greedy. Only the ids in the score bucket where the mass reaches p · Σ e are ordered,
    /// by a weighted quickselect (expected O(n)) that sorts the last ≤ 64 of them.
    ///
    /// First, ids that cannot be in the nucleus are left out, in two rounds. Let L be the
    /// nucleus's last id: the ids from L on (L and every worse one) carry more than (1 − p)·Σe.
    /// (1) There are at most `kept` of them, each with e ≤ e_L, so e_L > (1 − p)·Σe / kept:
    /// one vectorised pass leaves out every id with e below half of that (half leaves room for
    /// rounding). (2) Those left out are all worse than L; with their mass M, the at most n
    /// survivors from L on carry the rest, so e_L > ((1 − p)·Σe − M) / n, and the survivors
    /// below half of that go too (less 2^−30·Σe first, far above the sums' rounding).
    pub fn top_p(&mut self, p: f32) {
        if p >= 1.0 || self.kept <= 1 {
            return;
        }
        let total = self.mass.unwrap_or_else(|| self.kept_sum(&self.e));
        let tail = (1.0 - p as f64) * total;
        let first = tail / (2 * self.kept) as f64;
        let mut ids = self.at_least(first as f32);
        let left = ids.iter().map(|&i| self.e[i as usize] as f64).sum::<f64>();
        let second = (tail - (total - left) - total / (1u64 << 30) as f64) / (2 * ids.len()) as f64;
        if second > first {
            ids.retain(|&i| self.e[i as usize] >= second as f32);
        }
        let e = &self.e;
        let (b, need) = self.boundary(ids.iter().map(|&i| i as usize), p as f64 * total, |i| {
            e[i] as f64
        });
        let mut edge = self.bucket_of(&ids, b);
        let n = nucleus(&mut edge, &self.e, need, better(&self.s)).min(edge.len());
        self.keep_best(ids, b, n.checked_sub(1).map(|n| &edge[n]), Cut::TopP);
    }

    /// Min-p, in log space: p_i < min_p · p_max  ⇔  s_i < ln(min_p), since the best id is
    /// always kept and scores 0. 0 = off.
    pub fn min_p(&mut self, min_p: f32) {
        if min_p > 0.0 {
            let threshold = (min_p as f64).ln();
            let ids = (self.kept_ids())
                .filter(|&i| self.s[i] as f64 >= threshold)
                .map(|i| i as u32)
                .collect();
            self.keep_only(ids, Cut::MinP);
        }
    }

    /// The final distribution p_i = e_i / Z over the kept ids (0 elsewhere), and its entropy in
    /// nats without a log per id: H = −Σ p_i ln p_i = ln Z − Σ p_i s_i, as ln p_i = s_i − ln Z.
    pub fn renormalise(&self) -> (Vec<f32>, f64) {
        let z = self.kept_sum(&self.e);
        let mut probs = vec![0.0f32; self.e.len()];
        // Σ p_i s_i over the ids with p_i > 0, in four running sums as Σ e is taken.
        let mut ps = [0.0f64; 4];
        match &self.list {
            Some(ids) => {
                for &i in ids {
                    let i = i as usize;
                    let p = self.e[i] as f64 / z;
                    probs[i] = p as f32;
                    if p > 0.0 {
                        ps[i % 4] += p * self.s[i] as f64;
                    }
                }
            }
            None => {
                let quads = (self.e.chunks(4))
                    .zip(self.s.chunks(4))
                    .zip(probs.chunks_mut(4));
                for ((e, s), probs) in quads {
                    for (((&e, &s), p32), ps) in e.iter().zip(s).zip(probs).zip(&mut ps) {
                        let p = e as f64 / z;
                        *p32 = p as f32;
                        *ps += if p > 0.0 { p * s as f64 } else { 0.0 };
                    }
                }
            }
        }
        let ps = (ps[0] + ps[1]) + (ps[2] + ps[3]);
        (probs, (z.ln() - ps).max(0.0))
    }

    /// The draw: walks the kept ids in id order until the cumulative mass of `probs` passes
    /// u ∈ [0, 1). If every kept probability underflowed to 0 in f32, the best id.
    pub fn draw(&self, probs: &[f32], rng: &mut Rng) -> usize {
        let u = rng.next_f64();
        let mut acc = 0.0f64;
        let mut token = None;
        let mut walk = |i: usize, p: f32| {
            if p > 0.0 {
                acc += p as f64;
                token = Some(i);
            }
            u < acc
        };
        match &self.list {
            Some(ids) => ids.iter().any(|&i| walk(i as usize, probs[i as usize])),
            // Every id not kept has p = 0.
            None => probs.iter().enumerate().any(|(i, &p)| walk(i, p)),
        };
        // On a tie the lowest id: `max_by` keeps the last of equals, so compare ids reversed.
        token.unwrap_or_else(|| {
            (self.kept_ids())
                .max_by(|&a, &b| self.s[a].total_cmp(&self.s[b]).then(b.cmp(&a)))
                .unwrap_or(0)
        })
    }

    /// [`Candidates::draw`] once per generator, the same tokens: the walk's running sums are
    /// computed once, and each draw finds the first sum above its u by bisection.
    pub fn draw_each(&self, probs: &[f32], rngs: impl Iterator<Item = Rng>) -> Vec<usize> {
        // The running sum after each kept id of p > 0, in the walk's order (non-decreasing).
        let (mut ids, mut sums, mut acc) = (Vec::new(), Vec::new(), 0.0f64);
        let mut push = |i: usize, p: f32| {
            if p > 0.0 {
                acc += p as f64;
                ids.push(i);
                sums.push(acc);
            }
        };
        match &self.list {
            Some(list) => list
                .iter()
                .for_each(|&i| push(i as usize, probs[i as usize])),
            None => probs.iter().enumerate().for_each(|(i, &p)| push(i, p)),
        }
        let mut fallback = None;
        rngs.map(|mut rng| {
            let u = rng.next_f64();
            // The walk stops at the first id whose running sum passes u; past the end (sums
            // rounded below u), at the last id it added; with none, at the best id.
            match ids.get(sums.partition_point(|&s| s <= u)).or(ids.last()) {
                Some(&i) => i,
                None => *fallback.get_or_insert_with(|| self.draw(probs, &mut rng)),
            }
        })
        .collect()
    }

    /// ln p(token) under the model's own distribution at T = 1: log_softmax(z)[token], from the
    /// token's input `value`.
    pub fn model_log_prob(&self, value: f32, input: Input) -> f32 {
        let raw = match input {
            Input::Probs => (value as f64).ln(),
            Input::Logits | Input::LogProbs => value as f64,
        };
        (raw - self.max as f64 - self.model_log_sum) as f32
    }

    /// The kept ids, in id order.
    fn kept_ids(&self) -> impl Iterator<Item = usize> + '_ {
        let (list, all) = match &self.list {
            Some(ids) => (&ids[..], 0),
            None => (&[][..], self.s.len()),
        };
        (list.iter().map(|&i| i as usize))
            .chain((0..all).filter(|&i| self.s[i] > f32::NEG_INFINITY))
    }

    /// Σ x_i over the kept ids, in [`numerics::sum`]'s order.
    fn kept_sum(&self, x: &[f32]) -> f64 {
        match &self.list {
            None => numerics::sum(x),
            Some(ids) => {
                let mut s = [0.0f64; 4];
                for &i in ids {
                    s[i as usize % 4] += x[i as usize] as f64;
                }
                (s[0] + s[1]) + (s[2] + s[3])
            }
        }
    }

    /// The kept ids with e_i ≥ `least` (> 0), in id order: over the whole vocabulary, four ids
    /// at a time (`fast::at_least`; an id the input excluded has e = 0).
    fn at_least(&self, least: f32) -> Vec<u32> {
        debug_assert!(least > 0.0);
        match &self.list {
            None => fast::at_least(&self.e, least),
            Some(ids) => (ids.iter().copied())
                .filter(|&i| self.e[i as usize] >= least)
                .collect(),
        }
    }

    /// The score bucket where the running `weight` of `ids`, best bucket first, reaches
    /// `target`, and the part of `target` still needed from that bucket. Every id of a bucket
    /// is better than every id of the next, so the ids before the boundary bucket are kept and
    /// those after it cut, without comparing any two of them.
    fn boundary(
        &self,
        ids: impl Iterator<Item = usize>,
        target: f64,
        weight: impl Fn(usize) -> f64,
    ) -> (usize, f64) {
        let mut hist = vec![0.0f64; BUCKETS];
        for i in ids {
            hist[bucket(self.s[i])] += weight(i);
        }
        let (mut b, mut need) = (0, target);
        while b < BUCKETS - 1 && hist[b] < need {
            need -= hist[b];
            b += 1;
        }
        (b, need)
    }

    /// The `ids` in bucket `b`, in id order.
    fn bucket_of(&self, ids: &[u32], b: usize) -> Vec<u32> {
        (ids.iter().copied())
            .filter(|&i| bucket(self.s[i as usize]) == b)
            .collect()
    }

    /// Keeps, of `ids` (kept ids in id order), those before bucket `b` and those of bucket `b`
    /// no worse than `last` (none if `None`); cuts every other kept id as `why`.
    fn keep_best(&mut self, mut ids: Vec<u32>, b: usize, last: Option<&u32>, why: Cut) {
        let better = better(&self.s);
        ids.retain(|i| match bucket(self.s[*i as usize]).cmp(&b) {
            Ordering::Less => true,
            Ordering::Equal => last.is_some_and(|last| better(i, last) != Ordering::Greater),
            Ordering::Greater => false,
        });
        self.keep_only(ids, why);
    }

    /// Keeps exactly `ids` (kept ids, in id order) and cuts every other kept id as `why`.
    fn keep_only(&mut self, ids: Vec<u32>, why: Cut) {
        match self.list.take() {
            Some(old) => old.iter().for_each(|&i| self.cut[i as usize] = why),
            None => (self.cut.iter_mut()).for_each(|c| {
                *c = if *c == Cut::Kept { why } else { *c };
            }),
        }
        for &i in &ids {
            self.cut[i as usize] = Cut::Kept;
        }
        self.kept = ids.len();
        self.list = Some(ids);
        self.mass = None;
    }
}

/// Buckets of the scores for top-k and top-p: bucket(s) = ⌊−s · 32⌋, 1/32 nat wide, the last
/// one holding every s < −32 (e^−32 ≈ 1e−14). Higher scores fall in lower buckets.
const BUCKETS: usize = 1024;

fn bucket(s: f32) -> usize {
    ((-s * 32.0) as usize).min(BUCKETS - 1)
}

/// The chain's total order, best first: higher score first, on a tie the lower id first.
fn better(s: &[f32]) -> impl Fn(&u32, &u32) -> Ordering + Copy + '_ {
    move |a, b| {
        s[*b as usize]
            .partial_cmp(&s[*a as usize])
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(b))
    }
}

/// Rearranges `cand` so that its first `n` ids, returned, are the smallest best-first prefix
/// (under the total order `better`) whose mass Σ e_i reaches `target` — all of them if it never
/// does. Each round splits the undecided range at its median with a selection, then keeps or
/// drops the better half by its mass, so the work halves every round.
fn nucleus(
    cand: &mut [u32],
    e: &[f32],
    target: f64,
    better: impl Fn(&u32, &u32) -> Ordering + Copy,
) -> usize {
    // cand[..lo] is kept for sure (better than everything after it); the answer is in lo..=hi.
    let (mut lo, mut hi) = (0usize, cand.len());
    let mut need = target;
    let mass = |ids: &[u32]| ids.iter().map(|&i| e[i as usize] as f64).sum::<f64>();
    while hi - lo > 64 {
        let mid = (hi - lo) / 2;
        cand[lo..hi].select_nth_unstable_by(mid, better);
        let split = lo + mid;
        let upper = mass(&cand[lo..split]);
        if upper >= need {
            hi = split;
        } else {
            need -= upper;
            lo = split;
        }
    }
    cand[lo..hi].sort_unstable_by(better);
    let mut acc = 0.0f64;
    for (j, &i) in cand[lo..hi].iter().enumerate() {
        acc += e[i as usize] as f64;
        if acc >= need {
            return lo + j + 1;
        }
    }
    hi.max(1)
}

/// Converts `values` of the given kind to scores whose softmax is the distribution they mean.
pub(super) fn to_log_space(values: &[f32], input: Input) -> Result<Cow<'_, [f32]>> {
    match input {
        // Checked by the caller's scan.
        Input::Logits | Input::LogProbs => Ok(Cow::Borrowed(values)),
        Input::Probs => {
            if values.is_empty() {
                return Err(Error::new(
                    "values must not be empty (it needs one entry per token)",
                ));
            }
            let mut any = false;
            for (i, &p) in values.iter().enumerate() {
                if !(p.is_finite() && p >= 0.0) {
                    return Err(Error::new(format!(
                        "values[{i}] = {p}: probabilities must be finite numbers >= 0"
                    )));
                }
                any |= p > 0.0;
            }
            if !any {
                return Err(Error::new(
                    "values are all 0: at least one probability must be > 0",
                ));
            }
            Ok(Cow::Owned(
                values.iter().map(|&p| (p as f64).ln() as f32).collect(),
            ))
        }
    }
}

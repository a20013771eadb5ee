//! What each [`Step`] does to the [`Pool`]: one function per sampler, each reading like its
//! reference (named in the step's doc). Each returns the mass its cut ids had in the
//! distribution it was handed (0 for a step that only changes scores).

use super::chain::{Rule, Step};
use super::pool::Pool;
use crate::rng::Rng;

/// What a step may read besides the pool: the ids so far, the generator (XTC's coin) and
/// Mirostat's μ.
pub struct Context<'a> {
    pub history: &'a [u32],
    pub rng: &'a mut Rng,
    pub mu: &'a mut f32,
}

/// Runs `step`, whose cut code is `code`, on `pool`.
pub fn apply(step: &Step, pool: &mut Pool, code: u8, cx: &mut Context) -> f64 {
    if pool.kept == 0 {
        return 0.0;
    }
    match *step {
        Step::Temperature { t } => temperature(pool, code, t),
        Step::DynamicTemperature { t, range, exponent } => {
            dynamic_temperature(pool, code, t, range, exponent)
        }
        Step::TopK { k, rule } => top_k(pool, code, k as usize, rule),
        Step::TopP { p, min_keep } => top_p(pool, code, p, min_keep as usize),
        Step::MinP { p, min_keep } => min_p(pool, code, p, min_keep as usize),
        Step::Typical { p, min_keep, rule } => typical(pool, code, p, min_keep as usize, rule),
        Step::Epsilon { epsilon } => epsilon_cut(pool, code, epsilon as f64),
        Step::Eta { epsilon } => eta(pool, code, epsilon),
        Step::TopNSigma { n } => top_n_sigma(pool, code, n),
        Step::Xtc {
            probability,
            threshold,
            min_keep,
        } => xtc(
            pool,
            code,
            probability,
            threshold,
            min_keep as usize,
            cx.rng,
        ),
        Step::RepetitionPenalty { penalty } => repetition_penalty(pool, penalty, cx.history),
        Step::Penalties {
            last_n,
            repeat,
            frequency,
            presence,
        } => penalties(pool, cx.history, last_n, repeat, frequency, presence),
        Step::NoRepeatNgram { n } => no_repeat_ngram(pool, code, n as usize, cx.history),
        Step::Dry {
            multiplier,
            base,
            allowed_length,
            last_n,
            ref breakers,
        } => {
            let dry = Dry {
                multiplier,
                base,
                allowed_length: allowed_length as usize,
                last_n,
                breakers,
            };
            dry.apply(pool, cx.history)
        }
        Step::LogitBias { ref bias } => logit_bias(pool, code, bias),
        Step::Mirostat { m, .. } => mirostat(pool, code, m as usize, *cx.mu),
        Step::MirostatV2 { .. } => mirostat_v2(pool, code, *cx.mu),
    }
}

/// s ← s / t; t = 0 keeps only the best id (the lowest on a tie), as llama.cpp's temperature
/// ≤ 0 does. Hugging Face refuses t = 0 (it means greedy decoding, `do_sample=False`).
fn temperature(pool: &mut Pool, code: u8, t: f32) -> f64 {
    if t <= 0.0 {
        let best = pool.best(1);
        return pool.keep_only(best, code);
    }
    pool.divide(t);
    0.0
}

/// llama.cpp's `temp_ext`: with range > 0 and more than one id kept, T from the normalised
/// entropy, min_t + (max_t − min_t)·(H / ln n)^exponent, min_t = max(0, t − range),
/// max_t = t + range; then temperature T.
fn dynamic_temperature(pool: &mut Pool, code: u8, t: f32, range: f32, exponent: f32) -> f64 {
    if range <= 0.0 {
        return temperature(pool, code, t);
    }
    if pool.kept <= 1 {
        return 0.0;
    }
    let (lo, hi) = ((t - range).max(0.0), t + range);
    let max_entropy = -(1.0 / pool.kept as f32).ln();
    let normalised = entropy_f32(pool) / max_entropy;
    let dyn_t = lo + (hi - lo) * normalised.powf(exponent);
    temperature(pool, code, dyn_t)
}

/// The entropy of the kept ids' distribution as llama.cpp's `temp_ext` takes it, in float32:
/// p_i = exp(s_i − max) / Σ, sums in order best first, H = Σ −p_i ln p_i. T depends on H
/// through a power, so float64 would move the probabilities by more than 1e-6. The order is
/// exact up to 2048 ids (a set that small is ordered); above, the entropy is float64.
fn entropy_f32(pool: &mut Pool) -> f32 {
    if pool.kept > 2048 {
        // Too many to order: float64 without a log per id, then float32.
        pool.exps();
        return pool.entropy() as f32;
    }
    let ids = pool.best(pool.kept);
    let max = pool.max();
    let e: Vec<f32> = (ids.iter())
        .map(|&i| crate::sampling::fast::exp_le0(pool.score(i as usize) - max))
        .collect();
    let sum = e.iter().fold(0.0f32, |a, &x| a + x);
    let mut h = 0.0f32;
    for &x in &e {
        let p = x / sum;
        if p > 0.0 {
            h -= p * p.ln();
        }
    }
    h
}

/// Top-k. Hugging Face keeps every id whose score is ≥ the k-th best's (ties with it too);
/// llama.cpp exactly k (here the lower ids among those tied).
fn top_k(pool: &mut Pool, code: u8, k: usize, rule: Rule) -> f64 {
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

/// Top-p: the smallest best-first prefix whose mass reaches p of the kept mass (the id that
/// reaches it included), and at least `min_keep` ids; p ≥ 1 = off.
fn top_p(pool: &mut Pool, code: u8, p: f32, min_keep: usize) -> f64 {
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

/// Min-p in log space: p_i ≥ p · p_max ⇔ s_i ≥ s_max + ln p; at least `min_keep` ids (the
/// best ones). Hugging Face compares the probabilities, llama.cpp the logits, as here.
fn min_p(pool: &mut Pool, code: u8, p: f32, min_keep: usize) -> f64 {
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

/// Locally typical: order the ids by |−ln p_i − H| (closest to the entropy first) and keep
/// them until their mass reaches p. Hugging Face stops at the first running mass ≥ p and keeps
/// every id whose distance equals the last one's; llama.cpp stops at the first running mass
/// > p. Both keep at least `min_keep`; p ≥ 1 = off.
fn typical(pool: &mut Pool, code: u8, p: f32, min_keep: usize, rule: Rule) -> f64 {
    if p >= 1.0 || pool.kept <= 1 {
        return 0.0;
    }
    let total = pool.exps();
    let h = pool.entropy();
    // |−ln p_i − H| with −ln p_i = ln Σe − (s_i − max): |c − s_i|, c = ln Σe + max − H, in
    // float32 as both references take it.
    let c = (total.ln() + pool.top() as f64 - h) as f32;
    let key = |i: usize| (c - pool.score(i)).abs() as f64;
    let target = p as f64 * total;
    let walked = match rule {
        Rule::HuggingFace => pool.walk(key, |mass, count| mass >= target && count >= min_keep),
        Rule::LlamaCpp => pool.walk(key, |mass, count| mass > target && count >= min_keep),
    };
    let Some((ids, last)) = walked else {
        return 0.0;
    };
    match rule {
        Rule::LlamaCpp => pool.keep_only(ids, code),
        Rule::HuggingFace => {
            let edge = key(last as usize);
            let mut ids = ids;
            let mut ties: Vec<u32> = Vec::new();
            pool.each(|i| {
                if key(i) == edge && ids.binary_search(&(i as u32)).is_err() {
                    ties.push(i as u32)
                }
            });
            if !ties.is_empty() {
                ids.extend(ties);
                ids.sort_unstable();
            }
            pool.keep_only(ids, code)
        }
    }
}

/// Drops the ids with p_i below `floor`, but never one tied with the best score (Hugging
/// Face's `min_tokens_to_keep` = 1 for ε- and η-sampling).
fn below_floor(pool: &mut Pool, code: u8, floor: f64) -> f64 {
    let max = pool.top();
    pool.retain(code, |pl, i| pl.p(i) >= floor || pl.score(i) >= max)
}

/// ε-sampling: drop p_i < ε; 0 = off.
fn epsilon_cut(pool: &mut Pool, code: u8, epsilon: f64) -> f64 {
    if epsilon <= 0.0 {
        return 0.0;
    }
    pool.exps();
    below_floor(pool, code, epsilon)
}

/// η-sampling: drop p_i < η = min(ε, √ε · e^−H); 0 = off.
fn eta(pool: &mut Pool, code: u8, epsilon: f32) -> f64 {
    if epsilon <= 0.0 {
        return 0.0;
    }
    pool.exps();
    let h = pool.entropy();
    let e = epsilon as f64;
    below_floor(pool, code, e.min(e.sqrt() * (-h).exp()))
}

/// Top-nσ: drop s_i < max − n·σ, σ the kept scores' standard deviation (over n, not n − 1);
/// n ≤ 0 = off.
fn top_n_sigma(pool: &mut Pool, code: u8, n: f32) -> f64 {
    if n <= 0.0 || pool.kept <= 1 {
        return 0.0;
    }
    let (mut sum, mut max) = (0.0f64, f64::NEG_INFINITY);
    pool.each(|i| {
        let s = pool.score(i) as f64;
        sum += s;
        max = max.max(s);
    });
    let mean = sum / pool.kept as f64;
    let mut var = 0.0f64;
    pool.each(|i| var += (pool.score(i) as f64 - mean).powi(2));
    let sigma = (var / pool.kept as f64).sqrt();
    let floor = max - n as f64 * sigma;
    pool.retain(code, |pl, i| pl.score(i) as f64 >= floor)
}

/// XTC: off if probability ≤ 0, threshold > 0.5 or fewer than 2 ids. Else a coin u ∈ [0, 1)
/// from the generator; if u ≤ probability, the ids with p_i ≥ threshold, all but the least
/// likely of them, go, provided at least `min_keep` ids stay.
fn xtc(
    pool: &mut Pool,
    code: u8,
    probability: f32,
    threshold: f32,
    min_keep: usize,
    rng: &mut Rng,
) -> f64 {
    if probability <= 0.0 || threshold > 0.5 || pool.kept < 2 {
        return 0.0;
    }
    let chance = rng.next_f64() as f32;
    if chance > probability {
        return 0.0;
    }
    pool.exps();
    // llama.cpp compares its float32 probabilities.
    let mut above: Vec<u32> = Vec::new();
    pool.each(|i| {
        if pool.p(i) as f32 >= threshold {
            above.push(i as u32)
        }
    });
    if above.len() < 2 || pool.kept - (above.len() - 1) < min_keep {
        return 0.0;
    }
    // The least likely of them stays: the last in the chain's order.
    let better = pool.better();
    let last = (above.iter().copied())
        .max_by(|a, b| better(a, b))
        .unwrap_or(above[0]);
    pool.retain(code, |_, i| {
        i as u32 == last || above.binary_search(&(i as u32)).is_err()
    })
}

/// Hugging Face's repetition penalty over the whole history, once per id: s ← s · penalty if
/// s < 0, else s / penalty.
fn repetition_penalty(pool: &mut Pool, penalty: f32, history: &[u32]) -> f64 {
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

/// llama.cpp's penalties over the last `last_n` ids (−1 = all, 0 = off), each id seen c times:
/// s ← s · repeat if s ≤ 0, else s / repeat; then s ← s − c·frequency − presence.
fn penalties(
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

/// The last `last_n` ids of the history (all of them for −1).
fn window(history: &[u32], last_n: i32) -> &[u32] {
    let n = if last_n < 0 {
        history.len()
    } else {
        (last_n as usize).min(history.len())
    };
    &history[history.len() - n..]
}

/// Z-array of the history read backwards: z[k] = how many of the latest ids equal those k
/// back (r = reversed history, z[k] = the longest common prefix of r and r[k..]), z[0] = n.
/// Linear time (the Z-algorithm).
fn suffix_matches(history: &[u32]) -> Vec<usize> {
    let r: Vec<u32> = history.iter().rev().copied().collect();
    let n = r.len();
    let mut z = vec![0usize; n + 1];
    if n == 0 {
        return z;
    }
    z[0] = n;
    let (mut l, mut right) = (0usize, 0usize);
    for k in 1..n {
        let mut len = if k < right {
            z[k - l].min(right - k)
        } else {
            0
        };
        while k + len < n && r[len] == r[k + len] {
            len += 1;
        }
        z[k] = len;
        if k + len > right {
            (l, right) = (k, k + len);
        }
    }
    z
}

/// Hugging Face's no-repeat n-gram: ban every id that, after the last n − 1 ids, would repeat
/// an n-gram of the history; 0 = off. The id after each earlier occurrence of the last n − 1
/// ids is banned: k back, an occurrence ends where the Z-array's match is ≥ n − 1.
fn no_repeat_ngram(pool: &mut Pool, code: u8, n: usize, history: &[u32]) -> f64 {
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

/// llama.cpp's DRY sampler, with breakers as id sequences.
struct Dry<'a> {
    multiplier: f32,
    base: f32,
    allowed_length: usize,
    last_n: i32,
    breakers: &'a [Vec<u32>],
}

impl Dry<'_> {
    /// For each shift k of the last `last_n` ids, the repeat of length L (the latest ids equal
    /// those k back, capped where a breaker stands) makes the id that followed the earlier
    /// copy lose multiplier · base^(L − allowed) if L ≥ allowed. Only scores change.
    fn apply(&self, pool: &mut Pool, history: &[u32]) -> f64 {
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

/// s_id ← s_id + value for each pair (values add up for a repeated id); −∞ cuts the id.
/// An id beyond the vocabulary is an error of the caller ([`super::workbench`] checks).
fn logit_bias(pool: &mut Pool, code: u8, bias: &[(u32, f32)]) -> f64 {
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

/// Mirostat 1.0: from the m best ids' probabilities, the Zipf exponent ŝ by least squares
/// (t_i = ln((i + 2)/(i + 1)), b_i = ln(p_i / p_{i+1})), then keep the k best,
/// k = (ε̂ · 2^μ / (1 − V^−ε̂))^(1/ŝ), ε̂ = ŝ − 1. In float32, as llama.cpp.
fn mirostat(pool: &mut Pool, code: u8, m: usize, mu: f32) -> f64 {
    pool.exps();
    let top = pool.best(m.min(pool.kept));
    let p: Vec<f32> = top.iter().map(|&i| pool.p(i as usize) as f32).collect();
    let (mut sum_tb, mut sum_tt) = (0.0f32, 0.0f32);
    for i in 0..m.saturating_sub(1).min(p.len().saturating_sub(1)) {
        let t = ((i + 2) as f32 / (i + 1) as f32).ln();
        let b = (p[i] / p[i + 1]).ln();
        sum_tb += t * b;
        sum_tt += t * t;
    }
    let s_hat = sum_tb / sum_tt;
    let eps = s_hat - 1.0;
    let v = pool.len() as f32;
    let k = ((eps * 2f32.powf(mu)) / (1.0 - v.powf(-eps))).powf(1.0 / s_hat);
    // llama.cpp: top_k(max(int(k), 1)). Converting a float that is NaN or beyond int32 to
    // int is undefined in C++; x86-64's conversion gives INT_MIN, so llama.cpp keeps 1 id (as
    // when m = 1, or one id is kept, and ŝ = 0/0). Here the same.
    let k = if k.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&k) {
        1
    } else {
        (k as i64).max(1) as usize
    };
    top_k(pool, code, k, Rule::LlamaCpp)
}

/// Mirostat 2.0: keep the ids whose surprisal −log2 p_i is ≤ μ, at least the best one.
fn mirostat_v2(pool: &mut Pool, code: u8, mu: f32) -> f64 {
    pool.exps();
    // −log2 p_i ≤ μ ⇔ p_i ≥ 2^−μ, but llama.cpp compares the surprisal: so here, for the ids
    // near the threshold only (a log per id costs more than the rest of the pass).
    let least = (-mu).exp2() as f64;
    let mut keep: Vec<u32> = Vec::new();
    pool.each(|i| {
        let p = pool.p(i);
        let near = (p - least).abs() <= least * 1e-5;
        if (!near && p > least) || (near && -(p as f32).log2() <= mu) {
            keep.push(i as u32)
        }
    });
    if keep.is_empty() {
        let best = pool.best(1);
        return pool.keep_only(best, code);
    }
    pool.keep_only(keep, code)
}

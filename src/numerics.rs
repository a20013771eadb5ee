//! The seed's section 2, stably in f32: logsumexp, softmax, log_softmax and entropy.
//!
//! Every function subtracts the maximum before `exp`, so logits of ±1e4 never overflow, and
//! accumulates sums in f64, so a 256 000-entry vocabulary keeps its last digits.
//!
//! Symbols as on the page: z for logits, T for temperature, p for probabilities.

use crate::error::{Code, Error, Result};

mod exp64;
pub(crate) use exp64::exp_le0_all;

/// Checks that `z` can be normalised: non-empty, no NaN, no +∞, and at least one finite entry.
/// −∞ is allowed: it is the log of probability 0 and stays excluded.
pub fn check_values(argument: &str, z: &[f32]) -> Result<()> {
    if z.is_empty() {
        return Err(Error::new(format!(
            "{argument} must not be empty (it needs one entry per token)"
        ))
        .coded(Code::ValuesEmpty, []));
    }
    // The common case in one branch-free pass that vectorises: every entry below +∞ (so no NaN
    // either) and one above −∞. Only a bad input is walked again, to name the entry.
    let (mut bad, mut finite) = (false, false);
    for &x in z {
        bad |= x.is_nan() | (x == f32::INFINITY);
        finite |= x > f32::NEG_INFINITY;
    }
    if !bad && finite {
        return Ok(());
    }
    let mut any_finite = false;
    for (i, &x) in z.iter().enumerate() {
        if x.is_nan() {
            return Err(Error::new(format!(
                "{argument}[{i}] is NaN; values must be finite numbers or -Infinity"
            )));
        }
        if x == f32::INFINITY {
            return Err(Error::new(format!(
                "{argument}[{i}] is +Infinity; values must be finite numbers or -Infinity"
            ))
            .coded(
                Code::ValuesPositiveInfinity,
                [("index", i.to_string().into())],
            ));
        }
        any_finite |= x.is_finite();
    }
    if !any_finite {
        return Err(Error::new(format!(
            "{argument} is all -Infinity: at least one entry must be finite"
        ))
        .coded(Code::ValuesAllNegativeInfinity, []));
    }
    Ok(())
}

/// Checks a temperature: T = 0 means greedy, T > 0 scales, anything else is an error.
pub fn check_temperature(t: f32) -> Result<()> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(Error::arg(
            "temperature",
            "a finite number >= 0 (0 = greedy)",
            t,
        ));
    }
    Ok(())
}

/// max_i z_i over a slice already checked by [`check_values`] (no NaN). Four running maxima by
/// comparison, so that it vectorises (`f32::max` is a call to libm's `fmaxf` in wasm).
pub fn max(z: &[f32]) -> f32 {
    let bigger = |a: f32, b: f32| if b > a { b } else { a };
    let mut m = [f32::NEG_INFINITY; 4];
    let chunks = z.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, &x) in m.iter_mut().zip(c) {
            *m = bigger(*m, x);
        }
    }
    for (m, &x) in m.iter_mut().zip(rest) {
        *m = bigger(*m, x);
    }
    bigger(bigger(m[0], m[1]), bigger(m[2], m[3]))
}

/// Σ x_i in f64, in one fixed order on every target: four running sums (of x_0, x_4, x_8, …, of
/// x_1, x_5, …, and so on), then (s_0 + s_1) + (s_2 + s_3). Four independent sums vectorise;
/// a single one waits for each addition before the next.
pub fn sum(x: &[f32]) -> f64 {
    let mut s = [0.0f64; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (s, &x) in s.iter_mut().zip(c) {
            *s += x as f64;
        }
    }
    for (s, &x) in s.iter_mut().zip(rest) {
        *s += x as f64;
    }
    (s[0] + s[1]) + (s[2] + s[3])
}

/// Index of the largest entry; on a tie the lowest index wins.
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in z.iter().enumerate() {
        if x > z[best] {
            best = i;
        }
    }
    best
}

/// Σ_i exp(z_i − m) in f64, for m = max z.
fn sum_exp_shifted(z: &[f32], m: f32) -> f64 {
    exp64::sum_exp(z, |x| (x - m) as f64, |_, _| {})
}

/// logsumexp(z) = m + log Σ_i exp(z_i − m), with m = max z. This is the normaliser that
/// log_softmax subtracts: log_softmax(z) = z − logsumexp(z).
pub fn logsumexp(z: &[f32]) -> Result<f32> {
    check_values("values", z)?;
    let m = max(z);
    Ok((m as f64 + sum_exp_shifted(z, m).ln()) as f32)
}

/// log_softmax(z)_i = z_i − logsumexp(z). −∞ entries stay −∞.
pub fn log_softmax(z: &[f32]) -> Result<Vec<f32>> {
    Ok(log_softmax_and_logsumexp(z)?.0)
}

/// log_softmax(z) and logsumexp(z) from one pass of `exp`, each as the two functions above
/// return it.
pub fn log_softmax_and_logsumexp(z: &[f32]) -> Result<(Vec<f32>, f32)> {
    check_values("values", z)?;
    let m = max(z);
    let log_sum = sum_exp_shifted(z, m).ln();
    // (z_i − m) − log Σ: both terms are small, so the subtraction loses nothing.
    let log_probs = z
        .iter()
        .map(|&x| ((x - m) as f64 - log_sum) as f32)
        .collect();
    Ok((log_probs, (m as f64 + log_sum) as f32))
}

/// softmax(z / T)_i = exp((z_i − m) / T) / Σ_j exp((z_j − m) / T), with m = max z.
///
/// T = 0 gives the greedy one-hot (argmax, lowest id on a tie). Subtracting m *before* dividing
/// by T keeps every exponent ≤ 0, so a tiny T (1e-6) gives a one-hot rather than NaN, and a
/// huge T gives a uniform distribution over the finite entries.
pub fn softmax(z: &[f32], t: f32) -> Result<Vec<f32>> {
    check_values("values", z)?;
    check_temperature(t)?;
    let mut p = vec![0.0f32; z.len()];
    if t == 0.0 {
        p[argmax(z)] = 1.0;
        return Ok(p);
    }
    let m = max(z);
    let sum = exp64::sum_exp(z, |x| ((x - m) / t) as f64, |i, e| p[i] = e as f32);
    let inv = 1.0 / sum;
    for pi in &mut p {
        *pi = (*pi as f64 * inv) as f32;
    }
    Ok(p)
}

/// Entropy H(p) = −Σ p_i ln p_i in nats (0 · ln 0 = 0). Divide by ln 2 for bits.
pub fn entropy(p: &[f32]) -> f64 {
    p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| -(x as f64) * (x as f64).ln())
        .sum()
}

/// The seed's temperature claim, tested: softmax(z / T) next to softmax(log_softmax(z) / T),
/// with log_softmax(z) stored in f32 as a model in log-softmax mode would return it.
/// Returns (from logits, from log-softmax, max |difference|). The two are equal in exact
/// arithmetic, because log_softmax(z) = z − logsumexp(z) shifts every entry by one constant.
pub fn temperature_identity(z: &[f32], t: f32) -> Result<(Vec<f32>, Vec<f32>, f32)> {
    temperature_identity_given(z, &log_softmax(z)?, t)
}

/// [`temperature_identity`] with log_softmax(z) already computed (`log_probs`).
pub fn temperature_identity_given(
    z: &[f32],
    log_probs: &[f32],
    t: f32,
) -> Result<(Vec<f32>, Vec<f32>, f32)> {
    let from_logits = softmax(z, t)?;
    let from_log_softmax = softmax(log_probs, t)?;
    // By comparison, not f32::max (a call to libm's fmaxf on wasm): no NaN here.
    let max_diff = from_logits
        .iter()
        .zip(&from_log_softmax)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, |m, d| if d > m { d } else { m });
    Ok((from_logits, from_log_softmax, max_diff))
}

/// One distribution p = softmax(z / T) as four storage formats would hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub f32: Vec<f32>,
    /// Rounded to IEEE float16 (exactly representable in f32).
    pub f16: Vec<f32>,
    /// Rounded to bfloat16.
    pub bf16: Vec<f32>,
    /// log p in f32: z/T − logsumexp(z/T), computed in f64 and rounded once. −∞ where z is
    /// −∞, or where ln p is below float32's range (−3.4·10^38); finite elsewhere.
    pub log_probs: Vec<f32>,
}

impl Stored {
    /// How many ids each format stores as probability exactly 0 (log-prob −∞). Those ids are
    /// gone: ln 0 = −∞, and no temperature applied afterwards can bring them back.
    pub fn zeros(&self) -> [usize; 4] {
        let count = |v: &[f32]| v.iter().filter(|&&x| x == 0.0).count();
        [
            count(&self.f32),
            count(&self.f16),
            count(&self.bf16),
            self.log_probs
                .iter()
                .filter(|&&x| x == f32::NEG_INFINITY)
                .count(),
        ]
    }
}

/// The normaliser of p = softmax(z / T) as [`stored_precisions`] computes it, in f64: m = max z
/// and ln Σ_i exp((z_i − m) / T). Then ln p_i = [`stored_log_prob`]`(z_i, m, T, ln Σ)`.
/// T must be > 0 here.
pub fn stored_normaliser(z: &[f32], t: f32) -> Result<(f32, f64)> {
    check_values("values", z)?;
    check_temperature(t)?;
    if t == 0.0 {
        return Err(Error::arg("temperature", "> 0 for the precision view", t));
    }
    let m = max(z);
    let log_sum = exp64::sum_exp(z, |x| stored_scaled(x, m, t), |_, _| {}).ln();
    Ok((m, log_sum))
}

/// (z_i − m) / T in f64.
#[inline]
fn stored_scaled(x: f32, m: f32, t: f32) -> f64 {
    (x as f64 - m as f64) / t as f64
}

/// ln p_i = (z_i − m) / T − ln Σ in f64, from [`stored_normaliser`]'s (m, ln Σ).
#[inline]
pub fn stored_log_prob(x: f32, m: f32, t: f32, log_sum: f64) -> f64 {
    stored_scaled(x, m, t) - log_sum
}

/// softmax(z / T) computed in f64, then stored as f32 probabilities, as float16 and bfloat16
/// probabilities (rounded from those f32 values), and as f32 log-probs, for the page's
/// precision view. T must be > 0 here.
pub fn stored_precisions(z: &[f32], t: f32) -> Result<Stored> {
    let (m, log_sum) = stored_normaliser(z, t)?;
    let log_p: Vec<f64> = z
        .iter()
        .map(|&x| stored_log_prob(x, m, t, log_sum))
        .collect();
    let p32: Vec<f32> = log_p.iter().map(|lp| lp.exp() as f32).collect();
    Ok(Stored {
        // Through f32, as a float32 model's probabilities would be cast: f64 → f32 → format.
        // (Double rounding can differ from rounding f64 straight to the format only in the last
        // place of a value that lands exactly halfway after the first rounding.)
        f16: p32.iter().map(|&p| round_to_f16(p)).collect(),
        bf16: p32.iter().map(|&p| round_to_bf16(p)).collect(),
        log_probs: log_p.iter().map(|&lp| lp as f32).collect(),
        f32: p32,
    })
}

/// Rounds an f32 to the nearest IEEE binary16 value and back (round to nearest, ties to even),
/// so the page can show which probabilities a float16 tensor would store as exactly 0.
pub fn round_to_f16(x: f32) -> f32 {
    half_round(x, 10, -14)
}

/// Rounds an f32 to the nearest bfloat16 value and back (8 exponent bits like f32, but only 8
/// significant bits, so its smallest subnormal is 2^-133 ≈ 9.2e-41).
pub fn round_to_bf16(x: f32) -> f32 {
    if !x.is_finite() {
        return x;
    }
    let bits = x.to_bits();
    // Round to nearest even on the 16 low bits.
    let lsb = (bits >> 16) & 1;
    let rounded = bits.wrapping_add(0x7FFF + lsb) & 0xFFFF_0000;
    f32::from_bits(rounded)
}

/// 2^k for a normal exponent k ∈ [−1022, 1023], written as its bits: exact, as `powi` is, and
/// without its loop of multiplications once per probability.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Round to a binary format with `mantissa` stored bits and minimum normal exponent `emin`
/// (gradual underflow included), round half to even, overflow to ±∞.
fn half_round(x: f32, mantissa: i32, emin: i32) -> f32 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let emax = -emin + 1;
    let max_finite = (2.0 - pow2(-mantissa)) * pow2(emax);
    // The binary exponent of |x|, read from its bits (exact, unlike log2).
    let e = (((x.to_bits() >> 23) & 0xFF) as i32 - 127).max(emin);
    // Spacing of representable values around |x|; the division below is exact.
    let ulp = pow2(e - mantissa);
    let y = ((x.abs() as f64) / ulp).round_ties_even() * ulp;
    let y = if y > max_finite { f64::INFINITY } else { y };
    y.copysign(x as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn softmax_of_known_vector() {
        // softmax([1, 2, 3]) by hand: e^k / (e + e² + e³).
        let p = softmax(&[1.0, 2.0, 3.0], 1.0).unwrap();
        let d = 1f64.exp() + 2f64.exp() + 3f64.exp();
        let want = [1f64.exp() / d, 2f64.exp() / d, 3f64.exp() / d];
        for (a, b) in p.iter().zip(want) {
            assert!(close(*a, b as f32, 1e-7), "{p:?}");
        }
    }

    #[test]
    fn huge_logits_do_not_overflow() {
        let p = softmax(&[1e4, -1e4, 1e4 - 1.0], 1.0).unwrap();
        assert!(close(p[0], 1.0 / (1.0 + (-1f32).exp()), 1e-7));
        assert_eq!(p[1], 0.0);
        let lp = log_softmax(&[88.0, 89.0, 90.0]).unwrap();
        let lse = 90.0 + (1.0 + (-1f64).exp() + (-2f64).exp()).ln();
        assert!(close(lp[0], (88.0 - lse) as f32, 1e-7));
        assert!(close(
            logsumexp(&[88.0, 89.0, 90.0]).unwrap(),
            lse as f32,
            1e-7
        ));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(softmax(&[5.0], 1.0).unwrap(), vec![1.0]);
        assert_eq!(softmax(&[2.0; 4], 1.0).unwrap(), vec![0.25; 4]);
        let p = softmax(&[f32::NEG_INFINITY, 0.0, 0.0], 1.0).unwrap();
        assert_eq!(p, vec![0.0, 0.5, 0.5]);
        let lp = log_softmax(&[f32::NEG_INFINITY, 0.0]).unwrap();
        assert_eq!(lp, vec![f32::NEG_INFINITY, 0.0]);
        assert!(softmax(&[], 1.0).is_err());
        assert!(softmax(&[f32::NAN], 1.0).is_err());
        assert!(softmax(&[f32::NEG_INFINITY; 2], 1.0).is_err());
        assert!(softmax(&[1.0], -1.0).is_err());
        assert!(softmax(&[1.0], f32::NAN).is_err());
    }

    #[test]
    fn temperature_limits() {
        let z = [1.0, 3.0, 3.0, -2.0];
        // T = 0 is greedy with the lowest id on a tie.
        assert_eq!(softmax(&z, 0.0).unwrap(), vec![0.0, 1.0, 0.0, 0.0]);
        // A tiny T gives no NaN: the tie splits evenly.
        let p = softmax(&z, 1e-6).unwrap();
        assert_eq!(p, vec![0.0, 0.5, 0.5, 0.0]);
        // A huge T approaches uniform.
        let p = softmax(&z, 1e30).unwrap();
        assert!(p.iter().all(|&x| close(x, 0.25, 1e-6)));
    }

    #[test]
    fn the_seed_claim_log_softmax_keeps_temperature() {
        // softmax(log_softmax(z) / T) = softmax(z / T), since the two differ by a constant.
        let z = [2.0, -1.0, 0.5, 7.0, 3.25];
        let lp = log_softmax(&z).unwrap();
        for t in [0.1, 0.5, 1.0, 2.0, 10.0] {
            let a = softmax(&z, t).unwrap();
            let b = softmax(&lp, t).unwrap();
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-6, "T={t}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn low_precision_rounding() {
        assert_eq!(round_to_f16(1.0), 1.0);
        assert_eq!(round_to_f16(1e-8), 0.0); // below half the smallest subnormal 2^-24
        assert_eq!(round_to_f16(2f32.powi(-24)), 2f32.powi(-24));
        assert_eq!(round_to_f16(2f32.powi(-25)), 0.0); // tie rounds to even (0)
        assert_eq!(round_to_f16(1.0 + 2f32.powi(-11)), 1.0); // tie to even
        assert_eq!(round_to_f16(70000.0), f32::INFINITY);
        assert_eq!(round_to_f16(0.1), 0.099975586); // nearest binary16 to 0.1
        assert_eq!(round_to_bf16(1.0 + 2f32.powi(-8)), 1.0);
        assert_eq!(round_to_bf16(0.1), 0.100_097_656);
        assert_eq!(round_to_f16(65504.0), 65504.0);
        assert_eq!(round_to_f16(-3.0e-6), -50.0 * 2f32.powi(-24)); // subnormal, nearest
    }

    #[test]
    fn low_precision_storage_loses_the_tail_for_good() {
        // p_i ∝ e^{-i}: p_20 ≈ 1.3e-9 is below float16's smallest subnormal (6e-8) but not f32's.
        let z: Vec<f32> = (0..120).map(|i| -(i as f32)).collect();
        let s = stored_precisions(&z, 1.0).unwrap();
        let [z32, z16, zbf, zlog] = s.zeros();
        assert_eq!(zlog, 0);
        // bfloat16 has f32's exponent range but only 7 stored mantissa bits, so its smallest
        // subnormal is 2^-133 ≈ 9.2e-41: it flushes from p < 2^-134, i.e. i ≥ 93.
        assert_eq!(zbf, 120 - 93);
        assert!(z16 > z32, "{z16} vs {z32}");
        // e^{-i} / Σ underflows f32 (below 2^-149 ≈ 1.4e-45) from i = 104 on.
        assert_eq!(z32, 120 - 104);
        // A zero stays a zero at every temperature: ln 0 = −∞.
        let revived = softmax(&s.f16.iter().map(|p| p.ln()).collect::<Vec<_>>(), 5.0);
        assert!(revived.is_ok());
        let revived = revived.unwrap();
        assert_eq!(revived.iter().filter(|&&p| p == 0.0).count(), z16);
        // While log-probs keep every id alive at a high temperature.
        let from_log = softmax(&s.log_probs, 50.0).unwrap();
        assert!(from_log.iter().all(|&p| p > 0.0));
        let (_, _, diff) = temperature_identity(&z, 0.7).unwrap();
        assert!(diff < 1e-6);
    }

    #[test]
    fn entropy_of_uniform() {
        let h = entropy(&[0.25; 4]);
        assert!((h - 4f64.ln()).abs() < 1e-12);
        assert_eq!(entropy(&[1.0, 0.0]), 0.0);
    }
}

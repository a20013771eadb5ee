//! The seed's section 2, stably in f32: logsumexp, softmax, log_softmax and entropy.
//!
//! Every function subtracts the maximum before `exp`, so logits of ±1e4 never overflow, and
//! accumulates sums in f64, so a 256 000-entry vocabulary keeps its last digits.
//!
//! Symbols as on the page: z for logits, T for temperature, p for probabilities.

use crate::error::{Error, Result};

/// Checks that `z` can be normalised: non-empty, no NaN, no +∞, and at least one finite entry.
/// −∞ is allowed: it is the log of probability 0 and stays excluded.
pub fn check_values(argument: &str, z: &[f32]) -> Result<()> {
    if z.is_empty() {
        return Err(Error::new(format!(
            "{argument} must not be empty (it needs one entry per token)"
        )));
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
            )));
        }
        any_finite |= x.is_finite();
    }
    if !any_finite {
        return Err(Error::new(format!(
            "{argument} is all -Infinity: at least one entry must be finite"
        )));
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
    z.iter().map(|&x| ((x - m) as f64).exp()).sum()
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
    check_values("values", z)?;
    let m = max(z);
    let log_sum = sum_exp_shifted(z, m).ln();
    // (z_i − m) − log Σ: both terms are small, so the subtraction loses nothing.
    Ok(z.iter()
        .map(|&x| ((x - m) as f64 - log_sum) as f32)
        .collect())
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
    let mut sum = 0.0f64;
    for (pi, &x) in p.iter_mut().zip(z) {
        let e = (((x - m) / t) as f64).exp();
        *pi = e as f32;
        sum += e;
    }
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
    let from_logits = softmax(z, t)?;
    let from_log_softmax = softmax(&log_softmax(z)?, t)?;
    let max_diff = from_logits
        .iter()
        .zip(&from_log_softmax)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
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
    /// log p in f32: z/T − logsumexp(z/T). Finite wherever z is.
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

/// softmax(z / T) computed in f64, then stored as f32 probabilities, as float16 and bfloat16
/// probabilities (rounded from those f32 values), and as f32 log-probs, for the page's
/// precision view. T must be > 0 here.
pub fn stored_precisions(z: &[f32], t: f32) -> Result<Stored> {
    check_values("values", z)?;
    check_temperature(t)?;
    if t == 0.0 {
        return Err(Error::arg("temperature", "> 0 for the precision view", t));
    }
    let m = max(z);
    let scaled: Vec<f64> = z
        .iter()
        .map(|&x| (x as f64 - m as f64) / t as f64)
        .collect();
    let log_sum = scaled.iter().map(|s| s.exp()).sum::<f64>().ln();
    let log_p: Vec<f64> = scaled.iter().map(|s| s - log_sum).collect();
    let p32: Vec<f32> = log_p.iter().map(|lp| lp.exp() as f32).collect();
    Ok(Stored {
        // Through f32, as a float32 model's probabilities would be cast: f64 → f32 → format.
        // (Double rounding can differ from rounding f64 straight to the format only in the last
        // place of a value that lands exactly halfway after the first rounding.)
        f16: log_p
            .iter()
            .map(|lp| round_to_f16(lp.exp() as f32))
            .collect(),
        bf16: log_p
            .iter()
            .map(|lp| round_to_bf16(lp.exp() as f32))
            .collect(),
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

/// Round to a binary format with `mantissa` stored bits and minimum normal exponent `emin`
/// (gradual underflow included), round half to even, overflow to ±∞.
fn half_round(x: f32, mantissa: i32, emin: i32) -> f32 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let emax = -emin + 1;
    let max_finite = (2.0 - 2f64.powi(-mantissa)) * 2f64.powi(emax);
    // The binary exponent of |x|, read from its bits (exact, unlike log2).
    let e = (((x.to_bits() >> 23) & 0xFF) as i32 - 127).max(emin);
    // Spacing of representable values around |x|; the division below is exact.
    let ulp = 2f64.powi(e - mantissa);
    let y = ((x.abs() as f64) / ulp).round_ties_even() * ulp;
    let y = if y > max_finite { f64::INFINITY } else { y };
    y.copysign(x as f64) as f32
}

/// `out[i] = exp(x[i])` for x ≤ 0 (−∞ allowed, NaN not), the only exponents the sampler takes:
/// its scores are shifted so the best is 0. Bit-identical to `f32::exp` on every target. On
/// wasm with simd128 it runs four at a time through exactly the operations of the `expf` that
/// `f32::exp` calls there (libm's, from FreeBSD), 4× faster than one call per id; elsewhere
/// it is `f32::exp`.
pub fn exp_nonpositive(x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (x, out) = {
        let n = x.len() / 4 * 4;
        let c = ExpConstants::new();
        for (x, o) in x[..n].chunks_exact(4).zip(out[..n].chunks_exact_mut(4)) {
            o.copy_from_slice(&expf4([x[0], x[1], x[2], x[3]], &c));
        }
        (&x[n..], &mut out[n..])
    };
    for (o, &x) in out.iter_mut().zip(x) {
        *o = x.exp();
    }
}

/// For four ids with scores `s` and e = exp(s): the ids kept (s_j > −∞) with e_j < `below`
/// get s_j = −∞ and e_j = 0. Returns two masks: bit j of the first is set if id j was dropped,
/// bit j of the second if it is kept and e_j ≥ `below`.
#[inline]
pub fn drop_below4(s: &mut [f32; 4], e: &mut [f32; 4], below: f32) -> (u32, u32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let sv = f32x4(s[0], s[1], s[2], s[3]);
        let ev = f32x4(e[0], e[1], e[2], e[3]);
        let kept = f32x4_gt(sv, f32x4_splat(f32::NEG_INFINITY));
        let low = f32x4_lt(ev, f32x4_splat(below));
        let drop = v128_and(kept, low);
        let sv = v128_bitselect(f32x4_splat(f32::NEG_INFINITY), sv, drop);
        let ev = v128_andnot(ev, drop);
        *s = [
            f32x4_extract_lane::<0>(sv),
            f32x4_extract_lane::<1>(sv),
            f32x4_extract_lane::<2>(sv),
            f32x4_extract_lane::<3>(sv),
        ];
        *e = [
            f32x4_extract_lane::<0>(ev),
            f32x4_extract_lane::<1>(ev),
            f32x4_extract_lane::<2>(ev),
            f32x4_extract_lane::<3>(ev),
        ];
        (
            i32x4_bitmask(drop) as u32,
            i32x4_bitmask(v128_andnot(kept, low)) as u32,
        )
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let (mut drop, mut keep) = (0, 0);
        for j in 0..4 {
            if s[j] > f32::NEG_INFINITY {
                if e[j] < below {
                    drop |= 1 << j;
                    (s[j], e[j]) = (f32::NEG_INFINITY, 0.0);
                } else {
                    keep |= 1 << j;
                }
            }
        }
        (drop, keep)
    }
}

/// libm's `expf` (FreeBSD's e_expf.c) on four x ≤ 0, its branches turned into selects:
/// k = round(x / ln 2), r = x − k·ln 2 in two parts, exp(r) by its rational approximation,
/// then the exact scaling by 2^k (in two steps below 2^−126, as `scalbnf` does).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::v128;

/// `expf4`'s constants as vectors, made once per slice. V8 builds a vector constant with four
/// instructions at every use, and LLVM puts each use back inside the loop unless it cannot see
/// the value (`black_box`): this way they stay in registers.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
struct ExpConstants {
    abs_mask: v128,
    far: v128,
    near: v128,
    tiny: v128,
    zero: v128,
    inv_ln2: v128,
    minus_half: v128,
    minus_one: v128,
    magic: v128,
    ln2_hi: v128,
    ln2_lo: v128,
    p1: v128,
    p2: v128,
    one: v128,
    two: v128,
    k_min: v128,
    k_step: v128,
    bias: v128,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl ExpConstants {
    fn new() -> ExpConstants {
        use core::arch::wasm32::*;
        core::hint::black_box(ExpConstants {
            abs_mask: i32x4_splat(0x7fff_ffff),
            far: i32x4_splat(0x3f85_1592),  // |x| > 1.5 ln 2
            near: i32x4_splat(0x3eb1_7218), // |x| > 0.5 ln 2
            tiny: i32x4_splat(0x3900_0000), // |x| ≤ 2^−14: 1 + x
            zero: i32x4_splat(0x42cf_f1b4), // x ≤ −103.97: 0
            // libm's constants, by their bits: 1 / ln 2, ln 2 in two parts.
            inv_ln2: f32x4_splat(f32::from_bits(0x3fb8_aa3b)),
            minus_half: f32x4_splat(-0.5),
            minus_one: f32x4_splat(-1.0),
            magic: f32x4_splat(12_582_912.0),
            ln2_hi: f32x4_splat(f32::from_bits(0x3f31_7200)),
            ln2_lo: f32x4_splat(f32::from_bits(0x35bf_be8e)),
            p1: f32x4_splat(1.666_662_5e-1),
            p2: f32x4_splat(-2.766_733_3e-3),
            one: f32x4_splat(1.0),
            two: f32x4_splat(2.0),
            k_min: i32x4_splat(-126),
            k_step: i32x4_splat(-102),
            bias: i32x4_splat(127),
        })
    }
}

/// libm's `expf` (FreeBSD's e_expf.c) on four x ≤ 0, its branches turned into selects:
/// k = round(x / ln 2), r = x − k·ln 2 in two parts, exp(r) by its rational approximation,
/// then the exact scaling by 2^k (in two steps below 2^−126, as `scalbnf` does).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn expf4(x: [f32; 4], c: &ExpConstants) -> [f32; 4] {
    use core::arch::wasm32::*;
    let x = f32x4(x[0], x[1], x[2], x[3]);
    // |x|'s bits: ≥ 0 as i32, so signed comparisons order them.
    let hx = v128_and(x, c.abs_mask);
    let (far, near) = (i32x4_gt(hx, c.far), i32x4_gt(hx, c.near));
    // k: x / ln 2 − 0.5 rounded toward 0 (for x < 0 its ceiling) if far, −1 if near, else 0;
    // as a float, and as an integer read from the bits of k + 1.5·2^23 (exact for |k| < 2^22).
    let k_far = f32x4_ceil(f32x4_add(f32x4_mul(c.inv_ln2, x), c.minus_half));
    let kf = v128_bitselect(k_far, v128_and(near, c.minus_one), far);
    let k = i32x4_sub(f32x4_add(kf, c.magic), c.magic);
    let hi = f32x4_sub(x, f32x4_mul(kf, c.ln2_hi));
    let lo = f32x4_mul(kf, c.ln2_lo);
    let r = f32x4_sub(hi, lo);
    let rr = f32x4_mul(r, r);
    let t = f32x4_sub(r, f32x4_mul(rr, f32x4_add(c.p1, f32x4_mul(rr, c.p2))));
    let q = f32x4_div(f32x4_mul(r, t), f32x4_sub(c.two, t));
    let y = f32x4_add(c.one, f32x4_add(f32x4_sub(q, lo), hi));
    // y · 2^k: the first factor is exact, so the result is rounded once, as in scalbnf.
    let k1 = v128_and(i32x4_lt(k, c.k_min), c.k_step);
    let pow2 = |n: v128| i32x4_shl(i32x4_add(n, c.bias), 23);
    let y = f32x4_mul(f32x4_mul(y, pow2(k1)), pow2(i32x4_sub(k, k1)));
    let y = v128_bitselect(y, f32x4_add(c.one, x), i32x4_gt(hx, c.tiny));
    let y = v128_andnot(y, i32x4_gt(hx, c.zero));
    [
        f32x4_extract_lane::<0>(y),
        f32x4_extract_lane::<1>(y),
        f32x4_extract_lane::<2>(y),
        f32x4_extract_lane::<3>(y),
    ]
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

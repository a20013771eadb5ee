//! The sampler's private fast path: one pass that checks the values and finds their maximum,
//! the exponentials of the scores (our own exp for x ≤ 0, four lanes at a time), and the list
//! of ids at or above a cut-off. [`super::Candidates`] is their only caller; the student's
//! maths (softmax, log_softmax, logsumexp) is in [`crate::numerics`], written plainly.
//!
//! Every kernel runs the same operations natively and on wasm (four lanes as plain arrays,
//! which LLVM vectorises, or simd128), so a seeded draw is the same bits on every target.

use crate::error::Result;
use crate::numerics::check_values;

/// What one pass over the values finds: their maximum and how many are −∞.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scan {
    pub max: f32,
    pub excluded: usize,
}

/// [`check_values`], [`max`] and the count of −∞ entries in one pass, four lanes at a time.
pub fn scan(argument: &str, z: &[f32]) -> Result<Scan> {
    let (mut m, mut bad, mut excluded) = ([f32::NEG_INFINITY; 4], [false; 4], [0usize; 4]);
    let mut add = |j: usize, x: f32| {
        bad[j] |= x.is_nan() | (x == f32::INFINITY);
        m[j] = if x > m[j] { x } else { m[j] };
        excluded[j] += (x == f32::NEG_INFINITY) as usize;
    };
    let chunks = z.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (j, &x) in c.iter().enumerate() {
            add(j, x);
        }
    }
    for (j, &x) in rest.iter().enumerate() {
        add(j, x);
    }
    let max = [m[1], m[2], m[3]]
        .into_iter()
        .fold(m[0], |a, b| if b > a { b } else { a });
    if bad.contains(&true) || max == f32::NEG_INFINITY {
        check_values(argument, z)?;
    }
    Ok(Scan {
        max,
        excluded: excluded.iter().sum(),
    })
}

/// The maximum of `x` (−∞ if empty; no NaN expected), four lanes at a time.
pub fn max_of(x: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..4 {
            m[j] = if c[j] > m[j] { c[j] } else { m[j] };
        }
    }
    for (j, &v) in rest.iter().enumerate() {
        m[j] = if v > m[j] { v } else { m[j] };
    }
    [m[1], m[2], m[3]]
        .into_iter()
        .fold(m[0], |a, b| if b > a { b } else { a })
}

/// The score of an id that scored `s` after a step made it `y`: if the id is kept (s > −∞) and
/// `y` overflowed to −∞ (s − m for s near −f32::MAX, or s / T for a tiny T), the lowest finite
/// f32 instead, so that −∞ still means "cut". Its exp is 0 either way.
pub fn kept_score(s: f32, y: f32) -> f32 {
    if y == f32::NEG_INFINITY && s > f32::NEG_INFINITY {
        f32::MIN
    } else {
        y
    }
}

/// The constants of [`exp_le0`]: FreeBSD's `expf` (e_expf.c) reduction and rational
/// approximation.
mod exp_consts {
    /// Below this, exp rounds to 0 in f32 (e^−104 < 2^−150): inputs are raised to it.
    pub const LOW: f32 = -104.0;
    /// 1 / ln 2.
    pub const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    /// 1.5 · 2^23: adding it rounds to an integer, which its low bits then hold.
    pub const MAGIC: f32 = 12_582_912.0;
    /// ln 2 in two parts; the first has 9 trailing zero bits, so k · LN2_HI is exact.
    pub const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    pub const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    pub const P1: f32 = 1.666_662_5e-1;
    pub const P2: f32 = -2.766_733_3e-3;
}

/// exp(x) for x ≤ 0 (−∞ allowed, NaN not): the sampler's exponential, its scores being shifted
/// so that the best is 0. The same operations on every target, four lanes wide on wasm with
/// simd128 (`simd::exp4`), so native and wasm agree to the bit.
///
/// FreeBSD's `expf` without its branches: k = round(x / ln 2) (by the 1.5 · 2^23 trick),
/// r = x − k · ln 2 in two parts (|r| ≤ ln 2 / 2), exp(r) by its rational approximation, then
/// y · 2^k in two exact halves so that subnormal results are rounded once. Within 1 ulp of
/// exp(x) over every f32 ≤ 0 (checked against f64 exp for every one of them by the ignored
/// test `exp_le0_is_within_one_ulp_everywhere`); `expf` also leaves the reduction at |x| ≤ 0.5 ln 2 and returns 1 + x for
/// |x| ≤ 2^−14, which only changes which of the two nearest floats comes out.
#[inline]
pub fn exp_le0(x: f32) -> f32 {
    use exp_consts::*;
    let x = if LOW < x { x } else { LOW };
    let t = x * INV_LN2 + MAGIC;
    let kf = t - MAGIC;
    let k = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + ((r * c / (2.0 - c) - lo) + hi);
    let pow2 = |n: i32| f32::from_bits(((n + 127) << 23) as u32);
    let half = k >> 1;
    y * pow2(half) * pow2(k - half)
}

/// The sampler's scores and exponentials: from log-space `values` (no NaN, none above `max`),
/// s_i = (values_i − max) / T (each step through [`kept_score`]; no division at T = 1) and
/// e_i = exp(s_i), with their sums.
#[derive(Debug, Clone)]
pub struct Exps {
    pub s: Vec<f32>,
    pub e: Vec<f32>,
    /// Σ exp(values_i − max): the model's own normaliser at T = 1.
    pub at_one: f64,
    /// Σ e_i: the mass at T.
    pub at_t: f64,
}

/// [`Exps`] in two passes over the vocabulary (one at T = 1). Both sums are in [`sum`]'s order,
/// so they equal `sum` of the same exponentials. Every exp is [`exp_le0`], four at a time on
/// wasm with simd128, so the results are the same bits on every target.
pub fn exp_scaled(values: &[f32], max: f32, t: f32) -> Exps {
    let n = values.len();
    let mut lanes = Lanes {
        s: Vec::with_capacity(n),
        e: Vec::with_capacity(n),
        at_one: [0.0; 4],
        at_t: [0.0; 4],
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::exp_scaled(values, max, t, &mut lanes);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    quads::exp_scaled(values, max, t, &mut lanes);
    let Lanes {
        mut s,
        mut e,
        mut at_one,
        mut at_t,
    } = lanes;
    for (i, &v) in values.iter().enumerate().skip(s.len()) {
        let x = kept_score(v, v - max);
        let one = exp_le0(x);
        at_one[i % 4] += one as f64;
        let (y, ey) = if t != 1.0 {
            let y = kept_score(x, x / t);
            (y, exp_le0(y))
        } else {
            (x, one)
        };
        s.push(y);
        e.push(ey);
        at_t[i % 4] += ey as f64;
    }
    let fold = |s: [f64; 4]| (s[0] + s[1]) + (s[2] + s[3]);
    Exps {
        s,
        e,
        at_one: fold(at_one),
        at_t: fold(at_t),
    }
}

/// e_i = exp(values_i − max) (each shift through [`kept_score`]) and Σ e_i in
/// [`crate::numerics::sum`]'s order: [`exp_scaled`] at T = 1 without writing the shifted
/// scores, for the workbench's pool, whose scores stay unshifted. The same bits as `exp_scaled(values, max, 1.0).e` on every target.
pub fn exp_shifted(values: &[f32], max: f32) -> (Vec<f32>, f64) {
    let mut e = Vec::with_capacity(values.len());
    let mut sums = [0.0f64; 4];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::exp_shifted(values, max, &mut e, &mut sums);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    quads::exp_shifted(values, max, &mut e, &mut sums);
    for (i, &v) in values.iter().enumerate().skip(e.len()) {
        let y = exp_le0(kept_score(v, v - max));
        e.push(y);
        sums[i % 4] += y as f64;
    }
    (e, (sums[0] + sums[1]) + (sums[2] + sums[3]))
}

/// x_i ← x_i / t (t > 0) for every x_i > −∞, kept finite: a quotient that overflows becomes
/// ±f32::MAX (−∞ means "excluded"), four lanes at a time.
pub fn divide(x: &mut [f32], t: f32) {
    let one = |x: f32| {
        let y = (x / t).clamp(f32::MIN, f32::MAX);
        if x == f32::NEG_INFINITY {
            x
        } else {
            y
        }
    };
    let mut chunks = x.chunks_exact_mut(4);
    for c in &mut chunks {
        let y: [f32; 4] = core::array::from_fn(|j| one(c[j]));
        c.copy_from_slice(&y);
    }
    for v in chunks.into_remainder() {
        *v = one(*v);
    }
}

/// The indices i with x_i ≥ `least`, in order. On wasm with simd128, four at a time: one
/// comparison and a bit mask per four, and a branch only where one passes.
pub fn at_least(x: &[f32], least: f32) -> Vec<u32> {
    let mut out = Vec::new();
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::at_least(x, least, &mut out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    out.extend((done..x.len()).filter(|&i| x[i] >= least).map(|i| i as u32));
    out
}

/// What [`exp_scaled`]'s kernels build over the whole quads of the values: s and e so far, and
/// the sums by lane (lane i mod 4, in id order).
struct Lanes {
    s: Vec<f32>,
    e: Vec<f32>,
    at_one: [f64; 4],
    at_t: [f64; 4],
}

/// [`exp_scaled`] elsewhere: the same steps on four lanes as plain arrays, which LLVM turns into
/// vector code for the target (a call to `exp_le0` per id does not vectorise).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod quads {
    use super::{exp_le0, kept_score, Lanes};

    /// Over the whole quads of `values`.
    pub(super) fn exp_scaled(values: &[f32], max: f32, t: f32, out: &mut Lanes) {
        let Lanes { s, e, at_one, at_t } = out;
        let n = values.len() / 4 * 4;
        let add = |sums: &mut [f64; 4], y: [f32; 4]| {
            for (sum, y) in sums.iter_mut().zip(y) {
                *sum += y as f64;
            }
        };
        for v in values[..n].chunks_exact(4) {
            let x: [f32; 4] = core::array::from_fn(|j| kept_score(v[j], v[j] - max));
            s.extend_from_slice(&x);
            let y = x.map(exp_le0);
            if t == 1.0 {
                e.extend_from_slice(&y);
            }
            add(at_one, y);
        }
        if t == 1.0 {
            *at_t = *at_one;
            return;
        }
        for s in s.chunks_exact_mut(4) {
            let x: [f32; 4] = core::array::from_fn(|j| kept_score(s[j], s[j] / t));
            s.copy_from_slice(&x);
            let y = x.map(exp_le0);
            e.extend_from_slice(&y);
            add(at_t, y);
        }
    }

    /// [`super::exp_shifted`] over the whole quads of `values`.
    pub(super) fn exp_shifted(values: &[f32], max: f32, e: &mut Vec<f32>, sums: &mut [f64; 4]) {
        let n = values.len() / 4 * 4;
        for v in values[..n].chunks_exact(4) {
            let x: [f32; 4] = core::array::from_fn(|j| kept_score(v[j], v[j] - max));
            let y = x.map(exp_le0);
            e.extend_from_slice(&y);
            for (sum, y) in sums.iter_mut().zip(y) {
                *sum += y as f64;
            }
        }
    }
}

/// The wasm simd128 kernels: [`exp_le0`] four lanes wide, the sampler's exp pass on it, and
/// [`at_least`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// [`super::exp_scaled`] over the whole quads of `values`. Out of line, so that profiles and
    /// benchmarks see it as one function.
    #[inline(never)]
    pub(super) fn exp_scaled(values: &[f32], max: f32, t: f32, out: &mut super::Lanes) {
        let super::Lanes { s, e, at_one, at_t } = out;
        // Two loops rather than one: V8 keeps one `exp4`'s constants and temporaries in the 16
        // vector registers, not two (fused, it spills part of its work to the stack).
        let n = values.len() / 4 * 4;
        let c = ExpConstants::new();
        let (minus_inf, lowest) = (f32x4_splat(f32::NEG_INFINITY), f32x4_splat(f32::MIN));
        // kept_score: an id that only this step sent to −∞ scores the lowest f32.
        let kept = |x: v128, y: v128| {
            let overflow = v128_and(f32x4_eq(y, minus_inf), f32x4_gt(x, minus_inf));
            v128_bitselect(lowest, y, overflow)
        };
        let (mut one, m) = (Sums::new(), f32x4_splat(max));
        for v in values[..n].chunks_exact(4) {
            let v = f32x4(v[0], v[1], v[2], v[3]);
            let x = kept(v, f32x4_sub(v, m));
            push(s, x);
            let y = exp4(x, &c);
            if t == 1.0 {
                push(e, y);
            }
            one.add(y);
        }
        *at_one = one.lanes();
        if t == 1.0 {
            *at_t = one.lanes();
            return;
        }
        let (tv, mut at) = (f32x4_splat(t), Sums::new());
        for s in s.chunks_exact_mut(4) {
            let x = f32x4(s[0], s[1], s[2], s[3]);
            let y = kept(x, f32x4_div(x, tv));
            store(s, y);
            let y = exp4(y, &c);
            push(e, y);
            at.add(y);
        }
        *at_t = at.lanes();
    }

    /// [`super::exp_shifted`] over the whole quads of `values`.
    #[inline(never)]
    pub(super) fn exp_shifted(values: &[f32], max: f32, e: &mut Vec<f32>, sums: &mut [f64; 4]) {
        let n = values.len() / 4 * 4;
        let c = ExpConstants::new();
        let (minus_inf, lowest) = (f32x4_splat(f32::NEG_INFINITY), f32x4_splat(f32::MIN));
        let (mut at, m) = (Sums::new(), f32x4_splat(max));
        for v in values[..n].chunks_exact(4) {
            let v = f32x4(v[0], v[1], v[2], v[3]);
            let y = f32x4_sub(v, m);
            let overflow = v128_and(f32x4_eq(y, minus_inf), f32x4_gt(v, minus_inf));
            let y = exp4(v128_bitselect(lowest, y, overflow), &c);
            push(e, y);
            at.add(y);
        }
        *sums = at.lanes();
    }

    /// Four running f64 sums of f32 lanes, as [`super::sum`] keeps them: lanes 0 and 1 in one
    /// f64x2, lanes 2 and 3 in the other.
    struct Sums(v128, v128);

    impl Sums {
        fn new() -> Sums {
            Sums(f64x2_splat(0.0), f64x2_splat(0.0))
        }

        #[inline(always)]
        fn add(&mut self, x: v128) {
            self.0 = f64x2_add(self.0, f64x2_promote_low_f32x4(x));
            let high = i32x4_shuffle::<2, 3, 2, 3>(x, x);
            self.1 = f64x2_add(self.1, f64x2_promote_low_f32x4(high));
        }

        fn lanes(&self) -> [f64; 4] {
            [
                f64x2_extract_lane::<0>(self.0),
                f64x2_extract_lane::<1>(self.0),
                f64x2_extract_lane::<0>(self.1),
                f64x2_extract_lane::<1>(self.1),
            ]
        }
    }

    /// [`super::at_least`] over the whole quads of `x`; returns how many ids it did. No branch
    /// per quad (on random data a branch on whether any of four ids passes mispredicts often):
    /// each quad's passing indices are packed to the front of a vector by a byte shuffle chosen
    /// by the comparison's bit mask, all four lanes are appended, and the list is cut back to
    /// those that passed.
    pub(super) fn at_least(x: &[f32], least: f32, out: &mut Vec<u32>) -> usize {
        let n = x.len() / 4 * 4;
        // pack[m]: the bytes of the lanes j with bit j of m set, in order, then anything.
        let pack: [v128; 16] = core::array::from_fn(|m| {
            let mut bytes = [0u8; 16];
            let lanes = (0..4).filter(|j| m >> j & 1 != 0);
            for (k, j) in lanes.enumerate() {
                for b in 0..4 {
                    bytes[4 * k + b] = (4 * j + b) as u8;
                }
            }
            u8x16(
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14],
                bytes[15],
            )
        });
        out.reserve(n + 4);
        let (least, mut ids, four) = (f32x4_splat(least), u32x4(0, 1, 2, 3), u32x4_splat(4));
        for x in x[..n].chunks_exact(4) {
            let pass = i32x4_bitmask(f32x4_ge(f32x4(x[0], x[1], x[2], x[3]), least)) as usize;
            let packed = i8x16_swizzle(ids, pack[pass]);
            let end = out.len() + pass.count_ones() as usize;
            out.extend_from_slice(&[
                u32x4_extract_lane::<0>(packed),
                u32x4_extract_lane::<1>(packed),
                u32x4_extract_lane::<2>(packed),
                u32x4_extract_lane::<3>(packed),
            ]);
            out.truncate(end);
            ids = u32x4_add(ids, four);
        }
        n
    }

    /// Appends the four lanes of `x`, with one vector store.
    fn push(out: &mut Vec<f32>, x: v128) {
        out.extend_from_slice(&[
            f32x4_extract_lane::<0>(x),
            f32x4_extract_lane::<1>(x),
            f32x4_extract_lane::<2>(x),
            f32x4_extract_lane::<3>(x),
        ]);
    }

    fn store(out: &mut [f32], x: v128) {
        out.copy_from_slice(&[
            f32x4_extract_lane::<0>(x),
            f32x4_extract_lane::<1>(x),
            f32x4_extract_lane::<2>(x),
            f32x4_extract_lane::<3>(x),
        ]);
    }

    /// [`super::exp_le0`]'s constants as vectors, made once per slice. V8 builds a vector
    /// constant with four instructions at every use, and LLVM puts each use back inside the
    /// loop unless it cannot see the value (`black_box`): this way they stay in registers.
    #[derive(Clone, Copy)]
    struct ExpConstants {
        low: v128,
        inv_ln2: v128,
        magic: v128,
        ln2_hi: v128,
        ln2_lo: v128,
        p1: v128,
        p2: v128,
        one: v128,
        two: v128,
        bias: v128,
    }

    impl ExpConstants {
        fn new() -> ExpConstants {
            use super::exp_consts::*;
            core::hint::black_box(ExpConstants {
                low: f32x4_splat(LOW),
                inv_ln2: f32x4_splat(INV_LN2),
                magic: f32x4_splat(MAGIC),
                ln2_hi: f32x4_splat(LN2_HI),
                ln2_lo: f32x4_splat(LN2_LO),
                p1: f32x4_splat(P1),
                p2: f32x4_splat(P2),
                one: f32x4_splat(1.0),
                two: f32x4_splat(2.0),
                bias: i32x4_splat(127),
            })
        }
    }

    /// [`super::exp_le0`] on four lanes, operation for operation (`f32x4_pmax(a, b)` is
    /// `if a < b { b } else { a }`, as there).
    #[inline(always)]
    fn exp4(x: v128, c: &ExpConstants) -> v128 {
        let x = f32x4_pmax(c.low, x);
        let t = f32x4_add(f32x4_mul(x, c.inv_ln2), c.magic);
        let kf = f32x4_sub(t, c.magic);
        let k = i32x4_sub(t, c.magic);
        let hi = f32x4_sub(x, f32x4_mul(kf, c.ln2_hi));
        let lo = f32x4_mul(kf, c.ln2_lo);
        let r = f32x4_sub(hi, lo);
        let rr = f32x4_mul(r, r);
        let t = f32x4_sub(r, f32x4_mul(rr, f32x4_add(c.p1, f32x4_mul(rr, c.p2))));
        let q = f32x4_div(f32x4_mul(r, t), f32x4_sub(c.two, t));
        let y = f32x4_add(c.one, f32x4_add(f32x4_sub(q, lo), hi));
        let pow2 = |n: v128| i32x4_shl(i32x4_add(n, c.bias), 23);
        let half = i32x4_shr(k, 1);
        f32x4_mul(f32x4_mul(y, pow2(half)), pow2(i32x4_sub(k, half)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_max_and_excluded_or_names_the_bad_entry() {
        let mut z = vec![
            1.0,
            f32::NEG_INFINITY,
            3.0,
            2.0,
            f32::NEG_INFINITY,
            -7.0,
            0.5,
        ];
        assert_eq!(
            scan("z", &z).unwrap(),
            Scan {
                max: 3.0,
                excluded: 2
            }
        );
        z[5] = f32::NAN;
        let err = scan("z", &z).unwrap_err().to_string();
        assert!(err.contains("z[5] is NaN"), "{err}");
        z[5] = f32::INFINITY;
        assert!(scan("z", &z)
            .unwrap_err()
            .to_string()
            .contains("z[5] is +Infinity"));
        assert!(scan("z", &[f32::NEG_INFINITY; 5]).is_err());
        assert!(scan("z", &[]).is_err());
    }

    /// Checks [`exp_le0`] on every `stride`-th f32 from −0 down to −104 (below, inputs are
    /// raised to −104): the result must be one of the two floats around exp(x) in f64 (within
    /// 1 ulp), and the simd128 lanes, in wasm, the same bits. Returns how many were checked.
    fn check_exp_le0(stride: u32) -> u32 {
        let (first, last) = ((-0.0f32).to_bits(), (-104.0f32).to_bits());
        let mut n = 0;
        for bits in (first..=last).step_by(stride as usize) {
            let x = f32::from_bits(bits);
            let (y, exact) = (exp_le0(x), (x as f64).exp());
            let near = exact as f32;
            let (a, b) = if near as f64 <= exact {
                (near, f32::from_bits(near.to_bits() + 1))
            } else {
                (f32::from_bits(near.to_bits() - 1), near)
            };
            assert!(y == a || y == b, "exp({x:e}) = {y:e}, want {a:e} or {b:e}");
            n += 1;
        }
        n
    }

    #[test]
    fn exp_le0_is_within_one_ulp() {
        // 2^22 inputs spread over the range; `cargo test --release -- --ignored exp_le0`
        // checks all of them.
        assert!(check_exp_le0(257) > 4_000_000);
        assert_eq!(exp_le0(0.0), 1.0);
        assert_eq!(exp_le0(-0.0), 1.0);
        assert_eq!(exp_le0(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_le0(-1e30), 0.0);
        assert_eq!(exp_le0(-103.9), (-103.9f64).exp() as f32);
    }

    #[test]
    #[ignore = "1.1e9 inputs: a minute in release"]
    fn exp_le0_is_within_one_ulp_everywhere() {
        assert_eq!(
            check_exp_le0(1),
            (-104.0f32).to_bits() - (-0.0f32).to_bits() + 1
        );
    }
}

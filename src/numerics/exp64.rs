//! The f64 exponential of [`super`]'s passes over V (logsumexp, softmax, the stored
//! precisions), two lanes at a time on wasm with simd128.
//!
//! The very operations of the `exp` the wasm build links (the Rust `libm` port of FreeBSD's
//! e_exp.c): the same reduction, rational approximation and scaling, with its branches turned
//! into selects, so each result is the same bits as `f64::exp` gives on wasm, natively too.
//! Only x ≤ 0 is needed (every exponent here is shifted by the maximum), so only that half of
//! the function is written; NaN is not expected.

/// ln 2 in two parts (k · LN2_HI is exact for the k used), 1 / ln 2, and the coefficients of
/// R(r²) = r (e^r + 1) / (e^r − 1) ≈ 2 + P1 r² + … + P5 r¹⁰ on [0, ln 2 / 2].
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const INV_LN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
/// Below this, e^x rounds to 0.
#[allow(clippy::excessive_precision)]
const UNDERFLOW: f64 = -745.133_219_101_941_108_42;
/// The high word of |x| at which e_exp.c changes branch: |x| > ln 2 / 2 (reduce), |x| ≥ 1.5 ln 2
/// (k from the product, else k = −1), |x| ≤ 2^−28 (1 + x).
const REDUCE: i64 = 0x3fd6_2e42;
const FROM_PRODUCT: i64 = 0x3ff0_a2b2;
const TINY: i64 = 0x3e30_0000;
/// Below 2^−1022, the scaling goes in two steps (2^−969 exactly, then the rest), as scalbn does,
/// so that a subnormal result is rounded once.
const SUBNORMAL_K: i32 = -1022;
const FIRST_STEP: i32 = -969;

/// 2^k for k in [−1022, 1023], from its bits.
#[inline]
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// e^x for x ≤ 0 (−∞ gives 0): `f64::exp` of the wasm build, bit for bit.
#[inline]
pub(super) fn exp_le0(x: f64) -> f64 {
    let hx = ((x.to_bits() >> 32) & 0x7fff_ffff) as i64;
    if x < UNDERFLOW {
        return 0.0;
    }
    if hx <= TINY {
        return 1.0 + x;
    }
    let k: i32 = if hx > REDUCE {
        if hx >= FROM_PRODUCT {
            (INV_LN2 * x - 0.5) as i32
        } else {
            -1
        }
    } else {
        0
    };
    let kf = k as f64;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    let (first, k) = if k < SUBNORMAL_K {
        (pow2(FIRST_STEP), k - FIRST_STEP)
    } else {
        (1.0, k)
    };
    y * first * pow2(k)
}

/// [`exp_le0`] of two values at once.
#[inline]
pub(super) fn exp2_le0(x: [f64; 2]) -> [f64; 2] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd::exp2_le0(x);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    x.map(exp_le0)
}

/// e^x of every x ≤ 0 (−∞ gives 0), two at a time: `f64::exp` of the wasm build, bit for bit.
pub(crate) fn exp_le0_all(x: &[f64]) -> Vec<f64> {
    let pairs = x.chunks_exact(2);
    let rest = pairs.remainder();
    let mut out = Vec::with_capacity(x.len());
    for pair in pairs {
        out.extend(exp2_le0([pair[0], pair[1]]));
    }
    out.extend(rest.iter().map(|&x| exp_le0(x)));
    out
}

/// Σ_i e^{arg(z_i)} in f64, added in index order (the order of an iterator's `sum`), for
/// arguments ≤ 0; `each(i, e^{arg(z_i)})` sees every term on the way.
#[inline]
pub(super) fn sum_exp(
    z: &[f32],
    arg: impl Fn(f32) -> f64,
    mut each: impl FnMut(usize, f64),
) -> f64 {
    let mut sum = 0.0f64;
    let pairs = z.chunks_exact(2);
    let rest = pairs.remainder();
    for (j, pair) in pairs.enumerate() {
        let [a, b] = exp2_le0([arg(pair[0]), arg(pair[1])]);
        sum += a;
        sum += b;
        each(2 * j, a);
        each(2 * j + 1, b);
    }
    for &x in rest {
        let e = exp_le0(arg(x));
        sum += e;
        each(z.len() - 1, e);
    }
    sum
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    /// [`super::exp_le0`] on two lanes: each branch of e_exp.c computed, then selected.
    #[inline]
    pub(super) fn exp2_le0(x: [f64; 2]) -> [f64; 2] {
        let v = f64x2(x[0], x[1]);
        let hx = v128_and(u64x2_shr(v, 32), i64x2_splat(0x7fff_ffff));
        let reduce = i64x2_gt(hx, i64x2_splat(REDUCE));
        let from_product = i64x2_ge(hx, i64x2_splat(FROM_PRODUCT));
        let tiny = i64x2_le(hx, i64x2_splat(TINY));
        let product = f64x2_trunc(f64x2_sub(
            f64x2_mul(f64x2_splat(INV_LN2), v),
            f64x2_splat(0.5),
        ));
        let kf = v128_bitselect(product, v128_and(f64x2_splat(-1.0), reduce), from_product);
        let hi = f64x2_sub(v, f64x2_mul(kf, f64x2_splat(LN2_HI)));
        let lo = f64x2_mul(kf, f64x2_splat(LN2_LO));
        let r = f64x2_sub(hi, lo);
        let rr = f64x2_mul(r, r);
        let poly = |p: f64, acc: v128| f64x2_add(f64x2_splat(p), f64x2_mul(rr, acc));
        let inner = poly(P1, poly(P2, poly(P3, poly(P4, f64x2_splat(P5)))));
        let c = f64x2_sub(r, f64x2_mul(rr, inner));
        let q = f64x2_div(f64x2_mul(r, c), f64x2_sub(f64x2_splat(2.0), c));
        let y = f64x2_add(f64x2_splat(1.0), f64x2_add(f64x2_sub(q, lo), hi));
        // k as i64 lanes; below −1022, a first exact step of 2^−969.
        let k = i64x2_extend_low_i32x4(i32x4_trunc_sat_f64x2_zero(kf));
        let deep = i64x2_lt(k, i64x2_splat(SUBNORMAL_K as i64));
        let k = i64x2_sub(k, v128_and(i64x2_splat(FIRST_STEP as i64), deep));
        let first = v128_bitselect(f64x2_splat(pow2(FIRST_STEP)), f64x2_splat(1.0), deep);
        let scale = i64x2_shl(i64x2_add(k, i64x2_splat(1023)), 52);
        let e = f64x2_mul(f64x2_mul(y, first), scale);
        let e = v128_bitselect(f64x2_add(f64x2_splat(1.0), v), e, tiny);
        let e = v128_andnot(e, f64x2_lt(v, f64x2_splat(UNDERFLOW)));
        [f64x2_extract_lane::<0>(e), f64x2_extract_lane::<1>(e)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every branch of e_exp.c, its edges, and a sweep of x ≤ 0, against the `libm` crate's
    /// `exp` (the code the wasm build links), bit for bit, one lane and two.
    #[test]
    fn exp_le0_is_libm_exp_bit_for_bit() {
        let mut xs: Vec<f64> = vec![
            0.0,
            -0.0,
            f64::NEG_INFINITY,
            -1e-300,
            -f64::MIN_POSITIVE,
            UNDERFLOW,
            UNDERFLOW * (1.0 - f64::EPSILON),
            -708.396_418_532_264_1,
            -709.0,
            -740.0,
            -745.0,
            -0.5 * std::f64::consts::LN_2,
            -1.5 * std::f64::consts::LN_2,
        ];
        for hx in [REDUCE, FROM_PRODUCT, TINY] {
            // The first and the last bits of that high word, and their neighbours.
            for bits in [(hx as u64) << 32, (hx as u64) << 32 | 0xffff_ffff] {
                for d in [-2i64, -1, 0, 1, 2] {
                    xs.push(-f64::from_bits(bits.wrapping_add_signed(d)));
                }
            }
        }
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..2_000_000u64 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(match i % 4 {
                0 => -u * 750.0,
                1 => -u * 40.0,
                2 => -u * 2.0,
                _ => -(u * 60.0 - 30.0).exp2(),
            });
        }
        // And at every f32 (the passes feed f32 differences) across [−104, 0], by steps.
        let mut x = -0.0f32;
        while x > -110.0 {
            xs.push(x as f64);
            x = -f32::from_bits((-x).to_bits() + 997);
        }
        for pair in xs.chunks_exact(2) {
            let want = [libm::exp(pair[0]), libm::exp(pair[1])];
            let got = exp2_le0([pair[0], pair[1]]);
            for j in 0..2 {
                assert_eq!(got[j].to_bits(), want[j].to_bits(), "exp({:e})", pair[j]);
                assert_eq!(
                    exp_le0(pair[j]).to_bits(),
                    want[j].to_bits(),
                    "exp({:e})",
                    pair[j]
                );
            }
        }
    }
}

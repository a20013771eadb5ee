//! The f32 exponential of the forward passes (GELU's tanh, attention's softmax), four lanes at a
//! time on wasm with simd128.
//!
//! The very operations of the `expf` the wasm build links (the Rust `libm` port of FreeBSD's
//! e_expf.c): the same reduction, rational approximation and scaling, so each result is the same
//! bits as `f32::exp` gives on wasm, natively too (where `f32::exp` is the platform's own). The
//! four-lane form computes every branch and selects, as [`crate::numerics`]' f64 exponential
//! does.

/// ln 2 in two parts (k · LN2_HI is exact for the k used), 1 / ln 2, and the coefficients of
/// R(r²) = r (e^r + 1) / (e^r − 1) ≈ 2 + P1 r² + P2 r⁴ on [−ln 2 / 2, ln 2 / 2].
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
const P1: f32 = f32::from_bits(0x3e2a_aa8f);
const P2: f32 = f32::from_bits(0xbb35_5215);
/// 2^127: x · 2^127 is +∞ for every x past OVERFLOW.
const X1P127: f32 = f32::from_bits(0x7f00_0000);
/// |x|'s bits at which e_expf.c changes branch: ≥ 88.7228 (x > 0: +∞), ≥ 103.972 (x < 0: 0),
/// > 1.5 ln 2 (k from the product), > ln 2 / 2 (k = ±1, else 0), ≤ 2^−14 (1 + x).
const OVERFLOW: u32 = 0x42b1_7218;
const UNDERFLOW: u32 = 0x42cf_f1b5;
const FROM_PRODUCT: u32 = 0x3f85_1592;
const REDUCE: u32 = 0x3eb1_7218;
const TINY: u32 = 0x3900_0000;
const NAN: u32 = 0x7f80_0000;

/// 2^n for n in [−126, 127], from its bits.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// e^x: `f32::exp` of the wasm build, bit for bit, for every f32.
#[inline]
pub(crate) fn expf(x: f32) -> f32 {
    let bits = x.to_bits();
    let negative = bits >> 31 == 1;
    let hx = bits & 0x7fff_ffff;
    if hx > NAN {
        return x;
    }
    if hx >= OVERFLOW && !negative {
        return x * X1P127;
    }
    if hx >= UNDERFLOW && negative {
        return 0.0;
    }
    if hx <= TINY {
        return 1.0 + x;
    }
    let k: i32 = if hx > FROM_PRODUCT {
        (INV_LN2 * x + if negative { -0.5 } else { 0.5 }) as i32
    } else if hx > REDUCE {
        if negative {
            -1
        } else {
            1
        }
    } else {
        0
    };
    // k = 0: hi = x, lo = 0, as e_expf.c takes them.
    let kf = k as f32;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // y · 2^k in two exact halves (k in [−150, 128]), so that a subnormal result is rounded
    // once, as scalbnf rounds it.
    let half = k >> 1;
    y * pow2(half) * pow2(k - half)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use super::*;
    use core::arch::wasm32::*;

    /// [`super::expf`] on four lanes: each branch of e_expf.c computed, then selected.
    #[inline(always)]
    pub(crate) fn expf4(x: v128) -> v128 {
        let hx = v128_and(x, u32x4_splat(0x7fff_ffff));
        let negative = i32x4_lt(x, i32x4_splat(0));
        let above = |bound: u32| i32x4_gt(hx, i32x4_splat(bound as i32));
        let half = v128_bitselect(f32x4_splat(-0.5), f32x4_splat(0.5), negative);
        let product = i32x4_trunc_sat_f32x4(f32x4_add(f32x4_mul(f32x4_splat(INV_LN2), x), half));
        // ±1: 1 with the sign's all-ones lanes or-ed in is −1.
        let one = v128_or(i32x4_splat(1), negative);
        let k = v128_bitselect(product, one, above(FROM_PRODUCT));
        let k = v128_and(k, above(REDUCE));
        let kf = f32x4_convert_i32x4(k);
        let hi = f32x4_sub(x, f32x4_mul(kf, f32x4_splat(LN2_HI)));
        let lo = f32x4_mul(kf, f32x4_splat(LN2_LO));
        let r = f32x4_sub(hi, lo);
        let rr = f32x4_mul(r, r);
        let poly = f32x4_add(f32x4_splat(P1), f32x4_mul(rr, f32x4_splat(P2)));
        let c = f32x4_sub(r, f32x4_mul(rr, poly));
        let q = f32x4_div(f32x4_mul(r, c), f32x4_sub(f32x4_splat(2.0), c));
        let y = f32x4_add(f32x4_splat(1.0), f32x4_add(f32x4_sub(q, lo), hi));
        let half_k = i32x4_shr(k, 1);
        let pow2 = |n: v128| i32x4_shl(i32x4_add(n, i32x4_splat(127)), 23);
        let e = f32x4_mul(f32x4_mul(y, pow2(half_k)), pow2(i32x4_sub(k, half_k)));
        let e = v128_bitselect(f32x4_add(f32x4_splat(1.0), x), e, v128_not(above(TINY)));
        let e = v128_andnot(e, v128_and(negative, above(UNDERFLOW - 1)));
        let overflow = v128_andnot(above(OVERFLOW - 1), negative);
        let e = v128_bitselect(f32x4_mul(x, f32x4_splat(X1P127)), e, overflow);
        v128_bitselect(x, e, above(NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    /// Every branch of e_expf.c, its edges, and every f32 in steps, against the `libm` crate's
    /// `expf` (the code the wasm build links), bit for bit, one lane and four; in Chromium
    /// (`wasm-pack test --release --headless --chrome --lib`) against `f32::exp` too, and the
    /// four lanes are simd128's.
    #[test]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn expf_is_libm_expf_bit_for_bit() {
        let mut xs: Vec<f32> = vec![
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            88.72,
            -87.34,
            -103.9,
            -104.0,
        ];
        for bound in [OVERFLOW, UNDERFLOW, FROM_PRODUCT, REDUCE, TINY, NAN] {
            for d in [-2i32, -1, 0, 1, 2] {
                let b = bound.wrapping_add_signed(d);
                xs.push(f32::from_bits(b));
                xs.push(-f32::from_bits(b));
            }
        }
        // Every 61st bit pattern (an odd step, so every low bit varies): 70 million values.
        xs.extend((0..u32::MAX / 61).map(|i| f32::from_bits(i * 61)));
        for quad in xs.chunks(4) {
            let mut x = [0.0; 4];
            x[..quad.len()].copy_from_slice(quad);
            let four = super::super::F4::load(&x).exp().to_array();
            for (j, &x) in x.iter().enumerate() {
                let want = libm::expf(x);
                let same =
                    |got: f32| got.to_bits() == want.to_bits() || got.is_nan() && want.is_nan();
                #[cfg(target_arch = "wasm32")]
                assert!(
                    same(x.exp()),
                    "f32::exp({x:e}) = {:e}, libm {want:e}",
                    x.exp()
                );
                assert!(same(expf(x)), "expf({x:e}) = {:e}, want {want:e}", expf(x));
                assert!(same(four[j]), "expf4({x:e}) = {:e}, want {want:e}", four[j]);
            }
        }
    }
}

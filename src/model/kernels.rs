//! The plain-array maths of the forward passes: matmul, LayerNorm, causal attention over a KV
//! cache, GELU. [`crate::model::net`] computes the GPT with them; the candle graph shares the
//! scalar definitions (GELU, the overflow check), so both passes compute the same
//! function.
//!
//! Rounding: every sum is taken in a fixed order, with no fused multiply-add, so the values do
//! not depend on how a row was fed (prefill or one token at a time) nor on the platform: the
//! exponentials of GELU and attention are the wasm build's `expf`, computed by [`expf`] on every
//! target (SiLU's and the exact GELU's are the platform's `exp`).

use crate::error::{Error, Result};
use crate::model::config::RopeLayout;
use crate::model::tensor::{Element, Tensor};
use crate::model::Gelu;

mod expf;

impl Gelu {
    /// This GELU of x.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Gelu::Tanh => gelu_scalar(x),
            Gelu::Erf => gelu_erf_scalar(x),
        }
    }

    /// This GELU of every value of `x`, in place: [`Gelu::apply`]'s bits, the tanh form four
    /// values at a time.
    pub(crate) fn apply_all(self, x: &mut [f32]) {
        let rest = match self {
            Gelu::Tanh => {
                let mut quads = x.chunks_exact_mut(4);
                for q in &mut quads {
                    gelu4(F4::load(q)).store(q);
                }
                quads.into_remainder()
            }
            Gelu::Erf => x,
        };
        for a in rest {
            *a = self.apply(*a);
        }
    }
}

/// The model's output must be finite: finite weights can still overflow f32 (a checkpoint with
/// weights near float16's 65504), and a NaN must not reach the sampler or the page. Shared by
/// both forward passes.
pub(crate) fn check_finite(values: Vec<f32>) -> Result<Vec<f32>> {
    match values.iter().position(|x| !x.is_finite()) {
        None => Ok(values),
        Some(i) => Err(Error::new(format!(
            "model: the forward pass overflowed f32 ({} at output index {i}); the checkpoint's \
             weights are too large to compute with",
            values[i]
        ))),
    }
}

/// GELU, tanh approximation (GPT-2's): gelu(x) = ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
/// One scalar definition shared by both forward passes.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_C: f32 = 0.044_715;

/// tanh(u) = 1 − 2 / (e^{2u} + 1), exact at ±∞ (e^{2u} = ∞ gives 1, 0 gives −1). The exp is
/// [`expf::expf`], the wasm build's `f32::exp`, so both passes compute the same bits on every
/// target.
fn tanh(u: f32) -> f32 {
    1.0 - 2.0 / (expf::expf(2.0 * u) + 1.0)
}

pub(crate) fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))
}

/// [`gelu_scalar`] of four values: the same operations in the same order, lane by lane.
#[inline(always)]
fn gelu4(x: F4) -> F4 {
    let splat = F4::splat;
    let cube = splat(GELU_C).mul(x).mul(x).mul(x);
    let u = splat(SQRT_2_OVER_PI).mul(x.add(cube));
    let e = splat(2.0).mul(u).exp();
    let tanh = splat(1.0).sub(splat(2.0).div(e.add(splat(1.0))));
    splat(0.5).mul(x).mul(splat(1.0).add(tanh))
}

/// The exact GELU, x·Φ(x) = ½·x·(1 + erf(x/√2)) (PyTorch's `gelu`, GPT-2's `gelu`), computed in
/// f64 and rounded once.
pub(crate) fn gelu_erf_scalar(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// The error function, erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to ~1e-15 (checked against Python's
/// `math.erf` in the tests), without libm:
/// - |x| < 2.5: its Maclaurin series 2/√π · Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1)), whose largest term
///   there is ~16, so cancellation costs at most ~1e-14;
/// - 2.5 ≤ |x| < 6: 1 − erfc(x), erfc by its continued fraction (Abramowitz & Stegun 7.1.14)
///   e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))), 60 levels deep;
/// - |x| ≥ 6: ±1 (erfc(6) ≈ 2e-17 is below f64's resolution near 1).
pub(crate) fn erf(x: f64) -> f64 {
    let a = x.abs();
    let value = if a < 2.5 {
        let (x2, mut term, mut sum) = (a * a, a, a);
        for n in 1..100 {
            term *= -x2 / f64::from(n);
            let add = term / f64::from(2 * n + 1);
            sum += add;
            if add.abs() < 1e-17 * sum {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else if a < 6.0 {
        let mut f = a;
        for k in (1..=60).rev() {
            f = a + f64::from(k) / 2.0 / f;
        }
        1.0 - (-a * a).exp() / (std::f64::consts::PI.sqrt() * f)
    } else {
        1.0
    };
    value.copysign(x)
}

/// d gelu / dx = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²).
#[cfg(feature = "train")] // training's backward pass only
pub(crate) fn gelu_derivative_scalar(x: f32) -> f32 {
    let t = tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x)
}

/// Adds `b` to `a`, elementwise (the residual connections).
pub(crate) fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// LayerNorm of each row of C values, as the candle model computes it: mean, centred
/// variance, then (x − mean) / sqrt(var + ε) · γ + β, with γ = `gain` and β = `bias`.
pub(crate) fn layer_norm(x: &[f32], gain: &[f32], bias: &[f32], eps: f64) -> Vec<f32> {
    let c = gain.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        let mean = row.iter().sum::<f32>() / c as f32;
        let var = row.iter().map(|&a| (a - mean) * (a - mean)).sum::<f32>() / c as f32;
        let std = (var + eps as f32).sqrt();
        out.extend(
            row.iter()
                .zip(gain)
                .zip(bias)
                .map(|((&a, &g), &b)| (a - mean) / std * g + b),
        );
    }
    out
}

/// y = x · W for every row of x: (rows, in) → (rows, n_out), with W stored (in, n_out).
///
/// Each y_j is the sum x_0·W_0j + x_1·W_1j + … taken in that order. One row of x (a token at a
/// time) takes W one row at a time ([`matvec_row_by_row`]); for two or three rows of x the inner
/// loops run along [`GROUP`] rows of W at once, over j, which LLVM vectorises without reordering any sum: a
/// vector of y is loaded once, takes the products of all the group's rows, and is stored
/// once. W may be stored in 16 bits ([`Element`]): each weight is widened to f32 in a register
/// as it is read, so the sums are those of the f32 weights.
pub(crate) fn matmul<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let n_in = weight.len() / n_out;
    // Many rows (a prompt, a window): the tiled kernel, the same sums in the same order.
    if x.len() / n_in >= TILE_ROWS {
        return matmul_tiled(x, weight, n_out);
    }
    if x.len() == n_in {
        return if E::LANES == IN_ORDER {
            matvec_row_by_row(x, weight, n_out)
        } else {
            matvec(x, weight, n_out)
        };
    }
    let mut y = vec![0.0; x.len() / n_in * n_out];
    // Groups of W outside, rows of x inside: a prompt of T tokens reads W from memory once, and
    // each group T times from the cache.
    let mut groups = weight.chunks_exact(GROUP * n_out);
    for (g, wg) in (&mut groups).enumerate() {
        let w: [&[E]; GROUP] = std::array::from_fn(|i| &wg[i * n_out..][..n_out]);
        for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
            let xg: &[f32; GROUP] = x_row[g * GROUP..][..GROUP].try_into().expect("GROUP");
            axpy_group(y_row, xg, &w);
        }
    }
    // The last n_in mod GROUP inputs, one row of W at a time, in the same order.
    let whole = n_in / GROUP * GROUP;
    for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
        for (&xk, w) in x_row[whole..]
            .iter()
            .zip(groups.remainder().chunks_exact(n_out))
        {
            for (y, &wk) in y_row.iter_mut().zip(w) {
                *y += xk * wk.to_f32();
            }
        }
    }
    y
}

/// How many rows of W [`matmul`] takes per pass over y.
const GROUP: usize = 8;

/// [`matmul`] for x of [`TILE_ROWS`] rows or more (a prompt, a calibration window, a teacher's
/// batch): the same sums in the same order, so the same bits, computed one tile of y at a time,
/// [`TILE_ROWS`] rows × 8 columns held in registers over all of k. Each step of k reads two
/// vectors of W and one value of each row of x for 2·[`TILE_ROWS`] products, and y is written
/// once per tile instead of read and written once per group of [`GROUP`] inputs. The strip of
/// W a tile reads (n_in × 8 values) stays in the cache for every row of x.
fn matmul_tiled<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let n_in = weight.len() / n_out;
    let rows = x.len() / n_in;
    let mut y = vec![0.0; rows * n_out];
    let whole = n_out / 8 * 8;
    for j in (0..whole).step_by(8) {
        let x_tiles = x.chunks_exact(TILE_ROWS * n_in);
        let last = x_tiles.remainder();
        let mut y_tiles = y.chunks_exact_mut(TILE_ROWS * n_out);
        for (x4, y4) in x_tiles.zip(&mut y_tiles) {
            tile::<E, TILE_ROWS>((x4, n_in), weight, n_out, j, (y4, n_out));
        }
        let y_last = y_tiles.into_remainder();
        tile_rows(
            last.len() / n_in,
            (last, n_in),
            weight,
            n_out,
            j..j + 8,
            (y_last, n_out),
        );
    }
    // The last n_out mod 8 columns, one value at a time, k in order.
    for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
        for (j, y) in y_row.iter_mut().enumerate().skip(whole) {
            let mut s = 0.0f32;
            for (&xk, w) in x_row.iter().zip(weight.chunks_exact(n_out)) {
                s += xk * w[j].to_f32();
            }
            *y = s;
        }
    }
    y
}

/// How many rows of x a tile of [`matmul_tiled`] holds: 2·4 vectors of y, two of W and one of
/// x fit in 16 simd128 registers.
const TILE_ROWS: usize = 4;

/// Columns j..j + 8 of the R rows of y from the R rows of `x`: y_rj = Σ_k x_rk·W_kj, k in order.
/// Row r of x starts at r · x_stride (its first n_in values are read), row r of y at r · y_stride.
#[inline(always)]
fn tile<E: Widen, const R: usize>(
    (x, x_stride): (&[f32], usize),
    weight: &[E],
    n_out: usize,
    j: usize,
    (y, y_stride): (&mut [f32], usize),
) {
    let n_in = weight.len() / n_out;
    let xs: [&[f32]; R] = std::array::from_fn(|r| &x[r * x_stride..][..n_in]);
    let mut acc = [[F4::splat(0.0); 2]; R];
    for (k, w) in weight.chunks_exact(n_out).enumerate() {
        let (lo, hi) = E::widen8(&w[j..j + 8]);
        for (acc, x) in acc.iter_mut().zip(&xs) {
            let xk = F4::splat(x[k]);
            acc[0] = acc[0].add(xk.mul(lo));
            acc[1] = acc[1].add(xk.mul(hi));
        }
    }
    for (r, [lo, hi]) in acc.into_iter().enumerate() {
        let y8 = &mut y[r * y_stride + j..][..8];
        lo.store(y8);
        hi.store(&mut y8[4..]);
    }
}

/// [`tile`] for `rows` rows (at most [`TILE_ROWS`]; none for 0), over the columns in steps of 8
/// (`columns` a range of multiples of 8).
#[inline(always)]
fn tile_rows<E: Widen>(
    rows: usize,
    x: (&[f32], usize),
    weight: &[E],
    n_out: usize,
    columns: std::ops::Range<usize>,
    y: (&mut [f32], usize),
) {
    let (y, y_stride) = y;
    for j in columns.step_by(8) {
        match rows {
            1 => tile::<E, 1>(x, weight, n_out, j, (y, y_stride)),
            2 => tile::<E, 2>(x, weight, n_out, j, (y, y_stride)),
            3 => tile::<E, 3>(x, weight, n_out, j, (y, y_stride)),
            4 => tile::<E, 4>(x, weight, n_out, j, (y, y_stride)),
            _ => {}
        }
    }
}

/// [`matmul`] for one row of x, a token at a time, W widened in index order: y += x_k·W_k for
/// each row k of W in turn, so every y_j is the same sum in the same order, and W is read from
/// memory as it is stored, front to back: in wasm this one stream is read much faster than
/// [`GROUP`] rows at once (docs/performance.md), although y is loaded and stored once per row
/// of W (it stays in the L1 cache).
fn matvec_row_by_row<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let mut y = vec![0.0; n_out];
    let whole = n_out / 8 * 8;
    for (&xk, w) in x.iter().zip(weight.chunks_exact(n_out)) {
        let x4 = F4::splat(xk);
        for (y8, w8) in y[..whole].chunks_exact_mut(8).zip(w.chunks_exact(8)) {
            let (lo, hi) = E::widen8(w8);
            F4::load(y8).add(x4.mul(lo)).store(y8);
            F4::load(&y8[4..]).add(x4.mul(hi)).store(&mut y8[4..]);
        }
        for (y, &wk) in y[whole..].iter_mut().zip(&w[whole..]) {
            *y += xk * wk.to_f32();
        }
    }
    y
}

/// [`matmul`] for one row of x, a token at a time, W widened out of index order: the same sums
/// in the same order, so the same bits, with W widened by [`Widen::widen8_lanes`]. y is held with each eight of its
/// values in that order (its zeros are the same in any order) and put back in index order
/// before the last n_in mod [`GROUP`] rows.
fn matvec<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let n_in = x.len();
    let mut y = vec![0.0; n_out];
    let mut groups = weight.chunks_exact(GROUP * n_out);
    for (wg, xg) in (&mut groups).zip(x.chunks_exact(GROUP)) {
        let w: [&[E]; GROUP] = std::array::from_fn(|i| &wg[i * n_out..][..n_out]);
        let xg: &[f32; GROUP] = xg.try_into().expect("GROUP");
        axpy_group_by(&mut y, xg, &w, E::widen8_lanes);
    }
    for y8 in y.chunks_exact_mut(8) {
        let held: [f32; 8] = (*y8).try_into().expect("8");
        y8.copy_from_slice(&index_order::<E>(held));
    }
    let whole = n_in / GROUP * GROUP;
    for (&xk, w) in x[whole..]
        .iter()
        .zip(groups.remainder().chunks_exact(n_out))
    {
        for (y, &wk) in y.iter_mut().zip(w) {
            *y += xk * wk.to_f32();
        }
    }
    y
}

/// The lanes of a type widened in index order: its one-row products need no kernel of their
/// own.
const IN_ORDER: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

/// Eight values held in the lanes of [`Widen::widen8_lanes`], put back in index order.
#[inline(always)]
fn index_order<E: Widen>(held: [f32; 8]) -> [f32; 8] {
    let mut out = [0.0; 8];
    for (&v, &l) in held.iter().zip(&E::LANES) {
        out[l] = v;
    }
    out
}

/// y_j += x_0·w_0j + x_1·w_1j + … + x_7·w_7j for every j, added one product at a time in that
/// order, eight values of j per step in two vectors ([`F4`]; a 16-bit W is one load, widened in
/// halves): each vector of y is loaded once and stored once per group. The last n mod 8 values
/// of j are taken one by one, in the same order.
#[inline(always)]
fn axpy_group<E: Widen>(y: &mut [f32], x: &[f32; GROUP], w: &[&[E]; GROUP]) {
    axpy_group_by(y, x, w, E::widen8);
}

/// [`axpy_group`] with W widened by `widen`: each eight of y is held in the order of the lanes
/// `widen` fills (the last n mod 8 values in index order).
#[inline(always)]
fn axpy_group_by<E: Widen>(
    y: &mut [f32],
    x: &[f32; GROUP],
    w: &[&[E]; GROUP],
    widen: impl Fn(&[E]) -> (F4, F4),
) {
    let n = y.len();
    let [x0, x1, x2, x3, x4, x5, x6, x7] = x.map(F4::splat);
    let [w0, w1, w2, w3, w4, w5, w6, w7] = w.map(|w| w[..n].chunks_exact(8));
    let columns = y
        .chunks_exact_mut(8)
        .zip(w0.zip(w1).zip(w2).zip(w3))
        .zip(w4.zip(w5).zip(w6).zip(w7));
    for ((y8, (((a, b), c), d)), (((e, f), g), h)) in columns {
        let (mut lo, mut hi) = (F4::load(y8), F4::load(&y8[4..]));
        for (xk, wk) in [
            (x0, a),
            (x1, b),
            (x2, c),
            (x3, d),
            (x4, e),
            (x5, f),
            (x6, g),
            (x7, h),
        ] {
            let (w_lo, w_hi) = widen(wk);
            lo = lo.add(xk.mul(w_lo));
            hi = hi.add(xk.mul(w_hi));
        }
        lo.store(y8);
        hi.store(&mut y8[4..]);
    }
    for j in n / 8 * 8..n {
        let mut s = y[j];
        for (&xk, wk) in x.iter().zip(w) {
            s += xk * wk[j].to_f32();
        }
        y[j] = s;
    }
}

/// y = x · Wᵀ for x (T, n_in) and W (n_out, n_in) stored row by row: the classifier of a
/// language model as checkpoints store it (the embedding itself when the head is tied), used
/// as it is, with no transposed copy (for stories110M such a copy would take 98 MB).
///
/// Each y_tj is the dot product of two contiguous rows, in eight lanes added in a fixed order.
/// W is read once for all T rows of x, and [`STREAMS`] rows at a time from as many places far
/// apart (row j, j + n_out/4, …): measured, one sequential stream reads memory at about half
/// the speed of several. Four rows of eight lanes are eight simd128 accumulators, which fit in
/// a 16-register machine beside x and the weights (eight rows spilled in V8's wasm code).
pub(crate) fn matmul_rows<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let n_in = weight.len() / n_out;
    if x.len() == n_in && E::LANES != IN_ORDER {
        return matvec_rows(x, weight, n_out);
    }
    let mut y = vec![0.0; x.len() / n_in * n_out];
    let per = n_out / STREAMS;
    let row = |j: usize| &weight[j * n_in..(j + 1) * n_in];
    for j in 0..per {
        let rows: [&[E]; STREAMS] = std::array::from_fn(|s| row(s * per + j));
        for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
            let lanes = dot_lanes(x_row, &rows, E::widen8);
            for (s, (lanes, w)) in lanes.iter().zip(&rows).enumerate() {
                y_row[s * per + j] = finish_dot(lanes, x_row, w);
            }
        }
    }
    for j in per * STREAMS..n_out {
        for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
            y_row[j] = dot(x_row, row(j));
        }
    }
    y
}

/// [`matmul_rows`] for one row of x: the same sums, so the same bits, with W widened by
/// [`Widen::widen8_lanes`] against a copy of x whose each eight values are in that order.
fn matvec_rows<E: Widen>(x: &[f32], weight: &[E], n_out: usize) -> Vec<f32> {
    let n_in = x.len();
    let mut held = x.to_vec();
    for (h, x8) in held.chunks_exact_mut(8).zip(x.chunks_exact(8)) {
        for (h, &l) in h.iter_mut().zip(&E::LANES) {
            *h = x8[l];
        }
    }
    let mut y = vec![0.0; n_out];
    let per = n_out / STREAMS;
    let row = |j: usize| &weight[j * n_in..(j + 1) * n_in];
    for j in 0..per {
        let rows: [&[E]; STREAMS] = std::array::from_fn(|s| row(s * per + j));
        let lanes = dot_lanes(&held, &rows, E::widen8_lanes);
        for (s, (&lanes, w)) in lanes.iter().zip(&rows).enumerate() {
            y[s * per + j] = finish_dot(&index_order::<E>(lanes), x, w);
        }
    }
    for (j, y) in y.iter_mut().enumerate().skip(per * STREAMS) {
        *y = dot(x, row(j));
    }
    y
}

/// The eight partial sums of x · w for each of [`STREAMS`] rows w, W widened by `widen`: lane l
/// adds the products of the values at l, l + 8, l + 16, … in that order (lanes 0–3 in one
/// vector, 4–7 in another).
#[inline(always)]
fn dot_lanes<E: Widen>(
    x: &[f32],
    rows: &[&[E]; STREAMS],
    widen: impl Fn(&[E]) -> (F4, F4),
) -> [[f32; 8]; STREAMS] {
    let n = x.len() / 8 * 8;
    let rows = rows.map(|r| &r[..n]);
    let mut acc = [[F4::splat(0.0); 2]; STREAMS];
    for k in (0..n).step_by(8) {
        let (lo, hi) = (F4::load(&x[k..]), F4::load(&x[k + 4..]));
        for (acc, w) in acc.iter_mut().zip(&rows) {
            let (w_lo, w_hi) = widen(&w[k..]);
            acc[0] = acc[0].add(lo.mul(w_lo));
            acc[1] = acc[1].add(hi.mul(w_hi));
        }
    }
    acc.map(|[lo, hi]| {
        let (lo, hi) = (lo.to_array(), hi.to_array());
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    })
}

/// How many rows of W [`matmul_rows`] reads at once.
const STREAMS: usize = 4;

/// [`matmul`] with W in whichever type it is stored.
pub(crate) fn matmul_tensor(x: &[f32], weight: &Tensor, n_out: usize) -> Vec<f32> {
    match weight {
        Tensor::F32(w) => matmul(x, w, n_out),
        Tensor::F16(w) => matmul(x, w, n_out),
        Tensor::Bf16(w) => matmul(x, w, n_out),
        Tensor::Quant(q) => q.matmul(x),
    }
}

/// [`matmul_rows`] with W in whichever type it is stored.
pub(crate) fn matmul_rows_tensor(x: &[f32], weight: &Tensor, n_out: usize) -> Vec<f32> {
    match weight {
        Tensor::F32(w) => matmul_rows(x, w, n_out),
        Tensor::F16(w) => matmul_rows(x, w, n_out),
        Tensor::Bf16(w) => matmul_rows(x, w, n_out),
        Tensor::Quant(q) => q.matmul(x),
    }
}

/// Row `id` (of `width` values) of a matrix, widened to f32: an embedding's row.
pub(crate) fn row_f32(weight: &Tensor, id: usize, width: usize) -> Vec<f32> {
    fn widen<E: Element>(w: &[E], id: usize, width: usize) -> Vec<f32> {
        w[id * width..][..width]
            .iter()
            .map(|e| e.to_f32())
            .collect()
    }
    match weight {
        Tensor::F32(w) => w[id * width..][..width].to_vec(),
        Tensor::F16(w) => widen(w, id, width),
        Tensor::Bf16(w) => widen(w, id, width),
        Tensor::Quant(q) => q.row(id),
    }
}

/// a · b in eight partial sums, as [`matmul_rows`] takes each of its rows.
fn dot<E: Element>(a: &[f32], b: &[E]) -> f32 {
    let mut lanes = [0f32; 8];
    for (a8, b8) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += a8[l] * b8[l].to_f32();
        }
    }
    finish_dot(&lanes, a, b)
}

/// The eight partial sums of a · b added in a fixed order, then the last n mod 8 products.
fn finish_dot<E: Element>(lanes: &[f32; 8], a: &[f32], b: &[E]) -> f32 {
    let mut s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    let whole = a.len() / 8 * 8;
    for (x, w) in a[whole..].iter().zip(&b[whole..]) {
        s += x * w.to_f32();
    }
    s
}

/// Causal self-attention for the T query rows of `qkv` (T, 3C) at positions pos0.., against the
/// cached keys and values of positions 0..=pos0 + t (the rows just appended included).
/// Returns (T, C): the heads' outputs side by side.
pub(crate) fn attention(
    qkv: &[f32],
    keys: &[f32],
    values: &[f32],
    pos0: usize,
    heads: usize,
    c: usize,
) -> Vec<f32> {
    let hd = c / heads;
    // As candle computes it: the f64 1/√hd, rounded once to f32.
    let scale = (1.0 / (hd as f64).sqrt()) as f32;
    if qkv.len() / (3 * c) >= WINDOW_ROWS {
        return attention_window(qkv, keys, values, pos0, heads, c, scale);
    }
    let mut y = vec![0.0; qkv.len() / 3];
    let mut att = Vec::with_capacity(pos0 + qkv.len() / (3 * c));
    for (t, (row, y_row)) in qkv
        .chunks_exact(3 * c)
        .zip(y.chunks_exact_mut(c))
        .enumerate()
    {
        let seen = pos0 + t + 1; // query at position pos0 + t sees keys 0..=pos0 + t
        for h in 0..heads {
            let cache = Head {
                keys,
                values,
                width: c,
                at: h * hd,
                seen,
            };
            attend(
                &row[h * hd..][..hd],
                &cache,
                scale,
                &mut att,
                &mut y_row[h * hd..][..hd],
            );
        }
    }
    y
}

/// How many query rows make [`attention`] take them a head at a time ([`attention_window`]).
const WINDOW_ROWS: usize = 4;

/// [`attention`] over many query rows (a prompt, a calibration window, a teacher's batch): the
/// same sums in the same order, so the same bits, as tiled matmuls ([`tile`]) a head at a time.
///
/// A score q · k is [`dot_f32`]'s: four lane sums, lane l over the k_i with i mod 4 = l in
/// order, added as (l₀ + l₂) + (l₁ + l₃), then the last hd mod 4 products. So the scores of a
/// head are four products of matrices, S_l = Q_l · K_lᵀ (Q_l the queries' values at i mod 4 =
/// l, in order), each a sum in order, then added. The exponentials and the divisions by the
/// sum are four at a time ([`F4::exp`]), and y = P · V a tiled product too: P's row t is the
/// probabilities of the positions query t sees, then zeros (a zero product leaves a sum as it
/// is: a sum from +0 is never −0). Each tile of rows multiplies only the positions its last
/// row sees.
fn attention_window(
    qkv: &[f32],
    keys: &[f32],
    values: &[f32],
    pos0: usize,
    heads: usize,
    c: usize,
    scale: f32,
) -> Vec<f32> {
    let hd = c / heads;
    let rows = qkv.len() / (3 * c);
    let positions = pos0 + rows;
    let (quarter, whole) = (hd / 4, hd / 4 * 4);
    let padded = positions.div_ceil(8) * 8;
    let mut q4 = vec![vec![0.0f32; rows * quarter]; 4];
    let mut k4 = vec![vec![0.0f32; quarter * padded]; 4];
    let mut s4 = vec![vec![0.0f32; rows * padded]; 4];
    let mut p = vec![0.0f32; rows * positions];
    let mut v = vec![0.0f32; positions * hd];
    let mut att = vec![0.0f32; padded];
    let mut y = vec![0.0; rows * c];
    for h in 0..heads {
        let at = h * hd;
        for (t, row) in qkv.chunks_exact(3 * c).enumerate() {
            for (i, &x) in row[at..][..whole].iter().enumerate() {
                q4[i % 4][t * quarter + i / 4] = x;
            }
        }
        for (s, key) in keys.chunks_exact(c).take(positions).enumerate() {
            for (i, &x) in key[at..][..whole].iter().enumerate() {
                k4[i % 4][i / 4 * padded + s] = x;
            }
        }
        for (s, row) in values.chunks_exact(c).take(positions).enumerate() {
            v[s * hd..][..hd].copy_from_slice(&row[at..][..hd]);
        }
        // The lane sums: each tile of rows up to the columns its last row sees.
        for t0 in (0..rows).step_by(TILE_ROWS) {
            let n = TILE_ROWS.min(rows - t0);
            let columns = 0..(pos0 + t0 + n).div_ceil(8) * 8;
            for (l, s) in s4.iter_mut().enumerate() {
                let x = (&q4[l][t0 * quarter..], quarter);
                let y = (&mut s[t0 * padded..], padded);
                tile_rows(n, x, &k4[l], padded, columns.clone(), y);
            }
        }
        for (t, (row, p_row)) in qkv
            .chunks_exact(3 * c)
            .zip(p.chunks_exact_mut(positions))
            .enumerate()
        {
            let seen = pos0 + t + 1;
            let att = &mut att[..seen.div_ceil(4) * 4];
            // Lanes past `seen` are other positions' (or stale) values: computed, not used.
            for (b, a4) in att.chunks_exact_mut(4).enumerate() {
                let lane = |l: usize| F4::load(&s4[l][t * padded + 4 * b..]);
                let s = lane(0).add(lane(2)).add(lane(1).add(lane(3)));
                s.store(a4);
            }
            let q = &row[at..][..hd];
            for (a, key) in att.iter_mut().zip(keys.chunks_exact(c)).take(seen) {
                for (&qi, &ki) in q[whole..].iter().zip(&key[at + whole..][..hd - whole]) {
                    *a += qi * ki;
                }
            }
            for a4 in att.chunks_exact_mut(4) {
                F4::load(a4).mul(F4::splat(scale)).store(a4);
            }
            let max = att[..seen]
                .iter()
                .fold(f32::NEG_INFINITY, |m, &a| if a > m { a } else { m });
            for a4 in att.chunks_exact_mut(4) {
                F4::load(a4).sub(F4::splat(max)).exp().store(a4);
            }
            let mut sum = 0.0f32;
            for &a in &att[..seen] {
                sum += a;
            }
            for a4 in att.chunks_exact_mut(4) {
                F4::load(a4).div(F4::splat(sum)).store(a4);
            }
            p_row[..seen].copy_from_slice(&att[..seen]);
            p_row[seen..].fill(0.0);
        }
        // y = P · V, each tile of rows over the positions its last row sees.
        let columns = 0..hd / 8 * 8;
        for t0 in (0..rows).step_by(TILE_ROWS) {
            let n = TILE_ROWS.min(rows - t0);
            let x = (&p[t0 * positions..], positions);
            let y = (&mut y[t0 * c + at..], c);
            tile_rows(n, x, &v[..(pos0 + t0 + n) * hd], hd, columns.clone(), y);
        }
        for (p_row, y_row) in p.chunks_exact(positions).zip(y.chunks_exact_mut(c)) {
            for (i, out) in y_row[at..][..hd].iter_mut().enumerate().skip(columns.end) {
                let mut s = 0.0f32;
                for (&ps, v_row) in p_row.iter().zip(v.chunks_exact(hd)) {
                    s += ps * v_row[i];
                }
                *out = s;
            }
        }
    }
    y
}

/// One head's slice of the KV cache: rows of `width` values, the head's `hd` starting at `at`,
/// over the first `seen` positions.
struct Head<'a> {
    keys: &'a [f32],
    values: &'a [f32],
    width: usize,
    at: usize,
    seen: usize,
}

/// a · b in four lanes ([`F4`]: lane l adds the products at l, l + 4, …), added as
/// (l₀ + l₂) + (l₁ + l₃), then the last n mod 4 products: a query against a cached key.
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = F4::splat(0.0);
    for (a4, b4) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        acc = acc.add(F4::load(a4).mul(F4::load(b4)));
    }
    let l = acc.to_array();
    let mut s = (l[0] + l[2]) + (l[1] + l[3]);
    let whole = a.len().min(b.len()) / 4 * 4;
    for (x, y) in a[whole..].iter().zip(&b[whole..]) {
        s += x * y;
    }
    s
}

/// One query head: out += softmax(q · kᵀ · scale) · v over the positions seen (`att` is scratch).
fn attend(q: &[f32], cache: &Head, scale: f32, att: &mut Vec<f32>, out: &mut [f32]) {
    let hd = q.len();
    att.clear();
    att.extend(
        cache
            .keys
            .chunks_exact(cache.width)
            .take(cache.seen)
            .map(|k| dot_f32(q, &k[cache.at..][..hd]) * scale),
    );
    let max = att.iter().fold(f32::NEG_INFINITY, |m, &a| m.max(a));
    for a in att.iter_mut() {
        *a = expf::expf(*a - max);
    }
    let sum: f32 = att.iter().sum();
    for (&a, v) in att.iter().zip(cache.values.chunks_exact(cache.width)) {
        let a = a / sum;
        for (o, &vi) in out.iter_mut().zip(&v[cache.at..][..hd]) {
            *o += a * vi;
        }
    }
}

/// RMSNorm of each row of C values (Llama): x / √(mean(x²) + ε) · g.
pub(crate) fn rms_norm(x: &[f32], gain: &[f32], eps: f64) -> Vec<f32> {
    let c = gain.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        let mean_square = row.iter().map(|&a| a * a).sum::<f32>() / c as f32;
        let scale = 1.0 / (mean_square + eps as f32).sqrt();
        out.extend(row.iter().zip(gain).map(|(&a, &g)| g * (a * scale)));
    }
    out
}

/// SiLU, x·σ(x) = x / (1 + e^(−x)): the gate of Llama's SwiGLU MLP.
pub(crate) fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// Rotary position embedding in place: in each head of `inv_freq.len()` · 2 values, a pair of
/// values is turned by the angle pos · θᵢ, θᵢ = `inv_freq[i]` (see
/// [`crate::model::config::Rope::inv_freq`]). Which values make pair i is `layout`'s choice:
/// (x₂ᵢ, x₂ᵢ₊₁) for llama2.c's [`RopeLayout::Interleaved`], (xᵢ, xᵢ₊hd/2) for Hugging Face's
/// [`RopeLayout::RotateHalf`] (its q/k weights are permuted to match; llama2.c's export undoes
/// that permutation). Row t of `x` is at position pos0 + t.
pub(crate) fn rope(
    x: &mut [f32],
    row_len: usize,
    pos0: usize,
    inv_freq: &[f32],
    layout: RopeLayout,
) {
    for (t, row) in x.chunks_exact_mut(row_len).enumerate() {
        // The angle in f32, as Hugging Face computes it.
        turn_row(row, (pos0 + t) as f32, inv_freq, layout);
    }
}

/// Turns every row of `x` (rows of `row_len`) back by `positions`: keys rotated at position p
/// become keys rotated at p − positions (the angles of one frequency add), which is how a
/// RoPE cache slides without recomputing it.
pub(crate) fn rope_back(
    x: &mut [f32],
    row_len: usize,
    positions: usize,
    inv_freq: &[f32],
    layout: RopeLayout,
) {
    for row in x.chunks_exact_mut(row_len) {
        turn_row(row, -(positions as f32), inv_freq, layout);
    }
}

/// One row of heads turned by the angles `pos · inv_freq`.
fn turn_row(row: &mut [f32], pos: f32, inv_freq: &[f32], layout: RopeLayout) {
    let half = inv_freq.len();
    let turns: Vec<(f32, f32)> = inv_freq.iter().map(|&f| (pos * f).sin_cos()).collect();
    for head in row.chunks_exact_mut(2 * half) {
        match layout {
            RopeLayout::Interleaved => {
                for (pair, &(sin, cos)) in head.chunks_exact_mut(2).zip(&turns) {
                    let (a, b) = (pair[0], pair[1]);
                    pair[0] = a * cos - b * sin;
                    pair[1] = a * sin + b * cos;
                }
            }
            RopeLayout::RotateHalf => {
                let (lo, hi) = head.split_at_mut(half);
                for ((a, b), &(sin, cos)) in lo.iter_mut().zip(hi).zip(&turns) {
                    let (x1, x2) = (*a, *b);
                    *a = x1 * cos - x2 * sin;
                    *b = x2 * cos + x1 * sin;
                }
            }
        }
    }
}

/// Causal grouped-query attention (Llama): `q` (T, heads·hd) at positions pos0.., against the
/// cached `keys` and `values` (pos0 + T, kv_heads·hd); query head h reads key/value head
/// h / (heads / kv_heads). Returns (T, heads·hd).
pub(crate) fn grouped_attention(
    q: &[f32],
    keys: &[f32],
    values: &[f32],
    pos0: usize,
    (heads, kv_heads, hd): (usize, usize, usize),
) -> Vec<f32> {
    let (c, kv) = (heads * hd, kv_heads * hd);
    let group = heads / kv_heads;
    let scale = (1.0 / (hd as f64).sqrt()) as f32;
    let mut y = vec![0.0; q.len()];
    let mut att = Vec::new();
    for (t, (q_row, y_row)) in q.chunks_exact(c).zip(y.chunks_exact_mut(c)).enumerate() {
        let seen = pos0 + t + 1;
        for h in 0..heads {
            let cache = Head {
                keys,
                values,
                width: kv,
                at: (h / group) * hd,
                seen,
            };
            attend(
                &q_row[h * hd..][..hd],
                &cache,
                scale,
                &mut att,
                &mut y_row[h * hd..][..hd],
            );
        }
    }
    y
}

/// Four f32 lanes, the unit of the matmul kernels: a simd128 vector in wasm, an array that
/// LLVM vectorises natively. Both add and multiply lane by lane with no fused multiply-add, so
/// the kernels compute the same bits on every target.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod f4 {
    use crate::model::tensor::{Bf16, F16};
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub(crate) struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub(super) fn splat(x: f32) -> F4 {
            F4(f32x4_splat(x))
        }

        /// The first four values of `v` (at least four).
        #[inline(always)]
        pub(super) fn load(v: &[f32]) -> F4 {
            let v: &[f32; 4] = v[..4].try_into().expect("4");
            // SAFETY: 16 readable bytes; wasm loads need no alignment.
            F4(unsafe { v128_load(v.as_ptr().cast()) })
        }

        #[inline(always)]
        pub(super) fn store(self, v: &mut [f32]) {
            let v: &mut [f32; 4] = (&mut v[..4]).try_into().expect("4");
            // SAFETY: 16 writable bytes; wasm stores need no alignment.
            unsafe { v128_store(v.as_mut_ptr().cast(), self.0) }
        }

        #[inline(always)]
        pub(super) fn add(self, b: F4) -> F4 {
            F4(f32x4_add(self.0, b.0))
        }

        #[inline(always)]
        pub(super) fn mul(self, b: F4) -> F4 {
            F4(f32x4_mul(self.0, b.0))
        }

        #[inline(always)]
        pub(super) fn sub(self, b: F4) -> F4 {
            F4(f32x4_sub(self.0, b.0))
        }

        #[inline(always)]
        pub(super) fn div(self, b: F4) -> F4 {
            F4(f32x4_div(self.0, b.0))
        }

        /// [`super::expf::expf`] of each lane, the four at once.
        #[inline(always)]
        pub(super) fn exp(self) -> F4 {
            F4(super::expf::simd::expf4(self.0))
        }

        #[inline(always)]
        pub(super) fn to_array(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
    }

    /// A stored weight type, widened to f32 lanes in registers.
    pub(crate) trait Widen: crate::model::tensor::Element {
        /// The first eight values of `w` (at least eight), as values 0–3 and 4–7.
        fn widen8(w: &[Self]) -> (F4, F4);

        /// Which of the eight values [`Widen::widen8_lanes`] puts in each lane: the first
        /// vector's four, then the second's.
        const LANES: [usize; 8] = super::IN_ORDER;

        /// The first eight values of `w`, in the lanes `LANES` names: whatever order widens
        /// them in the fewest instructions.
        #[inline(always)]
        fn widen8_lanes(w: &[Self]) -> (F4, F4) {
            Self::widen8(w)
        }
    }

    impl Widen for f32 {
        #[inline(always)]
        fn widen8(w: &[f32]) -> (F4, F4) {
            (F4::load(w), F4::load(&w[4..]))
        }
    }

    /// Eight 16-bit values of `w` (at least eight) in one vector.
    #[inline(always)]
    fn load8<T>(w: &[T]) -> v128 {
        assert_eq!(std::mem::size_of::<T>(), 2);
        let w = &w[..8];
        // SAFETY: 16 readable bytes; wasm loads need no alignment.
        unsafe { v128_load(w.as_ptr().cast()) }
    }

    /// bfloat16 bits → f32: the bits become the top half of the f32.
    impl Widen for Bf16 {
        #[inline(always)]
        fn widen8(w: &[Bf16]) -> (F4, F4) {
            let v = load8(w);
            (
                F4(i32x4_shl(u32x4_extend_low_u16x8(v), 16)),
                F4(i32x4_shl(u32x4_extend_high_u16x8(v), 16)),
            )
        }

        /// Read as four 32-bit lanes, eight bfloat16 are values 0, 2, 4, 6 in the low halves
        /// and 1, 3, 5, 7 in the high: one shift and one mask (two instructions, where
        /// widening in index order takes five on x86).
        const LANES: [usize; 8] = [0, 2, 4, 6, 1, 3, 5, 7];

        #[inline(always)]
        fn widen8_lanes(w: &[Bf16]) -> (F4, F4) {
            let v = load8(w);
            (
                F4(i32x4_shl(v, 16)),
                F4(v128_and(v, u32x4_splat(0xffff_0000))),
            )
        }
    }

    /// float16 bits → f32 as [`F16::to_f32`] widens them (finite values only).
    fn f16_lanes(bits: v128) -> F4 {
        let sign = i32x4_shl(v128_and(bits, u32x4_splat(0x8000)), 16);
        let magnitude = i32x4_shl(v128_and(bits, u32x4_splat(0x7fff)), 13);
        let magnitude = f32x4_mul(magnitude, f32x4_splat(f32::from_bits(0x7780_0000)));
        F4(v128_or(magnitude, sign))
    }

    impl Widen for F16 {
        #[inline(always)]
        fn widen8(w: &[F16]) -> (F4, F4) {
            let v = load8(w);
            (
                f16_lanes(u32x4_extend_low_u16x8(v)),
                f16_lanes(u32x4_extend_high_u16x8(v)),
            )
        }
    }
}

/// [`F4`] natively on x86-64: an SSE2 vector (every x86-64 has SSE2), the same operations as
/// simd128's. Left to LLVM, widening eight 16-bit weights as two arrays of four was not
/// vectorised and took three times as long as here.
#[cfg(target_arch = "x86_64")]
mod f4 {
    use crate::model::tensor::{Bf16, F16};
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub(crate) struct F4(__m128);

    impl F4 {
        #[inline(always)]
        pub(super) fn splat(x: f32) -> F4 {
            // SAFETY: SSE2 is part of x86-64.
            F4(unsafe { _mm_set1_ps(x) })
        }

        /// The first four values of `v` (at least four).
        #[inline(always)]
        pub(super) fn load(v: &[f32]) -> F4 {
            let v: &[f32; 4] = v[..4].try_into().expect("4");
            // SAFETY: 16 readable bytes; an unaligned load.
            F4(unsafe { _mm_loadu_ps(v.as_ptr()) })
        }

        #[inline(always)]
        pub(super) fn store(self, v: &mut [f32]) {
            let v: &mut [f32; 4] = (&mut v[..4]).try_into().expect("4");
            // SAFETY: 16 writable bytes; an unaligned store.
            unsafe { _mm_storeu_ps(v.as_mut_ptr(), self.0) }
        }

        #[inline(always)]
        pub(super) fn add(self, b: F4) -> F4 {
            // SAFETY: SSE2 is part of x86-64.
            F4(unsafe { _mm_add_ps(self.0, b.0) })
        }

        #[inline(always)]
        pub(super) fn mul(self, b: F4) -> F4 {
            // SAFETY: SSE2 is part of x86-64.
            F4(unsafe { _mm_mul_ps(self.0, b.0) })
        }

        #[inline(always)]
        pub(super) fn sub(self, b: F4) -> F4 {
            // SAFETY: SSE2 is part of x86-64.
            F4(unsafe { _mm_sub_ps(self.0, b.0) })
        }

        #[inline(always)]
        pub(super) fn div(self, b: F4) -> F4 {
            // SAFETY: SSE2 is part of x86-64.
            F4(unsafe { _mm_div_ps(self.0, b.0) })
        }

        /// [`super::expf::expf`] of each lane, one at a time.
        #[inline(always)]
        pub(super) fn exp(self) -> F4 {
            F4::load(&self.to_array().map(super::expf::expf))
        }

        #[inline(always)]
        pub(super) fn to_array(self) -> [f32; 4] {
            let mut out = [0.0; 4];
            self.store(&mut out);
            out
        }
    }

    /// A stored weight type, widened to f32 lanes in registers.
    pub(crate) trait Widen: crate::model::tensor::Element {
        /// The first eight values of `w` (at least eight), as values 0–3 and 4–7.
        fn widen8(w: &[Self]) -> (F4, F4);

        /// Which of the eight values [`Widen::widen8_lanes`] puts in each lane: the first
        /// vector's four, then the second's.
        const LANES: [usize; 8] = super::IN_ORDER;

        /// The first eight values of `w`, in the lanes `LANES` names: whatever order widens
        /// them in the fewest instructions.
        #[inline(always)]
        fn widen8_lanes(w: &[Self]) -> (F4, F4) {
            Self::widen8(w)
        }
    }

    impl Widen for f32 {
        #[inline(always)]
        fn widen8(w: &[f32]) -> (F4, F4) {
            (F4::load(w), F4::load(&w[4..]))
        }
    }

    /// Eight 16-bit values of `w` (at least eight) in one vector.
    #[inline(always)]
    fn load8<T>(w: &[T]) -> __m128i {
        assert_eq!(std::mem::size_of::<T>(), 2);
        let w = &w[..8];
        // SAFETY: 16 readable bytes; an unaligned load.
        unsafe { _mm_loadu_si128(w.as_ptr().cast()) }
    }

    /// bfloat16 bits → f32: interleaved below zeros, each 16 bits become the top of an f32.
    impl Widen for Bf16 {
        #[inline(always)]
        fn widen8(w: &[Bf16]) -> (F4, F4) {
            let v = load8(w);
            // SAFETY: SSE2 is part of x86-64.
            unsafe {
                let zero = _mm_setzero_si128();
                (
                    F4(_mm_castsi128_ps(_mm_unpacklo_epi16(zero, v))),
                    F4(_mm_castsi128_ps(_mm_unpackhi_epi16(zero, v))),
                )
            }
        }
    }

    /// float16 bits (zero-extended to 32) → f32 as [`F16::to_f32`] widens them (finite values).
    #[inline(always)]
    fn f16_lanes(bits: __m128i) -> F4 {
        // SAFETY: SSE2 is part of x86-64.
        unsafe {
            let sign = _mm_slli_epi32(_mm_and_si128(bits, _mm_set1_epi32(0x8000)), 16);
            let magnitude = _mm_slli_epi32(_mm_and_si128(bits, _mm_set1_epi32(0x7fff)), 13);
            let magnitude = _mm_mul_ps(
                _mm_castsi128_ps(magnitude),
                _mm_set1_ps(f32::from_bits(0x7780_0000)),
            );
            F4(_mm_or_ps(magnitude, _mm_castsi128_ps(sign)))
        }
    }

    impl Widen for F16 {
        #[inline(always)]
        fn widen8(w: &[F16]) -> (F4, F4) {
            let v = load8(w);
            // SAFETY: SSE2 is part of x86-64.
            unsafe {
                let zero = _mm_setzero_si128();
                (
                    f16_lanes(_mm_unpacklo_epi16(v, zero)),
                    f16_lanes(_mm_unpackhi_epi16(v, zero)),
                )
            }
        }
    }
}

/// [`F4`] as an array of four f32, which LLVM vectorises, on the other native targets.
#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
mod f4 {
    use crate::model::tensor::Element;

    #[derive(Clone, Copy)]
    pub(crate) struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub(super) fn splat(x: f32) -> F4 {
            F4([x; 4])
        }

        #[inline(always)]
        pub(super) fn load(v: &[f32]) -> F4 {
            F4(v[..4].try_into().expect("4"))
        }

        #[inline(always)]
        pub(super) fn store(self, v: &mut [f32]) {
            v[..4].copy_from_slice(&self.0);
        }

        #[inline(always)]
        pub(super) fn add(self, b: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] + b.0[l]))
        }

        #[inline(always)]
        pub(super) fn mul(self, b: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] * b.0[l]))
        }

        #[inline(always)]
        pub(super) fn sub(self, b: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] - b.0[l]))
        }

        #[inline(always)]
        pub(super) fn div(self, b: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] / b.0[l]))
        }

        /// [`super::expf::expf`] of each lane.
        #[inline(always)]
        pub(super) fn exp(self) -> F4 {
            F4(self.0.map(super::expf::expf))
        }

        #[inline(always)]
        pub(super) fn to_array(self) -> [f32; 4] {
            self.0
        }
    }

    /// A stored weight type, widened to f32 lanes in registers.
    pub(crate) trait Widen: Element {
        /// The first eight values of `w` (at least eight), as values 0–3 and 4–7.
        #[inline(always)]
        fn widen8(w: &[Self]) -> (F4, F4) {
            let w: &[Self; 8] = w[..8].try_into().expect("8");
            (
                F4(std::array::from_fn(|l| w[l].to_f32())),
                F4(std::array::from_fn(|l| w[4 + l].to_f32())),
            )
        }

        /// Which of the eight values [`Widen::widen8_lanes`] puts in each lane.
        const LANES: [usize; 8] = super::IN_ORDER;

        /// The first eight values of `w`, in the lanes `LANES` names.
        #[inline(always)]
        fn widen8_lanes(w: &[Self]) -> (F4, F4) {
            Self::widen8(w)
        }
    }

    impl Widen for f32 {}
    impl Widen for crate::model::tensor::Bf16 {}
    impl Widen for crate::model::tensor::F16 {}
}

pub(crate) use f4::Widen;
use f4::F4;

#[cfg(test)]
mod tests {
    use super::*;

    /// The two rotary layouts are one rotation of differently ordered values: turning
    /// (xᵢ, xᵢ₊hd/2) equals turning the consecutive pairs of the same values interleaved.
    #[test]
    fn rotary_layouts_turn_the_same_pairs() {
        let (hd, heads) = (8, 2);
        let inv_freq = crate::model::Rope::LLAMA2C.inv_freq(hd);
        let x: Vec<f32> = (0..2 * heads * hd)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        // Head value i of the rotate-half order is value `at(i)` of the interleaved order.
        let at = |i: usize| {
            if i < hd / 2 {
                2 * i
            } else {
                2 * (i - hd / 2) + 1
            }
        };
        let interleave = |v: &[f32]| -> Vec<f32> {
            let mut out = vec![0.0; v.len()];
            for (h, head) in v.chunks_exact(hd).enumerate() {
                for (i, &x) in head.iter().enumerate() {
                    out[h * hd + at(i)] = x;
                }
            }
            out
        };
        let mut half = x.clone();
        rope(&mut half, heads * hd, 5, &inv_freq, RopeLayout::RotateHalf);
        let mut pairs = interleave(&x);
        rope(
            &mut pairs,
            heads * hd,
            5,
            &inv_freq,
            RopeLayout::Interleaved,
        );
        assert_eq!(interleave(&half), pairs);
        assert_ne!(half, x);
    }

    /// A bfloat16 whose eight values [`Widen::widen8_lanes`] puts out of index order, as simd128
    /// widens bfloat16: natively it runs the one-row kernels that hold values in those lanes.
    #[derive(Debug, Clone, Copy)]
    struct Shuffled(crate::model::tensor::Bf16);

    impl Element for Shuffled {
        fn to_f32(self) -> f32 {
            self.0.to_f32()
        }
    }

    impl Widen for Shuffled {
        fn widen8(w: &[Self]) -> (F4, F4) {
            let v: [f32; 8] = std::array::from_fn(|i| w[i].to_f32());
            (F4::load(&v[..4]), F4::load(&v[4..]))
        }

        const LANES: [usize; 8] = [3, 0, 6, 1, 7, 2, 5, 4];

        fn widen8_lanes(w: &[Self]) -> (F4, F4) {
            let v: [f32; 8] = std::array::from_fn(|i| w[Self::LANES[i]].to_f32());
            (F4::load(&v[..4]), F4::load(&v[4..]))
        }
    }

    /// The vector kernels compute, to the bit, the sums their doc comments write out: matmul's
    /// y_j = x_0·W_0j + x_1·W_1j + … in order, matmul_rows' eight lanes added as `finish_dot`
    /// adds them, for f32, bf16 and f16 weights, with widths that leave every kind of remainder
    /// (inputs mod 8, outputs mod 8, rows mod the streams).
    #[test]
    fn vector_kernels_equal_their_scalar_sums() {
        use crate::model::tensor::{Bf16, F16};
        let mut state = 7u32;
        let mut bits = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Finite 16-bit patterns of magnitude below 2: random sign and mantissa.
            ((state >> 16) as u16 & 0x83ff) | 0x3800
        };
        fn check<E: Widen>(w: &[E], x: &[f32], n_in: usize, n_out: usize) {
            let t = x.len() / n_in;
            let y = matmul(x, w, n_out);
            for r in 0..t {
                for j in 0..n_out {
                    let mut s = 0.0f32;
                    for k in 0..n_in {
                        s += x[r * n_in + k] * w[k * n_out + j].to_f32();
                    }
                    assert_eq!(y[r * n_out + j].to_bits(), s.to_bits(), "matmul {r} {j}");
                }
            }
            // The same values read as W (n_out, n_in) rows.
            let y = matmul_rows(x, w, n_out);
            for r in 0..t {
                for j in 0..n_out {
                    let (xr, wr) = (&x[r * n_in..][..n_in], &w[j * n_in..][..n_in]);
                    let mut lanes = [0f32; 8];
                    for k in 0..n_in / 8 * 8 {
                        lanes[k % 8] += xr[k] * wr[k].to_f32();
                    }
                    let want = finish_dot(&lanes, xr, wr);
                    assert_eq!(y[r * n_out + j].to_bits(), want.to_bits(), "rows {r} {j}");
                }
            }
        }
        for (n_in, n_out) in [(24, 16), (29, 13), (5, 7), (64, 37), (16, 56)] {
            let w: Vec<u16> = (0..n_in * n_out).map(|_| bits()).collect();
            let bf16: Vec<Bf16> = w.iter().map(|&b| Bf16(b)).collect();
            let f16: Vec<F16> = w.iter().map(|&b| F16(b)).collect();
            let f32s: Vec<f32> = f16.iter().map(|h| h.to_f32()).collect();
            let shuffled: Vec<Shuffled> = bf16.iter().map(|&b| Shuffled(b)).collect();
            // One row, a few, and tiles of rows with every remainder (matmul_tiled); one row
            // takes kernels of its own where the weights are widened out of index order.
            for rows in [1, 3, 4, 9, 10, 11] {
                let x: Vec<f32> = (0..rows * n_in).map(|i| (i as f32 * 0.731).sin()).collect();
                check(&bf16, &x, n_in, n_out);
                check(&f16, &x, n_in, n_out);
                check(&f32s, &x, n_in, n_out);
                check(&shuffled, &x, n_in, n_out);
            }
        }
    }

    /// Attention over a window of rows computes, to the bit, what it computes one row at a
    /// time, for head widths that leave every remainder (hd mod 4, hd mod 8), rows that leave
    /// every remainder of a tile, and a cache already holding positions; GELU four at a time
    /// what it computes one value at a time.
    #[test]
    fn window_kernels_equal_their_one_row_forms() {
        for (heads, hd) in [(2, 32), (3, 5), (1, 6), (2, 12), (4, 9), (1, 3)] {
            let c = heads * hd;
            for (pos0, rows) in [(0, 4), (0, 11), (3, 6), (5, 13), (0, 130)] {
                let n = pos0 + rows;
                let qkv: Vec<f32> = (0..n * 3 * c)
                    .map(|i| (i as f32 * 0.379).sin() * 2.5)
                    .collect();
                let (mut keys, mut values) = (Vec::new(), Vec::new());
                for row in qkv.chunks_exact(3 * c) {
                    keys.extend_from_slice(&row[c..2 * c]);
                    values.extend_from_slice(&row[2 * c..]);
                }
                let fresh = &qkv[pos0 * 3 * c..];
                let window = attention(fresh, &keys, &values, pos0, heads, c);
                assert!(rows >= WINDOW_ROWS);
                for (t, row) in fresh.chunks_exact(3 * c).enumerate() {
                    let p = pos0 + t;
                    let one = attention(
                        row,
                        &keys[..(p + 1) * c],
                        &values[..(p + 1) * c],
                        p,
                        heads,
                        c,
                    );
                    for (i, (a, b)) in window[t * c..][..c].iter().zip(&one).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "hd {hd} pos0 {pos0} row {t} value {i}"
                        );
                    }
                }
            }
        }
        let x: Vec<f32> = (0..203)
            .map(|i| (i as f32 - 100.0) * 0.093)
            .chain([f32::MAX, -f32::MAX, 0.0, -0.0])
            .collect();
        let mut all = x.clone();
        Gelu::Tanh.apply_all(&mut all);
        for (a, &x) in all.iter().zip(&x) {
            assert_eq!(a.to_bits(), gelu_scalar(x).to_bits(), "gelu({x})");
        }
    }

    /// erf against Python's `math.erf` (libm), across both branches and the cut at 2.5.
    #[test]
    fn erf_matches_libm() {
        let cases = [
            (0.0, 0.0),
            (1e-08, 1.1283791670955126e-08),
            (0.1, 0.1124629160182849),
            (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149),
            (1.5, 0.9661051464753108),
            (2.0, 0.9953222650189527),
            (2.4999, 0.9995928300996666),
            (2.5, 0.999593047982555),
            (3.0, 0.9999779095030014),
            (4.0, 0.9999999845827421),
            (5.0, 0.9999999999984626),
            (5.9, 0.9999999999999999),
            (6.5, 1.0),
            (-0.7, -0.6778011938374184),
            (-3.2, -0.9999939742388483),
        ];
        for (x, want) in cases {
            let got = erf(x);
            assert!((got - want).abs() < 1e-14, "erf({x}) = {got}, want {want}");
        }
        // GELU: x·Φ(x); Φ(1) = 0.8413447460685429.
        assert_eq!(gelu_erf_scalar(1.0), 0.841_344_746_068_542_9_f64 as f32);
        assert_eq!(gelu_erf_scalar(-10.0), -0.0);
        assert_eq!(gelu_erf_scalar(10.0), 10.0);
    }
}

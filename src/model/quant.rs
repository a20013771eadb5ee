//! Weights kept quantised, as llama.cpp stores them, and the matrix–vector products that read
//! them: a quarter (Q8_0) to a seventh (Q4_K) of f32's bytes per weight, which is what a
//! bandwidth-bound forward pass pays for.
//!
//! A quantised matrix is stored row by row, each row of `cols` values cut into blocks; a block
//! holds small integers q and one or more f16 scales d, and value = d · q (minus a block
//! minimum for Q4_K):
//!
//! | type | values | bytes | value |
//! | --- | --- | --- | --- |
//! | Q8_0 | 32 | 34 | d · q, q an i8 |
//! | Q4_0 | 32 | 18 | d · (q − 8), q a nibble |
//! | Q5_0 | 32 | 22 | d · (q − 16), q of 5 bits: a nibble and one bit of a 32-bit mask |
//! | Q4_K | 256 | 144 | d · sc_j · q − dmin · m_j, q a nibble, 6-bit sc_j and m_j per 32 values |
//! | Q6_K | 256 | 210 | d · sc_j · (q − 32), q of 6 bits, an i8 sc_j per 16 values |
//!
//! y = W·x is computed as llama.cpp computes it: x is itself quantised, per block of 32 to
//! Q8_0 (for Q8_0, Q4_0 and Q5_0 weights) or per block of 256 to Q8_K (for Q4_K and Q6_K), and
//! each block's dot product is a sum of integer products, scaled once in f32. The integer sums are
//! exact, so the wasm simd128 kernel (`i32x4.dot_i16x8_s`, stable SIMD, no relaxed
//! instruction) and the plain native loop give the same integers, and the f32 steps after them
//! run in the same order: the results are the same bits on every target.

use crate::error::{Error, Result};
use crate::numerics::round_to_f16;

/// A quantised weight type the kernels compute with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    Q8_0,
    Q4_0,
    Q5_0,
    Q4K,
    Q6K,
}

impl QType {
    /// Every type, in the order error messages list them.
    pub const ALL: [QType; 5] = [
        QType::Q8_0,
        QType::Q4_0,
        QType::Q5_0,
        QType::Q4K,
        QType::Q6K,
    ];

    /// The name the JS API gives it (`"q8_0"`, `"q4_K"`): llama.cpp's, in lower case but for
    /// the K.
    pub fn name(self) -> &'static str {
        match self {
            QType::Q8_0 => "q8_0",
            QType::Q4_0 => "q4_0",
            QType::Q5_0 => "q5_0",
            QType::Q4K => "q4_K",
            QType::Q6K => "q6_K",
        }
    }

    /// Values per block.
    pub fn block_values(self) -> usize {
        match self {
            QType::Q8_0 | QType::Q4_0 | QType::Q5_0 => 32,
            QType::Q4K | QType::Q6K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            QType::Q8_0 => 34,
            QType::Q4_0 => 18,
            QType::Q5_0 => 22,
            QType::Q4K => 144,
            QType::Q6K => 210,
        }
    }
}

/// A (rows, cols) matrix of quantised blocks, row-major: row r is `cols / block_values`
/// blocks. A layer's weight is stored (out, in), as PyTorch's `nn.Linear` and llama.cpp store
/// it, so each output is the dot product of one row with x.
#[derive(Debug, Clone, PartialEq)]
pub struct QMatrix {
    pub qtype: QType,
    pub rows: usize,
    pub cols: usize,
    /// Whether the parameter's layout shape is (cols, rows), a linear layer's (in, out): then
    /// [`QMatrix::to_layout_f32`] gives the transpose of the rows. The kernels ignore it.
    pub transposed: bool,
    data: Vec<u8>,
}

/// The f32 value of the f16 `bits`.
#[inline(always)]
fn f16(lo: u8, hi: u8) -> f32 {
    crate::model::format::f16_bits_to_f32(u16::from_le_bytes([lo, hi]))
}

impl QMatrix {
    /// The matrix of `data`, which must be exactly (rows, cols) of `qtype`'s blocks (cols a
    /// multiple of its block).
    pub fn new(qtype: QType, rows: usize, cols: usize, data: Vec<u8>) -> Result<QMatrix> {
        let per = qtype.block_values();
        let want = (rows as u64) * (cols as u64 / per as u64) * qtype.block_bytes() as u64;
        if !cols.is_multiple_of(per) || data.len() as u64 != want {
            return Err(Error::new(format!(
                "a {} matrix of ({rows}, {cols}) needs {cols} a multiple of {per} and {want} \
                 bytes, got {}",
                qtype.name(),
                data.len()
            )));
        }
        Ok(QMatrix {
            qtype,
            rows,
            cols,
            transposed: false,
            data,
        })
    }

    /// The same matrix, its layout shape (cols, rows) if `transposed`.
    pub fn with_transposed(self, transposed: bool) -> QMatrix {
        QMatrix { transposed, ..self }
    }

    /// Every value in f32 in the layout's order: the rows, or their transpose.
    pub fn to_layout_f32(&self) -> Vec<f32> {
        let values = self.to_f32();
        if !self.transposed {
            return values;
        }
        let mut out = vec![0.0; values.len()];
        for (r, row) in values.chunks_exact(self.cols).enumerate() {
            for (c, &x) in row.iter().enumerate() {
                out[c * self.rows + r] = x;
            }
        }
        out
    }

    /// Its blocks, row after row, as llama.cpp stores them.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The bytes its blocks take.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row r's blocks.
    fn row_bytes(&self, r: usize) -> &[u8] {
        let n = self.cols / self.qtype.block_values() * self.qtype.block_bytes();
        &self.data[r * n..(r + 1) * n]
    }

    /// Row r's values in f32.
    pub fn row(&self, r: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.cols);
        let bb = self.qtype.block_bytes();
        for block in self.row_bytes(r).chunks_exact(bb) {
            match self.qtype {
                QType::Q8_0 => dequantize_q8_0(block, &mut out),
                QType::Q4_0 => dequantize_q4_0(block, &mut out),
                QType::Q5_0 => dequantize_q5_0(block, &mut out),
                QType::Q4K => dequantize_q4_k(block, &mut out),
                QType::Q6K => dequantize_q6_k(block, &mut out),
            }
        }
        out
    }

    /// Every value in f32, row-major.
    pub fn to_f32(&self) -> Vec<f32> {
        (0..self.rows).flat_map(|r| self.row(r)).collect()
    }

    /// The first value that is not finite, if any: (index, value). Only a scale (an f16 ∞ or
    /// NaN) can make one, so only the scales are read: the first value of the first block
    /// with such a scale is reported.
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        let scales: &[usize] = match self.qtype {
            QType::Q8_0 | QType::Q4_0 | QType::Q5_0 => &[0],
            QType::Q4K => &[0, 2],
            QType::Q6K => &[208],
        };
        let (bb, per) = (self.qtype.block_bytes(), self.qtype.block_values());
        self.data.chunks_exact(bb).enumerate().find_map(|(i, b)| {
            let bad = scales
                .iter()
                .map(|&at| f16(b[at], b[at + 1]))
                .find(|d| !d.is_finite())?;
            Some((i * per, bad))
        })
    }

    /// y = x · Wᵀ for every row of x (T, cols): (T, rows), each value the dot product of a row
    /// of W with that row of x quantised as llama.cpp quantises it.
    ///
    /// Every x row is quantised first; then W is read once, a few rows at a time, for all of
    /// them. Each output is Σ over its row's blocks, in order, of (integer block sum) · (weight
    /// scale · activation scale), so the grouping of rows changes no bit.
    pub fn matmul(&self, x: &[f32]) -> Vec<f32> {
        let x = &x[..x.len() / self.cols * self.cols];
        let mut y = vec![0.0; x.len() / self.cols * self.rows];
        match self.qtype {
            QType::Q8_0 | QType::Q4_0 | QType::Q5_0 => self.products(&quantize_q8_0(x), &mut y),
            QType::Q4K | QType::Q6K => self.products(&quantize_q8_k(x), &mut y),
        }
        y
    }

    /// y (T, rows) = W · each row of the quantised activations `a` (T rows of blocks).
    fn products<A: Activation>(&self, a: &[A], y: &mut [f32]) {
        let per_row = self.cols / self.qtype.block_values();
        let row_len = per_row * self.qtype.block_bytes();
        if row_len == 0 {
            return; // no columns: every product is 0
        }
        // simd::ROWS rows at a time, taken far apart (r, r + n/4, r + n/2, r + 3n/4): each is a
        // stream of its own through memory, and several streams are read faster than one.
        // Then the rows left, one at a time.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let first = {
            let per = self.rows / simd::ROWS;
            let row = |r: usize| &self.data[r * row_len..][..row_len];
            // The activations as the kernels read them, made once for every row of W.
            let wide = A::widen(self.qtype, a);
            for g in 0..per {
                let w: [&[u8]; simd::ROWS] = std::array::from_fn(|k| row(k * per + g));
                let rows = a.chunks_exact(per_row).zip(wide.chunks_exact(per_row));
                for ((a_row, wide_row), y_row) in rows.zip(y.chunks_exact_mut(self.rows)) {
                    let sums = A::rows4(self.qtype, w, a_row, wide_row);
                    for (k, sum) in sums.into_iter().enumerate() {
                        y_row[k * per + g] = sum;
                    }
                }
            }
            per * simd::ROWS
        };
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let first = 0;
        let bb = self.qtype.block_bytes();
        for r in first..self.rows {
            let w = &self.data[r * row_len..][..row_len];
            for (a_row, y_row) in a.chunks_exact(per_row).zip(y.chunks_exact_mut(self.rows)) {
                let mut sum = 0f32;
                for (w, a) in w.chunks_exact(bb).zip(a_row) {
                    sum += A::dot(self.qtype, w, a);
                }
                y_row[r] = sum;
            }
        }
    }
}

/// A block of quantised activations, and the products of weight blocks with it.
trait Activation: Sized {
    /// One weight block of `qtype` · this block.
    fn dot(qtype: QType, w: &[u8], a: &Self) -> f32;

    /// A block as the simd kernels read it (its values widened to i16, once for every row of
    /// W), or nothing.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    type Wide;

    /// Each block of `a` as the simd kernels read it.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn widen(qtype: QType, a: &[Self]) -> Vec<Self::Wide>;

    /// The products of four rows of W (whole rows) with one row of blocks (and the same row
    /// from [`Activation::widen`]).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn rows4(qtype: QType, w: [&[u8]; 4], a: &[Self], wide: &[Self::Wide]) -> [f32; 4];
}

impl Activation for Q8Block {
    #[inline(always)]
    fn dot(qtype: QType, w: &[u8], a: &Q8Block) -> f32 {
        match qtype {
            QType::Q8_0 => dot_q8_0(w, a),
            QType::Q5_0 => dot_q5_0(w, a),
            _ => dot_q4_0(w, a),
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    type Wide = [std::arch::wasm32::v128; 4];

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn widen(_: QType, a: &[Q8Block]) -> Vec<Self::Wide> {
        a.iter().map(|a| simd::widen32(&a.qs)).collect()
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn rows4(qtype: QType, w: [&[u8]; 4], a: &[Q8Block], wide: &[Self::Wide]) -> [f32; 4] {
        match qtype {
            QType::Q8_0 => simd::rows4_q8_0(w, a, wide),
            QType::Q5_0 => simd::rows4_q5_0(w, a, wide),
            _ => simd::rows4_q4_0(w, a, wide),
        }
    }
}

impl Activation for Q8KBlock {
    #[inline(always)]
    fn dot(qtype: QType, w: &[u8], a: &Q8KBlock) -> f32 {
        match qtype {
            QType::Q4K => dot_q4_k(w, a),
            _ => dot_q6_k(w, a),
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    type Wide = ();

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn widen(_: QType, a: &[Q8KBlock]) -> Vec<()> {
        vec![(); a.len()]
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn rows4(qtype: QType, w: [&[u8]; 4], a: &[Q8KBlock], _: &[()]) -> [f32; 4] {
        match qtype {
            QType::Q4K => simd::rows4_q4_k(w, a),
            _ => simd::rows4_q6_k(w, a),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding blocks.

fn dequantize_q8_0(b: &[u8], out: &mut Vec<f32>) {
    let d = f16(b[0], b[1]);
    out.extend(b[2..34].iter().map(|&q| d * f32::from(q as i8)));
}

fn dequantize_q4_0(b: &[u8], out: &mut Vec<f32>) {
    let d = f16(b[0], b[1]);
    let qs = &b[2..18];
    out.extend(qs.iter().map(|&q| d * f32::from((q & 0xF) as i8 - 8)));
    out.extend(qs.iter().map(|&q| d * f32::from((q >> 4) as i8 - 8)));
}

/// Q5_0's 32 values as integers in [−16, 15], in order: value j is the low nibble of byte
/// 6 + j (j < 16) or the high nibble of byte 6 + j − 16, with bit j of the little-endian u32 at
/// bytes 2–5 as its fifth bit.
#[inline(always)]
fn unpack_q5_0(b: &[u8]) -> [i8; 32] {
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    std::array::from_fn(|j| {
        let nibble = if j < 16 { qs[j] & 0xF } else { qs[j - 16] >> 4 };
        let high = ((qh >> j) & 1) as u8;
        (nibble | (high << 4)) as i8 - 16
    })
}

fn dequantize_q5_0(b: &[u8], out: &mut Vec<f32>) {
    let d = f16(b[0], b[1]);
    out.extend(unpack_q5_0(b).iter().map(|&q| d * f32::from(q)));
}

/// Q4_K's 6-bit scale and minimum of sub-block j (of 8), packed in 12 bytes.
#[inline(always)]
fn scale_min_k4(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

fn dequantize_q4_k(b: &[u8], out: &mut Vec<f32>) {
    let (d, dmin) = (f16(b[0], b[1]), f16(b[2], b[3]));
    let scales = &b[4..16];
    for (k, q) in b[16..144].chunks_exact(32).enumerate() {
        let (sc1, m1) = scale_min_k4(2 * k, scales);
        let (sc2, m2) = scale_min_k4(2 * k + 1, scales);
        let (d1, m1) = (d * f32::from(sc1), dmin * f32::from(m1));
        let (d2, m2) = (d * f32::from(sc2), dmin * f32::from(m2));
        out.extend(q.iter().map(|&q| d1 * f32::from(q & 0xF) - m1));
        out.extend(q.iter().map(|&q| d2 * f32::from(q >> 4) - m2));
    }
}

/// Q6_K's 256 values as integers in [−32, 31], in order.
#[inline(always)]
fn unpack_q6_k(b: &[u8]) -> [i8; 256] {
    let (ql, qh) = (&b[..128], &b[128..192]);
    let mut q = [0i8; 256];
    for half in 0..2 {
        let (ql, qh) = (&ql[64 * half..], &qh[32 * half..]);
        let q = &mut q[128 * half..];
        for l in 0..32 {
            q[l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i8 - 32;
            q[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
    q
}

fn dequantize_q6_k(b: &[u8], out: &mut Vec<f32>) {
    let d = f16(b[208], b[209]);
    let q = unpack_q6_k(b);
    for (j, q16) in q.chunks_exact(16).enumerate() {
        let s = d * f32::from(b[192 + j] as i8);
        out.extend(q16.iter().map(|&q| s * f32::from(q)));
    }
}

/// Q4_K's 256 nibbles in order: each 32 bytes give 32 low nibbles, then 32 high ones.
#[inline(always)]
fn unpack_q4_k(b: &[u8]) -> [i8; 256] {
    let mut q = [0i8; 256];
    for (k, bytes) in b[16..144].chunks_exact(32).enumerate() {
        for (l, &x) in bytes.iter().enumerate() {
            q[64 * k + l] = (x & 0xF) as i8;
            q[64 * k + 32 + l] = (x >> 4) as i8;
        }
    }
    q
}

// ---------------------------------------------------------------------------------------------
// Quantising activations, as llama.cpp's `quantize_row_q8_0` and `quantize_row_q8_K` do.

/// 32 activations as Q8_0: d = max|x| / 127, q = round(x / d) (halves to even), and d kept as
/// the f16 it is stored as.
pub struct Q8Block {
    /// The scale, as the f16 value it is stored as.
    pub d: f32,
    pub qs: [i8; 32],
}

/// x (a multiple of 32 values) in Q8_0 blocks.
pub fn quantize_q8_0(x: &[f32]) -> Vec<Q8Block> {
    x.chunks_exact(32)
        .map(|b| {
            let amax = b.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = amax / 127.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            let mut qs = [0i8; 32];
            for (q, &v) in qs.iter_mut().zip(b) {
                // Halves to even, as llama.cpp's x86 and wasm SIMD paths round
                // (`_MM_ROUND_NEAREST`, `f32x4.nearest`).
                *q = (v * id).round_ties_even() as i8;
            }
            Q8Block {
                d: round_to_f16(d),
                qs,
            }
        })
        .collect()
}

/// 256 activations as Q8_K: q = nearest(−127 · x / x_max) with x_max the value of largest
/// magnitude (with its sign), d = 1 / (−127 / x_max), an f32; and the sums of each 16 q.
pub struct Q8KBlock {
    pub d: f32,
    pub qs: [i8; 256],
    pub bsums: [i16; 16],
}

/// Round half to even, as llama.cpp's `nearest_int`.
#[inline(always)]
fn nearest_int(x: f32) -> i32 {
    x.round_ties_even() as i32
}

/// x (a multiple of 256 values) in Q8_K blocks.
pub fn quantize_q8_k(x: &[f32]) -> Vec<Q8KBlock> {
    x.chunks_exact(256)
        .map(|b| {
            let (mut amax, mut max) = (0f32, 0f32);
            for &v in b {
                if v.abs() > amax {
                    amax = v.abs();
                    max = v;
                }
            }
            let mut block = Q8KBlock {
                d: 0.0,
                qs: [0; 256],
                bsums: [0; 16],
            };
            if amax == 0.0 {
                return block;
            }
            let iscale = -127.0 / max;
            for (q, &v) in block.qs.iter_mut().zip(b) {
                *q = nearest_int(iscale * v).min(127) as i8;
            }
            for (s, q16) in block.bsums.iter_mut().zip(block.qs.chunks_exact(16)) {
                *s = q16.iter().map(|&q| i16::from(q)).sum();
            }
            block.d = 1.0 / iscale;
            block
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Block dot products: integer sums, then one scaling in f32.

/// Σ a_i · b_i over n = 16·k values, in i32: exact, whichever way it is summed.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::dot_i8(a, b)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum()
    }
}

/// The simd128 kernels: four rows of W per pass, sharing each block of activations (Q8_0
/// activations are widened to i16 once for every row of W), integer sums by
/// `i32x4.dot_i16x8_s`, the four rows' block sums brought into one vector by two rounds of
/// shuffles, and the f32 steps done for the four rows in the lanes of one vector (their four
/// f16 scales read into one vector and widened together, ahead of the integer sums), in the
/// one-row code's order. Integer
/// sums are exact whichever way they are added, and each lane's f32 steps are the one-row
/// code's, so every output is the one-row code's to the bit.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{scale_min_k4, Q8Block, Q8KBlock};
    use std::arch::wasm32::*;
    use std::mem::MaybeUninit;

    /// Rows of W per pass.
    pub const ROWS: usize = 4;

    /// 16 values at a time: widened to i16, multiplied and added in pairs to i32
    /// (`i32x4.dot_i16x8_s`), the four lanes summed at the end. Integer arithmetic, so the
    /// result is the plain loop's exactly.
    #[inline(always)]
    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        debug_assert_eq!(a.len() % 16, 0);
        let mut acc = i32x4_splat(0);
        for (a16, b16) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
            // SAFETY: each chunk holds 16 bytes; v128_load reads them unaligned.
            let (va, vb) = unsafe {
                (
                    v128_load(a16.as_ptr().cast::<v128>()),
                    v128_load(b16.as_ptr().cast::<v128>()),
                )
            };
            let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(va), i16x8_extend_low_i8x16(vb));
            let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(va), i16x8_extend_high_i8x16(vb));
            acc = i32x4_add(acc, i32x4_add(lo, hi));
        }
        i32x4_extract_lane::<0>(acc)
            + i32x4_extract_lane::<1>(acc)
            + i32x4_extract_lane::<2>(acc)
            + i32x4_extract_lane::<3>(acc)
    }

    /// 16 bytes from `p`, unaligned.
    ///
    /// # Safety
    /// `p..p + 16` is readable.
    #[inline(always)]
    unsafe fn load(p: *const u8) -> v128 {
        v128_load(p.cast::<v128>())
    }

    /// Lane k = the sum of the four lanes of s[k].
    #[inline(always)]
    fn sum_lanes4(s: [v128; 4]) -> v128 {
        let [a, b, c, d] = s;
        let ab = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(a, b),
            i32x4_shuffle::<2, 6, 3, 7>(a, b),
        );
        let cd = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(c, d),
            i32x4_shuffle::<2, 6, 3, 7>(c, d),
        );
        i32x4_add(
            i32x4_shuffle::<0, 1, 4, 5>(ab, cd),
            i32x4_shuffle::<2, 3, 6, 7>(ab, cd),
        )
    }

    /// Four f16 bit patterns (in u32 lanes) as f32, to the bit as `f16_bits_to_f32` gives
    /// them, ∞ and NaN included.
    #[inline(always)]
    fn f16x4(bits: v128) -> v128 {
        let em = v128_and(bits, u32x4_splat(0x7fff));
        let sign = i32x4_shl(v128_xor(bits, em), 16);
        // Exact for normal and subnormal values (see `format::f16_bits_to_f32`). An all-ones
        // exponent (∞, NaN) lands below f32's, at 2^16 or more, which no finite f16 reaches
        // (its largest is 65 504); or-ing f32's all-ones exponent in then makes ±∞ or the same
        // NaN.
        let magnitude = f32x4_mul(i32x4_shl(em, 13), f32x4_splat(f32::from_bits(0x7780_0000)));
        let special = v128_and(
            f32x4_ge(magnitude, f32x4_splat(65536.0)),
            u32x4_splat(0x7f80_0000),
        );
        v128_or(v128_or(magnitude, special), sign)
    }

    /// The little-endian u16 at each of `p` (unaligned), in the low halves of four u32 lanes.
    ///
    /// # Safety
    /// `p[k]..p[k] + 2` is readable for each k.
    #[inline(always)]
    unsafe fn u16x4_at(p: [*const u8; 4]) -> v128 {
        let v = u32x4_splat(0);
        let v = v128_load16_lane::<0>(v, p[0].cast());
        let v = v128_load16_lane::<2>(v, p[1].cast());
        let v = v128_load16_lane::<4>(v, p[2].cast());
        v128_load16_lane::<6>(v, p[3].cast())
    }

    /// The 32 activations of a Q8_0 block as four vectors of eight i16.
    #[inline(always)]
    pub fn widen32(qs: &[i8; 32]) -> [v128; 4] {
        // SAFETY: 32 bytes.
        let (a0, a1) = unsafe { (load(qs.as_ptr().cast()), load(qs.as_ptr().add(16).cast())) };
        [
            i16x8_extend_low_i8x16(a0),
            i16x8_extend_high_i8x16(a0),
            i16x8_extend_low_i8x16(a1),
            i16x8_extend_high_i8x16(a1),
        ]
    }

    /// Σ q·a over 16 i8 `q` and 16 activations (two vectors of eight i16), in four i32 lanes.
    #[inline(always)]
    fn dot16(q: v128, a0: v128, a1: v128) -> v128 {
        i32x4_add(
            i32x4_dot_i16x8(i16x8_extend_low_i8x16(q), a0),
            i32x4_dot_i16x8(i16x8_extend_high_i8x16(q), a1),
        )
    }

    /// Blocks whose scales are widened ahead of their integer sums.
    const CHUNK: usize = 32;

    /// Each row's Σ over blocks of sumi · (d_w · d_a), the four rows in the lanes of one
    /// vector; blocks are `bb` bytes, each beginning with its f16 scale, and `sum(k, i)` is block
    /// i of row k's integer sum with the activations (in four lanes).
    ///
    /// A chunk of blocks' scales d_w · d_a is made first, then the chunk's integer sums: the
    /// constants of the f16 widening are not held through the loop of sums, which needs the
    /// vector registers for its own values.
    #[inline(always)]
    fn rows4_by(
        w: [&[u8]; ROWS],
        bb: usize,
        a: &[Q8Block],
        sum: impl Fn(usize, usize) -> v128,
    ) -> [f32; 4] {
        assert!(w.iter().all(|w| w.len() >= a.len() * bb));
        let mut acc = f32x4_splat(0.0);
        // Left unset until written: zeroing it would cost a chunk's worth of stores per call.
        let mut scales = [MaybeUninit::<v128>::uninit(); CHUNK];
        for (c, blocks) in a.chunks(CHUNK).enumerate() {
            let first = c * CHUNK;
            for (j, (scale, a)) in scales.iter_mut().zip(blocks).enumerate() {
                let at = (first + j) * bb;
                // SAFETY: block first + j of each row lies within it (asserted above).
                let d = unsafe { u16x4_at(w.map(|w| w.as_ptr().add(at))) };
                scale.write(f32x4_mul(f16x4(d), f32x4_splat(a.d)));
            }
            for (j, scale) in scales[..blocks.len()].iter().enumerate() {
                let i = first + j;
                // SAFETY: the loop above wrote the first blocks.len() scales.
                let scale = unsafe { scale.assume_init() };
                // The four rows written out, so that their sums stay in registers.
                let s = [sum(0, i), sum(1, i), sum(2, i), sum(3, i)];
                let sumi = f32x4_convert_i32x4(sum_lanes4(s));
                acc = f32x4_add(acc, f32x4_mul(sumi, scale));
            }
        }
        lanes(acc)
    }

    /// Four rows of Q8_0 blocks · one row of Q8_0 activations (`wide`: the same, from
    /// [`widen32`]), as `dot_q8_0` summed in order.
    pub fn rows4_q8_0(w: [&[u8]; ROWS], a: &[Q8Block], wide: &[[v128; 4]]) -> [f32; 4] {
        const BB: usize = 34;
        let row_len = a.len() * BB;
        assert!(w.iter().all(|w| w.len() >= row_len) && wide.len() == a.len());
        rows4_by(w, BB, a, |k, i| {
            let a = &wide[i];
            // SAFETY: block i of row k lies within w (asserted above).
            unsafe {
                let b = w[k].as_ptr().add(i * BB);
                // Eight i8 at a time, widened to i16 by the load itself (`v128.load8x8_s`).
                let q = |at: usize| i16x8_load_extend_i8x8(b.add(2 + 8 * at).cast());
                i32x4_add(
                    i32x4_add(i32x4_dot_i16x8(q(0), a[0]), i32x4_dot_i16x8(q(1), a[1])),
                    i32x4_add(i32x4_dot_i16x8(q(2), a[2]), i32x4_dot_i16x8(q(3), a[3])),
                )
            }
        })
    }

    /// Four rows of Q4_0 blocks · one row of Q8_0 activations (`wide`: the same, from
    /// [`widen32`]), as `dot_q4_0` summed in order.
    pub fn rows4_q4_0(w: [&[u8]; ROWS], a: &[Q8Block], wide: &[[v128; 4]]) -> [f32; 4] {
        const BB: usize = 18;
        let row_len = a.len() * BB;
        assert!(w.iter().all(|w| w.len() >= row_len) && wide.len() == a.len());
        let (low, eight) = (u8x16_splat(0x0f), i8x16_splat(8));
        rows4_by(w, BB, a, |k, i| {
            let a = &wide[i];
            // SAFETY: block i of row k lies within w (asserted above).
            unsafe {
                let b = w[k].as_ptr().add(i * BB);
                // Values 0–15 then 16–31: the low nibbles, then the high ones, less 8.
                let v = load(b.add(2));
                let q0 = i8x16_sub(v128_and(v, low), eight);
                let q1 = i8x16_sub(v128_and(u16x8_shr(v, 4), low), eight);
                i32x4_add(dot16(q0, a[0], a[1]), dot16(q1, a[2], a[3]))
            }
        })
    }

    /// Four rows of Q5_0 blocks · one row of Q8_0 activations, as `dot_q5_0` summed in order.
    pub fn rows4_q5_0(w: [&[u8]; ROWS], a: &[Q8Block], wide: &[[v128; 4]]) -> [f32; 4] {
        const BB: usize = 22;
        let row_len = a.len() * BB;
        assert!(w.iter().all(|w| w.len() >= row_len) && wide.len() == a.len());
        let (low, sixteen) = (u8x16_splat(0x0f), u8x16_splat(0x10));
        // Byte j of a vector of values tests bit j % 8 of the mask byte spread over it: mask
        // bytes 0 and 1 (bits 0–15) for values 0–15, bytes 2 and 3 for values 16–31.
        let bit = u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        let (spread0, spread1) = (
            u8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
            u8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
        );
        rows4_by(w, BB, a, |k, i| {
            let a = &wide[i];
            // SAFETY: block i of row k lies within w (asserted above).
            unsafe {
                let b = w[k].as_ptr().add(i * BB);
                // The 32-bit mask of fifth bits, little-endian as wasm's memory is.
                let qh = u32x4_splat(b.add(2).cast::<u32>().read_unaligned());
                let v = load(b.add(6));
                // q − 16 = nibble − 16 where the fifth bit is clear, the nibble where it is set.
                let clear = |spread: v128| {
                    let h = v128_and(i8x16_swizzle(qh, spread), bit);
                    v128_andnot(sixteen, i8x16_eq(h, bit))
                };
                let q0 = i8x16_sub(v128_and(v, low), clear(spread0));
                let q1 = i8x16_sub(v128_and(u16x8_shr(v, 4), low), clear(spread1));
                i32x4_add(dot16(q0, a[0], a[1]), dot16(q1, a[2], a[3]))
            }
        })
    }

    /// A Q8_K block's 256 activations as 32 vectors of eight i16.
    #[inline(always)]
    fn widen256(qs: &[i8; 256]) -> [v128; 32] {
        let mut out = [i32x4_splat(0); 32];
        for (j, pair) in out.chunks_exact_mut(2).enumerate() {
            // SAFETY: bytes 16j..16j + 16 of 256.
            let v = unsafe { load(qs.as_ptr().add(16 * j).cast()) };
            pair[0] = i16x8_extend_low_i8x16(v);
            pair[1] = i16x8_extend_high_i8x16(v);
        }
        out
    }

    /// Four rows of Q4_K blocks · one row of Q8_K activations, as `dot_q4_k` summed in order.
    pub fn rows4_q4_k(w: [&[u8]; ROWS], a: &[Q8KBlock]) -> [f32; 4] {
        const BB: usize = 144;
        let row_len = a.len() * BB;
        assert!(w.iter().all(|w| w.len() >= row_len));
        let low = u8x16_splat(0x0f);
        let mut acc = f32x4_splat(0.0);
        for (i, a) in a.iter().enumerate() {
            let av = widen256(&a.qs);
            // The activations' sums per sub-block of 32, for the minima.
            let sums: [i32; 8] =
                std::array::from_fn(|j| i32::from(a.bsums[2 * j]) + i32::from(a.bsums[2 * j + 1]));
            let row_block = |k: usize| -> (v128, i32, u32, u32) {
                let block: &[u8; BB] = w[k][i * BB..][..BB].try_into().expect("BB");
                let scales = &block[4..16];
                let (sc, m): ([u8; 8], [u8; 8]) = (
                    std::array::from_fn(|j| scale_min_k4(j, scales).0),
                    std::array::from_fn(|j| scale_min_k4(j, scales).1),
                );
                let mut sk = i32x4_splat(0);
                for c in 0..4 {
                    // SAFETY: bytes 16 + 32c.. 16 + 32c + 32 of the 144.
                    let (v0, v1) = unsafe {
                        let p = block.as_ptr().add(16 + 32 * c);
                        (load(p), load(p.add(16)))
                    };
                    // Sub-block 2c: the low nibbles; 2c + 1: the high ones (values 0–15).
                    let (l0, l1) = (v128_and(v0, low), v128_and(v1, low));
                    let (h0, h1) = (
                        v128_and(u16x8_shr(v0, 4), low),
                        v128_and(u16x8_shr(v1, 4), low),
                    );
                    let a = &av[8 * c..8 * c + 8];
                    let lo = i32x4_add(dot16(l0, a[0], a[1]), dot16(l1, a[2], a[3]));
                    let hi = i32x4_add(dot16(h0, a[4], a[5]), dot16(h1, a[6], a[7]));
                    sk = i32x4_add(sk, i32x4_mul(lo, i32x4_splat(i32::from(sc[2 * c]))));
                    sk = i32x4_add(sk, i32x4_mul(hi, i32x4_splat(i32::from(sc[2 * c + 1]))));
                }
                let summ = (0..8).map(|j| i32::from(m[j]) * sums[j]).sum();
                let d = u32::from(u16::from_le_bytes([block[0], block[1]]));
                let dmin = u32::from(u16::from_le_bytes([block[2], block[3]]));
                (sk, summ, d, dmin)
            };
            let (s0, m0, d0, n0) = row_block(0);
            let (s1, m1, d1, n1) = row_block(1);
            let (s2, m2, d2, n2) = row_block(2);
            let (s3, m3, d3, n3) = row_block(3);
            let (s, summ, d, dmin) = (
                [s0, s1, s2, s3],
                [m0, m1, m2, m3],
                [d0, d1, d2, d3],
                [n0, n1, n2, n3],
            );
            let da = f32x4_splat(a.d);
            let d = f32x4_mul(f16x4(u32x4(d[0], d[1], d[2], d[3])), da);
            let dmin = f32x4_mul(f16x4(u32x4(dmin[0], dmin[1], dmin[2], dmin[3])), da);
            let sumi = f32x4_convert_i32x4(sum_lanes4(s));
            let summ = f32x4_convert_i32x4(i32x4(summ[0], summ[1], summ[2], summ[3]));
            acc = f32x4_add(acc, f32x4_sub(f32x4_mul(d, sumi), f32x4_mul(dmin, summ)));
        }
        lanes(acc)
    }

    /// Four rows of Q6_K blocks · one row of Q8_K activations, as `dot_q6_k` summed in order.
    pub fn rows4_q6_k(w: [&[u8]; ROWS], a: &[Q8KBlock]) -> [f32; 4] {
        const BB: usize = 210;
        let row_len = a.len() * BB;
        assert!(w.iter().all(|w| w.len() >= row_len));
        let (low, two, thirty_two) = (u8x16_splat(0x0f), u8x16_splat(0x30), i8x16_splat(32));
        let mut acc = f32x4_splat(0.0);
        for (i, a) in a.iter().enumerate() {
            let av = widen256(&a.qs);
            let row_block = |k: usize| -> (v128, u32) {
                let block: &[u8; BB] = w[k][i * BB..][..BB].try_into().expect("BB");
                let mut sk = i32x4_splat(0);
                for h in 0..2 {
                    // SAFETY: ql bytes 64h..64h + 64 and qh bytes 128 + 32h.. + 32 of the 210.
                    let (ql, qh) = unsafe {
                        let p = block.as_ptr();
                        let ql = p.add(64 * h);
                        let qh = p.add(128 + 32 * h);
                        (
                            [
                                load(ql),
                                load(ql.add(16)),
                                load(ql.add(32)),
                                load(ql.add(48)),
                            ],
                            [load(qh), load(qh.add(16))],
                        )
                    };
                    // Group g of 16 values: 4 low bits from ql, 2 high bits from qh (shifted
                    // within 16-bit lanes, then masked to their byte), less 32.
                    let groups = [
                        v128_or(v128_and(ql[0], low), v128_and(i16x8_shl(qh[0], 4), two)),
                        v128_or(v128_and(ql[1], low), v128_and(i16x8_shl(qh[1], 4), two)),
                        v128_or(v128_and(ql[2], low), v128_and(i16x8_shl(qh[0], 2), two)),
                        v128_or(v128_and(ql[3], low), v128_and(i16x8_shl(qh[1], 2), two)),
                        v128_or(v128_and(u16x8_shr(ql[0], 4), low), v128_and(qh[0], two)),
                        v128_or(v128_and(u16x8_shr(ql[1], 4), low), v128_and(qh[1], two)),
                        v128_or(
                            v128_and(u16x8_shr(ql[2], 4), low),
                            v128_and(u16x8_shr(qh[0], 2), two),
                        ),
                        v128_or(
                            v128_and(u16x8_shr(ql[3], 4), low),
                            v128_and(u16x8_shr(qh[1], 2), two),
                        ),
                    ];
                    for (g, q) in groups.into_iter().enumerate() {
                        let j = 8 * h + g;
                        let q = i8x16_sub(q, thirty_two);
                        let dot = dot16(q, av[2 * j], av[2 * j + 1]);
                        let scale = i32x4_splat(i32::from(block[192 + j] as i8));
                        sk = i32x4_add(sk, i32x4_mul(dot, scale));
                    }
                }
                (sk, u32::from(u16::from_le_bytes([block[208], block[209]])))
            };
            let (s0, d0) = row_block(0);
            let (s1, d1) = row_block(1);
            let (s2, d2) = row_block(2);
            let (s3, d3) = row_block(3);
            let (s, d) = ([s0, s1, s2, s3], [d0, d1, d2, d3]);
            let d = f32x4_mul(f16x4(u32x4(d[0], d[1], d[2], d[3])), f32x4_splat(a.d));
            acc = f32x4_add(acc, f32x4_mul(d, f32x4_convert_i32x4(sum_lanes4(s))));
        }
        lanes(acc)
    }

    #[inline(always)]
    fn lanes(v: v128) -> [f32; 4] {
        [
            f32x4_extract_lane::<0>(v),
            f32x4_extract_lane::<1>(v),
            f32x4_extract_lane::<2>(v),
            f32x4_extract_lane::<3>(v),
        ]
    }
}

/// A Q8_0 weight block · a Q8_0 activation block.
#[inline(always)]
fn dot_q8_0(w: &[u8], a: &Q8Block) -> f32 {
    // SAFETY-free reinterpretation: the 32 quants as i8.
    let qs: [i8; 32] = std::array::from_fn(|i| w[2 + i] as i8);
    let sumi = dot_i8(&qs, &a.qs);
    sumi as f32 * (f16(w[0], w[1]) * a.d)
}

/// A Q4_0 weight block · a Q8_0 activation block.
#[inline(always)]
fn dot_q4_0(w: &[u8], a: &Q8Block) -> f32 {
    let qs = &w[2..18];
    let q: [i8; 32] = std::array::from_fn(|i| {
        if i < 16 {
            (qs[i] & 0xF) as i8 - 8
        } else {
            (qs[i - 16] >> 4) as i8 - 8
        }
    });
    let sumi = dot_i8(&q, &a.qs);
    sumi as f32 * (f16(w[0], w[1]) * a.d)
}

/// A Q5_0 weight block · a Q8_0 activation block.
#[inline(always)]
fn dot_q5_0(w: &[u8], a: &Q8Block) -> f32 {
    let sumi = dot_i8(&unpack_q5_0(w), &a.qs);
    sumi as f32 * (f16(w[0], w[1]) * a.d)
}

/// A Q4_K weight block · a Q8_K activation block: d·d_a·Σⱼ scⱼ·(qⱼ·aⱼ) − dmin·d_a·Σⱼ mⱼ·Σaⱼ.
#[inline(always)]
fn dot_q4_k(w: &[u8], a: &Q8KBlock) -> f32 {
    let q = unpack_q4_k(w);
    let scales = &w[4..16];
    let (mut sumi, mut summ) = (0i32, 0i32);
    for j in 0..8 {
        let (sc, m) = scale_min_k4(j, scales);
        let r = 32 * j..32 * j + 32;
        sumi += i32::from(sc) * dot_i8(&q[r.clone()], &a.qs[r]);
        summ += i32::from(m) * (i32::from(a.bsums[2 * j]) + i32::from(a.bsums[2 * j + 1]));
    }
    let d = f16(w[0], w[1]) * a.d;
    let dmin = f16(w[2], w[3]) * a.d;
    d * sumi as f32 - dmin * summ as f32
}

/// A Q6_K weight block · a Q8_K activation block: d·d_a·Σⱼ scⱼ·(qⱼ·aⱼ), j over 16 groups of 16.
#[inline(always)]
fn dot_q6_k(w: &[u8], a: &Q8KBlock) -> f32 {
    let q = unpack_q6_k(w);
    let mut sumi = 0i32;
    for j in 0..16 {
        let r = 16 * j..16 * j + 16;
        sumi += i32::from(w[192 + j] as i8) * dot_i8(&q[r.clone()], &a.qs[r]);
    }
    f16(w[208], w[209]) * a.d * sumi as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random_blocks(qtype: QType, rows: usize, cols: usize, seed: u64) -> QMatrix {
        let mut rng = Rng::new(seed);
        let n = rows * cols / qtype.block_values() * qtype.block_bytes();
        let mut data: Vec<u8> = (0..n).map(|_| (rng.next_u64() >> 56) as u8).collect();
        // Finite, modest f16 scales: 0x2000..0x27ff (about 0.008 to 0.03).
        let bb = qtype.block_bytes();
        for block in data.chunks_exact_mut(bb) {
            let at: &[usize] = match qtype {
                QType::Q8_0 | QType::Q4_0 | QType::Q5_0 => &[0],
                QType::Q4K => &[0, 2],
                QType::Q6K => &[208],
            };
            for &i in at {
                block[i + 1] = 0x20 | (block[i + 1] & 0x07);
            }
        }
        QMatrix::new(qtype, rows, cols, data).unwrap()
    }

    /// Each block type decodes as its formula says, on a hand-made block.
    #[test]
    fn blocks_decode_by_their_formulas() {
        // Q8_0: d = 0.5 (0x3800), q = 0, 0, 1, −1, 2, −2, …
        let mut b = vec![0x00, 0x38];
        b.extend((0..32).map(|i: i32| (if i % 2 == 1 { -(i / 2) } else { i / 2 }) as i8 as u8));
        let m = QMatrix::new(QType::Q8_0, 1, 32, b).unwrap();
        assert_eq!(&m.row(0)[..6], &[0.0, 0.0, 0.5, -0.5, 1.0, -1.0]);
        // Q4_0: d = 2, bytes 0x1F: low nibble 15 → 2·7 = 14 (values 0..16), high 1 → −14.
        let mut b = vec![0x00, 0x40];
        b.extend([0x1F; 16]);
        let m = QMatrix::new(QType::Q4_0, 1, 32, b).unwrap();
        assert_eq!(m.row(0)[0], 14.0);
        assert_eq!(m.row(0)[16], -14.0);
        // Q5_0: d = 0.5, the mask 0x8000_0001 (bits 0 and 31 set), every byte 0x3A: low
        // nibble 10, high 3. Value 0: 10 | 16 → 0.5·(26 − 16) = 5; value 1: 0.5·(10 − 16) = −3;
        // value 16: 0.5·(3 − 16) = −6.5; value 31: 3 | 16 → 0.5·(19 − 16) = 1.5.
        let mut b = vec![0x00, 0x38, 0x01, 0x00, 0x00, 0x80];
        b.extend([0x3A; 16]);
        let m = QMatrix::new(QType::Q5_0, 1, 32, b).unwrap();
        let row = m.row(0);
        assert_eq!((row[0], row[1], row[15]), (5.0, -3.0, -3.0));
        assert_eq!((row[16], row[30], row[31]), (-6.5, -6.5, 1.5));
        // Bits 15 and 16 are values 15 and 16: the low half's last, the high half's first.
        let mut b = vec![0x00, 0x3c, 0x00, 0x80, 0x01, 0x00];
        b.extend([0xF0; 16]); // low nibble 0, high 15
        let row = QMatrix::new(QType::Q5_0, 1, 32, b).unwrap().row(0);
        assert_eq!(
            (row[14], row[15], row[16], row[17]),
            (-16.0, 0.0, 15.0, -1.0)
        );
        // Q4_K: d = 1, dmin = 0.5, sub-block 0's scale 3 and min 2, nibble 5 → 3·5 − 1 = 14;
        // sub-block 5's scale (high bits from byte 1) and min.
        let mut b = vec![0x00, 0x3c, 0x00, 0x38];
        let mut scales = [0u8; 12];
        scales[0] = 3;
        scales[4] = 2;
        scales[1] = 0b01_000001; // sub-block 1: scale 1; its top bits are sub-block 5's
        scales[9] = 0x42; // sub-block 5: scale 2 | (1 << 4) = 18, min 4 | (0 << 4)
        b.extend(scales);
        b.extend([0x75; 128]); // low nibble 5, high 7
        let m = QMatrix::new(QType::Q4K, 1, 256, b).unwrap();
        let row = m.row(0);
        assert_eq!(row[0], 3.0 * 5.0 - 0.5 * 2.0);
        assert_eq!(row[32], 1.0 * 7.0); // sub-block 1: scale 1, min 0
        assert_eq!(row[128 + 32], 18.0 * 7.0 - 0.5 * 4.0); // sub-block 5, high nibbles
                                                           // Q6_K: every q = 33 (−32 → 1), scales 1..16, d = 1.
        let mut b = vec![0x11u8; 128]; // low 4 bits 1
        b.extend([0xAAu8; 64]); // high bits 2 each → q = 1 | 2 << 4 = 33
        b.extend((1..=16).map(|s: i8| s as u8));
        b.extend([0x00, 0x3c]);
        let m = QMatrix::new(QType::Q6K, 1, 256, b).unwrap();
        let row = m.row(0);
        assert_eq!((row[0], row[16], row[255]), (1.0, 2.0, 16.0));
    }

    /// The kernel's product equals the dequantised weights times the quantised activations,
    /// summed in f64: the integer sums are exact and only the per-block scaling rounds.
    #[test]
    fn products_match_the_dequantised_weights() {
        let mut rng = Rng::new(7);
        for qtype in QType::ALL {
            let cols = 512;
            let m = random_blocks(qtype, 5, cols, 3);
            let x: Vec<f32> = (0..2 * cols).map(|_| rng.normal() as f32).collect();
            let y = m.matmul(&x);
            assert_eq!(y.len(), 10);
            for (t, x_row) in x.chunks_exact(cols).enumerate() {
                // The activations as the kernel sees them.
                let xq: Vec<f64> = match qtype {
                    QType::Q8_0 | QType::Q4_0 | QType::Q5_0 => quantize_q8_0(x_row)
                        .iter()
                        .flat_map(|b| b.qs.map(|q| f64::from(q) * f64::from(b.d)))
                        .collect(),
                    _ => quantize_q8_k(x_row)
                        .iter()
                        .flat_map(|b| b.qs.map(|q| f64::from(q) * f64::from(b.d)))
                        .collect(),
                };
                for r in 0..5 {
                    let want: f64 = m
                        .row(r)
                        .iter()
                        .zip(&xq)
                        .map(|(&w, &a)| f64::from(w) * a)
                        .sum();
                    let got = f64::from(y[t * 5 + r]);
                    let scale: f64 = m
                        .row(r)
                        .iter()
                        .zip(&xq)
                        .map(|(&w, &a)| (f64::from(w) * a).abs())
                        .sum();
                    assert!(
                        (got - want).abs() <= 1e-5 * scale.max(1.0),
                        "{qtype:?} row {r}: {got} vs {want}"
                    );
                    // And the activations are close to x: within half a step of each block.
                    let exact: f64 = m
                        .row(r)
                        .iter()
                        .zip(x_row)
                        .map(|(&w, &a)| f64::from(w) * f64::from(a))
                        .sum();
                    assert!(
                        (got - exact).abs() <= 0.02 * scale.max(1.0),
                        "{qtype:?}: {got} vs {exact}"
                    );
                }
            }
        }
    }

    /// Activation quantisation by llama.cpp's rules: Q8_0's d is rounded to f16 and q to
    /// nearest; Q8_K's largest value maps to −127.
    #[test]
    fn activations_quantise_as_llama_cpp_does() {
        let mut x = vec![0.0f32; 256];
        x[0] = 2.54;
        x[1] = -1.27;
        x[2] = 0.01;
        let q = quantize_q8_0(&x[..32]);
        assert_eq!(q[0].d, round_to_f16(2.54 / 127.0));
        assert_eq!((q[0].qs[0], q[0].qs[1], q[0].qs[2]), (127, -64, 0));
        let k = quantize_q8_k(&x);
        assert_eq!((k[0].qs[0], k[0].qs[1]), (-127, 64));
        assert_eq!(k[0].d, 1.0 / (-127.0 / 2.54f32));
        assert_eq!(k[0].bsums[0], -127 + 64);
        assert_eq!(quantize_q8_k(&[0.0; 256])[0].d, 0.0);
    }
}

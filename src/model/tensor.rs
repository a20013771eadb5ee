//! Weights as a checkpoint stores them: f32, or 16-bit floats (bfloat16, float16) kept as they
//! are, half the memory, and widened to f32 one value at a time inside the matmul kernels
//! ([`crate::model::kernels`]). Activations, the KV cache and every sum stay f32.
//!
//! Widening is exact both ways: a bfloat16 is the top half of an f32, and every float16 is an
//! f32. So a bf16 model computes exactly what the same weights widened to f32 compute.

use std::borrow::Cow;

use crate::model::quant::{QMatrix, QType};

/// A weight's storage type that the kernels widen to f32 as they read it.
pub trait Element: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// The value as an f32 (exactly).
    fn to_f32(self) -> f32;
}

impl Element for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
}

/// A bfloat16, by its bits: an f32's sign, 8 exponent bits and top 7 mantissa bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct Bf16(pub u16);

impl Element for Bf16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from_bits(u32::from(self.0) << 16)
    }
}

/// An IEEE float16, by its bits. Only finite values are held (the readers refuse the others),
/// so widening needs no branch for ∞ and NaN and vectorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct F16(pub u16);

impl Element for F16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        // Shifted into f32's fields the exponent is off by 127 − 15; multiplying by 2^112
        // corrects it, exactly, for normal and subnormal float16 alike (see
        // `format::f16_bits_to_f32`, which also keeps ∞ and NaN).
        let sign = u32::from(self.0 & 0x8000) << 16;
        let magnitude =
            f32::from_bits(u32::from(self.0 & 0x7fff) << 13) * f32::from_bits(0x7780_0000);
        f32::from_bits(magnitude.to_bits() | sign)
    }
}

/// The storage type of a model's weights, as `model.config.dtype` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F16,
    Bf16,
    /// Blocks of small integers and scales, as llama.cpp stores them ([`crate::model::quant`]).
    Quant(QType),
}

impl Dtype {
    /// `"f32"`, `"f16"` or `"bf16"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
            Dtype::Quant(q) => q.name(),
        }
    }

    /// Bytes per value (for a quantised type, per block of [`QType::block_values`]).
    pub fn width(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::Quant(q) => q.block_bytes(),
        }
    }

    /// The dtype of a safetensors header's name for it (`"F32"`, `"F16"`, `"BF16"`).
    pub fn from_safetensors(name: &str) -> Option<Dtype> {
        match name {
            "F32" => Some(Dtype::F32),
            "F16" => Some(Dtype::F16),
            "BF16" => Some(Dtype::Bf16),
            _ => None,
        }
    }
}

/// One parameter's values, row-major, in the type they were stored in.
#[derive(Debug, Clone, PartialEq)]
pub enum Tensor {
    F32(Vec<f32>),
    F16(Vec<F16>),
    Bf16(Vec<Bf16>),
    /// Quantised rows. Its rows are the outputs of the layer: a linear layer's weight, whose
    /// layout shape is (in, out), is held (out, in) ([`QMatrix::transposed`]).
    Quant(QMatrix),
}

impl From<Vec<f32>> for Tensor {
    fn from(values: Vec<f32>) -> Tensor {
        Tensor::F32(values)
    }
}

impl Tensor {
    /// The values of little-endian `bytes` of `dtype` (a whole number of values: the caller
    /// checks the length against the shape).
    pub fn from_le_bytes(dtype: Dtype, bytes: &[u8]) -> Tensor {
        let u16s = || {
            bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        match dtype {
            Dtype::F32 => Tensor::F32(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            Dtype::F16 => Tensor::F16(u16s().map(F16).collect()),
            Dtype::Bf16 => Tensor::Bf16(u16s().map(Bf16).collect()),
            Dtype::Quant(_) => unreachable!("quantised blocks are read with their shape"),
        }
    }

    pub fn dtype(&self) -> Dtype {
        match self {
            Tensor::F32(_) => Dtype::F32,
            Tensor::F16(_) => Dtype::F16,
            Tensor::Bf16(_) => Dtype::Bf16,
            Tensor::Quant(q) => Dtype::Quant(q.qtype),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Tensor::F32(v) => v.len(),
            Tensor::F16(v) => v.len(),
            Tensor::Bf16(v) => v.len(),
            Tensor::Quant(q) => q.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes its values take in memory.
    pub fn bytes(&self) -> usize {
        match self {
            Tensor::Quant(q) => q.bytes(),
            _ => self.len() * self.dtype().width(),
        }
    }

    /// The index of the first value that is not finite, if any, and the value.
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        // ±∞ and NaN are the values whose exponent bits are all ones.
        match self {
            Tensor::F32(v) => first_all_ones(v, f32::to_bits, 0x7f80_0000).map(|i| (i, v[i])),
            Tensor::F16(v) => first_all_ones(v, |h| u32::from(h.0), 0x7c00)
                .map(|i| (i, crate::model::format::f16_bits_to_f32(v[i].0))),
            Tensor::Bf16(v) => {
                first_all_ones(v, |b| u32::from(b.0), 0x7f80).map(|i| (i, v[i].to_f32()))
            }
            Tensor::Quant(q) => q.first_non_finite(),
        }
    }

    /// The values in f32: borrowed if they are f32, widened otherwise.
    pub fn to_f32(&self) -> Cow<'_, [f32]> {
        fn widen<E: Element>(v: &[E]) -> Vec<f32> {
            v.iter().map(|e| e.to_f32()).collect()
        }
        match self {
            Tensor::F32(v) => Cow::Borrowed(v),
            Tensor::F16(v) => Cow::Owned(widen(v)),
            Tensor::Bf16(v) => Cow::Owned(widen(v)),
            Tensor::Quant(q) => Cow::Owned(q.to_layout_f32()),
        }
    }

    /// The values in f32, the tensor consumed.
    pub fn into_f32(self) -> Vec<f32> {
        match self {
            Tensor::F32(v) => v,
            other => other.to_f32().into_owned(),
        }
    }

    /// The values if they are held in f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self {
            Tensor::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The (cols, rows) transpose of this (rows, cols) matrix, in the same dtype.
    pub fn transposed(&self, rows: usize, cols: usize) -> Tensor {
        fn t<E: Element>(v: &[E], rows: usize, cols: usize) -> Vec<E> {
            let mut out = v.to_vec(); // every value is overwritten below
            transpose_into(v, rows, cols, &mut out);
            out
        }
        match self {
            Tensor::F32(v) => Tensor::F32(t(v, rows, cols)),
            Tensor::F16(v) => Tensor::F16(t(v, rows, cols)),
            Tensor::Bf16(v) => Tensor::Bf16(t(v, rows, cols)),
            Tensor::Quant(q) => Tensor::Quant(q.clone().with_transposed(!q.transposed)),
        }
    }
}

/// The index of the first value of `v` whose `bits` have every bit of `mask` set. Each block
/// is checked without a branch per value, so the scan of a 1 GB model's weights vectorises;
/// only a block that holds one is searched value by value.
fn first_all_ones<T: Copy>(v: &[T], bits: impl Fn(T) -> u32, mask: u32) -> Option<usize> {
    const BLOCK: usize = 4096;
    let hit = |x: T| bits(x) & mask == mask;
    v.chunks(BLOCK).enumerate().find_map(|(b, block)| {
        if !block.iter().fold(false, |any, &x| any | hit(x)) {
            return None;
        }
        block.iter().position(|&x| hit(x)).map(|i| b * BLOCK + i)
    })
}

/// `out` = the (cols, rows) transpose of the (rows, cols) matrix `v`, in tiles of 32 × 32 so
/// that both the rows read and the columns written stay in the cache: a value at a time down
/// each column, a 1 GB model's matrices took seconds to turn.
pub(crate) fn transpose_into<E: Copy>(v: &[E], rows: usize, cols: usize, out: &mut [E]) {
    const TILE: usize = 32;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                let row = &v[r * cols..][..cols];
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = row[c];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Widening is exact: bf16 is an f32's top half; f16 agrees with the reference conversion
    /// on every finite value.
    #[test]
    fn widening_is_exact() {
        assert_eq!(Bf16(0x3f80).to_f32(), 1.0);
        assert_eq!(Bf16(0xc040).to_f32(), -3.0);
        assert_eq!(Bf16(0x0001).to_f32(), f32::from_bits(0x0001_0000));
        for bits in 0..=u16::MAX {
            if bits & 0x7c00 != 0x7c00 {
                let want = crate::model::format::f16_bits_to_f32(bits);
                assert_eq!(F16(bits).to_f32().to_bits(), want.to_bits(), "{bits:#x}");
            }
        }
        let t = Tensor::from_le_bytes(Dtype::Bf16, &[0x80, 0x3f, 0x80, 0x7f]);
        assert_eq!(t.first_non_finite().map(|(i, _)| i), Some(1));
        assert_eq!(t.bytes(), 4);
        let m = Tensor::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            m.transposed(2, 3),
            Tensor::F32(vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0])
        );
    }

    /// The first value that is ±∞ or NaN is found in every dtype, wherever it is in its block
    /// (at a block's first and last value, in the last, short block), with its value; the
    /// largest finite values and subnormals are not taken for one.
    #[test]
    fn the_first_non_finite_value_is_found_in_any_block() {
        let n = 3 * 4096 + 17;
        for at in [0, 1, 4095, 4096, 8191, 12_288, n - 1] {
            for (bad, want) in [
                (f32::NAN, u32::MAX),
                (f32::INFINITY, 0),
                (f32::NEG_INFINITY, 1),
            ] {
                let mut v = vec![f32::MAX; n];
                v[1..]
                    .iter_mut()
                    .step_by(7)
                    .for_each(|x| *x = f32::MIN_POSITIVE / 2.0);
                v[at] = bad;
                v[n - 1 - (n - 1 - at) / 2] = f32::NAN; // a later one is not the first
                v[at] = bad;
                let check = |t: Tensor| {
                    let (i, x) = t.first_non_finite().expect("found");
                    assert_eq!(i, at, "{:?}", t.dtype());
                    match want {
                        u32::MAX => assert!(x.is_nan()),
                        0 => assert_eq!(x, f32::INFINITY),
                        _ => assert_eq!(x, f32::NEG_INFINITY),
                    }
                };
                check(Tensor::F32(v.clone()));
                let top = |x: f32| (x.to_bits() >> 16) as u16;
                check(Tensor::Bf16(v.iter().map(|&x| Bf16(top(x))).collect()));
                let half = |x: f32| match x {
                    x if x.is_nan() => 0x7e00,
                    f32::INFINITY => 0x7c00,
                    f32::NEG_INFINITY => 0xfc00,
                    f32::MAX => 0x7bff,
                    _ => 0x0001,
                };
                check(Tensor::F16(v.iter().map(|&x| F16(half(x))).collect()));
            }
        }
        let finite = vec![Bf16(0x7f7f); 5000];
        assert_eq!(Tensor::Bf16(finite).first_non_finite(), None);
        assert_eq!(Tensor::F32(vec![f32::MAX; 9000]).first_non_finite(), None);
        assert_eq!(Tensor::F16(vec![F16(0x7bff); 100]).first_non_finite(), None);
    }
}

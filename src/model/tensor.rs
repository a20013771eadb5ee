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

    /// The index of the first value that is not finite, if any.
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        fn find<E: Element>(v: &[E]) -> Option<(usize, f32)> {
            v.iter()
                .map(|e| e.to_f32())
                .enumerate()
                .find(|(_, x)| !x.is_finite())
        }
        match self {
            Tensor::F32(v) => find(v),
            Tensor::F16(v) => v
                .iter()
                .position(|h| h.0 & 0x7c00 == 0x7c00)
                .map(|i| (i, crate::model::format::f16_bits_to_f32(v[i].0))),
            Tensor::Bf16(v) => find(v),
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
}

//! f32 weights into llama.cpp's quantised blocks ([`crate::model::quant`] reads them): the
//! arithmetic of ggml's reference quantisers, `quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`
//! and `quantize_row_q4_K_ref` (what `llama-quantize` runs without an importance matrix), so a
//! model quantised here holds the very bytes llama.cpp would write.
//!
//! - Q8_0, per block of 32 values x: d = max|x| / 127, q = round(x / d) (half away from 0);
//! - Q4_0, per block of 32: m = the value of largest |x|, d = m / −8,
//!   q = min(15, trunc(x / d + 8.5)), so value ≈ d · (q − 8);
//! - Q4_K, per block of 256 cut into 8 groups of 32: each group gets a scale s_j and a minimum
//!   m_j fitted by weighted least squares over 21 trial scales (`make_qkx2_quants`, weights
//!   √mean(x²) + |x|), both then rounded to 6 bits against the block's largest, d and dmin in
//!   f16; q = clamp(round((x + dmin·m_j) / (d·s_j)), 0, 15), so value ≈ d·s_j·q − dmin·m_j.
//!
//! Every step runs in f32 in ggml's order, and rounding to nearest is ggml's `nearest_int`
//! (half to even), so the bytes match llama.cpp's (`tests/gguf.rs` compares them with ggml's
//! own output).
//!
//! [`Net::quantized`] applies one type to every weight matrix of a model (as `llama-quantize
//! --pure`): each matrix whose rows divide into its blocks; the others, a learned position
//! embedding (GPT-2's, which llama.cpp keeps), and the vectors, stay as they were.

use crate::error::{brief, Code, Error, Result};
use crate::limits::{size_name, MAX_QUANTIZED_PAIR_BYTES};
use crate::model::layout::Param;
use crate::model::quant::{QMatrix, QType};
use crate::model::tensor::Tensor;
use crate::model::Net;

/// The types a model can be quantised to, as errors list them.
pub const QUANTIZE_TYPES: [QType; 3] = [QType::Q8_0, QType::Q4_0, QType::Q4K];

/// The f16 bits of x, rounded to nearest even (ggml's `GGML_FP32_TO_FP16`).
fn f16_bits(x: f32) -> [u8; 2] {
    half::f16::from_f32(x).to_le_bytes()
}

/// The f32 value of f16 bits.
fn f16_value(b: [u8; 2]) -> f32 {
    half::f16::from_le_bytes(b).to_f32()
}

/// ggml's `nearest_int`: x + 1.5·2^23 puts round(x) (half to even) in the low mantissa bits.
/// For |x| ≤ 2^22 that is round-half-even; beyond, it is what ggml computes, kept so that the
/// bytes agree even there.
#[inline(always)]
fn nearest_int(x: f32) -> i32 {
    let bits = (x + 12_582_912.0).to_bits() as i32;
    (bits & 0x007f_ffff) - 0x0040_0000
}

/// One block of 32 values in Q8_0 (34 bytes: d in f16, 32 i8).
fn q8_0_block(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16_bits(d));
    out.extend(x.iter().map(|&v| ((v * id).round() as i8) as u8));
}

/// One block of 32 values in Q4_0 (18 bytes: d in f16, 16 bytes of nibble pairs: value j in
/// the low nibble of byte j, value j + 16 in its high nibble).
fn q4_0_block(x: &[f32], out: &mut Vec<u8>) {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16_bits(d));
    // (x/d + 8.5) lies in [0.5, 16.5]: C's (int8_t) cast truncates it, as `as i8` does.
    let nibble = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
    for j in 0..16 {
        out.push(nibble(x[j]) | (nibble(x[16 + j]) << 4));
    }
}

/// ggml's `make_qkx2_quants` for one group: the levels L (in [0, nmax]) and the (scale, −min)
/// of value ≈ scale · L + min, min ≤ 0, fitted by weighted least squares over `nstep + 1` trial
/// scales (1 / scale = (nmax + rmin + rdelta · is) / (max − min)), keeping the first trial that
/// lowers the weighted squared error.
fn qkx2(
    nmax: i32,
    x: &[f32],
    weights: &[f32],
    levels: &mut [u8],
    rmin: f32,
    rdelta: f32,
    nstep: i32,
) -> (f32, f32) {
    let n = x.len();
    let (mut min, mut max) = (x[0], x[0]);
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for i in 1..n {
        if x[i] < min {
            min = x[i];
        }
        if x[i] > max {
            max = x[i];
        }
        let w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        levels.fill(0);
        return (0.0, -min);
    }
    // `min` is the best fit's so far: once a trial wins, ggml's later trials (and their
    // 1 / scale) measure from its min, not from the data's.
    let level = |iscale: f32, min: f32, v: f32| nearest_int(iscale * (v - min)).clamp(0, nmax);
    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0f32;
    for i in 0..n {
        let l = level(iscale, min, x[i]);
        levels[i] = l as u8;
        let diff = scale * l as f32 + min - x[i];
        best_error += weights[i] * (diff * diff);
    }
    let mut aux = [0u8; 32];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nmax as f32) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0f32, 0f32, 0f32);
        for i in 0..n {
            let l = level(iscale, min, x[i]);
            aux[i] = l as u8;
            let (w, lf) = (weights[i], l as f32);
            sum_l += w * lf;
            sum_l2 += w * lf * lf;
            sum_xl += w * lf * x[i];
        }
        let big_d = sum_w * sum_l2 - sum_l * sum_l;
        if big_d > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / big_d;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / big_d;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0f32;
            for i in 0..n {
                let diff = this_scale * aux[i] as f32 + this_min - x[i];
                cur_error += weights[i] * (diff * diff);
            }
            if cur_error < best_error {
                levels[..n].copy_from_slice(&aux[..n]);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// One block of 256 values in Q4_K (144 bytes: d and dmin in f16, 12 bytes of 6-bit scales
/// and minima, 128 bytes of nibbles: in each 64 values, value l in the low nibble of byte l
/// and value l + 32 in its high nibble).
fn q4_k_block(x: &[f32], out: &mut Vec<u8>) {
    let mut levels = [0u8; 256];
    let (mut scales, mut mins) = ([0f32; 8], [0f32; 8]);
    let (mut max_scale, mut max_min) = (0f32, 0f32);
    for j in 0..8 {
        let group = &x[32 * j..32 * (j + 1)];
        let sum_x2 = group.iter().fold(0f32, |s, &v| s + v * v);
        let av_x = (sum_x2 / 32.0).sqrt();
        let mut weights = [0f32; 32];
        for (w, &v) in weights.iter_mut().zip(group) {
            *w = av_x + v.abs();
        }
        let (s, m) = qkx2(
            15,
            group,
            &weights,
            &mut levels[32 * j..32 * (j + 1)],
            -1.0,
            0.1,
            20,
        );
        scales[j] = s;
        mins[j] = m;
        if s > max_scale {
            max_scale = s;
        }
        if m > max_min {
            max_min = m;
        }
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let mut packed = [0u8; 12];
    for j in 0..8 {
        let ls = nearest_int(inv_scale * scales[j]).min(63) as u8;
        let lm = nearest_int(inv_min * mins[j]).min(63) as u8;
        if j < 4 {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
            packed[j - 4] |= (ls >> 4) << 6;
            packed[j] |= (lm >> 4) << 6;
        }
    }
    let (d_bits, dmin_bits) = (f16_bits(max_scale / 63.0), f16_bits(max_min / 63.0));
    let (d_all, dmin_all) = (f16_value(d_bits), f16_value(dmin_bits));
    for j in 0..8 {
        let (sc, m) = if j < 4 {
            (packed[j] & 63, packed[j + 4] & 63)
        } else {
            (
                (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4),
                (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4),
            )
        };
        let d = d_all * sc as f32;
        if d == 0.0 {
            // ggml keeps the group's levels from the fit.
            continue;
        }
        let dm = dmin_all * m as f32;
        for i in 32 * j..32 * (j + 1) {
            levels[i] = nearest_int((x[i] + dm) / d).clamp(0, 15) as u8;
        }
    }
    out.extend_from_slice(&d_bits);
    out.extend_from_slice(&dmin_bits);
    out.extend_from_slice(&packed);
    for chunk in levels.chunks_exact(64) {
        out.extend((0..32).map(|l| chunk[l] | (chunk[l + 32] << 4)));
    }
}

/// `x`, a whole number of `qtype`'s blocks, as those blocks' bytes: what ggml's
/// `quantize_row_*_ref` writes: Q8_0, Q4_0 and Q4_K. Q5_0 and Q6_K are read from GGUF files
/// but not offered here (llama.cpp's Q4_K_M mix holds them).
pub fn quantize_row(qtype: QType, x: &[f32]) -> Result<Vec<u8>> {
    let per = qtype.block_values();
    if !x.len().is_multiple_of(per) {
        return Err(Error::arg(
            "values",
            &format!("a multiple of {per} values for {}", qtype.name()),
            x.len(),
        ));
    }
    let block: fn(&[f32], &mut Vec<u8>) = match qtype {
        QType::Q8_0 => q8_0_block,
        QType::Q4_0 => q4_0_block,
        QType::Q4K => q4_k_block,
        QType::Q5_0 | QType::Q6K => return Err(unsupported(qtype.name())),
    };
    let mut out = Vec::with_capacity(x.len() / per * qtype.block_bytes());
    for b in x.chunks_exact(per) {
        block(b, &mut out);
    }
    Ok(out)
}

/// The error for a type name the quantiser does not write.
fn unsupported(name: &str) -> Error {
    let supported: Vec<&str> = QUANTIZE_TYPES.iter().map(|q| q.name()).collect();
    Error::arg(
        "type",
        &format!("one of {}", supported.join(", ")),
        format!("{:?}", brief(&name)),
    )
}

/// The type `name` names (`"q8_0"`, `"q4_0"`, `"q4_K"`), or an error listing them.
pub fn quantize_type(name: &str) -> Result<QType> {
    QUANTIZE_TYPES
        .into_iter()
        .find(|q| q.name() == name)
        .ok_or_else(|| unsupported(name))
}

/// How a parameter of rank ≥ 2 is quantised: its (rows, cols) as llama.cpp stores it (rows =
/// outputs; a linear layer's layout shape (in, out) is held transposed), or `None` if its rows
/// do not divide into `qtype`'s blocks and it stays as it is.
fn plan(shape: &[usize], linear: bool, qtype: QType) -> Option<(usize, usize)> {
    let &[a, b] = shape else { return None };
    let (rows, cols) = if linear { (b, a) } else { (a, b) };
    cols.is_multiple_of(qtype.block_values())
        .then_some((rows, cols))
}

/// Why a parameter stays as it is, or `None` when it is quantised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// A vector (a gain or a bias).
    Vector,
    /// Quantised already.
    Already,
    /// A learned position embedding: llama.cpp's quantiser keeps it ("do not quantize
    /// positional embeddings").
    Position,
    /// Its rows do not divide into the blocks.
    Undivided,
}

/// Whether `t`, held for `param`, is quantised to `qtype` (its (rows, cols) as llama.cpp
/// stores it), or why it stays.
fn decide(param: &Param, t: &Tensor, qtype: QType) -> std::result::Result<(usize, usize), Kept> {
    if param.shape.len() < 2 {
        return Err(Kept::Vector);
    }
    if let Tensor::Quant(_) = t {
        return Err(Kept::Already);
    }
    if param.is_position_embedding() {
        return Err(Kept::Position);
    }
    plan(&param.shape, param.linear, qtype).ok_or(Kept::Undivided)
}

/// The bytes a matrix of `rows` rows of `cols` values takes in `qtype`.
fn quantized_bytes(rows: usize, cols: usize, qtype: QType) -> usize {
    rows * (cols / qtype.block_values()) * qtype.block_bytes()
}

/// What quantising a model takes, known before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantizePlan {
    /// The quantised model's weights, in bytes (its matrices in blocks, the rest as held).
    pub weight_bytes: usize,
    /// The most bytes one matrix takes while it is quantised: its values in f32 (and, for a
    /// 16-bit linear layer, its turned copy before them).
    pub scratch_bytes: usize,
    /// How many matrices become blocks, and how many stay: `kept`, of which
    /// `already_quantized` are quantised already, `position_embeddings` are a learned position
    /// embedding (GPT-2's `wpe`, which llama.cpp keeps in f32), and the others have rows that
    /// do not divide into the blocks.
    pub quantized: usize,
    pub kept: usize,
    pub already_quantized: usize,
    pub position_embeddings: usize,
}

impl QuantizePlan {
    /// The matrices that stay because their rows do not divide into the blocks.
    pub fn undivided(&self) -> usize {
        self.kept - self.already_quantized - self.position_embeddings
    }

    /// The memory the quantised copy needs besides the original's: its weights and the
    /// scratch.
    pub fn needed_bytes(&self) -> usize {
        self.weight_bytes + self.scratch_bytes
    }
}

impl Net {
    /// What [`Net::quantized`] would take, or the error it would give: a pair of models whose
    /// weights would pass [`MAX_QUANTIZED_PAIR_BYTES`] is refused.
    pub fn quantize_plan(&self, qtype: QType) -> Result<QuantizePlan> {
        if !QUANTIZE_TYPES.contains(&qtype) {
            return Err(unsupported(qtype.name()));
        }
        let layout = self.config().layout();
        let tensors = self.held_tensors();
        let mut p = QuantizePlan {
            weight_bytes: 0,
            scratch_bytes: 0,
            quantized: 0,
            kept: 0,
            already_quantized: 0,
            position_embeddings: 0,
        };
        for (param, t) in layout.iter().zip(&tensors) {
            match decide(param, t, qtype) {
                Ok((rows, cols)) => {
                    p.weight_bytes += quantized_bytes(rows, cols, qtype);
                    // The values in f32, and before them a 16-bit linear layer's turned copy.
                    let turned = match t {
                        Tensor::F32(_) => 0,
                        _ if param.linear => t.bytes(),
                        _ => 0,
                    };
                    p.scratch_bytes = p.scratch_bytes.max(4 * rows * cols + turned);
                    p.quantized += 1;
                }
                Err(why) => {
                    p.weight_bytes += t.bytes();
                    p.kept += usize::from(why != Kept::Vector);
                    p.already_quantized += usize::from(why == Kept::Already);
                    p.position_embeddings += usize::from(why == Kept::Position);
                }
            }
        }
        let pair = self.weight_bytes() as u64 + p.needed_bytes() as u64;
        if pair > MAX_QUANTIZED_PAIR_BYTES as u64 {
            return Err(Error::new(format!(
                "model.quantize: the model ({} bytes of weights) and its {} copy ({} bytes, and \
                 {} while a matrix is quantised) would take {pair} bytes; at most \
                 {MAX_QUANTIZED_PAIR_BYTES} ({}) are accepted",
                self.weight_bytes(),
                qtype.name(),
                p.weight_bytes,
                p.scratch_bytes,
                size_name(MAX_QUANTIZED_PAIR_BYTES)
            ))
            .coded(
                Code::QuantizeTooLarge,
                [
                    ("bytes", pair.to_string().into()),
                    ("max", size_name(MAX_QUANTIZED_PAIR_BYTES).into()),
                ],
            ));
        }
        Ok(p)
    }

    /// A copy of this model with every weight matrix whose rows divide into `qtype`'s blocks
    /// quantised by llama.cpp's reference quantiser (as `llama-quantize --pure` without an
    /// importance matrix); the other matrices (already quantised, of rows that do not divide,
    /// or a position embedding), the vectors, the tokenizer, the end ids and the chat template
    /// are the original's. Checked first by [`Net::quantize_plan`].
    pub fn quantized(&self, qtype: QType) -> Result<Net> {
        self.quantize_plan(qtype)?;
        let layout = self.config().layout();
        let tensors = self.held_tensors();
        let mut out = Vec::with_capacity(tensors.len());
        for (param, t) in layout.iter().zip(tensors) {
            let Ok((rows, cols)) = decide(param, t, qtype) else {
                out.push(t.clone());
                continue;
            };
            // The rows llama.cpp quantises are the layer's outputs: a linear layer's (in, out)
            // layout is turned to (out, in) first.
            let values = if param.linear {
                t.transposed(cols, rows).into_f32()
            } else {
                t.to_f32().into_owned()
            };
            let blocks = quantize_row(qtype, &values)?;
            drop(values);
            let m = QMatrix::new(qtype, rows, cols, blocks)?.with_transposed(param.linear);
            out.push(Tensor::Quant(m));
        }
        self.with_tensors(out)
    }
}

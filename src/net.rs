//! The trained network as plain f32 arrays: checkpoint I/O, and the forward pass the page runs
//! to generate text and fill the next-token panel.
//!
//! It is the same GPT as [`crate::model::Gpt`], computed with plain loops instead of candle
//! tensors:
//!
//! ```text
//! ids ─► wte[ids] + wpe[pos] ─► N × Block ─► ln_f ─► z = x · wteᵀ ─► OutputMode
//!                               Block: x += attn(ln_1(x)); x += mlp(ln_2(x))
//! ```
//!
//! Why two forward passes. Training needs candle's autograd, so [`Gpt`] stays the model that
//! learns. But candle's CPU kernels are generic over every dtype, and in wasm each of them is one
//! function of up to 178 KB, which V8 compiles when it is first called and again when it gets
//! hot. In the page, on a 2-core laptop, that compile work held back the first generated token
//! by hundreds of milliseconds. The loops below are a handful of small functions that LLVM
//! vectorises to simd128. `tests/model.rs` checks that both passes agree, on random models and
//! on the shipped checkpoint.
//!
//! Rounding: every sum is taken in a fixed order, with no fused multiply-add, so the values do
//! not depend on how a row was fed (prefill or one token at a time) nor, apart from `exp`, on
//! the platform.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::limits::MAX_CHECKPOINT_BYTES;
use crate::model::{
    check_finite, gelu_scalar, Config, LayerNorm, Linear, OutputMode, Param, Vocab, Weights,
    FORMAT, LN_EPS, METADATA_KEY,
};
use crate::numerics;

/// The network: config, vocabulary and weights. Cloning is cheap: the weights are shared.
#[derive(Debug, Clone)]
pub struct Net {
    config: Config,
    vocab: Vocab,
    weights: Arc<Weights<Vec<f32>>>,
    /// The tied head wteᵀ, (C, V): transposed once so that z = x · wteᵀ is a plain [`matmul`].
    head: Arc<Vec<f32>>,
}

/// The keys and values of the positions fed so far, so that each new token costs one row of
/// work instead of a full recomputation. Per layer, (len, C) each, one row per position.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of positions cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        for k in self.keys.iter_mut().chain(self.values.iter_mut()) {
            k.clear();
        }
        self.len = 0;
    }
}

impl Net {
    /// Assembles the network from one row-major array per parameter, in [`Config::layout`]
    /// order, each with as many values as its shape needs.
    pub fn from_layout(config: Config, vocab: Vocab, tensors: Vec<Vec<f32>>) -> Result<Net> {
        config.validate()?;
        vocab.check_size(&config)?;
        let layout = config.layout();
        if tensors.len() != layout.len() {
            return Err(Error::new(format!(
                "{} tensors, the config needs {}",
                tensors.len(),
                layout.len()
            )));
        }
        for (p, values) in layout.iter().zip(&tensors) {
            if values.len() != p.elem_count() {
                return Err(Error::new(format!(
                    "tensor {:?} has {} values, its shape {:?} needs {}",
                    p.name,
                    values.len(),
                    p.shape,
                    p.elem_count()
                )));
            }
        }
        let weights = Weights::from_layout_order(config.layers, tensors);
        let (v, c) = (config.vocab_size, config.embd);
        let mut head = vec![0.0; c * v];
        for (t, row) in weights.wte.chunks_exact(c).enumerate() {
            for (j, &w) in row.iter().enumerate() {
                head[j * v + t] = w;
            }
        }
        Ok(Net {
            config,
            vocab,
            weights: Arc::new(weights),
            head: Arc::new(head),
        })
    }

    /// Every parameter's values, in [`Config::layout`] order.
    pub fn tensors(&self) -> Vec<&[f32]> {
        self.weights.flatten().into_iter().map(|v| &v[..]).collect()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.vocab.encode(text)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.vocab.decode(ids)
    }

    /// Feeds `ids` after the `cache.len()` tokens already cached and returns their values,
    /// (T, V) row-major, per `mode`. Fails, leaving the cache as it was, if an id is ≥ V or the
    /// total would exceed the context.
    pub fn forward_cached(
        &self,
        cache: &mut KvCache,
        ids: &[u32],
        mode: OutputMode,
    ) -> Result<Vec<f32>> {
        let Config {
            vocab_size: v,
            context_length,
            heads,
            embd: c,
            ..
        } = self.config;
        if ids.is_empty() {
            return Err(Error::arg("ids", "a non-empty sequence of token ids", "[]"));
        }
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= v) {
            return Err(Error::arg("ids", &format!("token ids in [0, {v})"), bad));
        }
        let pos0 = cache.len;
        if pos0 + ids.len() > context_length {
            return Err(Error::arg(
                "ids",
                &format!("at most contextLength = {context_length} positions"),
                pos0 + ids.len(),
            ));
        }
        let w = &*self.weights;
        cache.keys.resize_with(w.h.len(), Vec::new);
        cache.values.resize_with(w.h.len(), Vec::new);

        // x = wte[ids] + wpe[positions]: (T, C)
        let mut x = Vec::with_capacity(ids.len() * c);
        for (i, &id) in ids.iter().enumerate() {
            let tok = &w.wte[id as usize * c..][..c];
            let pos = &w.wpe[(pos0 + i) * c..][..c];
            x.extend(tok.iter().zip(pos).map(|(a, b)| a + b));
        }
        for (l, block) in w.h.iter().enumerate() {
            // x += attn(ln_1(x))
            let qkv = block.attn.c_attn.forward(&layer_norm(&x, &block.ln_1));
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            debug_assert_eq!(keys.len(), pos0 * c, "one cached row per position");
            for row in qkv.chunks_exact(3 * c) {
                keys.extend_from_slice(&row[c..2 * c]);
                values.extend_from_slice(&row[2 * c..]);
            }
            let y = attention(&qkv, keys, values, pos0, heads, c);
            add(&mut x, &block.attn.c_proj.forward(&y));
            // x += mlp(ln_2(x))
            let mut h = block.mlp.c_fc.forward(&layer_norm(&x, &block.ln_2));
            for a in &mut h {
                *a = gelu_scalar(*a);
            }
            add(&mut x, &block.mlp.c_proj.forward(&h));
        }
        cache.len = pos0 + ids.len();
        // Tied head: z = ln_f(x) · wteᵀ
        let z = check_finite(matmul(&layer_norm(&x, &w.ln_f), &self.head, v))?;
        match mode {
            OutputMode::Logits => Ok(z),
            OutputMode::LogSoftmax => {
                let mut out = Vec::with_capacity(z.len());
                for row in z.chunks_exact(v) {
                    out.extend(numerics::log_softmax(row)?);
                }
                Ok(out)
            }
        }
    }

    /// All positions of one sequence: ids (1 ≤ T ≤ context_length) → (T, V) values per `mode`.
    pub fn forward_ids(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        self.forward_cached(&mut KvCache::new(), ids, mode)
    }

    /// The next-token values (length V) after the last of `ids`. Longer inputs than the context
    /// are cropped to their last `context_length` ids, as nanoGPT does.
    pub fn next_token_values(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        let ids = &ids[ids.len().saturating_sub(self.config.context_length)..];
        let mut all = self.forward_ids(ids, mode)?;
        Ok(all.split_off(all.len() - self.config.vocab_size))
    }

    /// The checkpoint: safetensors, weights in f16, config and vocabulary in the metadata.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let tensors = self.config.layout().into_iter().zip(self.tensors());
        write_checkpoint(&self.config, &self.vocab, tensors)
    }

    /// Loads a checkpoint written by [`Net::to_safetensors`] from bytes. Anything else (not
    /// safetensors, truncated, wrong shapes, missing metadata, a NaN or ±∞ weight, more than
    /// [`MAX_CHECKPOINT_BYTES`]) is an error that says what.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Net> {
        let (config, vocab, tensors) = read_checkpoint(bytes)?;
        Net::from_layout(config, vocab, tensors)
    }
}

/// The checkpoint of a model: safetensors, `tensors` (each parameter with its values) in f16,
/// config and vocabulary in the metadata.
pub(crate) fn write_checkpoint<'a>(
    config: &Config,
    vocab: &Vocab,
    tensors: impl IntoIterator<Item = (Param, &'a [f32])>,
) -> Result<Vec<u8>> {
    let tensors: Vec<(Param, Vec<u8>)> = tensors
        .into_iter()
        .map(|(p, values)| {
            let bytes = values
                .iter()
                .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                .collect();
            (p, bytes)
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(Param { name, shape, .. }, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), b)
                .map(|view| (name.clone(), view))
                .map_err(|e| Error::new(format!("checkpoint: tensor {name:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    // One metadata key holding a JSON record: safetensors writes its metadata map in hash
    // order, so several keys would make the same model serialise to different bytes.
    let record = serde_json::json!({
        "format": FORMAT,
        "vocab_size": config.vocab_size,
        "context_length": config.context_length,
        "layers": config.layers,
        "heads": config.heads,
        "embd": config.embd,
        "vocab": vocab.chars().iter().collect::<String>(),
    });
    let metadata = HashMap::from([(METADATA_KEY.to_string(), record.to_string())]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::new(format!("checkpoint: cannot serialise: {e}")))
}

/// Reads a checkpoint written by [`write_checkpoint`]: its config, its vocabulary and one
/// array per parameter, in [`Config::layout`] order.
pub(crate) fn read_checkpoint(bytes: &[u8]) -> Result<(Config, Vocab, Vec<Vec<f32>>)> {
    let bad = |what: String| Error::new(format!("checkpoint: {what}"));
    if bytes.len() > MAX_CHECKPOINT_BYTES {
        return Err(bad(format!(
            "{} bytes; at most {MAX_CHECKPOINT_BYTES} (64 MiB) are accepted",
            bytes.len()
        )));
    }
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
        bad(format!(
            "not a valid safetensors file ({} bytes): {e}",
            bytes.len()
        ))
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("unreadable header: {e}")))?;
    let record = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(|| {
            bad(format!(
                "no {METADATA_KEY:?} metadata: not a logitlab model"
            ))
        })?;
    let record: serde_json::Value = serde_json::from_str(record)
        .map_err(|e| bad(format!("metadata {METADATA_KEY:?} is not JSON: {e}")))?;
    let field = |key: &str| -> Result<&serde_json::Value> {
        record
            .get(key)
            .ok_or_else(|| bad(format!("metadata lacks {key:?}: not a logitlab model")))
    };
    let format = field("format")?.as_str().unwrap_or_default();
    if format != FORMAT {
        return Err(bad(format!("format is {format:?}, expected {FORMAT:?}")));
    }
    let number = |key: &str| -> Result<usize> {
        let v = field(key)?;
        v.as_u64().map(|n| n as usize).ok_or_else(|| {
            bad(format!(
                "metadata {key:?} = {v} is not a non-negative integer"
            ))
        })
    };
    let config = Config {
        vocab_size: number("vocab_size")?,
        context_length: number("context_length")?,
        layers: number("layers")?,
        heads: number("heads")?,
        embd: number("embd")?,
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    let vocab = field("vocab")?
        .as_str()
        .ok_or_else(|| bad("metadata \"vocab\" is not a string".into()))?;
    let vocab = Vocab::from_chars(vocab.chars().collect())
        .map_err(|e| bad(format!("metadata \"vocab\": {e}")))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            safetensors::Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            other => {
                return Err(bad(format!(
                    "tensor {name:?} has dtype {other:?}, expected F16 or F32"
                )))
            }
        };
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(bad(format!(
                "tensor {name:?} holds {} at index {i}; weights must be finite",
                values[i]
            )));
        }
        tensors.insert(name, (view.shape().to_vec(), values));
    }
    vocab.check_size(&config)?;
    // The config's parameters, in layout order; any other tensor is ignored.
    let tensors = config
        .layout()
        .iter()
        .map(|p| {
            let (shape, values) = tensors.remove(&p.name).ok_or_else(|| p.missing())?;
            p.check_shape(&shape)?;
            Ok(values)
        })
        .collect::<Result<_>>()?;
    Ok((config, vocab, tensors))
}

/// The f32 value of the float16 with bits `h`, exactly (every float16 is an f32). Without
/// branches on the common path, so that converting a checkpoint's ~1M weights is a vectorised
/// loop rather than a call per weight (it was a third of the page's model load).
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let em = u32::from(h & 0x7fff); // exponent and mantissa
    let magnitude = if em >= 0x7c00 {
        // All exponent bits set: ±∞ or NaN, kept as such.
        f32::from_bits(0x7f80_0000 | (em & 0x3ff) << 13)
    } else {
        // Shifted into f32's fields the exponent is off by 127 − 15; multiplying by 2^112
        // corrects it, exactly, for normal and subnormal float16 alike.
        f32::from_bits(em << 13) * f32::from_bits(0x7780_0000)
    };
    f32::from_bits(magnitude.to_bits() | sign)
}

/// Adds `b` to `a`, elementwise (the residual connections).
fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// LayerNorm of each row of C values, as the candle model computes it: mean, centred
/// variance, then (x − mean) / sqrt(var + ε) · γ + β.
fn layer_norm(x: &[f32], ln: &LayerNorm<Vec<f32>>) -> Vec<f32> {
    let c = ln.weight.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        let mean = row.iter().sum::<f32>() / c as f32;
        let var = row.iter().map(|&a| (a - mean) * (a - mean)).sum::<f32>() / c as f32;
        let std = (var + LN_EPS as f32).sqrt();
        out.extend(
            row.iter()
                .zip(&ln.weight)
                .zip(&ln.bias)
                .map(|((&a, &g), &b)| (a - mean) / std * g + b),
        );
    }
    out
}

impl Linear<Vec<f32>> {
    /// y = x · W + b for every row of x: (rows, in) → (rows, out).
    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let mut y = matmul(x, &self.weight, self.bias.len());
        for row in y.chunks_exact_mut(self.bias.len()) {
            add(row, &self.bias);
        }
        y
    }
}

/// y = x · W for every row of x: (rows, in) → (rows, n_out), with W stored (in, n_out).
///
/// Each y_j is the sum x_0·W_0j + x_1·W_1j + … taken in that order. The inner loops run along a
/// row of W, over j, which LLVM vectorises without reordering any sum; four rows of W per pass
/// keep the partial sums in registers.
fn matmul(x: &[f32], weight: &[f32], n_out: usize) -> Vec<f32> {
    let n_in = weight.len() / n_out;
    let mut y = vec![0.0; x.len() / n_in * n_out];
    let whole = n_in / 4 * 4; // inputs taken four at a time; the rest one by one
    for (x_row, y_row) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
        for (x4, w4) in x_row.chunks_exact(4).zip(weight.chunks_exact(4 * n_out)) {
            let (w0, rest) = w4.split_at(n_out);
            let (w1, rest) = rest.split_at(n_out);
            let (w2, w3) = rest.split_at(n_out);
            for ((((y, &a), &b), &c), &d) in y_row.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
                let mut s = *y;
                s += x4[0] * a;
                s += x4[1] * b;
                s += x4[2] * c;
                s += x4[3] * d;
                *y = s;
            }
        }
        let rest = weight[whole * n_out..].chunks_exact(n_out);
        for (&xk, w) in x_row[whole..].iter().zip(rest) {
            for (y, &wk) in y_row.iter_mut().zip(w) {
                *y += xk * wk;
            }
        }
    }
    y
}

/// Causal self-attention for the T query rows of `qkv` (T, 3C) at positions pos0.., against the
/// cached keys and values of positions 0..=pos0 + t (the rows just appended included).
/// Returns (T, C): the heads' outputs side by side.
fn attention(
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
    let mut y = vec![0.0; qkv.len() / 3];
    let mut att = Vec::with_capacity(pos0 + qkv.len() / (3 * c));
    for (t, (row, y_row)) in qkv
        .chunks_exact(3 * c)
        .zip(y.chunks_exact_mut(c))
        .enumerate()
    {
        let seen = pos0 + t + 1; // query at position pos0 + t sees keys 0..=pos0 + t
        for h in 0..heads {
            let q = &row[h * hd..][..hd];
            // att = softmax(q · kᵀ / √hd) over the positions seen
            att.clear();
            att.extend(keys.chunks_exact(c).take(seen).map(|k| {
                q.iter()
                    .zip(&k[h * hd..][..hd])
                    .map(|(a, b)| a * b)
                    .sum::<f32>()
                    * scale
            }));
            let max = att.iter().fold(f32::NEG_INFINITY, |m, &a| m.max(a));
            for a in &mut att {
                *a = (*a - max).exp();
            }
            let sum: f32 = att.iter().sum();
            let out = &mut y_row[h * hd..][..hd];
            // y = att · v
            for (&a, v) in att.iter().zip(values.chunks_exact(c)) {
                let a = a / sum;
                for (o, &vi) in out.iter_mut().zip(&v[h * hd..][..hd]) {
                    *o += a * vi;
                }
            }
        }
    }
    y
}

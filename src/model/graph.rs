//! The GPT of [`crate::model`] as a candle graph, so that it trains (autograd), natively and in
//! the browser's training view. Only built with the `train` feature: the page's sampling lab
//! runs the same network as plain arrays ([`crate::model::net`]) and ships without candle.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};

use crate::error::{Error, Result};
use crate::model::format::logitlab;
use crate::model::kernels::{check_finite, gelu_derivative_scalar, gelu_scalar};
use crate::model::layout::{Attention, Block, LayerNorm, Linear, Mlp, Weights};
use crate::model::{Arch, Config, Net, OutputMode, Tokenizer};
use crate::rng::Rng;

/// Maps logits z (last dim = V) to `mode`'s output.
fn apply_mode(mode: OutputMode, logits: Tensor) -> Result<Tensor> {
    Ok(match mode {
        OutputMode::Logits => logits,
        OutputMode::LogSoftmax => candle_nn::ops::log_softmax(&logits, D::Minus1)?,
    })
}

/// LayerNorm written from tensor ops: candle's fused `layer_norm` has no backward.
impl LayerNorm<Tensor> {
    /// y = (x − mean(x)) / sqrt(var(x) + ε) · γ + β over the last dim.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let x_hat = xc.broadcast_div(&(var + Arch::LAB.layer_norm_eps)?.sqrt()?)?;
        Ok(x_hat
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)?)
    }
}

impl Linear<Tensor> {
    /// y = x · W + b, with W stored as (in, out).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut dims = x.dims().to_vec();
        let c_in = dims.pop().unwrap_or(1);
        let rows = x.elem_count() / c_in.max(1);
        let y = x
            .reshape((rows, c_in))?
            .matmul(&self.weight)?
            .broadcast_add(&self.bias)?;
        dims.push(self.weight.dim(1)?);
        Ok(y.reshape(dims)?)
    }
}

/// Causal multi-head self-attention.
impl Attention<Tensor> {
    /// x: (B, T, C) for the T tokens at positions 0..T.
    fn forward(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let hd = c / heads;
        let qkv = self.c_attn.forward(x)?;
        // (B, T, C) → (B, H, T, hd)
        let split = |i: usize| -> Result<Tensor> {
            Ok(qkv
                .narrow(2, i * c, c)?
                .reshape((b, t, heads, hd))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let (q, k, v) = (split(0)?, split(1)?, split(2)?);
        // att = softmax(q kᵀ / √hd + mask): each query sees its own and earlier positions.
        let mut att = (q.matmul(&k.t()?)? * (1.0 / (hd as f64).sqrt()))?;
        if t > 1 {
            att = att.broadcast_add(&causal_mask(t, x.device())?)?;
        }
        let att = softmax_last_dim(&att)?;
        let y = att.matmul(&v)?; // (B, H, T, hd)
        let y = y.transpose(1, 2)?.reshape((b, t, c))?;
        self.c_proj.forward(&y)
    }
}

/// (T, T) additive mask: 0 where key j may be seen by query i (j ≤ i), −∞ elsewhere.
fn causal_mask(t: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j <= i { 0.0 } else { f32::NEG_INFINITY }))
        .collect();
    Ok(Tensor::from_vec(mask, (t, t), device)?)
}

/// The position-wise MLP: Linear(C, 4C) → GELU → Linear(4C, C).
impl Mlp<Tensor> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.c_proj.forward(&gelu(&self.c_fc.forward(x)?)?)
    }
}

/// GELU, tanh approximation (GPT-2's):
/// gelu(x) = ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
///
/// A fused custom op with its own backward: candle's `gelu`/`gelu_erf` build their derivative
/// from half a dozen tensor ops, which made the MLP the slowest part of a training step.
fn gelu(x: &Tensor) -> Result<Tensor> {
    Ok(x.contiguous()?.apply_op1(GeluOp)?)
}

/// Applies `f` elementwise to a contiguous f32 CPU tensor.
fn map_f32(
    storage: &candle_core::CpuStorage,
    layout: &candle_core::Layout,
    f: fn(f32) -> f32,
) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("gelu: input must be contiguous".into()))?;
    let data = match storage {
        candle_core::CpuStorage::F32(v) => &v[start..end],
        _ => return Err(candle_core::Error::Msg("gelu: input must be f32".into())),
    };
    let out: Vec<f32> = data.iter().map(|&x| f(x)).collect();
    Ok((candle_core::CpuStorage::F32(out), layout.shape().clone()))
}

struct GeluOp;

impl candle_core::CustomOp1 for GeluOp {
    fn name(&self) -> &'static str {
        "gelu-tanh"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        map_f32(storage, layout, gelu_scalar)
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let slope = arg.contiguous()?.apply_op1_no_bwd(&GeluDerivativeOp)?;
        Ok(Some(grad_res.mul(&slope)?))
    }
}

struct GeluDerivativeOp;

impl candle_core::CustomOp1 for GeluDerivativeOp {
    fn name(&self) -> &'static str {
        "gelu-tanh-derivative"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        map_f32(storage, layout, gelu_derivative_scalar)
    }
}

/// softmax over the last dim: e^{x − max x} / Σ e^{x − max x}. Built from differentiable tensor
/// ops (candle's fused `softmax_last_dim` has no backward). The shift by max x changes nothing
/// mathematically, so it is detached: its gradient is zero anyway and skipping it saves work.
fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    Ok(e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?)
}

/// A pre-LayerNorm transformer block.
impl Block<Tensor> {
    fn forward(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln_1.forward(x)?, heads)?)?;
        Ok((&x + self.mlp.forward(&self.ln_2.forward(&x)?)?)?)
    }
}

/// The GPT. Cloning is cheap: tensors are reference-counted and share storage.
#[derive(Debug, Clone)]
pub struct Gpt {
    config: Config,
    tokenizer: Tokenizer,
    weights: Weights<Tensor>,
}

impl Gpt {
    /// A freshly initialised model, each parameter drawn per its [`crate::model::Init`] from our
    /// seeded [`Rng`], in [`Config::layout`] order, so the same seed gives the same weights
    /// natively and in wasm.
    pub fn new(config: Config, tokenizer: impl Into<Tokenizer>, seed: u64) -> Result<Gpt> {
        config.validate()?;
        let mut rng = Rng::new(seed);
        let tensors = config
            .layout()
            .into_iter()
            .map(|p| {
                Ok(Tensor::from_vec(
                    p.initial_values(&mut rng),
                    p.shape,
                    &Device::Cpu,
                )?)
            })
            .collect::<Result<_>>()?;
        Gpt::from_layout(config, tokenizer, tensors)
    }

    /// Assembles a model from named tensors, checking that every parameter of
    /// [`Config::layout`] is present with its shape (other names are ignored).
    pub fn from_tensors(
        config: Config,
        tokenizer: impl Into<Tokenizer>,
        tensors: &HashMap<String, Tensor>,
    ) -> Result<Gpt> {
        config.validate()?;
        let tokenizer = tokenizer.into();
        tokenizer.check_size(&config)?;
        let tensors = config
            .layout()
            .iter()
            .map(|p| {
                let t = tensors.get(&p.name).ok_or_else(|| p.missing())?;
                p.check_shape(t.dims())?;
                Ok(t.clone())
            })
            .collect::<Result<_>>()?;
        Gpt::from_layout(config, tokenizer, tensors)
    }

    /// Assembles a model from one tensor per parameter, in [`Config::layout`] order, each with
    /// its shape. f32 tensors are used as they are, sharing storage (a trainer's variables).
    pub fn from_layout(
        config: Config,
        tokenizer: impl Into<Tokenizer>,
        tensors: Vec<Tensor>,
    ) -> Result<Gpt> {
        let layout = config.layout_for(tensors.len())?;
        if config.arch != Arch::LAB {
            return Err(Error::new(
                "model: the candle graph (training) computes the lab's GPT only (LayerNorm ε \
                 1e-5, tanh GELU, tied head, MLP width 4·embd); GPT-2 and Llama checkpoints run on Net",
            ));
        }
        let tokenizer = tokenizer.into();
        tokenizer.check_size(&config)?;
        let tensors = layout
            .iter()
            .zip(tensors)
            .map(|(p, t)| {
                p.check_shape(t.dims())?;
                Ok(t.to_dtype(DType::F32)?)
            })
            .collect::<Result<_>>()?;
        Ok(Gpt {
            weights: Weights::from_layout_order(&config, tensors),
            config,
            tokenizer,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids)
    }

    /// Every parameter, in [`Config::layout`] order. The tensors share storage with the model.
    pub fn tensors(&self) -> Vec<&Tensor> {
        self.weights.flatten()
    }

    /// Every parameter by name, in [`Config::layout`] order. The tensors share storage with
    /// the model.
    pub fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let layout = self.config.layout();
        let tensors = self.tensors();
        layout
            .into_iter()
            .zip(tensors)
            .map(|(p, t)| (p.name, t.clone()))
            .collect()
    }

    /// The forward pass on a batch: `idx` (B, T) of u32 ids → (B, T, V) per `mode`.
    /// Used by training (autograd flows through every op here).
    pub fn forward(&self, idx: &Tensor, mode: OutputMode) -> Result<Tensor> {
        let (b, t) = idx.dims2()?;
        let c = self.config.embd;
        if t > self.config.context_length {
            return Err(Error::arg(
                "ids",
                &format!(
                    "at most contextLength = {} positions",
                    self.config.context_length
                ),
                t,
            ));
        }
        let w = &self.weights;
        let tok_emb = w
            .wte
            .index_select(&idx.flatten_all()?, 0)?
            .reshape((b, t, c))?;
        let pos_emb = w.wpe.narrow(0, 0, t)?;
        let mut x = tok_emb.broadcast_add(&pos_emb)?;
        for block in &w.h {
            x = block.forward(&x, self.config.heads)?;
        }
        let x = w.ln_f.forward(&x)?;
        // Tied head: z = x · wteᵀ.
        let logits = x.reshape((b * t, c))?.matmul(&w.wte.t()?)?;
        apply_mode(mode, logits.reshape((b, t, self.config.vocab_size))?)
    }

    fn check_ids(&self, ids: &[u32]) -> Result<()> {
        let v = self.config.vocab_size;
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= v) {
            return Err(Error::arg("ids", &format!("token ids in [0, {v})"), bad));
        }
        Ok(())
    }

    /// All positions of one sequence without a cache: ids (T ≤ context_length, T ≥ 1) → (T, V)
    /// values per `mode`, row-major.
    pub fn forward_ids(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        if ids.is_empty() {
            return Err(Error::arg("ids", "a non-empty sequence of token ids", "[]"));
        }
        self.check_ids(ids)?;
        let idx = Tensor::from_slice(ids, (1, ids.len()), &Device::Cpu)?;
        let out = self.forward(&idx, mode)?;
        check_finite(out.flatten_all()?.to_vec1::<f32>()?)
    }

    /// The next-token values (length V) after the last of `ids`, without a cache. Longer inputs
    /// than the context are cropped to their last `context_length` ids, as nanoGPT does.
    pub fn next_token_values(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        let ctx = self.config.context_length;
        let ids = &ids[ids.len().saturating_sub(ctx)..];
        let all = self.forward_ids(ids, mode)?;
        let v = self.config.vocab_size;
        Ok(all[all.len() - v..].to_vec())
    }

    /// Every parameter's values, in [`Config::layout`] order.
    fn values(&self) -> Result<Vec<Vec<f32>>> {
        self.tensors()
            .into_iter()
            .map(|t| Ok(t.flatten_all()?.to_vec1::<f32>()?))
            .collect()
    }

    /// The same network as plain arrays, for inference ([`Net`]: the page's forward pass).
    pub fn to_net(&self) -> Result<Net> {
        Net::from_layout(self.config, self.tokenizer.clone(), self.values()?)
    }

    /// The network of `net` as candle tensors, e.g. to evaluate a checkpoint in batches.
    pub fn from_net(net: &Net) -> Result<Gpt> {
        Gpt::from_values(*net.config(), net.tokenizer().clone(), net.tensors())
    }

    /// A model from one array of values per parameter, in [`Config::layout`] order.
    fn from_values<V: AsRef<[f32]>>(
        config: Config,
        tokenizer: impl Into<Tokenizer>,
        values: Vec<V>,
    ) -> Result<Gpt> {
        let tensors = config
            .layout()
            .into_iter()
            .zip(&values)
            .map(|(p, v)| Ok(Tensor::from_slice(v.as_ref(), p.shape, &Device::Cpu)?))
            .collect::<Result<_>>()?;
        Gpt::from_layout(config, tokenizer, tensors)
    }

    /// The checkpoint: safetensors, weights in f16, config and vocabulary in the metadata
    /// (the same bytes as [`Net::to_safetensors`]).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let values = self.values()?;
        let tensors = self
            .config
            .layout()
            .into_iter()
            .zip(values.iter().map(|v| &v[..]));
        logitlab::write(&self.config, logitlab::vocab_of(&self.tokenizer)?, tensors)
    }

    /// Loads a checkpoint (see [`Net::from_safetensors`] for what is checked).
    pub fn from_safetensors(bytes: &[u8]) -> Result<Gpt> {
        let c = logitlab::read(bytes)?;
        Gpt::from_values(c.config, c.vocab, c.tensors)
    }

    /// A model from disk (the binaries; native only): a logitlab `.safetensors` checkpoint, or a
    /// Hugging Face GPT-2 folder (`config.json`, `model.safetensors`, `tokenizer.json`). With
    /// its size in bytes.
    pub fn load(path: &std::path::Path) -> Result<(Gpt, usize)> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| Error::new(format!("{}: {e}", p.display())))
        };
        if !path.is_dir() {
            let bytes = read(path)?;
            return Ok((Gpt::from_safetensors(&bytes)?, bytes.len()));
        }
        let names = ["config.json", "model.safetensors", "tokenizer.json"];
        let files = names
            .iter()
            .map(|n| read(&path.join(n)))
            .collect::<Result<Vec<_>>>()?;
        let parts: Vec<(&str, &[u8])> = names
            .iter()
            .copied()
            .zip(files.iter().map(|b| &b[..]))
            .collect();
        let net = Net::from_hf_gpt2(&parts)?;
        Ok((Gpt::from_net(&net)?, files.iter().map(Vec::len).sum()))
    }
}

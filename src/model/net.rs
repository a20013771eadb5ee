//! The trained network as plain f32 arrays: the forward pass the page runs to generate text and
//! fill the next-token panel, with a KV cache.
//!
//! It is the same GPT as the candle graph (`model::graph::Gpt`), computed with the plain loops
//! of [`crate::model::kernels`] instead of candle tensors. It also runs checkpoints of the Llama
//! family ([`crate::model::Family::Llama`], from llama2.c), which only this pass computes: the
//! candle graph trains the lab's GPT.
//!
//! Why two forward passes. Training needs candle's autograd, so `Gpt` stays the model that
//! learns. But candle's CPU kernels are generic over every dtype, and in wasm each of them is one
//! function of up to 178 KB, which V8 compiles when it is first called and again when it gets
//! hot. In the page, on a 2-core laptop, that compile work held back the first generated token
//! by hundreds of milliseconds. The kernels are a handful of small functions that LLVM
//! vectorises to simd128. `tests/model.rs` checks that both passes agree, on random models and
//! on the shipped checkpoint.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::kernels::{
    add, attention, check_finite, grouped_attention, layer_norm, matmul, matmul_rows, rms_norm,
    rope, silu,
};
use crate::model::layout::{LlamaWeights, Weights};
use crate::model::{Config, Family, OutputMode, Tokenizer};
use crate::numerics;

/// The network: config, tokenizer and weights. Cloning is cheap: the tokenizer and the weights
/// are shared.
#[derive(Debug, Clone)]
pub struct Net {
    config: Config,
    tokenizer: Arc<Tokenizer>,
    weights: Arc<Body>,
}

/// The parameters, by [`Family`].
#[derive(Debug)]
enum Body {
    Gpt2(Weights<Vec<f32>>),
    Llama(LlamaWeights<Vec<f32>>),
}

/// The keys and values of the positions fed so far, so that each new token costs one row of
/// work instead of a full recomputation. Per layer, (len, C) each, one row per position
/// (Llama: (len, kv_heads·hd), the key/value heads only).
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
    pub fn from_layout(
        config: Config,
        tokenizer: impl Into<Tokenizer>,
        tensors: Vec<Vec<f32>>,
    ) -> Result<Net> {
        let layout = config.layout_for(tensors.len())?;
        let tokenizer = tokenizer.into();
        tokenizer.check_size(&config)?;
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
        let weights = match config.arch.family {
            Family::Gpt2 => Body::Gpt2(Weights::from_layout_order(&config, tensors)),
            Family::Llama { .. } => Body::Llama(LlamaWeights::from_layout_order(&config, tensors)),
        };
        Ok(Net {
            config,
            tokenizer: Arc::new(tokenizer),
            weights: Arc::new(weights),
        })
    }

    /// Every parameter's values, in [`Config::layout`] order.
    pub fn tensors(&self) -> Vec<&[f32]> {
        let leaves = match &*self.weights {
            Body::Gpt2(w) => w.flatten(),
            Body::Llama(w) => w.flatten(),
        };
        leaves.into_iter().map(|v| &v[..]).collect()
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

    /// How the page shows token `id` (see [`Tokenizer::token_text`]).
    pub fn token_text(&self, id: u32) -> Result<String> {
        self.tokenizer.token_text(id)
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
        cache.keys.resize_with(self.config.layers, Vec::new);
        cache.values.resize_with(self.config.layers, Vec::new);
        let z = match &*self.weights {
            Body::Gpt2(w) => self.gpt2_forward(w, cache, ids),
            Body::Llama(w) => self.llama_forward(w, cache, ids),
        };
        let z = check_finite(z)?;
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

    /// GPT-2's blocks over `ids` (checked), appending to `cache`: the logits z, (T, V).
    fn gpt2_forward(&self, w: &Weights<Vec<f32>>, cache: &mut KvCache, ids: &[u32]) -> Vec<f32> {
        let Config {
            vocab_size: v,
            heads,
            embd: c,
            ..
        } = self.config;
        let pos0 = cache.len;
        let (eps, gelu) = (self.config.arch.layer_norm_eps, self.config.arch.gelu);

        // x = wte[ids] + wpe[positions]: (T, C)
        let mut x = Vec::with_capacity(ids.len() * c);
        for (i, &id) in ids.iter().enumerate() {
            let tok = &w.wte[id as usize * c..][..c];
            let pos = &w.wpe[(pos0 + i) * c..][..c];
            x.extend(tok.iter().zip(pos).map(|(a, b)| a + b));
        }
        for (l, block) in w.h.iter().enumerate() {
            // x += attn(ln_1(x))
            let qkv = block.attn.c_attn.forward(&layer_norm(&x, &block.ln_1, eps));
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            debug_assert_eq!(keys.len(), pos0 * c, "one cached row per position");
            for row in qkv.chunks_exact(3 * c) {
                keys.extend_from_slice(&row[c..2 * c]);
                values.extend_from_slice(&row[2 * c..]);
            }
            let y = attention(&qkv, keys, values, pos0, heads, c);
            add(&mut x, &block.attn.c_proj.forward(&y));
            // x += mlp(ln_2(x))
            let mut h = block.mlp.c_fc.forward(&layer_norm(&x, &block.ln_2, eps));
            for a in &mut h {
                *a = gelu.apply(*a);
            }
            add(&mut x, &block.mlp.c_proj.forward(&h));
        }
        cache.len = pos0 + ids.len();
        // z = ln_f(x) · wteᵀ (tied head) or ln_f(x) · lm_headᵀ
        let head = w.lm_head.as_ref().unwrap_or(&w.wte);
        matmul_rows(&layer_norm(&x, &w.ln_f, eps), head, v)
    }

    /// Llama's blocks over `ids` (checked), appending to `cache`: the logits z, (T, V).
    fn llama_forward(
        &self,
        w: &LlamaWeights<Vec<f32>>,
        cache: &mut KvCache,
        ids: &[u32],
    ) -> Vec<f32> {
        let Config {
            vocab_size: v,
            heads,
            embd: c,
            ..
        } = self.config;
        let Family::Llama { kv_heads } = self.config.arch.family else {
            unreachable!("Llama weights come with a Llama config")
        };
        let (hd, hidden) = (c / heads, self.config.mlp_width());
        let kv = kv_heads * hd;
        let eps = self.config.arch.layer_norm_eps;
        let pos0 = cache.len;
        // x = embed_tokens[ids]: (T, C); positions enter through the rotation of q and k.
        let mut x = Vec::with_capacity(ids.len() * c);
        for &id in ids {
            x.extend_from_slice(&w.embed_tokens[id as usize * c..][..c]);
        }
        for (l, b) in w.layers.iter().enumerate() {
            // x += o(attention(rope(q), rope(k), v)), all of rms_norm(x)
            let n = rms_norm(&x, &b.input_layernorm, eps);
            let (mut q, mut k) = (matmul(&n, &b.q_proj, c), matmul(&n, &b.k_proj, kv));
            rope(&mut q, c, pos0, hd);
            rope(&mut k, kv, pos0, hd);
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            debug_assert_eq!(keys.len(), pos0 * kv, "one cached row per position");
            keys.extend_from_slice(&k);
            values.extend_from_slice(&matmul(&n, &b.v_proj, kv));
            let y = grouped_attention(&q, keys, values, pos0, (heads, kv_heads, hd));
            add(&mut x, &matmul(&y, &b.o_proj, c));
            // x += down(silu(gate(n)) ⊙ up(n)), n = rms_norm(x): SwiGLU
            let n = rms_norm(&x, &b.post_attention_layernorm, eps);
            let mut h = matmul(&n, &b.gate_proj, hidden);
            for (g, u) in h.iter_mut().zip(matmul(&n, &b.up_proj, hidden)) {
                *g = silu(*g) * u;
            }
            add(&mut x, &matmul(&h, &b.down_proj, c));
        }
        cache.len = pos0 + ids.len();
        // z = rms_norm(x) · embed_tokensᵀ (shared classifier) or rms_norm(x) · lm_headᵀ
        let classifier = w.lm_head.as_ref().unwrap_or(&w.embed_tokens);
        matmul_rows(&rms_norm(&x, &w.norm, eps), classifier, v)
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
}

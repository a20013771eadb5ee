//! The trained network as plain arrays: the forward pass the page runs to generate text and
//! fill the next-token panel, with a KV cache.
//!
//! It is the same GPT as the candle graph (`model::graph::Gpt`), computed with the plain loops
//! of [`crate::model::kernels`] instead of candle tensors. It also runs checkpoints of the Llama
//! family ([`crate::model::Family::Llama`]: llama2.c's, and Hugging Face's Llama, Qwen2 and
//! Qwen3), which only this pass computes: the candle graph trains the lab's GPT. A Llama-family
//! model's weight matrices stay in the type they were stored in ([`Tensor`]: f32, bf16 or f16)
//! and are widened to f32 inside the matmul kernels; a GPT-2's are f32. Either's may be
//! quantised ([`crate::model::quantize`]). Activations and the KV cache are f32.
//!
//! Why two forward passes. Training needs candle's autograd, so `Gpt` stays the model that
//! learns. But candle's CPU kernels are generic over every dtype, and in wasm each of them is one
//! function of up to 178 KB, which V8 compiles when it is first called and again when it gets
//! hot. In the page, on a 2-core laptop, that compile work held back the first generated token
//! by hundreds of milliseconds. The kernels are a handful of small functions on four-lane
//! vectors (simd128 in wasm). `tests/model.rs` checks that both passes agree, on random models and
//! on the shipped checkpoint.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::format::gguf::Value;
use crate::model::kernels::{
    add, attention, check_finite, grouped_attention, layer_norm, matmul_rows_tensor, matmul_tensor,
    rms_norm, rope, rope_back, row_f32, silu,
};
use crate::model::layout::{LayerNorm, Linear, LlamaWeights, Proj, Weights};
use crate::model::tensor::{Dtype, Tensor};
use crate::model::{ChatTemplate, Config, Family, OutputMode, Tokenizer};
use crate::numerics;

/// The network: config, tokenizer and weights. Cloning is cheap: the tokenizer and the weights
/// are shared.
#[derive(Debug, Clone)]
pub struct Net {
    config: Config,
    tokenizer: Arc<Tokenizer>,
    weights: Arc<Body>,
    /// The ids that end a text (a checkpoint's `eos_token_id`s).
    end_ids: Vec<u32>,
    /// How a conversation is written out for it (`tokenizer_config.json`'s `chat_template`).
    chat: Option<Arc<ChatTemplate>>,
    /// Its tokenizer as GGUF metadata (every `tokenizer.*` key), when it was read from a GGUF
    /// file: what [`crate::model::format::gguf_write`] writes back.
    gguf_vocab: Option<Arc<Vec<(String, Value)>>>,
}

/// A text's length in tokens and in words ([`Net::token_stats`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenStats {
    pub tokens: usize,
    /// Runs of characters between whitespace.
    pub words: usize,
    /// tokens / words; none for a text without a word.
    pub per_word: Option<f64>,
}

/// The parameters, by [`Family`]. GPT-2's are f32; a Llama's matrices stay in the type they
/// were stored in (f32, bf16 or f16). Either's matrices may be quantised blocks; the vectors
/// (gains, biases) are f32.
#[derive(Debug)]
enum Body {
    Gpt2(Weights<Tensor>),
    Llama {
        weights: LlamaWeights<Tensor>,
        /// The rotation's hd/2 frequencies, computed once.
        inv_freq: Vec<f32>,
    },
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

    /// Layer `l`'s cached keys and values, (len, width) each, row-major.
    pub fn layer(&self, l: usize) -> (&[f32], &[f32]) {
        (&self.keys[l], &self.values[l])
    }

    /// Forgets the `n` oldest positions (n ≤ len), keeping the newer ones' rows as they are.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        for rows in self.keys.iter_mut().chain(self.values.iter_mut()) {
            let width = rows.len() / self.len.max(1);
            rows.drain(..n * width);
        }
        self.len -= n;
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
        Net::from_tensors(
            config,
            tokenizer,
            tensors.into_iter().map(Tensor::F32).collect(),
        )
    }

    /// [`Net::from_layout`] with each parameter in the type it was stored in. A Llama's
    /// matrices are kept so (a bf16 model takes half the memory of its f32 form), and quantised
    /// matrices of either family; everything else is widened to f32.
    pub fn from_tensors(
        config: Config,
        tokenizer: impl Into<Tokenizer>,
        tensors: Vec<Tensor>,
    ) -> Result<Net> {
        let tokenizer = tokenizer.into();
        tokenizer.check_size(&config)?;
        Net::assemble(config, Arc::new(tokenizer), tensors)
    }

    /// [`Net::from_tensors`] with a checked tokenizer.
    fn assemble(config: Config, tokenizer: Arc<Tokenizer>, tensors: Vec<Tensor>) -> Result<Net> {
        let layout = config.layout_for(tensors.len())?;
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
            Family::Gpt2 => {
                let values = tensors
                    .into_iter()
                    .map(|t| match t {
                        Tensor::Quant(_) => t,
                        _ => Tensor::F32(t.into_f32()),
                    })
                    .collect();
                Body::Gpt2(Weights::from_layout_order(&config, values))
            }
            Family::Llama(llama) => {
                let tensors = layout
                    .iter()
                    .zip(tensors)
                    .map(|(p, t)| match p.shape.len() {
                        1 => Tensor::F32(t.into_f32()),
                        _ => t,
                    })
                    .collect();
                Body::Llama {
                    weights: LlamaWeights::from_layout_order(&config, tensors),
                    inv_freq: llama.rope.inv_freq(llama.head_dim),
                }
            }
        };
        Ok(Net {
            config,
            tokenizer,
            weights: Arc::new(weights),
            end_ids: Vec::new(),
            chat: None,
            gguf_vocab: None,
        })
    }

    /// The same network, ending a text at any of `ids` (a checkpoint's `eos_token_id`s;
    /// [`crate::model::Generated::end`]). Ids ≥ V are refused.
    pub fn with_end_ids(mut self, ids: Vec<u32>) -> Result<Net> {
        let v = self.config.vocab_size;
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= v) {
            return Err(Error::arg(
                "eos_token_id",
                &format!("token ids in [0, {v})"),
                bad,
            ));
        }
        self.end_ids = ids;
        Ok(self)
    }

    /// The checkpoint's end-of-text ids (see [`Net::with_end_ids`]); a text also ends at the
    /// tokenizer's BOS ([`Net::text_end_ids`]).
    pub fn end_ids(&self) -> &[u32] {
        &self.end_ids
    }

    /// Every id that ends a generated text ([`crate::model::Generated::end`]): the end ids,
    /// then the tokenizer's BOS where it has one and it is not among them (llama2.c's `<s>`,
    /// which delimits its training stories, and where run.c stops too; the `<s>` or
    /// `<|begin_of_text|>` a Hugging Face tokenizer begins every text with).
    pub fn text_end_ids(&self) -> Vec<u32> {
        let mut ids = self.end_ids.clone();
        if let Some(bos) = self.tokenizer().bos() {
            if !ids.contains(&bos) {
                ids.push(bos);
            }
        }
        ids
    }

    /// The same network, with the chat template a conversation is written out by.
    pub fn with_chat_template(mut self, chat: Option<ChatTemplate>) -> Net {
        self.chat = chat.map(Arc::new);
        self
    }

    /// The same network, with its tokenizer's GGUF metadata (the `tokenizer.*` keys of the
    /// file it was read from).
    pub fn with_gguf_vocab(mut self, metadata: Option<Vec<(String, Value)>>) -> Net {
        self.gguf_vocab = metadata.map(Arc::new);
        self
    }

    /// Its tokenizer's GGUF metadata, if it was read from a GGUF file
    /// ([`Net::with_gguf_vocab`]).
    pub fn gguf_vocab(&self) -> Option<&[(String, Value)]> {
        self.gguf_vocab.as_deref().map(Vec::as_slice)
    }

    /// Its chat template, if its files have one ([`Net::with_chat_template`]).
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat.as_deref()
    }

    /// How many tokens `text` is under this model's tokenizer, and how many words: runs of
    /// characters between whitespace.
    pub fn token_stats(&self, text: &str) -> Result<TokenStats> {
        let tokens = self.encode(text)?.len();
        let words = text.split_whitespace().count();
        Ok(TokenStats {
            tokens,
            words,
            per_word: (words > 0).then(|| tokens as f64 / words as f64),
        })
    }

    /// Every parameter's values in f32, in [`Config::layout`] order (widened where they are
    /// held in 16 bits).
    pub fn tensors(&self) -> Vec<Cow<'_, [f32]>> {
        self.held_tensors()
            .into_iter()
            .map(Tensor::to_f32)
            .collect()
    }

    /// The token embedding's storage type: f32, or the type it was stored in (a folder's
    /// matrices all share it; a GGUF file's or a quantised copy's may not: [`Net::matrix_dtype`]).
    pub fn dtype(&self) -> Dtype {
        self.matrices()[0].dtype()
    }

    /// The storage type every weight matrix shares, or `None` when they are of several types
    /// (llama.cpp's quantiser may give the embedding and the classifier types of their own).
    /// A GPT-2's position embedding is not counted: llama.cpp's quantiser keeps it in f32.
    pub fn matrix_dtype(&self) -> Option<Dtype> {
        let matrices = self.matrices();
        let first = matrices[0].dtype();
        matrices.iter().all(|t| t.dtype() == first).then_some(first)
    }

    /// The weight matrices, the token embedding first ([`Weights::matrices`],
    /// [`LlamaWeights::matrices`]).
    fn matrices(&self) -> Vec<&Tensor> {
        match &*self.weights {
            Body::Gpt2(w) => w.matrices(),
            Body::Llama { weights, .. } => weights.matrices(),
        }
    }

    /// How many of the held parameters (matrices, gains and biases) are of each storage type,
    /// in the order the types first occur.
    pub fn tensor_types(&self) -> Vec<(Dtype, usize)> {
        let mut counts: Vec<(Dtype, usize)> = Vec::new();
        let mut count = |d: Dtype| match counts.iter_mut().find(|(t, _)| *t == d) {
            Some((_, n)) => *n += 1,
            None => counts.push((d, 1)),
        };
        self.held_tensors().iter().for_each(|t| count(t.dtype()));
        counts
    }

    /// The bytes the weights take in memory.
    pub fn weight_bytes(&self) -> usize {
        self.held_tensors().iter().map(|t| t.bytes()).sum()
    }

    /// The parameters as held, in [`Config::layout`] order.
    pub(crate) fn held_tensors(&self) -> Vec<&Tensor> {
        match &*self.weights {
            Body::Gpt2(w) => w.flatten(),
            Body::Llama { weights, .. } => weights.flatten(),
        }
    }

    /// The same network (its tokenizer shared, its end ids and chat template kept) with other
    /// weights, one per parameter in [`Config::layout`] order ([`Net::from_tensors`]).
    pub(crate) fn with_tensors(&self, tensors: Vec<Tensor>) -> Result<Net> {
        let mut net = Net::assemble(self.config, Arc::clone(&self.tokenizer), tensors)?;
        net.end_ids = self.end_ids.clone();
        net.chat = self.chat.clone();
        net.gguf_vocab = self.gguf_vocab.clone();
        Ok(net)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether `other` holds the same weights (a clone of this network, or this one's clone).
    #[cfg(feature = "train")] // the distilled students' shared teacher only
    pub(crate) fn shares_weights(&self, other: &Net) -> bool {
        Arc::ptr_eq(&self.weights, &other.weights)
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text)
    }

    /// The ids a generation from `text` starts with, and the next-token panels read: the
    /// tokenizer's BOS where the model expects one (Llama, llama2.c), as run.c does, unless the
    /// text's ids already begin with it (a chat template writes its `bos_token`: one BOS, as
    /// transformers gives a rendered conversation, never two), then the text's. Empty for an
    /// empty text.
    pub fn prompt_ids(&self, text: &str) -> Result<Vec<u32>> {
        let encoded = self.encode(text)?;
        let bos = self
            .tokenizer
            .bos()
            .filter(|&b| encoded.first().is_some_and(|&f| f != b));
        Ok(bos.into_iter().chain(encoded).collect())
    }

    /// `text`'s ids with the special tokens the model's sequences begin (and end) with
    /// ([`Tokenizer::encode_with_special`]).
    pub fn encode_with_special(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode_with_special(text)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids)
    }

    /// How the page shows token `id` (see [`Tokenizer::token_text`]).
    pub fn token_text(&self, id: u32) -> Result<String> {
        self.tokenizer.token_text(id)
    }

    /// Makes room in a full context: keeps the cache's last `keep` positions and moves them to
    /// positions 0.., as llama.cpp's context shift does, when the positions are rotary (a
    /// Llama): the kept keys are turned back by the number dropped, the values stay, and
    /// nothing is recomputed. Their rows in the deeper layers still hold what the dropped
    /// tokens gave them, so what follows differs from a fresh run on the kept tokens. Learned
    /// positions (GPT-2) cannot be moved: then the cache is left as it is and false returned.
    pub fn shift_cache(&self, cache: &mut KvCache, keep: usize) -> bool {
        let (Body::Llama { inv_freq, .. }, Some(llama)) = (&*self.weights, self.config.llama())
        else {
            return false;
        };
        let dropped = cache.len.saturating_sub(keep);
        cache.drop_front(dropped);
        let row = llama.kv_heads * llama.head_dim;
        for keys in &mut cache.keys {
            rope_back(keys, row, dropped, inv_freq, llama.rope.layout);
        }
        true
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
        self.forward_rows(cache, ids, mode, Rows::All)
    }

    /// As [`Net::forward_cached`], but only the last position's values (length V): what
    /// generation and the next-token panel use. The classifier then multiplies one row instead
    /// of T, which at V = 151 936 is most of a prompt's cost. The row is the same, bit for bit.
    pub fn forward_cached_last(
        &self,
        cache: &mut KvCache,
        ids: &[u32],
        mode: OutputMode,
    ) -> Result<Vec<f32>> {
        self.forward_rows(cache, ids, mode, Rows::Last)
    }

    fn forward_rows(
        &self,
        cache: &mut KvCache,
        ids: &[u32],
        mode: OutputMode,
        rows: Rows,
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
            Body::Gpt2(w) => self.gpt2_forward(w, cache, ids, rows),
            Body::Llama { weights, inv_freq } => {
                self.llama_forward(weights, inv_freq, cache, ids, rows)
            }
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

    /// GPT-2's blocks over `ids` (checked), appending to `cache`: the logits z, (T, V), or
    /// only the last row's.
    fn gpt2_forward(
        &self,
        w: &Weights<Tensor>,
        cache: &mut KvCache,
        ids: &[u32],
        rows: Rows,
    ) -> Vec<f32> {
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
            let tok = row_f32(&w.wte, id as usize, c);
            let pos = row_f32(&w.wpe, pos0 + i, c);
            x.extend(tok.iter().zip(&pos).map(|(a, b)| a + b));
        }
        for (l, block) in w.h.iter().enumerate() {
            // x += attn(ln_1(x))
            let qkv = conv1d(&norm(&x, &block.ln_1, eps), &block.attn.c_attn);
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            debug_assert_eq!(keys.len(), pos0 * c, "one cached row per position");
            for row in qkv.chunks_exact(3 * c) {
                keys.extend_from_slice(&row[c..2 * c]);
                values.extend_from_slice(&row[2 * c..]);
            }
            let y = attention(&qkv, keys, values, pos0, heads, c);
            add(&mut x, &conv1d(&y, &block.attn.c_proj));
            // x += mlp(ln_2(x))
            let mut h = conv1d(&norm(&x, &block.ln_2, eps), &block.mlp.c_fc);
            gelu.apply_all(&mut h);
            add(&mut x, &conv1d(&h, &block.mlp.c_proj));
        }
        cache.len = pos0 + ids.len();
        // z = ln_f(x) · wteᵀ (tied head) or ln_f(x) · lm_headᵀ
        let head = w.lm_head.as_ref().unwrap_or(&w.wte);
        matmul_rows_tensor(&norm(rows.of(&x, c), &w.ln_f, eps), head, v)
    }

    /// The Llama family's blocks over `ids` (checked), appending to `cache`: the logits z,
    /// (T, V), or only the last row's. Every member's details are options of this one pass
    /// (see [`crate::model::Llama`]).
    fn llama_forward(
        &self,
        w: &LlamaWeights<Tensor>,
        inv_freq: &[f32],
        cache: &mut KvCache,
        ids: &[u32],
        rows: Rows,
    ) -> Vec<f32> {
        let Config {
            vocab_size: v,
            heads,
            embd: c,
            ..
        } = self.config;
        let llama = *self
            .config
            .llama()
            .expect("Llama weights come with a Llama config");
        let (hd, hidden) = (llama.head_dim, self.config.mlp_width());
        let (qw, kv) = (heads * hd, llama.kv_heads * hd);
        let eps = self.config.arch.layer_norm_eps;
        let pos0 = cache.len;
        // x = embed_tokens[ids]: (T, C); positions enter through the rotation of q and k.
        let mut x = Vec::with_capacity(ids.len() * c);
        for &id in ids {
            x.extend(row_f32(&w.embed_tokens, id as usize, c));
        }
        for (l, b) in w.layers.iter().enumerate() {
            // x += o(attention(rope(q), rope(k), v)), all of n = rms_norm(x)
            let n = rms_norm(&x, vector(&b.input_layernorm), eps);
            let (mut q, mut k) = (linear(&n, &b.q_proj, qw), linear(&n, &b.k_proj, kv));
            // Qwen3: each head of q and of k RMS-normed (rows of hd values) before turning.
            if let (Some(qn), Some(kn)) = (&b.q_norm, &b.k_norm) {
                q = rms_norm(&q, vector(qn), eps);
                k = rms_norm(&k, vector(kn), eps);
            }
            rope(&mut q, qw, pos0, inv_freq, llama.rope.layout);
            rope(&mut k, kv, pos0, inv_freq, llama.rope.layout);
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            debug_assert_eq!(keys.len(), pos0 * kv, "one cached row per position");
            keys.extend_from_slice(&k);
            values.extend_from_slice(&linear(&n, &b.v_proj, kv));
            let y = grouped_attention(&q, keys, values, pos0, (heads, llama.kv_heads, hd));
            add(&mut x, &linear(&y, &b.o_proj, c));
            // x += down(silu(gate(n)) ⊙ up(n)), n = rms_norm(x): SwiGLU
            let n = rms_norm(&x, vector(&b.post_attention_layernorm), eps);
            let mut h = linear(&n, &b.gate_proj, hidden);
            for (g, u) in h.iter_mut().zip(linear(&n, &b.up_proj, hidden)) {
                *g = silu(*g) * u;
            }
            add(&mut x, &linear(&h, &b.down_proj, c));
        }
        cache.len = pos0 + ids.len();
        // z = rms_norm(x) · embed_tokensᵀ (shared classifier) or rms_norm(x) · lm_headᵀ
        let classifier = w.lm_head.as_ref().unwrap_or(&w.embed_tokens);
        matmul_rows_tensor(
            &rms_norm(rows.of(&x, c), vector(&w.norm), eps),
            classifier,
            v,
        )
    }

    /// All positions of one sequence: ids (1 ≤ T ≤ context_length) → (T, V) values per `mode`.
    pub fn forward_ids(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        self.forward_cached(&mut KvCache::new(), ids, mode)
    }

    /// The next-token values (length V) after the last of `ids`. Longer inputs than the context
    /// are cropped to their last `context_length` ids, as nanoGPT does.
    pub fn next_token_values(&self, ids: &[u32], mode: OutputMode) -> Result<Vec<f32>> {
        let ids = &ids[ids.len().saturating_sub(self.config.context_length)..];
        self.forward_cached_last(&mut KvCache::new(), ids, mode)
    }
}

/// Which positions' values a forward pass returns: each position's, or the last one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    All,
    Last,
}

impl Rows {
    /// The rows of `x` (rows of `width` values) that go through the classifier.
    fn of(self, x: &[f32], width: usize) -> &[f32] {
        match self {
            Rows::All => x,
            Rows::Last => &x[x.len() - width..],
        }
    }
}

/// A gain or bias vector: [`Net::from_tensors`] holds every one in f32.
fn vector(t: &Tensor) -> &[f32] {
    t.as_f32().expect("the constructor holds vectors in f32")
}

/// y = x · W + b for every row of x: a GPT-2 layer (its `Conv1D`), W (in, out) in f32 or
/// quantised, b f32.
fn conv1d(x: &[f32], l: &Linear<Tensor>) -> Vec<f32> {
    let bias = vector(&l.bias);
    let mut y = matmul_tensor(x, &l.weight, bias.len());
    for row in y.chunks_exact_mut(bias.len()) {
        add(row, bias);
    }
    y
}

/// GPT-2's LayerNorm of each row of x ([`layer_norm`]), its γ and β held in f32.
fn norm(x: &[f32], ln: &LayerNorm<Tensor>, eps: f64) -> Vec<f32> {
    layer_norm(x, vector(&ln.weight), vector(&ln.bias), eps)
}

/// y = x · W (+ b) for every row of x, W (in, n_out) in its stored type.
fn linear(x: &[f32], p: &Proj<Tensor>, n_out: usize) -> Vec<f32> {
    let mut y = matmul_tensor(x, &p.weight, n_out);
    if let Some(bias) = &p.bias {
        for row in y.chunks_exact_mut(n_out) {
            add(row, vector(bias));
        }
    }
    y
}

//! A character-level GPT in the nanoGPT mould: its shape ([`Config`]), its two output designs
//! ([`OutputMode`]), its vocabulary, and streaming generation ([`Generator`]).
//!
//! The network is computed twice over, from the same weights: in candle tensor ops, which
//! train (autograd; [`Gpt`], with the `train` feature), and as plain arrays with a KV cache,
//! which the page generates with ([`crate::net::Net`]).
//!
//! ```text
//! ids ─► wte[ids] + wpe[pos] ─► N × Block ─► ln_f ─► z = x · wteᵀ ─► OutputMode
//!                               Block: x += attn(ln_1(x)); x += mlp(ln_2(x))
//! ```
//!
//! The head is tied to the token embedding (as in GPT-2 and nanoGPT): one matrix fewer to store.
//! [`OutputMode`] selects the seed's two designs, raw logits z or log_softmax(z), from the very
//! same weights.
//!
//! Weights are stored as safetensors in f16 (half the bytes, plenty of precision for inference);
//! all compute is f32. The config and the vocabulary live in the file's metadata, so a checkpoint
//! is self-describing.
//!
//! Layout convention: a linear layer stores its weight as (in, out) and computes `x · W + b`,
//! the way the maths is written, so no transpose sits on the hot path.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::limits::{MAX_MODEL_VOCAB, MAX_TEXT_BYTES};
use crate::net::{KvCache, Net};
use crate::rng::Rng;
use crate::sampling::{self, Input, Sample, SampleOptions};

#[cfg(feature = "train")]
pub use crate::gpt::Gpt;

/// Tag stored in the checkpoint metadata, checked on load.
pub const FORMAT: &str = "logitlab-gpt-v1";

/// The safetensors metadata key whose value is the JSON record
/// `{"format", "vocab_size", "context_length", "layers", "heads", "embd", "vocab"}`.
pub const METADATA_KEY: &str = "logitlab";

/// LayerNorm epsilon, as in PyTorch's default.
pub(crate) const LN_EPS: f64 = 1e-5;

/// The shape of the network. Stored with the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// V: number of distinct characters.
    pub vocab_size: usize,
    /// Longest sequence the position embedding covers.
    pub context_length: usize,
    /// Number of transformer blocks.
    pub layers: usize,
    /// Attention heads per block; must divide `embd`.
    pub heads: usize,
    /// Embedding width C.
    pub embd: usize,
}

impl Config {
    /// The default model shipped with the page: 4 × 128, 4 heads, context 128 (~0.8M parameters,
    /// ~1.6 MB in f16).
    pub fn small(vocab_size: usize) -> Config {
        Config {
            vocab_size,
            context_length: 128,
            layers: 4,
            heads: 4,
            embd: 128,
        }
    }

    /// A model small enough for unit tests and for training live in the page.
    pub fn tiny(vocab_size: usize) -> Config {
        Config {
            vocab_size,
            context_length: 32,
            layers: 2,
            heads: 2,
            embd: 32,
        }
    }

    /// The page's model-size presets for live training, by name: `"tiny"` (2 layers × 32,
    /// 2 heads, context 64), `"small"` (2 × 64, 4 heads, context 64) and `"medium"` (the shipped
    /// model's shape: 4 × 128, 4 heads, context 128).
    pub fn preset(name: &str, vocab_size: usize) -> Result<Config> {
        let (context_length, layers, heads, embd) = match name {
            "tiny" => (64, 2, 2, 32),
            "small" => (64, 2, 4, 64),
            "medium" => (128, 4, 4, 128),
            _ => {
                return Err(Error::arg(
                    "preset",
                    "\"tiny\", \"small\" or \"medium\"",
                    format!("{name:?}"),
                ))
            }
        };
        Ok(Config {
            vocab_size,
            context_length,
            layers,
            heads,
            embd,
        })
    }

    /// The names [`Config::preset`] accepts, smallest first.
    pub const PRESETS: [&'static str; 3] = ["tiny", "small", "medium"];

    /// Checks every field against its range, so a bad config fails with a message, not a panic
    /// or a huge allocation.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: usize, lo: usize, hi: usize| {
            if v < lo || v > hi {
                Err(Error::arg(name, &format!("an integer in [{lo}, {hi}]"), v))
            } else {
                Ok(())
            }
        };
        check("vocabSize", self.vocab_size, 2, MAX_MODEL_VOCAB)?;
        check("contextLength", self.context_length, 1, 4096)?;
        check("layers", self.layers, 1, 64)?;
        check("heads", self.heads, 1, 64)?;
        check("embd", self.embd, 1, 4096)?;
        if !self.embd.is_multiple_of(self.heads) {
            return Err(Error::arg(
                "embd",
                &format!("a multiple of heads ({})", self.heads),
                self.embd,
            ));
        }
        Ok(())
    }

    /// Number of trainable scalars. In u64: a config at the top of every range has ~1.3e10,
    /// which would wrap around wasm32's 32-bit usize.
    pub fn parameter_count(&self) -> u64 {
        self.layout()
            .iter()
            .map(|p| p.shape.iter().map(|&d| d as u64).product::<u64>())
            .sum()
    }

    /// Every parameter of the network, in a fixed order: the order of initialisation, of a
    /// checkpoint's tensors and of [`Weights::from_layout_order`]. The names follow nanoGPT's
    /// `model.py`; this is the only place they are spelled.
    ///
    /// Initialisation as in GPT-2 / nanoGPT: weights ~ N(0, 0.02²), the residual projections
    /// (`c_proj`) scaled by 1/√(2·layers), biases 0, LayerNorm γ = 1.
    pub fn layout(&self) -> Vec<Param> {
        let (v, t, c) = (self.vocab_size, self.context_length, self.embd);
        let normal = Init::Normal(0.02);
        let residual = Init::Normal(0.02 / ((2 * self.layers) as f64).sqrt());
        // A LayerNorm (γ, β) or a Linear (W, b) named `p`: its weight, then its bias.
        let weight_bias = |p: &str, weight: Vec<usize>, init: Init| {
            let n = weight[weight.len() - 1];
            [
                Param::new(format!("{p}.weight"), weight, init),
                Param::new(format!("{p}.bias"), vec![n], Init::Zeros),
            ]
        };
        let mut params = vec![
            Param::new("wte".into(), vec![v, c], normal),
            Param::new("wpe".into(), vec![t, c], normal),
        ];
        for i in 0..self.layers {
            let p = |s: &str| format!("h.{i}.{s}");
            params.extend(weight_bias(&p("ln_1"), vec![c], Init::Ones));
            params.extend(weight_bias(&p("attn.c_attn"), vec![c, 3 * c], normal));
            params.extend(weight_bias(&p("attn.c_proj"), vec![c, c], residual));
            params.extend(weight_bias(&p("ln_2"), vec![c], Init::Ones));
            params.extend(weight_bias(&p("mlp.c_fc"), vec![c, 4 * c], normal));
            params.extend(weight_bias(&p("mlp.c_proj"), vec![4 * c, c], residual));
        }
        params.extend(weight_bias("ln_f", vec![c], Init::Ones));
        params
    }
}

/// How a parameter's initial values are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All 0 (biases, LayerNorm β).
    Zeros,
    /// All 1 (LayerNorm γ).
    Ones,
    /// Each value ~ N(0, std²), with this std.
    Normal(f64),
}

/// One parameter of the network: what checkpoint I/O, both forward passes, initialisation and
/// AdamW need to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name in a checkpoint, e.g. `h.0.attn.c_attn.weight`.
    pub name: String,
    /// Row-major; a linear layer's weight is (in, out).
    pub shape: Vec<usize>,
    pub init: Init,
    /// Whether AdamW's weight decay applies: to matrices and embeddings (rank ≥ 2), not to
    /// biases or LayerNorm parameters, as in nanoGPT.
    pub decay: bool,
}

impl Param {
    fn new(name: String, shape: Vec<usize>, init: Init) -> Param {
        Param {
            decay: shape.len() >= 2,
            name,
            shape,
            init,
        }
    }

    /// Number of values.
    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }

    /// The error for a checkpoint that lacks this parameter.
    pub fn missing(&self) -> Error {
        Error::new(format!("checkpoint: missing tensor {:?}", self.name))
    }

    /// Checks the shape of the tensor offered for this parameter.
    pub fn check_shape(&self, shape: &[usize]) -> Result<()> {
        if shape != self.shape.as_slice() {
            return Err(Error::new(format!(
                "checkpoint: tensor {:?} has shape {shape:?}, the config needs {:?}",
                self.name, self.shape
            )));
        }
        Ok(())
    }

    /// Fresh values per [`Param::init`], drawn from `rng` (which only `Init::Normal` advances).
    pub fn initial_values(&self, rng: &mut Rng) -> Vec<f32> {
        let n = self.elem_count();
        match self.init {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Normal(std) => (0..n).map(|_| (rng.normal() * std) as f32).collect(),
        }
    }
}

/// The network's parameters as a tree, the way the forward passes read them (`h[i].attn.c_attn`).
/// A leaf `T` holds one parameter: a `Vec<f32>` in the plain-array [`Net`], a candle tensor in
/// [`Gpt`]. Both are built from and flattened to [`Config::layout`] order, so the tree's order
/// is spelled here alone and the names in `layout` alone.
#[derive(Debug, Clone)]
pub struct Weights<T> {
    /// Token embedding (V, C); also the tied output head.
    pub wte: T,
    /// Learned position embedding (context_length, C).
    pub wpe: T,
    pub h: Vec<Block<T>>,
    pub ln_f: LayerNorm<T>,
}

/// A pre-LayerNorm transformer block: x += attn(ln_1(x)); x += mlp(ln_2(x)).
#[derive(Debug, Clone)]
pub struct Block<T> {
    pub ln_1: LayerNorm<T>,
    pub attn: Attention<T>,
    pub ln_2: LayerNorm<T>,
    pub mlp: Mlp<T>,
}

/// y = (x − mean(x)) / sqrt(var(x) + ε) · γ + β over each row of C values.
#[derive(Debug, Clone)]
pub struct LayerNorm<T> {
    /// γ, (C,).
    pub weight: T,
    /// β, (C,).
    pub bias: T,
}

/// y = x · W + b, with W stored as (in, out).
#[derive(Debug, Clone)]
pub struct Linear<T> {
    pub weight: T,
    pub bias: T,
}

/// Causal multi-head self-attention: q, k, v = x · c_attn; y = softmax(q kᵀ / √hd + mask) v;
/// out = y · c_proj.
#[derive(Debug, Clone)]
pub struct Attention<T> {
    pub c_attn: Linear<T>,
    pub c_proj: Linear<T>,
}

/// The position-wise MLP: c_fc (C → 4C), GELU, c_proj (4C → C).
#[derive(Debug, Clone)]
pub struct Mlp<T> {
    pub c_fc: Linear<T>,
    pub c_proj: Linear<T>,
}

impl<T> Weights<T> {
    /// The tree of `layers` blocks from one value per parameter, in [`Config::layout`] order.
    /// Panics if `values` holds fewer: callers check the count against the layout first.
    pub fn from_layout_order(layers: usize, values: Vec<T>) -> Weights<T> {
        let mut values = values.into_iter();
        let mut next = move || {
            values
                .next()
                .expect("one value per parameter of the layout")
        };
        let wte = next();
        let wpe = next();
        let h = (0..layers)
            .map(|_| Block {
                ln_1: LayerNorm {
                    weight: next(),
                    bias: next(),
                },
                attn: Attention {
                    c_attn: Linear {
                        weight: next(),
                        bias: next(),
                    },
                    c_proj: Linear {
                        weight: next(),
                        bias: next(),
                    },
                },
                ln_2: LayerNorm {
                    weight: next(),
                    bias: next(),
                },
                mlp: Mlp {
                    c_fc: Linear {
                        weight: next(),
                        bias: next(),
                    },
                    c_proj: Linear {
                        weight: next(),
                        bias: next(),
                    },
                },
            })
            .collect();
        let ln_f = LayerNorm {
            weight: next(),
            bias: next(),
        };
        Weights { wte, wpe, h, ln_f }
    }

    /// Every leaf in [`Config::layout`] order: the inverse of [`Weights::from_layout_order`].
    pub fn flatten(&self) -> Vec<&T> {
        let mut leaves = vec![&self.wte, &self.wpe];
        for b in &self.h {
            let (attn, mlp) = (&b.attn, &b.mlp);
            leaves.extend([&b.ln_1.weight, &b.ln_1.bias]);
            leaves.extend([&attn.c_attn.weight, &attn.c_attn.bias]);
            leaves.extend([&attn.c_proj.weight, &attn.c_proj.bias]);
            leaves.extend([&b.ln_2.weight, &b.ln_2.bias]);
            leaves.extend([&mlp.c_fc.weight, &mlp.c_fc.bias]);
            leaves.extend([&mlp.c_proj.weight, &mlp.c_proj.bias]);
        }
        leaves.extend([&self.ln_f.weight, &self.ln_f.bias]);
        leaves
    }
}

/// What the forward pass returns: the seed's two designs of the output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// Raw logits z, the usual design (PyTorch's `CrossEntropyLoss` expects these).
    #[default]
    Logits,
    /// log_softmax(z) = z − logsumexp(z): normalised log-probabilities (for `NLLLoss`).
    LogSoftmax,
}

impl OutputMode {
    pub fn parse(s: &str) -> Result<OutputMode> {
        match s {
            "logits" => Ok(OutputMode::Logits),
            "logSoftmax" => Ok(OutputMode::LogSoftmax),
            _ => Err(Error::arg(
                "output",
                "one of \"logits\", \"logSoftmax\"",
                format!("{s:?}"),
            )),
        }
    }

    /// The sampler input that matches this output.
    pub fn sample_input(self) -> Input {
        match self {
            OutputMode::Logits => Input::Logits,
            OutputMode::LogSoftmax => Input::LogProbs,
        }
    }
}

/// A character-level vocabulary: id i is the i-th character of `chars`.
///
/// Encoding is strict: a character outside the vocabulary is an error that names it, because a
/// silent replacement would hide from a student why the model sees something else than typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,
    ids: HashMap<char, u32>,
}

impl Vocab {
    /// Builds the vocabulary from the distinct characters of `text`, sorted by code point.
    pub fn from_text(text: &str) -> Result<Vocab> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Vocab::from_chars(chars)
    }

    /// A vocabulary with exactly these characters, in this order. They must be distinct.
    pub fn from_chars(chars: Vec<char>) -> Result<Vocab> {
        if chars.len() < 2 {
            return Err(Error::arg(
                "vocabulary",
                "at least 2 distinct characters",
                chars.len(),
            ));
        }
        let mut ids = HashMap::with_capacity(chars.len());
        for (i, &ch) in chars.iter().enumerate() {
            if ids.insert(ch, i as u32).is_some() {
                return Err(Error::new(format!(
                    "vocabulary lists the character {ch:?} twice"
                )));
            }
        }
        Ok(Vocab { chars, ids })
    }

    /// A model's vocabulary must have exactly `config.vocab_size` entries.
    pub fn check_size(&self, config: &Config) -> Result<()> {
        if self.len() != config.vocab_size {
            return Err(Error::new(format!(
                "vocabulary has {} characters but vocab_size is {}",
                self.len(),
                config.vocab_size
            )));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    pub fn id(&self, ch: char) -> Option<u32> {
        self.ids.get(&ch).copied()
    }

    /// Text → ids. An unknown character is an error naming it and its position; a text longer
    /// than [`MAX_TEXT_BYTES`] is an error.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        check_text_len("text", text)?;
        text.chars()
            .enumerate()
            .map(|(pos, ch)| {
                self.id(ch).ok_or_else(|| {
                    Error::new(format!(
                        "text: character {ch:?} (U+{:04X}) at position {pos} is not in the \
                         model's vocabulary of {} characters",
                        ch as u32,
                        self.len()
                    ))
                })
            })
            .collect()
    }

    /// Ids → text. An id ≥ V is an error, and so are more than [`MAX_TEXT_BYTES`] ids.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        if ids.len() > MAX_TEXT_BYTES {
            return Err(Error::arg(
                "ids",
                &format!("at most {MAX_TEXT_BYTES} token ids"),
                ids.len(),
            ));
        }
        ids.iter()
            .map(|&id| {
                self.chars.get(id as usize).copied().ok_or_else(|| {
                    Error::arg("ids", &format!("token ids in [0, {})", self.len()), id)
                })
            })
            .collect()
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

/// A text (an argument named `argument`) must fit in [`MAX_TEXT_BYTES`] bytes of UTF-8.
pub fn check_text_len(argument: &str, text: &str) -> Result<()> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::new(format!(
            "{argument} has {} bytes of UTF-8; at most {MAX_TEXT_BYTES} (8 MiB) are accepted",
            text.len()
        )));
    }
    Ok(())
}

/// GELU, tanh approximation (GPT-2's): gelu(x) = ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
/// One scalar definition shared by both forward passes (candle's and [`crate::net`]'s).
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_C: f32 = 0.044_715;

/// tanh(u) = 1 − 2 / (e^{2u} + 1), exact at ±∞ (e^{2u} = ∞ gives 1, 0 gives −1).
fn tanh(u: f32) -> f32 {
    1.0 - 2.0 / ((2.0 * u).exp() + 1.0)
}

pub(crate) fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))
}

/// d gelu / dx = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²).
#[cfg(feature = "train")] // training's backward pass only
pub(crate) fn gelu_derivative_scalar(x: f32) -> f32 {
    let t = tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x)
}

/// One generated token, as the page shows it.
#[derive(Debug, Clone)]
pub struct Generated {
    pub token: u32,
    /// The token's character.
    pub text: String,
    /// The draw: final distribution `probs` and the rest of the sampler's report.
    pub sample: Sample,
}

/// Streaming generation with a KV cache, one token per [`Generator::next_token`] call, on the
/// plain-array [`Net`].
///
/// One [`Rng`] is seeded once and advanced per token, so the same checkpoint, prompt, options
/// and seed give the same text natively and in wasm. When the context window is full the cache
/// is rebuilt from the last ⌊context_length / 2⌋ tokens (learned positions cannot be shifted),
/// which costs one prefill every context_length / 2 tokens.
#[derive(Debug, Clone)]
pub struct Generator {
    model: Net,
    mode: OutputMode,
    options: SampleOptions,
    rng: Rng,
    seed: u64,
    cache: KvCache,
    /// Every token so far: prompt, then generated.
    tokens: Vec<u32>,
    /// Tokens not yet fed to the cache.
    pending: Vec<u32>,
}

impl Generator {
    /// `prompt` must be non-empty and encodable. `options.input` is overridden to match `mode`
    /// (logits → Logits, logSoftmax → LogProbs); `options.seed = None` draws a fresh seed,
    /// reported by [`Generator::seed`].
    pub fn new(
        model: &Net,
        prompt: &str,
        mode: OutputMode,
        options: SampleOptions,
    ) -> Result<Self> {
        check_text_len("prompt", prompt)?;
        let tokens = model.encode(prompt)?;
        if tokens.is_empty() {
            return Err(Error::arg("prompt", "a non-empty string", "\"\""));
        }
        let mut options = options;
        options.input = mode.sample_input();
        options.validate()?;
        let seed = options.seed.unwrap_or_else(Rng::random_seed);
        Ok(Generator {
            model: model.clone(),
            mode,
            options,
            rng: Rng::new(seed),
            seed,
            cache: KvCache::new(),
            pending: tokens.clone(),
            tokens,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every token so far (prompt and generated).
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Generates one token.
    pub fn next_token(&mut self) -> Result<Generated> {
        let ctx = self.model.config().context_length;
        if self.cache.len() + self.pending.len() > ctx {
            // Window full: restart from the most recent tokens.
            let keep = (ctx / 2).max(1);
            self.cache.clear();
            self.pending = self.tokens[self.tokens.len() - keep..].to_vec();
        }
        let values = self
            .model
            .forward_cached(&mut self.cache, &self.pending, self.mode)?;
        let v = self.model.config().vocab_size;
        let last = &values[values.len() - v..];
        let mut sample = sampling::sample_with(last, &self.options, &mut self.rng)?;
        sample.seed = self.seed;
        let token = sample.token as u32;
        self.tokens.push(token);
        self.pending = vec![token];
        Ok(Generated {
            token,
            text: self.model.decode(&[token])?,
            sample,
        })
    }

    /// Generates `n` tokens and returns their text.
    pub fn generate(&mut self, n: usize) -> Result<String> {
        let mut out = String::new();
        for _ in 0..n {
            out.push_str(&self.next_token()?.text);
        }
        Ok(out)
    }
}

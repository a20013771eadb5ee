//! The shape of the network ([`Config`]: the presets, the ranges every field must lie in) and
//! what its forward pass returns ([`OutputMode`]: the seed's two designs of the output layer).

use crate::error::{Error, Result};
use crate::limits::{MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS, MAX_MODEL_VOCAB};
use crate::sampling::Input;

/// The shape of the network. Stored with the weights.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// What a GPT-2 checkpoint may do differently; [`Arch::LAB`] for the lab's own models.
    pub arch: Arch,
}

/// The details in which a Hugging Face GPT-2 may differ from the lab's GPT. The lab's own models
/// are [`Arch::LAB`], which logitlab's checkpoint format implies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arch {
    /// LayerNorm's ε (GPT-2's `layer_norm_epsilon`; PyTorch's default 1e-5).
    pub layer_norm_eps: f64,
    /// The MLP's activation (GPT-2's `activation_function`).
    pub gelu: Gelu,
    /// Whether the output head is the token embedding, z = x · wteᵀ (GPT-2's
    /// `tie_word_embeddings`), or a matrix of its own, `lm_head.weight` (V, C).
    pub tied_head: bool,
    /// The MLP's hidden width (GPT-2's `n_inner`, Llama's `hidden_dim`); `None` is 4·embd.
    pub mlp_width: Option<usize>,
    /// The block's family: GPT-2 (LayerNorm, learned positions, GELU MLP, biases) or Llama
    /// (RMSNorm with ε = `layer_norm_eps`, rotary positions, SwiGLU, grouped-query attention,
    /// no biases; `gelu` unused).
    pub family: Family,
}

/// The two transformer families the plain-array forward pass computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// GPT-2 / nanoGPT: the lab's own models and Hugging Face GPT-2 checkpoints.
    Gpt2,
    /// Llama 2 as llama2.c runs it: `kv_heads` key/value heads shared by groups of
    /// heads / kv_heads query heads (kv_heads = heads is plain multi-head attention).
    Llama { kv_heads: usize },
}

impl Arch {
    /// The lab's GPT: ε = 1e-5, tanh GELU, tied head, MLP width 4·C.
    pub const LAB: Arch = Arch {
        layer_norm_eps: 1e-5,
        gelu: Gelu::Tanh,
        tied_head: true,
        mlp_width: None,
        family: Family::Gpt2,
    };
}

/// The two GELUs of GPT-2 checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gelu {
    /// ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's `gelu_new`, the lab's models.
    Tanh,
    /// x·Φ(x) = ½·x·(1 + erf(x/√2)): `gelu`, PyTorch's exact GELU.
    Erf,
}

impl Config {
    /// The unit tests' model, small enough to train in seconds: 2 layers × 32, 2 heads, context
    /// 32 (the "tiny" preset with half its context). Also what `new Trainer` builds in the page
    /// when it is given no preset.
    pub fn unit_test(vocab_size: usize) -> Config {
        Config {
            vocab_size,
            context_length: 32,
            layers: 2,
            heads: 2,
            embd: 32,
            arch: Arch::LAB,
        }
    }

    /// The page's model-size presets for live training, by name: `"tiny"` (2 layers × 32,
    /// 2 heads, context 64), `"small"` (2 × 64, 4 heads, context 64) and `"medium"` (the shipped
    /// model's shape: 4 × 128, 4 heads, context 128; ~0.8M parameters, ~1.6 MB in f16).
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
            arch: Arch::LAB,
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
        check("contextLength", self.context_length, 1, MAX_CONTEXT_LENGTH)?;
        check("layers", self.layers, 1, MAX_LAYERS)?;
        check("heads", self.heads, 1, MAX_HEADS)?;
        check("embd", self.embd, 1, MAX_EMBD)?;
        if !self.embd.is_multiple_of(self.heads) {
            return Err(Error::arg(
                "embd",
                &format!("a multiple of heads ({})", self.heads),
                self.embd,
            ));
        }
        if let Family::Llama { kv_heads } = self.arch.family {
            check("kvHeads", kv_heads, 1, self.heads)?;
            if !self.heads.is_multiple_of(kv_heads) {
                return Err(Error::arg(
                    "heads",
                    &format!("a multiple of kvHeads ({kv_heads})"),
                    self.heads,
                ));
            }
            if !(self.embd / self.heads).is_multiple_of(2) {
                return Err(Error::arg(
                    "embd / heads",
                    "even (rotary embeddings turn pairs of values)",
                    self.embd / self.heads,
                ));
            }
        }
        if let Some(w) = self.arch.mlp_width {
            check("mlpWidth", w, 1, 4 * MAX_EMBD)?;
        }
        let eps = self.arch.layer_norm_eps;
        if !(eps.is_finite() && eps > 0.0 && eps <= 1.0) {
            return Err(Error::arg("layerNormEps", "a number in (0, 1]", eps));
        }
        Ok(())
    }

    /// The MLP's hidden width: [`Arch::mlp_width`], or 4·embd.
    pub fn mlp_width(&self) -> usize {
        self.arch.mlp_width.unwrap_or(4 * self.embd)
    }
}

/// What the forward pass returns: the seed's two designs of the output layer.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
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

//! The shape of the network ([`Config`]: the presets, the ranges every field must lie in) and
//! what its forward pass returns ([`OutputMode`]: the seed's two designs of the output layer).

use crate::error::{Error, Result};
use crate::limits::{
    MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_INFERENCE_PARAMETERS, MAX_LAYERS, MAX_MODEL_VOCAB,
};
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// GPT-2 / nanoGPT: the lab's own models and Hugging Face GPT-2 checkpoints.
    Gpt2,
    /// Llama and its relatives (llama2.c's checkpoints; Hugging Face Llama, Qwen2 and Qwen3):
    /// RMSNorm, rotary positions, SwiGLU, grouped-query attention, in the details of [`Llama`].
    Llama(Llama),
}

/// What one member of the Llama family does: the details in which Llama 2 (llama2.c), Hugging
/// Face's Llama, Qwen2 and Qwen3 differ. [`Config::layout`] names the parameters these imply
/// and [`crate::model::Net`] computes them; each architecture's choices are spelled once, in
/// [`Variant::description`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Llama {
    /// Which architecture this is (how the page names it).
    pub variant: Variant,
    /// Key/value heads, shared by groups of heads / kv_heads query heads (grouped-query
    /// attention; kv_heads = heads is plain multi-head attention).
    pub kv_heads: usize,
    /// The width hd of each head: embd / heads unless the checkpoint says otherwise (Qwen3's
    /// heads · hd need not be embd).
    pub head_dim: usize,
    /// How positions turn q and k.
    pub rope: Rope,
    /// Biases on the query, key and value projections.
    pub qkv_bias: bool,
    /// A bias on the output projection.
    pub o_bias: bool,
    /// Biases on the MLP's gate, up and down projections.
    pub mlp_bias: bool,
    /// An RMSNorm over each head of q and of k before the rotation (Qwen3's `q_norm`,
    /// `k_norm`, each of hd gains).
    pub qk_norm: bool,
}

/// The architectures of the Llama family, by what each is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Llama: llama2.c's checkpoints and Hugging Face's `LlamaForCausalLM` (SmolLM, TinyLlama,
    /// Llama 3 …).
    Llama,
    /// Hugging Face's `Qwen2ForCausalLM` (Qwen2, Qwen2.5).
    Qwen2,
    /// Hugging Face's `Qwen3ForCausalLM`.
    Qwen3,
}

/// What an architecture of the Llama family fixes and what its `config.json` chooses: the one
/// description of a Hugging Face family, which the reader follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Description {
    /// `architectures[0]` in `config.json`.
    pub architecture: &'static str,
    /// `model_type` in `config.json`.
    pub model_type: &'static str,
    /// q, k, v biases: fixed, or `attention_bias` of the config.
    pub qkv_bias: Choice,
    /// The output projection's bias: fixed, or `attention_bias`.
    pub o_bias: Choice,
    /// The MLP's biases: fixed, or `mlp_bias`.
    pub mlp_bias: Choice,
    /// Per-head RMSNorm of q and k (`q_norm`, `k_norm`).
    pub qk_norm: bool,
    /// Whether the config may ask for sliding-window attention (`use_sliding_window`), which
    /// the lab refuses.
    pub sliding_window: bool,
}

/// A detail of an architecture: always so, or as a boolean field of `config.json` says
/// (absent: false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Fixed(bool),
    Field(&'static str),
}

impl Variant {
    /// Every architecture of the family, in the order error messages list them.
    pub const ALL: [Variant; 3] = [Variant::Llama, Variant::Qwen2, Variant::Qwen3];

    /// The name the JS API gives it (`model.config.architecture`).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Llama => "llama",
            Variant::Qwen2 => "qwen2",
            Variant::Qwen3 => "qwen3",
        }
    }

    /// What this architecture fixes and what its config chooses.
    pub fn description(self) -> Description {
        match self {
            Variant::Llama => Description {
                architecture: "LlamaForCausalLM",
                model_type: "llama",
                qkv_bias: Choice::Field("attention_bias"),
                o_bias: Choice::Field("attention_bias"),
                mlp_bias: Choice::Field("mlp_bias"),
                qk_norm: false,
                sliding_window: false,
            },
            Variant::Qwen2 => Description {
                architecture: "Qwen2ForCausalLM",
                model_type: "qwen2",
                qkv_bias: Choice::Fixed(true),
                o_bias: Choice::Fixed(false),
                mlp_bias: Choice::Fixed(false),
                qk_norm: false,
                sliding_window: true,
            },
            Variant::Qwen3 => Description {
                architecture: "Qwen3ForCausalLM",
                model_type: "qwen3",
                qkv_bias: Choice::Field("attention_bias"),
                o_bias: Choice::Field("attention_bias"),
                mlp_bias: Choice::Fixed(false),
                qk_norm: true,
                sliding_window: true,
            },
        }
    }
}

/// Rotary position embedding: which values are turned together, and by which angles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rope {
    pub layout: RopeLayout,
    /// The base θ of the frequencies θ^(−2i/hd) (`rope_theta`; Llama 2's 10 000).
    pub theta: f64,
    pub scaling: RopeScaling,
}

/// Which two values of a head of hd values one frequency turns as a pair. The same rotation
/// with the head's values in another order: a checkpoint's q and k weights are stored for one
/// of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeLayout {
    /// (x₂ᵢ, x₂ᵢ₊₁), consecutive values: llama2.c's `run.c` and Meta's original Llama.
    Interleaved,
    /// (xᵢ, xᵢ₊hd/2), the two halves of the head: Hugging Face's `rotate_half`.
    RotateHalf,
}

/// How a checkpoint stretches the rotation's frequencies to a longer context (`rope_scaling`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RopeScaling {
    /// The frequencies as they are.
    None,
    /// Every frequency divided by `factor` (`"linear"`).
    Linear { factor: f64 },
    /// Llama 3.1's (`"llama3"`): wavelengths longer than original_max / low_freq_factor are
    /// divided by `factor`, those shorter than original_max / high_freq_factor kept, and those
    /// between blended smoothly.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: usize,
    },
}

impl Rope {
    /// llama2.c's: interleaved pairs, θ = 10 000, no scaling.
    pub const LLAMA2C: Rope = Rope {
        layout: RopeLayout::Interleaved,
        theta: 10_000.0,
        scaling: RopeScaling::None,
    };

    /// The hd/2 frequencies of a head of `head_dim` values, in f32 as Hugging Face computes
    /// them: θᵢ = 1 / θ^(2i/hd), then scaled.
    pub fn inv_freq(&self, head_dim: usize) -> Vec<f32> {
        let theta = self.theta as f32;
        let base = (0..head_dim / 2).map(|i| 1.0 / theta.powf((2 * i) as f32 / head_dim as f32));
        match self.scaling {
            RopeScaling::None => base.collect(),
            RopeScaling::Linear { factor } => base.map(|f| f / factor as f32).collect(),
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                let (factor, low, high) = (
                    factor as f32,
                    low_freq_factor as f32,
                    high_freq_factor as f32,
                );
                let old = original_max_position_embeddings as f32;
                let (low_wavelen, high_wavelen) = (old / low, old / high);
                base.map(|f| {
                    let wavelen = 2.0 * std::f32::consts::PI / f;
                    if wavelen > low_wavelen {
                        f / factor
                    } else if wavelen < high_wavelen {
                        f
                    } else {
                        let smooth = (old / wavelen - low) / (high - low);
                        (1.0 - smooth) * f / factor + smooth * f
                    }
                })
                .collect()
            }
        }
    }
}

impl Llama {
    /// llama2.c's Llama 2 of `embd / heads`-wide heads: no biases, interleaved rotary pairs,
    /// θ = 10 000.
    pub fn llama2c(kv_heads: usize, head_dim: usize) -> Llama {
        Llama {
            variant: Variant::Llama,
            kv_heads,
            head_dim,
            rope: Rope::LLAMA2C,
            qkv_bias: false,
            o_bias: false,
            mlp_bias: false,
            qk_norm: false,
        }
    }
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

    /// [`Config::validate`] for a model a checkpoint `file` describes, to be loaded to
    /// generate: also at most [`MAX_INFERENCE_PARAMETERS`] parameters. Errors name the file.
    pub fn check_for_inference(&self, file: &str) -> Result<()> {
        self.validate()
            .map_err(|e| Error::new(format!("{file}: {e}")))?;
        let parameters = self.parameter_count();
        if parameters > MAX_INFERENCE_PARAMETERS {
            return Err(Error::new(format!(
                "{file}: the model has {parameters} parameters; at most \
                 {MAX_INFERENCE_PARAMETERS} are accepted"
            )));
        }
        Ok(())
    }

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
        match self.arch.family {
            Family::Gpt2 => {
                if !self.embd.is_multiple_of(self.heads) {
                    return Err(Error::arg(
                        "embd",
                        &format!("a multiple of heads ({})", self.heads),
                        self.embd,
                    ));
                }
            }
            Family::Llama(l) => {
                check("kvHeads", l.kv_heads, 1, self.heads)?;
                if !self.heads.is_multiple_of(l.kv_heads) {
                    return Err(Error::arg(
                        "heads",
                        &format!("a multiple of kvHeads ({})", l.kv_heads),
                        self.heads,
                    ));
                }
                check("headDim", l.head_dim, 2, MAX_EMBD)?;
                if !l.head_dim.is_multiple_of(2) {
                    return Err(Error::arg(
                        "headDim",
                        "even (rotary embeddings turn pairs of values)",
                        l.head_dim,
                    ));
                }
                check("heads · headDim", self.heads * l.head_dim, 1, MAX_EMBD)?;
                let theta = l.rope.theta;
                if !(theta.is_finite() && theta > 1.0) {
                    return Err(Error::arg("ropeTheta", "a finite number > 1", theta));
                }
                l.rope.scaling.validate()?;
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

    /// The Llama family's details, if this is one of its members.
    pub fn llama(&self) -> Option<&Llama> {
        match &self.arch.family {
            Family::Llama(l) => Some(l),
            Family::Gpt2 => None,
        }
    }

    /// The MLP's hidden width: [`Arch::mlp_width`], or 4·embd.
    pub fn mlp_width(&self) -> usize {
        self.arch.mlp_width.unwrap_or(4 * self.embd)
    }
}

impl RopeScaling {
    /// Factors finite and ≥ 1 where they divide, the blend's two factors ordered.
    fn validate(&self) -> Result<()> {
        let factor = |name: &str, f: f64| {
            if f.is_finite() && f >= 1.0 {
                Ok(())
            } else {
                Err(Error::arg(name, "a finite number ≥ 1", f))
            }
        };
        match *self {
            RopeScaling::None => Ok(()),
            RopeScaling::Linear { factor: f } => factor("ropeScaling.factor", f),
            RopeScaling::Llama3 {
                factor: f,
                low_freq_factor: low,
                high_freq_factor: high,
                original_max_position_embeddings: old,
            } => {
                factor("ropeScaling.factor", f)?;
                if !(low.is_finite() && low > 0.0 && high.is_finite() && high > low) {
                    return Err(Error::arg(
                        "ropeScaling.highFreqFactor",
                        &format!("a finite number > lowFreqFactor = {low} > 0"),
                        high,
                    ));
                }
                if !(1..=1 << 24).contains(&old) {
                    return Err(Error::arg(
                        "ropeScaling.originalMaxPositionEmbeddings",
                        "an integer in [1, 16777216]",
                        old,
                    ));
                }
                Ok(())
            }
        }
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

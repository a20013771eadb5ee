//! Hugging Face GPT-2 checkpoints: the folder `GPT2LMHeadModel.save_pretrained` writes, plus
//! the byte-level BPE `tokenizer.json` that goes with it.
//!
//! - `config.json`: `model_type` "gpt2", `vocab_size`, `n_positions`, `n_embd`, `n_layer`,
//!   `n_head`, `n_inner` (null = 4·n_embd), `activation_function` (`gelu_new` or
//!   `gelu_pytorch_tanh`: tanh GELU; `gelu`: exact), `layer_norm_epsilon`,
//!   `tie_word_embeddings` (default true). Options that change the maths otherwise
//!   (`scale_attn_weights` false, `scale_attn_by_inverse_layer_idx`, `add_cross_attention`)
//!   are refused.
//! - `model.safetensors`: the tensors of [`Config::layout`] by their HF names
//!   ([`crate::model::Param::hf_name`]), with or without the `transformer.` prefix, in F32, F16 or
//!   BF16. The header is parsed here, and every declared offset and size is checked against the
//!   file's length before anything is allocated; tensors are converted to f32 one at a time.
//!   Other tensors (the `attn.bias` / `attn.masked_bias` buffers of older checkpoints) are
//!   ignored. With a tied head an `lm_head.weight` in the file is ignored, as transformers does
//!   (it ties the head to `wte` after loading).
//! - `tokenizer.json`: see [`ByteLevelBpe::from_json`]. It may define fewer ids than
//!   `vocab_size` (an embedding padded to a round size): the extra rows decode to nothing. More
//!   ids than `vocab_size` is an error.
//!
//! GPT-2's Conv1D layers store their weights (in, out), as the lab's layout does, so no tensor
//! is transposed.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{brief, Code, Error, Result};
use crate::limits::{
    MAX_CONFIG_JSON_BYTES, MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS, MAX_MODEL_VOCAB,
    MAX_WEIGHT_BYTES,
};
use crate::model::format::safetensors::{self as container, Header, Source};
pub use crate::model::format::FileBytes;
use crate::model::{Arch, ByteLevelBpe, Config, Family, Gelu, Tokenizer};

/// The three files a checkpoint folder must hold.
pub const CONFIG: &str = "config.json";
pub const MODEL: &str = "model.safetensors";
pub const TOKENIZER: &str = "tokenizer.json";

/// What a checkpoint folder holds.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub config: Config,
    /// Padded to `config.vocab_size` ids.
    pub tokenizer: ByteLevelBpe,
    /// One array of values per parameter, in [`Config::layout`] order.
    pub tensors: Vec<Vec<f32>>,
}

/// Reads a checkpoint folder given as (file name, bytes) pairs. A name is matched by its last
/// path component (`gpt2/config.json` is `config.json`); other files are ignored.
pub fn read(files: &[(&str, &[u8])]) -> Result<Checkpoint> {
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n.rsplit(['/', '\\']).next() == Some(name))
            .map(|&(_, bytes)| bytes)
            .ok_or_else(|| missing(name))
    };
    let (config_json, model, tokenizer_json) = (file(CONFIG)?, file(MODEL)?, file(TOKENIZER)?);
    read_parts(config_json, Source::Bytes(&model), tokenizer_json)
}

/// The error for a file the folder lacks.
pub fn missing(name: &str) -> Error {
    Error::new(format!(
        "{name}: missing; a Hugging Face folder needs {CONFIG}, {MODEL} and {TOKENIZER}"
    ))
    .coded(Code::ModelHfMissing, [("file", name.into())])
}

/// [`read`] with `model.safetensors` read range by range (see [`FileBytes`]) or loaded as it
/// arrived ([`container::Reader`], whose tensors [`tensor_names`] chooses).
pub fn read_parts(
    config_json: &[u8],
    model: Source<'_>,
    tokenizer_json: &[u8],
) -> Result<Checkpoint> {
    read_folder(config_json, tokenizer_json)?.with_weights(model)
}

/// The folder but its weights: the checkpoint with no tensors yet (see
/// [`Checkpoint::with_weights`]), read first by a reader that streams `model.safetensors`.
pub fn read_folder(config_json: &[u8], tokenizer_json: &[u8]) -> Result<Checkpoint> {
    let config = read_config(config_json)?;
    let tokenizer = super::files::hf_tokenizer(tokenizer_json, config.vocab_size)?;
    Ok(Checkpoint {
        config,
        tokenizer,
        tensors: Vec::new(),
    })
}

impl Checkpoint {
    /// The checkpoint with its tensors, from `model`.
    pub fn with_weights(mut self, model: Source<'_>) -> Result<Checkpoint> {
        self.tensors = read_tensors(model, &self.config)?;
        Ok(self)
    }
}

/// The network's shape from `config.json`. Every error names the file and the field.
pub fn read_config(bytes: &[u8]) -> Result<Config> {
    let bad = |what: String| Error::new(format!("{CONFIG}: {what}"));
    if bytes.len() > MAX_CONFIG_JSON_BYTES {
        return Err(bad(format!(
            "{} bytes; at most {MAX_CONFIG_JSON_BYTES} (1 MiB) are accepted",
            bytes.len()
        )));
    }
    let json: Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let json = json
        .as_object()
        .ok_or_else(|| bad("is not a JSON object".into()))?;
    let model_type = json.get("model_type");
    if model_type.and_then(Value::as_str) != Some("gpt2") {
        return Err(bad(format!(
            "model_type is {}; only \"gpt2\" is supported",
            model_type.map_or("missing".into(), |v| brief(v))
        )));
    }
    if let Some(archs) = json.get("architectures").and_then(Value::as_array) {
        let known = ["GPT2LMHeadModel", "GPT2Model"];
        if let Some(a) = archs
            .iter()
            .find(|a| !a.as_str().is_some_and(|a| known.contains(&a)))
        {
            return Err(bad(format!(
                "architectures lists {}; only GPT2LMHeadModel (or GPT2Model) is supported",
                brief(a)
            )));
        }
    }
    let int = |key: &str, lo: usize, hi: usize| -> Result<usize> {
        let v = json
            .get(key)
            .ok_or_else(|| bad(format!("{key} is missing")))?;
        match v.as_u64() {
            Some(n) if (lo as u64..=hi as u64).contains(&n) => Ok(n as usize),
            Some(_) => Err(bad(format!("{key} = {v} is outside [{lo}, {hi}]"))),
            None => Err(bad(format!(
                "{key} is {}, not a non-negative integer",
                brief(v)
            ))),
        }
    };
    let vocab_size = int("vocab_size", 2, MAX_MODEL_VOCAB)?;
    let context_length = int("n_positions", 1, MAX_CONTEXT_LENGTH)?;
    let embd = int("n_embd", 1, MAX_EMBD)?;
    let layers = int("n_layer", 1, MAX_LAYERS)?;
    let heads = int("n_head", 1, MAX_HEADS)?;
    if !embd.is_multiple_of(heads) {
        return Err(bad(format!(
            "n_head = {heads} does not divide n_embd = {embd}"
        )));
    }
    let mlp_width = match json.get("n_inner") {
        None | Some(Value::Null) => None,
        Some(_) => Some(int("n_inner", 1, 4 * MAX_EMBD)?),
    };
    let gelu = match json.get("activation_function") {
        None => Gelu::Tanh, // transformers' default, "gelu_new"
        Some(v) => match v.as_str() {
            Some("gelu_new" | "gelu_pytorch_tanh") => Gelu::Tanh,
            Some("gelu") => Gelu::Erf,
            _ => {
                return Err(bad(format!(
                    "activation_function is {}; only \"gelu_new\", \"gelu_pytorch_tanh\" and \
                     \"gelu\" are supported",
                    brief(v)
                )))
            }
        },
    };
    let layer_norm_eps = match json.get("layer_norm_epsilon") {
        None => 1e-5,
        Some(v) => match v.as_f64() {
            Some(e) if e > 0.0 && e <= 1.0 => e,
            _ => {
                return Err(bad(format!(
                    "layer_norm_epsilon = {}; a number in (0, 1] is needed",
                    brief(v)
                )))
            }
        },
    };
    let flag = |key: &str, default: bool| -> Result<bool> {
        match json.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(bad(format!("{key} is {}, not true or false", brief(v)))),
        }
    };
    let tied_head = flag("tie_word_embeddings", true)?;
    // Options that would change the network's maths.
    for (key, supported) in [
        ("scale_attn_weights", true),
        ("scale_attn_by_inverse_layer_idx", false),
        ("add_cross_attention", false),
    ] {
        if flag(key, supported)? != supported {
            return Err(bad(format!(
                "{key} is {}; only {supported} is supported",
                !supported
            )));
        }
    }
    let config = Config {
        vocab_size,
        context_length,
        layers,
        heads,
        embd,
        arch: Arch {
            layer_norm_eps,
            gelu,
            tied_head,
            mlp_width,
            family: Family::Gpt2,
        },
    };
    config.check_for_inference(CONFIG)?;
    let parameters = config.parameter_count();
    // Held in f32.
    if 4 * parameters > MAX_WEIGHT_BYTES as u64 {
        return Err(bad(format!(
            "the model's {parameters} parameters would take {} bytes in f32; at most \
             {MAX_WEIGHT_BYTES} ({}) are accepted",
            4 * parameters,
            crate::limits::size_name(MAX_WEIGHT_BYTES)
        )));
    }
    Ok(config)
}

/// The tensors of `config`'s layout from `model.safetensors`, converted to f32.
fn read_tensors(model: Source<'_>, config: &Config) -> Result<Vec<Vec<f32>>> {
    let mut tensors = model.tensors()?;
    let names = tensor_names(tensors.header(), config)?;
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let t = tensors.take(&name)?;
        if let Some((i, x)) = t.first_non_finite() {
            return Err(container::bad(format!(
                "tensor {name:?} holds {x} at index {i}; weights must be finite"
            )));
        }
        values.push(t.into_f32());
    }
    Ok(values)
}

/// The names by which `model.safetensors` holds the tensors of `config`'s layout, in layout
/// order, once its `header` is checked against them: each there (with or without the
/// `transformer.` prefix, not both), of its shape, in F32, F16 or BF16. What a
/// [`container::Reader`] keeps.
pub fn tensor_names(header: &Header, config: &Config) -> Result<Vec<String>> {
    let bad = container::bad;
    let declared = &header.tensors;
    let layout = config.layout();
    let mut names = Vec::with_capacity(layout.len());
    for p in &layout {
        let prefixed = format!("transformer.{}", p.hf_name);
        let (name, d) = match (
            declared.get_key_value(p.hf_name.as_str()),
            declared.get_key_value(prefixed.as_str()),
        ) {
            (Some(_), Some(_)) => {
                return Err(bad(format!(
                    "tensor {:?} is there both with and without the \"transformer.\" prefix",
                    p.hf_name
                )))
            }
            (Some((n, d)), None) | (None, Some((n, d))) => (n.as_str(), d),
            (None, None) => {
                let why = if p.name == "lm_head.weight" {
                    format!(" ({CONFIG} has tie_word_embeddings false)")
                } else {
                    String::new()
                };
                return Err(bad(format!(
                    "missing tensor {prefixed:?} (or {:?}){why}",
                    p.hf_name
                )));
            }
        };
        if d.shape != p.shape {
            return Err(bad(format!(
                "tensor {name:?} has shape {}; {CONFIG} implies {:?}",
                brief(&format_args!("{:?}", d.shape)),
                p.shape
            )));
        }
        if !matches!(d.dtype.as_str(), "F32" | "F16" | "BF16") {
            return Err(bad(format!(
                "tensor {name:?} has dtype {}; F32, F16 or BF16 is needed",
                brief(&d.dtype)
            )));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// How [`write`] stores the weights in `model.safetensors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAs {
    F32,
    /// Half the bytes; every model the lab computes with is f32, so this rounds each weight.
    F16,
}

/// Writes one of the lab's own models as a Hugging Face GPT-2 folder: `config.json`,
/// `model.safetensors` (`transformer.`-prefixed names and no `lm_head.weight`, as
/// `save_pretrained` writes a tied model) and a byte-level BPE `tokenizer.json`.
/// `GPT2LMHeadModel.from_pretrained` loads the folder and gives the same logits
/// (`tests/fixtures/check_hf_export.py`).
///
/// A character model's `tokenizer.json` has the model's characters as tokens, each at its id,
/// and no merges; every character must then be one byte of UTF-8 (ASCII), since byte-level BPE
/// spells a longer character as several byte tokens, which the model's vocabulary does not
/// have. A byte-level BPE model writes its own tokenizer ([`ByteLevelBpe::to_json`]).
pub fn write<'a>(
    config: &Config,
    tokenizer: &Tokenizer,
    tensors: impl IntoIterator<Item = (crate::model::Param, &'a [f32])>,
    store: StoreAs,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    if config.arch != Arch::LAB {
        return Err(Error::new(
            "export: only the lab's own models (tanh GELU, LayerNorm ε 1e-5, tied head) are \
             written as Hugging Face folders",
        ));
    }
    let tokenizer_json = match tokenizer {
        Tokenizer::Chars(vocab) => chars_tokenizer_json(vocab)?,
        Tokenizer::Bpe(bpe) => bpe.to_json(),
        Tokenizer::SentencePiece(_) => {
            return Err(Error::new(
                "export: a SentencePiece tokenizer has no Hugging Face GPT-2 form",
            ))
        }
    };
    let json = |v: &Value| serde_json::to_vec_pretty(v).expect("JSON");
    let config_json = serde_json::json!({
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.context_length,
        "n_embd": config.embd,
        "n_layer": config.layers,
        "n_head": config.heads,
        "n_inner": null,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "tie_word_embeddings": true,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "bos_token_id": tokenizer.bos().unwrap_or(0),
        "eos_token_id": tokenizer.bos().unwrap_or(0),
        "torch_dtype": match store { StoreAs::F32 => "float32", StoreAs::F16 => "float16" },
    });
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(p, values)| {
            let bytes = match store {
                StoreAs::F32 => values.iter().flat_map(|x| x.to_le_bytes()).collect(),
                StoreAs::F16 => values
                    .iter()
                    .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                    .collect(),
            };
            (format!("transformer.{}", p.hf_name), p.shape, bytes)
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            let dtype = match store {
                StoreAs::F32 => safetensors::Dtype::F32,
                StoreAs::F16 => safetensors::Dtype::F16,
            };
            safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| Error::new(format!("export: tensor {name:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let model = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::new(format!("export: cannot serialise: {e}")))?;
    Ok(vec![
        (CONFIG, json(&config_json)),
        (MODEL, model),
        // Compact: a 4 096-token vocabulary's merges pretty-printed would add ~40% to its size.
        (
            TOKENIZER,
            serde_json::to_vec(&tokenizer_json).expect("JSON"),
        ),
    ])
}

/// A character model's vocabulary as a byte-level BPE `tokenizer.json`: each character a token
/// at its id, no merges (see [`write`]).
fn chars_tokenizer_json(vocab: &crate::model::Vocab) -> Result<Value> {
    if let Some(c) = vocab.chars().iter().find(|c| !c.is_ascii()) {
        return Err(Error::new(format!(
            "export: the character {c:?} is {} bytes of UTF-8; a Hugging Face byte-level BPE \
             tokenizer needs every character of the model to be one byte (ASCII)",
            c.len_utf8()
        )));
    }
    let tokens: serde_json::Map<String, Value> = vocab
        .chars()
        .iter()
        .enumerate()
        .map(|(id, &c)| {
            (
                crate::model::tokenizer::bpe::byte_char(c as u8).to_string(),
                id.into(),
            )
        })
        .collect();
    Ok(crate::model::tokenizer::bpe::tokenizer_json(
        tokens,
        Vec::new(),
        Vec::new(),
        false,
        true,
        false,
    ))
}

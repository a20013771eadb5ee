//! logitlab's own checkpoint format: safetensors with the weights in f16 (half the bytes, plenty
//! of precision for inference; all compute is f32), the config and the vocabulary in the
//! metadata, so a checkpoint is self-describing. The tensors are [`Config::layout`]'s, by name.

use std::collections::HashMap;

use crate::error::{brief, Error, Result};
use crate::limits::{over_cap, MAX_CHECKPOINT_BYTES};
use crate::model::format::f16_bits_to_f32;
use crate::model::format::safetensors_header::{self, Dtype, Header};
use crate::model::{Arch, Config, Param, Tokenizer, Vocab};

/// Tag stored in the checkpoint metadata, checked on load.
pub const FORMAT: &str = "logitlab-gpt-v1";

/// The safetensors metadata key whose value is the JSON record
/// `{"format", "vocab_size", "context_length", "layers", "heads", "embd", "vocab"}`.
pub const METADATA_KEY: &str = "logitlab";

/// The checkpoint of a model: `tensors` (each parameter of its layout with its values) in f16,
/// config and vocabulary in the metadata. The same model always gives the same bytes.
pub fn write<'a>(
    config: &Config,
    vocab: &Vocab,
    tensors: impl IntoIterator<Item = (Param, &'a [f32])>,
) -> Result<Vec<u8>> {
    if config.arch != Arch::LAB {
        return Err(Error::new(
            "checkpoint: logitlab's format stores the lab's GPT only (LayerNorm ε 1e-5, tanh \
             GELU, tied head, MLP width 4·embd)",
        ));
    }
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

/// The character vocabulary this format stores; a model with another tokenizer cannot be
/// written in it.
pub fn vocab_of(tokenizer: &Tokenizer) -> Result<&Vocab> {
    tokenizer.chars().ok_or_else(|| {
        Error::new(
            "checkpoint: logitlab's format stores character vocabularies only; this model's \
             tokenizer is byte-level BPE",
        )
    })
}

/// What a checkpoint holds.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub config: Config,
    pub vocab: Vocab,
    /// One array of values per parameter, in [`Config::layout`] order.
    pub tensors: Vec<Vec<f32>>,
}

/// Reads a checkpoint written by [`write`]. Anything else (not safetensors, truncated, wrong
/// shapes, missing metadata, a NaN or ±∞ weight, more than [`MAX_CHECKPOINT_BYTES`]) is an error
/// that says what.
pub fn read(bytes: &[u8]) -> Result<Checkpoint> {
    let bad = |what: String| Error::new(format!("checkpoint: {what}"));
    if bytes.len() > MAX_CHECKPOINT_BYTES {
        return Err(bad(over_cap(bytes.len(), MAX_CHECKPOINT_BYTES)));
    }
    let invalid = |e: String| {
        bad(format!(
            "not a valid safetensors file ({} bytes): {e}",
            bytes.len()
        ))
    };
    let data_start = safetensors_header::data_start(bytes.len(), bytes.get(..8).unwrap_or(bytes))
        .map_err(invalid)?;
    let data = &bytes[data_start..];
    let header =
        Header::parse(&bytes[8..data_start], data.len(), &[METADATA_KEY]).map_err(invalid)?;
    let record = header.metadata(METADATA_KEY).ok_or_else(|| {
        bad(format!(
            "no {METADATA_KEY:?} metadata: not a logitlab model"
        ))
    })?;
    let record: serde_json::Value = serde_json::from_str(record).map_err(|e| {
        bad(format!(
            "metadata {METADATA_KEY:?} is not JSON: {}",
            brief(&e)
        ))
    })?;
    let field = |key: &str| -> Result<&serde_json::Value> {
        record
            .get(key)
            .ok_or_else(|| bad(format!("metadata lacks {key:?}: not a logitlab model")))
    };
    let format = field("format")?.as_str().unwrap_or_default();
    if format != FORMAT {
        return Err(bad(format!(
            "format is {}, expected {FORMAT:?}",
            brief(&format_args!("{format:?}"))
        )));
    }
    let number = |key: &str| -> Result<usize> {
        let v = field(key)?;
        v.as_u64().map(|n| n as usize).ok_or_else(|| {
            bad(format!(
                "metadata {key:?} = {} is not a non-negative integer",
                brief(v)
            ))
        })
    };
    let config = Config {
        vocab_size: number("vocab_size")?,
        context_length: number("context_length")?,
        layers: number("layers")?,
        heads: number("heads")?,
        embd: number("embd")?,
        arch: Arch::LAB,
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    let vocab = field("vocab")?
        .as_str()
        .ok_or_else(|| bad("metadata \"vocab\" is not a string".into()))?;
    let vocab = Vocab::from_chars(vocab.chars().collect())
        .map_err(|e| bad(format!("metadata \"vocab\": {}", brief(&e))))?;
    vocab.check_size(&config)?;
    // The config's parameters, in layout order, each checked before it is decoded, so that the
    // first bad one is named whatever order the file lists them in; any other tensor is ignored.
    let tensors = config
        .layout()
        .iter()
        .map(|p| {
            let view = header.get(&p.name).ok_or_else(|| p.missing())?;
            p.check_shape(&view.shape)?;
            let name = &p.name;
            let data = &data[view.start..view.end];
            let values: Vec<f32> = match view.dtype {
                Dtype::F16 => data
                    .chunks_exact(2)
                    .map(|b| f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                ref other => {
                    return Err(bad(format!(
                        "tensor {name:?} has dtype {}, expected F16 or F32",
                        brief(&other.name())
                    )))
                }
            };
            if let Some(i) = values.iter().position(|x| !x.is_finite()) {
                return Err(bad(format!(
                    "tensor {name:?} holds {} at index {i}; weights must be finite",
                    values[i]
                )));
            }
            Ok(values)
        })
        .collect::<Result<_>>()?;
    Ok(Checkpoint {
        config,
        vocab,
        tensors,
    })
}

//! A Llama-family [`Net`] as a GGUF file that llama.cpp loads ([`to_gguf`]): what
//! [`super::gguf_model`] reads, written back.
//!
//! - the header is version 3, `general.alignment` 32;
//! - the metadata is `general.architecture` (`llama`, `qwen2`, `qwen3`), the `<arch>.*`
//!   hyperparameters the reader reads (`context_length`, `embedding_length`, `block_count`,
//!   `feed_forward_length`, `attention.head_count`, `attention.head_count_kv`,
//!   `attention.key_length`, `attention.value_length`, `attention.layer_norm_rms_epsilon`,
//!   `rope.freq_base`, `rope.dimension_count`, and `rope.scaling.type` / `rope.scaling.factor`
//!   for a linear scaling), then the tokenizer's `tokenizer.*` keys: as its file had them
//!   for a model read from GGUF (model, pre, tokens, scores, token types, merges, BOS/EOS
//!   ids, add-BOS flag, chat template), or, for a Hugging Face folder's byte-level BPE, as
//!   llama.cpp's converter writes them ([`gguf_tokenizer::bpe_metadata`]);
//! - the tensors are llama.cpp's names in the layout's order, each with ne = the PyTorch shape
//!   reversed: a float matrix in its type, a linear layer's transposed back to (out, in);
//!   quantised matrices as their blocks; vectors (norm gains, biases) in F32, as llama.cpp
//!   keeps them. q and k are written in the rotary layout the architecture implies
//!   ([`gguf_model::rope_layout`]): rows are permuted if the model holds them in the other.
//!
//! A model is refused, by name and reason (`model.ggufExport`), when the file could not say
//! what it computes: a GPT-2-family model (the reader takes the Llama family), a tokenizer
//! with no GGUF form (llama2.c's SentencePiece `tokenizer.bin`; a `tokenizer.json` that
//! [`gguf_tokenizer::bpe_metadata`] refuses: a pre-tokenizer llama.cpp does not name, byte
//! fallback, a post-processor that adds more than a BOS, added tokens with lstrip/rstrip),
//! Llama 3's rope scaling (llama.cpp's `rope_freqs.weight`, which the reader refuses), or a
//! file over [`MAX_GGUF_BYTES`]. The size is known, and checked, before the file is allocated.

use crate::error::{Code, Error, Result};
use crate::limits::{size_name, MAX_GGUF_BYTES};
use crate::model::format::gguf::{self, GgmlType, Value};
use crate::model::format::{gguf_model, gguf_tokenizer};
use crate::model::layout::Param;
use crate::model::quant::QType;
use crate::model::tensor::Tensor;
use crate::model::{Net, RopeLayout, RopeScaling, Tokenizer};

/// The alignment of the tensors' data (llama.cpp's default).
const ALIGNMENT: u32 = 32;

fn refuse(reason: &str) -> Error {
    Error::new(format!(
        "this model cannot be written as a GGUF file: {reason}"
    ))
    .coded(Code::ModelGgufExport, [("reason", reason.into())])
}

/// The ggml type of a quantised block type.
fn ggml_type(q: QType) -> GgmlType {
    match q {
        QType::Q8_0 => GgmlType::Q8_0,
        QType::Q4_0 => GgmlType::Q4_0,
        QType::Q5_0 => GgmlType::Q5_0,
        QType::Q4K => GgmlType::Q4_K,
        QType::Q6K => GgmlType::Q6_K,
    }
}

/// One tensor to write: its name, ne, type and bytes.
struct Out {
    name: String,
    dims: Vec<u64>,
    ggml_type: GgmlType,
    bytes: Vec<u8>,
}

/// The order of a head's hd rows in the `to` rotary layout, taken from the `from` layout:
/// row `order[r]` of the held matrix becomes row r. Interleaved pairs (x₂ᵢ, x₂ᵢ₊₁) are the
/// rotate-half pairs (xᵢ, xᵢ₊hd/2), as llama.cpp's converter permutes Hugging Face's q and k.
fn head_order(from: RopeLayout, to: RopeLayout, hd: usize) -> Vec<usize> {
    let half = hd / 2;
    (0..hd)
        .map(|r| match (from, to) {
            (RopeLayout::RotateHalf, RopeLayout::Interleaved) => (r % 2) * half + r / 2,
            (RopeLayout::Interleaved, RopeLayout::RotateHalf) => 2 * (r % half) + r / half,
            _ => r,
        })
        .collect()
}

/// `rows` rows of `width` bytes each, reordered head by head by `order` (hd rows a head).
fn permute_rows(bytes: &[u8], width: usize, order: &[usize]) -> Vec<u8> {
    let hd = order.len();
    let mut out = Vec::with_capacity(bytes.len());
    for head in bytes.chunks(hd * width) {
        for &r in order {
            out.extend_from_slice(&head[r * width..(r + 1) * width]);
        }
    }
    out
}

/// The little-endian bytes of a float tensor's values, in its type.
fn float_bytes(t: &Tensor) -> (GgmlType, Vec<u8>) {
    match t {
        Tensor::F32(v) => (
            GgmlType::F32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Tensor::F16(v) => (
            GgmlType::F16,
            v.iter().flat_map(|x| x.0.to_le_bytes()).collect(),
        ),
        Tensor::Bf16(v) => (
            GgmlType::BF16,
            v.iter().flat_map(|x| x.0.to_le_bytes()).collect(),
        ),
        Tensor::Quant(_) => unreachable!("a quantised tensor has no float bytes"),
    }
}

/// One parameter as llama.cpp stores it; `order` permutes its output rows (q and k).
fn tensor_out(name: String, p: &Param, t: &Tensor, order: Option<&[usize]>) -> Out {
    let dims: Vec<u64> = p.hf_shape().iter().rev().map(|&d| d as u64).collect();
    let (ggml_type, bytes) = match t {
        Tensor::Quant(q) => (ggml_type(q.qtype), q.data().to_vec()),
        _ if p.shape.len() == 1 => float_bytes(&Tensor::F32(t.to_f32().into_owned())),
        // A linear layer is held (in, out): back to (out, in), rows of `in` values.
        _ if p.hf_transposed => float_bytes(&t.transposed(p.shape[0], p.shape[1])),
        _ => float_bytes(t),
    };
    let bytes = match order {
        Some(order) => {
            // Rows of the outputs: ne[0] values each (one value each for a bias).
            let rows = dims.get(1).copied().unwrap_or(dims[0]) as usize;
            permute_rows(&bytes, bytes.len() / rows.max(1), order)
        }
        None => bytes,
    };
    Out {
        name,
        dims,
        ggml_type,
        bytes,
    }
}

/// `net` as the bytes of a GGUF file (see the module's doc).
pub fn to_gguf(net: &Net) -> Result<Vec<u8>> {
    let config = net.config();
    let Some(llama) = config.llama() else {
        return Err(refuse(
            "a GPT-2-family model; GGUF files are written for llama, qwen2 and qwen3 models",
        ));
    };
    let derived;
    let vocab: &[(String, Value)] =
        match (net.gguf_vocab(), net.tokenizer()) {
            (Some(v), _) => v,
            (None, Tokenizer::Bpe(t)) => {
                derived = gguf_tokenizer::bpe_metadata(
                    t,
                    config.vocab_size,
                    net.end_ids().first().copied(),
                    net.chat_template().map(|c| c.source()),
                )
                .map_err(|why| refuse(&why))?;
                &derived
            }
            (None, Tokenizer::SentencePiece(_)) => return Err(refuse(
                "its tokenizer is llama2.c's SentencePiece tokenizer.bin, which is written only \
                 for a model read from a GGUF file (it keeps the file's tokenizer metadata)",
            )),
            (None, Tokenizer::Chars(_)) => {
                return Err(refuse(
                    "its tokenizer is the lab's one token per character, which llama.cpp has no \
                 vocabulary type for",
                ))
            }
        };
    let tokens = vocab.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("tokenizer.ggml.tokens", Value::Array(a)) => Some(a.len()),
        _ => None,
    });
    if tokens != Some(config.vocab_size) {
        return Err(refuse(&format!(
            "its tokenizer metadata has {} tokens and its embedding {} rows; the two must agree",
            tokens.map_or("no".into(), |n| n.to_string()),
            config.vocab_size
        )));
    }
    let tensors = net.held_tensors();
    let arch = llama.variant.name();
    let hd = llama.head_dim;
    let key = |k: &str| format!("{arch}.{k}");
    let u32_of = |n: usize| Value::U32(n as u32);
    let mut metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        ("general.alignment".into(), Value::U32(ALIGNMENT)),
        (key("context_length"), u32_of(config.context_length)),
        (key("embedding_length"), u32_of(config.embd)),
        (key("block_count"), u32_of(config.layers)),
        (key("feed_forward_length"), u32_of(config.mlp_width())),
        (key("attention.head_count"), u32_of(config.heads)),
        (key("attention.head_count_kv"), u32_of(llama.kv_heads)),
        (key("attention.key_length"), u32_of(hd)),
        (key("attention.value_length"), u32_of(hd)),
        (
            key("attention.layer_norm_rms_epsilon"),
            Value::F32(config.arch.layer_norm_eps as f32),
        ),
        (key("rope.freq_base"), Value::F32(llama.rope.theta as f32)),
        (key("rope.dimension_count"), u32_of(hd)),
    ];
    match llama.rope.scaling {
        RopeScaling::None => {}
        RopeScaling::Linear { factor } => {
            metadata.push((key("rope.scaling.type"), Value::String("linear".into())));
            metadata.push((key("rope.scaling.factor"), Value::F32(factor as f32)));
        }
        RopeScaling::Llama3 { .. } => {
            return Err(refuse(
                "Llama 3's rope scaling; llama.cpp writes it as a rope_freqs.weight tensor, \
                 which the lab does not read back",
            ))
        }
    }
    metadata.extend(vocab.iter().cloned());
    let metadata: Vec<(&str, Value)> = metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();

    // q and k in the layout llama.cpp's kernel for this architecture rotates.
    let order = head_order(
        llama.rope.layout,
        gguf_model::rope_layout(llama.variant),
        hd,
    );
    let permuted = order.iter().enumerate().any(|(r, &o)| r != o);
    let names = gguf_model::gguf_names(config);
    let layout = config.layout();
    // The size first: every tensor's bytes as it will be written.
    let align = u64::from(ALIGNMENT);
    let mut infos = Vec::with_capacity(layout.len());
    let mut data_bytes = 0u64;
    for ((p, t), name) in layout.iter().zip(&tensors).zip(&names) {
        let len = match t {
            Tensor::Quant(q) => q.bytes() as u64,
            _ if p.shape.len() == 1 => 4 * p.elem_count() as u64,
            _ => t.bytes() as u64,
        };
        let dims: Vec<u64> = p.hf_shape().iter().rev().map(|&d| d as u64).collect();
        let ggml = match t {
            Tensor::Quant(q) => ggml_type(q.qtype),
            _ if p.shape.len() == 1 => GgmlType::F32,
            Tensor::F16(_) => GgmlType::F16,
            Tensor::Bf16(_) => GgmlType::BF16,
            _ => GgmlType::F32,
        };
        data_bytes += len.next_multiple_of(align);
        infos.push((name.as_str(), dims, ggml, len));
    }
    let info_refs: Vec<(&str, &[u64], GgmlType, u64)> = infos
        .iter()
        .map(|(n, d, t, l)| (*n, d.as_slice(), *t, *l))
        .collect();
    let header_bytes = gguf::write_header(&metadata, &info_refs);
    let total = header_bytes.len() as u64 + data_bytes;
    if total > MAX_GGUF_BYTES as u64 {
        return Err(refuse(&format!(
            "the file would take {total} bytes; at most {MAX_GGUF_BYTES} ({}) are read back",
            size_name(MAX_GGUF_BYTES)
        )));
    }
    let mut out = header_bytes;
    out.reserve_exact((total as usize).saturating_sub(out.len()));
    for ((p, t), (name, dims, ggml, len)) in layout.iter().zip(&tensors).zip(&infos) {
        let is_qk = name.contains(".attn_q.") || name.contains(".attn_k.");
        let o = tensor_out(
            (*name).to_string(),
            p,
            t,
            (permuted && is_qk).then_some(order.as_slice()),
        );
        debug_assert_eq!((&o.dims, o.ggml_type), (dims, *ggml), "{}", o.name);
        if o.bytes.len() as u64 != *len {
            return Err(Error::new(format!(
                "tensor {name} gave {} bytes, its info says {len}",
                o.bytes.len()
            )));
        }
        out.extend_from_slice(&o.bytes);
        out.resize((out.len() as u64).next_multiple_of(align) as usize, 0);
    }
    Ok(out)
}

//! llama2.c checkpoints: `model.bin` and `tokenizer.bin`, read only.
//!
//! `model.bin` comes in two layouts (llama2.c's `export.py`), both little-endian:
//!
//! - legacy ("version 0", what `run.c` reads): 7 × i32 header `dim, hidden_dim, n_layers,
//!   n_heads, n_kv_heads, vocab_size, seq_len`, a negative vocab_size meaning the classifier is
//!   not the embedding; then f32 tensors: token_embedding (V, C), rms_att (L, C), wq (L, C, C),
//!   wk, wv (L, kv, C), wo (L, C, C), rms_ffn (L, C), w1 (L, H, C), w2 (L, C, H), w3 (L, H, C),
//!   rms_final (C), freq_cis_real and freq_cis_imag (seq_len, hd/2 each; skipped, we compute
//!   the rotation), then wcls (V, C) if not shared;
//! - version 1: u32 magic 0x616b3432 ("ak42"), i32 version 1, the same 7 × i32, a u8
//!   shared_classifier flag, zeros up to byte 256; then rms_att, rms_ffn, rms_final,
//!   token_embedding, wq, wk, wv, wo, w1, w2, w3 and wcls if not shared.
//!
//! kv = n_kv_heads · hd, hd = dim / n_heads. Matrices are stored as PyTorch's (out, in); they
//! are transposed to the layout's (in, out) on reading. Every header value is checked before
//! anything is allocated from it, and every error names the file and the field. Weights must be
//! finite (a NaN or ±∞ is refused, naming the tensor), as in the other readers.

use crate::error::{Error, Result};
use crate::limits::{
    MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_INFERENCE_PARAMETERS, MAX_LAYERS,
    MAX_LLAMA2C_BYTES, MAX_MODEL_VOCAB, MAX_TOKENIZER_BIN_BYTES,
};
use crate::model::format::FileBytes;
use crate::model::layout::LlamaWeights;
use crate::model::tokenizer::SentencePiece;
use crate::model::{Arch, Config, Family, Gelu};

/// The magic number of version ≥ 1 files, "ak42" read as a little-endian u32.
pub const MAGIC: u32 = 0x616b_3432;
/// Bytes of the version 1 header.
const V1_HEADER: usize = 256;
/// Bytes of the legacy header.
const V0_HEADER: usize = 7 * 4;

/// A llama2.c checkpoint, read: one array per parameter of `config.layout()`.
#[derive(Debug)]
pub struct Checkpoint {
    pub config: Config,
    pub tokenizer: SentencePiece,
    pub tensors: Vec<Vec<f32>>,
    /// 0 for the legacy layout, 1 for version 1.
    pub version: u32,
}

/// The error for a bad `model.bin`.
fn bad(what: String) -> Error {
    Error::new(format!("model.bin: {what}"))
}

/// The tensors of a file, in file order: which one, and for which layer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tensor {
    Embedding,
    RmsAtt,
    Wq,
    Wk,
    Wv,
    Wo,
    RmsFfn,
    W1,
    W2,
    W3,
    RmsFinal,
    /// freq_cis_real and freq_cis_imag (legacy only; skipped).
    FreqCis,
    Classifier,
}

impl Tensor {
    /// The name llama2.c's `run.c` gives it.
    fn name(self) -> &'static str {
        match self {
            Tensor::Embedding => "token_embedding_table",
            Tensor::RmsAtt => "rms_att_weight",
            Tensor::Wq => "wq",
            Tensor::Wk => "wk",
            Tensor::Wv => "wv",
            Tensor::Wo => "wo",
            Tensor::RmsFfn => "rms_ffn_weight",
            Tensor::W1 => "w1",
            Tensor::W2 => "w2",
            Tensor::W3 => "w3",
            Tensor::RmsFinal => "rms_final_weight",
            Tensor::FreqCis => "freq_cis",
            Tensor::Classifier => "wcls",
        }
    }
}

/// Reads a llama2.c checkpoint from the bytes of its `model.bin` and `tokenizer.bin`.
pub fn read(model_bin: &[u8], tokenizer_bin: &[u8]) -> Result<Checkpoint> {
    read_parts(&model_bin, tokenizer_bin)
}

/// [`read`] with `model.bin` read a range at a time (see [`FileBytes`]): in the page the file
/// stays in JS memory and one tensor at a time is copied into wasm.
pub fn read_parts(file: &dyn FileBytes, tokenizer_bin: &[u8]) -> Result<Checkpoint> {
    let file_len = file.len();
    if file_len > MAX_LLAMA2C_BYTES {
        return Err(bad(format!(
            "has {file_len} bytes; at most {MAX_LLAMA2C_BYTES} (1 GiB) are accepted"
        )));
    }
    // Both headers fit in the first V1_HEADER bytes.
    let head = file.read(0, file_len.min(V1_HEADER));
    let i32_at = |at: usize| i32::from_le_bytes(head[at..at + 4].try_into().unwrap());
    let is_v1 = file_len >= 4 && i32_at(0) as u32 == MAGIC;
    let (version, fields_at, data_at) = if is_v1 {
        if file_len < V1_HEADER {
            return Err(bad(format!(
                "has {file_len} bytes, shorter than the {V1_HEADER}-byte header of a version 1 \
                 file"
            )));
        }
        match i32_at(4) {
            1 => (1, 8, V1_HEADER),
            v => {
                return Err(bad(format!(
                    "header field version must be 1 (or the file legacy, without magic), \
                     got {v}"
                )))
            }
        }
    } else {
        if file_len < V0_HEADER {
            return Err(bad(format!(
                "has {file_len} bytes, shorter than the {V0_HEADER}-byte header of a legacy file"
            )));
        }
        (0, 0, V0_HEADER)
    };
    let field = |i: usize| i64::from(i32_at(fields_at + 4 * i));
    let check = |name: &str, v: i64, hi: usize| -> Result<usize> {
        if v < 1 || v > hi as i64 {
            return Err(bad(format!(
                "header field {name} must be an integer in [1, {hi}], got {v}"
            )));
        }
        Ok(v as usize)
    };
    let dim = check("dim", field(0), MAX_EMBD)?;
    let hidden_dim = check("hidden_dim", field(1), 4 * MAX_EMBD)?;
    let n_layers = check("n_layers", field(2), MAX_LAYERS)?;
    let n_heads = check("n_heads", field(3), MAX_HEADS)?;
    let n_kv_heads = check("n_kv_heads", field(4), n_heads)?;
    let raw_vocab = field(5);
    let vocab_size = check("vocab_size", raw_vocab.abs(), MAX_MODEL_VOCAB)?;
    let seq_len = check("seq_len", field(6), MAX_CONTEXT_LENGTH)?;
    let shared = if is_v1 {
        match head[fields_at + 28] {
            0 => false,
            1 => true,
            b => {
                return Err(bad(format!(
                    "header field shared_classifier must be 0 or 1, got {b}"
                )))
            }
        }
    } else {
        raw_vocab > 0
    };
    if !dim.is_multiple_of(n_heads) {
        return Err(bad(format!(
            "header field dim must be a multiple of n_heads ({n_heads}), got {dim}"
        )));
    }
    if !n_heads.is_multiple_of(n_kv_heads) {
        return Err(bad(format!(
            "header field n_heads must be a multiple of n_kv_heads ({n_kv_heads}), got {n_heads}"
        )));
    }
    if !(dim / n_heads).is_multiple_of(2) {
        return Err(bad(format!(
            "header fields dim / n_heads (the head size) must be even for rotary embeddings, \
             got {dim} / {n_heads} = {}",
            dim / n_heads
        )));
    }
    let config = Config {
        vocab_size,
        context_length: seq_len,
        layers: n_layers,
        heads: n_heads,
        embd: dim,
        arch: Arch {
            layer_norm_eps: 1e-5,
            gelu: Gelu::Tanh, // unused by Llama's SwiGLU
            tied_head: shared,
            mlp_width: Some(hidden_dim),
            family: Family::Llama {
                kv_heads: n_kv_heads,
            },
        },
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    let parameters = config.parameter_count();
    if parameters > MAX_INFERENCE_PARAMETERS {
        return Err(bad(format!(
            "the header describes {parameters} parameters; at most {MAX_INFERENCE_PARAMETERS} \
             are accepted"
        )));
    }

    let hd = dim / n_heads;
    let kv = n_kv_heads * hd;
    let freq_cis = if version == 0 { seq_len * hd } else { 0 }; // real and imag, hd/2 each
    let expected = data_at as u64 + 4 * (parameters + freq_cis as u64);
    if file_len as u64 != expected {
        return Err(bad(format!(
            "has {} bytes, but its header (dim {dim}, hidden_dim {hidden_dim}, n_layers \
             {n_layers}, n_heads {n_heads}, n_kv_heads {n_kv_heads}, vocab_size {raw_vocab}, \
             seq_len {seq_len}{}) implies {expected}",
            file_len,
            if is_v1 {
                format!(", shared_classifier {}", u8::from(shared))
            } else {
                String::new()
            }
        )));
    }

    // The file's tensors in its order; each goes to its place in `config.layout()`.
    use Tensor::*;
    let per_layer = |t: Tensor| (0..n_layers).map(move |l| (t, l));
    let mut order: Vec<(Tensor, usize)> = if version == 0 {
        let mut o = vec![(Embedding, 0)];
        for t in [RmsAtt, Wq, Wk, Wv, Wo, RmsFfn, W1, W2, W3] {
            o.extend(per_layer(t));
        }
        o.extend([(RmsFinal, 0), (FreqCis, 0)]);
        o
    } else {
        let mut o: Vec<_> = per_layer(RmsAtt).chain(per_layer(RmsFfn)).collect();
        o.extend([(RmsFinal, 0), (Embedding, 0)]);
        for t in [Wq, Wk, Wv, Wo, W1, W2, W3] {
            o.extend(per_layer(t));
        }
        o
    };
    if !shared {
        order.push((Classifier, 0));
    }
    let layout = config.layout();
    // Each parameter's index in the layout, as the tree the forward pass reads.
    let place = LlamaWeights::from_layout_order(&config, (0..layout.len()).collect());
    let mut tensors: Vec<Vec<f32>> = vec![Vec::new(); layout.len()];
    let mut at = data_at;
    for (t, l) in order {
        // Its place in the layout and its stored shape (out, in); `None` for vectors and
        // (V, C) tables, which are stored as the layout has them.
        let b = &place.layers[l];
        let (index, stored) = match t {
            Embedding => (place.embed_tokens, None),
            RmsAtt => (b.input_layernorm, None),
            Wq => (b.q_proj, Some((dim, dim))),
            Wk => (b.k_proj, Some((kv, dim))),
            Wv => (b.v_proj, Some((kv, dim))),
            Wo => (b.o_proj, Some((dim, dim))),
            RmsFfn => (b.post_attention_layernorm, None),
            W1 => (b.gate_proj, Some((hidden_dim, dim))),
            W3 => (b.up_proj, Some((hidden_dim, dim))),
            W2 => (b.down_proj, Some((dim, hidden_dim))),
            RmsFinal => (place.norm, None),
            Classifier => (place.lm_head.expect("a separate classifier"), None),
            FreqCis => {
                at += 4 * freq_cis;
                continue;
            }
        };
        let n = layout[index].elem_count();
        let mut values = vec![0f32; n];
        file.read_f32(at, &mut values);
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            let layer = match t {
                Embedding | RmsFinal | Classifier => String::new(),
                _ => format!(" of layer {l}"),
            };
            return Err(bad(format!(
                "tensor {}{layer} holds {} at index {i}; weights must be finite",
                t.name(),
                values[i]
            )));
        }
        at += 4 * n;
        file.release(at);
        tensors[index] = match stored {
            None => values,
            Some((out, inp)) => transpose(&values, out, inp),
        };
    }
    debug_assert_eq!(at, file_len);

    if tokenizer_bin.len() > MAX_TOKENIZER_BIN_BYTES {
        return Err(Error::new(format!(
            "tokenizer.bin: has {} bytes; at most {MAX_TOKENIZER_BIN_BYTES} (32 MiB) are accepted",
            tokenizer_bin.len()
        )));
    }
    let tokenizer = SentencePiece::from_bytes(tokenizer_bin)?;
    if tokenizer.len() != vocab_size {
        return Err(Error::new(format!(
            "tokenizer.bin: has {} tokens, but model.bin's vocab_size is {vocab_size}; the \
             two files are not from the same model",
            tokenizer.len()
        )));
    }
    Ok(Checkpoint {
        config,
        tokenizer,
        tensors,
        version,
    })
}

/// (rows, cols) row-major → (cols, rows) row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for (r, row) in values.chunks_exact(cols).enumerate() {
        for (c, &x) in row.iter().enumerate() {
            out[c * rows + r] = x;
        }
    }
    out
}

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
    over_cap, MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_INFERENCE_PARAMETERS, MAX_LAYERS,
    MAX_LLAMA2C_BYTES, MAX_MODEL_VOCAB, MAX_TOKENIZER_BIN_BYTES, MAX_WEIGHT_BYTES,
};
use crate::model::format::{copy_from, Slots};
use crate::model::layout::LlamaWeights;
use crate::model::tokenizer::SentencePiece;
use crate::model::{Arch, Config, Family, Gelu, Llama};

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
    let mut reader = Reader::new(Some(model_bin.len()), tokenizer_bin)?;
    reader.push(model_bin)?;
    reader.finish()
}

/// Reads `model.bin` front to back as its bytes arrive, in parts of any size: the page feeds it
/// a download or a dropped file through one reused buffer, so a 438 MB model is never in memory
/// twice, not even as garbage waiting for the collector. Each part goes straight to its place
/// in one tensor's values. When the file's length is known, the header is checked against it
/// before any tensor is allocated, and each tensor is allocated whole when its first byte
/// arrives; when it is not, a tensor grows with the bytes that arrive (to at most twice them),
/// so a short or lying stream costs memory in proportion to what it sent.
///
/// `tokenizer.bin` is read first, so a mismatched pair is refused once the header is in,
/// before the weights are downloaded.
#[derive(Debug)]
pub struct Reader {
    /// The file's length, when known beforehand (a file's size; a download's Content-Length):
    /// then the header is checked against it before any tensor is allocated.
    file_len: Option<usize>,
    tokenizer: SentencePiece,
    /// The first bytes, until the header can be read.
    head: Vec<u8>,
    plan: Option<Plan>,
    /// Bytes received so far.
    received: usize,
    tensors: Vec<Vec<f32>>,
    /// The segment being filled, its values (as bytes: `filled` of them so far).
    segment: usize,
    values: Vec<f32>,
    filled: usize,
    /// Where skipped bytes (freq_cis) go.
    scratch: Vec<u8>,
}

/// What the header says: the config, and the file's segments in order after the header.
#[derive(Debug)]
struct Plan {
    config: Config,
    version: u32,
    /// The file's length the header implies.
    len: usize,
    segments: Vec<Segment>,
}

/// One tensor of the file, or bytes to skip.
#[derive(Debug)]
struct Segment {
    tensor: Tensor,
    layer: usize,
    /// Its index in `config.layout()`; `None` for bytes that are skipped.
    index: Option<usize>,
    /// How many f32 values it holds.
    values: usize,
    /// The stored (out, in) shape of a matrix transposed on reading to the layout's (in, out).
    stored: Option<(usize, usize)>,
}

impl Reader {
    /// A reader for a `model.bin` of `file_len` bytes if known, with its `tokenizer.bin`.
    pub fn new(file_len: Option<usize>, tokenizer_bin: &[u8]) -> Result<Reader> {
        if let Some(len) = file_len.filter(|&len| len > MAX_LLAMA2C_BYTES) {
            return Err(bad(format!("has {}", over_cap(len, MAX_LLAMA2C_BYTES))));
        }
        if tokenizer_bin.len() > MAX_TOKENIZER_BIN_BYTES {
            return Err(Error::new(format!(
                "tokenizer.bin: has {}",
                over_cap(tokenizer_bin.len(), MAX_TOKENIZER_BIN_BYTES)
            )));
        }
        Ok(Reader {
            file_len,
            tokenizer: SentencePiece::from_bytes(tokenizer_bin)?,
            head: Vec::with_capacity(V1_HEADER),
            plan: None,
            received: 0,
            tensors: Vec::new(),
            segment: 0,
            values: Vec::new(),
            filled: 0,
            scratch: Vec::new(),
        })
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// How many first bytes the header is read from: both headers fit in the first V1_HEADER.
    fn head_len(&self) -> usize {
        V1_HEADER.min(self.file_len.unwrap_or(V1_HEADER))
    }

    /// Takes `bytes`, the file's next part.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.fill(bytes.len(), copy_from(bytes))
    }

    /// Takes the file's next `len` bytes from a source outside this memory (a JS array):
    /// `copy(at, dest)` writes its bytes `at..at + dest.len()` into `dest`, which is where they
    /// belong, so each byte is copied once.
    pub fn push_with(&mut self, len: usize, copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        self.fill(len, copy)
    }

    /// The checkpoint, once every byte is in; an error if the file ended early.
    pub fn finish(mut self) -> Result<Checkpoint> {
        if self.plan.is_none() {
            // A file shorter than V1_HEADER whose length was not known: what arrived is all.
            self.file_len = Some(self.received);
            self.read_header()?;
        }
        let plan = self.plan.expect("read above");
        if self.received != plan.len {
            return Err(bad(length_mismatch(self.received, &plan)));
        }
        Ok(Checkpoint {
            config: plan.config,
            tokenizer: self.tokenizer,
            tensors: self.tensors,
            version: plan.version,
        })
    }

    /// Reads the header from `head`, checks it (against the file's length when known, and the
    /// tokenizer's size), and replays the bytes after it.
    fn read_header(&mut self) -> Result<()> {
        let (plan, data_at) = plan(&self.head)?;
        if let Some(len) = self.file_len {
            if len != plan.len {
                return Err(bad(length_mismatch(len, &plan)));
            }
        }
        let vocab_size = plan.config.vocab_size;
        if self.tokenizer.len() != vocab_size {
            return Err(Error::new(format!(
                "tokenizer.bin: has {} tokens, but model.bin's vocab_size is {vocab_size}; the \
                 two files are not from the same model",
                self.tokenizer.len()
            )));
        }
        self.tensors = vec![Vec::new(); plan.config.layout().len()];
        self.plan = Some(plan);
        let head = std::mem::take(&mut self.head);
        self.received = data_at;
        self.push(&head[data_at.min(head.len())..])
    }

    /// The current segment is complete: checks its values and puts them in place.
    fn end_segment(&mut self) -> Result<()> {
        let plan = self.plan.as_ref().expect("segments come after the plan");
        let seg = &plan.segments[self.segment];
        self.segment += 1;
        self.filled = 0;
        let Some(index) = seg.index else {
            return Ok(());
        };
        let values = std::mem::take(&mut self.values);
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            let layer = match seg.tensor {
                Tensor::Embedding | Tensor::RmsFinal | Tensor::Classifier => String::new(),
                _ => format!(" of layer {}", seg.layer),
            };
            return Err(bad(format!(
                "tensor {}{layer} holds {} at index {i}; weights must be finite",
                seg.tensor.name(),
                values[i]
            )));
        }
        self.tensors[index] = match seg.stored {
            None => values,
            Some((out, inp)) => transpose(&values, out, inp),
        };
        Ok(())
    }
}

/// The header first, then each tensor's values straight into their array (a skipped part of
/// the file into a scratch buffer).
impl Slots for Reader {
    fn next_bytes(&mut self, max: usize) -> &mut [u8] {
        let Some(plan) = &self.plan else {
            let want = self.head_len() - self.head.len();
            let at = self.head.len();
            self.head.resize(at + want.min(max), 0);
            return &mut self.head[at..];
        };
        let Some(seg) = plan.segments.get(self.segment) else {
            return &mut [];
        };
        let left = 4 * seg.values - self.filled;
        if seg.index.is_none() {
            self.scratch.resize(left.min(max).min(1 << 16), 0);
            return &mut self.scratch;
        }
        let end = self.filled + left.min(max);
        if 4 * self.values.len() < end {
            // A stream may end at any point, whatever length it claimed: the memory taken
            // follows the bytes that came, at most twice them (and 64 KiB), not what the header
            // and the file's length claim. (The last tensor allocated grows in place in wasm,
            // where it sits at the top of the heap.)
            let grown = (end.max(8 * self.values.len()).max(1 << 16)).div_ceil(4);
            let grown = grown.min(seg.values);
            self.values.reserve_exact(grown - self.values.len());
            self.values.resize(grown, 0.0);
        }
        // SAFETY: any bytes are a valid f32 (wasm and x86 are little-endian, as the file is).
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(
                self.values.as_mut_ptr().cast::<u8>(),
                4 * self.values.len(),
            )
        };
        &mut bytes[self.filled..end]
    }

    fn advance(&mut self, n: usize) -> Result<()> {
        self.received += n;
        let Some(plan) = &self.plan else {
            self.head.truncate(self.received);
            if self.head.len() == self.head_len() {
                self.read_header()?;
            }
            return Ok(());
        };
        let Some(seg) = plan.segments.get(self.segment) else {
            return if n == 0 {
                Ok(())
            } else {
                Err(bad(format!(
                    "has more bytes than the {} its header implies",
                    plan.len
                )))
            };
        };
        let size = 4 * seg.values;
        self.filled += n;
        if self.filled == size {
            self.end_segment()?;
        }
        Ok(())
    }
}

/// The error for a file whose length is not the one its header implies.
fn length_mismatch(len: usize, plan: &Plan) -> String {
    let c = &plan.config;
    let Family::Llama(Llama { kv_heads, .. }) = c.arch.family else {
        unreachable!("a llama2.c config")
    };
    let raw_vocab = if c.arch.tied_head || plan.version == 1 {
        c.vocab_size as i64
    } else {
        -(c.vocab_size as i64)
    };
    format!(
        "has {len} bytes, but its header (dim {}, hidden_dim {}, n_layers {}, n_heads {}, \
         n_kv_heads {kv_heads}, vocab_size {raw_vocab}, seq_len {}{}) implies {}",
        c.embd,
        c.mlp_width(),
        c.layers,
        c.heads,
        c.context_length,
        if plan.version == 1 {
            format!(", shared_classifier {}", u8::from(c.arch.tied_head))
        } else {
            String::new()
        },
        plan.len
    )
}

/// Reads and checks the header at the start of `head` (the file's first bytes: all of them, or
/// at least [`V1_HEADER`]): the plan of the file, and where its data starts. Nothing is
/// allocated from a header value before it is checked.
fn plan(head: &[u8]) -> Result<(Plan, usize)> {
    let i32_at = |at: usize| i32::from_le_bytes(head[at..at + 4].try_into().unwrap());
    let is_v1 = head.len() >= 4 && i32_at(0) as u32 == MAGIC;
    let (version, fields_at, data_at) = if is_v1 {
        if head.len() < V1_HEADER {
            return Err(bad(format!(
                "has {} bytes, shorter than the {V1_HEADER}-byte header of a version 1 file",
                head.len()
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
        if head.len() < V0_HEADER {
            return Err(bad(format!(
                "has {} bytes, shorter than the {V0_HEADER}-byte header of a legacy file",
                head.len()
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
            family: Family::Llama(Llama::llama2c(n_kv_heads, dim / n_heads)),
        },
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    let parameters = config.parameter_count();
    if parameters > MAX_INFERENCE_PARAMETERS || 4 * parameters > MAX_WEIGHT_BYTES as u64 {
        return Err(bad(format!(
            "the header describes {parameters} parameters; at most {MAX_INFERENCE_PARAMETERS}, \
             taking at most {MAX_WEIGHT_BYTES} bytes in f32, are accepted"
        )));
    }

    let hd = dim / n_heads;
    let kv = n_kv_heads * hd;
    let freq_cis = if version == 0 { seq_len * hd } else { 0 }; // real and imag, hd/2 each
    let len = data_at + 4 * (parameters as usize + freq_cis);

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
    let segments = order
        .into_iter()
        .map(|(tensor, layer)| {
            // Its place in the layout and its stored shape (out, in); `None` for vectors and
            // (V, C) tables, which are stored as the layout has them.
            let b = &place.layers[layer];
            let (index, stored) = match tensor {
                Embedding => (place.embed_tokens, None),
                RmsAtt => (b.input_layernorm, None),
                Wq => (b.q_proj.weight, Some((dim, dim))),
                Wk => (b.k_proj.weight, Some((kv, dim))),
                Wv => (b.v_proj.weight, Some((kv, dim))),
                Wo => (b.o_proj.weight, Some((dim, dim))),
                RmsFfn => (b.post_attention_layernorm, None),
                W1 => (b.gate_proj.weight, Some((hidden_dim, dim))),
                W3 => (b.up_proj.weight, Some((hidden_dim, dim))),
                W2 => (b.down_proj.weight, Some((dim, hidden_dim))),
                RmsFinal => (place.norm, None),
                Classifier => (place.lm_head.expect("a separate classifier"), None),
                FreqCis => {
                    return Segment {
                        tensor,
                        layer,
                        index: None,
                        values: freq_cis,
                        stored: None,
                    }
                }
            };
            Segment {
                tensor,
                layer,
                index: Some(index),
                values: layout[index].elem_count(),
                stored,
            }
        })
        .collect();
    Ok((
        Plan {
            config,
            version,
            len,
            segments,
        },
        data_at,
    ))
}

/// (rows, cols) row-major → (cols, rows) row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    crate::model::tensor::transpose_into(values, rows, cols, &mut out);
    out
}

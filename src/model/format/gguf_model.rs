//! A Llama-family model from a GGUF file ([`super::gguf`]): llama.cpp's `llama`, `qwen2` and
//! `qwen3` architectures, mapped onto the same [`Description`]s and layout as the Hugging Face
//! folders ([`super::hf_llama`]), so one forward pass computes them all.
//!
//! - the architecture is `general.architecture`; its hyperparameters are the `<arch>.*` keys
//!   (`context_length`, `embedding_length`, `block_count`, `feed_forward_length`,
//!   `attention.head_count`, `attention.head_count_kv`, `attention.layer_norm_rms_epsilon`,
//!   `attention.key_length`, `rope.freq_base`, `rope.dimension_count`, `rope.scaling.type`
//!   none or linear, `rope.scaling.factor`). Any other `<arch>.*` key may change the maths
//!   (sliding windows, experts, partial rotation, YaRN) and is refused by name, as is a
//!   `rope_freqs.weight` tensor (llama.cpp's form of Llama 3's rope scaling);
//! - the tensors are llama.cpp's names (`token_embd.weight`, `blk.N.attn_q.weight`, …,
//!   `output_norm.weight`, `output.weight` unless the head is tied), each with ne = the
//!   PyTorch shape reversed: a linear layer's (out, in) weight is ne = [in, out], rows of `in`
//!   values. f32, f16 and bf16 matrices are kept in their type ([`Tensor`]) and transposed to
//!   the layout's (in, out); Q8_0, Q4_0, Q5_0, Q4_K and Q6_K matrices are kept as their blocks
//!   ([`QMatrix`], rows of the layer's outputs); vectors (norm gains, biases) are widened to
//!   f32. Every other type is refused by name and tensor;
//! - the RoPE layout comes from the architecture ([`rope_layout`]);
//! - the tokenizer is the metadata's ([`super::gguf_tokenizer`]).
//!
//! The header (metadata and tensor infos) is checked whole, shapes and types included, before
//! any weight is allocated.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::{brief, Code, Error, Result};
use crate::limits::{
    MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS, MAX_MODEL_VOCAB, MAX_WEIGHT_BYTES,
};
use crate::model::config::Choice;
use crate::model::format::gguf::{self, GgmlType, Header, TensorInfo, Value};
use crate::model::format::gguf_tokenizer::{self, GgufTokenizer};
use crate::model::layout::LlamaWeights;
use crate::model::quant::{QMatrix, QType};
use crate::model::tensor::{Dtype, Tensor};
use crate::model::{Arch, Config, Family, Gelu, Llama, Rope, RopeLayout, RopeScaling, Variant};

/// What a GGUF file holds, read.
#[derive(Debug)]
pub struct Checkpoint {
    pub config: Config,
    pub tokenizer: GgufTokenizer,
    /// One tensor per parameter, in [`Config::layout`] order.
    pub tensors: Vec<Tensor>,
    /// How many of the file's tensors are of each type, by its name (`"q4_K"`, `"f32"`).
    pub tensor_types: Vec<(&'static str, usize)>,
}

/// Which values of a head one RoPE frequency turns, by architecture: the one place that says
/// it. llama.cpp's converter permutes the q and k weights of `llama` models (Hugging Face's
/// rotate-half order back to Meta's original pairs), so they rotate adjacent pairs, ggml's
/// "normal" RoPE; `qwen2` and `qwen3` weights are stored as Hugging Face has them and rotate
/// the two halves of each head (ggml's "NeoX" RoPE).
pub fn rope_layout(variant: Variant) -> RopeLayout {
    match variant {
        Variant::Llama => RopeLayout::Interleaved,
        Variant::Qwen2 | Variant::Qwen3 => RopeLayout::RotateHalf,
    }
}

/// The architecture names `general.architecture` may hold.
fn architecture(name: &str) -> Option<Variant> {
    Variant::ALL.into_iter().find(|v| v.name() == name)
}

/// The `<arch>.*` keys this reader understands; any other is refused.
const KNOWN_KEYS: [&str; 16] = [
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.layer_norm_rms_epsilon",
    "attention.key_length",
    "attention.value_length",
    "rope.freq_base",
    "rope.dimension_count",
    "rope.scaling.type",
    "rope.scaling.factor",
    "rope.scaling.original_context_length",
    "rope.scaling.finetuned",
    "vocab_size",
];

/// Tensor types the lab computes with, as the errors list them.
const SUPPORTED_TYPES: &str = "F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K";

/// The storage a tensor of `t` gets: a float [`Dtype`] or a quantised one; `None` if the lab
/// does not compute with it.
fn dtype_of(t: GgmlType) -> Option<Dtype> {
    Some(match t {
        GgmlType::F32 => Dtype::F32,
        GgmlType::F16 => Dtype::F16,
        GgmlType::BF16 => Dtype::Bf16,
        GgmlType::Q8_0 => Dtype::Quant(QType::Q8_0),
        GgmlType::Q4_0 => Dtype::Quant(QType::Q4_0),
        GgmlType::Q5_0 => Dtype::Quant(QType::Q5_0),
        GgmlType::Q4_K => Dtype::Quant(QType::Q4K),
        GgmlType::Q6_K => Dtype::Quant(QType::Q6K),
        _ => return None,
    })
}

/// The metadata of one file, read with errors that name the file and the key.
struct Keys<'a> {
    file: &'a str,
    header: &'a Header,
    arch: &'a str,
}

impl Keys<'_> {
    fn missing(&self, key: &str) -> Error {
        Error::new(format!("{}: metadata {key} is missing", self.file)).coded(
            Code::ModelConfigMissing,
            [("file", self.file.into()), ("field", key.into())],
        )
    }

    fn value(&self, key: &str, value: &dyn std::fmt::Display, wanted: &str) -> Error {
        let shown = brief(value);
        Error::new(format!(
            "{}: metadata {key} is {shown}; {wanted}",
            self.file
        ))
        .coded(
            Code::ModelConfigValue,
            [
                ("file", self.file.into()),
                ("field", key.into()),
                ("value", shown.into()),
            ],
        )
    }

    /// `<arch>.{key}`.
    fn full(&self, key: &str) -> String {
        format!("{}.{key}", self.arch)
    }

    /// An integer in [lo, hi] at `<arch>.{key}`, or `default` when absent (`None`: required).
    fn int(&self, key: &str, lo: usize, hi: usize, default: Option<usize>) -> Result<usize> {
        let full = self.full(key);
        let Some(v) = self.header.get(&full) else {
            return default.ok_or_else(|| self.missing(&full));
        };
        match v.as_int() {
            Some(n) if (lo as i128..=hi as i128).contains(&n) => Ok(n as usize),
            _ => Err(self.value(&full, v, &format!("an integer in [{lo}, {hi}] is needed"))),
        }
    }

    /// A number at `<arch>.{key}` that `ok` accepts, or `default` when absent.
    fn number(
        &self,
        key: &str,
        default: Option<f64>,
        wanted: &str,
        ok: fn(f64) -> bool,
    ) -> Result<f64> {
        let full = self.full(key);
        let Some(v) = self.header.get(&full) else {
            return default.ok_or_else(|| self.missing(&full));
        };
        match v {
            Value::F32(_) | Value::F64(_) => {}
            _ if v.as_int().is_some() => {}
            _ => return Err(self.value(&full, v, wanted)),
        }
        match v.as_f64() {
            Some(x) if ok(x) => Ok(x),
            _ => Err(self.value(&full, v, wanted)),
        }
    }
}

/// The network's shape from the header's metadata and tensor infos: the architecture, its
/// hyperparameters, and which biases and head the tensors say it has.
pub fn read_config(file: &str, header: &Header) -> Result<Config> {
    let arch_value = header.get("general.architecture");
    let Some(arch_name) = arch_value.and_then(Value::as_str) else {
        return Err(match arch_value {
            None => Error::new(format!("{file}: metadata general.architecture is missing")).coded(
                Code::ModelConfigMissing,
                [
                    ("file", file.into()),
                    ("field", "general.architecture".into()),
                ],
            ),
            Some(v) => Error::new(format!(
                "{file}: metadata general.architecture is {}, not a string",
                brief(v)
            ))
            .coded(
                Code::ModelConfigValue,
                [
                    ("file", file.into()),
                    ("field", "general.architecture".into()),
                    ("value", brief(v).into()),
                ],
            ),
        });
    };
    let Some(variant) = architecture(arch_name) else {
        let supported: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
        return Err(Error::new(format!(
            "{file}: architecture {} is not supported; supported: {}",
            brief(&arch_name),
            supported.join(", ")
        ))
        .coded(
            Code::ModelArchitecture,
            [("architecture", brief(&arch_name).into())],
        ));
    };
    let k = Keys {
        file,
        header,
        arch: arch_name,
    };
    // A key of this architecture that the reader does not know may change the maths.
    let prefix = format!("{arch_name}.");
    for (key, v) in &header.metadata {
        if let Some(rest) = key.strip_prefix(&prefix) {
            if !KNOWN_KEYS.contains(&rest) {
                return Err(k.value(
                    key,
                    v,
                    &format!(
                        "the lab does not compute what this key describes; the {arch_name} \
                         keys it reads are {}",
                        KNOWN_KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    let d = variant.description();
    let embd = k.int("embedding_length", 1, MAX_EMBD, None)?;
    let layers = k.int("block_count", 1, MAX_LAYERS, None)?;
    let heads = k.int("attention.head_count", 1, MAX_HEADS, None)?;
    let kv_heads = k.int("attention.head_count_kv", 1, MAX_HEADS, Some(heads))?;
    if !heads.is_multiple_of(kv_heads) {
        return Err(mismatch(
            file,
            &k.full("attention.head_count_kv"),
            kv_heads,
            format!("{} = {heads}", k.full("attention.head_count")),
            "does not divide",
        ));
    }
    let default_hd = embd.is_multiple_of(heads).then_some(embd / heads);
    let head_dim = k.int("attention.key_length", 2, MAX_EMBD, default_hd)?;
    let value_length = k.int("attention.value_length", 2, MAX_EMBD, Some(head_dim))?;
    if value_length != head_dim {
        return Err(mismatch(
            file,
            &k.full("attention.value_length"),
            value_length,
            format!("{} = {head_dim}", k.full("attention.key_length")),
            "differs from",
        ));
    }
    let rotated = k.int("rope.dimension_count", 1, MAX_EMBD, Some(head_dim))?;
    if rotated != head_dim {
        return Err(k.value(
            &k.full("rope.dimension_count"),
            &rotated,
            &format!("the rotation must turn the whole head of {head_dim} values"),
        ));
    }
    if !head_dim.is_multiple_of(2) || heads * head_dim > MAX_EMBD {
        return Err(k.value(
            &k.full("attention.key_length"),
            &head_dim,
            &format!(
                "an even width is needed (rotary embeddings turn pairs), with head_count × \
                 key_length at most {MAX_EMBD}"
            ),
        ));
    }
    let mlp_width = k.int("feed_forward_length", 1, 4 * MAX_EMBD, None)?;
    let positions = k.int("context_length", 1, 1 << 24, None)?;
    let eps = k.number(
        "attention.layer_norm_rms_epsilon",
        None,
        "a number in (0, 1] is needed",
        |e| e > 0.0 && e <= 1.0,
    )?;
    let theta = k.number(
        "rope.freq_base",
        Some(10_000.0),
        "a finite number > 1 is needed",
        |t| t.is_finite() && t > 1.0,
    )?;
    let scaling = match header.get(&k.full("rope.scaling.type")) {
        None => RopeScaling::None,
        Some(v) => match v.as_str() {
            Some("none") => RopeScaling::None,
            Some("linear") => RopeScaling::Linear {
                factor: k.number(
                    "rope.scaling.factor",
                    None,
                    "a finite number ≥ 1 is needed",
                    |x| x.is_finite() && x >= 1.0,
                )?,
            },
            _ => {
                return Err(k.value(
                    &k.full("rope.scaling.type"),
                    v,
                    "only \"none\" and \"linear\" are supported",
                ))
            }
        },
    };
    // What the tensors say: the vocabulary (the embedding's rows), biases, a separate head.
    let embedding = header
        .tensor("token_embd.weight")
        .map(|(_, t)| t)
        .ok_or_else(|| tensor_missing(file, "token_embd.weight"))?;
    let vocab_size = match embedding.dims[..] {
        [c, v] if c == embd as u64 && (2..=MAX_MODEL_VOCAB as u64).contains(&v) => v as usize,
        _ => {
            return Err(shape_error(
                file,
                embedding,
                &format!("[{embd}, V] with V in [2, {MAX_MODEL_VOCAB}]"),
            ))
        }
    };
    let has = |name: &str| header.tensor(name).is_some();
    let choice = |c: Choice, tensor: &str| match c {
        Choice::Fixed(b) => b,
        Choice::Field(_) => has(tensor),
    };
    let llama = Llama {
        variant,
        kv_heads,
        head_dim,
        rope: Rope {
            layout: rope_layout(variant),
            theta,
            scaling,
        },
        qkv_bias: choice(d.qkv_bias, "blk.0.attn_q.bias"),
        o_bias: choice(d.o_bias, "blk.0.attn_output.bias"),
        mlp_bias: choice(d.mlp_bias, "blk.0.ffn_gate.bias"),
        qk_norm: d.qk_norm,
    };
    let config = Config {
        vocab_size,
        context_length: positions.min(MAX_CONTEXT_LENGTH),
        layers,
        heads,
        embd,
        arch: Arch {
            layer_norm_eps: eps,
            gelu: Gelu::Tanh, // unused by SwiGLU
            tied_head: !has("output.weight"),
            mlp_width: Some(mlp_width),
            family: Family::Llama(llama),
        },
    };
    config.check_for_inference(file)?;
    Ok(config)
}

fn mismatch(file: &str, key: &str, value: usize, other: String, why: &str) -> Error {
    Error::new(format!("{file}: metadata {key} = {value} {why} {other}")).coded(
        Code::ModelConfigMismatch,
        [
            ("file", file.into()),
            ("field", key.into()),
            ("value", value.to_string().into()),
            ("other", other.into()),
        ],
    )
}

fn tensor_missing(file: &str, name: &str) -> Error {
    Error::new(format!("{file}: tensor {name} is missing"))
        .coded(Code::ModelTensorMissing, [("tensor", name.into())])
}

fn shape_error(file: &str, t: &TensorInfo, expected: &str) -> Error {
    let shape = format!("{:?}", t.dims);
    Error::new(format!(
        "{file}: tensor {} has ne {}; the metadata implies {expected}",
        brief(&t.name),
        brief(&shape)
    ))
    .coded(
        Code::ModelTensorShape,
        [
            ("tensor", t.name.as_str().into()),
            ("shape", shape.into()),
            ("expected", expected.into()),
        ],
    )
}

/// llama.cpp's name of each parameter of `config`'s layout, in layout order.
pub(crate) fn gguf_names(config: &Config) -> Vec<String> {
    let layout = config.layout();
    let w = LlamaWeights::from_layout_order(config, (0..layout.len()).collect::<Vec<usize>>());
    let mut names = vec![String::new(); layout.len()];
    names[w.embed_tokens] = "token_embd.weight".into();
    names[w.norm] = "output_norm.weight".into();
    if let Some(i) = w.lm_head {
        names[i] = "output.weight".into();
    }
    for (l, b) in w.layers.iter().enumerate() {
        let mut put = |i: usize, s: &str| names[i] = format!("blk.{l}.{s}");
        put(b.input_layernorm, "attn_norm.weight");
        put(b.post_attention_layernorm, "ffn_norm.weight");
        for (proj, s) in [
            (&b.q_proj, "attn_q"),
            (&b.k_proj, "attn_k"),
            (&b.v_proj, "attn_v"),
            (&b.o_proj, "attn_output"),
            (&b.gate_proj, "ffn_gate"),
            (&b.up_proj, "ffn_up"),
            (&b.down_proj, "ffn_down"),
        ] {
            put(proj.weight, &format!("{s}.weight"));
            if let Some(bias) = proj.bias {
                put(bias, &format!("{s}.bias"));
            }
        }
        if let (Some(q), Some(k)) = (b.q_norm, b.k_norm) {
            put(q, "attn_q_norm.weight");
            put(k, "attn_k_norm.weight");
        }
    }
    names
}

/// What the header decides: the config, the tokenizer, and for each parameter the index of
/// its tensor in the file.
#[derive(Debug)]
struct Plan {
    config: Config,
    tokenizer: GgufTokenizer,
    /// By layout index: the tensor's index in the header.
    sources: Vec<usize>,
    tensor_types: Vec<(&'static str, usize)>,
}

/// Checks the header against the model it describes; which of its tensors to keep.
fn plan(file: &str, header: &Header) -> Result<Plan> {
    let config = read_config(file, header)?;
    let layout = config.layout();
    let names = gguf_names(&config);
    let mut sources = Vec::with_capacity(layout.len());
    let mut bytes = 0u64;
    for (p, name) in layout.iter().zip(&names) {
        let (index, t) = header
            .tensor(name)
            .ok_or_else(|| tensor_missing(file, name))?;
        let want: Vec<u64> = p.hf_shape().iter().rev().map(|&d| d as u64).collect();
        if t.dims != want {
            return Err(shape_error(file, t, &format!("{want:?}")));
        }
        let Some(dtype) = dtype_of(t.ggml_type) else {
            let (type_name, tensor) = (t.ggml_type.name(), brief(&t.name));
            return Err(Error::new(format!(
                "{file}: tensor {tensor} is {type_name}; supported: {SUPPORTED_TYPES}"
            ))
            .coded(
                Code::ModelGgufTensorType,
                [
                    ("tensor", tensor.into()),
                    ("type", type_name.into()),
                    ("supported", SUPPORTED_TYPES.into()),
                ],
            ));
        };
        bytes += match (p.shape.len(), dtype) {
            (1, _) => 4 * p.elem_count() as u64,
            (_, Dtype::Quant(_)) => t.bytes,
            (_, d) => (d.width() * p.elem_count()) as u64,
        };
        sources.push(index);
    }
    if bytes > MAX_WEIGHT_BYTES as u64 {
        return Err(Error::new(format!(
            "{file}: the weights would take {bytes} bytes of memory; at most \
             {MAX_WEIGHT_BYTES} ({}) are accepted",
            crate::limits::size_name(MAX_WEIGHT_BYTES)
        )));
    }
    // Every tensor of the file is one of the model's: another (rope_freqs.weight, an expert's)
    // would change the maths.
    if let Some(extra) = header.tensors.iter().find(|t| !names.contains(&t.name)) {
        return Err(Error::new(format!(
            "{file}: tensor {} is not one of a {} model's; the lab does not compute with it",
            brief(&extra.name),
            config.llama().map_or("", |l| l.variant.name())
        ))
        .coded(
            Code::ModelGguf,
            [
                ("field", "tensor name".into()),
                ("value", extra.name.as_str().into()),
                ("expected", "a tensor of the architecture's layout".into()),
            ],
        ));
    }
    let tokenizer = gguf_tokenizer::read(file, header, config.vocab_size)?;
    let mut tensor_types: Vec<(&'static str, usize)> = Vec::new();
    for &i in &sources {
        let name = match dtype_of(header.tensors[i].ggml_type) {
            Some(d) => d.name(),
            None => unreachable!("checked above"),
        };
        match tensor_types.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => tensor_types.push((name, 1)),
        }
    }
    Ok(Plan {
        config,
        tokenizer,
        sources,
        tensor_types,
    })
}

/// Reads a whole GGUF file `file` (its name, for errors).
pub fn read(file: &str, bytes: &[u8]) -> Result<Checkpoint> {
    let mut reader = Reader::new(file, Some(bytes.len()))?;
    reader.push(bytes)?;
    reader.finish()
}

/// Reads a GGUF model as its bytes arrive (see [`gguf::Reader`]): the header is checked as
/// a model, tokenizer included, before any weight is allocated, and tensors the model does
/// not use are refused.
pub struct Reader {
    file: String,
    inner: gguf::Reader,
    plan: Rc<RefCell<Option<Plan>>>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader for `file`, of `file_len` bytes if known.
    pub fn new(file: &str, file_len: Option<usize>) -> Result<Reader> {
        let planned = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&planned);
        let name = brief(&file);
        let check: gguf::Check = Box::new(move |header: &Header| {
            let p = plan(&name, header)?;
            let keep = (0..header.tensors.len())
                .map(|i| p.sources.contains(&i))
                .collect();
            *slot.borrow_mut() = Some(p);
            Ok(keep)
        });
        Ok(Reader {
            file: brief(&file),
            inner: gguf::Reader::new(file, file_len, check)?,
            plan: planned,
        })
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.inner.received()
    }

    /// Takes `bytes`, the file's next part.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner.push(bytes)
    }

    /// Takes the file's next `len` bytes from a source outside this memory (see
    /// [`gguf::Reader::push_with`]).
    pub fn push_with(&mut self, len: usize, copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        self.inner.push_with(len, copy)
    }

    /// The model, once every byte is in.
    pub fn finish(self) -> Result<Checkpoint> {
        let file = self.file;
        let mut g = self.inner.finish()?;
        let plan = self
            .plan
            .borrow_mut()
            .take()
            .expect("the header was planned before it was accepted");
        let layout = plan.config.layout();
        let mut tensors = Vec::with_capacity(layout.len());
        for (p, &index) in layout.iter().zip(&plan.sources) {
            let info = &g.header.tensors[index];
            let bytes = g.data[index].take().unwrap_or_default();
            let t = tensor(&file, p.hf_transposed, p.shape.len(), info, bytes)?;
            tensors.push(t);
        }
        Ok(Checkpoint {
            config: plan.config,
            tokenizer: plan.tokenizer,
            tensors,
            tensor_types: plan.tensor_types,
        })
    }
}

/// One parameter's tensor from its bytes: vectors in f32; float matrices in their type, a
/// linear layer's transposed to (in, out); quantised matrices as their blocks.
fn tensor(
    file: &str,
    linear: bool,
    rank: usize,
    info: &TensorInfo,
    bytes: Vec<u8>,
) -> Result<Tensor> {
    let dtype = dtype_of(info.ggml_type).expect("the plan checked the type");
    let t = match dtype {
        Dtype::Quant(q) => {
            let (cols, rows) = (
                info.dims[0] as usize,
                info.elem_count() as usize / info.dims[0].max(1) as usize,
            );
            let m = QMatrix::new(q, rows, cols, bytes)
                .map_err(|e| Error::new(format!("{file}: tensor {}: {e}", brief(&info.name))))?;
            if rank == 1 {
                Tensor::F32(m.to_f32())
            } else {
                Tensor::Quant(m.with_transposed(linear))
            }
        }
        d => {
            let t = Tensor::from_le_bytes(d, &bytes);
            drop(bytes);
            if rank == 1 {
                Tensor::F32(t.into_f32())
            } else if linear {
                // Stored (out, in) = ne [in, out]: transposed to the layout's (in, out).
                t.transposed(info.dims[1] as usize, info.dims[0] as usize)
            } else {
                t
            }
        }
    };
    if let Some((i, x)) = t.first_non_finite() {
        return Err(Error::new(format!(
            "{file}: tensor {} holds {x} at index {i}; weights must be finite",
            brief(&info.name)
        )));
    }
    Ok(t)
}

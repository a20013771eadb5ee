//! Hugging Face folders of the Llama family: `LlamaForCausalLM`, `Qwen2ForCausalLM` and
//! `Qwen3ForCausalLM`, as `save_pretrained` writes them. What each architecture fixes and what
//! its config chooses is its [`Description`]; this reader follows it.
//!
//! - `config.json`: `vocab_size`, `hidden_size`, `intermediate_size`, `num_hidden_layers`,
//!   `num_attention_heads`, `num_key_value_heads` (default: the heads), `head_dim` (default:
//!   hidden_size / heads), `max_position_embeddings` (the lab computes at most
//!   [`MAX_CONTEXT_LENGTH`] positions of it), `rms_norm_eps`, `hidden_act` (`silu` only),
//!   `tie_word_embeddings` (default false), `attention_bias` and `mlp_bias` where the
//!   architecture reads them, the rotation's `rope_theta` and `rope_scaling` (none,
//!   `linear` or `llama3`) or, as transformers 5 writes them, `rope_parameters`, and
//!   `eos_token_id` (an id or a list). Qwen's `use_sliding_window` true is refused.
//! - `generation_config.json` (optional): its `eos_token_id`, which wins over config.json's.
//! - `model.safetensors`: the tensors of [`Config::layout`] by [`crate::model::Param::hf_name`],
//!   in F32, F16 or BF16 (the matrices all of one dtype). The matrices are kept in their dtype
//!   ([`Tensor`]) and transposed from PyTorch's (out, in) to the layout's (in, out); vectors
//!   (norm gains, biases) are widened to f32. With a tied head an `lm_head.weight` in the file
//!   is ignored, as transformers does.
//! - `tokenizer.json`: as for GPT-2 ([`ByteLevelBpe::from_json`]), padded to `vocab_size`.
//!
//! Every error names the file and the field or tensor, with its [`Code`].

use serde_json::{Map, Value};

use crate::error::{brief, Code, Error, Result};
use crate::limits::{
    MAX_CONFIG_JSON_BYTES, MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS, MAX_MODEL_VOCAB,
    MAX_WEIGHT_BYTES,
};
use crate::model::config::{Choice, Description};
use crate::model::format::safetensors::{self as container, Header, Source, Tensors, MODEL};
#[cfg(doc)]
use crate::model::format::FileBytes;
use crate::model::tensor::{Dtype, Tensor};
use crate::model::{
    Arch, ByteLevelBpe, Config, Family, Gelu, Llama, Rope, RopeLayout, RopeScaling,
};

pub const CONFIG: &str = "config.json";
pub const GENERATION_CONFIG: &str = "generation_config.json";
pub const TOKENIZER: &str = "tokenizer.json";

/// What a folder holds.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub config: Config,
    /// Padded to `config.vocab_size` ids.
    pub tokenizer: ByteLevelBpe,
    /// One tensor per parameter, in [`Config::layout`] order.
    pub tensors: Vec<Tensor>,
    /// The ids that end a text (`eos_token_id`), possibly none.
    pub eos_token_ids: Vec<u32>,
}

/// Reads a folder given as (file name, bytes) pairs, matched by their last path component;
/// `generation_config.json` is optional and other files are ignored.
pub fn read(files: &[(&str, &[u8])]) -> Result<Checkpoint> {
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n.rsplit(['/', '\\']).next() == Some(name))
            .map(|&(_, bytes)| bytes)
    };
    let need = |name: &str| file(name).ok_or_else(|| super::hf_gpt2::missing(name));
    let (config_json, model, tokenizer_json) =
        (need(CONFIG)?, need(container::MODEL)?, need(TOKENIZER)?);
    read_parts(
        config_json,
        Source::Bytes(&model),
        tokenizer_json,
        file(GENERATION_CONFIG),
    )
}

/// [`read`] with `model.safetensors` read range by range (see [`FileBytes`]) or loaded as it
/// arrived ([`container::Reader`], whose tensors [`tensor_names`] chooses).
pub fn read_parts(
    config_json: &[u8],
    model: Source<'_>,
    tokenizer_json: &[u8],
    generation_config: Option<&[u8]>,
) -> Result<Checkpoint> {
    read_folder(config_json, tokenizer_json, generation_config)?.with_weights(model)
}

/// The folder but its weights: the checkpoint with no tensors yet (see
/// [`Checkpoint::with_weights`]). A reader that streams `model.safetensors` reads this first,
/// so a bad small file is refused before the weights arrive, in the order [`read_parts`]
/// refuses it.
pub fn read_folder(
    config_json: &[u8],
    tokenizer_json: &[u8],
    generation_config: Option<&[u8]>,
) -> Result<Checkpoint> {
    let (config, mut eos_token_ids) = read_config(config_json)?;
    if let Some(bytes) = generation_config {
        if let Some(ids) = read_generation_config(bytes, config.vocab_size)? {
            eos_token_ids = ids;
        }
    }
    let tokenizer = super::files::hf_tokenizer(tokenizer_json, config.vocab_size)?;
    Ok(Checkpoint {
        config,
        tokenizer,
        tensors: Vec::new(),
        eos_token_ids,
    })
}

impl Checkpoint {
    /// The checkpoint with its tensors, from `model`.
    pub fn with_weights(mut self, model: Source<'_>) -> Result<Checkpoint> {
        self.tensors = read_tensors(model, &self.config)?;
        Ok(self)
    }
}

/// The fields of one JSON file, read with errors that name the file and the field.
struct Fields<'a> {
    file: &'static str,
    json: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// The top-level object of `bytes` (at most [`MAX_CONFIG_JSON_BYTES`]).
    fn parse(file: &'static str, bytes: &[u8]) -> Result<Map<String, Value>> {
        let bad = |what: String| Error::new(format!("{file}: {what}"));
        if bytes.len() > MAX_CONFIG_JSON_BYTES {
            return Err(bad(crate::limits::over_cap(
                bytes.len(),
                MAX_CONFIG_JSON_BYTES,
            )));
        }
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(bad("is not a JSON object".into())),
            Err(e) => Err(bad(format!("not valid JSON: {e}"))),
        }
    }

    /// The field `key`, absent if missing or null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.json.get(key).filter(|v| !v.is_null())
    }

    fn missing(&self, key: &str) -> Error {
        Error::new(format!("{}: {key} is missing", self.file)).coded(
            Code::ModelConfigMissing,
            [("file", self.file.into()), ("field", key.into())],
        )
    }

    /// `key` holds `value`, which is not `wanted`.
    fn value(&self, key: &str, value: &dyn std::fmt::Display, wanted: &str) -> Error {
        let shown = brief(value);
        Error::new(format!("{}: {key} is {shown}; {wanted}", self.file)).coded(
            Code::ModelConfigValue,
            [
                ("file", self.file.into()),
                ("field", key.into()),
                ("value", shown.into()),
            ],
        )
    }

    /// `key` = `value` cannot hold together with `other` (a field and its value).
    fn mismatch(&self, key: &str, value: usize, other: String, why: &str) -> Error {
        Error::new(format!("{}: {key} = {value} {why} {other}", self.file)).coded(
            Code::ModelConfigMismatch,
            [
                ("file", self.file.into()),
                ("field", key.into()),
                ("value", value.to_string().into()),
                ("other", other.into()),
            ],
        )
    }

    /// An integer in [lo, hi], or `default` when absent (`None`: required).
    fn int(&self, key: &str, lo: usize, hi: usize, default: Option<usize>) -> Result<usize> {
        let Some(v) = self.get(key) else {
            return default.ok_or_else(|| self.missing(key));
        };
        match v.as_u64() {
            Some(n) if (lo as u64..=hi as u64).contains(&n) => Ok(n as usize),
            _ => Err(self.value(key, v, &format!("an integer in [{lo}, {hi}] is needed"))),
        }
    }

    /// A number in the range `ok` accepts (described by `wanted`), or `default` when absent.
    fn number(
        &self,
        key: &str,
        default: Option<f64>,
        wanted: &str,
        ok: fn(f64) -> bool,
    ) -> Result<f64> {
        let Some(v) = self.get(key) else {
            return default.ok_or_else(|| self.missing(key));
        };
        match v.as_f64() {
            Some(x) if ok(x) => Ok(x),
            _ => Err(self.value(key, v, wanted)),
        }
    }

    /// true or false, or false when absent.
    fn flag(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.value(key, v, "true or false is needed")),
        }
    }

    /// A detail the architecture fixes or the config chooses.
    fn choice(&self, c: Choice) -> Result<bool> {
        match c {
            Choice::Fixed(b) => Ok(b),
            Choice::Field(key) => self.flag(key),
        }
    }

    /// `eos_token_id`: an id or a list of ids, each < `vocab_size`; `None` when absent.
    fn eos(&self, vocab_size: usize) -> Result<Option<Vec<u32>>> {
        const KEY: &str = "eos_token_id";
        let Some(v) = self.get(KEY) else {
            return Ok(None);
        };
        let list = match v {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        let wanted = format!("a token id in [0, {vocab_size}) or a list of them is needed");
        list.into_iter()
            .map(|id| match id.as_u64() {
                Some(n) if n < vocab_size as u64 => Ok(n as u32),
                _ => Err(self.value(KEY, v, &wanted)),
            })
            .collect::<Result<Vec<u32>>>()
            .map(Some)
    }
}

/// The network's shape and the end-of-text ids from `config.json`. The architecture is the one
/// [`super::files::hf_architecture`] reads.
pub fn read_config(bytes: &[u8]) -> Result<(Config, Vec<u32>)> {
    let json = Fields::parse(CONFIG, bytes)?;
    let f = Fields {
        file: CONFIG,
        json: &json,
    };
    let variant = match super::files::hf_architecture(bytes)? {
        super::files::HfArchitecture::Llama(v) => v,
        super::files::HfArchitecture::Gpt2 => {
            return Err(f.value(
                "architectures",
                &"GPT2LMHeadModel",
                "a Llama-family model is needed",
            ))
        }
    };
    let d: Description = variant.description();
    let vocab_size = f.int("vocab_size", 2, MAX_MODEL_VOCAB, None)?;
    let embd = f.int("hidden_size", 1, MAX_EMBD, None)?;
    let layers = f.int("num_hidden_layers", 1, MAX_LAYERS, None)?;
    let heads = f.int("num_attention_heads", 1, MAX_HEADS, None)?;
    let kv_heads = f.int("num_key_value_heads", 1, MAX_HEADS, Some(heads))?;
    if !heads.is_multiple_of(kv_heads) {
        return Err(f.mismatch(
            "num_key_value_heads",
            kv_heads,
            format!("num_attention_heads = {heads}"),
            "does not divide",
        ));
    }
    let given = f.get("head_dim").is_some();
    let head_dim = match f.get("head_dim") {
        Some(_) => f.int("head_dim", 2, MAX_EMBD, None)?,
        None if embd.is_multiple_of(heads) => embd / heads,
        None => {
            return Err(f.mismatch(
                "hidden_size",
                embd,
                format!("num_attention_heads = {heads}"),
                "(there is no head_dim) is not a multiple of",
            ))
        }
    };
    if given && (!head_dim.is_multiple_of(2) || heads * head_dim > MAX_EMBD) {
        return Err(f.value(
            "head_dim",
            &head_dim,
            &format!(
                "an even width is needed (rotary embeddings turn pairs), with \
                 num_attention_heads × head_dim at most {MAX_EMBD}"
            ),
        ));
    }
    if !given && !head_dim.is_multiple_of(2) {
        // The width is hidden_size / num_attention_heads: the fields to blame are those two.
        return Err(Error::new(format!(
            "{}: hidden_size = {embd} (there is no head_dim: each head is hidden_size / \
             num_attention_heads = {head_dim} wide, and rotary embeddings need an even width) \
             does not fit num_attention_heads = {heads}",
            f.file
        ))
        .coded(
            Code::ModelHeadWidth,
            [
                ("embd", embd.into()),
                ("heads", heads.into()),
                ("width", head_dim.into()),
            ],
        ));
    }
    let mlp_width = f.int("intermediate_size", 1, 4 * MAX_EMBD, None)?;
    let positions = f.int("max_position_embeddings", 1, 1 << 24, None)?;
    let eps = f.number(
        "rms_norm_eps",
        Some(1e-6),
        "a number in (0, 1] is needed",
        |e| e > 0.0 && e <= 1.0,
    )?;
    match f.get("hidden_act") {
        None => {}
        Some(Value::String(s)) if s == "silu" => {}
        Some(v) => return Err(f.value("hidden_act", v, "only \"silu\" is supported")),
    }
    if d.sliding_window && f.flag("use_sliding_window")? {
        return Err(Error::new(format!(
            "{CONFIG}: use_sliding_window is true; sliding-window attention is not supported"
        ))
        .coded(Code::ModelSlidingWindow, []));
    }
    let llama = Llama {
        variant,
        kv_heads,
        head_dim,
        rope: read_rope(&f)?,
        qkv_bias: f.choice(d.qkv_bias)?,
        o_bias: f.choice(d.o_bias)?,
        mlp_bias: f.choice(d.mlp_bias)?,
        qk_norm: d.qk_norm,
    };
    let config = Config {
        vocab_size,
        // Rotary positions have no table: the lab computes the first MAX_CONTEXT_LENGTH.
        context_length: positions.min(MAX_CONTEXT_LENGTH),
        layers,
        heads,
        embd,
        arch: Arch {
            layer_norm_eps: eps,
            gelu: Gelu::Tanh, // unused by SwiGLU
            tied_head: f.flag("tie_word_embeddings")?,
            mlp_width: Some(mlp_width),
            family: Family::Llama(llama),
        },
    };
    config.check_for_inference(CONFIG)?;
    let eos = f.eos(vocab_size)?.unwrap_or_default();
    Ok((config, eos))
}

/// The rotation: `rope_parameters` (transformers 5), or `rope_theta` and `rope_scaling`.
fn read_rope(f: &Fields) -> Result<Rope> {
    let (theta, scaling, prefix) = match f.get("rope_parameters") {
        Some(Value::Object(p)) => {
            let p = Fields {
                file: f.file,
                json: p,
            };
            (
                rope_theta(&p, "rope_parameters.")?,
                Some(p),
                "rope_parameters",
            )
        }
        Some(v) => return Err(f.value("rope_parameters", v, "an object is needed")),
        None => {
            let scaling = match f.get("rope_scaling") {
                None => None,
                Some(Value::Object(s)) => Some(Fields {
                    file: f.file,
                    json: s,
                }),
                Some(v) => return Err(f.value("rope_scaling", v, "an object or null is needed")),
            };
            (rope_theta(f, "")?, scaling, "rope_scaling")
        }
    };
    let scaling = match scaling {
        None => RopeScaling::None,
        Some(s) => read_scaling(&s, prefix)?,
    };
    Ok(Rope {
        layout: RopeLayout::RotateHalf,
        theta,
        scaling,
    })
}

/// `rope_theta` of `f` (default 10 000), its name in errors after `prefix`.
fn rope_theta(f: &Fields, prefix: &str) -> Result<f64> {
    let v = f.number(
        "rope_theta",
        Some(10_000.0),
        "a finite number > 1 is needed",
        |t| t.is_finite() && t > 1.0,
    );
    v.map_err(|e| prefixed(e, f, "rope_theta", prefix))
}

/// The same error with its field named `prefix` + `key` (a field of a nested object).
fn prefixed(e: Error, f: &Fields, key: &str, prefix: &str) -> Error {
    if prefix.is_empty() {
        return e;
    }
    let full = format!("{prefix}{key}");
    let shown = f.get(key).map_or("missing".to_string(), |v| brief(v));
    let msg = e.message().replacen(key, &full, 1);
    match e.code() {
        Some(Code::ModelConfigMissing) => Error::new(msg).coded(
            Code::ModelConfigMissing,
            [("file", f.file.into()), ("field", full.into())],
        ),
        _ => Error::new(msg).coded(
            Code::ModelConfigValue,
            [
                ("file", f.file.into()),
                ("field", full.into()),
                ("value", shown.into()),
            ],
        ),
    }
}

/// The scaling an object `rope_scaling` (or `rope_parameters`) describes by its `rope_type`
/// (or, in older configs, `type`).
fn read_scaling(s: &Fields, prefix: &str) -> Result<RopeScaling> {
    let p = format!("{prefix}.");
    // The field the file names the type with: `rope_type`, or in older configs `type`.
    let (kind_key, kind) = match (s.get("rope_type"), s.get("type")) {
        (Some(v), _) => ("rope_type", v),
        (None, Some(v)) => ("type", v),
        (None, None) => return Err(prefixed(s.missing("rope_type"), s, "rope_type", &p)),
    };
    let number = |key: &str, ok: fn(f64) -> bool, wanted: &str| {
        s.number(key, None, wanted, ok)
            .map_err(|e| prefixed(e, s, key, &p))
    };
    let factor = || {
        number(
            "factor",
            |x| x.is_finite() && x >= 1.0,
            "a finite number ≥ 1 is needed",
        )
    };
    match kind.as_str() {
        Some("default") => Ok(RopeScaling::None),
        Some("linear") => Ok(RopeScaling::Linear { factor: factor()? }),
        Some("llama3") => {
            let factor = factor()?;
            let positive = |x: f64| x.is_finite() && x > 0.0;
            let low = number("low_freq_factor", positive, "a finite number > 0 is needed")?;
            let high = number(
                "high_freq_factor",
                positive,
                "a finite number > 0 is needed",
            )?;
            if high <= low {
                return Err(prefixed(
                    s.value(
                        "high_freq_factor",
                        &high,
                        &format!("more than low_freq_factor = {low} is needed"),
                    ),
                    s,
                    "high_freq_factor",
                    &p,
                ));
            }
            let original = s
                .int("original_max_position_embeddings", 1, 1 << 24, None)
                .map_err(|e| prefixed(e, s, "original_max_position_embeddings", &p))?;
            Ok(RopeScaling::Llama3 {
                factor,
                low_freq_factor: low,
                high_freq_factor: high,
                original_max_position_embeddings: original,
            })
        }
        _ => Err(prefixed(
            s.value(
                kind_key,
                kind,
                "only \"default\", \"linear\" and \"llama3\" are supported",
            ),
            s,
            kind_key,
            &p,
        )),
    }
}

/// The end-of-text ids of `generation_config.json`, if it names any.
pub fn read_generation_config(bytes: &[u8], vocab_size: usize) -> Result<Option<Vec<u32>>> {
    let json = Fields::parse(GENERATION_CONFIG, bytes)?;
    Fields {
        file: GENERATION_CONFIG,
        json: &json,
    }
    .eos(vocab_size)
}

/// The tensors of `config`'s layout from `model.safetensors`, matrices in their dtype.
fn read_tensors(model: Source<'_>, config: &Config) -> Result<Vec<Tensor>> {
    let mut tensors = model.tensors()?;
    check_header(tensors.header(), config)?;
    read_checked(&mut tensors, config)
}

/// The names of the tensors `model.safetensors` must hold for `config`, once its `header` is
/// checked against them ([`check_header`]): what a [`container::Reader`] keeps.
pub fn tensor_names(header: &Header, config: &Config) -> Result<Vec<String>> {
    check_header(header, config)?;
    Ok(config.layout().into_iter().map(|p| p.hf_name).collect())
}

/// Checks every tensor's presence, shape and dtype, and the memory the weights will take,
/// before any is read.
fn check_header(header: &Header, config: &Config) -> Result<()> {
    let layout = config.layout();
    let head_dim = config.llama().map_or(0, |l| l.head_dim);
    let mut matrices: Option<(Dtype, &str)> = None;
    let mut bytes = 0u64;
    for p in &layout {
        let name = p.hf_name.as_str();
        let quoted = brief(&format_args!("{name:?}"));
        let Some(d) = header.get(name) else {
            let why = if name == "lm_head.weight" {
                format!(" ({CONFIG} has tie_word_embeddings false)")
            } else {
                String::new()
            };
            return Err(Error::new(format!("{MODEL}: missing tensor {quoted}{why}"))
                .coded(Code::ModelTensorMissing, [("tensor", name.into())]));
        };
        let want = p.hf_shape();
        if d.shape != want {
            let shape = brief(&format_args!("{:?}", d.shape));
            let from = if name.contains(".self_attn.") {
                format!(
                    " (hidden_size, num_attention_heads, num_key_value_heads and head_dim = \
                     {head_dim})"
                )
            } else {
                String::new()
            };
            return Err(Error::new(format!(
                "{MODEL}: tensor {quoted} has shape {shape}; {CONFIG}{from} implies {want:?}"
            ))
            .coded(
                Code::ModelTensorShape,
                [
                    ("tensor", name.into()),
                    ("shape", shape.into()),
                    ("expected", format!("{want:?}").into()),
                ],
            ));
        }
        let dtype_error = |why: String| {
            Error::new(format!(
                "{MODEL}: tensor {quoted} has dtype {}; {why}",
                brief(&d.dtype)
            ))
            .coded(
                Code::ModelTensorDtype,
                [("tensor", name.into()), ("dtype", brief(&d.dtype).into())],
            )
        };
        let Some(dtype) = Dtype::from_safetensors(&d.dtype) else {
            return Err(dtype_error("F32, F16 or BF16 is needed".into()));
        };
        if p.shape.len() >= 2 {
            match matrices {
                None => matrices = Some((dtype, name)),
                Some((first, first_name)) if first != dtype => {
                    return Err(dtype_error(format!(
                        "the weight matrices must all be of one dtype, and {first_name:?} is {}",
                        first.name().to_uppercase()
                    )))
                }
                Some(_) => {}
            }
            bytes += (dtype.width() * p.elem_count()) as u64;
        } else {
            bytes += 4 * p.elem_count() as u64;
        }
    }
    if bytes > MAX_WEIGHT_BYTES as u64 {
        return Err(Error::new(format!(
            "{MODEL}: the weights would take {bytes} bytes of memory; at most \
             {MAX_WEIGHT_BYTES} ({}) are accepted",
            crate::limits::size_name(MAX_WEIGHT_BYTES)
        )));
    }
    Ok(())
}

/// The tensors of `config`'s layout, their header checked ([`check_header`]): matrices in
/// their dtype and transposed to the layout's (in, out), vectors as stored.
fn read_checked(source: &mut Tensors, config: &Config) -> Result<Vec<Tensor>> {
    let layout = config.layout();
    let mut tensors = Vec::with_capacity(layout.len());
    for p in &layout {
        let t = source.take(&p.hf_name)?;
        if let Some((i, x)) = t.first_non_finite() {
            return Err(Error::new(format!(
                "{MODEL}: tensor {} holds {x} at index {i}; weights must be finite",
                brief(&format_args!("{:?}", p.hf_name))
            )));
        }
        tensors.push(if p.hf_transposed {
            let want = p.hf_shape();
            t.transposed(want[0], want[1])
        } else {
            t
        });
    }
    Ok(tensors)
}

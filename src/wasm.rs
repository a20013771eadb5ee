//! The wasm-bindgen layer: it converts JS values to Rust, validates them, calls the plain Rust
//! functions and converts the results back. No maths lives here.
//!
//! Every export returns `Result<_, JsError>`; the message names the argument and its range. The
//! conversions accept a `Float32Array` (or any typed array, or a plain array of numbers), so a
//! teacher can type `logitlab.softmax([1, 2, 3])` in the console.

use js_sys::{Array, Float32Array, Int32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
// Field names cross to JS on every call; interned, each is decoded once per page.
use wasm_bindgen::{intern, JsCast};

use crate::error::Error;
use crate::loss::{self, LossFunction, LossOptions, Reduction};
use crate::numerics;
use crate::sampling::{self, Cut, Input, SampleOptions, MAX_SEED};

/// Largest N × C accepted by `loss`; see [`crate::limits`].
pub use crate::limits::MAX_LOSS_VALUES;
/// Longest vector accepted by `softmax`, `logSoftmax` and `sample`; see [`crate::limits`].
pub use crate::limits::MAX_VALUES as MAX_VOCAB;

pub(crate) fn js_err(e: Error) -> JsError {
    JsError::new(e.message())
}

pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_undefined() {
        "undefined".into()
    } else if v.is_null() {
        "null".into()
    } else if let Some(s) = v.as_string() {
        let s: String = s.chars().take(40).collect();
        format!("the string {s:?}")
    } else if let Some(x) = v.as_f64() {
        format!("{x}")
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        format!(
            "a value of type {}",
            v.js_typeof().as_string().unwrap_or_default()
        )
    }
}

/// The `length` of an array or typed array `v`, checked against `cap` before anything is copied:
/// `{arg} has N entries; at most CAP are accepted`.
fn checked_length(arg: &str, v: &JsValue, cap: usize) -> Result<usize, JsError> {
    let len = Reflect::get(v, &"length".into())
        .ok()
        .and_then(|l| l.as_f64())
        .unwrap_or(0.0) as usize;
    if len > cap {
        return Err(JsError::new(&format!(
            "{arg} has {len} entries; at most {cap} are accepted"
        )));
    }
    Ok(len)
}

/// Reads a vector of numbers: a Float32Array, another typed array, or an array of numbers.
pub(crate) fn f32_vec(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<f32>, JsError> {
    if let Some(a) = v.dyn_ref::<Float32Array>() {
        checked_length(arg, v, cap)?;
        return Ok(a.to_vec());
    }
    if Array::is_array(v) {
        let a: &Array = v.unchecked_ref();
        let len = checked_length(arg, v, cap)?;
        let mut out = Vec::with_capacity(len);
        for i in 0..len as u32 {
            let x = a.get(i);
            match x.as_f64() {
                Some(x) => out.push(x as f32),
                None => {
                    return Err(JsError::new(&format!(
                        "{arg}[{i}] must be a number, got {}",
                        describe(&x)
                    )))
                }
            }
        }
        return Ok(out);
    }
    if js_sys::ArrayBuffer::is_view(v) && !v.is_instance_of::<js_sys::DataView>() {
        checked_length(arg, v, cap)?;
        if v.is_instance_of::<js_sys::BigInt64Array>()
            || v.is_instance_of::<js_sys::BigUint64Array>()
        {
            return Err(JsError::new(&format!(
                "{arg} must be a Float32Array or an array of numbers, got a BigInt array"
            )));
        }
        return Ok(Float32Array::new(v).to_vec());
    }
    Err(JsError::new(&format!(
        "{arg} must be a Float32Array or an array of numbers, got {}",
        describe(v)
    )))
}

/// Reads a string argument. Taking `&str` directly would let wasm-bindgen's glue hand a
/// non-string (a number, `null`) to the allocator as a string of undefined length, which traps
/// the module ("memory access out of bounds"); a `JsValue` is checked here instead.
pub(crate) fn string_arg(arg: &str, v: &JsValue) -> Result<String, JsError> {
    v.as_string()
        .ok_or_else(|| JsError::new(&format!("{arg} must be a string, got {}", describe(v))))
}

/// Reads bytes: a Uint8Array or an ArrayBuffer (copied into wasm memory).
pub(crate) fn bytes_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<u8>, JsError> {
    Ok(uint8_arg(arg, v, cap)?.to_vec())
}

/// A Uint8Array view of a Uint8Array or an ArrayBuffer of at most `cap` bytes, left in JS
/// memory (the length is checked before anything is copied).
pub(crate) fn uint8_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Uint8Array, JsError> {
    let bytes = if let Some(a) = v.dyn_ref::<Uint8Array>() {
        a.clone()
    } else if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        Uint8Array::new(b)
    } else {
        return Err(JsError::new(&format!(
            "{arg} must be a Uint8Array or an ArrayBuffer, got {}",
            describe(v)
        )));
    };
    let len = bytes.length() as usize;
    if len > cap {
        return Err(JsError::new(&format!(
            "{arg} has {len} bytes; at most {cap} are accepted"
        )));
    }
    Ok(bytes)
}

/// Reads token ids: a Uint32Array, or an array or typed array of integers in [0, 2^32).
pub(crate) fn ids_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<u32>, JsError> {
    if let Some(a) = v.dyn_ref::<js_sys::Uint32Array>() {
        checked_length(arg, v, cap)?;
        return Ok(a.to_vec());
    }
    let listlike = Array::is_array(v)
        || (js_sys::ArrayBuffer::is_view(v) && !v.is_instance_of::<js_sys::DataView>());
    if !listlike {
        return Err(JsError::new(&format!(
            "{arg} must be a Uint32Array or an array of token ids, got {}",
            describe(v)
        )));
    }
    let len = checked_length(arg, v, cap)?;
    (0..len as u32)
        .map(|i| {
            let x = Reflect::get_u32(v, i).unwrap_or(JsValue::UNDEFINED);
            match x.as_f64() {
                Some(x) if x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) => Ok(x as u32),
                _ => Err(JsError::new(&format!(
                    "{arg}[{i}] must be a token id (an integer >= 0), got {}",
                    describe(&x)
                ))),
            }
        })
        .collect()
}

/// Reads integer targets: an Int32Array, another typed array or an array of integers.
fn i32_vec(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<i32>, JsError> {
    if let Some(a) = v.dyn_ref::<Int32Array>() {
        checked_length(arg, v, cap)?;
        return Ok(a.to_vec());
    }
    if Array::is_array(v) || js_sys::ArrayBuffer::is_view(v) {
        checked_length(arg, v, cap)?; // before the message below would hide why
    }
    let xs = f32_vec(arg, v, cap).map_err(|_| {
        JsError::new(&format!(
            "{arg} must be an Int32Array or an array of integers, got {}",
            describe(v)
        ))
    })?;
    // Re-read as f64 through the f32 path would lose large integers; go back to the source.
    let get = |i: usize| -> f64 {
        Reflect::get_u32(v, i as u32)
            .ok()
            .and_then(|x| x.as_f64())
            .unwrap_or(xs[i] as f64)
    };
    (0..xs.len())
        .map(|i| {
            let x = get(i);
            if x.fract() == 0.0 && x >= i32::MIN as f64 && x <= i32::MAX as f64 {
                Ok(x as i32)
            } else {
                Err(JsError::new(&format!(
                    "{arg}[{i}] must be an integer class index, got {x}"
                )))
            }
        })
        .collect()
}

/// A typed view of an options object: reads fields, rejects unknown ones (a typo is an error,
/// not a silently ignored setting). Shared by every binding module.
pub(crate) struct Fields<'a> {
    obj: Option<&'a Object>,
    what: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(v: &'a JsValue, what: &'a str, known: &[&str]) -> Result<Self, JsError> {
        if v.is_undefined() || v.is_null() {
            return Ok(Fields { obj: None, what });
        }
        if !v.is_object() || Array::is_array(v) {
            return Err(JsError::new(&format!(
                "{what} must be an object like {{ temperature: 0.8 }}, got {}",
                describe(v)
            )));
        }
        let obj: &Object = v.unchecked_ref();
        for key in Object::keys(obj).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(JsError::new(&format!(
                    "{what} has an unknown field {key:?}; the fields are {}",
                    known.join(", ")
                )));
            }
        }
        Ok(Fields {
            obj: Some(obj),
            what,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<JsValue> {
        let obj = self.obj?;
        let v = Reflect::get(obj, &JsValue::from_str(intern(key))).ok()?;
        if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        }
    }

    /// The field converted by `convert`, or an error saying it must be `kind`.
    fn typed<T>(
        &self,
        key: &str,
        kind: &str,
        convert: impl Fn(&JsValue) -> Option<T>,
    ) -> Result<Option<T>, JsError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => convert(&v).map(Some).ok_or_else(|| {
                JsError::new(&format!(
                    "{}.{key} must be {kind}, got {}",
                    self.what,
                    describe(&v)
                ))
            }),
        }
    }

    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, JsError> {
        self.typed(key, "a number", JsValue::as_f64)
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, JsError> {
        self.typed(key, "a string", JsValue::as_string)
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, JsError> {
        self.typed(key, "true or false", JsValue::as_bool)
    }

    /// An integer in [min, max]; `range` describes it in the error, e.g. "an integer >= 0".
    pub(crate) fn integer_in(
        &self,
        key: &str,
        min: f64,
        max: f64,
        range: &str,
    ) -> Result<Option<f64>, JsError> {
        match self.number(key)? {
            None => Ok(None),
            Some(x) if x.fract() == 0.0 && x >= min && x <= max => Ok(Some(x)),
            Some(x) => Err(js_err(Error::arg(key, range, x))),
        }
    }

    /// An integer in [min, max].
    #[cfg_attr(not(feature = "train"), allow(dead_code))] // the Trainer's config
    pub(crate) fn integer(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>, JsError> {
        self.integer_in(key, min, max, &format!("an integer in [{min}, {max}]"))
    }
}

pub(crate) fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a plain data property on a fresh object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(intern(key)), &value.into());
}

/// softmax(z / T): probabilities from logits at temperature T (default 1; 0 = greedy one-hot).
#[wasm_bindgen]
pub fn softmax(values: JsValue, temperature: Option<f64>) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let t = temperature.unwrap_or(1.0) as f32;
    let p = numerics::softmax(&z, t).map_err(js_err)?;
    Ok(Float32Array::from(&p[..]))
}

/// log_softmax(z) = z − logsumexp(z).
#[wasm_bindgen(js_name = logSoftmax)]
pub fn log_softmax(values: JsValue) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let lp = numerics::log_softmax(&z).map_err(js_err)?;
    Ok(Float32Array::from(&lp[..]))
}

/// logsumexp(z), the normaliser that log_softmax subtracts.
#[wasm_bindgen]
pub fn logsumexp(values: JsValue) -> Result<f64, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    Ok(numerics::logsumexp(&z).map_err(js_err)? as f64)
}

/// The seed's temperature claim, live: `{ fromLogits, fromLogSoftmax, maxAbsDiff }` with
/// fromLogits = softmax(z / T) and fromLogSoftmax = softmax(log_softmax(z) / T).
#[wasm_bindgen(js_name = temperatureIdentity)]
pub fn temperature_identity(values: JsValue, temperature: f64) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let (a, b, diff) = numerics::temperature_identity(&z, temperature as f32).map_err(js_err)?;
    let out = Object::new();
    set(&out, "fromLogits", Float32Array::from(&a[..]));
    set(&out, "fromLogSoftmax", Float32Array::from(&b[..]));
    set(&out, "maxAbsDiff", diff as f64);
    Ok(out)
}

/// p = softmax(z / T) as float32, float16 and bfloat16 probabilities and as f32 log-probs:
/// `{ f32, f16, bf16, logProbs, zeros: { f32, f16, bf16, logProbs } }`, where zeros counts
/// the ids each format stores as exactly 0 (or −∞), gone at every later temperature.
#[wasm_bindgen]
pub fn precision(values: JsValue, temperature: f64) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let s = numerics::stored_precisions(&z, temperature as f32).map_err(js_err)?;
    let [z32, z16, zbf, zlog] = s.zeros();
    let zeros = Object::new();
    set(&zeros, "f32", z32 as u32);
    set(&zeros, "f16", z16 as u32);
    set(&zeros, "bf16", zbf as u32);
    set(&zeros, "logProbs", zlog as u32);
    let out = Object::new();
    set(&out, "f32", Float32Array::from(&s.f32[..]));
    set(&out, "f16", Float32Array::from(&s.f16[..]));
    set(&out, "bf16", Float32Array::from(&s.bf16[..]));
    set(&out, "logProbs", Float32Array::from(&s.log_probs[..]));
    set(&out, "zeros", zeros);
    Ok(out)
}

/// The sampler's option names, as `sample` and `model.generate` take them.
pub(crate) const SAMPLER_FIELDS: &[&str] = &["temperature", "topK", "topP", "minP", "seed"];
const SAMPLE_FIELDS: &[&str] = &["input", "temperature", "topK", "topP", "minP", "seed"];

/// Reads temperature, topK, topP, minP and seed into `o`, then validates the whole of it.
pub(crate) fn read_sampler_fields(f: &Fields, o: &mut SampleOptions) -> Result<(), JsError> {
    if let Some(t) = f.number("temperature")? {
        o.temperature = t as f32;
        if t.is_finite() && t > 0.0 && o.temperature == 0.0 {
            // Below f32's range: as good as greedy, but say so rather than silently switch.
            return Err(js_err(Error::arg(
                "temperature",
                "0 (greedy) or at least 1e-38",
                t,
            )));
        }
    }
    if let Some(k) = f.integer_in("topK", 0.0, MAX_SEED as f64, "an integer >= 0 (0 = off)")? {
        o.top_k = k as usize;
    }
    if let Some(p) = f.number("topP")? {
        o.top_p = p as f32;
    }
    if let Some(p) = f.number("minP")? {
        o.min_p = p as f32;
    }
    if let Some(s) = f.integer_in("seed", 0.0, MAX_SEED as f64, "an integer in [0, 2^53 - 1]")? {
        o.seed = Some(s as u64);
    }
    o.validate().map_err(js_err)
}

/// The cut reasons as JS sees them: one byte per id, 0 kept, 1 input, 2 greedy, 3 top-k,
/// 4 top-p, 5 min-p.
pub(crate) fn cut_codes(cut: &[Cut]) -> Uint8Array {
    let codes: Vec<u8> = cut.iter().map(|&c| c as u8).collect();
    Uint8Array::from(&codes[..])
}

fn sample_options(options: &JsValue) -> Result<SampleOptions, JsError> {
    let f = Fields::new(options, "options", SAMPLE_FIELDS)?;
    let mut o = SampleOptions::default();
    if let Some(s) = f.string("input")? {
        o.input = Input::parse(&s).map_err(js_err)?;
    }
    read_sampler_fields(&f, &mut o)?;
    Ok(o)
}

/// Draws one token through the chain temperature → top-k → top-p → min-p → renormalise → draw.
///
/// Returns `{ token, probs, cut, kept, seed, entropy, logProb, modelLogProb }`: `probs` is the
/// final distribution (length V, sums to 1), `cut[i]` says which step removed id i
/// (0 kept, 1 input, 2 greedy, 3 top-k, 4 top-p, 5 min-p).
#[wasm_bindgen]
pub fn sample(values: JsValue, options: JsValue) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let opts = sample_options(&options)?;
    let s = sampling::sample(&z, &opts).map_err(js_err)?;
    let out = Object::new();
    set(&out, "token", s.token as u32);
    set(&out, "probs", Float32Array::from(&s.probs[..]));
    set(&out, "cut", cut_codes(&s.cut));
    set(&out, "kept", s.kept as u32);
    set(&out, "seed", s.seed as f64);
    set(&out, "entropy", s.entropy);
    set(&out, "logProb", s.log_prob as f64);
    set(&out, "modelLogProb", s.model_log_prob as f64);
    Ok(out)
}

const LOSS_FIELDS: &[&str] = &[
    "classes",
    "function",
    "reduction",
    "ignoreIndex",
    "weight",
    "labelSmoothing",
];

/// The loss options shared by `loss` and `pipelineLoss` (all of LOSS_FIELDS but `function`).
fn read_loss_options(f: &Fields) -> Result<LossOptions, JsError> {
    let classes = f
        .integer_in(
            "classes",
            1.0,
            MAX_LOSS_VALUES as f64,
            "an integer in [1, 2^24]",
        )?
        .ok_or_else(|| {
            JsError::new("options.classes is required: the number of classes C (values is N × C)")
        })?;
    let mut o = LossOptions::new(classes as usize);
    if let Some(s) = f.string("reduction")? {
        o.reduction = Reduction::parse(&s).map_err(js_err)?;
    }
    if let Some(i) = f.integer_in(
        "ignoreIndex",
        i32::MIN as f64,
        i32::MAX as f64,
        "a 32-bit integer",
    )? {
        o.ignore_index = i as i64;
    }
    if let Some(w) = f.get("weight") {
        o.weight = Some(f32_vec("options.weight", &w, MAX_LOSS_VALUES)?);
    }
    if let Some(e) = f.number("labelSmoothing")? {
        o.label_smoothing = e as f32;
    }
    Ok(o)
}

fn loss_object(r: &loss::LossOutput) -> Object {
    let out = Object::new();
    set(&out, "loss", r.loss as f64);
    set(&out, "rows", Float32Array::from(&r.rows[..]));
    set(&out, "grad", Float32Array::from(&r.grad[..]));
    set(&out, "denominator", r.denominator);
    out
}

/// Cross-entropy or NLL with PyTorch semantics. `values` is row-major N × C with
/// N = targets.length. Returns `{ loss, rows, grad, denominator }`.
#[wasm_bindgen]
pub fn loss(values: JsValue, targets: JsValue, options: JsValue) -> Result<Object, JsError> {
    let x = f32_vec("values", &values, MAX_LOSS_VALUES)?;
    let t = i32_vec("targets", &targets, MAX_LOSS_VALUES)?;
    let f = Fields::new(&options, "options", LOSS_FIELDS)?;
    let mut o = read_loss_options(&f)?;
    if let Some(s) = f.string("function")? {
        o.function = LossFunction::parse(&s).map_err(js_err)?;
    }
    let r = loss::loss(&x, &t, &o).map_err(js_err)?;
    Ok(loss_object(&r))
}

/// One of the seed's four training pipelines on logits z = `values` (row-major N × C):
/// `options.pipeline` is `"crossEntropyOnLogits"`, `"nllOnLogSoftmax"`, `"nllOnLogits"` or
/// `"crossEntropyOnSoftmax"`; the other options are `loss`'s, without `function`. Returns
/// `loss`'s fields (for the values the loss saw) plus `inputs` (z, log_softmax(z) or
/// softmax(z)) and `gradLogits`, d(loss)/dz.
#[wasm_bindgen(js_name = pipelineLoss)]
pub fn pipeline_loss(
    values: JsValue,
    targets: JsValue,
    options: JsValue,
) -> Result<Object, JsError> {
    let x = f32_vec("values", &values, MAX_LOSS_VALUES)?;
    let t = i32_vec("targets", &targets, MAX_LOSS_VALUES)?;
    let mut known = vec!["pipeline"];
    known.extend(LOSS_FIELDS.iter().filter(|&&k| k != "function"));
    let f = Fields::new(&options, "options", &known)?;
    let pipeline = f.string("pipeline")?.ok_or_else(|| {
        JsError::new(
            "options.pipeline is required: \"crossEntropyOnLogits\", \"nllOnLogSoftmax\", \
             \"nllOnLogits\" or \"crossEntropyOnSoftmax\"",
        )
    })?;
    let pipeline = loss::Pipeline::parse(&pipeline).map_err(js_err)?;
    let o = read_loss_options(&f)?;
    let r = loss::pipeline_loss(&x, &t, pipeline, &o).map_err(js_err)?;
    let out = loss_object(&r.output);
    set(&out, "inputs", Float32Array::from(&r.inputs[..]));
    set(&out, "gradLogits", Float32Array::from(&r.grad_logits[..]));
    Ok(out)
}

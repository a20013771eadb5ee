//! The wasm-bindgen layer: it converts JS values to Rust, validates them, calls the plain Rust
//! functions and converts the results back. No maths lives here.
//!
//! Every export returns `Result<_, JsError>`; the message names the argument and its range. The
//! conversions accept a `Float32Array` (or any typed array, or a plain array of numbers), so a
//! teacher can type `logitlab.softmax([1, 2, 3])` in the console.

use js_sys::{Array, Float32Array, Int32Array, Object, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Param};
use crate::limits::MAX_SEED;
use crate::loss::{self, LossFunction, Reduction};
use crate::numerics;
use crate::sampling::{self, Cut, Input};

/// Largest N × C accepted by `loss`; see [`crate::limits`].
pub use crate::limits::MAX_LOSS_VALUES;
/// Longest vector accepted by `softmax`, `logSoftmax` and `sample`; see [`crate::limits`].
pub use crate::limits::MAX_VALUES as MAX_VOCAB;

/// A JS Error whose `message` is the English message (the API's contract). A coded error also
/// carries `code` (e.g. "values.notNumber") and `params` ({ index: 1, value: "oops" }): the
/// page shows its catalogue's `error.<code>` in the page's language instead.
pub(crate) fn js_err(e: Error) -> JsError {
    let err = JsError::new(e.message());
    if let Some(code) = e.code() {
        // A clone of a JsError is another handle on the same JS object.
        let obj = JsValue::from(err.clone());
        let params = Object::new();
        for (name, value) in e.params() {
            let v = match value {
                Param::Int(n) => JsValue::from_f64(*n as f64),
                Param::Text(s) => JsValue::from_str(s),
            };
            let _ = Reflect::set(&params, &JsValue::from_str(name), &v);
        }
        let _ = Reflect::set(&obj, &"code".into(), &code.name().into());
        let _ = Reflect::set(&obj, &"params".into(), &params);
    }
    err
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

/// Reads an options object into `T`, a serde struct whose TypeScript interface tsify writes into
/// the `.d.ts`. `undefined` or `null` is `T::default()`. A field that `T` does not have is an
/// error (a typo is not a silently ignored setting), as is a field of the wrong type; each names
/// the field: "options has an unknown field `topp`; expected one of temperature, topK, …",
/// "options.temperature must be a number, got the string \"hot\"".
pub(crate) fn options<T: DeserializeOwned + Default>(
    v: &JsValue,
    what: &str,
) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(JsError::new(&format!(
            "{what} must be an object like {{ temperature: 0.8 }}, got {}",
            describe(v)
        )));
    }
    // serde-wasm-bindgen looks up only the fields it knows, so `deny_unknown_fields` never sees
    // the others: check the keys here.
    let known = field_names::<T>();
    for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(JsError::new(&format!(
                "{what} has an unknown field `{key}`; expected one of {}",
                known.join(", ")
            )));
        }
    }
    serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(v.clone())).map_err(
        |e| {
            let path = e.path().to_string();
            // The fields are flat, so the path is one key: say what it held, as the API does.
            let got = Reflect::get(v, &JsValue::from_str(&path)).unwrap_or(JsValue::UNDEFINED);
            JsError::new(&field_error(
                what,
                &path,
                &e.inner().to_string(),
                &describe(&got),
            ))
        },
    )
}

/// serde's message about a field, in the API's words: "invalid type: …, expected f64" becomes
/// "{what}.{path} must be a number, got {got}", and "unknown variant `x`, expected one of `a`,
/// `b`" becomes "{what}.{path} must be one of "a", "b", got {got}".
fn field_error(what: &str, path: &str, message: &str, got: &str) -> String {
    // serde-wasm-bindgen's errors are JS Errors; their text starts with the constructor's name.
    let message = message.strip_prefix("Error: ").unwrap_or(message);
    let expected = if message.starts_with("invalid type: ") {
        match message.rsplit_once(", expected ").map(|(_, e)| e) {
            Some("f32" | "f64") => "a number".to_string(),
            Some("a boolean") => "true or false".to_string(),
            Some(e) if e.starts_with("enum ") => "a string".to_string(),
            Some(e) => e.to_string(),
            None => return format!("{what}.{path}: {message}"),
        }
    } else if message.starts_with("unknown variant ") {
        match message.split_once(", expected ") {
            // "one of `a`, `b`, `c`" or "`a` or `b`".
            Some((_, e)) => e.replace('`', "\""),
            None => return format!("{what}.{path}: {message}"),
        }
    } else {
        return format!("{what}.{path}: {message}");
    };
    format!("{what}.{path} must be {expected}, got {got}")
}

/// The field names serde reads for the struct `T`, in declaration order (serde hands them to
/// `deserialize_struct`; this deserializer only records them).
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Deserializer, Visitor};
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("field names read")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// An optional integer field in [min, max]; `range` describes it in the error, e.g. "an
/// integer >= 0".
pub(crate) fn integer_in(
    key: &str,
    x: Option<f64>,
    min: f64,
    max: f64,
    range: &str,
) -> Result<Option<f64>, JsError> {
    match x {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x >= min && x <= max => Ok(Some(x)),
        Some(x) => Err(js_err(Error::arg(key, range, x))),
    }
}

/// An optional integer field in [min, max].
#[cfg_attr(not(feature = "train"), allow(dead_code))] // the Trainer's config
pub(crate) fn integer(
    key: &str,
    x: Option<f64>,
    min: f64,
    max: f64,
) -> Result<Option<f64>, JsError> {
    integer_in(key, x, min, max, &format!("an integer in [{min}, {max}]"))
}

// The argument types that are not serde structs: what the readers above accept.
#[wasm_bindgen(typescript_custom_section)]
const ARGUMENT_TYPES: &str = r#"
/** A vector of numbers: a Float32Array (copied as it is), another typed array or an array. */
export type Values = Float32Array | ArrayLike<number>;
/** Token ids: a Uint32Array, or an array or typed array of integers >= 0. */
export type TokenIds = Uint32Array | ArrayLike<number>;
/** Integer class indices: an Int32Array, or an array or typed array of integers. */
export type Targets = Int32Array | ArrayLike<number>;
/** A file's bytes. */
export type Bytes = Uint8Array | ArrayBuffer;
"#;

/// Declares an options struct (its TypeScript interface has its name) that holds the sampler's fields
/// (temperature, topK, topP, minP, seed) followed by its own, with `sampler(input)` to check and
/// convert them. A macro, not `#[serde(flatten)]`: flattening makes serde read the object as a
/// map, which loses the field list that `options` checks the keys against.
macro_rules! sampler_options {
    ($(#[$attr:meta])* pub struct $name:ident {
        $($(#[$fattr:meta])* pub $field:ident: $ty:ty,)*
    }) => {
        $(#[$attr])*
        #[derive(serde::Deserialize, tsify::Tsify, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            /// Temperature T ≥ 0: p = softmax(z / T). Default 1; 0 = greedy (argmax, lowest id
            /// on a tie).
            #[tsify(optional)]
            pub temperature: Option<f64>,
            /// Top-k: keep the k most likely ids, an integer ≥ 0. Default 0 = off.
            #[tsify(optional)]
            pub top_k: Option<f64>,
            /// Top-p (nucleus): keep the smallest set of most likely ids whose mass is ≥ p, in
            /// [0, 1]. Default 1 = off; 0 = greedy.
            #[tsify(optional)]
            pub top_p: Option<f64>,
            /// Min-p: drop ids with p < minP · max p, in [0, 1]. Default 0 = off.
            #[tsify(optional)]
            pub min_p: Option<f64>,
            /// Seed of the draw, an integer in [0, 2^53 − 1]. Absent = a fresh one, reported in
            /// the result.
            #[tsify(optional)]
            pub seed: Option<f64>,
            $($(#[$fattr])* pub $field: $ty,)*
        }

        impl $name {
            /// The sampler's settings for `values` that hold `input`, each checked.
            pub(crate) fn sampler(
                &self,
                input: $crate::sampling::Input,
            ) -> Result<$crate::sampling::SampleOptions, JsError> {
                $crate::wasm::sampler_settings(
                    input,
                    [self.temperature, self.top_k, self.top_p, self.min_p, self.seed],
                )
            }
        }
    };
}
pub(crate) use sampler_options;

/// Checks and converts [temperature, topK, topP, minP, seed] (see [`sampler_options`]).
pub(crate) fn sampler_settings(
    input: Input,
    [temperature, top_k, top_p, min_p, seed]: [Option<f64>; 5],
) -> Result<sampling::SampleOptions, JsError> {
    let mut o = sampling::SampleOptions {
        input,
        ..sampling::SampleOptions::default()
    };
    if let Some(t) = temperature {
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
    let max = MAX_SEED as f64;
    if let Some(k) = integer_in("topK", top_k, 0.0, max, "an integer >= 0 (0 = off)")? {
        o.top_k = k as usize;
    }
    if let Some(p) = top_p {
        o.top_p = p as f32;
    }
    if let Some(p) = min_p {
        o.min_p = p as f32;
    }
    if let Some(s) = integer_in("seed", seed, 0.0, max, "an integer in [0, 2^53 - 1]")? {
        o.seed = Some(s as u64);
    }
    o.validate().map_err(js_err)?;
    Ok(o)
}

/// softmax(z / T): probabilities from logits at temperature T (default 1; 0 = greedy one-hot).
#[wasm_bindgen]
pub fn softmax(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    temperature: Option<f64>,
) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let t = temperature.unwrap_or(1.0) as f32;
    let p = numerics::softmax(&z, t).map_err(js_err)?;
    Ok(Float32Array::from(&p[..]))
}

/// log_softmax(z) = z − logsumexp(z).
#[wasm_bindgen(js_name = logSoftmax)]
pub fn log_softmax(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let lp = numerics::log_softmax(&z).map_err(js_err)?;
    Ok(Float32Array::from(&lp[..]))
}

/// logsumexp(z), the normaliser that log_softmax subtracts.
#[wasm_bindgen]
pub fn logsumexp(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
) -> Result<f64, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    Ok(numerics::logsumexp(&z).map_err(js_err)? as f64)
}

/// The seed's temperature claim: softmax(z / T) computed from z and from log_softmax(z).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TemperatureIdentity {
    /// softmax(z / T).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub from_logits: Float32Array,
    /// softmax(log_softmax(z) / T).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub from_log_softmax: Float32Array,
    /// max_i |fromLogits_i − fromLogSoftmax_i|.
    pub max_abs_diff: f64,
}

impl TemperatureIdentity {
    pub(crate) fn new((a, b, diff): &(Vec<f32>, Vec<f32>, f32)) -> Self {
        TemperatureIdentity {
            from_logits: Float32Array::from(&a[..]),
            from_log_softmax: Float32Array::from(&b[..]),
            max_abs_diff: *diff as f64,
        }
    }
}

/// fromLogits = softmax(z / T) and fromLogSoftmax = softmax(log_softmax(z) / T): the same
/// distribution, up to rounding.
#[wasm_bindgen(js_name = temperatureIdentity, unchecked_return_type = "TemperatureIdentity")]
pub fn temperature_identity(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    temperature: f64,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let r = numerics::temperature_identity(&z, temperature as f32).map_err(js_err)?;
    Ok(to_js(&TemperatureIdentity::new(&r)))
}

/// A count per storage format.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FormatCounts {
    pub f32: u32,
    pub f16: u32,
    pub bf16: u32,
    /// float32 log-probabilities.
    pub log_probs: u32,
}

impl FormatCounts {
    /// From counts in the order [f32, f16, bf16, logProbs].
    pub(crate) fn new([f32, f16, bf16, log_probs]: [usize; 4]) -> Self {
        FormatCounts {
            f32: f32 as u32,
            f16: f16 as u32,
            bf16: bf16 as u32,
            log_probs: log_probs as u32,
        }
    }
}

/// p = softmax(z / T) as stored in each format.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Precision {
    /// float32 probabilities.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub f32: Float32Array,
    /// float16 probabilities (widened to f32).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub f16: Float32Array,
    /// bfloat16 probabilities (widened to f32).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub bf16: Float32Array,
    /// float32 log-probabilities log_softmax(z / T).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub log_probs: Float32Array,
    /// The ids each format stores as exactly 0 (or −∞): gone at every later temperature.
    pub zeros: FormatCounts,
}

/// p = softmax(z / T) as float32, float16 and bfloat16 probabilities and as f32 log-probs, and
/// how many ids each stores as exactly 0.
#[wasm_bindgen(unchecked_return_type = "Precision")]
pub fn precision(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    temperature: f64,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let s = numerics::stored_precisions(&z, temperature as f32).map_err(js_err)?;
    Ok(to_js(&Precision {
        f32: Float32Array::from(&s.f32[..]),
        f16: Float32Array::from(&s.f16[..]),
        bf16: Float32Array::from(&s.bf16[..]),
        log_probs: Float32Array::from(&s.log_probs[..]),
        zeros: FormatCounts::new(s.zeros()),
    }))
}

/// The cut reasons as JS sees them: one byte per id, 0 kept, 1 input, 2 greedy, 3 top-k,
/// 4 top-p, 5 min-p.
pub(crate) fn cut_codes(cut: &[Cut]) -> Uint8Array {
    let codes: Vec<u8> = cut.iter().map(|&c| c as u8).collect();
    Uint8Array::from(&codes[..])
}

sampler_options! {
    /// `sample`'s options.
    pub struct SampleOptions {
        /// What `values` holds: logits z (default), log-probabilities or probabilities.
        #[tsify(optional)]
        pub input: Option<Input>,
    }
}

/// One draw and the distribution it was drawn from.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SampleResult {
    /// The drawn token id.
    pub token: u32,
    /// The final distribution (length V, sums to 1).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// Which step removed each id: 0 kept, 1 input, 2 greedy, 3 top-k, 4 top-p, 5 min-p.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint8Array")]
    pub cut: Uint8Array,
    /// How many ids the chain kept.
    pub kept: u32,
    /// The seed used (given or drawn), to replay the draw.
    pub seed: f64,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// log p(token) under `probs`.
    pub log_prob: f64,
    /// log p(token) under the model at T = 1, before any filter (−surprisal).
    pub model_log_prob: f64,
}

/// Draws one token through the chain temperature → top-k → top-p → min-p → renormalise → draw.
#[wasm_bindgen(unchecked_return_type = "SampleResult")]
pub fn sample(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "SampleOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let o: SampleOptions = self::options(&options, "options")?;
    let opts = o.sampler(o.input.unwrap_or_default())?;
    let s = sampling::sample(&z, &opts).map_err(js_err)?;
    Ok(to_js(&SampleResult {
        token: s.token as u32,
        probs: Float32Array::from(&s.probs[..]),
        cut: cut_codes(&s.cut),
        kept: s.kept as u32,
        seed: s.seed as f64,
        entropy: s.entropy,
        log_prob: s.log_prob as f64,
        model_log_prob: s.model_log_prob as f64,
    }))
}

/// Declares a loss options struct: its own fields first, then those `loss` and `pipelineLoss`
/// share, with `loss_options()` to check and convert the shared ones (see [`sampler_options`]
/// for why not `#[serde(flatten)]`).
macro_rules! loss_options {
    ($(#[$attr:meta])* pub struct $name:ident {
        $($(#[$fattr:meta])* pub $field:ident: $ty:ty,)*
    }) => {
        $(#[$attr])*
        #[derive(Deserialize, Tsify, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            /// C, the number of classes, an integer in [1, 2^24]: `values` is row-major N × C.
            /// Required.
            #[tsify(type = "number")]
            pub classes: Option<f64>,
            $($(#[$fattr])* pub $field: $ty,)*
            /// "mean" (default): divide by the total weight of the non-ignored targets; "sum".
            #[tsify(optional)]
            pub reduction: Option<Reduction>,
            /// A target equal to this contributes nothing, a 32-bit integer. Default −100.
            #[tsify(optional)]
            pub ignore_index: Option<f64>,
            /// Class weights, length C, each finite and ≥ 0. Default: all 1.
            #[serde(default, with = "serde_wasm_bindgen::preserve")]
            #[tsify(optional, type = "Values")]
            pub weight: JsValue,
            /// Label smoothing ε in [0, 1], crossEntropy only. Default 0.
            #[tsify(optional)]
            pub label_smoothing: Option<f64>,
        }

        impl $name {
            fn loss_options(&self) -> Result<loss::LossOptions, JsError> {
                loss_settings(
                    self.classes,
                    self.reduction,
                    self.ignore_index,
                    &self.weight,
                    self.label_smoothing,
                )
            }
        }
    };
}

/// Checks and converts the loss fields (see [`loss_options`]).
fn loss_settings(
    classes: Option<f64>,
    reduction: Option<Reduction>,
    ignore_index: Option<f64>,
    weight: &JsValue,
    label_smoothing: Option<f64>,
) -> Result<loss::LossOptions, JsError> {
    let max = MAX_LOSS_VALUES as f64;
    let classes =
        integer_in("classes", classes, 1.0, max, "an integer in [1, 2^24]")?.ok_or_else(|| {
            JsError::new("options.classes is required: the number of classes C (values is N × C)")
        })?;
    let mut o = loss::LossOptions::new(classes as usize);
    if let Some(r) = reduction {
        o.reduction = r;
    }
    let (lo, hi) = (i32::MIN as f64, i32::MAX as f64);
    if let Some(i) = integer_in("ignoreIndex", ignore_index, lo, hi, "a 32-bit integer")? {
        o.ignore_index = i as i64;
    }
    if !weight.is_undefined() && !weight.is_null() {
        o.weight = Some(f32_vec("options.weight", weight, MAX_LOSS_VALUES)?);
    }
    if let Some(e) = label_smoothing {
        o.label_smoothing = e as f32;
    }
    Ok(o)
}

loss_options! {
    /// `loss`'s options.
    pub struct LossOptions {
        /// "crossEntropy" (default: log_softmax, then NLL; takes logits) or "nll" (takes
        /// log-probabilities).
        #[tsify(optional)]
        pub function: Option<LossFunction>,
    }
}

loss_options! {
    /// `pipelineLoss`'s options: `loss`'s without `function`, and the pipeline.
    pub struct PipelineLossOptions {
        /// Which of the seed's four training pipelines. Required.
        #[tsify(type = "Pipeline")]
        pub pipeline: Option<loss::Pipeline>,
    }
}

/// A loss, per row and its gradient.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LossResult {
    /// The reduced loss, in nats.
    pub loss: f64,
    /// Each row's loss (length N; 0 for an ignored target), in nats.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub rows: Float32Array,
    /// d(loss)/d(values), row-major N × C.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub grad: Float32Array,
    /// What the mean divided by: the total weight of the non-ignored targets (1 for "sum").
    pub denominator: f64,
}

impl LossResult {
    fn new(r: &loss::LossOutput) -> Self {
        LossResult {
            loss: r.loss as f64,
            rows: Float32Array::from(&r.rows[..]),
            grad: Float32Array::from(&r.grad[..]),
            denominator: r.denominator,
        }
    }
}

/// Cross-entropy or NLL with PyTorch semantics. `values` is row-major N × C with
/// N = targets.length.
#[wasm_bindgen(unchecked_return_type = "LossResult")]
pub fn loss(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Targets")] targets: JsValue,
    #[wasm_bindgen(unchecked_param_type = "LossOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let x = f32_vec("values", &values, MAX_LOSS_VALUES)?;
    let t = i32_vec("targets", &targets, MAX_LOSS_VALUES)?;
    let a: LossOptions = self::options(&options, "options")?;
    let mut o = a.loss_options()?;
    if let Some(f) = a.function {
        o.function = f;
    }
    let r = loss::loss(&x, &t, &o).map_err(js_err)?;
    Ok(to_js(&LossResult::new(&r)))
}

/// `loss`'s fields for the values the loss saw, and what the pipeline did to the logits.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PipelineLossResult {
    #[serde(flatten)]
    pub output: LossResult,
    /// What the loss saw: z, log_softmax(z) or softmax(z), N × C.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub inputs: Float32Array,
    /// d(loss)/dz, N × C.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub grad_logits: Float32Array,
}

/// One of the seed's four training pipelines on logits z = `values` (row-major N × C).
#[wasm_bindgen(js_name = pipelineLoss, unchecked_return_type = "PipelineLossResult")]
pub fn pipeline_loss(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Targets")] targets: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PipelineLossOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let x = f32_vec("values", &values, MAX_LOSS_VALUES)?;
    let t = i32_vec("targets", &targets, MAX_LOSS_VALUES)?;
    let a: PipelineLossOptions = self::options(&options, "options")?;
    let pipeline = a.pipeline.ok_or_else(|| {
        JsError::new(
            "options.pipeline is required: \"crossEntropyOnLogits\", \"nllOnLogSoftmax\", \
             \"nllOnLogits\" or \"crossEntropyOnSoftmax\"",
        )
    })?;
    let o = a.loss_options()?;
    let r = loss::pipeline_loss(&x, &t, pipeline, &o).map_err(js_err)?;
    Ok(to_js(&PipelineLossResult {
        output: LossResult::new(&r.output),
        inputs: Float32Array::from(&r.inputs[..]),
        grad_logits: Float32Array::from(&r.grad_logits[..]),
    }))
}

/// One of the seed's four training pipelines, as the page lists them.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PipelineInfo {
    /// The name `pipelineLoss` and `Trainer` take.
    #[tsify(type = "Pipeline")]
    pub name: loss::Pipeline,
    /// How the page writes it: the loss applied to what the model outputs.
    pub formula: &'static str,
    /// Whether it is the true cross-entropy, the loss a language model should minimise.
    pub correct: bool,
}

/// The four training pipelines, in the order the page shows them.
#[wasm_bindgen(unchecked_return_type = "PipelineInfo[]")]
pub fn pipelines() -> JsValue {
    let all: Vec<PipelineInfo> = loss::Pipeline::ALL
        .iter()
        .map(|&p| PipelineInfo {
            name: p,
            formula: p.formula(),
            correct: p.is_correct(),
        })
        .collect();
    to_js(&all)
}

/// A value as JS sees it (serde-wasm-bindgen, typed arrays as they are). A flattened struct
/// is serialised as a map: it becomes a plain object too, not a JS `Map`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    let plain = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    // Serialising plain data (numbers, strings, typed arrays) cannot fail.
    value.serialize(&plain).unwrap_or(JsValue::UNDEFINED)
}

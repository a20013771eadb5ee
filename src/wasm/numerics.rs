//! The bindings of [`crate::numerics`]: softmax, log_softmax, logsumexp, the temperature
//! identity and the stored precisions.

use js_sys::Float32Array;
use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use crate::limits::MAX_VALUES;
use crate::numerics;

/// softmax(z / T): probabilities from logits at temperature T (default 1; 0 = greedy one-hot).
#[wasm_bindgen]
pub fn softmax(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    temperature: Option<f64>,
) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let t = temperature.unwrap_or(1.0) as f32;
    let p = numerics::softmax(&z, t).map_err(js_err)?;
    Ok(Float32Array::from(&p[..]))
}

/// log_softmax(z) = z − logsumexp(z).
#[wasm_bindgen(js_name = logSoftmax)]
pub fn log_softmax(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
) -> Result<Float32Array, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let lp = numerics::log_softmax(&z).map_err(js_err)?;
    Ok(Float32Array::from(&lp[..]))
}

/// logsumexp(z), the normaliser that log_softmax subtracts.
#[wasm_bindgen]
pub fn logsumexp(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
) -> Result<f64, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
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
    let z = f32_vec("values", &values, MAX_VALUES)?;
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
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let s = numerics::stored_precisions(&z, temperature as f32).map_err(js_err)?;
    Ok(to_js(&Precision {
        f32: Float32Array::from(&s.f32[..]),
        f16: Float32Array::from(&s.f16[..]),
        bf16: Float32Array::from(&s.bf16[..]),
        log_probs: Float32Array::from(&s.log_probs[..]),
        zeros: FormatCounts::new(s.zeros()),
    }))
}

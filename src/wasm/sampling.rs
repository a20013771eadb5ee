//! The bindings of [`crate::sampling`]: `sample`, and the sampler options every export that
//! samples shares (`sampler_options!`).

use js_sys::{Float32Array, Uint8Array};
use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use crate::error::Error;
use crate::limits::{MAX_SEED, MAX_VALUES};
use crate::sampling::{self, Cut, Input};

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
                $crate::wasm::sampling::sampler_settings(
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

/// The cut reasons as JS sees them: one byte per id, 0 kept, 1 input, 2 greedy, 3 top-k,
/// 4 top-p, 5 min-p.
pub(crate) fn cut_codes(cut: &[Cut]) -> Uint8Array {
    let codes: Vec<u8> = cut.iter().map(|&c| c as u8).collect();
    Uint8Array::from(&codes[..])
}

/// What each cut code means, by code: `cutReasons()[cut[i]]` is why id i was removed
/// ("kept", "input", "greedy", "topK", "topP", "minP").
#[wasm_bindgen(js_name = cutReasons)]
pub fn cut_reasons() -> Vec<String> {
    Cut::ALL.iter().map(|c| c.name().to_string()).collect()
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
    let z = f32_vec("values", &values, MAX_VALUES)?;
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

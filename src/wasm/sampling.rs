//! The bindings of [`crate::sampling`]: `sample`, the sampler options every export that
//! samples shares (`sampler_options!`), and the sampler workbench: `Sampler` (a chain of steps
//! and its state), `chainToUrl` and `chainFromUrl`.

use js_sys::{Float32Array, Uint8Array};
use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use crate::error::Error;
use crate::limits::{MAX_HISTORY, MAX_SEED, MAX_VALUES};
use crate::sampling::{self, chain, workbench, Cut, Input, Step};

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
    if let Some(k) = integer_in(
        "topK",
        top_k,
        0.0,
        max,
        &format!("an integer in [0, {max}] (0 = off)"),
    )? {
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

/// `new Sampler`'s options.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamplerOptions {
    /// Seed of the generator (XTC's coin and the draws), an integer in [0, 2^53 − 1]. Absent =
    /// a fresh one, reported by `sampler.seed`.
    #[tsify(optional)]
    pub seed: Option<f64>,
}

/// The options of `sampler.distribution` and `sampler.sample`.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrawOptions {
    /// The token ids so far (prompt and generated), oldest first, which the repetition steps
    /// read. Default: none.
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    #[tsify(optional, type = "TokenIds")]
    pub history: JsValue,
    /// What `values` holds: logits z (default), log-probabilities or probabilities.
    #[tsify(optional)]
    pub input: Option<Input>,
}

/// What one step of the chain did.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// The step's kind, e.g. "topK".
    pub kind: String,
    /// How many ids were kept after it.
    pub kept: u32,
    /// The mass, in the distribution the step was handed, of the ids it cut.
    pub mass_removed: f64,
}

/// A chain's final distribution, before any draw.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DistributionResult {
    /// The final distribution (length V, sums to 1).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// Per id: 0 kept, i + 1 cut by step i, 255 excluded by the input (logit −∞, p = 0).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint8Array")]
    pub cut: Uint8Array,
    /// One entry per step, in order.
    pub steps: Vec<StepResult>,
    /// How many ids the chain kept.
    pub kept: u32,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// Mirostat's μ the chain used; absent without a Mirostat step.
    #[tsify(optional)]
    pub mu: Option<f64>,
}

/// A draw, and the distribution it was drawn from.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SamplerDraw {
    /// The drawn token id.
    pub token: u32,
    /// log p(token) under `probs`.
    pub log_prob: f64,
    /// The final distribution (length V, sums to 1).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// Per id: 0 kept, i + 1 cut by step i, 255 excluded by the input.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint8Array")]
    pub cut: Uint8Array,
    /// One entry per step, in order.
    pub steps: Vec<StepResult>,
    /// How many ids the chain kept.
    pub kept: u32,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// Mirostat's μ the chain used for this draw (before its update); absent without one.
    #[tsify(optional)]
    pub mu: Option<f64>,
}

/// Each step's report, as JS sees it.
pub(crate) fn step_results(d: &workbench::Distribution) -> Vec<StepResult> {
    (d.steps.iter())
        .map(|r| StepResult {
            kind: r.kind.to_string(),
            kept: r.kept as u32,
            mass_removed: r.mass_removed,
        })
        .collect()
}

fn distribution_result(d: &workbench::Distribution) -> DistributionResult {
    DistributionResult {
        probs: Float32Array::from(&d.probs[..]),
        cut: Uint8Array::from(&d.cut[..]),
        steps: step_results(d),
        kept: d.kept as u32,
        entropy: d.entropy,
        mu: d.mu.map(|m| m as f64),
    }
}

/// A sampler chain with its state across tokens (the generator, Mirostat's μ): the sampler
/// workbench. `new Sampler('llama.cpp' | 'huggingface' | steps, { seed })`; a step is
/// `{ kind: 'topK', k: 40 }` etc., every field left out at its default (see `Step`).
#[wasm_bindgen(js_name = Sampler)]
pub struct JsSampler {
    inner: workbench::Sampler,
}

#[wasm_bindgen(js_class = Sampler)]
impl JsSampler {
    /// A sampler for a preset's chain or a list of steps, each checked: an unknown kind or a
    /// parameter out of range is an error naming the step's index, the field and the range.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
        chain: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SamplerOptions")] options: JsValue,
    ) -> Result<JsSampler, JsError> {
        let steps = chain_arg(&chain)?;
        let o: SamplerOptions = self::options(&options, "options")?;
        let seed = integer_in(
            "seed",
            o.seed,
            0.0,
            MAX_SEED as f64,
            "an integer in [0, 2^53 - 1]",
        )?;
        let inner = workbench::Sampler::new(steps, seed.map(|s| s as u64)).map_err(js_err)?;
        Ok(JsSampler { inner })
    }

    /// The distribution the next `sample` on the same arguments would draw from, XTC's coin
    /// included: no draw, no change of state.
    #[wasm_bindgen(unchecked_return_type = "DistributionResult")]
    pub fn distribution(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DrawOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let (z, history, input) = draw_args(&values, &options)?;
        let d = (self.inner.distribution(&z, &history, input)).map_err(js_err)?;
        Ok(to_js(&distribution_result(&d)))
    }

    /// Runs the chain, draws a token, and advances the state (the generator; μ after a
    /// Mirostat step).
    #[wasm_bindgen(unchecked_return_type = "SamplerDraw")]
    pub fn sample(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DrawOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let (z, history, input) = draw_args(&values, &options)?;
        let d = self.inner.sample(&z, &history, input).map_err(js_err)?;
        let r = distribution_result(&d.distribution);
        Ok(to_js(&SamplerDraw {
            token: d.token as u32,
            log_prob: d.log_prob as f64,
            probs: r.probs,
            cut: r.cut,
            steps: r.steps,
            kept: r.kept,
            entropy: r.entropy,
            mu: r.mu,
        }))
    }

    /// The chain, every parameter filled in.
    #[wasm_bindgen(getter, unchecked_return_type = "Step[]")]
    pub fn chain(&self) -> JsValue {
        chain_to_js(self.inner.chain())
    }

    /// The seed the generator started from (given or drawn).
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.inner.seed() as f64
    }

    /// Mirostat's μ now; undefined without a Mirostat step.
    #[wasm_bindgen(getter)]
    pub fn mu(&self) -> Option<f64> {
        self.inner.mu().map(|m| m as f64)
    }
}

/// The compact URL form of a chain (a preset's name or a list of steps), e.g.
/// `t_1~k_50_h~p_1_1~m_0_1`; `chainFromUrl` reads it back.
#[wasm_bindgen(js_name = chainToUrl)]
pub fn chain_to_url(
    #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
    chain: JsValue,
) -> Result<String, JsError> {
    Ok(chain::to_url(&chain_arg(&chain)?))
}

/// The fields of a kind of step (`chainFields('topP')`), in the order the step reads them:
/// each one's name, default and range, as `new Sampler` checks them.
#[wasm_bindgen(js_name = chainFields, unchecked_return_type = "FieldSpec[]")]
pub fn chain_fields(
    #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
) -> Result<JsValue, JsError> {
    let kind = string_arg("kind", &kind)?;
    Ok(to_js(&chain::fields(&kind).map_err(js_err)?))
}

/// The chain of a URL form written by `chainToUrl`, every parameter filled in and checked.
#[wasm_bindgen(js_name = chainFromUrl, unchecked_return_type = "Step[]")]
pub fn chain_from_url(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsError> {
    let text = string_arg("text", &text)?;
    Ok(chain_to_js(&chain::from_url(&text).map_err(js_err)?))
}

/// A chain argument: a preset's name or a list of steps, each checked.
pub(crate) fn chain_arg(chain: &JsValue) -> Result<Vec<Step>, JsError> {
    let v = json_arg("chain", chain)?;
    chain::from_json(&v).map_err(js_err)
}

fn draw_args(values: &JsValue, options: &JsValue) -> Result<(Vec<f32>, Vec<u32>, Input), JsError> {
    let z = f32_vec("values", values, MAX_VALUES)?;
    let o: DrawOptions = self::options(options, "options")?;
    let history = history_arg(&o.history)?;
    Ok((z, history, o.input.unwrap_or_default()))
}

/// `options.history`: the token ids so far, none if absent; more than [`MAX_HISTORY`] is the
/// coded `history.tooLong`.
pub(crate) fn history_arg(history: &JsValue) -> Result<Vec<u32>, JsError> {
    if history.is_undefined() || history.is_null() {
        return Ok(Vec::new());
    }
    let expected = "a Uint32Array or an array of token ids";
    let n = list_length("options.history", history, expected)?;
    if n > MAX_HISTORY {
        return Err(js_err(workbench::history_too_long(n)));
    }
    ids_arg("options.history", history, MAX_HISTORY)
}

/// The steps as JS objects; a logit bias of −∞ (null in JSON) as −Infinity.
fn chain_to_js(steps: &[Step]) -> JsValue {
    let out = js_sys::Array::new();
    for s in steps {
        let v = to_js(&s.to_json());
        if let Step::LogitBias { bias } = s {
            let pairs = js_sys::Array::new();
            for &(id, value) in bias {
                pairs.push(&js_sys::Array::of2(
                    &(id as f64).into(),
                    &(value as f64).into(),
                ));
            }
            let _ = js_sys::Reflect::set(&v, &"bias".into(), &pairs);
        }
        out.push(&v);
    }
    out.into()
}

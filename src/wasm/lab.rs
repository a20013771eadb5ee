//! The wasm-bindgen layer for the lab's experiments ([`crate::lab`]): the figures the page
//! shows, computed in Rust so the page only lays them out. Converts and validates, nothing else.

mod chain;
mod weights;

use js_sys::{Float32Array, Float64Array, Uint32Array};
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::lab::{self, Rows, Stability, ZERO_THRESHOLDS};
use crate::limits::MAX_VALUES;
use crate::model::OutputMode;
use crate::wasm::convert::{f32_vec, integer, js_err, options, string_arg, to_js};
use crate::wasm::numerics::{FormatCounts, TemperatureIdentity};
use crate::wasm::sampling::{cut_codes, sampler_options};

sampler_options! {
    /// `nextTokenPanel`'s options: the sampler's, plus what the forward pass returned and the
    /// panel's own.
    pub struct NextTokenOptions {
        /// What `values` are: the model's logits (default) or its log_softmax.
        #[tsify(optional)]
        pub output: Option<OutputMode>,
        /// How many ids the bars name, an integer ≥ 0. Default 12.
        #[tsify(optional)]
        pub top: Option<f64>,
        /// The precision experiment stores p = softmax(z / storedTemperature), a finite number
        /// > 0. Default 1.
        #[tsify(optional)]
        pub stored_temperature: Option<f64>,
        /// … and re-heats it to this absolute temperature, a finite number > 0. Default 3.
        #[tsify(optional)]
        pub reheat_temperature: Option<f64>,
        /// Compute the temperature identity (default true); false leaves `identity` out, for a
        /// caller that kept it from a call with the same values and temperature.
        #[tsify(optional)]
        pub identity: Option<bool>,
        /// Compute the precision experiment (default true); false leaves `precision` out, for
        /// a caller that kept it from a call with the same values and temperatures.
        #[tsify(optional)]
        pub precision: Option<bool>,
        /// true: `values`, `logProbs`, `probs`, `cut` and the identity's two distributions
        /// hold the `top` ids' entries only (row k is id top[k]), so that no V-long array is
        /// made; default false: every id's.
        #[tsify(optional)]
        pub top_only: Option<bool>,
    }
}

/// A positive finite temperature field, or its default.
fn positive(key: &str, x: Option<f64>, default: f64) -> Result<f32, JsError> {
    match x {
        None => Ok(default as f32),
        Some(t) if t.is_finite() && t > 0.0 && (t as f32) > 0.0 => Ok(t as f32),
        Some(t) => Err(js_err(crate::Error::arg(key, "a finite number > 0", t))),
    }
}

/// The precision experiment of the panel.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PanelPrecision {
    /// Per format, the ids stored as exactly 0 at the stored temperature.
    pub zeros: FormatCounts,
    /// Per format, the ids still at 0 after re-heating.
    pub zeros_after: FormatCounts,
    /// The smallest log-probability, in nats.
    pub min_log_prob: f64,
    /// The same, rounded to 2 decimals on its true side of the nearest threshold (as
    /// `zeroThresholds()`' `lnPShown` prints it), so the two never contradict each other.
    pub min_log_prob_shown: f64,
    /// Whether float32, bfloat16 and float16 probabilities stored some id as exactly 0, in
    /// `zeroThresholds()`' order: decided by the counts.
    pub stores_zeros: [bool; 3],
}

/// The next-token panel's two experiments alone (`ModelOutput.experiments`).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PanelExperiments {
    /// As `NextTokenPanel.identity`; absent with `identity: false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub identity: Option<TemperatureIdentity>,
    /// As `NextTokenPanel.precision`; absent with `precision: false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub precision: Option<PanelPrecision>,
}

/// Everything the sampling lab's next-token panel shows for one output vector.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct NextTokenPanel {
    /// The values as given (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub values: Float32Array,
    /// log_softmax of the logits (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub log_probs: Float32Array,
    /// The final filtered distribution (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// Which step removed each id: 0 kept, 1 input, 2 greedy, 3 top-k, 4 top-p, 5 min-p
    /// (with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint8Array")]
    pub cut: js_sys::Uint8Array,
    /// The drawn token id.
    pub token: u32,
    /// How many ids the chain kept.
    pub kept: u32,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// The same in bits.
    pub entropy_bits: f64,
    /// exp(entropy).
    pub perplexity: f64,
    /// logsumexp of the logits.
    pub logsumexp: f64,
    /// The `top` most likely ids, most likely first.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint32Array")]
    pub top: Uint32Array,
    /// How many ids are not in `top`.
    pub rest: u32,
    /// Their probability mass under `probs`.
    pub rest_mass: f64,
    /// How many of them the chain cut.
    pub rest_cut: u32,
    /// softmax(z / T) from z and from log_softmax(z) (with `topOnly`, at `top`; its
    /// `maxAbsDiff` is over every id); absent with `identity: false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub identity: Option<TemperatureIdentity>,
    /// The greedy pick (T = 0) from the values and from their float32 log_softmax, lowest id on
    /// a tie. They differ only where log_softmax rounds a near-tie to an exact tie.
    pub greedy: [u32; 2],
    /// The precision experiment; absent with `precision: false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub precision: Option<PanelPrecision>,
    /// The smallest and largest finite entry of `values`: the ends of the bars' scale (absent
    /// when every value is −∞).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub value_range: Option<[f64; 2]>,
    /// The same for `logProbs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub log_prob_range: Option<[f64; 2]>,
}

/// Everything the sampling lab's next-token panel shows for one output vector `values`: the
/// sample and its distribution, the top ids, and the identity and precision experiments.
#[wasm_bindgen(js_name = nextTokenPanel, unchecked_return_type = "NextTokenPanel")]
pub fn next_token_panel(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "NextTokenOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let a: NextTokenOptions = self::options(&options, "options")?;
    let o = a.sampler(a.output.unwrap_or_default().sample_input())?;
    let top = top_arg(a.top)?;
    positive("storedTemperature", a.stored_temperature, 1.0)?;
    positive("reheatTemperature", a.reheat_temperature, 3.0)?;
    // The options before the values, as ever.
    o.validate().map_err(js_err)?;
    panel(&lab::Output::new(z, top).map_err(js_err)?, &a)
}

/// `top`: how many ids a panel names, an integer ≥ 0, default 12.
pub(crate) fn top_arg(top: Option<f64>) -> Result<usize, JsError> {
    Ok(integer("top", top, 0.0, MAX_VALUES as f64)?.unwrap_or(12.0) as usize)
}

/// One model output vector, kept in the wasm for the panels of one token: its log_softmax, top
/// ids, scales and greedy picks are computed once, when it is made, so that a panel after a
/// slider or chain change re-runs only the sampler. `nextTokenPanel` and `chainPanel` on it
/// give what the functions of the same names give on its values.
#[wasm_bindgen(js_name = ModelOutput)]
pub struct ModelOutput {
    pub(crate) inner: lab::Output,
}

#[wasm_bindgen(js_class = ModelOutput)]
impl ModelOutput {
    /// `values`: what the model's forward returned (logits or log_softmax; finite or −∞, at
    /// least one finite); `top`: how many ids the panels name, the most likely under the
    /// model, an integer ≥ 0 (default 12).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
        top: Option<f64>,
    ) -> Result<ModelOutput, JsError> {
        let z = f32_vec("values", &values, MAX_VALUES)?;
        let inner = lab::Output::new(z, top_arg(top)?).map_err(js_err)?;
        Ok(ModelOutput { inner })
    }

    /// How many values it holds (V).
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.inner.values.len() as u32
    }

    /// `nextTokenPanel(values, options)` for these values; `options.top`, if given, must be
    /// this output's.
    #[wasm_bindgen(js_name = nextTokenPanel, unchecked_return_type = "NextTokenPanel")]
    pub fn next_token_panel(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "NextTokenOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let a: NextTokenOptions = self::options(&options, "options")?;
        self.check_top(a.top)?;
        panel(&self.inner, &a)
    }

    /// The panel's two experiments alone, as `nextTokenPanel` with the same options gives them
    /// (the identity at `options.temperature`), without re-running the sampler: a caller can
    /// show the bars first and these after.
    #[wasm_bindgen(unchecked_return_type = "PanelExperiments")]
    pub fn experiments(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "NextTokenOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let a: NextTokenOptions = self::options(&options, "options")?;
        self.check_top(a.top)?;
        let o = a.sampler(a.output.unwrap_or_default().sample_input())?;
        o.validate().map_err(js_err)?;
        let m = self
            .inner
            .experiments(o.temperature, experiments_of(&a)?)
            .map_err(js_err)?;
        let (identity, precision) = experiment_fields(
            (&m.identity, &m.precision),
            rows_of(&a),
            &self.inner.top_ids,
        );
        Ok(to_js(&PanelExperiments {
            identity,
            precision,
        }))
    }

    /// Refuses a `top` other than the one the output was made with.
    pub(crate) fn check_top(&self, top: Option<f64>) -> Result<(), JsError> {
        let n = self.inner.top_ids.len();
        match top {
            Some(t) if t != n as f64 => Err(js_err(crate::Error::arg(
                "top",
                &format!("absent or {n}, the top this ModelOutput was made with"),
                t,
            ))),
            _ => Ok(()),
        }
    }
}

/// The experiments `a` asks for (both by default).
fn experiments_of(a: &NextTokenOptions) -> Result<lab::Experiments, JsError> {
    let stored_t = positive("storedTemperature", a.stored_temperature, 1.0)?;
    let reheat_t = positive("reheatTemperature", a.reheat_temperature, 3.0)?;
    Ok(lab::Experiments {
        identity: a.identity.unwrap_or(true),
        precision: a.precision.unwrap_or(true).then_some((stored_t, reheat_t)),
    })
}

/// Which rows the arrays of a panel hold: `topOnly`'s.
fn rows_of(a: &NextTokenOptions) -> Rows {
    match a.top_only.unwrap_or(false) {
        true => Rows::Top,
        false => Rows::All,
    }
}

/// The temperature identity: softmax(z / T) from z and from log_softmax(z), and their max
/// |difference|.
type Identity = (Vec<f32>, Vec<f32>, f32);

/// The experiments' fields of a panel, the identity's two distributions at `rows`.
fn experiment_fields(
    (identity_of, precision_of): (&Option<Identity>, &Option<lab::Precision>),
    rows: Rows,
    top: &[u32],
) -> (Option<TemperatureIdentity>, Option<PanelPrecision>) {
    let shown = |v: &[f32]| Float32Array::from(&rows.of(v, top)[..]);
    let identity = |(a, b, diff): &Identity| TemperatureIdentity {
        from_logits: shown(a),
        from_log_softmax: shown(b),
        max_abs_diff: *diff as f64,
    };
    // The rows are f32, bf16, f16, logProbs.
    let panel_precision = |p: &lab::Precision| {
        let rows = &p.rows;
        let per_format = |f: fn(&lab::Reheated) -> usize| {
            FormatCounts::new([f(&rows[0]), f(&rows[2]), f(&rows[1]), f(&rows[3])])
        };
        PanelPrecision {
            zeros: per_format(|r| r.stored_zeros),
            zeros_after: per_format(|r| r.zeros_after),
            min_log_prob: p.min_log_prob,
            min_log_prob_shown: p.min_log_prob_shown(),
            stores_zeros: p.stores_zeros(),
        }
    };
    (
        identity_of.as_ref().map(identity),
        precision_of.as_ref().map(panel_precision),
    )
}

/// The next-token panel of `output` at the options `a`.
fn panel(output: &lab::Output, a: &NextTokenOptions) -> Result<JsValue, JsError> {
    let o = a.sampler(a.output.unwrap_or_default().sample_input())?;
    let r = output.next_token(&o, experiments_of(a)?).map_err(js_err)?;
    let rows = rows_of(a);
    let shown = |v: &[f32]| Float32Array::from(&rows.of(v, &r.top.ids)[..]);
    let (identity, precision) = experiment_fields((&r.identity, &r.precision), rows, &r.top.ids);
    Ok(to_js(&NextTokenPanel {
        values: shown(&output.values),
        log_probs: shown(&output.log_probs),
        probs: shown(&r.sample.probs),
        cut: cut_codes(&rows.of(&r.sample.cut, &r.top.ids)),
        token: r.sample.token as u32,
        kept: r.sample.kept as u32,
        entropy: r.entropy_nats,
        entropy_bits: r.entropy_bits,
        perplexity: r.perplexity,
        logsumexp: output.logsumexp as f64,
        top: Uint32Array::from(&r.top.ids[..]),
        rest: r.top.rest as u32,
        rest_mass: r.top.rest_mass,
        rest_cut: r.top.rest_cut as u32,
        identity,
        greedy: [output.greedy.0 as u32, output.greedy.1 as u32],
        precision,
        value_range: output.value_range.map(|(lo, hi)| [lo as f64, hi as f64]),
        log_prob_range: output.log_prob_range.map(|(lo, hi)| [lo as f64, hi as f64]),
    }))
}

/// Where a storage format rounds a probability to exactly 0.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ZeroThreshold {
    /// "float32", "bfloat16" or "float16".
    pub format: &'static str,
    /// Every p ≤ 2^log2P is stored as 0.
    pub log2_p: f64,
    /// The same as a natural log: ln p.
    pub ln_p: f64,
    /// ln p rounded down to 2 decimals, as the page prints it: every ln p ≤ lnPShown is
    /// stored as 0 (−17.33 for float16, never −17.3).
    pub ln_p_shown: f64,
}

/// Where each storage format rounds a probability to exactly 0, for float32, bfloat16 and
/// float16.
#[wasm_bindgen(js_name = zeroThresholds, unchecked_return_type = "ZeroThreshold[]")]
pub fn zero_thresholds() -> JsValue {
    let rows: Vec<ZeroThreshold> = ZERO_THRESHOLDS
        .iter()
        .map(|t| ZeroThreshold {
            format: t.format.name(),
            log2_p: t.log2_p as f64,
            ln_p: t.ln_p(),
            ln_p_shown: t.ln_p_shown(),
        })
        .collect();
    to_js(&rows)
}

/// One row of the classification-vs-generation table.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Classified {
    /// Which representation: logits, float32 log-probs, or float32, bfloat16 or float16
    /// probabilities (stored at T = 1).
    pub representation: &'static str,
    /// Its argmax (classification).
    pub argmax: u32,
    /// max |p − softmax(z/T)| after re-heating to T (generation).
    pub max_diff: f64,
    /// How many ids it holds as probability 0 (log-prob −∞; logits: z_i = −∞): lost in
    /// storage, never drawn at any temperature.
    pub lost: u32,
    /// How many ids are at exactly 0 after re-heating to T: the lost ones, plus those whose
    /// probability at this T underflows float32 (they come back at a higher T).
    pub zeros_at_t: u32,
}

/// The classification-vs-generation table for one vector z at temperature T > 0.
#[wasm_bindgen(unchecked_return_type = "Classified[]")]
pub fn classify(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    temperature: f64,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let rows: Vec<Classified> = lab::classify(&z, temperature as f32)
        .map_err(js_err)?
        .iter()
        .map(|r| Classified {
            representation: r.representation,
            argmax: r.argmax as u32,
            max_diff: r.max_diff as f64,
            lost: r.lost as u32,
            zeros_at_t: r.zeros_at_t as u32,
        })
        .collect();
    Ok(to_js(&rows))
}

/// A count for float32 and one for float16.
#[derive(Serialize, Tsify)]
pub struct HalfCounts {
    pub f32: u32,
    pub f16: u32,
}

/// log(softmax(z)) computed naively next to the stable log_softmax(z).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StabilityResult {
    /// log_softmax(z), computed stably.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub stable: Float32Array,
    /// log(softmax(z)) naively in float32.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub naive_f32: Float32Array,
    /// log(softmax(z)) naively in float16.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub naive_f16: Float32Array,
    /// How many NaN each naive version gives.
    pub nan: HalfCounts,
    /// How many −∞ each naive version gives.
    pub neg_inf: HalfCounts,
    /// The stable result's −∞ entries where z_i = −∞.
    pub stable_neg_inf_of_infinite_z: u32,
    /// The stable result's −∞ entries where z_i is finite but z_i − max z overflows float32.
    pub stable_neg_inf_of_overflow: u32,
}

/// log(softmax(z)) computed naively next to the stable log_softmax(z).
#[wasm_bindgen(unchecked_return_type = "StabilityResult")]
pub fn stability(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let s = lab::stability(&z).map_err(js_err)?;
    let (nan32, inf32) = Stability::broken(&s.naive_f32);
    let (nan16, inf16) = Stability::broken(&s.naive_f16);
    let counts = |f32: usize, f16: usize| HalfCounts {
        f32: f32 as u32,
        f16: f16 as u32,
    };
    Ok(to_js(&StabilityResult {
        stable: Float32Array::from(&s.stable[..]),
        naive_f32: Float32Array::from(&s.naive_f32[..]),
        naive_f16: Float32Array::from(&s.naive_f16[..]),
        nan: counts(nan32, nan16),
        neg_inf: counts(inf32, inf16),
        stable_neg_inf_of_infinite_z: s.stable_infinities.of_infinite_z as u32,
        stable_neg_inf_of_overflow: s.stable_infinities.of_overflow as u32,
    }))
}

sampler_options! {
    /// `draws`'s options: the sampler's, and what the model returned.
    pub struct DrawsOptions {
        /// What `values` are: the model's logits (default) or its log_softmax.
        #[tsify(optional)]
        pub output: Option<OutputMode>,
    }
}

/// `n` draws and what to expect of them.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DrawsResult {
    /// How often each id was drawn (length V).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint32Array")]
    pub counts: Uint32Array,
    /// The distribution drawn from (length V).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// n · probs[i].
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub expected: Float32Array,
}

/// `n` draws (an integer in [1, 100 000]) with seeds seed, seed + 1, …
#[wasm_bindgen(unchecked_return_type = "DrawsResult")]
pub fn draws(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DrawsOptions | undefined")] options: JsValue,
    n: f64,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let a: DrawsOptions = self::options(&options, "options")?;
    let o = a.sampler(a.output.unwrap_or_default().sample_input())?;
    if !(n.fract() == 0.0 && n >= 1.0 && n <= crate::limits::MAX_DRAWS as f64) {
        return Err(js_err(crate::Error::arg(
            "n",
            &format!("an integer in [1, {}]", crate::limits::MAX_DRAWS),
            n,
        )));
    }
    let d = lab::draws(&z, &o, n as usize).map_err(js_err)?;
    Ok(to_js(&DrawsResult {
        counts: Uint32Array::from(&d.counts[..]),
        probs: Float32Array::from(&d.probs[..]),
        expected: Float32Array::from(&d.expected[..]),
    }))
}

/// The figures of crossEntropy(softmax(z)) for C classes.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CeOnSoftmax {
    /// C.
    pub classes: f64,
    /// ln(1 + (C − 1)/e): the loss of a one-hot on the target, its floor.
    pub floor: f64,
    /// (e − 1)/(e + C − 1): the lead over the runner-up above which its optimum is one-hot on
    /// the most likely class.
    pub margin: f64,
    /// ln(e + C − 1) − q: the expected loss of that one-hot on a class of frequency q (only
    /// when `frequency` is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub one_hot_loss: Option<f64>,
}

/// The figures of crossEntropy(softmax(z)) for C = `classes` (an integer in [2, 2^22]) and,
/// optionally, a class of frequency q in [0, 1].
#[wasm_bindgen(js_name = ceOnSoftmax, unchecked_return_type = "CeOnSoftmax")]
pub fn ce_on_softmax(classes: f64, frequency: Option<f64>) -> Result<JsValue, JsError> {
    if !(classes.fract() == 0.0 && (2.0..=MAX_VALUES as f64).contains(&classes)) {
        return Err(js_err(crate::Error::arg(
            "classes",
            &format!("an integer in [2, {MAX_VALUES}]"),
            classes,
        )));
    }
    let ce = lab::CeOnSoftmax {
        classes: classes as usize,
    };
    if let Some(q) = frequency {
        if !(0.0..=1.0).contains(&q) {
            return Err(js_err(crate::Error::arg(
                "frequency",
                "a number in [0, 1]",
                q,
            )));
        }
    }
    Ok(to_js(&CeOnSoftmax {
        classes,
        floor: ce.floor(),
        margin: ce.one_hot_margin(),
        one_hot_loss: frequency.map(|q| ce.one_hot_loss(q)),
    }))
}

/// The most frequent characters of a text.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CharFrequencies {
    /// The number of distinct characters.
    pub classes: u32,
    /// The `n` most frequent, most frequent first.
    pub chars: Vec<String>,
    /// Their frequencies (each in [0, 1]).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float64Array")]
    pub frequencies: Float64Array,
}

/// The `n` most frequent characters of `text` (n an integer ≥ 0), most frequent first.
#[wasm_bindgen(js_name = charFrequencies, unchecked_return_type = "CharFrequencies")]
pub fn char_frequencies(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    n: f64,
) -> Result<JsValue, JsError> {
    let text = string_arg("text", &text)?;
    crate::limits::check_text_len("text", &text).map_err(js_err)?;
    if !(n.fract() == 0.0 && n >= 0.0) {
        return Err(js_err(crate::Error::arg("n", "an integer >= 0", n)));
    }
    let freq = lab::char_frequencies(&text);
    let top = &freq[..freq.len().min(n as usize)];
    let f: Vec<f64> = top.iter().map(|(_, q)| *q).collect();
    Ok(to_js(&CharFrequencies {
        classes: freq.len() as u32,
        chars: top.iter().map(|(c, _)| c.to_string()).collect(),
        frequencies: Float64Array::from(&f[..]),
    }))
}

/// crossEntropy(softmax) on one training text: the figures of the training view's note.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CeOnSoftmaxText {
    /// C: the text's distinct characters.
    pub classes: u32,
    /// ln(1 + (C − 1)/e): the floor of its own loss.
    pub floor: f64,
    /// (e − 1)/(e + C − 1).
    pub margin: f64,
    /// The two most frequent characters, most frequent first.
    pub top: [String; 2],
    /// Their frequencies f1 ≥ f2.
    pub frequencies: [f64; 2],
    /// f1 − f2 > margin: the best prediction that ignores the context is one-hot on the most
    /// frequent character.
    pub leads: bool,
    /// ln(e + C − 1) − f1: the expected loss of predicting the most frequent character everywhere.
    pub one_hot_loss: f64,
    /// The expected loss of one-hots on each previous character's most likely successor.
    pub previous_char_loss: f64,
}

/// The figures of crossEntropy(softmax(z)) trained on `text` (at least 2 distinct characters).
#[wasm_bindgen(js_name = ceOnSoftmaxText, unchecked_return_type = "CeOnSoftmaxText")]
pub fn ce_on_softmax_text(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsError> {
    let text = string_arg("text", &text)?;
    crate::limits::check_text_len("text", &text).map_err(js_err)?;
    let r = lab::ce_on_softmax_text(&text).map_err(js_err)?;
    Ok(to_js(&CeOnSoftmaxText {
        classes: r.ce.classes as u32,
        floor: r.ce.floor(),
        margin: r.ce.one_hot_margin(),
        top: r.top.map(|(c, _)| c.to_string()),
        frequencies: r.top.map(|(_, f)| f),
        leads: r.leads,
        one_hot_loss: r.one_hot_loss,
        previous_char_loss: r.previous_char_loss,
    }))
}

/// A typed vector's decimal mark, which decides its notation: `"."` writes `2, 1, 0.5` (commas,
/// semicolons or spaces between entries), `","` writes `2; 1; 0,5` (semicolons or spaces).
#[derive(Deserialize, Tsify, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    #[serde(rename = ".")]
    Point,
    #[serde(rename = ",")]
    Comma,
}

impl DecimalMark {
    fn notation(mark: Option<DecimalMark>) -> lab::Notation {
        match mark {
            None | Some(DecimalMark::Point) => lab::Notation::DecimalPoint,
            Some(DecimalMark::Comma) => lab::Notation::DecimalComma,
        }
    }
}

/// `parseValues`'s options.
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValuesOptions {
    /// The decimal mark: "." (default) or ",".
    #[tsify(optional)]
    pub decimal: Option<DecimalMark>,
}

/// `translateValues`'s options: the notation `text` is in, and the one to write.
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranslateOptions {
    /// The decimal mark `text` is written with: "." (default) or ",".
    #[tsify(optional)]
    pub from: Option<DecimalMark>,
    /// The decimal mark to write it with: "." (default) or ",".
    #[tsify(optional)]
    pub to: Option<DecimalMark>,
}

/// A typed vector as a string, checked against the cap on text.
fn typed_text(text: &JsValue) -> Result<String, JsError> {
    let text = string_arg("text", text)?;
    if text.len() > crate::limits::MAX_TEXT_BYTES {
        return Err(JsError::new(&format!(
            "text has {} bytes; at most {} are accepted",
            text.len(),
            crate::limits::MAX_TEXT_BYTES
        )));
    }
    Ok(text)
}

/// Reads a typed vector into a Float32Array: `"2, 1, 0.5"`, `"100, 0*49999"`, or with
/// `{ decimal: "," }`, `"2; 1; 0,5"`. An error names the entry that is not a number, or the
/// one that could be read two ways (`"0.5"` with a decimal comma; `"1; 1,001"` with a point).
#[wasm_bindgen(js_name = parseValues)]
pub fn parse_values(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ValuesOptions")] options: JsValue,
) -> Result<Float32Array, JsError> {
    let text = typed_text(&text)?;
    let o: ValuesOptions = self::options(&options, "options")?;
    let v = lab::parse_values("values", &text, DecimalMark::notation(o.decimal)).map_err(js_err)?;
    Ok(Float32Array::from(&v[..]))
}

/// A typed vector rewritten from one notation to the other, each entry as typed with its
/// decimal mark changed: `translateValues("1, 1.001", { from: ".", to: "," })` is
/// `"1; 1,001"`. The page keeps the URL in the "." notation and shows its own. An error, as
/// `parseValues` gives it, if `text` does not read in `from`.
#[wasm_bindgen(js_name = translateValues)]
pub fn translate_values(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "TranslateOptions")] options: JsValue,
) -> Result<String, JsError> {
    let text = typed_text(&text)?;
    let o: TranslateOptions = self::options(&options, "options")?;
    lab::translate_values(
        "values",
        &text,
        DecimalMark::notation(o.from),
        DecimalMark::notation(o.to),
    )
    .map_err(js_err)
}

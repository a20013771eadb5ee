//! The bindings of [`crate::loss`]: `loss`, the four pipelines' `pipelineLoss`, and the list
//! of pipelines the page shows.

use js_sys::Float32Array;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use crate::limits::MAX_LOSS_VALUES;
use crate::loss::{LossFunction, Reduction};

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
            fn loss_options(&self) -> Result<crate::loss::LossOptions, JsError> {
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
) -> Result<crate::loss::LossOptions, JsError> {
    let max = MAX_LOSS_VALUES as f64;
    let classes =
        integer_in("classes", classes, 1.0, max, "an integer in [1, 2^24]")?.ok_or_else(|| {
            JsError::new("options.classes is required: the number of classes C (values is N × C)")
        })?;
    let mut o = crate::loss::LossOptions::new(classes as usize);
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
        pub pipeline: Option<crate::loss::Pipeline>,
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
    fn new(r: &crate::loss::LossOutput) -> Self {
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
    let r = crate::loss::loss(&x, &t, &o).map_err(js_err)?;
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
    let r = crate::loss::pipeline_loss(&x, &t, pipeline, &o).map_err(js_err)?;
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
    pub name: crate::loss::Pipeline,
    /// How the page writes it: the loss applied to what the model outputs.
    pub formula: &'static str,
    /// Whether it is the true cross-entropy, the loss a language model should minimise.
    pub correct: bool,
}

/// The four training pipelines, in the order the page shows them.
#[wasm_bindgen(unchecked_return_type = "PipelineInfo[]")]
pub fn pipelines() -> JsValue {
    let all: Vec<PipelineInfo> = crate::loss::Pipeline::ALL
        .iter()
        .map(|&p| PipelineInfo {
            name: p,
            formula: p.formula(),
            correct: p.is_correct(),
        })
        .collect();
    to_js(&all)
}

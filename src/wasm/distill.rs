//! The bindings of [`crate::distill`]: `distillLoss`, the six distillation pipelines' losses,
//! and `distillPipelines`, the list the page shows.
//!
//! ```js
//! distillLoss(student, teacher, targets, { pipeline: 'hinton', temperature: 2, alpha: 0.5 });
//! // → { loss, klTerm, ceTerm, grad, softGrad, hardGrad, reduction }
//! ```

use js_sys::Float32Array;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use crate::distill::{DistillOptions as Options, DistillPipeline, KlReduction};
use crate::limits::MAX_LOSS_VALUES;

/// `distillLoss`'s options.
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistillOptions {
    /// Which of the six pipelines (`distillPipelines()`). Default "hinton".
    #[tsify(optional)]
    pub pipeline: Option<DistillPipeline>,
    /// T in (0, 1000], dividing both the student's and the teacher's logits. Default 2.
    #[tsify(optional)]
    pub temperature: Option<f64>,
    /// α in [0, 1]: loss = (1 − α) · klTerm + α · ceTerm. Default 0.5.
    #[tsify(optional)]
    pub alpha: Option<f64>,
    /// kl_div's reduction, "batchmean" (÷ N), "mean" (÷ N·V) or "sum". Default: the pipeline's
    /// own ("mean" for "meanReduction", "batchmean" for the others).
    #[tsify(optional)]
    pub reduction: Option<KlReduction>,
}

/// Reads `DistillOptions`, each field defaulting to [`Options::default`] (also read by the
/// training build's `Trainer.distill`).
pub(crate) fn distill_options(options: &JsValue, what: &str) -> Result<Options, JsError> {
    let a: DistillOptions = self::options(options, what)?;
    let d = Options::default();
    Ok(Options {
        pipeline: a.pipeline.unwrap_or(d.pipeline),
        temperature: a.temperature.unwrap_or(d.temperature),
        alpha: a.alpha.unwrap_or(d.alpha),
        reduction: a.reduction,
    })
}

/// A distillation loss, its two terms and their gradients with respect to the student's
/// logits.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DistillResult {
    /// (1 − α) · klTerm + α · ceTerm (ceTerm alone for "baseline"), in nats; +Infinity where
    /// the student gives probability 0 to a class the teacher does not.
    pub loss: f64,
    /// The soft term, T² included where the pipeline has it (0 for "baseline").
    pub kl_term: f64,
    /// crossEntropy(student, targets), mean over the N rows.
    pub ce_term: f64,
    /// d(loss)/d(student), row-major N × V.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub grad: Float32Array,
    /// d(klTerm)/d(student), N × V: the soft targets' pull before its (1 − α) weight.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub soft_grad: Float32Array,
    /// d(ceTerm)/d(student), N × V.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub hard_grad: Float32Array,
    /// The reduction the soft term used.
    #[tsify(type = "KlReduction")]
    pub reduction: KlReduction,
}

/// Knowledge distillation's loss with PyTorch's semantics: `student` and `teacher` are logits,
/// row-major N × V with N = targets.length; `targets` the hard labels.
#[wasm_bindgen(js_name = distillLoss, unchecked_return_type = "DistillResult")]
pub fn distill_loss(
    #[wasm_bindgen(unchecked_param_type = "Values")] student: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Values")] teacher: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Targets")] targets: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "DistillOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let s = f32_vec("student", &student, MAX_LOSS_VALUES)?;
    let t = f32_vec("teacher", &teacher, MAX_LOSS_VALUES)?;
    let y = i32_vec("targets", &targets, MAX_LOSS_VALUES)?;
    let o = distill_options(&options, "options")?;
    let r = crate::distill::distill_loss(&s, &t, &y, &o).map_err(js_err)?;
    Ok(to_js(&DistillResult {
        loss: r.loss,
        kl_term: r.kl_term,
        ce_term: r.ce_term,
        grad: Float32Array::from(&r.grad[..]),
        soft_grad: Float32Array::from(&r.soft_grad[..]),
        hard_grad: Float32Array::from(&r.hard_grad[..]),
        reduction: r.reduction,
    }))
}

/// One of the six distillation pipelines, as the page lists them.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DistillPipelineInfo {
    /// The name `distillLoss` takes.
    #[tsify(type = "DistillPipeline")]
    pub name: DistillPipeline,
    /// How the page writes it, in PyTorch's words.
    pub formula: &'static str,
    /// Whether it is Hinton's recipe as published.
    pub correct: bool,
    /// Whether the soft term is multiplied by T².
    pub squares_temperature: bool,
    /// The kl_div reduction it uses unless told another.
    #[tsify(type = "KlReduction")]
    pub reduction: KlReduction,
}

/// The six distillation pipelines, in the order the page shows them.
#[wasm_bindgen(js_name = distillPipelines, unchecked_return_type = "DistillPipelineInfo[]")]
pub fn distill_pipelines() -> JsValue {
    let all: Vec<DistillPipelineInfo> = DistillPipeline::ALL
        .iter()
        .map(|&p| DistillPipelineInfo {
            name: p,
            formula: p.formula(),
            correct: p.is_correct(),
            squares_temperature: p.squares_temperature(),
            reduction: p.reduction(),
        })
        .collect();
    to_js(&all)
}

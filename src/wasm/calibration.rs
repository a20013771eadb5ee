//! The binding of [`crate::calibration`]: `calibration(model, text, { bins, fit })`, a loaded
//! model's reliability diagram, ECE, NLL and Brier score on a text, before and after the
//! temperature that calibrates it.
//!
//! ```js
//! calibration(model, heldOutText, { bins: 15, fit: true });
//! // → { bins: [{ confidence, accuracy, count }], ece, nll, brier, accuracy, temperature,
//! //     positions, fitPositions, tokens, after: { bins, ece, nll, brier, accuracy, positions },
//! //     confidence: 'overconfident' | 'underconfident' | 'calibrated', eceFell, nllFell }
//! ```

use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::convert::*;
use super::model::Model;
use crate::calibration::{self as cal, DEFAULT_BINS};
use crate::limits::MAX_CALIBRATION_BINS;

/// `calibration`'s options.
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalibrationOptions {
    /// Equal-width bins of the confidence, an integer in [1, 1000]. Default 15.
    #[tsify(optional)]
    pub bins: Option<f64>,
    /// Fit T on the first half of the positions and measure both halves' figures on the second
    /// (default true); false: every position measured at T = 1, no `after`.
    #[tsify(optional)]
    pub fit: Option<bool>,
}

/// One bin of the reliability diagram.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CalibrationBin {
    /// The mean top-1 probability of the positions in the bin (0 when it is empty).
    pub confidence: f64,
    /// The fraction of them whose top-1 token came next (0 when it is empty).
    pub accuracy: f64,
    /// How many positions fall in it.
    pub count: u32,
}

/// The figures at one temperature.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ReliabilityFigures {
    /// Bin b covers confidences in (b/B, (b+1)/B].
    pub bins: Vec<CalibrationBin>,
    /// Expected calibration error: Σ_b (n_b / N) · |accuracy_b − confidence_b|.
    pub ece: f64,
    /// Mean negative log-likelihood of the next token, in nats.
    pub nll: f64,
    /// Mean Brier score Σ_k (p_k − onehot_k)², in [0, 2].
    pub brier: f64,
    /// Top-1 accuracy.
    pub accuracy: f64,
    /// The positions measured.
    pub positions: u32,
}

impl ReliabilityFigures {
    fn new(r: &cal::Reliability) -> Self {
        ReliabilityFigures {
            bins: r
                .bins
                .iter()
                .map(|b| CalibrationBin {
                    confidence: b.confidence,
                    accuracy: b.accuracy,
                    count: b.count as u32,
                })
                .collect(),
            ece: r.ece,
            nll: r.nll,
            brier: r.brier,
            accuracy: r.accuracy,
            positions: r.positions as u32,
        }
    }
}

/// What `calibration` returns: the figures at T = 1, the fitted T, and the figures at it.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CalibrationResult {
    /// The figures at T = 1.
    #[serde(flatten)]
    pub before: ReliabilityFigures,
    /// The T that minimises the NLL of the fitting positions, in [0.01, 100] (1 without fit).
    pub temperature: f64,
    /// The positions T was fitted on (0 without fit).
    pub fit_positions: u32,
    /// The text's tokens (more than the positions scored when the text was cut short).
    pub tokens: u32,
    /// The figures at the fitted T, on the same positions as `before` (absent without fit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub after: Option<ReliabilityFigures>,
    /// What the fitted T says of the model on the fitting positions: "overconfident" (T > 1),
    /// "underconfident" (T < 1), "calibrated" (T within 5e-4 of 1), "overBeyond" /
    /// "underBeyond" (T at an end of [0.01, 100], where the NLL still falls) or "flat" (the NLL
    /// the same at every T); absent without fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub confidence: Option<String>,
    /// Whether the ECE at the fitted T is below the ECE at T = 1 (absent without fit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub ece_fell: Option<bool>,
    /// Whether the NLL at the fitted T is below the NLL at T = 1 (absent without fit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub nll_fell: Option<bool>,
    /// Which way the ECE and the NLL moved, judged on the figures to 4 decimals:
    /// "eceDownNllDown", "eceDownNllUp", "eceUpNllDown", "eceUpNllUp", or "unmoved" when either
    /// is the same to 4 decimals; absent without fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub measured: Option<String>,
}

/// A model's calibration on `text`: every position's next-token prediction, in a reliability
/// diagram, ECE, NLL and Brier score, before and after dividing the logits by the one T that
/// minimises the NLL. Top-1 accuracy is the same at every T.
#[wasm_bindgen(unchecked_return_type = "CalibrationResult")]
pub fn calibration(
    model: &Model,
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "CalibrationOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let o: CalibrationOptions = self::options(&options, "options")?;
    let max = MAX_CALIBRATION_BINS as f64;
    let range = format!("an integer in [1, {MAX_CALIBRATION_BINS}]");
    let bins = integer_in("bins", o.bins, 1.0, max, &range)?.map_or(DEFAULT_BINS, |b| b as usize);
    let text = string_arg("text", &text)?;
    let p = cal::text_positions(&model.inner, &text).map_err(js_err)?;
    let c = cal::calibrate(&p.logits, &p.targets, bins, o.fit.unwrap_or(true)).map_err(js_err)?;
    Ok(to_js(&CalibrationResult {
        before: ReliabilityFigures::new(&c.before),
        temperature: c.temperature,
        fit_positions: c.fit_positions as u32,
        tokens: p.tokens as u32,
        after: c.after.as_ref().map(ReliabilityFigures::new),
        confidence: c.confidence().map(|k| {
            match k {
                cal::Confidence::Over => "overconfident",
                cal::Confidence::Under => "underconfident",
                cal::Confidence::Calibrated => "calibrated",
                cal::Confidence::OverBeyond => "overBeyond",
                cal::Confidence::UnderBeyond => "underBeyond",
                cal::Confidence::Flat => "flat",
            }
            .to_owned()
        }),
        ece_fell: c.ece_fell(),
        nll_fell: c.nll_fell(),
        measured: c.measured().map(|m| {
            match m {
                cal::Measured::EceDownNllDown => "eceDownNllDown",
                cal::Measured::EceDownNllUp => "eceDownNllUp",
                cal::Measured::EceUpNllDown => "eceUpNllDown",
                cal::Measured::EceUpNllUp => "eceUpNllUp",
                cal::Measured::Unmoved => "unmoved",
            }
            .to_owned()
        }),
    }))
}

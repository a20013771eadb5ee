//! Cross-entropy and negative log-likelihood with PyTorch's semantics (`F.cross_entropy`,
//! `F.nll_loss`), and their gradients with respect to the values passed in — the seed's
//! sections 2.3 and 4.2.
//!
//! For row i with target y, class weights w (all 1 by default) and label smoothing ε:
//!
//! ```text
//! crossEntropy:  lp = log_softmax(z_i)
//!                row_i = (1 − ε) · w_y · (−lp_y) + (ε / C) · Σ_c w_c · (−lp_c)
//! nll:           row_i = −w_y · x_{i,y}          (x taken as log-probs, as they are)
//! mean:          loss = Σ_i row_i / Σ_i w_{y_i}   (ignored rows count in neither sum)
//! sum:           loss = Σ_i row_i
//! ```
//!
//! The gradient of row_i with respect to z_i is A·softmax(z_i) − a, where
//! a_c = (1 − ε)·w_y·[c = y] + (ε / C)·w_c and A = Σ_c a_c; with w = 1 it is softmax(z_i) − t_i
//! for the smoothed target t_i = (1 − ε)·onehot(y) + ε/C, and with ε = 0 too the familiar
//! softmax − onehot. The loss's gradient is that divided by the mean's denominator
//! (N rows when w = 1), or as it is for sum.
//!
//! Nothing here stops a student from feeding the wrong values, because the seed's point is what
//! happens then: nll on raw logits is unbounded below, crossEntropy on log-probs equals nll on
//! them (log_softmax is idempotent), crossEntropy on probabilities has a floor, ln(1 + (C − 1)/e),
//! and gradients squeezed by the softmax Jacobian (see `lab::CeOnSoftmax` for its optimum).

use crate::error::{Code, Error, Result};
use crate::numerics;

/// Which loss to compute.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
pub enum LossFunction {
    /// log_softmax, then NLL. Takes logits.
    #[default]
    CrossEntropy,
    /// Takes log-probs as they are.
    Nll,
}

impl LossFunction {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "crossEntropy" => Ok(LossFunction::CrossEntropy),
            "nll" => Ok(LossFunction::Nll),
            _ => Err(Error::arg(
                "function",
                "\"crossEntropy\" or \"nll\"",
                format!("{s:?}"),
            )),
        }
    }
}

/// How the rows are combined into one number.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
pub enum Reduction {
    /// Divide by the total weight of the non-ignored targets.
    #[default]
    Mean,
    Sum,
}

impl Reduction {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            _ => Err(Error::arg(
                "reduction",
                "\"mean\" or \"sum\"",
                format!("{s:?}"),
            )),
        }
    }
}

/// Which output design is paired with which loss.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
pub enum Pipeline {
    /// `cross_entropy(logits, targets)`: correct.
    #[default]
    CrossEntropyOnLogits,
    /// `nll(log_softmax(logits), targets)`: correct, identical to the above.
    NllOnLogSoftmax,
    /// `nll(logits, targets)`: the first mistake (NLL assumes log-probabilities).
    NllOnLogits,
    /// `cross_entropy(softmax(logits), targets)`: the second mistake (softmax applied twice).
    CrossEntropyOnSoftmax,
}

impl Pipeline {
    pub const ALL: [Pipeline; 4] = [
        Pipeline::CrossEntropyOnLogits,
        Pipeline::NllOnLogSoftmax,
        Pipeline::NllOnLogits,
        Pipeline::CrossEntropyOnSoftmax,
    ];

    pub fn parse(s: &str) -> Result<Pipeline> {
        match s {
            "crossEntropyOnLogits" => Ok(Pipeline::CrossEntropyOnLogits),
            "nllOnLogSoftmax" => Ok(Pipeline::NllOnLogSoftmax),
            "nllOnLogits" => Ok(Pipeline::NllOnLogits),
            "crossEntropyOnSoftmax" => Ok(Pipeline::CrossEntropyOnSoftmax),
            _ => Err(Error::arg(
                "pipeline",
                "one of \"crossEntropyOnLogits\", \"nllOnLogSoftmax\", \"nllOnLogits\", \
                 \"crossEntropyOnSoftmax\"",
                format!("{s:?}"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pipeline::CrossEntropyOnLogits => "crossEntropyOnLogits",
            Pipeline::NllOnLogSoftmax => "nllOnLogSoftmax",
            Pipeline::NllOnLogits => "nllOnLogits",
            Pipeline::CrossEntropyOnSoftmax => "crossEntropyOnSoftmax",
        }
    }

    /// What the loss sees of the last layer's output z, and which loss it is.
    /// How the page writes it: the loss applied to what the model outputs.
    pub fn formula(self) -> &'static str {
        match self {
            Pipeline::CrossEntropyOnLogits => "crossEntropy(logits)",
            Pipeline::NllOnLogSoftmax => "nll(log_softmax(logits))",
            Pipeline::NllOnLogits => "nll(logits)",
            Pipeline::CrossEntropyOnSoftmax => "crossEntropy(softmax(logits))",
        }
    }

    /// Whether it is the cross-entropy of the model's distribution (the first two, the same
    /// function), the loss a language model should minimise.
    pub fn is_correct(self) -> bool {
        matches!(
            self,
            Pipeline::CrossEntropyOnLogits | Pipeline::NllOnLogSoftmax
        )
    }

    pub fn parts(self) -> (Head, LossFunction) {
        match self {
            Pipeline::CrossEntropyOnLogits => (Head::Logits, LossFunction::CrossEntropy),
            Pipeline::NllOnLogSoftmax => (Head::LogSoftmax, LossFunction::Nll),
            Pipeline::NllOnLogits => (Head::Logits, LossFunction::Nll),
            Pipeline::CrossEntropyOnSoftmax => (Head::Softmax, LossFunction::CrossEntropy),
        }
    }
}

/// What is applied, row by row, to the last layer's output z before the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// z itself.
    Logits,
    /// log_softmax(z) = z − logsumexp(z).
    LogSoftmax,
    /// softmax(z).
    Softmax,
}

/// Options of [`loss`], with PyTorch's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct LossOptions {
    /// C, the number of classes: `values` is row-major N × C.
    pub classes: usize,
    pub function: LossFunction,
    pub reduction: Reduction,
    /// A target equal to this contributes nothing. Default −100.
    pub ignore_index: i64,
    /// Optional class weights, length C, each finite and ≥ 0.
    pub weight: Option<Vec<f32>>,
    /// ε in [0, 1], crossEntropy only. Default 0.
    pub label_smoothing: f32,
}

impl LossOptions {
    pub fn new(classes: usize) -> Self {
        LossOptions {
            classes,
            function: LossFunction::CrossEntropy,
            reduction: Reduction::Mean,
            ignore_index: -100,
            weight: None,
            label_smoothing: 0.0,
        }
    }
}

/// The loss, its per-row terms and its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct LossOutput {
    /// The reduced loss.
    pub loss: f32,
    /// Per-row losses before reduction (0 for ignored rows), length N.
    pub rows: Vec<f32>,
    /// d(loss) / d(values), row-major N × C like `values`.
    pub grad: Vec<f32>,
    /// What the row sum was divided by: Σ w_{y_i} over non-ignored rows for mean, 1 for sum.
    pub denominator: f64,
}

/// Computes the loss of `values` (N × C, row-major) against `targets` (length N).
pub fn loss(values: &[f32], targets: &[i32], opts: &LossOptions) -> Result<LossOutput> {
    let c = opts.classes;
    let n = targets.len();
    validate(values, targets, opts)?;
    let eps = opts.label_smoothing as f64;
    let w = |k: usize| -> f64 { opts.weight.as_ref().map_or(1.0, |w| w[k] as f64) };
    let w_total: f64 = (0..c).map(w).sum();

    let mut rows = vec![0.0f64; n];
    let mut grad = vec![0.0f64; n * c];
    let mut denominator = 0.0f64;
    for (i, &target) in targets.iter().enumerate() {
        if target as i64 == opts.ignore_index {
            continue;
        }
        let y = target as usize;
        let x = &values[i * c..(i + 1) * c];
        let g = &mut grad[i * c..(i + 1) * c];
        let wy = w(y);
        denominator += wy;
        match opts.function {
            LossFunction::Nll => {
                rows[i] = times(-wy, x[y] as f64);
                g[y] = -wy;
            }
            LossFunction::CrossEntropy => {
                let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
                let sum: f64 = x.iter().map(|&v| (v as f64 - m).exp()).sum();
                let lse = m + sum.ln();
                // a_c: how much −lp_c counts in this row; A = Σ a_c.
                let a_y = (1.0 - eps) * wy;
                let mut row = times(a_y, lse - x[y] as f64);
                if eps > 0.0 {
                    let smooth: f64 = (0..c)
                        .map(|k| times(eps / c as f64 * w(k), lse - x[k] as f64))
                        .sum();
                    row += smooth;
                }
                rows[i] = row;
                let big_a = a_y + eps / c as f64 * w_total;
                for (k, gk) in g.iter_mut().enumerate() {
                    let p = (x[k] as f64 - lse).exp();
                    let a_k = eps / c as f64 * w(k) + if k == y { a_y } else { 0.0 };
                    *gk = big_a * p - a_k;
                }
            }
        }
    }

    let scale = match opts.reduction {
        Reduction::Sum => 1.0,
        Reduction::Mean => {
            if denominator == 0.0 {
                return Err(Error::new(
                    "reduction \"mean\" has nothing to divide by: every target is ignoreIndex \
                     or has class weight 0 (PyTorch returns NaN here); use reduction \"sum\"",
                ));
            }
            denominator
        }
    };
    let total: f64 = rows.iter().sum();
    if total.is_nan() {
        // Only nll gets here: its rows are −w_y·x_y, so a +∞ and a −∞ at the targets of two
        // rows sum to ∞ − ∞. Say so rather than hand back NaN.
        return Err(Error::new(
            "values hold +Infinity at one row's target and -Infinity at another's, so the nll \
             loss would be ∞ − ∞ = NaN (PyTorch returns NaN); use finite values",
        ));
    }
    Ok(LossOutput {
        loss: (total / scale) as f32,
        rows: rows.iter().map(|&r| r as f32).collect(),
        grad: grad.iter().map(|&g| (g / scale) as f32).collect(),
        denominator: scale,
    })
}

/// A pipeline's loss with its gradient carried back to z, the last layer's output.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineLoss {
    /// What the loss saw: z, log_softmax(z) or softmax(z), row-major N × C.
    pub inputs: Vec<f32>,
    /// The loss of `inputs`; its `grad` is d(loss) / d(inputs).
    pub output: LossOutput,
    /// d(loss) / dz, row-major N × C: for the two correct pipelines (ε = 0, no weights,
    /// mean over N rows) it is (softmax(z) − onehot) / N.
    pub grad_logits: Vec<f32>,
}

/// The loss of one of the seed's four pipelines on logits `z` (N × C, row-major).
/// `opts.function` is ignored: the pipeline chooses it (label smoothing needs crossEntropy).
pub fn pipeline_loss(
    z: &[f32],
    targets: &[i32],
    pipeline: Pipeline,
    opts: &LossOptions,
) -> Result<PipelineLoss> {
    let (head, function) = pipeline.parts();
    let opts = LossOptions {
        function,
        ..opts.clone()
    };
    validate(z, targets, &opts)?;
    let c = opts.classes;
    let mut inputs = Vec::with_capacity(z.len());
    for (i, row) in z.chunks(c).enumerate() {
        let row_name = format!("values row {i}");
        match head {
            Head::Logits => inputs.extend_from_slice(row),
            Head::LogSoftmax => {
                inputs.extend(numerics::log_softmax(row).map_err(|e| e.context(&row_name))?)
            }
            Head::Softmax => {
                inputs.extend(numerics::softmax(row, 1.0).map_err(|e| e.context(&row_name))?)
            }
        }
    }
    let output = loss(&inputs, targets, &opts)?;
    // Back through the head, row by row (g = d(loss)/d(inputs), p = softmax(z)):
    //   log_softmax: dz_k = g_k − p_k · Σ_j g_j
    //   softmax:     dz_k = p_k · (g_k − Σ_j p_j g_j)
    let mut grad_logits = output.grad.clone();
    if head != Head::Logits {
        for (row, dz) in z.chunks(c).zip(grad_logits.chunks_mut(c)) {
            let p = numerics::softmax(row, 1.0)?;
            if head == Head::LogSoftmax {
                let s: f64 = dz.iter().map(|&g| g as f64).sum();
                for (d, &pk) in dz.iter_mut().zip(&p) {
                    *d = (*d as f64 - pk as f64 * s) as f32;
                }
            } else {
                let s: f64 = dz
                    .iter()
                    .zip(&p)
                    .map(|(&g, &pk)| g as f64 * pk as f64)
                    .sum();
                for (d, &pk) in dz.iter_mut().zip(&p) {
                    *d = (pk as f64 * (*d as f64 - s)) as f32;
                }
            }
        }
    }
    Ok(PipelineLoss {
        inputs,
        output,
        grad_logits,
    })
}

/// a · b where a term with coefficient 0 contributes 0 even if b is infinite (0 · ∞ would be
/// NaN; a class with weight 0 must simply not count).
fn times(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        a * b
    }
}

fn validate(values: &[f32], targets: &[i32], opts: &LossOptions) -> Result<()> {
    let c = opts.classes;
    let n = targets.len();
    if c == 0 {
        return Err(Error::arg("classes", "an integer >= 1", 0));
    }
    if n == 0 {
        return Err(Error::new(
            "targets must not be empty (one class index per row of values)",
        ));
    }
    if n.checked_mul(c) != Some(values.len()) {
        return Err(Error::new(format!(
            "values has length {} but targets.length × classes = {n} × {c} = {}; values must \
             be row-major N × C with N = targets.length",
            values.len(),
            n as u128 * c as u128
        )));
    }
    if !(opts.label_smoothing.is_finite() && (0.0..=1.0).contains(&opts.label_smoothing)) {
        return Err(Error::arg(
            "labelSmoothing",
            "a number in [0, 1]",
            opts.label_smoothing,
        ));
    }
    if opts.label_smoothing > 0.0 && opts.function == LossFunction::Nll {
        return Err(Error::new(
            "labelSmoothing applies to function \"crossEntropy\" only; use 0 with \"nll\"",
        )
        .coded(Code::LossNllSmoothing, []));
    }
    if let Some(w) = &opts.weight {
        if w.len() != c {
            return Err(Error::new(format!(
                "weight has length {} but must have one entry per class (classes = {c})",
                w.len()
            )));
        }
        if let Some((k, x)) = w
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
        {
            return Err(Error::arg(
                &format!("weight[{k}]"),
                "a finite number >= 0",
                x,
            ));
        }
    }
    for (i, &t) in targets.iter().enumerate() {
        if t as i64 != opts.ignore_index && !(t >= 0 && (t as usize) < c) {
            return Err(Error::new(format!(
                "targets[{i}] = {t}: each target must be in [0, {c}) or equal ignoreIndex ({})",
                opts.ignore_index
            ))
            .coded(
                Code::TargetOutOfRange,
                [("target", t.to_string().into()), ("classes", c.into())],
            ));
        }
    }
    for (i, row) in values.chunks(c).enumerate() {
        for (k, &x) in row.iter().enumerate() {
            if x.is_nan() {
                return Err(Error::new(format!(
                    "values[{}] (row {i}, class {k}) is NaN; values must be numbers",
                    i * c + k
                )));
            }
        }
        if opts.function == LossFunction::CrossEntropy && targets[i] as i64 != opts.ignore_index {
            if let Some(k) = row.iter().position(|&x| x == f32::INFINITY) {
                return Err(Error::new(format!(
                    "values[{}] (row {i}, class {k}) is +Infinity; crossEntropy takes finite \
                     logits or -Infinity",
                    i * c + k
                ))
                .coded(
                    Code::ValuesPositiveInfinity,
                    [("index", k.to_string().into())],
                ));
            }
            if row.iter().all(|&x| x == f32::NEG_INFINITY) {
                return Err(Error::new(format!(
                    "row {i} of values is all -Infinity: crossEntropy needs at least one \
                     finite logit per row"
                ))
                .coded(Code::ValuesAllNegativeInfinity, []));
            }
        }
    }
    Ok(())
}

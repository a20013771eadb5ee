//! Knowledge distillation's losses with PyTorch's semantics (`F.kl_div`, `F.cross_entropy`), in
//! the six ways the lab trains a student: Hinton's recipe, three ways real code gets it wrong,
//! the reverse divergence and the hard-label baseline.
//!
//! For student logits s and teacher logits t (N rows of V), hard targets y, temperature T and
//! mixing weight α, with q = softmax(s/T) and p = softmax(t/T):
//!
//! ```text
//! kl_div(x, p)      = Σ_i Σ_c p_ic · (log p_ic − x_ic) / D      (PyTorch: x is log-probs)
//!                     D = N ("batchmean"), N·V ("mean"), 1 ("sum"); 0 · log 0 = 0
//! ✓ hinton          kl = T² · kl_div(log q, p)
//! ✗ probsAsInput    kl = T² · kl_div(q, p)                       (probabilities where log-probs belong)
//! ✗ noTSquared      kl =      kl_div(log q, p)                   (its gradient shrinks as 1/T²)
//! ✗ meanReduction   kl = T² · kl_div(log q, p), D = N·V          (reduction "mean": 1/V of ✓)
//!   reverseKl       kl = T² · kl_div(log p, q) = T² · KL(q ‖ p)   (mode-seeking, not a bug)
//!   baseline        kl = 0
//! loss              = (1 − α) · kl + α · crossEntropy(s, y)        (baseline: crossEntropy alone)
//! ```
//!
//! The gradients with respect to s, per row and before the division by D:
//!
//! ```text
//! kl_div(log q, p):   (q − p) / T            (so T² · … gives T · (q − p))
//! kl_div(q, p):       −q ⊙ (p − Σ_c q_c p_c) / T
//! kl_div(log p, q):   q ⊙ (log q − log p − KL(q ‖ p)) / T
//! crossEntropy(s, y): softmax(s) − onehot(y), divided by N
//! ```
//!
//! `kl_div(q, p)` is what PyTorch computes when it is handed probabilities: Σ p log p − Σ p q,
//! which is not a divergence: it is ≤ 0 for every q and p, and minimising it puts all of q on
//! the teacher's top class.
//!
//! Where PyTorch's `kl_div` is NaN, a target of exactly 0 against an input of −∞ (0 · −∞), this
//! returns an error that says so rather than NaN. A target > 0 against an input of −∞ gives
//! +∞, as PyTorch does. A term whose weight is 0 counts as 0 even when it is +∞ (α = 1 with an
//! infinite divergence is the cross-entropy alone), as a training script that skips a term of
//! weight 0 computes it.
//!
//! The reverse divergence's gradient is the limit above: 0 at a class the student gives
//! probability 0. PyTorch's autograd through `kl_div(log p, q)` gives NaN there (the derivative
//! of xlogy(q, q) at q = 0 is 0/0); the fixture script takes its reference on the other classes.

use crate::error::{Error, Result};
use crate::numerics::{check_values, exp_le0_all};

/// One of the six ways the lab trains a student on a teacher.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "camelCase")]
pub enum DistillPipeline {
    /// Hinton's recipe: T² · kl_div(log_softmax(s/T), softmax(t/T), "batchmean"), mixed with
    /// α · crossEntropy(s, y). Correct.
    #[default]
    Hinton,
    /// kl_div(softmax(s/T), …): probabilities where `kl_div` wants log-probabilities.
    ProbsAsInput,
    /// Hinton's recipe without the T² factor: the soft term's gradient shrinks as 1/T².
    NoTSquared,
    /// Hinton's recipe with reduction "mean": divided by N·V instead of N.
    MeanReduction,
    /// T² · KL(student ‖ teacher): a different objective (mode-seeking), not a bug.
    ReverseKl,
    /// crossEntropy(s, y) on the hard labels alone.
    Baseline,
}

impl DistillPipeline {
    /// The six, in the order the page shows them.
    pub const ALL: [DistillPipeline; 6] = [
        DistillPipeline::Hinton,
        DistillPipeline::ProbsAsInput,
        DistillPipeline::NoTSquared,
        DistillPipeline::MeanReduction,
        DistillPipeline::ReverseKl,
        DistillPipeline::Baseline,
    ];

    /// The name the JS API takes.
    pub fn name(self) -> &'static str {
        match self {
            DistillPipeline::Hinton => "hinton",
            DistillPipeline::ProbsAsInput => "probsAsInput",
            DistillPipeline::NoTSquared => "noTSquared",
            DistillPipeline::MeanReduction => "meanReduction",
            DistillPipeline::ReverseKl => "reverseKl",
            DistillPipeline::Baseline => "baseline",
        }
    }

    /// Reads a name of [`DistillPipeline::name`].
    pub fn parse(s: &str) -> Result<DistillPipeline> {
        DistillPipeline::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                Error::arg(
                    "pipeline",
                    "one of \"hinton\", \"probsAsInput\", \"noTSquared\", \"meanReduction\", \
                     \"reverseKl\", \"baseline\"",
                    format!("{s:?}"),
                )
            })
    }

    /// How the page writes it, in PyTorch's words (s, t: student and teacher logits).
    pub fn formula(self) -> &'static str {
        match self {
            DistillPipeline::Hinton => {
                "T² · kl_div(log_softmax(s/T), softmax(t/T), 'batchmean') mixed with α · cross_entropy(s, y)"
            }
            DistillPipeline::ProbsAsInput => {
                "T² · kl_div(softmax(s/T), softmax(t/T), 'batchmean') mixed with α · cross_entropy(s, y)"
            }
            DistillPipeline::NoTSquared => {
                "kl_div(log_softmax(s/T), softmax(t/T), 'batchmean') mixed with α · cross_entropy(s, y)"
            }
            DistillPipeline::MeanReduction => {
                "T² · kl_div(log_softmax(s/T), softmax(t/T), 'mean') mixed with α · cross_entropy(s, y)"
            }
            DistillPipeline::ReverseKl => {
                "T² · kl_div(log_softmax(t/T), softmax(s/T), 'batchmean') mixed with α · cross_entropy(s, y)"
            }
            DistillPipeline::Baseline => "cross_entropy(s, y)",
        }
    }

    /// Whether it is the recipe as published (Hinton et al., 2015).
    pub fn is_correct(self) -> bool {
        self == DistillPipeline::Hinton
    }

    /// Whether the soft term is multiplied by T².
    pub fn squares_temperature(self) -> bool {
        !matches!(
            self,
            DistillPipeline::NoTSquared | DistillPipeline::Baseline
        )
    }

    /// The `kl_div` reduction the pipeline's formula uses.
    pub fn reduction(self) -> KlReduction {
        match self {
            DistillPipeline::MeanReduction => KlReduction::Mean,
            _ => KlReduction::Batchmean,
        }
    }
}

/// `kl_div`'s reduction: what the sum over every entry is divided by.
// The JS API reads it by these names (serde), and its TypeScript type is their union (tsify).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, tsify::Tsify,
)]
#[serde(rename_all = "lowercase")]
pub enum KlReduction {
    /// ÷ N, the rows: the true mean KL divergence per row, as PyTorch's documentation advises.
    #[default]
    Batchmean,
    /// ÷ N·V, every entry: PyTorch's default, which its documentation warns is not the KL
    /// divergence.
    Mean,
    /// ÷ 1.
    Sum,
}

impl KlReduction {
    /// The denominator D for N rows of V classes.
    pub fn denominator(self, rows: usize, classes: usize) -> f64 {
        match self {
            KlReduction::Batchmean => rows as f64,
            KlReduction::Mean => rows as f64 * classes as f64,
            KlReduction::Sum => 1.0,
        }
    }

    /// The name PyTorch and the JS API give it.
    pub fn name(self) -> &'static str {
        match self {
            KlReduction::Batchmean => "batchmean",
            KlReduction::Mean => "mean",
            KlReduction::Sum => "sum",
        }
    }
}

/// Largest temperature [`distill_loss`] accepts.
pub const MAX_DISTILL_TEMPERATURE: f64 = 1000.0;

/// Options of [`distill_loss`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistillOptions {
    pub pipeline: DistillPipeline,
    /// T in (0, 1000]. Default 2.
    pub temperature: f64,
    /// α in [0, 1], the weight of the hard labels' cross-entropy. Default 0.5.
    pub alpha: f64,
    /// The `kl_div` reduction; `None`: the pipeline's own ([`DistillPipeline::reduction`]).
    /// Given, it replaces the pipeline's, so "hinton" with "mean" is "meanReduction".
    pub reduction: Option<KlReduction>,
}

impl Default for DistillOptions {
    fn default() -> Self {
        DistillOptions {
            pipeline: DistillPipeline::Hinton,
            temperature: 2.0,
            alpha: 0.5,
            reduction: None,
        }
    }
}

/// What [`distill_loss`] returns: the loss, its two terms and their gradients with respect to
/// the student's logits s.
#[derive(Debug, Clone, PartialEq)]
pub struct DistillOutput {
    /// (1 − α) · kl + α · ce (ce alone for the baseline).
    pub loss: f64,
    /// The soft term as the pipeline writes it, T² included where it has one (0 for the
    /// baseline).
    pub kl_term: f64,
    /// crossEntropy(s, y), mean over the N rows.
    pub ce_term: f64,
    /// d(loss)/ds, row-major N × V.
    pub grad: Vec<f32>,
    /// d(kl_term)/ds, N × V: the soft targets' pull, before the (1 − α) weight.
    pub soft_grad: Vec<f32>,
    /// d(ce_term)/ds, N × V.
    pub hard_grad: Vec<f32>,
    /// The reduction the soft term used.
    pub reduction: KlReduction,
}

/// log_softmax(z / T) in f64, and softmax(z / T) from it. −∞ stays −∞ (probability 0).
fn log_softmax_t(z: &[f32], t: f64) -> (Vec<f64>, Vec<f64>) {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    let shifted: Vec<f64> = z.iter().map(|&x| (x as f64 - m) / t).collect();
    // Every exponent is ≤ 0 (shifted by the maximum, and log p ≤ 0): the two-lane f64 exp of
    // the samplers, the same bits as `f64::exp` in wasm.
    let log_sum = exp_le0_all(&shifted).iter().sum::<f64>().ln();
    let log_p: Vec<f64> = shifted.iter().map(|x| x - log_sum).collect();
    let p = exp_le0_all(&log_p);
    (log_p, p)
}

/// a · b, where a term of weight 0 is 0 even when b is ±∞.
fn times(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        a * b
    }
}

/// One row of PyTorch's pointwise `kl_div(input, target)`: Σ_c xlogy(target_c, target_c) −
/// target_c · input_c. `log_target` is log(target), so that xlogy is exact. `Err(c)` names a
/// class where PyTorch gives NaN: target 0 against input −∞.
fn kl_div_row(
    input: &[f64],
    target: &[f64],
    log_target: &[f64],
) -> std::result::Result<f64, usize> {
    let mut sum = 0.0;
    for (c, ((&x, &p), &lp)) in input.iter().zip(target).zip(log_target).enumerate() {
        if p == 0.0 {
            if x == f64::NEG_INFINITY {
                return Err(c);
            }
            continue;
        }
        sum += p * lp - p * x;
    }
    Ok(sum)
}

/// The distillation loss of student logits `student` (N × V, row-major) against teacher logits
/// `teacher` (N × V) and hard targets `targets` (N class ids), per the module's table.
pub fn distill_loss(
    student: &[f32],
    teacher: &[f32],
    targets: &[i32],
    opts: &DistillOptions,
) -> Result<DistillOutput> {
    let n = targets.len();
    if n == 0 {
        return Err(Error::new(
            "targets must not be empty (one class index per row of student)",
        ));
    }
    if student.is_empty() || !student.len().is_multiple_of(n) {
        return Err(Error::new(format!(
            "student has length {} but must be N × V with N = targets.length = {n} and V ≥ 1",
            student.len()
        )));
    }
    let v = student.len() / n;
    if teacher.len() != student.len() {
        return Err(Error::new(format!(
            "teacher has length {} but must have student's length, N × V = {n} × {v} = {}",
            teacher.len(),
            student.len()
        )));
    }
    let t = opts.temperature;
    if !(t.is_finite() && t > 0.0 && t <= MAX_DISTILL_TEMPERATURE) {
        return Err(Error::arg(
            "temperature",
            &format!("a number in (0, {MAX_DISTILL_TEMPERATURE}]"),
            t,
        ));
    }
    let alpha = opts.alpha;
    if !(alpha.is_finite() && (0.0..=1.0).contains(&alpha)) {
        return Err(Error::arg("alpha", "a number in [0, 1]", alpha));
    }
    for (i, &y) in targets.iter().enumerate() {
        if !(y >= 0 && (y as usize) < v) {
            return Err(Error::arg(
                &format!("targets[{i}]"),
                &format!("a class index in [0, {v})"),
                y,
            ));
        }
    }
    for (name, values) in [("student", student), ("teacher", teacher)] {
        // No NaN, no +∞ anywhere (the whole array, so the message names the index), and one
        // finite logit per row.
        check_values(name, values)?;
        if let Some(i) = values
            .chunks(v)
            .position(|row| row.iter().all(|&x| x == f32::NEG_INFINITY))
        {
            return Err(Error::new(format!(
                "{name} row {i} is all -Infinity: each row needs at least one finite logit"
            )));
        }
    }

    let pipeline = opts.pipeline;
    let reduction = opts.reduction.unwrap_or(pipeline.reduction());
    let d = reduction.denominator(n, v);
    let t2 = if pipeline.squares_temperature() {
        t * t
    } else {
        1.0
    };
    let mut kl_sum = 0.0f64;
    let mut ce_sum = 0.0f64;
    let mut soft = vec![0.0f64; n * v];
    let mut hard = vec![0.0f64; n * v];
    for i in 0..n {
        let s = &student[i * v..(i + 1) * v];
        let tr = &teacher[i * v..(i + 1) * v];
        let soft_row = &mut soft[i * v..(i + 1) * v];
        // The hard labels at T = 1: crossEntropy(s, y) and its gradient softmax(s) − onehot(y).
        let (log_q1, q1) = log_softmax_t(s, 1.0);
        let y = targets[i] as usize;
        ce_sum += -log_q1[y];
        for (c, h) in hard[i * v..(i + 1) * v].iter_mut().enumerate() {
            *h = q1[c] - if c == y { 1.0 } else { 0.0 };
        }
        if pipeline == DistillPipeline::Baseline {
            continue;
        }
        let (log_q, q) = log_softmax_t(s, t);
        let (log_p, p) = log_softmax_t(tr, t);
        let nan = |c: usize, input: &str, target: &str| {
            Error::new(format!(
                "row {i}, class {c}: {target} is 0 where {input} is -Infinity, so kl_div's term \
                 0 · (log 0 − (−∞)) is NaN (PyTorch returns NaN here); give the class a finite \
                 logit in one of the two"
            ))
        };
        match pipeline {
            DistillPipeline::Hinton
            | DistillPipeline::NoTSquared
            | DistillPipeline::MeanReduction => {
                kl_sum += kl_div_row(&log_q, &p, &log_p).map_err(|c| {
                    nan(
                        c,
                        "the student's log_softmax(s/T)",
                        "the teacher's softmax(t/T)",
                    )
                })?;
                // d/ds of Σ p (log p − log q) = (q − p) / T.
                for (c, g) in soft_row.iter_mut().enumerate() {
                    *g = (q[c] - p[c]) / t;
                }
            }
            DistillPipeline::ProbsAsInput => {
                kl_sum += kl_div_row(&q, &p, &log_p).map_err(|c| nan(c, "q", "p"))?;
                // d/dq = −p; through softmax(s/T): q ⊙ (−p + Σ q p) / T.
                let qp: f64 = q.iter().zip(&p).map(|(a, b)| a * b).sum();
                for (c, g) in soft_row.iter_mut().enumerate() {
                    *g = q[c] * (qp - p[c]) / t;
                }
            }
            DistillPipeline::ReverseKl => {
                let kl = kl_div_row(&log_p, &q, &log_q).map_err(|c| {
                    nan(
                        c,
                        "the teacher's log_softmax(t/T)",
                        "the student's softmax(s/T)",
                    )
                })?;
                if kl == f64::INFINITY {
                    return Err(Error::new(format!(
                        "row {i}: the teacher gives probability 0 to a class the student does \
                         not, so KL(student ‖ teacher) is +Infinity and its gradient undefined \
                         (PyTorch's is NaN); give the teacher a finite logit there"
                    )));
                }
                kl_sum += kl;
                // d/ds of Σ q (log q − log p) = q ⊙ (log q − log p − KL) / T; 0 where q = 0.
                for (c, g) in soft_row.iter_mut().enumerate() {
                    *g = if q[c] == 0.0 {
                        0.0
                    } else {
                        q[c] * (log_q[c] - log_p[c] - kl) / t
                    };
                }
            }
            DistillPipeline::Baseline => unreachable!("the baseline has no soft term"),
        }
    }

    let nf = n as f64;
    let ce_term = ce_sum / nf;
    let (kl_term, loss) = if pipeline == DistillPipeline::Baseline {
        (0.0, ce_term)
    } else {
        let kl_term = t2 * kl_sum / d;
        (kl_term, times(1.0 - alpha, kl_term) + times(alpha, ce_term))
    };
    let soft_scale = if pipeline == DistillPipeline::Baseline {
        0.0
    } else {
        t2 / d
    };
    let (w_soft, w_hard) = if pipeline == DistillPipeline::Baseline {
        (0.0, 1.0)
    } else {
        (1.0 - alpha, alpha)
    };
    let mut grad = Vec::with_capacity(n * v);
    let mut soft_grad = Vec::with_capacity(n * v);
    let mut hard_grad = Vec::with_capacity(n * v);
    for (&sg, &hg) in soft.iter().zip(&hard) {
        let (sg, hg) = (sg * soft_scale, hg / nf);
        grad.push((w_soft * sg + w_hard * hg) as f32);
        soft_grad.push(sg as f32);
        hard_grad.push(hg as f32);
    }
    Ok(DistillOutput {
        loss,
        kl_term,
        ce_term,
        grad,
        soft_grad,
        hard_grad,
        reduction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_hinton_is_the_recipe() {
        for p in DistillPipeline::ALL {
            assert_eq!(DistillPipeline::parse(p.name()).unwrap(), p);
            assert_eq!(p.is_correct(), p == DistillPipeline::Hinton);
        }
        let e = DistillPipeline::parse("kd").unwrap_err().to_string();
        assert!(e.contains("pipeline must be one of"), "{e}");
    }

    #[test]
    fn the_mean_reduction_is_one_vth_of_batchmean() {
        let s = [0.5f32, -1.0, 2.0, 0.0, 1.0, 1.5];
        let t = [1.0f32, 0.0, 0.5, -2.0, 3.0, 0.1];
        let y = [2, 1];
        let run = |p| {
            let o = DistillOptions {
                pipeline: p,
                alpha: 0.0,
                ..Default::default()
            };
            distill_loss(&s, &t, &y, &o).unwrap()
        };
        let (a, b) = (
            run(DistillPipeline::Hinton),
            run(DistillPipeline::MeanReduction),
        );
        assert!((a.kl_term / 3.0 - b.kl_term).abs() < 1e-15);
        for (ga, gb) in a.grad.iter().zip(&b.grad) {
            assert!((ga / 3.0 - gb).abs() < 1e-7);
        }
    }
}

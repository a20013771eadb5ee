//! Calibration, the other temperature: how far a model's confidence is from its accuracy, and
//! the one T that, dividing every logit, makes its probabilities honest (Guo et al., 2017).
//!
//! For positions i with logits z_i (V classes) and the token y_i that came next, at temperature
//! T, with p_i = softmax(z_i / T):
//!
//! ```text
//! confidence_i = max_k p_ik             correct_i = [argmax_k z_ik = y_i]  (lowest id on a tie)
//! bins         b = 0 … B−1 cover (b/B, (b+1)/B] of the confidence
//! ECE          = Σ_b (n_b / N) · |accuracy_b − confidence_b|
//! NLL          = (1/N) Σ_i −log p_{i,y_i}
//! Brier        = (1/N) Σ_i Σ_k (p_ik − [k = y_i])²
//! ```
//!
//! The fitted T minimises the NLL. With β = 1/T, NLL(β) = (1/N) Σ_i logsumexp(β z_i) − β z_{i,y_i}
//! is convex in β: its second derivative is the mean variance of z under p. So Newton's method
//! on β, kept inside a bracket of the root of the first derivative, finds it in a few passes.
//! argmax(z / T) = argmax(z) for every T > 0: the accuracy does not move, the confidence does.
//! Sampling divides by T too, for another purpose: to make the draws more or less adventurous.

use crate::error::{Error, Result};
use crate::limits::{check_text_len, MAX_CALIBRATION_BINS, MAX_CALIBRATION_VALUES};
use crate::model::{Net, OutputMode};
use crate::numerics::{argmax, exp_le0_all};

/// The number of bins the page's reliability diagram shows (Guo et al.'s 15).
pub const DEFAULT_BINS: usize = 15;

/// The range of the fitted temperature: β = 1/T is searched in [1/100, 100].
pub const FIT_TEMPERATURE_RANGE: (f64, f64) = (0.01, 100.0);

/// One bin of the reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// The mean confidence of the positions in the bin (0 when it is empty).
    pub confidence: f64,
    /// The fraction of them whose top-1 token came next (0 when it is empty).
    pub accuracy: f64,
    /// How many positions fall in it.
    pub count: usize,
}

/// A model's calibration figures on a set of positions, at one temperature.
#[derive(Debug, Clone, PartialEq)]
pub struct Reliability {
    /// The reliability diagram, bin b covering confidences in (b/B, (b+1)/B].
    pub bins: Vec<Bin>,
    /// Expected calibration error: the count-weighted mean of |accuracy − confidence|.
    pub ece: f64,
    /// The mean negative log-likelihood of the next token, in nats.
    pub nll: f64,
    /// The mean Brier score, Σ_k (p_k − onehot_k)², in [0, 2].
    pub brier: f64,
    /// Top-1 accuracy: the fraction of positions whose argmax came next.
    pub accuracy: f64,
    /// The positions scored.
    pub positions: usize,
}

/// Checks logits (N × V, row-major) against targets (N ids) and returns V.
fn check(logits: &[f32], targets: &[u32]) -> Result<usize> {
    let n = targets.len();
    if n == 0 {
        return Err(Error::new(
            "targets must not be empty (one next token per row of logits)",
        ));
    }
    if logits.is_empty() || !logits.len().is_multiple_of(n) {
        return Err(Error::new(format!(
            "logits has length {} but must be N × V with N = targets.length = {n} and V ≥ 1",
            logits.len()
        )));
    }
    let v = logits.len() / n;
    if let Some(i) = logits.iter().position(|x| !x.is_finite()) {
        return Err(Error::arg(
            &format!("logits[{i}]"),
            "a finite number",
            logits[i],
        ));
    }
    if let Some(i) = targets.iter().position(|&y| y as usize >= v) {
        return Err(Error::arg(
            &format!("targets[{i}]"),
            &format!("a class index in [0, {v})"),
            targets[i],
        ));
    }
    Ok(v)
}

/// The calibration figures of `logits` (N × V) against `targets` at temperature `t` > 0, with
/// `bins` equal-width bins in [1, [`MAX_CALIBRATION_BINS`]].
pub fn reliability(logits: &[f32], targets: &[u32], t: f64, bins: usize) -> Result<Reliability> {
    let v = check(logits, targets)?;
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::arg("temperature", "a finite number > 0", t));
    }
    if !(1..=MAX_CALIBRATION_BINS).contains(&bins) {
        return Err(Error::arg(
            "bins",
            &format!("an integer in [1, {MAX_CALIBRATION_BINS}]"),
            bins,
        ));
    }
    let n = targets.len();
    let mut conf_sum = vec![0.0f64; bins];
    let mut hits = vec![0usize; bins];
    let mut counts = vec![0usize; bins];
    let (mut nll, mut brier, mut correct) = (0.0f64, 0.0f64, 0usize);
    let b = bins as f64;
    for (z, &y) in logits.chunks(v).zip(targets) {
        let y = y as usize;
        let top = argmax(z);
        let m = z[top] as f64;
        // p_k = exp((z_k − m)/T) / S; the top one is 1/S. Every exponent is ≤ 0: the two-lane
        // f64 exp of the samplers, the same bits as `f64::exp` in wasm.
        let e = exp_le0_all(&z.iter().map(|&x| (x as f64 - m) / t).collect::<Vec<f64>>());
        let s: f64 = e.iter().sum();
        let confidence = 1.0 / s;
        nll += s.ln() - (z[y] as f64 - m) / t;
        let sum_p2: f64 = e
            .iter()
            .map(|&e| {
                let p = e / s;
                p * p
            })
            .sum();
        let p_y = e[y] / s;
        brier += sum_p2 - 2.0 * p_y + 1.0;
        // The bin with b/B < confidence ≤ (b+1)/B, the boundaries computed as they are compared.
        let mut k = ((confidence * b).ceil() as usize).clamp(1, bins) - 1;
        while k > 0 && confidence <= k as f64 / b {
            k -= 1;
        }
        while k + 1 < bins && confidence > (k + 1) as f64 / b {
            k += 1;
        }
        conf_sum[k] += confidence;
        counts[k] += 1;
        if top == y {
            hits[k] += 1;
            correct += 1;
        }
    }
    let nf = n as f64;
    let mut ece = 0.0;
    let bins: Vec<Bin> = (0..bins)
        .map(|k| {
            if counts[k] == 0 {
                return Bin {
                    confidence: 0.0,
                    accuracy: 0.0,
                    count: 0,
                };
            }
            let c = counts[k] as f64;
            let bin = Bin {
                confidence: conf_sum[k] / c,
                accuracy: hits[k] as f64 / c,
                count: counts[k],
            };
            ece += c / nf * (bin.accuracy - bin.confidence).abs();
            bin
        })
        .collect();
    Ok(Reliability {
        bins,
        ece,
        nll: nll / nf,
        brier: brier / nf,
        accuracy: correct as f64 / nf,
        positions: n,
    })
}

/// NLL(β) and its first two derivatives in β = 1/T: the mean of logsumexp(β z) − β z_y, of
/// E_p[z] − z_y and of Var_p[z], with p = softmax(β z).
fn nll_derivatives(logits: &[f32], targets: &[u32], v: usize, beta: f64) -> (f64, f64, f64) {
    let (mut f, mut d1, mut d2) = (0.0f64, 0.0f64, 0.0f64);
    for (z, &y) in logits.chunks(v).zip(targets) {
        let m = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
        let (mut s, mut ez, mut ez2) = (0.0f64, 0.0f64, 0.0f64);
        // Centred on m, so that E[z − m] and Var stay small and exact; β(z − m) ≤ 0, so the
        // exponentials are the samplers' two-lane ones, `f64::exp`'s bits in wasm.
        let d: Vec<f64> = z.iter().map(|&x| x as f64 - m).collect();
        let e = exp_le0_all(&d.iter().map(|&d| beta * d).collect::<Vec<f64>>());
        for (&e, &d) in e.iter().zip(&d) {
            s += e;
            ez += e * d;
            ez2 += e * d * d;
        }
        let (mean, second) = (ez / s, ez2 / s);
        let dy = z[y as usize] as f64 - m;
        f += s.ln() - beta * dy;
        d1 += mean - dy;
        d2 += (second - mean * mean).max(0.0);
    }
    let n = targets.len() as f64;
    (f / n, d1 / n, d2 / n)
}

/// The temperature T in [0.01, 100] that minimises the mean NLL of `logits` (N × V) against
/// `targets`, to 1e-9 in 1/T: Newton's method on β = 1/T inside a bracket of the minimum. At a
/// bound of the range when the minimum lies beyond it (logits that are all equal, a model
/// always right).
pub fn fit_temperature(logits: &[f32], targets: &[u32]) -> Result<f64> {
    let v = check(logits, targets)?;
    let (t_lo, t_hi) = FIT_TEMPERATURE_RANGE;
    let (mut lo, mut hi) = (1.0 / t_hi, 1.0 / t_lo);
    let slope = |beta: f64| nll_derivatives(logits, targets, v, beta).1;
    if slope(lo) >= 0.0 {
        return Ok(1.0 / lo);
    }
    if slope(hi) <= 0.0 {
        return Ok(1.0 / hi);
    }
    let mut beta = 1.0;
    for _ in 0..200 {
        let (_, d1, d2) = nll_derivatives(logits, targets, v, beta);
        if d1 < 0.0 {
            lo = beta;
        } else {
            hi = beta;
        }
        let newton = beta - d1 / d2;
        let next = if d2 > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        let step = (next - beta).abs();
        beta = next;
        if step < 1e-12 || hi - lo < 1e-12 {
            break;
        }
    }
    Ok(1.0 / beta)
}

/// A model's calibration on a text's positions, before and after temperature scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The figures at T = 1, on the evaluated positions.
    pub before: Reliability,
    /// The fitted T (1 when not fitted).
    pub temperature: f64,
    /// The figures at the fitted T, on the same positions (`None` when not fitted).
    pub after: Option<Reliability>,
    /// The positions T was fitted on (0 when not fitted).
    pub fit_positions: usize,
    /// Whether the NLL of the fitting positions is the same at both ends of
    /// [`FIT_TEMPERATURE_RANGE`] (logits equal within every row: no T changes a probability).
    pub fit_flat: bool,
}

/// What the fitted T says of the model on the positions it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    /// T > 1: the NLL falls when every logit is divided by more than 1, which lowers every
    /// confidence: the model was too sure.
    Over,
    /// T < 1: the NLL falls when the confidences rise: the model was not sure enough.
    Under,
    /// T within [`CALIBRATED_WITHIN`] of 1 (it shows as 1.000): the logits as they are
    /// minimise the NLL, or nearly.
    Calibrated,
    /// T at the top of [`FIT_TEMPERATURE_RANGE`]: the NLL still falls there, so the minimum, if
    /// any, lies beyond it.
    OverBeyond,
    /// T at the bottom of [`FIT_TEMPERATURE_RANGE`]: the NLL still falls there.
    UnderBeyond,
    /// The NLL is the same at every T: no division changes a probability.
    Flat,
}

/// How far from 1 a fitted T is still called 1: half the last digit the page shows (1.000).
pub const CALIBRATED_WITHIN: f64 = 5e-4;

/// What the fitted T did to the measured figures, as the page shows them (to 4 decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measured {
    /// Both the ECE and the NLL fell.
    EceDownNllDown,
    /// The ECE fell and the NLL rose.
    EceDownNllUp,
    /// The ECE rose and the NLL fell.
    EceUpNllDown,
    /// Both rose.
    EceUpNllUp,
    /// One of them, or both, is the same to 4 decimals.
    Unmoved,
}

/// A figure as the page prints it, to 4 decimals.
fn shown(x: f64) -> f64 {
    (x * 1e4).round()
}

impl Calibration {
    /// What the fitted T says: over- or underconfident, or neither (`None` when not fitted).
    pub fn confidence(&self) -> Option<Confidence> {
        self.after.as_ref()?;
        let (lo, hi) = FIT_TEMPERATURE_RANGE;
        Some(match self.temperature {
            _ if self.fit_flat => Confidence::Flat,
            t if t >= hi => Confidence::OverBeyond,
            t if t <= lo => Confidence::UnderBeyond,
            t if (t - 1.0).abs() < CALIBRATED_WITHIN => Confidence::Calibrated,
            t if t > 1.0 => Confidence::Over,
            _ => Confidence::Under,
        })
    }

    /// Which way the ECE and the NLL moved on the measured positions, judged on the figures
    /// as the page prints them (`None` when not fitted).
    pub fn measured(&self) -> Option<Measured> {
        let a = self.after.as_ref()?;
        let (b, e, n) = (&self.before, shown(a.ece), shown(a.nll));
        if e == shown(b.ece) || n == shown(b.nll) {
            return Some(Measured::Unmoved);
        }
        Some(match (e < shown(b.ece), n < shown(b.nll)) {
            (true, true) => Measured::EceDownNllDown,
            (true, false) => Measured::EceDownNllUp,
            (false, true) => Measured::EceUpNllDown,
            (false, false) => Measured::EceUpNllUp,
        })
    }

    /// Whether the ECE at the fitted T is below the ECE at T = 1 on the measured positions. T
    /// minimises the NLL of the other half, not this ECE, so it can rise (`None` when not fitted).
    pub fn ece_fell(&self) -> Option<bool> {
        Some(self.after.as_ref()?.ece < self.before.ece)
    }

    /// Whether the NLL at the fitted T is below the NLL at T = 1 on the measured positions
    /// (`None` when not fitted).
    pub fn nll_fell(&self) -> Option<bool> {
        Some(self.after.as_ref()?.nll < self.before.nll)
    }
}

/// The calibration of `logits` (N × V) against `targets` with `bins` bins. With `fit`, T is
/// fitted on the first half of the positions and every figure, before and after, measured on
/// the second half, so that T is judged on positions it was not fitted on (N ≥ 2); without,
/// every position is measured at T = 1.
pub fn calibrate(logits: &[f32], targets: &[u32], bins: usize, fit: bool) -> Result<Calibration> {
    let v = check(logits, targets)?;
    if !fit {
        return Ok(Calibration {
            before: reliability(logits, targets, 1.0, bins)?,
            temperature: 1.0,
            after: None,
            fit_positions: 0,
            fit_flat: false,
        });
    }
    let n = targets.len();
    if n < 2 {
        return Err(Error::new(
            "calibration with fit needs at least 2 positions: T is fitted on the first half \
             and measured on the second",
        ));
    }
    let half = n / 2;
    let (fz, fy) = (&logits[..half * v], &targets[..half]);
    let temperature = fit_temperature(fz, fy)?;
    let (t_lo, t_hi) = FIT_TEMPERATURE_RANGE;
    let nll_at = |t: f64| nll_derivatives(fz, fy, v, 1.0 / t).0;
    let fit_flat = nll_at(t_lo) == nll_at(t_hi);
    let (z, y) = (&logits[half * v..], &targets[half..]);
    Ok(Calibration {
        before: reliability(z, y, 1.0, bins)?,
        temperature,
        after: Some(reliability(z, y, temperature, bins)?),
        fit_positions: half,
        fit_flat,
    })
}

/// The positions of a text a model predicts: each one's logits and the token that came next.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPositions {
    /// Row-major positions × V.
    pub logits: Vec<f32>,
    /// The token that came next at each position.
    pub targets: Vec<u32>,
    /// The text's tokens, all of them: more than the positions when the text is cut short by
    /// [`MAX_CALIBRATION_VALUES`], or by one per window (its first token has no prediction).
    pub tokens: usize,
}

/// `model`'s logits at every position of `text`: the text's ids cut into consecutive windows
/// of context_length + 1 (as `train::evaluate` scores a text), each window's first
/// context_length ids in one forward pass, each predicting the id after it. At most
/// [`MAX_CALIBRATION_VALUES`] logits are kept (positions × V); the windows after are not run.
pub fn text_positions(model: &Net, text: &str) -> Result<TextPositions> {
    check_text_len("text", text)?;
    let ids = model.encode(text)?;
    if ids.len() < 2 {
        return Err(Error::arg(
            "text",
            "a text of at least 2 tokens (one to predict from, one to predict)",
            format!("{} token(s)", ids.len()),
        ));
    }
    let v = model.config().vocab_size;
    let max_positions = (MAX_CALIBRATION_VALUES / v).max(1);
    let window = model.config().context_length + 1;
    let mut logits = Vec::new();
    let mut targets = Vec::new();
    for w in ids.chunks(window).filter(|w| w.len() >= 2) {
        let room = max_positions - targets.len();
        if room == 0 {
            break;
        }
        let w = &w[..w.len().min(room + 1)];
        logits.extend(model.forward_ids(&w[..w.len() - 1], OutputMode::Logits)?);
        targets.extend_from_slice(&w[1..]);
    }
    Ok(TextPositions {
        logits,
        targets,
        tokens: ids.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confidence_on_a_boundary_goes_to_the_lower_bin() {
        // Two equal logits: confidence exactly 1/2 = 5/10, the top of bin 4 of 10.
        let r = reliability(&[0.0, 0.0], &[0], 1.0, 10).unwrap();
        assert_eq!(r.bins[4].count, 1);
        assert_eq!(r.bins[4].confidence, 0.5);
        // Lowest id on a tie: id 0 is the prediction, and it came next.
        assert_eq!(r.accuracy, 1.0);
    }

    #[test]
    fn equal_logits_fit_at_the_range_bound() {
        // NLL is ln V at every T: the slope is 0 at β = 1/100, so T = 100.
        let t = fit_temperature(&[1.0, 1.0, 1.0, 1.0], &[0, 1]).unwrap();
        assert_eq!(t, FIT_TEMPERATURE_RANGE.1);
    }

    #[test]
    fn the_fitted_t_says_over_or_underconfident() {
        // Sure (p ≈ 0.993) and right 3 times in 4, on both halves: the NLL is least where the
        // top probability is 3/4, 5/T = ln 3, T ≈ 4.55; on the measured half, which is the
        // fitting half again, the NLL and the ECE fall.
        let z = [5.0, 0.0].repeat(8);
        let y = [0, 0, 0, 1].repeat(2);
        let c = calibrate(&z, &y, 15, true).unwrap();
        assert!(
            (c.temperature - 5.0 / 3f64.ln()).abs() < 1e-6,
            "{}",
            c.temperature
        );
        assert_eq!(c.confidence(), Some(Confidence::Over));
        assert_eq!((c.nll_fell(), c.ece_fell()), (Some(true), Some(true)));
        assert_eq!(c.measured(), Some(Measured::EceDownNllDown));
        // Unsure (p ≈ 0.52) and right 3 times in 4: 0.1/T = ln 3, T ≈ 0.091 < 1.
        let z = [0.1, 0.0].repeat(8);
        let c = calibrate(&z, &y, 15, true).unwrap();
        assert!(
            (c.temperature - 0.1 / 3f64.ln()).abs() < 1e-6,
            "{}",
            c.temperature
        );
        assert_eq!(c.confidence(), Some(Confidence::Under));
        assert_eq!(c.before.accuracy, c.after.as_ref().unwrap().accuracy);
        // p = 3/4 already (z = (ln 3, 0)), right 3 times in 4: T = 1, and nothing moves.
        let z = [3f32.ln(), 0.0].repeat(8);
        let c = calibrate(&z, &y, 15, true).unwrap();
        assert!(
            (c.temperature - 1.0).abs() < CALIBRATED_WITHIN,
            "{}",
            c.temperature
        );
        assert_eq!(c.confidence(), Some(Confidence::Calibrated));
        assert_eq!(c.measured(), Some(Measured::Unmoved));
        // Not fitted: nothing to say.
        let c = calibrate(&z, &y, 15, false).unwrap();
        assert_eq!(
            (c.confidence(), c.ece_fell(), c.nll_fell(), c.measured()),
            (None, None, None, None)
        );
    }

    #[test]
    fn a_t_at_the_end_of_its_range_or_of_no_effect_is_said_to_be() {
        // Always right: the NLL falls all the way down to T = 0.01.
        let z = [0.1, 0.0].repeat(4);
        let c = calibrate(&z, &[0; 4], 15, true).unwrap();
        assert_eq!(c.temperature, FIT_TEMPERATURE_RANGE.0);
        assert_eq!(c.confidence(), Some(Confidence::UnderBeyond));
        // The same logits, right half the time: the NLL falls all the way up to T = 100.
        let z = [5.0, 0.0].repeat(4);
        let c = calibrate(&z, &[0, 1, 0, 1], 15, true).unwrap();
        assert_eq!(c.temperature, FIT_TEMPERATURE_RANGE.1);
        assert_eq!(c.confidence(), Some(Confidence::OverBeyond));
        // Equal logits: every T gives the same probabilities, and nothing moves.
        let z = [0.5; 8];
        let c = calibrate(&z, &[0, 1, 1, 0], 15, true).unwrap();
        assert_eq!(c.confidence(), Some(Confidence::Flat));
        assert_eq!(c.measured(), Some(Measured::Unmoved));
    }
}

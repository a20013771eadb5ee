//! The lab's experiments, as plain Rust: every figure the page shows that is not a direct output
//! of [`numerics`], [`sampling`] or [`crate::loss`]. The page only lays these numbers out, so
//! each one is computed once, here, and checked by the tests.
//!
//! - [`next_token`]: the sampling lab's next-token panel (final distribution, entropy in nats
//!   and bits, perplexity, the top ids and the mass of the rest, the temperature identity, and
//!   the precision experiment).
//! - [`precision`]: p = softmax(z / T_stored) stored as float32, bfloat16 and float16
//!   probabilities and as float32 log-probs, then re-heated to an *absolute* temperature.
//! - [`ZERO_THRESHOLDS`]: where each storage format rounds a probability to exactly 0.
//! - [`classify`]: the seed's classification-vs-generation table for one vector z.
//! - [`stability`]: log(softmax(z)) computed naively next to the stable log_softmax(z).
//! - [`draws`]: many draws from one distribution, with the expected counts.
//! - [`CeOnSoftmax`]: the floor and the optimum of crossEntropy(softmax(z)).
//! - [`parse_values`]: a typed vector such as `2, 1, 0.5` or `100, 0*49999`.
//!
//! Symbols as on the page: z for logits, T for temperature, p for probabilities, C for the
//! number of classes.

use std::cmp::Ordering;
use std::f64::consts::E;

use crate::error::{Error, Result};
use crate::limits::MAX_VALUES;
use crate::numerics::{self, round_to_bf16, round_to_f16, Stored};
use crate::sampling::{self, Cut, Input, Sample, SampleOptions};

/// How a probability is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    F32,
    Bf16,
    F16,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::F32 => "f32",
            Format::Bf16 => "bf16",
            Format::F16 => "f16",
        }
    }

    /// Rounds an f32 probability as this format would store it.
    pub fn round(self, p: f32) -> f32 {
        match self {
            Format::F32 => p,
            Format::Bf16 => round_to_bf16(p),
            Format::F16 => round_to_f16(p),
        }
    }
}

/// Where a format stores a probability as exactly 0: every p ≤ 2^`log2_p` rounds to 0 (half
/// the smallest subnormal, which rounds to even, i.e. to 0), so every ln p ≤ `ln_p` is lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroThreshold {
    pub format: Format,
    pub log2_p: i32,
}

impl ZeroThreshold {
    /// ln p at the threshold: log2_p · ln 2.
    pub fn ln_p(&self) -> f64 {
        self.log2_p as f64 * std::f64::consts::LN_2
    }
}

/// The smallest subnormal of float32 is 2^-149, of bfloat16 2^-133 (f32's exponent range, 7
/// stored mantissa bits), of float16 2^-24; half of each rounds to 0.
pub const ZERO_THRESHOLDS: [ZeroThreshold; 3] = [
    ZeroThreshold {
        format: Format::F32,
        log2_p: -150,
    },
    ZeroThreshold {
        format: Format::Bf16,
        log2_p: -134,
    },
    ZeroThreshold {
        format: Format::F16,
        log2_p: -25,
    },
];

/// One row of the precision experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reheated {
    /// Ids stored as exactly 0 (log-probs: −∞). Gone for good: ln 0 = −∞ at every temperature.
    pub stored_zeros: usize,
    /// Ids at exactly 0 in the float32 result of re-heating. More than `stored_zeros` only when
    /// the result itself underflows float32 (p < 2^-150): a limit of the output, not lost ids.
    pub zeros_after: usize,
}

/// The precision experiment for one vector z.
#[derive(Debug, Clone, PartialEq)]
pub struct Precision {
    /// The stored distributions.
    pub stored: Stored,
    /// float32, bfloat16, float16 probabilities, then float32 log-probs.
    pub rows: [Reheated; 4],
    /// The smallest ln p of softmax(z / T_stored) (over the finite z): how deep the tail goes,
    /// against the [`ZERO_THRESHOLDS`].
    pub min_log_prob: f64,
}

/// p = softmax(z / `stored_t`) as four storage formats would hold it, then re-heated to the
/// absolute temperature `reheat_t`: ln p_stored = z / T_stored − const, so the stored
/// log-probabilities are multiplied by T_stored / T_reheat before the softmax. Both T > 0.
pub fn precision(z: &[f32], stored_t: f32, reheat_t: f32) -> Result<Precision> {
    let stored = numerics::stored_precisions(z, stored_t)?;
    if !(reheat_t.is_finite() && reheat_t > 0.0) {
        return Err(Error::arg(
            "reheatTemperature",
            "a finite number > 0",
            reheat_t,
        ));
    }
    let ratio = reheat_t / stored_t;
    let zeros = |v: &[f32]| v.iter().filter(|&&x| x == 0.0).count();
    let from_probs = |p: &[f32]| -> Result<Reheated> {
        let ln_p: Vec<f32> = p.iter().map(|&x| x.ln()).collect();
        Ok(Reheated {
            stored_zeros: zeros(p),
            zeros_after: zeros(&numerics::softmax(&ln_p, ratio)?),
        })
    };
    let lost_logs = stored
        .log_probs
        .iter()
        .filter(|&&x| x == f32::NEG_INFINITY)
        .count();
    let rows = [
        from_probs(&stored.f32)?,
        from_probs(&stored.bf16)?,
        from_probs(&stored.f16)?,
        Reheated {
            stored_zeros: lost_logs,
            zeros_after: zeros(&numerics::softmax(&stored.log_probs, ratio)?),
        },
    ];
    let min_log_prob = stored
        .log_probs
        .iter()
        .filter(|x| x.is_finite())
        .fold(f64::INFINITY, |m, &x| m.min(x as f64));
    Ok(Precision {
        stored,
        rows,
        min_log_prob,
    })
}

/// The ids of the `n` largest `scores` (ties: lower id first), best first, without sorting the
/// whole vector: a selection, then a sort of the n chosen.
pub fn top_ids(scores: &[f32], n: usize) -> Vec<u32> {
    let better = |a: &u32, b: &u32| -> Ordering {
        let (x, y) = (scores[*a as usize], scores[*b as usize]);
        y.partial_cmp(&x).unwrap_or(Ordering::Equal).then(a.cmp(b))
    };
    let mut ids: Vec<u32> = (0..scores.len() as u32).collect();
    let n = n.min(ids.len());
    if n == 0 {
        return Vec::new();
    }
    if n < ids.len() {
        ids.select_nth_unstable_by(n - 1, better);
        ids.truncate(n);
    }
    ids.sort_unstable_by(better);
    ids
}

/// The bars' view of one distribution: the `n` most likely ids under the model (at T = 1,
/// before any filter), and what the other V − n hold of the final distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Top {
    pub ids: Vec<u32>,
    /// V − n.
    pub rest: usize,
    /// Σ of the final probabilities of the other ids.
    pub rest_mass: f64,
    /// How many of the other ids a sampler step cut.
    pub rest_cut: usize,
}

pub fn top(log_probs: &[f32], sample: &Sample, n: usize) -> Top {
    let ids = top_ids(log_probs, n);
    let mut in_top = vec![false; log_probs.len()];
    for &i in &ids {
        in_top[i as usize] = true;
    }
    let others = || (0..log_probs.len()).filter(|&i| !in_top[i]);
    Top {
        rest: log_probs.len() - ids.len(),
        rest_mass: others().map(|i| sample.probs[i] as f64).sum(),
        rest_cut: others().filter(|&i| sample.cut[i] != Cut::Kept).count(),
        ids,
    }
}

/// Everything the sampling lab's next-token panel shows for one output vector.
#[derive(Debug, Clone, PartialEq)]
pub struct NextToken {
    /// The model's output as it came (logits or log-probs).
    pub values: Vec<f32>,
    /// log_softmax(values): the model's own distribution at T = 1, before any filter.
    pub log_probs: Vec<f32>,
    /// The sampler chain at the current settings: final probs, cuts, the drawn token.
    pub sample: Sample,
    /// Entropy of the final (filtered) distribution, in nats and in bits.
    pub entropy_nats: f64,
    pub entropy_bits: f64,
    /// exp(entropy) of the final distribution: the number of equally likely ids with the same
    /// entropy. Not the model's exp(cross-entropy) on text.
    pub perplexity: f64,
    pub logsumexp: f32,
    pub top: Top,
    /// softmax(z / T) and softmax(log_softmax(z) / T) at the current T (T = 0: both the
    /// one-hot of the argmax, lowest id on a tie), and their max |difference|.
    pub identity: (Vec<f32>, Vec<f32>, f32),
    pub precision: Precision,
}

/// The next-token panel: `values` are what the model's forward returned (`opts.input` says
/// which kind), `top_n` ids are listed by name, and the precision experiment stores at
/// `stored_t` and re-heats to `reheat_t`.
pub fn next_token(
    values: Vec<f32>,
    opts: &SampleOptions,
    top_n: usize,
    stored_t: f32,
    reheat_t: f32,
) -> Result<NextToken> {
    let sample = sampling::sample(&values, opts)?;
    let log_probs = numerics::log_softmax(&values)?;
    let entropy_nats = sample.entropy;
    Ok(NextToken {
        entropy_nats,
        entropy_bits: entropy_nats / std::f64::consts::LN_2,
        perplexity: entropy_nats.exp(),
        logsumexp: numerics::logsumexp(&values)?,
        top: top(&log_probs, &sample, top_n),
        identity: numerics::temperature_identity(&values, opts.temperature)?,
        precision: precision(&values, stored_t, reheat_t)?,
        log_probs,
        sample,
        values,
    })
}

/// The representations a model's output can be handed over in, for the classification table.
pub const REPRESENTATIONS: [&str; 5] = ["logits", "logProbs", "f32", "bf16", "f16"];

/// One row of the classification table.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// One of [`REPRESENTATIONS`].
    pub representation: &'static str,
    /// Greedy pick by the same sampler (T = 0; lowest id on a tie).
    pub argmax: usize,
    /// max_i |p_i − softmax(z / T)_i|, p being this representation re-heated to T.
    pub max_diff: f32,
    /// Ids at exactly 0 after re-heating: never drawn.
    pub never: usize,
}

/// The seed's table for one vector z: each representation (logits; float32 log-probs; float32,
/// bfloat16 and float16 probabilities, all stored at T = 1) with its argmax and how it re-heats
/// to temperature T > 0. In exact arithmetic every argmax is the same; stored in bfloat16 or
/// float16, a near-tie such as z = (1, 1.001) rounds to an exact tie and the lower id wins.
pub fn classify(z: &[f32], t: f32) -> Result<Vec<Classified>> {
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::arg("temperature", "a finite number > 0", t));
    }
    let exact = numerics::softmax(z, t)?;
    let stored = numerics::stored_precisions(z, 1.0)?;
    let kinds: [(&[f32], Input); 5] = [
        (z, Input::Logits),
        (&stored.log_probs, Input::LogProbs),
        (&stored.f32, Input::Probs),
        (&stored.bf16, Input::Probs),
        (&stored.f16, Input::Probs),
    ];
    kinds
        .into_iter()
        .zip(REPRESENTATIONS)
        .map(|((values, input), representation)| {
            let at = |temperature: f32| {
                let opts = SampleOptions {
                    input,
                    temperature,
                    seed: Some(0),
                    ..SampleOptions::default()
                };
                sampling::sample(values, &opts)
            };
            let argmax = at(0.0)?.token;
            let p = at(t)?.probs;
            let max_diff = p
                .iter()
                .zip(&exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            Ok(Classified {
                representation,
                argmax,
                max_diff,
                never: p.iter().filter(|&&x| x == 0.0).count(),
            })
        })
        .collect()
}

/// The seed's stability claim, live: log(softmax(z)) computed as the textbook writes it,
/// log(exp(z_i) / Σ_j exp(z_j)) with no max subtracted, in float32 and with every operation
/// rounded to float16, next to the stable log_softmax(z) = (z − m) − log Σ exp(z_j − m).
#[derive(Debug, Clone, PartialEq)]
pub struct Stability {
    pub stable: Vec<f32>,
    pub naive_f32: Vec<f32>,
    pub naive_f16: Vec<f32>,
}

impl Stability {
    /// (NaN count, −∞ count) of a result.
    pub fn broken(v: &[f32]) -> (usize, usize) {
        (
            v.iter().filter(|x| x.is_nan()).count(),
            v.iter().filter(|&&x| x == f32::NEG_INFINITY).count(),
        )
    }
}

pub fn stability(z: &[f32]) -> Result<Stability> {
    let stable = numerics::log_softmax(z)?;
    // exp overflows float32 from z > 88.7 (→ ∞, and ∞/∞ = NaN), and underflows to 0 from
    // z < −103.9 (→ ln 0 = −∞). The sum is accumulated in the same precision.
    let naive = |round: fn(f32) -> f32| -> Vec<f32> {
        let e: Vec<f32> = z.iter().map(|&x| round(round(x).exp())).collect();
        let sum = e.iter().fold(0.0f32, |s, &x| round(s + x));
        e.iter().map(|&x| round(round(x / sum).ln())).collect()
    };
    Ok(Stability {
        stable,
        naive_f32: naive(|x| x),
        naive_f16: naive(round_to_f16),
    })
}

/// `n` independent draws from one distribution, with seeds seed, seed + 1, …
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    pub counts: Vec<u32>,
    /// The final distribution every draw came from.
    pub probs: Vec<f32>,
    /// n · p_i: how often id i is expected.
    pub expected: Vec<f32>,
}

/// Most draws one call makes.
pub const MAX_DRAWS: usize = 100_000;

pub fn draws(values: &[f32], opts: &SampleOptions, n: usize) -> Result<Draws> {
    if !(1..=MAX_DRAWS).contains(&n) {
        return Err(Error::arg(
            "n",
            &format!("an integer in [1, {MAX_DRAWS}]"),
            n,
        ));
    }
    let seed = opts.seed.unwrap_or(0);
    let mut counts = vec![0u32; values.len()];
    let mut probs = Vec::new();
    for i in 0..n as u64 {
        let o = SampleOptions {
            seed: Some((seed + i) % (sampling::MAX_SEED + 1)),
            ..opts.clone()
        };
        let s = sampling::sample(values, &o)?;
        counts[s.token] += 1;
        if i == 0 {
            probs = s.probs;
        }
    }
    let expected = probs
        .iter()
        .map(|&p| (p as f64 * n as f64) as f32)
        .collect();
    Ok(Draws {
        counts,
        probs,
        expected,
    })
}

/// crossEntropy(softmax(z), y), the seed's "softmax twice" mistake, for C classes.
///
/// Its loss is −p_y + ln Σ_j exp(p_j) with p = softmax(z) ∈ the simplex, so the expected loss
/// under the true next-character distribution q is f(p) = −q·p + ln Σ_j exp(p_j), a convex
/// function of p. Its minimum over the simplex is the one-hot on the most likely class
/// whenever that class leads the runner-up by at least (e − 1)/(e + C − 1) (the optimality
/// condition at a vertex): every other class, however common, gets probability 0. No single
/// prediction can score below ln(1 + (C − 1)/e), its value at a one-hot on the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CeOnSoftmax {
    pub classes: usize,
}

impl CeOnSoftmax {
    /// ln(1 + (C − 1)/e): the loss of a one-hot p on the target.
    pub fn floor(&self) -> f64 {
        (1.0 + (self.classes as f64 - 1.0) / E).ln()
    }

    /// (e − 1)/(e + C − 1): the lead over the runner-up above which the one-hot is optimal.
    pub fn one_hot_margin(&self) -> f64 {
        (E - 1.0) / (E + self.classes as f64 - 1.0)
    }

    /// ln(e + C − 1) − q: the expected loss of the one-hot on a class of frequency q.
    pub fn one_hot_loss(&self, q: f64) -> f64 {
        (E + self.classes as f64 - 1.0).ln() - q
    }

    /// f(p) = −q·p + ln Σ_j exp(p_j): the expected loss of predicting p when the truth is q.
    pub fn expected_loss(q: &[f64], p: &[f64]) -> f64 {
        let dot: f64 = q.iter().zip(p).map(|(a, b)| a * b).sum();
        let lse = p.iter().map(|x| x.exp()).sum::<f64>().ln();
        lse - dot
    }
}

/// The characters of a text, most frequent first (ties: lower code point first), with their
/// frequencies: what crossEntropy(softmax) ends up predicting is the first.
pub fn char_frequencies(text: &str) -> Vec<(char, f64)> {
    let mut counts: std::collections::BTreeMap<char, u64> = Default::default();
    let mut n = 0u64;
    for c in text.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    let mut out: Vec<(char, f64)> = counts
        .into_iter()
        .map(|(c, k)| (c, k as f64 / n.max(1) as f64))
        .collect();
    out.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal));
    out
}

/// Reads a typed vector: numbers separated by commas, semicolons or spaces; `x*n` (or `x×n`)
/// repeats x n times, so a 50 000-entry vector fits in a URL: `100, 0*49999`. At most
/// [`MAX_VALUES`] entries.
pub fn parse_values(argument: &str, text: &str) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for (i, item) in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .enumerate()
    {
        let (x, n) = match item.split_once(['*', '×']) {
            Some((x, n)) => {
                let n: usize = n.parse().map_err(|_| {
                    Error::new(format!(
                        "{argument}: in {item:?}, the count after * must be an integer >= 1"
                    ))
                })?;
                (x, n)
            }
            None => (item, 1),
        };
        let x = parse_number(x).ok_or_else(|| {
            Error::new(format!(
                "{argument}[{}] is {x:?}, not a number (write e.g. 2, -1.5, 1e3, -Infinity)",
                out.len()
            ))
        })?;
        if n == 0 {
            return Err(Error::new(format!(
                "{argument}: in {item:?}, the count after * must be an integer >= 1"
            )));
        }
        if out.len().saturating_add(n) > MAX_VALUES {
            return Err(Error::new(format!(
                "{argument} has more than {MAX_VALUES} entries (at item {}, {item:?}); at most \
                 {MAX_VALUES} are accepted",
                i + 1
            )));
        }
        out.extend(std::iter::repeat_n(x, n));
    }
    if out.is_empty() {
        return Err(Error::new(format!(
            "{argument} must not be empty (it needs one entry per token)"
        )));
    }
    Ok(out)
}

/// A decimal number as JS's `Number()` reads one, plus `−` (U+2212) for minus and `∞`.
fn parse_number(s: &str) -> Option<f32> {
    let s = s.replace('−', "-");
    match s.as_str() {
        "Infinity" | "+Infinity" | "∞" | "+∞" | "inf" => Some(f32::INFINITY),
        "-Infinity" | "-∞" | "-inf" => Some(f32::NEG_INFINITY),
        _ => {
            let x: f64 = s.parse().ok()?;
            // Rust accepts "nan", "inf" and "infinity" in any case; only plain numbers here.
            (x.is_finite()).then_some(x as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::LN_2;

    #[test]
    fn zero_thresholds_are_where_each_format_rounds_to_zero() {
        for th in ZERO_THRESHOLDS {
            let at = 2f64.powi(th.log2_p);
            // f32 itself: the f64 → f32 conversion is where it rounds.
            let store = |p: f64| th.format.round(p as f32);
            assert_eq!(store(at), 0.0, "{:?} at 2^{}", th.format, th.log2_p);
            assert!(
                store(at * (1.0 + 2f64.powi(-10))) > 0.0,
                "{:?} just above",
                th.format
            );
        }
        let ln: Vec<String> = ZERO_THRESHOLDS
            .iter()
            .map(|t| format!("{:.1}", t.ln_p()))
            .collect();
        // The figures the page and README quote.
        assert_eq!(ln, ["-104.0", "-92.9", "-17.3"]);
    }

    #[test]
    fn near_tie_collapses_in_bfloat16() {
        // softmax((1, 1.001)) = (0.49975, 0.50025): bfloat16 rounds both to 0.5, an exact tie,
        // and the lower id wins; logits, log-probs, float32 and float16 keep id 1.
        let rows = classify(&[1.0, 1.001], 1.0).unwrap();
        let argmax: Vec<(&str, usize)> =
            rows.iter().map(|r| (r.representation, r.argmax)).collect();
        assert_eq!(
            argmax,
            [
                ("logits", 1),
                ("logProbs", 1),
                ("f32", 1),
                ("bf16", 0),
                ("f16", 1)
            ]
        );
        // Away from ties, every representation agrees.
        let rows = classify(&[2.0, 1.0, 0.5, -1.0, -3.0], 0.7).unwrap();
        assert!(rows.iter().all(|r| r.argmax == 0), "{rows:?}");
        // Logits and float32 log-probs re-heat to within float32 rounding.
        assert!(
            rows[0].max_diff < 1e-6 && rows[1].max_diff < 1e-6,
            "{rows:?}"
        );
    }

    #[test]
    fn naive_log_softmax_breaks_where_the_stable_one_does_not() {
        // z = (1000, 0): exp(1000) = ∞ in float32, ∞/∞ = NaN, and 1/∞ = 0 → ln 0 = −∞.
        let s = stability(&[1000.0, 0.0]).unwrap();
        assert_eq!(s.stable, vec![0.0, -1000.0]);
        assert!(s.naive_f32[0].is_nan());
        assert_eq!(s.naive_f32[1], f32::NEG_INFINITY);
        // z = (−1000, 0): exp(−1000) = 0, so the tail is −∞ instead of −1000.
        let s = stability(&[-1000.0, 0.0]).unwrap();
        assert_eq!(s.stable, vec![-1000.0, 0.0]);
        assert_eq!(s.naive_f32, vec![f32::NEG_INFINITY, 0.0]);
        // 50 000 entries, one of them 100: exp(100) overflows float32 (max ≈ 3.4e38).
        let mut z = vec![0.0f32; 50_000];
        z[0] = 100.0;
        let s = stability(&z).unwrap();
        assert_eq!(Stability::broken(&s.naive_f32), (1, 49_999));
        assert_eq!(Stability::broken(&s.stable), (0, 0));
        assert_eq!(s.stable[1], -100.0);
        // In float16 exp already overflows from z > ln 65504 ≈ 11.09.
        let s = stability(&[12.0, 0.0]).unwrap();
        assert!(s.naive_f16[0].is_nan());
        assert!(s.naive_f32.iter().all(|x| x.is_finite()));
        // Where the page says it breaks: exp overflows float32 above 88.72 and float16 above
        // 11.09; it underflows float32 below −103.97 and float16 below −17.33.
        let naive = |z: f32, f16: bool| {
            let s = stability(&[z, 0.0]).unwrap();
            if f16 {
                s.naive_f16[0]
            } else {
                s.naive_f32[0]
            }
        };
        assert!(naive(88.72, false).is_finite() && naive(88.73, false).is_nan());
        assert!(naive(11.08, true).is_finite() && naive(11.1, true).is_nan());
        assert!(naive(-103.9, false).is_finite());
        assert_eq!(naive(-104.05, false), f32::NEG_INFINITY);
        assert!(naive(-17.2, true).is_finite());
        assert_eq!(naive(-17.4, true), f32::NEG_INFINITY);
        assert_eq!(format!("{:.2}", f32::MAX.ln()), "88.72");
        assert_eq!(format!("{:.2}", 65520f64.ln()), "11.09");
        assert_eq!(
            format!("{:.2} {:.2}", -150.0 * LN_2, -25.0 * LN_2),
            "-103.97 -17.33"
        );
        // Small, well-scaled logits: naive float32 agrees with the stable result.
        let s = stability(&[2.0, 1.0, 0.5, -1.0, -3.0]).unwrap();
        for (a, b) in s.naive_f32.iter().zip(&s.stable) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    /// f over the simplex, minimised by exponentiated gradient (mirror descent): f is convex,
    /// so this finds the optimum without assuming where it is.
    fn minimise_on_simplex(q: &[f64]) -> Vec<f64> {
        let c = q.len();
        let mut p = vec![1.0 / c as f64; c];
        for _ in 0..200_000 {
            let lse = p.iter().map(|x| x.exp()).sum::<f64>();
            let mut next: Vec<f64> = p
                .iter()
                .zip(q)
                .map(|(&pi, &qi)| pi * (-0.5 * (pi.exp() / lse - qi)).exp())
                .collect();
            let sum: f64 = next.iter().sum();
            next.iter_mut().for_each(|x| *x /= sum);
            p = next;
        }
        p
    }

    #[test]
    fn ce_on_softmax_optimum_is_one_hot_on_the_most_likely_class() {
        // C = 4: the one-hot is optimal iff q_1 − q_2 ≥ (e − 1)/(e + 3) ≈ 0.3005.
        let ce = CeOnSoftmax { classes: 4 };
        assert!((ce.one_hot_margin() - 0.300_55).abs() < 1e-4);
        // Lead 0.35 > margin: one-hot on class 0, and the common class 1 (q = 0.25) gets 0.
        let q = [0.6, 0.25, 0.1, 0.05];
        let p = minimise_on_simplex(&q);
        assert!(p[0] > 0.999 && p[1] < 1e-3, "{p:?}");
        let one_hot = [1.0, 0.0, 0.0, 0.0];
        let f = CeOnSoftmax::expected_loss(&q, &one_hot);
        assert!((f - ce.one_hot_loss(0.6)).abs() < 1e-12);
        assert!(f <= CeOnSoftmax::expected_loss(&q, &p) + 1e-9);
        // Lead 0.25 < margin: the optimum keeps mass on class 1, below the one-hot's loss.
        let q = [0.5, 0.25, 0.15, 0.1];
        let p = minimise_on_simplex(&q);
        assert!(p[0] < 0.99 && p[1] > 0.01, "{p:?}");
        assert!(CeOnSoftmax::expected_loss(&q, &p) < ce.one_hot_loss(0.5) - 1e-4);
        // Just either side of the margin.
        let m = ce.one_hot_margin();
        let q = [0.5 + m / 2.0 + 0.01, 0.5 - m / 2.0 - 0.01, 0.0, 0.0];
        assert!(minimise_on_simplex(&q)[0] > 0.999);
        let q = [0.5 + m / 2.0 - 0.01, 0.5 - m / 2.0 + 0.01, 0.0, 0.0];
        assert!(minimise_on_simplex(&q)[0] < 0.99);
    }

    #[test]
    fn ce_on_softmax_floor_is_the_loss_of_a_one_hot_on_the_target() {
        // ln(1 + (C − 1)/e) = −1 + ln(e + C − 1), the loss when softmax(z) is one-hot on y.
        for c in [2usize, 4, 84, 1000] {
            let ce = CeOnSoftmax { classes: c };
            let mut one_hot = vec![0.0; c];
            one_hot[0] = 1.0;
            let mut target = vec![0.0; c];
            target[0] = 1.0;
            let f = CeOnSoftmax::expected_loss(&target, &one_hot);
            assert!((f - ce.floor()).abs() < 1e-12, "C = {c}");
        }
        // The default model's 84 characters: floor 3.451, margin 0.0200.
        let ce = CeOnSoftmax { classes: 84 };
        assert_eq!(
            format!("{:.3} {:.4}", ce.floor(), ce.one_hot_margin()),
            "3.451 0.0200"
        );
        // And the loss function itself agrees, on logits that make softmax(z) one-hot.
        let mut z = vec![-1e4f32; 84];
        z[5] = 1e4;
        let opts = crate::loss::LossOptions::new(84);
        let r = crate::loss::pipeline_loss(
            &z,
            &[5],
            crate::loss::Pipeline::CrossEntropyOnSoftmax,
            &opts,
        )
        .unwrap();
        assert!((r.output.loss as f64 - ce.floor()).abs() < 1e-5);
    }

    #[test]
    fn reheating_uses_the_absolute_temperature() {
        // z_i = −i: stored at T = 0.5, the log-probs are −2i − const. Re-heated to an absolute
        // T = 3 they must give softmax(z / 3), not softmax(z / 1.5).
        let z: Vec<f32> = (0..40).map(|i| -(i as f32)).collect();
        let r = precision(&z, 0.5, 3.0).unwrap();
        let ratio = 3.0 / 0.5;
        let reheated = numerics::softmax(&r.stored.log_probs, ratio).unwrap();
        let exact = numerics::softmax(&z, 3.0).unwrap();
        for (a, b) in reheated.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // float16 loses the ids whose p ≤ 2^-25 at T = 0.5 (p_i ∝ e^{−2i}: i ≥ 9); log-probs
        // lose none, and their re-heated result has no zero either.
        let [f32_, bf16, f16, logs] = r.rows;
        assert_eq!(
            (f32_.stored_zeros, bf16.stored_zeros, logs.stored_zeros),
            (0, 0, 0)
        );
        assert_eq!(f16.stored_zeros, 40 - 9);
        assert_eq!(f16.zeros_after, f16.stored_zeros);
        assert_eq!(logs.zeros_after, 0);
        assert!((r.min_log_prob - (-78.0 + (1.0 - (-2f64).exp()).ln())).abs() < 1e-3);
    }

    #[test]
    fn typed_vectors() {
        assert_eq!(
            parse_values("z", "2, 1 0.5;-1").unwrap(),
            vec![2.0, 1.0, 0.5, -1.0]
        );
        assert_eq!(
            parse_values("z", "1e3, −2, -Infinity").unwrap(),
            vec![1e3, -2.0, f32::NEG_INFINITY]
        );
        let v = parse_values("z", "100, 0*49999").unwrap();
        assert_eq!((v.len(), v[0], v[49_999]), (50_000, 100.0, 0.0));
        assert_eq!(parse_values("z", "7×3").unwrap(), vec![7.0; 3]);
        let err = |t: &str| parse_values("z", t).unwrap_err().to_string();
        assert_eq!(
            err("1, oops, 2"),
            "z[1] is \"oops\", not a number (write e.g. 2, -1.5, 1e3, -Infinity)"
        );
        assert!(err("").contains("must not be empty"));
        assert!(err("1*0").contains("count after *"));
        assert!(err("1*x").contains("count after *"));
        assert!(err("nan").starts_with("z[0] is \"nan\""));
        assert!(err("0*99999999").contains("at most 4194304"));
    }

    #[test]
    fn draws_report_the_expected_counts() {
        let opts = SampleOptions {
            seed: Some(3),
            ..SampleOptions::default()
        };
        let d = draws(&[1.0, 0.0, -1.0], &opts, 1000).unwrap();
        assert_eq!(d.counts.iter().sum::<u32>(), 1000);
        for (e, p) in d.expected.iter().zip(&d.probs) {
            assert!((e - p * 1000.0).abs() < 1e-3);
        }
        assert!(draws(&[1.0], &opts, 0).is_err());
    }

    #[test]
    fn top_ids_and_the_rest() {
        let lp = numerics::log_softmax(&[0.0, 3.0, 1.0, 3.0, -2.0]).unwrap();
        assert_eq!(top_ids(&lp, 3), vec![1, 3, 2]);
        let opts = SampleOptions {
            top_k: 2,
            seed: Some(1),
            ..SampleOptions::default()
        };
        let s = sampling::sample(&[0.0, 3.0, 1.0, 3.0, -2.0], &opts).unwrap();
        let t = top(&lp, &s, 3);
        assert_eq!((t.rest, t.rest_cut), (2, 2));
        assert_eq!(t.rest_mass, 0.0);
        let t = top(&lp, &s, 1);
        assert_eq!(t.rest, 4);
        assert!((t.rest_mass - 0.5).abs() < 1e-6);
    }
}

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
//! - [`parse_values`]: a typed vector such as `2, 1, 0.5`, `2; 1; 0,5` or `100, 0*49999`, in
//!   the page's [`Notation`]; [`translate_values`] rewrites one from a notation to another.
//!
//! - [`chain`]: the sampler workbench on a model: the chain panel's three distributions,
//!   generation through a chain, and where two chains' texts part.
//! - [`weights`]: a model against its quantised copy: KL in nats, top-1 agreement, perplexity
//!   and the ids whose rank moved (the card "Weights in low precision").
//!
//! Symbols as on the page: z for logits, T for temperature, p for probabilities, C for the
//! number of classes.

pub mod chain;
pub mod weights;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::f64::consts::E;

use crate::error::{brief, Code, Error, Result};
use crate::limits::{MAX_DRAWS, MAX_SEED, MAX_VALUES};
use crate::numerics::{self, round_to_bf16, round_to_f16};
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

    /// [`ln_p`](Self::ln_p) rounded *down* to [`SHOWN_DECIMALS`] decimals: the figure the page
    /// prints. Rounded down, "every ln p ≤ this is stored as 0" stays true (−25 ln 2 =
    /// −17.3287… is shown as −17.33, never as −17.3, which some kept ids lie below).
    pub fn ln_p_shown(&self) -> f64 {
        round_down(self.ln_p())
    }
}

/// How many decimals the page prints a log-probability with when it compares it with a
/// [`ZeroThreshold`].
pub const SHOWN_DECIMALS: i32 = 2;

fn round_down(x: f64) -> f64 {
    let scale = 10f64.powi(SHOWN_DECIMALS);
    (x * scale).floor() / scale
}

fn round_up(x: f64) -> f64 {
    let scale = 10f64.powi(SHOWN_DECIMALS);
    (x * scale).ceil() / scale
}

fn round_nearest(x: f64) -> f64 {
    let scale = 10f64.powi(SHOWN_DECIMALS);
    (x * scale).round() / scale
}

/// bfloat16 with subnormals flushed to 0, as some converters store it: every p < 2^−126 (the
/// smallest normal) becomes 0. [`ZERO_THRESHOLDS`] keeps bfloat16's subnormals, as
/// [`Format::round`] does, so its bfloat16 row loses only p ≤ 2^−134.
pub const BF16_FLUSH_LOG2_P: i32 = -126;

/// ln 2^[`BF16_FLUSH_LOG2_P`], rounded down to the shown decimals: every ln p *below* it is
/// lost by a converter that flushes subnormals.
pub fn bf16_flush_ln_p_shown() -> f64 {
    round_down(BF16_FLUSH_LOG2_P as f64 * std::f64::consts::LN_2)
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
    /// float32, bfloat16, float16 probabilities, then float32 log-probs.
    pub rows: [Reheated; 4],
    /// The smallest ln p of softmax(z / T_stored) (over the finite z): how deep the tail goes,
    /// against the [`ZERO_THRESHOLDS`].
    pub min_log_prob: f64,
}

impl Precision {
    /// Whether each probability format ([`ZERO_THRESHOLDS`]' order: float32, bfloat16,
    /// float16) stored some id as exactly 0: the counts decide, not a comparison of
    /// `min_log_prob` with a threshold.
    pub fn stores_zeros(&self) -> [bool; 3] {
        let [f32_, bf16, f16, _] = self.rows;
        [f32_, bf16, f16].map(|r| r.stored_zeros > 0)
    }

    /// `min_log_prob` rounded to [`SHOWN_DECIMALS`] decimals: to the nearest, but within 0.01
    /// of a threshold on the side that the stored counts found (down if that format stored a 0,
    /// else up). Next to the thresholds as [`ZeroThreshold::ln_p_shown`] prints them, the
    /// printed minimum then never contradicts the verdict ("min −17.33, keeps every id" cannot
    /// be printed).
    pub fn min_log_prob_shown(&self) -> f64 {
        let m = self.min_log_prob;
        if !m.is_finite() {
            return m;
        }
        let zeros = self.stores_zeros();
        let nearest = (0..ZERO_THRESHOLDS.len())
            .min_by(|&a, &b| {
                let d = |i: usize| (ZERO_THRESHOLDS[i].ln_p() - m).abs();
                d(a).partial_cmp(&d(b)).unwrap_or(Ordering::Equal)
            })
            .unwrap_or(0);
        if (ZERO_THRESHOLDS[nearest].ln_p() - m).abs() >= 10f64.powi(-SHOWN_DECIMALS) {
            round_nearest(m)
        } else if zeros[nearest] {
            round_down(m)
        } else {
            round_up(m)
        }
    }
}

/// The probability formats in [`Precision::rows`]' order, with the smallest positive
/// probability each stores (float32's and bfloat16's subnormals, float16's).
const STORED_FORMATS: [(Format, f32); 3] = [
    (Format::F32, f32::from_bits(1)),           // 2^−149
    (Format::Bf16, f32::from_bits(1 << 16)),    // 2^−133
    (Format::F16, f32::from_bits(0x3380_0000)), // 2^−24
];

/// Half the width of the band of ln p around each format's [`ZERO_THRESHOLDS`] in which
/// [`precision`] rounds p itself. Outside it the side of the threshold decides: e^±0.001 is
/// far beyond exp's rounding (1 ulp) and the shift of the thresholds by the f32 rounding
/// before bfloat16's and float16's (at most 2^−16 relative).
const STORED_BAND: f64 = 1e-3;

/// Whether float32, bfloat16 and float16 store p = e^`ln_p` (f64, rounded to f32 first, as
/// [`numerics::stored_precisions`] does) as exactly 0; `thresholds` are the
/// [`ZERO_THRESHOLDS`]' ln p.
#[inline]
fn stored_as_zero(ln_p: f64, thresholds: &[f64; 3]) -> [bool; 3] {
    if thresholds.iter().any(|&t| (ln_p - t).abs() < STORED_BAND) {
        let p = ln_p.exp() as f32;
        return STORED_FORMATS.map(|(f, _)| f.round(p) == 0.0);
    }
    thresholds.map(|t| ln_p < t)
}

/// Whether re-heating by `ratio` (T_reheat / T_stored) provably leaves no stored, non-zero id
/// at 0, for stored log-probabilities whose finite ones are all ≥ `lowest` (and ≤ 0, as every
/// log-probability is). Each exponent (ln p_i − max) / ratio is then ≥ (lowest − 1) / ratio
/// ≥ −80 (the 1 covers f32's rounding of the difference and the division), so e^it ≥ e^−81,
/// a normal f32; divided by the sum (≤ V ≤ [`MAX_VALUES`] = 2^22, each term ≤ 1), it stays
/// above 2^−149, and rounds to no 0. Otherwise the softmax itself decides.
fn reheats_without_zeros(lowest: f32, ratio: f32) -> bool {
    ratio.is_finite() && ratio > 0.0 && (lowest - 1.0) / ratio >= -80.0
}

/// p = softmax(z / `stored_t`) as four storage formats would hold it, then re-heated to the
/// absolute temperature `reheat_t`: ln p_stored = z / T_stored − const, so the stored
/// log-probabilities are multiplied by T_stored / T_reheat before the softmax. Both T > 0.
///
/// The counts are those of [`numerics::stored_precisions`]' four vectors and of their softmax
/// at T_reheat / T_stored, without making the V-long vectors where they are not needed: an id
/// far from a format's threshold is counted by the side of it its ln p lies on, and the
/// re-heated zeros are the stored ones wherever [`reheats_without_zeros`] proves it.
pub fn precision(z: &[f32], stored_t: f32, reheat_t: f32) -> Result<Precision> {
    let (m, log_sum) = numerics::stored_normaliser(z, stored_t)?;
    if !(reheat_t.is_finite() && reheat_t > 0.0) {
        return Err(Error::arg(
            "reheatTemperature",
            "a finite number > 0",
            reheat_t,
        ));
    }
    let ratio = reheat_t / stored_t;
    let thresholds = ZERO_THRESHOLDS.map(|t| t.ln_p());
    // Above float16's band, no format stores a 0.
    let highest_band = thresholds[2] + STORED_BAND;
    let (mut stored_zeros, mut lost_logs) = ([0usize; 3], 0usize);
    let mut min_log_prob = f32::INFINITY;
    for &x in z {
        let ln_p = numerics::stored_log_prob(x, m, stored_t, log_sum);
        let ln_p32 = ln_p as f32;
        if ln_p32 == f32::NEG_INFINITY {
            lost_logs += 1;
        } else if ln_p32 < min_log_prob {
            min_log_prob = ln_p32;
        }
        if ln_p < highest_band {
            for (n, zero) in stored_zeros
                .iter_mut()
                .zip(stored_as_zero(ln_p, &thresholds))
            {
                *n += zero as usize;
            }
        }
    }
    let zeros = |v: &[f32]| v.iter().filter(|&&x| x == 0.0).count();
    // The exact re-heating, for a row the bound does not settle.
    let mut stored = None;
    let mut exact = |row: usize| -> Result<usize> {
        let s = match &stored {
            Some(s) => s,
            None => stored.insert(numerics::stored_precisions(z, stored_t)?),
        };
        let reheated = match row {
            0..=2 => {
                let p = [&s.f32, &s.bf16, &s.f16][row];
                numerics::softmax(&p.iter().map(|&x| x.ln()).collect::<Vec<_>>(), ratio)?
            }
            _ => numerics::softmax(&s.log_probs, ratio)?,
        };
        Ok(zeros(&reheated))
    };
    let mut rows = [Reheated::default(); 4];
    for (row, (_, smallest)) in STORED_FORMATS.iter().enumerate() {
        rows[row] = Reheated {
            stored_zeros: stored_zeros[row],
            zeros_after: match reheats_without_zeros(smallest.ln(), ratio) {
                true => stored_zeros[row],
                false => exact(row)?,
            },
        };
    }
    rows[3] = Reheated {
        stored_zeros: lost_logs,
        zeros_after: match reheats_without_zeros(min_log_prob, ratio) {
            true => lost_logs,
            false => exact(3)?,
        },
    };
    Ok(Precision {
        rows,
        min_log_prob: min_log_prob as f64,
    })
}

/// The ids of the `n` largest `scores` (no NaN; ties: lower id first), best first, without
/// sorting the whole vector: for the panel's few rows, one pass that keeps the best so far; for
/// many, a selection, then a sort of the n chosen.
pub fn top_ids(scores: &[f32], n: usize) -> Vec<u32> {
    let n = n.min(scores.len());
    if n <= 64 {
        // In order (score descending, then id ascending). Ids come in ascending order, so a
        // later one enters only with a score strictly above the last kept, after every kept id
        // that scores at least as much.
        let mut best: Vec<u32> = Vec::with_capacity(n + 1);
        if n == 0 {
            return best;
        }
        // The score an id must beat once n are kept.
        let mut floor = None;
        for (i, &x) in scores.iter().enumerate() {
            if floor.is_some_and(|f| x <= f) {
                continue;
            }
            let at = best.partition_point(|&j| scores[j as usize] >= x);
            best.insert(at, i as u32);
            best.truncate(n);
            if best.len() == n {
                floor = Some(scores[best[n - 1] as usize]);
            }
        }
        return best;
    }
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
    top_of_sample(top_ids(log_probs, n), log_probs.len(), sample)
}

/// [`Top`] of the shown `ids` (of V) under `sample`'s final distribution.
fn top_of_sample(ids: Vec<u32>, v: usize, sample: &Sample) -> Top {
    let (rest_mass, rest_cut) = rest(&ids, &sample.probs, |i| sample.cut[i] != Cut::Kept);
    Top {
        rest: v - ids.len(),
        rest_mass,
        rest_cut,
        ids,
    }
}

/// Over the ids not in `ids` (distinct, each < V = `probs.len()`), in id order: Σ of `probs`
/// in f64, and how many are `cut`. The gaps between the shown ids, walked in order, without a
/// V-long mark of which ids are shown.
pub(crate) fn rest(ids: &[u32], probs: &[f32], cut: impl Fn(usize) -> bool) -> (f64, usize) {
    let mut shown: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
    shown.sort_unstable();
    shown.push(probs.len());
    let (mut mass, mut n, mut from) = (0.0f64, 0usize, 0usize);
    for end in shown {
        for (i, &p) in probs.iter().enumerate().take(end).skip(from) {
            mass += p as f64;
            n += cut(i) as usize;
        }
        from = end + 1;
    }
    (mass, n)
}

/// Which ids a panel's per-id vectors hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rows {
    /// Every id: V entries.
    #[default]
    All,
    /// The panel's top ids alone, most likely first: row k is id `top.ids[k]`. The page draws
    /// these rows only, so at a large V nothing V-long leaves the panel.
    Top,
}

impl Rows {
    /// `v`, one entry per id, at these rows: all of it, or its entries at `ids`.
    pub fn of<'a, T: Copy>(self, v: &'a [T], ids: &[u32]) -> Cow<'a, [T]> {
        match self {
            Rows::All => Cow::Borrowed(v),
            Rows::Top => Cow::Owned(at(v, ids)),
        }
    }
}

/// `v`'s entries at `ids`, in their order.
pub fn at<T: Copy>(v: &[T], ids: &[u32]) -> Vec<T> {
    ids.iter().map(|&i| v[i as usize]).collect()
}

/// What the sampling lab's next-token panel shows of one output vector that no sampler
/// setting changes: its log_softmax, the bars' top ids, the ends of the bars' scales and the
/// greedy picks. Made once per vector; a panel after a slider move re-runs only the sampler
/// ([`Output::next_token`]), not these passes over V.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The model's output as it came (logits or log-probs).
    pub values: Vec<f32>,
    /// log_softmax(values): the model's own distribution at T = 1, before any filter.
    pub log_probs: Vec<f32>,
    pub logsumexp: f32,
    /// The `top_n` most likely ids under the model (by `log_probs`), best first.
    pub top_ids: Vec<u32>,
    /// The greedy picks (T = 0) from the values and from log_softmax(values) in float32:
    /// argmax of each, the lowest id on a tie. Equal in exact arithmetic; they differ when
    /// log_softmax rounds a near-tie below float32's resolution to an exact tie, as for
    /// z = (0, 1e-9).
    pub greedy: (usize, usize),
    /// The smallest and largest finite value: the ends of the bars' scale (None when every
    /// value is −∞).
    pub value_range: Option<(f32, f32)>,
    /// The same for the log-probabilities.
    pub log_prob_range: Option<(f32, f32)>,
}

impl Output {
    /// The figures of `values` (what the model's forward returned), naming its `top_n` most
    /// likely ids.
    pub fn new(values: Vec<f32>, top_n: usize) -> Result<Output> {
        let (log_probs, logsumexp) = numerics::log_softmax_and_logsumexp(&values)?;
        let (value_range, value_argmax) = range_and_argmax(&values);
        let (log_prob_range, log_prob_argmax) = range_and_argmax(&log_probs);
        Ok(Output {
            top_ids: top_ids(&log_probs, top_n),
            greedy: (value_argmax, log_prob_argmax),
            value_range,
            log_prob_range,
            logsumexp,
            log_probs,
            values,
        })
    }

    /// The next-token panel at the sampler's settings `opts` (`opts.input` says what the values
    /// are), with the `experiments` asked for.
    pub fn next_token(&self, opts: &SampleOptions, experiments: Experiments) -> Result<NextToken> {
        let values = &self.values;
        let sample = sampling::sample(values, opts)?;
        let entropy_nats = sample.entropy;
        let Measured {
            identity,
            precision,
        } = self.experiments(opts.temperature, experiments)?;
        Ok(NextToken {
            entropy_nats,
            entropy_bits: entropy_nats / std::f64::consts::LN_2,
            perplexity: entropy_nats.exp(),
            top: top_of_sample(self.top_ids.clone(), values.len(), &sample),
            identity,
            precision,
            sample,
        })
    }

    /// The panel's two experiments, those `experiments` asks for, the identity at the sampler's
    /// temperature `t`: what [`Output::next_token`] gives in its fields of the same names. They
    /// do not depend on the sampler's filters, so a caller can ask for them apart from the bars.
    pub fn experiments(&self, t: f32, experiments: Experiments) -> Result<Measured> {
        numerics::check_temperature(t)?;
        let values = &self.values;
        Ok(Measured {
            identity: match experiments.identity {
                true => Some(numerics::temperature_identity_given(
                    values,
                    &self.log_probs,
                    t,
                )?),
                false => None,
            },
            precision: match experiments.precision {
                Some((stored_t, reheat_t)) => Some(precision(values, stored_t, reheat_t)?),
                None => None,
            },
        })
    }
}

/// The panel's two experiments for one output ([`Output::experiments`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// As [`NextToken::identity`].
    pub identity: Option<(Vec<f32>, Vec<f32>, f32)>,
    /// As [`NextToken::precision`].
    pub precision: Option<Precision>,
}

/// What the next-token panel shows at one set of sampler settings; the figures of the values
/// alone are the [`Output`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct NextToken {
    /// The sampler chain at the current settings: final probs, cuts, the drawn token.
    pub sample: Sample,
    /// Entropy of the final (filtered) distribution, in nats and in bits.
    pub entropy_nats: f64,
    pub entropy_bits: f64,
    /// exp(entropy) of the final distribution: the number of equally likely ids with the same
    /// entropy. Not the model's exp(cross-entropy) on text.
    pub perplexity: f64,
    pub top: Top,
    /// softmax(z / T) and softmax(log_softmax(z) / T) at the current T (T = 0: both the
    /// one-hot of the argmax, lowest id on a tie), and their max |difference|; None when not
    /// asked for ([`Experiments`]).
    pub identity: Option<(Vec<f32>, Vec<f32>, f32)>,
    /// The precision experiment; None when not asked for ([`Experiments`]).
    pub precision: Option<Precision>,
}

/// [`finite_range`] and [`numerics::argmax`] of `v`, bit for bit, for `v` with no NaN and no
/// +∞ (checked values, or their log_softmax). Three passes that vectorise and a scan that stops
/// early, in place of one that branches on every entry: the largest entry is the maximum and
/// its first index the argmax; a sweep with strict comparisons keeps the first of equal entries
/// (0 and −0 alike), so each end is the first entry equal to the extreme.
fn range_and_argmax(v: &[f32]) -> (Option<(f32, f32)>, usize) {
    let m = numerics::max(v);
    let best = v.iter().position(|&x| x == m).unwrap_or(0);
    if m == f32::NEG_INFINITY || v.is_empty() {
        return (None, best);
    }
    let lowest = min_finite(v);
    let lo = v.iter().find(|&&x| x == lowest).copied().unwrap_or(lowest);
    (Some((lo, v[best])), best)
}

/// The smallest entry above −∞ of `v` (which has one, and no NaN), in four running minima.
fn min_finite(v: &[f32]) -> f32 {
    let smaller = |a: f32, x: f32| if x > f32::NEG_INFINITY && x < a { x } else { a };
    let mut m = [f32::INFINITY; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, &x) in m.iter_mut().zip(c) {
            *m = smaller(*m, x);
        }
    }
    for (m, &x) in m.iter_mut().zip(rest) {
        *m = smaller(*m, x);
    }
    smaller(smaller(m[0], m[1]), smaller(m[2], m[3]))
}

/// The smallest and largest finite entry of `v`, or None if it has none.
pub fn finite_range(v: &[f32]) -> Option<(f32, f32)> {
    v.iter()
        .filter(|x| x.is_finite())
        .fold(None, |r, &x| match r {
            None => Some((x, x)),
            Some((lo, hi)) => Some((if x < lo { x } else { lo }, if x > hi { x } else { hi })),
        })
}

/// Which of the panel's two experiments [`next_token`] computes. Each costs several passes of
/// `exp` over V, and depends on fewer settings than the bars: a caller that kept the last one
/// for the same values (and T, or stored T) leaves it out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Experiments {
    /// The temperature identity, at the sampler's T.
    pub identity: bool,
    /// The precision experiment: (stored T, re-heated T), both > 0.
    pub precision: Option<(f32, f32)>,
}

/// The next-token panel: `values` are what the model's forward returned (`opts.input` says
/// which kind), `top_n` ids are listed by name, and `experiments` says which experiments to
/// compute. The same as [`Output::new`], then [`Output::next_token`].
pub fn next_token(
    values: Vec<f32>,
    opts: &SampleOptions,
    top_n: usize,
    experiments: Experiments,
) -> Result<(Output, NextToken)> {
    // The options first, as `sampling::sample` checks them before the values.
    opts.validate()?;
    let output = Output::new(values, top_n)?;
    let panel = output.next_token(opts, experiments)?;
    Ok((output, panel))
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
    /// Ids this representation holds as probability 0 (log-prob −∞; for logits, z_i = −∞):
    /// lost in storage, so never drawn at any temperature.
    pub lost: usize,
    /// Ids at exactly 0 in the float32 result of re-heating to T: the lost ones, plus those
    /// whose probability at this T underflows float32 (p < 2^−149 rounds to 0). The second
    /// kind comes back at a higher T.
    pub zeros_at_t: usize,
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
            let lost = match input {
                Input::Probs => values.iter().filter(|&&x| x == 0.0).count(),
                _ => values.iter().filter(|&&x| x == f32::NEG_INFINITY).count(),
            };
            let max_diff = p
                .iter()
                .zip(&exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            Ok(Classified {
                representation,
                argmax,
                max_diff,
                lost,
                zeros_at_t: p.iter().filter(|&&x| x == 0.0).count(),
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
    /// Where the stable result is −∞, and why. It is −∞ exactly where z_i = −∞, or where
    /// z_i − max z overflows float32 (below −3.4·10^38, e.g. z = (3e38, −3e38)); everywhere
    /// else it is finite. `StableInfinities` counts the two kinds.
    pub stable_infinities: StableInfinities,
}

/// The −∞ entries of the stable log_softmax(z), by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StableInfinities {
    /// Entries with z_i = −∞: log_softmax is −∞ there in exact arithmetic too.
    pub of_infinite_z: usize,
    /// Entries with a finite z_i whose z_i − max z overflows float32 to −∞.
    pub of_overflow: usize,
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
    // exp overflows float32 above ln(max f32) = 88.72 (→ ∞, and ∞/∞ = NaN). The ratio
    // exp(z_i)/Σ rounds to 0 (→ ln 0 = −∞) when exp(z_i) underflows (z_i ≤ −150 ln 2), when the
    // sum overflows though no term does (z = (88, 88, 88)), or when the ratio itself is
    // ≤ 2^−150. The sum is accumulated in the same precision.
    let naive = |round: fn(f32) -> f32| -> Vec<f32> {
        let e: Vec<f32> = z.iter().map(|&x| round(round(x).exp())).collect();
        let sum = e.iter().fold(0.0f32, |s, &x| round(s + x));
        e.iter().map(|&x| round(round(x / sum).ln())).collect()
    };
    let mut stable_infinities = StableInfinities::default();
    for (&x, &y) in z.iter().zip(&stable) {
        if x == f32::NEG_INFINITY {
            stable_infinities.of_infinite_z += 1;
        } else if y == f32::NEG_INFINITY {
            stable_infinities.of_overflow += 1;
        }
    }
    Ok(Stability {
        naive_f32: naive(|x| x),
        naive_f16: naive(round_to_f16),
        stable,
        stable_infinities,
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

pub fn draws(values: &[f32], opts: &SampleOptions, n: usize) -> Result<Draws> {
    if !(1..=MAX_DRAWS).contains(&n) {
        return Err(Error::arg(
            "n",
            &format!("an integer in [1, {MAX_DRAWS}]"),
            n,
        ));
    }
    let seed = opts.seed.unwrap_or(0);
    let seeds = (0..n as u64).map(|i| (seed + i) % (MAX_SEED + 1));
    let (probs, tokens) = sampling::draws(values, opts, seeds)?;
    let mut counts = vec![0u32; values.len()];
    for t in tokens {
        counts[t] += 1;
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

/// crossEntropy(softmax) on one training text: the figures the training view's note states,
/// each decided here so that the page prints only the clauses that hold for this text.
#[derive(Debug, Clone, PartialEq)]
pub struct CeOnSoftmaxText {
    /// C = the text's distinct characters.
    pub ce: CeOnSoftmax,
    /// The two most frequent characters and their frequencies f1 ≥ f2.
    pub top: [(char, f64); 2],
    /// f1 − f2 > (e − 1)/(e + C − 1): then the best prediction that ignores the context is the
    /// one-hot on the most frequent character.
    pub leads: bool,
    /// ln(e + C − 1) − f1: the expected loss of predicting the most frequent character
    /// everywhere (one-hot).
    pub one_hot_loss: f64,
    /// The expected loss of one-hots that look at the previous character only, each on that
    /// character's most likely successor: ln(e + C − 1) − Σ_c P(c) max_x P(x | c), over the
    /// text's consecutive pairs. An upper bound on what the optimum reaches with a context.
    pub previous_char_loss: f64,
}

/// The figures of crossEntropy(softmax) on `text`, which needs at least 2 distinct characters.
///
/// Its expected loss in a context with next-character distribution q is f(p) = −q·p +
/// ln Σ_j exp(p_j) (see [`CeOnSoftmax`]), lowest at the one-hot on that context's most likely
/// character whenever it leads the runner-up by more than the margin: the optimum is a one-hot
/// per context, not on the text's most frequent character. A run that predicts one character
/// everywhere is a stall: at a one-hot, softmax's Jacobian diag(p) − p pᵀ vanishes, and with
/// it the gradient that would teach the context.
pub fn ce_on_softmax_text(text: &str) -> Result<CeOnSoftmaxText> {
    let freq = char_frequencies(text);
    if freq.len() < 2 {
        return Err(Error::arg(
            "text",
            "a text with at least 2 distinct characters",
            format!("{} distinct", freq.len()),
        ));
    }
    let ce = CeOnSoftmax {
        classes: freq.len(),
    };
    let (f1, f2) = (freq[0].1, freq[1].1);
    let mut pairs: std::collections::HashMap<(char, char), u64> = Default::default();
    let mut chars = text.chars();
    let mut prev = chars.next();
    let mut n = 0u64;
    for c in chars {
        if let Some(p) = prev {
            *pairs.entry((p, c)).or_default() += 1;
            n += 1;
        }
        prev = Some(c);
    }
    let mut best: std::collections::HashMap<char, u64> = Default::default();
    for (&(p, _), &k) in &pairs {
        let b = best.entry(p).or_default();
        *b = (*b).max(k);
    }
    let hits: u64 = best.values().sum();
    let ln_e_c = (E + ce.classes as f64 - 1.0).ln();
    Ok(CeOnSoftmaxText {
        top: [freq[0], freq[1]],
        leads: f1 - f2 > ce.one_hot_margin(),
        one_hot_loss: ce.one_hot_loss(f1),
        previous_char_loss: ln_e_c - hits as f64 / n.max(1) as f64,
        ce,
    })
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

/// How a typed vector writes its numbers; the page's language decides which one it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notation {
    /// `2, 1, 0.5`: a decimal point; commas, semicolons or spaces between entries. The
    /// English page's, and the URL's.
    #[default]
    DecimalPoint,
    /// `2; 1; 0,5`: a decimal comma; semicolons or spaces between entries. The Vietnamese
    /// page's.
    DecimalComma,
}

impl Notation {
    /// What goes between two entries when this notation writes a vector.
    pub fn separator(self) -> &'static str {
        match self {
            Notation::DecimalPoint => ", ",
            Notation::DecimalComma => "; ",
        }
    }

    /// The entries of `text`, as typed (empty ones skipped).
    fn items(self, text: &str) -> impl Iterator<Item = &str> {
        text.split(move |c: char| {
            c == ';' || c.is_whitespace() || (c == ',' && self == Notation::DecimalPoint)
        })
        .filter(|s| !s.is_empty())
    }
}

/// Reads a typed vector in `notation`: `2, 1, 0.5` or `2; 1; 0,5`; `x*n` (or `x×n`) repeats
/// x n times, so a 50 000-entry vector fits in a URL: `100, 0*49999`. At most [`MAX_VALUES`]
/// entries. What could be read two ways is an error, not a guess: with a decimal comma, `0.5`,
/// `2,1,0,5` and `1, 2`; with a decimal point, a comma between two digits in a text that puts
/// `;` between its entries (`1; 1,001`).
pub fn parse_values(argument: &str, text: &str, notation: Notation) -> Result<Vec<f32>> {
    if notation == Notation::DecimalPoint && text.contains(';') {
        if let Some(item) = text
            .split(|c: char| c == ';' || c.is_whitespace())
            .find(|w| {
                w.as_bytes()
                    .windows(3)
                    .any(|b| b[0].is_ascii_digit() && b[1] == b',' && b[2].is_ascii_digit())
            })
        {
            return Err(Error::new(format!(
                "{argument}: {} has a comma between two digits, and `;` separates the \
                 entries: is it a decimal comma? Here the decimal mark is a dot (1.001) and \
                 commas separate entries (1, 001)",
                brief(&format_args!("{item:?}"))
            ))
            .coded(Code::ValuesAmbiguousComma, [("item", item.into())]));
        }
    }
    let example = match notation {
        Notation::DecimalPoint => "2, -1.5, 1e3, -Infinity",
        Notation::DecimalComma => "2; -1,5; 1e3; -Infinity",
    };
    let mut out = Vec::new();
    for (i, item) in notation.items(text).enumerate() {
        let bad_count = || {
            Error::new(format!(
                "{argument}: in {}, the count after * must be an integer >= 1",
                brief(&format_args!("{item:?}"))
            ))
            .coded(Code::ValuesBadCount, [("item", item.into())])
        };
        let (x, n) = match item.split_once(['*', '×']) {
            Some((x, n)) => (x, n.parse::<usize>().map_err(|_| bad_count())?),
            None => (item, 1),
        };
        let number = match notation {
            Notation::DecimalPoint => x.to_string(),
            Notation::DecimalComma => decimal_comma(argument, item, x)?,
        };
        let x = parse_number(&number).ok_or_else(|| {
            Error::new(format!(
                "{argument}[{}] is {}, not a number (write e.g. {example})",
                out.len(),
                brief(&format_args!("{x:?}"))
            ))
            .coded(
                Code::ValuesNotNumber,
                [("index", out.len().to_string().into()), ("value", x.into())],
            )
        })?;
        if n == 0 {
            return Err(bad_count());
        }
        if out.len().saturating_add(n) > MAX_VALUES {
            return Err(Error::new(format!(
                "{argument} has more than {MAX_VALUES} entries (at item {}, {item:?}); at most \
                 {MAX_VALUES} are accepted",
                i + 1
            ))
            .coded(Code::ValuesTooMany, [("max", MAX_VALUES.into())]));
        }
        out.extend(std::iter::repeat_n(x, n));
    }
    if out.is_empty() {
        return Err(Error::new(format!(
            "{argument} must not be empty (it needs one entry per token)"
        ))
        .coded(Code::ValuesEmpty, []));
    }
    Ok(out)
}

/// `x`, an entry of `item` written with a decimal comma, with a decimal point instead; an
/// error if it could mean something else.
fn decimal_comma(argument: &str, item: &str, x: &str) -> Result<String> {
    let quoted = brief(&format_args!("{item:?}"));
    if x.contains('.') {
        return Err(Error::new(format!(
            "{argument}: {quoted} has a dot; with a decimal comma write e.g. 0,5, and separate \
             entries with `;`"
        ))
        .coded(Code::ValuesDotInCommaNotation, [("item", item.into())]));
    }
    if x.matches(',').count() > 1 {
        return Err(Error::new(format!(
            "{argument}: {quoted} has more than one comma; the comma is the decimal mark, so \
             separate entries with `;`: 2; 1; 0,5"
        ))
        .coded(Code::ValuesManyCommas, [("item", item.into())]));
    }
    if x.ends_with(',') {
        return Err(Error::new(format!(
            "{argument}: {quoted} has a comma at the end of a number; the comma is the decimal \
             mark, so separate entries with `;`: 1; 2"
        ))
        .coded(Code::ValuesTrailingComma, [("item", item.into())]));
    }
    Ok(x.replace(',', "."))
}

/// A typed vector in notation `from`, written in notation `to`: the same entries, each as it
/// was typed (`0*49999`, `1e3`, `−2`) with its decimal mark changed, `to`'s separator between
/// them. An error, as [`parse_values`] gives it, if `text` does not read in `from`.
pub fn translate_values(
    argument: &str,
    text: &str,
    from: Notation,
    to: Notation,
) -> Result<String> {
    parse_values(argument, text, from)?;
    if from == to {
        return Ok(text.to_string());
    }
    let (old, new) = match to {
        Notation::DecimalComma => ('.', ','),
        Notation::DecimalPoint => (',', '.'),
    };
    let items: Vec<String> = from
        .items(text)
        .map(|item| item.replace(old, &new.to_string()))
        .collect();
    Ok(items.join(to.separator()))
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
    use crate::error::Param;
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
        assert_eq!(ln, ["-104.0", "-92.9", "-17.3"]);
        // The page prints them rounded down, so that "every ln p ≤ this is 0" stays true:
        // −17.3 would not be (ln p = −17.31 is kept by float16).
        let shown: Vec<String> = ZERO_THRESHOLDS
            .iter()
            .map(|t| format!("{:.2}", t.ln_p_shown()))
            .collect();
        assert_eq!(shown, ["-103.98", "-92.89", "-17.33"]);
        for th in ZERO_THRESHOLDS {
            let p = th.ln_p_shown().exp();
            assert_eq!(th.format.round(p as f32), 0.0, "{:?}", th.format);
            assert!(th.ln_p() - th.ln_p_shown() < 0.01);
        }
        assert!(f16_keeps(-17.31));
        // bfloat16 with subnormals flushed: every p < 2^−126 is lost, so ln p < −87.34.
        assert_eq!(format!("{:.2}", bf16_flush_ln_p_shown()), "-87.34");
        assert!(bf16_flush_ln_p_shown().exp() < 2f64.powi(BF16_FLUSH_LOG2_P));
    }

    fn f16_keeps(ln_p: f64) -> bool {
        Format::F16.round(ln_p.exp() as f32) > 0.0
    }

    #[test]
    fn the_minimum_is_printed_on_the_side_the_counts_found() {
        // Two ids, p_1 = e^δ / (1 + e^δ) with δ = z_1 − z_0: ln p_1 sits just above or just
        // below float16's threshold, −17.3287.
        for (ln_p1, zeros) in [(-17.325f64, false), (-17.3295, true), (-17.32, false)] {
            // ln p_1 = δ − ln(1 + e^δ) ≈ δ for δ ≪ 0.
            let d = ln_p1 + (1.0 + ln_p1.exp()).ln();
            let r = precision(&[0.0, d as f32], 1.0, 1.0).unwrap();
            assert_eq!(r.stores_zeros(), [false, false, zeros], "{ln_p1}");
            let shown = r.min_log_prob_shown();
            let th = ZERO_THRESHOLDS[2].ln_p_shown();
            // Printed with 2 decimals, "min ≤ threshold" holds exactly when float16 lost an id.
            let (s, t) = (format!("{shown:.2}"), format!("{th:.2}"));
            let below: f64 = s.parse().unwrap();
            assert_eq!(below <= t.parse::<f64>().unwrap(), zeros, "{s} vs {t}");
        }
        // Far from every threshold, the nearest rounding: ln p = −3.7177 is −3.72.
        let r = precision(&[0.0, 1e-9, -3.0], 1.0, 1.0).unwrap();
        assert_eq!(format!("{:.2}", r.min_log_prob_shown()), "-3.72");
    }

    #[test]
    fn classify_separates_ids_lost_in_storage_from_underflow_at_this_t() {
        // z_i = −i/2 for 84 ids: at T = 0.05 the tail underflows float32 in every row, logits
        // included, yet only the stored probabilities have lost ids.
        let z: Vec<f32> = (0..84).map(|i| -(i as f32) / 2.0).collect();
        let rows = classify(&z, 0.05).unwrap();
        for r in &rows {
            assert!(r.zeros_at_t > 0, "{r:?}");
            assert!(r.zeros_at_t >= r.lost, "{r:?}");
        }
        let lost: Vec<usize> = rows.iter().map(|r| r.lost).collect();
        // logits, log-probs and float32 keep all 84 (p_83 = e^−41.5 ≈ 1e−18); bfloat16 too
        // (≥ 2^−133); float16 loses p ≤ 2^−25: ln p_i = −i/2 − ln(1/(1 − e^−1/2)) ≤ −17.33
        // for i ≥ 33, so 51 ids.
        assert_eq!(lost, [0, 0, 0, 0, 51]);
        // At T = 3 the underflow is gone; the lost ids stay lost.
        let rows = classify(&z, 3.0).unwrap();
        let at_t: Vec<usize> = rows.iter().map(|r| r.zeros_at_t).collect();
        assert_eq!(at_t, [0, 0, 0, 0, 51]);
        // A logit of −∞ is lost from the start.
        let rows = classify(&[0.0, f32::NEG_INFINITY], 1.0).unwrap();
        assert_eq!((rows[0].lost, rows[1].lost), (1, 1));
    }

    #[test]
    fn stable_log_softmax_is_minus_infinity_exactly_where_z_is_or_z_minus_max_overflows() {
        let s = stability(&[3e38, -3e38]).unwrap();
        assert_eq!(s.stable[1], f32::NEG_INFINITY);
        assert_eq!(
            s.stable_infinities,
            StableInfinities {
                of_infinite_z: 0,
                of_overflow: 1
            }
        );
        // 0 − 3.3e38 fits in float32; −3.3e38 − 3.3e38 does not.
        let s = stability(&[0.0, f32::NEG_INFINITY, -3.3e38, 3.3e38]).unwrap();
        assert!(s.stable[0].is_finite());
        assert_eq!(
            s.stable_infinities,
            StableInfinities {
                of_infinite_z: 1,
                of_overflow: 1
            }
        );
        // Far apart but within float32's range: finite.
        let s = stability(&[1e38, -1e38]).unwrap();
        assert!(s.stable.iter().all(|x| x.is_finite()), "{:?}", s.stable);
        assert_eq!(s.stable_infinities, StableInfinities::default());
    }

    #[test]
    fn naive_log_softmax_is_minus_infinity_where_the_sum_overflows() {
        // No exp overflows (88 < 88.72), but their sum does: every ratio rounds to 0.
        let s = stability(&[88.0, 88.0, 88.0]).unwrap();
        assert_eq!(Stability::broken(&s.naive_f32), (0, 3));
        assert!(s.stable.iter().all(|x| x.is_finite()));
        // In float16, exp(11) = 59 874 fits, two of them do not (max 65 504).
        let s = stability(&[11.0, 11.0]).unwrap();
        assert_eq!(Stability::broken(&s.naive_f16), (0, 2));
        assert_eq!(Stability::broken(&s.naive_f32), (0, 0));
    }

    #[test]
    fn greedy_picks_differ_on_a_near_tie_below_float32_resolution() {
        let opts = SampleOptions {
            temperature: 0.0,
            seed: Some(0),
            ..SampleOptions::default()
        };
        let both = Experiments {
            identity: true,
            precision: Some((1.0, 3.0)),
        };
        let (o, r) = next_token(vec![0.0, 1e-9], &opts, 2, both).unwrap();
        assert_eq!(o.log_probs[0], o.log_probs[1]);
        assert_eq!(o.greedy, (1, 0));
        // The identity panel's two one-hots then differ.
        assert_eq!(r.identity.unwrap().2, 1.0);
        // Left out when not asked for, the rest unchanged.
        let none = Experiments {
            identity: false,
            precision: None,
        };
        let (bare_o, bare) = next_token(vec![0.0, 1e-9], &opts, 2, none).unwrap();
        assert_eq!((bare.identity, bare.precision), (None, None));
        assert_eq!((bare_o, bare.top, bare.sample), (o, r.top, r.sample));
        let (o, _) = next_token(vec![0.0, 1e-3], &opts, 2, both).unwrap();
        assert_eq!(o.greedy, (1, 1));
        // The classification table shows the same.
        let rows = classify(&[0.0, 1e-9], 1.0).unwrap();
        assert_eq!((rows[0].argmax, rows[1].argmax), (1, 0));
    }

    #[test]
    fn ce_on_softmax_text_states_only_what_holds() {
        // 'abc' × 1000: no character leads, and looking at the previous character predicts
        // every next one: the one-hots reach the floor.
        let r = ce_on_softmax_text(&"abc".repeat(1000)).unwrap();
        assert!(!r.leads);
        assert_eq!(r.top.map(|(c, _)| c), ['a', 'b']);
        assert!((r.previous_char_loss - r.ce.floor()).abs() < 1e-12);
        // Two distinct characters at least.
        assert!(ce_on_softmax_text("aaaa").is_err());
        assert!(ce_on_softmax_text("").is_err());
        // A text where one character leads by more than the margin.
        let r = ce_on_softmax_text("aaaaaaab").unwrap();
        assert!(r.leads);
        assert!((r.one_hot_loss - r.ce.one_hot_loss(7.0 / 8.0)).abs() < 1e-12);
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

    /// The precision experiment as the four stored vectors and their re-heated softmax give it,
    /// every one of them made in full.
    fn precision_in_full(z: &[f32], stored_t: f32, reheat_t: f32) -> Result<Precision> {
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
        let lost = (stored.log_probs.iter())
            .filter(|&&x| x == f32::NEG_INFINITY)
            .count();
        let rows = [
            from_probs(&stored.f32)?,
            from_probs(&stored.bf16)?,
            from_probs(&stored.f16)?,
            Reheated {
                stored_zeros: lost,
                zeros_after: zeros(&numerics::softmax(&stored.log_probs, ratio)?),
            },
        ];
        let min_log_prob = (stored.log_probs.iter())
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, |m, &x| m.min(x as f64));
        Ok(Precision { rows, min_log_prob })
    }

    #[test]
    fn the_rest_is_every_id_not_shown() {
        let mut rng = crate::rng::Rng::new(5);
        for v in [1usize, 2, 13, 500] {
            let probs: Vec<f32> = (0..v).map(|_| rng.next_f64() as f32).collect();
            let cut: Vec<bool> = (0..v).map(|_| rng.below(3) == 0).collect();
            for n in [0, 1, 5, v] {
                // n distinct ids in no particular order, the first and the last among them.
                let mut ids: Vec<u32> = (0..v as u32).rev().collect();
                ids.rotate_left(v / 3);
                ids.truncate(n);
                let others = || (0..v).filter(|i| !ids.contains(&(*i as u32)));
                let mass: f64 = others().map(|i| probs[i] as f64).sum();
                let cuts = others().filter(|&i| cut[i]).count();
                assert_eq!(
                    rest(&ids, &probs, |i| cut[i]),
                    (mass, cuts),
                    "V {v}, {ids:?}"
                );
            }
        }
    }

    #[test]
    fn precision_counts_as_the_stored_vectors_do() {
        let mut rng = crate::rng::Rng::new(11);
        let mut cases: Vec<Vec<f32>> = Vec::new();
        // Wide and narrow logits, some −∞, long and short vocabularies.
        for (n, scale) in [
            (40, 1.0),
            (300, 4.0),
            (3000, 12.0),
            (3000, 40.0),
            (20_000, 3.0),
        ] {
            cases.push(
                (0..n)
                    .map(|i| match i % 97 {
                        13 => f32::NEG_INFINITY,
                        _ => (rng.normal() * scale) as f32,
                    })
                    .collect(),
            );
        }
        // Two ids with ln p_1 on, just below and just above each threshold, inside the band and
        // at its edges: ln p_1 = δ − ln(1 + e^δ).
        for th in ZERO_THRESHOLDS {
            for off in [-2e-3, -1e-3, -1e-5, -1e-9, 0.0, 1e-9, 1e-5, 1e-3, 2e-3] {
                let ln_p1: f64 = th.ln_p() + off;
                let d = ln_p1 + (1.0 + ln_p1.exp()).ln();
                cases.push(vec![0.0, d as f32, d as f32, (d - 1e-4) as f32]);
            }
        }
        // Every f32 step of z_1 across float16's threshold (ln 2^−25 = −17.3287).
        let mut x = -17.3f32;
        while x > -17.36 {
            cases.push(vec![0.0, x]);
            x = f32::from_bits(x.to_bits() + 2000);
        }
        // The page's range of stored T (0.05 to 3, re-heated to 3), and re-heating colder.
        for z in &cases {
            for (st, rt) in [
                (1.0, 3.0),
                (0.05, 3.0),
                (0.3, 3.0),
                (2.5, 3.0),
                (3.0, 3.0),
                (1.0, 0.5),
            ] {
                assert_eq!(
                    precision(z, st, rt).unwrap(),
                    precision_in_full(z, st, rt).unwrap(),
                    "T {st} → {rt}, z of {} ({:?}…)",
                    z.len(),
                    &z[..z.len().min(4)]
                );
            }
        }
        // The same errors.
        for (z, st, rt) in [
            (vec![1.0, f32::NAN], 1.0, 3.0),
            (vec![1.0], 0.0, 3.0),
            (vec![1.0], 1.0, 0.0),
            (vec![1.0, 2.0], 1e-30, 1e30),
        ] {
            let (a, b) = (precision(&z, st, rt), precision_in_full(&z, st, rt));
            assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
        }
    }

    #[test]
    fn reheating_uses_the_absolute_temperature() {
        // z_i = −i: stored at T = 0.5, the log-probs are −2i − const. Re-heated to an absolute
        // T = 3 they must give softmax(z / 3), not softmax(z / 1.5).
        let z: Vec<f32> = (0..40).map(|i| -(i as f32)).collect();
        let r = precision(&z, 0.5, 3.0).unwrap();
        let ratio = 3.0 / 0.5;
        let stored = numerics::stored_precisions(&z, 0.5).unwrap();
        let reheated = numerics::softmax(&stored.log_probs, ratio).unwrap();
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
        let parse = |t: &str| parse_values("z", t, Notation::DecimalPoint);
        assert_eq!(parse("2, 1 0.5;-1").unwrap(), vec![2.0, 1.0, 0.5, -1.0]);
        assert_eq!(
            parse("1e3, −2, -Infinity").unwrap(),
            vec![1e3, -2.0, f32::NEG_INFINITY]
        );
        let v = parse("100, 0*49999").unwrap();
        assert_eq!((v.len(), v[0], v[49_999]), (50_000, 100.0, 0.0));
        assert_eq!(parse("7×3").unwrap(), vec![7.0; 3]);
        // Commas separate entries, as they always have on the English page.
        assert_eq!(parse("1,5").unwrap(), vec![1.0, 5.0]);
        assert_eq!(parse("2,1,0.5").unwrap(), vec![2.0, 1.0, 0.5]);
        let err = |t: &str| parse(t).unwrap_err().to_string();
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

    /// The Vietnamese page's notation: `;` between entries, a decimal comma.
    #[test]
    fn typed_vectors_with_a_decimal_comma() {
        let parse = |t: &str| parse_values("z", t, Notation::DecimalComma);
        assert_eq!(
            parse("2; 1; 0,5; −1; −3").unwrap(),
            vec![2.0, 1.0, 0.5, -1.0, -3.0]
        );
        assert_eq!(parse("1; 1,001").unwrap(), vec![1.0, 1.001]);
        assert_eq!(parse("2 1 0,5").unwrap(), vec![2.0, 1.0, 0.5]);
        assert_eq!(parse("1;2,5").unwrap(), vec![1.0, 2.5]);
        assert_eq!(
            parse("0,5*3; -Infinity").unwrap(),
            vec![0.5, 0.5, 0.5, f32::NEG_INFINITY]
        );
        let v = parse("100; 0*49999").unwrap();
        assert_eq!((v.len(), v[0], v[49_999]), (50_000, 100.0, 0.0));
        assert_eq!(parse("1e-3; ,5").unwrap(), vec![1e-3, 0.5]);
        // Each reading that could be a guess is an error with its code.
        let code = |t: &str| {
            let e = parse(t).unwrap_err();
            (e.code().map(Code::name), e.params().to_vec())
        };
        let item = |s: &str| vec![("item", Param::Text(s.into()))];
        assert_eq!(
            code("2; 0.5"),
            (Some("values.dotInCommaNotation"), item("0.5"))
        );
        assert_eq!(
            code("1.000"),
            (Some("values.dotInCommaNotation"), item("1.000"))
        );
        assert_eq!(
            code("2,1,0,5"),
            (Some("values.manyCommas"), item("2,1,0,5"))
        );
        assert_eq!(code("1, 2"), (Some("values.trailingComma"), item("1,")));
        assert_eq!(
            code("1; oops"),
            (
                Some("values.notNumber"),
                vec![
                    ("index", Param::Text("1".into())),
                    ("value", Param::Text("oops".into()))
                ]
            )
        );
        assert_eq!(code(" ; "), (Some("values.empty"), vec![]));
        assert_eq!(code("1*0"), (Some("values.badCount"), item("1*0")));
        assert_eq!(
            code("0*99999999"),
            (Some("values.tooMany"), vec![("max", Param::Int(1 << 22))])
        );
        assert_eq!(
            parse("1; oops").unwrap_err().to_string(),
            "z[1] is \"oops\", not a number (write e.g. 2; -1,5; 1e3; -Infinity)"
        );
    }

    /// The English page's notation refuses what reads as the Vietnamese one.
    #[test]
    fn a_decimal_comma_on_the_english_page_is_an_error() {
        let parse = |t: &str| parse_values("z", t, Notation::DecimalPoint);
        for (text, item) in [
            ("1; 1,001", "1,001"),
            ("2;1;0,5;-1", "0,5"),
            ("1,5; 2", "1,5"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.code(), Some(Code::ValuesAmbiguousComma), "{text}");
            assert_eq!(e.params(), [("item", Param::Text(item.into()))], "{text}");
        }
        assert_eq!(parse("1; 1.001").unwrap(), vec![1.0, 1.001]);
        assert_eq!(parse("1, 001; 2").unwrap(), vec![1.0, 1.0, 2.0]);
        assert_eq!(
            parse("1, oops").unwrap_err().code(),
            Some(Code::ValuesNotNumber)
        );
    }

    #[test]
    fn typed_vectors_move_between_notations() {
        let (point, comma) = (Notation::DecimalPoint, Notation::DecimalComma);
        let to_comma = |t: &str| translate_values("z", t, point, comma).unwrap();
        let to_point = |t: &str| translate_values("z", t, comma, point).unwrap();
        assert_eq!(to_comma("2, 1, 0.5, -1, -3"), "2; 1; 0,5; -1; -3");
        assert_eq!(to_comma("1, 1.001"), "1; 1,001");
        assert_eq!(to_comma("100, 0*49999"), "100; 0*49999");
        assert_eq!(to_comma("1e-3 −2.5;-Infinity"), "1e-3; −2,5; -Infinity");
        assert_eq!(to_point("2; 1; 0,5; −1; −3"), "2, 1, 0.5, −1, −3");
        assert_eq!(to_point("1; 1,001"), "1, 1.001");
        for text in [
            "2, 1, 0.5, -1, -3",
            "1, 1.001",
            "100, 0*49999",
            "0.25*3 7e-2",
        ] {
            let back = to_comma(text);
            assert_eq!(
                parse_values("z", &back, comma).unwrap(),
                parse_values("z", text, point).unwrap(),
                "{text} → {back}"
            );
            assert_eq!(
                parse_values("z", &to_point(&back), point).unwrap(),
                parse_values("z", text, point).unwrap()
            );
        }
        // Text that does not read is not rewritten.
        assert_eq!(
            translate_values("z", "1, oops", point, comma)
                .unwrap_err()
                .code(),
            Some(Code::ValuesNotNumber)
        );
        assert_eq!(translate_values("z", "2 ,1", point, point).unwrap(), "2 ,1");
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
    fn draws_are_the_tokens_of_one_sample_per_seed() {
        // One chain and a shared walk against `sample` once per seed, over filters that keep
        // every id, a list of ids, one id, and probabilities that underflow to 0.
        let mut rng = crate::rng::Rng::new(7);
        let z: Vec<f32> = (0..3000)
            .map(|_| (rng.next_f64() * 12.0 - 6.0) as f32)
            .collect();
        let mut steep = z.clone();
        steep[5] = 200.0;
        let cases = [
            (z.clone(), 1.0, 0, 1.0, 0.0),
            (z.clone(), 0.7, 50, 0.9, 0.0),
            (z.clone(), 1.3, 0, 0.5, 0.05),
            (z.clone(), 0.0, 0, 1.0, 0.0),
            (steep, 0.01, 0, 1.0, 0.0),
        ];
        for (values, temperature, top_k, top_p, min_p) in cases {
            let opts = SampleOptions {
                temperature,
                top_k,
                top_p,
                min_p,
                seed: Some(MAX_SEED - 100),
                ..SampleOptions::default()
            };
            let d = draws(&values, &opts, 400).unwrap();
            let mut counts = vec![0u32; values.len()];
            for i in 0..400 {
                let o = SampleOptions {
                    seed: Some((MAX_SEED - 100 + i) % (MAX_SEED + 1)),
                    ..opts.clone()
                };
                let s = sampling::sample(&values, &o).unwrap();
                counts[s.token] += 1;
                if i == 0 {
                    assert_eq!(d.probs, s.probs, "T {temperature}");
                }
            }
            assert_eq!(
                d.counts, counts,
                "T {temperature}, top-k {top_k}, top-p {top_p}"
            );
        }
    }

    #[test]
    fn top_ids_and_the_rest() {
        let lp = numerics::log_softmax(&[0.0, 3.0, 1.0, 3.0, -2.0]).unwrap();
        assert_eq!(top_ids(&lp, 3), vec![1, 3, 2]);
        // The one-pass path (n ≤ 64) and the selection (n > 64) agree, ties and −∞ included.
        let mut rng = crate::rng::Rng::new(3);
        let scores: Vec<f32> = (0..5000)
            .map(|i| match i % 7 {
                0 => f32::NEG_INFINITY,
                1 => 2.5,
                _ => (rng.next_f64() * 8.0).round() as f32 / 2.0,
            })
            .collect();
        for n in [0, 1, 12, 64] {
            let mut by_sort: Vec<u32> = (0..scores.len() as u32).collect();
            by_sort.sort_by(|&a, &b| {
                scores[b as usize]
                    .total_cmp(&scores[a as usize])
                    .then(a.cmp(&b))
            });
            by_sort.truncate(n);
            assert_eq!(top_ids(&scores, n), by_sort, "n = {n}");
            assert_eq!(top_ids(&scores, 65)[..n], by_sort[..], "n = {n}");
        }
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

    #[test]
    fn range_and_argmax_is_finite_range_and_argmax() {
        let cases: [&[f32]; 10] = [
            &[0.0, -0.0, 1.0, 1.0, -3.0],
            &[f32::NEG_INFINITY, -0.0, 0.0, f32::NEG_INFINITY],
            &[f32::NEG_INFINITY, f32::NEG_INFINITY],
            &[-3e38, 3e38, 2.0, 3e38],
            &[5.0],
            &[-1.0, -2.0, f32::NEG_INFINITY, -1.0, -0.5],
            // Equal extremes in different lanes, signed zeros first one way then the other.
            &[-1.0, 0.0, -1.0, -1.0, -0.0, 1.0, 1.0, -2.0, -2.0],
            &[1.0, -0.0, 1.0, 1.0, 0.0, -1.0, 0.0, -0.0, -0.0],
            &[
                3.0,
                2.0,
                1.0,
                0.0,
                -0.0,
                2.0,
                3.0,
                -0.0,
                0.0,
                f32::NEG_INFINITY,
            ],
            &[
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                -7.0,
            ],
        ];
        for v in cases {
            let (range, best) = range_and_argmax(v);
            assert_eq!(
                range.map(|(a, b)| (a.to_bits(), b.to_bits())),
                finite_range(v).map(|(a, b)| (a.to_bits(), b.to_bits())),
                "{v:?}"
            );
            assert_eq!(best, numerics::argmax(v), "{v:?}");
        }
    }

    /// One [`Output`] kept for many settings (as the page keeps one per token while the
    /// sliders move) gives, at each, what the passes it saves give when run afresh: the
    /// log_softmax, the top ids and the rest under that setting's sample, the scales and the
    /// greedy picks, bit for bit.
    #[test]
    fn a_kept_output_gives_what_a_fresh_computation_gives() {
        let mut z: Vec<f32> = (0..500)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        z[7] = f32::NEG_INFINITY;
        z[400] = z[3]; // a tie
        let kept = Output::new(z.clone(), 12).unwrap();
        let log_probs = numerics::log_softmax(&z).unwrap();
        assert_eq!(kept.log_probs, log_probs);
        assert_eq!(kept.top_ids, top_ids(&log_probs, 12));
        assert_eq!(kept.value_range, finite_range(&z));
        assert_eq!(kept.log_prob_range, finite_range(&log_probs));
        assert_eq!(
            kept.greedy,
            (numerics::argmax(&z), numerics::argmax(&log_probs))
        );
        let both = Experiments {
            identity: true,
            precision: Some((0.7, 3.0)),
        };
        for (t, k, p, m) in [
            (0.8, 0, 0.9, 0.0),
            (0.8, 0, 0.95, 0.0),
            (0.0, 0, 1.0, 0.0),
            (1.0, 40, 0.5, 0.05),
            (2.0, 3, 1.0, 0.0),
            (0.3, 0, 0.0, 0.2),
        ] {
            let opts = SampleOptions {
                temperature: t,
                top_k: k,
                top_p: p,
                min_p: m,
                seed: Some(5),
                ..SampleOptions::default()
            };
            let r = kept.next_token(&opts, both).unwrap();
            let sample = sampling::sample(&z, &opts).unwrap();
            assert_eq!(
                r.top,
                top(&log_probs, &sample, 12),
                "T={t} k={k} p={p} m={m}"
            );
            assert_eq!(r.sample, sample);
            assert_eq!(
                r.identity,
                Some(numerics::temperature_identity_given(&z, &log_probs, t).unwrap())
            );
            assert_eq!(r.precision, Some(precision(&z, 0.7, 3.0).unwrap()));
            // The experiments alone, asked for apart from the bars, are the same.
            let apart = kept.experiments(t, both).unwrap();
            assert_eq!(
                (&apart.identity, &apart.precision),
                (&r.identity, &r.precision)
            );
            let none = Experiments {
                identity: false,
                precision: None,
            };
            let bare = kept.experiments(t, none).unwrap();
            assert_eq!((bare.identity, bare.precision), (None, None));
            // And `next_token`, which makes its own.
            assert_eq!(
                next_token(z.clone(), &opts, 12, both).unwrap(),
                (kept.clone(), r)
            );
        }
    }
}

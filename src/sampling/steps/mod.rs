//! What each [`Step`] does to the [`Pool`]: one file per sampler (or per pair of siblings),
//! each function reading like its reference (named in the step's doc). Each returns the mass its
//! cut ids had in the distribution it was handed (0 for a step that only changes scores).

use super::chain::Step;
use super::pool::Pool;
use crate::rng::Rng;

mod dry;
mod epsilon;
mod history;
mod logit_bias;
mod min_p;
mod mirostat;
mod no_repeat_ngram;
mod penalties;
mod repetition_penalty;
mod temperature;
mod top_k;
mod top_n_sigma;
mod top_p;
mod typical;
mod xtc;

/// What a step may read besides the pool: the ids so far, the generator (XTC's coin) and
/// Mirostat's μ.
pub struct Context<'a> {
    pub history: &'a [u32],
    pub rng: &'a mut Rng,
    pub mu: &'a mut f32,
}

/// Runs `step`, whose cut code is `code`, on `pool`.
pub fn apply(step: &Step, pool: &mut Pool, code: u8, cx: &mut Context) -> f64 {
    if pool.kept == 0 {
        return 0.0;
    }
    match *step {
        Step::Temperature { t } => temperature::temperature(pool, code, t),
        Step::DynamicTemperature { t, range, exponent } => {
            temperature::dynamic_temperature(pool, code, t, range, exponent)
        }
        Step::TopK { k, rule } => top_k::top_k(pool, code, k as usize, rule),
        Step::TopP { p, min_keep } => top_p::top_p(pool, code, p, min_keep as usize),
        Step::MinP { p, min_keep } => min_p::min_p(pool, code, p, min_keep as usize),
        Step::Typical { p, min_keep, rule } => {
            typical::typical(pool, code, p, min_keep as usize, rule)
        }
        Step::Epsilon { epsilon } => epsilon::epsilon_cut(pool, code, epsilon as f64),
        Step::Eta { epsilon } => epsilon::eta(pool, code, epsilon),
        Step::TopNSigma { n } => top_n_sigma::top_n_sigma(pool, code, n),
        Step::Xtc {
            probability,
            threshold,
            min_keep,
        } => xtc::xtc(
            pool,
            code,
            probability,
            threshold,
            min_keep as usize,
            cx.rng,
        ),
        Step::RepetitionPenalty { penalty } => {
            repetition_penalty::repetition_penalty(pool, penalty, cx.history)
        }
        Step::Penalties {
            last_n,
            repeat,
            frequency,
            presence,
        } => penalties::penalties(pool, cx.history, last_n, repeat, frequency, presence),
        Step::NoRepeatNgram { n } => {
            no_repeat_ngram::no_repeat_ngram(pool, code, n as usize, cx.history)
        }
        Step::Dry {
            multiplier,
            base,
            allowed_length,
            last_n,
            ref breakers,
        } => {
            let dry = dry::Dry {
                multiplier,
                base,
                allowed_length: allowed_length as usize,
                last_n,
                breakers,
            };
            dry.apply(pool, cx.history)
        }
        Step::LogitBias { ref bias } => logit_bias::logit_bias(pool, code, bias),
        Step::Mirostat { m, .. } => mirostat::mirostat(pool, code, m as usize, *cx.mu),
        Step::MirostatV2 { .. } => mirostat::mirostat_v2(pool, code, *cx.mu),
    }
}

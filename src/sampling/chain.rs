//! The sampler chain as data: a list of [`Step`]s, each one sampler with its parameters, run in
//! order by [`super::workbench::Sampler`]. Two presets give the two references' default chains:
//! Hugging Face transformers' `generate` (its `GenerationConfig` defaults, warpers in its order)
//! and llama.cpp's (`common_params_sampling` in its `common/common.h`).
//!
//! A chain comes from JS as plain objects (`{ kind: 'topK', k: 40 }`), from the page's URL in a
//! compact form ([`to_url`], [`from_url`]), or from a preset's name; every parameter left out
//! takes its default, and every parameter is checked here, once, with an error that names the
//! step by its index, the field and the valid range.
//!
//! Where the two references differ for the "same" sampler, both behaviours are here:
//! - top-k's ties ([`Rule`]): Hugging Face keeps every id tied with the k-th best, llama.cpp
//!   exactly k (which tied ids it keeps is left to `std::partial_sort`; here the lower ids).
//! - typical's boundary ([`Rule`]): Hugging Face stops at the first id whose running mass
//!   reaches p and keeps every id tied with it, llama.cpp at the first whose mass exceeds p.
//! - `minKeep`: Hugging Face's `min_tokens_to_keep` is 1, llama.cpp's `min_keep` 0; each preset
//!   fills in its own.
//! - min-p before or after temperature: an order, so each preset's chain says it (Hugging Face:
//!   temperature first; llama.cpp: temperature last).
//! - top-p's boundary: both keep the smallest best-first prefix whose mass reaches p (an id
//!   whose running mass equals p exactly is the last one kept), Hugging Face by removing the
//!   ids whose ascending running mass is ≤ 1 − p, llama.cpp by stopping at the first running
//!   mass ≥ p; the two differ only in float32 rounding, and here the sums are in float64.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Code, Error, Result};
use crate::limits::MAX_CHAIN_STEPS;

/// Which reference a step follows where the two differ (see the module's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify::Tsify)]
pub enum Rule {
    /// Hugging Face transformers' `LogitsProcessor`s.
    #[serde(rename = "huggingface")]
    HuggingFace,
    /// llama.cpp's `llama_sampler_*`.
    #[serde(rename = "llama.cpp")]
    LlamaCpp,
}

impl Rule {
    /// Its name in the JS API and the presets: "huggingface" or "llama.cpp".
    pub fn name(self) -> &'static str {
        match self {
            Rule::HuggingFace => "huggingface",
            Rule::LlamaCpp => "llama.cpp",
        }
    }
}

/// One sampler of the chain. Each variant's doc names the reference's own parameter names.
/// In JS, `{ kind: 'topK', k: 40 }` etc.; `sampler.chain` lists them with every field filled in.
#[derive(Debug, Clone, PartialEq, Serialize, tsify::Tsify)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Step {
    /// s ← s / t; t = 0 keeps only the best id (greedy, lowest id on a tie). Hugging Face
    /// `temperature` (`TemperatureLogitsWarper`), llama.cpp `temp` (`llama_sampler_init_temp`).
    Temperature { t: f32 },
    /// Entropy-scaled temperature: T = max(0, t − range) + 2·range·(H / ln n)^exponent, with H
    /// the entropy of the kept ids' distribution and n their count; range 0 is plain
    /// temperature t. llama.cpp `temp`, `dynatemp_range`, `dynatemp_exponent`
    /// (`llama_sampler_init_temp_ext`).
    #[serde(rename_all = "camelCase")]
    DynamicTemperature { t: f32, range: f32, exponent: f32 },
    /// Keep the k best ids; 0 = off. Hugging Face `top_k` (`TopKLogitsWarper`, keeps ties with
    /// the k-th), llama.cpp `top_k` (`llama_sampler_init_top_k`, exactly k).
    TopK { k: u32, rule: Rule },
    /// Keep the smallest best-first set whose mass reaches p, and at least minKeep ids; 1 = off.
    /// Hugging Face `top_p`, `min_tokens_to_keep` (`TopPLogitsWarper`), llama.cpp `top_p`,
    /// `min_keep` (`llama_sampler_init_top_p`).
    #[serde(rename_all = "camelCase")]
    TopP { p: f32, min_keep: u32 },
    /// Drop ids with p_i < p · p_max, keeping at least minKeep; 0 = off. Hugging Face `min_p`
    /// (`MinPLogitsWarper`), llama.cpp `min_p` (`llama_sampler_init_min_p`).
    #[serde(rename_all = "camelCase")]
    MinP { p: f32, min_keep: u32 },
    /// Locally typical sampling: keep the ids whose surprisal −ln p_i is closest to the entropy
    /// H until their mass reaches p; 1 = off. Hugging Face `typical_p` (`TypicalLogitsWarper`),
    /// llama.cpp `typ_p` (`llama_sampler_init_typical`).
    #[serde(rename_all = "camelCase")]
    Typical { p: f32, min_keep: u32, rule: Rule },
    /// Drop ids with p_i < epsilon (the best id always stays); 0 = off. Hugging Face
    /// `epsilon_cutoff` (`EpsilonLogitsWarper`).
    Epsilon { epsilon: f32 },
    /// Drop ids with p_i < η = min(epsilon, √epsilon · e^−H) (the best id always stays);
    /// 0 = off. Hugging Face `eta_cutoff` (`EtaLogitsWarper`).
    Eta { epsilon: f32 },
    /// Drop ids whose score is below max − n·σ, σ the standard deviation of the kept scores;
    /// n ≤ 0 = off. llama.cpp `top_n_sigma` (`llama_sampler_init_top_n_sigma`).
    TopNSigma { n: f32 },
    /// Exclude Top Choices: with chance `probability`, drop every id with p_i ≥ threshold but
    /// the least likely of them, if at least minKeep ids remain. llama.cpp `xtc_probability`,
    /// `xtc_threshold`, `min_keep` (`llama_sampler_init_xtc`).
    #[serde(rename_all = "camelCase")]
    Xtc {
        probability: f32,
        threshold: f32,
        min_keep: u32,
    },
    /// Every id in the history, once: s ← s · penalty if s < 0, else s / penalty; 1 = off.
    /// Hugging Face `repetition_penalty` (`RepetitionPenaltyLogitsProcessor`), over the whole
    /// history.
    RepetitionPenalty { penalty: f32 },
    /// Over the last lastN ids of the history (−1 = all of it, 0 = off), each id seen c times:
    /// s ← s · repeat if s ≤ 0, else s / repeat, then s ← s − c · frequency − presence.
    /// llama.cpp `penalty_last_n`, `penalty_repeat`, `penalty_freq`, `penalty_present`
    /// (`llama_sampler_init_penalties`).
    #[serde(rename_all = "camelCase")]
    Penalties {
        last_n: i32,
        repeat: f32,
        frequency: f32,
        presence: f32,
    },
    /// Remove every id that would repeat an n-gram of the history; 0 = off. Hugging Face
    /// `no_repeat_ngram_size` (`NoRepeatNGramLogitsProcessor`).
    NoRepeatNgram { n: u32 },
    /// "Don't Repeat Yourself": an id that would extend a repeat of length L ≥ allowedLength
    /// of the last lastN ids loses multiplier · base^(L − allowedLength); a breaker (a sequence
    /// of ids) stops a repeat. multiplier 0 = off. llama.cpp `dry_multiplier`, `dry_base`,
    /// `dry_allowed_length`, `dry_penalty_last_n`, `dry_sequence_breakers`
    /// (`llama_sampler_init_dry`; its breakers are strings, tokenised: here the ids).
    #[serde(rename_all = "camelCase")]
    Dry {
        multiplier: f32,
        base: f32,
        allowed_length: u32,
        last_n: i32,
        breakers: Vec<Vec<u32>>,
    },
    /// s_id ← s_id + value for each [id, value]; −Infinity removes the id. Hugging Face
    /// `sequence_bias` with one-token sequences (`SequenceBiasLogitsProcessor`), llama.cpp
    /// `logit_bias` (`llama_sampler_init_logit_bias`).
    LogitBias {
        #[tsify(type = "[number, number][]")]
        bias: Vec<(u32, f32)>,
    },
    /// Mirostat 1.0: keep the k best ids, k estimated from the top m ids' Zipf exponent so
    /// that the surprisal of the draw tends to tau; μ (from 2·tau) learns at rate eta. Selects
    /// the token, so it is the last step. llama.cpp `mirostat_tau`, `mirostat_eta` and m = 100
    /// (`llama_sampler_init_mirostat`).
    Mirostat { tau: f32, eta: f32, m: u32 },
    /// Mirostat 2.0: keep the ids whose surprisal −log2 p_i is ≤ μ (at least the best); μ
    /// (from 2·tau) learns at rate eta. The last step. llama.cpp `mirostat_tau`,
    /// `mirostat_eta` (`llama_sampler_init_mirostat_v2`).
    #[serde(rename = "mirostatV2")]
    MirostatV2 { tau: f32, eta: f32 },
}

/// Every kind, as JS names it.
pub const KINDS: [&str; 17] = [
    "temperature",
    "dynamicTemperature",
    "topK",
    "topP",
    "minP",
    "typical",
    "epsilon",
    "eta",
    "topNSigma",
    "xtc",
    "repetitionPenalty",
    "penalties",
    "noRepeatNgram",
    "dry",
    "logitBias",
    "mirostat",
    "mirostatV2",
];

impl Step {
    /// Its kind as JS names it, e.g. "topK".
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Temperature { .. } => "temperature",
            Step::DynamicTemperature { .. } => "dynamicTemperature",
            Step::TopK { .. } => "topK",
            Step::TopP { .. } => "topP",
            Step::MinP { .. } => "minP",
            Step::Typical { .. } => "typical",
            Step::Epsilon { .. } => "epsilon",
            Step::Eta { .. } => "eta",
            Step::TopNSigma { .. } => "topNSigma",
            Step::Xtc { .. } => "xtc",
            Step::RepetitionPenalty { .. } => "repetitionPenalty",
            Step::Penalties { .. } => "penalties",
            Step::NoRepeatNgram { .. } => "noRepeatNgram",
            Step::Dry { .. } => "dry",
            Step::LogitBias { .. } => "logitBias",
            Step::Mirostat { .. } => "mirostat",
            Step::MirostatV2 { .. } => "mirostatV2",
        }
    }

    /// Whether the step is a penalty or a bias: it changes scores by the history or by a
    /// table of ids (repetition penalty, penalties, no-repeat n-gram, DRY, logit bias), where
    /// the others narrow or reshape the distribution by its own values.
    pub fn penalises(&self) -> bool {
        matches!(
            self,
            Step::RepetitionPenalty { .. }
                | Step::Penalties { .. }
                | Step::NoRepeatNgram { .. }
                | Step::Dry { .. }
                | Step::LogitBias { .. }
        )
    }

    /// Whether the step selects the token itself (Mirostat), so must end the chain.
    pub fn selects(&self) -> bool {
        matches!(self, Step::Mirostat { .. } | Step::MirostatV2 { .. })
    }

    /// The step with every parameter as JSON, `{ kind, ... }`: what `sampler.chain` shows.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        shortest(&mut v);
        v
    }

    /// Reads step `index` of a chain from JSON: a `kind` and any of its fields, each checked;
    /// a field left out takes its default (`rule` defaults to "huggingface" and `minKeep` to
    /// Hugging Face's 1 where both references have the step).
    pub fn from_json(index: usize, v: &Value) -> Result<Step> {
        let obj = v.as_object().ok_or_else(|| {
            Error::new(format!(
                "chain[{index}] must be an object like {{ kind: \"topK\", k: 40 }}, got {}",
                describe(v)
            ))
        })?;
        let kind = match obj.get("kind") {
            Some(Value::String(k)) => k.as_str(),
            Some(other) => return Err(unknown_kind(index, &describe(other), &shown(other))),
            None => {
                return Err(Error::new(format!(
                    "chain[{index}] has no kind; it must be one of {}",
                    KINDS.join(", ")
                ))
                .coded(
                    Code::ChainMissingKind,
                    [
                        ("index", index.to_string().into()),
                        ("step", (index + 1).to_string().into()),
                    ],
                ))
            }
        };
        Step::build(&Fields::new(index, kind, obj))
    }

    /// The step `f.kind` from its fields, each read (and recorded in `f.specs`) with its
    /// default and its range: the one place that says which fields a kind has.
    fn build(f: &Fields) -> Result<Step> {
        let step = match f.kind {
            "temperature" => Step::Temperature {
                t: f.number("t", 1.0, NON_NEGATIVE)?,
            },
            "dynamicTemperature" => Step::DynamicTemperature {
                t: f.number("t", 0.8, NON_NEGATIVE)?,
                range: f.number("range", 0.0, NON_NEGATIVE)?,
                exponent: f.number("exponent", 1.0, NON_NEGATIVE)?,
            },
            "topK" => Step::TopK {
                k: f.integer("k", 50, 0, u32::MAX as i64)? as u32,
                rule: f.rule()?,
            },
            "topP" => Step::TopP {
                p: f.number("p", 1.0, UNIT)?,
                min_keep: f.integer("minKeep", 1, 0, u32::MAX as i64)? as u32,
            },
            "minP" => Step::MinP {
                p: f.number("p", 0.0, UNIT)?,
                min_keep: f.integer("minKeep", 1, 0, u32::MAX as i64)? as u32,
            },
            "typical" => Step::Typical {
                p: f.number("p", 1.0, UNIT)?,
                min_keep: f.integer("minKeep", 1, 0, u32::MAX as i64)? as u32,
                rule: f.rule()?,
            },
            "epsilon" => Step::Epsilon {
                epsilon: f.number("epsilon", 0.0, UNIT_OPEN)?,
            },
            "eta" => Step::Eta {
                epsilon: f.number("epsilon", 0.0, UNIT_OPEN)?,
            },
            "topNSigma" => Step::TopNSigma {
                n: f.number("n", -1.0, ANY)?,
            },
            "xtc" => Step::Xtc {
                probability: f.number("probability", 0.0, UNIT)?,
                threshold: f.number("threshold", 0.1, UNIT)?,
                min_keep: f.integer("minKeep", 1, 0, u32::MAX as i64)? as u32,
            },
            "repetitionPenalty" => Step::RepetitionPenalty {
                penalty: f.number("penalty", 1.0, POSITIVE)?,
            },
            "penalties" => Step::Penalties {
                last_n: f.integer("lastN", 64, -1, i32::MAX as i64)? as i32,
                repeat: f.number("repeat", 1.0, POSITIVE)?,
                frequency: f.number("frequency", 0.0, ANY)?,
                presence: f.number("presence", 0.0, ANY)?,
            },
            "noRepeatNgram" => Step::NoRepeatNgram {
                n: f.integer("n", 0, 0, u32::MAX as i64)? as u32,
            },
            "dry" => Step::Dry {
                multiplier: f.number("multiplier", 0.0, NON_NEGATIVE)?,
                base: f.number("base", 1.75, AT_LEAST_ONE)?,
                allowed_length: f.integer("allowedLength", 2, 0, u32::MAX as i64)? as u32,
                last_n: f.integer("lastN", 64, -1, i32::MAX as i64)? as i32,
                breakers: f.breakers()?,
            },
            "logitBias" => Step::LogitBias { bias: f.bias()? },
            "mirostat" => Step::Mirostat {
                tau: f.number("tau", 5.0, NON_NEGATIVE)?,
                eta: f.number("eta", 0.1, NON_NEGATIVE)?,
                m: f.integer("m", 100, 1, u32::MAX as i64)? as u32,
            },
            "mirostatV2" => Step::MirostatV2 {
                tau: f.number("tau", 5.0, NON_NEGATIVE)?,
                eta: f.number("eta", 0.1, NON_NEGATIVE)?,
            },
            other => {
                let quoted = format!("{:?}", crate::error::brief(&other));
                return Err(unknown_kind(f.index, &quoted, other));
            }
        };
        f.no_other_fields(&step)?;
        Ok(step)
    }
}

/// One parameter of a kind of step, as the page's editor shows it: its name, its default and
/// what it accepts, read from [`Step::build`] itself.
#[derive(Debug, Clone, PartialEq, Serialize, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// The field's name, e.g. "p".
    pub name: String,
    /// Its default; absent for a list (`breakers`, `bias`: empty) or a choice (`rule`).
    #[tsify(optional)]
    pub default: Option<f64>,
    /// The smallest value accepted (or the open bound, see `range`); absent if not a number.
    #[tsify(optional)]
    pub min: Option<f64>,
    /// The largest value accepted (or the open bound); absent if not a number.
    #[tsify(optional)]
    pub max: Option<f64>,
    /// Whether only integers are accepted.
    pub integer: bool,
    /// The accepted values in the notation of the coded errors, e.g. "[0, 1]" or
    /// "{0, 1, …, 4294967295}".
    pub range: String,
    /// For a choice, its values ("huggingface", "llama.cpp"); else empty.
    pub choices: Vec<String>,
}

/// The fields of a kind of step, in the order the step reads them, with their defaults and
/// ranges; an unknown kind is an error naming [`KINDS`].
pub fn fields(kind: &str) -> Result<Vec<FieldSpec>> {
    if !KINDS.contains(&kind) {
        let quoted = format!("{:?}", crate::error::brief(&kind));
        return Err(Error::arg(
            "kind",
            &format!("one of {}", KINDS.join(", ")),
            quoted,
        ));
    }
    let empty = Map::new();
    let f = Fields::new(0, kind, &empty);
    Step::build(&f)?;
    Ok(f.specs.into_inner())
}

/// Writes each non-integer number (a float32 parameter widened to float64, 0.8 as
/// 0.800000011920929) as the shortest decimal that reads back the same float32 (0.8).
fn shortest(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(x) = n.as_f64().filter(|x| x.fract() != 0.0) {
                let short: f64 = format!("{}", x as f32).parse().unwrap_or(x);
                if let Some(m) = serde_json::Number::from_f64(short) {
                    *n = m;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(shortest),
        Value::Object(map) => map.values_mut().for_each(shortest),
        _ => {}
    }
}

/// A chain's presets by name.
pub const PRESETS: [&str; 2] = ["huggingface", "llama.cpp"];

/// A preset chain, every parameter at the reference's default.
///
/// "huggingface": `GenerationConfig`'s defaults with `do_sample=True`, the warpers in
/// `generate`'s order (temperature 1, top_k 50, top_p 1, min_p off, min_tokens_to_keep 1),
/// which is the order of [`super::sample`]. "llama.cpp": `common_params_sampling`'s `samplers`
/// and values (penalties, DRY, top-n-σ, top-k 40, typical, top-p 0.95, min-p 0.05, XTC, then
/// temperature 0.8 through `llama_sampler_init_temp_ext`, min_keep 0). Except DRY's window and
/// breakers, which llama.cpp derives from the model: its `dry_penalty_last_n` −1 is the model's
/// training context (`llama_model_n_ctx_train`) and its `dry_sequence_breakers` are strings
/// ("\n", ":", "\"", "*") matched against the vocabulary's token texts; a preset made without a
/// model holds `lastN` 64 and no breakers instead (DRY is off at multiplier 0 either way).
pub fn preset(name: &str) -> Result<Vec<Step>> {
    use Rule::*;
    match name {
        "huggingface" => Ok(vec![
            Step::Temperature { t: 1.0 },
            Step::TopK {
                k: 50,
                rule: HuggingFace,
            },
            Step::TopP {
                p: 1.0,
                min_keep: 1,
            },
            Step::MinP {
                p: 0.0,
                min_keep: 1,
            },
        ]),
        "llama.cpp" => Ok(vec![
            Step::Penalties {
                last_n: 64,
                repeat: 1.0,
                frequency: 0.0,
                presence: 0.0,
            },
            Step::Dry {
                multiplier: 0.0,
                base: 1.75,
                allowed_length: 2,
                last_n: 64,
                breakers: Vec::new(),
            },
            Step::TopNSigma { n: -1.0 },
            Step::TopK {
                k: 40,
                rule: LlamaCpp,
            },
            Step::Typical {
                p: 1.0,
                min_keep: 0,
                rule: LlamaCpp,
            },
            Step::TopP {
                p: 0.95,
                min_keep: 0,
            },
            Step::MinP {
                p: 0.05,
                min_keep: 0,
            },
            Step::Xtc {
                probability: 0.0,
                threshold: 0.1,
                min_keep: 0,
            },
            Step::DynamicTemperature {
                t: 0.8,
                range: 0.0,
                exponent: 1.0,
            },
        ]),
        _ => Err(Error::arg(
            "chain",
            "\"huggingface\", \"llama.cpp\" or an array of steps",
            format!("{:?}", crate::error::brief(&name)),
        )
        .coded(
            Code::ChainPreset,
            [("name", crate::error::brief(&name).into())],
        )),
    }
}

/// Reads a chain: a preset's name, or an array of steps (see [`Step::from_json`]), at most
/// [`MAX_CHAIN_STEPS`] long, with a Mirostat step only at its end.
pub fn from_json(v: &Value) -> Result<Vec<Step>> {
    let steps = match v {
        Value::String(name) => preset(name)?,
        Value::Array(items) => {
            if items.len() > MAX_CHAIN_STEPS {
                return Err(too_long(items.len()));
            }
            (items.iter().enumerate())
                .map(|(i, s)| Step::from_json(i, s))
                .collect::<Result<Vec<_>>>()?
        }
        other => {
            return Err(Error::arg(
                "chain",
                "\"huggingface\", \"llama.cpp\" or an array of steps",
                describe(other),
            ))
        }
    };
    check(&steps)?;
    Ok(steps)
}

/// What every chain must be, whatever made it: at most [`MAX_CHAIN_STEPS`] steps, and a
/// Mirostat step, which selects the token, only as the last.
pub fn check(steps: &[Step]) -> Result<()> {
    if steps.len() > MAX_CHAIN_STEPS {
        return Err(too_long(steps.len()));
    }
    for (i, s) in steps.iter().enumerate() {
        if s.selects() && i + 1 != steps.len() {
            return Err(Error::new(format!(
                "chain[{i}] ({}) selects the token, so it must be the last step (the chain has {})",
                s.kind(),
                steps.len()
            ))
            .coded(
                Code::ChainSelectorLast,
                [
                    ("index", i.to_string().into()),
                    ("step", (i + 1).to_string().into()),
                    ("kind", s.kind().into()),
                ],
            ));
        }
    }
    Ok(())
}

fn too_long(n: usize) -> Error {
    Error::new(format!(
        "chain has {n} steps; at most {MAX_CHAIN_STEPS} are accepted"
    ))
    .coded(Code::ChainTooLong, [("max", MAX_CHAIN_STEPS.into())])
}

/// `got` in the English message's words, `shown` as the page quotes it.
fn unknown_kind(index: usize, got: &str, shown: &str) -> Error {
    Error::new(format!(
        "chain[{index}].kind must be one of {}, got {got}",
        KINDS.join(", ")
    ))
    .coded(
        Code::ChainUnknownKind,
        [
            ("index", index.to_string().into()),
            ("step", (index + 1).to_string().into()),
            ("kind", crate::error::brief(&shown).into()),
        ],
    )
}

/// A value in the English message's words. Non-finite numbers come from JS as the strings
/// "NaN", "Infinity" and "-Infinity" (JSON has no such numbers), and are named as numbers.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => shown(v),
        Value::String(s) if non_finite(s).is_some() => shown(v),
        Value::String(s) => format!("the string {:?}", crate::error::brief(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A non-finite number as JS's JSON reader passes it ("NaN", "Infinity", "-Infinity"), as the
/// page writes it.
fn non_finite(s: &str) -> Option<&'static str> {
    match s {
        "NaN" => Some("NaN"),
        "Infinity" => Some("∞"),
        "-Infinity" => Some("−∞"),
        _ => None,
    }
}

/// A value as the page quotes it in a coded error's `value`: a number as JS writes it (5, not
/// 5.0), a non-finite one by its name, unquoted; anything else as JSON, cut short.
fn shown(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 => {
                format!("{}", x as i64)
            }
            Some(x) => format!("{x}"),
            None => n.to_string(),
        },
        Value::String(s) => non_finite(s).map_or_else(|| brief_json(v), str::to_string),
        _ => brief_json(v),
    }
}

fn brief_json(v: &Value) -> String {
    crate::error::brief(&v.to_string()).to_string()
}

/// A range of real parameters: its test, its words (the English message) and its notation
/// (the coded error's `range`, which the page's catalogues quote in any language).
struct Range {
    ok: fn(f64) -> bool,
    /// Its bounds (each included or not as `ok` says), for the page's editor.
    lo: f32,
    hi: f32,
    words: &'static str,
    math: &'static str,
}

const ANY: Range = Range {
    lo: -f32::MAX,
    hi: f32::MAX,
    ok: |x| x.is_finite(),
    words: "a number in [-3.4028235e38, 3.4028235e38] (a finite float32)",
    math: "[−3.4028235e38, 3.4028235e38]",
};
const NON_NEGATIVE: Range = Range {
    lo: 0.0,
    hi: f32::MAX,
    ok: |x| x.is_finite() && x >= 0.0,
    words: "a number >= 0",
    math: "[0, 3.4028235e38]",
};
const POSITIVE: Range = Range {
    lo: 0.0,
    hi: f32::MAX,
    ok: |x| x.is_finite() && x > 0.0,
    words: "a number > 0",
    math: "(0, 3.4028235e38]",
};
const AT_LEAST_ONE: Range = Range {
    lo: 1.0,
    hi: f32::MAX,
    ok: |x| x.is_finite() && x >= 1.0,
    words: "a number >= 1",
    math: "[1, 3.4028235e38]",
};
const UNIT: Range = Range {
    lo: 0.0,
    hi: 1.0,
    ok: |x| (0.0..=1.0).contains(&x),
    words: "a number in [0, 1]",
    math: "[0, 1]",
};
const UNIT_OPEN: Range = Range {
    lo: 0.0,
    hi: 1.0,
    ok: |x| (0.0..1.0).contains(&x),
    words: "a number in [0, 1)",
    math: "[0, 1)",
};

/// The fields of one step's JSON object, read with errors that name the step and the field.
struct Fields<'a> {
    index: usize,
    kind: &'a str,
    obj: &'a Map<String, Value>,
    /// Each field read so far, with its default and range ([`fields`]).
    specs: std::cell::RefCell<Vec<FieldSpec>>,
}

impl<'a> Fields<'a> {
    fn new(index: usize, kind: &'a str, obj: &'a Map<String, Value>) -> Self {
        Fields {
            index,
            kind,
            obj,
            specs: Default::default(),
        }
    }

    fn record(
        &self,
        name: &str,
        default: Option<f64>,
        bounds: Option<(f64, f64)>,
        integer: bool,
        range: &str,
    ) {
        self.specs.borrow_mut().push(FieldSpec {
            name: name.to_string(),
            default,
            min: bounds.map(|b| b.0),
            max: bounds.map(|b| b.1),
            integer,
            range: range.to_string(),
            choices: Vec::new(),
        });
    }

    fn bad(&self, field: &str, range: &str, math: &str, got: &Value) -> Error {
        let (index, kind) = (self.index, self.kind);
        Error::new(format!(
            "chain[{index}].{field} ({kind}) must be {range}, got {}",
            describe(got)
        ))
        .coded(
            Code::ChainBadParam,
            [
                ("index", index.to_string().into()),
                ("step", (index + 1).to_string().into()),
                ("kind", kind.into()),
                ("field", field.into()),
                ("range", math.into()),
                ("value", shown(got).into()),
            ],
        )
    }

    /// A list parameter with more entries than its cap: the count and the cap.
    fn too_many(&self, field: &str, count: usize, max: usize) -> Error {
        let (index, kind) = (self.index, self.kind);
        Error::new(format!(
            "chain[{index}].{field} ({kind}) has {count} entries; at most {max} are accepted"
        ))
        .coded(
            Code::ChainTooMany,
            [
                ("index", index.to_string().into()),
                ("step", (index + 1).to_string().into()),
                ("kind", kind.into()),
                ("field", field.into()),
                ("count", count.into()),
                ("max", max.into()),
            ],
        )
    }

    fn number(&self, field: &str, default: f32, range: Range) -> Result<f32> {
        let bounds = (range.lo as f64, range.hi as f64);
        self.record(field, Some(default as f64), Some(bounds), false, range.math);
        let Some(v) = self.obj.get(field) else {
            return Ok(default);
        };
        // The range holds for the float32 the steps use (1e-50 > 0, but not as a float32).
        match v.as_f64().map(|x| x as f32) {
            Some(x) if x.is_finite() && (range.ok)(x as f64) => Ok(x),
            _ => Err(self.bad(field, range.words, range.math, v)),
        }
    }

    fn integer(&self, field: &str, default: i64, min: i64, max: i64) -> Result<i64> {
        // Every bound written, the largest too (a value past it is refused), minus as U+2212.
        let minus = |n: i64| n.to_string().replace('-', "−");
        let math = format!("{{{}, {}, …, {max}}}", minus(min), minus(min + 1));
        let bounds = (min as f64, max as f64);
        self.record(field, Some(default as f64), Some(bounds), true, &math);
        let Some(v) = self.obj.get(field) else {
            return Ok(default);
        };
        let range = || format!("an integer in [{min}, {max}]");
        match v.as_f64() {
            Some(x) if x.fract() == 0.0 && x >= min as f64 && x <= max as f64 => Ok(x as i64),
            _ => Err(self.bad(field, &range(), &math, v)),
        }
    }

    fn rule(&self) -> Result<Rule> {
        self.record("rule", None, None, false, "huggingface | llama.cpp");
        if let Some(spec) = self.specs.borrow_mut().last_mut() {
            spec.choices = vec![
                Rule::HuggingFace.name().into(),
                Rule::LlamaCpp.name().into(),
            ];
        }
        match self.obj.get("rule") {
            None => Ok(Rule::HuggingFace),
            Some(Value::String(s)) if s == "huggingface" => Ok(Rule::HuggingFace),
            Some(Value::String(s)) if s == "llama.cpp" => Ok(Rule::LlamaCpp),
            Some(v) => Err(self.bad(
                "rule",
                "\"huggingface\" or \"llama.cpp\"",
                "huggingface | llama.cpp",
                v,
            )),
        }
    }

    /// A JSON array of token ids, if it is one.
    fn ids(v: &Value) -> Option<Vec<u32>> {
        (v.as_array()?.iter())
            .map(|x| {
                let x = x.as_f64()?;
                (x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x)).then_some(x as u32)
            })
            .collect()
    }

    fn breakers(&self) -> Result<Vec<Vec<u32>>> {
        self.record("breakers", None, None, false, "[[id, …], …]");
        let Some(v) = self.obj.get("breakers") else {
            return Ok(Vec::new());
        };
        let words = "an array of token-id sequences, each one or more ids, like [[198], [25, 25]]";
        let math = "[[id, …], …]";
        let items = v
            .as_array()
            .ok_or_else(|| self.bad("breakers", words, math, v))?;
        if items.len() > MAX_BREAKERS {
            return Err(self.too_many("breakers", items.len(), MAX_BREAKERS));
        }
        (items.iter())
            .map(|seq| match Self::ids(seq) {
                Some(ids) if !ids.is_empty() && ids.len() <= MAX_BREAKER_LENGTH => Ok(ids),
                _ => Err(self.bad("breakers", words, math, seq)),
            })
            .collect()
    }

    fn bias(&self) -> Result<Vec<(u32, f32)>> {
        self.record("bias", None, None, false, "[[id, value], …]");
        let Some(v) = self.obj.get("bias") else {
            return Ok(Vec::new());
        };
        let words = "an array of [id, value] pairs, ids integers >= 0, values finite or -Infinity";
        let math = "[[id, value], …]";
        let items = v
            .as_array()
            .ok_or_else(|| self.bad("bias", words, math, v))?;
        if items.len() > crate::limits::MAX_VALUES {
            return Err(self.too_many("bias", items.len(), crate::limits::MAX_VALUES));
        }
        (items.iter())
            .map(|pair| {
                let bad = || self.bad("bias", words, math, pair);
                let p = pair.as_array().filter(|p| p.len() == 2).ok_or_else(bad)?;
                let id = p[0]
                    .as_f64()
                    .filter(|x| x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(x));
                // JSON has no −∞: JS's −Infinity arrives as null through JSON, and the string
                // "-Infinity" is taken too.
                let value = match &p[1] {
                    Value::Null => Some(f32::NEG_INFINITY),
                    Value::String(s) if s == "-Infinity" || s == "-inf" => Some(f32::NEG_INFINITY),
                    x => x
                        .as_f64()
                        .filter(|x| x.is_finite() && (x.abs() as f32).is_finite())
                        .map(|x| x as f32),
                };
                match (id, value) {
                    (Some(id), Some(value)) => Ok((id as u32, value)),
                    _ => Err(bad()),
                }
            })
            .collect()
    }

    /// A field that the step does not have is an error, not a silently ignored setting.
    fn no_other_fields(&self, step: &Step) -> Result<()> {
        let known = step.to_json();
        let known = known.as_object();
        for key in self.obj.keys() {
            if !known.is_some_and(|k| k.contains_key(key)) {
                let fields: Vec<&str> = known
                    .map(|k| {
                        k.keys()
                            .map(|s| s.as_str())
                            .filter(|&s| s != "kind")
                            .collect()
                    })
                    .unwrap_or_default();
                let (index, kind) = (self.index, self.kind);
                return Err(Error::new(format!(
                    "chain[{index}] ({kind}) has an unknown field `{}`; expected one of {}",
                    crate::error::brief(key),
                    fields.join(", ")
                ))
                .coded(
                    Code::ChainUnknownField,
                    [
                        ("index", index.to_string().into()),
                        ("step", (index + 1).to_string().into()),
                        ("kind", kind.into()),
                        ("field", crate::error::brief(key).into()),
                    ],
                ));
            }
        }
        Ok(())
    }
}

/// Most breaker sequences of a DRY step, and ids in each.
const MAX_BREAKERS: usize = 256;
const MAX_BREAKER_LENGTH: usize = 64;

/// The compact URL form of a chain: steps joined by `~`, each its short name and its
/// parameters, all of them, joined by `_`, numbers as Rust writes them (the shortest that reads
/// back the same float32), −∞ as `-inf`. `rule` is `h` or `l`; a DRY step's breakers follow its
/// four numbers, the ids of each joined by `.`; a logit bias lists id, value, id, value.
/// Only characters a URL never escapes (letters, digits, `-._~`).
///
/// ```text
/// t_1~k_50_h~p_1_1~m_0_1       the "huggingface" preset
/// ```
pub fn to_url(steps: &[Step]) -> String {
    let rule = |r: &Rule| match r {
        Rule::HuggingFace => "h".to_string(),
        Rule::LlamaCpp => "l".to_string(),
    };
    let parts: Vec<String> = (steps.iter())
        .map(|s| {
            let (name, params): (&str, Vec<String>) = match s {
                Step::Temperature { t } => ("t", vec![num(*t)]),
                Step::DynamicTemperature { t, range, exponent } => {
                    ("dt", vec![num(*t), num(*range), num(*exponent)])
                }
                Step::TopK { k, rule: r } => ("k", vec![k.to_string(), rule(r)]),
                Step::TopP { p, min_keep } => ("p", vec![num(*p), min_keep.to_string()]),
                Step::MinP { p, min_keep } => ("m", vec![num(*p), min_keep.to_string()]),
                Step::Typical {
                    p,
                    min_keep,
                    rule: r,
                } => ("y", vec![num(*p), min_keep.to_string(), rule(r)]),
                Step::Epsilon { epsilon } => ("e", vec![num(*epsilon)]),
                Step::Eta { epsilon } => ("eta", vec![num(*epsilon)]),
                Step::TopNSigma { n } => ("s", vec![num(*n)]),
                Step::Xtc {
                    probability,
                    threshold,
                    min_keep,
                } => (
                    "x",
                    vec![num(*probability), num(*threshold), min_keep.to_string()],
                ),
                Step::RepetitionPenalty { penalty } => ("rp", vec![num(*penalty)]),
                Step::Penalties {
                    last_n,
                    repeat,
                    frequency,
                    presence,
                } => (
                    "pen",
                    vec![
                        last_n.to_string(),
                        num(*repeat),
                        num(*frequency),
                        num(*presence),
                    ],
                ),
                Step::NoRepeatNgram { n } => ("ng", vec![n.to_string()]),
                Step::Dry {
                    multiplier,
                    base,
                    allowed_length,
                    last_n,
                    breakers,
                } => {
                    let mut p = vec![
                        num(*multiplier),
                        num(*base),
                        allowed_length.to_string(),
                        last_n.to_string(),
                    ];
                    p.extend(breakers.iter().map(|b| {
                        b.iter()
                            .map(|i| i.to_string())
                            .collect::<Vec<_>>()
                            .join(".")
                    }));
                    ("dry", p)
                }
                Step::LogitBias { bias } => (
                    "lb",
                    (bias.iter())
                        .flat_map(|(id, v)| [id.to_string(), num(*v)])
                        .collect(),
                ),
                Step::Mirostat { tau, eta, m } => ("mi", vec![num(*tau), num(*eta), m.to_string()]),
                Step::MirostatV2 { tau, eta } => ("mi2", vec![num(*tau), num(*eta)]),
            };
            std::iter::once(name.to_string())
                .chain(params)
                .collect::<Vec<_>>()
                .join("_")
        })
        .collect();
    parts.join("~")
}

fn num(x: f32) -> String {
    format!("{x}")
}

/// Reads [`to_url`]'s form back, every step and parameter checked as [`from_json`] checks them.
/// `from_url(&to_url(c)) == c` for every valid chain c.
pub fn from_url(text: &str) -> Result<Vec<Step>> {
    if text.len() > MAX_URL_BYTES {
        return Err(url_error(text, "it is too long"));
    }
    if text.is_empty() {
        check(&[])?;
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = text.split('~').collect();
    if parts.len() > MAX_CHAIN_STEPS {
        return Err(too_long(parts.len()));
    }
    let steps = (parts.iter().enumerate())
        .map(|(index, part)| {
            let mut it = part.split('_');
            let name = it.next().unwrap_or("");
            let p: Vec<&str> = it.collect();
            let bad = |why: &str| url_error(part, &format!("step {index}: {why}"));
            let n = |i: usize| -> Result<Value> {
                let s = p.get(i).ok_or_else(|| bad("a parameter is missing"))?;
                let x: f64 = match *s {
                    "-inf" => return Ok(Value::Null),
                    s => s
                        .parse()
                        .map_err(|_| bad(&format!("{s:?} is not a number")))?,
                };
                // "inf", "NaN" and the like parse, but name no parameter's value.
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| bad(&format!("{s:?} is not a finite number")))
            };
            let r = |i: usize| -> Result<Value> {
                match p.get(i).copied() {
                    Some("h") => Ok("huggingface".into()),
                    Some("l") => Ok("llama.cpp".into()),
                    _ => Err(bad("the rule must be h or l")),
                }
            };
            let count = |want: usize| -> Result<()> {
                if p.len() == want {
                    Ok(())
                } else {
                    Err(bad(&format!(
                        "{name} takes {want} parameters, got {}",
                        p.len()
                    )))
                }
            };
            let mut o = Map::new();
            let mut set = |k: &str, v: Value| {
                o.insert(k.to_string(), v);
            };
            let kind = match name {
                "t" => {
                    count(1)?;
                    set("t", n(0)?);
                    "temperature"
                }
                "dt" => {
                    count(3)?;
                    set("t", n(0)?);
                    set("range", n(1)?);
                    set("exponent", n(2)?);
                    "dynamicTemperature"
                }
                "k" => {
                    count(2)?;
                    set("k", n(0)?);
                    set("rule", r(1)?);
                    "topK"
                }
                "p" | "m" => {
                    count(2)?;
                    set("p", n(0)?);
                    set("minKeep", n(1)?);
                    if name == "p" {
                        "topP"
                    } else {
                        "minP"
                    }
                }
                "y" => {
                    count(3)?;
                    set("p", n(0)?);
                    set("minKeep", n(1)?);
                    set("rule", r(2)?);
                    "typical"
                }
                "e" | "eta" => {
                    count(1)?;
                    set("epsilon", n(0)?);
                    if name == "e" {
                        "epsilon"
                    } else {
                        "eta"
                    }
                }
                "s" => {
                    count(1)?;
                    set("n", n(0)?);
                    "topNSigma"
                }
                "x" => {
                    count(3)?;
                    set("probability", n(0)?);
                    set("threshold", n(1)?);
                    set("minKeep", n(2)?);
                    "xtc"
                }
                "rp" => {
                    count(1)?;
                    set("penalty", n(0)?);
                    "repetitionPenalty"
                }
                "pen" => {
                    count(4)?;
                    set("lastN", n(0)?);
                    set("repeat", n(1)?);
                    set("frequency", n(2)?);
                    set("presence", n(3)?);
                    "penalties"
                }
                "ng" => {
                    count(1)?;
                    set("n", n(0)?);
                    "noRepeatNgram"
                }
                "dry" => {
                    if p.len() < 4 {
                        return Err(bad("dry takes 4 numbers, then its breakers"));
                    }
                    set("multiplier", n(0)?);
                    set("base", n(1)?);
                    set("allowedLength", n(2)?);
                    set("lastN", n(3)?);
                    let breakers = (p[4..].iter())
                        .map(|seq| {
                            (seq.split('.'))
                                .map(|id| {
                                    id.parse::<u32>()
                                        .map(Value::from)
                                        .map_err(|_| bad(&format!("{id:?} is not a token id")))
                                })
                                .collect::<Result<Vec<Value>>>()
                                .map(Value::Array)
                        })
                        .collect::<Result<Vec<Value>>>()?;
                    set("breakers", Value::Array(breakers));
                    "dry"
                }
                "lb" => {
                    if !p.len().is_multiple_of(2) {
                        return Err(bad("lb takes id, value pairs"));
                    }
                    let pairs = (0..p.len() / 2)
                        .map(|j| Ok(Value::Array(vec![n(2 * j)?, n(2 * j + 1)?])))
                        .collect::<Result<Vec<Value>>>()?;
                    set("bias", Value::Array(pairs));
                    "logitBias"
                }
                "mi" => {
                    count(3)?;
                    set("tau", n(0)?);
                    set("eta", n(1)?);
                    set("m", n(2)?);
                    "mirostat"
                }
                "mi2" => {
                    count(2)?;
                    set("tau", n(0)?);
                    set("eta", n(1)?);
                    "mirostatV2"
                }
                _ => {
                    return Err(bad(&format!(
                        "{:?} names no step",
                        crate::error::brief(&name)
                    )))
                }
            };
            set("kind", kind.into());
            Step::from_json(index, &Value::Object(o))
        })
        .collect::<Result<Vec<Step>>>()?;
    check(&steps)?;
    Ok(steps)
}

/// Longest URL form read: far more than [`MAX_CHAIN_STEPS`] steps of numbers need, but a
/// logit bias may be long.
const MAX_URL_BYTES: usize = 1 << 20;

fn url_error(text: &str, why: &str) -> Error {
    Error::new(format!(
        "chain (URL form) {:?} is not a chain: {why}",
        crate::error::brief(&text)
    ))
    .coded(
        Code::ChainUrl,
        [("text", crate::error::brief(&text).into())],
    )
}

//! The wasm-bindgen layer for the lab's experiments ([`crate::lab`]): the figures the page
//! shows, computed in Rust so the page only lays them out. Converts and validates, nothing else.

use js_sys::{Array, Float32Array, Object, Uint32Array};
use wasm_bindgen::prelude::*;

use crate::lab::{self, Stability, ZERO_THRESHOLDS};
use crate::model::OutputMode;
use crate::sampling::{Input, SampleOptions};
use crate::wasm::{
    cut_codes, f32_vec, js_err, read_sampler_fields, set, string_arg, Fields, MAX_VOCAB,
};

/// The panel's options: the sampler's, plus what the forward pass returned and the panel's own.
const NEXT_TOKEN_FIELDS: &[&str] = &[
    "output",
    "temperature",
    "topK",
    "topP",
    "minP",
    "seed",
    "top",
    "storedTemperature",
    "reheatTemperature",
];

/// A positive finite temperature field, or its default.
fn positive(f: &Fields, key: &str, default: f64) -> Result<f32, JsError> {
    match f.number(key)? {
        None => Ok(default as f32),
        Some(t) if t.is_finite() && t > 0.0 && (t as f32) > 0.0 => Ok(t as f32),
        Some(t) => Err(js_err(crate::Error::arg(key, "a finite number > 0", t))),
    }
}

fn counts(rows: impl Iterator<Item = (&'static str, usize)>) -> Object {
    let o = Object::new();
    for (k, v) in rows {
        set(&o, k, v as u32);
    }
    o
}

/// Everything the sampling lab's next-token panel shows for one output vector `values`:
///
/// `options`: `{ output: 'logits' | 'logSoftmax', temperature, topK, topP, minP, seed, top,
/// storedTemperature, reheatTemperature }` (`top`: how many ids the bars name, default 12;
/// the precision experiment stores p = softmax(z / storedTemperature), default 1, and re-heats
/// it to the absolute reheatTemperature, default 3).
///
/// Returns `{ values, logProbs, probs, cut, token, kept, entropy, entropyBits, perplexity,
/// logsumexp, top, rest, restMass, restCut, identity: { fromLogits, fromLogSoftmax,
/// maxAbsDiff }, precision: { zeros, zerosAfter, minLogProb } }`, where `entropy` (nats),
/// `entropyBits` and `perplexity` = exp(entropy) are those of the final filtered distribution
/// `probs`, and `zeros`/`zerosAfter` count per format (f32, bf16, f16, logProbs) the ids stored
/// as 0 and the ids at 0 after re-heating.
#[wasm_bindgen(js_name = nextTokenPanel)]
pub fn next_token_panel(values: JsValue, options: JsValue) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let f = Fields::new(&options, "options", NEXT_TOKEN_FIELDS)?;
    let output = match f.string("output")? {
        Some(s) => OutputMode::parse(&s).map_err(js_err)?,
        None => OutputMode::Logits,
    };
    let mut o = SampleOptions {
        input: output.sample_input(),
        ..SampleOptions::default()
    };
    read_sampler_fields(&f, &mut o)?;
    let top = f
        .integer_in("top", 0.0, MAX_VOCAB as f64, "an integer >= 0")?
        .unwrap_or(12.0) as usize;
    let stored_t = positive(&f, "storedTemperature", 1.0)?;
    let reheat_t = positive(&f, "reheatTemperature", 3.0)?;
    let r = lab::next_token(z, &o, top, stored_t, reheat_t).map_err(js_err)?;

    let out = Object::new();
    set(&out, "values", Float32Array::from(&r.values[..]));
    set(&out, "logProbs", Float32Array::from(&r.log_probs[..]));
    set(&out, "probs", Float32Array::from(&r.sample.probs[..]));
    set(&out, "cut", cut_codes(&r.sample.cut));
    set(&out, "token", r.sample.token as u32);
    set(&out, "kept", r.sample.kept as u32);
    set(&out, "entropy", r.entropy_nats);
    set(&out, "entropyBits", r.entropy_bits);
    set(&out, "perplexity", r.perplexity);
    set(&out, "logsumexp", r.logsumexp as f64);
    set(&out, "top", Uint32Array::from(&r.top.ids[..]));
    set(&out, "rest", r.top.rest as u32);
    set(&out, "restMass", r.top.rest_mass);
    set(&out, "restCut", r.top.rest_cut as u32);
    let (a, b, diff) = &r.identity;
    let identity = Object::new();
    set(&identity, "fromLogits", Float32Array::from(&a[..]));
    set(&identity, "fromLogSoftmax", Float32Array::from(&b[..]));
    set(&identity, "maxAbsDiff", *diff as f64);
    set(&out, "identity", identity);
    let names = ["f32", "bf16", "f16", "logProbs"];
    let p = &r.precision;
    let precision = Object::new();
    set(
        &precision,
        "zeros",
        counts(names.into_iter().zip(p.rows.iter().map(|r| r.stored_zeros))),
    );
    set(
        &precision,
        "zerosAfter",
        counts(names.into_iter().zip(p.rows.iter().map(|r| r.zeros_after))),
    );
    set(&precision, "minLogProb", p.min_log_prob);
    set(&out, "precision", precision);
    Ok(out)
}

/// Where each storage format rounds a probability to exactly 0: `[{ format, log2P, lnP }]` for
/// float32, bfloat16 and float16 (every p ≤ 2^log2P is stored as 0).
#[wasm_bindgen(js_name = zeroThresholds)]
pub fn zero_thresholds() -> Array {
    ZERO_THRESHOLDS
        .iter()
        .map(|t| {
            let o = Object::new();
            set(&o, "format", t.format.name());
            set(&o, "log2P", t.log2_p);
            set(&o, "lnP", t.ln_p());
            JsValue::from(o)
        })
        .collect()
}

/// The classification-vs-generation table for one vector z at temperature T > 0:
/// `[{ representation, argmax, maxDiff, never }]` for logits, float32 log-probs and float32,
/// bfloat16 and float16 probabilities (stored at T = 1), where `maxDiff` = max |p − softmax(z/T)|
/// after re-heating to T and `never` counts the ids at 0.
#[wasm_bindgen]
pub fn classify(values: JsValue, temperature: f64) -> Result<Array, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let rows = lab::classify(&z, temperature as f32).map_err(js_err)?;
    Ok(rows
        .iter()
        .map(|r| {
            let o = Object::new();
            set(&o, "representation", r.representation);
            set(&o, "argmax", r.argmax as u32);
            set(&o, "maxDiff", r.max_diff as f64);
            set(&o, "never", r.never as u32);
            JsValue::from(o)
        })
        .collect())
}

/// log(softmax(z)) computed naively next to the stable log_softmax(z): `{ stable, naiveF32,
/// naiveF16, nan: { f32, f16 }, negInf: { f32, f16 } }`.
#[wasm_bindgen]
pub fn stability(values: JsValue) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let s = lab::stability(&z).map_err(js_err)?;
    let (nan32, inf32) = Stability::broken(&s.naive_f32);
    let (nan16, inf16) = Stability::broken(&s.naive_f16);
    let out = Object::new();
    set(&out, "stable", Float32Array::from(&s.stable[..]));
    set(&out, "naiveF32", Float32Array::from(&s.naive_f32[..]));
    set(&out, "naiveF16", Float32Array::from(&s.naive_f16[..]));
    set(
        &out,
        "nan",
        counts([("f32", nan32), ("f16", nan16)].into_iter()),
    );
    set(
        &out,
        "negInf",
        counts([("f32", inf32), ("f16", inf16)].into_iter()),
    );
    Ok(out)
}

/// `n` draws (1 … 100 000) with seeds seed, seed + 1, …: `{ counts, probs, expected }`, where
/// `expected[i]` = n · probs[i]. `options` are `sample`'s plus `output` ('logits' or
/// 'logSoftmax', for what the model returned) instead of `input`.
#[wasm_bindgen]
pub fn draws(values: JsValue, options: JsValue, n: f64) -> Result<Object, JsError> {
    let z = f32_vec("values", &values, MAX_VOCAB)?;
    let f = Fields::new(
        &options,
        "options",
        &["output", "temperature", "topK", "topP", "minP", "seed"],
    )?;
    let mut o = SampleOptions {
        input: match f.string("output")? {
            Some(s) => OutputMode::parse(&s).map_err(js_err)?.sample_input(),
            None => Input::Logits,
        },
        ..SampleOptions::default()
    };
    read_sampler_fields(&f, &mut o)?;
    if !(n.fract() == 0.0 && n >= 1.0 && n <= lab::MAX_DRAWS as f64) {
        return Err(js_err(crate::Error::arg(
            "n",
            &format!("an integer in [1, {}]", lab::MAX_DRAWS),
            n,
        )));
    }
    let d = lab::draws(&z, &o, n as usize).map_err(js_err)?;
    let out = Object::new();
    set(&out, "counts", Uint32Array::from(&d.counts[..]));
    set(&out, "probs", Float32Array::from(&d.probs[..]));
    set(&out, "expected", Float32Array::from(&d.expected[..]));
    Ok(out)
}

/// The figures of crossEntropy(softmax(z)) for C = `classes`: `{ classes, floor, margin,
/// oneHotLoss }`, where floor = ln(1 + (C − 1)/e) (the loss of a one-hot on the target),
/// margin = (e − 1)/(e + C − 1) (the lead over the runner-up above which its optimum is one-hot
/// on the most likely class) and, if `frequency` q is given, oneHotLoss = ln(e + C − 1) − q (the
/// expected loss of that one-hot on a class of frequency q).
#[wasm_bindgen(js_name = ceOnSoftmax)]
pub fn ce_on_softmax(classes: f64, frequency: Option<f64>) -> Result<Object, JsError> {
    if !(classes.fract() == 0.0 && (2.0..=MAX_VOCAB as f64).contains(&classes)) {
        return Err(js_err(crate::Error::arg(
            "classes",
            &format!("an integer in [2, {MAX_VOCAB}]"),
            classes,
        )));
    }
    let ce = lab::CeOnSoftmax {
        classes: classes as usize,
    };
    let out = Object::new();
    set(&out, "classes", classes);
    set(&out, "floor", ce.floor());
    set(&out, "margin", ce.one_hot_margin());
    if let Some(q) = frequency {
        if !(0.0..=1.0).contains(&q) {
            return Err(js_err(crate::Error::arg(
                "frequency",
                "a number in [0, 1]",
                q,
            )));
        }
        set(&out, "oneHotLoss", ce.one_hot_loss(q));
    }
    Ok(out)
}

/// The `n` most frequent characters of `text`, most frequent first: `{ classes, chars,
/// frequencies }`, with `classes` the number of distinct characters.
#[wasm_bindgen(js_name = charFrequencies)]
pub fn char_frequencies(text: JsValue, n: f64) -> Result<Object, JsError> {
    let text = string_arg("text", &text)?;
    crate::limits::check_text_len("text", &text).map_err(js_err)?;
    if !(n.fract() == 0.0 && n >= 0.0) {
        return Err(js_err(crate::Error::arg("n", "an integer >= 0", n)));
    }
    let freq = lab::char_frequencies(&text);
    let top = &freq[..freq.len().min(n as usize)];
    let out = Object::new();
    set(&out, "classes", freq.len() as u32);
    let chars: Array = top
        .iter()
        .map(|(c, _)| JsValue::from(c.to_string()))
        .collect();
    set(&out, "chars", chars);
    let f: Vec<f64> = top.iter().map(|(_, q)| *q).collect();
    set(&out, "frequencies", js_sys::Float64Array::from(&f[..]));
    Ok(out)
}

/// Reads a typed vector (`"2, 1, 0.5"`, `"100, 0*49999"`) into a Float32Array; an error names
/// the entry that is not a number.
#[wasm_bindgen(js_name = parseValues)]
pub fn parse_values(text: JsValue) -> Result<Float32Array, JsError> {
    let text = string_arg("text", &text)?;
    if text.len() > crate::limits::MAX_TEXT_BYTES {
        return Err(JsError::new(&format!(
            "text has {} bytes; at most {} are accepted",
            text.len(),
            crate::limits::MAX_TEXT_BYTES
        )));
    }
    let v = lab::parse_values("values", &text).map_err(js_err)?;
    Ok(Float32Array::from(&v[..]))
}

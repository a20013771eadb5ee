//! The `chain` target: sampler chains from untrusted JSON (what `new Sampler(steps)` gets from
//! a page or a console) and from junk URL forms, then run on junk values and histories. Every
//! chain must be refused with an error naming the chain, a step or an argument, or run to a
//! distribution that sums to 1 with no NaN, a kept token, one report per step and a URL form
//! that reads back the same chain.

use logitlab::sampling::chain::{from_json, from_url, to_url, KINDS};
use logitlab::sampling::workbench::Sampler;
use logitlab::sampling::Input;
use serde_json::{json, Map, Value};

use crate::harness::Verdict::Rejected;
use crate::harness::{check, no_nan, stress, try_bug, Bytes, Target, Verdict, MB};

/// Every field name some step has, and a few none has.
const FIELDS: [&str; 24] = [
    "t",
    "range",
    "exponent",
    "k",
    "rule",
    "p",
    "minKeep",
    "epsilon",
    "n",
    "probability",
    "threshold",
    "penalty",
    "lastN",
    "repeat",
    "frequency",
    "presence",
    "multiplier",
    "base",
    "allowedLength",
    "breakers",
    "bias",
    "tau",
    "eta",
    "m",
];
const JUNK_FIELDS: [&str; 4] = ["kind ", "K", "", "__proto__"];

/// A JSON value of any shape, mostly numbers near a parameter's range.
fn value(b: &mut Bytes, depth: usize) -> Value {
    match b.u8() % 16 {
        0..=6 => {
            let x = b.f32() as f64;
            serde_json::Number::from_f64(x).map_or(Value::String("NaN".into()), Value::Number)
        }
        7 => json!(b.u32()),
        8 => json!(-(b.u8() as i64)),
        9 => json!(b.pick(&[
            "huggingface",
            "llama.cpp",
            "-Infinity",
            "Infinity",
            "NaN",
            "",
            "h"
        ])),
        10 => Value::Null,
        11 => json!(b.u8().is_multiple_of(2)),
        12 | 13 if depth < 3 => {
            let n = b.len(8);
            Value::Array((0..n).map(|_| value(b, depth + 1)).collect())
        }
        14 if depth < 3 => {
            let mut m = Map::new();
            m.insert(b.pick(&FIELDS).to_string(), value(b, depth + 1));
            Value::Object(m)
        }
        _ => json!(b.u8() as u64 * 1000),
    }
}

fn chain(b: &mut Bytes) -> Value {
    match b.u8() % 16 {
        0 => return json!(b.pick(&["huggingface", "llama.cpp", "llama", ""])),
        1 => return value(b, 0),
        _ => {}
    }
    let n = b.len(70);
    let steps = (0..n)
        .map(|_| {
            let mut o = Map::new();
            if !b.u8().is_multiple_of(16) {
                let kind = if b.u8().is_multiple_of(16) {
                    json!(b.pick(&["topk", "", "Mirostat", "sample"]))
                } else {
                    json!(b.pick(&KINDS))
                };
                o.insert("kind".into(), kind);
            }
            for _ in 0..b.u8() % 5 {
                let f = if b.u8().is_multiple_of(16) {
                    b.pick(&JUNK_FIELDS)
                } else {
                    b.pick(&FIELDS)
                };
                o.insert(f.into(), value(b, 1));
            }
            Value::Object(o)
        })
        .collect();
    Value::Array(steps)
}

fn run_chain(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let from_text = b.u8().is_multiple_of(8);
    let steps = if from_text {
        // A chain's URL form with a few characters changed to ones the form uses, so that the
        // reader gets past the step names; sometimes plain junk text.
        let text = if b.u8().is_multiple_of(4) {
            b.text(4096)
        } else {
            let base = from_json(&chain(&mut b))
                .map(|c| to_url(&c))
                .unwrap_or_default();
            let mut t: Vec<u8> = base.into_bytes();
            for _ in 0..b.u8() % 4 {
                let c = b.pick(b"0123456789._~-hlinfa");
                match b.u8() % 3 {
                    0 if !t.is_empty() => {
                        let i = b.u32() as usize % t.len();
                        t[i] = c;
                    }
                    1 => {
                        let i = b.u32() as usize % (t.len() + 1);
                        t.insert(i, c);
                    }
                    _ if !t.is_empty() => {
                        let i = b.u32() as usize % t.len();
                        t.remove(i);
                    }
                    _ => {}
                }
            }
            String::from_utf8(t).unwrap_or_default()
        };
        match from_url(&text) {
            Ok(s) => s,
            Err(e) => return Rejected(e.to_string()),
        }
    } else {
        match from_json(&chain(&mut b)) {
            Ok(s) => s,
            Err(e) => return Rejected(e.to_string()),
        }
    };
    let url = to_url(&steps);
    let again = from_url(&url);
    check!(
        again.as_ref() == Ok(&steps),
        "the URL form {url:?} reads back as {again:?}"
    );
    let seed = b.u64() % (1 << 53);
    let mut sampler = match Sampler::new(steps.clone(), Some(seed)) {
        Ok(s) => s,
        Err(e) => return Rejected(e.to_string()),
    };
    let input = b.pick(&[Input::Logits, Input::LogProbs, Input::Probs]);
    let z = b.f32s(1 << 14);
    let n = b.len(300);
    let history: Vec<u32> = (0..n)
        .map(|_| match b.u8() % 4 {
            0 => b.u32(),
            _ => b.u8() as u32 % 16,
        })
        .collect();
    let mut kinds = 0u32;
    for round in 0..3 {
        let d = match sampler.distribution(&z, &history, input) {
            Ok(d) => d,
            Err(e) => return Rejected(e.to_string()),
        };
        let t = match sampler.sample(&z, &history, input) {
            Ok(t) => t,
            Err(e) => return Verdict::Bug(format!("distribution ran, sample failed: {e}")),
        };
        check!(
            t.distribution == d,
            "round {round}: sample saw another distribution"
        );
        let v = z.len();
        check!(d.probs.len() == v && d.cut.len() == v, "lengths");
        try_bug!(no_nan("probs", &d.probs));
        let sum: f64 = d.probs.iter().map(|&p| p as f64).sum();
        check!((sum - 1.0).abs() < 1e-3, "probs sum to {sum}");
        check!(
            t.token < v && d.cut[t.token] == 0 && d.probs[t.token] > 0.0,
            "drew token {} with cut {} and p {}",
            t.token,
            d.cut[t.token],
            d.probs[t.token]
        );
        let kept = d.cut.iter().filter(|&&c| c == 0).count();
        check!(kept == d.kept, "kept = {} but {kept} ids uncut", d.kept);
        check!(d.steps.len() == steps.len(), "{} reports", d.steps.len());
        for (i, r) in d.steps.iter().enumerate() {
            check!(
                r.mass_removed.is_finite() && (-1e-9..=1.0 + 1e-9).contains(&r.mass_removed),
                "step {i} removed mass {}",
                r.mass_removed
            );
            kinds |= ((r.mass_removed > 0.0) as u32) << (i % 32);
        }
        check!(
            d.entropy.is_finite() && d.entropy >= 0.0,
            "entropy {}",
            d.entropy
        );
        if let Some(mu) = sampler.mu() {
            check!(!mu.is_nan(), "mu is NaN");
        }
    }
    Verdict::Ok(format!("{} steps {kinds:b} {:?}", steps.len(), input))
}

fn seeds_chain() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![
            1, 0, 1, 3, 2, 4, 1, 1, 0, 7, 6, 5, 4, 3, 2, 1, 9, 10, 11, 12,
        ],
        vec![
            3, 1, 9, 40, 1, 2, 2, 3, 3, 100, 4, 5, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ],
        b"\x00t_0.8~k_40_l~p_0.95_0~m_0.05_0~x_1_0.1_0~mi2_5_0.1".to_vec(),
    ]
}

pub const TARGET: Target = Target {
    name: "chain",
    budget: 6_000,
    max_input: 512,
    alloc_cap: 16 * MB,
    names: &["chain", "values", "history", "seed"],
    prefix: false,
    seeds: seeds_chain,
    run: run_chain,
};

#[test]
fn stress_chain() {
    stress(&TARGET);
}

//! The sampler workbench against its references: every sampler of Hugging Face transformers
//! and of llama.cpp on the inputs of tests/fixtures/sampler/*.json (made by
//! make_sampler_fixtures.py): the same kept ids, probabilities within 1e-6. Then the chain as
//! data (presets, defaults, the URL form, errors naming the step and field), the state across
//! draws (the generator, Mirostat's μ), seeded draws pinned to the bit, and the steps whose
//! references the fixtures cannot reach (DRY's breakers, the penalties' window) by hand.
//! The same file runs natively and in headless Chromium, where the draws must be the same.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::random_logits;
use logitlab::error::Code;
use logitlab::rng::Rng;
use logitlab::sampling::chain::{fields, from_json, from_url, preset, to_url, KINDS};
use logitlab::sampling::workbench::{Sampler, INPUT_CUT};
use logitlab::sampling::{sample, Input, Rule, SampleOptions, Step};
use serde_json::{json, Value};

const HF: &str = include_str!("fixtures/sampler/hf.json");

/// The fixtures' logits: make_sampler_fixtures.py's `values`, the same 32-bit LCG.
fn values(seed: u64, v: usize, grid: bool, ninf: bool) -> Vec<f32> {
    let mut st = seed as u32;
    let mut next = || {
        st = st.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        st >> 8
    };
    let mut out: Vec<f32> = (0..v)
        .map(|_| {
            let z = if grid {
                ((next() % 161) as f32 - 80.0) / 8.0
            } else {
                (next() % (1 << 20)) as f32 / 65536.0 - 8.0
            };
            if ninf && next() % 5 == 0 {
                f32::NEG_INFINITY
            } else {
                z
            }
        })
        .collect();
    if out.iter().all(|&z| z == f32::NEG_INFINITY) {
        out[0] = 0.0;
    }
    out
}

/// Runs every case of a fixture file; returns the failures, one line each, and how many cases
/// each chain's first kind had.
fn check_fixtures(text: &str) -> (Vec<String>, std::collections::BTreeMap<String, usize>) {
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for (n, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let c = case.as_array().unwrap();
        let steps = from_url(c[0].as_str().unwrap()).unwrap_or_else(|e| panic!("case {n}: {e}"));
        let name = if steps.len() == 1 {
            steps[0].kind().to_string()
        } else {
            "chain".to_string()
        };
        *counts.entry(name).or_insert(0) += 1;
        let (seed, v) = (c[1].as_u64().unwrap(), c[2].as_u64().unwrap() as usize);
        let z = values(seed, v, c[3] == 1, c[4] == 1);
        let history: Vec<u32> = (c[5].as_array().unwrap().iter())
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let mask = u128::from_str_radix(c[6].as_str().unwrap(), 16).unwrap();
        let want: Vec<f64> = (c[7].as_array().unwrap().iter())
            .map(|x| x.as_f64().unwrap() / 1e7)
            .collect();
        let sampler = Sampler::new(steps, Some(1)).unwrap();
        let d = match sampler.distribution(&z, &history, Input::Logits) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("case {n} {}: error {e}", c[0]));
                continue;
            }
        };
        let kept: u128 = (0..v).filter(|&i| d.cut[i] == 0).map(|i| 1u128 << i).sum();
        if kept != mask {
            failures.push(format!(
                "case {n} {} V={v} z={z:?} h={history:?}: kept {kept:x}, reference {mask:x}",
                c[0]
            ));
            continue;
        }
        let ids: Vec<usize> = (0..v).filter(|&i| mask >> i & 1 == 1).collect();
        for (&i, &w) in ids.iter().zip(&want) {
            if (d.probs[i] as f64 - w).abs() > 1e-6 + 5e-8 {
                failures.push(format!(
                    "case {n} {}: p[{i}] = {}, reference {w}",
                    c[0], d.probs[i]
                ));
                break;
            }
        }
    }
    (failures, counts)
}

#[test]
fn every_hugging_face_sampler_keeps_the_ids_transformers_keeps() {
    let (failures, counts) = check_fixtures(HF);
    for (kind, n) in &counts {
        assert!(*n >= 100, "{kind}: only {n} cases");
    }
    assert!(
        failures.is_empty(),
        "{} of the cases differ:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}

const LLAMA: &str = include_str!("fixtures/sampler/llama.json");

#[test]
fn every_llama_cpp_sampler_keeps_the_ids_llama_cpp_keeps() {
    let (failures, counts) = check_fixtures(LLAMA);
    for (kind, n) in &counts {
        assert!(*n >= 100, "{kind}: only {n} cases");
    }
    assert!(
        failures.is_empty(),
        "{} of the cases differ:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}

/// One step's sampler with seed 1.
fn one(step: Value) -> Sampler {
    Sampler::new(from_json(&json!([step])).unwrap(), Some(1)).unwrap()
}

fn kept(cut: &[u8]) -> Vec<usize> {
    (0..cut.len()).filter(|&i| cut[i] == 0).collect()
}

/// Logits like a trained model's at a real vocabulary's size (a Gaussian tail, every 97th id
/// raised): the kept sets run into the thousands, where the steps bucket the ids rather than
/// order them all.
fn large(v: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..v)
        .map(|i| (rng.normal() * 2.0) as f32 + if i % 97 == 0 { 6.0 } else { 0.0 })
        .collect()
}

/// Every id best first by a full sort (score, then the lower id): the test's reference.
fn order(z: &[f32]) -> Vec<usize> {
    let mut o: Vec<usize> = (0..z.len()).collect();
    o.sort_by(|&a, &b| z[b].partial_cmp(&z[a]).unwrap().then(a.cmp(&b)));
    o
}

fn softmax64(z: &[f32]) -> Vec<f64> {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let e: Vec<f64> = z.iter().map(|&x| (x as f64 - m).exp()).collect();
    let t: f64 = e.iter().sum();
    e.iter().map(|x| x / t).collect()
}

/// At V = 60 000 the steps bucket the ids and order one bucket: the kept sets must be those
/// of a full sort, for each step that orders (top-k both ways, top-p, min-p's keep, typical
/// both ways, Mirostat), with thousands of ids kept.
#[test]
fn bucketed_selection_at_a_large_vocabulary_is_a_full_sort() {
    for case in 0..6u64 {
        let z = large(60_000, case);
        let o = order(&z);
        let p = softmax64(&z);
        // Top-k, llama.cpp's rule: exactly the k first.
        for k in [1, 40, 5000] {
            let d = one(json!({"kind": "topK", "k": k, "rule": "llama.cpp"}));
            let d = d.distribution(&z, &[], Input::Logits).unwrap();
            let mut want: Vec<usize> = o[..k].to_vec();
            want.sort();
            assert_eq!(kept(&d.cut), want, "case {case} top-k {k}");
        }
        // Top-p: the smallest prefix of the order with mass ≥ p.
        for top_p in [0.5, 0.9, 0.99] {
            let mut acc = 0.0;
            let n = o.iter().position(|&i| {
                acc += p[i];
                acc >= top_p
            });
            let mut want: Vec<usize> = o[..=n.unwrap()].to_vec();
            want.sort();
            let d = one(json!({"kind": "topP", "p": top_p}));
            let d = d.distribution(&z, &[], Input::Logits).unwrap();
            assert_eq!(kept(&d.cut).len(), want.len(), "case {case} top-p {top_p}");
            assert_eq!(kept(&d.cut), want, "case {case} top-p {top_p}");
        }
        // Min-p with a minKeep above what passes: the minKeep best.
        let d = one(json!({"kind": "minP", "p": 1.0, "minKeep": 3000}));
        let d = d.distribution(&z, &[], Input::Logits).unwrap();
        let mut want: Vec<usize> = o[..3000].to_vec();
        want.sort();
        assert_eq!(kept(&d.cut), want, "case {case} min-p keep");
        // Typical: ids by |−ln p − H|, until the mass passes p.
        for rule in ["huggingface", "llama.cpp"] {
            let want = typical_by_sort(&z, 0.9, rule);
            assert!(want.len() > 500, "{}", want.len());
            let d = one(json!({"kind": "typical", "p": 0.9, "rule": rule, "minKeep": 1}));
            let d = d.distribution(&z, &[], Input::Logits).unwrap();
            assert_eq!(kept(&d.cut), want, "case {case} typical {rule}");
        }
    }
}

/// Typical's kept ids by a full sort in float64: the ids by |−ln p_i − H| (then the lower id)
/// until the running mass reaches p (Hugging Face, which also keeps every id tied with the last
/// one's distance) or passes it (llama.cpp).
fn typical_by_sort(z: &[f32], top: f64, rule: &str) -> Vec<usize> {
    let p = softmax64(z);
    let h: f64 = -p
        .iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x * x.ln())
        .sum::<f64>();
    let key = |i: usize| (-p[i].ln() - h).abs();
    let mut by_key: Vec<usize> = (0..z.len()).collect();
    by_key.sort_by(|&a, &b| key(a).partial_cmp(&key(b)).unwrap().then(a.cmp(&b)));
    let mut acc = 0.0;
    let n = (by_key.iter())
        .position(|&i| {
            acc += p[i];
            if rule == "llama.cpp" {
                acc > top
            } else {
                acc >= top
            }
        })
        .unwrap();
    let mut want: Vec<usize> = by_key[..=n].to_vec();
    if rule == "huggingface" {
        let edge = key(by_key[n]);
        want.extend(by_key[n + 1..].iter().filter(|&&i| key(i) == edge));
    }
    want.sort();
    want
}

/// Typical at V = 60 000 on distributions of other shapes than a Gaussian's: one id far
/// ahead, a Zipf tail, half the mass on one id and the rest nearly flat (the typical set is the
/// tail), two clusters, ties on a grid. Typical walks the ids near the entropy first, then a
/// wider band, then every id: whichever serves, it keeps what a full sort keeps.
#[test]
fn typical_keeps_what_a_full_sort_keeps_for_every_shape() {
    let v = 60_000;
    let mut rng = Rng::new(11);
    let mut normal = move || rng.normal() as f32;
    let shapes: Vec<(&str, Vec<f32>)> = vec![
        (
            "one far ahead",
            (0..v)
                .map(|i| normal() + if i == 7 { 14.0 } else { 0.0 })
                .collect(),
        ),
        (
            "Zipf",
            (0..v)
                .map(|i| -1.1 * ((i + 1) as f32).ln() + 0.1 * normal())
                .collect(),
        ),
        (
            "half on one",
            (0..v)
                .map(|i| {
                    if i == 3 {
                        ((v - 1) as f32).ln()
                    } else {
                        0.3 * normal()
                    }
                })
                .collect(),
        ),
        (
            "two clusters",
            (0..v)
                .map(|i| 0.5 * normal() + if i % 3 == 0 { 8.0 } else { 0.0 })
                .collect(),
        ),
        (
            "grid",
            (0..v).map(|_| (normal() * 4.0).round() / 2.0).collect(),
        ),
    ];
    for (name, z) in &shapes {
        for top in [0.2, 0.9, 0.99] {
            for rule in ["huggingface", "llama.cpp"] {
                let want = typical_by_sort(z, top, rule);
                let d = one(json!({"kind": "typical", "p": top, "rule": rule, "minKeep": 1}));
                let d = d.distribution(z, &[], Input::Logits).unwrap();
                let got = kept(&d.cut);
                assert_eq!(got.len(), want.len(), "{name}, p = {top}, {rule}");
                assert_eq!(got, want, "{name}, p = {top}, {rule}");
            }
        }
    }
}

#[test]
fn presets_are_the_references_defaults_and_fill_every_field() {
    let hf = Sampler::new(preset("huggingface").unwrap(), Some(0)).unwrap();
    let kinds: Vec<&str> = hf.chain().iter().map(|s| s.kind()).collect();
    assert_eq!(kinds, ["temperature", "topK", "topP", "minP"]);
    assert_eq!(
        hf.chain()[1],
        Step::TopK {
            k: 50,
            rule: Rule::HuggingFace
        }
    );
    let ll = preset("llama.cpp").unwrap();
    let kinds: Vec<&str> = ll.iter().map(|s| s.kind()).collect();
    assert_eq!(
        kinds,
        [
            "penalties",
            "dry",
            "topNSigma",
            "topK",
            "typical",
            "topP",
            "minP",
            "xtc",
            "dynamicTemperature"
        ]
    );
    assert_eq!(
        ll[8].to_json(),
        json!({"kind": "dynamicTemperature", "t": 0.8, "range": 0.0, "exponent": 1.0})
    );
    assert_eq!(
        ll[5].to_json(),
        json!({"kind": "topP", "p": 0.95, "minKeep": 0})
    );
    // A step given by its kind alone takes every default, and lists them all.
    let steps = from_json(&json!([{"kind": "dry"}, {"kind": "mirostatV2"}])).unwrap();
    assert_eq!(
        steps[0].to_json(),
        json!({"kind": "dry", "multiplier": 0.0, "base": 1.75, "allowedLength": 2, "lastN": 64,
               "breakers": []})
    );
    assert_eq!(
        steps[1].to_json(),
        json!({"kind": "mirostatV2", "tau": 5.0, "eta": 0.1})
    );
    // The "huggingface" preset's chain is `sample`'s, with Hugging Face's top-k 50.
    let z = random_logits(&mut Rng::new(3), 300, 2.0);
    let d = hf.distribution(&z, &[], Input::Logits).unwrap();
    let s = sample(
        &z,
        &SampleOptions {
            top_k: 50,
            seed: Some(0),
            ..SampleOptions::default()
        },
    )
    .unwrap();
    for i in 0..z.len() {
        assert_eq!(d.cut[i] == 0, s.cut[i] == logitlab::sampling::Cut::Kept);
        assert!((d.probs[i] - s.probs[i]).abs() < 1e-7);
    }
}

#[test]
fn the_url_form_reads_back_every_chain() {
    let mut chains = vec![preset("huggingface").unwrap(), preset("llama.cpp").unwrap()];
    let every: Vec<Value> = KINDS.iter().map(|k| json!({"kind": k})).collect();
    let mut all = from_json(&Value::Array(every)).unwrap_err().to_string();
    assert!(all.contains("must be the last step"), "{all}");
    // Every kind, Mirostat last, with fields away from their defaults.
    let odd = json!([
        {"kind": "temperature", "t": 0.7},
        {"kind": "dynamicTemperature", "t": 0.9, "range": 0.25, "exponent": 1.5},
        {"kind": "topK", "k": 7, "rule": "llama.cpp"},
        {"kind": "topP", "p": 0.93, "minKeep": 2},
        {"kind": "minP", "p": 0.0125, "minKeep": 0},
        {"kind": "typical", "p": 0.6, "minKeep": 3, "rule": "llama.cpp"},
        {"kind": "epsilon", "epsilon": 0.0003},
        {"kind": "eta", "epsilon": 0.002},
        {"kind": "topNSigma", "n": 1.5},
        {"kind": "xtc", "probability": 0.5, "threshold": 0.1, "minKeep": 1},
        {"kind": "repetitionPenalty", "penalty": 1.3},
        {"kind": "penalties", "lastN": -1, "repeat": 1.1, "frequency": -0.25, "presence": 0.5},
        {"kind": "noRepeatNgram", "n": 3},
        {"kind": "dry", "multiplier": 0.8, "base": 1.75, "allowedLength": 2, "lastN": 64,
         "breakers": [[198], [25, 7, 1]]},
        {"kind": "logitBias", "bias": [[3, -1.5], [9, "-Infinity"], [3, 2.0]]},
        {"kind": "mirostat", "tau": 4.5, "eta": 0.2, "m": 50},
    ]);
    chains.push(from_json(&odd).unwrap());
    chains.push(vec![]);
    for c in chains {
        let url = to_url(&c);
        assert!(
            url.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
            "{url}"
        );
        assert_eq!(from_url(&url).unwrap(), c, "{url}");
    }
    assert_eq!(
        to_url(&preset("huggingface").unwrap()),
        "t_1~k_50_h~p_1_1~m_0_1"
    );
    assert_eq!(
        to_url(&preset("llama.cpp").unwrap()),
        "pen_64_1_0_0~dry_0_1.75_2_64~s_-1~k_40_l~y_1_0_l~p_0.95_0~m_0.05_0~x_0_0.1_0~dt_0.8_0_1"
    );
    all = from_url("t_1~k_50_q").unwrap_err().to_string();
    assert!(all.contains("rule must be h or l"), "{all}");
    for bad in [
        "t",
        "t_1_2",
        "zz_1",
        "k_1.5_h",
        "t_-1",
        "lb_1",
        "dry_1_2_3",
        "mi2_1_1~t_1",
        "t1",
    ] {
        assert!(from_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn bad_steps_are_errors_naming_the_step_the_field_and_the_range() {
    let cases = [
        (
            json!([{"kind": "topk"}]),
            "chain[0].kind must be one of",
            Code::ChainUnknownKind,
        ),
        (
            json!([{"k": 3}]),
            "chain[0] has no kind; it must be one of",
            Code::ChainMissingKind,
        ),
        (
            json!([{"kind": "temperature"}, {"kind": "topP", "p": 1.5}]),
            "chain[1].p (topP) must be a number in [0, 1], got 1.5",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "topK", "k": 2.5}]),
            "chain[0].k (topK) must be an integer in [0, 4294967295], got 2.5",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "topK", "rule": "hf"}]),
            "chain[0].rule (topK) must be \"huggingface\" or \"llama.cpp\"",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "repetitionPenalty", "penalty": 0}]),
            "chain[0].penalty (repetitionPenalty) must be a number > 0, got 0",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "temperature", "t": "hot"}]),
            "chain[0].t (temperature) must be a number >= 0, got the string \"hot\"",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "dry", "base": 0.5}]),
            "chain[0].base (dry) must be a number >= 1",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "dry", "breakers": [[]]}]),
            "chain[0].breakers (dry) must be an array of token-id sequences",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "logitBias", "bias": [[1, "Infinity"]]}]),
            "chain[0].bias (logitBias) must be an array of [id, value] pairs",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "penalties", "lastN": -2}]),
            "chain[0].lastN (penalties) must be an integer in [-1, 2147483647], got -2",
            Code::ChainBadParam,
        ),
        (
            json!([{"kind": "topP", "q": 1}]),
            "chain[0] (topP) has an unknown field `q`; expected one of",
            Code::ChainUnknownField,
        ),
        (
            json!([{"kind": "mirostat"}, {"kind": "temperature"}]),
            "chain[0] (mirostat) selects the token, so it must be the last step",
            Code::ChainSelectorLast,
        ),
        (json!("llama"), "chain must be", Code::ChainPreset),
        (
            Value::Array(vec![json!({"kind": "temperature"}); 65]),
            "chain has 65 steps; at most 64",
            Code::ChainTooLong,
        ),
    ];
    for (chain, message, code) in cases {
        let e = from_json(&chain).unwrap_err();
        assert!(e.to_string().starts_with(message), "{e}");
        assert_eq!(e.code(), Some(code), "{e}");
    }
    // Errors at run time: a bias beyond V, a step that cuts every id, a bad seed.
    let s = one(json!({"kind": "logitBias", "bias": [[5, 1.0]]}));
    let e = s.distribution(&[1.0, 2.0], &[], Input::Logits).unwrap_err();
    assert!(
        e.to_string()
            .contains("chain[0].bias (logitBias) names id 5"),
        "{e}"
    );
    let s = one(json!({"kind": "noRepeatNgram", "n": 1}));
    let e = s
        .distribution(&[1.0, 2.0], &[0, 1], Input::Logits)
        .unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainAllCut), "{e}");
    assert!(Sampler::new(vec![], Some(1 << 53)).is_err());
}

/// The parameters a coded chain error carries for the page: a missing kind is said to be
/// missing (not quoted as “”), a list over its cap is a count with the cap, a range has its
/// float32 bounds, and a value is written as JS writes it (5, NaN).
#[test]
fn chain_errors_carry_what_the_page_quotes() {
    let param = |e: &logitlab::Error, name: &str| -> String {
        let (_, v) = (e.params().iter())
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{e} has no {name}"));
        match v {
            logitlab::error::Param::Int(n) => n.to_string(),
            logitlab::error::Param::Text(s) => s.clone(),
        }
    };
    let e = from_json(&json!([{"t": 1}])).unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainMissingKind));
    assert_eq!(e.params().len(), 2, "{e}");
    // The index in the array, from 0 as the message's chain[0]; the page's step number, from 1.
    assert_eq!(
        (param(&e, "index"), param(&e, "step")),
        ("0".into(), "1".into())
    );

    let many = vec![json!([1]); 257];
    let e = from_json(&json!([{"kind": "dry", "breakers": many}])).unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainTooMany), "{e}");
    assert_eq!(
        (param(&e, "count"), param(&e, "max")),
        ("257".into(), "256".into())
    );
    assert!(
        e.to_string()
            .contains("has 257 entries; at most 256 are accepted"),
        "{e}"
    );

    // A finite number beyond float32 is out of every range, which the page writes so.
    let e = from_json(&json!([{"kind": "topNSigma", "n": 1e39}])).unwrap_err();
    assert_eq!(param(&e, "range"), "[−3.4028235e38, 3.4028235e38]");
    let e = from_json(&json!([{"kind": "temperature", "t": 1e39}])).unwrap_err();
    assert_eq!(param(&e, "range"), "[0, 3.4028235e38]");

    // An integer's range names its largest value too: a value past it is refused.
    let e = from_json(&json!([{"kind": "topK", "k": 5e9}])).unwrap_err();
    assert_eq!(param(&e, "range"), "{0, 1, …, 4294967295}");
    let e = from_json(&json!([{"kind": "penalties", "lastN": -2}])).unwrap_err();
    assert_eq!(param(&e, "range"), "{−1, 0, …, 2147483647}");

    // JS's NaN reaches the reader as the string "NaN": named as the number, unquoted.
    let e = from_json(&json!([{"kind": "topP", "p": "NaN"}])).unwrap_err();
    assert_eq!(param(&e, "value"), "NaN");
    assert!(e.to_string().ends_with("got NaN"), "{e}");
    let e = from_json(&json!([{"kind": "topP", "p": 5.0}])).unwrap_err();
    assert_eq!(param(&e, "value"), "5");
    assert!(e.to_string().ends_with("got 5"), "{e}");
    let e = from_json(&json!([{"kind": "topP", "p": "5"}])).unwrap_err();
    assert_eq!(param(&e, "value"), "\"5\"");

    // Run-time errors with codes: a bias id ≥ V, and a history over its cap.
    let s = one(json!({"kind": "logitBias", "bias": [[5, 1.0]]}));
    let e = s.distribution(&[1.0, 2.0], &[], Input::Logits).unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainBiasId), "{e}");
    assert_eq!(
        (param(&e, "id"), param(&e, "vocab")),
        ("5".into(), "2".into())
    );
    // The id is text, which the page writes as it writes ids (never grouped); V is a count.
    assert!(e
        .params()
        .iter()
        .any(|(n, v)| *n == "id" && matches!(v, logitlab::error::Param::Text(_))));
    let s = one(json!({"kind": "temperature"}));
    let long = vec![0u32; logitlab::limits::MAX_HISTORY + 1];
    let e = s
        .distribution(&[1.0, 2.0], &long, Input::Logits)
        .unwrap_err();
    assert_eq!(e.code(), Some(Code::HistoryTooLong), "{e}");
    assert_eq!(param(&e, "max"), logitlab::limits::MAX_HISTORY.to_string());
}

/// `cut` names the step that removed each id (its index + 1), 255 the input's −∞; each step
/// reports how many ids it left and the mass it removed.
#[test]
fn cut_codes_and_reports_name_each_step() {
    let chain = json!([
        {"kind": "logitBias", "bias": [[5, "-Infinity"]]},
        {"kind": "topK", "k": 4, "rule": "llama.cpp"},
        {"kind": "topP", "p": 0.9, "minKeep": 1},
    ]);
    let s = Sampler::new(from_json(&chain).unwrap(), Some(3)).unwrap();
    let z = [5.0, 4.0, 3.0, 2.0, 1.0, 0.0, f32::NEG_INFINITY, -1.0];
    let d = s.distribution(&z, &[], Input::Logits).unwrap();
    assert_eq!(d.cut, vec![0, 0, 0, 3, 2, 1, INPUT_CUT, 2]);
    let kept: Vec<usize> = d.steps.iter().map(|r| r.kept).collect();
    assert_eq!(kept, [6, 4, 3]);
    let p = softmax64(&[5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0]);
    assert!((d.steps[0].mass_removed - p[5]).abs() < 1e-7);
    let after_bias = softmax64(&[5.0, 4.0, 3.0, 2.0, 1.0, -1.0]);
    let want = after_bias[4] + after_bias[5];
    assert!((d.steps[1].mass_removed - want).abs() < 1e-7);
    let q = softmax64(&[5.0, 4.0, 3.0, 2.0]);
    assert!((d.steps[2].mass_removed - q[3]).abs() < 1e-7);
    let sum: f32 = d.probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-6);
}

/// `distribution` changes nothing and shows what `sample` then draws from; `sample` advances
/// the generator (XTC's coin included) and Mirostat's μ by μ ← μ − η·(−log2 p − τ).
#[test]
fn distribution_is_what_sample_draws_from_and_sample_advances_the_state() {
    let z = random_logits(&mut Rng::new(8), 200, 3.0);
    let chain = json!([{"kind": "xtc", "probability": 0.5, "threshold": 0.05}, {"kind": "mirostatV2", "tau": 3.0, "eta": 0.2}]);
    let mut s = Sampler::new(from_json(&chain).unwrap(), Some(11)).unwrap();
    let mut xtc_fired = [0, 0];
    let mut mu = 6.0f32;
    for _ in 0..40 {
        assert_eq!(s.mu(), Some(mu));
        let d = s.distribution(&z, &[], Input::Logits).unwrap();
        assert_eq!(d, s.distribution(&z, &[], Input::Logits).unwrap());
        let t = s.sample(&z, &[], Input::Logits).unwrap();
        assert_eq!(t.distribution, d);
        assert_eq!(d.mu, Some(mu));
        assert!(d.probs[t.token] > 0.0);
        xtc_fired[(d.steps[0].kept < 200) as usize] += 1;
        mu -= 0.2 * (-d.probs[t.token].log2() - 3.0);
        assert_eq!(s.mu().unwrap().to_bits(), mu.to_bits());
    }
    assert!(xtc_fired[0] > 5 && xtc_fired[1] > 5, "{xtc_fired:?}");
    // Mirostat 1.0 starts from μ = 2τ too.
    let s = one(json!({"kind": "mirostat", "tau": 2.5}));
    assert_eq!(s.mu(), Some(5.0));
    assert_eq!(one(json!({"kind": "topK"})).mu(), None);
}

/// Seeded draws are the same bits natively and in Chromium: the tokens and Mirostat's μ after
/// 12 draws of each chain are pinned here, and this file runs in both.
#[test]
fn seeded_draws_are_pinned_on_every_target() {
    let z = large(5000, 21);
    let chains = [
        json!("llama.cpp"),
        json!("huggingface"),
        json!([{"kind": "xtc", "probability": 0.5, "threshold": 0.01}, {"kind": "temperature", "t": 0.9}]),
        json!([{"kind": "topK", "k": 100}, {"kind": "mirostat", "tau": 3.0, "eta": 0.1}]),
        json!([{"kind": "mirostatV2", "tau": 4.0, "eta": 0.1}]),
    ];
    let mut got = Vec::new();
    for c in &chains {
        let mut s = Sampler::new(from_json(c).unwrap(), Some(42)).unwrap();
        let mut history: Vec<u32> = vec![1, 2, 3];
        for _ in 0..12 {
            let t = s.sample(&z, &history, Input::Logits).unwrap();
            history.push(t.token as u32);
        }
        got.push((history[3..].to_vec(), s.mu().map(f32::to_bits)));
    }
    let want: Vec<(Vec<u32>, Option<u32>)> = PINNED
        .to_vec()
        .into_iter()
        .map(|(t, m)| (t.to_vec(), m))
        .collect();
    assert_eq!(got, want, "{got:?}");
}

/// The draws of `seeded_draws_are_pinned_on_every_target`: tokens, and μ's bits.
const PINNED: [(&[u32], Option<u32>); 5] = [
    (
        &[
            2037, 2037, 4656, 2037, 2037, 2037, 1358, 2037, 1455, 4268, 2037, 2619,
        ],
        None,
    ),
    (
        &[
            3395, 1455, 4879, 2037, 2619, 2037, 1261, 2037, 1358, 4365, 2037, 4268,
        ],
        None,
    ),
    (
        &[
            1947, 2037, 2037, 2955, 4753, 4268, 582, 2554, 343, 2037, 4365, 2037,
        ],
        None,
    ),
    (
        &[
            2619, 1455, 4656, 2037, 2037, 2037, 1261, 2037, 1358, 4268, 2037, 4268,
        ],
        Some(1087193066),
    ),
    (
        &[
            2619, 1455, 4947, 2037, 2619, 2037, 1261, 2037, 1358, 4365, 2037, 4268,
        ],
        Some(1091208343),
    ),
];

/// The scores a chain leaves, read back from its probabilities: ln p_i − ln p_0.
fn scores_after(chain: Value, z: &[f32], history: &[u32]) -> Vec<f64> {
    let s = Sampler::new(from_json(&chain).unwrap(), Some(0)).unwrap();
    let d = s.distribution(z, history, Input::Logits).unwrap();
    let p0 = d.probs[0] as f64;
    d.probs.iter().map(|&p| (p as f64 / p0).ln()).collect()
}

/// DRY's breakers (which llama.cpp takes as strings, so its fixtures have none), by hand:
/// history 1 9 2 3 5 1 9 2 3 repeats "1 9 2 3" (length 4) once, so 5, which followed it, loses
/// multiplier · base^(4 − allowed). A breaker inside the repeat caps its length.
#[test]
fn dry_breakers_cap_the_repeat_by_hand() {
    let h = [1, 9, 2, 3, 5, 1, 9, 2, 3];
    let z = [0.0f32; 10];
    let dry = |allowed: u32, breakers: Value| {
        let c = json!([{"kind": "dry", "multiplier": 1.0, "base": 2.0, "allowedLength": allowed,
                        "lastN": 64, "breakers": breakers}]);
        scores_after(c, &z, &h)
    };
    let near = |a: &[f64], want: &[(usize, f64)]| {
        for (i, &x) in a.iter().enumerate() {
            let w = want.iter().find(|(j, _)| *j == i).map_or(0.0, |&(_, w)| w);
            assert!((x - w).abs() < 1e-5, "id {i}: {x} want {w} in {a:?}");
        }
    };
    near(&dry(2, json!([])), &[(5, -4.0)]);
    // "9" ends the repeat two ids back: length 2, base^0.
    near(&dry(2, json!([[9]])), &[(5, -1.0)]);
    near(&dry(3, json!([])), &[(5, -2.0)]);
    near(&dry(3, json!([[9]])), &[]);
    // "9 2" as one breaker ends it one id back: below allowedLength 2, nothing.
    near(&dry(2, json!([[9, 2]])), &[]);
    // A one-id breaker is never penalised itself: 9 1 9 1 would make 9 lose 2^(2 − 1).
    let c = |b: Value| {
        json!([{"kind": "dry", "multiplier": 1.0, "base": 2.0, "allowedLength": 1,
                               "lastN": 64, "breakers": b}])
    };
    near(&scores_after(c(json!([])), &z, &[9, 1, 9, 1]), &[(9, -2.0)]);
    near(&scores_after(c(json!([[9]])), &z, &[9, 1, 9, 1]), &[]);
}

/// llama.cpp's penalties over a window of the history (−1 = all of it), by hand: repeat 2,
/// frequency 0.5, presence 1; id 4 seen three times, id 1 once.
#[test]
fn penalties_count_the_window_by_hand() {
    let z = [0.0f32, 1.0, 2.0, 3.0, 4.0];
    let h = [4, 4, 4, 1];
    let pen = |last_n: i32| {
        let c = json!([{"kind": "penalties", "lastN": last_n, "repeat": 2.0, "frequency": 0.5,
                        "presence": 1.0}]);
        scores_after(c, &z, &h)
    };
    // id 4: 4 / 2 − (3 · 0.5 + 1) = −0.5; id 1: 1 / 2 − (0.5 + 1) = −1.
    let all = pen(-1);
    assert!(
        (all[4] + 0.5).abs() < 1e-5 && (all[1] + 1.0).abs() < 1e-5,
        "{all:?}"
    );
    let last = pen(1);
    assert!(
        (last[4] - 4.0).abs() < 1e-5 && (last[1] + 1.0).abs() < 1e-5,
        "{last:?}"
    );
    assert_eq!(pen(0), scores_after(json!([]), &z, &h));
}

/// The draw over the whole vocabulary (by blocks of 256 ids) follows `probs`: 20 000 draws of
/// a chain that cuts nothing, V = 1000, counted in 8 groups of ids (chi-square, df 7).
#[test]
fn draws_over_the_whole_vocabulary_follow_probs() {
    let z: Vec<f32> = (0..1000).map(|i| ((i % 37) as f32 * 0.1).sin()).collect();
    let mut s = Sampler::new(
        from_json(&json!([{"kind": "temperature", "t": 0.7}])).unwrap(),
        Some(4),
    )
    .unwrap();
    let d = s.distribution(&z, &[], Input::Logits).unwrap();
    assert!(d.cut.iter().all(|&c| c == 0));
    let group = |i: usize| i * 8 / 1000;
    let mut want = [0.0f64; 8];
    for (i, &p) in d.probs.iter().enumerate() {
        want[group(i)] += p as f64;
    }
    let n = 20_000;
    let mut counts = [0.0f64; 8];
    for _ in 0..n {
        counts[group(s.sample(&z, &[], Input::Logits).unwrap().token)] += 1.0;
    }
    let chi2: f64 = (0..8)
        .map(|g| (counts[g] - want[g] * n as f64).powi(2) / (want[g] * n as f64))
        .sum();
    // 99.9th percentile of chi-square with 7 degrees of freedom.
    assert!(chi2 < 24.3, "chi² = {chi2}, counts {counts:?}");
}

/// `fields` lists what `from_json` reads for each kind: the same names, each default the
/// filled-in step's value, each range the one it checks.
#[test]
fn fields_are_what_each_kind_reads() {
    for kind in KINDS {
        let specs = fields(kind).unwrap();
        let step = Step::from_json(0, &json!({ "kind": kind }))
            .unwrap()
            .to_json();
        let obj = step.as_object().unwrap();
        let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let mut keys: Vec<&str> = (obj.keys().map(|k| k.as_str()))
            .filter(|&k| k != "kind")
            .collect();
        names.sort_unstable();
        keys.sort_unstable();
        assert_eq!(names, keys, "{kind}");
        for s in specs.iter().filter(|s| s.default.is_some()) {
            let d = s.default.unwrap() as f32;
            assert_eq!(
                obj[&s.name].as_f64().unwrap() as f32,
                d,
                "{kind}.{}",
                s.name
            );
            let (lo, hi) = (s.min.unwrap(), s.max.unwrap());
            assert!(lo <= d as f64 && d as f64 <= hi, "{kind}.{}", s.name);
        }
    }
    let p = fields("topP").unwrap();
    assert_eq!(
        (
            p[0].name.as_str(),
            p[0].min,
            p[0].max,
            p[0].integer,
            p[0].range.as_str()
        ),
        ("p", Some(0.0), Some(1.0), false, "[0, 1]")
    );
    assert_eq!(
        (p[1].name.as_str(), p[1].min, p[1].integer),
        ("minKeep", Some(0.0), true)
    );
    let k = fields("topK").unwrap();
    assert_eq!(k[1].choices, ["huggingface", "llama.cpp"]);
    // The bound a range names is the one it checks: just past it is refused.
    let e = from_json(&json!([{ "kind": "topP", "p": 1.0000001 }])).unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainBadParam));
    let e = fields(&"topk".repeat(1000)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("kind must be one of temperature,"),
        "{e}"
    );
    assert!(e.to_string().len() < 400, "{e}");
    // A long unknown kind in a chain is quoted briefly too.
    let e = from_json(&json!([{ "kind": "x".repeat(10_000) }])).unwrap_err();
    assert_eq!(e.code(), Some(Code::ChainUnknownKind));
    assert!(e.to_string().len() < 400, "{}", e.to_string().len());
}

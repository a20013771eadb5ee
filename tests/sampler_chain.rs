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

use logitlab::error::Code;
use logitlab::sampling::chain::{self, from_json, from_url, preset, to_url};
use logitlab::sampling::workbench::{Sampler, INPUT_CUT};
use logitlab::sampling::{Input, Rule, Step};
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
        let steps = from_json(&c[0]).unwrap_or_else(|e| panic!("case {n}: {e}"));
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

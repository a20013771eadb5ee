//! The student's maths against its definitions: softmax sums to one and agrees with
//! log-softmax and logsumexp; entropy grows with temperature. The same file runs natively
//! (`cargo test`) and in headless Chromium (`wasm-pack test`), where `#[test]` becomes
//! `#[wasm_bindgen_test]`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::random_logits;
use logitlab::numerics::{entropy, log_softmax, logsumexp, softmax};
use logitlab::rng::Rng;

#[test]
fn softmax_sums_to_one_and_matches_log_softmax() {
    let mut rng = Rng::new(1);
    for case in 0..200 {
        let v = 1 + rng.below(300) as usize;
        let scale = [0.1, 1.0, 10.0, 1e3][case % 4];
        let z: Vec<f32> = (0..v).map(|_| (rng.normal() * scale) as f32).collect();
        let p = softmax(&z, 1.0).unwrap();
        let sum: f64 = p.iter().map(|&x| x as f64).sum();
        assert!((sum - 1.0).abs() < 1e-5, "case {case}: sum {sum}");
        let lp = log_softmax(&z).unwrap();
        let lse = logsumexp(&z).unwrap();
        for i in 0..v {
            assert!(((lp[i].exp()) - p[i]).abs() < 1e-6);
            // z_i − lse in f32 carries the rounding of both terms.
            assert!((lp[i] - (z[i] - lse)).abs() <= 1e-6 * (1.0 + z[i].abs() + lse.abs()));
        }
    }
}

#[test]
fn entropy_grows_with_temperature() {
    let mut rng = Rng::new(5);
    for _ in 0..50 {
        let z = random_logits(&mut rng, 100, 3.0);
        let mut last = -1.0;
        for step in 1..=60 {
            let t = step as f32 * 0.05;
            let h = entropy(&softmax(&z, t).unwrap());
            assert!(h >= last - 1e-9, "H dropped at T={t}: {h} < {last}");
            last = h;
        }
    }
}

//! The losses against hand values, finite differences and PyTorch: cross-entropy and NLL with
//! every option, and the four pipelines of the training view (which loss sees which input, and
//! the gradient each carries back to the logits). The same file runs natively (`cargo test`) and
//! in headless Chromium (`wasm-pack test`), where `#[test]` becomes `#[wasm_bindgen_test]`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::loss::{loss, pipeline_loss, LossFunction, LossOptions, Pipeline, Reduction};
use logitlab::numerics::{log_softmax, softmax};
use logitlab::rng::Rng;

fn ce(c: usize) -> LossOptions {
    LossOptions::new(c)
}

#[test]
fn cross_entropy_hand_values() {
    // cross_entropy([[1, 2, 3]], [2]) = logsumexp(1, 2, 3) − 3.
    let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    let r = loss(&[1.0, 2.0, 3.0], &[2], &ce(3)).unwrap();
    assert!((r.loss as f64 - (lse - 3.0)).abs() < 1e-7);
    // grad = softmax − onehot.
    let p: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|z| (z - lse).exp()).collect();
    let want = [p[0], p[1], p[2] - 1.0];
    for (g, w) in r.grad.iter().zip(want) {
        assert!((*g as f64 - w).abs() < 1e-7);
    }
}

#[test]
fn the_four_pipelines_of_the_seed() {
    let z = [2.0f32, -1.0, 0.5, 4.0, 3.0, 3.0, -2.0, 0.0];
    let targets = [1, 0];
    let lp: Vec<f32> = z.chunks(4).flat_map(|r| log_softmax(r).unwrap()).collect();
    let p: Vec<f32> = z.chunks(4).flat_map(|r| softmax(r, 1.0).unwrap()).collect();
    let nll = LossOptions {
        function: LossFunction::Nll,
        ..ce(4)
    };
    let a = loss(&z, &targets, &ce(4)).unwrap();
    let b = loss(&lp, &targets, &nll).unwrap();
    // crossEntropy(logits) = nll(log_softmax(logits)), and the gradients agree.
    assert!((a.loss - b.loss).abs() < 1e-6);
    // crossEntropy on log-probs = nll on them (log_softmax is idempotent).
    let c = loss(&lp, &targets, &ce(4)).unwrap();
    assert!((c.loss - b.loss).abs() < 1e-6);
    // nll on raw logits is just −mean z_y: here −(−1 + 3)/2 = −1, a negative "loss".
    let d = loss(&z, &targets, &nll).unwrap();
    assert_eq!(d.loss, -1.0);
    // crossEntropy on probabilities: bounded below by the loss of a one-hot p, ln(1 + 3/e)
    // per row for C = 4, and its gradient is tiny next to the true one.
    let e = loss(&p, &targets, &ce(4)).unwrap();
    assert!(e.loss as f64 >= (1.0 + 3.0 / 1f64.exp()).ln());
    let norm = |g: &[f32]| g.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(norm(&e.grad) < norm(&a.grad));
}

#[test]
fn pipeline_losses_carry_the_gradient_back_to_the_logits() {
    let mut rng = Rng::new(61);
    for case in 0..24 {
        let c = 2 + rng.below(7) as usize;
        let n = 1 + rng.below(4) as usize;
        let z: Vec<f32> = (0..n * c).map(|_| 2.0 * rng.normal() as f32).collect();
        let targets: Vec<i32> = (0..n).map(|_| rng.below(c as u64) as i32).collect();
        let o = LossOptions {
            reduction: if case % 2 == 0 {
                Reduction::Mean
            } else {
                Reduction::Sum
            },
            ..ce(c)
        };
        let run = |p: Pipeline, z: &[f32]| pipeline_loss(z, &targets, p, &o).unwrap();
        let [a, b, d, e] = Pipeline::ALL.map(|p| run(p, &z));
        // The two correct pipelines: same loss, and dz = (softmax(z) − onehot) / N for mean.
        assert!((a.output.loss - b.output.loss).abs() < 1e-5, "case {case}");
        let scale = if case % 2 == 0 { n as f64 } else { 1.0 };
        for (i, row) in z.chunks(c).enumerate() {
            let p = softmax(row, 1.0).unwrap();
            for k in 0..c {
                let want = (p[k] as f64 - if k as i32 == targets[i] { 1.0 } else { 0.0 }) / scale;
                for got in [&a.grad_logits, &b.grad_logits] {
                    assert!((got[i * c + k] as f64 - want).abs() < 1e-6, "case {case}");
                }
            }
        }
        // What each loss saw.
        assert_eq!(a.inputs, z);
        assert_eq!(d.inputs, z);
        let lp: Vec<f32> = z.chunks(c).flat_map(|r| log_softmax(r).unwrap()).collect();
        assert_eq!(b.inputs, lp);
        let p: Vec<f32> = z.chunks(c).flat_map(|r| softmax(r, 1.0).unwrap()).collect();
        assert_eq!(e.inputs, p);
        // nll on logits: −Σ z_y (/ N), so its gradient is −onehot (/ N) whatever z is.
        for (i, &t) in targets.iter().enumerate() {
            for k in 0..c {
                let want = if k as i32 == t { -1.0 / scale } else { 0.0 };
                assert!((d.grad_logits[i * c + k] as f64 - want).abs() < 1e-7);
            }
        }
        // Every pipeline's dz against central finite differences of its loss in z.
        for (pipe, r) in Pipeline::ALL.iter().zip([&a, &b, &d, &e]) {
            let h = 1e-2f32;
            for j in 0..z.len() {
                let (mut up, mut down) = (z.clone(), z.clone());
                up[j] += h;
                down[j] -= h;
                let fd = (run(*pipe, &up).output.loss - run(*pipe, &down).output.loss) / (2.0 * h);
                assert!(
                    (fd - r.grad_logits[j]).abs() < 3e-3,
                    "case {case}, {pipe:?}, j {j}: fd {fd} vs grad {}",
                    r.grad_logits[j]
                );
            }
        }
    }
    // Label smoothing belongs to crossEntropy: an nll pipeline says so.
    let smooth = LossOptions {
        label_smoothing: 0.1,
        ..ce(3)
    };
    let err = pipeline_loss(&[1.0, 2.0, 3.0], &[0], Pipeline::NllOnLogSoftmax, &smooth)
        .unwrap_err()
        .to_string();
    assert!(err.contains("labelSmoothing"), "{err}");
    assert!(pipeline_loss(
        &[1.0, 2.0, 3.0],
        &[0],
        Pipeline::CrossEntropyOnSoftmax,
        &smooth
    )
    .is_ok());
}

#[test]
fn loss_grad_equals_finite_differences() {
    let mut rng = Rng::new(6);
    for case in 0..40 {
        let c = 2 + rng.below(6) as usize;
        let n = 1 + rng.below(4) as usize;
        let z: Vec<f32> = (0..n * c).map(|_| rng.normal() as f32).collect();
        let mut targets: Vec<i32> = (0..n).map(|_| rng.below(c as u64) as i32).collect();
        if n > 1 && case % 3 == 0 {
            targets[0] = -100;
        }
        let weight = (case % 2 == 0).then(|| (0..c).map(|_| 0.5 + rng.next_f64() as f32).collect());
        let o = LossOptions {
            function: if case % 4 == 3 {
                LossFunction::Nll
            } else {
                LossFunction::CrossEntropy
            },
            reduction: if case % 5 == 0 {
                Reduction::Sum
            } else {
                Reduction::Mean
            },
            weight,
            label_smoothing: if case % 4 == 3 {
                0.0
            } else {
                [0.0, 0.1, 0.3][case % 3]
            },
            ..ce(c)
        };
        let r = loss(&z, &targets, &o).unwrap();
        let h = 1e-2f32;
        for j in 0..z.len() {
            let mut up = z.clone();
            up[j] += h;
            let mut down = z.clone();
            down[j] -= h;
            let fd = (loss(&up, &targets, &o).unwrap().loss
                - loss(&down, &targets, &o).unwrap().loss)
                / (2.0 * h);
            assert!(
                (fd - r.grad[j]).abs() < 2e-3,
                "case {case}, j {j}: fd {fd} vs grad {}",
                r.grad[j]
            );
        }
    }
}

#[test]
fn loss_argument_errors() {
    let o = ce(3);
    assert!(loss(&[1.0; 5], &[0, 1], &o)
        .unwrap_err()
        .to_string()
        .contains("values has length 5"));
    assert!(loss(&[1.0; 3], &[3], &o)
        .unwrap_err()
        .to_string()
        .contains("targets[0] = 3"));
    assert!(loss(&[1.0; 3], &[-1], &o).is_err());
    assert!(loss(&[1.0; 3], &[-100], &o)
        .unwrap_err()
        .to_string()
        .contains("mean"));
    assert_eq!(
        loss(
            &[1.0; 3],
            &[-100],
            &LossOptions {
                reduction: Reduction::Sum,
                ..ce(3)
            }
        )
        .unwrap()
        .loss,
        0.0
    );
    assert!(loss(&[1.0, f32::NAN, 0.0], &[0], &o).is_err());
    let w = LossOptions {
        weight: Some(vec![1.0, 2.0]),
        ..ce(3)
    };
    assert!(loss(&[1.0; 3], &[0], &w)
        .unwrap_err()
        .to_string()
        .starts_with("weight"));
    let ls = LossOptions {
        label_smoothing: 1.5,
        ..ce(3)
    };
    assert!(loss(&[1.0; 3], &[0], &ls)
        .unwrap_err()
        .to_string()
        .starts_with("labelSmoothing"));
    let nls = LossOptions {
        label_smoothing: 0.1,
        function: LossFunction::Nll,
        ..ce(3)
    };
    assert!(loss(&[1.0; 3], &[0], &nls).is_err());
}

/// One reference computed by PyTorch (tests/fixtures/make_loss_fixtures.py).
struct LossCase {
    name: &'static str,
    classes: usize,
    values: &'static [f32],
    targets: &'static [i32],
    function: &'static str,
    reduction: &'static str,
    ignore_index: i64,
    weight: Option<&'static [f32]>,
    label_smoothing: f32,
    loss: f64,
    rows: &'static [f64],
    grad: &'static [f64],
}

include!("fixtures/loss_cases.rs");

#[test]
fn losses_match_pytorch_fixtures() {
    let close = |a: f32, b: f64| (a as f64 - b).abs() <= 2e-6 * (1.0 + b.abs());
    assert!(LOSS_CASES.len() > 100);
    for k in LOSS_CASES {
        let o = LossOptions {
            classes: k.classes,
            function: LossFunction::parse(k.function).unwrap(),
            reduction: Reduction::parse(k.reduction).unwrap(),
            ignore_index: k.ignore_index,
            weight: k.weight.map(|w| w.to_vec()),
            label_smoothing: k.label_smoothing,
        };
        let r = loss(k.values, k.targets, &o).unwrap_or_else(|e| panic!("{}: {e}", k.name));
        assert!(
            close(r.loss, k.loss),
            "{}: loss {} vs PyTorch {}",
            k.name,
            r.loss,
            k.loss
        );
        for (i, (&a, &b)) in r.rows.iter().zip(k.rows).enumerate() {
            assert!(close(a, b), "{}: rows[{i}] {a} vs PyTorch {b}", k.name);
        }
        for (i, (&a, &b)) in r.grad.iter().zip(k.grad).enumerate() {
            assert!(close(a, b), "{}: grad[{i}] {a} vs PyTorch {b}", k.name);
        }
    }
}

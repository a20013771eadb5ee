//! The six distillation pipelines against PyTorch (`F.kl_div`, `F.cross_entropy`, autograd) for
//! every reduction, with −∞ logits and probabilities of 0, and against the relations the page
//! states: no T² is 1/T² of the recipe, "mean" is 1/V of "batchmean", probabilities as input go
//! negative. The same file runs natively (`cargo test`) and in headless Chromium
//! (`wasm-pack test`), where `#[test]` becomes `#[wasm_bindgen_test]`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::distill::{distill_loss, DistillOptions, DistillPipeline, KlReduction};
use logitlab::rng::Rng;

struct DistillCase {
    name: &'static str,
    classes: usize,
    student: &'static [f32],
    teacher: &'static [f32],
    targets: &'static [i32],
    temperature: f64,
    alpha: f64,
    ce_term: f64,
    results: &'static [DistillExpect],
}

struct DistillExpect {
    pipeline: &'static str,
    reduction: &'static str,
    /// PyTorch's loss or gradient is NaN: the lab refuses the input.
    error: bool,
    loss: f64,
    kl_term: f64,
    grad: &'static [f64],
    soft_grad: &'static [f64],
}

include!("fixtures/distill_cases.rs");

/// Equal to 1e-6, relative above 1 (the huge logits' case has terms of 10^4); infinities equal.
fn close(got: f64, want: f64) -> bool {
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= 1e-6 * want.abs().max(1.0)
}

fn reduction(name: &str) -> KlReduction {
    match name {
        "batchmean" => KlReduction::Batchmean,
        "mean" => KlReduction::Mean,
        "sum" => KlReduction::Sum,
        _ => panic!("{name}"),
    }
}

#[test]
fn every_pipeline_and_reduction_matches_pytorch() {
    let mut checked = 0;
    for case in DISTILL_CASES {
        assert_eq!(case.student.len(), case.targets.len() * case.classes);
        for e in case.results {
            let opts = DistillOptions {
                pipeline: DistillPipeline::parse(e.pipeline).unwrap(),
                temperature: case.temperature,
                alpha: case.alpha,
                reduction: Some(reduction(e.reduction)),
            };
            let at = format!("{} {} {}", case.name, e.pipeline, e.reduction);
            let r = distill_loss(case.student, case.teacher, case.targets, &opts);
            if e.error {
                let msg = r.expect_err(&at).to_string();
                assert!(msg.contains("PyTorch"), "{at}: {msg}");
                continue;
            }
            let r = r.unwrap_or_else(|err| panic!("{at}: {err}"));
            assert!(close(r.loss, e.loss), "{at}: loss {} vs {}", r.loss, e.loss);
            assert!(
                close(r.kl_term, e.kl_term),
                "{at}: kl {} vs {}",
                r.kl_term,
                e.kl_term
            );
            assert!(
                close(r.ce_term, case.ce_term),
                "{at}: ce {} vs {}",
                r.ce_term,
                case.ce_term
            );
            for (k, (&g, &w)) in r.grad.iter().zip(e.grad).enumerate() {
                assert!(close(g as f64, w), "{at}: grad[{k}] {g} vs {w}");
            }
            for (k, (&g, &w)) in r.soft_grad.iter().zip(e.soft_grad).enumerate() {
                assert!(close(g as f64, w), "{at}: softGrad[{k}] {g} vs {w}");
            }
            assert_eq!(r.grad.len(), e.grad.len(), "{at}");
            checked += 1;
        }
    }
    // 160 expectations, 15 of them PyTorch's NaN.
    assert_eq!(checked, 145);
}

fn random(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (scale * rng.normal()) as f32).collect()
}

fn norm(g: &[f32]) -> f64 {
    g.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt()
}

#[test]
fn the_three_bugs_scale_the_recipe_as_the_page_says() {
    let mut rng = Rng::new(30);
    let (n, v) = (4, 84);
    let s = random(&mut rng, n * v, 2.0);
    let t = random(&mut rng, n * v, 3.0);
    let y: Vec<i32> = (0..n).map(|_| rng.below(v as u64) as i32).collect();
    for temperature in [1.0, 2.0, 4.0, 10.0] {
        let run = |pipeline| {
            let o = DistillOptions {
                pipeline,
                temperature,
                alpha: 0.3,
                reduction: None,
            };
            distill_loss(&s, &t, &y, &o).unwrap()
        };
        let hinton = run(DistillPipeline::Hinton);
        // No T²: the soft term and its gradient are 1/T² of the recipe's.
        let no_t2 = run(DistillPipeline::NoTSquared);
        let t2 = temperature * temperature;
        assert!((no_t2.kl_term * t2 - hinton.kl_term).abs() < 1e-12 * hinton.kl_term.max(1.0));
        let ratio = norm(&no_t2.soft_grad) / norm(&hinton.soft_grad);
        assert!(
            (ratio * t2 - 1.0).abs() < 1e-6,
            "T = {temperature}: {ratio}"
        );
        // "mean": 1/V of "batchmean", term and gradient.
        let mean = run(DistillPipeline::MeanReduction);
        assert_eq!(mean.reduction, KlReduction::Mean);
        assert!((mean.kl_term * v as f64 - hinton.kl_term).abs() < 1e-12 * hinton.kl_term);
        let ratio = norm(&mean.soft_grad) / norm(&hinton.soft_grad);
        assert!((ratio * v as f64 - 1.0).abs() < 1e-6);
        // The hard term is the same in every pipeline, and the baseline is it alone.
        let base = run(DistillPipeline::Baseline);
        assert_eq!(base.ce_term, hinton.ce_term);
        assert_eq!(base.loss, base.ce_term);
        assert_eq!(base.kl_term, 0.0);
        assert_eq!(base.grad, base.hard_grad);
        // The recipe's gradient is the (1 − α, α) mix of its two.
        for ((g, sg), hg) in hinton
            .grad
            .iter()
            .zip(&hinton.soft_grad)
            .zip(&hinton.hard_grad)
        {
            assert!((g - (0.7 * sg + 0.3 * hg)).abs() < 1e-7);
        }
    }
}

#[test]
fn probabilities_as_input_go_negative_and_the_divergences_do_not() {
    let mut rng = Rng::new(31);
    let (n, v) = (3, 20);
    for _ in 0..20 {
        let s = random(&mut rng, n * v, 2.0);
        let t = random(&mut rng, n * v, 2.0);
        let y: Vec<i32> = (0..n).map(|_| rng.below(v as u64) as i32).collect();
        let run = |pipeline, student: &[f32]| {
            let o = DistillOptions {
                pipeline,
                temperature: 2.0,
                alpha: 0.0,
                reduction: None,
            };
            distill_loss(student, &t, &y, &o).unwrap()
        };
        // Σ p log p − Σ p q < 0 always: each term is ≤ 0 and p log p < 0 unless p is one-hot.
        assert!(run(DistillPipeline::ProbsAsInput, &s).kl_term < 0.0);
        assert!(run(DistillPipeline::Hinton, &s).kl_term >= 0.0);
        assert!(run(DistillPipeline::ReverseKl, &s).kl_term >= 0.0);
        // A student equal to its teacher: both divergences are 0 and so are their gradients.
        for p in [DistillPipeline::Hinton, DistillPipeline::ReverseKl] {
            let same = run(p, &t);
            assert!(same.kl_term.abs() < 1e-12, "{p:?}");
            assert!(norm(&same.soft_grad) < 1e-7, "{p:?}");
        }
    }
}

#[test]
fn the_soft_gradient_matches_central_differences() {
    let mut rng = Rng::new(32);
    let (n, v) = (2, 5);
    let s: Vec<f32> = random(&mut rng, n * v, 1.5);
    let t = random(&mut rng, n * v, 1.5);
    let y = [1, 3];
    for pipeline in DistillPipeline::ALL {
        for reduction in [KlReduction::Batchmean, KlReduction::Mean, KlReduction::Sum] {
            let o = DistillOptions {
                pipeline,
                temperature: 1.7,
                alpha: 0.4,
                reduction: Some(reduction),
            };
            let at = |x: &[f32]| distill_loss(x, &t, &y, &o).unwrap().loss;
            let r = distill_loss(&s, &t, &y, &o).unwrap();
            let h = 1e-2f32;
            for k in 0..n * v {
                let (mut up, mut down) = (s.clone(), s.clone());
                up[k] += h;
                down[k] -= h;
                let fd = (at(&up) - at(&down)) / (up[k] - down[k]) as f64;
                assert!(
                    (fd - r.grad[k] as f64).abs() < 2e-4,
                    "{pipeline:?} {reduction:?} [{k}]: {fd} vs {}",
                    r.grad[k]
                );
            }
        }
    }
}

#[test]
fn bad_arguments_name_themselves() {
    let s = [0.0f32, 1.0, 2.0, 3.0];
    let o = DistillOptions::default();
    let err = |s: &[f32], t: &[f32], y: &[i32], o: &DistillOptions| {
        distill_loss(s, t, y, o).unwrap_err().to_string()
    };
    assert!(err(&s, &s, &[], &o).contains("targets must not be empty"));
    assert!(err(&s, &s, &[0, 1, 2], &o).contains("student has length 4"));
    assert!(err(&s, &s[..2], &[0, 1], &o).contains("teacher has length 2"));
    assert!(err(&s, &s, &[0, 2], &o).contains("targets[1] must be a class index in [0, 2)"));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1001.0] {
        let o = DistillOptions {
            temperature: bad,
            ..o
        };
        assert!(err(&s, &s, &[0, 1], &o).contains("temperature must be a number in (0, 1000]"));
    }
    for bad in [-0.1, 1.5, f64::NAN] {
        let o = DistillOptions { alpha: bad, ..o };
        assert!(err(&s, &s, &[0, 1], &o).contains("alpha must be a number in [0, 1]"));
    }
    let nan = [0.0, f32::NAN, 1.0, 2.0];
    assert!(err(&s, &nan, &[0, 1], &o).contains("teacher[1] is NaN"));
    let inf = [0.0, 1.0, f32::INFINITY, 2.0];
    assert!(err(&inf, &s, &[0, 1], &o).contains("student[2] is +Infinity"));
    let row = [0.0, 1.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
    assert!(err(&row, &s, &[0, 1], &o).contains("student row 1 is all -Infinity"));
}

#[test]
fn a_pipelines_own_reduction_is_the_default() {
    let s = [0.5f32, -1.0, 2.0, 0.0, 1.0, 1.5];
    let t = [1.0f32, 0.0, 0.5, -2.0, 3.0, 0.1];
    for p in DistillPipeline::ALL {
        let o = DistillOptions {
            pipeline: p,
            ..Default::default()
        };
        let r = distill_loss(&s, &t, &[2, 1], &o).unwrap();
        let want = if p == DistillPipeline::MeanReduction {
            KlReduction::Mean
        } else {
            KlReduction::Batchmean
        };
        assert_eq!(r.reduction, want, "{p:?}");
    }
}

//! Calibration against PyTorch: the 15-bin reliability diagram, ECE, NLL, Brier and the
//! temperature fitted on held-out positions, before and after; and the facts the page states:
//! top-1 accuracy does not move with T, the fit lowers the NLL it minimises. The same file runs
//! natively (`cargo test`) and in headless Chromium (`wasm-pack test`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::calibration::{calibrate, fit_temperature, reliability, Reliability, DEFAULT_BINS};
use logitlab::rng::Rng;

struct CalibrationCase {
    name: &'static str,
    classes: usize,
    logits: &'static [f32],
    targets: &'static [u32],
    /// T fitted on the first half by L-BFGS.
    temperature: f64,
    /// The NLL of the first half at that T.
    fit_nll: f64,
    before: Figures,
    after: Figures,
}

struct Figures {
    /// (confidence, accuracy, count) per bin.
    bins: &'static [(f64, f64, usize)],
    ece: f64,
    nll: f64,
    brier: f64,
    accuracy: f64,
}

include!("fixtures/calibration_cases.rs");

fn same(at: &str, got: &Reliability, want: &Figures) {
    assert_eq!(got.bins.len(), want.bins.len(), "{at}");
    for (k, (b, &(c, a, n))) in got.bins.iter().zip(want.bins).enumerate() {
        assert_eq!(b.count, n, "{at}: bin {k}");
        assert!(
            (b.confidence - c).abs() < 1e-9,
            "{at}: bin {k} {} vs {c}",
            b.confidence
        );
        assert!((b.accuracy - a).abs() < 1e-12, "{at}: bin {k}");
    }
    for (name, g, w) in [
        ("ece", got.ece, want.ece),
        ("nll", got.nll, want.nll),
        ("brier", got.brier, want.brier),
        ("accuracy", got.accuracy, want.accuracy),
    ] {
        assert!((g - w).abs() < 1e-9, "{at}: {name} {g} vs {w}");
    }
}

#[test]
fn figures_and_the_fitted_temperature_match_pytorch() {
    for case in CALIBRATION_CASES {
        assert_eq!(case.logits.len(), case.targets.len() * case.classes);
        let c = calibrate(case.logits, case.targets, DEFAULT_BINS, true).unwrap();
        assert!(
            (c.temperature - case.temperature).abs() < 1e-4,
            "{}: T {} vs {}",
            case.name,
            c.temperature,
            case.temperature
        );
        // The minimum itself: the NLL there equals PyTorch's to far below the T tolerance.
        let half = case.targets.len() / 2;
        let fit = reliability(
            &case.logits[..half * case.classes],
            &case.targets[..half],
            c.temperature,
            DEFAULT_BINS,
        )
        .unwrap();
        assert!((fit.nll - case.fit_nll).abs() < 1e-9, "{}", case.name);
        assert_eq!(c.fit_positions, half);
        same(&format!("{} before", case.name), &c.before, &case.before);
        // After, measured at PyTorch's T, so the figures compare to the last digits.
        let z = &case.logits[half * case.classes..];
        let after = reliability(z, &case.targets[half..], case.temperature, DEFAULT_BINS).unwrap();
        same(&format!("{} after", case.name), &after, &case.after);
        let ours = c.after.unwrap();
        assert!((ours.ece - case.after.ece).abs() < 1e-3, "{}", case.name);
        assert!(ours.ece < c.before.ece, "{}", case.name);
    }
}

#[test]
fn top1_accuracy_does_not_move_with_temperature() {
    let mut rng = Rng::new(77);
    let (n, v) = (300, 12);
    let z: Vec<f32> = (0..n * v).map(|_| (2.0 * rng.normal()) as f32).collect();
    let y: Vec<u32> = (0..n).map(|_| rng.below(v as u64) as u32).collect();
    let at_one = reliability(&z, &y, 1.0, DEFAULT_BINS).unwrap();
    for t in [0.05, 0.3, 0.9, 1.7, 4.0, 50.0] {
        let r = reliability(&z, &y, t, DEFAULT_BINS).unwrap();
        assert_eq!(r.accuracy, at_one.accuracy, "T = {t}");
        // The bins' hits add up to the same correct count.
        let hits: f64 = r.bins.iter().map(|b| b.accuracy * b.count as f64).sum();
        assert!((hits - at_one.accuracy * n as f64).abs() < 1e-9, "T = {t}");
        assert_eq!(r.bins.iter().map(|b| b.count).sum::<usize>(), n);
        // Confidence rises as T falls: the mean top-1 probability orders the temperatures.
        let mean_conf: f64 = r.bins.iter().map(|b| b.confidence * b.count as f64).sum();
        let at_one_conf: f64 = at_one
            .bins
            .iter()
            .map(|b| b.confidence * b.count as f64)
            .sum();
        assert_eq!(mean_conf > at_one_conf, t < 1.0, "T = {t}");
    }
    let c = calibrate(&z, &y, DEFAULT_BINS, true).unwrap();
    assert_eq!(c.after.unwrap().accuracy, c.before.accuracy);
}

#[test]
fn the_fit_is_the_minimum_of_the_nll() {
    // Logits of a model over-confident by 3: the targets are drawn from softmax(z / 3).
    let mut rng = Rng::new(78);
    let (n, v) = (2000, 8);
    let z: Vec<f32> = (0..n * v).map(|_| (3.0 * rng.normal()) as f32).collect();
    let y: Vec<u32> = z
        .chunks(v)
        .map(|row| {
            let p = logitlab::numerics::softmax(row, 3.0).unwrap();
            let mut u = rng.next_f64() as f32;
            p.iter()
                .position(|&pk| {
                    u -= pk;
                    u < 0.0
                })
                .unwrap_or(v - 1) as u32
        })
        .collect();
    let t = fit_temperature(&z, &y).unwrap();
    assert!((t - 3.0).abs() < 0.3, "{t}");
    let nll = |t: f64| reliability(&z, &y, t, DEFAULT_BINS).unwrap().nll;
    for dt in [1e-3, 1e-2, 0.1] {
        assert!(nll(t) <= nll(t + dt) && nll(t) <= nll(t - dt), "{dt}");
    }
}

#[test]
fn bad_arguments_name_themselves() {
    let err = |r: logitlab::Result<Reliability>| r.unwrap_err().to_string();
    assert!(err(reliability(&[], &[], 1.0, 15)).contains("targets must not be empty"));
    assert!(err(reliability(&[1.0, 2.0, 3.0], &[0, 1], 1.0, 15)).contains("logits has length 3"));
    assert!(
        err(reliability(&[1.0, f32::NAN], &[0], 1.0, 15)).contains("logits[1] must be a finite")
    );
    assert!(err(reliability(&[1.0, 2.0], &[2], 1.0, 15))
        .contains("targets[0] must be a class index in [0, 2)"));
    assert!(err(reliability(&[1.0, 2.0], &[1], 0.0, 15)).contains("temperature must be"));
    assert!(err(reliability(&[1.0, 2.0], &[1], 1.0, 0))
        .contains("bins must be an integer in [1, 1000]"));
    let e = calibrate(&[1.0, 2.0], &[1], 15, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 2 positions"), "{e}");
}

#[test]
fn a_texts_positions_are_the_models_own_logits() {
    let net =
        logitlab::model::Net::from_safetensors(include_bytes!("../www/models/default.safetensors"))
            .unwrap();
    let text = &include_str!("../www/texts/romeo-and-juliet.txt")[..1000];
    let p = logitlab::calibration::text_positions(&net, text).unwrap();
    let (v, ctx) = (net.config().vocab_size, net.config().context_length);
    let ids = net.encode(text).unwrap();
    assert_eq!(p.tokens, ids.len());
    // Windows of ctx + 1 ids: each but its first token is a target.
    let windows = ids.len().div_ceil(ctx + 1);
    assert_eq!(p.targets.len(), ids.len() - windows);
    assert_eq!(p.logits.len(), p.targets.len() * v);
    // The second window's third position: the forward pass over that window's ids.
    let w = &ids[ctx + 1..2 * (ctx + 1)];
    let row = net
        .forward_ids(&w[..3], logitlab::model::OutputMode::Logits)
        .unwrap();
    let at = ctx + 2;
    assert_eq!(p.targets[at], w[3]);
    assert_eq!(&p.logits[at * v..(at + 1) * v], &row[2 * v..3 * v]);
    // The calibration of the default model on it: a T near 1, accuracy unchanged.
    let c = calibrate(&p.logits, &p.targets, DEFAULT_BINS, true).unwrap();
    assert!(
        c.temperature > 0.5 && c.temperature < 2.0,
        "{}",
        c.temperature
    );
    assert_eq!(c.after.unwrap().accuracy, c.before.accuracy);
}

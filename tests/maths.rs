//! The maths core against its definitions: softmax and log-softmax, the sampler chain, the
//! losses. The same file runs natively (`cargo test`) and in headless Chromium
//! (`wasm-pack test`), where `#[test]` becomes `#[wasm_bindgen_test]`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::loss::{loss, pipeline_loss, LossFunction, LossOptions, Pipeline, Reduction};
use logitlab::numerics::{
    at_least, entropy, exp_le0, exp_scaled, kept_score, log_softmax, logsumexp, softmax, sum, Exps,
};
use logitlab::rng::Rng;
use logitlab::sampling::{sample, sample_with, Cut, Input, SampleOptions};

/// Random logits with distinct values (so that definitions by rank have one answer).
fn random_logits(rng: &mut Rng, v: usize, scale: f64) -> Vec<f32> {
    let mut z: Vec<f32> = (0..v).map(|_| (rng.normal() * scale) as f32).collect();
    z.sort_by(|a, b| a.partial_cmp(b).unwrap());
    z.dedup();
    // Shuffle so that rank and id are unrelated.
    for i in (1..z.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        z.swap(i, j);
    }
    z
}

fn opts(t: f32, k: usize, p: f32, m: f32, seed: u64) -> SampleOptions {
    SampleOptions {
        temperature: t,
        top_k: k,
        top_p: p,
        min_p: m,
        seed: Some(seed),
        ..SampleOptions::default()
    }
}

/// The kept set by the definitions, with a full sort: the reference the fast chain must match.
fn reference_kept(z: &[f32], o: &SampleOptions) -> Vec<bool> {
    let v = z.len();
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: Vec<f64> = z
        .iter()
        .map(|&x| ((x - m) / o.temperature) as f64)
        .collect();
    let mut order: Vec<usize> = (0..v).collect();
    order.sort_by(|&a, &b| s[b].partial_cmp(&s[a]).unwrap().then(a.cmp(&b)));
    let mut kept = order.clone();
    if o.top_k > 0 && o.top_k < v {
        kept.truncate(o.top_k);
    }
    if o.top_p < 1.0 {
        let total: f64 = kept.iter().map(|&i| s[i].exp()).sum();
        let mut mass = 0.0;
        let mut n = kept.len();
        for (j, &i) in kept.iter().enumerate() {
            mass += s[i].exp();
            if mass >= o.top_p as f64 * total {
                n = j + 1;
                break;
            }
        }
        kept.truncate(n);
    }
    if o.min_p > 0.0 {
        let best = s[kept[0]];
        kept.retain(|&i| s[i] - best >= (o.min_p as f64).ln());
    }
    let mut mask = vec![false; v];
    for i in kept {
        mask[i] = true;
    }
    mask
}

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
fn kept_sets_are_exactly_the_definitions() {
    let mut rng = Rng::new(2);
    for case in 0..300 {
        let v = 2 + rng.below(500) as usize;
        let z = random_logits(&mut rng, v, [0.5, 2.0, 6.0][case % 3]);
        let v = z.len();
        let o = opts(
            [0.3, 0.8, 1.0, 1.7][case % 4],
            [0, 1, 5, 40, v, v + 3][rng.below(6) as usize],
            [1.0, 0.0, 0.5, 0.9, 0.99][rng.below(5) as usize],
            [0.0, 0.01, 0.1, 0.5, 1.0][rng.below(5) as usize],
            case as u64,
        );
        let s = sample(&z, &o).unwrap();
        let want = reference_kept(&z, &o);
        for i in 0..v {
            assert_eq!(
                s.cut[i] == Cut::Kept,
                want[i],
                "case {case}, id {i}, opts {o:?}, cut {:?}, z {} max {}",
                s.cut[i],
                z[i],
                z.iter().copied().fold(f32::MIN, f32::max)
            );
            if !want[i] {
                assert_eq!(s.probs[i], 0.0, "case {case}, id {i}");
            }
        }
        assert_eq!(s.kept, want.iter().filter(|&&k| k).count());
        assert!(
            (s.entropy - entropy(&s.probs)).abs() < 1e-5,
            "case {case}: entropy"
        );
        let lp = log_softmax(&z).unwrap();
        assert!(
            (s.model_log_prob - lp[s.token]).abs() < 1e-5,
            "case {case}: model log-prob"
        );
        assert!((s.log_prob - s.probs[s.token].ln()).abs() < 1e-6);
        assert!(want[s.token], "drawn token {} was cut", s.token);
        let sum: f64 = s.probs.iter().map(|&x| x as f64).sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
}

/// At a real vocabulary's size, where top-p's two rounds of leaving ids out do most of its work:
/// heavy-headed logits like a trained model's (a Gaussian tail, every 97th id raised).
#[test]
fn kept_sets_at_a_large_vocabulary_are_the_definitions() {
    let mut rng = Rng::new(11);
    for case in 0..8 {
        let z: Vec<f32> = (0..60_000)
            .map(|i| (rng.normal() * 2.0) as f32 + if i % 97 == 0 { 6.0 } else { 0.0 })
            .collect();
        let o = opts(
            [0.8, 1.0, 1.5, 0.3][case % 4],
            [0, 0, 50, 5000][rng.below(4) as usize],
            [0.9, 0.5, 0.99, 0.999][rng.below(4) as usize],
            [0.0, 0.0, 0.05][rng.below(3) as usize],
            case as u64,
        );
        let s = sample(&z, &o).unwrap();
        let want = reference_kept(&z, &o);
        let kept: Vec<bool> = s.cut.iter().map(|&c| c == Cut::Kept).collect();
        assert!(
            kept == want,
            "case {case}, {o:?}: kept {} want {}",
            s.kept,
            want.iter().filter(|&&k| k).count()
        );
        assert_eq!(s.kept, want.iter().filter(|&&k| k).count());
    }
}

/// The final distribution is e_i / Σ e over the kept ids, to the last bit, whichever form the
/// candidate set is in (every id, or the list a filter leaves): e_i = exp((z_i − m) / T) by
/// `exp_le0`, Σ in `numerics::sum`'s order with 0 for every id cut.
#[test]
fn probs_are_e_over_the_kept_sum_to_the_last_bit() {
    let mut rng = Rng::new(5);
    for case in 0..200 {
        let v = 1 + rng.below(3000) as usize;
        let z = random_logits(&mut rng, v, 3.0);
        let o = opts(
            [0.7, 1.0, 1.3][case % 3],
            [0, 3, 200][rng.below(3) as usize],
            [1.0, 0.9, 0.5][rng.below(3) as usize],
            [0.0, 0.05][rng.below(2) as usize],
            case as u64,
        );
        let s = sample(&z, &o).unwrap();
        let m = z.iter().copied().fold(f32::MIN, f32::max);
        let e: Vec<f32> = (z.iter().zip(&s.cut))
            .map(|(&z, &cut)| match cut {
                Cut::Kept if o.temperature == 1.0 => exp_le0(z - m),
                Cut::Kept => exp_le0((z - m) / o.temperature),
                _ => 0.0,
            })
            .collect();
        let total = sum(&e);
        for (i, (&p, &e)) in s.probs.iter().zip(&e).enumerate() {
            assert_eq!(p, (e as f64 / total) as f32, "case {case}, id {i}, {o:?}");
        }
    }
}

/// The simd128 kernels against the scalar code they stand for, bit for bit (natively both are
/// the scalar code): the shift and exp over a sweep of every 251st f32 in [−104, 0] with −∞ and
/// −0, at T = 1 and with the division by T, and `at_least` at every cut-off.
#[test]
fn four_wide_kernels_match_one_at_a_time() {
    let (first, last) = ((-0.0f32).to_bits(), (-104.0f32).to_bits());
    let mut x: Vec<f32> = (first..=last).step_by(251).map(f32::from_bits).collect();
    x.extend([
        f32::NEG_INFINITY,
        -0.0,
        -1e30,
        -f32::MAX,
        -f32::MIN_POSITIVE,
        -1e-45,
    ]);
    for (max, t) in [
        (0.0, 1.0),
        (0.0, 0.8),
        (2.5, 3.0),
        (0.0, 1e-30),
        (f32::MAX, 1.0),
    ] {
        let Exps { s, e, at_one, at_t } = exp_scaled(&x, max, t);
        let shifted: Vec<f32> = x.iter().map(|&x| kept_score(x, x - max)).collect();
        let one: Vec<f32> = shifted.iter().map(|&x| exp_le0(x)).collect();
        for (i, &x) in shifted.iter().enumerate() {
            let want = if t == 1.0 { x } else { kept_score(x, x / t) };
            let at = format!("{x:e} (max {max}, T {t})");
            assert_eq!(s[i].to_bits(), want.to_bits(), "s at {at}");
            assert_eq!(e[i].to_bits(), exp_le0(want).to_bits(), "e at {at}");
        }
        assert_eq!(
            (at_one, at_t),
            (sum(&one), sum(&e)),
            "sums at max {max}, T {t}"
        );
    }
    let mut rng = Rng::new(9);
    let v: Vec<f32> = (0..4099).map(|_| rng.next_f64() as f32).collect();
    for least in [0.0, 1e-9, 0.3, 0.93, 0.9999, 2.0] {
        for n in [0, 1, 3, 4, 5, 4096, 4099] {
            let want: Vec<u32> = (0..n as u32).filter(|&i| v[i as usize] >= least).collect();
            assert_eq!(at_least(&v[..n], least), want, "least {least}, n {n}");
        }
    }
}

#[test]
fn cut_records_which_step_removed_each_id() {
    // p ∝ e^z: ids sorted by z, id 0 best.
    let z = [5.0, 4.0, 3.0, 2.0, 1.0, 0.0, f32::NEG_INFINITY];
    let s = sample(&z, &opts(1.0, 5, 0.9, 0.2, 0)).unwrap();
    // top-k 5 cuts ids 5 and the −∞ id is cut by the input; top-p 0.9 of the 5 left keeps
    // 0, 1, 2 (mass 0.636 + 0.234 + 0.086 = 0.956 ≥ 0.9); min-p 0.2 keeps ids with
    // p ≥ 0.2 · p_0, i.e. z ≥ 5 + ln 0.2 = 3.39: ids 0 and 1.
    let (kept, input, topk, topp, minp) = (Cut::Kept, Cut::Input, Cut::TopK, Cut::TopP, Cut::MinP);
    assert_eq!(s.cut, vec![kept, kept, minp, topp, topp, topk, input]);
    let e = 1f64.exp();
    assert!((s.probs[0] as f64 - e / (e + 1.0)).abs() < 1e-7);
}

#[test]
fn ties_at_the_boundary_keep_the_lower_id() {
    let z = [1.0, 3.0, 2.0, 3.0, 3.0];
    let s = sample(&z, &opts(1.0, 2, 1.0, 0.0, 0)).unwrap();
    let (kept, topk) = (Cut::Kept, Cut::TopK);
    assert_eq!(s.cut, vec![topk, kept, topk, kept, topk]);
    let g = sample(&z, &opts(0.0, 0, 1.0, 0.0, 0)).unwrap();
    assert_eq!(g.token, 1);
    assert_eq!(g.probs, vec![0.0, 1.0, 0.0, 0.0, 0.0]);
    // top-p 0 is greedy too.
    let g = sample(&z, &opts(1.0, 0, 0.0, 0.0, 9)).unwrap();
    assert_eq!((g.token, g.kept), (1, 1));
}

#[test]
fn logits_log_probs_and_probs_agree() {
    let mut rng = Rng::new(3);
    for case in 0..100 {
        let v = 2 + rng.below(200) as usize;
        let z = random_logits(&mut rng, v, 2.0);
        let lp = log_softmax(&z).unwrap();
        let p = softmax(&z, 1.0).unwrap();
        let t = [0.25, 0.7, 1.0, 2.5][case % 4];
        let base = opts(
            t,
            [0, 10][case % 2],
            [1.0, 0.8][case / 2 % 2],
            0.0,
            case as u64,
        );
        let a = sample(&z, &base).unwrap();
        let b = sample(
            &lp,
            &SampleOptions {
                input: Input::LogProbs,
                ..base.clone()
            },
        )
        .unwrap();
        let c = sample(
            &p,
            &SampleOptions {
                input: Input::Probs,
                ..base.clone()
            },
        )
        .unwrap();
        for i in 0..z.len() {
            assert!((a.probs[i] - b.probs[i]).abs() < 1e-6, "case {case}");
            assert!((a.probs[i] - c.probs[i]).abs() < 1e-5, "case {case}");
        }
        assert_eq!(a.token, b.token, "same seed, same distribution, same token");
    }
}

#[test]
fn probs_input_zeros_stay_excluded_and_bad_probs_are_errors() {
    let s = sample(
        &[0.5, 0.0, 0.5],
        &SampleOptions {
            input: Input::Probs,
            ..opts(3.0, 0, 1.0, 0.0, 1)
        },
    )
    .unwrap();
    assert_eq!(s.probs[1], 0.0);
    assert_eq!(s.cut[1], Cut::Input);
    let o = SampleOptions {
        input: Input::Probs,
        ..SampleOptions::default()
    };
    assert!(sample(&[0.5, -0.1], &o)
        .unwrap_err()
        .to_string()
        .contains("values[1]"));
    assert!(sample(&[0.0, 0.0], &o).is_err());
}

#[test]
fn tiny_temperature_is_greedy_and_huge_is_uniform() {
    let mut rng = Rng::new(4);
    for _ in 0..50 {
        let z = random_logits(&mut rng, 50, 1.0);
        let best = logitlab::numerics::argmax(&z);
        let s = sample(&z, &opts(1e-6, 0, 1.0, 0.0, 5)).unwrap();
        assert_eq!(s.token, best);
        assert!(s.probs.iter().all(|p| !p.is_nan()));
        assert_eq!(s.probs[best], 1.0);
        let u = sample(&z, &opts(1e30, 0, 1.0, 0.0, 5)).unwrap();
        let n = z.len() as f32;
        assert!(u.probs.iter().all(|&p| (p - 1.0 / n).abs() < 1e-6));
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

#[test]
fn same_seed_same_token_and_consecutive_seeds_independent() {
    let z = [0.0f32; 10];
    let draws: Vec<usize> = (0..2000)
        .map(|seed| sample(&z, &opts(1.0, 0, 1.0, 0.0, seed)).unwrap().token)
        .collect();
    for seed in 0..50 {
        assert_eq!(
            sample(&z, &opts(1.0, 0, 1.0, 0.0, seed)).unwrap().token,
            draws[seed as usize]
        );
    }
    // Consecutive seeds: uniform counts, and successive draws uncorrelated (transition counts).
    let mut counts = [0f64; 10];
    let mut same_as_previous = 0;
    for w in draws.windows(2) {
        counts[w[1]] += 1.0;
        same_as_previous += (w[0] == w[1]) as usize;
    }
    let chi2: f64 = counts.iter().map(|c| (c - 199.9).powi(2) / 199.9).sum();
    assert!(chi2 < 27.88, "chi² = {chi2} (df 9, p = 0.001)");
    assert!((150..250).contains(&same_as_previous), "{same_as_previous}");
}

#[test]
fn no_seed_draws_one_and_reports_it() {
    let z = [1.0, 2.0, 3.0, 0.5];
    let o = SampleOptions::default();
    let a = sample(&z, &o).unwrap();
    let replay = sample(
        &z,
        &SampleOptions {
            seed: Some(a.seed),
            ..o
        },
    )
    .unwrap();
    assert_eq!(a.token, replay.token);
    assert!(a.seed < 1 << 53);
}

#[test]
fn seeded_draws_follow_probs_chi_square() {
    let z = [2.0, 1.5, 1.0, 0.0, -0.5, -1.0, 0.3, 0.9];
    let o = opts(0.9, 6, 0.95, 0.02, 0);
    let first = sample(&z, &o).unwrap();
    let mut rng = Rng::new(77);
    let n = 20_000;
    let mut counts = vec![0f64; z.len()];
    for _ in 0..n {
        counts[sample_with(&z, &o, &mut rng).unwrap().token] += 1.0;
    }
    let mut chi2 = 0.0;
    let mut df = 0;
    for (i, &p) in first.probs.iter().enumerate() {
        if p > 0.0 {
            let e = p as f64 * n as f64;
            chi2 += (counts[i] - e).powi(2) / e;
            df += 1;
        } else {
            assert_eq!(counts[i], 0.0, "cut id {i} was drawn");
        }
    }
    // df − 1 degrees of freedom; 99.9th percentile for up to 5 df is 20.5.
    assert!(df >= 3 && chi2 < 20.5, "chi² = {chi2}, kept {df}");
}

#[test]
fn bad_sample_arguments_are_errors_naming_the_argument() {
    let z = [1.0, 2.0];
    let cases: Vec<(SampleOptions, &str)> = vec![
        (opts(-1.0, 0, 1.0, 0.0, 0), "temperature"),
        (opts(f32::NAN, 0, 1.0, 0.0, 0), "temperature"),
        (opts(f32::INFINITY, 0, 1.0, 0.0, 0), "temperature"),
        (opts(1.0, 0, 1.5, 0.0, 0), "topP"),
        (opts(1.0, 0, -0.1, 0.0, 0), "topP"),
        (opts(1.0, 0, 1.0, 2.0, 0), "minP"),
        (opts(1.0, 0, 1.0, f32::NAN, 0), "minP"),
        (opts(1.0, 0, 1.0, 0.0, 1 << 60), "seed"),
    ];
    for (o, name) in cases {
        let e = sample(&z, &o).unwrap_err().to_string();
        assert!(e.starts_with(name), "{e}");
    }
    for bad in [
        &[][..],
        &[f32::NAN, 1.0],
        &[f32::NEG_INFINITY; 3],
        &[f32::INFINITY],
    ] {
        assert!(sample(bad, &SampleOptions::default())
            .unwrap_err()
            .to_string()
            .contains("values"));
    }
}

// ---------- losses ----------

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

//! The sampler chain against its definitions: the kept sets of top-k, top-p and min-p by a full
//! sort, the final distribution to the last bit, the fast kernels against the scalar code, the
//! three input kinds, seeded draws, and the errors of bad options. The same file runs natively
//! (`cargo test`) and in headless Chromium (`wasm-pack test`), where `#[test]` becomes
//! `#[wasm_bindgen_test]`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::random_logits;
use logitlab::numerics::{entropy, log_softmax, softmax, sum};
use logitlab::rng::Rng;
use logitlab::sampling::fast::{at_least, exp_le0, exp_scaled, kept_score, Exps};
use logitlab::sampling::{sample, sample_with, Cut, Input, SampleOptions};

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

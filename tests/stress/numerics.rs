//! The `numerics` target: softmax, log_softmax, logsumexp, temperature_identity and
//! stored_precisions on junk values and temperatures.

use logitlab::numerics;

use crate::harness::Verdict::Rejected;
use crate::harness::{check, no_nan, stress, try_bug, Bytes, Target, Verdict, MB};

/// softmax, log_softmax, logsumexp, temperature_identity, stored_precisions.
fn run_numerics(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let op = b.u8() % 5;
    let t = b.f32();
    let z = b.f32s(1 << 17);
    let finite = z.iter().all(|x| x.is_finite()) && t.is_finite();
    let feature = |extra: &str| Verdict::Ok(format!("op{op} {extra}"));
    match op {
        0 => match numerics::softmax(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok(p) => {
                try_bug!(no_nan("softmax", &p));
                let sum: f64 = p.iter().map(|&x| x as f64).sum();
                check!(
                    p.iter().all(|&x| (0.0..=1.0).contains(&x)) && (sum - 1.0).abs() < 1e-3,
                    "softmax sums to {sum} (T = {t}, V = {})",
                    z.len()
                );
                feature(&format!("zeros{}", p.contains(&0.0)))
            }
        },
        1 => match numerics::log_softmax(&z) {
            Err(e) => Rejected(e.to_string()),
            Ok(lp) => {
                try_bug!(no_nan("log_softmax", &lp));
                check!(lp.iter().all(|&x| x <= 1e-5), "log_softmax above 0: {lp:?}");
                feature(&format!("neginf{}", lp.contains(&f32::NEG_INFINITY)))
            }
        },
        2 => match numerics::logsumexp(&z) {
            Err(e) => Rejected(e.to_string()),
            Ok(l) => {
                check!(!l.is_nan(), "logsumexp is NaN");
                check!(!finite || l >= numerics::max(&z), "logsumexp {l} below max");
                feature(&format!("inf{}", l.is_infinite()))
            }
        },
        3 => match numerics::temperature_identity(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok((a, c, diff)) => {
                try_bug!(no_nan("fromLogits", &a));
                try_bug!(no_nan("fromLogSoftmax", &c));
                check!(!diff.is_nan(), "maxAbsDiff is NaN");
                // Equal in exact arithmetic. In f32, log_softmax(z) is rounded by ~1e-7·|z|, and
                // dividing by T amplifies that: at T = 1e-7 the two may differ by O(1), which is
                // the page's point about precision, not a bug. Moderate T and z must agree.
                let moderate = t >= 0.05 && z.iter().all(|x| x.abs() <= 100.0);
                check!(
                    !finite || !moderate || diff < 1e-4,
                    "the identity fails by {diff} at T = {t}"
                );
                feature("")
            }
        },
        _ => match numerics::stored_precisions(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok(s) => {
                for (what, v) in [
                    ("f32", &s.f32),
                    ("f16", &s.f16),
                    ("bf16", &s.bf16),
                    ("logProbs", &s.log_probs),
                ] {
                    try_bug!(no_nan(what, v));
                }
                let zeros = s.zeros();
                feature(&format!("{}", zeros.iter().filter(|&&n| n > 0).count()))
            }
        },
    }
}

fn seeds_numerics() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![], vec![0, 110, 0, 5, 2, 100, 110, 120, 130, 140]];
    for op in 0..5u8 {
        seeds.push(vec![op, 200 + 8, 0, 3, 2, 200, 208, 100]); // T = f32::MAX
        seeds.push(vec![op, 200 + 6, 0, 4, 2, 100, 120, 99, 101]); // T subnormal
    }
    seeds
}

pub const TARGET: Target = Target {
    name: "numerics",
    budget: 20_000,
    max_input: 512,
    alloc_cap: 16 * MB,
    names: &["values", "temperature"],
    prefix: false,
    seeds: seeds_numerics,
    run: run_numerics,
};

#[test]
fn stress_numerics() {
    stress(&TARGET);
}

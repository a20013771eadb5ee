//! The `sample` target: the sampler chain on junk values, input kind, T, top-k, top-p, min-p
//! and seed.

use logitlab::sampling::{sample, Cut, Input, SampleOptions};

use crate::harness::Verdict::Rejected;
use crate::harness::{check, no_nan, stress, try_bug, Bytes, Target, Verdict, MB};

/// The sampler chain with arbitrary options (seed beyond 2^53, topK up to 2^32, ...).
fn run_sample(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let mut o = SampleOptions {
        input: b.pick(&[Input::Logits, Input::LogProbs, Input::Probs]),
        ..SampleOptions::default()
    };
    let flags = b.u8();
    if flags & 1 != 0 {
        o.temperature = b.f32();
    }
    if flags & 2 != 0 {
        o.top_k = match b.u8() % 4 {
            0 => b.u32() as usize,
            _ => b.u8() as usize % 12,
        };
    }
    if flags & 4 != 0 {
        o.top_p = match b.u8() % 3 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    if flags & 8 != 0 {
        o.min_p = match b.u8() % 3 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    o.seed = match flags >> 4 {
        0 => None,
        1 => Some(b.u64()),
        _ => Some(b.u32() as u64),
    };
    let z = b.f32s(1 << 17);
    match sample(&z, &o) {
        Err(e) => Rejected(e.to_string()),
        Ok(s) => {
            let v = z.len();
            check!(s.token < v, "token {} out of range {v}", s.token);
            check!(s.probs.len() == v && s.cut.len() == v, "lengths");
            try_bug!(no_nan("probs", &s.probs));
            let sum: f64 = s.probs.iter().map(|&p| p as f64).sum();
            check!((sum - 1.0).abs() < 1e-3, "probs sum to {sum}");
            check!(
                s.probs[s.token] > 0.0 && s.cut[s.token] == Cut::Kept,
                "drew token {} with p = {} and cut {:?}",
                s.token,
                s.probs[s.token],
                s.cut[s.token]
            );
            let kept = s.cut.iter().filter(|&&c| c == Cut::Kept).count();
            check!(kept == s.kept, "kept = {} but {kept} ids uncut", s.kept);
            check!(
                s.entropy.is_finite() && s.entropy >= 0.0,
                "entropy {}",
                s.entropy
            );
            check!(
                s.log_prob.is_finite() && s.log_prob <= 1e-5,
                "logProb {}",
                s.log_prob
            );
            check!(
                !s.model_log_prob.is_nan() && s.model_log_prob <= 1e-3,
                "modelLogProb {}",
                s.model_log_prob
            );
            if let Some(seed) = o.seed {
                check!(s.seed == seed, "seed {} reported as {}", seed, s.seed);
                let again = sample(&z, &o).map(|t| t.token);
                check!(again == Ok(s.token), "same seed, another token: {again:?}");
            }
            // Which steps cut something, and whether one id or several survived.
            let cuts = s.cut.iter().fold(0u8, |m, &c| m | 1 << c as u8);
            Verdict::Ok(format!("{:?} one{} cuts{cuts:b}", o.input, kept == 1))
        }
    }
}

fn seeds_sample() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![
            0,
            0b1111_1111,
            108,
            1,
            5,
            1,
            200,
            1,
            128,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            8,
            2,
            110,
            90,
        ],
        vec![
            2,
            0b0001_0001,
            110,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            6,
            2,
            100,
            101,
            102,
            203,
            203,
        ],
        vec![
            1,
            0b0001_1111,
            200,
            3,
            0,
            255,
            255,
            255,
            255,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
    ]
}

pub const TARGET: Target = Target {
    name: "sample",
    budget: 20_000,
    max_input: 512,
    alloc_cap: 16 * MB,
    names: &["values", "temperature", "topP", "minP", "seed"],
    prefix: false,
    seeds: seeds_sample,
    run: run_sample,
};

#[test]
fn stress_sample() {
    stress(&TARGET);
}

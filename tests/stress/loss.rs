//! The `loss` target: cross-entropy and NLL on junk values, targets, classes, weights, label
//! smoothing, ignoreIndex and reduction.

use logitlab::loss::{loss, LossFunction, LossOptions, Reduction};

use crate::harness::Verdict::Rejected;
use crate::harness::{check, no_nan, stress, try_bug, Bytes, Target, Verdict, MB};

/// Cross-entropy and NLL with arbitrary options.
fn run_loss(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let classes = match b.u8() % 8 {
        0 => b.u32() as usize,
        _ => b.u8() as usize % 9,
    };
    let mut o = LossOptions::new(classes);
    o.function = b.pick(&[LossFunction::CrossEntropy, LossFunction::Nll]);
    o.reduction = b.pick(&[Reduction::Mean, Reduction::Sum]);
    o.ignore_index = b.pick(&[-100, 0, 1, i32::MIN as i64, i32::MAX as i64, -1]);
    let flags = b.u8();
    if flags & 1 != 0 {
        o.label_smoothing = match b.u8() % 2 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    if flags & 2 != 0 {
        let n = if flags & 4 != 0 {
            b.len(64)
        } else {
            classes.min(64)
        };
        o.weight = Some(
            (0..n)
                .map(|_| match b.u8() % 3 {
                    0 => b.f32(),
                    _ => b.u8() as f32 / 16.0,
                })
                .collect(),
        );
    }
    let n = b.len(1 << 12);
    let targets: Vec<i32> = (0..n)
        .map(|_| match b.u8() % 8 {
            0 => b.pick(&[-100, -1, i32::MIN, i32::MAX, classes as i32]),
            _ => b.u8() as i32 % classes.max(1) as i32,
        })
        .collect();
    let values: Vec<f32> = if flags & 8 != 0 {
        b.f32s(1 << 16)
    } else {
        (0..n.saturating_mul(classes).min(1 << 16))
            .map(|_| b.f32())
            .collect()
    };
    let finite = values.iter().all(|x| x.is_finite());
    match loss(&values, &targets, &o) {
        Err(e) => Rejected(e.to_string()),
        Ok(r) => {
            check!(!r.loss.is_nan(), "loss is NaN (finite inputs: {finite})");
            try_bug!(no_nan("rows", &r.rows));
            try_bug!(no_nan("grad", &r.grad));
            check!(
                r.denominator.is_finite() && r.denominator > 0.0,
                "denominator {}",
                r.denominator
            );
            check!(r.rows.len() == n && r.grad.len() == values.len(), "lengths");
            Verdict::Ok(format!(
                "{:?} {:?} w{} ls{} inf{}",
                o.function,
                o.reduction,
                o.weight.is_some(),
                o.label_smoothing > 0.0,
                r.loss.is_infinite()
            ))
        }
    }
}

fn seeds_loss() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![
            1, 3, 0, 0, 0, 0, 2, 0, 1, 1, 2, 1, 110, 100, 90, 80, 120, 100,
        ],
        vec![
            1, 5, 1, 1, 0, 3, 1, 60, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 3,
        ],
    ]
}

pub const TARGET: Target = Target {
    name: "loss",
    budget: 20_000,
    max_input: 512,
    alloc_cap: 16 * MB,
    names: &[
        "values",
        "targets",
        "classes",
        "weight",
        "labelSmoothing",
        "row",
        "reduction",
    ],
    prefix: false,
    seeds: seeds_loss,
    run: run_loss,
};

#[test]
fn stress_loss() {
    stress(&TARGET);
}

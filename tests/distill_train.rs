//! Students distilled from the default model, trained natively: the pipelines from the same
//! weights on the same batches. At the first step (same weights, same batch) the bugs scale the
//! recipe exactly as the page says.

#![cfg(all(feature = "train", not(target_arch = "wasm32")))]

use logitlab::distill::{DistillOptions, DistillPipeline};
use logitlab::model::{Config, Net};
use logitlab::train::{TrainOptions, Trainer};

const TEXT: &str = include_str!("../www/texts/romeo-and-juliet.txt");

fn teacher() -> Net {
    Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap()
}

fn student(pipeline: DistillPipeline, temperature: f64) -> Trainer {
    let distill = DistillOptions {
        pipeline,
        temperature,
        alpha: 0.5,
        reduction: None,
    };
    let config = Config::preset("tiny", 0).unwrap();
    Trainer::distill(TEXT, config, teacher(), distill, 1, TrainOptions::page()).unwrap()
}

#[test]
fn the_first_step_scales_the_recipe_as_the_page_says() {
    let v = teacher().config().vocab_size as f32;
    for temperature in [2.0, 4.0] {
        let first = |p| student(p, temperature).step(1).unwrap();
        let hinton = first(DistillPipeline::Hinton);
        let no_t2 = first(DistillPipeline::NoTSquared);
        let mean = first(DistillPipeline::MeanReduction);
        let base = first(DistillPipeline::Baseline);
        let (kl, soft) = (hinton.kl_term.unwrap(), hinton.soft_grad_norm.unwrap());
        let t2 = (temperature * temperature) as f32;
        let rel = |a: f32, b: f32| (a - b).abs() / b.abs();
        assert!(rel(no_t2.soft_grad_norm.unwrap() * t2, soft) < 1e-5);
        assert!(rel(no_t2.kl_term.unwrap() * t2, kl) < 1e-5);
        assert!(rel(mean.kl_term.unwrap() * v, kl) < 1e-5);
        assert!(rel(mean.soft_grad_norm.unwrap() * v, soft) < 1e-5);
        // The same weights and batch: the same hard cross-entropy.
        assert_eq!(base.train_ce, hinton.train_ce);
        assert_eq!(base.kl_term, Some(0.0));
    }
}

#[test]
fn a_student_needs_the_teachers_characters_and_context() {
    let distill = DistillOptions::default();
    let config = Config::preset("tiny", 0).unwrap();
    let e = Trainer::distill(
        "abc ☃ def\n".repeat(100).as_str(),
        config,
        teacher(),
        distill,
        1,
        TrainOptions::page(),
    );
    assert!(e.is_err());
    let long = Config {
        context_length: 256,
        ..config
    };
    let e = Trainer::distill(TEXT, long, teacher(), distill, 1, TrainOptions::page())
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("contextLength must be at most the teacher's context length, 128"),
        "{e}"
    );
    let bad = DistillOptions {
        alpha: 2.0,
        ..distill
    };
    let e = Trainer::distill(TEXT, config, teacher(), bad, 1, TrainOptions::page())
        .err()
        .unwrap();
    assert!(e.to_string().contains("alpha must be"), "{e}");
}

/// The page's six students share one teacher: each batch's teacher logits are computed by the
/// first student that needs them and read by the others. Every student's reports are the same,
/// to the bit, as those of students each given a teacher of its own (a separate copy of the
/// same weights, which shares nothing).
#[test]
fn students_of_one_teacher_share_its_forward_pass_and_get_the_same_numbers() {
    let pipelines = [
        DistillPipeline::Hinton,
        DistillPipeline::NoTSquared,
        DistillPipeline::MeanReduction,
        DistillPipeline::Baseline,
    ];
    let make = |teacher: Net, pipeline| {
        let distill = DistillOptions {
            pipeline,
            temperature: 2.0,
            alpha: 0.5,
            reduction: None,
        };
        let config = Config::preset("tiny", 0).unwrap();
        Trainer::distill(TEXT, config, teacher, distill, 1, TrainOptions::page()).unwrap()
    };
    let one = teacher();
    let mut shared: Vec<Trainer> = pipelines.iter().map(|&p| make(one.clone(), p)).collect();
    let mut alone: Vec<Trainer> = pipelines.iter().map(|&p| make(teacher(), p)).collect();
    // Rounds as the page's worker runs them: a few steps of each student in turn.
    for n in [3, 1, 4] {
        for (s, a) in shared.iter_mut().zip(&mut alone) {
            let (rs, ra) = (s.step(n).unwrap(), a.step(n).unwrap());
            assert_eq!(format!("{rs:?}"), format!("{ra:?}"));
            assert_eq!(rs.loss.to_bits(), ra.loss.to_bits());
            assert_eq!(rs.kl_term.map(f32::to_bits), ra.kl_term.map(f32::to_bits));
            assert_eq!(
                rs.soft_grad_norm.map(f32::to_bits),
                ra.soft_grad_norm.map(f32::to_bits)
            );
        }
    }
    // 8 steps: the first shared student computed every batch's teacher logits, the others
    // none; each unshared student computed all 8.
    let passes = |v: &[Trainer]| v.iter().map(Trainer::teacher_passes).collect::<Vec<_>>();
    assert_eq!(passes(&shared), [8, 0, 0, 0]);
    assert_eq!(passes(&alone), [8, 8, 8, 8]);
    // With the first student gone, the second computes the next batch for the other two.
    shared.remove(0);
    for s in &mut shared {
        s.step(1).unwrap();
    }
    assert_eq!(passes(&shared), [1, 0, 0]);
}

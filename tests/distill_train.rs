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

//! The wasm-bindgen layer for live training (feature `train`): [`Trainer`]. It converts and
//! validates JS values, calls [`crate::train`], and converts the results back.
//!
//! ```js
//! const t = new Trainer(text, { preset: "tiny" }, "nllOnLogits", 1, { batchSize: 8 });
//! t.step(10);                        // { step, learningRate, loss, trainCe, valCe, gradNorm }
//! t.model().generate("ROMEO:", { temperature: 0.8, seed: 1 });
//! const s = Trainer.distill(text, { preset: "tiny" }, teacher, { pipeline: "hinton" }, 1);
//! s.step(10);                        // … and klTerm, softGradNorm
//! ```

use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::data::Corpus;
use crate::error::Error;
use crate::limits::MAX_SEED;
use crate::limits::{MAX_BATCH_SIZE, MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS};
use crate::model;
use crate::train::{self, Pipeline, TrainOptions};
use crate::wasm::convert::{integer, js_err, options, string_arg, to_js};
use crate::wasm::model::{Model, ModelConfig};

fn seed_arg(seed: f64) -> Result<u64, JsError> {
    if seed.fract() == 0.0 && (0.0..=MAX_SEED as f64).contains(&seed) {
        Ok(seed as u64)
    } else {
        Err(js_err(Error::arg(
            "seed",
            "an integer in [0, 2^53 - 1]",
            seed,
        )))
    }
}

/// Reads a `TrainerConfig`: a preset, each field overriding it.
fn trainer_config(config: &JsValue) -> Result<model::Config, JsError> {
    let c: TrainerConfig = options(config, "config")?;
    let mut cfg = match &c.preset {
        Some(name) => model::Config::preset(name, 0).map_err(js_err)?,
        None => model::Config::unit_test(0),
    };
    for (key, x, max, field) in [
        (
            "contextLength",
            c.context_length,
            MAX_CONTEXT_LENGTH,
            &mut cfg.context_length,
        ),
        ("layers", c.layers, MAX_LAYERS, &mut cfg.layers),
        ("heads", c.heads, MAX_HEADS, &mut cfg.heads),
        ("embd", c.embd, MAX_EMBD, &mut cfg.embd),
    ] {
        if let Some(x) = integer(key, x, 1.0, max as f64)? {
            *field = x as usize;
        }
    }
    Ok(cfg)
}

/// Reads `TrainerOptions`, each field defaulting to `TrainOptions::page()`.
fn train_options(options: &JsValue) -> Result<TrainOptions, JsError> {
    let o: TrainerOptions = self::options(options, "options")?;
    let mut opts = TrainOptions::page();
    if let Some(lr) = o.learning_rate {
        opts = opts.with_learning_rate(lr); // and a tenth of it as the minimum, unless given
    }
    for (key, x, min, max, field) in [
        (
            "batchSize",
            o.batch_size,
            1.0,
            MAX_BATCH_SIZE as f64,
            &mut opts.batch_size,
        ),
        (
            "warmupSteps",
            o.warmup_steps,
            0.0,
            1e9,
            &mut opts.warmup_steps,
        ),
        ("totalSteps", o.total_steps, 0.0, 1e9, &mut opts.total_steps),
        (
            "evalBatches",
            o.eval_batches,
            0.0,
            1000.0,
            &mut opts.eval_batches,
        ),
    ] {
        if let Some(x) = integer(key, x, min, max)? {
            *field = x as usize;
        }
    }
    // Ranges checked by TrainOptions::validate, with the same argument names.
    for (x, field) in [
        (o.min_learning_rate, &mut opts.min_learning_rate),
        (o.weight_decay, &mut opts.weight_decay),
        (o.grad_clip, &mut opts.grad_clip),
    ] {
        if let Some(x) = x {
            *field = x;
        }
    }
    Ok(opts)
}

/// The model a `Trainer` trains: a preset, each field overriding it.
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainerConfig {
    /// "tiny", "small" or "medium" (see `presets()`). Without one: 32 / 2 / 2 / 32.
    #[tsify(optional)]
    pub preset: Option<String>,
    /// The most characters one step reads per sequence, an integer ≥ 1.
    #[tsify(optional)]
    pub context_length: Option<f64>,
    /// Transformer blocks, an integer ≥ 1.
    #[tsify(optional)]
    pub layers: Option<f64>,
    /// Attention heads (dividing embd), an integer ≥ 1.
    #[tsify(optional)]
    pub heads: Option<f64>,
    /// The width of each position's vector, an integer ≥ 1.
    #[tsify(optional)]
    pub embd: Option<f64>,
}

/// How a `Trainer` trains; each field defaults to the page's setting (`trainer.options`).
#[derive(Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainerOptions {
    /// Sequences per step, an integer ≥ 1.
    #[tsify(optional)]
    pub batch_size: Option<f64>,
    /// AdamW's peak learning rate (and a tenth of it as the minimum, unless given).
    #[tsify(optional)]
    pub learning_rate: Option<f64>,
    /// The learning rate the cosine schedule ends at.
    #[tsify(optional)]
    pub min_learning_rate: Option<f64>,
    /// Steps of linear warm-up, an integer ≥ 0.
    #[tsify(optional)]
    pub warmup_steps: Option<f64>,
    /// Steps over which the schedule decays, an integer ≥ 0.
    #[tsify(optional)]
    pub total_steps: Option<f64>,
    /// AdamW's decoupled weight decay, ≥ 0.
    #[tsify(optional)]
    pub weight_decay: Option<f64>,
    /// The largest gradient norm; larger gradients are scaled down to it (0 = off).
    #[tsify(optional)]
    pub grad_clip: Option<f64>,
    /// Validation batches per step's `valCe`, an integer in [0, 1000] (0 = none).
    #[tsify(optional)]
    pub eval_batches: Option<f64>,
}

/// The options in force.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TrainerSettings {
    pub batch_size: u32,
    pub learning_rate: f64,
    pub min_learning_rate: f64,
    pub warmup_steps: u32,
    pub total_steps: u32,
    pub weight_decay: f64,
    pub grad_clip: f64,
    pub eval_batches: u32,
}

/// Where training stands after `step(n)`.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// Steps taken so far.
    pub step: f64,
    /// The learning rate of the last step.
    pub learning_rate: f64,
    /// The pipeline's own objective (not always in nats: nll(logits) is −z_y).
    pub loss: f32,
    /// The true cross-entropy on the training batches, in nats per character.
    pub train_ce: f32,
    /// The true cross-entropy on fixed validation batches (absent when evalBatches = 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub val_ce: Option<f32>,
    /// The gradient's norm before clipping.
    pub grad_norm: f32,
    /// A distilled student's soft term, T² included where its pipeline has it (absent for the
    /// four pipelines).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub kl_term: Option<f32>,
    /// A distilled student's soft-term gradient with respect to its logits, its norm at the
    /// last step (absent for the four pipelines).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub soft_grad_norm: Option<f32>,
}

/// Training in the page, one `step(n)` at a time.
#[wasm_bindgen]
pub struct Trainer {
    inner: train::Trainer,
}

#[wasm_bindgen]
impl Trainer {
    /// `text`: the training text (its last 10% is held out for validation; its characters are
    /// the vocabulary). `config`: `{ preset, contextLength, layers, heads, embd }`: a preset
    /// (`"tiny"`, `"small"` or `"medium"`, see `Config::preset`), each field overriding it
    /// (without a preset: `Config::unit_test`, 32 / 2 / 2 / 32). `pipeline`:
    /// `"crossEntropyOnLogits"`, `"nllOnLogSoftmax"`, `"nllOnLogits"` or `"crossEntropyOnSoftmax"`. `seed`: integer in [0, 2^53 − 1].
    /// `options`: `{ batchSize, learningRate, minLearningRate, warmupSteps, totalSteps,
    /// weightDecay, gradClip, evalBatches }`, each defaulting to `TrainOptions::page()` (the
    /// page's settings; `trainer.options` reports them all).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_param_type = "TrainerConfig")] config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Pipeline")] pipeline: JsValue,
        seed: f64,
        #[wasm_bindgen(unchecked_optional_param_type = "TrainerOptions")] options: JsValue,
    ) -> Result<Trainer, JsError> {
        let cfg = trainer_config(&config)?;
        let opts = train_options(&options)?;
        let pipeline = Pipeline::parse(&string_arg("pipeline", &pipeline)?).map_err(js_err)?;
        let corpus = Corpus::from_text(&string_arg("text", &text)?).map_err(js_err)?;
        Ok(Trainer {
            inner: train::Trainer::new(corpus, cfg, pipeline, seed_arg(seed)?, opts)
                .map_err(js_err)?,
        })
    }

    /// A student distilled from `teacher`, a loaded model with a character vocabulary (the
    /// default model): trained on `text` spelt with the teacher's characters (a character it
    /// lacks is an error naming it), with `distill`'s `{ pipeline, temperature, alpha,
    /// reduction }` as `distillLoss` takes them. `config`, `seed` and `options` as for
    /// `new Trainer`; `contextLength` at most the teacher's. `step(n)` then also reports
    /// `klTerm` and `softGradNorm`.
    pub fn distill(
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_param_type = "TrainerConfig")] config: JsValue,
        teacher: &Model,
        #[wasm_bindgen(unchecked_param_type = "DistillOptions")] distill: JsValue,
        seed: f64,
        #[wasm_bindgen(unchecked_optional_param_type = "TrainerOptions")] options: JsValue,
    ) -> Result<Trainer, JsError> {
        let cfg = trainer_config(&config)?;
        let opts = train_options(&options)?;
        let d = crate::wasm::distill::distill_options(&distill, "distill")?;
        let text = string_arg("text", &text)?;
        Ok(Trainer {
            inner: train::Trainer::distill(
                &text,
                cfg,
                teacher.inner.clone(),
                d,
                seed_arg(seed)?,
                opts,
            )
            .map_err(js_err)?,
        })
    }

    /// The options in force: `{ batchSize, learningRate, minLearningRate, warmupSteps,
    /// totalSteps, weightDecay, gradClip, evalBatches }`.
    #[wasm_bindgen(getter, unchecked_return_type = "TrainerSettings")]
    pub fn options(&self) -> JsValue {
        let o = self.inner.options();
        to_js(&TrainerSettings {
            batch_size: o.batch_size as u32,
            learning_rate: o.learning_rate,
            min_learning_rate: o.min_learning_rate,
            warmup_steps: o.warmup_steps as u32,
            total_steps: o.total_steps as u32,
            weight_decay: o.weight_decay,
            grad_clip: o.grad_clip,
            eval_batches: o.eval_batches as u32,
        })
    }

    /// Runs `n` steps, an integer in [1, 10 000]: `{ step, learningRate, loss, trainCe, valCe,
    /// gradNorm }`. `loss` is the pipeline's own objective; `trainCe` and `valCe` are the true
    /// cross-entropy (nats/char) on the training batches and on fixed validation batches
    /// (`valCe` is undefined when evalBatches = 0).
    #[wasm_bindgen(unchecked_return_type = "StepResult")]
    pub fn step(&mut self, n: f64) -> Result<JsValue, JsError> {
        // An f64, not a u32: wasm-bindgen would wrap step(-1) around to 4 294 967 295 steps.
        let max = crate::limits::MAX_STEPS_PER_CALL;
        if !(n.fract() == 0.0 && n >= 1.0 && n <= max as f64) {
            return Err(js_err(Error::arg(
                "n",
                &format!("an integer in [1, {max}]"),
                n,
            )));
        }
        let r = self.inner.step(n as usize).map_err(js_err)?;
        Ok(to_js(&StepResult {
            step: r.step as f64,
            learning_rate: r.learning_rate,
            loss: r.loss,
            train_ce: r.train_ce,
            val_ce: r.val_ce,
            grad_norm: r.grad_norm,
            kl_term: r.kl_term,
            soft_grad_norm: r.soft_grad_norm,
        }))
    }

    /// The trained model's `{ vocabSize, contextLength, layers, heads, embd, parameters }`.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelConfig")]
    pub fn config(&self) -> JsValue {
        to_js(&ModelConfig::new(self.inner.model().config()))
    }

    /// A copy of the model as trained so far, to generate from.
    pub fn model(&self) -> Result<Model, JsError> {
        Ok(Model {
            inner: self
                .inner
                .snapshot()
                .and_then(|gpt| gpt.to_net())
                .map_err(js_err)?,
            format: crate::model::format::files::Format::Logitlab,
        })
    }
}

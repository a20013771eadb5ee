//! The wasm-bindgen layer for live training (feature `train`): [`Trainer`]. It converts and
//! validates JS values, calls [`crate::train`], and converts the results back.
//!
//! ```js
//! const t = new Trainer(text, { preset: "tiny" }, "nllOnLogits", 1, { batchSize: 8 });
//! t.step(10);                        // { step, learningRate, loss, trainCe, valCe, gradNorm }
//! t.model().generate("ROMEO:", { temperature: 0.8, seed: 1 });
//! ```

use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::data::Corpus;
use crate::error::Error;
use crate::limits::{MAX_BATCH_SIZE, MAX_CONTEXT_LENGTH, MAX_EMBD, MAX_HEADS, MAX_LAYERS};
use crate::model;
use crate::sampling::MAX_SEED;
use crate::train::{self, Pipeline, TrainOptions};
use crate::wasm::{js_err, set, string_arg, Fields};
use crate::wasm_model::{config_object, Model};

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
        text: JsValue,
        config: JsValue,
        pipeline: JsValue,
        seed: f64,
        options: JsValue,
    ) -> Result<Trainer, JsError> {
        let c = Fields::new(
            &config,
            "config",
            &["preset", "contextLength", "layers", "heads", "embd"],
        )?;
        let mut cfg = match c.string("preset")? {
            Some(name) => model::Config::preset(&name, 0).map_err(js_err)?,
            None => model::Config::unit_test(0),
        };
        for (key, max, field) in [
            ("contextLength", MAX_CONTEXT_LENGTH, &mut cfg.context_length),
            ("layers", MAX_LAYERS, &mut cfg.layers),
            ("heads", MAX_HEADS, &mut cfg.heads),
            ("embd", MAX_EMBD, &mut cfg.embd),
        ] {
            if let Some(x) = c.integer(key, 1.0, max as f64)? {
                *field = x as usize;
            }
        }
        let o = Fields::new(
            &options,
            "options",
            &[
                "batchSize",
                "learningRate",
                "minLearningRate",
                "warmupSteps",
                "totalSteps",
                "weightDecay",
                "gradClip",
                "evalBatches",
            ],
        )?;
        let mut opts = TrainOptions::page();
        if let Some(lr) = o.number("learningRate")? {
            opts = opts.with_learning_rate(lr); // and a tenth of it as the minimum, unless given
        }
        for (key, min, max, field) in [
            (
                "batchSize",
                1.0,
                MAX_BATCH_SIZE as f64,
                &mut opts.batch_size,
            ),
            ("warmupSteps", 0.0, 1e9, &mut opts.warmup_steps),
            ("totalSteps", 0.0, 1e9, &mut opts.total_steps),
            ("evalBatches", 0.0, 1000.0, &mut opts.eval_batches),
        ] {
            if let Some(x) = o.integer(key, min, max)? {
                *field = x as usize;
            }
        }
        // Ranges checked by TrainOptions::validate, with the same argument names.
        for (key, field) in [
            ("minLearningRate", &mut opts.min_learning_rate),
            ("weightDecay", &mut opts.weight_decay),
            ("gradClip", &mut opts.grad_clip),
        ] {
            if let Some(x) = o.number(key)? {
                *field = x;
            }
        }
        let pipeline = Pipeline::parse(&string_arg("pipeline", &pipeline)?).map_err(js_err)?;
        let corpus = Corpus::from_text(&string_arg("text", &text)?).map_err(js_err)?;
        Ok(Trainer {
            inner: train::Trainer::new(corpus, cfg, pipeline, seed_arg(seed)?, opts)
                .map_err(js_err)?,
        })
    }

    /// The options in force: `{ batchSize, learningRate, minLearningRate, warmupSteps,
    /// totalSteps, weightDecay, gradClip, evalBatches }`.
    #[wasm_bindgen(getter)]
    pub fn options(&self) -> Object {
        let o = self.inner.options();
        let out = Object::new();
        set(&out, "batchSize", o.batch_size as u32);
        set(&out, "learningRate", o.learning_rate);
        set(&out, "minLearningRate", o.min_learning_rate);
        set(&out, "warmupSteps", o.warmup_steps as u32);
        set(&out, "totalSteps", o.total_steps as u32);
        set(&out, "weightDecay", o.weight_decay);
        set(&out, "gradClip", o.grad_clip);
        set(&out, "evalBatches", o.eval_batches as u32);
        out
    }

    /// Runs `n` steps, an integer in [1, 10 000]: `{ step, learningRate, loss, trainCe, valCe,
    /// gradNorm }`. `loss` is the pipeline's own objective; `trainCe` and `valCe` are the true
    /// cross-entropy (nats/char) on the training batches and on fixed validation batches
    /// (`valCe` is undefined when evalBatches = 0).
    pub fn step(&mut self, n: f64) -> Result<Object, JsError> {
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
        let out = Object::new();
        set(&out, "step", r.step as f64);
        set(&out, "learningRate", r.learning_rate);
        set(&out, "loss", r.loss);
        set(&out, "trainCe", r.train_ce);
        if let Some(v) = r.val_ce {
            set(&out, "valCe", v);
        }
        set(&out, "gradNorm", r.grad_norm);
        Ok(out)
    }

    /// The trained model's `{ vocabSize, contextLength, layers, heads, embd, parameters }`.
    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Object {
        config_object(self.inner.model().config())
    }

    /// A copy of the model as trained so far, to generate from.
    pub fn model(&self) -> Result<Model, JsError> {
        Ok(Model {
            inner: self
                .inner
                .snapshot()
                .and_then(|gpt| gpt.to_net())
                .map_err(js_err)?,
        })
    }
}

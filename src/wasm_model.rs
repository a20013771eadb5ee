//! The wasm-bindgen layer for the GPT, generation and the trainer. It converts and validates
//! JS values, calls [`crate::net`] / [`crate::model`] / [`crate::train`], and converts the
//! results back; no logic
//! lives here. Every export returns `Result<_, JsError>` whose message names the argument.
//!
//! ```js
//! const bytes = new Uint8Array(await (await fetch(defaultModelUrl())).arrayBuffer());
//! const model = Model.fromBytes(bytes);
//! model.config;                      // { vocabSize, contextLength, layers, heads, embd, parameters }
//! const ids = model.encode("ROMEO:");                  // Uint32Array
//! model.forward(ids, { output: "logSoftmax" });        // Float32Array, length V
//! const gen = model.generate("ROMEO:", { temperature: 0.8, topK: 20, seed: 1 });
//! gen.next();                        // { token, text, probs: Float32Array, seed }
//! const t = new Trainer(text, { layers: 2, embd: 32, heads: 2, contextLength: 32 },
//!                       "nllOnLogits", 1, { batchSize: 8 });
//! t.step(10);                        // { step, learningRate, loss, trainCe, valCe, gradNorm }
//! ```

use js_sys::{Float32Array, Object, Uint32Array};
use wasm_bindgen::prelude::*;

use crate::data::Corpus;
use crate::error::Error;
use crate::limits::{MAX_CHECKPOINT_BYTES, MAX_TEXT_BYTES};
use crate::model::{self, Generator, OutputMode};
use crate::net::Net;
use crate::sampling::{SampleOptions, MAX_SEED};
use crate::train::{self, Pipeline, TrainOptions};
use crate::wasm::{
    bytes_arg, ids_arg, js_err, read_sampler_fields, set, string_arg, Fields, SAMPLER_FIELDS,
};

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

/// Where the page finds the default checkpoint, relative to `www/`.
#[wasm_bindgen(js_name = defaultModelUrl)]
pub fn default_model_url() -> String {
    "models/default.safetensors".into()
}

/// A character-level GPT loaded from a checkpoint, for inference ([`Net`]).
#[wasm_bindgen]
pub struct Model {
    inner: Net,
}

#[wasm_bindgen]
impl Model {
    /// Loads a safetensors checkpoint (e.g. `fetch` → `arrayBuffer` → `Uint8Array`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: JsValue) -> Result<Model, JsError> {
        let bytes = bytes_arg("bytes", &bytes, MAX_CHECKPOINT_BYTES)?;
        Ok(Model {
            inner: Net::from_safetensors(&bytes).map_err(js_err)?,
        })
    }

    /// The checkpoint bytes (f16 safetensors), e.g. to save a model trained in the page.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Result<Vec<u8>, JsError> {
        self.inner.to_safetensors().map_err(js_err)
    }

    /// `{ vocabSize, contextLength, layers, heads, embd, parameters }`.
    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Object {
        config_object(self.inner.config())
    }

    /// The vocabulary: character i is token id i.
    #[wasm_bindgen(getter)]
    pub fn vocab(&self) -> String {
        self.inner.vocab().chars().iter().collect()
    }

    /// Text → token ids. A character outside the vocabulary is an error naming it.
    pub fn encode(&self, text: JsValue) -> Result<Uint32Array, JsError> {
        let ids = self
            .inner
            .encode(&string_arg("text", &text)?)
            .map_err(js_err)?;
        Ok(Uint32Array::from(&ids[..]))
    }

    /// Token ids → text. An id ≥ vocabSize is an error.
    pub fn decode(&self, ids: JsValue) -> Result<String, JsError> {
        let ids = ids_arg("ids", &ids, MAX_TEXT_BYTES)?;
        self.inner.decode(&ids).map_err(js_err)
    }

    /// The next-token values after the last id (length V), as `options.output`:
    /// `"logits"` (default) or `"logSoftmax"`. With `allPositions: true`, every position's
    /// values (T × V, row-major). `ids` must hold 1..=contextLength ids.
    pub fn forward(&self, ids: JsValue, options: JsValue) -> Result<Float32Array, JsError> {
        let ctx = self.inner.config().context_length;
        let ids = ids_arg("ids", &ids, MAX_TEXT_BYTES)?;
        let ids = &ids[..];
        let f = Fields::new(&options, "options", &["output", "allPositions"])?;
        let mode = match f.string("output")? {
            Some(s) => OutputMode::parse(&s).map_err(js_err)?,
            None => OutputMode::Logits,
        };
        if ids.is_empty() || ids.len() > ctx {
            return Err(js_err(Error::arg(
                "ids",
                &format!("1 to contextLength = {ctx} token ids"),
                ids.len(),
            )));
        }
        let values = if f.boolean("allPositions")?.unwrap_or(false) {
            self.inner.forward_ids(ids, mode)
        } else {
            self.inner.next_token_values(ids, mode)
        }
        .map_err(js_err)?;
        Ok(Float32Array::from(&values[..]))
    }

    /// Starts streaming generation after `prompt`. Options: the sampler's `temperature`,
    /// `topK`, `topP`, `minP`, `seed` (an integer; absent = random, reported by `gen.seed`),
    /// and `output`: which model output feeds the sampler (`"logits"` or `"logSoftmax"`).
    pub fn generate(&self, prompt: JsValue, options: JsValue) -> Result<Generation, JsError> {
        let prompt = string_arg("prompt", &prompt)?;
        let mut known = vec!["output"];
        known.extend_from_slice(SAMPLER_FIELDS);
        let f = Fields::new(&options, "options", &known)?;
        let mode = match f.string("output")? {
            Some(s) => OutputMode::parse(&s).map_err(js_err)?,
            None => OutputMode::Logits,
        };
        let mut o = SampleOptions::default();
        read_sampler_fields(&f, &mut o)?;
        Ok(Generation {
            inner: Generator::new(&self.inner, &prompt, mode, o).map_err(js_err)?,
        })
    }
}

/// Streaming generation: call `next()` once per token.
#[wasm_bindgen]
pub struct Generation {
    inner: Generator,
}

#[wasm_bindgen]
impl Generation {
    /// Generates one token: `{ token, text, probs, logProb, modelLogProb, seed }`, where `probs`
    /// (length V) is the final distribution the token was drawn from, `logProb` the token's
    /// log-probability under it and `modelLogProb` under the model at T = 1 (−surprisal).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Object, JsError> {
        let g = self.inner.next_token().map_err(js_err)?;
        let out = Object::new();
        set(&out, "token", g.token);
        set(&out, "text", g.text);
        set(&out, "probs", Float32Array::from(&g.sample.probs[..]));
        set(&out, "logProb", g.sample.log_prob as f64);
        set(&out, "modelLogProb", g.sample.model_log_prob as f64);
        set(&out, "seed", self.inner.seed() as f64);
        Ok(out)
    }

    /// The seed of this generation (given or drawn), to replay it.
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.inner.seed() as f64
    }

    /// All token ids so far: prompt, then generated.
    #[wasm_bindgen(getter)]
    pub fn tokens(&self) -> Uint32Array {
        Uint32Array::from(self.inner.tokens())
    }
}

fn config_object(c: &model::Config) -> Object {
    let out = Object::new();
    set(&out, "vocabSize", c.vocab_size as u32);
    set(&out, "contextLength", c.context_length as u32);
    set(&out, "layers", c.layers as u32);
    set(&out, "heads", c.heads as u32);
    set(&out, "embd", c.embd as u32);
    set(&out, "parameters", c.parameter_count() as f64);
    out
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
    /// (without a preset: 32 / 2 / 2 / 32, the unit-test size). `pipeline`:
    /// `"crossEntropyOnLogits"`, `"nllOnLogSoftmax"`, `"nllOnLogits"` or `"crossEntropyOnSoftmax"`. `seed`: integer in [0, 2^53 − 1].
    /// `options`: `{ batchSize, learningRate, minLearningRate, warmupSteps, totalSteps,
    /// weightDecay, gradClip, evalBatches }`.
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
            None => model::Config::tiny(0),
        };
        for (key, max, field) in [
            ("contextLength", 4096.0, &mut cfg.context_length),
            ("layers", 64.0, &mut cfg.layers),
            ("heads", 64.0, &mut cfg.heads),
            ("embd", 4096.0, &mut cfg.embd),
        ] {
            if let Some(x) = c.integer(key, 1.0, max)? {
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
        let mut opts = TrainOptions {
            batch_size: 8,
            learning_rate: 1e-2,
            min_learning_rate: 1e-3,
            warmup_steps: 10,
            total_steps: 1000,
            eval_batches: 1,
            ..TrainOptions::default()
        };
        for (key, min, max, field) in [
            ("batchSize", 1.0, 4096.0, &mut opts.batch_size),
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
            ("learningRate", &mut opts.learning_rate),
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

//! The wasm-bindgen layer for the model and generation (training: `wasm_train`). It converts
//! and validates JS values, calls [`crate::model`], and converts the results
//! back; no logic lives here. Every export returns `Result<_, JsError>` whose message names the
//! argument.
//!
//! ```js
//! const bytes = new Uint8Array(await (await fetch(defaultModelUrl())).arrayBuffer());
//! const model = Model.fromBytes(bytes);
//! model.config;                      // { vocabSize, contextLength, layers, heads, embd, parameters }
//! const ids = model.encode("ROMEO:");                  // Uint32Array
//! model.forward(ids, { output: "logSoftmax" });        // Float32Array, length V
//! const gen = model.generate("ROMEO:", { temperature: 0.8, topK: 20, seed: 1 });
//! gen.next();                        // { token, text, probs: Float32Array, seed }
//! ```

use js_sys::{Float32Array, Object, Uint32Array};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::limits::{MAX_CHECKPOINT_BYTES, MAX_TEXT_BYTES};
use crate::model::{self, Generator, Net, OutputMode};
use crate::sampling::SampleOptions;
use crate::wasm::{
    bytes_arg, ids_arg, js_err, read_sampler_fields, set, string_arg, Fields, SAMPLER_FIELDS,
};

/// Where the page finds the default checkpoint, relative to `www/`.
#[wasm_bindgen(js_name = defaultModelUrl)]
pub fn default_model_url() -> String {
    "models/default.safetensors".into()
}

/// A character-level GPT loaded from a checkpoint, for inference ([`Net`]).
#[wasm_bindgen]
pub struct Model {
    pub(crate) inner: Net,
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

    /// The vocabulary: character i is token id i (empty for a byte-level BPE model).
    #[wasm_bindgen(getter)]
    pub fn vocab(&self) -> String {
        let vocab = self.inner.tokenizer().chars();
        vocab
            .map(|v| v.chars().iter().collect())
            .unwrap_or_default()
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

pub(crate) fn config_object(c: &model::Config) -> Object {
    let out = Object::new();
    set(&out, "vocabSize", c.vocab_size as u32);
    set(&out, "contextLength", c.context_length as u32);
    set(&out, "layers", c.layers as u32);
    set(&out, "heads", c.heads as u32);
    set(&out, "embd", c.embd as u32);
    set(&out, "parameters", c.parameter_count() as f64);
    out
}

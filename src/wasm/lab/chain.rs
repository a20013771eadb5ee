//! The bindings of [`crate::lab::chain`]: the chain panel (`chainPanel`), generation through
//! a chain (`ChainGeneration`), two chains from one seed (`orderMatters`) and many draws
//! through a chain (`chainDraws`).

use js_sys::{Float32Array, Uint32Array, Uint8Array};
use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::lab::chain as lab;
use crate::lab::Rows;
use crate::limits::{MAX_ORDER_TOKENS, MAX_SEED, MAX_VALUES};
use crate::model::OutputMode;
use crate::sampling::chain;
use crate::wasm::convert::{f32_vec, integer_in, js_err, json_arg, options, string_arg, to_js};
use crate::wasm::lab::{top_arg, DrawsResult, ModelOutput};
use crate::wasm::model::Model;
use crate::wasm::sampling::{chain_arg, history_arg, step_results, StepResult};

/// `chainPanel`'s options.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainPanelOptions {
    /// The token ids so far (prompt and generated), oldest first. Default: none.
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    #[tsify(optional, type = "TokenIds")]
    pub history: JsValue,
    /// What `values` are: the model's logits (default) or its log_softmax.
    #[tsify(optional)]
    pub output: Option<OutputMode>,
    /// Seed of the chain's generator (XTC's coin, the draw), an integer in [0, 2^53 − 1].
    /// Default 0.
    #[tsify(optional)]
    pub seed: Option<f64>,
    /// How many ids to name, the most likely under the model, an integer ≥ 0. Default 12.
    #[tsify(optional)]
    pub top: Option<f64>,
    /// true: `model`, `penalised`, `probs` and `cut` hold the `top` ids' entries only (row k
    /// is id top[k]), so that no V-long array is made; default false: every id's.
    #[tsify(optional)]
    pub top_only: Option<bool>,
}

/// The chain panel of one token: the three distributions and what each step did.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ChainPanelResult {
    /// The model's own distribution: softmax(z) at T = 1 (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub model: Float32Array,
    /// After the chain's penalty and bias steps alone (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub penalised: Float32Array,
    /// The final distribution the token is drawn from (length V; with `topOnly`, at `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// Per id: 0 kept, i + 1 cut by step i, 255 excluded by the input (with `topOnly`, at
    /// `top`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint8Array")]
    pub cut: Uint8Array,
    /// One entry per step, in order.
    pub steps: Vec<StepResult>,
    /// How many ids the chain kept.
    pub kept: u32,
    /// Entropy of `probs`, in nats.
    pub entropy: f64,
    /// The same, in bits.
    pub entropy_bits: f64,
    /// exp(entropy): the number of equally likely ids with the same entropy.
    pub perplexity: f64,
    /// The token the chain would draw with this seed.
    pub token: u32,
    /// The `top` most likely ids under the model, best first.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Uint32Array")]
    pub top: Uint32Array,
    /// V − top.length.
    pub rest: u32,
    /// The final mass of the other ids.
    pub rest_mass: f64,
    /// How many of the other ids a step cut.
    pub rest_cut: u32,
}

/// The chain panel for `values`: the model's own distribution, the one after the chain's
/// penalties and biases, and the final one, with each step's kept count and removed mass.
#[wasm_bindgen(js_name = chainPanel, unchecked_return_type = "ChainPanelResult")]
pub fn chain_panel(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
    chain: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ChainPanelOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let steps = chain_arg(&chain)?;
    let o: ChainPanelOptions = self::options(&options, "options")?;
    let args = ChainArgs::new(steps, &o)?;
    let top = top_arg(o.top)?;
    panel(&crate::lab::Output::new(z, top).map_err(js_err)?, &args)
}

#[wasm_bindgen(js_class = ModelOutput)]
impl ModelOutput {
    /// `chainPanel(values, chain, options)` for these values; `options.top`, if given, must be
    /// this output's.
    #[wasm_bindgen(js_name = chainPanel, unchecked_return_type = "ChainPanelResult")]
    pub fn chain_panel(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
        chain: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ChainPanelOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let steps = chain_arg(&chain)?;
        let o: ChainPanelOptions = self::options(&options, "options")?;
        let args = ChainArgs::new(steps, &o)?;
        self.check_top(o.top)?;
        panel(&self.inner, &args)
    }
}

/// `chainPanel`'s arguments, checked.
struct ChainArgs {
    history: Vec<u32>,
    sampler: crate::sampling::workbench::Sampler,
    input: crate::sampling::Input,
    rows: Rows,
}

impl ChainArgs {
    fn new(steps: Vec<chain::Step>, o: &ChainPanelOptions) -> Result<ChainArgs, JsError> {
        let history = history_arg(&o.history)?;
        let seed = seed_arg(o.seed)?.unwrap_or(0);
        top_arg(o.top)?;
        let sampler =
            crate::sampling::workbench::Sampler::new(steps, Some(seed)).map_err(js_err)?;
        Ok(ChainArgs {
            history,
            sampler,
            input: o.output.unwrap_or_default().sample_input(),
            rows: match o.top_only.unwrap_or(false) {
                true => Rows::Top,
                false => Rows::All,
            },
        })
    }
}

/// The chain panel of `output` with the arguments `a`.
fn panel(output: &crate::lab::Output, a: &ChainArgs) -> Result<JsValue, JsError> {
    let rows = a.rows;
    let p = lab::chain_panel_of(output, a.input, &a.history, &a.sampler, rows).map_err(js_err)?;
    let d = &p.draw.distribution;
    let (probs, cut) = (rows.of(&d.probs, &p.top.ids), rows.of(&d.cut, &p.top.ids));
    Ok(to_js(&ChainPanelResult {
        model: Float32Array::from(&p.model[..]),
        penalised: Float32Array::from(&p.penalised[..]),
        probs: Float32Array::from(&probs[..]),
        cut: Uint8Array::from(&cut[..]),
        steps: step_results(d),
        kept: d.kept as u32,
        entropy: d.entropy,
        entropy_bits: d.entropy / std::f64::consts::LN_2,
        perplexity: d.entropy.exp(),
        token: p.draw.token as u32,
        top: Uint32Array::from(&p.top.ids[..]),
        rest: p.top.rest as u32,
        rest_mass: p.top.rest_mass,
        rest_cut: p.top.rest_cut as u32,
    }))
}

fn seed_arg(seed: Option<f64>) -> Result<Option<u64>, JsError> {
    let s = integer_in(
        "seed",
        seed,
        0.0,
        MAX_SEED as f64,
        "an integer in [0, 2^53 - 1]",
    )?;
    Ok(s.map(|s| s as u64))
}

/// The options of `new ChainGeneration` and `orderMatters`.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainGenerateOptions {
    /// Seed of the chain's generator, an integer in [0, 2^53 − 1]. Absent = a fresh one
    /// (`orderMatters`: 0).
    #[tsify(optional)]
    pub seed: Option<f64>,
    /// Which model output feeds the chain: the logits (default) or their log_softmax.
    #[tsify(optional)]
    pub output: Option<OutputMode>,
    /// `orderMatters` only: how many tokens each chain generates, an integer in [1, 1 000]
    /// (`MAX_ORDER_TOKENS`).
    /// Default 40.
    #[tsify(optional)]
    pub tokens: Option<f64>,
}

/// One token generated through a chain.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ChainToken {
    /// Its id.
    pub token: u32,
    /// Its text (may be empty while a multi-byte character is incomplete).
    pub text: String,
    /// log p(token) under the final distribution.
    pub log_prob: f64,
    /// log p(token) under the model at T = 1 (−surprisal).
    pub model_log_prob: f64,
    /// How many ids the chain kept.
    pub kept: u32,
    /// One entry per step, in order.
    pub steps: Vec<StepResult>,
    /// The model ended the text; `next` is then an error.
    pub end: bool,
}

/// Streaming generation through a sampler chain: `new ChainGeneration(model, prompt, chain,
/// { seed, output })`, then `next()` once per token. The repetition steps read every id so far.
#[wasm_bindgen]
pub struct ChainGeneration {
    inner: lab::ChainGenerator,
}

#[wasm_bindgen]
impl ChainGeneration {
    /// Starts after `prompt` (non-empty, encodable), the chain checked as `new Sampler` checks it.
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "string")] prompt: JsValue,
        #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
        chain: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ChainGenerateOptions")] options: JsValue,
    ) -> Result<ChainGeneration, JsError> {
        let prompt = string_arg("prompt", &prompt)?;
        let steps = chain_arg(&chain)?;
        let o: ChainGenerateOptions = self::options(&options, "options")?;
        if o.tokens.is_some() {
            return Err(JsError::new(
                "options.tokens is orderMatters' option; ChainGeneration makes one token per next()",
            ));
        }
        let mode = o.output.unwrap_or_default();
        let inner = lab::ChainGenerator::new(&model.inner, &prompt, mode, steps, seed_arg(o.seed)?)
            .map_err(js_err)?;
        Ok(ChainGeneration { inner })
    }

    /// Generates one token: `{ token, text, logProb, modelLogProb, kept, steps, end }`.
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "ChainToken")]
    pub fn next(&mut self) -> Result<JsValue, JsError> {
        let t = self.inner.next_token().map_err(js_err)?;
        let d = &t.draw.distribution;
        Ok(to_js(&ChainToken {
            token: t.token,
            text: t.text.clone(),
            log_prob: t.draw.log_prob as f64,
            model_log_prob: t.model_log_prob as f64,
            kept: d.kept as u32,
            steps: step_results(d),
            end: t.end,
        }))
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

/// Where two chains' texts part.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct OrderMattersResult {
    /// Each chain's tokens' texts.
    pub texts: [Vec<String>; 2],
    /// The index of the first generated token at which the two differ; absent if none does.
    #[tsify(optional)]
    pub parts_at: Option<u32>,
    /// How many ids each chain kept at that token.
    #[tsify(optional)]
    pub kept_at: Option<[u32; 2]>,
}

/// The same prompt and seed through two chains (`chains`: an array of two), `tokens` tokens
/// each, and the first token at which the texts part.
#[wasm_bindgen(js_name = orderMatters, unchecked_return_type = "OrderMattersResult")]
pub fn order_matters(
    model: &Model,
    #[wasm_bindgen(unchecked_param_type = "string")] prompt: JsValue,
    #[wasm_bindgen(unchecked_param_type = "[Partial<Step>[] | string, Partial<Step>[] | string]")]
    chains: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ChainGenerateOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    let prompt = string_arg("prompt", &prompt)?;
    let (a, b) = match json_arg("chains", &chains)? {
        serde_json::Value::Array(pair) if pair.len() == 2 => (
            chain::from_json(&pair[0]).map_err(js_err)?,
            chain::from_json(&pair[1]).map_err(js_err)?,
        ),
        _ => return Err(JsError::new("chains must be an array of two chains")),
    };
    let o: ChainGenerateOptions = self::options(&options, "options")?;
    let range = format!("an integer in [1, {MAX_ORDER_TOKENS}]");
    let n = integer_in("tokens", o.tokens, 1.0, MAX_ORDER_TOKENS as f64, &range)?;
    let r = lab::order_matters(
        &model.inner,
        &prompt,
        o.output.unwrap_or_default(),
        [a, b],
        seed_arg(o.seed)?.unwrap_or(0),
        n.unwrap_or(40.0) as usize,
    )
    .map_err(js_err)?;
    Ok(to_js(&OrderMattersResult {
        texts: r.texts,
        parts_at: r.parts_at.map(|i| i as u32),
        kept_at: r.kept_at.map(|[x, y]| [x as u32, y as u32]),
    }))
}

/// `chainDraws`' options.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainDrawsOptions {
    /// The token ids so far (prompt and generated), oldest first. Default: none.
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    #[tsify(optional, type = "TokenIds")]
    pub history: JsValue,
    /// What `values` are: the model's logits (default) or its log_softmax.
    #[tsify(optional)]
    pub output: Option<OutputMode>,
    /// The first draw's seed, an integer in [0, 2^53 − 1]; draw i uses seed + i. Default 0.
    #[tsify(optional)]
    pub seed: Option<f64>,
}

/// `n` draws (an integer in [1, 100 000]) through `chain`, each by a fresh sampler seeded
/// seed, seed + 1, …, counted against the chain's final distribution.
#[wasm_bindgen(js_name = chainDraws, unchecked_return_type = "DrawsResult")]
pub fn chain_draws(
    #[wasm_bindgen(unchecked_param_type = "Values")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "\"huggingface\" | \"llama.cpp\" | Partial<Step>[]")]
    chain: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ChainDrawsOptions | undefined")] options: JsValue,
    n: f64,
) -> Result<JsValue, JsError> {
    let z = f32_vec("values", &values, MAX_VALUES)?;
    let steps = chain_arg(&chain)?;
    let o: ChainDrawsOptions = self::options(&options, "options")?;
    let history = history_arg(&o.history)?;
    let max = crate::limits::MAX_DRAWS;
    let range = format!("an integer in [1, {max}]");
    let n = integer_in("n", Some(n), 1.0, max as f64, &range)?.unwrap_or(1.0);
    let input = o.output.unwrap_or_default().sample_input();
    let seed = seed_arg(o.seed)?.unwrap_or(0);
    let d = lab::chain_draws(&z, input, &history, &steps, seed, n as usize).map_err(js_err)?;
    Ok(to_js(&DrawsResult {
        counts: Uint32Array::from(&d.counts[..]),
        probs: Float32Array::from(&d.probs[..]),
        expected: Float32Array::from(&d.expected[..]),
    }))
}
